"""Reductions and scans: sum, max, min, prod, cumsum, cumprod, argmax, argmin, all, any.

``axis`` is ``None`` or a tuple of non-negative ints (``funcgrad.numpy`` normalises it).
At ties, ``max``/``min`` share the derivative equally among the tied elements.
``prod`` is exact at zeros (products of the other elements, never a division);
``cumprod``'s derivative divides by the input and is not defined where an element is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Primitive
from .elementwise import equal, where
from .factories import nondiff
from .shape import astype, broadcast_to, concatenate, reshape, slice_axis, transpose


def keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if d in axis else s for d, s in enumerate(shape))


def _expand(ct: Any, x: Any, axis: tuple[int, ...] | None) -> Any:
    """Reshape a reduced value so that it broadcasts against the unreduced ``x``."""
    kd = keepdims_shape(x.shape, axis)
    return ct if ct.shape == kd else reshape(ct, shape=kd)


reduce_sum_p = Primitive(
    "sum",
    lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    jvp=(lambda t, out, x, axis, keepdims: reduce_sum(t, axis=axis, keepdims=keepdims),),
    vjp=(lambda ct, out, x, axis, keepdims: broadcast_to(_expand(ct, x, axis), shape=x.shape),),
)
reduce_sum = reduce_sum_p.bind


def _extremum_weights(out: Any, x: Any, axis: tuple[int, ...] | None, dtype: Any) -> Any:
    # Indicator of the elements equal to the extremum, divided by how many tie.
    hit = equal(x, _expand(out, x, axis))
    count = reduce_sum(astype(hit, dtype=dtype), axis=axis, keepdims=True)
    return where(hit, 1.0 / count, 0.0)


def _extremum(name: str, impl: Any) -> Primitive:
    return Primitive(
        name,
        lambda x, axis, keepdims: impl(x, axis=axis, keepdims=keepdims),
        jvp=(lambda t, out, x, axis, keepdims: reduce_sum(
            t * _extremum_weights(out, x, axis, out.dtype), axis=axis, keepdims=keepdims),),
        vjp=(lambda ct, out, x, axis, keepdims: _expand(ct, x, axis)
             * _extremum_weights(out, x, axis, out.dtype),),
    )


reduce_max_p = _extremum("max", np.max)
reduce_min_p = _extremum("min", np.min)


def _exclusive_products(x: Any, axis: tuple[int, ...] | None) -> Any:
    """For each element, the product of the other elements of its reduction group."""
    ndim = x.ndim
    if x.size == 0:
        return np.zeros(x.shape, x.dtype)
    axes = tuple(range(ndim)) if axis is None else axis
    kept = tuple(d for d in range(ndim) if d not in axes)
    perm = kept + axes
    moved = transpose(x, axes=perm) if perm != tuple(range(ndim)) else x
    lead = tuple(x.shape[d] for d in kept)
    n = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
    flat = reshape(moved, shape=lead + (n,))
    ones = np.ones(lead + (1,), dtype=x.dtype)
    last = len(lead)
    left = cumprod(concatenate(ones, slice_axis(flat, last, 0, n - 1), axis=last), axis=last)
    from .indexing import getitem_static

    flip = (slice(None),) * last + (slice(None, None, -1),)
    rev = getitem_static(flat, flip)
    right = getitem_static(
        cumprod(concatenate(ones, slice_axis(rev, last, 0, n - 1), axis=last), axis=last), flip)
    others = reshape(left * right, shape=moved.shape)
    if perm == tuple(range(ndim)):
        return others
    return transpose(others, axes=tuple(int(i) for i in np.argsort(perm)))


reduce_prod_p = Primitive(
    "prod",
    lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    jvp=(lambda t, out, x, axis, keepdims: reduce_sum(
        t * _exclusive_products(x, axis), axis=axis, keepdims=keepdims),),
    vjp=(lambda ct, out, x, axis, keepdims: _expand(ct, x, axis) * _exclusive_products(x, axis),),
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
)
cumsum = cumsum_p.bind

cumprod_p = Primitive(
    "cumprod",
    lambda x, axis: np.cumprod(x, axis=axis),
    jvp=(lambda t, out, x, axis: out * cumsum(t / x, axis=axis),),
    vjp=(lambda ct, out, x, axis: _reverse_cumsum(ct * out, axis) / x,),
)
cumprod = cumprod_p.bind

argmax_p = nondiff("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
                   elementwise=False)
argmin_p = nondiff("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims),
                   elementwise=False)
all_p = nondiff("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims), elementwise=False)
any_p = nondiff("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims), elementwise=False)
