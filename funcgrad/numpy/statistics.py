"""Statistics, histograms, searching and 1-d signal functions: ``average``, ``cov``,
``corrcoef``, ``ptp``, ``histogram`` and friends, ``bincount``, ``searchsorted``, ``digitize``,
``interp``, ``trapezoid``, ``convolve``, ``correlate``.

Differentiable ones are compositions (``cov`` is a product of centred data; ``interp`` a gather
and a blend; ``convolve`` a gather of windows and a matrix product). Bin and search positions
are integers: they have no derivative, and histogram bins are computed on concrete values
(under ``jit``/``vmap`` a :class:`~funcgrad.errors.ConcretizationError` says so), while
``searchsorted``/``digitize`` also work on traced values by comparing against every element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Tracer, ValuelessTracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import getitem, getitem_static, index_add
from . import reductions as red
from ._util import as_array, concrete, contains_tracer, normalize_axis

if TYPE_CHECKING:
    from .._options import ConvolveMode, Side

__all__ = ["average", "cov", "corrcoef", "ptp", "histogram", "histogram2d", "histogramdd", "histogram_bin_edges",
           "bincount", "searchsorted", "digitize", "interp", "trapezoid", "convolve", "correlate"]


def _traced(*args: Any) -> bool:
    return contains_tracer(args)


def _float(x: Any) -> Any:
    return x if x.dtype.kind in "fc" else sh.astype(x, dtype=np.dtype(np.float64))


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.average`` (in ``a`` and in ``weights``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.average(np.array([1.0, 2.0, 4.0]), weights=np.array([1.0, 1.0, 2.0]))
    np.float64(2.75)
    """
    if not _traced(a, weights):
        return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)  # type: ignore[call-overload]  # options forwarded to NumPy as given (its stubs want literals)
    a = as_array(a)
    if weights is None:
        avg = red.mean(a, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        scl = np.asarray(a.size / max(avg.size, 1) if axis is not None else a.size, dtype=avg.dtype)
        return avg, sh.broadcast_to(scl, shape=tuple(avg.shape)) if avg.shape else scl
    w = as_array(weights)
    if tuple(w.shape) != tuple(a.shape):
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if w.ndim != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        ax = normalize_axis(axis, a.ndim)
        if w.shape[0] != a.shape[ax]:
            raise ValueError("Length of weights not compatible with specified axis.")
        w = sh.reshape(w, shape=(1,) * ax + (-1,) + (1,) * (a.ndim - ax - 1))
    dtype = np.result_type(a.dtype, w.dtype, 1.0)
    a, w = (x if x.dtype == dtype else sh.astype(x, dtype=dtype) for x in (a, w))
    wb = sh.broadcast_to(w, shape=tuple(a.shape)) if tuple(w.shape) != tuple(a.shape) else w
    scl = red.sum(wb, axis=axis, keepdims=keepdims)
    concrete_scl = scl if not isinstance(scl, Tracer) else None
    if concrete_scl is not None and np.any(concrete_scl == 0.0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    avg = ew.div(red.sum(ew.mul(a, wb), axis=axis, keepdims=keepdims), scl)
    return (avg, scl) if returned else avg


def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None, fweights: Any = None,
        aweights: Any = None, *, dtype: Any = None) -> Any:
    """Differentiable ``numpy.cov``: the (weighted) covariance matrix of the rows (variables) of
    ``m``, built as NumPy builds it (centred data times its conjugate transpose).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    if not _traced(m, y, fweights, aweights):
        return np.cov(m, y, rowvar=rowvar, bias=bias, ddof=ddof, fweights=fweights, aweights=aweights, dtype=dtype)
    from .contractions import matmul
    from .shape import atleast_2d, concatenate, squeeze, transpose

    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = as_array(m)
    if m.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(m.dtype, np.float64) if y is None else np.result_type(m.dtype, as_array(y).dtype,
                                                                                    np.float64)
    X = atleast_2d(m)
    if not rowvar and X.shape[0] != 1:
        X = transpose(X)
    if X.shape[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        yy = atleast_2d(as_array(y))
        if not rowvar and yy.shape[0] != 1:
            yy = transpose(yy)
        X = concatenate([X, yy], axis=0)
    X = X if X.dtype == dtype else sh.astype(X, dtype=np.dtype(dtype))
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = as_array(fweights)
        if not isinstance(w, Tracer) and np.any(w < 0):
            raise ValueError("fweights cannot be negative")
        w = sh.astype(w, dtype=np.dtype(np.float64)) if w.dtype.kind != "f" else w
    if aweights is not None:
        aw = as_array(aweights)
        if not isinstance(aw, Tracer) and np.any(aw < 0):
            raise ValueError("aweights cannot be negative")
        w = aw if w is None else ew.mul(w, aw)
    if w is None:
        avg = red.mean(X, axis=1, keepdims=True)
        fact = X.shape[1] - ddof
    else:
        avg, w_sum = average(X, axis=1, weights=w, returned=True, keepdims=True)
        w_sum = getitem_static(w_sum, (0, 0))
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = ew.sub(w_sum, ddof)
        else:
            aw = as_array(aweights)
            fact = ew.sub(w_sum, ew.div(ew.mul(ddof, red.sum(ew.mul(w, aw))), w_sum))
    Xc = ew.sub(X, avg)
    Xw = Xc if w is None else ew.mul(Xc, w)
    c = matmul(Xc, transpose(ew.conj(Xw)) if Xw.dtype.kind == "c" else transpose(Xw))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = ew.mul(c, ew.div(1.0, fact))
    return squeeze(c)


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Differentiable ``numpy.corrcoef``: the covariance normalised by the standard deviations
    (real parts clipped to [-1, 1], as NumPy does).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.corrcoef(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]])).round(4)
    array([[ 1.   , -0.982],
           [-0.982,  1.   ]])
    """
    if not _traced(x, y):
        return np.corrcoef(x, y, rowvar=rowvar, dtype=dtype)
    from .shape import diagonal, reshape

    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return ew.div(c, c)
    d = diagonal(c)
    stddev = ew.sqrt(ew.real(d))
    c = ew.div(ew.div(c, reshape(stddev, (-1, 1))), reshape(stddev, (1, -1)))
    if c.dtype.kind == "c":
        re = ew.minimum_p.bind(ew.maximum_p.bind(ew.real(c), -1.0), 1.0)
        return ew.add(re, ew.mul(1j, ew.imag(c)))
    return ew.minimum_p.bind(ew.maximum_p.bind(c, -1.0), 1.0)


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.ptp``: ``max - min`` (ties share the derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.ptp(np.array([3.0, 1.0, 4.0]))
    np.float64(3.0)
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.ptp does not support out=")
    if not _traced(a):
        return np.ptp(a, axis=axis, keepdims=keepdims)
    a = as_array(a)
    return ew.sub(red.max(a, axis=axis, keepdims=keepdims), red.min(a, axis=axis, keepdims=keepdims))


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """``numpy.bincount``: counts (no derivative) of concrete non-negative integers; with traced
    ``weights``, the weighted counts are differentiable in the weights (a scatter-add).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.bincount(np.array([0, 1, 1, 3]))
    array([1, 2, 0, 1])
    """
    x = concrete(x, "bincount", "Pass the integers as a concrete (static) array.")
    if not _traced(weights):
        return np.bincount(x, weights, minlength=minlength)
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError("object too deep for desired array")
    if x.size and x.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    n = max(int(x.max()) + 1 if x.size else 0, int(minlength))
    w = _float(as_array(weights))
    if w.dtype.kind == "f" and w.dtype != np.float64:
        w = sh.astype(w, dtype=np.dtype(np.float64))
    if tuple(w.shape) != x.shape:
        raise ValueError("The weights and list don't have the same length.")
    return index_add(np.zeros(n, w.dtype), w, x, spec=(("a", 0),))


def histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None, weights: Any = None) -> Any:  # noqa: A002
    """``numpy.histogram_bin_edges``. The number of bins is decided on concrete values; without
    ``range`` and explicit edges, the edges span ``a``'s minimum to maximum and are
    differentiable in ``a`` (as in JAX).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.histogram_bin_edges(np.array([0.0, 1.0]), bins=2)
    array([0. , 0.5, 1. ])
    """
    fix = "Pass explicit bin edges and a concrete array, or compute the histogram outside jit/vmap."
    bins_v = concrete(bins, "histogram_bin_edges", fix)
    edges = np.histogram_bin_edges(concrete(a, "histogram_bin_edges", fix), bins_v, range,
                                   concrete(weights, "histogram_bin_edges", fix))
    if not _traced(a) or range is not None or np.ndim(bins_v) != 0 or np.size(a) == 0:
        return edges
    from .. import stop_gradient

    # Values exactly NumPy's; the derivative is that of lo + (hi - lo) * t (a constant shift when lo == hi).
    av = as_array(a)
    lo, hi = red.min(av), red.max(av)
    t = np.linspace(0.0, 1.0, len(edges), dtype=edges.dtype)
    spread = ew.add(ew.mul(lo, 1.0 - t), ew.mul(hi, t))
    return ew.add(edges, ew.sub(spread, stop_gradient(spread)))


def histogram(a: Any, bins: Any = 10, range: Any = None, density: Any = None, weights: Any = None) -> tuple:  # noqa: A002
    """``numpy.histogram``: the bin of each value is decided on concrete values (no derivative);
    traced ``weights`` make the (weighted, or density) counts differentiable in the weights.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.histogram(np.array([0.1, 0.4, 0.8]), bins=2, range=(0, 1))
    (array([2, 1]), array([0. , 0.5, 1. ]))
    """
    fix = "Compute the histogram outside jit/vmap, or on a concrete array."
    av = np.asarray(concrete(a, "histogram", fix))
    bins_v = concrete(bins, "histogram", fix)
    if not _traced(weights):
        return np.histogram(av, bins_v, range, density, weights)
    edges = np.histogram_bin_edges(av, bins_v, range)
    flat = av.ravel()
    idx = np.searchsorted(edges, flat, side="right") - 1
    idx[flat == edges[-1]] = len(edges) - 2  # the last bin includes its right edge
    keep = (idx >= 0) & (idx < len(edges) - 1)
    from .shape import ravel

    w = ravel(as_array(weights))
    w = getitem(w, np.nonzero(keep)[0], spec=(("a", 0),))
    counts = bincount(idx[keep], w, minlength=len(edges) - 1)
    if density:
        counts = ew.div(counts, ew.mul(red.sum(counts), np.diff(edges)))
    return counts, edges


def histogram2d(x: Any, y: Any, bins: Any = 10, range: Any = None, density: Any = None,  # noqa: A002
                weights: Any = None) -> tuple:
    """``numpy.histogram2d``: bins are decided on concrete values (no derivative); traced
    ``weights`` make the (weighted, or density) counts differentiable in the weights.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.histogram2d(np.array([0.1, 0.9]), np.array([0.1, 0.9]), bins=2)[0]
    array([[1., 0.],
           [0., 1.]])
    """
    fix = "Compute the histogram outside jit/vmap, or on concrete arrays."
    if _traced(weights):
        xv, yv = (np.asarray(concrete(v, "histogram2d", fix)) for v in (x, y))
        _, xedges, yedges = np.histogram2d(xv, yv, concrete(bins, "histogram2d", fix), range)  # type: ignore[call-overload]  # options forwarded to NumPy as given
        return _weighted_histogramdd(np.stack([xv, yv], axis=1), [xedges, yedges], density, weights)
    return np.histogram2d(*(concrete(v, "histogram2d", fix) for v in (x, y, bins)), range, density,  # type: ignore[call-overload]  # options forwarded to NumPy as given (its stubs want literals)
                          concrete(weights, "histogram2d", fix))


def histogramdd(sample: Any, bins: Any = 10, range: Any = None, density: Any = None, weights: Any = None) -> tuple:  # noqa: A002
    """``numpy.histogramdd``: bins are decided on concrete values (no derivative); traced
    ``weights`` make the (weighted, or density) counts differentiable in the weights.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.histogramdd(np.array([[0.1, 0.1], [0.9, 0.9]]), bins=2)[0]
    array([[1., 0.],
           [0., 1.]])
    """
    fix = "Compute the histogram outside jit/vmap, or on concrete arrays."
    if _traced(weights):
        sv = np.asarray(concrete(sample, "histogramdd", fix))
        _, edges = np.histogramdd(sv, concrete(bins, "histogramdd", fix), range)
        return _weighted_histogramdd(sv if sv.ndim == 2 else np.atleast_2d(sv).T, edges, density, weights)
    return np.histogramdd(concrete(sample, "histogramdd", fix), concrete(bins, "histogramdd", fix), range, density,
                          concrete(weights, "histogramdd", fix))


def _weighted_histogramdd(sample: np.ndarray, edges: Any, density: Any, weights: Any) -> tuple:
    """Counts of concrete ``sample`` (N, D) in the bins ``edges``, weighted by traced ``weights``
    (a scatter-add, so differentiable in the weights), as ``numpy.histogramdd`` bins them."""
    from .shape import ravel, reshape

    nbins = tuple(len(e) - 1 for e in edges)
    keep = np.ones(sample.shape[0], dtype=bool)
    idx = []
    for d, e in enumerate(edges):
        i = np.searchsorted(e, sample[:, d], side="right") - 1
        i[sample[:, d] == e[-1]] = nbins[d] - 1  # the last bin includes its right edge
        keep &= (i >= 0) & (i < nbins[d])
        idx.append(i)
    flat_idx = np.ravel_multi_index(tuple(i[keep] for i in idx), nbins) if keep.any() else np.zeros(0, np.intp)
    w = getitem(ravel(as_array(weights)), np.nonzero(keep)[0], spec=(("a", 0),))
    counts = reshape(bincount(flat_idx, w, minlength=int(np.prod(nbins))), nbins)
    if density:
        volume = np.ones(nbins)
        for d, e in enumerate(edges):
            shape = [1] * len(nbins)
            shape[d] = nbins[d]
            volume = volume * np.diff(e).reshape(shape)
        counts = ew.div(counts, ew.mul(red.sum(counts), volume))
    return counts, list(edges)


def _valueless(*args: Any) -> bool:
    def walk(v: Any) -> bool:
        while isinstance(v, Tracer):
            if isinstance(v, ValuelessTracer):
                return True
            v = v.primal
        return False

    return any(walk(a) for a in args)


def searchsorted(a: Any, v: Any, side: Side = "left", sorter: Any = None) -> Any:
    """``numpy.searchsorted`` (integer result, no derivative). On traced values under
    ``jit``/``vmap`` it counts, for each ``v``, the elements of ``a`` before it (O(len(a) * v.size)).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5]))
    array([1, 2])
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    if not _valueless(a, v, sorter):
        return np.searchsorted(concrete(a, "searchsorted"), concrete(v, "searchsorted"), side=side,
                               sorter=concrete(sorter, "searchsorted"))
    a, v = as_array(a), as_array(v)
    if a.ndim != 1:
        raise ValueError("object too deep for desired array")
    if sorter is not None:
        a = getitem(a, as_array(sorter), spec=(("a", 0),))
    vv = sh.reshape(v, shape=tuple(v.shape) + (1,))
    before = ew.less(a, vv) if side == "left" else ew.less_equal_p.bind(a, vv)
    return red.sum(before, axis=-1)


def digitize(x: Any, bins: Any, right: bool = False) -> Any:
    """``numpy.digitize``: the index of the bin each value falls in (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.digitize(np.array([0.5, 1.5, 3.0]), np.array([1.0, 2.0]))
    array([0, 1, 2])
    """
    if not _valueless(x, bins):
        return np.digitize(concrete(x, "digitize"), concrete(bins, "digitize"), right=right)
    bins = as_array(bins)
    side: Side = "left" if right else "right"
    if not isinstance(bins, Tracer) and bins.size > 1 and bins[0] > bins[-1]:  # decreasing bins
        n = bins.shape[0]
        return ew.sub(n, searchsorted(bins[::-1], x, side=side))
    return searchsorted(bins, x, side=side)


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """Differentiable ``numpy.interp`` (in ``x``, ``xp``, ``fp``, ``left`` and ``right``):
    piecewise-linear interpolation; at a knot, ``x`` gets the slope of the segment to its right.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.interp(np.array([0.5, 1.5]), np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0, 0.0]))
    array([5., 5.])
    """
    if not _traced(x, xp, fp, left, right, period):
        return np.interp(x, xp, fp, left=left, right=right, period=period)
    from .shape import concatenate
    from .sorting import argsort

    x, xp, fp = as_array(x), as_array(xp), as_array(fp)
    if xp.ndim != 1 or fp.ndim != 1:
        raise ValueError("Data points must be 1-D sequences")
    if xp.shape[0] != fp.shape[0]:
        raise ValueError("fp and xp are not of the same length")
    if xp.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    out_dtype = np.complex128 if fp.dtype.kind == "c" else np.float64
    x, xp = _float64(x), _float64(xp)
    fp = fp if fp.dtype == out_dtype else sh.astype(fp, dtype=np.dtype(out_dtype))
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        x = ew.remainder(x, period)
        xp = ew.remainder(xp, period)
        order = argsort(xp)
        xp = getitem(xp, order, spec=(("a", 0),))
        fp = getitem(fp, order, spec=(("a", 0),))
        xp = concatenate([ew.sub(getitem_static(xp, (slice(-1, None),)), period), xp,
                          ew.add(getitem_static(xp, (slice(0, 1),)), period)])
        fp = concatenate([getitem_static(fp, (slice(-1, None),)), fp, getitem_static(fp, (slice(0, 1),))])
    n = xp.shape[0]
    if n == 1:
        inner = sh.broadcast_to(getitem_static(fp, (0,)), shape=tuple(x.shape))
    else:
        j = searchsorted(xp, x, side="right")
        j = ew.minimum_p.bind(ew.maximum_p.bind(j, 1), n - 1)
        x0, x1 = getitem(xp, ew.sub(j, 1), spec=(("a", 0),)), getitem(xp, j, spec=(("a", 0),))
        f0, f1 = getitem(fp, ew.sub(j, 1), spec=(("a", 0),)), getitem(fp, j, spec=(("a", 0),))
        slope = ew.div(ew.sub(f1, f0), ew.sub(x1, x0))
        inner = ew.add(ew.mul(slope, ew.sub(x, x0)), f0)
        inner = ew.where(ew.equal(x, getitem_static(xp, (-1,))), getitem_static(fp, (-1,)), inner)
    lo = getitem_static(fp, (0,)) if left is None else left
    hi = getitem_static(fp, (-1,)) if right is None else right
    out = ew.where(ew.less(x, getitem_static(xp, (0,))), lo, inner)
    out = ew.where(ew.greater(x, getitem_static(xp, (-1,))), hi, out)
    return out if out.dtype == out_dtype else sh.astype(out, dtype=np.dtype(out_dtype))


def _float64(x: Any) -> Any:
    if x.dtype.kind == "c":
        raise TypeError("Cannot cast array data from dtype('complex128') to dtype('float64')")
    return x if x.dtype == np.float64 else sh.astype(x, dtype=np.dtype(np.float64))


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """Differentiable ``numpy.trapezoid``: the trapezoidal rule along ``axis`` (in ``y``, ``x``
    and ``dx``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.trapezoid(np.array([1.0, 2.0, 3.0]))
    np.float64(4.0)
    """
    if not _traced(y, x, dx):
        return np.trapezoid(y, x, dx, axis)
    from .differences import diff
    from .shape import reshape

    y = as_array(y)
    axis = normalize_axis(axis, y.ndim)
    if x is None:
        d = dx
    else:
        x = as_array(x)
        d = diff(x, axis=-1 if x.ndim == 1 else axis)
        if x.ndim == 1:
            d = reshape(d, (1,) * axis + (-1,) + (1,) * (y.ndim - axis - 1))
    head = (slice(None),) * axis
    upper = getitem_static(y, head + (slice(1, None),))
    lower = getitem_static(y, head + (slice(None, -1),))
    return red.sum(ew.div(ew.mul(d, ew.add(upper, lower)), 2.0), axis=axis)


def _full_convolution(a: Any, v: Any) -> Any:
    """``convolve(a, v, 'full')`` for 1-d ``a`` (length n) and ``v`` (length m): windows of ``a``
    padded with m - 1 zeros on both sides (a gather), times ``v`` reversed (a matrix product)."""
    from .contractions import matmul

    n, m = a.shape[0], v.shape[0]
    padded = sh.pad(a, pad_width=((m - 1, m - 1),), value=0)
    windows = np.arange(n + m - 1)[:, None] + np.arange(m)[None, :]
    return matmul(getitem(padded, windows, spec=(("a", 0),)), getitem_static(v, (slice(None, None, -1),)))


def _convolve(a: Any, v: Any, mode: str, name: str) -> Any:
    a, v = as_array(a), as_array(v)
    if a.ndim > 1 or v.ndim > 1:
        raise ValueError("object too deep for desired array")
    a = sh.reshape(a, shape=(1,)) if a.ndim == 0 else a
    v = sh.reshape(v, shape=(1,)) if v.ndim == 0 else v
    n, m = a.shape[0], v.shape[0]
    if n == 0:
        raise ValueError("a cannot be empty")
    if m == 0:
        raise ValueError("v cannot be empty")
    dtype = np.result_type(a.dtype, v.dtype)
    a, v = (x if x.dtype == dtype else sh.astype(x, dtype=dtype) for x in (a, v))
    full = _full_convolution(a, v)
    if mode == "full":
        return full
    big, small = max(n, m), min(n, m)
    if mode == "same":
        start = (small - 1) // 2
        return getitem_static(full, (slice(start, start + big),))
    if mode == "valid":
        return getitem_static(full, (slice(small - 1, big),))
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


def convolve(a: Any, v: Any, mode: ConvolveMode = "full") -> Any:
    """Differentiable ``numpy.convolve`` of two 1-d sequences (modes full, same, valid).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    if not _traced(a, v):
        return np.convolve(a, v, mode)
    return _convolve(a, v, mode, "convolve")


def correlate(a: Any, v: Any, mode: ConvolveMode = "valid") -> Any:
    """Differentiable ``numpy.correlate``: ``c[k] = sum_n a[n + k] * conj(v[n])``, i.e. the
    convolution with ``v`` reversed and conjugated (modes valid, same, full).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([3.5])
    """
    if not _traced(a, v):
        return np.correlate(a, v, mode)
    v = as_array(v)
    if v.ndim > 1:
        raise ValueError("object too deep for desired array")
    a = as_array(a)
    swap = a.ndim == 1 and v.ndim == 1 and v.shape[0] > a.shape[0]
    if swap:  # as NumPy: correlate(a, v) = reverse(conj(correlate(v, a)))
        out = correlate(v, a, mode)
        out = getitem_static(out, (slice(None, None, -1),))
        return ew.conj(out) if out.dtype.kind == "c" else out
    vr = getitem_static(v, (slice(None, None, -1),)) if v.ndim == 1 else v
    if vr.dtype.kind == "c":
        vr = ew.conj(vr)
    return _convolve(a, vr, mode, "correlate")
