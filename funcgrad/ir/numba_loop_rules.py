"""Translations of single primitives into the statements of a Numba loop kernel
(:mod:`funcgrad.ir.numba_loop_source` writes the kernels; :mod:`funcgrad.ir.numba_loops` says
which loops become kernels).

Each rule appends, for one equation of a loop body, loops with constant bounds over static
shapes that write its result into a buffer allocated once (``w.buffer``), or a scalar for a 0-d
result; it raises :class:`Unsupported` for a case it does not translate, and the whole loop then
keeps the default backend's loop. Elementwise operations use :mod:`funcgrad.ir.fusion`'s templates
(in :meth:`KernelWriter.equation`); this module adds int64 arithmetic (loop counters), ``matmul``
(batch dimensions broadcast), ``sum`` and the 2-norm over axes, ``reshape``, ``transpose``, basic
indexing and updates through it, and ``concatenate``. Sums and products accumulate in order in the
result's dtype (NumPy sums pairwise, BLAS in blocks): the same values to rounding, for the small
arrays of loop bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..core import Primitive
from .fusion import _cast, _char, _descriptor, _Plan
from .program import Eqn, Var

if TYPE_CHECKING:
    from .numba_loop_source import KernelWriter

__all__ = ["Unsupported", "rules", "integer_plan"]


def _type_name(dtype: Any) -> str:
    """The NumPy scalar type of ``dtype`` as kernel source (``np.float64``, ``np.bool_``)."""
    d = np.dtype(dtype)
    return "np.bool_" if d.kind == "b" else f"np.{d.name}"


class Unsupported(Exception):
    """A body equation without a translation: the loop stays as the default backend runs it."""


# int64 arithmetic and comparisons (loop counters): Numba's int64 arithmetic wraps around as NumPy's does
_INTEGER_OPS = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})", "negative": "(-{0})",
                "less": "({0} < {1})", "less_equal": "({0} <= {1})", "greater": "({0} > {1})",
                "greater_equal": "({0} >= {1})", "equal": "({0} == {1})", "not_equal": "({0} != {1})",
                "maximum": "max({0}, {1})", "minimum": "min({0}, {1})"}


def integer_plan(e: Eqn) -> _Plan | None:
    """How a kernel computes an int64 ufunc equation (``i + 1``, ``i < n``), or None."""
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


def _matmul(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
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


def _reduce_sum(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str, norm: bool = False) -> None:
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


def _l2norm(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    _reduce_sum(w, e, names, lines, indent, norm=True)


def _reshape(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
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


def _transpose(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
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


def _getitem(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    x = e.inputs[0]
    if len(e.inputs) != 1 or type(x) is not Var or set(e.params) != {"spec"}:
        raise Unsupported("getitem")
    index, shape = _basic_index(e.params["spec"], x.aval.shape)
    if shape != e.out.aval.shape or _char(x.aval.dtype) != _char(e.out.aval.dtype):
        raise Unsupported("getitem")
    w.assign(e.out, f"{names[x]}[{', '.join(index)}]", names, lines, indent)


def _index_update(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str, add: bool) -> None:
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


def _index_add(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    _index_update(w, e, names, lines, indent, add=True)


def _index_set(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
    _index_update(w, e, names, lines, indent, add=False)


def _concatenate(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
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


_TABLE: dict[Primitive, Callable[..., None]] = {}


def rules() -> dict[Primitive, Callable[..., None]]:
    if not _TABLE:
        from ..prims import indexing, linalg, reductions, shape

        _TABLE.update({linalg.matmul_p: _matmul, reductions.reduce_sum_p: _reduce_sum, linalg.l2norm_p: _l2norm,
                       shape.reshape_p: _reshape, shape.transpose_p: _transpose, indexing.getitem_p: _getitem,
                       indexing.index_add_p: _index_add, indexing.index_set_p: _index_set,
                       shape.concatenate_p: _concatenate})
    return _TABLE
