"""``funcgrad.compat.autograd.test_util``: autograd's numerical derivative checks.

``check_grads(fun, argnum=0, modes=["fwd", "rev"], order=2)(*args)`` compares forward and reverse
mode against central finite differences (funcgrad's :func:`funcgrad.test_util.check_grads`) and
raises ``AssertionError`` on a mismatch.

>>> import numpy as np, funcgrad.compat.autograd.numpy as anp
>>> check_grads(anp.sin, modes=["rev"])(np.array([0.5, 1.0]))
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ...test_util import check_grads as _check_grads
from .differential_operators import _nary

__all__ = ["check_grads", "check_vjp", "check_jvp"]


def _modes(modes: Sequence[str]) -> tuple[str, ...]:
    modes = tuple(modes)
    bad = [m for m in modes if m not in ("fwd", "rev")]
    if bad or not modes:
        raise ValueError(f"modes must be a non-empty list of 'fwd' and 'rev', got {list(modes)!r}.")
    return modes


@_nary
def check_grads(fun: Callable[[Any], Any], x: Any, modes: Sequence[str] = ("fwd", "rev"), order: int = 2) -> None:
    """Check ``fun``'s derivatives with respect to argument ``argnum`` up to ``order``."""
    _check_grads(fun, (x,), order=order, modes=_modes(modes))


def check_vjp(f: Callable[[Any], Any], x: Any) -> None:
    """Check the reverse mode (first order) of one-argument ``f`` at ``x``."""
    _check_grads(f, (x,), order=1, modes=("rev",))


def check_jvp(f: Callable[[Any], Any], x: Any) -> None:
    """Check the forward mode (first order) of one-argument ``f`` at ``x``."""
    _check_grads(f, (x,), order=1, modes=("fwd",))
