"""``funcgrad.compat.autograd.numpy.linalg``: :mod:`funcgrad.numpy.linalg` (differentiable), with
NumPy's other ``numpy.linalg`` names passed through.

>>> import numpy as np, funcgrad.compat.autograd.numpy.linalg as linalg
>>> float(linalg.norm(np.array([3.0, 4.0])))
5.0
"""

from __future__ import annotations

from typing import Any

import numpy.linalg as _np_linalg

from ....numpy import linalg as _fg_linalg
from ....numpy.linalg import *  # noqa: F403
from ....numpy.linalg import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    for module in (_fg_linalg, _np_linalg):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
