"""multivariate_normal.cdf / logcdf: values against SciPy, derivatives against finite differences of
SciPy's cdf and closed forms, vmap and jit.

SciPy is called once per point with a fresh ``np.random.default_rng(seed)``, as funcgrad does.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.stats as sps
from scipy.special import ndtr

import funcgrad as fg
from funcgrad.scipy.stats import multivariate_normal as mvn

TIGHT = {"abseps": 1e-7, "releps": 1e-7}
S2 = np.array([[1.3, 0.4], [0.4, 0.8]])
S3 = np.array([[1.0, 0.3, 0.2], [0.3, 2.0, -0.4], [0.2, -0.4, 1.5]])


def scipy_cdf(x, mean, cov, seed=0, **kw):
    x = np.asarray(x, float)
    n = np.shape(mean)[0]
    pts = x.reshape(-1, n)
    vals = [sps.multivariate_normal.cdf(p, mean, cov, rng=np.random.default_rng(seed), **kw) for p in pts]
    return np.squeeze(np.asarray(vals).reshape(x.shape[:-1]))


def fd(f, x, h):
    """Central differences of the scalar f along each entry of x (symmetric pairs for matrices)."""
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        if x.ndim == 2 and idx[0] != idx[1]:  # a symmetric perturbation, split equally
            e[idx[::-1]] = h
        d = (f(x + e) - f(x - e)) / (2 * h)
        g[idx] = d / 2 if x.ndim == 2 and idx[0] != idx[1] else d
    return g


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("x, mean, cov", [
    (np.array([0.2, -0.4]), np.array([0.1, 0.2]), S2),
    (np.array([[0.2, -0.4], [1.0, 0.5], [-1.0, 2.0]]), np.array([0.1, 0.2]), S2),
    (np.array([0.3, 0.1, -0.2]), np.zeros(3), S3),
    (np.array([0.3, 0.1, -0.2]), np.array([0.0, 1.0, -1.0]), np.array([1.0, 2.0, 0.5])),
    (np.array([0.5, -0.5]), np.zeros(2), 2.0),
])
def test_values_match_scipy(x, mean, cov):
    full = cov if np.ndim(cov) == 2 else np.diag(np.broadcast_to(cov, mean.shape))
    want = scipy_cdf(x, mean, full)
    got = mvn.cdf(x, mean, cov)
    assert got.shape == np.shape(want)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(mvn.logcdf(x, mean, cov), np.log(want))


def test_single_point_equals_scipy_with_the_same_seed_and_tolerances():
    x = np.array([0.3, 0.1, -0.2])
    want = sps.multivariate_normal.cdf(x, None, S3, rng=np.random.default_rng(5), maxpts=50000, **TIGHT)
    assert mvn.cdf(x, None, S3, rng=5, maxpts=50000, **TIGHT) == want
    want = sps.multivariate_normal.logcdf(x, None, S3, rng=np.random.default_rng(5), maxpts=50000, **TIGHT)
    assert mvn.logcdf(x, None, S3, rng=5, maxpts=50000, **TIGHT) == want


def test_one_dimension_is_ndtr():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(mvn.cdf(x, 0.4, 2.0), ndtr((x - 0.4) / np.sqrt(2.0)), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(mvn.cdf(x, 0.4, 2.0), sps.multivariate_normal.cdf(x, 0.4, 2.0))


def test_float32_stays_float32():
    x, m, s = (np.asarray(a, np.float32) for a in (np.array([0.2, -0.4]), np.zeros(2), S2))
    assert mvn.cdf(x, m, s).dtype == np.float32
    assert fg.grad(mvn.cdf, argnums=(0, 2))(x, m, s)[1].dtype == np.float32


# --- closed forms -------------------------------------------------------------------------------


def _phi(z, s):
    return np.exp(-0.5 * z * z / s) / np.sqrt(2 * np.pi * s)


def test_one_dimension_derivatives_closed_form():
    x, m, s = 0.7, -0.2, 1.7
    z = x - m
    gx, gm, gs = fg.grad(mvn.cdf, argnums=(0, 1, 2))(x, m, s)
    np.testing.assert_allclose([gx, gm, gs], [_phi(z, s), -_phi(z, s), -z / (2 * s) * _phi(z, s)], rtol=1e-13)
    # second order: d2/dx2 = -(z/s) phi, d2/ds dx = d/ds phi = phi (z^2/(2 s^2) - 1/(2 s))
    np.testing.assert_allclose(fg.grad(fg.grad(mvn.cdf))(x, m, s), -z / s * _phi(z, s), rtol=1e-13)
    np.testing.assert_allclose(fg.grad(fg.grad(mvn.cdf), argnums=2)(x, m, s),
                               _phi(z, s) * (z * z / (2 * s * s) - 1 / (2 * s)), rtol=1e-13)
    np.testing.assert_allclose(fg.grad(mvn.logcdf)(x, m, s), _phi(z, s) / ndtr(z / np.sqrt(s)), rtol=1e-13)


@pytest.mark.parametrize("n", [2, 3])
def test_independent_components_product_of_1d(n):
    rng = np.random.default_rng(n)
    x, m, v = rng.normal(size=n), rng.normal(size=n) * 0.3, rng.uniform(0.5, 2.0, n)
    z = x - m
    cdfs, pdfs = ndtr(z / np.sqrt(v)), _phi(z, v)
    kw = TIGHT if n == 3 else {}
    tol = 1e-7 if n == 3 else 1e-13
    np.testing.assert_allclose(mvn.cdf(x, m, np.diag(v), **kw), np.prod(cdfs), rtol=tol)
    gx, gm, gS = fg.grad(lambda x, m, S: mvn.cdf(x, m, S, **kw), argnums=(0, 1, 2))(x, m, np.diag(v))
    others = [np.prod(np.delete(cdfs, i)) for i in range(n)]
    np.testing.assert_allclose(gx, pdfs * others, rtol=tol)
    np.testing.assert_allclose(gm, -pdfs * others, rtol=tol)
    want = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                want[i, i] = -z[i] / (2 * v[i]) * pdfs[i] * others[i]
            else:  # half of d2/dx_i dx_j: the symmetric pair's derivative split equally
                want[i, j] = 0.5 * pdfs[i] * pdfs[j] * np.prod(np.delete(cdfs, [i, j]))
    np.testing.assert_allclose(gS, want, rtol=tol, atol=1e-14)
    # a vector (diagonal) covariance differentiates through the diagonal
    np.testing.assert_allclose(fg.grad(lambda v: mvn.cdf(x, m, v, **kw))(v), np.diag(want), rtol=tol)


# --- finite differences of SciPy's cdf ----------------------------------------------------------


def test_n2_derivatives_match_finite_differences_of_scipy():
    x, m = np.array([0.2, -0.4]), np.array([0.1, 0.2])
    F = lambda x, m, S: float(scipy_cdf(x, m, S))  # noqa: E731
    gx, gm, gS = fg.grad(mvn.cdf, argnums=(0, 1, 2))(x, m, S2)
    h = 1e-5
    np.testing.assert_allclose(gx, fd(lambda y: F(y, m, S2), x, h), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(gm, fd(lambda y: F(x, y, S2), m, h), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(gS, fd(lambda y: F(x, m, y), S2, h), rtol=1e-8, atol=1e-9)
    assert np.array_equal(gS, gS.T)
    gl = fg.grad(mvn.logcdf, argnums=2)(x, m, S2)
    np.testing.assert_allclose(gl, fd(lambda y: np.log(F(x, m, y)), S2, h), rtol=1e-8, atol=1e-9)


def test_n2_hessian_in_x_matches_finite_differences_of_scipy_gradient():
    x, m = np.array([0.2, -0.4]), np.array([0.1, 0.2])
    H = fg.hessian(mvn.cdf)(x, m, S2)
    h = 1e-4
    F = lambda y: float(scipy_cdf(y, m, S2))  # noqa: E731
    want = np.array([[(F(x + h * (ei + ej)) - F(x + h * (ei - ej)) - F(x - h * (ei - ej)) + F(x - h * (ei + ej)))
                      / (4 * h * h) for ej in np.eye(2)] for ei in np.eye(2)])
    np.testing.assert_allclose(H, want, rtol=1e-5, atol=1e-7)
    # Plackett: the cov gradient is half the Hessian in x
    np.testing.assert_allclose(fg.grad(mvn.cdf, argnums=2)(x, m, S2), 0.5 * H, rtol=1e-13)


def test_n3_derivatives_match_finite_differences_of_scipy():
    x, m = np.array([0.2, -0.4, 0.5]), np.array([0.1, 0.2, 0.0])
    f = lambda x, m, S: mvn.cdf(x, m, S, **TIGHT)  # noqa: E731
    F = lambda x, m, S: float(scipy_cdf(x, m, S, **TIGHT))  # noqa: E731
    gx, gS = fg.grad(f, argnums=(0, 2))(x, m, S3)
    h = 1e-3
    np.testing.assert_allclose(gx, fd(lambda y: F(y, m, S3), x, h), atol=2e-5)
    np.testing.assert_allclose(gS, fd(lambda y: F(x, m, y), S3, h), atol=2e-5)
    np.testing.assert_allclose(fg.grad(f, argnums=1)(x, m, S3), -gx, rtol=1e-12)


def test_jvp_and_vjp_agree():
    rng = np.random.default_rng(3)
    x, m = rng.normal(size=(4, 2)), np.array([0.1, -0.3])
    ts = (rng.normal(size=x.shape), rng.normal(size=2), rng.normal(size=(2, 2)))
    ts = (ts[0], ts[1], ts[2] + ts[2].T)
    out, t_out = fg.jvp(mvn.cdf, (x, m, S2), ts)
    ct = rng.normal(size=out.shape)
    cts = fg.vjp(mvn.cdf, x, m, S2)[1](ct)
    np.testing.assert_allclose(np.sum(ct * t_out), sum(np.sum(c * t) for c, t in zip(cts, ts)), rtol=1e-12)


# --- vmap and jit -------------------------------------------------------------------------------


def _covs(k, n):
    rng = np.random.default_rng(k)
    a = rng.uniform(-0.5, 0.5, (k, n, n))
    return a @ np.swapaxes(a, -1, -2) + np.eye(n)


def test_vmap_over_points_means_and_covariances_equals_a_loop():
    rng = np.random.default_rng(0)
    xs, ms, Ss = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)) * 0.2, _covs(3, 2)
    want = np.array([mvn.cdf(xs[i], ms[i], Ss[i]) for i in range(3)])
    np.testing.assert_array_equal(fg.vmap(mvn.cdf)(xs, ms, Ss), want)
    np.testing.assert_array_equal(fg.vmap(mvn.cdf, in_axes=(0, None, None))(xs, ms[0], Ss[0]),
                                  [mvn.cdf(xs[i], ms[0], Ss[0]) for i in range(3)])
    np.testing.assert_array_equal(fg.vmap(mvn.cdf, in_axes=(None, None, 0))(xs[0], ms[0], Ss),
                                  [mvn.cdf(xs[0], ms[0], Ss[i]) for i in range(3)])
    g = fg.vmap(fg.grad(mvn.cdf, argnums=(0, 2)))(xs, ms, Ss)
    for i in range(3):
        gi = fg.grad(mvn.cdf, argnums=(0, 2))(xs[i], ms[i], Ss[i])
        np.testing.assert_allclose(g[0][i], gi[0], rtol=1e-13)
        np.testing.assert_allclose(g[1][i], gi[1], rtol=1e-13)


def test_jit_values_and_gradients_equal_eager():
    x, m = np.array([[0.2, -0.4], [0.3, 0.9]]), np.array([0.1, 0.2])
    f = lambda x, m, S: fg.numpy.sum(mvn.logcdf(x, m, S))  # noqa: E731
    np.testing.assert_array_equal(fg.jit(mvn.cdf)(x, m, S2), mvn.cdf(x, m, S2))
    got = fg.jit(fg.grad(f, argnums=(0, 1, 2)))(x, m, S2)
    want = fg.grad(f, argnums=(0, 1, 2))(x, m, S2)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    prog = fg.make_trace(mvn.cdf)(x, m, S2)
    assert "mvn_cdf" in [e.prim.name for e in prog.eqns]


def test_jit_n3_with_tight_tolerances():
    x = np.array([0.2, -0.4, 0.5])
    f = lambda x, S: mvn.cdf(x, None, S, **TIGHT)  # noqa: E731
    assert fg.jit(f)(x, S3) == f(x, S3)


# --- errors and imports -------------------------------------------------------------------------


def test_unsupported_arguments_raise():
    x = np.array([0.2, -0.4])
    with pytest.raises(TypeError, match="integer seed"):
        mvn.cdf(x, None, S2, rng=np.random.default_rng(0))
    with pytest.raises(NotImplementedError, match="lower_limit"):
        mvn.cdf(x, None, S2, lower_limit=np.zeros(2))
    with pytest.raises(NotImplementedError, match="allow_singular"):
        mvn.logcdf(x, None, S2, allow_singular=True)
    with pytest.raises(ValueError):
        mvn.cdf(np.zeros(3), None, S2)


def test_import_funcgrad_does_not_import_scipy():
    code = "import sys, funcgrad, funcgrad.scipy.stats; assert 'scipy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
