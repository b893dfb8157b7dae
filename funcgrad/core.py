"""The heart of funcgrad: primitives, tracers, traces and ``bind``.

Every operation is a :class:`Primitive`. Calling one goes through :meth:`Primitive.bind`, the
single entry point: with no tracer among the arguments it runs NumPy directly (the eager fast
path); otherwise it hands the operation to the trace of the highest-level tracer among them.

A *trace* is one active transformation (one ``vjp``, ``jvp``, ``vmap`` or ``jit`` tracing).
Its level is drawn from an increasing counter, so a transformation started inside another
always has the higher level; that ordering is what keeps nested derivatives apart (no perturbation confusion).
A value that does not depend on a trace's inputs is simply not a tracer of that trace: this is
funcgrad's symbolic zero. Traces never allocate zero tangents or cotangents, and derivative
rules are only called for inputs that carry a derivative.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np

from .errors import LeakedTracerError, TracerConversionError

__all__ = ["Primitive", "Tracer", "ValuelessTracer", "Trace", "is_differentiable_dtype", "primitives",
           "find_top_trace", "higher_order_primitives"]

_level_counter = itertools.count(1)  # next() is atomic in CPython: safe across threads

# name -> Primitive, for the registry test (every primitive must have a row in the test table).
primitives: dict[str, Primitive] = {}
# name -> higher-order Primitive (sub-programs in its parameters: jit_call, scan, while, cond,
# custom rules, remat), for the registry test that each declares every rule.
higher_order_primitives: dict[str, Primitive] = {}


class Trace:
    """One active transformation. Subclasses implement :meth:`process`."""

    __slots__ = ("level", "alive", "__weakref__")
    # True for traces that record programs (jit's staging): a higher-order operation bound at
    # such a trace needs its sub-program traced, to hold it as a parameter.
    records_programs = False

    def __init__(self) -> None:
        self.level = next(_level_counter)
        self.alive = True

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


class Primitive:
    """One operation and every rule about it, declared together.

    * ``impl(*args, **params)`` computes the result with NumPy.
    * ``jvp[i](t, out, *primals, **params)`` is input ``i``'s contribution to the output tangent,
      given that input's tangent ``t``; the forward trace sums the contributions.
    * ``vjp[i](ct, out, *primals, **params)`` is the cotangent of input ``i`` given the output's
      cotangent ``ct``. The reverse trace sums it down to the input's shape and casts it to the
      input's dtype, so rules may return a broadcast or promoted result.
    * ``batch`` (for ``vmap``) maps ``(args, batch_axes, **params)`` to ``(out, out_axis)``.
    * ``nondiff=True`` marks operations with no derivative (comparisons, ``floor``, ``argmax``):
      traces pass their results through as plain values.
    * ``abstract_eval(*avals, **params)`` (optional) gives the result's shape and dtype; by
      default ``jit`` runs ``impl`` once on zero-strided placeholders.
    * ``emit(eqn, args, bind)`` (optional) writes the Python expression ``jit``'s code
      generator uses for this operation (``args`` are the operands' source expressions,
      ``bind(value)`` makes a global and returns its name); by default it calls ``impl`` with
      the parameters bound. It must compute exactly what ``impl`` computes.

    Higher-order operations (``scan``, ``while``, ``cond``, ``jit_call``, custom rules) hold
    sub-programs in their parameters and declare whole-operation rules instead of per-operand ones:

    * ``multiple_results=True``: ``impl`` and ``abstract_eval`` return a list/tuple of results,
      ``batch`` returns ``(outs, out_axes)`` lists.
    * ``jvp_all(primals, tangents, **params)`` returns ``(outs, tangent_outs)``; ``tangents`` has
      ``None`` for operands without a tangent, and ``tangent_outs`` may hold ``None`` (zero).
    * ``vjp_all(primals, mask, **params)`` returns ``(outs, backward)``: ``mask[i]`` says whether
      operand ``i`` needs a cotangent, ``backward(cts)`` maps one cotangent per output (zeros
      filled in) to one per operand (``None`` where none).
    * ``inline=True`` lets the program optimiser replace the equation by its sub-program.

    Rules are written with funcgrad operations, so derivatives of derivatives work.
    ``out`` is the primal output, handed to rules so that ``exp`` or ``tanh`` can reuse it.
    """

    __slots__ = ("name", "impl", "jvp", "vjp", "batch", "nondiff", "abstract_eval", "emit", "multiple_results",
                 "jvp_all", "vjp_all", "inline")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        jvp: Sequence[Callable[..., Any] | None] | None = None,
        vjp: Sequence[Callable[..., Any] | None] | None = None,
        batch: Callable[..., Any] | None = None,
        nondiff: bool = False,
        abstract_eval: Callable[..., Any] | None = None,
        emit: Callable[..., str] | None = None,
        register: bool = True,
        multiple_results: bool = False,
        jvp_all: Callable[..., Any] | None = None,
        vjp_all: Callable[..., Any] | None = None,
        inline: bool = False,
    ) -> None:
        if register and name in primitives:
            raise ValueError(f"a primitive named {name!r} already exists")
        self.name = name
        self.impl = impl
        self.jvp = jvp
        self.vjp = vjp
        self.batch = batch
        self.nondiff = nondiff
        self.abstract_eval = abstract_eval
        self.emit = emit
        self.multiple_results = multiple_results
        self.jvp_all = jvp_all
        self.vjp_all = vjp_all
        self.inline = inline
        if register:  # internal program-only operations (jit's custom calls) are not registered
            primitives[name] = self

    def bind(self, *args: Any, **params: Any) -> Any:
        trace = find_top_trace(args, self.name)
        if trace is None:
            return self.impl(*args, **params)
        return trace.process(self, args, params)

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


def find_top_trace(args: Sequence[Any], what: str = "an operation") -> Trace | None:
    """The highest-level trace among ``args``' tracers (None if there is none).

    Raises :class:`LeakedTracerError` if that trace has already ended.
    """
    trace = None
    for a in args:
        if isinstance(a, Tracer):
            t = a._trace
            if trace is None or t.level > trace.level:
                trace = t
    if trace is not None and not trace.alive:
        raise LeakedTracerError(
            f"{what} was called on a traced value whose transformation has already "
            "returned (a leaked tracer). This happens when a value computed inside a function "
            "being differentiated is stored outside it (a global, a list, self.attr) and used "
            "later. Return the value from the function instead, or wrap it in "
            "funcgrad.stop_gradient before storing it."
        )
    return trace


def is_differentiable_dtype(dtype: Any) -> bool:
    """Floating-point and complex values carry derivatives; integers and booleans do not."""
    return np.dtype(dtype).kind in "fc"


class Tracer:
    """A value being traced by a transformation. Subclasses hold what their trace needs.

    Operators and NumPy methods are attached by :mod:`funcgrad.numpy`, which owns their
    semantics; this class only defines what every tracer has.
    """

    __slots__ = ("_trace",)
    __array_priority__ = 1000
    # Subclasses have a ``primal`` slot: the value one level down (an array or a lower tracer).
    primal: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return self.primal.shape

    @property
    def dtype(self) -> np.dtype:
        return self.primal.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object: this traced value is 0-d")
        return shape[0]

    def concrete_value(self) -> Any:
        """The value beneath every level of tracing (used for Python control flow)."""
        v = self.primal
        while isinstance(v, Tracer):
            v = v.primal
        return v

    def __bool__(self) -> bool:
        # Values under vjp/grad/jvp are concrete, so Python control flow on them is legal.
        return bool(self.concrete_value())

    def __hash__(self) -> int:
        raise TypeError("traced arrays are unhashable, as NumPy arrays are")

    # A traced value is immutable, so a copy is the value itself: copying it is the identity
    # operation and keeps its derivative (a copied trace would silently drop it).
    def __copy__(self) -> Tracer:
        return self

    def __deepcopy__(self, memo: dict) -> Tracer:
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TracerConversionError(
            f"cannot pickle a traced value ({type(self).__name__} of shape {tuple(self.shape)}): it "
            "exists only while its transformation (grad, jvp, vmap, jit) runs, and pickling it would "
            "drop its derivative. Pickle the inputs or the outputs of the transformed function instead.")

    def __repr__(self) -> str:
        try:
            value = repr(self.concrete_value())
        except TypeError:  # an abstract (jit) or batched (vmap) value has no single concrete value
            value = f"<{np.dtype(self.dtype).name}{list(self.shape)}>"
        return f"{type(self).__name__}(level={self._trace.level}, value={value})"


class ValuelessTracer(Tracer):
    """A tracer with no single concrete value (a vmap batch, a jit abstract value): Python
    control flow and conversions raise the error its trace kind explains, from ``_no_value``.

    ``what`` names the operation (``float()``, ``bool() ...``) for the message.
    """

    __slots__ = ()

    def _no_value(self, what: str) -> Exception:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def primal(self) -> Any:
        raise self._no_value("Python control flow or conversion")

    def __bool__(self) -> bool:
        raise self._no_value("bool() (an `if`, `while`, `and`/`or` or assert on a traced value)")

    def __float__(self) -> float:
        raise self._no_value("float()")

    def __int__(self) -> int:
        raise self._no_value("int()")

    def __complex__(self) -> complex:
        raise self._no_value("complex()")

    def __index__(self) -> int:
        raise self._no_value("Using a traced value as an index or size (__index__)")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._no_value(
            "Converting to a NumPy array (np.asarray/np.array, or indexing a plain NumPy array "
            "with it: wrap that array as funcgrad.numpy.at(array)[index].get())")

    def item(self, *args: Any) -> Any:
        raise self._no_value(".item()")

    def tolist(self) -> Any:
        raise self._no_value(".tolist()")
