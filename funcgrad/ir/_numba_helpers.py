"""Scalar functions the Numba kernels call where NumPy's semantics differ from Python's or
Numba's (imported by generated kernels only; needs numba).

Each follows NumPy's C implementation (``npy_math``, the float and complex loops) so that a fused
kernel computes what the NumPy call would: the sign of zero remainders, NaN propagation of
``maximum``/``minimum``, ``fmax``/``fmin`` ignoring NaN, complex division by zero giving inf/nan
instead of raising.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

_jit = njit(cache=True, error_model="numpy", nogil=True)


def as_scalar(x):  # type: ignore[no-untyped-def]  # unannotated: Numba matches the overload's signature
    """A 0-d operand's value, whether it came as a scalar or as a 0-d array."""
    return x[()] if isinstance(x, np.ndarray) else x


@overload(as_scalar)
def _as_scalar(x):  # type: ignore[no-untyped-def]
    if isinstance(x, types.Array):
        return lambda x: x[()]
    return lambda x: x


@_jit
def _divmod(a: float, b: float) -> tuple[float, float]:
    # npy_divmod: fmod, adjusted to Python's sign convention, and the quotient snapped to an integer
    mod = np.fmod(a, b)
    div = (a - mod) / b
    if mod != 0:
        if (b < 0) != (mod < 0):
            mod += b
            div -= 1.0
    else:
        mod = math.copysign(0.0, b)
    if div != 0:
        floordiv = np.floor(div)
        if div - floordiv > 0.5:
            floordiv += 1.0
    else:
        floordiv = math.copysign(0.0, a / b)
    return floordiv, mod


@_jit
def remainder(a: float, b: float) -> float:
    a, b = float(a), float(b)
    if b == 0:
        return math.nan  # fmod(a, 0)
    return _divmod(a, b)[1]


@_jit
def floor_divide(a: float, b: float) -> float:
    a, b = float(a), float(b)
    if b == 0:
        return a / b
    return _divmod(a, b)[0]


@_jit
def logaddexp(x: float, y: float) -> float:
    x, y = float(x), float(y)
    if x == y:  # infinities of the same sign
        return x + 0.6931471805599453
    tmp = x - y
    if tmp > 0:
        return x + math.log1p(math.exp(-tmp))
    if tmp <= 0:
        return y + math.log1p(math.exp(tmp))
    return tmp  # NaN


@_jit
def maximum(a: float, b: float) -> float:
    return a if (a >= b or math.isnan(a)) else b


@_jit
def minimum(a: float, b: float) -> float:
    return a if (a <= b or math.isnan(a)) else b


@_jit
def fmax(a: float, b: float) -> float:
    return a if (a >= b or math.isnan(b)) else b


@_jit
def fmin(a: float, b: float) -> float:
    return a if (a <= b or math.isnan(b)) else b


@_jit
def sign(x: float) -> float:
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    if x == 0:
        return 0.0
    return x  # NaN


@_jit
def complex_divide(a: complex, b: complex) -> complex:
    # NumPy's complex division (Smith's algorithm; a zero divisor gives inf/nan, never an error)
    ar, ai, br, bi = float(a.real), float(a.imag), float(b.real), float(b.imag)
    abs_br, abs_bi = abs(br), abs(bi)
    if abs_br >= abs_bi:
        if abs_br == 0 and abs_bi == 0:
            return complex(ar / abs_br, ai / abs_br)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)
