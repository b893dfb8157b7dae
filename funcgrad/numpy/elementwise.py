"""Elementwise functions with NumPy's names, broadcasting and dtype promotion."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..prims import elementwise as ew
from ..prims import shape as sh

__all__: list[str] = []


def _export(name: str, prim: Any, npname: str | None = None) -> None:
    bind = prim.bind

    def fn(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            out = kwargs.pop("out", None)
            if out is not None:
                raise TypeError(f"funcgrad.numpy.{name} does not support out=; use the return value.")
            if kwargs:
                raise TypeError(f"funcgrad.numpy.{name} got unsupported keyword arguments {sorted(kwargs)}")
        return bind(*args)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Differentiable ``numpy.{npname or name}``, with NumPy's broadcasting and dtype rules.\n\n"
        f"    >>> import funcgrad.numpy as fnp\n    >>> fnp.{name}  # doctest: +ELLIPSIS\n"
        f"    <function {name} at ...>\n"
    )
    globals()[name] = fn
    __all__.append(name)


for _name, _prim in [
    ("add", ew.add_p), ("subtract", ew.sub_p), ("multiply", ew.mul_p), ("true_divide", ew.div_p),
    ("divide", ew.div_p), ("negative", ew.neg_p), ("power", ew.pow_p), ("remainder", ew.remainder_p),
    ("mod", ew.remainder_p), ("floor_divide", ew.floor_divide_p),
    ("exp", ew.exp_p), ("log", ew.log_p), ("log1p", ew.log1p_p), ("expm1", ew.expm1_p),
    ("log2", ew.log2_p), ("log10", ew.log10_p), ("sqrt", ew.sqrt_p), ("cbrt", ew.cbrt_p),
    ("sin", ew.sin_p), ("cos", ew.cos_p), ("tan", ew.tan_p), ("arcsin", ew.arcsin_p),
    ("arccos", ew.arccos_p), ("arctan", ew.arctan_p), ("sinh", ew.sinh_p), ("cosh", ew.cosh_p),
    ("tanh", ew.tanh_p), ("arcsinh", ew.arcsinh_p), ("arccosh", ew.arccosh_p), ("arctanh", ew.arctanh_p),
    ("absolute", ew.abs_p), ("abs", ew.abs_p), ("arctan2", ew.arctan2_p), ("hypot", ew.hypot_p),
    ("logaddexp", ew.logaddexp_p), ("maximum", ew.maximum_p), ("minimum", ew.minimum_p),
    ("fmax", ew.fmax_p), ("fmin", ew.fmin_p),
    ("equal", ew.equal_p), ("not_equal", ew.not_equal_p),
    ("less", ew.less_p), ("less_equal", ew.less_equal_p),
    ("greater", ew.greater_p), ("greater_equal", ew.greater_equal_p),
    ("logical_and", ew.logical_and_p), ("logical_or", ew.logical_or_p),
    ("logical_xor", ew.logical_xor_p), ("logical_not", ew.logical_not_p),
    ("isnan", ew.isnan_p), ("isinf", ew.isinf_p), ("isfinite", ew.isfinite_p),
    ("sign", ew.sign_p), ("floor", ew.floor_p), ("ceil", ew.ceil_p),
    ("trunc", ew.trunc_p), ("rint", ew.round_p),
    ("real", ew.real_p), ("imag", ew.imag_p), ("conj", ew.conj_p), ("conjugate", ew.conj_p),
]:
    _export(_name, _prim)

_add, _sub, _mul, _div = ew.add, ew.sub, ew.mul, ew.div


def square(x: Any) -> Any:
    """Differentiable ``numpy.square``: ``x * x``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.square(3.0)
    np.float64(9.0)
    """
    return _mul(x, x)


def reciprocal(x: Any) -> Any:
    """Differentiable ``numpy.reciprocal``: ``1 / x`` (floats only, as NumPy's is for floats).

    >>> import funcgrad.numpy as fnp
    >>> fnp.reciprocal(4.0)
    np.float64(0.25)
    """
    return _div(1.0, x)


def positive(x: Any) -> Any:
    """``numpy.positive``: returns ``x``."""
    return x


def round(x: Any, decimals: int = 0) -> Any:  # noqa: A001 - NumPy's name
    """``numpy.round``: no derivative (piecewise constant).

    >>> import funcgrad.numpy as fnp
    >>> fnp.round(2.567, 2)
    np.float64(2.57)
    """
    return ew.round_p.bind(x, decimals=decimals)


around = round


def clip(a: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Differentiable ``numpy.clip``: ``minimum(maximum(a, a_min), a_max)``.

    At a bound the derivative is shared 0.5/0.5 with the bound (the ``maximum`` convention).

    >>> import funcgrad.numpy as fnp
    >>> fnp.clip(5.0, 0.0, 1.0)
    np.float64(1.0)
    """
    if a_min is None and a_max is None:
        raise ValueError("One of max or min must be given")
    out = a
    if a_min is not None:
        out = ew.maximum_p.bind(out, a_min)
    if a_max is not None:
        out = ew.minimum_p.bind(out, a_max)
    return out


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Differentiable ``numpy.where(condition, x, y)``; the condition carries no derivative.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.where(np.array([True, False]), 1.0, 2.0)
    array([1., 2.])
    """
    if x is None and y is None:
        from ..core import Tracer

        c = condition.concrete_value() if isinstance(condition, Tracer) else condition
        return np.nonzero(c)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    if getattr(condition, "dtype", None) != np.bool_:
        # NumPy takes any truthy condition; as a boolean mask it carries no derivative.
        condition = ew.not_equal_p.bind(condition, 0)
    return ew.where(condition, x, y)


def astype(x: Any, dtype: Any) -> Any:
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
    out = ew.arctan2_p.bind(ew.imag(z), ew.real(z))
    return out * (180.0 / np.pi) if deg else out


def iscomplexobj(x: Any) -> bool:
    """``numpy.iscomplexobj``: is the dtype complex."""
    return np.dtype(getattr(x, "dtype", np.asarray(x).dtype if not hasattr(x, "dtype") else None)).kind == "c"


def isrealobj(x: Any) -> bool:
    """``numpy.isrealobj``: is the dtype not complex."""
    return not iscomplexobj(x)


def iscomplex(x: Any) -> Any:
    """``numpy.iscomplex``: elementwise, is the imaginary part non-zero (no derivative)."""
    return ew.not_equal_p.bind(ew.imag(x), 0)


def real_if_close(a: Any, tol: float = 100) -> Any:
    """``numpy.real_if_close``: the real part if every imaginary part is within ``tol`` machine
    epsilons of zero (decided on the concrete values), else ``a`` unchanged."""
    from ..core import Tracer

    if not iscomplexobj(a):
        return a
    value = a.concrete_value() if isinstance(a, Tracer) else np.asarray(a)
    eps = np.finfo(value.dtype).eps
    return ew.real(a) if np.all(np.abs(value.imag) < tol * eps) else a


__all__ += ["square", "reciprocal", "positive", "round", "around", "clip", "where", "astype", "angle",
            "iscomplexobj", "isrealobj", "iscomplex", "real_if_close"]
