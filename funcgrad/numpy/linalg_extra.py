"""The array-API functions of ``numpy.linalg`` (``cross``, ``diagonal``, ``matmul``, ``outer``,
``tensordot``, ``trace``, ``vecdot``: NumPy's main-namespace operations with array-API
signatures, acting on the last axes) and ``tensorinv``/``tensorsolve`` (reshapes around
``inv``/``solve``). All differentiable; re-exported by :mod:`funcgrad.numpy.linalg`.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import contractions as con
from ._util import as_array, contains_tracer, ndim_of

__all__ = ["cross", "diagonal", "matmul", "outer", "tensordot", "trace", "vecdot", "tensorinv", "tensorsolve"]


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable ``numpy.linalg.cross`` of 3-vectors along ``axis``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    if not contains_tracer((x1, x2)):
        return np.linalg.cross(x1, x2, axis=axis)
    x1, x2 = as_array(x1), as_array(x2)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"Both input arrays must be (arrays of) 3-dimensional vectors, but they are "
                         f"{x1.shape[axis]} and {x2.shape[axis]} dimensional instead.")
    return con.cross(x1, x2, axis=axis)


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """Differentiable ``numpy.linalg.diagonal``: the diagonals of the last two axes.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.diagonal(np.eye(2))
    array([1., 1.])
    """
    from .shape import diagonal as _diagonal

    if ndim_of(x) < 2:
        raise ValueError("diagonal requires an array of at least two dimensions")
    return _diagonal(x, offset, -2, -1)


def matmul(x1: Any, x2: Any, /) -> Any:
    """Differentiable ``numpy.linalg.matmul`` (the same as ``funcgrad.numpy.matmul``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.matmul(np.eye(2), np.ones(2))
    array([1., 1.])
    """
    return con.matmul(x1, x2)


def outer(x1: Any, x2: Any, /) -> Any:
    """Differentiable ``numpy.linalg.outer`` of two 1-d arrays.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.outer(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    array([[1., 3.],
           [2., 6.]])
    """
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError(f"Input arrays must be one-dimensional, but they are x1.ndim={ndim_of(x1)} and "
                         f"x2.ndim={ndim_of(x2)}.")
    return con.outer(x1, x2)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """Differentiable ``numpy.linalg.tensordot``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    return con.tensordot(x1, x2, axes=axes)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """Differentiable ``numpy.linalg.trace``: the traces of the last two axes.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.trace(np.eye(3))
    np.float64(3.0)
    """
    if ndim_of(x) < 2:
        raise ValueError("trace requires an array of at least two dimensions")
    return con.trace(x, offset, -2, -1, dtype=dtype)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable ``numpy.linalg.vecdot``: ``sum(conj(x1) * x2, axis)``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.vecdot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.float64(11.0)
    """
    return con.vecdot(x1, x2, axis=axis)


def tensorinv(a: Any, ind: int = 2) -> Any:
    """Differentiable ``numpy.linalg.tensorinv``: ``inv`` of ``a`` reshaped to a square matrix.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    from ._linalg import inv
    from .shape import reshape

    if not contains_tracer(a):
        return np.linalg.tensorinv(a, ind)
    a = as_array(a)
    ind = operator.index(ind)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    old_shape = tuple(a.shape)
    inv_shape = old_shape[ind:] + old_shape[:ind]
    prod = int(np.prod(old_shape[ind:], dtype=np.int64))
    return reshape(inv(reshape(a, (prod, -1))), inv_shape)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.linalg.tensorsolve``: ``solve`` of the reshaped system
    ``tensordot(a, x, x.ndim) = b``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.tensorsolve(np.eye(4).reshape(2, 2, 4), np.ones((2, 2))).shape
    (4,)
    """
    from ._linalg import solve
    from .shape import reshape

    if not contains_tracer((a, b)):
        return np.linalg.tensorsolve(a, b, axes)
    a, b = as_array(a), as_array(b)
    an = a.ndim
    if axes is not None:
        allaxes = list(range(an))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(an, k)
        from .shape import transpose

        a = transpose(a, allaxes)
    oldshape = tuple(a.shape[-(an - b.ndim):])
    prod = int(np.prod(oldshape, dtype=np.int64))
    if int(np.prod(a.shape, dtype=np.int64)) != prod ** 2:
        raise np.linalg.LinAlgError("Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == "
                                    "prod(a.shape[:b.ndim])")
    x = solve(reshape(a, (prod, prod)), reshape(b, (prod,)))
    return reshape(x, oldshape)
