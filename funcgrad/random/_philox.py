"""The ``impl="philox"`` keys: NumPy's own Philox-4x64 counter-based generator, used functionally.

A key is four ``uint32`` words, the 128-bit Philox key. Every operation builds a fresh
``numpy.random.Philox`` from the key and a counter that names the operation (draw, split, fold-in
with its data), so nothing depends on global state and the same key always gives the same
numbers. Draws use NumPy's fast samplers (ziggurat normals), so this is faster than threefry, but
its numbers are NumPy's Philox stream, not JAX's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_DRAW, _SPLIT, _FOLD = 0, 1, 2


def _generator(key: np.ndarray, domain: int, data: int = 0) -> np.random.Generator:
    words = key.astype(np.uint64)
    k = np.array([words[0] | (words[1] << np.uint64(32)), words[2] | (words[3] << np.uint64(32))], np.uint64)
    return np.random.Generator(np.random.Philox(key=k, counter=np.array([0, 0, data, domain], np.uint64)))


def _per_key(key: np.ndarray, fn: Any, tail: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Apply ``fn(one_key) -> array of shape tail`` to each key of a batch ``(..., 4)``."""
    lead = key.shape[:-1]
    flat = key.reshape(-1, 4)
    out = np.empty((flat.shape[0],) + tail, dtype)
    for i in range(flat.shape[0]):
        out[i] = fn(flat[i])
    return out.reshape(lead + tail)


def seed_to_key(seed: Any) -> np.ndarray:
    s = int(seed) & 0xFFFFFFFFFFFFFFFF
    return np.array([s & 0xFFFFFFFF, s >> 32, 0, 0], np.uint32)


def _raw32(gen: np.random.Generator, n: int) -> np.ndarray:
    return gen.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]


def random_bits(key: np.ndarray, bit_width: int, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    dtype = np.dtype(f"uint{bit_width}")

    def one(k: np.ndarray) -> np.ndarray:
        gen = _generator(k, _DRAW)
        if bit_width == 64:
            return gen.bit_generator.random_raw(n).reshape(shape)
        return _raw32(gen, n).astype(dtype).reshape(shape)

    return _per_key(key, one, shape, dtype)


def split(key: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    return _per_key(key, lambda k: _raw32(_generator(k, _SPLIT), 4 * n).reshape(shape + (4,)), shape + (4,),
                    np.uint32)


def fold_in(key: np.ndarray, data: np.ndarray) -> np.ndarray:
    lead = np.broadcast_shapes(key.shape[:-1], data.shape)
    keys = np.broadcast_to(key, lead + (4,)).reshape(-1, 4)
    datas = np.broadcast_to(data, lead).reshape(-1)
    out = np.stack([_raw32(_generator(k, _FOLD, int(d)), 4) for k, d in zip(keys, datas)]) if keys.size else (
        np.empty((0, 4), np.uint32))
    return out.reshape(lead + (4,))


def normal(key: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    return _per_key(key, lambda k: _generator(k, _DRAW).standard_normal(shape, dtype=dtype), shape, dtype)
