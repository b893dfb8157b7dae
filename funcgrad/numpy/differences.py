"""Finite differences: ``diff`` and ``gradient``, built from slices and arithmetic (so they are
linear in the data, and differentiable in the data and in the sample spacing)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import getitem_static
from ._util import as_array, ndim_of, normalize_axis
from .shape import broadcast_to, concatenate, reshape

__all__ = ["diff", "gradient"]

_NOVALUE = object()


def _along(x: Any, axis: int, idx: Any) -> Any:
    """``x[..., idx, ...]`` with ``idx`` (a slice or an int) applied to ``axis``."""
    return getitem_static(x, (slice(None),) * axis + (idx,))


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = _NOVALUE, append: Any = _NOVALUE) -> Any:
    """Differentiable ``numpy.diff``: ``a[1:] - a[:-1]`` along ``axis``, ``n`` times
    (``!=`` for booleans, as NumPy). ``prepend``/``append`` values are joined first.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.diff(np.array([1.0, 4.0, 9.0]))
    array([3., 5.])
    """
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    a = as_array(a)
    if n == 0:
        return a
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, a.ndim)
    parts = []
    for extra in (prepend, None, append):
        if extra is None:
            parts.append(a)
        elif extra is not _NOVALUE:
            extra = as_array(extra)
            if extra.ndim == 0:
                extra = broadcast_to(extra, tuple(1 if d == axis else s for d, s in enumerate(a.shape)))
            parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    for _ in range(n):
        upper, lower = _along(a, axis, slice(1, None)), _along(a, axis, slice(None, -1))
        a = ew.not_equal_p.bind(upper, lower) if a.dtype == np.bool_ else ew.sub(upper, lower)
    return a


def _spacings(f: Any, varargs: tuple, axes: tuple[int, ...]) -> list:
    """One spacing per axis: a scalar (uniform) or a 1-d array of the gaps between coordinates."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and ndim_of(varargs[0]) == 0:
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    out = []
    for d, ax in zip(varargs, axes, strict=True):
        if ndim_of(d) == 0:
            out.append(d)
            continue
        if ndim_of(d) != 1:
            raise ValueError("distances must be either scalars or 1d")
        d = as_array(d)
        if d.shape[0] != f.shape[ax]:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        if d.dtype.kind in "iub":
            d = np.asarray(d, np.float64) if not isinstance(d, Tracer) else sh.astype(d, dtype=np.dtype(np.float64))
        gaps = diff(d)
        # Evenly spaced (concrete) coordinates use the uniform formulas, as NumPy does.
        if not isinstance(gaps, Tracer) and gaps.size and np.all(gaps == gaps[0]):
            gaps = gaps[0]
        out.append(gaps)
    return out


def _bcast(v: Any, axis: int, ndim: int) -> Any:
    """A 1-d array of coefficients along ``axis``, shaped to broadcast against the data."""
    return reshape(v, (1,) * axis + (-1,) + (1,) * (ndim - axis - 1))


def _gradient_axis(f: Any, dx: Any, axis: int, edge_order: int) -> Any:
    nd = f.ndim

    def at(i: Any) -> Any:
        return _along(f, axis, i)

    def keep(x: Any) -> Any:  # an edge value with its axis kept (length 1)
        return reshape(x, tuple(1 if d == axis else s for d, s in enumerate(f.shape)))

    # Plain operators: Python-number spacings stay Python numbers (weak under NEP 50, so float32
    # data stays float32, as in NumPy); arrays and traced values use their own operators.
    uniform = ndim_of(dx) == 0
    if uniform:
        interior = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
    else:
        dx1, dx2 = getitem_static(dx, (slice(None, -1),)), getitem_static(dx, (slice(1, None),))
        ca = -dx2 / (dx1 * (dx1 + dx2))
        cb = (dx2 - dx1) / (dx1 * dx2)
        cc = dx1 / (dx2 * (dx1 + dx2))
        interior = (_bcast(ca, axis, nd) * at(slice(None, -2)) + _bcast(cb, axis, nd) * at(slice(1, -1))
                    + _bcast(cc, axis, nd) * at(slice(2, None)))
    if edge_order == 1:
        d0 = dx if uniform else getitem_static(dx, (0,))
        dn = dx if uniform else getitem_static(dx, (-1,))
        first = (at(1) - at(0)) / d0
        last = (at(-1) - at(-2)) / dn
    else:
        if uniform:
            ca, cb, cc = -1.5 / dx, 2.0 / dx, -0.5 / dx
        else:
            dx1, dx2 = getitem_static(dx, (0,)), getitem_static(dx, (1,))
            ca = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            cb = (dx1 + dx2) / (dx1 * dx2)
            cc = -dx1 / (dx2 * (dx1 + dx2))
        first = ca * at(0) + cb * at(1) + cc * at(2)
        if uniform:
            ca, cb, cc = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            dx1, dx2 = getitem_static(dx, (-2,)), getitem_static(dx, (-1,))
            ca = dx2 / (dx1 * (dx1 + dx2))
            cb = -(dx2 + dx1) / (dx1 * dx2)
            cc = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        last = ca * at(-3) + cb * at(-2) + cc * at(-1)
    return concatenate([keep(first), interior, keep(last)], axis=axis)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Differentiable ``numpy.gradient``: central differences inside, one-sided differences of
    order ``edge_order`` (1 or 2) at the boundaries; spacings may be scalars or coordinate arrays
    (and may be traced). One array per axis (a tuple for several axes), as NumPy returns.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.gradient(np.array([1.0, 4.0, 9.0, 16.0]))
    array([3., 4., 6., 7.])
    """
    f = as_array(f)
    nd = f.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(normalize_axis(x, nd) for x in (axis if isinstance(axis, (tuple, list)) else (axis,)))
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
    spacings = _spacings(f, varargs, axes)
    edge_order = operator.index(edge_order)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    out_dtype = f.dtype if f.dtype.kind in "fc" else np.dtype(np.float64)
    if f.dtype != out_dtype:
        f = sh.astype(f, dtype=out_dtype) if isinstance(f, Tracer) else f.astype(out_dtype)
    results = []
    for ax, dx in zip(axes, spacings, strict=True):
        if f.shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at least "
                             "(edge_order + 1) elements are required.")
        g = _gradient_axis(f, dx, ax, edge_order)
        results.append(g if g.dtype == out_dtype else sh.astype(g, dtype=out_dtype))
    return results[0] if len(axes) == 1 else tuple(results)
