"""Small helpers shared by the funcgrad.numpy modules: axis normalisation, tracer detection."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import Tracer


def ndim_of(x: Any) -> int:
    return x.ndim if isinstance(x, (np.ndarray, Tracer)) else np.ndim(x)


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, (np.ndarray, Tracer)) else np.shape(x)


def as_array(x: Any) -> Any:
    """Tracers and arrays pass through; anything else becomes an ndarray."""
    return x if isinstance(x, (np.ndarray, Tracer)) else np.asarray(x)


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
