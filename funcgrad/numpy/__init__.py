"""``funcgrad.numpy``: NumPy's names and semantics, differentiable.

Every function here accepts NumPy arrays, Python numbers and traced values alike, follows
NumPy's broadcasting and dtype promotion, and returns what NumPy would. Inside a transformed
function, plain ``np.sin(x)`` or ``np.dot(x, w)`` work too: they dispatch here.

>>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
>>> fg.grad(lambda x: fnp.sum(fnp.sin(x)))(np.zeros(2))
array([1., 1.])
"""

from __future__ import annotations

import numpy as _np

# NumPy's dtypes and constants, so `fnp.float32` and `fnp.pi` read naturally (re-exports).
from numpy import (
    bool_,  # noqa: F401
    complex64,  # noqa: F401
    complex128,  # noqa: F401
    dtype,  # noqa: F401
    e,  # noqa: F401
    euler_gamma,  # noqa: F401
    float16,  # noqa: F401
    float32,  # noqa: F401
    float64,  # noqa: F401
    inf,  # noqa: F401
    int8,  # noqa: F401
    int16,  # noqa: F401
    int32,  # noqa: F401
    int64,  # noqa: F401
    nan,  # noqa: F401
    ndarray,  # noqa: F401
    newaxis,  # noqa: F401
    pi,  # noqa: F401
    random,  # noqa: F401
    uint8,  # noqa: F401
)

from . import fft, linalg
from .contractions import *  # noqa: F403
from .contractions import __all__ as _contractions_all
from .creation import *  # noqa: F403
from .creation import __all__ as _creation_all
from .differences import *  # noqa: F403
from .differences import __all__ as _differences_all
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise_all
from .reductions import *  # noqa: F403
from .reductions import __all__ as _reductions_all
from .shape import *  # noqa: F403
from .shape import __all__ as _shape_all
from .sorting import *  # noqa: F403
from .sorting import __all__ as _sorting_all
from .tracer_methods import _install, at, register_dispatch

__all__ = (
    _contractions_all + _creation_all + _elementwise_all + _reductions_all + _shape_all
    + _differences_all + _sorting_all
    + ["at", "fft", "linalg", "random"]
)

_install()
import sys as _sys  # noqa: E402

register_dispatch(_sys.modules[__name__], _np, [n for n in __all__ if n not in ("fft", "linalg", "random")])
register_dispatch(linalg, _np.linalg, linalg.__all__)
register_dispatch(fft, _np.fft, fft.__all__)
