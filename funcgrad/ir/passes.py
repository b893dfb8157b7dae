"""Program-to-program passes: dead-code elimination, common-subexpression elimination,
constant folding, redundant-broadcast removal, and liveness (for freeing memory early).

Every pass returns a new program computing the same outputs; none mutates its argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .program import Eqn, Literal, Program, Var

__all__ = ["dce", "cse", "fold_constants", "drop_broadcasts", "last_uses", "optimize"]


def dce(program: Program) -> Program:
    """Drop equations whose results no output depends on (primitives have no side effects)."""
    live = {a for a in program.outputs if type(a) is Var}
    kept = []
    add = live.add
    for e in reversed(program.eqns):
        if e.out in live:
            kept.append(e)
            for a in e.inputs:
                if type(a) is Var:
                    add(a)
    kept.reverse()
    consts = {v: c for v, c in program.consts.items() if v in live}
    return program.replace(eqns=kept, consts=consts)


def _subst(atoms: Any, renames: dict) -> tuple:
    return tuple(renames.get(a, a) if isinstance(a, Var) else a for a in atoms)


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
        if prev is not None and prev.aval == e.out.aval:
            renames[e.out] = prev
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
        if all(isinstance(a, Literal) or a in consts for a in e.inputs) and e.out.aval.shape is not None:
            size = int(np.prod(e.out.aval.shape, dtype=np.int64))
            if size <= max_size:
                args = [a.value if isinstance(a, Literal) else consts[a] for a in e.inputs]
                consts[e.out] = np.asarray(e.prim.impl(*args, **e.params))
                continue
        eqns.append(e)
    if len(eqns) == len(program.eqns):
        return program
    return dce(program.replace(eqns=eqns, consts=consts))


_BROADCASTING_BINARY = {"add", "subtract", "multiply", "true_divide"}


def _only_broadcasts(e: Eqn) -> bool:
    """Is ``e`` a broadcast_to, or a reshape that only prepends size-1 axes?"""
    if not isinstance(e.inputs[0], Var) or e.inputs[0].aval.dtype != e.out.aval.dtype:
        return False
    if e.prim.name == "broadcast_to":
        return True
    if e.prim.name == "reshape":
        src, out = e.inputs[0].aval.shape, e.out.aval.shape
        k = len(out) - len(src)
        return k >= 0 and out == (1,) * k + src
    return False


def _same_result(user: Eqn, bcast: Var, src: Var, renames: dict) -> bool:
    """Does ``user`` still give its declared shape and dtype with ``bcast`` replaced by ``src``
    (and the broadcasts already chosen for removal by theirs)? Not when its other operand is
    the same broadcast (``b * b``) or another removed broadcast, nor when ``src`` is a weakly
    typed Python scalar, which NumPy would promote differently (``float32 + 1.0``)."""
    from ..traces.staging import abstract_eval

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
                if (user.prim.name not in _BROADCASTING_BINARY or type(other) is not Var
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
    return dce(drop_broadcasts(cse(fold_constants(program))))
