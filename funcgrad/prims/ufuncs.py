"""One primitive for NumPy's elementwise functions whose results carry no derivative and that
funcgrad does not otherwise need: bitwise operations, ``gcd``/``lcm``, ``signbit``,
``nextafter``, ``spacing``, ``ldexp``, ``frexp``... (``ufunc`` names the NumPy ufunc; ``index``
picks one output of a ufunc with several). A single primitive keeps the primitive set small; it
runs under ``jit`` and ``vmap`` like any other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .factories import nondiff


def _impl(*args: Any, ufunc: str, index: int | None = None) -> Any:
    out = getattr(np, ufunc)(*args)
    return out if index is None else out[index]


nondiff_ufunc_p = nondiff("nondiff_ufunc", _impl)


def nondiff_ufunc(name: str, *args: Any, index: int | None = None) -> Any:
    """``numpy.<name>(*args)`` (output ``index`` for several), with no derivative."""
    return nondiff_ufunc_p.bind(*args, ufunc=name, index=index)
