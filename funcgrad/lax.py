"""Structured control flow with JAX's signatures: ``cond``, ``switch``, ``fori_loop``, ``scan``
and ``while_loop``.

How each one runs depends on what is known about the value that decides:

* **Concrete** (plain values, and values under ``grad``/``vjp``/``jvp``, which are concrete):
  ordinary Python control flow. Only the chosen branch runs, loops run exactly their trip
  count, and derivatives flow through exactly what ran.
* **Batched** (``vmap`` with a predicate that differs across examples): ``cond``/``switch``
  evaluate *every* branch and select per example with ``funcgrad.numpy.where``; ``while_loop``
  keeps stepping while *any* example continues and freezes the finished ones with ``where``.
* **Abstract** (``jit``): ``cond``/``switch`` again evaluate every branch and select with
  ``where``. ``fori_loop`` with concrete bounds and ``scan`` unroll into the program (compile
  time grows with the trip count). ``while_loop`` (and ``fori_loop`` with traced bounds) is
  staged as ONE equation holding compiled ``cond_fun``/``body_fun`` sub-programs, run by a
  Python ``while`` loop at call time.

Because a selecting ``cond``/``switch`` runs every branch, a branch that produces ``inf``/``nan``
for the examples it does not apply to can still poison their gradients (``0 * inf``), as in JAX.

A branch or loop body that changes the tree structure, shape or dtype of its output/carry raises
:class:`ControlFlowTypeError` naming the leaf that changed.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import numpy as fnp
from .core import Primitive, Tracer
from .errors import ControlFlowTypeError
from .ir.program import ShapedArray, TupleAval
from .traces.batching import BatchTrace, BatchTracer
from .traces.staging import StagedTracer, StagingTrace, eval_program, rerun_rules, trace_to_program, tuple_get_p
from .tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

__all__ = ["cond", "switch", "fori_loop", "scan", "while_loop", "ControlFlowTypeError"]

_PY_SCALARS = (bool, int, float, complex)


# --- what is known about a value -----------------------------------------------------------------

_CONCRETE, _BATCHED, _STAGED = "concrete", "batched", "staged"


def _kind(x: Any) -> tuple[str, Any]:
    """(kind, concrete value or None): staged if an abstract (jit) value lies beneath ``x``,
    batched if a vmap batch does (its value then is the whole batch), else concrete."""
    batched = False
    v = x
    while isinstance(v, Tracer):
        if isinstance(v, StagedTracer):
            return _STAGED, None
        if isinstance(v, BatchTracer):
            batched = True
            v = v.val
        else:
            v = v.primal
    return (_BATCHED if batched else _CONCRETE), v


def _info(x: Any) -> tuple[tuple, np.dtype, bool]:
    """(shape, dtype, weak) of a leaf; Python scalars are weakly typed."""
    if type(x) in _PY_SCALARS:
        return (), np.asarray(x).dtype, True
    if isinstance(x, Tracer):
        return tuple(x.shape), np.dtype(x.dtype), False
    a = np.asarray(x)
    return a.shape, a.dtype, False


def _check_match(what: str, ref: Any, new: Any, ref_name: str, new_name: str) -> None:
    """Raise ControlFlowTypeError unless ``new`` has ``ref``'s tree, shapes and dtypes."""
    ref_leaves, ref_tree = tree_flatten_with_path(ref)
    new_leaves, new_tree = tree_flatten_with_path(new)
    if ref_tree != new_tree:
        raise ControlFlowTypeError(
            f"{what}: {new_name} has tree structure {new_tree}, but {ref_name} has {ref_tree}; "
            "they must be the same.")
    for (path, a), (_, b) in zip(ref_leaves, new_leaves):
        sa, da, wa = _info(a)
        sb, db, wb = _info(b)
        where = keystr(path, "value") if path else "the value"
        if sa != sb:
            raise ControlFlowTypeError(
                f"{what}: {where} has shape {sa} in {ref_name} but {sb} in {new_name}; "
                "shapes must not change.")
        if da != db and not (wa or wb):
            raise ControlFlowTypeError(
                f"{what}: {where} has dtype {da} in {ref_name} but {db} in {new_name}; dtypes must "
                "not change (cast with .astype).")


def _scalar_pred(p: Any, what: str) -> Any:
    if _info(p)[0] != ():
        raise ControlFlowTypeError(f"{what} must be a scalar, got shape {_info(p)[0]}.")
    return p


# --- cond and switch -----------------------------------------------------------------------------


def _select(index: Any, outs: Sequence[Any], what: str) -> Any:
    """Per leaf, outs[index] (index is 0-d, clamped) with funcgrad.numpy.where."""
    for k in range(1, len(outs)):
        _check_match(what, outs[0], outs[k], "branch 0", f"branch {k}")
    flat = [tree_flatten(o)[0] for o in outs]
    tree = tree_flatten(outs[0])[1]
    result = []
    for j in range(len(flat[0])):
        r = flat[-1][j]
        for k in range(len(outs) - 2, -1, -1):
            r = fnp.where(index <= k, flat[k][j], r)
        result.append(r)
    return tree_unflatten(tree, result)


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Apply ``branches[index](*operands)``; ``index`` is clamped to ``[0, len(branches) - 1]``.

    With a concrete ``index`` only that branch runs (and derivatives flow through it). Under
    ``vmap`` with a batched index, or under ``jit``, *every* branch runs and the outputs are
    selected per leaf with ``funcgrad.numpy.where``; branches must then return the same tree
    structure, shapes and dtypes (:class:`ControlFlowTypeError` otherwise).

    >>> import funcgrad.lax as lax
    >>> lax.switch(1, [lambda x: x + 1.0, lambda x: x * 10.0], 2.0)
    20.0
    """
    branches = list(branches)
    if not branches:
        raise ValueError("switch needs at least one branch")
    _scalar_pred(index, "switch's index")
    dtype = np.asarray(index).dtype if not isinstance(index, Tracer) else np.dtype(index.dtype)
    if dtype.kind not in "iu":
        raise ControlFlowTypeError(
            f"switch's index must be an integer, got dtype {dtype}; round or cast it first "
            "(e.g. fnp.astype(i, int)), so every path picks the same branch.")
    kind, value = _kind(index)
    if kind == _CONCRETE:
        i = int(np.clip(int(value), 0, len(branches) - 1))
        return branches[i](*operands)
    if len(branches) == 1:
        return branches[0](*operands)
    outs = [b(*operands) for b in branches]
    return _select(index, outs, "switch")


def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], *operands: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``; ``pred`` is a scalar.

    With a concrete ``pred`` (plain values, or under ``grad``/``vjp``/``jvp``) only the chosen
    branch runs. Under ``vmap`` with a batched ``pred``, or under ``jit``, *both* branches run and
    the results are selected with ``funcgrad.numpy.where`` (so both must return the same tree
    structure, shapes and dtypes; :class:`ControlFlowTypeError` otherwise).

    >>> import funcgrad.lax as lax
    >>> lax.cond(3.0 > 0, lambda x: x * 2.0, lambda x: -x, 3.0)
    6.0
    """
    _scalar_pred(pred, "cond's predicate")
    kind, value = _kind(pred)
    if kind == _CONCRETE:
        return true_fun(*operands) if bool(value) else false_fun(*operands)
    t = true_fun(*operands)
    f = false_fun(*operands)
    _check_match("cond", t, f, "true_fun's output", "false_fun's output")
    tl, tree = tree_flatten(t)
    fl = tree_flatten(f)[0]
    return tree_unflatten(tree, [fnp.where(pred, a, b) for a, b in zip(tl, fl)])


# --- fori_loop and scan --------------------------------------------------------------------------


def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    """``for i in range(lower, upper): val = body_fun(i, val)``; returns ``val``.

    With concrete bounds this is a Python loop, under every transformation (under ``jit`` it
    unrolls: the program holds one copy of the body per iteration, so compile time grows with
    the trip count — use traced bounds or ``while_loop`` for long loops). With bounds that are
    abstract (``jit``) or batched (``vmap``) it becomes a :func:`while_loop`, with that
    function's limits (no reverse-mode derivative of a staged loop).

    >>> import funcgrad.lax as lax
    >>> lax.fori_loop(0, 4, lambda i, s: s + i, 0)
    6
    """
    lk, lv = _kind(lower)
    uk, uv = _kind(upper)
    if lk == _CONCRETE and uk == _CONCRETE:
        val = init_val
        for i in range(int(lv), int(uv)):
            new = body_fun(i, val)
            _check_match("fori_loop", val, new, "the carry going in", "body_fun's output")
            val = new
        return val
    # Traced bounds: a while loop over (i, upper, val), with i and upper of one integer dtype.
    i0 = lower + upper * 0
    hi = upper + lower * 0

    def body(c: tuple) -> tuple:
        i, h, v = c
        return i + 1, h, body_fun(i, v)

    return while_loop(lambda c: c[0] < c[1], body, (i0, hi, init_val))[2]


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: int | None = None,
         reverse: bool = False) -> tuple[Any, Any]:
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (a pytree, or None with
    ``length``); return the final carry and the ``y``s stacked along a new leading axis.

    A Python loop, so it works under ``grad``, ``jvp``, ``vmap`` and ``jit`` (where it unrolls:
    compile time grows with the length). With ``reverse=True`` the steps go from the last
    element to the first, and ``ys[i]`` is still the output of the step that saw ``xs[i]``.

    >>> import numpy as np, funcgrad.lax as lax
    >>> carry, ys = lax.scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
    >>> float(carry), ys
    (6.0, array([0., 2., 9.]))
    """
    x_leaves, x_tree = tree_flatten(xs)
    lengths = {_info(x)[0][0] if _info(x)[0] else None for x in x_leaves}
    if None in lengths:
        raise ControlFlowTypeError("scan: every leaf of xs needs a leading axis to scan over (got a 0-d leaf).")
    if length is not None:
        lengths.add(int(length))
    if not lengths:
        raise ValueError("scan: give xs with a leading axis, or length= when xs is None.")
    if len(lengths) > 1:
        raise ControlFlowTypeError(f"scan: xs leaves (and length=) disagree on the length: {sorted(lengths)}.")
    n = lengths.pop()
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry = init
    ys: list = [None] * n
    for i in order:
        x = tree_unflatten(x_tree, [leaf[i] for leaf in x_leaves])
        out = f(carry, x)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ControlFlowTypeError("scan: f must return a pair (new_carry, y).")
        _check_match("scan", carry, out[0], "the carry going in", "f's new carry")
        if i != order[0]:
            _check_match("scan", ys[order[0]], out[1], f"step {order[0]}'s y", f"step {i}'s y")
        carry, ys[i] = out
    if n == 0:
        # No step ran: f's output shapes come from one evaluation on zeros, then discarded.
        x0 = tree_unflatten(x_tree, [np.zeros(_info(x)[0][1:], _info(x)[1]) for x in x_leaves])
        y0 = f(init, x0)[1]
        y_leaves, y_tree = tree_flatten(y0)
        return carry, tree_unflatten(y_tree, [np.zeros((0,) + _info(y)[0], _info(y)[1]) for y in y_leaves])
    y_tree = tree_flatten(ys[0])[1]
    per_step = [tree_flatten(y)[0] for y in ys]
    stacked = [fnp.stack([step[j] for step in per_step]) for j in range(len(per_step[0]))]
    return carry, tree_unflatten(y_tree, stacked)


# --- while_loop ----------------------------------------------------------------------------------


def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init_val: Any) -> Any:
    """``val = init_val; while cond_fun(val): val = body_fun(val)``; returns ``val``.

    * Concrete predicate (plain values, ``grad``, ``vjp``, ``jvp``): a Python loop, so
      derivatives work in both modes.
    * Batched predicate (``vmap``): steps while *any* example continues; examples that have
      finished are frozen with ``funcgrad.numpy.where``.
    * Under ``jit``: ONE staged equation holding ``cond_fun`` and ``body_fun`` compiled as
      sub-programs; at call time a Python ``while`` loop runs them, so the trip count may depend
      on the data and the compile cost does not grow with it. Such a staged loop also works
      under ``vmap`` (``jit(vmap(f))``, ``vmap(jit(f))``). It cannot be differentiated:
      ``grad``/``vjp``/``jvp`` of a jitted function containing a ``while_loop`` with an abstract
      predicate raise ``NotImplementedError`` (reverse mode would need the trip count; keep
      such loops out of jit, or use ``fori_loop`` with concrete bounds).

    ``cond_fun`` must return a scalar; ``body_fun`` must keep the carry's tree structure, shapes
    and dtypes (:class:`ControlFlowTypeError` otherwise).

    >>> import funcgrad.lax as lax
    >>> lax.while_loop(lambda v: v < 100, lambda v: v * 3, 1)
    243
    """
    val = init_val
    batched_seen = False
    while True:
        p = _scalar_pred(cond_fun(val), "while_loop's cond_fun output")
        kind, value = _kind(p)
        if kind == _STAGED:
            if batched_seen:  # pragma: no cover - a predicate cannot become abstract mid-loop
                raise NotImplementedError("while_loop: the predicate became abstract during the loop")
            leaves, tree = tree_flatten(val)
            return tree_unflatten(tree, _staged_while(cond_fun, body_fun, leaves, tree))
        if kind == _CONCRETE:
            if not bool(value):
                return val
            new = body_fun(val)
            _check_match("while_loop", val, new, "the carry going in", "body_fun's output")
            val = new
        else:
            batched_seen = True
            if not bool(np.any(value)):
                return val
            new = body_fun(val)
            _check_match("while_loop", val, new, "the carry going in", "body_fun's output")
            old_leaves, tree = tree_flatten(val)
            new_leaves = tree_flatten(new)[0]
            val = tree_unflatten(tree, [fnp.where(p, b, a) for a, b in zip(old_leaves, new_leaves)])


def _top_trace(xs: Sequence[Any]) -> Any:
    top = None
    for a in xs:
        if isinstance(a, Tracer) and (top is None or a._trace.level > top.level):
            top = a._trace
    return top


def _staged_while(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], leaves: list, tree: Any) -> list:
    """Stage the loop on flat carry ``leaves``: trace cond/body into programs (their closed-over
    traced values become extra inputs), then emit one equation at the active trace."""
    from .jit import Entry

    leaves = [x if isinstance(x, Tracer) else np.asarray(x) for x in leaves]
    avals = [ShapedArray(tuple(x.shape), np.dtype(x.dtype)) for x in leaves]
    names = [f"while_loop carry {i}" for i in range(len(leaves))]

    def cond_flat(*c: Any) -> Any:
        p = _scalar_pred(cond_fun(tree_unflatten(tree, c)), "while_loop's cond_fun output")
        return fnp.asarray(p) != 0 if _info(p)[1] != np.bool_ else p

    def body_flat(*c: Any) -> list:
        old = tree_unflatten(tree, c)
        new = body_fun(old)
        _check_match("while_loop", old, new, "the carry going in", "body_fun's output")
        out_leaves = tree_flatten(new)[0]
        # Weakly typed outputs (Python scalars) take the carry's dtype.
        return [fnp.asarray(o, dtype=a.dtype) if type(o) in _PY_SCALARS else o for o, a in zip(out_leaves, avals)]

    cond_prog, cond_cap, _ = trace_to_program(cond_flat, avals, names)
    body_prog, body_cap, _ = trace_to_program(body_flat, avals, names)
    for a, o in zip(avals, body_prog.out_avals):
        if (a.shape, a.dtype) != (o.shape, o.dtype):
            raise ControlFlowTypeError(
                f"while_loop: body_fun turns a carry leaf of shape {a.shape} dtype {a.dtype} into "
                f"shape {o.shape} dtype {o.dtype}; the carry must keep its shapes and dtypes.")
    return _emit_while(Entry(cond_prog, "while_cond"), Entry(body_prog, "while_body"),
                       leaves, list(cond_cap), list(body_cap))


def _emit_while(cond_entry: Any, body_entry: Any, carry: list, cconsts: list, bconsts: list) -> list:
    args = carry + cconsts + bconsts
    params = {"cond_entry": cond_entry, "body_entry": body_entry, "n_carry": len(carry), "n_cconsts": len(cconsts)}
    top = _top_trace(args)
    if top is None:
        return list(_while_impl(*args, **params))
    if isinstance(top, StagingTrace):
        out = while_p.bind(*args, **params)
        return [tuple_get_p.bind(out, index=i) for i in range(len(carry))]
    if isinstance(top, BatchTrace):
        return _batched_while(top, cond_entry, body_entry, carry, cconsts, bconsts)
    raise NotImplementedError(
        "differentiating a while_loop whose predicate is abstract (under jit) is not supported: "
        f"the loop met a {type(top).__name__} (grad/vjp/jvp of a jitted function, or jvp inside "
        "jit). Reverse mode needs the trip count, which a staged loop does not record. Call the "
        "function without jit (a concrete predicate makes while_loop a differentiable Python "
        "loop), or use fori_loop with concrete bounds.")


def _batched_while(trace: BatchTrace, cond_entry: Any, body_entry: Any, carry: list, cconsts: list,
                   bconsts: list) -> list:
    """vmap of a staged loop: stage a loop over the whole batch that runs while any example
    continues and freezes the finished ones."""
    from .prims.factories import batch_to_front
    from .vmap import vmap

    size = trace.axis_size
    cvals = [batch_to_front(v, d, size=size) for v, d in zip(*trace.split(carry))]
    cc_vals, cc_dims = trace.split(cconsts)
    bc_vals, bc_dims = trace.split(bconsts)
    n = len(carry)
    cprog, bprog = cond_entry.program, body_entry.program
    cond_b = vmap(lambda *a: eval_program(cprog, *a)[0], in_axes=tuple([0] * n + cc_dims))
    body_b = vmap(lambda *a: eval_program(bprog, *a), in_axes=tuple([0] * n + bc_dims))

    def step(c: list) -> list:
        p = cond_b(*c, *cc_vals)
        new = body_b(*c, *bc_vals)
        return [fnp.where(fnp.reshape(p, (size,) + (1,) * (o.ndim - 1)), b, o) for o, b in zip(c, new)]

    out = while_loop(lambda c: fnp.any(cond_b(*c, *cc_vals)), step, list(cvals))
    return [BatchTracer(trace, o, 0) for o in out]


def _while_impl(*args: Any, cond_entry: Any, body_entry: Any, n_carry: int, n_cconsts: int) -> tuple:
    carry = tuple(args[:n_carry])
    cc = args[n_carry:n_carry + n_cconsts]
    bc = args[n_carry + n_cconsts:]
    cond_fn, body_fn = cond_entry.compiled.fn, body_entry.compiled.fn
    while bool(cond_fn(*carry, *cc)[0]):
        carry = body_fn(*carry, *bc)
    return tuple(carry)


def _while_rerun(*args: Any, cond_entry: Any, body_entry: Any, n_carry: int, n_cconsts: int) -> list:
    """Re-run a staged loop under whatever trace is active (eval_program's hook)."""
    carry, cc, bc = list(args[:n_carry]), list(args[n_carry:n_carry + n_cconsts]), list(args[n_carry + n_cconsts:])
    top = _top_trace(args)
    if top is None or isinstance(top, (StagingTrace, BatchTrace)):
        return _emit_while(cond_entry, body_entry, carry, cc, bc)
    cprog, bprog = cond_entry.program, body_entry.program
    return while_loop(lambda c: eval_program(cprog, *c, *cc)[0], lambda c: eval_program(bprog, *c, *bc), carry)


while_p = Primitive(
    "while_loop",
    _while_impl,
    abstract_eval=lambda *operands, cond_entry, body_entry, n_carry, n_cconsts: TupleAval(
        tuple(body_entry.program.out_avals)),
    register=False,
)
rerun_rules[while_p] = _while_rerun
