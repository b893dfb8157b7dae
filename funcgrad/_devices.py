"""Devices, as JAX names them, with their natural meaning for NumPy arrays (the host CPU) and
following the array's own library for Dask and CuPy arrays.

>>> import numpy as np
>>> devices()
[CpuDevice(id=0)]
>>> device_put({"w": 2.0, "b": np.zeros(2)})  # a pytree: each leaf an array, as in JAX
{'b': array([0., 0.]), 'w': array(2.)}
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Tracer
from .tree_util import tree_map

__all__ = ["Device", "devices", "local_devices", "device_count", "local_device_count", "default_backend",
           "device_put", "device_get", "block_until_ready", "process_index", "process_count"]


class Device:
    """The host CPU, where NumPy computes."""

    platform = "cpu"
    device_kind = "cpu"
    id = 0
    process_index = 0

    def __repr__(self) -> str:
        return "CpuDevice(id=0)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device)

    def __hash__(self) -> int:
        return hash(Device)


_CPU = Device()


def _check_backend(backend: Any) -> None:
    if backend not in (None, "cpu"):
        raise ValueError(
            f"backend {backend!r} is not available: funcgrad computes with NumPy on the host ('cpu'). For GPUs "
            "pass CuPy arrays (funcgrad follows the array's library).")


def devices(backend: Any = None) -> list[Device]:
    """``[CpuDevice(id=0)]``: NumPy computes on the host."""
    _check_backend(backend)
    return [_CPU]


def local_devices(process_index: Any = None, backend: Any = None) -> list[Device]:
    """The devices of this process (the host CPU)."""
    return devices(backend)


def device_count(backend: Any = None) -> int:
    """1: the host CPU."""
    return len(devices(backend))


local_device_count = device_count


def process_index() -> int:
    """0: funcgrad runs in one process."""
    return 0


def process_count() -> int:
    """1: funcgrad runs in one process."""
    return 1


def default_backend() -> str:
    """``"cpu"``."""
    return "cpu"


def _library(x: Any) -> str:
    return type(x).__module__.split(".")[0]


def _put_leaf(x: Any) -> Any:
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    if _library(x) in ("dask", "cupy"):
        return x  # already on its library's device (a GPU, a cluster): leave it there
    return np.asarray(x)


def device_put(x: Any, device: Any = None, *, src: Any = None, donate: bool = False, may_alias: Any = None) -> Any:
    """``x`` (any pytree) as arrays: NumPy arrays are returned as they are (no copy), lists and
    numbers become NumPy arrays, Dask and CuPy arrays stay on their own library's device."""
    if device is not None and not isinstance(device, Device):
        raise ValueError(f"device_put: device must be None or one of funcgrad.devices(), got {device!r}.")
    return tree_map(_put_leaf, x)


def _get_leaf(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, Tracer):
        raise TypeError(
            "device_get was called on a traced value inside a transformed function; call it on the "
            "function's results instead.")
    lib = _library(x)
    if lib == "cupy":
        return x.get()
    if lib == "dask":
        return np.asarray(x.compute())
    return x if not hasattr(x, "__array__") else np.asarray(x)


def device_get(x: Any) -> Any:
    """``x`` (any pytree) on the host: NumPy arrays as they are, CuPy arrays copied to NumPy, Dask
    arrays computed."""
    return tree_map(_get_leaf, x)


def _ready_leaf(x: Any) -> Any:
    lib = _library(x)
    if lib == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif lib == "dask":
        return x.persist()
    return x


def block_until_ready(x: Any) -> Any:
    """``x`` once its values are computed: NumPy computes eagerly, so NumPy arrays are returned at
    once; CuPy waits for the current stream; Dask arrays are persisted (computed, kept as Dask arrays)."""
    return tree_map(_ready_leaf, x)
