"""``funcgrad.compat.autograd.tracer``: the names of autograd's tracer module that user code
imports (``getval``, ``isbox``, ``Box``, ``primitive``, ``notrace_primitive``).

>>> getval(3.0)
3.0
"""

from __future__ import annotations

from typing import Any

from ...core import Tracer
from .extend import Box, getval, notrace_primitive, primitive

__all__ = ["Box", "getval", "isbox", "notrace_primitive", "primitive"]


def isbox(x: Any) -> bool:
    """Whether ``x`` is a traced value (what autograd calls a box)."""
    return isinstance(x, Tracer)
