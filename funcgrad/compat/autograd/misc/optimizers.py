"""autograd's stochastic optimizers with autograd's signature, over any pytree of parameters.

``adam(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8)``:
``grad(params, iteration)`` returns a gradient shaped like ``params``; ``callback(params,
iteration, gradient)`` is called before each step. ``adam`` and ``rmsprop`` run
:mod:`funcgrad.optimizers`' transformations (autograd's formulas; iterates agree with autograd's to
rounding); ``sgd`` is autograd's momentum form ``v = mass·v - (1 - mass)·g``, ``x = x + step·v``, which
funcgrad.optimizers does not have. Everything is written with funcgrad.numpy, so an optimizer run
can itself be differentiated (meta-optimisation).

>>> import numpy as np
>>> from funcgrad.compat.autograd import grad
>>> objective = lambda p, i: ((p["w"] - 3.0) ** 2).sum()
>>> p = sgd(grad(objective), {"w": np.zeros(2)}, num_iters=300)
>>> np.round(p["w"], 3)
array([3., 3.])
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as _np

from .... import numpy as np
from .... import optimizers as _fo
from .flatten import flatten

__all__ = ["sgd", "rmsprop", "adam", "unflatten_optimizer"]


def unflatten_optimizer(optimize: Callable[..., Any]) -> Callable[..., Any]:
    """An optimizer of flat vectors as one of pytrees (tuples, lists, dicts of arrays and scalars)."""

    @functools.wraps(optimize)
    def _optimize(grad: Callable[..., Any], x0: Any, callback: Callable[..., Any] | None = None,
                  *args: Any, **kwargs: Any) -> Any:
        _x0, unflatten = flatten(x0)

        def _grad(x: Any, i: int) -> Any:
            return flatten(grad(unflatten(x), i))[0]

        _callback = None
        if callback:
            def _callback(x: Any, i: int, g: Any) -> None:
                callback(unflatten(x), i, unflatten(g))

        return unflatten(optimize(_grad, _x0, _callback, *args, **kwargs))

    return _optimize


@unflatten_optimizer
def sgd(grad: Callable[..., Any], x: Any, callback: Callable[..., Any] | None = None, num_iters: int = 200,
        step_size: float = 0.1, mass: float = 0.9) -> Any:
    """Stochastic gradient descent with momentum."""
    velocity = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


def _constant(step_size: Any) -> Callable[[Any], Any]:
    """A constant schedule that accepts a traced step size (differentiating with respect to it)."""
    return lambda count: step_size


def _run(transform: Any, grad: Callable[..., Any], x: Any, callback: Callable[..., Any] | None,
         num_iters: int) -> Any:
    """Iterate a :mod:`funcgrad.optimizers` transformation with autograd's loop and callback; its step
    count is the iteration number, as autograd's bias corrections use."""
    state = transform.init(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        updates, state = transform.update(g, (_np.asarray(i, _np.int64),) + tuple(state[1:]), x)
        x = _fo.apply_updates(x, updates)
    return x


@unflatten_optimizer
def rmsprop(grad: Callable[..., Any], x: Any, callback: Callable[..., Any] | None = None, num_iters: int = 100,
            step_size: float = 0.1, gamma: float = 0.9, eps: float = 10**-8) -> Any:
    """Root-mean-square propagation, autograd's form: the average of squared gradients starts at 1 and
    ``eps`` is added outside the square root (:func:`funcgrad.optimizers.rmsprop`)."""
    return _run(_fo.rmsprop(_constant(step_size), gamma, eps, eps_inside_sqrt=False, initial_scale=1.0), grad, x,
                callback, num_iters)


@unflatten_optimizer
def adam(grad: Callable[..., Any], x: Any, callback: Callable[..., Any] | None = None, num_iters: int = 100,
         step_size: float = 0.001, b1: float = 0.9, b2: float = 0.999, eps: float = 10**-8) -> Any:
    """Adam (Kingma and Ba, 2015): :func:`funcgrad.optimizers.adam`, bias-corrected by iteration number."""
    return _run(_fo.adam(_constant(step_size), b1, b2, eps), grad, x, callback, num_iters)
