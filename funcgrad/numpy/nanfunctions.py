"""NumPy's NaN-ignoring reductions (``nanmax``, ``nanvar``, ``nanmedian``...), built from the
ordinary reductions with NaNs masked out: the NaNs get no derivative, the other elements get
the derivative of the ordinary reduction of the non-NaN elements.

On plain arrays each calls NumPy itself (same values and warnings); on traced values the
composition runs, and all-NaN slices give NaN as in NumPy (without NumPy's warning under jit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from . import reductions as red
from ._util import as_array, no_out

if TYPE_CHECKING:
    from .._options import QuantileMethod

__all__ = ["nanmax", "nanmin", "nanprod", "nancumsum", "nancumprod", "nanvar", "nanstd", "nanargmax",
           "nanargmin", "nanmedian", "nanpercentile", "nanquantile"]


def _traced(a: Any) -> bool:
    return isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and not isinstance(as_array(a), np.ndarray))


def _nan_as(a: Any, value: float) -> Any:
    return ew.where(ew.isnan(a), np.asarray(value, a.dtype), a) if a.dtype.kind in "fc" else a


def _extremum(name: str, a: Any, axis: Any, keepdims: bool, initial: Any, where: Any) -> Any:
    a = as_array(a)
    fill = -np.inf if name == "nanmax" else np.inf
    reduce = red.max if name == "nanmax" else red.min
    if a.dtype.kind not in "fc":
        return reduce(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
    out = reduce(_nan_as(a, fill), axis=axis, keepdims=keepdims, initial=initial, where=where)
    all_nan = red.all(ew.isnan(a), axis=axis, keepdims=keepdims, where=where)
    return ew.where(all_nan, np.asarray(np.nan, a.dtype), out) if initial is np._NoValue else out


def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = np._NoValue,
           where: Any = True) -> Any:
    """Differentiable ``numpy.nanmax``: the maximum ignoring NaNs (ties share the derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanmax(np.array([1.0, np.nan, 3.0]))
    np.float64(3.0)
    """
    no_out("nanmax", out)
    if not _traced(a):
        return np.nanmax(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
    return _extremum("nanmax", a, axis, keepdims, initial, where)


def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = np._NoValue,
           where: Any = True) -> Any:
    """Differentiable ``numpy.nanmin``: the minimum ignoring NaNs (ties share the derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanmin(np.array([1.0, np.nan, 3.0]))
    np.float64(1.0)
    """
    no_out("nanmin", out)
    if not _traced(a):
        return np.nanmin(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
    return _extremum("nanmin", a, axis, keepdims, initial, where)


def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
            initial: Any = np._NoValue, where: Any = True) -> Any:
    """Differentiable ``numpy.nanprod``: the product with NaNs counted as one.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanprod(np.array([2.0, np.nan, 3.0]))
    np.float64(6.0)
    """
    no_out("nanprod", out)
    if not _traced(a):
        return np.nanprod(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial, where=where)
    return red.prod(_nan_as(as_array(a), 1.0), axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                    where=where)


def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.nancumsum``: the running sum with NaNs counted as zero.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nancumsum(np.array([1.0, np.nan, 3.0]))
    array([1., 1., 4.])
    """
    no_out("nancumsum", out)
    if not _traced(a):
        return np.nancumsum(a, axis=axis, dtype=dtype)
    return red.cumsum(_nan_as(as_array(a), 0.0), axis=axis, dtype=dtype)


def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.nancumprod``: the running product with NaNs counted as one.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nancumprod(np.array([2.0, np.nan, 3.0]))
    array([2., 2., 6.])
    """
    no_out("nancumprod", out)
    if not _traced(a):
        return np.nancumprod(a, axis=axis, dtype=dtype)
    return red.cumprod(_nan_as(as_array(a), 1.0), axis=axis, dtype=dtype)


def nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False,
           *, where: Any = True, mean: Any = np._NoValue, correction: Any = np._NoValue) -> Any:
    """Differentiable ``numpy.nanvar``: the variance of the non-NaN elements.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanvar(np.array([1.0, np.nan, 3.0]))
    np.float64(1.0)
    """
    no_out("nanvar", out)
    if not _traced(a):
        return np.nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
                         correction=correction)
    a = as_array(a)
    if a.dtype.kind not in "fc":
        return red.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
                       correction=correction)
    keep = ew.logical_not_p.bind(ew.isnan(a))
    if where is not True:
        keep = ew.logical_and(keep, where)
    return red.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=keep, mean=mean,
                   correction=correction)


def nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False,
           *, where: Any = True, mean: Any = np._NoValue, correction: Any = np._NoValue) -> Any:
    """Differentiable ``numpy.nanstd``: ``sqrt(nanvar)``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanstd(np.array([1.0, np.nan, 3.0]))
    np.float64(1.0)
    """
    no_out("nanstd", out)
    if not _traced(a):
        return np.nanstd(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
                         correction=correction)
    return ew.sqrt(nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
                          correction=correction))


def _nanarg(name: str, a: Any, axis: Any, keepdims: bool) -> Any:
    from ..core import ValuelessTracer

    a = as_array(a)
    if a.dtype.kind in "fc":
        mask = ew.isnan(a)
        if not isinstance(mask, ValuelessTracer) and not isinstance(a, ValuelessTracer):
            from ._util import concrete

            if np.any(np.all(concrete(mask, name), axis=axis)):
                raise ValueError("All-NaN slice encountered")
        a = _nan_as(a, -np.inf if name == "nanargmax" else np.inf)
    fn = red.argmax if name == "nanargmax" else red.argmin
    return fn(a, axis=axis, keepdims=keepdims)


def nanargmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """``numpy.nanargmax``: the index of the maximum ignoring NaNs (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> int(fnp.nanargmax(np.array([1.0, np.nan, 3.0])))
    2
    """
    no_out("nanargmax", out)
    if not _traced(a):
        return np.nanargmax(a, axis=axis, keepdims=keepdims)
    return _nanarg("nanargmax", a, axis, keepdims)


def nanargmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """``numpy.nanargmin``: the index of the minimum ignoring NaNs (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> int(fnp.nanargmin(np.array([1.0, np.nan, 3.0])))
    0
    """
    no_out("nanargmin", out)
    if not _traced(a):
        return np.nanargmin(a, axis=axis, keepdims=keepdims)
    return _nanarg("nanargmin", a, axis, keepdims)


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _nanquantile(name: str, a: Any, q: Any, axis: Any, method: str, keepdims: bool) -> Any:
    """Quantiles of the non-NaN elements of each slice: NaNs sort last, so the ``k``-th smallest
    non-NaN element is at position ``k`` of the sorted slice; positions come from the count of
    non-NaN elements (traced integers under jit), and the selected elements get the derivative."""
    from .shape import reshape, take_along_axis, transpose
    from .sorting import _reduced_to_last, sort

    if method not in _METHODS:
        raise NotImplementedError(f"funcgrad.numpy.{name} supports method in {_METHODS}, got method={method!r}")
    if isinstance(q, Tracer):
        raise NotImplementedError(f"funcgrad.numpy.{name} takes a concrete q (traced q is not supported)")
    a = as_array(a)
    q = np.asarray(q, dtype=np.result_type(np.asarray(q).dtype, 1.0) if a.dtype.kind != "f" else None)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    if a.dtype.kind not in "f":
        a = sh.astype(a, dtype=np.dtype(np.float64))
    flat, out_shape = _reduced_to_last(a, axis, keepdims)
    s = sort(flat, axis=-1)
    n = red.sum(ew.logical_not_p.bind(ew.isnan(s)), axis=-1, keepdims=True)  # non-NaN count per slice
    last = ew.maximum_p.bind(ew.sub(n, 1), 0)
    qf = q.reshape((1,) * (s.ndim - 1) + (-1,)) if q.ndim else q.reshape((1,) * s.ndim)
    virtual = ew.mul(sh.astype(last, dtype=np.dtype(np.float64)), qf)
    if method == "lower":
        lo = hi = ew.floor_p.bind(virtual)
    elif method == "higher":
        lo = hi = ew.ceil_p.bind(virtual)
    elif method == "nearest":
        lo = hi = ew.round_p.bind(virtual)
    else:
        lo = ew.floor_p.bind(virtual)
        hi = ew.minimum_p.bind(ew.add(lo, 1.0), sh.astype(last, dtype=np.dtype(np.float64)))
    lo_i, hi_i = sh.astype(lo, dtype=np.dtype(np.intp)), sh.astype(hi, dtype=np.dtype(np.intp))
    below = take_along_axis(s, lo_i, axis=-1)
    if method in ("linear", "midpoint"):
        above = take_along_axis(s, hi_i, axis=-1)
        gamma = ew.sub(virtual, lo) if method == "linear" else ew.where(ew.equal(lo, hi), 0.0, 0.5)
        gamma = sh.astype(gamma, dtype=s.dtype) if gamma.dtype != s.dtype else gamma
        diff = ew.sub(above, below)
        result = ew.where(ew.greater_equal_p.bind(gamma, 0.5), ew.sub(above, ew.mul(diff, ew.sub(1.0, gamma))),
                          ew.add(below, ew.mul(diff, gamma)))
    else:
        result = below
    result = ew.where(ew.equal(n, 0), np.asarray(np.nan, s.dtype), result)  # all-NaN slices
    if q.ndim == 0:
        result = reshape(result, out_shape)
    else:
        lead = result.ndim - 1
        result = transpose(result, [lead] + list(range(lead)))
        result = reshape(result, q.shape + out_shape)
    return result


def nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
              keepdims: bool = False) -> Any:
    """Differentiable ``numpy.nanmedian``: the median of the non-NaN elements.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanmedian(np.array([1.0, np.nan, 3.0, 2.0]))
    np.float64(2.0)
    """
    no_out("nanmedian", out)
    if not _traced(a):
        return np.nanmedian(a, axis=axis, keepdims=keepdims)
    return _nanquantile("nanmedian", a, 0.5, axis, "linear", keepdims)


def nanquantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                method: QuantileMethod = "linear", keepdims: bool = False, *,
                weights: Any = None) -> Any:
    """Differentiable ``numpy.nanquantile`` (methods linear, lower, higher, nearest, midpoint);
    ``q`` must be concrete.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanquantile(np.array([1.0, np.nan, 3.0]), 0.5)
    np.float64(2.0)
    """
    no_out("nanquantile", out)
    if not _traced(a) and not isinstance(q, Tracer):
        return np.nanquantile(a, q, axis=axis, method=method, keepdims=keepdims, weights=weights)
    if weights is not None:
        raise NotImplementedError("funcgrad.numpy.nanquantile does not support weights= on traced values")
    return _nanquantile("nanquantile", a, q, axis, method, keepdims)


def nanpercentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                  method: QuantileMethod = "linear", keepdims: bool = False, *,
                  weights: Any = None) -> Any:
    """Differentiable ``numpy.nanpercentile``: :func:`nanquantile` with ``q`` in [0, 100].

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nanpercentile(np.array([1.0, np.nan, 3.0]), 50)
    np.float64(2.0)
    """
    no_out("nanpercentile", out)
    if not _traced(a) and not isinstance(q, Tracer):
        return np.nanpercentile(a, q, axis=axis, method=method, keepdims=keepdims, weights=weights)
    if np.any((np.asarray(q) < 0) | (np.asarray(q) > 100)):
        raise ValueError("Percentiles must be in the range [0, 100]")
    return nanquantile(a, np.true_divide(q, 100), axis=axis, method=method, keepdims=keepdims, weights=weights)
