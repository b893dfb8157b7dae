"""Small helpers shared by the funcgrad.numpy modules: axis normalisation, tracer detection."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .._backend import is_foreign_array
from ..core import Tracer


def ndim_of(x: Any) -> int:
    return x.ndim if isinstance(x, (np.ndarray, Tracer)) else np.ndim(x)


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, (np.ndarray, Tracer)) else np.shape(x)


def contains_tracer(obj: Any) -> bool:
    """Whether ``obj`` is a traced value or a (nested) list/tuple holding one."""
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(contains_tracer(o) for o in obj)
    return False


def as_array(x: Any) -> Any:
    """Tracers and arrays pass through; a (nested) list or tuple holding traced values is stacked
    into one traced array (as NumPy would build an array from it); an array of another library
    (Dask, CuPy) stays in it; anything else becomes an ndarray."""
    if isinstance(x, (np.ndarray, Tracer)) or is_foreign_array(x):
        return x
    if isinstance(x, (list, tuple)) and contains_tracer(x):
        from .creation import array

        return array(x)
    return np.asarray(x)


def normalize_axis(axis: int, ndim: int, argname: str = "axis") -> int:
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{argname} must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``None`` stays ``None``; an int or sequence becomes a sorted tuple of non-negative ints."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate value in 'axis': {axis!r}")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim),)


def no_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(
            f"funcgrad.numpy.{name} does not support out=: arrays are never written in place "
            "under differentiation. Use the return value instead."
        )


def concrete(x: Any, fname: str, fix: str = "") -> Any:
    """The concrete value beneath ``x`` (recursing into lists and tuples), for the functions
    whose result NumPy computes from values without a derivative (counts, indices, set
    operations). Under ``jit`` or ``vmap`` there is no single concrete value: a
    :class:`ConcretizationError` names the function and ``fix``."""
    from ..core import ValuelessTracer
    from ..errors import ConcretizationError

    if isinstance(x, (list, tuple)):
        return type(x)(concrete(v, fname, fix) for v in x) if not hasattr(x, "_fields") else x
    v = x
    while isinstance(v, Tracer):
        if isinstance(v, ValuelessTracer):
            origin = getattr(v, "origin", None)
            where = f" (computed from {origin})" if origin else ""
            try:
                from ..core import user_frame

                where += f"\n  at {user_frame()}\n"
            except ImportError:  # pragma: no cover
                where += " "
            raise ConcretizationError(
                f"funcgrad.numpy.{fname} needs the concrete values of its argument, but under jit or vmap the "
                f"value is abstract{where}Only its shape and dtype are known while tracing, and {fname}'s result "
                "depends on the values. " + (fix or "Call it outside jit/vmap, or on a static (concrete) argument."))
        v = v.primal
    return v
