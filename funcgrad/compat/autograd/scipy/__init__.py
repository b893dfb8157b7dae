"""``funcgrad.compat.autograd.scipy``: autograd's ``scipy`` — ``special``, ``stats`` (with
``norm``, ``t``, ``gamma``, ``beta``, ``chi2``, ``poisson``, ``multivariate_normal``,
``dirichlet`` importable as submodules), ``signal``, ``linalg``, ``integrate`` and ``misc``, on
:mod:`funcgrad.scipy`. SciPy is needed to compute values (``pip install funcgrad[scipy]``).

>>> import funcgrad.compat.autograd.scipy.stats.norm as norm
>>> round(float(norm.logpdf(0.0)), 6)
-0.918939
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["special", "stats", "signal", "linalg", "integrate", "misc"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
