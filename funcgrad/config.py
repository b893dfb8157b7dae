"""``funcgrad.config``: JAX's configuration entry point, for code moved from JAX.

``funcgrad.config.update(name, value)`` accepts the flags that change something here or that
JAX programs commonly set, and rejects every other name with an error that lists the accepted
ones. Values are read back as attributes (``funcgrad.config.jax_enable_x64``) or with
``read(name)``.

* ``jax_enable_x64``: funcgrad always follows NumPy's dtypes (float64 by default, float32 stays
  float32), which is JAX's behaviour with this flag on. ``True`` is accepted as is; ``False`` is
  accepted with a warning that funcgrad's defaults stay 64-bit (pass ``dtype=np.float32``).
* ``jax_disable_jit``: ``True`` makes every ``jit`` run its function eagerly, everywhere (see
  :func:`disable_jit` for a scoped version).
* ``jax_platform_name`` / ``jax_platforms``: ``"cpu"`` (funcgrad computes with NumPy on the host).
* ``jax_default_matmul_precision``: accepted; NumPy always multiplies in full precision.
* ``jax_numpy_rank_promotion``: ``"allow"`` (NumPy's broadcasting); ``"warn"``/``"raise"`` are rejected.

>>> from funcgrad import config
>>> config.update("jax_enable_x64", True)
>>> config.jax_enable_x64
True
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Any, Iterator

__all__ = ["update", "read", "disable_jit", "jit_disabled", "values"]

values: dict[str, Any] = {
    "jax_enable_x64": True,
    "jax_disable_jit": False,
    "jax_platform_name": "cpu",
    "jax_platforms": "cpu",
    "jax_default_matmul_precision": None,
    "jax_numpy_rank_promotion": "allow",
}


class _Local(threading.local):
    depth = 0  # a class default: reading it in a thread that never set it raises nothing


_local = _Local()
# disable_jit contexts open in any thread: jit reads this count on every call, and the calling
# thread's own depth only when it is not 0.
open_disables = [0]
_open_lock = threading.Lock()


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"config.update({name!r}, ...) expects True or False, got {value!r}.")
    return value


def update(name: str, value: Any) -> None:
    """Set configuration flag ``name`` to ``value`` (see the module docstring for the flags).

    >>> update("jax_platform_name", "cpu")
    """
    if name not in values:
        known = ", ".join(sorted(values))
        raise ValueError(
            f"funcgrad.config has no flag {name!r}. Accepted flags: {known}. Other JAX flags (debug_nans, "
            "caching, sharding, compilation options) have no funcgrad counterpart: remove the call.")
    if name == "jax_enable_x64":
        if not _check_bool(name, value):
            warnings.warn(
                "funcgrad follows NumPy's dtypes whatever jax_enable_x64 says: defaults stay float64 and "
                "float32 inputs stay float32. For JAX's 32-bit defaults pass dtype=np.float32 explicitly.",
                UserWarning, stacklevel=2)
    elif name == "jax_disable_jit":
        _check_bool(name, value)
    elif name in ("jax_platform_name", "jax_platforms"):
        if value not in ("cpu", "", None):
            raise ValueError(
                f"config.update({name!r}, {value!r}): funcgrad computes on the host with NumPy (platform "
                "'cpu'). For GPUs pass CuPy arrays, for clusters Dask arrays: funcgrad follows the array's library.")
    elif name == "jax_numpy_rank_promotion":
        if value != "allow":
            raise ValueError(
                f"config.update({name!r}, {value!r}): funcgrad broadcasts as NumPy does ('allow'); "
                "'warn' and 'raise' are not supported.")
    values[name] = value


def read(name: str) -> Any:
    """The value of flag ``name``."""
    if name not in values:
        raise ValueError(f"funcgrad.config has no flag {name!r}. Accepted flags: {', '.join(sorted(values))}.")
    return values[name]


def jit_disabled() -> bool:
    """Whether ``jit`` should run functions eagerly now (``jax_disable_jit`` or inside :func:`disable_jit`)."""
    return values["jax_disable_jit"] or _local.depth > 0  # checked on every jitted call: keep it cheap


@contextlib.contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """A context manager under which every ``jit``-compiled function runs its Python function
    eagerly (in this thread), so ``print`` shows values and ``pdb`` can step through it.

    >>> import numpy as np, funcgrad as fg
    >>> @fg.jit
    ... def f(x):
    ...     print("running on", type(x).__name__)
    ...     return x * 2
    >>> with disable_jit():
    ...     _ = f(np.ones(2))
    running on ndarray
    """
    if not disable:
        yield
        return
    with _open_lock:
        open_disables[0] += 1
    _local.depth += 1
    try:
        yield
    finally:
        _local.depth -= 1
        with _open_lock:
            open_disables[0] -= 1


def __getattr__(name: str) -> Any:
    """Flag values as attributes: ``config.jax_enable_x64``."""
    if name in values:
        return values[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
