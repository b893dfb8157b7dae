"""Functions whose result's shape depends on values: ``nonzero``, ``argwhere``,
``flatnonzero``, ``compress``, ``extract``, ``unique`` (and its array-API variants), ``trim_zeros``;
and the set operations ``isin``, ``intersect1d``, ``union1d``, ``setdiff1d``, ``setxor1d``.

On concrete values (plain arrays, or traced values under ``grad``/``vjp``/``jvp``) the positions
are computed from the values, and selected values keep their derivatives (a gather). Under
``jit``/``vmap`` the values are unknown while tracing, so the result's length must be given, as in
JAX: ``size=`` (and ``fill_value=`` for the padding); without it a
:class:`~funcgrad.errors.ConcretizationError` names ``size=``. With ``size=`` the positions are
computed with a stable ``argsort`` of the mask, which traces like any other operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..core import Tracer, ValuelessTracer
from ..prims import elementwise as ew
from ..prims import reductions as prim_red
from ..prims import shape as sh
from ..prims.indexing import getitem, getitem_static
from . import reductions as red
from ._util import as_array, concrete, normalize_axis

if TYPE_CHECKING:
    from .._options import TrimSides

__all__ = ["nonzero", "argwhere", "flatnonzero", "count_nonzero", "compress", "extract", "unique", "unique_all",
           "unique_counts", "unique_inverse", "unique_values", "trim_zeros", "isin", "in1d", "intersect1d",
           "union1d", "setdiff1d", "setxor1d"]

_SIZE_FIX = ("Pass size= (the length of the result; with fill_value= for the padding) so that the shape is "
             "known while tracing, as in JAX: e.g. nonzero(x, size=3, fill_value=0).")


def _valueless(x: Any) -> bool:
    v = x
    while isinstance(v, Tracer):
        if isinstance(v, ValuelessTracer):
            return True
        v = v.primal
    return False


def _need_concrete(x: Any, name: str) -> np.ndarray:
    return np.asarray(concrete(x, name, _SIZE_FIX))


def _flat_positions(mask: Any, size: int) -> tuple[Any, Any]:
    """The flat positions of the first ``size`` true elements of ``mask`` (padded with 0), and
    a boolean saying which of the ``size`` slots hold a real position. Traceable: a stable argsort
    of ``not mask`` puts the true elements first, in order."""
    from .shape import ravel

    flat = ravel(mask)
    n = flat.shape[0]
    order = prim_red.argsort(ew.logical_not_p.bind(flat), axis=0, kind="stable")
    count = red.sum(flat)
    if size <= n:
        pos = getitem_static(order, (slice(0, size),))
    else:
        pos = sh.concatenate(order, np.zeros(size - n, dtype=order.dtype), axis=0)
    valid = ew.less(np.arange(size), count)
    return pos, valid


def _unravel(flat: Any, shape: tuple[int, ...]) -> list:
    out = []
    for d in range(len(shape)):
        stride = int(np.prod(shape[d + 1:], dtype=np.int64))
        out.append(ew.remainder(ew.floor_divide(flat, stride), shape[d]) if shape[d] else flat)
    return out


def nonzero(a: Any, *, size: int | None = None, fill_value: Any = None) -> tuple:
    """``numpy.nonzero``: a tuple of index arrays, one per axis (integers, no derivative).

    ``size=`` fixes the number of results (truncating, or padding with ``fill_value``, default
    0; one value or one per axis); it is required under ``jit``/``vmap``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nonzero(np.array([0.0, 2.0, 0.0, 3.0]))
    (array([1, 3]),)
    >>> fnp.nonzero(np.array([0.0, 2.0, 0.0, 3.0]), size=3, fill_value=-1)
    (array([ 1,  3, -1]),)
    """
    a = as_array(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead.")
    if size is None:
        if _valueless(a):
            _need_concrete(a, "nonzero")
        return np.nonzero(_need_concrete(a, "nonzero"))
    size = int(size)
    mask = a if a.dtype == np.bool_ else ew.not_equal_p.bind(a, 0)
    if not isinstance(mask, Tracer):
        idx = np.nonzero(mask)
        fills = _fills(fill_value, a.ndim)
        return tuple(np.concatenate([i[:size], np.full(max(size - len(i), 0), f, dtype=i.dtype)])
                     for i, f in zip(idx, fills, strict=True))
    pos, valid = _flat_positions(mask, size)
    fills = _fills(fill_value, a.ndim)
    return tuple(ew.where(valid, i, np.asarray(f, dtype=np.intp))
                 for i, f in zip(_unravel(pos, tuple(a.shape)), fills, strict=True))


def _fills(fill_value: Any, n: int) -> list:
    if fill_value is None:
        return [0] * n
    if isinstance(fill_value, (tuple, list)):
        if len(fill_value) != n:
            raise ValueError(f"fill_value must be a scalar or a tuple of length {n}; got {fill_value!r}")
        return list(fill_value)
    return [fill_value] * n


def flatnonzero(a: Any, *, size: int | None = None, fill_value: Any = None) -> Any:
    """``numpy.flatnonzero``: positions of the non-zero elements of the flattened array
    (``size=``/``fill_value=`` as in :func:`nonzero`).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.flatnonzero(np.array([[0.0, 1.0], [2.0, 0.0]]))
    array([1, 2])
    """
    from .shape import ravel

    return nonzero(ravel(as_array(a)), size=size, fill_value=fill_value)[0]


def argwhere(a: Any, *, size: int | None = None, fill_value: Any = None) -> Any:
    """``numpy.argwhere``: an ``(N, a.ndim)`` array of the indices of non-zero elements
    (``size=``/``fill_value=`` as in :func:`nonzero`).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.argwhere(np.array([[0.0, 1.0], [2.0, 0.0]]))
    array([[0, 1],
           [1, 0]])
    """
    a = as_array(a)
    if a.ndim == 0:  # as NumPy: one row of no columns if a is non-zero, else none
        if size is not None:
            return np.zeros((int(size), 0), np.intp)
        return np.argwhere(_need_concrete(a, "argwhere"))
    idx = nonzero(a, size=size, fill_value=fill_value)
    if not any(isinstance(i, Tracer) for i in idx):
        return np.stack(idx, axis=-1) if idx else np.zeros((0, 0), np.intp)
    from .shape import stack

    return stack(list(idx), axis=-1)


def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    """``numpy.count_nonzero`` (integer result, no derivative; works under jit).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> int(fnp.count_nonzero(np.array([0.0, 2.0, 3.0])))
    2
    """
    if not isinstance(a, Tracer):
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    mask = a if a.dtype == np.bool_ else ew.not_equal_p.bind(a, 0)
    return red.sum(mask, axis=axis, keepdims=keepdims)


def compress(condition: Any, a: Any, axis: Any = None, out: Any = None, *, size: int | None = None,
             fill_value: Any = 0) -> Any:
    """Differentiable ``numpy.compress``: the slices of ``a`` along ``axis`` where ``condition``
    holds (the selected elements keep their derivatives). ``size=`` as in :func:`nonzero`, the
    padding being ``fill_value``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.compress([True, False, True], np.array([1.0, 2.0, 3.0]))
    array([1., 3.])
    """
    from .shape import ravel

    if out is not None:
        raise TypeError("funcgrad.numpy.compress does not support out=")
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    cond = as_array(condition)
    if cond.ndim != 1:
        raise ValueError("condition must be a 1-d array")
    n = a.shape[axis]
    if size is None:
        c = _need_concrete(cond, "compress").astype(bool)
        if c.shape[0] > n:
            raise IndexError(f"index {int(np.nonzero(c)[0][-1])} is out of bounds for axis {axis} with size {n}")
        idx = np.nonzero(c)[0]
        if not isinstance(a, Tracer):
            return np.take(a, idx, axis=axis)
        return getitem(a, idx, spec=(("s", None, None, None),) * axis + (("a", 0),))
    cond = cond if cond.dtype == np.bool_ else ew.not_equal_p.bind(cond, 0)
    if cond.shape[0] < n:
        cond = sh.concatenate(cond, np.zeros(n - cond.shape[0], bool), axis=0) if isinstance(cond, Tracer) \
            else np.concatenate([cond, np.zeros(n - cond.shape[0], bool)])
    (idx,) = nonzero(cond, size=size, fill_value=0)
    valid = ew.less(np.arange(int(size)), red.sum(cond))
    taken = getitem(a, idx, spec=(("s", None, None, None),) * axis + (("a", 0),))
    valid = sh.reshape(valid, shape=(1,) * axis + (-1,) + (1,) * (a.ndim - axis - 1)) if isinstance(valid, Tracer) \
        else valid.reshape((1,) * axis + (-1,) + (1,) * (a.ndim - axis - 1))
    return ew.where(valid, taken, np.asarray(fill_value, dtype=a.dtype))


def extract(condition: Any, arr: Any, *, size: int | None = None, fill_value: Any = 0) -> Any:
    """Differentiable ``numpy.extract``: the elements of ``arr`` where ``condition`` is non-zero
    (both flattened). ``size=`` as in :func:`compress`.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.extract(np.array([1, 0, 1]), np.array([1.0, 2.0, 3.0]))
    array([1., 3.])
    """
    from .shape import ravel

    return compress(ravel(as_array(condition)), ravel(as_array(arr)), 0, size=size, fill_value=fill_value)


# --- unique -------------------------------------------------------------------------------------


class UniqueAllResult(NamedTuple):
    values: Any
    indices: Any
    inverse_indices: Any
    counts: Any


class UniqueCountsResult(NamedTuple):
    values: Any
    counts: Any


class UniqueInverseResult(NamedTuple):
    values: Any
    inverse_indices: Any


def _unique_traced(ar: Any, return_index: bool, return_inverse: bool, return_counts: bool, axis: Any,
                   equal_nan: bool, size: int | None, fill_value: Any, inverse_shape: tuple) -> Any:
    """Unique values of a traced 1-d ``ar`` (``axis=None``): sort (stable), mark the first of each
    run of equal values, and gather those (their derivative flows to the first occurrence)."""
    from .shape import concatenate, reshape
    from .sorting import argsort

    order = argsort(ar, kind="stable")
    s = getitem(ar, order, spec=(("a", 0),))
    n = s.shape[0]
    if n == 0:
        first = np.zeros(0, bool)
    else:
        differs = ew.not_equal_p.bind(getitem_static(s, (slice(1, None),)), getitem_static(s, (slice(None, -1),)))
        if equal_nan and s.dtype.kind in "fc":
            both_nan = ew.logical_and(ew.isnan(getitem_static(s, (slice(1, None),))),
                                      ew.isnan(getitem_static(s, (slice(None, -1),))))
            differs = ew.logical_and(differs, ew.logical_not_p.bind(both_nan))
        first = concatenate([np.ones(1, bool), differs])
    if size is None:
        keep = np.nonzero(_need_concrete(first, "unique"))[0]
        k = len(keep)
        valid = None
    else:
        k = int(size)
        keep, valid = _flat_positions(first, k)
    values = getitem(s, keep, spec=(("a", 0),))
    if valid is not None:
        fill = red.min(ar) if fill_value is None and n else (fill_value if fill_value is not None else 0)
        values = ew.where(valid, values, fill)
    results = [values]
    if return_index:
        idx = getitem(order, keep, spec=(("a", 0),))
        results.append(idx if valid is None else ew.where(valid, idx, 0))
    if return_inverse:
        group = red.cumsum(sh.astype(first, dtype=np.dtype(np.intp))) - 1 if n else np.zeros(0, np.intp)
        from ..prims.indexing import index_set

        inv = index_set(np.zeros(n, np.intp), group, order, spec=(("a", 0),)) if n else np.zeros(0, np.intp)
        results.append(reshape(inv, inverse_shape) if isinstance(inv, Tracer) else inv.reshape(inverse_shape))
    if return_counts:
        bounds = concatenate([keep if valid is None else getitem_static(keep, (slice(None),)),
                              np.asarray([n], dtype=np.intp)]) if n else np.zeros(1, np.intp)
        if valid is None:
            counts = ew.sub(getitem_static(bounds, (slice(1, None),)), getitem_static(bounds, (slice(None, -1),)))
        else:
            total = red.sum(first)
            nxt = _flat_positions(first, k + 1)[0]
            nxt = ew.where(ew.less(np.arange(k + 1), total), nxt, n)
            counts = ew.sub(getitem_static(nxt, (slice(1, None),)), getitem_static(nxt, (slice(None, -1),)))
            counts = ew.where(valid, counts, 0)
        results.append(counts)
    return results[0] if len(results) == 1 else tuple(results)


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False,
           axis: Any = None, *, equal_nan: bool = True, sorted: bool = True, size: int | None = None,  # noqa: A002
           fill_value: Any = None) -> Any:
    """``numpy.unique``: the sorted distinct values (differentiable: each gets the derivative of
    its first occurrence), with optional first indices, inverse and counts.

    ``size=`` (required under ``jit``/``vmap``) fixes the number of unique values returned,
    padding with ``fill_value`` (default: the minimum value), as in JAX. ``axis=`` needs concrete
    values.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.unique(np.array([3.0, 1.0, 3.0, 2.0]))
    array([1., 2., 3.])
    >>> fnp.unique(np.array([3.0, 1.0, 3.0]), size=3, fill_value=0.0)
    array([1., 3., 0.])
    """
    from .shape import ravel

    if not isinstance(ar, Tracer) and not (isinstance(ar, (list, tuple)) and isinstance(as_array(ar), Tracer)):
        if size is None:
            return np.unique(ar, return_index, return_inverse, return_counts, axis, equal_nan=equal_nan,  # type: ignore[call-overload]  # options forwarded to NumPy as given (its stubs want literals)
                             sorted=sorted)
    ar = as_array(ar)
    if axis is not None:
        if size is not None or _valueless(ar):
            raise NotImplementedError("funcgrad.numpy.unique with axis= needs concrete values (no size=)")
        res = np.unique(_need_concrete(ar, "unique"), True, return_inverse, return_counts, axis,  # type: ignore[call-overload]  # options forwarded to NumPy as given (its stubs want literals)
                        equal_nan=equal_nan)
        idx = res[1]
        ax = normalize_axis(axis, ar.ndim)
        values = getitem(ar, idx, spec=(("s", None, None, None),) * ax + (("a", 0),))
        out = [values] + ([idx] if return_index else []) + list(res[2:])
        return out[0] if len(out) == 1 else tuple(out)
    inverse_shape = tuple(ar.shape) if return_inverse else ()
    return _unique_traced(ravel(ar), return_index, return_inverse, return_counts, axis, equal_nan, size,
                          fill_value, inverse_shape)


def unique_values(x: Any, *, size: int | None = None, fill_value: Any = None) -> Any:
    """``numpy.unique_values``: the distinct values (sorted here; NumPy leaves the order open).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.unique_values(np.array([2.0, 1.0, 2.0]))
    array([1., 2.])
    """
    if not isinstance(x, Tracer) and size is None:
        return np.sort(np.unique_values(x))
    return unique(x, size=size, fill_value=fill_value)


def unique_counts(x: Any, *, size: int | None = None, fill_value: Any = None) -> UniqueCountsResult:
    """``numpy.unique_counts``: ``(values, counts)``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.unique_counts(np.array([2.0, 1.0, 2.0])).counts
    array([1, 2])
    """
    return UniqueCountsResult(*unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value))


def unique_inverse(x: Any, *, size: int | None = None, fill_value: Any = None) -> UniqueInverseResult:
    """``numpy.unique_inverse``: ``(values, inverse_indices)`` (inverse shaped like ``x``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.unique_inverse(np.array([2.0, 1.0, 2.0])).inverse_indices
    array([1, 0, 1])
    """
    return UniqueInverseResult(*unique(x, return_inverse=True, equal_nan=False, size=size, fill_value=fill_value))


def unique_all(x: Any, *, size: int | None = None, fill_value: Any = None) -> UniqueAllResult:
    """``numpy.unique_all``: ``(values, indices, inverse_indices, counts)``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.unique_all(np.array([2.0, 1.0, 2.0])).indices
    array([1, 0])
    """
    return UniqueAllResult(*unique(x, return_index=True, return_inverse=True, return_counts=True, equal_nan=False,
                                   size=size, fill_value=fill_value))


def trim_zeros(filt: Any, trim: TrimSides = "fb", axis: Any = None) -> Any:
    """Differentiable ``numpy.trim_zeros``: leading/trailing zeros removed (decided on concrete
    values; the kept elements keep their derivatives).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.trim_zeros(np.array([0.0, 1.0, 2.0, 0.0]))
    array([1., 2.])
    """
    if not isinstance(filt, Tracer):
        return np.trim_zeros(filt, trim, axis=axis) if axis is not None else np.trim_zeros(filt, trim)
    if axis is not None or filt.ndim != 1:
        raise NotImplementedError("funcgrad.numpy.trim_zeros supports 1-d traced arrays (axis=None)")
    nz = np.flatnonzero(_need_concrete(filt, "trim_zeros"))
    start = int(nz[0]) if (nz.size and "f" in trim.lower()) else (filt.shape[0] if not nz.size else 0)
    stop = int(nz[-1]) + 1 if (nz.size and "b" in trim.lower()) else (start if not nz.size else filt.shape[0])
    return getitem_static(filt, (slice(start, stop),))


# --- set operations -----------------------------------------------------------------------------


def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False, *,
         kind: Any = None) -> Any:
    """``numpy.isin``: elementwise membership (boolean, no derivative). Works on traced values
    under jit/vmap by comparing against every test element.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.isin(np.array([1, 2, 3]), [2, 4])
    array([False,  True, False])
    """
    if not isinstance(element, Tracer) and not isinstance(test_elements, Tracer):
        return np.isin(element, test_elements, assume_unique=assume_unique, invert=invert, kind=kind)
    from .shape import ravel

    e = as_array(element)
    t = ravel(as_array(test_elements))
    hit = red.any(ew.equal(sh.reshape(e, shape=tuple(e.shape) + (1,)), t), axis=-1)
    return ew.logical_not_p.bind(hit) if invert else hit


def in1d(ar1: Any, ar2: Any, assume_unique: bool = False, invert: bool = False, *, kind: Any = None) -> Any:
    """``numpy.in1d`` (removed in NumPy 2.4; kept for older code): ``isin`` of the flattened ``ar1``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.in1d(np.array([1, 2]), [2])
    array([False,  True])
    """
    from .shape import ravel

    return isin(ravel(as_array(ar1)), ar2, assume_unique, invert, kind=kind)


def _setop(name: str, *arrays: Any, **kwargs: Any) -> Any:
    """Set operations: which elements survive is decided on concrete values; when an input is
    traced, the surviving values are gathered from it (so they keep their derivatives)."""
    if not any(isinstance(a, Tracer) for a in arrays):
        return getattr(np, name)(*arrays, **kwargs)
    size = kwargs.pop("size", None)
    fill_value = kwargs.pop("fill_value", None)
    from .shape import concatenate, ravel

    if size is not None:
        raise NotImplementedError(f"funcgrad.numpy.{name} with size= is not supported; call it outside jit/vmap")
    values = [np.asarray(_need_concrete(a, name)) for a in arrays]
    result = getattr(np, name)(*values, **kwargs)
    del fill_value
    # Positions of the result's values in the concatenation of the (flattened) inputs.
    flat = concatenate([ravel(as_array(a)) for a in arrays])
    cat = np.concatenate([v.ravel() for v in values])
    res = result[0] if isinstance(result, tuple) else result
    pos = np.array([int(np.flatnonzero(cat == v)[0]) if not (isinstance(v, float) and np.isnan(v))
                    else int(np.flatnonzero(np.isnan(cat))[0]) for v in res.ravel()], dtype=np.intp)
    gathered = getitem(flat, pos, spec=(("a", 0),))
    if isinstance(result, tuple):
        return (gathered,) + tuple(result[1:])
    return gathered


def intersect1d(ar1: Any, ar2: Any, assume_unique: bool = False, return_indices: bool = False) -> Any:
    """``numpy.intersect1d`` (values keep their derivatives; decided on concrete values).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.intersect1d(np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0]))
    array([1., 3.])
    """
    return _setop("intersect1d", ar1, ar2, assume_unique=assume_unique, return_indices=return_indices)


def union1d(ar1: Any, ar2: Any) -> Any:
    """``numpy.union1d`` (values keep their derivatives; decided on concrete values).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.union1d(np.array([1.0, 2.0]), np.array([3.0, 1.0]))
    array([1., 2., 3.])
    """
    return _setop("union1d", ar1, ar2)


def setdiff1d(ar1: Any, ar2: Any, assume_unique: bool = False) -> Any:
    """``numpy.setdiff1d`` (values keep their derivatives; decided on concrete values).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.setdiff1d(np.array([1.0, 2.0, 3.0]), np.array([2.0]))
    array([1., 3.])
    """
    return _setop("setdiff1d", ar1, ar2, assume_unique=assume_unique)


def setxor1d(ar1: Any, ar2: Any, assume_unique: bool = False) -> Any:
    """``numpy.setxor1d`` (values keep their derivatives; decided on concrete values).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.setxor1d(np.array([1.0, 2.0]), np.array([2.0, 3.0]))
    array([1., 3.])
    """
    return _setop("setxor1d", ar1, ar2, assume_unique=assume_unique)
