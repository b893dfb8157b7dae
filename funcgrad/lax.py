"""Structured control flow with JAX's signatures: ``cond``, ``switch``, ``fori_loop``, ``scan``,
``while_loop``, ``map`` and ``associative_scan``.

The loops and branches are higher-order primitives (:mod:`funcgrad.control`): the user's
function is traced once into a compiled sub-program held by ONE equation, and every
transformation (``grad``, ``jvp``, ``vmap``, ``jit`` and their compositions) has a rule for it.

* ``scan`` (and ``map``, and ``fori_loop`` with concrete bounds) with traced values: one
  ``scan`` equation, whatever the length; reverse mode stacks only the residuals the body's
  backward program needs. With plain NumPy values it runs as a Python loop.
* ``while_loop`` (and ``fori_loop`` with traced bounds): with a concrete predicate (plain
  values, ``grad``/``vjp``/``jvp``) a Python loop; under ``jit`` one staged equation,
  differentiable in both modes with a data-dependent trip count; with a batched predicate
  (``vmap``) it steps while *any* example continues and freezes the finished ones.
* ``cond``/``switch``: with a concrete predicate only the chosen branch runs, as Python code;
  under ``jit`` one ``cond`` equation that runs only the taken branch, in the primal and in every
  derivative (an untaken branch's ``inf``/``nan`` cannot poison a gradient). With a batched
  predicate (``vmap``) every branch runs and each example selects its result with ``where``;
  there, as in JAX, a branch producing ``inf``/``nan`` for examples it does not apply to can
  still poison their gradients (``0 * inf``).

A branch or loop body that changes the tree structure, shape or dtype of its output/carry raises
:class:`ControlFlowTypeError` naming the leaf that changed.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import numpy as fnp
from ._backend import as_array, constant_like, foreign_of, program_is_foreign, staging_foreign, zeros_like_shape
from ._closure_key import BoundedCache, lift
from .control import bind_cond, bind_scan, bind_while
from .core import Tracer, find_top_trace
from .errors import ControlFlowTypeError
from .ir.program import ShapedArray, Var
from .traces.batching import BatchTracer
from .traces.staging import StagedTracer, trace_to_program
from .tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten
from .tree_util import tree_map as tree_map_leaves

__all__ = ["cond", "switch", "fori_loop", "scan", "while_loop", "map", "associative_scan", "ControlFlowTypeError"]

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
    a = as_array(x)  # a Dask or CuPy array is never converted
    return tuple(a.shape), np.dtype(a.dtype), False


def _check_match(what: str, ref: Any, new: Any, ref_name: str, new_name: str) -> None:
    """Raise ControlFlowTypeError unless ``new`` has ``ref``'s tree, shapes and dtypes."""
    ref_flat, ref_def = tree_flatten(ref)  # the common case, cheaply (an eager loop checks every step)
    new_flat, new_def = tree_flatten(new)
    if ref_def == new_def:
        for a, b in zip(ref_flat, new_flat):
            sa, da, wa = _info(a)
            sb, db, wb = _info(b)
            if sa != sb or (da != db and not (wa or wb)):
                break
        else:
            return
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


# --- tracing user functions into sub-programs ----------------------------------------------------


def _leaf_aval(x: Any) -> ShapedArray:
    shape, dtype, weak = _info(x)
    return ShapedArray(tuple(shape), np.dtype(dtype), weak)


def _as_operand(x: Any) -> Any:
    return x if isinstance(x, Tracer) or type(x) in _PY_SCALARS else as_array(x)


def _trace(f: Callable[..., Any], avals: Sequence[ShapedArray], names: Sequence[str],
           foreign: bool = False) -> tuple[Any, list, Any, Any]:
    """Trace ``f`` (on one argument per leaf) into a program; also return its captured outer
    values, its output tree and the (dead) traced output, for shape checks.

    ``foreign``: the operands are Dask/CuPy arrays, so the arrays the program and the programs
    derived from it (derivatives, batching) make are staged in their library. A body that closes
    over such an array is traced again that way."""
    box: list = []

    def g(*xs: Any) -> Any:
        out = f(*xs)
        box.append(out)
        return out

    with staging_foreign(foreign):
        program, captured, out_tree = trace_to_program(g, avals, names)
    if not foreign and (foreign_of(captured) is not None or foreign_of(program.consts.values()) is not None):
        return _trace(f, avals, names, True)
    if foreign:
        program.derived["foreign"] = True
    return program, list(captured), out_tree, box[-1]


def _with_inputs(program: Any, n_own: int, groups: Sequence[Sequence[Any]], mine: int) -> Any:
    """``program`` (its first ``n_own`` inputs, then its captured values) taking, after its own
    inputs, every group of captured values in ``groups`` (its own at position ``mine``)."""
    inputs = list(program.inputs[:n_own])
    names = list(program.input_names[:n_own])
    own = program.inputs[n_own:]
    for k, group in enumerate(groups):
        if k == mine:
            inputs += own
        else:
            inputs += [Var(ShapedArray(tuple(g.shape), np.dtype(g.dtype))) for g in group]
        names += [f"captured {k}.{i}" for i in range(len(group))]
    new = program.replace(inputs=inputs, input_names=names)
    if program.derived.get("foreign"):
        new.derived["foreign"] = True
    return new


def _cast_to(outs: Sequence[Any], avals: Sequence[Any]) -> list:
    """Outputs cast to ``avals``' dtypes where they differ (weakly typed Python scalars)."""
    return [o if _info(o)[1] == a.dtype and not isinstance(o, _PY_SCALARS) else fnp.asarray(o, dtype=a.dtype)
            for o, a in zip(outs, avals)]


# --- cond and switch -----------------------------------------------------------------------------


def _staged_switch(what: str, index: Any, branches: Sequence[Callable[..., Any]], operands: tuple,
                   names: Sequence[str]) -> Any:
    """Stage each branch into a program and bind the ``cond`` primitive: only the taken branch
    runs, also in every derivative."""
    leaves, tree = tree_flatten(operands)
    leaves = [_as_operand(x) for x in leaves]
    avals = [_leaf_aval(x) for x in leaves]
    arg_names = [f"{what} operand {i}" for i in range(len(leaves))]

    def run(b: Callable[..., Any]) -> Callable[..., Any]:
        return lambda *xs: b(*tree_unflatten(tree, xs))

    foreign = program_is_foreign(leaves)
    traced = [_trace(run(b), avals, arg_names, foreign) for b in branches]
    if not foreign and any(t[0].derived.get("foreign") for t in traced):  # a branch closes over a Dask/CuPy array
        foreign = True
        traced = [_trace(run(b), avals, arg_names, foreign) for b in branches]
    for k in range(1, len(traced)):
        _check_match(what, traced[0][3], traced[k][3], names[0], names[k])
    out_tree = traced[0][2]
    # Weakly typed outputs (Python scalars) take the dtype NumPy gives them together.
    targets = []
    for j in range(len(traced[0][0].outputs)):
        avs = [t[0].out_avals[j] for t in traced]
        strong = [a.dtype for a in avs if not a.weak]
        targets.append(ShapedArray(avs[0].shape, np.result_type(*(strong or [a.dtype for a in avs]))))
    if any((t[0].out_avals[j].dtype, t[0].out_avals[j].weak) != (targets[j].dtype, False)
           for t in traced for j in range(len(targets))):
        traced = [_trace(lambda *xs, b=b: _cast_to(tree_flatten(run(b)(*xs))[0], targets), avals, arg_names, foreign)
                  for b in branches]
    groups = [t[1] for t in traced]
    programs = [_with_inputs(t[0], len(leaves), groups, k) for k, t in enumerate(traced)]
    index = fnp.asarray(index)
    if _info(index)[1] != np.int64:
        index = fnp.asarray(index, dtype=np.int64)
    outs = bind_cond(index, programs, leaves + [c for g in groups for c in g])
    return tree_unflatten(out_tree, outs)


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Apply ``branches[index](*operands)``; ``index`` is clamped to ``[0, len(branches) - 1]``.

    With a concrete ``index`` only that branch runs, as Python code (derivatives flow through
    it). Under ``jit`` the branches are compiled sub-programs of ONE ``cond`` equation and only
    the taken branch runs, in the primal and in every derivative. Under ``vmap`` with a batched
    index every branch runs and each example selects its own result. Branches must return the
    same tree structure, shapes and dtypes (:class:`ControlFlowTypeError` otherwise).

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
    return _staged_switch("switch", index, branches, operands, [f"branch {k}" for k in range(len(branches))])


def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], *operands: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``; ``pred`` is a scalar.

    With a concrete ``pred`` (plain values, or under ``grad``/``vjp``/``jvp``) only the chosen
    branch runs, as Python code. Under ``jit`` both branches become compiled sub-programs of ONE
    ``cond`` equation and only the taken one runs, in the primal and in every derivative, so an
    ``inf``/``nan`` in the untaken branch cannot poison a gradient. Under ``vmap`` with a batched
    ``pred`` both branches run and each example selects its result (``where``); there an untaken
    branch's ``nan`` can still poison the gradient of a ``where``, as in JAX. Both branches must
    return the same tree structure, shapes and dtypes (:class:`ControlFlowTypeError` otherwise).

    >>> import funcgrad.lax as lax
    >>> lax.cond(3.0 > 0, lambda x: x * 2.0, lambda x: -x, 3.0)
    6.0
    """
    _scalar_pred(pred, "cond's predicate")
    kind, value = _kind(pred)
    if kind == _CONCRETE:
        return true_fun(*operands) if bool(value) else false_fun(*operands)
    index = fnp.where(pred, 1, 0)
    return _staged_switch("cond", index, [false_fun, true_fun], operands, ["false_fun's output", "true_fun's output"])


# --- scan and fori_loop --------------------------------------------------------------------------


def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    """``for i in range(lower, upper): val = body_fun(i, val)``; returns ``val``.

    With concrete bounds this is a :func:`scan` over ``upper - lower`` steps (one compiled body
    under ``jit``, differentiable in both modes). With bounds that are abstract (``jit``) or
    batched (``vmap``) it is a :func:`while_loop`.

    >>> import funcgrad.lax as lax
    >>> int(lax.fori_loop(0, 4, lambda i, s: s + i, 0))
    6
    """
    lk, lv = _kind(lower)
    uk, uv = _kind(upper)
    if lk == _CONCRETE and uk == _CONCRETE:
        lo, hi = int(lv), int(uv)

        def step(carry: tuple, _: Any) -> tuple:
            i, val = carry
            new = body_fun(i, val)
            _check_match("fori_loop", val, new, "the carry going in", "body_fun's output")
            return (i + 1, new), None

        # the counter is made in the library of the carry (CuPy refuses NumPy operands)
        counter = constant_like(lo, None, tree_flatten(init_val)[0])
        return scan(step, (counter, init_val), None, length=max(hi - lo, 0))[0][1]
    # Traced bounds: a while loop over (i, upper, val), with i and upper of one integer dtype.
    i0 = lower + upper * 0
    hi = upper + lower * 0

    def body(c: tuple) -> tuple:
        i, h, v = c
        return i + 1, h, body_fun(i, v)

    return while_loop(lambda c: c[0] < c[1], body, (i0, hi, init_val))[2]


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: int | None = None,
         reverse: bool = False, unroll: int = 1) -> tuple[Any, Any]:
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (a pytree, or None with
    ``length``); return the final carry and the ``y``s stacked along a new leading axis.

    With traced values (under ``jit``, ``grad``, ``jvp``, ``vmap``) ``f`` is traced once into a
    compiled body and the loop is ONE ``scan`` equation, so compile time does not depend on the
    length. Reverse mode stacks only the residuals the body's backward program needs and runs
    it, compiled, in reverse. ``unroll=k`` runs ``k`` steps per call of the compiled body. With
    ``reverse=True`` the steps go from the last element to the first, and ``ys[i]`` is still the
    output of the step that saw ``xs[i]``.

    >>> import numpy as np, funcgrad.lax as lax
    >>> carry, ys = lax.scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
    >>> float(carry), ys
    (6.0, array([0., 2., 9.]))
    """
    x_leaves, x_tree = tree_flatten(xs)
    lengths: set[Any] = {_info(x)[0][0] if _info(x)[0] else None for x in x_leaves}
    if None in lengths:
        raise ControlFlowTypeError("scan: every leaf of xs needs a leading axis to scan over (got a 0-d leaf).")
    if length is not None:
        lengths.add(int(length))
    if not lengths:
        raise ValueError("scan: give xs with a leading axis, or length= when xs is None.")
    if len(lengths) > 1:
        raise ControlFlowTypeError(f"scan: xs leaves (and length=) disagree on the length: {sorted(lengths)}.")
    if int(unroll) < 1:
        raise ValueError(f"scan: unroll must be a positive number of steps, got {unroll!r}.")
    n = lengths.pop()
    if find_top_trace(tree_flatten(init)[0] + x_leaves, "scan") is None:
        done = _python_scan(f, init, x_leaves, x_tree, n, reverse)
        if done is not None:
            return done
    return _staged_scan(f, init, x_leaves, x_tree, n, reverse, unroll)


def _step(f: Callable[[Any, Any], Any], carry: Any, x: Any) -> tuple[Any, Any]:
    out = f(carry, x)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ControlFlowTypeError("scan: f must return a pair (new_carry, y).")
    _check_match("scan", carry, out[0], "the carry going in", "f's new carry")
    return out


def _python_scan(f: Callable[[Any, Any], Any], init: Any, x_leaves: list, x_tree: Any, n: int,
                 reverse: bool) -> Any:
    """The loop in Python, on concrete values. None if ``f`` turns out to close over traced
    values (its outputs are tracers): then the loop must be a primitive."""
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry = init
    ys: list = [None] * n
    for i in order:
        out = _step(f, carry, tree_unflatten(x_tree, [leaf[i] for leaf in x_leaves]))
        if any(isinstance(v, Tracer) for v in tree_flatten(out)[0]):
            return None
        if i != order[0]:
            _check_match("scan", ys[order[0]], out[1], f"step {order[0]}'s y", f"step {i}'s y")
        carry, ys[i] = out
    if n == 0:
        # No step ran: f's output shapes come from one evaluation on zeros, then discarded.
        x0 = tree_unflatten(x_tree, [zeros_like_shape(x, _info(x)[0][1:], _info(x)[1]) for x in x_leaves])
        y0 = f(init, x0)[1]
        if any(isinstance(v, Tracer) for v in tree_flatten(y0)[0]):
            return None
        y_leaves, y_tree = tree_flatten(y0)
        return carry, tree_unflatten(y_tree, [zeros_like_shape(y, (0,) + _info(y)[0], _info(y)[1]) for y in y_leaves])
    y_tree = tree_flatten(ys[0])[1]
    per_step = [tree_flatten(y)[0] for y in ys]
    stacked = [np.stack([as_array(step[j]) for step in per_step]) for j in range(len(per_step[0]))]
    return carry, tree_unflatten(y_tree, stacked)


def _staged_scan(f: Callable[[Any, Any], Any], init: Any, x_leaves: list, x_tree: Any, n: int, reverse: bool,
                 unroll: int) -> tuple[Any, Any]:
    c_leaves, c_tree = tree_flatten(init)
    c_leaves = [_as_operand(c) for c in c_leaves]
    x_leaves = [_as_operand(x) for x in x_leaves]
    nc = len(c_leaves)
    x_avals = [ShapedArray(tuple(_info(x)[0][1:]), _info(x)[1]) for x in x_leaves]
    c_avals = [_leaf_aval(c) for c in c_leaves]
    names = [f"scan carry {i}" for i in range(nc)] + [f"scan x {i}" for i in range(len(x_leaves))]
    y_tree_box: list = []
    foreign = program_is_foreign(c_leaves + x_leaves)
    # The traced body is reused across calls when f's closure allows it (see _closure_key):
    # arrays and traced values f closes over become inputs of the body (lifted), so the programs
    # derived from it and their compiled code are made once.
    lifted = lift(f)
    nx, n_lift, rebuild, key, keep = len(x_leaves), 0, None, None, None
    lifted_vals: list = []
    if lifted is not None:
        fkey, lifted_vals, rebuild, keep = lifted
        lifted_vals = [_as_operand(v) for v in lifted_vals]
        n_lift = len(lifted_vals)
        foreign = foreign or program_is_foreign(lifted_vals)  # f closes over a Dask/CuPy array
        key = (fkey, c_tree, x_tree, tuple(c_avals), tuple(x_avals), foreign)
        found = _SCAN_BODIES.get(key)
        if found is not None:
            program, c_avals, y_tree = found[:3]
            c_leaves = [constant_like(c, a.dtype, c_leaves + x_leaves + lifted_vals) if type(c) in _PY_SCALARS
                        else c for c, a in zip(c_leaves, c_avals)]
            outs = bind_scan(program, c_leaves, x_leaves, lifted_vals, n, reverse, unroll)
            return tree_unflatten(c_tree, outs[:nc]), tree_unflatten(y_tree, outs[nc:])
        names += [f"scan closure {i}" for i in range(n_lift)]
        x_avals = x_avals + [_leaf_aval(v) for v in lifted_vals]  # (traced as extra inputs after xs)

    def body(*args: Any) -> list:
        carry = tree_unflatten(c_tree, args[:nc])
        g = f if rebuild is None else rebuild(list(args[nc + nx:]))
        new, y = _step(g, carry, tree_unflatten(x_tree, args[nc:nc + nx]))
        y_leaves, y_tree = tree_flatten(y)
        y_tree_box[:] = [y_tree]
        return _cast_to(tree_flatten(new)[0], c_avals) + list(y_leaves)

    program, captured, _, _ = _trace(body, c_avals + x_avals, names, foreign)
    # A weakly typed carry (a Python number) takes the dtype the body gives it, then stays fixed.
    widened = [ShapedArray(a.shape, o.dtype) if a.weak else ShapedArray(a.shape, a.dtype)
               for a, o in zip(c_avals, program.out_avals[:nc])]
    if widened != c_avals:
        c_avals = widened
        # a Python-number carry joins the operands' library
        refs = c_leaves + x_leaves + lifted_vals + list(captured)
        c_leaves = [constant_like(c, a.dtype, refs) if type(c) in _PY_SCALARS else c for c, a in zip(c_leaves, c_avals)]
        program, captured, _, _ = _trace(body, c_avals + x_avals, names, foreign)
    for a, o in zip(c_avals, program.out_avals[:nc]):
        if (a.shape, a.dtype) != (o.shape, o.dtype):
            raise ControlFlowTypeError(
                f"scan: f turns a carry leaf of shape {a.shape} dtype {a.dtype} into shape {o.shape} dtype "
                f"{o.dtype}; the carry must keep its shapes and dtypes.")
    if key is not None and not captured:
        _SCAN_BODIES.put(key, (program, c_avals, y_tree_box[0], keep))
    consts = lifted_vals + list(captured)
    outs = bind_scan(program, c_leaves, x_leaves, consts, n, reverse, unroll)
    return tree_unflatten(c_tree, outs[:nc]), tree_unflatten(y_tree_box[0], outs[nc:])


_SCAN_BODIES = BoundedCache(128)  # traced scan bodies by closure key (see _staged_scan)


# --- while_loop ----------------------------------------------------------------------------------


def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init_val: Any,
               checkpoint: str | None = None) -> Any:
    """``val = init_val; while cond_fun(val): val = body_fun(val)``; returns ``val``.

    * Concrete predicate (plain values, ``grad``, ``vjp``, ``jvp``): a Python loop, so
      derivatives work in both modes.
    * Batched predicate (``vmap``): steps while *any* example continues; examples that have
      finished are frozen with ``funcgrad.numpy.where``.
    * Under ``jit`` (a carry or the predicate is abstract): ONE staged equation holding
      ``cond_fun`` and ``body_fun`` compiled as sub-programs; the trip count may depend on the
      data and the compile cost does not grow with it. It is differentiable: forward mode
      carries tangents through the loop; reverse mode records the trip count and each step's
      residuals in the forward pass, and runs the body's compiled backward program that many
      times in reverse (JAX refuses this). Derivatives of any order work: the backward loop is
      itself differentiable (its derivative is another loop over the recorded steps), so
      ``grad`` of ``grad``, ``jacrev``/``jacfwd`` of ``grad`` and ``hessian`` work under ``jit``.
    * ``checkpoint="sqrt"`` bounds the memory of reverse mode: instead of every step's
      residuals the forward pass keeps O(√n) carries (every ``s``-th, ``s`` ~ √n, doubling ``s``
      as ``n`` grows), and the backward pass recomputes one segment of ``s`` steps at a time:
      O(√n) memory for about one extra forward pass of compute.

    ``cond_fun`` must return a scalar; ``body_fun`` must keep the carry's tree structure, shapes
    and dtypes (:class:`ControlFlowTypeError` otherwise).

    >>> import funcgrad.lax as lax
    >>> lax.while_loop(lambda v: v < 100, lambda v: v * 3, 1)
    243
    """
    if checkpoint not in (None, "sqrt"):
        raise ValueError(f"while_loop: checkpoint must be None or 'sqrt', got {checkpoint!r}.")
    leaves, tree = tree_flatten(init_val)
    if any(_kind(x)[0] == _STAGED for x in leaves):
        # Under jit the loop is staged even if its predicate starts concrete (a counter from 0):
        # one equation, compiled once, instead of unrolling the loop while tracing.
        return tree_unflatten(tree, _staged_while(cond_fun, body_fun, leaves, tree, checkpoint))
    val = init_val
    while True:
        p = _scalar_pred(cond_fun(val), "while_loop's cond_fun output")
        kind, value = _kind(p)
        if kind == _STAGED:
            # The carry became abstract (the body adds a value traced by jit): the rest of the loop
            # is staged from here. Under vmap the examples that finished stay frozen in it too.
            leaves, tree = tree_flatten(val)
            return tree_unflatten(tree, _staged_while(cond_fun, body_fun, leaves, tree, checkpoint))
        if kind == _CONCRETE:
            if not bool(value):
                return val
            new = body_fun(val)
            _check_match("while_loop", val, new, "the carry going in", "body_fun's output")
            val = new
        else:
            if not bool(np.any(value)):
                return val
            new = body_fun(val)
            _check_match("while_loop", val, new, "the carry going in", "body_fun's output")
            old_leaves, tree = tree_flatten(val)
            new_leaves = tree_flatten(new)[0]
            val = tree_unflatten(tree, [fnp.where(p, b, a) for a, b in zip(old_leaves, new_leaves)])


def _staged_while(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], leaves: list, tree: Any,
                  checkpoint: str | None) -> list:
    """Stage the loop on flat carry ``leaves``: trace cond/body into programs (their closed-over
    traced values become extra operands), then bind one ``while_loop`` equation."""
    # a Python-number carry (a counter) joins the library of the other carries (CuPy refuses NumPy)
    leaves = [x if isinstance(x, Tracer) else constant_like(x, None, leaves) if type(x) in _PY_SCALARS
              else as_array(x) for x in leaves]
    avals = [ShapedArray(tuple(x.shape), np.dtype(x.dtype)) for x in leaves]
    foreign = program_is_foreign(leaves)
    names = [f"while_loop carry {i}" for i in range(len(leaves))]

    def cond_flat(*c: Any) -> Any:
        p = _scalar_pred(cond_fun(tree_unflatten(tree, c)), "while_loop's cond_fun output")
        return fnp.asarray(p) != 0 if _info(p)[1] != np.bool_ else p

    def body_flat(*c: Any) -> list:
        old = tree_unflatten(tree, c)
        new = body_fun(old)
        _check_match("while_loop", old, new, "the carry going in", "body_fun's output")
        return _cast_to(tree_flatten(new)[0], avals)  # Python scalars take the carry's dtype

    cond_prog, cond_cap, _, _ = _trace(cond_flat, avals, names, foreign)
    body_prog, body_cap, _, _ = _trace(body_flat, avals, names, foreign)
    for a, o in zip(avals, body_prog.out_avals):
        if (a.shape, a.dtype) != (o.shape, o.dtype):
            raise ControlFlowTypeError(
                f"while_loop: body_fun turns a carry leaf of shape {a.shape} dtype {a.dtype} into "
                f"shape {o.shape} dtype {o.dtype}; the carry must keep its shapes and dtypes.")
    return bind_while(cond_prog, body_prog, leaves, cond_cap, body_cap, checkpoint)


# --- map and associative_scan -------------------------------------------------------------------


def map(f: Callable[[Any], Any], xs: Any, *, batch_size: int | None = None) -> Any:  # noqa: A001 - JAX's name
    """``stack([f(x) for x in xs])`` over the leading axis of ``xs`` (a pytree): a :func:`scan`
    with no carry, so it is one compiled loop under ``jit`` and differentiable both ways.

    With ``batch_size``, as in JAX, each step maps ``vmap(f)`` over ``batch_size`` elements at once
    (fewer, larger steps); a remainder of ``len % batch_size`` elements is mapped by one more
    ``vmap(f)`` after the loop. The result is the same.

    >>> import numpy as np, funcgrad.lax as lax
    >>> lax.map(lambda x: x * 2.0, np.arange(3.0))
    array([0., 2., 4.])
    >>> lax.map(lambda x: x * 2.0, np.arange(5.0), batch_size=2)
    array([0., 2., 4., 6., 8.])
    """
    if batch_size is None:
        return scan(lambda carry, x: (carry, f(x)), (), xs)[1]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"lax.map: batch_size must be a positive int or None, got {batch_size!r} "
                        f"({type(batch_size).__name__})")
    if batch_size < 1:
        raise ValueError(f"lax.map: batch_size must be at least 1, got {batch_size}")
    from .vmap import vmap

    leaves, tree = tree_flatten(xs)
    lengths = {int(fnp.shape(x)[0]) if fnp.ndim(x) else -1 for x in leaves}
    if len(lengths) != 1 or -1 in lengths:
        raise ValueError("lax.map: every array in xs needs the same leading axis length, got leading "
                         f"shapes {[fnp.shape(x)[:1] for x in leaves]}")
    (n,) = lengths
    batches, rest = divmod(n, int(batch_size))
    if batches == 0:
        return vmap(f)(xs)
    head = [x[: batches * batch_size].reshape((batches, batch_size) + fnp.shape(x)[1:]) for x in leaves]
    ys = scan(lambda carry, x: (carry, vmap(f)(x)), (), tree_unflatten(tree, head))[1]
    ys = tree_map_leaves(lambda y: y.reshape((batches * batch_size,) + fnp.shape(y)[2:]), ys)
    if not rest:
        return ys
    tail = vmap(f)(tree_unflatten(tree, [x[batches * batch_size:] for x in leaves]))
    return tree_map_leaves(lambda a, b: fnp.concatenate([a, b]), ys, tail)


def associative_scan(fn: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """Inclusive scan of ``elems`` (a pytree of arrays sharing the length of ``axis``) with an
    associative ``fn``: ``out[i] = fn(... fn(fn(e[0], e[1]), e[2]) ..., e[i])``; with ``reverse``,
    as in JAX, the scan of the flipped elements flipped back:
    ``out[i] = fn(... fn(fn(e[n-1], e[n-2]), e[n-3]) ..., e[i])``.

    ``fn`` is applied to whole slices at once (it must be vectorised over the leading axes, as
    ``fnp.add`` or ``lambda a, b: a @ b`` on stacks are), in O(log n) rounds of the
    odd/even recursion, so it is composed of funcgrad operations and differentiable, vmappable
    and jittable like any other.

    >>> import numpy as np, funcgrad.lax as lax, funcgrad.numpy as fnp
    >>> lax.associative_scan(fnp.add, np.arange(1.0, 5.0))
    array([ 1.,  3.,  6., 10.])
    """
    leaves, tree = tree_flatten(elems)
    if not leaves:
        raise ValueError("associative_scan needs at least one array in elems")
    leaves = [fnp.moveaxis(fnp.asarray(x), axis, 0) if axis != 0 else fnp.asarray(x) for x in leaves]
    lengths = {int(x.shape[0]) for x in leaves}
    if len(lengths) != 1:
        raise ControlFlowTypeError(f"associative_scan: elems disagree on the length of axis {axis}: {sorted(lengths)}.")
    if reverse:
        leaves = [fnp.flip(x, axis=0) for x in leaves]

    def combine(a: list, b: list) -> list:
        # (with ``reverse``, ``a`` is the later part of the original order, as in JAX)
        return tree_flatten(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))[0]

    def rec(xs: list) -> list:
        n = int(xs[0].shape[0])
        if n < 2:
            return xs
        reduced = combine([x[0:n - 1:2] for x in xs], [x[1::2] for x in xs])  # pairs (0,1), (2,3), ...
        odd = rec(reduced)  # prefix results at indices 1, 3, 5, ...
        if n % 2 == 0:
            even = combine([o[:-1] for o in odd], [x[2::2] for x in xs])
        else:
            even = combine(odd, [x[2::2] for x in xs])
        out = []
        for x, o, e in zip(xs, odd, even):
            first = x[:1]
            rest_even = e
            # interleave: index 0, then odd[0], even[0], odd[1], even[1], ...
            m = int(o.shape[0])
            pairs = fnp.stack([o[: int(rest_even.shape[0])], rest_even], axis=1) if int(rest_even.shape[0]) else None
            parts = [first]
            if pairs is not None:
                parts.append(fnp.reshape(pairs, (-1,) + tuple(o.shape[1:])))
            if m > int(rest_even.shape[0]):
                parts.append(o[int(rest_even.shape[0]):])
            out.append(fnp.concatenate(parts, axis=0))
        return out

    result = rec(leaves)
    if reverse:
        result = [fnp.flip(x, axis=0) for x in result]
    if axis != 0:
        result = [fnp.moveaxis(x, 0, axis) for x in result]
    return tree_unflatten(tree, result)


from ._lax import __dir__, __getattr__  # noqa: E402,F401  (array operations and collectives, loaded on first use)
