"""Factories for the common shapes of primitive, so that one call declares every rule.

``unary("sin", np.sin, deriv=lambda x, out: cos(x))`` gives impl, jvp (``t * deriv``), vjp
(``ct * deriv``) and the batching rule. ``binary`` does the same with one partial derivative
per operand. ``nondiff`` declares an operation whose result carries no derivative.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..core import Primitive

__all__ = ["unary", "binary", "nondiff", "elementwise_batch", "PerIndex"]


def elementwise_batch(impl: Callable[..., Any]) -> Callable[..., Any]:
    """Batching rule for NumPy-broadcasting elementwise operations: batch axis moved to 0."""

    def batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        ranks = [np.ndim(a) - (d is not None) for a, d in zip(args, dims)]
        rank = max(ranks)
        moved = []
        for a, d, r in zip(args, dims, ranks):
            if d is None:
                moved.append(a)
            else:
                a = np.moveaxis(a, d, 0)
                moved.append(a.reshape(a.shape[:1] + (1,) * (rank - r) + a.shape[1:]))
        return impl(*moved, **params), 0

    return batch


class PerIndex:
    """Rule table for a primitive with any number of operands: ``rules[i]`` binds ``i``."""

    __slots__ = ("_fn", "_cache")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self._cache: dict[int, Callable[..., Any]] = {}

    def __getitem__(self, i: int) -> Callable[..., Any]:
        rule = self._cache.get(i)
        if rule is None:
            rule = self._cache[i] = functools.partial(self._fn, i)
        return rule


def unary(
    name: str,
    impl: Callable[..., Any],
    deriv: Callable[[Any, Any], Any] | None = None,
    *,
    jvp: Callable[..., Any] | None = None,
    vjp: Callable[..., Any] | None = None,
) -> Primitive:
    """An elementwise function of one array.

    Give ``deriv(x, out)``, the pointwise derivative (then jvp is ``t * deriv`` and vjp is
    ``ct * deriv``), or give ``jvp(t, out, x)`` and ``vjp(ct, out, x)`` directly when a cheaper
    or more stable form exists (``ct / x`` rather than ``ct * (1 / x)``).
    """
    if deriv is not None:
        jvp = jvp or (lambda t, out, x: t * deriv(x, out))
        vjp = vjp or (lambda ct, out, x: ct * deriv(x, out))
    return Primitive(name, impl, jvp=(jvp,), vjp=(vjp,), batch=elementwise_batch(impl))


def binary(
    name: str,
    impl: Callable[..., Any],
    partials: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
    *,
    jvp: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
    vjp: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
) -> Primitive:
    """An elementwise, broadcasting function of two arrays.

    ``partials[i](x, y, out)`` is the derivative with respect to operand ``i``. The reverse trace
    sums each cotangent back to its operand's shape, so rules ignore broadcasting.
    """
    if partials is not None:
        dx, dy = partials
        jvp = jvp or (lambda t, out, x, y: t * dx(x, y, out), lambda t, out, x, y: t * dy(x, y, out))
        vjp = vjp or (lambda ct, out, x, y: ct * dx(x, y, out), lambda ct, out, x, y: ct * dy(x, y, out))
    return Primitive(name, impl, jvp=jvp, vjp=vjp, batch=elementwise_batch(impl))


def nondiff(name: str, impl: Callable[..., Any], *, elementwise: bool = True) -> Primitive:
    """An operation whose result carries no derivative (comparisons, rounding, argmax)."""
    return Primitive(name, impl, nondiff=True, batch=elementwise_batch(impl) if elementwise else None)
