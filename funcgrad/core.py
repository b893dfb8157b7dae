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
import math
import os
import threading
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, NoReturn, Protocol, Sequence

import numpy as np

from .errors import ConcretizationError, LeakedTracerError, PrimitiveDeclarationError, TracerConversionError

if TYPE_CHECKING:
    from .numpy.index_update import At

__all__ = ["Primitive", "Tracer", "ValueTracer", "ValuelessTracer", "Trace", "is_differentiable_dtype", "primitives",
           "find_top_trace", "higher_order_primitives", "ShapedArray", "abstract_eval", "OUTPUT"]

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
    # True for traces whose tracers hold concrete values (reverse and forward mode): an operation
    # without a derivative (a comparison) on such a tracer is that operation on its value.
    concrete_values = False

    def __init__(self) -> None:
        self.level = next(_level_counter)
        self.alive = True

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[Any, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError


class RuleTable(Protocol):
    """A primitive's jvp or vjp rules: ``rules[i]`` is operand ``i``'s rule (a tuple, or a table
    that makes rules on demand for any number of operands)."""

    def __getitem__(self, i: int, /) -> Callable[..., Any] | None: ...


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
      generator uses for this operation (``args`` are the operands' source expressions, an
      ``ir.codegen.ArraySource`` where the operand is known to be a NumPy array;
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

    ``index_start``, ``broadcasting_binary`` and ``shape_role`` are traits the program passes
    read, declared with the primitive like everything below (each optional):

    * ``kernel``: how the Numba backend computes an elementwise operation on scalars in a fused
      loop, ``kernel(eqn)`` giving a plan (see :mod:`funcgrad.ir.fusion`) or None where that
      equation stays a NumPy call; None (the default) keeps the operation out of fused loops.
    * ``vjp_eager``: the vjp rules again, one per operand (``None`` keeps that operand's ``vjp``
      rule), for operands that are no tracers, written without funcgrad operations (each computes
      exactly what its ``vjp`` rule computes when every operation in it takes ``bind``'s
      no-tracer path). The reverse trace's backward pass uses them only when nothing on its tape
      or among the cotangents is traced; defaults to ``vjp``.
    * ``jvp_eager``: the jvp rules again in the same way, for primals and tangents that are no
      tracers; a binary primitive may add a third rule, ``both(t0, t1, out, x, y)``, computing
      what ``add`` of the two operands' contributions computes. The forward trace uses them when
      no primal or tangent it holds is traced; defaults to ``jvp``.

    * ``batch``: the batching rule, ``batch(args, dims, **params)`` giving ``(out, out_axis)``;
      or ``batch_of``, a function of the primitive giving that rule, for rules that bind the
      primitive itself (``batch_of=elementwise_batch``).
    * ``product_rule``: for a one-operand primitive whose eager vjp rule is ``ct * h(x, out)``
      (``h`` computed with NumPy only, elementwise, reading only the declared residuals): ``h``.
      The backward pass then computes ``h`` for a run of such entries in one call on their
      stacked residuals (:func:`funcgrad.prims.factories.unary` sets it from
      ``derivative_eager``).

    ``residuals`` (declared with the primitive) says what the
    vjp rules read, so that the reverse trace keeps exactly that: ``None`` (undeclared) keeps
    every operand and the output; otherwise one tuple per operand of the operand positions its
    rule reads, ``-1`` standing for the output. The rule of operand ``i`` then gets ``None`` in place of every
    operand (and output) it did not declare.

    Rules are written with funcgrad operations, so derivatives of derivatives work.
    ``out`` is the primal output, handed to rules so that ``exp`` or ``tanh`` can reuse it.
    """

    __slots__ = ("name", "impl", "jvp", "vjp", "batch", "nondiff", "abstract_eval", "emit", "multiple_results",
                 "jvp_all", "vjp_all", "inline", "index_start", "broadcasting_binary", "shape_role", "residuals",
                 "vjp_eager", "jvp_eager", "kernel", "product_rule")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        jvp: RuleTable | None = None,
        vjp: RuleTable | None = None,
        batch: Callable[..., Any] | None = None,
        nondiff: bool = False,
        abstract_eval: Callable[..., Any] | None = None,
        emit: Callable[..., str] | None = None,
        register: bool = True,
        multiple_results: bool = False,
        jvp_all: Callable[..., Any] | None = None,
        vjp_all: Callable[..., Any] | None = None,
        inline: bool = False,
        vjp_eager: Sequence[Callable[..., Any] | None] | None = None,
        jvp_eager: Sequence[Callable[..., Any] | None] | None = None,
        kernel: Callable[..., Any] | None = None,
        residuals: Sequence[Sequence[int]] | None = None,
        index_start: int | None = None,
        broadcasting_binary: bool = False,
        shape_role: str | None = None,
        batch_of: Callable[[Primitive], Callable[..., Any]] | None = None,
        product_rule: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        if register and name in primitives:
            raise ValueError(f"a primitive named {name!r} already exists")
        self.name = name
        self.impl = impl
        self.jvp = jvp
        self.vjp = vjp
        self.vjp_eager: RuleTable | None = vjp if vjp_eager is None else _eager_rules(name, "vjp", vjp, vjp_eager)
        self.jvp_eager: RuleTable | None = (jvp if jvp_eager is None
                                            else _eager_rules(name, "jvp", jvp, jvp_eager, both=True))
        if batch is not None and batch_of is not None:
            raise PrimitiveDeclarationError(
                f"{name}: declare the batching rule once: got both batch= and batch_of=; give batch= a rule "
                "(args, dims, **params) or batch_of= a function of the primitive returning one")
        self.batch = batch if batch_of is None else batch_of(self)
        self.nondiff = nondiff
        self.abstract_eval = abstract_eval
        self.emit = emit
        self.multiple_results = multiple_results
        self.jvp_all = jvp_all
        self.vjp_all = vjp_all
        self.inline = inline
        # Traits the program passes test (never names): the position of the first index operand
        # of an indexing operation (a boolean mask there decides the result's shape); an
        # elementwise binary operation that broadcasts its operands as NumPy does; "broadcast" or
        # "reshape" for the operations that only change a shape.
        self.index_start = index_start
        self.broadcasting_binary = broadcasting_binary
        self.shape_role = shape_role
        self.residuals = None if residuals is None else _residual_table(name, vjp, residuals)
        self.kernel = kernel
        self.product_rule = product_rule
        if register:  # internal program-only operations (jit's custom calls) are not registered
            primitives[name] = self

    def bind(self, *args: Any, **params: Any) -> Any:
        # find_top_trace, inlined: this runs for every operation, traced or not.
        trace = None
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if trace is None or t.level > trace.level:
                    trace = t
        if trace is None:  # (a call with **{} costs more than one without)
            return self.impl(*args, **params) if params else self.impl(*args)
        if not trace.alive:
            find_top_trace(args, self.name)  # raises its LeakedTracerError
        return trace.process(self, args, params)

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


OUTPUT = -1  # in a residual declaration: the primitive's output


def _eager_rules(name: str, kind: str, general: RuleTable | None, eager: Any,
                 both: bool = False) -> tuple[Callable[..., Any] | None, ...]:
    """A primitive's eager rule table: one rule per general rule (``None`` keeping the general
    one), and for jvp rules of a binary primitive optionally a third rule for both operands."""
    if not isinstance(eager, (tuple, list)):
        raise PrimitiveDeclarationError(
            f"{name}: {kind}_eager= takes a tuple of rules, one per operand as {kind}= (None keeping that "
            f"operand's {kind} rule), got {type(eager).__name__}; write {kind}_eager=(rule,) for one operand")
    if not isinstance(general, (tuple, list)):
        raise PrimitiveDeclarationError(
            f"{name}: {kind}_eager= needs {kind}= declared as a tuple of rules (it gives the same rules for "
            f"operands that are no tracers), got {kind}={type(general).__name__ if general is not None else None}; "
            f"declare {kind}=(rule, ...) too")
    n = len(general)
    extra = both and n == 2 and len(eager) == 3
    if len(eager) != n and not extra:
        raise PrimitiveDeclarationError(
            f"{name}: declare one eager rule per {kind} rule ({n}"
            f"{', and a third for both operands' if both and n == 2 else ''}), got {len(eager)}; "
            f"pad with None for operands keeping their {kind} rule")
    for e in eager:
        if e is not None and not callable(e):
            raise PrimitiveDeclarationError(
                f"{name}: each {kind}_eager rule is a function or None, got {type(e).__name__}")
    rules = tuple(e if e is not None else r for e, r in zip(eager, general))
    return rules + (eager[2],) if extra else rules


def _residual_table(name: str, vjp: RuleTable | None, reads: Any) -> tuple[tuple[int, ...], ...]:
    if not isinstance(reads, (tuple, list)):
        raise PrimitiveDeclarationError(
            f"{name}: residuals= takes one tuple of operand positions per vjp rule (OUTPUT, -1, for the "
            f"output), got {type(reads).__name__}; write residuals=((0,),) for one operand whose rule reads it")
    if vjp is None or isinstance(vjp, (tuple, list)) and len(reads) != len(vjp):
        raise PrimitiveDeclarationError(
            f"{name}: declare one tuple of read operands per vjp rule "
            f"({0 if vjp is None else len(vjp)}), got {len(reads)}")
    for r in reads:
        if not isinstance(r, (tuple, list)) or not all(isinstance(i, int) for i in r):
            raise PrimitiveDeclarationError(
                f"{name}: residuals= takes one tuple of operand positions per vjp rule, got {r!r} among them; "
                f"write ({r!r},) for a rule reading one position" if isinstance(r, int) else
                f"{name}: residuals= takes one tuple of operand positions per vjp rule, got {r!r} among them")
    return tuple(tuple(r) for r in reads)


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
    _trace: Trace
    # Subclasses have a ``primal`` slot: the value one level down (an array or a lower tracer).
    primal: Any

    @property
    def shape(self) -> tuple[int, ...]:
        shape: tuple[int, ...] = self.primal.shape
        return shape

    @property
    def dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = self.primal.dtype
        return dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

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

    def __deepcopy__(self, memo: dict[Any, Any]) -> Tracer:
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

    if TYPE_CHECKING:  # pragma: no cover
        # What funcgrad.numpy.tracer_methods installs at import, declared for type checkers
        # (tests/test_typing.py checks these names against the installed ones).
        def __add__(self, other: Any) -> Tracer: ...
        def __radd__(self, other: Any) -> Tracer: ...
        def __sub__(self, other: Any) -> Tracer: ...
        def __rsub__(self, other: Any) -> Tracer: ...
        def __mul__(self, other: Any) -> Tracer: ...
        def __rmul__(self, other: Any) -> Tracer: ...
        def __truediv__(self, other: Any) -> Tracer: ...
        def __rtruediv__(self, other: Any) -> Tracer: ...
        def __floordiv__(self, other: Any) -> Tracer: ...
        def __rfloordiv__(self, other: Any) -> Tracer: ...
        def __mod__(self, other: Any) -> Tracer: ...
        def __rmod__(self, other: Any) -> Tracer: ...
        def __pow__(self, other: Any) -> Tracer: ...
        def __rpow__(self, other: Any) -> Tracer: ...
        def __matmul__(self, other: Any) -> Tracer: ...
        def __rmatmul__(self, other: Any) -> Tracer: ...
        def __lt__(self, other: Any) -> Tracer: ...
        def __le__(self, other: Any) -> Tracer: ...
        def __gt__(self, other: Any) -> Tracer: ...
        def __ge__(self, other: Any) -> Tracer: ...
        def __eq__(self, other: Any) -> Tracer: ...  # type: ignore[override]  # elementwise, as NumPy's
        def __ne__(self, other: Any) -> Tracer: ...  # type: ignore[override]
        def __neg__(self) -> Tracer: ...
        def __pos__(self) -> Tracer: ...
        def __abs__(self) -> Tracer: ...
        def __invert__(self) -> Tracer: ...
        def __and__(self, other: Any) -> Tracer: ...
        def __rand__(self, other: Any) -> Tracer: ...
        def __or__(self, other: Any) -> Tracer: ...
        def __ror__(self, other: Any) -> Tracer: ...
        def __xor__(self, other: Any) -> Tracer: ...
        def __rxor__(self, other: Any) -> Tracer: ...
        def __lshift__(self, other: Any) -> Tracer: ...
        def __rlshift__(self, other: Any) -> Tracer: ...
        def __rshift__(self, other: Any) -> Tracer: ...
        def __rrshift__(self, other: Any) -> Tracer: ...
        def __getitem__(self, idx: Any) -> Tracer: ...
        def __setitem__(self, idx: Any, value: Any) -> NoReturn: ...
        def __iter__(self) -> Iterator[Tracer]: ...
        # Conversions raise TracerConversionError (they would drop the derivative).
        def __array__(self, *args: Any, **kwargs: Any) -> NoReturn: ...
        def __float__(self) -> float: ...
        def __int__(self) -> int: ...
        def __complex__(self) -> complex: ...
        def __index__(self) -> int: ...
        def item(self, *args: Any) -> NoReturn: ...
        def tolist(self) -> NoReturn: ...
        def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any: ...
        def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any: ...
        @property
        def at(self) -> At: ...
        @property
        def T(self) -> Tracer: ...
        @property
        def mT(self) -> Tracer: ...
        @property
        def real(self) -> Tracer: ...
        @property
        def imag(self) -> Tracer: ...
        @property
        def itemsize(self) -> int: ...
        @property
        def nbytes(self) -> int: ...
        def astype(self, dtype: Any, copy: bool = True) -> Tracer: ...
        def sum(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False,
                **kwargs: Any) -> Tracer: ...
        def mean(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False,
                 **kwargs: Any) -> Tracer: ...
        def prod(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False,
                 **kwargs: Any) -> Tracer: ...
        def max(self, axis: Any = None, out: None = None, keepdims: bool = False, **kwargs: Any) -> Tracer: ...
        def min(self, axis: Any = None, out: None = None, keepdims: bool = False, **kwargs: Any) -> Tracer: ...
        def var(self, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0,
                keepdims: bool = False, **kwargs: Any) -> Tracer: ...
        def std(self, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0,
                keepdims: bool = False, **kwargs: Any) -> Tracer: ...
        def cumsum(self, axis: int | None = None, dtype: Any = None) -> Tracer: ...
        def cumprod(self, axis: int | None = None, dtype: Any = None) -> Tracer: ...
        def argmax(self, axis: int | None = None, out: None = None, keepdims: bool = False) -> Tracer: ...
        def argmin(self, axis: int | None = None, out: None = None, keepdims: bool = False) -> Tracer: ...
        def all(self, axis: Any = None, out: None = None, keepdims: bool = False, **kwargs: Any) -> Tracer: ...
        def any(self, axis: Any = None, out: None = None, keepdims: bool = False, **kwargs: Any) -> Tracer: ...
        def reshape(self, *shape: Any, order: str = "C") -> Tracer: ...
        def transpose(self, *axes: Any) -> Tracer: ...
        def swapaxes(self, a: int, b: int) -> Tracer: ...
        def ravel(self, order: str = "C") -> Tracer: ...
        def flatten(self, order: str = "C") -> Tracer: ...
        def squeeze(self, axis: Any = None) -> Tracer: ...
        def repeat(self, repeats: Any, axis: int | None = None) -> Tracer: ...
        def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tracer: ...
        def take(self, indices: Any, axis: int | None = None, out: None = None, mode: str = "raise") -> Tracer: ...
        def argsort(self, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
                    stable: bool | None = None) -> Tracer: ...
        def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tracer: ...
        def dot(self, b: Any) -> Tracer: ...
        def clip(self, min: Any = None, max: Any = None) -> Tracer: ...
        def copy(self) -> Tracer: ...
        def conj(self) -> Tracer: ...
        def conjugate(self) -> Tracer: ...
        def nonzero(self) -> tuple[Tracer, ...]: ...
        def searchsorted(self, v: Any, side: str = "left", sorter: Any = None) -> Tracer: ...
        def round(self, decimals: int = 0, out: None = None) -> Tracer: ...
        def compress(self, condition: Any, axis: int | None = None, out: None = None) -> Tracer: ...
        def choose(self, choices: Any, out: None = None, mode: str = "raise") -> Tracer: ...
        def argpartition(self, kth: Any, axis: int | None = -1, kind: str = "introselect",
                         order: Any = None) -> Tracer: ...
        # In-place methods raise TracerAssignmentError (traced arrays are immutable).
        def sort(self, *args: Any, **kwargs: Any) -> NoReturn: ...
        def partition(self, *args: Any, **kwargs: Any) -> NoReturn: ...
        def resize(self, *args: Any, **kwargs: Any) -> NoReturn: ...
        def fill(self, *args: Any, **kwargs: Any) -> NoReturn: ...
        def put(self, *args: Any, **kwargs: Any) -> NoReturn: ...


class ValueTracer(Tracer):
    """A tracer holding a concrete value one level down (``primal``: an array or a lower tracer),
    as reverse and forward mode's do. Its shape and dtype are the primal's, read without a
    Python-level call (traces read them on every operation)."""

    __slots__ = ("primal",)
    shape = property(attrgetter("primal.shape"))  # type: ignore[assignment]
    dtype = property(attrgetter("primal.dtype"))  # type: ignore[assignment]


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


# --- abstract values and shape inference --------------------------------------------------------


class ShapedArray(NamedTuple):
    """An abstract array: what ``jit`` knows of a value while tracing."""

    shape: tuple[int, ...]
    dtype: np.dtype
    weak: bool = False  # a Python scalar: NumPy promotes it weakly

    def __str__(self) -> str:
        short = {"float64": "f64", "float32": "f32", "float16": "f16", "int64": "i64", "int32": "i32",
                 "bool": "bool", "complex128": "c128", "complex64": "c64"}.get(self.dtype.name, self.dtype.name)
        return f"{short}[{','.join(map(str, self.shape))}]" + ("~weak" if self.weak else "")


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_frame() -> str:
    """The innermost stack frame outside funcgrad, as 'file:line: source'."""
    import traceback  # only for error messages: not loaded by `import funcgrad`

    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown>"


def mask_error(name: str, origin: str) -> ConcretizationError:
    return ConcretizationError(
        f"boolean-mask indexing ({name}) under jit, with a mask computed from {origin}: the "
        "result's shape depends on how many entries are True, which is unknown while tracing "
        f"(only the mask's shape and dtype are).\n  at {user_frame()}\n"
        "Fixes: select elementwise with funcgrad.numpy.where(mask, x, 0) (and a masked sum) "
        "instead; compute the mask from values that are not traced (a closed-over constant or a "
        "static argument, jit(f, static_argnums=...)/static_argnames=...); or do not jit this "
        "function (grad, vjp and jvp allow boolean masks computed from values)."
    )


_abstract_cache: dict[tuple[Any, ...], Any] = {}
_abstract_lock = threading.Lock()  # threads trace at once: one writer at a time (reads are atomic)


def _probe(a: Any) -> Any:
    if isinstance(a, ShapedArray):
        if a.weak:
            return a.dtype.type(0).item()
        return np.broadcast_to(np.zeros((), a.dtype), a.shape)
    return getattr(a, "value", a)  # a program literal: its Python value


def abstract_eval(prim: Primitive, operands: Sequence[Any], params: dict[Any, Any]) -> Any:
    """Shape and dtype of ``prim``'s result (a tuple of them with ``multiple_results``) for
    abstract operands (``ShapedArray`` or program literals; a boolean index operand of an
    indexing primitive must be the concrete mask array).

    A primitive may declare ``abstract_eval``; otherwise its NumPy implementation runs once on
    zero-strided placeholder arrays (no memory for their size), and the answer is cached.
    """
    key = (prim, tuple(operands), tuple(sorted(params.items())))
    try:
        found = _abstract_cache.get(key)
    except TypeError:  # unhashable parameter: compute without caching
        key, found = None, None  # type: ignore[assignment]
    if found is not None:
        return found
    start = prim.index_start
    if start is not None and any(isinstance(a, ShapedArray) and a.dtype == bool for a in operands[start:]):
        raise mask_error(prim.name, "an operand known only by its type")
    if prim.abstract_eval is not None:
        result = prim.abstract_eval(*operands, **params)
        if prim.multiple_results:
            result = tuple(result)
    else:
        with np.errstate(all="ignore"):
            out = prim.impl(*(_probe(a) for a in operands), **params)
        result = ShapedArray(tuple(np.shape(out)), np.asarray(out).dtype if not hasattr(out, "dtype") else out.dtype)
    if key is not None:
        with _abstract_lock:
            if len(_abstract_cache) > 100_000:
                _abstract_cache.clear()
            result = _abstract_cache.setdefault(key, result)
    return result
