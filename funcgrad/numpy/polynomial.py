"""NumPy's legacy polynomial functions (coefficients highest power first): ``polyval``,
``polyfit``, ``roots``, ``poly``, ``polyadd``, ``polysub``, ``polymul``, ``polydiv``,
``polyder``, ``polyint``; and ``ediff1d``.

Each is a composition (Horner's rule, a least-squares solve, eigenvalues of the companion matrix,
convolutions), so derivatives flow to the coefficients and points. Where NumPy's result depends
on values (leading zeros stripped, a real result when the roots pair up), the decision is taken
on concrete values; under ``jit`` ``roots`` and ``poly`` return complex results.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import Tracer, ValuelessTracer
from ..prims import elementwise as ew
from ..prims import shape as sh
from ..prims.indexing import getitem_static
from . import reductions as red
from ._util import as_array, concrete, contains_tracer

__all__ = ["polyval", "polyfit", "roots", "poly", "polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint",
           "ediff1d"]


def _valueless(x: Any) -> bool:
    while isinstance(x, Tracer):
        if isinstance(x, ValuelessTracer):
            return True
        x = x.primal
    return False


def _1d(p: Any) -> Any:
    p = as_array(p)
    if p.ndim == 0:
        p = sh.reshape(p, shape=(1,)) if isinstance(p, Tracer) else p.reshape(1)
    return p


def polyval(p: Any, x: Any) -> Any:
    """Differentiable ``numpy.polyval``: Horner's rule, in the coefficients and the points.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polyval(np.array([1.0, 0.0, -1.0]), np.array([2.0, 3.0]))
    array([3., 8.])
    """
    if not contains_tracer((p, x)):
        return np.polyval(p, x)
    p = as_array(p)
    x = as_array(x)
    if x.dtype.kind not in "fc":
        x = sh.astype(x, dtype=np.result_type(x.dtype, 1.0))
    y: Any = np.zeros(tuple(x.shape), np.result_type(x.dtype, p.dtype))
    for i in range(p.shape[0]):
        y = ew.add(ew.mul(y, x), getitem_static(p, (i,)))
    return y


def polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None, cov: Any = False) -> Any:
    """Differentiable ``numpy.polyfit`` (least squares, through ``funcgrad.numpy.linalg.lstsq``,
    with NumPy's column scaling); ``full=True`` and ``cov=`` are NumPy's on concrete values only.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polyfit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 1).round(6)
    array([2., 1.])
    """
    if not contains_tracer((x, y, w)):
        return np.polyfit(x, y, deg, rcond, full, w, cov)  # type: ignore[call-overload]  # options forwarded to NumPy as given (its stubs want literals)
    if full or cov:
        raise NotImplementedError("funcgrad.numpy.polyfit of traced values supports full=False, cov=False")
    from .building import vander
    from .linalg import lstsq

    order = operator.index(deg) + 1
    x, y = as_array(x), as_array(y)
    x = x if x.dtype.kind in "fc" else sh.astype(x, dtype=np.dtype(np.float64))
    y = y if y.dtype.kind in "fc" else sh.astype(y, dtype=np.dtype(np.float64))
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if x.shape[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if x.shape[0] != y.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = x.shape[0] * np.finfo(x.dtype).eps
    lhs = vander(x, order) if isinstance(x, Tracer) else np.vander(x, order)
    rhs = y
    if w is not None:
        w = as_array(w)
        lhs = ew.mul(lhs, sh.reshape(w, shape=(-1, 1)) if isinstance(w, Tracer) else w[:, None])
        rhs = ew.mul(rhs, w if rhs.ndim == 1 else (sh.reshape(w, shape=(-1, 1)) if isinstance(w, Tracer)
                                                  else w[:, None]))
    scale = ew.sqrt(red.sum(ew.mul(lhs, lhs), axis=0))
    lhs = ew.div(lhs, scale)
    c = lstsq(lhs, rhs, rcond)[0]
    return ew.div(c, scale) if c.ndim == 1 else ew.div(c, sh.reshape(scale, shape=(-1, 1)))


def roots(p: Any) -> Any:
    """Differentiable ``numpy.roots``: eigenvalues of the companion matrix (distinct roots).
    Leading and trailing zeros are stripped on concrete values; the result is real when every
    root is real, as in NumPy (under ``jit`` it is always complex).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> np.sort(fnp.roots(np.array([1.0, -3.0, 2.0])))
    array([1., 2.])
    """
    if not contains_tracer(p):
        return np.roots(p)
    from .linalg import eigvals
    from .shape import concatenate

    p = _1d(p)
    if p.ndim != 1:
        raise ValueError("Input must be a rank-1 array.")
    if _valueless(p):
        start, stop = 0, p.shape[0]
        trailing = 0
    else:
        nz = np.flatnonzero(np.asarray(concrete(p, "roots")))
        if nz.size == 0:
            return np.array([])
        start, stop = int(nz[0]), int(nz[-1]) + 1
        trailing = p.shape[0] - stop
    p = getitem_static(p, (slice(start, stop),))
    n = p.shape[0]
    if n > 1:
        first_row = ew.div(ew.neg(getitem_static(p, (slice(1, None),))), getitem_static(p, (0,)))
        companion = sh.reshape(first_row, shape=(1, n - 1))
        if n > 2:
            below = concatenate([np.eye(n - 2, dtype=p.dtype), np.zeros((n - 2, 1), p.dtype)], axis=1)
            companion = concatenate([companion, below], axis=0)
        r = eigvals(companion)
    else:
        r = np.zeros(0, np.complex128 if p.dtype.kind != "c" else p.dtype)
    if trailing:
        r = concatenate([r, np.zeros(trailing, r.dtype)])
    if not _valueless(r) and isinstance(r, Tracer) and np.all(np.imag(concrete(r, "roots")) == 0):
        r = ew.real(r)
    return r


def poly(seq_of_zeros: Any) -> Any:
    """Differentiable ``numpy.poly``: the coefficients of the monic polynomial with these roots
    (or of the characteristic polynomial of a square matrix). Real when the roots pair up into
    conjugates (decided on concrete values).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.poly(np.array([1.0, 2.0]))
    array([ 1., -3.,  2.])
    """
    if not contains_tracer(seq_of_zeros):
        return np.poly(seq_of_zeros)
    from .linalg import eigvals
    from .statistics import convolve

    z = as_array(seq_of_zeros)
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] != 0:
        z = eigvals(z)
    elif z.ndim == 1:
        pass
    elif z.ndim == 0 or z.shape[0] == 0:
        return np.float64(1.0)
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if z.shape[0] == 0:
        return np.float64(1.0)
    dt = z.dtype if z.dtype.kind in "fc" else np.dtype(np.float64)
    a: Any = np.ones(1, dt)
    for k in range(z.shape[0]):
        root = getitem_static(z, (slice(k, k + 1),))
        a = convolve(a, sh.concatenate(np.ones(1, dt), ew.neg(root), axis=0))
    if a.dtype.kind == "c" and not _valueless(z):
        zv = np.asarray(concrete(z, "poly"))
        pos = np.sort(zv[zv.imag > 0])
        neg = np.sort(np.conjugate(zv[zv.imag < 0]))
        if len(pos) == len(neg) and np.all(neg == pos):
            a = ew.real(a)
    return a


def _pad_front(p: Any, n: int) -> Any:
    if p.shape[0] == n:
        return p
    return sh.concatenate(np.zeros(n - p.shape[0], p.dtype), p, axis=0) if isinstance(p, Tracer) else \
        np.concatenate([np.zeros(n - p.shape[0], p.dtype), p])


def _common(a1: Any, a2: Any) -> tuple[Any, Any]:
    a1, a2 = _1d(a1), _1d(a2)
    dtype = np.result_type(a1.dtype, a2.dtype)
    a1, a2 = (a if a.dtype == dtype else (sh.astype(a, dtype=dtype) if isinstance(a, Tracer) else a.astype(dtype))
              for a in (a1, a2))
    n = max(a1.shape[0], a2.shape[0])
    return _pad_front(a1, n), _pad_front(a2, n)


def polyadd(a1: Any, a2: Any) -> Any:
    """Differentiable ``numpy.polyadd``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polyadd(np.array([1.0, 2.0]), np.array([1.0, 0.0, 0.0]))
    array([1., 1., 2.])
    """
    if not contains_tracer((a1, a2)):
        return np.polyadd(a1, a2)
    x, y = _common(a1, a2)
    return ew.add(x, y)


def polysub(a1: Any, a2: Any) -> Any:
    """Differentiable ``numpy.polysub``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polysub(np.array([1.0, 2.0]), np.array([1.0, 0.0, 0.0]))
    array([-1.,  1.,  2.])
    """
    if not contains_tracer((a1, a2)):
        return np.polysub(a1, a2)
    x, y = _common(a1, a2)
    return ew.sub(x, y)


def polymul(a1: Any, a2: Any) -> Any:
    """Differentiable ``numpy.polymul``: a convolution of the coefficients.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polymul(np.array([1.0, 1.0]), np.array([1.0, -1.0]))
    array([ 1.,  0., -1.])
    """
    if not contains_tracer((a1, a2)):
        return np.polymul(a1, a2)
    from .statistics import convolve

    return convolve(_1d(a1), _1d(a2))


def polyder(p: Any, m: int = 1) -> Any:
    """Differentiable ``numpy.polyder``: the ``m``-th derivative's coefficients.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polyder(np.array([1.0, 1.0, 1.0]))
    array([2., 1.])
    """
    if not contains_tracer(p):
        return np.polyder(p, m)
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = _1d(p)
    for _ in range(m):
        n = p.shape[0] - 1
        if n <= 0:
            return np.zeros(1, p.dtype) if n == 0 else p
        p = ew.mul(getitem_static(p, (slice(None, -1),)), np.arange(n, 0, -1).astype(
            np.result_type(p.dtype, np.int8)))
    return p


def polyint(p: Any, m: int = 1, k: Any = None) -> Any:
    """Differentiable ``numpy.polyint``: the ``m``-th antiderivative (integration constants ``k``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polyint(np.array([3.0, 2.0]))
    array([1.5, 2. , 0. ])
    """
    if not contains_tracer((p, k)):
        return np.polyint(p, m, k)
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if k is None:
        k = np.zeros(m)
    k = as_array(k)
    if k.ndim == 0:
        k = sh.broadcast_to(k, shape=(m,)) if isinstance(k, Tracer) else np.full(m, k)
    if k.shape[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = _1d(p)
    for i in range(m):
        n = p.shape[0]
        dtype = np.result_type(p.dtype, 1.0)
        body = ew.div(p, np.arange(n, 0, -1).astype(dtype))
        const = getitem_static(k, (slice(i, i + 1),))
        if const.dtype != dtype:
            const = sh.astype(const, dtype=dtype) if isinstance(const, Tracer) else const.astype(dtype)
        body = body if body.dtype == dtype else sh.astype(body, dtype=dtype)
        p = sh.concatenate(body, const, axis=0) if contains_tracer((body, const)) else np.concatenate([body, const])
    return p


def polydiv(u: Any, v: Any) -> tuple[Any, Any]:
    """Differentiable ``numpy.polydiv``: ``(quotient, remainder)`` by long division; the
    remainder's leading zeros are stripped on concrete values, as NumPy does.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.polydiv(np.array([1.0, -3.0, 2.0]), np.array([1.0, -1.0]))
    (array([ 1., -2.]), array([0.]))
    """
    if not contains_tracer((u, v)):
        return np.polydiv(u, v)
    from .shape import concatenate

    u, v = _1d(u), _1d(v)
    dtype = np.result_type(u.dtype, v.dtype, 1.0)
    u = u if u.dtype == dtype else sh.astype(u, dtype=dtype)
    v = v if v.dtype == dtype else sh.astype(v, dtype=dtype)
    m, n = u.shape[0] - 1, v.shape[0] - 1
    scale = ew.div(1.0, getitem_static(v, (0,)))
    r = [getitem_static(u, (i,)) for i in range(m + 1)]
    q = []
    for k in range(max(m - n + 1, 0)):
        d = ew.mul(scale, r[k])
        q.append(d)
        for j in range(n + 1):
            r[k + j] = ew.sub(r[k + j], ew.mul(d, getitem_static(v, (j,))))
    quotient = concatenate([sh.reshape(x, shape=(1,)) for x in q]) if q else np.zeros(1, dtype)
    rem = concatenate([sh.reshape(x, shape=(1,)) if isinstance(x, Tracer) else np.reshape(x, (1,)) for x in r])
    if not _valueless(rem):
        values = np.asarray(concrete(rem, "polydiv"))
        start = 0
        while start < values.shape[0] - 1 and np.allclose(values[start], 0, rtol=1e-14):
            start += 1
        rem = getitem_static(rem, (slice(start, None),))
    return quotient, rem


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """Differentiable ``numpy.ediff1d``: differences of the flattened array, with optional values
    before and after.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.ediff1d(np.array([1.0, 4.0, 9.0]), to_begin=0.0)
    array([0., 3., 5.])
    """
    if not contains_tracer((ary, to_end, to_begin)):
        return np.ediff1d(ary, to_end, to_begin)
    from .shape import concatenate, ravel

    a = ravel(as_array(ary))
    d = ew.sub(getitem_static(a, (slice(1, None),)), getitem_static(a, (slice(None, -1),)))
    parts = [ravel(as_array(to_begin))] if to_begin is not None else []
    parts.append(d)
    if to_end is not None:
        parts.append(ravel(as_array(to_end)))
    parts = [p if p.dtype == d.dtype else (sh.astype(p, dtype=d.dtype) if isinstance(p, Tracer) else p.astype(d.dtype))
             for p in parts]
    return concatenate(parts) if len(parts) > 1 else d
