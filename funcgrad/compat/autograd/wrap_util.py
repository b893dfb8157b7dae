"""``funcgrad.compat.autograd.wrap_util``: ``unary_to_nary`` and ``wraps``, for user code that
builds its own differential operators the way autograd's are built.

>>> import numpy as np
>>> from funcgrad.compat.autograd import grad
>>> @unary_to_nary
... def double_grad(fun, x):
...     return 2 * grad(fun)(x)
>>> float(double_grad(lambda a, b: a * b, 1)(3.0, 4.0))
6.0
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .differential_operators import _select

__all__ = ["unary_to_nary", "wraps", "subvals"]


def unary_to_nary(unary_operator: Callable[..., Any]) -> Callable[..., Any]:
    """``op(fun, x, *extra)`` → ``op(fun, argnum=0, *extra)(*args, **kwargs)``, as in autograd."""

    @functools.wraps(unary_operator)
    def nary_operator(fun: Callable[..., Any], argnum: Any = 0, *op_args: Any, **op_kwargs: Any) -> Any:
        @functools.wraps(fun)
        def nary_f(*args: Any, **kwargs: Any) -> Any:
            unary, x = _select(fun, argnum, args, kwargs)
            return unary_operator(unary, x, *op_args, **op_kwargs)

        return nary_f

    return nary_operator


def wraps(fun: Callable[..., Any], namestr: str = "{fun}", docstr: str = "{doc}", **kwargs: Any) -> Callable:
    """A decorator copying ``fun``'s name and docstring (formatted as autograd's ``wraps`` does)."""

    def _wraps(f: Callable[..., Any]) -> Callable[..., Any]:
        try:
            f.__name__ = namestr.format(fun=getattr(fun, "__name__", "[unknown name]"), **kwargs)
            f.__doc__ = docstr.format(fun=getattr(fun, "__name__", "[unknown name]"),
                                      doc=getattr(fun, "__doc__", "") or "", **kwargs)
        finally:
            return f  # noqa: B012

    return _wraps


def subvals(x: tuple, ivs: Any) -> tuple:
    """``x`` with each ``(index, value)`` of ``ivs`` substituted."""
    x_ = list(x)
    for i, v in ivs:
        x_[i] = v
    return tuple(x_)
