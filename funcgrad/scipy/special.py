"""``funcgrad.scipy.special``: SciPy's special functions, differentiable in every mode.

Values are SciPy's (the primitives call the ``scipy.special`` ufuncs, imported lazily on first
use, so ``import funcgrad`` does not import SciPy); dtypes follow SciPy (``float32`` stays
``float32`` where SciPy has a ``float32`` loop). Derivatives are closed forms in terms of other
special functions, written with funcgrad operations, so they differentiate again, ``jit`` and
``vmap``:

* ``gammaln' = digamma``, ``digamma' = polygamma(1, x) = zeta(2, x)``, ``erfinv'(x) = sqrt(pi)/2
  exp(erfinv(x)^2)``, Bessel functions by their recurrences (``iv' = (iv(v-1) + iv(v+1)) / 2``,
  ``jv' = (jv(v-1) - jv(v+1)) / 2``), ``gammainc``/``betainc``/``stdtr`` in ``x`` by their densities.
* Derivatives with respect to an order or shape parameter that have no closed form raise
  ``NotImplementedError`` naming the argument: ``gammainc``/``gammaincc`` in ``a``, ``betainc`` in
  ``a`` and ``b``, ``iv``/``ive``/``jv``/``jn`` in ``v``, ``yn`` and ``polygamma`` in ``n``,
  ``zeta`` in ``s``, ``stdtr`` in ``df``. Pass those arguments as constants (or integers).
* ``xlogy(0, y)`` and ``xlog1py(0, y)`` are 0, and their derivative in ``y`` is 0 where ``x == 0``
  (no ``0/0``); ``entr(0) = 0`` with derivative ``+inf`` (the one-sided limit of ``-log x - 1``).

>>> import numpy as np, funcgrad as fg
>>> float(fg.grad(gammaln)(3.0))  # digamma(3) = 3/2 - euler_gamma
0.9227843350984671
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import Tracer
from ..numpy import reductions as red
from ..numpy._util import as_array, normalize_axes
from ..numpy.shape import broadcast_to, reshape, stack
from ..prims import elementwise as ew
from ..prims.shape import stop_gradient
from . import _special_prims as sp

__all__ = [
    "logsumexp", "expit", "logit", "erf", "erfc", "erfinv", "erfcinv", "ndtr", "ndtri", "log_ndtr", "gamma",
    "gammaln", "digamma", "psi", "polygamma", "multigammaln", "zeta", "poch", "beta", "betaln", "betainc",
    "gammainc", "gammaincc", "gammasgn", "rgamma", "stdtr", "i0", "i1", "iv", "ive", "j0", "j1", "jn",
    "jv", "y0", "y1", "yn", "xlogy", "xlog1py", "entr", "softmax", "log_softmax", "i0e", "i1e", "rel_entr",
    "kl_div", "factorial",
]


def _arg(x: Any) -> Any:
    """Arrays (NumPy's, Dask's, CuPy's), tracers and Python scalars pass through (scalars stay
    weakly typed, as in SciPy); SciPy's ufuncs dispatch to a Dask array's library (lazily)."""
    if isinstance(x, (np.ndarray, Tracer, float, int, complex, np.generic)):
        return x
    return as_array(x)


# --- log-sum-exp and softmax ------------------------------------------------------------------------


def _shift(a: Any, axes: Any) -> Any:
    """max(a) over ``axes`` (kept), 0 where it is not finite; carries no derivative."""
    if not a.size:
        return np.zeros((), a.dtype)
    # The maximum of the value (stop_gradient first): no derivative of max is computed only to be dropped.
    m = red.max(stop_gradient(a), axis=axes, keepdims=True)
    return ew.where(ew.isfinite_p.bind(m), m, 0.0)


def _drop_axes(out: Any, axes: Any) -> Any:
    kept = tuple(s for d, s in enumerate(out.shape) if axes is not None and d not in axes)
    return reshape(out, kept)


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` over ``axis``, computed stably; its derivative in ``a`` is the
    softmax of ``a`` (weighted by ``b``), and it is differentiable in ``b`` too.

    Terms with ``b == 0`` are ignored (also when ``a`` is large there). With
    ``return_sign=True`` returns ``(log|s|, sign(s))`` so that negative ``b`` can give a negative
    sum ``s``; otherwise a negative sum gives NaN, as in SciPy.

    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0])))  # 1000 + log(2), no overflow
    1000.6931471805599
    """
    a = as_array(a)
    if b is not None:
        b = as_array(b)
        shape = np.broadcast_shapes(a.shape, b.shape)
        a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    axes = normalize_axes(axis, a.ndim)
    counted = None if b is None else ew.not_equal_p.bind(b, 0)
    m = _shift(a if b is None else ew.where(counted, a, -np.inf), axes)
    shifted = a - m
    if b is not None:
        # A term with b == 0 is 0 and has no derivative in a; its derivative in b, exp(a - m), is
        # capped below overflow so that 0 * exp(a - m) stays 0 however large a is there.
        kind = np.dtype(a.dtype)
        cap = float(np.log(np.finfo(kind).max)) - 1.0 if kind.kind == "f" else 700.0
        shifted = ew.where(counted, shifted, ew.minimum_p.bind(stop_gradient(shifted), cap))
    e = ew.exp(shifted)
    if b is not None:
        e = b * e
    s = red.sum(e, axis=axes, keepdims=True)
    sgn = None
    if return_sign:
        sgn = ew.sign(s)
        s = ew.abs_p.bind(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = ew.log(s) + m
    if not keepdims:
        out = _drop_axes(out, axes)
        sgn = None if sgn is None else _drop_axes(sgn, axes)
    return (out, sgn) if return_sign else out


def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x) / sum(exp(x))`` over ``axis``, computed with the maximum subtracted.

    >>> import numpy as np
    >>> softmax(np.array([0.0, 0.0]))
    array([0.5, 0.5])
    """
    x = as_array(x)
    axes = normalize_axes(axis, x.ndim)
    e = ew.exp(x - _shift(x, axes))
    return e / red.sum(e, axis=axes, keepdims=True)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``x - logsumexp(x, axis, keepdims=True)``, computed stably.

    >>> import numpy as np
    >>> log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    x = as_array(x)
    axes = normalize_axes(axis, x.ndim)
    shifted = x - _shift(x, axes)
    with np.errstate(divide="ignore"):
        return shifted - ew.log(red.sum(ew.exp(shifted), axis=axes, keepdims=True))


# --- elementwise functions ------------------------------------------------------------------------


def expit(x: Any) -> Any:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, with derivative ``expit(x) * (1 - expit(x))``.

    >>> float(expit(0.0))
    0.5
    """
    return ew.expit_p.bind(as_array(x))


def logit(x: Any) -> Any:
    """``log(x / (1 - x))``, the inverse of :func:`expit`; derivative ``1 / (x (1 - x))``.

    >>> float(logit(0.5))
    0.0
    """
    return sp.logit_p.bind(_arg(x))


def erf(x: Any) -> Any:
    """The error function; derivative ``2/sqrt(pi) exp(-x^2)``.

    >>> float(erf(0.0))
    0.0
    """
    return sp.erf_p.bind(_arg(x))


def erfc(x: Any) -> Any:
    """The complementary error function ``1 - erf(x)`` (accurate for large ``x``)."""
    return sp.erfc_p.bind(_arg(x))


def erfinv(x: Any) -> Any:
    """The inverse of :func:`erf` on (-1, 1); derivative ``sqrt(pi)/2 exp(erfinv(x)^2)``."""
    return sp.erfinv_p.bind(_arg(x))


def erfcinv(x: Any) -> Any:
    """The inverse of :func:`erfc` on (0, 2); derivative ``-sqrt(pi)/2 exp(erfcinv(x)^2)``."""
    return sp.erfcinv_p.bind(_arg(x))


_SQRT1_2 = math.sqrt(0.5)


def ndtr(x: Any) -> Any:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (a composition; SciPy's ``ndtr`` to
    a few ulps)."""
    return 0.5 * sp.erfc_p.bind(-_arg(x) * _SQRT1_2)


def ndtri(p: Any) -> Any:
    """The inverse of :func:`ndtr` (the standard normal quantile), ``-sqrt(2) erfcinv(2p)``: a
    composition, SciPy's ``ndtri`` to a few ulps; derivative ``sqrt(2 pi) exp(ndtri(p)^2 / 2)``.

    >>> round(float(ndtri(0.975)), 6)
    1.959964
    """
    return -math.sqrt(2.0) * sp.erfcinv_p.bind(2.0 * _arg(p))


def log_ndtr(x: Any) -> Any:
    """``log(ndtr(x))``, accurate far into the lower tail; derivative ``pdf(x) / ndtr(x)``."""
    return sp.log_ndtr_p.bind(_arg(x))


def gamma(x: Any) -> Any:
    """The gamma function; derivative ``gamma(x) digamma(x)``.

    >>> float(gamma(5.0))
    24.0
    """
    return sp.gamma_p.bind(_arg(x))


def gammaln(x: Any) -> Any:
    """``log|gamma(x)|``; derivative ``digamma(x)``."""
    return sp.gammaln_p.bind(_arg(x))


def digamma(x: Any) -> Any:
    """The digamma function ``gammaln'``; derivative ``polygamma(1, x) = zeta(2, x)``."""
    return sp.digamma_p.bind(_arg(x))


psi = digamma


def rgamma(x: Any) -> Any:
    """``1 / gamma(x)`` (0 at the poles of gamma); derivative ``-rgamma(x) digamma(x)`` (NaN at
    the poles, where ``digamma`` is infinite)."""
    return sp.rgamma_p.bind(_arg(x))


def gammasgn(x: Any) -> Any:
    """The sign of ``gamma(x)``; no derivative (zero)."""
    return sp.gammasgn_p.bind(_arg(x))


def zeta(x: Any, q: Any = None) -> Any:
    """The Hurwitz zeta function ``sum_k (k + q)^-x``; differentiable in ``q``
    (``d/dq = -x zeta(x + 1, q)``). The derivative in ``x`` raises ``NotImplementedError``.

    The Riemann zeta function (``q=None``) is not provided: use ``zeta(x, 1.0)`` for ``x > 1``.
    """
    if q is None:
        raise NotImplementedError(
            "funcgrad.scipy.special.zeta(x) (the Riemann zeta function, q=None) is not provided; "
            "zeta(x, 1.0) is the same function for x > 1.")
    return sp.zeta_p.bind(_arg(x), _arg(q))


def polygamma(n: Any, x: Any) -> Any:
    """The ``n``-th derivative of digamma, composed as SciPy does:
    ``(-1)^(n+1) n! zeta(n+1, x)`` for ``n >= 1`` and ``digamma(x)`` for ``n = 0``.

    Differentiable in ``x`` (``d/dx polygamma(n, x) = polygamma(n + 1, x)``); ``n`` is an integer
    order, and differentiating with respect to it raises ``NotImplementedError``.

    >>> float(polygamma(1, 1.0))  # pi^2 / 6
    1.6449340668482266
    """
    n, x = _arg(n), _arg(x)
    fac = ew.power(-1.0, n + 1) * sp.gamma_p.bind(n + 1.0) * sp.zeta_p.bind(n + 1, x)
    return ew.where(ew.equal(n, 0), sp.digamma_p.bind(x), fac)


def multigammaln(a: Any, d: int) -> Any:
    """The log of the multivariate gamma function of dimension ``d``:
    ``d (d-1)/4 log(pi) + sum_{j=1..d} gammaln(a - (j-1)/2)``; differentiable in ``a``.

    ``d`` is a positive integer (static); ``a`` must exceed ``(d - 1) / 2`` (checked for concrete
    values, as SciPy does).
    """
    d_arr = np.asarray(d)[()]
    if not np.isscalar(d_arr) or np.floor(d_arr) != d_arr or d_arr < 1:  # type: ignore[operator]  # d_arr is a concrete number here
        raise ValueError(f"multigammaln: d should be a positive integer (dimension), got {d!r}")
    d = int(d_arr)  # type: ignore[arg-type]  # d_arr is a concrete number here
    a = _arg(a)
    if not isinstance(a, Tracer) and np.any(np.asarray(a) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: condition a ({a}) > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    terms = stack([a - (j - 1.0) / 2 for j in range(1, d + 1)])
    return red.sum(sp.gammaln_p.bind(terms), axis=0) + (d * (d - 1) * 0.25) * np.log(np.pi)


def poch(z: Any, m: Any) -> Any:
    """The rising factorial ``gamma(z + m) / gamma(z)``; differentiable in both arguments
    (``d/dz = poch(z, m) (digamma(z + m) - digamma(z))``, ``d/dm = poch(z, m) digamma(z + m)``)."""
    return sp.poch_p.bind(_arg(z), _arg(m))


def beta(a: Any, b: Any) -> Any:
    """The beta function ``gamma(a) gamma(b) / gamma(a + b)``; differentiable in both arguments
    (``d/da = beta(a, b) (digamma(a) - digamma(a + b))``)."""
    return sp.beta_p.bind(_arg(a), _arg(b))


def betaln(a: Any, b: Any) -> Any:
    """``log|beta(a, b)|``; ``d/da = digamma(a) - digamma(a + b)``."""
    return sp.betaln_p.bind(_arg(a), _arg(b))


def betainc(a: Any, b: Any, x: Any) -> Any:
    """The regularized incomplete beta function ``I_x(a, b)``.

    Differentiable in ``x`` (``x^(a-1) (1-x)^(b-1) / beta(a, b)``); the derivatives in ``a`` and
    ``b`` have no closed form and raise ``NotImplementedError``.
    """
    return sp.betainc_p.bind(_arg(a), _arg(b), _arg(x))


def gammainc(a: Any, x: Any) -> Any:
    """The regularized lower incomplete gamma function ``P(a, x)``.

    Differentiable in ``x`` (``x^(a-1) exp(-x) / gamma(a)``); the derivative in ``a`` has no
    closed form and raises ``NotImplementedError``.
    """
    return sp.gammainc_p.bind(_arg(a), _arg(x))


def gammaincc(a: Any, x: Any) -> Any:
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)`` (accurate where
    ``Q`` is small). Differentiable in ``x``; the derivative in ``a`` raises
    ``NotImplementedError``."""
    return sp.gammaincc_p.bind(_arg(a), _arg(x))


def stdtr(df: Any, t: Any) -> Any:
    """The CDF of Student's t distribution with ``df`` degrees of freedom.

    Differentiable in ``t`` (the t density); the derivative in ``df`` raises
    ``NotImplementedError``.
    """
    return sp.stdtr_p.bind(_arg(df), _arg(t))


def i0(x: Any) -> Any:
    """The modified Bessel function of order 0; derivative ``i1(x)``."""
    return sp.i0_p.bind(_arg(x))


def i1(x: Any) -> Any:
    """The modified Bessel function of order 1; derivative ``(i0(x) + iv(2, x)) / 2``."""
    return sp.i1_p.bind(_arg(x))


def iv(v: Any, x: Any) -> Any:
    """The modified Bessel function of real order ``v``.

    Differentiable in ``x`` (``(iv(v-1, x) + iv(v+1, x)) / 2``); the derivative in the order
    ``v`` raises ``NotImplementedError``.
    """
    return sp.iv_p.bind(_arg(v), _arg(x))


def ive(v: Any, x: Any) -> Any:
    """The exponentially scaled modified Bessel function ``iv(v, x) exp(-|x|)``.

    Differentiable in ``x`` (``(ive(v-1, x) + ive(v+1, x)) / 2 - sign(x) ive(v, x)``); the
    derivative in ``v`` raises ``NotImplementedError``.
    """
    return sp.ive_p.bind(_arg(v), _arg(x))


def j0(x: Any) -> Any:
    """The Bessel function of the first kind of order 0; derivative ``-j1(x)``."""
    return sp.j0_p.bind(_arg(x))


def j1(x: Any) -> Any:
    """The Bessel function of the first kind of order 1; derivative ``(j0(x) - jv(2, x)) / 2``."""
    return sp.j1_p.bind(_arg(x))


def jv(v: Any, x: Any) -> Any:
    """The Bessel function of the first kind of real order ``v``.

    Differentiable in ``x`` (``(jv(v-1, x) - jv(v+1, x)) / 2``); the derivative in ``v`` raises
    ``NotImplementedError``.
    """
    return sp.jv_p.bind(_arg(v), _arg(x))


def jn(n: Any, x: Any) -> Any:
    """The Bessel function of the first kind of integer order ``n`` (SciPy's ``jn`` is ``jv``).

    Differentiable in ``x``; the derivative in ``n`` raises ``NotImplementedError``.
    """
    return sp.jv_p.bind(_arg(n), _arg(x))


def y0(x: Any) -> Any:
    """The Bessel function of the second kind of order 0; derivative ``-y1(x)``."""
    return sp.y0_p.bind(_arg(x))


def y1(x: Any) -> Any:
    """The Bessel function of the second kind of order 1; derivative ``(y0(x) - yn(2, x)) / 2``."""
    return sp.y1_p.bind(_arg(x))


def yn(n: Any, x: Any) -> Any:
    """The Bessel function of the second kind of integer order ``n``.

    Differentiable in ``x`` (``(yn(n-1, x) - yn(n+1, x)) / 2``); the derivative in ``n`` raises
    ``NotImplementedError``.
    """
    return sp.yn_p.bind(_arg(n), _arg(x))


def xlogy(x: Any, y: Any) -> Any:
    """``x * log(y)``, and 0 where ``x == 0`` (also at ``y == 0``).

    ``d/dx = log(y)``; ``d/dy = x / y``, taken as 0 where ``x == 0`` (no NaN at ``(0, 0)``).

    >>> float(xlogy(0.0, 0.0))
    0.0
    """
    return sp.xlogy_p.bind(_arg(x), _arg(y))


def xlog1py(x: Any, y: Any) -> Any:
    """``x * log1p(y)``, and 0 where ``x == 0``; ``d/dy = x / (1 + y)``, 0 where ``x == 0``."""
    return sp.xlog1py_p.bind(_arg(x), _arg(y))


def entr(x: Any) -> Any:
    """Elementwise entropy ``-x log x`` for ``x > 0``, 0 at ``x = 0``, ``-inf`` for ``x < 0``.

    Composed from :func:`xlogy`; the derivative is ``-log(x) - 1`` (``+inf`` at 0, 0 where
    ``x < 0``).

    >>> float(entr(0.0))
    0.0
    """
    x = _arg(x)
    neg = ew.less(x, 0)
    safe = ew.where(neg, 1.0, x)  # the -inf branch is constant: keep its derivative finite
    return ew.where(neg, -np.inf, 0.0 - sp.xlogy_p.bind(safe, safe))  # entr(0) = +0.0, as SciPy's


def i0e(x: Any) -> Any:
    """The exponentially scaled modified Bessel function of order 0, ``i0(x) exp(-|x|)`` (:func:`ive`).

    >>> round(float(i0e(1.0)), 5)
    0.46576
    """
    return ive(0.0, x)


def i1e(x: Any) -> Any:
    """The exponentially scaled modified Bessel function of order 1, ``i1(x) exp(-|x|)`` (:func:`ive`)."""
    return ive(1.0, x)


def _relative_entropy(x: Any, y: Any, kl: bool) -> Any:
    from .. import numpy as fnp

    x, y = _arg(x), _arg(y)
    positive = fnp.logical_and(fnp.greater(x, 0), fnp.greater(y, 0))
    zero = fnp.logical_and(fnp.equal(x, 0), fnp.greater_equal(y, 0))
    xs, ys = fnp.where(positive, x, 1.0), fnp.where(positive, y, 1.0)  # finite derivatives off the branch
    v = xs * fnp.log(xs / ys)
    if kl:
        v = v - xs + ys
    out = fnp.where(positive, v, fnp.where(zero, y if kl else 0.0, np.inf))
    return fnp.where(fnp.logical_or(fnp.isnan(x), fnp.isnan(y)), np.nan, out)


def rel_entr(x: Any, y: Any) -> Any:
    """Elementwise relative entropy ``x log(x / y)`` for ``x, y > 0``; 0 at ``x = 0 <= y``; ``inf``
    elsewhere (SciPy's); the derivative off the first case is 0 (as JAX's).

    >>> round(float(rel_entr(1.0, 2.0)), 6)
    -0.693147
    """
    return _relative_entropy(x, y, kl=False)


def kl_div(x: Any, y: Any) -> Any:
    """Elementwise ``x log(x / y) - x + y`` for ``x, y > 0``; ``y`` at ``x = 0 <= y``; ``inf`` elsewhere.

    >>> round(float(kl_div(1.0, 2.0)), 6)
    0.306853
    """
    return _relative_entropy(x, y, kl=True)


def factorial(n: Any, exact: bool = False) -> Any:
    """``gamma(n + 1)``, 0 for ``n < 0`` (SciPy's ``exact=False``; ``exact=True`` is refused, as in JAX).

    >>> float(factorial(5.0))
    120.0
    """
    if exact:
        raise ValueError("factorial: exact=True is not supported (it needs Python integers); use exact=False.")
    from .. import numpy as fnp

    n = _arg(n)
    negative = fnp.less(n, 0)
    return fnp.where(negative, 0.0, gamma(fnp.where(negative, 0.0, n) + 1.0))
