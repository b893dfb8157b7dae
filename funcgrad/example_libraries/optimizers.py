"""``funcgrad.example_libraries.optimizers``: JAX's example optimizers.

Each optimizer maker (``sgd(step_size)``, ``adam(step_size, b1, b2, eps)``, …) returns a triple
``(init_fun, update_fun, get_params)``: ``opt_state = init_fun(params)``,
``opt_state = update_fun(step, grads, opt_state)``, ``params = get_params(opt_state)``, over any
pytree of parameters. ``OptimizerState`` is a pytree (it passes through ``jit``), and
``unpack_optimizer_state``/``pack_optimizer_state`` convert it to and from a plain pytree (for
saving). ``step_size`` is a number or a schedule ``i -> step size``. The update formulas are
JAX's, operation for operation.

>>> import numpy as np, funcgrad as fg
>>> opt_init, opt_update, get_params = adam(0.1)
>>> state = opt_init({"w": np.zeros(2)})
>>> for i in range(200):
...     g = fg.grad(lambda p: ((p["w"] - 1.0) ** 2).sum())(get_params(state))
...     state = opt_update(i, g, state)
>>> np.round(get_params(state)["w"], 2)
array([1., 1.])
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import numpy as np

from .. import numpy as fnp
from .. import optimizers as _fo
from ..core import Tracer
from ..tree_util import register_pytree_node, tree_flatten, tree_unflatten

__all__ = [
    "OptimizerState", "Optimizer", "optimizer", "sgd", "momentum", "nesterov", "adagrad", "rmsprop",
    "rmsprop_momentum", "adam", "adamax", "sm3", "constant", "exponential_decay", "inverse_time_decay",
    "polynomial_decay", "piecewise_constant", "make_schedule", "l2_norm", "clip_grads", "JoinPoint",
    "unpack_optimizer_state", "pack_optimizer_state", "Array", "Params", "State", "Updates", "Step", "InitFn",
    "UpdateFn", "ParamsFn", "Schedule",
]

Schedule = Callable[[int], float]
# JAX's type aliases, for annotations in moved code
Array = Any
Params = Any  # a pytree of arrays
State = Any  # one parameter's optimizer state
Updates = Params
Step = int


class OptimizerState(NamedTuple):
    """The state of a pytree optimizer: per-leaf states (flattened), the parameters' tree
    structure and each leaf state's structure. Its children (for pytrees) are ``packed_state``."""

    packed_state: Any
    tree_def: Any
    subtree_defs: Any


register_pytree_node(
    OptimizerState,
    lambda s: ((s.packed_state,), (s.tree_def, tuple(s.subtree_defs))),
    lambda aux, children: OptimizerState(children[0], aux[0], aux[1]),
)


InitFn = Callable[[Params], OptimizerState]
UpdateFn = Callable[[Step, Updates, OptimizerState], OptimizerState]
ParamsFn = Callable[[OptimizerState], Params]


class Optimizer(NamedTuple):
    init_fn: Callable[[Any], OptimizerState]
    update_fn: Callable[[int, Any, OptimizerState], OptimizerState]
    params_fn: Callable[[OptimizerState], Any]


def optimizer(opt_maker: Callable[..., tuple]) -> Callable[..., Optimizer]:
    """Turn a maker of per-array ``(init, update, get_params)`` into one over pytrees."""

    @functools.wraps(opt_maker)
    def tree_opt_maker(*args: Any, **kwargs: Any) -> Optimizer:
        init, update, get_params = opt_maker(*args, **kwargs)

        @functools.wraps(init)
        def tree_init(x0_tree: Any) -> OptimizerState:
            x0_flat, tree = tree_flatten(x0_tree)
            flat_and_defs = [tree_flatten(init(x0)) for x0 in x0_flat]
            return OptimizerState([f for f, _ in flat_and_defs], tree, tuple(d for _, d in flat_and_defs))

        @functools.wraps(update)
        def tree_update(i: int, grad_tree: Any, opt_state: OptimizerState) -> OptimizerState:
            states_flat, tree, subtrees = opt_state
            grad_flat, tree2 = tree_flatten(grad_tree)
            if tree2 != tree:
                raise TypeError(
                    "optimizer update function was passed a gradient tree that did not match the parameter "
                    f"tree structure with which it was initialized: parameter tree {tree} and grad tree {tree2}.")
            states = [tree_unflatten(s, f) for s, f in zip(subtrees, states_flat)]
            new = [tree_flatten(update(i, g, s)) for g, s in zip(grad_flat, states)]
            for subtree, (_, subtree2) in zip(subtrees, new):
                if subtree2 != subtree:
                    raise TypeError(
                        "optimizer update function produced an output structure that did not match its input "
                        f"structure: input {subtree} and output {subtree2}.")
            return OptimizerState([f for f, _ in new], tree, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state: OptimizerState) -> Any:
            states_flat, tree, subtrees = opt_state
            states = [tree_unflatten(s, f) for s, f in zip(subtrees, states_flat)]
            return tree_unflatten(tree, [get_params(s) for s in states])

        return Optimizer(tree_init, tree_update, tree_get_params)

    return tree_opt_maker


# --- schedules (funcgrad.optimizers' schedules: the same formulas) ---------------------------------

constant = _fo.constant
exponential_decay = _fo.exponential_decay
inverse_time_decay = _fo.inverse_time_decay
polynomial_decay = _fo.polynomial_decay
piecewise_constant = _fo.piecewise_constant


def make_schedule(scalar_or_schedule: float | Schedule) -> Schedule:
    """A schedule from a schedule or a number (a constant schedule)."""
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if np.ndim(scalar_or_schedule) == 0:
        return constant(scalar_or_schedule)  # type: ignore[arg-type]
    raise TypeError(f"step size must be a number or a schedule (a callable), got {type(scalar_or_schedule)}.")


# --- optimizers ----------------------------------------------------------------------------------

def _per_leaf(transform: _fo.GradientTransformation) -> tuple:
    """One parameter's ``(init, update, get_params)`` from a :mod:`funcgrad.optimizers` transformation.

    The state is JAX's: ``x`` alone for a transformation without slots (``sgd``), else ``(x, *slots)``
    (``(x, m, v)`` for ``adam``). The transformation's step count is not stored: it is the step number
    ``i`` the caller passes, so schedules and bias corrections see JAX's ``i``.
    """
    has_slots = len(transform.init(np.zeros(0))) > 1

    def init(x0: Any) -> Any:
        return (x0,) + tuple(transform.init(x0)[1:]) if has_slots else x0

    def update(i: Any, g: Any, state: Any) -> Any:
        x, slots = (state[0], tuple(state[1:])) if has_slots else (state, ())
        count = i if isinstance(i, Tracer) else np.asarray(i, np.int64)
        updates, inner = transform.update(g, (count,) + slots, x)
        x = _fo.apply_updates(x, updates)
        return (x,) + tuple(inner[1:]) if has_slots else x

    return init, update, lambda state: state[0] if has_slots else state


@optimizer
def sgd(step_size: float | Schedule) -> tuple:
    """Stochastic gradient descent: ``x - step_size(i) * g``.

    >>> import numpy as np
    >>> opt_init, opt_update, get_params = sgd(0.5)
    >>> get_params(opt_update(0, {"w": np.array([2.0])}, opt_init({"w": np.array([1.0])})))
    {'w': array([0.])}
    """
    return _per_leaf(_fo.sgd(make_schedule(step_size)))


@optimizer
def momentum(step_size: float | Schedule, mass: float) -> tuple:
    """Gradient descent with momentum ``mass``: ``v = mass * v + g``, ``x - step_size(i) * v``."""
    return _per_leaf(_fo.momentum(make_schedule(step_size), mass))


@optimizer
def nesterov(step_size: float | Schedule, mass: float) -> tuple:
    """Nesterov's accelerated gradient: ``v = mass * v + g``, ``x - step_size(i) * (mass * v + g)``."""
    return _per_leaf(_fo.nesterov(make_schedule(step_size), mass))


@optimizer
def adagrad(step_size: float | Schedule, momentum: float = 0.9) -> tuple:
    """Adagrad (Duchi et al., 2011) with momentum."""
    return _per_leaf(_fo.adagrad(make_schedule(step_size), momentum))


@optimizer
def rmsprop(step_size: float | Schedule, gamma: float = 0.9, eps: float = 1e-8) -> tuple:
    """RMSProp (Tieleman and Hinton, 2012): ``x - step_size(i) * g / sqrt(avg_sq_grad + eps)``."""
    return _per_leaf(_fo.rmsprop(make_schedule(step_size), gamma, eps))


@optimizer
def adam(step_size: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> tuple:
    """Adam (Kingma and Ba, 2015)."""
    return _per_leaf(_fo.adam(make_schedule(step_size), b1, b2, eps))


@optimizer
def adamax(step_size: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> tuple:
    """AdaMax, Adam's infinity-norm variant."""
    return _per_leaf(_fo.adamax(make_schedule(step_size), b1, b2, eps))


# rmsprop_momentum and sm3 have no counterpart in funcgrad.optimizers: their per-array rules are here.

@optimizer
def rmsprop_momentum(step_size: float | Schedule, gamma: float = 0.9, eps: float = 1e-8,
                     momentum: float = 0.9) -> tuple:
    """RMSProp with momentum."""
    step_size = make_schedule(step_size)

    def init(x0: Any) -> tuple:
        return x0, fnp.zeros_like(x0), fnp.zeros_like(x0)

    def update(i: int, g: Any, state: tuple) -> tuple:
        x, avg_sq_grad, mom = state
        avg_sq_grad = avg_sq_grad * gamma + fnp.square(g) * (1.0 - gamma)
        mom = momentum * mom + step_size(i) * g / fnp.sqrt(avg_sq_grad + eps)
        return x - mom, avg_sq_grad, mom

    return init, update, lambda state: state[0]


class _StaticShape(tuple):
    """A shape kept in an optimizer state as static structure (not as traced leaves), so
    ``get_params`` can reshape under ``jit``."""


register_pytree_node(_StaticShape, lambda s: ((), tuple(s)), lambda aux, _: _StaticShape(aux))


@optimizer
def sm3(step_size: float | Schedule, momentum: float = 0.9) -> tuple:
    """SM3 (Anil et al., 2019): memory-efficient adaptive steps from per-axis accumulators."""
    step_size = make_schedule(step_size)

    def splice(seq: Any, i: int, x: Any) -> list:
        lst = list(seq)
        lst[i:i + 1] = x
        return lst

    def broadcast_into(ndim: int, x: Any, axis: int) -> Any:
        idx = splice([None] * ndim, axis, [slice(None)])
        return x[tuple(idx)]

    def init(x0: Any) -> tuple:
        x_shape = _StaticShape(np.shape(x0))
        x0 = fnp.atleast_1d(x0)
        vs = [fnp.zeros(sz, dtype=x0.dtype) for sz in x0.shape]
        return x0, fnp.zeros_like(x0), vs, x_shape

    def update(i: int, g: Any, state: tuple) -> tuple:
        x, m, vs, x_shape = state
        g = fnp.reshape(g, x.shape)
        vs = [broadcast_into(g.ndim, v, k) for k, v in enumerate(vs)]
        accum = functools.reduce(fnp.minimum, vs) + fnp.square(g)
        accum_inv_sqrt = fnp.where(accum > 0, 1.0 / fnp.sqrt(fnp.where(accum > 0, accum, 1.0)), 0)
        m = (1.0 - momentum) * (g * accum_inv_sqrt) + momentum * m
        x = x - step_size(i) * m
        vs = [fnp.max(accum, axis=tuple(splice(range(x.ndim), j, []))) for j in range(x.ndim)]
        return x, m, vs, x_shape

    def get_params(state: tuple) -> Any:
        x, _, _, x_shape = state
        return fnp.reshape(x, x_shape)

    return init, update, get_params


# --- utilities ---------------------------------------------------------------------------------

def l2_norm(tree: Any) -> Any:
    """The l2 norm of all the leaves of ``tree`` together (:func:`funcgrad.optimizers.global_norm`)."""
    return _fo.global_norm(tree)


def clip_grads(grad_tree: Any, max_norm: float) -> Any:
    """``grad_tree`` rescaled so that its :func:`l2_norm` is at most ``max_norm``
    (:func:`funcgrad.optimizers.clip_by_global_norm`)."""
    return _fo.clip_by_global_norm(max_norm).update(grad_tree, ())[0]


class JoinPoint:
    """Marks where one parameter's optimizer state sits in an unpacked state (a pytree leaf)."""

    def __init__(self, subtree: Any) -> None:
        self.subtree = subtree

    def __iter__(self) -> Any:  # so that an unpacked state pickles as nested tuples, as in JAX
        yield self.subtree

    def __repr__(self) -> str:
        return f"JoinPoint({self.subtree!r})"


def unpack_optimizer_state(opt_state: OptimizerState) -> Any:
    """``opt_state`` as a pytree of the parameters' structure whose leaves are :class:`JoinPoint`s
    holding each parameter's state (picklable, for checkpoints)."""
    states_flat, tree_def, subtree_defs = opt_state
    subtrees = [tree_unflatten(d, f) for d, f in zip(subtree_defs, states_flat)]
    return tree_unflatten(tree_def, [JoinPoint(s) for s in subtrees])


def pack_optimizer_state(marked_pytree: Any) -> OptimizerState:
    """The inverse of :func:`unpack_optimizer_state`."""
    sentinels, tree_def = tree_flatten(marked_pytree)
    if not all(isinstance(s, JoinPoint) for s in sentinels):
        raise TypeError("pack_optimizer_state expects the pytree returned by unpack_optimizer_state "
                        "(its leaves are JoinPoint objects).")
    flat_and_defs = [tree_flatten(s.subtree) for s in sentinels]
    return OptimizerState([f for f, _ in flat_and_defs], tree_def, tuple(d for _, d in flat_and_defs))
