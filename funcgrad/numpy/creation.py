"""Array creation. Results are constants (no derivative), except ``array``/``asarray`` of
traced values and the ``*_like`` functions' shapes, which follow their argument."""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from .shape import stack

if TYPE_CHECKING:
    from .._options import Order

__all__ = ["array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "linspace", "eye", "identity"]

def arange(*args: Any, **kwargs: Any) -> np.ndarray:
    """``numpy.arange`` (a constant). A traced bound raises its trace's own error (under jit a
    ConcretizationError naming the argument and line)."""
    args = tuple((float(a) if np.dtype(a.dtype).kind in "fc" else operator.index(a)) if isinstance(a, Tracer)
                 else a for a in args)
    return np.arange(*args, **kwargs)


def _sizes(value: Any) -> Any:
    """Shape arguments as Python ints: a traced size raises its trace's own error (under jit a
    ConcretizationError naming the argument and line) instead of NumPy's generic TypeError."""
    if isinstance(value, Tracer):
        return operator.index(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_sizes(v) for v in value)
    return value


def _with_sizes(fn: Any, nsizes: int) -> Any:
    @functools.wraps(fn)
    def make(*args: Any, **kwargs: Any) -> Any:
        return fn(*(_sizes(a) if i < nsizes else a for i, a in enumerate(args)), **kwargs)

    return make


zeros = _with_sizes(np.zeros, 1)
ones = _with_sizes(np.ones, 1)
empty = _with_sizes(np.empty, 1)
_full_constant = _with_sizes(np.full, 1)


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C", **kwargs: Any) -> Any:
    """``numpy.full``; a traced ``fill_value`` keeps its derivative (it is broadcast to ``shape``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.full((2,), 3.0)
    array([3., 3.])
    """
    if not _contains_tracer(fill_value):
        return _full_constant(shape, fill_value, dtype, order, **kwargs)
    from ._util import as_array

    v = as_array(fill_value)
    d = v.dtype if dtype is None else np.dtype(dtype)
    if v.dtype != d:
        v = sh.astype(v, dtype=d)
    shape = _sizes(shape)
    shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else \
        tuple(operator.index(s) for s in shape)
    np.broadcast_shapes(tuple(v.shape), shape)
    if tuple(v.shape) == shape:
        return v
    if len(v.shape) > len(shape) or np.broadcast_shapes(tuple(v.shape), shape) != shape:
        raise ValueError(f"could not broadcast input array from shape {tuple(v.shape)} into shape {shape}")
    return sh.broadcast_to(v, shape=shape)
eye = _with_sizes(np.eye, 2)
identity = _with_sizes(np.identity, 1)


def _contains_tracer(obj: Any) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _leaf_dtypes(obj: Any, out: list) -> list:
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _leaf_dtypes(o, out)
    else:
        out.append(obj.dtype if isinstance(obj, Tracer) else np.asarray(obj).dtype)
    return out


def _build(obj: Any, dtype: np.dtype) -> Any:
    if isinstance(obj, (list, tuple)):
        return stack([_build(o, dtype) for o in obj])
    if isinstance(obj, Tracer):
        return obj if obj.dtype == dtype else sh.astype(obj, dtype=dtype)
    return np.asarray(obj, dtype=dtype)


def array(object: Any, dtype: Any = None, *, copy: bool = True, order: Order = "K", subok: bool = False,  # noqa: A002
          ndmin: int = 0, ndmax: int = 0, like: Any = None) -> Any:
    """``numpy.array`` that keeps derivatives: nested lists of traced values are stacked.

    >>> import funcgrad.numpy as fnp
    >>> fnp.array([1.0, 2.0])
    array([1., 2.])
    """
    if not _contains_tracer(object):
        extra = {"ndmax": ndmax} if ndmax else {}
        return np.array(object, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin, **extra)  # type: ignore[call-overload]  # bool flags forwarded as given (NumPy's stubs overload on Literal[True]/[False])
    # As NumPy: the leaves promote to one dtype (Python numbers in a list are not weak here).
    out = _build(object, np.dtype(dtype) if dtype is not None else np.result_type(*_leaf_dtypes(object, [])))
    if ndmin > out.ndim:
        out = sh.reshape(out, shape=(1,) * (ndmin - out.ndim) + out.shape)
    return out


def asarray(a: Any, dtype: Any = None, order: Any = None, *, device: Any = None, copy: Any = None,
            like: Any = None) -> Any:
    """``numpy.asarray`` that passes traced values through (casting if ``dtype`` is given)."""
    if not _contains_tracer(a):
        return np.asarray(a, dtype=dtype, order=order, copy=copy)
    return array(a, dtype=dtype)


def _like_shape_dtype(a: Any, dtype: Any, shape: Any) -> tuple[Any, Any]:
    s = (np.shape(a) if not hasattr(a, "shape") else a.shape) if shape is None else shape
    d = (np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype) if dtype is None else dtype
    return s, d


def zeros_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
               device: Any = None) -> np.ndarray:
    """``numpy.zeros_like`` (a constant: zeros carry no derivative)."""
    return np.zeros(*_like_shape_dtype(a, dtype, shape))


def ones_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
              device: Any = None) -> np.ndarray:
    """``numpy.ones_like`` (a constant)."""
    return np.ones(*_like_shape_dtype(a, dtype, shape))


def empty_like(prototype: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
               device: Any = None) -> np.ndarray:
    """``numpy.empty_like`` (a constant)."""
    return np.empty(*_like_shape_dtype(prototype, dtype, shape))


def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
              *, device: Any = None) -> Any:
    """``numpy.full_like``; a traced ``fill_value`` keeps its derivative (broadcast)."""
    s = (np.shape(a) if not hasattr(a, "shape") else a.shape) if shape is None else shape
    d = (np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype) if dtype is None else dtype
    if isinstance(fill_value, Tracer):
        v = fill_value if fill_value.dtype == d else sh.astype(fill_value, dtype=np.dtype(d))
        return sh.broadcast_to(v, shape=tuple(s))
    return np.full(s, fill_value, d)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0, *, device: Any = None) -> Any:
    """``numpy.linspace``; traced endpoints (scalars or arrays) keep their derivatives.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linspace(0.0, 1.0, 3)
    array([0. , 0.5, 1. ])
    """
    if not (isinstance(start, Tracer) or isinstance(stop, Tracer)):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)  # type: ignore[call-overload]  # bool flags forwarded as given (NumPy's stubs overload on Literal[True]/[False])
    if np.ndim(start) or np.ndim(stop):
        return _linspace_arrays(start, stop, int(num), endpoint, retstep, dtype, axis)
    if axis not in (0, -1):
        raise np.exceptions.AxisError(axis, 1, "linspace of scalar endpoints")
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    # The same arithmetic as numpy.linspace (float64 steps, then a cast to the result dtype), so
    # values agree exactly and float32 endpoints give a float32 result.
    result_dtype = np.result_type(*(v.dtype if isinstance(v, Tracer) else v for v in (start, stop)), float(num))
    div = (num - 1) if endpoint else num
    delta = stop - start
    y = np.arange(num, dtype=np.float64)
    if div > 0:
        step = delta / div
        # NumPy branches on step == 0; both forms are computed so the step may be traced.
        y = ew.where(step == 0, y / div * delta, y * step)
    else:
        step = delta * np.nan
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        y = _at_last(y, stop)
    out_dtype = result_dtype if dtype is None else np.dtype(dtype)
    if y.dtype != out_dtype:
        y = sh.astype(y, dtype=out_dtype)
    return (y, step) if retstep else y


def _linspace_arrays(start: Any, stop: Any, num: int, endpoint: bool, retstep: bool, dtype: Any, axis: int) -> Any:
    """``linspace`` between arrays of endpoints, with NumPy's arithmetic (samples along a new
    ``axis``)."""
    from ..prims.indexing import index_set
    from . import reductions
    from .shape import moveaxis

    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = (v if isinstance(v, Tracer) else np.asarray(v) for v in (start, stop))
    result_dtype = np.result_type(start.dtype, stop.dtype, float(num))
    start, stop = (v if v.dtype.kind in "fc" else sh.astype(v, dtype=np.dtype(np.float64)) for v in (start, stop))
    div = (num - 1) if endpoint else num
    delta = ew.sub(stop, start)
    nd = len(np.broadcast_shapes(tuple(start.shape), tuple(stop.shape)))
    y = np.arange(num, dtype=np.float64).reshape((-1,) + (1,) * nd)
    if div > 0:
        step = ew.div(delta, float(div))
        # NumPy takes the y / div * delta form for every element when any step is zero.
        y = ew.where(reductions.any(step == 0), ew.mul(y / div, delta), ew.mul(y, step))
    else:
        step = ew.mul(delta, np.nan)
        y = ew.mul(y, delta)
    y = ew.add(y, start)
    if endpoint and num > 1:
        y = index_set(y, sh.broadcast_to(stop, shape=tuple(y.shape[1:])), spec=(("i", -1),))
    y = moveaxis(y, 0, axis)
    out_dtype = result_dtype if dtype is None else np.dtype(dtype)
    if y.dtype != out_dtype:
        y = sh.astype(y, dtype=out_dtype)
    return (y, step) if retstep else y


def _at_last(y: Any, v: Any) -> Any:
    from ..prims.indexing import index_set

    return index_set(y, v, spec=(("i", -1),))


class _Concatenator:
    """An index expression that builds an array: ``r_[...]`` and ``c_[...]``, as NumPy's.

    Items are arrays (traced or not), scalars, and slices (``start:stop:step`` is ``arange``;
    a complex step ``start:stop:nj`` is ``linspace`` with ``n`` points). A first item that is a
    string such as ``'0,2,1'`` sets the axis, the minimum number of dimensions, and where the
    axes of upgraded arrays go (NumPy's directive). Matrix directives ('r', 'c') are not supported.
    Traced pieces keep their derivatives. Plain ``np.r_``/``np.c_`` cannot see traced values
    (they convert their items with ``np.array``); use ``funcgrad.numpy.r_``/``c_``.
    """

    def __init__(self, axis: int, ndmin: int, trans1d: int, name: str) -> None:
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"funcgrad.numpy.{self.name}"

    def _directive(self, item: str) -> tuple[int, int, int]:
        if item in ("r", "c"):
            raise NotImplementedError(f"funcgrad.numpy.{self.name}: matrix directives ('r', 'c') are not supported")
        try:
            vals = [int(v) for v in item.split(",")]
        except ValueError:
            raise ValueError(f"unknown special directive {item!r}") from None
        if not 1 <= len(vals) <= 3:
            raise ValueError(f"unknown special directive {item!r}")
        axis, ndmin, trans1d = vals + [self.ndmin, self.trans1d][len(vals) - 1:]
        return axis, ndmin, trans1d

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces: list = []
        dtypes: list = []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                axis, ndmin, trans1d = self._directive(item)
                continue
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, (complex, np.complexfloating)):
                    new = np.linspace(start, item.stop, num=int(abs(step)))  # type: ignore[call-overload]  # a slice's step: a number
                else:
                    new = np.arange(start, item.stop, step)  # type: ignore[assignment]  # int or float, as NumPy's r_ gives
                if ndmin > 1:
                    new = np.array(new, ndmin=ndmin)
                    if trans1d != -1:
                        new = new.swapaxes(-1, trans1d)
                dtypes.append(new.dtype)
            elif isinstance(item, (bool, int, float, complex, np.generic)):
                new = np.array(item, ndmin=ndmin)
                dtypes.append(item if not isinstance(item, np.generic) else item.dtype)
            else:
                item_ndim = item.ndim if isinstance(item, Tracer) else np.ndim(item)
                new = array(item, ndmin=ndmin) if _contains_tracer(item) else np.array(item, ndmin=ndmin)
                if trans1d != -1 and item_ndim < ndmin:
                    k2 = ndmin - item_ndim
                    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
                    # the item's own axes start at position k1; the added unit axes fill the rest
                    order = list(range(k2))[:k1] + list(range(k2, ndmin)) + list(range(k2))[k1:]
                    new = sh.transpose(new, axes=tuple(order)) if isinstance(new, Tracer) else new.transpose(order)
                dtypes.append(new.dtype)
            pieces.append(new)
        if not pieces:
            return np.array([])
        dtype = np.result_type(*dtypes)
        pieces = [p if p.dtype == dtype else (sh.astype(p, dtype=dtype) if isinstance(p, Tracer) else p.astype(dtype))
                  for p in pieces]
        from .shape import concatenate

        return concatenate(pieces, axis=axis)


r_ = _Concatenator(0, 1, -1, "r_")
r_.__doc__ = """``numpy.r_``: concatenate pieces along the first axis, traced pieces included.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.r_[np.array([1.0, 2.0]), 0.0, 5:7]
    array([1., 2., 0., 5., 6.])
    """
c_ = _Concatenator(-1, 2, 0, "c_")
c_.__doc__ = """``numpy.c_``: stack pieces as columns (along the last axis, at least 2-d).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.c_[np.array([1.0, 2.0]), np.array([3.0, 4.0])]
    array([[1., 3.],
           [2., 4.]])
    """

__all__ += ["r_", "c_"]
