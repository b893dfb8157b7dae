"""Products and contractions: matmul, dot, vdot, inner, outer, tensordot, einsum, trace."""

from __future__ import annotations

import string
import warnings
from typing import Any, Sequence

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import linalg as la
from ..prims.indexing import getitem_static
from ._util import as_array
from .reductions import sum as _sum
from .shape import broadcast_to, diagonal, moveaxis, ravel, reshape, stack, transpose

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "trace"]


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.matmul`` (the ``@`` operator), with stacked-matrix broadcasting.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.matmul(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.matmul does not support out=")
    a, b = as_array(a), as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions (use * for scalars)")
    return la.matmul(a, b)


def dot(a: Any, b: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.dot``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.dot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.float64(11.0)
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.dot does not support out=")
    a, b = as_array(a), as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return ew.mul(a, b)
    if b.ndim <= 2:
        return la.matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def vdot(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.vdot`` for real arrays: the dot product of the flattened inputs."""
    return la.matmul(ravel(a), ravel(b))


def inner(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.inner``: contraction over the last axes."""
    a, b = as_array(a), as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return ew.mul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a: Any, b: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.outer`` of the flattened inputs."""
    a, b = ravel(a), ravel(b)
    return ew.mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Differentiable ``numpy.tensordot``: transpose, reshape to matrices, one matmul.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    a, b = as_array(a), as_array(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        ax_a, ax_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    if len(ax_a) != len(ax_b) or any(a.shape[i] != b.shape[j] for i, j in zip(ax_a, ax_b, strict=True)):
        raise ValueError("shape-mismatch for sum")
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    k = int(np.prod([a.shape[d] for d in ax_a], dtype=np.int64))
    a2 = reshape(transpose(a, free_a + ax_a), (-1, k) if free_a else (1, k))
    b2 = reshape(transpose(b, ax_b + free_b), (k, -1) if free_b else (k, 1))
    return reshape(la.matmul(a2, b2), tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


def _explicit_subscripts(subscripts: str, operands: Sequence[Any]) -> str:
    """Rewrite implicit-output and ``...`` subscripts into explicit letters only."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
        explicit_out = True
    else:
        ins, out, explicit_out = subscripts, "", False
    terms = ins.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} subscript terms for {len(operands)} operands")
    used = set(ins.replace(".", "") + out)
    spare = [c for c in string.ascii_letters if c not in used]
    ell_rank = max((np.ndim(op) - len(t.replace("...", ""))
                    for t, op in zip(terms, operands, strict=True) if "..." in t), default=0)
    ell = "".join(spare[:ell_rank])
    new_terms = []
    for t, op in zip(terms, operands, strict=True):
        if "..." in t:
            k = np.ndim(op) - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_rank - k:] if k else "")
        new_terms.append(t)
    if explicit_out:
        out = out.replace("...", ell)
    else:
        letters = "".join(new_terms)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return ",".join(new_terms) + "->" + out


def einsum(subscripts: str, *operands: Any, optimize: Any = False, **kwargs: Any) -> Any:
    """Differentiable ``numpy.einsum`` (string subscripts, ``...`` and implicit output supported).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.einsum("ij,j->i", np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if not isinstance(subscripts, str):
        raise NotImplementedError("funcgrad.numpy.einsum takes string subscripts only")
    if kwargs:
        raise TypeError(f"funcgrad.numpy.einsum got unsupported keyword arguments {sorted(kwargs)}")
    if not any(isinstance(op, Tracer) for op in operands):
        return np.einsum(subscripts, *operands, optimize=optimize)
    ops = [as_array(op) for op in operands]
    ins, out = _explicit_subscripts(subscripts, ops).split("->")
    terms = ins.split(",")
    for k, t in enumerate(terms):
        # A letter repeated within one operand ('ii', 'iij') selects a diagonal: take it here,
        # so the einsum primitive (and its derivative) only sees distinct letters per operand.
        while len(set(t)) != len(t):
            c = next(c for c in t if t.count(c) > 1)
            p = t.index(c)
            q = t.index(c, p + 1)
            ops[k] = diagonal(ops[k], 0, p, q)  # removes axes p and q, appends the diagonal
            t = "".join(ch for j, ch in enumerate(t) if j not in (p, q)) + c
        terms[k] = t
    return la.einsum(*ops, subscripts=",".join(terms) + "->" + out)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable ``numpy.trace``: the sum of a diagonal."""
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


def kron(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.kron``: the Kronecker product, as one broadcast multiply of ``a`` and
    ``b`` reshaped with interleaved unit axes, then a reshape.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.kron(np.array([1.0, 10.0]), np.array([1.0, 2.0]))
    array([ 1.,  2., 10., 20.])
    """
    a, b = as_array(a), as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return ew.mul(a, b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    a2 = reshape(a, tuple(x for s in sa for x in (s, 1)))
    b2 = reshape(b, tuple(x for s in sb for x in (1, s)))
    return reshape(ew.mul(a2, b2), tuple(x * y for x, y in zip(sa, sb, strict=True)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    """Differentiable ``numpy.cross`` of (arrays of) 3-vectors, or 2-vectors as NumPy allows.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = as_array(a), as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        raise np.exceptions.AxisError(axisa if a.ndim == 0 else axisb, 0)
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional "
                      "vectors instead. (deprecated in NumPy 2.0)", DeprecationWarning, stacklevel=2)
    ac = [getitem_static(a, (Ellipsis, i)) for i in range(na)]
    bc = [getitem_static(b, (Ellipsis, i)) for i in range(nb)]
    z = ew.sub(ew.mul(ac[0], bc[1]), ew.mul(ac[1], bc[0]))
    if na == 2 and nb == 2:
        return z
    if na == 2:
        x, y = ew.mul(ac[1], bc[2]), ew.neg(ew.mul(ac[0], bc[2]))
    elif nb == 2:
        x, y = ew.neg(ew.mul(ac[2], bc[1])), ew.mul(ac[2], bc[0])
    else:
        x = ew.sub(ew.mul(ac[1], bc[2]), ew.mul(ac[2], bc[1]))
        y = ew.sub(ew.mul(ac[2], bc[0]), ew.mul(ac[0], bc[2]))
    lead = np.broadcast_shapes(tuple(a.shape[:-1]), tuple(b.shape[:-1]))
    cp = stack([broadcast_to(c, lead) for c in (x, y, z)], axis=-1)
    return moveaxis(cp, -1, axisc)


__all__ += ["kron", "cross"]
