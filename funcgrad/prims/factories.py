"""Factories for the common shapes of primitive, so that one call declares every rule.

``unary("sin", np.sin, deriv=lambda x, out: cos(x))`` gives impl, jvp (``t * deriv``), vjp
(``ct * deriv``), the batching rule and (an impl that is a NumPy ufunc) the Numba kernel rule.
``binary`` does the same with one partial derivative per operand. ``nondiff`` declares an
operation whose result carries no derivative, ``elementwise`` any other elementwise primitive.
Each also takes the primitive's eager rules (``unary``: one NumPy derivative,
``derivative_eager=``, giving both; or ``jvp_eager=``, ``vjp_eager=``) and its kernel rule
(``kernel=``), so nothing about a primitive is assigned after its declaration (see
:class:`funcgrad.core.Primitive`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..core import Primitive
from ..errors import PrimitiveDeclarationError

__all__ = ["unary", "binary", "nondiff", "elementwise", "elementwise_batch", "PerIndex", "ndim_of",
           "batch_to_front"]


def ndim_of(x: Any) -> int:
    return x.ndim if hasattr(x, "ndim") else np.ndim(x)


def batch_to_front(x: Any, bdim: int | None, size: int | None = None, rank: int | None = None) -> Any:
    """Move ``x``'s batch axis to position 0 (written with funcgrad ops, so it nests).

    With ``size``, an unbatched ``x`` is broadcast to a batch of that size. With ``rank``, size-1
    axes are inserted after the batch axis until ``x`` has ``rank`` axes besides the batch axis,
    so that it broadcasts against other operands the way the unbatched operation would.
    """
    from .shape import broadcast_to, reshape, transpose

    if bdim is None:
        if size is None:
            return x
        shape = tuple(np.shape(x) if not hasattr(x, "shape") else x.shape)
        x = broadcast_to(reshape(x, shape=(1,) + shape), shape=(size,) + shape)
        bdim = 0
    if bdim != 0:
        n = ndim_of(x)
        x = transpose(x, axes=(bdim,) + tuple(i for i in range(n) if i != bdim))
    if rank is not None:
        have = ndim_of(x) - 1
        if have < rank:
            x = reshape(x, shape=x.shape[:1] + (1,) * (rank - have) + x.shape[1:])
    return x


def elementwise_batch(prim: Primitive) -> Callable[..., Any]:
    """Batching rule for NumPy-broadcasting elementwise operations: batch axis moved to 0."""

    def batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        rank = max(ndim_of(a) - (d is not None) for a, d in zip(args, dims, strict=False))
        moved = [a if d is None else batch_to_front(a, d, rank=rank) for a, d in zip(args, dims, strict=False)]
        return prim.bind(*moved, **params), 0

    return batch


def elementwise(name: str, impl: Callable[..., Any], *, kernel: Callable[..., Any] | None = None,
                **rules: Any) -> Primitive:
    """A NumPy-broadcasting elementwise primitive: ``Primitive(name, impl, **rules)`` with the
    elementwise batching rule, and, where ``impl`` is a NumPy ufunc and no ``kernel`` is given,
    the ufunc's Numba kernel rule (see ``Primitive.kernel``).

    >>> import numpy as np
    >>> from funcgrad.prims.elementwise import where_p  # elementwise("where", np.where, ...)
    >>> where_p.batch is not None
    True
    """
    if kernel is None and type(impl) is np.ufunc:
        kernel = ufunc_kernel
    return Primitive(name, impl, batch_of=elementwise_batch, kernel=kernel, **rules)


_elementwise = elementwise


def fusion() -> Any:
    """:mod:`funcgrad.ir.fusion`, imported on first use: kernel rules run only when the Numba
    backend compiles, and ``import funcgrad`` stays light."""
    from ..ir import fusion as module

    return module


def ufunc_kernel(e: Any) -> Any:
    """The Numba kernel rule of an elementwise primitive whose impl is a NumPy ufunc."""
    return fusion().ufunc_plan(e)


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
    derivative_eager: Callable[[Any, Any], Any] | None = None,
    jvp_eager: Callable[..., Any] | None = None,
    vjp_eager: Callable[..., Any] | None = None,
    kernel: Callable[..., Any] | None = None,
    residuals: tuple[int, ...] | None = None,
    register: bool = True,
) -> Primitive:
    """An elementwise function of one array.

    Give ``deriv(x, out)``, the pointwise derivative (then jvp is ``t * deriv`` and vjp is
    ``ct * deriv``), or give ``jvp(t, out, x)`` and ``vjp(ct, out, x)`` directly when a cheaper
    or more stable form exists (``ct / x`` rather than ``ct * (1 / x)``). ``jvp_eager`` and
    ``vjp_eager`` are the same rules calling NumPy directly, for operands that are no tracers;
    or give ``derivative_eager(x, out)``, ``deriv`` calling NumPy (the same operations in the same
    order), from which both come (``t * derivative_eager(x, out)``, ``ct * ...``) and which the
    backward pass computes for runs of entries at once (``Primitive.product_rule``). ``residuals``
    is what the vjp rule reads (see :class:`funcgrad.core.Primitive`).

    >>> import numpy as np
    >>> from funcgrad.prims.elementwise import sin_p  # unary("sin", np.sin, lambda x, out: cos(x), ...)
    >>> float(sin_p.vjp[0](np.array(2.0), None, np.array(0.0)))
    2.0
    """
    if deriv is not None:
        jvp = jvp or (lambda t, out, x: t * deriv(x, out))
        vjp = vjp or (lambda ct, out, x: ct * deriv(x, out))
    if derivative_eager is not None:
        if jvp_eager is not None or vjp_eager is not None:
            raise PrimitiveDeclarationError(
                f"{name}: derivative_eager= gives both eager rules, got jvp_eager= or vjp_eager= too; "
                "declare one or the other")
        h = derivative_eager
        jvp_eager = lambda t, out, x: t * h(x, out)  # noqa: E731
        vjp_eager = lambda ct, out, x: ct * h(x, out)  # noqa: E731
    return elementwise(
        name, impl, jvp=(jvp,), vjp=(vjp,), kernel=kernel, residuals=None if residuals is None else (residuals,),
        jvp_eager=None if jvp_eager is None else (jvp_eager,), vjp_eager=None if vjp_eager is None else (vjp_eager,),
        product_rule=derivative_eager, register=register)


def binary(
    name: str,
    impl: Callable[..., Any],
    partials: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
    *,
    jvp: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
    vjp: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
    jvp_eager: tuple[Callable[..., Any] | None, ...] | None = None,
    vjp_eager: tuple[Callable[..., Any] | None, Callable[..., Any] | None] | None = None,
    kernel: Callable[..., Any] | None = None,
    residuals: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    broadcasting: bool = False,
) -> Primitive:
    """An elementwise, broadcasting function of two arrays.

    ``partials[i](x, y, out)`` is the derivative with respect to operand ``i``. The reverse trace
    sums each cotangent back to its operand's shape, so rules ignore broadcasting. ``jvp_eager``
    may add a third rule, for both operands carrying tangents; ``residuals`` says what each vjp
    rule reads (see :class:`funcgrad.core.Primitive`). ``broadcasting=True`` marks it
    ``broadcasting_binary`` for the program passes.

    >>> import numpy as np
    >>> from funcgrad.prims.elementwise import hypot_p  # d/dy hypot(x, y) = y / hypot(x, y)
    >>> float(hypot_p.vjp[1](np.array(1.0), np.array(5.0), np.array(3.0), np.array(4.0)))
    0.8
    """
    if partials is not None:
        dx, dy = partials
        jvp = jvp or (lambda t, out, x, y: t * dx(x, y, out), lambda t, out, x, y: t * dy(x, y, out))
        vjp = vjp or (lambda ct, out, x, y: ct * dx(x, y, out), lambda ct, out, x, y: ct * dy(x, y, out))
    return elementwise(name, impl, jvp=jvp, vjp=vjp, kernel=kernel, residuals=residuals,
                       jvp_eager=jvp_eager, vjp_eager=vjp_eager, broadcasting_binary=broadcasting)


def nondiff(name: str, impl: Callable[..., Any], *, elementwise: bool = True,
            batch: Callable[..., Any] | None = None, kernel: Callable[..., Any] | None = None,
            batch_of: Callable[[Primitive], Callable[..., Any]] | None = None) -> Primitive:
    """An operation whose result carries no derivative (comparisons, rounding, argmax).

    Elementwise ones get the elementwise batching rule; others pass ``batch`` (or ``batch_of``,
    see :class:`funcgrad.core.Primitive`). ``kernel`` is the
    Numba kernel rule of one whose impl is no NumPy ufunc (ufunc ones get theirs).

    >>> from funcgrad.prims.elementwise import sign_p  # nondiff("sign", np.sign)
    >>> sign_p.nondiff
    True
    """
    if elementwise:  # (the flag shadows the function elementwise)
        return _elementwise(name, impl, nondiff=True, kernel=kernel)
    return Primitive(name, impl, nondiff=True, batch=batch, batch_of=batch_of, kernel=kernel)
