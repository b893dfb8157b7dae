"""``funcgrad.compat.autograd``: HIPS autograd 1.x's public API on funcgrad's transformations.

Code written for autograd moves by rewriting its imports only: ``autograd`` becomes
``funcgrad.compat.autograd`` (``import autograd.numpy as np`` →
``import funcgrad.compat.autograd.numpy as np``). autograd itself is not needed.

>>> import funcgrad.compat.autograd.numpy as np
>>> from funcgrad.compat.autograd import grad
>>> float(grad(lambda x, y: np.sin(x) * y, argnum=1)(0.5, 2.0))  # d/dy = sin(x)
0.479425538604203

Remaining differences from autograd are listed in the README ("Coming from autograd").
"""

from __future__ import annotations

import importlib
from typing import Any

from .differential_operators import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)

__all__ = [
    "checkpoint", "deriv", "elementwise_grad", "grad", "grad_and_aux", "grad_named", "hessian",
    "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad", "jacobian", "make_ggnvp",
    "make_hvp", "make_jvp", "make_vjp", "multigrad_dict", "tensor_jacobian_product", "value_and_grad",
    "vector_jacobian_product", "primitive", "tuple", "list", "dict", "isinstance", "type",
]

_SUBMODULES = ("numpy", "scipy", "extend", "misc", "test_util", "builtins", "core", "tracer", "util",
               "wrap_util", "differential_operators")
_FROM_EXTEND = ("primitive",)
_FROM_BUILTINS = ("tuple", "list", "dict", "isinstance", "type")


def __getattr__(name: str) -> Any:
    """Submodules and the re-exported ``primitive`` and builtins, imported on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FROM_EXTEND:
        return getattr(importlib.import_module(f"{__name__}.extend"), name)
    if name in _FROM_BUILTINS:
        return getattr(importlib.import_module(f"{__name__}.builtins"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
