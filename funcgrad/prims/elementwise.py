"""Elementwise primitives: arithmetic, transcendental functions, comparisons, ``where``.

Derivative conventions at kinks (each a valid subgradient, chosen to be symmetric):
``abs'(0) = 0``; ``maximum``/``minimum``/``fmax``/``fmin`` split the derivative equally
(0.5 each) between tied operands; ``hypot`` at (0, 0) has derivative 0; ``x ** y`` has
derivative 0 with respect to ``y`` where ``x == 0``, and 0 with respect to ``x`` where
``x == 0`` and ``y == 0``. Rounding, ``sign`` and comparisons have
no derivative (zero everywhere it exists).

Constants in rules are Python floats, never NumPy scalars, so a float32 computation stays
float32 under NumPy's promotion rules.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..core import OUTPUT
from .factories import binary, elementwise, fusion, nondiff, unary

# --- arithmetic -----------------------------------------------------------------------------

# Eager rules (see Primitive): on NumPy operands the per-operand rules below are NumPy operators
# already; the eager rules for both operands carrying tangents add the two contributions in one
# rule (t0 - t1 is t0 + (-t1) exactly). ``broadcasting``: jit may drop a broadcast of one operand
# that the other implies.
_np_add = np.add  # add's impl: how the forward trace sums two contributions on NumPy operands


def _mul_both_eager(t0: Any, t1: Any, o: Any, x: Any, y: Any) -> Any:
    if t0 is t1 and x is y and x.dtype.kind == "f":
        # x * x: both contributions are the same product (t * x == x * t for real numbers).
        s = t0 * y
        return _np_add(s, s)
    return _np_add(t0 * y, x * t1)


add_p = binary("add", np.add, jvp=(lambda t, o, x, y: t, lambda t, o, x, y: t),
               vjp=(lambda ct, o, x, y: ct, lambda ct, o, x, y: ct),
               jvp_eager=(None, None, lambda t0, t1, o, x, y: _np_add(t0, t1)), broadcasting=True, residuals=((), ()))
sub_p = binary("subtract", np.subtract, jvp=(lambda t, o, x, y: t, lambda t, o, x, y: -t),
               vjp=(lambda ct, o, x, y: ct, lambda ct, o, x, y: -ct),
               jvp_eager=(None, None, lambda t0, t1, o, x, y: np.subtract(t0, t1)), broadcasting=True,
               residuals=((), ()))
mul_p = binary("multiply", np.multiply, jvp=(lambda t, o, x, y: t * y, lambda t, o, x, y: x * t),
               vjp=(lambda ct, o, x, y: ct * y, lambda ct, o, x, y: x * ct),
               jvp_eager=(None, None, _mul_both_eager), broadcasting=True, residuals=((1,), (0,)))
div_p = binary("true_divide", np.true_divide,
               jvp=(lambda t, o, x, y: t / y, lambda t, o, x, y: -t * o / y),
               vjp=(lambda ct, o, x, y: ct / y, lambda ct, o, x, y: -ct * o / y),
               jvp_eager=(None, None, lambda t0, t1, o, x, y: _np_add(t0 / y, -t1 * o / y)), broadcasting=True,
               residuals=((1,), (OUTPUT, 1)))
neg_p = unary("negative", np.negative, jvp=lambda t, o, x: -t, vjp=lambda ct, o, x: -ct, residuals=())

add, sub, mul, div, neg = add_p.bind, sub_p.bind, mul_p.bind, div_p.bind, neg_p.bind


def _pow_dy(x, y, out):
    # d/dy x**y = x**y * log(x); taken as 0 where x == 0 (where the limit from x > 0 is 0 for y > 0).
    zero = equal(x, 0.0)
    return where(zero, 0.0, out * log(where(zero, 1.0, x)))


def _pow_dx(x, y, out):
    # d/dx x**y = y * x**(y - 1); taken as 0 where x == 0 and y == 0 (x**0 is the constant 1),
    # where the formula would give 0 * inf.
    if type(y) in (int, float):  # a Python exponent: the common x ** 2 costs what it should
        if y == 0:
            return 0.0
        if y == 1:
            return 1.0
        return 2.0 * x if y == 2 else y * power(x, y - 1)
    zero = logical_and(equal(x, 0.0), equal(y, 0.0))
    return where(zero, 0.0, y * power(where(zero, 1.0, x), y - 1))


pow_p = binary("power", np.power, (_pow_dx, _pow_dy), residuals=((0, 1), (0, 1, OUTPUT)))
power = pow_p.bind

# x mod y = x - y * floor(x / y): derivative 1 in x, -floor(x / y) in y.
floor_divide_p = nondiff("floor_divide", np.floor_divide)
floor_divide = floor_divide_p.bind
remainder_p = binary("remainder", np.remainder,
                     jvp=(lambda t, o, x, y: t, lambda t, o, x, y: -t * floor_divide(x, y)),
                     vjp=(lambda ct, o, x, y: ct, lambda ct, o, x, y: -ct * floor_divide(x, y)), residuals=((), (0, 1)))
remainder = remainder_p.bind

# --- transcendental ---------------------------------------------------------------------------

# ``derivative_eager``: ``deriv`` again, calling NumPy where ``deriv`` binds (the same calls in the
# same order: the same bits); the eager rules ``t * it`` and ``ct * it`` and the backward pass's
# product rule (runs of entries at once) come from it.
exp_p = unary("exp", np.exp, lambda x, out: out,
              derivative_eager=lambda x, o: o, residuals=(OUTPUT,))
exp = exp_p.bind
log_p = unary("log", np.log, jvp=lambda t, o, x: t / x, vjp=lambda ct, o, x: ct / x, residuals=(0,))
log = log_p.bind
log1p_p = unary("log1p", np.log1p, jvp=lambda t, o, x: t / (1.0 + x), vjp=lambda ct, o, x: ct / (1.0 + x),
                residuals=(0,))
expm1_p = unary("expm1", np.expm1, lambda x, out: out + 1.0,
                derivative_eager=lambda x, o: o + 1.0, residuals=(OUTPUT,))
_LN2, _LN10 = math.log(2.0), math.log(10.0)
log2_p = unary("log2", np.log2, jvp=lambda t, o, x: t / (x * _LN2), vjp=lambda ct, o, x: ct / (x * _LN2),
               residuals=(0,))
log10_p = unary("log10", np.log10, jvp=lambda t, o, x: t / (x * _LN10), vjp=lambda ct, o, x: ct / (x * _LN10),
                residuals=(0,))
sqrt_p = unary("sqrt", np.sqrt, jvp=lambda t, o, x: t / (2.0 * o), vjp=lambda ct, o, x: ct / (2.0 * o),
               residuals=(OUTPUT,))
sqrt = sqrt_p.bind
cbrt_p = unary("cbrt", np.cbrt, jvp=lambda t, o, x: t / (3.0 * o * o), vjp=lambda ct, o, x: ct / (3.0 * o * o),
               residuals=(OUTPUT,))

sin_p = unary("sin", np.sin, lambda x, out: cos(x),
              derivative_eager=lambda x, o: np.cos(x), residuals=(0,))
cos_p = unary("cos", np.cos, lambda x, out: -sin(x),
              derivative_eager=lambda x, o: -np.sin(x), residuals=(0,))
sin: Callable[..., Any] = sin_p.bind
cos: Callable[..., Any] = cos_p.bind
tan_p = unary("tan", np.tan, lambda x, out: 1.0 + out * out,
              derivative_eager=lambda x, o: 1.0 + o * o,
              residuals=(OUTPUT,))
arcsin_p = unary("arcsin", np.arcsin, lambda x, out: 1.0 / sqrt(1.0 - x * x),
                 derivative_eager=lambda x, o: 1.0 / np.sqrt(1.0 - x * x), residuals=(0,))
arccos_p = unary("arccos", np.arccos, lambda x, out: -1.0 / sqrt(1.0 - x * x),
                 derivative_eager=lambda x, o: -1.0 / np.sqrt(1.0 - x * x), residuals=(0,))
arctan_p = unary("arctan", np.arctan, jvp=lambda t, o, x: t / (1.0 + x * x),
                 vjp=lambda ct, o, x: ct / (1.0 + x * x), residuals=(0,))
sinh_p = unary("sinh", np.sinh, lambda x, out: cosh(x),
               derivative_eager=lambda x, o: np.cosh(x), residuals=(0,))
cosh_p = unary("cosh", np.cosh, lambda x, out: sinh(x),
               derivative_eager=lambda x, o: np.sinh(x), residuals=(0,))
sinh: Callable[..., Any] = sinh_p.bind
cosh: Callable[..., Any] = cosh_p.bind
tanh_p = unary("tanh", np.tanh, lambda x, out: 1.0 - out * out,
               derivative_eager=lambda x, o: 1.0 - o * o,
               residuals=(OUTPUT,))
arcsinh_p = unary("arcsinh", np.arcsinh, lambda x, out: 1.0 / sqrt(x * x + 1.0),
                  derivative_eager=lambda x, o: 1.0 / np.sqrt(x * x + 1.0), residuals=(0,))
arccosh_p = unary("arccosh", np.arccosh, lambda x, out: 1.0 / sqrt(x * x - 1.0),
                  derivative_eager=lambda x, o: 1.0 / np.sqrt(x * x - 1.0), residuals=(0,))
arctanh_p = unary("arctanh", np.arctanh, jvp=lambda t, o, x: t / (1.0 - x * x),
                  vjp=lambda ct, o, x: ct / (1.0 - x * x), residuals=(0,))
def _abs_jvp(t, out, x):
    if x.dtype.kind != "c":
        return t * sign(x)
    # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z = 0.
    zero = equal(out, 0.0)
    return where(zero, 0.0, real(conj(x) * t) / where(zero, 1.0, out))


def _abs_vjp(ct, out, x):
    if x.dtype.kind != "c":
        return ct * sign(x)
    zero = equal(out, 0.0)
    return where(zero, 0.0, ct * conj(x) / where(zero, 1.0, out))


abs_p = unary("absolute", np.absolute, jvp=_abs_jvp, vjp=_abs_vjp,
              jvp_eager=lambda t, o, x: t * np.sign(x) if x.dtype.kind != "c" else _abs_jvp(t, o, x),
              vjp_eager=lambda ct, o, x: ct * np.sign(x) if x.dtype.kind != "c" else _abs_vjp(ct, o, x),
              residuals=(0, OUTPUT))

# Complex parts. Cotangents follow the transpose convention (no conjugation in vjp rules), so
# that grad of a real-valued function of z = x + iy is df/dx - i df/dy, as in JAX.
real_p = unary("real", np.real, jvp=lambda t, o, x: real(t), vjp=lambda ct, o, x: ct,
               kernel=lambda e: fusion().real_part_plan(e), residuals=())
imag_p = unary("imag", np.imag, jvp=lambda t, o, x: imag(t), vjp=lambda ct, o, x: mul(-1j, ct),
               kernel=lambda e: fusion().imag_part_plan(e), residuals=())
conj_p = unary("conjugate", np.conjugate, jvp=lambda t, o, x: conj(t), vjp=lambda ct, o, x: conj(ct), residuals=())
real: Callable[..., Any] = real_p.bind
imag: Callable[..., Any] = imag_p.bind
conj: Callable[..., Any] = conj_p.bind


def _expit_formula(x):
    return 1.0 / (1.0 + np.exp(-x))


def _expit_impl(x):
    with np.errstate(over="ignore"):
        return _expit_formula(x)


expit_p = unary("expit", _expit_impl, lambda x, out: out * (1.0 - out),
                derivative_eager=lambda x, o: o * (1.0 - o),
                kernel=lambda e: fusion().formula_plan(e, _expit_formula),
                residuals=(OUTPUT,))  # the impl's own formula


def _hypot_partial(a, out):
    zero = equal(out, 0.0)
    return where(zero, 0.0, a / where(zero, 1.0, out))


arctan2_p = binary("arctan2", np.arctan2, (lambda y, x, out: x / (x * x + y * y),
                                           lambda y, x, out: -y / (x * x + y * y)), residuals=((0, 1), (0, 1)))
hypot_p = binary("hypot", np.hypot, (lambda x, y, out: _hypot_partial(x, out),
                                     lambda x, y, out: _hypot_partial(y, out)), residuals=((0, OUTPUT), (1, OUTPUT)))
# d/dx logaddexp(x, y) = exp(x - out) = expit(x - y): written with expit, the derivative does not
# read the output, so a gradient-only program drops the forward logaddexp (one transcendental per
# element instead of three; expit is exact in both tails and raises no overflow warning).
logaddexp_p = binary("logaddexp", np.logaddexp, (lambda x, y, out: expit_p.bind(x - y),
                                                 lambda x, y, out: expit_p.bind(y - x)), residuals=((0, 1), (0, 1)))


def _tie_partial(wins, x, y):
    # 1 where this operand is chosen, 0.5 at ties, 0 elsewhere; in the dtype of the values.
    return where(wins, 1.0, where(equal(x, y), 0.5, 0.0))


def _tie_partial_eager(wins: Any, x: Any, y: Any) -> Any:
    return np.where(wins, 1.0, np.where(np.equal(x, y), 0.5, 0.0))


def _tie_rules_eager(wins: Callable[[Any, Any], Any]) -> tuple[Any, ...]:
    """The eager rules of maximum/minimum (jvp: t * partial, vjp: ct * partial; ``wins(x, y)``
    says where x is the result), one per operand."""
    first = (lambda g, o, x, y: g * _tie_partial_eager(wins(x, y), x, y))
    second = (lambda g, o, x, y: g * _tie_partial_eager(wins(y, x), x, y))
    return (first, second)


maximum_p = binary("maximum", np.maximum, (lambda x, y, out: _tie_partial(greater(x, y), x, y),
                                           lambda x, y, out: _tie_partial(greater(y, x), x, y)),
                   jvp_eager=_tie_rules_eager(np.greater), vjp_eager=_tie_rules_eager(np.greater),
                   residuals=((0, 1), (0, 1)))
minimum_p = binary("minimum", np.minimum, (lambda x, y, out: _tie_partial(less(x, y), x, y),
                                           lambda x, y, out: _tie_partial(less(y, x), x, y)),
                   jvp_eager=_tie_rules_eager(np.less), vjp_eager=_tie_rules_eager(np.less),
                   residuals=((0, 1), (0, 1)))
# fmax/fmin ignore NaN: the non-NaN operand gets the whole derivative.
fmax_p = binary("fmax", np.fmax, (
    lambda x, y, out: _tie_partial(logical_or(greater(x, y), isnan(y)), x, y),
    lambda x, y, out: _tie_partial(logical_or(greater(y, x), isnan(x)), x, y)), residuals=((0, 1), (0, 1)))
fmin_p = binary("fmin", np.fmin, (
    lambda x, y, out: _tie_partial(logical_or(less(x, y), isnan(y)), x, y),
    lambda x, y, out: _tie_partial(logical_or(less(y, x), isnan(x)), x, y)), residuals=((0, 1), (0, 1)))

# --- where ------------------------------------------------------------------------------------

where_p = elementwise(
    "where",
    np.where,
    jvp=(None, lambda t, o, c, x, y: where(c, t, 0.0), lambda t, o, c, x, y: where(c, 0.0, t)),
    vjp=(None, lambda ct, o, c, x, y: where(c, ct, 0.0), lambda ct, o, c, x, y: where(c, 0.0, ct)),
    jvp_eager=(None, lambda t, o, c, x, y: np.where(c, t, 0.0), lambda t, o, c, x, y: np.where(c, 0.0, t)),
    vjp_eager=(None, lambda ct, o, c, x, y: np.where(c, ct, 0.0), lambda ct, o, c, x, y: np.where(c, 0.0, ct)),
    kernel=lambda e: fusion().select_plan(e),
    residuals=((), (0,), (0,)),
)
where: Callable[..., Any] = where_p.bind

# --- no derivative ------------------------------------------------------------------------------

equal_p = nondiff("equal", np.equal)
equal = equal_p.bind
not_equal_p = nondiff("not_equal", np.not_equal)
less_p = nondiff("less", np.less)
less: Callable[..., Any] = less_p.bind
less_equal_p = nondiff("less_equal", np.less_equal)
greater_p = nondiff("greater", np.greater)
greater: Callable[..., Any] = greater_p.bind
greater_equal_p = nondiff("greater_equal", np.greater_equal)
logical_and_p = nondiff("logical_and", np.logical_and)
logical_and = logical_and_p.bind
logical_or_p = nondiff("logical_or", np.logical_or)
logical_or: Callable[..., Any] = logical_or_p.bind
logical_xor_p = nondiff("logical_xor", np.logical_xor)
logical_not_p = nondiff("logical_not", np.logical_not)
isnan_p = nondiff("isnan", np.isnan)
isnan: Callable[..., Any] = isnan_p.bind
isinf_p = nondiff("isinf", np.isinf)
isfinite_p = nondiff("isfinite", np.isfinite)
sign_p = nondiff("sign", np.sign)
sign = sign_p.bind
floor_p = nondiff("floor", np.floor)
ceil_p = nondiff("ceil", np.ceil)
trunc_p = nondiff("trunc", np.trunc)
round_p = nondiff("round", lambda x, decimals=0: np.round(x, decimals), kernel=lambda e: fusion().rint_plan(e))
