"""Which results of a NumPy program may be computed into a dead operand's buffer (``out=``).

Hand-written NumPy code updates temporaries in place (``np.exp(t, out=t)``) once nothing else
needs them. Generated code does the same, only where it is provably safe:

- the program runs on NumPy values: every constant is one, and the generated code checks that
  every argument is one (an exact ``ndarray``, a NumPy scalar or a Python number) before running
  the specialised code, so that each ufunc returns a new NumPy array;
- the buffer is *owned*: the result of a NumPy ufunc or a reduction (``shape_role ==
  "reduce"``) in this program, a new array; never an input, a constant or a literal, and not
  0-d (NumPy returns scalars there);
- nothing still needed shares its memory: every value that may be a view of it (the result of
  any operation other than a ufunc is assumed to possibly share memory with its operands) is
  dead after the writing equation, and none is an output;
- the writing equation is an elementwise ufunc (``signature is None``, one result) reading the
  buffer as an operand, with the buffer's exact shape and dtype as its result.

A user's input or a returned array is therefore never overwritten, and nothing is donated.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .program import Eqn, Program, Var

__all__ = ["BufferPlan", "plan_buffers", "numpy_program", "plain_ufunc"]

_NUMPY_CONSTS = (np.ndarray, np.generic, bool, int, float, complex)


class BufferPlan(NamedTuple):
    """``writes``: equation index -> the operand whose buffer receives its result; ``fresh``:
    results that are new arrays sharing memory with nothing else when made; ``numpy``: values
    known to be NumPy arrays or NumPy scalars (not another library's arrays, not Python numbers)."""

    writes: dict[int, Var]
    fresh: frozenset[Var]
    numpy: frozenset[Var]


def numpy_program(program: Program) -> bool:
    """Can ``program`` be specialised for NumPy arguments: are its constants NumPy values (or
    Python numbers)? (The generated code checks its arguments' types on each call.)"""
    return all(type(c) in _NUMPY_CONSTS or isinstance(c, np.generic) for c in program.consts.values())


def plain_ufunc(e: Eqn) -> np.ufunc | None:
    """The NumPy ufunc ``e`` calls with its operands alone, if it is one (one result)."""
    impl = e.prim.impl
    if type(impl) is np.ufunc and e.prim.emit is None and not e.params and type(e.out) is Var and impl.nout == 1:
        return impl
    return None


def _has_program(params: dict) -> bool:
    for v in params.values():
        if isinstance(v, Program) or (type(v) in (tuple, list) and any(isinstance(x, Program) for x in v)):
            return True
    return False


def plan_buffers(program: Program) -> BufferPlan:
    """Choose the in-place writes of ``program``, assuming NumPy arguments (none unless
    :func:`numpy_program`)."""
    if not numpy_program(program):
        return BufferPlan({}, frozenset(), frozenset())
    eqns = program.eqns
    numpy_vals: set[Var] = {v for v, c in program.consts.items() if isinstance(c, (np.ndarray, np.generic))}
    ok: set[Var] = set(program.inputs) | set(program.consts)  # NumPy arrays or Python numbers
    fresh: set[Var] = set()
    nothing: frozenset[Var] = frozenset()
    shares: dict[Var, frozenset[Var]] = {}  # value -> owned buffers it may share memory with
    ufuncs: list[np.ufunc | None] = []
    for e in eqns:
        u = plain_ufunc(e)
        ufuncs.append(u)
        out = e.out
        single = type(out) is Var
        operands_ok = True
        for a in e.inputs:
            if type(a) is Var and a not in ok:
                operands_ok = False
                break
        if operands_ok and (not e.params or not _has_program(e.params)):
            if single:
                ok.add(out)
            else:
                ok.update(out)
            if u is not None or e.prim.shape_role == "reduce":
                if single:
                    numpy_vals.add(out)  # NumPy arrays or scalars, never Python numbers
                    # A new value: a new array (a buffer of its own), or a NumPy scalar if 0-d.
                    if out.aval.shape == ():
                        shares[out] = nothing
                    else:
                        fresh.add(out)
                        shares[out] = frozenset((out,))
                    continue
                numpy_vals.update(out)
        mine = nothing
        for a in e.inputs:
            if type(a) is Var:
                found = shares.get(a, nothing)
                if found:
                    mine = mine | found if mine else found
        if single:
            shares[out] = mine
        else:
            for o in out:
                shares[o] = mine
    # The last equation reading each value (outputs: never dead), then each buffer's last use
    # through any value that may share it.
    never = len(eqns)
    last: dict[Var, int] = {}
    for k, e in enumerate(eqns):
        for a in e.inputs:
            if type(a) is Var:
                last[a] = k
    for a in program.outputs:
        if type(a) is Var:
            last[a] = never
    end: dict[Var, int] = {}
    for k, e in enumerate(eqns):
        for v in (e.out,) if type(e.out) is Var else e.out:
            owners = shares.get(v)
            if owners:
                at = last.get(v, k)
                for b in owners:
                    if end.get(b, -1) < at:
                        end[b] = at
    writes: dict[int, Var] = {}
    for k, e in enumerate(eqns):
        u = ufuncs[k]
        if u is None or u.signature is not None or e.out not in fresh:
            continue
        out = e.out.aval
        for a in e.inputs:
            if (type(a) is Var and a in fresh and end.get(a) == k and a.aval.shape == out.shape
                    and a.aval.dtype == out.dtype):
                writes[k] = a
                break
    return BufferPlan(writes, frozenset(fresh), frozenset(numpy_vals))
