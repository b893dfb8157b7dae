"""``funcgrad.compat.autograd.scipy.stats``: autograd's distribution modules on
:mod:`funcgrad.scipy.stats`. Each of ``norm``, ``t``, ``gamma``, ``beta``, ``chi2``, ``poisson``,
``multivariate_normal`` and ``dirichlet`` is importable by its dotted path
(``import funcgrad.compat.autograd.scipy.stats.norm as norm``) and has SciPy's functions
(``pdf``, ``logpdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``; ``pmf``/``logpmf`` for ``poisson``).

>>> from funcgrad.compat.autograd.scipy.stats import t
>>> round(float(t.logpdf(0.0, 3.0)), 6)
-1.000889
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..... import numpy as fnp
from ....._submodules import alias_module
from .....scipy import stats as _stats

__all__ = list(_stats.__all__)


def _numpy_scalar(value: Any) -> Any:
    """A concrete 0-d result as a NumPy scalar, the type autograd's (SciPy's) functions return."""
    return value[()] if type(value) is np.ndarray and value.ndim == 0 else value


class _WithExtras:
    """A funcgrad distribution plus the module-level functions autograd's module adds; its
    functions return NumPy scalars for scalar arguments, as autograd's do."""

    def __init__(self, base: Any, **extras: Any) -> None:
        self._base, self._extras = base, extras

    def __getattr__(self, name: str) -> Any:
        found = self._extras[name] if name in self.__dict__.get("_extras", {}) else getattr(self._base, name)
        if not callable(found) or name.startswith("_"):
            return found

        @functools.wraps(found)
        def scalar_like_scipy(*args: Any, **kwargs: Any) -> Any:
            return _numpy_scalar(found(*args, **kwargs))

        return scalar_like_scipy

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._base)) | set(self._extras))


def _mvn_entropy(mean: Any = None, cov: Any = 1) -> Any:
    """Differential entropy ``(D (1 + log 2π) + log det cov) / 2`` of a multivariate normal."""
    cov = fnp.atleast_2d(cov)
    d = cov.shape[-1]
    return 0.5 * (d * (1.0 + math.log(2 * math.pi)) + fnp.linalg.slogdet(cov)[1])


def _dirichlet_rvs(alpha: Any, size: Any = 1, random_state: Any = None) -> Any:
    """SciPy's (NumPy-random) Dirichlet draws, not differentiable: autograd re-exports SciPy's."""
    return np.random.default_rng(random_state).dirichlet(np.asarray(alpha), size) if random_state is not None \
        else np.random.dirichlet(np.asarray(alpha), size)


_EXTRAS: dict[str, dict[str, Any]] = {
    "multivariate_normal": {"entropy": _mvn_entropy}, "dirichlet": {"rvs": _dirichlet_rvs}}

for _name in __all__:
    _dist = _WithExtras(getattr(_stats, _name), **_EXTRAS.get(_name, {}))
    globals()[_name] = alias_module(f"{__name__}.{_name}", _dist)
del _name, _dist
