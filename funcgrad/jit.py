"""``jit``: stage a function into a program once per input signature, compile it to NumPy
source, cache it, and run the compiled code on later calls.

The cache key is the input tree structure, the (shape, dtype) of every array leaf (Python
scalars are weakly typed: ``f(1.0)`` and ``f(2.0)`` share an entry), and the values of static
arguments. Each jitted function keeps a bounded LRU cache and warns, naming the argument, when
it keeps retracing.

Called with traced values (``grad(jit(f))``, ``jvp``, ``vmap``), a compiled entry is the
``jit_call`` primitive, bound like any other: its rules derive, once per mask, a forward program
that also returns the residuals and a backward program (reverse mode; staged together as one
joint program and split by :func:`funcgrad.ir.passes.split_known`), a jvp program (forward
mode) or a batched program (vmap), compile and cache them on the entry, and bind ``jit_call``
again with them — so higher-order derivatives of jitted functions work too. Under another
``jit`` the call is one nested equation, inlined by the optimiser.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import operator
import threading
import warnings
from collections import OrderedDict
from typing import Any, Callable, Generic, Literal, NamedTuple, ParamSpec, Sequence, TypeVar, overload

import numpy as np

from ._backend import backend_key, is_foreign_array, staging_foreign, underlying, zeros_like_shape
from .config import jit_disabled as _jit_disabled
from .config import open_disables as _open_disables
from .config import values as _config_values
from .core import Primitive, Tracer, find_top_trace, higher_order_primitives
from .errors import InvalidLeafError, StaticArgumentError
from .ir.backends import check_backend, compile_with
from .ir.codegen import Compiled, generate
from .ir.passes import optimize, split_known
from .ir.program import Program, ShapedArray
from .traces.forward import ForwardTrace, JVPTracer, jvp_tracer
from .traces.reverse import ReverseTrace, ReverseTracer, backward
from .traces.staging import eval_program, trace_to_program
from .tree_util import PyTreeDef, describe_unregistered, keystr, tree_flatten, tree_flatten_with_path

__all__ = ["jit", "make_trace", "JitFunction", "CacheInfo", "Lowered", "eval_shape", "ShapeDtypeStruct"]

_PY_SCALARS = (bool, int, float, complex)


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int
    maxsize: int


class Lowered(NamedTuple):
    """What ``jit(f).lower(*args)`` returns: the optimised program and its generated source."""

    program: Program
    source: str
    compiled: Callable[..., Any]


P = ParamSpec("P")
R = TypeVar("R")

_DERIVED_BOUND = 16  # derived programs kept per entry and kind, least recently used dropped


_derived_lock = threading.RLock()  # guards every entry's derived-program caches


def _remember_derived(cache: OrderedDict[Any, R], key: Any, make: Callable[[], R]) -> R:
    with _derived_lock:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
    made = make()  # outside the lock: deriving stages and compiles, and may nest
    with _derived_lock:
        # Two threads may derive the same key at once: the first to finish is kept, both use it.
        found = cache.setdefault(key, made)
        cache.move_to_end(key)
        if len(cache) > _DERIVED_BOUND:
            cache.popitem(last=False)
    return found


class Entry:
    """One compiled version of a function, plus the programs derived from it on demand.

    Derived programs are specific to which inputs carry a derivative (``mask``), so that
    ``grad(jit(f))`` with respect to one argument computes nothing for the others. The entry is
    also found from its (optimised) program, ``program.derived["entry"]``: the ``jit_call``
    primitive and the loop primitives hold programs in their parameters and reach their
    compiled code and derived programs that way.
    """

    __slots__ = ("program", "compiled", "n_out", "_vjp", "_jvp", "_batched", "name", "backend", "__weakref__")

    def __init__(self, program: Program, name: str, optimized: bool = False, backend: str = "numpy") -> None:
        self.program = program if optimized else optimize(program)
        if program.derived.get("foreign"):  # traced for Dask/CuPy arguments: so are its derived programs
            self.program.derived["foreign"] = True
        self.backend = backend  # derived programs (grad, jvp, vmap of this entry) use it too
        outer, _compiling.backend = compiling_backend(), backend  # sub-program calls emitted meanwhile use it
        try:
            self.compiled: Compiled = (generate(self.program, name) if backend == "numpy"
                                       else compile_with(self.program, name, backend))
        finally:
            _compiling.backend = outer
        self.n_out = len(self.program.outputs)
        self.name = name
        self._vjp: OrderedDict[tuple[Any, ...], tuple[Entry, Entry]] = OrderedDict()
        self._jvp: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._batched: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.program.derived["entry"] = self

    def vjp_parts(self, mask: tuple[bool, ...] | None = None) -> tuple[Entry, Entry]:
        """(forward entry returning outputs + residuals, backward entry mapping one cotangent per
        output + the residuals to the cotangents of the inputs selected by ``mask``; default:
        every input)."""
        mask = mask or (True,) * len(self.program.inputs)
        return _remember_derived(self._vjp, mask, lambda: _derive_vjp(self, mask))

    def jvp_entry(self, mask: tuple[bool, ...] | None = None) -> Entry:
        """Entry computing outputs and one tangent per output from the inputs and the tangents of
        the inputs selected by ``mask`` (default: every input)."""
        mask = mask or (True,) * len(self.program.inputs)
        return _remember_derived(self._jvp, mask, lambda: _derive_jvp(self, mask))

    def batched_entry(self, dims: tuple[Any, ...], size: int) -> Entry:
        """Entry computing the outputs, batched along axis 0, for inputs batched along ``dims``."""
        def make() -> Entry:
            from .vmap import vmap

            prog = self.program
            avals = [a if d is None else ShapedArray(a.shape[:d] + (size,) + a.shape[d:], a.dtype)
                     for a, d in zip(prog.in_avals, dims)]
            f = vmap(lambda *xs: eval_program(prog, *xs), in_axes=dims, axis_size=size)
            foreign = prog.derived.get("foreign", False)
            with staging_foreign(foreign):
                batched = trace_to_program(f, avals, prog.input_names)[0]
            batched.derived["foreign"] = foreign
            return Entry(batched, self.name + "_vmap", backend=self.backend)

        return _remember_derived(self._batched, (dims, size), make)


_compiling = threading.local()  # .backend: the backend of the Entry being compiled in this thread


def compiling_backend() -> str:
    """The backend of the program whose code is being generated in this thread ("numpy" outside
    code generation): the calls of sub-programs it emits (``custom_vjp``/``custom_jvp`` bodies,
    so ``checkpoint``) compile their programs with it too, e.g. their loops as Numba kernels."""
    return getattr(_compiling, "backend", "numpy")


def entry_of(program: Program, name: str = "program", backend: str | None = None) -> Entry:
    """The compiled entry of ``program`` (made once and cached on the program). With ``backend``,
    an entry compiled with that backend: the program's own entry if it has it, else one made
    once for that backend and cached beside it."""
    found = program.derived.get("entry")
    if found is None:
        found = Entry(program, name, backend=backend or "numpy")
        program.derived["entry"] = found
    elif backend is not None and found.backend != backend:
        key = "entry " + backend
        found = program.derived.get(key)
        if found is None:
            found = program.derived[key] = Entry(program, name, backend=backend)
    return found


def _derive_jvp(entry: Entry, mask: tuple[bool, ...]) -> Entry:
    prog = entry.program
    n = len(prog.inputs)

    def f(*xs_and_ts: Any) -> list[Any]:
        trace = ForwardTrace()
        tangents = iter(xs_and_ts[n:])
        args = [jvp_tracer(trace, x, next(tangents)) if m else x for x, m in zip(xs_and_ts[:n], mask)]
        try:
            outs = eval_program(prog, *args)
        finally:
            trace.alive = False
        primals, touts = [], []
        for o, aval in zip(outs, prog.out_avals):
            if type(o) is JVPTracer and o._trace is trace:
                primals.append(o.primal)
                touts.append(o.tangent)
            else:
                primals.append(o)
                touts.append(zeros_like_shape(o, aval.shape, aval.dtype))
        return primals + touts

    chosen = [i for i, m in enumerate(mask) if m]
    avals = prog.in_avals + [ShapedArray(prog.in_avals[i].shape, prog.in_avals[i].dtype) for i in chosen]
    names = prog.input_names + [f"tangent of {prog.input_names[i]}" for i in chosen]
    with staging_foreign(prog.derived.get("foreign", False)):
        derived = trace_to_program(f, avals, names)[0]
    derived.derived["foreign"] = prog.derived.get("foreign", False)
    return Entry(derived, entry.name + "_jvp", backend=entry.backend)


def _derive_vjp(entry: Entry, mask: tuple[bool, ...]) -> tuple[Entry, Entry]:
    """Reverse mode of ``entry`` as a forward program (inputs -> outputs and residuals) and a
    backward program (one cotangent per output, residuals -> cotangents of the masked inputs).

    The forward pass and the backward pass are staged together into one joint program; the
    equations that do not depend on the cotangents form the forward program, the others the
    backward one, and the values the backward equations read from the forward ones are the
    residuals (:func:`funcgrad.ir.passes.split_known`).
    """
    prog = entry.program
    n = len(prog.inputs)
    chosen = [i for i, m in enumerate(mask) if m]

    def joint(*xs_and_cts: Any) -> list[Any]:
        trace = ReverseTrace()
        args = [trace.new_input(x) if m else x for x, m in zip(xs_and_cts[:n], mask)]
        try:
            outs = eval_program(prog, *args)
        finally:
            trace.alive = False
        primals, seeds = [], []
        for o, ct in zip(outs, xs_and_cts[n:]):
            if type(o) is ReverseTracer and o._trace is trace:
                primals.append(o.primal)
                seeds.append((o.node, ct))
            else:
                primals.append(o)
        found = backward(trace, seeds, [args[i].node for i in chosen]) if seeds else [None] * len(chosen)
        in_cts = [zeros_like_shape(xs_and_cts[i], prog.in_avals[i].shape, prog.in_avals[i].dtype)
                  if g is None else g for i, g in zip(chosen, found)]
        return primals + in_cts

    ct_avals = [ShapedArray(a.shape, a.dtype) for a in prog.out_avals]
    names = prog.input_names + [f"cotangent {k}" for k in range(len(ct_avals))]
    with staging_foreign(prog.derived.get("foreign", False)):
        joint_prog, captured, _ = trace_to_program(joint, prog.in_avals + ct_avals, names)
    if captured:  # pragma: no cover - a closed program has no outer values to capture
        raise AssertionError("a derived program captured an outer traced value")
    fwd_prog, bwd_prog = split_known(joint_prog, n, len(prog.outputs))
    fwd_prog.derived["foreign"] = bwd_prog.derived["foreign"] = prog.derived.get("foreign", False)
    return (Entry(fwd_prog, entry.name + "_fwd", backend=entry.backend),
            Entry(bwd_prog, entry.name + "_bwd", backend=entry.backend))


# --- the jit_call primitive: a call of a compiled program, under whatever transformation -------


def _jit_call_jvp(primals: list[Any], tangents: list[Any], program: Program) -> tuple[list[Any], list[Any]]:
    entry = entry_of(program)
    mask = tuple(t is not None for t in tangents)
    res = jit_call_p.bind(*primals, *(t for t in tangents if t is not None),
                          program=entry.jvp_entry(mask).program)
    return res[: entry.n_out], res[entry.n_out:]


def _jit_call_vjp(primals: list[Any], mask: tuple[Any, ...], program: Program
                  ) -> tuple[list[Any], Callable[[list[Any]], list[Any]]]:
    entry = entry_of(program)
    fwd, bwd = entry.vjp_parts(mask)
    res = jit_call_p.bind(*primals, program=fwd.program)
    outs, residuals = res[: entry.n_out], res[entry.n_out:]
    chosen = [i for i, m in enumerate(mask) if m]

    def backward_(cts: list[Any]) -> list[Any]:
        in_cts: list[Any] = [None] * len(primals)
        for i, g in zip(chosen, jit_call_p.bind(*cts, *residuals, program=bwd.program)):
            in_cts[i] = g
        return in_cts

    return [_as_array(o) for o in outs], backward_


def _jit_call_batch(vals: tuple[Any, ...], dims: tuple[Any, ...], program: Program) -> tuple[list[Any], list[Any]]:
    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    batched = entry_of(program).batched_entry(tuple(dims), size)
    outs = jit_call_p.bind(*vals, program=batched.program)
    return [_as_array(o) for o in outs], [0] * len(outs)


jit_call_p = Primitive(
    "jit_call",
    lambda *args, program: entry_of(program).compiled.fn(*args),
    multiple_results=True,
    abstract_eval=lambda *avals, program: [ShapedArray(a.shape, a.dtype) for a in program.out_avals],
    jvp_all=_jit_call_jvp,
    vjp_all=_jit_call_vjp,
    batch=_jit_call_batch,
    inline=True,
    register=False,
)
higher_order_primitives[jit_call_p.name] = jit_call_p


def call_entry(entry: Entry, args: Sequence[Any]) -> list[Any]:
    """Run ``entry`` on ``args``: its compiled code directly, or, with traced arguments, the
    ``jit_call`` primitive, whose rules run the programs derived from it."""
    if find_top_trace(args, f"jitted {entry.name}") is None:
        return list(entry.compiled.fn(*args))
    return list(jit_call_p.bind(*args, program=entry.program))


def _dtype(x: Any) -> np.dtype:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _as_array(x: Any) -> Any:
    if isinstance(x, (np.ndarray, Tracer)) or is_foreign_array(x) or getattr(x, "is_loop_tape", False):
        return x  # (a while loop's tape keeps its own abstract shape)
    return np.asarray(x)


# --- the user-facing jitted function ------------------------------------------------------------


def _leaf_key(x: Any) -> Any:
    t = type(x)
    if t is np.ndarray:
        return (x.shape, x.dtype)
    if t in _PY_SCALARS:
        return t
    if isinstance(x, Tracer):  # a traced Dask/CuPy value (grad of jit) keys on its library too
        u = underlying(x)
        if u is not None and type(u) is not np.ndarray and is_foreign_array(u):
            return (tuple(x.shape), np.dtype(x.dtype), backend_key(u))
        return (tuple(x.shape), np.dtype(x.dtype))
    if isinstance(x, (np.ndarray, np.generic)):
        return (tuple(x.shape), np.dtype(x.dtype))
    if is_foreign_array(x):  # Dask/CuPy: same code, but the type and chunk layout are part of the key
        return (tuple(x.shape), np.dtype(x.dtype), backend_key(x))
    return None


def _aval(x: Any) -> ShapedArray:
    if type(x) in _PY_SCALARS:
        return ShapedArray((), np.asarray(x).dtype, True)
    return ShapedArray(tuple(np.shape(x)), _dtype(x))


def _describe_key(k: Any) -> str:
    if isinstance(k, type):
        return f"a Python {k.__name__}"
    if isinstance(k, tuple) and len(k) == 2:
        return f"shape {k[0]} dtype {k[1]}"
    if isinstance(k, tuple) and len(k) == 3:  # a foreign array: its type and chunks too
        kind, chunks = k[2]
        layout = f" chunks {chunks}" if chunks is not None else ""
        return f"a {kind.__module__}.{kind.__qualname__} of shape {k[0]} dtype {k[1]}{layout}"
    return repr(k)


def _check_jittable(f: Any) -> None:
    """jit traces a function once and reuses the result: generators and coroutines, whose bodies
    run only later, cannot be traced; nor can a value that is not callable."""
    if not callable(f):
        raise TypeError(f"jit expects a function (a callable), got {f!r:.80} of type {type(f).__qualname__}.")
    if inspect.isgeneratorfunction(f) or inspect.isasyncgenfunction(f) or inspect.iscoroutinefunction(f):
        kind = "a coroutine function" if inspect.iscoroutinefunction(f) else "a generator function"
        raise TypeError(
            f"jit of {getattr(f, '__name__', f)!r}, {kind}: its body runs only when iterated or awaited, after "
            "jit has traced the call, so there is nothing to compile. Return a list or an array (e.g. "
            "fnp.stack([...])) instead of yielding values, or jit the function that consumes the values."
        )


class JitFunction(Generic[P, R]):
    """A function compiled per input signature; see :func:`jit`. Typed as ``f`` is: calling it
    takes ``f``'s parameters (``P``) and returns ``f``'s result type (``R``)."""

    def __init__(self, f: Callable[P, R], static_argnums: int | Sequence[int] = (),
                 static_argnames: str | Sequence[str] = (), cache_size: int = 64, retrace_warning: int = 8,
                 backend: str = "numpy") -> None:
        _check_jittable(f)
        functools.update_wrapper(self, f)  # (copies f's __dict__: grad(jit(g)) carries jit(g)'s attributes)
        self.backend = check_backend(backend)
        self.fun = f
        self.name = getattr(f, "__name__", type(f).__name__)
        nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        try:
            self._params = list(inspect.signature(f).parameters.values())
        except (TypeError, ValueError):
            self._params = []
        positional = [p.name for p in self._params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for n in nums:
            if not isinstance(n, int):
                raise StaticArgumentError(f"static_argnums must be ints, got {n!r}")
        kinds = {p.kind for p in self._params}
        if self._params and inspect.Parameter.VAR_POSITIONAL not in kinds:
            n_pos = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in self._params)
            for n in nums:
                if not -n_pos <= n < n_pos:
                    raise StaticArgumentError(
                        f"static_argnums={n} names no argument of {self.name}, which takes {n_pos} "
                        "positional argument(s).")
        if self._params and inspect.Parameter.VAR_KEYWORD not in kinds:
            known = {p.name for p in self._params}
            for name in names:
                if name not in known:
                    raise StaticArgumentError(
                        f"static_argnames={name!r} names no parameter of {self.name} "
                        f"(its parameters: {', '.join(sorted(known))}).")
        # A static argument may be passed either way: keep numbers and names in step.
        self.static_argnums = frozenset(n if n >= 0 else n + len(positional) for n in nums) | frozenset(
            positional.index(n) for n in names if n in positional)
        self.static_argnames = frozenset(names) | frozenset(
            positional[n] for n in self.static_argnums if 0 <= n < len(positional))
        self._positional = positional
        self.cache: OrderedDict[Any, tuple[Entry, PyTreeDef]] = OrderedDict()
        # Guards the cache, the counters and replacing the fast-path table: threads share a
        # jitted function. Tracing runs outside it; re-entrant for hashes that call back into jit.
        self._lock = threading.RLock()
        self.maxsize = cache_size
        self.misses = 0
        # Hits and recency without the lock: every use of an entry reads the next tick of this
        # clock (itertools.count's __next__ is atomic in CPython) and keeps it as the entry's
        # last use; the hits are the ticks minus those taken for other events (under the lock).
        self._clock = itertools.count(1)  # (next(self._clock) on the inline path: the cheapest call)
        self._tick: Callable[[], int] = self._clock.__next__
        self._other_ticks = 0
        self._used: dict[Any, int] = {}  # cache key -> tick of its last use on the general path
        self._retrace_warning = retrace_warning
        self._last_key: Any = None
        self._method_jit: JitFunction[..., Any] | None = None
        self._plain = not self.static_argnums and not self.static_argnames
        # The fast path's table: fast key -> [compiled fn, output builder, leaf reordering or None,
        # tick of last use, cache key, dtype of a lone array argument or None]. Read without the
        # lock; replaced, never mutated, under it. _fast_one holds its entries for one array
        # argument by shape alone (hashing a dtype costs more than comparing it by identity).
        self._fast: dict[tuple[Any, ...], list[Any]] = {}
        self._fast_one: dict[tuple[int, ...], list[Any]] = {}

    # -- calling ---------------------------------------------------------------------------------

    def _split(self, args: tuple[Any, ...], kwargs: dict[Any, Any]
               ) -> tuple[tuple[Any, ...], dict[Any, Any], tuple[Any, ...]]:
        statics = []
        dyn_args: list[Any] = []
        for i, a in enumerate(args):
            if i in self.static_argnums:
                statics.append((i, self._hashable(a, self._arg_name(i))))
                dyn_args.append(None)
            else:
                dyn_args.append(a)
        dyn_kwargs = {}
        for k in sorted(kwargs):
            if k in self.static_argnames:
                statics.append((k, self._hashable(kwargs[k], k)))
            else:
                dyn_kwargs[k] = kwargs[k]
        return tuple(dyn_args), dyn_kwargs, tuple(statics)

    def _arg_name(self, i: int) -> str:
        return self._positional[i] if i < len(self._positional) else f"args[{i}]"

    def _hashable(self, value: Any, name: str) -> Any:
        """The cache key of a static value: typed, so that 2 and 2.0 (equal and of equal hash)
        get different compiled versions, as their results differ in dtype."""
        try:
            hash(value)
        except TypeError:
            raise StaticArgumentError(
                f"static argument {name!r} of jitted {self.name} is a {type(value).__name__}, which is "
                "not hashable; static arguments are cache keys. Pass a tuple instead of a list, a "
                "frozen dataclass, or make the argument non-static (arrays and pytrees of arrays)."
            ) from None
        return (type(value), value)

    def _signature(self, args: tuple[Any, ...], kwargs: dict[Any, Any]
                   ) -> tuple[Any, list[Any], tuple[Any, ...], tuple[Any, ...], dict[Any, Any]]:
        dyn_args, dyn_kwargs, statics = self._split(args, kwargs)
        leaves, treedef = tree_flatten((dyn_args, dyn_kwargs))
        keys = []
        for x in leaves:
            k = _leaf_key(x)
            if k is None:
                self._bad_leaf(args, kwargs, x)
            keys.append(k)
        return (treedef, tuple(keys), statics), leaves, dyn_args, statics, dyn_kwargs

    def _bad_leaf(self, args: tuple[Any, ...], kwargs: dict[Any, Any], bad: Any) -> None:
        dyn_args, dyn_kwargs, _ = self._split(args, kwargs)
        for path, x in tree_flatten_with_path((dyn_args, dyn_kwargs))[0]:
            if x is bad:
                name = self._path_name(path)
                raise InvalidLeafError(
                    f"jitted {self.name}: {name} is a {type(x).__qualname__}, which is neither an array, a "
                    "number nor a pytree of them. Mark it static (static_argnums/static_argnames) if it "
                    "is configuration." + describe_unregistered(x))

    def _path_name(self, path: tuple[Any, ...]) -> str:
        if not path:
            return "argument"
        if path[0].idx == 0:
            return keystr(path[2:], self._arg_name(path[1].idx))
        return keystr(path[2:], str(path[1].key))

    def _names(self, args: tuple[Any, ...], kwargs: dict[Any, Any]) -> list[str]:
        dyn_args, dyn_kwargs, _ = self._split(args, kwargs)
        return [self._path_name(p) for p, _ in tree_flatten_with_path((dyn_args, dyn_kwargs))[0]]

    def _stage(self, key: Any, leaves: list[Any], args: tuple[Any, ...], kwargs: dict[Any, Any],
               statics: tuple[Any, ...]) -> tuple[Program, list[Any], PyTreeDef]:
        """Trace the function on abstract leaves: (program, captured outer tracers, output tree)."""
        treedef = key[0]
        static_pos = {k: v[1] for k, v in statics if isinstance(k, int)}  # v is (type, value)
        static_kw = {k: v[1] for k, v in statics if isinstance(k, str)}

        def flat_fun(*leaf_values: Any) -> Any:
            dyn_args, dyn_kwargs = treedef.unflatten(leaf_values)
            full = [static_pos[i] if i in static_pos else a for i, a in enumerate(dyn_args)]
            return self.fun(*full, **dyn_kwargs, **static_kw)

        foreign = any(type(x) is not np.ndarray and is_foreign_array(underlying(x)) for x in leaves)
        with staging_foreign(foreign):  # arrays funcgrad makes are made in the arguments' library
            found = trace_to_program(flat_fun, [_aval(x) for x in leaves], self._names(args, kwargs))
        found[0].derived["foreign"] = foreign
        return found

    def _trace(self, key: Any, leaves: list[Any], args: tuple[Any, ...], kwargs: dict[Any, Any],
               statics: tuple[Any, ...]) -> tuple[Entry, PyTreeDef, list[Any]]:
        program, captured, out_tree = self._stage(key, leaves, args, kwargs, statics)
        return Entry(program, self.name, backend=self.backend), out_tree, captured

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        # The commonest call inline, costing about one dict lookup: positional arrays only, keyed
        # by their shapes and dtypes in turn (as _fast_signature keys them). Anything else, and
        # every check, is on the general path (with static arguments the fast tables stay empty).
        if not kwargs and not (_open_disables[0] or _config_values["jax_disable_jit"]):
            if len(args) == 1:
                a = args[0]
                if type(a) is _NDARRAY:
                    hit = self._fast_one.get(a.shape)  # type: ignore[attr-defined]
                    if hit is not None and hit[5] is a.dtype:  # type: ignore[attr-defined]
                        hit[3] = next(self._clock)  # a hit, and this entry's last use (for the LRU bound)
                        outs = hit[0](a)
                        one_result: R = outs if hit[1] is None else hit[1](outs)
                        return one_result
            else:
                shapes = []
                for a in args:
                    if type(a) is not _NDARRAY:
                        break
                    shapes.append(a.shape)  # type: ignore[attr-defined]
                    shapes.append(a.dtype)  # type: ignore[attr-defined]
                else:
                    hit = self._fast.get(tuple(shapes))
                    if hit is not None:
                        hit[3] = next(self._clock)
                        outs = hit[0](*args)
                        array_result: R = outs if hit[1] is None else hit[1](outs)
                        return array_result
        return self._call(args, kwargs)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        """A call off the inline path: jit disabled, keywords, static arguments, containers or
        numbers among the arguments, or a signature not compiled yet."""
        if (_open_disables[0] or _config_values["jax_disable_jit"]) and _jit_disabled():
            return self.fun(*args, **kwargs)  # funcgrad.disable_jit(): the Python function itself, eagerly
        if kwargs or not self._plain:
            fast = None
        else:
            fast = _fast_signature(args)
        if fast is not None:
            # Fast path (arrays, numbers and plain containers of them, as in a training loop):
            # one walk of the arguments, one lookup in a table no thread mutates, the code.
            hit = self._fast.get(fast[0])
            if hit is not None:
                hit[3] = self._tick()  # a hit, and this entry's last use (for the LRU bound)
                leaves = fast[1] if hit[2] is None else hit[2](fast[1])
                outs = hit[0](*leaves)
                fast_result: R = outs if hit[1] is None else hit[1](outs)
                return fast_result
        key, leaves, _, statics, _ = self._signature(args, kwargs)
        with self._lock:
            found = self.cache.get(key)
            if found is not None:
                stamp = self._used[key] = self._tick()  # a hit
                if fast is not None:  # (back) on the fast path, e.g. after an eviction dropped it
                    self._install_fast(fast, leaves, args, found, key, stamp)
            else:
                self.misses += 1
        captured: list[Any] = []
        if found is not None:
            entry, out_tree = found
        else:
            entry, out_tree, captured = self._trace(key, leaves, args, kwargs, statics)
            if not captured:  # a program that closed over traced values is specific to this call
                entry, out_tree = self._remember(key, entry, out_tree, args, kwargs, fast, leaves)
        outs = call_entry(entry, leaves + captured)
        result: R = out_tree.unflatten(outs)
        return result

    def _other_tick(self) -> int:
        """A tick of the clock for an event that is not a hit (caller holds the lock)."""
        self._other_ticks += 1
        return self._tick()

    @property
    def hits(self) -> int:
        """Calls that found a compiled version."""
        with self._lock:
            return self._other_tick() - self._other_ticks

    def _install_fast(self, fast: tuple[tuple[Any, ...], Sequence[Any]], leaves: list[Any], args: tuple[Any, ...],
                      found: tuple[Entry, PyTreeDef], key: Any, stamp: int) -> None:
        """Put a cache entry on the fast path under the arguments' fast key (caller holds the lock),
        once the fast walk is known to give the same leaves as tree_flatten, reordered."""
        order = _fast_order(args)
        if order is False:
            return
        walked = fast[1] if order is None else [fast[1][i] for i in order]
        if len(walked) != len(leaves) or any(a is not b for a, b in zip(walked, leaves)):
            return  # a registered node type changed the flattening: stay on the general path
        table = dict(self._fast) if len(self._fast) < 4 * self.maxsize else {}
        build = _builder(found[1])
        lone = args[0].dtype if len(args) == 1 and type(args[0]) is _NDARRAY else None
        table[fast[0]] = [found[0].compiled.fn, None if build is tuple else build,  # (the code returns a tuple)
                          None if order is None else operator.itemgetter(*order), stamp, key, lone]
        self._set_fast(table)

    def _set_fast(self, table: dict[tuple[Any, ...], list[Any]]) -> None:
        """Replace the fast tables (caller holds the lock): replaced, not mutated, so that readers
        without the lock see one table or the other."""
        self._fast = table
        self._fast_one = {key[0]: rec for key, rec in table.items() if rec[5] is not None}

    def _evict_least_recent(self) -> None:
        """Drop the cache entry used longest ago, by the ticks of both paths (caller holds the lock)."""
        last = dict(self._used)
        for rec in self._fast.values():
            if rec[3] > last.get(rec[4], 0):
                last[rec[4]] = rec[3]
        victim = min(self.cache, key=lambda k: last.get(k, 0))
        del self.cache[victim]
        self._used.pop(victim, None)
        self._set_fast({k: rec for k, rec in self._fast.items() if rec[4] != victim})

    def _remember(self, key: Any, entry: Entry, out_tree: PyTreeDef, args: tuple[Any, ...], kwargs: dict[Any, Any],
                  fast: tuple[tuple[Any, ...], Sequence[Any]] | None, leaves: list[Any]) -> tuple[Entry, PyTreeDef]:
        """Cache a traced entry and return the one kept: when two threads traced the same key at
        once, the first stored wins and both use it."""
        message = None
        with self._lock:
            found = self.cache.get(key)
            if found is not None:
                self._used[key] = self._other_tick()
                return found
            self.cache[key] = (entry, out_tree)
            stamp = self._used[key] = self._other_tick()
            if len(self.cache) > self.maxsize:
                self._evict_least_recent()
            if fast is not None:
                self._install_fast(fast, leaves, args, (entry, out_tree), key, stamp)
            previous, self._last_key = self._last_key, key
            # Warn at 8, 16, 32, ... traces: often enough to be seen, rarely enough not to flood.
            misses = self.misses
            ratio = misses // self._retrace_warning
            if (previous is not None and misses % self._retrace_warning == 0 and ratio > 0
                    and ratio & (ratio - 1) == 0):
                message = self._retrace_message(previous, key, args, kwargs)
        if message is not None:
            warnings.warn(message, RetraceWarning, stacklevel=4)  # the caller of __call__
        return entry, out_tree

    def _retrace_message(self, old: Any, new: Any, args: tuple[Any, ...], kwargs: dict[Any, Any]) -> str:
        reasons = []
        if old[0] != new[0]:
            reasons.append(f"the structure of the arguments changed ({old[0]} -> {new[0]})")
        else:
            for name, a, b in zip(self._names(args, kwargs), old[1], new[1]):
                if a != b:
                    reasons.append(f"{name} changed from {_describe_key(a)} to {_describe_key(b)}")
        for (k, a), (_, b) in zip(old[2], new[2]):
            if a != b:
                name = self._arg_name(k) if isinstance(k, int) else k
                reasons.append(f"static argument {name!r} changed from {a[1]!r} to {b[1]!r}")
        why = "; ".join(reasons) or "its inputs keep changing"
        return (f"jitted function {self.name} has been traced and compiled {self.misses} times "
                f"(cache size {len(self.cache)}/{self.maxsize}): {why}. Every new shape, dtype or static "
                "value compiles a new version; keep shapes fixed (pad or bucket them) and static "
                "arguments few.")

    # -- introspection ---------------------------------------------------------------------------

    def lower(self, *args: P.args, **kwargs: P.kwargs) -> Lowered:
        """The optimised program and generated source for these arguments.

        >>> import numpy as np, funcgrad as fg
        >>> print(fg.jit(lambda x: x * 2).lower(np.ones(2)).source)  # doctest: +ELLIPSIS
        def ...(a0):
            if type(a0) is not _ndarray...:
                return _general...(a0)
            v0 = _multiply_...(a0, 2)
            return (v0,)
        <BLANKLINE>
        """
        key, leaves, _, statics, _ = self._signature(args, kwargs)
        with self._lock:
            found = self.cache.get(key)
        entry = found[0] if found is not None else self._trace(key, leaves, args, kwargs, statics)[0]
        return Lowered(entry.program, entry.compiled.source, entry.compiled.fn)

    def cache_info(self) -> CacheInfo:
        """Hits, misses (traces), current size and bound of this function's cache."""
        with self._lock:
            return CacheInfo(self.hits, self.misses, len(self.cache), self.maxsize)

    def clear_cache(self) -> None:
        """Drop every compiled version (and with them any static values they hold)."""
        with self._lock:
            self.cache.clear()
            self._set_fast({})
            self._used = {}
            self._last_key = None
            self.misses = self._other_ticks = 0
            self._clock = itertools.count(1)
            self._tick = self._clock.__next__

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as what it is (the function and the jit options), not what it compiled
        # (generated code does not pickle): the copy retraces on its first call.
        return (JitFunction, (self.fun, tuple(sorted(self.static_argnums)), tuple(sorted(self.static_argnames)),
                              self.maxsize, self._retrace_warning, self.backend))

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        if self._method_jit is None:
            with self._lock:  # one method cache, whichever thread gets here first
                if self._method_jit is None:
                    # The instance is argument 0 (as in the unbound function and in JAX), and static.
                    self._method_jit = JitFunction(
                        self.fun, static_argnums=(0,) + tuple(self.static_argnums),
                        static_argnames=tuple(self.static_argnames), cache_size=self.maxsize, backend=self.backend)
        return BoundJit(self._method_jit, obj)

    def __repr__(self) -> str:
        return f"<jitted {self.name}>"


def _builder(out_tree: PyTreeDef) -> Callable[[tuple[Any, ...]], Any]:
    """Turn the compiled function's output tuple into the user's output tree, cheaply: built
    once per cache entry from the tree's structure (tuples, lists, dicts and leaves by slicing and
    ``zip``; other nodes through ``unflatten``)."""
    if out_tree.node_type is None:
        return operator.itemgetter(0)
    if out_tree.node_type is tuple and all(c.node_type is None for c in out_tree.children):
        return tuple
    return _node_builder(out_tree, 0)


def _node_builder(tree: PyTreeDef, start: int) -> Callable[[tuple[Any, ...]], Any]:
    """A function of the whole output tuple building the subtree ``tree``, whose leaves start at
    position ``start``."""
    kind, n = tree.node_type, tree.num_leaves
    if kind is None:
        return operator.itemgetter(start)
    stop = start + n
    if kind is type(None):
        return lambda outs: None
    flat = all(c.node_type is None for c in tree.children)
    if kind is dict:
        keys = tree.aux
        if flat:
            return lambda outs: dict(zip(keys, outs[start:stop]))  # type: ignore[call-overload]
        parts = _child_builders(tree, start)
        return lambda outs: dict(zip(keys, [p(outs) for p in parts]))  # type: ignore[call-overload]
    if kind is tuple or kind is list:
        if flat:
            return lambda outs: kind(outs[start:stop])
        parts = _child_builders(tree, start)
        return lambda outs: kind([p(outs) for p in parts])
    return lambda outs: tree.unflatten(outs[start:stop])  # namedtuples, dataclasses, registered classes


def _child_builders(tree: PyTreeDef, start: int) -> list[Callable[[tuple[Any, ...]], Any]]:
    parts = []
    for child in tree.children:
        parts.append(_node_builder(child, start))
        start += child.num_leaves
    return parts


# --- the fast path: a key and the leaves of plain arguments, without tree_flatten ---------------

_NDARRAY = np.ndarray
_SCALAR_TYPES = frozenset(_PY_SCALARS)


def _fast_signature(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], Sequence[Any]] | None:
    """``(key, leaves)`` of positional arguments made of NumPy arrays, Python numbers, and dicts,
    lists and tuples of them; None for anything else (the general path handles it).

    For arrays only, the key is their shapes and dtypes in turn, flat (as ``__call__`` makes it
    inline). Otherwise it holds ``(shape, dtype)`` per array, the type per number,
    ``(dict, *keys)`` per dict (keys in insertion order) and ``(type, length)`` per list or tuple.
    The first element of a key tells the two forms apart (a tuple of ints; a pair, a type or a
    tuple starting with a type), as each element tells the kinds apart, so differently structured
    arguments never give equal keys. Leaves come in walking order (dicts in insertion order),
    which the fast table's entry maps to the program's order (sorted keys).
    """
    key: list[Any] = []
    for a in args:  # the commonest case first: arrays only, which are their own leaves
        if type(a) is not _NDARRAY:
            break
        key.append(a.shape)  # keyed flat, as JitFunction.__call__ keys them inline: a shape is
        key.append(a.dtype)  # a tuple of ints, never equal to the first element of another key
    else:
        return tuple(key), args
    key.clear()
    leaves: list[Any] = []
    if not _walk_items(args, key, leaves):
        return None
    return tuple(key), leaves


def _walk_items(items: Any, key: list[Any], leaves: list[Any]) -> bool:
    """Append the key parts and leaves of ``items`` (arrays, numbers, dicts/lists/tuples of them);
    False at anything else."""
    for v in items:
        tv = type(v)
        if tv is _NDARRAY:
            key.append((v.shape, v.dtype))
            leaves.append(v)
        elif tv is dict:
            key.append((dict, *v))
            if not _walk_items(v.values(), key, leaves):
                return False
        elif tv is list or tv is tuple:
            key.append((tv, len(v)))
            if not _walk_items(v, key, leaves):
                return False
        elif tv in _SCALAR_TYPES:
            key.append(tv)
            leaves.append(v)
        else:
            return False
    return True


def _fast_order(args: tuple[Any, ...]) -> list[int] | None | Literal[False]:
    """Where each leaf of ``tree_flatten(args)`` is among the leaves :func:`_fast_signature`
    walks: None when in the same order, False when a dict has a key that is not a str (such
    arguments stay on the general path: ``1`` and ``True`` are equal keys of different types)."""
    paths: list[tuple[int, ...]] = []

    def visit(x: Any, path: tuple[int, ...]) -> bool:
        t = type(x)
        if t is dict:
            if not all(type(k) is str for k in x):
                return False
            rank = {k: r for r, k in enumerate(sorted(x))}  # tree_flatten orders dict keys
            return all(visit(v, path + (rank[k],)) for k, v in x.items())
        if t is list or t is tuple:
            return all(visit(v, path + (i,)) for i, v in enumerate(x))
        paths.append(path)
        return True

    if not all(visit(a, (i,)) for i, a in enumerate(args)):
        return False
    order = sorted(range(len(paths)), key=paths.__getitem__)
    return None if order == list(range(len(paths))) else order


class BoundJit:
    """A jitted method bound to an instance: call it, or inspect it (``lower``, ``cache_info``).

    The instance is a static argument, hashed by ``__hash__`` (identity unless the class
    defines it), so each instance compiles its own versions; the cache holds the instance
    until its entries are evicted or ``clear_cache()`` is called.
    """

    __slots__ = ("_jit", "_obj")

    def __init__(self, jitted: JitFunction[..., Any], obj: Any) -> None:
        self._jit, self._obj = jitted, obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._jit(self._obj, *args, **kwargs)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        return self._jit.lower(self._obj, *args, **kwargs)

    def cache_info(self) -> CacheInfo:
        return self._jit.cache_info()

    def clear_cache(self) -> None:
        self._jit.clear_cache()

    def __repr__(self) -> str:
        return f"<jitted method {self._jit.name} of {type(self._obj).__name__}>"


class RetraceWarning(UserWarning):
    """A jitted function is being traced again and again."""


@overload
def jit(f: Callable[P, R], *, static_argnums: int | Sequence[int] = (), static_argnames: str | Sequence[str] = (),
        cache_size: int = 64, backend: str = "numpy", **jax_options: Any) -> JitFunction[P, R]: ...
@overload
def jit(f: None = None, *, static_argnums: int | Sequence[int] = (), static_argnames: str | Sequence[str] = (),
        cache_size: int = 64, backend: str = "numpy", **jax_options: Any
        ) -> Callable[[Callable[P, R]], JitFunction[P, R]]: ...
def jit(f: Callable[P, R] | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), cache_size: int = 64, backend: str = "numpy", **jax_options: Any
        ) -> JitFunction[P, R] | Callable[[Callable[P, R]], JitFunction[P, R]]:
    """Compile ``f``: trace it once per input signature into a program, generate NumPy source,
    and reuse the compiled code on later calls with the same shapes and dtypes.

    Arguments in ``static_argnums``/``static_argnames`` are passed as Python values (they must be
    hashable) and each distinct value gets its own compiled version. Usable as a decorator, also
    on methods (the instance is then a static argument, hashed by identity unless its class
    defines ``__hash__``).

    Closed-over arrays are read when the function is traced: work on them alone is computed then
    and stored in the program. Pass arrays whose values change between calls as arguments.

    ``backend="numba"`` (optional extra: ``pip install "funcgrad[numba]"``) compiles each maximal
    region of elementwise operations of the optimised program into one Numba loop kernel — one
    pass over memory instead of one NumPy call per operation — with NumPy's broadcasting and
    result dtypes; reductions, matrix products, indexing and the rest stay NumPy calls. Derived
    programs (``grad`` of the jitted function, ``vmap``) use the same backend. Kernels are cached
    on disk (``$FUNCGRAD_NUMBA_CACHE``, else ``~/.cache/funcgrad/numba``), so a new process loads
    them instead of compiling; the first compilation of a kernel takes Numba seconds.

    JAX's placement and buffer options (``donate_argnums``, ``donate_argnames``, ``keep_unused``,
    ``inline``, ``device``, ``in_shardings``, ``out_shardings``, ``compiler_options``) are accepted
    so JAX code moves unchanged, and have no effect: NumPy arrays live on the host and a donated
    argument stays valid. Any other keyword is a ``TypeError``.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> f = fg.jit(lambda x: fnp.sum(fnp.sin(x) ** 2))
    >>> float(f(np.zeros(3)))
    0.0
    >>> f.cache_info().misses
    1
    """
    backend = check_backend(backend)  # an unknown name or a missing extra fails here, not at the first call
    unknown = sorted(set(jax_options) - _JAX_JIT_OPTIONS)
    if unknown:
        raise TypeError(f"jit() got unexpected keyword argument(s) {unknown}. It takes static_argnums, "
                        "static_argnames, cache_size and backend, and accepts JAX's "
                        f"{sorted(_JAX_JIT_OPTIONS)} (without effect).")
    if f is None:
        return lambda g: JitFunction(g, static_argnums, static_argnames, cache_size, backend=backend)
    return JitFunction(f, static_argnums, static_argnames, cache_size, backend=backend)


_JAX_JIT_OPTIONS = frozenset({"donate_argnums", "donate_argnames", "keep_unused", "inline", "device", "in_shardings",
                               "out_shardings", "compiler_options"})


def make_trace(f: Callable[..., Any], static_argnums: int | Sequence[int] = (),
               static_argnames: str | Sequence[str] = ()) -> Callable[..., Program]:
    """Return a function that traces ``f`` on given arguments and returns its program (unoptimised),
    like ``jax.make_jaxpr``.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> print(fg.make_trace(lambda x: fnp.sin(x) * 2.0)(np.ones(3)))
    { lambda a:f64[3]. let
        b:f64[3] = sin a
        c:f64[3] = multiply b 2.0
      in (c,) }
    """
    jf = JitFunction(f, static_argnums, static_argnames)

    def traced(*args: Any, **kwargs: Any) -> Program:
        key, leaves, _, statics, _ = jf._signature(args, kwargs)
        return jf._stage(key, leaves, args, kwargs, statics)[0]

    return traced


class ShapeDtypeStruct:
    """An abstract array: a shape and a dtype, no data (what :func:`eval_shape` takes and returns).

    >>> import numpy as np, funcgrad as fg
    >>> fg.ShapeDtypeStruct((2, 3), np.float32)
    ShapeDtypeStruct(shape=(2, 3), dtype=float32)
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: Sequence[int], dtype: Any) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"


def eval_shape(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The shapes and dtypes of ``fun(*args, **kwargs)``'s outputs, as a pytree of
    :class:`ShapeDtypeStruct`, computed by tracing only (no array computation). Arguments may be
    arrays, numbers or ``ShapeDtypeStruct``.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.eval_shape(lambda x: fnp.outer(x, x), fg.ShapeDtypeStruct((1000,), np.float32))
    ShapeDtypeStruct(shape=(1000, 1000), dtype=float32)
    """
    leaves, treedef = tree_flatten((args, kwargs))
    avals = []
    for x in leaves:
        if isinstance(x, ShapeDtypeStruct):
            avals.append(ShapedArray(x.shape, x.dtype))
        elif _leaf_key(x) is None:
            raise InvalidLeafError(
                f"eval_shape: an argument leaf is a {type(x).__qualname__}; pass arrays, numbers or "
                "ShapeDtypeStruct (bind other arguments with functools.partial).")
        else:
            avals.append(_aval(x))

    def flat(*xs: Any) -> Any:
        a, k = treedef.unflatten(xs)
        return fun(*a, **k)

    program, _, out_tree = trace_to_program(flat, avals, [f"argument {i}" for i in range(len(avals))])
    return out_tree.unflatten([ShapeDtypeStruct(a.shape, a.dtype) for a in program.out_avals])
