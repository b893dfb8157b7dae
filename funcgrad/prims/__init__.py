"""The primitives: where impl, jvp, vjp and batching rules are declared, one declaration each.

One module per family. Importing this package registers every primitive in
``funcgrad.core.primitives``. The SciPy-backed primitives follow the same pattern under
``funcgrad/scipy/_*_prims.py``, so that SciPy is only imported when one is first computed.
"""

from . import decompositions, elementwise, fft, indexing, linalg, reductions, scatter, shape, ufuncs  # noqa: F401
