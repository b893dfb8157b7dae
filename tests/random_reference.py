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
