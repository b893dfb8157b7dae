"""Solvers and matrix decompositions: ``solve``, ``cholesky``, ``eigh``, ``svd``, ``qr``,
``logabsdet`` / ``slogdet_sign`` and ``eig``.

Operands are stacks of matrices ``(..., M, N)``; NumPy's linalg broadcasts over the leading axes,
so every batching rule only moves the batch axis to the front. Real dtypes (float32/float64)
are differentiated; rules are written with funcgrad operations (matmul, solve, where, ...), so
they are differentiable again (higher order) and stageable (jit).

**Several outputs, one primitive.** A primitive has one output, so a decomposition with several
returns its outputs *packed* in one array, and the public wrappers (funcgrad.numpy.linalg) unpack
them with getitem/reshape:

* ``eigh``  -> ``(..., n + 1, n)``: row 0 holds the eigenvalues ``w``, rows 1.. the eigenvectors ``V``;
* ``svd``   -> ``(..., m*a + k + b*n)``: ``U.ravel()``, ``s``, ``Vh.ravel()`` on the last axis;
* ``qr``    -> ``(..., r, m + n)``: ``Q^T`` then ``R`` along the last axis;
* ``eig``   -> ``(..., 2, n + 1, n)``: real and imaginary parts of ``[w; V]``.

Packing (rather than one primitive per output sharing the computation) runs the factorisation
once per forward pass, and the derivative rules, which need every output anyway (the derivative
of the eigenvalues needs the eigenvectors), read them from the primal output instead of
recomputing the decomposition. ``slogdet`` is the exception: its two outputs are computed by two
cheap primitives (``slogdet_sign``, non-differentiable, and ``logabsdet``).

**Conventions.**

* ``cholesky`` and ``eigh`` read only one triangle of their operand (the lower one unless
  ``lower=False``), as NumPy does; the derivatives are those of that function: the other triangle
  gets a zero cotangent and its tangent has no effect. Functions of a symmetric
  parametrisation (``K = X X^T + c I``) get their correct total derivatives through the chain rule.
* Eigenvector and singular-vector derivatives contain ``1 / (w_j - w_i)``
  (``1 / (s_j^2 - s_i^2)``): they are undefined for repeated eigenvalues (singular values). At
  exact ties the factor is replaced by 0, so derivatives of functions of eigenvalues or singular
  values alone stay correct there; derivatives that depend on the vectors are meaningless there.
* Singular-vector derivatives of a non-square matrix divide by the singular values; an exactly
  zero singular value contributes 0 there (its vector's complement derivative is undefined).
* ``svd(full_matrices=True)`` and ``qr(complete=True)`` of a non-square matrix are not
  differentiable (the extra columns are an arbitrary basis of a complement): their rules raise.
* ``eig`` of a real matrix has complex outputs and no derivative rules: differentiating it
  raises NotImplementedError (use ``eigh`` for symmetric matrices).
* Derivatives use solves, never explicit inverses (``logabsdet``'s gradient *is* ``A^{-T}``,
  obtained by a solve against the identity).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Primitive
from ..ir.program import ShapedArray
from .elementwise import equal, where
from .factories import batch_to_front, ndim_of
from .linalg import matmul
from .reductions import reduce_sum
from .shape import concatenate, reshape, slice_axis, transpose

__all__ = ["solve", "cholesky", "eigh", "svd", "qr", "logabsdet", "slogdet_sign", "eig"]


# --- helpers (funcgrad operations only, so that rules stay differentiable) ----------------------


def _T(x: Any) -> Any:
    """Swap the last two axes."""
    n = ndim_of(x)
    return transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _last(x: Any, start: int, stop: int) -> Any:
    return slice_axis(x, ndim_of(x) - 1, start, stop)


def _rows(x: Any, start: int, stop: int) -> Any:
    return slice_axis(x, ndim_of(x) - 2, start, stop)


def _row(x: Any, i: int) -> Any:
    """``x[..., i, :]``."""
    r = _rows(x, i, i + 1)
    return reshape(r, shape=r.shape[:-2] + r.shape[-1:])


def _col(v: Any) -> Any:
    """``v[..., :, None]``."""
    return reshape(v, shape=v.shape + (1,))


def _rowv(v: Any) -> Any:
    """``v[..., None, :]``."""
    return reshape(v, shape=v.shape[:-1] + (1,) + v.shape[-1:])


def _eye(n: int, dtype: Any) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _diag(x: Any) -> Any:
    """The diagonal of each matrix, ``(..., n, n) -> (..., n)``."""
    return reduce_sum(x * _eye(x.shape[-1], x.dtype), axis=(ndim_of(x) - 1,), keepdims=False)


def _diag_embed(v: Any) -> Any:
    """``(..., n) -> (..., n, n)`` with ``v`` on the diagonal."""
    return _rowv(v) * _eye(v.shape[-1], v.dtype)


def _mask(n: int, k: int, lower: bool, dtype: Any) -> np.ndarray:
    ones = np.ones((n, n), dtype)
    return np.tril(ones, k) if lower else np.triu(ones, -k)


def _tri(x: Any, k: int = 0, lower: bool = True) -> Any:
    """``tril(x, k)`` (``lower``) or ``triu(x, -k)``: a constant mask, so it is linear and cheap."""
    return x * _mask(x.shape[-1], k, lower, x.dtype)


def _sym_from_triangle(t: Any, lower: bool) -> Any:
    """The symmetric matrix that one triangle of ``t`` (with the diagonal) stands for."""
    return _tri(t, 0, lower) + _T(_tri(t, -1, lower))


def _triangle_cotangent(g: Any, lower: bool) -> Any:
    """Adjoint of :func:`_sym_from_triangle`: the cotangent of the triangle that is read."""
    return _tri(g, 0, lower) + _tri(_T(g), -1, lower)


def _gap_inverse(w: Any, squared: bool = False) -> Any:
    """``F[..., i, j] = 1 / (w_j - w_i)`` (or ``1 / (w_j^2 - w_i^2)``), 0 where ``w_i == w_j``."""
    if squared:
        w = w * w
    d = _rowv(w) - _col(w)
    tie = equal(d, 0.0)
    return where(tie, 0.0, 1.0 / where(tie, 1.0, d))


def _safe_reciprocal(s: Any) -> Any:
    zero = equal(s, 0.0)
    return where(zero, 0.0, 1.0 / where(zero, 1.0, s))


def _front(args: tuple, dims: tuple) -> Any:
    return batch_to_front(args[0], dims[0])


# --- abstract evaluation (jit): shapes and dtypes without running LAPACK --------------------------
# jit's default abstract evaluation runs impl on zero placeholders, which a solver rejects
# (singular) and a decomposition would pay for in full; these rules give the answer directly.


def _aval(x: Any) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(x, ShapedArray):
        return tuple(x.shape), np.dtype(x.dtype)
    x = np.asarray(getattr(x, "value", x))
    return x.shape, x.dtype


def _result_dtype(*dtypes: np.dtype) -> np.dtype:
    dt = np.result_type(*dtypes)
    if dt.kind in "iub":
        return np.dtype(np.float64)
    if dt.kind not in "fc" or dt.itemsize < 4:
        raise TypeError(f"array type {dt} is unsupported in linalg")
    return dt


def _square(shape: tuple[int, ...], name: str) -> int:
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional")
    if shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    return shape[-1]


# --- solve ------------------------------------------------------------------------------------
# x = A^{-1} B with B a stack of matrices (the wrapper turns a vector into a column).
# dx = A^{-1} (dB - dA x);  B̄ = A^{-T} x̄,  Ā = -B̄ x^T.


def _solve_abstract(a: Any, b: Any) -> ShapedArray:
    (sa, da), (sb, db) = _aval(a), _aval(b)
    n = _square(sa, "solve")
    if len(sb) < 2 or sb[-2] != n:
        raise ValueError(f"solve: b of shape {sb} does not match a of shape {sa}")
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    return ShapedArray(batch + sb[-2:], _result_dtype(da, db))


def _solve_batch(args: tuple, dims: tuple) -> tuple[Any, int]:
    (a, b), (da, db) = args, dims
    rank = max(ndim_of(a) - (da is not None), ndim_of(b) - (db is not None))
    # Batched operands get the batch axis in front of `rank` axes; an unbatched operand has at most
    # `rank` axes, so NumPy's broadcasting lines it up behind the batch axis.
    a = a if da is None else batch_to_front(a, da, rank=rank)
    b = b if db is None else batch_to_front(b, db, rank=rank)
    return solve(a, b), 0


def _solve_vjp_b(ct: Any, out: Any, a: Any, b: Any) -> Any:
    return solve(_T(a), ct)


def _solve_vjp_a(ct: Any, out: Any, a: Any, b: Any) -> Any:
    return -matmul(solve(_T(a), ct), _T(out))


def _real_only(name: str, rule: Any) -> Any:
    """Wrap a derivative rule written for real matrices: complex input raises clearly."""

    def checked(t: Any, out: Any, a: Any, *rest: Any, **params: Any) -> Any:
        if np.dtype(a.dtype).kind == "c":
            raise NotImplementedError(
                f"derivatives of {name} for complex matrices are not implemented (its rules assume "
                "real input); differentiate with respect to the real and imaginary parts of a real "
                "parametrisation, or use solve/inv/slogdet, which support complex input."
            )
        return rule(t, out, a, *rest, **params)

    return checked


solve_p = Primitive(
    "solve",
    np.linalg.solve,
    jvp=(lambda t, out, a, b: -solve(a, matmul(t, out)), lambda t, out, a, b: solve(a, t)),
    vjp=(_solve_vjp_a, _solve_vjp_b),
    batch=_solve_batch,
    abstract_eval=_solve_abstract,
)
solve = solve_p.bind


def _unary_batch(prim_bind: Any) -> Any:
    def batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        return prim_bind(_front(args, dims), **params), 0

    return batch


# --- cholesky ---------------------------------------------------------------------------------
# A = L L^T, with A the symmetric matrix read from the lower triangle. With X = L^{-1} dA L^{-T}
# and Φ(X) = the lower triangle of X with its diagonal halved: dL = L Φ(X).
# Reverse: P = Φ(L^T L̄), S̄ = L^{-T} P L^{-1}, then Ā = the cotangent of the lower triangle.


def _phi(x: Any) -> Any:
    n = x.shape[-1]
    return x * (_mask(n, -1, True, x.dtype) + 0.5 * _eye(n, x.dtype))


def _cholesky_jvp(t: Any, out: Any, a: Any) -> Any:
    ds = _sym_from_triangle(t, True)
    y = solve(out, ds)  # L^{-1} dA
    x = _T(solve(out, _T(y)))  # L^{-1} dA L^{-T}
    return matmul(out, _phi(x))


def _cholesky_vjp(ct: Any, out: Any, a: Any) -> Any:
    p = _phi(matmul(_T(out), ct))
    z = solve(_T(out), p)  # L^{-T} P
    s_bar = _T(solve(_T(out), _T(z)))  # L^{-T} P L^{-1}
    return _triangle_cotangent(s_bar, True)


def _cholesky_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    _square(shape, "cholesky")
    return ShapedArray(shape, _result_dtype(dtype))


cholesky_p = Primitive(
    "cholesky",
    np.linalg.cholesky,
    jvp=(_real_only("cholesky", _cholesky_jvp),),
    vjp=(_real_only("cholesky", _cholesky_vjp),),
    abstract_eval=_cholesky_abstract,
)
cholesky = cholesky_p.bind
cholesky_p.batch = _unary_batch(cholesky)


# --- eigh -------------------------------------------------------------------------------------
# S = V diag(w) V^T (S read from one triangle). With dP = V^T dS V and F_ij = 1/(w_j - w_i):
# dw = diag(dP), dV = V (F ∘ dP).  Reverse: S̄ = V (diag(w̄) + F ∘ (V^T V̄)) V^T, then the
# cotangent of the triangle that is read.


def _eigh_impl(a: Any, lower: bool) -> np.ndarray:
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_split(out: Any) -> tuple[Any, Any]:
    n = out.shape[-1]
    return _row(out, 0), _rows(out, 1, n + 1)


def _eigh_jvp(t: Any, out: Any, a: Any, lower: bool) -> Any:
    w, v = _eigh_split(out)
    dp = matmul(_T(v), matmul(_sym_from_triangle(t, lower), v))
    dw = _diag(dp)
    dv = matmul(v, _gap_inverse(w) * dp)
    return concatenate(_rowv(dw), dv, axis=ndim_of(out) - 2)


def _eigh_vjp(ct: Any, out: Any, a: Any, lower: bool) -> Any:
    w, v = _eigh_split(out)
    w_bar, v_bar = _eigh_split(ct)
    inner = _diag_embed(w_bar) + _gap_inverse(w) * matmul(_T(v), v_bar)
    s_bar = matmul(v, matmul(inner, _T(v)))
    return _triangle_cotangent(s_bar, lower)


def _eigh_abstract(a: Any, lower: bool) -> ShapedArray:
    shape, dtype = _aval(a)
    n = _square(shape, "eigh")
    return ShapedArray(shape[:-2] + (n + 1, n), _result_dtype(dtype))


eigh_p = Primitive(
    "eigh",
    _eigh_impl,
    jvp=(_real_only("eigh", _eigh_jvp),),
    vjp=(_real_only("eigh", _eigh_vjp),),
    abstract_eval=_eigh_abstract,
)
eigh = eigh_p.bind
eigh_p.batch = _unary_batch(eigh)


# --- svd --------------------------------------------------------------------------------------
# A = U diag(s) V^T (reduced: k = min(m, n) columns). With dP = U^T dA V, F_ij = 1/(s_j^2 - s_i^2):
#   ds = diag(dP)
#   dU = U (F ∘ (dP S + S dP^T)) + (I - U U^T) dA V S^{-1}      (second term only if m > k)
#   dV = V (F ∘ (S dP + dP^T S)) + (I - V V^T) dA^T U S^{-1}    (second term only if n > k)
# Reverse, with J = F ∘ (U^T Ū), K = F ∘ (V^T V̄):
#   Ā = U (diag(s̄) + (J + J^T) S + S (K + K^T)) V^T
#       + (I - U U^T) Ū S^{-1} V^T + U S^{-1} V̄^T (I - V V^T)


def _svd_dims(shape: tuple[int, ...], full_matrices: bool) -> tuple[int, int, int, int, int]:
    m, n = shape[-2], shape[-1]
    k = min(m, n)
    return m, n, k, (m if full_matrices else k), (n if full_matrices else k)


def _svd_impl(a: Any, full_matrices: bool) -> np.ndarray:
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    batch = s.shape[:-1]
    return np.concatenate([u.reshape(batch + (u.shape[-2] * u.shape[-1],)), s,
                           vh.reshape(batch + (vh.shape[-2] * vh.shape[-1],))], axis=-1)


def svd_unpack(packed: Any, m: int, n: int, full_matrices: bool) -> tuple[Any, Any, Any]:
    """``(U, s, Vh)`` from the packed output of :data:`svd_p` for an ``(m, n)`` operand."""
    _, _, k, cu, rv = _svd_dims((m, n), full_matrices)
    batch = tuple(packed.shape[:-1])
    u = reshape(_last(packed, 0, m * cu), shape=batch + (m, cu))
    s = _last(packed, m * cu, m * cu + k)
    vh = reshape(_last(packed, m * cu + k, m * cu + k + rv * n), shape=batch + (rv, n))
    return u, s, vh


def _svd_pack(u: Any, s: Any, vh: Any) -> Any:
    batch = tuple(s.shape[:-1])
    return concatenate(reshape(u, shape=batch + (u.shape[-2] * u.shape[-1],)), s,
                       reshape(vh, shape=batch + (vh.shape[-2] * vh.shape[-1],)), axis=len(batch))


def _svd_parts(out: Any, a: Any, full_matrices: bool, what: str) -> tuple[Any, Any, Any, int, int, int]:
    m, n = a.shape[-2], a.shape[-1]
    if full_matrices and m != n:
        raise NotImplementedError(
            f"the {what} of svd(full_matrices=True) of a non-square ({m}, {n}) matrix is not "
            "defined: the extra columns of U (or rows of Vh) are an arbitrary basis of a complement. "
            "Use full_matrices=False (the reduced SVD), which is differentiable."
        )
    u, s, vh = svd_unpack(out, m, n, full_matrices)
    return u, s, vh, m, n, min(m, n)


def _svd_jvp(t: Any, out: Any, a: Any, full_matrices: bool) -> Any:
    u, s, vh, m, n, k = _svd_parts(out, a, full_matrices, "derivative")
    v = _T(vh)
    s_row, s_col = _rowv(s), _col(s)
    tv = matmul(t, v)
    dp = matmul(_T(u), tv)
    f = _gap_inverse(s, squared=True)
    du = matmul(u, f * (dp * s_row + s_col * _T(dp)))
    dv = matmul(v, f * (s_col * dp + _T(dp) * s_row))
    if m > k:
        du = du + (tv - matmul(u, dp)) * _rowv(_safe_reciprocal(s))
    if n > k:
        ttu = matmul(_T(t), u)
        du_v = (ttu - matmul(v, _T(dp))) * _rowv(_safe_reciprocal(s))
        dv = dv + du_v
    return _svd_pack(du, _diag(dp), _T(dv))


def _svd_vjp(ct: Any, out: Any, a: Any, full_matrices: bool) -> Any:
    u, s, vh, m, n, k = _svd_parts(out, a, full_matrices, "derivative")
    u_bar, s_bar, vh_bar = svd_unpack(ct, m, n, full_matrices)
    v, v_bar = _T(vh), _T(vh_bar)
    s_row, s_col = _rowv(s), _col(s)
    f = _gap_inverse(s, squared=True)
    utub = matmul(_T(u), u_bar)
    vtvb = matmul(vh, v_bar)
    j = f * utub
    kk = f * vtvb
    core = _diag_embed(s_bar) + (j + _T(j)) * s_row + s_col * (kk + _T(kk))
    g = matmul(u, matmul(core, vh))
    if m > k:
        g = g + matmul((u_bar - matmul(u, utub)) * _rowv(_safe_reciprocal(s)), vh)
    if n > k:
        g = g + matmul(u, _col(_safe_reciprocal(s)) * _T(v_bar - matmul(v, vtvb)))
    return g


def _svd_abstract(a: Any, full_matrices: bool) -> ShapedArray:
    shape, dtype = _aval(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional")
    m, n, k, cu, rv = _svd_dims(shape, full_matrices)
    return ShapedArray(shape[:-2] + (m * cu + k + rv * n,), _result_dtype(dtype))


svd_p = Primitive(
    "svd",
    _svd_impl,
    jvp=(_real_only("svd", _svd_jvp),),
    vjp=(_real_only("svd", _svd_vjp),),
    abstract_eval=_svd_abstract,
)
svd = svd_p.bind
svd_p.batch = _unary_batch(svd)


# --- qr ---------------------------------------------------------------------------------------
# A = Q R. For m >= n (R square, invertible): with C = Q^T dA R^{-1} and Ω = L - L^T, L the strictly
# lower triangle of C:  dR = (C - Ω) R,  dQ = dA R^{-1} - Q (C - Ω).
# Reverse: M = Q^T Q̄ - R̄ R^T, C̄ = R̄ R^T + tril(M - M^T, -1), Ā = (Q̄ + Q (C̄ - Q^T Q̄)) R^{-T}.
# For m < n, A = [X Y] with X = Q R1 square and R2 = Q^T Y: the square rule for X, then
# dR2 = dQ^T Y + Q^T dY;  reverse: Ȳ = Q R̄2 and X's rule with Q̄ + Y R̄2^T.


def _qr_impl(a: Any, complete: bool) -> np.ndarray:
    q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
    return np.concatenate([np.swapaxes(q, -1, -2), r], axis=-1)


def qr_unpack(packed: Any, m: int) -> tuple[Any, Any]:
    """``(Q, R)`` from the packed output of :data:`qr_p` for an operand with ``m`` rows."""
    width = packed.shape[-1]
    return _T(_last(packed, 0, m)), _last(packed, m, width)


def _right_solve_upper(x: Any, r: Any) -> Any:
    """``x R^{-1}``, as ``(R^{-T} x^T)^T``."""
    return _T(solve(_T(r), _T(x)))


def _qr_square_jvp(dx: Any, q: Any, r: Any) -> tuple[Any, Any]:
    dx_ri = _right_solve_upper(dx, r)
    c = matmul(_T(q), dx_ri)
    low = _tri(c, -1)
    c_minus_omega = c - low + _T(low)
    return dx_ri - matmul(q, c_minus_omega), matmul(c_minus_omega, r)


def _qr_square_vjp(q_bar: Any, r_bar: Any, q: Any, r: Any) -> Any:
    qtqb = matmul(_T(q), q_bar)
    rbrt = matmul(r_bar, _T(r))
    mm = qtqb - rbrt
    c_bar = rbrt + _tri(mm - _T(mm), -1)
    g = q_bar + matmul(q, c_bar - qtqb)
    return _T(solve(r, _T(g)))  # g R^{-T}


def _qr_parts(out: Any, a: Any, complete: bool) -> tuple[Any, Any, int, int]:
    m, n = a.shape[-2], a.shape[-1]
    if complete and m > n:
        raise NotImplementedError(
            f"the derivative of qr(mode='complete') of a tall ({m}, {n}) matrix is not defined: the "
            "extra columns of Q are an arbitrary basis of a complement. Use mode='reduced'."
        )
    q, r = qr_unpack(out, m)
    return q, r, m, n


def _qr_jvp(t: Any, out: Any, a: Any, complete: bool) -> Any:
    q, r, m, n = _qr_parts(out, a, complete)
    if m >= n:
        dq, dr = _qr_square_jvp(t, q, r)
    else:
        dq, dr1 = _qr_square_jvp(_last(t, 0, m), q, _last(r, 0, m))
        y, dy = _last(a, m, n), _last(t, m, n)
        dr = concatenate(dr1, matmul(_T(dq), y) + matmul(_T(q), dy), axis=ndim_of(out) - 1)
    return concatenate(_T(dq), dr, axis=ndim_of(out) - 1)


def _qr_vjp(ct: Any, out: Any, a: Any, complete: bool) -> Any:
    q, r, m, n = _qr_parts(out, a, complete)
    q_bar, r_bar = qr_unpack(ct, m)
    if m >= n:
        return _qr_square_vjp(q_bar, r_bar, q, r)
    y, r_bar1, r_bar2 = _last(a, m, n), _last(r_bar, 0, m), _last(r_bar, m, n)
    x_bar = _qr_square_vjp(q_bar + matmul(y, _T(r_bar2)), r_bar1, q, _last(r, 0, m))
    return concatenate(x_bar, matmul(q, r_bar2), axis=ndim_of(ct) - 1)


def _qr_abstract(a: Any, complete: bool) -> ShapedArray:
    shape, dtype = _aval(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional")
    m, n = shape[-2:]
    rows = m if complete else min(m, n)
    return ShapedArray(shape[:-2] + (rows, m + n), _result_dtype(dtype))


qr_p = Primitive(
    "qr",
    _qr_impl,
    jvp=(_real_only("qr", _qr_jvp),),
    vjp=(_real_only("qr", _qr_vjp),),
    abstract_eval=_qr_abstract,
)
qr = qr_p.bind
qr_p.batch = _unary_batch(qr)


# --- slogdet ----------------------------------------------------------------------------------
# log|det A|: d = trace(A^{-1} dA) (a solve, not an inverse); Ā = ct A^{-T}.


def _logabsdet_jvp(t: Any, out: Any, a: Any) -> Any:
    return reduce_sum(_diag(solve(a, t)), axis=(ndim_of(out),), keepdims=False)


def _logabsdet_vjp(ct: Any, out: Any, a: Any) -> Any:
    n = a.shape[-1]
    inv_t = solve(_T(a), _eye(n, a.dtype))
    return _col(_col(ct)) * inv_t


def _det_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    _square(shape, "slogdet")
    return ShapedArray(shape[:-2], _result_dtype(dtype))


logabsdet_p = Primitive(
    "logabsdet",
    lambda a: np.linalg.slogdet(a)[1],
    jvp=(_logabsdet_jvp,),
    vjp=(_logabsdet_vjp,),
    abstract_eval=_det_abstract,
)
logabsdet = logabsdet_p.bind
logabsdet_p.batch = _unary_batch(logabsdet)

slogdet_sign_p = Primitive("slogdet_sign", lambda a: np.linalg.slogdet(a)[0], nondiff=True,
                           abstract_eval=_det_abstract)
slogdet_sign = slogdet_sign_p.bind
slogdet_sign_p.batch = _unary_batch(slogdet_sign)


# --- eig (no derivative) ----------------------------------------------------------------------
# The outputs of eig are complex. Its result is packed as a *real* array (real and imaginary
# parts of [w; V]) so that every differentiation trace, with or without complex support, sees a
# floating-point output and stops at the missing rules with a clear error instead of silently
# treating the result as a constant. The public wrapper assembles the complex arrays.


def _eig_impl(a: Any) -> np.ndarray:
    w, v = np.linalg.eig(a)
    packed = np.concatenate([np.asarray(w, np.result_type(w, 1j))[..., None, :], v.astype(np.result_type(v, 1j))],
                            axis=-2)
    return np.stack([packed.real, packed.imag], axis=-3)


def _eig_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    n = _square(shape, "eig")
    dt = _result_dtype(dtype)
    if dt.kind == "c":
        raise NotImplementedError("funcgrad.numpy.linalg.eig supports real matrices only")
    return ShapedArray(shape[:-2] + (2, n + 1, n), dt)


def _eig_no_derivative(*args: Any, **params: Any) -> Any:
    raise NotImplementedError(
        "funcgrad.numpy.linalg.eig (and eigvals) have no derivative: their outputs are complex. "
        "For a symmetric matrix use funcgrad.numpy.linalg.eigh (differentiable); otherwise wrap "
        "the operand in funcgrad.stop_gradient."
    )


eig_p = Primitive(
    "eig",
    _eig_impl,
    jvp=(_eig_no_derivative,),  # raises as soon as a tangent reaches eig
    vjp=None,  # the reverse trace raises when it records eig with a traced operand
    abstract_eval=_eig_abstract,
)
eig = eig_p.bind
eig_p.batch = _unary_batch(eig)
