"""``funcgrad.nn``: the activation functions and helpers of ``jax.nn``, differentiable.

Everything is composed from :mod:`funcgrad.numpy`, so ``grad``, ``jvp``, ``jit`` and ``vmap``
apply at any order. Values and derivatives stay finite and exact at the extremes
(``softplus(1000.)`` is 1000 with derivative 1, ``log_sigmoid(-1000.)`` is -1000, ``logsumexp``
and ``softmax`` accept ``-inf`` entries). Kinks have JAX's one-sided derivatives: ``relu'(0) = 0``,
``relu6'`` is 0 at 0 and 6. float32 inputs give float32 results.

>>> import numpy as np, funcgrad as fg, funcgrad.nn as nn
>>> nn.relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> float(fg.grad(nn.softplus)(1000.0))
1.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import numpy as fnp
from ..core import Tracer
from ..prims.shape import stop_gradient

__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "soft_sign", "silu", "swish", "gelu", "elu", "selu", "celu",
    "leaky_relu", "hard_tanh", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "glu", "softmax",
    "log_softmax", "logsumexp", "logmeanexp", "standardize", "one_hot", "identity", "tanh", "mish",
    "squareplus", "sparse_plus", "sparse_sigmoid", "log1mexp", "dot_product_attention", "initializers",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _arr(x: Any) -> Any:
    """Arrays and tracers as they are; Python numbers and lists as float64 arrays (NumPy's default)."""
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind in "iub" else x


def identity(x: Any) -> Any:
    """``x`` unchanged."""
    return _arr(x)


def tanh(x: Any) -> Any:
    """The hyperbolic tangent."""
    return fnp.tanh(_arr(x))


def relu(x: Any) -> Any:
    """``max(x, 0)``, with derivative 0 at 0 (as JAX's).

    >>> import numpy as np, funcgrad as fg
    >>> float(fg.grad(relu)(0.0))
    0.0
    """
    x = _arr(x)
    return fnp.where(x > 0, x, fnp.zeros_like(x))


def relu6(x: Any) -> Any:
    """``min(max(x, 0), 6)``, with derivative 0 at 0 and at 6."""
    x = _arr(x)
    inside = fnp.logical_and(x > 0, x < 6)
    return fnp.where(inside, x, fnp.where(x >= 6, fnp.full_like(x, 6), fnp.zeros_like(x)))


def sigmoid(x: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-x))``."""
    from ..scipy.special import expit

    return expit(_arr(x))


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, computed stably (``softplus(1000.)`` is 1000)."""
    x = _arr(x)
    return fnp.logaddexp(x, fnp.zeros_like(x))


def soft_sign(x: Any) -> Any:
    """``x / (|x| + 1)``."""
    x = _arr(x)
    return x / (fnp.abs(x) + 1)


def silu(x: Any) -> Any:
    """``x * sigmoid(x)`` (also called swish)."""
    x = _arr(x)
    return x * sigmoid(x)


swish = silu


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``, stable (``log_sigmoid(-1000.)`` is -1000)."""
    return -softplus(-_arr(x))


def gelu(x: Any, approximate: bool = True) -> Any:
    """The Gaussian error linear unit; ``approximate=True`` (JAX's default) uses the tanh form,
    ``False`` the exact ``x * Φ(x)`` (needs SciPy)."""
    x = _arr(x)
    if approximate:
        cdf = 0.5 * (1.0 + fnp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * (x ** 3))))
        return x * cdf
    from ..scipy.special import erf

    return x * (erf(x / math.sqrt(2)) + 1) / 2


def _neg_part(x: Any) -> Any:
    """``x`` where it is not positive, else 0: keeps exp/expm1 of the unused branch finite."""
    return fnp.where(x > 0, fnp.zeros_like(x), x)


def elu(x: Any, alpha: Any = 1.0) -> Any:
    """``x`` for positive ``x``, ``alpha * (exp(x) - 1)`` otherwise."""
    x = _arr(x)
    return fnp.where(x > 0, x, alpha * fnp.expm1(_neg_part(x)))


def selu(x: Any) -> Any:
    """The scaled exponential linear unit (Klambauer et al., 2017)."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def celu(x: Any, alpha: Any = 1.0) -> Any:
    """The continuously differentiable ELU: ``alpha * (exp(x / alpha) - 1)`` for non-positive ``x``."""
    x = _arr(x)
    return fnp.where(x > 0, x, alpha * fnp.expm1(_neg_part(x) / alpha))


def leaky_relu(x: Any, negative_slope: Any = 0.01) -> Any:
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise."""
    x = _arr(x)
    return fnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x: Any) -> Any:
    """``x`` clipped to ``[-1, 1]``."""
    x = _arr(x)
    return fnp.where(x > 1, fnp.ones_like(x), fnp.where(x < -1, -fnp.ones_like(x), x))


def hard_sigmoid(x: Any) -> Any:
    """``relu6(x + 3) / 6``."""
    return relu6(_arr(x) + 3.0) / 6.0


def hard_silu(x: Any) -> Any:
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    x = _arr(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def mish(x: Any) -> Any:
    """``x * tanh(softplus(x))``."""
    x = _arr(x)
    return x * fnp.tanh(softplus(x))


def squareplus(x: Any, b: Any = 4) -> Any:
    """``(x + sqrt(x² + b)) / 2``."""
    x = _arr(x)
    return (x + fnp.sqrt(x * x + b)) / 2


def sparse_plus(x: Any) -> Any:
    """0 for ``x <= -1``, ``x`` for ``x >= 1``, ``(x + 1)² / 4`` between."""
    x = _arr(x)
    return fnp.where(x <= -1.0, fnp.zeros_like(x), fnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def sparse_sigmoid(x: Any) -> Any:
    """``clip(x + 1, 0, 2) / 2``: the derivative of :func:`sparse_plus`."""
    x = _arr(x)
    return 0.5 * fnp.clip(x + 1.0, 0.0, 2.0)


def log1mexp(x: Any) -> Any:
    """``log(1 - exp(-x))`` for ``x > 0``, accurate for small and large ``x``."""
    x = _arr(x)
    small = x < math.log(2)
    safe_small = fnp.where(small, x, fnp.ones_like(x))
    safe_large = fnp.where(small, fnp.ones_like(x), x)
    return fnp.where(small, fnp.log(-fnp.expm1(-safe_small)), fnp.log1p(-fnp.exp(-safe_large)))


def glu(x: Any, axis: int = -1) -> Any:
    """The gated linear unit: split ``x`` in two halves along ``axis``, return ``a * sigmoid(b)``."""
    x = _arr(x)
    size = x.shape[axis]
    if size % 2:
        raise ValueError(f"glu splits axis {axis} in two halves, but its length is odd ({size}).")
    a, b = fnp.split(x, 2, axis=axis)
    return a * sigmoid(b)


def _masked(x: Any, where: Any, fill: float) -> Any:
    return x if where is None else fnp.where(where, x, fnp.full_like(x, fill))


def _stable_shift(x: Any, axis: Any, where: Any) -> Any:
    """``x - max(x)`` with the maximum held constant (it cancels in softmax's value)."""
    m = fnp.max(_masked(x, where, -np.inf), axis=axis, keepdims=True)
    m = stop_gradient(fnp.where(fnp.isfinite(m), m, fnp.zeros_like(m)))
    return x - m


def softmax(x: Any, axis: Any = -1, where: Any = None) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, stable; entries outside ``where`` are 0.

    >>> import numpy as np
    >>> softmax(np.array([0.0, -np.inf]))
    array([1., 0.])
    """
    x = _arr(x)
    unnormalized = fnp.exp(_stable_shift(x, axis, where))
    unnormalized = _masked(unnormalized, where, 0.0)
    return unnormalized / fnp.sum(unnormalized, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: Any = -1, where: Any = None) -> Any:
    """``x - logsumexp(x)`` along ``axis``, stable; entries outside ``where`` are ``-inf``.

    >>> import numpy as np
    >>> log_softmax(np.array([0.0, np.log(3.0)])).round(6)
    array([-1.386294, -0.287682])
    """
    x = _arr(x)
    shifted = _stable_shift(x, axis, where)
    total = fnp.sum(_masked(fnp.exp(shifted), where, 0.0), axis=axis, keepdims=True)
    return _masked(shifted - fnp.log(total), where, -np.inf)


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False,
              where: Any = None) -> Any:
    """``log(sum(b * exp(a)))``, stable (:func:`funcgrad.scipy.special.logsumexp`); ``-inf``
    entries contribute nothing and get derivative 0."""
    from ..scipy.special import logsumexp as _logsumexp

    a = _arr(a)
    if where is not None:
        a = _masked(a, where, -np.inf)
    return _logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)


def logmeanexp(x: Any, axis: Any = None, where: Any = None, keepdims: bool = False) -> Any:
    """``log(mean(exp(x)))``, stable."""
    x = _arr(x)
    shape: Any = np.shape(x) if where is None else None
    if where is None:
        axes = range(len(shape)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
        n = math.prod(shape[i] for i in axes)
    else:
        n = fnp.sum(fnp.broadcast_to(where, np.shape(x)), axis=axis, keepdims=keepdims)
    return logsumexp(x, axis=axis, where=where, keepdims=keepdims) - fnp.log(n * 1.0)


def standardize(x: Any, axis: Any = -1, mean: Any = None, variance: Any = None, epsilon: Any = 1e-5,
                where: Any = None, *, algorithm: str = "fast") -> Any:
    """``(x - mean) / sqrt(variance + epsilon)`` along ``axis`` (moments computed if not given).

    The variance is ``mean(x²) - mean(x)²`` clipped at 0 (``algorithm="fast"``, JAX's default) or
    the two-pass ``mean((x - mean(x))²)`` (``"stable"``).

    >>> x = 1e8 + np.array([0.0, 1.0, 2.0])
    >>> standardize(x, epsilon=0.0, algorithm="stable").round(6)
    array([-1.224745,  0.      ,  1.224745])
    """
    if algorithm not in ("fast", "stable"):
        raise ValueError(f"standardize: unknown algorithm {algorithm!r}; expected 'fast' or 'stable'.")
    x = _arr(x)
    if where is not None:
        count = fnp.sum(fnp.broadcast_to(where, np.shape(x)), axis=axis, keepdims=True)
        avg = lambda v: fnp.sum(_masked(v, where, 0.0), axis=axis, keepdims=True) / count
    else:
        avg = lambda v: fnp.mean(v, axis=axis, keepdims=True)
    if mean is None:
        mean = avg(x)
    if variance is None:
        if algorithm == "stable":
            variance = avg(fnp.square(x - mean))
        else:  # cancellation can make the one-pass formula negative: clipped as JAX does
            variance = fnp.maximum(avg(x * x) - mean * mean, 0.0)
    return (x - mean) / fnp.sqrt(variance + epsilon)


def one_hot(x: Any, num_classes: int, *, dtype: Any = None, axis: int = -1) -> Any:
    """A one-hot encoding of integer ``x`` with ``num_classes`` classes along ``axis`` (a new axis);
    out-of-range values give all zeros. ``dtype`` defaults to float64 (NumPy's default).

    >>> one_hot(np.array([0, 2]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    traced = isinstance(x, Tracer)
    if not traced:
        x = np.asarray(x)
    num_classes = int(num_classes)
    out_ndim = x.ndim + 1
    if not -out_ndim <= axis < out_ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for a result with {out_ndim} dimensions.")
    axis %= out_ndim
    classes = np.arange(num_classes).reshape((num_classes,) + (1,) * (out_ndim - 1 - axis))
    dtype = np.float64 if dtype is None else dtype
    if traced:  # labels computed under jit or batched by vmap
        return fnp.astype(fnp.expand_dims(x, axis) == classes, dtype)
    return (np.expand_dims(x, axis) == classes).astype(dtype)


def _lengths(lengths: Any) -> Any:
    """Sequence lengths ``(B,)`` shaped ``(B, 1, 1, 1)`` for comparisons (concrete or traced)."""
    if isinstance(lengths, Tracer):
        return fnp.reshape(lengths, (-1, 1, 1, 1))
    return np.asarray(lengths).reshape(-1, 1, 1, 1)


def _and(a: Any, b: Any) -> Any:
    if isinstance(a, Tracer) or isinstance(b, Tracer):
        return fnp.logical_and(a, b)
    return a & np.asarray(b)


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None, *,
                          scale: float | None = None, is_causal: bool = False, query_seq_lengths: Any = None,
                          key_value_seq_lengths: Any = None, local_window_size: Any = None,
                          implementation: str | None = None, return_residual: bool = False) -> Any:
    """Scaled dot-product attention, ``softmax(q·kᵀ * scale + bias, masked) · v``, as JAX's.

    Shapes ``query (B, T, N, H)``, ``key``/``value`` ``(B, S, K, H)`` (the batch axis may be left out);
    ``N`` must be a multiple of ``K`` (grouped-query attention shares each key/value head among
    ``N / K`` query heads). ``bias`` and ``mask`` broadcast to ``(B, N, T, S)``; ``is_causal``,
    ``query_seq_lengths``/``key_value_seq_lengths`` (``(B,)``) and ``local_window_size`` (an int or a
    ``(left, right)`` pair) mask further. Masked logits are set to ``-0.7 * finfo.max`` (a fully masked
    row gives uniform weights, as in JAX); outputs of queries beyond ``query_seq_lengths`` are 0.
    ``scale`` defaults to ``1 / sqrt(H)``. Unlike JAX, the softmax is computed in the inputs' dtype
    (JAX always uses float32 there), so float64 results are accurate to float64.

    >>> q = np.ones((1, 2, 1, 4)); k = v = np.arange(8.0).reshape(1, 2, 1, 4)
    >>> dot_product_attention(q, k, v, is_causal=True)[0, 0, 0]
    array([0., 1., 2., 3.])
    """
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation {implementation!r} is not available; funcgrad "
                         "computes with NumPy (implementation=None or 'xla').")
    if return_residual:
        raise NotImplementedError("dot_product_attention(return_residual=True) is not supported.")
    query, key, value = _arr(query), _arr(key), _arr(value)
    unbatched = query.ndim == 3
    if unbatched:
        query, key, value = query[None], key[None], value[None]
    b, t, n, h = query.shape
    s, k_heads = key.shape[1], key.shape[2]
    if key.shape != value.shape or key.shape[0] != b or key.shape[3] != h or n % k_heads:
        raise ValueError(f"dot_product_attention: query {query.shape} needs key and value of shape (B, S, K, H) "
                         f"with K dividing N; got key {key.shape} and value {value.shape}.")
    if k_heads != n:  # grouped-query attention: each key/value head serves n // k_heads query heads
        key = fnp.repeat(key, n // k_heads, axis=2)
        value = fnp.repeat(value, n // k_heads, axis=2)
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    logits = fnp.einsum("btnh,bsnh->bnts", query, key) * scale
    if bias is not None:
        logits = logits + (bias[None] if unbatched else bias)
    keep = np.ones((1, 1, t, s), bool)
    if is_causal:
        keep = keep & np.tril(np.ones((t, s), bool))
    if local_window_size is not None:
        left, right = (local_window_size, local_window_size) if isinstance(local_window_size, int) else \
            local_window_size
        rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
        keep = keep & (cols >= rows - left) & (cols <= rows + right)
    if query_seq_lengths is not None:
        keep = _and(keep, np.arange(t)[None, None, :, None] < _lengths(query_seq_lengths))
    if key_value_seq_lengths is not None:
        keep = _and(keep, np.arange(s)[None, None, None, :] < _lengths(key_value_seq_lengths))
    if mask is not None:
        keep = _and(keep, mask[None] if unbatched else mask)
    if not (isinstance(keep, np.ndarray) and keep.all()):
        large_negative = -0.7 * np.finfo(np.dtype(logits.dtype)).max
        logits = fnp.where(keep, logits, fnp.full_like(logits, large_negative))
    probs = softmax(logits, axis=-1)
    out = fnp.einsum("bnts,bsnh->btnh", probs, value)
    if query_seq_lengths is not None:  # padding queries give zeros
        valid = np.arange(t)[None, :, None, None] < _lengths(query_seq_lengths)
        out = fnp.where(valid, out, fnp.zeros_like(out))
    return out[0] if unbatched else out


if TYPE_CHECKING:  # loaded on first use by __getattr__ below
    from . import initializers as initializers
else:  # (hidden from type checkers, so that an unknown name stays an error)

    def __getattr__(name: str) -> Any:
        if name == "initializers":
            import importlib

            return importlib.import_module(f"{__name__}.initializers")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
