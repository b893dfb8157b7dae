"""The tensor convolution behind ``funcgrad.scipy.signal.convolve(..., axes=, dot_axes=)``.

One primitive, ``sliding_dot``: a "valid" cross-correlation that also contracts and broadcasts
other axes. Operands are laid out in groups of axes,

    x: (Z..., A..., D..., N...)      w: (Z..., B..., D..., M...)      out: (Z..., A..., B..., K...)

    out[z, a, b, k] = sum over d, j of x[z, a, d, k + j] * w[z, b, d, j],     K = N - M + 1,

``Z`` batch axes (shared, broadcast), ``A``/``B`` free axes of each operand (an outer product),
``D`` dot axes (summed), and ``N``/``M`` the correlated axes. Parameters: ``nbatch``, ``nfree_x``
and ``ndot`` (the rest follows from the ranks). Full/same convolutions, flipped kernels and
correlations are padding, flipping and transposing around it, done by the caller.

The impl takes a strided view of every window of ``x`` (``numpy.lib.stride_tricks``, no copy),
then contracts it with ``w`` in one ``matmul`` (one im2col copy): the small-kernel CNN case runs
at BLAS speed. When ``w`` has few free axes (the input gradient of a layer with more output than
input channels) it instead multiplies first and adds one shifted slice per kernel offset, which
moves less memory; :func:`_prefer_shift_add` chooses.

Derivatives (the operation is bilinear, so its transposes are the same operation again):

* ``x̄`` is the full convolution of ``out̄`` with ``w``: pad ``out̄`` by ``M - 1`` on both sides of each
  correlated axis and correlate it with ``w`` flipped, with ``B`` as the dot axes and ``D`` free;
* ``w̄`` is ``x`` correlated with ``out̄``, with ``A`` as the dot axes and ``D`` free, transposed to
  ``w``'s layout.

Written with funcgrad operations, the rules are differentiable again, stageable and batchable.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core import Primitive
from ..ir.program import ShapedArray
from ..prims.indexing import getitem_static
from ..prims.shape import pad, transpose

__all__ = ["sliding_dot", "flip_axes"]


def _groups(xshape: tuple[int, ...], wshape: tuple[int, ...], nbatch: int, nfree_x: int,
            ndot: int) -> tuple[int, int]:
    """``(nconv, nfree_w)`` from the ranks."""
    nconv = len(xshape) - nbatch - nfree_x - ndot
    nfree_w = len(wshape) - nbatch - ndot - nconv
    if nconv < 0 or nfree_w < 0:  # pragma: no cover - callers build consistent layouts
        raise ValueError(f"sliding_dot: inconsistent layout for shapes {xshape} and {wshape}")
    return nconv, nfree_w


def _out_shape(xshape: tuple[int, ...], wshape: tuple[int, ...], nbatch: int, nfree_x: int,
               ndot: int) -> tuple[int, ...]:
    nconv, nfree_w = _groups(xshape, wshape, nbatch, nfree_x, ndot)
    batch = tuple(np.broadcast_shapes(xshape[:nbatch], wshape[:nbatch]))
    free_x = xshape[nbatch:nbatch + nfree_x]
    free_w = wshape[nbatch:nbatch + nfree_w]
    n, m = xshape[len(xshape) - nconv:], wshape[len(wshape) - nconv:]
    return batch + free_x + free_w + tuple(a - b + 1 for a, b in zip(n, m))


def _impl(x: Any, w: Any, *, nbatch: int, nfree_x: int, ndot: int) -> np.ndarray:
    x, w = np.asarray(x), np.asarray(w)
    nconv, nfree_w = _groups(x.shape, w.shape, nbatch, nfree_x, ndot)
    out_shape = _out_shape(x.shape, w.shape, nbatch, nfree_x, ndot)
    if _prefer_shift_add(x.shape, w.shape, nbatch, nfree_x, ndot, out_shape):
        return _shift_add(x, w, nbatch, nfree_x, ndot, out_shape)
    return _windows_matmul(x, w, nbatch, nfree_x, ndot, out_shape)


def _sizes(xshape: tuple[int, ...], wshape: tuple[int, ...], nbatch: int, nfree_x: int, ndot: int,
           out_shape: tuple[int, ...]) -> tuple[int, int, int, int, int, int]:
    """``(A, B, D, N, M, K)``: the sizes of the axis groups, each flattened."""
    nconv, nfree_w = _groups(xshape, wshape, nbatch, nfree_x, ndot)
    a = math.prod(xshape[nbatch:nbatch + nfree_x])
    d = math.prod(xshape[nbatch + nfree_x:nbatch + nfree_x + ndot])
    b = math.prod(wshape[nbatch:nbatch + nfree_w])
    n = math.prod(xshape[len(xshape) - nconv:])
    m = math.prod(wshape[len(wshape) - nconv:])
    k = math.prod(out_shape[len(out_shape) - nconv:])
    return a, b, d, n, m, k


def _prefer_shift_add(xshape: tuple[int, ...], wshape: tuple[int, ...], nbatch: int, nfree_x: int, ndot: int,
                      out_shape: tuple[int, ...]) -> bool:
    """Pick the algorithm that moves less memory. The window copy has A*K*D*M elements; the
    shift-and-add one makes a B*M*A*N product then adds M slices of A*B*K (plus Python overhead
    per slice). The second wins when w has few free axes, e.g. the input gradient of a layer with
    more output than input channels (the cotangent is the larger operand)."""
    a, b, d, n, m, k = _sizes(xshape, wshape, nbatch, nfree_x, ndot, out_shape)
    windows = a * k * d * m * (2 + b / 8)  # a strided gather costs about two contiguous writes
    shift_add = b * m * a * n * (1 + d / 8) + m * (a * b * k + 3000)
    return shift_add < windows


def _shift_add(x: np.ndarray, w: np.ndarray, nbatch: int, nfree_x: int, ndot: int,
               out_shape: tuple[int, ...]) -> np.ndarray:
    """``P[z, b, j, a, n] = sum_d w[z, b, d, j] x[z, a, d, n]`` (one matmul), then
    ``out[z, a, b, k] = sum_j P[z, b, j, a, k + j]`` (one shifted add per kernel offset)."""
    nconv, nfree_w = _groups(x.shape, w.shape, nbatch, nfree_x, ndot)
    a, b, d, n, m, k = _sizes(x.shape, w.shape, nbatch, nfree_x, ndot, out_shape)
    m_shape, n_shape = w.shape[w.ndim - nconv:], x.shape[x.ndim - nconv:]
    k_shape = out_shape[len(out_shape) - nconv:]
    z = tuple(range(nbatch))
    # w: (Z, B, D, M) -> (Z, B, M, D);  x: (Z, A, D, N) -> (Z, D, A, N)
    wo = z + tuple(range(nbatch, nbatch + nfree_w)) + tuple(range(w.ndim - nconv, w.ndim)) + tuple(
        range(nbatch + nfree_w, nbatch + nfree_w + ndot))
    xo = z + tuple(range(nbatch + nfree_x, nbatch + nfree_x + ndot)) + tuple(range(nbatch, nbatch + nfree_x)) + tuple(
        range(x.ndim - nconv, x.ndim))
    lhs = w.transpose(wo).reshape(w.shape[:nbatch] + (b * m, d))
    rhs = x.transpose(xo).reshape(x.shape[:nbatch] + (d, a * n))
    prod = np.matmul(lhs, rhs)
    batch = prod.shape[:nbatch]
    prod = prod.reshape(batch + (b,) + m_shape + (a,) + n_shape)
    acc = np.zeros(batch + (b, a) + k_shape, prod.dtype)
    lead = (slice(None),) * (nbatch + 1)
    for j in np.ndindex(*m_shape):
        acc += prod[lead + j + (slice(None),) + tuple(slice(o, o + s) for o, s in zip(j, k_shape))]
    return np.swapaxes(acc, nbatch, nbatch + 1).reshape(out_shape)


def _windows_matmul(x: np.ndarray, w: np.ndarray, nbatch: int, nfree_x: int, ndot: int,
                    out_shape: tuple[int, ...]) -> np.ndarray:
    """Every window of ``x`` as a strided view, contracted with ``w`` in one matmul."""
    nconv, nfree_w = _groups(x.shape, w.shape, nbatch, nfree_x, ndot)
    m = w.shape[w.ndim - nconv:]
    zx, zw = x.shape[:nbatch], w.shape[:nbatch]
    a_shape = x.shape[nbatch:nbatch + nfree_x]
    b_shape = w.shape[nbatch:nbatch + nfree_w]
    d_shape = x.shape[nbatch + nfree_x:nbatch + nfree_x + ndot]
    k_shape = out_shape[len(out_shape) - nconv:]
    if nconv:
        # windows: (Z, A, D, K..., M...) -> (Z, A, K..., D, M...)
        win = sliding_window_view(x, m, axis=tuple(range(x.ndim - nconv, x.ndim)))
        d0 = nbatch + nfree_x
        order = (tuple(range(d0)) + tuple(range(d0 + ndot, d0 + ndot + nconv)) + tuple(range(d0, d0 + ndot))
                 + tuple(range(d0 + ndot + nconv, win.ndim)))
        win = win.transpose(order)
    else:
        win = x
    rows = math.prod(a_shape) * math.prod(k_shape)
    inner = math.prod(d_shape) * math.prod(m)
    lhs = win.reshape(zx + (rows, inner))
    # w: (Z, B, D, M) -> (Z, D, M, B)
    worder = tuple(range(nbatch)) + tuple(range(nbatch + nfree_w, w.ndim)) + tuple(range(nbatch, nbatch + nfree_w))
    rhs = w.transpose(worder).reshape(zw + (inner, math.prod(b_shape)))
    prod = np.matmul(lhs, rhs)  # (Z, A*K, B)
    batch = prod.shape[:nbatch]
    prod = prod.reshape(batch + a_shape + k_shape + b_shape)
    # (Z, A, K, B) -> (Z, A, B, K)
    k0 = nbatch + nfree_x
    order = (tuple(range(k0)) + tuple(range(k0 + nconv, k0 + nconv + nfree_w)) + tuple(range(k0, k0 + nconv)))
    out = prod.transpose(order)
    if out.shape != out_shape:  # pragma: no cover - a layout bug, never a user error
        raise AssertionError(f"sliding_dot produced {out.shape}, expected {out_shape}")
    return out


def _abstract(x: Any, w: Any, *, nbatch: int, nfree_x: int, ndot: int) -> ShapedArray:
    return ShapedArray(_out_shape(tuple(x.shape), tuple(w.shape), nbatch, nfree_x, ndot),
                       np.result_type(x.dtype, w.dtype))


def flip_axes(v: Any, axes: tuple[int, ...]) -> Any:
    """``v`` reversed along ``axes`` (a view in NumPy; differentiable)."""
    if not axes:
        return v
    idx = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(v.ndim))
    return getitem_static(v, idx)


def _perm(v: Any, order: tuple[int, ...]) -> Any:
    return v if order == tuple(range(len(order))) else transpose(v, axes=order)


def _vjp_x(ct: Any, out: Any, x: Any, w: Any, *, nbatch: int, nfree_x: int, ndot: int) -> Any:
    nconv, nfree_w = _groups(tuple(x.shape), tuple(w.shape), nbatch, nfree_x, ndot)
    m = tuple(w.shape[w.ndim - nconv:])
    # ct: (Z, A, B, K) with B as dot axes; w -> (Z, D, B, M) flipped on M, D free
    ct_full = ct
    if any(k > 1 for k in m):
        ct_full = pad(ct, pad_width=((0, 0),) * (ct.ndim - nconv) + tuple((k - 1, k - 1) for k in m), value=0.0)
    worder = (tuple(range(nbatch)) + tuple(range(nbatch + nfree_w, nbatch + nfree_w + ndot))
              + tuple(range(nbatch, nbatch + nfree_w)) + tuple(range(w.ndim - nconv, w.ndim)))
    kernel = flip_axes(_perm(w, worder), tuple(range(w.ndim - nconv, w.ndim)))
    return sliding_dot(ct_full, kernel, nbatch=nbatch, nfree_x=nfree_x, ndot=nfree_w)


def _vjp_w(ct: Any, out: Any, x: Any, w: Any, *, nbatch: int, nfree_x: int, ndot: int) -> Any:
    nconv, nfree_w = _groups(tuple(x.shape), tuple(w.shape), nbatch, nfree_x, ndot)
    # x -> (Z, D, A, N): D free, A dot;  ct -> (Z, B, A, K): B free, A dot;  result (Z, D, B, M)
    xorder = (tuple(range(nbatch)) + tuple(range(nbatch + nfree_x, nbatch + nfree_x + ndot))
              + tuple(range(nbatch, nbatch + nfree_x)) + tuple(range(x.ndim - nconv, x.ndim)))
    corder = (tuple(range(nbatch)) + tuple(range(nbatch + nfree_x, nbatch + nfree_x + nfree_w))
              + tuple(range(nbatch, nbatch + nfree_x)) + tuple(range(ct.ndim - nconv, ct.ndim)))
    r = sliding_dot(_perm(x, xorder), _perm(ct, corder), nbatch=nbatch, nfree_x=ndot, ndot=nfree_x)
    # (Z, D, B, M) -> (Z, B, D, M)
    rorder = (tuple(range(nbatch)) + tuple(range(nbatch + ndot, nbatch + ndot + nfree_w))
              + tuple(range(nbatch, nbatch + ndot)) + tuple(range(r.ndim - nconv, r.ndim)))
    return _perm(r, rorder)


def _move(v: Any, src: int, dst: int) -> Any:
    if src == dst:
        return v
    order = [d for d in range(v.ndim) if d != src]
    order.insert(dst, src)
    return transpose(v, axes=tuple(order))


def _batch(args: tuple, dims: tuple, *, nbatch: int, nfree_x: int, ndot: int) -> tuple[Any, int]:
    x, w = args
    dx, dw = dims
    if dx is not None and dw is not None:  # a new shared batch axis
        return sliding_dot(_move(x, dx, 0), _move(w, dw, 0), nbatch=nbatch + 1, nfree_x=nfree_x, ndot=ndot), 0
    if dx is not None:  # a new free axis of x, first among A
        return sliding_dot(_move(x, dx, nbatch), w, nbatch=nbatch, nfree_x=nfree_x + 1, ndot=ndot), nbatch
    # a new free axis of w, first among B
    return sliding_dot(x, _move(w, dw, nbatch), nbatch=nbatch, nfree_x=nfree_x, ndot=ndot), nbatch + nfree_x


sliding_dot_p = Primitive(
    "sliding_dot",
    _impl,
    jvp=(
        lambda t, out, x, w, **p: sliding_dot(t, w, **p),
        lambda t, out, x, w, **p: sliding_dot(x, t, **p),
    ),
    vjp=(_vjp_x, _vjp_w),
    batch=_batch,
    abstract_eval=_abstract,
)
sliding_dot: Callable[..., Any] = sliding_dot_p.bind
