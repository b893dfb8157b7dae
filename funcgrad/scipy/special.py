"""``funcgrad.scipy.special``: ``logsumexp`` and ``expit``, numerically stable with stable
derivatives (softmax weights, never ``exp`` of a large number)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..numpy import reductions as red
from ..numpy._util import as_array, normalize_axes
from ..numpy.shape import reshape
from ..prims import elementwise as ew
from ..prims.shape import stop_gradient

__all__ = ["logsumexp", "expit", "softmax"]


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` computed stably; its derivative is the softmax of ``a``.

    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0])) - 1000.0)  # no overflow
    0.6931471805599453
    """
    if return_sign:
        raise NotImplementedError("logsumexp(return_sign=True) is not supported")
    a = as_array(a)
    axes = normalize_axes(axis, a.ndim)
    # The shift carries no derivative; the derivative of the result is then exactly softmax.
    m = stop_gradient(red.max(a, axis=axes, keepdims=True)) if a.size else np.zeros(())
    m = ew.where(ew.isfinite_p.bind(m), m, 0.0)
    e = ew.exp(a - m)
    if b is not None:
        e = b * e
    with np.errstate(divide="ignore"):
        out = ew.log(red.sum(e, axis=axes, keepdims=True)) + m
    if keepdims:
        return out
    kept = tuple(s for d, s in enumerate(out.shape) if axes is not None and d not in axes)
    return reshape(out, kept)


def expit(x: Any) -> Any:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, with derivative ``expit(x) * (1 - expit(x))``.

    >>> float(expit(0.0))
    0.5
    """
    return ew.expit_p.bind(as_array(x))


def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x - logsumexp(x, axis, keepdims=True))``.

    >>> import numpy as np
    >>> softmax(np.array([0.0, 0.0]))
    array([0.5, 0.5])
    """
    return ew.exp(x - logsumexp(x, axis=axis, keepdims=True))
