"""NumPy implementations of the random primitives, for one key or a batch of keys.

Every function takes ``key`` of shape ``(..., w)`` (``w = 2``: threefry2x32, ``w = 4``: Philox)
and returns an array of shape ``key.shape[:-1] + shape`` (broadcast with any array operands).
Leading key axes are what ``vmap`` over keys produces: each key gets exactly the numbers it would
get on its own. These functions never see tracers; the primitives in ``funcgrad.prims.random``
call them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _accel, _blocks, _fusion_math, _philox, _threefry, _xla_math
from ._erfinv import erfinv

THREEFRY_WORDS = 2
PHILOX_WORDS = 4


def impl_of(key: np.ndarray) -> Any:
    """The module implementing ``key``'s generator, read off its trailing axis."""
    return _threefry if key.shape[-1] == THREEFRY_WORDS else _philox


def bits(key: np.ndarray, bit_width: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.asarray(impl_of(key).random_bits(key, bit_width, shape))  # 0-d arrays, never scalars


def split(key: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return impl_of(key).split(key, shape)


def fold_in(key: np.ndarray, data: Any) -> np.ndarray:
    return impl_of(key).fold_in(key, np.asarray(data).astype(np.uint32))


def fma_residual(a: Any, b: Any, c: Any) -> np.ndarray:
    """``fma(a, b, c) - (a * b + c)`` in ``a``'s dtype (exactly representable: the two differ by
    at most an ulp), so ``a * b + c`` plus this is XLA's fused multiply-add, bit for bit."""
    a = np.asarray(a)
    dtype = a.dtype
    b = np.asarray(b).astype(dtype)
    c = np.asarray(c).astype(dtype)
    plain = a * b + c
    if dtype == np.float32:
        exact = _xla_math.fma32(*np.broadcast_arrays(a, b, c))
    else:
        x, y, z = np.broadcast_arrays(a, b, c)
        exact = _xla_math.fma64(x, y, z) if x.size else plain
    with np.errstate(invalid="ignore"):
        residual = np.asarray(exact - plain)
    residual[~np.isfinite(residual)] = 0.0  # inf - inf: the plain value stands
    return residual


def _unit_floats(raw: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Floats in [0, 1) from random bits: the top mantissa bits under the exponent of 1.0, minus 1."""
    width = dtype.itemsize * 8
    utype = np.dtype(f"uint{width}")
    raw >>= utype.type(width - np.finfo(dtype).nmant)
    raw |= np.array(1.0, dtype).view(utype)
    out = raw.view(dtype)
    out -= dtype.type(1.0)
    return out


def xla_correction(x: Any, plain: Any, fn: str) -> np.ndarray:
    """``xla_fn(x) - plain`` for ``plain``, NumPy's value of the function ``fn`` at ``x`` (``"exp"``, ``"log"``,
    ``"normalise"``: ``x / x.sum(-1)``, ``"dirichlet_exp"``: the ``exp`` of JAX's ``dirichlet``): exactly
    representable (the two differ by an ulp or so), so ``plain`` plus this is XLA's value, bit for bit;
    zero where it is not finite (``plain`` then stands)."""
    plain = np.asarray(plain)
    x = np.asarray(x).astype(plain.dtype)
    exact = {"exp": _xla_math.exp, "log": _xla_math.log, "normalise": normalise_last,
             "dirichlet_exp": dirichlet_exp}[fn](x)
    with np.errstate(invalid="ignore"):
        correction = np.asarray(exact - plain)
    # inf - inf, NaN, a finite XLA value where NumPy overflowed: the plain value stands
    correction[~np.isfinite(correction) & ~(np.isinf(exact) & np.isfinite(plain))] = 0.0
    return correction


def normalise_last(x: np.ndarray) -> np.ndarray:
    """``x / x.sum(-1)`` as XLA CPU computes the end of JAX's softmax (``dirichlet``): the sum in XLA's
    order, or YNNPACK's where the whole array (every key of a batch included) has 4096 elements or
    more, then a product with its reciprocal (XLA's rewrite of the division by a broadcast), subnormal
    results flushed to zero."""
    x = np.asarray(x)
    total = (_fusion_math.ynn_sum_last if x.size >= _fusion_math.YNN_MIN_ELEMENTS else _fusion_math.xla_sum_last)(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _xla_math.flush_subnormal(x * (x.dtype.type(1.0) / total)[..., None])


def dirichlet_exp(x: np.ndarray) -> np.ndarray:
    """``exp`` of the shifted log-gamma draws in JAX's ``dirichlet``: XLA's, or YNNPACK's where the whole
    array has 4096 elements or more; subnormal results flushed to zero."""
    x = np.asarray(x)
    if x.size >= _fusion_math.YNN_MIN_ELEMENTS:
        return _fusion_math.ynn_exp(x)
    return _xla_math.flush_subnormal(_xla_math.exp(x))


def uniform(key: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Standard uniform floats in [0, 1)."""
    dtype = np.dtype(dtype)
    keys = _per_key_streams(key, shape)
    if keys is not None and _accel.kernels(keys.size // THREEFRY_WORDS * math.prod(shape)) is None:
        out = np.empty((keys.shape[0], math.prod(shape)), dtype)
        for one_key, row in zip(keys, out):
            _blocks.uniform(one_key, row.shape[0], dtype, row)
        return out.reshape(key.shape[:-1] + shape)
    return _unit_floats(bits(key, dtype.itemsize * 8, shape), dtype)


def _per_key_streams(key: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The threefry keys ``(m, 2)`` of ``key`` when each key's draw runs as its own blocked stream
    (one key, or enough numbers per key; counters below 2**32), else None."""
    n = math.prod(shape)
    if key.shape[-1] != THREEFRY_WORDS or n > 0xFFFFFFFF or (key.ndim > 1 and n < _threefry.PER_KEY_STREAM):
        return None
    return key.reshape(-1, THREEFRY_WORDS)


def uniform_between(key: np.ndarray, shape: tuple[int, ...], dtype: Any, lo: Any, hi: Any) -> np.ndarray:
    """Uniform floats in [lo, hi) computed as JAX does: ``max(lo, u * (hi - lo) + lo)``, the
    multiply–add fused (XLA contracts it into one FMA)."""
    dtype = np.dtype(dtype)
    lo = np.asarray(lo, dtype)
    hi = np.asarray(hi, dtype)
    u = uniform(key, shape, dtype)
    span = np.asarray(hi - lo, dtype)
    if dtype == np.float32:
        out = _xla_math.fma32(u, span, lo)
    else:
        a, b, c = np.broadcast_arrays(u, span, lo)
        out = _xla_math.fma64(a, b, c) if u.size else u * span + lo
    return np.maximum(lo, out)


def standard(key: np.ndarray, shape: tuple[int, ...], dtype: Any, dist: str | tuple) -> np.ndarray:
    """Draws with no parameters, computed with JAX's formulas and XLA's ``log``/``log1p``:
    ``exponential`` ``-log1p(-u)``, ``gumbel`` ``-log(-log(u))`` (u in [tiny, 1)), ``laplace``
    ``sign(u) log1p(-|u|)`` (u in (-1, 1)), ``logistic`` ``log(u) - log1p(-u)`` (u in [tiny, 1)),
    ``gumbel_high`` ``-log(-log1p(-x))`` (x from two uniforms, JAX's ``mode="high"``)."""
    return np.asarray(_standard(key, shape, np.dtype(dtype), dist))  # 0-d arrays, never scalars


def _standard(key: np.ndarray, shape: tuple[int, ...], dtype: np.dtype, dist: str | tuple) -> np.ndarray:
    f = dtype.type
    info = np.finfo(dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(dist, tuple) and dist[0] == "generalized_normal":
            return generalized_normal(key, shape, dtype, dist[1])
        if isinstance(dist, tuple) and dist[0] == "ball":
            return ball(key, shape, dtype, dist[1])
        if dist == "exponential":
            return -_xla_math.log1p(-uniform(key, shape, dtype))
        if dist == "gumbel":
            u = uniform_between(key, shape, dtype, info.tiny, 1.0)
            return -_xla_math.log(-_xla_math.log(u))
        if dist == "gumbel_high":  # JAX's mode="high": a second uniform fills the low bits of u below 1/2
            pair = uniform(key, (2,) + shape, dtype)
            batch = key.ndim - 1  # vmapped keys lead the draw's axes
            high, low = np.take(pair, 0, axis=batch), np.take(pair, 1, axis=batch)
            x = np.where(high >= 0.5, high, high + f(2.0 ** -info.nmant) * low + info.tiny)
            return -_xla_math.log(-_xla_math.log1p(-x))
        if dist == "gumbel_highest":
            return _gumbel_highest_f32(key, shape)
        if dist == "laplace":
            u = uniform_between(key, shape, dtype, f(-1.0) + info.epsneg, 1.0)
            return np.sign(u) * _xla_math.log1p(-np.abs(u))
        if dist == "logistic":
            u = uniform_between(key, shape, dtype, info.tiny, 1.0)
            return _xla_math.log(u) - _xla_math.log1p(-u)
        if dist == "erfinv":  # normal(key) before its final product by √2 (for draws where XLA refolds it)
            return _blocks.normal_of_bits(bits(key, dtype.itemsize * 8, shape), dtype, scaled=False)
        if dist == "maxwell":
            return maxwell(key, shape, dtype)
    raise ValueError(f"unknown standard distribution {dist!r}")


def _clz32(x: np.ndarray) -> np.ndarray:
    """Leading zero bits of uint32 numbers (32 for 0); frexp's exponent is the bit length, exactly."""
    return 32 - np.frexp(x.astype(np.float64))[1].astype(np.int64)


def fixed_point_to_f32(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """The 64-bit fixed-point fraction ``(top · 2**32 + bottom) / 2**64`` (two words held in int64)
    rounded down to float32 from its leading bits, as JAX's ``mode="highest"`` Gumbel does it,
    exponent mask included.

    >>> fixed_point_to_f32(np.array([2 ** 31]), np.array([0])).tolist()
    [0.5]
    """
    word = 0xFFFFFFFF
    top_clz, bottom_clz = _clz32(top), _clz32(bottom)
    # XLA's shifts by 32 or more give 0: done in 64 bits and masked to 32
    mantissa = ((top << top_clz) & word) | np.where(
        top_clz == 32, (bottom << bottom_clz) & word, bottom >> (32 - top_clz))
    mantissa = (mantissa >> 8) & ((1 << 23) - 1)
    exponent = (((126 - np.where(top_clz == 32, 32 + bottom_clz, top_clz)) & word) << 23) & word
    exponent &= (1 << 30) - (1 << 22)
    return np.asarray((exponent | mantissa).astype(np.uint32)).view(np.float32)


def _gumbel_highest_f32(key: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """JAX's float32 ``mode="highest"`` Gumbel: 64 random bits read as a fixed-point u in (0, 1),
    ``1 - u`` taken in fixed point when u < 1/2, both rounded down to float32 by their leading bits;
    ``-log(-log1p(-x))`` below 1/2, ``-log(-log(x))`` above."""
    raw = bits(key, 32, (2,) + shape).astype(np.int64)
    batch = key.ndim - 1
    hi, lo = np.take(raw, 0, axis=batch), np.take(raw, 1, axis=batch)
    word = 0xFFFFFFFF
    neg_lo = word - lo  # bitwise not
    neg_hi = (word - hi + (neg_lo == word)) & word  # the carry of ~bits + 1 into the high word
    neg_lo = (neg_lo + 1) & word
    flip = hi < 2 ** 31
    x = fixed_point_to_f32(np.where(flip, hi, neg_hi), np.where(flip, lo, neg_lo))
    return np.where(flip, -_xla_math.log(-_xla_math.log1p(-x)), -_xla_math.log(-_xla_math.log(x)))


def generalized_normal(key: np.ndarray, shape: tuple[int, ...], dtype: np.dtype, p: float) -> np.ndarray:
    """``r · g ** (1/p)`` for ``g`` a Gamma(1/p) draw and ``r`` a random sign (JAX's
    ``generalized_normal``, the C library's ``pow`` as XLA calls it)."""
    f = dtype.type
    halves = split(key, (2,))
    inverse = f(1.0 / p)
    g = gamma(halves[..., 0, :], np.full(shape, inverse, dtype), shape, False)
    sign = np.where(uniform(halves[..., 1, :], shape, np.float64) < 0.5, f(1.0), f(-1.0))  # rademacher
    return sign * _fusion_math.c_pow(g, inverse)


def ball(key: np.ndarray, shape: tuple[int, ...], dtype: np.dtype, p: float) -> np.ndarray:
    """Points in the unit ``p``-ball, ``shape[-1]`` coordinates each, as JAX's ``ball`` computes them:
    ``g · (Σ|g|**p + e) ** -(1/p)`` (XLA's rewrite of the division by the power, kept a division for one
    coordinate) for generalized normal ``g`` and exponential ``e``, the sum in XLA's order, or
    YNNPACK's where the whole array (every key of a batch included) has 4096 elements or more (and
    YNNPACK's ``log1p`` in ``e`` from 4096 points on); the C library's ``pow``."""
    f = dtype.type
    halves = split(key, (2,))
    g = generalized_normal(halves[..., 0, :], shape, dtype, p)
    u = uniform(halves[..., 1, :], shape[:-1], dtype)
    # the exponential: -log1p(-u) with XLA's log1p, or YNNPACK's where 4096 points or more pull the
    # operations after the sum into the YNNPACK fusion too
    if shape[-1] > 1 and u.size >= _fusion_math.YNN_MIN_ELEMENTS:
        e = -_fusion_math.ynn_log1p(-u)
    else:
        e = -_xla_math.log1p(-u)
    powers = _xla_math.flush_subnormal(_fusion_math.c_pow(np.abs(g), f(p)))
    if shape[-1] == 1:  # no reduction left: XLA keeps the division
        with np.errstate(divide="ignore", invalid="ignore"):
            return _xla_math.flush_subnormal(g / _fusion_math.c_pow(powers + e[..., None], f(1.0 / p)))
    sum_last = _fusion_math.ynn_sum_last if g.size >= _fusion_math.YNN_MIN_ELEMENTS else _fusion_math.xla_sum_last
    scale = _fusion_math.c_pow(sum_last(powers) + e, -f(1.0 / p))
    return _xla_math.flush_subnormal(g * scale[..., None])


# XLA CPU sums a (..., 3) reduction in its own loop below this many elements, in YNNPACK's kernel above
_MAXWELL_FUSED_LIMIT = 4096


def maxwell(key: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The norm of a standard normal 3-vector (a batch of keys counts as one draw of all their numbers), with
    the sum of squares in the order XLA CPU uses for JAX's ``maxwell``: for draws of fewer than
    :data:`_MAXWELL_FUSED_LIMIT` normal numbers, one loop fused with the normal draw that accumulates
    with FMAs (float64: ``x0², + x1², + x2²``; float32: ``x1², + x0², + x2²``); for larger draws
    YNNPACK's ``(x0² + x2²) + x1²``. Measured against JAX 0.10.2 on an AMD Zen 3 (AVX2) CPU."""
    z = normal(key, shape + (3,), dtype)
    x0, x1, x2 = (np.ascontiguousarray(z[..., i]) for i in range(3))
    if z.size >= _MAXWELL_FUSED_LIMIT:
        total = x0 * x0
        total += x2 * x2
        total += x1 * x1
    elif dtype == np.float32:
        total = _xla_math.fma32(x2, x2, _xla_math.fma32(x0, x0, x1 * x1))
    else:
        total = _xla_math.fma64(x2, x2, _xla_math.fma64(x1, x1, x0 * x0)) if z.size else x0 * x0
    return np.sqrt(total).reshape(z.shape[:-1])  # ascontiguousarray made 0-d parts 1-d


def normal(key: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Standard normal floats: ``sqrt(2) * erfinv(u)`` for ``u`` uniform in (-1, 1); large threefry
    draws in Numba when it is installed (the same bits, see ``_accel``), else in NumPy block by
    block (``_blocks``: the same bits as whole-array passes of ``erfinv``)."""
    dtype = np.dtype(dtype)
    if key.shape[-1] == PHILOX_WORDS:
        return _philox.normal(key, shape, dtype)
    n = math.prod(shape)
    lead = key.shape[:-1]
    if n <= 0xFFFFFFFF and _accel.kernels(n * math.prod(lead)) is not None:
        out = np.empty((math.prod(lead), n), dtype)
        if _accel.run("normal64" if dtype == np.float64 else "normal32", key.reshape(-1, THREEFRY_WORDS), out):
            return out.reshape(lead + shape)
    keys = _per_key_streams(key, shape)
    if keys is not None:
        out = np.empty((keys.shape[0], n), dtype)
        for one_key, row in zip(keys, out):
            _blocks.normal(one_key, n, dtype, row)
        return out.reshape(lead + shape)
    return _blocks.normal_of_bits(bits(key, dtype.itemsize * 8, shape), dtype)


_erf = np.frompyfunc(math.erf, 1, 1)


def truncated_normal(key: np.ndarray, lower: Any, upper: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Normal floats conditioned on [lower, upper], by inverting the CDF of a uniform draw."""
    dtype = np.dtype(dtype)
    lower = np.asarray(lower, dtype)
    upper = np.asarray(upper, dtype)
    root2 = dtype.type(math.sqrt(2.0))
    inv_root2 = dtype.type(1.0) / root2  # XLA turns the division by the constant √2 into this product
    if dtype == np.float32:
        a, b = _xla_math.erf_f32(lower * inv_root2), _xla_math.erf_f32(upper * inv_root2)
    else:
        a = np.asarray(_erf(lower * inv_root2), np.float64)
        b = np.asarray(_erf(upper * inv_root2), np.float64)
    u = uniform_between(key, shape, dtype, a, b)
    with np.errstate(invalid="ignore"):
        out = root2 * erfinv(u)
    return np.clip(out, np.nextafter(lower, dtype.type(np.inf)), np.nextafter(upper, dtype.type(-np.inf)))


def randint(key: np.ndarray, minval: Any, maxval: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Integers in [minval, maxval): two words of random bits reduced modulo the span, as JAX does
    (the high word scaled by 2**width mod span), which keeps the modulo bias negligible."""
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    width = dtype.itemsize * 8
    utype = np.dtype(f"uint{width}")
    # Bounds out of the dtype's range are clipped to it (maxval = max + 1 means "up to max").
    above = np.asarray(maxval) > info.max
    lo = np.clip(np.asarray(minval), info.min, info.max).astype(dtype)
    hi = np.clip(np.asarray(maxval), info.min, info.max).astype(dtype)
    keys = split(key, (2,))
    high = bits(keys[..., 0, :], width, shape)
    low = bits(keys[..., 1, :], width, shape)
    with np.errstate(over="ignore"):
        span = (hi.astype(utype) - lo.astype(utype)).astype(utype)
        span = np.where(hi <= lo, utype.type(1), span)
        span = np.where(above & (hi > lo), span + utype.type(1), span)
        multiplier = utype.type(1 << (width // 2)) % span
        multiplier = (multiplier * multiplier) % span
        offset = (high % span) * multiplier + (low % span)
        offset %= span
        return (lo.astype(utype) + offset).astype(dtype)


def gamma(key: np.ndarray, alpha: Any, shape: tuple[int, ...], log_space: bool | str) -> np.ndarray:
    """Gamma(alpha, 1) draws (their logarithms with ``log_space``; ``log_space="dirichlet"``: the
    logarithms as JAX's ``dirichlet`` computes them): Marsaglia and Tsang's squeeze-and-reject
    method, vectorised over every element; each element draws from its own key (one per element of
    ``shape``, split from ``key``), so a batch of keys or of ``alpha`` gives each example exactly its
    own numbers."""
    alpha = np.asarray(alpha)
    dtype = alpha.dtype
    keys = split(key, shape)  # (..., *shape, w)
    out_shape = np.broadcast_shapes(keys.shape[:-1], alpha.shape)
    keys = np.broadcast_to(keys, out_shape + keys.shape[-1:]).reshape(-1, keys.shape[-1])
    a = np.broadcast_to(alpha, out_shape).reshape(-1)
    out = _marsaglia_tsang(keys, a, dtype, log_space)
    return out.reshape(out_shape)


def _split2(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    both = split(keys, (2,))
    return both[:, 0], both[:, 1]


def _fused(a: Any, b: Any, c: Any) -> np.ndarray:
    """``a * b + c`` rounded once (an FMA XLA forms), broadcast, in ``a``'s dtype."""
    dtype = np.asarray(a).dtype
    a, b, c = (np.ascontiguousarray(v) for v in np.broadcast_arrays(*(np.asarray(v, dtype) for v in (a, b, c))))
    if dtype == np.float32:
        return _xla_math.fma32(a, b, c)
    return _xla_math.fma64(a, b, c) if a.size else a * b + c


def _marsaglia_tsang(keys: np.ndarray, alpha: np.ndarray, dtype: np.dtype, log_space: bool | str) -> np.ndarray:
    f = dtype.type
    keys, boost_keys = _split2(keys)
    small = alpha < f(1.0)
    shifted = np.where(small, alpha + f(1.0), alpha)
    d = shifted - f(1.0 / 3.0)
    # As XLA computes them: (1/3)/sqrt(d) as (1/3)·rsqrt(d) (XLA's rsqrt: 1/sqrt for float64 without
    # AVX-512, the processor's approximate one refined by a Newton step for float32), 1 + x c and
    # 1 - 0.0331 x⁴ fused, XLA's log and log1p
    c = f(1.0 / 3.0) * _xla_math.rsqrt(d)
    n = alpha.shape[0]
    volume = np.ones(n, dtype)
    todo = np.arange(n)
    with np.errstate(all="ignore"):
        while todo.size:
            three = split(keys[todo], (3,))
            keys[todo] = three[:, 0]
            x_keys, u_keys = three[:, 1], three[:, 2]
            x = np.zeros(todo.size, dtype)
            v = np.full(todo.size, f(-1.0))
            redo = np.arange(todo.size)
            while redo.size:  # a normal draw with 1 + c x > 0
                x_keys[redo], sub = _split2(x_keys[redo])
                x[redo] = normal(sub, (), dtype)
                v[redo] = _fused(x[redo], c[todo[redo]], f(1.0))
                redo = redo[v[redo] <= f(0.0)]
            xx = x * x
            vvv = v * v * v
            u = uniform(u_keys, (), dtype)
            dd = d[todo]
            # XLA compiles these two logs as single operations on all n elements (see _fusion_math)
            reject = (u >= _fused(f(-0.0331), xx * xx, f(1.0))) & (
                _fusion_math.xla_single_op_log_f32(u, todo, n) >= xx * f(0.5)
                + dd * (f(1.0) - vvv + _fusion_math.xla_single_op_log_f32(vvv, todo, n)))
            volume[todo] = vvv
            todo = todo[reject]
        if log_space:
            log_u = -_standard(boost_keys, (), dtype, "exponential")  # log1p(-u): the log of a uniform in (0, 1]
            log_boost = np.where(~small | (log_u == 0), f(0.0), log_u * (f(1.0) / alpha))
            if log_space != "dirichlet":
                return _xla_math.log(d) + _xla_math.log(volume) + log_boost
            # in JAX's dirichlet program these logs are YNNPACK's (4096 draws or more: fused with the
            # reduction that follows), else log(volume) is a single operation (see _fusion_math)
            if n >= _fusion_math.YNN_MIN_ELEMENTS:
                return (_fusion_math.ynn_log(d) + _fusion_math.ynn_log(volume)) + log_boost
            return _xla_math.log(d) + _fusion_math.xla_single_op_log_f32(volume, np.arange(n), n) + log_boost
        u = f(1.0) - uniform(boost_keys, (), dtype)
        # XLA's pow is the C library's; XLA's CPU code flushes subnormal results to zero
        boost = np.where(small, _xla_math.flush_subnormal(u ** (f(1.0) / alpha)), f(1.0))
        return _xla_math.flush_subnormal(d * volume * boost)


# --- the implicit reparameterisation gradient of gamma draws ------------------------------------

def _digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x) for x > 0: recurrence up to x ≥ 10, then the asymptotic series."""
    x = np.array(x, np.float64)
    acc = np.zeros_like(x)
    small = x < 10.0
    while small.any():
        acc[small] -= 1.0 / x[small]
        x[small] += 1.0
        small = x < 10.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132)))))
    return acc + np.log(x) - 0.5 / x - series


_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def gamma_sample_derivative(alpha: Any, z: Any) -> np.ndarray:
    """dz/dα of a Gamma(α, 1) draw ``z`` held at a fixed quantile (implicit reparameterisation,
    Figurnov et al. 2018): ``-(∂P(α, z)/∂α) / p(z; α)``, with P the regularised lower incomplete
    gamma function. ∂P/∂α comes from P's series ``Σₙ zᵅ⁺ⁿ e⁻ᶻ / Γ(α+n+1)``, term by term."""
    alpha, z = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(z, np.float64))
    out_dtype = np.result_type(np.asarray(alpha).dtype, np.asarray(z).dtype)
    a = alpha.reshape(-1).copy()
    x = np.maximum(z.reshape(-1), np.finfo(np.float64).tiny)
    log_x = np.log(x)
    lg = np.asarray(_lgamma(a + 1.0), np.float64) if a.size else np.zeros(0)
    term = np.exp(a * log_x - x - lg)  # T₀ = zᵅ e⁻ᶻ / Γ(α+1)
    psi = _digamma(a + 1.0) if a.size else np.zeros(0)
    dp = term * (log_x - psi)
    n = 0
    active = np.ones(a.shape, bool)
    while active.any() and n < 100_000:
        n += 1
        term = term * x / (a + n)
        psi = psi + 1.0 / (a + n)
        contribution = term * (log_x - psi)
        dp += contribution
        active = (n < x + 10) | (np.abs(contribution) > 1e-17 * np.abs(dp))
    log_density = (a - 1.0) * log_x - x - (lg - np.log(a))  # log Γ(α) = log Γ(α+1) - log α
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = -dp / np.exp(log_density)
    return out.reshape(alpha.shape).astype(out_dtype)


# --- Poisson ---------------------------------------------------------------------------------------

def poisson(key: np.ndarray, lam: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Poisson(lam) counts: Knuth's product of uniforms for ``lam < 10`` and Hörmann's transformed
    rejection with squeeze (PTRS, 1993) otherwise. Each iteration draws a whole array from the next
    key of one chain (as JAX does), so a batch of keys or of rates gives each example its own
    numbers."""
    lam = np.asarray(lam, np.float32)  # JAX computes Poisson draws in float32 whatever the rate's dtype
    dtype = np.dtype(dtype)
    lead = key.shape[:-1]
    full = np.broadcast_shapes(lead + shape, lam.shape)
    lam = np.broadcast_to(lam, full)
    small = lam < 10
    knuth = _poisson_knuth(key, np.where(small, lam, 0.0), shape, full)
    rejection = _poisson_rejection(key, np.where(small, 1e5, lam), shape, full)
    return np.where(small, knuth, rejection).astype(dtype)


def _chain_split(key: np.ndarray, parts: int) -> tuple[np.ndarray, ...]:
    keys = split(key, (parts,))
    return tuple(keys[..., i, :] for i in range(parts))


def _poisson_knuth(key: np.ndarray, lam: np.ndarray, shape: tuple[int, ...], full: tuple[int, ...]) -> np.ndarray:
    k = np.zeros(full, np.int64)
    log_prod = np.zeros(full, np.float32)
    with np.errstate(divide="ignore"):
        while (log_prod > -lam).any():
            key, sub = _chain_split(key, 2)
            k = np.where(log_prod > -lam, k + 1, k)
            log_prod = log_prod + _xla_math.log(np.broadcast_to(uniform(sub, shape, np.float32), full))
    return k - 1


def _poisson_rejection(key: np.ndarray, lam: np.ndarray, shape: tuple[int, ...], full: tuple[int, ...]) -> (
        np.ndarray):
    dtype = lam.dtype if lam.dtype.kind == "f" else np.dtype(np.float64)
    lam = lam.astype(dtype)
    f = dtype.type
    log_lam = _xla_math.log(lam)  # XLA's log and lgamma, and the FMA it forms in t: JAX's counts
    b = f(0.931) + f(2.53) * np.sqrt(lam)
    a = f(-0.059) + f(0.02483) * b
    inv_alpha = f(1.1239) + f(1.1328) / (b - f(3.4))
    v_r = f(0.9277) - f(3.6224) / (b - f(2))
    k_out = np.full(full, -1.0, dtype)
    accepted = np.zeros(full, bool)
    # Leading axes (a vmap batch) are separate draws: each stops when all of its own elements are
    # accepted, as it would on its own (until then a later acceptance replaces an earlier one).
    event_axes = tuple(range(len(full) - len(shape), len(full)))
    with np.errstate(all="ignore"):
        while not accepted.all():
            running = ~np.all(accepted, axis=event_axes, keepdims=True)
            key, k0, k1 = _chain_split(key, 3)
            u = np.broadcast_to(uniform(k0, shape, dtype), full) - f(0.5)
            v = np.broadcast_to(uniform(k1, shape, dtype), full)
            u_shifted = f(0.5) - np.abs(u)
            k = np.floor((f(2) * a / u_shifted + b) * u + lam + f(0.43))
            s = _xla_math.log(v * inv_alpha / (a / (u_shifted * u_shifted) + b))
            kp1 = np.where(k < 0, f(1), k + f(1))  # k < 0 is rejected below; keep lgamma off its poles
            if dtype == np.float32:
                t = _xla_math.fma32(*np.broadcast_arrays(k, log_lam, -lam)) - _xla_math.lgamma_f32(kp1)
            else:
                t = -lam + k * log_lam - np.asarray(_lgamma(kp1), np.float64).astype(dtype).reshape(k.shape)
            accept1 = (u_shifted >= f(0.07)) & (v <= v_r)
            reject = (k < 0) | ((u_shifted < f(0.013)) & (v > u_shifted))
            accept = accept1 | (~reject & (s <= t))
            accept &= running
            k_out = np.where(accept, k, k_out)
            accepted |= accept
    return k_out


# --- binomial --------------------------------------------------------------------------------------

_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k: np.ndarray) -> np.ndarray:
    """log k! - (Stirling's approximation of it): tabulated for k <= 9, a series above."""
    f = k.dtype.type
    table = np.asarray(_STIRLING_TAIL, k.dtype)
    kc = np.clip(k, f(0.0), f(9.0))
    kp1sq = (kc + f(1)) * (kc + f(1))
    approx = (f(1.0 / 12) - (f(1.0 / 360) - f(1.0 / 1260) / kp1sq) / kp1sq) / (kc + f(1))
    index = np.nan_to_num(np.floor(kc), nan=0.0).astype(np.int64)  # NaN (an infinite count) picks any entry
    return np.where(k <= f(9), table[index], approx)


def binomial(key: np.ndarray, count: Any, prob: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Binomial(count, prob) draws as floats of ``dtype``, by JAX's method (that of TensorFlow):
    for ``count * q <= 10`` (``q = min(p, 1 - p)``) count geometric waiting times until they pass
    ``count``; otherwise Kachitvichyanukul and Schmeiser's BTRS transformed rejection. Each
    iteration draws whole arrays from the next key of one chain, so a batch of keys (vmap) gives
    each example its own numbers; invalid parameters give NaN, an infinite count infinity."""
    prob = np.asarray(prob)
    fdt = prob.dtype if prob.dtype.kind == "f" else np.dtype(np.float64)
    f = fdt.type
    lead = key.shape[:-1]
    full = np.broadcast_shapes(lead + shape, np.shape(count), prob.shape)
    count = np.broadcast_to(np.asarray(count, fdt), full)
    prob = np.broadcast_to(prob.astype(fdt), full)
    with np.errstate(all="ignore"):
        below_half = prob < f(0.5)
        q = np.where(below_half, prob, f(1.0) - prob)
        count_bad = np.isnan(count) | (count < f(0))
        count_inf = np.isinf(count)
        q_nan = np.isnan(q)
        q_neg = q < f(0)
        q = np.where(q_nan | q_neg, f(0.01), q)
        inversion = count_bad | (count * q <= f(10.0))
        count = np.floor(count)
        samples = np.where(
            inversion,
            _binomial_inversion(key, np.where(inversion, count, f(0)), q, shape, full),
            _binomial_btrs(key, np.where(inversion, f(1e4), count), np.where(inversion, f(0.5), q), shape, full))
        invalid = q_neg | q_nan | count_bad
        samples = np.where(invalid, f(np.nan), samples)
        samples = np.where(count_inf & ~invalid, f(np.inf), samples)
        samples = np.where(below_half | count_bad | q_nan | count_inf, samples, count - samples)
    return samples.astype(dtype)


def _running(done: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which elements still iterate: a whole draw (the trailing ``shape`` axes) runs until all
    of its elements are done, as one key's draw would on its own."""
    event_axes = tuple(range(done.ndim - len(shape), done.ndim))
    return ~np.all(done, axis=event_axes, keepdims=True)


def _binomial_inversion(key: np.ndarray, count: np.ndarray, prob: np.ndarray, shape: tuple[int, ...],
                        full: tuple[int, ...]) -> np.ndarray:
    f = prob.dtype.type
    log_q = _xla_math.log1p(-prob)
    num_geom = np.zeros(full, prob.dtype)
    geom_sum = np.zeros(full, prob.dtype)
    while True:
        running = _running(~(geom_sum <= count), shape)  # a NaN count is done at once, as in JAX
        if not running.any():
            break
        sub, key = _chain_split(key, 2)
        u = np.broadcast_to(uniform(sub, shape, prob.dtype), full)
        step = running & (geom_sum <= count)
        num_geom = np.where(running & step, num_geom + f(1), num_geom)
        geom = np.ceil(_xla_math.log(u) / log_q)
        geom_sum = np.where(running, geom_sum + geom, geom_sum)
    return num_geom - f(1)


def _binomial_btrs(key: np.ndarray, count: np.ndarray, prob: np.ndarray, shape: tuple[int, ...],
                   full: tuple[int, ...]) -> np.ndarray:
    f = prob.dtype.type
    log = _xla_math.log
    stddev = np.sqrt(count * prob * (f(1) - prob))
    b = f(1.15) + f(2.53) * stddev
    a = f(-0.0873) + f(0.0248) * b + f(0.01) * prob
    c = count * prob + f(0.5)
    v_r = f(0.92) - f(4.2) / b
    r = prob / (f(1) - prob)
    alpha = (f(2.83) + f(5.1) / b) * stddev
    m = np.floor((count + f(1)) * prob)
    k_out = np.full(full, f(-1))
    accepted = np.zeros(full, bool)
    while True:
        running = _running(accepted, shape)
        if not running.any():
            break
        key, k0, k1 = _chain_split(key, 3)
        u = np.broadcast_to(uniform(k0, shape, prob.dtype), full) - f(0.5)
        v = np.broadcast_to(uniform(k1, shape, prob.dtype), full)
        us = f(0.5) - np.abs(u)
        accept1 = (us >= f(0.07)) & (v <= v_r)
        k = np.floor((f(2) * a / us + b) * u + c)
        reject = (k < 0) | (k > count)
        v = log(v * alpha / (a / (us * us) + b))
        bound = ((m + f(0.5)) * log((m + f(1)) / (r * (count - m + f(1))))
                 + (count + f(1)) * log((count - m + f(1)) / (count - k + f(1)))
                 + (k + f(0.5)) * log(r * (count - k + f(1)) / (k + f(1)))
                 + _stirling_tail(m) + _stirling_tail(count - m) - _stirling_tail(k) - _stirling_tail(count - k))
        accept = (accept1 | (~reject & (v <= bound))) & running
        k_out = np.where(accept, k, k_out)
        accepted |= accept
    return k_out
