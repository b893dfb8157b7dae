"""SciPy, imported on first use: funcgrad works without it until a SciPy-backed value is needed."""

from __future__ import annotations

import importlib
from types import ModuleType


def scipy_module(name: str) -> ModuleType:
    """``scipy.<name>`` (cached by Python's import system), or a clear ImportError."""
    try:
        return importlib.import_module(f"scipy.{name}")
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"funcgrad.scipy.{name} computes its values with SciPy, which is not installed. "
            "Install it with `pip install scipy` (or `pip install funcgrad[scipy]`)."
        ) from e
