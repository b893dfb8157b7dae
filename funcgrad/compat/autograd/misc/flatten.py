"""``flatten(value)`` → ``(flat_vector, unflatten)`` for any nesting of tuples, lists and dicts
of arrays and scalars (dict keys in sorted order, as in autograd). Works on traced values, so it
can be used inside a function being differentiated.

>>> import numpy as np
>>> flat, unflatten = flatten([np.ones(2), (3.0,)])
>>> flat
array([1., 1., 3.])
>>> unflatten(flat)
[array([1., 1.]), (array(3.),)]
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .... import numpy as fnp
from ....core import Tracer
from ....tree_util import tree_flatten, tree_unflatten

__all__ = ["flatten", "flatten_func"]


def flatten(value: Any) -> tuple[Any, Callable[[Any], Any]]:
    """One 1-d vector of every leaf of ``value``, and the function that rebuilds ``value``."""
    leaves, treedef = tree_flatten(value)
    shapes = [tuple(np.shape(v)) for v in leaves]
    dtypes = [v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype for v in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    if not leaves:
        flat: Any = np.zeros(0)
    elif any(isinstance(v, Tracer) for v in leaves):
        flat = fnp.concatenate([fnp.ravel(v) for v in leaves])
    else:
        flat = np.concatenate([np.ravel(v) for v in leaves])

    def unflatten(vector: Any) -> Any:
        parts, start = [], 0
        for shape, dtype, n in zip(shapes, dtypes, sizes):
            piece = fnp.reshape(vector[start:start + n], shape)
            if dtype.kind in "fc" and not isinstance(piece, Tracer) and piece.dtype != dtype:
                piece = piece.astype(dtype)
            parts.append(piece)
            start += n
        return tree_unflatten(treedef, parts)

    return flat, unflatten


def flatten_func(func: Callable[..., Any], example: Any) -> tuple[Callable[..., Any], Callable[[Any], Any], Any]:
    """``func`` of a pytree as a function of a flat vector: ``(flat_func, unflatten, flat_example)``."""
    flat_example, unflatten = flatten(example)

    def flat_func(flat: Any, *args: Any) -> Any:
        return flatten(func(unflatten(flat), *args))[0]

    return flat_func, unflatten, flat_example
