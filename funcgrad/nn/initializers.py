"""``funcgrad.nn.initializers``: ``jax.nn.initializers`` with JAX's signature
``init(key, shape, dtype)``, drawing from :mod:`funcgrad.random` (threefry, JAX's numbers).

``dtype`` defaults to float64 (funcgrad follows NumPy; JAX's default is float32 unless
``jax_enable_x64``): pass ``dtype=np.float32`` for JAX's default numbers.

>>> import numpy as np, funcgrad.random as fr
>>> init = glorot_normal()
>>> init(fr.key(0), (3, 4)).shape
(3, 4)
>>> zeros(fr.key(0), (2,))
array([0., 0.])
"""

from __future__ import annotations

import math
from typing import Any, Callable, Literal, Protocol, Sequence

import numpy as np

__all__ = [
    "Initializer", "zeros", "ones", "constant", "normal", "uniform", "truncated_normal", "variance_scaling",
    "glorot_normal", "glorot_uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform",
    "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "delta_orthogonal",
]


class Initializer(Protocol):
    """``init(key, shape, dtype=None) -> array``."""

    def __call__(self, key: Any, shape: Sequence[int], dtype: Any = None) -> Any: ...


def _random() -> Any:
    from .. import random

    return random


def _dtype(dtype: Any, default: Any) -> np.dtype:
    d = np.dtype(default if dtype is None else dtype)
    if d.kind not in "fc":
        raise TypeError(f"initializers draw floating-point values; got dtype {d}. Pass a float dtype.")
    return d


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def zeros(key: Any, shape: Sequence[int], dtype: Any = None) -> Any:
    """An array of zeros (``key`` is ignored)."""
    return np.zeros(_shape(shape), _dtype(dtype, np.float64))


def ones(key: Any, shape: Sequence[int], dtype: Any = None) -> Any:
    """An array of ones (``key`` is ignored)."""
    return np.ones(_shape(shape), _dtype(dtype, np.float64))


def constant(value: Any, dtype: Any = None) -> Initializer:
    """An initializer filling the array with ``value``."""

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        return np.full(_shape(shape), value, _dtype(dtype, np.float64))

    return init


def normal(stddev: float = 1e-2, dtype: Any = None) -> Initializer:
    """Normal draws with standard deviation ``stddev``."""

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        d = _dtype(dtype, np.float64)
        return _random().normal(key, _shape(shape), d) * np.array(stddev, d)

    return init


def uniform(scale: float = 1e-2, dtype: Any = None) -> Initializer:
    """Uniform draws on ``[0, scale)``."""

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        d = _dtype(dtype, np.float64)
        return _random().uniform(key, _shape(shape), d) * np.array(scale, d)

    return init


def truncated_normal(stddev: float = 1e-2, dtype: Any = None, lower: float = -2.0, upper: float = 2.0) -> Initializer:
    """Normal draws truncated to ``[lower, upper]`` standard deviations, times ``stddev``."""

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        d = _dtype(dtype, np.float64)
        return _random().truncated_normal(key, lower, upper, _shape(shape), d) * np.array(stddev, d)

    return init


def _axes(axis: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def _fans(shape: tuple[int, ...], in_axis: Any, out_axis: Any, batch_axis: Any) -> tuple[float, float]:
    if len(shape) <= 1:
        raise ValueError(f"variance_scaling needs at least 2 dimensions to compute fans, got shape {shape}.")
    in_axes, out_axes = _axes(in_axis, len(shape)), _axes(out_axis, len(shape))
    batch_axes = _axes(batch_axis, len(shape))
    batch = math.prod(shape[i] for i in batch_axes)
    fan_in = math.prod(shape[i] for i in in_axes)
    fan_out = math.prod(shape[i] for i in out_axes)
    receptive = math.prod(shape) / (fan_in * fan_out * batch)
    return fan_in * receptive, fan_out * receptive


def variance_scaling(scale: float, mode: Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"],
                     distribution: Literal["truncated_normal", "normal", "uniform"],
                     in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                     batch_axis: int | Sequence[int] = (), dtype: Any = None) -> Initializer:
    """Draws with variance ``scale / fan`` (``fan`` chosen by ``mode``) from ``distribution``.

    >>> import funcgrad.random as fr
    >>> w = variance_scaling(2.0, "fan_in", "normal")(fr.key(1), (1000, 50))
    >>> round(float(w.var() * 1000), 1)
    2.0
    """
    modes = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
    if mode not in modes:
        raise ValueError(f"variance_scaling: mode must be one of {modes}, got {mode!r}.")
    distributions = ("truncated_normal", "normal", "uniform")
    if distribution not in distributions:
        raise ValueError(f"variance_scaling: distribution must be one of {distributions}, got {distribution!r}.")

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        shape = _shape(shape)
        d = _dtype(dtype, np.float64)
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis)
        denominator = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
                       "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
        variance = np.array(scale / denominator, dtype=d.type(0).real.dtype)
        rnd = _random()
        if distribution == "truncated_normal":
            # the standard deviation of a unit normal truncated to [-2, 2]
            stddev = np.array(np.sqrt(variance) / np.array(0.87962566103423978, variance.dtype), variance.dtype)
            return rnd.truncated_normal(key, -2, 2, shape, d) * stddev.astype(d)
        if distribution == "normal":
            return rnd.normal(key, shape, d) * np.sqrt(variance).astype(d)
        return rnd.uniform(key, shape, d, -1, 1) * np.sqrt(3 * variance).astype(d)

    return init


def _named(scale: float, mode: str, distribution: str, doc: str) -> Callable[..., Initializer]:
    def make(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
             batch_axis: int | Sequence[int] = (), dtype: Any = None) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype)  # type: ignore[arg-type]

    make.__doc__ = doc
    return make


glorot_uniform = xavier_uniform = _named(1.0, "fan_avg", "uniform", "Glorot/Xavier uniform: variance 1 / fan_avg.")
glorot_normal = xavier_normal = _named(1.0, "fan_avg", "truncated_normal",
                                       "Glorot/Xavier normal (truncated): variance 1 / fan_avg.")
lecun_uniform = _named(1.0, "fan_in", "uniform", "LeCun uniform: variance 1 / fan_in.")
lecun_normal = _named(1.0, "fan_in", "truncated_normal", "LeCun normal (truncated): variance 1 / fan_in.")
he_uniform = kaiming_uniform = _named(2.0, "fan_in", "uniform", "He/Kaiming uniform: variance 2 / fan_in.")
he_normal = kaiming_normal = _named(2.0, "fan_in", "truncated_normal",
                                   "He/Kaiming normal (truncated): variance 2 / fan_in.")
for _f, _n in ((glorot_uniform, "glorot_uniform"), (glorot_normal, "glorot_normal"), (lecun_uniform, "lecun_uniform"),
               (lecun_normal, "lecun_normal"), (he_uniform, "he_uniform"), (he_normal, "he_normal")):
    _f.__name__ = _f.__qualname__ = _n


def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None) -> Initializer:
    """A (semi-)orthogonal matrix from the QR decomposition of normal draws, times ``scale``.

    >>> import funcgrad.random as fr
    >>> q = orthogonal()(fr.key(0), (3, 3))
    >>> np.allclose(q @ q.T, np.eye(3))
    True
    """

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        shape = _shape(shape)
        d = _dtype(dtype, np.float64)
        if len(shape) < 2:
            raise ValueError(f"orthogonal initializer requires at least a 2D shape, got {shape}.")
        # JAX's layout: the column axis is the matrix's last axis (a square kernel is Q, not Qᵀ).
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        matrix_shape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
        a = np.asarray(_random().normal(key, matrix_shape, d))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if n_rows < n_cols:
            q = q.T
        q = np.reshape(q, tuple(np.delete(shape, column_axis)) + (n_cols,))
        q = np.moveaxis(q, -1, column_axis)
        return (np.array(scale, d) * q).astype(d)

    return init


def delta_orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None) -> Initializer:
    """For convolution kernels (3-5 dimensions): an orthogonal matrix at the spatial centre, zeros
    elsewhere (Xiao et al., 2018)."""

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        shape = _shape(shape)
        d = _dtype(dtype, np.float64)
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"delta_orthogonal initializer requires a 3D, 4D or 5D shape, got {shape}.")
        if shape[-1] < shape[-2]:
            raise ValueError(f"delta_orthogonal: `fan_in` ({shape[-2]}) must not exceed `fan_out` ({shape[-1]}).")
        ortho = orthogonal(scale, column_axis, d)(key, shape[-2:])
        w = np.zeros(shape, d)
        centre = tuple(s // 2 for s in shape[:-2])
        w[centre] = ortho
        return w

    return init
