"""``funcgrad.compat.autograd.scipy``: autograd's ``scipy`` — ``special``, ``stats`` (with
``norm``, ``t``, ``gamma``, ``beta``, ``chi2``, ``poisson``, ``multivariate_normal``,
``dirichlet`` importable as submodules), ``signal``, ``linalg``, ``integrate`` and ``misc``, on
:mod:`funcgrad.scipy`. SciPy is needed to compute values (``pip install funcgrad[scipy]``).

>>> import funcgrad.compat.autograd.scipy.stats.norm as norm
>>> round(float(norm.logpdf(0.0)), 6)
-0.918939
"""

from __future__ import annotations

import functools
import importlib
import types
from typing import Any

import numpy as np

__all__ = ["special", "stats", "signal", "linalg", "integrate", "misc"]


@functools.lru_cache(maxsize=None)
def scipy_passthrough(module_name: str, name: str) -> Any:
    """A SciPy name funcgrad has no differentiable version of, as autograd exposes it: a function
    becomes a primitive without derivative rules (it runs on traced values; differentiating through
    it raises ``NotImplementedError``, as autograd's does); anything else is SciPy's own object."""
    try:
        obj = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise AttributeError(f"{module_name} has no attribute {name!r}") from None
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc)):
        from ..extend import primitive

        return primitive(obj)
    return obj


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
