"""``funcgrad.compat.autograd.scipy.signal``: :mod:`funcgrad.scipy.signal` (differentiable), with
SciPy's other ``scipy.signal`` names passed through (not differentiable).
"""

from __future__ import annotations

from typing import Any

from ....scipy import signal as _fg_signal
from ....scipy.signal import *  # noqa: F403
from ....scipy.signal import __all__  # noqa: F401
from . import scipy_passthrough


# Replaces the SciPy-order convolve that the star import brought in.
def convolve(  # type: ignore[no-redef]
    A: Any, B: Any, axes: Any = None, dot_axes: Any = ((), ()), mode: str = "full"
) -> Any:
    """autograd's tensor ``convolve(A, B, axes=None, dot_axes=[(), ()], mode='full')``, with its
    argument order (``axes`` second, ``mode`` last), on :func:`funcgrad.scipy.signal.convolve`.

    >>> import numpy as np
    >>> convolve(np.ones((2, 3, 5, 5)), np.ones((3, 4, 2, 2)), ([2, 3], [2, 3]), ([1], [0]), "valid").shape
    (2, 4, 4, 4)
    """
    return _fg_signal.convolve(A, B, mode, axes=axes, dot_axes=dot_axes)


def __getattr__(name: str) -> Any:
    if hasattr(_fg_signal, name):
        return getattr(_fg_signal, name)
    try:
        return scipy_passthrough("scipy.signal", name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
