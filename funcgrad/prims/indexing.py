"""Indexing primitives: ``x[idx]`` and the functional updates ``x.at[idx].set/add(v)``.

An index is split into a static, hashable ``spec`` (slices, ints, None, Ellipsis) and the
integer or boolean index arrays, which are passed positionally; this keeps parameters hashable
(cache keys for ``jit``) and lets index arrays be data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Primitive, Tracer
from ..errors import IndexingError


def _as_int(v: Any, what: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, Tracer):
        raise IndexingError(
            f"a traced value was used as the {what} of a slice; slice bounds must be concrete "
            "Python ints. Compute them from shapes, or pass them as plain ints."
        )
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
        elif isinstance(item, Tracer):
            raise IndexingError(
                f"a traced {item.dtype} value was used as an index; indices must be integer or "
                "boolean arrays with concrete values, and derivatives never flow through them. "
                "Use funcgrad.numpy.argmax/round(...).astype(int) outside the traced computation, "
                "or index with a plain NumPy array."
            )
        else:
            arr = np.asarray(item)
            if arr.dtype.kind not in "iub":
                raise IndexingError(
                    f"index arrays must hold integers or booleans, got dtype {arr.dtype} "
                    f"(from {type(item).__name__}); convert it with .astype(int)."
                )
            spec.append(("a", len(arrays)))
            arrays.append(arr)
    return tuple(spec), arrays


def decode_index(spec: tuple, arrays: tuple) -> tuple:
    out = []
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
    return np.asarray(x)[decode_index(spec, arrays)]


def _index_add_impl(x: Any, v: Any, *arrays: Any, spec: tuple) -> Any:
    out = np.array(x, copy=True)
    idx = decode_index(spec, arrays)
    if arrays:
        np.add.at(out, idx, v)  # repeated indices accumulate
    else:
        out[idx] += v
    return out


def _index_set_impl(x: Any, v: Any, *arrays: Any, spec: tuple) -> Any:
    out = np.array(x, copy=True)
    out[decode_index(spec, arrays)] = v
    return out


def _getitem_vjp(ct: Any, out: Any, x: Any, *arrays: Any, spec: tuple) -> Any:
    return index_add(np.zeros(np.shape(x), dtype=ct.dtype), ct, *arrays, spec=spec)


getitem_p = Primitive(
    "getitem",
    _getitem_impl,
    jvp=(lambda t, out, x, *arrays, spec: getitem(t, *arrays, spec=spec),),
    vjp=(_getitem_vjp,),
)
getitem = getitem_p.bind

index_add_p = Primitive(
    "index_add",
    _index_add_impl,
    jvp=(lambda t, out, x, v, *arrays, spec: t,
         lambda t, out, x, v, *arrays, spec: index_add(np.zeros(out.shape, t.dtype), t, *arrays, spec=spec)),
    vjp=(lambda ct, out, x, v, *arrays, spec: ct,
         lambda ct, out, x, v, *arrays, spec: getitem(ct, *arrays, spec=spec)),
)
index_add = index_add_p.bind

index_set_p = Primitive(
    "index_set",
    _index_set_impl,
    jvp=(lambda t, out, x, v, *arrays, spec: index_set(t, 0.0, *arrays, spec=spec),
         lambda t, out, x, v, *arrays, spec: index_set(np.zeros(out.shape, t.dtype), t, *arrays, spec=spec)),
    vjp=(lambda ct, out, x, v, *arrays, spec: index_set(ct, 0.0, *arrays, spec=spec),
         lambda ct, out, x, v, *arrays, spec: getitem(ct, *arrays, spec=spec)),
)
index_set = index_set_p.bind


def getitem_static(x: Any, idx: tuple) -> Any:
    """``x[idx]`` for an index made of slices and ints (used by other primitives' rules)."""
    spec, arrays = encode_index(idx)
    return getitem(x, *arrays, spec=spec)
