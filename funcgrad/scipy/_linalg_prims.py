"""Primitives of :mod:`funcgrad.scipy.linalg`: ``solve_triangular``, ``solve_sylvester``,
``sqrtm``, ``solve_banded`` and ``expm``.

Each is declared once here with impl (SciPy), abstract evaluation (for ``jit``: shapes and dtypes
without running LAPACK on placeholder matrices, which would be singular), jvp, vjp and batching
rules. The rules are written with funcgrad operations (and these primitives), so derivatives are
differentiable again, stageable and batchable. SciPy is imported on first use: ``import funcgrad``
never imports it.

Operands are stacks of matrices ``(..., M, N)`` whose leading axes broadcast, as in SciPy >= 1.15;
right-hand sides are always stacks of matrices here (the public wrappers turn a vector ``b`` into a
column). Every batching rule therefore only moves the batch axis to the front. Zero-size stacks,
which SciPy rejects, give empty results.

Complex operands follow funcgrad's (JAX's) convention: vjp rules are transposes (no conjugation)
of the jvp rules, so ``L(A^T, ct)`` for ``expm`` and ``A^T`` in the Sylvester adjoints.

Derivatives:

* ``solve_triangular``: with ``M = op(tri(A))`` (``op`` = identity, transpose or conjugate
  transpose; ``tri`` keeps the triangle that is read, without its diagonal if ``unit_diagonal``),
  ``x = M^{-1} b``: ``dx = M^{-1}(db - op(tri(dA)) x)``, ``b̄ = M^{-T} x̄``,
  ``Ā = tri(op^T(-b̄ x^T))``. The other triangle (and a unit diagonal) get zero cotangent.
* ``solve_sylvester`` (``AX + XB = Q``): ``dX = sylv(A, B, dQ - dA X - X dB)``;
  ``Q̄ = sylv(A^T, B^T, X̄)``, ``Ā = -Q̄ X^T``, ``B̄ = -X^T Q̄``.
* ``sqrtm`` (``X X = A``): the Fréchet derivative solves ``X dX + dX X = dA``, i.e.
  ``dX = sylv(X, X, dA)``; ``Ā = sylv(X^T, X^T, X̄)``.
* ``solve_banded`` (``ab[u + i - j, j] = A[i, j]``): ``dx = -A^{-1}(dA x)`` with ``dA x`` computed
  from the band (shifted rows), ``b̄ = (A^T)^{-1} x̄`` with ``A^T``'s band rearranged from ``ab``, and
  ``āb[r, j] = -sum_k b̄[j + r - u, k] x[j, k]``: the band of ``-b̄ x^T``; entries of ``ab`` outside
  the matrix get zero cotangent.
* ``expm``: ``L(A, E)`` is the top-right block of ``expm([[A, E], [0, A]])``; vjp ``L(A^T, ct)``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from ..core import Primitive
from ..ir.program import ShapedArray
from ..prims import elementwise as ew
from ..prims.factories import batch_to_front, ndim_of
from ..prims.linalg import matmul
from ..prims.reductions import reduce_sum
from ..prims.shape import concatenate, pad, reshape, slice_axis, transpose
from ._lazy import scipy_module

__all__ = ["solve_triangular", "solve_sylvester", "sqrtm", "solve_banded", "expm", "frechet_expm", "expm_blocks"]

def scipy_linalg() -> Any:
    """``scipy.linalg``, imported on first use."""
    return scipy_module("linalg")


# --- helpers (funcgrad operations, so that rules stay differentiable) ----------------------------


def _T(x: Any) -> Any:
    """Swap the last two axes."""
    n = ndim_of(x)
    return transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _conj(x: Any) -> Any:
    return ew.conj(x) if x.dtype.kind == "c" else x


def _shape(x: Any) -> tuple[int, ...]:
    if isinstance(x, ShapedArray):
        return tuple(x.shape)
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _dtype(x: Any) -> np.dtype:
    if isinstance(x, ShapedArray):
        return np.dtype(x.dtype)
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _aval(x: Any) -> tuple[tuple[int, ...], np.dtype]:
    x = getattr(x, "value", x)  # an IR literal
    return _shape(x), _dtype(x)


def _batch_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*(s[:-2] for s in shapes)))


def _stack_batch(bind: Any) -> Any:
    """Batching rule for operands that are stacks of matrices broadcasting over leading axes."""

    def batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        rank = max(ndim_of(a) - (d is not None) for a, d in zip(args, dims))
        moved = [a if d is None else batch_to_front(a, d, rank=rank) for a, d in zip(args, dims)]
        return bind(*moved, **params), 0

    return batch


def _square(shape: tuple[int, ...], name: str, what: str = "a") -> int:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name}: expected {what} to be a square matrix (or a stack of them), got shape {shape}")
    return shape[-1]


def _empty_batch(batch: tuple[int, ...]) -> bool:
    return math.prod(batch) == 0


# --- solve_triangular -------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _st_dtype(da: np.dtype, db: np.dtype) -> np.dtype:
    return scipy_linalg().solve_triangular(np.eye(2, dtype=da), np.ones((2, 1), db)).dtype


def _st_impl(a: Any, b: Any, *, lower: bool, trans: int, unit_diagonal: bool) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    batch = _batch_shape(a.shape, b.shape)
    if _empty_batch(batch):
        return np.empty(batch + b.shape[-2:], _st_dtype(a.dtype, b.dtype))
    return scipy_linalg().solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _st_abstract(a: Any, b: Any, *, lower: bool, trans: int, unit_diagonal: bool) -> ShapedArray:
    (sa, da), (sb, db) = _aval(a), _aval(b)
    n = _square(sa, "solve_triangular")
    if len(sb) < 2 or sb[-2] != n:
        raise ValueError(f"solve_triangular: shapes of a {sa} and b {sb} are incompatible")
    return ShapedArray(_batch_shape(sa, sb) + sb[-2:], _st_dtype(da, db))


def _tri_mask(n: int, lower: bool, unit_diagonal: bool) -> np.ndarray:
    ones = np.ones((n, n))
    k = 1 if unit_diagonal else 0
    return np.tril(ones, -k) if lower else np.triu(ones, k)


def _tri(x: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The part of ``x`` that ``solve_triangular`` reads (a constant mask: linear and cheap)."""
    return x * _tri_mask(x.shape[-1], lower, unit_diagonal).astype(x.dtype)


def _op(x: Any, trans: int) -> Any:
    if trans == 0:
        return x
    return _T(x) if trans == 1 else _conj(_T(x))


def _op_transpose(x: Any, trans: int) -> Any:
    """The transpose of the linear map ``_op(., trans)``."""
    if trans == 0:
        return x
    return _T(x) if trans == 1 else _T(_conj(x))


def _st_jvp_a(t: Any, out: Any, a: Any, b: Any, *, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    rhs = matmul(_op(_tri(t, lower, unit_diagonal), trans), out)
    return -solve_triangular(a, rhs, lower=lower, trans=trans, unit_diagonal=unit_diagonal)


def _st_jvp_b(t: Any, out: Any, a: Any, b: Any, *, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    return solve_triangular(a, t, lower=lower, trans=trans, unit_diagonal=unit_diagonal)


def _st_transpose_solve(a: Any, ct: Any, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    """``op(A)^{-T} ct``: the transpose of ``b -> op(A)^{-1} b``."""
    if trans == 2:  # (A^H)^{-T} = conj(A)^{-1} = conj(A^{-1} conj(.))
        return _conj(solve_triangular(a, _conj(ct), lower=lower, trans=0, unit_diagonal=unit_diagonal))
    return solve_triangular(a, ct, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)


def _st_vjp_b(ct: Any, out: Any, a: Any, b: Any, *, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    return _st_transpose_solve(a, ct, lower, trans, unit_diagonal)


def _st_vjp_a(ct: Any, out: Any, a: Any, b: Any, *, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    b_bar = _st_transpose_solve(a, ct, lower, trans, unit_diagonal)
    return _tri(_op_transpose(-matmul(b_bar, _T(out)), trans), lower, unit_diagonal)


solve_triangular_p = Primitive(
    "solve_triangular",
    _st_impl,
    jvp=(_st_jvp_a, _st_jvp_b),
    vjp=(_st_vjp_a, _st_vjp_b),
    abstract_eval=_st_abstract,
    batch=_stack_batch(lambda *a, **p: solve_triangular(*a, **p)),
)
solve_triangular: Callable[..., Any] = solve_triangular_p.bind


# --- solve_sylvester --------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _sylv_dtype(da: np.dtype, db: np.dtype, dq: np.dtype) -> np.dtype:
    one = np.ones((1, 1))
    return scipy_linalg().solve_sylvester(one.astype(da), one.astype(db), one.astype(dq)).dtype


def _sylv_impl(a: Any, b: Any, q: Any) -> np.ndarray:
    a, b, q = np.asarray(a), np.asarray(b), np.asarray(q)
    if any(x.dtype.kind == "c" for x in (a, b, q)):
        # SciPy (1.17) mixes a complex Schur form of one operand with the real (quasi-triangular)
        # Schur form of a real other one, and returns a wrong solution when that real matrix has
        # complex eigenvalues: solve in complex arithmetic throughout.
        ct = np.result_type(a.dtype, b.dtype, q.dtype, np.complex64)
        a, b, q = a.astype(ct, copy=False), b.astype(ct, copy=False), q.astype(ct, copy=False)
    batch = _batch_shape(a.shape, b.shape, q.shape)
    if _empty_batch(batch):
        return np.empty(batch + q.shape[-2:], _sylv_dtype(a.dtype, b.dtype, q.dtype))
    return scipy_linalg().solve_sylvester(a, b, q)


def _sylv_abstract(a: Any, b: Any, q: Any) -> ShapedArray:
    (sa, da), (sb, db), (sq, dq) = _aval(a), _aval(b), _aval(q)
    m = _square(sa, "solve_sylvester", "a")
    n = _square(sb, "solve_sylvester", "b")
    if len(sq) < 2 or sq[-2:] != (m, n):
        raise ValueError(f"solve_sylvester: q must be {m} x {n} for a of shape {sa} and b of shape {sb}; "
                         f"got {sq}")
    return ShapedArray(_batch_shape(sa, sb, sq) + sq[-2:], _sylv_dtype(da, db, dq))


def _sylv_adjoint(ct: Any, a: Any, b: Any) -> Any:
    """``Q̄``: the transpose of ``Q -> X`` solves ``A^T Y + Y B^T = ct``."""
    return solve_sylvester(_T(a), _T(b), ct)


solve_sylvester_p = Primitive(
    "solve_sylvester",
    _sylv_impl,
    jvp=(
        lambda t, out, a, b, q: solve_sylvester(a, b, -matmul(t, out)),
        lambda t, out, a, b, q: solve_sylvester(a, b, -matmul(out, t)),
        lambda t, out, a, b, q: solve_sylvester(a, b, t),
    ),
    vjp=(
        lambda ct, out, a, b, q: -matmul(_sylv_adjoint(ct, a, b), _T(out)),
        lambda ct, out, a, b, q: -matmul(_T(out), _sylv_adjoint(ct, a, b)),
        lambda ct, out, a, b, q: _sylv_adjoint(ct, a, b),
    ),
    abstract_eval=_sylv_abstract,
    batch=_stack_batch(lambda *a, **p: solve_sylvester(*a, **p)),
)
solve_sylvester: Callable[..., Any] = solve_sylvester_p.bind


# --- sqrtm ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _sqrtm_dtype(da: np.dtype) -> np.dtype:
    return scipy_linalg().sqrtm(np.eye(2, dtype=da)).dtype


def _sqrtm_impl(a: Any) -> np.ndarray:
    a = np.asarray(a)
    if a.size == 0:
        return np.empty(a.shape, _sqrtm_dtype(a.dtype))
    return np.asarray(scipy_linalg().sqrtm(a))


def _sqrtm_abstract(a: Any) -> ShapedArray:
    sa, da = _aval(a)
    _square(sa, "sqrtm", "A")
    return ShapedArray(sa, _sqrtm_dtype(da))


sqrtm_p = Primitive(
    "sqrtm",
    _sqrtm_impl,
    jvp=(lambda t, out, a: solve_sylvester(out, out, t),),
    vjp=(lambda ct, out, a: solve_sylvester(_T(out), _T(out), ct),),
    abstract_eval=_sqrtm_abstract,
    batch=_stack_batch(lambda *a, **p: sqrtm(*a, **p)),
)
sqrtm: Callable[..., Any] = sqrtm_p.bind


# --- solve_banded -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _banded_dtype(da: np.dtype, db: np.dtype) -> np.dtype:
    return scipy_linalg().solve_banded((0, 0), np.full((1, 2), 2.0, da), np.ones((2, 1), db)).dtype


def _banded_impl(ab: Any, b: Any, *, l: int, u: int) -> np.ndarray:
    ab, b = np.asarray(ab), np.asarray(b)
    batch = _batch_shape(ab.shape, b.shape)
    if _empty_batch(batch):
        return np.empty(batch + b.shape[-2:], _banded_dtype(ab.dtype, b.dtype))
    return scipy_linalg().solve_banded((l, u), ab, b)


def _banded_abstract(ab: Any, b: Any, *, l: int, u: int) -> ShapedArray:
    (sab, dab), (sb, db) = _aval(ab), _aval(b)
    if len(sab) < 2 or sab[-2] != l + u + 1:
        raise ValueError(f"solve_banded: ab must have l + u + 1 = {l + u + 1} rows, got shape {sab}")
    if len(sb) < 2 or sb[-2] != sab[-1]:
        raise ValueError(f"solve_banded: shapes of ab {sab} and b {sb} are not compatible")
    return ShapedArray(_batch_shape(sab, sb) + sb[-2:], _banded_dtype(dab, db))


def _shift(v: Any, s: int, axis: int) -> Any:
    """``out[..., i, ...] = v[..., i + s, ...]`` along ``axis``, zero where ``i + s`` is out of range."""
    if s == 0:
        return v
    n = v.shape[axis]
    if abs(s) >= n:
        return np.zeros(v.shape, v.dtype)
    width = [(0, 0)] * ndim_of(v)
    if s > 0:
        piece = slice_axis(v, axis, s, n)
        width[axis] = (0, s)
    else:
        piece = slice_axis(v, axis, 0, n + s)
        width[axis] = (-s, 0)
    return pad(piece, pad_width=tuple(width), value=0.0)


def _band_row(ab: Any, r: int) -> Any:
    """``ab[..., r, :]``."""
    row = slice_axis(ab, ndim_of(ab) - 2, r, r + 1)
    return reshape(row, shape=row.shape[:-2] + row.shape[-1:])


def _stack_rows(rows: list) -> Any:
    rows = [reshape(r, shape=r.shape[:-1] + (1,) + r.shape[-1:]) for r in rows]
    return rows[0] if len(rows) == 1 else concatenate(*rows, axis=ndim_of(rows[0]) - 2)


def _band_matmul(ab: Any, x: Any, l: int, u: int) -> Any:
    """``A x`` for the banded ``A`` stored in ``ab`` (``x`` a stack of matrices)."""
    total = None
    for r in range(l + u + 1):
        row = _band_row(ab, r)
        term = _shift(reshape(row, shape=row.shape + (1,)) * x, u - r, ndim_of(x) - 2)
        total = term if total is None else total + term
    return total


def _band_transpose(ab: Any, l: int, u: int) -> Any:
    """The band storage of ``A^T`` (``u`` lower and ``l`` upper diagonals)."""
    last = ndim_of(ab) - 2  # the last axis of a row
    return _stack_rows([_shift(_band_row(ab, l + u - r), r - l, last) for r in range(l + u + 1)])


def _banded_vjp_b(ct: Any, out: Any, ab: Any, b: Any, *, l: int, u: int) -> Any:
    return solve_banded(_band_transpose(ab, l, u), ct, l=u, u=l)


def _banded_vjp_ab(ct: Any, out: Any, ab: Any, b: Any, *, l: int, u: int) -> Any:
    b_bar = _banded_vjp_b(ct, out, ab, b, l=l, u=u)
    axis = ndim_of(b_bar) - 2
    prod_axis = ndim_of(out) - 1
    rows = [-reduce_sum(_shift(b_bar, r - u, axis) * out, axis=(prod_axis,), keepdims=False)
            for r in range(l + u + 1)]
    return _stack_rows(rows)


solve_banded_p = Primitive(
    "solve_banded",
    _banded_impl,
    jvp=(
        lambda t, out, ab, b, l, u: -solve_banded(ab, _band_matmul(t, out, l, u), l=l, u=u),
        lambda t, out, ab, b, l, u: solve_banded(ab, t, l=l, u=u),
    ),
    vjp=(_banded_vjp_ab, _banded_vjp_b),
    abstract_eval=_banded_abstract,
    batch=_stack_batch(lambda *a, **p: solve_banded(*a, **p)),
)
solve_banded: Callable[..., Any] = solve_banded_p.bind


# --- expm -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _expm_dtype(da: np.dtype) -> np.dtype:
    return scipy_linalg().expm(np.eye(2, dtype=da)).dtype


def _expm_impl(a: Any) -> np.ndarray:
    a = np.asarray(a)
    if a.size == 0:
        return np.empty(a.shape, _expm_dtype(a.dtype))
    return np.asarray(scipy_linalg().expm(a))


def _expm_abstract(a: Any) -> ShapedArray:
    sa, da = _aval(a)
    _square(sa, "expm", "A")
    return ShapedArray(sa, _expm_dtype(da))


def expm_blocks(a: Any, e: Any) -> tuple[Any, Any]:
    """``(expm(A), L(A, E))`` read off one ``expm([[A, E], [0, A]])`` (``A`` and ``E`` of the same
    shape); ``L(A, E)`` is the Fréchet derivative of ``expm`` at ``A`` in direction ``E``."""
    n = a.shape[-1]
    nd = ndim_of(a)
    zero = np.zeros(tuple(a.shape), a.dtype)
    top = concatenate(a, e, axis=nd - 1)
    bottom = concatenate(zero, a, axis=nd - 1)
    upper = slice_axis(expm(concatenate(top, bottom, axis=nd - 2)), nd - 2, 0, n)
    return slice_axis(upper, nd - 1, 0, n), slice_axis(upper, nd - 1, n, 2 * n)


def frechet_expm(a: Any, e: Any) -> Any:
    """``L(A, E)``: the Fréchet derivative of ``expm`` at ``A`` in direction ``E``."""
    return expm_blocks(a, e)[1]


expm_p = Primitive(
    "expm",
    _expm_impl,
    jvp=(lambda t, out, a: frechet_expm(a, t),),
    vjp=(lambda ct, out, a: frechet_expm(_T(a), ct),),
    abstract_eval=_expm_abstract,
    batch=_stack_batch(lambda *a, **p: expm(*a, **p)),
)
expm: Callable[..., Any] = expm_p.bind
