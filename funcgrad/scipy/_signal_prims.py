"""The primitive of :mod:`funcgrad.scipy.signal`: n-dimensional convolution and correlation.

One primitive, ``convolve``, with parameters ``mode`` (``'full'``, ``'valid'``, ``'same'``),
``method`` (SciPy's ``'auto'``, ``'direct'``, ``'fft'``), ``correlate`` (``False``: SciPy's
``convolve``, ``True``: SciPy's ``correlate``) and ``nbatch``: the number of leading axes that are
*batch* axes (broadcast between the operands, one SciPy call per batch element) rather than
convolved axes; ``vmap`` adds one. Its impl calls SciPy, so values are SciPy's.

Derivatives, per convolved axis (``n`` = length of ``x``, ``m`` = of ``y``), for ``z = x * y``:

* it is bilinear, so the jvp in each operand is the same operation with the tangent in its place;
* the transpose of convolution is correlation, i.e. convolution with the other operand flipped:
  ``full``:  ``x̄ = conv(z̄, flip(y), 'valid')``, ``ȳ = conv(z̄, flip(x), 'valid')``;
  ``valid``: the larger operand gets ``conv(z̄, flip(other), 'full')``, the smaller
  ``conv(z̄, flip(other), 'valid')`` (SciPy's 'valid' accepts either operand being the larger);
  ``same``:  the output is the centred crop (start ``(m - 1) // 2``) of the full convolution, so
  ``z̄`` is padded back to the full length first, then both operands get a 'valid' convolution;
* ``correlate(x, y) = convolve(x, flip(conj(y)))``: its rules use those of ``convolve`` with
  ``w = flip(conj(y))``, and ``ȳ = conj(flip(w̄))``.

Rules are written with funcgrad operations and this primitive, so they are differentiable again,
stageable and batchable. SciPy is imported on first use.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..core import Primitive
from ..ir.program import ShapedArray
from ..prims import elementwise as ew
from ..prims.factories import batch_to_front, ndim_of
from ..prims.indexing import getitem_static
from ..prims.shape import pad, reshape
from ._lazy import scipy_module

__all__ = ["convolve", "conv_shape"]

def scipy_signal() -> Any:
    """``scipy.signal``, imported on first use."""
    return scipy_module("signal")


def _x_is_larger(cx: tuple[int, ...], cy: tuple[int, ...]) -> bool:
    return all(a >= b for a, b in zip(cx, cy))


def conv_shape(cx: tuple[int, ...], cy: tuple[int, ...], mode: str) -> tuple[int, ...]:
    """The shape of the convolved axes of the result (SciPy's rules; raises as SciPy does)."""
    if len(cx) != len(cy):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode == "full":
        return tuple(a + b - 1 for a, b in zip(cx, cy))
    if mode == "same":
        return tuple(cx)
    if mode == "valid":
        if not (_x_is_larger(cx, cy) or _x_is_larger(cy, cx)):
            raise ValueError("For 'valid' mode, one must be at least as large as the other in every dimension")
        return tuple(abs(a - b) + 1 for a, b in zip(cx, cy))
    raise ValueError(f"acceptable mode flags are 'valid', 'same', or 'full'; got {mode!r}")


def _impl(x: Any, y: Any, *, mode: str, method: str, correlate: bool, nbatch: int) -> np.ndarray:
    x, y = np.asarray(x), np.asarray(y)
    ss = scipy_signal()
    fn = ss.correlate if correlate else ss.convolve
    if nbatch == 0:
        return np.asarray(fn(x, y, mode=mode, method=method))
    batch = tuple(np.broadcast_shapes(x.shape[:nbatch], y.shape[:nbatch]))
    core = conv_shape(x.shape[nbatch:], y.shape[nbatch:], mode)
    if math.prod(batch) == 0:
        return np.empty(batch + core, np.result_type(x.dtype, y.dtype))
    xb = np.broadcast_to(x, batch + x.shape[nbatch:])
    yb = np.broadcast_to(y, batch + y.shape[nbatch:])
    out: Any = None
    for idx in np.ndindex(batch):
        r = np.asarray(fn(xb[idx], yb[idx], mode=mode, method=method))
        if out is None:
            out = np.empty(batch + r.shape, r.dtype)
        out[idx] = r
    return out


def _abstract(x: Any, y: Any, *, mode: str, method: str, correlate: bool, nbatch: int) -> ShapedArray:
    x, y = getattr(x, "value", x), getattr(y, "value", y)
    sx, sy = tuple(np.shape(x) if not hasattr(x, "shape") else x.shape), tuple(
        np.shape(y) if not hasattr(y, "shape") else y.shape)
    batch = tuple(np.broadcast_shapes(sx[:nbatch], sy[:nbatch]))
    dx = np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
    dy = np.dtype(y.dtype) if hasattr(y, "dtype") else np.asarray(y).dtype
    return ShapedArray(batch + conv_shape(sx[nbatch:], sy[nbatch:], mode), np.result_type(dx, dy))


def _flip(v: Any, nbatch: int) -> Any:
    """Reverse every convolved axis."""
    n = ndim_of(v)
    return getitem_static(v, (slice(None),) * nbatch + (slice(None, None, -1),) * (n - nbatch))


def _kernel(y: Any, correlate: bool, nbatch: int) -> Any:
    """``w`` with ``op(x, y) == convolve(x, w)``."""
    if not correlate:
        return y
    return _flip(ew.conj(y) if y.dtype.kind == "c" else y, nbatch)


def _pad_same(ct: Any, cw: tuple[int, ...], nbatch: int) -> Any:
    """Pad a 'same' cotangent back to the full convolution's extent (``cw``: the kernel's shape)."""
    width = ((0, 0),) * nbatch + tuple(((m - 1) // 2, m - 1 - (m - 1) // 2) for m in cw)
    return pad(ct, pad_width=width, value=0.0)


def _transpose(ct: Any, other: Any, first: bool, cx: tuple[int, ...], cw: tuple[int, ...], *, mode: str,
               method: str, nbatch: int) -> Any:
    """The cotangent of one operand of ``z = convolve(x, w, mode)`` (``first``: of ``x``, else of ``w``);
    ``other`` is the other operand, ``cx``/``cw`` the convolved shapes of ``x``/``w``."""
    flipped = _flip(other, nbatch)
    if mode == "full":
        inner = "valid"
    elif mode == "valid":
        mine_larger = _x_is_larger(cx, cw) if first else _x_is_larger(cw, cx)
        inner = "full" if mine_larger else "valid"
    else:
        ct = _pad_same(ct, cw, nbatch)
        inner = "valid"
    return convolve(ct, flipped, mode=inner, method=method, correlate=False, nbatch=nbatch)


def _vjp_x(ct: Any, out: Any, x: Any, y: Any, *, mode: str, method: str, correlate: bool, nbatch: int) -> Any:
    if x.size == 0 or y.size == 0:
        return np.zeros(x.shape, out.dtype)
    w = _kernel(y, correlate, nbatch)
    return _transpose(ct, w, True, tuple(x.shape[nbatch:]), tuple(y.shape[nbatch:]), mode=mode, method=method,
                      nbatch=nbatch)


def _vjp_y(ct: Any, out: Any, x: Any, y: Any, *, mode: str, method: str, correlate: bool, nbatch: int) -> Any:
    if x.size == 0 or y.size == 0:
        return np.zeros(y.shape, out.dtype)
    w_bar = _transpose(ct, x, False, tuple(x.shape[nbatch:]), tuple(y.shape[nbatch:]), mode=mode, method=method,
                       nbatch=nbatch)
    if not correlate:
        return w_bar
    return _kernel(w_bar, True, nbatch)  # conj(flip(w̄))


def _batch(args: tuple, dims: tuple, *, mode: str, method: str, correlate: bool, nbatch: int) -> tuple[Any, int]:
    moved = []
    for a, d in zip(args, dims):
        if d is None:
            a = reshape(a, shape=(1,) + tuple(a.shape))  # broadcasts over the new batch axis
        else:
            a = batch_to_front(a, d)
        moved.append(a)
    return convolve(*moved, mode=mode, method=method, correlate=correlate, nbatch=nbatch + 1), 0


convolve_p = Primitive(
    "convolve",
    _impl,
    jvp=(
        lambda t, out, x, y, **p: convolve(t, y, **p),
        lambda t, out, x, y, **p: convolve(x, t, **p),
    ),
    vjp=(_vjp_x, _vjp_y),
    batch=_batch,
    abstract_eval=_abstract,
)
convolve: Callable[..., Any] = convolve_p.bind
