"""``funcgrad.compat.autograd.misc``: ``flatten``, and the submodules ``optimizers``,
``flatten`` and ``fixed_points``.

>>> import numpy as np
>>> flat, unflatten = flatten({"b": np.array([1.0, 2.0]), "a": 3.0})
>>> flat
array([3., 1., 2.])
"""

from .flatten import flatten

__all__ = ["flatten"]
