"""The ``while`` primitive (and its ``checkpoint="sqrt"`` variant): impl, jvp (a loop carrying
tangents), vjp (a recording loop and a backward loop, see :mod:`.while_reverse`) and vmap."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import fresh_copies, zeros_like_shape
from ..core import Primitive
from ..ir.passes import dce
from ..ir.program import Program
from ..traces.staging import eval_program
from .programs import (
    _cached,
    _classify_residuals,
    _dtype,
    _entry,
    _float,
    _fn,
    _invariants,
    _like,
    _reorder,
    _strong,
    _trace_like,
    _where_active,
    _with_unused_inputs,
    _zeros,
)
from .while_reverse import while_bwd_p, while_fwd_p


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
    from .. import numpy as fnp
    from ..prims.factories import batch_to_front

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
