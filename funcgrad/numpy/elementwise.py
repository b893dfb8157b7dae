"""Elementwise functions with NumPy's names, broadcasting and dtype promotion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol, Union

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ._util import no_out

if TYPE_CHECKING:
    import numpy.typing as npt

    ArrayLike = Union[Tracer, npt.ArrayLike]  # what funcgrad.numpy functions accept

__all__: list[str] = []


# Docstring examples of the exported ufuncs: (call, result).
_EXAMPLES = {
    "add": ("fnp.add(np.array([1.0, 2.0]), 0.5)", "array([1.5, 2.5])"),
    "subtract": ("fnp.subtract(np.array([1.0, 2.0]), 0.5)", "array([0.5, 1.5])"),
    "multiply": ("fnp.multiply(np.array([1.0, 2.0]), 3.0)", "array([3., 6.])"),
    "divide": ("fnp.divide(np.array([1.0, 2.0]), 4.0)", "array([0.25, 0.5 ])"),
    "true_divide": ("fnp.true_divide(np.array([1.0, 2.0]), 4.0)", "array([0.25, 0.5 ])"),
    "negative": ("fnp.negative(np.array([1.0, -2.0]))", "array([-1.,  2.])"),
    "power": ("fnp.power(np.array([2.0, 3.0]), 2)", "array([4., 9.])"),
    "remainder": ("fnp.remainder(np.array([-7.0, 7.0]), 3.0)", "array([2., 1.])"),
    "mod": ("fnp.mod(np.array([-7.0, 7.0]), 3.0)", "array([2., 1.])"),
    "absolute": ("fnp.absolute(np.array([-1.5, 3 + 4j]))", "array([1.5, 5. ])"),
    "abs": ("fnp.abs(np.array([-1.5, 2.0]))", "array([1.5, 2. ])"),
    "real": ("fnp.real(np.array([1 + 2j]))", "array([1.])"),
    "imag": ("fnp.imag(np.array([1 + 2j]))", "array([2.])"),
    "conj": ("fnp.conj(np.array([1 + 2j]))", "array([1.-2.j])"),
    "conjugate": ("fnp.conjugate(np.array([1 + 2j]))", "array([1.-2.j])"),
}


def _stack_lists(args: tuple) -> tuple:
    """Lists and tuples holding traced values become traced arrays (NumPy's array-likes)."""
    for a in args:  # a loop, not any(...): no generator on every call of every function
        if type(a) is list or type(a) is tuple:
            break
    else:
        return args
    from ._util import as_array

    return tuple(as_array(a) if type(a) in (list, tuple) else a for a in args)


def _export(name: str, prim: Any, npname: str | None = None) -> Callable[..., Any]:
    bind = prim.bind

    def fn(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs:  # f(x): straight to x's trace (bind's work, for one operand)
            x = args[0]
            if isinstance(x, Tracer):
                trace = x._trace
                if trace.alive:  # (kwargs: a new empty dict, as {} would be)
                    return trace.process(prim, args, kwargs)
            elif type(x) is np.ndarray:
                return prim.impl(x)
        args = _stack_lists(args)
        if kwargs:
            out = kwargs.pop("out", None)
            if out is not None:
                raise TypeError(f"funcgrad.numpy.{name} does not support out=; use the return value.")
            if kwargs:
                raise TypeError(f"funcgrad.numpy.{name} got unsupported keyword arguments {sorted(kwargs)}")
        return bind(*args)

    fn.__name__ = fn.__qualname__ = name
    call, result = _EXAMPLES.get(name, (f"fnp.{name}  # doctest: +ELLIPSIS", f"<function {name} at ...>"))
    fn.__doc__ = (
        f"Differentiable ``numpy.{npname or name}``, with NumPy's broadcasting and dtype rules.\n\n"
        f"    >>> import numpy as np, funcgrad.numpy as fnp\n    >>> {call}\n    {result}\n"
    )
    return fn


class _Unary(Protocol):
    """A funcgrad.numpy ufunc of one array: ``f(x)``."""

    def __call__(self, x: ArrayLike, /, *, out: None = None) -> Any: ...


class _Binary(Protocol):
    """A funcgrad.numpy ufunc of two arrays, broadcast together: ``f(x1, x2)``."""

    def __call__(self, x1: ArrayLike, x2: ArrayLike, /, *, out: None = None) -> Any: ...


def _unary(name: str, prim: Any) -> _Unary:
    return _export(name, prim)


def _binary(name: str, prim: Any) -> _Binary:
    return _export(name, prim)


# Explicit module-level names, so type checkers see every function (typed by arity).
add = _binary("add", ew.add_p)
subtract = _binary("subtract", ew.sub_p)
multiply = _binary("multiply", ew.mul_p)
true_divide = _binary("true_divide", ew.div_p)
divide = _binary("divide", ew.div_p)
negative = _unary("negative", ew.neg_p)
power = _binary("power", ew.pow_p)
remainder = _binary("remainder", ew.remainder_p)
mod = _binary("mod", ew.remainder_p)
floor_divide = _binary("floor_divide", ew.floor_divide_p)
exp = _unary("exp", ew.exp_p)
log = _unary("log", ew.log_p)
log1p = _unary("log1p", ew.log1p_p)
expm1 = _unary("expm1", ew.expm1_p)
log2 = _unary("log2", ew.log2_p)
log10 = _unary("log10", ew.log10_p)
sqrt = _unary("sqrt", ew.sqrt_p)
cbrt = _unary("cbrt", ew.cbrt_p)
sin = _unary("sin", ew.sin_p)
cos = _unary("cos", ew.cos_p)
tan = _unary("tan", ew.tan_p)
arcsin = _unary("arcsin", ew.arcsin_p)
arccos = _unary("arccos", ew.arccos_p)
arctan = _unary("arctan", ew.arctan_p)
sinh = _unary("sinh", ew.sinh_p)
cosh = _unary("cosh", ew.cosh_p)
tanh = _unary("tanh", ew.tanh_p)
arcsinh = _unary("arcsinh", ew.arcsinh_p)
arccosh = _unary("arccosh", ew.arccosh_p)
arctanh = _unary("arctanh", ew.arctanh_p)
absolute = _unary("absolute", ew.abs_p)
abs = _unary("abs", ew.abs_p)
arctan2 = _binary("arctan2", ew.arctan2_p)
hypot = _binary("hypot", ew.hypot_p)
logaddexp = _binary("logaddexp", ew.logaddexp_p)
maximum = _binary("maximum", ew.maximum_p)
minimum = _binary("minimum", ew.minimum_p)
fmax = _binary("fmax", ew.fmax_p)
fmin = _binary("fmin", ew.fmin_p)
equal = _binary("equal", ew.equal_p)
not_equal = _binary("not_equal", ew.not_equal_p)
less = _binary("less", ew.less_p)
less_equal = _binary("less_equal", ew.less_equal_p)
greater = _binary("greater", ew.greater_p)
greater_equal = _binary("greater_equal", ew.greater_equal_p)
logical_and = _binary("logical_and", ew.logical_and_p)
logical_or = _binary("logical_or", ew.logical_or_p)
logical_xor = _binary("logical_xor", ew.logical_xor_p)
logical_not = _unary("logical_not", ew.logical_not_p)
isnan = _unary("isnan", ew.isnan_p)
isinf = _unary("isinf", ew.isinf_p)
isfinite = _unary("isfinite", ew.isfinite_p)
sign = _unary("sign", ew.sign_p)
floor = _unary("floor", ew.floor_p)
ceil = _unary("ceil", ew.ceil_p)
trunc = _unary("trunc", ew.trunc_p)
real = _unary("real", ew.real_p)
imag = _unary("imag", ew.imag_p)
conj = _unary("conj", ew.conj_p)
conjugate = _unary("conjugate", ew.conj_p)
__all__ += ["add", "subtract", "multiply", "true_divide", "divide", "negative", "power", "remainder", "mod",
    "floor_divide", "exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "cbrt", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "absolute", "abs", "arctan2",
    "hypot", "logaddexp", "maximum", "minimum", "fmax", "fmin", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf",
    "isfinite", "sign", "floor", "ceil", "trunc", "real", "imag", "conj", "conjugate"]

_add, _sub, _mul, _div = ew.add, ew.sub, ew.mul, ew.div


def square(x: Any) -> Any:
    """Differentiable ``numpy.square``: ``x * x``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.square(3.0)
    np.float64(9.0)
    """
    if _array_dtype(x) == np.bool_:  # NumPy squares booleans as int8
        x = sh.astype(x, dtype=np.dtype(np.int8))
    return _mul(x, x)


def reciprocal(x: Any) -> Any:
    """Differentiable ``numpy.reciprocal``: ``1 / x`` (floats only, as NumPy's is for floats).

    >>> import funcgrad.numpy as fnp
    >>> fnp.reciprocal(4.0)
    np.float64(0.25)
    """
    dtype = _array_dtype(x)
    if dtype is not None and dtype.kind in "iu":  # NumPy's integer reciprocal truncates: 1 // x in C
        with np.errstate(divide="ignore", invalid="ignore"):
            return sh.astype(ew.trunc_p.bind(_div(1.0, x)), dtype=dtype)
    return _div(1.0, x)


def rint(x: Any) -> Any:
    """``numpy.rint`` (no derivative): integers and booleans become floats, as in NumPy.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.rint(np.array([1, 2]))
    array([1., 2.])
    """
    dtype = _array_dtype(x)
    if dtype is not None and dtype.kind in "biu":
        x = sh.astype(x, dtype=np.rint(np.zeros((), dtype)).dtype)
    return ew.round_p.bind(x)


def _array_dtype(x: Any) -> np.dtype | None:
    """The dtype of an array or traced value; None for Python numbers and other inputs."""
    return np.dtype(x.dtype) if hasattr(x, "dtype") else None


def positive(x: Any) -> Any:
    """``numpy.positive``: returns ``x``."""
    return x


def round(a: Any, decimals: int = 0, out: Any = None) -> Any:  # noqa: A001 - NumPy's name
    """``numpy.round``: no derivative (piecewise constant).

    >>> import funcgrad.numpy as fnp
    >>> fnp.round(2.567, 2)
    np.float64(2.57)
    """
    no_out("round", out)
    return ew.round_p.bind(a, decimals=decimals)


around = round


def clip(a: Any, a_min: Any = np._NoValue, a_max: Any = np._NoValue, out: Any = None, *, min: Any = np._NoValue,  # noqa: A002
         max: Any = np._NoValue, **kwargs: Any) -> Any:  # noqa: A002
    """Differentiable ``numpy.clip``: ``minimum(maximum(a, a_min), a_max)``.

    At a bound the derivative is shared 0.5/0.5 with the bound (the ``maximum`` convention).

    >>> import funcgrad.numpy as fnp
    >>> fnp.clip(5.0, 0.0, 1.0)
    np.float64(1.0)
    """
    no_out("clip", out)
    if kwargs:
        raise TypeError(f"funcgrad.numpy.clip got unsupported keyword arguments {sorted(kwargs)}")
    if min is not np._NoValue:
        if a_min is not np._NoValue:
            raise ValueError("Passing `min` or `max` keyword argument when `a_min` and `a_max` are provided is "
                             "forbidden.")
        a_min = min
    if max is not np._NoValue:
        if a_max is not np._NoValue:
            raise ValueError("Passing `min` or `max` keyword argument when `a_min` and `a_max` are provided is "
                             "forbidden.")
        a_max = max
    a_min = None if a_min is np._NoValue else a_min
    a_max = None if a_max is np._NoValue else a_max
    if a_min is None and a_max is None:
        raise ValueError("One of max or min must be given")
    a, a_min, a_max = _stack_lists((a, a_min, a_max))
    out = a
    if a_min is not None:
        out = ew.maximum_p.bind(out, a_min)
    if a_max is not None:
        out = ew.minimum_p.bind(out, a_max)
    return out


def where(condition: Any, x: Any = None, y: Any = None, /, *, size: Any = None, fill_value: Any = None) -> Any:
    """Differentiable ``numpy.where(condition, x, y)``; the condition carries no derivative.
    With only ``condition``, :func:`nonzero` (``size=``/``fill_value=`` as there, for jit/vmap).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.where(np.array([True, False]), 1.0, 2.0)
    array([1., 2.])
    """
    if x is None and y is None:
        from .setops import nonzero

        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    condition, x, y = _stack_lists((condition, x, y))
    if getattr(condition, "dtype", None) != np.bool_:
        # NumPy takes any truthy condition; as a boolean mask it carries no derivative.
        condition = ew.not_equal_p.bind(condition, 0)
    return ew.where(condition, x, y)


def astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    """``x.astype(dtype)``; a cast to an integer or boolean dtype has no derivative."""
    dtype = np.dtype(dtype)
    if getattr(x, "dtype", None) == dtype:
        return x
    return sh.astype(x, dtype=dtype)


def angle(z: Any, deg: bool = False) -> Any:
    """Differentiable ``numpy.angle``: ``arctan2(z.imag, z.real)``.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.angle(1j))
    1.5707963267948966
    """
    if np.iscomplexobj(z) if not hasattr(z, "dtype") else np.dtype(z.dtype).kind == "c":
        out = ew.arctan2_p.bind(ew.imag(z), ew.real(z))
    else:  # as NumPy: arctan2(0, z), with 0 a weakly typed Python int
        out = ew.arctan2_p.bind(0, z)
    return out * (180.0 / np.pi) if deg else out


def iscomplexobj(x: Any) -> bool:
    """``numpy.iscomplexobj``: is the dtype complex (a Python bool).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.iscomplexobj(np.array([1.0])), fnp.iscomplexobj(np.array([1j]))
    (False, True)
    """
    return np.dtype(getattr(x, "dtype", np.asarray(x).dtype if not hasattr(x, "dtype") else None)).kind == "c"


def isrealobj(x: Any) -> bool:
    """``numpy.isrealobj``: is the dtype not complex (a Python bool).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.isrealobj(np.array([1.0]))
    True
    """
    return not iscomplexobj(x)


def iscomplex(x: Any) -> Any:
    """``numpy.iscomplex``: elementwise, is the imaginary part non-zero (no derivative).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.iscomplex(np.array([1 + 0j, 2j]))
    array([False,  True])
    """
    return ew.not_equal_p.bind(ew.imag(x), 0)


def real_if_close(a: Any, tol: float = 100) -> Any:
    """``numpy.real_if_close``: the real part if every imaginary part is within ``tol`` machine
    epsilons of zero (decided on the concrete values), else ``a`` unchanged.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.real_if_close(np.array([1.0 + 1e-16j, 2.0]))
    array([1., 2.])
    """
    from ..core import Tracer

    if not iscomplexobj(a):
        return a
    value = a.concrete_value() if isinstance(a, Tracer) else np.asarray(a)
    eps = np.finfo(value.dtype).eps
    return ew.real(a) if np.all(np.abs(value.imag) < tol * eps) else a


__all__ += ["square", "reciprocal", "rint", "positive", "round", "around", "clip", "where", "astype", "angle",
            "iscomplexobj", "isrealobj", "iscomplex", "real_if_close"]


# --- more NumPy elementwise functions, composed from the primitives above --------------------------

_PY_SCALARS = (bool, int, float, complex)


def _dtype_of(x: Any) -> Any:
    """``x``'s dtype, or ``x`` itself for a Python scalar (weak under NEP 50 in ``np.result_type``)."""
    if isinstance(x, _PY_SCALARS):
        return x
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def _ufunc_dtype(ufunc: np.ufunc, *args: Any) -> np.dtype:
    """The dtype NumPy's ``ufunc`` returns for operands like ``args`` (Python scalars stay weak);
    raises NumPy's own ``TypeError`` for dtypes the ufunc does not take (complex ``fabs``)."""
    probes = [a if isinstance(a, _PY_SCALARS) else np.zeros((), _dtype_of(a)) for a in args]
    with np.errstate(all="ignore"):
        return np.asarray(ufunc(*probes)).dtype


def _as(x: Any, dtype: np.dtype) -> Any:
    """``x`` as an array of ``dtype`` (Python scalars stay weak: NumPy promotes them itself)."""
    if isinstance(x, _PY_SCALARS):
        return x
    x = x if hasattr(x, "dtype") and not isinstance(x, np.generic) else np.asarray(x)
    return x if x.dtype == dtype else sh.astype(x, dtype=dtype)


def _unary_operand(ufunc: np.ufunc, x: Any) -> Any:
    """``x`` as an array of the dtype NumPy's unary ``ufunc`` computes in (integers become floats)."""
    dtype = _ufunc_dtype(ufunc, x)
    return _as(np.asarray(x, dtype) if isinstance(x, _PY_SCALARS) else x, dtype)


def fabs(x: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.fabs``: ``|x|`` for real input, as a float (``abs'(0) = 0``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.fabs(np.array([-1, 2]))
    array([1., 2.])
    """
    no_out("fabs", out)
    return ew.abs_p.bind(_unary_operand(np.fabs, x))


def exp2(x: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.exp2``: ``2 ** x``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.exp2(3.0)
    np.float64(8.0)
    """
    no_out("exp2", out)
    return ew.power(2.0, _unary_operand(np.exp2, x))


def deg2rad(x: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.deg2rad``: ``x * pi / 180``.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.deg2rad(180.0))
    3.141592653589793
    """
    no_out("deg2rad", out)
    return ew.mul(_unary_operand(np.deg2rad, x), np.pi / 180.0)


def rad2deg(x: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.rad2deg``: ``x * 180 / pi``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> float(fnp.rad2deg(np.pi))
    180.0
    """
    no_out("rad2deg", out)
    return ew.mul(_unary_operand(np.rad2deg, x), 180.0 / np.pi)


def radians(x: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.radians`` (the same as :func:`deg2rad`).

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.radians(90.0))
    1.5707963267948966
    """
    return deg2rad(x, out=out)


def degrees(x: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.degrees`` (the same as :func:`rad2deg`).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> float(fnp.degrees(np.pi / 2))
    90.0
    """
    return rad2deg(x, out=out)


_LN2 = float(np.log(2.0))


def logaddexp2(x1: Any, x2: Any, out: Any = None) -> Any:
    """Differentiable ``numpy.logaddexp2``: ``log2(2**x1 + 2**x2)``, computed without overflow.

    Its derivative in ``x1`` is ``2**x1 / (2**x1 + 2**x2)``; at ``x1 == x2`` each operand gets 0.5.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.logaddexp2(1.0, 1.0))
    2.0
    """
    no_out("logaddexp2", out)
    dtype = _ufunc_dtype(np.logaddexp2, x1, x2)
    x1, x2 = (_as(np.asarray(x, dtype) if isinstance(x, _PY_SCALARS) else x, dtype) for x in (x1, x2))
    return ew.div(ew.logaddexp_p.bind(ew.mul(x1, _LN2), ew.mul(x2, _LN2)), _LN2)


def sinc(x: Any) -> Any:
    """Differentiable ``numpy.sinc``: ``sin(pi x) / (pi x)``, and 1 at ``x = 0``.

    At 0 its derivatives come from the Taylor series ``1 - (pi x)**2 / 6 + (pi x)**4 / 120``,
    so they are exact there up to fourth order.

    >>> import funcgrad.numpy as fnp
    >>> float(fnp.sinc(0.0)), float(fnp.sinc(0.5))
    (1.0, 0.6366197723675814)
    """
    x = x if isinstance(x, Tracer) else np.asarray(x)
    zero = ew.equal(x, 0)
    y = ew.mul(np.pi, ew.where(zero, 1.0, x))
    away = ew.div(ew.sin(y), y)
    # The series only where x == 0 (elsewhere it sees 0): no overflow, no NaN in unused branches.
    px = ew.mul(np.pi, ew.where(zero, x, 0.0))
    p2 = ew.mul(px, px)
    near = ew.add(ew.sub(1.0, ew.div(p2, 6.0)), ew.div(ew.mul(p2, p2), 120.0))
    return ew.where(zero, near, away)


def nan_to_num(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """Differentiable ``numpy.nan_to_num``: NaN and infinities replaced by finite numbers.

    Finite elements pass their derivative through; replaced elements have none.
    Complex input is treated part by part.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.nan_to_num(np.array([np.nan, np.inf, 1.0]))
    array([0.00000000e+000, 1.79769313e+308, 1.00000000e+000])
    """
    x = x if isinstance(x, Tracer) else np.array(x, copy=True)
    if x.dtype.kind == "c":
        re = nan_to_num(ew.real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(ew.imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return ew.add(re, ew.mul(im, 1j))
    if x.dtype.kind != "f":
        return x
    big = np.finfo(x.dtype).max

    def const(v: Any, default: float) -> np.ndarray:
        return np.asarray(default if v is None else v, dtype=x.dtype)

    out = ew.where(ew.isnan(x), const(nan, 0.0), x)
    out = ew.where(ew.equal(x, np.inf), const(posinf, big), out)
    return ew.where(ew.equal(x, -np.inf), const(neginf, -big), out)


def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """Differentiable ``numpy.select``: the first choice whose condition holds, else ``default``.

    Built from ``where``: each element's derivative flows to the choice it came from.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> x = np.array([-1.0, 0.5, 2.0])
    >>> fnp.select([x < 0, x < 1], [-x, x * 10], default=7.0)
    array([1., 5., 7.])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    conds = [c if isinstance(c, Tracer) else np.asarray(c) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    choices = [c if isinstance(c, (Tracer, *_PY_SCALARS)) else np.asarray(c) for c in choicelist]
    dtype = np.result_type(*(_dtype_of(c) for c in choices), _dtype_of(default))
    shape = np.broadcast_shapes(*(np.shape(c) if not hasattr(c, "shape") else tuple(c.shape)
                                  for c in conds + choices + [default]))
    out = np.asarray(default, dtype) if not isinstance(default, Tracer) else _as(default, dtype)
    for c, choice in zip(reversed(conds), reversed(choices), strict=True):
        out = ew.where(c, _as(choice, dtype) if not isinstance(choice, _PY_SCALARS)
                       else np.asarray(choice, dtype), out)
    if tuple(out.shape) != shape:
        out = sh.broadcast_to(out, shape=shape)
    return out


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    """``numpy.isclose``: ``|a - b| <= atol + rtol * |b|`` elementwise (boolean, no derivative).

    >>> import funcgrad.numpy as fnp
    >>> bool(fnp.isclose(1.0, 1.0 + 1e-9))
    True
    """
    a = a if isinstance(a, (Tracer, *_PY_SCALARS)) else np.asarray(a)
    # As NumPy: b becomes inexact, so that |b| of the most negative integer cannot overflow.
    b = _as(b, np.result_type(b.dtype, 1.0)) if isinstance(b, Tracer) else np.asarray(b, np.result_type(b, 1.0))
    with np.errstate(invalid="ignore", over="ignore"):
        close = ew.logical_and(
            ew.less_equal_p.bind(ew.abs_p.bind(ew.sub(a, b)), ew.add(atol, ew.mul(rtol, ew.abs_p.bind(b)))),
            ew.isfinite_p.bind(b))
        out = ew.logical_or(close, ew.equal(a, b))
        if equal_nan:
            out = ew.logical_or(out, ew.logical_and(ew.isnan(a), ew.isnan(b)))
    return out


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """``numpy.allclose``: a Python bool, decided on the values (no derivative; under ``jit`` the
    values are abstract, so it raises ``ConcretizationError`` there).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.allclose(np.ones(3), np.ones(3) + 1e-10)
    True
    """
    from .reductions import all as _all

    return bool(_all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


__all__ += ["fabs", "exp2", "deg2rad", "rad2deg", "radians", "degrees", "logaddexp2", "sinc", "nan_to_num",
            "select", "isclose", "allclose"]
