"""Eager jvp rules: the jvp rules of the primitives on the eager hot path, without ``bind``.

A jvp rule is written with funcgrad operations so that derivatives of derivatives work. The forward
trace of a first-order eager derivative (``jvp`` of a function of NumPy arrays, and the outer level
of a Hessian-vector product, ``jvp`` of ``grad``) runs those rules on plain arrays, where each
operation in them takes ``bind``'s no-tracer path and calls its NumPy impl.

The rules here compute exactly that: the same NumPy calls in the same order (so the same values,
bit for bit), called directly. A binary primitive may also have a rule for when both operands carry
a tangent (``both(t0, t1, out, x, y)``): it computes what the two rules' results summed with
``add`` give (``t0 - t1`` for a difference is ``t0 + (-t1)`` exactly; ``x * x`` of one value adds
one product to itself). The forward trace uses these rules only when no primal or tangent it
holds is traced (:func:`declare_eager_jvp`); the forward trace imports this module.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Primitive
from . import elementwise as ew
from .linalg import matmul_p
from .reductions import reduce_sum_p
from .shape import astype_p, broadcast_to_p, reshape_p, transpose_p

__all__ = ["declare_eager_jvp"]


def declare_eager_jvp(prim: Primitive, *rules: Callable[..., Any] | None,
                      both: Callable[..., Any] | None = None) -> Primitive:
    """Give ``prim`` jvp rules for primals and tangents that are no tracers, one per operand as
    in ``prim.jvp`` (``None`` keeps that operand's ``jvp`` rule): ``rules[i]`` must compute
    exactly what ``prim.jvp[i]`` computes there, calling NumPy where that rule calls funcgrad
    operations. ``both(t0, t1, out, x, y)`` (binary primitives) must compute what ``add`` of the
    two rules' results computes. Rules used at higher orders stay the ``jvp`` ones: the forward
    trace uses these only when nothing it holds is traced. Returns ``prim``.

    >>> from funcgrad.prims.elementwise import sin_p
    >>> sin_p.jvp_eager is not sin_p.jvp
    True
    """
    jvps = prim.jvp
    if not isinstance(jvps, (tuple, list)) or len(rules) != len(jvps):
        raise ValueError(f"{prim.name}: declare one eager rule per jvp rule "
                         f"({len(jvps) if isinstance(jvps, (tuple, list)) else 'a rule table'}), got {len(rules)}")
    if both is not None and len(rules) != 2:
        raise ValueError(f"{prim.name}: a rule for both operands needs a binary primitive, not {len(rules)} operands")
    eager = tuple(e if e is not None else r for e, r in zip(rules, jvps))
    prim.jvp_eager = eager + (both,) if both is not None else eager
    return prim


_add = np.add  # add_p's impl: what ``add`` of two contributions calls on plain arrays

# --- arithmetic: the per-operand rules are NumPy operators already; only the joint rules differ ---

declare_eager_jvp(ew.add_p, None, None, both=lambda t0, t1, o, x, y: _add(t0, t1))
declare_eager_jvp(ew.sub_p, None, None, both=lambda t0, t1, o, x, y: np.subtract(t0, t1))


def _mul_both(t0: Any, t1: Any, o: Any, x: Any, y: Any) -> Any:
    if t0 is t1 and x is y and x.dtype.kind == "f":
        # x * x: both contributions are the same product (t * x == x * t for real numbers).
        s = t0 * y
        return _add(s, s)
    return _add(t0 * y, x * t1)


declare_eager_jvp(ew.mul_p, None, None, both=_mul_both)
declare_eager_jvp(ew.div_p, None, None, both=lambda t0, t1, o, x, y: _add(t0 / y, -t1 * o / y))

# --- elementwise: the factories' ``t * deriv(x, out)`` as one function, NumPy where it binds -----

declare_eager_jvp(ew.sin_p, lambda t, o, x: t * np.cos(x))
declare_eager_jvp(ew.cos_p, lambda t, o, x: t * -np.sin(x))
declare_eager_jvp(ew.sinh_p, lambda t, o, x: t * np.cosh(x))
declare_eager_jvp(ew.cosh_p, lambda t, o, x: t * np.sinh(x))
declare_eager_jvp(ew.tanh_p, lambda t, o, x: t * (1.0 - o * o))
declare_eager_jvp(ew.tan_p, lambda t, o, x: t * (1.0 + o * o))
declare_eager_jvp(ew.exp_p, lambda t, o, x: t * o)
declare_eager_jvp(ew.expm1_p, lambda t, o, x: t * (o + 1.0))
declare_eager_jvp(ew.expit_p, lambda t, o, x: t * (o * (1.0 - o)))
declare_eager_jvp(ew.arcsin_p, lambda t, o, x: t * (1.0 / np.sqrt(1.0 - x * x)))
declare_eager_jvp(ew.arccos_p, lambda t, o, x: t * (-1.0 / np.sqrt(1.0 - x * x)))
declare_eager_jvp(ew.arcsinh_p, lambda t, o, x: t * (1.0 / np.sqrt(x * x + 1.0)))
declare_eager_jvp(ew.arccosh_p, lambda t, o, x: t * (1.0 / np.sqrt(x * x - 1.0)))
declare_eager_jvp(ew.abs_p, lambda t, o, x: t * np.sign(x) if x.dtype.kind != "c" else ew._abs_jvp(t, o, x))
declare_eager_jvp(ew.where_p, None, lambda t, o, c, x, y: np.where(c, t, 0.0),
                  lambda t, o, c, x, y: np.where(c, 0.0, t))


def _tie_partial(wins: Any, x: Any, y: Any) -> Any:
    return np.where(wins, 1.0, np.where(np.equal(x, y), 0.5, 0.0))


declare_eager_jvp(ew.maximum_p, lambda t, o, x, y: t * _tie_partial(np.greater(x, y), x, y),
                  lambda t, o, x, y: t * _tie_partial(np.greater(y, x), x, y))
declare_eager_jvp(ew.minimum_p, lambda t, o, x, y: t * _tie_partial(np.less(x, y), x, y),
                  lambda t, o, x, y: t * _tie_partial(np.less(y, x), x, y))

# --- linear operations: the tangent goes through the operation itself (its impl) ----------------

_matmul = np.matmul  # matmul_p's impl
declare_eager_jvp(matmul_p, lambda t, o, a, b: _matmul(t, b), lambda t, o, a, b: _matmul(a, t),
                  both=lambda t0, t1, o, a, b: _add(_matmul(t0, b), _matmul(a, t1)))
_sum_impl, _reshape_impl, _transpose_impl = reduce_sum_p.impl, reshape_p.impl, transpose_p.impl
_broadcast_impl, _astype_impl = broadcast_to_p.impl, astype_p.impl
declare_eager_jvp(reduce_sum_p, lambda t, o, x, axis, keepdims: _sum_impl(t, axis=axis, keepdims=keepdims))
declare_eager_jvp(reshape_p, lambda t, o, x, shape: _reshape_impl(t, o.shape))
declare_eager_jvp(transpose_p, lambda t, o, x, axes: _transpose_impl(t, axes))
declare_eager_jvp(broadcast_to_p, lambda t, o, x, shape: _broadcast_impl(t, shape))
declare_eager_jvp(astype_p, lambda t, o, x, dtype: _astype_impl(t, dtype))
