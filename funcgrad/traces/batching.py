"""Batching (vmap): each traced value carries an array with one extra axis, the batch axis.

A primitive's batching rule receives the operands and, for each, the position of its batch
axis (``None`` for an operand that is the same for every example) and returns the batched
result and the position of its batch axis. Rules are written with funcgrad operations, so
``vmap`` composes with the differentiation traces in either order.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..core import Primitive, Trace, ValuelessTracer
from ..errors import BatchedConcretizationError


class BatchTracer(ValuelessTracer):
    __slots__ = ("val", "bdim")

    def __init__(self, trace: BatchTrace, val: Any, bdim: int) -> None:
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def shape(self) -> tuple[int, ...]:
        s = self.val.shape
        return s[: self.bdim] + s[self.bdim + 1:]

    @property
    def dtype(self) -> Any:
        return self.val.dtype

    @property
    def ndim(self) -> int:
        return self.val.ndim - 1

    def _no_value(self, what: str) -> BatchedConcretizationError:
        return _concretization_error(what)

    def __repr__(self) -> str:
        return f"BatchTracer(level={self._trace.level}, bdim={self.bdim}, shape={self.shape})"


def _concretization_error(what: str) -> BatchedConcretizationError:
    return BatchedConcretizationError(
        f"{what} on a value inside vmap depends on which example of the batch it is, so it has "
        "no single answer. Use funcgrad.numpy.where to select per example (computing both "
        "branches), or move the decision outside vmap (or make the value unbatched, in_axes=None)."
    )


class BatchTrace(Trace):
    __slots__ = ("axis_size",)

    def __init__(self, axis_size: int) -> None:
        super().__init__()
        self.axis_size = axis_size

    def split(self, args: Sequence[Any]) -> tuple[list, list]:
        """Values and batch axes (None for values that are the same for every example)."""
        vals = []
        dims: list[int | None] = []
        for a in args:
            if type(a) is BatchTracer and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
            else:
                vals.append(a)
                dims.append(None)
        return vals, dims

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        vals, dims = self.split(args)
        if prim.batch is None:
            raise NotImplementedError(f"vmap of {prim.name} is not implemented")
        out, out_dim = prim.batch(tuple(vals), tuple(dims), **params)
        if prim.multiple_results:
            return [o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
        if out_dim is None:
            return out
        return BatchTracer(self, out, out_dim)
