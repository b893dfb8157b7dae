"""``funcgrad.scipy.stats``: probability distributions, differentiable in their arguments and
parameters.

Each distribution is an object with SciPy's method names and signatures (``norm.logpdf(x, loc=0,
scale=1)``, ``gamma.cdf(x, a, loc=0, scale=1)``, ``poisson.logpmf(k, mu, loc=0)``,
``multivariate_normal.logpdf(x, mean=None, cov=1)``, ``dirichlet.logpdf(x, alpha)``). Everything
is composed from :mod:`funcgrad.scipy.special` and :mod:`funcgrad.numpy`, so ``grad``, ``jvp``,
``jit`` and ``vmap`` apply, at any order. Values are SciPy's to rounding, including outside the
support (``pdf`` 0, ``logpdf`` ``-inf``, ``cdf`` 0 or 1) and for invalid parameters (NaN, e.g.
``scale <= 0``); there the result is constant, with derivative 0.

Differences from SciPy: outputs are arrays (0-d for scalar inputs), and ``float32`` inputs give
``float32`` results (SciPy computes in ``float64``). Derivatives that have no closed form raise
``NotImplementedError``: the ``cdf``/``sf`` family in a shape parameter (``gamma``'s ``a``,
``beta``'s ``a`` and ``b``, ``t``'s and ``chi2``'s ``df``); ``pdf``/``logpdf`` are differentiable in
every argument, and ``poisson``'s ``cdf``/``sf`` are differentiable in ``mu``.

>>> import numpy as np, funcgrad as fg
>>> float(fg.grad(norm.logpdf, argnums=1)(1.0, 0.0, 2.0))  # d/dloc = (x - loc) / scale^2
0.25
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import numpy as fnp
from ..core import Tracer
from ..numpy._util import as_array
from ..prims import elementwise as ew
from ..prims.shape import stop_gradient
from . import _special_prims as sp
from . import _stats_prims
from .special import _arg, log_ndtr, ndtr, ndtri, xlog1py, xlogy

__all__ = ["norm", "t", "gamma", "beta", "chi2", "poisson", "multivariate_normal", "dirichlet", "expon", "uniform",
           "laplace", "logistic", "cauchy", "bernoulli", "binom", "geom", "pareto", "gumbel_r", "gumbel_l",
           "vonmises", "gennorm", "truncnorm", "nbinom", "betabinom"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_INF = math.inf


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, Tracer)


def _mask(bad: Any) -> Any:
    """``bad`` as a mask, or None when it is known (concretely) to be False everywhere."""
    if bad is None:
        return None
    if _is_concrete(bad) and not np.any(bad):
        return None
    return bad


def _or(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else ew.logical_or(a, b)


def _is_const(x: Any, value: float) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == value


def _result_dtype(*args: Any) -> np.dtype | None:
    """The floating dtype NumPy's promotion gives the inputs (Python scalars are weak), or None."""
    try:
        dt = np.result_type(*[a.dtype if isinstance(a, (np.ndarray, np.generic, Tracer)) else a for a in args])
    except TypeError:
        return None
    return dt if dt.kind == "f" else None


def _cast(v: Any, dtype: np.dtype | None) -> Any:
    """``v`` in the inputs' floating dtype: intermediate special functions of Python-scalar
    parameters are float64, but a float32 computation gives a float32 result."""
    if isinstance(v, (int, float)):
        v = np.asarray(v)
    if dtype is None or v.dtype == dtype:
        return v
    return fnp.astype(v, dtype)


def _log(x: Any) -> Any:
    return math.log(x) if isinstance(x, (int, float)) and x > 0 else ew.log(x)


def _log_of_smaller(p: Any, q: Any) -> Any:
    """``log(p)`` where ``p < 1/2``, else ``log1p(-q)`` (``q = 1 - p`` computed directly), as SciPy
    does on either side of the median. Each branch sees a harmless stand-in where it is not used,
    so that no ``0 * inf`` reaches the derivative."""
    small = ew.less(p, 0.5)
    with np.errstate(divide="ignore"):
        return ew.where(small, ew.log(ew.where(small, p, 1.0)), ew.log1p_p.bind(-ew.where(small, 0.0, q)))


_OUTSIDE = {  # value below and above the support
    "pdf": (0.0, 0.0), "logpdf": (-_INF, -_INF), "cdf": (0.0, 1.0), "sf": (1.0, 0.0),
    "logcdf": (-_INF, 0.0), "logsf": (0.0, -_INF),
}


class _Continuous:
    """A location-scale family: ``method(x, *shapes, loc, scale)`` evaluates the standardized
    method at ``y = (x - loc) / scale`` on the support, and SciPy's constants off it."""

    name = ""
    shape_names: tuple[str, ...] = ()
    lo: float | None = None  # support [lo, hi]; None: unbounded
    hi: float | None = None
    safe_y = 0.0  # a point inside the support (substituted off it, keeping derivatives finite)
    safe_shapes: tuple = ()  # valid shape parameters (substituted where they are invalid)

    def _invalid_shapes(self, *shapes: Any) -> Any:
        return None

    def _parse(self, method: str, args: tuple, kwargs: dict) -> tuple:
        """SciPy's calling convention: ``method(x, *shapes, loc=0, scale=1)``, by position or name."""
        names = self.shape_names + ("loc", "scale")
        if len(args) > len(names):
            raise TypeError(f"{self.name}.{method} takes at most {len(names) + 1} arguments (x, "
                            f"{', '.join(names)}), got {len(args) + 1}")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{self.name}.{method} got an unexpected keyword argument {key!r} "
                                f"(its arguments are x, {', '.join(names)})")
            if key in values:
                raise TypeError(f"{self.name}.{method} got multiple values for argument {key!r}")
            values[key] = value
        missing = [n for n in self.shape_names if n not in values]
        if missing:
            raise TypeError(f"{self.name}.{method} is missing the shape parameter(s) {', '.join(missing)}")
        return tuple(values[n] for n in self.shape_names), values.get("loc", 0), values.get("scale", 1)

    def pdf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The probability density at ``x``: ``pdf(x, *shapes, loc=0, scale=1)``."""
        return self._eval("pdf", x, *self._parse("pdf", args, kwargs))

    def logpdf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The log of the probability density at ``x``: ``logpdf(x, *shapes, loc=0, scale=1)``."""
        return self._eval("logpdf", x, *self._parse("logpdf", args, kwargs))

    def cdf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The cumulative distribution function at ``x``: ``cdf(x, *shapes, loc=0, scale=1)``."""
        return self._eval("cdf", x, *self._parse("cdf", args, kwargs))

    def logcdf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The log of the cumulative distribution function: ``logcdf(x, *shapes, loc=0, scale=1)``."""
        return self._eval("logcdf", x, *self._parse("logcdf", args, kwargs))

    def sf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The survival function ``1 - cdf`` (accurate where small): ``sf(x, *shapes, loc=0, scale=1)``."""
        return self._eval("sf", x, *self._parse("sf", args, kwargs))

    def logsf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The log of the survival function: ``logsf(x, *shapes, loc=0, scale=1)``."""
        return self._eval("logsf", x, *self._parse("logsf", args, kwargs))

    def _eval(self, method: str, x: Any, shapes: tuple, loc: Any, scale: Any) -> Any:
        x, loc, scale = _arg(x), _arg(loc), _arg(scale)
        shapes = tuple(_arg(s) for s in shapes)
        dtype = _result_dtype(x, loc, scale, *shapes)
        bad = _mask(_or(None if _is_const(scale, 1) else ew.less_equal_p.bind(scale, 0),
                        self._invalid_shapes(*shapes)))
        if bad is not None:  # NaN there; compute with valid stand-ins so derivatives stay finite
            scale = ew.where(bad, 1.0, scale)
            shapes = tuple(ew.where(bad, s0, s) for s, s0 in zip(shapes, self.safe_shapes))
        y = x if _is_const(loc, 0) else x - loc
        y = y if _is_const(scale, 1) else y / scale
        closed = method in ("pdf", "logpdf")
        below = above = None
        if self.lo is not None:
            below = _mask((ew.less if closed else ew.less_equal_p.bind)(y, self.lo))
        if self.hi is not None:
            above = _mask((ew.greater if closed else ew.greater_equal_p.bind)(y, self.hi))
        outside = _or(below, above)
        v = getattr(self, "_" + method)(y if outside is None else ew.where(outside, self.safe_y, y), *shapes)
        if method == "pdf" and not _is_const(scale, 1):
            v = v / scale
        elif method == "logpdf" and not _is_const(scale, 1):
            v = v - _log(scale)
        if outside is not None:
            lo_val, hi_val = _OUTSIDE[method]
            if below is None:
                v = ew.where(above, hi_val, v)
            elif above is None:
                v = ew.where(below, lo_val, v)
            else:
                v = ew.where(below, lo_val, ew.where(above, hi_val, v))
        if bad is not None:
            v = ew.where(bad, np.nan, v)
        return _cast(v, dtype)

    if TYPE_CHECKING:  # what every subclass defines (some as the defaults below in terms of the others)
        def _logpdf(self, y: Any, *shapes: Any) -> Any: ...
        def _cdf(self, y: Any, *shapes: Any) -> Any: ...
        def _sf(self, y: Any, *shapes: Any) -> Any: ...

    # Defaults in terms of each other (subclasses define what SciPy defines).
    def _pdf(self, y: Any, *shapes: Any) -> Any:
        return ew.exp(self._logpdf(y, *shapes))

    def _logcdf(self, y: Any, *shapes: Any) -> Any:
        return _log_of_smaller(self._cdf(y, *shapes), self._sf(y, *shapes))

    def _logsf(self, y: Any, *shapes: Any) -> Any:
        return _log_of_smaller(self._sf(y, *shapes), self._cdf(y, *shapes))

    def __repr__(self) -> str:
        return f"<funcgrad.scipy.stats.{self.name}>"


class _Norm(_Continuous):
    """The normal distribution: ``norm.logpdf(x, loc=0, scale=1)`` and the other methods."""

    name = "norm"

    def _pdf(self, y: Any) -> Any:
        return ew.exp(-(y * y) / 2.0) / _SQRT_2PI

    def _logpdf(self, y: Any) -> Any:
        return -(y * y) / 2.0 - _LOG_SQRT_2PI

    def _cdf(self, y: Any) -> Any:
        return ndtr(y)

    def _sf(self, y: Any) -> Any:
        return ndtr(-y)

    def _logcdf(self, y: Any) -> Any:
        return log_ndtr(y)

    def _logsf(self, y: Any) -> Any:
        return log_ndtr(-y)

    def ppf(self, q: Any, loc: Any = 0, scale: Any = 1) -> Any:
        """The quantile function (inverse of ``cdf``): ``loc + scale * ndtri(q)``.

        >>> round(float(norm.ppf(0.975, 1.0, 2.0)), 6)
        4.919928
        """
        return _arg(loc) + _arg(scale) * ndtri(q)

    def isf(self, q: Any, loc: Any = 0, scale: Any = 1) -> Any:
        """The inverse of ``sf``: ``loc - scale * ndtri(q)``."""
        return _arg(loc) - _arg(scale) * ndtri(q)


class _Expon(_Continuous):
    """The exponential distribution on ``x >= loc``: ``expon.logpdf(x, loc=0, scale=1)`` and the
    other methods."""

    name = "expon"
    lo = 0.0
    safe_y = 1.0

    def _logpdf(self, y: Any) -> Any:
        return -y

    def _cdf(self, y: Any) -> Any:
        return -fnp.expm1(-y)

    def _sf(self, y: Any) -> Any:
        return ew.exp(-y)

    def _logsf(self, y: Any) -> Any:
        return -y


class _Uniform(_Continuous):
    """The uniform distribution on ``[loc, loc + scale]``: ``uniform.logpdf(x, loc=0, scale=1)``
    and the other methods."""

    name = "uniform"
    lo, hi = 0.0, 1.0
    safe_y = 0.5

    def _logpdf(self, y: Any) -> Any:
        return 0.0 * y

    def _cdf(self, y: Any) -> Any:
        return y

    def _sf(self, y: Any) -> Any:
        return 1.0 - y


class _Laplace(_Continuous):
    """The Laplace distribution: ``laplace.logpdf(x, loc=0, scale=1)`` and the other methods."""

    name = "laplace"

    def _logpdf(self, y: Any) -> Any:
        return -fnp.abs(y) - math.log(2.0)

    def _cdf(self, y: Any) -> Any:
        half_tail = 0.5 * ew.exp(-fnp.abs(y))  # never overflows, whichever side y is on
        return ew.where(ew.less(y, 0.0), half_tail, 1.0 - half_tail)

    def _sf(self, y: Any) -> Any:
        return self._cdf(-y)


class _Logistic(_Continuous):
    """The logistic distribution: ``logistic.logpdf(x, loc=0, scale=1)`` and the other methods."""

    name = "logistic"

    def _logpdf(self, y: Any) -> Any:
        a = fnp.abs(y)  # the density is symmetric: exp(-|y|) never overflows
        return -a - 2.0 * fnp.log1p(ew.exp(-a))

    def _cdf(self, y: Any) -> Any:
        return ew.expit_p.bind(y)

    def _sf(self, y: Any) -> Any:
        return ew.expit_p.bind(-y)

    def _logcdf(self, y: Any) -> Any:
        return -fnp.logaddexp(0.0, -y)

    def _logsf(self, y: Any) -> Any:
        return -fnp.logaddexp(0.0, y)


class _Cauchy(_Continuous):
    """The Cauchy distribution: ``cauchy.logpdf(x, loc=0, scale=1)`` and the other methods."""

    name = "cauchy"

    def _logpdf(self, y: Any) -> Any:
        return -_LOG_PI - fnp.log1p(y * y)

    def _cdf(self, y: Any) -> Any:
        return 0.5 + fnp.arctan(y) / math.pi

    def _sf(self, y: Any) -> Any:
        return 0.5 - fnp.arctan(y) / math.pi


class _Pareto(_Continuous):
    """The Pareto distribution on ``y >= 1``: ``pareto.logpdf(x, b, loc=0, scale=1)`` and the other
    methods, differentiable in ``b`` too."""

    name = "pareto"
    shape_names = ("b",)
    lo = 1.0
    safe_y = 2.0
    safe_shapes = (1.0,)

    def _invalid_shapes(self, b: Any) -> Any:
        return ew.less_equal_p.bind(b, 0)

    def _logpdf(self, y: Any, b: Any) -> Any:
        return ew.log(b) - (b + 1.0) * ew.log(y)

    def _cdf(self, y: Any, b: Any) -> Any:
        return -fnp.expm1(-b * ew.log(y))

    def _sf(self, y: Any, b: Any) -> Any:
        return ew.exp(-b * ew.log(y))

    def _logsf(self, y: Any, b: Any) -> Any:
        return -b * ew.log(y)


class _GumbelR(_Continuous):
    """The right-skewed Gumbel distribution: ``gumbel_r.logpdf(x, loc=0, scale=1)`` and the other
    methods."""

    name = "gumbel_r"

    def _logpdf(self, y: Any) -> Any:
        return -(y + ew.exp(-y))

    def _cdf(self, y: Any) -> Any:
        return ew.exp(-ew.exp(-y))

    def _sf(self, y: Any) -> Any:
        return -fnp.expm1(-ew.exp(-y))

    def _logcdf(self, y: Any) -> Any:
        return -ew.exp(-y)


class _GumbelL(_Continuous):
    """The left-skewed Gumbel distribution: ``gumbel_l.logpdf(x, loc=0, scale=1)`` and the other
    methods."""

    name = "gumbel_l"

    def _logpdf(self, y: Any) -> Any:
        return y - ew.exp(y)

    def _cdf(self, y: Any) -> Any:
        return -fnp.expm1(-ew.exp(y))

    def _sf(self, y: Any) -> Any:
        return ew.exp(-ew.exp(y))

    def _logsf(self, y: Any) -> Any:
        return -ew.exp(y)


class _GenNorm(_Continuous):
    """The generalized normal distribution: ``gennorm.logpdf(x, beta, loc=0, scale=1)`` and the
    other methods (``beta = 2``: a normal with variance 1/2; ``beta = 1``: Laplace). ``cdf``/``sf``
    are not differentiable in ``beta``."""

    name = "gennorm"
    shape_names = ("beta",)
    safe_shapes = (2.0,)

    def _invalid_shapes(self, beta: Any) -> Any:
        return ew.less_equal_p.bind(beta, 0)

    def _logpdf(self, y: Any, beta: Any) -> Any:
        return ew.log(beta) - math.log(2.0) - sp.gammaln_p.bind(1.0 / beta) - fnp.abs(y) ** beta

    def _cdf(self, y: Any, beta: Any) -> Any:
        # the upper tail P(Y > |y|) = gammaincc(1/beta, |y|^beta) / 2, accurate where it is small
        half_tail = 0.5 * sp.gammaincc_p.bind(1.0 / beta, fnp.abs(y) ** beta)
        return ew.where(ew.less(y, 0.0), half_tail, 1.0 - half_tail)

    def _sf(self, y: Any, beta: Any) -> Any:
        return self._cdf(-y, beta)


def _log1mexp(z: Any) -> Any:
    """``log(1 - exp(z))`` for ``z <= 0``, accurate on both sides of ``-log 2``."""
    near = ew.greater(z, -math.log(2.0))
    z_near, z_far = ew.where(near, z, -1.0), ew.where(near, -1.0, z)  # each branch sees a safe stand-in
    with np.errstate(divide="ignore"):
        return ew.where(near, ew.log(-fnp.expm1(z_near)), fnp.log1p(-ew.exp(z_far)))


def _log_gauss_mass(a: Any, b: Any) -> Any:
    """``log(ndtr(b) - ndtr(a))`` for ``a <= b``, accurate in either tail (the interval is mirrored
    to the left tail when it lies right of 0; the central case is 1 minus both tails)."""
    left = ew.less_equal_p.bind(b, 0.0)
    right = ew.greater_equal_p.bind(a, 0.0)
    # left tail: log Φ(b) + log(1 - Φ(a)/Φ(b)); mirrored for the right tail
    lo = ew.where(right, -b, a)
    hi = ew.where(right, -a, b)
    lo_t, hi_t = ew.where(ew.logical_or(left, right), lo, -1.0), ew.where(ew.logical_or(left, right), hi, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = log_ndtr(hi_t) + _log1mexp(log_ndtr(lo_t) - log_ndtr(hi_t))
    a_c, b_c = ew.where(ew.logical_or(left, right), -1.0, a), ew.where(ew.logical_or(left, right), 1.0, b)
    central = fnp.log1p(-ndtr(a_c) - ndtr(-b_c))
    return ew.where(ew.logical_or(left, right), tail, central)


class _TruncNorm(_Continuous):
    """The normal distribution truncated to ``[a, b]`` (standardized bounds):
    ``truncnorm.logpdf(x, a, b, loc=0, scale=1)`` and the other methods, differentiable in every
    argument; accurate far in either tail (log-masses from :func:`~.special.log_ndtr`)."""

    name = "truncnorm"
    shape_names = ("a", "b")
    safe_shapes = (-1.0, 1.0)

    def _invalid_shapes(self, a: Any, b: Any) -> Any:
        return ew.greater_equal_p.bind(a, b)

    def _parts(self, y: Any, a: Any, b: Any) -> tuple:
        """Masks of ``y`` below and above ``[a, b]`` (infinite ``y`` counts as outside), a finite
        stand-in inside ``[a, b]`` where ``y`` is not, and the log-mass of ``[a, b]``."""
        below = ew.logical_or(ew.less(y, a), ew.equal(y, -_INF))
        above = ew.logical_or(ew.greater(y, b), ew.equal(y, _INF))
        finite_a, finite_b = ew.logical_not_p.bind(ew.isinf_p.bind(a)), ew.logical_not_p.bind(ew.isinf_p.bind(b))
        stand_in = ew.where(finite_a, ew.where(finite_b, 0.5 * (a + b), a), ew.where(finite_b, b, 0.0))
        inside = ew.where(ew.logical_or(below, above), stand_in, y)
        return below, above, inside, _log_gauss_mass(a, b)

    def _logpdf(self, y: Any, a: Any, b: Any) -> Any:
        below, above, inside, log_mass = self._parts(y, a, b)
        v = -(inside * inside) / 2.0 - _LOG_SQRT_2PI - log_mass
        return ew.where(ew.logical_or(below, above), -_INF, v)

    def _log_tails(self, y: Any, a: Any, b: Any) -> tuple:
        """``(logcdf, logsf)``: each the difference of log-masses where it is below ``log 1/2``,
        else ``log(1 - exp(other))`` (no cancellation next to 0)."""
        below, above, inside, log_mass = self._parts(y, a, b)
        lower, upper = _log_gauss_mass(a, inside) - log_mass, _log_gauss_mass(inside, b) - log_mass
        half = -math.log(2.0)
        cdf_big, sf_big = ew.greater(lower, half), ew.greater(upper, half)
        upper_there = ew.where(cdf_big, upper, -1.0)  # the other tail, only where it is the small one
        lower_there = ew.where(sf_big, lower, -1.0)
        logcdf = ew.where(cdf_big, _log1mexp(upper_there), lower)
        logsf = ew.where(sf_big, _log1mexp(lower_there), upper)
        logcdf = ew.where(below, -_INF, ew.where(above, 0.0, logcdf))
        logsf = ew.where(below, 0.0, ew.where(above, -_INF, logsf))
        return logcdf, logsf

    def _logcdf(self, y: Any, a: Any, b: Any) -> Any:
        return self._log_tails(y, a, b)[0]

    def _logsf(self, y: Any, a: Any, b: Any) -> Any:
        return self._log_tails(y, a, b)[1]

    def _cdf(self, y: Any, a: Any, b: Any) -> Any:
        return ew.exp(self._logcdf(y, a, b))

    def _sf(self, y: Any, a: Any, b: Any) -> Any:
        return ew.exp(self._logsf(y, a, b))


class _VonMises:
    """The von Mises distribution: ``vonmises.logpdf(x, kappa, loc=0, scale=1)`` and ``pdf``
    (SciPy's density, periodic in ``x``), differentiable in every argument. Its ``cdf`` (a series)
    is not provided (JAX has none either)."""

    name = "vonmises"

    def logpdf(self, x: Any, kappa: Any, loc: Any = 0, scale: Any = 1) -> Any:
        """``kappa cos(y) - log(2 pi i0(kappa)) - log(scale)``, ``y = (x - loc) / scale``; NaN for
        ``kappa < 0`` or ``scale <= 0``."""
        from .special import i0e

        x, kappa, loc, scale = _arg(x), _arg(kappa), _arg(loc), _arg(scale)
        dtype = _result_dtype(x, kappa, loc, scale)
        bad = _mask(ew.logical_or(ew.less(kappa, 0.0), ew.less_equal_p.bind(scale, 0)))
        if bad is not None:
            kappa, scale = ew.where(bad, 1.0, kappa), ew.where(bad, 1.0, scale)
        y = (x - loc) / scale
        # i0(kappa) = i0e(kappa) exp(kappa): no overflow for large kappa
        v = kappa * (ew.cos_p.bind(y) - 1.0) - ew.log(i0e(kappa)) - _LOG_2PI - ew.log(scale)
        return _cast(v if bad is None else ew.where(bad, np.nan, v), dtype)

    def pdf(self, x: Any, kappa: Any, loc: Any = 0, scale: Any = 1) -> Any:
        """The density: ``exp(logpdf)``."""
        return ew.exp(self.logpdf(x, kappa, loc, scale))

    def __repr__(self) -> str:
        return "<funcgrad.scipy.stats.vonmises>"


class _T(_Continuous):
    """Student's t distribution: ``t.logpdf(x, df, loc=0, scale=1)`` and the other methods
    (``df = inf`` is the normal distribution). ``cdf``/``sf`` are not differentiable in ``df``."""

    name = "t"
    shape_names = ("df",)
    safe_shapes = (1.0,)

    def _invalid_shapes(self, df: Any) -> Any:
        return ew.less_equal_p.bind(df, 0)

    def _logpdf(self, y: Any, df: Any) -> Any:
        infinite = _mask(ew.isinf_p.bind(df))
        d = df if infinite is None else ew.where(infinite, 1.0, df)
        # log(Gamma((d+1)/2) / Gamma(d/2)) as a Pochhammer symbol: accurate for large d
        v = (ew.log(sp.poch_p.bind(0.5 * d, 0.5)) - 0.5 * (ew.log(d) + _LOG_PI)
             - (d + 1.0) / 2.0 * ew.log1p_p.bind(y * y / d))
        return v if infinite is None else ew.where(infinite, norm._logpdf(y), v)

    def _cdf(self, y: Any, df: Any) -> Any:
        return sp.stdtr_p.bind(df, y)

    def _sf(self, y: Any, df: Any) -> Any:
        return sp.stdtr_p.bind(df, -y)


class _Gamma(_Continuous):
    """The gamma distribution: ``gamma.logpdf(x, a, loc=0, scale=1)`` and the other methods.
    ``cdf``/``sf`` are not differentiable in ``a``."""

    name = "gamma"
    shape_names = ("a",)
    lo = 0.0
    safe_y = 1.0
    safe_shapes = (1.0,)

    def _invalid_shapes(self, a: Any) -> Any:
        return ew.less_equal_p.bind(a, 0)

    def _logpdf(self, y: Any, a: Any) -> Any:
        return xlogy(a - 1.0, y) - y - sp.gammaln_p.bind(a)

    def _cdf(self, y: Any, a: Any) -> Any:
        return sp.gammainc_p.bind(a, y)

    def _sf(self, y: Any, a: Any) -> Any:
        return sp.gammaincc_p.bind(a, y)


class _Chi2(_Continuous):
    """The chi-squared distribution: ``chi2.logpdf(x, df, loc=0, scale=1)`` and the other methods.
    ``cdf``/``sf`` are not differentiable in ``df``."""

    name = "chi2"
    shape_names = ("df",)
    lo = 0.0
    safe_y = 1.0
    safe_shapes = (1.0,)

    def _invalid_shapes(self, df: Any) -> Any:
        return ew.less_equal_p.bind(df, 0)

    def _logpdf(self, y: Any, df: Any) -> Any:
        return xlogy(df / 2.0 - 1.0, y) - y / 2.0 - sp.gammaln_p.bind(df / 2.0) - (math.log(2.0) * df) / 2.0

    def _cdf(self, y: Any, df: Any) -> Any:
        return sp.gammainc_p.bind(df / 2.0, y / 2.0)

    def _sf(self, y: Any, df: Any) -> Any:
        return sp.gammaincc_p.bind(df / 2.0, y / 2.0)


class _Beta(_Continuous):
    """The beta distribution: ``beta.logpdf(x, a, b, loc=0, scale=1)`` and the other methods.
    ``cdf``/``sf`` are not differentiable in ``a`` or ``b``."""

    name = "beta"
    shape_names = ("a", "b")
    lo, hi = 0.0, 1.0
    safe_y = 0.5
    safe_shapes = (1.0, 1.0)

    def _invalid_shapes(self, a: Any, b: Any) -> Any:
        return ew.logical_or(ew.less_equal_p.bind(a, 0), ew.less_equal_p.bind(b, 0))

    def _logpdf(self, y: Any, a: Any, b: Any) -> Any:
        return xlog1py(b - 1.0, -y) + xlogy(a - 1.0, y) - sp.betaln_p.bind(a, b)

    def _cdf(self, y: Any, a: Any, b: Any) -> Any:
        return sp.betainc_p.bind(a, b, y)

    def _sf(self, y: Any, a: Any, b: Any) -> Any:
        # I_{1-y}(b, a) = 1 - I_y(a, b); 1 - y is exact where the result is small (y near 1)
        return sp.betainc_p.bind(b, a, 1.0 - y)


class _Poisson:
    """The Poisson distribution: ``poisson.pmf(k, mu, loc=0)``, ``logpmf``, ``cdf``, ``logcdf``,
    ``sf``, ``logsf``; differentiable in ``mu``. ``pmf`` is 0 at non-integer or negative ``k``
    (as in SciPy), so it is a step function of ``k`` and ``loc``: their derivative is 0.
    ``mu < 0`` gives NaN."""

    name = "poisson"

    def _prepare(self, k: Any, mu: Any, loc: Any) -> tuple:
        k, mu, loc = _arg(k), _arg(mu), _arg(loc)
        dtype = _result_dtype(k, mu, loc, 0.0)
        bad = _mask(ew.less(mu, 0))
        if bad is not None:
            mu = ew.where(bad, 1.0, mu)
        k = k if _is_const(loc, 0) else k - loc
        if isinstance(k, Tracer):  # integer-valued: the mass is a step function of k (and loc)
            k = stop_gradient(k)
        return k, mu, (bad, dtype)

    def _finish(self, v: Any, bad_dtype: tuple) -> Any:
        bad, dtype = bad_dtype
        return _cast(v if bad is None else ew.where(bad, np.nan, v), dtype)

    def logpmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """The log of the probability mass at ``k``."""
        k, mu, bad = self._prepare(k, mu, loc)
        fractional = ew.logical_and(ew.not_equal_p.bind(k, ew.floor_p.bind(k)), ew.logical_not_p.bind(ew.isnan(k)))
        off = _mask(ew.logical_or(ew.less(k, 0), fractional))
        ks = k if off is None else ew.where(off, 0.0, k)
        v = xlogy(ks, mu) - sp.gammaln_p.bind(ks + 1) - mu
        if off is not None:
            v = ew.where(off, -_INF, v)
        return self._finish(v, bad)

    def pmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """The probability mass at ``k``."""
        return ew.exp(self.logpmf(k, mu, loc))

    def _tail(self, upper: bool, k: Any, mu: Any, loc: Any) -> Any:
        k, mu, bad = self._prepare(k, mu, loc)
        kf = ew.floor_p.bind(k)
        off = _mask(ew.less(kf, 0))
        ks = kf if off is None else ew.where(off, 0.0, kf)
        # P(K <= k) = Q(k + 1, mu) (the regularized upper incomplete gamma), P(K > k) = P(k + 1, mu)
        v = (sp.gammainc_p if upper else sp.gammaincc_p).bind(ks + 1, mu)
        if off is not None:
            v = ew.where(off, 1.0 if upper else 0.0, v)
        return self._finish(v, bad)

    def cdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """``P(K <= k)``; differentiable in ``mu``."""
        return self._tail(False, k, mu, loc)

    def sf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """``P(K > k)``; differentiable in ``mu``."""
        return self._tail(True, k, mu, loc)

    def logcdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """``log P(K <= k)``."""
        with np.errstate(divide="ignore"):
            return ew.log(self.cdf(k, mu, loc))

    def logsf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """``log P(K > k)``."""
        with np.errstate(divide="ignore"):
            return ew.log(self.sf(k, mu, loc))

    def __repr__(self) -> str:
        return "<funcgrad.scipy.stats.poisson>"


class _Discrete:
    """A distribution on the integers with parameters ``params`` (then ``loc``): ``logpmf``/``pmf``
    (and ``cdf``/``sf`` where the subclass defines ``_cdf``), differentiable in the real-valued
    parameters. ``k`` enters as a step function (derivative 0); invalid parameters give NaN."""

    name = ""
    param_names: tuple[str, ...] = ()
    safe_params: tuple = ()
    lo = 0  # the smallest value of the support (before loc)

    def _invalid(self, *params: Any) -> Any:
        raise NotImplementedError

    def _hi(self, *params: Any) -> Any:
        return None  # the largest value of the support, or None (unbounded)

    def _logpmf(self, k: Any, *params: Any) -> Any:
        raise NotImplementedError

    def _prepare(self, method: str, k: Any, args: tuple, kwargs: dict) -> tuple:
        names = self.param_names + ("loc",)
        values = dict(zip(names, args))
        if len(args) > len(names) or any(n not in names or n in values for n in kwargs):
            raise TypeError(f"{self.name}.{method} takes (k, {', '.join(names)}); got {len(args) + 1} positional "
                            f"and the keywords {sorted(kwargs)}.")
        values.update(kwargs)
        missing = [n for n in self.param_names if n not in values]
        if missing:
            raise TypeError(f"{self.name}.{method} is missing the parameter(s) {', '.join(missing)}")
        k, loc = _arg(k), _arg(values.get("loc", 0))
        params = tuple(_arg(values[n]) for n in self.param_names)
        dtype = _result_dtype(k, loc, 0.0, *params)
        bad = _mask(self._invalid(*params))
        if bad is not None:
            params = tuple(ew.where(bad, s, p) for p, s in zip(params, self.safe_params))
        k = k if _is_const(loc, 0) else k - loc
        if isinstance(k, Tracer):
            k = stop_gradient(k)
        return k, params, bad, dtype

    def _finish(self, v: Any, bad: Any, dtype: Any) -> Any:
        return _cast(v if bad is None else ew.where(bad, np.nan, v), dtype)

    def logpmf(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        """The log of the probability mass at ``k``."""
        k, params, bad, dtype = self._prepare("logpmf", k, args, kwargs)
        fractional = ew.logical_and(ew.not_equal_p.bind(k, ew.floor_p.bind(k)), ew.logical_not_p.bind(ew.isnan(k)))
        off = ew.logical_or(ew.less(k, self.lo), fractional)
        hi = self._hi(*params)
        if hi is not None:
            off = ew.logical_or(off, ew.greater(k, hi))
        off = _mask(off)
        ks = k if off is None else ew.where(off, float(self.lo), k)
        v = self._logpmf(ks, *params)
        if off is not None:
            v = ew.where(off, -_INF, v)
        return self._finish(v, bad, dtype)

    def pmf(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        """The probability mass at ``k``."""
        return ew.exp(self.logpmf(k, *args, **kwargs))

    def __repr__(self) -> str:
        return f"<funcgrad.scipy.stats.{self.name}>"


def _outside_unit(p: Any) -> Any:
    return ew.logical_or(ew.less(p, 0.0), ew.greater(p, 1.0))


class _Bernoulli(_Discrete):
    """The Bernoulli distribution: ``bernoulli.logpmf(k, p, loc=0)``, ``pmf``, ``cdf``, ``sf``;
    differentiable in ``p``.

    >>> bool(bernoulli.logpmf(1, 0.25) == np.log(0.25))
    True
    """

    name = "bernoulli"
    param_names = ("p",)
    safe_params = (0.5,)

    def _invalid(self, p: Any) -> Any:
        return _outside_unit(p)

    def _hi(self, p: Any) -> Any:
        return 1.0

    def _logpmf(self, k: Any, p: Any) -> Any:
        return xlogy(k, p) + xlog1py(1.0 - k, -p)

    def cdf(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        """``P(K <= k)``: 0 below 0, ``1 - p`` on [0, 1), 1 from 1."""
        k, (p,), bad, dtype = self._prepare("cdf", k, args, kwargs)
        v = ew.where(ew.less(k, 0.0), 0.0, ew.where(ew.less(k, 1.0), 1.0 - p, 1.0))
        return self._finish(ew.where(ew.isnan(k), np.nan, v), bad, dtype)

    def sf(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        """``P(K > k)``: 1 below 0, ``p`` on [0, 1), 0 from 1."""
        k, (p,), bad, dtype = self._prepare("sf", k, args, kwargs)
        v = ew.where(ew.less(k, 0.0), 1.0, ew.where(ew.less(k, 1.0), p, 0.0))
        return self._finish(ew.where(ew.isnan(k), np.nan, v), bad, dtype)


class _Binom(_Discrete):
    """The binomial distribution: ``binom.logpmf(k, n, p, loc=0)`` and ``pmf``; differentiable in
    ``p`` (``n`` must be a non-negative integer, as in SciPy; its derivative is 0).

    >>> round(float(binom.pmf(2, 4, 0.5)), 6)
    0.375
    """

    name = "binom"
    param_names = ("n", "p")
    safe_params = (1.0, 0.5)

    def _invalid(self, n: Any, p: Any) -> Any:
        not_count = ew.logical_or(ew.less(n, 0.0), ew.not_equal_p.bind(n, ew.floor_p.bind(n)))
        return ew.logical_or(not_count, _outside_unit(p))

    def _hi(self, n: Any, p: Any) -> Any:
        return n

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        n = stop_gradient(n) if isinstance(n, Tracer) else n
        log_choose = sp.gammaln_p.bind(n + 1.0) - sp.gammaln_p.bind(k + 1.0) - sp.gammaln_p.bind(n - k + 1.0)
        return log_choose + xlogy(k, p) + xlog1py(n - k, -p)


class _Geom(_Discrete):
    """The geometric distribution on 1, 2, …: ``geom.logpmf(k, p, loc=0)`` and ``pmf``;
    differentiable in ``p`` (``0 < p <= 1``).

    >>> float(geom.pmf(2, 0.5))
    0.25
    """

    name = "geom"
    param_names = ("p",)
    safe_params = (0.5,)
    lo = 1

    def _invalid(self, p: Any) -> Any:
        return ew.logical_or(ew.less_equal_p.bind(p, 0.0), ew.greater(p, 1.0))

    def _logpmf(self, k: Any, p: Any) -> Any:
        return xlog1py(k - 1.0, -p) + ew.log(p)


class _NBinom(_Discrete):
    """The negative binomial distribution (failures before the ``n``-th success):
    ``nbinom.logpmf(k, n, p, loc=0)`` and ``pmf``; differentiable in ``n`` (real, > 0) and ``p``
    (``0 < p <= 1``).

    >>> round(float(nbinom.pmf(2, 3, 0.5)), 6)
    0.1875
    """

    name = "nbinom"
    param_names = ("n", "p")
    safe_params = (1.0, 0.5)

    def _invalid(self, n: Any, p: Any) -> Any:
        return ew.logical_or(ew.less_equal_p.bind(n, 0.0), ew.logical_or(ew.less_equal_p.bind(p, 0.0),
                                                                           ew.greater(p, 1.0)))

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        return (sp.gammaln_p.bind(k + n) - sp.gammaln_p.bind(n) - sp.gammaln_p.bind(k + 1.0) + n * ew.log(p)
                + xlog1py(k, -p))


class _BetaBinom(_Discrete):
    """The beta-binomial distribution: ``betabinom.logpmf(k, n, a, b, loc=0)`` and ``pmf``;
    differentiable in ``a`` and ``b`` (> 0; ``n`` a non-negative integer, derivative 0).

    >>> round(float(betabinom.pmf(1, 2, 1.0, 1.0)), 6)
    0.333333
    """

    name = "betabinom"
    param_names = ("n", "a", "b")
    safe_params = (1.0, 1.0, 1.0)

    def _invalid(self, n: Any, a: Any, b: Any) -> Any:
        not_count = ew.logical_or(ew.less(n, 0.0), ew.not_equal_p.bind(n, ew.floor_p.bind(n)))
        return ew.logical_or(not_count, ew.logical_or(ew.less_equal_p.bind(a, 0.0), ew.less_equal_p.bind(b, 0.0)))

    def _hi(self, n: Any, a: Any, b: Any) -> Any:
        return n

    def _logpmf(self, k: Any, n: Any, a: Any, b: Any) -> Any:
        n = stop_gradient(n) if isinstance(n, Tracer) else n
        log_choose = sp.gammaln_p.bind(n + 1.0) - sp.gammaln_p.bind(k + 1.0) - sp.gammaln_p.bind(n - k + 1.0)
        return log_choose + sp.betaln_p.bind(k + a, n - k + b) - sp.betaln_p.bind(a, b)


def _squeeze_output(out: Any) -> Any:
    return fnp.squeeze(out)


class _MultivariateNormal:
    """The multivariate normal distribution: ``multivariate_normal.logpdf(x, mean=None, cov=1)``
    and ``pdf``, differentiable in ``x``, ``mean`` and ``cov``; ``cdf`` and ``logcdf`` with SciPy's
    signature, differentiable in ``x``, ``mean`` and ``cov`` too.

    ``x`` has the components along its last axis; ``cov`` is a scalar (times the identity), a
    vector (a diagonal) or a symmetric positive-definite matrix (its lower triangle is read, by a
    Cholesky factorization, in ``logpdf``). Singular covariances (``allow_singular=True``) are not
    supported.

    ``cdf``/``logcdf`` are computed by SciPy (Genz's quasi-Monte-Carlo method, with SciPy's
    ``maxpts``, ``abseps`` and ``releps``), once per point with a fresh
    ``numpy.random.default_rng(rng)``: ``rng`` is an integer seed (default ``None``, meaning 0), so
    values are reproducible and the same under ``jit`` and ``vmap``; SciPy's ``Generator`` argument
    is not accepted. SciPy's value with ``rng=np.random.default_rng(seed)`` for a single point is
    reproduced exactly; for ``n >= 3`` pass tight ``abseps``/``releps`` for accurate values. In one
    dimension the value is ``ndtr``, and in two SciPy's integral converges to ~1e-15. ``lower_limit``
    is not supported. Derivatives (see :mod:`funcgrad.scipy._stats_prims`): in ``x`` and ``mean``,
    a 1-d density times an (n-1)-dimensional conditional CDF; in ``cov`` by Plackett's identity,
    the gradient being the symmetric matrix ``1/2 d^2 cdf / dx^2`` (the derivative of each
    off-diagonal pair is split equally between ``(i, j)`` and ``(j, i)``, so ``cov`` must be
    symmetric). All orders are supported; they are exact for ``n <= 2`` and carry the
    quasi-Monte-Carlo error of lower-dimensional CDFs for ``n >= 3``.
    """

    @staticmethod
    def _parse(x: Any, mean: Any, cov: Any, allow_singular: bool) -> tuple:
        if allow_singular:
            raise NotImplementedError(
                "funcgrad.scipy.stats.multivariate_normal: allow_singular=True is not supported; the "
                "covariance must be positive definite.")
        cov = as_array(cov)
        if mean is None:
            dim = 1 if cov.ndim < 2 else cov.shape[0]
        else:
            mean = as_array(mean)
            dim = int(np.prod(mean.shape, dtype=np.int64))
        if dim == 1:
            mean = None if mean is None else fnp.reshape(mean, (1,))
            cov = fnp.reshape(cov, (1,)) if cov.ndim < 2 else cov
        if mean is not None and (mean.ndim != 1 or mean.shape[0] != dim):
            raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
        if cov.ndim > 2 or (cov.ndim == 1 and cov.shape[0] != dim) or (cov.ndim == 2 and cov.shape != (dim, dim)):
            raise ValueError(f"Array 'cov' of shape {cov.shape} does not match a mean of length {dim}: it must "
                             f"be a scalar, a vector of length {dim} or a {dim}x{dim} matrix.")
        x = as_array(x)
        if x.ndim == 0:
            x = fnp.reshape(x, (1,))
        elif x.ndim == 1:
            x = fnp.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        if x.shape[-1] != dim:
            raise ValueError(f"x has {x.shape[-1]} components along its last axis, expected {dim}.")
        dtype = _result_dtype(x, cov, 0.0) if mean is None else _result_dtype(x, mean, cov, 0.0)
        diff = x if mean is None else x - mean
        return diff, cov, dim, dtype

    def _logpdf(self, x: Any, mean: Any, cov: Any, allow_singular: bool) -> Any:
        diff, cov, dim, dtype = self._parse(x, mean, cov, allow_singular)
        if cov.ndim < 2:  # a diagonal covariance: no factorization
            var = cov if cov.ndim == 1 else fnp.broadcast_to(cov, (dim,))
            maha = fnp.sum(diff * diff / var, axis=-1)
            logdet = fnp.sum(ew.log(var))
        else:
            chol = fnp.linalg.cholesky(cov)
            flat = fnp.reshape(diff, (-1, dim))
            z = fnp.linalg.solve(chol, fnp.transpose(flat))
            maha = fnp.reshape(fnp.sum(z * z, axis=0), diff.shape[:-1])
            logdet = 2.0 * fnp.sum(ew.log(fnp.diagonal(chol)))
        return _cast(_squeeze_output(-0.5 * (dim * _LOG_2PI + logdet + maha)), dtype)

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The log of the density at ``x`` (components along the last axis)."""
        return self._logpdf(x, mean, cov, allow_singular)

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The density at ``x`` (components along the last axis)."""
        return ew.exp(self._logpdf(x, mean, cov, allow_singular))

    def _cdf(self, x: Any, mean: Any, cov: Any, allow_singular: bool, maxpts: Any, abseps: float,
             releps: float, lower_limit: Any, rng: Any) -> Any:
        if lower_limit is not None:
            raise NotImplementedError(
                "funcgrad.scipy.stats.multivariate_normal.cdf: lower_limit is not supported; only the CDF "
                "P(X <= x) (lower_limit=None) is implemented.")
        if rng is None:
            seed = 0
        elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            seed = int(rng)
        else:
            raise TypeError(
                "funcgrad.scipy.stats.multivariate_normal.cdf: rng must be an integer seed or None (meaning 0), "
                f"got {type(rng).__name__}. Each point is integrated with a fresh "
                "numpy.random.default_rng(rng), so that values are reproducible under grad, jit and vmap.")
        if maxpts is not None:
            maxpts = int(maxpts)
        diff, cov, dim, dtype = self._parse(x, mean, cov, allow_singular)
        if cov.ndim == 0:
            cov = cov * np.eye(dim)
        elif cov.ndim == 1:
            cov = fnp.reshape(cov, (dim, 1)) * np.eye(dim)
        out = _stats_prims.mvn_cdf(diff, cov, maxpts=maxpts, abseps=float(abseps), releps=float(releps), seed=seed)
        return _cast(_squeeze_output(out), dtype)

    def cdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False, maxpts: Any = None,
            abseps: float = 1e-5, releps: float = 1e-5, *, lower_limit: Any = None, rng: Any = None) -> Any:
        """The CDF ``P(X <= x)`` at ``x`` (components along the last axis); ``rng`` is an integer seed."""
        return self._cdf(x, mean, cov, allow_singular, maxpts, abseps, releps, lower_limit, rng)

    def logcdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False, maxpts: Any = None,
               abseps: float = 1e-5, releps: float = 1e-5, *, lower_limit: Any = None, rng: Any = None) -> Any:
        """The log of the CDF at ``x`` (``log(cdf)``, as SciPy computes it)."""
        with np.errstate(divide="ignore"):
            return ew.log(self._cdf(x, mean, cov, allow_singular, maxpts, abseps, releps, lower_limit, rng))

    def __repr__(self) -> str:
        return "<funcgrad.scipy.stats.multivariate_normal>"


class _Dirichlet:
    """The Dirichlet distribution: ``dirichlet.logpdf(x, alpha)`` and ``pdf``, differentiable in
    ``x`` and ``alpha``.

    As in SciPy, ``alpha`` is a vector of length ``k`` and ``x`` has the ``k`` components (or the
    first ``k - 1``, the last being ``1 - sum``) along its *first* axis; concrete inputs are checked
    to lie on the simplex.
    """

    def _logpdf(self, x: Any, alpha: Any) -> Any:
        alpha = as_array(alpha)
        if alpha.ndim != 1:
            raise ValueError(f"Parameter vector 'a' must be one dimensional, but a.shape = {alpha.shape}.")
        if _is_concrete(alpha) and np.min(alpha) <= 0:
            raise ValueError("All parameters must be greater than 0")
        x = as_array(x)
        k = alpha.shape[0]
        if x.ndim == 0 or (x.shape[0] != k and x.shape[0] + 1 != k):
            raise ValueError("Vector 'x' must have either the same number of entries as, or one entry fewer "
                             f"than, parameter vector 'a', but alpha.shape = {alpha.shape} and x.shape = "
                             f"{np.shape(x)}.")
        if x.shape[0] != k:
            x = fnp.concatenate([x, fnp.expand_dims(1.0 - fnp.sum(x, axis=0), 0)], axis=0)
        if _is_concrete(x):
            self._check(np.asarray(x), np.asarray(alpha) if _is_concrete(alpha) else None)
        a1 = fnp.reshape(alpha - 1.0, (k,) + (1,) * (x.ndim - 1))
        lnb = fnp.sum(sp.gammaln_p.bind(alpha)) - sp.gammaln_p.bind(fnp.sum(alpha))
        return _cast(_squeeze_output(-lnb + fnp.sum(xlogy(a1, x), axis=0)), _result_dtype(x, alpha, 0.0))

    @staticmethod
    def _check(x: np.ndarray, alpha: np.ndarray | None) -> None:
        if np.min(x) < 0:
            raise ValueError("Each entry in 'x' must be greater than or equal to zero.")
        if np.max(x) > 1:
            raise ValueError("Each entry in 'x' must be smaller or equal one.")
        if alpha is not None:
            lt1 = (alpha < 1).reshape((-1,) + (1,) * (x.ndim - 1))
            if np.any((x == 0) & lt1):
                raise ValueError("Each entry in 'x' must be greater than zero if its alpha is less than one.")
        if (np.abs(np.sum(x, 0) - 1.0) > 10e-10).any():
            raise ValueError(f"The input vector 'x' must lie within the normal simplex, but np.sum(x, 0) = "
                             f"{np.sum(x, 0)}.")

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """The log of the density at ``x`` (components along the first axis)."""
        return self._logpdf(x, alpha)

    def pdf(self, x: Any, alpha: Any) -> Any:
        """The density at ``x`` (components along the first axis)."""
        return ew.exp(self._logpdf(x, alpha))

    def __repr__(self) -> str:
        return "<funcgrad.scipy.stats.dirichlet>"


norm = _Norm()
t = _T()
gamma = _Gamma()
chi2 = _Chi2()
beta = _Beta()
poisson = _Poisson()
multivariate_normal = _MultivariateNormal()
dirichlet = _Dirichlet()
expon = _Expon()
uniform = _Uniform()
laplace = _Laplace()
logistic = _Logistic()
cauchy = _Cauchy()
bernoulli = _Bernoulli()
binom = _Binom()
geom = _Geom()
pareto = _Pareto()
gumbel_r = _GumbelR()
gumbel_l = _GumbelL()
vonmises = _VonMises()
gennorm = _GenNorm()
truncnorm = _TruncNorm()
nbinom = _NBinom()
betabinom = _BetaBinom()


def _register_submodules() -> None:
    """``import funcgrad.scipy.stats.norm as norm`` (JAX's and autograd's dotted paths): each
    distribution is also a module object in ``sys.modules`` whose attributes are its methods."""
    from .._submodules import alias_module

    for name in __all__:
        alias_module(f"{__name__}.{name}", globals()[name])


_register_submodules()
