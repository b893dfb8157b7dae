"""Shape manipulation with NumPy's names and semantics, built on a few shape primitives."""

from __future__ import annotations

import builtins
import math
import operator
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import getitem, getitem_static
from ._util import as_array, ndim_of, normalize_axes, normalize_axis, shape_of

if TYPE_CHECKING:
    from .._options import PadMode

__all__ = ["reshape", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "broadcast_to",
           "ravel", "concatenate", "stack", "hstack", "vstack", "split", "flip", "tile", "repeat",
           "diag", "diagonal", "triu", "tril", "pad", "atleast_1d", "atleast_2d", "atleast_3d",
           "shape", "ndim", "size"]


def _resolve_shape(newshape: Any, size: int) -> tuple[int, ...]:
    if isinstance(newshape, (int, np.integer)):
        newshape = (newshape,)
    newshape = tuple(int(s) for s in newshape)
    if newshape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in newshape:
        known = math.prod([s for s in newshape if s != -1])
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
        newshape = tuple(size // known if s == -1 else s for s in newshape)
    if math.prod(newshape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
    return newshape


def reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Any:
    """Differentiable ``numpy.reshape`` (C order).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    if order != "C":
        raise NotImplementedError(f"funcgrad.numpy.reshape supports order='C' only, got order={order!r}")
    shape = newshape if shape is None else shape
    a = as_array(a)
    new = _resolve_shape(shape, math.prod(a.shape))
    return a if new == a.shape else sh.reshape(a, shape=new)


def ravel(a: Any, order: str = "C") -> Any:
    """Differentiable ``numpy.ravel``: a 1-d view of ``a``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.ravel(np.ones((2, 2))).shape
    (4,)
    """
    return reshape(a, (-1,), order=order)


def transpose(a: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.transpose``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.transpose(np.ones((2, 3))).shape
    (3, 2)
    """
    a = as_array(a)
    n = a.ndim
    perm = tuple(range(n))[::-1] if axes is None else tuple(normalize_axis(x, n) for x in axes)
    if sorted(perm) != list(range(n)):
        raise ValueError(f"axes don't match array: got {axes!r} for an array of {n} dimensions")
    return a if perm == tuple(range(n)) else sh.transpose(a, axes=perm)


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Differentiable ``numpy.swapaxes``."""
    a = as_array(a)
    perm = list(range(a.ndim))
    i, j = normalize_axis(axis1, a.ndim), normalize_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Differentiable ``numpy.moveaxis``."""
    a = as_array(a)
    n = a.ndim
    src = [normalize_axis(s, n) for s in np.atleast_1d(source)]
    dst = [normalize_axis(d, n) for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(a, order)


def expand_dims(a: Any, axis: Any) -> Any:
    """Differentiable ``numpy.expand_dims``."""
    a = as_array(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    n = a.ndim + len(axes)
    axes = {normalize_axis(x, n) for x in axes}  # type: ignore[assignment]  # rebound to the set of normalized axes
    it = iter(a.shape)
    return sh.reshape(a, shape=tuple(1 if d in axes else next(it) for d in range(n)))


def squeeze(a: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.squeeze``."""
    a = as_array(a)
    if axis is None:
        axes = tuple(d for d, s in enumerate(a.shape) if s == 1)
    else:
        axes = normalize_axes(axis, a.ndim) or ()
        for d in axes:
            if a.shape[d] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    new = tuple(s for d, s in enumerate(a.shape) if d not in axes)
    return a if new == a.shape else sh.reshape(a, shape=new)


def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """Differentiable ``numpy.broadcast_to``; its derivative sums over the broadcast axes."""
    array = as_array(array)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    np.broadcast_shapes(array.shape, shape)  # NumPy's error for incompatible shapes
    return array if array.shape == shape else sh.broadcast_to(array, shape=shape)


def concatenate(arrays: Sequence[Any], axis: Any = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> Any:
    """Differentiable ``numpy.concatenate``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.concatenate([np.ones(2), np.zeros(1)])
    array([1., 1., 0.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.concatenate does not support out=")
    arrays = [as_array(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    if dtype is not None:
        arrays = [sh.astype(a, dtype=np.dtype(dtype)) for a in arrays]
    if arrays[0].ndim == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, arrays[0].ndim)
    if not builtins.any(isinstance(a, Tracer) for a in arrays):
        return np.concatenate(arrays, axis=axis)
    return sh.concatenate(*arrays, axis=axis)


def stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, *, dtype: Any = None,
          casting: str = "same_kind") -> Any:
    """Differentiable ``numpy.stack``."""
    arrays = [as_array(a) for a in arrays]
    if dtype is not None:
        arrays = [a if a.dtype == np.dtype(dtype) else sh.astype(a, dtype=np.dtype(dtype)) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis(axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis, out=out)


def atleast_1d(*arys: Any) -> Any:
    """``numpy.atleast_1d``: 0-d inputs become shape ``(1,)`` (a tuple for several inputs).

    >>> import funcgrad.numpy as fnp
    >>> fnp.atleast_1d(2.0)
    array([2.])
    """
    res = [reshape(a, (1,)) if ndim_of(a) == 0 else as_array(a) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*arys: Any) -> Any:
    """``numpy.atleast_2d``: 0-d become ``(1, 1)``, 1-d ``(n,)`` become ``(1, n)``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.atleast_2d(np.ones(3)).shape
    (1, 3)
    """
    res = []
    for a in arys:
        a = as_array(a)
        res.append(reshape(a, (1, 1)) if a.ndim == 0 else reshape(a, (1, -1)) if a.ndim == 1 else a)
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*arys: Any) -> Any:
    """``numpy.atleast_3d``: 1-d ``(n,)`` become ``(1, n, 1)``, 2-d ``(m, n)`` become ``(m, n, 1)``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.atleast_3d(np.ones(3)).shape
    (1, 3, 1)
    """
    res = []
    for a in arys:
        a = as_array(a)
        if a.ndim == 0:
            a = reshape(a, (1, 1, 1))
        elif a.ndim == 1:
            a = reshape(a, (1, -1, 1))
        elif a.ndim == 2:
            a = expand_dims(a, -1)
        res.append(a)
    return res[0] if len(res) == 1 else tuple(res)


def hstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Differentiable ``numpy.hstack`` (``dtype`` casts the pieces first; ``casting`` is not checked)."""
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, axis=0 if arrs and arrs[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Differentiable ``numpy.vstack`` (``dtype`` casts the pieces first; ``casting`` is not checked)."""
    return concatenate([atleast_2d(a) for a in tup], axis=0, dtype=dtype)


def _split_at(ary: Any, bounds: list[int], axis: int) -> list:
    head = (slice(None),) * axis
    return [getitem_static(ary, head + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Differentiable ``numpy.split``: a list of slices of ``ary``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.split(np.ones((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    ary = as_array(ary)
    axis = normalize_axis(axis, ary.ndim)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("number sections must be larger than 0.")
        if n % k:
            raise ValueError("array split does not result in an equal division")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return _split_at(ary, bounds, axis)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Differentiable ``numpy.array_split``: like :func:`split`, but ``k`` sections need not divide
    the axis evenly (the first ``n % k`` sections get one element more).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.array_split(np.ones(5), 3)]
    [(2,), (2,), (1,)]
    """
    ary = as_array(ary)
    axis = normalize_axis(axis, ary.ndim)
    n = ary.shape[axis]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(ary, indices_or_sections, axis)
    k = int(indices_or_sections)
    if k <= 0:
        raise ValueError("number sections must be larger than 0.")
    each, extra = divmod(n, k)
    sizes = [each + 1] * extra + [each] * (k - extra)
    return _split_at(ary, [int(b) for b in np.cumsum([0] + sizes)], axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list:
    """Differentiable ``numpy.hsplit``: :func:`split` along axis 1 (axis 0 for 1-d input).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.hsplit(np.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    if ndim_of(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if ndim_of(ary) > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> list:
    """Differentiable ``numpy.vsplit``: :func:`split` along axis 0 of an array of 2 or more dimensions.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.vsplit(np.ones((4, 2)), [1])]
    [(1, 2), (3, 2)]
    """
    if ndim_of(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary: Any, indices_or_sections: Any) -> list:
    """Differentiable ``numpy.dsplit``: :func:`split` along axis 2 of an array of 3 or more dimensions.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.dsplit(np.ones((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def flip(m: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.flip``."""
    m = as_array(m)
    axes = normalize_axes(axis, m.ndim)
    axes = tuple(range(m.ndim)) if axes is None else axes
    return getitem_static(m, tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(m.ndim)))


def tile(A: Any, reps: Any) -> Any:
    """Differentiable ``numpy.tile``: a broadcast and a reshape."""
    A = as_array(A)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    n = builtins.max(len(reps), A.ndim)
    reps = (1,) * (n - len(reps)) + reps
    shp = (1,) * (n - A.ndim) + tuple(A.shape)
    interleaved = sum(((1, s) for s in shp), ())
    big = broadcast_to(reshape(A, interleaved), sum(((r, s) for r, s in zip(reps, shp, strict=True)), ()))
    return reshape(big, tuple(r * s for r, s in zip(reps, shp, strict=True)))


def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.repeat``: a gather whose derivative sums the repeats."""
    a = as_array(a)
    if axis is None:
        a = ravel(a)
        axis = 0
    axis = normalize_axis(axis, a.ndim)
    idx = np.repeat(np.arange(a.shape[axis]), repeats)
    return _take_axis(a, idx, axis)


def _take_axis(a: Any, idx: np.ndarray, axis: int) -> Any:
    spec = tuple(("s", None, None, None) for _ in range(axis)) + (("a", 0),)
    return getitem(a, idx, spec=spec)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Differentiable ``numpy.diagonal`` (a copy; the diagonal is the last axis).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.diagonal(np.arange(9.0).reshape(3, 3), 1)
    array([1., 5.])
    """
    a = as_array(a)
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    n, m = moved.shape[-2], moved.shape[-1]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset)) if m - offset > 0 else np.arange(0)
    cols = rows + offset
    spec = (("e",), ("a", 0), ("a", 1))
    return getitem(moved, rows, cols, spec=spec)


def diag(v: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.diag``: extract a diagonal (2-d input) or build a diagonal matrix."""
    from ..prims.indexing import index_set

    v = as_array(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = v.shape[0] + builtins.abs(k)
    rows = np.arange(v.shape[0]) + builtins.max(0, -k)
    cols = rows + k
    return index_set(np.zeros((n, n), v.dtype), v, rows, cols, spec=(("a", 0), ("a", 1)))


def _tri_mask(shape: tuple[int, ...], k: int, upper: bool) -> np.ndarray:
    # As NumPy: the mask is tri(*shape[-2:]), so a 1-d input of length n broadcasts to (n, n).
    if len(shape) == 0:
        raise ValueError("input must be at least 1-d")
    n, m = shape[-2:] if len(shape) > 1 else (shape[0], shape[0])
    return ~np.tri(n, m, k - 1, dtype=bool) if upper else np.tri(n, m, k, dtype=bool)


def triu(m: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.triu``."""
    m = as_array(m)
    return ew.where(_tri_mask(m.shape, k, True), m, np.zeros((), m.dtype))


def tril(m: Any, k: int = 0) -> Any:
    """Differentiable ``numpy.tril``."""
    m = as_array(m)
    return ew.where(_tri_mask(m.shape, k, False), m, np.zeros((), m.dtype))


def pad(array: Any, pad_width: Any, mode: PadMode = "constant", constant_values: Any = 0) -> Any:
    """Differentiable ``numpy.pad`` for modes constant, edge, reflect, symmetric and wrap."""
    array = as_array(array)
    width = tuple(tuple(int(w) for w in row)
                  for row in np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (array.ndim, 2)))
    if mode == "constant":
        if isinstance(constant_values, Tracer) or np.ndim(constant_values) != 0:
            raise NotImplementedError("funcgrad.numpy.pad supports one constant scalar value")
        return sh.pad(array, pad_width=width, value=constant_values.item()
                      if isinstance(constant_values, np.generic) else constant_values)
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(
            f"funcgrad.numpy.pad does not support mode={mode!r}; supported: constant, edge, "
            "reflect, symmetric, wrap")
    out = array
    for d, (lo, hi) in enumerate(width):
        if lo or hi:
            idx = np.pad(np.arange(array.shape[d]), (lo, hi), mode=mode)
            out = _take_axis(out, idx, d)
    return out


def shape(a: Any) -> tuple[int, ...]:
    """``numpy.shape``: a tuple of ints (traced values have concrete shapes).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.shape(np.ones((2, 3)))
    (2, 3)
    """
    return shape_of(a)


def ndim(a: Any) -> int:
    """``numpy.ndim``: the number of axes, an int.

    >>> import funcgrad.numpy as fnp
    >>> fnp.ndim([[1.0, 2.0]])
    2
    """
    return ndim_of(a)


def size(a: Any, axis: Any = None) -> int:
    """``numpy.size``."""
    s = shape_of(a)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[axis]


# --- more shape functions: stacking, splitting, flips, rotations, gathers ---------------------------


def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.append``: ``values`` concatenated after ``arr`` (both flattened
    when ``axis`` is None).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.append(np.array([1.0, 2.0]), [[3.0]])
    array([1., 2., 3.])
    """
    arr, values = as_array(arr), as_array(values)
    if axis is None:
        return concatenate([ravel(arr) if arr.ndim != 1 else arr, ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def column_stack(tup: Sequence[Any]) -> Any:
    """Differentiable ``numpy.column_stack``: 1-d arrays become columns, then stacked along axis 1.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.column_stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    array([[1., 3.],
           [2., 4.]])
    """
    cols = []
    for a in tup:
        a = as_array(a)
        cols.append(reshape(a, (-1, 1)) if a.ndim < 2 else a)
    return concatenate(cols, axis=1)


def row_stack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """``numpy.row_stack``: :func:`vstack`, with NumPy 2's ``DeprecationWarning`` for this alias.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.vstack([np.ones(2), np.zeros(2)]).shape  # what row_stack does
    (2, 2)
    """
    import warnings

    warnings.warn("`row_stack` alias is deprecated. Use `np.vstack` directly.", DeprecationWarning, stacklevel=2)
    return vstack(tup, dtype=dtype, casting=casting)


def dstack(tup: Sequence[Any]) -> Any:
    """Differentiable ``numpy.dstack``: stacked along the third axis (after :func:`atleast_3d`).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.dstack([np.ones(2), np.zeros(2)]).shape
    (1, 2, 2)
    """
    return concatenate([atleast_3d(a) for a in tup], axis=2)


def fliplr(m: Any) -> Any:
    """Differentiable ``numpy.fliplr``: reverse axis 1.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.fliplr(np.array([[1.0, 2.0]]))
    array([[2., 1.]])
    """
    if ndim_of(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m: Any) -> Any:
    """Differentiable ``numpy.flipud``: reverse axis 0.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.flipud(np.array([1.0, 2.0]))
    array([2., 1.])
    """
    if ndim_of(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """Differentiable ``numpy.rot90``: rotate by 90 degrees ``k`` times in the plane of ``axes``
    (from the first axis towards the second), composed of flips and a transpose.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.rot90(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 4.],
           [1., 3.]])
    """
    m = as_array(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or builtins.abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError("Axes must be different.")
    if not (-m.ndim <= axes[0] < m.ndim and -m.ndim <= axes[1] < m.ndim):
        raise ValueError(f"Axes={axes} out of range for array of ndim={m.ndim}.")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(m.ndim))
    i, j = axes[0] % m.ndim, axes[1] % m.ndim
    perm[i], perm[j] = perm[j], perm[i]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.roll``: elements shifted cyclically (two slices, concatenated).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.roll(np.array([1.0, 2.0, 3.0]), 1)
    array([3., 1., 2.])
    """
    a = as_array(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts, axes = np.asarray(shift), np.asarray(axis)
    if shifts.ndim > 1 or axes.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    total = dict.fromkeys(range(a.ndim), 0)
    for s, ax in np.broadcast(shifts, axes):
        total[normalize_axis(int(ax), a.ndim)] += operator.index(s)
    out = a
    for ax, s in total.items():
        n = a.shape[ax]
        s = s % n if n else 0
        if s:
            head = (slice(None),) * ax
            out = concatenate([getitem_static(out, head + (slice(n - s, None),)),
                               getitem_static(out, head + (slice(None, n - s),))], axis=ax)
    return out


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Differentiable ``numpy.rollaxis``: move ``axis`` so that it comes before ``start``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.rollaxis(np.ones((3, 4, 5)), 2).shape
    (5, 3, 4)
    """
    a = as_array(a)
    n = a.ndim
    axis = normalize_axis(axis, n)
    start = operator.index(start)
    if not -n <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if start < 0:
        start += n
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = [d for d in range(n) if d != axis]
    order.insert(start, axis)
    return transpose(a, order)


def _index_array(indices: Any) -> Any:
    """An integer index array (a Tracer of an integer dtype under jit/vmap is kept as it is)."""
    if isinstance(indices, Tracer):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"indices must be integers, got a traced {indices.dtype} value")
        return indices
    idx = np.asarray(indices)
    if idx.size == 0 and idx.dtype.kind == "f":
        idx = idx.astype(np.intp)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, got dtype {idx.dtype}")
    return idx


def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    """Differentiable ``numpy.take``: a gather along ``axis`` (of the flattened array if None);
    its derivative adds back into the gathered positions (repeats accumulate).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.take(np.array([10.0, 20.0, 30.0]), [2, 0, 2])
    array([30., 10., 30.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.take does not support out=")
    a = as_array(a)
    if axis is None:
        a = ravel(a)
        axis = 0
    axis = normalize_axis(axis, a.ndim)
    idx = _index_array(indices)
    n = a.shape[axis]
    if mode == "wrap":
        idx = ew.remainder(idx, n) if n else idx
    elif mode == "clip":
        idx = ew.minimum_p.bind(ew.maximum_p.bind(idx, 0), n - 1) if n else idx
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    spec = (("s", None, None, None),) * axis + (("a", 0),)
    return getitem(a, idx, spec=spec)


def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    """Differentiable ``numpy.take_along_axis``: ``out[..., i, ...] = arr[..., indices[..., i, ...], ...]``
    along ``axis`` (other axes broadcast); the derivative flows to the selected elements.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> a = np.array([[3.0, 1.0, 2.0]])
    >>> fnp.take_along_axis(a, np.argsort(a, axis=1), axis=1)
    array([[1., 2., 3.]])
    """
    arr = as_array(arr)
    idx = _index_array(indices)
    if axis is None:
        if idx.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr = ravel(arr)
        axis = 0
    axis = normalize_axis(axis, arr.ndim)
    if idx.ndim != arr.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    if arr.ndim == 1:
        return getitem(arr, idx, spec=(("a", 0),))
    # Open-mesh aranges for the other axes: they broadcast against the index array as NumPy does.
    arrays = []
    for d in range(arr.ndim):
        if d == axis:
            arrays.append(idx)
        else:
            arrays.append(np.arange(arr.shape[d]).reshape((1,) * d + (-1,) + (1,) * (arr.ndim - d - 1)))
    return getitem(arr, *arrays, spec=tuple(("a", d) for d in range(arr.ndim)))


__all__ += ["array_split", "hsplit", "vsplit", "dsplit", "append", "column_stack", "row_stack", "dstack",
            "fliplr", "flipud", "rot90", "roll", "rollaxis", "take", "take_along_axis"]
