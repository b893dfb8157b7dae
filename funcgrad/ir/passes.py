"""Program-to-program passes: dead-code elimination, common-subexpression elimination,
constant folding, redundant-broadcast removal, and liveness (for freeing memory early).

Every pass returns a new program computing the same outputs; none mutates its argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from ..core import abstract_eval
from .program import Eqn, Literal, Program, Var

__all__ = ["dce", "cse", "fold_constants", "drop_broadcasts", "last_uses", "optimize", "inline_calls",
           "split_known"]


def dce(program: Program) -> Program:
    """Drop equations whose results no output depends on (primitives have no side effects)."""
    live = {a for a in program.outputs if type(a) is Var}
    kept = []
    add = live.add
    for e in reversed(program.eqns):
        if e.out in live if type(e.out) is Var else any(o in live for o in e.outs):
            kept.append(e)
            for a in e.inputs:
                if type(a) is Var:
                    add(a)
    kept.reverse()
    consts = {v: c for v, c in program.consts.items() if v in live}
    return program.replace(eqns=kept, consts=consts)


def _subst(atoms: Any, renames: dict) -> tuple:
    return tuple(renames.get(a, a) if isinstance(a, Var) else a for a in atoms)


def _as_tuple(out: Any) -> tuple:
    return out if type(out) is tuple else (out,)


def inline_calls(program: Program) -> Program:
    """Replace each equation of a primitive marked ``inline`` (a nested ``jit`` call) by the
    equations of the sub-program in its ``program`` parameter, so later passes see across it."""
    if not any(e.prim.inline for e in program.eqns):
        return program
    eqns: list = []
    consts = dict(program.consts)
    renames: dict = {}
    for e in program.eqns:
        ins = _subst(e.inputs, renames) if renames else e.inputs
        if not e.prim.inline:
            eqns.append(e if ins is e.inputs else e._replace(inputs=ins))
            continue
        sub = inline_calls(e.params["program"])
        env: dict = dict(zip(sub.inputs, ins))
        for v, c in sub.consts.items():
            nv = Var(v.aval)
            consts[nv] = c
            env[v] = nv
        for se in sub.eqns:
            new_outs = tuple(Var(o.aval) for o in se.outs)
            env.update(zip(se.outs, new_outs))
            eqns.append(Eqn(se.prim, tuple(env.get(a, a) if type(a) is Var else a for a in se.inputs),
                            new_outs if type(se.out) is tuple else new_outs[0], se.params))
        for o, so in zip(e.outs, sub.outputs):
            renames[o] = env.get(so, so) if type(so) is Var else so
    outputs = [renames.get(a, a) if type(a) is Var else a for a in program.outputs]
    return program.replace(eqns=eqns, consts=consts, outputs=outputs)


def cse(program: Program) -> Program:
    """Reuse the result of an equation already computed with the same primitive, operands and
    parameters, instead of computing it again."""
    seen: dict[tuple, Var] = {}
    renames: dict[Var, Var] = {}
    eqns = []
    for e in program.eqns:
        ins = _subst(e.inputs, renames) if renames else e.inputs
        try:
            key = (e.prim, ins, e.params_key())
            hash(key)
        except TypeError:
            eqns.append(e._replace(inputs=ins))
            continue
        prev = seen.get(key)
        if prev is not None and type(prev) is type(e.out) and all(
                p.aval == o.aval for p, o in zip(_as_tuple(prev), e.outs)):
            renames.update(zip(e.outs, _as_tuple(prev)))
            continue
        seen[key] = e.out
        eqns.append(e if ins is e.inputs else e._replace(inputs=ins))
    if not renames:
        return program
    return program.replace(eqns=eqns, outputs=list(_subst(program.outputs, renames)))


def fold_constants(program: Program, max_size: int = 1 << 20) -> Program:
    """Evaluate equations whose operands are all constants or literals, once, at compile time.

    Results larger than ``max_size`` elements stay computed at run time (so a broadcast of a
    scalar does not become a huge stored constant).
    """
    consts = dict(program.consts)
    eqns = []
    for e in program.eqns:
        if type(e.out) is Var and all(isinstance(a, Literal) or a in consts for a in e.inputs):
            size = int(np.prod(e.out.aval.shape, dtype=np.int64))
            if size <= max_size:
                args = [a.value if isinstance(a, Literal) else consts[a] for a in e.inputs]
                consts[e.out] = as_array(e.prim.impl(*args, **e.params))  # a Dask/CuPy result stays one
                continue
        eqns.append(e)
    if len(eqns) == len(program.eqns):
        return program
    return dce(program.replace(eqns=eqns, consts=consts))


def _only_broadcasts(e: Eqn) -> bool:
    """Is ``e`` a broadcast_to, or a reshape that only prepends size-1 axes?"""
    if type(e.out) is not Var or not e.inputs:
        return False
    if not isinstance(e.inputs[0], Var) or e.inputs[0].aval.dtype != e.out.aval.dtype:
        return False
    if e.prim.shape_role == "broadcast":
        return True
    if e.prim.shape_role == "reshape":
        src, out = e.inputs[0].aval.shape, e.out.aval.shape
        k = len(out) - len(src)
        return k >= 0 and out == (1,) * k + src
    return False


def _same_result(user: Eqn, bcast: Var, src: Var, renames: dict) -> bool:
    """Does ``user`` still give its declared shape and dtype with ``bcast`` replaced by ``src``
    (and the broadcasts already chosen for removal by theirs)? Not when its other operand is
    the same broadcast (``b * b``) or another removed broadcast, nor when ``src`` is a weakly
    typed Python scalar, which NumPy would promote differently (``float32 + 1.0``)."""
    ins = [src if a is bcast else renames.get(a, a) for a in user.inputs]
    got = abstract_eval(user.prim, [a.aval if type(a) is Var else a for a in ins], user.params)
    return (got.shape, got.dtype) == (user.out.aval.shape, user.out.aval.dtype)


def drop_broadcasts(program: Program) -> Program:
    """Remove a ``broadcast_to`` (or a reshape that only prepends size-1 axes) whose every use
    is an elementwise operation that broadcasts anyway — its other operand already has the
    result's shape — as hand-written NumPy would."""
    for _ in range(4):  # a removal can expose another (reshape feeding a broadcast)
        if not any(_only_broadcasts(e) for e in program.eqns):
            return program
        uses: dict[Var, list[tuple[Eqn, int]]] = {}
        for e in program.eqns:
            for k, a in enumerate(e.inputs):
                if type(a) is Var:
                    uses.setdefault(a, []).append((e, k))
        outputs = {a for a in program.outputs if type(a) is Var}
        renames: dict[Var, Var] = {}
        for e in program.eqns:
            if e.out in outputs or not uses.get(e.out) or not _only_broadcasts(e):
                continue
            for user, k in uses[e.out]:
                other = user.inputs[1 - k] if len(user.inputs) == 2 else None
                if (not user.prim.broadcasting_binary or type(other) is not Var
                        or np.broadcast_shapes(other.aval.shape, e.out.aval.shape) != other.aval.shape
                        or not _same_result(user, e.out, e.inputs[0], renames)):
                    break
            else:
                renames[e.out] = e.inputs[0]
        if not renames:
            return program
        program = program.replace(eqns=[e._replace(inputs=_subst(e.inputs, renames))
                                        for e in program.eqns if e.out not in renames])
    return program


def last_uses(program: Program) -> dict[int, list[Var]]:
    """For each equation index, the variables whose last use is that equation (and that are
    neither outputs nor constants): they can be freed right after it."""
    keep = {a for a in program.outputs if isinstance(a, Var)} | set(program.consts)
    seen: set[Var] = set()
    result: dict[int, list[Var]] = {}
    for k in range(len(program.eqns) - 1, -1, -1):
        dying = []
        for a in program.eqns[k].inputs:
            if isinstance(a, Var) and a not in seen and a not in keep:
                seen.add(a)
                dying.append(a)
        if dying:
            result[k] = dying
    return result


def optimize(program: Program) -> Program:
    """The standard pipeline run before code generation."""
    return dce(drop_broadcasts(cse(fold_constants(inline_calls(program)))))


def split_known(program: Program, n_known_inputs: int, n_known_outputs: int) -> tuple[Program, Program]:
    """Split ``program`` into the part computable from its first ``n_known_inputs`` inputs and
    the rest (partial evaluation), for reverse mode: the joint program of a forward and a
    backward pass becomes a forward program and a backward program.

    The first ``n_known_outputs`` outputs must be known. Returns ``(known, unknown)``:
    ``known`` maps the known inputs to those outputs followed by the residuals (known values the
    unknown equations or outputs read); ``unknown`` maps the other inputs followed by the
    residuals to the remaining outputs. Constants stay constants of whichever part uses them.
    """
    known = set(program.inputs[:n_known_inputs]) | set(program.consts)
    known_eqns, unknown_eqns = [], []
    for e in program.eqns:
        if all(type(a) is not Var or a in known for a in e.inputs):
            known_eqns.append(e)
            known.update(e.outs)
        else:
            unknown_eqns.append(e)
    for a in program.outputs[:n_known_outputs]:
        if type(a) is Var and a not in known:
            raise ValueError("split_known: an output declared known depends on an unknown input")
    unknown = dce(Program(program.inputs[n_known_inputs:], unknown_eqns, program.outputs[n_known_outputs:],
                          program.consts))
    residuals: list[Var] = []
    seen: set[Var] = set()
    for atoms in [e.inputs for e in unknown.eqns] + [unknown.outputs]:
        for a in atoms:
            if type(a) is Var and a in known and a not in seen and a not in program.consts:
                seen.add(a)
                residuals.append(a)
    names = program.input_names
    unknown = unknown.replace(inputs=unknown.inputs + residuals,
                              input_names=names[n_known_inputs:] + [f"residual {k}" for k in range(len(residuals))])
    fwd = dce(Program(program.inputs[:n_known_inputs], known_eqns,
                      list(program.outputs[:n_known_outputs]) + residuals, program.consts,
                      names[:n_known_inputs]))
    return fwd, unknown
