"""Reverse mode: record a tape while the function runs, walk it backwards in the pullback.

The tape is a list indexed by node id (so in creation order); each entry is one flat tuple
(one allocation per operation, see ``_entry``): the primitive, its parameters, the residuals its
vjp rules declared (``Primitive.residuals``: some operands, the output, or nothing; undeclared
primitives keep all) and the tracked inputs (operand position, distance back to their node,
and shape/dtype when it differs from the output's). Residuals are references to arrays the
forward pass made anyway, never copies, and only the declared ones are kept, so a chain holds
one array and one small tuple per step.

The backward pass is one loop over the tape in reverse (no recursion, so chains of 100k
operations are fine). Cotangents live in a dict keyed by node id; each is dropped as soon as
it has been pushed to the node's inputs. Only the vjp rules of inputs that carry a derivative
run. Broadcasting and dtype promotion are undone here, once, for every primitive (a complex
cotangent reaching a real value keeps its real part).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import zeros_like_shape
from ..core import OUTPUT, Primitive, Trace, Tracer, ValueTracer, _level_counter
from ..errors import TracerConversionError
from ..prims import elementwise as _ew
from ..prims.elementwise import add
from ..prims.shape import cast_derivative, sum_to_shape

_PY_NUMBERS = (float, complex, int)
_PLAIN = (np.ndarray, np.generic, float, int, complex)  # operands that are neither tracers nor foreign arrays
_NDARRAY = np.ndarray
_UFUNC = np.ufunc
_PY_REALS = (float, int)
_F64 = np.dtype(np.float64)
_np_add = np.add  # add's impl: what add(a, b) computes when neither is a tracer (the eager backward pass)


class ReverseTracer(ValueTracer):
    """A value recorded on a reverse trace's tape: its primal and its node id. Made by
    :func:`reverse_tracer` (the hot paths set the three slots inline: a class without an
    ``__init__`` is instantiated at about half the cost)."""

    __slots__ = ("node",)
    node: int


def reverse_tracer(trace: ReverseTrace, primal: Any, node: int) -> ReverseTracer:
    t = ReverseTracer()
    t._trace = trace
    t.primal = primal
    t.node = node
    return t


class ReverseTrace(Trace):
    __slots__ = ("tape", "num_nodes", "nested")
    concrete_values = True

    def __init__(self) -> None:
        self.level = next(_level_counter)  # Trace.__init__, inlined (one trace per grad call)
        self.alive = True
        # Indexed by node id: the entry that made the node, None for inputs and for the second
        # and later outputs of a custom entry (which sits at its first output's node).
        self.tape: list[tuple | None] = []
        self.num_nodes = 0
        # Has an operand held a lower-level tracer (or a custom entry been recorded)? Until then
        # nothing on the tape is traced, and the backward pass may use the eager vjp rules.
        self.nested = False

    def new_input(self, value: Any) -> ReverseTracer:
        node = self.num_nodes
        self.num_nodes = node + 1
        self.tape.append(None)
        t = ReverseTracer()  # (reverse_tracer, inlined)
        t._trace = self
        t.primal = value
        t.node = node
        return t

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        if prim.vjp_all is None:
            # Fast paths for one operand, and for two with one of them tracked and the other a
            # plain array or number (most operations): the compact tape entries of _entry are
            # built inline. Everything else takes the general path, _process_general.
            n = len(args)
            if n == 1:
                a = args[0]
                if type(a) is ReverseTracer and a._trace is self:
                    x = a.primal
                    impl = prim.impl
                    if type(x) is _NDARRAY or not isinstance(x, Tracer):
                        out = impl(x, **params) if params else impl(x)  # (a call with **{} costs more)
                    else:
                        self.nested = True
                        out = prim.bind(x, **params)
                    if prim.nondiff:
                        return out
                    dt = out.dtype
                    if dt is not _F64 and dt.kind not in "fc":
                        if dt.kind == "O":
                            raise _object_output(prim)
                        return out
                    if prim.vjp is None:
                        raise _no_rule(prim, 0)
                    node = self.num_nodes
                    self.num_nodes = node + 1
                    reads = prim.residuals
                    if reads is None:
                        kept_out, kept_x = out, x
                    else:
                        r = reads[0]
                        kept_out, kept_x = out if OUTPUT in r else None, x if 0 in r else None
                    # Shaped and typed like the output? A ufunc of one array keeps its shape, so
                    # then the dtype says it (identity: NumPy's built-in dtypes are singletons).
                    if (dt is x.dtype and type(impl) is _UFUNC and not params
                            or x.shape == out.shape and (x.dtype is dt or x.dtype == dt)):
                        if params:
                            self.tape.append((prim, params, kept_out, 1, kept_x, 0, node - a.node, None))
                        else:
                            self.tape.append((prim, kept_out, kept_x, node - a.node))
                    else:
                        self.tape.append((prim, params or _NO_PARAMS, kept_out, 1, kept_x, 0, node - a.node,
                                          (x.shape, x.dtype)))
                    t = ReverseTracer()
                    t._trace = self
                    t.primal = out
                    t.node = node
                    return t
            elif n == 2:
                a, b = args
                ta = type(a) is ReverseTracer and a._trace is self
                tb = type(b) is ReverseTracer and b._trace is self
                if ta and tb:  # both tracked (x * y): _entry's general form, built inline
                    x, y = a.primal, b.primal
                    if not isinstance(x, Tracer) and not isinstance(y, Tracer):
                        out = prim.impl(x, y, **params) if params else prim.impl(x, y)
                        if prim.nondiff:
                            return out
                        dt = out.dtype
                        if dt.kind not in "fc":
                            if dt.kind == "O":
                                raise _object_output(prim)
                            return out
                        if prim.vjp is None:
                            raise _no_rule(prim, 0)
                        node = self.num_nodes
                        self.num_nodes = node + 1
                        reads = prim.residuals
                        if reads is None:
                            kept_out, kx, ky = out, x, y
                        else:
                            r0, r1 = reads
                            kept_out = out if OUTPUT in r0 or OUTPUT in r1 else None
                            kx = x if 0 in r0 or 0 in r1 else None
                            ky = y if 1 in r0 or 1 in r1 else None
                        so, dx, dy = out.shape, x.dtype, y.dtype
                        self.tape.append((prim, params or _NO_PARAMS, kept_out, 2, kx, ky,
                                          0, node - a.node, None if x.shape == so and dx == dt else (x.shape, dx),
                                          1, node - b.node, None if y.shape == so and dy == dt else (y.shape, dy)))
                        t = ReverseTracer()
                        t._trace = self
                        t.primal = out
                        t.node = node
                        return t
                elif ta or tb:  # exactly one tracked: v its value, c the other operand
                    if ta:
                        i, src, c = 0, a, b
                        x = v = a.primal
                        y = b
                    else:
                        i, src, c = 1, b, a
                        x = a
                        y = v = b.primal
                    tc = type(c)
                    if tc in _PY_REALS or isinstance(c, _PLAIN):
                        impl = prim.impl
                        if type(v) is _NDARRAY or not isinstance(v, Tracer):
                            out = impl(x, y, **params) if params else impl(x, y)
                        else:
                            self.nested = True
                            out = prim.bind(x, y, **params)
                        if prim.nondiff:
                            return out
                        dt = out.dtype
                        if dt is not _F64 and dt.kind not in "fc":
                            if dt.kind == "O":
                                raise _object_output(prim)
                            return out
                        if prim.vjp is None:
                            raise _no_rule(prim, i)
                        node = self.num_nodes
                        self.num_nodes = node + 1
                        # Shaped and typed like the output? A ufunc of an array and a Python number
                        # keeps the array's shape, so then the dtype says it (as for one operand).
                        if not params and (dt is v.dtype and tc in _PY_REALS and type(impl) is _UFUNC
                                           or v.shape == out.shape and (v.dtype is dt or v.dtype == dt)):
                            reads = prim.residuals
                            if reads is None:
                                self.tape.append((prim, out, x, y, i, node - src.node))
                            else:
                                r = reads[i]
                                self.tape.append((prim, out if OUTPUT in r else None, x if 0 in r else None,
                                                  y if 1 in r else None, i, node - src.node))
                        else:
                            self.tape.append(_entry(prim, params or _NO_PARAMS, [i, src.node], [x, y], out, node))
                        t = ReverseTracer()
                        t._trace = self
                        t.primal = out
                        t.node = node
                        return t
        return self._process_general(prim, args, params)

    def _process_general(self, prim: Primitive, args: tuple, params: dict) -> Any:
        primals = list(args)
        tracked: list[Any] = []  # flat: operand position, node id, operand position, node id, ...
        nested = False  # does any operand still hold a lower-level tracer?
        i = 0
        for a in args:
            t = type(a)
            if t is ReverseTracer and a._trace is self:
                tracked += (i, a.node)
                a = primals[i] = a.primal
                t = type(a)
            if t is not _NDARRAY and t not in _PY_NUMBERS and isinstance(a, Tracer):
                nested = True
            i += 1
        if nested:
            self.nested = True
        if prim.vjp_all is not None:
            mask = [False] * len(primals)
            for k in range(0, len(tracked), 2):
                mask[tracked[k]] = True
            outs, bwd = prim.vjp_all(primals, tuple(mask), **params)
            if not prim.multiple_results:
                return self.record_custom(args, [outs], bwd)[0]
            return self.record_custom(args, list(outs), bwd)
        out = prim.bind(*primals, **params) if nested else prim.impl(*primals, **params)
        if prim.nondiff or out.dtype.kind not in "fc":
            if not prim.nondiff and out.dtype.kind == "O":
                raise _object_output(prim)
            return out
        if prim.vjp is None:
            raise _no_rule(prim, tracked[0])
        node = self.num_nodes
        self.num_nodes = node + 1
        self.tape.append(_entry(prim, params or _NO_PARAMS, tracked, primals, out, node))
        return reverse_tracer(self, out, node)

    def record_custom(self, inputs: Sequence[Any], out_primals: Sequence[Any],
                      bwd: Callable[[list], Sequence[Any]]) -> list:
        """Record an operation with its own backward function (custom_vjp, checkpoint).

        ``inputs`` are the operation's operands (this trace's tracers among them are tracked);
        ``bwd(cts)`` gets one cotangent per output (zeros filled in where none arrived) and
        returns one cotangent (or None) per operand. Returns the outputs, floating-point ones
        wrapped as tracers.
        """
        tracked = []
        primals = []
        for i, a in enumerate(inputs):
            if type(a) is ReverseTracer and a._trace is self:
                tracked.append(i)
                tracked.append(a.node)
                a = a.primal
            primals.append(a)
        outs = []
        nodes = []
        for o in out_primals:
            if tracked and o.dtype.kind in "fcO":  # "O": a while loop's tape (its cotangent is a tape)
                nodes.append(self.num_nodes)
                outs.append(reverse_tracer(self, o, self.num_nodes))
                self.num_nodes += 1
            else:
                nodes.append(-1)
                outs.append(o)
        first = True
        for n in nodes:
            if n >= 0:
                self.tape.append((None, bwd, tracked, primals, list(out_primals), nodes) if first else None)
                first = False
        return outs


_NO_PARAMS: dict = {}  # shared by every entry without parameters (never mutated)


def _entry(prim: Primitive, params: dict, tracked: list, primals: list, out: Any, node: int) -> tuple:
    """One flat tape entry (stored at index ``node`` of the tape).

    The general form is ``(prim, params, kept output, n, kept operand 0..n-1, then (position,
    distance back to the source node, shape-and-dtype) per tracked operand)``. Two compact forms
    cover most operations: ``(prim, kept output, kept x, back)`` for one operand and
    ``(prim, kept output, kept x, kept y, position, back)`` for two operands with one tracked,
    both without parameters and with the tracked operand shaped like the output. Distances back
    are mostly small ints (CPython shares those), so a long chain costs one small tuple per step.

    Only the residuals the rules of the tracked operands declare (``prim.residuals``) are kept;
    the others are ``None``. The shape and dtype of a tracked operand are kept (as a small
    tuple) only when they differ from the output's: the cotangent, shaped like the output, then
    tells the backward pass what to sum and cast the operand's cotangent to.
    """
    reads = prim.residuals
    n = len(primals)
    if len(tracked) == 2:  # one operand differentiated: the common case, without loops
        i = tracked[0]
        back = node - tracked[1]
        x = primals[i]
        shape, dtype = x.shape, x.dtype
        meta = None if shape == out.shape and (dtype is out.dtype or dtype == out.dtype) else (shape, dtype)
        if reads is None:
            kept_out, kept = out, primals
        else:
            r = reads[i]
            kept_out = out if OUTPUT in r else None
            if n == 1:
                kept = [x if 0 in r else None]
            elif n == 2:
                kept = [primals[0] if 0 in r else None, primals[1] if 1 in r else None]
            else:
                kept = [p if j in r else None for j, p in enumerate(primals)]
        if meta is None and params is _NO_PARAMS:
            if n == 1:
                return (prim, kept_out, kept[0], back)
            if n == 2:
                return (prim, kept_out, kept[0], kept[1], i, back)
        return (prim, params, kept_out, n, *kept, i, back, meta)
    links: list[Any] = []
    if reads is None:  # undeclared: keep every operand and the output
        kept_out = out
        kept = primals
    else:
        kept_out = None
        kept = [None] * n
        for k in range(0, len(tracked), 2):
            for j in reads[tracked[k]]:
                if j < 0:
                    kept_out = out
                else:
                    kept[j] = primals[j]
    for k in range(0, len(tracked), 2):
        x = primals[tracked[k]]
        shape, dtype = x.shape, x.dtype
        meta = None if shape == out.shape and dtype == out.dtype else (shape, dtype)
        links += (tracked[k], node - tracked[k + 1], meta)
    return (prim, params, kept_out, n, *kept, *links)


def _unpack(entry: tuple) -> tuple[dict, Any, tuple, tuple]:
    """``(params, kept output, kept operands, links)`` of a primitive's tape entry, any form."""
    size = len(entry)
    if size == 4:
        return _NO_PARAMS, entry[1], (entry[2],), (0, entry[3], None)
    if size == 6:
        return _NO_PARAMS, entry[1], (entry[2], entry[3]), (entry[4], entry[5], None)
    start = 4 + entry[3]
    return entry[1], entry[2], entry[4:start], entry[start:]


def _no_rule(prim: Primitive, operand: int) -> NotImplementedError:
    return NotImplementedError(
        f"reverse-mode differentiation of {prim.name} with respect to operand {operand} is not "
        "implemented; wrap that operand in funcgrad.stop_gradient if it needs no derivative."
    )


def _object_output(prim: Primitive) -> TracerConversionError:
    # Derivatives live in float and complex arrays (an object-dtype input is refused as a leaf); an
    # object array made from a differentiated value would carry none: refused, never a silent zero.
    return TracerConversionError(
        f"{prim.name} made an array of dtype object from a value being differentiated (reverse mode): funcgrad "
        "differentiates arrays of numbers (float or complex), so its derivative would be lost. Keep the values in a "
        "float or complex array (e.g. x.astype(float), not x.astype(object)), or apply funcgrad.stop_gradient to "
        "the operand if no derivative should flow through it."
    )


def backward(trace: ReverseTrace, seeds: Sequence[tuple[int, Any]], wanted: Sequence[int]) -> list:
    """Push the seed cotangents ``(node, ct)`` back through the tape; return those of ``wanted``.

    Entries of the result are ``None`` where no cotangent reached the node.
    """
    tape = trace.tape
    # node -> cotangent, only while it is live (a chain holds one or two: a dict, not a list as
    # long as the tape, so that the backward pass adds no memory per node).
    cts: dict[int, Any] = {}
    # Nothing traced on the tape nor among the cotangents: the eager rules (Primitive.vjp_eager)
    # apply. A custom entry's backward function may still hand back a traced value.
    eager = not trace.nested
    for node, ct in seeds:
        if isinstance(ct, Tracer):
            eager = False
        prev = cts.get(node)
        cts[node] = ct if prev is None else add(prev, ct)
    pop = cts.pop
    # The cotangent of the next node with one, handed on by the entry just processed without going
    # through cts: in a chain it is the only live one (set only while cts is empty).
    carry = None
    # The shape and dtype of the cotangent being handed down a chain of compact entries (each
    # one's operand is shaped and typed like its output, so all these cotangents are alike):
    # read from the first, then known; None when not read yet.
    cshape: tuple[int, ...] | None = None
    cdtype: Any = None
    nodes = iter(range(len(tape) - 1, -1, -1))
    run_below = len(tape)  # chains in runs (_fused_run) are tried below this node
    for node in nodes:
        entry = tape[node]
        if entry is None:  # an input (or a later output of a custom entry): kept for the caller
            if carry is not None:
                cts[node] = carry
                carry = None
            continue
        prim = entry[0]
        if prim is None:  # a custom entry: (None, bwd, tracked, primals, outs, nodes)
            if carry is not None:
                cts[node] = carry
                carry = None
            if _custom_backward(cts, *entry[1:]):
                eager = False
            continue
        if carry is not None:
            ct = carry
            carry = None
        else:
            ct = pop(node, None)  # consumed: released
            if ct is None:
                continue
            cshape = None
        size = len(entry)
        # The compact forms (see _entry) without building tuples: one operand, or two with one
        # tracked; both without parameters and with the operand shaped like the output (so like ct).
        if size == 4 or size == 6:
            if size == 4:
                _, kept_out, kept_x, back = entry
                # (a run needs the entries 1 and 3 below compact too: a cheap test first)
                if back == 1 and _FUSED_MIN <= node < run_below and 3 < len(tape[node - 1] or ()) < 7 \
                        and 3 < len(tape[node - 3] or ()) < 7 and eager and prim.product_rule is not None and not cts \
                        and type(ct) is _NDARRAY:
                    done, g = _fused_run(tape, node, ct)
                    if done > 0:  # entries node .. node - done + 1 are done: g is the cotangent of node - done
                        for _ in range(done - 1):
                            next(nodes)
                        carry = g
                        continue
                    run_below = node + done  # (no run: none starts above node - done either)
                rule = (prim.vjp_eager if eager else prim.vjp)[0]  # type: ignore[index]  # entries have rules
                if rule is None:
                    raise _no_rule(prim, 0)
                g = rule(ct, kept_out, kept_x)
            else:
                _, kept_out, kept_x, kept_y, i, back = entry
                rule = (prim.vjp_eager if eager else prim.vjp)[i]  # type: ignore[index]
                if rule is None:
                    raise _no_rule(prim, i)
                g = rule(ct, kept_out, kept_x, kept_y)
            if g is not ct:
                if cshape is None:
                    cshape, cdtype = ct.shape, ct.dtype
                if type(g) is not _NDARRAY and type(g) in _PY_NUMBERS:  # NumPy scalar arithmetic can give these
                    g = np.asarray(g)
                if g.shape != cshape:
                    g = sum_to_shape(g, cshape)
                dt = g.dtype
                if dt is not cdtype and dt != cdtype:
                    g = cast_derivative(g, cdtype)
            if not cts:
                # The only live cotangent: handed on, past the nodes in between (none of them has a
                # cotangent, as none is pending: their entries would do nothing).
                carry = g
                if back != 1:
                    for _ in range(back - 1):
                        next(nodes)
            else:
                src = node - back
                prev = cts.get(src)
                cts[src] = g if prev is None else _np_add(prev, g) if eager else add(prev, g)
            continue
        if size == 8 and entry[3] == 1:  # one operand, with parameters or reshaped (sum, reshape, getitem)
            rule = (prim.vjp_eager if eager else prim.vjp)[0]  # type: ignore[index]
            if rule is None:
                raise _no_rule(prim, 0)
            params = entry[1]
            g = rule(ct, entry[2], entry[4], **params) if params else rule(ct, entry[2], entry[4])
            if type(g) in _PY_NUMBERS:
                g = np.asarray(g)
            meta = entry[7]
            shape, dtype = (ct.shape, ct.dtype) if meta is None else meta
            if g.shape != shape:
                g = sum_to_shape(g, shape)
            if g.dtype != dtype:
                g = cast_derivative(g, dtype)
            src = node - entry[6]
            prev = cts.get(src)
            cts[src] = g if prev is None else _np_add(prev, g) if eager else add(prev, g)
            continue
        start = 4 + entry[3]
        params, out, primals, links = entry[1], entry[2], entry[4:start], entry[start:]
        vjps = prim.vjp_eager if eager else prim.vjp
        ct_meta: tuple | None = None  # (ct.shape, ct.dtype), read once
        for k in range(0, len(links), 3):
            i = links[k]
            rule = vjps[i]  # type: ignore[index]
            if rule is None:
                raise _no_rule(prim, i)
            g = rule(ct, out, *primals, **params) if params else rule(ct, out, *primals)
            if type(g) is not _NDARRAY and type(g) in _PY_NUMBERS:
                g = np.asarray(g)
            meta = links[k + 2]
            if meta is None:
                if ct_meta is None:
                    ct_meta = (ct.shape, ct.dtype)
                meta = ct_meta
            shape, dtype = meta
            if g.shape != shape:
                g = sum_to_shape(g, shape)
            dt = g.dtype
            if dt is not dtype and dt != dtype:
                g = cast_derivative(g, dtype)
            src = node - links[k + 1]
            prev = cts.get(src)
            cts[src] = g if prev is None else _np_add(prev, g) if eager else add(prev, g)
    if len(wanted) == 1:
        return [cts.get(wanted[0])]
    return [cts.get(n) for n in wanted]


# Primitives declaring a ``product_rule`` h (their eager vjp rule is ``ct * h(x, out)``, h
# elementwise: NumPy ufuncs and arithmetic on the residuals only; see Primitive). Down a chain of
# them, h of a whole run of entries is computed at once on their stacked residuals (one call per
# run instead of one per entry), and the cotangent is multiplied by each row in turn: the same
# multiplications in the same order, so the same bits (tests/test_eager_fast_paths.py checks every
# primitive declaring one against its rule applied entry by entry).
_FUSED_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_FUSED_ELEMENTS = 2048  # elements per stacked run: small arrays only (a run's h is a few temporaries)
_FUSED_MIN = 4  # shorter runs go entry by entry


def _fused_run(tape: list, node: int, ct: np.ndarray) -> tuple[int, Any]:
    """Push ``ct`` (eager, the only live cotangent) down the chain of compact entries starting at
    ``node`` (one-operand entries with a ``product_rule`` and ``x * number``, each reading the node
    just below) in one go. Returns ``(entries done, cotangent of the node below them)``; where
    there is no such chain of at least ``_FUSED_MIN`` entries, ``(-k, None)`` with ``k`` the
    length of the shorter one (so no run starts above ``node - k`` either), and ``(-1, None)``
    where ``ct`` is 0-d, empty, large or not a real float array."""
    size = ct.size
    if not 0 < size <= _FUSED_ELEMENTS // _FUSED_MIN or not ct.ndim or ct.dtype not in _FUSED_FLOATS:
        return -1, None
    lo = max(node + 1 - _FUSED_ELEMENTS // size, 1)
    run: list[Any] = []  # per entry, top down: the entry (one operand) or the number multiplying x
    first = tape[node][0]
    alike = True  # every entry of the run one of `first`'s (a tanh chain)?
    for e in reversed(tape[lo:node + 1]):
        if e is None:
            break
        if len(e) == 4:
            prim = e[0]
            if prim is not first:
                if prim.product_rule is None:
                    break
                alike = False
            if e[3] != 1 or type(e[1] if e[2] is None else e[2]) is not _NDARRAY:
                break
            run.append(e)
        elif len(e) == 6 and e[0] is _ew.mul_p and e[5] == 1:
            c = e[3] if e[4] == 0 else e[2]  # x * c (rule: ct * c) or c * x (rule: c * ct)
            if type(c) is not float and type(c) is not int:
                break
            run.append(c)
            alike = False
        else:
            break
    k = len(run)
    if k < _FUSED_MIN:
        return -max(k, 1), None
    shape = ct.shape
    g = ct
    if alike:
        for h in _rows_of_h(first, run, shape):
            g = g * h
        return k, g
    rows = {p: _rows_of_h(p, [e for e in run if type(e) is tuple and e[0] is p], shape)
            for p in {e[0] for e in run if type(e) is tuple}}
    for e in run:
        g = g * (next(rows[e[0]]) if type(e) is tuple else e)
    return k, g


def _rows_of_h(prim: Primitive, entries: list, shape: tuple) -> Any:
    """The rows of ``h(x, out)`` (``prim.product_rule``) for ``entries`` of ``prim``, computed at
    once on their stacked residuals."""
    h = prim.product_rule
    assert h is not None  # (entries of a run have one)
    first = entries[0]
    outs = None if first[1] is None else np.concatenate([e[1] for e in entries]).reshape((-1,) + shape)
    xs = None if first[2] is None else np.concatenate([e[2] for e in entries]).reshape((-1,) + shape)
    return iter(h(xs, outs))


def _custom_backward(cts: dict, bwd: Callable[[list], Sequence[Any]], tracked: list, primals: list,
                     outs: list, nodes: list) -> bool:
    """Run a custom entry's backward function; True if it handed back a traced cotangent."""
    out_cts = []
    arrived = False
    for o, n in zip(outs, nodes):
        ct = cts.pop(n, None) if n >= 0 else None
        if ct is not None:
            arrived = True
        # A rule asking for symbolic zeros (``bwd.symbolic_zeros``) gets None where none arrived.
        if ct is None and not getattr(bwd, "symbolic_zeros", False):
            ct = zeros_like_shape(o, np.shape(o), o.dtype)  # in o's library (Dask, CuPy)
        out_cts.append(ct)
    if not arrived:
        return False
    in_cts = bwd(out_cts)
    traced = False
    for k in range(0, len(tracked), 2):
        g = in_cts[tracked[k]]
        if type(g) in _PY_NUMBERS:
            g = np.asarray(g)
        if g is not None:
            if isinstance(g, Tracer):
                traced = True
            _push(cts, tracked[k + 1], g, primals[tracked[k]])
    return traced


def _push(cts: dict, src: int, g: Any, x: Any) -> None:
    """Add cotangent ``g`` of operand ``x`` to node ``src``'s, summed to ``x``'s shape and cast
    to its dtype (undoing broadcasting and promotion)."""
    if g.shape != x.shape:
        g = sum_to_shape(g, x.shape)
    if g.dtype != x.dtype:
        g = cast_derivative(g, x.dtype)
    prev = cts.get(src)
    cts[src] = g if prev is None else add(prev, g)


def held_residuals(trace: ReverseTrace) -> list[tuple[str, bool, tuple[int, ...]]]:
    """What the tape of ``trace`` holds, entry by entry: ``(primitive name, output kept?,
    positions of the operands kept)`` (custom entries: ``("custom", True, all operands)``).
    For tests and for inspecting memory use."""
    held = []
    for entry in trace.tape:
        if entry is None:
            continue
        if entry[0] is None:
            held.append(("custom", True, tuple(range(len(entry[3])))))
            continue
        _, out, primals, _ = _unpack(entry)
        held.append((entry[0].name, out is not None, tuple(i for i, p in enumerate(primals) if p is not None)))
    return held


def held_arrays(trace: ReverseTrace) -> list:
    """Every array (or lower-level value) the tape of ``trace`` keeps as a residual."""
    found = []
    for entry in trace.tape:
        if entry is None:
            continue
        if entry[0] is None:
            found += [*entry[3], *entry[4]]
            continue
        _, out, primals, _ = _unpack(entry)
        found += [v for v in (out, *primals) if v is not None]
    return found
