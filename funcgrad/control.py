"""The loop and branch primitives behind :mod:`funcgrad.lax`: ``scan``, ``while`` and ``cond``.

Each holds closed sub-programs in its parameters (the loop body, the predicate, the branches)
and goes through ``bind`` like ``sin`` does. Their rules build new sub-programs from the old
ones, once per (program, mask), cached on the program:

* ``scan`` — jvp: a scan of the body's jvp program; vjp: a forward scan of the body's forward
  program that stacks only the residuals its backward program reads (loop-invariant residuals
  and slices of ``xs`` are not stacked), then a reverse scan of the backward program that
  accumulates the cotangents of the loop-invariant operands; vmap: a scan of the batched body.
  Its impl runs per step only what the carries depend on; work on the loop invariants runs
  once before the loop and the rest (per-step outputs, accumulators) once after it, batched.
* ``while`` — jvp: a while loop carrying tangents; vjp: the forward loop records its trip count
  and the residuals of each step (on a tape that is an opaque value of the program), and the
  backward loop runs the body's compiled backward program that many times, in reverse. With
  ``checkpoint="sqrt"`` the tape holds O(√n) carries and each segment is recomputed once.
  Both loops differentiate again (any order) through ``tape_scan``, a scan over tapes.
  vmap: one loop while any example continues, freezing the finished ones; the tape records
  which examples ran at each step, at every vmap level (so ``vmap(hessian)``, ``vmap(vmap(
  hessian))`` and ``vmap(jacrev(grad))`` work with per-example trip counts). Not supported:
  reverse over reverse under two vmap levels that both batch the trip count, and reverse mode
  over a vmap of a reverse-mode loop (``jacrev(vmap(grad))``): both raise NotImplementedError.
* ``cond`` — every derived program is again a ``cond``: only the taken branch runs, in the
  primal and in every derivative (an untaken branch's ``inf``/``nan`` cannot poison a
  gradient). Under ``vmap`` with a batched index, every branch runs and results are selected.

Operand layouts: ``scan``: carries, xs, loop invariants (body: the same, with one slice of
each xs; outputs: carries, ys). ``while``: carries, predicate invariants, body invariants.
``cond``: index, operands (each branch takes every operand).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._backend import foreign_of, fresh_copies, staging_foreign, zeros_like_shape
from .core import Primitive, higher_order_primitives
from .ir.passes import dce
from .ir.program import Program, ShapedArray, Var
from .traces.staging import eval_program, trace_to_program

__all__ = ["scan_p", "while_p", "cond_p", "bind_scan", "bind_while", "bind_cond"]


def _entry(program: Program) -> Any:
    from .jit import entry_of

    return entry_of(program, "body")


def _fn(program: Program) -> Callable[..., tuple]:
    """The compiled loop body or branch: outputs returned as computed (no copies per step)."""
    found = program.derived.get("loop_fn")
    if found is None:
        from .ir.codegen import generate

        found = program.derived["loop_fn"] = generate(_entry(program).program, "body", fresh_outputs=False).fn
    return found


_drivers: dict[tuple, Callable[..., Any]] = {}


def _compile_driver(key: tuple, kind: str, src: list[str]) -> Callable[..., Any]:
    """Compile the source lines of a ``drive`` function (made only of generated names) and cache it."""
    scope: dict = {}
    exec(compile("\n".join(src) + "\n", f"<funcgrad {kind} driver {key}>", "exec"), scope)
    found = _drivers[key] = scope["drive"]
    return found


def _driver(nc: int, nx: int, nk: int, ny: int) -> Callable[..., Any]:
    """A Python loop specialised to the operand counts: ``drive(fn, *carries, *xs, *consts, *ys,
    order)`` runs ``fn`` once per index in ``order``, slicing xs and storing ys at that index."""
    key = (nc, nx, nk, ny)
    found = _drivers.get(key)
    if found is None:
        c = [f"c{i}" for i in range(nc)]
        x = [f"x{i}" for i in range(nx)]
        k = [f"k{i}" for i in range(nk)]
        y = [f"ys{i}" for i in range(ny)]
        lhs = ", ".join(c + [f"y{i}" for i in range(ny)])
        src = [f"def drive(fn, {', '.join(c + x + k + y + ['order'])}):",
               "    for i in order:",
               f"        {lhs}{',' if nc + ny == 1 else ''} = fn({', '.join(c + [v + '[i]' for v in x] + k)})"]
        src += [f"        ys{i}[i] = y{i}" for i in range(ny)]
        src.append(f"    return ({', '.join(c)}{',' if nc == 1 else ''})")
        found = _compile_driver(key, "scan", src)
    return found


def _float(aval: Any) -> bool:
    return np.dtype(aval.dtype).kind in "fc"


def _dtype(x: Any) -> np.dtype:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _strong(avals: Sequence[Any]) -> list:
    return [ShapedArray(tuple(a.shape), np.dtype(a.dtype)) for a in avals]


def _like(new: Program, source: Program) -> Program:
    """``new`` (derived from ``source``) marked, as ``source`` is, as traced for Dask/CuPy operands:
    the programs derived from it in turn make their arrays in the operands' library."""
    if source.derived.get("foreign"):
        new.derived["foreign"] = True
    return new


def _trace_like(source: Program, f: Callable[..., Any], avals: Sequence[Any], names: Sequence[str]) -> Program:
    """Trace ``f`` into a program derived from ``source``: the arrays it makes (zeros) are staged
    in the library of ``source``'s operands when those are Dask/CuPy arrays."""
    with staging_foreign(bool(source.derived.get("foreign"))):
        return _like(trace_to_program(f, avals, names)[0], source)


def _reorder(program: Program, in_order: Sequence[int], out_order: Sequence[int]) -> Program:
    """``program`` with its inputs permuted (every input kept) and outputs selected/permuted."""
    assert sorted(in_order) == list(range(len(program.inputs)))
    names = program.input_names
    return _like(Program([program.inputs[i] for i in in_order], program.eqns, [program.outputs[j] for j in out_order],
                         program.consts, [names[i] for i in in_order]), program)


def _with_unused_inputs(program: Program, at: int, avals: Sequence[Any]) -> Program:
    """``program`` taking extra, unused inputs of ``avals`` at position ``at``."""
    extra = [Var(a) for a in avals]
    names = program.input_names
    return _like(Program(program.inputs[:at] + extra + program.inputs[at:], program.eqns, program.outputs,
                         program.consts, names[:at] + [f"unused {k}" for k in range(len(extra))] + names[at:]), program)


def _cached(program: Program, key: Any, make: Callable[[], Any]) -> Any:
    found = program.derived.get(key)
    if found is None:
        found = program.derived[key] = make()
    return found


def _zeros(aval: Any) -> np.ndarray:
    return np.zeros(tuple(aval.shape), np.dtype(aval.dtype))


def _classify_residuals(fwd: Program, n_out: int, inputs: dict[int, tuple[str, int]],
                        n_varying: int) -> tuple[list[tuple[str, int]], Program | None]:
    """For each residual output of ``fwd`` (after its ``n_out`` outputs): ``(kind, k)``, where
    ``kind`` is the kind of the input it is (from ``inputs``: position -> (kind, k)), ``("inv",
    j)`` for the j-th value computed from loop invariants only (the inputs from ``n_varying``
    on), or ``("step", s)`` for the s-th value that changes from step to step. Also returns the
    program computing the invariant values from the invariant inputs (None if there are none):
    they are computed once, outside the loop, instead of being stacked per step."""
    position = {v: i for i, v in enumerate(fwd.inputs)}
    varying = set(fwd.inputs[:n_varying])
    for e in fwd.eqns:
        if any(type(a) is Var and a in varying for a in e.inputs):
            varying.update(e.outs)
    invariant: list[Any]
    out, steps, invariant = [], 0, []
    for r in fwd.outputs[n_out:]:
        i = position.get(r) if type(r) is Var else None
        if i is not None and i in inputs:
            out.append(inputs[i])
        elif type(r) is Var and r not in varying and i is None:
            out.append(("inv", len(invariant)))
            invariant.append(r)
        else:
            out.append(("step", steps))
            steps += 1
    if not invariant:
        return out, None
    inv = _like(dce(Program(fwd.inputs[n_varying:], fwd.eqns, invariant, fwd.consts, fwd.input_names[n_varying:])),
                fwd)
    return out, inv


def _invariants(inv: Program | None, consts: Sequence[Any]) -> list:
    if inv is None:
        return []
    from .jit import jit_call_p

    return list(jit_call_p.bind(*consts, program=inv))


# --- scan ---------------------------------------------------------------------------------------


def _scan_impl(*args: Any, body: Program, n_carry: int, n_xs: int, length: int, reverse: bool,
               unroll: int) -> list:
    carry: Sequence[Any] = args[:n_carry]
    xs = args[n_carry:n_carry + n_xs]
    consts = args[n_carry + n_xs:]
    foreign = foreign_of(args)
    ys: list[Any]
    if foreign is None:
        ys = [np.empty((length,) + tuple(a.shape), a.dtype) for a in body.out_avals[n_carry:]]
    else:  # Dask/CuPy: each step's ys are kept and stacked by their library at the end
        ys = [[None] * length for _ in body.out_avals[n_carry:]]
    k = max(1, min(int(unroll), length)) if length else 1
    if k > 1:  # k steps per call of the compiled (unrolled) body, then single steps
        chunk = _fn(_unrolled(body, n_carry, n_xs, k, reverse))
        n_chunks = length // k
        order = range(n_chunks - 1, -1, -1) if reverse else range(n_chunks)
        rest = range(length - 1, n_chunks * k - 1, -1) if reverse else range(n_chunks * k, length)
        if reverse:  # the remainder (highest indices) comes first when going backwards
            carry = _scan_steps(_fn(body), carry, xs, consts, ys, rest, n_carry)
        for c in order:
            s = slice(c * k, (c + 1) * k)
            out = chunk(*carry, *(x[s] for x in xs), *consts)
            carry = out[:n_carry]
            for y, o in zip(ys, out[n_carry:]):
                y[s] = o if foreign is None else [o[j] for j in range(k)]
        if not reverse:
            carry = _scan_steps(_fn(body), carry, xs, consts, ys, rest, n_carry)
    else:
        plan = _cached(body, ("hoist", n_carry, n_xs), lambda: _hoist_plan(body, n_carry, n_xs) or False)
        if plan and foreign is None and length and plan.step_bytes * length <= _HOIST_BYTES:
            return _scan_hoisted(plan, carry, xs, consts, length, reverse, n_carry)
        order = range(length - 1, -1, -1) if reverse else range(length)
        carry = _scan_steps(_fn(body), carry, xs, consts, ys, order, n_carry)
    if foreign is not None:
        ys = [np.stack(y) if length else np.empty_like(foreign, shape=(0,) + tuple(a.shape), dtype=a.dtype)
              for y, a in zip(ys, body.out_avals[n_carry:])]
    return fresh_copies(carry) + ys


def _scan_steps(fn: Callable[..., tuple], carry: Sequence[Any], xs: Sequence[Any], consts: Sequence[Any],
                ys: list, order: range, n_carry: int) -> Sequence[Any]:
    if not len(order):
        return carry
    return _driver(len(carry), len(xs), len(consts), len(ys))(fn, *carry, *xs, *consts, *ys, order)


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
    from .core import higher_order_primitives
    from .prims.elementwise import add_p

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


def _unrolled(body: Program, n_carry: int, n_xs: int, k: int, reverse: bool) -> Program:
    """A body doing ``k`` steps: xs and ys come in chunks of ``k`` along axis 0."""
    def make() -> Program:
        from . import numpy as fnp

        n_in = len(body.inputs)

        def chunk(*args: Any) -> list:
            carry = list(args[:n_carry])
            xs = args[n_carry:n_carry + n_xs]
            consts = args[n_carry + n_xs:n_in]
            ys: list = [None] * k
            for j in (range(k - 1, -1, -1) if reverse else range(k)):
                out = eval_program(body, *carry, *[x[j] for x in xs], *consts)
                carry = out[:n_carry]
                ys[j] = out[n_carry:]
            n_y = len(body.outputs) - n_carry
            return carry + [fnp.stack([ys[j][m] for j in range(k)]) for m in range(n_y)]

        avals = list(body.in_avals)
        for i in range(n_carry, n_carry + n_xs):
            avals[i] = ShapedArray((k,) + tuple(avals[i].shape), avals[i].dtype)
        return _trace_like(body, chunk, avals, body.input_names)

    return _cached(body, ("unrolled", n_carry, n_xs, k, reverse), make)


def _scan_abstract(*avals: Any, body: Program, n_carry: int, n_xs: int, length: int, reverse: bool,
                   unroll: int) -> list:
    outs = _strong(body.out_avals)
    return outs[:n_carry] + [ShapedArray((length,) + a.shape, a.dtype) for a in outs[n_carry:]]


def _scan_jvp(primals: list, tangents: list, body: Program, n_carry: int, n_xs: int, length: int,
              reverse: bool, unroll: int) -> tuple[list, list]:
    nc, nx = n_carry, n_xs
    n_in = len(primals)
    ny = len(body.outputs) - nc
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    # Every floating carry carries a tangent (zero to start with if none came): a tangent of a
    # loop invariant or of xs reaches the carry after one step anyway.
    mask = tuple(carry_float + [t is not None for t in tangents[nc:]])
    tangents = [zeros_like_shape(primals[j], body.in_avals[j].shape, body.in_avals[j].dtype)
                if carry_float[j] and tangents[j] is None else tangents[j] for j in range(nc)] + list(tangents[nc:])

    def make() -> Program:
        jvp_prog = _entry(body).jvp_entry(mask).program
        chosen = [i for i in range(n_in) if mask[i]]
        t_pos = {i: n_in + k for k, i in enumerate(chosen)}
        in_order: list[int] = []
        for lo, hi in ((0, nc), (nc, nc + nx), (nc + nx, n_in)):
            in_order += list(range(lo, hi)) + [t_pos[i] for i in range(lo, hi) if mask[i]]
        n_out = nc + ny
        y_float = [_float(a) for a in body.out_avals[nc:]]
        out_order = (list(range(nc)) + [n_out + j for j in range(nc) if carry_float[j]]
                     + list(range(nc, n_out)) + [n_out + nc + j for j in range(ny) if y_float[j]])
        return _reorder(jvp_prog, in_order, out_order)

    new_body = _cached(body, ("scan_jvp", mask, nc, nx), make)
    operands: list = []
    counts = []
    for lo, hi in ((0, nc), (nc, nc + nx), (nc + nx, n_in)):
        part = [tangents[i] for i in range(lo, hi) if mask[i]]
        operands += list(primals[lo:hi]) + part
        counts.append(hi - lo + len(part))
    outs = scan_p.bind(*operands, body=new_body, n_carry=counts[0], n_xs=counts[1], length=length,
                       reverse=reverse, unroll=unroll)
    n_tc = counts[0] - nc
    carry, t_carry_it = outs[:nc], iter(outs[nc:nc + n_tc])
    ys, t_ys_it = outs[nc + n_tc:nc + n_tc + ny], iter(outs[nc + n_tc + ny:])
    t_carry = [next(t_carry_it) if f else None for f in carry_float]
    t_ys = [next(t_ys_it) if _float(a) else None for a in body.out_avals[nc:]]
    return list(carry) + list(ys), t_carry + t_ys


def _scan_vjp(primals: list, mask: tuple, body: Program, n_carry: int, n_xs: int, length: int,
              reverse: bool, unroll: int) -> tuple[list, Callable[[list], list]]:
    nc, nx = n_carry, n_xs
    n_in = len(primals)
    ny = len(body.outputs) - nc
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    body_mask = tuple(carry_float + list(mask[nc:]))
    plan = _cached(body, ("scan_vjp", body_mask, nc, nx), lambda: _scan_vjp_plan(body, body_mask, nc, nx))
    fwd_body, bwd_body, kinds, n_step, inv_prog = plan
    outs = scan_p.bind(*primals, body=fwd_body, n_carry=nc, n_xs=nx, length=length, reverse=reverse,
                       unroll=unroll)
    carry_out, ys, stacked = outs[:nc], outs[nc:nc + ny], outs[nc + ny:]
    x_res = [primals[nc + k] for kind, k in kinds if kind == "x"]
    const_res = [primals[nc + nx + k] for kind, k in kinds if kind == "const"]
    const_res += _invariants(inv_prog, primals[nc + nx:])
    masked_consts = [i for i in range(nc + nx, n_in) if mask[i]]

    def backward(cts: list) -> list:
        ct_carry = [cts[j] for j in range(nc) if carry_float[j]]
        acc = [zeros_like_shape(primals[i], np.shape(primals[i]), _dtype(primals[i])) for i in masked_consts]
        res = scan_p.bind(*ct_carry, *acc, *cts[nc:], *stacked, *x_res, *const_res, body=bwd_body,
                          n_carry=len(ct_carry) + len(acc), n_xs=ny + n_step + len(x_res), length=length,
                          reverse=not reverse, unroll=unroll)
        ct_carry_in = iter(res[:len(ct_carry)])
        ct_consts = iter(res[len(ct_carry):len(ct_carry) + len(acc)])
        ct_xs = iter(res[len(ct_carry) + len(acc):])
        in_cts: list = []
        for j in range(nc):
            g = next(ct_carry_in) if carry_float[j] else None
            in_cts.append(g if mask[j] else None)
        for i in range(nc, nc + nx):
            in_cts.append(next(ct_xs) if mask[i] else None)
        for i in range(nc + nx, n_in):
            in_cts.append(next(ct_consts) if mask[i] else None)
        return in_cts

    return list(carry_out) + list(ys), backward


def _scan_vjp_plan(body: Program, body_mask: tuple, nc: int, nx: int) -> tuple:
    fwd_e, bwd_e = _entry(body).vjp_parts(body_mask)
    fwd, bwd = fwd_e.program, bwd_e.program
    n_in = len(body.inputs)
    n_out = len(body.outputs)
    ny = n_out - nc
    inputs = {i: ("x", i - nc) for i in range(nc, nc + nx)}
    inputs.update({i: ("const", i - nc - nx) for i in range(nc + nx, n_in)})
    kinds, inv_prog = _classify_residuals(fwd, n_out, inputs, nc + nx)
    n_inv = sum(kind == "inv" for kind, _ in kinds)
    n_step = sum(kind == "step" for kind, _ in kinds)
    step_outputs = [n_out + r for r, (kind, _) in enumerate(kinds) if kind == "step"]
    fwd_body = _like(dce(_reorder(fwd, range(n_in), list(range(n_out)) + step_outputs)), fwd)
    # Residuals that are xs or loop invariants are read from the operands, not stacked.
    x_used = [k for kind, k in kinds if kind == "x"]
    c_used = [k for kind, k in kinds if kind == "const"]
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    masked = [i for i in range(n_in) if body_mask[i]]
    n_mc = sum(1 for i in masked if i >= nc + nx)
    n_fc = sum(carry_float)
    res_avals = fwd.out_avals[n_out:]

    def step(*args: Any) -> list:
        it = iter(args)
        ct_carry = [next(it) for _ in range(n_fc)]
        acc = [next(it) for _ in range(n_mc)]
        ct_y = [next(it) for _ in range(ny)]
        step_res = [next(it) for _ in range(n_step)]
        x_res = [next(it) for _ in x_used]
        c_res = [next(it) for _ in c_used]
        inv_res = [next(it) for _ in range(n_inv)]
        groups = {"step": iter(step_res), "x": iter(x_res), "const": iter(c_res), "inv": iter(inv_res)}
        residuals = [next(groups[kind]) for kind, _ in kinds]
        ct_it = iter(ct_carry)
        ct_carry_full = [next(ct_it) if f else _zeros(a) for f, a in zip(carry_float, body.out_avals[:nc])]
        in_cts = eval_program(bwd, *ct_carry_full, *ct_y, *residuals)
        g_it = iter(in_cts)
        ct_carry_in: list[Any]
        ct_x: list[Any]
        ct_c: list[Any]
        ct_carry_in, ct_x, ct_c = [], [], []
        for i in masked:
            (ct_carry_in if i < nc else ct_x if i < nc + nx else ct_c).append(next(g_it))
        return ct_carry_in + [a + c for a, c in zip(acc, ct_c)] + ct_x

    carry_avals = _strong(body.out_avals[:nc])
    avals = ([a for a, f in zip(carry_avals, carry_float) if f]
             + [body.in_avals[i] for i in masked if i >= nc + nx]
             + _strong(body.out_avals[nc:])
             + [res_avals[r] for r, (kind, _) in enumerate(kinds) if kind == "step"]
             + [body.in_avals[nc + k] for k in x_used] + [body.in_avals[nc + nx + k] for k in c_used]
             + ([] if inv_prog is None else inv_prog.out_avals))
    bwd_body = _trace_like(body, step, _strong(avals), [f"in{i}" for i in range(len(avals))])
    return fwd_body, bwd_body, kinds, n_step, inv_prog


def _scan_batch(vals: tuple, dims: tuple, body: Program, n_carry: int, n_xs: int, length: int,
                reverse: bool, unroll: int) -> tuple[list, list]:
    from .prims.factories import batch_to_front
    from .prims.shape import transpose

    nc, nx = n_carry, n_xs
    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    body_dims: list[int | None]
    operands, body_dims = [], []
    for i, (v, d) in enumerate(zip(vals, dims)):
        if i < nc:  # every carry batched: a batched xs or invariant makes it so after one step
            operands.append(batch_to_front(v, d, size=size))
            body_dims.append(0)
        elif d is None:
            operands.append(v)
            body_dims.append(None)
        elif i < nc + nx:  # the scanned axis stays first, the batch axis second
            v = batch_to_front(v, d)
            operands.append(transpose(v, axes=(1, 0) + tuple(range(2, len(v.shape)))))
            body_dims.append(0)
        else:
            operands.append(batch_to_front(v, d))
            body_dims.append(0)
    batched = _entry(body).batched_entry(tuple(body_dims), size).program
    outs = scan_p.bind(*operands, body=batched, n_carry=nc, n_xs=nx, length=length, reverse=reverse,
                       unroll=unroll)
    ny = len(body.outputs) - nc
    return list(outs), [0] * nc + [1] * ny


scan_p = Primitive("scan", _scan_impl, multiple_results=True, abstract_eval=_scan_abstract,
                   jvp_all=_scan_jvp, vjp_all=_scan_vjp, batch=_scan_batch, register=False)


def bind_scan(body: Program, carry: Sequence[Any], xs: Sequence[Any], consts: Sequence[Any], length: int,
              reverse: bool = False, unroll: int = 1) -> list:
    """Run ``body`` (inputs: carries, one slice of each xs, invariants; outputs: carries, ys) over
    ``length`` steps; returns the final carries and the stacked ys."""
    return scan_p.bind(*carry, *xs, *consts, body=body, n_carry=len(carry), n_xs=len(xs), length=int(length),
                       reverse=bool(reverse), unroll=int(unroll))


# --- while --------------------------------------------------------------------------------------


class _Tape:
    """What a differentiated while loop's forward pass leaves for its backward pass: the
    residuals of every step, or (``checkpoint="sqrt"``) carries every ``stride`` steps."""

    __slots__ = ("steps", "snapshots", "stride", "count", "shape", "active")
    # Seen by the transformations as an object value: 0-d, or ``(size,)`` when recorded by a
    # batched loop (each step's entries batched along axis 0), as its abstract value says. A
    # loop batched over examples with their own trip counts also records, per step, which
    # examples were still running (``active``, one bool array per step): the loops reading the
    # tape leave the others' values unchanged at that step. Under nested vmap the shape is
    # ``(outer, ..., inner)`` sizes, ``active`` is the outermost level's, and each inner level's
    # flags are one more entry at the end of every step (read by the inner level's batched
    # backward body as one more residual, before the outer level's flags).
    dtype = np.dtype(object)
    is_loop_tape = True

    def __init__(self, steps: list | None = None, snapshots: list | None = None, stride: int = 0,
                 count: int = 0, shape: tuple = (), active: list | None = None) -> None:
        self.steps, self.snapshots, self.stride, self.count = steps, snapshots, stride, count
        self.shape, self.active = shape, active

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        if self.steps is not None:
            return f"<while-loop tape: {len(self.steps)} steps>"
        return f"<while-loop tape: {self.count} steps, {len(self.snapshots or ())} carries every {self.stride}>"


def _unwrap_tape(t: Any) -> _Tape:
    return t.item() if isinstance(t, np.ndarray) else t


_TAPE_AVAL = ShapedArray((), np.dtype(object))
_ZERO_TAPE_CT = np.zeros((), object)  # the (zero) cotangent of a tape nothing reads


def _while_impl(*args: Any, cond: Program, body: Program, n_carry: int, n_cconsts: int) -> list:
    carry = args[:n_carry]
    cc = args[n_carry:n_carry + n_cconsts]
    bc = args[n_carry + n_cconsts:]
    cond_fn, body_fn = _fn(cond), _fn(body)
    while cond_fn(*carry, *cc)[0]:
        carry = body_fn(*carry, *bc)
    return fresh_copies(carry)


def _while_abstract(*avals: Any, cond: Program, body: Program, n_carry: int, n_cconsts: int) -> list:
    return _strong(body.out_avals)


def _while_jvp(primals: list, tangents: list, cond: Program, body: Program, n_carry: int,
               n_cconsts: int) -> tuple[list, list]:
    nc, ncc = n_carry, n_cconsts
    carry, cc, bc = primals[:nc], primals[nc:nc + ncc], primals[nc + ncc:]
    t_bc = tangents[nc + ncc:]
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    mask = tuple(carry_float + [t is not None for t in t_bc])
    t_carry = [(zeros_like_shape(primals[j], body.in_avals[j].shape, body.in_avals[j].dtype) if tangents[j] is None
                else tangents[j]) for j in range(nc) if carry_float[j]]

    def make() -> tuple[Program, Program]:
        jvp_prog = _entry(body).jvp_entry(mask).program
        n_in = len(body.inputs)
        chosen = [i for i in range(n_in) if mask[i]]
        t_pos = {i: n_in + k for k, i in enumerate(chosen)}
        in_order = (list(range(nc)) + [t_pos[j] for j in range(nc) if mask[j]] + list(range(nc, n_in))
                    + [t_pos[i] for i in range(nc, n_in) if mask[i]])
        out_order = list(range(nc)) + [nc + j for j in range(nc) if carry_float[j]]
        new_body = _reorder(jvp_prog, in_order, out_order)
        t_avals = [a for a, f in zip(_strong(body.in_avals[:nc]), carry_float) if f]
        return _with_unused_inputs(cond, nc, t_avals), new_body

    new_cond, new_body = _cached(body, ("while_jvp", mask, nc, id(cond)), make)
    masked_t_bc = [t for t in t_bc if t is not None]
    outs = while_p.bind(*carry, *t_carry, *cc, *bc, *masked_t_bc, cond=new_cond, body=new_body,
                        n_carry=nc + len(t_carry), n_cconsts=ncc)
    it = iter(outs[nc:])
    return list(outs[:nc]), [next(it) if f else None for f in carry_float]


def _while_vjp(primals: list, mask: tuple, cond: Program, body: Program, n_carry: int,
               n_cconsts: int, checkpoint: str | None = None) -> tuple[list, Callable[[list], list]]:
    nc, ncc = n_carry, n_cconsts
    bc = primals[nc + ncc:]
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    body_mask = tuple(carry_float + list(mask[nc + ncc:]))
    plan = _cached(body, ("while_vjp", body_mask, nc), lambda: _while_vjp_plan(body, body_mask, nc))
    fwd_body, bwd_body, kinds, n_step, inv_prog = plan
    outs = while_fwd_p.bind(*primals, cond=cond, body=fwd_body, primal_body=body, n_carry=nc, n_cconsts=ncc,
                            checkpoint=checkpoint)
    carry_out, tape = outs[:nc], outs[nc]
    const_res = [bc[k] for kind, k in kinds if kind == "const"] + _invariants(inv_prog, bc)
    masked_consts = [i for i in range(nc + ncc, len(primals)) if mask[i]]

    def backward(cts: list) -> list:
        ct_carry = [cts[j] for j in range(nc) if carry_float[j]]
        acc = [zeros_like_shape(primals[i], np.shape(primals[i]), _dtype(primals[i])) for i in masked_consts]
        res = while_bwd_p.bind(*ct_carry, *acc, tape, *const_res, *bc, bwd=bwd_body, fwd=fwd_body,
                               n_ct=len(ct_carry) + len(acc), n_const_res=len(const_res), n_carry=nc)
        ct_it = iter(res[:len(ct_carry)])
        acc_it = iter(res[len(ct_carry):])
        in_cts: list = []
        for j in range(nc):
            g = next(ct_it) if carry_float[j] else None
            in_cts.append(g if mask[j] else None)
        in_cts += [None] * ncc
        for i in range(nc + ncc, len(primals)):
            in_cts.append(next(acc_it) if mask[i] else None)
        return in_cts

    return list(carry_out), backward


def _while_vjp_plan(body: Program, body_mask: tuple, nc: int) -> tuple:
    fwd_e, bwd_e = _entry(body).vjp_parts(body_mask)
    fwd, bwd = fwd_e.program, bwd_e.program
    n_in = len(body.inputs)
    kinds, inv_prog = _classify_residuals(fwd, nc, {i: ("const", i - nc) for i in range(nc, n_in)}, nc)
    n_inv = sum(kind == "inv" for kind, _ in kinds)
    n_step = sum(kind == "step" for kind, _ in kinds)
    fwd_body = _like(dce(_reorder(fwd, range(n_in), list(range(nc)) + [nc + r for r, (k, _) in enumerate(kinds)
                                                                      if k == "step"])), fwd)
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    masked = [i for i in range(n_in) if body_mask[i]]
    n_mc = sum(1 for i in masked if i >= nc)
    n_fc = sum(carry_float)
    res_avals = fwd.out_avals[nc:]
    c_used = [k for kind, k in kinds if kind == "const"]

    def step(*args: Any) -> list:
        it = iter(args)
        ct_carry = [next(it) for _ in range(n_fc)]
        acc = [next(it) for _ in range(n_mc)]
        step_res = [next(it) for _ in range(n_step)]
        c_res = [next(it) for _ in c_used]
        inv_res = [next(it) for _ in range(n_inv)]
        groups = {"step": iter(step_res), "const": iter(c_res), "inv": iter(inv_res)}
        residuals = [next(groups[kind]) for kind, _ in kinds]
        ct_it = iter(ct_carry)
        full = [next(ct_it) if f else _zeros(a) for f, a in zip(carry_float, body.out_avals)]
        g_it = iter(eval_program(bwd, *full, *residuals))
        ct_carry_in: list[Any]
        ct_c: list[Any]
        ct_carry_in, ct_c = [], []
        for i in masked:
            (ct_carry_in if i < nc else ct_c).append(next(g_it))
        return ct_carry_in + [a + c for a, c in zip(acc, ct_c)]

    avals = ([a for a, f in zip(_strong(body.in_avals[:nc]), carry_float) if f]
             + [body.in_avals[i] for i in masked if i >= nc]
             + [res_avals[r] for r, (kind, _) in enumerate(kinds) if kind == "step"]
             + [body.in_avals[nc + k] for k in c_used] + ([] if inv_prog is None else inv_prog.out_avals))
    bwd_body = _trace_like(body, step, _strong(avals), [f"in{i}" for i in range(len(avals))])
    return fwd_body, bwd_body, kinds, n_step, inv_prog


def _while_batch(vals: tuple, dims: tuple, cond: Program, body: Program, n_carry: int,
                 n_cconsts: int) -> tuple[list, list]:
    """vmap of a staged loop: one loop over the whole batch that runs while any example
    continues and freezes the finished ones (with ``where``)."""
    from . import numpy as fnp
    from .prims.factories import batch_to_front

    nc, ncc = n_carry, n_cconsts
    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    carry = [batch_to_front(v, d, size=size) for v, d in zip(vals[:nc], dims[:nc])]
    cc, bc = list(vals[nc:nc + ncc]), list(vals[nc + ncc:])
    cc_dims, bc_dims = tuple(dims[nc:nc + ncc]), tuple(dims[nc + ncc:])

    def make() -> tuple[Program, Program]:
        cond_b = _entry(cond).batched_entry((0,) * nc + cc_dims, size).program  # -> preds (size,)
        body_b = _entry(body).batched_entry((0,) * nc + bc_dims, size).program
        # The new body takes carries, cconsts, bconsts; the new predicate: any example continues.
        avals = _strong(body_b.in_avals[:nc]) + _strong(cond_b.in_avals[nc:]) + _strong(body_b.in_avals[nc:])

        def step(*args: Any) -> list:
            c, ccv, bcv = args[:nc], args[nc:nc + ncc], args[nc + ncc:]
            p = eval_program(cond_b, *c, *ccv)[0]
            new = eval_program(body_b, *c, *bcv)
            return _where_active(p, new, c, size)

        def any_continues(*args: Any) -> list:
            return [fnp.any(eval_program(cond_b, *args)[0])]

        new_body = _trace_like(body, step, avals, [f"in{i}" for i in range(len(avals))])
        new_cond = _trace_like(cond, any_continues, avals[:nc + ncc], [f"in{i}" for i in range(nc + ncc)])
        return new_cond, new_body

    new_cond, new_body = _cached(body, ("while_batch", dims, size, id(cond)), make)
    outs = while_p.bind(*carry, *cc, *cc, *bc, cond=new_cond, body=new_body, n_carry=nc, n_cconsts=ncc)
    return list(outs), [0] * nc


while_p = Primitive("while_loop", _while_impl, multiple_results=True, abstract_eval=_while_abstract,
                    jvp_all=_while_jvp, vjp_all=_while_vjp, batch=_while_batch, register=False)


def bind_while(cond: Program, body: Program, carry: Sequence[Any], cconsts: Sequence[Any],
               bconsts: Sequence[Any], checkpoint: str | None = None) -> list:
    """Run ``body`` (carries, bconsts -> carries) while ``cond`` (carries, cconsts -> pred) holds."""
    if checkpoint is None:
        return while_p.bind(*carry, *cconsts, *bconsts, cond=cond, body=body, n_carry=len(carry),
                            n_cconsts=len(cconsts))
    return while_ckpt_p.bind(*carry, *cconsts, *bconsts, cond=cond, body=body, n_carry=len(carry),
                             n_cconsts=len(cconsts), checkpoint=checkpoint)


# A while loop whose reverse mode stores O(sqrt(n)) carries; otherwise the same as ``while``.
while_ckpt_p = Primitive(
    "while_checkpointed", lambda *a, checkpoint, **p: _while_impl(*a, **p), multiple_results=True,
    abstract_eval=lambda *a, checkpoint, **p: _while_abstract(*a, **p),
    jvp_all=lambda primals, tangents, checkpoint, **p: _while_jvp(primals, tangents, **p),
    vjp_all=_while_vjp,
    batch=lambda vals, dims, checkpoint, **p: _while_batch(vals, dims, **p), register=False)


def _while_driver(nc: int, ncc: int, nbc: int, nr: int) -> Callable[..., Any]:
    """A Python while loop specialised to the operand counts: ``drive(cond, body, steps,
    *carries, *cconsts, *bconsts)`` appends each step's residuals to ``steps``; returns the
    carries."""
    key = ("while", nc, ncc, nbc, nr)
    found = _drivers.get(key)
    if found is None:
        c, k, b, r = ([f"{p}{i}" for i in range(n)] for p, n in (("c", nc), ("k", ncc), ("b", nbc), ("r", nr)))
        src = [f"def drive(cond, body, steps, {', '.join(c + k + b)}):",
               f"    while cond({', '.join(c + k)})[0]:",
               f"        {', '.join(c + r)}, = body({', '.join(c + b)})",
               f"        steps.append(({', '.join(r)}{',' if nr == 1 else ''}))",
               f"    return ({', '.join(c)},)"]
        found = _compile_driver(key, "while", src)
    return found


def _backward_driver(nct: int, nr: int, nk: int) -> Callable[..., Any]:
    """``drive(bwd, steps, *cts, *consts)``: ``cts = bwd(*cts, *residuals, *consts)`` for each
    recorded step, last first; returns the cotangents."""
    key = ("backward", nct, nr, nk)
    found = _drivers.get(key)
    if found is None:
        c, r, k = ([f"{p}{i}" for i in range(n)] for p, n in (("c", nct), ("r", nr), ("k", nk)))
        src = [f"def drive(bwd, steps, {', '.join(c + k)}):",
               f"    for {', '.join(r) + ',' if nr else '_'} in reversed(steps):",
               f"        {', '.join(c)}, = bwd({', '.join(c + r + k)})",
               f"    return ({', '.join(c)},)"]
        found = _compile_driver(key, "backward", src)
    return found


def _while_fwd_impl(*args: Any, cond: Program, body: Program, primal_body: Program, n_carry: int,
                    n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None) -> list:
    carry = args[:n_carry]
    cc = args[n_carry:n_carry + n_cconsts]
    bc = args[n_carry + n_cconsts:]
    cond_fn = _fn(cond)
    if checkpoint is None:
        body_fn = _fn(body)
        steps = []
        if tape_size is not None:  # batched (see _while_fwd_batch): each step's last output is `active`
            active = []
            while cond_fn(*carry, *cc)[0]:
                out = body_fn(*carry, *bc)
                carry = out[:n_carry]
                steps.append(out[n_carry:-1])
                active.append(out[-1])
            return fresh_copies(carry) + [_Tape(steps=steps, shape=tape_size, active=active)]
        if not n_carry:  # (an empty carry: nothing to drive)
            while cond_fn(*cc)[0]:
                steps.append(tuple(body_fn(*bc)))
            return [_Tape(steps=steps)]
        n_res = len(body.outputs) - n_carry
        carry = _while_driver(n_carry, n_cconsts, len(bc), n_res)(cond_fn, body_fn, steps, *carry, *cc, *bc)
        return fresh_copies(carry) + [_Tape(steps=steps)]
    # sqrt: keep the carry every `stride` steps; when there are more than 2*stride of them, keep
    # every other one and double the stride. Both the number of stored carries and the length of
    # a segment recomputed in the backward pass stay O(sqrt(n)).
    body_fn = _fn(primal_body)
    snapshots, stride, count = [tuple(carry)], 1, 0
    while cond_fn(*carry, *cc)[0]:
        carry = body_fn(*carry, *bc)
        count += 1
        if count % stride == 0:
            snapshots.append(tuple(carry))
            if len(snapshots) > 2 * stride + 1:
                snapshots = snapshots[::2]
                stride *= 2
    return fresh_copies(carry) + [_Tape(snapshots=snapshots, stride=stride, count=count)]


def _while_bwd_impl(*args: Any, bwd: Program, fwd: Program, n_ct: int, n_const_res: int, n_carry: int) -> list:
    ct = args[:n_ct]
    tape = _unwrap_tape(args[n_ct])
    const_res = args[n_ct + 1:n_ct + 1 + n_const_res]
    bc = args[n_ct + 1 + n_const_res:]
    bwd_fn = _fn(bwd)
    if tape.active is not None:  # batched (see _while_bwd_batch): the step reads which examples ran
        assert tape.steps is not None
        for res, active in zip(reversed(tape.steps), reversed(tape.active)):
            ct = bwd_fn(*ct, *res, active, *const_res)
        return fresh_copies(ct)
    if tape.steps is not None:
        if not n_ct:  # nothing to differentiate
            return []
        n_res = len(bwd.inputs) - n_ct - n_const_res
        return fresh_copies(_backward_driver(n_ct, n_res, n_const_res)(bwd_fn, tape.steps, *ct, *const_res))
    fwd_fn = _fn(fwd)
    assert tape.snapshots is not None  # a checkpointed tape (no per-step residuals) has its carries
    snapshots, stride, count = tape.snapshots, tape.stride, tape.count
    for s in range(len(snapshots) - 1, -1, -1):
        start = s * stride
        if start >= count:
            continue
        carry, steps = snapshots[s], []
        for _ in range(min(stride, count - start)):
            out = fwd_fn(*carry, *bc)
            carry = out[:n_carry]
            steps.append(out[n_carry:])
        for res in reversed(steps):
            ct = bwd_fn(*ct, *res, *const_res)
        del steps
    return fresh_copies(ct)


# --- forward mode of a differentiated while loop (hessians: forward over reverse) -------------


def _tape_split_impl(tape: Any, n_res: int) -> list:
    t = _unwrap_tape(tape)
    if not isinstance(t, _Tape):  # a zero (co)tangent tape: two zero tapes
        return [tape, tape]
    assert t.steps is not None  # forward mode records per-step tapes
    return [_Tape(steps=[s[:n_res] for s in t.steps], shape=t.shape, active=t.active),
            _Tape(steps=[s[n_res:] for s in t.steps], shape=t.shape, active=t.active)]


def _tape_zip_impl(tape: Any, tangent: Any, n_a: int | None = None) -> list:
    a, b = _unwrap_tape(tape), _unwrap_tape(tangent)
    if not isinstance(b, _Tape):  # zero cotangents (of the second part) are left out: read as zeros
        return [tape]
    if not isinstance(a, _Tape):
        assert n_a is not None and b.steps is not None
        return [_Tape(steps=[(None,) * n_a + tuple(y) for y in b.steps], shape=b.shape, active=b.active)]
    assert a.steps is not None and b.steps is not None  # forward mode records per-step tapes
    return [_Tape(steps=[tuple(x) + tuple(y) for x, y in zip(a.steps, b.steps)], shape=a.shape or b.shape,
                  active=a.active if a.active is not None else b.active)]


def _tape_zip_vjp(primals: list, mask: tuple, n_a: int | None = None) -> tuple[list, Callable[[list], list]]:
    if n_a is None:  # pragma: no cover - every tape_zip that reverse mode can meet says its width
        raise NotImplementedError("reverse mode of a tape_zip without its width")
    return tape_zip_p.bind(*primals, n_a=n_a), lambda cts: list(tape_split_p.bind(cts[0], n_res=n_a))


# A tape recorded with each step's residuals followed by their tangents, split into the two
# (``tape_split``), and a tape and its tangent joined step by step (``tape_zip``). Entries of a
# zero cotangent are None (or missing, at the end of a step) in a joined tape.
tape_split_p: Primitive = Primitive(
    "tape_split", _tape_split_impl, multiple_results=True, abstract_eval=lambda tape, n_res: [tape, tape],
    jvp_all=lambda primals, tangents, n_res: (
        tape_split_p.bind(primals[0], n_res=n_res),
        [None, None] if tangents[0] is None else tape_split_p.bind(tangents[0], n_res=n_res)),
    vjp_all=lambda primals, mask, n_res: (
        tape_split_p.bind(primals[0], n_res=n_res), lambda cts: tape_zip_p.bind(cts[0], cts[1], n_a=n_res)),
    batch=lambda vals, dims, n_res: (tape_split_p.bind(vals[0], n_res=n_res), [dims[0], dims[0]]), register=False)
tape_zip_p: Primitive = Primitive(
    "tape_zip", _tape_zip_impl, multiple_results=True, abstract_eval=lambda tape, tangent, **p: [tape],
    jvp_all=lambda primals, tangents, **p: (
        tape_zip_p.bind(*primals, **p),
        [None] if tangents[0] is None and tangents[1] is None else tape_zip_p.bind(
            *(_ZERO_TAPE_CT if t is None else t for t in tangents), **p)),
    vjp_all=_tape_zip_vjp, batch=lambda vals, dims, **p: (tape_zip_p.bind(*vals, **p), [dims[0]]), register=False)


def _while_fwd_jvp(primals: list, tangents: list, cond: Program, body: Program, primal_body: Program,
                   n_carry: int, n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None) -> tuple:
    """A recording loop of the body's jvp: carries their tangents, and records each step's
    residuals and their tangents (split into a tape and its tangent tape)."""
    nc, ncc = n_carry, n_cconsts
    carry, cc, bc = primals[:nc], primals[nc:nc + ncc], primals[nc + ncc:]
    t_bc = tangents[nc + ncc:]
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    mask = tuple(carry_float + [t is not None for t in t_bc])
    t_carry = [(zeros_like_shape(primals[j], body.in_avals[j].shape, body.in_avals[j].dtype) if tangents[j] is None
                else tangents[j]) for j in range(nc) if carry_float[j]]
    n_out = len(body.outputs)
    n_res = n_out - nc

    def make() -> tuple[Program, Program]:
        jvp_prog = _entry(body).jvp_entry(mask).program
        n_in = len(body.inputs)
        chosen = [i for i in range(n_in) if mask[i]]
        t_pos = {i: n_in + k for k, i in enumerate(chosen)}
        in_order = (list(range(nc)) + [t_pos[j] for j in range(nc) if mask[j]] + list(range(nc, n_in))
                    + [t_pos[i] for i in range(nc, n_in) if mask[i]])
        out_order = (list(range(nc)) + [n_out + j for j in range(nc) if carry_float[j]] + list(range(nc, n_out))
                     + list(range(n_out + nc, 2 * n_out)))
        t_avals = [a for a, f in zip(_strong(body.in_avals[:nc]), carry_float) if f]
        return _with_unused_inputs(cond, nc, t_avals), _reorder(jvp_prog, in_order, out_order)

    new_cond, new_body = _cached(body, ("while_fwd_jvp", mask, nc, id(cond)), make)
    outs = while_fwd_p.bind(*carry, *t_carry, *cc, *bc, *(t for t in t_bc if t is not None), cond=new_cond,
                            body=new_body, primal_body=primal_body, n_carry=nc + len(t_carry), n_cconsts=ncc,
                            checkpoint=None, tape_size=tape_size)
    tape, t_tape = tape_split_p.bind(outs[-1], n_res=n_res)
    it = iter(outs[nc:nc + len(t_carry)])
    return list(outs[:nc]) + [tape], [next(it) if f else None for f in carry_float] + [t_tape]


def _while_bwd_jvp(primals: list, tangents: list, bwd: Program, fwd: Program, n_ct: int, n_const_res: int,
                   n_carry: int) -> tuple[list, list]:
    """The backward loop of the backward body's jvp, reading the tape and its tangent together."""
    ct, tape = primals[:n_ct], primals[n_ct]
    const_res = primals[n_ct + 1:n_ct + 1 + n_const_res]
    bc = primals[n_ct + 1 + n_const_res:]
    t_ct = [zeros_like_shape(c, a.shape, a.dtype) if t is None else t
            for c, t, a in zip(primals[:n_ct], tangents[:n_ct], bwd.in_avals[:n_ct])]
    t_tape = tangents[n_ct]
    t_cr = tangents[n_ct + 1:n_ct + 1 + n_const_res]
    n_step = len(bwd.inputs) - n_ct - n_const_res
    mask = tuple([True] * n_ct + [t_tape is not None] * n_step + [t is not None for t in t_cr])

    def make() -> Program:
        jvp_prog = _entry(bwd).jvp_entry(mask).program
        n_in = len(bwd.inputs)
        chosen = [i for i in range(n_in) if mask[i]]
        t_pos = {i: n_in + k for k, i in enumerate(chosen)}
        groups = ((0, n_ct), (n_ct, n_ct + n_step), (n_ct + n_step, n_in))
        in_order = [i for lo, hi in groups for i in list(range(lo, hi)) + [t_pos[j] for j in range(lo, hi) if mask[j]]]
        return _reorder(jvp_prog, in_order, range(2 * n_ct))

    new_bwd = _cached(bwd, ("while_bwd_jvp", mask), make)
    joined = tape if t_tape is None else tape_zip_p.bind(tape, t_tape)[0]
    masked_t_cr = [t for t in t_cr if t is not None]
    outs = while_bwd_p.bind(*ct, *t_ct, joined, *const_res, *masked_t_cr, *bc, bwd=new_bwd, fwd=fwd,
                            n_ct=2 * n_ct, n_const_res=len(const_res) + len(masked_t_cr), n_carry=n_carry)
    return list(outs[:n_ct]), list(outs[n_ct:])


# --- reverse mode of a differentiated while loop (second derivatives, reverse over reverse) -----
#
# The forward pass of a differentiated while loop records a tape; its backward pass runs the body's
# backward program once per recorded step. Both are differentiable again, at any order, through one
# more primitive, ``tape_scan``: a scan whose xs and ys are tapes (one entry per recorded step, the
# number of steps known only at run time). Its derivative is again a pair of ``tape_scan``s, like
# ``scan``'s. A tape's cotangent (or tangent) is a tape of the cotangents of its entries; a zero
# cotangent (0 at run time) reads as zeros at every step.


def _tape_scan_impl(*args: Any, body: Program, n_carry: int, widths: tuple, reverse: bool,
                    batch_size: tuple | None = None) -> list:
    nc = n_carry
    carry: Sequence[Any] = args[:nc]
    consts = args[nc + len(widths):]
    rows: list[Any] = []  # per tape: its list of steps, or (a zero cotangent) one tuple of zeros
    length = None
    active = None  # recorded by a loop batched over examples with their own trip counts
    at = nc
    for t, w in zip(args[nc:nc + len(widths)], widths):
        t = _unwrap_tape(t)
        if isinstance(t, _Tape):
            if t.steps is None:  # pragma: no cover - tape_steps expands checkpointed tapes first
                raise AssertionError("tape_scan reads per-step tapes only")
            length = len(t.steps)
            rows.append(t.steps)
            active = t.active if active is None else active
        else:
            rows.append(tuple(_zeros(a) for a in body.in_avals[at:at + w]))
        at += w
    assert length is not None  # every tape_scan reads at least one recorded tape
    fn = _fn(body)
    ys: list = [None] * length
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        vals: list = []
        at = nc
        for r, w in zip(rows, widths):
            if type(r) is not list:
                vals += r
            elif len(r[i]) == w and all(v is not None for v in r[i]):
                vals += r[i]
            elif len(r[i]) > w:  # the flags of an inner batch level (a loop batched twice)
                raise NotImplementedError(_NESTED_TAPE_SCAN)
            else:  # zero cotangents left out of a joined tape
                got = tuple(r[i]) + (None,) * (w - len(r[i]))
                vals += [_zeros(a) if v is None else v for v, a in zip(got, body.in_avals[at:at + w])]
            at += w
        out = fn(*carry, *vals, *consts)
        if active is None:
            carry = out[:nc]
            ys[i] = tuple(out[nc:])
        else:  # examples that had finished at this step: carries unchanged, outputs zero
            ran = active[i]
            carry = [np.where(np.reshape(ran, ran.shape + (1,) * (np.ndim(n) - 1)), n, c)
                     for n, c in zip(out[:nc], carry)]
            ys[i] = tuple(np.where(np.reshape(ran, ran.shape + (1,) * (np.ndim(y) - 1)), y, np.zeros_like(y))
                          for y in out[nc:])
    return fresh_copies(carry) + [_Tape(steps=ys, shape=() if batch_size is None else batch_size,
                                        active=active)]


def _tape_scan_vjp(primals: list, mask: tuple, body: Program, n_carry: int, widths: tuple,
                   reverse: bool, batch_size: tuple | None = None) -> tuple[list, Callable[[list], list]]:
    nc, nt = n_carry, len(widths)
    n_tv = sum(widths)
    ny = len(body.outputs) - nc
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    value_mask = [bool(mask[nc + j]) for j, w in enumerate(widths) for _ in range(w)]
    value_mask = [m and _float(a) for m, a in zip(value_mask, body.in_avals[nc:nc + n_tv])]
    body_mask = tuple(carry_float + value_mask + [bool(m) for m in mask[nc + nt:]])
    fwd, step, n_res = _cached(body, ("tape_scan_vjp", body_mask, nc, n_tv),
                               lambda: _tape_vjp_plan(body, body_mask, nc, n_tv))
    outs = tape_scan_p.bind(*primals, body=fwd, n_carry=nc, widths=widths, reverse=reverse, batch_size=batch_size)
    tape_y, tape_r = tape_split_p.bind(outs[nc], n_res=ny)
    masked_consts = [i for i in range(nc + nt, len(primals)) if mask[i]]

    def backward(cts: list) -> list:
        ct_carry = [cts[j] for j in range(nc) if carry_float[j]]
        acc = [zeros_like_shape(primals[i], np.shape(primals[i]), _dtype(primals[i])) for i in masked_consts]
        res = tape_scan_p.bind(*ct_carry, *acc, tape_r, cts[nc], body=step, n_carry=len(ct_carry) + len(acc),
                               widths=(n_res, ny), reverse=not reverse, batch_size=batch_size)
        ct_it = iter(res[:len(ct_carry)])
        in_cts: list = [(next(ct_it) if f else None) for f in carry_float]
        in_cts = [g if mask[j] else None for j, g in enumerate(in_cts)]
        rest = res[-1]  # per step: the cotangents of every tape's entries, tape after tape
        for j, w in enumerate(widths):
            first, rest = tape_split_p.bind(rest, n_res=w) if j < nt - 1 else (rest, None)
            in_cts.append(first if mask[nc + j] else None)
        acc_it = iter(res[len(ct_carry):len(ct_carry) + len(acc)])
        in_cts += [next(acc_it) if mask[i] else None for i in range(nc + nt, len(primals))]
        return in_cts

    return list(outs[:nc]) + [tape_y], backward


def _tape_vjp_plan(body: Program, body_mask: tuple, nc: int, n_tv: int) -> tuple[Program, Program, int]:
    """For a loop body (carries, ``n_tv`` per-step values, invariants -> carries, per-step
    outputs): its forward program (also returning the residuals), the number of residuals, and
    the step of the backward loop: (float carries' cotangents, accumulated cotangents of the
    masked invariants, residuals, cotangents of the per-step outputs) -> (the carries'
    cotangents, the accumulators, per step: the cotangents of the ``n_tv`` per-step values)."""
    fwd_e, bwd_e = _entry(body).vjp_parts(body_mask)
    fwd, bwd = fwd_e.program, bwd_e.program
    n_out = len(body.outputs)
    n_res = len(fwd.outputs) - n_out
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    masked = [i for i, m in enumerate(body_mask) if m]
    masked_consts = [i for i in masked if i >= nc + n_tv]
    n_fc, n_mc = sum(carry_float), len(masked_consts)
    value_avals = _strong(body.in_avals[nc:nc + n_tv])

    def step(*args: Any) -> list:
        ct_carry, acc = args[:n_fc], args[n_fc:n_fc + n_mc]
        res, ct_y = args[n_fc + n_mc:n_fc + n_mc + n_res], args[n_fc + n_mc + n_res:]
        ct_it = iter(ct_carry)
        full = [next(ct_it) if f else _zeros(a) for f, a in zip(carry_float, body.out_avals[:nc])]
        g_it = iter(eval_program(bwd, *full, *ct_y, *res))
        ct_carry_in: list[Any] = []
        ct_c: list[Any] = []
        ct_values: list[Any] = [_zeros(a) for a in value_avals]
        for i in masked:
            g = next(g_it)
            if i < nc:
                ct_carry_in.append(g)
            elif i < nc + n_tv:
                ct_values[i - nc] = g
            else:
                ct_c.append(g)
        return ct_carry_in + [a + c for a, c in zip(acc, ct_c)] + ct_values

    avals = ([a for a, f in zip(_strong(body.out_avals[:nc]), carry_float) if f]
             + [body.in_avals[i] for i in masked_consts] + list(fwd.out_avals[n_out:]) + list(body.out_avals[nc:]))
    step_prog = trace_to_program(step, _strong(avals), [f"in{i}" for i in range(len(avals))])[0]
    return fwd, step_prog, n_res


def _tape_scan_jvp(primals: list, tangents: list, body: Program, n_carry: int, widths: tuple,
                   reverse: bool, batch_size: tuple | None = None) -> tuple[list, list]:
    nc, nt = n_carry, len(widths)
    ny = len(body.outputs) - nc
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    tape_t = [tangents[nc + j] is not None for j in range(nt)]
    mask = tuple(carry_float + [tape_t[j] for j, w in enumerate(widths) for _ in range(w)]
                 + [t is not None for t in tangents[nc + nt:]])
    t_carry = [_zeros(body.in_avals[j]) if tangents[j] is None else tangents[j] for j in range(nc) if carry_float[j]]

    def make() -> Program:
        jvp_prog = _entry(body).jvp_entry(mask).program
        n_in = len(body.inputs)
        t_pos = {i: n_in + k for k, i in enumerate(i for i in range(n_in) if mask[i])}
        in_order = list(range(nc)) + [t_pos[j] for j in range(nc) if mask[j]]
        at = nc
        for j, w in enumerate(widths):  # each tape's values, then (a tangent tape) their tangents
            in_order += list(range(at, at + w)) + ([t_pos[i] for i in range(at, at + w)] if tape_t[j] else [])
            at += w
        in_order += list(range(at, n_in)) + [t_pos[i] for i in range(at, n_in) if mask[i]]
        n_out = nc + ny
        out_order = (list(range(nc)) + [n_out + j for j in range(nc) if carry_float[j]] + list(range(nc, n_out))
                     + [n_out + nc + j for j in range(ny)])
        return _reorder(jvp_prog, in_order, out_order)

    new_body = _cached(body, ("tape_scan_jvp", mask, nc, widths), make)
    tapes: list = []
    new_widths: list = []
    for j, w in enumerate(widths):
        tapes.append(primals[nc + j] if not tape_t[j] else tape_zip_p.bind(primals[nc + j], tangents[nc + j], n_a=w)[0])
        new_widths.append(2 * w if tape_t[j] else w)
    t_consts = [t for t in tangents[nc + nt:] if t is not None]
    outs = tape_scan_p.bind(*primals[:nc], *t_carry, *tapes, *primals[nc + nt:], *t_consts, body=new_body,
                            n_carry=nc + len(t_carry), widths=tuple(new_widths), reverse=reverse,
                            batch_size=batch_size)
    tape, t_tape = tape_split_p.bind(outs[-1], n_res=ny)
    it = iter(outs[nc:nc + len(t_carry)])
    return list(outs[:nc]) + [tape], [next(it) if f else None for f in carry_float] + [t_tape]


_NESTED_TAPE_SCAN = (
    "vmap of a vmapped reverse-over-reverse derivative of a staged while_loop whose trip count is batched at an "
    "inner vmap level (e.g. vmap(vmap(grad(g(grad(f)))))) is not supported. Forward over reverse works under "
    "nested vmap: use hessian(f) or jacfwd(grad(f)) (or jvp of grad) instead.")


def _tape_scan_batch(vals: tuple, dims: tuple, body: Program, n_carry: int, widths: tuple, reverse: bool,
                     batch_size: tuple | None = None) -> tuple[list, list]:
    """vmap of a tape scan (``jacrev`` of a second derivative: the cotangents are batched, the
    recorded tapes mostly not): every carry batched, a batched tape's entries batched along axis
    0 at every step, and so are the entries of the tape it makes."""
    from .prims.factories import batch_to_front

    nc, nt = n_carry, len(widths)
    # A tape's per-example shape here is that of the batch levels inside this one. The per-step
    # flags of a tape (which examples still ran, see _tape_scan_impl) must line up with the
    # leading axis of the carries: a tape batched inside this level but not at it cannot say so.
    # (A tape recorded by a loop batched at two levels is refused when the scan runs.)
    for v, d in zip(vals[nc:nc + nt], dims[nc:nc + nt]):
        if d is None and np.shape(v):
            raise NotImplementedError(_NESTED_TAPE_SCAN)
    size = _batch_size(vals, dims)
    operands: list = []
    body_dims: list = []
    for i, (v, d) in enumerate(zip(vals, dims)):
        if i < nc:
            operands.append(batch_to_front(v, d, size=size))
            body_dims.append(0)
        elif i < nc + nt:
            operands.append(v)
            body_dims += [None if d is None else 0] * widths[i - nc]
        else:
            operands.append(v if d is None else batch_to_front(v, d))
            body_dims.append(None if d is None else 0)
    batched = _cached(body, ("tape_scan_batch", tuple(body_dims), size),
                      lambda: _entry(body).batched_entry(tuple(body_dims), size).program)
    outs = tape_scan_p.bind(*operands, body=batched, n_carry=nc, widths=widths, reverse=reverse,
                            batch_size=(size,) + (batch_size or ()))
    return list(outs), [0] * (nc + 1)


def _batch_size(vals: Sequence[Any], dims: Sequence[Any]) -> int:
    """The vmapped axis' size, from the operands batched along ``dims``."""
    return next(v.shape[d] for v, d in zip(vals, dims) if d is not None)


tape_scan_p: Primitive = Primitive(
    "tape_scan", _tape_scan_impl, multiple_results=True,
    abstract_eval=lambda *avals, body, n_carry, batch_size=None, **p: _strong(body.out_avals[:n_carry]) + [
        _TAPE_AVAL if batch_size is None else ShapedArray(batch_size, np.dtype(object))],
    jvp_all=_tape_scan_jvp, vjp_all=_tape_scan_vjp, batch=_tape_scan_batch, register=False)


def _tape_steps_impl(tape: Any, *bc: Any, fwd: Program, n_carry: int) -> list:
    """A checkpointed tape (carries every ``stride`` steps) expanded to every step's residuals;
    a per-step tape unchanged."""
    t = _unwrap_tape(tape)
    if not isinstance(t, _Tape) or t.steps is not None:
        return [tape]
    assert t.snapshots is not None
    fwd_fn = _fn(fwd)
    steps: list = []
    for s, carry in enumerate(t.snapshots):
        for _ in range(max(0, min(t.stride, t.count - s * t.stride))):
            out = fwd_fn(*carry, *bc)
            carry = out[:n_carry]
            steps.append(tuple(out[n_carry:]))
    return [_Tape(steps=steps)]


# Only the tape is differentiated: its entries, recomputed from the carries a checkpointed tape
# holds, are the same values a per-step tape would hold (and a tape that is differentiated was
# recorded per step by the rules above).
tape_steps_p: Primitive = Primitive(
    "tape_steps", _tape_steps_impl, multiple_results=True, abstract_eval=lambda tape, *bc, **p: [tape],
    jvp_all=lambda primals, tangents, **p: (tape_steps_p.bind(*primals, **p), [tangents[0]]),
    vjp_all=lambda primals, mask, **p: (tape_steps_p.bind(*primals, **p),
                                        lambda cts: [cts[0]] + [None] * (len(primals) - 1)),
    batch=lambda vals, dims, **p: (tape_steps_p.bind(*vals, **p), [dims[0]]), register=False)


def _while_fwd_vjp(primals: list, mask: tuple, cond: Program, body: Program, primal_body: Program, n_carry: int,
                   n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None
                   ) -> tuple[list, Callable[[list], list]]:
    """Reverse mode of a recording loop: it records each step's residuals and the residuals of
    the body's own forward program (always per step, also under ``checkpoint="sqrt"``); the
    backward pass is a ``tape_scan`` of the body's backward program over that tape, in reverse,
    reading the cotangents of the recorded residuals step by step."""
    if tape_size is not None:
        raise NotImplementedError(
            "reverse mode of a vmapped, differentiated staged while_loop (grad of vmap of grad) is not "
            "supported; take the inner derivative outside vmap, or use fori_loop with concrete bounds.")
    nc, ncc = n_carry, n_cconsts
    n_res = len(body.outputs) - nc
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    body_mask = tuple(carry_float + [bool(m) for m in mask[nc + ncc:]])
    fwd, step, n_r2 = _cached(body, ("while_fwd_vjp", body_mask, nc), lambda: _tape_vjp_plan(body, body_mask, nc, 0))
    outs = while_fwd_p.bind(*primals, cond=cond, body=fwd, primal_body=primal_body, n_carry=nc, n_cconsts=ncc,
                            checkpoint=None)
    tape, tape_r2 = tape_split_p.bind(outs[nc], n_res=n_res)
    masked_bc = [i for i in range(nc + ncc, len(primals)) if mask[i]]

    def backward(cts: list) -> list:
        ct_carry = [cts[j] for j in range(nc) if carry_float[j]]
        acc = [zeros_like_shape(primals[i], np.shape(primals[i]), _dtype(primals[i])) for i in masked_bc]
        res = tape_scan_p.bind(*ct_carry, *acc, tape_r2, cts[nc], body=step, n_carry=len(ct_carry) + len(acc),
                               widths=(n_r2, n_res), reverse=True)
        ct_it = iter(res[:len(ct_carry)])
        in_cts: list = [(next(ct_it) if f else None) for f in carry_float]
        in_cts = [g if mask[j] else None for j, g in enumerate(in_cts)] + [None] * ncc
        acc_it = iter(res[len(ct_carry):len(ct_carry) + len(acc)])
        return in_cts + [next(acc_it) if mask[i] else None for i in range(nc + ncc, len(primals))]

    return list(outs[:nc]) + [tape], backward


def _while_bwd_vjp(primals: list, mask: tuple, bwd: Program, fwd: Program, n_ct: int, n_const_res: int,
                   n_carry: int) -> tuple[list, Callable[[list], list]]:
    """Reverse mode of the backward loop: it is a ``tape_scan`` of the backward body over the
    tape, in reverse (a checkpointed tape expanded to every step first)."""
    n_step = len(bwd.inputs) - n_ct - n_const_res
    tape = tape_steps_p.bind(primals[n_ct], *primals[n_ct + 1 + n_const_res:], fwd=fwd, n_carry=n_carry)[0]
    operands = list(primals[:n_ct]) + [tape] + list(primals[n_ct + 1:n_ct + 1 + n_const_res])
    outs, scan_bwd = _tape_scan_vjp(operands, tuple(mask[:n_ct + 1 + n_const_res]), body=bwd, n_carry=n_ct,
                                    widths=(n_step,), reverse=True)
    n_bc = len(primals) - n_ct - 1 - n_const_res

    def backward(cts: list) -> list:
        return list(scan_bwd(list(cts) + [_ZERO_TAPE_CT])) + [None] * n_bc

    return list(outs[:n_ct]), backward


def _where_active(active: Any, new: Sequence[Any], old: Sequence[Any], size: int) -> list:
    from . import numpy as fnp

    return [fnp.where(fnp.reshape(active, (size,) + (1,) * (len(o.shape) - 1)), n, o) for n, o in zip(new, old)]


def _while_fwd_batch(vals: tuple, dims: tuple, cond: Program, body: Program, primal_body: Program, n_carry: int,
                     n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None) -> tuple[list, list]:
    """vmap of a recording forward loop: every example runs until none continues; a finished
    example is frozen, and each step records which examples were active (the last residual),
    so the backward loop leaves the finished ones' cotangents untouched. The tape is returned
    as batched (axis 0, its abstract value shaped ``(size,)``), which tells the backward loop's
    batching rule it holds such steps. A loop already batched (nested vmap) is batched again
    the same way: its flags become one more residual and the tape's shape grows in front.
    (Under vmap every step is recorded, also with ``checkpoint="sqrt"``.)"""
    from . import numpy as fnp
    from .prims.factories import batch_to_front

    nc, ncc = n_carry, n_cconsts
    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    carry = [batch_to_front(v, d, size=size) for v, d in zip(vals[:nc], dims[:nc])]
    cc, bc = list(vals[nc:nc + ncc]), list(vals[nc + ncc:])
    cc_dims, bc_dims = tuple(dims[nc:nc + ncc]), tuple(dims[nc + ncc:])

    def make() -> tuple[Program, Program]:
        cond_b = _entry(cond).batched_entry((0,) * nc + cc_dims, size).program
        body_b = _entry(body).batched_entry((0,) * nc + bc_dims, size).program
        avals = _strong(body_b.in_avals[:nc]) + _strong(cond_b.in_avals[nc:]) + _strong(body_b.in_avals[nc:])

        def step(*args: Any) -> list:
            c, ccv, bcv = args[:nc], args[nc:nc + ncc], args[nc + ncc:]
            active = eval_program(cond_b, *c, *ccv)[0]
            out = eval_program(body_b, *c, *bcv)
            return _where_active(active, out[:nc], c, size) + list(out[nc:]) + [active]

        def any_continues(*args: Any) -> list:
            return [fnp.any(eval_program(cond_b, *args)[0])]

        new_body = _trace_like(body, step, avals, [f"in{i}" for i in range(len(avals))])
        new_cond = _trace_like(cond, any_continues, avals[:nc + ncc], [f"in{i}" for i in range(nc + ncc)])
        return new_cond, new_body

    new_cond, new_body = _cached(body, ("while_fwd_batch", dims, size, id(cond)), make)
    outs = while_fwd_p.bind(*carry, *cc, *cc, *bc, cond=new_cond, body=new_body, primal_body=primal_body,
                            n_carry=nc, n_cconsts=ncc, checkpoint=None, tape_size=(size,) + (tape_size or ()))
    return list(outs), [0] * (nc + 1)


def _while_bwd_batch(vals: tuple, dims: tuple, bwd: Program, fwd: Program, n_ct: int, n_const_res: int,
                     n_carry: int) -> tuple[list, list]:
    """vmap of the backward loop: over cotangents only (``jacrev``: the recorded forward pass is
    shared by the whole batch), or of a tape recorded by a batched forward loop (``vmap(grad)``:
    each step updates only the examples that were active in it)."""
    from .prims.factories import batch_to_front

    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    cts = [batch_to_front(v, d, size=size) for v, d in zip(vals[:n_ct], dims[:n_ct])]
    const_res = list(vals[n_ct + 1:n_ct + 1 + n_const_res])
    cr_dims = tuple(dims[n_ct + 1:n_ct + 1 + n_const_res])
    n_step = len(bwd.inputs) - n_ct - n_const_res
    if dims[n_ct] is None:  # an unbatched tape
        in_dims = (0,) * n_ct + (None,) * n_step + cr_dims
        batched = _cached(bwd, ("bwd_batch", size, in_dims), lambda: _entry(bwd).batched_entry(in_dims, size).program)
    else:
        def make() -> Program:
            bwd_b = _entry(bwd).batched_entry((0,) * (n_ct + n_step) + cr_dims, size).program
            avals = (_strong(bwd_b.in_avals[:n_ct + n_step]) + [ShapedArray((size,), np.dtype(bool))]
                     + _strong(bwd_b.in_avals[n_ct + n_step:]))

            def step(*args: Any) -> list:
                ct, res, active, crs = args[:n_ct], args[n_ct:n_ct + n_step], args[n_ct + n_step], \
                    args[n_ct + n_step + 1:]
                return _where_active(active, eval_program(bwd_b, *ct, *res, *crs), ct, size)

            return _trace_like(bwd, step, avals, [f"in{i}" for i in range(len(avals))])

        batched = _cached(bwd, ("bwd_batch_tape", size, cr_dims), make)
    outs = while_bwd_p.bind(*cts, vals[n_ct], *const_res, *vals[n_ct + 1 + n_const_res:], bwd=batched, fwd=fwd,
                            n_ct=n_ct, n_const_res=n_const_res, n_carry=n_carry)
    return list(outs), [0] * n_ct


while_fwd_p = Primitive(
    "while_forward", _while_fwd_impl, multiple_results=True,
    abstract_eval=lambda *avals, body, n_carry, tape_size=None, **p: _strong(body.out_avals[:n_carry]) + [
        _TAPE_AVAL if tape_size is None else ShapedArray(tape_size, np.dtype(object))],
    jvp_all=_while_fwd_jvp, vjp_all=_while_fwd_vjp, batch=_while_fwd_batch,
    register=False)
while_bwd_p = Primitive(
    "while_backward", _while_bwd_impl, multiple_results=True,
    abstract_eval=lambda *avals, bwd, **p: _strong(bwd.out_avals),
    jvp_all=_while_bwd_jvp, vjp_all=_while_bwd_vjp, batch=_while_bwd_batch,
    register=False)


# --- cond ---------------------------------------------------------------------------------------


def _cond_impl(index: Any, *ops: Any, branches: tuple) -> list:
    i = min(max(int(index), 0), len(branches) - 1)
    return list(_entry(branches[i]).compiled.fn(*ops))


def _cond_abstract(*avals: Any, branches: tuple) -> list:
    return _strong(branches[0].out_avals)


def _cond_jvp(primals: list, tangents: list, branches: tuple) -> tuple[list, list]:
    mask = tuple(t is not None for t in tangents[1:])
    new = _cached(branches[0], ("cond_jvp", mask, branches),
                  lambda: tuple(_entry(b).jvp_entry(mask).program for b in branches))
    outs = cond_p.bind(primals[0], *primals[1:], *(t for t in tangents[1:] if t is not None), branches=new)
    n = len(branches[0].outputs)
    return list(outs[:n]), [t if _float(a) else None for t, a in zip(outs[n:], branches[0].out_avals)]


def _cond_vjp(primals: list, mask: tuple, branches: tuple) -> tuple[list, Callable[[list], list]]:
    ops_mask = tuple(mask[1:])
    fwd_b, bwd_b = _cached(branches[0], ("cond_vjp", ops_mask, branches),
                           lambda: _cond_vjp_plan(branches, ops_mask))
    n = len(branches[0].outputs)
    outs = cond_p.bind(primals[0], *primals[1:], branches=fwd_b)
    residuals = outs[n:]
    chosen = [i for i, m in enumerate(mask) if m]

    def backward(cts: list) -> list:
        in_cts: list = [None] * len(primals)
        for i, g in zip(chosen, cond_p.bind(primals[0], *cts, *residuals, branches=bwd_b)):
            in_cts[i] = g
        return in_cts

    return list(outs[:n]), backward


def _cond_vjp_plan(branches: tuple, ops_mask: tuple) -> tuple[tuple, tuple]:
    """Forward branches returning the outputs and every branch's residual slots (the taken
    branch fills its own, zeros elsewhere), and backward branches reading their own slots."""
    parts = [_entry(b).vjp_parts(ops_mask) for b in branches]
    n = len(branches[0].outputs)
    res_avals = [_strong(f.program.out_avals[n:]) for f, _ in parts]
    offsets = np.cumsum([0] + [len(r) for r in res_avals])
    all_res = [a for r in res_avals for a in r]
    in_avals = _strong(branches[0].in_avals)
    ct_avals = _strong(branches[0].out_avals)
    fwd_b, bwd_b = [], []
    for k, (f, b) in enumerate(parts):
        def fwd(*ops: Any, f: Any = f, k: int = k) -> list:
            r = eval_program(f.program, *ops)
            # the untaken branches' slots: zeros in the operands' library (vmap selects among them)
            slots = [zeros_like_shape(ops[0], a.shape, a.dtype) if ops else _zeros(a) for a in all_res]
            slots[offsets[k]:offsets[k + 1]] = r[n:]
            return list(r[:n]) + slots

        def bwd(*args: Any, b: Any = b, k: int = k) -> list:
            cts, res = args[:n], args[n:]
            return eval_program(b.program, *cts, *res[offsets[k]:offsets[k + 1]])

        fwd_b.append(_trace_like(branches[k], fwd, in_avals, branches[0].input_names))
        bwd_b.append(_trace_like(branches[k], bwd, ct_avals + all_res, [f"in{i}" for i in range(n + len(all_res))]))
    return tuple(fwd_b), tuple(bwd_b)


def _cond_batch(vals: tuple, dims: tuple, branches: tuple) -> tuple[list, list]:
    from . import numpy as fnp
    from .jit import jit_call_p
    from .prims.factories import batch_to_front

    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    op_dims = tuple(dims[1:])
    batched = _cached(branches[0], ("cond_batch", op_dims, size, branches),
                      lambda: tuple(_entry(b).batched_entry(op_dims, size).program for b in branches))
    n = len(branches[0].outputs)
    if dims[0] is None:  # one index for the whole batch: still only the taken branch runs
        return list(cond_p.bind(vals[0], *vals[1:], branches=batched)), [0] * n
    # A batched index: every branch runs on the whole batch and each example selects its own.
    index = batch_to_front(vals[0], dims[0])
    outs = [jit_call_p.bind(*vals[1:], program=b) for b in batched]
    result = []
    for j in range(n):
        r = outs[-1][j]
        for k in range(len(outs) - 2, -1, -1):
            o = outs[k][j]
            r = fnp.where(fnp.reshape(index <= k, (size,) + (1,) * (len(o.shape) - 1)), o, r)
        result.append(r)
    return result, [0] * n


cond_p = Primitive("cond", _cond_impl, multiple_results=True, abstract_eval=_cond_abstract,
                   jvp_all=_cond_jvp, vjp_all=_cond_vjp, batch=_cond_batch, register=False)


def bind_cond(index: Any, branches: Sequence[Program], operands: Sequence[Any]) -> list:
    """Run ``branches[index]`` (clamped) on ``operands``; every branch takes every operand."""
    return cond_p.bind(index, *operands, branches=tuple(branches))


higher_order_primitives.update({p.name: p for p in (scan_p, while_p, while_ckpt_p, cond_p, while_fwd_p, while_bwd_p,
                                                    tape_scan_p, tape_steps_p, tape_split_p, tape_zip_p)})
