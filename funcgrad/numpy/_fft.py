"""The implementation of :mod:`funcgrad.numpy.fft` (whose docstring states the conventions).

The public module re-exports exactly NumPy's names from here; the helpers stay private.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np
from numpy.fft import fftfreq, rfftfreq

from ..prims import elementwise as ew
from ..prims import fft as pf
from ..prims import shape as sh
from ._util import as_array, normalize_axis, shape_of

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "fftshift", "ifftshift", "fftfreq", "rfftfreq"]

_NORMS = {None: "backward", "backward": "backward", "ortho": "ortho", "forward": "forward"}
_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# --- argument handling --------------------------------------------------------------------------


def _norm(norm: Any) -> str:
    try:
        return _NORMS[norm]
    except (KeyError, TypeError):
        raise ValueError(f'Invalid norm value {norm!r}; should be "backward", "ortho" or "forward".') from None


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"funcgrad.numpy.fft.{name} does not support out=: arrays are never written in place "
                        "under differentiation. Use the return value instead.")


def _points(n: Any, what: str = "n") -> int:
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{what} must be an integer number of FFT data points, got {n!r}") from None
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return n


def _resize(x: Any, axis: int, n: int) -> Any:
    """Crop or zero-pad ``x`` along ``axis`` to ``n`` points (NumPy's meaning of ``n``)."""
    have = shape_of(x)[axis]
    if have == n:
        return x
    if have > n:
        return sh.slice_axis(x, axis, 0, n)
    width = tuple((0, n - have) if d == axis else (0, 0) for d in range(len(shape_of(x))))
    return sh.pad(x, pad_width=width, value=0.0)


def _one_axis(a: Any, n: Any, axis: int, inv_real: bool = False) -> tuple[Any, list[int], list[int]]:
    a = as_array(a)
    ax = normalize_axis(axis, a.ndim)
    if n is None:
        n = 2 * (a.shape[ax] - 1) if inv_real else a.shape[ax]
    return a, [_points(n)], [ax]


def _cook(a: Any, s: Any, axes: Any, inv_real: bool = False) -> tuple[Any, list[int], list[int]]:
    """NumPy's resolution of ``s`` and ``axes`` for the n-d transforms: (array, sizes, axes)."""
    a = as_array(a)
    shape = shape_of(a)
    if axes is not None:
        axes = list(axes) if np.iterable(axes) else [axes]
    if s is None:
        axes = [normalize_axis(ax, a.ndim, "axes") for ax in (range(a.ndim) if axes is None else axes)]
        s = [shape[ax] for ax in axes]
        if inv_real and axes:
            s[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        s = list(s) if np.iterable(s) else [s]
        if axes is None:
            warnings.warn(
                "`axes` should not be `None` if `s` is not `None` (Deprecated in NumPy 2.0). In a future version "
                "of NumPy, this will raise an error and `s[i]` will correspond to the size along the transformed "
                "axis specified by `axes[i]`. To retain current behaviour, pass a sequence [0, ..., k-1] to "
                "`axes` for an array of dimension k.", DeprecationWarning, stacklevel=3)
            axes = list(range(-len(s), 0))
        axes = [normalize_axis(ax, a.ndim, "axes") for ax in axes]
        if len(s) != len(axes):
            raise ValueError("Shape and axes have different lengths.")
        if any(v is None for v in s):
            warnings.warn(
                "Passing an array containing `None` values to `s` is deprecated in NumPy 2.0 and will raise an "
                "error in a future version of NumPy.", DeprecationWarning, stacklevel=3)
        last = len(s) - 1
        s = [(2 * (shape[ax] - 1) if inv_real and i == last else shape[ax]) if v is None
             else (shape[ax] if v == -1 else v) for i, (v, ax) in enumerate(zip(s, axes))]
    return a, [_points(v, "s") for v in s], axes


# --- the three transforms on resolved sizes and axes ---------------------------------------------


def _distinct(axes: list[int]) -> bool:
    return len(set(axes)) == len(axes)


def _c2c(x: Any, s: list[int], axes: list[int], inverse: bool, norm: str) -> Any:
    if not axes:
        return x  # NumPy returns its input unchanged (not even cast to complex)
    if not _distinct(axes):  # an axis transformed twice: one axis at a time, last first, as NumPy does
        for n, ax in reversed(list(zip(s, axes))):
            x = _c2c(x, [n], [ax], inverse, norm)
        return x
    for n, ax in zip(s, axes):
        x = _resize(x, ax, n)
    return pf.fft(x, axes=tuple(axes), inverse=inverse, norm=norm)


def _r2c(x: Any, s: list[int], axes: list[int], norm: str) -> Any:
    if not axes:
        raise ValueError("rfftn needs at least one axis to transform")
    if not _distinct(axes):  # the real transform on the last axis, then the others (NumPy's order)
        return _c2c(_r2c(x, s[-1:], axes[-1:], norm), s[:-1], axes[:-1], False, norm)
    for n, ax in zip(s, axes):
        x = _resize(x, ax, n)
    return pf.rfft(x, axes=tuple(axes), norm=norm)


def _c2r(x: Any, s: list[int], axes: list[int], norm: str) -> Any:
    """``s[-1]`` is the number of real output points along ``axes[-1]``."""
    if not axes:
        raise ValueError("irfftn needs at least one axis to transform")
    if not _distinct(axes):  # the inverse transforms in order, the real one last (NumPy's order)
        for n, ax in zip(s[:-1], axes[:-1]):
            x = _c2c(x, [n], [ax], True, norm)
        return _c2r(x, s[-1:], axes[-1:], norm)
    for n, ax in zip(s[:-1], axes[:-1]):
        x = _resize(x, ax, n)
    x = _resize(x, axes[-1], s[-1] // 2 + 1)
    return pf.irfft(x, axes=tuple(axes), n=s[-1], norm=norm)


# --- NumPy's functions ----------------------------------------------------------------------------


def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.fft``: the 1-d discrete Fourier transform."""
    _no_out("fft", out)
    return _c2c(*_one_axis(a, n, axis), False, _norm(norm))


def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.ifft``: the 1-d inverse discrete Fourier transform."""
    _no_out("ifft", out)
    return _c2c(*_one_axis(a, n, axis), True, _norm(norm))


def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.fftn``: the n-d discrete Fourier transform (all axes by default)."""
    _no_out("fftn", out)
    return _c2c(*_cook(a, s, axes), False, _norm(norm))


def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.ifftn``: the n-d inverse discrete Fourier transform."""
    _no_out("ifftn", out)
    return _c2c(*_cook(a, s, axes), True, _norm(norm))


def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.fft2``: the 2-d discrete Fourier transform (last two axes)."""
    _no_out("fft2", out)
    return _c2c(*_cook(a, s, axes), False, _norm(norm))


def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.ifft2``: the 2-d inverse discrete Fourier transform."""
    _no_out("ifft2", out)
    return _c2c(*_cook(a, s, axes), True, _norm(norm))


def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.rfft``: the non-negative frequencies of a real signal's transform."""
    _no_out("rfft", out)
    return _r2c(*_one_axis(a, n, axis), _norm(norm))


def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.irfft``: the real signal of ``n`` points (default ``2 * (m - 1)``)
    whose non-negative frequencies are ``a``."""
    _no_out("irfft", out)
    return _c2r(*_one_axis(a, n, axis, inv_real=True), _norm(norm))


def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.rfftn``: the n-d transform of a real array, halved on the last axis."""
    _no_out("rfftn", out)
    return _r2c(*_cook(a, s, axes), _norm(norm))


def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.irfftn``: the inverse of ``rfftn``."""
    _no_out("irfftn", out)
    return _c2r(*_cook(a, s, axes, inv_real=True), _norm(norm))


def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.rfft2``."""
    _no_out("rfft2", out)
    return _r2c(*_cook(a, s, axes), _norm(norm))


def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.irfft2``."""
    _no_out("irfft2", out)
    return _c2r(*_cook(a, s, axes, inv_real=True), _norm(norm))


def hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.hfft``: the real transform of a Hermitian-symmetric signal."""
    _no_out("hfft", out)
    a, s, axes = _one_axis(a, n, axis, inv_real=True)
    return _c2r(ew.conj(a), s, axes, _SWAP[_norm(norm)])


def ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.fft.ihfft``: the inverse of ``hfft``."""
    _no_out("ihfft", out)
    return ew.conj(_r2c(*_one_axis(a, n, axis), _SWAP[_norm(norm)]))


def _roll(x: Any, shift: int, axis: int) -> Any:
    size = shape_of(x)[axis]
    if size == 0 or shift % size == 0:
        return x
    k = shift % size
    return sh.concatenate(sh.slice_axis(x, axis, size - k, size), sh.slice_axis(x, axis, 0, size - k), axis=axis)


def _shift(x: Any, axes: Any, inverse: bool) -> Any:
    x = as_array(x)
    if axes is None:
        axes = range(x.ndim)
    elif not np.iterable(axes):
        axes = (axes,)
    out = x
    for ax in axes:
        ax = normalize_axis(ax, x.ndim, "axes")
        half = x.shape[ax] // 2
        out = _roll(out, -half if inverse else half, ax)
    return out.copy() if out is x and isinstance(x, np.ndarray) else out


def fftshift(x: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.fft.fftshift``: the zero frequency moved to the centre."""
    return _shift(x, axes, inverse=False)


def ifftshift(x: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.fft.ifftshift``: the inverse of ``fftshift``."""
    return _shift(x, axes, inverse=True)

