"""Products and contractions: matmul, dot, vdot, inner, outer, tensordot, einsum, trace."""

from __future__ import annotations

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

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # string.ascii_letters (einsum subscripts)


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
    """Differentiable ``numpy.vdot``: the dot product of the flattened inputs, the first one
    conjugated (``sum(conj(a) * b)``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> complex(fnp.vdot(np.array([1j, 2.0]), np.array([1j, 1.0])))
    (3+0j)
    """
    a = as_array(a)
    if np.dtype(a.dtype).kind == "c":
        a = ew.conj(a)
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
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)  # type: ignore[list-item]  # an np.integer axis is an int to NumPy
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)  # type: ignore[list-item]  # an np.integer axis is an int to NumPy
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
    spare = [c for c in _LETTERS if c not in used]
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


def _sublist_subscripts(args: tuple) -> tuple[str, list]:
    """NumPy's interleaved form ``einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])`` as a
    subscripts string and the operands (axis labels are ints in [0, 52) or ``...``)."""
    def letters(sublist: Any) -> str:
        out = ""
        for s in sublist:
            if s is Ellipsis:
                out += "..."
            else:
                k = int(s)
                if not 0 <= k < 52:
                    raise ValueError(f"subscript is not within the valid range [0, 52), got {k}")
                out += _LETTERS[k]
        return out

    operands, terms = list(args[0::2]), [letters(sl) for sl in args[1::2]]
    if len(args) % 2:  # an output sublist
        operands = operands[:-1]
        return ",".join(terms) + "->" + letters(args[-1]), operands
    return ",".join(terms), operands


def einsum(subscripts: Any, *operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Any:
    """Differentiable ``numpy.einsum``: string subscripts (``...`` and implicit output supported)
    or NumPy's interleaved sublists ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.einsum("ij,j->i", np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    >>> fnp.einsum(np.eye(2), [0, 1], np.array([1.0, 2.0]), [1], [0])
    array([1., 2.])
    """
    if not isinstance(subscripts, str):
        subscripts, ops = _sublist_subscripts((subscripts,) + operands)
        operands = tuple(ops)
    if out is not None:
        raise TypeError("funcgrad.numpy.einsum does not support out=; use the return value")
    if not any(isinstance(op, Tracer) for op in operands):
        return np.einsum(subscripts, *operands, optimize=optimize, **kwargs)
    if kwargs:
        raise TypeError(f"funcgrad.numpy.einsum got unsupported keyword arguments {sorted(kwargs)}")
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


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1, out: Any = None) -> Any:
    """Differentiable ``numpy.vecdot``: ``sum(conj(x1) * x2)`` over ``axis``, broadcasting the rest.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.vecdot does not support out=")
    if not any(isinstance(v, Tracer) for v in (x1, x2)):
        return np.vecdot(x1, x2, axis=axis)  # type: ignore[call-overload]  # options forwarded to NumPy as given (its stubs want literals)
    x1, x2 = as_array(x1), as_array(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError("vecdot: Input operand does not have enough dimensions")
    a = moveaxis(x1, axis, -1)
    b = moveaxis(x2, axis, -1)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"vecdot: core dimensions differ ({a.shape[-1]} vs {b.shape[-1]})")
    if a.dtype.kind == "c":
        a = ew.conj(a)
    return la.matmul(reshape(a, tuple(a.shape[:-1]) + (1, a.shape[-1])),
                     reshape(b, tuple(b.shape) + (1,)))[..., 0, 0]


def matvec(x1: Any, x2: Any, /, *, out: Any = None) -> Any:
    """Differentiable ``numpy.matvec``: stacked matrix-vector products ``x1 @ x2[..., None]``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.matvec(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.matvec does not support out=")
    if not any(isinstance(v, Tracer) for v in (x1, x2)):
        return np.matvec(x1, x2)
    x1, x2 = as_array(x1), as_array(x2)
    if x1.ndim < 2 or x2.ndim < 1:
        raise ValueError("matvec: Input operand does not have enough dimensions")
    return la.matmul(x1, reshape(x2, tuple(x2.shape) + (1,)))[..., 0]


def vecmat(x1: Any, x2: Any, /, *, out: Any = None) -> Any:
    """Differentiable ``numpy.vecmat``: stacked vector-matrix products ``conj(x1)[..., None, :] @ x2``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.vecmat(np.array([1.0, 2.0]), np.eye(2))
    array([1., 2.])
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.vecmat does not support out=")
    if not any(isinstance(v, Tracer) for v in (x1, x2)):
        return np.vecmat(x1, x2)
    x1, x2 = as_array(x1), as_array(x2)
    if x1.ndim < 1 or x2.ndim < 2:
        raise ValueError("vecmat: Input operand does not have enough dimensions")
    if x1.dtype.kind == "c":
        x1 = ew.conj(x1)
    return la.matmul(reshape(x1, tuple(x1.shape[:-1]) + (1, x1.shape[-1])), x2)[..., 0, :]


__all__ += ["vecdot", "matvec", "vecmat"]
