"""``funcgrad.example_libraries``: ``jax.example_libraries``' ``stax`` (neural-network layers as
``(init_fun, apply_fun)`` pairs) and ``optimizers`` (``(init_fun, update_fun, get_params)``
triples), with JAX's signatures, built on :mod:`funcgrad.nn`, :mod:`funcgrad.random` and
:mod:`funcgrad.lax`.

>>> from funcgrad.example_libraries import stax, optimizers
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["stax", "optimizers"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
