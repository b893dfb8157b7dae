"""The primitive of :mod:`funcgrad.scipy.integrate`: ``odeint``, an ODE solve by SciPy's LSODA.

``odeint(z, t, func=f, n=n, rtol=, atol=, mxstep=, hmax=)`` integrates ``dy/dt = f(y, t, p)`` with
``y(t[0]) = z[:n]`` and parameters ``p = z[n:]``, and returns the solution at the times ``t``,
shape ``(len(t), n)``. ``f`` maps flat vectors to a flat vector; the public wrapper
(:func:`funcgrad.scipy.integrate.odeint`) flattens pytrees of states and arguments into ``z``.
Putting the initial state and the parameters in one operand lets one adjoint solve give both of
their cotangents.

Rules (all written with funcgrad operations and this primitive, so they differentiate, stage and
batch again):

* vjp in ``z`` — the adjoint method: from ``t[-1]`` back to ``t[0]``, one interval at a time,
  the augmented system ``d/dt [y, a, a_p] = [f, -a^T ∂f/∂y, -a^T ∂f/∂p]`` is integrated backwards
  (with this primitive, i.e. the same solver and tolerances), restarting ``y`` from the stored
  forward solution and adding the cotangent ``ct[i]`` to ``a`` at each ``t[i]``. The products
  ``a^T ∂f/∂y`` and ``a^T ∂f/∂p`` are computed with ``funcgrad.vjp`` of ``f``.
* vjp in ``t``: ``t̄[i] = ct[i] · f(y_i, t_i)`` for ``i >= 1`` and
  ``t̄[0] = -(ȳ0 - ct[0]) · f(y_0, t_0)`` (``ȳ0`` from the same adjoint solve without ``a_p``).
* jvp in ``z`` — forward sensitivities: ``d/dt [y, ẏ] = [f, ∂f/∂y ẏ + ∂f/∂p ṗ]`` (with
  ``funcgrad.jvp`` of ``f``), integrated forwards from ``[y0, ẏ0]``.
* jvp in ``t``: ``ẏ_i = f(y_i, t_i) ṫ_i - Φ(t_i, t_0) f(y_0, t_0) ṫ_0``, the second term by the
  same sensitivity system started from ``-f(y_0, t_0) ṫ_0``.
* batching: one solve per example (SciPy's LSODA integrates one system per call), so each example
  gets its own adaptive steps and ``vmap(odeint)`` equals a loop of ``odeint`` exactly.

Derivatives are those of the exact solution, computed by another numerical solve: they agree
with finite differences of the solver's output to about the solver's tolerance, not to machine
precision. ``f`` must not close over values being differentiated or batched: those must reach it
through ``p`` (the wrapper's ``*args``); the solver calls it on plain arrays and raises a clear
error if it returns a traced value.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core import Primitive, Tracer
from ..ir.program import ShapedArray
from ..prims.indexing import getitem_static
from ..prims.reductions import reduce_sum
from ..prims.shape import astype, concatenate, reshape, slice_axis
from ._lazy import scipy_module

__all__ = ["odeint", "OdeintError"]

def scipy_integrate() -> Any:
    """``scipy.integrate``, imported on first use."""
    return scipy_module("integrate")


class OdeintError(RuntimeError):
    """SciPy's solver did not complete the integration (its message is included)."""


def _closure_error(func: Any) -> TypeError:
    name = getattr(func, "__name__", None) or type(func).__name__
    return TypeError(
        f"odeint: the dynamics function {name} returned a traced value when called on plain arrays: it "
        "closes over a value that is being differentiated, batched (vmap) or staged (jit). Such values "
        "must be passed to odeint as extra arguments, odeint(func, y0, t, theta) with func(y, t, theta), "
        "so that their derivatives are computed (a closed-over value would silently get none)."
    )


_SUCCESS = ("Integration successful", "Nothing was done")


def _impl(z: Any, t: Any, *, func: Any, n: int, rtol: float, atol: float, mxstep: int, hmax: float) -> np.ndarray:
    z = np.asarray(z)
    dtype = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
    t = np.asarray(t, np.float64)
    if t.shape[0] == 0:
        return np.empty((0, n), dtype)
    zf = z.astype(np.float64)
    y0, p = zf[:n], zf[n:]

    def rhs(y: np.ndarray, tt: float) -> np.ndarray:
        dy = func(y, np.float64(tt), p)
        if isinstance(dy, Tracer):
            raise _closure_error(getattr(func, "func", func))
        return np.asarray(dy, np.float64)

    si = scipy_integrate()
    with warnings.catch_warnings():  # a failure raises OdeintError below, with SciPy's message
        warnings.simplefilter("ignore", si.ODEintWarning)
        ys, info = si.odeint(rhs, y0, t, rtol=rtol, atol=atol, mxstep=mxstep, hmax=hmax, full_output=True)
    message = str(info.get("message", ""))
    if not message.startswith(_SUCCESS):
        raise OdeintError(
            f"odeint: SciPy's LSODA solver failed: {message} Try a larger mxstep (the maximum number of "
            "steps per output interval; SciPy's default is 500), looser rtol/atol, more output times, or "
            "check the dynamics for a singularity or blow-up."
        )
    return ys.astype(dtype, copy=False)


def _abstract(z: Any, t: Any, *, func: Any, n: int, rtol: float, atol: float, mxstep: int,
              hmax: float) -> ShapedArray:
    z, t = getattr(z, "value", z), getattr(t, "value", t)
    sz, st = tuple(np.shape(z) if not hasattr(z, "shape") else z.shape), tuple(
        np.shape(t) if not hasattr(t, "shape") else t.shape)
    if len(sz) != 1 or len(st) != 1 or sz[0] < n:
        raise ValueError(f"odeint: expected a flat state-and-parameter vector of at least {n} entries and a 1-d "
                         f"time grid, got shapes {sz} and {st}")
    dz = np.dtype(z.dtype) if hasattr(z, "dtype") else np.asarray(z).dtype
    return ShapedArray((st[0], n), dz if dz.kind == "f" else np.dtype(np.float64))


# --- the augmented systems (called by the solver on plain float64 arrays; also traced when the
# --- rules of an odeint of them are differentiated) ------------------------------------------


class _Sensitivity:
    """Forward sensitivities: state ``[y, ẏ]``, parameters ``[p, ṗ]`` (or ``p`` alone)."""

    __slots__ = ("func", "n", "m", "with_dp")

    def __init__(self, func: Any, n: int, m: int, with_dp: bool) -> None:
        self.func, self.n, self.m, self.with_dp = func, n, m, with_dp

    def __call__(self, s: Any, t: Any, q: Any) -> Any:
        from ..api import jvp

        n, m, f = self.n, self.m, self.func
        y, dy = _part(s, 0, n), _part(s, n, 2 * n)
        p = _part(q, 0, m)
        if self.with_dp:
            out, tangent = jvp(lambda y_, p_: f(y_, t, p_), (y, p), (dy, _part(q, m, 2 * m)))
        else:
            out, tangent = jvp(lambda y_: f(y_, t, p), (y,), (dy,))
        return concatenate(out, astype(tangent, dtype=out.dtype) if tangent.dtype != out.dtype else tangent, axis=0)

    def __repr__(self) -> str:
        return f"odeint_sensitivity({self.func!r})"


class _Adjoint:
    """The backward adjoint system: state ``[y, a, a_p]`` (or ``[y, a]``), parameters ``p``."""

    __slots__ = ("func", "n", "m", "with_ap")

    def __init__(self, func: Any, n: int, m: int, with_ap: bool) -> None:
        self.func, self.n, self.m, self.with_ap = func, n, m, with_ap

    def __call__(self, s: Any, t: Any, p: Any) -> Any:
        from ..api import vjp

        n, f = self.n, self.func
        y, a = _part(s, 0, n), _part(s, n, 2 * n)
        if self.with_ap:
            out, pullback = vjp(lambda y_, p_: f(y_, t, p_), y, p)
        else:
            out, pullback = vjp(lambda y_: f(y_, t, p), y)
        cts = pullback(a if a.dtype == out.dtype else astype(a, dtype=out.dtype))
        parts = [out] + [-c for c in cts]
        return concatenate(*[c if c.dtype == out.dtype else astype(c, dtype=out.dtype) for c in parts], axis=0)

    def __repr__(self) -> str:
        return f"odeint_adjoint({self.func!r})"


# --- helpers -----------------------------------------------------------------------------------


def _part(v: Any, start: int, stop: int) -> Any:
    if start == 0 and stop == v.shape[0]:
        return v
    return slice_axis(v, 0, start, stop)


def _row(x: Any, i: int) -> Any:
    return getitem_static(x, (i,))


def _stack(rows: list) -> Any:
    rows = [reshape(r, shape=(1,) + tuple(r.shape)) for r in rows]
    return rows[0] if len(rows) == 1 else concatenate(*rows, axis=0)


def _interval(t: Any, i: int) -> Any:
    """``[t[i], t[i - 1]]``: one interval, backwards."""
    return getitem_static(t, (slice(i, i - 2 if i >= 2 else None, -1),))


def _dot(a: Any, b: Any) -> Any:
    return reduce_sum(a * b, axis=None, keepdims=False)


def _dynamics(func: Any, out: Any, t: Any, p: Any, i: int) -> Any:
    return func(_row(out, i), _row(t, i), p)


# --- rules -------------------------------------------------------------------------------------


def _jvp_z(tz: Any, out: Any, z: Any, t: Any, *, func: Any, n: int, **opts: Any) -> Any:
    m = z.shape[0] - n
    s0 = concatenate(_part(z, 0, n), _part(tz, 0, n), _part(z, n, n + m), _part(tz, n, n + m), axis=0)
    s = odeint(s0, t, func=_Sensitivity(func, n, m, True), n=2 * n, **opts)
    return slice_axis(s, 1, n, 2 * n)


def _jvp_t(tt: Any, out: Any, z: Any, t: Any, *, func: Any, n: int, **opts: Any) -> Any:
    T, m = t.shape[0], z.shape[0] - n
    if T == 0:
        return np.zeros(out.shape, out.dtype)
    p = _part(z, n, n + m)
    F = _stack([_dynamics(func, out, t, p, i) for i in range(T)])  # (T, n)
    direct = F * reshape(tt, shape=(T, 1))
    start = -(_row(F, 0) * _row(tt, 0))
    s0 = concatenate(_part(z, 0, n), astype(start, dtype=z.dtype) if start.dtype != z.dtype else start, p, axis=0)
    s = odeint(s0, t, func=_Sensitivity(func, n, m, False), n=2 * n, **opts)
    return direct + slice_axis(s, 1, n, 2 * n)


def _adjoint_sweep(ct: Any, out: Any, z: Any, t: Any, func: Any, n: int, with_ap: bool, opts: dict) -> tuple:
    """Integrate the adjoint backwards from t[-1] to t[0]; return ``(sum_{i>=1} J_i^T ct_i, p̄)``."""
    T, m = t.shape[0], z.shape[0] - n
    p = _part(z, n, n + m)
    a = _row(ct, T - 1)
    ap = np.zeros((m,), z.dtype)
    adjoint = _Adjoint(func, n, m, with_ap)
    for i in range(T - 1, 0, -1):
        pieces = [_row(out, i), a] + ([ap] if with_ap else []) + [p]
        size = 2 * n + (m if with_ap else 0)
        s = odeint(concatenate(*pieces, axis=0), _interval(t, i), func=adjoint, n=size, **opts)
        end = _row(s, 1)
        a = _part(end, n, 2 * n)
        if i > 1:
            a = a + _row(ct, i - 1)
        if with_ap:
            ap = _part(end, 2 * n, 2 * n + m)
    return a, ap


def _vjp_z(ct: Any, out: Any, z: Any, t: Any, *, func: Any, n: int, **opts: Any) -> Any:
    T, m = t.shape[0], z.shape[0] - n
    if T == 0:
        return np.zeros(z.shape, z.dtype)
    if T == 1:
        return concatenate(_row(ct, 0), np.zeros((m,), z.dtype), axis=0)
    a, ap = _adjoint_sweep(ct, out, z, t, func, n, True, opts)
    return concatenate(a + _row(ct, 0), ap, axis=0)


def _vjp_t(ct: Any, out: Any, z: Any, t: Any, *, func: Any, n: int, **opts: Any) -> Any:
    T, m = t.shape[0], z.shape[0] - n
    if T <= 1:
        return np.zeros(t.shape, t.dtype)
    p = _part(z, n, n + m)
    later = [_dot(_row(ct, i), _dynamics(func, out, t, p, i)) for i in range(1, T)]
    a, _ = _adjoint_sweep(ct, out, z, t, func, n, False, opts)
    first = -_dot(a, _dynamics(func, out, t, p, 0))
    return _stack([first] + later)


def _batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)

    def example(x: Any, d: Any, b: int) -> Any:
        return x if d is None else getitem_static(x, (slice(None),) * d + (b,))

    if size == 0:
        (z, t), (_, dt) = args, dims
        steps = t.shape[1 if dt == 0 else 0] if dt is not None else t.shape[0]
        dtype = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
        return np.zeros((0, steps, params["n"]), dtype), 0
    outs = [odeint(*(example(a, d, b) for a, d in zip(args, dims)), **params) for b in range(size)]
    return _stack(outs), 0


odeint_p = Primitive(
    "odeint",
    _impl,
    jvp=(_jvp_z, _jvp_t),
    vjp=(_vjp_z, _vjp_t),
    batch=_batch,
    abstract_eval=_abstract,
)
odeint = odeint_p.bind
