"""``gather`` and ``scatter`` with XLA's dimension numbers, as in ``jax.lax``.

Both are lowered to NumPy advanced indexing (funcgrad's ``getitem``/``index_set``/``index_add``
primitives): each operand dimension gets an integer index array, ``start + offset``, built from
the start indices (clamped, or dropped/filled when out of bounds) and an ``arange`` over the slice.
So both are differentiable in every array operand, vmappable and jittable.

Index vectors are the last dimension of the indices array (JAX's convention).
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple, Sequence

import numpy as np

from .. import numpy as fnp
from .arrays import _arr

__all__ = ["GatherDimensionNumbers", "ScatterDimensionNumbers", "GatherScatterMode", "gather", "scatter",
           "scatter_add", "scatter_mul", "scatter_min", "scatter_max"]


class GatherDimensionNumbers(NamedTuple):
    """How the dimensions of ``operand``, ``start_indices`` and the output of :func:`gather` relate.

    * ``offset_dims``: the output dimensions that index into a slice (in operand order);
    * ``collapsed_slice_dims``: operand dimensions whose slice has size 1 and is dropped;
    * ``start_index_map``: for each entry of an index vector, the operand dimension it starts;
    * ``operand_batching_dims`` / ``start_indices_batching_dims``: paired batch dimensions.
    """

    offset_dims: tuple[int, ...]
    collapsed_slice_dims: tuple[int, ...]
    start_index_map: tuple[int, ...]
    operand_batching_dims: tuple[int, ...] = ()
    start_indices_batching_dims: tuple[int, ...] = ()


class ScatterDimensionNumbers(NamedTuple):
    """How the dimensions of ``operand``, ``scatter_indices`` and ``updates`` relate in :func:`scatter`.

    * ``update_window_dims``: the dimensions of ``updates`` that lie along a window (operand order);
    * ``inserted_window_dims``: operand dimensions with a window of size 1 absent from ``updates``;
    * ``scatter_dims_to_operand_dims``: for each entry of an index vector, the operand dimension;
    * ``operand_batching_dims`` / ``scatter_indices_batching_dims``: paired batch dimensions.
    """

    update_window_dims: tuple[int, ...]
    inserted_window_dims: tuple[int, ...]
    scatter_dims_to_operand_dims: tuple[int, ...]
    operand_batching_dims: tuple[int, ...] = ()
    scatter_indices_batching_dims: tuple[int, ...] = ()


class GatherScatterMode(enum.Enum):
    """Out-of-bounds handling: ``CLIP`` clamps the start so the slice fits; ``FILL_OR_DROP`` fills
    gathered slices that do not fit and drops such scattered updates; ``PROMISE_IN_BOUNDS``
    behaves as ``CLIP`` here. As in JAX, ``mode=None`` means ``PROMISE_IN_BOUNDS`` for
    :func:`gather` and ``FILL_OR_DROP`` for the scatters."""

    CLIP = "clip"
    FILL_OR_DROP = "fill"
    PROMISE_IN_BOUNDS = "promise_in_bounds"

    @staticmethod
    def from_any(mode: Any) -> GatherScatterMode:
        if isinstance(mode, GatherScatterMode):
            return mode
        if mode is None or mode in ("fill", "drop"):
            return GatherScatterMode.FILL_OR_DROP
        if mode == "clip":
            return GatherScatterMode.CLIP
        if mode == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        raise ValueError(f"unknown gather/scatter mode {mode!r}; use 'clip', 'fill', 'drop' or 'promise_in_bounds'.")


def _index_arrays(operand_shape: tuple, indices: Any, index_map: Sequence[int], window_dims: Sequence[int],
                  sizes: dict, operand_batching: Sequence[int], indices_batching: Sequence[int],
                  clip: bool, what: str) -> tuple[list, Any]:
    """One index array per operand dimension, shaped ``batch_shape + window sizes``, and the
    in-bounds mask of each index vector (None when clipping)."""
    batch_shape = tuple(indices.shape[:-1])
    nb, nw = len(batch_shape), len(window_dims)
    if indices.shape[-1] != len(index_map):
        raise TypeError(f"{what}: index vectors (the last dimension of the indices) have {indices.shape[-1]} "
                        f"entries, but the dimension numbers map {len(index_map)} operand dimensions.")
    inside = None
    arrays = []
    for d, n in enumerate(operand_shape):
        size = sizes[d]
        if d in index_map:
            start = indices[..., index_map.index(d)]
            if not clip:
                ok = fnp.logical_and(start >= 0, start <= n - size)
                inside = ok if inside is None else fnp.logical_and(inside, ok)
            start = fnp.clip(start, 0, max(n - size, 0))
            start = fnp.reshape(start, batch_shape + (1,) * nw)
        elif d in operand_batching:
            bd = indices_batching[operand_batching.index(d)]
            shape = [1] * (nb + nw)
            shape[bd] = batch_shape[bd]
            start = np.arange(batch_shape[bd]).reshape(shape)
        else:
            start = np.zeros((1,) * (nb + nw), np.intp)
        if d in window_dims:
            shape = [1] * (nb + nw)
            shape[nb + window_dims.index(d)] = size
            start = start + np.arange(size).reshape(shape)
        arrays.append(start)
    return arrays, inside


def _check_indices(indices: Any, what: str) -> Any:
    indices = _arr(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{what}: indices must be integers, got dtype {indices.dtype}.")
    if indices.ndim == 0:
        raise TypeError(f"{what}: indices must have at least one dimension (the index vectors are its last).")
    return indices


def _default_fill(dtype: np.dtype) -> Any:
    if dtype.kind in "fc":
        return np.nan
    if dtype == np.bool_:
        return True
    return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max


def gather(operand: Any, start_indices: Any, dimension_numbers: GatherDimensionNumbers, slice_sizes: Sequence[int],
           *, unique_indices: bool = False, indices_are_sorted: bool = False, mode: Any = None,
           fill_value: Any = None) -> Any:
    """Gather slices of ``operand`` starting at ``start_indices`` (``jax.lax.gather``).

    >>> import numpy as np
    >>> dn = GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
    >>> gather(np.arange(12).reshape(4, 3), np.array([[2], [0]]), dn, (1, 3))
    array([[6, 7, 8],
           [0, 1, 2]])
    """
    x = _arr(operand)
    indices = _check_indices(start_indices, "gather")
    dn = dimension_numbers
    if not isinstance(dn, GatherDimensionNumbers):
        raise TypeError(f"gather: dimension_numbers must be a GatherDimensionNumbers, got {type(dn).__name__}.")
    sizes = tuple(int(s) for s in slice_sizes)
    if len(sizes) != x.ndim:
        raise TypeError(f"gather: slice_sizes has {len(sizes)} entries for an operand with {x.ndim} dimensions.")
    for d in tuple(dn.collapsed_slice_dims) + tuple(dn.operand_batching_dims):
        if sizes[d] != 1:
            raise TypeError(f"gather: collapsed and batching dimension {d} must have slice size 1, got {sizes[d]}.")
    for d, (s, n) in enumerate(zip(sizes, x.shape)):
        if not 0 <= s <= n:
            raise TypeError(f"gather: slice size {s} does not fit operand dimension {d} of size {n}.")
    window = [d for d in range(x.ndim) if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
    if len(window) != len(dn.offset_dims):
        raise TypeError(f"gather: {len(dn.offset_dims)} offset_dims for {len(window)} operand dimensions that are "
                        "neither collapsed nor batching.")
    # As in JAX: gather defaults to PROMISE_IN_BOUNDS (clamped here), scatter to FILL_OR_DROP.
    m = GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else GatherScatterMode.from_any(mode)
    arrays, inside = _index_arrays(x.shape, indices, tuple(dn.start_index_map), window, dict(enumerate(sizes)),
                                   tuple(dn.operand_batching_dims), tuple(dn.start_indices_batching_dims),
                                   m is not GatherScatterMode.FILL_OR_DROP, "gather")
    out = fnp.at(x)[tuple(arrays)].get()  # batch dims, then window dims
    nb = indices.ndim - 1
    if inside is not None:
        fill = _default_fill(x.dtype) if fill_value is None else fill_value
        mask = fnp.reshape(inside, tuple(inside.shape) + (1,) * len(window))
        fill = _arr(fill)
        out = fnp.where(mask, out, fill if fill.dtype == x.dtype else fill.astype(x.dtype))
    # Place the window dimensions at offset_dims, the batch dimensions in order elsewhere.
    rank = nb + len(window)
    offset = list(dn.offset_dims)
    batch_positions = [p for p in range(rank) if p not in offset]
    perm = [0] * rank
    for i, p in enumerate(batch_positions):
        perm[p] = i
    for i, p in enumerate(offset):
        perm[p] = nb + i
    return fnp.transpose(out, tuple(perm)) if perm != list(range(rank)) else out


def _scatter(kind: str, operand: Any, scatter_indices: Any, updates: Any, dimension_numbers: ScatterDimensionNumbers,
             mode: Any) -> Any:
    what = "scatter" if kind == "set" else f"scatter_{kind}"
    x, u = _arr(operand), _arr(updates)
    indices = _check_indices(scatter_indices, what)
    dn = dimension_numbers
    if not isinstance(dn, ScatterDimensionNumbers):
        raise TypeError(f"{what}: dimension_numbers must be a ScatterDimensionNumbers, got {type(dn).__name__}.")
    window = [d for d in range(x.ndim) if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    uwd = list(dn.update_window_dims)
    if len(window) != len(uwd):
        raise TypeError(f"{what}: {len(uwd)} update_window_dims for {len(window)} operand dimensions that are neither "
                        "inserted nor batching.")
    nb = indices.ndim - 1
    if u.ndim != nb + len(uwd):
        raise TypeError(f"{what}: updates have {u.ndim} dimensions; expected {nb} scatter (batch) dimensions plus "
                        f"{len(uwd)} window dimensions.")
    sizes = {d: 1 for d in range(x.ndim)}
    for d, ud in zip(window, uwd):
        sizes[d] = u.shape[ud]
    # updates as (batch dims..., window dims...)
    batch_dims = [p for p in range(u.ndim) if p not in uwd]
    order = batch_dims + uwd
    if order != list(range(u.ndim)):
        u = fnp.transpose(u, tuple(order))
    m = GatherScatterMode.from_any(mode)
    drop = m is GatherScatterMode.FILL_OR_DROP
    arrays, inside = _index_arrays(x.shape, indices, tuple(dn.scatter_dims_to_operand_dims), window, sizes,
                                   tuple(dn.operand_batching_dims), tuple(dn.scatter_indices_batching_dims),
                                   not drop, what)
    if drop:
        # Updates whose window does not fit are sent to a scratch row past the end, then cut off.
        mask = fnp.reshape(inside, tuple(inside.shape) + (1,) * len(window))
        arrays = [fnp.where(mask, a, n) for a, n in zip(arrays, x.shape)]
        from ..prims.shape import pad as pad_prim

        target = pad_prim(x, pad_width=((0, 1),) * x.ndim, value=0)
    else:
        target = x
    at = fnp.at(target)[tuple(arrays)]
    if kind == "set":
        out = at.set(u)
    elif kind == "add":
        out = at.add(u)
    else:
        method = {"mul": "multiply", "min": "min", "max": "max"}[kind]
        if not hasattr(at, method):
            raise NotImplementedError(f"{what} needs x.at[...].{method}, which this funcgrad.numpy lacks.")
        out = getattr(at, method)(u)
    if drop:
        out = out[tuple(slice(0, n) for n in x.shape)]
    return out


def scatter(operand: Any, scatter_indices: Any, updates: Any, dimension_numbers: ScatterDimensionNumbers, *,
            indices_are_sorted: bool = False, unique_indices: bool = False, mode: Any = None) -> Any:
    """``operand`` with windows replaced by ``updates`` at ``scatter_indices`` (``jax.lax.scatter``).

    >>> import numpy as np
    >>> dn = ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
    ...                              scatter_dims_to_operand_dims=(0,))
    >>> scatter(np.zeros(4), np.array([[1], [3]]), np.array([5.0, 6.0]), dn)
    array([0., 5., 0., 6.])
    """
    return _scatter("set", operand, scatter_indices, updates, dimension_numbers, mode)


def scatter_add(operand: Any, scatter_indices: Any, updates: Any, dimension_numbers: ScatterDimensionNumbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode: Any = None) -> Any:
    """Like :func:`scatter`, adding the updates (repeated indices accumulate)."""
    return _scatter("add", operand, scatter_indices, updates, dimension_numbers, mode)


def scatter_mul(operand: Any, scatter_indices: Any, updates: Any, dimension_numbers: ScatterDimensionNumbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode: Any = None) -> Any:
    """Like :func:`scatter`, multiplying by the updates (needs ``x.at[...].multiply``)."""
    return _scatter("mul", operand, scatter_indices, updates, dimension_numbers, mode)


def scatter_min(operand: Any, scatter_indices: Any, updates: Any, dimension_numbers: ScatterDimensionNumbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode: Any = None) -> Any:
    """Like :func:`scatter`, keeping the minimum (needs ``x.at[...].min``)."""
    return _scatter("min", operand, scatter_indices, updates, dimension_numbers, mode)


def scatter_max(operand: Any, scatter_indices: Any, updates: Any, dimension_numbers: ScatterDimensionNumbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode: Any = None) -> Any:
    """Like :func:`scatter`, keeping the maximum (needs ``x.at[...].max``)."""
    return _scatter("max", operand, scatter_indices, updates, dimension_numbers, mode)
