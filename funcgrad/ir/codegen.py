"""Code generation: a program becomes straight-line Python source calling NumPy directly.

One line per equation; each primitive's NumPy implementation (with its parameters bound) is a
global of the generated module. An intermediate is released right after its last use — its
name is reused for the next result, or it is ``del``-ed — so peak memory stays where
hand-written code would have it. The source is compiled once and
registered with ``linecache``, so tracebacks and ``pdb`` show the generated lines.
"""

from __future__ import annotations

import functools
import itertools
import keyword
import linecache
import math
import weakref
from typing import Any, Callable, NamedTuple

import numpy as np

from .._backend import is_foreign_array
from .buffers import BufferPlan, numpy_program, plain_ufunc, plan_buffers
from .passes import last_uses
from .program import Literal, Program, Var

__all__ = ["Compiled", "generate", "literal_source", "function_name", "ArraySource"]

_file_ids = itertools.count()


class ArraySource(str):
    """The source of an operand that the generated code knows to be an exact NumPy ndarray (an
    argument past the code's type check, or a new array the program made): what the ``emit``
    rules get in ``args`` for such operands, so that they can leave out a check of their own.

    >>> ArraySource("v0") == "v0", isinstance(ArraySource("v0"), ArraySource)
    (True, True)
    """

    __slots__ = ()


class Compiled(NamedTuple):
    """A compiled program: the callable, its source, and the file name tracebacks show."""

    fn: Callable[..., tuple]
    source: str
    filename: str


def literal_source(value: Any, bind_global: Callable[[Any], str]) -> str:
    """Python source for ``value`` in generated code, safe whatever ``value`` is.

    Only an exact built-in ``bool``/``int``/finite ``float``, ``None``, or an exact ``tuple`` of
    these is written as text, through the built-in ``repr`` (never a subclass's ``__repr__``,
    which could return any code, or round). Everything else (subclasses of numbers, enums,
    dtypes, NaN/inf, complex numbers) becomes a global of the generated module, bound by
    reference, so generated code computes with the very object the traced code saw.

    >>> literal_source(2.5, None), literal_source((1, None), None)
    ('2.5', '(1, None,)')
    """
    kind = type(value)
    if value is None:
        return "None"
    if kind is bool:
        return "True" if value else "False"
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)  # round-trips exactly, keeps the sign of -0.0
    if kind is tuple:
        return "(" + "".join(literal_source(v, bind_global) + ", " for v in value).rstrip(" ") + ")"
    return bind_global(value)


_RESERVED = frozenset({"None", "True", "False"})


def function_name(name: Any, taken: Any = ()) -> str:
    """A valid, free Python identifier for generated code derived from a user's ``name``.

    ASCII letters, digits and underscores are kept (non-ASCII characters, which Python would
    NFKC-normalise or reject, become ``_``); a keyword, a dunder name or a name in ``taken``
    (the module's own globals) gets a ``jit_`` prefix.

    >>> function_name("class"), function_name("x²"), function_name("_k1", {"_k1"})
    ('jit_class', 'x_', 'jit__k1')
    """
    text = name if type(name) is str else str.__str__(name) if isinstance(name, str) else "compiled"
    ident = "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_" for c in text)[:80]
    if not ident:
        ident = "compiled"
    if ident[0].isdigit() or keyword.iskeyword(ident) or ident in _RESERVED or ident.startswith("__") \
            or ident in taken:
        ident = "jit_" + ident
    return ident


def _fresh(x: Any) -> Any:
    flags = getattr(x, "flags", None)  # a Dask array has none (it is never a read-only view)
    return x if flags is None or flags.writeable else x.copy()


def _scalar_output(x: Any, _array: Any = np.array) -> Any:
    """A 0-d output as a NumPy array (NumPy gives scalars); a Dask or CuPy 0-d array stays lazy
    or on its device."""
    if type(x) is not np.ndarray and is_foreign_array(x):
        return x
    return _array(x)


_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/"}
_KEYWORD_OUT = frozenset((np.maximum, np.minimum))  # a positional out is deprecated for these two


def _folded_transposes(program: Program) -> dict[int, int]:
    """Transposes written inside the one expression that reads them (``w.T`` as the operand of a
    matmul) instead of on a line of their own: equation index -> index of its one reader. Only
    where the transposed value is alive until that reader anyway."""
    uses: dict[Var, list[int]] = {}
    for k, e in enumerate(program.eqns):
        for a in e.inputs:
            if type(a) is Var:
                uses.setdefault(a, []).append(k)
    kept = set(program.inputs) | set(program.consts) | {a for a in program.outputs if type(a) is Var}
    folded: dict[int, int] = {}
    for k, e in enumerate(program.eqns):
        if e.prim.shape_role != "transpose" or type(e.out) is not Var or e.out in kept:
            continue
        src = e.inputs[0]
        readers = uses.get(e.out, [])
        if type(src) is not Var or src.aval.weak or len(readers) != 1:
            continue
        if src in kept or uses[src][-1] >= readers[0]:
            folded[k] = readers[0]
    return folded


def generate(program: Program, name: str = "compiled", fresh_outputs: bool = True) -> Compiled:
    """Turn ``program`` into a Python function returning a tuple of its outputs.

    With ``fresh_outputs=False`` the outputs are returned as computed (possibly NumPy scalars,
    read-only views or constants): for loop bodies, whose results only feed the next step.

    For a program whose constants are NumPy values, the function first checks that its
    arguments are NumPy arrays or numbers (one ``type`` test each). Then elementwise operations
    write into a dead operand's buffer (``np.exp(v1, out=v1)``) where provably safe (see
    :mod:`funcgrad.ir.buffers`), arithmetic on 0-d values uses Python's operators (NumPy scalar
    arithmetic, without a ufunc call), results known to be new arrays are returned as they
    are, and operands known to be arrays reach ``emit`` rules as :class:`ArraySource` (a
    reduction then calls ``ufunc.reduce`` without a type check). Other arguments (Dask, CuPy,
    ndarray subclasses) run a general version, made on first need, with none of this.
    """
    if not numpy_program(program):
        return _generate(program, name, fresh_outputs, None)
    return _generate(program, name, fresh_outputs, _General(program, name, fresh_outputs))


class _General:
    """The general version of a NumPy-specialised program, compiled when first called."""

    __slots__ = ("program", "name", "fresh_outputs", "compiled")

    def __init__(self, program: Program, name: str, fresh_outputs: bool) -> None:
        self.program, self.name, self.fresh_outputs = program, name, fresh_outputs
        self.compiled: Compiled | None = None

    def __call__(self, *args: Any) -> Any:
        found = self.compiled
        if found is None:  # two threads may both compile: either result is the same function
            found = self.compiled = _generate(self.program, self.name + "_general", self.fresh_outputs, None)
        return found.fn(*args)


_NUMPY_SCALAR_TYPES = frozenset(t for t in set(np.sctypeDict.values()) if issubclass(t, np.generic))
_PY_NUMBER_TYPES = frozenset((bool, int, float, complex))


def _generate(program: Program, name: str, fresh_outputs: bool, general: _General | None) -> Compiled:
    names: dict[Var, str] = {}
    scope: dict[str, Any] = {}
    impls: dict[tuple, str] = {}
    numpy_only = general is not None
    plan = plan_buffers(program) if numpy_only else BufferPlan({}, frozenset(), frozenset())

    def bind_global(value: Any, prefix: str = "k") -> str:
        # Prefixes come from primitive names: keep them identifiers, and the result unused.
        prefix = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in prefix)
        g = f"_{prefix}{len(scope)}"
        while g in scope:
            g += "_"
        scope[g] = value
        return g

    for i, v in enumerate(program.inputs):
        names[v] = f"a{i}"
    scalar_consts = _scalar_consts(program) if numpy_only else set()
    for v, c in program.consts.items():
        # A 0-d constant read only by elementwise ufuncs as a NumPy scalar: the same values and
        # types, and scalar arithmetic stays scalar.
        names[v] = bind_global(c[()] if v in scalar_consts else c, "const")

    # Values known to be exact ndarrays: arguments past the type check and new arrays of the
    # program's making (0-d results are NumPy scalars).
    arrays = plan.fresh | {v for v in program.inputs if not v.aval.weak and v.aval.shape != ()} \
        if numpy_only else frozenset()

    def atom(a: Any) -> str:
        if isinstance(a, Literal):
            return literal_source(a.value, bind_global)
        return ArraySource(names[a]) if a in arrays else names[a]

    arrays_of_literals: dict[str, str] = {}

    def array_literal(value: float) -> str:
        key = float.hex(value)  # exact, and tells -0.0 from 0.0
        found = arrays_of_literals.get(key)
        if found is None:
            found = arrays_of_literals[key] = bind_global(np.array(value, dtype=np.float64), "f")
        return found

    def impl_name(e: Any) -> str:
        try:
            key = (e.prim, e.params_key())
            found = impls.get(key)
        except TypeError:
            key, found = None, None
        if found is None:
            fn = functools.partial(e.prim.impl, **e.params) if e.params else e.prim.impl
            found = bind_global(fn, e.prim.name.replace(".", "_") + "_")
            if key is not None:
                impls[key] = found
        return found

    args = ", ".join(names[v] for v in program.inputs)
    lines = [""]  # the def line: its name is chosen once every global is bound
    if numpy_only and program.inputs:
        lines.append(f"    if {_guard(program, names, bind_global)}:")
        lines.append(f"        return {bind_global(general, 'general')}({args})")
    dying = last_uses(program)
    inputs = set(program.inputs)
    used = {a for e in program.eqns for a in e.inputs if type(a) is Var}
    used.update(a for a in program.outputs if type(a) is Var)
    folded = _folded_transposes(program)
    inline = {program.eqns[k].out for k in folded}
    free: list[str] = []  # names whose values were deleted, ready for reuse
    count = 0
    for k, e in enumerate(program.eqns):
        ufunc = plain_ufunc(e)
        if ufunc is not None and numpy_only and _float64_elementwise(e, ufunc):
            # A float literal as a 0-d float64 array: the same values and dtype here (every
            # operand is float64), and NumPy takes an array without converting a Python float.
            operands = [array_literal(a.value) if type(a) is Literal and type(a.value) is float else atom(a)
                        for a in e.inputs]
        else:
            operands = [atom(a) for a in e.inputs]
        if k in folded:
            names[e.out] = _transpose_source(e, operands[0], bind_global)
            continue
        # An operand that dies here lends its name to the result: assigning releases the old
        # value, with no `del` line. Other dying operands are deleted.
        dead = [names[v] for v in dying.get(k, ()) if v not in inputs and v not in inline]
        buffer = plan.writes.get(k)
        if buffer is not None:  # into the dead operand's buffer: no new array
            target = names[buffer]
            dead.remove(target)
            names[e.out] = target
            out = f"out={target}" if ufunc in _KEYWORD_OUT else target  # (positional: NumPy's fastest call)
            lines.append(f"    {impl_name(e)}({', '.join(operands)}, {out})")
        else:
            if (ufunc is not None and numpy_only and ufunc in _OPERATORS and e.out.aval.shape == ()
                    and e.out.aval.dtype.kind in "biufc" and any(type(a) is Var and a in plan.numpy for a in e.inputs)):
                expr = f"{operands[0]} {_OPERATORS[ufunc]} {operands[1]}"
            elif e.prim.shape_role == "transpose" and type(e.inputs[0]) is Var and not e.inputs[0].aval.weak:
                expr = _transpose_source(e, operands[0], bind_global)
            elif e.prim.emit is not None:
                expr = e.prim.emit(e, operands, bind_global)
            else:
                expr = f"{impl_name(e)}({', '.join(operands)})"
            if (type(e.out) is Var and len(e.inputs) == 1 and type(e.inputs[0]) is Var
                    and expr == names[e.inputs[0]] and expr in dead):
                dead.remove(expr)  # an identity (stop_gradient) of a dying value: just a new name for it
                names[e.out] = expr
                if dead:
                    lines.append(f"    del {', '.join(dead)}")
                    free.extend(dead)
                continue
            targets = []
            for o in e.outs:
                if type(e.out) is tuple and o not in used:
                    targets.append("_")  # an unused result of a multiple-result operation
                    continue
                if dead:
                    out = dead.pop()
                elif free:
                    out = free.pop()
                else:
                    out = f"v{count}"
                    count += 1
                names[o] = out
                targets.append(out)
            if type(e.out) is tuple:
                lhs = ", ".join(targets) + ("," if len(targets) == 1 else "")
                lines.append(f"    {lhs} = {expr}" if targets else f"    {expr}")
            else:
                lines.append(f"    {targets[0]} = {expr}")
        if dead:
            lines.append(f"    del {', '.join(dead)}")
            free.extend(dead)
    # NumPy returns scalars for 0-d results; outputs are arrays.
    # Outputs are fresh, writable arrays: NumPy scalars (0-d results) become arrays, constants
    # are copied (a caller mutating a result must not change the next call's), and read-only
    # results (broadcast views) are copied.
    fresh = bind_global(_fresh, "fresh")
    to_array = bind_global(_scalar_output, "array")
    np_array = bind_global(np.array, "array") if numpy_only else to_array
    returned = [a for a in program.outputs if type(a) is Var]

    def output(a: Any) -> str:
        if not isinstance(a, Literal) and a.aval.dtype == object:  # an opaque value (a loop's tape)
            return atom(a)
        if isinstance(a, Literal) or a.aval.shape == ():
            return f"{np_array if a in plan.numpy else to_array}({atom(a)})"
        if a in program.consts:
            return f"{atom(a)}.copy()"
        if a in plan.fresh and returned.count(a) == 1:
            return atom(a)  # a new array made by this call, which nothing else holds
        return f"{fresh}({atom(a)})"

    outs = ", ".join(output(a) if fresh_outputs else atom(a) for a in program.outputs)
    lines.append(f"    return ({outs}{',' if len(program.outputs) == 1 else ''})")
    fn_name = function_name(name, scope)
    lines[0] = f"def {fn_name}({args}):"
    source = "\n".join(lines) + "\n"
    filename = f"<funcgrad-jit {fn_name} #{next(_file_ids)}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, scope)
    fn = scope[fn_name]
    weakref.finalize(fn, linecache.cache.pop, filename, None)  # forget the lines with the code
    return Compiled(fn, source, filename)


def _guard(program: Program, names: dict[Var, str], bind_global: Callable[..., str]) -> str:
    """A condition true when an argument is not what the NumPy-specialised code assumes: an
    ndarray (exactly), a NumPy scalar where 0-d, a Python number where weakly typed."""
    arrays = bind_global(_NDARRAY, "ndarray")
    scalars: list[str] = []  # bound once, on first need
    numbers: list[str] = []
    tests = []
    for v in program.inputs:
        a = names[v]
        if v.aval.weak:
            numbers = numbers or [bind_global(_PY_NUMBER_TYPES | _NUMPY_SCALAR_TYPES, "numbers")]
            tests.append(f"type({a}) not in {numbers[0]}")
        elif v.aval.shape == ():
            scalars = scalars or [bind_global(_NUMPY_SCALAR_TYPES, "scalars")]
            tests.append(f"(type({a}) is not {arrays} and type({a}) not in {scalars[0]})")
        else:
            tests.append(f"type({a}) is not {arrays}")
    return " or ".join(tests)


_NDARRAY = np.ndarray


def _transpose_source(e: Any, src: str, bind_global: Callable[[Any], str]) -> str:
    axes = tuple(e.params["axes"])
    if axes == tuple(range(len(axes)))[::-1]:
        return f"{src}.T"
    return f"{src}.transpose({literal_source(axes, bind_global)})"


def _float64_elementwise(e: Any, ufunc: np.ufunc) -> bool:
    """Is ``e`` an elementwise ufunc on float64 operands with a float64 array result?"""
    f64 = _FLOAT64
    return (ufunc.signature is None and e.out.aval.dtype == f64 and e.out.aval.shape != ()
            and all(a.aval.dtype == f64 for a in e.inputs if type(a) is Var))


_FLOAT64 = np.dtype(np.float64)


def _scalar_consts(program: Program) -> set[Var]:
    """0-d numeric NumPy-array constants that only elementwise ufuncs with 0-d results read
    (scalar arithmetic: with NumPy scalars it needs no ufunc call)."""
    found = {v for v, c in program.consts.items()
             if type(c) is np.ndarray and c.ndim == 0 and c.dtype.kind in "biufc"}
    if not found:
        return found
    for e in program.eqns:
        u = plain_ufunc(e)
        if u is None or u.signature is not None or e.out.aval.shape != ():
            found.difference_update(a for a in e.inputs if type(a) is Var)
    found.difference_update(a for a in program.outputs if type(a) is Var)
    return found
