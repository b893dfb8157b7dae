"""``funcgrad.scipy.signal``: differentiable ``convolve`` and ``correlate`` (n-dimensional, modes
``'full'``, ``'valid'``, ``'same'``), with SciPy's values.

Both are one primitive (:mod:`funcgrad.scipy._signal_prims`) whose derivatives in either input
are convolutions again (the transpose of a convolution is a correlation, with cropping or
padding by mode), so they are differentiable to any order and work under ``jit`` and ``vmap``
(under ``vmap`` SciPy is called once per example: it has no batched convolution). This module
imports SciPy when a value is first computed; ``import funcgrad`` does not import it.

Conventions: both inputs have the same number of dimensions (0-d inputs multiply, as in SciPy);
``'same'`` is centred with respect to the full output and sized like ``in1``; ``'valid'`` needs one
input at least as large as the other in every dimension. Complex inputs follow funcgrad's
convention (vjp = transpose of jvp); ``correlate`` conjugates ``in2`` as SciPy does. Empty inputs
behave as in SciPy (which rejects most of them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Tracer
from ..prims import elementwise as ew
from . import _signal_prims as P

__all__ = ["convolve", "correlate"]

_MODES = ("full", "valid", "same")
_METHODS = ("auto", "direct", "fft")


def _prepare(name: str, in1: Any, in2: Any, mode: str, method: str) -> tuple[Any, Any]:
    if mode not in _MODES:
        raise ValueError(f"{name}: acceptable mode flags are 'valid', 'same', or 'full'; got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"{name}: acceptable method flags are 'auto', 'direct', or 'fft'; got {method!r}")
    in1 = in1 if isinstance(in1, (np.ndarray, Tracer)) else np.asarray(in1)
    in2 = in2 if isinstance(in2, (np.ndarray, Tracer)) else np.asarray(in2)
    if in1.ndim != in2.ndim:
        raise ValueError(f"{name}: in1 and in2 should have the same dimensionality; got shapes "
                         f"{tuple(in1.shape)} and {tuple(in2.shape)}")
    if in1.ndim:
        P.conv_shape(tuple(in1.shape), tuple(in2.shape), mode)  # SciPy's shape errors, raised early
    return in1, in2


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """Differentiable ``scipy.signal.convolve``: ``z[k] = sum_i in1[i] in2[k - i]`` in n dimensions.

    Derivatives: ``dz = convolve(d_in1, in2) + convolve(in1, d_in2)``; reverse mode correlates the
    cotangent with the other input (``convolve`` with it flipped), cropped or padded by ``mode``.

    >>> import numpy as np
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    in1, in2 = _prepare("convolve", in1, in2, mode, method)
    if in1.ndim == 0:
        return ew.mul(in1, in2)
    return P.convolve(in1, in2, mode=mode, method=method, correlate=False, nbatch=0)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """Differentiable ``scipy.signal.correlate``: ``convolve(in1, flip(conj(in2)))`` in n dimensions,
    with SciPy's values.

    >>> import numpy as np
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    in1, in2 = _prepare("correlate", in1, in2, mode, method)
    if in1.ndim == 0:
        return ew.mul(in1, ew.conj(in2) if in2.dtype.kind == "c" else in2)
    return P.convolve(in1, in2, mode=mode, method=method, correlate=True, nbatch=0)
