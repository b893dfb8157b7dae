"""The primitives: the only place where impl, jvp, vjp and batching rules are declared.

One module per family. Importing this package registers every primitive in
``funcgrad.core.primitives``.
"""

from . import decompositions, elementwise, fft, indexing, linalg, reductions, shape  # noqa: F401
