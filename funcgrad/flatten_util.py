"""``ravel_pytree``: a pytree of arrays as one flat vector, and the function that rebuilds it.

Both directions are written with funcgrad operations, so they can be differentiated, vmapped
and jitted (an optimizer that works on flat vectors can update a dict of parameters).

>>> import numpy as np
>>> flat, unravel = ravel_pytree({"w": np.ones((2, 2)), "b": np.zeros(2)})
>>> flat
array([0., 0., 1., 1., 1., 1.])
>>> unravel(flat * 2)["w"]
array([[2., 2.],
       [2., 2.]])
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .core import Tracer
from .tree_util import tree_flatten

__all__ = ["ravel_pytree"]


def _dtype_of(x: Any) -> np.dtype:
    return x.dtype if isinstance(x, (np.ndarray, np.generic, Tracer)) else np.asarray(x).dtype


def _as_flat(x: Any, dtype: np.dtype) -> Any:
    from . import numpy as fnp

    x = fnp.asarray(x)
    if x.dtype != dtype:
        x = x.astype(dtype)
    return fnp.ravel(x)


def ravel_pytree(pytree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Flatten ``pytree``'s leaves into one 1-d array, and return ``(flat, unravel)``.

    The leaves are raveled and concatenated in flattening order, in the dtype NumPy promotes all
    of them to. ``unravel(v)`` takes a vector of the same length and dtype and rebuilds the tree,
    each leaf with its original shape and dtype.

    >>> import numpy as np
    >>> flat, unravel = ravel_pytree((np.array([1.0, 2.0]), np.array(3.0)))
    >>> flat, unravel(np.array([4.0, 5.0, 6.0]))
    (array([1., 2., 3.]), (array([4., 5.]), array(6.)))
    """
    from . import numpy as fnp

    leaves, treedef = tree_flatten(pytree)
    dtypes = [_dtype_of(x) for x in leaves]
    to_dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    shapes = [tuple(np.shape(x)) if not isinstance(x, Tracer) else tuple(x.shape) for x in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    total = sum(sizes)
    if leaves:
        flat = fnp.concatenate([_as_flat(x, to_dtype) for x in leaves])
    else:
        flat = np.zeros(0, to_dtype)

    def unravel(vector: Any) -> Any:
        shape = tuple(np.shape(vector)) if not isinstance(vector, Tracer) else tuple(vector.shape)
        if shape != (total,):
            raise ValueError(
                f"the unravel function of ravel_pytree expects a vector of shape ({total},), like the flat "
                f"vector it came with, but got shape {shape}."
            )
        dtype = _dtype_of(vector)
        if dtype != to_dtype:
            raise TypeError(
                f"the unravel function of ravel_pytree expects a vector of dtype {to_dtype} (the flat "
                f"vector's dtype), but got {dtype}; cast it with .astype({str(to_dtype)!r}) first."
            )
        vector = fnp.asarray(vector)
        out, start = [], 0
        for shp, size, dt in zip(shapes, sizes, dtypes, strict=True):
            piece = fnp.reshape(vector[start:start + size], shp)
            out.append(piece if dt == to_dtype else piece.astype(dt))
            start += size
        return treedef.unflatten(out)

    return flat, unravel
