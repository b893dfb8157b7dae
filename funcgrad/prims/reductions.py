"""Reductions and scans: sum, max, min, prod, cumsum, cumprod, argmax, argmin, argsort, all, any.

``axis`` is ``None`` or a tuple of non-negative ints (``funcgrad.numpy`` normalises it).
At ties, ``max``/``min`` share the derivative equally among the tied elements; with NaN elements,
among the NaNs (the result is NaN, and it is theirs).
``prod`` and ``cumprod`` are exact at zeros, to every order (their derivatives are built from
multiplications only, never a division).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._backend import ones_like_shape, zeros_like_shape
from ..core import OUTPUT, Primitive
from .elementwise import equal, isnan, logical_and, logical_or, where
from .factories import batch_to_front, nondiff
from .shape import astype, broadcast_to, broadcast_to_p, concatenate, reshape, reshape_p, slice_axis, transpose


def keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if d in axis else s for d, s in enumerate(shape))


def _batched_axes(x: Any, axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """``axis`` of the unbatched operation, for an operand whose batch axis is at 0."""
    return tuple(range(1, x.ndim)) if axis is None else tuple(a + 1 for a in axis)


def reduction_batch(prim: Primitive) -> Any:
    """Batching rule of a reduction with (axis, keepdims) parameters."""

    def batch(args: tuple, dims: tuple, axis: tuple[int, ...] | None, keepdims: bool) -> tuple[Any, int]:
        x = batch_to_front(args[0], dims[0])
        return prim.bind(x, axis=_batched_axes(x, axis), keepdims=keepdims), 0

    return batch


def _index_reduction_batch(prim: Primitive) -> Any:
    """Batching rule of argmax/argmin, which take one axis or None (the flattened array)."""

    def batch(args: tuple, dims: tuple, axis: int | None, keepdims: bool) -> tuple[Any, int]:
        x = batch_to_front(args[0], dims[0])
        if axis is not None:
            return prim.bind(x, axis=axis + 1, keepdims=keepdims), 0
        rest = int(np.prod(x.shape[1:], dtype=np.int64))
        flat = prim.bind(reshape(x, shape=(x.shape[0], rest)), axis=1, keepdims=False)
        return (reshape(flat, shape=(x.shape[0],) + (1,) * (x.ndim - 1)) if keepdims else flat), 0

    return batch


def _scan_batch(prim: Primitive) -> Any:
    """Batching rule of cumsum/cumprod (one axis)."""
    return lambda args, dims, axis: (prim.bind(batch_to_front(args[0], dims[0]), axis=axis + 1), 0)


def _expand(ct: Any, x: Any, axis: tuple[int, ...] | None) -> Any:
    """Reshape a reduced value so that it broadcasts against the unreduced ``x``."""
    if axis is None and not ct.shape:  # a total reduction: the 0-d value broadcasts as it is
        return ct
    kd = keepdims_shape(x.shape, axis)
    return ct if ct.shape == kd else reshape(ct, shape=kd)


_add_reduce: Callable[..., Any] = np.add.reduce  # options forwarded as given (NumPy's stubs want literals)


def _sum_of_array(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """np.sum of an array. np.sum is np.add.reduce behind a Python-level wrapper: same result,
    less overhead for a NumPy array; other libraries (Dask) implement np.sum but not ufunc.reduce."""
    if type(x) is np.ndarray:  # (positional: a call with keywords costs more)
        return _add_reduce(x, axis, None, None, True) if keepdims else _add_reduce(x, axis)
    return np.sum(x, axis=axis, keepdims=keepdims)


def _reduce_emit(reduce: Any, general: Any) -> Callable[..., str]:
    """Emit ``ufunc.reduce(x, axis[, None, None, True])`` for a NumPy array (np.sum and np.max
    are these behind a Python-level wrapper), else ``general(x, axis=..., keepdims=...)`` (Dask,
    CuPy, NumPy scalars, Python numbers)."""

    def emit(e: Any, args: list, bind: Any) -> str:
        from ..ir.codegen import ArraySource, literal_source

        axis, keepdims = (literal_source(e.params[k], bind) for k in ("axis", "keepdims"))
        slow = f"{bind(general)}({args[0]}, axis={axis}, keepdims={keepdims})"
        if e.inputs[0].aval.weak:
            return slow
        fast = f"{args[0]}, {axis}, None, None, True" if e.params["keepdims"] else f"{args[0]}, {axis}"
        if isinstance(args[0], ArraySource):  # known to be a NumPy array: no check
            return f"{bind(reduce)}({fast})"
        return f"({bind(reduce)}({fast}) if type({args[0]}) is {bind(np.ndarray)} else {slow})"

    return emit


_sum_emit = _reduce_emit(_add_reduce, np.sum)


def _sum_vjp_eager(ct: Any, out: Any, x: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    # sum's vjp rule (_expand and broadcast_to) for NumPy operands, with the impls of reshape
    # and broadcast_to.
    shape = x.shape
    if axis is not None or ct.shape:
        kd = keepdims_shape(shape, axis)
        if ct.shape != kd:
            ct = reshape_p.impl(ct, kd)
    elif shape and math.prod(shape) <= 1024 and (type(ct) is np.ndarray or isinstance(ct, np.generic)):
        # A total sum's 0-d cotangent: what broadcast_to's impl makes of it (a filled copy of a
        # small shape), filled with ndarray.fill instead of a broadcasting assignment.
        filled = np.empty(shape, ct.dtype)
        filled.fill(ct)
        return filled
    return broadcast_to_p.impl(ct, shape)


reduce_sum_p = Primitive(
    "sum",
    _sum_of_array,
    emit=lambda e, a, bind: _sum_emit(e, a, bind),
    jvp=(lambda t, out, x, axis, keepdims: reduce_sum(t, axis=axis, keepdims=keepdims),),
    vjp=(lambda ct, out, x, axis, keepdims: broadcast_to(_expand(ct, x, axis), shape=x.shape),),
    jvp_eager=(lambda t, out, x, axis, keepdims: _sum_of_array(t, axis=axis, keepdims=keepdims),),
    vjp_eager=(_sum_vjp_eager,),
    residuals=((0,),),  # the operand's shape
    # shape_role "reduce": a new value, never a view of the operand (jit's in-place writes rely on it)
    shape_role="reduce",
    batch_of=reduction_batch,
)
reduce_sum: Callable[..., Any] = reduce_sum_p.bind


def _extremum_weights(out: Any, x: Any, axis: tuple[int, ...] | None, dtype: Any) -> Any:
    # Indicator of the elements equal to the extremum, divided by how many tie. A NaN element
    # makes the extremum NaN, and the NaN elements get the derivative (as in PyTorch).
    extremum = _expand(out, x, axis)
    hit = logical_or(equal(x, extremum), logical_and(isnan(x), isnan(extremum)))
    count = reduce_sum(astype(hit, dtype=dtype), axis=axis, keepdims=True)
    return where(hit, 1.0 / count, 0.0)


def _extremum(name: str, impl: Any, ufunc: np.ufunc) -> Primitive:
    return Primitive(
        name,
        lambda x, axis, keepdims: impl(x, axis=axis, keepdims=keepdims),
        emit=_reduce_emit(ufunc.reduce, impl),
        jvp=(lambda t, out, x, axis, keepdims: reduce_sum(
            t * _extremum_weights(out, x, axis, out.dtype), axis=axis, keepdims=keepdims),),
        vjp=(lambda ct, out, x, axis, keepdims: _expand(ct, x, axis)
             * _extremum_weights(out, x, axis, out.dtype),),
        residuals=((0, OUTPUT),),
        shape_role="reduce", batch_of=reduction_batch)


reduce_max_p = _extremum("max", np.max, np.maximum)
reduce_min_p = _extremum("min", np.min, np.minimum)


def _others_along_last(flat: Any) -> Any:
    """For each element, the product of the other elements along the last axis.

    A product tree over the last axis (padded with ones to a power of two) is built upwards,
    then each node's product of everything outside it is pushed down: a child's is its parent's
    times its sibling's product. Only multiplications, O(n) of them: no division, so this is
    exact where elements are 0, and so are its derivatives (the Hessian of ``prod``).
    """
    from .indexing import getitem_static

    lead, n = flat.shape[:-1], flat.shape[-1]
    size = 1 << (n - 1).bit_length()
    if size > n:
        flat = concatenate(flat, ones_like_shape(flat, lead + (size - n,), flat.dtype), axis=len(lead))
    levels = [flat]
    while levels[-1].shape[-1] > 1:
        pairs = reshape(levels[-1], shape=lead + (levels[-1].shape[-1] // 2, 2))
        levels.append(getitem_static(pairs, (Ellipsis, 0)) * getitem_static(pairs, (Ellipsis, 1)))
    others = ones_like_shape(flat, lead + (1,), flat.dtype)
    for level in reversed(levels[:-1]):
        k = level.shape[-1]
        siblings = getitem_static(reshape(level, shape=lead + (k // 2, 2)), (Ellipsis, slice(None, None, -1)))
        others = reshape(reshape(others, shape=lead + (k // 2, 1)) * siblings, shape=lead + (k,))
    return others if size == n else slice_axis(others, len(lead), 0, n)


def _exclusive_products(x: Any, axis: tuple[int, ...] | None) -> Any:
    """For each element, the product of the other elements of its reduction group."""
    ndim = x.ndim
    if x.size == 0:
        return zeros_like_shape(x, x.shape, x.dtype)
    axes = tuple(range(ndim)) if axis is None else axis
    kept = tuple(d for d in range(ndim) if d not in axes)
    perm = kept + axes
    moved = transpose(x, axes=perm) if perm != tuple(range(ndim)) else x
    lead = tuple(x.shape[d] for d in kept)
    n = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
    flat = reshape(moved, shape=lead + (n,))
    others = reshape(_others_along_last(flat), shape=moved.shape)
    if perm == tuple(range(ndim)):
        return others
    return transpose(others, axes=tuple(int(i) for i in np.argsort(perm)))


reduce_prod_p = Primitive(
    "prod",
    lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    jvp=(lambda t, out, x, axis, keepdims: reduce_sum(
        t * _exclusive_products(x, axis), axis=axis, keepdims=keepdims),),
    vjp=(lambda ct, out, x, axis, keepdims: _expand(ct, x, axis) * _exclusive_products(x, axis),),
    batch_of=reduction_batch,
)


def _reverse_cumsum(x: Any, axis: int) -> Any:
    from .indexing import getitem_static

    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return getitem_static(cumsum(getitem_static(x, flip), axis=axis), flip)


cumsum_p = Primitive(
    "cumsum",
    lambda x, axis: np.cumsum(x, axis=axis),
    jvp=(lambda t, out, x, axis: cumsum(t, axis=axis),),
    vjp=(lambda ct, out, x, axis: _reverse_cumsum(ct, axis),),
    batch_of=_scan_batch,
)
cumsum: Callable[..., Any] = cumsum_p.bind

def _scan_steps(x: Any, axis: int) -> list[tuple[int, Any]]:
    """The steps of a Hillis-Steele product scan along ``axis``: (offset d, partial products
    before the step). A step multiplies each element by the one ``d`` before it, for d = 1, 2,
    4, ...; after them every element is the product of all elements up to it. Only
    multiplications: derivatives built on these steps are exact where elements are 0."""
    n = x.shape[axis]
    steps, y, d = [], x, 1
    while d < n:
        steps.append((d, y))
        y = concatenate(slice_axis(y, axis, 0, d), slice_axis(y, axis, d, n) * slice_axis(y, axis, 0, n - d),
                        axis=axis)
        d *= 2
    return steps


def _cumprod_jvp(t: Any, out: Any, x: Any, axis: int) -> Any:
    n = x.shape[axis]
    for d, y in _scan_steps(x, axis):  # the product rule, step by step
        t = concatenate(slice_axis(t, axis, 0, d), slice_axis(t, axis, d, n) * slice_axis(y, axis, 0, n - d)
                        + slice_axis(y, axis, d, n) * slice_axis(t, axis, 0, n - d), axis=axis)
    return t


def _cumprod_vjp(ct: Any, out: Any, x: Any, axis: int) -> Any:
    n = x.shape[axis]
    for d, y in reversed(_scan_steps(x, axis)):  # the transpose of each step of the jvp, in reverse
        tail = slice_axis(ct, axis, d, n)
        zeros = zeros_like_shape(ct, x.shape[:axis] + (d,) + x.shape[axis + 1:], np.result_type(ct.dtype, x.dtype))
        ct = (concatenate(slice_axis(ct, axis, 0, d), tail * slice_axis(y, axis, 0, n - d), axis=axis)
              + concatenate(tail * slice_axis(y, axis, d, n), zeros, axis=axis))
    return ct


cumprod_p = Primitive(
    "cumprod",
    lambda x, axis: np.cumprod(x, axis=axis),
    jvp=(_cumprod_jvp,),
    vjp=(_cumprod_vjp,),
    batch_of=_scan_batch,
)
cumprod = cumprod_p.bind

argmax_p = nondiff("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
                   elementwise=False, batch_of=_index_reduction_batch)
argmin_p = nondiff("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims),
                   elementwise=False, batch_of=_index_reduction_batch)
all_p = nondiff("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims), elementwise=False,
                batch_of=reduction_batch)
any_p = nondiff("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims), elementwise=False,
                batch_of=reduction_batch)


def _argsort_batch(args: tuple, dims: tuple, axis: int, kind: str | None) -> tuple[Any, int]:
    return argsort(batch_to_front(args[0], dims[0]), axis=axis + 1, kind=kind), 0


# The indices that sort ``x`` along ``axis`` (an int, normalised by funcgrad.numpy). No derivative:
# sort, partition, median and percentile gather with these indices, and their derivatives flow
# through that gather to the selected elements.
argsort_p = nondiff("argsort", lambda x, axis, kind: np.argsort(x, axis=axis, kind=kind), elementwise=False,
                    batch=_argsort_batch)
argsort = argsort_p.bind
