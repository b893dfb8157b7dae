"""``funcgrad.compat.autograd.scipy.integrate``: autograd's ``odeint(func, y0, t, args=(), **kwargs)``
(SciPy's signature: extra arguments as one tuple) on :func:`funcgrad.scipy.integrate.odeint`,
differentiable in ``y0``, ``t`` and ``args``; SciPy's other names passed through.

>>> import numpy as np
>>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), np.array([0.0, 1.0]), (2.0,), rtol=1e-10, atol=1e-10)
>>> bool(np.allclose(ys[:, 0], np.exp([0.0, -2.0])))
True
"""

from __future__ import annotations

from typing import Any, Callable

from ....scipy import integrate as _fg_integrate
from . import scipy_passthrough

__all__ = ["odeint"]


def odeint(func: Callable[..., Any], y0: Any, t: Any, args: Any = (), **kwargs: Any) -> Any:
    """Solve ``dy/dt = func(y, t, *args)`` at the times ``t`` (autograd's and SciPy's signature)."""
    if not isinstance(args, tuple):
        args = (args,)
    return _fg_integrate.odeint(func, y0, t, *args, **kwargs)


def __getattr__(name: str) -> Any:
    if hasattr(_fg_integrate, name):
        return getattr(_fg_integrate, name)
    try:
        return scipy_passthrough("scipy.integrate", name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
