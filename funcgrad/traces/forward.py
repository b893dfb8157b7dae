"""Forward mode: each traced value carries its tangent alongside its primal.

A value without a tangent is simply not a tracer of this trace (a symbolic zero), so jvp rules
only run for operands that carry one; the contributions of several operands are summed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Primitive, Trace, Tracer, ValueTracer
from ..errors import TracerConversionError
from ..prims.elementwise import add
from ..prims.shape import broadcast_to, cast_derivative

_PY_NUMBERS = (float, complex, int)
_add = np.add  # add's impl: how contributions of two operands are summed on plain arrays
_NDARRAY = np.ndarray


def _no_rule(prim: Primitive, operand: int) -> NotImplementedError:
    return NotImplementedError(
        f"forward-mode differentiation of {prim.name} with respect to operand {operand} is "
        "not implemented; wrap that operand in funcgrad.stop_gradient if it needs no "
        "derivative."
    )


def _object_output(prim: Primitive) -> TracerConversionError:
    # As in reverse mode (traces/reverse.py): an object array would carry no tangent; refused, never a silent zero.
    return TracerConversionError(
        f"{prim.name} made an array of dtype object from a value being differentiated (forward mode): funcgrad "
        "differentiates arrays of numbers (float or complex), so its derivative would be lost. Keep the values in a "
        "float or complex array (e.g. x.astype(float), not x.astype(object)), or apply funcgrad.stop_gradient to "
        "the operand if no derivative should flow through it."
    )


class JVPTracer(ValueTracer):
    """A value with its tangent on a forward trace. Made by :func:`jvp_tracer` (a class without
    an ``__init__`` is instantiated at about half the cost)."""

    __slots__ = ("tangent",)
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
        # Fast paths for one operand and for two (most operations): no lists, no loop. With no
        # primal or tangent traced by a lower trace, the eager rules (Primitive.jvp_eager: NumPy
        # called directly) give the tangent. Everything else takes the general path.
        n = len(args)
        if n == 1:
            a = args[0]
            if type(a) is not JVPTracer or a._trace is not self or prim.jvp_all is not None:
                return self._process_general(prim, args, params)
            x = a.primal
            t = a.tangent
            if isinstance(x, Tracer):
                out = prim.bind(x, **params)
                jvps = prim.jvp
            else:  # (a call with **{} costs more than one without)
                out = prim.impl(x, **params) if params else prim.impl(x)
                jvps = prim.jvp_eager if type(t) is _NDARRAY or not isinstance(t, Tracer) else prim.jvp
            if prim.nondiff or out.dtype.kind not in "fc":
                if not prim.nondiff and out.dtype.kind == "O":
                    raise _object_output(prim)
                return out
            rule = None if jvps is None else jvps[0]
            if rule is None:
                raise _no_rule(prim, 0)
            t = rule(t, out, x, **params) if params else rule(t, out, x)
        elif n == 2 and prim.jvp_all is None:
            a, b = args
            if type(a) is JVPTracer and a._trace is self:
                x, t0 = a.primal, a.tangent
                if type(b) is JVPTracer and b._trace is self:
                    y, t1 = b.primal, b.tangent
                else:
                    y, t1 = b, None
            elif type(b) is JVPTracer and b._trace is self:
                x, t0, y, t1 = a, None, b.primal, b.tangent
            else:
                return self._process_general(prim, args, params)
            if isinstance(x, Tracer) or isinstance(y, Tracer):
                return self._process_general(prim, args, params)
            out = prim.impl(x, y, **params) if params else prim.impl(x, y)
            if prim.nondiff or out.dtype.kind not in "fc":
                if not prim.nondiff and out.dtype.kind == "O":
                    raise _object_output(prim)
                return out
            jvps = prim.jvp if isinstance(t0, Tracer) or isinstance(t1, Tracer) else prim.jvp_eager
            if t1 is None or t0 is None:  # one operand carries a tangent
                rule = None if jvps is None else jvps[0 if t1 is None else 1]
                if rule is None:
                    raise _no_rule(prim, 0 if t1 is None else 1)
                ti = t1 if t0 is None else t0
                t = rule(ti, out, x, y, **params) if params else rule(ti, out, x, y)
            elif jvps is not prim.jvp and len(jvps) == 3:  # type: ignore[arg-type]
                # an eager table's rule for both operands: their contributions, summed in one rule
                both: Any = jvps[2]  # type: ignore[index]
                t = both(t0, t1, out, x, y, **params) if params else both(t0, t1, out, x, y)
            else:
                r0, r1 = (None, None) if jvps is None else (jvps[0], jvps[1])
                if r0 is None or r1 is None:
                    raise _no_rule(prim, 0 if r0 is None else 1)
                if params:
                    c0, c1 = r0(t0, out, x, y, **params), r1(t1, out, x, y, **params)
                else:
                    c0, c1 = r0(t0, out, x, y), r1(t1, out, x, y)
                t = add(c0, c1) if isinstance(c0, Tracer) or isinstance(c1, Tracer) else _add(c0, c1)
        else:
            return self._process_general(prim, args, params)
        if type(t) is _NDARRAY and t.shape == out.shape and t.dtype is out.dtype:
            r = JVPTracer()  # _wrap, inlined for a tangent that needs no broadcast or cast
            r._trace = self
            r.primal = out
            r.tangent = t
            return r
        return self._wrap(out, t)

    def _process_general(self, prim: Primitive, args: tuple, params: dict) -> Any:
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
            if not prim.nondiff and out.dtype.kind == "O":
                raise _object_output(prim)
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
