"""The ``cond`` primitive: only the taken branch runs, in the primal and in every derived program;
under vmap with a batched index every branch runs and each example selects its own."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import zeros_like_shape
from ..core import Primitive
from ..ir.program import Program
from ..traces.staging import eval_program
from .programs import _cached, _differentiable, _entry, _strong, _trace_like, _zeros
from .tape import tape_pick_p


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
    return list(outs[:n]), [t if _differentiable(a) else None for t, a in zip(outs[n:], branches[0].out_avals)]


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
    from .. import numpy as fnp
    from ..jit import jit_call_p
    from ..prims.factories import batch_to_front

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
        if np.dtype(branches[0].out_avals[j].dtype) == object:  # a tape slot: one branch records it
            result.append(tape_pick_p.bind(*(o[j] for o in outs))[0])
            continue
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
