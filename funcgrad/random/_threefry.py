"""Threefry-2x32 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC 2011), vectorised in NumPy over counters and keys.

The block function maps a 64-bit key ``(k0, k1)`` and a 64-bit counter ``(x0, x1)`` (each a pair
of ``uint32`` words) to two ``uint32`` words, with 20 rounds of add–rotate–xor and a key
injection every 4 rounds. The key schedule appends ``k0 ^ k1 ^ 0x1BD11BDA``.

How keys and counters are laid out follows JAX's default ("partitionable") threefry scheme, so
the numbers are JAX's: element ``i`` (row-major flat index) of a draw of any shape uses the
counter ``(i >> 32, i & 0xFFFFFFFF)``.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from . import _accel

__all__ = ["threefry2x32", "counters", "random_bits", "split", "fold_in", "seed_to_key"]

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)
_SHIFTS = tuple(np.array(r, np.uint32) for r in range(33))  # 0-d arrays: cheaper ufunc operands than scalars
BLOCK = 1 << 15  # counters per block of work (measured: 2**14 to 2**16 are within noise): temporaries stay in cache


def _injections(ks: tuple) -> list:
    """The words added after every 4 rounds (``ks``: the key words and their parity word, arrays or
    0-d arrays): key words in rotation, plus the injection number."""
    with np.errstate(over="ignore"):
        return [(np.asarray(ks[s % 3]), np.asarray(ks[(s + 1) % 3] + np.uint32(s), np.uint32)) for s in range(1, 6)]


def _rounds(x0: np.ndarray, x1: np.ndarray, injections: list, tmp: np.ndarray, first_sum_done: bool = False,
            out0: np.ndarray | None = None, out1: np.ndarray | None = None) -> None:
    """The 20 rounds and 5 key injections, in place on ``x0`` and ``x1`` (already injected with the
    first key); ``injections[s - 1]`` is what the ``s``-th key injection adds to each word.
    ``first_sum_done``: ``x0`` already holds the first round's ``x0 + x1``. The last injection writes
    into ``out0``/``out1`` instead when given (e.g. the halves of a ``uint64`` buffer)."""
    add, xor, shl, shr = np.add, np.bitwise_xor, np.left_shift, np.right_shift
    for block in range(5):
        for i, r in enumerate(_ROTATIONS[block % 2]):
            if block or i or not first_sum_done:
                add(x0, x1, x0)
            shl(x1, _SHIFTS[r], tmp)
            shr(x1, _SHIFTS[32 - r], x1)
            xor(x1, tmp, x1)  # the rotation (the shifted parts do not overlap)
            xor(x1, x0, x1)
        add0, add1 = injections[block]
        last = block == 4
        add(x0, add0, x0 if not last or out0 is None else out0)
        add(x1, add1, x1 if not last or out1 is None else out1)


def threefry2x32(k0: Any, k1: Any, x0: Any, x1: Any) -> tuple[np.ndarray, np.ndarray]:
    """The Threefry-2x32 block function, elementwise over broadcast ``uint32`` arrays.

    >>> y0, y1 = threefry2x32(0, 0, np.uint32(0), np.uint32(0))
    >>> int(y0), int(y1)
    (1797259609, 2579123966)
    """
    k0, k1, x0, x1 = (np.asarray(a, dtype=np.uint32) for a in (k0, k1, x0, x1))
    shape = np.broadcast_shapes(k0.shape, k1.shape, x0.shape, x1.shape)
    k2 = k0 ^ k1 ^ _PARITY
    n = int(np.prod(shape, dtype=np.int64))
    out0 = np.empty(shape, np.uint32)
    out1 = np.empty(shape, np.uint32)
    if n == 0:
        return out0, out1
    if k0.ndim == 0 and k1.ndim == 0:  # one key: work through the counters in cache-sized chunks
        injections = _injections((k0, k1, k2))
        f0, f1 = out0.reshape(-1), out1.reshape(-1)
        b0 = np.broadcast_to(x0, shape).reshape(-1)
        b1 = np.broadcast_to(x1, shape).reshape(-1)
        tmp = np.empty(min(n, BLOCK), np.uint32)
        for start in range(0, n, BLOCK):
            stop = min(n, start + BLOCK)
            c0, c1 = f0[start:stop], f1[start:stop]
            np.add(b0[start:stop], k0, out=c0)
            np.add(b1[start:stop], k1, out=c1)
            _rounds(c0, c1, injections, tmp[: stop - start])
        return out0, out1
    ks = tuple(np.broadcast_to(k, shape) for k in (k0, k1, k2))
    np.add(x0, ks[0], out=out0)
    np.add(x1, ks[1], out=out1)
    _rounds(out0, out1, _injections(ks), np.empty(shape, np.uint32))
    return out0, out1


LITTLE_ENDIAN = sys.byteorder == "little"
_MASK32 = 0xFFFFFFFF
PER_KEY_STREAM = 1 << 15  # draws per key from which a batch of keys runs key by key, each in blocks (measured)


class KeyStream:
    """The threefry words of one key at flat indices below ``2**32``, a block at a time, into
    preallocated buffers: every NumPy pass runs on cache-resident data and allocates nothing.

    >>> stream = KeyStream(np.array([0, 0], np.uint32))
    >>> x0, x1 = np.empty(2, np.uint32), np.empty(2, np.uint32)
    >>> stream.words(0, x0, x1)
    >>> [int(v) for v in x0], [int(v) for v in x1]
    ([1797259609, 928981903], [2579123966, 3453687069])
    """

    def __init__(self, key: np.ndarray, block: int = BLOCK) -> None:
        k0, k1 = int(key[0]), int(key[1])
        self._k0 = np.array(k0, np.uint32)
        self._k1 = k1
        self._injections = _injections(tuple(np.array(k, np.uint32) for k in (k0, k1, k0 ^ k1 ^ int(_PARITY))))
        self._arange = np.arange(block, dtype=np.uint32)
        self._tmp = np.empty(block, np.uint32)

    def words(self, start: int, x0: np.ndarray, x1: np.ndarray, out0: Any = None, out1: Any = None) -> None:
        """Fill ``x0``, ``x1`` (contiguous ``uint32``, ``m <= block`` elements each) with the two
        words of flat indices ``start .. start + m`` (``start + m <= 2**32``); the last key injection
        writes into ``out0``/``out1`` instead when given (e.g. the halves of a ``uint64`` buffer)."""
        m = x0.shape[0]
        np.add(self._arange[:m], np.array((start + self._k1) & _MASK32, np.uint32), x1)  # counter + k1 (high word 0)
        np.add(x1, self._k0, x0)  # the first round's sum: (0 + k0) + x1
        _rounds(x0, x1, self._injections, self._tmp[:m], True, out0, out1)


def stream_bits(key: np.ndarray, bit_width: int, n: int, out: np.ndarray | None = None,
                convert: Any = None) -> np.ndarray:
    """``n`` random ``uint32`` (``bit_width`` 32) or ``uint64`` (64) words (flat, into ``out`` if
    given) of one key (shape ``(2,)``), ``n <= 2**32``: :func:`random_bits`'s, block by block;
    ``convert(chunk)``, if given, runs on each block of ``out`` while it is in the cache.

    >>> [int(b) for b in stream_bits(np.array([0, 0], np.uint32), 32, 2)]
    [4070199207, 4202968722]
    """
    if out is None:
        out = np.empty(n, np.uint64 if bit_width == 64 else np.uint32)
    if n == 0:
        return out
    block = min(n, BLOCK)
    stream = KeyStream(key, block)
    x0, x1 = np.empty(block, np.uint32), np.empty(block, np.uint32)
    halves = out.view(np.uint32).reshape(n, 2) if bit_width == 64 and LITTLE_ENDIAN else None
    for start in range(0, n, block):
        m = min(block, n - start)
        chunk = out[start:start + m]
        if halves is not None:  # word 0 high, word 1 low (little-endian halves), written by the last injection
            stream.words(start, x0[:m], x1[:m], halves[start:start + m, 1], halves[start:start + m, 0])
        elif bit_width == 64:
            stream.words(start, x0[:m], x1[:m])
            chunk[...] = _join64(x0[:m], x1[:m])
        else:
            stream.words(start, chunk, x1[:m])
            np.bitwise_xor(chunk, x1[:m], chunk)
        if convert is not None:
            convert(chunk)
    return out


def _join64(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``high << 32 | low`` as uint64: the two words written side by side (two strided copies
    instead of four whole-array passes)."""
    if sys.byteorder != "little":
        return (high.astype(np.uint64) << np.uint64(32)) | low.astype(np.uint64)
    pairs = np.empty(high.shape + (2,), np.uint32)
    pairs[..., 0] = low
    pairs[..., 1] = high
    return pairs.view(np.uint64).reshape(high.shape)


def counters(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The counter of each element of a draw of ``shape``: its flat index as (high, low) words."""
    n = int(np.prod(shape, dtype=np.int64))
    if n <= 0xFFFFFFFF:
        return np.zeros((), np.uint32), np.arange(n, dtype=np.uint32).reshape(shape)
    flat = np.arange(n, dtype=np.uint64)
    return (flat >> np.uint64(32)).astype(np.uint32).reshape(shape), flat.astype(np.uint32).reshape(shape)


def _key_words(key: np.ndarray, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """The two key words of a (batch of) key(s) ``(..., 2)``, shaped to broadcast against
    ``ndim`` trailing counter axes."""
    pad = (1,) * ndim
    return key[..., 0].reshape(key.shape[:-1] + pad), key[..., 1].reshape(key.shape[:-1] + pad)


def random_bits(key: np.ndarray, bit_width: int, shape: tuple[int, ...]) -> np.ndarray:
    """``bit_width``-bit unsigned integers of ``shape`` for each key of ``key`` (shape ``(..., 2)``);
    the result has shape ``key.shape[:-1] + shape``. Large draws run in Numba when it is installed
    (the same bits, see ``_accel``)."""
    n = math.prod(shape)
    lead = key.shape[:-1]
    if n <= 0xFFFFFFFF and _accel.kernels(n * math.prod(lead)) is not None:
        words = np.empty((math.prod(lead), n), np.uint64 if bit_width == 64 else np.uint32)
        if _accel.run("bits64" if bit_width == 64 else "bits32", key.reshape(-1, 2), words):
            out = words.reshape(lead + shape)
            return _narrow(out, bit_width)
    if n <= 0xFFFFFFFF and (key.ndim == 1 or n >= PER_KEY_STREAM):  # each key's counters in blocks
        flat = key.reshape(-1, 2)
        words = np.empty((flat.shape[0], n), np.uint64 if bit_width == 64 else np.uint32)
        for one_key, row in zip(flat, words):
            stream_bits(one_key, 64 if bit_width == 64 else 32, n, row)
        out = words.reshape(lead + shape)
        return _narrow(out, bit_width)
    keys = math.prod(lead)
    if keys > 1 and 0 < n <= BLOCK // 2:  # many keys, few numbers each: a block's worth of keys at a time
        flat = key.reshape(-1, 2)
        words = np.empty((keys, n), np.uint64 if bit_width == 64 else np.uint32)
        rows = BLOCK // n
        for first in range(0, keys, rows):
            words[first:first + rows] = _broadcast_bits(flat[first:first + rows], 64 if bit_width == 64 else 32, (n,))
        out = words.reshape(lead + shape)
        return _narrow(out, bit_width)
    return _broadcast_bits(key, bit_width, shape)


def _narrow(words: np.ndarray, bit_width: int) -> np.ndarray:
    """``uint32``/``uint64`` words as they are for 32 and 64 bits; the low 8 or 16 bits of each
    ``uint32`` word otherwise."""
    return words if bit_width >= 32 else words.astype(np.dtype(f"uint{bit_width}"))


def _broadcast_bits(key: np.ndarray, bit_width: int, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`random_bits` by the block function on all counters and keys at once (``uint64`` for
    64 bits, else ``uint32`` narrowed to 8 or 16 bits)."""
    hi, lo = counters(shape)
    k0, k1 = _key_words(key, len(shape))
    y0, y1 = threefry2x32(k0, k1, hi, lo)
    if bit_width == 64:
        return _join64(y0, y1)
    np.bitwise_xor(y0, y1, out=y0)
    return _narrow(y0, bit_width)


def bits_of_counters(key: np.ndarray, bit_width: int, start: int, stop: int) -> np.ndarray:
    """The bits of elements ``start..stop`` (flat indices below 2**32) of a draw from one key."""
    y0, y1 = threefry2x32(key[0], key[1], np.uint32(0), np.arange(start, stop, dtype=np.uint32))
    if bit_width == 64:
        return _join64(y0, y1)
    np.bitwise_xor(y0, y1, out=y0)
    return y0


def split(key: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """New keys of ``shape`` (each ``(2,)``) from ``key`` (shape ``(..., 2)``)."""
    n = math.prod(shape)
    if key.ndim == 1 and 0 < n <= 0xFFFFFFFF:  # one key: its counters in blocks, straight into the key pairs
        out = np.empty(shape + (2,), np.uint32)
        pairs = out.reshape(n, 2)
        block = min(n, BLOCK)
        stream = KeyStream(key, block)
        x0, x1 = np.empty(block, np.uint32), np.empty(block, np.uint32)
        for start in range(0, n, block):
            m = min(block, n - start)
            stream.words(start, x0[:m], x1[:m], pairs[start:start + m, 0], pairs[start:start + m, 1])
        return out
    hi, lo = counters(shape)
    k0, k1 = _key_words(key, len(shape))
    y0, y1 = threefry2x32(k0, k1, hi, lo)
    return np.stack([y0, y1], axis=-1)


def fold_in(key: np.ndarray, data: np.ndarray) -> np.ndarray:
    """A new key from ``key`` and the 32-bit integer ``data`` (broadcast against each other)."""
    hi, lo = seed_to_key(data)
    y0, y1 = threefry2x32(key[..., 0], key[..., 1], hi, lo)
    return np.stack([y0, y1], axis=-1)


def seed_to_key(seed: Any) -> tuple[np.ndarray, np.ndarray]:
    """The two words of the key made from an integer seed: its high and low 32 bits (as a 64-bit
    two's-complement integer)."""
    s = np.asarray(seed)
    s64: Any
    if s.dtype.kind == "u":
        s64 = s.astype(np.uint64)
    else:
        s64 = s.astype(np.int64).view(np.uint64) if s.ndim else np.int64(s).view(np.uint64)
    return (np.asarray(s64 >> np.uint64(32)).astype(np.uint32),
            np.asarray(s64 & np.uint64(0xFFFFFFFF)).astype(np.uint32))
