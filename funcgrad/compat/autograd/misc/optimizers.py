"""autograd's stochastic optimizers with autograd's signature, over any pytree of parameters.

``adam(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8)``:
``grad(params, iteration)`` returns a gradient shaped like ``params``; ``callback(params,
iteration, gradient)`` is called before each step. The update formulas are autograd's, operation
for operation, so the iterates are the same numbers. They are written with funcgrad.numpy, so
an optimizer run can itself be differentiated (meta-optimisation).

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

from .... import numpy as np
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


@unflatten_optimizer
def rmsprop(grad: Callable[..., Any], x: Any, callback: Callable[..., Any] | None = None, num_iters: int = 100,
            step_size: float = 0.1, gamma: float = 0.9, eps: float = 10**-8) -> Any:
    """Root-mean-square propagation."""
    avg_sq_grad = np.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        avg_sq_grad = avg_sq_grad * gamma + g**2 * (1 - gamma)
        x = x - step_size * g / (np.sqrt(avg_sq_grad) + eps)
    return x


@unflatten_optimizer
def adam(grad: Callable[..., Any], x: Any, callback: Callable[..., Any] | None = None, num_iters: int = 100,
         step_size: float = 0.001, b1: float = 0.9, b2: float = 0.999, eps: float = 10**-8) -> Any:
    """Adam (Kingma and Ba, 2015): RMSprop with momentum and bias correction."""
    m = np.zeros(len(x))
    v = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g**2) + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (np.sqrt(vhat) + eps)
    return x
