"""Reverse mode: record a tape while the function runs, walk it backwards in the pullback.

The tape is a list in creation order; each entry holds the primitive, its parameters, the
tracked inputs (operand position, node id), the primal operands and the primal output. Those
are references to arrays the forward pass made anyway (residuals are never copied).

The backward pass is one loop over the tape in reverse (no recursion, so chains of 100k
operations are fine). Cotangents live in a list indexed by node id; each is dropped as soon as
it has been pushed to the node's inputs. Only the vjp rules of inputs that carry a derivative
run. Broadcasting and dtype promotion are undone here, once, for every primitive.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..core import Primitive, Trace, Tracer
from ..prims.elementwise import add
from ..prims.shape import astype, sum_to_shape


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
        primals = []
        tracked = []
        for i, a in enumerate(args):
            if type(a) is ReverseTracer and a._trace is self:
                primals.append(a.primal)
                tracked.append((i, a.node))
            else:
                primals.append(a)
        out = prim.bind(*primals, **params)
        if prim.nondiff or out.dtype.kind != "f":
            return out
        vjps = prim.vjp
        for i, _ in tracked:
            if vjps is None or vjps[i] is None:
                raise NotImplementedError(
                    f"reverse-mode differentiation of {prim.name} with respect to operand {i} is "
                    "not implemented; wrap that operand in funcgrad.stop_gradient if it needs no "
                    "derivative."
                )
        node = self.num_nodes
        self.num_nodes = node + 1
        self.tape.append((prim, params, tracked, primals, out, node))
        return ReverseTracer(self, out, node)


def backward(trace: ReverseTrace, seeds: Sequence[tuple[int, Any]], wanted: Sequence[int]) -> list:
    """Push the seed cotangents ``(node, ct)`` back through the tape; return those of ``wanted``.

    Entries of the result are ``None`` where no cotangent reached the node.
    """
    cts: list = [None] * trace.num_nodes
    for node, ct in seeds:
        prev = cts[node]
        cts[node] = ct if prev is None else add(prev, ct)
    for prim, params, tracked, primals, out, node in reversed(trace.tape):
        ct = cts[node]
        if ct is None:
            continue
        cts[node] = None  # consumed: release it
        vjps = prim.vjp
        for i, src in tracked:
            g = vjps[i](ct, out, *primals, **params)
            x = primals[i]
            if g.shape != x.shape:
                g = sum_to_shape(g, x.shape)
            if g.dtype != x.dtype:
                g = astype(g, dtype=x.dtype)
            prev = cts[src]
            cts[src] = g if prev is None else add(prev, g)
    return [cts[n] for n in wanted]
