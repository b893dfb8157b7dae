"""Complex input through every linalg function, the contractions and the FFT (issue 10 §5).

Each row computes a function on complex arrays and checks its value against NumPy's and its
derivatives (jvp and vjp, along complex directions) against central finite differences. funcgrad
follows JAX's convention for complex derivatives: jvp is the real-linear map dz -> df, and vjp its
transpose under the pairing Re(sum(a * b)), without conjugation (``check_grads`` checks exactly
that). A registry test fails when a name of ``funcgrad.numpy.linalg`` or ``funcgrad.numpy.fft``
has no row here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads

L, NL = fnp.linalg, np.linalg


def cnormal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def cwell(rng: np.random.Generator, n: int, *lead: int) -> np.ndarray:
    """Well-conditioned complex matrices with distinct eigenvalues and singular values."""
    return cnormal(rng, *lead, n, n) * 0.3 + np.diag(np.arange(n, 0, -1) + 0.5j * np.arange(n))


def chpd(rng: np.random.Generator, n: int) -> np.ndarray:
    m = cnormal(rng, n, n)
    return m @ m.conj().T + n * np.eye(n)


def cherm(rng: np.random.Generator, n: int) -> np.ndarray:
    m = cnormal(rng, n, n)
    return (m + m.conj().T) / 2 + np.diag(np.arange(n) * 2.0)


def ctall(rng: np.random.Generator) -> np.ndarray:
    return cnormal(rng, 4, 3) * 0.3 + np.vstack([np.diag([3.0, 2.0, 1.0]), np.zeros((1, 3))])


@dataclasses.dataclass
class Row:
    name: str  # the public name covered (module:name)
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    args: Callable[[np.random.Generator], tuple]
    order: int = 1
    diff: bool = True
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name


def _w(u: Any, vh: Any) -> Any:
    """``U diag(c) V^H`` for fixed weights: independent of the singular vectors' phases."""
    c = np.linspace(1.0, 2.0, u.shape[-1])
    return (u * c) @ vh


def _eigh_invariant(mod: Any) -> Callable[[Any], Any]:
    def f(a: Any) -> Any:
        w, v = mod.eigh(a)
        return w, (v * np.linspace(1.0, 2.0, v.shape[-1])) @ v.conj().swapaxes(-1, -2)

    return f


def _lstsq(mod: Any) -> Callable[[Any, Any], Any]:
    return lambda a, b: mod.lstsq(a, b, rcond=None)[:2]


ROWS = [
    # --- funcgrad.numpy.linalg -------------------------------------------------------------------
    Row("linalg:norm", L.norm, NL.norm, lambda r: (cnormal(r, 3, 4),), 2, variant="fro"),
    Row("linalg:norm", lambda a: L.norm(a, 2), lambda a: NL.norm(a, 2), lambda r: (cwell(r, 3),), variant="2"),
    Row("linalg:norm", lambda a: L.norm(a, "nuc"), lambda a: NL.norm(a, "nuc"), lambda r: (cwell(r, 3),),
        variant="nuc"),
    Row("linalg:norm", lambda a: L.norm(a, 1), lambda a: NL.norm(a, 1), lambda r: (cnormal(r, 3, 3),), variant="1"),
    Row("linalg:norm", lambda v: L.norm(v, 3), lambda v: NL.norm(v, 3), lambda r: (cnormal(r, 5),), 2,
        variant="vector,3"),
    Row("linalg:solve", L.solve, NL.solve, lambda r: (cwell(r, 3), cnormal(r, 3, 2)), 2),
    Row("linalg:inv", L.inv, NL.inv, lambda r: (cwell(r, 3, 2),), 2),
    Row("linalg:det", L.det, NL.det, lambda r: (cwell(r, 3, 2),), 2),
    Row("linalg:slogdet", lambda a: tuple(L.slogdet(a)), lambda a: tuple(NL.slogdet(a)), lambda r: (cwell(r, 3),)),
    Row("linalg:cholesky", L.cholesky, NL.cholesky, lambda r: (chpd(r, 3),)),
    Row("linalg:eigh", _eigh_invariant(L), _eigh_invariant(NL), lambda r: (cherm(r, 3),)),
    Row("linalg:eigvalsh", L.eigvalsh, NL.eigvalsh, lambda r: (cherm(r, 3),)),
    Row("linalg:eig", lambda a: tuple(L.eig(a)), lambda a: tuple(NL.eig(a)), lambda r: (cwell(r, 3),)),
    Row("linalg:eigvals", L.eigvals, NL.eigvals, lambda r: (cwell(r, 3),)),
    Row("linalg:svd", lambda a: (lambda u, s, vh: (s, _w(u, vh)))(*L.svd(a, full_matrices=False)),
        lambda a: (lambda u, s, vh: (s, _w(u, vh)))(*NL.svd(a, full_matrices=False)), lambda r: (ctall(r),)),
    Row("linalg:svdvals", L.svdvals, lambda a: NL.svd(a, compute_uv=False), lambda r: (ctall(r),)),
    Row("linalg:qr", lambda a: tuple(L.qr(a)), lambda a: tuple(NL.qr(a)), lambda r: (ctall(r),)),
    Row("linalg:pinv", L.pinv, NL.pinv, lambda r: (ctall(r),)),
    Row("linalg:pinv", L.pinv, NL.pinv, lambda _: (np.array([[1 + 0.5j, 0.2j], [0.3, 2 - 1j]]),), variant="issue"),
    Row("linalg:matrix_power", lambda a: L.matrix_power(a, 3), lambda a: NL.matrix_power(a, 3),
        lambda r: (cnormal(r, 3, 3),), 2, variant="3"),
    Row("linalg:matrix_power", lambda a: L.matrix_power(a, -2), lambda a: NL.matrix_power(a, -2),
        lambda r: (cwell(r, 3),), variant="-2"),
    Row("linalg:lstsq", _lstsq(L), _lstsq(NL), lambda r: (ctall(r), cnormal(r, 4))),
    Row("linalg:lstsq", _lstsq(L), _lstsq(NL),
        lambda _: (np.array([[1 + 0.5j, 0.2j], [0.3, 2 - 1j], [0.5, 1 + 1j]]), np.array([1, -1j, 0.5])),
        variant="issue"),
    Row("linalg:lstsq", _lstsq(L), _lstsq(NL), lambda r: (ctall(r).real, cnormal(r, 4, 2)), variant="real a"),
    Row("linalg:multi_dot", lambda a, b, c: L.multi_dot([a, b, c]), lambda a, b, c: NL.multi_dot([a, b, c]),
        lambda r: (cnormal(r, 2, 3), cnormal(r, 3, 4), cnormal(r, 4)), 2),
    Row("linalg:matrix_transpose", L.matrix_transpose, NL.matrix_transpose, lambda r: (cnormal(r, 2, 3, 4),), 2),
    Row("linalg:cond", L.cond, NL.cond, lambda r: (cwell(r, 3),)),
    Row("linalg:cond", lambda a: L.cond(a, "fro"), lambda a: NL.cond(a, "fro"), lambda r: (cwell(r, 3),),
        variant="fro"),
    Row("linalg:matrix_rank", L.matrix_rank, NL.matrix_rank, lambda r: (ctall(r),), diff=False),
    Row("linalg:matrix_norm", L.matrix_norm, NL.matrix_norm, lambda r: (cnormal(r, 2, 3, 3),), 2),
    Row("linalg:vector_norm", lambda v: L.vector_norm(v, ord=1), lambda v: NL.vector_norm(v, ord=1),
        lambda r: (cnormal(r, 2, 4),), 2),
    Row("linalg:cross", lambda a, b: L.cross(a, b), lambda a, b: NL.cross(a, b),
        lambda r: (cnormal(r, 2, 3), cnormal(r, 2, 3)), 2),
    Row("linalg:diagonal", lambda a: L.diagonal(a), lambda a: NL.diagonal(a), lambda r: (cnormal(r, 2, 3, 3),), 2),
    Row("linalg:matmul", lambda a, b: L.matmul(a, b), lambda a, b: NL.matmul(a, b),
        lambda r: (cnormal(r, 2, 3), cnormal(r, 3, 2)), 2),
    Row("linalg:outer", lambda a, b: L.outer(a, b), lambda a, b: NL.outer(a, b),
        lambda r: (cnormal(r, 3), cnormal(r, 2)), 2),
    Row("linalg:tensordot", lambda a, b: L.tensordot(a, b), lambda a, b: NL.tensordot(a, b),
        lambda r: (cnormal(r, 2, 3, 2), cnormal(r, 3, 2)), 2),
    Row("linalg:trace", lambda a: L.trace(a), lambda a: NL.trace(a), lambda r: (cnormal(r, 2, 3, 3),), 2),
    Row("linalg:vecdot", lambda a, b: L.vecdot(a, b), lambda a, b: NL.vecdot(a, b),
        lambda r: (cnormal(r, 2, 3), cnormal(r, 2, 3)), 2),
    Row("linalg:tensorinv", lambda a: L.tensorinv(a, ind=1), lambda a: NL.tensorinv(a, ind=1),
        lambda r: (cwell(r, 4).reshape(4, 2, 2),)),
    Row("linalg:tensorsolve", lambda a, b: L.tensorsolve(a, b), NL.tensorsolve,
        lambda r: (cwell(r, 4).reshape(2, 2, 4), cnormal(r, 2, 2))),
    # --- contractions ----------------------------------------------------------------------------
    Row("dot", fnp.dot, np.dot, lambda r: (cnormal(r, 2, 3), cnormal(r, 3, 4)), 2),
    Row("dot", fnp.dot, np.dot, lambda r: (cnormal(r, 2, 3), cnormal(r, 3).real), 2, variant="complex,real"),
    Row("vdot", fnp.vdot, np.vdot, lambda r: (cnormal(r, 2, 3), cnormal(r, 2, 3)), 2),
    Row("vdot", fnp.vdot, np.vdot, lambda _: (np.array([0.5 + 1j, -0.3 + 0.2j]), np.array([1 - 2j, 0.7 + 0.1j])),
        variant="issue"),
    Row("vdot", fnp.vdot, np.vdot, lambda r: (cnormal(r, 4).real, cnormal(r, 4)), 2, variant="real,complex"),
    Row("inner", fnp.inner, np.inner, lambda r: (cnormal(r, 2, 3), cnormal(r, 4, 3)), 2),
    Row("outer", fnp.outer, np.outer, lambda r: (cnormal(r, 3), cnormal(r, 2, 2)), 2),
    Row("matmul", fnp.matmul, np.matmul, lambda r: (cnormal(r, 2, 2, 3), cnormal(r, 3, 2)), 2),
    Row("tensordot", lambda a, b: fnp.tensordot(a, b, axes=([1, 2], [0, 1])),
        lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])),
        lambda r: (cnormal(r, 2, 3, 2), cnormal(r, 3, 2, 2)), 2),
    Row("einsum", lambda a, b: fnp.einsum("ij,jk->ki", a, b), lambda a, b: np.einsum("ij,jk->ki", a, b),
        lambda r: (cnormal(r, 2, 3), cnormal(r, 3, 4)), 2),
    Row("einsum", lambda a: fnp.einsum("ii->", a), lambda a: np.einsum("ii->", a), lambda r: (cnormal(r, 3, 3),), 2,
        variant="trace"),
    Row("kron", fnp.kron, np.kron, lambda r: (cnormal(r, 2, 2), cnormal(r, 3, 1)), 2),
    # --- funcgrad.numpy.fft ---------------------------------------------------------------------
    Row("fft:fft", fnp.fft.fft, np.fft.fft, lambda r: (cnormal(r, 2, 5),), 2),
    Row("fft:ifft", lambda z: fnp.fft.ifft(z, n=6, norm="ortho"), lambda z: np.fft.ifft(z, n=6, norm="ortho"),
        lambda r: (cnormal(r, 4),), 2),
    Row("fft:fft2", fnp.fft.fft2, np.fft.fft2, lambda r: (cnormal(r, 3, 4),), 2),
    Row("fft:ifft2", fnp.fft.ifft2, np.fft.ifft2, lambda r: (cnormal(r, 3, 4),), 2),
    Row("fft:fftn", fnp.fft.fftn, np.fft.fftn, lambda r: (cnormal(r, 2, 3, 2),), 2),
    Row("fft:ifftn", lambda z: fnp.fft.ifftn(z, axes=(0, 2), norm="forward"),
        lambda z: np.fft.ifftn(z, axes=(0, 2), norm="forward"), lambda r: (cnormal(r, 2, 3, 2),), 2),
    Row("fft:rfft", fnp.fft.rfft, np.fft.rfft, lambda r: (cnormal(r, 3, 5).real,), 2),
    Row("fft:irfft", fnp.fft.irfft, np.fft.irfft, lambda r: (cnormal(r, 2, 4),), 2),
    Row("fft:rfft2", fnp.fft.rfft2, np.fft.rfft2, lambda r: (cnormal(r, 3, 4).real,), 2),
    Row("fft:irfft2", fnp.fft.irfft2, np.fft.irfft2, lambda r: (cnormal(r, 3, 4),), 2),
    Row("fft:rfftn", fnp.fft.rfftn, np.fft.rfftn, lambda r: (cnormal(r, 2, 3, 4).real,), 2),
    Row("fft:irfftn", lambda z: fnp.fft.irfftn(z, s=(3, 5), axes=(0, 1)),
        lambda z: np.fft.irfftn(z, s=(3, 5), axes=(0, 1)),
        lambda r: (cnormal(r, 3, 3),), 2),
    Row("fft:hfft", fnp.fft.hfft, np.fft.hfft, lambda r: (cnormal(r, 4),), 2),
    Row("fft:ihfft", fnp.fft.ihfft, np.fft.ihfft, lambda r: (cnormal(r, 5).real,), 2),
    Row("fft:fftshift", fnp.fft.fftshift, np.fft.fftshift, lambda r: (cnormal(r, 3, 4),), 2),
    Row("fft:ifftshift", fnp.fft.ifftshift, np.fft.ifftshift, lambda r: (cnormal(r, 5),), 2),
    Row("fft:fftfreq", lambda: fnp.fft.fftfreq(5, 0.1), lambda: np.fft.fftfreq(5, 0.1), lambda r: (), diff=False),
    Row("fft:rfftfreq", lambda: fnp.fft.rfftfreq(6), lambda: np.fft.rfftfreq(6), lambda r: (), diff=False),
]
ROWS = [row for row in ROWS if row.name.split(":")[-1] in dir(L if row.name.startswith("linalg:") else
                                                                fnp.fft if row.name.startswith("fft:") else fnp)]


def _leaves(x: Any) -> list:
    return [np.asarray(v) for v in fg.tree_util.tree_leaves(x)]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_complex_value_matches_numpy(row: Row) -> None:
    args = row.args(np.random.default_rng(0))
    got, want = _leaves(row.fn(*args)), _leaves(row.ref(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype.kind == w.dtype.kind or (g.dtype.kind == "c" and row.name == "linalg:eig"), (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


DIFF_ROWS = [r for r in ROWS if r.diff]


@pytest.mark.parametrize("row", DIFF_ROWS, ids=[r.id for r in DIFF_ROWS])
def test_complex_derivatives_match_finite_differences(row: Row) -> None:
    args = row.args(np.random.default_rng(1))
    check_grads(row.fn, args, order=row.order)


def test_every_linalg_and_fft_function_has_a_row() -> None:
    covered = {r.name for r in ROWS}
    linalg = {f"linalg:{n}" for n in L.__all__ if n != "LinAlgError"}  # (an exception class, as in NumPy's __all__)
    fft = {f"fft:{n}" for n in dir(fnp.fft) if not n.startswith("_") and callable(getattr(fnp.fft, n))
           and getattr(getattr(fnp.fft, n), "__module__", "").startswith("funcgrad.numpy.fft")}
    missing = sorted((linalg | fft) - covered)
    assert not missing, f"functions without a complex row in {__name__}: {missing}"


def test_vdot_conjugates_its_first_argument() -> None:
    z, w = np.array([0.5 + 1j, -0.3 + 0.2j]), np.array([1 - 2j, 0.7 + 0.1j])
    np.testing.assert_allclose(fnp.vdot(z, w), -1.69 - 2.17j, rtol=1e-12)
    # f(z) = Re(conj(z) . w) = x . Re(w) + y . Im(w) for z = x + iy; JAX's convention gives
    # grad f = df/dx - i df/dy = conj(w)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.real(fnp.vdot(z, w)))(z), np.conj(w), rtol=1e-12)


def test_lstsq_residuals_are_real_squared_norms() -> None:
    a = np.array([[1.0, 0.2], [0.3, 2.0], [0.5, 1.0]])
    b = np.array([1, -1j, 0.5])
    x, res, rank, s = L.lstsq(a, b)
    want = NL.lstsq(a, b)[1]
    assert res.dtype == want.dtype == np.float64
    np.testing.assert_allclose(res, want, rtol=1e-12)
    np.testing.assert_allclose(res, np.sum(np.abs(b - a @ x) ** 2), rtol=1e-12)
