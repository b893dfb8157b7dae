"""``funcgrad.compat.autograd.misc``: ``flatten``, and the submodules ``optimizers``,
``flatten`` and ``fixed_points``.

>>> import numpy as np
>>> flat, unflatten = flatten({"b": np.array([1.0, 2.0]), "a": 3.0})
>>> flat
array([3., 1., 2.])
"""

from __future__ import annotations

import importlib
from typing import Any

from .flatten import flatten

__all__ = ["flatten", "optimizers", "fixed_points"]


def __getattr__(name: str) -> Any:
    if name in ("optimizers", "fixed_points"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
