"""Policies for :func:`funcgrad.checkpoint`: which intermediate values reverse mode may keep from
the forward pass (the rest is recomputed in the backward pass).

A policy is ``policy(prim, *avals, **params) -> bool``, called for each operation of the
checkpointed function with the primitive, the abstract values (shape, dtype) of its operands
and its parameters; ``True`` means "save this result". Values are named for the name-based
policies with :func:`funcgrad.checkpoint_name`.

>>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
>>> f = fg.checkpoint(lambda w, x: fnp.sum(fnp.tanh(w @ x)), policy=fg.checkpoint_policies.dots_saveable)
>>> fg.grad(f)(np.eye(2), np.ones(2)).shape
(2, 2)
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["everything_saveable", "nothing_saveable", "dots_saveable", "checkpoint_dots",
           "dots_with_no_batch_dims_saveable", "save_anything_except_these_names", "save_only_these_names"]

Policy = Callable[..., bool]

# Contractions: the operations worth keeping (expensive to recompute, cheap to store).
_DOTS = frozenset({"matmul", "dot", "tensordot", "einsum", "dot_general", "vdot", "inner"})


def everything_saveable(prim: Any, *avals: Any, **params: Any) -> bool:
    """Save every intermediate: no recomputation (the same as no checkpoint)."""
    return True


def nothing_saveable(prim: Any, *avals: Any, **params: Any) -> bool:
    """Save nothing but the inputs: recompute everything (the default of ``checkpoint``)."""
    return False


def dots_saveable(prim: Any, *avals: Any, **params: Any) -> bool:
    """Save the results of contractions (``matmul``, ``dot``, ``einsum``, ...), recompute the rest."""
    return prim.name in _DOTS


checkpoint_dots = dots_saveable


def dots_with_no_batch_dims_saveable(prim: Any, *avals: Any, **params: Any) -> bool:
    """Save contractions whose operands are at most matrices (no batch dimensions)."""
    return prim.name in _DOTS and all(len(getattr(a, "shape", ())) <= 2 for a in avals)


def save_anything_except_these_names(*names: str) -> Policy:
    """Save every intermediate except the values named (``checkpoint_name``) in ``names``."""
    excluded = frozenset(names)

    def policy(prim: Any, *avals: Any, **params: Any) -> bool:
        return not (prim.name == "name" and params.get("name") in excluded)

    return policy


def save_only_these_names(*names: str) -> Policy:
    """Save only the values named (``checkpoint_name``) in ``names``; recompute the rest."""
    kept = frozenset(names)

    def policy(prim: Any, *avals: Any, **params: Any) -> bool:
        return prim.name == "name" and params.get("name") in kept

    return policy
