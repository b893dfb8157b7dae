"""The transformations users call: vjp, grad, value_and_grad, elementwise_grad, jvp.

Each takes a plain Python function of arrays (or pytrees of arrays) and returns plain values
or a plain function, so they compose in any order.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any, Callable, Literal, ParamSpec, Sequence, TypeVar, cast, overload

import numpy as np

if sys.version_info >= (3, 11):  # typing_extensions costs a few ms of `import funcgrad`: only where needed
    from typing import TypeVarTuple, Unpack
else:  # pragma: no cover
    from typing_extensions import TypeVarTuple, Unpack

from ._backend import is_foreign_array, ones_like_shape, zeros_like_shape
from .core import Tracer
from .dtypes import float0
from .errors import (
    ArgnumsError,
    CotangentMismatchError,
    HasAuxError,
    IntegerInputError,
    InvalidLeafError,
    LeakedTracerError,
    NonScalarOutputError,
    TangentMismatchError,
)
from .traces.forward import ForwardTrace, JVPTracer, jvp_tracer
from .traces.reverse import ReverseTrace, ReverseTracer, backward
from .tree_util import Partial, PyTreeDef, describe_unregistered, keystr, tree_flatten, tree_flatten_with_path

__all__ = ["vjp", "grad", "value_and_grad", "elementwise_grad", "jvp"]

_NUMBER_TYPES = (float, int, bool, complex, np.generic)

# Static types: a transformed function keeps ``f``'s parameters (P); R is f's output, A an aux output.
P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")
Ts = TypeVarTuple("Ts")
Pullback = Callable[[Any], "tuple[Any, ...]"]


_INPUT_HINT = (
    " Pass non-array data as a keyword argument (never differentiated) or bind it in a closure "
    "(functools.partial) instead."
)
_OUTPUT_HINT = " To return non-array data alongside the output, use has_aux=True and return (output, aux)."


def _as_leaf(x: Any, where: Callable[[], str], hint: str = _INPUT_HINT, own_trace: Any = None) -> Any:
    """An array-valued leaf (Python numbers become 0-d arrays), or an error naming its place.

    ``where()`` renders the leaf's name (``params['w'][1]``); it is only called to build an error.
    Tracers of an ended transformation other than ``own_trace`` (the one whose outputs these are)
    are leaked tracers.
    """
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, Tracer):
        if not x._trace.alive and x._trace is not own_trace:
            raise LeakedTracerError(
                f"{where()} is a traced value whose transformation has already returned (a leaked "
                "tracer): it was stored outside the function being differentiated and used later. "
                "Return the value from that function instead, or store funcgrad.stop_gradient(value)."
            )
        return x
    if isinstance(x, _NUMBER_TYPES):
        return np.asarray(x)
    if is_foreign_array(x):  # a Dask or CuPy array: NumPy's functions dispatch to its library
        return x
    if type(x).__module__ == "builtins":
        extra = hint  # str, bytes, set, functions...: nothing to register
    else:
        extra = describe_unregistered(x)
    raise InvalidLeafError(
        f"{where()} is a {type(x).__qualname__}, but funcgrad works on arrays, numbers and pytrees "
        f"(tuples, lists, dicts, None, namedtuples, registered classes) of them." + extra
    )


def _arg_name(f: Callable[..., Any], i: int) -> str:
    """The name of ``f``'s positional parameter ``i`` (e.g. ``params``), for error messages."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return f"argument {i}"
    for j, p in enumerate(params):
        if p.kind is p.VAR_POSITIONAL:
            return f"{p.name}[{i - j}]"
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        if j == i:
            return p.name
    return f"argument {i}"


def _leaf_name(f: Callable[..., Any], path: Sequence[Any]) -> str:
    """``params['w'][1]``: a leaf of ``f``'s positional arguments, by parameter name and key path."""
    return keystr(path[1:], _arg_name(f, path[0].idx))


def _path_of(tree: Any, i: int) -> tuple[Any, ...]:
    """The key path of leaf ``i`` of ``tree`` (only computed to name a leaf in an error)."""
    return tree_flatten_with_path(tree)[0][i][0]


def _flatten_args(
    f: Callable[..., Any], args: tuple[Any, ...], prefix: str = "", hint: str = _INPUT_HINT, allow_float0: bool = False
) -> tuple[list[Any], PyTreeDef]:
    """Leaves of ``f``'s positional arguments (validated) and the treedef (``float0`` leaves are
    accepted with ``allow_float0``: the tangents of integer primals)."""
    leaves, treedef = tree_flatten(args)
    for i, v in enumerate(leaves):
        if type(v) is np.ndarray:
            if v.dtype.kind in "fc":  # the common case, without np.dtype(...)
                continue
        else:
            leaves[i] = v = _as_leaf(v, lambda: prefix + _leaf_name(f, _path_of(args, i)), hint)
        if np.dtype(v.dtype).kind not in "biufc" and not (allow_float0 and v.dtype == float0):
            # object, string, datetime arrays: no derivative
            raise InvalidLeafError(
                f"{prefix}{_leaf_name(f, _path_of(args, i))} is an array of dtype {v.dtype}, but funcgrad "
                "differentiates arrays of numbers (float or complex; bool and integer arrays carry no "
                "derivative). Convert it, e.g. np.asarray(x, dtype=float).")
    return leaves, treedef


def _output(x: Any) -> Any:
    """Values handed back to the user are writable NumPy arrays (tracers pass through when
    nested): a read-only result (a broadcast view, a shared constant) is copied."""
    if type(x) is np.ndarray:
        return x if x.flags.writeable else x.copy()
    if isinstance(x, Tracer) or is_foreign_array(x):  # a Dask array stays lazy, a CuPy one on its device
        return x
    return np.array(x)


def _describe_value(x: Any) -> str:
    if isinstance(x, (np.ndarray, Tracer)) or is_foreign_array(x):
        return f"an array of shape {tuple(x.shape)}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"a {type(x).__qualname__}"


def _split_aux(out: Any, has_aux: bool, fname: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        got = _describe_value(out)
        raise HasAuxError(
            f"has_aux=True requires {fname} to return a pair (output, aux), but it returned {got}. "
            "Return `out, aux`, or drop has_aux=True."
        )
    return out[0], out[1]


def _strip(tree: Any, trace: Any) -> Any:
    """Replace this trace's tracers in ``tree`` (auxiliary data) by their primal values."""
    with_path, treedef = tree_flatten_with_path(tree)
    leaves = []
    for _, v in with_path:
        while isinstance(v, Tracer) and v._trace is trace:
            v = v.primal
        keep = isinstance(v, (np.ndarray, Tracer, *_NUMBER_TYPES)) or is_foreign_array(v)
        leaves.append(_output(v) if keep else v)
    return treedef.unflatten(leaves)


def _fname(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _describe(x: Any) -> str:
    return f"shape {tuple(x.shape)} and dtype {x.dtype}"


@overload
def vjp(f: Callable[[Unpack[Ts]], R], *primals: Unpack[Ts], has_aux: Literal[False] = False) -> tuple[R, Pullback]: ...
@overload
def vjp(f: Callable[[Unpack[Ts]], tuple[R, A]], *primals: Unpack[Ts], has_aux: Literal[True]
        ) -> tuple[R, Pullback, A]: ...
def vjp(  # type: ignore[misc]  # mypy does not match *primals: Any to the overloads' *Unpack[Ts]
    f: Callable[..., Any], *primals: Any, has_aux: bool = False,
) -> tuple[Any, ...]:
    """Evaluate ``f(*primals)`` and return ``(out, pullback)`` (or ``(out, pullback, aux)``).

    ``pullback(ct)`` computes the vector-Jacobian product ctᵀ·J: ``ct`` has the tree, shapes and
    dtypes of ``out``, and the result is a tuple with one cotangent per primal, each shaped like
    it. This is what PyTorch's ``y.backward(ct)`` accumulates into ``.grad``. The pullback may be
    called any number of times.

    >>> import numpy as np, funcgrad as fg
    >>> out, pullback = fg.vjp(lambda x: x * 2.0, np.array([1.0, 2.0]))
    >>> pullback(np.array([0.1, 1.0]))
    (array([0.2, 2. ]),)
    """
    fname = _fname(f)
    x = primals[0] if len(primals) == 1 else None
    if type(x) is np.ndarray and x.dtype.kind in "fc" and not has_aux:
        # One array in (the common case): what _record does, without flattening the argument
        # tuple or, for one traced array out, the output.
        trace, tx, raw = _trace_one_array(f, x)
        leaves, in_tree, input_nodes = [x], _trees()[1], [tx.node]
        one_in = True
        if type(raw) is ReverseTracer and raw._trace is trace:
            aux, out_tree, out_primals, out_nodes = None, _trees()[0], [raw.primal], [raw.node]
        else:
            aux, raw, out_tree, out_primals, out_nodes = _record_outputs(trace, raw, has_aux, fname)
    else:
        trace, leaves, in_tree, input_nodes, aux, raw, out_tree, out_primals, out_nodes = _record(
            f, primals, has_aux, fname)
        one_in = False
    out = _output(out_primals[0]) if out_tree.node_type is None else out_tree.unflatten(
        _output(p) for p in out_primals)
    # One array in, one traced array out: a cotangent _check_cotangent accepts at once goes
    # straight to the backward pass (what _input_cotangents does for one array primal).
    one_to_one = one_in and out_tree.node_type is None and out_nodes[0] is not None

    def pullback(ct: Any) -> tuple[Any, ...]:
        if one_to_one and type(ct) is np.ndarray:
            p = out_primals[0]
            if ct.dtype == p.dtype and ct.shape == p.shape:
                (g,) = backward(trace, [(out_nodes[0], ct)], input_nodes)
                x = leaves[0]
                return (zeros_like_shape(x, x.shape, x.dtype) if g is None else _output(g),)
        if type(ct) is np.ndarray and out_tree.node_type is None:
            ct_leaves = [ct]  # one array for one array: flattening is the identity
        else:
            ct_leaves, ct_tree = tree_flatten(ct)
            if ct_tree != out_tree:
                raise CotangentMismatchError(
                    f"the cotangent passed to the pullback of {fname} has tree structure {ct_tree}, "
                    f"but the output has {out_tree}. Pass one array per output leaf, in the same "
                    "containers."
                )
        seeds = []
        for i, (c, p, node) in enumerate(zip(ct_leaves, out_primals, out_nodes, strict=True)):
            c = _check_cotangent(c, p, lambda: keystr(_path_of(raw, i), "output"), fname)
            if node is not None:
                seeds.append((node, c))
        return _input_cotangents(trace, leaves, in_tree, input_nodes, seeds)

    pullback.__doc__ = f"Pullback of {fname}: maps an output cotangent to one cotangent per primal."
    partial_pullback = _as_partial(pullback, f, primals, has_aux)
    if has_aux:
        return out, partial_pullback, _strip(aux, trace)
    return out, partial_pullback


_TREES: list[PyTreeDef] = []


def _trees() -> list[PyTreeDef]:
    """The treedefs of one leaf and of a tuple of one leaf (made once)."""
    if not _TREES:
        _TREES.extend((tree_flatten(0.0)[1], tree_flatten((0.0,))[1]))
    return _TREES


def _record(f: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool, fname: str) -> tuple[Any, ...]:
    """Run ``f(*primals)`` on the tracers of a new reverse trace (the forward pass of vjp/grad).

    Returns ``(trace, leaves, in_tree, input_nodes, aux, raw, out_tree, out_primals, out_nodes)``:
    the primals' validated leaves and structure, each leaf's node (-1 for one without a
    derivative), the raw auxiliary output, the raw output with its structure, and each output
    leaf's primal value and node (None for an output that does not depend on the inputs).
    """
    leaves, in_tree = _flatten_args(f, primals)
    trace = ReverseTrace()
    inputs: list[Any] = []
    input_nodes: list[Any] = []
    originals = None  # the leaves as given, flattened only when one carries no derivative
    for k, x in enumerate(leaves):
        if x.dtype.kind in "fc":
            t = trace.new_input(x)
            inputs.append(t)
            input_nodes.append(t.node)
        else:
            if originals is None:
                originals = tree_flatten(primals)[0]
            inputs.append(originals[k])  # no derivative; a Python int stays weakly typed
            input_nodes.append(-1)
    try:
        raw = f(*in_tree.unflatten(inputs))
    finally:
        trace.alive = False
    return (trace, leaves, in_tree, input_nodes) + _record_outputs(trace, raw, has_aux, fname)


def _record_outputs(trace: ReverseTrace, raw: Any, has_aux: bool, fname: str) -> tuple[Any, ...]:
    """``(aux, raw, out_tree, out_primals, out_nodes)`` of what ``f`` returned under ``trace``."""
    raw, aux = _split_aux(raw, has_aux, fname)
    out_leaves, out_tree = _flatten_args_out(raw, fname, trace)
    out_primals: list[Any] = []
    out_nodes: list[Any] = []
    for leaf in out_leaves:
        if type(leaf) is ReverseTracer and leaf._trace is trace:
            out_primals.append(leaf.primal)
            out_nodes.append(leaf.node)
        else:
            out_primals.append(leaf)
            out_nodes.append(None)
    return aux, raw, out_tree, out_primals, out_nodes


def _input_cotangents(trace: ReverseTrace, leaves: list[Any], in_tree: PyTreeDef, input_nodes: list[Any],
                      seeds: list[tuple[int, Any]]) -> tuple[Any, ...]:
    """The backward pass from checked ``seeds`` ``(node, cotangent)``: one cotangent per primal
    leaf, shaped like it, in the primals' structure (a tuple, one entry per primal)."""
    wanted = [n for n in input_nodes if n >= 0]
    found = iter(backward(trace, seeds, wanted)) if seeds else iter([None] * len(wanted))
    results = []
    for x, node in zip(leaves, input_nodes, strict=True):
        g = next(found) if node >= 0 else None
        if g is None:  # an integer or boolean primal has a float0 cotangent, as in JAX
            results.append(zeros_like_shape(x, x.shape, x.dtype if x.dtype.kind in "fc" else float0))
        else:
            results.append(_output(g))
    if in_tree.num_leaves == 1 and in_tree.children and in_tree.children[0].node_type is None:
        return (results[0],)  # one array primal: skip rebuilding the tree
    return tuple(in_tree.unflatten(results))


# The same function for callers whose has_aux is a runtime bool (the overloads need a literal).
_vjp_any: Callable[..., tuple[Any, ...]] = vjp


def _as_partial(pullback: Pullback, f: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> Any:
    """The pullback as a ``tree_util.Partial`` whose leaves are the primals, as JAX's is a Partial
    of its residuals: so it can be returned from ``jit`` (or passed through any pytree function).
    Called with the very primals it was made with, it runs the recorded tape; with others (the
    arrays ``jit`` hands back in their place) it recomputes ``vjp(f, *primals)`` on them first."""
    n = len(primals)

    def apply(*args: Any) -> tuple[Any, ...]:
        if len(args) == n + 1:
            for i in range(n):
                if args[i] is not primals[i]:
                    break
            else:
                return pullback(args[n])
        *new, ct = args
        pullback_new: Pullback = _vjp_any(f, *new, has_aux=has_aux)[1]
        return pullback_new(ct)

    apply.__doc__ = pullback.__doc__
    apply.__name__ = "pullback"
    return Partial(apply, *primals)


def _flatten_args_out(raw: Any, fname: str, trace: Any) -> tuple[list[Any], PyTreeDef]:
    leaves, treedef = tree_flatten(raw)
    for i, v in enumerate(leaves):
        if type(v) is np.ndarray or isinstance(v, Tracer) and v._trace is trace:
            continue  # (what _as_leaf would return unchanged)
        try:
            leaves[i] = _as_leaf(v, lambda: keystr(_path_of(raw, i), "output"), _OUTPUT_HINT, trace)
        except InvalidLeafError as e:
            raise InvalidLeafError(
                f"{fname} returned a value funcgrad cannot differentiate: {e}"
            ) from None
    return leaves, treedef


class _LazyName:
    """Formats as the leaf's name, computed only when a message is built."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __format__(self, spec: str) -> str:
        return format(self._make(), spec)


def _check_cotangent(c: Any, p: Any, where: Callable[[], str], fname: str) -> Any:
    if type(c) is np.ndarray and c.dtype == p.dtype and c.shape == p.shape:
        return c  # the common case, checked without building any message
    name = _LazyName(where)
    p_shape = tuple(np.shape(p)) if not hasattr(p, "shape") else tuple(p.shape)
    p_dtype = p.dtype
    if isinstance(c, (float, int)) and not isinstance(c, bool):
        if p_shape != ():
            raise CotangentMismatchError(
                f"the cotangent for {name} of {fname} is the scalar {c!r}, but that output has "
                f"shape {p_shape}; pass an array of shape {p_shape} (e.g. np.ones({p_shape}))."
            )
        return np.asarray(c, dtype=p_dtype)
    if isinstance(c, Tracer) and not c._trace.alive:
        raise LeakedTracerError(
            f"the cotangent for {name} of {fname} is a traced value whose transformation has already "
            "returned (a leaked tracer). Pass a cotangent computed outside that transformation."
        )
    if not isinstance(c, (np.ndarray, np.generic, Tracer)) and not is_foreign_array(c):
        raise CotangentMismatchError(
            f"the cotangent for {name} of {fname} is a {type(c).__qualname__}; expected an array "
            f"of shape {p_shape} and dtype {p_dtype}."
        )
    c_shape = tuple(c.shape)
    if c_shape != p_shape:
        raise CotangentMismatchError(
            f"the cotangent for {name} of {fname} has shape {c_shape}, but that output has shape "
            f"{p_shape}. A pullback needs a cotangent exactly shaped like the output (it is not "
            "broadcast: a cotangent for a scalar output is a scalar)."
        )
    if p_dtype.kind in "fc" and c.dtype != p_dtype:
        raise CotangentMismatchError(
            f"the cotangent for {name} of {fname} has dtype {c.dtype}, but that output has dtype "
            f"{p_dtype}; cast it with .astype(np.{p_dtype.name})."
        )
    return c if not isinstance(c, np.generic) else np.asarray(c)


def _single_argnum(argnums: Any) -> bool:
    """``argnums`` is one int (a single gradient is returned), not a sequence (a tuple is)."""
    return isinstance(argnums, (int, np.integer))


def _normalize_argnums(argnums: int | Sequence[int], nargs: int, fname: str) -> tuple[int, ...]:
    if _single_argnum(argnums):
        nums: tuple[Any, ...] = (argnums,)
    elif isinstance(argnums, (tuple, list)):
        nums = tuple(argnums)
    else:
        raise ArgnumsError(
            f"argnums must be an int or a tuple of ints, got {argnums!r} ({type(argnums).__name__})."
        )
    if not nums:
        raise ArgnumsError(f"argnums is empty; name at least one argument of {fname} to differentiate.")
    if nargs == 0:
        raise ArgnumsError(
            f"{fname} was called with no positional arguments, so argnums={argnums!r} has nothing to "
            "differentiate. Keyword arguments are never differentiated; pass the value positionally."
        )
    out = []
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)):
            raise ArgnumsError(f"argnums must be ints, got {n!r} ({type(n).__name__}).")
        n = int(n)
        if not -nargs <= n < nargs:
            raise ArgnumsError(
                f"argnums={argnums!r} names argument {n}, but {fname} was called with {nargs} "
                f"positional argument{'s' if nargs != 1 else ''} (valid: {-nargs} to {nargs - 1}). "
                "Keyword arguments are never differentiated; pass the value positionally."
            )
        n %= nargs
        if n in out:
            raise ArgnumsError(
                f"argnums={argnums!r} names argument {n} twice; list each argument of {fname} once."
            )
        out.append(n)
    return tuple(out)


def _check_differentiable_inputs(
    f: Callable[..., Any], args: Sequence[Any], nums: Sequence[int], transform: str, holomorphic: bool = False,
    allow_int: bool = False,
) -> None:
    for n in nums:
        with_path, _ = tree_flatten_with_path(args[n])
        for path, leaf in with_path:
            def where(n: int = n, path: Any = path) -> str:
                return keystr(path, _arg_name(f, n))

            x = _as_leaf(leaf, where)
            kind = x.dtype.kind
            if kind not in "biufc":
                raise InvalidLeafError(
                    f"{transform} differentiates with respect to {where()}, an array of dtype {x.dtype}, but "
                    "derivatives need arrays of floating-point numbers. Convert it, e.g. "
                    "np.asarray(x, dtype=float), or leave this argument out of argnums.")
            if kind in "iub" and allow_int:
                continue  # its derivative is a float0 zero, as in JAX
            if kind in "iub":
                inside = (
                    " Integer data inside a pytree can instead be passed as a separate argument, or be a "
                    "meta field of a registered dataclass (register_dataclass(cls, meta_fields=[...]))."
                    if path else ""
                )
                raise IntegerInputError(
                    f"{transform} differentiates with respect to {where()}, which has dtype {x.dtype}; "
                    "derivatives need floating-point inputs. Pass a float array (e.g. "
                    "x.astype(float), or 2.0 instead of 2), or leave this argument out of argnums "
                    "(or pass allow_int=True for a float0 zero derivative, as in JAX)." + inside
                )
            if holomorphic and kind != "c":
                raise IntegerInputError(
                    f"{transform}(holomorphic=True) differentiates with respect to {where()}, which "
                    f"has dtype {x.dtype}; a holomorphic derivative needs complex inputs. Pass "
                    "x.astype(complex), or drop holomorphic=True for a real-valued function."
                )


@overload
def value_and_grad(
    f: Callable[P, R], argnums: int | Sequence[int] = 0, has_aux: Literal[False] = False, holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[P, tuple[R, Any]]: ...
@overload
def value_and_grad(
    f: Callable[P, tuple[R, A]], argnums: int | Sequence[int], has_aux: Literal[True], holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[P, tuple[tuple[R, A], Any]]: ...
@overload
def value_and_grad(
    f: Callable[P, tuple[R, A]], argnums: int | Sequence[int] = 0, *, has_aux: Literal[True],
    holomorphic: bool = False, allow_int: bool = False,
) -> Callable[P, tuple[tuple[R, A], Any]]: ...
def value_and_grad(
    f: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False, holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[P, Any]:
    """Return a function computing ``(f(*args), grad(f)(*args))`` in one pass.

    With ``has_aux=True`` it returns ``((value, aux), grad)``. See :func:`grad` for complex
    numbers, ``holomorphic`` and ``allow_int``.

    >>> import numpy as np, funcgrad as fg
    >>> fg.value_and_grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
    (array(5.), array([2., 4.]))
    """
    fname = _fname(f)

    # number of positional arguments -> (argnums, whether they are all the arguments in order)
    known: dict[int, tuple[tuple[int, ...], bool]] = {}
    single = _single_argnum(argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        found = known.get(len(args))
        if found is None:
            nums = _normalize_argnums(argnums, len(args), fname)
            found = known[len(args)] = (nums, nums == tuple(range(len(args))))
        nums, all_args = found
        for n in nums:
            a = args[n]
            if type(a) is np.ndarray and a.dtype.kind == "f" and not holomorphic:
                continue  # (what _all_float_arrays accepts first)
            if holomorphic or not _all_float_arrays(a):  # the named checks only when one may fail
                _check_differentiable_inputs(f, args, (n,), "grad", holomorphic, allow_int)

        fun: Callable[..., Any]
        if all_args and not kwargs:
            fun, diff_args = cast("Callable[..., Any]", f), args
        else:
            def partial(*diff_args: Any) -> Any:
                full = list(args)
                for n, a in zip(nums, diff_args, strict=True):
                    full[n] = a
                return f(*full, **kwargs)

            partial.__name__ = fname
            fun, diff_args = partial, tuple(args[n] for n in nums)
        # vjp's forward pass and its pullback seeded with 1.0, without building the pullback
        # function or checking a cotangent made here.
        x = diff_args[0] if len(diff_args) == 1 else None
        if type(x) is np.ndarray and x.dtype.kind in "fc" and not has_aux:
            # One array in (the common case): no pytree to flatten or rebuild on the way in, nor,
            # for one traced scalar out, on the way out.
            trace, tx, raw = _trace_one_array(fun, x)
            if type(raw) is ReverseTracer and raw._trace is trace:
                out = raw.primal
                out = np.array(out) if isinstance(out, np.generic) else _output(out)
                dt = out.dtype
                if type(out) is np.ndarray and out.shape == () and dt.kind == "f" and not holomorphic:
                    seed = _ONES.get(dt)  # what _check_scalar accepts and _seed gives, without the calls
                    if seed is None:
                        seed = _one(dt)
                else:
                    _check_scalar(out, fname, holomorphic)
                    seed = _seed(out)
                if type(seed) is np.ndarray:
                    (g,) = backward(trace, [(raw.node, seed)], [tx.node])
                    g = zeros_like_shape(x, x.shape, x.dtype) if g is None else _output(g)
                    return out, (g if single else (g,))
            leaves, in_tree, input_nodes = [x], tree_flatten(diff_args)[1], [tx.node]
            aux, _, out_tree, out_primals, out_nodes = _record_outputs(trace, raw, has_aux, fname)
        else:
            trace, leaves, in_tree, input_nodes, aux, _, out_tree, out_primals, out_nodes = _record(
                fun, diff_args, has_aux, fname)
        out = _output(out_primals[0]) if out_tree.node_type is None else out_tree.unflatten(
            _output(p) for p in out_primals)
        _check_scalar(out, fname, holomorphic)  # so `out` is one array: out_tree is a leaf
        seed = _seed(out)
        if type(seed) is not np.ndarray:
            seed = _check_cotangent(seed, out_primals[0], lambda: "output", fname)
        node = out_nodes[0]
        grads = _input_cotangents(trace, leaves, in_tree, input_nodes, [] if node is None else [(node, seed)])
        g = grads[0] if single else grads
        if has_aux:
            return (out, _strip(aux, trace)), g
        return out, g

    return value_and_grad_f


def _trace_one_array(f: Callable[..., Any], x: np.ndarray) -> tuple[ReverseTrace, ReverseTracer, Any]:
    """Run ``f`` on one array traced in reverse mode (the fast path of vjp and value_and_grad):
    the trace, the input's tracer and what ``f`` returned."""
    trace = ReverseTrace()
    tx = trace.new_input(x)
    try:
        raw = f(tx)
    finally:
        trace.alive = False
    return trace, tx, raw


def _all_float_arrays(tree: Any) -> bool:
    """Is every leaf of ``tree`` a real floating-point NumPy array (nothing for grad to check)?"""
    if type(tree) is np.ndarray:
        return bool(tree.dtype.kind == "f")
    for leaf in tree_flatten(tree)[0]:
        if type(leaf) is not np.ndarray or leaf.dtype.kind != "f":
            return False
    return True


_value_and_grad_any: Callable[..., Callable[..., Any]] = value_and_grad  # for a runtime-bool has_aux


_ONES: dict[np.dtype, np.ndarray] = {}


def _one(dtype: np.dtype) -> np.ndarray:
    """A shared, read-only 1.0 of ``dtype``: the seed of every gradient."""
    one = _ONES.get(dtype)
    if one is None:
        one = _ONES[dtype] = np.ones((), dtype)
        one.flags.writeable = False
    return one


def _seed(out: Any) -> Any:
    """The 1.0 seed in the library of ``out`` (a Dask or CuPy scalar, or beneath tracers); the
    shared NumPy one for NumPy values."""
    if type(out) is np.ndarray or isinstance(out, np.generic):
        return _one(out.dtype)
    return ones_like_shape(out, (), out.dtype)


def _check_scalar(out: Any, fname: str, holomorphic: bool = False) -> None:
    if not isinstance(out, (np.ndarray, Tracer)) and not is_foreign_array(out):
        raise NonScalarOutputError(
            f"grad requires {fname} to return a scalar, but it returned a {type(out).__name__}. "
            "For a pytree or vector output use funcgrad.vjp (any cotangent) or "
            "funcgrad.elementwise_grad (cotangent of ones)."
        )
    if out.shape != ():
        hint = " Shape (1,) is not a scalar: index it (out[0]) or call .sum()." if out.shape == (1,) else ""
        raise NonScalarOutputError(
            f"grad requires {fname} to return a scalar (shape ()), but it returned shape "
            f"{tuple(out.shape)}.{hint} For non-scalar outputs use funcgrad.vjp (any cotangent) or "
            "funcgrad.elementwise_grad (cotangent of ones)."
        )
    kind = out.dtype.kind
    if kind == "c" and not holomorphic:
        raise NonScalarOutputError(
            f"grad requires {fname} to return a real scalar, but it returned dtype {out.dtype}. For a "
            "holomorphic (complex-differentiable) function pass holomorphic=True; for a real-valued "
            "loss of complex values return a real number (e.g. fnp.abs(z) ** 2 or z.real)."
        )
    if kind == "f" and holomorphic:
        raise NonScalarOutputError(
            f"grad(holomorphic=True) requires {fname} to return a complex scalar, but it returned "
            f"dtype {out.dtype}; drop holomorphic=True for a real-valued function."
        )
    if kind not in "fc":
        raise NonScalarOutputError(
            f"grad requires {fname} to return a floating-point scalar, but it returned dtype "
            f"{out.dtype}: an integer or boolean output has no derivative."
        )


@overload
def grad(
    f: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: Literal[False] = False, holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[P, Any]: ...
@overload
def grad(
    f: Callable[P, tuple[Any, A]], argnums: int | Sequence[int], has_aux: Literal[True], holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[P, tuple[Any, A]]: ...
@overload
def grad(
    f: Callable[P, tuple[Any, A]], argnums: int | Sequence[int] = 0, *, has_aux: Literal[True],
    holomorphic: bool = False, allow_int: bool = False,
) -> Callable[P, tuple[Any, A]]: ...
def grad(
    f: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False, holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[P, Any]:
    """Return a function computing the gradient of scalar-valued ``f``.

    The gradient is the pullback seeded with 1.0. ``argnums`` (an int or a tuple of ints) picks
    the positional arguments to differentiate; with a tuple, a tuple of gradients is returned.
    Each gradient has its argument's pytree structure, shapes and dtypes.

    Complex numbers follow JAX's convention: for real-valued ``f`` of ``z = x + iy`` the
    gradient is ``df/dx - i df/dy``; a complex-valued ``f`` needs ``holomorphic=True`` (complex
    inputs) and gives ``f'(z)``.

    Integer and boolean arguments are rejected unless ``allow_int=True``; then their gradient is
    an array of zeros of dtype ``funcgrad.dtypes.float0`` (no data), as in JAX.

    >>> import numpy as np, funcgrad as fg
    >>> fg.grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
    array([2., 4.])
    """
    vg = _value_and_grad_any(f, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return grad_f


def elementwise_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the pullback of ``f`` seeded with ones of its output's shape.

    For an elementwise ``f`` this is the derivative at every point; in general it is the sum
    of the Jacobian's rows (``1ᵀ·J``).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.elementwise_grad(fnp.sin)(np.array([0.0, np.pi]))
    array([ 1., -1.])
    """
    fname = _fname(f)

    @functools.wraps(f)
    def elementwise_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), fname)
        _check_differentiable_inputs(f, args, nums, "elementwise_grad")

        def partial(*diff_args: Any) -> Any:
            full = list(args)
            for n, a in zip(nums, diff_args, strict=True):
                full[n] = a
            return f(*full, **kwargs)

        partial.__name__ = fname
        out, pullback = vjp(partial, *(args[n] for n in nums))
        with_path, treedef = tree_flatten_with_path(out)
        ones = treedef.unflatten(ones_like_shape(v, tuple(v.shape), v.dtype) for _, v in with_path)
        grads = pullback(ones)
        return grads[0] if _single_argnum(argnums) else grads

    return elementwise_grad_f


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """Evaluate ``f(*primals)`` and its directional derivative J·tangents in one forward pass.

    Returns ``(out, tangent_out)`` (or ``(out, tangent_out, aux)``). ``tangents`` must match
    ``primals`` in tree structure, shapes and dtypes.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.jvp(fnp.sin, (np.array(0.0),), (np.array(2.0),))
    (array(0.), array(2.))
    """
    if type(primals) is tuple and type(tangents) is tuple and len(primals) == 1 and len(tangents) == 1:
        # One float array and its tangent (the common case): what the checks below accept at once,
        # without flattening the arguments or, for one traced array out, the output.
        x, t = primals[0], tangents[0]
        if (type(x) is np.ndarray and type(t) is np.ndarray and x.dtype.kind in "fc" and t.dtype == x.dtype
                and t.shape == x.shape):
            trace = ForwardTrace()
            try:
                raw = f(jvp_tracer(trace, x, t))
            finally:
                trace.alive = False
            if type(raw) is JVPTracer and raw._trace is trace and not has_aux:
                return _output(raw.primal), _output(raw.tangent)
            return _jvp_outputs(raw, trace, has_aux, _fname(f))
    fname = _fname(f)
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp expects primals and tangents as tuples (or lists) with one entry per argument of "
            f"{fname}, got {type(primals).__name__} and {type(tangents).__name__}; "
            "write jvp(f, (x,), (t,)) for a single argument."
        )
    primals = tuple(primals)
    leaves, in_tree = _flatten_args(f, primals)
    t_leaves, t_tree = _flatten_args(
        f, tuple(tangents), "the tangent for ", " A tangent is an array shaped like its primal.", allow_float0=True
    )
    if t_tree != in_tree:
        raise TangentMismatchError(
            f"jvp: tangents have tree structure {t_tree}, but primals have {in_tree}; pass one "
            "tangent per primal leaf, in the same containers."
        )
    trace = ForwardTrace()
    inputs = []
    originals = tree_flatten(primals)[0]
    for i, (x, t) in enumerate(zip(leaves, t_leaves, strict=True)):
        if tuple(t.shape) != tuple(x.shape):
            name = _leaf_name(f, _path_of(primals, i))
            raise TangentMismatchError(
                f"jvp: the tangent for {name} has shape {tuple(t.shape)}, but the primal has shape "
                f"{tuple(x.shape)}; a tangent must be shaped exactly like its primal."
            )
        if x.dtype.kind not in "fc":
            if t.dtype.kind in "fc":
                name = _leaf_name(f, _path_of(primals, i))
                raise TangentMismatchError(
                    f"jvp: the primal {name} has dtype {x.dtype}, which carries no derivative, but its tangent "
                    f"has dtype {t.dtype}; pass a tangent of dtype funcgrad.dtypes.float0 (as in JAX), e.g. "
                    f"np.zeros({tuple(x.shape)}, funcgrad.dtypes.float0)."
                )
            inputs.append(originals[i])  # no tangent; a Python int stays weakly typed
            continue
        if t.dtype == float0:
            name = _leaf_name(f, _path_of(primals, i))
            raise TangentMismatchError(
                f"jvp: the tangent for {name} has dtype float0, which is only for integer and boolean "
                f"primals, but the primal has dtype {x.dtype}; pass a tangent of dtype {x.dtype}."
            )
        if t.dtype != x.dtype:
            name = _leaf_name(f, _path_of(primals, i))
            raise TangentMismatchError(
                f"jvp: the tangent for {name} has dtype {t.dtype}, but the primal has dtype "
                f"{x.dtype}; cast it with .astype(np.{x.dtype.name})."
            )
        inputs.append(jvp_tracer(trace, x, t))
    try:
        raw = f(*in_tree.unflatten(inputs))
    finally:
        trace.alive = False
    return _jvp_outputs(raw, trace, has_aux, fname)


def _jvp_outputs(raw: Any, trace: ForwardTrace, has_aux: bool, fname: str) -> tuple[Any, ...]:
    """``jvp``'s result from what ``f`` returned under ``trace``: outputs and their tangents
    (zeros where an output does not depend on the inputs), and the auxiliary data."""
    raw, aux = _split_aux(raw, has_aux, fname)
    out_leaves, out_tree = _flatten_args_out(raw, fname, trace)
    outs, touts = [], []
    for leaf in out_leaves:
        if type(leaf) is JVPTracer and leaf._trace is trace:
            outs.append(_output(leaf.primal))
            touts.append(_output(leaf.tangent))
        else:
            outs.append(_output(leaf))
            touts.append(zeros_like_shape(leaf, leaf.shape, leaf.dtype if leaf.dtype.kind in "fc" else float0))
    result = (out_tree.unflatten(outs), out_tree.unflatten(touts))
    if has_aux:
        return result + (_strip(aux, trace),)
    return result
