"""funcgrad.scipy.linalg: values against SciPy, derivatives against finite differences (to second
order, both modes), closed forms and SciPy's own Fréchet derivative, vmap against a Python loop,
jit against eager, dtypes, empty stacks, errors; and the Gaussian-process example script."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import zlib

import numpy as np
import pytest
import scipy.linalg as sl

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl
from funcgrad.scipy import _linalg_prims as P
from funcgrad.test_util import check_grads

ROOT = pathlib.Path(__file__).resolve().parent.parent

# --- operand generators (rng, shape) -> array; chosen so that solves are well conditioned --------


def MAT(rng, shape):
    return rng.uniform(-1.0, 1.0, shape)


def TRI(rng, shape):  # any entries, diagonal of magnitude >= 1.5 (both triangles are solvable)
    n = shape[-1]
    signs = rng.choice([-1.0, 1.0], shape[:-1])
    return rng.uniform(-0.5, 0.5, shape) + np.eye(n) * signs[..., None, :] * 2.0


def SPD(rng, shape):
    m = rng.standard_normal(shape)
    return m @ np.swapaxes(m, -1, -2) / shape[-1] + np.eye(shape[-1])


def POSEIG(rng, shape):  # nonsymmetric, eigenvalues near 2 (real principal square root)
    return rng.uniform(-0.4, 0.4, shape) + 2.0 * np.eye(shape[-1])


def SYLV(rng, shape):  # eigenvalues near 2: A and B never have eigenvalues summing to 0
    return rng.uniform(-0.5, 0.5, shape) + 2.0 * np.eye(shape[-1])


def SMALL(rng, shape):  # expm arguments of moderate norm
    return rng.uniform(-0.7, 0.7, shape)


def BAND(l, u):
    def gen(rng, shape):
        ab = rng.uniform(-0.5, 0.5, shape)
        diag_shape = shape[:-2] + shape[-1:]
        ab[..., u, :] = rng.choice([-1.0, 1.0], diag_shape) * rng.uniform(2.5, 3.0, diag_shape)
        return ab

    return gen


def CPLX(gen):
    def g(rng, shape):
        return gen(rng, shape) + 0.3j * rng.uniform(-1.0, 1.0, shape)

    return g


def F32(gen):
    return lambda rng, shape: gen(rng, shape).astype(np.float32)


def make(case_id, shapes, gens):
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    return tuple(np.asarray(g(rng, s)) for g, s in zip(gens, shapes))


# --- the table: (id, funcgrad function, SciPy reference, operand shapes, generators, exact) ------
# exact: the value equals SciPy's bit for bit (the primitive calls SciPy); compositions agree to
# rounding.


def st(**kw):
    return (lambda a, b: fsl.solve_triangular(a, b, **kw)), (lambda a, b: sl.solve_triangular(a, b, **kw))


def banded(l, u):
    return (lambda ab, b: fsl.solve_banded((l, u), ab, b)), (lambda ab, b: sl.solve_banded((l, u), ab, b))


def cho(lower):
    return ((lambda a, b: fsl.cho_solve(fsl.cho_factor(a, lower=lower), b)),
            (lambda a, b: sl.cho_solve(sl.cho_factor(a, lower=lower), b)))


CASES = [
    ("solve_triangular[upper]", *st(), ((3, 3), (3, 2)), (TRI, MAT), True),
    ("solve_triangular[lower]", *st(lower=True), ((3, 3), (3, 2)), (TRI, MAT), True),
    ("solve_triangular[trans=T]", *st(trans="T"), ((3, 3), (3, 2)), (TRI, MAT), True),
    ("solve_triangular[lower,trans=1]", *st(lower=True, trans=1), ((4, 4), (4,)), (TRI, MAT), True),
    ("solve_triangular[trans=C,real]", *st(trans="C"), ((3, 3), (3, 2)), (TRI, MAT), True),
    ("solve_triangular[unit_diagonal]", *st(unit_diagonal=True), ((3, 3), (3, 2)), (TRI, MAT), True),
    ("solve_triangular[lower,unit,trans=1]", *st(lower=True, unit_diagonal=True, trans=1), ((3, 3), (3,)),
     (TRI, MAT), True),
    ("solve_triangular[vector]", *st(lower=True), ((3, 3), (3,)), (TRI, MAT), True),
    ("solve_triangular[stacked,vector b]", *st(lower=True), ((2, 3, 3), (3,)), (TRI, MAT), True),
    ("solve_triangular[broadcast]", *st(), ((2, 1, 3, 3), (4, 3, 2)), (TRI, MAT), True),
    ("solve_triangular[complex,trans=C]", *st(lower=True, trans=2), ((3, 3), (3, 2)), (CPLX(TRI), CPLX(MAT)), True),
    ("solve_triangular[complex,trans=T]", *st(trans=1), ((3, 3), (3, 2)), (CPLX(TRI), MAT), True),
    ("solve_triangular[float32]", *st(lower=True), ((3, 3), (3, 2)), (F32(TRI), F32(MAT)), True),
    ("cho_solve[upper]", *cho(False), ((3, 3), (3, 2)), (SPD, MAT), False),
    ("cho_solve[lower,vector]", *cho(True), ((4, 4), (4,)), (SPD, MAT), False),
    ("cho_solve[stacked]", *cho(True), ((2, 3, 3), (2, 3, 1)), (SPD, MAT), False),
    ("cho_factor[upper]", lambda a: fsl.cho_factor(a)[0], lambda a: sl.cho_factor(a)[0], ((3, 3),), (SPD,), False),
    ("cho_factor[lower]", lambda a: fsl.cho_factor(a, lower=True)[0], lambda a: sl.cho_factor(a, lower=True)[0],
     ((3, 3),), (SPD,), False),
    ("cholesky", fsl.cholesky, sl.cholesky, ((3, 3),), (SPD,), False),
    ("cholesky[lower]", lambda a: fsl.cholesky(a, lower=True), lambda a: sl.cholesky(a, lower=True), ((3, 3),),
     (SPD,), False),
    ("sqrtm[spd]", fsl.sqrtm, sl.sqrtm, ((3, 3),), (SPD,), True),
    ("sqrtm[nonsymmetric]", fsl.sqrtm, sl.sqrtm, ((3, 3),), (POSEIG,), True),
    ("sqrtm[stacked]", fsl.sqrtm, sl.sqrtm, ((2, 3, 3),), (POSEIG,), True),
    ("sqrtm[complex]", fsl.sqrtm, sl.sqrtm, ((2, 2),), (CPLX(POSEIG),), True),
    ("sqrtm[1x1]", fsl.sqrtm, sl.sqrtm, ((1, 1),), (POSEIG,), True),
    ("solve_sylvester", fsl.solve_sylvester, sl.solve_sylvester, ((3, 3), (2, 2), (3, 2)), (SYLV, SYLV, MAT), True),
    ("solve_sylvester[stacked]", fsl.solve_sylvester, sl.solve_sylvester, ((2, 2, 2), (3, 3), (2, 2, 3)),
     (SYLV, SYLV, MAT), True),
    ("solve_sylvester[complex]", fsl.solve_sylvester, sl.solve_sylvester, ((2, 2), (2, 2), (2, 2)),
     (CPLX(SYLV), CPLX(SYLV), CPLX(MAT)), True),
    # a real b with complex eigenvalues next to a complex a: SciPy 1.17 returns a wrong solution
    # (see test_solve_sylvester_mixed_complex_real); funcgrad solves in complex arithmetic
    ("solve_sylvester[complex a,real b]", fsl.solve_sylvester,
     lambda a, b, q: sl.solve_sylvester(a, b.astype(complex), q), ((2, 2), (2, 2), (2, 2)),
     (CPLX(SYLV), SYLV, CPLX(MAT)), True),
    ("solve_banded[1,1]", *banded(1, 1), ((3, 5), (5, 2)), (BAND(1, 1), MAT), True),
    ("solve_banded[2,1]", *banded(2, 1), ((4, 5), (5,)), (BAND(2, 1), MAT), True),
    ("solve_banded[0,2]", *banded(0, 2), ((3, 4), (4, 2)), (BAND(0, 2), MAT), True),
    ("solve_banded[1,0]", *banded(1, 0), ((2, 4), (4,)), (BAND(1, 0), MAT), True),
    ("solve_banded[0,0]", *banded(0, 0), ((1, 3), (3, 2)), (BAND(0, 0), MAT), True),
    ("solve_banded[wide band]", *banded(3, 3), ((7, 3), (3,)), (BAND(3, 3), MAT), True),
    ("solve_banded[1x1]", *banded(0, 0), ((1, 1), (1, 2)), (BAND(0, 0), MAT), True),
    ("solve_banded[stacked]", *banded(1, 2), ((2, 4, 5), (2, 5, 1)), (BAND(1, 2), MAT), True),
    ("expm", fsl.expm, sl.expm, ((3, 3),), (SMALL,), True),
    ("expm[stacked]", fsl.expm, sl.expm, ((2, 3, 3),), (SMALL,), True),
    ("expm[complex]", fsl.expm, sl.expm, ((2, 2),), (CPLX(SMALL),), True),
    ("expm[float32]", fsl.expm, sl.expm, ((3, 3),), (F32(SMALL),), True),
    ("expm_frechet", lambda a, e: fsl.expm_frechet(a, e, compute_expm=False),
     lambda a, e: sl.expm_frechet(a, e, compute_expm=False), ((3, 3), (3, 3)), (SMALL, MAT), False),
]
IDS = [c[0] for c in CASES]


def _args(case):
    cid, _, _, shapes, gens, _ = case
    return make(cid, shapes, gens)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_matches_scipy(case):
    _, fn, ref, _, _, exact = case
    args = _args(case)
    got, want = fn(*args), ref(*args)
    assert type(got) is np.ndarray
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        tol = 1e-5 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_derivatives_match_finite_differences(case):
    """jvp and vjp against central differences, to second order, and <vjp(ct), t> = <ct, jvp(t)>."""
    args = _args(case)
    order = 1 if any(a.dtype == np.float32 for a in args) else 2
    check_grads(case[1], args, order=order)


def _examples(case):
    """Three examples of the case's operands."""
    cid, _, _, shapes, gens, _ = case
    return [make(f"{cid}/{k}", shapes, gens) for k in range(3)]


VMAP_CASES = [c for c in CASES if "float32" not in c[0]]
VMAP_PARAMS = [pytest.param(c, v, id=f"{c[0]}-{v}") for c in VMAP_CASES
               for v in ("front", "last") + (("first-unbatched", "last-unbatched") if len(c[3]) > 1 else ())]


@pytest.mark.parametrize("case, variant", VMAP_PARAMS)
def test_vmap_matches_python_loop(case, variant):
    fn = case[1]
    examples = _examples(case)
    n = len(examples[0])
    axes = {"front": (0,) * n, "last": (-1,) * n, "first-unbatched": (None,) + (0,) * (n - 1),
            "last-unbatched": (1,) * (n - 1) + (None,)}[variant]
    inputs = [examples[0][k] if ax is None else np.stack([e[k] for e in examples], axis=ax)
              for k, ax in enumerate(axes)]
    want = np.stack([fn(*[examples[0][k] if axes[k] is None else e[k] for k in range(n)]) for e in examples])
    got = fg.vmap(fn, in_axes=axes)(*inputs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def _loss(fn):
    def loss(*args):
        out = fn(*args)
        w = np.cos(np.arange(out.size)).reshape(out.shape) + 1.5
        return fnp.sum(fnp.real(out * w))

    return loss


@pytest.mark.parametrize("case", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_of_grad_matches_python_loop(case):
    fn = case[1]
    examples = _examples(case)
    n = len(examples[0])
    argnums = tuple(range(n))
    g = fg.grad(_loss(fn), argnums=argnums)
    inputs = [np.stack([e[k] for e in examples]) for k in range(n)]
    got = fg.vmap(g)(*inputs)
    want = [g(*e) for e in examples]
    for k in range(n):
        np.testing.assert_allclose(got[k], np.stack([w[k] for w in want]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_matches_eager(case):
    fn = case[1]
    args = _args(case)
    jf = fg.jit(fn)
    np.testing.assert_array_equal(jf(*args), fn(*args))
    np.testing.assert_array_equal(jf(*args), fn(*args))  # from the cache
    assert jf.cache_info().misses == 1
    argnums = tuple(range(len(args)))
    g = fg.grad(_loss(fn), argnums=argnums)
    tol = 1e-4 if any(a.dtype == np.float32 for a in args) else 1e-12
    for got, want in zip(fg.jit(g)(*args), g(*args)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    for got, want in zip(fg.grad(fg.jit(_loss(fn)), argnums=argnums)(*args), g(*args)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


PRIMS = ["solve_triangular", "solve_sylvester", "sqrtm", "solve_banded", "expm"]


@pytest.mark.parametrize("name", PRIMS)
def test_jit_stages_the_primitive_without_running_it(name, monkeypatch):
    """Shapes and dtypes come from abstract rules, not from running SciPy on placeholders (a zero
    triangular or banded matrix would be singular)."""
    case = next(c for c in CASES if c[0].startswith(name) and "complex" not in c[0])
    args = _args(case)
    prim = getattr(P, f"{name}_p")

    def boom(*a, **k):
        raise AssertionError("impl ran while tracing")

    monkeypatch.setattr(prim, "impl", boom)
    prog = fg.make_trace(case[1])(*args)
    assert name in [e.prim.name for e in prog.eqns]


# --- derivatives against closed forms and SciPy ----------------------------------------------------


def test_expm_derivative_matches_scipy_expm_frechet():
    rng = np.random.default_rng(1)
    a, e = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((4, 4))
    _, tangent = fg.jvp(fsl.expm, (a,), (e,))
    np.testing.assert_allclose(tangent, sl.expm_frechet(a, e, compute_expm=False), rtol=1e-12, atol=1e-12)
    ct = rng.standard_normal((4, 4))
    (abar,) = fg.vjp(fsl.expm, a)[1](ct)
    np.testing.assert_allclose(abar, sl.expm_frechet(a.T, ct, compute_expm=False), rtol=1e-12, atol=1e-12)
    exp_a, frechet = fsl.expm_frechet(a, e)
    np.testing.assert_allclose(exp_a, sl.expm(a), rtol=1e-13)
    np.testing.assert_allclose(frechet, sl.expm_frechet(a, e)[1], rtol=1e-12, atol=1e-12)


def test_expm_of_diagonal_has_elementwise_derivative():
    d = np.array([0.3, -1.0, 2.0])
    _, tangent = fg.jvp(fsl.expm, (np.diag(d),), (np.diag([1.0, 2.0, 3.0]),))
    np.testing.assert_allclose(tangent, np.diag(np.exp(d) * [1.0, 2.0, 3.0]), rtol=1e-13)


def test_sqrtm_derivative_solves_the_sylvester_equation():
    rng = np.random.default_rng(2)
    a = POSEIG(rng, (4, 4))
    da = rng.standard_normal((4, 4))
    x, dx = fg.jvp(fsl.sqrtm, (a,), (da,))
    np.testing.assert_allclose(x @ dx + dx @ x, da, rtol=1e-12, atol=1e-12)
    # scalar case: d sqrt(a) = da / (2 sqrt(a))
    g = fg.grad(lambda m: fnp.sum(fsl.sqrtm(m)))(np.array([[4.0]]))
    np.testing.assert_allclose(g, [[0.25]])


def test_sqrtm_of_a_matrix_with_a_negative_eigenvalue_is_complex_as_in_scipy():
    a = np.array([[-1.0, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(fsl.sqrtm(a), sl.sqrtm(a))
    assert fsl.sqrtm(a).dtype == np.complex128
    # complex input, eigenvalue away from the branch cut of the principal square root
    check_grads(fsl.sqrtm, (a + np.array([[0.5j, 0.1], [0.1, 0.0]]),), order=2)


def test_solve_triangular_derivative_lives_on_the_triangle_that_is_read():
    rng = np.random.default_rng(3)
    a, b = TRI(rng, (4, 4)), MAT(rng, (4, 2))
    for lower in (True, False):
        for unit in (False, True):
            (abar,) = fg.vjp(lambda a: fsl.solve_triangular(a, b, lower=lower, unit_diagonal=unit), a)[1](
                np.ones((4, 2)))
            unread = np.triu(np.ones((4, 4)), 1) if lower else np.tril(np.ones((4, 4)), -1)
            if unit:
                unread = unread + np.eye(4)
            assert np.all(abar[unread == 1] == 0)
            assert np.all(abar[unread == 0] != 0)
            # closed form on the read part: -A^{-T} ct x^T
            m = np.tril(a, -int(unit)) if lower else np.triu(a, int(unit))
            if unit:
                m = m + np.eye(4)
            x = np.linalg.solve(m, b)
            want = -np.linalg.solve(m.T, np.ones((4, 2))) @ x.T
            np.testing.assert_allclose(abar[unread == 0], want[unread == 0], rtol=1e-12)


def test_solve_banded_matches_a_dense_solve_and_its_gradient():
    rng = np.random.default_rng(4)
    l, u, n = 2, 1, 6
    ab = BAND(l, u)(rng, (l + u + 1, n))
    dense = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if -u <= i - j <= l:
                dense[i, j] = ab[u + i - j, j]
    b = rng.standard_normal(n)
    np.testing.assert_allclose(fsl.solve_banded((l, u), ab, b), np.linalg.solve(dense, b), rtol=1e-12)
    ct = rng.standard_normal(n)
    ab_bar, b_bar = fg.vjp(lambda ab, b: fsl.solve_banded((l, u), ab, b), ab, b)[1](ct)
    x = np.linalg.solve(dense, b)
    b_want = np.linalg.solve(dense.T, ct)
    np.testing.assert_allclose(b_bar, b_want, rtol=1e-12)
    a_want = -np.outer(b_want, x)
    for r in range(l + u + 1):
        for j in range(n):
            i = r - u + j
            want = a_want[i, j] if 0 <= i < n else 0.0  # entries outside the matrix are not read
            assert ab_bar[r, j] == pytest.approx(want, rel=1e-12, abs=1e-14)


def test_cho_factor_other_triangle_is_a_and_gets_the_identity_derivative():
    rng = np.random.default_rng(5)
    a = SPD(rng, (3, 3))
    c, lower = fsl.cho_factor(a)
    assert lower is False
    np.testing.assert_array_equal(np.tril(c, -1), np.tril(a, -1))
    (abar,) = fg.vjp(lambda a: fsl.cho_factor(a)[0], a)[1](np.tril(np.ones((3, 3)), -1))
    np.testing.assert_array_equal(abar, np.tril(np.ones((3, 3)), -1))


def test_cho_solve_gradient_matches_inverse_formula():
    rng = np.random.default_rng(6)
    a, b = SPD(rng, (4, 4)), rng.standard_normal(4)
    # f(A) = b^T A^{-1} b, with A read from one triangle: df/dA_sym = -(A^{-1} b)(A^{-1} b)^T
    g = fg.grad(lambda a: b @ fsl.cho_solve(fsl.cho_factor(a, lower=True), b))(a)
    x = np.linalg.solve(a, b)
    full = -np.outer(x, x)
    want = np.tril(full) + np.tril(full.T, -1)  # the cotangent of the lower triangle that is read
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_sylvester_derivative_identity():
    rng = np.random.default_rng(7)
    a, b, q = SYLV(rng, (3, 3)), SYLV(rng, (2, 2)), MAT(rng, (3, 2))
    da, db, dq = (rng.standard_normal(s) for s in ((3, 3), (2, 2), (3, 2)))
    x, dx = fg.jvp(fsl.solve_sylvester, (a, b, q), (da, db, dq))
    np.testing.assert_allclose(a @ dx + dx @ b, dq - da @ x - x @ db, rtol=1e-12, atol=1e-12)


def test_solve_sylvester_mixed_complex_real():
    a = np.array([[2.0 + 0.3j, 0.1], [0.0, 1.5]])
    b = np.array([[1.0, 2.0], [-2.0, 1.0]])  # real, eigenvalues 1 +- 2i
    q = np.array([[1.0, 2.0], [3.0, 4.0j]])
    x = fsl.solve_sylvester(a, b, q)
    np.testing.assert_allclose(a @ x + x @ b, q, atol=1e-13)
    check_grads(fsl.solve_sylvester, (a, b, q), order=2)


def test_hessian_through_solve_triangular():
    """Third-order mixing of the rules: jacfwd(jacrev(.)) against finite differences of the gradient."""
    rng = np.random.default_rng(8)
    a, b = TRI(rng, (3, 3)), MAT(rng, (3,))

    def f(b):
        return fnp.sum(fsl.solve_triangular(a + fnp.outer(b, b), b, lower=True) ** 2)

    h = fg.hessian(f)(b)
    g = fg.grad(f)
    eps = 1e-6
    fd = np.stack([(g(b + eps * e) - g(b - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6)


# --- dtypes, empty stacks, errors --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.complex64, np.complex128])
def test_dtypes_follow_scipy(dtype):
    rng = np.random.default_rng(9)
    a = (np.eye(3) * 3 + rng.integers(-1, 2, (3, 3))).astype(dtype)
    b = rng.integers(-2, 3, (3, 2)).astype(dtype)
    ab = np.stack([np.ones(3), 3 * np.ones(3), np.ones(3)]).astype(dtype)
    pairs = [
        (fsl.solve_triangular(a, b), sl.solve_triangular(a, b)),
        (fsl.expm(a * 0.1 if dtype != np.int64 else a), sl.expm(a * 0.1 if dtype != np.int64 else a)),
        (fsl.solve_banded((1, 1), ab, b), sl.solve_banded((1, 1), ab, b)),
        (fsl.sqrtm(a), sl.sqrtm(a)),
    ]
    if dtype != np.int64:
        pairs.append((fsl.solve_sylvester(a, a, b[:, :1] * np.ones(3, dtype)),
                      sl.solve_sylvester(a, a, b[:, :1] * np.ones(3, dtype))))
    for got, want in pairs:
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_float32_gradients_stay_float32():
    rng = np.random.default_rng(10)
    a, b = TRI(rng, (3, 3)).astype(np.float32), MAT(rng, (3, 2)).astype(np.float32)
    ga, gb = fg.grad(lambda a, b: fnp.sum(fsl.solve_triangular(a, b)), argnums=(0, 1))(a, b)
    assert ga.dtype == gb.dtype == np.float32
    (g,) = fg.vjp(fsl.expm, a * 0.1)[1](np.ones((3, 3), np.float32))
    assert g.dtype == np.float32


def test_empty_stacks_give_empty_results():
    a, b = np.zeros((0, 3, 3)), np.zeros((0, 3, 2))
    assert fsl.solve_triangular(a, b).shape == (0, 3, 2)
    assert fsl.expm(a).shape == (0, 3, 3)
    assert fsl.sqrtm(a).shape == (0, 3, 3)
    assert fsl.solve_sylvester(a, a, np.zeros((0, 3, 3))).shape == (0, 3, 3)
    assert fsl.solve_banded((1, 1), np.zeros((0, 3, 3)), b).shape == (0, 3, 2)
    g = fg.grad(lambda a: fnp.sum(fsl.solve_triangular(a + np.eye(3), b)))(a)
    assert g.shape == (0, 3, 3)


def test_errors_are_clear():
    a, b = np.eye(3), np.ones((3, 2))
    with pytest.raises(ValueError, match="trans must be"):
        fsl.solve_triangular(a, b, trans=3)
    with pytest.raises(ValueError, match="square"):
        fsl.solve_triangular(np.ones((3, 2)), b)
    with pytest.raises(ValueError, match="incompatible"):
        fsl.solve_triangular(a, np.ones(4))
    with pytest.raises(ValueError, match="rows"):
        fsl.solve_triangular(a, np.ones((4, 2)))
    with pytest.raises(ValueError, match="l\\+u\\+1"):
        fsl.solve_banded((1, 1), np.ones((2, 3)), np.ones(3))
    with pytest.raises(TypeError, match="pair of integers"):
        fsl.solve_banded(1, np.ones((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="q must have shape"):
        fsl.solve_sylvester(a, np.eye(2), np.ones((3, 3)))
    with pytest.raises(ValueError, match="square"):
        fsl.expm(np.ones(3))
    with pytest.raises(TypeError, match="cho_factor"):
        fsl.cho_solve(np.eye(3), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError):
        fsl.solve_triangular(np.zeros((2, 2)), np.ones(2))


def test_import_funcgrad_does_not_import_scipy():
    code = ("import sys, funcgrad, funcgrad.numpy\n"
            "print(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# --- the Gaussian-process example ---------------------------------------------------------------------


def test_gaussian_process_example_runs():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "gaussian_process.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"gaussian_process.py failed:\n{proc.stdout}\n{proc.stderr}"
    assert "gradient matches finite differences" in proc.stdout
    assert "GP hyperparameters fitted" in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr
