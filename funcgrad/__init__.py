"""funcgrad: functional automatic differentiation for NumPy code.

``out, pullback = vjp(f, x)`` evaluates ``f`` and returns ``pullback``, which maps a cotangent
``v`` to vᵀ·J — what PyTorch's ``y.backward(v)`` computes. ``grad(f)`` is the pullback seeded
with 1.0. Every transformation takes and returns plain functions, so they compose.

>>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
>>> fg.grad(lambda x: fnp.sum(x ** 2))(np.array([1.0, 2.0]))
array([2., 4.])
"""

import typing as _typing

from . import (
    numpy,  # noqa: F401  (installs operators on tracers)
    tree_util,  # noqa: F401
)
from .api import elementwise_grad, grad, jvp, value_and_grad, vjp
from .errors import (
    ArgnumsError,
    BatchAxisError,
    BatchedConcretizationError,
    ConcretizationError,
    ControlFlowTypeError,
    CotangentMismatchError,
    CustomRuleError,
    FuncgradError,
    HasAuxError,
    IndexingError,
    IntegerInputError,
    InvalidLeafError,
    LeakedTracerError,
    NonScalarOutputError,
    StaticArgumentError,
    TangentMismatchError,
    TracerAssignmentError,
    TracerConversionError,
    TreeMismatchError,
    UnsupportedNumpyFunctionError,
)
from .jacobians import hessian, jacfwd, jacrev, linearize
from .jit import ShapeDtypeStruct, eval_shape, jit, make_trace
from .prims.shape import stop_gradient as _stop_gradient
from .vmap import vmap

__version__ = "0.1.0"

_T = _typing.TypeVar("_T")


def stop_gradient(x: _T) -> _T:
    """Return ``x`` unchanged, with no derivative flowing through it, in every mode.

    >>> import numpy as np, funcgrad as fg
    >>> fg.grad(lambda x: x * fg.stop_gradient(x))(np.array(3.0))
    array(3.)
    """
    from .tree_util import tree_map

    return tree_map(_stop_gradient, x)


# Loaded on first use, so `import funcgrad` stays light (`funcgrad.lax`, `funcgrad.nn`, `funcgrad.device_put`, ...).
_LAZY_SUBMODULES = frozenset({"lax", "scipy", "checkpoint_policies", "nn", "example_libraries", "compat", "config",
                              "random", "optimizers", "flatten_util", "tree", "ops", "debug", "image"})
_CUSTOM_NAMES = ("custom_vjp", "custom_jvp", "custom_vmap", "custom_gradient", "checkpoint", "remat",
                 "checkpoint_name", "closure_convert", "linear_transpose", "SymbolicZero", "CustomVJPPrimal")
_LAZY_NAMES = {
    **{name: ("custom", name) for name in _CUSTOM_NAMES},  # custom derivative rules: funcgrad/custom.py
    "disable_jit": ("config", "disable_jit"),
    "device_put": ("_devices", "device_put"),
    "device_get": ("_devices", "device_get"),
    "devices": ("_devices", "devices"),
    "local_devices": ("_devices", "local_devices"),
    "device_count": ("_devices", "device_count"),
    "local_device_count": ("_devices", "local_device_count"),
    "default_backend": ("_devices", "default_backend"),
    "block_until_ready": ("_devices", "block_until_ready"),
    "process_index": ("_devices", "process_index"),
    "process_count": ("_devices", "process_count"),
    "Device": ("_devices", "Device"),
    "jacobian": ("jacobians", "jacrev"),
    "Array": ("_jax_api", "Array"),
    "make_jaxpr": ("_jax_api", "make_jaxpr"),
    "named_call": ("_jax_api", "named_call"),
    "named_scope": ("_jax_api", "named_scope"),
    "enable_x64": ("_jax_api", "enable_x64"),
    "pure_callback": ("_jax_api", "pure_callback"),
}

if _typing.TYPE_CHECKING:  # the lazy names above, visible to type checkers (tests/test_typing.py checks both agree)
    # isort: off
    from . import (
        checkpoint_policies as checkpoint_policies,
        compat as compat,
        config as config,
        debug as debug,
        example_libraries as example_libraries,
        flatten_util as flatten_util,
        image as image,
        lax as lax,
        nn as nn,
        ops as ops,
        optimizers as optimizers,
        random as random,
        scipy as scipy,
        tree as tree,
    )
    from ._devices import (
        Device as Device,
        block_until_ready as block_until_ready,
        default_backend as default_backend,
        device_count as device_count,
        device_get as device_get,
        device_put as device_put,
        devices as devices,
        local_device_count as local_device_count,
        local_devices as local_devices,
        process_count as process_count,
        process_index as process_index,
    )
    from ._jax_api import (
        Array as Array,
        enable_x64 as enable_x64,
        make_jaxpr as make_jaxpr,
        named_call as named_call,
        named_scope as named_scope,
        pure_callback as pure_callback,
    )
    from .config import disable_jit as disable_jit
    from .custom import (
        CustomVJPPrimal as CustomVJPPrimal,
        SymbolicZero as SymbolicZero,
        checkpoint as checkpoint,
        checkpoint_name as checkpoint_name,
        closure_convert as closure_convert,
        custom_gradient as custom_gradient,
        custom_jvp as custom_jvp,
        custom_vjp as custom_vjp,
        custom_vmap as custom_vmap,
        linear_transpose as linear_transpose,
        remat as remat,
    )
    from .jacobians import jacrev as jacobian  # noqa: F401
    # isort: on


if not _typing.TYPE_CHECKING:  # type checkers see the lazy names declared above, and an unknown name stays an error

    def __getattr__(name: str):  # type: ignore[no-untyped-def]
        """Submodules and JAX-named helpers imported on first use (``funcgrad.nn``, ``funcgrad.device_put``)."""
        import importlib

        if name in _LAZY_SUBMODULES:
            return importlib.import_module(f"{__name__}.{name}")
        if name in _LAZY_NAMES:
            module, attr = _LAZY_NAMES[name]
            return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(globals()) | _LAZY_SUBMODULES | set(_LAZY_NAMES))


__all__ = [
    "vjp", "grad", "value_and_grad", "elementwise_grad", "jvp", "stop_gradient", "numpy", "tree_util",
    "scipy", "vmap", "jacfwd", "jacrev", "hessian", "linearize", "custom_vjp", "custom_jvp", "checkpoint",
    "checkpoint_name", "checkpoint_policies", "custom_vmap", "custom_gradient", "linear_transpose",
    "closure_convert", "eval_shape", "ShapeDtypeStruct", "SymbolicZero", "CustomVJPPrimal",
    "remat", "jit", "make_trace", "lax", "ConcretizationError", "StaticArgumentError", "ControlFlowTypeError",
    "FuncgradError", "ArgnumsError", "CotangentMismatchError", "HasAuxError", "IndexingError",
    "IntegerInputError", "InvalidLeafError", "LeakedTracerError", "NonScalarOutputError",
    "TangentMismatchError", "TracerAssignmentError", "TracerConversionError", "TreeMismatchError",
    "UnsupportedNumpyFunctionError", "BatchAxisError", "BatchedConcretizationError", "CustomRuleError",
]
