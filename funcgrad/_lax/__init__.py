"""JAX's ``lax`` array operations and collectives, re-exported by :mod:`funcgrad.lax` and loaded on
first use (``import funcgrad`` does not import them).

* :mod:`.arrays` — contractions, slicing, padding, broadcasting, sorting, scans, reductions and
  elementwise names, composed from funcgrad's primitives;
* :mod:`.windowed` — ``reduce_window`` and convolutions, on the ``window_patches`` primitive;
* :mod:`.gather` — ``gather``/``scatter`` with XLA's dimension numbers;
* :mod:`.collectives` — ``psum`` and friends over a ``vmap`` axis name.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_MODULES = ("arrays", "windowed", "gather", "collectives")
_names: dict[str, Any] = {}


def _index() -> dict[str, Any]:
    if not _names:
        for name in _MODULES:
            module = importlib.import_module(f"{__name__}.{name}")
            for public in module.__all__:
                _names[public] = module
    return _names


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    module = _index().get(name)
    if module is None:
        raise AttributeError(f"module 'funcgrad.lax' has no attribute {name!r}")
    return getattr(module, name)


def __dir__() -> list[str]:
    lax = sys.modules.get("funcgrad.lax")
    return sorted(set(vars(lax) if lax is not None else ()) | set(_index()))
