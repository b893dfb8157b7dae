"""``index_update``: ``x.at[idx].multiply/divide/power/min/max(v)`` where ``idx`` repeats
positions, so that updates combine (NumPy's ``ufunc.at``). With distinct positions
``funcgrad.numpy`` composes these from ``getitem`` and ``index_set`` instead, which is
differentiable everywhere; this primitive only serves repeated indices.

Derivatives (as JAX's scatter operations have them): in ``x`` always (the update is linear in
``x`` for multiply/divide; min/max pass the derivative to the winners). In ``v`` for min and
max, where ties share the derivative equally among ``x`` and the tied updates; for multiply,
divide and power with repeated positions the derivative in ``v`` raises NotImplementedError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_foreign_array, unsupported, zeros_like_shape
from ..core import Primitive
from .elementwise import div, equal, mul
from .indexing import _update_batch, decode_index, getitem, index_add
from .shape import astype

_OPS = ("multiply", "divide", "power", "minimum", "maximum")


def _impl(x: Any, v: Any, *arrays: Any, spec: tuple, op: str) -> Any:
    if type(x) is np.ndarray or not is_foreign_array(x):
        out = np.array(x, copy=True)
        getattr(np, op).at(out, decode_index(spec, arrays), v)
        return out
    out = x.copy()  # a Dask/CuPy array: updated in its own library, if that provides ufunc.at
    try:
        result = getattr(np, op).at(out, decode_index(spec, arrays), v)
    except (TypeError, NotImplementedError, AttributeError) as e:
        raise unsupported(f"x.at[idx].{op}(v) (ufunc.at)", x, str(e)) from e
    return out if result is None else result


def _region_like(out: Any, v: Any, arrays: tuple, spec: tuple) -> Any:
    """``v`` broadcast to the shape of ``out[idx]`` (the region the update touches)."""
    from .shape import broadcast_to

    region = getitem(out, *arrays, spec=spec)
    shape = tuple(region.shape)
    v_shape = tuple(v.shape) if hasattr(v, "shape") else np.shape(v)
    return v if v_shape == shape else broadcast_to(v, shape=shape)


def _tie_weights(out: Any, x: Any, v: Any, arrays: tuple, spec: tuple) -> tuple[Any, Any]:
    """For min/max: the weight of ``x`` at each position and of each update element (1/number of
    tied winners, 0 for losers)."""
    dtype = out.dtype
    hit_x = astype(equal(x, out), dtype=dtype)
    vb = _region_like(out, v, arrays, spec)
    hit_v = astype(equal(vb, getitem(out, *arrays, spec=spec)), dtype=dtype)
    count = hit_x + index_add(zeros_like_shape(out, tuple(out.shape), dtype), hit_v, *arrays, spec=spec)
    return div(hit_x, count), mul(hit_v, getitem(div(1.0, count), *arrays, spec=spec))


def _no_v_derivative(op: str) -> Exception:
    return NotImplementedError(
        f"the derivative of x.at[idx].{op}(v) with respect to v is not defined when idx repeats a position "
        "(as in JAX); pass distinct indices (or unique_indices=True when they are).")


def _jvp_x(t: Any, out: Any, x: Any, v: Any, *arrays: Any, spec: tuple, op: str) -> Any:
    if op in ("multiply", "divide"):
        return index_update(t, v, *arrays, spec=spec, op=op)
    if op == "power":
        raise NotImplementedError("the derivative of x.at[idx].power(v) with repeated indices is not supported; "
                                  "pass distinct indices")
    wx, _ = _tie_weights(out, x, v, arrays, spec)
    return mul(t, wx)


def _jvp_v(t: Any, out: Any, x: Any, v: Any, *arrays: Any, spec: tuple, op: str) -> Any:
    if op not in ("minimum", "maximum"):
        raise _no_v_derivative(op)
    _, wv = _tie_weights(out, x, v, arrays, spec)
    return index_add(zeros_like_shape(out, tuple(out.shape), out.dtype), mul(_region_like(out, t, arrays, spec), wv),
                     *arrays, spec=spec)


def _vjp_x(ct: Any, out: Any, x: Any, v: Any, *arrays: Any, spec: tuple, op: str) -> Any:
    if op in ("multiply", "divide"):
        return index_update(ct, v, *arrays, spec=spec, op=op)
    if op == "power":
        raise NotImplementedError("the derivative of x.at[idx].power(v) with repeated indices is not supported; "
                                  "pass distinct indices")
    wx, _ = _tie_weights(out, x, v, arrays, spec)
    return mul(ct, wx)


def _vjp_v(ct: Any, out: Any, x: Any, v: Any, *arrays: Any, spec: tuple, op: str) -> Any:
    if op not in ("minimum", "maximum"):
        raise _no_v_derivative(op)
    _, wv = _tie_weights(out, x, v, arrays, spec)
    return mul(getitem(ct, *arrays, spec=spec), wv)


def _batch(args: tuple, dims: tuple, spec: tuple, op: str) -> tuple[Any, int]:
    return _update_batch(lambda *a, **p: index_update(*a, **p, op=op))(args, dims, spec)


index_update_p = Primitive("index_update", _impl, jvp=(_jvp_x, _jvp_v), vjp=(_vjp_x, _vjp_v), batch=_batch)
index_update = index_update_p.bind
