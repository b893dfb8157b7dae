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

from ....._submodules import alias_module
from .....scipy import stats as _stats

__all__ = list(_stats.__all__)

for _name in __all__:
    globals()[_name] = alias_module(f"{__name__}.{_name}", getattr(_stats, _name))
del _name
