"""Whole loops as one Numba kernel, for ``jit(f, backend="numba")``.

The default backend runs a ``scan`` or ``while`` equation as a Python loop calling the body's
generated NumPy code once per step (one NumPy call per operation per step). Here, when every
equation of the body has a translation below, the whole loop — every step, the stacking of the
per-step outputs ``ys`` and the swapping of the carries — is one Numba kernel, so its run time
is a few arithmetic instructions per element per step instead of microseconds of Python.

Shapes are static in a program, so the kernel writes every intermediate of the body into a
buffer allocated once, before the loop, and each equation is a nest of loops with constant
bounds (LLVM unrolls and vectorises the small ones). 0-d values are scalars. The translations:

* elementwise operations: the scalar templates of :mod:`funcgrad.ir.fusion` (``fusion.plan``),
  which follow NumPy's dtype rules; operands broadcast as NumPy broadcasts them;
* int64 arithmetic and comparisons (loop counters);
* ``matmul`` of float operands (batch dimensions broadcast), ``sum`` and the 2-norm over any axes (float), ``reshape``
  (a view), ``transpose``, basic indexing (integers, slices, ``None``, ``...``), updates through
  it (``x.at[i].add/set``) and ``concatenate`` (copies);
* the body's constants are kernel arguments.

Anything else in a body (a nested loop, an integer operation, indexing, ...) leaves the loop
equation as it was: it runs as the default backend runs it. The loop length and the literals are
kernel arguments, so loops of different lengths share one kernel; kernels are cached on disk
like the fused kernels (:func:`funcgrad.ir.numba_backend._load`).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, NamedTuple

import numpy as np

from ..core import Primitive
from .fusion import _cast, _char, _descriptor, _Plan, plan
from .program import Eqn, Literal, Program, ShapedArray, Var

__all__ = ["compile_loops", "loop_kernel_source", "numba_loop_p"]

_ARRAY_CHARS = frozenset("?bhilqBHILQfdFD")


def _type_name(dtype: Any) -> str:
    """The NumPy scalar type of ``dtype`` as kernel source (``np.float64``, ``np.bool_``)."""
    d = np.dtype(dtype)
    return "np.bool_" if d.kind == "b" else f"np.{d.name}"


class Unsupported(Exception):
    """A body equation without a translation: the loop stays as the default backend runs it."""


class _Writer:
    """Writes the statements of one or more body programs sharing one kernel's names.

    ``setup`` lines run once before the loop (buffer allocations); ``step`` lines run every step.
    """

    def __init__(self, args: list[str]) -> None:
        self.args = args  # kernel argument names, in order
        self.literals: dict[Literal, str] = {}
        self.literal_values: list[Any] = []
        self.setup: list[str] = []
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def literal(self, a: Literal) -> str:
        found = self.literals.get(a)
        if found is None:
            v = a.value
            ok = (type(v) is int and -(1 << 63) <= v < (1 << 63)) or type(v) in (bool, float, complex) or (
                isinstance(v, np.generic) and _char(v.dtype) is not None)
            if not ok:
                raise Unsupported("literal")
            found = self.literals[a] = f"a{len(self.args)}"
            self.args.append(found)
            self.literal_values.append(v)
        return found

    def constant(self, v: Var, value: Any) -> str:
        """A constant of a body (an array it closes over, a zero it updates) as a kernel argument."""
        if type(value) is not np.ndarray or value.dtype != v.aval.dtype or value.shape != v.aval.shape:
            raise Unsupported("constant")
        name = f"a{len(self.args)}"
        self.args.append(name)
        self.literal_values.append(value[()] if not value.shape else np.ascontiguousarray(value))
        return name

    # --- reading values -------------------------------------------------------------------------

    def name(self, names: dict, a: Any) -> str:
        return self.literal(a) if isinstance(a, Literal) else names[a]

    def read(self, names: dict, a: Any, out_nd: int) -> str:
        """``a``'s element at the loop indices ``j0..`` of an ``out_nd``-d result (NumPy broadcasting)."""
        base = self.name(names, a)
        shape = a.aval.shape if type(a) is Var else ()
        if not shape:
            return base
        lead = out_nd - len(shape)
        return f"{base}[{', '.join('0' if n == 1 else f'j{lead + d}' for d, n in enumerate(shape))}]"

    def buffer(self, shape: tuple, dtype: Any) -> str:
        b = self.fresh("b")
        self.setup.append(f"    {b} = np.empty({_shape_source(shape)}, {_type_name(dtype)})")
        return b

    # --- equations ------------------------------------------------------------------------------

    def equations(self, program: Program, names: dict, lines: list[str], indent: str) -> None:
        """Append the statements computing ``program``'s equations (inputs already in ``names``)."""
        for v, value in program.consts.items():
            names[v] = self.constant(v, value)
        prims = _loop_prims()
        for e in program.eqns:
            if e.prim is prims.scan or e.prim is prims.while_:  # a loop in the body: inline
                _check_avals([a.aval for a in e.inputs] + [o.aval for o in e.outs])
                (_nested_scan if e.prim is prims.scan else _nested_while)(self, e, names, lines, indent)
                continue
            if type(e.out) is not Var or _char(e.out.aval.dtype) is None:
                raise Unsupported(e.prim.name)
            for a in e.inputs:
                if type(a) is Var and _char(a.aval.dtype) is None:
                    raise Unsupported(e.prim.name)
            self.equation(e, names, lines, indent)

    def equation(self, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
        rule = _rules().get(e.prim)
        if rule is not None:
            rule(self, e, names, lines, indent)
            return
        p = plan(e) or _integer_plan(e)
        if p is None:
            raise Unsupported(e.prim.name)
        out = e.out
        nd = len(out.aval.shape)
        parts = []
        for a, want in zip(e.inputs, p.loop):
            have = _char(a.aval.dtype)
            parts.append(_cast(self.read(names, a, nd), have, want))
        expr = f"{_type_name(out.aval.dtype)}({p.template.format(*parts)})"
        self.assign(out, expr, names, lines, indent)

    def assign(self, out: Var, expr: str, names: dict, lines: list[str], indent: str) -> None:
        """``out = expr`` elementwise, ``expr`` written in terms of the loop indices ``j0..``."""
        shape = out.aval.shape
        if not shape:
            t = names[out] = self.fresh("t")
            lines.append(f"{indent}{t} = {expr}")
            return
        b = names[out] = self.buffer(shape, out.aval.dtype)
        inner = _loops(shape, lines, indent)
        lines.append(f"{inner}{b}[{_index(len(shape))}] = {expr}")

    def copy_into(self, target: str, a: Any, names: dict, lines: list[str], indent: str, lead: str = "") -> None:
        """Copy the value ``a`` into the array ``target`` (at ``target[lead, ...]`` if ``lead``)."""
        shape = a.aval.shape if type(a) is Var else ()
        if not shape:
            lines.append(f"{indent}{target}[{lead or '()'}] = {self.name(names, a)}")
            return
        inner = _loops(shape, lines, indent)
        index = (lead + ", " if lead else "") + _index(len(shape))
        lines.append(f"{inner}{target}[{index}] = {self.read(names, a, len(shape))}")


# int64 arithmetic and comparisons (loop counters): Numba's int64 arithmetic wraps around as NumPy's does
_INTEGER_OPS = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})", "negative": "(-{0})",
                "less": "({0} < {1})", "less_equal": "({0} <= {1})", "greater": "({0} > {1})",
                "greater_equal": "({0} >= {1})", "equal": "({0} == {1})", "not_equal": "({0} != {1})",
                "maximum": "max({0}, {1})", "minimum": "min({0}, {1})"}


def _integer_plan(e: Eqn) -> _Plan | None:
    ufunc = e.prim.impl
    if not isinstance(ufunc, np.ufunc) or e.params or type(e.out) is not Var or ufunc.__name__ not in _INTEGER_OPS:
        return None
    if any(_char(a.aval.dtype) != "q" or len(a.aval.shape) > len(e.out.aval.shape) for a in e.inputs):
        return None
    try:
        resolved = ufunc.resolve_dtypes(tuple(_descriptor(a) for a in e.inputs) + (None,) * ufunc.nout)
    except (TypeError, ValueError, AttributeError):
        return None
    loop = tuple(_char(d) for d in resolved[:ufunc.nin])
    out = _char(resolved[ufunc.nin])
    if any(c != "q" for c in loop) or out not in ("q", "?") or np.dtype(out) != e.out.aval.dtype:
        return None
    return _Plan(loop, _INTEGER_OPS[ufunc.__name__], out, False)


def _shape_source(shape: tuple) -> str:
    return "(" + "".join(f"{int(n)}, " for n in shape).rstrip(" ") + ")"


def _index(nd: int) -> str:
    return ", ".join(f"j{d}" for d in range(nd))


def _loops(shape: tuple, lines: list[str], indent: str) -> str:
    """Open nested loops ``j0..`` over ``shape``; returns the indent of their body."""
    for d, n in enumerate(shape):
        lines.append(f"{indent}for j{d} in range({int(n)}):")
        indent += "    "
    return indent


# --- translations of the non-elementwise primitives ---------------------------------------------


def _float_operands(e: Eqn) -> str:
    chars = {_char(e.out.aval.dtype)} | {_char(a.aval.dtype) for a in e.inputs if type(a) is Var}
    if any(type(a) is not Var for a in e.inputs) or len(chars) != 1 or not chars <= set("fd"):
        raise Unsupported(e.prim.name)
    return next(iter(chars))


def _matmul(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    """``matmul`` with NumPy's rules: 1-d operands as a row / a column, leading (batch)
    dimensions broadcast; each element a sum over the contracted dimension."""
    char = _float_operands(e)
    a, b = e.inputs
    sa, sb = a.aval.shape, b.aval.shape
    if not sa or not sb:
        raise Unsupported("matmul of a 0-d operand")
    na, nb_ = names[a], names[b]
    k = sa[-1]
    zero = f"np.{np.dtype(char).name}(0.0)"
    out_shape = e.out.aval.shape
    if not out_shape:
        t = names[e.out] = w.fresh("t")
        lines.append(f"{indent}{t} = {zero}")
        lines.append(f"{indent}for q in range({k}):")
        lines.append(f"{indent}    {t} += {na}[q] * {nb_}[q]")
        return
    rows, cols = len(sa) >= 2, len(sb) >= 2
    batch = len(out_shape) - rows - cols
    if batch < 0:
        raise Unsupported("matmul shapes")

    def batch_index(shape: tuple) -> list[str]:
        return ["0" if n == 1 else f"j{batch - len(shape) + d}" for d, n in enumerate(shape)]

    ia = batch_index(sa[:-2]) + ([f"j{batch}"] if rows else []) + ["q"]
    ib = batch_index(sb[:-2]) + ["q"] + ([f"j{batch + rows}"] if cols else [])
    out = names[e.out] = w.buffer(out_shape, e.out.aval.dtype)
    inner = _loops(out_shape, lines, indent)
    acc = w.fresh("s")
    lines.append(f"{inner}{acc} = {zero}")
    lines.append(f"{inner}for q in range({k}):")
    lines.append(f"{inner}    {acc} += {na}[{', '.join(ia)}] * {nb_}[{', '.join(ib)}]")
    lines.append(f"{inner}{out}[{_index(len(out_shape))}] = {acc}")


def _reduce_sum(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str, norm: bool = False) -> None:
    """``sum`` over axes; with ``norm``, the 2-norm over them (the square root of the sum of squares,
    as NumPy computes a real norm)."""
    char = _float_operands(e)
    (x,) = e.inputs
    shape = x.aval.shape
    nd = len(shape)
    axis, keepdims = e.params.get("axis"), e.params.get("keepdims", False)
    if set(e.params) - {"axis", "keepdims"}:
        raise Unsupported("sum with parameters")
    axes = set(range(nd)) if axis is None else {int(a) % nd for a in (axis if isinstance(axis, tuple) else (axis,))} \
        if nd else set()
    zero = f"np.{np.dtype(char).name}(0.0)"
    src = names[x]
    element = f"{src}[{_index(nd)}]"
    if norm:
        element = f"{element} * {element}"
    if not e.out.aval.shape:
        t = names[e.out] = w.fresh("t")
        if not nd:
            lines.append(f"{indent}{t} = {'abs(' + src + ')' if norm else src}")
            return
        lines.append(f"{indent}{t} = {zero}")
        inner = _loops(shape, lines, indent)
        lines.append(f"{inner}{t} += {element}")
        if norm:
            lines.append(f"{indent}{t} = math.sqrt({t})")
        return
    out_shape = e.out.aval.shape
    out = names[e.out] = w.buffer(out_shape, e.out.aval.dtype)
    inner = _loops(out_shape, lines, indent)
    lines.append(f"{inner}{out}[{_index(len(out_shape))}] = {zero}")
    inner = _loops(shape, lines, indent)
    kept = [f"j{d}" if d not in axes else "0" for d in range(nd) if keepdims or d not in axes]
    lines.append(f"{inner}{out}[{', '.join(kept)}] += {element}")
    if norm:
        inner = _loops(out_shape, lines, indent)
        lines.append(f"{inner}{out}[{_index(len(out_shape))}] = math.sqrt({out}[{_index(len(out_shape))}])")


def _l2norm(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    _reduce_sum(w, e, names, lines, indent, norm=True)


def _reshape(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    (x,) = e.inputs
    if type(x) is not Var or _char(x.aval.dtype) != _char(e.out.aval.dtype):
        raise Unsupported("reshape")
    src, shape, new = names[x], x.aval.shape, e.out.aval.shape
    if not new:
        t = names[e.out] = w.fresh("t")
        lines.append(f"{indent}{t} = {src}" + (f"[{', '.join('0' for _ in shape)}]" if shape else ""))
    elif not shape:
        w.assign(e.out, src, names, lines, indent)
    else:
        t = names[e.out] = w.fresh("v")
        lines.append(f"{indent}{t} = {src}.reshape({_shape_source(new)})")


def _transpose(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    (x,) = e.inputs
    axes = e.params.get("axes")
    if type(x) is not Var or _char(x.aval.dtype) != _char(e.out.aval.dtype):
        raise Unsupported("transpose")
    nd = len(x.aval.shape)
    axes = tuple(reversed(range(nd))) if axes is None else tuple(int(a) % nd for a in axes) if nd else ()
    if not nd:
        w.assign(e.out, names[x], names, lines, indent)
        return
    index = [""] * nd
    for j, a in enumerate(axes):
        index[a] = f"j{j}"
    w.assign(e.out, f"{names[x]}[{', '.join(index)}]", names, lines, indent)


def _basic_index(spec: Any, shape: tuple) -> tuple[list[str], tuple]:
    """For basic indexing (integers, slices, ``None``, ``...``) of an array of ``shape``: the
    index of each of its dimensions in terms of the loop indices ``j0..`` over the result, and
    the result's shape."""
    if not shape or not isinstance(spec, tuple) or any(
            not isinstance(item, tuple) or item[:1] not in (("s",), ("i",), ("n",), ("e",)) for item in spec):
        raise Unsupported("indexing")
    consumed = sum(item[0] in "si" for item in spec)
    if consumed > len(shape) or sum(item[0] == "e" for item in spec) > 1:
        raise Unsupported("indexing")
    items: list = []
    for item in spec:
        items.extend([("s", None, None, None)] * (len(shape) - consumed) if item[0] == "e" else [item])
    if not any(item[0] == "e" for item in spec):
        items.extend([("s", None, None, None)] * (len(shape) - consumed))
    index, result, d = [], [], 0
    for item in items:
        if item[0] == "n":
            result.append(1)
            continue
        n = shape[d]
        if item[0] == "i":
            if not -n <= item[1] < n:
                raise Unsupported("index out of bounds")
            index.append(str(item[1] % n))
        else:
            start, stop, step = slice(*item[1:]).indices(n)
            index.append(f"{start} + {step} * j{len(result)}")
            result.append(len(range(start, stop, step)))
        d += 1
    return index, tuple(result)


def _getitem(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    x = e.inputs[0]
    if len(e.inputs) != 1 or type(x) is not Var or set(e.params) != {"spec"}:
        raise Unsupported("getitem")
    index, shape = _basic_index(e.params["spec"], x.aval.shape)
    if shape != e.out.aval.shape or _char(x.aval.dtype) != _char(e.out.aval.dtype):
        raise Unsupported("getitem")
    w.assign(e.out, f"{names[x]}[{', '.join(index)}]", names, lines, indent)


def _index_update(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str, add: bool) -> None:
    """``x.at[index].add(v)`` / ``.set(v)`` with a basic index: a copy of ``x``, then the indexed
    elements updated (``v`` broadcast to them)."""
    if len(e.inputs) != 2 or set(e.params) != {"spec"}:
        raise Unsupported("index update")
    x, v = e.inputs
    char = _char(e.out.aval.dtype)
    if type(x) is not Var or _char(x.aval.dtype) != char or x.aval.shape != e.out.aval.shape:
        raise Unsupported("index update")
    if type(v) is Var and _char(v.aval.dtype) != char or type(v) is not Var and char not in "fd":
        raise Unsupported("index update")
    index, shape = _basic_index(e.params["spec"], x.aval.shape)
    if len(v.aval.shape) > len(shape) or any(a not in (1, b) for a, b in zip(v.aval.shape[::-1], shape[::-1])):
        raise Unsupported("index update")
    w.assign(e.out, f"{names[x]}[{_index(len(x.aval.shape))}]", names, lines, indent)
    out = names[e.out]
    value = _cast(w.read(names, v, len(shape)), _char(v.aval.dtype), char)
    inner = _loops(shape, lines, indent)
    target = f"{out}[{', '.join(index)}]"
    lines.append(f"{inner}{target} = {target + ' + ' if add else ''}{value}")


def _index_add(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    _index_update(w, e, names, lines, indent, add=True)


def _index_set(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    _index_update(w, e, names, lines, indent, add=False)


def _concatenate(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    char = _char(e.out.aval.dtype)
    shape = e.out.aval.shape
    if set(e.params) != {"axis"} or not shape or any(
            type(a) is not Var or _char(a.aval.dtype) != char or len(a.aval.shape) != len(shape) for a in e.inputs):
        raise Unsupported("concatenate")
    axis = int(e.params["axis"]) % len(shape)
    out = names[e.out] = w.buffer(shape, e.out.aval.dtype)
    offset = 0
    for a in e.inputs:
        inner = _loops(a.aval.shape, lines, indent)
        target = ", ".join(f"j{d} + {offset}" if d == axis else f"j{d}" for d in range(len(shape)))
        lines.append(f"{inner}{out}[{target}] = {names[a]}[{_index(len(shape))}]")
        offset += a.aval.shape[axis]


# --- loops inside a loop body: inlined in the kernel ---------------------------------------------


def _nested_carries(w: _Writer, inits: tuple, avals: list, names: dict, lines: list[str],
                    indent: str) -> tuple[list[str], list[str | None]]:
    """Carry variables of an inner loop, set to their initial values (array carries: two
    buffers allocated once, swapped every step)."""
    carries: list[str] = []
    spares: list[str | None] = []
    for a, aval in zip(inits, avals):
        if tuple(a.aval.shape) != tuple(aval.shape) or np.dtype(a.aval.dtype) != np.dtype(aval.dtype):
            raise Unsupported("carry type")
        if aval.shape:
            c, n = w.buffer(tuple(aval.shape), aval.dtype), w.buffer(tuple(aval.shape), aval.dtype)
            w.copy_into(c, a, names, lines, indent)
        else:
            c, n = w.fresh("cc"), None
            lines.append(f"{indent}{c} = {_type_name(aval.dtype)}({w.name(names, a)})")
        carries.append(c)
        spares.append(n)
    return carries, spares


def _nested_scan(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    p = e.params
    if not set(p) <= _SCAN_PARAMS:
        raise Unsupported("scan")
    body, nc, nx, length = p["body"], p["n_carry"], p["n_xs"], int(p["length"])
    _check_avals(body.out_avals)
    carries, spares = _nested_carries(w, e.inputs[:nc], body.in_avals[:nc], names, lines, indent)
    ys = [w.buffer((length,) + tuple(a.shape), a.dtype) for a in body.out_avals[nc:]]
    it, i = w.fresh("it"), w.fresh("i")
    inner = indent + "    "
    lines.append(f"{indent}for {it} in range({length}):")
    lines.append(f"{inner}{i} = {length - 1} - {it}" if p["reverse"] else f"{inner}{i} = {it}")
    bnames: dict = {}
    for k, v in enumerate(body.inputs):
        a = e.inputs[k]
        if k < nc:
            bnames[v] = carries[k]
        elif k < nc + nx:
            if type(a) is not Var or not a.aval.shape or a.aval.shape[0] != length:
                raise Unsupported("scanned operand")
            x = bnames[v] = w.fresh("x")
            lines.append(f"{inner}{x} = {names[a]}[{i}]")
        else:
            bnames[v] = w.name(names, a)
    w.equations(body, bnames, lines, inner)
    for target, y in zip(ys, body.outputs[nc:]):
        w.copy_into(target, y, bnames, lines, inner, lead=i)
    _update_carries(w, body.outputs[:nc], carries, spares, bnames, lines, inner)
    for o, name in zip(e.outs, carries + ys):
        names[o] = name


def _nested_while(w: _Writer, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    p = e.params
    if set(p) != _WHILE_PARAMS:
        raise Unsupported("while")
    cond, body, nc, ncc = p["cond"], p["body"], p["n_carry"], p["n_cconsts"]
    _check_avals(body.out_avals)
    if len(body.outputs) != nc or cond.outputs[0].aval.shape != ():
        raise Unsupported("while")
    carries, spares = _nested_carries(w, e.inputs[:nc], body.in_avals[:nc], names, lines, indent)
    inner = indent + "    "
    lines.append(f"{indent}while True:")
    cnames: dict = {}
    for k, v in enumerate(cond.inputs):
        cnames[v] = carries[k] if k < nc else w.name(names, e.inputs[k])
    w.equations(cond, cnames, lines, inner)
    lines.append(f"{inner}if not {w.name(cnames, cond.outputs[0])}:")
    lines.append(f"{inner}    break")
    bnames: dict = {}
    for k, v in enumerate(body.inputs):
        bnames[v] = carries[k] if k < nc else w.name(names, e.inputs[ncc + k])
    w.equations(body, bnames, lines, inner)
    _update_carries(w, body.outputs, carries, spares, bnames, lines, inner)
    for o, name in zip(e.outs, carries):
        names[o] = name


_RULES: dict[Primitive, Callable[..., None]] = {}


def _rules() -> dict[Primitive, Callable[..., None]]:
    if not _RULES:
        from ..prims import indexing, linalg, reductions, shape

        _RULES.update({linalg.matmul_p: _matmul, reductions.reduce_sum_p: _reduce_sum, linalg.l2norm_p: _l2norm,
                       shape.reshape_p: _reshape, shape.transpose_p: _transpose, indexing.getitem_p: _getitem,
                       indexing.index_add_p: _index_add, indexing.index_set_p: _index_set,
                       shape.concatenate_p: _concatenate})
    return _RULES


# --- kernels ------------------------------------------------------------------------------------


class _Kernel:
    """A loop kernel's source and how to call it: the loop operands' avals, then the literals
    (and, for ``scan``, the length)."""

    def __init__(self, source: str, in_avals: list, extra: list) -> None:
        self.source, self.in_avals, self.extra = source, in_avals, extra


def _start(n_args: int, in_avals: list, n_carry: int) -> tuple[_Writer, list[str], list[str], list[str | None]]:
    """The writer, the kernel's first lines (carries copied into buffers the loop owns), the
    carry names and the names of their swap buffers (None for 0-d carries)."""
    w = _Writer([f"a{i}" for i in range(n_args)])
    head: list[str] = []
    carries: list[str] = []
    spares: list[str | None] = []
    for i in range(n_carry):
        aval = in_avals[i]
        c = f"c{i}"
        carries.append(c)
        if aval.shape:
            head.append(f"    {c} = a{i}.copy()")
            head.append(f"    n{i} = np.empty_like({c})")
            spares.append(f"n{i}")
        else:
            head.append(f"    {c} = a{i}")
            spares.append(None)
    return w, head, carries, spares


def _update_carries(w: _Writer, outs: list, carries: list[str], spares: list, names: dict, lines: list[str],
                    indent: str) -> None:
    """The next step's carries: arrays copied into the swap buffers (a new carry may be an old
    one), scalars through temporaries, then every carry replaced at once."""
    final = []
    for c, n, a in zip(carries, spares, outs):
        if n is not None:
            w.copy_into(n, a, names, lines, indent)
            final.append(f"{indent}{c}, {n} = {n}, {c}")
        else:
            dtype = _type_name(a.aval.dtype)
            u = w.fresh("u")
            lines.append(f"{indent}{u} = {dtype}({w.name(names, a)})")
            final.append(f"{indent}{c} = {u}")
    lines.extend(final)


def _check_avals(avals: list) -> None:
    for a in avals:
        if _char(a.dtype) is None or a.dtype == object:
            raise Unsupported("dtype")


def scan_kernel(body: Program, n_carry: int, n_xs: int, reverse: bool, in_avals: list) -> _Kernel:
    """The kernel running a whole ``scan``: ``kernel(*carries, *xs, *consts, *literals, length)``
    returns ``(*final carries, *stacked ys)``."""
    _check_avals(in_avals)
    _check_avals(body.out_avals)
    n_in = len(in_avals)
    w, head, carries, spares = _start(n_in, in_avals, n_carry)
    names: dict = {}
    step: list[str] = []
    indent = "        "
    for i, v in enumerate(body.inputs):
        if i < n_carry:
            names[v] = carries[i]
        elif i < n_carry + n_xs:
            x = names[v] = f"x{i}"
            step.append(f"{indent}{x} = a{i}[i]")
        else:
            names[v] = f"a{i}"
    w.equations(body, names, step, indent)
    ys = []
    for k, y in enumerate(body.outputs[n_carry:]):
        target = f"ys{k}"
        ys.append(target)
        shape = _shape_source(tuple(body.out_avals[n_carry + k].shape))
        head.append(f"    {target} = np.empty((length,) + {shape}, {_type_name(body.out_avals[n_carry + k].dtype)})")
        w.copy_into(target, y, names, step, indent, lead="i")
    _update_carries(w, body.outputs[:n_carry], carries, spares, names, step, indent)
    args = w.args + ["length"]
    order = "length - 1 - it" if reverse else "it"
    lines = [f"def kernel({', '.join(args)}):"] + head + w.setup + [
        "    for it in range(length):", f"        i = {order}"] + step
    lines.append(f"    return ({''.join(f'{c}, ' for c in carries + ys).rstrip(' ')})")
    return _Kernel("\n".join(lines) + "\n", list(in_avals), list(w.literal_values))


def while_kernel(cond: Program, body: Program, n_carry: int, n_cconsts: int, in_avals: list,
                 record: bool = False) -> _Kernel:
    """The kernel running a whole ``while`` loop: ``kernel(*carries, *cond consts, *body consts,
    *literals)`` returns the final carries. With ``record`` (the recording loop of reverse mode)
    the body's outputs after the carries are each step's residuals: they are stacked (in arrays
    that double when full) and returned after the carries, followed by the trip count."""
    _check_avals(in_avals)
    _check_avals(body.out_avals)
    n_in = len(in_avals)
    w, head, carries, spares = _start(n_in, in_avals, n_carry)
    indent = "        "
    step: list[str] = []
    names: dict = {}
    for i, v in enumerate(cond.inputs):
        names[v] = carries[i] if i < n_carry else f"a{i}"
    w.equations(cond, names, step, indent)
    pred = cond.outputs[0]
    if pred.aval.shape != ():
        raise Unsupported("predicate shape")
    step.append(f"{indent}if not {w.name(names, pred)}:")
    step.append(f"{indent}    break")
    bnames: dict = {}
    for i, v in enumerate(body.inputs):
        bnames[v] = carries[i] if i < n_carry else f"a{n_cconsts + i}"
    w.equations(body, bnames, step, indent)
    results = list(carries)
    if record:
        tapes = []
        head.append("    count = 0")
        head.append("    capacity = 16")
        grow = [f"{indent}if count == capacity:", f"{indent}    capacity *= 2"]
        for k in range(len(body.outputs) - n_carry):
            tape, aval = f"r{k}", body.out_avals[n_carry + k]
            tapes.append(tape)
            shape, dtype = _shape_source(tuple(aval.shape)), _type_name(aval.dtype)
            head.append(f"    {tape} = np.empty((capacity,) + {shape}, {dtype})")
            grow.append(f"{indent}    g{k} = np.empty((capacity,) + {shape}, {dtype})")
            grow.append(f"{indent}    g{k}[:count] = {tape}")
            grow.append(f"{indent}    {tape} = g{k}")
        step.extend(grow)
        for tape, r in zip(tapes, body.outputs[n_carry:]):
            w.copy_into(tape, r, bnames, step, indent, lead="count")
        step.append(f"{indent}count += 1")
        results += [f"{t}[:count]" for t in tapes] + ["count"]
    elif len(body.outputs) != n_carry:
        raise Unsupported("while body outputs")
    _update_carries(w, body.outputs[:n_carry], carries, spares, bnames, step, indent)
    lines = [f"def kernel({', '.join(w.args)}):"] + head + w.setup + ["    while True:"] + step
    lines.append(f"    return ({''.join(f'{c}, ' for c in results).rstrip(' ')})")
    return _Kernel("\n".join(lines) + "\n", list(in_avals), list(w.literal_values))


def loop_kernel_source(e: Eqn) -> str | None:
    """The source of the kernel that would run the loop equation ``e``, or None if its body has
    an equation without a translation.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad import lax
    >>> f = lambda c, xs: lax.scan(lambda c, x: (c * x, fnp.sin(c)), c, xs)
    >>> prog = fg.make_trace(f)(np.ones(2), np.ones((5, 2)))
    >>> print(loop_kernel_source(prog.eqns[0]))  # doctest: +NORMALIZE_WHITESPACE
    def kernel(a0, a1, length):
        c0 = a0.copy()
        n0 = np.empty_like(c0)
        ys0 = np.empty((length,) + (2,), np.float64)
        b1 = np.empty((2,), np.float64)
        b2 = np.empty((2,), np.float64)
        for it in range(length):
            i = it
            x1 = a1[i]
            for j0 in range(2):
                b1[j0] = np.float64((c0[j0] * x1[j0]))
            for j0 in range(2):
                b2[j0] = np.float64(math.sin(c0[j0]))
            for j0 in range(2):
                ys0[i, j0] = b2[j0]
            for j0 in range(2):
                n0[j0] = b1[j0]
            c0, n0 = n0, c0
        return (c0, ys0,)
    """
    try:
        return _kernel_of(e).source
    except Unsupported:
        return None


class _Prims(NamedTuple):
    scan: Primitive
    while_: Primitive
    record: Primitive  # the recording loop of a differentiated while loop
    backward: Primitive  # its backward loop


def _loop_prims() -> _Prims:
    from ..control import scan_p, while_bwd_p, while_fwd_p, while_p  # (lazily: control imports the IR)

    return _Prims(scan_p, while_p, while_fwd_p, while_bwd_p)


_SCAN_PARAMS = frozenset({"body", "n_carry", "n_xs", "length", "reverse", "unroll"})  # (unroll: same results)
_WHILE_PARAMS = frozenset({"cond", "body", "n_carry", "n_cconsts"})
_RECORD_PARAMS = frozenset({"cond", "body", "primal_body", "n_carry", "n_cconsts", "checkpoint", "tape_size"})
_BACKWARD_PARAMS = frozenset({"bwd", "fwd", "n_ct", "n_const_res", "n_carry"})


def _kernel_of(e: Eqn) -> _Kernel:
    prims = _loop_prims()
    in_avals = [a.aval for a in e.inputs]  # (a literal operand comes as a Python number: converted by LoopCall)
    p = e.params
    if e.prim is prims.scan:
        if not set(p) <= _SCAN_PARAMS:
            raise Unsupported("scan parameters")
        return scan_kernel(p["body"], p["n_carry"], p["n_xs"], p["reverse"], in_avals)
    if e.prim is prims.while_:
        if set(p) != _WHILE_PARAMS:
            raise Unsupported("while parameters")
        return while_kernel(p["cond"], p["body"], p["n_carry"], p["n_cconsts"], in_avals)
    if e.prim is prims.record:
        # per-step residuals only (not the sqrt-checkpointed or the vmapped recording)
        if not set(p) <= _RECORD_PARAMS or p.get("checkpoint") is not None or p.get("tape_size") is not None:
            raise Unsupported("recording loop")
        return while_kernel(p["cond"], p["body"], p["n_carry"], p["n_cconsts"], in_avals, record=True)
    if e.prim is prims.backward:
        # operands: cotangents, the tape, constant residuals, body invariants (unused here);
        # the kernel: a reverse scan of ``bwd`` over the recorded residuals
        if set(p) != _BACKWARD_PARAMS or p["n_ct"] < 1:
            raise Unsupported("backward loop")
        bwd, n_ct, n_cr = p["bwd"], p["n_ct"], p["n_const_res"]
        n_res = len(bwd.inputs) - n_ct - n_cr
        stacked = [ShapedArray((0,) + tuple(a.shape), a.dtype) for a in bwd.in_avals[n_ct:n_ct + n_res]]
        avals = in_avals[:n_ct] + stacked + in_avals[n_ct + 1:n_ct + 1 + n_cr]
        return scan_kernel(bwd, n_ct, n_res, True, avals)
    raise Unsupported(e.prim.name)


# --- running a kernel ---------------------------------------------------------------------------

_PY_SCALARS = (bool, int, float, complex)


class _Recorded:
    """The tape of a recording loop run by a kernel: each residual stacked over the steps, and
    the trip count. Only the backward kernels paired with that loop read it."""

    __slots__ = ("residuals", "count")
    dtype = np.dtype(object)

    def __init__(self, residuals: tuple, count: int) -> None:
        self.residuals, self.count = residuals, count

    def __repr__(self) -> str:
        return f"<while-loop tape recorded by a Numba kernel: {self.count} steps>"


class LoopCall:
    """Calls a compiled loop kernel with a loop equation's operands; any operand the kernel
    was not compiled for (another library's array, another dtype) runs the primitive's own impl.
    ``kind``: "scan", "while", "record" (returns the carries and a :class:`_Recorded` tape) or
    "backward" (reads one)."""

    def __init__(self, kernel: Any, e: Eqn, spec: _Kernel, kind: str) -> None:
        self.kernel, self.kind = kernel, kind
        self.prim, self.params = e.prim, dict(e.params)
        self.avals = spec.in_avals
        self.extra = tuple(spec.extra) + ((int(e.params["length"]),) if kind == "scan" else ())
        self.out_dtypes = [np.dtype(o.aval.dtype) for o in e.outs]

    def __call__(self, *args: Any) -> list:
        extra = self.extra
        operands: Any = args
        if self.kind == "backward":
            n_ct, n_cr = self.params["n_ct"], self.params["n_const_res"]
            tape = args[n_ct]
            if type(tape) is not _Recorded:  # recorded by the default loop
                return self.prim.impl(*args, **self.params)
            operands = args[:n_ct] + tape.residuals + args[n_ct + 1:n_ct + 1 + n_cr]
            extra = extra + (tape.count,)
        converted = []
        for x, aval in zip(operands, self.avals):
            if aval.shape:
                if type(x) is not np.ndarray or x.dtype != aval.dtype:
                    if self.kind != "backward":
                        return self.prim.impl(*args, **self.params)
                    x = np.asarray(x, dtype=aval.dtype)  # (its tape is a kernel's: only this kernel reads it)
                converted.append(x if x.flags.c_contiguous else np.ascontiguousarray(x))
            else:
                if self.kind != "backward" and not isinstance(x, (np.ndarray, np.generic) + _PY_SCALARS):
                    return self.prim.impl(*args, **self.params)
                converted.append(aval.dtype.type(x))
        outs = self.kernel(*converted, *extra)
        if self.kind == "record":
            n = self.params["n_carry"]
            return [_array(o, d) for o, d in zip(outs[:n], self.out_dtypes)] + [_Recorded(outs[n:-1], outs[-1])]
        return [_array(o, d) for o, d in zip(outs, self.out_dtypes)]


def _array(o: Any, dtype: np.dtype) -> Any:
    return o if type(o) is np.ndarray else np.array(o, dtype=dtype)


def _emit(e: Eqn, args: list[str], bind: Callable[..., str]) -> str:
    return f"{bind(e.params['kernel'], 'loop')}({', '.join(args)})"


numba_loop_p = Primitive(
    "numba_loop",
    lambda *args, kernel: kernel(*args),
    multiple_results=True,
    emit=_emit,
    register=False,
)


def _signature(spec: _Kernel, with_length: bool) -> tuple:
    from numba import typeof
    from numba.core import types
    from numba.np.numpy_support import from_dtype

    sig: list[Any] = []
    for a in spec.in_avals:
        dt = from_dtype(np.dtype(a.dtype))
        sig.append(types.Array(dt, len(a.shape), "C") if a.shape else dt)
    sig.extend(typeof(v) for v in spec.extra)
    if with_length:
        sig.append(types.int64)
    return tuple(sig)


def compile_loops(program: Program, load: Callable[[str], Any], lock: Any) -> Program:
    """``program`` with each loop equation whose body translates replaced by a ``numba_loop``
    equation running the whole loop in one compiled kernel (``load(source)`` gives the kernel's
    Numba dispatcher): ``scan``, ``while``, and the recording and backward loops of a
    differentiated ``while`` when the tape goes from one to the others only (both become kernels,
    or neither). Other equations are left as they are."""
    if program.derived.get("foreign"):
        return program
    prims = _loop_prims()
    readers: dict[Var, list[Eqn]] = {}
    for e in program.eqns:
        for a in e.inputs:
            if type(a) is Var:
                readers.setdefault(a, []).append(e)
    returned = {a for a in program.outputs if type(a) is Var}
    new: dict[int, Eqn] = {}  # id of an equation -> its replacement
    for e in program.eqns:
        calls: list[tuple[Eqn, LoopCall | None]]
        if e.prim is prims.scan or e.prim is prims.while_:
            calls = [(e, _compile_loop(e, "scan" if e.prim is prims.scan else "while", load, lock))]
        elif e.prim is prims.record:
            tape = e.outs[-1]
            users = readers.get(tape, [])
            if tape in returned or not users or any(
                    u.prim is not prims.backward or len(u.inputs) <= u.params.get("n_ct", len(u.inputs))
                    or u.inputs[u.params["n_ct"]] is not tape or u.inputs.count(tape) != 1 for u in users):
                continue
            calls = [(e, _compile_loop(e, "record", load, lock))]
            calls += [(u, _compile_loop(u, "backward", load, lock)) for u in users if calls[-1][1] is not None]
        else:
            continue
        if all(call is not None for _, call in calls):
            new.update((id(old), Eqn(numba_loop_p, old.inputs, old.out, {"kernel": call})) for old, call in calls)
    if not new:
        return program
    return program.replace(eqns=[new.get(id(e), e) for e in program.eqns])


def _compile_loop(e: Eqn, kind: str, load: Callable[[str], Any], lock: Any) -> LoopCall | None:
    try:
        spec = _kernel_of(e)
    except Unsupported:
        return None  # not every operation has a translation: the loop runs as in the default backend
    try:
        kernel = load(spec.source)
        sig = _signature(spec, kind in ("scan", "backward"))
        with lock:
            if sig not in kernel.overloads:
                kernel.compile(sig)
    except Exception as exc:  # a kernel Numba cannot compile is a funcgrad bug: say so, stay correct
        warnings.warn(f"funcgrad's Numba backend could not compile a loop kernel ({type(exc).__name__}: "
                      f"{str(exc)[:300]}); the loop runs as in the NumPy backend instead. Please report this "
                      f"with the kernel source:\n{spec.source}", RuntimeWarning, stacklevel=3)
        return None
    return LoopCall(kernel, e, spec, kind)
