"""Discrete Fourier transforms: three linear primitives and their transposes.

* ``fft(x, axes, inverse, norm)`` — the complex-to-complex transform over ``axes``
  (``np.fft.fftn``, or ``np.fft.ifftn`` when ``inverse``).
* ``rfft(x, axes, norm)`` — real to complex (``np.fft.rfftn``): the last of ``axes`` keeps its
  ``n // 2 + 1`` non-negative frequencies.
* ``irfft(x, axes, n, norm)`` — complex to real (``np.fft.irfftn``): the last of ``axes`` has
  ``n`` output points and exactly ``n // 2 + 1`` input points; the other axes keep their sizes.

The primitives always see matching sizes: the zero-padding and cropping that NumPy's ``n``/``s``
imply are done by :mod:`funcgrad.numpy.fft` with ``pad`` and slicing, whose derivatives are
their own. Axes are non-negative and distinct; ``norm`` is ``"backward"``, ``"ortho"`` or
``"forward"``.

Every transform is (real-)linear, so its jvp is the same transform of the tangent, and its vjp
is its transpose under the pairing Re(sum(a * b)) (no conjugation: JAX's convention).

* The DFT matrix ``F[j, k] = exp(-2 pi i j k / n)`` is symmetric, and so is its inverse: the
  transpose of ``fft`` is ``fft`` with the same parameters (axis by axis, so over several axes too).
* ``rfft`` is ``P F`` with ``P`` keeping the first ``m = n // 2 + 1`` frequencies of a real
  signal. Its transpose is ``Re(F Pᵀ ct)``: ``(Re F Pᵀ ct)_j = sum_{k<m} Re(conj(ct_k) w^{-jk})``.
  An unnormalised complex-to-real inverse computes ``sum_k a_k Re(c_k w^{-jk})`` with
  ``a_k = 2`` for the frequencies that stand for a conjugate pair and ``a_k = 1`` for the zero
  and (even ``n``) Nyquist frequencies, whose imaginary parts it ignores — as ``Re`` does here.
  So ``rfftᵀ(ct) = irfft(conj(ct) / a)`` with the normalisation swapped (an unscaled inverse for
  ``"backward"``, ``1/N`` for ``"forward"``); the other axes follow since ``conj(F ct) =
  conj(F) conj(ct)`` and ``conj(F)`` is the unscaled inverse.
* ``irfft`` computes ``x_j = sum_k a_k Re(c_k w^{-jk})`` (scaled), hence
  ``sum_j g_j x_j = Re(sum_k c_k a_k conj(rfft(g))_k)``: ``irfftᵀ(g) = a * conj(rfft(g))``, again
  with the normalisation swapped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .._backend import numpy_constant_like
from ..core import Primitive
from ..ir.program import ShapedArray
from .elementwise import conj, real
from .factories import batch_to_front

if TYPE_CHECKING:
    from .._options import FFTNorm

_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _aval(x: Any) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(x, ShapedArray):
        return x.shape, x.dtype
    x = getattr(x, "value", x)  # a literal
    return tuple(np.shape(x)), np.asarray(x).dtype


# Shape and dtype rules for jit (NumPy's: complex results promote with 1j, real ones with 1.0), so
# that staging never runs a transform on placeholder data.
def _fft_abstract(x: Any, axes: tuple[int, ...], inverse: bool, norm: str) -> ShapedArray:
    shape, dtype = _aval(x)
    return ShapedArray(shape, np.result_type(dtype, 1j))


def _rfft_abstract(x: Any, axes: tuple[int, ...], norm: str) -> ShapedArray:
    shape, dtype = _aval(x)
    if dtype.kind == "c":  # NumPy's rfft raises a TypeError for complex input too
        raise TypeError(f"rfft transforms real input, got dtype {dtype}; use fft for complex input")
    last = axes[-1]
    return ShapedArray(shape[:last] + (shape[last] // 2 + 1,) + shape[last + 1:], np.result_type(dtype, 1j))


def _irfft_abstract(x: Any, axes: tuple[int, ...], n: int, norm: str) -> ShapedArray:
    shape, dtype = _aval(x)
    if len(axes) > 1:  # the complex inverse transforms over the other axes come first
        dtype = np.result_type(dtype, 1j)
    last = axes[-1]
    return ShapedArray(shape[:last] + (n,) + shape[last + 1:], np.result_type(np.empty(0, dtype).real.dtype, 1.0))


def _fft_impl(x: Any, axes: tuple[int, ...], inverse: bool, norm: FFTNorm) -> Any:
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, axes=axes, norm=norm)


def _shifted(axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(a + 1 for a in axes)


fft_p = Primitive(
    "fft",
    _fft_impl,
    abstract_eval=_fft_abstract,
    jvp=(lambda t, out, x, axes, inverse, norm: fft(t, axes=axes, inverse=inverse, norm=norm),),
    # F is symmetric: the transpose is the same transform, with the same normalisation
    vjp=(lambda ct, out, x, axes, inverse, norm: fft(ct, axes=axes, inverse=inverse, norm=norm),),
    batch=lambda args, dims, axes, inverse, norm: (
        fft(batch_to_front(args[0], dims[0]), axes=_shifted(axes), inverse=inverse, norm=norm), 0),
)
fft: Callable[..., Any] = fft_p.bind


def _pair_weights(n: int, axis: int, ndim: int, dtype: Any) -> np.ndarray:
    """``a_k`` along ``axis``: 2 for a frequency standing for a conjugate pair, 1 for the zero and
    (even ``n``) Nyquist frequencies; shaped to broadcast against an ``ndim``-d half spectrum."""
    a = np.full(n // 2 + 1, 2.0, dtype=dtype)
    a[0] = 1.0
    if n % 2 == 0:
        a[-1] = 1.0
    return a.reshape((n // 2 + 1,) + (1,) * (ndim - 1 - axis))


def _real_dtype(dtype: Any) -> np.dtype:
    return np.finfo(dtype).dtype


def _rfft_vjp(ct: Any, out: Any, x: Any, axes: tuple[int, ...], norm: str) -> Any:
    last = axes[-1]
    n = x.shape[last]
    inv = numpy_constant_like((1.0 / _pair_weights(n, last, ct.ndim, np.float64)).astype(_real_dtype(ct.dtype)), ct)
    return irfft(conj(ct) * inv, axes=axes, n=n, norm=_SWAP[norm])


rfft_p = Primitive(
    "rfft",
    lambda x, axes, norm: np.fft.rfftn(x, axes=axes, norm=norm),
    abstract_eval=_rfft_abstract,
    jvp=(lambda t, out, x, axes, norm: rfft(t, axes=axes, norm=norm),),
    vjp=(_rfft_vjp,),
    batch=lambda args, dims, axes, norm: (rfft(batch_to_front(args[0], dims[0]), axes=_shifted(axes), norm=norm), 0),
)
rfft: Callable[..., Any] = rfft_p.bind


def _irfft_impl(x: Any, axes: tuple[int, ...], n: int, norm: FFTNorm) -> Any:
    s = [x.shape[a] for a in axes[:-1]] + [n]
    return np.fft.irfftn(x, s=s, axes=axes, norm=norm)


def _irfft_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...], n: int, norm: str) -> Any:
    if g.dtype.kind == "c":  # the output is real: only the real part of a cotangent pairs with it
        g = real(g)
    spectrum = conj(rfft(g, axes=axes, norm=_SWAP[norm]))
    return spectrum * numpy_constant_like(_pair_weights(n, axes[-1], g.ndim, _real_dtype(g.dtype)), g)


irfft_p = Primitive(
    "irfft",
    _irfft_impl,
    abstract_eval=_irfft_abstract,
    jvp=(lambda t, out, x, axes, n, norm: irfft(t, axes=axes, n=n, norm=norm),),
    vjp=(_irfft_vjp,),
    batch=lambda args, dims, axes, n, norm: (
        irfft(batch_to_front(args[0], dims[0]), axes=_shifted(axes), n=n, norm=norm), 0),
)
irfft: Callable[..., Any] = irfft_p.bind
