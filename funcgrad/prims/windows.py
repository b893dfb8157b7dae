"""Sliding windows: the primitive pair under convolutions and windowed reductions.

``window_patches(x, ...)`` pads and dilates ``x`` (XLA's ``base_dilation``, interior padding with
``fill``), then returns every window of it, spaced by ``strides`` and with dilated taps
(``window_dilation``), as an array of shape ``out_shape + window``: output positions first, then
the taps of the window. ``lax.conv_general_dilated`` contracts it with a kernel (im2col);
``lax.reduce_window`` reduces its window axes. It is linear in ``x`` (``fill`` is a constant),
and its transpose ``window_patches_transpose`` adds every tap back to the element it came from
(col2im). Each is the other's derivative, so derivatives of any order stay in this pair.

All window parameters are tuples with one entry per dimension of ``x``; ``padding`` holds
``(low, high)`` pairs, which may be negative (cropping), as in XLA.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from .._backend import is_foreign_array
from ..core import Primitive
from .factories import batch_to_front

__all__ = ["window_patches", "window_patches_transpose", "window_out_shape"]


def _dilated(n: int, d: int) -> int:
    return 0 if n == 0 else (n - 1) * d + 1


def window_out_shape(shape: tuple, window: tuple, strides: tuple, padding: tuple, base_dilation: tuple,
                     window_dilation: tuple) -> tuple[int, ...]:
    """The number of window positions along each dimension."""
    out = []
    for n, w, s, (lo, hi), b, wd in zip(shape, window, strides, padding, base_dilation, window_dilation,
                                        strict=True):
        size = _dilated(n, b) + lo + hi
        eff = _dilated(w, wd)
        out.append(max(0, (size - eff) // s + 1) if size >= eff else 0)
    return tuple(out)


def _pad_dilate(x: Any, padding: tuple, base_dilation: tuple, fill: Any) -> Any:
    if any(b > 1 for b in base_dilation):
        shape = tuple(_dilated(n, b) for n, b in zip(x.shape, base_dilation))
        y = np.full_like(x, fill, shape=shape)
        y[tuple(slice(None, None, b) for b in base_dilation)] = x
        x = y
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        x = x[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape, padding))]
    if any(lo > 0 or hi > 0 for lo, hi in padding):
        x = np.pad(x, [(max(lo, 0), max(hi, 0)) for lo, hi in padding], constant_values=fill)
    return x


def _patches_impl(x: Any, *, window: tuple, strides: tuple, padding: tuple, base_dilation: tuple,
                  window_dilation: tuple, fill: Any) -> Any:
    if x.ndim == 0:  # no dimensions: the one (empty) window is the element itself
        return np.array(x, copy=True)
    out_shape = window_out_shape(x.shape, window, strides, padding, base_dilation, window_dilation)
    if 0 in out_shape or 0 in window:
        return np.empty_like(x, shape=out_shape + tuple(window))
    xp = _pad_dilate(x, padding, base_dilation, fill)
    eff = tuple(_dilated(w, wd) for w, wd in zip(window, window_dilation))
    view = np.lib.stride_tricks.sliding_window_view(xp, eff)
    view = view[tuple(slice(None, None, s) for s in strides) + tuple(slice(None, None, wd) for wd in window_dilation)]
    # A read-only strided view, as basic indexing gives: reductions over the taps read it in place,
    # and a convolution's reshape to an im2col matrix makes the one copy it needs.
    return view[tuple(slice(0, o) for o in out_shape)]


def _transpose_impl(ct: Any, *, operand_shape: tuple, window: tuple, strides: tuple, padding: tuple,
                    base_dilation: tuple, window_dilation: tuple) -> Any:
    n = len(operand_shape)
    if n == 0:
        return np.array(ct, copy=True)
    out_shape = ct.shape[:n]
    padded = tuple(_dilated(m, b) + lo + hi for m, b, (lo, hi) in zip(operand_shape, base_dilation, padding))
    xp = np.zeros_like(ct, shape=tuple(max(p, 0) for p in padded))
    if 0 not in out_shape:
        for taps in itertools.product(*(range(w) for w in window)):
            dest = tuple(slice(k * wd, k * wd + s * (o - 1) + 1, s)
                         for k, wd, s, o in zip(taps, window_dilation, strides, out_shape))
            xp[dest] += ct[(Ellipsis,) + taps]
    # Undo the padding: crop what was added, restore (as zeros) what negative padding cropped.
    xp = xp[tuple(slice(max(lo, 0), p - max(hi, 0)) for p, (lo, hi) in zip(xp.shape, padding))]
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        xp = np.pad(xp, [(max(-lo, 0), max(-hi, 0)) for lo, hi in padding])
    if any(b > 1 for b in base_dilation):
        xp = xp[tuple(slice(None, None, b) for b in base_dilation)]
    return xp if is_foreign_array(xp) else np.ascontiguousarray(xp)  # (a C function: it would convert)


def _extend(params: dict, **first: Any) -> dict:
    """The parameters for an operand with one more (leading) dimension, a trivial window on it."""
    out = dict(params)
    out["window"] = (1,) + params["window"]
    out["strides"] = (1,) + params["strides"]
    out["padding"] = ((0, 0),) + params["padding"]
    out["base_dilation"] = (1,) + params["base_dilation"]
    out["window_dilation"] = (1,) + params["window_dilation"]
    out.update(first)
    return out


def _patches_batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
    from .shape import reshape

    x = batch_to_front(args[0], dims[0])
    out = window_patches(x, **_extend(params))
    n = x.ndim
    return reshape(out, shape=out.shape[:n] + out.shape[n + 1:]), 0  # drop the size-1 batch tap


def _transpose_batch(args: tuple, dims: tuple, *, operand_shape: tuple, **params: Any) -> tuple[Any, int]:
    from .shape import reshape

    ct = batch_to_front(args[0], dims[0])
    n = len(operand_shape) + 1
    ct = reshape(ct, shape=ct.shape[:n] + (1,) + ct.shape[n:])
    return window_patches_transpose(ct, **_extend(params, operand_shape=(ct.shape[0],) + operand_shape)), 0


def _window_params(params: dict) -> dict:
    return {k: v for k, v in params.items() if k not in ("fill", "operand_shape")}


window_patches_p = Primitive(
    "window_patches",
    _patches_impl,
    jvp=(lambda t, out, x, **p: window_patches(t, **dict(p, fill=0)),),
    vjp=(lambda ct, out, x, **p: window_patches_transpose(ct, operand_shape=tuple(x.shape), **_window_params(p)),),
    batch=_patches_batch,
)
window_patches: Callable[..., Any] = window_patches_p.bind

window_patches_transpose_p = Primitive(
    "window_patches_transpose",
    _transpose_impl,
    jvp=(lambda t, out, ct, **p: window_patches_transpose(t, **p),),
    vjp=(lambda g, out, ct, **p: window_patches(g, fill=0, **_window_params(p)),),
    batch=_transpose_batch,
)
window_patches_transpose: Callable[..., Any] = window_patches_transpose_p.bind
