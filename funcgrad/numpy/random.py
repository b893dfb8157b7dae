"""``funcgrad.numpy.random``: NumPy's ``numpy.random``, re-exported, so that code written for
autograd (``import autograd.numpy.random as npr``) runs unchanged.

Random draws are data, not differentiable operations: they take concrete parameters and return
NumPy arrays. For random numbers inside transformed functions (``jit``, ``vmap``) with explicit
keys, use :mod:`funcgrad.random`.

>>> import funcgrad.numpy.random as npr
>>> npr.RandomState(0).randn(2).shape
(2,)
"""

from __future__ import annotations

from typing import Any

import numpy.random as _numpy_random
from numpy.random import *  # noqa: F403

__all__ = [n for n in dir(_numpy_random) if not n.startswith("_")]


def __getattr__(name: str) -> Any:
    # Everything of numpy.random, including names its star-export leaves out.
    try:
        return getattr(_numpy_random, name)
    except AttributeError:
        raise AttributeError(f"module 'funcgrad.numpy.random' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_numpy_random)))
