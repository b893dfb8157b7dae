"""``funcgrad.numpy.fft``: NumPy's discrete Fourier transforms, differentiable.

Every function takes NumPy's arguments (``n``/``axis`` for the 1-d transforms, ``s``/``axes``
for the n-d ones, ``norm`` in ``"backward"``, ``"ortho"``, ``"forward"``) and returns exactly what
``numpy.fft`` returns, with its dtypes (complex64 for float32 input, as NumPy 2 does). Plain
``np.fft.fft(x)`` on a traced value dispatches here.

The transforms are three linear primitives (:mod:`funcgrad.prims.fft`): complex-to-complex,
real-to-complex and complex-to-real. The zero-padding and cropping that ``n``/``s`` ask for are
done here, with ``pad`` and slicing, so the primitives only see matching sizes. Derivatives
follow JAX's convention for complex numbers: a vjp is the transpose of the jvp under the pairing
Re(sum(a * b)), without conjugation; ``grad`` of a real loss L of a complex input z is
dL/dRe(z) - i dL/dIm(z), as in JAX. ``rfft`` of a complex input raises NumPy's ``TypeError``.
Repeated axes (``axes=(1, 1)``) are transformed once per mention, as NumPy does.

``fftshift``/``ifftshift`` are slicing and concatenation (differentiable); ``fftfreq`` and
``rfftfreq`` are NumPy's own (they take no array data).
"""

import sys as _sys

import numpy as _np

from ._fft import *  # noqa: F403
from ._fft import __all__ as __all__
from .tracer_methods import register_dispatch as _register_dispatch

for _name in __all__:  # documented, pickled and shown under the public module's name, as NumPy's own are
    if getattr(globals()[_name], "__module__", None) == "funcgrad.numpy._fft":
        globals()[_name].__module__ = __name__

# np.fft.fft(tracer) and friends dispatch here (funcgrad.numpy imports this module on the first such call).
_register_dispatch(_sys.modules[__name__], _np.fft, __all__)
