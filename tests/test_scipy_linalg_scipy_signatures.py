"""funcgrad.scipy.linalg's SciPy-signature wrappers (what ``jax.scipy.linalg`` offers): ``solve``
(``assume_a``, ``lower``), ``inv``, ``det``, ``eigh`` (``lower``, ``eigvals_only``), ``svd``, ``qr``
(SciPy's modes), ``block_diag`` and ``toeplitz``: values against SciPy, derivatives against finite
differences and closed forms, the refused options."""

from __future__ import annotations

import numpy as np
import pytest

sl = pytest.importorskip("scipy.linalg")

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
import funcgrad.scipy.linalg as fl  # noqa: E402
from funcgrad.test_util import check_grads  # noqa: E402

RNG = np.random.default_rng(3)
A = RNG.standard_normal((4, 4))
S = A @ A.T + np.eye(4)
B = RNG.standard_normal((4, 2))


def test_values_match_scipy():
    np.testing.assert_allclose(fl.solve(A, B), sl.solve(A, B), rtol=1e-12)
    np.testing.assert_allclose(fl.solve(A, B[:, 0]), sl.solve(A, B[:, 0]), rtol=1e-12)
    for lower in (False, True):  # "pos" reads one triangle only: garbage in the other must not matter
        s_half = np.triu(S) if not lower else np.tril(S)
        np.testing.assert_allclose(fl.solve(s_half + (np.tril(A, -1) if not lower else np.triu(A, 1)), B,
                                            assume_a="pos", lower=lower), sl.solve(S, B), rtol=1e-12)
    np.testing.assert_allclose(fl.inv(A), sl.inv(A), rtol=1e-12)
    assert float(fl.det(A)) == pytest.approx(sl.det(A), rel=1e-12)
    w, v = fl.eigh(S)
    np.testing.assert_allclose(w, sl.eigh(S)[0], rtol=1e-12)
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, S, rtol=1e-12)
    np.testing.assert_allclose(fl.eigh(np.triu(S), lower=False, eigvals_only=True), sl.eigh(S, eigvals_only=True),
                               rtol=1e-12)
    u, s, vh = fl.svd(A[:, :3])
    assert (u.shape, s.shape, vh.shape) == ((4, 4), (3,), (3, 3))
    np.testing.assert_allclose(s, sl.svd(A[:, :3], compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(fl.svd(A, compute_uv=False), sl.svd(A, compute_uv=False), rtol=1e-12)
    for mode, shapes in [("full", [(4, 4), (4, 3)]), ("economic", [(4, 3), (3, 3)]), ("r", [(4, 3)])]:
        got, want = fl.qr(A[:, :3], mode=mode), sl.qr(A[:, :3], mode=mode)
        assert isinstance(got, tuple) and [g.shape for g in got] == shapes
        for g, w_ in zip(got, want):
            np.testing.assert_allclose(np.abs(g), np.abs(w_), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(fl.block_diag(A[:2, :3], 5.0, np.ones(2)), sl.block_diag(A[:2, :3], 5.0, np.ones(2)))
    assert fl.block_diag().shape == (1, 0)
    np.testing.assert_array_equal(fl.toeplitz(np.arange(3.0)), sl.toeplitz(np.arange(3.0)))
    c, r = np.array([1 + 1j, 2.0]), np.array([5.0, 6.0, 7.0])
    np.testing.assert_array_equal(fl.toeplitz(c, r), sl.toeplitz(c, r))
    np.testing.assert_array_equal(fl.toeplitz(c), sl.toeplitz(c))


def test_derivatives():
    check_grads(lambda a, b: fl.solve(a, b), (A, B), order=2)
    check_grads(lambda s, b: fl.solve(s, b, assume_a="pos"), (S, B), order=2)
    check_grads(fl.inv, (A,), order=2)
    check_grads(fl.det, (A,), order=2)
    check_grads(lambda s: fl.eigh(s, eigvals_only=True), (S,), order=1)
    check_grads(lambda *x: fl.block_diag(*x), (A[:2, :3], np.array(5.0), np.ones(2)), order=2)
    check_grads(fl.toeplitz, (np.arange(3.0), np.array([9.0, 4.0])), order=2)
    # closed forms: d det(A) = det(A) A^{-T}; d/dc of sum(toeplitz(c)) counts each diagonal's length
    np.testing.assert_allclose(fg.grad(fl.det)(A), np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-12)
    np.testing.assert_array_equal(fg.grad(lambda c: fnp.sum(fl.toeplitz(c, np.zeros(3))))(np.ones(3)), [3.0, 2.0, 1.0])


def test_refused_options():
    with pytest.raises(ValueError, match="assume_a"):
        fl.solve(A, B, assume_a="banded")
    with pytest.raises(NotImplementedError, match="generalized"):
        fl.eigh(S, S)
    with pytest.raises(NotImplementedError, match="pivoting"):
        fl.qr(A, pivoting=True)
    with pytest.raises(ValueError, match="mode"):
        fl.qr(A, mode="reduced")
    with pytest.raises(ValueError, match="at most 2"):
        fl.block_diag(np.ones((2, 2, 2)))
