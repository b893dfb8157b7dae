"""Reverse mode of a while loop: the recording forward loop (``while_forward``, which leaves a
tape) and the backward loop (``while_backward``, which runs the body's backward program once
per recorded step, in reverse), with their own jvp, vjp and vmap rules."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._backend import fresh_copies, zeros_like_shape
from ..core import Primitive
from ..ir.program import Program, ShapedArray
from ..traces.staging import eval_program
from .drivers import _backward_driver, _while_driver
from .programs import (
    _cached,
    _dtype,
    _entry,
    _float,
    _fn,
    _jvp_program,
    _reorder,
    _strong,
    _trace_like,
    _where_active,
    _with_unused_inputs,
)
from .tape import (
    _TAPE_AVAL,
    _ZERO_TAPE_CT,
    _fit,
    _read_flags,
    _Tape,
    _unwrap_tape,
    tape_split_p,
    tape_steps_p,
    tape_zip_p,
)
from .tape_scan import _tape_scan_vjp, _tape_vjp_plan, tape_scan_p


def _while_fwd_impl(*args: Any, cond: Program, body: Program, primal_body: Program, n_carry: int,
                    n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None) -> list:
    carry = args[:n_carry]
    cc = args[n_carry:n_carry + n_cconsts]
    bc = args[n_carry + n_cconsts:]
    cond_fn = _fn(cond)
    if checkpoint is None:
        body_fn = _fn(body)
        steps = []
        if tape_size is not None:  # batched (see _while_fwd_batch): each step's last outputs are its flags
            flags = []
            k = len(tape_size)
            while cond_fn(*carry, *cc)[0]:
                out = body_fn(*carry, *bc)
                carry = out[:n_carry]
                steps.append(out[n_carry:-k])
                flags.append(out[-k:])
            return fresh_copies(carry) + [_Tape(steps=steps, shape=tape_size, flags=flags)]
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


def _while_bwd_impl(*args: Any, bwd: Program, fwd: Program, n_ct: int, n_const_res: int, n_carry: int,
                    n_flags: int = 0) -> list:
    ct = args[:n_ct]
    tape = _unwrap_tape(args[n_ct])
    const_res = args[n_ct + 1:n_ct + 1 + n_const_res]
    bc = args[n_ct + 1 + n_const_res:]
    bwd_fn = _fn(bwd)
    n_res = len(bwd.inputs) - n_ct - n_const_res - n_flags
    res_avals = bwd.in_avals[n_ct:n_ct + n_res]
    if tape.steps and (len(tape.steps[0]) < n_res or any(  # joined with a zero tangent, or broadcast
            np.ndim(v) < len(a.shape) for v, a in zip(tape.steps[0], res_avals) if v is not None)):
        tape = _Tape(steps=[tuple(_fit(v, a) for v, a in zip(tuple(s) + (None,) * (n_res - len(s)), res_avals))
                            for s in tape.steps], shape=tape.shape, flags=tape.flags)
    if n_flags:  # batched (see _while_bwd_batch): the step reads which examples ran, at every level
        assert tape.steps is not None
        flag_avals = bwd.in_avals[n_ct + n_res:n_ct + n_res + n_flags]
        flags = tape.flags or [None] * len(tape.steps)
        for res, fl in zip(reversed(tape.steps), reversed(flags)):
            ct = bwd_fn(*ct, *res, *_read_flags(fl, n_flags, flag_avals), *const_res)
        return fresh_copies(ct)
    if tape.steps is not None:
        if not n_ct:  # nothing to differentiate
            return []
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
    n_flags = len(tape_size or ())  # a batched loop's body ends with its flags (no tangents)
    n_res = n_out - nc - n_flags

    def make() -> tuple[Program, Program]:
        jvp_prog = _entry(body).jvp_entry(mask).program
        n_in = len(body.inputs)
        chosen = [i for i in range(n_in) if mask[i]]
        t_pos = {i: n_in + k for k, i in enumerate(chosen)}
        in_order = (list(range(nc)) + [t_pos[j] for j in range(nc) if mask[j]] + list(range(nc, n_in))
                    + [t_pos[i] for i in range(nc, n_in) if mask[i]])
        out_order = (list(range(nc)) + [n_out + j for j in range(nc) if carry_float[j]]
                     + list(range(nc, nc + n_res)) + list(range(n_out + nc, n_out + nc + n_res))
                     + list(range(nc + n_res, n_out)))
        t_avals = [a for a, f in zip(_strong(body.in_avals[:nc]), carry_float) if f]
        return _with_unused_inputs(cond, nc, t_avals), _reorder(jvp_prog, in_order, out_order)

    new_cond, new_body = _cached(body, ("while_fwd_jvp", mask, nc, n_flags, id(cond)), make)
    outs = while_fwd_p.bind(*carry, *t_carry, *cc, *bc, *(t for t in t_bc if t is not None), cond=new_cond,
                            body=new_body, primal_body=primal_body, n_carry=nc + len(t_carry), n_cconsts=ncc,
                            checkpoint=None, tape_size=tape_size)
    tape, t_tape = tape_split_p.bind(outs[-1], n_res=n_res)
    it = iter(outs[nc:nc + len(t_carry)])
    return list(outs[:nc]) + [tape], [next(it) if f else None for f in carry_float] + [t_tape]


def _while_bwd_jvp(primals: list, tangents: list, bwd: Program, fwd: Program, n_ct: int, n_const_res: int,
                   n_carry: int, n_flags: int = 0) -> tuple[list, list]:
    """The backward loop of the backward body's jvp, reading the tape and its tangent together."""
    ct, tape = primals[:n_ct], primals[n_ct]
    const_res = primals[n_ct + 1:n_ct + 1 + n_const_res]
    bc = primals[n_ct + 1 + n_const_res:]
    t_ct = [zeros_like_shape(c, a.shape, a.dtype) if t is None else t
            for c, t, a in zip(primals[:n_ct], tangents[:n_ct], bwd.in_avals[:n_ct])]
    t_tape = tangents[n_ct]
    t_cr = tangents[n_ct + 1:n_ct + 1 + n_const_res]
    n_res = len(bwd.inputs) - n_ct - n_const_res - n_flags
    mask = tuple([True] * n_ct + [t_tape is not None] * n_res + [False] * n_flags + [t is not None for t in t_cr])

    def make() -> Program:
        jvp_prog = _jvp_program(bwd, mask)
        n_in = len(bwd.inputs)
        chosen = [i for i in range(n_in) if mask[i]]
        t_pos = {i: n_in + k for k, i in enumerate(chosen)}
        # cotangents, residuals (then the flags, which have no tangents), invariants: each followed by tangents
        groups = ((0, n_ct), (n_ct, n_ct + n_res), (n_ct + n_res, n_ct + n_res + n_flags),
                  (n_ct + n_res + n_flags, n_in))
        in_order = [i for lo, hi in groups for i in list(range(lo, hi)) + [t_pos[j] for j in range(lo, hi) if mask[j]]]
        return _reorder(jvp_prog, in_order, range(2 * n_ct))

    new_bwd = _cached(bwd, ("while_bwd_jvp", mask, n_flags), make)
    joined = tape if t_tape is None else tape_zip_p.bind(tape, t_tape, n_a=n_res)[0]
    masked_t_cr = [t for t in t_cr if t is not None]
    outs = while_bwd_p.bind(*ct, *t_ct, joined, *const_res, *masked_t_cr, *bc, bwd=new_bwd, fwd=fwd,
                            n_ct=2 * n_ct, n_const_res=len(const_res) + len(masked_t_cr), n_carry=n_carry,
                            **_flags_param(n_flags))
    return list(outs[:n_ct]), list(outs[n_ct:])


def _while_fwd_vjp(primals: list, mask: tuple, cond: Program, body: Program, primal_body: Program, n_carry: int,
                   n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None
                   ) -> tuple[list, Callable[[list], list]]:
    """Reverse mode of a recording loop: it records each step's residuals and the residuals of
    the body's own forward program (always per step, also under ``checkpoint="sqrt"``); the
    backward pass is a ``tape_scan`` of the body's backward program over that tape, in reverse,
    reading the cotangents of the recorded residuals step by step. A batched loop (``vmap`` inside
    the derivative, ``tape_size``) keeps its flags last: its body freezes the finished examples
    itself, so its backward program leaves their cotangents unchanged."""
    nc, ncc = n_carry, n_cconsts
    n_flags = len(tape_size or ())
    n_res = len(body.outputs) - nc - n_flags
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    body_mask = tuple(carry_float + [bool(m) for m in mask[nc + ncc:]])
    fwd, step, n_r2 = _cached(body, ("while_fwd_vjp", body_mask, nc, n_flags),
                              lambda: _tape_vjp_plan(body, body_mask, nc, 0, n_flags=n_flags))
    outs = while_fwd_p.bind(*primals, cond=cond, body=fwd, primal_body=primal_body, n_carry=nc, n_cconsts=ncc,
                            checkpoint=None, tape_size=tape_size)
    tape, tape_r2 = tape_split_p.bind(outs[nc], n_res=n_res)
    masked_bc = [i for i in range(nc + ncc, len(primals)) if mask[i]]

    def backward(cts: list) -> list:
        ct_carry = [cts[j] for j in range(nc) if carry_float[j]]
        acc = [zeros_like_shape(primals[i], np.shape(primals[i]), _dtype(primals[i])) for i in masked_bc]
        res = tape_scan_p.bind(*ct_carry, *acc, tape_r2, cts[nc], body=step, n_carry=len(ct_carry) + len(acc),
                               widths=(n_r2, n_res + n_flags), reverse=True)
        ct_it = iter(res[:len(ct_carry)])
        in_cts: list = [(next(ct_it) if f else None) for f in carry_float]
        in_cts = [g if mask[j] else None for j, g in enumerate(in_cts)] + [None] * ncc
        acc_it = iter(res[len(ct_carry):len(ct_carry) + len(acc)])
        return in_cts + [next(acc_it) if mask[i] else None for i in range(nc + ncc, len(primals))]

    return list(outs[:nc]) + [tape], backward


def _while_bwd_vjp(primals: list, mask: tuple, bwd: Program, fwd: Program, n_ct: int, n_const_res: int,
                   n_carry: int, n_flags: int = 0) -> tuple[list, Callable[[list], list]]:
    """Reverse mode of the backward loop: it is a ``tape_scan`` of the backward body over the
    tape (and its flags), in reverse (a checkpointed tape expanded to every step first)."""
    n_step = len(bwd.inputs) - n_ct - n_const_res - n_flags
    tape = tape_steps_p.bind(primals[n_ct], *primals[n_ct + 1 + n_const_res:], fwd=fwd, n_carry=n_carry)[0]
    operands = list(primals[:n_ct]) + [tape] + list(primals[n_ct + 1:n_ct + 1 + n_const_res])
    outs, scan_bwd = _tape_scan_vjp(operands, tuple(mask[:n_ct + 1 + n_const_res]), body=bwd, n_carry=n_ct,
                                    widths=(n_step,), reads=(n_flags,), reverse=True)
    n_bc = len(primals) - n_ct - 1 - n_const_res

    def backward(cts: list) -> list:
        return list(scan_bwd(list(cts) + [_ZERO_TAPE_CT])) + [None] * n_bc

    return list(outs[:n_ct]), backward


def _while_fwd_batch(vals: tuple, dims: tuple, cond: Program, body: Program, primal_body: Program, n_carry: int,
                     n_cconsts: int, checkpoint: str | None, tape_size: tuple | None = None) -> tuple[list, list]:
    """vmap of a recording forward loop: every example runs until none continues; a finished
    example is frozen, and each step records which examples were active (the last residual),
    so the backward loop leaves the finished ones' cotangents untouched. The tape is returned
    as batched (axis 0, its abstract value shaped ``(size,)``), which tells the backward loop's
    batching rule it holds such steps. A loop already batched (nested vmap) is batched again
    the same way: its flags stay last, this level's after the inner ones', and the tape's shape
    grows in front.
    (Under vmap every step is recorded, also with ``checkpoint="sqrt"``.)"""
    from .. import numpy as fnp
    from ..prims.factories import batch_to_front

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
                     n_carry: int, n_flags: int = 0) -> tuple[list, list]:
    """vmap of the backward loop: over cotangents only (``jacrev``: the recorded forward pass is
    shared by the whole batch), or of a tape recorded by a batched forward loop (``vmap(grad)``:
    each step updates only the examples that were active in it)."""
    from ..prims.factories import batch_to_front

    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    cts = [batch_to_front(v, d, size=size) for v, d in zip(vals[:n_ct], dims[:n_ct])]
    const_res = list(vals[n_ct + 1:n_ct + 1 + n_const_res])
    cr_dims = tuple(dims[n_ct + 1:n_ct + 1 + n_const_res])
    n_step = len(bwd.inputs) - n_ct - n_const_res  # a step's entries and the flags of the inner levels
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
                            n_ct=n_ct, n_const_res=n_const_res, n_carry=n_carry,
                            **_flags_param(n_flags + (dims[n_ct] is not None)))
    return list(outs), [0] * n_ct


def _flags_param(n_flags: int) -> dict:
    """``n_flags`` as a parameter of a backward loop only when it reads flags (a loop that reads
    none has the parameters of an unbatched one, which the Numba loop kernels recognise)."""
    return {"n_flags": n_flags} if n_flags else {}


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
