"""The primitive behind ``funcgrad.scipy.stats.multivariate_normal.cdf``: ``mvn_cdf``.

``mvn_cdf(z, cov, maxpts=, abseps=, releps=, seed=)`` is the CDF of the centred normal
distribution ``N(0, cov)`` at the points ``z`` (components along the last axis, any leading
shape; the result has the leading shape): ``P(Y <= z)`` for ``Y ~ N(0, cov)``. The public wrapper
passes ``z = x - mean``, so derivatives in ``mean`` come from the subtraction.

Values are SciPy's ``multivariate_normal.cdf`` (Genz's quasi-Monte-Carlo method), called once per
point with a fresh ``numpy.random.default_rng(seed)``: the value at a point depends only on the
point, the covariance and the settings (not on the other points, on batching or on jit), and is
reproducible. One dimension is exact: ``ndtr(z / sqrt(cov))``, which is what SciPy computes.

Rules (written with funcgrad operations and ``mvn_cdf`` of lower dimension, so they
differentiate, stage and batch again, to any order):

* in ``z`` — ``dΦ/dz_i = φ(z_i; Σ_ii) Φ_{n-1}(z_{-i} | z_i)``: the 1-d density times the CDF of
  the conditional normal of the other components (mean ``Σ_{-i,i} z_i / Σ_ii``, covariance
  ``Σ_{-i,-i} - Σ_{-i,i} Σ_{i,-i} / Σ_ii``); the 0-dimensional CDF is 1.
* in ``cov`` — Plackett's identity ``∂Φ/∂Σ_ij = ∂²Φ/∂z_i∂z_j`` (``i != j``, ``Σ_ij = Σ_ji``
  moved together) and ``∂Φ/∂Σ_ii = ½ ∂²Φ/∂z_i²``. The covariance is a symmetric parameter, and
  the derivative of a symmetric pair is split equally between ``(i, j)`` and ``(j, i)``: the
  gradient with respect to ``cov`` is the symmetric matrix ``½ H`` with ``H`` the Hessian in
  ``z``, and a tangent ``T`` contributes ``Σ_ij ½ H_ij T_ij`` (only its symmetric part counts).
  Off the diagonal, ``H_ij = φ_2(z_i, z_j) Φ_{n-2}(z_{-ij} | z_i, z_j)`` (bivariate density
  times conditional CDF); on it, differentiating ``dΦ/dz_i`` gives
  ``H_ii = -(z_i / Σ_ii) dΦ/dz_i - Σ_{k != i} (Σ_ki / Σ_ii) H_ik``.
* batching: ``vmap`` over ``z`` alone maps onto the leading axes (one call); over ``cov`` it is
  a loop, one primitive call per example (SciPy computes one covariance per call).

Derivatives are those of the exact CDF, evaluated with SciPy's CDF of dimension ``n-1`` (first
order) and ``n-2`` (second order in ``z``, first in ``cov``), ...: for ``n <= 2`` these are ``ndtr``
and closed forms, exact at every order; for ``n >= 3`` they carry the quasi-Monte-Carlo error of
the lower-dimensional CDFs (controlled by ``abseps``/``releps``/``maxpts``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import numpy as fnp
from ..core import Primitive
from ..ir.program import ShapedArray
from ..prims.factories import batch_to_front
from ..prims.indexing import getitem_static
from ._lazy import scipy_module

__all__ = ["mvn_cdf", "mvn_cdf_p"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_2PI = 2.0 * math.pi


def _out_dtype(dz: Any, dc: Any) -> np.dtype:
    dt = np.result_type(np.dtype(dz), np.dtype(dc))
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _check_shapes(sz: tuple[int, ...], sc: tuple[int, ...]) -> int:
    if len(sz) < 1 or len(sc) != 2 or sc[0] != sc[1] or sc[0] != sz[-1]:
        raise ValueError(f"mvn_cdf: expected points of shape (..., n) and an n x n covariance, got shapes {sz} "
                         f"and {sc}")
    return sz[-1]


def _impl(z: Any, cov: Any, *, maxpts: int | None, abseps: float, releps: float, seed: int) -> np.ndarray:
    z, cov = np.asarray(z), np.asarray(cov)
    n = _check_shapes(z.shape, cov.shape)
    dtype = _out_dtype(z.dtype, cov.dtype)
    batch = z.shape[:-1]
    if n == 0:
        return np.ones(batch, dtype)
    flat = z.reshape(-1, n).astype(np.float64)
    c = cov.astype(np.float64)
    if n == 1:  # SciPy's value exactly (its 1-d integral is ndtr), without a call per point
        if not c[0, 0] > 0:
            raise ValueError(f"multivariate_normal.cdf: the covariance must be positive definite, got {c[0, 0]!r}")
        out = scipy_module("special").ndtr(flat[:, 0] / np.sqrt(c[0, 0]))
    else:
        mvn = scipy_module("stats").multivariate_normal
        mean = np.zeros(n)
        out = np.array([mvn.cdf(p, mean=mean, cov=c, maxpts=maxpts, abseps=abseps, releps=releps,
                                rng=np.random.default_rng(seed)) for p in flat], np.float64)
    return out.reshape(batch).astype(dtype, copy=False)


def _aval(x: Any) -> tuple[tuple[int, ...], np.dtype]:
    x = getattr(x, "value", x)  # an IR literal
    if isinstance(x, ShapedArray):
        return tuple(x.shape), np.dtype(x.dtype)
    return tuple(np.shape(x)), np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _abstract(z: Any, cov: Any, **params: Any) -> ShapedArray:
    (sz, dz), (sc, dc) = _aval(z), _aval(cov)
    _check_shapes(sz, sc)
    return ShapedArray(sz[:-1], _out_dtype(dz, dc))


# --- the derivatives, in funcgrad operations ---------------------------------------------------


def _col(x: Any, i: int) -> Any:
    """``x[..., i]``."""
    return getitem_static(x, (Ellipsis, i))


def _cols(x: Any, idx: list[int]) -> Any:
    """``x[..., idx]`` (a stack of the columns)."""
    return fnp.stack([_col(x, k) for k in idx], axis=-1)


def _vec(cov: Any, rows: list[int], j: int) -> Any:
    """``cov[rows, j]``."""
    return fnp.stack([cov[k, j] for k in rows])


def _sub(cov: Any, idx: list[int]) -> Any:
    """``cov[idx][:, idx]``."""
    return fnp.stack([fnp.stack([cov[a, b] for b in idx]) for a in idx])


def _outer(a: Any, b: Any) -> Any:
    return fnp.reshape(a, (-1, 1)) * fnp.reshape(b, (1, -1))


def _times(zi: Any, v: Any) -> Any:
    """``zi[..., None] * v``: a batch of scalars times a vector."""
    return fnp.expand_dims(zi, -1) * v


def _gradient(z: Any, cov: Any, params: dict) -> list:
    """``[dΦ/dz_i for i in range(n)]``, each of the points' leading shape."""
    n = z.shape[-1]
    g = []
    for i in range(n):
        zi, sii = _col(z, i), cov[i, i]
        gi = fnp.exp(-0.5 * zi * zi / sii) / fnp.sqrt(_2PI * sii)
        if n > 1:
            o = [k for k in range(n) if k != i]
            c = _vec(cov, o, i)
            zc = _cols(z, o) - _times(zi, c / sii)
            gi = gi * mvn_cdf(zc, _sub(cov, o) - _outer(c, c) / sii, **params)
        g.append(gi)
    return g


def _hessian(z: Any, cov: Any, params: dict) -> Any:
    """``∂²Φ/∂z∂z``, shape ``z.shape + (n,)``."""
    n = z.shape[-1]
    g = _gradient(z, cov, params)
    H: list[list[Any]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            sii, sjj, sij = cov[i, i], cov[j, j], cov[i, j]
            det = sii * sjj - sij * sij
            zi, zj = _col(z, i), _col(z, j)
            q = (sjj * zi * zi - 2.0 * sij * zi * zj + sii * zj * zj) / det
            h = fnp.exp(-0.5 * q) / (_2PI * fnp.sqrt(det))
            if n > 2:
                o = [k for k in range(n) if k not in (i, j)]
                ki, kj = _vec(cov, o, i), _vec(cov, o, j)
                wi, wj = (sjj * ki - sij * kj) / det, (sii * kj - sij * ki) / det  # K B^-1, by column
                zc = _cols(z, o) - _times(zi, wi) - _times(zj, wj)
                kbk = (sjj * _outer(ki, ki) - sij * (_outer(ki, kj) + _outer(kj, ki)) + sii * _outer(kj, kj)) / det
                h = h * mvn_cdf(zc, _sub(cov, o) - kbk, **params)
            H[i][j] = H[j][i] = h
    for i in range(n):
        sii = cov[i, i]
        hii = -(_col(z, i) / sii) * g[i]
        for k in range(n):
            if k != i:
                hii = hii - (cov[k, i] / sii) * H[i][k]
        H[i][i] = hii
    return fnp.stack([fnp.stack(row, axis=-1) for row in H], axis=-2)


def _jvp_z(t: Any, out: Any, z: Any, cov: Any, **params: Any) -> Any:
    return fnp.sum(fnp.stack(_gradient(z, cov, params), axis=-1) * t, axis=-1)


def _vjp_z(ct: Any, out: Any, z: Any, cov: Any, **params: Any) -> Any:
    return fnp.expand_dims(ct, -1) * fnp.stack(_gradient(z, cov, params), axis=-1)


def _jvp_cov(t: Any, out: Any, z: Any, cov: Any, **params: Any) -> Any:
    return fnp.sum(0.5 * _hessian(z, cov, params) * t, axis=(-2, -1))


def _vjp_cov(ct: Any, out: Any, z: Any, cov: Any, **params: Any) -> Any:
    g = 0.5 * _hessian(z, cov, params) * fnp.reshape(ct, tuple(ct.shape) + (1, 1))
    lead = tuple(range(g.ndim - 2))
    return fnp.sum(g, axis=lead) if lead else g


def _batch(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
    (z, cov), (dz, dc) = args, dims
    if dc is None:  # the points' leading axes are batch axes already
        return mvn_cdf(batch_to_front(z, dz), cov, **params), 0
    size = cov.shape[dc]
    if size == 0:
        zshape = tuple(z.shape) if dz is None else tuple(s for a, s in enumerate(z.shape) if a != dz)
        return np.zeros((0,) + zshape[:-1], _out_dtype(z.dtype, cov.dtype)), 0

    def example(x: Any, d: Any, b: int) -> Any:
        return x if d is None else getitem_static(x, (slice(None),) * d + (b,))

    outs = [mvn_cdf(example(z, dz, b), example(cov, dc, b), **params) for b in range(size)]
    return fnp.stack(outs, axis=0), 0


mvn_cdf_p = Primitive(
    "mvn_cdf",
    _impl,
    jvp=(_jvp_z, _jvp_cov),
    vjp=(_vjp_z, _vjp_cov),
    batch=_batch,
    abstract_eval=_abstract,
)
mvn_cdf = mvn_cdf_p.bind
