"""Primitives that move data without arithmetic: reshape, transpose, broadcast, concatenate,
pad, dtype conversion, and ``stop_gradient``.

``sum_to_shape`` lives here too: it is how the reverse trace undoes broadcasting, once, for
every primitive.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._backend import as_array, is_foreign_array
from ..core import Primitive
from .factories import PerIndex, batch_to_front, elementwise, fusion


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(x) if not hasattr(x, "shape") else x.shape


def batch_size(args: tuple, dims: tuple) -> int:
    """The batch size, read off the first batched operand."""
    for a, d in zip(args, dims, strict=False):
        if d is not None:
            return _shape(a)[d]
    raise ValueError("no batched operand")


def _front_then(x: Any, bdim: int, op: Any) -> tuple[Any, int]:
    """Batching rule of a one-operand primitive: batch axis to the front, then ``op``."""
    return op(batch_to_front(x, bdim)), 0


def _method_emit(method: str, param: str) -> Any:
    """Emit ``x.method(param)`` for array operands (faster than the np.* function), else impl."""

    def emit(e: Any, args: list, bind: Any) -> str:
        from ..ir.program import Var

        value = e.params[param]
        if isinstance(e.inputs[0], Var) and not e.inputs[0].aval.weak:
            from ..ir.codegen import literal_source

            arg = literal_source(value, bind)
            return f"{args[0]}.{method}({arg})"
        return f"{bind(e.prim.impl)}({args[0]}, **{bind(dict(e.params))})"

    return emit


def _reshape_impl(x: Any, shape: tuple[int, ...]) -> Any:
    # The method directly for a NumPy array (what np.reshape calls, without its Python wrapper).
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


def _transpose_impl(x: Any, axes: tuple[int, ...]) -> Any:
    return x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)


# Linear operations: on NumPy operands, the eager jvp rules put the tangent through the impl.
reshape_p = Primitive(
    "reshape",
    _reshape_impl,
    emit=_method_emit("reshape", "shape"),
    jvp=(lambda t, out, x, shape: reshape(t, shape=out.shape),),
    jvp_eager=(lambda t, out, x, shape: _reshape_impl(t, out.shape),),
    vjp=(lambda ct, out, x, shape: reshape(ct, shape=_shape(x)),),
    batch=lambda args, dims, shape: _front_then(args[0], dims[0], lambda x: reshape(x, shape=x.shape[:1] + shape)),
    residuals=((0,),),  # the operand's shape
    shape_role="reshape",
)
reshape: Callable[..., Any] = reshape_p.bind

transpose_p = Primitive(
    "transpose",
    _transpose_impl,
    emit=_method_emit("transpose", "axes"),
    jvp=(lambda t, out, x, axes: transpose(t, axes=axes),),
    jvp_eager=(lambda t, out, x, axes: _transpose_impl(t, axes),),
    vjp=(lambda ct, out, x, axes: transpose(ct, axes=tuple(int(i) for i in np.argsort(axes))),),
    batch=lambda args, dims, axes: _front_then(
        args[0], dims[0], lambda x: transpose(x, axes=(0,) + tuple(a + 1 for a in axes))),
    shape_role="transpose",
    residuals=((),),
)
transpose: Callable[..., Any] = transpose_p.bind

def _broadcast_to_impl(x: Any, shape: tuple[int, ...]) -> Any:
    # np.broadcast_to costs several microseconds of Python; for small results a filled copy is
    # far cheaper (the values are the same; large results stay zero-copy views).
    if shape and math.prod(shape) <= 1024 and not is_foreign_array(x):
        x = np.asarray(x)
        out = np.empty(shape, x.dtype)
        out[...] = x  # raises NumPy's broadcasting error for incompatible shapes
        return out
    return np.broadcast_to(x, shape)


# The reverse trace sums a cotangent back to its input's shape, so broadcast_to's vjp is the
# identity; the sum happens centrally.
broadcast_to_p = Primitive(
    "broadcast_to",
    _broadcast_to_impl,
    jvp=(lambda t, out, x, shape: broadcast_to(t, shape=shape),),
    vjp=(lambda ct, out, x, shape: ct,),
    jvp_eager=(lambda t, out, x, shape: _broadcast_to_impl(t, shape),),
    kernel=lambda e: fusion().identity_plan(e),  # in a fused loop, the value passes through
    batch=lambda args, dims, shape: (broadcast_to(
        b := batch_to_front(args[0], dims[0], rank=len(shape)), shape=b.shape[:1] + shape), 0),
    shape_role="broadcast",
    residuals=((),),
)
broadcast_to: Callable[..., Any] = broadcast_to_p.bind

# ``fill`` in an array of ``shape``/``dtype`` made by the library of ``x`` (NumPy, Dask, CuPy):
# how zero cotangents and grad's seed are staged by jit for arguments from another library.
full_like_p = Primitive(
    "full_like",
    lambda x, fill, shape, dtype: np.full_like(x, fill, dtype=dtype, shape=shape),
    nondiff=True,
    batch=lambda args, dims, fill, shape, dtype: (full_like(args[0], fill=fill, shape=shape, dtype=dtype), None),
)
full_like: Callable[..., Any] = full_like_p.bind


def _constant_like_impl(x: Any, value: Any) -> Any:
    if type(x) is np.ndarray or not is_foreign_array(x):
        return value
    return np.asarray(value, like=x)


# A NumPy constant a rule needs (an identity, a mask: the second operand) moved, when the program
# runs, into the library of ``x``: how jit stages such constants for Dask/CuPy arguments.
constant_like_p: Primitive = Primitive(
    "constant_like", _constant_like_impl, nondiff=True, register=False,
    batch=lambda args, dims: (constant_like_p.bind(args[0], args[1]), None),
)


def _concatenate_jvp(i: int, t: Any, out: Any, *xs: Any, axis: int) -> Any:
    before = sum(_shape(x)[axis] for x in xs[:i])
    after = out.shape[axis] - before - _shape(xs[i])[axis]
    width = tuple((before, after) if d == axis else (0, 0) for d in range(out.ndim))
    return pad(t, pad_width=width, value=0.0)


def _concatenate_vjp(i: int, ct: Any, out: Any, *xs: Any, axis: int) -> Any:
    start = sum(_shape(x)[axis] for x in xs[:i])
    stop = start + _shape(xs[i])[axis]
    return slice_axis(ct, axis, start, stop)


concatenate_p = Primitive(
    "concatenate",
    lambda *xs, axis: np.concatenate(xs, axis=axis),
    jvp=PerIndex(_concatenate_jvp),
    vjp=PerIndex(_concatenate_vjp),
    batch=lambda args, dims, axis: (concatenate(
        *(batch_to_front(x, d, size=batch_size(args, dims)) for x, d in zip(args, dims, strict=False)),
        axis=axis + 1), 0),
)
concatenate: Callable[..., Any] = concatenate_p.bind


def _pad_impl(x: Any, pad_width: tuple, value: float) -> Any:
    return np.pad(x, pad_width, mode="constant", constant_values=value)


def _unpad(ct: Any, pad_width: tuple) -> Any:
    from .indexing import getitem_static

    return getitem_static(ct, tuple(slice(lo, ct.shape[d] - hi) for d, (lo, hi) in enumerate(pad_width)))


pad_p = Primitive(
    "pad",
    _pad_impl,
    jvp=(lambda t, out, x, pad_width, value: pad(t, pad_width=pad_width, value=0.0),),
    vjp=(lambda ct, out, x, pad_width, value: _unpad(ct, pad_width),),
    batch=lambda args, dims, pad_width, value: _front_then(
        args[0], dims[0], lambda x: pad(x, pad_width=((0, 0),) + pad_width, value=value)),
)
pad: Callable[..., Any] = pad_p.bind


def slice_axis(x: Any, axis: int, start: int, stop: int) -> Any:
    from .indexing import getitem_static

    return getitem_static(x, (slice(None),) * axis + (slice(start, stop),))


# Casting: the reverse trace casts each cotangent back to its input's dtype, so vjp is the
# identity. A cast to an integer or boolean dtype has no derivative (the traces drop it).
def _astype_impl(x: Any, dtype: Any) -> Any:
    return as_array(x).astype(dtype)


astype_p = elementwise(
    "astype",
    _astype_impl,
    emit=_method_emit("astype", "dtype"),
    jvp=(lambda t, out, x, dtype: astype(t, dtype=dtype),),
    vjp=(lambda ct, out, x, dtype: ct,),
    jvp_eager=(lambda t, out, x, dtype: _astype_impl(t, dtype),),
    kernel=lambda e: fusion().cast_plan(e),  # in a fused loop, a cast
    residuals=((),),
)
astype: Callable[..., Any] = astype_p.bind


def cast_derivative(g: Any, dtype: np.dtype) -> Any:
    """Cast a tangent or cotangent to its value's dtype; a complex one for a real value keeps
    its real part (the derivative with respect to a real variable is real)."""
    if g.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        from .elementwise import real

        g = real(g)
        if g.dtype == dtype:
            return g
    return astype(g, dtype=dtype)

# The value passes unchanged; being non-differentiable, traces hand it on as a plain value.
stop_gradient_p = elementwise(
    "stop_gradient", lambda x: x, nondiff=True, emit=lambda e, args, bind: args[0],
    kernel=lambda e: fusion().identity_plan(e))
stop_gradient = stop_gradient_p.bind

# The identity, opaque to the compiler's passes: what is computed from its result is never
# merged (CSE) with what was computed from its operand. checkpoint's recomputation starts here.
optimization_barrier_p = elementwise(
    "optimization_barrier", lambda x: x,
    jvp=(lambda t, out, x: optimization_barrier(t),), vjp=(lambda ct, out, x: ct,),
    emit=lambda e, args, bind: args[0], register=False, kernel=lambda e: fusion().identity_plan(e),
    residuals=((),))
optimization_barrier: Callable[..., Any] = optimization_barrier_p.bind



def sum_to_shape(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast cotangent back down to ``shape`` (undoes NumPy broadcasting)."""
    gshape = g.shape
    if gshape == shape:
        return g
    from .reductions import reduce_sum  # (here, not at the top: reductions imports this module)

    lead = len(gshape) - len(shape)
    if lead < 0 or any(s not in (1, gs) for s, gs in zip(shape, gshape[lead:], strict=False)):
        # A rule returned something smaller than its input (a scalar for a broadcast operand).
        return broadcast_to(g, shape=shape)
    axes = tuple(range(lead)) + tuple(
        lead + d for d, s in enumerate(shape) if s == 1 and gshape[lead + d] != 1
    )
    if axes:
        g = reduce_sum(g, axis=axes, keepdims=False)
    if g.shape != shape:
        g = reshape(g, shape=shape)
    return g

