"""Unblocked references for funcgrad.random's tests: the numbers the blocked NumPy code
(``_blocks``) and the Numba kernels must reproduce bit for bit."""

from __future__ import annotations

import math

import numpy as np

from funcgrad.random import _sampling
from funcgrad.random._erfinv import erfinv


def normal_from_bits(raw: np.ndarray, dtype: np.dtype, scaled: bool = True) -> np.ndarray:
    """``sqrt(2) * erfinv(u)`` (just ``erfinv(u)`` unless ``scaled``) for the uniform ``u`` of ``raw``:
    whole-array passes, the emulated FMAs of ``erfinv``."""
    u = _sampling._unit_floats(raw, dtype)
    lo = np.nextafter(dtype.type(-1.0), dtype.type(1.0))
    u *= dtype.type(1.0) - lo
    u += lo  # >= lo already (JAX clamps with max(lo, .), which never changes a value here)
    out = erfinv(u, open_interval=True)
    if scaled:
        out *= dtype.type(math.sqrt(2.0))
    return out


def call_env(dt: type, k: np.ndarray, **names: object) -> dict:
    """The names a recorded call string (``"jr.normal(k, (3,), dt)"``) is evaluated with."""
    import funcgrad.random as fr

    return {"jr": fr, "np": np, "dt": dt, "k": k, "A": lambda x, d: np.asarray(x, d), **names}


def bit_sum(x: np.ndarray) -> int:
    """The sum of a float array's bit patterns as unsigned integers (mod 2**64): a draw's fingerprint."""
    x = np.asarray(x)
    return int(x.reshape(-1).view(np.uint32 if x.dtype == np.float32 else np.uint64).astype(np.uint64).sum(
        dtype=np.uint64))


def eager_and_jit(calls: dict, call: str, dt: type, key: np.ndarray, **names: object) -> list:
    """The recorded call ``calls[call]`` (a string after ``jr.``) evaluated on ``key`` eagerly and under
    ``funcgrad.jit``, as NumPy arrays."""
    import funcgrad as fg

    def draw(k: np.ndarray) -> object:
        return eval("jr." + calls[call], call_env(dt, k, **names))

    return [np.asarray(draw(key)), np.asarray(fg.jit(draw)(key))]
