"""``funcgrad.example_libraries.stax``: JAX's minimal neural-network library.

A layer is a pair ``(init_fun, apply_fun)``: ``init_fun(rng, input_shape)`` returns
``(output_shape, params)`` and ``apply_fun(params, inputs, **kwargs)`` the outputs (``rng=`` is
passed down to layers that draw random numbers, such as :func:`Dropout`). ``serial``,
``parallel``, ``FanOut``/``FanInSum``/``FanInConcat`` and ``shape_dependent`` combine layers.
Parameters are drawn with :mod:`funcgrad.random` from JAX's keys, so with the same key and dtype
they are JAX's numbers (``dtype`` defaults to float64 here: funcgrad follows NumPy).

>>> import numpy as np, funcgrad.random as fr
>>> init_fun, apply_fun = serial(Dense(8), Relu, Dense(2), LogSoftmax)
>>> out_shape, params = init_fun(fr.key(0), (-1, 3))
>>> out_shape, apply_fun(params, np.ones((5, 3))).shape
((-1, 2), (5, 2))
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any, Callable, Sequence

import numpy as np

from .. import numpy as fnp
from ..nn import elu, gelu, leaky_relu, log_softmax, relu, selu, sigmoid, softmax, softplus, standardize
from ..nn.initializers import glorot_normal, normal, ones, zeros

__all__ = [
    "Dense", "GeneralConv", "Conv", "GeneralConvTranspose", "Conv1DTranspose", "ConvTranspose", "BatchNorm",
    "elementwise", "Tanh", "Relu", "Exp", "LogSoftmax", "Softmax", "Softplus", "Sigmoid", "Elu", "LeakyRelu",
    "Selu", "Gelu", "MaxPool", "SumPool", "AvgPool", "Flatten", "Identity", "FanOut", "FanInSum", "FanInConcat",
    "Dropout", "serial", "parallel", "shape_dependent",
    # initializers and activations, re-exported as jax.example_libraries.stax does
    "glorot", "glorot_normal", "randn", "normal", "zeros", "ones", "logsoftmax", "relu", "elu", "gelu",
    "leaky_relu", "log_softmax", "selu", "sigmoid", "softmax", "softplus", "standardize",
]

Layer = tuple[Callable[..., Any], Callable[..., Any]]

glorot = glorot_normal
randn = normal
logsoftmax = log_softmax


def _random() -> Any:
    from .. import random

    return random


def _lax() -> Any:
    from .. import lax

    return lax


def Dense(out_dim: int, W_init: Callable[..., Any] = glorot_normal(), b_init: Callable[..., Any] = normal()) -> Layer:
    """A fully connected layer: ``inputs @ W + b``.

    >>> import funcgrad.random as fr
    >>> init_fun, apply_fun = Dense(3)
    >>> shape, (W, b) = init_fun(fr.key(0), (-1, 2))
    >>> shape, W.shape, b.shape
    ((-1, 3), (2, 3), (3,))
    """

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple:
        output_shape = tuple(input_shape[:-1]) + (out_dim,)
        k1, k2 = _random().split(rng)
        W, b = W_init(k1, (input_shape[-1], out_dim)), b_init(k2, (out_dim,))
        return output_shape, (W, b)

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        W, b = params
        return fnp.dot(inputs, W) + b

    return init_fun, apply_fun


def _conv_perms(dimension_numbers: Sequence[str]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Positions of (N, C, spatial...) in the input and output specs and (O, I, spatial...) in the kernel's."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    spatial = [c for c in rhs_spec if c not in "OI"]
    lhs = (lhs_spec.index("N"), lhs_spec.index("C")) + tuple(lhs_spec.index(c) for c in spatial)
    rhs = (rhs_spec.index("O"), rhs_spec.index("I")) + tuple(rhs_spec.index(c) for c in spatial)
    out = (out_spec.index("N"), out_spec.index("C")) + tuple(out_spec.index(c) for c in spatial)
    return lhs, rhs, out


def _unpermute(shape_nc: Sequence[int], perm: Sequence[int]) -> tuple[int, ...]:
    out = [0] * len(perm)
    for dim, position in zip(shape_nc, perm):
        out[position] = int(dim)
    return tuple(out)


def _window_pads(in_space: Sequence[int], window: Sequence[int], strides: Sequence[int], padding: Any) -> list:
    if isinstance(padding, str):
        return _lax().padtype_to_pads(tuple(in_space), tuple(window), tuple(strides), padding)
    return [tuple(p) for p in padding]


def _conv_shape(input_shape: Sequence[int], kernel_shape: Sequence[int], strides: Sequence[int], padding: Any,
                dimension_numbers: Sequence[str]) -> tuple[int, ...]:
    lhs_perm, rhs_perm, out_perm = _conv_perms(dimension_numbers)
    lhs = [input_shape[i] for i in lhs_perm]
    rhs = [kernel_shape[i] for i in rhs_perm]
    pads = _window_pads(lhs[2:], rhs[2:], strides, padding)
    space = [(n + lo + hi - k) // s + 1 for n, k, s, (lo, hi) in zip(lhs[2:], rhs[2:], strides, pads)]
    return _unpermute([lhs[0], rhs[0]] + space, out_perm)


def _transpose_pads(k: int, s: int, padding: str) -> tuple[int, int]:
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else math.ceil(pad_len / 2)
    elif padding == "VALID":
        pad_len = k + s - 2 + max(k - s, 0)
        pad_a = k - 1
    else:
        raise ValueError(f"ConvTranspose padding must be 'SAME' or 'VALID', got {padding!r}.")
    return pad_a, pad_len - pad_a


def _conv_transpose_shape(input_shape: Sequence[int], kernel_shape: Sequence[int], strides: Sequence[int],
                          padding: Any, dimension_numbers: Sequence[str]) -> tuple[int, ...]:
    lhs_perm, rhs_perm, out_perm = _conv_perms(dimension_numbers)
    lhs = [input_shape[i] for i in lhs_perm]
    rhs = [kernel_shape[i] for i in rhs_perm]
    pads = ([_transpose_pads(k, s, padding) for k, s in zip(rhs[2:], strides)] if isinstance(padding, str)
            else [tuple(p) for p in padding])
    space = [(n - 1) * s - k + 2 + lo + hi for n, k, s, (lo, hi) in zip(lhs[2:], rhs[2:], strides, pads)]
    return _unpermute([lhs[0], rhs[0]] + space, out_perm)


def _general_conv(transpose: bool, dimension_numbers: Sequence[str], out_chan: int, filter_shape: Sequence[int],
                  strides: Sequence[int] | None, padding: Any, W_init: Callable[..., Any] | None,
                  b_init: Callable[..., Any]) -> Layer:
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    one = (1,) * len(filter_shape)
    strides = tuple(strides) if strides else one
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple:
        filters = iter(filter_shape)
        kernel_shape = [out_chan if c == "O" else input_shape[lhs_spec.index("C")] if c == "I" else next(filters)
                        for c in rhs_spec]
        shape_fn = _conv_transpose_shape if transpose else _conv_shape
        output_shape = shape_fn(input_shape, kernel_shape, strides, padding, dimension_numbers)
        bias_shape = [out_chan if c == "C" else 1 for c in out_spec]
        k1, k2 = _random().split(rng)
        return output_shape, (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        W, b = params
        if transpose:
            return _lax().conv_transpose(inputs, W, strides, padding, dimension_numbers=tuple(dimension_numbers)) + b
        return _lax().conv_general_dilated(inputs, W, strides, padding, one, one,
                                           dimension_numbers=tuple(dimension_numbers)) + b

    return init_fun, apply_fun


def GeneralConv(dimension_numbers: Sequence[str], out_chan: int, filter_shape: Sequence[int],
                strides: Sequence[int] | None = None, padding: Any = "VALID", W_init: Callable[..., Any] | None = None,
                b_init: Callable[..., Any] = normal(1e-6)) -> Layer:
    """A convolution with layouts ``dimension_numbers = (input, kernel, output)``, e.g.
    ``("NHWC", "HWIO", "NHWC")``."""
    return _general_conv(False, dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init)


def GeneralConvTranspose(dimension_numbers: Sequence[str], out_chan: int, filter_shape: Sequence[int],
                         strides: Sequence[int] | None = None, padding: Any = "VALID",
                         W_init: Callable[..., Any] | None = None, b_init: Callable[..., Any] = normal(1e-6)) -> Layer:
    """A transposed convolution with layouts ``dimension_numbers``."""
    return _general_conv(True, dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init)


Conv = functools.partial(GeneralConv, ("NHWC", "HWIO", "NHWC"))
Conv1DTranspose = functools.partial(GeneralConvTranspose, ("NHC", "HIO", "NHC"))
ConvTranspose = functools.partial(GeneralConvTranspose, ("NHWC", "HWIO", "NHWC"))


def BatchNorm(axis: Any = (0, 1, 2), epsilon: float = 1e-5, center: bool = True, scale: bool = True,
              beta_init: Callable[..., Any] = zeros, gamma_init: Callable[..., Any] = ones) -> Layer:
    """Batch normalisation over ``axis`` (the batch statistics of each call), with learned ``beta``/``gamma``."""
    axis = (axis,) if np.isscalar(axis) else tuple(axis)

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple:
        shape = tuple(d for i, d in enumerate(input_shape) if i not in axis)
        k1, k2 = _random().split(rng)
        beta = beta_init(k1, shape) if center else ()
        gamma = gamma_init(k2, shape) if scale else ()
        return tuple(input_shape), (beta, gamma)

    def apply_fun(params: Any, x: Any, **kwargs: Any) -> Any:
        beta, gamma = params
        ed = tuple(None if i in axis else slice(None) for i in range(np.ndim(x)))
        z = standardize(x, axis, epsilon=epsilon)
        if center and scale:
            return gamma[ed] * z + beta[ed]
        if center:
            return z + beta[ed]
        if scale:
            return gamma[ed] * z
        return z

    return init_fun, apply_fun


def elementwise(fun: Callable[..., Any], **fun_kwargs: Any) -> Layer:
    """A parameterless layer applying ``fun(inputs, **fun_kwargs)``."""

    def init_fun(rng: Any, input_shape: Any) -> tuple:
        return input_shape, ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return fun(inputs, **fun_kwargs)

    return init_fun, apply_fun


Tanh = elementwise(fnp.tanh)
Relu = elementwise(relu)
Exp = elementwise(fnp.exp)
LogSoftmax = elementwise(log_softmax, axis=-1)
Softmax = elementwise(softmax, axis=-1)
Softplus = elementwise(softplus)
Sigmoid = elementwise(sigmoid)
Elu = elementwise(elu)
LeakyRelu = elementwise(leaky_relu)
Selu = elementwise(selu)
Gelu = elementwise(gelu)


def _pooling_layer(reducer: str, init_val: float, rescale: bool = False) -> Callable[..., Layer]:
    def PoolingLayer(window_shape: Sequence[int], strides: Sequence[int] | None = None, padding: Any = "VALID",
                     spec: str | None = None) -> Layer:
        window_shape = tuple(window_shape)
        strides = tuple(strides) if strides else (1,) * len(window_shape)
        non_spatial = (0, len(window_shape) + 1) if spec is None else (spec.index("N"), spec.index("C"))
        dims, steps = window_shape, strides
        for i in sorted(non_spatial):
            dims = dims[:i] + (1,) + dims[i:]
            steps = steps[:i] + (1,) + steps[i:]

        def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple:
            pads = _window_pads(input_shape, dims, steps, padding)
            out = tuple((n + lo + hi - w) // s + 1 for n, w, s, (lo, hi) in zip(input_shape, dims, steps, pads))
            return out, ()

        def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
            lax = _lax()
            out = lax.reduce_window(inputs, init_val, getattr(lax, reducer), dims, steps, padding)
            if not rescale:
                return out
            axes = (0, inputs.ndim - 1) if spec is None else (spec.index("N"), spec.index("C"))
            spatial = tuple(inputs.shape[i] for i in range(inputs.ndim) if i not in axes)
            sizes = lax.reduce_window(np.ones(spatial, dtype=inputs.dtype), 0.0, lax.add, window_shape, strides,
                                      padding)
            for i in sorted(axes):
                sizes = np.expand_dims(sizes, i)
            return out / sizes

        return init_fun, apply_fun

    return PoolingLayer


MaxPool = _pooling_layer("max", -np.inf)
SumPool = _pooling_layer("add", 0.0)
AvgPool = _pooling_layer("add", 0.0, rescale=True)
MaxPool.__name__, SumPool.__name__, AvgPool.__name__ = "MaxPool", "SumPool", "AvgPool"


def _flatten() -> Layer:
    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple:
        return (input_shape[0], functools.reduce(operator.mul, input_shape[1:], 1)), ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return fnp.reshape(inputs, (inputs.shape[0], -1))

    return init_fun, apply_fun


Flatten = _flatten()


def _identity() -> Layer:
    def init_fun(rng: Any, input_shape: Any) -> tuple:
        return input_shape, ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return inputs

    return init_fun, apply_fun


Identity = _identity()


def FanOut(num: int) -> Layer:
    """A layer copying its input ``num`` times (a list)."""
    return (lambda rng, input_shape: ([input_shape] * num, ()),
            lambda params, inputs, **kwargs: [inputs] * num)


def _fan_in_sum() -> Layer:
    return (lambda rng, input_shape: (input_shape[0], ()),
            lambda params, inputs, **kwargs: sum(inputs))


FanInSum = _fan_in_sum()


def FanInConcat(axis: int = -1) -> Layer:
    """A layer concatenating a list of inputs along ``axis``."""

    def init_fun(rng: Any, input_shape: Sequence[Sequence[int]]) -> tuple:
        ax = axis % len(input_shape[0])
        size = sum(shape[ax] for shape in input_shape)
        return tuple(input_shape[0][:ax]) + (size,) + tuple(input_shape[0][ax + 1:]), ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return fnp.concatenate(inputs, axis)

    return init_fun, apply_fun


def Dropout(rate: float, mode: str = "train") -> Layer:
    """Dropout; as in JAX's stax, ``rate`` is the probability of *keeping* a unit (kept units are
    scaled by ``1 / rate``). Needs ``rng=`` in ``apply_fun`` (``serial`` splits it among layers)."""

    def init_fun(rng: Any, input_shape: Any) -> tuple:
        return input_shape, ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        rng = kwargs.get("rng", None)
        if rng is None:
            raise ValueError(
                "Dropout's apply_fun needs a PRNG key: call apply_fun(params, inputs, rng=key) "
                "(for example key = funcgrad.random.key(0)).")
        if mode == "train":
            keep = _random().bernoulli(rng, rate, inputs.shape)
            return fnp.where(keep, inputs / rate, 0)
        return inputs

    return init_fun, apply_fun


def serial(*layers: Layer) -> Layer:
    """Layers applied one after the other; ``rng`` is split among them.

    >>> import numpy as np, funcgrad.random as fr
    >>> init_fun, apply_fun = serial(Dense(4), Tanh, Dense(1))
    >>> shape, params = init_fun(fr.key(0), (-1, 3))
    >>> shape, len(params), apply_fun(params, np.ones((2, 3))).shape
    ((-1, 1), 3, (2, 1))
    """
    nlayers = len(layers)
    init_funs, apply_funs = zip(*layers) if layers else ((), ())

    def init_fun(rng: Any, input_shape: Any) -> tuple:
        params = []
        for init in init_funs:
            rng, layer_rng = _random().split(rng)
            input_shape, param = init(layer_rng, input_shape)
            params.append(param)
        return input_shape, params

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        rng = kwargs.pop("rng", None)
        rngs = _random().split(rng, nlayers) if rng is not None else (None,) * nlayers
        for fun, param, r in zip(apply_funs, params, rngs):
            inputs = fun(param, inputs, rng=r, **kwargs)
        return inputs

    return init_fun, apply_fun


def parallel(*layers: Layer) -> Layer:
    """Layers applied to the corresponding entries of a list of inputs."""
    nlayers = len(layers)
    init_funs, apply_funs = zip(*layers) if layers else ((), ())

    def init_fun(rng: Any, input_shape: Any) -> tuple:
        rngs = _random().split(rng, nlayers)
        shapes_and_params = [init(r, shape) for init, r, shape in zip(init_funs, rngs, input_shape)]
        return tuple(zip(*shapes_and_params)) if shapes_and_params else ((), ())

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        rng = kwargs.pop("rng", None)
        rngs = _random().split(rng, nlayers) if rng is not None else (None,) * nlayers
        return [f(p, x, rng=r, **kwargs) for f, p, x, r in zip(apply_funs, params, inputs, rngs)]

    return init_fun, apply_fun


def shape_dependent(make_layer: Callable[[Any], Layer]) -> Layer:
    """A layer built from the input's shape by ``make_layer(shape)``."""

    def init_fun(rng: Any, input_shape: Any) -> tuple:
        return make_layer(input_shape)[0](rng, input_shape)

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return make_layer(inputs.shape)[1](params, inputs, **kwargs)

    return init_fun, apply_fun
