"""Contractions and norms: ``matmul``, ``einsum`` and the Euclidean norm.

``matmul`` follows ``np.matmul`` (stacked matrices broadcast; 1-d operands are promoted and
the promoted axis dropped). The reverse trace sums cotangents over broadcast batch axes.
``l2norm`` has derivative ``x / ||x||`` and, by convention, 0 at ``x = 0`` (a subgradient).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Primitive
from .elementwise import conj, equal, real, where
from .factories import PerIndex, batch_to_front, ndim_of
from .reductions import keepdims_shape, reduce_sum
from .shape import broadcast_to, reshape, transpose


def _swap_last(x: Any) -> Any:
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes=perm)


def _expand_last(x: Any) -> Any:
    return reshape(x, shape=x.shape + (1,))


def _drop_last(x: Any) -> Any:
    return reshape(x, shape=x.shape[:-1])


def _matmul_vjp_a(ct: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        if a.ndim == 1:
            return ct * b
        return _expand_last(ct) * b  # (..., n, 1) * (k,) -> (..., n, k)
    if a.ndim == 1:
        if b.ndim == 2:  # a vector times a matrix: ct is a vector
            return matmul(b, ct)
        return _drop_last(matmul(b, _expand_last(ct)))  # (..., k); batch axes summed centrally
    return matmul(ct, _swap_last(b))


def _matmul_vjp_b(ct: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        if b.ndim == 1:
            return ct * a
        return _expand_last(a) * reshape(ct, shape=ct.shape[:-1] + (1, ct.shape[-1]))
    if b.ndim == 1:
        if a.ndim == 2:  # a matrix times a vector: ct is a vector
            return matmul(_swap_last(a), ct)
        return _drop_last(matmul(_swap_last(a), _expand_last(ct)))
    return matmul(_swap_last(a), ct)


def _matmul_batch(args: tuple, dims: tuple) -> tuple[Any, int]:
    # Batched operands get the batch axis in front, 1-d ones become a row (a) or column (b)
    # matrix, and stack axes are padded so the batch axis lines up in front of all of them.
    (a, b), (da, db) = args, dims
    ra, rb = ndim_of(a) - (da is not None), ndim_of(b) - (db is not None)
    stack = max(max(ra, 2) - 2 if da is not None else ra - 2, max(rb, 2) - 2 if db is not None else rb - 2, 0)
    if da is not None:
        a = batch_to_front(a, da)
        if ra == 1:
            a = reshape(a, shape=(a.shape[0], 1, a.shape[1]))
        a = batch_to_front(a, 0, rank=stack + 2)
    if db is not None:
        b = batch_to_front(b, db)
        if rb == 1:
            b = reshape(b, shape=(b.shape[0], b.shape[1], 1))
        b = batch_to_front(b, 0, rank=stack + 2)
    out = matmul(a, b)
    if db is not None and rb == 1:
        out = _drop_last(out)  # the column axis given to a batched 1-d b
    if da is not None and ra == 1:
        # The row axis given to a batched 1-d a: last if b is 1-d (its axis is gone), else second to last.
        out = _drop_last(out) if rb == 1 else reshape(out, shape=out.shape[:-2] + out.shape[-1:])
    return out, 0


_np_matmul = np.matmul

matmul_p = Primitive(
    "matmul",
    np.matmul,
    jvp=(lambda t, out, a, b: matmul(t, b), lambda t, out, a, b: matmul(a, t)),
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    batch=_matmul_batch,
    # On NumPy operands: the tangent through np.matmul (its impl), both operands' in one rule.
    jvp_eager=(lambda t, out, a, b: _np_matmul(t, b), lambda t, out, a, b: _np_matmul(a, t),
               lambda t0, t1, out, a, b: np.add(_np_matmul(t0, b), _np_matmul(a, t1))),
    # The rule of each operand reads both operands (the other's values, and both ranks), not the output.
    residuals=((0, 1), (0, 1)),
)
matmul: Callable[..., Any] = matmul_p.bind


def _parse(subscripts: str) -> tuple[list[str], str]:
    ins, out = subscripts.split("->")
    return ins.split(","), out


def _einsum_jvp(i: int, t: Any, out: Any, *ops: Any, subscripts: str) -> Any:
    return einsum(*ops[:i], t, *ops[i + 1:], subscripts=subscripts)


def _einsum_vjp(i: int, ct: Any, out: Any, *ops: Any, subscripts: str) -> Any:
    ins, out_subs = _parse(subscripts)
    target = ins[i]
    if len(set(target)) != len(target):
        raise NotImplementedError(
            f"the derivative of einsum {subscripts!r} with respect to operand {i} is not supported: "
            f"its subscripts {target!r} repeat an index (a diagonal). Use funcgrad.numpy.diagonal "
            "first, then einsum."
        )
    others = [ops[j] for j in range(len(ops)) if j != i]
    other_subs = [ins[j] for j in range(len(ops)) if j != i]
    avail = set(out_subs).union(*other_subs) if other_subs else set(out_subs)
    keep = "".join(c for c in target if c in avail)
    spec = ",".join([out_subs] + other_subs) + "->" + keep
    g = einsum(ct, *others, subscripts=spec)
    if keep != target:  # indices summed away inside operand i alone: broadcast back
        x_shape = np.shape(ops[i]) if not hasattr(ops[i], "shape") else ops[i].shape
        g = reshape(g, shape=tuple(s if c in avail else 1 for c, s in zip(target, x_shape, strict=False)))
        g = broadcast_to(g, shape=x_shape)
    return g


def _einsum_batch(args: tuple, dims: tuple, subscripts: str) -> tuple[Any, int]:
    ins, out_subs = _parse(subscripts)
    letter = next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in subscripts)
    ops = [a if d is None else batch_to_front(a, d) for a, d in zip(args, dims, strict=False)]
    ins = [s if d is None else letter + s for s, d in zip(ins, dims, strict=False)]
    return einsum(*ops, subscripts=",".join(ins) + "->" + letter + out_subs), 0


einsum_p = Primitive(
    "einsum",
    lambda *ops, subscripts: np.einsum(subscripts, *ops, optimize=len(ops) > 2),
    jvp=PerIndex(_einsum_jvp),
    vjp=PerIndex(_einsum_vjp),
    batch=_einsum_batch,
)
einsum = einsum_p.bind


def _safe(norm: Any, x: Any, axis: tuple[int, ...] | None) -> Any:
    kd = keepdims_shape(x.shape, axis)
    n = norm if norm.shape == kd else reshape(norm, shape=kd)
    return where(equal(n, 0.0), 1.0, n)


def _l2norm_vjp(ct: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    kd = keepdims_shape(x.shape, axis)
    c = ct if ct.shape == kd else reshape(ct, shape=kd)
    return c * (conj(x) if x.dtype.kind == "c" else x) / _safe(out, x, axis)


def _l2norm_jvp(t: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    xt = real(conj(x) * t) if x.dtype.kind == "c" else x * t
    s = reduce_sum(xt, axis=axis, keepdims=True) / _safe(out, x, axis)
    return s if keepdims else reshape(s, shape=out.shape)


def _l2norm_impl(x: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    if axis is None and not keepdims and type(x) is np.ndarray and x.dtype.kind == "f":
        # What np.linalg.norm computes in this case (the same operations, so the same bits),
        # without its Python-level argument handling: the norm of a real vector is a common
        # condition of Python loops (the README's `while norm(y) < 1000`).
        flat = x.ravel("K")
        return np.sqrt(flat.dot(flat))
    if axis is not None and len(axis) > 2:  # NumPy's norm takes at most two axes
        return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))
    return np.linalg.norm(x, axis=axis, keepdims=keepdims)


def _l2norm_batch(args: tuple, dims: tuple, axis: tuple[int, ...] | None, keepdims: bool) -> tuple[Any, int]:
    x = batch_to_front(args[0], dims[0])
    axes = tuple(range(1, x.ndim)) if axis is None else tuple(a + 1 for a in axis)
    return l2norm(x, axis=axes, keepdims=keepdims), 0


l2norm_p = Primitive(
    "l2norm",
    _l2norm_impl,
    jvp=(_l2norm_jvp,),
    vjp=(_l2norm_vjp,),
    batch=_l2norm_batch,
)
l2norm = l2norm_p.bind
