"""The source of a Numba kernel running a whole loop (a ``scan``, a ``while`` loop, the recording
and backward loops of a differentiated ``while``), for :mod:`funcgrad.ir.numba_loops`.

Shapes are static in a program, so the kernel writes every intermediate of the body into a
buffer allocated once, before the loop, and each equation is a nest of loops with constant
bounds (LLVM unrolls and vectorises the small ones); 0-d values are scalars. Array carries live
in two buffers swapped every step (a new carry may be an old one), per-step outputs are written
into preallocated stacks, and loops inside the body are inlined the same way. The equations are
translated by :mod:`funcgrad.ir.numba_loop_rules`; the source never contains user text (the
literals and the body's constants are kernel arguments).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..core import Primitive
from .fusion import _cast, _char, plan
from .numba_loop_rules import Unsupported, _index, _loops, _shape_source, _type_name, integer_plan, rules
from .program import Eqn, Literal, Program, ShapedArray, Var

__all__ = ["KernelSpec", "KernelWriter", "kernel_spec", "loop_kernel_source", "loop_prims"]


class KernelWriter:
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
        prims = loop_prims()
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
        rule = rules().get(e.prim)
        if rule is not None:
            rule(self, e, names, lines, indent)
            return
        p = plan(e) or integer_plan(e)
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


# --- loops inside a loop body: inlined in the kernel ---------------------------------------------


def _nested_carries(w: KernelWriter, inits: tuple, avals: list, names: dict, lines: list[str],
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


def _nested_scan(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
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


def _nested_while(w: KernelWriter, e: Eqn, names: dict, lines: list[str], indent: str) -> None:
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


# --- kernels ------------------------------------------------------------------------------------


class KernelSpec:
    """A loop kernel's source and how to call it: the loop operands' avals, then the literals
    (and, for ``scan``, the length)."""

    def __init__(self, source: str, in_avals: list, extra: list) -> None:
        self.source, self.in_avals, self.extra = source, in_avals, extra


def _start(n_args: int, in_avals: list, n_carry: int) -> tuple[KernelWriter, list[str], list[str], list[str | None]]:
    """The writer, the kernel's first lines (carries copied into buffers the loop owns), the
    carry names and the names of their swap buffers (None for 0-d carries)."""
    w = KernelWriter([f"a{i}" for i in range(n_args)])
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


def _update_carries(w: KernelWriter, outs: list, carries: list[str], spares: list, names: dict, lines: list[str],
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


def scan_kernel(body: Program, n_carry: int, n_xs: int, reverse: bool, in_avals: list) -> KernelSpec:
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
    return KernelSpec("\n".join(lines) + "\n", list(in_avals), list(w.literal_values))


def while_kernel(cond: Program, body: Program, n_carry: int, n_cconsts: int, in_avals: list,
                 record: bool = False) -> KernelSpec:
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
    return KernelSpec("\n".join(lines) + "\n", list(in_avals), list(w.literal_values))


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
        return kernel_spec(e).source
    except Unsupported:
        return None


class _Prims(NamedTuple):
    scan: Primitive
    while_: Primitive
    record: Primitive  # the recording loop of a differentiated while loop
    backward: Primitive  # its backward loop


def loop_prims() -> _Prims:
    from ..control import scan_p, while_bwd_p, while_fwd_p, while_p  # (lazily: control imports the IR)

    return _Prims(scan_p, while_p, while_fwd_p, while_bwd_p)


_SCAN_PARAMS = frozenset({"body", "n_carry", "n_xs", "length", "reverse", "unroll"})  # (unroll: same results)
_WHILE_PARAMS = frozenset({"cond", "body", "n_carry", "n_cconsts"})
_RECORD_PARAMS = frozenset({"cond", "body", "primal_body", "n_carry", "n_cconsts", "checkpoint", "tape_size"})
_BACKWARD_PARAMS = frozenset({"bwd", "fwd", "n_ct", "n_const_res", "n_carry"})


def kernel_spec(e: Eqn) -> KernelSpec:
    prims = loop_prims()
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
