"""The tape a differentiated while loop records (its steps' residuals, or checkpointed carries)
and the primitives that reshape tapes: ``tape_split``, ``tape_zip`` and ``tape_steps``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Primitive
from ..ir.program import Program, ShapedArray
from .programs import _fn


class _Tape:
    """What a differentiated while loop's forward pass leaves for its backward pass: the
    residuals of every step, or (``checkpoint="sqrt"``) carries every ``stride`` steps."""

    __slots__ = ("steps", "snapshots", "stride", "count", "shape", "active")
    # Seen by the transformations as an object value: 0-d, or ``(size,)`` when recorded by a
    # batched loop (each step's entries batched along axis 0), as its abstract value says. A
    # loop batched over examples with their own trip counts also records, per step, which
    # examples were still running (``active``, one bool array per step): the loops reading the
    # tape leave the others' values unchanged at that step. Under nested vmap the shape is
    # ``(outer, ..., inner)`` sizes, ``active`` is the outermost level's, and each inner level's
    # flags are one more entry at the end of every step (read by the inner level's batched
    # backward body as one more residual, before the outer level's flags).
    dtype = np.dtype(object)
    is_loop_tape = True

    def __init__(self, steps: list | None = None, snapshots: list | None = None, stride: int = 0,
                 count: int = 0, shape: tuple = (), active: list | None = None) -> None:
        self.steps, self.snapshots, self.stride, self.count = steps, snapshots, stride, count
        self.shape, self.active = shape, active

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        if self.steps is not None:
            return f"<while-loop tape: {len(self.steps)} steps>"
        return f"<while-loop tape: {self.count} steps, {len(self.snapshots or ())} carries every {self.stride}>"


def _unwrap_tape(t: Any) -> _Tape:
    return t.item() if isinstance(t, np.ndarray) else t


_TAPE_AVAL = ShapedArray((), np.dtype(object))
_ZERO_TAPE_CT = np.zeros((), object)  # the (zero) cotangent of a tape nothing reads


def _tape_split_impl(tape: Any, n_res: int) -> list:
    t = _unwrap_tape(tape)
    if not isinstance(t, _Tape):  # a zero (co)tangent tape: two zero tapes
        return [tape, tape]
    assert t.steps is not None  # forward mode records per-step tapes
    return [_Tape(steps=[s[:n_res] for s in t.steps], shape=t.shape, active=t.active),
            _Tape(steps=[s[n_res:] for s in t.steps], shape=t.shape, active=t.active)]


def _tape_zip_impl(tape: Any, tangent: Any, n_a: int | None = None) -> list:
    a, b = _unwrap_tape(tape), _unwrap_tape(tangent)
    if not isinstance(b, _Tape):  # zero cotangents (of the second part) are left out: read as zeros
        return [tape]
    if not isinstance(a, _Tape):
        assert n_a is not None and b.steps is not None
        return [_Tape(steps=[(None,) * n_a + tuple(y) for y in b.steps], shape=b.shape, active=b.active)]
    assert a.steps is not None and b.steps is not None  # forward mode records per-step tapes
    return [_Tape(steps=[tuple(x) + tuple(y) for x, y in zip(a.steps, b.steps)], shape=a.shape or b.shape,
                  active=a.active if a.active is not None else b.active)]


def _tape_zip_vjp(primals: list, mask: tuple, n_a: int | None = None) -> tuple[list, Callable[[list], list]]:
    if n_a is None:  # pragma: no cover - every tape_zip that reverse mode can meet says its width
        raise NotImplementedError("reverse mode of a tape_zip without its width")
    return tape_zip_p.bind(*primals, n_a=n_a), lambda cts: list(tape_split_p.bind(cts[0], n_res=n_a))


# A tape recorded with each step's residuals followed by their tangents, split into the two
# (``tape_split``), and a tape and its tangent joined step by step (``tape_zip``). Entries of a
# zero cotangent are None (or missing, at the end of a step) in a joined tape.
tape_split_p: Primitive = Primitive(
    "tape_split", _tape_split_impl, multiple_results=True, abstract_eval=lambda tape, n_res: [tape, tape],
    jvp_all=lambda primals, tangents, n_res: (
        tape_split_p.bind(primals[0], n_res=n_res),
        [None, None] if tangents[0] is None else tape_split_p.bind(tangents[0], n_res=n_res)),
    vjp_all=lambda primals, mask, n_res: (
        tape_split_p.bind(primals[0], n_res=n_res), lambda cts: tape_zip_p.bind(cts[0], cts[1], n_a=n_res)),
    batch=lambda vals, dims, n_res: (tape_split_p.bind(vals[0], n_res=n_res), [dims[0], dims[0]]), register=False)
tape_zip_p: Primitive = Primitive(
    "tape_zip", _tape_zip_impl, multiple_results=True, abstract_eval=lambda tape, tangent, **p: [tape],
    jvp_all=lambda primals, tangents, **p: (
        tape_zip_p.bind(*primals, **p),
        [None] if tangents[0] is None and tangents[1] is None else tape_zip_p.bind(
            *(_ZERO_TAPE_CT if t is None else t for t in tangents), **p)),
    vjp_all=_tape_zip_vjp, batch=lambda vals, dims, **p: (tape_zip_p.bind(*vals, **p), [dims[0]]), register=False)


def _tape_steps_impl(tape: Any, *bc: Any, fwd: Program, n_carry: int) -> list:
    """A checkpointed tape (carries every ``stride`` steps) expanded to every step's residuals;
    a per-step tape unchanged."""
    t = _unwrap_tape(tape)
    if not isinstance(t, _Tape) or t.steps is not None:
        return [tape]
    assert t.snapshots is not None
    fwd_fn = _fn(fwd)
    steps: list = []
    for s, carry in enumerate(t.snapshots):
        for _ in range(max(0, min(t.stride, t.count - s * t.stride))):
            out = fwd_fn(*carry, *bc)
            carry = out[:n_carry]
            steps.append(tuple(out[n_carry:]))
    return [_Tape(steps=steps)]


# Only the tape is differentiated: its entries, recomputed from the carries a checkpointed tape
# holds, are the same values a per-step tape would hold (and a tape that is differentiated was
# recorded per step by the rules above).
tape_steps_p: Primitive = Primitive(
    "tape_steps", _tape_steps_impl, multiple_results=True, abstract_eval=lambda tape, *bc, **p: [tape],
    jvp_all=lambda primals, tangents, **p: (tape_steps_p.bind(*primals, **p), [tangents[0]]),
    vjp_all=lambda primals, mask, **p: (tape_steps_p.bind(*primals, **p),
                                        lambda cts: [cts[0]] + [None] * (len(primals) - 1)),
    batch=lambda vals, dims, **p: (tape_steps_p.bind(*vals, **p), [dims[0]]), register=False)
