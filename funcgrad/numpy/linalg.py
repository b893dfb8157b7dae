"""``funcgrad.numpy.linalg``: norms for now (factorisations and solvers come later)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..prims import elementwise as ew
from ..prims import linalg as la
from . import reductions as red
from ._util import as_array, normalize_axes

__all__ = ["norm"]


def _vector_norm(x: Any, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return la.l2norm(x, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return red.max(ew.abs_p.bind(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return red.min(ew.abs_p.bind(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return red.sum(ew.not_equal_p.bind(x, 0), axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return red.sum(ew.abs_p.bind(x), axis=axis, keepdims=keepdims)
    # General p: (sum |x|^p)^(1/p), with value and derivative 0 (not NaN) where x is all zeros:
    # those groups are replaced by ones before the power, whose derivative at 0 is infinite for
    # p < 1 (and the result by 0 after), so no inf * 0 reaches the derivative.
    zero = red.all(ew.equal(x, 0.0), axis=axis, keepdims=True)
    s = red.sum(ew.power(ew.where(zero, 1.0, ew.abs_p.bind(x)), ord), axis=axis, keepdims=keepdims)
    return ew.where(zero if keepdims else red.all(zero, axis=axis), 0.0, ew.power(s, 1.0 / ord))


def _matrix_norm(x: Any, ord: Any, axis: tuple[int, int], keepdims: bool) -> Any:
    row, col = axis
    if ord is None or ord == "fro":
        return la.l2norm(x, axis=axis, keepdims=keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        summed_axis, reduce_axis = (row, col) if ord in (1, -1) else (col, row)
        col_sums = red.sum(ew.abs_p.bind(x), axis=summed_axis, keepdims=True)
        pick = red.max if ord in (1, np.inf) else red.min
        out = pick(col_sums, axis=reduce_axis, keepdims=True)
        return out if keepdims else red.sum(out, axis=axis)
    raise NotImplementedError(
        f"funcgrad.numpy.linalg.norm(ord={ord!r}) for matrices needs singular values, which "
        "funcgrad does not differentiate yet; supported matrix orders: None, 'fro', 1, -1, inf, -inf."
    )


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.linalg.norm``; the gradient at ``x = 0`` is 0 (a subgradient).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.norm(np.array([3.0, 4.0]))
    np.float64(5.0)
    """
    x = as_array(x)
    if x.dtype.kind in "iub":
        x = x.astype(np.float64)
    if axis is None:
        if ord is None:
            return la.l2norm(x, axis=None, keepdims=keepdims)
        if x.ndim == 1:
            return _vector_norm(x, ord, (0,), keepdims)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError("Improper number of dimensions to norm.")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axes(axes, x.ndim), keepdims)
    if len(axes) == 2:
        a, b = (int(v) % x.ndim for v in axes)
        if a == b:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, (a, b), keepdims)
    raise ValueError("Improper number of dimensions to norm.")
