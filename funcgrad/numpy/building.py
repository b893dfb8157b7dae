"""Building and re-arranging arrays: ``logspace``, ``geomspace``, ``meshgrid``, ``block``,
``broadcast_arrays``, ``vander``, ``diagflat``, ``tri``, ``copy``, ``unstack``, ``resize``,
``cumulative_sum``/``cumulative_prod``, ``apply_along_axis``, ``apply_over_axes``, ``piecewise``,
``vectorize`` and the array-API aliases (``concat``, ``permute_dims``, ``matrix_transpose``).

All are compositions of the shape and elementwise operations, so traced pieces keep their
derivatives; on plain arrays most call NumPy directly.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import getitem, getitem_static
from . import reductions as red
from ._util import as_array, concrete, contains_tracer, normalize_axis

if TYPE_CHECKING:
    from .._options import MeshIndexing, Order

__all__ = ["logspace", "geomspace", "meshgrid", "block", "broadcast_arrays", "vander", "diagflat", "tri", "copy",
           "unstack", "resize", "cumulative_sum", "cumulative_prod", "apply_along_axis", "apply_over_axes",
           "piecewise", "vectorize", "concat", "permute_dims", "matrix_transpose", "asanyarray",
           "ascontiguousarray", "asfortranarray", "asarray_chkfinite", "require", "fromfunction"]


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0, dtype: Any = None,
             axis: int = 0) -> Any:
    """``numpy.logspace``: ``base ** linspace(start, stop)``; traced scalar endpoints (and base)
    keep their derivatives.

    >>> import funcgrad.numpy as fnp
    >>> fnp.logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.])
    """
    if not contains_tracer((start, stop, base)):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    from .creation import linspace

    y = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    out = ew.power(base, y)
    if dtype is not None and out.dtype != np.dtype(dtype):
        out = sh.astype(out, dtype=np.dtype(dtype))
    return out


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0) -> Any:
    """``numpy.geomspace``: a geometric progression from ``start`` to ``stop`` (real, same sign);
    traced scalar endpoints keep their derivatives, and the ends are exact as in NumPy.

    >>> import funcgrad.numpy as fnp
    >>> fnp.geomspace(1.0, 1000.0, 4)
    array([   1.,   10.,  100., 1000.])
    """
    if not contains_tracer((start, stop)):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    from ..core import ValuelessTracer
    from .creation import linspace
    from .shape import concatenate

    if np.ndim(start) or np.ndim(stop) or axis != 0:
        raise NotImplementedError("geomspace with traced endpoints supports scalar start/stop and axis=0")
    if not any(isinstance(v, ValuelessTracer) for v in (start, stop)):
        s0, s1 = (float(concrete(v, "geomspace")) for v in (start, stop))
        if s0 == 0 or s1 == 0:
            raise ValueError("Geometric sequence cannot include zero")
        if (s0 < 0) != (s1 < 0):
            raise NotImplementedError("geomspace with traced endpoints of different signs (complex result)")
    sign = ew.sign(start)
    log_start, log_stop = ew.log10_p.bind(ew.abs_p.bind(start)), ew.log10_p.bind(ew.abs_p.bind(stop))
    body = ew.power(10.0, linspace(log_start, log_stop, num, endpoint=endpoint))
    out = ew.mul(sign, body)
    num = int(num)
    if num > 0:  # exact ends, as NumPy sets them
        parts = [sh.reshape(as_array(start) if isinstance(start, Tracer) else np.asarray(start, float), shape=(1,))]
        if endpoint and num > 1:
            middle = getitem_static(out, (slice(1, -1),))
            parts += [middle, sh.reshape(as_array(stop) if isinstance(stop, Tracer) else np.asarray(stop, float),
                                         shape=(1,))]
        else:
            parts.append(getitem_static(out, (slice(1, None),)))
        dt = out.dtype
        out = concatenate([p if p.dtype == dt else sh.astype(p, dtype=dt) for p in parts])
    if dtype is not None and out.dtype != np.dtype(dtype):
        out = sh.astype(out, dtype=np.dtype(dtype))
    return out


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: MeshIndexing = "xy") -> tuple:
    """Differentiable ``numpy.meshgrid``: coordinate arrays broadcast from 1-d inputs.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [g.shape for g in fnp.meshgrid(np.arange(3.0), np.arange(2.0))]
    [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    if not contains_tracer(xi):
        return tuple(np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing))
    from .shape import ravel

    ndim = len(xi)
    arrays = [ravel(as_array(x)) for x in xi]
    shapes = [(1,) * i + (-1,) + (1,) * (ndim - i - 1) for i in range(ndim)]
    if indexing == "xy" and ndim > 1:
        shapes[0] = (1, -1) + (1,) * (ndim - 2)
        shapes[1] = (-1, 1) + (1,) * (ndim - 2)
    out = [sh.reshape(a, shape=tuple(a.shape[0] if s == -1 else s for s in shp)) for a, shp in
           zip(arrays, shapes, strict=True)]
    if sparse:
        return tuple(out)
    full = np.broadcast_shapes(*(tuple(o.shape) for o in out))
    return tuple(o if tuple(o.shape) == full else sh.broadcast_to(o, shape=full) for o in out)


def broadcast_arrays(*args: Any, subok: bool = False) -> tuple:
    """Differentiable ``numpy.broadcast_arrays`` (a tuple, as NumPy 2 returns).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [a.shape for a in fnp.broadcast_arrays(np.ones(3), np.ones((2, 1)))]
    [(2, 3), (2, 3)]
    """
    if not contains_tracer(args):
        return tuple(np.broadcast_arrays(*args, subok=subok))
    arrays = [as_array(a) for a in args]
    shape = np.broadcast_shapes(*(tuple(a.shape) for a in arrays))
    return tuple(a if tuple(a.shape) == shape else sh.broadcast_to(a, shape=shape) for a in arrays)


def _block_depth(arrays: Any) -> int:
    if isinstance(arrays, list):
        if not arrays:
            raise ValueError("List at arrays cannot be empty")
        depths = {_block_depth(a) for a in arrays}
        if len(depths) != 1:
            raise ValueError("List depths are mismatched")
        return 1 + depths.pop()
    if isinstance(arrays, tuple):
        raise TypeError("arrays is a tuple. Only lists can be used to arrange blocks, and np.block does not "
                        "allow implicit conversion from tuple to ndarray.")
    return 0


def block(arrays: Any) -> Any:
    """Differentiable ``numpy.block``: nested lists of arrays joined along the last axes.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.block([[np.eye(2), np.zeros((2, 1))]]).shape
    (2, 3)
    """
    if not contains_tracer(arrays) and not (isinstance(arrays, list) and _has_tracer_deep(arrays)):
        return np.block(arrays)
    from .shape import concatenate

    depth = _block_depth(arrays)

    def leaves(x: Any, out: list) -> list:
        if isinstance(x, list):
            for v in x:
                leaves(v, out)
        else:
            out.append(as_array(x))
        return out

    result_ndim = max([depth] + [a.ndim for a in leaves(arrays, [])])

    def join(x: Any, level: int) -> Any:
        if not isinstance(x, list):
            a = as_array(x)
            return sh.reshape(a, shape=(1,) * (result_ndim - a.ndim) + tuple(a.shape)) if a.ndim < result_ndim else a
        parts = [join(v, level + 1) for v in x]
        return concatenate(parts, axis=-(depth - level))

    return join(arrays, 0)


def _has_tracer_deep(x: Any) -> bool:
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_tracer_deep(v) for v in x)
    return False


def vander(x: Any, N: Any = None, increasing: bool = False) -> Any:
    """Differentiable ``numpy.vander``: columns are powers of ``x``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.vander(np.array([1.0, 2.0]), 3)
    array([[1., 1., 1.],
           [4., 2., 1.]])
    """
    if not isinstance(x, Tracer):
        return np.vander(x, N, increasing)
    if x.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = x.shape[0] if N is None else operator.index(N)
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    if n == 0:
        return np.zeros((x.shape[0], 0), np.result_type(x.dtype, np.int8))
    # Repeated products, as NumPy computes the columns (x ** 0 = 1 exactly, no log in the derivative).
    cols = [np.ones(x.shape, x.dtype)]
    for _ in range(1, n):
        cols.append(ew.mul(cols[-1], x))
    from .shape import stack

    ordered = [cols[p] for p in powers]
    return stack([c if isinstance(c, Tracer) else sh.broadcast_to(np.asarray(c, x.dtype), shape=tuple(x.shape))
                  for c in ordered], axis=1)


def diagflat(v: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.diagflat``: a 2-d array with the flattened input on diagonal ``k``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.diagflat(np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    if not isinstance(v, Tracer):
        return np.diagflat(v, k)
    from .shape import diag, ravel

    return diag(ravel(v), k)


def tri(N: int, M: Any = None, k: int = 0, dtype: Any = float, *, like: Any = None) -> np.ndarray:
    """``numpy.tri`` (a constant).

    >>> import funcgrad.numpy as fnp
    >>> fnp.tri(2)
    array([[1., 0.],
           [1., 1.]])
    """
    return np.tri(N, M, k, dtype)


def copy(a: Any, order: Order = "K", subok: bool = False) -> Any:
    """``numpy.copy``: traced values are immutable, so they are returned as they are.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.copy(np.array([1.0]))
    array([1.])
    """
    if contains_tracer(a):
        return as_array(a)
    return np.copy(a, order=order, subok=True) if subok else np.copy(a, order=order)


def asanyarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """``numpy.asanyarray`` (traced values pass through, cast to ``dtype`` if given).

    >>> import funcgrad.numpy as fnp
    >>> fnp.asanyarray([1.0])
    array([1.])
    """
    if not contains_tracer(a):
        return np.asanyarray(a, dtype=dtype, order=order, **kwargs)
    from .creation import asarray

    return asarray(a, dtype=dtype)


def ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.ascontiguousarray`` (traced values pass through).

    >>> import funcgrad.numpy as fnp
    >>> fnp.ascontiguousarray([1.0]).flags.c_contiguous
    True
    """
    if not contains_tracer(a):
        return np.ascontiguousarray(a, dtype=dtype, **kwargs)
    from .creation import asarray

    out = asarray(a, dtype=dtype)
    return sh.reshape(out, shape=(1,)) if out.ndim == 0 else out


def asfortranarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.asfortranarray`` (traced values pass through: memory order is not observable).

    >>> import funcgrad.numpy as fnp
    >>> fnp.asfortranarray([[1.0]]).flags.f_contiguous
    True
    """
    if not contains_tracer(a):
        return np.asfortranarray(a, dtype=dtype, **kwargs)
    return ascontiguousarray(a, dtype=dtype)


def asarray_chkfinite(a: Any, dtype: Any = None, order: Any = None) -> Any:
    """``numpy.asarray_chkfinite``: raises ValueError on NaN or infinity (checked on concrete
    values; under jit/vmap the check needs values and raises ConcretizationError).

    >>> import funcgrad.numpy as fnp
    >>> fnp.asarray_chkfinite([1.0, 2.0])
    array([1., 2.])
    """
    if not contains_tracer(a):
        return np.asarray_chkfinite(a, dtype=dtype, order=order)
    from .creation import asarray

    out = asarray(a, dtype=dtype)
    if out.dtype.kind in "fc" and not np.all(np.isfinite(concrete(out, "asarray_chkfinite"))):
        raise ValueError("array must not contain infs or NaNs")
    return out


def require(a: Any, dtype: Any = None, requirements: Any = None, *, like: Any = None) -> Any:
    """``numpy.require`` (traced values pass through, cast to ``dtype``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.require([1.0], requirements="C").flags.c_contiguous
    True
    """
    if not contains_tracer(a):
        return np.require(a, dtype, requirements)
    from .creation import asarray

    return asarray(a, dtype=dtype)


def fromfunction(function: Callable[..., Any], shape: Any, *, dtype: Any = float, like: Any = None,
                 **kwargs: Any) -> Any:
    """``numpy.fromfunction``: ``function`` called once on the index grids (funcgrad functions
    inside it work as usual).

    >>> import funcgrad.numpy as fnp
    >>> fnp.fromfunction(lambda i, j: i + j, (2, 2))
    array([[0., 1.],
           [1., 2.]])
    """
    return function(*np.indices(shape, dtype=dtype), **kwargs)


def unstack(x: Any, /, *, axis: int = 0) -> tuple:
    """Differentiable ``numpy.unstack``: the slices of ``x`` along ``axis``, as a tuple.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [a.shape for a in fnp.unstack(np.ones((2, 3)))]
    [(3,), (3,)]
    """
    if not isinstance(x, Tracer):
        return np.unstack(x, axis=axis)
    if x.ndim == 0:
        raise ValueError("Input array must be at least 1-d.")
    axis = normalize_axis(axis, x.ndim)
    return tuple(getitem_static(x, (slice(None),) * axis + (i,)) for i in range(x.shape[axis]))


def resize(a: Any, new_shape: Any) -> Any:
    """Differentiable ``numpy.resize``: the flattened ``a`` repeated cyclically to fill ``new_shape``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.resize(np.array([1.0, 2.0, 3.0]), (2, 2))
    array([[1., 2.],
           [3., 1.]])
    """
    if not isinstance(a, Tracer):
        return np.resize(a, new_shape)
    from .shape import ravel

    shape = (operator.index(new_shape),) if not isinstance(new_shape, (tuple, list)) else \
        tuple(operator.index(s) for s in new_shape)
    if any(s < 0 for s in shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    total = int(np.prod(shape, dtype=np.int64))
    flat = ravel(a)
    if flat.shape[0] == 0 or total == 0:
        return np.zeros(shape, a.dtype)
    idx = np.arange(total) % flat.shape[0]
    return sh.reshape(getitem(flat, idx, spec=(("a", 0),)), shape=shape)


def _cumulative(name: str, fn: Any, x: Any, axis: Any, dtype: Any, include_initial: bool) -> Any:
    from .shape import concatenate

    x = as_array(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis must be given for arrays of more than one dimension")
        axis = 0
    if x.ndim == 0:
        raise ValueError(f"{name} does not accept 0-d arrays")
    axis = normalize_axis(axis, x.ndim)
    out = fn(x, axis=axis, dtype=dtype)
    if include_initial:
        start = np.full(tuple(1 if d == axis else s for d, s in enumerate(x.shape)),
                        0 if name == "cumulative_sum" else 1, dtype=out.dtype)
        out = concatenate([start, out], axis=axis)
    return out


def cumulative_sum(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                   include_initial: bool = False) -> Any:
    """Differentiable ``numpy.cumulative_sum`` (the array-API ``cumsum``; ``include_initial``
    prepends 0).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.cumulative_sum(np.array([1.0, 2.0]), include_initial=True)
    array([0., 1., 3.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.cumulative_sum does not support out=")
    if not contains_tracer(x):
        return np.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)
    return _cumulative("cumulative_sum", red.cumsum, x, axis, dtype, include_initial)


def cumulative_prod(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                    include_initial: bool = False) -> Any:
    """Differentiable ``numpy.cumulative_prod`` (``include_initial`` prepends 1).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.cumulative_prod(np.array([2.0, 3.0]))
    array([2., 6.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.cumulative_prod does not support out=")
    if not contains_tracer(x):
        return np.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)
    return _cumulative("cumulative_prod", red.cumprod, x, axis, dtype, include_initial)


def apply_along_axis(func1d: Callable[..., Any], axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.apply_along_axis``: ``func1d`` on every 1-d slice along ``axis`` (a Python loop;
    derivatives flow through ``func1d``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.apply_along_axis(fnp.sum, 1, np.ones((2, 3)))
    array([3., 3.])
    """
    if not contains_tracer((arr, args, tuple(kwargs.values()))):
        return np.apply_along_axis(func1d, axis, arr, *args, **kwargs)
    from .shape import moveaxis, stack

    arr = as_array(arr)
    axis = normalize_axis(axis, arr.ndim)
    moved = moveaxis(arr, axis, -1)
    lead = tuple(moved.shape[:-1])
    if not lead or 0 in lead:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [as_array(func1d(getitem_static(moved, idx), *args, **kwargs)) for idx in np.ndindex(*lead)]
    out = stack(results)
    out = sh.reshape(out, shape=lead + tuple(results[0].shape))
    # the function's output axes take the place of the reduced axis, as in NumPy
    k = results[0].ndim
    if k == 0:
        return out
    order = list(range(axis)) + list(range(len(lead), len(lead) + k)) + list(range(axis, len(lead)))
    from .shape import transpose

    return transpose(out, order)


def apply_over_axes(func: Callable[..., Any], a: Any, axes: Any) -> Any:
    """``numpy.apply_over_axes``: ``func(a, axis)`` repeatedly, keeping the dimensions.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.apply_over_axes(fnp.sum, np.ones((2, 3)), [0, 1])
    array([[6.]])
    """
    if not contains_tracer(a):
        return np.apply_over_axes(func, a, axes)
    from .shape import expand_dims

    val = as_array(a)
    n = val.ndim
    for axis in np.atleast_1d(np.asarray(axes)):
        axis = int(axis) + n if axis < 0 else int(axis)
        res = as_array(func(val, axis))
        if res.ndim == val.ndim:
            val = res
        else:
            res = expand_dims(res, axis)
            if res.ndim != val.ndim:
                raise ValueError("function is not returning an array of the correct shape")
            val = res
    return val


def piecewise(x: Any, condlist: Any, funclist: Sequence[Any], *args: Any, **kw: Any) -> Any:
    """Differentiable ``numpy.piecewise``: each function (or constant) where its condition holds
    (later conditions win), zero elsewhere. On traced values every function is evaluated on the
    whole of ``x`` and the results are selected with ``where``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> x = np.array([-1.0, 2.0])
    >>> fnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v * v])
    array([1., 4.])
    """
    if not contains_tracer((x, condlist)):
        return np.piecewise(x, condlist, funclist, *args, **kw)
    x = as_array(x)
    if isinstance(condlist, (bool, np.bool_)) or (not isinstance(condlist, (list, tuple)) and
                                                 np.ndim(condlist) == x.ndim and x.ndim != 0):
        condlist = [condlist]
    conds = [as_array(c) for c in condlist]
    n = len(conds)
    if len(funclist) == n + 1:  # the otherwise-function
        others = conds[0]
        for c in conds[1:]:
            others = ew.logical_or(others, c)
        conds.append(ew.logical_not_p.bind(others))
    elif len(funclist) != n:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    out: Any = np.zeros(tuple(x.shape), x.dtype)
    for c, f in zip(conds, funclist, strict=True):
        val = f(x, *args, **kw) if callable(f) else f
        val = as_array(val) if not isinstance(val, (int, float, complex)) else np.asarray(val, x.dtype)
        if val.dtype != x.dtype:
            val = sh.astype(val, dtype=x.dtype) if isinstance(val, Tracer) else val.astype(x.dtype)
        out = ew.where(c, val, out)
    return out


class vectorize:  # noqa: N801 - NumPy's name
    """``numpy.vectorize``: ``pyfunc`` called on each element (a Python loop), so traced values
    keep their derivatives; on plain arrays it is NumPy's ``vectorize``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.vectorize(lambda a, b: a * b if a > 0 else b)(np.array([1.0, -1.0]), 3.0)
    array([3., 3.])
    """

    def __init__(self, pyfunc: Callable[..., Any], otypes: Any = None, doc: Any = None, excluded: Any = None,
                 cache: bool = False, signature: Any = None) -> None:
        self.pyfunc = pyfunc
        self.excluded = set(excluded or ())
        self.signature = signature
        self._numpy = np.vectorize(pyfunc, otypes=otypes, doc=doc, excluded=excluded, cache=cache,
                                   signature=signature)
        functools.update_wrapper(self, pyfunc)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not contains_tracer((args, tuple(kwargs.values()))):
            return self._numpy(*args, **kwargs)
        if self.signature is not None:
            raise NotImplementedError("funcgrad.numpy.vectorize with signature= on traced values; use funcgrad.vmap")
        from .shape import stack

        vary = [i for i in range(len(args)) if i not in self.excluded]
        arrays = broadcast_arrays(*(as_array(args[i]) for i in vary))
        shape = tuple(arrays[0].shape) if arrays else ()
        results = []
        for idx in np.ndindex(*shape):
            call = list(args)
            for i, a in zip(vary, arrays, strict=True):
                call[i] = getitem_static(a, idx) if isinstance(a, Tracer) else a[idx]
            results.append(as_array(self.pyfunc(*call, **kwargs)))
        if not results:
            return np.zeros(shape)
        dtype = np.result_type(*(r.dtype for r in results))
        results = [r if r.dtype == dtype else (sh.astype(r, dtype=dtype) if isinstance(r, Tracer) else r.astype(dtype))
                   for r in results]
        return sh.reshape(stack(results), shape=shape + tuple(results[0].shape))


def concat(arrays: Sequence[Any], /, *, axis: Any = 0, out: Any = None, dtype: Any = None,
           casting: str = "same_kind") -> Any:
    """``numpy.concat``: the array-API name of :func:`concatenate`.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.concat([np.ones(1), np.zeros(1)])
    array([1., 0.])
    """
    from .shape import concatenate

    return concatenate(arrays, axis=axis, out=out, dtype=dtype)


def permute_dims(a: Any, /, axes: Any = None) -> Any:
    """``numpy.permute_dims``: the array-API name of :func:`transpose`.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.permute_dims(np.ones((2, 3)), (1, 0)).shape
    (3, 2)
    """
    from .shape import transpose

    return transpose(a, axes)


def matrix_transpose(x: Any, /) -> Any:
    """``numpy.matrix_transpose``: swap the last two axes.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.matrix_transpose(np.ones((2, 3))).shape
    (3, 2)
    """
    from .shape import swapaxes

    x = as_array(x)
    if x.ndim < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return swapaxes(x, -1, -2)
