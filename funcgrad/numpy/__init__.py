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

from . import linalg
from .contractions import *  # noqa: F403
from .contractions import __all__ as _contractions_all
from .creation import *  # noqa: F403
from .creation import __all__ as _creation_all
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise_all
from .reductions import *  # noqa: F403
from .reductions import __all__ as _reductions_all
from .shape import *  # noqa: F403
from .shape import __all__ as _shape_all
from .tracer_methods import _install, at, register_dispatch

# NumPy's dtypes and constants, so `fnp.float32` and `fnp.pi` read naturally.
from numpy import (  # noqa: E402
    bool_, complex64, complex128, dtype, e, euler_gamma, float16, float32, float64, inf, int8, int16,
    int32, int64, nan, ndarray, newaxis, pi, uint8,
)
from numpy import random  # noqa: E402

__all__ = (
    _contractions_all + _creation_all + _elementwise_all + _reductions_all + _shape_all
    + ["at", "linalg", "random"]
)

_install()
import sys as _sys  # noqa: E402

register_dispatch(_sys.modules[__name__], _np, [n for n in __all__ if n not in ("linalg", "random")])
register_dispatch(linalg, _np.linalg, linalg.__all__)
