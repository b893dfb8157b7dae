"""Dtype names JAX code uses: ``float0``, the dtype of derivatives of integer and boolean values.

funcgrad's dtypes are NumPy's (promotion, defaults: float64); see README "Coming from JAX" for
where that differs from JAX. ``float0`` is, as in JAX, a zero-size void dtype: an array of it
has a shape but holds no data, and says "this value has no derivative" (integer inputs of
``grad(..., allow_int=True)``, ``vjp`` and ``jvp``).

>>> import numpy as np
>>> np.zeros((2, 3), float0).shape, float0.itemsize
((2, 3), 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["float0", "is_float0", "zeros_float0"]

float0 = np.dtype([("float0", np.void, 0)])


def is_float0(x: Any) -> bool:
    """Whether ``x`` (an array or a dtype) has dtype ``float0``."""
    dtype = x if isinstance(x, np.dtype) else getattr(x, "dtype", None)
    return dtype == float0


def zeros_float0(shape: Any) -> np.ndarray:
    """The derivative of an integer or boolean value of this shape: zeros of dtype ``float0``."""
    return np.zeros(tuple(shape), float0)
