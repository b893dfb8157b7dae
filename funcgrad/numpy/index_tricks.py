"""Index utilities and index-driven updates: ``tril_indices``/``triu_indices`` (and ``*_from``),
``diag_indices``, ``indices``, ``ix_``, ``ravel_multi_index``, ``unravel_index``, ``mask_indices``;
``choose``, ``delete``, ``insert``, ``lexsort``, ``argpartition``, ``sort_complex``;
``put_along_axis``; and NumPy's in-place writers (``put``, ``putmask``, ``place``, ``copyto``,
``fill_diagonal``).

Index computations are NumPy's on shapes and concrete values (integers carry no derivative).
Gathers and functional updates keep the derivatives of the values they move. The in-place
writers work on NumPy arrays as NumPy's do; a traced array cannot be written in place, so they
raise :class:`~funcgrad.errors.TracerAssignmentError` naming the functional form to use.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Tracer
from ..errors import TracerAssignmentError
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import getitem, index_set
from ._util import as_array, concrete, contains_tracer, normalize_axis

if TYPE_CHECKING:
    from .._options import ClipMode, OrderCF, PartitionKind

__all__ = ["tril_indices", "triu_indices", "tril_indices_from", "triu_indices_from", "diag_indices",
           "diag_indices_from", "indices", "ix_", "ravel_multi_index", "unravel_index", "mask_indices", "choose",
           "delete", "insert", "lexsort", "argpartition", "sort_complex", "put_along_axis", "put", "putmask",
           "place", "copyto", "fill_diagonal"]

tril_indices = np.tril_indices
triu_indices = np.triu_indices
diag_indices = np.diag_indices
indices = np.indices
mask_indices = np.mask_indices


def _shape(arr: Any) -> tuple[int, ...]:
    return tuple(arr.shape) if hasattr(arr, "shape") else np.shape(arr)


def tril_indices_from(arr: Any, k: int = 0) -> tuple:
    """``numpy.tril_indices_from`` (from the shape: traced arrays are fine).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.tril_indices_from(np.ones((2, 2)))
    (array([0, 1, 1]), array([0, 0, 1]))
    """
    s = _shape(arr)
    if len(s) != 2:
        raise ValueError("input array must be 2-d")
    return np.tril_indices(s[-2], k=k, m=s[-1])


def triu_indices_from(arr: Any, k: int = 0) -> tuple:
    """``numpy.triu_indices_from`` (from the shape: traced arrays are fine).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.triu_indices_from(np.ones((2, 2)))
    (array([0, 0, 1]), array([0, 1, 1]))
    """
    s = _shape(arr)
    if len(s) != 2:
        raise ValueError("input array must be 2-d")
    return np.triu_indices(s[-2], k=k, m=s[-1])


def diag_indices_from(arr: Any) -> tuple:
    """``numpy.diag_indices_from`` (from the shape: traced arrays are fine).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.diag_indices_from(np.ones((2, 2)))
    (array([0, 1]), array([0, 1]))
    """
    s = _shape(arr)
    if len(s) < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(s)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return np.diag_indices(s[0], len(s))


def ix_(*args: Any) -> tuple:
    """``numpy.ix_``: open-mesh index arrays (traced integer arrays are reshaped, not converted).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> [a.shape for a in fnp.ix_([0, 1], [2, 3, 4])]
    [(2, 1), (1, 3)]
    """
    if not contains_tracer(args):
        return np.ix_(*args)
    n = len(args)
    out = []
    for k, a in enumerate(args):
        a = as_array(a)
        if a.ndim != 1:
            raise ValueError("Cross index must be 1 dimensional")
        shape = (1,) * k + (a.shape[0],) + (1,) * (n - k - 1)
        out.append(sh.reshape(a, shape=shape) if isinstance(a, Tracer) else a.reshape(shape))
    return tuple(out)


def unravel_index(indices: Any, shape: Any, order: OrderCF = "C") -> tuple:
    """``numpy.unravel_index``; traced integer indices work under jit/vmap (C order; bounds are
    checked only on concrete values).

    >>> import funcgrad.numpy as fnp
    >>> fnp.unravel_index(5, (2, 3))
    (np.int64(1), np.int64(2))
    """
    if not isinstance(indices, Tracer):
        return np.unravel_index(indices, shape, order)
    if order != "C":
        raise NotImplementedError("funcgrad.numpy.unravel_index of traced indices supports order='C'")
    shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(shape)
    out = []
    for d in range(len(shape)):
        stride = int(np.prod(shape[d + 1:], dtype=np.int64))
        out.append(ew.remainder(ew.floor_divide(indices, stride), shape[d]))
    return tuple(out)


def ravel_multi_index(multi_index: Any, dims: Any, mode: ClipMode | tuple[ClipMode, ...] = "raise",
                      order: OrderCF = "C") -> Any:
    """``numpy.ravel_multi_index``; traced integer indices work under jit/vmap (C order, modes
    'wrap' and 'clip'; 'raise' checks bounds only on concrete values).

    >>> import funcgrad.numpy as fnp
    >>> int(fnp.ravel_multi_index(([1], [2]), (2, 3))[0])
    5
    """
    if not contains_tracer(multi_index):
        return np.ravel_multi_index(multi_index, dims, mode=mode, order=order)
    if order != "C":
        raise NotImplementedError("funcgrad.numpy.ravel_multi_index of traced indices supports order='C'")
    dims = tuple(dims)
    if len(multi_index) != len(dims):
        raise ValueError("parameter multi_index must be a sequence of length {}".format(len(dims)))
    modes = mode if isinstance(mode, (tuple, list)) else [mode] * len(dims)
    total: Any = 0
    for d, (idx, m) in enumerate(zip(multi_index, modes, strict=True)):
        idx = as_array(idx)
        if m == "wrap":
            idx = ew.remainder(idx, dims[d])
        elif m == "clip":
            idx = ew.minimum_p.bind(ew.maximum_p.bind(idx, 0), dims[d] - 1)
        stride = int(np.prod(dims[d + 1:], dtype=np.int64))
        total = ew.add(total, ew.mul(idx, stride))
    return total


def choose(a: Any, choices: Any, out: Any = None, mode: ClipMode = "raise") -> Any:
    """Differentiable ``numpy.choose`` (in the choices): ``choices[a[i]][i]`` elementwise.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.choose(np.array([0, 1, 0]), [np.zeros(3), np.ones(3)])
    array([0., 1., 0.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.choose does not support out=")
    if not contains_tracer((a, choices)):
        return np.choose(a, choices, mode=mode)
    choices = [as_array(c) for c in choices] if isinstance(choices, (list, tuple)) else \
        [getitem(as_array(choices), spec=(("i", i),)) for i in range(_shape(choices)[0])]
    n = len(choices)
    a = as_array(a)
    if mode == "wrap":
        a = ew.remainder(a, n)
    elif mode == "clip":
        a = ew.minimum_p.bind(ew.maximum_p.bind(a, 0), n - 1)
    elif mode == "raise":
        if not isinstance(a, Tracer) or not _valueless(a):
            av = np.asarray(concrete(a, "choose"))
            if av.size and (av.min() < 0 or av.max() >= n):
                raise ValueError("invalid entry in choice array")
    else:
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    dtype = np.result_type(*(c.dtype for c in choices))
    shape = np.broadcast_shapes(_shape(a), *(_shape(c) for c in choices))
    out_v: Any = np.zeros(shape, dtype)
    for i, c in enumerate(choices):
        out_v = ew.where(ew.equal(a, i), c if c.dtype == dtype else sh.astype(c, dtype=dtype), out_v)
    return out_v if tuple(out_v.shape) == shape else sh.broadcast_to(out_v, shape=shape)


def _valueless(x: Any) -> bool:
    from ..core import ValuelessTracer

    while isinstance(x, Tracer):
        if isinstance(x, ValuelessTracer):
            return True
        x = x.primal
    return False


def delete(arr: Any, obj: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.delete``: the kept elements are gathered (``obj`` must be concrete).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.delete(np.array([1.0, 2.0, 3.0]), 1)
    array([1., 3.])
    """
    if not isinstance(arr, Tracer):
        return np.delete(arr, concrete(obj, "delete"), axis)
    from .shape import ravel

    obj = concrete(obj, "delete", "Pass the positions to delete as concrete values.")
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = normalize_axis(axis, arr.ndim)
    keep = np.delete(np.arange(arr.shape[axis]), obj)
    return getitem(arr, keep, spec=(("s", None, None, None),) * axis + (("a", 0),))


def insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """Differentiable ``numpy.insert`` (in ``arr`` and ``values``; ``obj`` must be concrete): the
    result gathers from ``arr`` and ``values`` with the index map NumPy's insert builds.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.insert(np.array([1.0, 2.0]), 1, 9.0)
    array([1., 9., 2.])
    """
    if not contains_tracer((arr, values)):
        return np.insert(arr, concrete(obj, "insert"), values, axis)
    from .shape import concatenate, ravel

    obj = concrete(obj, "insert", "Pass the insertion positions as concrete values.")
    arr, values = as_array(arr), as_array(values)
    if axis is None:
        arr, axis = ravel(arr), 0
    ids = np.arange(int(np.prod(arr.shape, dtype=np.int64))).reshape(tuple(arr.shape))
    value_ids = np.arange(int(np.prod(values.shape, dtype=np.int64))).reshape(tuple(values.shape)) + ids.size
    index_map = np.insert(ids, obj, value_ids, axis)
    if values.dtype != arr.dtype:
        values = sh.astype(values, dtype=arr.dtype) if isinstance(values, Tracer) else values.astype(arr.dtype)
    pool = concatenate([ravel(arr), ravel(values)])
    return getitem(pool, index_map, spec=(("a", 0),))


def lexsort(keys: Any, axis: int = -1) -> Any:
    """``numpy.lexsort``: indices sorting by the last key, then the one before... (integers, no
    derivative); traced keys work under jit/vmap (repeated stable argsorts).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.lexsort((np.array([1, 0, 1]), np.array([0, 0, 1])))
    array([1, 0, 2])
    """
    if not contains_tracer(keys):
        return np.lexsort(keys, axis=axis)
    from .shape import take_along_axis
    from .sorting import argsort

    keys = [as_array(k) for k in keys] if isinstance(keys, (list, tuple)) else \
        [getitem(keys, spec=(("i", i),)) for i in range(keys.shape[0])]
    order = None
    for k in keys:  # least significant first; each stable sort keeps the previous order among ties
        if order is None:
            order = argsort(k, axis=axis, kind="stable")
        else:
            reordered = take_along_axis(k, order, axis=axis)
            order = take_along_axis(order, argsort(reordered, axis=axis, kind="stable"), axis=axis)
    return order


def argpartition(a: Any, kth: Any, axis: Any = -1, kind: PartitionKind = "introselect", order: Any = None) -> Any:
    """``numpy.argpartition`` (integers, no derivative). On traced values it returns the full
    (stable) argsort, which is a valid partition for every ``kth``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> int(fnp.argpartition(np.array([3.0, 1.0, 2.0]), 0)[0])
    1
    """
    if not isinstance(a, Tracer):
        return np.argpartition(a, kth, axis=axis, kind=kind, order=order)
    from .sorting import argsort

    return argsort(a, axis=axis, kind="stable")


def sort_complex(a: Any) -> Any:
    """Differentiable ``numpy.sort_complex``: sorted by real part, then imaginary part (complex).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.sort_complex(np.array([2.0, 1.0]))
    array([1.+0.j, 2.+0.j])
    """
    if not isinstance(a, Tracer):
        return np.sort_complex(a)
    from .shape import take_along_axis

    a = as_array(a)
    target = np.sort_complex(np.zeros(1, a.dtype)).dtype
    a = a if a.dtype == target else sh.astype(a, dtype=target)
    order = lexsort((ew.imag(a), ew.real(a)), axis=-1)
    return take_along_axis(a, order, axis=-1)


def put_along_axis(arr: Any, indices: Any, values: Any, axis: Any, inplace: bool = True, *, mode: Any = None) -> Any:
    """``numpy.put_along_axis``. On a NumPy array it writes in place and returns None, as NumPy
    does. With ``inplace=False`` (JAX's form, required for traced arrays) it returns the updated
    copy, differentiable in ``arr`` and ``values``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.put_along_axis(np.zeros(3), np.array([1]), 5.0, axis=0, inplace=False)
    array([0., 5., 0.])
    """
    if inplace:
        if contains_tracer((arr, values)) or not isinstance(arr, np.ndarray):
            raise TracerAssignmentError(
                "put_along_axis writes in place, and traced arrays are immutable. Pass inplace=False to get "
                "the updated copy: arr = funcgrad.numpy.put_along_axis(arr, indices, values, axis, inplace=False).")
        np.put_along_axis(arr, concrete(indices, "put_along_axis"), values, axis)
        return None
    arr = as_array(arr)
    idx = as_array(indices)
    if axis is None:
        from .shape import ravel

        if idx.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        shape = tuple(arr.shape)
        out = index_set(ravel(arr), values, idx, spec=(("a", 0),))
        return sh.reshape(out, shape=shape) if shape != tuple(out.shape) else out
    axis = normalize_axis(axis, arr.ndim)
    if idx.ndim != arr.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    arrays = []
    for d in range(arr.ndim):
        if d == axis:
            arrays.append(idx)
        else:
            arrays.append(np.arange(arr.shape[d]).reshape((1,) * d + (-1,) + (1,) * (arr.ndim - d - 1)))
    shape = np.broadcast_shapes(*(_shape(x) for x in arrays))
    values = as_array(values)
    if values.dtype != arr.dtype:
        values = sh.astype(values, dtype=arr.dtype) if isinstance(values, Tracer) else values.astype(arr.dtype)
    if tuple(values.shape) != shape:
        values = sh.broadcast_to(values, shape=shape) if isinstance(values, Tracer) else np.broadcast_to(values, shape)
    return index_set(arr, values, *arrays, spec=tuple(("a", d) for d in range(arr.ndim)))


def _in_place_error(name: str, functional: str) -> TracerAssignmentError:
    return TracerAssignmentError(
        f"numpy.{name} writes into its first argument in place, which is impossible for traced values (they "
        f"are immutable, and the derivative would be lost). Pass inplace=False to get the updated copy (as in "
        f"JAX), or use {functional}.")


def _cyclic(values: Any, n: int, dtype: np.dtype) -> Any:
    """``values`` flattened and repeated cyclically to length ``n`` (NumPy's rule for put/place)."""
    from .shape import ravel

    v = ravel(as_array(values))
    if v.dtype != dtype:
        v = sh.astype(v, dtype=dtype) if isinstance(v, Tracer) else v.astype(dtype)
    if v.shape[0] == n:
        return v
    if v.shape[0] == 0:
        if n:
            raise ValueError("Cannot insert from an empty array!")
        return v
    return getitem(v, np.arange(n) % v.shape[0], spec=(("a", 0),))


def put(a: Any, ind: Any, v: Any, mode: ClipMode = "raise", *, inplace: bool = True) -> Any:
    """``numpy.put``: ``a.flat[ind] = v`` (``v`` repeated as needed). On a NumPy array it writes in
    place and returns None, as NumPy's; ``inplace=False`` (JAX's form, needed for traced arrays)
    returns the updated copy, differentiable in ``a`` and ``v``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.put(np.zeros(4), [1, 3], [5.0, 6.0], inplace=False)
    array([0., 5., 0., 6.])
    """
    if inplace:
        if contains_tracer((a, ind, v)) or not isinstance(a, np.ndarray):
            raise _in_place_error("put", "funcgrad.numpy.put(a, ind, v, inplace=False)")
        return np.put(a, ind, v, mode=mode)
    from .shape import ravel, reshape

    a = as_array(a)
    idx = as_array(ind)
    idx = sh.reshape(idx, shape=(-1,)) if isinstance(idx, Tracer) else np.asarray(idx).ravel()
    n = int(np.prod(a.shape, dtype=np.int64))
    if mode == "wrap":
        idx = ew.remainder(idx, n)
    elif mode == "clip":
        idx = ew.minimum_p.bind(ew.maximum_p.bind(idx, 0), n - 1)
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    values = _cyclic(v, idx.shape[0], a.dtype)
    return reshape(index_set(ravel(a), values, idx, spec=(("a", 0),)), tuple(a.shape))


def place(arr: Any, mask: Any, vals: Any, *, inplace: bool = True) -> Any:
    """``numpy.place``: the elements where ``mask`` holds take ``vals`` in order (repeated as
    needed). In place on a NumPy array; ``inplace=False`` returns the updated copy (the mask must be
    concrete; differentiable in ``arr`` and ``vals``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.place(np.zeros(4), np.array([True, False, True, True]), [1.0, 2.0], inplace=False)
    array([1., 0., 2., 1.])
    """
    if inplace:
        if contains_tracer((arr, mask, vals)) or not isinstance(arr, np.ndarray):
            raise _in_place_error("place", "funcgrad.numpy.place(arr, mask, vals, inplace=False)")
        return np.place(arr, mask, vals)
    from .shape import ravel, reshape

    arr = as_array(arr)
    m = np.asarray(concrete(mask, "place", "Pass the mask as a concrete array (or use funcgrad.numpy.where).")
                   ).astype(bool).ravel()
    positions = np.flatnonzero(m)
    values = _cyclic(vals, positions.shape[0], arr.dtype)
    return reshape(index_set(ravel(arr), values, positions, spec=(("a", 0),)), tuple(arr.shape))


def putmask(a: Any, mask: Any, values: Any, *, inplace: bool = True) -> Any:
    """``numpy.putmask``: ``a[mask] = values[mask]`` with ``values`` repeated to ``a``'s size. In
    place on a NumPy array; ``inplace=False`` returns ``where(mask, values, a)`` (any mask, also
    traced; differentiable in ``a`` and ``values``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.putmask(np.zeros(3), np.array([True, False, True]), 7.0, inplace=False)
    array([7., 0., 7.])
    """
    if inplace:
        if contains_tracer((a, mask, values)) or not isinstance(a, np.ndarray):
            raise _in_place_error("putmask", "funcgrad.numpy.where(mask, values, a)")
        return np.putmask(a, mask, values)
    from .shape import reshape

    a = as_array(a)
    n = int(np.prod(a.shape, dtype=np.int64))
    full = reshape(_cyclic(values, n, a.dtype), tuple(a.shape))
    return ew.where(as_array(mask), full, a)


def fill_diagonal(a: Any, val: Any, wrap: bool = False, *, inplace: bool = True) -> Any:
    """``numpy.fill_diagonal``: the main diagonal set to ``val`` (repeated as needed). In place on a
    NumPy array; ``inplace=False`` returns the updated copy (differentiable in ``a`` and ``val``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.fill_diagonal(np.zeros((2, 2)), 3.0, inplace=False)
    array([[3., 0.],
           [0., 3.]])
    """
    if inplace:
        if contains_tracer((a, val)) or not isinstance(a, np.ndarray):
            raise _in_place_error("fill_diagonal", "funcgrad.numpy.fill_diagonal(a, val, inplace=False)")
        return np.fill_diagonal(a, val, wrap)
    from .shape import ravel, reshape

    a = as_array(a)
    shape = tuple(a.shape)
    # The positions NumPy's fill_diagonal writes, found by letting it write ids into an array of -1.
    probe = np.full(shape, -1, dtype=np.int64)
    np.fill_diagonal(probe, np.arange(probe.size), wrap)
    positions = np.flatnonzero(probe.ravel() >= 0)
    values = _cyclic(val, positions.shape[0], a.dtype)
    return reshape(index_set(ravel(a), values, positions, spec=(("a", 0),)), shape)


def _in_place(name: str, functional: str) -> Any:
    numpy_fn = getattr(np, name)

    def fn(*args: Any, **kwargs: Any) -> Any:
        if contains_tracer(args) or contains_tracer(tuple(kwargs.values())):
            raise TracerAssignmentError(
                f"numpy.{name} writes into its first argument in place, which is impossible for traced "
                f"values (they are immutable, and the derivative would be lost). Use {functional} instead; "
                "it returns an updated copy.")
        return numpy_fn(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``numpy.{name}`` on NumPy arrays (in place, as NumPy). Traced values are immutable: use "
                  f"{functional}.\n\n    >>> import numpy as np, funcgrad.numpy as fnp\n"
                  f"    >>> fnp.{name}  # doctest: +ELLIPSIS\n    <function {name} at ...>\n")
    return fn


copyto = _in_place("copyto", "funcgrad.numpy.where(where, src, dst) or the source itself")
