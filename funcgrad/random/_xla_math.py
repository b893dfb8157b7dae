"""The elementwise functions XLA's CPU backend evaluates differently from NumPy, reproduced in NumPy
so that draws built on them are JAX's numbers bit for bit.

What differs, found by comparing against JAX 0.10 on CPU (x86-64 with FMA):

* XLA compiles with floating-point contraction on, so ``a * b + c`` in a polynomial step is one
  fused multiply–add (one rounding). float32 FMAs are emulated exactly in float64 (the product of
  two float32 numbers is exact there; the sum is rounded to odd in float64 by an error-free sum, so
  its rounding to float32 is the correctly rounded one). float64 FMAs are emulated with
  error-free transformations (Dekker's product, Knuth's sum).
* ``log1p`` is XLA's own for every dtype: Cephes' rational approximation
  ``x - x²/2 + x³ P(x)/Q(x)`` for ``|x| < √2 - 1`` (polynomials evaluated with FMAs), ``log(1 + x)``
  elsewhere.
* float32 ``log`` is XLA's own vectorised approximation (Cephes' degree-8 polynomial for
  ``log(1 + f)``, evaluated in three interleaved parts with FMAs, plus the exponent times ln 2
  split in two constants). float64 ``log`` is the C library's, which NumPy also calls.
* float32 ``rsqrt`` (and ``c / sqrt(x)``, which XLA rewrites to ``c * rsqrt(x)``) is the
  processor's approximate reciprocal square root (``rsqrtss``, 12 bits) refined by one Newton
  step with two FMAs. The approximation differs between processor makers: :func:`rsqrt_f32`
  reproduces the one measured on AMD Zen 3 (the machine JAX's recorded answers come from); on
  other x86-64 processors XLA's value, and with it JAX's float32 gamma draws, may differ by an
  ulp. float64 ``rsqrt`` is ``1 / sqrt`` (no approximate instruction below AVX-512).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fma32", "fma64", "log_f32", "log1p", "log", "exp", "rsqrt", "flush_subnormal", "lgamma_f32"]


def fma32(a: np.ndarray | np.float32, b: np.ndarray | np.float32, c: np.ndarray | float) -> np.ndarray:
    """``a * b + c`` rounded once, to float32, for float32 ``a``, ``b`` and float32 or float64 ``c``:
    a fused multiply-add.

    The product is exact in float64; where the float64 sum lands on a float32 midpoint, it is
    rounded to odd instead (truncated toward zero, the lowest bit set when inexact: Knuth's TwoSum
    gives the error), which makes the final rounding to float32 correct (53 >= 2 * 24 + 2) where
    rounding to nearest twice would not be.

    >>> a, b = np.float32(1 + 2**-23), np.float32(1 - 2**-24)
    >>> fma32(a, b, 2**-47 * (1 + 2**-13)) - np.float32(1)
    np.float32(1.1920929e-07)
    """
    product = np.multiply(a, b, dtype=np.float64)  # exact: 24 + 24 bits
    total = np.array(np.add(product, c, dtype=np.float64))  # rounds to nearest (ours: a fresh array)
    flat = total.reshape(-1)
    bits = flat.view(np.int64)
    # Rounding twice differs from rounding once only where the float64 sum is a float32 midpoint
    # (rounding to float64 never crosses one: they are float64 numbers): bit 28 set and the 28 below
    # zero for a float32 normal number; anything below float32's smallest normal is checked too.
    maybe_midpoint = np.flatnonzero(((bits & _LOW_29_BITS) == _BIT_28) | (np.abs(flat) < _TINY32))
    if maybe_midpoint.size:
        t = flat[maybe_midpoint]
        p = np.broadcast_to(product, total.shape).reshape(-1)[maybe_midpoint]
        addend = np.broadcast_to(np.asarray(c, np.float64), total.shape).reshape(-1)[maybe_midpoint]
        with np.errstate(invalid="ignore"):  # inf - inf: a NaN error, never nudged
            back = t - p
            error = (p - (t - back)) + (addend - back)  # Knuth's TwoSum: t + error is exact
        # round to odd: an even t (a midpoint is) with a nonzero error moves one unit toward the exact
        # sum, away from zero when the error has t's sign (adding to the bits grows either sign's magnitude)
        inexact_even = ((error > 0) | (error < 0)) & ((bits[maybe_midpoint] & 1) == 0)
        away = (error > 0) == (t > 0)
        bits[maybe_midpoint] += np.where(inexact_even, np.where(away, 1, -1), 0).astype(np.int64)
    return total.astype(np.float32)


_LOW_29_BITS = np.int64((1 << 29) - 1)
_BIT_28 = np.int64(1 << 28)
_TINY32 = float(np.finfo(np.float32).tiny)


def flush_subnormal(x: np.ndarray) -> np.ndarray:
    """``x`` with subnormal values replaced by zeros of their sign, as XLA's CPU code computes
    (flush-to-zero): a result XLA gives as 0 where NumPy gives a subnormal number.

    >>> flush_subnormal(np.array([1e-40, -1e-40, 1.0], np.float32))
    array([ 0., -0.,  1.], dtype=float32)
    """
    x = np.asarray(x)
    return np.where(np.abs(x) < np.finfo(x.dtype).tiny, np.copysign(x.dtype.type(0.0), x), x)


_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitter for float64
_TOP_26_BITS = np.uint64(0xFFFFFFFFF8000000)  # sign, exponent and the top 26 significant bits of a float64


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split: ``a = hi + lo`` exactly, each fitting in 26 bits (``lo`` with its sign)."""
    gamma = a * _SPLIT
    hi = gamma - (gamma - a)
    return hi, a - hi


def _truncate_split(a: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> None:
    """``a = hi + lo`` exactly by cutting off the low 27 significand bits (two passes instead of
    Veltkamp's four): ``hi`` has 26 bits, ``lo`` 27. Against a Veltkamp-split factor (26 + 26
    bits) every partial product of Dekker's product is still exact (at most 27 + 26 bits), and so
    is each sum of it, so the product's error comes out the same (it is unique)."""
    np.bitwise_and(a.view(np.uint64), _TOP_26_BITS, out=hi.view(np.uint64))
    np.subtract(a, hi, out=lo)


def fma64(a: np.ndarray, b: np.ndarray, c: np.ndarray | float, b_split: tuple | None = None) -> np.ndarray:
    """``round_f64(a * b + c)`` from error-free transformations: ``a * b = h + l`` exactly
    (Dekker), ``h + c = s + e`` exactly (Knuth), result ``s + (e + l)``. ``b_split`` may pass
    ``_split(b)`` when ``b`` is reused. Finite inputs without overflow."""
    a = np.array(a, np.float64, order="C", copy=None)  # contiguous, for the bit view
    a_hi, a_lo = np.empty_like(a), np.empty_like(a)
    _truncate_split(a, a_hi, a_lo)
    b_hi, b_lo = _split(b) if b_split is None else b_split
    h = a * b
    low = a_hi * b_hi
    low -= h
    low += a_hi * b_lo
    low += a_lo * b_hi
    low += a_lo * b_lo  # a * b - h, exactly
    s = h + c
    bb = s - h
    e = h - (s - bb)
    e += c - bb  # h + c - s, exactly
    e += low
    s += e
    return s


_ROUNDING_MARGIN = 1.0 + 2.0**-50  # covers the roundings of the bounds below


def horner(coefficients: tuple, x: np.ndarray) -> np.ndarray:
    """``((c0 x + c1) x + c2) ...`` with one FMA per step, in ``x``'s dtype, starting from ``c0``
    (in place, in preallocated buffers: this is most of the time of a normal draw).

    float64 steps are :func:`fma64` pass by pass, with two savings that leave every bit as it is:
    ``p`` is split by truncation (:func:`_truncate_split`), and where a bound on ``|p x|`` over all
    elements (from ``max |x|`` and the coefficients so far) shows ``|p x| <= |c|``, Knuth's
    6-pass two-sum becomes Dekker's 3-pass fast two-sum, exact when ``|c| >= |p x|`` (both give the
    unique error of ``p x + c``)."""
    if x.dtype == np.float32:
        p = np.full(x.shape, np.float32(coefficients[0]), np.float32)
        wide = np.empty(x.shape, np.float64)
        for c in coefficients[1:]:
            np.multiply(p, x, out=wide, dtype=np.float64)
            np.add(wide, float(np.float32(c)), out=p, casting="same_kind")
        return p
    x = np.array(x, order="C", copy=None)
    x_hi, x_lo = _split(x)
    x_max = float(np.max(np.abs(x))) if x.size else 0.0  # NaN or inf: never the fast two-sum
    p = np.full(x.shape, float(coefficients[0]))
    p_hi, p_lo, h, s, low = (np.empty_like(p) for _ in range(5))
    bound = abs(float(coefficients[0]))  # >= |p| everywhere
    for coefficient in coefficients[1:]:  # fma64(p, x, c), step by step
        c = float(coefficient)
        product_bound = bound * x_max * _ROUNDING_MARGIN  # >= |round(p x)|
        _truncate_split(p, p_hi, p_lo)
        np.multiply(p, x, out=h)
        np.multiply(p_hi, x_hi, out=low)
        low -= h
        p_hi *= x_lo
        low += p_hi
        np.multiply(p_lo, x_hi, out=s)
        low += s
        p_lo *= x_lo
        low += p_lo  # p x - h, exactly
        np.add(h, c, out=s)
        if product_bound <= abs(c):  # fast two-sum of (c, h)
            np.subtract(s, c, out=p_hi)
            np.subtract(h, p_hi, out=p_hi)  # h + c - s, exactly
        else:
            np.subtract(s, h, out=p_lo)  # bb
            np.subtract(s, p_lo, out=p_hi)
            np.subtract(h, p_hi, out=p_hi)  # h - (s - bb)
            np.subtract(c, p_lo, out=p_lo)
            p_hi += p_lo  # h + c - s, exactly
        p_hi += low
        np.add(s, p_hi, out=p)
        bound = (product_bound + abs(c)) * _ROUNDING_MARGIN
    return p


# Cephes' log1p: log(1 + x) = x - x²/2 + x³ P(x)/Q(x) on |x| < √2 - 1.
_LOG1P_P = (4.5270000862445199635215E-5, 4.9854102823193375972212E-1, 6.5787325942061044846969E0,
            2.9911919328553073277375E1, 6.0949667980987787057556E1, 5.7112963590585538103336E1,
            2.0039553499201281259648E1)
_LOG1P_Q = (1.0, 1.5062909083469192043167E1, 8.3047565967967209469434E1, 2.2176239823732856465394E2,
            3.0909872225312059774938E2, 2.1642788614495947685003E2, 6.0118660497603843919306E1)
_SQRT2_MINUS_1 = 0.41421356237309504880


def log1p(x: np.ndarray) -> np.ndarray:
    """XLA's ``log1p`` for float32 or float64 ``x`` (any shape)."""
    x = np.asarray(x)
    shape = x.shape
    x = x.reshape(-1)  # 1-d throughout: NumPy turns 0-d results into scalars
    dtype = x.dtype.type
    with np.errstate(divide="ignore", invalid="ignore"):
        is_small = np.abs(x) < dtype(_SQRT2_MINUS_1)
        # log(1 + x) only where the rational approximation is not used (XLA's float32 log is costly)
        out = np.empty_like(x)
        large = np.flatnonzero(~is_small)
        out[large] = log(x[large] + dtype(1.0))
        small = np.flatnonzero(is_small)
        if small.size:
            xs = x[small]
            x2 = xs * xs
            ratio = horner(_LOG1P_P, xs)
            ratio /= horner(_LOG1P_Q, xs)
            ratio *= xs * x2
            ratio += dtype(-0.5) * x2  # exact scaling: the FMA XLA may form here rounds the same
            ratio += xs
            out[small] = ratio
    return out.reshape(shape)


def log(x: np.ndarray) -> np.ndarray:
    """XLA's ``log``: its own approximation for float32, the C library's for float64 (NumPy's
    ``log``, except where NumPy has its own AVX-512 version: there the C library's, element by
    element)."""
    x = np.asarray(x)
    if x.dtype == np.float32:
        return log_f32(x)
    return _libm_log(x) if _NUMPY_OWN_LOG else np.log(x)


def _numpy_has_own_log() -> bool:
    """Whether NumPy may evaluate float64 ``log`` with its own AVX-512 code instead of the C library's."""
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    features = getattr(getattr(core, "_multiarray_umath", None), "__cpu_features__", {}) or {}
    return bool(features.get("AVX512F"))


_NUMPY_OWN_LOG = _numpy_has_own_log()
_math_log = np.frompyfunc(math.log, 1, 1)


def _libm_log(x: np.ndarray) -> np.ndarray:
    """The C library's float64 ``log`` (Python's ``math.log`` calls it), with NumPy's special values."""
    flat = np.asarray(x, np.float64).reshape(-1)
    out = np.log(flat)  # special values (0, negatives, inf, NaN) as NumPy gives them
    regular = np.isfinite(out) & (flat > 0)
    if regular.any():
        out[regular] = np.asarray(_math_log(flat[regular]), np.float64)
    return out.reshape(np.shape(x))


_LOG_P = (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
          -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)
_LOG_Q1 = -2.12194440e-4  # ln 2 = Q2 + Q1 - ..., split so that e * Q2 is exact
_LOG_Q2 = 0.693359375
_SQRT_HALF = 0.707106781186547524


def log_f32(x: np.ndarray) -> np.ndarray:
    """XLA CPU's float32 natural logarithm: ``x = m 2^e`` with ``m`` in [√½, √2), a degree-8
    polynomial for ``log(m)`` in ``f = m - 1`` (three interleaved Horner parts joined with
    ``f³``), then ``e ln 2`` added in two parts, every step an FMA where XLA forms one."""
    x = np.asarray(x, np.float32)
    if x.ndim == 0:
        return log_f32(x.reshape(1)).reshape(())
    f32 = np.float32
    m, e = np.frexp(x)  # m in [0.5, 1)
    m = m.astype(f32)
    below = m < f32(_SQRT_HALF)
    e = e.astype(f32) - below
    f = m - f32(1.0)
    f += np.where(below, m, f32(0.0))  # 2m - 1 below √½, m - 1 above: both exact
    f2 = f * f
    f3 = f2 * f
    p = _LOG_P
    y0 = fma32(fma32(f32(p[0]), f, float(f32(p[1]))), f, float(f32(p[2])))
    y1 = fma32(fma32(f32(p[3]), f, float(f32(p[4]))), f, float(f32(p[5])))
    y2 = fma32(fma32(f32(p[6]), f, float(f32(p[7]))), f, float(f32(p[8])))
    y = fma32(fma32(y0, f3, y1), f3, y2)
    y = fma32(y, f3, e * f32(_LOG_Q1))  # XLA contracts y * f³ + e q1
    out = fma32(f32(-0.5), f2, f)  # f - f²/2
    out += y
    out = fma32(e, f32(_LOG_Q2), out)
    # special values, as XLA: log(0) = -inf, log(x < 0) = nan, log(inf) = inf, log(nan) = nan
    with np.errstate(invalid="ignore", divide="ignore"):
        special = ~(x >= np.finfo(f32).tiny) | (x == np.inf)  # also NaN, 0, negatives, subnormals
        if special.any():
            out = np.where(special, np.log(x), out).astype(f32)
    return out


# The approximate reciprocal square root ``rsqrtss``/``rsqrtps`` of AMD Zen 3, measured over every float32 in
# [1, 4): its value depends only on the exponent's parity and the top 12 bits of the significand, so it is
# a table of 2 x 4096 numbers, each k / 2**13 with 4096 <= k <= 8191 (first [1, 2), then [2, 4); scaled
# by 2**-(e // 2) for x = m 2**e). Stored as zlib-compressed, base64-encoded steps k[i] - k[i + 1]
# (0, 1 or 2), from k[0] = 8191.
_RSQRT_TABLE_STEPS = (
    "eNrdlo2OwjAMg528/0OfdAe39TeYpGmBMaWeP6eimkREfj/4K6Iy1yI+Xpy8V6Pj35/phH3F313B+7jWaLQa/mqNYL7vFydTaDX8"
    "1RrBfO3rpe7foWb53RoWf5HdutrH4rxZH+vyfN7XCOaj/Q6Ppky0kny2BstLeYmhcZjv5vFdF97NVedRGyOf5bN9k2fCHS3O/G79"
    "L+vjGGiQfHS/aB7Fk+f7celsfwdPRlw6ez9bl563ntbPzJOTtRo+gid5BPO9n4xmOdZK8qzG4vzIfxYlZ089eBbmdPGXeDenGsF+"
    "No8vm2fB+sYk4fW9fHS+0ZvnUCTnJ3xnHlzvZ/NtPnBY+YAKtC9+ORjONUiezSO5Hw7r5+XpfoG9P1HXHhbvjeR8NJ/dL9pv+cd6"
    "cFt+Nn9a/vT9rPsH+YQQAA==")
_RSQRT_TABLE_FIRST = 8191
_rsqrt_table: np.ndarray | None = None


def _rsqrt_estimate_table() -> np.ndarray:
    global _rsqrt_table
    if _rsqrt_table is None:
        import base64
        import zlib

        steps = np.frombuffer(zlib.decompress(base64.b64decode("".join(_RSQRT_TABLE_STEPS))), np.uint8)
        k = _RSQRT_TABLE_FIRST - np.concatenate([[0], np.cumsum(steps, dtype=np.int64)])
        _rsqrt_table = np.ldexp(k.astype(np.float32), -13).astype(np.float32)
    return _rsqrt_table


def rsqrt_estimate_f32(x: np.ndarray) -> np.ndarray:
    """The processor's 12-bit approximate ``1 / sqrt(x)`` (``rsqrtps``, as on AMD Zen 3) for float32
    ``x``: ``inf`` for zeros and subnormals (signed), 0 for ``inf``, NaN for negatives and NaN."""
    x = np.asarray(x, np.float32)
    bits = x.reshape(-1).view(np.uint32)
    exponent = (bits >> np.uint32(23)) & np.uint32(0xFF)
    index = ((exponent & np.uint32(1)) ^ np.uint32(1)) << np.uint32(12) | (bits >> np.uint32(11)) & np.uint32(0xFFF)
    half = (exponent.astype(np.int32) - 127) >> 1  # floor(e / 2)
    out = np.ldexp(_rsqrt_estimate_table()[index], -half).astype(np.float32)
    flat = x.reshape(-1)
    with np.errstate(invalid="ignore"):
        out[exponent == 0] = np.copysign(np.float32(np.inf), flat[exponent == 0])  # zeros, subnormals
        out[flat == np.inf] = 0.0
        # the processor's NaNs: the default NaN for negatives, a NaN operand quieted
        out.view(np.uint32)[(flat < 0) & (exponent != 0)] = np.uint32(0xFFC00000)
        nan = np.isnan(flat)
        out.view(np.uint32)[nan] = bits[nan] | np.uint32(0x400000)
    return out.reshape(x.shape)


def rsqrt(x: np.ndarray) -> np.ndarray:
    """XLA CPU's ``rsqrt``. float32: the approximate reciprocal square root ``e`` refined by one
    Newton step, ``fma(-e/2, fma(x e, e, -1), e)``, for positive normal ``x`` (the estimate itself
    elsewhere); float64: ``1 / sqrt(x)``.

    >>> float(rsqrt(np.float32(2.0)))  # 1/sqrt(2) is 0.70710677 rounded to float32
    0.7071067690849304
    """
    x = np.asarray(x)
    if x.dtype != np.float32:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(1.0 / np.sqrt(x))
    e = rsqrt_estimate_f32(x)
    with np.errstate(invalid="ignore", over="ignore"):
        refined = fma32(e * np.float32(-0.5), fma32(x * e, e, -1.0), e)
    normal = (x >= np.finfo(np.float32).tiny) & (x < np.inf)
    return np.where(normal, refined, e).astype(np.float32)


# XLA's float32 lgamma for x >= 1/2: Lanczos' approximation (g = 7, the coefficients rounded to float32),
# log Γ(x) = (z + 1/2 - t / log t) log t + log √(2π) + log(1 + Σ cᵢ / (z + i)), z = x - 1, t = z + 7.5,
# log t = log1p(z / 7.5) + log 7.5, the product and the added constant fused.
_LGAMMA_C = (676.520386, -1259.13916, 771.323425, -176.615036, 12.5073433, -0.138571098, 9.98436917e-06,
             1.50563267e-07)


def lgamma_f32(x: np.ndarray) -> np.ndarray:
    """XLA CPU's float32 ``lgamma`` for ``x >= 0.5`` (``inf`` at ``inf``); smaller ``x`` (XLA's
    reflection through its own ``sin``) is not reproduced: NaN there.

    >>> float(lgamma_f32(np.float32(3.0)))  # log 2 = 0.69314718..., to XLA's accuracy
    0.6931474208831787
    """
    f32 = np.float32
    x = np.asarray(x, f32)
    with np.errstate(all="ignore"):
        z = x + f32(-1.0)
        acc = f32(_LGAMMA_C[0]) / (z + f32(1.0)) + f32(1.0)
        for i, c in enumerate(_LGAMMA_C[1:], start=2):
            acc = acc + f32(c) / (z + f32(i))
        t = z + f32(7.5)
        log_t = log1p(z * f32(0.13333334)) + f32(2.01490307)
        head = fma32((z + f32(0.5)) - t / log_t, log_t, float(f32(0.918938518)))
        out = np.asarray(head + log(acc), f32)
        out = np.where(x == np.inf, f32(np.inf), out)
        return np.where(x >= f32(0.5), out, f32(np.nan)).astype(f32)


# Eigen's rational approximation of erf in float32: x P(x²) / Q(x²), clamped to ±1 beyond 3.8325.
_ERF_P = (0.00022905065861350646, 0.0034082910107109506, 0.050955695062380861, 0.18520832239976145,
          1.128379143519084)
_ERF_Q = (-1.1791602954361697e-7, 0.000023547966471313185, 0.0010179625278914885, 0.014070470171167667,
          0.11098505178285362, 0.49746925110067538, 1.0)
_ERF_CLAMP = 3.832506856900711


def erf_f32(x: np.ndarray) -> np.ndarray:
    """XLA CPU's float32 ``erf`` (a fixed rational approximation with FMAs); float64 is the C
    library's (``math.erf``), which XLA also uses."""
    x = np.asarray(x, np.float32)
    x2 = x * x
    p = x * horner(_ERF_P, x2)
    q = horner(_ERF_Q, x2)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = p / q
    return np.where(np.abs(x) >= np.float32(_ERF_CLAMP), np.copysign(np.float32(1.0), x), out).astype(np.float32)


# XLA CPU's exp. float32: Cephes' expf (as in Eigen's vectorised pexp_float): n = floor(x log2(e) + ½)
# (at most 127), r = x - n ln 2 in two FMA steps, a degree-5 polynomial, 2ⁿ (1 + r + r² P(r)); results
# below the smallest normal float flush to zero. float64: XLA's own rational approximation
# 1 + 2 r P(r²) / (Q(r²) - r P(r²)) after the same reduction (the second reduction step fused).
_EXP32_P = (1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2, 1.6666665459E-1, 5.0000001201E-1)
_EXP64_P = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
_EXP64_Q = (3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1,
            2.00000000000000000009e0)
_EXP64_LO, _EXP64_HI = -708.3964185322641, 709.782712893384


def exp(x: np.ndarray) -> np.ndarray:
    """XLA CPU's ``exp`` for float32 or float64 ``x`` (any shape).

    >>> float(exp(np.array(1.0)))  # an ulp above e, as XLA gives it
    2.7182818284590455
    """
    x = np.asarray(x)
    shape = x.shape
    x = x.reshape(-1)
    out = _exp_f32(x) if x.dtype == np.float32 else _exp_f64(x)
    return out.reshape(shape)


def _exp_f32(x: np.ndarray) -> np.ndarray:
    f32 = np.float32
    xc = np.clip(x, f32(-104.0), f32(89.0))
    n = np.minimum(np.floor(fma32(xc, f32(1.44269504088896341), 0.5)), f32(127.0))
    r = fma32(n, f32(-0.693359375), xc)
    r = fma32(n, f32(2.12194440e-4), r)
    y = fma32(horner(_EXP32_P, r), r * r, r)
    y += f32(1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ldexp(y, n.astype(np.int32)).astype(f32)
        out[out < np.finfo(f32).tiny] = 0.0  # XLA flushes subnormal results
        special = np.isnan(x) | (x == np.inf)
        out[special] = x[special]
    return out


def _exp_f64(x: np.ndarray) -> np.ndarray:
    xc = np.clip(x, _EXP64_LO, _EXP64_HI)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.floor(fma64(xc, np.full_like(xc, 1.4426950408889634073599), 0.5))
        n[np.isnan(n)] = 0.0
        g = xc - n * 0.693145751953125  # exact product: the FMA XLA may form here rounds the same
        g = fma64(-n, np.full_like(g, 1.42860682030941723212e-6), g)
        g2 = g * g
        p = horner(_EXP64_P, g2) * g
        q = horner(_EXP64_Q, g2)
        y = 2.0 * (p / (q - p)) + 1.0
        out = np.ldexp(y, n.astype(np.int32))
    out[x < _EXP64_LO] = 0.0
    out[x > _EXP64_HI] = np.inf
    nan = np.isnan(x)
    out[nan] = x[nan]
    return out
