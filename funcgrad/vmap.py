"""``vmap``: vectorise a function over a batch axis, without a Python loop over examples."""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, ParamSpec

import numpy as np

from ._backend import is_foreign_array
from .core import Tracer
from .errors import BatchAxisError, InvalidLeafError
from .prims.factories import batch_to_front
from .prims.shape import transpose
from .traces.batching import BatchTrace, BatchTracer
from .tree_util import _node_kind, describe_unregistered, keystr, tree_flatten, tree_flatten_with_path


def _mapped_array(leaf: object, fname: str, name: str) -> np.ndarray:
    """A mapped argument as an array: numbers and array-likes; anything else is an error naming
    its type (an iterator or a string is not an array of shape ())."""
    if isinstance(leaf, (bool, int, float, complex, np.generic)) or hasattr(leaf, "__array__"):
        arr = np.asarray(leaf)
        if arr.dtype.kind in "biufc":
            return arr
    extra = "" if type(leaf).__module__ == "builtins" else describe_unregistered(leaf)
    raise InvalidLeafError(
        f"vmap of {fname}: {name} is a {type(leaf).__qualname__}, but vmap maps over arrays, numbers and "
        "pytrees (tuples, lists, dicts, None, namedtuples, registered classes) of them. Convert it "
        "(np.asarray(list(it)) for an iterator), or pass it unmapped with in_axes=None." + extra)

__all__ = ["vmap"]


def broadcast_prefix(prefix: Any, tree: Any, what: str, root: str = "") -> list:
    """One entry of ``prefix`` per leaf of ``tree``: ``prefix`` is a tree prefix of ``tree``
    whose leaves (``None`` or an int) apply to every leaf below them."""
    out: list = []

    def walk(p: Any, t: Any, path: tuple) -> None:
        if p is None or isinstance(p, (int, np.integer)):
            out.extend([None if p is None else int(p)] * len(tree_flatten(t)[0]))
            return
        found_p, found_t = _node_kind(p), _node_kind(t)
        if found_p is None or found_t is None or found_p[0] is not found_t[0]:
            raise BatchAxisError(
                f"{what} at {keystr(path, root) or 'the top level'} is {p!r}, which does not match "
                f"the structure of the value there ({type(t).__name__}). {what} must be an int, None, "
                "or a container of the same type whose entries are ints, None or containers."
            )
        p_children, p_aux = found_p[1].flatten(p)
        t_children, t_aux = found_t[1].flatten(t)
        if p_aux != t_aux or len(p_children) != len(t_children):
            raise BatchAxisError(
                f"{what} at {keystr(path, root) or 'the top level'} has {len(p_children)} entries "
                f"{'(keys ' + repr(p_aux) + ') ' if isinstance(p_aux, tuple) else ''}but the value "
                f"there has {len(t_children)}; give one axis per entry, or a single int/None for all."
            )
        for k, pc, tc in zip(found_t[1].keys(t, t_aux), p_children, t_children):
            walk(pc, tc, path + (k,))

    walk(prefix, tree, ())
    return out


def _move_out(x: Any, bdim: int | None, out_axis: int | None, size: int, name: str) -> Any:
    if out_axis is None:
        if bdim is not None:
            raise BatchAxisError(
                f"out_axes is None for {name}, but that output differs across the batch; use an "
                "integer out_axes for it (or make it independent of the batched inputs)."
            )
        return x
    x = batch_to_front(x, bdim, size=size)
    n = x.ndim
    axis = out_axis + n if out_axis < 0 else out_axis
    if not 0 <= axis < n:
        raise BatchAxisError(f"out_axes={out_axis} is out of range for {name}, which has {n - 1} dimensions.")
    if axis == 0:
        return x
    perm = list(range(1, n))
    perm.insert(axis, 0)
    return transpose(x, axes=tuple(perm))


def _axis_frame(axis_name: Any, trace: BatchTrace) -> Any:
    """Put ``axis_name`` in scope for the collectives while the function runs."""
    if axis_name is None:
        return contextlib.nullcontext()
    from ._lax.collectives import axis_frame

    return axis_frame(axis_name, trace)


P = ParamSpec("P")


def vmap(
    f: Callable[P, Any], in_axes: Any = 0, out_axes: Any = 0, axis_name: Any = None,
    axis_size: int | None = None, spmd_axis_name: Any = None,
) -> Callable[P, Any]:
    """Vectorise ``f`` over an axis of its inputs: ``vmap(f)(xs)[i] == f(xs[i])``.

    ``in_axes`` is an int, None (not batched), or a tuple or list (one entry per positional
    argument) whose entries may themselves be pytree prefixes of the arguments. Keyword arguments are always
    mapped over their leading axis, as in JAX (bind unmapped ones with ``functools.partial``).
    ``out_axes`` likewise for the outputs. ``axis_size`` gives the batch size when no input is
    batched. ``axis_name`` names the batch axis for the collectives of :mod:`funcgrad.lax`
    (``psum``, ``pmean``, ``all_gather``, ``axis_index``, ...); ``spmd_axis_name`` is accepted
    for JAX compatibility and has no effect (there is one device).

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.vmap(fnp.dot, in_axes=(0, None))(np.ones((3, 2)), np.array([1.0, 2.0]))
    array([3., 3., 3.])
    """
    fname = getattr(f, "__name__", type(f).__name__)

    @functools.wraps(f)
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        # A top-level list means one entry per positional argument, as a tuple does (as in JAX).
        axes_tree = tuple(in_axes) if isinstance(in_axes, (tuple, list)) else in_axes
        if isinstance(axes_tree, tuple) and len(axes_tree) != len(args):
            raise BatchAxisError(
                f"vmap of {fname}: in_axes has {len(axes_tree)} entries but {len(args)} positional "
                "arguments were passed; give one entry per positional argument."
            )
        axes = broadcast_prefix(axes_tree, args, "in_axes", "args")
        with_path, treedef = tree_flatten_with_path(args)
        named = [(keystr(path, "args"), leaf) for path, leaf in with_path]
        if kwargs:  # keyword arguments: mapped over axis 0, as in JAX
            kw_with_path, kw_treedef = tree_flatten_with_path(kwargs)
            named += [(keystr(path, "kwargs"), leaf) for path, leaf in kw_with_path]
            axes = axes + [0] * len(kw_with_path)
        size = axis_size
        sizes: list[tuple[str, int]] = []
        leaves = []
        for (name, leaf), ax in zip(named, axes):
            if ax is None:  # passed through as is: a Python scalar stays weakly typed
                leaves.append((leaf, None))
                continue
            if not isinstance(leaf, (np.ndarray, Tracer)) and not is_foreign_array(leaf):
                leaf = _mapped_array(leaf, fname, name)
            n = leaf.ndim
            if not -n <= ax < n:
                hint = (" Keyword arguments are mapped over axis 0 (as in JAX); pass an unmapped one "
                        "with functools.partial or as a positional argument with in_axes=None."
                        if name.startswith("kwargs") else "")
                raise BatchAxisError(
                    f"vmap of {fname}: in_axes={ax} for {name}, but it has shape {tuple(leaf.shape)} "
                    f"({n} dimensions); the axis must be in [{-n}, {n - 1}].{hint}"
                )
            ax %= n
            sizes.append((name, leaf.shape[ax]))
            leaves.append((leaf, ax))
        distinct = {s for _, s in sizes}
        if len(distinct) > 1 or (axis_size is not None and distinct and distinct != {axis_size}):
            listing = ", ".join(f"{n} has size {s}" for n, s in sizes)
            extra = f" and axis_size={axis_size}" if axis_size is not None else ""
            raise BatchAxisError(f"vmap of {fname} got inconsistent batch sizes along the mapped axes: "
                                 f"{listing}{extra}. Every mapped axis must have the same length.")
        if size is None:
            if not sizes:
                raise BatchAxisError(
                    f"vmap of {fname}: no argument is mapped (in_axes is None everywhere); pass "
                    "axis_size= to say how many copies to make."
                )
            size = sizes[0][1]
        trace = BatchTrace(size)
        inputs = [leaf if ax is None else BatchTracer(trace, leaf, ax) for leaf, ax in leaves]
        if kwargs:
            n_args = treedef.num_leaves
            kwargs = kw_treedef.unflatten(inputs[n_args:])
            inputs = inputs[:n_args]
        try:
            with _axis_frame(axis_name, trace):
                out = f(*treedef.unflatten(inputs), **kwargs)
        finally:
            trace.alive = False
        out_with_path, out_tree = tree_flatten_with_path(out)
        out_ax = broadcast_prefix(out_axes, out, "out_axes", "output")
        results = []
        for (path, leaf), ax in zip(out_with_path, out_ax):
            name = keystr(path, "output")
            if type(leaf) is BatchTracer and leaf._trace is trace:
                results.append(_move_out(leaf.val, leaf.bdim, ax, size, name))
            else:
                if not isinstance(leaf, (np.ndarray, Tracer)) and not is_foreign_array(leaf):
                    leaf = np.asarray(leaf)
                results.append(_move_out(leaf, None, ax, size, name))
        return out_tree.unflatten(r if isinstance(r, (np.ndarray, Tracer)) or is_foreign_array(r) else np.asarray(r)
                                  for r in results)

    return vmapped
