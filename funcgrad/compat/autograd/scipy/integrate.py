"""``funcgrad.compat.autograd.scipy.integrate``: :mod:`funcgrad.scipy.integrate` (differentiable), with
SciPy's other ``scipy.integrate`` names passed through (not differentiable).
"""

from __future__ import annotations

import importlib
from typing import Any

from ....scipy import integrate as _fg_integrate
from ....scipy.integrate import *  # noqa: F403
from ....scipy.integrate import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    if hasattr(_fg_integrate, name):
        return getattr(_fg_integrate, name)
    try:
        return getattr(importlib.import_module("scipy.integrate"), name)
    except (ImportError, AttributeError):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
