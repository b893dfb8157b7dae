"""``funcgrad.compat.autograd.scipy.signal``: :mod:`funcgrad.scipy.signal` (differentiable), with
SciPy's other ``scipy.signal`` names passed through (not differentiable).
"""

from __future__ import annotations

import importlib
from typing import Any

from ....scipy import signal as _fg_signal
from ....scipy.signal import *  # noqa: F403
from ....scipy.signal import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    if hasattr(_fg_signal, name):
        return getattr(_fg_signal, name)
    try:
        return getattr(importlib.import_module("scipy.signal"), name)
    except (ImportError, AttributeError):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
