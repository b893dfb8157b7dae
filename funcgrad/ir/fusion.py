"""Elementwise fusion for the Numba backend: find regions of elementwise equations and write
each as the source of one loop kernel.

A *region* is a set of elementwise equations whose results all have one shape (the region's
iteration space) and whose operands broadcast to it. The program becomes a program in which each
region is one equation of the ``fused_kernel`` primitive; the rest (reductions, matrix products,
gathers, anything not elementwise) stays as it was and is generated as NumPy calls.

A kernel computes, for each element of the iteration space, every equation of its region on
scalars — one pass over memory instead of one NumPy call per operation. Types follow NumPy
exactly: every operation computes in the loop dtype NumPy's own ufunc would pick for its operands
(``ufunc.resolve_dtypes``, with Python scalars weak) and the result has the equation's declared
dtype; operands broadcast as NumPy broadcasts them (an operand dimension of size 1 is read at
index 0). Integer arithmetic and operations whose NumPy semantics the kernel does not reproduce
(complex comparisons, ``float16``, rounding to decimals, ...) are left to NumPy.

The kernel source never contains user text: names are generated here, operands (every literal
included) are kernel arguments, and the only words written are this module's templates. So
two programs doing the same elementwise work with different constants share one kernel.
"""

from __future__ import annotations

import heapq
import math
from typing import Any, Callable, NamedTuple

import numpy as np

from ..core import Primitive
from .program import Eqn, Literal, Program, Var

__all__ = ["Region", "find_regions", "kernel_source", "fuse", "fused_kernel_p", "MAX_REGION_EQNS", "plan",
           "ufunc_plan", "identity_plan", "select_plan", "cast_plan", "real_part_plan", "imag_part_plan",
           "rint_plan", "formula_plan"]

# Larger kernels fuse more, but Numba's compile time grows with the kernel (about 5 ms per
# operation, faster than linear beyond a few thousand): regions are cut at this size.
MAX_REGION_EQNS = 4096
MAX_KERNEL_ARRAYS = 24

# dtypes a kernel reads, computes in and writes (NumPy's char codes)
_OPERAND_CHARS = frozenset("?bhilqBHILQfdFD")
_FLOAT, _COMPLEX, _BOOL = "fd", "FD", "?"
_NAMES = {"?": "np.bool_", "f": "np.float32", "d": "np.float64", "F": "np.complex64", "D": "np.complex128"}


class _Op(NamedTuple):
    template: str  # {0}, {1}: operands already cast to the loop dtype
    loops: str  # loop dtype chars this template is exact for
    typed: bool = True  # the template's result already has the loop's result dtype (else it is cast)


# NumPy ufunc -> kernel template (np.divide is np.true_divide). Helpers (remainder, maximum, ...) live
# in _numba_helpers and follow NumPy's C implementations; they compute in double precision (their
# results are cast).
_UFUNCS: dict[np.ufunc, _Op] = {
    np.add: _Op("({0} + {1})", _FLOAT + _COMPLEX),
    np.subtract: _Op("({0} - {1})", _FLOAT + _COMPLEX),
    np.multiply: _Op("({0} * {1})", _FLOAT + _COMPLEX),
    np.true_divide: _Op("({0} / {1})", _FLOAT),
    np.negative: _Op("(-{0})", _FLOAT + _COMPLEX),
    np.power: _Op("({0} ** {1})", _FLOAT),
    np.remainder: _Op("h.remainder({0}, {1})", _FLOAT, False),
    np.floor_divide: _Op("h.floor_divide({0}, {1})", _FLOAT, False),
    np.exp: _Op("math.exp({0})", _FLOAT),
    np.log: _Op("math.log({0})", _FLOAT),
    np.log1p: _Op("math.log1p({0})", _FLOAT),
    np.expm1: _Op("math.expm1({0})", _FLOAT),
    np.log2: _Op("math.log2({0})", _FLOAT),
    np.log10: _Op("math.log10({0})", _FLOAT),
    np.sqrt: _Op("math.sqrt({0})", _FLOAT),
    np.cbrt: _Op("np.cbrt({0})", _FLOAT),
    np.sin: _Op("math.sin({0})", _FLOAT),
    np.cos: _Op("math.cos({0})", _FLOAT),
    np.tan: _Op("math.tan({0})", _FLOAT),
    np.arcsin: _Op("math.asin({0})", _FLOAT),
    np.arccos: _Op("math.acos({0})", _FLOAT),
    np.arctan: _Op("math.atan({0})", _FLOAT),
    np.sinh: _Op("math.sinh({0})", _FLOAT),
    np.cosh: _Op("math.cosh({0})", _FLOAT),
    np.tanh: _Op("math.tanh({0})", _FLOAT),
    np.arcsinh: _Op("math.asinh({0})", _FLOAT),
    np.arccosh: _Op("math.acosh({0})", _FLOAT),
    np.arctanh: _Op("math.atanh({0})", _FLOAT),
    np.absolute: _Op("abs({0})", _FLOAT + _COMPLEX),
    np.conjugate: _Op("{0}.conjugate()", _COMPLEX),
    np.arctan2: _Op("math.atan2({0}, {1})", _FLOAT),
    np.hypot: _Op("math.hypot({0}, {1})", _FLOAT),
    np.logaddexp: _Op("h.logaddexp({0}, {1})", _FLOAT, False),
    np.maximum: _Op("h.maximum({0}, {1})", _FLOAT, False),
    np.minimum: _Op("h.minimum({0}, {1})", _FLOAT, False),
    np.fmax: _Op("h.fmax({0}, {1})", _FLOAT, False),
    np.fmin: _Op("h.fmin({0}, {1})", _FLOAT, False),
    np.equal: _Op("({0} == {1})", _FLOAT),
    np.not_equal: _Op("({0} != {1})", _FLOAT),
    np.less: _Op("({0} < {1})", _FLOAT),
    np.less_equal: _Op("({0} <= {1})", _FLOAT),
    np.greater: _Op("({0} > {1})", _FLOAT),
    np.greater_equal: _Op("({0} >= {1})", _FLOAT),
    np.logical_and: _Op("(({0} != 0) & ({1} != 0))", _FLOAT + _BOOL),
    np.logical_or: _Op("(({0} != 0) | ({1} != 0))", _FLOAT + _BOOL),
    np.logical_xor: _Op("(({0} != 0) != ({1} != 0))", _FLOAT + _BOOL),
    np.logical_not: _Op("({0} == 0)", _FLOAT + _BOOL),
    np.isnan: _Op("math.isnan({0})", _FLOAT),
    np.isinf: _Op("math.isinf({0})", _FLOAT),
    np.isfinite: _Op("math.isfinite({0})", _FLOAT),
    np.sign: _Op("h.sign({0})", _FLOAT, False),
    np.floor: _Op("np.floor({0})", _FLOAT),
    np.ceil: _Op("np.ceil({0})", _FLOAT),
    np.trunc: _Op("np.trunc({0})", _FLOAT),
}
# complex division: NumPy's algorithm (Smith's, with inf/nan on division by zero, where Python's raises)
_COMPLEX_UFUNCS = {np.true_divide: _Op("h.complex_divide({0}, {1})", _COMPLEX, False),
                   np.exp: _Op("cmath.exp({0})", _COMPLEX), np.log: _Op("cmath.log({0})", _COMPLEX),
                   np.sqrt: _Op("cmath.sqrt({0})", _COMPLEX), np.sin: _Op("cmath.sin({0})", _COMPLEX),
                   np.cos: _Op("cmath.cos({0})", _COMPLEX)}


class _Plan(NamedTuple):
    """How one equation is computed in a kernel: operand loop dtypes, template, result dtype."""

    loop: tuple[str, ...]  # one dtype char per operand
    template: str
    out: str
    cast: bool  # cast the template's result to ``out``


def _char(dtype: np.dtype) -> Any:  # a dtype char, or None for a dtype kernels do not handle
    c = np.dtype(dtype).char
    if c == "g" or c == "G" or c == "e" or c not in _OPERAND_CHARS:  # long double, float16, objects...
        return None
    return "q" if c == "l" and np.dtype(dtype).itemsize == 8 else c


def _descriptor(a: Any) -> Any:
    """What ``ufunc.resolve_dtypes`` takes for an operand: a Python type for a weak scalar."""
    if isinstance(a, Literal):
        t = type(a.value)
        if t in (int, float, complex):
            return t
        return np.dtype(a.aval.dtype)
    if a.aval.weak and a.aval.dtype.kind in "ifc":
        return {"i": int, "f": float, "c": complex}[a.aval.dtype.kind]
    return a.aval.dtype


def _literal_ok(a: Any) -> bool:
    """Literals are kernel arguments: Numba must type them as NumPy does (an int beyond int64
    would not be)."""
    v = a.value
    if type(v) is int:
        return -(1 << 63) <= v < (1 << 63)
    return type(v) in (bool, float, complex) or (isinstance(v, np.generic) and _char(v.dtype) is not None)


def _plan_ufunc(ufunc: np.ufunc, e: Eqn) -> _Plan | None:
    try:
        resolved = ufunc.resolve_dtypes(tuple(_descriptor(a) for a in e.inputs) + (None,) * ufunc.nout)
    except (TypeError, ValueError, AttributeError):  # no loop, or NumPy without resolve_dtypes
        return None
    loop = tuple(_char(d) for d in resolved[: ufunc.nin])
    out = _char(resolved[ufunc.nin])
    if out is None or any(c is None for c in loop) or np.dtype(out) != e.out.aval.dtype:
        return None
    op = _COMPLEX_UFUNCS.get(ufunc) if loop[0] in _COMPLEX else None
    op = op or _UFUNCS.get(ufunc)
    if op is None or any(c not in op.loops for c in loop) or out not in _FLOAT + _COMPLEX + _BOOL:
        return None
    return _Plan(loop, op.template, out, not op.typed)


# --- kernel rules: what primitives declare as their ``kernel`` ---------------------------------
# A primitive that a fused loop can compute declares a rule (``kernel=rule`` in its declaration); the rules
# below are the kinds the declarations use (each gives a plan for one equation, or None).


def ufunc_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of a primitive whose impl is a NumPy ufunc called without parameters."""
    ufunc = e.prim.impl
    if type(ufunc) is not np.ufunc or e.params:
        return None
    return _plan_ufunc(ufunc, e)


def _out_char(e: Eqn) -> Any:
    c = _char(e.out.aval.dtype)
    return c if c in _FLOAT + _COMPLEX + _BOOL else None


def identity_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of an operation giving its operand's values unchanged (in the result's dtype
    and broadcast shape): ``stop_gradient``, ``broadcast_to``."""
    c = _out_char(e)
    if c is None or _char(e.inputs[0].aval.dtype) != c:
        return None
    return _Plan((c,), "{0}", c, False)


def select_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of ``where(cond, x, y)``: ``x`` where ``cond`` is nonzero, else ``y``."""
    c, cond = _out_char(e), _char(e.inputs[0].aval.dtype)
    if c is None or cond not in _FLOAT + _BOOL:
        return None
    return _Plan((cond, c, c), "({1} if {0} != 0 else {2})" if cond != "?" else "({1} if {0} else {2})", c, False)


def cast_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of a conversion to the result's dtype (never complex to real)."""
    c, src = _out_char(e), _char(e.inputs[0].aval.dtype)
    if c is None or src is None or (src in _COMPLEX and c not in _COMPLEX):
        return None
    return _Plan((c,), "{0}", c, False) if src != "?" or c == "?" else _Plan((src,), "{0}", c, True)


def real_part_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of ``real``: the real part of a complex value, a real value unchanged."""
    c, src = _out_char(e), _char(e.inputs[0].aval.dtype)
    if src in _COMPLEX and c in _FLOAT:
        return _Plan((src,), "{0}.real", c, False)
    return identity_plan(e) if src in _FLOAT else None


def imag_part_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of ``imag`` of a complex value."""
    c, src = _out_char(e), _char(e.inputs[0].aval.dtype)
    return _Plan((src,), "{0}.imag", c, False) if src in _COMPLEX and c in _FLOAT else None


def rint_plan(e: Eqn) -> _Plan | None:
    """Kernel rule of rounding to an integer value, halves to even (``round`` with 0 decimals)."""
    c = _out_char(e)
    if e.params.get("decimals", 0) != 0 or c not in _FLOAT or _char(e.inputs[0].aval.dtype) != c:
        return None
    return _Plan((c,), "np.rint({0})", c, False)


class _Formula:
    """A scalar expression in a kernel's loop dtype, built by running a NumPy formula on it."""

    __slots__ = ("text", "char")

    def __init__(self, text: str, char: str) -> None:
        self.text, self.char = text, char

    def _operand(self, a: Any) -> str:
        if type(a) is _Formula:
            return a.text
        if type(a) in (int, float) and math.isfinite(a):  # a constant of the formula, as NumPy types it
            return f"{_NAMES[self.char]}({float.__repr__(float(a))})"  # (weak: in the loop dtype)
        raise _NotAFormula

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> _Formula:
        op = _UFUNCS.get(ufunc)
        if method != "__call__" or kwargs or op is None or not op.typed or self.char not in op.loops:
            raise _NotAFormula
        return _Formula(op.template.format(*(self._operand(a) for a in inputs)), self.char)

    def __neg__(self) -> _Formula:
        return self.__array_ufunc__(np.negative, "__call__", self)

    def __add__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.add, "__call__", self, other)

    def __radd__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.add, "__call__", other, self)

    def __sub__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.subtract, "__call__", self, other)

    def __rsub__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.subtract, "__call__", other, self)

    def __mul__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.multiply, "__call__", self, other)

    def __rmul__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.multiply, "__call__", other, self)

    def __truediv__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.true_divide, "__call__", self, other)

    def __rtruediv__(self, other: Any) -> _Formula:
        return self.__array_ufunc__(np.true_divide, "__call__", other, self)


class _NotAFormula(Exception):
    pass


def formula_plan(e: Eqn, formula: Callable[[Any], Any]) -> _Plan | None:
    """Kernel rule of a real elementwise function of one operand that its impl computes as
    ``formula(x)``, NumPy ufuncs and arithmetic with Python-number constants: the kernel runs the
    same formula, step by step, in the operand's float dtype (as NumPy does, constants weak).

    >>> import numpy as np, funcgrad as fg
    >>> from funcgrad.prims.elementwise import expit_p
    >>> e = fg.make_trace(expit_p.bind)(np.ones(2)).eqns[0]
    >>> formula_plan(e, lambda x: 1.0 / (1.0 + np.exp(-x))).template
    '(np.float64(1.0) / (np.float64(1.0) + math.exp((-{0}))))'
    """
    c = _out_char(e)
    if c not in _FLOAT or _char(e.inputs[0].aval.dtype) != c:
        return None
    try:
        result = formula(_Formula("{0}", c))
    except (_NotAFormula, TypeError, AttributeError, ValueError):  # (an operation no template computes)
        return None
    return _Plan((c,), result.text, c, False) if type(result) is _Formula else None


def plan(e: Eqn) -> _Plan | None:
    """How a kernel computes ``e`` (by its primitive's ``kernel`` rule), or None when ``e`` stays
    a NumPy call."""
    rule = e.prim.kernel
    if rule is None or type(e.out) is not Var or not e.inputs:
        return None
    for a in e.inputs:
        if isinstance(a, Literal):
            if not _literal_ok(a):
                return None
        elif _char(a.aval.dtype) is None or len(a.aval.shape) > len(e.out.aval.shape):
            return None
    result: _Plan | None = rule(e)
    return result


def _chunks(members: list[Eqn], defined: set[Var], users_of: dict[Var, list[Eqn]],
            program_outputs: set[Var]) -> list[tuple[int, int]]:
    """Cut a region's equations (in program order, so each part depends only on earlier ones)
    into kernels of at most MAX_KERNEL_ARRAYS operands and results: Numba's (LLVM's) compile time
    grows much faster than linearly with the number of arrays a loop reads and writes."""
    cuts = []
    lo = 0
    arrays: set[Var] = set()  # operands from outside the current kernel, and its results
    inside: set[Var] = set()  # values the current kernel computes
    for k, e in enumerate(members):
        new = {a for a in e.inputs if type(a) is Var and a not in arrays and a not in inside}
        out_needed = e.out in program_outputs or any(u.out not in defined for u in users_of.get(e.out, ()))
        if k > lo and len(arrays) + len(new) + out_needed > MAX_KERNEL_ARRAYS:
            cuts.append((lo, k))
            lo = k
            arrays, inside = {a for a in e.inputs if type(a) is Var}, set()
        else:
            arrays |= new
        inside.add(e.out)
        if out_needed:
            arrays.add(e.out)
    cuts.append((lo, len(members)))
    return cuts


class Region(NamedTuple):
    """Equations computed by one kernel: its operands (Vars and Literals, in argument order),
    its results (the values used outside it) and its iteration shape."""

    eqns: list[Eqn]
    plans: list[_Plan]
    args: list[Any]
    outs: list[Var]
    shape: tuple[int, ...]
    prelude: int = 0  # the first ``prelude`` equations are 0-d, computed once before the loops
    sizes: tuple[tuple[int, int], ...] = ()  # (dimension, argument): sizes no array operand has


class _Open:
    __slots__ = ("index", "eqns", "plans", "shape", "defined", "closed", "pre_eqns", "pre_plans")

    def __init__(self, index: int, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape
        self.eqns: list[Eqn] = []
        self.plans: list[_Plan] = []
        self.pre_eqns: list[Eqn] = []
        self.pre_plans: list[_Plan] = []
        self.defined: set[Var] = set()
        self.closed = False


def find_regions(program: Program, max_eqns: int | None = None) -> tuple[list[Any], list[Region]]:
    """Partition ``program``'s equations into fusable regions and the rest.

    Returns ``(order, regions)``: ``order`` lists, in an order that respects every data
    dependence, each item as an ``Eqn`` (left as it is) or an ``int`` (the index of a region in
    ``regions``). A region of a single equation is not worth a kernel and is left as it is.
    """
    max_eqns = MAX_REGION_EQNS if max_eqns is None else max_eqns
    opened: list[_Open] = []
    owner: dict[Var, _Open] = {}  # value -> region computing it
    # value -> regions it depends on directly (its own) or through NumPy equations
    src: dict[Var, frozenset[int]] = {}
    closure: list[set[int]] = []  # region -> every region it depends on, transitively (kept closed)
    items: list[Any] = []  # Eqn or _Open, in first-appearance order
    empty: frozenset[int] = frozenset()

    def deps(a: Any) -> set[int]:
        """Every region that must run before ``a`` exists."""
        direct = src.get(a, empty) if type(a) is Var else empty
        found = set(direct)
        for q in direct:
            found |= closure[q]
        return found

    def add_deps(index: int, new: set[int]) -> None:
        if new <= closure[index]:
            return
        closure[index] |= new
        for other in closure:  # regions depending on this one depend on what it depends on
            if index in other:
                other |= closure[index]

    for e in program.eqns:
        p = plan(e)
        ins = [a for a in e.inputs if type(a) is Var]
        if p is not None:
            shape = e.out.aval.shape
            found = {a: deps(a) for a in ins}
            # Join a region this equation reads from (fusing producer and consumer), else the
            # latest of its shape; never one that a non-member operand depends on (a cycle).
            candidates = [owner[a] for a in ins if a in owner] + opened[::-1][:4]
            target: _Open | None = None
            for r in candidates:
                if r.closed or r.shape != shape:
                    continue
                if all(a in r.defined or r.index not in found[a] for a in ins):
                    target = r
                    break
            if target is None:
                target = _Open(len(opened), shape)
                opened.append(target)
                closure.append(set())
                items.append(target)
            target.eqns.append(e)
            target.plans.append(p)
            target.defined.add(e.out)
            owner[e.out] = target
            if len(target.eqns) >= max_eqns:
                target.closed = True
            add_deps(target.index, set().union(*(found[a] for a in ins if a not in target.defined)))
            src[e.out] = frozenset((target.index,))
        else:
            items.append(e)
            direct = frozenset().union(*(src.get(a, empty) for a in ins)) if ins else empty
            for o in e.outs:
                src[o] = direct

    # A region of 0-d values whose results all feed one other region becomes that region's
    # prelude, computed once before its loops: one kernel call fewer (the scalar steps between a
    # reduction and the backward pass that uses it).
    consumers: dict[int, set[Any]] = {}
    for e in program.eqns:
        reader = owner.get(e.out) if type(e.out) is Var else None
        for a in e.inputs:
            if type(a) is Var and a in owner and owner[a] is not reader and owner[a].shape == ():
                consumers.setdefault(owner[a].index, set()).add(reader.index if reader is not None else None)
    for z in opened:
        readers = consumers.get(z.index, set())
        if z.shape != () or z.pre_eqns or len(readers) != 1 or None in readers:
            continue
        host = opened[next(iter(readers))]
        outside = [a for e in z.eqns for a in e.inputs if type(a) is Var and a not in z.defined]
        if host.shape == () or any(host.index in deps(a) for a in outside):
            continue
        add_deps(host.index, set().union(*(deps(a) for a in outside)))
        host.pre_eqns[:0], host.pre_plans[:0] = z.eqns, z.plans
        host.defined |= z.defined
        for v in z.defined:
            owner[v] = host
        z.eqns, z.plans = [], []

    # Consumers of each value decide each kernel's results.
    users_of: dict[Var, list[Eqn]] = {}
    for e in program.eqns:
        for a in e.inputs:
            if type(a) is Var:
                users_of.setdefault(a, []).append(e)
    program_outputs = {a for a in program.outputs if type(a) is Var}

    regions: list[Region] = []
    number: dict[int, list[int]] = {}  # region -> its kernels, in order
    for r in opened:
        members = r.pre_eqns + r.eqns
        if len(members) < 2:
            continue
        number[r.index] = []
        plans = r.pre_plans + r.plans
        for lo, hi in _chunks(members, r.defined, users_of, program_outputs):
            chunk = members[lo:hi]
            inside = {e.out for e in chunk}
            args: list[Any] = []
            seen: set[Any] = set()
            for e in chunk:
                for a in e.inputs:
                    # Equal literals (same type and exact value: 0.0 is not -0.0) are one argument.
                    if (isinstance(a, Literal) or a not in inside) and a not in seen:
                        seen.add(a)
                        args.append(a)
            outs = [e.out for e in chunk if e.out in program_outputs
                    or any(u.out not in inside for u in users_of.get(e.out, ()))]
            sizes = []  # a dimension no array operand has (all broadcast into it): its size is an argument
            nd = len(r.shape)
            for j, n in enumerate(r.shape):
                if n != 1 and not any(type(a) is Var and len(a.aval.shape) >= nd - j
                                      and a.aval.shape[j - nd + len(a.aval.shape)] != 1 for a in args):
                    size = Literal(int(n))
                    if size not in seen:
                        seen.add(size)
                        args.append(size)
                    sizes.append((j, args.index(size)))
            number[r.index].append(len(regions))
            regions.append(Region(chunk, plans[lo:hi], args, outs, r.shape,
                                  max(0, min(len(r.pre_eqns), hi) - lo), tuple(sizes)))

    # Topological order (Kahn), by first appearance: kernels become single nodes.
    nodes: list[Any] = []
    node_of: dict[Var, int] = {}
    for it in items:
        if isinstance(it, _Open):
            if not it.eqns and not it.pre_eqns:  # merged into another region
                continue
            if it.index in number:
                for k in number[it.index]:
                    nodes.append(k)
                    for e in regions[k].eqns:
                        node_of[e.out] = len(nodes) - 1
            else:
                nodes.append(it.eqns[0])
                node_of[it.eqns[0].out] = len(nodes) - 1
        else:
            nodes.append(it)
            for o in it.outs:
                node_of[o] = len(nodes) - 1

    def node_inputs(node: Any) -> list[Any]:
        if isinstance(node, int):
            return [a for a in regions[node].args if type(a) is Var]
        return [a for a in node.inputs if type(a) is Var]

    users: dict[int, list[int]] = {}
    waiting = [0] * len(nodes)
    for k, node in enumerate(nodes):
        srcs = {node_of[a] for a in node_inputs(node) if a in node_of}
        srcs.discard(k)
        waiting[k] = len(srcs)
        for s in srcs:
            users.setdefault(s, []).append(k)
    ready = [k for k in range(len(nodes)) if waiting[k] == 0]
    heapq.heapify(ready)
    order: list[Any] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(nodes[k])
        for u in users.get(k, ()):
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(nodes):  # pragma: no cover - the join rule keeps the graph acyclic
        raise AssertionError("fusion made a cyclic program")
    return order, regions


# --- kernel source ------------------------------------------------------------------------------


def _cast(expr: str, have: str, want: str) -> str:
    return expr if have == want else f"{_NAMES[want]}({expr})"


def kernel_source(region: Region, name: str = "kernel") -> str:
    """The Python source of ``region``'s kernel, for ``numba.njit``: nested loops over the
    iteration shape (none over its size-1 dimensions), every operand read at its broadcast
    index, every result written to a fresh array of the result's dtype.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> prog = fg.make_trace(lambda x, y: fnp.sin(x) * y)(np.ones((2, 3)), np.ones(3))
    >>> print(kernel_source(find_regions(prog)[1][0]))  # doctest: +NORMALIZE_WHITESPACE
    def kernel(a0, a1):
        n0 = a0.shape[0]
        n1 = a0.shape[1]
        o0 = np.empty((n0, n1), np.float64)
        for i0 in range(n0):
            for i1 in range(n1):
                x0 = a0[i0, i1]
                t0 = math.sin(x0)
                x1 = a1[i1]
                t1 = (t0 * x1)
                o0[i0, i1] = t1
        return (o0,)
    """
    shape = region.shape
    nd = len(shape)
    head: list[str] = [f"def {name}({', '.join(f'a{k}' for k in range(len(region.args)))}):"]
    # loop bounds: a dimension's size is read from an operand that has it (NumPy broadcasting:
    # a result dimension other than 1 comes from some operand)
    bounds: list[str | None] = []
    size_args = dict(region.sizes)
    for j in range(nd):
        if shape[j] == 1:
            bounds.append(None)
            continue
        if j in size_args:
            head.append(f"    n{j} = a{size_args[j]}")
            bounds.append(f"n{j}")
            continue
        for k, a in enumerate(region.args):
            s = a.aval.shape if type(a) is Var else ()
            lead = nd - len(s)
            if j >= lead and s[j - lead] != 1:
                head.append(f"    n{j} = a{k}.shape[{j - lead}]")
                bounds.append(f"n{j}")
                break
        else:  # pragma: no cover - find_regions passes the size of such a dimension
            raise AssertionError("no operand gives the size of a dimension")
    dims = "(" + ", ".join(b or "1" for b in bounds) + ("," if nd == 1 else "") + ")"
    # Results are arrays, 0-d ones too: Numba would return a float32 scalar as a Python float,
    # and NumPy promotes Python scalars weakly.
    pre_outs = {e.out for e in region.eqns[: region.prelude]}
    for k, o in enumerate(region.outs):
        out_shape = "()" if o in pre_outs else dims
        head.append(f"    o{k} = np.empty({out_shape}, {_NAMES[_char(o.aval.dtype)]})")
    body: list[str] = []
    indent = "    "
    for j in range(nd):
        if bounds[j] is not None:
            body.append(f"{indent}for i{j} in range({bounds[j]}):")
            indent += "    "
    names: dict[Any, tuple[str, str]] = {}  # operand -> (scalar expression, dtype char)
    loaded: set[int] = set()

    def operand(k: int) -> tuple[str, str]:
        a = region.args[k]
        char = _char(a.aval.dtype)
        if k not in loaded:
            loaded.add(k)
            s = a.aval.shape if type(a) is Var else ()
            if not s:  # 0-d: a NumPy or Python scalar, a literal, or a 0-d array
                head.append(f"    x{k} = h.as_scalar(a{k})")
            elif all(d == 1 for d in s):
                head.append(f"    x{k} = a{k}[{', '.join('0' for _ in s)}]")
            else:
                index = ", ".join("0" if s[d] == 1 else f"i{nd - len(s) + d}" for d in range(len(s)))
                body.append(f"{indent}x{k} = a{k}[{index}]")
        return f"x{k}", char

    arg_index = {a: k for k, a in enumerate(region.args)}
    for t, (e, p) in enumerate(zip(region.eqns, region.plans)):
        parts = []
        for a, want in zip(e.inputs, p.loop):
            if isinstance(a, Literal):
                expr, have = operand(arg_index[a])
            elif a in names:
                expr, have = names[a]
            else:
                expr, have = operand(arg_index[a])
            parts.append(_cast(expr, have, want))
        expr = p.template.format(*parts)
        if p.cast:
            expr = f"{_NAMES[p.out]}({expr})"
        (head if t < region.prelude else body).append(f"{indent if t >= region.prelude else '    '}t{t} = {expr}")
        names[e.out] = (f"t{t}", p.out)
    index = ", ".join("0" if b is None else f"i{j}" for j, b in enumerate(bounds)) if nd else "()"
    for k, o in enumerate(region.outs):
        if o in pre_outs:
            head.append(f"    o{k}[()] = {names[o][0]}")
        else:
            body.append(f"{indent}o{k}[{index}] = {names[o][0]}")
    outs = "".join(f"o{k}, " for k in range(len(region.outs))).rstrip(" ")
    return "\n".join(head + body + [f"    return ({outs})"]) + "\n"


# --- the fused program --------------------------------------------------------------------------


def _fused_emit(e: Eqn, args: list[str], bind: Callable[[Any], str]) -> str:
    return f"{bind(e.params['kernel'])}({', '.join(args)})"


fused_kernel_p = Primitive(
    "fused_kernel",
    lambda *args, kernel: kernel(*args),
    multiple_results=True,
    emit=_fused_emit,
    register=False,
)

def fuse(program: Program, compile_kernel: Callable[[Region], Any], max_eqns: int | None = None) -> Program:
    """``program`` with each elementwise region replaced by one ``fused_kernel`` equation calling
    ``compile_kernel(region)`` (a region whose kernel is None stays as its equations). For code
    generation only: derived programs (gradients, batching) are made from the unfused program."""
    order, regions = find_regions(program, MAX_REGION_EQNS if max_eqns is None else max_eqns)
    if not regions:
        return program
    eqns = []
    for item in order:
        if isinstance(item, Eqn):
            eqns.append(item)
            continue
        r = regions[item]
        kernel = compile_kernel(r)
        if kernel is None:
            eqns.extend(r.eqns)
            continue
        eqns.append(Eqn(fused_kernel_p, tuple(r.args), tuple(r.outs), {"kernel": kernel}))
    return program.replace(eqns=eqns)
