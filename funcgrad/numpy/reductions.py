"""Reductions with NumPy's ``axis``/``keepdims``/``dtype`` semantics, and mean/var/std built
from them exactly as NumPy computes them (so values agree to the last digit)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import reductions as red
from ..prims import shape as sh
from ._util import as_array, no_out, normalize_axes, normalize_axis, shape_of

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "cumsum", "cumprod",
           "argmax", "argmin", "all", "any"]


def _cast(x: Any, dtype: Any) -> Any:
    if dtype is None:
        return x
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else sh.astype(x, dtype=dtype)


_NOVALUE = np._NoValue
# The parameters of a total sum, shared by every such call (parameters are never mutated).
_TOTAL_SUM = {"axis": None, "keepdims": False}


def _masked(a: Any, where: Any, neutral: Any) -> Any:
    """``a`` with the elements outside ``where`` replaced by the reduction's neutral element
    (broadcast to the shape of ``a``: ``where`` never changes the reduced shape)."""
    if where is True or where is _NOVALUE:
        return a
    from ..prims.elementwise import where as _where

    mask = as_array(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"where= must be a boolean array, got dtype {mask.dtype}")
    out = _where(mask, a, np.asarray(neutral, dtype=a.dtype) if not hasattr(neutral, "dtype") else neutral)
    if tuple(out.shape) != tuple(a.shape):
        np.broadcast_shapes(tuple(mask.shape), tuple(a.shape))
        raise ValueError(f"where= of shape {tuple(mask.shape)} does not broadcast to the array's shape "
                         f"{tuple(a.shape)}")
    return out


def _reduce(prim: Any, a: Any, axis: Any, keepdims: bool, dtype: Any = None) -> Any:
    a = as_array(a)
    if dtype is not None:
        a = _cast(a, dtype)
    return prim.bind(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,  # noqa: A001
        initial: Any = _NOVALUE, where: Any = True) -> Any:
    """Differentiable ``numpy.sum``; ``where=`` leaves elements out, ``initial=`` is added.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.sum(np.ones((2, 3)), axis=0)
    array([2., 2., 2.])
    >>> fnp.sum(np.array([1.0, 2.0, 3.0]), where=np.array([True, False, True]), initial=10.0)
    np.float64(14.0)
    """
    if (dtype is None and out is None and where is True and initial is _NOVALUE
            and (type(a) is np.ndarray or isinstance(a, Tracer)) and a.dtype.kind != "b"):
        # sum(x) / sum(x, axis): the steps below that apply, without the ones that do not
        if axis is None and keepdims is False:  # a total sum: bind's work, done here
            if not isinstance(a, Tracer):  # (a NumPy array, by the test above)
                return red.reduce_sum_p.impl(a)
            trace = a._trace
            if trace.alive:
                return trace.process(red.reduce_sum_p, (a,), _TOTAL_SUM)
        return red.reduce_sum_p.bind(a, axis=None if axis is None else normalize_axes(axis, a.ndim),
                                     keepdims=bool(keepdims))
    no_out("sum", out)
    a = as_array(a)
    if dtype is None and a.dtype == np.bool_:
        dtype = np.intp
    if dtype is not None:
        a = _cast(a, dtype)
    a = _masked(a, where, 0)
    res = _reduce(red.reduce_sum_p, a, axis, keepdims)
    return res if initial is _NOVALUE or initial is None else _cast(res + initial, res.dtype)


def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         initial: Any = _NOVALUE, where: Any = True) -> Any:
    """Differentiable ``numpy.prod``; exact at zeros (no division in its derivative).
    ``where=`` leaves elements out, ``initial=`` multiplies the result.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.prod(np.array([2.0, 3.0]))
    np.float64(6.0)
    """
    no_out("prod", out)
    a = as_array(a)
    if dtype is None and a.dtype == np.bool_:
        dtype = np.intp
    if dtype is not None:
        a = _cast(a, dtype)
    a = _masked(a, where, 1)
    res = _reduce(red.reduce_prod_p, a, axis, keepdims)
    return res if initial is _NOVALUE or initial is None else _cast(res * initial, res.dtype)


def _extremum(name: str, prim: Any, combine: Any, a: Any, axis: Any, keepdims: bool, initial: Any,
              where: Any) -> Any:
    a = as_array(a)
    if initial is _NOVALUE or initial is None:
        if where is not True and where is not _NOVALUE:
            raise ValueError(f"reduction operation '{'maximum' if name == 'max' else 'minimum'}' does not have "
                             "an identity, so to use a where mask one has to specify 'initial'")
        return _reduce(prim, a, axis, keepdims)
    init = np.asarray(initial).astype(a.dtype) if not hasattr(initial, "dtype") else initial
    a = _masked(a, where, init)
    axes = normalize_axes(axis, a.ndim)
    if _count(shape_of(a), axes) == 0:  # nothing to reduce: the initial value, in the result's shape
        from .creation import full

        shape = tuple(1 if axes is None or d in axes else s for d, s in enumerate(a.shape)) if keepdims else \
            tuple(s for d, s in enumerate(a.shape) if axes is not None and d not in axes)
        return full(shape, init, dtype=a.dtype)
    return combine(_reduce(prim, a, axis, keepdims), init)


def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = _NOVALUE,  # noqa: A001
        where: Any = True) -> Any:
    """Differentiable ``numpy.max``; tied maxima share the derivative equally. With
    ``initial=``, the result is at least ``initial`` (and ``where=`` may leave elements out).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.max(np.array([1.0, 3.0, 2.0]))
    np.float64(3.0)
    >>> fnp.max(np.array([1.0, 3.0]), where=np.array([True, False]), initial=0.0)
    np.float64(1.0)
    """
    no_out("max", out)
    return _extremum("max", red.reduce_max_p, ew.maximum_p.bind, a, axis, keepdims, initial, where)


def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = _NOVALUE,  # noqa: A001
        where: Any = True) -> Any:
    """Differentiable ``numpy.min``; tied minima share the derivative equally. With
    ``initial=``, the result is at most ``initial`` (and ``where=`` may leave elements out).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.min(np.array([1.0, 3.0, 2.0]))
    np.float64(1.0)
    """
    no_out("min", out)
    return _extremum("min", red.reduce_min_p, ew.minimum_p.bind, a, axis, keepdims, initial, where)


amax, amin = max, min


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    if axes is None:
        return math.prod(shape)
    return math.prod([shape[d] for d in axes])


def _where_count(a: Any, axis: Any, keepdims: bool, where: Any, dtype: Any) -> Any:
    """How many elements ``where`` selects in each reduction group (an array of ``dtype``)."""
    mask = np.broadcast_to(np.asarray(where), shape_of(a)) if not hasattr(where, "dtype") or \
        isinstance(where, np.ndarray) else where
    if isinstance(mask, np.ndarray):
        return np.sum(mask, axis=normalize_axes(axis, a.ndim), keepdims=keepdims).astype(dtype)
    from .shape import broadcast_to

    return _cast(sum(broadcast_to(mask, shape_of(a)), axis=axis, keepdims=keepdims), dtype)


def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, *,
         where: Any = True) -> Any:
    """Differentiable ``numpy.mean``: ``sum / count``, as NumPy computes it (``where=`` selects
    the elements counted).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.mean(np.array([1.0, 2.0, 6.0]))
    np.float64(3.0)
    """
    no_out("mean", out)
    a = as_array(a)
    if dtype is None and a.dtype.kind in "iub":
        dtype = np.float64
    s = sum(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    if where is not True:
        real = np.dtype(s.dtype.char.lower()) if s.dtype.kind == "c" else s.dtype
        with np.errstate(invalid="ignore", divide="ignore"):
            return s / _where_count(a, axis, keepdims, where, real)
    n = _count(shape_of(a), normalize_axes(axis, a.ndim))
    if n:  # (no division by zero: nothing for np.errstate to silence, and it costs microseconds)
        return s / n
    import warnings

    warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / n


def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
        keepdims: bool = False, *, where: Any = True, mean: Any = _NOVALUE, correction: Any = _NOVALUE) -> Any:
    """Differentiable ``numpy.var``: ``mean(|a - mean(a)|**2)`` with ``ddof``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.var(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    no_out("var", out)
    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    a = as_array(a)
    if dtype is None and a.dtype.kind in "iub":
        dtype = np.float64
    a = _cast(a, dtype)
    if where is not True:  # left-out elements (NaNs, for nanvar) must not reach the derivative's products
        a = _masked(a, where, 0)
    centre = _mean(a, axis=axis, keepdims=True, where=where) if mean is _NOVALUE else mean
    centred = a - centre
    if centred.dtype.kind == "c":  # |c|**2, as NumPy computes it for complex input
        from ..prims.elementwise import conj, real

        s = sum(real(centred * conj(centred)), axis=axis, keepdims=keepdims, where=where)
    else:
        s = sum(centred * centred, axis=axis, keepdims=keepdims, where=where)
    if where is not True:
        with np.errstate(invalid="ignore", divide="ignore"):
            n = _where_count(a, axis, keepdims, where, s.dtype) - ddof
            return s / np.maximum(n, 0) if isinstance(n, np.ndarray) else s / n
    n = _count(shape_of(a), normalize_axes(axis, a.ndim)) - ddof
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / (n if n > 0 else 0)


def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
        keepdims: bool = False, *, where: Any = True, mean: Any = _NOVALUE, correction: Any = _NOVALUE) -> Any:
    """Differentiable ``numpy.std``: ``sqrt(var)``. Its derivative is NaN where all values tie.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.std(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    from ..prims.elementwise import sqrt

    return sqrt(var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
                    correction=correction))


def _scan(prim: Any, a: Any, axis: Any, dtype: Any) -> Any:
    a = as_array(a)
    if dtype is not None:
        a = _cast(a, dtype)
    if axis is None:
        a = sh.reshape(a, shape=(int(np.prod(a.shape, dtype=np.int64)),))
        axis = 0
    return prim.bind(a, axis=normalize_axis(axis, a.ndim))


def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.cumsum``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.cumsum(np.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.])
    """
    no_out("cumsum", out)
    return _scan(red.cumsum_p, a, axis, dtype)


def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.cumprod``; its derivative divides by ``a`` (undefined at zeros).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.cumprod(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 6.])
    """
    no_out("cumprod", out)
    return _scan(red.cumprod_p, a, axis, dtype)


def _index_reduce(prim: Any, a: Any, axis: Any, keepdims: bool) -> Any:
    a = as_array(a)
    ax = None if axis is None else normalize_axis(axis, a.ndim)
    return prim.bind(a, axis=ax, keepdims=bool(keepdims))


def argmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """``numpy.argmax`` (integer result, no derivative)."""
    no_out("argmax", out)
    return _index_reduce(red.argmax_p, a, axis, keepdims)


def argmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """``numpy.argmin`` (integer result, no derivative)."""
    no_out("argmin", out)
    return _index_reduce(red.argmin_p, a, axis, keepdims)


def all(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, *, where: Any = True) -> Any:  # noqa: A001
    """``numpy.all`` (boolean result, no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.all(np.array([[1.0, 0.0], [2.0, 3.0]]), axis=1)
    array([False,  True])
    """
    no_out("all", out)
    return _reduce(red.all_p, _masked(as_array(a), where, True), axis, keepdims)


def any(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, *, where: Any = True) -> Any:  # noqa: A001
    """``numpy.any`` (boolean result, no derivative)."""
    no_out("any", out)
    return _reduce(red.any_p, _masked(as_array(a), where, False), axis, keepdims)


def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
           initial: Any = _NOVALUE, where: Any = True) -> Any:
    """Differentiable ``numpy.nansum``: the sum with NaNs counted as zero (they get no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nansum(np.array([1.0, np.nan, 2.0]))
    np.float64(3.0)
    """
    from ..prims.elementwise import isnan
    from ..prims.elementwise import where as _where

    no_out("nansum", out)
    a = as_array(a)
    if a.dtype.kind in "fc":
        a = _where(isnan(a), 0.0, a)
    return sum(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial, where=where)


def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, *,
            where: Any = True) -> Any:
    """Differentiable ``numpy.nanmean``: the mean of the non-NaN elements (NaNs get no derivative).
    A slice of only NaNs gives NaN and NumPy's ``RuntimeWarning``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanmean(np.array([1.0, np.nan, 2.0]))
    np.float64(1.5)
    """
    from ..prims.elementwise import isnan, logical_not_p, logical_or
    from ..prims.elementwise import where as _where

    no_out("nanmean", out)
    a = as_array(a)
    if a.dtype.kind not in "fc":
        return mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    mask = isnan(a)
    if where is not True:  # left-out elements count as NaNs
        mask = logical_or(mask, logical_not_p.bind(as_array(where)))
    total = sum(_where(mask, 0.0, a), axis=axis, dtype=dtype, keepdims=keepdims)
    count = sum(sh.astype(logical_not_p.bind(mask), dtype=np.dtype(np.intp)), axis=axis, keepdims=keepdims)
    if isinstance(count, np.ndarray | np.generic) and np.any(count == 0):
        import warnings

        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    real_dtype = np.dtype(total.dtype.char.lower()) if total.dtype.kind == "c" else total.dtype
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / sh.astype(count, dtype=real_dtype)


__all__ += ["nansum", "nanmean"]

_mean = mean
