"""Helpers shared by the loop and branch primitives: compiled sub-programs, program surgery
(reordering inputs/outputs, tracing a derived program), per-program caches, and the split of a
body's residuals into per-step values and loop invariants."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import staging_foreign
from ..ir.passes import dce
from ..ir.program import Program, ShapedArray, Var
from ..traces.staging import trace_to_program


def _entry(program: Program) -> Any:
    from ..jit import entry_of

    return entry_of(program, "body")


def _fn(program: Program) -> Callable[..., tuple]:
    """The compiled loop body or branch: outputs returned as computed (no copies per step)."""
    found = program.derived.get("loop_fn")
    if found is None:
        from ..ir.codegen import generate

        found = program.derived["loop_fn"] = generate(_entry(program).program, "body", fresh_outputs=False).fn
    return found


def _float(aval: Any) -> bool:
    return np.dtype(aval.dtype).kind in "fc"


def _differentiable(aval: Any) -> bool:
    """Whether a value has a derivative: a float or complex array, or a recorded tape (an object
    value; its tangent or cotangent is a tape of its entries' derivatives)."""
    kind = np.dtype(aval.dtype).kind
    return kind in "fc" or kind == "O"


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


def _jvp_program(program: Program, mask: tuple) -> Program:
    """``program``'s jvp program (inputs, then one tangent per input selected by ``mask``), where
    the tangents of integer and boolean inputs (a tape's boolean residuals and flags, whose
    tangents are zeros) are taken and ignored: a derivative with respect to them is not defined."""
    used = tuple(bool(m) and _differentiable(a) for m, a in zip(mask, program.in_avals))
    jvp_prog = _entry(program).jvp_entry(used).program
    if used == tuple(bool(m) for m in mask):
        return jvp_prog
    n_in = len(program.inputs)
    real = iter(jvp_prog.inputs[n_in:])
    tangents = [next(real) if u else Var(ShapedArray(tuple(a.shape), np.dtype(a.dtype)))
                for m, u, a in zip(mask, used, program.in_avals) if m]
    names = jvp_prog.input_names[:n_in] + [f"tangent {k}" for k in range(len(tangents))]
    return _like(Program(jvp_prog.inputs[:n_in] + tangents, jvp_prog.eqns, jvp_prog.outputs, jvp_prog.consts, names),
                 jvp_prog)


def _invariants(inv: Program | None, consts: Sequence[Any]) -> list:
    if inv is None:
        return []
    from ..jit import jit_call_p

    return list(jit_call_p.bind(*consts, program=inv))


def _batch_size(vals: Sequence[Any], dims: Sequence[Any]) -> int:
    """The vmapped axis' size, from the operands batched along ``dims``."""
    return next(v.shape[d] for v, d in zip(vals, dims) if d is not None)


def _where_active(active: Any, new: Sequence[Any], old: Sequence[Any], size: int) -> list:
    from .. import numpy as fnp

    return [fnp.where(fnp.reshape(active, (size,) + (1,) * (len(o.shape) - 1)), n, o) for n, o in zip(new, old)]
