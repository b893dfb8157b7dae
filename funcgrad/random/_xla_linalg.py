"""``multivariate_normal`` and ``orthogonal`` as JAX computes them on CPU, bit for bit, in NumPy.

JAX factors a matrix with LAPACK: jaxlib calls the LAPACK that SciPy ships (it takes the routines'
addresses from ``scipy.linalg.cython_lapack``), so SciPy's ``potrf``, ``syevd``, ``gesdd``,
``geqrf`` and ``orgqr`` give JAX's factors exactly. Without SciPy, NumPy's LAPACK stands in (its
float32 factors differ from JAX's by an ulp or so).

The product ``factor @ z`` is a dot that XLA CPU (jaxlib 0.10.2, x86-64 with AVX2 and FMA3) hands
to one of three kernels, by shape; each sums the products in its own order:

- one vector (``m == 1`` rows of ``z``): XLA's tiled matrix–vector emitter. Each row of the
  factor is cut into vectors of 8 (float32) or 4 (float64) lanes, accumulated with FMAs; the
  lanes are summed pairwise (AVX-style for a tile of as many rows as lanes, halving otherwise)
  and the remaining columns, accumulated in a scalar FMA chain, are added last;
- ``m >= 2`` rows with ``max(m, d) >= 8``: YNNPACK. float64: one FMA chain per element, from the
  first column. float32: that chain when ``d`` mod 16 is 0 or above 8, else the ``k2`` kernel
  (two FMA chains over even and odd columns, added; an odd last column's product added after);
- smaller dots (``2 <= m <= 7``, ``d <= 7``): XLA's own loop, which LLVM vectorises. An FMA chain
  for ``d <= 3``, reproduced; for ``4 <= d <= 7`` the order is not reproduced (float32: an FMA
  chain is used, float64: products and sums rounded one by one, which is XLA's order for most of
  these): such draws may differ from JAX's in the last place.

For ``d == 1`` XLA folds the ``√2`` of the normal draw into the factor and the mean into an FMA:
``fma(e, L·√2, mean)`` with ``e`` the draw before its ``√2``; for a single number ``fma(z, L, mean)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _complex_fma, _xla_math

__all__ = ["have_scipy", "factor", "orthogonal", "factor_dot", "multivariate_normal"]


def have_scipy() -> bool:
    """Whether SciPy's LAPACK (JAX's) is importable; without it NumPy's stands in."""
    return _lapack() is not None


_LAPACK: list[Any] = []


def _lapack() -> Any:
    if not _LAPACK:
        try:
            from scipy.linalg import lapack
        except ImportError:
            lapack = None
        _LAPACK.append(lapack)
    return _LAPACK[0]


def _routine(name: str, dtype: np.dtype) -> Any:
    return getattr(_lapack(), ("s" if dtype == np.float32 else "d") + name)


def _size(lwork: Any) -> int:
    return max(1, int(np.asarray(lwork).real))


def _matrices(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    return x.reshape((-1,) + x.shape[-2:]), x.shape[:-2]


def factor(cov: np.ndarray, method: str) -> np.ndarray:
    """The factor ``F`` with ``F F^T = cov`` (batched over leading axes) as JAX computes it:
    ``"cholesky"`` (lower, of the symmetrised input, NaN where it fails), ``"eigh"`` (``v·√w``, the
    symmetrised input's eigenvectors; negative rounding-error eigenvalues clamped to 0) or ``"svd"``
    (``u·√s``)."""
    cov = np.asarray(cov)
    dtype = cov.dtype
    if method in ("cholesky", "eigh"):
        cov = (cov + np.swapaxes(cov, -1, -2)) * dtype.type(0.5)  # JAX symmetrises the input
    mats, lead = _matrices(cov)
    out = np.empty_like(mats)
    lapack = _lapack()
    with np.errstate(invalid="ignore"):
        for i, a in enumerate(mats):
            if method == "cholesky":
                if lapack is not None:
                    c, info = _routine("potrf", dtype)(a, lower=1, clean=1)
                    out[i] = c if info == 0 else np.nan
                else:
                    try:
                        out[i] = np.linalg.cholesky(a)
                    except np.linalg.LinAlgError:
                        out[i] = np.nan
            elif method == "eigh":
                if lapack is not None:
                    w, v, _ = _routine("syevd", dtype)(a, compute_v=1, lower=1)
                else:
                    w, v = np.linalg.eigh(a)
                out[i] = v * np.sqrt(np.maximum(w, dtype.type(0)))[None, :]
            else:
                if lapack is not None:  # the optimal workspace, as jaxlib asks for (the numbers depend on it)
                    lwork, _ = _routine("gesdd_lwork", dtype)(*a.shape, compute_uv=1, full_matrices=1)
                    u, s, _, _ = _routine("gesdd", dtype)(a, compute_uv=1, full_matrices=1, lwork=_size(lwork))
                else:
                    u, s, _ = np.linalg.svd(a)
                out[i] = u * np.sqrt(s)[None, :]
    return out.reshape(lead + mats.shape[-2:])


def orthogonal(z: np.ndarray) -> np.ndarray:
    """``Q · sign(diag R)`` of the reduced QR factorisation of each ``(rows >= cols)`` matrix ``z``
    (JAX's ``orthogonal`` before its transpose for wide results)."""
    z = np.asarray(z)
    mats, lead = _matrices(z)
    cols = z.shape[-1]
    out = np.empty_like(mats)
    lapack = _lapack()
    for i, a in enumerate(mats):
        if lapack is not None:  # optimal workspaces, as jaxlib asks for (blocked code: other numbers)
            geqrf, orgqr = _routine("geqrf", a.dtype), _routine("orgqr", a.dtype)
            qr, tau, work, _ = geqrf(a, lwork=-1)
            qr, tau, _, _ = geqrf(a, lwork=_size(work[0]))
            r_diag = np.diagonal(qr)[:cols].copy()
            _, work, _ = orgqr(qr[:, :cols], tau, lwork=-1)
            q, _, _ = orgqr(qr[:, :cols], tau, lwork=_size(work[0]))
        else:
            q, r = np.linalg.qr(a)
            r_diag = np.diagonal(r)
        out[i] = q * np.sign(r_diag)[None, :]
    return out.reshape(lead + mats.shape[-2:])


# --- the dot -----------------------------------------------------------------------------------

def _fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a * b + c`` rounded once (same-shape arrays)."""
    dtype = a.dtype
    if a.size and _complex_fma.available(dtype):
        u = np.empty(a.shape, _complex_fma.complex_of(dtype))
        u.real, u.imag = a, c
        w = np.empty(a.shape, u.dtype)
        w.real, w.imag = b, -1.0
        return _complex_fma.multiply(u, w, u).real.copy()  # (a + c i)(b - i): real part a b + c, fused
    if dtype == np.float32:
        return _xla_math.fma32(a, b, c)
    return _xla_math.fma64(a, b, c) if a.size else a * b + c


def _chain(f: np.ndarray, z: np.ndarray, columns: range, acc: np.ndarray | None = None) -> np.ndarray:
    """``acc + Σ_k z[..., k] f[..., k]`` over ``columns``, one FMA per step (``f``: (B, 1, d, d) rows
    of the factor; ``z``: (B, m, 1, d)); from zero unless ``acc`` is given."""
    shape = np.broadcast_shapes(f.shape[:-1], z.shape[:-1])
    if acc is None:
        acc = np.zeros(shape, z.dtype)
    for k in columns:
        a, b = np.broadcast_arrays(z[..., k], f[..., k])
        acc = _fma(np.ascontiguousarray(a), np.ascontiguousarray(b), acc)
    return acc


def _plain_chain(f: np.ndarray, z: np.ndarray, d: int) -> np.ndarray:
    """``Σ_k z[..., k] f[..., k]`` from the first column, each product rounded, then each sum (XLA's
    unfused loop for small float64 dots)."""
    acc = z[..., 0] * f[..., 0]
    for k in range(1, d):
        acc = acc + z[..., k] * f[..., k]
    return acc


def _k2(f: np.ndarray, z: np.ndarray, d: int) -> np.ndarray:
    """YNNPACK's float32 ``k2`` kernel: FMA chains over the even and the odd columns, added; an odd
    last column's product added after."""
    even = d - d % 2
    out = _chain(f, z, range(0, even, 2)) + _chain(f, z, range(1, even, 2))
    if d % 2:
        out = out + z[..., d - 1] * f[..., d - 1]
    return out


def _gemv(f: np.ndarray, z: np.ndarray, d: int) -> np.ndarray:
    """XLA's row-major matrix–vector product (``z``: (B, 1, 1, d), one row)."""
    dtype = z.dtype
    lanes = 8 if dtype == np.float32 else 4
    tiled = d - d % lanes
    rows = f.shape[-2]
    shape = np.broadcast_shapes(f.shape[:-1], z.shape[:-1])
    acc = np.zeros(shape + (lanes,), dtype)
    for start in range(0, tiled, lanes):
        fs, zs = np.broadcast_arrays(f[..., start:start + lanes], z[..., start:start + lanes])
        acc = _fma(np.ascontiguousarray(fs), np.ascontiguousarray(zs), acc)
    scalar = _chain(f, z, range(tiled, d))
    a = [acc[..., j] for j in range(lanes)]
    if lanes == 8:
        halving = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
        avx = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
    else:
        halving = (a[0] + a[2]) + (a[1] + a[3])
        avx = (a[0] + a[1]) + (a[2] + a[3])
    # rows go in tiles of 8; a tile of exactly `lanes` rows is summed AVX-style
    tile_of_row = np.arange(rows)
    full = rows - rows % 8
    tile_rows = np.where(tile_of_row < full, 8, rows - full)
    hsum = np.where(tile_rows == lanes, avx, halving)
    return hsum + scalar


def factor_dot(f: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``einsum('...ij,...j->...i', f, z)`` in XLA CPU's order (see the module docstring)."""
    f, z = np.asarray(f), np.asarray(z)
    d = f.shape[-1]
    fb, zb = f.shape[:-2], z.shape[:-1]
    rank = max(len(fb), len(zb))
    fb = (1,) * (rank - len(fb)) + fb
    zb = (1,) * (rank - len(zb)) + zb
    full = np.broadcast_shapes(fb, zb)
    batch = [a for a in range(rank) if fb[a] > 1]
    free = [a for a in range(rank) if fb[a] == 1]
    order = batch + free
    zt = np.broadcast_to(z.reshape(zb + (d,)), full + (d,)).transpose(order + [rank])
    n_batch = math.prod(full[a] for a in batch)
    m = math.prod(full[a] for a in free)
    z3 = np.ascontiguousarray(zt).reshape(n_batch, m, 1, d)
    f3 = np.ascontiguousarray(f.reshape(fb + (d, d)).transpose(order + [rank, rank + 1])).reshape(n_batch, 1, d, d)
    if m == 1:
        out = _gemv(f3, z3, d)
    elif z.dtype == np.float32 and max(m, d) >= 8 and ((d - 1) // 8) % 2 == 0:
        out = _k2(f3, z3, d)
    elif z.dtype == np.float64 and max(m, d) < 8 and d >= 4:
        out = _plain_chain(f3, z3, d)
    else:
        out = _chain(f3, z3, range(d))
    out = out.reshape([full[a] for a in order] + [d])
    return out.transpose(np.argsort(order + [rank]))


def multivariate_normal(mean: Any, cov: Any, z: Any, erfinv: Any, method: str) -> np.ndarray:
    """JAX's ``mean + factor(cov) @ z``, bit for bit (``erfinv``: ``z`` before its ``√2``, used
    where XLA folds the ``√2`` into a 1 × 1 factor)."""
    z = np.asarray(z)
    dtype = z.dtype
    mean = np.asarray(mean, dtype)
    f = factor(np.asarray(cov, dtype), method)
    if z.shape[-1] == 1:  # XLA: fma(e, L·√2, mean); one number: fma(z, L, mean)
        if z.size == 1:
            x, scaled = z, f[..., 0]
        else:
            x, scaled = np.asarray(erfinv, dtype), f[..., 0] * dtype.type(math.sqrt(2.0))
        x, scaled, mean = np.broadcast_arrays(x, scaled, mean)
        return _fma(np.ascontiguousarray(x), np.ascontiguousarray(scaled), np.ascontiguousarray(mean))
    return mean + factor_dot(f, z)
