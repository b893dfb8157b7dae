"""``funcgrad.compat.autograd.numpy.random``: NumPy's ``numpy.random``, exactly as autograd
re-exports it (``npr.RandomState(0).randn(3)`` gives NumPy's numbers).

>>> import funcgrad.compat.autograd.numpy.random as npr
>>> npr.RandomState(0).randn(2).round(4)
array([1.7641, 0.4002])
"""

from __future__ import annotations

from typing import Any

import numpy.random as _random
from numpy.random import *  # noqa: F403
from numpy.random import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    try:
        return getattr(_random, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
