"""``funcgrad.compat.autograd.builtins``: autograd's container and type helpers.

funcgrad differentiates through tuples, lists and dicts natively (they are pytrees), so
``tuple``, ``list`` and ``dict`` are Python's own. ``isinstance`` and ``type`` look through
tracing, so a traced array is an ``np.ndarray`` and a traced Python float is a ``float``, as
autograd's are.

>>> import numpy as np
>>> from funcgrad.compat.autograd import grad
>>> grad(lambda x: 1.0 if isinstance(x, np.ndarray) else 0.0 * x)(np.array(1.0)) == 0.0
np.True_
"""

from __future__ import annotations

import builtins as _py
from typing import Any

import numpy as np

from ...core import Tracer

__all__ = ["tuple", "list", "dict", "isinstance", "type", "SequenceBox", "DictBox", "tuple_", "list_", "dict_",
           "isinstance_", "type_"]

tuple = _py.tuple  # noqa: A001
list = _py.list  # noqa: A001
dict = _py.dict  # noqa: A001
SequenceBox = _py.tuple
DictBox = _py.dict
# autograd's names for the underlying constructors and Python's own isinstance/type
tuple_, list_, dict_ = _py.tuple, _py.list, _py.dict
isinstance_, type_ = _py.isinstance, _py.type


def _types(cls: Any) -> _py.tuple:
    return cls if _py.isinstance(cls, _py.tuple) else (cls,)


def isinstance(obj: Any, cls: Any) -> bool:  # noqa: A001
    """Python's ``isinstance``, looking through tracing: a traced array is an ``np.ndarray``;
    a traced 0-d value is also a ``float``/``complex`` when its dtype is."""
    if _py.isinstance(obj, Tracer):
        for c in _types(cls):
            if c is np.ndarray or (_py.isinstance(c, _py.type) and _py.issubclass(np.ndarray, c)):
                return True
            if obj.ndim == 0 and ((c is float and obj.dtype.kind == "f") or (c is complex and obj.dtype.kind == "c")):
                return True
        return _py.isinstance(obj, cls)
    return _py.isinstance(obj, cls)


def type(obj: Any) -> _py.type:  # noqa: A001
    """Python's ``type``, looking through tracing: a traced value's type is ``np.ndarray``."""
    return np.ndarray if _py.isinstance(obj, Tracer) else _py.type(obj)
