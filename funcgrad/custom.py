"""User-defined derivative rules: ``custom_vjp``, ``custom_jvp``, and ``checkpoint``.

A call of a custom function finds the highest-level trace among its arguments and lets that
trace kind handle it (the table at the bottom): reverse mode records one tape node whose
backward function is the user's ``bwd``; forward mode calls the user's jvp rule (for
``custom_vjp`` it differentiates the function itself); ``vmap`` re-wraps the function and its
rules in ``vmap`` and calls the result one level down. With no tracer, the function just runs.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .api import _describe_value
from .core import Tracer
from .errors import CustomRuleError
from .traces.batching import BatchTrace, BatchTracer
from .traces.forward import ForwardTrace, JVPTracer
from .traces.reverse import ReverseTrace
from .traces.staging import StagingTrace
from .tree_util import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_map

__all__ = ["custom_vjp", "custom_jvp", "checkpoint", "remat"]


def _as_array(x: Any) -> Any:
    return x if isinstance(x, (np.ndarray, Tracer)) else np.asarray(x)


def _top_trace(leaves: Sequence[Any]) -> Any:
    top = None
    for x in leaves:
        if isinstance(x, Tracer) and (top is None or x._trace.level > top.level):
            top = x._trace
    return top


class _Custom:
    """What custom_vjp and custom_jvp share: nondiff_argnums handling and dispatch."""

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.name = getattr(fun, "__name__", type(fun).__name__)

    def _split(self, args: tuple) -> tuple[tuple, tuple]:
        nondiff = tuple(args[i] for i in self.nondiff_argnums)
        diff = tuple(a for i, a in enumerate(args) if i not in self.nondiff_argnums)
        for i in self.nondiff_argnums:
            if any(isinstance(x, Tracer) for x in tree_flatten(args[i])[0]):
                raise CustomRuleError(
                    f"{self.name}: argument {i} is listed in nondiff_argnums but holds a traced "
                    "value; nondiff_argnums are for static, non-array arguments (functions, flags). "
                    "Pass arrays as ordinary arguments."
                )
        return nondiff, diff

    def _join(self, nondiff: tuple, diff: Sequence[Any]) -> tuple:
        args, nd, d = [], iter(nondiff), iter(diff)
        for i in range(len(nondiff) + len(diff)):
            args.append(next(nd) if i in self.nondiff_argnums else next(d))
        return tuple(args)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check_defined()
        if kwargs:  # rules take positional arguments: place keyword arguments by the signature
            try:
                bound = inspect.signature(self.fun).bind(*args, **kwargs)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{self.name}: {e}") from None
            bound.apply_defaults()
            args = bound.args + tuple(bound.kwargs.values()) if not bound.kwargs else bound.args
            if bound.kwargs:
                raise TypeError(
                    f"{self.name}: keyword-only arguments {sorted(bound.kwargs)} cannot be passed to a "
                    "custom_vjp/custom_jvp function; make them positional (or nondiff_argnums)."
                )
        nondiff, diff = self._split(args)
        leaves, treedef = tree_flatten(diff)
        for x in leaves:
            if not isinstance(x, (np.ndarray, np.generic, Tracer, bool, int, float, complex)):
                raise CustomRuleError(
                    f"{self.name} got a {type(x).__qualname__} among its differentiable arguments; "
                    "pass non-array arguments (functions, flags, configuration) through "
                    "nondiff_argnums (static_argnums for checkpoint)."
                )
        trace = _top_trace(leaves)
        if trace is None:
            return self.fun(*args)
        if not trace.alive:
            from .errors import LeakedTracerError

            raise LeakedTracerError(f"{self.name} was called on a traced value whose transformation has ended.")
        handler = _HANDLERS.get((type(self), type(trace)))
        if handler is None:
            raise NotImplementedError(
                f"{self.name}: {type(self).__name__} is not supported under {type(trace).__name__}")
        return handler(self, trace, nondiff, [_as_array(x) for x in leaves], treedef)

    def _check_defined(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class custom_vjp(_Custom):
    """A function with a user-supplied reverse-mode rule.

    ``f.defvjp(fwd, bwd)``: ``fwd(*args)`` returns ``(out, residuals)``; ``bwd(*nondiff_args,
    residuals, ct)`` returns a tuple with one cotangent per differentiable argument.
    Forward mode (``jvp``) differentiates ``f`` itself.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.custom_vjp
    ... def clip_grad(x):
    ...     return x
    >>> clip_grad.defvjp(lambda x: (x, None), lambda res, ct: (fnp.clip(ct, -1.0, 1.0),))
    >>> fg.grad(lambda x: 5.0 * clip_grad(x))(np.array(2.0))
    array(1.)
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the forward (``(out, residuals)``) and backward (cotangents) functions."""
        self.fwd, self.bwd = fwd, bwd

    def _check_defined(self) -> None:
        if self.fwd is None:
            raise CustomRuleError(f"custom_vjp function {self.name} has no rule; call {self.name}.defvjp(fwd, bwd).")


class custom_jvp(_Custom):
    """A function with a user-supplied forward-mode rule.

    ``f.defjvp(rule)``: ``rule(*nondiff_args, primals, tangents)`` returns ``(out, tangent_out)``
    (``primals`` and ``tangents`` are tuples of the differentiable arguments), linear in
    the tangents. Reverse mode transposes it (by reverse-mode differentiating the rule with
    respect to the tangents), so one rule serves ``jvp``, ``grad`` and ``vjp``.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.custom_jvp
    ... def safe_log1pexp(x):
    ...     return fnp.logaddexp(0.0, x)
    >>> _ = safe_log1pexp.defjvp(lambda p, t: (safe_log1pexp(p[0]), t[0] * fg.scipy.special.expit(p[0])))
    >>> fg.grad(safe_log1pexp)(np.array(0.0))
    array(0.5)
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.rule: Callable[..., Any] | None = None

    def defjvp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Set the jvp rule ``rule(*nondiff_args, primals, tangents) -> (out, tangent_out)``; usable as a
        decorator."""
        self.rule = rule
        return rule

    def _check_defined(self) -> None:
        if self.rule is None:
            raise CustomRuleError(f"custom_jvp function {self.name} has no rule; call {self.name}.defjvp(rule).")


def _check_cts(name: str, cts: Any, diff: tuple, what: str) -> list:
    """Validate a user rule's per-argument results against the arguments; return their leaves."""
    if not isinstance(cts, (tuple, list)) or len(cts) != len(diff):
        got = f"a {type(cts).__name__}" + (f" of length {len(cts)}" if isinstance(cts, (tuple, list)) else "")
        raise CustomRuleError(
            f"the {what} of {name} must return a tuple with one entry per differentiable argument "
            f"({len(diff)}), but returned {got}."
        )
    out = []
    for i, (c, a) in enumerate(zip(cts, diff)):
        a_leaves, a_tree = tree_flatten(a)
        if c is None:
            out.extend([None] * len(a_leaves))
            continue
        c_with_path, c_tree = tree_flatten_with_path(c)
        if c_tree != a_tree:
            raise CustomRuleError(
                f"the {what} of {name} returned, for argument {i}, a value with tree structure "
                f"{c_tree}; the argument has {a_tree}."
            )
        for (path, cl), al in zip(c_with_path, a_leaves):
            cl = _as_array(cl)
            where = keystr(path, f"argument {i}")
            if tuple(cl.shape) != tuple(np.shape(al)):
                raise CustomRuleError(
                    f"the {what} of {name} returned shape {tuple(cl.shape)} for {where}, which has "
                    f"shape {tuple(np.shape(al))}."
                )
            a_dtype = _as_array(al).dtype
            if a_dtype.kind in "fc" and cl.dtype != a_dtype:
                raise CustomRuleError(
                    f"the {what} of {name} returned dtype {cl.dtype} for {where}, which has dtype "
                    f"{a_dtype}; cast it with .astype(np.{a_dtype.name})."
                )
            out.append(cl)
    return out


def _unwrap_for(trace: Any, leaves: list) -> list:
    return [x.primal if isinstance(x, Tracer) and x._trace is trace else x for x in leaves]


# --- reverse mode ---------------------------------------------------------------------------


def _vjp_reverse(call: custom_vjp, trace: ReverseTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    primals = tuple(treedef.unflatten(_unwrap_for(trace, leaves)))
    res = call.fwd(*call._join(nondiff, primals))  # type: ignore[misc]
    if not (isinstance(res, tuple) and len(res) == 2):
        raise CustomRuleError(f"the fwd of {call.name} must return a pair (out, residuals).")
    out, residuals = res
    out_leaves, out_tree = tree_flatten(out)
    out_leaves = [_as_array(o) for o in out_leaves]

    def bwd(cts: list) -> list:
        ct_tree = out_tree.unflatten(cts)
        return _check_cts(call.name, call.bwd(*nondiff, residuals, ct_tree), primals, "bwd")  # type: ignore[misc]

    return out_tree.unflatten(trace.record_custom(leaves, out_leaves, bwd))


def _jvp_reverse(call: custom_jvp, trace: ReverseTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    from .api import vjp

    inner = _unwrap_for(trace, leaves)
    primals = tuple(treedef.unflatten(inner))
    out = call.fun(*call._join(nondiff, primals))
    out_leaves, out_tree = tree_flatten(out)
    out_leaves = [_as_array(o) for o in out_leaves]

    def bwd(cts: list) -> list:
        # The rule is linear in the tangents: its vjp with respect to them is its transpose.
        zeros = [np.zeros(np.shape(x), _as_array(x).dtype) for x in inner]

        def tangent_out(*tangent_leaves: Any) -> Any:
            res = call.rule(*nondiff, primals, tuple(treedef.unflatten(tangent_leaves)))  # type: ignore[misc]
            return _check_rule_result(call, res, out_tree)[1]

        return list(vjp(tangent_out, *zeros)[1](out_tree.unflatten(cts)))

    return out_tree.unflatten(trace.record_custom(leaves, out_leaves, bwd))


# --- forward mode ---------------------------------------------------------------------------


def _vjp_forward(call: custom_vjp, trace: ForwardTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    return call.fun(*call._join(nondiff, tuple(treedef.unflatten(leaves))))


def _jvp_forward(call: custom_jvp, trace: ForwardTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    primals, tangents = [], []
    for x in leaves:
        if isinstance(x, JVPTracer) and x._trace is trace:
            primals.append(x.primal)
            tangents.append(x.tangent)
        else:
            primals.append(x)
            tangents.append(np.zeros(np.shape(x), x.dtype))
    p_tree = tuple(treedef.unflatten(primals))
    res = call.rule(*nondiff, p_tree, tuple(treedef.unflatten(tangents)))  # type: ignore[misc]
    out, t_out = _check_rule_result(call, res, None)
    out_leaves, out_tree = tree_flatten(out)
    results = [JVPTracer(trace, o, t) if o.dtype.kind in "fc" else o
               for o, t in zip(map(_as_array, out_leaves), map(_as_array, tree_flatten(t_out)[0]))]
    return out_tree.unflatten(results)


def _check_rule_result(call: custom_jvp, res: Any, out_tree: PyTreeDef | None) -> tuple[Any, Any]:
    """Validate what a jvp rule returned: a pair (out, tangent_out) with matching trees, shapes
    and dtypes (and, if given, the output tree the function itself has)."""
    if not (isinstance(res, tuple) and len(res) == 2):
        raise CustomRuleError(
            f"the jvp rule of {call.name} must return a pair (out, tangent_out), but returned "
            f"{_describe_value(res)}."
        )
    out, t_out = res
    out_leaves, o_tree = tree_flatten(out)
    t_with_path, t_tree = tree_flatten_with_path(t_out)
    if t_tree != o_tree or (out_tree is not None and o_tree != out_tree):
        raise CustomRuleError(
            f"the jvp rule of {call.name} returned tangents with tree structure {t_tree} for an output "
            f"with {o_tree}" + (f"; {call.name} itself returns {out_tree}." if out_tree is not None else ".")
        )
    for o, (path, t) in zip(out_leaves, t_with_path):
        o, t = _as_array(o), _as_array(t)
        if tuple(t.shape) != tuple(o.shape) or (o.dtype.kind in "fc" and t.dtype != o.dtype):
            raise CustomRuleError(
                f"the jvp rule of {call.name} returned a tangent of shape {tuple(t.shape)} and dtype "
                f"{t.dtype} for {keystr(path, 'output')}, whose value has shape {tuple(o.shape)} and "
                f"dtype {o.dtype}."
            )
    return out, t_out


# --- batching -------------------------------------------------------------------------------


def _wrap_batched(trace: BatchTrace, out: Any) -> Any:
    leaves, tree = tree_flatten(out)
    return tree.unflatten(BatchTracer(trace, _as_array(x), 0) for x in leaves)


def _vjp_batch(call: custom_vjp, trace: BatchTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    from .vmap import vmap

    vals, dims = trace.split(leaves)
    axes = tuple(treedef.unflatten(dims))
    size = trace.axis_size

    def joined(*diff: Any) -> Any:
        return call._join(nondiff, diff)

    # The per-example bwd returns cotangents with the batch axis in front; each must be shaped like
    # its batched argument: summed over the batch for an unbatched one, the batch axis moved to
    # where the argument has it otherwise.
    per_example_bwd = vmap(lambda res, ct: call.bwd(*nondiff, res, ct), in_axes=(0, 0),  # type: ignore[misc]
                           axis_size=size)
    arg_dims, start = [], 0
    for a in treedef.unflatten(vals):
        n = len(tree_flatten(a)[0])
        arg_dims.append(dims[start:start + n])
        start += n

    def bwd(res: Any, ct: Any) -> Any:
        cts = per_example_bwd(res, ct)
        if not isinstance(cts, (tuple, list)) or len(cts) != len(arg_dims):
            return cts  # the usual check reports it
        return tuple(None if c is None else _unbatch_cotangent(c, d) for c, d in zip(cts, arg_dims))

    batched = custom_vjp(vmap(lambda *d: call.fun(*joined(*d)), in_axes=axes, axis_size=size))
    batched.name = call.name
    batched.defvjp(vmap(lambda *d: call.fwd(*joined(*d)), in_axes=axes, axis_size=size), bwd)  # type: ignore[misc]
    return _wrap_batched(trace, batched(*treedef.unflatten(vals)))


def _unbatch_cotangent(ct: Any, dims: list) -> Any:
    from .prims.reductions import reduce_sum
    from .prims.shape import transpose

    leaves, tree = tree_flatten(ct)
    if len(leaves) != len(dims):
        return ct  # the usual check reports the mismatch
    out = []
    for g, d in zip(leaves, dims):
        g = _as_array(g)
        if d is None:
            g = reduce_sum(g, axis=(0,), keepdims=False)
        elif d != 0:
            perm = list(range(1, g.ndim))
            perm.insert(d, 0)
            g = transpose(g, axes=tuple(perm))
        out.append(g)
    return tree.unflatten(out)


def _jvp_batch(call: custom_jvp, trace: BatchTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    from .vmap import vmap

    vals, dims = trace.split(leaves)
    axes = tuple(treedef.unflatten(dims))
    size = trace.axis_size

    def joined(*diff: Any) -> Any:
        return call._join(nondiff, diff)

    batched = custom_jvp(vmap(lambda *d: call.fun(*joined(*d)), in_axes=axes, axis_size=size))
    batched.name = call.name
    batched.defjvp(vmap(lambda p, t: call.rule(*nondiff, p, t), in_axes=(axes, axes),  # type: ignore[misc]
                        axis_size=size))
    return _wrap_batched(trace, batched(*treedef.unflatten(vals)))


# --- staging (jit) ---------------------------------------------------------------------------


def _staged(call: _Custom, trace: StagingTrace, nondiff: tuple, leaves: list, treedef: PyTreeDef) -> Any:
    """Under jit the call becomes one custom-call equation whose body is compiled; transforming
    the program later (``grad(jit(f))``) meets the custom function again and uses its rules."""
    return trace.custom_call(call, nondiff, leaves, treedef)


_HANDLERS: dict[tuple[type, type], Callable[..., Any]] = {
    (custom_vjp, StagingTrace): _staged,
    (custom_jvp, StagingTrace): _staged,
    (custom_vjp, ReverseTrace): _vjp_reverse,
    (custom_vjp, ForwardTrace): _vjp_forward,
    (custom_vjp, BatchTrace): _vjp_batch,
    (custom_jvp, ReverseTrace): _jvp_reverse,
    (custom_jvp, ForwardTrace): _jvp_forward,
    (custom_jvp, BatchTrace): _jvp_batch,
}


def checkpoint(f: Callable[..., Any], static_argnums: Sequence[int] = ()) -> Callable[..., Any]:
    """Rematerialisation: reverse mode stores only ``f``'s inputs and recomputes its
    intermediates during the backward pass, trading compute for memory. Arguments in
    ``static_argnums`` (functions, flags) are passed through untouched.

    Under ``jit`` the recomputation stays a recomputation: it starts from an optimisation
    barrier, so the compiler does not merge it back into the forward pass.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.grad(fg.checkpoint(lambda x: fnp.sum(fnp.sin(x))))(np.zeros(2))
    array([1., 1.])
    """
    from .api import vjp
    from .prims.shape import optimization_barrier

    static = tuple(static_argnums)

    def recompute(*args: Any) -> Any:
        *nondiff, saved, ct = args
        diff = [tree_map(optimization_barrier, a) for a in saved]

        def body(*d: Any) -> Any:
            return f(*wrapped._join(tuple(nondiff), d))

        return vjp(body, *diff)[1](ct)

    wrapped = custom_vjp(f, nondiff_argnums=static)
    wrapped.defvjp(lambda *args: (f(*args), wrapped._split(args)[1]), recompute)
    return wrapped


remat = checkpoint
