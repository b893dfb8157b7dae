"""``funcgrad.compat.autograd.numpy.numpy_boxes``: ``ArrayBox``, for code that tests whether a value
is being traced (``isinstance(x, ArrayBox)`` is true for funcgrad's traced values).

>>> import numpy as np
>>> from funcgrad.compat.autograd import grad
>>> float(grad(lambda x: x * (2.0 if isinstance(x, ArrayBox) else 0.0))(1.0))
2.0
"""

from __future__ import annotations

from ..extend import Box as ArrayBox

__all__ = ["ArrayBox"]
