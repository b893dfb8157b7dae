"""``fixed_point(f, a, x0, distance, tol)``: iterate ``x ← f(a)(x)`` from ``x0`` until
``distance(x, x_prev) <= tol``, differentiable in ``a`` by the implicit function theorem (the
backward pass iterates the adjoint equation to the same tolerance; no unrolled loop is kept).

>>> import numpy as np
>>> from funcgrad.compat.autograd import grad
>>> sqrt = lambda a: fixed_point(lambda a: lambda x: 0.5 * (x + a / x), a, 1.0,
...                              lambda x, y: abs(x - y), 1e-12)
>>> round(float(sqrt(2.0)), 12), round(float(grad(sqrt)(2.0)), 10)  # d sqrt(a)/da = 1 / (2 sqrt(a))
(1.414213562373, 0.3535533906)
"""

from __future__ import annotations

from typing import Any, Callable

from ....api import vjp
from ....custom import custom_vjp
from ....tree_util import tree_map

__all__ = ["fixed_point"]


def _iterate(step: Callable[[Any], Any], x0: Any, distance: Callable[[Any, Any], Any], tol: float) -> Any:
    x, x_prev = step(x0), x0
    while distance(x, x_prev) > tol:
        x, x_prev = step(x), x
    return x


def _solve(f: Callable[..., Any], distance: Callable[..., Any], tol: float, a: Any, x0: Any) -> Any:
    return _iterate(f(a), x0, distance, tol)


def _fwd(f: Callable[..., Any], distance: Callable[..., Any], tol: float, a: Any, x0: Any) -> tuple[Any, Any]:
    x_star = _iterate(f(a), x0, distance, tol)
    return x_star, (a, x_star, x0)


def _bwd(f: Callable[..., Any], distance: Callable[..., Any], tol: float, res: Any, g: Any) -> tuple[Any, Any]:
    a, x_star, x0 = res
    _, vjp_x = vjp(f(a), x_star)
    adjoint = _iterate(lambda w: tree_map(lambda u, v: u + v, vjp_x(w)[0], g), tree_map(lambda v: 0.0 * v, g),
                       distance, tol)
    _, vjp_a = vjp(lambda a_: f(a_)(x_star), a)
    return vjp_a(adjoint)[0], tree_map(lambda v: 0.0 * v, x0)


_fixed_point = custom_vjp(_solve, nondiff_argnums=(0, 1, 2))
_fixed_point.defvjp(_fwd, _bwd)


def fixed_point(f: Callable[[Any], Callable[[Any], Any]], a: Any, x0: Any, distance: Callable[[Any, Any], Any],
                tol: float) -> Any:
    """The fixed point of ``f(a)`` reached from ``x0``, differentiable with respect to ``a``."""
    return _fixed_point(f, distance, tol, a, x0)
