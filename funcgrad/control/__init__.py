"""The loop and branch primitives behind :mod:`funcgrad.lax`: ``scan``, ``while`` and ``cond``.

Each holds closed sub-programs in its parameters (the loop body, the predicate, the branches)
and goes through ``bind`` like ``sin`` does. Their rules build new sub-programs from the old
ones, once per (program, mask), cached on the program:

* ``scan`` — jvp: a scan of the body's jvp program; vjp: a forward scan of the body's forward
  program that stacks only the residuals its backward program reads (loop-invariant residuals
  and slices of ``xs`` are not stacked), then a reverse scan of the backward program that
  accumulates the cotangents of the loop-invariant operands; vmap: a scan of the batched body.
  Its impl runs per step only what the carries depend on; work on the loop invariants runs
  once before the loop and the rest (per-step outputs, accumulators) once after it, batched.
* ``while`` — jvp: a while loop carrying tangents; vjp: the forward loop records its trip count
  and the residuals of each step (on a tape that is an opaque value of the program), and the
  backward loop runs the body's compiled backward program that many times, in reverse. With
  ``checkpoint="sqrt"`` the tape holds O(√n) carries and each segment is recomputed once.
  Both loops differentiate again (any order) through ``tape_scan``, a scan over tapes.
  vmap: one loop while any example continues, freezing the finished ones; the tape records
  which examples ran at each step, at every vmap level, and every body that reads a tape reads
  those flags as inputs and freezes the finished examples itself, so the derived programs of
  those bodies (any order, any nesting of vmap, jvp and vjp: ``jacrev(vmap(grad))``,
  ``vmap(vmap(jacrev(grad)))``, ``grad(jvp(grad))``) keep doing so.
* ``cond`` — every derived program is again a ``cond``: only the taken branch runs, in the
  primal and in every derivative (an untaken branch's ``inf``/``nan`` cannot poison a
  gradient). Under ``vmap`` with a batched index, every branch runs and results are selected.

Operand layouts: ``scan``: carries, xs, loop invariants (body: the same, with one slice of
each xs; outputs: carries, ys). ``while``: carries, predicate invariants, body invariants.
``cond``: index, operands (each branch takes every operand).

The package, one job per module:

* :mod:`.scan` — the ``scan`` primitive and its rules; :mod:`.scan_hoist` — how a scan body runs
  (invariant work before the loop, per-step outputs and accumulators batched after it).
* :mod:`.while_loop` — the ``while`` primitive (and its ``checkpoint="sqrt"`` variant) and its rules.
* :mod:`.while_reverse` — reverse mode of a while loop: the recording forward loop and the backward
  loop, with their own rules (forward over reverse, reverse over reverse, vmap).
* :mod:`.tape` — the recorded tape and the primitives that split, join, expand, pick and move
  tapes (a scan stacks the tapes its steps record; a cond batched over its index picks one);
  :mod:`.tape_scan` — a scan over tapes (reverse over reverse of a while loop).
* :mod:`.cond` — the ``cond`` primitive and its rules.
* :mod:`.programs` — program surgery and caches shared by all of them; :mod:`.drivers` — the
  generated Python loops that run compiled bodies.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..core import higher_order_primitives
from .cond import bind_cond, cond_p
from .scan import bind_scan, scan_p
from .tape import tape_moveaxis_p, tape_pick_p, tape_split_p, tape_steps_p, tape_zip_p
from .tape_scan import tape_scan_p
from .while_loop import bind_while, while_ckpt_p, while_p
from .while_reverse import while_bwd_p, while_fwd_p

__all__ = ["scan_p", "while_p", "cond_p", "bind_scan", "bind_while", "bind_cond"]

higher_order_primitives.update({p.name: p for p in (scan_p, while_p, while_ckpt_p, cond_p, while_fwd_p, while_bwd_p,
                                                    tape_scan_p, tape_steps_p, tape_split_p, tape_zip_p,
                                                    tape_pick_p, tape_moveaxis_p)})

# The private names this package had as one module (``funcgrad.control._hoist_plan``, ...), now in
# its submodules: still readable from here while code that reads them moves to the submodules.
_MOVED = {
    "_HOIST_BYTES": "scan_hoist",
    "_HoistPlan": "scan_hoist",
    "_TAPE_AVAL": "tape",
    "_Tape": "tape",
    "_ZERO_TAPE_CT": "tape",
    "_backward_driver": "drivers",
    "_batch_size": "programs",
    "_cached": "programs",
    "_classify_residuals": "programs",
    "_compile_driver": "drivers",
    "_cond_abstract": "cond",
    "_cond_batch": "cond",
    "_cond_impl": "cond",
    "_cond_jvp": "cond",
    "_cond_vjp": "cond",
    "_cond_vjp_plan": "cond",
    "_driver": "drivers",
    "_drivers": "drivers",
    "_dtype": "programs",
    "_entry": "programs",
    "_float": "programs",
    "_fn": "programs",
    "_hoist_plan": "scan_hoist",
    "_invariants": "programs",
    "_like": "programs",
    "_reorder": "programs",
    "_scan_abstract": "scan",
    "_scan_batch": "scan",
    "_scan_hoisted": "scan_hoist",
    "_scan_impl": "scan",
    "_scan_jvp": "scan",
    "_scan_steps": "drivers",
    "_scan_vjp": "scan",
    "_scan_vjp_plan": "scan",
    "_strong": "programs",
    "_tape_scan_batch": "tape_scan",
    "_tape_scan_impl": "tape_scan",
    "_tape_scan_jvp": "tape_scan",
    "_tape_scan_vjp": "tape_scan",
    "_tape_split_impl": "tape",
    "_tape_steps_impl": "tape",
    "_tape_vjp_plan": "tape_scan",
    "_tape_zip_impl": "tape",
    "_tape_zip_vjp": "tape",
    "_trace_like": "programs",
    "_unrolled": "scan",
    "_unwrap_tape": "tape",
    "_where_active": "programs",
    "_while_abstract": "while_loop",
    "_while_batch": "while_loop",
    "_while_bwd_batch": "while_reverse",
    "_while_bwd_impl": "while_reverse",
    "_while_bwd_jvp": "while_reverse",
    "_while_bwd_vjp": "while_reverse",
    "_while_driver": "drivers",
    "_while_fwd_batch": "while_reverse",
    "_while_fwd_impl": "while_reverse",
    "_while_fwd_jvp": "while_reverse",
    "_while_fwd_vjp": "while_reverse",
    "_while_impl": "while_loop",
    "_while_jvp": "while_loop",
    "_while_vjp": "while_loop",
    "_while_vjp_plan": "while_loop",
    "_with_unused_inputs": "programs",
    "_zeros": "programs",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module 'funcgrad.control' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
