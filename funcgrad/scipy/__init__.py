"""``funcgrad.scipy``: differentiable versions of SciPy functions (SciPy itself is not needed)."""

from . import special  # noqa: F401
