"""``funcgrad.scipy.integrate``: a differentiable ``odeint``.

``odeint(func, y0, t, *args)`` solves ``dy/dt = func(y, t, *args)`` with SciPy's LSODA
(``scipy.integrate.odeint``) and returns ``y`` at the times ``t``. It is differentiable with
respect to ``y0``, ``t`` and ``args``:

* reverse mode (``grad``, ``vjp``) uses the **adjoint method**: an augmented ODE integrated
  backwards in time with the same solver and tolerances, whose vector-Jacobian products of
  ``func`` come from ``funcgrad.vjp`` — memory does not grow with the number of solver steps;
* forward mode (``jvp``, ``jacfwd``) integrates the **forward sensitivity** equations, with the
  Jacobian-vector products of ``func`` from ``funcgrad.jvp``;
* ``vmap`` solves each example separately (equal to a Python loop of ``odeint``), and ``jit``
  stages the solve as one operation.

The derivatives are those of the exact solution, obtained by another numerical solve: they match
finite differences of the solver's output to about the solver's tolerance (``rtol``, ``atol``),
not to machine precision; tighten the tolerances when derivatives must be accurate. Higher
derivatives work too (they solve larger augmented systems) with the same caveat.

This module imports SciPy when a value is first computed; ``import funcgrad`` does not import it.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..core import Tracer
from ..prims import shape as sh
from ..tree_util import tree_flatten, tree_unflatten
from . import _integrate_prims as P
from ._integrate_prims import OdeintError

__all__ = ["odeint", "OdeintError"]


def _array(x: Any) -> Any:
    return x if isinstance(x, (np.ndarray, Tracer)) else np.asarray(x)


class _Flat:
    """``func`` on flat vectors: ``(y_flat, t, p_flat) -> dy_flat`` (pytrees unpacked and packed)."""

    __slots__ = ("func", "y_tree", "y_shapes", "a_tree", "a_shapes")

    def __init__(self, func: Callable[..., Any], y_tree: Any, y_shapes: list, a_tree: Any, a_shapes: list) -> None:
        self.func, self.y_tree, self.y_shapes, self.a_tree, self.a_shapes = func, y_tree, y_shapes, a_tree, a_shapes

    @staticmethod
    def _split(v: Any, shapes: list) -> list:
        if len(shapes) == 1 and len(shapes[0]) == 1 and shapes[0][0] == v.shape[0]:
            return [v]
        out, start = [], 0
        for shape in shapes:
            size = math.prod(shape)
            out.append(sh.reshape(sh.slice_axis(v, 0, start, start + size), shape=tuple(shape)))
            start += size
        return out

    def __call__(self, y: Any, t: Any, p: Any) -> Any:
        state = tree_unflatten(self.y_tree, self._split(y, self.y_shapes))
        args = tree_unflatten(self.a_tree, self._split(p, self.a_shapes))
        out = self.func(state, t, *args)
        leaves, tree = tree_flatten(out)
        if tree != self.y_tree:
            raise TypeError(f"odeint: func must return a value with the structure of y0 ({self.y_tree}); it "
                            f"returned {tree}")
        flat = []
        for leaf, shape in zip(leaves, self.y_shapes):
            leaf = _array(leaf)
            if isinstance(leaf, Tracer) and not isinstance(y, Tracer) and not isinstance(p, Tracer):
                return leaf  # the solver reports the closure with a clear error
            if tuple(leaf.shape) != tuple(shape):
                raise ValueError(f"odeint: func returned an array of shape {tuple(leaf.shape)} for a state of shape "
                                 f"{tuple(shape)}; dy/dt must have the state's shape")
            flat.append(sh.reshape(leaf, shape=(math.prod(shape),)) if len(shape) != 1 else leaf)
        return flat[0] if len(flat) == 1 else sh.concatenate(*flat, axis=0)

    def __repr__(self) -> str:
        return f"odeint_rhs({getattr(self.func, '__qualname__', self.func)!r})"


def odeint(func: Callable[..., Any], y0: Any, t: Any, *args: Any, rtol: float = 1.49012e-8,
           atol: float = 1.49012e-8, mxstep: int = 0, hmax: float = 0.0) -> Any:
    """Solve ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``; return ``y`` at every time in ``t``.

    Differentiable with respect to ``y0``, ``t`` and ``args`` (adjoint method in reverse mode,
    forward sensitivities in forward mode). ``y0`` and ``args`` may be pytrees of real arrays;
    ``func`` returns a pytree shaped like ``y0``. The result has ``y0``'s structure, each leaf with
    a leading axis of length ``len(t)`` (``y0``'s float dtype; integer states become float64).

    Values differentiated or batched must reach ``func`` through ``args``, not through a closure
    (a clear error says so). ``args`` leaves are converted to the common floating dtype.
    ``rtol``, ``atol``, ``mxstep`` (0: SciPy's default of 500 steps per output interval) and
    ``hmax`` (0: unbounded) are passed to ``scipy.integrate.odeint``, also for the derivative
    solves. The signature follows ``jax.experimental.ode.odeint``; note that SciPy's own ``odeint``
    takes ``args=(...)`` as a tuple instead.

    >>> import numpy as np
    >>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), np.array([0.0, 1.0]), 2.0, rtol=1e-10, atol=1e-10)
    >>> bool(np.allclose(ys[:, 0], np.exp([0.0, -2.0])))
    True
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable as func(y, t, *args), got {type(func).__name__}")
    y_leaves, y_tree = tree_flatten(y0)
    a_leaves, a_tree = tree_flatten(args)
    y_leaves = [_array(v) for v in y_leaves]
    a_leaves = [_array(v) for v in a_leaves]
    if not y_leaves or sum(math.prod(v.shape) for v in y_leaves) == 0:
        raise ValueError("odeint: y0 must hold at least one number")
    for what, leaves in (("y0", y_leaves), ("args", a_leaves)):
        for v in leaves:
            if v.dtype.kind not in "biuf":
                raise TypeError(f"odeint integrates real systems (SciPy's LSODA); {what} has a leaf of dtype "
                                f"{v.dtype}. Split a complex state into real and imaginary parts.")
    t = _array(t)
    if t.ndim != 1:
        raise ValueError(f"odeint: t must be a 1-d array of times, got shape {tuple(t.shape)}")
    if t.dtype.kind != "f":
        t = t.astype(np.float64) if not isinstance(t, Tracer) else sh.astype(t, dtype=np.dtype(np.float64))
    dtype = np.result_type(*[v.dtype for v in y_leaves + a_leaves])
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    pieces = []
    for v in y_leaves + a_leaves:
        if v.dtype != dtype:
            v = sh.astype(v, dtype=dtype) if isinstance(v, Tracer) else v.astype(dtype)
        pieces.append(sh.reshape(v, shape=(math.prod(v.shape),)) if v.ndim != 1 else v)
    z = pieces[0] if len(pieces) == 1 else sh.concatenate(*pieces, axis=0)
    y_shapes = [tuple(v.shape) for v in y_leaves]
    a_shapes = [tuple(v.shape) for v in a_leaves]
    n = sum(math.prod(s) for s in y_shapes)
    flat = _Flat(func, y_tree, y_shapes, a_tree, a_shapes)
    out = P.odeint(z, t, func=flat, n=n, rtol=float(rtol), atol=float(atol), mxstep=int(mxstep),
                   hmax=float(hmax))
    steps = out.shape[0]
    results, start = [], 0
    for v, shape in zip(y_leaves, y_shapes):
        size = math.prod(shape)
        r = out if len(y_shapes) == 1 else sh.slice_axis(out, 1, start, start + size)
        if tuple(r.shape) != (steps,) + shape:
            r = sh.reshape(r, shape=(steps,) + shape)
        if v.dtype.kind == "f" and v.dtype != r.dtype:
            r = sh.astype(r, dtype=v.dtype)
        results.append(r)
        start += size
    return tree_unflatten(y_tree, results)

