"""funcgrad.scipy.special against SciPy: values (shapes, broadcasting, 0-d, empty, float32),
derivatives by finite differences (order 2, both modes), derivatives against closed forms computed
by SciPy (never by funcgrad), the documented conventions at 0, the clear errors for derivatives
that have no closed form, jit and vmap, and that ``import funcgrad`` does not import SciPy.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import zlib
from typing import Any, Callable

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")
st = pytest.importorskip("scipy.stats")

import funcgrad as fg  # noqa: E402
import funcgrad.scipy.special as fs  # noqa: E402
from funcgrad.test_util import check_grads  # noqa: E402

# --- domains: (rng, shape) -> array ----------------------------------------------------------------


def U(lo: float, hi: float) -> Callable[..., np.ndarray]:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def INTS(lo: int, hi: int) -> Callable[..., np.ndarray]:
    return lambda rng, shape: rng.integers(lo, hi + 1, shape)


def NONZERO(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.5, shape)


REAL = U(-2.0, 2.0)
POS = U(0.5, 3.0)
NEGFRAC = U(-2.8, -2.2)  # between the poles of gamma at -3 and -2

# --- the table ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Fn:
    name: str
    fn: Callable[..., Any]  # funcgrad
    ref: Callable[..., Any]  # SciPy
    domains: tuple
    diff: tuple[int, ...]  # the arguments differentiated (others are orders or shape parameters)
    exact: bool = True  # bit-for-bit SciPy's value (the same ufunc is called)
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name


def _f(name, domains, diff=None, exact=True, variant="", fn=None, ref=None):
    return Fn(name, fn or getattr(fs, name), ref or getattr(sc, name), tuple(domains),
              tuple(range(len(domains))) if diff is None else diff, exact, variant)


TABLE = [
    _f("erf", [REAL]), _f("erfc", [REAL]), _f("erfinv", [U(-0.9, 0.9)]), _f("erfcinv", [U(0.1, 1.9)]),
    _f("ndtr", [REAL], exact=False), _f("log_ndtr", [U(-6.0, 4.0)]),
    _f("expit", [REAL], exact=False), _f("logit", [U(0.05, 0.95)]),
    _f("gamma", [POS]), _f("gamma", [NEGFRAC], variant="negative"),
    _f("gammaln", [U(0.3, 6.0)]), _f("gammaln", [NEGFRAC], variant="negative"),
    _f("digamma", [U(0.3, 6.0)]), _f("digamma", [NEGFRAC], variant="negative"),
    _f("psi", [U(0.3, 6.0)]),
    _f("rgamma", [POS]), _f("rgamma", [NEGFRAC], variant="negative"),
    _f("gammasgn", [U(-3.0, 3.0)], diff=()),
    _f("i0", [REAL]), _f("i1", [REAL]), _f("j0", [U(0.1, 8.0)]), _f("j1", [U(0.1, 8.0)]),
    _f("y0", [U(0.5, 8.0)]), _f("y1", [U(0.5, 8.0)]),
    _f("entr", [U(0.05, 3.0)], exact=False),  # float32: within an ulp (SciPy computes in double)
    _f("xlogy", [REAL, POS]), _f("xlog1py", [REAL, U(-0.5, 2.0)]),
    _f("beta", [POS, POS]), _f("betaln", [POS, POS]), _f("poch", [POS, U(-0.4, 2.0)]),
    _f("zeta", [INTS(2, 4), POS], diff=(1,)), _f("zeta", [U(1.5, 4.0), POS], diff=(1,), variant="real s"),
    _f("polygamma", [INTS(0, 3), POS], diff=(1,), exact=False),
    _f("iv", [INTS(-1, 3), REAL], diff=(1,)), _f("iv", [U(0.0, 3.0), POS], diff=(1,), variant="real order"),
    _f("ive", [INTS(-1, 3), NONZERO], diff=(1,)), _f("ive", [U(0.0, 3.0), POS], diff=(1,), variant="real order"),
    _f("jv", [U(0.0, 3.0), U(0.5, 6.0)], diff=(1,)), _f("jv", [INTS(-2, 3), REAL], diff=(1,), variant="int order"),
    _f("jn", [INTS(-2, 3), REAL], diff=(1,)),
    _f("yn", [INTS(-1, 3), U(0.5, 6.0)], diff=(1,)),
    _f("gammainc", [POS, POS], diff=(1,)), _f("gammaincc", [POS, POS], diff=(1,)),
    _f("gammainc", [INTS(1, 4), POS], diff=(1,), variant="int a"),
    _f("stdtr", [U(0.5, 10.0), REAL], diff=(1,)),
    _f("betainc", [POS, POS, U(0.05, 0.95)], diff=(2,)),
    _f("multigammaln", [U(1.5, 4.0)], exact=False, fn=lambda a: fs.multigammaln(a, 3),
       ref=lambda a: sc.multigammaln(a, 3)),
    _f("multigammaln", [U(0.1, 3.0)], exact=False, variant="d=1", fn=lambda a: fs.multigammaln(a, 1),
       ref=lambda a: sc.multigammaln(a, 1)),
]

SHAPES = {
    1: {"shape": ((2, 3),), "0d": ((),), "empty": ((0, 3),), "float32": ((2, 3),)},
    2: {"shape": ((2, 3), (2, 3)), "broadcast": ((3, 1), (4,)), "0d": ((), ()), "broadcast0d": ((), (2, 3)),
        "empty": ((0, 3), (3,)), "float32": ((3, 1), (4,))},
    3: {"shape": ((2, 3),) * 3, "broadcast": ((3, 1), (4,), ()), "0d": ((), (), ()), "empty": ((0, 1), (3,), ()),
        "float32": ((3, 1), (4,), (3, 4))},
}


def make_args(row: Fn, case: str) -> tuple:
    rng = np.random.default_rng(zlib.crc32(f"{row.id}/{case}".encode()))
    args = []
    for shape, dom in zip(SHAPES[len(row.domains)][case], row.domains, strict=True):
        a = np.asarray(dom(rng, shape))
        if case == "float32" and a.dtype.kind == "f":
            a = a.astype(np.float32)
        args.append(a)
    return tuple(args)


def _params(rows, cases=None):
    return [pytest.param(row, case, id=f"{row.id}-{case}") for row in rows
            for case in SHAPES[len(row.domains)] if cases is None or case in cases]


def _restrict(f: Callable[..., Any], args: tuple, diff: tuple[int, ...]) -> Callable[..., Any]:
    def g(*dargs):
        full = list(args)
        for i, a in zip(diff, dargs, strict=True):
            full[i] = a
        return f(*full)

    return g


def assert_matches_scipy(got, want, exact):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        tol = 1e-6 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 1e-3)


# --- values --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row, case", _params(TABLE))
def test_value_matches_scipy(row, case):
    args = make_args(row, case)
    assert_matches_scipy(row.fn(*args), row.ref(*args), row.exact)


@pytest.mark.parametrize("name", ["erf", "gammaln", "xlogy", "iv", "betainc"])
def test_python_scalars_and_lists(name):
    row = next(r for r in TABLE if r.name == name)
    args = tuple(float(np.asarray(d(np.random.default_rng(0), ()))) for d in row.domains)
    assert_matches_scipy(row.fn(*args), row.ref(*args), row.exact)
    lists = tuple([a, a] for a in args)
    assert_matches_scipy(row.fn(*lists), row.ref(*lists), row.exact)


def test_python_float_operand_is_weak_as_in_scipy():
    """A Python float operand does not decide the dtype; the result dtype is SciPy's own (float32
    for most functions, float64 where SciPy's loop order picks it), the gradient's is the input's."""
    x = np.linspace(0.5, 2.0, 4, dtype=np.float32)
    for f, ref in [(fs.xlogy, sc.xlogy), (fs.gammainc, sc.gammainc), (fs.iv, sc.iv), (fs.beta, sc.beta),
                   (fs.jv, sc.jv), (fs.zeta, sc.zeta)]:
        out = f(1.5, x)
        assert_matches_scipy(out, ref(1.5, x), True)
        g = fg.grad(lambda x: f(1.5, x).sum())(x)
        assert g.dtype == np.float32
    assert fs.iv(1.5, x).dtype == np.float32


# --- derivatives against finite differences ----------------------------------------------------------

DIFF = [r for r in TABLE if r.diff]


@pytest.mark.parametrize("row, case", _params(DIFF, ("shape", "broadcast", "0d", "broadcast0d")))
def test_derivatives_match_finite_differences(row, case):
    args = make_args(row, case)
    g = _restrict(row.fn, args, row.diff)
    check_grads(g, tuple(args[i] for i in row.diff), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("row, case", _params(DIFF, ("float32", "empty")))
def test_derivative_dtypes_and_shapes(row, case):
    args = make_args(row, case)
    g = _restrict(row.fn, args, row.diff)
    dargs = tuple(args[i] for i in row.diff)
    out, pullback = fg.vjp(g, *dargs)
    cts = pullback(np.ones(np.shape(out), np.asarray(out).dtype))
    for a, c in zip(dargs, cts, strict=True):
        assert c.shape == a.shape and c.dtype == a.dtype
    _, t = fg.jvp(g, dargs, tuple(np.ones_like(a) for a in dargs))
    assert t.shape == np.shape(out) and t.dtype == np.asarray(out).dtype
    if case == "float32" and np.asarray(out).dtype == np.float32 and out.size:
        check_grads(g, dargs, order=1)


def test_gammasgn_has_zero_derivative():
    x = np.array([-2.5, -1.5, 0.5, 2.0])
    np.testing.assert_array_equal(fg.grad(lambda x: (fs.gammasgn(x) * x).sum())(x), sc.gammasgn(x))


# --- derivatives against closed forms (SciPy's values) -------------------------------------------------

X = np.array([0.3, 0.9, 1.7, 3.2, 6.5])


def egrad(f):
    return fg.elementwise_grad(f)


def egrad2(f):
    return fg.elementwise_grad(fg.elementwise_grad(f))


def close(got, want, rtol=1e-12):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-14)


def test_gamma_family_closed_forms():
    close(egrad(fs.gammaln)(X), sc.psi(X))
    close(egrad2(fs.gammaln)(X), sc.polygamma(1, X))
    close(egrad(fs.digamma)(X), sc.polygamma(1, X))
    close(egrad2(fs.digamma)(X), sc.polygamma(2, X))
    close(egrad(fs.gamma)(X), sc.gamma(X) * sc.psi(X))
    close(egrad(fs.rgamma)(X), -sc.psi(X) / sc.gamma(X))
    for n in (1, 2, 3):
        close(egrad(lambda x: fs.polygamma(n, x))(X), sc.polygamma(n + 1, X))
    close(egrad(lambda x: fs.polygamma(np.array([0, 1, 2, 3, 1]), x))(X),
          sc.polygamma(np.array([1, 2, 3, 4, 2]), X))
    close(egrad(lambda q: fs.zeta(3.0, q))(X), -3.0 * sc.zeta(4.0, X))
    a, b = X, X[::-1]
    close(fg.grad(lambda a: fs.betaln(a, b).sum())(a), sc.psi(a) - sc.psi(a + b))
    close(fg.grad(lambda b: fs.beta(a, b).sum())(b), sc.beta(a, b) * (sc.psi(b) - sc.psi(a + b)))
    m = np.array([0.5, -0.3, 1.2, 2.0, 0.1])
    close(egrad(lambda z: fs.poch(z, m))(X), sc.poch(X, m) * (sc.psi(X + m) - sc.psi(X)))
    close(egrad(lambda m: fs.poch(X, m))(m), sc.poch(X, m) * sc.psi(X + m))
    close(fg.grad(lambda a: fs.multigammaln(a, 4))(5.0), sum(sc.psi(5.0 - j / 2) for j in range(4)))
    # log|gamma| on the negative axis: still digamma
    xn = np.array([-2.7, -1.3, -0.4])
    close(egrad(fs.gammaln)(xn), sc.psi(xn))


def test_error_function_closed_forms():
    x = np.linspace(-2.0, 2.0, 7)
    close(egrad(fs.erf)(x), 2.0 / math.sqrt(math.pi) * np.exp(-x * x))
    close(egrad(fs.erfc)(x), -2.0 / math.sqrt(math.pi) * np.exp(-x * x))
    p = np.linspace(-0.95, 0.95, 7)
    close(egrad(fs.erfinv)(p), math.sqrt(math.pi) / 2 * np.exp(sc.erfinv(p) ** 2))
    close(egrad(fs.erfcinv)(p + 1.0), -math.sqrt(math.pi) / 2 * np.exp(sc.erfcinv(p + 1.0) ** 2))
    # second derivative of erfinv: y' = c e^{y^2}, y'' = 2 y y'^2
    y = sc.erfinv(p)
    d1 = math.sqrt(math.pi) / 2 * np.exp(y * y)
    close(egrad2(fs.erfinv)(p), 2 * y * d1 * d1)
    close(egrad(fs.ndtr)(x), st.norm.pdf(x))
    far = np.array([-40.0, -10.0, 0.0, 5.0])
    close(egrad(fs.log_ndtr)(far), np.exp(st.norm.logpdf(far) - sc.log_ndtr(far)))  # pdf / cdf
    close(egrad(fs.logit)(np.array([0.1, 0.5, 0.8])), 1.0 / (np.array([0.1, 0.5, 0.8]) * np.array([0.9, 0.5, 0.2])))
    close(egrad(fs.expit)(x), sc.expit(x) * (1 - sc.expit(x)))


def test_bessel_closed_forms():
    x = np.array([0.4, 1.1, 2.5, 4.0, 7.5])
    for v in (0.0, 1.0, 1.5, 2.0, -0.5):
        close(egrad(lambda x: fs.iv(v, x))(x), sc.ivp(v, x))
        close(egrad2(lambda x: fs.iv(v, x))(x), sc.ivp(v, x, 2))
        close(egrad(lambda x: fs.jv(v, x))(x), sc.jvp(v, x))
        close(egrad2(lambda x: fs.jv(v, x))(x), sc.jvp(v, x, 2))
        close(egrad(lambda x: fs.ive(v, x))(x), (sc.ivp(v, x) - sc.iv(v, x)) * np.exp(-x))
    for n in (0, 1, 2, 5):
        close(egrad(lambda x: fs.yn(n, x))(x), sc.yvp(n, x))
        close(egrad2(lambda x: fs.yn(n, x))(x), sc.yvp(n, x, 2))
        close(egrad(lambda x: fs.jn(n, x))(x), sc.jvp(n, x))
    close(egrad(fs.i0)(x), sc.ivp(0, x))
    close(egrad(fs.i1)(x), sc.ivp(1, x))
    close(egrad(fs.i1)(np.array([0.0])), [0.5])
    close(egrad(fs.j0)(x), sc.jvp(0, x))
    close(egrad(fs.j1)(x), sc.jvp(1, x))
    close(egrad(fs.y0)(x), sc.yvp(0, x))
    close(egrad(fs.y1)(x), sc.yvp(1, x))
    xn = -x
    close(egrad(lambda x: fs.ive(2.0, x))(xn), (sc.ivp(2.0, xn) + sc.iv(2.0, xn)) * np.exp(xn))


def test_incomplete_functions_closed_forms_in_x():
    a = np.array([0.5, 1.0, 2.5, 7.0, 3.0])
    close(egrad(lambda x: fs.gammainc(a, x))(X), st.gamma.pdf(X, a))
    close(egrad(lambda x: fs.gammaincc(a, x))(X), -st.gamma.pdf(X, a))
    # second derivative: d/dx of x^(a-1) e^-x / Gamma(a) = pdf * ((a-1)/x - 1)
    close(egrad2(lambda x: fs.gammainc(a, x))(X), st.gamma.pdf(X, a) * ((a - 1) / X - 1))
    u = np.array([0.05, 0.3, 0.5, 0.8, 0.97])
    b = np.array([2.0, 0.7, 1.0, 3.5, 1.2])
    close(egrad(lambda x: fs.betainc(a, b, x))(u), st.beta.pdf(u, a, b))
    df = np.array([0.8, 1.0, 3.0, 12.0, 60.0])
    t = np.array([-3.0, -0.5, 0.0, 1.2, 4.0])
    close(egrad(lambda t: fs.stdtr(df, t))(t), st.t.pdf(t, df))


def test_xlogy_xlog1py_entr_at_zero():
    with np.errstate(all="raise"):
        assert float(fs.xlogy(0.0, 0.0)) == 0.0
        assert float(fs.xlog1py(0.0, -1.0)) == 0.0
        # d/dy x log y = x / y, and 0 where x == 0, even at y == 0 (no 0/0)
        assert fg.grad(lambda y: fs.xlogy(0.0, y))(0.0) == 0.0
        assert fg.grad(lambda y: fs.xlog1py(0.0, y))(-1.0) == 0.0
        assert fg.grad(fg.grad(lambda y: fs.xlogy(0.0, y)))(0.0) == 0.0
        _, t = fg.jvp(lambda y: fs.xlogy(0.0, y), (np.array(0.0),), (np.array(1.0),))
        assert t == 0.0
        assert fg.grad(lambda x: fs.xlogy(x, 2.0))(0.0) == math.log(2.0)
        assert fg.grad(lambda x: fs.xlog1py(x, 1.0))(0.0) == math.log(2.0)
    x = np.array([0.0, 0.0, 3.0])
    y = np.array([0.0, 2.0, 2.0])
    with np.errstate(divide="ignore"):  # d/dx at y == 0 is log(0) = -inf
        gx, gy = fg.grad(lambda x, y: fs.xlogy(x, y).sum(), argnums=(0, 1))(x, y)
        np.testing.assert_array_equal(gx, np.log(y))
    np.testing.assert_array_equal(gy, [0.0, 0.0, 1.5])
    # entr: 0 at 0 with derivative +inf (the limit of -log x - 1), -inf for x < 0 with derivative 0
    e = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(fs.entr(e), sc.entr(e))
    assert not np.signbit(fs.entr(0.0))  # +0.0, as SciPy's
    with np.errstate(divide="ignore"):
        g = egrad(fs.entr)(e)
    np.testing.assert_array_equal(g[:2], [0.0, np.inf])
    close(g[2:], -np.log(e[2:]) - 1.0)
    close(egrad2(fs.entr)(e[2:]), -1.0 / e[2:])


# --- logsumexp, softmax, log_softmax ------------------------------------------------------------------

A = np.random.default_rng(3).standard_normal((3, 4))


@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}, {"axis": -1},
                                {"b": np.arange(1.0, 5.0)}, {"axis": 0, "b": np.array([[0.5], [2.0], [1.0]])}],
                         ids=lambda kw: ",".join(f"{k}" for k in kw) or "default")
def test_logsumexp_matches_scipy_and_differentiates(kw):
    close(fs.logsumexp(A, **kw), sc.logsumexp(A, **kw))
    check_grads(lambda a: fs.logsumexp(a, **kw), (A,), order=2)
    if "b" in kw:
        b = kw["b"]
        rest = {k: v for k, v in kw.items() if k != "b"}
        check_grads(lambda a, b: fs.logsumexp(a, b=b, **rest), (A, b), order=2)


def test_logsumexp_gradient_is_softmax():
    close(fg.grad(lambda a: fs.logsumexp(a))(A), sc.softmax(A))
    close(fg.grad(lambda a: fs.logsumexp(a, axis=1).sum())(A), sc.softmax(A, axis=1))
    b = np.abs(A) + 0.1
    w = b * np.exp(A)
    close(fg.grad(lambda a: fs.logsumexp(a, b=b))(A), w / w.sum())
    close(fg.grad(lambda b: fs.logsumexp(A, b=b))(b), np.exp(A) / w.sum())
    # a zero weight still has a derivative: d/db_i = exp(a_i) / sum(b exp(a))
    b0 = np.where(A > 0.5, 0.0, b)
    w0 = b0 * np.exp(A)
    close(fg.grad(lambda b: fs.logsumexp(A, b=b))(b0), np.exp(A) / w0.sum())
    close(fg.grad(lambda a: fs.logsumexp(a, b=b0))(A), w0 / w0.sum())


def test_logsumexp_return_sign_and_zero_weights():
    a = np.array([1.0, 2.0, 0.5])
    b = np.array([1.0, -1.0, 0.5])
    got, sgn = fs.logsumexp(a, b=b, return_sign=True)
    want, wsgn = sc.logsumexp(a, b=b, return_sign=True)
    close(got, want)
    assert float(sgn) == float(wsgn) == -1.0
    # d/da log|s| = b e^a / s
    s = np.sum(b * np.exp(a))
    close(fg.grad(lambda a: fs.logsumexp(a, b=b, return_sign=True)[0])(a), b * np.exp(a) / s)
    got, sgn = fs.logsumexp(np.ones((2, 3)), axis=1, b=np.array([1.0, -1.0, 2.0]), return_sign=True)
    want, wsgn = sc.logsumexp(np.ones((2, 3)), axis=1, b=np.array([1.0, -1.0, 2.0]), return_sign=True)
    close(got, want)
    np.testing.assert_array_equal(sgn, wsgn)
    # a term with b == 0 does not count, however large a is there
    a = np.array([1000.0, 0.0])
    b = np.array([0.0, 1.0])
    assert float(fs.logsumexp(a, b=b)) == float(sc.logsumexp(a, b=b)) == 0.0
    np.testing.assert_array_equal(fg.grad(lambda a: fs.logsumexp(a, b=b))(a), [0.0, 1.0])
    # edge values as SciPy
    for a in ([-np.inf, -np.inf], [np.inf, 1.0]):
        assert float(fs.logsumexp(np.array(a))) == float(sc.logsumexp(np.array(a)))
    np.testing.assert_array_equal(fs.logsumexp(np.zeros((0, 3)), axis=0), sc.logsumexp(np.zeros((0, 3)), axis=0))
    with np.errstate(invalid="ignore"):
        assert np.isnan(fs.logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, -1.0])))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_softmax_matches_scipy_and_differentiates(name, axis):
    f = getattr(fs, name)
    close(f(A, axis=axis), getattr(sc, name)(A, axis=axis))
    check_grads(lambda a: f(a, axis=axis), (A,), order=2)
    a32 = A.astype(np.float32)
    assert f(a32, axis=axis).dtype == np.float32
    np.testing.assert_allclose(f(a32, axis=axis), getattr(sc, name)(a32, axis=axis), rtol=1e-5, atol=1e-6)


def test_softmax_jacobian_closed_form():
    x = A[0]
    s = sc.softmax(x)
    close(fg.jacrev(fs.softmax)(x), np.diag(s) - np.outer(s, s))
    close(fg.jacfwd(fs.log_softmax)(x), np.eye(4) - s[None, :])


# --- derivatives that have no closed form ----------------------------------------------------------

NO_DERIVATIVE = [
    ("gammainc", lambda a: fs.gammainc(a, 1.5), "a"),
    ("gammaincc", lambda a: fs.gammaincc(a, 1.5), "a"),
    ("betainc a", lambda a: fs.betainc(a, 2.0, 0.3), "a"),
    ("betainc b", lambda b: fs.betainc(2.0, b, 0.3), "b"),
    ("iv", lambda v: fs.iv(v, 1.5), "v"),
    ("ive", lambda v: fs.ive(v, 1.5), "v"),
    ("jv", lambda v: fs.jv(v, 1.5), "v"),
    ("jn", lambda n: fs.jn(n, 1.5), "v"),
    ("yn", lambda n: fs.yn(n, 1.5), "n"),
    ("zeta", lambda s: fs.zeta(s, 1.5), "s"),
    ("polygamma", lambda n: fs.polygamma(n, 1.5), "s .*polygamma"),
    ("stdtr", lambda df: fs.stdtr(df, 0.5), "df"),
]


@pytest.mark.parametrize("name, f, arg", NO_DERIVATIVE, ids=[n for n, _, _ in NO_DERIVATIVE])
def test_derivative_without_closed_form_raises_clearly(name, f, arg):
    x = np.array(2.0)
    with pytest.raises(NotImplementedError, match=f"derivative with respect to {arg}"), np.errstate(all="ignore"):
        fg.grad(f)(x)
    with pytest.raises(NotImplementedError, match=f"derivative with respect to {arg}"), np.errstate(all="ignore"):
        fg.jvp(f, (x,), (np.array(1.0),))
    # the value itself is fine, and so is a derivative that does not involve that argument
    with np.errstate(all="ignore"):
        f(x)
        assert fg.grad(lambda z: f(x) * z)(1.5) == f(x)


def test_riemann_zeta_is_not_provided():
    with pytest.raises(NotImplementedError, match="zeta"):
        fs.zeta(2.0)


def test_multigammaln_checks_its_arguments_as_scipy_does():
    with pytest.raises(ValueError, match="d should be a positive integer"):
        fs.multigammaln(3.0, 2.5)
    with pytest.raises(ValueError, match="condition"):
        fs.multigammaln(0.4, 3)


# --- jit and vmap ---------------------------------------------------------------------------------------


def test_jit_matches_eager():
    x = np.linspace(0.3, 3.0, 6)
    v = np.array([0, 1, 2, 0, 1, 2])

    def f(x):
        return (fs.gammaln(x) + fs.iv(v, x) + fs.gammainc(1.5, x) + fs.betainc(2.0, 3.0, x / 4.0) + fs.erfinv(x / 4.0)
                + fs.polygamma(v, x) + fs.xlogy(x - 1.0, x) + fs.log_ndtr(-x) + fs.entr(x))

    jf = fg.jit(f)
    np.testing.assert_array_equal(jf(x), f(x))
    np.testing.assert_allclose(fg.jit(fg.elementwise_grad(f))(x), fg.elementwise_grad(f)(x), rtol=1e-13)
    lse = fg.jit(lambda a, b: fs.logsumexp(a, axis=1, b=b, return_sign=True))
    got, want = lse(A, np.arange(4.0) - 1.5), fs.logsumexp(A, axis=1, b=np.arange(4.0) - 1.5, return_sign=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    np.testing.assert_array_equal(got[1], want[1])
    prog = fg.make_trace(f)(x)
    names = {e.prim.name for e in prog.eqns}
    assert {"gammaln", "iv", "gammainc", "betainc", "erfinv", "zeta", "xlogy", "log_ndtr"} <= names


def test_vmap_matches_loop():
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 3.0, (4, 3))
    v = rng.integers(0, 3, (4, 3))
    a = rng.uniform(0.5, 2.0, 4)

    def f(v, x, a):
        return fs.jv(v, x) * fs.gammaincc(a, x) + fs.logsumexp(x * a) + fs.softmax(x)

    got = fg.vmap(f)(v, x, a)
    want = np.stack([f(v[i], x[i], a[i]) for i in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    got = fg.vmap(fg.grad(lambda x, a: (fs.gammaln(x) * fs.betaln(a, x)).sum()), in_axes=(0, None))(x, 1.5)
    want = np.stack([fg.grad(lambda x: (fs.gammaln(x) * fs.betaln(1.5, x)).sum())(x[i]) for i in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_docstring_examples():
    import doctest

    import funcgrad.scipy.stats as fst

    for mod in (fs, fst):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
        assert result.failed == 0 and result.attempted > 0, (mod.__name__, result)


# --- SciPy stays optional -------------------------------------------------------------------------------


def test_import_funcgrad_does_not_import_scipy():
    code = ("import sys, funcgrad, funcgrad.scipy.special, funcgrad.scipy.stats; "
            "bad = sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
