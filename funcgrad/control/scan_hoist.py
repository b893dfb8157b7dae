"""How a scan body runs fast: work no carry depends on is taken out of the step loop (run once
before it, or once after it over all steps, batched)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._backend import fresh_copies
from ..ir.passes import dce
from ..ir.program import Program, Var
from .drivers import _scan_steps
from .programs import _entry, _fn, _like

# --- running a scan body: work that no carry depends on, done once for all steps ----------------
#
# A scan body often computes values that no later step needs: per-step outputs (``sum(h)``, the
# residuals ``1 - h*h`` of reverse mode) and updates of accumulator carries (``gw = gw + outer(g,
# h)`` in a backward pass). The impl runs the loop on the part the carries depend on (the core),
# stacks the values the rest reads, then runs the rest (the post program) once over all steps,
# batched. An accumulator (a carry ``c`` whose only use is ``c + v``, with ``v`` independent of
# ``c``) becomes the sum of the stacked ``v`` after the loop. Transformations (jvp, vjp, vmap)
# still see the original body; this is only how it runs.

_HOIST_BYTES = 1 << 26  # at most this much memory for the batched post program's values


class _HoistPlan:
    __slots__ = ("pre", "core", "post", "acc", "ny", "step_bytes", "batched")

    def __init__(self, pre: Program | None, core: Program, post: Program, acc: list, ny: int,
                 step_bytes: int) -> None:
        self.pre, self.core, self.post, self.acc, self.ny, self.step_bytes = pre, core, post, acc, ny, step_bytes
        self.batched: dict = {}


def _hoist_plan(body: Program, nc: int, nx: int) -> _HoistPlan | None:
    from ..core import higher_order_primitives
    from ..prims.elementwise import add_p

    eqns = body.eqns
    ins = body.inputs
    carry_in, xs_in, const_in = ins[:nc], ins[nc:nc + nx], ins[nc + nx:]
    producer: dict = {}
    uses: dict = {}
    for k, e in enumerate(eqns):
        for o in e.outs:
            producer[o] = k
        for a in e.inputs:
            if type(a) is Var:
                uses[a] = uses.get(a, 0) + 1
    for o in body.outputs:
        if type(o) is Var:
            uses[o] = uses.get(o, 0) + 1
    acc: dict[int, Var] = {}  # carry position -> the value added to it each step
    for j in range(nc):
        o, ci = body.outputs[j], carry_in[j]
        made = producer.get(o) if type(o) is Var else None
        if made is None or eqns[made].prim is not add_p or eqns[made].params or uses.get(ci) != 1 \
                or uses.get(o) != 1:
            continue
        a, b = eqns[made].inputs
        v = b if a is ci else a if b is ci else None
        if type(v) is Var and (v.aval.shape, v.aval.dtype) == (ci.aval.shape, ci.aval.dtype) == (
                o.aval.shape, o.aval.dtype) and np.dtype(o.aval.dtype).kind in "fc":  # (a sum keeps the dtype)
            acc[j] = v

    def slice_of(roots: Sequence[Any], stop: set) -> set:
        found: set = set()
        todo = [r for r in roots if type(r) is Var]
        seen: set = set()
        while todo:
            v = todo.pop()
            if v in seen or v in stop:
                continue
            seen.add(v)
            k = producer.get(v)
            if k is not None and k not in found:
                found.add(k)
                todo += [a for a in eqns[k].inputs if type(a) is Var]
        return found

    # Work on the loop invariants only (the pre program) runs once, before the loop.
    invariant = set(const_in) | set(body.consts)
    pre_set: set = set()
    for k, e in enumerate(eqns):
        if all(type(a) is not Var or a in invariant for a in e.inputs):
            pre_set.add(k)
            invariant.update(e.outs)
    pre_vars = {o for k in pre_set for o in eqns[k].outs}
    core_set = slice_of([body.outputs[j] for j in range(nc) if j not in acc], pre_vars)
    core_vars = {o for k in core_set for o in eqns[k].outs} | set(carry_in)
    post_roots = list(body.outputs[nc:]) + list(acc.values())
    post_set = slice_of(post_roots, core_vars | pre_vars)
    if not post_set and not acc and not pre_set:
        return None
    if any(eqns[k].prim.name in higher_order_primitives or eqns[k].prim.batch is None for k in post_set):
        return None
    # Values the post program reads from the loop: stacked by the core, one per step.
    boundary: list = []
    for r in [a for k in sorted(post_set) for a in eqns[k].inputs] + post_roots:
        if type(r) is Var and r in core_vars and r not in boundary:
            boundary.append(r)
    core_outs = [carry_in[j] if j in acc else body.outputs[j] for j in range(nc)] + boundary
    reads = [a for k in core_set | post_set for a in eqns[k].inputs] + core_outs + post_roots
    needed_pre = list(dict.fromkeys(a for a in reads if type(a) is Var and a in pre_vars))
    pre_names = [f"invariant {i}" for i in range(len(needed_pre))]
    pre = dce(Program(const_in, [eqns[k] for k in sorted(pre_set)], needed_pre, body.consts,
                      body.input_names[nc + nx:])) if needed_pre else None
    core = dce(Program(ins + needed_pre, [eqns[k] for k in sorted(core_set)], core_outs, body.consts,
                       body.input_names + pre_names))
    post_ins = [Var(v.aval) for v in boundary]
    renames = dict(zip(boundary, post_ins))
    post_eqns = []
    for k in sorted(post_set):
        e = eqns[k]
        post_eqns.append(e._replace(inputs=tuple(renames.get(a, a) if type(a) is Var else a for a in e.inputs)))
    post_outs = [renames.get(r, r) if type(r) is Var else r for r in post_roots]
    post = dce(Program(post_ins + list(xs_in) + list(const_in) + needed_pre, post_eqns, post_outs, body.consts,
                       [f"stacked {i}" for i in range(len(boundary))] + body.input_names[nc:] + pre_names))
    step_bytes = sum(int(np.prod(o.aval.shape)) * np.dtype(o.aval.dtype).itemsize
                     for e in post_eqns for o in e.outs)
    return _HoistPlan(None if pre is None else _like(pre, body), _like(core, body), _like(post, body), sorted(acc),
                      len(body.outputs) - nc, step_bytes)


def _scan_hoisted(plan: _HoistPlan, carry: Sequence[Any], xs: Sequence[Any], consts: Sequence[Any], length: int,
                  reverse: bool, n_carry: int) -> list:
    if plan.pre is not None:
        consts = list(consts) + list(_fn(plan.pre)(*consts))
    stacked = [np.empty((length,) + tuple(a.shape), a.dtype) for a in plan.core.out_avals[n_carry:]]
    order = range(length - 1, -1, -1) if reverse else range(length)
    out_carry = list(_scan_steps(_fn(plan.core), carry, xs, consts, stacked, order, n_carry)
                     if n_carry or stacked else carry)  # (no loop left: every step's work is batched)
    run = plan.batched.get(length)
    if run is None:
        dims = (0,) * (len(stacked) + len(xs)) + (None,) * len(consts)
        run = plan.batched[length] = _entry(plan.post).batched_entry(dims, length).compiled.fn
    outs = run(*stacked, *xs, *consts)
    for j, total in zip(plan.acc, outs[plan.ny:]):
        out_carry[j] = np.add(carry[j], np.sum(total, axis=0, dtype=total.dtype), dtype=total.dtype)
    return fresh_copies(out_carry) + list(outs[:plan.ny])
