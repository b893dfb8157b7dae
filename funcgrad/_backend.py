"""Arrays from other engines (Dask, CuPy, ...): recognising them and making arrays in their library.

funcgrad's impls call NumPy functions, and NumPy hands a call on a foreign array to that array's
library (``__array_ufunc__``/``__array_function__``, NEPs 13, 18 and 35). So a foreign array goes
through every transformation unchanged, as long as funcgrad never converts it (``np.asarray``)
and makes the arrays it needs (zero cotangents, seeds of ones) in the library of the array they
stand beside (``np.zeros_like``, ``like=``). The helpers here do that, with a fast path for plain
NumPy arrays so the eager NumPy speed stays as it was.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import numpy as np

__all__ = ["underlying", "is_foreign_array", "zeros_like_shape", "ones_like_shape", "backend_key", "type_name",
           "as_array", "copy_array", "unsupported"]

_foreign_types: dict[type, bool] = {}


def is_foreign_array(x: Any) -> bool:
    """True for an array of another library that implements NumPy's dispatch protocols (a Dask or
    CuPy array): not a NumPy array, not a funcgrad tracer, with ``shape``, ``dtype``,
    ``__array_ufunc__`` and ``__array_function__``."""
    t = type(x)
    if t is np.ndarray:
        return False
    found = _foreign_types.get(t)
    if found is None:
        from .core import Tracer

        found = (not issubclass(t, (np.ndarray, np.generic, Tracer))
                 and callable(getattr(t, "__array_function__", None))
                 and callable(getattr(t, "__array_ufunc__", None))
                 and hasattr(x, "shape") and hasattr(x, "dtype"))
        _foreign_types[t] = found
    return found


def underlying(x: Any) -> Any:
    """The array beneath any level of tracing (tracers hold their primal value)."""
    from .core import Tracer

    while isinstance(x, Tracer):
        val = getattr(x, "val", None)  # a vmap batch: the batched array is in the same library
        if val is not None:
            x = val
            continue
        try:
            x = x.primal
        except Exception:  # a jit (abstract) value: no concrete array to copy the library of
            return None
    return x


_staging = threading.local()


@contextlib.contextmanager
def staging_foreign(foreign: bool) -> Iterator[None]:
    """While ``jit`` traces a function whose arguments are foreign arrays, arrays funcgrad makes
    beside abstract values (zero cotangents, the seed of ``grad``) are staged as ``full_like`` of
    those values, so the generated code makes them in the arguments' library at run time (with
    NumPy arguments they stay folded NumPy constants, as before)."""
    before = getattr(_staging, "foreign", False)
    _staging.foreign = foreign
    try:
        yield
    finally:
        _staging.foreign = before


def _filled(ref: Any, shape: Any, dtype: Any, fill: Any, make: Any) -> Any:
    if type(ref) is np.ndarray:
        return make(shape, dtype)
    u = underlying(ref)
    if u is None and getattr(_staging, "foreign", False):
        from .prims.shape import full_like

        return full_like(ref, fill=fill, shape=tuple(shape), dtype=np.dtype(dtype))
    if u is None or type(u) is np.ndarray or not is_foreign_array(u):
        return make(shape, dtype)
    return np.full_like(u, fill, dtype=dtype, shape=tuple(shape))


def zeros_like_shape(ref: Any, shape: Any, dtype: Any) -> Any:
    """Zeros of ``shape`` and ``dtype`` in the library of ``ref`` (NumPy unless ``ref`` is, or
    holds, a foreign array), e.g. the zero cotangent of an input that did not reach the output."""
    return _filled(ref, shape, dtype, 0, np.zeros)


def ones_like_shape(ref: Any, shape: Any, dtype: Any) -> Any:
    """Ones of ``shape`` and ``dtype`` in the library of ``ref`` (the seed of ``grad``)."""
    return _filled(ref, shape, dtype, 1, np.ones)


def backend_key(x: Any) -> Any:
    """What ``jit``'s cache key records of a foreign array besides shape and dtype: its type and,
    for a chunked array (Dask), the chunk structure (the generated code is the same, but a new
    chunking is a new graph layout, and users expect it to show as a retrace)."""
    chunks = getattr(x, "chunks", None)
    if chunks is not None:
        try:
            chunks = tuple(tuple(c) for c in chunks)
        except TypeError:
            chunks = None
    return (type(x), chunks)


def type_name(x: Any) -> str:
    """``dask.array.Array``-style name of ``x``'s type, for error messages."""
    t = type(x)
    module = t.__module__.split(".")
    if module[:2] == ["dask", "array"]:
        return "dask.array.Array"
    return f"{module[0]}.{t.__qualname__}" if module[0] != "builtins" else t.__qualname__


def as_array(x: Any) -> Any:
    """``np.asarray(x)`` for numbers and NumPy values; a foreign array is returned as it is (never
    converted: a Dask array would be computed, a CuPy one copied off its device)."""
    if type(x) is np.ndarray or is_foreign_array(x):
        return x
    return np.asarray(x)


def copy_array(x: Any) -> Any:
    """A writable copy of ``x`` in its own library (``np.array(x, copy=True)`` for NumPy values)."""
    if is_foreign_array(x):
        return x.copy()
    return np.array(x, copy=True)


def unsupported(operation: str, x: Any, why: str = "") -> Exception:
    """The error for an operation the library of foreign array ``x`` does not provide."""
    from .errors import UnsupportedArrayTypeError

    return UnsupportedArrayTypeError(
        f"{operation} is not supported on {type_name(x)} arrays{': ' + why if why else ''}. "
        "Compute this part on NumPy arrays (e.g. x.compute() for a small Dask array, x.get() for a "
        "CuPy one), or express it with operations that library provides.")
