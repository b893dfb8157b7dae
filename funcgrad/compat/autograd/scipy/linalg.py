"""``funcgrad.compat.autograd.scipy.linalg``: :mod:`funcgrad.scipy.linalg` (differentiable), with
SciPy's other ``scipy.linalg`` names passed through (not differentiable).
"""

from __future__ import annotations

from typing import Any

from ....scipy import linalg as _fg_linalg
from ....scipy.linalg import *  # noqa: F403
from ....scipy.linalg import __all__  # noqa: F401
from . import scipy_passthrough


def __getattr__(name: str) -> Any:
    if hasattr(_fg_linalg, name):
        return getattr(_fg_linalg, name)
    try:
        return scipy_passthrough("scipy.linalg", name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
