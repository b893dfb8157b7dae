"""Primitives whose NumPy implementation is a ``scipy.special`` ufunc.

Each is declared once here, with its derivative written in funcgrad operations (so higher
orders, ``jit`` and ``vmap`` work). SciPy is imported lazily, the first time one of these
primitives computes a value: ``import funcgrad`` never imports SciPy.

Functions that SciPy itself composes from others (``polygamma``, ``multigammaln``,
``logsumexp``, ``softmax``) are compositions in :mod:`funcgrad.scipy.special`, not primitives.

Derivatives with respect to an order or shape parameter that have no closed form in terms of
special functions (``gammainc`` in ``a``, ``betainc`` in ``a``/``b``, ``iv``/``jv`` in ``v``,
``zeta`` in ``s``, ``stdtr`` in ``df``) raise :class:`NotImplementedError` naming the argument;
integer orders (``yn``'s ``n``) have no derivative at all.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from ..prims import elementwise as ew
from ..prims.factories import binary, elementwise, nondiff, unary
from ._lazy import scipy_module


def scipy_special() -> Any:
    """``scipy.special``, imported on first use."""
    return scipy_module("special")


def _ufunc(name: str) -> Callable[..., Any]:
    def impl(*args: Any) -> Any:
        return getattr(scipy_special(), name)(*args)

    impl.__name__ = impl.__qualname__ = f"scipy_special_{name}"
    return impl


def _no_derivative(fn: str, arg: str, why: str) -> Callable[..., Any]:
    def rule(*args: Any, **params: Any) -> Any:
        raise NotImplementedError(
            f"funcgrad.scipy.special.{fn}: the derivative with respect to {arg} is not implemented "
            f"({why}). Differentiate only with respect to the other arguments: pass {arg} as a "
            f"constant, or wrap it in funcgrad.stop_gradient."
        )

    return rule


exp, log, where, equal, sign = ew.exp, ew.log, ew.where, ew.equal, ew.sign
log1p = ew.log1p_p.bind

_2_OVER_SQRTPI = 2.0 / math.sqrt(math.pi)
_SQRTPI_OVER_2 = math.sqrt(math.pi) / 2.0
_1_OVER_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)

# --- error function and its inverses ------------------------------------------------------------

erf_p = unary("erf", _ufunc("erf"), lambda x, out: _2_OVER_SQRTPI * exp(-(x * x)))
erfc_p = unary("erfc", _ufunc("erfc"), lambda x, out: -_2_OVER_SQRTPI * exp(-(x * x)))
# d/dx erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2): the primal output is reused.
erfinv_p = unary("erfinv", _ufunc("erfinv"), lambda x, out: _SQRTPI_OVER_2 * exp(out * out))
erfcinv_p = unary("erfcinv", _ufunc("erfcinv"), lambda x, out: -_SQRTPI_OVER_2 * exp(out * out))
# log of the standard normal CDF; d/dx = pdf(x) / ndtr(x) = exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi)
log_ndtr_p = unary("log_ndtr", _ufunc("log_ndtr"), lambda x, out: _1_OVER_SQRT2PI * exp(-0.5 * (x * x) - out))

# --- gamma family ------------------------------------------------------------------------------------


def _zeta_dq(s: Any, q: Any, out: Any) -> Any:
    # d/dq zeta(s, q) = d/dq sum_k (k + q)^-s = -s zeta(s + 1, q)
    return -s * zeta(s + 1.0, q)


# The Hurwitz zeta function zeta(s, q); digamma' = zeta(2, x) and polygamma is built on it.
zeta_p = binary("zeta", _ufunc("zeta"), (
    _no_derivative("zeta", "s (the first argument)", "it has no closed form in special functions; "
                   "this also covers polygamma's order n"),
    _zeta_dq))
zeta = zeta_p.bind

digamma_p = unary("digamma", _ufunc("psi"), lambda x, out: zeta(2.0, x))  # trigamma = zeta(2, x)
digamma = digamma_p.bind
gammaln_p = unary("gammaln", _ufunc("gammaln"), lambda x, out: digamma(x))  # also for log|Gamma|, x < 0
gamma_p = unary("gamma", _ufunc("gamma"), lambda x, out: out * digamma(x))
rgamma_p = unary("rgamma", _ufunc("rgamma"), lambda x, out: -out * digamma(x))
gammasgn_p = nondiff("gammasgn", _ufunc("gammasgn"))


def _digamma_sum(a: Any, b: Any) -> Any:
    return digamma(a + b)


# d/da log B(a, b) = psi(a) - psi(a + b)
betaln_p = binary("betaln", _ufunc("betaln"), (lambda a, b, out: digamma(a) - _digamma_sum(a, b),
                                                 lambda a, b, out: digamma(b) - _digamma_sum(a, b)))
betaln = betaln_p.bind
beta_p = binary("beta", _ufunc("beta"), (lambda a, b, out: out * (digamma(a) - _digamma_sum(a, b)),
                                         lambda a, b, out: out * (digamma(b) - _digamma_sum(a, b))))


# The rising factorial poch(a, m) = Gamma(a + m) / Gamma(a):
# d/da = poch (psi(a + m) - psi(a)), d/dm = poch psi(a + m)
poch_p = binary("poch", _ufunc("poch"), (lambda a, m, out: out * (_digamma_sum(a, m) - digamma(a)),
                                         lambda a, m, out: out * _digamma_sum(a, m)))


def xlogy_dx(x: Any, y: Any, out: Any) -> Any:
    return log(y)


def _safe_x_over(x: Any, denom: Any) -> Any:
    # x / denom, taken as 0 where x == 0 (so xlogy(0, 0) has derivative 0 in y, not 0/0)
    zero = equal(x, 0.0)
    return where(zero, 0.0, x / where(zero, 1.0, denom))


xlogy_p = binary("xlogy", _ufunc("xlogy"), (xlogy_dx, lambda x, y, out: _safe_x_over(x, y)))
xlogy = xlogy_p.bind
xlog1py_p = binary("xlog1py", _ufunc("xlog1py"), (lambda x, y, out: log1p(y),
                                                   lambda x, y, out: _safe_x_over(x, 1.0 + y)))
xlog1py = xlog1py_p.bind


def _regularized_gamma_density(a: Any, x: Any) -> Any:
    # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a), with 0 * log(0) = 0 at a = 1, x = 0
    return exp(xlogy(a - 1.0, x) - x - gammaln_p.bind(a))


_SHAPE_WHY = "no closed form in elementary or special functions"
gammainc_p = binary("gammainc", _ufunc("gammainc"), (
    _no_derivative("gammainc", "a (the shape)", _SHAPE_WHY),
    lambda a, x, out: _regularized_gamma_density(a, x)))
gammaincc_p = binary("gammaincc", _ufunc("gammaincc"), (
    _no_derivative("gammaincc", "a (the shape)", _SHAPE_WHY),
    lambda a, x, out: -_regularized_gamma_density(a, x)))


def _betainc_dx(t: Any, out: Any, a: Any, b: Any, x: Any) -> Any:
    # d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b)
    return t * exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))


_betainc_a = _no_derivative("betainc", "a", _SHAPE_WHY)
_betainc_b = _no_derivative("betainc", "b", _SHAPE_WHY)
betainc_p = elementwise(
    "betainc", _ufunc("betainc"), jvp=(_betainc_a, _betainc_b, _betainc_dx),
    vjp=(_betainc_a, _betainc_b, _betainc_dx))


def _t_density(df: Any, x: Any) -> Any:
    # Student's t density: Gamma((df+1)/2) / (sqrt(df pi) Gamma(df/2)) (1 + x^2/df)^(-(df+1)/2),
    # with Gamma((df+1)/2) / Gamma(df/2) = sqrt(pi) / B(df/2, 1/2) (accurate for large df).
    return exp(-betaln(0.5 * df, 0.5) - 0.5 * log(df) - (0.5 * df + 0.5) * log1p(x * x / df))


# The CDF of Student's t distribution (what scipy.stats.t.cdf uses).
stdtr_p = binary("stdtr", _ufunc("stdtr"), (
    _no_derivative("stdtr", "df (the degrees of freedom)", _SHAPE_WHY),
    lambda df, x, out: _t_density(df, x)))

logit_p = unary("logit", _ufunc("logit"), jvp=lambda t, o, x: t / (x * (1.0 - x)),
                vjp=lambda ct, o, x: ct / (x * (1.0 - x)))

# --- Bessel functions -----------------------------------------------------------------------------

_ORDER_WHY = "the derivative in the order has no closed form in special functions"

iv_p = binary("iv", _ufunc("iv"), (
    _no_derivative("iv", "v (the order)", _ORDER_WHY),
    lambda v, x, out: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x))))
iv: Callable[..., Any] = iv_p.bind
# ive(v, x) = iv(v, x) exp(-|x|)
ive_p = binary("ive", _ufunc("ive"), (
    _no_derivative("ive", "v (the order)", _ORDER_WHY),
    lambda v, x, out: 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x)) - sign(x) * out))
ive: Callable[..., Any] = ive_p.bind
i0_p = unary("i0", _ufunc("i0"), lambda x, out: i1(x))
i1_p = unary("i1", _ufunc("i1"), lambda x, out: 0.5 * (i0(x) + iv(2.0, x)))
i0: Callable[..., Any] = i0_p.bind
i1: Callable[..., Any] = i1_p.bind

jv_p = binary("jv", _ufunc("jv"), (
    _no_derivative("jv", "v (the order)", _ORDER_WHY),
    lambda v, x, out: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x))))
jv: Callable[..., Any] = jv_p.bind
j0_p = unary("j0", _ufunc("j0"), lambda x, out: -j1(x))
j1_p = unary("j1", _ufunc("j1"), lambda x, out: 0.5 * (j0(x) - jv(2.0, x)))
j0: Callable[..., Any] = j0_p.bind
j1: Callable[..., Any] = j1_p.bind

yn_p = binary("yn", _ufunc("yn"), (
    _no_derivative("yn", "n (the order)", "n is an integer"),
    lambda n, x, out: 0.5 * (yn(n - 1, x) - yn(n + 1, x))))
yn: Callable[..., Any] = yn_p.bind
y0_p = unary("y0", _ufunc("y0"), lambda x, out: -y1(x))
y1_p = unary("y1", _ufunc("y1"), lambda x, out: 0.5 * (y0(x) - yn(2.0, x)))
y0: Callable[..., Any] = y0_p.bind
y1: Callable[..., Any] = y1_p.bind
