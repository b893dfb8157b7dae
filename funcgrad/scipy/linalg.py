"""``funcgrad.scipy.linalg``: differentiable versions of SciPy's linear-algebra functions.

``solve_triangular``, ``solve_sylvester``, ``sqrtm``, ``solve_banded`` and ``expm`` are
primitives (declared with all their rules in :mod:`funcgrad.scipy._linalg_prims`); ``cholesky``,
``cho_factor``, ``cho_solve`` and ``expm_frechet`` are compositions, and so are ``solve``, ``inv``,
``det``, ``eigh``, ``svd``, ``qr`` (on :mod:`funcgrad.numpy.linalg`), ``block_diag`` and
``toeplitz``, with SciPy's signatures (as JAX's ``jax.scipy.linalg``). Values are SciPy's (the
primitives call SciPy); derivatives are exact (no finite differences), differentiable again, and
work under ``jit`` and ``vmap``. This module imports SciPy when a value is first computed;
``import funcgrad`` does not import it (import this module explicitly:
``import funcgrad.scipy.linalg``).

Conventions:

* Stacks of matrices ``(..., M, M)`` broadcast over their leading axes wherever SciPy >= 1.15
  accepts them; ``b`` is a vector when it is 1-d and a (stack of) matrices otherwise, as in SciPy.
* Triangular solves (and so ``cho_solve``) read one triangle of ``a``; the other triangle (and the
  diagonal with ``unit_diagonal=True``) has zero derivative. ``cho_factor`` returns SciPy's ``c``:
  the factor in one triangle and ``a``'s own entries in the other (whose derivative is the
  identity); ``cho_solve`` does not read them.
* ``solve_banded``: entries of ``ab`` outside the matrix (the corners SciPy marks ``*``) are not
  read and have zero derivative.
* ``sqrtm`` of a real matrix with a real principal square root is real. When SciPy returns a
  complex square root of a real matrix (a negative real eigenvalue), funcgrad does so too
  eagerly, but under ``jit`` the result type is fixed while tracing (real for real input): pass
  ``A.astype(complex)`` there. Its derivative needs ``X`` and ``-X`` to share no eigenvalue (``A``
  nonsingular).
* Complex inputs follow funcgrad's convention (vjp is the transpose of the jvp, no conjugation).
* ``overwrite_*`` and ``check_finite`` are accepted for compatibility: inputs are never
  overwritten, and SciPy checks finiteness as usual.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import Tracer
from ..numpy import linalg as _fla
from ..prims import shape as sh
from . import _linalg_prims as P

__all__ = ["solve_triangular", "cholesky", "cho_factor", "cho_solve", "sqrtm", "solve_sylvester", "solve_banded",
           "expm", "expm_frechet", "solve", "inv", "det", "eigh", "svd", "qr", "block_diag", "toeplitz"]

LinAlgError = np.linalg.LinAlgError


def _array(x: Any) -> Any:
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    return np.asarray(x)


def _complex(*xs: Any) -> bool:
    return any(x.dtype.kind == "c" for x in xs)


def _at_least_2d_square(a: Any, name: str, argname: str = "a") -> int:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected {argname} to be a square matrix (or a stack of square matrices "
                         f"(..., M, M)), got shape {tuple(a.shape)}")
    return a.shape[-1]


def _as_column(b: Any, n: int, name: str) -> tuple[Any, bool]:
    """A 1-d ``b`` becomes an ``(n, 1)`` column (and ``True``, to undo it on the result)."""
    if b.ndim == 0:
        raise ValueError(f"{name}: b must be at least 1-dimensional, got a 0-d array")
    if b.ndim == 1:
        if b.shape[0] != n:
            raise ValueError(f"{name}: shapes of a {(n, n)} and b {tuple(b.shape)} are incompatible")
        return sh.reshape(b, shape=(n, 1)), True
    if b.shape[-2] != n:
        raise ValueError(f"{name}: b has {b.shape[-2]} rows (shape {tuple(b.shape)}), but a is {n} x {n}")
    return b, False


def _drop_column(x: Any, vector: bool) -> Any:
    return sh.reshape(x, shape=x.shape[:-1]) if vector else x


_TRANS = {0: 0, "N": 0, "n": 0, 1: 1, "T": 1, "t": 1, 2: 2, "C": 2, "c": 2}


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """Differentiable ``scipy.linalg.solve_triangular``: ``x`` with ``op(a) x = b``.

    ``trans`` is 0/'N' (``a x = b``), 1/'T' (``a^T x = b``) or 2/'C' (``a^H x = b``). Only the
    ``lower`` (default: upper) triangle of ``a`` is read, without its diagonal if
    ``unit_diagonal``; the derivative with respect to ``a`` lives on that part. Derivatives are
    triangular solves: ``dx = op(a)^{-1}(db - op(da) x)``.

    >>> import numpy as np
    >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]), lower=True)
    array([1., 2.])
    """
    try:
        t = _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}") from None
    a, b = _array(a), _array(b)
    n = _at_least_2d_square(a, "solve_triangular")
    if t == 2 and not _complex(a):
        t = 1  # the conjugate transpose of a real matrix is its transpose
    b, vector = _as_column(b, n, "solve_triangular")
    x = P.solve_triangular(a, b, lower=bool(lower), trans=t, unit_diagonal=bool(unit_diagonal))
    return _drop_column(x, vector)


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """Differentiable ``scipy.linalg.cholesky``: the upper factor ``U`` (``a = U^H U``) by default,
    the lower ``L`` (``a = L L^H``) with ``lower=True``; the other triangle is zero. Only the
    corresponding triangle of ``a`` is read (funcgrad.numpy.linalg.cholesky's derivative).

    >>> import numpy as np
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 1.],
           [0., 2.]])
    """
    a = _array(a)
    _at_least_2d_square(a, "cholesky")
    return _fla.cholesky(a, upper=not lower)


def _strict_other_triangle(a: Any, lower: bool) -> Any:
    """``a``'s entries strictly inside the triangle that a factorisation does not use."""
    n = a.shape[-1]
    ones = np.ones((n, n), a.dtype)
    return a * (np.triu(ones, 1) if lower else np.tril(ones, -1))


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> tuple:
    """Differentiable ``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`.

    As in SciPy, ``c`` holds the Cholesky factor in its ``lower`` (default: upper) triangle and
    ``a``'s own entries in the other one (which :func:`cho_solve` ignores).

    >>> import numpy as np
    >>> c, low = cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> c
    array([[2., 1.],
           [2., 2.]])
    """
    a = _array(a)
    _at_least_2d_square(a, "cho_factor")
    lower = bool(lower)
    return cholesky(a, lower=lower) + _strict_other_triangle(a, lower), lower


def cho_solve(c_and_lower: tuple, b: Any, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """Differentiable ``scipy.linalg.cho_solve``: ``x`` with ``a x = b`` from ``(c, lower) =
    cho_factor(a)``, as two triangular solves (``L^{-H} L^{-1} b`` or ``U^{-1} U^{-H} b``).

    >>> import numpy as np
    >>> cho_solve(cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]])), np.array([6.0, 7.0]))
    array([1., 1.])
    """
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise TypeError("cho_solve: the first argument must be the pair (c, lower) returned by cho_factor") from None
    c, b = _array(c), _array(b)
    _at_least_2d_square(c, "cho_solve", "c")
    if lower:
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(c, y, lower=True, trans=2)
    y = solve_triangular(c, b, lower=False, trans=2)
    return solve_triangular(c, y, lower=False)


def sqrtm(A: Any) -> Any:
    """Differentiable ``scipy.linalg.sqrtm``: the principal square root ``X`` (``X @ X = A``).

    The derivative is the Fréchet derivative, which solves the Sylvester equation
    ``X dX + dX X = dA`` (with :func:`solve_sylvester`). See the module notes for real matrices
    whose square root is complex.

    >>> import numpy as np
    >>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[2., 0.],
           [0., 3.]])
    """
    A = _array(A)
    _at_least_2d_square(A, "sqrtm", "A")
    return P.sqrtm(A)


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """Differentiable ``scipy.linalg.solve_sylvester``: ``X`` with ``a X + X b = q``.

    Derivatives solve Sylvester equations again: ``dX = sylv(a, b, dq - da X - X db)`` and, in
    reverse mode, ``q̄ = sylv(a^T, b^T, X̄)``, ``ā = -q̄ X^T``, ``b̄ = -X^T q̄``.

    >>> import numpy as np
    >>> solve_sylvester(np.array([[1.0]]), np.array([[2.0]]), np.array([[6.0]]))
    array([[2.]])
    """
    a, b, q = _array(a), _array(b), _array(q)
    m = _at_least_2d_square(a, "solve_sylvester", "a")
    n = _at_least_2d_square(b, "solve_sylvester", "b")
    if q.ndim < 2 or tuple(q.shape[-2:]) != (m, n):
        raise ValueError(f"solve_sylvester: q must have shape (..., {m}, {n}) for a of shape {tuple(a.shape)} and "
                         f"b of shape {tuple(b.shape)}; got {tuple(q.shape)}")
    return P.solve_sylvester(a, b, q)


def solve_banded(l_and_u: tuple, ab: Any, b: Any, overwrite_ab: bool = False, overwrite_b: bool = False,
                 check_finite: bool = True) -> Any:
    """Differentiable ``scipy.linalg.solve_banded``: ``x`` with ``A x = b``, ``A`` stored as
    ``ab[u + i - j, j] == A[i, j]`` (``l`` lower and ``u`` upper diagonals).

    Derivatives are banded solves with ``A`` and with ``A^T`` (whose band is rearranged from
    ``ab``); the cotangent of ``ab`` is the band of ``-b̄ x^T``.

    >>> import numpy as np
    >>> ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])  # tridiagonal
    >>> solve_banded((1, 1), ab, np.array([5.0, 6.0, 5.0]))
    array([1., 1., 1.])
    """
    try:
        l, u = (operator.index(v) for v in l_and_u)
    except TypeError:
        raise TypeError(f"solve_banded: l_and_u must be a pair of integers (l, u), got {l_and_u!r}") from None
    if l < 0 or u < 0:
        raise ValueError(f"solve_banded: the numbers of diagonals must be non-negative, got (l, u) = {(l, u)}")
    ab, b = _array(ab), _array(b)
    if ab.ndim < 2:
        raise ValueError(f"solve_banded: ab must be at least 2-dimensional, got shape {tuple(ab.shape)}")
    if ab.shape[-2] != l + u + 1:
        raise ValueError(f"solve_banded: invalid values for the number of lower and upper diagonals: l+u+1 "
                         f"({l + u + 1}) does not equal ab.shape[-2] ({ab.shape[-2]})")
    b, vector = _as_column(b, ab.shape[-1], "solve_banded")
    return _drop_column(P.solve_banded(ab, b, l=l, u=u), vector)


def expm(A: Any) -> Any:
    """Differentiable ``scipy.linalg.expm``, the matrix exponential (stacks ``(..., M, M)`` too).

    The derivative is the Fréchet derivative ``L(A, E)``, computed as the top-right block of
    ``expm([[A, E], [0, A]])``; reverse mode uses ``L(A^T, ct)``.

    >>> import numpy as np
    >>> expm(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    A = _array(A)
    _at_least_2d_square(A, "expm", "A")
    return P.expm(A)


def expm_frechet(A: Any, E: Any, method: Any = None, compute_expm: bool = True, check_finite: bool = True) -> Any:
    """Differentiable ``scipy.linalg.expm_frechet``: ``(expm(A), L(A, E))`` (or ``L(A, E)`` alone with
    ``compute_expm=False``), both read off ``expm([[A, E], [0, A]])``. The values agree with SciPy's
    (a different algorithm) to rounding.

    >>> import numpy as np
    >>> expm_frechet(np.zeros((1, 1)), np.ones((1, 1)), compute_expm=False)
    array([[1.]])
    """
    A, E = _array(A), _array(E)
    _at_least_2d_square(A, "expm_frechet", "A")
    if tuple(E.shape) != tuple(A.shape):
        raise ValueError(f"expm_frechet: E must have A's shape {tuple(A.shape)}, got {tuple(E.shape)}")
    if method not in (None, "SPS", "blockEnlarge"):
        raise ValueError(f"expm_frechet: unknown method {method!r}")
    exp_a, frechet = P.expm_blocks(A, E)
    return (exp_a, frechet) if compute_expm else frechet


# --- SciPy's signatures on funcgrad.numpy.linalg (what jax.scipy.linalg offers) ----------------------

def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          debug: bool = False, check_finite: bool = True, assume_a: str = "gen") -> Any:
    """``x`` with ``a @ x = b``. ``assume_a="pos"`` solves by Cholesky (reading the ``lower`` or upper
    triangle of ``a``); ``"gen"``, ``"sym"`` and ``"her"`` by LU on the whole matrix (as JAX).

    >>> solve(np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([3.0, 5.0]), assume_a="pos")
    array([0.8, 1.4])
    """
    if assume_a not in ("gen", "sym", "her", "pos"):
        raise ValueError(f"solve: assume_a must be 'gen', 'sym', 'her' or 'pos', got {assume_a!r}.")
    if assume_a == "pos":
        return cho_solve(cho_factor(a, lower=lower), b)
    return _fla.solve(_array(a), _array(b))


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """The inverse of square ``a`` (:func:`funcgrad.numpy.linalg.inv`)."""
    return _fla.inv(_array(a))


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """The determinant of square ``a`` (:func:`funcgrad.numpy.linalg.det`)."""
    return _fla.det(_array(a))


def eigh(a: Any, b: Any = None, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals: Any = None, type: int = 1,
         check_finite: bool = True) -> Any:
    """Eigenvalues (ascending) and eigenvectors of Hermitian ``a`` from its ``lower`` (or upper)
    triangle: ``w`` alone with ``eigvals_only=True``, else ``(w, v)``. The generalized problem
    (``b``) and ``eigvals`` (a subset) are not supported.

    >>> eigh(np.array([[2.0, 1.0], [1.0, 2.0]]), eigvals_only=True)
    array([1., 3.])
    """
    if b is not None or eigvals is not None:
        raise NotImplementedError("eigh: the generalized problem (b=...) and eigvals=... are not supported; "
                                  "for b = L Lᵀ, solve with cholesky/solve_triangular and call eigh on the result.")
    w, v = _fla.eigh(_array(a), UPLO="L" if lower else "U")
    return w if eigvals_only else (w, v)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd") -> Any:
    """``(u, s, vh)`` (or ``s`` with ``compute_uv=False``) of ``a`` (:func:`funcgrad.numpy.linalg.svd`)."""
    out = _fla.svd(_array(a), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def qr(a: Any, overwrite_a: bool = False, lwork: Any = None, mode: str = "full", pivoting: bool = False,
       check_finite: bool = True) -> tuple:
    """``(q, r)`` of ``a`` with SciPy's modes: ``"full"`` (square ``q``), ``"economic"`` (reduced) or
    ``"r"`` (the tuple ``(r,)``, ``r`` as in ``"full"``). Column pivoting is not supported.

    >>> q, r = qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
    >>> np.allclose(q @ r, [[3.0, 1.0], [4.0, 2.0]])
    True
    """
    if pivoting:
        raise NotImplementedError("qr: pivoting=True is not supported.")
    modes = {"full": "complete", "economic": "reduced", "r": "complete"}  # SciPy's "r" is the full R
    if mode not in modes:
        raise ValueError(f"qr: mode must be 'full', 'economic' or 'r', got {mode!r}.")
    q, r = _fla.qr(_array(a), mode=modes[mode])
    return (r,) if mode == "r" else (q, r)


def block_diag(*arrs: Any) -> Any:
    """The block-diagonal matrix of ``arrs`` (scalars and vectors count as 1-row matrices).

    >>> block_diag(np.ones((1, 2)), 2.0)
    array([[1., 1., 0.],
           [0., 0., 2.]])
    """
    from .. import numpy as fnp

    if not arrs:
        return np.zeros((1, 0))
    blocks = [fnp.atleast_2d(_array(x)) for x in arrs]
    for x in blocks:
        if x.ndim != 2:
            raise ValueError(f"block_diag: arguments must have at most 2 dimensions, got one of shape {x.shape}.")
    total = sum(x.shape[1] for x in blocks)
    rows, start = [], 0
    for x in blocks:
        rows.append(fnp.pad(x, ((0, 0), (start, total - start - x.shape[1]))))
        start += x.shape[1]
    return fnp.concatenate(rows, axis=0)


def toeplitz(c: Any, r: Any = None) -> Any:
    """The Toeplitz matrix with first column ``c`` and first row ``r`` (``r[0]`` ignored; default
    ``conj(c)``), ``c`` and ``r`` flattened as SciPy does.

    >>> toeplitz(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0]))
    array([[1., 4.],
           [2., 1.],
           [3., 2.]])
    """
    from .. import numpy as fnp

    c = fnp.ravel(_array(c))
    r = fnp.conj(c) if r is None else fnp.ravel(_array(r))
    values = fnp.concatenate([c[::-1], r[1:]])
    rows, cols = np.arange(c.shape[0])[:, None], np.arange(r.shape[0])[None, :]
    return values[c.shape[0] - 1 - rows + cols]
