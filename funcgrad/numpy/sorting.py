"""Sorting and order statistics: argsort, sort, partition, median, percentile, quantile.

One primitive does the work: ``argsort`` (indices, no derivative). ``sort`` gathers with those
indices (``take_along_axis``), and median/percentile/quantile gather from the sorted values, so
every derivative flows through a gather to the elements selected, as NumPy's definition
selects them.

Ties: the sort used for derivatives is stable, so among equal elements the one earlier in the
array takes the earlier sorted position; each sorted position's derivative goes to exactly one
input element (never shared, unlike ``max``). For example ``sort([2., 1., 1.])[0]`` has gradient
``[0, 1, 0]``, and ``median([1., 1., 1.])`` has gradient ``[0, 1, 0]``.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from ..core import Tracer, ValuelessTracer
from ..prims import elementwise as ew
from ..prims import reductions as red
from ..prims import shape as sh
from ..prims.indexing import getitem, getitem_static
from ._util import as_array, no_out, normalize_axes, normalize_axis
from .reductions import mean
from .shape import ravel, reshape, take_along_axis, transpose

__all__ = ["argsort", "sort", "partition", "median", "percentile", "quantile"]


def argsort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    """``numpy.argsort``: the indices that sort ``a`` along ``axis`` (an integer result, no
    derivative). ``axis=None`` sorts the flattened array.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.argsort(np.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    if order is not None:
        raise NotImplementedError("funcgrad.numpy.argsort does not support order= (structured arrays)")
    if stable is not None:
        if kind is not None:
            raise ValueError("`kind` and `stable` parameters can't be provided at the same time. "
                             "Use only one of them.")
        kind = "stable" if stable else None
    a = as_array(a)
    if axis is None or a.ndim == 0:  # NumPy sorts a 0-d array as a 1-d one of length 1
        a = ravel(a)
        axis = 0 if axis is None else axis
    return red.argsort(a, axis=normalize_axis(axis, a.ndim), kind=kind)


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    """Differentiable ``numpy.sort``: each sorted position's derivative is that of the element a
    stable sort places there (ties: the earlier element goes first). NaNs sort to the end.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.sort(np.array([3.0, 1.0, 2.0]))
    array([1., 2., 3.])
    """
    if order is not None:
        raise NotImplementedError("funcgrad.numpy.sort does not support order= (structured arrays)")
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    if not isinstance(a, Tracer):
        return np.sort(a, axis=axis, kind=kind, stable=stable)
    return take_along_axis(a, red.argsort(a, axis=axis, kind="stable"), axis=axis)


def partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None) -> Any:
    """Differentiable ``numpy.partition``: element ``kth`` is where a sort would put it, smaller
    ones before it, larger ones after.

    NumPy leaves the order within each side unspecified; funcgrad returns the fully sorted array,
    which is a valid partition for every ``kth``, and the same on plain and traced arrays. The
    derivative of each position is that of the element placed there (ties as in :func:`sort`).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> float(fnp.partition(np.array([3.0, 1.0, 2.0, 5.0]), 2)[2])
    3.0
    """
    if order is not None:
        raise NotImplementedError("funcgrad.numpy.partition does not support order= (structured arrays)")
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    for k in np.atleast_1d(np.asarray(kth)).ravel():
        k = operator.index(k)
        if not -n <= k < n:
            raise ValueError(f"kth(={k}) out of bounds ({n})")
    return sort(a, axis=axis)


def _reduced_to_last(a: Any, axis: Any, keepdims: bool) -> tuple[Any, tuple[int, ...]]:
    """``a`` with the reduced axes moved last and flattened into one; and the result's shape."""
    axes = normalize_axes(axis, a.ndim)
    if axes is None:
        return ravel(a), ((1,) * a.ndim if keepdims else ())
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = transpose(a, kept + list(axes))
    lead = tuple(a.shape[d] for d in kept)
    flat = reshape(moved, lead + (int(np.prod([a.shape[d] for d in axes], dtype=np.int64)),))
    out_shape = tuple(1 if d in axes else s for d, s in enumerate(a.shape)) if keepdims else lead
    return flat, out_shape


def _nan_where_any_nan(sorted_values: Any, result: Any) -> Any:
    """NaN where a slice holds a NaN (sorted last), as NumPy's median and percentile give."""
    if sorted_values.dtype.kind not in "fc" or sorted_values.shape[-1] == 0:
        return result
    last = getitem_static(sorted_values, (Ellipsis, -1))
    if last.ndim != result.ndim:  # percentile: q axes trail the slice axes here
        last = reshape(last, tuple(last.shape) + (1,) * (result.ndim - last.ndim))
    return ew.where(ew.isnan(last), np.nan, result)


def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Any:
    """Differentiable ``numpy.median``: the middle element of the sorted slice, or the mean of the
    two middle ones. The derivative flows to those elements (1, or 0.5 each); at ties, to the
    elements a stable sort puts in the middle. A slice holding NaN gives NaN.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.median(np.array([3.0, 1.0, 4.0, 2.0]))
    np.float64(2.5)
    """
    no_out("median", out)
    a = as_array(a)
    flat, out_shape = _reduced_to_last(a, axis, keepdims)
    n = flat.shape[-1]
    if n == 0:
        return mean(a, axis=axis, keepdims=keepdims)  # NaN, with NumPy's warning
    s = sort(flat, axis=-1)
    middle = getitem_static(s, (Ellipsis, slice((n - 1) // 2, n // 2 + 1)))
    result = _nan_where_any_nan(s, mean(middle, axis=-1))
    return _scalar_if_0d(reshape(result, out_shape) if tuple(result.shape) != out_shape else result)


def _scalar_if_0d(x: Any) -> Any:
    """A 0-d NumPy result as a NumPy scalar, as NumPy's median and percentile return it."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _quantile(name: str, a: Any, q: Any, scale: float, axis: Any, method: str, keepdims: bool,
              weights: Any, interpolation: Any) -> Any:
    if weights is not None:
        raise NotImplementedError(f"funcgrad.numpy.{name} does not support weights=")
    if interpolation is not None:
        warnings.warn("the `interpolation=` argument was renamed to `method=`, which should be used "
                      "instead.", DeprecationWarning, stacklevel=3)
        method = interpolation
    if method not in _METHODS:
        raise NotImplementedError(
            f"funcgrad.numpy.{name} supports method in {_METHODS}, got method={method!r}")
    a = as_array(a)
    if a.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    traced_q = isinstance(q, Tracer)
    if isinstance(q, ValuelessTracer):
        # Which elements are interpolated depends on q's value, unknown under jit and vmap.
        raise q._no_value("A quantile/percentile q that is traced by jit or vmap (pass q as a plain "
                          "value, or a static argument)")
    q_value = np.asarray(q.concrete_value() if traced_q else q)
    # q / 100 in q's own precision, as NumPy computes it (for percentile)
    frac = np.true_divide(q_value, scale) if scale != 1.0 else q_value.astype(np.result_type(q_value, 1.0))
    if not np.all((frac >= 0) & (frac <= 1)):
        what = "Percentiles must be in the range [0, 100]" if scale != 1.0 else "Quantiles must be in the range [0, 1]"
        raise ValueError(what)
    # The result dtype: NumPy's promotion of a and q (a Python-number q is weak), at least float.
    if method in ("linear", "midpoint"):
        q_like = q.dtype if traced_q else q if isinstance(q, (int, float)) else q_value
        dtype = np.result_type(a.dtype, q_like)
        if dtype.kind not in "fc":
            dtype = np.dtype(np.float64)
    else:
        dtype = a.dtype
    flat, out_shape = _reduced_to_last(a, axis, keepdims)
    n = flat.shape[-1]
    if n == 0:
        raise IndexError(f"funcgrad.numpy.{name} of an empty slice: there are no values to select")
    virtual = (n - 1) * frac
    if method == "lower":
        lo = hi = np.floor(virtual).astype(np.intp)
    elif method == "higher":
        lo = hi = np.ceil(virtual).astype(np.intp)
    elif method == "nearest":
        lo = hi = np.around(virtual).astype(np.intp)
    else:
        lo = np.floor(virtual).astype(np.intp)
        hi = np.minimum(lo + 1, n - 1)
    lo, hi = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
    s = sort(flat, axis=-1)
    spec = (("e",), ("a", 0))
    below = getitem(s, lo, spec=spec)  # shape: slice shape + q's shape
    if method in ("linear", "midpoint"):
        above = getitem(s, hi, spec=spec)
        if method == "midpoint":
            gamma = np.where(lo == hi, 0.0, np.where(virtual == lo, 0.0, 0.5)).astype(dtype)
        elif traced_q:  # the fraction carries q's derivative
            gamma = ew.sub(ew.mul(float(n - 1), ew.div(q, scale)), lo.astype(q.dtype))
            gamma = ew.where(lo == hi, 0.0, gamma)
            gamma = gamma if gamma.dtype == dtype else sh.astype(gamma, dtype=dtype)
        else:
            gamma = np.where(lo == hi, 0.0, virtual - lo).astype(dtype)
        # NumPy's interpolation: from the nearer end, so that gamma = 0 and 1 give exact ends. The
        # difference is taken in the data's dtype; gamma (in the result dtype) promotes the rest.
        diff = ew.sub(above, below)
        from_below = ew.add(below, ew.mul(diff, gamma))
        from_above = ew.sub(above, ew.mul(diff, ew.sub(1.0, gamma)))
        high = np.asarray(gamma.concrete_value() if isinstance(gamma, Tracer) else gamma) >= 0.5
        result = ew.where(high, from_above, from_below)
    else:
        result = below
    result = _nan_where_any_nan(s, result)
    # slice axes first, q axes last → q axes first, then the result's axes, as NumPy orders them
    lead = result.ndim - q_value.ndim
    if q_value.ndim and lead:
        result = transpose(result, list(range(lead, result.ndim)) + list(range(lead)))
    shape = q_value.shape + out_shape
    return _scalar_if_0d(reshape(result, shape) if tuple(result.shape) != shape else result)


def percentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False, *, weights: Any = None,
               interpolation: Any = None) -> Any:
    """Differentiable ``numpy.percentile`` (methods linear, lower, higher, nearest, midpoint).

    ``linear`` interpolates between the two neighbouring sorted elements, so the derivative
    flows to both with weights ``1 - g`` and ``g``, and to ``q`` (which may be traced by
    ``grad``/``jvp``) as the slope between them. ``q``'s value decides which elements are
    selected, so under ``jit`` or ``vmap`` it must be a plain value. Ties as in :func:`sort`.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.percentile(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 25)
    np.float64(2.0)
    """
    no_out("percentile", out)
    return _quantile("percentile", a, q, 100.0, axis, method, keepdims, weights, interpolation)


def quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False, *, weights: Any = None,
             interpolation: Any = None) -> Any:
    """Differentiable ``numpy.quantile``: :func:`percentile` with ``q`` in [0, 1].

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.quantile(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 0.5)
    np.float64(3.0)
    """
    no_out("quantile", out)
    return _quantile("quantile", a, q, 1.0, axis, method, keepdims, weights, interpolation)
