"""User-defined derivative rules: ``custom_vjp``, ``custom_jvp``, and ``checkpoint``.

A call of a custom function with traced arguments binds a higher-order primitive
(``custom_vjp_call`` or ``custom_jvp_call``) whose parameters hold the custom function and, when
staged by ``jit``, the closed program of its body. Its rules are the user's: reverse mode runs
``fwd`` and records ``bwd`` as the backward function; forward mode runs the jvp rule (for
``custom_vjp`` it differentiates the function itself); ``vmap`` re-wraps the function and its
rules in ``vmap`` one level down. With no tracer, the function just runs.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from ._backend import is_foreign_array, zeros_like_shape
from .api import _describe_value
from .core import Primitive, Tracer, find_top_trace, higher_order_primitives
from .errors import CustomRuleError
from .ir.program import ShapedArray
from .traces.staging import trace_to_program
from .tree_util import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_map

__all__ = ["custom_vjp", "custom_jvp", "checkpoint", "remat", "checkpoint_name", "SymbolicZero", "CustomVJPPrimal",
           "custom_vmap", "custom_gradient", "linear_transpose", "closure_convert"]


def _as_array(x: Any) -> Any:
    return x if isinstance(x, (np.ndarray, Tracer)) or is_foreign_array(x) else np.asarray(x)


class SymbolicZero:
    """A cotangent known to be zero, handed to a ``custom_vjp`` bwd defined with
    ``symbolic_zeros=True`` instead of an array of zeros (``shape``, ``dtype`` as the output's)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple, dtype: Any) -> None:
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    def __repr__(self) -> str:
        return f"SymbolicZero(shape={self.shape}, dtype={self.dtype.name})"


class CustomVJPPrimal:
    """A differentiable argument leaf as a ``custom_vjp`` fwd defined with ``symbolic_zeros=True``
    sees it: ``value``, and ``perturbed`` (whether a derivative is taken with respect to it)."""

    __slots__ = ("value", "perturbed")

    def __init__(self, value: Any, perturbed: bool) -> None:
        self.value, self.perturbed = value, bool(perturbed)

    def __repr__(self) -> str:
        return f"CustomVJPPrimal(value={self.value!r}, perturbed={self.perturbed})"


class _OutTree:
    """Where a custom call's rule leaves its output's tree structure for the caller."""

    __slots__ = ("tree",)

    def __init__(self, tree: PyTreeDef | None = None) -> None:
        self.tree: Any = tree  # the output tree, set when the call has run


class _Custom:
    """What custom_vjp and custom_jvp share: nondiff_argnums handling and dispatch."""

    _primitive: Primitive  # set on each subclass

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: int | Sequence[int] = (),
                 nondiff_argnames: str | Sequence[str] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = getattr(fun, "__name__", type(fun).__name__)
        nums = [nondiff_argnums] if isinstance(nondiff_argnums, int) else list(nondiff_argnums)
        names = [nondiff_argnames] if isinstance(nondiff_argnames, str) else list(nondiff_argnames)
        if names:
            try:
                params = [p.name for p in inspect.signature(fun).parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                params = []
            for n in names:
                if n not in params:
                    raise CustomRuleError(
                        f"{self.name}: nondiff_argnames names {n!r}, which is not a positional parameter "
                        f"of {self.name} (its parameters: {', '.join(params) or 'unknown'}).")
                nums.append(params.index(n))
        self.nondiff_argnums = tuple(sorted(set(nums)))

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
            if not isinstance(x, (np.ndarray, np.generic, Tracer, bool, int, float, complex)) and not (
                    is_foreign_array(x)):
                raise CustomRuleError(
                    f"{self.name} got a {type(x).__qualname__} among its differentiable arguments; "
                    "pass non-array arguments (functions, flags, configuration) through "
                    "nondiff_argnums (static_argnums for checkpoint)."
                )
        leaves = [_as_array(x) for x in leaves]
        trace = find_top_trace(leaves, self.name)
        if trace is None:
            return self.fun(*args)
        store = _OutTree()
        program = None
        if trace.records_programs:  # staged: hold the body's program, compiled for the primal
            def body(*xs: Any) -> Any:
                return self.fun(*self._join(nondiff, tuple(treedef.unflatten(xs))))

            program, captured, store.tree = trace_to_program(
                body, [ShapedArray(tuple(x.shape), np.dtype(x.dtype)) for x in leaves],
                [f"{self.name} argument {i}" for i in range(len(leaves))])
            if captured:  # the body closes over traced values of an enclosing transformation: inline it
                return body(*leaves)
        outs = self._primitive.bind(*leaves, call=self, nondiff=nondiff, in_tree=treedef, out_store=store,
                                    program=program)
        return store.tree.unflatten(outs)

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

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = (),
                 nondiff_argnames: Sequence[str] = ()) -> None:
        super().__init__(fun, nondiff_argnums, nondiff_argnames)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        self.symbolic_zeros = False

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any], symbolic_zeros: bool = False) -> None:
        """Set the forward (``(out, residuals)``) and backward (cotangents) functions.

        ``bwd`` may return ``None`` for an argument (or a leaf) that gets no cotangent. With
        ``symbolic_zeros=True``, ``fwd`` receives each differentiable argument leaf as a
        :class:`CustomVJPPrimal` (``.value``, and ``.perturbed``: whether a derivative is being
        taken with respect to it), and ``bwd`` receives a :class:`SymbolicZero` (``.shape``,
        ``.dtype``) for each output leaf that no cotangent reached, instead of an array of zeros.
        """
        self.fwd, self.bwd, self.symbolic_zeros = fwd, bwd, bool(symbolic_zeros)

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

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = (),
                 nondiff_argnames: Sequence[str] = ()) -> None:
        super().__init__(fun, nondiff_argnums, nondiff_argnames)
        self.rule: Callable[..., Any] | None = None

    def defjvp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Set the jvp rule ``rule(*nondiff_args, primals, tangents) -> (out, tangent_out)``; usable as a
        decorator."""
        self.rule = rule
        return rule

    def defjvps(self, *jvps: Callable[..., Any] | None) -> None:
        """One rule per differentiable argument: ``jvps[i](t_i, out, *primals)`` is argument
        ``i``'s contribution to the output tangent (``None``: the output does not depend on it);
        contributions are summed.

        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> f = fg.custom_jvp(lambda x, y: x * y)
        >>> f.defjvps(lambda tx, out, x, y: tx * y, lambda ty, out, x, y: x * ty)
        >>> fg.grad(f, argnums=(0, 1))(np.array(2.0), np.array(3.0))
        (array(3.), array(2.))
        """
        if self.nondiff_argnums:
            raise CustomRuleError(f"{self.name}: defjvps does not support nondiff_argnums; use defjvp.")

        def rule(primals: tuple, tangents: tuple) -> tuple:
            out = self.fun(*primals)
            if len(jvps) != len(primals):
                raise CustomRuleError(
                    f"{self.name}.defjvps got {len(jvps)} rules for {len(primals)} differentiable arguments.")
            total = None
            for j, t in zip(jvps, tangents):
                if j is None:
                    continue
                c = j(t, out, *primals)
                total = c if total is None else tree_map(lambda a, b: a + b, total, c)
            if total is None:
                total = tree_map(lambda o: zeros_like_shape(o, np.shape(o), _dtype(o)), out)
            return out, total

        self.rule = rule

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
    out: list[Any] = []
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


# --- the primitives and their rules ------------------------------------------------------------
#
# Operands are the flat leaves of the differentiable arguments. Parameters: ``call`` (the
# custom_vjp/custom_jvp object), ``nondiff`` (the nondiff_argnums values), ``in_tree`` (the
# arguments' tree), ``out_store`` (where a rule leaves the output tree) and ``program`` (the
# body's closed program when staged by jit, else None).


def _dtype(x: Any) -> np.dtype:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _run_fun(call: _Custom, nondiff: tuple, in_tree: PyTreeDef, out_store: _OutTree, leaves: Sequence[Any]) -> list:
    out = call.fun(*call._join(nondiff, tuple(in_tree.unflatten(leaves))))
    out_leaves, out_store.tree = tree_flatten(out)
    return [_as_array(o) for o in out_leaves]


def _custom_impl(*leaves: Any, call: _Custom, nondiff: tuple, in_tree: PyTreeDef, out_store: _OutTree,
                 program: Any) -> list:
    if program is not None:
        from .jit import entry_of

        return list(entry_of(program, call.name).compiled.fn(*leaves))
    return _run_fun(call, nondiff, in_tree, out_store, leaves)


def _custom_abstract_eval(*avals: Any, program: Any, **params: Any) -> list:
    return [ShapedArray(a.shape, a.dtype) for a in program.out_avals]


def _zeros_for(primals: Sequence[Any], tangents: Sequence[Any]) -> list:
    return [zeros_like_shape(p, np.shape(p), _dtype(p)) if t is None else t for p, t in zip(primals, tangents)]


def _vjp_call_vjp(primals: list, mask: tuple, call: custom_vjp, nondiff: tuple, in_tree: PyTreeDef,
                  out_store: _OutTree, program: Any) -> tuple[list, Callable[[list], list]]:
    """Reverse mode of a custom_vjp call: the user's fwd now, the user's bwd in the backward pass."""
    p_tree = tuple(in_tree.unflatten(primals))
    symbolic = call.symbolic_zeros
    fwd_args = tuple(in_tree.unflatten([CustomVJPPrimal(p, m) for p, m in zip(primals, mask)])) if symbolic else p_tree
    res = call.fwd(*call._join(nondiff, fwd_args))  # type: ignore[misc]
    if not (isinstance(res, tuple) and len(res) == 2):
        raise CustomRuleError(f"the fwd of {call.name} must return a pair (out, residuals).")
    out, residuals = res
    out_leaves, out_tree = tree_flatten(out)
    out_store.tree = out_tree
    out_leaves = [_as_array(o) for o in out_leaves]

    def bwd(cts: list) -> list:
        if symbolic:
            cts = [SymbolicZero(np.shape(o), _dtype(o)) if c is None else c for c, o in zip(cts, out_leaves)]
        raw = call.bwd(*nondiff, residuals, out_tree.unflatten(cts))  # type: ignore[misc]
        if symbolic and isinstance(raw, (tuple, list)):  # a SymbolicZero result means no cotangent
            raw = type(raw)(None if isinstance(c, SymbolicZero) else tree_map(
                lambda leaf, p: zeros_like_shape(p, np.shape(p), _dtype(p)) if isinstance(leaf, SymbolicZero) else leaf,
                c, a)
                if c is not None else None for c, a in zip(raw, p_tree))
        return _check_cts(call.name, raw, p_tree, "bwd")

    bwd.symbolic_zeros = symbolic  # type: ignore[attr-defined]
    return out_leaves, bwd


def _vjp_call_jvp(primals: list, tangents: list, call: custom_vjp, nondiff: tuple, in_tree: PyTreeDef,
                  out_store: _OutTree, program: Any) -> tuple[list, list]:
    """Forward mode of a custom_vjp call differentiates the function itself."""
    from .api import jvp

    outs, touts = jvp(lambda *xs: _run_fun(call, nondiff, in_tree, out_store, xs), primals,
                      _zeros_for(primals, tangents))
    return list(outs), list(touts)


def _jvp_call_jvp(primals: list, tangents: list, call: custom_jvp, nondiff: tuple, in_tree: PyTreeDef,
                  out_store: _OutTree, program: Any) -> tuple[list, list]:
    """Forward mode of a custom_jvp call: the user's rule."""
    p_tree = tuple(in_tree.unflatten(primals))
    res = call.rule(*nondiff, p_tree, tuple(in_tree.unflatten(_zeros_for(primals, tangents))))  # type: ignore[misc]
    out, t_out = _check_rule_result(call, res, None)
    out_leaves, out_store.tree = tree_flatten(out)
    return [_as_array(o) for o in out_leaves], [_as_array(t) for t in tree_flatten(t_out)[0]]


def _jvp_call_vjp(primals: list, mask: tuple, call: custom_jvp, nondiff: tuple, in_tree: PyTreeDef,
                  out_store: _OutTree, program: Any) -> tuple[list, Callable[[list], list]]:
    """Reverse mode of a custom_jvp call transposes the user's rule (it is linear in the tangents:
    its vjp with respect to them is its transpose)."""
    from .api import vjp

    primals_tree = tuple(in_tree.unflatten(primals))
    outs = _run_fun(call, nondiff, in_tree, out_store, primals)
    out_tree = out_store.tree

    def bwd(cts: list) -> list:
        zeros = [zeros_like_shape(x, np.shape(x), _dtype(x)) for x in primals]

        def tangent_out(*tangent_leaves: Any) -> Any:
            res = call.rule(*nondiff, primals_tree, tuple(in_tree.unflatten(tangent_leaves)))  # type: ignore[misc]
            return _check_rule_result(call, res, out_tree)[1]

        return list(vjp(tangent_out, *zeros)[1](out_tree.unflatten(cts)))

    return outs, bwd


def _vjp_call_batch(vals: tuple, dims: tuple, call: custom_vjp, nondiff: tuple, in_tree: PyTreeDef,
                    out_store: _OutTree, program: Any) -> tuple[list, list]:
    """vmap of a custom_vjp call: a custom_vjp of the vmapped function with vmapped rules."""
    from .vmap import vmap

    axes = tuple(in_tree.unflatten(dims))
    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)

    def joined(*diff: Any) -> Any:
        return call._join(nondiff, diff)

    # The per-example bwd returns cotangents with the batch axis in front; each must be shaped like
    # its batched argument: summed over the batch for an unbatched one, the batch axis moved to
    # where the argument has it otherwise.
    per_example_bwd = vmap(lambda res, ct: call.bwd(*nondiff, res, ct), in_axes=(0, 0),  # type: ignore[misc]
                           axis_size=size)
    arg_dims, start = [], 0
    for a in in_tree.unflatten(vals):
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
    def fwd(*d: Any) -> Any:
        if call.symbolic_zeros:  # every example's arguments are perturbed, its cotangents arrays
            d = tuple(tree_map(lambda v: CustomVJPPrimal(v, True), a) for a in d)
        return call.fwd(*joined(*d))  # type: ignore[misc]

    batched.defvjp(vmap(fwd, in_axes=axes, axis_size=size), bwd)
    return _flat_batched(out_store, batched(*in_tree.unflatten(vals)))


def _flat_batched(out_store: _OutTree, out: Any) -> tuple[list, list]:
    leaves, out_store.tree = tree_flatten(out)
    return [_as_array(x) for x in leaves], [0] * len(leaves)


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


def _unbatch_cotangent(ct: Any, dims: Sequence[Any]) -> Any:
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


def _jvp_call_batch(vals: tuple, dims: tuple, call: custom_jvp, nondiff: tuple, in_tree: PyTreeDef,
                    out_store: _OutTree, program: Any) -> tuple[list, list]:
    """vmap of a custom_jvp call: a custom_jvp of the vmapped function with the vmapped rule."""
    from .vmap import vmap

    axes = tuple(in_tree.unflatten(dims))
    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)

    def joined(*diff: Any) -> Any:
        return call._join(nondiff, diff)

    batched = custom_jvp(vmap(lambda *d: call.fun(*joined(*d)), in_axes=axes, axis_size=size))
    batched.name = call.name
    batched.defjvp(vmap(lambda p, t: call.rule(*nondiff, p, t), in_axes=(axes, axes),  # type: ignore[misc]
                        axis_size=size))
    return _flat_batched(out_store, batched(*in_tree.unflatten(vals)))


def _emit_call(e: Any, args: list, bind: Callable[..., str]) -> str:
    from .jit import compiling_backend, entry_of

    # The body compiles with the enclosing program's backend (a checkpointed scan under jit(backend="numba")
    # runs as a Numba loop kernel).
    entry = entry_of(e.params["program"], e.params["call"].name, backend=compiling_backend())
    return f"{bind(entry.compiled.fn, 'custom_')}({', '.join(args)})"


custom_vjp_call_p = Primitive(
    "custom_vjp_call", _custom_impl, multiple_results=True, abstract_eval=_custom_abstract_eval,
    jvp_all=_vjp_call_jvp, vjp_all=_vjp_call_vjp, batch=_vjp_call_batch, emit=_emit_call, register=False)
custom_jvp_call_p = Primitive(
    "custom_jvp_call", _custom_impl, multiple_results=True, abstract_eval=_custom_abstract_eval,
    jvp_all=_jvp_call_jvp, vjp_all=_jvp_call_vjp, batch=_jvp_call_batch, emit=_emit_call, register=False)
custom_vjp._primitive = custom_vjp_call_p
custom_jvp._primitive = custom_jvp_call_p
higher_order_primitives.update({p.name: p for p in (custom_vjp_call_p, custom_jvp_call_p)})


def _barrier_impl(*xs: Any) -> list:
    return list(xs)


def _barrier_jvp(primals: list, tangents: list) -> tuple[list, list]:
    return list(remat_barrier_p.bind(*primals)), list(tangents)


def _barrier_vjp(primals: list, mask: tuple) -> tuple[list, Callable[[list], list]]:
    return list(remat_barrier_p.bind(*primals)), list


# Returns its operands unchanged, as one operation the optimiser does not look through: the
# recomputation of a checkpointed function starts from it, with the cotangents among its
# operands, so the recomputation depends on them and stays in the backward program (it is
# neither merged with the forward pass by CSE nor moved into it when a joint forward-backward
# program is split).
remat_barrier_p = Primitive(
    "remat_barrier", _barrier_impl, multiple_results=True,
    abstract_eval=lambda *avals: [ShapedArray(a.shape, a.dtype) for a in avals],
    jvp_all=_barrier_jvp, vjp_all=_barrier_vjp, batch=lambda vals, dims: (list(vals), list(dims)),
    emit=lambda e, args, bind: "(" + "".join(a + ", " for a in args) + ")", register=False)
higher_order_primitives[remat_barrier_p.name] = remat_barrier_p


def _split_args(nondiff_argnums: Sequence[int], args: tuple) -> tuple[tuple, tuple]:
    """(the non-differentiable arguments, the differentiable ones)."""
    return (tuple(args[i] for i in nondiff_argnums),
            tuple(a for i, a in enumerate(args) if i not in nondiff_argnums))


def _join_args(nondiff_argnums: Sequence[int], nondiff: tuple, diff: Sequence[Any]) -> tuple:
    """The arguments in call order from the non-differentiable and differentiable ones."""
    args, nd, d = [], iter(nondiff), iter(diff)
    for i in range(len(nondiff) + len(diff)):
        args.append(next(nd) if i in nondiff_argnums else next(d))
    return tuple(args)


def _name_impl(x: Any, name: str) -> Any:
    return x


name_p = Primitive(
    "name", _name_impl, jvp=(lambda t, out, x, name: t,), vjp=(lambda ct, out, x, name: ct,),
    batch=lambda args, dims, name: (args[0], dims[0]), emit=lambda e, args, bind: args[0], register=False)


def checkpoint_name(x: Any, name: str) -> Any:
    """Name ``x`` for the checkpoint policies ``save_only_these_names`` /
    ``save_anything_except_these_names``; returns ``x`` unchanged.

    >>> import numpy as np, funcgrad as fg
    >>> fg.checkpoint_name(np.ones(2), "h")
    array([1., 1.])
    """
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: the name must be a str, got {type(name).__name__}")
    return name_p.bind(x, name=name)


class _SavedRules:
    """The per-operand rules of ``rematerialized``: operand 0 is the saved value (no derivative
    flows through it: the derivative flows through the operation's real operands), operand
    ``i`` is the operation's operand ``i - 1`` and uses the operation's own rule."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getitem__(self, i: int) -> Any:
        if i == 0:
            return lambda t, out, saved, *ins, prim, params: t * 0
        kind = self.kind

        def rule(t: Any, out: Any, saved: Any, *ins: Any, prim: Primitive, params: dict) -> Any:
            own = getattr(prim, kind)
            if own is None or own[i - 1] is None:
                raise NotImplementedError(f"{kind} of {prim.name} with respect to operand {i - 1}")
            return own[i - 1](t, out, *ins, **params)

        return rule


def _saved_batch(args: tuple, dims: tuple, prim: Primitive, params: dict) -> Any:
    assert prim.batch is not None  # set only for primitives that batch
    return prim.batch(args[1:], dims[1:], **params)  # recompute: batched values were not saved


# ``rematerialized(saved, *operands, prim, params)`` is ``prim(*operands, **params)`` whose result
# ``saved`` was kept from the forward pass: replaying a checkpointed function with it computes
# nothing again, yet differentiates like ``prim``.
remat_saved_p = Primitive(
    "rematerialized", lambda saved, *ins, prim, params: saved, jvp=_SavedRules("jvp"), vjp=_SavedRules("vjp"),
    batch=_saved_batch, abstract_eval=lambda saved, *ins, prim, params: saved, register=False)


def _replaceable(e: Any) -> bool:
    return not (e.prim.multiple_results or e.prim.nondiff or e.prim.vjp is None)


def _saved_indices(program: Any, policy: Callable[..., bool]) -> set:
    """The equations whose results the policy keeps. A kept ``checkpoint_name`` also keeps the
    operation that computed the named value (it is the same value), so it is not recomputed."""
    from .ir.program import Var

    producer = {}
    chosen = set()
    for k, e in enumerate(program.eqns):
        if type(e.out) is Var:
            producer[e.out] = k
        if _replaceable(e) and policy(e.prim, *[a.aval for a in e.inputs], **e.params):
            chosen.add(k)
            if e.prim is name_p and type(e.inputs[0]) is Var and e.inputs[0] in producer:
                j = producer[e.inputs[0]]
                if _replaceable(program.eqns[j]):
                    chosen.add(j)
    return chosen


def _program_of(f: Callable[..., Any], nondiff: tuple, diff: Sequence[Any], join: Callable[..., tuple]) -> tuple:
    leaves, tree = tree_flatten(tuple(diff))
    leaves = [_as_array(x) for x in leaves]
    avals = [ShapedArray(tuple(np.shape(x)), _dtype(x)) for x in leaves]
    program, captured, out_tree = trace_to_program(
        lambda *xs: f(*join(nondiff, tree.unflatten(xs))), avals, [f"argument {i}" for i in range(len(leaves))])
    return program, leaves + list(captured), out_tree


def _replay(program: Any, args: Sequence[Any], policy: Callable[..., bool], saved: Sequence[Any] | None) -> tuple:
    """Evaluate ``program``; with ``saved`` None, return the results of the saveable operations
    too; else use them in place of recomputing those operations."""
    from .ir.program import Var

    env: dict = dict(program.consts)
    env.update(zip(program.inputs, args))
    kept: list = []
    it = iter(saved or ())
    chosen = _saved_indices(program, policy)
    for k, e in enumerate(program.eqns):
        ins = [env[a] if type(a) is Var else a.value for a in e.inputs]
        if k in chosen:
            if saved is None:
                out = e.prim.bind(*ins, **e.params)
                kept.append(out)
            else:
                out = remat_saved_p.bind(next(it), *ins, prim=e.prim, params=e.params)
        else:
            out = e.prim.bind(*ins, **e.params)
        if type(e.out) is tuple:
            env.update(zip(e.out, out))
        else:
            env[e.out] = out
    return [env[a] if type(a) is Var else a.value for a in program.outputs], kept


def checkpoint(f: Callable[..., Any], policy: Callable[..., bool] | None = None, prevent_cse: bool = True,
               static_argnums: int | Sequence[int] = ()) -> Callable[..., Any]:
    """Rematerialisation: reverse mode stores only ``f``'s inputs (and, with a ``policy``, the
    intermediates it says to save) and recomputes the other intermediates during the backward
    pass, trading compute for memory. Arguments in ``static_argnums`` (functions, flags) are
    passed through untouched.

    ``policy`` is one of :mod:`funcgrad.checkpoint_policies` (``dots_saveable``,
    ``save_only_these_names(...)`` with :func:`checkpoint_name`, ...). With ``prevent_cse``
    (the default) the recomputation under ``jit`` starts from an optimisation barrier tied to the
    cotangents, so the compiler neither merges it with the forward pass nor moves it there;
    ``prevent_cse=False`` lets it (inside a ``scan`` body, say, where the forward and backward
    passes are separate programs anyway).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.grad(fg.checkpoint(lambda x: fnp.sum(fnp.sin(x))))(np.zeros(2))
    array([1., 1.])
    """
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    wrapped = custom_vjp(f, nondiff_argnums=static)
    # Not wrapped._split/_join: bound methods would tie the rules to `wrapped`, which holds them,
    # a reference cycle keeping f's closed-over arrays alive until the garbage collector runs.
    wrapped.defvjp(*_checkpoint_rules(f, static, policy, prevent_cse, functools.partial(_split_args, static),
                                      functools.partial(_join_args, static)))
    return wrapped


def _checkpoint_rules(f: Callable[..., Any], static: tuple, policy: Callable[..., bool] | None,
                      prevent_cse: bool, split: Callable[..., Any], join: Callable[..., Any]) -> tuple:
    """(fwd, bwd) of a checkpointed ``f``; they do not refer to the wrapper (no reference cycle)."""
    from .api import vjp

    def fwd(*args: Any) -> tuple:
        nondiff, diff = split(args)
        if policy is None:
            return f(*args), (diff, ())
        program, leaves, out_tree = _program_of(f, nondiff, diff, join)
        outs, kept = _replay(program, leaves, policy, None)
        return out_tree.unflatten(outs), (diff, tuple(kept))

    def bwd(*args: Any) -> Any:
        *nondiff_args, (saved_diff, kept), ct = args
        nondiff = tuple(nondiff_args)
        saved_leaves, saved_tree = tree_flatten(saved_diff)
        ct_leaves, ct_tree = tree_flatten(ct)
        if prevent_cse:
            fenced = remat_barrier_p.bind(*map(_as_array, saved_leaves), *map(_as_array, kept),
                                          *map(_as_array, ct_leaves))
            n, k = len(saved_leaves), len(kept)
            saved_leaves, kept, ct_leaves = fenced[:n], fenced[n:n + k], fenced[n + k:]
        diff = saved_tree.unflatten(saved_leaves)
        ct = ct_tree.unflatten(ct_leaves)
        if policy is None:
            return vjp(lambda *d: f(*join(nondiff, d)), *diff)[1](ct)
        program, args_all, out_tree = _program_of(f, nondiff, diff, join)
        captured = args_all[len(saved_leaves):]  # closed-over traced values, extra program inputs

        def replayed(*d: Any) -> Any:
            leaves = tree_flatten(tuple(d))[0]
            return out_tree.unflatten(_replay(program, list(leaves) + captured, policy, kept)[0])

        return vjp(replayed, *diff)[1](ct)

    return fwd, bwd


remat = checkpoint


# --- custom_vmap ----------------------------------------------------------------------------------


class custom_vmap:
    """A function with a user-supplied batching rule.

    ``f.def_vmap(rule)``: ``rule(axis_size, in_batched, *args)`` gets the batch size, a tuple
    (one entry per argument, a pytree of bools like it) saying which arguments are batched, and
    the arguments (batched ones with the batch axis first); it returns ``(out, out_batched)``.
    Derivatives differentiate ``f`` itself.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> f = fg.custom_vmap(lambda x: fnp.sum(x))
    >>> _ = f.def_vmap(lambda size, batched, x: (fnp.sum(x, axis=1) * 10.0, True))  # visibly custom
    >>> fg.vmap(f)(np.ones((2, 3)))
    array([30., 30.])
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = getattr(fun, "__name__", type(fun).__name__)
        self.rule: Callable[..., Any] | None = None

    def def_vmap(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Set the batching rule; usable as a decorator."""
        self.rule = rule
        return rule

    def __call__(self, *args: Any) -> Any:
        if self.rule is None:
            raise CustomRuleError(f"custom_vmap function {self.name} has no rule; call {self.name}.def_vmap(rule).")
        leaves, treedef = tree_flatten(args)
        leaves = [_as_array(x) for x in leaves]
        trace = find_top_trace(leaves, self.name)
        if trace is None:
            return self.fun(*args)
        store = _OutTree()
        program = None
        if trace.records_programs:
            program, captured, store.tree = trace_to_program(
                lambda *xs: self.fun(*treedef.unflatten(xs)),
                [ShapedArray(tuple(x.shape), np.dtype(x.dtype)) for x in leaves],
                [f"{self.name} argument {i}" for i in range(len(leaves))])
            if captured:
                return self.fun(*treedef.unflatten(leaves))
        outs = custom_vmap_call_p.bind(*leaves, call=self, nondiff=(), in_tree=treedef, out_store=store,
                                       program=program)
        return store.tree.unflatten(outs)

    def _join(self, nondiff: tuple, diff: Sequence[Any]) -> tuple:
        return tuple(diff)


def _vmap_call_batch(vals: tuple, dims: tuple, call: custom_vmap, nondiff: tuple, in_tree: PyTreeDef,
                     out_store: _OutTree, program: Any) -> tuple[list, list]:
    from .prims.factories import batch_to_front

    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    args = in_tree.unflatten([v if d is None else batch_to_front(v, d) for v, d in zip(vals, dims)])
    in_batched = tuple(in_tree.unflatten([d is not None for d in dims]))
    res = call.rule(size, in_batched, *args)  # type: ignore[misc]
    if not (isinstance(res, tuple) and len(res) == 2):
        raise CustomRuleError(f"the vmap rule of {call.name} must return a pair (out, out_batched).")
    out, out_batched = res
    out_leaves, out_store.tree = tree_flatten(out)
    if isinstance(out_batched, bool):
        flags = [out_batched] * len(out_leaves)
    else:
        flags = tree_flatten(out_batched)[0]
        if len(flags) != len(out_leaves):
            raise CustomRuleError(
                f"the vmap rule of {call.name} returned out_batched with {len(flags)} entries for "
                f"{len(out_leaves)} outputs; give one bool per output leaf (or a single bool).")
    return [_as_array(o) for o in out_leaves], [0 if b else None for b in flags]


def _vmap_call_jvp(primals: list, tangents: list, call: Any, nondiff: tuple, in_tree: PyTreeDef,
                   out_store: _OutTree, program: Any) -> tuple[list, list]:
    from .api import jvp

    outs, touts = jvp(lambda *xs: _run_fun(call, nondiff, in_tree, out_store, xs), primals,
                      _zeros_for(primals, tangents))
    return list(outs), list(touts)


def _vmap_call_vjp(primals: list, mask: tuple, call: Any, nondiff: tuple, in_tree: PyTreeDef,
                   out_store: _OutTree, program: Any) -> tuple[list, Callable[[list], list]]:
    from .api import vjp

    outs, pullback = vjp(lambda *xs: _run_fun(call, nondiff, in_tree, out_store, xs), *primals)
    return list(outs), lambda cts: list(pullback(list(cts)))


custom_vmap_call_p = Primitive(
    "custom_vmap_call", _custom_impl, multiple_results=True, abstract_eval=_custom_abstract_eval,
    jvp_all=_vmap_call_jvp, vjp_all=_vmap_call_vjp, batch=_vmap_call_batch, emit=_emit_call, register=False)
higher_order_primitives[custom_vmap_call_p.name] = custom_vmap_call_p


# --- custom_gradient, linear_transpose, closure_convert -------------------------------------------


def custom_gradient(fun: Callable[..., Any]) -> custom_vjp:
    """``fun(*args)`` returns ``(out, vjp_fn)``; the result computes ``out`` and differentiates
    with ``vjp_fn(ct)`` (one cotangent per argument, or a bare one for a single argument).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> f = fg.custom_gradient(lambda x: (fnp.sin(x), lambda ct: ct * 100.0))
    >>> fg.grad(f)(np.array(0.5))
    array(100.)
    """
    wrapped = custom_vjp(lambda *args: fun(*args)[0])
    wrapped.name = getattr(fun, "__name__", "custom_gradient")

    def fwd(*args: Any) -> tuple:
        res = fun(*args)
        if not (isinstance(res, tuple) and len(res) == 2 and callable(res[1])):
            raise CustomRuleError(f"{wrapped.name}: a custom_gradient function returns (out, vjp_fn).")
        return res

    def bwd(vjp_fn: Callable[..., Any], ct: Any) -> tuple:
        r = vjp_fn(ct)
        return tuple(r) if isinstance(r, (tuple, list)) else (r,)

    wrapped.defvjp(fwd, bwd)
    return wrapped


def linear_transpose(fun: Callable[..., Any], *primals: Any) -> Callable[..., tuple]:
    """The transpose of the linear function ``fun``, for arguments shaped like ``primals``
    (arrays or :class:`funcgrad.ShapeDtypeStruct`): ``transpose(ct)`` returns one cotangent per
    argument. ``fun`` must be linear (its vjp, taken at zero, is then its transpose).

    >>> import numpy as np, funcgrad as fg
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> fg.linear_transpose(lambda x: a @ x, np.zeros(2))(np.array([1.0, 0.0]))
    (array([1., 2.]),)
    """
    from .api import vjp

    leaves, in_tree = tree_flatten(primals)
    zeros = [zeros_like_shape(x, tuple(np.shape(x) if not hasattr(x, "shape") else x.shape), _dtype(x))
             for x in leaves]  # in the arguments' library (Dask, CuPy)

    def transposed(ct: Any) -> tuple:
        return vjp(fun, *in_tree.unflatten(zeros))[1](ct)

    return transposed


def closure_convert(fun: Callable[..., Any], *example_args: Any) -> tuple[Callable[..., Any], list]:
    """``(converted, consts)``: ``converted(*args, *consts)`` computes ``fun(*args)``, with the
    traced values ``fun`` closes over passed explicitly as ``consts`` — so ``converted`` can be
    a ``custom_vjp`` function (whose rules must not close over traced values).

    >>> import numpy as np, funcgrad as fg
    >>> g, consts = fg.closure_convert(lambda x: x * 2.0, np.ones(2))
    >>> g(np.ones(2), *consts)
    array([2., 2.])
    """
    from .traces.staging import eval_program

    leaves, in_tree = tree_flatten(example_args)
    leaves = [_as_array(x) for x in leaves]
    program, captured, out_tree = trace_to_program(
        lambda *xs: fun(*in_tree.unflatten(xs)), [ShapedArray(tuple(x.shape), _dtype(x)) for x in leaves],
        [f"argument {i}" for i in range(len(leaves))])
    n_args = len(example_args)

    def converted(*args: Any) -> Any:
        if len(args) < n_args:
            raise TypeError(f"closure-converted function takes {n_args} argument(s) and then the consts")
        arg_leaves = tree_flatten(args[:n_args])[0]
        outs = eval_program(program, *arg_leaves, *args[n_args:])
        return out_tree.unflatten(outs)

    return converted, list(captured)
