"""The fast path of ``normal`` for one threefry key and float64: the whole computation (counters,
Threefry-2x32, bits to floats, erfinv) block by block in preallocated, cache-sized buffers, with
no temporary arrays. It computes exactly what the general path (``_sampling.normal``) computes;
``tests/test_random.py`` checks that."""

from __future__ import annotations

import math

import numpy as np

from . import _erfinv, _threefry

BLOCK = 1 << 16  # measured: larger blocks pay less per-call overhead, smaller ones miss the cache

# Horner on t' = log((1-u)(1+u)) + 3.125 = -(w - 3.125): the coefficients of the polynomial in
# (w - 3.125) with alternating signs give exactly the same roundings (IEEE arithmetic is symmetric
# under negation), and save the negation pass.
_CENTRAL = tuple(c if (len(_erfinv._F64_CENTRAL) - 1 - k) % 2 == 0 else -c
                 for k, c in enumerate(_erfinv._F64_CENTRAL))
_ONE_BITS = np.array(1.0, np.float64).view(np.uint64)
_LO = np.nextafter(-1.0, 1.0)
_SCALE = 1.0 - _LO
_SQRT2 = math.sqrt(2.0)


def normal_f64(key: np.ndarray, n: int) -> np.ndarray:
    """``n`` float64 standard normal draws from one threefry key (``n < 2**32``)."""
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    k2 = k0 ^ k1 ^ _threefry._PARITY
    injections = _threefry._injections((k0, k1, k2))
    out = np.empty(n, np.float64)
    size = min(n, BLOCK)
    base = np.arange(size, dtype=np.uint32)
    x0 = np.empty(size, np.uint32)
    x1 = np.empty(size, np.uint32)
    tmp = np.empty(size, np.uint32)
    bits = np.empty(size, np.uint64)
    u = bits.view(np.float64)
    t = np.empty(size, np.float64)
    s = np.empty(size, np.float64)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        if m != size:
            base, x0, x1, tmp, t, s = base[:m], x0[:m], x1[:m], tmp[:m], t[:m], s[:m]
            bits = bits[:m]
            u = bits.view(np.float64)
        # counters (0, start + i), with the first key words added
        x0.fill(k0)
        with np.errstate(over="ignore"):
            np.add(base, np.uint32((start + int(k1)) & 0xFFFFFFFF), out=x1)
        _threefry._rounds(x0, x1, injections, tmp)
        # 64 bits (x0 << 32 | x1); their top 52 under the exponent of 1.0: ((x0 << 20) | (x1 >> 12)) | one
        np.copyto(bits, x0)
        bits <<= np.uint64(20)
        x1 >>= np.uint32(12)
        bits |= x1
        bits |= _ONE_BITS
        u -= 1.0  # uniform in [0, 1)
        u *= _SCALE
        u += _LO  # uniform in (-1, 1)
        # erfinv(u) = u * P(w), w = -log(1 - u²)
        np.subtract(1.0, u, out=t)
        np.add(1.0, u, out=s)
        t *= s
        np.log(t, out=t)
        t += 3.125
        np.multiply(t, _CENTRAL[0], out=s)
        s += _CENTRAL[1]
        for c in _CENTRAL[2:]:
            s *= t
            s += c
        if t.min() < -3.125:  # w > 6.25: the tail polynomials, for the few elements there
            tail = np.flatnonzero(t < -3.125)
            w = -(t[tail] - 3.125)
            p = np.empty_like(w)
            _erfinv._fix_tail(u[tail], w, p, 6.25, ((16.0, 3.25, _erfinv._F64_MIDDLE), (np.inf, 5.0,
                                                                                          _erfinv._F64_TAIL)))
            s[tail] = p
        s *= u
        np.multiply(s, _SQRT2, out=out[start:start + m])
    return out
