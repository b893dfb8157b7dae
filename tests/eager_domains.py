"""Operands inside each primitive's domain, as functions of a random base array (shared by the
tests of the eager rules: tests/test_eager_fast_paths.py and tests/test_eager_jvp.py)."""

import numpy as np

DOMAIN = {
    "arcsin": lambda u: 0.9 * np.tanh(u),
    "arccos": lambda u: 0.9 * np.tanh(u),
    "arccosh": lambda u: 1.5 + u * u,
    "tan": lambda u: 0.5 * np.tanh(u),
    "true_divide": lambda u: u + np.where(u >= 0, 0.5, -0.5),  # a divisor away from zero
}


def operands(prim, u):
    """Operands for ``prim`` made from the random array ``u``: ``[x]`` for one operand, the
    condition and both branches for ``where``, ``x`` and its reverse for maximum/minimum (ties
    in the middle)."""
    x = DOMAIN.get(prim.name, lambda v: v)(u)
    if prim.name == "where":
        return [u.real > 0, x, (x * 0.5).astype(u.dtype)]
    if prim.name in ("maximum", "minimum"):
        y = x[::-1].copy() if x.ndim else x
        return [x, y]
    return [x]
