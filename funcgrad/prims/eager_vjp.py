"""Eager vjp rules: the vjp rules of the primitives on the eager hot path, without ``bind``.

A vjp rule is written with funcgrad operations so that derivatives of derivatives work: at
order 2 and above its operands are tracers and every operation in it is recorded. The backward
pass of a first-order eager derivative (``grad`` of a function of NumPy arrays) runs the same
rules on plain arrays, where each of those operations takes ``bind``'s no-tracer path and calls
its NumPy impl, after a search for tracers and one or two extra Python calls per operation.

The rules here compute exactly that: the same NumPy calls in the same order (so the same values,
bit for bit), called directly. The reverse trace uses them only when nothing on its tape or
among the cotangents is traced (:func:`funcgrad.core.declare_eager_vjp`); the reverse trace
imports this module.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import declare_eager_vjp
from . import elementwise as ew
from .reductions import keepdims_shape, reduce_sum_p
from .shape import broadcast_to_p, reshape_p

__all__: list[str] = []

# --- elementwise: the factories' ``ct * deriv(x, out)`` as one function, NumPy where it binds ----

declare_eager_vjp(ew.sin_p, lambda ct, o, x: ct * np.cos(x))
declare_eager_vjp(ew.cos_p, lambda ct, o, x: ct * -np.sin(x))
declare_eager_vjp(ew.sinh_p, lambda ct, o, x: ct * np.cosh(x))
declare_eager_vjp(ew.cosh_p, lambda ct, o, x: ct * np.sinh(x))
declare_eager_vjp(ew.tanh_p, lambda ct, o, x: ct * (1.0 - o * o))
declare_eager_vjp(ew.tan_p, lambda ct, o, x: ct * (1.0 + o * o))
declare_eager_vjp(ew.exp_p, lambda ct, o, x: ct * o)
declare_eager_vjp(ew.expm1_p, lambda ct, o, x: ct * (o + 1.0))
declare_eager_vjp(ew.expit_p, lambda ct, o, x: ct * (o * (1.0 - o)))
declare_eager_vjp(ew.arcsin_p, lambda ct, o, x: ct * (1.0 / np.sqrt(1.0 - x * x)))
declare_eager_vjp(ew.arccos_p, lambda ct, o, x: ct * (-1.0 / np.sqrt(1.0 - x * x)))
declare_eager_vjp(ew.arcsinh_p, lambda ct, o, x: ct * (1.0 / np.sqrt(x * x + 1.0)))
declare_eager_vjp(ew.arccosh_p, lambda ct, o, x: ct * (1.0 / np.sqrt(x * x - 1.0)))
declare_eager_vjp(ew.abs_p, lambda ct, o, x: ct * np.sign(x) if x.dtype.kind != "c" else ew._abs_vjp(ct, o, x))
declare_eager_vjp(ew.where_p, None, lambda ct, o, c, x, y: np.where(c, ct, 0.0),
                  lambda ct, o, c, x, y: np.where(c, 0.0, ct))


def _tie_partial(wins: Any, x: Any, y: Any) -> Any:
    return np.where(wins, 1.0, np.where(np.equal(x, y), 0.5, 0.0))


declare_eager_vjp(ew.maximum_p, lambda ct, o, x, y: ct * _tie_partial(np.greater(x, y), x, y),
                  lambda ct, o, x, y: ct * _tie_partial(np.greater(y, x), x, y))
declare_eager_vjp(ew.minimum_p, lambda ct, o, x, y: ct * _tie_partial(np.less(x, y), x, y),
                  lambda ct, o, x, y: ct * _tie_partial(np.less(y, x), x, y))


# --- reductions ----------------------------------------------------------------------------------


def _sum_vjp(ct: Any, out: Any, x: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    # reductions._expand and broadcast_to, with the impls of reshape and broadcast_to.
    shape = x.shape
    if axis is not None or ct.shape:
        kd = keepdims_shape(shape, axis)
        if ct.shape != kd:
            ct = reshape_p.impl(ct, kd)
    elif shape and math.prod(shape) <= 1024 and (type(ct) is np.ndarray or isinstance(ct, np.generic)):
        # A total sum's 0-d cotangent: what broadcast_to's impl makes of it (a filled copy of a
        # small shape), filled with ndarray.fill instead of a broadcasting assignment.
        filled = np.empty(shape, ct.dtype)
        filled.fill(ct)
        return filled
    return broadcast_to_p.impl(ct, shape)


declare_eager_vjp(reduce_sum_p, _sum_vjp)
