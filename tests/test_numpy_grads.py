"""Derivatives of the composite funcgrad.numpy functions.

Expected derivatives come only from central finite differences (``check_grads``, forward and
reverse mode, to second order) or from closed forms written out here with plain NumPy — never
from the code under test.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.test_util import check_grads

rng = np.random.default_rng(2024)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same random data whichever tests run before it (-k, reordering)."""
    global rng
    rng = np.random.default_rng([2024, zlib.crc32(request.node.name.encode())])


def uniform(shape, lo=-1.0, hi=1.0, dtype=np.float64):
    return rng.uniform(lo, hi, shape).astype(dtype)


def away_from_zero(shape, lo=0.3, hi=1.5):
    """Values with |x| in [lo, hi] and random signs: no kinks of abs/sign within a finite-difference step."""
    return uniform(shape, lo, hi) * rng.choice([-1.0, 1.0], size=shape)


A, B = (3, 4), (4, 5)
S3 = (2, 3, 4)

# name: (function, argument shapes[, argument maker])
GRAD_CASES = {
    "mean": (lambda a: fnp.mean(a), [S3]),
    "mean axis": (lambda a: fnp.mean(a, axis=-1), [S3]),
    "mean axes keepdims": (lambda a: fnp.mean(a, axis=(0, 2), keepdims=True), [S3]),
    "var": (lambda a: fnp.var(a), [S3]),
    "var axis ddof": (lambda a: fnp.var(a, axis=1, ddof=1), [S3]),
    "var keepdims": (lambda a: fnp.var(a, axis=(0, -1), keepdims=True), [S3]),
    "std": (lambda a: fnp.std(a), [S3]),
    "std axis": (lambda a: fnp.std(a, axis=0, ddof=1, keepdims=True), [S3]),
    "sum": (lambda a: fnp.sum(a, axis=(1,)), [S3]),
    "prod": (lambda a: fnp.prod(a, axis=1), [S3]),
    "cumsum": (lambda a: fnp.cumsum(a, axis=-1), [S3]),
    "cumprod": (lambda a: fnp.cumprod(a, axis=0), [S3], away_from_zero),
    "max": (lambda a: fnp.max(a, axis=1), [S3]),
    "min keepdims": (lambda a: fnp.min(a, axis=(0, 2), keepdims=True), [S3]),
    "dot mm": (fnp.dot, [A, B]),
    "dot mv": (fnp.dot, [A, (4,)]),
    "dot vm": (fnp.dot, [(3,), A]),
    "dot vv": (fnp.dot, [(4,), (4,)]),
    "dot scalar": (fnp.dot, [(), A]),
    "dot nd": (fnp.dot, [S3, B]),
    "matmul": (fnp.matmul, [A, B]),
    "matmul 1d left": (fnp.matmul, [(4,), B]),
    "matmul 1d right": (fnp.matmul, [A, (4,)]),
    "matmul 1d 1d": (fnp.matmul, [(4,), (4,)]),
    "matmul stacked": (fnp.matmul, [S3, (2, 4, 5)]),
    "matmul stacked broadcast": (fnp.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    "matmul stacked 1d left": (fnp.matmul, [(4,), (2, 4, 5)]),
    "matmul stacked 1d right": (fnp.matmul, [S3, (4,)]),
    "matmul matrix and stack": (fnp.matmul, [A, (2, 4, 5)]),
    "vdot": (fnp.vdot, [A, A]),
    "inner": (fnp.inner, [A, (5, 4)]),
    "inner 1d": (fnp.inner, [(4,), (4,)]),
    "inner 3d": (fnp.inner, [S3, (4,)]),
    "outer": (fnp.outer, [(3,), A]),
    "tensordot 2": (fnp.tensordot, [S3, (3, 4, 2)]),
    "tensordot 1": (lambda a, b: fnp.tensordot(a, b, 1), [A, B]),
    "tensordot 0": (lambda a, b: fnp.tensordot(a, b, axes=0), [(3,), (2,)]),
    "tensordot axes": (lambda a, b: fnp.tensordot(a, b, axes=([0, 2], [0, 1])), [S3, (2, 4, 5)]),
    "einsum matmul": (lambda a, b: fnp.einsum("ij,jk->ik", a, b), [A, B]),
    "einsum implicit": (lambda a, b: fnp.einsum("ij,jk", a, b), [A, B]),
    "einsum implicit transpose": (lambda a: fnp.einsum("ji", a), [A]),
    "einsum ellipsis": (lambda a, b: fnp.einsum("...ij,...jk->...ik", a, b), [S3, (2, 4, 5)]),
    "einsum ellipsis implicit": (lambda a, b: fnp.einsum("...ij,...jk", a, b), [S3, B]),
    "einsum ellipsis broadcast": (lambda a, b: fnp.einsum("...j,j->...", a, b), [S3, (4,)]),
    "einsum sum over one operand": (lambda a, b: fnp.einsum("ij,k->k", a, b), [A, (2,)]),
    "einsum three operands": (lambda a, b, c: fnp.einsum("ij,jk,k->i", a, b, c), [A, B, (5,)]),
    "einsum trace": (lambda a: fnp.einsum("ii", a), [(3, 3)]),
    "einsum diagonal": (lambda a: fnp.einsum("ii->i", a), [(3, 3)]),
    "einsum batch diagonal": (lambda a, b: fnp.einsum("bii,bi->b", a, b), [(2, 3, 3), (2, 3)]),
    "trace": (fnp.trace, [A]),
    "trace offset": (lambda a: fnp.trace(a, -1), [A]),
    "trace axes": (lambda a: fnp.trace(a, 1, 2, 0), [S3]),
    "diag extract": (fnp.diag, [A]),
    "diag extract k": (lambda a: fnp.diag(a, 2), [A]),
    "diag build": (fnp.diag, [(3,)]),
    "diag build k": (lambda a: fnp.diag(a, -2), [(3,)]),
    "triu": (fnp.triu, [A]),
    "triu k": (lambda a: fnp.triu(a, 1), [S3]),
    "tril": (fnp.tril, [A]),
    "tril k": (lambda a: fnp.tril(a, -1), [S3]),
    "tril 1d": (lambda a: fnp.tril(a, 1), [(3,)]),
    "tile": (lambda a: fnp.tile(a, 3), [(2,)]),
    "tile nd": (lambda a: fnp.tile(a, (2, 1, 3)), [A]),
    "tile fewer reps": (lambda a: fnp.tile(a, 2), [A]),
    "repeat": (lambda a: fnp.repeat(a, 2), [A]),
    "repeat axis": (lambda a: fnp.repeat(a, 3, axis=-1), [A]),
    "repeat counts": (lambda a: fnp.repeat(a, [2, 0, 1], axis=0), [A]),
    "split": (lambda a: fnp.split(a, 2, axis=1), [A]),
    "split indices": (lambda a: fnp.split(a, [1, 3], axis=-1), [A]),
    "stack": (lambda a, b: fnp.stack([a, b]), [A, A]),
    "stack last": (lambda a, b: fnp.stack([a, b], axis=-1), [A, A]),
    "stack with constant": (lambda a: fnp.stack([a, np.ones(A)], axis=1), [A]),
    "hstack": (lambda a, b: fnp.hstack([a, b]), [A, (3, 2)]),
    "hstack 1d": (lambda a, b: fnp.hstack([a, b]), [(3,), (2,)]),
    "vstack": (lambda a, b: fnp.vstack([a, b]), [A, (4,)]),
    "vstack 1d": (lambda a, b: fnp.vstack([a, b]), [(4,), (4,)]),
    "concatenate": (lambda a, b: fnp.concatenate([a, b], axis=1), [A, (3, 2)]),
    "concatenate axis none": (lambda a, b: fnp.concatenate([a, b], axis=None), [A, (4,)]),
    "concatenate three": (lambda a, b: fnp.concatenate([a, np.zeros((1, 4)), b]), [A, (2, 4)]),
    "flip": (lambda a: fnp.flip(a, 1), [A]),
    "flip all": (fnp.flip, [S3]),
    "flip tuple": (lambda a: fnp.flip(a, (0, -1)), [S3]),
    "moveaxis": (lambda a: fnp.moveaxis(a, 0, -1), [S3]),
    "moveaxis several": (lambda a: fnp.moveaxis(a, [0, 1], [-1, 0]), [S3]),
    "swapaxes": (lambda a: fnp.swapaxes(a, 0, 2), [S3]),
    "squeeze": (fnp.squeeze, [(1, 3, 1)]),
    "squeeze axis": (lambda a: fnp.squeeze(a, -1), [(1, 3, 1)]),
    "expand_dims": (lambda a: fnp.expand_dims(a, 1), [A]),
    "expand_dims tuple": (lambda a: fnp.expand_dims(a, (0, -1)), [A]),
    "broadcast_to": (lambda a: fnp.broadcast_to(a, S3), [(4,)]),
    "broadcast_to middle": (lambda a: fnp.broadcast_to(a, S3), [(3, 1)]),
    "broadcast_to 0d": (lambda a: fnp.broadcast_to(a, (2, 2)), [()]),
    "reshape": (lambda a: fnp.reshape(a, (4, -1)), [S3]),
    "transpose": (lambda a: fnp.transpose(a, (2, 0, 1)), [S3]),
    "ravel": (fnp.ravel, [S3]),
    "clip": (lambda a: fnp.clip(a, -0.5, 0.5), [A], lambda s: away_from_zero(s, 0.1, 0.4) * 2.0),
    "clip lower only": (lambda a: fnp.clip(a, -0.5, None), [A], lambda s: away_from_zero(s, 0.1, 0.4) * 2.0),
    "clip traced bounds": (lambda a, lo, hi: fnp.clip(a, lo, hi), [A, (4,), ()],
                           lambda s: {(4,): np.full(4, -0.5), (): np.array(0.5)}.get(s, uniform(s, 0.1, 0.4) * 2.0
                                                                                   * rng.choice([-1, 1], s))),
    "where": (lambda a, b: fnp.where(a > 0, a * a, b), [A, A]),
    "where broadcast": (lambda a, b: fnp.where(a[0] > 0, a, b), [A, (4,)]),
    "where scalar branch": (lambda a: fnp.where(a > 0, a, 0.0), [A]),
    "square": (fnp.square, [A]),
    "reciprocal": (fnp.reciprocal, [A], away_from_zero),
    "pad constant": (lambda a: fnp.pad(a, ((1, 2), (0, 3))), [A]),
    "pad constant value": (lambda a: fnp.pad(a, 2, constant_values=1.5), [(3,)]),
    "pad edge": (lambda a: fnp.pad(a, ((1, 2), (3, 0)), mode="edge"), [A]),
    "pad reflect": (lambda a: fnp.pad(a, ((1, 2), (3, 1)), mode="reflect"), [A]),
    "pad reflect wider than the array": (lambda a: fnp.pad(a, (5, 6), mode="reflect"), [(3,)]),
    "pad symmetric": (lambda a: fnp.pad(a, ((2, 2), (4, 1)), mode="symmetric"), [A]),
    "pad wrap": (lambda a: fnp.pad(a, ((1, 2), (5, 1)), mode="wrap"), [A]),
    "pad 3d one axis": (lambda a: fnp.pad(a, ((0, 0), (1, 1), (0, 0)), mode="edge"), [S3]),
    "logsumexp": (special.logsumexp, [S3]),
    "logsumexp axis": (lambda a: special.logsumexp(a, axis=1), [S3]),
    "logsumexp axes keepdims": (lambda a: special.logsumexp(a, axis=(0, 2), keepdims=True), [S3]),
    "logsumexp b": (lambda a, b: special.logsumexp(a, axis=-1, b=b), [S3, (4,)], lambda s: uniform(s, 0.5, 2.0)),
    "logsumexp b keepdims": (lambda a, b: special.logsumexp(a, axis=0, b=b, keepdims=True), [A, A],
                             lambda s: uniform(s, 0.5, 2.0)),
    "logsumexp large": (lambda a: special.logsumexp(a + 1000.0, axis=0), [A]),
    "expit": (special.expit, [A], lambda s: uniform(s, -4, 4)),
    "softmax": (special.softmax, [A]),
    "softmax axis": (lambda a: special.softmax(a, axis=-1), [S3]),
    "softmax large": (lambda a: special.softmax(a * 3.0 + 1000.0, axis=0), [A]),
}

# Issue 9 §1: the functions added to cover NumPy's namespace (compositions of the primitives).
_XP = np.array([-0.9, -0.2, 0.4, 1.1])  # interp knots: the random points never sit on one
_NANS = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]) > 0.5


def _with_nans(a):
    """``a`` (3, 4) with NaNs at fixed places (their derivative is zero; the others' is checked)."""
    return fnp.where(_NANS, np.nan, a)


GRAD_CASES.update({
    "sum where initial": (lambda a: fnp.sum(a, axis=1, where=_NANS, initial=0.5), [A]),
    "prod where": (lambda a: fnp.prod(a, axis=0, where=~_NANS), [A], away_from_zero),
    "max where initial": (lambda a: fnp.max(a, axis=1, where=~_NANS, initial=-5.0), [A]),
    "min initial": (lambda a: fnp.min(a, axis=0, initial=5.0), [A]),
    "mean where": (lambda a: fnp.mean(a, axis=1, where=~_NANS), [A]),
    "var where": (lambda a: fnp.var(a, axis=1, where=~_NANS, ddof=1), [A]),
    "std where": (lambda a: fnp.std(a, where=~_NANS), [A]),
    "array of traced values": (lambda a, b: fnp.array([a, b, 2.0 * a]), [(), ()]),
    "mean of a list": (lambda a, b: fnp.mean([a, b * b]), [(), ()]),
    "append to a list": (lambda a, b: fnp.append([1.0, a], b), [(), (2,)]),
    "full traced fill": (lambda a: fnp.full((2, 3), a), [()]),
    "full traced row": (lambda a: fnp.full((2, 3), a), [(3,)]),
    "einsum sublists": (lambda a, b: fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]), [A, B]),
    "einsum sublists ellipsis": (lambda a, b: fnp.einsum(a, [Ellipsis, 1], b, [1]), [S3, (4,)]),
    "nanmax": (lambda a: fnp.nanmax(_with_nans(a), axis=1), [A]),
    "nanmin": (lambda a: fnp.nanmin(_with_nans(a), axis=0), [A]),
    "nanprod": (lambda a: fnp.nanprod(_with_nans(a), axis=1), [A], away_from_zero),
    "nancumsum": (lambda a: fnp.nancumsum(_with_nans(a), axis=1), [A]),
    "nancumprod": (lambda a: fnp.nancumprod(_with_nans(a), axis=1), [A], away_from_zero),
    "nanvar": (lambda a: fnp.nanvar(_with_nans(a), axis=1), [A]),
    "nanstd": (lambda a: fnp.nanstd(_with_nans(a), axis=0, ddof=1), [A]),
    "nanmedian": (lambda a: fnp.nanmedian(_with_nans(a), axis=1), [A]),
    "nanquantile": (lambda a: fnp.nanquantile(_with_nans(a), [0.3, 0.8], axis=1), [A]),
    "nanpercentile": (lambda a: fnp.nanpercentile(_with_nans(a), 40.0), [A]),
    "ptp": (lambda a: fnp.ptp(a, axis=1), [A]),
    "average": (lambda a: fnp.average(a, axis=1), [A]),
    "average weights": (lambda a, w: fnp.average(a, axis=1, weights=w), [A, (4,)], lambda s: uniform(s, 0.5, 2.0)),
    "cov": (fnp.cov, [A]),
    "cov rowvar y": (lambda a, b: fnp.cov(a, b, rowvar=False), [(5, 2), (5,)]),
    "cov weights": (lambda a, w: fnp.cov(a, aweights=w, ddof=0), [A, (4,)], lambda s: uniform(s, 0.5, 2.0)),
    "corrcoef": (fnp.corrcoef, [A]),
    "interp": (lambda x, fp: fnp.interp(x, _XP, fp), [(6,), (4,)]),
    "interp knots": (lambda xp: fnp.interp(np.array([-0.5, 0.0, 0.7]), fnp.sort(xp), np.arange(4.0)), [(4,)],
                     lambda s: np.array([-0.9, -0.2, 0.4, 1.1]) + uniform(s, -0.05, 0.05)),
    "interp left right": (lambda fp: fnp.interp(np.array([-2.0, 0.0, 2.0]), _XP, fp, left=-1.0, right=fp[0]),
                          [(4,)]),
    "trapezoid": (lambda y: fnp.trapezoid(y, axis=0), [A]),
    "trapezoid x": (lambda y, x: fnp.trapezoid(y, x), [A, (4,)]),
    "convolve": (fnp.convolve, [(5,), (3,)]),
    "convolve same": (lambda a, v: fnp.convolve(a, v, "same"), [(3,), (5,)]),
    "correlate": (fnp.correlate, [(5,), (3,)]),
    "correlate full": (lambda a, v: fnp.correlate(a, v, "full"), [(3,), (4,)]),
    "bincount weights": (lambda w: fnp.bincount(np.array([0, 2, 2, 3]), w), [(4,)]),
    "histogram weights": (lambda w: fnp.histogram(np.array([0.1, 0.5, 0.55, 0.9]), 3, weights=w)[0], [(4,)]),
    "histogram density": (lambda w: fnp.histogram(np.array([0.1, 0.5, 0.55, 0.9]), 3, weights=w, density=True)[0],
                          [(4,)], lambda s: uniform(s, 0.5, 2.0)),
    "polyval": (fnp.polyval, [(4,), (5,)]),
    "polyfit": (lambda x, y: fnp.polyfit(x, y, 2), [(6,), (6,)]),
    "roots": (lambda p: fnp.roots(fnp.concatenate([np.ones(1), p])), [(2,)],
              lambda s: np.array([-3.0, 2.0]) + uniform(s, -0.1, 0.1)),
    "poly": (fnp.poly, [(3,)]),
    "polyadd": (fnp.polyadd, [(3,), (2,)]),
    "polysub": (fnp.polysub, [(2,), (3,)]),
    "polymul": (fnp.polymul, [(3,), (2,)]),
    "polydiv": (lambda u, v: fnp.polydiv(u, v)[0], [(4,), (2,)], lambda s: uniform(s, 0.5, 1.5)),
    "polyder": (lambda p: fnp.polyder(p, 2), [(4,)]),
    "polyint": (lambda p, k: fnp.polyint(p, 2, k), [(3,), (2,)]),
    "vander": (lambda x: fnp.vander(x, 4), [(3,)]),
    "vander increasing": (lambda x: fnp.vander(x, increasing=True), [(3,)]),
    "ediff1d": (lambda a: fnp.ediff1d(a, to_begin=a[0]), [A]),
    "float_power": (fnp.float_power, [A, (4,)], lambda s: uniform(s, 0.5, 2.0)),
    "fmod": (fnp.fmod, [A, (4,)], lambda s: uniform(s, 0.1, 0.45) + rng.integers(0, 3, s) if s == A
             else uniform(s, 1.0, 1.05)),
    "modf": (lambda a: fnp.modf(a)[0], [A], lambda s: uniform(s, 0.1, 0.9) + rng.integers(-3, 3, s)),
    "copysign": (fnp.copysign, [A, (4,)], away_from_zero),
    "heaviside": (lambda a, h: fnp.heaviside(fnp.where(a > 0.5, 0.0, a), h), [A, (4,)]),
    "ldexp": (lambda a: fnp.ldexp(a, np.array([1, -2, 0, 3])), [A]),
    "frexp mantissa": (lambda a: fnp.frexp(a)[0], [A], away_from_zero),
    "divmod remainder": (lambda a: fnp.divmod(a, 0.7)[1], [A], lambda s: uniform(s, 0.05, 0.65) + 0.7 * rng.integers(
        -2, 2, s)),
    "acos atan2 asinh": (lambda a, b: fnp.acos(a * 0.5) + fnp.atan2(a, b + 2.0) + fnp.asinh(b), [A, A]),
    "pow": (lambda a: fnp.pow(a, 3.0), [A]),
    "unwrap": (lambda p: fnp.unwrap(p * 4.0), [(6,)]),
    "sort_complex": (lambda a: fnp.sort_complex(a), [(5,)]),
    "logspace": (lambda a, b: fnp.logspace(a, b, 4), [(), ()]),
    "geomspace": (lambda a, b: fnp.geomspace(a, b, 4), [(), ()], lambda s: uniform(s, 0.5, 2.0)),
    "meshgrid": (lambda a, b: fnp.meshgrid(a, b)[0] * fnp.meshgrid(a, b, indexing="ij")[1].T, [(3,), (2,)]),
    "block": (lambda a, b: fnp.block([[a, b], [b, a]]), [(2, 2), (2, 2)]),
    "broadcast_arrays": (lambda a, b: fnp.broadcast_arrays(a, b)[0] * fnp.broadcast_arrays(a, b)[1], [(3, 1), (4,)]),
    "diagflat": (lambda a: fnp.diagflat(a, 1), [(2, 2)]),
    "copy": (fnp.copy, [A]),
    "unstack": (lambda a: fnp.unstack(a, axis=1)[2], [A]),
    "resize": (lambda a: fnp.resize(a, (3, 5)), [A]),
    "cumulative_sum": (lambda a: fnp.cumulative_sum(a, axis=1, include_initial=True), [A]),
    "cumulative_prod": (lambda a: fnp.cumulative_prod(a, axis=0), [A], away_from_zero),
    "apply_along_axis": (lambda a: fnp.apply_along_axis(lambda r: fnp.sum(r * r), 1, a), [A]),
    "apply_over_axes": (lambda a: fnp.apply_over_axes(fnp.sum, a, [0, 2]), [S3]),
    "piecewise": (lambda a: fnp.piecewise(a, [a < 0, a >= 0], [lambda v: -v * v, lambda v: 2.0 * v]), [A],
                  away_from_zero),
    "vectorize": (lambda a, b: fnp.vectorize(lambda u, w: u * w if u > 0 else w)(a, b), [(3,), (3,)],
                  away_from_zero),
    "concat permute_dims": (lambda a: fnp.permute_dims(fnp.concat([a, a * a], axis=0), (1, 0)), [A]),
    "matrix_transpose": (fnp.matrix_transpose, [S3]),
    "choose": (lambda a, b: fnp.choose(np.array([0, 1, 1, 0]), [a, b]), [(4,), (4,)]),
    "delete": (lambda a: fnp.delete(a, [0, 2], axis=1), [A]),
    "insert": (lambda a, v: fnp.insert(a, [1, 3], v, axis=1), [A, (3, 2)]),
    "put_along_axis": (lambda a, v: fnp.put_along_axis(a, np.array([[1], [0], [3]]), v, 1, inplace=False),
                       [A, (3, 1)]),
    "compress": (lambda a: fnp.compress([True, False, True], a, axis=0), [A]),
    "extract": (lambda a: fnp.extract(np.arange(12).reshape(A) % 3 == 0, a), [A]),
    "unique": (lambda a: fnp.unique(fnp.concatenate([a, a[:2]])), [(4,)]),
    "intersect1d union1d": (lambda a: fnp.intersect1d(a, a[1:3]) + fnp.union1d(a[:2], a[:2])[0], [(4,)]),
    "trim_zeros": (lambda a: fnp.trim_zeros(fnp.concatenate([np.zeros(2), a, np.zeros(1)])), [(3,)],
                   away_from_zero),
    "vecdot": (lambda a, b: fnp.vecdot(a, b), [S3, (4,)]),
    "matvec": (fnp.matvec, [S3, (4,)]),
    "vecmat": (fnp.vecmat, [(3,), S3]),
    "linalg vecdot": (lambda a, b: fnp.linalg.vecdot(a, b, axis=0), [A, A]),
    "linalg cross": (lambda a, b: fnp.linalg.cross(a, b), [(2, 3), (3,)]),
    "linalg outer": (fnp.linalg.outer, [(4,), (3,)]),
    "linalg trace": (lambda a: fnp.linalg.trace(a, offset=1), [S3]),
    "linalg diagonal": (lambda a: fnp.linalg.diagonal(a, offset=-1), [S3]),
    "linalg matmul": (fnp.linalg.matmul, [A, B]),
    "linalg tensordot": (lambda a, b: fnp.linalg.tensordot(a, b, axes=1), [A, B]),
    "linalg tensorinv": (lambda a: fnp.linalg.tensorinv(a + fnp.reshape(fnp.eye(4) * 3.0, (4, 2, 2)), ind=1),
                         [(4, 2, 2)]),
    "linalg tensorsolve": (lambda a, b: fnp.linalg.tensorsolve(a + fnp.reshape(fnp.eye(6) * 3.0, (2, 3, 6)), b),
                           [(2, 3, 6), (2, 3)]),
    "at multiply divide power": (lambda a, v: fnp.at(fnp.at(fnp.at(a)[0, [1, 3]].multiply(v)
                                                          )[1:, 0].divide(v[0] + 2.0))[2].power(v[1] + 1.0),
                                 [A, (2,)], lambda s: uniform(s, 0.5, 1.5)),
    "at min max distinct": (lambda a, v: fnp.at(fnp.at(a)[[0, 2], 1].min(v))[1, ::2].max(v), [A, (2,)],
                            lambda s: 0.2 * rng.permutation(np.prod(s, dtype=int)).reshape(s) + 0.05),
    "at apply": (lambda a: fnp.at(a)[1, 1:3].apply(fnp.sin), [A]),
    "at get fill": (lambda a: fnp.at(a)[np.array([0, 5, -1])].get(mode="fill", fill_value=0.0), [(4,)]),
    "at set drop": (lambda a, v: fnp.at(a)[np.array([1, 9])].set(v, mode="drop"), [(4,), (2,)]),
    "at add clip": (lambda a, v: fnp.at(a)[np.array([1, 9])].add(v, mode="clip"), [(4,), (2,)]),
})


# Issue 9 audit: differentiable names of funcgrad.numpy that had no row above (0-d and empty where they apply).
def _inverse_trig(a):
    return fnp.asin(a * 0.5) + fnp.atan(a) + fnp.atanh(a * 0.5) + fnp.acosh(a * a + 1.5)


def _as_array_family(a):
    return (fnp.asarray(a) * fnp.asanyarray(a) + fnp.ascontiguousarray(a) + fnp.asfortranarray(a)
            + fnp.asarray_chkfinite(a) + fnp.require(a))


_HX = np.array([0.1, 0.4, 0.45, 0.9, 1.3])  # the last point falls outside the range below: dropped
_HY = np.array([0.2, 0.8, 0.3, 0.6, 0.5])

GRAD_CASES.update({
    "asin atan atanh acosh broadcast": (lambda a, b: _inverse_trig(a * b), [A, (4,)]),
    "asin atan atanh acosh 0-d": (_inverse_trig, [()]),
    "asin atan atanh acosh empty": (_inverse_trig, [(0, 3)]),
    "positive": (fnp.positive, [A]),
    "positive 0-d": (fnp.positive, [()]),
    "amin": (lambda a: fnp.amin(a, axis=1), [A]),
    "amin 0-d": (fnp.amin, [()]),
    "amin empty initial": (lambda a: fnp.amin(a, axis=0, initial=2.0), [(0, 3)]),
    "around fix (zero)": (lambda a: fnp.around(a) * a + fnp.fix(a) + a, [A],
                          lambda s: uniform(s, 0.1, 0.4) + rng.integers(-2, 2, s)),
    "asarray family": (_as_array_family, [A]),
    "asarray family 0-d": (_as_array_family, [()]),
    "asarray family empty": (_as_array_family, [(0, 2)]),
    "unique_values": (lambda a: fnp.unique_values(fnp.concatenate([a, a[:2]])), [(4,)]),
    "unique_all values": (lambda a: fnp.unique_all(fnp.concatenate([a, a[1:3]])).values, [(4,)]),
    "unique_counts values": (lambda a: fnp.unique_counts(fnp.concatenate([a, a[1:3]])).values, [(4,)]),
    "unique_inverse values": (lambda a: fnp.unique_inverse(fnp.concatenate([a, a[1:3]])).values, [(4,)]),
    "setdiff1d": (lambda a: fnp.setdiff1d(a, a[1:3]), [(4,)]),
    "setxor1d": (fnp.setxor1d, [(4,), (3,)]),
    "histogram2d weights": (lambda w: fnp.histogram2d(_HX, _HY, bins=2, range=[[0, 1], [0, 1]], weights=w)[0],
                            [(5,)]),
    "histogram2d density": (lambda w: fnp.histogram2d(_HX, _HY, bins=[2, 3], weights=w, density=True)[0], [(5,)],
                            lambda s: uniform(s, 0.5, 2.0)),
    "histogramdd weights": (lambda w: fnp.histogramdd(np.stack([_HX, _HY], 1), bins=2, weights=w)[0], [(5,)]),
    "histogramdd density": (lambda w: fnp.histogramdd(np.stack([_HX, _HY, _HY], 1), bins=(2, 1, 3), weights=w,
                                                      density=True)[0], [(5,)], lambda s: uniform(s, 0.5, 2.0)),
    "histogram_bin_edges": (lambda a: fnp.histogram_bin_edges(a, 3), [A]),
    "histogram_bin_edges auto": (lambda a: fnp.histogram_bin_edges(a, "auto"), [(6,)]),
    "histogram_bin_edges 0-d": (lambda a: fnp.histogram_bin_edges(a, 2), [()]),
    "amax": (lambda a: fnp.amax(a, axis=0, keepdims=True), [A]),
    "amax 0-d": (fnp.amax, [()]),
    "linspace": (lambda a, b: fnp.linspace(a, b, 5), [(), ()]),
    "linspace array endpoints broadcast": (lambda a, b: fnp.linspace(a, b, 4, axis=1, endpoint=False), [(3,), (2, 3)]),
    "linspace array endpoints last axis": (lambda a: fnp.linspace(a, 2.0, 3, axis=-1, retstep=True), [A]),
    "linspace empty endpoints": (lambda a, b: fnp.linspace(a, b, 3), [(0, 2), (2,)]),
    "rint (zero)": (lambda a: fnp.rint(a) * a + a, [A], lambda s: uniform(s, 0.1, 0.4) + rng.integers(-2, 2, s)),
    "kaiser beta": (lambda b: fnp.kaiser(5, b), [()], lambda s: uniform(s, 1.0, 3.0)),
    "fill_diagonal": (lambda a, v: fnp.fill_diagonal(a, v, inplace=False), [A, (3,)]),
    "fill_diagonal scalar wrap": (lambda a, v: fnp.fill_diagonal(a, v, wrap=True, inplace=False), [(7, 3), ()]),
    "put": (lambda a, v: fnp.put(a, [0, 5, 11], v, inplace=False), [A, (3,)]),
    "put clip repeat": (lambda a, v: fnp.put(a, [0, 20, 3], v, mode="clip", inplace=False), [A, (2,)]),
    "place": (lambda a, v: fnp.place(a, _NANS, v, inplace=False), [A, (3,)]),
    "place repeat": (lambda a, v: fnp.place(a, _NANS, v, inplace=False), [A, (2,)]),
    "putmask": (lambda a, v: fnp.putmask(a, _NANS, v, inplace=False), [A, (2,)]),
    "putmask 0-d": (lambda a, v: fnp.putmask(a, np.array(True), v, inplace=False), [(), ()]),
})

NORMS = [  # (ord, axis, keepdims, shape)
    (None, None, False, (4,)), (None, None, True, A), (None, None, False, S3), (None, 1, False, S3),
    (None, (0, 2), True, S3), (2, None, False, (4,)), (2, -1, True, A), (1, None, False, (4,)), (1, 0, False, A),
    (np.inf, None, False, (4,)), (-np.inf, 1, False, A), (-1, None, False, (4,)), (-2, None, False, (4,)),
    (3, 0, False, A), (0.5, -1, True, A), ("fro", None, False, A), ("fro", (2, 0), True, S3),
    (1, None, False, A), (-1, None, True, A), (np.inf, None, False, A), (-np.inf, None, False, A),
    (1, (1, 0), False, A), (np.inf, (2, 0), False, S3), (None, 0, False, (4,)),
]
for _ord, _axis, _kd, _shape in NORMS:
    GRAD_CASES[f"norm ord={_ord} axis={_axis} keepdims={_kd} {_shape}"] = (
        lambda a, o=_ord, ax=_axis, kd=_kd: fnp.linalg.norm(a, o, ax, kd), [_shape], away_from_zero)


UNARY_DOMAINS = {
    "exp": (-2, 2), "log": (0.1, 3), "log1p": (-0.5, 3), "expm1": (-2, 2), "log2": (0.1, 3),
    "log10": (0.1, 3), "sqrt": (0.1, 3), "cbrt": (0.1, 3), "square": (-2, 2), "reciprocal": (0.2, 3),
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9),
    "arctan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-2, 2), "arcsinh": (-3, 3),
    "arccosh": (1.1, 3), "arctanh": (-0.9, 0.9), "abs": (0.1, 2), "negative": (-2, 2),
}
for _name, (_lo, _hi) in UNARY_DOMAINS.items():
    GRAD_CASES[f"elementwise {_name}"] = (getattr(fnp, _name), [A], lambda s, lo=_lo, hi=_hi: uniform(s, lo, hi))
for _name in ("power", "arctan2", "maximum", "minimum", "fmax", "fmin", "logaddexp", "hypot", "divide", "remainder"):
    GRAD_CASES[f"elementwise {_name} broadcast"] = (getattr(fnp, _name), [A, (4,)], lambda s: uniform(s, 0.6, 2.0))
GRAD_CASES["elementwise sign floor ceil round (zero)"] = (
    lambda a: fnp.sign(a) + fnp.floor(a) + fnp.ceil(a) + fnp.round(a) + a, [A], lambda s: uniform(s, 0.1, 0.4))


def _make_args(case):
    fn, shapes = case[0], case[1]
    maker = case[2] if len(case) > 2 else uniform
    return fn, [maker(s) for s in shapes]


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_grads_against_finite_differences(name):
    fn, args = _make_args(GRAD_CASES[name])
    check_grads(fn, args, order=2)


@pytest.mark.parametrize("name", ["mean", "var", "std", "dot mm", "matmul stacked", "einsum ellipsis", "trace",
                                  "pad reflect", "logsumexp b", "softmax",
                                  "norm ord=None axis=None keepdims=True (3, 4)",
                                  "norm ord=1 axis=None keepdims=False (3, 4)", "tile nd", "repeat counts", "clip"])
def test_grads_float32(name):
    fn, args = _make_args(GRAD_CASES[name])
    args32 = [a.astype(np.float32) for a in args]
    check_grads(fn, args32, order=1)
    out, pullback = fg.vjp(fn, *args32)
    leaves = out if isinstance(out, list) else [out]
    assert all(o.dtype == np.float32 for o in leaves)
    cts = pullback([np.ones_like(o) for o in leaves] if isinstance(out, list) else np.ones_like(out))
    for g, a in zip(cts, args32, strict=True):
        assert type(g) is np.ndarray and g.dtype == np.float32 and g.shape == a.shape


@pytest.mark.parametrize("name", ["mean", "dot vv", "diag build", "split", "logsumexp",
                                  "norm ord=None axis=0 keepdims=False (4,)"])
def test_pullback_results_are_ndarrays(name):
    fn, args = _make_args(GRAD_CASES[name])
    out, pullback = fg.vjp(fn, *args)
    cts = pullback([np.ones_like(o) for o in out] if isinstance(out, list) else np.ones_like(out))
    for g, a in zip(cts, args, strict=True):
        assert type(g) is np.ndarray and g.shape == a.shape and g.dtype == a.dtype
    g = fg.grad(lambda *xs: fnp.sum(fnp.concatenate([fnp.ravel(o) for o in (fn(*xs) if isinstance(out, list)
                                                                            else [fn(*xs)])])))(*args)
    assert type(g) is np.ndarray and g.shape == args[0].shape


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # mean/var of an empty slice warn, as in NumPy
def test_empty_and_0d_grads():
    e = np.zeros((0, 3))
    for f in [fnp.sum, fnp.mean, lambda a: fnp.sum(fnp.exp(a)), lambda a: fnp.linalg.norm(a),
              lambda a: special.logsumexp(a), lambda a: fnp.sum(a @ np.ones((3, 2))), lambda a: fnp.sum(fnp.var(a, 0))]:
        g = fg.grad(f)(e)
        assert type(g) is np.ndarray and g.shape == (0, 3) and g.dtype == np.float64
    z = np.array(0.7)
    check_grads(lambda a: fnp.sum(a) * fnp.mean(a) + fnp.max(a) * fnp.linalg.norm(a), [z], order=2)
    check_grads(lambda a: fnp.stack([a, a * 2.0]), [z], order=2)
    check_grads(lambda a: fnp.broadcast_to(fnp.expand_dims(a, 0), (3,)), [z], order=2)
    g = fg.grad(lambda a: a * a)(0.5)
    assert type(g) is np.ndarray and g.shape == () and g == 1.0


# --- closed forms -------------------------------------------------------------------------------


def test_mean_var_std_closed_forms():
    x = uniform(S3)
    n = x.size
    np.testing.assert_allclose(fg.grad(fnp.mean)(x), np.full(S3, 1.0 / n))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.mean(a, axis=1)))(x), np.full(S3, 1.0 / 3))
    np.testing.assert_allclose(fg.grad(fnp.var)(x), 2.0 * (x - x.mean()) / n)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.var(a, ddof=1))(x), 2.0 * (x - x.mean()) / (n - 1))
    sd = x.std()
    np.testing.assert_allclose(fg.grad(fnp.std)(x), (x - x.mean()) / (n * sd))
    m = x.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.var(a, axis=0)))(x), 2.0 * (x - m) / 2)


def test_matmul_dot_closed_forms():
    a, b = uniform(A), uniform(B)
    ct = uniform((3, 5))
    _, pullback = fg.vjp(fnp.matmul, a, b)
    ga, gb = pullback(ct)
    np.testing.assert_allclose(ga, ct @ b.T)
    np.testing.assert_allclose(gb, a.T @ ct)
    sa, sb = uniform((2, 1, 3, 4)), uniform((3, 4, 2))
    ct = uniform((2, 3, 3, 2))
    ga, gb = fg.vjp(fnp.matmul, sa, sb)[1](ct)
    np.testing.assert_allclose(ga, np.sum(ct @ np.swapaxes(sb, -1, -2), axis=1, keepdims=True))
    np.testing.assert_allclose(gb, np.sum(np.swapaxes(sa, -1, -2) @ ct, axis=0))
    v, w = uniform(4), uniform(4)
    gv, gw = fg.grad(fnp.dot, argnums=(0, 1))(v, w)
    np.testing.assert_allclose(gv, w)
    np.testing.assert_allclose(gw, v)
    # ndarray @ tracer and tracer @ ndarray
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(a @ x))(b), np.outer(a.sum(0), np.ones(5)))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(x @ b))(a), np.outer(np.ones(3), b.sum(1)))


def test_contraction_closed_forms():
    a = uniform((3, 3))
    np.testing.assert_allclose(fg.grad(fnp.trace)(a), np.eye(3))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.trace(x, 1))(a), np.eye(3, k=1))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.einsum("ii", x))(a), np.eye(3))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.diag(x)))(a), np.eye(3))
    v = uniform(3)
    ct = uniform((4, 4))
    np.testing.assert_allclose(fg.vjp(lambda x: fnp.diag(x, 1), v)[1](ct)[0], np.diag(ct, 1))
    x, y = uniform(A), uniform((5, 4))
    ct = uniform((3, 5))
    gx, gy = fg.vjp(fnp.inner, x, y)[1](ct)
    np.testing.assert_allclose(gx, ct @ y)
    np.testing.assert_allclose(gy, ct.T @ x)
    u = uniform(2)
    ct = uniform((3, 2))
    gv, gu = fg.vjp(fnp.outer, v, u)[1](ct)
    np.testing.assert_allclose(gv, ct @ u)
    np.testing.assert_allclose(gu, ct.T @ v)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.vdot(t, x))(x), x)


def test_shape_function_closed_forms():
    x = uniform(A)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.tile(a, (2, 3))))(x), np.full(A, 6.0))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.repeat(a, [2, 0, 1], axis=0)))(x),
                               np.array([[2.0] * 4, [0.0] * 4, [1.0] * 4]))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.triu(a)))(x), np.triu(np.ones(A)))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.tril(a, -1)))(x), np.tril(np.ones(A), -1))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.broadcast_to(a, (2, 3, 4))))(x), np.full(A, 2.0))
    # pad: each input element's gradient is the number of times it appears in the padded output
    v = uniform(4)
    for mode in ("edge", "reflect", "symmetric", "wrap"):
        counts = np.bincount(np.pad(np.arange(4), (3, 5), mode=mode), minlength=4).astype(float)
        np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.pad(a, (3, 5), mode=mode)))(v), counts, err_msg=mode)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.pad(a, 2, constant_values=7.0)))(v), np.ones(4))
    ct = uniform((2, 4))
    parts = fg.vjp(lambda a: fnp.split(a, 2), uniform((4, 4)))[1]([ct, 2 * ct])[0]
    np.testing.assert_allclose(parts, np.concatenate([ct, 2 * ct]))


def test_logsumexp_softmax_expit_closed_forms():
    x = uniform(S3, -3, 3)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    softmax_ref = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(special.logsumexp(a, axis=1)))(x), softmax_ref)
    b = uniform(4, 0.5, 2.0)
    w = b * np.exp(x)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(special.logsumexp(a, axis=-1, b=b)))(x),
                               w / w.sum(axis=-1, keepdims=True))
    # gradient with respect to b: exp(a) / sum(b exp(a))
    gb = fg.grad(lambda bb: fnp.sum(special.logsumexp(x, axis=-1, b=bb)))(b)
    np.testing.assert_allclose(gb, np.sum(np.exp(x) / w.sum(axis=-1, keepdims=True), axis=(0, 1)))
    # stable: inputs near 1000 give a finite value and the softmax gradient
    big = np.array([1000.0, 1000.0, 999.0])
    ref = np.exp(big - 1000.0) / np.exp(big - 1000.0).sum()
    value, g = fg.value_and_grad(special.logsumexp)(big)
    assert np.isfinite(value)
    np.testing.assert_allclose(g, ref)
    np.testing.assert_allclose(fg.jvp(special.logsumexp, (big,), (np.ones(3),))[1], 1.0)
    hess_row = fg.grad(lambda a: fg.grad(special.logsumexp)(a)[0])(big)  # d/da softmax_0
    np.testing.assert_allclose(hess_row, ref[0] * (np.eye(3)[0] - ref))
    assert np.all(np.isfinite(fg.grad(special.logsumexp)(np.array([-1000.0, -1000.0]))))
    # softmax Jacobian: diag(s) - s s^T
    v = uniform(4)
    s = np.exp(v) / np.exp(v).sum()
    ct = uniform(4)
    np.testing.assert_allclose(fg.vjp(special.softmax, v)[1](ct)[0], (np.diag(s) - np.outer(s, s)) @ ct)
    # expit: s (1 - s), finite at large |x|
    z = np.array([-1000.0, -3.0, 0.0, 2.0, 1000.0])
    with np.errstate(over="ignore"):
        sz = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(fg.elementwise_grad(special.expit)(z), sz * (1.0 - sz))


def test_norm_closed_forms():
    x = away_from_zero((4,))
    np.testing.assert_allclose(fg.grad(fnp.linalg.norm)(x), x / np.sqrt(np.sum(x * x)))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.linalg.norm(a, 1))(x), np.sign(x))
    i = np.argmax(np.abs(x))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.linalg.norm(a, np.inf))(x), np.sign(x) * (np.arange(4) == i))
    p = 3.0
    n = np.sum(np.abs(x) ** p) ** (1 / p)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.linalg.norm(a, p))(x),
                               np.sign(x) * np.abs(x) ** (p - 1) / n ** (p - 1))
    m = away_from_zero(A)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.linalg.norm(a, "fro"))(m), m / np.sqrt(np.sum(m * m)))
    j = np.argmax(np.abs(m).sum(axis=0))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.linalg.norm(a, 1))(m), np.sign(m) * (np.arange(4) == j))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.linalg.norm(a, 0))(x), np.zeros(4))


# --- conventions at kinks (documented in funcgrad.prims.elementwise / funcgrad.numpy.linalg) ----------


@pytest.mark.parametrize("ord_axis", [(None, None), (2, None), (1, None), (np.inf, None), (3, None), (0.5, None),
                                      ("fro", None), (None, 0), (1, (0, 1)), (np.inf, (0, 1))], ids=str)
def test_norm_gradient_at_zero_is_zero(ord_axis):
    o, ax = ord_axis
    x = np.zeros((2, 2)) if o in ("fro",) or isinstance(ax, tuple) else np.zeros(3)
    g = fg.grad(lambda a: fnp.sum(fnp.linalg.norm(a, o, ax)))(x)
    np.testing.assert_array_equal(g, np.zeros_like(x))
    t = fg.jvp(lambda a: fnp.linalg.norm(a, o, ax), (x,), (np.ones_like(x),))[1]
    assert np.all(np.isfinite(t))


def test_kink_conventions():
    np.testing.assert_array_equal(fg.elementwise_grad(fnp.abs)(np.array([-1.0, 0.0, 2.0])), [-1.0, 0.0, 1.0])
    gx, gy = fg.grad(lambda a, b: fnp.sum(fnp.maximum(a, b)), argnums=(0, 1))(np.array([1.0, 2.0, 3.0]),
                                                                           np.array([2.0, 2.0, 1.0]))
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 0.5, 0.0])
    gx, gy = fg.grad(lambda a, b: fnp.sum(fnp.minimum(a, b)), argnums=(0, 1))(np.array([2.0]), np.array([2.0]))
    np.testing.assert_array_equal(gx + gy, [1.0])
    np.testing.assert_array_equal(fg.grad(fnp.max)(np.array([3.0, 1.0, 3.0])), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(fg.grad(lambda a: fnp.sum(fnp.max(a, axis=1)))(np.array([[1.0, 1.0], [2.0, 0.0]])),
                                  [[0.5, 0.5], [1.0, 0.0]])
    clip_grad = fg.elementwise_grad(lambda a: fnp.clip(a, 0.0, 1.0))(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]))
    np.testing.assert_array_equal(clip_grad, [0.0, 0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(fg.grad(lambda a: fnp.hypot(a, 0.0))(0.0), 0.0)


def test_grad_of_grad_through_composites():
    x = uniform(4)
    # d/dx_i of sum_j d/dx_j var(x) = sum_j 2 (x_j - mean)/n = 0, so the Hessian row sums vanish
    hess_sum = fg.grad(lambda a: fnp.sum(fg.grad(fnp.var)(a)))(x)
    np.testing.assert_allclose(hess_sum, np.zeros(4), atol=1e-12)
    # norm: Hessian of ||x|| is (I - x x^T / ||x||^2) / ||x||
    n = np.linalg.norm(x)
    hess0 = fg.grad(lambda a: fg.grad(fnp.linalg.norm)(a)[0])(x)
    np.testing.assert_allclose(hess0, (np.eye(4)[0] - x[0] * x / n ** 2) / n)


@pytest.mark.parametrize("density", [None, True])
def test_weighted_histograms_match_numpy(density):
    """Traced weights take the differentiable path; its counts and edges are NumPy's, and the
    derivative in the weights is the bin indicator (each weight lands in exactly one bin or none)."""
    sample = rng.uniform(0.0, 1.0, (9, 3))
    w = rng.uniform(0.5, 2.0, 9)
    for bins in (2, [2, 3, 1], [np.array([0.0, 0.3, 1.0]), 3, 2]):
        ref, ref_edges = np.histogramdd(sample, bins, range=None, density=density, weights=w)
        (counts, edges), (dcounts, _) = fg.jvp(lambda v, b=bins: fnp.histogramdd(sample, b, density=density, weights=v),
                                                (w,), (np.ones(9),))
        np.testing.assert_allclose(counts, ref, rtol=1e-13)
        if not density:  # a unit tangent on every weight counts the points of each bin
            np.testing.assert_array_equal(dcounts, np.histogramdd(sample, bins)[0])
        for e, r in zip(edges, ref_edges, strict=True):
            np.testing.assert_array_equal(e, r)
    rng_2d = [[0.0, 0.8], [0.1, 1.0]]
    ref2 = np.histogram2d(sample[:, 0], sample[:, 1], 3, range=rng_2d, density=density, weights=w)[0]
    got2 = fg.jit(lambda v: fnp.histogram2d(sample[:, 0], sample[:, 1], 3, range=rng_2d, density=density,
                                             weights=v)[0])(w)
    np.testing.assert_allclose(got2, ref2, rtol=1e-13)
    if not density:  # unweighted-count derivative: d counts / d w_i is 1 in w_i's bin
        jac = fg.jacfwd(lambda v: fnp.histogramdd(sample, 2, weights=v)[0])(w)
        expected = np.stack([np.histogramdd(sample, 2, weights=np.eye(9)[i])[0] for i in range(9)], axis=-1)
        np.testing.assert_array_equal(jac, expected)


def test_histogram_bin_edges_values_and_derivative():
    a = rng.uniform(-1.0, 1.0, (3, 4))
    for bins in (3, "auto", "fd"):
        edges, tangent = fg.jvp(lambda v, b=bins: fnp.histogram_bin_edges(v, b), (a,), (np.ones_like(a),))
        np.testing.assert_array_equal(edges, np.histogram_bin_edges(a, bins))
        np.testing.assert_allclose(tangent, np.ones(len(edges)))  # shifting every value shifts every edge
    g = fg.grad(lambda v: fnp.histogram_bin_edges(v, 4)[1])(a)  # edge 1 = 3/4 min + 1/4 max
    expected = np.zeros_like(a)
    expected[np.unravel_index(np.argmin(a), a.shape)] = 0.75
    expected[np.unravel_index(np.argmax(a), a.shape)] = 0.25
    np.testing.assert_allclose(g, expected, atol=1e-15)
    # explicit edges or a range: constant edges, zero derivative
    assert not np.any(fg.jacfwd(lambda v: fnp.histogram_bin_edges(v, 3, range=(-1.0, 1.0)))(a))


def test_linspace_array_endpoints_match_numpy():
    a, b = rng.uniform(-1.0, 1.0, (3,)), rng.uniform(-1.0, 1.0, (2, 3))
    for kw in [{"num": 4}, {"num": 4, "axis": 1, "endpoint": False}, {"num": 5, "axis": -1}, {"num": 1}, {"num": 0},
               {"num": 3, "retstep": True}, {"num": 3, "dtype": np.float32}]:
        want = np.linspace(a, b, **kw)
        traced = fg.jvp(lambda u, v, k=kw: fnp.linspace(u, v, **k), (a, b), (a, b))[0]
        jitted = fg.jit(lambda u, v, k=kw: fnp.linspace(u, v, **k))(a, b)
        for w, t, j in zip(*(x if isinstance(x, tuple) else (x,) for x in (want, traced, jitted)), strict=True):
            np.testing.assert_array_equal(t, w)
            np.testing.assert_array_equal(j, w)
            assert np.asarray(t).dtype == np.asarray(w).dtype
    # one zero step: NumPy's other formula for every element, followed exactly
    ends = np.array([0.0, 1.0])
    got = fg.jvp(lambda u: fnp.linspace(u, ends, 4), (np.array([0.0, 2.0]),), (ends,))[0]
    np.testing.assert_array_equal(got, np.linspace([0.0, 2.0], ends, 4))
    # d/d(start) of sample k (of n, endpoint) is 1 - k/(n-1), closed form
    jac = fg.jacrev(lambda u: fnp.linspace(u, 3.0, 5, axis=1))(np.array([0.5, -1.0]))
    np.testing.assert_allclose(jac, np.einsum("ij,k->ikj", np.eye(2), 1.0 - np.arange(5) / 4.0))
