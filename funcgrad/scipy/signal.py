"""``funcgrad.scipy.signal``: differentiable ``convolve`` and ``correlate`` (n-dimensional, modes
``'full'``, ``'valid'``, ``'same'``), with SciPy's values.

Both are one primitive (:mod:`funcgrad.scipy._signal_prims`) whose derivatives in either input
are convolutions again (the transpose of a convolution is a correlation, with cropping or
padding by mode), so they are differentiable to any order and work under ``jit`` and ``vmap``
(under ``vmap`` SciPy is called once per example: it has no batched convolution). This module
imports SciPy when a value is first computed; ``import funcgrad`` does not import it.

With ``axes=`` and ``dot_axes=`` both compute a *tensor* convolution, as autograd's
``convolve(A, B, axes=, dot_axes=, mode=)`` does (see :func:`convolve`): strided windows and one
matrix product (:mod:`funcgrad.scipy._tensorconv`), batched under ``vmap`` without a loop. That is
the form a convolutional network uses.

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
from ..prims.shape import pad, transpose
from . import _signal_prims as P
from . import _tensorconv as TC
from ._tensorconv import flip_axes

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


def _axis_list(axes: Any, ndim: int, what: str, name: str) -> tuple[int, ...]:
    try:
        out = tuple(int(a) for a in axes)
    except TypeError:
        raise TypeError(f"{name}: {what} must be a sequence of axis numbers; got {axes!r}") from None
    for a in out:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a} in {what} is out of range for an array with {ndim} dimensions")
    out = tuple(a % ndim if ndim else a for a in out)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: {what} repeats an axis: {axes!r}")
    return out


def _pair(spec: Any, what: str, name: str) -> tuple[Any, Any]:
    if isinstance(spec, str) or not hasattr(spec, "__len__") or len(spec) != 2:
        raise TypeError(f"{name}: {what} must be a pair (axes of in1, axes of in2), e.g. {what}=([1], [0]); "
                        f"got {spec!r}")
    return spec[0], spec[1]


def _tensor(name: str, in1: Any, in2: Any, mode: str, axes: Any, dot_axes: Any, correlate: bool) -> Any:
    """The tensor convolution: see :func:`convolve`."""
    in1 = in1 if isinstance(in1, (np.ndarray, Tracer)) else np.asarray(in1)
    in2 = in2 if isinstance(in2, (np.ndarray, Tracer)) else np.asarray(in2)
    s1, s2 = tuple(in1.shape), tuple(in2.shape)
    da, db = _pair(((), ()) if dot_axes is None else dot_axes, "dot_axes", name)
    da, db = _axis_list(da, in1.ndim, "dot_axes[0]", name), _axis_list(db, in2.ndim, "dot_axes[1]", name)
    if len(da) != len(db) or any(s1[a] != s2[b] for a, b in zip(da, db)):
        raise ValueError(f"{name}: dot_axes pair axes of equal length; got in1 axes {da} of sizes "
                         f"{[s1[a] for a in da]} and in2 axes {db} of sizes {[s2[b] for b in db]}")
    if axes is None:
        ca = tuple(a for a in range(in1.ndim) if a not in da)
        cb = tuple(b for b in range(in2.ndim) if b not in db)
        if len(ca) != len(cb):
            raise ValueError(f"{name}: with axes=None every axis that is not a dot axis is convolved, so both "
                             f"inputs need as many; in1 has {len(ca)}, in2 has {len(cb)}. Pass axes=(..., ...).")
    else:
        ca, cb = _pair(axes, "axes", name)
        ca, cb = _axis_list(ca, in1.ndim, "axes[0]", name), _axis_list(cb, in2.ndim, "axes[1]", name)
        if len(ca) != len(cb):
            raise ValueError(f"{name}: axes pairs axes of in1 with axes of in2; got {len(ca)} and {len(cb)}")
        if set(ca) & set(da) or set(cb) & set(db):
            raise ValueError(f"{name}: an axis cannot be both convolved (axes) and summed (dot_axes)")
    n, m = tuple(s1[a] for a in ca), tuple(s2[b] for b in cb)
    if 0 in n or 0 in m:
        raise ValueError(f"{name}: convolved axes must not be empty; got sizes {n} and {m}")
    fa = tuple(a for a in range(in1.ndim) if a not in ca and a not in da)
    fb = tuple(b for b in range(in2.ndim) if b not in cb and b not in db)
    x = _perm(in1, fa + da + ca)
    w = _perm(in2, fb + db + cb)
    nc = len(ca)
    conv_x = tuple(range(x.ndim - nc, x.ndim))
    conv_w = tuple(range(w.ndim - nc, w.ndim))
    if correlate and w.dtype.kind == "c":
        w = ew.conj(w)
    # everything is a valid cross-correlation of a (padded) larger operand with a kernel
    if mode == "valid" and not all(a >= b for a, b in zip(n, m)):
        if not all(b >= a for a, b in zip(n, m)):
            raise ValueError(f"{name}: for 'valid' mode one input must be at least as large as the other in every "
                             f"convolved axis; got sizes {n} and {m}")
        # convolution commutes: conv(x, k) = conv(k, x), k = w (convolve) or flip(conj(w)) (correlate)
        k = flip_axes(w, conv_w) if correlate else w
        out = TC.sliding_dot(k, flip_axes(x, conv_x), nbatch=0, nfree_x=len(fb), ndot=len(da))
        # (B, A, K) -> (A, B, K)
        order = (tuple(range(len(fb), len(fb) + len(fa))) + tuple(range(len(fb)))
                 + tuple(range(len(fa) + len(fb), out.ndim)))
        return _perm(out, order)
    kernel = w if correlate else flip_axes(w, conv_w)
    if mode == "full":
        width = tuple((b - 1, b - 1) for b in m)
    elif mode == "same":
        width = tuple((b - 1 - (b - 1) // 2, (b - 1) // 2) for b in m)
    else:
        width = ((0, 0),) * nc
    if any(lo or hi for lo, hi in width):
        x = pad(x, pad_width=((0, 0),) * (x.ndim - nc) + width, value=0)
    return TC.sliding_dot(x, kernel, nbatch=0, nfree_x=len(fa), ndot=len(da))


def _perm(v: Any, order: tuple[int, ...]) -> Any:
    return v if order == tuple(range(len(order))) else transpose(v, axes=order)


def _check_mode_arg(name: str, mode: Any) -> None:
    if not isinstance(mode, str):
        raise TypeError(f"{name}: the third positional argument is mode (a string, as in SciPy); got {mode!r}. "
                        "autograd's tensor form takes axes and dot_axes as keywords: "
                        f"{name}(A, B, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode='valid').")


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto", *, axes: Any = None,
             dot_axes: Any = None) -> Any:
    """Differentiable ``scipy.signal.convolve``: ``z[k] = sum_i in1[i] in2[k - i]`` in n dimensions;
    with ``axes``/``dot_axes``, a tensor convolution (as autograd's ``convolve``).

    Derivatives: ``dz = convolve(d_in1, in2) + convolve(in1, d_in2)``; reverse mode correlates the
    cotangent with the other input (``convolve`` with it flipped), cropped or padded by ``mode``.

    >>> import numpy as np
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])

    **Tensor form.** ``axes=(axes_of_in1, axes_of_in2)`` pairs the axes that are convolved,
    ``dot_axes=(axes_of_in1, axes_of_in2)`` pairs axes that are multiplied and summed (as in
    ``tensordot``); every other axis is an outer product. The result's axes are in1's other axes,
    then in2's other axes, then the convolved axes (in the order of ``axes``). ``axes=None``
    convolves every axis that is not a dot axis. Modes ``'full'``, ``'valid'``, ``'same'``.
    It is computed with strided windows and one matrix product (``method`` is not used), fast
    enough for small CNNs; derivatives are the same operation, to any order, under ``jit`` and
    ``vmap`` (which batch it, with no loop over examples). A convolutional layer:

    >>> images = np.ones((8, 3, 28, 28))            # batch, channels in, height, width
    >>> kernels = np.ones((3, 16, 5, 5))            # channels in, channels out, kh, kw
    >>> convolve(images, kernels, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid").shape
    (8, 16, 24, 24)
    """
    _check_mode_arg("convolve", mode)
    if axes is not None or dot_axes is not None:
        _check_tensor_args("convolve", mode, method)
        return _tensor("convolve", in1, in2, mode, axes, dot_axes, correlate=False)
    in1, in2 = _prepare("convolve", in1, in2, mode, method)
    if in1.ndim == 0:
        return ew.mul(in1, in2)
    return P.convolve(in1, in2, mode=mode, method=method, correlate=False, nbatch=0)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto", *, axes: Any = None,
              dot_axes: Any = None) -> Any:
    """Differentiable ``scipy.signal.correlate``: ``convolve(in1, flip(conj(in2)))`` in n dimensions,
    with SciPy's values; with ``axes``/``dot_axes``, the tensor form of :func:`convolve` with the
    kernel not flipped (what deep-learning libraries call a convolution).

    >>> import numpy as np
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> correlate(np.arange(5.0), np.array([1.0, -1.0]), axes=([0], [0]), mode="valid")   # differences
    array([-1., -1., -1., -1.])
    """
    _check_mode_arg("correlate", mode)
    if axes is not None or dot_axes is not None:
        _check_tensor_args("correlate", mode, method)
        return _tensor("correlate", in1, in2, mode, axes, dot_axes, correlate=True)
    in1, in2 = _prepare("correlate", in1, in2, mode, method)
    if in1.ndim == 0:
        return ew.mul(in1, ew.conj(in2) if in2.dtype.kind == "c" else in2)
    return P.convolve(in1, in2, mode=mode, method=method, correlate=True, nbatch=0)


def _check_tensor_args(name: str, mode: str, method: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"{name}: acceptable mode flags are 'valid', 'same', or 'full'; got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"{name}: acceptable method flags are 'auto', 'direct', or 'fft'; got {method!r}")
