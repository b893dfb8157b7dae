"""Code-generation backends of ``jit``: ``"numpy"`` (the default: one NumPy call per operation)
and ``"numba"`` (elementwise regions fused into Numba loop kernels; an optional extra)."""

from __future__ import annotations

from ..errors import UnknownBackendError
from .codegen import Compiled, generate
from .program import Program

__all__ = ["BACKENDS", "check_backend", "compile_with"]

BACKENDS = ("numpy", "numba")


def check_backend(backend: object) -> str:
    """``backend`` if it names a backend whose dependencies are installed; otherwise a clear error
    (:class:`~funcgrad.errors.UnknownBackendError`, or
    :class:`~funcgrad.errors.BackendUnavailableError` naming the extra to install).

    >>> check_backend("numpy")
    'numpy'
    """
    if type(backend) is not str or backend not in BACKENDS:
        raise UnknownBackendError(
            f"jit: unknown backend {backend!r:.80}; the valid backends are "
            f"{', '.join(repr(b) for b in BACKENDS)} (default 'numpy').")
    if backend == "numba":
        from .numba_backend import require_numba

        require_numba()
    return backend


def compile_with(program: Program, name: str, backend: str) -> Compiled:
    """Generate and compile ``program`` (already optimised) with ``backend``."""
    if backend == "numba":
        from .numba_backend import compile_program

        return compile_program(program, name)
    return generate(program, name)
