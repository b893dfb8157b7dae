"""The implementation of :mod:`funcgrad.numpy.linalg` (whose docstring states the conventions).

The public module re-exports exactly NumPy's names from here; the helpers stay private.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from .._backend import numpy_constant_like
from ..core import Tracer
from ..prims import decompositions as dec
from ..prims import elementwise as ew
from ..prims import linalg as la
from ..prims import shape as sh
from . import reductions as red
from ._util import as_array, normalize_axes

__all__ = ["norm", "solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "eig", "eigvals", "svd",
           "svdvals", "qr", "pinv", "matrix_power", "lstsq", "multi_dot", "matrix_transpose", "cond",
           "matrix_rank", "matrix_norm", "vector_norm"]

LinAlgError = np.linalg.LinAlgError


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class EigResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    Q: Any
    R: Any


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


def _vector_norm(x: Any, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return la.l2norm(x, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return red.max(ew.abs_p.bind(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return red.min(ew.abs_p.bind(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return red.sum(ew.not_equal_p.bind(x, 0), axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return red.sum(ew.abs_p.bind(x), axis=axis, keepdims=keepdims)
    # General p: (sum |x|^p)^(1/p), with value and derivative 0 (not NaN) where x is all zeros:
    # those groups are replaced by ones before the power, whose derivative at 0 is infinite for
    # p < 1 (and the result by 0 after), so no inf * 0 reaches the derivative.
    zero = red.all(ew.equal(x, 0.0), axis=axis, keepdims=True)
    s = red.sum(ew.power(ew.where(zero, 1.0, ew.abs_p.bind(x)), ord), axis=axis, keepdims=keepdims)
    return ew.where(zero if keepdims else red.all(zero, axis=axis), 0.0, ew.power(s, 1.0 / ord))


def _matrix_norm(x: Any, ord: Any, axis: tuple[int, int], keepdims: bool) -> Any:
    row, col = axis
    if ord is None or ord == "fro":
        return la.l2norm(x, axis=axis, keepdims=keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        summed_axis, reduce_axis = (row, col) if ord in (1, -1) else (col, row)
        col_sums = red.sum(ew.abs_p.bind(x), axis=summed_axis, keepdims=True)
        pick = red.max if ord in (1, np.inf) else red.min
        out = pick(col_sums, axis=reduce_axis, keepdims=True)
        return out if keepdims else red.sum(out, axis=axis)
    if ord in ("nuc", 2, -2):
        # Singular values of the matrices spanned by (row, col), moved to the last two axes.
        rest = [d for d in range(x.ndim) if d not in (row, col)]
        moved = sh.transpose(x, axes=tuple(rest) + (row, col)) if rest + [row, col] != list(range(x.ndim)) else x
        # Gradient 0 at the zero matrix (a subgradient), as for the other orders: zero matrices
        # are swapped for the identity before the SVD, and their norm set to 0.
        zero = red.all(ew.equal(moved, 0.0), axis=(moved.ndim - 2, moved.ndim - 1))
        eye = np.eye(moved.shape[-2], moved.shape[-1], dtype=moved.dtype)
        safe = ew.where(sh.reshape(zero, shape=zero.shape + (1, 1)), eye, moved)
        s = svd(safe, compute_uv=False)
        last = (s.ndim - 1,)
        out = red.sum(s, axis=last) if ord == "nuc" else (red.max if ord == 2 else red.min)(s, axis=last)
        out = ew.where(zero, 0.0, out)
        if keepdims:
            out = sh.reshape(out, shape=tuple(1 if d in (row, col) else n for d, n in enumerate(x.shape)))
        return out
    raise ValueError("Invalid norm order for matrices.")


_TOTAL_NORM = {"axis": None, "keepdims": False}  # shared by every such call (parameters are never mutated)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Differentiable ``numpy.linalg.norm``; the gradient at ``x = 0`` is 0 (a subgradient).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.norm(np.array([3.0, 4.0]))
    np.float64(5.0)
    """
    if ord is None and axis is None and keepdims is False and isinstance(x, Tracer):
        trace = x._trace  # norm(y) of a traced float array (a loop's condition): bind's work, done here
        if trace.alive and x.dtype.kind in "fc":
            return trace.process(la.l2norm_p, (x,), _TOTAL_NORM)
    x = as_array(x)
    if x.dtype.kind in "iub":
        x = x.astype(np.float64)
    if axis is None:
        if ord is None:
            return la.l2norm(x, axis=None, keepdims=keepdims)
        if x.ndim == 1:
            return _vector_norm(x, ord, (0,), keepdims)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError("Improper number of dimensions to norm.")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axes(axes, x.ndim), keepdims)
    if len(axes) == 2:
        a, b = (int(v) % x.ndim for v in axes)
        if a == b:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, (a, b), keepdims)
    raise ValueError("Improper number of dimensions to norm.")


# --- helpers ------------------------------------------------------------------------------------


def _linalg_array(a: Any) -> Any:
    """An array or tracer; integers and booleans become float64, as NumPy's linalg does."""
    a = as_array(a)
    if a.dtype.kind in "iub":
        a = sh.astype(a, dtype=np.dtype(np.float64)) if isinstance(a, Tracer) else a.astype(np.float64)
    return a


def _at_least_2d(a: Any) -> None:
    if a.ndim < 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")


def _square(a: Any) -> int:
    _at_least_2d(a)
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    return a.shape[-1]


def _swap(a: Any) -> Any:
    n = a.ndim
    return sh.transpose(a, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _adjoint(a: Any) -> Any:
    """The conjugate transpose of each matrix (the transpose of a real one)."""
    return ew.conj(_swap(a)) if np.dtype(a.dtype).kind == "c" else _swap(a)


def _squared_norms(r: Any, axis: int) -> Any:
    """``sum(|r|**2)`` along ``axis``: real, also for complex ``r``."""
    return red.sum(ew.real(ew.conj(r) * r) if np.dtype(r.dtype).kind == "c" else r * r, axis=axis)


def _eye_like(a: Any, n: int) -> np.ndarray:
    return numpy_constant_like(np.eye(n, dtype=a.dtype), a)  # in a's library (Dask, CuPy)


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, Tracer)


# --- solvers and inverses -----------------------------------------------------------------------


def solve(a: Any, b: Any) -> Any:
    """Differentiable ``numpy.linalg.solve``: ``x`` with ``a @ x = b``, over stacks of matrices.

    As in NumPy 2, ``b`` is a vector when it is 1-d and a stack of matrices ``(..., M, K)`` otherwise.
    Derivatives: ``dx = a^{-1}(db - da x)``, computed with solves.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    array([1. , 0.5])
    """
    a, b = _linalg_array(a), _linalg_array(b)
    n = _square(a)
    if b.ndim == 1:
        if b.shape[0] != n:
            raise ValueError(f"solve: b has {b.shape[0]} rows, but a is {n} x {n}")
        x = dec.solve(a, sh.reshape(b, shape=(n, 1)))
        return sh.reshape(x, shape=x.shape[:-1])
    return dec.solve(a, b)


def inv(a: Any) -> Any:
    """Differentiable ``numpy.linalg.inv``, computed (like NumPy) as ``solve(a, I)``; its derivative
    ``-a^{-1} da a^{-1}`` uses solves.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    a = _linalg_array(a)
    return dec.solve(a, _eye_like(a, _square(a)))


def slogdet(a: Any) -> SlogdetResult:
    """Differentiable ``numpy.linalg.slogdet``: ``(sign, logabsdet)`` with ``logabsdet = Re log det a``
    and ``d logabsdet = Re trace(a^{-1} da)`` (a solve).

    For a real ``a`` the sign is ±1 and has no derivative. For a complex ``a`` it is the phase
    ``det a / |det a|``, and differentiable: ``d sign = i Im(trace(a^{-1} da)) sign``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.slogdet(np.array([[0.0, 2.0], [3.0, 0.0]]))
    SlogdetResult(sign=np.float64(-1.0), logabsdet=np.float64(1.791759469228055))
    """
    a = _linalg_array(a)
    _square(a)
    # A real matrix's sign is locally constant: it carries no derivative (stop_gradient keeps it
    # out of the differentiation traces). A complex matrix's sign is a differentiable phase.
    sign_operand = sh.stop_gradient(a) if isinstance(a, Tracer) and a.dtype.kind != "c" else a
    return SlogdetResult(dec.slogdet_sign(sign_operand), dec.logabsdet(a))


def det(a: Any) -> Any:
    """Differentiable ``numpy.linalg.det``. Its derivative is the adjugate (transposed):
    ``d det = trace(adj(a) da)``, computed from an SVD without inverting ``a``, so it is defined
    at singular matrices too (second derivatives there raise ``LinAlgError``).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> float(fnp.linalg.det(np.array([[0.0, 2.0], [3.0, 0.0]])))
    -6.0
    >>> fg.grad(fnp.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    a = _linalg_array(a)
    _square(a)
    return dec.det(a)


def matrix_power(a: Any, n: int) -> Any:
    """Differentiable ``numpy.linalg.matrix_power``: repeated matmul (binary powering); negative
    powers go through :func:`inv`.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
    array([[1., 3.],
           [0., 1.]])
    """
    a = as_array(a)
    k = _square(a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if n == 0:
        return np.broadcast_to(np.eye(k, dtype=a.dtype), a.shape).copy()
    if n < 0:
        a = inv(a)
        n = -n
    result = z = None
    while n > 0:
        z = a if z is None else la.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else la.matmul(result, z)
    return result


def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """Differentiable ``numpy.linalg.multi_dot`` (the product is taken left to right).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.multi_dot([np.ones(2), np.eye(2), np.ones(2)])
    np.float64(2.0)
    """
    if out is not None:
        raise TypeError("funcgrad.numpy.linalg.multi_dot does not support out=; use the return value.")
    arrays = [as_array(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    for i, x in enumerate(arrays):
        want = (1, 2) if i in (0, len(arrays) - 1) else (2,)
        if x.ndim not in want:
            raise ValueError(f"{x.ndim}-dimensional array given. Array must be two-dimensional")
    result = arrays[0]
    for x in arrays[1:]:
        result = la.matmul(result, x)
    return result


def matrix_transpose(x: Any) -> Any:
    """``numpy.linalg.matrix_transpose``: swap the last two axes."""
    x = as_array(x)
    if x.ndim < 2:
        raise ValueError(f"Input array must be at least 2-dimensional, but it is {x.ndim}")
    return _swap(x)


# --- decompositions -----------------------------------------------------------------------------


def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """Differentiable ``numpy.linalg.cholesky``: ``L`` with ``a = L L^H`` (or ``U`` with ``a = U^H U``).

    Only the lower (``upper=True``: upper) triangle of ``a`` is read, as in NumPy; the other triangle
    has zero derivative. Derivative: ``dL = L Φ(L^{-1} dA L^{-H})`` with solves.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 0.],
           [1., 2.]])
    """
    a = _linalg_array(a)
    _square(a)
    if upper:
        return _swap(dec.cholesky(_swap(a)))
    return dec.cholesky(a)


def _uplo(UPLO: str) -> bool:
    u = str(UPLO).upper()
    if u not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return u == "L"


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Differentiable ``numpy.linalg.eigh``: ``(eigenvalues, eigenvectors)`` of symmetric (complex:
    Hermitian) matrices; the eigenvalues are real.

    Reads one triangle (``UPLO``) as NumPy does. Eigenvector derivatives need distinct eigenvalues
    (they contain ``1 / (w_j - w_i)``); with repeated eigenvalues only functions of the eigenvalues
    have meaningful derivatives (exact ties contribute 0 instead of inf). Eigenvectors have an
    arbitrary sign (complex: phase); differentiate functions that do not depend on it.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.eigh(np.array([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    array([1., 2.])
    """
    a = _linalg_array(a)
    _square(a)
    packed = dec.eigh(a, lower=_uplo(UPLO))
    w = packed[..., 0, :]
    return EighResult(ew.real(w) if a.dtype.kind == "c" else w, packed[..., 1:, :])


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Differentiable ``numpy.linalg.eigvalsh`` (the eigenvalues from :func:`eigh`)."""
    return eigh(a, UPLO).eigenvalues


def eig(a: Any) -> EigResult:
    """Differentiable ``numpy.linalg.eig`` (real or complex square matrices): ``(eigenvalues,
    eigenvectors)``.

    The results are always complex (NumPy makes them real when every eigenvalue is real: a
    value-dependent type that ``jit`` cannot follow). Derivatives need distinct eigenvalues:
    ``dw = diag(V^{-1} dA V)``; the eigenvector derivative is that of NumPy's normalisation (unit
    2-norm, the largest-modulus component real), computed with solves. For symmetric/Hermitian
    matrices prefer :func:`eigh`.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.eig(np.array([[0.0, -1.0], [1.0, 0.0]])).eigenvalues
    array([0.+1.j, 0.-1.j])
    """
    a = _linalg_array(a)
    _square(a)
    packed = dec.eig(a)
    c = packed[..., 0, :, :] + 1j * packed[..., 1, :, :]
    return EigResult(c[..., 0, :], c[..., 1:, :])


def eigvals(a: Any) -> Any:
    """Differentiable ``numpy.linalg.eigvals`` (complex results; see :func:`eig`)."""
    return eig(a).eigenvalues


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """Differentiable ``numpy.linalg.svd``: ``(U, S, Vh)``, or ``S`` with ``compute_uv=False``.

    The reduced SVD (``full_matrices=False``, or any square matrix) is differentiable; singular-vector
    derivatives need distinct singular values (and nonzero ones for a non-square matrix). The full
    SVD of a non-square matrix is computed, but its derivative raises NotImplementedError (the extra
    columns are arbitrary). ``hermitian=True`` is accepted and computed with the general SVD.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.svd(np.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False)
    array([3., 2.])
    """
    a = _linalg_array(a)
    _at_least_2d(a)
    m, n = a.shape[-2:]
    full = bool(full_matrices) and compute_uv and m != n
    u, s, vh = dec.svd_unpack(dec.svd(a, full_matrices=full), m, n, full)
    if a.dtype.kind == "c":
        s = ew.real(s)  # singular values are real, as in NumPy
    if not compute_uv:
        return s
    return SVDResult(u, s, vh)


def svdvals(x: Any, /) -> Any:
    """Differentiable ``numpy.linalg.svdvals``."""
    return svd(x, compute_uv=False)


def qr(a: Any, mode: str = "reduced") -> Any:
    """Differentiable ``numpy.linalg.qr`` (modes ``'reduced'``, ``'complete'``, ``'r'``).

    The derivative needs ``a``'s leading ``min(M, N)`` columns to be linearly independent. For a tall
    matrix, ``mode='complete'``'s Q has arbitrary extra columns and is not differentiable.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> q, r = fnp.linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
    >>> bool(np.allclose(q @ r, [[3.0, 1.0], [4.0, 2.0]]))
    True
    """
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"Unrecognized mode '{mode}'")
    if mode == "raw":
        raise NotImplementedError("funcgrad.numpy.linalg.qr(mode='raw') (Householder reflectors) is not "
                                  "supported; use mode='reduced' or 'complete'.")
    a = _linalg_array(a)
    _at_least_2d(a)
    m, n = a.shape[-2:]
    complete = mode == "complete" and m > n
    q, r = dec.qr_unpack(dec.qr(a, complete=complete), m)
    if mode == "r":
        return r
    return QRResult(q, r)


# --- built on the SVD -----------------------------------------------------------------------------


def _reciprocal_above(s: Any, cutoff: Any) -> Any:
    """``1 / s`` where ``s > cutoff``, else 0 (the dropped singular values carry no derivative)."""
    large = ew.greater(s, cutoff)
    return ew.where(large, 1.0 / ew.where(large, s, 1.0), 0.0)


_NO_VALUE = object()


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NO_VALUE) -> Any:
    """Differentiable ``numpy.linalg.pinv``, through the reduced SVD (the same cutoff as NumPy).

    Derivatives are those at a fixed rank: singular values at or below the cutoff are dropped as
    constants. ``hermitian=True`` is accepted and uses the general SVD.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.linalg.pinv(np.array([[2.0, 0.0], [0.0, 0.0]]))
    array([[0.5, 0. ],
           [0. , 0. ]])
    """
    a = _linalg_array(a)
    _at_least_2d(a)
    m, n = a.shape[-2:]
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(m, n) * np.finfo(a.dtype).eps
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if m == 0 or n == 0:
        return np.zeros(a.shape[:-2] + (n, m), a.dtype)
    u, s, vh = svd(a, full_matrices=False)
    rcond = np.asarray(rcond)
    cutoff = sh.reshape(rcond, shape=rcond.shape + (1,)) * red.max(s, axis=-1, keepdims=True)
    s_inv = _reciprocal_above(s, cutoff)
    return la.matmul(_adjoint(vh), sh.reshape(s_inv, shape=s_inv.shape + (1,)) * _adjoint(u))


def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple:
    """Differentiable ``numpy.linalg.lstsq``: ``(x, residuals, rank, s)`` for a 2-d ``a``.

    ``x`` is computed through the reduced SVD (NumPy's LAPACK routine is SVD-based too) with the same
    cutoff ``rcond * s_max``; ``x``, ``residuals`` and ``s`` are differentiable (at a fixed rank).
    Under ``jit``/``vmap`` the rank is not known while tracing: the residuals are then returned
    whenever ``M > N``, where NumPy returns an empty array for a rank-deficient ``a``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> x, res, rank, s = fnp.linalg.lstsq(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.array([1.0, 2.0, 3.0]))
    >>> x, res, int(rank)
    (array([1., 2.]), array([9.]), 2)
    """
    a, b = _linalg_array(a), _linalg_array(b)
    is_1d = b.ndim == 1
    if is_1d:
        b = sh.reshape(b, shape=(b.shape[0], 1))
    for x in (a, b):
        if x.ndim != 2:
            raise LinAlgError(f"{x.ndim}-dimensional array given. Array must be two-dimensional")
    m, n = a.shape
    if b.shape[0] != m:
        raise LinAlgError("Incompatible dimensions")
    dtype = np.result_type(a.dtype, b.dtype)
    if rcond is None:
        rcond = np.finfo(dtype).eps * max(m, n)
    elif rcond < 0:  # LAPACK: machine precision
        rcond = np.finfo(dtype).eps
    k = b.shape[1]
    real = np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)  # of s and residuals
    if m == 0 or n == 0:
        x = np.zeros((n, k), dtype)
        s = np.zeros((0,), real)
        rank = np.int32(0)
        resid = _squared_norms(b, 0) if (m > n and n == 0) else np.zeros((0,), real)
    else:
        u, s, vh = svd(a, full_matrices=False)
        large = ew.greater(s, rcond * s[..., 0])
        rank = red.sum(large)
        s_inv = ew.where(large, 1.0 / ew.where(large, s, 1.0), 0.0)
        x = la.matmul(_adjoint(vh), sh.reshape(s_inv, shape=s_inv.shape + (1,)) * la.matmul(_adjoint(u), b))
        if _is_concrete(rank):
            rank = np.int32(rank)
        if m > n and (not _is_concrete(rank) or rank == n):
            resid = _squared_norms(b - la.matmul(a, x), 0)
        else:
            resid = np.zeros((0,), real)
    if is_1d:
        x = sh.reshape(x, shape=(n,))
    return x, resid, rank, s


def cond(x: Any, p: Any = None) -> Any:
    """Differentiable ``numpy.linalg.cond``: ``s_max / s_min`` (``p=None, 2``), ``s_min / s_max``
    (``p=-2``), else ``norm(x, p) * norm(inv(x), p)``."""
    x = _linalg_array(x)
    _at_least_2d(x)
    if p is None or p == 2 or p == -2:
        s = svd(x, compute_uv=False)
        hi, lo = s[..., 0], s[..., -1]
        return lo / hi if p == -2 else hi / lo
    _square(x)
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """``numpy.linalg.matrix_rank`` (an integer: no derivative)."""
    A = _linalg_array(A)
    if A.ndim < 2:
        return int(not red.all(ew.equal(A, 0)))
    s = svd(A, compute_uv=False)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(s.dtype).eps
        else:
            rtol = np.asarray(rtol)[..., np.newaxis]
        tol = red.max(s, axis=-1, keepdims=True) * rtol
    else:
        tol = np.asarray(tol)[..., np.newaxis]
    return red.sum(ew.greater(s, tol), axis=-1)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """Differentiable ``numpy.linalg.matrix_norm`` (the norm over the last two axes)."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """Differentiable ``numpy.linalg.vector_norm`` (any number of axes; ``axis=None``: all)."""
    x = as_array(x)
    if x.dtype.kind in "iub":
        x = x.astype(np.float64)
    if axis is None:
        out = norm(sh.reshape(x, shape=(x.size,)), ord=ord)
        return sh.reshape(out, shape=(1,) * x.ndim) if keepdims else out
    axes = normalize_axes(axis, x.ndim)
    if ord == 2:
        return la.l2norm(x, axis=axes, keepdims=keepdims)
    return _vector_norm(x, ord, axes, keepdims)

