"""Standard normal draws of threefry keys in pure NumPy, block by block (issue 15 §3).

The same numbers as the unblocked reference (``normal_from_bits`` in tests/random_reference.py: ``√2 erfinv(u)``
with XLA's ``log1p`` and polynomials, JAX's numbers), in far fewer and cheaper NumPy passes:

* counters are processed in blocks of :data:`_threefry.BLOCK`, so every pass runs on
  cache-resident data, in buffers allocated once per draw (``out=`` everywhere);
* the uniform ``u`` in (-1, 1) is ``(f - 3) + 2**-(p+1)`` for the float ``f`` in [2, 4) whose
  significand is the top ``p`` random bits: exactly JAX's ``(f/2 - 1) * 2 + lo`` (its scale
  ``1 - lo`` rounds to 2);
* XLA's ``log1p(-u²)`` takes its rational branch only on the elements that need it (gathered,
  about 64 %), ``log(1 - u²)`` on the others; the signs are folded so that the positive
  ``w = -log1p(-u²)`` comes out directly (negations are exact);
* every fused multiply–add of XLA's polynomials (erfinv's, log1p's rational, float32 ``log``) is
  one complex multiplication (``_complex_fma``) instead of 15–20 emulation passes; where that is
  not exact on this machine the emulation (``_xla_math``) is used instead;
* the tail polynomials of erfinv (``|u|`` near 1, about 0.3 % of the draws) run once per draw on
  the gathered tail elements, not once per block;
* float32 draws (scaled, as ``normal`` makes them) depend only on the top 23 bits of their word, so
  once the process has drawn ``2**25`` of them on this path (or one draw that large), all ``2**23``
  are computed once into a 32 MiB table and later draws are threefry's words plus one gather
  (``_normal_table``: the policy, ``FUNCGRAD_RANDOM_TABLE=0`` to disable it, ``release()`` to free it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _complex_fma, _erfinv, _normal_table, _threefry, _xla_math

__all__ = ["uniform", "normal", "normal_of_bits", "direct_normal_of_bits"]

_U32 = np.uint32
# float32 log: x = m' 2**k with m' in [√½, √2), from the bits (musl's logf reduction; the same split as
# XLA's frexp-then-compare-with-√½): adding 1.0 - √½ (as bits) carries into the exponent exactly when m >= √½
_LOG_OFFSET = np.array(0x3F800000 - 0x3F3504F3, _U32)  # bits of 1.0 minus bits of f32(√½)
_SQRT_HALF_BITS = np.array(0x3F3504F3, _U32)
_MANTISSA_32 = np.array(0x007FFFFF, _U32)
_FLOAT_MAGIC = np.array(0x4B000000, _U32)  # 2**23 as bits: OR-ing a small integer in gives 2**23 + k
_EXPONENT_SHIFT = np.array(23, _U32)
_TABLE_SHIFT = np.array(_normal_table.SHIFT, _U32)


class _Stage:
    """The float part of the pipeline for one dtype: buffers for blocks of up to ``block`` draws."""

    def __init__(self, dtype: np.dtype, block: int, scaled: bool = True) -> None:
        self.dtype = dtype
        self.scaled = scaled
        self.f32 = dtype == np.float32
        f = self.f = dtype.type
        width = dtype.itemsize * 8
        utype = np.dtype(f"uint{width}")
        mantissa = np.finfo(dtype).nmant
        self.drop = np.array(width - mantissa, utype)  # bits >> drop: the top `mantissa` bits
        self.two = np.array(2.0, dtype).view(utype)  # the exponent of 2.0: floats in [2, 4)
        self.three = np.array(3.0, dtype)
        self.half_ulp = np.array(2.0 ** -(mantissa + 1), dtype)  # lo = -1 + half_ulp
        self.small = np.array(_xla_math._SQRT2_MINUS_1, dtype)
        self.one = np.array(1.0, dtype)
        self.half = np.array(0.5, dtype)
        self.root2 = np.array(math.sqrt(2.0), dtype)
        self.shift = np.array(2.5 if self.f32 else 3.125, dtype)  # erfinv's central polynomial is in w - shift
        self.central = _erfinv._F32_CENTRAL if self.f32 else _erfinv._F64_CENTRAL
        self.tail_start = np.array(5.0 if self.f32 else 6.25, dtype)
        self.fused = _complex_fma.available(dtype)
        self.raw = np.empty(block, utype)
        self.u, self.s, self.w, self.t, self.x2, self.gathered, self.ratio = (np.empty(block, dtype) for _ in range(7))
        if self.fused:
            cdtype = _complex_fma.complex_of(dtype)
            self.arg = _complex_fma.argument_buffer(block, dtype)  # x - i, x written into .real
            self.work = np.empty(block, cdtype)
            self.pair = np.empty((2, block), cdtype)  # log1p's P and Q, side by side
            p, q = _xla_math._LOG1P_P, _xla_math._LOG1P_Q
            self.pq_first = np.array([[complex(f(p[0]), f(p[1]))], [complex(f(q[0]), f(q[1]))]], cdtype)
            self.pq_rest = [np.array([[f(p[i])], [f(q[i])]], dtype) for i in range(2, len(p))]
        self.tails: list = []  # (flat indices, w, u) of the elements in erfinv's tail branches
        self.log_buffers: _LogBuffers | None = None

    def run(self, raw: np.ndarray, out: np.ndarray, offset: int) -> None:
        """``out`` = √2 erfinv(u) for the uniform ``u`` of the bits ``raw`` (same length; overwritten).
        Elements of erfinv's tail branches are only recorded (flat indices from ``offset``) for
        :meth:`finish`."""
        u, s = self.uniform(raw)
        w = self.w[:raw.shape[0]]
        tail = self.minus_log1p_of_minus(s, w)
        self.erfinv_times_u(w, u, out, offset, tail)

    def uniform(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``u`` in (-1, 1) from the bits ``raw`` (overwritten), and ``s = u²``."""
        m = raw.shape[0]
        np.right_shift(raw, self.drop, raw)
        np.bitwise_or(raw, self.two, raw)
        u, s = self.u[:m], self.s[:m]
        np.subtract(raw.view(self.dtype), self.three, u)
        np.add(u, self.half_ulp, u)
        np.multiply(u, u, s)  # log1p's argument is -s, exactly
        return u, s

    def erfinv_times_u(self, w: np.ndarray, u: np.ndarray, out: np.ndarray, offset: int, tail: np.ndarray) -> None:
        """``out = √2 p(w) u`` with erfinv's central polynomial ``p``; the elements ``tail`` (of its
        tail polynomials) are recorded for :meth:`finish`."""
        m = w.shape[0]
        if self.fused:
            argument = self.arg[:m]
            np.subtract(w, self.shift, argument.real)
            p = _complex_fma.horner(self.central, argument, self.work[:m])
        else:
            p = _xla_math.horner(self.central, w - self.shift)
        np.multiply(p, u, out)
        if self.scaled:
            np.multiply(out, self.root2, out)
        if tail.size:
            self.tails.append((tail + offset, w[tail], u[tail]))

    def minus_log1p_of_minus(self, s: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``w = -log1p(-s)`` as XLA computes ``log1p``, for ``s`` in [0, 1). Returns the indices
        where ``w`` reaches erfinv's tail polynomials (all in log1p's far branch: there ``w`` < 0.54)."""
        small = s < self.small  # |x| < √2 - 1 for x = -s
        near = np.flatnonzero(small)
        far = np.flatnonzero(~small)
        tail = far[:0]
        if far.size:
            k = far.size
            x1 = self.gathered[:k]
            np.take(s, far, out=x1, mode="clip")  # indices in range: "clip" does not buffer out
            np.subtract(self.one, x1, x1)  # x + 1 for x = -s: the same rounding
            if self.f32:
                if not self.fused:
                    logs = _xla_math.log_f32(x1)
                else:
                    if self.log_buffers is None:
                        self.log_buffers = _LogBuffers(self.u.shape[0])
                    logs = _log_f32(x1, self.log_buffers)
            else:
                logs = _xla_math.log(x1)
            np.negative(logs, logs)
            w[far] = logs
            tail = far[np.flatnonzero(logs >= self.tail_start)]
        if near.size:
            k = near.size
            sg, x2, t = self.gathered[:k], self.x2[:k], self.t[:k]
            np.take(s, near, out=sg, mode="clip")
            ratio = self._log1p_ratio(sg)  # P(x) / Q(x) at x = -s
            # XLA: ((ratio * (x * x²)) + (-0.5) x²) + x with x = -s; every rounding is odd-symmetric, so this is
            # minus (((ratio * (s x²)) + 0.5 x²) + s): the w we want
            np.multiply(sg, sg, x2)
            np.multiply(sg, x2, t)
            np.multiply(ratio, t, t)
            np.multiply(x2, self.half, x2)  # exact
            np.add(t, x2, t)
            np.add(t, sg, t)
            w[near] = t
        return tail

    def _log1p_ratio(self, sg: np.ndarray) -> np.ndarray:
        """``P(x) / Q(x)`` of XLA's log1p at ``x = -sg``."""
        k = sg.shape[0]
        if not self.fused:
            x = -sg
            return _xla_math.horner(_xla_math._LOG1P_P, x) / _xla_math.horner(_xla_math._LOG1P_Q, x)
        argument = self.arg[:k]
        np.negative(sg, argument.real)
        pair = self.pair[:, :k]
        np.multiply(argument, self.pq_first, pair)  # first steps of both polynomials
        imag = pair.imag
        for constants in self.pq_rest:
            np.copyto(imag, constants)
            np.multiply(pair, argument, pair)
        return np.divide(pair[0].real, pair[1].real, self.ratio[:k])

    def finish(self, out: np.ndarray) -> None:
        """Replace the recorded tail elements of ``out`` (flat) by erfinv's tail polynomials."""
        if not self.tails:
            return
        index, w, u = (np.concatenate(parts) for parts in zip(*self.tails))
        self.tails = []
        root = np.sqrt(w)
        p = np.empty_like(w)
        f = self.f
        branches: tuple
        if self.f32:
            branches = ((np.ones(w.shape, bool), 3.0, _erfinv._F32_TAIL),)
        else:
            middle = w < f(16.0)
            branches = ((middle, 3.25, _erfinv._F64_MIDDLE), (~middle, 5.0, _erfinv._F64_TAIL))
        for chosen, shift, coefficients in branches:
            if chosen.any():
                p[chosen] = _polynomial(coefficients, root[chosen] - f(shift), self.fused)
        p *= u
        if self.scaled:
            p *= self.root2
        out[index] = p


def _polynomial(coefficients: tuple, x: np.ndarray, fused: bool) -> np.ndarray:
    """XLA's polynomial (one FMA per step) on a contiguous array of any length."""
    if not fused:
        return _xla_math.horner(coefficients, x)
    w = _complex_fma.argument_buffer(x.shape[0], x.dtype)
    w.real = x
    return np.array(_complex_fma.horner(coefficients, w, np.empty_like(w)))


_LOG_P32 = tuple(np.float32(c) for c in _xla_math._LOG_P)
_LOG_FIRST = np.array([[complex(_LOG_P32[3 * i], _LOG_P32[3 * i + 1])] for i in range(3)], np.complex64)
_LOG_SECOND = np.array([[_LOG_P32[3 * i + 2]] for i in range(3)], np.float32)


class _LogBuffers:
    """Work arrays of :func:`_log_f32` for up to ``size`` elements."""

    def __init__(self, size: int) -> None:
        self.reduced, self.exponent = np.empty(size, _U32), np.empty(size, _U32)
        self.f2, self.out = np.empty(size, np.float32), np.empty(size, np.float32)
        self.arg = _complex_fma.argument_buffer(size, np.float32)
        self.cube = _complex_fma.argument_buffer(size, np.float32)
        self.parts = np.empty((3, size), np.complex64)


def _log_f32(x: np.ndarray, buffers: _LogBuffers) -> np.ndarray:
    """XLA's float32 ``log`` (``_xla_math.log_f32``, operation for operation) of positive normal
    float32 ``x`` (contiguous), every FMA one complex multiplication; the result is a view of
    ``buffers``."""
    f32 = np.float32
    n = x.shape[0]
    reduced, k = buffers.reduced[:n], buffers.exponent[:n]
    f2, out = buffers.f2[:n], buffers.out[:n]
    arg, cube, parts = buffers.arg[:n], buffers.cube[:n], buffers.parts[:, :n]
    np.add(x.view(_U32), _LOG_OFFSET, reduced)
    np.right_shift(reduced, _EXPONENT_SHIFT, k)  # the biased exponent of x, minus 1 where m < √½
    np.bitwise_or(k, _FLOAT_MAGIC, k)
    e = k.view(f32)
    np.subtract(e, f32(2.0**23 + 127.0), e)  # XLA's e - (m < √½), exactly
    np.bitwise_and(reduced, _MANTISSA_32, reduced)
    np.add(reduced, _SQRT_HALF_BITS, reduced)  # m' = 2m below √½, m above: [√½, √2)
    fx = arg.real
    np.subtract(reduced.view(f32), f32(1.0), fx)  # XLA's f = 2m - 1 or m - 1 (exact)
    np.multiply(fx, fx, f2)
    np.multiply(f2, fx, cube.real)
    # y0, y1, y2: three 3-coefficient polynomials in f, side by side
    np.multiply(arg, _LOG_FIRST, parts)
    np.copyto(parts.imag, _LOG_SECOND)
    np.multiply(parts, arg, parts)
    acc = parts[0]
    np.copyto(acc.imag, parts[1].real)
    _complex_fma.multiply(acc, cube, acc)  # y0 f³ + y1
    np.copyto(acc.imag, parts[2].real)
    _complex_fma.multiply(acc, cube, acc)  # (y0 f³ + y1) f³ + y2
    np.multiply(e, f32(_xla_math._LOG_Q1), acc.imag)
    _complex_fma.multiply(acc, cube, acc)  # y f³ + e q1 (XLA contracts it; the product e q1 rounded first)
    np.multiply(f2, f32(-0.5), out)  # fma(-0.5, f², f): the product is exact, so one rounding either way
    np.add(out, fx, out)
    np.add(out, acc.real, out)
    np.multiply(e, f32(_xla_math._LOG_Q2), e)  # exact: a 9-bit constant times a small integer
    np.add(out, e, out)
    return out


def _blocks_of(n: int) -> tuple[int, range]:
    block = min(n, _threefry.BLOCK)
    return block, range(0, n, block)


def uniform(key: np.ndarray, n: int, dtype: Any, out: np.ndarray | None = None) -> np.ndarray:
    """``n`` uniform floats in [0, 1) (flat, into ``out`` if given) of one threefry key:
    ``_sampling.uniform``'s numbers (the top bits under the exponent of 1.0, minus 1), block by block."""
    dtype = np.dtype(dtype)
    width = dtype.itemsize * 8
    utype = np.dtype(f"uint{width}")
    one = np.array(1.0, dtype)
    drop, one_bits = np.array(width - np.finfo(dtype).nmant, utype), one.view(utype)

    def convert(chunk: np.ndarray) -> None:
        np.right_shift(chunk, drop, chunk)
        np.bitwise_or(chunk, one_bits, chunk)
        floats = chunk.view(dtype)
        np.subtract(floats, one, floats)

    raw = None if out is None else out.view(utype)
    return _threefry.stream_bits(key, width, n, raw, convert).view(dtype)


def normal(key: np.ndarray, n: int, dtype: Any, out: np.ndarray | None = None) -> np.ndarray:
    """``n`` standard normal draws (flat, into ``out`` if given) of one threefry key ``key`` (shape
    ``(2,)``), ``n <= 2**32``: the numbers of ``_sampling.normal``, block by block."""
    dtype = np.dtype(dtype)
    out = np.empty(n, dtype) if out is None else out
    if n == 0:
        return out
    block, starts = _blocks_of(n)
    stream = _threefry.KeyStream(key, block)
    x0, x1 = np.empty(block, np.uint32), np.empty(block, np.uint32)
    table = _normal_table.lookup(n) if dtype == np.float32 else None
    if table is not None:  # float32: threefry's words, then one gather per block
        for start in starts:
            m = min(block, n - start)
            stream.words(start, x0[:m], x1[:m])
            np.bitwise_xor(x0[:m], x1[:m], x0[:m])
            _gather(table, x0[:m], x0[:m], out[start:start + m])
        return out
    stage = _Stage(dtype, block)
    for start in starts:
        m = min(block, n - start)
        raw = stage.raw[:m]
        if dtype == np.float64 and _threefry.LITTLE_ENDIAN:  # word 0 high, word 1 low, by the last injection
            halves = raw.view(np.uint32).reshape(m, 2)
            stream.words(start, x0[:m], x1[:m], halves[:, 1], halves[:, 0])
        elif dtype == np.float64:
            stream.words(start, x0[:m], x1[:m])
            raw[...] = _threefry._join64(x0[:m], x1[:m])
        else:
            stream.words(start, x0[:m], x1[:m])
            np.bitwise_xor(x0[:m], x1[:m], raw)
        stage.run(raw, out[start:start + m], start)
    stage.finish(out)
    return out


def normal_of_bits(raw: np.ndarray, dtype: Any, scaled: bool = True) -> np.ndarray:
    """√2 erfinv(u) (just erfinv(u) unless ``scaled``) for the uniform ``u`` of the random bits
    ``raw`` (``uint32`` for float32, ``uint64`` for float64; any shape), block by block: the
    numbers of the unblocked ``√2 erfinv(u)`` (tests/random_reference.py); scaled float32 ones
    from ``_normal_table``'s table once it is built (the same bits)."""
    dtype = np.dtype(dtype)
    table = _normal_table.lookup(raw.size) if dtype == np.float32 and scaled else None
    if table is None or raw.size == 0:
        return direct_normal_of_bits(raw, dtype, scaled)
    flat = np.ascontiguousarray(raw).reshape(-1)
    n = flat.shape[0]
    out = np.empty(n, dtype)
    block, starts = _blocks_of(n)
    index = np.empty(block, np.uint32)
    for start in starts:
        m = min(block, n - start)
        _gather(table, flat[start:start + m], index[:m], out[start:start + m])
    return out.reshape(raw.shape)


def _gather(table: np.ndarray, words: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
    """``out`` = the table's draws of the ``uint32`` words ``words`` (``index``: a work array like
    ``words``, or ``words`` itself to overwrite it)."""
    np.right_shift(words, _TABLE_SHIFT, index)
    np.take(table, index, out=out, mode="clip")  # "clip": no bounds errors to check, so out is not buffered


def direct_normal_of_bits(raw: np.ndarray, dtype: np.dtype, scaled: bool = True,
                          out: np.ndarray | None = None) -> np.ndarray:
    """:func:`normal_of_bits` without the table (into the flat ``out`` if given): its direct pipeline."""
    flat = np.ascontiguousarray(raw).reshape(-1)
    n = flat.shape[0]
    result = np.empty(n, dtype) if out is None else out
    if n:
        block, starts = _blocks_of(n)
        stage = _Stage(dtype, block, scaled)
        for start in starts:
            m = min(block, n - start)
            buf = stage.raw[:m]
            np.copyto(buf, flat[start:start + m])
            stage.run(buf, result[start:start + m], start)
        stage.finish(result)
    return result if out is not None else result.reshape(raw.shape)
