"""Optimizers as pure functions over any pytree of parameters: SGD, momentum, Nesterov, AdaGrad,
RMSProp, Adam, AdamW, Adamax; learning-rate schedules; clipping by global norm.

>>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp, funcgrad.optimizers as optim
>>> loss = lambda p: fnp.sum((p["w"] - 3.0) ** 2)
>>> params = {"w": np.zeros(2)}
>>> opt = optim.adam(0.1)
>>> state = opt.init(params)
>>> @fg.jit
... def step(params, state):
...     updates, state = opt.update(fg.grad(loss)(params), state, params)
...     return optim.apply_updates(params, updates), state
>>> for _ in range(300):
...     params, state = step(params, state)
>>> np.round(params["w"], 3)
array([3., 3.])

**Why this API.** The core is an optax-style *gradient transformation*: a pair of pure
functions ``init(params) -> state`` and ``update(grads, state, params=None) -> (updates, state)``,
with ``apply_updates(params, updates)`` adding the updates. Chosen over JAX's
``example_libraries`` triple ``(init_fun, update_fun, get_params)`` because transformations
compose (``chain(clip_by_global_norm(1.0), adam(1e-3))``) and keep parameters out of the
optimizer state, so the training step decides what to do with them; and the triple is a thin
layer over it (:func:`as_triple`), which is how ``funcgrad.example_libraries.optimizers`` and
``funcgrad.compat.autograd.misc.optimizers`` are built. States are tuples of arrays (pytrees),
the step count an integer array, so ``jit`` compiles a step once and reuses it every iteration.

A learning rate is a number or a *schedule*, a function of the step count (0 at the first
update) written with ``funcgrad.numpy`` operations, so it stages under ``jit``. The update
formulas are JAX ``example_libraries``' (and so autograd's for ``sgd``/``adam``): each docstring
gives its formula; ``eps`` is added outside the square root unless said otherwise.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence, Union

import numpy as np

from . import numpy as fnp
from .tree_util import tree_flatten, tree_leaves, tree_map

__all__ = [
    "GradientTransformation", "apply_updates", "chain", "as_triple", "sgd", "momentum", "nesterov", "adagrad",
    "rmsprop", "adam", "adamw", "adamax", "clip_by_global_norm", "global_norm", "scale_by_schedule",
    "constant", "exponential_decay", "inverse_time_decay", "polynomial_decay", "piecewise_constant",
    "cosine_decay", "make_schedule",
]

Schedule = Callable[[Any], Any]
ScalarOrSchedule = Union[float, Schedule]


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state, params=None) -> (updates, state)``."""

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class ScheduleState(NamedTuple):
    """The step count of an optimizer: how many updates it has made."""

    count: Any


def apply_updates(params: Any, updates: Any) -> Any:
    """``params + updates``, leaf by leaf, keeping each parameter's dtype.

    >>> apply_updates({"a": np.ones(2)}, {"a": np.array([0.5, -1.0])})
    {'a': array([1.5, 0. ])}
    """
    return tree_map(lambda p, u: _like(p + u, p), params, updates)


def _like(x: Any, ref: Any) -> Any:
    dtype = getattr(ref, "dtype", None)
    if dtype is not None and x.dtype != dtype:
        return fnp.astype(x, dtype)
    return x


def _zeros(params: Any) -> Any:
    return tree_map(lambda p: fnp.zeros_like(p), params)


def _count0() -> Any:
    return np.zeros((), np.int64)


def make_schedule(learning_rate: ScalarOrSchedule) -> Schedule:
    """A schedule from a number (constant) or a schedule (returned unchanged)."""
    if callable(learning_rate):
        return learning_rate
    numeric = isinstance(learning_rate, (int, float, np.floating, np.integer)) or (
        isinstance(learning_rate, np.ndarray) and learning_rate.ndim == 0 and learning_rate.dtype.kind in "iuf")
    if not numeric or isinstance(learning_rate, bool):
        raise TypeError(f"a learning rate is a number or a schedule (a function of the step count), "
                        f"got {type(learning_rate).__name__}")
    return constant(float(learning_rate))


def _check_tree(fn: str, grads: Any, params_like: Any) -> None:
    g_def = tree_flatten(grads)[1]
    p_def = tree_flatten(params_like)[1]
    if g_def != p_def:
        from .errors import TreeMismatchError

        raise TreeMismatchError(f"{fn}: the gradients' tree {g_def} does not match the tree the optimizer was "
                                f"initialised with, {p_def}; pass grad(loss)(params) for the same params")


# --- composition -----------------------------------------------------------------------------------

def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` in order (the updates of one are the gradients of the next).

    >>> opt = chain(clip_by_global_norm(1.0), sgd(0.1))
    >>> updates, _ = opt.update({"w": np.array([3.0, 4.0])}, opt.init({"w": np.zeros(2)}))
    >>> updates["w"]
    array([-0.06, -0.08])
    """

    def init(params: Any) -> tuple:
        return tuple(t.init(params) for t in transforms)

    def update(grads: Any, state: tuple, params: Any = None) -> tuple[Any, tuple]:
        new_states = []
        for t, s in zip(transforms, state, strict=True):
            grads, s = t.update(grads, s, params)
            new_states.append(s)
        return grads, tuple(new_states)

    return GradientTransformation(init, update)


def as_triple(transform: GradientTransformation) -> tuple[Callable, Callable, Callable]:
    """JAX ``example_libraries``-style ``(init_fun, update_fun, get_params)`` from a
    transformation: the state is ``(params, transformation_state)``, ``update_fun(i, grads, state)``
    (the step number ``i`` is ignored: the transformation counts its own steps).

    >>> init_fun, update_fun, get_params = as_triple(sgd(0.5))
    >>> get_params(update_fun(0, np.array([2.0]), init_fun(np.array([1.0]))))
    array([0.])
    """

    def init_fun(params: Any) -> tuple:
        return params, transform.init(params)

    def update_fun(i: Any, grads: Any, state: tuple) -> tuple:
        params, inner = state
        updates, inner = transform.update(grads, inner, params)
        return apply_updates(params, updates), inner

    def get_params(state: tuple) -> Any:
        return state[0]

    return init_fun, update_fun, get_params


def _with_schedule(fn: str, learning_rate: ScalarOrSchedule, init_slots: Callable[[Any], tuple],
                   step: Callable[..., tuple]) -> GradientTransformation:
    """A transformation whose state is ``(count, *slots)``; ``step(lr, count, grads, *slots, params)``
    returns ``(updates, *new_slots)``."""
    schedule = make_schedule(learning_rate)

    def init(params: Any) -> tuple:
        return (_count0(),) + tuple(init_slots(params))

    def update(grads: Any, state: tuple, params: Any = None) -> tuple[Any, tuple]:
        count, *slots = state
        if slots:
            _check_tree(fn, grads, slots[0])
        lr = schedule(count)
        updates, *new_slots = step(lr, count, grads, *slots, params=params)
        updates = tree_map(_like, updates, grads)
        return updates, (count + 1,) + tuple(new_slots)

    return GradientTransformation(init, update)


# --- optimizers ----------------------------------------------------------------------------------

def sgd(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """Stochastic gradient descent: ``x ← x - lr·g``.

    >>> sgd(0.1).update(np.array([1.0, -2.0]), sgd(0.1).init(np.zeros(2)))[0]
    array([-0.1,  0.2])
    """
    return _with_schedule("sgd", learning_rate, lambda p: (),
                          lambda lr, count, g, params: (tree_map(lambda gi: -lr * gi, g),))


def momentum(learning_rate: ScalarOrSchedule, mass: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: ``v ← mass·v + g``, ``x ← x - lr·v``.

    >>> opt = momentum(0.1, 0.9)
    >>> u, s = opt.update(np.array([1.0]), opt.init(np.zeros(1)))
    >>> opt.update(np.array([1.0]), s)[0]
    array([-0.19])
    """

    def step(lr: Any, count: Any, g: Any, v: Any, params: Any) -> tuple:
        v = tree_map(lambda vi, gi: mass * vi + gi, v, g)
        return tree_map(lambda vi: -lr * vi, v), v

    return _with_schedule("momentum", learning_rate, lambda p: (_zeros(p),), step)


def nesterov(learning_rate: ScalarOrSchedule, mass: float = 0.9) -> GradientTransformation:
    """Nesterov momentum: ``v ← mass·v + g``, ``x ← x - lr·(mass·v + g)``.

    >>> opt = nesterov(0.1, 0.9)
    >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0]
    array([-0.19])
    """

    def step(lr: Any, count: Any, g: Any, v: Any, params: Any) -> tuple:
        v = tree_map(lambda vi, gi: mass * vi + gi, v, g)
        return tree_map(lambda vi, gi: -lr * (mass * vi + gi), v, g), v

    return _with_schedule("nesterov", learning_rate, lambda p: (_zeros(p),), step)


def adagrad(learning_rate: ScalarOrSchedule, momentum: float = 0.9) -> GradientTransformation:
    """AdaGrad (with momentum, as JAX's ``example_libraries``): ``s ← s + g²``,
    ``m ← (1 - momentum)·g/√s + momentum·m`` (0 where ``s = 0``), ``x ← x - lr·m``.

    >>> opt = adagrad(0.1, momentum=0.0)
    >>> opt.update(np.array([2.0, 0.0]), opt.init(np.zeros(2)))[0]
    array([-0.1, -0. ])
    """

    def step(lr: Any, count: Any, g: Any, sq: Any, m: Any, params: Any) -> tuple:
        sq = tree_map(lambda s, gi: s + gi * gi, sq, g)

        def scaled(gi: Any, s: Any) -> Any:
            positive = s > 0
            return gi * fnp.where(positive, 1.0 / fnp.sqrt(fnp.where(positive, s, 1.0)), 0.0)

        m = tree_map(lambda mi, gi, s: (1.0 - momentum) * scaled(gi, s) + momentum * mi, m, g, sq)
        return tree_map(lambda mi: -lr * mi, m), sq, m

    return _with_schedule("adagrad", learning_rate, lambda p: (_zeros(p), _zeros(p)), step)


def rmsprop(learning_rate: ScalarOrSchedule, gamma: float = 0.9, eps: float = 1e-8, *,
            eps_inside_sqrt: bool = True, initial_scale: float = 0.0) -> GradientTransformation:
    """RMSProp: ``a ← γ·a + (1 - γ)·g²``, ``x ← x - lr·g/√(a + eps)`` (JAX's form).

    ``eps_inside_sqrt=False`` gives ``g/(√a + eps)`` and ``initial_scale`` the initial ``a``
    (autograd's rmsprop uses ``False`` and ``1.0``).

    >>> opt = rmsprop(0.1, gamma=0.9, eps=0.0)
    >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
    array([-0.31622777])
    """

    def step(lr: Any, count: Any, g: Any, avg: Any, params: Any) -> tuple:
        avg = tree_map(lambda a, gi: gamma * a + (1.0 - gamma) * gi * gi, avg, g)
        if eps_inside_sqrt:
            upd = tree_map(lambda a, gi: -lr * gi / fnp.sqrt(a + eps), avg, g)
        else:
            upd = tree_map(lambda a, gi: -lr * gi / (fnp.sqrt(a) + eps), avg, g)
        return upd, avg

    def init_slots(p: Any) -> tuple:
        return (tree_map(lambda x: fnp.zeros_like(x) + initial_scale, p),)

    return _with_schedule("rmsprop", learning_rate, init_slots, step)


def _adam_moments(b1: float, b2: float, g: Any, m: Any, v: Any) -> tuple[Any, Any]:
    m = tree_map(lambda mi, gi: (1.0 - b1) * gi + b1 * mi, m, g)
    v = tree_map(lambda vi, gi: (1.0 - b2) * gi * gi + b2 * vi, v, g)
    return m, v


def _bias_corrections(count: Any, b1: float, b2: float) -> tuple[Any, Any]:
    t = fnp.astype(count + 1, np.float64)
    return 1.0 - fnp.power(b1, t), 1.0 - fnp.power(b2, t)


def adam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> (
        GradientTransformation):
    """Adam: ``m ← (1-b1)·g + b1·m``, ``v ← (1-b2)·g² + b2·v``,
    ``x ← x - lr·m̂/(√v̂ + eps)`` with ``m̂ = m/(1-b1ᵗ)``, ``v̂ = v/(1-b2ᵗ)``, t = 1, 2, …

    >>> opt = adam(0.1)
    >>> opt.update(np.array([2.0, -3.0]), opt.init(np.zeros(2)))[0]
    array([-0.1,  0.1])
    """

    def step(lr: Any, count: Any, g: Any, m: Any, v: Any, params: Any) -> tuple:
        m, v = _adam_moments(b1, b2, g, m, v)
        c1, c2 = _bias_corrections(count, b1, b2)
        upd = tree_map(lambda mi, vi: -lr * (mi / c1) / (fnp.sqrt(vi / c2) + eps), m, v)
        return upd, m, v

    return _with_schedule("adam", learning_rate, lambda p: (_zeros(p), _zeros(p)), step)


def adamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 1e-4) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov and Hutter): the Adam step plus
    ``-lr·weight_decay·x``. Needs ``params`` in ``update``.

    >>> opt = adamw(0.1, weight_decay=0.5)
    >>> p = np.array([1.0])
    >>> opt.update(np.array([2.0]), opt.init(p), p)[0]
    array([-0.15])
    """

    def step(lr: Any, count: Any, g: Any, m: Any, v: Any, params: Any) -> tuple:
        if params is None:
            raise TypeError("adamw.update needs the current parameters: call update(grads, state, params)")
        m, v = _adam_moments(b1, b2, g, m, v)
        c1, c2 = _bias_corrections(count, b1, b2)
        upd = tree_map(lambda mi, vi, p: -lr * ((mi / c1) / (fnp.sqrt(vi / c2) + eps) + weight_decay * p),
                       m, v, params)
        return upd, m, v

    return _with_schedule("adamw", learning_rate, lambda p: (_zeros(p), _zeros(p)), step)


def adamax(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> (
        GradientTransformation):
    """Adamax (Adam with the infinity norm): ``m ← (1-b1)·g + b1·m``, ``u ← max(b2·u, |g|)``,
    ``x ← x - lr/(1-b1ᵗ)·m/(u + eps)``.

    >>> opt = adamax(0.1, eps=0.0)
    >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
    array([-0.1])
    """

    def step(lr: Any, count: Any, g: Any, m: Any, u: Any, params: Any) -> tuple:
        m = tree_map(lambda mi, gi: (1.0 - b1) * gi + b1 * mi, m, g)
        u = tree_map(lambda ui, gi: fnp.maximum(b2 * ui, fnp.abs(gi)), u, g)
        c1 = 1.0 - fnp.power(b1, fnp.astype(count + 1, np.float64))
        return tree_map(lambda mi, ui: -(lr / c1) * mi / (ui + eps), m, u), m, u

    return _with_schedule("adamax", learning_rate, lambda p: (_zeros(p), _zeros(p)), step)


# --- clipping and scaling ------------------------------------------------------------------------

def global_norm(tree: Any) -> Any:
    """The 2-norm of all leaves together: ``√Σ‖leaf‖²``.

    >>> float(global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])}))
    5.0
    """
    leaves = tree_leaves(tree)
    total = 0.0
    for leaf in leaves:
        total = total + fnp.sum(fnp.real(leaf * fnp.conj(leaf)) if np.iscomplexobj(np.empty(0, leaf.dtype))
                                else leaf * leaf)
    return fnp.sqrt(total)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all gradients by ``max_norm/‖g‖`` when their global norm ``‖g‖`` exceeds ``max_norm``.

    >>> clip_by_global_norm(1.0).update([np.array([3.0]), np.array([4.0])], ())[0]
    [array([0.6]), array([0.8])]
    """

    def update(grads: Any, state: tuple, params: Any = None) -> tuple[Any, tuple]:
        norm = global_norm(grads)
        clipped = fnp.where(norm < max_norm, 1.0, max_norm / fnp.where(norm < max_norm, 1.0, norm))
        return tree_map(lambda g: _like(g * clipped, g), grads), state

    return GradientTransformation(lambda params: (), update)


def scale_by_schedule(schedule: Schedule) -> GradientTransformation:
    """Multiply the gradients by ``schedule(count)``."""
    def update(grads: Any, state: ScheduleState, params: Any = None) -> tuple[Any, ScheduleState]:
        factor = schedule(state.count)
        return tree_map(lambda g: _like(g * factor, g), grads), ScheduleState(state.count + 1)

    return GradientTransformation(lambda params: ScheduleState(_count0()), update)


# --- schedules -----------------------------------------------------------------------------------

def constant(step_size: float) -> Schedule:
    """``step_size`` at every step.

    >>> constant(0.1)(5)
    0.1
    """
    return lambda count: step_size


def exponential_decay(step_size: float, decay_steps: float, decay_rate: float) -> Schedule:
    """``step_size · decay_rate^(count/decay_steps)``.

    >>> float(exponential_decay(1.0, 10, 0.5)(np.array(20)))
    0.25
    """
    return lambda count: step_size * fnp.power(decay_rate, count / decay_steps)


def inverse_time_decay(step_size: float, decay_steps: float, decay_rate: float, staircase: bool = False) -> Schedule:
    """``step_size / (1 + decay_rate · count/decay_steps)`` (``floor`` of the ratio with ``staircase``).

    >>> float(inverse_time_decay(1.0, 10, 1.0)(np.array(10)))
    0.5
    """
    if staircase:
        return lambda count: step_size / (1 + decay_rate * fnp.floor(count / decay_steps))
    return lambda count: step_size / (1 + decay_rate * count / decay_steps)


def polynomial_decay(step_size: float, decay_steps: int, final_step_size: float, power: float = 1.0) -> Schedule:
    """From ``step_size`` to ``final_step_size`` over ``decay_steps`` steps along ``(1 - t)^power``.

    >>> float(polynomial_decay(1.0, 10, 0.0)(np.array(5)))
    0.5
    """

    def schedule(count: Any) -> Any:
        t = fnp.minimum(count, decay_steps) / decay_steps
        return (step_size - final_step_size) * (1 - t) ** power + final_step_size

    return schedule


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    """``values[k]`` for steps with ``k`` boundaries strictly below the step count.

    >>> s = piecewise_constant([10, 20], [1.0, 0.5, 0.1])
    >>> [float(s(np.array(i))) for i in (0, 10, 11, 21)]
    [1.0, 1.0, 0.5, 0.1]
    """
    boundaries_arr = np.asarray(boundaries)
    values_arr = np.asarray(values, np.float64)
    if values_arr.shape != (boundaries_arr.size + 1,):
        raise ValueError(f"piecewise_constant needs one more value than boundaries, got {boundaries_arr.size} "
                         f"boundaries and {values_arr.size} values")
    return lambda count: fnp.take(values_arr, fnp.sum(count > boundaries_arr))


def cosine_decay(step_size: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """``step_size · ((1 - alpha)·(1 + cos(π·min(count, decay_steps)/decay_steps))/2 + alpha)``.

    >>> float(cosine_decay(1.0, 10)(np.array(5)))
    0.5
    """
    if decay_steps <= 0:
        raise ValueError(f"cosine_decay needs decay_steps > 0, got {decay_steps}")

    def schedule(count: Any) -> Any:
        t = fnp.minimum(count, decay_steps) / decay_steps
        return step_size * ((1.0 - alpha) * 0.5 * (1.0 + fnp.cos(math.pi * t)) + alpha)

    return schedule

