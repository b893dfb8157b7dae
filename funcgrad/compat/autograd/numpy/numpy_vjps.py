"""``funcgrad.compat.autograd.numpy.numpy_vjps``: the helpers of autograd's ``numpy_vjps`` that
user-defined primitives import (``unbroadcast_f``, ``unbroadcast``, ``repeat_to_match_shape``,
``balanced_eq``, ``match_complex``, ``replace_zero``, ``untake``, ``wrapped_reshape``).

autograd's own per-function rules (``grad_np_sum``, ``dot_vjp_0``, …) are not here: funcgrad's
rules live in its primitives. The helpers are written with funcgrad's operations, so rules built
from them are differentiable again.

>>> import numpy as onp
>>> from funcgrad.compat.autograd import grad
>>> from funcgrad.compat.autograd.extend import primitive, defvjp
>>> @primitive
... def scaled(x, y):
...     return x * y
>>> defvjp(scaled, lambda ans, x, y: unbroadcast_f(x, lambda g: g * y),
...                lambda ans, x, y: unbroadcast_f(y, lambda g: g * x))
>>> grad(lambda y: scaled(onp.ones((2, 3)), y).sum())(onp.array([1.0, 2.0, 3.0]))
array([2., 2., 2.])
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as onp

from ....numpy import at as _at
from .. import numpy as anp

__all__ = ["metadata", "unbroadcast", "unbroadcast_f", "unbroadcast_einsum", "repeat_to_match_shape", "balanced_eq",
           "match_complex", "replace_zero", "untake", "wrapped_reshape"]


def _dtype(x: Any) -> onp.dtype:
    return onp.dtype(x.dtype) if hasattr(x, "dtype") else onp.result_type(x)


def metadata(x: Any) -> tuple:
    """``(shape, ndim, dtype, iscomplex)`` of ``x``: what :func:`unbroadcast` needs of a target."""
    dtype = _dtype(x)
    return onp.shape(x), onp.ndim(x), dtype, dtype.kind == "c"


def unbroadcast(x: Any, target_meta: tuple, broadcast_idx: int = 0) -> Any:
    """Sum ``x`` down to the shape in ``target_meta`` (undoing broadcasting): leading axes at
    ``broadcast_idx`` first, then the target's axes of length 1; the real part for a real target."""
    shape, ndim, _, iscomplex = target_meta
    while anp.ndim(x) > ndim:
        x = anp.sum(x, axis=broadcast_idx)
    for axis, size in enumerate(shape):
        if size == 1 and anp.shape(x)[axis] != 1:
            x = anp.sum(x, axis=axis, keepdims=True)
    if not iscomplex and _dtype(x).kind == "c":
        x = anp.real(x)
    return x


def unbroadcast_f(target: Any, f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``g -> unbroadcast(f(g))`` to ``target``'s shape: a vjp for an argument that broadcasts."""
    target_meta = metadata(target)
    return lambda g: unbroadcast(f(g), target_meta)


def unbroadcast_einsum(x: Any, target_meta: tuple, subscript: Any) -> Any:
    """:func:`unbroadcast` for an ``einsum`` operand: an ellipsis in ``subscript`` marks where the
    broadcast axes sit."""
    if isinstance(subscript, str) and "..." in subscript:
        return unbroadcast(x, target_meta, subscript.index("..."))
    if not isinstance(subscript, str) and Ellipsis in list(subscript):
        return unbroadcast(x, target_meta, list(subscript).index(Ellipsis))
    return x


def repeat_to_match_shape(g: Any, shape: tuple, dtype: Any, axis: Any, keepdims: bool) -> tuple[Any, int]:
    """``g`` (a reduction's result over ``axis``) broadcast back to ``shape``, and how many entries
    each result stands for."""
    if shape == ():
        return g, 1
    shape = tuple(shape)
    axes = tuple(range(len(shape))) if axis is None else (tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))
    axes = tuple(a % len(shape) for a in axes)
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    num_reps = int(onp.prod([shape[a] for a in axes], dtype=onp.int64))
    return anp.reshape(g, kept) + onp.zeros(shape, dtype=dtype), num_reps


def balanced_eq(x: Any, z: Any, y: Any) -> Any:
    """Where ``x`` equals the result ``z`` (of a max or min of ``x`` and ``y``), 1, halved at ties."""
    return (x == z) / (1.0 + (x == y))


def match_complex(target: Any, x: Any) -> Any:
    """``x`` made real or complex to match ``target``."""
    target_complex, x_complex = _dtype(target).kind == "c", _dtype(x).kind == "c"
    if x_complex and not target_complex:
        return anp.real(x)
    if target_complex and not x_complex:
        return x + 0j
    return x


def replace_zero(x: Any, val: Any) -> Any:
    """``x`` with its zeros replaced by ``val``."""
    return anp.where(x, x, val)


def untake(x: Any, idx: Any, vs: Any) -> Any:
    """The adjoint of ``a[idx]``: zeros shaped like ``vs`` (a vspace or an example value) with ``x``
    added at ``idx`` (repeated indices accumulate)."""
    shape, dtype = (vs.shape, vs.dtype) if hasattr(vs, "shape") else (onp.shape(vs), _dtype(vs))
    return _at(onp.zeros(shape, dtype))[idx].add(x)


def wrapped_reshape(x: Any, *args: Any, **kwargs: Any) -> Any:
    """``reshape`` accepting a shape as one tuple or as separate integers, as ``ndarray.reshape``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)) or len(args) != 1 and not args:
        return anp.reshape(x, *args, **kwargs)
    return anp.reshape(x, args if len(args) > 1 else args[0], **kwargs)
