"""The primitives: where impl, jvp, vjp and batching rules are declared, one declaration each.

One module per family. Importing a family's module registers its primitives in
``funcgrad.core.primitives``. ``import funcgrad`` imports only the families ``funcgrad.numpy``'s
core needs (elementwise, reductions, shape, indexing, scatter, matrix products); the
decompositions, Fourier transforms and sliding windows load with the first public function that
uses them (``funcgrad.numpy.linalg``, ``funcgrad.numpy.fft``, ``funcgrad.lax``), and the
SciPy-backed primitives (``funcgrad/scipy/_*_prims.py``) with ``funcgrad.scipy``'s modules.
:func:`import_all_primitives` loads every family, for code that walks the whole registry.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from . import elementwise, indexing, linalg, reductions, scatter, shape, ufuncs  # noqa: F401

# Every module that declares registered (or higher-order) primitives, including the lazily loaded ones.
PRIMITIVE_MODULES = (
    "funcgrad.prims.elementwise", "funcgrad.prims.indexing", "funcgrad.prims.linalg", "funcgrad.prims.reductions",
    "funcgrad.prims.scatter", "funcgrad.prims.shape", "funcgrad.prims.ufuncs", "funcgrad.prims.decompositions",
    "funcgrad.prims.fft", "funcgrad.prims.windows", "funcgrad.prims.random", "funcgrad.numpy.mathfuncs",
    "funcgrad.jit", "funcgrad.custom", "funcgrad.control", "funcgrad._lax.windowed", "funcgrad._lax.collectives",
    "funcgrad.scipy._special_prims", "funcgrad.scipy._stats_prims", "funcgrad.scipy._linalg_prims",
    "funcgrad.scipy._signal_prims", "funcgrad.scipy._integrate_prims", "funcgrad.scipy._tensorconv",
    "funcgrad.scipy.optimize",
)

_LAZY_FAMILIES = ("decompositions", "fft", "windows", "random")


def import_all_primitives() -> None:
    """Import every module that declares primitives, so ``funcgrad.core.primitives`` is complete.

    >>> import funcgrad.core, funcgrad.prims
    >>> funcgrad.prims.import_all_primitives()
    >>> "eigh" in funcgrad.core.primitives and "cond" in funcgrad.core.higher_order_primitives
    True
    """
    for name in PRIMITIVE_MODULES:
        importlib.import_module(name)


def __getattr__(name: str) -> ModuleType:
    """``funcgrad.prims.decompositions`` and the other lazily loaded families, imported on first use."""
    if name in _LAZY_FAMILIES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
