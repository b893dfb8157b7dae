"""Solvers and matrix decompositions: ``solve``, ``cholesky``, ``eigh``, ``svd``, ``qr``,
``logabsdet`` / ``slogdet_sign``, ``det`` / ``adjugate`` and ``eig``.

Operands are stacks of matrices ``(..., M, N)``; NumPy's linalg broadcasts over the leading axes,
so every batching rule only moves the batch axis to the front. Real (float32/float64) and complex
(complex64/complex128) dtypes are differentiated; rules are written with funcgrad operations
(matmul, solve, conj, where, ...), so they are differentiable again (higher order) and stageable
(jit). Complex rules follow JAX's convention: a vjp rule is the transpose of the jvp under the
pairing Re(sum(a * b)), without conjugation; where the mathematics has a conjugate transpose
(A = L L^H, V^H dS V, ...) the jvp has it, and the vjp gets conj() from transposing it.

**Several outputs, one primitive.** A primitive has one output, so a decomposition with several
returns its outputs *packed* in one array, and the public wrappers (funcgrad.numpy.linalg) unpack
them with getitem/reshape:

* ``eigh``  -> ``(..., n + 1, n)``: row 0 holds the eigenvalues ``w``, rows 1.. the eigenvectors ``V``
  (for a complex operand the row of (real) eigenvalues is stored complex; the wrapper takes its
  real part);
* ``svd``   -> ``(..., m*a + k + b*n)``: ``U.ravel()``, ``s``, ``Vh.ravel()`` on the last axis (``s``
  likewise stored complex for a complex operand);
* ``qr``    -> ``(..., r, m + n)``: ``Q^T`` then ``R`` along the last axis;
* ``eig``   -> ``(..., 2, n + 1, n)``: real and imaginary parts of ``[w; V]``.

Packing (rather than one primitive per output sharing the computation) runs the factorisation
once per forward pass, and the derivative rules, which need every output anyway (the derivative
of the eigenvalues needs the eigenvectors), read them from the primal output instead of
recomputing the decomposition. ``slogdet`` is the exception: its two outputs are computed by two
cheap primitives (``slogdet_sign`` and ``logabsdet``, always real: ``Re log det``). The sign of a
real matrix is locally constant; the public wrapper passes a real operand through
``stop_gradient``, so it stays non-differentiable. The sign of a complex matrix is a phase
``e^{i θ}`` with ``d sign = i Im(trace(A^{-1} dA)) sign``.

**Conventions.**

* ``cholesky`` and ``eigh`` read only one triangle of their operand (the lower one unless
  ``lower=False``), as NumPy does; the derivatives are those of that function: the other triangle
  gets a zero cotangent and its tangent has no effect. For complex operands the matrix is the
  Hermitian one that triangle stands for, and the imaginary part of the diagonal is ignored (as
  LAPACK does): it gets a zero cotangent too. Functions of a symmetric/Hermitian
  parametrisation (``K = X X^H + c I``) get their correct total derivatives through the chain rule.
* Gauges. Eigenvectors of ``eigh`` are defined up to a sign (real) or a phase (complex), singular
  vector pairs ``(u_i, v_i)`` up to a shared sign/phase. The rules choose the gauge
  ``Im diag(V^H dV) = 0`` (eigh) and ``diag(V^H dV) = 0`` with the phase put in ``U`` (svd): for real
  input this is exactly the derivative of the returned vectors; for complex input it is that
  derivative up to ``i dφ`` times each vector. Functions that do not depend on the phases
  (eigenvalues, singular values, ``|V_ij|^2``, projectors ``V_k V_k^H``, ``U diag(c) V^H``) have
  exact derivatives; others depend on LAPACK's arbitrary phase choice anyway.
* Eigenvector and singular-vector derivatives contain ``1 / (w_j - w_i)``
  (``1 / (s_j^2 - s_i^2)``): they are undefined for repeated eigenvalues (singular values). At
  exact ties the factor is replaced by 0, so derivatives of functions of eigenvalues or singular
  values alone stay correct there; derivatives that depend on the vectors are meaningless there.
* Singular-vector derivatives of a non-square matrix divide by the singular values; an exactly
  zero singular value contributes 0 there (its vector's complement derivative is undefined).
* ``svd(full_matrices=True)`` and ``qr(complete=True)`` of a non-square matrix are not
  differentiable (the extra columns are an arbitrary basis of a complement): their rules raise.
* ``eig`` (real or complex operand, distinct eigenvalues) has complex outputs, packed as a real
  array. Its eigenvector derivative includes that of NumPy's normalisation (unit 2-norm, largest-
  modulus component real), so it is the derivative of the vectors NumPy returns (undefined where
  two components tie for the largest modulus).
* ``qr``: R's diagonal is real (of either sign, LAPACK's choice); the factorisation is unique for
  that sign pattern, so Q and R have exact derivatives for complex input too.
* Derivatives use solves, never explicit inverses (``logabsdet``'s gradient *is* ``A^{-T}``,
  obtained by a solve against the identity).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._backend import as_array, numpy_constant_like
from ..core import Primitive
from ..ir.program import ShapedArray
from .elementwise import abs_p, conj, equal, imag, real, where
from .factories import batch_to_front, ndim_of
from .linalg import matmul
from .reductions import argmax_p, reduce_sum
from .shape import astype, concatenate, reshape, slice_axis, transpose

__all__ = ["solve", "cholesky", "eigh", "svd", "qr", "logabsdet", "slogdet_sign", "det", "adjugate", "eig"]


# --- helpers (funcgrad operations only, so that rules stay differentiable) ----------------------


def _T(x: Any) -> Any:
    """Swap the last two axes."""
    n = ndim_of(x)
    return transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _is_complex(x: Any) -> bool:
    return np.dtype(x.dtype).kind == "c"


def _H(x: Any) -> Any:
    """The conjugate transpose of each matrix (the transpose for real ``x``)."""
    return conj(_T(x)) if _is_complex(x) else _T(x)


def _cj(x: Any) -> Any:
    """``conj(x)``, skipped for real ``x``."""
    return conj(x) if _is_complex(x) else x


def _real_dtype(dtype: Any) -> np.dtype:
    """float64 for complex128 (float32 for complex64); a real dtype unchanged."""
    dtype = np.dtype(dtype)
    return np.dtype(np.finfo(dtype).dtype) if dtype.kind == "c" else dtype


def _as_dtype(x: Any, dtype: Any) -> Any:
    return x if np.dtype(x.dtype) == np.dtype(dtype) else astype(x, dtype=np.dtype(dtype))


def _j(dtype: Any) -> np.ndarray:
    """The imaginary unit as a 0-d array of the complex dtype matching ``dtype``. (A Python ``1j``
    times a 0-d float64 tangent, a ``float`` subclass, would give a Python ``complex``.)"""
    return np.asarray(1j, np.result_type(dtype, np.complex64))


def _i_imag(x: Any) -> Any:
    """``1j * imag(x)``, a map that is its own transpose under Re(sum(a * b))."""
    return imag(x) * _j(x.dtype)


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


def _eye(n: int, dtype: Any, like: Any = None) -> np.ndarray:
    """The identity, in the library of ``like`` (a Dask/CuPy array) when given."""
    return numpy_constant_like(np.eye(n, dtype=dtype), like)


def _diag(x: Any) -> Any:
    """The diagonal of each matrix, ``(..., n, n) -> (..., n)``."""
    return reduce_sum(x * _eye(x.shape[-1], x.dtype, x), axis=(ndim_of(x) - 1,), keepdims=False)


def _diag_embed(v: Any) -> Any:
    """``(..., n) -> (..., n, n)`` with ``v`` on the diagonal."""
    return _rowv(v) * _eye(v.shape[-1], v.dtype, v)


def _mask(n: int, k: int, lower: bool, dtype: Any, like: Any = None) -> np.ndarray:
    ones = np.ones((n, n), dtype)
    return numpy_constant_like(np.tril(ones, k) if lower else np.triu(ones, -k), like)


def _tri(x: Any, k: int = 0, lower: bool = True) -> Any:
    """``tril(x, k)`` (``lower``) or ``triu(x, -k)``: a constant mask, so it is linear and cheap."""
    return x * _mask(x.shape[-1], k, lower, x.dtype, x)


def _sym_from_triangle(t: Any, lower: bool) -> Any:
    """The symmetric (complex: Hermitian) matrix that one triangle of ``t`` stands for.

    For complex ``t`` the other triangle is the conjugate mirror and the imaginary part of the
    diagonal is ignored, as LAPACK's Hermitian routines (``zpotrf``, ``zheevd``) do."""
    if _is_complex(t):
        off = _tri(t, -1, lower)
        return off + _H(off) + _diag_embed(real(_diag(t)))
    return _tri(t, 0, lower) + _T(_tri(t, -1, lower))


def _triangle_cotangent(g: Any, lower: bool) -> Any:
    """Adjoint of :func:`_sym_from_triangle`: the cotangent of the triangle that is read (under
    the pairing Re(sum(a * b)): the adjoint of ``X -> X^H`` is ``G -> G^H``, that of the real
    part of the diagonal is the real part of the diagonal)."""
    if _is_complex(g):
        return _tri(g + _H(g), -1, lower) + _diag_embed(real(_diag(g)))
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


solve_p = Primitive(
    "solve",
    np.linalg.solve,
    jvp=(lambda t, out, a, b: -solve(a, matmul(t, out)), lambda t, out, a, b: solve(a, t)),
    vjp=(_solve_vjp_a, _solve_vjp_b),
    batch=_solve_batch,
    abstract_eval=_solve_abstract,
)
solve: Callable[..., Any] = solve_p.bind


def _unary_batch(prim_bind: Any) -> Any:
    def batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        return prim_bind(_front(args, dims), **params), 0

    return batch


# --- cholesky ---------------------------------------------------------------------------------
# A = L L^H, with A the Hermitian (real: symmetric) matrix read from the lower triangle; L has a
# real positive diagonal. dA = dL L^H + L dL^H, so with X = L^{-1} dA L^{-H} (Hermitian),
# L^{-1} dL + (L^{-1} dL)^H = X with L^{-1} dL lower triangular with a real diagonal:
# L^{-1} dL = Φ(X), Φ = the strictly lower triangle plus half the diagonal, and dL = L Φ(X).
# Reverse (transposes, no conjugation, of: M -> Y = L^{-1} M -> X = Y L^{-H} -> Φ(X) -> L Φ(X)):
# P = Φ(L^T L̄), M̄ = L^{-T} P conj(L)^{-1}, then Ā = the cotangent of the lower triangle.


def _phi(x: Any) -> Any:
    n = x.shape[-1]
    return x * (_mask(n, -1, True, x.dtype, x) + 0.5 * _eye(n, x.dtype, x))


def _cholesky_jvp(t: Any, out: Any, a: Any) -> Any:
    ds = _sym_from_triangle(t, True)
    y = solve(out, ds)  # L^{-1} dA
    x = _H(solve(out, _H(y)))  # Y L^{-H} = L^{-1} dA L^{-H}
    return matmul(out, _phi(x))


def _cholesky_vjp(ct: Any, out: Any, a: Any) -> Any:
    p = _phi(matmul(_T(out), ct))
    z = solve(_T(out), p)  # L^{-T} P
    s_bar = _T(solve(_T(_cj(out)), _T(z)))  # L^{-T} P conj(L)^{-1}
    return _triangle_cotangent(s_bar, True)


def _cholesky_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    _square(shape, "cholesky")
    return ShapedArray(shape, _result_dtype(dtype))


cholesky_p = Primitive(
    "cholesky",
    np.linalg.cholesky,
    jvp=(_cholesky_jvp,),
    vjp=(_cholesky_vjp,),
    abstract_eval=_cholesky_abstract,
    batch=_unary_batch(lambda *a, **p: cholesky(*a, **p)),
)
cholesky: Callable[..., Any] = cholesky_p.bind


# --- eigh -------------------------------------------------------------------------------------
# S = V diag(w) V^H (S Hermitian, read from one triangle; w real). With dP = V^H dS V (Hermitian)
# and F_ij = 1/(w_j - w_i): dw = Re diag(dP) and, off the diagonal, V^H dV = F ∘ dP. The diagonal
# of V^H dV is imaginary and arbitrary (each eigenvector's phase; for real S, its sign, is free):
# the rule takes it to be 0 (the "parallel transport" gauge), dV = V (F ∘ dP). That is the
# derivative of LAPACK's phase choice only up to such a phase: functions that do not depend on
# the phases (|V_ij|^2, projectors V_k V_k^H, the eigenvalues) have exact derivatives.
# Reverse: M̄ = conj(V) (diag(Re w̄) + F ∘ (V^T V̄)) V^T, then the cotangent of the triangle read.


def _eigh_impl(a: Any, lower: bool) -> np.ndarray:
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_split(out: Any) -> tuple[Any, Any]:
    """``(w, V)``; ``w`` real (a complex operand's packed output holds it as complex)."""
    n = out.shape[-1]
    w = _row(out, 0)
    return (real(w) if _is_complex(w) else w), _rows(out, 1, n + 1)


def _eigh_jvp(t: Any, out: Any, a: Any, lower: bool) -> Any:
    w, v = _eigh_split(out)
    dp = matmul(_H(v), matmul(_sym_from_triangle(t, lower), v))
    dw = _diag(dp)
    if _is_complex(dw):
        dw = _as_dtype(real(dw), out.dtype)
    dv = matmul(v, _gap_inverse(w) * dp)
    return concatenate(_rowv(dw), dv, axis=ndim_of(out) - 2)


def _eigh_vjp(ct: Any, out: Any, a: Any, lower: bool) -> Any:
    w, v = _eigh_split(out)
    w_bar, v_bar = _eigh_split(ct)
    inner = _diag_embed(w_bar) + _gap_inverse(w) * matmul(_T(v), v_bar)
    s_bar = matmul(_cj(v), matmul(inner, _T(v)))
    return _triangle_cotangent(s_bar, lower)


def _eigh_abstract(a: Any, lower: bool) -> ShapedArray:
    shape, dtype = _aval(a)
    n = _square(shape, "eigh")
    return ShapedArray(shape[:-2] + (n + 1, n), _result_dtype(dtype))


eigh_p = Primitive(
    "eigh",
    _eigh_impl,
    jvp=(_eigh_jvp,),
    vjp=(_eigh_vjp,),
    abstract_eval=_eigh_abstract,
    batch=_unary_batch(lambda *a, **p: eigh(*a, **p)),
)
eigh: Callable[..., Any] = eigh_p.bind


# --- svd --------------------------------------------------------------------------------------
# A = U diag(s) V^H (reduced: k = min(m, n) columns; NumPy returns Vh = V^H). With
# dP = U^H dA V, F_ij = 1/(s_j^2 - s_i^2), and the skew-Hermitian ΩU = U^H dU, ΩV = V^H dV:
# dP = ΩU S + dS - S ΩV, hence
#   ds = Re diag(dP)
#   off-diagonal: ΩU = F ∘ (dP S + S dP^H),  ΩV = F ∘ (S dP + dP^H S)
#   diagonal: only ΩU_ii - ΩV_ii = i Im(dP_ii) / s_i is determined (a phase shared by u_i and v_i;
#   zero for real A). The rule puts it in U: ΩU_ii = i Im(dP_ii) / s_i, ΩV_ii = 0.
#   dU = U ΩU + (I - U U^H) dA V S^{-1}        (second term only if m > k)
#   dV = V ΩV + (I - V V^H) dA^H U S^{-1}      (second term only if n > k)
# Functions invariant under the shared phase (s, U diag(c) V^H, |U_ij|^2) have exact derivatives.
# Reverse (transposes without conjugation), with G = U^T Ū, E = V^T V̄, V̄ = Ū's analogue for V
# (the cotangent of V is (V̄h)^H), J = F ∘ G, K = F ∘ E:
#   dP̄ = diag(Re s̄) + (J + J^H) S + S (K + K^H) + diag(i Im(G_ii) / s_i)
#   Ā = conj(U) dP̄ V^T + (Ū - conj(U) G) S^{-1} V^T + conj(U) S^{-1} (V̄h - V̄h conj(V) V^T)


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
    """``(U, s, Vh)`` from the packed output of :data:`svd_p` for an ``(m, n)`` operand (``s`` has
    the packed dtype: complex, with a zero imaginary part, for a complex operand)."""
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
    if _is_complex(s):
        s = real(s)
    return u, s, vh, m, n, min(m, n)


def _svd_jvp(t: Any, out: Any, a: Any, full_matrices: bool) -> Any:
    u, s, vh, m, n, k = _svd_parts(out, a, full_matrices, "derivative")
    v = _H(vh)
    s_row, s_col = _rowv(s), _col(s)
    tv = matmul(t, v)
    dp = matmul(_H(u), tv)
    f = _gap_inverse(s, squared=True)
    du = matmul(u, f * (dp * s_row + s_col * _H(dp)))
    dv = matmul(v, f * (s_col * dp + _H(dp) * s_row))
    ds = _diag(dp)
    if _is_complex(dp):
        du = du + u * _rowv(_i_imag(ds) * _safe_reciprocal(s))  # the shared phase, put in U
        ds = _as_dtype(real(ds), out.dtype)
    if m > k:
        du = du + (tv - matmul(u, dp)) * _rowv(_safe_reciprocal(s))
    if n > k:
        ttu = matmul(_H(t), u)
        du_v = (ttu - matmul(v, _H(dp))) * _rowv(_safe_reciprocal(s))
        dv = dv + du_v
    return _svd_pack(du, ds, _H(dv))


def _svd_vjp(ct: Any, out: Any, a: Any, full_matrices: bool) -> Any:
    u, s, vh, m, n, k = _svd_parts(out, a, full_matrices, "derivative")
    u_bar, s_bar, vh_bar = svd_unpack(ct, m, n, full_matrices)
    cplx = _is_complex(u)
    if _is_complex(s_bar):
        s_bar = real(s_bar)
    v, v_bar = _H(vh), _H(vh_bar)
    s_row, s_col = _rowv(s), _col(s)
    f = _gap_inverse(s, squared=True)
    utub = matmul(_T(u), u_bar)
    vtvb = matmul(_T(v), v_bar)
    j = f * utub
    kk = f * vtvb
    core = _diag_embed(s_bar) + (j + _H(j)) * s_row + s_col * (kk + _H(kk))
    if cplx:
        core = core + _diag_embed(_i_imag(_diag(utub)) * _safe_reciprocal(s))
    u_c, vh_c = _cj(u), _cj(vh)  # conj(U), V^T
    g = matmul(u_c, matmul(core, vh_c))
    if m > k:
        g = g + matmul((u_bar - matmul(u_c, utub)) * _rowv(_safe_reciprocal(s)), vh_c)
    if n > k:
        g = g + matmul(u_c, _col(_safe_reciprocal(s)) * (vh_bar - matmul(matmul(vh_bar, _cj(v)), vh_c)))
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
    jvp=(_svd_jvp,),
    vjp=(_svd_vjp,),
    abstract_eval=_svd_abstract,
    batch=_unary_batch(lambda *a, **p: svd(*a, **p)),
)
svd: Callable[..., Any] = svd_p.bind


# --- qr ---------------------------------------------------------------------------------------
# A = Q R with R's diagonal real (LAPACK's Householder QR makes it real, of either sign; for a
# given sign pattern the factorisation is unique, so there is no gauge). For m >= n (R square,
# invertible): C = Q^H dA R^{-1} = Ω + dR R^{-1} with Ω = Q^H dQ skew-Hermitian and dR R^{-1}
# upper triangular with a real diagonal, so with L the strictly lower triangle of C:
# Ω = L - L^H + i Im(diag C),  dR = (C - Ω) R,  dQ = dA R^{-1} - Q (C - Ω).
# Reverse (transposes without conjugation): M = Q^T Q̄ - R̄ R^T,
# C̄ = tril(M - M^H, -1) - M + i Im(diag M),  Ā = (Q̄ + conj(Q) C̄) R^{-T}.
# For m < n, A = [X Y] with X = Q R1 square and R2 = Q^H Y: the square rule for X, then
# dR2 = dQ^H Y + Q^H dY;  reverse: Ȳ = conj(Q) R̄2 and X's rule with Q̄ + conj(Y) R̄2^H.


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
    c = matmul(_H(q), dx_ri)
    low = _tri(c, -1)
    c_minus_omega = c - low + _H(low)
    if _is_complex(c):
        c_minus_omega = c_minus_omega - _diag_embed(_i_imag(_diag(c)))
    return dx_ri - matmul(q, c_minus_omega), matmul(c_minus_omega, r)


def _qr_square_vjp(q_bar: Any, r_bar: Any, q: Any, r: Any) -> Any:
    qtqb = matmul(_T(q), q_bar)
    rbrt = matmul(r_bar, _T(r))
    mm = qtqb - rbrt
    c_bar = rbrt + _tri(mm - _H(mm), -1)
    inner = c_bar - qtqb  # = C̄ of the comment above
    if _is_complex(mm):
        inner = inner + _diag_embed(_i_imag(_diag(mm)))
    g = q_bar + matmul(_cj(q), inner)
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
        dr = concatenate(dr1, matmul(_H(dq), y) + matmul(_H(q), dy), axis=ndim_of(out) - 1)
    return concatenate(_T(dq), dr, axis=ndim_of(out) - 1)


def _qr_vjp(ct: Any, out: Any, a: Any, complete: bool) -> Any:
    q, r, m, n = _qr_parts(out, a, complete)
    q_bar, r_bar = qr_unpack(ct, m)
    if m >= n:
        return _qr_square_vjp(q_bar, r_bar, q, r)
    y, r_bar1, r_bar2 = _last(a, m, n), _last(r_bar, 0, m), _last(r_bar, m, n)
    x_bar = _qr_square_vjp(q_bar + matmul(_cj(y), _H(r_bar2)), r_bar1, q, _last(r, 0, m))
    return concatenate(x_bar, matmul(_cj(q), r_bar2), axis=ndim_of(ct) - 1)


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
    jvp=(_qr_jvp,),
    vjp=(_qr_vjp,),
    abstract_eval=_qr_abstract,
    batch=_unary_batch(lambda *a, **p: qr(*a, **p)),
)
qr: Callable[..., Any] = qr_p.bind


# --- slogdet ----------------------------------------------------------------------------------
# d log det A = c = trace(A^{-1} dA) (a solve, not an inverse), complex for complex A.
# logabsdet = Re log det (a real output for any A): d = Re c; Ā = ct A^{-T} (ct is real, and
# the transpose of t -> Re trace(M t) is ct -> ct M^T). For real A, sign = ±1 is locally
# constant. For complex A, sign = e^{i θ} with dθ = Im c: d sign = i Im(c) sign, and
# Ā = -i Re(i sign ct) A^{-T} (zero for real A, where the rule reduces to 0).


def _trace_solve(a: Any, t: Any) -> Any:
    """``trace(A^{-1} t)`` for each matrix of the stack."""
    return reduce_sum(_diag(solve(a, t)), axis=(ndim_of(a) - 2,), keepdims=False)


def _inv_T(a: Any) -> Any:
    return solve(_T(a), _eye(a.shape[-1], a.dtype, a))


def _logabsdet_jvp(t: Any, out: Any, a: Any) -> Any:
    c = _trace_solve(a, t)
    return real(c) if _is_complex(c) else c


def _logabsdet_vjp(ct: Any, out: Any, a: Any) -> Any:
    return _col(_col(ct)) * _inv_T(a)


def _det_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    _square(shape, "slogdet")
    return ShapedArray(shape[:-2], _result_dtype(dtype))


def _logabsdet_abstract(a: Any) -> ShapedArray:
    out = _det_abstract(a)
    return ShapedArray(out.shape, _real_dtype(out.dtype))


logabsdet_p = Primitive(
    "logabsdet",
    lambda a: np.linalg.slogdet(a)[1],
    jvp=(_logabsdet_jvp,),
    vjp=(_logabsdet_vjp,),
    abstract_eval=_logabsdet_abstract,
    batch=_unary_batch(lambda *a, **p: logabsdet(*a, **p)),
)
logabsdet: Callable[..., Any] = logabsdet_p.bind


def _sign_jvp(t: Any, out: Any, a: Any) -> Any:
    return out * _i_imag(_trace_solve(a, t))


def _sign_vjp(ct: Any, out: Any, a: Any) -> Any:
    r = real(out * ct * _j(out.dtype))
    return _col(_col(-r * _j(r.dtype))) * _inv_T(a)


# The public wrapper (funcgrad.numpy.linalg.slogdet) passes a real operand through stop_gradient,
# so the sign of a real matrix stays non-differentiable there (its derivative is 0 anyway).
slogdet_sign_p = Primitive("slogdet_sign", lambda a: np.linalg.slogdet(a)[0],
                           jvp=(_sign_jvp,), vjp=(_sign_vjp,), abstract_eval=_det_abstract,
                           batch=_unary_batch(lambda *a, **p: slogdet_sign(*a, **p)))
slogdet_sign: Callable[..., Any] = slogdet_sign_p.bind


# --- det and the adjugate ---------------------------------------------------------------------
# d det A = trace(adj(A) dA), and adj(A) (the transposed cofactor matrix, det(A) A^{-1} when A is
# invertible) is defined for every A: computed from an SVD, A = U S V^H gives
# adj(A) = det(U) det(V^H) V diag(prod_{j != i} s_j) U^H (products of the other singular values,
# no division), so det's first derivative is right at singular matrices too. The adjugate's own
# derivative, d adj = adj (trace(A^{-1} dA) I - dA A^{-1}), uses solves: second derivatives of det
# raise LinAlgError at a singular matrix.


def _other_products(s: np.ndarray) -> np.ndarray:
    """For each entry of the last axis, the product of the others (no division)."""
    ones = np.ones_like(s, shape=s.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return before * after


def _adjugate_impl(a: Any) -> np.ndarray:
    a = as_array(a)
    dtype = _result_dtype(a.dtype)
    a = a.astype(dtype, copy=False)
    n = a.shape[-1]
    if n == 0:
        return np.zeros_like(a, shape=a.shape, dtype=dtype)
    u, s, vh = np.linalg.svd(a)
    phase = np.linalg.det(u) * np.linalg.det(vh)
    e = _other_products(s).astype(dtype)
    adj = np.matmul(np.conj(np.swapaxes(vh, -1, -2)) * e[..., None, :], np.conj(np.swapaxes(u, -1, -2)))
    return (phase[..., None, None] * adj).astype(dtype, copy=False)


def _adjugate_jvp(t: Any, out: Any, a: Any) -> Any:
    t_ainv = _T(solve(_T(a), _T(t)))  # dA A^{-1}
    return out * _col(_col(_trace_solve(a, t))) - matmul(out, t_ainv)


def _adjugate_vjp(ct: Any, out: Any, a: Any) -> Any:
    # The transpose of the jvp (no conjugation): (sum(ct * adj) I - adj^T ct) A^{-T}.
    n = a.shape[-1]
    total = reduce_sum(ct * out, axis=(ndim_of(ct) - 2, ndim_of(ct) - 1), keepdims=True)
    return matmul(total * _eye(n, out.dtype, out) - matmul(_T(out), ct), _inv_T(a))


def _adjugate_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    _square(shape, "adjugate")
    return ShapedArray(shape, _result_dtype(dtype))


adjugate_p = Primitive(
    "adjugate",
    _adjugate_impl,
    jvp=(_adjugate_jvp,),
    vjp=(_adjugate_vjp,),
    abstract_eval=_adjugate_abstract,
    batch=_unary_batch(lambda *a, **p: adjugate(*a, **p)),
)
adjugate: Callable[..., Any] = adjugate_p.bind


def _det_jvp(t: Any, out: Any, a: Any) -> Any:
    return reduce_sum(_T(adjugate(a)) * t, axis=(ndim_of(t) - 2, ndim_of(t) - 1), keepdims=False)


def _det_vjp(ct: Any, out: Any, a: Any) -> Any:
    return _col(_col(ct)) * _T(adjugate(a))


det_p = Primitive(
    "det",
    lambda a: np.linalg.det(a),
    jvp=(_det_jvp,),
    vjp=(_det_vjp,),
    abstract_eval=lambda a: _det_abstract(a),
    batch=_unary_batch(lambda *a, **p: det(*a, **p)),
)
det: Callable[..., Any] = det_p.bind


# --- eig --------------------------------------------------------------------------------------
# The outputs of eig are complex, for real input too. The result is packed as a *real* array
# (real and imaginary parts of [w; V] on a new axis -3), so that its dtype does not depend on the
# values; the public wrapper assembles the complex arrays. Under the pairing Re(sum(a * b)) the
# packed cotangent (ct_re, ct_im) is the complex cotangent ct_re - i ct_im of [w; V].
#
# A V = V diag(w), eigenvalues distinct. With dP = V^{-1} dA V (a solve) and F_ij = 1/(w_j - w_i):
# dw = diag(dP) and V^{-1} dV = F ∘ dP + diag(α), where α (each column's scale) is fixed by
# LAPACK's normalisation of the eigenvectors: unit 2-norm and the largest-modulus component k real
# (geev: real positive for complex input, real for real input). Writing dV0 = V (F ∘ dP):
#   Re(v^H dv) = 0     ->  Re α = -Re(v^H dv0)
#   Im(dv_k) = 0       ->  Im α = -Im(dv0_k / v_k)
# so the rule is the derivative of the eigenvectors NumPy returns (away from ties in |v_k|).
# Reverse: with Ḡ the cotangent of V, ā = sum(V ∘ Ḡ, axis=0) (per column),
#   dV̄0 = Ḡ - conj(V) Re(ā) - i (e_k / v_k) Im(ā),  dP̄ = diag(w̄) + F ∘ (V^T dV̄0),
#   Ā = V^{-T} dP̄ V^T (a solve).


def _eig_impl(a: Any) -> np.ndarray:
    w, v = np.linalg.eig(a)
    packed = np.concatenate([np.asarray(w, np.result_type(w, 1j))[..., None, :], v.astype(np.result_type(v, 1j))],
                            axis=-2)
    return np.stack([packed.real, packed.imag], axis=-3)


def _eig_abstract(a: Any) -> ShapedArray:
    shape, dtype = _aval(a)
    n = _square(shape, "eig")
    return ShapedArray(shape[:-2] + (2, n + 1, n), _real_dtype(_result_dtype(dtype)))


def _eig_part(packed: Any, i: int) -> Any:
    p = slice_axis(packed, ndim_of(packed) - 3, i, i + 1)
    return reshape(p, shape=p.shape[:-3] + p.shape[-2:])


def _eig_unpack(packed: Any) -> tuple[Any, Any]:
    """``(w, V)``, complex, from the packed (real) output."""
    im = _eig_part(packed, 1)
    y = _eig_part(packed, 0) + im * _j(im.dtype)
    n = y.shape[-1]
    return _row(y, 0), _rows(y, 1, n + 1)


def _eig_pack(dw: Any, dv: Any, like: Any) -> Any:
    y = concatenate(_rowv(dw), dv, axis=ndim_of(dv) - 2)
    shape = y.shape[:-2] + (1,) + y.shape[-2:]
    parts = [_as_dtype(reshape(part, shape=shape), like.dtype) for part in (real(y), imag(y))]
    return concatenate(*parts, axis=ndim_of(like) - 3)


def _eig_largest(v: Any) -> tuple[Any, Any]:
    """The one-hot indicator of each column's first largest-modulus component, and that component."""
    n, nd = v.shape[-1], ndim_of(v)
    k = argmax_p.bind(abs_p.bind(v), axis=nd - 2, keepdims=True)
    onehot = astype(equal(k, np.arange(n).reshape(n, 1)), dtype=_real_dtype(v.dtype))
    return onehot, reduce_sum(onehot * v, axis=(nd - 2,), keepdims=True)


def _eig_jvp(t: Any, out: Any, a: Any) -> Any:
    w, v = _eig_unpack(out)
    dp = solve(v, matmul(t, v))  # V^{-1} dA V
    dv0 = matmul(v, _gap_inverse(w) * dp)
    onehot, vk = _eig_largest(v)
    nd = ndim_of(v)
    alpha = (-real(reduce_sum(conj(v) * dv0, axis=(nd - 2,), keepdims=True))
             - _i_imag(reduce_sum(onehot * dv0, axis=(nd - 2,), keepdims=True) / vk))
    return _eig_pack(_diag(dp), dv0 + v * alpha, out)


def _eig_vjp(ct: Any, out: Any, a: Any) -> Any:
    w, v = _eig_unpack(out)
    im = _eig_part(ct, 1)
    y_bar = _eig_part(ct, 0) - im * _j(im.dtype)
    n, nd = y_bar.shape[-1], ndim_of(y_bar)
    w_bar, v_bar = _row(y_bar, 0), _rows(y_bar, 1, n + 1)
    onehot, vk = _eig_largest(v)
    a_bar = reduce_sum(v * v_bar, axis=(nd - 2,), keepdims=True)
    dv0_bar = v_bar - conj(v) * real(a_bar) - (onehot / vk) * _i_imag(a_bar)
    dp_bar = _diag_embed(w_bar) + _gap_inverse(w) * matmul(_T(v), dv0_bar)
    return solve(_T(v), matmul(dp_bar, _T(v)))  # V^{-T} dP̄ V^T


eig_p = Primitive(
    "eig",
    _eig_impl,
    jvp=(_eig_jvp,),
    vjp=(_eig_vjp,),
    abstract_eval=_eig_abstract,
    batch=_unary_batch(lambda *a, **p: eig(*a, **p)),
)
eig: Callable[..., Any] = eig_p.bind
