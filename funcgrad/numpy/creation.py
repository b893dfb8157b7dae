"""Array creation. Results are constants (no derivative), except ``array``/``asarray`` of
traced values and the ``*_like`` functions' shapes, which follow their argument."""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np

from ..core import Tracer
from ..prims import shape as sh
from .shape import stack

__all__ = ["array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "linspace", "eye", "identity"]

arange = np.arange


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
full = _with_sizes(np.full, 1)
eye = _with_sizes(np.eye, 2)
identity = _with_sizes(np.identity, 1)


def _contains_tracer(obj: Any) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _build(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return stack([_build(o) for o in obj])
    return obj if isinstance(obj, Tracer) else np.asarray(obj)


def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    """``numpy.array`` that keeps derivatives: nested lists of traced values are stacked.

    >>> import funcgrad.numpy as fnp
    >>> fnp.array([1.0, 2.0])
    array([1., 2.])
    """
    if not _contains_tracer(object):
        return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)
    out = _build(object)
    if dtype is not None and out.dtype != np.dtype(dtype):
        out = sh.astype(out, dtype=np.dtype(dtype))
    if ndmin > out.ndim:
        out = sh.reshape(out, shape=(1,) * (ndmin - out.ndim) + out.shape)
    return out


def asarray(a: Any, dtype: Any = None) -> Any:
    """``numpy.asarray`` that passes traced values through (casting if ``dtype`` is given)."""
    if not _contains_tracer(a):
        return np.asarray(a, dtype=dtype)
    return array(a, dtype=dtype)


def _like(fill: Any) -> Any:
    def make(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
        s = (np.shape(a) if not hasattr(a, "shape") else a.shape) if shape is None else shape
        d = (np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype) if dtype is None else dtype
        return fill(s, d)

    return make


zeros_like = _like(np.zeros)
zeros_like.__doc__ = "``numpy.zeros_like`` (a constant: zeros carry no derivative)."
ones_like = _like(np.ones)
ones_like.__doc__ = "``numpy.ones_like`` (a constant)."
empty_like = _like(np.empty)
empty_like.__doc__ = "``numpy.empty_like`` (a constant)."


def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Any:
    """``numpy.full_like``; a traced ``fill_value`` keeps its derivative (broadcast)."""
    s = (np.shape(a) if not hasattr(a, "shape") else a.shape) if shape is None else shape
    d = (np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype) if dtype is None else dtype
    if isinstance(fill_value, Tracer):
        v = fill_value if fill_value.dtype == d else sh.astype(fill_value, dtype=np.dtype(d))
        return sh.broadcast_to(v, shape=tuple(s))
    return np.full(s, fill_value, d)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """``numpy.linspace``; traced scalar endpoints keep their derivatives."""
    if not (isinstance(start, Tracer) or isinstance(stop, Tracer)):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    if np.ndim(start) or np.ndim(stop) or axis != 0:
        raise NotImplementedError("linspace with traced endpoints supports scalar start/stop and axis=0")
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
        y = y / div * delta if bool(step == 0) else y * step
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


def _at_last(y: Any, v: Any) -> Any:
    from ..prims.indexing import index_set

    return index_set(y, v, spec=(("i", -1),))
