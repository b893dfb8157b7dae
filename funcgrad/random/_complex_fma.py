"""Exact fused multiply–adds in NumPy, one ufunc pass each, from complex multiplication.

NumPy has no ``fma`` ufunc, and emulating one exactly takes 15–20 float passes (``_xla_math.fma64``).
But NumPy's SIMD loop for complex multiplication (NumPy 2 on x86-64 with FMA3, as measured here;
other builds and CPUs are checked, below) computes the real part of ``(a + b i)(c + d i)`` as one
fused operation, ``round(a c - round(b d))``. With ``d = -1`` the product ``b d = -b`` is exact,
so the real part is ``round(a c + b)``: a fused
multiply–add, exactly as XLA evaluates one (float64 through complex128, float32 through complex64,
rounded once in float32). A Horner step ``p <- p x + c`` is then one complex multiplication by
``w = x - i`` plus one pass writing ``c`` into the imaginary parts.

Whether this NumPy, on this CPU, really rounds once is checked on first use (:func:`available`),
on inputs where fused and unfused results differ, through the same calls :func:`horner` makes; if
not (an old NumPy, a CPU without FMA), callers use the error-free emulation of ``_xla_math``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from . import _xla_math

__all__ = ["available", "complex_of", "argument_buffer", "multiply", "horner"]

_COMPLEX: dict[np.dtype, np.dtype] = {np.dtype(np.float64): np.dtype(np.complex128),
                                      np.dtype(np.float32): np.dtype(np.complex64)}
_checked: dict[np.dtype, bool] = {}
_lock = threading.Lock()


def complex_of(dtype: Any) -> np.dtype:
    """The complex dtype whose parts are ``dtype`` (float32 or float64)."""
    return _COMPLEX[np.dtype(dtype)]


def argument_buffer(size: int, dtype: Any) -> np.ndarray:
    """A complex array ``x - i`` of ``size`` elements for :func:`horner`: write ``x`` into its ``.real``."""
    w = np.empty(size, complex_of(dtype))
    w.imag = -1.0
    return w


def multiply(a: Any, b: Any, out: np.ndarray) -> np.ndarray:
    """``np.multiply(a, b, out)`` for complex operands, fused as described above also when ``out`` has
    one element (NumPy multiplies single elements on another path, unfused: those are done as two)."""
    if out.size != 1:
        return np.multiply(a, b, out)
    a2, b2 = (np.repeat(np.asarray(v, out.dtype).reshape(-1)[:1], 2) for v in (a, b))
    out[...] = np.multiply(a2, b2)[0]
    return out


def horner(coefficients: tuple, w: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``((c0 x + c1) x + c2) x + ...`` with every step one fused multiply–add, for ``x = w.real``
    (``w.imag`` must be -1: see :func:`argument_buffer`); ``z`` is a work array like ``w``. Returns
    ``z.real`` (a strided view). The coefficients are rounded to ``w``'s precision first, as XLA
    does with its polynomial constants.

    >>> w = argument_buffer(2, np.float64)
    >>> w.real = [0.5, 2.0]
    >>> horner((1.0, 2.0, 3.0), w, np.empty_like(w))  # x**2 + 2 x + 3
    array([ 4.25, 11.  ])
    """
    real = w.real.dtype.type
    c = [real(x) for x in coefficients]
    if len(c) == 1:
        z.real = c[0]
        return z.real
    if w.size == 1:  # two elements: see multiply()
        w2, z2 = np.repeat(w.reshape(-1), 2), np.empty(2, w.dtype)
        z.reshape(-1)[0] = horner(coefficients, w2, z2)[0]
        return z.real
    np.multiply(w, w.dtype.type(complex(c[0], c[1])), out=z)  # (c0 + c1 i)(x - i): real part c0 x + c1
    imag = z.imag
    for coefficient in c[2:]:
        imag.fill(coefficient)
        np.multiply(z, w, out=z)
    return z.real


def available(dtype: Any) -> bool:
    """Whether :func:`horner` rounds once per step for ``dtype`` here (checked once per dtype)."""
    dtype = np.dtype(dtype)
    if dtype not in _checked:
        with _lock:
            if dtype not in _checked:
                _checked[dtype] = _self_check(dtype)
    return _checked[dtype]


def _self_check(dtype: np.dtype) -> bool:
    """Compare :func:`horner` and :func:`multiply` (also on ``(k, n)`` by ``(n,)`` broadcasts, as
    ``_blocks`` uses it) with the exact emulation, on data where unfused steps differ in about a
    fifth of the elements: long arrays (the SIMD loop), short ones (its remainder loop), single
    elements, many times each."""
    if dtype not in _COMPLEX:
        return False
    rng = np.random.default_rng(12345)
    coefficients = tuple(rng.standard_normal(6))
    sizes = [1] * 40 + [2] * 20 + [3] * 20 + [5] * 10 + [17] * 4 + [1031]
    x = rng.uniform(-3.0, 3.0, sum(sizes)).astype(dtype)
    p = rng.standard_normal((2, x.size)).astype(dtype)
    want_horner = _exact_horner(coefficients, x)  # all trials at once: the emulation is elementwise
    want_fma = np.stack([_exact_fma(row, x, coefficients[0]) for row in p])
    try:
        start = 0
        for size in sizes:
            part = slice(start, start + size)
            start += size
            w = argument_buffer(size, dtype)
            w.real = x[part]
            if not np.array_equal(horner(coefficients, w, np.empty_like(w)), want_horner[part]):
                return False
            z = np.empty((2, size), w.dtype)
            z.real = p[:, part]
            z.imag = coefficients[0]
            if not np.array_equal(multiply(z, w, z).real, want_fma[:, part]):
                return False
    except Exception:  # noqa: BLE001 (any failure: use the emulation)
        return False
    return True


def _exact_fma(a: np.ndarray, b: np.ndarray, c: float) -> np.ndarray:
    if a.dtype == np.float64:
        return _xla_math.fma64(a, b, np.full(a.shape, c))
    return _xla_math.fma32(a, b, float(np.float32(c)))


def _exact_horner(coefficients: tuple, x: np.ndarray) -> np.ndarray:
    """The reference: float64 steps by error-free transformations, float32 steps by
    ``_xla_math.fma32`` (correctly rounded: the float64 sum rounded to odd at float32 midpoints)."""
    if x.dtype == np.float64:
        return _xla_math.horner(coefficients, x)
    p = np.full(x.shape, np.float32(coefficients[0]))
    for c in coefficients[1:]:
        p = _xla_math.fma32(p, x, float(np.float32(c)))
    return p
