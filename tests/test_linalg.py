"""funcgrad.numpy.linalg: solvers, decompositions and the functions built on them.

Values are compared with NumPy (shapes, dtypes, result types, stacked matrices); derivatives are
checked with ``check_grads`` (central finite differences, forward and reverse mode, to second
order) or against closed forms written out here with plain NumPy — never against funcgrad itself.
Eigenvectors and singular vectors have an arbitrary sign, so their tests differentiate functions
that do not depend on it (projectors, squares, ``U diag(c) Vh``). Then vmap (against a Python loop
over the examples), jit (against eager), dispatch from plain ``np.linalg`` calls, the documented
conventions (one triangle read, ties, singular matrices) and the errors. The last section does the
same for complex matrices (Hermitian ones for cholesky/eigh; phases of eigenvectors and singular
vectors are arbitrary, so their tests use phase-invariant functions) and for eig, whose derivative
includes that of NumPy's normalisation of the eigenvectors (unit norm, largest component real).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads

L = fnp.linalg
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same random data whichever tests run before it."""
    global rng
    rng = np.random.default_rng([7, zlib.crc32(request.node.name.encode())])


# --- well-conditioned operands -------------------------------------------------------------------


def _each(shape, make):
    out = np.empty(shape)
    for idx in np.ndindex(shape[:-2]):
        out[idx] = make(*shape[-2:])
    return out


def orthogonal(n):
    return np.linalg.qr(rng.standard_normal((n, n)))[0]


def wellcond(*shape):
    """Diagonally dominant, determinant of either sign."""
    return _each(shape, lambda m, n: rng.uniform(-0.5, 0.5, (m, n)) + np.diag(rng.choice([-2.0, 2.0], n)))


def spd(*shape):
    return _each(shape, lambda m, n: (lambda x: x @ x.T / n + np.eye(n))(rng.standard_normal((n, n))))


def sym(*shape):
    """Symmetric, eigenvalues about 1 apart."""
    def make(m, n):
        q = orthogonal(n)
        return (q * (np.arange(n) - n / 2.0 + rng.uniform(-0.1, 0.1, n))) @ q.T
    return _each(shape, make)


def rect(*shape):
    """Singular values about 1 apart (1, 2, 3, ...)."""
    def make(m, n):
        k = min(m, n)
        d = np.zeros((m, n))
        d[np.arange(k), np.arange(k)] = 1.0 + np.arange(k) + rng.uniform(-0.1, 0.1, k)
        return orthogonal(m) @ d @ orthogonal(n)
    return _each(shape, make)


def normal(*shape):
    return rng.standard_normal(shape)


def T(x):
    return np.swapaxes(x, -1, -2)


def fT(x):
    return fnp.swapaxes(x, -1, -2)


def weights(shape, dtype=np.float64):
    """Fixed, non-uniform weights (so that sums of outputs are not symmetric by accident)."""
    return (1.0 + np.arange(int(np.prod(shape))).reshape(shape) % 5 / 3.0).astype(dtype)


def assert_like_numpy(got, want, rtol=None):
    assert isinstance(got, (np.ndarray, np.generic)), type(got)
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if rtol is None:
        rtol = 1e-4 if want.dtype in (np.float32, np.complex64) else 1e-10
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


# --- values against NumPy -------------------------------------------------------------------------

SQ_SHAPES = [(3, 3), (2, 3, 3), (2, 1, 4, 4), (1, 1), (0, 3, 3)]


@pytest.mark.parametrize("shape", SQ_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_square_functions_match_numpy(shape, dtype):
    a = wellcond(*shape).astype(dtype)
    s = spd(*shape).astype(dtype)
    h = sym(*shape).astype(dtype)
    assert_like_numpy(L.inv(a), np.linalg.inv(a))
    assert_like_numpy(L.det(a), np.linalg.det(a))
    sign, logabsdet = L.slogdet(a)
    assert_like_numpy(sign, np.linalg.slogdet(a).sign)
    assert_like_numpy(logabsdet, np.linalg.slogdet(a).logabsdet)
    assert type(L.slogdet(a)).__name__ == "SlogdetResult"
    assert_like_numpy(L.cholesky(s), np.linalg.cholesky(s))
    assert_like_numpy(L.cholesky(s, upper=True), np.linalg.cholesky(s, upper=True))
    w, v = L.eigh(h)
    assert_like_numpy(w, np.linalg.eigh(h).eigenvalues)
    assert_like_numpy(v, np.linalg.eigh(h).eigenvectors)
    assert_like_numpy(L.eigh(h, UPLO="U").eigenvectors, np.linalg.eigh(h, UPLO="U").eigenvectors)
    assert_like_numpy(L.eigvalsh(h), np.linalg.eigvalsh(h))
    tol = 1e-3 if dtype == np.float32 else None
    for k in (0, 1, 2, 3, 5, -1, -2):
        assert_like_numpy(L.matrix_power(a, k), np.linalg.matrix_power(a, k), rtol=tol)
    b = normal(*shape[:-1], 2).astype(dtype)
    assert_like_numpy(L.solve(a, b), np.linalg.solve(a, b))
    vec = normal(shape[-1]).astype(dtype)
    assert_like_numpy(L.solve(a, vec), np.linalg.solve(a, vec))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (3, 3), (2, 4, 3), (2, 3, 5), (0, 3, 2), (1, 4)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_rectangular_functions_match_numpy(shape, dtype):
    a = rect(*shape).astype(dtype)
    for full in (True, False):
        u, s, vh = L.svd(a, full_matrices=full)
        nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
        assert_like_numpy(u, nu)
        assert_like_numpy(s, ns)
        assert_like_numpy(vh, nvh)
    assert type(L.svd(a)).__name__ == "SVDResult"
    assert_like_numpy(L.svd(a, compute_uv=False), np.linalg.svd(a, compute_uv=False))
    assert_like_numpy(L.svdvals(a), np.linalg.svdvals(a))
    for mode in ("reduced", "complete"):
        q, r = L.qr(a, mode=mode)
        nq, nr = np.linalg.qr(a, mode=mode)
        assert_like_numpy(q, nq)
        assert_like_numpy(r, nr)
    assert_like_numpy(L.qr(a, mode="r"), np.linalg.qr(a, mode="r"))
    assert_like_numpy(L.pinv(a), np.linalg.pinv(a))
    assert_like_numpy(L.matrix_rank(a), np.linalg.matrix_rank(a))
    if a.size:
        for ord in ("nuc", 2, -2, "fro", 1, np.inf):
            assert_like_numpy(L.norm(a, ord, axis=(-2, -1)), np.linalg.norm(a, ord, axis=(-2, -1)))
            assert_like_numpy(L.matrix_norm(a, ord=ord), np.linalg.matrix_norm(a, ord=ord))
        assert_like_numpy(L.cond(a), np.linalg.cond(a))


def test_norm_singular_value_orders_with_axes_and_keepdims():
    x = normal(3, 2, 4)
    for ord in ("nuc", 2, -2):
        for axis in ((0, 2), (2, 0), (1, 2), (-1, -3)):
            for keepdims in (False, True):
                assert_like_numpy(L.norm(x, ord, axis, keepdims), np.linalg.norm(x, ord, axis, keepdims))
    m = normal(3, 4)
    for ord in ("nuc", 2, -2):
        assert_like_numpy(L.norm(m, ord), np.linalg.norm(m, ord))
        assert_like_numpy(L.norm(m, ord, keepdims=True), np.linalg.norm(m, ord, keepdims=True))
    with pytest.raises(ValueError, match="Invalid norm order"):
        L.norm(m, 3)


def test_pinv_rank_deficient_and_rcond():
    a = normal(5, 2) @ normal(2, 4)  # rank 2
    assert_like_numpy(L.pinv(a), np.linalg.pinv(a), rtol=1e-8)
    assert_like_numpy(L.pinv(a, rcond=0.5), np.linalg.pinv(a, rcond=0.5))
    assert_like_numpy(L.pinv(a, rtol=None), np.linalg.pinv(a, rtol=None), rtol=1e-8)
    stacked = np.stack([a, rect(5, 4)])
    rcond = np.array([1e-15, 0.3])
    assert_like_numpy(L.pinv(stacked, rcond=rcond), np.linalg.pinv(stacked, rcond=rcond), rtol=1e-8)
    with pytest.raises(ValueError, match="both set"):
        L.pinv(a, rcond=0.1, rtol=0.1)


@pytest.mark.parametrize("shape_a, shape_b", [((5, 3), (5,)), ((5, 3), (5, 2)), ((3, 3), (3,)), ((2, 4), (2, 3)),
                                              ((3, 5), (3,))], ids=str)
def test_lstsq_matches_numpy(shape_a, shape_b):
    a, b = rect(*shape_a), normal(*shape_b)
    x, res, rank, s = L.lstsq(a, b)
    nx, nres, nrank, ns = np.linalg.lstsq(a, b)
    assert_like_numpy(x, nx, rtol=1e-9)
    assert_like_numpy(res, nres, rtol=1e-9)
    assert rank == nrank and type(rank) is type(nrank)
    assert_like_numpy(s, ns)


def test_lstsq_rank_deficient_and_rcond():
    a = normal(6, 2) @ normal(2, 3)  # rank 2 < 3 columns: NumPy returns no residuals
    b = normal(6)
    x, res, rank, s = L.lstsq(a, b)
    nx, nres, nrank, ns = np.linalg.lstsq(a, b)
    assert_like_numpy(x, nx, rtol=1e-8)
    assert res.shape == nres.shape == (0,) and rank == nrank == 2
    a = rect(5, 3)
    for rcond in (None, -1, 0.5):
        got, want = L.lstsq(a, b[:5], rcond=rcond), np.linalg.lstsq(a, b[:5], rcond=rcond)
        assert_like_numpy(got[0], want[0], rtol=1e-9)
        assert got[2] == want[2]


def test_eig_values_and_vectors_are_complex():
    a = np.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])  # eigenvalues ±2i and 3
    w, v = L.eig(a)
    nw, nv = np.linalg.eig(a)
    assert_like_numpy(w, nw)
    assert_like_numpy(v, nv)
    stacked = np.stack([a, wellcond(3, 3)])  # real eigenvalues: NumPy returns float64, funcgrad complex128
    w, v = L.eig(stacked)
    assert w.dtype == v.dtype == np.complex128
    np.testing.assert_allclose(w, np.linalg.eig(stacked).eigenvalues)
    np.testing.assert_allclose(v, np.linalg.eig(stacked).eigenvectors)
    assert L.eigvals(stacked.astype(np.float32)).dtype == np.complex64
    np.testing.assert_allclose(L.eigvals(a), np.linalg.eigvals(a))


def test_integer_input_becomes_float64_like_numpy():
    a = np.array([[2, 1], [1, 3]])
    for name in ("inv", "det", "cholesky", "pinv", "svdvals", "eigvalsh"):
        assert_like_numpy(getattr(L, name)(a), getattr(np.linalg, name)(a))
    assert_like_numpy(L.solve(a, np.array([1, 2])), np.linalg.solve(a, np.array([1, 2])))
    assert_like_numpy(L.matrix_power(a, 3), np.linalg.matrix_power(a, 3))  # stays an integer array


def test_multi_dot_and_matrix_transpose():
    xs = [normal(3), normal(3, 4), normal(4, 2), normal(2)]
    assert_like_numpy(L.multi_dot(xs), np.linalg.multi_dot(xs))
    ms = [normal(2, 3), normal(3, 4), normal(4, 5)]
    assert_like_numpy(L.multi_dot(ms), np.linalg.multi_dot(ms))
    x = normal(2, 3, 4)
    assert_like_numpy(L.matrix_transpose(x), np.linalg.matrix_transpose(x))
    assert_like_numpy(L.vector_norm(x), np.linalg.vector_norm(x))
    assert_like_numpy(L.vector_norm(x, axis=(0, 2), ord=1, keepdims=True),
                      np.linalg.vector_norm(x, axis=(0, 2), ord=1, keepdims=True))


# --- derivatives: finite differences, both modes, second order ------------------------------------


def proj(v, k=1):
    """Projector onto the first k eigenvectors: independent of their signs."""
    vk = v[..., :, :k]
    return vk @ fT(vk)


def weighted_uv(r):
    c = (1.0 + np.arange(r.S.shape[-1])).astype(r.S.dtype)
    return (r.U * c) @ r.Vh


GRAD_CASES = [
    ("solve", L.solve, lambda: (wellcond(3, 3), normal(3, 2))),
    ("solve_vector", L.solve, lambda: (wellcond(3, 3), normal(3))),
    ("solve_stacked_vector", L.solve, lambda: (wellcond(2, 3, 3), normal(3))),
    ("solve_broadcast", L.solve, lambda: (wellcond(2, 1, 3, 3), normal(4, 3, 2))),
    ("inv", L.inv, lambda: (wellcond(2, 3, 3),)),
    ("det", L.det, lambda: (wellcond(2, 3, 3),)),
    ("det_negative", L.det, lambda: (np.diag([-2.0, 1.5, 1.0]) + 0.2 * normal(3, 3),)),
    ("slogdet", lambda a: L.slogdet(a).logabsdet, lambda: (wellcond(2, 3, 3),)),
    ("cholesky", L.cholesky, lambda: (spd(2, 3, 3),)),
    ("cholesky_upper", lambda a: L.cholesky(a, upper=True), lambda: (spd(3, 3),)),
    ("cholesky_of_gram", lambda x: L.cholesky(x @ fT(x) + 0.5 * np.eye(3)), lambda: (normal(3, 4),)),
    ("eigh_values", lambda a: L.eigh(a).eigenvalues, lambda: (sym(2, 3, 3),)),
    ("eigh_projectors", lambda a: [proj(L.eigh(a).eigenvectors, 1), proj(L.eigh(a).eigenvectors, 2)],
     lambda: (sym(2, 4, 4),)),
    ("eigh_vectors_squared", lambda a: L.eigh(a, UPLO="U").eigenvectors ** 2, lambda: (sym(3, 3),)),
    ("eigh_of_symmetric", lambda x: (lambda r: (r.eigenvalues, (r.eigenvectors * weights((3, 3))) ** 2))(
        L.eigh(x + fT(x))), lambda: (sym(3, 3) / 2,)),
    ("svd_values", lambda a: L.svd(a, compute_uv=False), lambda: (rect(2, 4, 3),)),
    ("svd_tall", lambda a: weighted_uv(L.svd(a, full_matrices=False)), lambda: (rect(4, 3),)),
    ("svd_wide", lambda a: weighted_uv(L.svd(a, full_matrices=False)), lambda: (rect(2, 3, 5),)),
    ("svd_square_full", lambda a: (lambda r: (r.U ** 2, r.S, r.Vh ** 2))(L.svd(a)), lambda: (rect(3, 3),)),
    ("svd_vectors_separately", lambda a: (lambda r: (r.U ** 2, r.Vh ** 2))(L.svd(a, full_matrices=False)),
     lambda: (rect(5, 3),)),
    ("qr_tall", lambda a: tuple(L.qr(a)), lambda: (rect(2, 4, 3),)),
    ("qr_square", lambda a: tuple(L.qr(a)), lambda: (rect(3, 3),)),
    ("qr_wide", lambda a: tuple(L.qr(a)), lambda: (rect(2, 3, 5),)),
    ("qr_complete_wide", lambda a: tuple(L.qr(a, mode="complete")), lambda: (rect(2, 4),)),
    ("qr_r", lambda a: L.qr(a, mode="r"), lambda: (rect(4, 2),)),
    ("pinv_tall", L.pinv, lambda: (rect(4, 3),)),
    ("pinv_wide_stacked", L.pinv, lambda: (rect(2, 2, 4),)),
    ("lstsq_vector", lambda a, b: L.lstsq(a, b)[:2], lambda: (rect(5, 3), normal(5))),
    ("lstsq_matrix", lambda a, b: (L.lstsq(a, b)[0], L.lstsq(a, b)[1], L.lstsq(a, b)[3]),
     lambda: (rect(4, 2), normal(4, 3))),
    ("lstsq_underdetermined", lambda a, b: L.lstsq(a, b)[0], lambda: (rect(2, 4), normal(2))),
    ("matrix_power", lambda a: [L.matrix_power(a, k) for k in (0, 1, 2, 5)], lambda: (0.5 * wellcond(2, 3, 3),)),
    ("matrix_power_negative", lambda a: L.matrix_power(a, -3), lambda: (wellcond(3, 3),)),
    ("norm_nuc", lambda a: L.norm(a, "nuc"), lambda: (rect(4, 3),)),
    ("norm_2", lambda a: L.norm(a, 2, axis=(0, 2)), lambda: (np.moveaxis(rect(2, 4, 3), 1, 0),)),
    ("norm_minus2_keepdims", lambda a: L.norm(a, -2, axis=(-1, -2), keepdims=True), lambda: (rect(2, 3, 4),)),
    ("cond", L.cond, lambda: (rect(2, 3, 3),)),
    ("cond_fro", lambda a: L.cond(a, "fro"), lambda: (wellcond(3, 3),)),
    ("multi_dot", lambda a, b, c: L.multi_dot([a, b, c]), lambda: (normal(3), normal(3, 4), normal(4, 2))),
]


@pytest.mark.parametrize("name, f, make", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_derivatives_match_finite_differences(name, f, make):
    check_grads(f, make(), order=2, modes=("fwd", "rev"))


FLOAT32_CASES = ["solve", "inv", "det", "cholesky", "eigh_values", "eigh_projectors", "svd_tall", "qr_wide",
                 "pinv_tall", "norm_nuc"]


@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_float32_derivatives_stay_float32(name):
    f, make = next((c[1], c[2]) for c in GRAD_CASES if c[0] == name)
    args = tuple(a.astype(np.float32) for a in make())
    out, pullback = fg.vjp(f, *args)
    for leaf in fg.tree_util.tree_leaves(out):
        assert leaf.dtype == np.float32
    cts = pullback(fg.tree_util.tree_map(lambda o: weights(o.shape, np.float32), out))
    for a, c in zip(args, cts):
        assert c.dtype == np.float32 and c.shape == a.shape
    check_grads(f, args, order=1)


# --- closed forms ---------------------------------------------------------------------------------


def _grads_both_modes(f, x):
    """The gradient of a scalar f by reverse mode, and the same assembled from forward mode."""
    g_rev = fg.grad(f)(x)
    g_fwd = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        t = np.zeros_like(x)
        t[idx] = 1.0
        g_fwd[idx] = fg.jvp(f, (x,), (t,))[1]
    return g_rev, g_fwd


def test_logdet_and_det_gradients_closed_form():
    a = np.diag([-2.0, 1.5, 1.0]) + 0.2 * normal(3, 3)
    assert np.linalg.det(a) < 0
    inv_t = np.linalg.inv(a).T
    for g in _grads_both_modes(lambda x: L.slogdet(x).logabsdet, a):
        np.testing.assert_allclose(g, inv_t, rtol=1e-12)
    for g in _grads_both_modes(L.det, a):
        np.testing.assert_allclose(g, np.linalg.det(a) * inv_t, rtol=1e-12)
    # d/dA sum(W * inv(A)) = -A^{-T} W A^{-T}
    w = weights((3, 3))
    for g in _grads_both_modes(lambda x: fnp.sum(w * L.inv(x)), a):
        np.testing.assert_allclose(g, -inv_t @ w @ inv_t, rtol=1e-11)


def test_logdet_hessian_closed_form():
    """d/dt grad logdet(A + tH) = -(A^{-1} H A^{-1})^T, forward over reverse and reverse over reverse."""
    a, h = wellcond(3, 3), normal(3, 3)
    ai = np.linalg.inv(a)
    want = -(ai @ h @ ai).T
    grad = fg.grad(lambda x: L.slogdet(x).logabsdet)
    np.testing.assert_allclose(fg.jvp(grad, (a,), (h,))[1], want, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(grad(x) * h))(a), want, rtol=1e-11, atol=1e-13)


def test_eigenvalue_gradient_closed_form_reads_the_lower_triangle():
    a = sym(4, 4)
    w, v = np.linalg.eigh(a)
    for i in range(4):
        vv = np.outer(v[:, i], v[:, i])
        # the lower triangle stands for both of its mirror entries; the upper one is not read
        want = np.tril(2 * vv) - np.diag(np.diag(vv))
        for g in _grads_both_modes(lambda x, i=i: L.eigh(x).eigenvalues[i], a):
            np.testing.assert_allclose(g, want, atol=1e-12)
        for g in _grads_both_modes(lambda x, i=i: L.eigh(x, UPLO="U").eigenvalues[i], a):
            np.testing.assert_allclose(g, want.T, atol=1e-12)


def test_singular_value_gradients_closed_form():
    a = rect(4, 3)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    for g in _grads_both_modes(lambda x: L.norm(x, "nuc"), a):
        np.testing.assert_allclose(g, u @ vh, atol=1e-12)
    for g in _grads_both_modes(lambda x: L.norm(x, 2), a):
        np.testing.assert_allclose(g, np.outer(u[:, 0], vh[0]), atol=1e-12)
    for g in _grads_both_modes(lambda x: L.norm(x, -2), a):
        np.testing.assert_allclose(g, np.outer(u[:, -1], vh[-1]), atol=1e-12)


def test_solve_gradient_closed_form():
    a, b = wellcond(3, 3), normal(3)
    x = np.linalg.solve(a, b)
    c = weights((3,))
    lam = np.linalg.solve(a.T, c)
    ga, gb = fg.grad(lambda a_, b_: fnp.sum(c * L.solve(a_, b_)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(gb, lam, rtol=1e-12)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-12)


def test_cholesky_of_a_symmetric_parametrisation():
    """f(X) = sum(W * chol(X X^T + I)): the gradient through the symmetric Gram matrix, against
    finite differences (and the upper triangle of chol's operand gets zero cotangent)."""
    x = normal(3, 3)
    w = weights((3, 3))
    check_grads(lambda x_: fnp.sum(w * L.cholesky(x_ @ fT(x_) + np.eye(3))), (x,), order=2)
    g = fg.grad(lambda k: fnp.sum(w * L.cholesky(k)))(spd(3, 3))
    assert np.all(np.triu(g, 1) == 0.0)
    g = fg.grad(lambda k: fnp.sum(w * L.cholesky(k, upper=True)))(spd(3, 3))
    assert np.all(np.tril(g, -1) == 0.0)


def test_tangent_in_the_unread_triangle_has_no_effect():
    a = sym(3, 3)
    t = np.triu(normal(3, 3), 1)
    for f in (lambda x: L.eigh(x).eigenvectors, lambda x: L.eigh(x).eigenvalues, L.eigvalsh):
        _, dt = fg.jvp(f, (a,), (t,))
        assert np.all(dt == 0.0)
    _, dt = fg.jvp(L.cholesky, (spd(3, 3),), (t,))
    assert np.all(dt == 0.0)


# --- degenerate spectra ---------------------------------------------------------------------------


def test_repeated_eigenvalues_give_finite_eigenvalue_derivatives():
    a = np.diag([1.0, 1.0, 3.0])  # a repeated eigenvalue
    with np.errstate(all="raise"):
        for g in _grads_both_modes(lambda x: fnp.sum(L.eigh(x).eigenvalues ** 2), a):
            np.testing.assert_allclose(g, 2 * a, atol=1e-12)  # d tr(A^2) = 2 A (A diagonal)
        g = fg.grad(lambda x: fnp.sum(L.eigvalsh(x)))(np.eye(3))
        np.testing.assert_allclose(g, np.eye(3), atol=1e-12)  # d trace = I


def test_repeated_singular_values_give_finite_singular_value_derivatives():
    q = orthogonal(3)  # all singular values equal to 1
    with np.errstate(all="raise"):
        for g in _grads_both_modes(lambda x: L.norm(x, "nuc"), q):
            np.testing.assert_allclose(g, q, atol=1e-12)  # U Vh = Q
    a = np.outer(normal(4), normal(3))  # rank 1: two zero singular values (a tie at 0)
    u, s, vh = np.linalg.svd(a)
    for g in _grads_both_modes(lambda x: L.norm(x, 2), a):
        np.testing.assert_allclose(g, np.outer(u[:, 0], vh[0]), atol=1e-12)


# --- vmap -----------------------------------------------------------------------------------------

VMAP_CASES = [
    ("solve", L.solve, lambda: (wellcond(3, 3), normal(3, 2))),
    ("solve_vector", L.solve, lambda: (wellcond(3, 3), normal(3))),
    ("solve_stacked", L.solve, lambda: (wellcond(2, 3, 3), normal(2, 3, 2))),
    ("inv_det_slogdet", lambda a: [L.inv(a), L.det(a), *L.slogdet(a)], lambda: (wellcond(3, 3),)),
    ("cholesky", L.cholesky, lambda: (spd(3, 3),)),
    ("eigh", lambda a: (lambda r: [r.eigenvalues, r.eigenvectors ** 2])(L.eigh(a)), lambda: (sym(3, 3),)),
    ("svd", lambda a: (lambda r: [r.U ** 2, r.S, r.Vh ** 2])(L.svd(a, full_matrices=False)), lambda: (rect(4, 3),)),
    ("svd_full", lambda a: L.svd(a)[0] ** 2, lambda: (rect(4, 3),)),
    ("qr", lambda a: list(L.qr(a)), lambda: (rect(3, 5),)),
    ("eig", lambda a: list(L.eig(a)), lambda: (wellcond(3, 3),)),
    ("pinv", L.pinv, lambda: (rect(4, 3),)),
    ("lstsq", lambda a, b: L.lstsq(a, b)[:2], lambda: (rect(5, 3), normal(5))),
    ("matrix_power", lambda a: L.matrix_power(a, -2), lambda: (wellcond(3, 3),)),
    ("norms", lambda a: [L.norm(a, "nuc"), L.norm(a, 2), L.norm(a, -2), L.cond(a)], lambda: (rect(3, 4),)),
]


def _stack_examples(make, n=3):
    examples = [make() for _ in range(n)]
    return examples, [np.stack(parts) for parts in zip(*examples)]


def _assert_tree_close(got, want, rtol=1e-10):
    g_leaves, g_tree = fg.tree_util.tree_flatten(got)
    w_leaves, w_tree = fg.tree_util.tree_flatten(want)
    assert g_tree == w_tree
    for g, w in zip(g_leaves, w_leaves):
        assert_like_numpy(g, w, rtol=rtol)


@pytest.mark.parametrize("name, f, make", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_matches_a_python_loop(name, f, make):
    examples, batched = _stack_examples(make)
    want = fg.tree_util.tree_map(lambda *ys: np.stack(ys), *[f(*ex) for ex in examples])
    _assert_tree_close(fg.vmap(f)(*batched), want)
    # batch axis last, and (for several operands) one operand unbatched
    moved = [np.moveaxis(b, 0, -1) for b in batched]
    _assert_tree_close(fg.vmap(f, in_axes=-1)(*moved), want)
    if len(batched) > 1:
        want0 = fg.tree_util.tree_map(lambda *ys: np.stack(ys),
                                      *[f(examples[0][0], *ex[1:]) for ex in examples])
        _assert_tree_close(fg.vmap(f, in_axes=(None,) + (0,) * (len(batched) - 1))(examples[0][0], *batched[1:]),
                           want0)


@pytest.mark.parametrize("name", ["solve", "inv_det_slogdet", "cholesky", "eigh", "svd", "qr", "pinv", "lstsq",
                                  "norms"])
def test_vmap_of_grad_and_grad_of_vmap(name):
    f, make = next((c[1], c[2]) for c in VMAP_CASES if c[0] == name)

    def loss(*args):
        return sum(fnp.sum(leaf * weights(leaf.shape)) for leaf in fg.tree_util.tree_leaves(f(*args)))

    examples, batched = _stack_examples(make)
    argnums = tuple(range(len(batched)))
    want = [fg.grad(loss, argnums=argnums)(*ex) for ex in examples]
    got = fg.vmap(fg.grad(loss, argnums=argnums))(*batched)
    for i in argnums:
        np.testing.assert_allclose(got[i], np.stack([w[i] for w in want]), rtol=1e-9, atol=1e-10)
    # grad of a vmapped function: the sum over examples
    total = fg.grad(lambda *a: fnp.sum(fg.vmap(loss)(*a)), argnums=argnums)(*batched)
    for i in argnums:
        np.testing.assert_allclose(total[i], np.stack([w[i] for w in want]), rtol=1e-9, atol=1e-10)


# --- jit ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, f, make", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_jit_matches_eager(name, f, make):
    args = make()
    jf = fg.jit(f)
    _assert_tree_close(jf(*args), f(*args))
    _assert_tree_close(jf(*args), f(*args))  # the cached entry
    if name not in ("solve_vector", "lstsq", "norms"):  # these take one matrix (or a vector b) at a time
        stacked = [np.stack([a, make()[i]]) for i, a in enumerate(args)]
        _assert_tree_close(jf(*stacked), f(*stacked))  # a new signature: stacked matrices


@pytest.mark.parametrize("name", ["solve", "inv_det_slogdet", "cholesky", "eigh", "svd", "qr", "pinv", "lstsq",
                                  "matrix_power", "norms"])
def test_jit_composes_with_grad(name):
    f, make = next((c[1], c[2]) for c in VMAP_CASES if c[0] == name)

    def loss(*args):
        return sum(fnp.sum(leaf * weights(leaf.shape)) for leaf in fg.tree_util.tree_leaves(f(*args)))

    args = make()
    argnums = tuple(range(len(args)))
    want = fg.grad(loss, argnums=argnums)(*args)
    for got in (fg.jit(fg.grad(loss, argnums=argnums))(*args), fg.grad(fg.jit(loss), argnums=argnums)(*args)):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    check_grads(fg.jit(loss), args, order=2)


@pytest.mark.parametrize("name", ["solve", "cholesky", "eigh", "svd", "qr", "norms"])
def test_jit_composes_with_jvp_and_vmap(name):
    f, make = next((c[1], c[2]) for c in VMAP_CASES if c[0] == name)
    args = make()
    tangents = tuple(normal(*a.shape) for a in args)
    _assert_tree_close(fg.jvp(fg.jit(f), args, tangents), fg.jvp(f, args, tangents))
    _assert_tree_close(fg.jit(lambda *a: fg.jvp(f, a, tangents))(*args), fg.jvp(f, args, tangents))
    examples, batched = _stack_examples(make)
    _assert_tree_close(fg.vmap(fg.jit(f))(*batched), fg.jit(fg.vmap(f))(*batched))
    _assert_tree_close(fg.vmap(fg.jit(f))(*batched), fg.vmap(f)(*batched))


def test_jit_traces_solvers_without_running_them_on_placeholders():
    """Tracing never runs LAPACK on jit's zero placeholders (a singular matrix): shapes come from
    the primitives' abstract evaluation, and the program shows the primitives by name."""
    def f(a, b):
        return L.inv(a) @ L.solve(a, b) + L.cholesky(a @ fT(a) + np.eye(3)) + L.det(a)[..., None, None]

    program = fg.make_trace(f)(wellcond(2, 3, 3), normal(2, 3, 3))
    text = str(program)
    for name in ("solve", "cholesky", "det"):
        assert name in text
    a, b = wellcond(2, 3, 3), normal(2, 3, 3)
    np.testing.assert_allclose(fg.jit(f)(a, b), f(a, b), rtol=1e-12)


# --- plain NumPy calls on traced values dispatch here ---------------------------------------------


def test_plain_numpy_linalg_calls_are_differentiable():
    def f(a, b, s, r):
        x = np.linalg.solve(a, b)
        w, v = np.linalg.eigh(s)
        u, sv, vh = np.linalg.svd(r, full_matrices=False)
        q, rr = np.linalg.qr(r)
        sign, logdet = np.linalg.slogdet(a)
        return (np.sum(x) + np.linalg.det(a) + np.sum(np.linalg.inv(a)) + logdet + np.sum(w) + np.sum(v ** 2)
                + np.sum(np.linalg.cholesky(s @ s + np.eye(3))) + np.sum(sv) + np.sum(rr) + np.sum(q ** 2)
                + np.linalg.norm(r, "nuc") + np.linalg.norm(r, 2) + np.sum(np.linalg.pinv(r))
                + np.sum(np.linalg.lstsq(r, b[:4] if b.shape[0] >= 4 else np.ones(4))[0])
                + np.sum(np.linalg.matrix_power(a, 3)) + np.sum(np.linalg.eigvalsh(s)) + np.sum(np.linalg.svdvals(r)))

    args = (wellcond(3, 3), normal(3), sym(3, 3), rect(4, 3))
    check_grads(f, args, order=1)
    check_grads(fg.jit(f), args, order=1)


# --- errors ---------------------------------------------------------------------------------------


def test_full_svd_and_complete_qr_of_nonsquare_matrices_are_not_differentiable():
    a = rect(4, 3)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fg.jvp(lambda x: L.svd(x).U, (a,), (a,))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fg.vjp(lambda x: L.svd(x).S, a)[1](np.ones(3))
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        fg.vjp(lambda x: L.qr(x, mode="complete").Q, a)[1](np.ones((4, 4)))
    # the square and wide cases are the reduced decompositions: differentiable
    check_grads(lambda x: L.svd(x).S, (rect(3, 3),), order=1)
    check_grads(lambda x: L.qr(x, mode="complete").R, (rect(3, 4),), order=1)


def test_errors_match_numpy():
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        L.inv(normal(2, 3))
    with pytest.raises(np.linalg.LinAlgError, match="at least two-dimensional"):
        L.det(normal(3))
    with pytest.raises(np.linalg.LinAlgError, match="at least two-dimensional"):
        L.svd(normal(3))
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        L.inv(np.ones((2, 2)))
    with pytest.raises(np.linalg.LinAlgError):
        L.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="UPLO"):
        L.eigh(sym(2, 2), UPLO="X")
    with pytest.raises(TypeError, match="integer"):
        L.matrix_power(wellcond(2, 2), 1.5)
    with pytest.raises(ValueError, match="Unrecognized mode"):
        L.qr(normal(2, 2), mode="nonsense")
    with pytest.raises(NotImplementedError, match="raw"):
        L.qr(normal(2, 2), mode="raw")
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        L.lstsq(normal(2, 2, 2), normal(2))
    with pytest.raises(np.linalg.LinAlgError, match="Incompatible"):
        L.lstsq(normal(3, 2), normal(4))
    with pytest.raises(ValueError, match="at least two arrays"):
        L.multi_dot([normal(2, 2)])
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        fg.jit(L.inv)(normal(2, 3))  # the same error while tracing under jit


def test_derivative_at_a_singular_matrix_raises_like_numpy_solve():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert L.det(a) == np.linalg.det(a) == 0.0
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        fg.grad(lambda m: L.slogdet(m).logabsdet)(a)
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        fg.hessian(L.det)(a)  # det's first derivative (the adjugate) is defined there; its second uses solves
    np.testing.assert_allclose(fg.grad(L.det)(a), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


# --- complex matrices, and eig ---------------------------------------------------------------------
# funcgrad follows JAX's convention: a vjp is the transpose of the jvp under Re(sum(a * b)), with no
# conjugation; check_grads pairs complex values that way. grad of a real function of complex z is
# df/dx - i df/dy.


def _each_c(shape, make):
    out = np.empty(shape, np.complex128)
    for idx in np.ndindex(shape[:-2]):
        out[idx] = make(*shape[-2:])
    return out


def cnormal(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def unitary(n):
    return np.linalg.qr(cnormal(n, n))[0]


def cwellcond(*shape):
    """Complex, diagonally dominant."""
    return _each_c(shape, lambda m, n: 0.3 * cnormal(m, n) + np.diag(rng.choice([-2.0, 2.0, 2.0j, -2.0j], n)))


def hpd(*shape):
    """Hermitian positive definite: X X^H + n I."""
    return _each_c(shape, lambda m, n: (lambda x: x @ x.conj().T + n * np.eye(n))(cnormal(n, n)))


def herm(*shape):
    """Hermitian, eigenvalues about 1 apart."""
    def make(m, n):
        q = unitary(n)
        return (q * (np.arange(n) - n / 2.0 + rng.uniform(-0.1, 0.1, n))) @ q.conj().T
    return _each_c(shape, make)


def crect(*shape):
    """Complex, singular values about 1 apart."""
    def make(m, n):
        k = min(m, n)
        d = np.zeros((m, n))
        d[np.arange(k), np.arange(k)] = 1.0 + np.arange(k) + rng.uniform(-0.1, 0.1, k)
        return unitary(m) @ d @ unitary(n)
    return _each_c(shape, make)


def real_eig(*shape):
    """Real, with real eigenvalues about 1 apart (and a well-conditioned eigenvector basis)."""
    def make(m, n):
        x = np.eye(n) + 0.3 * rng.standard_normal((n, n))
        return (x * (np.arange(n) + 1.0 + rng.uniform(-0.1, 0.1, n))) @ np.linalg.inv(x)
    return _each(shape, make)


def real_eig_pair(*shape):
    """Real, with a complex-conjugate pair of eigenvalues (1 ± 1.5i) and a real one (-1.5)."""
    def make(m, n):
        block = np.zeros((n, n))
        block[:2, :2] = [[1.0, -1.5], [1.5, 1.0]]
        block[2:, 2:] = np.diag(-1.5 - np.arange(n - 2))
        x = np.eye(n) + 0.3 * rng.standard_normal((n, n))
        return x @ block @ np.linalg.inv(x)
    return _each(shape, make)


def fH(x):
    return fnp.conj(fnp.swapaxes(x, -1, -2))


def cproj(v, k=1):
    """Projector onto the first k eigenvectors, V_k V_k^H: independent of their phases."""
    vk = v[..., :, :k]
    return vk @ fH(vk)


def abs2(x):
    return fnp.real(x * fnp.conj(x))


def test_complex_functions_match_numpy():
    for dtype in (np.complex128, np.complex64):
        a, s, h = cwellcond(2, 3, 3).astype(dtype), hpd(2, 3, 3).astype(dtype), herm(2, 3, 3).astype(dtype)
        sign, logabsdet = L.slogdet(a)
        assert_like_numpy(sign, np.linalg.slogdet(a).sign)
        assert_like_numpy(logabsdet, np.linalg.slogdet(a).logabsdet)  # real, as in NumPy
        assert_like_numpy(L.det(a), np.linalg.det(a), rtol=1e-3 if dtype == np.complex64 else 1e-10)
        assert_like_numpy(L.cholesky(s), np.linalg.cholesky(s))
        assert_like_numpy(L.cholesky(s, upper=True), np.linalg.cholesky(s, upper=True))
        for uplo in ("L", "U"):
            w, v = L.eigh(h, UPLO=uplo)
            assert_like_numpy(w, np.linalg.eigh(h, UPLO=uplo).eigenvalues)  # real
            assert_like_numpy(v, np.linalg.eigh(h, UPLO=uplo).eigenvectors)
        for shape in ((4, 3), (3, 5), (3, 3)):
            r = crect(*shape).astype(dtype)
            for full in (True, False):
                for got, want in zip(L.svd(r, full_matrices=full), np.linalg.svd(r, full_matrices=full)):
                    assert_like_numpy(got, want)
            assert_like_numpy(L.svdvals(r), np.linalg.svdvals(r))
            for mode in ("reduced", "complete"):
                for got, want in zip(L.qr(r, mode=mode), np.linalg.qr(r, mode=mode)):
                    assert_like_numpy(got, want)
        w, v = L.eig(a)
        assert_like_numpy(w, np.linalg.eig(a).eigenvalues)
        assert_like_numpy(v, np.linalg.eig(a).eigenvectors)


COMPLEX_GRAD_CASES = [
    ("solve", L.solve, lambda: (cwellcond(3, 3), cnormal(3, 2))),
    ("inv", L.inv, lambda: (cwellcond(2, 3, 3),)),
    ("logabsdet", lambda a: L.slogdet(a).logabsdet, lambda: (cwellcond(2, 3, 3),)),
    ("slogdet_sign", lambda a: L.slogdet(a).sign, lambda: (cwellcond(2, 3, 3),)),
    ("det", L.det, lambda: (cwellcond(2, 3, 3),)),
    ("cholesky", L.cholesky, lambda: (hpd(2, 3, 3),)),
    ("cholesky_upper", lambda a: L.cholesky(a, upper=True), lambda: (hpd(3, 3),)),
    ("cholesky_of_gram", lambda x: L.cholesky(x @ fH(x) + 0.5 * np.eye(3)), lambda: (cnormal(3, 4),)),
    ("eigh_values", lambda a: L.eigh(a).eigenvalues, lambda: (herm(2, 3, 3),)),
    ("eigh_projectors", lambda a: [cproj(L.eigh(a).eigenvectors, 1), cproj(L.eigh(a).eigenvectors, 2)],
     lambda: (herm(2, 4, 4),)),
    ("eigh_vectors_abs2", lambda a: abs2(L.eigh(a, UPLO="U").eigenvectors), lambda: (herm(3, 3),)),
    ("eigh_of_hermitian", lambda x: (lambda r: (r.eigenvalues, abs2(r.eigenvectors) * weights((3, 3))))(
        L.eigh(x + fH(x))), lambda: (herm(3, 3) / 2,)),
    ("svd_values", lambda a: L.svd(a, compute_uv=False), lambda: (crect(2, 4, 3),)),
    ("svd_tall", lambda a: weighted_uv(L.svd(a, full_matrices=False)), lambda: (crect(4, 3),)),
    ("svd_wide", lambda a: weighted_uv(L.svd(a, full_matrices=False)), lambda: (crect(2, 3, 5),)),
    ("svd_square_full", lambda a: (lambda r: (abs2(r.U), r.S, abs2(r.Vh), weighted_uv(r)))(L.svd(a)),
     lambda: (crect(3, 3),)),
    ("svd_vectors_abs2", lambda a: (lambda r: (abs2(r.U), abs2(r.Vh)))(L.svd(a, full_matrices=False)),
     lambda: (crect(5, 3),)),
    ("qr_tall", lambda a: tuple(L.qr(a)), lambda: (crect(2, 4, 3),)),
    ("qr_square", lambda a: tuple(L.qr(a)), lambda: (crect(3, 3),)),
    ("qr_wide", lambda a: tuple(L.qr(a)), lambda: (crect(2, 3, 5),)),
    ("pinv", L.pinv, lambda: (crect(4, 3),)),
    ("norm_nuc", lambda a: L.norm(a, "nuc"), lambda: (crect(4, 3),)),
    ("eig_complex", lambda a: tuple(L.eig(a)), lambda: (cwellcond(2, 3, 3),)),
    ("eigvals_complex", L.eigvals, lambda: (cwellcond(4, 4),)),
]

EIG_REAL_CASES = [
    ("eig_real_spectrum", lambda a: tuple(L.eig(a)), lambda: (real_eig(2, 3, 3),)),
    ("eig_conjugate_pair", lambda a: tuple(L.eig(a)), lambda: (real_eig_pair(3, 3),)),
    ("eig_conjugate_pair_4", lambda a: tuple(L.eig(a)), lambda: (real_eig_pair(4, 4),)),
    # phase-free functions of the eigenvectors: V diag(w^2) V^{-1} = A^2, and |V|^2
    ("eig_spectral_function", lambda a: (lambda r: (r.eigenvectors * r.eigenvalues ** 2)
                                         @ L.inv(r.eigenvectors))(L.eig(a)), lambda: (real_eig_pair(3, 3),)),
    ("eig_vectors_abs2", lambda a: abs2(L.eig(a).eigenvectors), lambda: (normal(3, 3) + np.diag([3.0, 0, -3]),)),
]


@pytest.mark.parametrize("name, f, make", COMPLEX_GRAD_CASES + EIG_REAL_CASES,
                         ids=[c[0] for c in COMPLEX_GRAD_CASES + EIG_REAL_CASES])
def test_complex_and_eig_derivatives_match_finite_differences(name, f, make):
    check_grads(f, make(), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", ["cholesky", "eigh_projectors", "svd_tall", "qr_wide", "det", "eig_complex"])
def test_complex64_derivatives_stay_complex64(name):
    f, make = next((c[1], c[2]) for c in COMPLEX_GRAD_CASES if c[0] == name)
    args = tuple(a.astype(np.complex64) for a in make())
    out, pullback = fg.vjp(f, *args)
    for leaf in fg.tree_util.tree_leaves(out):
        assert leaf.dtype in (np.float32, np.complex64)
    cts = pullback(fg.tree_util.tree_map(lambda o: weights(o.shape, o.dtype), out))
    for a, c in zip(args, cts):
        assert c.dtype == np.complex64 and c.shape == a.shape
    check_grads(f, args, order=1)


def test_eig_float32_derivatives_stay_float32():
    a = real_eig_pair(3, 3).astype(np.float32)
    out, pullback = fg.vjp(lambda x: tuple(L.eig(x)), a)
    assert out[0].dtype == out[1].dtype == np.complex64
    (g,) = pullback(tuple(np.ones_like(o) for o in out))
    assert g.dtype == np.float32
    check_grads(lambda x: tuple(L.eig(x)), (a,), order=1)


def test_complex_logdet_gradient_closed_form():
    """grad Re log det A = A^{-T} (df/dx - i df/dy), in both modes; grad det = det(A) A^{-T}
    holomorphically."""
    a = cwellcond(3, 3)
    inv_t = np.linalg.inv(a).T
    np.testing.assert_allclose(fg.grad(lambda x: L.slogdet(x).logabsdet)(a), inv_t, rtol=1e-12)
    # forward mode: the directional derivative along E_ij is Re(inv_t_ij), along i E_ij it is -Im(inv_t_ij)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = 1.0
        d_re = fg.jvp(lambda x: L.slogdet(x).logabsdet, (a,), (e,))[1]
        d_im = fg.jvp(lambda x: L.slogdet(x).logabsdet, (a,), (1j * e,))[1]
        np.testing.assert_allclose(d_re - 1j * d_im, inv_t[idx], rtol=1e-12)
    g = fg.grad(L.det, holomorphic=True)(a)
    np.testing.assert_allclose(g, np.linalg.det(a) * inv_t, rtol=1e-11)
    # the phase: d sign = i Im(trace(A^{-1} dA)) sign
    t = cnormal(3, 3)
    sign = np.linalg.slogdet(a).sign
    want = 1j * np.imag(np.trace(np.linalg.solve(a, t))) * sign
    np.testing.assert_allclose(fg.jvp(lambda x: L.slogdet(x).sign, (a,), (t,))[1], want, rtol=1e-12)


def test_real_sign_stays_without_derivative():
    a = wellcond(3, 3)
    _, t_sign = fg.jvp(lambda x: L.slogdet(x).sign, (a,), (normal(3, 3),))
    assert t_sign == 0.0
    np.testing.assert_array_equal(fg.grad(lambda x: L.slogdet(x).sign * fnp.sum(x))(a),
                                  np.full((3, 3), np.linalg.slogdet(a).sign))


def test_complex_eigenvalue_and_trace_gradients_closed_form():
    h = herm(3, 3)
    w, v = np.linalg.eigh(h)
    # d trace(S) only sees the real part of the diagonal: grad = I (real), in both modes
    for g in _grads_both_modes(lambda x: fnp.sum(L.eigvalsh(x)), h):
        np.testing.assert_allclose(g, np.eye(3), atol=1e-12)
    # dw_i = Re(v_i^H dS v_i) with dS Hermitian from the lower triangle: the gradient is
    # tril(conj(v v^H)) mirrored once (conj because grad = df/dx - i df/dy), real diagonal
    for i in range(3):
        p = np.conj(np.outer(v[:, i], v[:, i].conj()))
        want = np.tril(p, -1) + np.tril(p.conj().T, -1) + np.diag(np.real(np.diag(p)))
        np.testing.assert_allclose(fg.grad(lambda x, i=i: L.eigh(x).eigenvalues[i])(h), want, atol=1e-12)
    # singular values: grad of the nuclear norm is conj(U Vh)
    a = crect(4, 3)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(fg.grad(lambda x: L.norm(x, "nuc"))(a), np.conj(u @ vh), atol=1e-12)


def test_complex_hermitian_conventions():
    """Only one triangle is read; the imaginary part of the diagonal is ignored (as LAPACK does):
    tangents there have no effect, and cotangents there are zero."""
    s, h = hpd(3, 3), herm(3, 3)
    t = np.triu(cnormal(3, 3), 1) + 1j * np.diag(rng.standard_normal(3))
    for f, x in ((L.cholesky, s), (lambda x: L.eigh(x).eigenvalues, h),
                 (lambda x: abs2(L.eigh(x).eigenvectors), h)):
        _, dt = fg.jvp(f, (x,), (t,))
        np.testing.assert_allclose(dt, 0.0, atol=1e-13)
    w = weights((3, 3))
    g = fg.grad(lambda k: fnp.sum(w * fnp.real(L.cholesky(k))))(s)
    assert np.all(np.triu(g, 1) == 0.0) and np.all(np.imag(np.diag(g)) == 0.0)
    g = fg.grad(lambda k: fnp.sum(w * fnp.imag(L.cholesky(k, upper=True))))(s)
    assert np.all(np.tril(g, -1) == 0.0) and np.all(np.imag(np.diag(g)) == 0.0)


def test_eig_eigenvectors_follow_numpys_normalisation():
    """The eigenvector derivative is that of NumPy's output (unit norm, largest component real), so
    a finite difference of np.linalg.eig's eigenvectors matches jvp; the eigenvalue derivative is
    w_i' = (V^{-1} dA V)_ii."""
    for a in (real_eig_pair(4, 4), cwellcond(4, 4)):
        t = cnormal(4, 4) if a.dtype.kind == "c" else normal(4, 4)
        eps = 1e-6
        fd_w = (np.linalg.eig(a + eps * t)[0] - np.linalg.eig(a - eps * t)[0]) / (2 * eps)
        fd_v = (np.linalg.eig(a + eps * t)[1] - np.linalg.eig(a - eps * t)[1]) / (2 * eps)
        (w, v), (dw, dv) = fg.jvp(lambda x: tuple(L.eig(x)), (a,), (t,))
        np.testing.assert_allclose(dw, fd_w, atol=1e-7)
        np.testing.assert_allclose(dv, fd_v, atol=1e-7)
        nw, nv = np.linalg.eig(a)
        np.testing.assert_allclose(dw, np.diag(np.linalg.solve(nv, t @ nv)), atol=1e-12)


def test_eig_behind_stop_gradient_is_constant():
    a = wellcond(3, 3)
    g = fg.grad(lambda x: fnp.sum(x) * L.eigvals(fg.stop_gradient(x)).shape[0])(a)
    np.testing.assert_array_equal(g, np.full((3, 3), 3.0))


COMPLEX_VMAP_CASES = [
    ("c_solve_inv_det", lambda a, b: [L.solve(a, b), L.inv(a), L.det(a), *L.slogdet(a)],
     lambda: (cwellcond(3, 3), cnormal(3, 2))),
    ("c_cholesky", L.cholesky, lambda: (hpd(3, 3),)),
    ("c_eigh", lambda a: (lambda r: [r.eigenvalues, cproj(r.eigenvectors, 2)])(L.eigh(a)), lambda: (herm(3, 3),)),
    ("c_svd", lambda a: (lambda r: [abs2(r.U), r.S, weighted_uv(r)])(L.svd(a, full_matrices=False)),
     lambda: (crect(4, 3),)),
    ("c_qr", lambda a: list(L.qr(a)), lambda: (crect(3, 5),)),
    ("c_eig", lambda a: list(L.eig(a)), lambda: (cwellcond(3, 3),)),
    ("eig_real", lambda a: list(L.eig(a)), lambda: (real_eig_pair(3, 3),)),
]


def _real_loss(f):
    def loss(*args):
        total = 0.0
        for leaf in fg.tree_util.tree_leaves(f(*args)):
            w = weights(leaf.shape)
            total = total + fnp.sum(fnp.real(leaf) * w)
            if leaf.dtype.kind == "c":
                total = total + fnp.sum(fnp.imag(leaf) * (3.0 - w))
        return total
    return loss


@pytest.mark.parametrize("name, f, make", COMPLEX_VMAP_CASES, ids=[c[0] for c in COMPLEX_VMAP_CASES])
def test_complex_vmap_and_jit(name, f, make):
    examples, batched = _stack_examples(make)
    want = fg.tree_util.tree_map(lambda *ys: np.stack(ys), *[f(*ex) for ex in examples])
    _assert_tree_close(fg.vmap(f)(*batched), want)
    _assert_tree_close(fg.jit(f)(*examples[0]), f(*examples[0]))
    _assert_tree_close(fg.jit(f)(*batched), f(*batched))  # stacked matrices
    # derivatives: grad of a real loss, under vmap and jit, against eager per-example gradients
    loss = _real_loss(f)
    argnums = tuple(range(len(batched)))
    per_example = [fg.grad(loss, argnums=argnums)(*ex) for ex in examples]
    got = fg.vmap(fg.grad(loss, argnums=argnums))(*batched)
    for i in argnums:
        np.testing.assert_allclose(got[i], np.stack([w[i] for w in per_example]), rtol=1e-9, atol=1e-10)
    for got in (fg.jit(fg.grad(loss, argnums=argnums))(*examples[0]),
                fg.grad(fg.jit(loss), argnums=argnums)(*examples[0])):
        for g, w in zip(got, per_example[0]):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    tangents = tuple(cnormal(*a.shape) if a.dtype.kind == "c" else normal(*a.shape) for a in examples[0])
    _assert_tree_close(fg.jvp(fg.jit(f), examples[0], tangents), fg.jvp(f, examples[0], tangents))
