"""A CPU stand-in for CuPy's rules, so that a CuPy bug cannot hide behind a missing GPU.

``StrictArray`` wraps a NumPy array and implements NumPy's dispatch protocols the way CuPy does:
NumPy functions and ufuncs on it run (on the wrapped data) and return ``StrictArray`` results,
but

* converting it to a NumPy array (``np.asarray``, ``np.array``, ``__array__``) raises
  :class:`ForbiddenConversion`, as CuPy's implicit conversion raises ``TypeError``;
* mixing it with a NumPy array in one operation raises :class:`ForbiddenMixing`, as CuPy does
  (Python and NumPy scalars are fine; ``np.asarray(numpy_array, like=strict)`` moves a NumPy
  array into the library explicitly, as ``cupy.asarray`` does).

So funcgrad code that calls ``np.asarray`` on an input, or creates arrays without
``like=``/``*_like`` beside one, fails here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class ForbiddenConversion(TypeError):
    pass


class ForbiddenMixing(TypeError):
    pass


# Functions that may take NumPy arrays beside ``like=``: they move data into the library.
_MOVE_IN = {np.asarray, np.array, np.asanyarray, np.ascontiguousarray}


class StrictArray(NDArrayOperatorsMixin):
    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        if isinstance(data, StrictArray):
            data = data.data
        self.data = np.asarray(data)

    # --- what NumPy and funcgrad read -------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    T = property(lambda self: StrictArray(self.data.T))
    real = property(lambda self: StrictArray(self.data.real))
    imag = property(lambda self: StrictArray(self.data.imag))

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"StrictArray({self.data!r})"

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise ForbiddenConversion("implicit conversion of a StrictArray to a NumPy array (np.asarray/np.array)")

    # Concrete values for Python control flow are allowed, as in CuPy (it synchronises).
    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __index__(self) -> int:
        return self.data.__index__()

    def item(self, *args: Any) -> Any:
        return self.data.item(*args)

    def get(self) -> np.ndarray:
        """The NumPy copy (CuPy's ``.get()``): the one sanctioned way out."""
        return self.data.copy()

    # --- methods, run on the data -------------------------------------------------------------
    def _method(name: str):  # noqa: N805 - a factory evaluated in the class body
        def method(self: StrictArray, *args: Any, **kwargs: Any) -> Any:
            return _wrap(getattr(self.data, name)(*_unwrap(args, name), **_unwrap(kwargs, name)))

        method.__name__ = name
        return method

    for _name in ("reshape", "astype", "copy", "transpose", "sum", "mean", "max", "min", "prod", "ravel",
                  "conj", "conjugate", "swapaxes", "squeeze", "dot", "any", "all", "argmax", "argmin",
                  "cumsum", "flatten", "__getitem__"):
        locals()[_name] = _method(_name)
    del _name

    def __setitem__(self, index: Any, value: Any) -> None:
        self.data[_unwrap(index, "__setitem__")] = _unwrap(value, "__setitem__")

    # --- dispatch -----------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        for x in inputs:
            if not isinstance(x, (StrictArray, np.ndarray, np.generic, int, float, complex, bool)):
                return NotImplemented  # a funcgrad tracer (or another type) handles it
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o, ufunc.__name__) for o in out)
        result = getattr(ufunc, method)(*_unwrap(inputs, ufunc.__name__), **kwargs)
        if method == "at":
            return None
        return _wrap(result)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        if not all(issubclass(t, (StrictArray, np.ndarray)) for t in types):
            return NotImplemented
        name = getattr(func, "__name__", str(func))
        if func in _MOVE_IN:  # an explicit move into the library (``like=``): NumPy data allowed
            return StrictArray(func(*_unwrap(args, name, allow_numpy=True), **_unwrap(kwargs, name,
                                                                                        allow_numpy=True)))
        return _wrap(func(*_unwrap(args, name), **_unwrap(kwargs, name)))


def _unwrap(x: Any, where: str, allow_numpy: bool = False) -> Any:
    if isinstance(x, StrictArray):
        return x.data
    if type(x) is np.ndarray and not allow_numpy:
        raise ForbiddenMixing(f"{where} got a NumPy array of shape {x.shape} beside a StrictArray")
    if isinstance(x, tuple):
        return tuple(_unwrap(v, where, allow_numpy) for v in x)
    if isinstance(x, list):
        return [_unwrap(v, where, allow_numpy) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap(v, where, allow_numpy) for k, v in x.items()}
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return StrictArray(x)
    if isinstance(x, np.generic) and not isinstance(x, np.dtype):  # CuPy returns 0-d arrays
        return StrictArray(np.asarray(x))
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, tuple):  # a named tuple (slogdet, eigh results)
        return type(x)(*(_wrap(v) for v in x))
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x
