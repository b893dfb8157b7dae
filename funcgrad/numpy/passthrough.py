"""The parts of NumPy's namespace funcgrad re-exports unchanged: types and dtypes, dtype
utilities, floating-point error control, printing, file and buffer I/O, and other helpers that
never produce a differentiable value.

They work on concrete values exactly as NumPy's do (they *are* NumPy's, except the numeric scalar
types: subclasses of NumPy's whose call also casts traced values, see ``scalar_types``). The dtype utilities
(``result_type``, ``can_cast``, ``common_type``, ``min_scalar_type``) also accept traced values,
whose dtype is known while tracing; printing and comparison helpers (``array_equal``,
``array_str``...) use the concrete value under ``grad``/``vjp``/``jvp`` and raise
:class:`~funcgrad.errors.ConcretizationError` under ``jit``/``vmap``.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Tracer
from ._util import concrete
from .scalar_types import SCALAR_TYPES

if TYPE_CHECKING:
    from .._options import Casting

# Names taken from NumPy as they are. Grouped by why passing through is right.
_TYPES = """
bool bool_ byte bytes_ cdouble character clongdouble complex64 complex128 complex256 complexfloating csingle
datetime64 double dtype flexible float16 float32 float64 float128 floating generic half inexact int8 int16 int32
int64 int_ intc integer intp long longdouble longlong ndarray number object_ short signedinteger single str_
timedelta64 ubyte uint uint8 uint16 uint32 uint64 uintc uintp ulong ulonglong unsignedinteger ushort void
flatiter broadcast busdaycalendar errstate finfo iinfo memmap ndenumerate ndindex nditer poly1d recarray record
ufunc matrix printoptions
""".split()
_DTYPE_UTILS = "promote_types issubdtype isdtype mintypecode typename broadcast_shapes".split()
_FP_ERRORS = "seterr geterr seterrcall geterrcall setbufsize getbufsize".split()
_PRINTING = """
set_printoptions get_printoptions format_float_positional format_float_scientific base_repr binary_repr
""".split()
_IO = """
load save savez savez_compressed loadtxt savetxt genfromtxt fromfile frombuffer fromiter fromregex fromstring
from_dlpack
""".split()
_DATES = "busday_count busday_offset is_busday datetime_as_string datetime_data".split()
_MISC = """
get_include show_config show_runtime info test may_share_memory shares_memory isfortran iterable nested_iters
frompyfunc einsum_path asmatrix bmat packbits unpackbits bartlett blackman hamming hanning
""".split()

PASSTHROUGH = [n for n in _TYPES + _DTYPE_UTILS + _FP_ERRORS + _PRINTING + _IO + _DATES + _MISC if hasattr(np, n)]

for _name in PASSTHROUGH:
    globals()[_name] = getattr(np, _name)
# The numeric scalar types are NumPy's, subclassed so that calling one also casts a traced value.
globals().update(SCALAR_TYPES)


def _dtype_or_value(x: Any) -> Any:
    return np.dtype(x.dtype) if isinstance(x, Tracer) else x


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    """``numpy.result_type``; a traced value counts as its dtype.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.result_type(np.float32, 1.0)
    dtype('float32')
    """
    return np.result_type(*(_dtype_or_value(a) for a in arrays_and_dtypes))


def can_cast(from_: Any, to: Any, casting: Casting = "safe") -> builtins.bool:
    """``numpy.can_cast``; a traced value counts as its dtype.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.can_cast(np.int32, np.float64)
    True
    """
    return np.can_cast(_dtype_or_value(from_), to, casting)


def min_scalar_type(a: Any) -> np.dtype:
    """``numpy.min_scalar_type``; for a traced array, its dtype (as NumPy for non-scalar arrays).

    >>> import funcgrad.numpy as fnp
    >>> fnp.min_scalar_type(10)
    dtype('uint8')
    """
    if isinstance(a, Tracer):
        return np.dtype(a.dtype) if a.ndim else np.min_scalar_type(concrete(a, "min_scalar_type"))
    return np.min_scalar_type(a)


def common_type(*arrays: Any) -> type:
    """``numpy.common_type``; traced values count by their dtype.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.common_type(np.ones(1, np.float32))
    <class 'numpy.float32'>
    """
    return np.common_type(*(np.empty(0, a.dtype) if isinstance(a, Tracer) else a for a in arrays))


def isscalar(element: Any) -> builtins.bool:
    """``numpy.isscalar``: traced values are arrays, never scalars (as a 0-d ndarray is not).

    >>> import funcgrad.numpy as fnp
    >>> fnp.isscalar(1.0)
    True
    """
    return False if isinstance(element, Tracer) else np.isscalar(element)


def _concrete_call(name: str) -> Any:
    fn = getattr(np, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*concrete(args, name), **{k: concrete(v, name) for k, v in kwargs.items()})

    call.__name__ = call.__qualname__ = name
    call.__doc__ = (f"``numpy.{name}`` on the concrete values (traced values under grad/vjp/jvp use theirs; "
                    f"under jit/vmap a ConcretizationError).\n\n    >>> import numpy as np, funcgrad.numpy as fnp\n"
                    f"    >>> fnp.{name}  # doctest: +ELLIPSIS\n    <function {name} at ...>\n")
    return call


_ON_VALUES = "array_equal array_equiv array2string array_repr array_str".split()
for _name in _ON_VALUES:
    globals()[_name] = _concrete_call(_name)

if TYPE_CHECKING:  # The loops here, spelled out for type checkers (tests/test_typing.py checks both agree).
    # isort: off
    from numpy import (  # noqa: F401
        bool, bool_, byte, bytes_, cdouble, character, clongdouble, complex64, complex128, complex256,
        complexfloating, csingle, datetime64, double, dtype, flexible, float16, float32, float64, float128,
        floating, generic, half, inexact, int8, int16, int32, int64, int_, intc, integer, intp, long, longdouble,
        longlong, ndarray, number, object_, short, signedinteger, single, str_, timedelta64, ubyte, uint, uint8,
        uint16, uint32, uint64, uintc, uintp, ulong, ulonglong, unsignedinteger, ushort, void, flatiter, broadcast,
        busdaycalendar, errstate, finfo, iinfo, memmap, ndenumerate, ndindex, nditer, poly1d, recarray, record,
        ufunc, matrix, printoptions, promote_types, issubdtype, isdtype, mintypecode, typename, broadcast_shapes,
        seterr, geterr, seterrcall, geterrcall, setbufsize, getbufsize, set_printoptions, get_printoptions,
        format_float_positional, format_float_scientific, base_repr, binary_repr, load, save, savez,
        savez_compressed, loadtxt, savetxt, genfromtxt, fromfile, frombuffer, fromiter, fromregex, fromstring,
        from_dlpack, busday_count, busday_offset, is_busday, datetime_as_string, datetime_data, get_include,
        show_config, show_runtime, info, test, may_share_memory, shares_memory, isfortran, iterable, nested_iters,
        frompyfunc, einsum_path, asmatrix, bmat, packbits, unpackbits, bartlett, blackman, hamming, hanning,
        array_equal, array_equiv, array2string, array_repr, array_str,
    )
    # isort: on

    __all__ = [
        "bool", "bool_", "byte", "bytes_", "cdouble", "character", "clongdouble", "complex64", "complex128",
        "complex256", "complexfloating", "csingle", "datetime64", "double", "dtype", "flexible", "float16",
        "float32", "float64", "float128", "floating", "generic", "half", "inexact", "int8", "int16", "int32",
        "int64", "int_", "intc", "integer", "intp", "long", "longdouble", "longlong", "ndarray", "number",
        "object_", "short", "signedinteger", "single", "str_", "timedelta64", "ubyte", "uint", "uint8", "uint16",
        "uint32", "uint64", "uintc", "uintp", "ulong", "ulonglong", "unsignedinteger", "ushort", "void",
        "flatiter", "broadcast", "busdaycalendar", "errstate", "finfo", "iinfo", "memmap", "ndenumerate",
        "ndindex", "nditer", "poly1d", "recarray", "record", "ufunc", "matrix", "printoptions", "promote_types",
        "issubdtype", "isdtype", "mintypecode", "typename", "broadcast_shapes", "seterr", "geterr", "seterrcall",
        "geterrcall", "setbufsize", "getbufsize", "set_printoptions", "get_printoptions",
        "format_float_positional", "format_float_scientific", "base_repr", "binary_repr", "load", "save", "savez",
        "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile", "frombuffer", "fromiter", "fromregex",
        "fromstring", "from_dlpack", "busday_count", "busday_offset", "is_busday", "datetime_as_string",
        "datetime_data", "get_include", "show_config", "show_runtime", "info", "test", "may_share_memory",
        "shares_memory", "isfortran", "iterable", "nested_iters", "frompyfunc", "einsum_path", "asmatrix", "bmat",
        "packbits", "unpackbits", "bartlett", "blackman", "hamming", "hanning", "result_type", "can_cast",
        "min_scalar_type", "common_type", "isscalar", "array_equal", "array_equiv", "array2string", "array_repr",
        "array_str",
    ]

__all__ = PASSTHROUGH + ["result_type", "can_cast", "min_scalar_type", "common_type", "isscalar"] + _ON_VALUES
