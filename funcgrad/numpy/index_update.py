"""``x.at[idx]``: JAX's functional index updates, for traced values and NumPy arrays alike.

``set``, ``add``, ``multiply``, ``divide``, ``power``, ``min``, ``max``, ``apply`` and ``get``,
each with ``mode=``, ``fill_value=``, ``indices_are_sorted=`` and ``unique_indices=``:

* Modes for out-of-bounds indices: ``None``/``'raise'``/``'promise_in_bounds'`` (NumPy's
  IndexError), ``'clip'`` (indices clamped into range), ``'drop'`` (updates: out-of-bounds
  entries ignored) and ``'fill'`` (``get``: out-of-bounds entries read ``fill_value``, by default
  NaN for inexact dtypes, the minimum of signed and the maximum of unsigned integers, True for
  booleans). Dropping and filling go through one extra padded element on the indexed axes.
* Repeated indices combine as NumPy's ``ufunc.at`` (``add`` accumulates, ``multiply`` multiplies,
  ``min``/``max`` reduce; ``set`` keeps the last write). With distinct indices every update is a
  composition ``x.at[idx].set(op(x[idx], v))``, differentiable everywhere; with repeated ones
  ``multiply``/``divide``/``power``/``min``/``max`` use the ``index_update`` primitive (its
  derivative in ``v`` exists for min/max only, as in JAX). ``apply`` applies ``func`` once per
  position on traced values (JAX's semantics) and as NumPy's ``ufunc.at`` on arrays.
* ``indices_are_sorted`` is accepted and ignored (a performance hint in JAX);
  ``unique_indices=True`` promises distinct indices.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._backend import as_array
from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import encode_index, getitem, index_add, index_set
from ..prims.scatter import index_update

_MODES = (None, "raise", "promise_in_bounds", "clip", "drop", "fill")


def _default_fill(dtype: np.dtype) -> Any:
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "i":
        return np.iinfo(dtype).min
    if dtype.kind == "u":
        return np.iinfo(dtype).max
    return True


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _axes_of(spec: tuple, arrays: list, ndim: int) -> list:
    """For each spec item, the axis of ``x`` it indexes (None for newaxis/ellipsis)."""
    consumed = sum(1 for it in spec if it[0] in ("s", "i", "a"))
    axes: list = []
    d = 0
    for it in spec:
        if it[0] == "n":
            axes.append(None)
        elif it[0] == "e":
            axes.append(None)
            d += ndim - consumed
        else:
            axes.append(d)
            d += 1
    return axes


def _booleans_to_integers(spec: tuple, arrays: list) -> tuple[tuple, list]:
    new_arrays: list[Any]
    new_spec, new_arrays = [], []
    for it in spec:
        if it[0] == "a":
            arr = arrays[it[1]]
            if not isinstance(arr, Tracer) and np.asarray(arr).dtype == np.bool_:
                for nz in np.nonzero(arr):
                    new_spec.append(("a", len(new_arrays)))
                    new_arrays.append(nz)
                continue
            new_spec.append(("a", len(new_arrays)))
            new_arrays.append(arr)
        else:
            new_spec.append(it)
    return tuple(new_spec), new_arrays


def _with_mode(x: Any, spec: tuple, arrays: list, mode: Any) -> tuple[tuple, list, list]:
    """Rewrite the index for ``mode``: clamp (clip), or send out-of-bounds entries to position
    ``n`` of an axis that the caller pads by one element (drop/fill). Returns the new spec, the
    arrays, and the axes to pad."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if mode in (None, "raise", "promise_in_bounds"):
        return spec, arrays, []
    spec, arrays = _booleans_to_integers(spec, arrays)
    shape = _shape(x)
    axes = _axes_of(spec, arrays, len(shape))
    new_spec, new_arrays, padded = [], list(arrays), []
    for it, d in zip(spec, axes, strict=True):
        if it[0] not in ("i", "a"):
            new_spec.append(it)
            continue
        n = shape[d]
        idx = it[1] if it[0] == "i" else arrays[it[1]]
        if it[0] == "i" and (mode == "clip" or -n <= idx < n):
            new_spec.append(("i", min(max(idx + n if idx < 0 else idx, 0), max(n - 1, 0)) if mode == "clip" else idx))
            continue
        idx = np.asarray(idx) if not isinstance(idx, Tracer) else idx
        norm = ew.where(ew.less(idx, 0), ew.add(idx, n), idx)
        if mode == "clip":
            norm = ew.minimum_p.bind(ew.maximum_p.bind(norm, 0), max(n - 1, 0))
        else:
            out_of_bounds = ew.logical_or(ew.less(norm, 0), ew.greater_equal_p.bind(norm, n))
            norm = ew.where(out_of_bounds, n, norm)
            if d not in padded:
                padded.append(d)
        if it[0] == "a":
            new_arrays[it[1]] = norm
            new_spec.append(it)
        else:
            new_spec.append(("a", len(new_arrays)))
            new_arrays.append(norm)
    return tuple(new_spec), new_arrays, padded


def _pad(x: Any, axes: list, value: Any) -> Any:
    if not axes:
        return x
    width = tuple((0, 1) if d in axes else (0, 0) for d in range(len(_shape(x))))
    if isinstance(x, Tracer):
        return sh.pad(x, pad_width=width, value=value)
    return np.pad(np.asarray(x), width, constant_values=value)


def _unpad(x: Any, axes: list) -> Any:
    if not axes:
        return x
    idx = tuple(slice(0, -1) if d in axes else slice(None) for d in range(len(_shape(x))))
    spec, arrays = encode_index(idx)
    return getitem(x, *arrays, spec=spec)


def _distinct(x: Any, spec: tuple, arrays: list) -> bool:
    """Whether the index names each position at most once (decided on concrete index arrays;
    traced ones count as possibly repeating)."""
    if not any(it[0] == "a" for it in spec):
        return True
    if any(isinstance(a, Tracer) for a in arrays):
        return False
    from ..prims.indexing import decode_index

    idx = decode_index(spec, tuple(arrays))
    ids = np.arange(np.prod(_shape(x), dtype=np.int64)).reshape(_shape(x))
    hit = ids[idx]
    return np.unique(hit).size == hit.size


_COMBINE = {"multiply": ew.mul, "divide": ew.div, "power": ew.power, "min": ew.minimum_p.bind,
            "max": ew.maximum_p.bind}
_PRIM_OP = {"multiply": "multiply", "divide": "divide", "power": "power", "min": "minimum", "max": "maximum"}


class IndexUpdate:
    """``x.at[idx]``: the updates return a new array; ``x`` is never modified."""

    __slots__ = ("_x", "_idx")

    def __init__(self, x: Any, idx: Any) -> None:
        self._x, self._idx = x, idx

    def __repr__(self) -> str:
        return f"_IndexUpdateRef({self._x!r}, {self._idx!r})"

    def _prepare(self, mode: Any, fill: Any) -> tuple[Any, tuple, list, list]:
        x = self._x if isinstance(self._x, Tracer) else as_array(self._x)  # Dask/CuPy arrays stay theirs
        spec, arrays = encode_index(self._idx)
        spec, arrays, padded = _with_mode(x, spec, arrays, mode)
        return _pad(x, padded, fill), spec, arrays, padded

    def _reject_traced_masks(self, name: str) -> None:
        from .tracer_methods import _reject_traced_masks

        _reject_traced_masks(self._idx, name)

    def _eager(self, x: Any, spec: tuple, arrays: list, v: Any) -> bool:
        return not isinstance(x, Tracer) and not isinstance(v, Tracer) and not any(isinstance(a, Tracer)
                                                                                   for a in arrays)

    def get(self, *, indices_are_sorted: bool = False, unique_indices: bool = False, mode: Any = None,
            fill_value: Any = None) -> Any:
        """``x[idx]`` (with ``mode='fill'``, out-of-bounds entries read ``fill_value``)."""
        self._reject_traced_masks("getitem")
        dtype = np.dtype(self._x.dtype) if hasattr(self._x, "dtype") else np.asarray(self._x).dtype
        fill = _default_fill(dtype) if fill_value is None else fill_value
        if mode == "drop":
            mode = "fill"
        x, spec, arrays, _ = self._prepare(mode, fill)
        return getitem(x, *arrays, spec=spec)

    def set(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] = values`` (repeated positions: the last write wins)."""
        self._reject_traced_masks("index_set")
        x, spec, arrays, padded = self._prepare("drop" if mode == "fill" else mode, 0)
        return _unpad(index_set(x, values, *arrays, spec=spec), padded)

    def add(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: Any = None) -> Any:
        """Copy of ``x`` with ``values`` added at ``idx`` (repeated positions accumulate)."""
        self._reject_traced_masks("index_add")
        x, spec, arrays, padded = self._prepare("drop" if mode == "fill" else mode, 0)
        return _unpad(index_add(x, values, *arrays, spec=spec), padded)

    def _combine(self, name: str, values: Any, unique_indices: bool, mode: Any) -> Any:
        self._reject_traced_masks("index_update")
        x, spec, arrays, padded = self._prepare("drop" if mode == "fill" else mode, 1)
        # NumPy arrays: ufunc.at (the primitive's impl) computes it directly.
        if not self._eager(x, spec, arrays, values) and (unique_indices or _distinct(x, spec, arrays)):
            current = getitem(x, *arrays, spec=spec)
            return _unpad(index_set(x, _COMBINE[name](current, values), *arrays, spec=spec), padded)
        return _unpad(index_update(x, values, *arrays, spec=spec, op=_PRIM_OP[name]), padded)

    def multiply(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,
                 mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] *= values`` (repeated positions multiply)."""
        return self._combine("multiply", values, unique_indices, mode)

    mul = multiply

    def divide(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,
               mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] /= values``."""
        return self._combine("divide", values, unique_indices, mode)

    def power(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,
              mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] **= values``."""
        return self._combine("power", values, unique_indices, mode)

    def min(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,  # noqa: A003
            mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] = minimum(x[idx], values)`` (ties share the derivative)."""
        return self._combine("min", values, unique_indices, mode)

    def max(self, values: Any, *, indices_are_sorted: bool = False, unique_indices: bool = False,  # noqa: A003
            mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] = maximum(x[idx], values)`` (ties share the derivative)."""
        return self._combine("max", values, unique_indices, mode)

    def apply(self, func: Callable[[Any], Any], *, indices_are_sorted: bool = False, unique_indices: bool = False,
              mode: Any = None) -> Any:
        """Copy of ``x`` with ``x[idx] = func(x[idx])``."""
        self._reject_traced_masks("index_set")
        x, spec, arrays, padded = self._prepare("drop" if mode == "fill" else mode, 0)
        if self._eager(x, spec, arrays, None) and isinstance(func, np.ufunc):
            from ..prims.indexing import decode_index

            out = np.array(x, copy=True)
            func.at(out, decode_index(spec, tuple(arrays)))
            return _unpad(out, padded)
        current = getitem(x, *arrays, spec=spec)
        return _unpad(index_set(x, func(current), *arrays, spec=spec), padded)


class At:
    """``x.at``: index it to get an :class:`IndexUpdate`."""

    __slots__ = ("_x",)

    def __init__(self, x: Any) -> None:
        self._x = x

    def __getitem__(self, idx: Any) -> IndexUpdate:
        return IndexUpdate(self._x, idx)
