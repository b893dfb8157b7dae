"""``funcgrad.compat.autograd.numpy.numpy_wrapper``: the module autograd's ``numpy`` is built from.
Its names are :mod:`funcgrad.compat.autograd.numpy`'s, plus ``wrap_namespace`` (wrap a module's
functions as primitives, for code that builds its own differentiable namespace) and ``metadata``.

>>> import math
>>> ns = {}
>>> wrap_namespace({"sqrt": math.sqrt, "pi": math.pi}, ns)
>>> ns["sqrt"](4.0), ns["pi"] == math.pi
(2.0, True)
"""

from __future__ import annotations

import types
from typing import Any

import numpy as onp

from .. import numpy as _anp
from ..extend import primitive
from .numpy_vjps import metadata

__all__ = ["wrap_namespace", "metadata"]

_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, onp.ufunc)


def wrap_namespace(old: dict, new: dict) -> None:
    """Fill ``new`` from namespace ``old``: functions become :func:`~..extend.primitive` s (give them
    derivatives with ``defvjp``/``defjvp``), types and other values are copied as they are."""
    for name, obj in old.items():
        if isinstance(obj, _FUNCTION_TYPES):
            new[name] = primitive(obj)
        elif isinstance(obj, (type, onp.dtype, int, float, complex, bool, str, type(None))):
            new[name] = obj


def __getattr__(name: str) -> Any:
    """Every other name: autograd's numpy namespace (:mod:`funcgrad.compat.autograd.numpy`)."""
    return getattr(_anp, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_anp)))
