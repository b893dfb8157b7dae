"""Reusing the traced body of a loop across calls: a cache key for a Python function.

``lax.scan`` called under ``grad`` (no ``jit``) traces its body on every call, and every program
derived from it (forward with residuals, backward, compiled code) hangs off the traced program.
The body is usually a closure made anew on each call (``def step(h, x)`` inside the loss), so
the function object cannot be the key. :func:`lift` makes a key from what determines the trace:

* the code objects, and the values of closure cells and defaults that are plain constants
  (numbers, strings, None; modules, classes and builtins by identity);
* arrays and traced values in closure cells (also inside tuples, lists, dicts and nested
  closures) are *lifted*: they become inputs of the traced program, keyed only by shape and
  dtype, and their current values are passed on every call. So a closure over a changed array
  gives the new result, and a closure over a traced value stays differentiable.

Anything else (an object with attributes, a global array the code reads, ...) makes the function
uncacheable (:func:`lift` returns None) and the body is traced again, as before.
"""

from __future__ import annotations

import threading
import types
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from .core import Tracer

_CONSTANTS = (int, float, complex, bool, str, bytes, type(None), np.dtype)
_BY_IDENTITY = (types.ModuleType, type, types.BuiltinFunctionType, np.ufunc)
_MAX_DEPTH = 4


class _Uncacheable(Exception):
    pass


def _is_array(v: Any) -> bool:
    return isinstance(v, (np.ndarray, np.generic, Tracer)) or (not isinstance(v, type) and (
        hasattr(v, "shape") and hasattr(v, "dtype") and hasattr(v, "__array_function__")))


def _globals_ok(code: types.CodeType, glob: dict, depth: int, seen: set) -> None:
    """Raise _Uncacheable if ``code`` (or a function it calls by a global name) reads a global
    array or a global container holding one: its value would be baked into the trace."""
    if id(code) in seen:
        return
    seen.add(id(code))
    for name in code.co_names:
        v = glob.get(name)
        if v is None:
            continue
        if _is_array(v) or (isinstance(v, (tuple, list, dict)) and _holds_array(v)):
            raise _Uncacheable
        if isinstance(v, types.FunctionType) and depth < _MAX_DEPTH:
            _globals_ok(v.__code__, v.__globals__, depth + 1, seen)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _globals_ok(c, glob, depth, seen)


def _holds_array(v: Any) -> bool:
    items = v.values() if isinstance(v, dict) else v
    return any(_is_array(x) or (isinstance(x, (tuple, list, dict)) and _holds_array(x)) for x in items)


class _Lifter:
    def __init__(self) -> None:
        self.leaves: list = []  # the lifted values, in order
        self.keep: list = []  # objects keyed by identity (kept alive with the cache entry)

    def value(self, v: Any, depth: int) -> tuple[Any, Callable[[list], Any]]:
        """(key of ``v``, rebuild(placeholders) -> ``v`` with its lifted leaves replaced)."""
        if _is_array(v):
            i = len(self.leaves)
            self.leaves.append(v)
            return ("in", tuple(v.shape), np.dtype(v.dtype)), lambda p: p[i]
        if isinstance(v, _CONSTANTS):
            return (type(v), v), lambda p: v
        if isinstance(v, _BY_IDENTITY):
            self.keep.append(v)
            return ("id", id(v)), lambda p: v
        if depth >= _MAX_DEPTH:
            raise _Uncacheable
        if isinstance(v, types.FunctionType):
            return self.function(v, depth + 1)
        start = len(self.leaves)  # a container without lifted values is passed as it is
        if type(v) in (tuple, list):
            parts = [self.value(x, depth + 1) for x in v]
            kind = type(v)
            key = (kind, tuple(k for k, _ in parts))
            return key, (lambda p: v) if len(self.leaves) == start else (lambda p: kind(r(p) for _, r in parts))
        if type(v) is dict:
            items = [(k, self.value(x, depth + 1)) for k, x in v.items()]
            if not all(isinstance(k, _CONSTANTS) for k, _ in items):
                raise _Uncacheable
            key = (dict, tuple((k, kr[0]) for k, kr in items))
            return key, (lambda p: v) if len(self.leaves) == start else (lambda p: {k: kr[1](p) for k, kr in items})
        raise _Uncacheable

    def function(self, f: types.FunctionType, depth: int) -> tuple[Any, Callable[[list], Any]]:
        _globals_ok(f.__code__, f.__globals__, 0, set())
        start = len(self.leaves)
        cells = [self.value(c.cell_contents, depth) for c in (f.__closure__ or ())]
        defaults = [self.value(d, depth) for d in (f.__defaults__ or ())]
        if f.__kwdefaults__:
            raise _Uncacheable
        self.keep.append(f.__globals__)
        key = (f.__code__, id(f.__globals__), tuple(k for k, _ in cells), tuple(k for k, _ in defaults))
        if len(self.leaves) == start:  # nothing lifted: f itself will do
            return key, lambda p: f

        def rebuild(p: list) -> Any:
            closure = tuple(types.CellType(r(p)) for _, r in cells) if f.__closure__ else None
            argdefs = tuple(r(p) for _, r in defaults) if f.__defaults__ else None
            g = types.FunctionType(f.__code__, f.__globals__, f.__name__, argdefs, closure)
            g.__dict__.update(f.__dict__)
            return g

        return key, rebuild


def lift(f: Any) -> tuple[Any, list, Callable[[list], Any], list] | None:
    """``(key, lifted values, rebuild, kept objects)`` for function ``f``, or None when ``f``
    cannot be cached safely. ``rebuild(values)`` is ``f`` with the lifted values replaced."""
    if not isinstance(f, types.FunctionType):
        return None
    lifter = _Lifter()
    try:
        key, rebuild = lifter.function(f, 0)
    except (_Uncacheable, ValueError):  # ValueError: an empty closure cell
        return None
    return key, lifter.leaves, rebuild, lifter.keep


class BoundedCache:
    """A small least-recently-used dict, safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            found = self.data.get(key)
            if found is not None:
                self.data.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)
