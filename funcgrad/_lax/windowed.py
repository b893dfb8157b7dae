"""Windowed operations: ``reduce_window`` and convolutions (``conv_general_dilated`` and friends).

Both are built on the ``window_patches`` primitive (funcgrad/prims/windows.py), which extracts
every window of a padded, dilated array: a windowed reduction reduces the window axes, a
convolution contracts them with the kernel (one matrix product per feature group). The
derivative of ``window_patches`` is its transpose (col2im), so every order of derivative works.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .. import numpy as fnp
from ..core import Tracer
from ..prims.windows import window_out_shape, window_patches
from .arrays import _arr, _weak, known_computation

__all__ = ["padtype_to_pads", "reduce_window", "ConvDimensionNumbers", "conv_dimension_numbers",
           "conv_general_dilated", "conv", "conv_with_general_padding", "conv_transpose"]


def padtype_to_pads(in_shape: Sequence[int], window_shape: Sequence[int], window_strides: Sequence[int],
                    padding: str) -> list[tuple[int, int]]:
    """``(low, high)`` padding per dimension for ``'SAME'``, ``'SAME_LOWER'`` or ``'VALID'``.

    >>> padtype_to_pads((5,), (3,), (2,), "SAME")
    [(1, 1)]
    """
    mode = padding.upper() if isinstance(padding, str) else padding
    if mode == "VALID":
        return [(0, 0)] * len(in_shape)
    if mode not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of (low, high) pairs, got "
                         f"{padding!r}.")
    pads = []
    for n, w, s in zip(in_shape, window_shape, window_strides, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + w - n, 0)
        pads.append((total // 2, total - total // 2) if mode == "SAME" else (total - total // 2, total // 2))
    return pads


def _ints(v: Any, n: int, default: int, what: str) -> tuple[int, ...]:
    if v is None:
        return (default,) * n
    v = tuple(int(x) for x in v)
    if len(v) != n:
        raise TypeError(f"{what} needs {n} entries, got {len(v)}.")
    return v


def _pairs(padding: Any, n: int, what: str) -> tuple[tuple[int, int], ...]:
    try:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: padding must be a string or a sequence of (low, high) pairs, got {padding!r}.") \
            from None
    if len(pads) != n:
        raise TypeError(f"{what}: padding needs {n} (low, high) pairs, got {len(pads)}.")
    return pads


def _fill_value(init: Any, dtype: np.dtype) -> Any:
    """The padding value for a windowed reduction: the init value as a Python scalar of ``dtype``."""
    if isinstance(init, Tracer):
        raise TypeError(
            "reduce_window: init_value must be a concrete scalar (the identity of the computation, such as 0.0 "
            "for add or -inf for max), not a traced value."
        )
    v = np.asarray(init)
    if v.ndim != 0:
        raise TypeError(f"reduce_window: init_value must be a scalar, got shape {v.shape}.")
    if dtype.kind in "iu" and v.dtype.kind == "f" and np.isinf(v):
        info = np.iinfo(dtype)
        return int(info.max if v > 0 else info.min)
    if dtype == np.bool_:
        return bool(v)
    return v.astype(dtype).item()


def reduce_window(operand: Any, init_value: Any, computation: Callable[..., Any], window_dimensions: Sequence[int],
                  window_strides: Sequence[int] | None = None, padding: Any = "VALID",
                  base_dilation: Sequence[int] | None = None, window_dilation: Sequence[int] | None = None) -> Any:
    """Reduce every window of ``operand`` (``jax.lax.reduce_window``): padded positions hold
    ``init_value``, which also starts each reduction.

    ``computation`` add, mul, max and min (funcgrad.lax's, funcgrad.numpy's, NumPy's or
    ``operator``'s) reduce the window axes at once; any other binary callable is folded over the
    taps of the window. Where several elements of a window tie for its max or min, the derivative
    is split equally between them (JAX gives it to one).

    >>> import numpy as np
    >>> from funcgrad import lax
    >>> reduce_window(np.arange(6.0), -np.inf, lax.max, (2,), (2,))
    array([1., 3., 5.])
    """
    x = _arr(operand)
    n = x.ndim
    window = _ints(window_dimensions, n, 1, "reduce_window: window_dimensions")
    strides = _ints(window_strides, n, 1, "reduce_window: window_strides")
    base = _ints(base_dilation, n, 1, "reduce_window: base_dilation")
    wdil = _ints(window_dilation, n, 1, "reduce_window: window_dilation")
    if isinstance(padding, str):
        eff = tuple(0 if w == 0 else (w - 1) * d + 1 for w, d in zip(window, wdil))
        pads = tuple(padtype_to_pads(x.shape, eff, strides, padding))
    else:
        pads = _pairs(padding, n, "reduce_window")
    kind = known_computation(computation)
    params = dict(window=window, strides=strides, padding=pads, base_dilation=base, window_dilation=wdil)
    out_shape = window_out_shape(x.shape, **params)
    init = _fill_value(init_value, x.dtype)
    if math.prod(window) == 0:
        return fnp.full(out_shape, init, dtype=x.dtype)
    if kind is None:
        # Fold over the taps; padding and dilation holes are skipped (masked), as in JAX.
        flat = fnp.reshape(window_patches(x, fill=0, **params), out_shape + (-1,))
        real = window_patches(np.ones(x.shape, np.bool_), fill=False, **params).reshape(out_shape + (-1,))
        acc = fnp.broadcast_to(_weak(init_value, x.dtype), out_shape)
        for k in range(flat.shape[-1]):
            acc = fnp.where(real[..., k], computation(acc, flat[..., k]), acc)
        return acc
    # Padding holds the computation's identity, and init_value joins each window once (as in JAX).
    identity = _fill_value({"add": 0, "mul": 1, "max": -np.inf, "min": np.inf}[kind], x.dtype)
    patches = window_patches(x, fill=identity, **params)
    reducers: dict[str, Callable[..., Any]] = {"add": fnp.sum, "mul": fnp.prod, "max": fnp.max, "min": fnp.min}
    red = reducers[kind](patches, axis=tuple(range(n, 2 * n)))
    if init == identity:
        return red
    out = computation(red, init)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


# --- convolutions ---------------------------------------------------------------------------------


class ConvDimensionNumbers(NamedTuple):
    """Where the batch/feature/spatial dimensions are: ``lhs_spec = (batch, feature, spatial...)``,
    ``rhs_spec = (out feature, in feature, spatial...)``, ``out_spec = (batch, feature, spatial...)``."""

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]


def _perms_from_strings(specs: Sequence[str]) -> ConvDimensionNumbers:
    lhs, rhs, out = specs
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for spec, (a, b) in zip(specs, pairs):
        if spec.count(a) != 1 or spec.count(b) != 1 or len(set(spec)) != len(spec):
            raise TypeError(f"convolution dimension_numbers entry {spec!r} must contain {a!r} and {b!r} exactly once "
                            "and no repeated letters.")
    if not (set(lhs) - {"N", "C"} == set(rhs) - {"O", "I"} == set(out) - {"N", "C"}):
        raise TypeError(f"convolution dimension_numbers {tuple(specs)!r} must have the same spatial letters in each "
                        "entry.")

    def perm(spec: str, pair: tuple[str, str]) -> tuple[int, ...]:
        spatial = [i for i, c in enumerate(spec) if c not in pair]
        spatial.sort(key=lambda i: rhs.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1])) + tuple(spatial)

    return ConvDimensionNumbers(perm(lhs, pairs[0]), perm(rhs, pairs[1]), perm(out, pairs[2]))


def conv_dimension_numbers(lhs_shape: Sequence[int], rhs_shape: Sequence[int],
                           dimension_numbers: Any) -> ConvDimensionNumbers:
    """``dimension_numbers`` (None, a triple of strings such as ``('NHWC', 'HWIO', 'NHWC')``, or a
    :class:`ConvDimensionNumbers`) in canonical form.

    >>> conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ("NHWC", "HWIO", "NHWC"))
    ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    n = len(lhs_shape)
    if len(rhs_shape) != n:
        raise TypeError(f"convolution operands must have the same rank, got shapes {tuple(lhs_shape)} and "
                        f"{tuple(rhs_shape)}.")
    if dimension_numbers is None:
        iota = tuple(range(n))
        return ConvDimensionNumbers(iota, iota, iota)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    if isinstance(dimension_numbers, (tuple, list)) and len(dimension_numbers) == 3:
        if all(isinstance(s, str) for s in dimension_numbers):
            for s in dimension_numbers:
                if len(s) != n:
                    raise TypeError(f"convolution dimension_numbers entry {s!r} has {len(s)} letters for operands of "
                                    f"rank {n}.")
            return _perms_from_strings(dimension_numbers)
        return ConvDimensionNumbers(*(tuple(int(i) for i in spec) for spec in dimension_numbers))
    raise TypeError(f"convolution dimension_numbers must be None, three strings or a ConvDimensionNumbers, got "
                    f"{dimension_numbers!r}.")


def conv_general_dilated(lhs: Any, rhs: Any, window_strides: Sequence[int], padding: Any,
                         lhs_dilation: Sequence[int] | None = None, rhs_dilation: Sequence[int] | None = None,
                         dimension_numbers: Any = None, feature_group_count: int = 1, batch_group_count: int = 1,
                         precision: Any = None, preferred_element_type: Any = None, out_sharding: Any = None) -> Any:
    """N-d convolution (cross-correlation, as XLA's), with strides, padding, input (``lhs``) and
    kernel (``rhs``) dilation, feature and batch groups; ``precision`` is ignored.

    >>> import numpy as np
    >>> x = np.arange(5.0).reshape(1, 1, 5)      # N, C, W
    >>> k = np.array([1.0, 0.0, -1.0]).reshape(1, 1, 3)   # O, I, W
    >>> conv_general_dilated(x, k, (1,), "VALID")
    array([[[-2., -2., -2.]]])
    """
    lhs, rhs = _arr(lhs), _arr(rhs)
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nsp = lhs.ndim - 2
    if nsp < 0:
        raise TypeError(f"conv_general_dilated needs operands of rank >= 2, got shapes {lhs.shape} and {rhs.shape}.")
    x = fnp.transpose(lhs, dn.lhs_spec)  # N, C, spatial
    k = fnp.transpose(rhs, dn.rhs_spec)  # O, I, spatial
    strides = _ints(window_strides, nsp, 1, "conv_general_dilated: window_strides")
    ldil = _ints(lhs_dilation, nsp, 1, "conv_general_dilated: lhs_dilation")
    rdil = _ints(rhs_dilation, nsp, 1, "conv_general_dilated: rhs_dilation")
    ksp = tuple(k.shape[2:])
    if isinstance(padding, str):
        eff = tuple(0 if w == 0 else (w - 1) * d + 1 for w, d in zip(ksp, rdil))
        pads = tuple(padtype_to_pads(x.shape[2:], eff, strides, padding))
    else:
        pads = _pairs(padding, nsp, "conv_general_dilated")
    N, C = x.shape[:2]
    O, I = k.shape[:2]  # noqa: E741
    G, B = int(feature_group_count), int(batch_group_count)
    if G < 1 or B < 1 or (G > 1 and B > 1):
        raise ValueError(f"conv_general_dilated: feature_group_count={G} and batch_group_count={B} must be >= 1 and "
                         "not both > 1.")
    if C != I * G or O % G:
        raise TypeError(f"conv_general_dilated: the input has {C} features, the kernel {I} input features and {O} "
                        f"output features; with feature_group_count={G} they must satisfy C == I * groups and O "
                        "divisible by groups.")
    if N % B or O % B:
        raise TypeError(f"conv_general_dilated: batch size {N} and {O} output features must both be divisible by "
                        f"batch_group_count={B}.")
    K = math.prod(ksp)
    inverse = tuple(int(i) for i in np.argsort(dn.out_spec))
    if B == 1:
        # Channels last, so the patches (N, out..., C, 1, taps..., 1) are rows of an im2col matrix
        # (N*P, C*K) with no copy, and the convolution is one matrix product per feature group.
        x_last = fnp.transpose(x, (0,) + tuple(range(2, nsp + 2)) + (1,))
        patches = window_patches(x_last, window=(1,) + ksp + (1,), strides=(1,) + strides + (1,),
                                 padding=((0, 0),) + pads + ((0, 0),), base_dilation=(1,) + ldil + (1,),
                                 window_dilation=(1,) + rdil + (1,), fill=0)
        out_sp = tuple(patches.shape[1:1 + nsp])
        P = math.prod(out_sp)
        w = fnp.reshape(fnp.transpose(k, (1,) + tuple(range(2, nsp + 2)) + (0,)), (I * K, O))  # (i, taps) x O
        if G == 1:
            out = fnp.matmul(fnp.reshape(patches, (N * P, C * K)), w)  # N*P, O
        else:
            cols = fnp.transpose(fnp.reshape(patches, (N * P, G, I * K)), (1, 0, 2))  # G, N*P, I*K
            wg = fnp.transpose(fnp.reshape(w, (I * K, G, O // G)), (1, 0, 2))  # G, I*K, O/G
            out = fnp.reshape(fnp.transpose(fnp.matmul(cols, wg), (1, 0, 2)), (N * P, O))
        out = fnp.reshape(out, (N,) + out_sp + (O,))
        # (N, out..., O) -> the output layout: canonical (N, O, out...) first.
        out = fnp.transpose(fnp.transpose(out, (0, nsp + 1) + tuple(range(1, nsp + 1))), inverse)
    else:
        patches = window_patches(x, window=(1, 1) + ksp, strides=(1, 1) + strides,
                                 padding=((0, 0), (0, 0)) + pads, base_dilation=(1, 1) + ldil,
                                 window_dilation=(1, 1) + rdil, fill=0)
        out_sp = tuple(patches.shape[2:2 + nsp])
        P = math.prod(out_sp)
        # (N, C, out..., 1, 1, taps...) -> (B, N/B, C*taps, positions): batch group g sees batch slice g.
        cols = fnp.transpose(fnp.reshape(patches, (N, C, P, K)), (0, 1, 3, 2))
        cols = fnp.reshape(cols, (B, N // B, I * K, P))
        w = fnp.reshape(k, (B, 1, O // B, I * K))
        out = fnp.matmul(w, cols)  # B, N/B, O/B, P
        out = fnp.reshape(fnp.transpose(out, (1, 0, 2, 3)), (N // B, O) + out_sp)
        out = fnp.transpose(out, inverse)
    if preferred_element_type is not None and out.dtype != np.dtype(preferred_element_type):
        out = out.astype(preferred_element_type)
    return out


def conv(lhs: Any, rhs: Any, window_strides: Sequence[int], padding: Any, precision: Any = None,
         preferred_element_type: Any = None) -> Any:
    """:func:`conv_general_dilated` with NCHW/OIHW layouts and no dilation."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs: Any, rhs: Any, window_strides: Sequence[int], padding: Any,
                              lhs_dilation: Sequence[int] | None, rhs_dilation: Sequence[int] | None,
                              precision: Any = None, preferred_element_type: Any = None) -> Any:
    """:func:`conv_general_dilated` with NCHW/OIHW layouts."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                precision=precision, preferred_element_type=preferred_element_type)


def _transpose_pads(k: int, s: int, padding: Any) -> tuple[int, int]:
    """(low, high) padding of the dilated input for a transposed convolution with kernel size ``k``
    and stride ``s``, given the forward convolution's padding (as in JAX and Keras)."""
    if padding == "SAME":
        total = k + s - 2
        low = k - 1 if s > k - 1 else -(-total // 2)
    elif padding == "VALID":
        total = k + s - 2 + max(k - s, 0)
        low = k - 1
    elif isinstance(padding, tuple):
        low, high = k - padding[0] - 1, k - padding[1] - 1
        total = low + high
    else:
        raise ValueError(f"conv_transpose: padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}.")
    return low, total - low


def conv_transpose(lhs: Any, rhs: Any, strides: Sequence[int], padding: Any,
                   rhs_dilation: Sequence[int] | None = None, dimension_numbers: Any = None,
                   transpose_kernel: bool = False, precision: Any = None, preferred_element_type: Any = None,
                   use_consistent_padding: bool = False) -> Any:
    """Transposed convolution (``jax.lax.conv_transpose``): the input dilated by ``strides``,
    convolved with unit strides; default layouts are channels last (``NHWC``/``HWIO``).
    ``transpose_kernel=True`` flips the kernel's spatial axes and swaps its feature axes (the
    gradient of a convolution).

    >>> import numpy as np
    >>> conv_transpose(np.ones((1, 2, 1)), np.ones((3, 1, 1)), (2,), "SAME").ravel()
    array([1., 1., 2., 1.])
    """
    lhs, rhs = _arr(lhs), _arr(rhs)
    n = lhs.ndim
    if rhs.ndim != n or n < 2:
        raise TypeError(f"conv_transpose needs operands of equal rank >= 2, got shapes {lhs.shape} and {rhs.shape}.")
    if dimension_numbers is None:
        spatial = "HWDXYZ"[: n - 2] if n <= 8 else None
        if spatial is None:
            raise ValueError("conv_transpose: give dimension_numbers for operands of rank > 8.")
        dimension_numbers = ("N" + spatial + "C", spatial + "IO", "N" + spatial + "C")
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nsp = n - 2
    strides = _ints(strides, nsp, 1, "conv_transpose: strides")
    rdil = _ints(rhs_dilation, nsp, 1, "conv_transpose: rhs_dilation")
    ksp = [rhs.shape[d] for d in dn.rhs_spec[2:]]
    if use_consistent_padding or (isinstance(padding, str) and padding in ("SAME", "VALID")):
        per_dim = [padding] * nsp if isinstance(padding, str) else [tuple(p) for p in padding]
        pads: Any = tuple(_transpose_pads(0 if k == 0 else (k - 1) * d + 1, s, p)
                          for k, d, s, p in zip(ksp, rdil, strides, per_dim))
    else:
        pads = padding
    if transpose_kernel:
        flip = tuple(slice(None, None, -1) if d in dn.rhs_spec[2:] else slice(None) for d in range(n))
        rhs = rhs[flip]
        perm = list(range(n))
        perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = perm[dn.rhs_spec[1]], perm[dn.rhs_spec[0]]
        rhs = fnp.transpose(rhs, tuple(perm))
    return conv_general_dilated(lhs, rhs, (1,) * nsp, pads, strides, rdil, dn, precision=precision,
                                preferred_element_type=preferred_element_type)
