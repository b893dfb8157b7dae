"""``tape_scan``: a scan over recorded tapes, which makes a differentiated while loop
differentiable again in reverse mode (and its own jvp, vjp and vmap)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import fresh_copies, zeros_like_shape
from ..core import Primitive
from ..ir.program import Program, ShapedArray
from ..traces.staging import eval_program, trace_to_program
from .programs import _batch_size, _cached, _dtype, _entry, _float, _fn, _reorder, _strong, _zeros
from .tape import _TAPE_AVAL, _Tape, _unwrap_tape, tape_split_p, tape_zip_p

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
    from ..prims.factories import batch_to_front

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


tape_scan_p: Primitive = Primitive(
    "tape_scan", _tape_scan_impl, multiple_results=True,
    abstract_eval=lambda *avals, body, n_carry, batch_size=None, **p: _strong(body.out_avals[:n_carry]) + [
        _TAPE_AVAL if batch_size is None else ShapedArray(batch_size, np.dtype(object))],
    jvp_all=_tape_scan_jvp, vjp_all=_tape_scan_vjp, batch=_tape_scan_batch, register=False)
