"""Indexing primitives: ``x[idx]`` and the functional updates ``x.at[idx].set/add(v)``.

An index is split into a static, hashable ``spec`` (slices, ints, None, Ellipsis) and the
integer or boolean index arrays, which are passed positionally; this keeps parameters hashable
(cache keys for ``jit``) and lets index arrays be data.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from .._backend import as_array, is_foreign_array, unsupported, zeros_like_shape
from ..core import Primitive, Tracer
from ..errors import IndexingError, TracerConversionError
from .elementwise import equal, where
from .factories import batch_to_front, ndim_of


def _as_int(v: Any, what: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, Tracer):
        try:  # jit and vmap raise their own, more specific errors (argument, source line, fixes)
            return operator.index(v)
        except TracerConversionError:
            raise IndexingError(
                f"a traced value was used as the {what} of a slice; slice bounds must be concrete "
                "Python ints. Compute them from shapes, or pass them as plain ints."
            ) from None
    return int(v.__index__())


def encode_index(idx: Any) -> tuple[tuple, list]:
    """Split an index into its static spec and its index arrays."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    spec: list = []
    arrays: list = []
    for item in idx:
        if item is None:
            spec.append(("n",))
        elif item is Ellipsis:
            spec.append(("e",))
        elif isinstance(item, slice):
            spec.append(("s", _as_int(item.start, "start"), _as_int(item.stop, "stop"),
                         _as_int(item.step, "step")))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            spec.append(("i", int(item)))
        elif isinstance(item, Tracer) and item.dtype.kind in "iub":
            spec.append(("a", len(arrays)))  # a batched (vmap) index array
            arrays.append(item)
        elif isinstance(item, Tracer):
            raise IndexingError(
                f"a traced {item.dtype} value was used as an index; indices must be integer or "
                "boolean arrays with concrete values, and derivatives never flow through them. "
                "Use funcgrad.numpy.argmax/round(...).astype(int) outside the traced computation, "
                "or index with a plain NumPy array."
            )
        else:
            arr = np.asarray(item)
            if arr.size == 0 and arr.dtype.kind == "f":  # [] is an empty integer index to NumPy
                arr = arr.astype(np.intp)
            if arr.dtype.kind not in "iub":
                raise IndexingError(
                    f"index arrays must hold integers or booleans, got dtype {arr.dtype} "
                    f"(from {type(item).__name__}); convert it with .astype(int)."
                )
            spec.append(("a", len(arrays)))
            arrays.append(arr)
    return tuple(spec), arrays


def decode_index(spec: tuple, arrays: tuple) -> tuple:
    out: list[Any] = []
    for item in spec:
        kind = item[0]
        if kind == "s":
            out.append(slice(item[1], item[2], item[3]))
        elif kind == "i":
            out.append(item[1])
        elif kind == "a":
            out.append(arrays[item[1]])
        elif kind == "n":
            out.append(None)
        else:
            out.append(Ellipsis)
    return tuple(out)


def _getitem_impl(x: Any, *arrays: Any, spec: tuple) -> Any:
    return as_array(x)[decode_index(spec, arrays)]


def _foreign_operand(*xs: Any) -> Any:
    """The first operand from another array library (Dask, CuPy), or None."""
    return next((a for a in xs if type(a) is not np.ndarray and is_foreign_array(a)), None)


def _index_add_impl(x: Any, v: Any, *arrays: Any, spec: tuple) -> Any:
    foreign = _foreign_operand(x, v, *arrays)
    if foreign is not None:
        return _foreign_index_update(x, v, arrays, spec, foreign, add=True)
    out = np.array(x, copy=True)
    idx = decode_index(spec, arrays)
    if arrays:
        np.add.at(out, idx, v)  # repeated indices accumulate
    else:
        out[idx] += v
    return out


def _index_set_impl(x: Any, v: Any, *arrays: Any, spec: tuple) -> Any:
    foreign = _foreign_operand(x, v, *arrays)
    if foreign is not None:
        return _foreign_index_update(x, v, arrays, spec, foreign, add=False)
    out = np.array(x, copy=True)
    out[decode_index(spec, arrays)] = v
    return out


def _foreign_index_update(x: Any, v: Any, arrays: tuple, spec: tuple, foreign: Any, add: bool) -> Any:
    """Scatter into an array of another library, in that library (never through NumPy): a copy
    of ``x`` (made there) with ``v`` added at (or written to) the index. Repeated integer indices
    need ``np.add.at``, which Dask does not provide: a clear error then."""
    if type(x) is np.ndarray or not is_foreign_array(x):  # zeros or a constant beside a foreign value
        x = np.asarray(np.asarray(x), like=foreign)
    out = x.copy()
    idx = decode_index(spec, arrays)
    if add and arrays:
        try:
            np.add.at(out, idx, v)
        except (TypeError, NotImplementedError) as e:
            raise unsupported("index_add with integer-array indices (the derivative of fancy indexing, "
                              ".at[].add)", foreign, "the library has no np.add.at") from e
        return out
    try:
        out[idx] = out[idx] + v if add else v
    except (TypeError, NotImplementedError, ValueError, IndexError) as e:
        raise unsupported("index_add" if add else "index_set (.at[].set)", foreign, str(e)) from e
    return out


# --- batching ---------------------------------------------------------------------------------
# Without index arrays, a leading full slice keeps the batch axis in front. With index arrays,
# an extra index ``arange(B)`` (shaped to broadcast with the others) selects each example; NumPy
# then puts the broadcast index axes first, batch axis leading. When the per-example index would
# have kept its index axes in place (one contiguous advanced block after some slices), those
# axes are moved back to where the unbatched operation has them.


def _shape_of(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _canonical(spec: tuple, arrays: tuple, dims: tuple) -> tuple[tuple, list, list]:
    """Replace concrete boolean index arrays by their integer ``nonzero`` arrays."""
    new_arrays: list[Any]
    new_dims: list[Any]
    new_spec, new_arrays, new_dims = [], [], []
    for item in spec:
        if item[0] != "a":
            new_spec.append(item)
            continue
        arr, d = arrays[item[1]], dims[item[1]]
        if d is None and isinstance(arr, np.ndarray) and arr.dtype == bool:  # a constant mask
            for nz in np.nonzero(arr):
                new_spec.append(("a", len(new_arrays)))
                new_arrays.append(nz)
                new_dims.append(None)
        elif arr.dtype == bool:
            raise NotImplementedError("vmap of indexing with a batched boolean mask: its result shape "
                                      "differs per example. Use funcgrad.numpy.where instead.")
        else:
            new_spec.append(("a", len(new_arrays)))
            new_arrays.append(arr)
            new_dims.append(d)
    return tuple(new_spec), new_arrays, new_dims


def _advanced_layout(spec: tuple, x_ndim: int, index_rank: int) -> int | None:
    """Where the unbatched result keeps its index axes, or None if NumPy moves them to the front."""
    positions = [k for k, item in enumerate(spec) if item[0] in ("a", "i")]
    if not any(item[0] == "a" for item in spec):
        return None
    if positions != list(range(positions[0], positions[-1] + 1)):
        return None  # separated advanced indices: NumPy puts their axes first anyway
    consumed = sum(1 for item in spec if item[0] in ("s", "i", "a"))
    before = 0
    for item in spec[: positions[0]]:
        if item[0] in ("s", "n"):
            before += 1
        elif item[0] == "e":
            before += x_ndim - consumed
    return before


def _batched_index(spec: tuple, arrays: list, dims: list, size: int, x_ndim: int) -> tuple[tuple, list, int, int]:
    shapes = [_shape_of(a)[:d] + _shape_of(a)[d + 1:] if d is not None else _shape_of(a)
              for a, d in zip(arrays, dims, strict=False)]
    index_rank = len(np.broadcast_shapes(*shapes)) if shapes else 0
    moved = [batch_to_front(a, d, rank=index_rank) if d is not None else a for a, d in zip(arrays, dims, strict=False)]
    examples = np.arange(size).reshape((size,) + (1,) * index_rank)
    new_spec = (("a", 0),) + tuple(("a", item[1] + 1) if item[0] == "a" else item for item in spec)
    layout = _advanced_layout(spec, x_ndim, index_rank)
    return new_spec, [examples] + moved, index_rank, -1 if layout is None else layout


def _move_block(x: Any, start: int, length: int, to: int) -> Any:
    """Move axes [start, start+length) of ``x`` so that they begin at ``to`` (after removal)."""
    from .shape import transpose

    if length == 0 or start == to:
        return x
    n = ndim_of(x)
    block = list(range(start, start + length))
    rest = [i for i in range(n) if i not in block]
    perm = rest[:to] + block + rest[to:]
    return transpose(x, axes=tuple(perm))


def _getitem_batch(args: tuple, dims: tuple, spec: tuple) -> tuple[Any, int]:
    x, dx = args[0], dims[0]
    spec, arrays, adims = _canonical(spec, args[1:], dims[1:])
    size = _shape_of(x)[dx] if dx is not None else next(
        _shape_of(a)[d] for a, d in zip(arrays, adims, strict=False) if d is not None)
    x_ndim = ndim_of(x) - (dx is not None)
    x = batch_to_front(x, dx, size=size)
    if not arrays:
        return getitem(x, spec=(("s", None, None, None),) + spec), 0
    new_spec, new_arrays, index_rank, layout = _batched_index(spec, arrays, adims, size, x_ndim)
    out = getitem(x, *new_arrays, spec=new_spec)
    if layout > 0:  # put the index axes back where the per-example result has them
        out = _move_block(out, 1, index_rank, 1 + layout)
    return out, 0


def _update_batch(bind: Any) -> Any:
    def batch(args: tuple, dims: tuple, spec: tuple) -> tuple[Any, int]:
        from .shape import broadcast_to

        (x, v), (dx, dv) = args[:2], dims[:2]
        spec, arrays, adims = _canonical(spec, args[2:], dims[2:])
        size = next(_shape_of(a)[d] for a, d in zip((x, v, *arrays), (dx, dv, *adims), strict=False) if d is not None)
        x_ndim = ndim_of(x) - (dx is not None)
        x = batch_to_front(x, dx, size=size)
        # The region each example updates, and v broadcast to it with the batch axis in front.
        probe = np.empty(_shape_of(x)[1:], dtype=bool)[decode_index(spec, tuple(
            np.zeros(_shape_of(a)[:d] + _shape_of(a)[d + 1:] if d is not None else _shape_of(a), np.intp)
            for a, d in zip(arrays, adims, strict=False)))]
        region = probe.shape
        v = broadcast_to(batch_to_front(v, dv, size=size, rank=len(region)), shape=(size,) + region)
        if not arrays:
            return bind(x, v, spec=(("s", None, None, None),) + spec), 0
        new_spec, new_arrays, index_rank, layout = _batched_index(spec, arrays, adims, size, x_ndim)
        if layout > 0:
            v = _move_block(v, 1 + layout, index_rank, 1)
        return bind(x, v, *new_arrays, spec=new_spec), 0

    return batch


def _getitem_vjp(ct: Any, out: Any, x: Any, *arrays: Any, spec: tuple) -> Any:
    return index_add(zeros_like_shape(ct, np.shape(x), ct.dtype), ct, *arrays, spec=spec)


def _index_source(spec: tuple, arrays: list, bind: Any) -> str:
    from ..ir.codegen import literal_source  # numbers written safely: never a subclass's repr

    parts = []
    for item in spec:
        kind = item[0]
        if kind == "s":
            parts.append(":".join("" if v is None else literal_source(v, bind) for v in item[1:]))
        elif kind == "i":
            parts.append(literal_source(item[1], bind))
        elif kind == "a":
            parts.append(arrays[item[1]])
        elif kind == "n":
            parts.append("None")
        else:
            parts.append("...")
    return ", ".join(parts) + "," if parts else "()"


def _getitem_emit(e: Any, args: list, bind: Any) -> str:
    from ..ir.program import Var

    if isinstance(e.inputs[0], Var) and not e.inputs[0].aval.weak:
        return f"{args[0]}[{_index_source(e.params['spec'], args[1:], bind)}]"
    return f"{bind(_getitem_impl)}({', '.join(args)}, spec={bind(e.params['spec'])})"


getitem_p = Primitive(
    "getitem",
    _getitem_impl,
    emit=_getitem_emit,
    jvp=(lambda t, out, x, *arrays, spec: getitem(t, *arrays, spec=spec),),
    vjp=(_getitem_vjp,),
    batch=_getitem_batch,
    index_start=1,  # where the index operands start (a boolean mask there sets the result's shape)
)
getitem: Callable[..., Any] = getitem_p.bind

index_add_p = Primitive(
    "index_add",
    _index_add_impl,
    jvp=(lambda t, out, x, v, *arrays, spec: t,
         lambda t, out, x, v, *arrays, spec: index_add(zeros_like_shape(t, out.shape, t.dtype), t, *arrays,
                                                       spec=spec)),
    vjp=(lambda ct, out, x, v, *arrays, spec: ct,
         lambda ct, out, x, v, *arrays, spec: getitem(ct, *arrays, spec=spec)),
    batch=_update_batch(lambda *a, **p: index_add(*a, **p)),
    index_start=2,
)
index_add: Callable[..., Any] = index_add_p.bind

def _index_set_vjp_v(ct: Any, out: Any, x: Any, v: Any, *arrays: Any, spec: tuple) -> Any:
    g = getitem(ct, *arrays, spec=spec)
    if arrays:
        # Index arrays may repeat an element: only the write NumPy keeps (found by replaying the
        # same assignment with update ids) receives the cotangent, as in the jvp. Written with
        # funcgrad operations, so the index arrays may themselves be traced (vmap).
        shape = tuple(g.shape)
        ids = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
        x_shape = np.shape(x) if not hasattr(x, "shape") else x.shape
        owner = index_set(np.full(x_shape, -1), ids, *arrays, spec=spec)
        kept = equal(getitem(owner, *arrays, spec=spec), ids)
        if isinstance(kept, Tracer) or not np.all(kept):
            g = where(kept, g, 0.0)
    return g


index_set_p = Primitive(
    "index_set",
    _index_set_impl,
    jvp=(lambda t, out, x, v, *arrays, spec: index_set(t, 0.0, *arrays, spec=spec),
         lambda t, out, x, v, *arrays, spec: index_set(zeros_like_shape(t, out.shape, t.dtype), t, *arrays,
                                                       spec=spec)),
    vjp=(lambda ct, out, x, v, *arrays, spec: index_set(ct, 0.0, *arrays, spec=spec),
         _index_set_vjp_v),
    batch=_update_batch(lambda *a, **p: index_set(*a, **p)),
    index_start=2,
)
index_set: Callable[..., Any] = index_set_p.bind


def getitem_static(x: Any, idx: tuple) -> Any:
    """``x[idx]`` for an index made of slices and ints (used by other primitives' rules)."""
    spec, arrays = encode_index(idx)
    return getitem(x, *arrays, spec=spec)
