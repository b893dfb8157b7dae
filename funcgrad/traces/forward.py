"""Forward mode: each traced value carries its tangent alongside its primal.

A value without a tangent is simply not a tracer of this trace (a symbolic zero), so jvp rules
only run for operands that carry one; the contributions of several operands are summed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Primitive, Trace, Tracer
from ..prims.elementwise import add
from ..prims.shape import broadcast_to, cast_derivative

_PY_NUMBERS = (float, complex, int)


def _no_rule(prim: Primitive, operand: int) -> NotImplementedError:
    return NotImplementedError(
        f"forward-mode differentiation of {prim.name} with respect to operand {operand} is "
        "not implemented; wrap that operand in funcgrad.stop_gradient if it needs no "
        "derivative."
    )


class JVPTracer(Tracer):
    """A value with its tangent on a forward trace. Made by :func:`jvp_tracer` (a class without
    an ``__init__`` is instantiated at about half the cost)."""

    __slots__ = ("primal", "tangent")
    primal: Any
    tangent: Any


def jvp_tracer(trace: ForwardTrace, primal: Any, tangent: Any) -> JVPTracer:
    t = JVPTracer()
    t._trace = trace
    t.primal = primal
    t.tangent = tangent
    return t


class ForwardTrace(Trace):
    __slots__ = ()
    concrete_values = True

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        if len(args) == 1 and prim.jvp_all is None:
            # One operand (a tracer of this trace, as bind chose it): no lists, no loop.
            a = args[0]
            if type(a) is JVPTracer and a._trace is self:
                x = a.primal
                if isinstance(x, Tracer):
                    out = prim.bind(x, **params)
                else:
                    out = prim.impl(x, **params) if params else prim.impl(x)
                if prim.nondiff or out.dtype.kind not in "fc":
                    return out
                rule = None if prim.jvp is None else prim.jvp[0]
                if rule is None:
                    raise _no_rule(prim, 0)
                t1 = rule(a.tangent, out, x, **params) if params else rule(a.tangent, out, x)
                return self._wrap(out, t1)
        primals = []
        tangents = []
        nested = False  # does any operand still hold a lower-level tracer?
        i = 0
        for a in args:
            if type(a) is JVPTracer and a._trace is self:
                tangents.append((i, a.tangent))
                a = a.primal
            primals.append(a)
            if isinstance(a, Tracer):
                nested = True
            i += 1
        if prim.jvp_all is not None:
            return self._process_all(prim, primals, tangents, params)
        if nested:
            out = prim.bind(*primals, **params)
        else:  # (a call with **{} costs more than one without)
            out = prim.impl(*primals, **params) if params else prim.impl(*primals)
        if prim.nondiff or out.dtype.kind not in "fc":
            return out
        jvps = prim.jvp
        t: Any = None
        for i, ti in tangents:
            rule = None if jvps is None else jvps[i]
            if rule is None:
                raise _no_rule(prim, i)
            c = rule(ti, out, *primals, **params) if params else rule(ti, out, *primals)
            t = c if t is None else add(t, c)
        return self._wrap(out, t)

    def _wrap(self, out: Any, t: Any) -> JVPTracer:
        """The output with its tangent, broadcast to its shape and cast to its dtype."""
        if type(t) in _PY_NUMBERS:  # NumPy scalar arithmetic can give Python numbers (1j * float64)
            t = np.asarray(t)
        if t.shape != out.shape:
            t = broadcast_to(t, shape=out.shape)
        if t.dtype != out.dtype:
            t = cast_derivative(t, out.dtype)
        t2 = JVPTracer()  # jvp_tracer, inlined on the hot path
        t2._trace = self
        t2.primal = out
        t2.tangent = t
        return t2

    def _process_all(self, prim: Primitive, primals: list, tangents: list, params: dict) -> Any:
        """A primitive with a whole-operation rule (scan, while, cond, jit calls, custom rules)."""
        ts: list = [None] * len(primals)
        for i, t in tangents:
            ts[i] = t
        outs, touts = prim.jvp_all(primals, ts, **params)  # type: ignore[misc]  # only called when prim.jvp_all is set
        if not prim.multiple_results:
            outs, touts = [outs], [touts]
        results = []
        for o, t in zip(outs, touts):
            if t is None or np.dtype(o.dtype).kind not in "fcO":  # "O": a loop's tape has a tangent tape
                results.append(o)
            else:
                results.append(jvp_tracer(self, o, t))
        return results if prim.multiple_results else results[0]
