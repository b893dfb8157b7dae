"""``funcgrad.numpy``'s numeric scalar types: NumPy's, whose call also casts traced values.

``fnp.float32(x)`` on a traced value (under ``grad``, ``jit``, ``vmap``...) casts it, as
``jnp.float32(x)`` does in JAX: the result is an array of that dtype with ``x``'s shape (0-d for a
scalar), differentiable for floating and complex dtypes (an integer or boolean cast has no
derivative, like ``x.astype(int)``). On concrete input the call is NumPy's own: ``fnp.float32(2.0)``
is ``np.float32(2.0)``, a NumPy scalar (JAX gives a 0-d array there; funcgrad returns what NumPy
does, so NumPy code keeps its values and types). An array of another library (Dask, CuPy) is cast
in that library (``x.astype``).

Everything else NumPy does with the type keeps working: each type is a subclass of NumPy's (so
``issubclass(fnp.float32, np.floating)``), has a ``dtype`` attribute as in JAX, equals and hashes
as NumPy's type, and accepts NumPy's instances (``isinstance(np.float32(1), fnp.float32)``). So
``np.zeros(3, dtype=fnp.float32)``, ``a.astype(fnp.float32)``, ``np.dtype(fnp.float32)``,
``fnp.issubdtype(a.dtype, fnp.floating)`` and ``fnp.finfo(fnp.float32)`` behave as with
``np.float32``. Values made by the call are NumPy's own instances, never of these subclasses.
The abstract types (``fnp.floating``, ``fnp.integer``, ``fnp.number``...) are NumPy's, as in JAX.

>>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
>>> fg.grad(lambda x: fnp.float32(x) * 3)(np.float32(2.0))
array(3., dtype=float32)
>>> fnp.float32(2.0), np.zeros(2, fnp.float32).dtype, fnp.float32 == np.float32
(np.float32(2.0), dtype('float32'), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_foreign_array
from ._util import contains_tracer

# The numeric and boolean scalar type names funcgrad.numpy exports; aliases (``double``,
# ``single``, ``int_``...) name the same object, as in NumPy.
SCALAR_TYPE_NAMES = [n for n in """
bool bool_ byte cdouble clongdouble complex64 complex128 complex256 csingle double float16 float32 float64 float128
half int8 int16 int32 int64 int_ intc intp long longdouble longlong short single ubyte uint uint8 uint16 uint32
uint64 uintc uintp ulong ulonglong ushort
""".split() if hasattr(np, n)]


class ScalarType(type):
    """The metaclass of funcgrad.numpy's scalar types (see the module docstring)."""

    dtype: np.dtype
    _numpy_type: type

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs:
            x = args[0]
            if contains_tracer(x):
                from .creation import asarray

                return asarray(x, dtype=cls.dtype)
            if is_foreign_array(x):
                return x.astype(cls.dtype)
        return cls._numpy_type(*args, **kwargs)

    # Equal to (and hashing as) NumPy's type: dict lookups and `==` tests in NumPy code keep working.
    def __eq__(cls, other: object) -> bool:
        return bool(cls._numpy_type == other)

    def __ne__(cls, other: object) -> bool:
        return not bool(cls._numpy_type == other)

    def __hash__(cls) -> int:
        return hash(cls._numpy_type)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls._numpy_type)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls._numpy_type)


def _make(numpy_type: type, name: str) -> ScalarType:
    doc = (f"NumPy's ``{name}``; calling it on a traced value casts it (an array of dtype {name}, "
           f"differentiable for float and complex dtypes), as ``jax.numpy.{name}``.")
    return ScalarType(name, (numpy_type,), {"dtype": np.dtype(numpy_type), "_numpy_type": numpy_type,
                                            "__module__": "funcgrad.numpy", "__qualname__": name, "__doc__": doc})


def _build() -> dict[str, ScalarType]:
    made: dict[type, ScalarType] = {}
    names: dict[str, ScalarType] = {}
    for name in SCALAR_TYPE_NAMES:
        numpy_type = getattr(np, name)
        if numpy_type not in made:
            # The class is named by NumPy's canonical name where funcgrad.numpy exports it (pickling finds it there).
            canonical = numpy_type.__name__ if numpy_type.__name__ in SCALAR_TYPE_NAMES else name
            made[numpy_type] = _make(numpy_type, canonical)
        names[name] = made[numpy_type]
    return names


SCALAR_TYPES = _build()
