"""The location-scale families JAX's ``jax.scipy.stats`` has beyond the original eight (``expon``,
``uniform``, ``laplace``, ``logistic``, ``cauchy``), ``norm.ppf``/``isf`` and ``special.ndtri``:
values against SciPy (in the support, at its boundary, outside it, infinities, invalid scales,
broadcasting, float32), derivatives by finite differences in ``x``, ``loc`` and ``scale`` (order 2,
both modes) and against closed forms, and import by dotted path."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

st = pytest.importorskip("scipy.stats")
sc = pytest.importorskip("scipy.special")

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
import funcgrad.scipy.special as fsp  # noqa: E402
import funcgrad.scipy.stats as fs  # noqa: E402
from funcgrad.test_util import check_grads  # noqa: E402

DISTS = ["expon", "uniform", "laplace", "logistic", "cauchy"]
METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
XS = np.array([-50.0, -3.0, -1.0, -0.2, 0.0, 0.3, 0.5, 1.0, 1.5, 4.0, 50.0, 800.0, np.inf, -np.inf, np.nan])


def scipy_call(f, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return f(*args)


@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("loc, scale", [(0.0, 1.0), (0.3, 2.0), (-1.0, 0.5), (0.0, np.array([1.0, -1.0, 0.0]))])
def test_values_match_scipy(dist, method, loc, scale):
    f, ref = getattr(getattr(fs, dist), method), getattr(getattr(st, dist), method)
    x = XS if np.ndim(scale) == 0 else XS[:, None]
    with np.errstate(all="ignore"):
        got = f(x, loc, scale)
    want = scipy_call(ref, x, loc, scale)
    if dist == "laplace" and method == "logpdf":  # SciPy takes log(pdf), -inf once pdf underflows
        underflow = np.isneginf(want) & np.isfinite(x) & (np.asarray(scale) > 0)
        with np.errstate(all="ignore"):
            closed = -np.abs(x - loc) / scale - np.log(2 * scale)
        np.testing.assert_allclose(got[underflow], closed[underflow], rtol=1e-15)
        want = np.where(underflow, got, want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, equal_nan=True)
    assert got.dtype == np.float64
    with np.errstate(all="ignore"):
        assert np.ndim(f(0.25)) == 0 and f(0.25) == pytest.approx(ref(0.25), rel=1e-14)
        np.testing.assert_allclose(f(x, scale=scale, loc=loc), got, rtol=0, equal_nan=True)


@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("method", METHODS)
def test_derivatives_by_finite_differences(dist, method):
    x = np.array([0.15, 0.45, 0.8]) if dist == "uniform" else np.array([0.2, 0.9, 1.7, 3.0])
    f = getattr(getattr(fs, dist), method)
    loc, scale = (-0.05, 1.1) if dist == "uniform" else (0.1, 1.3)
    check_grads(lambda x, loc, scale: f(x, loc, scale), (x, np.array(loc), np.array(scale)), order=2)


def test_derivatives_against_closed_forms():
    x = np.array([-2.0, -0.5, 0.4, 3.0])
    eg = fg.elementwise_grad
    np.testing.assert_allclose(eg(fs.logistic.logpdf)(x), -np.tanh(x / 2), rtol=1e-13)
    np.testing.assert_allclose(eg(fs.cauchy.logpdf)(x), -2 * x / (1 + x * x), rtol=1e-13)
    np.testing.assert_allclose(eg(fs.laplace.logpdf)(x), -np.sign(x), rtol=0)
    np.testing.assert_allclose(eg(fs.laplace.cdf)(x), 0.5 * np.exp(-np.abs(x)), rtol=1e-14)
    np.testing.assert_allclose(eg(fs.expon.cdf)(np.abs(x)), np.exp(-np.abs(x)), rtol=1e-14)
    # d/dscale of uniform.logpdf is -1/scale inside the support, 0 outside
    np.testing.assert_allclose(fg.grad(lambda s: fnp.sum(fs.uniform.logpdf(np.array([0.5, 1.5]), 0.0, s)))(2.0),
                               -2 / 2.0, rtol=1e-15)
    # the tails stay finite where a naive formula overflows
    assert np.isfinite(eg(fs.logistic.logpdf)(np.array([-800.0, 800.0]))).all()
    assert np.isfinite(eg(fs.laplace.cdf)(np.array([-800.0, 800.0]))).all()


def test_float32_stays_float32():
    x = np.linspace(0.1, 0.9, 5, dtype=np.float32)
    for dist in DISTS:
        got = getattr(fs, dist).logpdf(x, np.float32(0.05), np.float32(1.1))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, getattr(st, dist).logpdf(x, 0.05, 1.1), rtol=3e-6, atol=1e-6)


def test_norm_ppf_isf_and_ndtri():
    p = np.concatenate([np.logspace(-300, -1, 30), np.linspace(0.01, 0.99, 50), 1 - np.logspace(-15, -2, 10)])
    np.testing.assert_allclose(fsp.ndtri(p), sc.ndtri(p), rtol=1e-14)
    np.testing.assert_array_equal(fsp.ndtri(np.array([0.0, 1.0])), [-np.inf, np.inf])
    with np.errstate(invalid="ignore"):
        assert np.isnan(fsp.ndtri(1.5))
    q = np.array([0.01, 0.3, 0.5, 0.9])
    np.testing.assert_allclose(fs.norm.ppf(q, 1.0, 2.0), st.norm.ppf(q, 1.0, 2.0), rtol=1e-14)
    np.testing.assert_allclose(fs.norm.isf(q, 1.0, 2.0), st.norm.isf(q, 1.0, 2.0), rtol=1e-14)
    np.testing.assert_allclose(fs.norm.cdf(fs.norm.ppf(q, 0.5, 3.0), 0.5, 3.0), q, rtol=1e-14)
    # d ndtri / dp = sqrt(2 pi) exp(ndtri(p)^2 / 2)
    np.testing.assert_allclose(fg.elementwise_grad(fsp.ndtri)(q), np.sqrt(2 * np.pi) * np.exp(sc.ndtri(q) ** 2 / 2),
                               rtol=1e-13)
    check_grads(lambda q, loc, scale: fs.norm.ppf(q, loc, scale), (q, np.array(0.2), np.array(1.5)), order=2)
    assert fsp.ndtri(np.float32(0.3)).dtype == np.float32


@pytest.mark.parametrize("dist", DISTS)
def test_import_by_dotted_path_jit_and_vmap(dist):
    module = importlib.import_module(f"funcgrad.scipy.stats.{dist}")
    x = np.array([0.2, 0.6])
    np.testing.assert_allclose(fg.jit(module.logpdf)(x, 0.1, 1.5), module.logpdf(x, 0.1, 1.5), rtol=1e-15)
    np.testing.assert_allclose(fg.vmap(lambda s: module.cdf(x, 0.0, s))(np.array([1.0, 2.0])),
                               np.stack([module.cdf(x, 0.0, 1.0), module.cdf(x, 0.0, 2.0)]), rtol=1e-15)


# --- discrete: bernoulli, binom, geom ---------------------------------------------------------------

K = np.array([-1, 0, 1, 2, 3, 5, 10, 2.5, -0.5, np.nan])
DISCRETE = [("bernoulli", [(0.3,), (0.0,), (1.0,), (1.5,), (-0.1,)], ["logpmf", "pmf", "cdf", "sf"]),
            ("binom", [(4, 0.3), (10, 0.0), (10, 1.0), (2.5, 0.3), (-1, 0.3), (5, 1.2), (0, 0.4)], ["logpmf", "pmf"]),
            ("geom", [(0.3,), (1.0,), (0.0,), (1.5,)], ["logpmf", "pmf"]),
            ("nbinom", [(3, 0.5), (2.5, 0.3), (0.0, 0.5), (3, 1.0), (3, 0.0), (3, 1.2), (-1, 0.5)], ["logpmf", "pmf"]),
            ("betabinom", [(5, 1.0, 1.0), (10, 0.5, 2.5), (2.5, 1.0, 1.0), (5, -1.0, 1.0), (5, 1.0, 0.0),
                           (0, 2.0, 3.0)], ["logpmf", "pmf"])]


@pytest.mark.parametrize("dist, params, method",
                         [(d, p, m) for d, ps, ms in DISCRETE for p in ps for m in ms])
@pytest.mark.parametrize("loc", [0, 1])
def test_discrete_values_match_scipy(dist, params, method, loc):
    f, ref = getattr(getattr(fs, dist), method), getattr(getattr(st, dist), method)
    with np.errstate(all="ignore"):
        got = f(K, *params, loc)
    np.testing.assert_allclose(got, scipy_call(ref, K, *params, loc), rtol=1e-13, atol=0, equal_nan=True)
    with np.errstate(all="ignore"):
        assert np.ndim(f(2, *params)) == 0


def test_discrete_derivatives():
    p = np.array([0.3, 0.6, 0.9])
    check_grads(lambda p: fs.bernoulli.logpmf(np.array([0, 1, 1]), p), (p,), order=2)
    check_grads(lambda p: fs.bernoulli.cdf(np.array([0.5, -1.0, 2.0]), p), (p,), order=2)
    check_grads(lambda p: fs.binom.logpmf(np.array([0, 2, 4]), 4, p), (p,), order=2)
    check_grads(lambda p: fs.geom.pmf(np.array([1, 2, 5]), p), (p,), order=2)
    check_grads(lambda n, p: fs.nbinom.logpmf(np.array([0, 2, 7]), n, p), (np.array(2.5), p), order=2)
    check_grads(lambda a, b: fs.betabinom.logpmf(np.array([0, 2, 4]), 4, a, b), (p * 3, np.array(2.0)), order=2)
    # d/dp log nbinom(k; n, p) = n/p - k/(1-p)
    assert float(fg.grad(lambda p: fs.nbinom.logpmf(4.0, 2.5, p))(0.3)) == pytest.approx(2.5 / 0.3 - 4 / 0.7, rel=1e-14)
    # closed forms: d/dp log binom(k; n, p) = k/p - (n-k)/(1-p); d/dp log geom(k; p) = 1/p - (k-1)/(1-p)
    assert float(fg.grad(lambda p: fs.binom.logpmf(3.0, 5.0, p))(0.4)) == pytest.approx(3 / 0.4 - 2 / 0.6, rel=1e-14)
    assert float(fg.grad(lambda p: fs.geom.logpmf(4.0, p))(0.4)) == pytest.approx(1 / 0.4 - 3 / 0.6, rel=1e-14)
    # k (and n) enter as step functions: derivative 0
    assert float(fg.grad(lambda k: fs.binom.logpmf(k, 5.0, 0.4))(3.0)) == 0.0
    with pytest.raises(TypeError, match="missing"):
        fs.binom.logpmf(2, p=0.3)


# --- scipy.special additions: i0e, i1e, rel_entr, kl_div, factorial ------------------------------------


def test_special_additions_match_scipy_and_differentiate():
    z = np.array([-30.0, -1.0, 0.0, 0.5, 3.0, 700.0])
    np.testing.assert_allclose(fsp.i0e(z), sc.i0e(z), rtol=1e-14)
    np.testing.assert_allclose(fsp.i1e(z), sc.i1e(z), rtol=1e-14)
    check_grads(fsp.i0e, (np.array([-2.0, 0.5, 3.0]),), order=2)
    check_grads(fsp.i1e, (np.array([-2.0, 0.5, 3.0]),), order=2)
    x = np.array([0.0, 1.0, 2.0, -1.0, 0.5, np.nan, 0.0, 3.0])
    y = np.array([0.0, 2.0, 0.0, 1.0, -1.0, 1.0, 2.0, np.inf])
    for name in ("rel_entr", "kl_div"):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(getattr(fsp, name)(x, y), getattr(sc, name)(x, y))
        check_grads(getattr(fsp, name), (np.array([0.5, 2.0]), np.array([1.5, 0.3])), order=2)
    # d/dx rel_entr = log(x / y) + 1, d/dy = -x / y; at x = 0 the constant branch (derivative 0, as JAX)
    assert float(fg.grad(fsp.rel_entr)(2.0, 0.5)) == pytest.approx(np.log(4.0) + 1.0, rel=1e-15)
    assert float(fg.grad(fsp.rel_entr, argnums=1)(2.0, 0.5)) == pytest.approx(-4.0, rel=1e-15)
    assert float(fg.grad(lambda a: fsp.rel_entr(a, 2.0))(0.0)) == 0.0
    n = np.array([-1.0, 0.0, 3.5, 5.0, 170.0])
    np.testing.assert_allclose(fsp.factorial(n), sc.factorial(n), rtol=1e-14)
    check_grads(fsp.factorial, (np.array([0.5, 2.5]),), order=2)
    with pytest.raises(ValueError, match="exact"):
        fsp.factorial(3, exact=True)


# --- pareto, gumbel_r, gumbel_l, vonmises ------------------------------------------------------------

MORE = [("pareto", [(2.0,), (0.5,), (-1.0,)]), ("gumbel_r", [()]), ("gumbel_l", [()]),
        ("gennorm", [(2.0,), (0.5,), (1.0,), (8.0,), (-1.0,)])]


@pytest.mark.parametrize("dist, shapes", [(d, s) for d, ss_ in MORE for s in ss_])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("loc, scale", [(0.0, 1.0), (0.3, 2.0), (-1.0, 0.5)])
def test_more_values_match_scipy(dist, shapes, method, loc, scale):
    f, ref = getattr(getattr(fs, dist), method), getattr(getattr(st, dist), method)
    with np.errstate(all="ignore"):
        got = f(XS, *shapes, loc, scale)
    np.testing.assert_allclose(got, scipy_call(ref, XS, *shapes, loc, scale), rtol=1e-13, atol=0, equal_nan=True)


@pytest.mark.parametrize("dist", ["pareto", "gumbel_r", "gumbel_l", "gennorm"])
@pytest.mark.parametrize("method", METHODS)
def test_more_derivatives(dist, method):
    f = getattr(getattr(fs, dist), method)
    x = np.array([1.4, 2.0, 3.5]) if dist == "pareto" else np.array([-1.0, 0.2, 1.7])
    if dist == "pareto" or (dist == "gennorm" and method in ("pdf", "logpdf")):
        shape = np.array(2.5 if dist == "pareto" else 1.5)
        check_grads(lambda x, b, loc, scale: f(x, b, loc, scale), (x, shape, np.array(0.1), np.array(1.2)), order=2)
    elif dist == "gennorm":  # cdf family: not differentiable in beta (no closed form), as gamma's in a
        check_grads(lambda x, loc, scale: f(x, 1.5, loc, scale), (x, np.array(0.1), np.array(1.3)), order=2)
    else:
        check_grads(lambda x, loc, scale: f(x, loc, scale), (x, np.array(0.1), np.array(1.3)), order=2)


def test_vonmises_density():
    x = XS[:-3]
    for kappa in (0.0, 0.5, 2.0, 800.0, -1.0):
        for method in ("pdf", "logpdf"):
            with np.errstate(all="ignore"):
                np.testing.assert_allclose(getattr(fs.vonmises, method)(x, kappa, 0.3, 1.5),
                                           scipy_call(getattr(st.vonmises, method), x, kappa, 0.3, 1.5),
                                           rtol=1e-12, atol=0, equal_nan=True)
    check_grads(lambda x, k, loc: fs.vonmises.logpdf(x, k, loc), (np.array([-1.0, 0.5, 2.0]), np.array(1.5),
                                                                  np.array(0.2)), order=2)
    # d/dkappa logpdf = cos(x - loc) - i1(kappa) / i0(kappa)
    assert float(fg.grad(fs.vonmises.logpdf, argnums=1)(0.7, 2.0)) == pytest.approx(
        np.cos(0.7) - sc.i1(2.0) / sc.i0(2.0), rel=1e-13)


# --- truncnorm ---------------------------------------------------------------------------------------

XT = np.array([-50.0, -3.0, -1.0, -0.2, 0.0, 0.3, 0.5, 1.0, 1.5, 4.0, 6.0, 9.5, 50.0, 800.0, np.inf, -np.inf, np.nan])
BOUNDS = [(-1.0, 2.0), (0.5, 3.0), (5.0, np.inf), (-np.inf, -6.0), (8.0, 10.0), (-2.0, -1.0), (-np.inf, np.inf),
          (2.0, 1.0), (0.0, 0.5), (-30.0, -29.0), (-0.1, 40.0)]


@pytest.mark.parametrize("a, b", BOUNDS)
@pytest.mark.parametrize("method", METHODS)
def test_truncnorm_values_match_scipy_in_both_tails(a, b, method):
    f, ref = getattr(fs.truncnorm, method), getattr(st.truncnorm, method)
    for loc, scale in [(0.0, 1.0), (0.3, 2.0)]:
        with np.errstate(all="ignore"):
            got = f(XT, a, b, loc, scale)
        np.testing.assert_allclose(got, scipy_call(ref, XT, a, b, loc, scale), rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize("a, b", [(-1.0, 2.0), (5.0, 8.0), (-9.0, -7.0)])
@pytest.mark.parametrize("method", ["logpdf", "cdf", "logcdf", "logsf"])
def test_truncnorm_derivatives(a, b, method):
    x = np.array([a + 0.3, 0.5 * (a + b), b - 0.4])
    f = getattr(fs.truncnorm, method)
    check_grads(lambda x, a, b, loc: f(x, a, b, loc), (x, np.array(a), np.array(b), np.array(0.0)), order=2)
