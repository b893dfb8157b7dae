"""JAX's ``lax`` array operations, composed from funcgrad's primitives.

Each is written with funcgrad operations, so it is differentiable in both modes, vmappable and
jittable with no rules of its own. Dtypes follow NumPy's promotion (funcgrad's contract) where
JAX would demand equal dtypes; indices come back as NumPy's ``intp``.
"""

from __future__ import annotations

import builtins
import enum
import math
from typing import Any, Callable, Sequence

import numpy as np

from .. import numpy as fnp
from ..core import Tracer

__all__ = [
    "Precision", "dot_general", "dot", "batch_matmul", "slice", "slice_in_dim", "index_in_dim",
    "dynamic_slice", "dynamic_slice_in_dim", "dynamic_index_in_dim", "dynamic_update_slice",
    "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim", "pad", "broadcast_in_dim", "broadcast",
    "broadcasted_iota", "iota", "expand_dims", "squeeze", "reshape", "transpose", "rev", "concatenate",
    "select_n", "clamp", "erf_inv", "rsqrt", "integer_pow", "convert_element_type", "stop_gradient", "sort",
    "sort_key_val", "top_k", "cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp", "reduce", "reduce_sum",
    "reduce_prod", "reduce_max", "reduce_min", "reduce_and", "reduce_or", "reduce_xor", "argmax", "argmin",
    "add", "sub", "mul", "div", "neg", "max", "min", "abs", "exp", "log", "sin", "cos", "tanh", "logistic",
    "sqrt", "square", "pow", "sign", "floor", "ceil", "round", "eq", "ne", "lt", "le", "gt", "ge", "select",
    "full", "full_like", "log1p", "expm1", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh",
    "acosh", "atanh", "is_finite", "rem", "conj", "real", "imag", "complex", "cbrt", "exp2", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "shift_left", "shift_right_arithmetic", "nextafter",
    "zeros_like_array", "erf", "erfc", "lgamma", "digamma", "collapse", "approx_max_k", "approx_min_k",
]


class Precision(enum.Enum):
    """Accepted for JAX compatibility and ignored: NumPy computes at the operands' precision."""

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2


# --- helpers --------------------------------------------------------------------------------------


def _arr(x: Any) -> Any:
    return x if isinstance(x, Tracer) else fnp.asarray(x)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _axis(a: int, ndim: int, what: str) -> int:
    if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
        raise ValueError(f"{what}: axis {a} is out of range for an array with {ndim} dimensions.")
    return a % ndim if ndim else 0


def _concrete_int(v: Any) -> int | None:
    """``v`` as a Python int if it is a concrete integer (not traced), else None."""
    if isinstance(v, Tracer):
        return None
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iu":
        return int(v)
    return None


def _index_list(start_indices: Any, n: int, what: str) -> list:
    """A sequence (or 1-d array) of ``n`` start indices as a list of scalars."""
    if isinstance(start_indices, (Tracer, np.ndarray)):
        if start_indices.ndim != 1:
            raise TypeError(f"{what}: start_indices must be a sequence or a 1-d array of integers, got an array "
                            f"of shape {tuple(start_indices.shape)}.")
        items = [start_indices[i] for i in range(start_indices.shape[0])]
    else:
        items = list(start_indices)
    if len(items) != n:
        raise TypeError(f"{what}: got {len(items)} start indices for an operand with {n} dimensions; give one per "
                        "dimension.")
    for v in items:
        dt = np.asarray(v).dtype if not isinstance(v, Tracer) else v.dtype
        if dt.kind not in "iu":
            raise TypeError(f"{what}: start indices must be integers, got {v!r} of dtype {dt}.")
    return items


# --- contractions ---------------------------------------------------------------------------------


def dot_general(lhs: Any, rhs: Any, dimension_numbers: Any, precision: Any = None,
                preferred_element_type: Any = None, out_sharding: Any = None) -> Any:
    """General tensor contraction, as ``jax.lax.dot_general``.

    ``dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``. The result
    has the batch dimensions, then the free dimensions of ``lhs``, then those of ``rhs``.
    ``precision`` is accepted and ignored.

    >>> import numpy as np
    >>> dot_general(np.ones((2, 3, 4)), np.ones((2, 4, 5)), (((2,), (1,)), ((0,), (0,)))).shape
    (2, 3, 5)
    """
    lhs, rhs = _arr(lhs), _arr(rhs)
    try:
        (lc, rc), (lb, rb) = dimension_numbers
    except (TypeError, ValueError):
        raise TypeError(
            "dot_general: dimension_numbers must be ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch)), "
            f"got {dimension_numbers!r}."
        ) from None
    lc = [_axis(int(d), lhs.ndim, "dot_general") for d in lc]
    rc = [_axis(int(d), rhs.ndim, "dot_general") for d in rc]
    lb = [_axis(int(d), lhs.ndim, "dot_general") for d in lb]
    rb = [_axis(int(d), rhs.ndim, "dot_general") for d in rb]
    for name, a, b in (("contracting", lc, rc), ("batch", lb, rb)):
        if len(a) != len(b):
            raise TypeError(f"dot_general: {len(a)} lhs {name} dimensions but {len(b)} rhs ones; they must pair up.")
        for i, j in zip(a, b):
            if lhs.shape[i] != rhs.shape[j]:
                raise TypeError(f"dot_general: {name} dimension {i} of lhs (size {lhs.shape[i]}) and {j} of rhs "
                                f"(size {rhs.shape[j]}) must have the same size.")
    if len(set(lc + lb)) != len(lc + lb) or len(set(rc + rb)) != len(rc + rb):
        raise TypeError("dot_general: a dimension is listed twice among the contracting and batch dimensions.")
    lf = [d for d in range(lhs.ndim) if d not in lc and d not in lb]
    rf = [d for d in range(rhs.ndim) if d not in rc and d not in rb]
    batch = tuple(lhs.shape[d] for d in lb)
    lfree, rfree = tuple(lhs.shape[d] for d in lf), tuple(rhs.shape[d] for d in rf)
    k = math.prod(lhs.shape[d] for d in lc)
    a = fnp.reshape(fnp.transpose(lhs, lb + lf + lc), (math.prod(batch), math.prod(lfree), k))
    b = fnp.reshape(fnp.transpose(rhs, rb + rc + rf), (math.prod(batch), k, math.prod(rfree)))
    out = fnp.reshape(fnp.matmul(a, b), batch + lfree + rfree)
    if preferred_element_type is not None and out.dtype != np.dtype(preferred_element_type):
        out = out.astype(preferred_element_type)
    return out


def dot(lhs: Any, rhs: Any, precision: Any = None, preferred_element_type: Any = None) -> Any:
    """Vector/matrix product (``jax.lax.dot``): contracts the last axis of ``lhs`` with the first of ``rhs``.

    >>> import numpy as np
    >>> dot(np.ones((2, 3)), np.ones(3))
    array([3., 3.])
    """
    lhs, rhs = _arr(lhs), _arr(rhs)
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (0,)), ((), ())), precision, preferred_element_type)


def batch_matmul(lhs: Any, rhs: Any, precision: Any = None) -> Any:
    """Batched matrix product over leading dimensions (``jax.lax.batch_matmul``)."""
    lhs, rhs = _arr(lhs), _arr(rhs)
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise ValueError(f"batch_matmul needs operands of equal rank >= 2, got shapes {lhs.shape} and {rhs.shape}.")
    n = lhs.ndim
    return dot_general(lhs, rhs, (((n - 1,), (n - 2,)), (tuple(range(n - 2)), tuple(range(n - 2)))), precision)


# --- slicing --------------------------------------------------------------------------------------


def slice(operand: Any, start_indices: Sequence[int], limit_indices: Sequence[int],  # noqa: A001
          strides: Sequence[int] | None = None) -> Any:
    """``operand[start:limit:stride]`` in every dimension; the bounds must lie within the array.

    >>> import numpy as np
    >>> slice(np.arange(10), (2,), (8,), (3,))
    array([2, 5])
    """
    x = _arr(operand)
    n = x.ndim
    strides = (1,) * n if strides is None else tuple(strides)
    if not (len(start_indices) == len(limit_indices) == len(strides) == n):
        raise TypeError(f"slice: start_indices, limit_indices and strides need one entry per dimension ({n}).")
    for d, (s, e, st) in enumerate(zip(start_indices, limit_indices, strides)):
        if not (0 <= s <= e <= x.shape[d]) or st < 1:
            raise ValueError(f"slice: dimension {d} of size {x.shape[d]} cannot be sliced from {s} to {e} with "
                             f"stride {st}; need 0 <= start <= limit <= size and stride >= 1.")
    return x[tuple(builtins.slice(int(s), int(e), int(st)) for s, e, st in zip(start_indices, limit_indices, strides))
             + (Ellipsis,)]


def slice_in_dim(operand: Any, start_index: int | None, limit_index: int | None, stride: int = 1,
                 axis: int = 0) -> Any:
    """``slice`` along one axis (negative and None bounds read as in Python)."""
    x = _arr(operand)
    axis = _axis(axis, x.ndim, "slice_in_dim")
    start, limit, _ = builtins.slice(start_index, limit_index).indices(x.shape[axis])
    starts, limits, strides = [0] * x.ndim, list(x.shape), [1] * x.ndim
    starts[axis], limits[axis], strides[axis] = start, builtins.max(limit, start), stride
    return slice(x, starts, limits, strides)


def index_in_dim(operand: Any, index: int, axis: int = 0, keepdims: bool = True) -> Any:
    """Element ``index`` along ``axis`` (kept as a size-1 axis unless ``keepdims=False``)."""
    x = _arr(operand)
    axis = _axis(axis, x.ndim, "index_in_dim")
    n = x.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"index_in_dim: index {index} is out of bounds for axis {axis} of size {n}.")
    out = slice_in_dim(x, index % n, index % n + 1, 1, axis)
    return out if keepdims else fnp.squeeze(out, axis)


def _dynamic_starts(x: Any, starts: list, sizes: Sequence[int], what: str) -> tuple[list, bool]:
    """Start indices wrapped (negative from the end) and clamped so the slice fits, as in JAX;
    and whether they are all concrete."""
    out, concrete = [], True
    for d, (s, size) in enumerate(zip(starts, sizes)):
        n = x.shape[d]
        if not 0 <= size <= n:
            raise TypeError(f"{what}: slice size {size} does not fit dimension {d} of size {n}.")
        c = _concrete_int(s)
        if c is not None:
            c = c + n if c < 0 else c
            out.append(builtins.min(builtins.max(c, 0), n - size))
        else:
            concrete = False
            s = fnp.where(s < 0, s + n, s)
            out.append(fnp.clip(s, 0, n - size))
    return out, concrete


def _mesh(starts: list, sizes: Sequence[int]) -> tuple:
    """Open-mesh index arrays selecting the block ``start + arange(size)`` in every dimension."""
    n = len(sizes)
    idx = []
    for d, (s, size) in enumerate(zip(starts, sizes)):
        shape = [1] * n
        shape[d] = size
        idx.append(fnp.reshape(fnp.asarray(s) + np.arange(size).reshape(shape), shape))
    return tuple(idx)


def dynamic_slice(operand: Any, start_indices: Any, slice_sizes: Sequence[int], *,
                  allow_negative_indices: bool = True) -> Any:
    """The block of shape ``slice_sizes`` starting at ``start_indices``, which may be traced.

    As in JAX, negative starts count from the end and starts are clamped so the block fits.

    >>> import numpy as np
    >>> dynamic_slice(np.arange(10), (8,), (4,))
    array([6, 7, 8, 9])
    """
    x = _arr(operand)
    sizes = tuple(int(s) for s in slice_sizes)
    if len(sizes) != x.ndim:
        raise TypeError(f"dynamic_slice: slice_sizes has {len(sizes)} entries for an operand with {x.ndim} dimensions.")
    starts, concrete = _dynamic_starts(x, _index_list(start_indices, x.ndim, "dynamic_slice"), sizes, "dynamic_slice")
    if concrete:  # (the trailing Ellipsis keeps a 0-d result an array)
        return x[tuple(builtins.slice(s, s + size) for s, size in zip(starts, sizes)) + (Ellipsis,)]
    return fnp.at(x)[_mesh(starts, sizes)].get()


def dynamic_update_slice(operand: Any, update: Any, start_indices: Any, *,
                         allow_negative_indices: bool = True) -> Any:
    """``operand`` with the block at ``start_indices`` replaced by ``update`` (starts clamped as in
    :func:`dynamic_slice`). Differentiable in both ``operand`` and ``update``.

    >>> import numpy as np
    >>> dynamic_update_slice(np.zeros(5), np.ones(2), (4,))
    array([0., 0., 0., 1., 1.])
    """
    x, u = _arr(operand), _arr(update)
    if u.ndim != x.ndim:
        raise TypeError(f"dynamic_update_slice: update has {u.ndim} dimensions but operand has {x.ndim}; they must "
                        "match.")
    sizes = tuple(u.shape)
    starts, concrete = _dynamic_starts(x, _index_list(start_indices, x.ndim, "dynamic_update_slice"), sizes,
                                       "dynamic_update_slice")
    if concrete:
        return fnp.at(x)[tuple(builtins.slice(s, s + size) for s, size in zip(starts, sizes))].set(u)
    return fnp.at(x)[_mesh(starts, sizes)].set(u)


def _in_dim_starts(x: Any, index: Any, axis: int) -> list:
    starts: list = [0] * x.ndim
    starts[axis] = index
    return starts


def dynamic_slice_in_dim(operand: Any, start_index: Any, slice_size: int, axis: int = 0) -> Any:
    """:func:`dynamic_slice` along one axis."""
    x = _arr(operand)
    axis = _axis(axis, x.ndim, "dynamic_slice_in_dim")
    sizes = list(x.shape)
    sizes[axis] = slice_size
    return dynamic_slice(x, _in_dim_starts(x, start_index, axis), sizes)


def dynamic_index_in_dim(operand: Any, index: Any, axis: int = 0, keepdims: bool = True) -> Any:
    """Element ``index`` (may be traced) along ``axis``, as a size-1 axis unless ``keepdims=False``."""
    x = _arr(operand)
    axis = _axis(axis, x.ndim, "dynamic_index_in_dim")
    out = dynamic_slice_in_dim(x, index, 1, axis)
    return out if keepdims else fnp.squeeze(out, axis)


def dynamic_update_slice_in_dim(operand: Any, update: Any, start_index: Any, axis: int) -> Any:
    """:func:`dynamic_update_slice` along one axis."""
    x = _arr(operand)
    axis = _axis(axis, x.ndim, "dynamic_update_slice_in_dim")
    return dynamic_update_slice(x, update, _in_dim_starts(x, start_index, axis))


def dynamic_update_index_in_dim(operand: Any, update: Any, index: Any, axis: int) -> Any:
    """Replace element ``index`` along ``axis``; ``update`` may lack that axis."""
    x, u = _arr(operand), _arr(update)
    axis = _axis(axis, x.ndim, "dynamic_update_index_in_dim")
    if u.ndim == x.ndim - 1:
        u = fnp.expand_dims(u, axis)
    return dynamic_update_slice_in_dim(x, u, index, axis)


# --- padding and broadcasting ---------------------------------------------------------------------


def pad(operand: Any, padding_value: Any, padding_config: Sequence[tuple[int, int, int]]) -> Any:
    """Pad with ``padding_value``: ``padding_config`` has ``(low, high, interior)`` per dimension;
    negative ``low``/``high`` crop. Differentiable in ``operand`` and in ``padding_value``.

    >>> import numpy as np
    >>> pad(np.array([1.0, 2.0]), 0.0, [(1, -1, 2)])
    array([0., 1., 0., 0.])
    """
    from ..prims.shape import pad as pad_prim

    x = _arr(operand)
    config = [tuple(int(v) for v in c) for c in padding_config]
    if len(config) != x.ndim or builtins.any(len(c) != 3 for c in config):
        raise TypeError(f"pad: padding_config needs one (low, high, interior) triple per dimension ({x.ndim}), got "
                        f"{padding_config!r}.")
    if builtins.any(c[2] < 0 for c in config):
        raise ValueError(f"pad: interior padding must be non-negative, got {padding_config!r}.")
    if x.ndim == 0:  # nothing to pad
        return x if isinstance(x, Tracer) else np.array(x, copy=True)
    value_concrete = not isinstance(padding_value, Tracer) and np.ndim(padding_value) == 0
    if value_concrete and builtins.all(lo >= 0 and hi >= 0 and i == 0 for lo, hi, i in config):
        value = np.asarray(padding_value).astype(x.dtype).item()
        return pad_prim(x, pad_width=tuple((lo, hi) for lo, hi, _ in config), value=value)
    inner = [0 if n == 0 else (n - 1) * (i + 1) + 1 for n, (_, _, i) in zip(x.shape, config)]
    full_shape = tuple(builtins.max(lo, 0) + m + builtins.max(hi, 0) for m, (lo, hi, _) in zip(inner, config))
    if builtins.any(s < 0 for s in full_shape):
        raise ValueError(f"pad: padding_config {padding_config!r} crops more than the dimension holds.")
    value = _arr(padding_value)
    if value.ndim != 0:
        raise TypeError(f"pad: padding_value must be a scalar, got shape {value.shape}.")
    if value.dtype != x.dtype:
        value = value.astype(x.dtype)
    base = fnp.broadcast_to(value, full_shape)
    where = tuple(builtins.slice(builtins.max(lo, 0), builtins.max(lo, 0) + m, i + 1)
                  for m, (lo, _, i) in zip(inner, config))
    out = fnp.at(base)[where].set(x) if x.size else base
    crop = tuple(builtins.slice(builtins.max(-lo, 0), s - builtins.max(-hi, 0))
                 for s, (lo, hi, _) in zip(full_shape, config))
    return out[crop] if builtins.any(lo < 0 or hi < 0 for lo, hi, _ in config) else out


def broadcast_in_dim(operand: Any, shape: Sequence[int], broadcast_dimensions: Sequence[int], *,
                     out_sharding: Any = None) -> Any:
    """Broadcast to ``shape``, operand dimension ``i`` becoming dimension ``broadcast_dimensions[i]``.

    >>> import numpy as np
    >>> broadcast_in_dim(np.array([1, 2]), (2, 3), (0,))
    array([[1, 1, 1],
           [2, 2, 2]])
    """
    x = _arr(operand)
    shape, dims = tuple(int(s) for s in shape), tuple(int(d) for d in broadcast_dimensions)
    if len(dims) != x.ndim or builtins.any(b <= a for a, b in zip(dims, dims[1:])) or \
            builtins.any(not 0 <= d < len(shape) for d in dims):
        raise TypeError(f"broadcast_in_dim: broadcast_dimensions {dims} must be strictly increasing, within the "
                        f"{len(shape)} output dimensions, with one entry per operand dimension ({x.ndim}).")
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        if x.shape[i] not in (1, shape[d]):
            raise TypeError(f"broadcast_in_dim: operand dimension {i} has size {x.shape[i]}, which cannot broadcast "
                            f"to size {shape[d]} of output dimension {d}.")
        expanded[d] = x.shape[i]
    return fnp.broadcast_to(fnp.reshape(x, expanded), shape)


def broadcast(operand: Any, sizes: Sequence[int]) -> Any:
    """Add leading dimensions of the given sizes."""
    x = _arr(operand)
    sizes = tuple(sizes)
    return broadcast_in_dim(x, sizes + x.shape, tuple(range(len(sizes), len(sizes) + x.ndim)))


def iota(dtype: Any, size: int, *, sharding: Any = None) -> np.ndarray:
    """``arange(size)`` in ``dtype``."""
    return np.arange(size, dtype=dtype)


def broadcasted_iota(dtype: Any, shape: Sequence[int], dimension: int, *, sharding: Any = None) -> np.ndarray:
    """An array of ``shape`` counting along ``dimension``."""
    shape = tuple(shape)
    dimension = _axis(dimension, len(shape), "broadcasted_iota")
    r = [1] * len(shape)
    r[dimension] = shape[dimension]
    return np.broadcast_to(np.arange(shape[dimension], dtype=dtype).reshape(r), shape).copy()


def expand_dims(array: Any, dimensions: Sequence[int]) -> Any:
    return fnp.expand_dims(_arr(array), tuple(dimensions))


def squeeze(array: Any, dimensions: Sequence[int]) -> Any:
    return fnp.squeeze(_arr(array), tuple(dimensions))


def reshape(operand: Any, new_sizes: Sequence[int], dimensions: Sequence[int] | None = None, *,
            out_sharding: Any = None) -> Any:
    """Reshape (row-major), after transposing by ``dimensions`` if given."""
    x = _arr(operand)
    if dimensions is not None:
        x = fnp.transpose(x, tuple(dimensions))
    return fnp.reshape(x, tuple(new_sizes))


def transpose(operand: Any, permutation: Sequence[int]) -> Any:
    return fnp.transpose(_arr(operand), tuple(permutation))


def rev(operand: Any, dimensions: Sequence[int]) -> Any:
    """Reverse the order of elements along ``dimensions``."""
    x = _arr(operand)
    return x[tuple(builtins.slice(None, None, -1) if d in {a % builtins.max(x.ndim, 1) for a in dimensions}
                   else builtins.slice(None) for d in range(x.ndim))]


def concatenate(operands: Sequence[Any], dimension: int) -> Any:
    return fnp.concatenate([_arr(o) for o in operands], axis=dimension)


def full(shape: Sequence[int], fill_value: Any, dtype: Any = None, *, sharding: Any = None) -> Any:
    return fnp.full(tuple(shape), fill_value, dtype=dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None, shape: Any = None, sharding: Any = None) -> Any:
    x = _arr(x)
    return fnp.full(tuple(x.shape) if shape is None else tuple(shape), fill_value, dtype=x.dtype if dtype is None
                    else dtype)


# --- elementwise ----------------------------------------------------------------------------------


def select_n(which: Any, *cases: Any) -> Any:
    """``cases[which]`` elementwise: ``which`` is boolean (two cases) or an integer array.

    >>> import numpy as np
    >>> select_n(np.array([True, False]), np.zeros(2), np.ones(2))
    array([1., 0.])
    """
    if not cases:
        raise ValueError("select_n needs at least one case.")
    which = _arr(which)
    if which.dtype == np.bool_:
        if len(cases) > 2:
            raise TypeError(f"select_n with a boolean selector takes at most 2 cases, got {len(cases)}; use an "
                            "integer selector.")
        return cases[0] if len(cases) == 1 else fnp.where(which, cases[1], cases[0])
    if which.dtype.kind not in "iu":
        raise TypeError(f"select_n: the selector must be boolean or integer, got dtype {which.dtype}.")
    out = cases[0]
    for i, case in enumerate(cases[1:], start=1):
        out = fnp.where(which == i, case, out)
    return out


def select(pred: Any, on_true: Any, on_false: Any) -> Any:
    """``where(pred, on_true, on_false)`` (``jax.lax.select``)."""
    return select_n(pred, on_false, on_true)


def clamp(min: Any, x: Any, max: Any) -> Any:  # noqa: A002
    """``x`` limited to ``[min, max]`` elementwise, in ``x``'s dtype. Where ``x`` is clamped the
    derivative flows to the bound; elsewhere (ties included) to ``x``.

    >>> import numpy as np
    >>> clamp(0.0, np.array([-1.0, 0.5, 2.0]), 1.0)
    array([0. , 0.5, 1. ])
    """
    x = _arr(x)
    out = fnp.where(x < min, min, fnp.where(x > max, max, x))
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def erf_inv(x: Any) -> Any:
    """The inverse error function."""
    from ..scipy.special import erfinv

    return erfinv(x)


def rsqrt(x: Any) -> Any:
    """``1 / sqrt(x)``."""
    s = fnp.sqrt(x)
    return fnp.reciprocal(s)


def integer_pow(x: Any, y: int) -> Any:
    """``x ** y`` for a static Python integer ``y``.

    >>> import numpy as np
    >>> integer_pow(np.array([2.0, 3.0]), 3)
    array([ 8., 27.])
    """
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, np.integer)):
        raise TypeError(f"integer_pow: the exponent must be a Python int, got {y!r}; use funcgrad.numpy.power for "
                        "other exponents.")
    x = _arr(x)
    y = int(y)
    if y == 0:
        return fnp.ones_like(x)
    if y == 1:
        return x
    return x ** y


def convert_element_type(operand: Any, new_dtype: Any, weak_type: bool = False, sharding: Any = None) -> Any:
    """Cast to ``new_dtype``; complex to real keeps the real part (as JAX does).

    >>> import numpy as np
    >>> convert_element_type(np.array([1.7, -1.7]), np.int32)
    array([ 1, -1], dtype=int32)
    """
    x = _arr(operand)
    dtype = np.dtype(new_dtype)
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = fnp.real(x)
    return x if x.dtype == dtype else x.astype(dtype)


def stop_gradient(x: Any) -> Any:
    """``x`` with no derivative flowing through it (a pytree)."""
    from .. import stop_gradient as sg

    return sg(x)


# --- sorting --------------------------------------------------------------------------------------


def sort(operand: Any, dimension: int = -1, is_stable: bool = True, num_keys: int = 1) -> Any:
    """Sort along ``dimension``. ``operand`` may be a sequence of arrays of one shape: all are
    permuted by the lexicographic order of the first ``num_keys`` (as ``jax.lax.sort``).

    >>> import numpy as np
    >>> sort((np.array([2, 1, 2]), np.array([0.0, 1.0, 2.0])))
    (array([1, 2, 2]), array([1., 0., 2.]))
    """
    single = not isinstance(operand, (tuple, list))
    ops = [_arr(operand)] if single else [_arr(o) for o in operand]
    if not ops:
        raise TypeError("sort needs at least one operand.")
    if not 1 <= num_keys <= len(ops):
        raise ValueError(f"sort: num_keys={num_keys} must be between 1 and the number of operands ({len(ops)}).")
    shape = ops[0].shape
    if builtins.any(o.shape != shape for o in ops):
        raise TypeError(f"sort: every operand must have the same shape, got {[tuple(o.shape) for o in ops]}.")
    if not shape:
        raise TypeError("sort of a 0-d array: there is no dimension to sort along.")
    axis = _axis(dimension, len(shape), "sort")
    keys = ops[:num_keys]
    perm = fnp.argsort(keys[-1], axis=axis, kind="stable")
    for key in reversed(keys[:-1]):
        perm = fnp.take_along_axis(perm, fnp.argsort(fnp.take_along_axis(key, perm, axis), axis=axis, kind="stable"),
                                   axis)
    out = tuple(fnp.take_along_axis(o, perm, axis) for o in ops)
    return out[0] if single else out


def sort_key_val(keys: Any, values: Any, dimension: int = -1, is_stable: bool = True) -> tuple[Any, Any]:
    """Sort ``keys`` along ``dimension`` and permute ``values`` the same way."""
    return sort((keys, values), dimension, is_stable, num_keys=1)


def top_k(operand: Any, k: int, *, axis: int = -1) -> tuple[Any, Any]:
    """The ``k`` largest entries along ``axis`` (last by default), largest first, and their indices
    (earlier index first among ties).

    >>> import numpy as np
    >>> top_k(np.array([1.0, 3.0, 2.0, 3.0]), 2)
    (array([3., 3.]), array([1, 3]))
    """
    x = _arr(operand)
    if x.ndim == 0:
        raise TypeError("top_k of a 0-d array: there is no axis to select along.")
    axis = _axis(axis, x.ndim, "top_k")
    n = x.shape[axis]
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"top_k: k must be an integer in [0, {n}] (the size of axis {axis}), got {k!r}.")
    if x.dtype == np.bool_:
        desc = fnp.logical_not(x)
    elif x.dtype.kind == "u":
        desc = np.iinfo(x.dtype).max - x
    else:
        desc = -x
    perm = fnp.argsort(desc, axis=axis, kind="stable")
    perm = perm[(builtins.slice(None),) * axis + (builtins.slice(0, int(k)),)]
    return fnp.take_along_axis(x, perm, axis), perm


# --- cumulative reductions ------------------------------------------------------------------------


def _flip(x: Any, axis: int) -> Any:
    return x[(builtins.slice(None),) * axis + (builtins.slice(None, None, -1),)]


def _scan_identity(dtype: np.dtype, kind: str) -> Any:
    if kind == "max":
        return False if dtype == np.bool_ else (-np.inf if dtype.kind in "fc" else int(np.iinfo(dtype).min))
    if kind == "min":
        return True if dtype == np.bool_ else (np.inf if dtype.kind in "fc" else int(np.iinfo(dtype).max))
    return -np.inf  # logaddexp


def _prefix_scan(x: Any, axis: int, op: Callable[[Any, Any], Any], identity: Any) -> Any:
    """Inclusive scan by doubling (Hillis-Steele): log2(n) elementwise steps, each differentiable."""
    from ..prims.shape import pad as pad_prim

    n = x.shape[axis]
    shift = 1
    while shift < n:
        earlier = x[(builtins.slice(None),) * axis + (builtins.slice(0, n - shift),)]
        widths = tuple((shift, 0) if d == axis else (0, 0) for d in range(x.ndim))
        x = op(x, pad_prim(earlier, pad_width=widths, value=identity))
        shift *= 2
    return x


def _cumulative(name: str, operand: Any, axis: int, reverse: bool) -> Any:
    x = _arr(operand)
    if x.ndim == 0:
        raise ValueError(f"{name} of a 0-d array: there is no axis to accumulate along.")
    axis = _axis(axis, x.ndim, name)
    if reverse:
        x = _flip(x, axis)
    if name == "cumsum":
        out = fnp.cumsum(x, axis=axis)
    elif name == "cumprod":
        out = fnp.cumprod(x, axis=axis)
    elif name in ("cummax", "cummin"):
        kind = name[3:]
        op = fnp.maximum if kind == "max" else fnp.minimum
        out = _prefix_scan(x, axis, op, _scan_identity(x.dtype, kind))
    else:
        if x.dtype.kind not in "fc":
            x = x.astype(np.result_type(x.dtype, np.float16))
        out = _prefix_scan(x, axis, fnp.logaddexp, -np.inf)
    return _flip(out, axis) if reverse else out


def cumsum(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
    """Running sum along ``axis`` (from the end with ``reverse=True``)."""
    return _cumulative("cumsum", operand, axis, reverse)


def cumprod(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
    """Running product along ``axis``."""
    return _cumulative("cumprod", operand, axis, reverse)


def cummax(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
    """Running maximum along ``axis``; the derivative flows to the element holding the maximum.

    >>> import numpy as np
    >>> cummax(np.array([1.0, 3.0, 2.0, 4.0]))
    array([1., 3., 3., 4.])
    """
    return _cumulative("cummax", operand, axis, reverse)


def cummin(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
    """Running minimum along ``axis``."""
    return _cumulative("cummin", operand, axis, reverse)


def cumlogsumexp(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
    """Running ``log(sum(exp(x)))`` along ``axis``, computed stably (pairwise ``logaddexp``).

    >>> import numpy as np
    >>> np.round(cumlogsumexp(np.array([0.0, 0.0, -1000.0])), 6)
    array([0.      , 0.693147, 0.693147])
    """
    return _cumulative("cumlogsumexp", operand, axis, reverse)


# --- reductions -----------------------------------------------------------------------------------


def _axes(operand: Any, axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(_axis(int(a), operand.ndim, "reduce") for a in axes)


def reduce_sum(operand: Any, axes: Sequence[int]) -> Any:
    x = _arr(operand)
    return fnp.sum(x, axis=_axes(x, axes))


def reduce_prod(operand: Any, axes: Sequence[int]) -> Any:
    x = _arr(operand)
    return fnp.prod(x, axis=_axes(x, axes))


def reduce_max(operand: Any, axes: Sequence[int]) -> Any:
    x = _arr(operand)
    return fnp.max(x, axis=_axes(x, axes))


def reduce_min(operand: Any, axes: Sequence[int]) -> Any:
    x = _arr(operand)
    return fnp.min(x, axis=_axes(x, axes))


def reduce_and(operand: Any, axes: Sequence[int]) -> Any:
    x = _arr(operand)
    return fnp.all(x, axis=_axes(x, axes))


def reduce_or(operand: Any, axes: Sequence[int]) -> Any:
    x = _arr(operand)
    return fnp.any(x, axis=_axes(x, axes))


def reduce_xor(operand: Any, axes: Sequence[int]) -> Any:
    """Exclusive or along ``axes`` (booleans: odd number of True)."""
    x = _arr(operand)
    if x.dtype != np.bool_:
        raise TypeError(f"reduce_xor supports boolean operands, got dtype {x.dtype}.")
    return fnp.sum(x, axis=_axes(x, axes)) % 2 == 1


def argmax(operand: Any, axis: int, index_dtype: Any) -> Any:
    return fnp.argmax(_arr(operand), axis=axis).astype(index_dtype)


def argmin(operand: Any, axis: int, index_dtype: Any) -> Any:
    return fnp.argmin(_arr(operand), axis=axis).astype(index_dtype)


# The lax names of NumPy's elementwise functions (also what reduce/reduce_window recognise).
add, sub, mul, div, neg = fnp.add, fnp.subtract, fnp.multiply, fnp.true_divide, fnp.negative
max, min, abs, exp, log = fnp.maximum, fnp.minimum, fnp.absolute, fnp.exp, fnp.log  # noqa: A001
sin, cos, tanh, sqrt, square, pow = fnp.sin, fnp.cos, fnp.tanh, fnp.sqrt, fnp.square, fnp.power  # noqa: A001
sign, floor, ceil, round = fnp.sign, fnp.floor, fnp.ceil, fnp.round  # noqa: A001
eq, ne, lt, le, gt, ge = fnp.equal, fnp.not_equal, fnp.less, fnp.less_equal, fnp.greater, fnp.greater_equal


log1p, expm1, tan, sinh, cosh = fnp.log1p, fnp.expm1, fnp.tan, fnp.sinh, fnp.cosh
asin, acos, atan, atan2 = fnp.arcsin, fnp.arccos, fnp.arctan, fnp.arctan2
asinh, acosh, atanh, is_finite = fnp.arcsinh, fnp.arccosh, fnp.arctanh, fnp.isfinite
rem = fnp.fmod  # C's remainder: the sign of the dividend, as lax.rem
conj, real, imag, cbrt, exp2 = fnp.conjugate, fnp.real, fnp.imag, fnp.cbrt, fnp.exp2
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = fnp.bitwise_and, fnp.bitwise_or, fnp.bitwise_xor, fnp.invert
shift_left, shift_right_arithmetic, nextafter = fnp.left_shift, fnp.right_shift, fnp.nextafter


def complex(x: Any, y: Any) -> Any:  # noqa: A001
    """``x + 1j * y``."""
    return fnp.add(x, fnp.multiply(y, 1j))


def zeros_like_array(x: Any) -> Any:
    return fnp.zeros_like(_arr(x))


def erf(x: Any) -> Any:
    from ..scipy.special import erf as f

    return f(x)


def erfc(x: Any) -> Any:
    from ..scipy.special import erfc as f

    return f(x)


def lgamma(x: Any) -> Any:
    from ..scipy.special import gammaln

    return gammaln(x)


def digamma(x: Any) -> Any:
    from ..scipy.special import digamma as f

    return f(x)


def collapse(operand: Any, start_dimension: int, stop_dimension: int | None = None) -> Any:
    """Merge dimensions ``start_dimension:stop_dimension`` into one."""
    x = _arr(operand)
    stop = x.ndim if stop_dimension is None else stop_dimension
    shape = tuple(x.shape)
    return fnp.reshape(x, shape[:start_dimension] + (math.prod(shape[start_dimension:stop]),) + shape[stop:])


def approx_max_k(operand: Any, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
                 reduction_input_size_override: int = -1, aggregate_to_topk: bool = True) -> tuple[Any, Any]:
    """The exact :func:`top_k` (along ``reduction_dimension``)."""
    return top_k(operand, k, axis=reduction_dimension)


def approx_min_k(operand: Any, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
                 reduction_input_size_override: int = -1, aggregate_to_topk: bool = True) -> tuple[Any, Any]:
    """The ``k`` smallest entries and their indices (exact)."""
    values, idx = top_k(fnp.negative(_arr(operand)), k, axis=reduction_dimension)
    return fnp.negative(values), idx


def logistic(x: Any) -> Any:
    """``1 / (1 + exp(-x))``."""
    from ..scipy.special import expit

    return expit(x)


_KNOWN = {"add": (fnp.add, np.add), "mul": (fnp.multiply, np.multiply), "max": (fnp.maximum, np.maximum),
          "min": (fnp.minimum, np.minimum)}


def known_computation(computation: Callable[..., Any]) -> str | None:
    """'add', 'mul', 'max' or 'min' when ``computation`` is one of those binary operations."""
    import operator

    if computation is operator.add:
        return "add"
    if computation is operator.mul:
        return "mul"
    for name, fns in _KNOWN.items():
        if builtins.any(computation is f for f in fns):
            return name
    return None


def _weak(init: Any, dtype: np.dtype) -> Any:
    """An initial value: a Python scalar takes the operand's dtype (NumPy's weak scalars)."""
    if isinstance(init, (bool, int, float, builtins.complex)) and not isinstance(init, np.generic):
        return np.asarray(init).astype(dtype) if dtype != np.bool_ or isinstance(init, bool) else np.asarray(init)
    return _arr(init)


def _fold(computation: Callable[..., Any], operands: list, inits: list, axes: tuple[int, ...]) -> list:
    """Fold ``computation`` over ``axes`` one element at a time, starting from ``inits``."""
    moved = []
    for x in operands:
        rest = [d for d in range(x.ndim) if d not in axes]
        x = fnp.transpose(x, axes + tuple(rest))
        moved.append(fnp.reshape(x, (-1,) + tuple(x.shape[len(axes):])))
    out_shape = tuple(moved[0].shape[1:])
    acc = [fnp.broadcast_to(_weak(i, x.dtype), out_shape) for i, x in zip(inits, operands)]
    for k in range(moved[0].shape[0]):
        res = computation(*acc, *[m[k] for m in moved]) if len(acc) == 1 else computation(
            tuple(acc), tuple(m[k] for m in moved))
        acc = [res] if len(acc) == 1 else list(res)
    return acc


def reduce(operands: Any, init_values: Any, computation: Callable[..., Any], dimensions: Sequence[int]) -> Any:
    """Reduce ``operands`` over ``dimensions`` with the binary ``computation``, starting from
    ``init_values`` (``jax.lax.reduce``). Known computations (add, mul, max, min) use NumPy's
    reductions; any other callable is folded element by element.

    >>> import numpy as np
    >>> reduce(np.arange(6.0).reshape(2, 3), 0.0, add, (1,))
    array([ 3., 12.])
    """
    multi = isinstance(operands, (tuple, list))
    ops = [_arr(o) for o in operands] if multi else [_arr(operands)]
    inits = list(init_values) if multi else [init_values]
    if len(inits) != len(ops):
        raise TypeError(f"reduce: {len(ops)} operands but {len(inits)} init_values.")
    axes = _axes(ops[0], dimensions)
    kind = known_computation(computation)
    if not multi and kind is not None:
        x = ops[0]
        if builtins.any(x.shape[a] == 0 for a in axes):  # nothing to reduce: the initial value
            init = _arr(inits[0])
            return fnp.broadcast_to(init.astype(x.dtype) if init.dtype != x.dtype else init,
                                    tuple(s for d, s in enumerate(x.shape) if d not in axes))
        reducers: dict[str, Callable[..., Any]] = {"add": fnp.sum, "mul": fnp.prod, "max": fnp.max, "min": fnp.min}
        red = reducers[kind](x, axis=axes)
        return computation(red, inits[0])
    out = _fold(computation, ops, inits, axes)
    return tuple(out) if multi else out[0]
