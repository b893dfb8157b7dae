"""More of NumPy's elementwise functions: NumPy 2's short names (``acos``, ``atan2``, ``pow``),
``float_power``, ``fmod``, ``modf``, ``copysign``, ``heaviside``, ``i0``, ``ldexp``/``frexp``,
``divmod``, ``unwrap``, and the integer and bit functions (no derivative).

Differentiable ones are compositions of existing primitives. On plain arrays they call NumPy
directly, so values are NumPy's to the bit; on traced values the composition gives the derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.ufuncs import nondiff_ufunc
from . import elementwise as _elementwise
from ._util import as_array, contains_tracer, no_out

__all__ = ["acos", "acosh", "asin", "asinh", "atan", "atanh", "atan2", "pow", "float_power", "fmod", "modf",
           "copysign", "heaviside", "i0", "ldexp", "frexp", "divmod", "nextafter", "spacing", "signbit",
           "isneginf", "isposinf", "isreal", "fix", "gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "bitwise_invert", "invert", "left_shift", "right_shift", "bitwise_left_shift",
           "bitwise_right_shift", "bitwise_count", "unwrap", "isnat", "kaiser"]

_PY_SCALARS = (bool, int, float, complex)

# NumPy 2's array-API names for the same ufuncs.
acos = _elementwise.arccos
acosh = _elementwise.arccosh
asin = _elementwise.arcsin
asinh = _elementwise.arcsinh
atan = _elementwise.arctan
atanh = _elementwise.arctanh
atan2 = _elementwise.arctan2
pow = _elementwise.power  # noqa: A001 - NumPy's name


def _traced(*args: Any) -> bool:
    return any(isinstance(a, Tracer) for a in args)


def _operand(x: Any) -> Any:
    return x if isinstance(x, (Tracer, *_PY_SCALARS)) else as_array(x)


def _cast_to(x: Any, dtype: np.dtype) -> Any:
    if isinstance(x, _PY_SCALARS):
        return np.asarray(x, dtype)
    x = as_array(x)
    return x if x.dtype == dtype else sh.astype(x, dtype=dtype)


def _result_dtype(ufunc: Any, *args: Any) -> np.dtype:
    return _elementwise._ufunc_dtype(ufunc, *args)


def float_power(x1: Any, x2: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.float_power``: ``x1 ** x2`` computed in float64 (complex128).

    >>> import funcgrad.numpy as fnp
    >>> fnp.float_power(2, 3)
    np.float64(8.0)
    """
    no_out("float_power", out)
    if not _traced(x1, x2):
        return np.float_power(x1, x2)
    dtype = _result_dtype(np.float_power, x1, x2)
    return ew.power(_cast_to(x1, dtype), _cast_to(x2, dtype))


def fmod(x1: Any, x2: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.fmod``: the C remainder ``x1 - trunc(x1 / x2) * x2`` (the sign of
    ``x1``). Derivatives: 1 in ``x1`` and ``-trunc(x1 / x2)`` in ``x2``; the value is NumPy's.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.fmod(-7.0, 3.0))
    -1.0
    """
    no_out("fmod", out)
    if not _traced(x1, x2):
        return np.fmod(x1, x2)
    x1, x2 = _operand(x1), _operand(x2)
    value = nondiff_ufunc("fmod", x1, x2)
    if value.dtype.kind not in "fc":
        return value
    # The exact value plus zero-valued terms that carry the derivative.
    out = value
    if isinstance(x1, Tracer):
        out = ew.add(out, ew.sub(x1, sh.stop_gradient(x1)))
    if isinstance(x2, Tracer):
        q = ew.trunc_p.bind(ew.div(sh.stop_gradient(x1) if isinstance(x1, Tracer) else x1, sh.stop_gradient(x2)))
        out = ew.sub(out, ew.mul(q, ew.sub(x2, sh.stop_gradient(x2))))
    return out if out.dtype == value.dtype else sh.astype(out, dtype=value.dtype)


def modf(x: Any, out: Any = None) -> tuple[Any, Any]:
    """Differentiable ``numpy.modf``: ``(fractional part, integral part)``, both with the sign of
    ``x``. The fractional part has derivative 1 (where ``x`` is finite), the integral part none.

    >>> import funcgrad.numpy as fnp
    >>> fnp.modf(-1.5)
    (np.float64(-0.5), np.float64(-1.0))
    """
    no_out("modf", out)
    if not _traced(x):
        return np.modf(x)
    x = _cast_to(x, _result_dtype(np.modf, x)) if x.dtype.kind != "f" else x
    whole = ew.trunc_p.bind(x)
    frac = ew.where(ew.isinf_p.bind(x), np.zeros((), x.dtype), ew.sub(x, whole))
    return frac, whole


def copysign(x1: Any, x2: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.copysign``: ``|x1|`` with the sign of ``x2``; derivative ``±1`` in
    ``x1`` and none in ``x2``.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.copysign(2.0, -0.0))
    -2.0
    """
    no_out("copysign", out)
    if not _traced(x1, x2):
        return np.copysign(x1, x2)
    dtype = _result_dtype(np.copysign, x1, x2)
    x1 = _cast_to(x1, dtype)
    same = ew.equal(nondiff_ufunc("signbit", x1), nondiff_ufunc("signbit", _cast_to(x2, dtype)))
    return ew.where(same, x1, ew.neg(x1))


def heaviside(x1: Any, x2: Any, out: Any = None) -> Any:
    """``numpy.heaviside``: 0 for ``x1 < 0``, ``x2`` at ``x1 == 0``, 1 for ``x1 > 0``. The
    derivative flows to ``x2`` where ``x1 == 0`` (none to ``x1``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)
    array([0. , 0.5, 1. ])
    """
    no_out("heaviside", out)
    if not _traced(x1, x2):
        return np.heaviside(x1, x2)
    dtype = _result_dtype(np.heaviside, x1, x2)
    x1, x2 = _cast_to(x1, dtype), _cast_to(x2, dtype)
    zero, one = np.zeros((), dtype), np.ones((), dtype)
    out = ew.where(ew.less(x1, 0), zero, ew.where(ew.greater(x1, 0), one, x2))
    return ew.where(ew.isnan(x1), np.asarray(np.nan, dtype), out)


def i0(x: Any) -> Any:
    """``numpy.i0``, the modified Bessel function of order 0; differentiable (derivative
    ``i1(x)``, from ``funcgrad.scipy.special``, which needs SciPy) on traced values.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.i0(0.0))
    1.0
    """
    if not _traced(x):
        return np.i0(x)
    try:
        from ..scipy import special
    except ImportError as e:  # pragma: no cover - scipy is an optional extra
        raise ImportError("the derivative of funcgrad.numpy.i0 uses funcgrad.scipy.special, which needs "
                          "SciPy: pip install scipy") from e
    if x.dtype.kind not in "f":
        x = _cast_to(x, np.dtype(np.float64))
    return special.i0(x)


def ldexp(x1: Any, x2: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.ldexp``: ``x1 * 2**x2`` (``x2`` an integer: no derivative).

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.ldexp(3.0, 2))
    12.0
    """
    no_out("ldexp", out)
    if not _traced(x1, x2):
        return np.ldexp(x1, x2)
    dtype = _result_dtype(np.ldexp, x1, x2)
    x1 = _cast_to(x1, dtype)
    if not isinstance(x1, Tracer):
        return nondiff_ufunc("ldexp", x1, _operand(x2))
    return ew.mul(x1, nondiff_ufunc("ldexp", np.ones((), dtype), _operand(x2)))


def frexp(x: Any, out: Any = None) -> tuple[Any, Any]:
    """Differentiable ``numpy.frexp``: ``(mantissa, exponent)`` with ``x = mantissa * 2**exponent``;
    the mantissa's derivative is ``2**-exponent``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.frexp(8.0)
    (np.float64(0.5), np.int32(4))
    """
    no_out("frexp", out)
    if not _traced(x):
        return np.frexp(x)
    if x.dtype.kind != "f":
        x = _cast_to(x, _result_dtype(np.frexp, x))
    exponent = nondiff_ufunc("frexp", x, index=1)
    scale = nondiff_ufunc("ldexp", np.ones((), x.dtype), ew.neg(exponent))
    mantissa = ew.where(ew.isfinite_p.bind(x), ew.mul(x, scale), x)
    return mantissa, exponent


def divmod(x1: Any, x2: Any, out: Any = None) -> tuple[Any, Any]:  # noqa: A001 - NumPy's name
    """``numpy.divmod``: ``(floor_divide(x1, x2), remainder(x1, x2))``; the remainder is
    differentiable.

    >>> import funcgrad.numpy as fnp
    >>> fnp.divmod(7.0, 2.0)
    (np.float64(3.0), np.float64(1.0))
    """
    no_out("divmod", out)
    if not _traced(x1, x2):
        return np.divmod(x1, x2)
    return ew.floor_divide(x1, x2), ew.remainder(x1, x2)


def _nondiff(name: str, nargs: int, doc: str) -> Any:
    ufunc = getattr(np, name)

    def fn(*args: Any, out: Any = None) -> Any:
        no_out(name, out)
        if len(args) != nargs:
            raise TypeError(f"{name}() takes {nargs} positional argument{'s' if nargs > 1 else ''} "
                            f"({len(args)} given)")
        if not contains_tracer(args):
            return ufunc(*args)
        return nondiff_ufunc(name, *(_operand(a) for a in args))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}``: {doc} (no derivative).\n\n    >>> import funcgrad.numpy as fnp\n" \
        f"    >>> fnp.{name}  # doctest: +ELLIPSIS\n    <function {name} at ...>\n"
    return fn


nextafter = _nondiff("nextafter", 2, "the next floating-point value after x1 towards x2")
spacing = _nondiff("spacing", 1, "the distance to the nearest adjacent floating-point number")
signbit = _nondiff("signbit", 1, "whether the sign bit is set")
gcd = _nondiff("gcd", 2, "the greatest common divisor")
lcm = _nondiff("lcm", 2, "the lowest common multiple")
bitwise_and = _nondiff("bitwise_and", 2, "bitwise AND")
bitwise_or = _nondiff("bitwise_or", 2, "bitwise OR")
bitwise_xor = _nondiff("bitwise_xor", 2, "bitwise XOR")
invert = _nondiff("invert", 1, "bitwise NOT")
bitwise_not = bitwise_invert = invert
left_shift = _nondiff("left_shift", 2, "shift the bits to the left")
right_shift = _nondiff("right_shift", 2, "shift the bits to the right")
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift
bitwise_count = _nondiff("bitwise_count", 1, "the number of 1-bits in the absolute value")
isnat = _nondiff("isnat", 1, "is not-a-time (datetime64/timedelta64 only)")


def isneginf(x: Any, out: Any = None) -> Any:
    """``numpy.isneginf``: elementwise, is ``x`` negative infinity (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.isneginf(np.array([-np.inf, 0.0, np.inf]))
    array([ True, False, False])
    """
    no_out("isneginf", out)
    if not _traced(x):
        return np.isneginf(x)
    return ew.logical_and(ew.isinf_p.bind(x), nondiff_ufunc("signbit", x))


def isposinf(x: Any, out: Any = None) -> Any:
    """``numpy.isposinf``: elementwise, is ``x`` positive infinity (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.isposinf(np.array([-np.inf, 0.0, np.inf]))
    array([False, False,  True])
    """
    no_out("isposinf", out)
    if not _traced(x):
        return np.isposinf(x)
    return ew.logical_and(ew.isinf_p.bind(x), ew.logical_not_p.bind(nondiff_ufunc("signbit", x)))


def isreal(x: Any) -> Any:
    """``numpy.isreal``: elementwise, is the imaginary part zero (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.isreal(np.array([1 + 0j, 1j]))
    array([ True, False])
    """
    if not _traced(x):
        return np.isreal(x)
    return ew.equal(ew.imag(x), 0)


def fix(x: Any, out: Any = None) -> Any:
    """``numpy.fix``: round towards zero (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.fix(np.array([-1.7, 1.7]))
    array([-1.,  1.])
    """
    no_out("fix", out)
    if not _traced(x):
        return np.fix(x)
    return ew.trunc_p.bind(x)


def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: float = 2 * np.pi) -> Any:
    """Differentiable ``numpy.unwrap``: jumps larger than ``discont`` are shifted by multiples of
    ``period``. The shifts are piecewise constant, so the derivative is that of ``p``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.unwrap(np.array([0.0, 3.0, 6.5]))
    array([0.        , 3.        , 0.21681469])
    """
    if not _traced(p, discont, period):
        return np.unwrap(p, discont=discont, axis=axis, period=period)
    from .differences import diff
    from .reductions import cumsum
    from .shape import concatenate, swapaxes

    p = as_array(p)
    if p.dtype.kind not in "fc":
        p = sh.astype(p, dtype=np.dtype(np.float64))
    if discont is None:
        discont = period / 2
    moved = swapaxes(p, axis, -1)
    dd = sh.stop_gradient(diff(moved, axis=-1))
    high = period / 2
    ddmod = ew.sub(ew.remainder(ew.add(dd, high), period), high)
    ddmod = ew.where(ew.logical_and(ew.equal(ddmod, -high), ew.greater(dd, 0)), high, ddmod)
    correct = ew.where(ew.less(ew.abs_p.bind(dd), discont), 0.0, ew.sub(ddmod, dd))
    steps = cumsum(correct, axis=-1)
    zero = np.zeros(tuple(moved.shape[:-1]) + (1,), dtype=steps.dtype)
    out = ew.add(moved, concatenate([zero, steps], axis=-1))
    return swapaxes(out, axis, -1)


def kaiser(M: int, beta: Any) -> Any:
    """``numpy.kaiser``: the Kaiser window, differentiable in ``beta`` (through :func:`i0`).

    >>> import funcgrad.numpy as fnp
    >>> fnp.kaiser(3, 0.0)
    array([1., 1., 1.])
    """
    if not _traced(beta):
        return np.kaiser(M, beta)
    if M == 1:
        return np.ones(1, dtype=np.result_type(M, 0.0))
    if M < 1:
        return np.array([])
    n = np.arange(0, M)
    alpha = (M - 1) / 2.0
    shape = np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)
    beta = _cast_to(beta, np.dtype(np.float64)) if beta.dtype.kind != "f" else beta
    return ew.div(i0(ew.mul(beta, shape)), i0(beta))
