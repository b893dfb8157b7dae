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
           "as_array", "copy_array", "unsupported", "foreign_of", "staging_is_foreign", "fresh_copies", "constant_like",
           "numpy_constant_like",
           "program_is_foreign"]

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
    from .core import Tracer, ValuelessTracer

    while isinstance(x, Tracer):
        val = getattr(x, "val", None)  # a vmap batch: the batched array is in the same library
        if val is not None:
            x = val
            continue
        if isinstance(x, ValuelessTracer):  # (asking for .primal would build an error message)
            return None
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


def staging_is_foreign() -> bool:
    """True while ``jit`` (or a loop or branch of foreign operands) is being traced: arrays made
    beside abstract values must then be staged in the operands' library."""
    return getattr(_staging, "foreign", False)


def foreign_of(values: Any) -> Any:
    """The first foreign array among ``values`` (tracers looked through), or None (all NumPy)."""
    for v in values:
        if type(v) is np.ndarray:
            continue
        u = underlying(v)
        if u is not None and type(u) is not np.ndarray and is_foreign_array(u):
            return u
    return None


def program_is_foreign(values: Any) -> bool:
    """Should a sub-program (a loop body, a branch) traced for operands ``values`` stage the arrays
    it makes in the operands' library? Yes if an operand is a foreign array, or if an enclosing
    ``jit`` is tracing for foreign arguments (then the operands are abstract)."""
    return getattr(_staging, "foreign", False) or foreign_of(values) is not None


def fresh_copies(values: Any) -> list:
    """Writable copies of a loop's results, each in its own library: ``np.array`` for NumPy values
    and numbers (a NumPy scalar becomes a 0-d array), ``.copy()`` for a foreign array."""
    return [np.array(c) if type(c) is np.ndarray or not is_foreign_array(c) else c.copy() for c in values]


def constant_like(value: Any, dtype: Any, refs: Any) -> Any:
    """``np.asarray(value, dtype)`` made in the library of the arrays ``refs`` (a loop counter, a
    Python-number carry beside Dask/CuPy operands: CuPy refuses NumPy operands). Under a ``jit``
    traced for foreign arguments it is staged as ``full_like`` of a traced value of ``refs``."""
    refs = list(refs)
    ref = foreign_of(refs)
    if ref is not None:
        return np.asarray(value, dtype=dtype, like=ref)
    if getattr(_staging, "foreign", False):
        from .core import Tracer

        traced = next((r for r in refs if isinstance(r, Tracer)), None)
        if traced is not None:
            from .prims.shape import full_like

            return full_like(traced, fill=value, shape=(), dtype=np.asarray(value, dtype=dtype).dtype)
    return np.asarray(value, dtype=dtype)


def numpy_constant_like(value: np.ndarray, ref: Any) -> Any:
    """A NumPy constant a rule needs (an identity matrix, a mask) moved into the library of ``ref``
    when ``ref`` is, or holds, a Dask/CuPy array; unchanged otherwise."""
    if type(ref) is np.ndarray:
        return value
    u = underlying(ref)
    if u is None and getattr(_staging, "foreign", False):  # jit for Dask/CuPy arguments: moved at run time
        from .prims.shape import constant_like_p

        return constant_like_p.bind(ref, value)
    if u is None or type(u) is np.ndarray or not is_foreign_array(u):
        return value
    return np.asarray(value, like=u)


def _filled(ref: Any, shape: Any, dtype: Any, fill: Any, make: Any) -> Any:
    if type(ref) is np.ndarray or np.dtype(dtype).kind == "V":  # float0 (integer inputs' cotangent): NumPy's
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
