"""``funcgrad.image``: ``jax.image``'s resampling, differentiable.

``resize`` and ``scale_and_translate`` build, for each resized axis, a matrix of kernel weights
(input pixels × output pixels) and contract the image with it, as JAX does. Everything is composed
from :mod:`funcgrad.numpy`, so ``grad``, ``jvp``, ``jit`` and ``vmap`` apply at any order, in the
image and, for ``scale_and_translate``, in ``scale`` and ``translation``.

Pixels are half-centred: pixel ``i`` sits at ``i + 0.5``. Output pixel ``j`` samples the input at
``(j + 0.5 - translation) / scale - 0.5``; a sample outside the input gets weight zero, and the
weights of each output pixel are normalised to sum to one. With ``antialias=True`` (the default)
a downsampling kernel is stretched by ``1 / scale``, so it averages every input pixel it covers.

>>> import numpy as np, funcgrad.image as fimage
>>> fimage.resize(np.array([0.0, 1.0, 2.0, 3.0]), (2,), "linear", antialias=False)
array([0.5, 2.5])
>>> fimage.resize(np.array([0.0, 1.0, 2.0, 3.0]), (2,), "linear")  # a wider, antialiasing triangle
array([0.71428571, 2.28571429])
>>> fimage.resize(np.array([[1.0, 2.0], [3.0, 4.0]]), (3, 3), "nearest")
array([[1., 2., 2.],
       [3., 4., 4.],
       [3., 4., 4.]])
"""

from __future__ import annotations

import enum
import math
import string
from typing import Any, Callable, Sequence

import numpy as np

from . import numpy as fnp
from .core import Tracer

__all__ = ["ResizeMethod", "resize", "scale_and_translate"]


class ResizeMethod(enum.Enum):
    """The resampling kernels (JAX's names and values)."""

    NEAREST = 0
    LINEAR = 1
    LANCZOS3 = 2
    LANCZOS5 = 3
    CUBIC = 4
    CUBIC_PYTORCH = 5
    AREA = 6

    @staticmethod
    def from_string(s: str) -> ResizeMethod:
        """The method named ``s`` (``"bilinear"``, ``"bicubic"``, ``"lanczos3"``, ...)."""
        if s in _NAMES:
            return _NAMES[s]
        raise ValueError(f"Unknown resize method {s!r}; expected one of {sorted(_NAMES)}")


_NAMES = {
    "nearest": ResizeMethod.NEAREST, "linear": ResizeMethod.LINEAR, "bilinear": ResizeMethod.LINEAR,
    "trilinear": ResizeMethod.LINEAR, "triangle": ResizeMethod.LINEAR, "lanczos3": ResizeMethod.LANCZOS3,
    "lanczos5": ResizeMethod.LANCZOS5, "cubic": ResizeMethod.CUBIC, "bicubic": ResizeMethod.CUBIC,
    "tricubic": ResizeMethod.CUBIC, "cubic-pytorch": ResizeMethod.CUBIC_PYTORCH,
    "bicubic-pytorch": ResizeMethod.CUBIC_PYTORCH, "area": ResizeMethod.AREA,
}


# --- kernels, as functions of the (non-negative) distance x in input pixels --------------------------

def _lanczos(radius: float) -> Callable[[Any], Any]:
    def kernel(x: Any) -> Any:
        y = radius * fnp.sin(np.pi * x) * fnp.sin(np.pi * x / radius)
        # sin(πx) sin(πx/r) r / (πx)² → 1 at 0: the inner where keeps the division finite there
        ratio = fnp.where(x > 1e-3, y / fnp.where(x != 0, np.pi**2 * x * x, 1.0), 1.0)
        return fnp.where(x > radius, 0.0, ratio)

    return kernel


def _keys_cubic(x: Any) -> Any:
    """Keys' cubic convolution kernel with a = -1/2."""
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return fnp.where(x >= 2.0, 0.0, fnp.where(x >= 1.0, far, near))


def _opencv_cubic(x: Any) -> Any:
    """The cubic kernel with a = -3/4 (OpenCV's and PyTorch's)."""
    a = -0.75
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return fnp.where(x >= 2.0, 0.0, fnp.where(x >= 1.0, far, near))


def _triangle(x: Any) -> Any:
    return fnp.maximum(0.0, 1.0 - fnp.abs(x))


_AREA = object()  # not a function of distance: the overlap of pixel intervals
_KERNELS: dict[ResizeMethod, tuple[int, Any]] = {
    ResizeMethod.LINEAR: (1, _triangle),
    ResizeMethod.LANCZOS3: (3, _lanczos(3.0)),
    ResizeMethod.LANCZOS5: (5, _lanczos(5.0)),
    ResizeMethod.CUBIC: (2, _keys_cubic),
    ResizeMethod.CUBIC_PYTORCH: (2, _opencv_cubic),
    ResizeMethod.AREA: (1, _AREA),
}


def _weight_matrix(in_size: int, out_size: int, scale: Any, translation: Any, kernel: Any, antialias: bool,
                   edge_padding: bool, radius: int, dtype: np.dtype) -> Any:
    """The ``(in_size, out_size)`` matrix whose column ``j`` holds the normalised weights of the
    input pixels in output pixel ``j``."""
    inv_scale = 1.0 / scale
    kernel_scale = fnp.maximum(inv_scale, 1.0) if antialias else 1.0
    outputs = np.arange(out_size, dtype=dtype)
    sample = (outputs + 0.5) * inv_scale - translation * inv_scale - 0.5  # input coordinate of each output
    pad = 0
    if edge_padding:
        if antialias:
            if isinstance(scale, Tracer):
                raise TypeError("scale_and_translate: antialiasing with edge padding needs a concrete scale")
            pad = math.ceil(radius * max(1.0 / float(np.asarray(scale)), 1.0))
        else:
            pad = radius
    positions = np.arange(-pad, in_size + pad, dtype=dtype)
    if kernel is _AREA:
        left = outputs * inv_scale - translation * inv_scale
        right = left + inv_scale
        starts = np.arange(in_size, dtype=dtype)
        weights = fnp.maximum(0.0, fnp.minimum(right[None, :], (starts + 1.0)[:, None])
                              - fnp.maximum(left[None, :], starts[:, None]))
    else:
        distance = fnp.abs(sample[None, :] - positions[:, None]) / kernel_scale
        weights = kernel(distance)
    if edge_padding:
        # the weights of positions beyond the edges go to the edge pixels
        clamp = np.clip(positions.astype(np.int64), 0, in_size - 1)
        gather = (np.arange(in_size)[:, None] == clamp[None, :]).astype(dtype)
        weights = gather @ weights
    total = fnp.sum(weights, axis=0, keepdims=True)
    weights = fnp.where(fnp.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                        weights / fnp.where(total != 0, total, 1.0), 0.0)
    if not edge_padding:
        inside = fnp.logical_and(sample >= -0.5, sample <= in_size - 0.5)
        weights = fnp.where(inside[None, :], weights, 0.0)
    return weights


def _float_dtype(x: Any) -> np.dtype:
    d = np.dtype(x.dtype)
    return d if d.kind in "fc" else np.dtype(np.float64)


def _as_array(x: Any) -> Any:
    return x if isinstance(x, Tracer) else np.asarray(x)


def _check_shape(image: Any, shape: Sequence[int], fn: str) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{fn}: shape must be a sequence of ints, got {shape!r}") from None
    if len(out) != len(image.shape):
        raise ValueError(f"{fn}: shape must have one entry per axis of the image ({len(image.shape)}), got "
                         f"{out} for an image of shape {tuple(image.shape)}")
    if any(s < 0 for s in out):
        raise ValueError(f"{fn}: shape must be non-negative, got {out}")
    empty = [d for d, (m, n) in enumerate(zip(image.shape, out)) if m == 0 and n != 0]
    if empty:
        raise ValueError(f"{fn}: axis {empty[0]} of the image is empty, so it cannot be resampled to size "
                         f"{out[empty[0]]} (image shape {tuple(image.shape)}, shape {out})")
    return out


def _method(method: str | ResizeMethod) -> ResizeMethod:
    if isinstance(method, str):
        return ResizeMethod.from_string(method)
    if not isinstance(method, ResizeMethod):
        raise TypeError(f"method must be a string or a ResizeMethod, got {type(method).__name__}")
    return method


def _contract(image: Any, weights: list[tuple[int, Any]]) -> Any:
    """``image`` contracted with a weight matrix on each listed axis (one einsum)."""
    letters = string.ascii_letters
    n = len(image.shape)
    inputs = letters[:n]
    outputs = list(inputs)
    operands = [image]
    terms = [inputs]
    for k, (axis, w) in enumerate(weights):
        new = letters[n + k]
        terms.append(inputs[axis] + new)
        outputs[axis] = new
        operands.append(w)
    return fnp.einsum(",".join(terms) + "->" + "".join(outputs), *operands)


def _scale_and_translate(image: Any, shape: tuple[int, ...], spatial_dims: Sequence[int], scale: Sequence[Any],
                         translation: Sequence[Any], method: ResizeMethod, antialias: bool,
                         weight_dtype: np.dtype) -> Any:
    if method == ResizeMethod.CUBIC_PYTORCH and antialias:
        method = ResizeMethod.CUBIC
    radius, kernel = _KERNELS[method]
    edge_padding = method == ResizeMethod.CUBIC_PYTORCH and not antialias
    dtype = _float_dtype(image)
    weights = []
    for i, d in enumerate(spatial_dims):
        w = _weight_matrix(image.shape[d], shape[d], scale[i], translation[i], kernel, antialias, edge_padding,
                           radius, weight_dtype)
        weights.append((d, fnp.astype(w, dtype)))
    if not weights:
        return image
    return _contract(image, weights)


def resize(image: Any, shape: Sequence[int], method: str | ResizeMethod, antialias: bool = True,
           precision: Any = None) -> Any:
    """``image`` resampled to ``shape`` (every axis; keep a batch or channel axis's size to leave it
    alone). ``method``: ``"nearest"``, ``"linear"`` (``"bilinear"``, ``"trilinear"``),
    ``"cubic"`` (``"bicubic"``, ``"tricubic"``; Keys' kernel), ``"lanczos3"``, ``"lanczos5"``,
    ``"cubic-pytorch"`` or ``"area"``, or a :class:`ResizeMethod`. ``antialias`` widens the kernel
    when downsampling; ``precision`` is accepted for JAX's signature (NumPy computes in full
    precision). Nearest keeps the image's dtype; the others give floats.

    >>> resize(np.array([[0.0, 1.0], [2.0, 3.0]]), (2, 4), "linear")
    array([[0.  , 0.25, 0.75, 1.  ],
           [2.  , 2.25, 2.75, 3.  ]])
    """
    image = _as_array(image)
    shape = _check_shape(image, shape, "resize")
    method = _method(method)
    if method == ResizeMethod.NEAREST:
        return _resize_nearest(image, shape)
    if _float_dtype(image) != np.dtype(image.dtype):
        image = fnp.astype(image, np.float64)
    spatial_dims = tuple(d for d in range(len(shape)) if image.shape[d] != shape[d])
    scale = [1.0 if shape[d] == 0 else shape[d] / image.shape[d] for d in spatial_dims]
    return _scale_and_translate(image, shape, spatial_dims, scale, [0.0] * len(spatial_dims), method, antialias,
                                np.dtype(np.float64))


def _resize_nearest(image: Any, shape: tuple[int, ...]) -> Any:
    for d in range(len(shape)):
        m, n = image.shape[d], shape[d]
        if m == n:
            continue
        # JAX computes the source index in float32: floor((j + 0.5) * m / n)
        offsets = (np.arange(n, dtype=np.float32) + np.float32(0.5)) * np.float32(m) / np.float32(n)
        image = fnp.take(image, np.floor(offsets).astype(np.int64), axis=d)
    return image


def scale_and_translate(image: Any, shape: Sequence[int], spatial_dims: Sequence[int], scale: Any,
                        translation: Any, method: str | ResizeMethod = "linear", antialias: bool = True,
                        precision: Any = None) -> Any:
    """``image`` resampled to ``shape`` by the map ``x ↦ x * scale + translation`` on the axes
    ``spatial_dims`` (``scale`` and ``translation`` hold one entry per listed axis; they may be
    traced, and the result is differentiable in them). Output samples that fall outside the input
    are zero. Methods as :func:`resize`, except ``"nearest"``.

    >>> scale_and_translate(np.array([0.0, 1.0, 2.0, 3.0]), (4,), (0,), np.array([1.0]), np.array([1.0]))
    array([0., 0., 1., 2.])
    """
    image = _as_array(image)
    shape = _check_shape(image, shape, "scale_and_translate")
    method = _method(method)
    if method == ResizeMethod.NEAREST:
        raise ValueError("scale_and_translate does not support nearest-neighbour resampling (as in JAX); "
                         "use resize(image, shape, 'nearest') or another method")
    ndim = len(shape)
    if any(not -ndim <= int(d) < ndim for d in spatial_dims):
        raise ValueError(f"scale_and_translate: spatial_dims must be axes of the {ndim}-d image, got "
                         f"{tuple(spatial_dims)}")
    spatial_dims = tuple(int(d) % ndim for d in spatial_dims)
    if len(set(spatial_dims)) != len(spatial_dims):
        raise ValueError(f"scale_and_translate: spatial_dims repeats an axis: {spatial_dims}")
    kept = [d for d in range(ndim) if d not in spatial_dims and shape[d] != image.shape[d]]
    if kept:
        raise ValueError(f"scale_and_translate: axis {kept[0]} is not in spatial_dims, so shape[{kept[0]}] must "
                         f"equal the image's ({image.shape[kept[0]]}), got {shape[kept[0]]}")
    scale = _as_array(scale)
    translation = _as_array(translation)
    for name, v in (("scale", scale), ("translation", translation)):
        if tuple(v.shape) != (len(spatial_dims),):
            raise ValueError(f"scale_and_translate: {name} must have one entry per spatial dim "
                             f"({len(spatial_dims)}), got shape {tuple(v.shape)}")
    if _float_dtype(image) != np.dtype(image.dtype):
        image = fnp.astype(image, np.float64)
    weight_dtype = np.result_type(_float_dtype(scale), _float_dtype(translation))
    scale = fnp.astype(scale, weight_dtype)
    translation = fnp.astype(translation, weight_dtype)
    return _scale_and_translate(image, shape, spatial_dims, [scale[i] for i in range(len(spatial_dims))],
                                [translation[i] for i in range(len(spatial_dims))], method, antialias,
                                weight_dtype)
