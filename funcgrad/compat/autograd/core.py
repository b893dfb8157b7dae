"""``funcgrad.compat.autograd.core``: the names of autograd's core module that user code
imports: one-argument ``make_vjp``/``make_jvp``, the extension API, ``getval``, ``isbox`` and ``subval``.

>>> import numpy as np
>>> vjp, ans = make_vjp(lambda x: x * 2.0, np.array(1.0))
>>> vjp(np.array(1.0))
array(2.)
"""

from __future__ import annotations

from typing import Any, Callable

from .differential_operators import _make_vjp
from .differential_operators import make_jvp as _make_jvp_nary
from .extend import (  # noqa: F401
    Box,
    SparseObject,
    VSpace,
    def_linear,
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    getval,
    primitive,
    subval,
    vspace,
)
from .tracer import isbox  # noqa: F401

__all__ = ["make_vjp", "make_jvp", "SparseObject", "VSpace", "vspace", "def_linear", "defjvp", "defjvp_argnum",
           "defjvp_argnums", "defvjp", "defvjp_argnum", "defvjp_argnums", "primitive", "Box", "getval", "isbox",
           "subval"]


def make_vjp(fun: Callable[[Any], Any], x: Any) -> tuple[Callable[[Any], Any], Any]:
    """``(vjp, ans)`` of a one-argument ``fun`` at ``x``."""
    return _make_vjp(fun, x)


def make_jvp(fun: Callable[[Any], Any], x: Any) -> Callable[[Any], tuple[Any, Any]]:
    """The forward-mode ``jvp(v) -> (ans, J·v)`` of a one-argument ``fun`` at ``x``."""
    return _make_jvp_nary(fun)(x)
