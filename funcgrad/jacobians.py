"""Jacobians and friends: ``jacfwd``, ``jacrev``, ``hessian``, ``linearize``.

``jacrev`` pushes every row of the identity through one ``vmap``-ed pullback, ``jacfwd`` every
column through one ``vmap``-ed jvp: no Python loop over basis vectors. The result has JAX's block
structure: the output's pytree, with each leaf replaced by the arguments' pytree (a tuple of
them when ``argnums`` is a tuple), each block of shape ``out_leaf.shape + in_leaf.shape``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ._backend import is_foreign_array, underlying
from .api import _check_differentiable_inputs, _fname, _normalize_argnums, _single_argnum, _vjp_any, jvp
from .core import Tracer
from .prims.shape import reshape
from .tree_util import tree_flatten
from .vmap import vmap

__all__ = ["jacfwd", "jacrev", "hessian", "linearize"]


def _size(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _basis(leaves: Sequence[Any]) -> tuple[list, int]:
    """Rows of the identity, split into one array per leaf: leaf i gets shape (n,) + shape_i."""
    n = sum(_size(np.shape(x)) for x in leaves)
    # The identity in the library of the arguments (a Dask or CuPy one when they are).
    foreign = next((u for u in map(underlying, leaves) if is_foreign_array(u)), None)
    eye = np.eye(n) if foreign is None else np.asarray(np.eye(n), like=foreign)
    out, start = [], 0
    for x in leaves:
        shape = tuple(np.shape(x))
        k = _size(shape)
        out.append(eye[:, start:start + k].reshape((n,) + shape).astype(x.dtype))
        start += k
    return out, n


def _blocks(rows: list, out_leaves: list, in_leaves: list, out_first: bool) -> list[list]:
    """Reshape stacked derivatives into blocks[out_index][in_index] of shape out + in."""
    blocks: list[list] = [[None] * len(in_leaves) for _ in out_leaves]
    if out_first:  # rows[i]: derivative wrt input i, shape (n_out_total,) + in_shape
        starts = np.cumsum([0] + [_size(np.shape(o)) for o in out_leaves])
        for i, (r, x) in enumerate(zip(rows, in_leaves)):
            for j, o in enumerate(out_leaves):
                part = r[starts[j]:starts[j + 1]]
                blocks[j][i] = _reshape(part, tuple(np.shape(o)) + tuple(np.shape(x)))
    else:  # rows[j]: output j's tangents, shape (n_in_total,) + out_shape
        starts = np.cumsum([0] + [_size(np.shape(x)) for x in in_leaves])
        for j, (r, o) in enumerate(zip(rows, out_leaves)):
            o_shape = tuple(np.shape(o))
            for i, x in enumerate(in_leaves):
                part = r[starts[i]:starts[i + 1]]  # (n_i,) + out_shape
                part = _reshape(part, (_size(np.shape(x)), _size(o_shape)))
                blocks[j][i] = _reshape(part.T, o_shape + tuple(np.shape(x)))
    return blocks


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(shape) if not isinstance(x, Tracer) else reshape(x, shape=shape)


def _assemble(blocks: list[list], out_tree: Any, arg_trees: list, argnums: int | Sequence[int]) -> Any:
    per_out = []
    for row in blocks:
        it = iter(row)
        per_arg = [t.unflatten([next(it) for _ in range(t.num_leaves)]) for t in arg_trees]
        per_out.append(per_arg[0] if _single_argnum(argnums) else tuple(per_arg))
    return out_tree.unflatten(per_out)


def _prepare(f: Callable[..., Any], argnums: int | Sequence[int], args: tuple, kwargs: dict,
             transform: str, allow_int: bool = False, holomorphic: bool = False
             ) -> tuple[tuple[int, ...], Callable[..., Any], list, list, list]:
    nums = _normalize_argnums(argnums, len(args), _fname(f))
    _check_differentiable_inputs(f, args, nums, transform, holomorphic=holomorphic, allow_int=allow_int)
    in_leaves: list[Any]
    arg_trees, in_leaves = [], []
    for n in nums:
        leaves, tree = tree_flatten(args[n])
        arg_trees.append(tree)
        in_leaves.extend(x if isinstance(x, (np.ndarray, Tracer)) or is_foreign_array(x) else np.asarray(x)
                         for x in leaves)

    def partial(*leaves: Any) -> Any:
        full, it = list(args), iter(leaves)
        for n, tree in zip(nums, arg_trees):
            full[n] = tree.unflatten([next(it) for _ in range(tree.num_leaves)])
        return f(*full, **kwargs)

    partial.__name__ = _fname(f)
    return nums, partial, arg_trees, in_leaves, list(nums)


def jacrev(f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False, allow_int: bool = False) -> Callable[..., Any]:
    """Jacobian of ``f`` by reverse mode: one vmapped pullback over the rows of the identity.

    With ``allow_int=True`` integer and boolean arguments are allowed; their blocks are zeros of
    dtype ``funcgrad.dtypes.float0``, as in JAX. Complex arguments give the holomorphic Jacobian
    with or without ``holomorphic=True``, which only checks that the arguments are complex.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    @functools.wraps(f)
    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        _, partial, arg_trees, in_leaves, _ = _prepare(f, argnums, args, kwargs, "jacrev", allow_int, holomorphic)
        res = _vjp_any(partial, *in_leaves, has_aux=has_aux)
        out, pullback = res[0], res[1]
        out_leaves, out_tree = tree_flatten(out)
        basis, _ = _basis(out_leaves)
        rows = vmap(lambda *ct: pullback(out_tree.unflatten(ct)))(*basis)
        jac = _assemble(_blocks(list(rows), out_leaves, in_leaves, True), out_tree, arg_trees, argnums)
        return (jac, res[2]) if has_aux else jac

    return jacrev_f


def jacfwd(f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False) -> Callable[..., Any]:
    """Jacobian of ``f`` by forward mode: one vmapped jvp over the columns of the identity
    (``holomorphic=True`` checks that the arguments are complex, as :func:`jacrev`).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.jacfwd(lambda x: x[:1] * x[1:])(np.array([2.0, 3.0]))
    array([[3., 2.]])
    """

    @functools.wraps(f)
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        _, partial, arg_trees, in_leaves, _ = _prepare(f, argnums, args, kwargs, "jacfwd", holomorphic=holomorphic)
        basis, _ = _basis(in_leaves)

        def push(*t: Any) -> Any:
            res = jvp(partial, tuple(in_leaves), t, has_aux=has_aux)
            return (res[1], res[2]) if has_aux else res[1]

        if has_aux:
            tangents, aux = vmap(push, out_axes=(0, None))(*basis)
        else:
            tangents = vmap(push)(*basis)
        t_leaves, out_tree = tree_flatten(tangents)
        out_leaves = [np.empty(np.shape(t)[1:]) for t in t_leaves]
        jac = _assemble(_blocks(t_leaves, out_leaves, in_leaves, False), out_tree, arg_trees, argnums)
        return (jac, aux) if has_aux else jac

    return jacfwd_f


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
            holomorphic: bool = False) -> Callable[..., Any]:
    """Hessian of scalar ``f``, as forward-over-reverse: ``jacfwd(jacrev(f))``.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.hessian(lambda x: fnp.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacfwd(jacrev(f, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def linearize(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Return ``(f(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the jvp at ``primals``
    (``(out, f_jvp, aux)`` with ``has_aux=True``, for ``f`` returning ``(out, aux)``).

    Each call of ``f_jvp`` re-runs ``f`` in forward mode at ``primals`` (funcgrad does not store
    a linearised program; wrap ``f_jvp`` in ``jit`` to compile that pass).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> y, f_jvp = fg.linearize(fnp.sin, np.array(0.0))
    >>> f_jvp(np.array(3.0))
    array(3.)
    """
    out = f(*primals)
    if has_aux:
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"linearize(has_aux=True) needs f to return a pair (output, aux); got {type(out)}.")
        out, aux = out
    out = tree_flatten(out)[1].unflatten(
        x if isinstance(x, (np.ndarray, Tracer)) or is_foreign_array(x) else np.asarray(x)
        for x in tree_flatten(out)[0])

    def f_jvp(*tangents: Any) -> Any:
        return jvp(f, primals, tangents, has_aux=has_aux)[1]

    return (out, f_jvp, aux) if has_aux else (out, f_jvp)
