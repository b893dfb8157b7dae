"""``funcgrad.scipy``: differentiable versions of SciPy functions.

``special`` and ``stats`` are imported with funcgrad but import SciPy itself only when a value
is first computed (SciPy is the optional extra ``funcgrad[scipy]``); ``linalg``, ``signal``,
``integrate`` and ``optimize`` are imported on demand (``import funcgrad.scipy.linalg``).
"""

import typing as _typing

from . import special, stats

__all__ = ["special", "stats", "linalg", "signal", "integrate", "optimize"]

if _typing.TYPE_CHECKING:  # imported on first use by __getattr__ below
    from . import integrate, linalg, optimize, signal
else:  # (hidden from type checkers, so that an unknown name stays an error)

    def __getattr__(name: str) -> object:
        """``funcgrad.scipy.linalg`` and friends, imported on first use."""
        if name in ("linalg", "signal", "integrate", "optimize"):
            import importlib

            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
