"""``funcgrad.scipy``: differentiable versions of SciPy functions.

``special`` and ``stats`` are imported with funcgrad but import SciPy itself only when a value
is first computed (SciPy is the optional extra ``funcgrad[scipy]``); ``linalg``, ``signal`` and
``integrate`` are imported on demand (``import funcgrad.scipy.linalg``).
"""

from . import special, stats  # noqa: F401
