"""Collectives over a named ``vmap`` axis: ``psum``, ``pmean``, ``pmax``, ``pmin``, ``all_gather``,
``psum_scatter``, ``ppermute`` and ``axis_index``, as in JAX.

``vmap(f, axis_name='i')`` puts the name ``'i'`` in scope while ``f`` runs. A collective over
``'i'`` combines the values of all examples of that batch: inside the batching trace of that
``vmap`` it is an ordinary operation on the batch axis (``psum`` is a sum over it).

How the named trace is found: each collective primitive takes, besides its operand, the axis's
*index tracer* (``arange(size)`` batched by that trace). Whatever traces sit above (``grad``,
``jvp``, another ``vmap``) the named trace therefore always processes the operation, and its
batching rule recognises itself by that operand being batched; another ``vmap``'s batching rule
sees it unbatched and passes the operation through. Each collective is linear, and the
transposes pair up as in JAX: ``psum`` with itself, ``all_gather`` with ``psum_scatter``,
``ppermute`` with the inverse permutation. So the reverse mode of a function of a batch is the
transpose of the whole batched computation (``vmap(grad(lambda x: psum(x, 'i')))`` gives the
batch size, as in JAX).

The collective primitives are not registered in ``funcgrad.core.primitives``: like jit's internal
calls they only ever run through their rules (the index operand is always traced), never through
an ``impl``, so the primitive test tables (which run impls on plain arrays) do not apply; their
tests are in tests/test_lax_collectives.py.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Sequence

import numpy as np

from .. import numpy as fnp
from ..core import Primitive
from ..prims.factories import batch_to_front
from ..traces.batching import BatchTrace, BatchTracer

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute", "axis_index", "axis_size"]

_env = threading.local()


def _frames() -> list:
    frames = getattr(_env, "frames", None)
    if frames is None:
        frames = _env.frames = []
    return frames


@contextlib.contextmanager
def axis_frame(name: Any, trace: BatchTrace) -> Iterator[None]:
    """Bind ``name`` to ``trace`` while a named ``vmap`` runs its function (used by ``vmap``)."""
    try:
        hash(name)
    except TypeError:
        raise TypeError(f"vmap axis_name must be hashable (a string, usually), got {name!r}.") from None
    frames = _frames()
    frames.append((name, trace))
    try:
        yield
    finally:
        frames.pop()


def _trace_of(name: Any, what: str) -> BatchTrace:
    for bound, trace in reversed(_frames()):
        if bound == name:
            return trace
    names = [n for n, _ in _frames()]
    raise NameError(
        f"{what}: unbound axis name {name!r}. Collectives run inside vmap(f, axis_name={name!r}) (the "
        f"axis names in scope here are {names})."
    )


def _index_tracer(trace: BatchTrace) -> BatchTracer:
    return BatchTracer(trace, np.arange(trace.axis_size), 0)


def _names(axis_name: Any) -> tuple:
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


# --- the primitives -------------------------------------------------------------------------------
# Batching rules: dims[1] == 0 means "this is the named trace" (the index tracer is ours).


def _same_aval(x: Any, idx: Any, **params: Any) -> Any:
    from ..ir.program import ShapedArray

    return ShapedArray(tuple(x.shape), x.dtype)


def _psum_batch(vals: tuple, dims: tuple) -> tuple[Any, int | None]:
    x, idx = vals
    xd, mine = dims
    if mine is None:
        return psum_p.bind(x, idx), xd
    n = idx.shape[0]
    if xd is None:
        return x * n, None
    return fnp.sum(x, axis=xd), None


psum_p: Primitive = Primitive(
    "psum",
    lambda x, idx: x,  # never reached: the index operand is always traced
    jvp=(lambda t, out, x, idx: psum_p.bind(t, idx), None),
    vjp=(lambda ct, out, x, idx: psum_p.bind(ct, idx), None),
    batch=_psum_batch,
    abstract_eval=_same_aval,
    register=False,
)


def _gather_aval(x: Any, idx: Any, *, axis: int, tiled: bool, axis_size: int) -> Any:
    from ..ir.program import ShapedArray

    s = tuple(x.shape)
    shape = s[:axis] + ((axis_size * s[axis],) + s[axis + 1:] if tiled else (axis_size,) + s[axis:])
    return ShapedArray(shape, x.dtype)


def _scatter_aval(x: Any, idx: Any, *, scatter_dimension: int, tiled: bool, axis_size: int) -> Any:
    from ..ir.program import ShapedArray

    s, d = tuple(x.shape), scatter_dimension
    shape = s[:d] + ((s[d] // axis_size,) + s[d + 1:] if tiled else s[d + 1:])
    return ShapedArray(shape, x.dtype)


def _gather_batch(vals: tuple, dims: tuple, *, axis: int, tiled: bool, axis_size: int) -> tuple[Any, int | None]:
    x, idx = vals
    xd, mine = dims
    if mine is None:
        return all_gather_p.bind(batch_to_front(x, xd), idx, axis=axis + 1, tiled=tiled, axis_size=axis_size), 0
    n = idx.shape[0]
    x = batch_to_front(x, xd, size=n)
    stacked = fnp.moveaxis(x, 0, axis)
    if tiled:
        shape = tuple(stacked.shape)
        stacked = fnp.reshape(stacked, shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2:])
    return stacked, None


all_gather_p: Primitive = Primitive(
    "all_gather",
    lambda x, idx, **p: x,
    jvp=(lambda t, out, x, idx, **p: all_gather_p.bind(t, idx, **p), None),
    vjp=(lambda ct, out, x, idx, axis, tiled, axis_size: psum_scatter_p.bind(
        ct, idx, scatter_dimension=axis, tiled=tiled, axis_size=axis_size), None),
    batch=_gather_batch,
    abstract_eval=_gather_aval,
    register=False,
)


def _scatter_batch(vals: tuple, dims: tuple, *, scatter_dimension: int, tiled: bool,
                   axis_size: int) -> tuple[Any, int | None]:
    x, idx = vals
    xd, mine = dims
    d = scatter_dimension
    if mine is None:
        return psum_scatter_p.bind(batch_to_front(x, xd), idx, scatter_dimension=d + 1, tiled=tiled,
                                   axis_size=axis_size), 0
    n = idx.shape[0]
    total = x * n if xd is None else fnp.sum(x, axis=xd)
    size = total.shape[d]
    if (size % n if tiled else size != n):
        raise ValueError(
            f"psum_scatter: dimension {d} of the operand has size {size}, which must "
            f"{'be a multiple of' if tiled else 'equal'} the axis size {n}."
        )
    if tiled:
        shape = tuple(total.shape)
        total = fnp.reshape(total, shape[:d] + (n, size // n) + shape[d + 1:])
    return total, d  # the scattered dimension becomes the batch axis: example i keeps block i


psum_scatter_p: Primitive = Primitive(
    "psum_scatter",
    lambda x, idx, **p: x,
    jvp=(lambda t, out, x, idx, **p: psum_scatter_p.bind(t, idx, **p), None),
    vjp=(lambda ct, out, x, idx, scatter_dimension, tiled, axis_size: all_gather_p.bind(
        ct, idx, axis=scatter_dimension, tiled=tiled, axis_size=axis_size), None),
    batch=_scatter_batch,
    abstract_eval=_scatter_aval,
    register=False,
)


def _ppermute_batch(vals: tuple, dims: tuple, *, perm: tuple) -> tuple[Any, int | None]:
    x, idx = vals
    xd, mine = dims
    if mine is None:
        return ppermute_p.bind(x, idx, perm=perm), xd
    n = idx.shape[0]
    x = batch_to_front(x, xd, size=n)
    source = np.zeros(n, np.intp)
    received = np.zeros(n, np.bool_)
    for src, dst in perm:
        source[dst] = src
        received[dst] = True
    out = fnp.take(x, source, axis=0)
    if not received.all():
        out = fnp.where(received.reshape((n,) + (1,) * (out.ndim - 1)), out, fnp.zeros_like(out))
    return out, 0


ppermute_p: Primitive = Primitive(
    "ppermute",
    lambda x, idx, perm: x,
    jvp=(lambda t, out, x, idx, perm: ppermute_p.bind(t, idx, perm=perm), None),
    vjp=(lambda ct, out, x, idx, perm: ppermute_p.bind(ct, idx, perm=tuple((d, s) for s, d in perm)), None),
    batch=_ppermute_batch,
    abstract_eval=_same_aval,
    register=False,
)


# --- the public functions -------------------------------------------------------------------------


def _operand(x: Any) -> Any:
    from ..core import Tracer

    return x if isinstance(x, Tracer) else fnp.asarray(x)


def psum(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """Sum of ``x`` over every example of the named ``vmap`` axis (a pytree; ``axis_name`` may be a
    tuple of names).

    >>> import numpy as np, funcgrad as fg
    >>> fg.vmap(lambda x: x / psum(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
    array([0.25, 0.75])
    """
    from ..tree_util import tree_map

    if axis_index_groups is not None:
        raise NotImplementedError("psum: axis_index_groups is not supported.")

    def one(leaf: Any) -> Any:
        for name in _names(axis_name):
            leaf = psum_p.bind(_operand(leaf), _index_tracer(_trace_of(name, "psum")))
        return leaf

    return tree_map(one, x)


def axis_size(axis_name: Any) -> int:
    """The number of examples along the named axis (a product for a tuple of names)."""
    size = 1
    for name in _names(axis_name):
        size *= _trace_of(name, "axis_size").axis_size
    return size


def pmean(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """Mean of ``x`` over the named axis."""
    from ..tree_util import tree_map

    n = axis_size(axis_name)
    return tree_map(lambda s: s / n, psum(x, axis_name, axis_index_groups=axis_index_groups))


def _extremum(x: Any, axis_name: Any, reduce: Any) -> Any:
    from ..tree_util import tree_map

    def one(leaf: Any) -> Any:
        for name in _names(axis_name):
            leaf = reduce(all_gather(leaf, name), axis=0)
        return leaf

    return tree_map(one, x)


def pmax(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """Maximum of ``x`` over the named axis; the derivative goes to the example(s) holding it."""
    return _extremum(x, axis_name, fnp.max)


def pmin(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """Minimum of ``x`` over the named axis."""
    return _extremum(x, axis_name, fnp.min)


def all_gather(x: Any, axis_name: Any, *, axis_index_groups: Any = None, axis: int = 0, tiled: bool = False) -> Any:
    """Every example's ``x``, stacked along a new ``axis`` (concatenated with ``tiled=True``).

    >>> import numpy as np, funcgrad as fg
    >>> fg.vmap(lambda x: all_gather(x, "i"), axis_name="i")(np.array([1.0, 2.0]))
    array([[1., 2.],
           [1., 2.]])
    """
    from ..tree_util import tree_map

    def one(leaf: Any) -> Any:
        leaf = _operand(leaf)
        ndim = leaf.ndim
        a = axis + ndim + 1 if axis < 0 else axis
        if not 0 <= a <= ndim or (tiled and a == ndim):
            raise ValueError(f"all_gather: axis={axis} is out of range for an operand of shape {leaf.shape}.")
        for name in reversed(_names(axis_name)):
            trace = _trace_of(name, "all_gather")
            leaf = all_gather_p.bind(leaf, _index_tracer(trace), axis=a, tiled=tiled, axis_size=trace.axis_size)
        return leaf

    return tree_map(one, x)


def psum_scatter(x: Any, axis_name: Any, *, scatter_dimension: int = 0, axis_index_groups: Any = None,
                 tiled: bool = False) -> Any:
    """``psum``, with example ``i`` keeping only block ``i`` of dimension ``scatter_dimension``."""
    from ..tree_util import tree_map

    def one(leaf: Any) -> Any:
        leaf = _operand(leaf)
        d = scatter_dimension + leaf.ndim if scatter_dimension < 0 else scatter_dimension
        if not 0 <= d < leaf.ndim:
            raise ValueError(f"psum_scatter: scatter_dimension={scatter_dimension} is out of range for an "
                             f"operand of shape {leaf.shape}.")
        (name,) = _names(axis_name) if len(_names(axis_name)) == 1 else (None,)
        if name is None:
            raise NotImplementedError("psum_scatter over several axis names at once is not supported.")
        trace = _trace_of(name, "psum_scatter")
        return psum_scatter_p.bind(leaf, _index_tracer(trace), scatter_dimension=d, tiled=tiled,
                                   axis_size=trace.axis_size)

    return tree_map(one, x)


def ppermute(x: Any, axis_name: Any, perm: Sequence[tuple[int, int]]) -> Any:
    """Example ``dst`` receives example ``src``'s ``x`` for each ``(src, dst)`` in ``perm``;
    examples that receive nothing get zeros.

    >>> import numpy as np, funcgrad as fg
    >>> fg.vmap(lambda x: ppermute(x, "i", [(0, 1), (1, 2), (2, 0)]), axis_name="i")(np.array([1.0, 2.0, 3.0]))
    array([3., 1., 2.])
    """
    from ..tree_util import tree_map

    (name,) = _names(axis_name) if len(_names(axis_name)) == 1 else (None,)
    if name is None:
        raise NotImplementedError("ppermute over several axis names at once is not supported.")
    trace = _trace_of(name, "ppermute")
    pairs = tuple((int(s), int(d)) for s, d in perm)
    n = trace.axis_size
    srcs, dsts = [s for s, _ in pairs], [d for _, d in pairs]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts) or any(not 0 <= i < n for i in srcs + dsts):
        raise ValueError(f"ppermute: perm {list(perm)} must pair distinct sources with distinct destinations, each "
                         f"in [0, {n}) for axis {name!r} of size {n}.")
    return tree_map(lambda leaf: ppermute_p.bind(_operand(leaf), _index_tracer(trace), perm=pairs), x)


def axis_index(axis_name: Any) -> Any:
    """The position of the current example along the named axis (an integer, no derivative).

    >>> import numpy as np, funcgrad as fg
    >>> fg.vmap(lambda x: x * axis_index("i"), axis_name="i")(np.ones(3))
    array([0., 1., 2.])
    """
    names = _names(axis_name)
    index: Any = 0
    for name in names:
        trace = _trace_of(name, "axis_index")
        index = index * trace.axis_size + _index_tracer(trace)
    return index
