"""The ``scan`` primitive: impl (unrolled chunks, hoisted work), abstract eval, jvp, vjp (stacked
residuals, a reverse scan of the backward body) and vmap."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import foreign_of, fresh_copies, zeros_like_shape
from ..core import Primitive
from ..ir.passes import dce
from ..ir.program import Program, ShapedArray
from ..traces.staging import eval_program
from .drivers import _scan_steps
from .programs import (
    _cached,
    _classify_residuals,
    _differentiable,
    _dtype,
    _entry,
    _float,
    _fn,
    _invariants,
    _like,
    _reorder,
    _strong,
    _trace_like,
    _zeros,
)
from .scan_hoist import _HOIST_BYTES, _hoist_plan, _scan_hoisted
from .tape import tape_moveaxis_p


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


def _unrolled(body: Program, n_carry: int, n_xs: int, k: int, reverse: bool) -> Program:
    """A body doing ``k`` steps: xs and ys come in chunks of ``k`` along axis 0."""
    def make() -> Program:
        from .. import numpy as fnp

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
        y_float = [_differentiable(a) for a in body.out_avals[nc:]]  # (tapes recorded in a step too)
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
    t_ys = [next(t_ys_it) if _differentiable(a) else None for a in body.out_avals[nc:]]
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
    from ..prims.factories import batch_to_front
    from ..prims.shape import transpose

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
            if _is_tapes(v):  # stacked tapes: moved with their tangents and cotangents
                v = v if d == 1 else tape_moveaxis_p.bind(v, source=d, destination=1)[0]
            elif d != 1:
                v = batch_to_front(v, d)
                v = transpose(v, axes=(1, 0) + tuple(range(2, len(v.shape))))
            operands.append(v)
            body_dims.append(0)
        else:
            operands.append(tape_moveaxis_p.bind(v, source=d, destination=0)[0] if _is_tapes(v) and d
                            else batch_to_front(v, d))
            body_dims.append(0)
    batched = _entry(body).batched_entry(tuple(body_dims), size).program
    outs = scan_p.bind(*operands, body=batched, n_carry=nc, n_xs=nx, length=length, reverse=reverse,
                       unroll=unroll)
    # The tapes a step records come out stacked (steps, batch): moved to the front here, by a
    # primitive that keeps their derivatives (the vmap would transpose them, dropping those).
    ys = [tape_moveaxis_p.bind(y, source=1, destination=0)[0] if _is_tapes(y) else y for y in outs[nc:]]
    return list(outs[:nc]) + ys, [0] * nc + [0 if _is_tapes(y) else 1 for y in outs[nc:]]


def _is_tapes(x: Any) -> bool:
    return np.dtype(x.dtype) == object


scan_p = Primitive("scan", _scan_impl, multiple_results=True, abstract_eval=_scan_abstract,
                   jvp_all=_scan_jvp, vjp_all=_scan_vjp, batch=_scan_batch, register=False)


def bind_scan(body: Program, carry: Sequence[Any], xs: Sequence[Any], consts: Sequence[Any], length: int,
              reverse: bool = False, unroll: int = 1) -> list:
    """Run ``body`` (inputs: carries, one slice of each xs, invariants; outputs: carries, ys) over
    ``length`` steps; returns the final carries and the stacked ys."""
    return scan_p.bind(*carry, *xs, *consts, body=body, n_carry=len(carry), n_xs=len(xs), length=int(length),
                       reverse=bool(reverse), unroll=int(unroll))
