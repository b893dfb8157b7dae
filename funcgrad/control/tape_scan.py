"""``tape_scan``: a scan over recorded tapes, which makes a differentiated while loop
differentiable again in reverse mode (and its own jvp, vjp and vmap)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import fresh_copies, zeros_like_shape
from ..core import Primitive
from ..ir.program import Program, ShapedArray
from ..traces.staging import eval_program, trace_to_program
from .programs import (
    _batch_size,
    _cached,
    _differentiable,
    _dtype,
    _entry,
    _float,
    _fn,
    _jvp_program,
    _reorder,
    _strong,
    _trace_like,
    _where_active,
    _zeros,
)
from .tape import _fit, _read_flags, _Tape, _unwrap_tape, tape_split_p, tape_zip_p

# --- reverse mode of a differentiated while loop (second derivatives, reverse over reverse) -----
#
# The forward pass of a differentiated while loop records a tape; its backward pass runs the body's
# backward program once per recorded step. Both are differentiable again, at any order, through one
# more primitive, ``tape_scan``: a scan whose xs and ys are tapes (one entry per recorded step, the
# number of steps known only at run time). Its derivative is again a pair of ``tape_scan``s, like
# ``scan``'s. A tape's cotangent (or tangent) is a tape of the cotangents of its entries; a zero
# cotangent (0 at run time) reads as zeros at every step.
#
# Parameters: ``widths[j]``, the entries of tape j each step gives the body; ``reads[j]``, how many
# of tape j's flags (the last ones, see ``_Tape``) follow them; ``batch_size``, the vmap levels it
# was batched by (the body's last ``len(batch_size)`` outputs are the flags of the tape it makes).


def _tape_rows(t: Any, width: int, reads: int, avals: Sequence[Any]) -> Callable[[int], list]:
    """The values tape ``t`` gives the body at step ``i``: its entries (entries of zero cotangents
    left out or None read as zeros) followed by its last ``reads`` flags (a zero tape's as True)."""
    t = _unwrap_tape(t)
    entry_avals, flag_avals = avals[:width], avals[width:]
    if not isinstance(t, _Tape):
        fixed = [_zeros(a) for a in entry_avals] + [np.ones(tuple(a.shape), bool) for a in flag_avals]
        return lambda i: fixed
    if t.steps is None:  # pragma: no cover - tape_steps expands checkpointed tapes first
        raise AssertionError("tape_scan reads per-step tapes only")
    steps, flags = t.steps, t.flags

    def row(i: int) -> list:
        got = list(steps[i])
        assert len(got) <= width, (len(got), width)
        vals = [_fit(v, a) for v, a in zip(got + [None] * (width - len(got)), entry_avals)]
        return vals + _read_flags(None if flags is None else flags[i], reads, flag_avals)

    return row


def _tape_length(tapes: Sequence[Any]) -> int:
    for t in tapes:
        t = _unwrap_tape(t)
        if isinstance(t, _Tape) and t.steps is not None:
            return len(t.steps)
    raise AssertionError("every tape_scan reads at least one recorded tape")  # pragma: no cover


def _tape_scan_impl(*args: Any, body: Program, n_carry: int, widths: tuple, reverse: bool,
                    reads: tuple | None = None, batch_size: tuple | None = None,
                    tape_shape: tuple | None = None) -> list:
    nc, nt = n_carry, len(widths)
    reads = reads or (0,) * nt
    carry: Sequence[Any] = args[:nc]
    tapes = args[nc:nc + nt]
    consts = args[nc + nt:]
    rows = []
    at = nc
    for t, w, r in zip(tapes, widths, reads):
        rows.append(_tape_rows(t, w, r, body.in_avals[at:at + w + r]))
        at += w + r
    length = _tape_length(tapes)
    k = len(batch_size or ())
    fn = _fn(body)
    ys: list = [None] * length
    flags: list | None = [None] * length if k else None
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        out = fn(*carry, *(v for row in rows for v in row(i)), *consts)
        carry = out[:nc]
        ys[i] = tuple(out[nc:len(out) - k])
        if flags is not None:
            flags[i] = tuple(out[len(out) - k:])
    return fresh_copies(carry) + [_Tape(steps=ys, shape=_out_shape(batch_size, tape_shape), flags=flags)]


def _out_shape(batch_size: tuple | None, tape_shape: tuple | None) -> tuple:
    """The shape of the tape a tape_scan makes: its batch sizes, unless told (a cotangent tape
    has the shape of the tape it is the cotangent of)."""
    return tuple(batch_size or ()) if tape_shape is None else tuple(tape_shape)


def _tape_scan_vjp(primals: list, mask: tuple, body: Program, n_carry: int, widths: tuple,
                   reverse: bool, reads: tuple | None = None, batch_size: tuple | None = None,
                   tape_shape: tuple | None = None) -> tuple[list, Callable[[list], list]]:
    nc, nt = n_carry, len(widths)
    reads = reads or (0,) * nt
    k = len(batch_size or ())
    is_entry = [i < w for w, r in zip(widths, reads) for i in range(w + r)]
    tape_of = [j for j, (w, r) in enumerate(zip(widths, reads)) for _ in range(w + r)]
    n_tv = len(is_entry)
    ny = len(body.outputs) - nc - k
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    value_mask = [bool(mask[nc + j]) and e and _differentiable(a)
                  for j, e, a in zip(tape_of, is_entry, body.in_avals[nc:nc + n_tv])]
    body_mask = tuple(carry_float + value_mask + [bool(m) for m in mask[nc + nt:]])
    fwd, step, n_res = _cached(body, ("tape_scan_vjp", body_mask, nc, tuple(is_entry), k),
                               lambda: _tape_vjp_plan(body, body_mask, nc, n_tv, is_entry, k, pass_flags=True))
    outs = tape_scan_p.bind(*primals, body=fwd, n_carry=nc, widths=widths, reads=reads, reverse=reverse,
                            batch_size=batch_size, tape_shape=tape_shape)
    tape_y, tape_r = tape_split_p.bind(outs[nc], n_res=ny)
    # the cotangents of the tapes read come out as one tape, then split into one shaped as each tape
    shapes = [tuple(np.shape(primals[nc + j])) for j in range(nt)]
    masked_consts = [i for i in range(nc + nt, len(primals)) if mask[i]]

    def backward(cts: list) -> list:
        ct_carry = [cts[j] for j in range(nc) if carry_float[j]]
        acc = [zeros_like_shape(primals[i], np.shape(primals[i]), _dtype(primals[i])) for i in masked_consts]
        res = tape_scan_p.bind(*ct_carry, *acc, tape_r, cts[nc], body=step, n_carry=len(ct_carry) + len(acc),
                               widths=(n_res, ny + k), reads=(k, 0), reverse=not reverse, batch_size=batch_size,
                               tape_shape=shapes[0])
        ct_it = iter(res[:len(ct_carry)])
        in_cts: list = [(next(ct_it) if f else None) for f in carry_float]
        in_cts = [g if mask[j] else None for j, g in enumerate(in_cts)]
        rest = res[-1]  # per step: the cotangents of every tape's entries, tape after tape
        for j, w in enumerate(widths):
            first, rest = tape_split_p.bind(rest, n_res=w, shapes=(shapes[j], shapes[j + 1])) if j < nt - 1 \
                else (rest, None)
            in_cts.append(first if mask[nc + j] else None)
        acc_it = iter(res[len(ct_carry):len(ct_carry) + len(acc)])
        in_cts += [next(acc_it) if mask[i] else None for i in range(nc + nt, len(primals))]
        return in_cts

    return list(outs[:nc]) + [tape_y], backward


def _tape_vjp_plan(body: Program, body_mask: tuple, nc: int, n_tv: int, is_entry: Sequence[bool] | None = None,
                   n_flags: int = 0, pass_flags: bool = False) -> tuple[Program, Program, int]:
    """For a loop body (carries, ``n_tv`` per-step values, invariants -> carries, per-step
    outputs, ``n_flags`` flags): its forward program (carries, per-step outputs, residuals,
    flags), the number of residuals, and the step of the backward loop: (float carries'
    cotangents, accumulated cotangents of the masked invariants, residuals, [the flags, with
    ``pass_flags``], cotangents of the per-step outputs and flags) -> (the carries' cotangents,
    the accumulators, per step: the cotangents of the per-step values that are entries of a tape
    (``is_entry``, default all), [the flags])."""
    fwd_e, bwd_e = _entry(body).vjp_parts(body_mask)
    fwd, bwd = fwd_e.program, bwd_e.program
    n_out = len(body.outputs)
    n_res = len(fwd.outputs) - n_out
    if n_flags:  # the flags last, after the residuals (the tape's flags are its step's last outputs)
        fwd = _reorder(fwd, range(len(fwd.inputs)), list(range(n_out - n_flags)) + list(
            range(n_out, n_out + n_res)) + list(range(n_out - n_flags, n_out)))
    is_entry = [True] * n_tv if is_entry is None else list(is_entry)
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    masked = [i for i, m in enumerate(body_mask) if m]
    masked_consts = [i for i in masked if i >= nc + n_tv]
    n_fc, n_mc = sum(carry_float), len(masked_consts)
    n_pass = n_flags if pass_flags else 0
    value_avals = _strong(body.in_avals[nc:nc + n_tv])

    def step(*args: Any) -> list:
        ct_carry, acc = args[:n_fc], args[n_fc:n_fc + n_mc]
        at = n_fc + n_mc
        res, passed, ct_y = args[at:at + n_res], args[at + n_res:at + n_res + n_pass], args[at + n_res + n_pass:]
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
        ct_values = [g for g, e in zip(ct_values, is_entry) if e]
        return ct_carry_in + [a + c for a, c in zip(acc, ct_c)] + ct_values + list(passed)

    flag_avals = list(body.out_avals[n_out - n_flags:n_out]) if n_pass else []
    avals = ([a for a, f in zip(_strong(body.out_avals[:nc]), carry_float) if f]
             + [body.in_avals[i] for i in masked_consts] + list(fwd.out_avals[n_out - n_flags:n_out - n_flags + n_res])
             + flag_avals + list(body.out_avals[nc:]))
    step_prog = trace_to_program(step, _strong(avals), [f"in{i}" for i in range(len(avals))])[0]
    return fwd, step_prog, n_res


def _tape_scan_jvp(primals: list, tangents: list, body: Program, n_carry: int, widths: tuple,
                   reverse: bool, reads: tuple | None = None, batch_size: tuple | None = None,
                   tape_shape: tuple | None = None) -> tuple[list, list]:
    nc, nt = n_carry, len(widths)
    reads = reads or (0,) * nt
    k = len(batch_size or ())
    ny = len(body.outputs) - nc - k
    carry_float = [_float(a) for a in body.in_avals[:nc]]
    tape_t = [tangents[nc + j] is not None for j in range(nt)]
    mask = tuple(carry_float + [tape_t[j] and i < w for j, (w, r) in enumerate(zip(widths, reads))
                                for i in range(w + r)] + [t is not None for t in tangents[nc + nt:]])
    t_carry = [_zeros(body.in_avals[j]) if tangents[j] is None else tangents[j] for j in range(nc) if carry_float[j]]

    def make() -> Program:
        jvp_prog = _jvp_program(body, mask)
        n_in = len(body.inputs)
        t_pos = {i: n_in + k for k, i in enumerate(i for i in range(n_in) if mask[i])}
        in_order = list(range(nc)) + [t_pos[j] for j in range(nc) if mask[j]]
        at = nc
        for j, (w, r) in enumerate(zip(widths, reads)):  # each tape's values, their tangents, its flags
            in_order += list(range(at, at + w)) + ([t_pos[i] for i in range(at, at + w)] if tape_t[j] else [])
            in_order += list(range(at + w, at + w + r))
            at += w + r
        in_order += list(range(at, n_in)) + [t_pos[i] for i in range(at, n_in) if mask[i]]
        n_out = len(body.outputs)
        out_order = (list(range(nc)) + [n_out + j for j in range(nc) if carry_float[j]] + list(range(nc, nc + ny))
                     + [n_out + nc + j for j in range(ny)] + list(range(nc + ny, n_out)))
        return _reorder(jvp_prog, in_order, out_order)

    new_body = _cached(body, ("tape_scan_jvp", mask, nc, widths, reads, k), make)
    tapes: list = []
    new_widths: list = []
    for j, w in enumerate(widths):
        tapes.append(primals[nc + j] if not tape_t[j] else tape_zip_p.bind(primals[nc + j], tangents[nc + j], n_a=w)[0])
        new_widths.append(2 * w if tape_t[j] else w)
    t_consts = [t for t in tangents[nc + nt:] if t is not None]
    outs = tape_scan_p.bind(*primals[:nc], *t_carry, *tapes, *primals[nc + nt:], *t_consts, body=new_body,
                            n_carry=nc + len(t_carry), widths=tuple(new_widths), reads=reads, reverse=reverse,
                            batch_size=batch_size, tape_shape=tape_shape)
    tape, t_tape = tape_split_p.bind(outs[-1], n_res=ny)
    it = iter(outs[nc:nc + len(t_carry)])
    return list(outs[:nc]) + [tape], [next(it) if f else None for f in carry_float] + [t_tape]


def _tape_scan_batch(vals: tuple, dims: tuple, body: Program, n_carry: int, widths: tuple, reverse: bool,
                     reads: tuple | None = None, batch_size: tuple | None = None,
                     tape_shape: tuple | None = None) -> tuple[list, list]:
    """vmap of a tape scan: every carry batched, a batched tape's entries batched along axis 0 at
    every step. A tape batched here holds, as its last flag, which examples of this level still
    ran at each step: the new body reads it (one more flag of that tape), keeps the finished
    examples' carries, gives them zero outputs, and passes the flags on as its last output (the
    flags of the tape it makes; all True when no tape read here is batched)."""
    from .. import numpy as fnp
    from ..prims.factories import batch_to_front

    nc, nt = n_carry, len(widths)
    reads = reads or (0,) * nt
    k = len(batch_size or ())
    size = _batch_size(vals, dims)
    batched_tape = [dims[nc + j] is not None for j in range(nt)]
    operands: list = []
    body_dims: list = []
    for i, (v, d) in enumerate(zip(vals, dims)):
        if i < nc:
            operands.append(batch_to_front(v, d, size=size))
            body_dims.append(0)
        elif i < nc + nt:
            operands.append(v)
            body_dims += [None if d is None else 0] * (widths[i - nc] + reads[i - nc])
        else:
            operands.append(v if d is None else batch_to_front(v, d))
            body_dims.append(None if d is None else 0)
    n_out = len(body.outputs)
    ny = n_out - nc - k

    def make() -> Program:
        inner = _entry(body).batched_entry(tuple(body_dims), size).program
        avals = _strong(inner.in_avals[:nc])
        at = nc
        for j, (w, r) in enumerate(zip(widths, reads)):
            avals += _strong(inner.in_avals[at:at + w + r])
            if batched_tape[j]:
                avals.append(ShapedArray((size,), np.dtype(bool)))
            at += w + r
        avals += _strong(inner.in_avals[at:])

        def step(*args: Any) -> list:
            it = iter(args)
            carry = [next(it) for _ in range(nc)]
            values: list = []
            new_flags: list = []
            for j, (w, r) in enumerate(zip(widths, reads)):
                values += [next(it) for _ in range(w + r)]
                if batched_tape[j]:
                    new_flags.append(next(it))
            out = eval_program(inner, *carry, *values, *it)
            if not new_flags:
                return list(out) + [fnp.ones((size,), bool)]
            ran = new_flags[0]
            for f in new_flags[1:]:  # (a zero cotangent tape reads all True)
                ran = fnp.logical_and(ran, f)
            ys = [y if np.dtype(y.dtype) == object  # (a tape: the loops reading it keep the finished examples)
                  else fnp.where(fnp.reshape(ran, (size,) + (1,) * (len(y.shape) - 1)), y, fnp.zeros_like(y))
                  for y in out[nc:nc + ny]]
            return _where_active(ran, out[:nc], carry, size) + ys + list(out[nc + ny:]) + [ran]

        return _trace_like(body, step, avals, [f"in{i}" for i in range(len(avals))])

    new_body = _cached(body, ("tape_scan_batch", tuple(body_dims), tuple(batched_tape), size), make)
    new_reads = tuple(r + int(b) for r, b in zip(reads, batched_tape))
    outs = tape_scan_p.bind(*operands, body=new_body, n_carry=nc, widths=widths, reads=new_reads, reverse=reverse,
                            batch_size=(size,) + (batch_size or ()),
                            tape_shape=(size,) + _out_shape(batch_size, tape_shape))
    return list(outs), [0] * (nc + 1)


tape_scan_p: Primitive = Primitive(
    "tape_scan", _tape_scan_impl, multiple_results=True,
    abstract_eval=lambda *avals, body, n_carry, batch_size=None, tape_shape=None, **p: _strong(
        body.out_avals[:n_carry]) + [ShapedArray(_out_shape(batch_size, tape_shape), np.dtype(object))],
    jvp_all=_tape_scan_jvp, vjp_all=_tape_scan_vjp, batch=_tape_scan_batch, register=False)
