"""``funcgrad.numpy.linalg``: NumPy's linear algebra, differentiable, on stacked matrices.

Every function takes stacks of matrices ``(..., M, N)`` wherever NumPy does, returns what NumPy
returns (the same result tuples: ``EighResult``, ``SVDResult``, ``QRResult``, ``SlogdetResult``,
``EigResult``, with NumPy's field names), and is reached from plain ``np.linalg.*`` calls on traced
values. Derivatives are defined for real (float32/float64) and complex (complex64/complex128)
operands, with JAX's convention for complex numbers; the primitives and their rules live in
:mod:`funcgrad.prims.decompositions`. Conventions (see that module for details):

* ``cholesky``/``eigh``/``eigvalsh`` read one triangle (lower unless ``upper=True`` /
  ``UPLO='U'``), as NumPy does; the other triangle has zero derivative. A complex operand is the
  Hermitian matrix that triangle stands for (the imaginary part of its diagonal is ignored).
* ``eigh``: eigenvector derivatives need distinct eigenvalues; with repeated eigenvalues they are
  undefined (the eigenvectors are not unique), while derivatives of the eigenvalues (and of
  anything that depends only on them) remain correct. Likewise for ``svd`` and singular values.
  Eigenvectors and singular vectors are defined up to sign (complex: a phase): differentiate
  functions that do not depend on it (projectors ``v v^H``, ``|v|^2``, ``u diag(c) vh``). For complex
  input the vector derivatives use the gauge ``Im(v_i^H dv_i) = 0`` (eigh; svd puts the shared
  phase of ``(u_i, v_i)`` in ``u_i``), which matches LAPACK's output only up to a phase.
* ``svd(full_matrices=True)`` of a non-square matrix and ``qr(mode='complete')`` of a tall one are
  computed but not differentiable (their extra columns are an arbitrary basis): the derivative
  raises NotImplementedError. ``qr(mode='raw')`` is not supported.
* ``eig``/``eigvals`` (real or complex operands) always return complex arrays (NumPy returns real
  ones when every eigenvalue is real, a value-dependent type ``jit`` cannot follow). They are
  differentiable for distinct eigenvalues; the eigenvector derivative includes that of NumPy's
  normalisation (unit norm, largest-modulus component real).
* ``solve``, ``inv``, ``slogdet`` have derivatives computed with solves; at a singular
  matrix they raise ``LinAlgError`` as NumPy's ``solve`` does. ``det``'s derivative is the
  adjugate, computed from an SVD and defined everywhere (its second derivative uses solves).
  ``logabsdet = Re log det``; the sign of a real matrix has no
  derivative, that of a complex one (a phase) has ``d sign = i Im(trace(a^{-1} da)) sign``.
* ``pinv`` and ``lstsq`` go through the reduced SVD; singular values below the cutoff are dropped
  and treated as constant, so derivatives are those at a fixed rank. ``pinv(hermitian=True)`` uses
  the general SVD. Under ``jit``/``vmap`` the rank is not known while tracing, so ``lstsq``
  returns the residuals whenever ``M > N`` (NumPy returns an empty array when the rank is deficient).
"""

import sys as _sys

import numpy as _np

from ._linalg import *  # noqa: F403
from ._linalg import LinAlgError
from ._linalg import __all__ as _core_all
from .linalg_extra import *  # noqa: F403
from .linalg_extra import __all__ as _extra_all
from .tracer_methods import register_dispatch as _register_dispatch

__all__ = ["LinAlgError", *_core_all, *_extra_all]

for _name in _core_all:  # documented, pickled and shown under the public module's name, as NumPy's own are
    if getattr(globals()[_name], "__module__", None) == "funcgrad.numpy._linalg":
        globals()[_name].__module__ = __name__

# np.linalg.solve(tracer) and friends dispatch here (funcgrad.numpy imports this module on the first such call).
_register_dispatch(_sys.modules[__name__], _np.linalg, __all__)
