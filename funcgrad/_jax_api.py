"""Small JAX names that code moved from JAX uses: ``Array``, ``make_jaxpr``, ``named_call``,
``named_scope``, ``enable_x64`` and ``pure_callback`` (``eval_shape``, ``ShapeDtypeStruct``,
``linear_transpose`` and ``custom_gradient`` live with ``jit`` and the custom rules).

>>> import numpy as np, funcgrad as fg
>>> print(fg.make_jaxpr(np.sin)(np.ones(2)))  # doctest: +ELLIPSIS
{ lambda a:f64[2]. let
...
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from .tree_util import tree_flatten

__all__ = ["Array", "make_jaxpr", "named_call", "named_scope", "enable_x64", "pure_callback"]

#: The array type, for annotations (``def f(x: Array)``): funcgrad's arrays are NumPy arrays. Traced
#: values inside transformations are not instances of it; test ``hasattr(x, "shape")`` instead.
Array = np.ndarray


def make_jaxpr(fun: Callable[..., Any], static_argnums: Any = (), **unused: Any) -> Callable[..., Any]:
    """JAX's name for :func:`funcgrad.make_trace`: ``make_jaxpr(f)(*args)`` is ``f``'s program
    (funcgrad's IR, printable, not a JAX jaxpr)."""
    from .jit import make_trace

    return make_trace(fun, static_argnums)


def named_call(fun: Callable[..., Any], *, name: str | None = None) -> Callable[..., Any]:
    """``fun`` itself (JAX uses the name for profiles; funcgrad's programs name their inputs instead)."""
    return fun


@contextlib.contextmanager
def named_scope(name: str) -> Iterator[None]:
    """A context manager with no effect (JAX uses it to name operations in profiles)."""
    yield


@contextlib.contextmanager
def enable_x64(new_val: bool = True) -> Iterator[None]:
    """funcgrad always follows NumPy's 64-bit defaults: ``enable_x64()`` changes nothing;
    ``enable_x64(False)`` warns as ``config.update("jax_enable_x64", False)`` does."""
    from .config import update

    update("jax_enable_x64", bool(new_val))
    try:
        yield
    finally:
        update("jax_enable_x64", True)


def _callback_impl(*flat_args: Any, callback: Callable[..., Any], in_tree: Any, out_tree: Any,
                   result_avals: tuple) -> list:
    args, kwargs = in_tree.unflatten(flat_args)
    leaves, tree = tree_flatten(callback(*args, **kwargs))
    if tree != out_tree:
        raise TypeError(f"pure_callback: the callback returned a value of structure {tree}, but "
                        f"result_shape_dtypes describes {out_tree}.")
    outs = []
    for leaf, (shape, dtype) in zip(leaves, result_avals):
        leaf = np.asarray(leaf, dtype=dtype)
        if leaf.shape != shape:
            raise TypeError(f"pure_callback: the callback returned an array of shape {leaf.shape}, but "
                            f"result_shape_dtypes says {shape}.")
        outs.append(leaf)
    return outs


def _callback_abstract(*avals: Any, result_avals: tuple, **params: Any) -> list:
    from .core import ShapedArray

    return [ShapedArray(shape, np.dtype(dtype)) for shape, dtype in result_avals]


def _callback_batch(vals: tuple, dims: tuple, **params: Any) -> tuple:
    from . import numpy as fnp

    size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
    moved = [v if d is None else fnp.moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    per_example = [_callback_p.bind(*[v if d is None else v[b] for v, d in zip(moved, dims)], **params)
                   for b in range(size)]
    outs = [fnp.stack([r[k] for r in per_example]) for k in range(len(params["result_avals"]))]
    return outs, [0] * len(outs)


def _no_derivative(*args: Any, **params: Any) -> Any:
    raise TypeError("pure_callback has no derivative (its callback is opaque Python). Wrap the function calling "
                    "it in funcgrad.custom_jvp or custom_vjp with a rule, or apply funcgrad.stop_gradient to its "
                    "inputs.")


def _make_callback_primitive() -> Any:
    from .core import Primitive

    return Primitive("pure_callback", _callback_impl, batch=_callback_batch, abstract_eval=_callback_abstract,
                     register=False, multiple_results=True, jvp_all=_no_derivative, vjp_all=_no_derivative)


_callback_p = _make_callback_primitive()


def pure_callback(callback: Callable[..., Any], result_shape_dtypes: Any, *args: Any, sharding: Any = None,
                  vmap_method: str | None = None, **kwargs: Any) -> Any:
    """Call the Python function ``callback`` on NumPy arrays, also from inside ``jit`` (it runs when the
    compiled function runs) and ``vmap`` (once per batch element); ``result_shape_dtypes`` (a pytree of
    objects with ``shape`` and ``dtype``, e.g. :class:`ShapeDtypeStruct`) describes its result. It has no
    derivative (as in JAX).

    >>> import numpy as np, funcgrad as fg
    >>> f = fg.jit(lambda x: pure_callback(np.sort, fg.ShapeDtypeStruct((3,), np.float64), x * 2))
    >>> f(np.array([3.0, 1.0, 2.0]))
    array([2., 4., 6.])
    """
    if vmap_method not in (None, "sequential", "legacy_vectorized", "expand_dims", "broadcast_all"):
        raise ValueError(f"pure_callback: unknown vmap_method {vmap_method!r}.")
    spec_leaves, out_tree = tree_flatten(result_shape_dtypes)
    result_avals = tuple((tuple(int(d) for d in spec.shape), np.dtype(spec.dtype).str) for spec in spec_leaves)
    flat_args, in_tree = tree_flatten((args, kwargs))
    outs = _callback_p.bind(*flat_args, callback=callback, in_tree=in_tree, out_tree=out_tree,
                            result_avals=result_avals)
    return out_tree.unflatten(outs)
