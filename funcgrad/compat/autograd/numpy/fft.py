"""``funcgrad.compat.autograd.numpy.fft``: :mod:`funcgrad.numpy.fft` (differentiable), with
NumPy's other ``numpy.fft`` names passed through.

>>> import numpy as np, funcgrad.compat.autograd.numpy.fft as fft
>>> fft.fft(np.ones(2))
array([2.+0.j, 0.+0.j])
"""

from __future__ import annotations

from typing import Any

import numpy.fft as _np_fft

from ....numpy import fft as _fg_fft
from ....numpy.fft import *  # noqa: F403
from ....numpy.fft import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    for module in (_fg_fft, _np_fft):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
