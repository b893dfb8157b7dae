"""Reverse mode: record a tape while the function runs, walk it backwards in the pullback.

The tape is a list in creation order; each entry holds the primitive, its parameters, the
tracked inputs (operand position and node id, flattened into one list to keep allocations per
operation low), the primal operands and the primal output. Those
are references to arrays the forward pass made anyway (residuals are never copied).

The backward pass is one loop over the tape in reverse (no recursion, so chains of 100k
operations are fine). Cotangents live in a list indexed by node id; each is dropped as soon as
it has been pushed to the node's inputs. Only the vjp rules of inputs that carry a derivative
run. Broadcasting and dtype promotion are undone here, once, for every primitive (a complex
cotangent reaching a real value keeps its real part).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import zeros_like_shape
from ..core import Primitive, Trace, Tracer
from ..prims.elementwise import add
from ..prims.shape import cast_derivative, sum_to_shape

_PY_NUMBERS = (float, complex, int)


class ReverseTracer(Tracer):
    __slots__ = ("primal", "node")

    def __init__(self, trace: ReverseTrace, primal: Any, node: int) -> None:
        self._trace = trace
        self.primal = primal
        self.node = node


class ReverseTrace(Trace):
    __slots__ = ("tape", "num_nodes")

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[tuple] = []
        self.num_nodes = 0

    def new_input(self, value: Any) -> ReverseTracer:
        node = self.num_nodes
        self.num_nodes = node + 1
        return ReverseTracer(self, value, node)

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        primals = list(args)
        tracked = []  # flat: operand position, node id, operand position, node id, ...
        nested = False  # does any operand still hold a lower-level tracer?
        i = 0
        for a in args:
            if type(a) is ReverseTracer and a._trace is self:
                tracked.append(i)
                tracked.append(a.node)
                a = primals[i] = a.primal
            if isinstance(a, Tracer):
                nested = True
            i += 1
        if prim.vjp_all is not None:
            mask = [False] * len(primals)
            for k in range(0, len(tracked), 2):
                mask[tracked[k]] = True
            outs, bwd = prim.vjp_all(primals, tuple(mask), **params)
            if not prim.multiple_results:
                return self.record_custom(args, [outs], bwd)[0]
            return self.record_custom(args, list(outs), bwd)
        out = prim.bind(*primals, **params) if nested else prim.impl(*primals, **params)
        if prim.nondiff or out.dtype.kind not in "fc":
            return out
        if prim.vjp is None:
            raise _no_rule(prim, tracked[0])
        node = self.num_nodes
        self.num_nodes = node + 1
        self.tape.append((prim, params, tracked, primals, out, node))
        return ReverseTracer(self, out, node)

    def record_custom(self, inputs: Sequence[Any], out_primals: Sequence[Any],
                      bwd: Callable[[list], Sequence[Any]]) -> list:
        """Record an operation with its own backward function (custom_vjp, checkpoint).

        ``inputs`` are the operation's operands (this trace's tracers among them are tracked);
        ``bwd(cts)`` gets one cotangent per output (zeros filled in where none arrived) and
        returns one cotangent (or None) per operand. Returns the outputs, floating-point ones
        wrapped as tracers.
        """
        tracked = []
        primals = []
        for i, a in enumerate(inputs):
            if type(a) is ReverseTracer and a._trace is self:
                tracked.append(i)
                tracked.append(a.node)
                a = a.primal
            primals.append(a)
        outs = []
        nodes = []
        for o in out_primals:
            if tracked and o.dtype.kind in "fc":
                nodes.append(self.num_nodes)
                outs.append(ReverseTracer(self, o, self.num_nodes))
                self.num_nodes += 1
            else:
                nodes.append(-1)
                outs.append(o)
        if any(n >= 0 for n in nodes):
            self.tape.append((None, bwd, tracked, primals, list(out_primals), nodes))
        return outs


def _no_rule(prim: Primitive, operand: int) -> NotImplementedError:
    return NotImplementedError(
        f"reverse-mode differentiation of {prim.name} with respect to operand {operand} is not "
        "implemented; wrap that operand in funcgrad.stop_gradient if it needs no derivative."
    )


def backward(trace: ReverseTrace, seeds: Sequence[tuple[int, Any]], wanted: Sequence[int]) -> list:
    """Push the seed cotangents ``(node, ct)`` back through the tape; return those of ``wanted``.

    Entries of the result are ``None`` where no cotangent reached the node.
    """
    cts: list = [None] * trace.num_nodes
    for node, ct in seeds:
        prev = cts[node]
        cts[node] = ct if prev is None else add(prev, ct)
    for prim, params, tracked, primals, out, node in reversed(trace.tape):
        if prim is None:  # a custom node: params is its backward function, node its outputs
            _custom_backward(cts, params, tracked, primals, out, node)
            continue
        ct = cts[node]
        if ct is None:
            continue
        cts[node] = None  # consumed: release it
        vjps = prim.vjp
        for k in range(0, len(tracked), 2):
            i = tracked[k]
            rule = vjps[i]
            if rule is None:
                raise _no_rule(prim, i)
            g = rule(ct, out, *primals, **params)
            if type(g) in _PY_NUMBERS:  # NumPy scalar arithmetic can give Python numbers
                g = np.asarray(g)
            # _push, inlined: this is the hot loop of every backward pass
            x = primals[i]
            if g.shape != x.shape:
                g = sum_to_shape(g, x.shape)
            if g.dtype != x.dtype:
                g = cast_derivative(g, x.dtype)
            src = tracked[k + 1]
            prev = cts[src]
            cts[src] = g if prev is None else add(prev, g)
    return [cts[n] for n in wanted]


def _custom_backward(cts: list, bwd: Callable[[list], Sequence[Any]], tracked: list, primals: list,
                     outs: list, nodes: list) -> None:
    out_cts = []
    arrived = False
    for o, n in zip(outs, nodes):
        ct = cts[n] if n >= 0 else None
        if ct is not None:
            arrived = True
            cts[n] = None
        # A rule asking for symbolic zeros (``bwd.symbolic_zeros``) gets None where none arrived.
        if ct is None and not getattr(bwd, "symbolic_zeros", False):
            ct = zeros_like_shape(o, np.shape(o), o.dtype)  # in o's library (Dask, CuPy)
        out_cts.append(ct)
    if not arrived:
        return
    in_cts = bwd(out_cts)
    for k in range(0, len(tracked), 2):
        g = in_cts[tracked[k]]
        if type(g) in _PY_NUMBERS:
            g = np.asarray(g)
        if g is not None:
            _push(cts, tracked[k + 1], g, primals[tracked[k]])


def _push(cts: list, src: int, g: Any, x: Any) -> None:
    """Add cotangent ``g`` of operand ``x`` to node ``src``'s, summed to ``x``'s shape and cast
    to its dtype (undoing broadcasting and promotion)."""
    if g.shape != x.shape:
        g = sum_to_shape(g, x.shape)
    if g.dtype != x.dtype:
        g = cast_derivative(g, x.dtype)
    prev = cts[src]
    cts[src] = g if prev is None else add(prev, g)
