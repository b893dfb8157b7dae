"""The tape a differentiated while loop records (its steps' residuals, or checkpointed carries)
and the primitives that reshape tapes: ``tape_split``, ``tape_zip`` and ``tape_steps``."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..core import Primitive
from ..ir.program import Program, ShapedArray
from .programs import _fn


class _Tape:
    """What a differentiated while loop's forward pass leaves for its backward pass: the
    residuals of every step, or (``checkpoint="sqrt"``) carries every ``stride`` steps."""

    __slots__ = ("steps", "snapshots", "stride", "count", "shape", "flags")
    # Seen by the transformations as an object value: 0-d, or shaped ``(outer, ..., inner)``
    # batch sizes when made by a loop batched by that many vmap levels (each step's entries
    # batched along the leading axes), as its abstract value says. A tape made under a vmap level
    # also records, per step, which examples of that level were still running: ``flags[i]``
    # holds one bool array per level, innermost first (the level at position -j has shape
    # ``shape[:j]``; a level whose examples all run the same steps records all True). A body
    # that reads a tape batched at some levels reads each step's entries followed by the flags of
    # those levels (every batching rule of a reader adds one, see ``tape_scan``) and itself keeps
    # the finished examples' values unchanged.
    dtype = np.dtype(object)
    is_loop_tape = True

    def __init__(self, steps: list | None = None, snapshots: list | None = None, stride: int = 0,
                 count: int = 0, shape: tuple = (), flags: list | None = None) -> None:
        self.steps, self.snapshots, self.stride, self.count = steps, snapshots, stride, count
        self.shape, self.flags = shape, flags

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def reshape(self, *shape: Any, **_: Any) -> np.ndarray:
        """The tape as an object array of one element (a batched jit program broadcasts an
        unbatched tape it returns: reshape to ``(1,)``, then ``broadcast_to``)."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
        out = np.empty(shape, object)
        assert out.size == 1
        out.reshape(-1)[0] = self
        return out

    def __repr__(self) -> str:
        if self.steps is not None:
            return f"<while-loop tape: {len(self.steps)} steps>"
        return f"<while-loop tape: {self.count} steps, {len(self.snapshots or ())} carries every {self.stride}>"


def _unwrap_tape(t: Any) -> Any:
    """The tape a value holds: a tape, a 0-d object array of one, or (a zero cotangent, which
    a transformation may have made in a batched tape's shape or broadcast) an array of zeros,
    returned as it is."""
    if not isinstance(t, np.ndarray):
        return t
    if t.size == 1:
        return t.reshape(()).item()
    first = t.reshape(-1)[0] if t.size else None
    if isinstance(first, _Tape) and all(x is first for x in t.reshape(-1)):  # one tape broadcast
        return first
    assert not any(isinstance(x, _Tape) for x in t.reshape(-1)), "a batch of different tapes"
    return t


def _fit(value: Any, aval: Any) -> Any:
    """An entry or flag of a tape as a body reading it expects it: a left-out zero cotangent as
    zeros, and the entry of a tape broadcast along batch levels (a batched jit program returns an
    unbatched tape that way) broadcast along them too."""
    if value is None:
        return np.zeros(tuple(aval.shape), np.dtype(aval.dtype))
    if np.ndim(value) < len(aval.shape):
        return np.broadcast_to(value, tuple(aval.shape))
    return value


def _read_flags(flags: Sequence[Any] | None, n: int, avals: Sequence[Any]) -> list:
    """The last ``n`` flags of a step, as ``avals``: the levels a tape was not recorded at (a
    broadcast tape, a cotangent tape) read as all True, every example having run every step."""
    have = [] if flags is None or not n else list(flags[max(0, len(flags) - n):])
    have += [None] * (n - len(have))
    return [np.ones(tuple(a.shape), bool) if f is None else _fit(f, a) for f, a in zip(have, avals)]


_TAPE_AVAL = ShapedArray((), np.dtype(object))
_ZERO_TAPE_CT = np.zeros((), object)  # the (zero) cotangent of a tape nothing reads


def _tape_split_impl(tape: Any, n_res: int, shapes: tuple | None = None) -> list:
    t = _unwrap_tape(tape)
    if not isinstance(t, _Tape):  # a zero (co)tangent tape: two zero tapes
        return [tape, tape]
    assert t.steps is not None  # forward mode records per-step tapes
    first, second = (t.shape, t.shape) if shapes is None else shapes
    return [_Tape(steps=[s[:n_res] for s in t.steps], shape=first, flags=t.flags),
            _Tape(steps=[s[n_res:] for s in t.steps], shape=second, flags=t.flags)]


def _tape_split_abstract(tape: Any, n_res: int, shapes: tuple | None = None) -> list:
    if shapes is None:
        return [tape, tape]
    return [ShapedArray(tuple(s), np.dtype(object)) for s in shapes]


def _tape_split_batch(vals: tuple, dims: tuple, n_res: int, shapes: tuple | None = None) -> tuple[list, list]:
    size = None if dims[0] is None else np.shape(vals[0])[dims[0]]
    if shapes is not None and size is not None:
        shapes = tuple((size,) + tuple(s) for s in shapes)
    return tape_split_p.bind(vals[0], n_res=n_res, shapes=shapes), [dims[0], dims[0]]


def _expanded(t: _Tape, levels: tuple) -> _Tape:
    """``t`` with its entries broadcast along the batch levels (outer first) at which ``levels``
    gives a size: the levels at which it was not batched, unlike the tape it is joined with."""
    if not any(s is not None for s in levels):
        return t
    at = [i for i, s in enumerate(levels) if s is not None]

    def grow(e: Any) -> Any:
        e = np.expand_dims(e, at)
        return np.broadcast_to(e, tuple(levels[i] if i in at else n for i, n in enumerate(e.shape)))

    assert t.steps is not None
    return _Tape(steps=[tuple(None if e is None else grow(e) for e in s) for s in t.steps], shape=t.shape,
                 flags=t.flags)


def _tape_zip_impl(tape: Any, tangent: Any, n_a: int, levels: tuple = ((), ())) -> list:
    a, b = _unwrap_tape(tape), _unwrap_tape(tangent)
    if isinstance(a, _Tape):
        a = _expanded(a, levels[0])
    if isinstance(b, _Tape):
        b = _expanded(b, levels[1])
    if not isinstance(b, _Tape):  # zero cotangents (of the second part) are left out: read as zeros
        return [a]
    if not isinstance(a, _Tape):
        assert n_a is not None and b.steps is not None
        return [_Tape(steps=[(None,) * n_a + tuple(y) for y in b.steps], shape=b.shape, flags=b.flags)]
    assert a.steps is not None and b.steps is not None  # forward mode records per-step tapes
    # (the first part padded to its width: its trailing zero cotangents may have been left out)
    return [_Tape(steps=[tuple(x) + (None,) * (n_a - len(x)) + tuple(y) for x, y in zip(a.steps, b.steps)],
                  shape=a.shape if len(a.shape) >= len(b.shape) else b.shape,
                  flags=a.flags if a.flags is not None else b.flags)]


def _tape_zip_vjp(primals: list, mask: tuple, n_a: int, levels: tuple = ((), ())
                  ) -> tuple[list, Callable[[list], list]]:
    return tape_zip_p.bind(*primals, n_a=n_a, levels=levels), lambda cts: list(tape_split_p.bind(cts[0], n_res=n_a))


def _tape_zip_batch(vals: tuple, dims: tuple, n_a: int, levels: tuple = ((), ())) -> tuple[list, list]:
    """Joined along a batch level at which one tape is batched and the other is not (a tangent tape
    batched by jacfwd's vmap, the tape itself not): the other's entries are broadcast."""
    if dims[0] is None and dims[1] is None:
        return tape_zip_p.bind(*vals, n_a=n_a, levels=levels), [None]
    size = next(np.shape(v)[d] for v, d in zip(vals, dims) if d is not None)
    levels = tuple((None if d is not None else size,) + tuple(lv) for d, lv in zip(dims, levels))
    return tape_zip_p.bind(*vals, n_a=n_a, levels=levels), [0]


# A tape recorded with each step's residuals followed by their tangents, split into the two
# (``tape_split``; ``shapes``: the two parts' shapes when they differ, as the cotangents of tapes
# batched at different levels do), and a tape (``n_a`` entries per step) and its tangent joined
# step by step (``tape_zip``). Entries of a zero cotangent are None (or missing, at the end of a step) in a
# joined tape. Both keep the flags (they are of the same loop's steps).
tape_split_p: Primitive = Primitive(
    "tape_split", _tape_split_impl, multiple_results=True, abstract_eval=_tape_split_abstract,
    jvp_all=lambda primals, tangents, **p: (
        tape_split_p.bind(primals[0], **p),
        [None, None] if tangents[0] is None else tape_split_p.bind(tangents[0], **p)),
    vjp_all=lambda primals, mask, n_res, **p: (
        tape_split_p.bind(primals[0], n_res=n_res, **p),
        lambda cts: tape_zip_p.bind(cts[0], cts[1], n_a=n_res)),
    batch=_tape_split_batch, register=False)
tape_zip_p: Primitive = Primitive(
    "tape_zip", _tape_zip_impl, multiple_results=True,
    abstract_eval=lambda tape, tangent, **p: [tape if len(tape.shape) >= len(tangent.shape) else tangent],
    jvp_all=lambda primals, tangents, **p: (
        tape_zip_p.bind(*primals, **p),
        [None] if tangents[0] is None and tangents[1] is None else tape_zip_p.bind(
            *(_ZERO_TAPE_CT if t is None else t for t in tangents), **p)),
    vjp_all=_tape_zip_vjp, batch=_tape_zip_batch, register=False)


def _tape_pick_impl(*tapes: Any) -> list:
    for t in tapes:
        if isinstance(_unwrap_tape(t), _Tape):
            return [t]
    return [tapes[0]]


def _tape_pick_jvp(primals: list, tangents: list) -> tuple[list, list]:
    if all(t is None for t in tangents):
        return tape_pick_p.bind(*primals), [None]
    return tape_pick_p.bind(*primals), tape_pick_p.bind(*(_ZERO_TAPE_CT if t is None else t for t in tangents))


# The one recorded tape among the outputs of every branch of a ``cond`` batched over its index
# (each branch runs on the whole batch and records its own tape slot; the others give zeros): a
# tape cannot be selected per example, and the branch's backward program reads its own slot.
tape_pick_p: Primitive = Primitive(
    "tape_pick", _tape_pick_impl, multiple_results=True, abstract_eval=lambda *avals: [avals[0]],
    jvp_all=_tape_pick_jvp,
    vjp_all=lambda primals, mask: (tape_pick_p.bind(*primals), lambda cts: [cts[0]] * len(primals)),
    batch=lambda vals, dims: (tape_pick_p.bind(*vals), [0 if any(d is not None for d in dims) else None]),
    register=False)


def _moved_shape(shape: tuple, source: int, destination: int) -> tuple:
    axes = list(range(len(shape)))
    axes.insert(destination, axes.pop(source))
    return tuple(shape[a] for a in axes)


def _tape_moveaxis_impl(x: Any, source: int, destination: int) -> list:
    if isinstance(x, np.ndarray) and x.ndim > max(source, destination):
        return [np.moveaxis(x, source, destination)]
    return [x]  # a zero (co)tangent


def _tape_moveaxis_batch(vals: tuple, dims: tuple, source: int, destination: int) -> tuple[list, list]:
    x, d = vals[0], dims[0]
    if d is None:
        return tape_moveaxis_p.bind(x, source=source, destination=destination), [None]
    if d != 0:
        x = tape_moveaxis_p.bind(x, source=d, destination=0)[0]
    return tape_moveaxis_p.bind(x, source=source + 1, destination=destination + 1), [0]


# An axis of an array of tapes (the tapes a batched scan records, stacked over its steps) moved,
# as a batching rule needs: unlike a transpose, the tapes' tangents and cotangents go with them.
tape_moveaxis_p: Primitive = Primitive(
    "tape_moveaxis", _tape_moveaxis_impl, multiple_results=True,
    abstract_eval=lambda x, source, destination: [
        ShapedArray(_moved_shape(tuple(x.shape), source, destination), np.dtype(object))],
    jvp_all=lambda primals, tangents, **p: (
        tape_moveaxis_p.bind(primals[0], **p), [None if tangents[0] is None else tape_moveaxis_p.bind(
            tangents[0], **p)[0]]),
    vjp_all=lambda primals, mask, source, destination: (
        tape_moveaxis_p.bind(primals[0], source=source, destination=destination),
        lambda cts: [None if cts[0] is None else tape_moveaxis_p.bind(cts[0], source=destination,
                                                                       destination=source)[0]]),
    batch=_tape_moveaxis_batch, register=False)


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
