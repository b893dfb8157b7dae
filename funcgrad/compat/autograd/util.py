"""``funcgrad.compat.autograd.util``: autograd's small helpers (``subvals``, ``func``,
``toposort`` is not provided: funcgrad has no graph of boxes).

>>> subvals((1, 2, 3), [(0, 9)])
(9, 2, 3)
"""

from __future__ import annotations

from typing import Any, Callable

from .extend import subval
from .wrap_util import subvals

__all__ = ["subvals", "subval", "func"]


def func(f: Any) -> Callable[..., Any]:
    """The function behind a method or a callable object."""
    return getattr(f, "__func__", f)
