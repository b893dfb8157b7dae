"""funcgrad.scipy.stats against SciPy: values (broadcasting, 0-d, loc/scale, keywords, outside the
support, at its boundary, invalid parameters, NaN and infinities, float32), derivatives by finite
differences (order 2, both modes) in the variable and every parameter, derivatives against closed
forms computed by SciPy, the clear errors, jit and vmap.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

st = pytest.importorskip("scipy.stats")
sc = pytest.importorskip("scipy.special")

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
import funcgrad.scipy.stats as fs  # noqa: E402
from funcgrad.test_util import check_grads  # noqa: E402

METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
RNG = np.random.default_rng(0)
EDGES = np.array([0.0, 1.0, -1.0, 0.5, 3.0, -0.25, np.nan, np.inf, -np.inf])
XS = np.concatenate([RNG.uniform(-3.0, 6.0, 16), EDGES])

# distribution, shape parameters to try (each a tuple), loc, scale
CONTINUOUS = [
    ("norm", [()], 0.3, 1.7),
    ("t", [(0.7,), (3.0,), (50.0,), (np.inf,), (-1.0,), (1e6,)], 0.2, 1.3),
    ("gamma", [(0.5,), (1.0,), (2.5,), (30.0,), (-1.0,)], -0.5, 2.0),
    ("chi2", [(1.0,), (2.0,), (5.0,), (0.0,)], 0.0, 1.5),
    ("beta", [(0.5, 0.7), (1.0, 1.0), (2.5, 4.0), (1.0, 3.0), (40.0, 0.8), (-1.0, 2.0)], -1.0, 3.0),
]
CONT_PARAMS = [pytest.param(d, shapes, loc, scale, m, id=f"{d}{list(shapes)}-{m}")
               for d, shape_list, loc, scale in CONTINUOUS for shapes in shape_list for m in METHODS]


def close(got, want, rtol=1e-12):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True)


def scipy_call(f, *args, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return f(*args, **kw)


# --- values -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dist, shapes, loc, scale, method", CONT_PARAMS)
def test_continuous_values_match_scipy(dist, shapes, loc, scale, method):
    f, ref = getattr(getattr(fs, dist), method), getattr(getattr(st, dist), method)
    with np.errstate(all="ignore"):
        got = f(XS, *shapes, loc, scale)
    close(got, scipy_call(ref, XS, *shapes, loc, scale))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    # keywords, defaults, 0-d
    with np.errstate(all="ignore"):
        close(f(XS, *shapes, scale=scale, loc=loc), scipy_call(ref, XS, *shapes, scale=scale, loc=loc))
        close(f(XS, *shapes), scipy_call(ref, XS, *shapes))
        close(f(1.25, *shapes), scipy_call(ref, 1.25, *shapes))
        assert np.ndim(f(1.25, *shapes)) == 0


@pytest.mark.parametrize("dist, shapes", [("norm", ()), ("t", (np.array([1.5, 4.0, 20.0, 300.0]),)),
                                          ("gamma", (np.array([0.6, 1.0, 3.0, 12.0]),)),
                                          ("chi2", (np.array([1.0, 2.0, 3.5, 9.0]),)),
                                          ("beta", (np.array([0.6, 1.0, 3.0, 12.0]), np.array([[2.0], [0.9]])))])
@pytest.mark.parametrize("method", METHODS)
def test_continuous_broadcasting(dist, shapes, method):
    f, ref = getattr(getattr(fs, dist), method), getattr(getattr(st, dist), method)
    x = RNG.uniform(0.05, 0.95, (3, 1, 1))
    loc = np.array([0.0, -0.01])[:, None]
    scale = np.array([1.0, 1.2, 0.9, 1.05])
    with np.errstate(all="ignore"):
        close(f(x, *shapes, loc, scale), scipy_call(ref, x, *shapes, loc, scale))
    bad_scale = np.array([1.0, -1.0, 0.0, 2.0])  # invalid scales give NaN
    with np.errstate(all="ignore"):
        close(f(x, *shapes, 0.0, bad_scale), scipy_call(ref, x, *shapes, 0.0, bad_scale))


@pytest.mark.parametrize("dist, shapes", [("norm", ()), ("t", (3.5,)), ("gamma", (2.5,)), ("chi2", (3.0,)),
                                          ("beta", (2.0, 3.0))])
@pytest.mark.parametrize("method", METHODS)
def test_float32_stays_float32(dist, shapes, method):
    x = np.linspace(0.1, 0.9, 5, dtype=np.float32)
    got = getattr(getattr(fs, dist), method)(x, *shapes, loc=0.05, scale=1.1)
    assert got.dtype == np.float32  # SciPy computes in float64; funcgrad keeps float32 in, float32 out
    np.testing.assert_allclose(got, getattr(getattr(st, dist), method)(x, *shapes, loc=0.05, scale=1.1), rtol=3e-6)
    g = fg.grad(lambda x: fnp.sum(getattr(getattr(fs, dist), method)(x, *shapes)))(x)
    assert g.dtype == np.float32


K = np.array([-1, 0, 1, 2, 3, 5, 10, 25, 2.5, -0.5, 7.0, np.nan])


@pytest.mark.parametrize("method", ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"])
@pytest.mark.parametrize("mu", [0.0, 0.3, 3.0, 12.0, -1.0])
def test_poisson_values_match_scipy(method, mu):
    f, ref = getattr(fs.poisson, method), getattr(st.poisson, method)
    with np.errstate(all="ignore"):
        close(f(K, mu), scipy_call(ref, K, mu))
        close(f(K, mu, 1), scipy_call(ref, K, mu, 1))
        close(f(K, mu, loc=-2), scipy_call(ref, K, mu, loc=-2))
        close(f(K[:, None], np.array([0.5, 2.0, 9.0])), scipy_call(ref, K[:, None], np.array([0.5, 2.0, 9.0])))
        close(f(3, mu), scipy_call(ref, 3, mu))


COV = (lambda a: a @ a.T + np.eye(3))(RNG.standard_normal((3, 3)))
MEAN = RNG.standard_normal(3)
X3 = RNG.standard_normal((4, 3))


@pytest.mark.parametrize("method", ["logpdf", "pdf"])
@pytest.mark.parametrize("x, mean, cov", [
    (X3, MEAN, COV), (X3[0], MEAN, COV), (X3.reshape(2, 2, 3), MEAN, COV), (X3, None, COV),
    (X3, MEAN, np.array([1.0, 2.0, 3.0])), (X3, MEAN, 2.5), (X3[:1], MEAN, COV),
    (np.array([0.1, 0.5, 2.0]), 0.5, 2.0), (np.array([0.1, 0.5, 2.0]), None, np.array([[2.0]])), (0.3, None, 1),
], ids=["matrix", "one point", "stacked", "no mean", "diagonal", "scalar cov", "1x3", "dim 1", "dim 1 matrix",
        "scalar"])
def test_multivariate_normal_values_match_scipy(method, x, mean, cov):
    got = getattr(fs.multivariate_normal, method)(x, mean, cov)
    close(got, getattr(st.multivariate_normal, method)(x, mean, cov))


ALPHA = np.array([1.5, 2.0, 0.7])
XD = RNG.dirichlet(ALPHA, 5).T


@pytest.mark.parametrize("method", ["logpdf", "pdf"])
@pytest.mark.parametrize("x", [XD, XD[:2], XD[:, 0], XD[:2, 0], XD[:, :1]], ids=["k", "k-1", "one", "one k-1", "k,1"])
def test_dirichlet_values_match_scipy(method, x):
    close(getattr(fs.dirichlet, method)(x, ALPHA), getattr(st.dirichlet, method)(x, ALPHA))


def test_dirichlet_checks_its_inputs_as_scipy_does():
    for x, alpha in [(np.array([0.2, 0.3, 0.6]), ALPHA), (np.array([-0.1, 0.5, 0.6]), ALPHA),
                     (np.array([0.0, 0.5, 0.5]), ALPHA[::-1]), (np.array([0.5, 0.5]), ALPHA[:1]),
                     (XD, ALPHA.reshape(3, 1)), (XD, -ALPHA)]:
        with pytest.raises(ValueError) as want:
            st.dirichlet.logpdf(x, alpha)
        with pytest.raises(ValueError) as got:
            fs.dirichlet.logpdf(x, alpha)
        assert str(got.value).split()[:3] == str(want.value).split()[:3]


# --- derivatives against finite differences --------------------------------------------------------------

XIN = np.array([0.15, 0.45, 0.8, 1.6, 2.9])  # inside every support below (beta: scale 3.5, loc 0)
DIFF_CASES = [
    ("norm", []),
    ("t", [np.array([1.5, 3.0, 7.0, 40.0, 2.2])]),
    ("gamma", [np.array([0.7, 1.5, 3.0, 8.0, 2.2])]),
    ("chi2", [np.array([1.5, 2.5, 4.0, 9.0, 3.3])]),
    ("beta", [np.array([0.7, 1.5, 3.0, 8.0, 2.2]), np.array(1.7)]),
]


@pytest.mark.parametrize("dist, shapes", DIFF_CASES, ids=[d for d, _ in DIFF_CASES])
@pytest.mark.parametrize("method", METHODS)
def test_derivatives_in_x_loc_scale(dist, shapes, method):
    f = getattr(getattr(fs, dist), method)
    loc, scale = np.array(-0.05), np.array(3.5 if dist == "beta" else 1.3)
    check_grads(lambda x, loc, scale: f(x, *shapes, loc, scale), (XIN, loc, scale), order=2)


@pytest.mark.parametrize("dist, shapes", DIFF_CASES[1:], ids=[d for d, _ in DIFF_CASES[1:]])
@pytest.mark.parametrize("method", ["pdf", "logpdf"])
def test_density_derivatives_in_shape_parameters(dist, shapes, method):
    f = getattr(getattr(fs, dist), method)
    x = XIN / 3.5 if dist == "beta" else XIN
    check_grads(lambda x, *s: f(x, *s), (x, *shapes), order=2)


@pytest.mark.parametrize("method", ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"])
def test_poisson_derivatives_in_mu(method):
    k = np.array([0, 1, 3, 7, 2])
    check_grads(lambda mu: getattr(fs.poisson, method)(k, mu), (np.array([0.5, 2.0, 3.0, 6.0, 0.9]),), order=2)
    # k and loc are integer-valued: the mass is a step function of them, with derivative 0
    kf = np.array([0.0, 1.0, 3.0])
    g = fg.grad(lambda k, loc: fnp.sum(getattr(fs.poisson, method)(k, 2.5, loc)), argnums=(0, 1))(kf, 1.0)
    np.testing.assert_array_equal(g[0], np.zeros(3))
    assert g[1] == 0.0


def test_multivariate_normal_derivatives():
    def f(x, mean, c):
        return fs.multivariate_normal.logpdf(x, mean, (c + c.T) / 2.0)

    check_grads(f, (X3, MEAN, COV), order=2)
    check_grads(lambda x, m, v: fs.multivariate_normal.logpdf(x, m, v), (X3, MEAN, np.array([1.0, 2.0, 0.5])),
                order=2)
    check_grads(lambda x, m, v: fs.multivariate_normal.pdf(x, m, v), (X3[0], MEAN, np.array(1.5)), order=2)


def test_dirichlet_derivatives():
    # with all k components, finite differences leave the simplex (an error): alpha only
    check_grads(lambda a: fs.dirichlet.logpdf(XD, a), (ALPHA,), order=2)
    check_grads(lambda x, a: fs.dirichlet.logpdf(x, a), (XD[:2], ALPHA), order=2)
    check_grads(lambda x, a: fs.dirichlet.pdf(x, a), (XD[:2, 0], ALPHA), order=2)


# --- derivatives against closed forms (SciPy's values) -------------------------------------------------


def egrad(f, argnums=0):
    return fg.elementwise_grad(f, argnums)


@pytest.mark.parametrize("dist, shapes", DIFF_CASES, ids=[d for d, _ in DIFF_CASES])
def test_cdf_derivative_is_the_density(dist, shapes):
    d, ref = getattr(fs, dist), getattr(st, dist)
    x = XIN / 3.5 if dist == "beta" else XIN
    close(egrad(lambda x: d.cdf(x, *shapes, 0.1, 1.2))(x), ref.pdf(x, *shapes, 0.1, 1.2), 1e-11)
    close(egrad(lambda x: d.sf(x, *shapes, 0.1, 1.2))(x), -ref.pdf(x, *shapes, 0.1, 1.2), 1e-11)
    close(egrad(lambda x: d.logcdf(x, *shapes))(x), ref.pdf(x, *shapes) / ref.cdf(x, *shapes), 1e-11)
    close(egrad(lambda x: d.logsf(x, *shapes))(x), -ref.pdf(x, *shapes) / ref.sf(x, *shapes), 1e-11)
    # d/dloc cdf = -pdf; d/dscale cdf = -pdf * (x - loc) / scale
    close(egrad(lambda loc: d.cdf(x, *shapes, loc, 1.2))(np.full_like(x, 0.1)), -ref.pdf(x, *shapes, 0.1, 1.2),
          1e-11)
    close(egrad(lambda s: d.cdf(x, *shapes, 0.1, s))(np.full_like(x, 1.2)),
          -ref.pdf(x, *shapes, 0.1, 1.2) * (x - 0.1) / 1.2, 1e-11)


def test_density_closed_forms():
    x, loc, scale = XIN, 0.4, 1.7
    close(egrad(lambda x: fs.norm.logpdf(x, loc, scale))(x), -(x - loc) / scale**2)
    close(egrad(lambda s: fs.norm.logpdf(x, loc, s))(np.full_like(x, scale)), ((x - loc) ** 2 / scale**2 - 1) / scale)
    a = np.array([0.7, 1.5, 3.0, 8.0, 2.2])
    close(egrad(lambda a: fs.gamma.logpdf(x, a))(a), np.log(x) - sc.psi(a))
    close(egrad(lambda a: fs.gamma.pdf(x, a))(a), st.gamma.pdf(x, a) * (np.log(x) - sc.psi(a)))
    df = a * 2
    close(egrad(lambda df: fs.chi2.logpdf(x, df))(df), 0.5 * (np.log(x / 2) - sc.psi(df / 2)))
    u, b = x / 3.5, 1.7
    close(egrad(lambda a: fs.beta.logpdf(u, a, b))(a), np.log(u) - sc.psi(a) + sc.psi(a + b))
    # t: d/ddf logpdf = 1/2 [psi((df+1)/2) - psi(df/2) - 1/df - log1p(x^2/df) + (df+1) x^2 / (df (df + x^2))]
    want = 0.5 * (sc.psi((df + 1) / 2) - sc.psi(df / 2) - 1 / df - np.log1p(x * x / df)
                  + (df + 1) * x * x / (df * (df + x * x)))
    close(egrad(lambda df: fs.t.logpdf(x, df))(df), want, 1e-10)
    k = np.array([0, 1, 3, 7, 2])
    mu = np.array([0.5, 2.0, 3.0, 6.0, 0.9])
    close(egrad(lambda mu: fs.poisson.logpmf(k, mu))(mu), k / mu - 1)
    close(egrad(lambda mu: fs.poisson.cdf(k, mu))(mu), -st.poisson.pmf(k, mu))
    close(egrad(lambda mu: fs.poisson.sf(k, mu))(mu), st.poisson.pmf(k, mu))


def test_multivariate_normal_gradient_closed_forms():
    prec = np.linalg.inv(COV)
    d = X3 - MEAN
    close(fg.grad(lambda m: fnp.sum(fs.multivariate_normal.logpdf(X3, m, COV)))(MEAN), (d @ prec).sum(0), 1e-10)
    close(fg.grad(lambda x: fnp.sum(fs.multivariate_normal.logpdf(x, MEAN, COV)))(X3), -d @ prec, 1e-10)
    want = sum(0.5 * (prec @ np.outer(di, di) @ prec - prec) for di in d)
    got = fg.grad(lambda c: fnp.sum(fs.multivariate_normal.logpdf(X3, MEAN, (c + c.T) / 2)))(COV)
    close(got, want, 1e-10)


def test_dirichlet_gradient_closed_forms():
    got = fg.grad(lambda a: fnp.sum(fs.dirichlet.logpdf(XD, a)))(ALPHA)
    close(got, (np.log(XD) - sc.psi(ALPHA)[:, None] + sc.psi(ALPHA.sum())).sum(1), 1e-11)
    close(fg.grad(lambda x: fs.dirichlet.logpdf(x, ALPHA))(XD[:, 0]), (ALPHA - 1) / XD[:, 0], 1e-11)


# --- constants off the support and for invalid parameters: derivative 0, never NaN --------------------


@pytest.mark.parametrize("method", METHODS)
def test_no_nan_derivative_off_the_support(method):
    x = np.array([-1.0, 0.3, 5.0])  # below, inside, above the beta(0, 1) support
    with np.errstate(all="raise"):
        for f, args in [(fs.beta, (2.0, 3.0)), (fs.gamma, (2.5,)), (fs.chi2, (3.0,))]:
            m = getattr(f, method)
            g = fg.grad(lambda x: fnp.sum(m(x, *args)))(x)
            assert np.all(np.isfinite(g)), (f, method, g)
            assert g[0] == 0.0
            if f is fs.beta:
                assert g[2] == 0.0
            _, t = fg.jvp(lambda x: m(x, *args), (x,), (np.ones(3),))
            assert np.all(np.isfinite(t)) and t[0] == 0.0
        # invalid scale: NaN value, zero derivative in every argument
        with np.errstate(invalid="ignore"):
            v, pb = fg.vjp(lambda x, s: getattr(fs.norm, method)(x, 0.0, s), x, np.array([1.0, -1.0, 2.0]))
        assert np.isnan(v[1]) and not np.isnan(v[0])
        gx, gs = pb(np.ones(3))
        assert gx[1] == 0.0 and gs[1] == 0.0 and np.all(np.isfinite(gx)) and np.all(np.isfinite(gs))


def test_poisson_derivative_off_the_support_is_zero():
    with np.errstate(all="raise"):
        g = fg.grad(lambda mu: fnp.sum(fs.poisson.logpmf(np.array([-1.0, 2.5, 2.0]), mu)))(np.array([1.0, 1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    g = fg.grad(lambda mu: fnp.sum(fs.poisson.cdf(np.array([-1.0, 2.5]), mu)))(np.array([1.5, 1.5]))
    np.testing.assert_allclose(g, [0.0, -st.poisson.pmf(2, 1.5)], rtol=1e-12)


# --- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f, arg", [
    (lambda a: fs.gamma.cdf(1.0, a), "a"), (lambda a: fs.gamma.logsf(1.0, a), "a"),
    (lambda df: fs.chi2.cdf(1.0, df), "a"), (lambda df: fs.t.cdf(0.5, df), "df"),
    (lambda df: fs.t.logsf(0.5, df), "df"), (lambda a: fs.beta.cdf(0.3, a, 2.0), "a"),
    (lambda b: fs.beta.sf(0.3, 2.0, b), "a"),  # sf = I_{1-x}(b, a): b is betainc's first argument
])
def test_cdf_derivative_in_shape_raises_clearly(f, arg):
    with pytest.raises(NotImplementedError, match=f"derivative with respect to {arg}"):
        fg.grad(f)(np.array(2.5))
    with pytest.raises(NotImplementedError, match=f"derivative with respect to {arg}"):
        fg.jvp(f, (np.array(2.5),), (np.array(1.0),))


def test_argument_errors():
    with pytest.raises(TypeError, match="missing the shape parameter"):
        fs.gamma.logpdf(1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sigma'"):
        fs.norm.logpdf(1.0, sigma=2.0)
    with pytest.raises(TypeError, match="multiple values"):
        fs.norm.logpdf(1.0, 0.0, loc=1.0)
    with pytest.raises(TypeError, match="at most"):
        fs.norm.logpdf(1.0, 0.0, 1.0, 2.0)
    with pytest.raises(NotImplementedError, match="allow_singular"):
        fs.multivariate_normal.logpdf(X3, MEAN, COV, allow_singular=True)
    with pytest.raises(ValueError, match="cov"):
        fs.multivariate_normal.logpdf(X3, MEAN, np.eye(2))
    with pytest.raises(ValueError, match="mean"):
        fs.multivariate_normal.logpdf(X3, MEAN.reshape(3, 1), COV)
    with pytest.raises(np.linalg.LinAlgError):
        fs.multivariate_normal.logpdf(X3, MEAN, -COV)
    assert repr(fs.norm) == "<funcgrad.scipy.stats.norm>"


# --- jit and vmap ---------------------------------------------------------------------------------------


def test_jit_matches_eager_with_derivatives():
    def loss(x, loc, scale, a):
        return (fnp.sum(fs.norm.logpdf(x, loc, scale)) + fnp.sum(fs.gamma.logpdf(x + 3.0, a, 0.0, scale))
                + fnp.sum(fs.t.logcdf(x, 4.0, loc, scale)) + fnp.sum(fs.beta.logsf(x / 8.0 + 0.5, 2.0, 1.5))
                + fnp.sum(fs.beta.logpdf(x / 8.0 + 0.5, 2.0, a))
                + fnp.sum(fs.poisson.logcdf(np.array([0, 2, 5, 1, 3]), a + 1.0))
                + fnp.sum(fs.multivariate_normal.logpdf(x[:3], MEAN, COV)))

    x = RNG.standard_normal(5)
    args = (x, np.array(0.2), np.array(1.3), np.array(2.2))
    np.testing.assert_allclose(fg.jit(loss)(*args), loss(*args), rtol=1e-13)
    g = fg.grad(loss, argnums=(0, 1, 2, 3))
    for got, want in zip(fg.jit(g)(*args), g(*args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # the masks for the support and the parameters are staged (jit sees no concrete values)
    bad = (x, np.array(0.2), np.array(-1.0), np.array(2.2))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(np.isnan(fg.jit(lambda *a: fs.gamma.logpdf(*a))(x, 2.0, 0.0, -1.0)),
                                      np.isnan(fs.gamma.logpdf(x, 2.0, 0.0, -1.0)))
        assert np.isnan(fg.jit(loss)(*bad)) and np.isnan(loss(*bad))
    y = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(fg.jit(lambda y: fs.gamma.cdf(y, 2.0))(y), fs.gamma.cdf(y, 2.0))
    np.testing.assert_array_equal(fg.jit(lambda y: fs.beta.logpdf(y, 2.0, 1.5))(y / 1.5),
                                  fs.beta.logpdf(y / 1.5, 2.0, 1.5))


def test_vmap_matches_loop():
    locs = RNG.standard_normal(4)
    scales = RNG.uniform(0.5, 2.0, 4)
    x = RNG.standard_normal((4, 3))

    def f(x, loc, scale):
        return fs.norm.logcdf(x, loc, scale) + fs.gamma.logpdf(fnp.abs(x), 1.5, 0.0, scale) + fs.t.pdf(x, 3.0, loc)

    want = np.stack([f(x[i], locs[i], scales[i]) for i in range(4)])
    np.testing.assert_allclose(fg.vmap(f)(x, locs, scales), want, rtol=1e-13)
    g = fg.grad(lambda loc, scale: fnp.sum(fs.norm.logpdf(x[0], loc, scale)), argnums=(0, 1))
    got = fg.vmap(g)(locs, scales)
    want = [np.stack([g(locs[i], scales[i])[k] for i in range(4)]) for k in range(2)]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    got = fg.vmap(lambda m: fs.multivariate_normal.logpdf(X3, m, COV))(X3)
    want = np.stack([fs.multivariate_normal.logpdf(X3, m, COV) for m in X3])
    np.testing.assert_allclose(got, want, rtol=1e-13)
