"""Batching (vmap): each traced value carries an array with one extra axis, the batch axis.

A primitive's batching rule receives the operands and, for each, the position of its batch
axis (``None`` for an operand that is the same for every example) and returns the batched
result and the position of its batch axis. Rules are written with funcgrad operations, so
``vmap`` composes with the differentiation traces in either order.
"""

from __future__ import annotations

from typing import Any

from ..core import Primitive, Trace, Tracer
from ..errors import BatchedConcretizationError


class BatchTracer(Tracer):
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

    @property
    def primal(self) -> Any:
        raise _concretization_error("Python control flow (if/while, bool())")

    # Conversions to Python numbers or NumPy arrays have no single answer either: they get the same
    # explanation (these override the generic "would drop its derivative" error of every tracer).
    def __float__(self) -> float:
        raise _concretization_error("float()")

    def __int__(self) -> int:
        raise _concretization_error("int()")

    def __complex__(self) -> complex:
        raise _concretization_error("complex()")

    def __index__(self) -> int:
        raise _concretization_error("Using it as a Python index (__index__)")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise _concretization_error(
            "Converting it to a NumPy array (np.asarray, or indexing a plain NumPy array with it: "
            "wrap that array as funcgrad.numpy.at(array)[index].get())")

    def item(self, *args: Any) -> Any:
        raise _concretization_error(".item()")

    def tolist(self) -> Any:
        raise _concretization_error(".tolist()")

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

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        vals = []
        dims = []
        for a in args:
            if type(a) is BatchTracer and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
            else:
                vals.append(a)
                dims.append(None)
        if prim.batch is None:
            raise NotImplementedError(f"vmap of {prim.name} is not implemented")
        out, out_dim = prim.batch(tuple(vals), tuple(dims), **params)
        if out_dim is None:
            return out
        return BatchTracer(self, out, out_dim)
