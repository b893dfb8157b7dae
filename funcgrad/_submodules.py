"""Module objects for names that are not files, so they import by their dotted path.

``import funcgrad.scipy.stats.norm as norm`` needs ``funcgrad.scipy.stats.norm`` in
``sys.modules``; :func:`alias_module` puts a real module object there whose attributes are
another object's (a distribution's methods, a module's functions).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _AliasModule(ModuleType):
    """A module whose attributes are read from ``target`` (set at creation, never copied)."""

    def __init__(self, name: str, target: Any, doc: str | None = None) -> None:
        super().__init__(name, doc if doc is not None else getattr(target, "__doc__", None))
        self.__dict__["_target"] = target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(self.__dict__["_target"], name)
        except AttributeError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(self.__dict__["_target"]) if not n.startswith("_")})


def alias_module(name: str, target: Any, doc: str | None = None) -> ModuleType:
    """Register (once) and return a module ``name`` whose attributes are ``target``'s.

    >>> import math
    >>> m = alias_module("funcgrad._example_alias", math)
    >>> m.sqrt(4.0)
    2.0
    """
    existing = sys.modules.get(name)
    if isinstance(existing, _AliasModule) and existing.__dict__["_target"] is target:
        return existing
    module = _AliasModule(name, target, doc)
    sys.modules[name] = module
    return module
