"""Whether large threefry draws run in the Numba kernels of ``_numba_normal`` (the same bits as the
NumPy code, several times faster) or in NumPy.

The kernels are used automatically when Numba (>= 0.60, the optional extra ``funcgrad[numba]``)
is importable, for draws of at least :data:`MIN_SIZE` numbers; set the environment variable
``FUNCGRAD_RANDOM_NUMBA=0``, or use :func:`numpy_only`, to always use NumPy. If Numba is missing,
too old or fails to compile a kernel, NumPy is used (the failure is remembered, not repeated).

On the NumPy path, float32 normal draws come from a 32 MiB lookup table once the process has
drawn ``2**25`` of them there (``_normal_table``; ``FUNCGRAD_RANDOM_TABLE=0`` disables it). The
kernels never use it: gathering from 32 MiB at random places is slower than their arithmetic.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
import warnings
from typing import Any, Iterator

import numpy as np

__all__ = ["MIN_SIZE", "numpy_only", "kernels", "run"]

MIN_SIZE = 1 << 14  # smaller draws take NumPy: fast enough, and no Numba import for them
_MIN_VERSION = (0, 60)
_lock = threading.Lock()
_module: Any = None  # _numba_normal once imported; False when Numba is unusable


class Blocks:
    """How many ``with`` blocks that switch something off are open (thread-safe; nestable)."""

    def __init__(self) -> None:
        self.depth = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        with self._lock:
            self.depth += 1
        try:
            yield
        finally:
            with self._lock:
                self.depth -= 1


_numpy_only = Blocks()


@contextlib.contextmanager
def numpy_only() -> Iterator[None]:
    """Draw with the NumPy code inside this block (for comparisons and benchmarks).

    >>> import funcgrad.random as fr
    >>> with numpy_only():
    ...     x = fr.normal(fr.key(0), (3,))
    """
    with _numpy_only.block():
        yield


def kernels(size: int) -> Any:
    """The kernel module for a draw of ``size`` numbers, or None to use NumPy."""
    if size < MIN_SIZE or _numpy_only.depth or os.environ.get("FUNCGRAD_RANDOM_NUMBA", "1") == "0":
        return None
    global _module
    if _module is None:
        with _lock:
            if _module is None:
                _module = _import()
    return _module or None


def _import() -> Any:
    if importlib.util.find_spec("numba") is None:
        return False
    try:
        import numba

        version = tuple(int(p) for p in numba.__version__.split(".")[:2] if p.isdigit())
        if version < _MIN_VERSION:
            return False
        from . import _numba_normal
    except Exception:  # noqa: BLE001 (a broken Numba install: NumPy still gives the same numbers)
        return False
    return _numba_normal


def run(kernel_name: str, keys: np.ndarray, out: np.ndarray) -> bool:
    """Fill ``out`` (shape ``(m, n)``) with kernel ``kernel_name`` of the loaded module for the
    threefry keys ``keys`` (shape ``(m, 2)``) at flat indices ``0 .. n``; False (and NumPy from
    now on) if the kernel cannot be compiled."""
    global _module
    keys = np.ascontiguousarray(keys, np.uint32)
    try:
        getattr(_module, kernel_name)(keys, np.uint64(0), out)
    except Exception as exc:  # noqa: BLE001 (compilation failed: fall back, and say so once)
        _module = False
        warnings.warn(f"funcgrad.random: the Numba kernel {kernel_name} failed ({exc!r}); using NumPy from now on",
                      RuntimeWarning, stacklevel=3)
        return False
    return True
