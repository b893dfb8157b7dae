"""The IR: a typed, straight-line program of primitive equations.

A :class:`Program` has input variables, equations (primitive, operands, one output variable,
parameters), output atoms, and constants (arrays closed over by the traced function). Every
variable carries an abstract value: shape, dtype and whether it is a weakly typed Python scalar.
Operands are variables or :class:`Literal` Python scalars (kept as literals so NumPy's weak
promotion applies at run time exactly as it did when tracing).
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np

from ..core import Primitive, ShapedArray, abstract_eval

__all__ = ["ShapedArray", "Var", "Literal", "Eqn", "Program", "validate", "aval_of"]


def aval_of(x: Any) -> ShapedArray:
    """The abstract value of a concrete value (Python scalars are weakly typed)."""
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        return ShapedArray((), np.asarray(x).dtype, True)
    return ShapedArray(tuple(np.shape(x)), np.asarray(x).dtype if not hasattr(x, "dtype") else np.dtype(x.dtype))


_var_ids = itertools.count()


class Var:
    """A program variable. Identity is the object; ``count`` orders names for printing."""

    __slots__ = ("aval", "count")

    def __init__(self, aval: ShapedArray) -> None:
        self.aval = aval
        self.count = next(_var_ids)

    def __repr__(self) -> str:
        return f"Var({self.count}, {self.aval})"


class Literal:
    """A Python scalar operand written into the program."""

    __slots__ = ("value", "aval")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.aval = aval_of(value)

    def __repr__(self) -> str:
        return repr(self.value)

    # Equal when they are the same Python value of the same type, compared by the built-in repr:
    # 0.0 and -0.0 compare equal but are different literals (x * 0.0 and x * -0.0 differ in the
    # sign of their zeros, so CSE must not merge them), and a NaN literal equals itself. Values of
    # other types (subclasses, enums) are only equal to themselves: their own __repr__ and
    # __eq__ are user code that may lie.
    def _key(self) -> tuple:
        v = self.value
        if type(v) in (bool, int, float, complex):
            return (type(v), type(v).__repr__(v))  # type: ignore[call-arg]  # the exact builtin type's own __repr__
        return (type(v), id(v))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Literal) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())


Atom = Any  # Var | Literal


class Eqn(NamedTuple):
    """One operation: ``out = prim(*inputs, **params)``. For a primitive with
    ``multiple_results``, ``out`` is a tuple of variables (``outs`` is always one)."""

    prim: Primitive
    inputs: tuple  # of Atom
    out: Any  # Var, or a tuple of Var for a primitive with multiple results
    params: dict

    @property
    def outs(self) -> tuple:
        return self.out if type(self.out) is tuple else (self.out,)

    def params_key(self) -> tuple:
        return tuple(sorted(self.params.items())) if self.params else ()


class Program:
    """A traced function: ``outputs = f(inputs)`` as straight-line equations."""

    def __init__(self, inputs: Sequence[Var], eqns: Sequence[Eqn], outputs: Sequence[Atom],
                 consts: dict[Var, Any] | None = None, input_names: Sequence[str] | None = None) -> None:
        self.inputs = list(inputs)
        self.eqns = list(eqns)
        self.outputs = list(outputs)
        self.consts = dict(consts or {})
        self.input_names = list(input_names) if input_names is not None else [f"arg{i}" for i in range(len(inputs))]
        # What is derived from this program (compiled code, jvp/vjp/batched programs), by key.
        self.derived: dict = {}

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.inputs]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outputs]

    def replace(self, **changes: Any) -> Program:
        fields: dict[str, Any] = dict(inputs=self.inputs, eqns=self.eqns, outputs=self.outputs, consts=self.consts,
                      input_names=self.input_names)
        fields.update(changes)
        return Program(**fields)

    # --- printing ------------------------------------------------------------------------------

    def _namer(self) -> Any:
        names: dict[Var, str] = {}

        def name(a: Atom) -> str:
            if isinstance(a, Literal):
                return repr(a.value)
            if a not in names:
                names[a] = _short_name(len(names))
            return names[a]

        return name

    def __str__(self) -> str:
        return "\n".join(self._lines(""))

    def _lines(self, indent: str) -> list[str]:
        name = self._namer()
        consts = " ".join(f"{name(v)}:{v.aval}" for v in self.consts)
        ins = " ".join(f"{name(v)}:{v.aval}" for v in self.inputs)
        lines = [f"{{ lambda {consts} ; {ins}. let" if consts else f"{{ lambda {ins}. let"]
        for e in self.eqns:
            params = []
            nested = []  # sub-programs are printed below their equation, indented
            for k, v in e.params.items():
                if isinstance(v, Program):
                    nested.append((k, v))
                elif isinstance(v, tuple) and v and all(isinstance(p, Program) for p in v):
                    nested.extend((f"{k}[{i}]", p) for i, p in enumerate(v))
                else:
                    params.append(f"{k}={_short_param(v)}")
            args = " ".join(name(a) for a in e.inputs)
            outs = " ".join(f"{name(o)}:{o.aval}" for o in e.outs)
            head = f"    {outs} = {e.prim.name}{'[' + ' '.join(params) + ']' if params else ''} {args}"
            lines.append(head.rstrip())
            for k, sub in nested:
                body = sub._lines("")
                lines.append(f"      {k}={body[0]}")
                lines.extend("        " + line for line in body[1:])
        lines.append(f"  in ({', '.join(name(a) for a in self.outputs)}{',' if len(self.outputs) == 1 else ''}) }}")
        return [indent + line for line in lines]

    __repr__ = __str__

    def to_dot(self) -> str:
        """Graphviz DOT text of the data-flow graph (render with ``dot -Tpng``)."""
        name = self._namer()
        out = ["digraph program {", "  rankdir=TB;", '  node [fontname="monospace"];']
        for v in self.inputs:
            out.append(f'  "{name(v)}" [shape=invhouse, label="{name(v)}: {v.aval}"];')
        for v in self.consts:
            out.append(f'  "{name(v)}" [shape=box, style=dashed, label="{name(v)}: {v.aval} (const)"];')
        for i, e in enumerate(self.eqns):
            out.append(f'  "eqn{i}" [shape=ellipse, label="{e.prim.name}"];')
            for a in e.inputs:
                if isinstance(a, Literal):
                    out.append(f'  "lit{i}_{id(a)}" [shape=plaintext, label="{a.value!r}"];')
                    out.append(f'  "lit{i}_{id(a)}" -> "eqn{i}";')
                else:
                    out.append(f'  "{name(a)}" -> "eqn{i}";')
            for o in e.outs:
                out.append(f'  "{name(o)}" [shape=box, label="{name(o)}: {o.aval}"];')
                out.append(f'  "eqn{i}" -> "{name(o)}";')
        for k, a in enumerate(self.outputs):
            out.append(f'  "out{k}" [shape=house, label="out {k}"];')
            out.append(f'  "{name(a) if not isinstance(a, Literal) else repr(a.value)}" -> "out{k}";')
        out.append("}")
        return "\n".join(out)


def _short_name(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = letters[r] + s
    return s


def _short_param(v: Any) -> str:
    if isinstance(v, np.dtype):
        return v.name
    return repr(v)


def _iter_vars(atoms: Sequence[Atom]) -> Iterator[Var]:
    return (a for a in atoms if isinstance(a, Var))


def validate(program: Program) -> None:
    """Check that ``program`` is well formed; raise ``ValueError`` saying what is wrong.

    Every operand is defined before use and defined once; every equation's output type is what
    its primitive's shape/dtype rule gives for its operands; outputs are defined.
    """
    defined: set[Var] = set()
    for v in list(program.consts) + program.inputs:
        if v in defined:
            raise ValueError(f"variable {v} is bound twice")
        defined.add(v)
    for k, e in enumerate(program.eqns):
        for a in e.inputs:
            if isinstance(a, Var) and a not in defined:
                raise ValueError(f"equation {k} ({e.prim.name}) uses {a} before it is defined")
            if not isinstance(a, (Var, Literal)):
                raise ValueError(
                    f"equation {k} ({e.prim.name}) has an operand {a!r} that is neither a Var nor a Literal")
        for o in e.outs:
            if o in defined:
                raise ValueError(f"equation {k} ({e.prim.name}) redefines {o}")
        operands = [a.aval if isinstance(a, Var) else a for a in e.inputs]
        start = e.prim.index_start
        if start is not None:  # a constant boolean mask: its value decides the result's shape
            for i in range(start, len(operands)):
                if isinstance(e.inputs[i], Var) and e.inputs[i] in program.consts and operands[i].dtype == bool:
                    operands[i] = np.asarray(program.consts[e.inputs[i]])
        want = abstract_eval(e.prim, operands, e.params)
        wants = list(want) if e.prim.multiple_results else [want]
        if len(wants) != len(e.outs):
            raise ValueError(f"equation {k} ({e.prim.name}) declares {len(e.outs)} outputs but gives {len(wants)}")
        for o, w in zip(e.outs, wants):
            if (w.shape, w.dtype) != (o.aval.shape, o.aval.dtype):
                raise ValueError(f"equation {k} ({e.prim.name}) declares output {o.aval} but its operands give {w}")
        defined.update(e.outs)
    for a in _iter_vars(program.outputs):
        if a not in defined:
            raise ValueError(f"output {a} is never defined")
