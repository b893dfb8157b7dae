"""``funcgrad.debug``: ``jax.debug.print`` for eager code and code under ``grad``/``jvp`` (where
values are concrete). Under ``jit`` or ``vmap`` values are abstract or batched: run the function
under :func:`funcgrad.disable_jit` to print from inside ``jit``.

>>> import numpy as np, funcgrad as fg
>>> _ = fg.grad(lambda x: (fg.debug.print("x = {}", x), x ** 2)[1])(3.0)
x = 3.0
"""

from __future__ import annotations

import builtins
from typing import Any

from .core import Tracer, ValuelessTracer
from .tree_util import tree_map

__all__ = ["print"]


def _concrete(x: Any) -> Any:
    if isinstance(x, ValuelessTracer):
        raise TypeError(
            "funcgrad.debug.print got a value traced by jit or vmap, which has no single concrete value while "
            "tracing. Run the function under `with funcgrad.disable_jit():` to print from inside jit, or print "
            "outside vmap.")
    return x.concrete_value() if isinstance(x, Tracer) else x


def print(fmt: str, *args: Any, ordered: bool = False, **kwargs: Any) -> None:  # noqa: A001
    """Print ``fmt.format(*args, **kwargs)`` with the values beneath any grad/jvp tracing."""
    args, kwargs = tree_map(_concrete, (args, kwargs))
    builtins.print(fmt.format(*args, **kwargs))
