"""``funcgrad.ops``: JAX's segment reductions (``jax.ops.segment_sum`` and friends),
differentiable in ``data``, built on ``funcgrad.numpy.at``.

``segment_ids`` outside ``[0, num_segments)`` are dropped, as in JAX; empty segments hold the
reduction's identity (0, 1, ``-inf``, ``inf``). ``num_segments`` must be given when the ids are
traced (under ``jit`` or ``vmap``), since it fixes the result's shape.

>>> import numpy as np
>>> segment_sum(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 2, 1]))
array([3., 4., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import numpy as fnp
from .core import Tracer

__all__ = ["segment_sum", "segment_prod", "segment_max", "segment_min"]


def _identity(kind: str, dtype: np.dtype) -> Any:
    if kind == "add":
        return 0
    if kind == "multiply":
        return 1
    big = np.inf if dtype.kind in "fc" else (np.iinfo(dtype).max if dtype.kind in "iu" else True)
    if kind == "max":
        return -big if dtype.kind in "fc" else (np.iinfo(dtype).min if dtype.kind in "iu" else False)
    return big


def _segment(kind: str, data: Any, segment_ids: Any, num_segments: int | None) -> Any:
    data = data if isinstance(data, (np.ndarray, Tracer)) else np.asarray(data)
    traced_ids = isinstance(segment_ids, Tracer)
    ids = segment_ids if traced_ids else np.asarray(segment_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"segment_ids must be integers, got dtype {ids.dtype}.")
    if num_segments is None:
        if traced_ids:
            raise ValueError("num_segments must be given when segment_ids are traced (under jit or vmap): it "
                             "fixes the shape of the result.")
        num_segments = int(ids.max()) + 1 if ids.size else 0
    num_segments = int(num_segments)
    dtype = np.dtype(data.dtype)
    identity = _identity(kind, dtype)
    lib = fnp if traced_ids else np
    valid = lib.logical_and(ids >= 0, ids < num_segments)
    safe_ids = lib.where(valid, ids, 0)
    mask = lib.reshape(valid, tuple(valid.shape) + (1,) * (data.ndim - ids.ndim))
    values = fnp.where(mask, data, fnp.full_like(data, identity))
    out = fnp.full((num_segments,) + tuple(data.shape[ids.ndim:]), identity, dtype=dtype)
    return getattr(fnp.at(out)[safe_ids], kind)(values)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, indices_are_sorted: bool = False,
                unique_indices: bool = False, bucket_size: int | None = None, mode: Any = None) -> Any:
    """The sum of ``data``'s rows with each segment id (``jax.ops.segment_sum``)."""
    return _segment("add", data, segment_ids, num_segments)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, indices_are_sorted: bool = False,
                 unique_indices: bool = False, bucket_size: int | None = None, mode: Any = None) -> Any:
    """The product of ``data``'s rows with each segment id."""
    return _segment("multiply", data, segment_ids, num_segments)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, indices_are_sorted: bool = False,
                unique_indices: bool = False, bucket_size: int | None = None, mode: Any = None) -> Any:
    """The maximum of ``data``'s rows with each segment id (``-inf`` for an empty segment)."""
    return _segment("max", data, segment_ids, num_segments)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, indices_are_sorted: bool = False,
                unique_indices: bool = False, bucket_size: int | None = None, mode: Any = None) -> Any:
    """The minimum of ``data``'s rows with each segment id (``inf`` for an empty segment)."""
    return _segment("min", data, segment_ids, num_segments)
