"""The arithmetic of the XLA CPU programs of ``dirichlet`` and ``ball`` that ``_xla_math`` lacks,
reproduced in NumPy so that those draws are JAX's numbers bit for bit.

Read off JAX 0.10.2's compiled programs (``jax.jit(f).lower(...).compile().as_text()`` and
``XLA_FLAGS=--xla_dump_to=...``, which also dumps each kernel's LLVM IR and object code) and off
the YNNPACK kernels inside jaxlib (disassembled), then checked against JAX on this CPU:

* A fusion with a reduction over 4096 elements or more runs in YNNPACK (XLA's ``__ynn_fusion``).
  There ``exp`` and ``log`` are YNNPACK's own vector kernels (:func:`ynn_exp`, :func:`ynn_log`:
  range reduction by powers of two, polynomials or rational functions evaluated with FMAs, AVX2 +
  FMA3 versions), ``pow`` is the C library's, and a sum over the last axis is YNNPACK's
  ``sum_float_k1`` (:func:`ynn_sum_last`): 64 bytes of lanes, blocks of four vectors added into a
  tree of accumulators flushed every 64 and 1024 elements (the last level with Kahan's
  compensation), the lanes added pairwise at the end.
* Below that XLA emits the fusion itself: a sum over the last axis runs from the first element
  to the last for up to 32 elements; a longer one is first summed in windows of 32 (zero padding
  split around the row, the smaller half first), the window sums then likewise
  (:func:`xla_sum_last`).
* A single elementwise operation on fewer than 16 float32 elements is compiled as one LLVM vector
  operation; where the vector's last 8-or-fewer lanes number 3, 5, 6 or 7, LLVM calls the C
  library (``logf``) for them instead of XLA's approximation (:func:`xla_single_op_log_f32`).
* XLA's CPU code flushes subnormal results to zero (:func:`flush_subnormal`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np

from ._xla_math import flush_subnormal, fma32, fma64, log, log_f32

__all__ = ["ynn_exp", "ynn_log", "ynn_log1p", "ynn_sum_last", "xla_sum_last", "c_pow", "xla_single_op_log_f32",
           "flush_subnormal", "YNN_MIN_ELEMENTS"]

YNN_MIN_ELEMENTS = 4096  # XLA hands a fusion with a reduction of at least this many elements to YNNPACK


# --- YNNPACK's exp and log (exp_fp32/fp64, log_fp32/fp64, x86 AVX2 + FMA3) ------------------------

_EXP64_EVEN = (2.119890244143296e-09, 2.755585399809176e-07, 2.480158976814372e-05, 0.0013888888886809786,
               0.04166666666668113, 0.49999999999999956)
_EXP64_ODD = (2.5210793713569394e-08, 2.7556758388816804e-06, 0.0001984127071808468, 0.008333333332743944,
              0.16666666666667967)
_EXP32_EVEN = (-4.9866619519889355e-05, 0.001413246151059866, 0.04166562855243683, 0.4999999403953552)
_EXP32_ODD = (0.00022773783712182194, 0.008324293419718742, 0.16666725277900696)


def _horner(coefficients: tuple, z: np.ndarray) -> np.ndarray:
    """``((c0 z + c1) z + c2) ...``, one FMA per step, in ``z``'s dtype."""
    p = np.full(z.shape, coefficients[0], z.dtype)
    for c in coefficients[1:]:
        p = fma32(p, z, float(np.float32(c))) if z.dtype == np.float32 else fma64(p, z, c)
    return p


def ynn_exp(x: Any) -> np.ndarray:
    """YNNPACK's ``exp`` (float32 or float64): ``b = round(x log2 e)`` (clamped to the exponent range),
    ``r = x - b ln 2`` in two FMAs, ``exp(r) = 1 + r + r² (E(r²) + r O(r²))`` with even and odd
    polynomials, times ``2**b`` built in the exponent bits; subnormal results flushed to zero.

    >>> float(ynn_exp(np.array(1.0)))  # an ulp above e
    2.7182818284590455
    """
    x = np.asarray(x)
    shape = x.shape
    x = x.reshape(-1)
    f: Any
    even: tuple[float, ...]
    odd: tuple[float, ...]
    if x.dtype == np.float32:
        f = np.float32
        a = np.minimum(np.maximum(x, f(-88.02969360351562)), f(88.72283935546875))
        b = (a * f(1.4426950216293335) + f(12582912.0)) + f(-12582912.0)
        scale = ((b + f(8388735.0)).view(np.int32) << 23).view(f)
        r = fma32(b, f(-0.693145751953125), a)
        r = fma32(b, f(-1.428606765330187e-06), r)
        even, odd = _EXP32_EVEN, _EXP32_ODD
    else:
        f = np.float64
        a = np.minimum(np.maximum(x, -709.0895657128241), 709.782712893384)
        b = (a * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0
        scale = ((b + 4503599627371519.0).view(np.int64) << 52).view(f)
        r = fma64(b, np.full_like(b, -0.6931471803691238), a)
        r = fma64(b, np.full_like(b, -1.9082149292705877e-10), r)
        even, odd = _EXP64_EVEN, _EXP64_ODD
    r2 = r * r
    fma = fma32 if f is np.float32 else fma64
    t = fma(_horner(odd, r2), r, _horner(even, r2))
    t = fma(t, r2, r)
    with np.errstate(invalid="ignore", over="ignore"):
        # fma(t, 2**b, 2**b); for float64 as (t + 1) 2**b, the same where the result is normal (the
        # emulated FMA loses its error term to underflow near the smallest normal numbers)
        y = fma32(t, scale, scale) if f is np.float32 else (t + 1.0) * scale
    y = np.where(np.abs(scale) == np.inf, scale, y)  # 2**b overflowed: inf
    y = np.where(np.isnan(x), x, y)
    return flush_subnormal(y).reshape(shape)


_LOG64_Q_EVEN = (0.0030091816100030725, 0.6369060590899748, 3.823696902394678, 1.0)
_LOG64_Q_ODD = (0.0794246993296981, 2.2308027800235326, 3.1526492693435557)
_LOG64_P_EVEN = (-0.06691314126082094, -1.110965361416291, -0.499999999999999)
_LOG64_P_ODD = (-0.002956046447212538, -0.4289980732181626, -1.2429913013384295)


def ynn_log(x: Any) -> np.ndarray:
    """YNNPACK's ``log`` (float32 or float64): ``x = m 2**e`` with ``m`` in (√½, √2], ``f = m - 1``,
    ``log x = e ln 2 + f + f² P(f) / Q(f)`` with FMAs (subnormal inputs read as zero).

    >>> float(ynn_log(np.array(2.0)))
    0.6931471805599453
    """
    return _ynn_log(x, False)


def ynn_log1p(x: Any) -> np.ndarray:
    """YNNPACK's ``log1p``: :func:`ynn_log` of ``1 + x``, with ``f = x`` where ``e = 0``.

    >>> float(ynn_log1p(np.array(1e-10)))  # 1e-10 - 5e-21
    9.999999999500001e-11
    """
    return _ynn_log(x, True)


def _ynn_log(x: Any, plus_one: bool) -> np.ndarray:
    x = np.asarray(x)
    shape = x.shape
    small = flush_subnormal(x.reshape(-1))
    x = small + small.dtype.type(1.0) if plus_one else small
    f: Any
    root2: Any
    if x.dtype == np.float32:
        f, bits = np.float32, x.view(np.uint32)
        m = ((bits & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)).view(f)
        e = ((bits >> np.uint32(23)) & np.uint32(0xFF)).astype(f) - f(127.0)
        root2 = f(1.4142135381698608)
    else:
        f, bits = np.float64, x.view(np.uint64)
        m = ((bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000)).view(f)
        e = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(f) - 1023.0
        root2 = 1.4142135623730951
    big = m > root2
    m = np.where(big, m * f(0.5), m)
    e = np.where(big, e + f(1.0), e)
    g = m + f(-1.0)
    if plus_one:
        g = np.where(e == 0, small, g)
    g2 = g * g
    with np.errstate(invalid="ignore", divide="ignore"):
        if f is np.float32:
            q = fma32(np.full_like(g, f(1.3292170763015747)), g,
                      fma32(np.full_like(g, f(0.39658042788505554)), g2, 1.0))
            p = fma32(np.full_like(g, f(-0.33127889037132263)), g,
                      fma32(np.full_like(g, f(-0.005229335278272629)), g2, float(f(-0.49999964237213135))))
            y = fma32(e, f(0.6931471824645996), fma32(p / q, g2, g))
        else:
            p = fma64(_horner(_LOG64_P_ODD, g2), g, _horner(_LOG64_P_EVEN, g2))
            q = fma64(_horner(_LOG64_Q_ODD, g2), g, _horner(_LOG64_Q_EVEN, g2))
            y = fma64(e, np.full_like(e, 0.6931471805599453), fma64(p / q, g2, g))
        special = ~(x > 0) | (x == np.inf)  # zeros (and subnormals), negatives, inf, NaN
        if special.any():
            y[special] = np.log(x[special])
    return y.reshape(shape)


# --- sums over the last axis --------------------------------------------------------------------

def _kahan(a: np.ndarray, total: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = a - error
    t = total + y
    return t, (t - total) - y


def ynn_sum_last(x: Any) -> np.ndarray:
    """``x.sum(-1)`` in the order of YNNPACK's ``sum_float_k1`` (float32 or float64): ``W`` lanes
    (64 bytes); each block of ``4 W`` elements is added vector by vector into a local sum, which is
    added to level 0 of the accumulators; level 0 is added to level 1 every 64 elements and level 1
    to level 2, with Kahan's compensation, every 1024 (blocks of ``16 W`` count once, and the
    levels are flushed at the end); the lanes of level 2 are then added pairwise, halving.

    >>> float(ynn_sum_last(np.arange(10.0)))
    45.0
    """
    x = np.asarray(x)
    lead, k = x.shape[:-1], x.shape[-1]
    if k == 0 or x.size == 0:
        return np.zeros(lead, x.dtype)
    rows = x.reshape(-1, k)
    n, dtype = rows.shape[0], rows.dtype
    w = 64 // dtype.itemsize
    block = 4 * w
    padded = np.zeros((n, -(-k // block) * block), dtype)
    padded[:, :k] = rows
    level0, level1, level2, error = (np.zeros((n, w), dtype) for _ in range(4))

    def add_block(start: int) -> None:
        local = padded[:, start:start + w] + padded[:, start + w:start + 2 * w]
        local += padded[:, start + 2 * w:start + 3 * w]
        local += padded[:, start + 3 * w:start + block]
        level0[...] = level0 + local

    def flush(clock: int, final: bool) -> None:
        nonlocal level2, error
        if final or clock % 64 == 0:
            level1[...] = level1 + level0
            level0[...] = 0
            if final or clock % 1024 == 0:
                level2, error = _kahan(level1, level2, error)
                level1[...] = 0

    clock = start = 0
    while k - start >= 16 * w:
        for _ in range(4):
            add_block(start)
            start += block
        clock += 16 * w
        flush(clock, False)
    while k - start >= block:
        add_block(start)
        start += block
        clock += block
        flush(clock, False)
    if k - start > 0:
        add_block(start)
    flush(clock, True)
    lanes = level2
    while lanes.shape[1] > 1:
        half = lanes.shape[1] // 2
        lanes = lanes[:, :half] + lanes[:, half:]
    return lanes[:, 0].reshape(lead)


def xla_sum_last(x: Any) -> np.ndarray:
    """``x.sum(-1)`` in the order of XLA CPU's own reduction: from the first element to the last up
    to 32 elements; longer rows are summed in windows of 32 (the zero padding split around the row,
    its smaller half first), and the window sums likewise.

    >>> float(xla_sum_last(np.arange(40.0)))
    780.0
    """
    x = np.asarray(x)
    k = x.shape[-1]
    if k <= 32:
        total = np.zeros(x.shape[:-1], x.dtype)
        for i in range(k):
            total = total + x[..., i]
        return total
    windows = -(-k // 32)
    low = (windows * 32 - k) // 2
    padded = np.zeros(x.shape[:-1] + (windows * 32,), x.dtype)
    padded[..., low:low + k] = x
    padded = padded.reshape(x.shape[:-1] + (windows, 32))
    sums = np.zeros(x.shape[:-1] + (windows,), x.dtype)
    for i in range(32):
        sums = sums + padded[..., i]
    return xla_sum_last(sums)


# --- the C library's functions, which XLA and YNNPACK call ----------------------------------------

def _numpy_has_own_power() -> bool:
    """Whether NumPy may evaluate ``power`` with its own AVX-512 code instead of the C library's."""
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    features = getattr(getattr(core, "_multiarray_umath", None), "__cpu_features__", {}) or {}
    return bool(features.get("AVX512F"))


_NUMPY_OWN_POWER = _numpy_has_own_power()
_libm: Any = None


def _c_library() -> Any:
    global _libm
    if _libm is None:
        name = ctypes.util.find_library("m") or "libm.so.6"
        _libm = ctypes.CDLL(name)
        _libm.powf.restype, _libm.powf.argtypes = ctypes.c_float, [ctypes.c_float, ctypes.c_float]
        _libm.pow.restype, _libm.pow.argtypes = ctypes.c_double, [ctypes.c_double, ctypes.c_double]
        _libm.logf.restype, _libm.logf.argtypes = ctypes.c_float, [ctypes.c_float]
    return _libm


def c_pow(x: Any, y: Any) -> np.ndarray:
    """The C library's ``pow``/``powf`` elementwise (what XLA and YNNPACK call), in ``x``'s dtype.
    NumPy calls it too, except for its shortcuts for a scalar exponent (0.5: ``sqrt``, 2: a square),
    which a full exponent array avoids.

    >>> float(c_pow(np.float32(2.0), 0.5))
    1.4142135381698608
    """
    x = np.asarray(x)
    exponent = np.full(x.shape, y, x.dtype)  # an array: no scalar shortcut
    if not _NUMPY_OWN_POWER:
        with np.errstate(all="ignore"):
            return np.asarray(np.power(x, exponent))
    libm = _c_library()
    fn = libm.powf if x.dtype == np.float32 else libm.pow
    flat = [fn(float(a), float(b)) for a, b in zip(x.reshape(-1), exponent.reshape(-1))]
    return np.array(flat, x.dtype).reshape(x.shape)


def _single_op_c_lanes(n: int) -> np.ndarray:
    """Which of the ``n`` elements of a single float32 operation XLA leaves to the C library."""
    lanes = np.zeros(n, bool)
    if n < 16 and n % 8 in (3, 5, 6, 7):
        lanes[8 * (n // 8):] = True
    return lanes


def xla_single_op_log_f32(x: Any, positions: Any, n: int) -> np.ndarray:
    """XLA's float32 ``log`` of a single-operation kernel of ``n`` elements, for the elements ``x`` at
    ``positions`` among them: XLA's approximation, or ``logf`` of the C library for the lanes LLVM
    does not vectorise (see the module docstring). Other dtypes: :func:`funcgrad.random._xla_math.log`."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        return np.asarray(log(x))
    out = np.array(log_f32(x)).reshape(-1)
    lanes = np.flatnonzero(_single_op_c_lanes(n)[np.asarray(positions).reshape(-1)]) if n < 16 else ()
    if len(lanes):
        logf = _c_library().logf
        flat = x.reshape(-1)
        for i in lanes:
            out[i] = logf(float(flat[i]))
    return out.reshape(x.shape)
