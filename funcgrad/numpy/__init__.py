"""``funcgrad.numpy``: NumPy's names and semantics, differentiable.

Every function here accepts NumPy arrays, Python numbers and traced values alike, follows
NumPy's broadcasting and dtype promotion, and returns what NumPy would. Inside a transformed
function, plain ``np.sin(x)`` or ``np.dot(x, w)`` work too: they dispatch here.

>>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
>>> fg.grad(lambda x: fnp.sum(fnp.sin(x)))(np.zeros(2))
array([1., 1.])
"""

from __future__ import annotations

import typing as _typing

import numpy as _np

# NumPy's dtypes and constants, so `fnp.float32` and `fnp.pi` read naturally (re-exports; at runtime
# `from .passthrough import *` below replaces the scalar types by subclasses whose call casts traced values).
from numpy import (  # isort: skip  (re-exported as X as X, for type checkers)
    bool_ as bool_,
    complex64 as complex64,
    complex128 as complex128,
    dtype as dtype,
    e as e,
    euler_gamma as euler_gamma,
    float16 as float16,
    float32 as float32,
    float64 as float64,
    inf as inf,
    int8 as int8,
    int16 as int16,
    int32 as int32,
    int64 as int64,
    nan as nan,
    ndarray as ndarray,
    newaxis as newaxis,
    pi as pi,
    uint8 as uint8,
)

from .building import *  # noqa: F403
from .building import __all__ as _building_all
from .contractions import *  # noqa: F403
from .contractions import __all__ as _contractions_all
from .creation import *  # noqa: F403
from .creation import __all__ as _creation_all
from .differences import *  # noqa: F403
from .differences import __all__ as _differences_all
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise_all
from .index_tricks import *  # noqa: F403
from .index_tricks import __all__ as _index_tricks_all
from .mathfuncs import *  # noqa: F403
from .mathfuncs import __all__ as _mathfuncs_all
from .nanfunctions import *  # noqa: F403
from .nanfunctions import __all__ as _nanfunctions_all
from .passthrough import *  # noqa: F403
from .passthrough import __all__ as _passthrough_all
from .polynomial import *  # noqa: F403
from .polynomial import __all__ as _polynomial_all
from .reductions import *  # noqa: F403
from .reductions import __all__ as _reductions_all
from .setops import *  # noqa: F403
from .setops import __all__ as _setops_all
from .shape import *  # noqa: F403
from .shape import __all__ as _shape_all
from .sorting import *  # noqa: F403
from .sorting import __all__ as _sorting_all
from .statistics import *  # noqa: F403
from .statistics import __all__ as _statistics_all
from .tracer_methods import _install, at
from .tracer_methods import register_dispatch as _register_dispatch
from .tracer_methods import register_lazy_dispatch as _register_lazy_dispatch

__all__ = (
    _contractions_all + _creation_all + _elementwise_all + _reductions_all + _shape_all
    + _differences_all + _sorting_all + _building_all + _index_tricks_all + _mathfuncs_all + _nanfunctions_all
    + _setops_all + _statistics_all + _passthrough_all + _polynomial_all
    + ["at", "fft", "linalg", "random"]  # noqa: F405 - these three load lazily (module __getattr__)
)

_install()
import sys as _sys  # noqa: E402

# NumPy's functions dispatch to ours on traced values (not the names re-exported unchanged: those
# are NumPy's own functions, which would dispatch to themselves).
_register_dispatch(_sys.modules[__name__], _np, [n for n in __all__ if n not in ("fft", "linalg", "random")
                                                 and globals().get(n) is not getattr(_np, n, None)])
# linalg and fft load on first use (`fnp.linalg`, `import funcgrad.numpy.linalg`, or the first
# `np.linalg.*`/`np.fft.*` call on a traced value), and then register their own dispatch.
_register_lazy_dispatch("numpy.linalg", "funcgrad.numpy.linalg")
_register_lazy_dispatch("numpy.fft", "funcgrad.numpy.fft")
_LAZY_SUBMODULES = ("fft", "linalg", "random")


if _typing.TYPE_CHECKING:  # loaded lazily by __getattr__ below
    from . import fft as fft
    from . import linalg as linalg
    from . import random as random


if not _typing.TYPE_CHECKING:  # type checkers see the names declared above, and an unknown name stays an error

    def __getattr__(name: str) -> object:
        # funcgrad.numpy.linalg/fft/random load on first use (numpy.random is re-exported, loaded as NumPy does).
        if name in _LAZY_SUBMODULES:
            import importlib

            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module 'funcgrad.numpy' has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(_LAZY_SUBMODULES))
