"""``funcgrad.compat.autograd.numpy.numpy_vspaces``: autograd's array vector spaces. funcgrad has one
:class:`~funcgrad.compat.autograd.extend.VSpace` for every value, so ``ArrayVSpace`` and
``ComplexArrayVSpace`` are that class (for code that checks ``isinstance`` or calls ``register``).

>>> import numpy as onp
>>> ArrayVSpace(onp.zeros(3)).size
3
"""

from __future__ import annotations

from ..extend import VSpace

__all__ = ["ArrayVSpace", "ComplexArrayVSpace"]

ArrayVSpace = VSpace
ComplexArrayVSpace = VSpace
