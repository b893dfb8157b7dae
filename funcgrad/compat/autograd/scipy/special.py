"""``funcgrad.compat.autograd.scipy.special``: :mod:`funcgrad.scipy.special` (differentiable), with
SciPy's other ``scipy.special`` names passed through (not differentiable).
"""

from __future__ import annotations

import importlib
from typing import Any

from ....scipy import special as _fg_special
from ....scipy.special import *  # noqa: F403
from ....scipy.special import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    if hasattr(_fg_special, name):
        return getattr(_fg_special, name)
    try:
        return getattr(importlib.import_module("scipy.special"), name)
    except (ImportError, AttributeError):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
