"""``funcgrad.compat.autograd.numpy``: autograd's ``numpy`` — :mod:`funcgrad.numpy`, with NumPy's
remaining names (dtypes, ``seterr``, ``errstate``, …) passed through from NumPy.

``random`` is NumPy's own ``numpy.random`` (as in autograd), so seeded draws are NumPy's;
``linalg`` and ``fft`` are funcgrad's differentiable ones.

>>> import funcgrad.compat.autograd.numpy as np
>>> from funcgrad.compat.autograd import grad
>>> float(grad(lambda x: np.tanh(x))(0.0))
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from .... import numpy as _fnp
from ....numpy import *  # noqa: F403

__all__ = [n for n in _fnp.__all__ if n not in ("random", "linalg", "fft")] + ["random", "linalg", "fft"]


def __getattr__(name: str) -> Any:
    """A NumPy name funcgrad.numpy does not define (constants, dtypes, error settings)."""
    if name in ("numpy_boxes", "numpy_vjps", "numpy_wrapper", "numpy_vspaces"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    try:
        return getattr(_fnp, name)
    except AttributeError:
        pass
    try:
        return getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (neither has numpy)") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_fnp)) | {n for n in dir(_np) if not n.startswith("_")})


from . import fft, linalg, random  # noqa: E402,F401  (after the star import, which would bind funcgrad's)
