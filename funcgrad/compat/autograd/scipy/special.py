"""``funcgrad.compat.autograd.scipy.special``: :mod:`funcgrad.scipy.special` (differentiable), with
SciPy's other ``scipy.special`` names passed through (not differentiable).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ....scipy import special as _fg_special
from ....scipy.special import *  # noqa: F403
from ....scipy.special import __all__  # noqa: F401
from . import scipy_passthrough


def logsumexp(*args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
    """:func:`funcgrad.scipy.special.logsumexp`, a NumPy scalar for a scalar result (as autograd's).

    >>> import numpy as np
    >>> type(logsumexp(np.zeros(2))).__name__
    'float64'
    """
    out = _fg_special.logsumexp(*args, **kwargs)
    if isinstance(out, tuple):
        return tuple(v[()] if type(v) is np.ndarray and v.ndim == 0 else v for v in out)
    return out[()] if type(out) is np.ndarray and out.ndim == 0 else out


def __getattr__(name: str) -> Any:
    if hasattr(_fg_special, name):
        return getattr(_fg_special, name)
    try:
        return scipy_passthrough("scipy.special", name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
