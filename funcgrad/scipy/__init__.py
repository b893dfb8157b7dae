"""``funcgrad.scipy``: differentiable versions of SciPy functions.

``special`` and ``stats`` are imported with funcgrad but import SciPy itself only when a value
is first computed (SciPy is the optional extra ``funcgrad[scipy]``); ``linalg``, ``signal``,
``integrate`` and ``optimize`` are imported on demand (``import funcgrad.scipy.linalg``).
"""

from . import special, stats  # noqa: F401


def __getattr__(name: str) -> object:
    """``funcgrad.scipy.linalg`` and friends, imported on first use."""
    if name in ("linalg", "signal", "integrate", "optimize"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
