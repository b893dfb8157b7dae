"""funcgrad.numpy.fft: values against numpy.fft, derivatives, vmap, jit, dispatch and errors.

Values must equal NumPy's bit for bit, with NumPy's dtypes (complex64 from float32). Derivatives
are checked with ``check_grads`` (finite differences, forward and reverse, to second order, real
and complex inputs) and against closed forms written here with plain NumPy: Parseval's identity,
and the transposes of DFT matrices built by applying ``numpy.fft`` to unit vectors (JAX's
convention: a vjp is the transpose, without conjugation, under the pairing Re(sum(a * b)); the
gradient of a real loss of a complex z is dL/dRe(z) - i dL/dIm(z)). Never against funcgrad itself.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import primitives
from funcgrad.test_util import check_grads

FFT_PRIMS = ("fft", "rfft", "irfft")


def _rng(*key):
    return np.random.default_rng(zlib.crc32("/".join(map(str, key)).encode()))


def _draw(kind, shape, dtype=np.float64, key=()):
    rng = _rng(kind, shape, np.dtype(dtype).name, *key)
    x = rng.standard_normal(shape)
    if kind == "complex":
        x = x + 1j * rng.standard_normal(shape)
        return x.astype(np.complex64 if dtype == np.float32 else np.complex128)
    return x.astype(dtype)


# --- the table: (id, f(module, a), input kinds) with module funcgrad.numpy or numpy ---------------
# Three-dimensional inputs; sizes along transformed axes are padded (n/s larger), cropped (smaller)
# or kept, with even and odd lengths, every norm, repeated axes.

BOTH = ("real", "complex")
REAL_ONLY = ("real",)

FUNCS = [
    ("fft", lambda m, a: m.fft.fft(a), BOTH),
    ("fft-n-pad-axis0", lambda m, a: m.fft.fft(a, n=7, axis=0), BOTH),
    ("fft-n-crop-ortho", lambda m, a: m.fft.fft(a, n=3, norm="ortho"), BOTH),
    ("ifft", lambda m, a: m.fft.ifft(a), BOTH),
    ("ifft-forward-axis1", lambda m, a: m.fft.ifft(a, axis=1, norm="forward"), BOTH),
    ("fft2", lambda m, a: m.fft.fft2(a), BOTH),
    ("ifft2-s", lambda m, a: m.fft.ifft2(a, s=(5, 3)), BOTH),
    ("fftn", lambda m, a: m.fft.fftn(a), BOTH),
    ("fftn-s-axes-ortho", lambda m, a: m.fft.fftn(a, s=(2, 5), axes=(2, 0), norm="ortho"), BOTH),
    ("ifftn-axes", lambda m, a: m.fft.ifftn(a, axes=(-1, 1)), BOTH),
    ("ifftn-repeated-axis", lambda m, a: m.fft.ifftn(a, s=(3, 5), axes=(1, 1)), BOTH),
    ("rfft", lambda m, a: m.fft.rfft(a), REAL_ONLY),
    ("rfft-odd-n-axis1", lambda m, a: m.fft.rfft(a, n=5, axis=1), REAL_ONLY),
    ("rfft-even-n-ortho", lambda m, a: m.fft.rfft(a, n=6, norm="ortho"), REAL_ONLY),
    ("rfft-crop-forward", lambda m, a: m.fft.rfft(a, n=3, norm="forward"), REAL_ONLY),
    ("rfft2", lambda m, a: m.fft.rfft2(a), REAL_ONLY),
    ("rfftn", lambda m, a: m.fft.rfftn(a), REAL_ONLY),
    ("rfftn-s-axes-forward", lambda m, a: m.fft.rfftn(a, s=(3, 3), axes=(0, 2), norm="forward"), REAL_ONLY),
    ("rfftn-repeated-axis", lambda m, a: m.fft.rfftn(a, axes=(2, 2)), REAL_ONLY),
    ("irfft", lambda m, a: m.fft.irfft(a), BOTH),
    ("irfft-odd-n", lambda m, a: m.fft.irfft(a, n=5), BOTH),
    ("irfft-n-axis0-ortho", lambda m, a: m.fft.irfft(a, n=8, axis=0, norm="ortho"), BOTH),
    ("irfft-crop", lambda m, a: m.fft.irfft(a, n=2), BOTH),
    ("irfft2", lambda m, a: m.fft.irfft2(a), BOTH),
    ("irfftn", lambda m, a: m.fft.irfftn(a), BOTH),
    ("irfftn-s-forward", lambda m, a: m.fft.irfftn(a, s=(4, 3), axes=(1, 2), norm="forward"), BOTH),
    ("irfftn-repeated-axis", lambda m, a: m.fft.irfftn(a, axes=(2, 0, 2)), BOTH),
    ("hfft", lambda m, a: m.fft.hfft(a, n=5), BOTH),
    ("ihfft-ortho", lambda m, a: m.fft.ihfft(a, norm="ortho"), REAL_ONLY),
    ("fftshift", lambda m, a: m.fft.fftshift(a), BOTH),
    ("ifftshift-axes", lambda m, a: m.fft.ifftshift(a, axes=(0, -1)), BOTH),
    ("fftshift-axis", lambda m, a: m.fft.fftshift(a, axes=1), BOTH),
    ("rfftn-irfftn-roundtrip", lambda m, a: m.fft.irfftn(m.fft.rfftn(a), s=a.shape, axes=(0, 1, 2)), REAL_ONLY),
]

VALUE_SHAPES = [(2, 3, 4), (3, 5, 2), (1, 4, 7), (4, 2, 6)]
GRAD_SHAPE = (2, 3, 4)


def _params(kinds_filter=None):
    return [pytest.param(fid, f, kind, id=f"{fid}-{kind}") for fid, f, kinds in FUNCS for kind in kinds
            if kinds_filter is None or kind in kinds_filter]


def assert_same(got, want):
    assert type(got) is np.ndarray, type(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


def assert_close(got, want, dtype=np.float64):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    tol = 2e-5 if dtype in (np.float32, np.complex64) else 1e-11
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# --- values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fid, f, kind", _params())
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["64", "32"])
def test_values_and_dtypes_equal_numpy(fid, f, kind, dtype):
    for shape in VALUE_SHAPES:
        a = _draw(kind, shape, dtype)
        assert_same(f(fnp, a), f(np, a))


ONE_D = [
    ("fft", {}), ("fft", {"n": 9}), ("fft", {"n": 1, "norm": "ortho"}), ("ifft", {"norm": "forward"}),
    ("rfft", {}), ("rfft", {"n": 7}), ("irfft", {}), ("irfft", {"n": 7, "norm": "ortho"}), ("hfft", {}),
    ("ihfft", {}), ("fftshift", {}), ("ifftshift", {}),
]


@pytest.mark.parametrize("name, kw", ONE_D, ids=[f"{n}{kw}" for n, kw in ONE_D])
@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_one_dimensional_values(name, kw, n):
    for kind in BOTH:
        if kind == "complex" and name in ("rfft", "ihfft"):
            continue
        if name in ("irfft", "hfft") and n == 1 and "n" not in kw:
            continue  # 2 * (1 - 1) = 0 output points: an error, tested below
        for dtype in (np.float64, np.float32):
            a = _draw(kind, (n,), dtype)
            assert_same(getattr(fnp.fft, name)(a, **kw), getattr(np.fft, name)(a, **kw))


def test_integer_lists_and_empty_batches_as_numpy():
    for name in ("fft", "ifft", "rfft", "irfft", "fftn", "rfftn", "irfftn", "fftshift", "ifftshift"):
        assert_same(getattr(fnp.fft, name)([1, 2, 3, 4]), getattr(np.fft, name)([1, 2, 3, 4]))
        ints = np.arange(6).reshape(2, 3)
        assert_same(getattr(fnp.fft, name)(ints), getattr(np.fft, name)(ints))
    for name in ("fft", "rfft", "irfft"):
        assert_same(getattr(fnp.fft, name)(np.zeros((0, 4))), getattr(np.fft, name)(np.zeros((0, 4))))
    assert_same(fnp.fft.fftn(np.array(2.5)), np.fft.fftn(np.array(2.5)))  # no axes: unchanged
    assert_same(fnp.fft.fft(np.ones(3, np.float16)), np.fft.fft(np.ones(3, np.float16)))


def test_fftshift_returns_a_new_array():
    a = np.arange(3.0)
    out = fnp.fft.fftshift(a, axes=())
    assert out is not a
    np.testing.assert_array_equal(out, a)


def test_fftfreq_and_rfftfreq_are_numpys():
    assert fnp.fft.fftfreq is np.fft.fftfreq and fnp.fft.rfftfreq is np.fft.rfftfreq
    assert set(fnp.fft.__all__) >= {"fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                                    "irfft2", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq"}


def test_s_without_axes_warns_and_follows_numpy():
    a = _draw("real", (2, 3, 4))
    for name in ("fftn", "rfftn", "irfftn"):
        with pytest.warns(DeprecationWarning, match="axes"):
            want = getattr(np.fft, name)(a, s=(3, 6))
        with pytest.warns(DeprecationWarning, match="axes"):
            got = getattr(fnp.fft, name)(a, s=(3, 6))
        assert_same(got, want)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert_same(fnp.fft.irfftn(a, s=(None, -1), axes=(0, 2)), np.fft.irfftn(a, s=(None, -1), axes=(0, 2)))
        assert_same(fnp.fft.fftn(a, s=(-1, 5), axes=(1, 2)), np.fft.fftn(a, s=(-1, 5), axes=(1, 2)))


def test_errors_match_numpy():
    a = np.ones((2, 3))
    for call in (lambda m: m.fft.fft(a, norm="unitary"), lambda m: m.fft.fft(a, n=0),
                 lambda m: m.fft.rfft(a, n=-2), lambda m: m.fft.irfft(np.ones(1)),
                 lambda m: m.fft.fftn(a, s=(2, 3, 4), axes=(0, 1)), lambda m: m.fft.fft(np.ones((0,)))):
        with pytest.raises(ValueError):
            call(np)
        with pytest.raises(ValueError):
            call(fnp)
    for call in (lambda m: m.fft.fft(a, axis=2), lambda m: m.fft.fft2(np.ones(3)),
                 lambda m: m.fft.fftshift(a, axes=3)):
        with pytest.raises(IndexError):  # NumPy raises IndexError or AxisError (a subclass)
            call(np)
        with pytest.raises(np.exceptions.AxisError):
            call(fnp)
    with pytest.raises(TypeError):
        fnp.fft.rfft(a + 1j)  # NumPy's own TypeError: rfft takes real input
    with pytest.raises(TypeError, match="real input"):
        fg.jit(fnp.fft.rfft)(a + 1j)  # raised while staging
    with pytest.raises(TypeError):
        fnp.fft.fft(a, n=2.5)
    with pytest.raises(TypeError, match="out="):
        fnp.fft.fft(a, out=np.empty((2, 3), complex))


# --- derivatives: finite differences ------------------------------------------------------------------


@pytest.mark.parametrize("fid, f, kind", _params())
def test_derivatives_match_finite_differences(fid, f, kind):
    """jvp and vjp to second order, and <vjp(ct), t> = <ct, jvp(t)> (real and complex inputs;
    complex outputs, and real outputs of complex inputs for irfft/hfft)."""
    check_grads(lambda a: f(fnp, a), (_draw(kind, GRAD_SHAPE, key=(fid,)),), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("fid, f, kind", [p for p in _params() if p.values[0] in
                                          ("fft2", "rfft-odd-n-axis1", "irfft-n-axis0-ortho", "ifftn-axes")])
def test_float32_derivatives(fid, f, kind):
    a = _draw(kind, GRAD_SHAPE, np.float32, key=(fid,))
    check_grads(lambda x: f(fnp, x), (a,), order=1)
    out, pullback = fg.vjp(lambda x: f(fnp, x), a)
    assert out.dtype == f(np, a).dtype
    ct = _draw("complex" if out.dtype.kind == "c" else "real", out.shape, np.float32)
    (g,) = pullback(ct)
    assert g.dtype == a.dtype and g.shape == a.shape
    _, t = fg.jvp(lambda x: f(fnp, x), (a,), (_draw(kind, a.shape, np.float32, key=("t",)),))
    assert t.dtype == out.dtype


@pytest.mark.parametrize("kind", BOTH)
def test_losses_of_complex_spectra(kind):
    """Compositions: a real loss of a spectrum's magnitude, the real part of a chain of complex
    transforms, and a real signal built from a product of spectra, to second order."""
    a = _draw(kind, (3, 4))
    check_grads(lambda x: fnp.sum(fnp.abs(fnp.fft.fft2(x)) ** 2 * np.arange(12.0).reshape(3, 4)), (a,), order=2)
    check_grads(lambda x: fnp.real(fnp.fft.ifft(fnp.fft.fft(x, axis=0) * (1.0 + 2j), n=6)), (a,), order=2)
    check_grads(lambda x: fnp.fft.irfft(fnp.fft.fft(x)[..., :3] * fnp.fft.fft(x)[..., :3]), (a,), order=2)


# --- derivatives: closed forms ------------------------------------------------------------------------


@pytest.mark.parametrize("norm, scale", [(None, lambda n: n), ("ortho", lambda n: 1.0), ("forward", lambda n: 1.0 / n)])
@pytest.mark.parametrize("kind", BOTH)
def test_parseval_gradient(norm, scale, kind):
    """sum |fftn(x)|^2 = c * sum |x|^2 (c = N, 1, 1/N): the gradient is 2 c conj(x) (JAX's convention
    for a complex x), and its Hessian-vector product 2 c t."""
    x = _draw(kind, (3, 4, 5))
    c = scale(x.size)

    def loss(a):
        return fnp.sum(fnp.abs(fnp.fft.fftn(a, norm=norm)) ** 2)

    assert_close(fg.grad(loss)(x), 2 * c * np.conj(x))
    t = _draw(kind, x.shape, key=("t",))
    _, hvp = fg.jvp(fg.grad(loss), (x,), (t,))
    assert_close(hvp, 2 * c * np.conj(t))
    # the same along one axis, through plain NumPy calls on traced values
    assert_close(fg.grad(lambda a: np.sum(np.abs(np.fft.ifft(a, axis=1, norm=norm)) ** 2))(x),
                 2 / scale(4) * np.conj(x))


def _pair_weights(n):
    a = np.full(n // 2 + 1, 2.0)
    a[0] = 1.0
    if n % 2 == 0:
        a[-1] = 1.0
    return a


@pytest.mark.parametrize("n", [5, 6])
def test_parseval_gradient_of_half_spectra(n):
    """rfft: sum_k a_k |X_k|^2 = n sum x^2 (a_k = 2 for a conjugate pair, 1 for the zero and Nyquist
    frequencies), so the gradient is 2 n x. irfft: sum x^2 = (1/n) sum_k a_k |c_k|^2 with only the
    real parts of c_0 and c_{n/2} used: the gradient is (2 a_k / n) conj(c_k), and (2 / n) Re(c_k)
    where the imaginary part is ignored."""
    x = _draw("real", (3, n))
    a = _pair_weights(n)
    assert_close(fg.grad(lambda v: fnp.sum(a * fnp.abs(fnp.fft.rfft(v)) ** 2))(x), 2 * n * x)
    c = _draw("complex", (3, n // 2 + 1))
    want = 2 * a / n * np.conj(c)
    want[:, 0] = 2 / n * c[:, 0].real
    if n % 2 == 0:
        want[:, -1] = 2 / n * c[:, -1].real
    assert_close(fg.grad(lambda v: fnp.sum(fnp.fft.irfft(v, n=n) ** 2))(c), want)


def _columns(fn, size, dtype=complex):
    """The matrix M with M @ v = fn(v), from fn applied to unit vectors."""
    return np.stack([fn(np.eye(size, dtype=dtype)[k]) for k in range(size)], axis=1)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("n", [4, 5])
def test_transposes_equal_matrix_transposes(norm, n):
    """Each primitive's jvp is its matrix and its vjp the matrix's transpose (no conjugation)."""
    rng = _rng("transposes", norm, n)
    m = n // 2 + 1
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    ct = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    for name in ("fft", "ifft"):  # complex to complex
        M = _columns(lambda v, name=name: getattr(np.fft, name)(v, norm=norm), n)
        out, pullback = fg.vjp(lambda v, name=name: getattr(fnp.fft, name)(v, norm=norm), z)
        assert_close(pullback(ct)[0], M.T @ ct)
        assert_close(fg.jvp(lambda v, name=name: getattr(fnp.fft, name)(v, norm=norm), (z,), (ct,))[1], M @ ct)
    # rfft: real to complex; the cotangent of a real input is the real part of Mᵀ ct
    x = rng.standard_normal(n)
    M = _columns(lambda v: np.fft.rfft(v, norm=norm), n, float)
    ct_half = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    assert_close(fg.vjp(lambda v: fnp.fft.rfft(v, norm=norm), x)[1](ct_half)[0], (M.T @ ct_half).real)
    assert_close(fg.jvp(lambda v: fnp.fft.rfft(v, norm=norm), (x,), (x[::-1].copy(),))[1], M @ x[::-1])
    # irfft: complex to real, real-linear: x = A Re(c) + B Im(c), so the cotangent of c is Aᵀg - i Bᵀg
    A = _columns(lambda v: np.fft.irfft(v, n=n, norm=norm), m)
    B = _columns(lambda v: np.fft.irfft(1j * v, n=n, norm=norm), m)
    c = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    g = rng.standard_normal(n)
    assert_close(fg.vjp(lambda v: fnp.fft.irfft(v, n=n, norm=norm), c)[1](g)[0], A.T @ g - 1j * (B.T @ g))
    assert_close(fg.jvp(lambda v: fnp.fft.irfft(v, n=n, norm=norm), (c,), (ct_half,))[1],
                 A @ ct_half.real + B @ ct_half.imag)


def test_padding_and_cropping_transposes():
    """With n larger than the input, the cotangent is cropped back; with n smaller, zero-padded."""
    rng = _rng("pad-crop")
    x = rng.standard_normal(4)
    for n in (2, 7):
        M = _columns(lambda v, n=n: np.fft.rfft(v, n=n), 4, float)
        ct = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
        assert_close(fg.vjp(lambda v, n=n: fnp.fft.rfft(v, n=n), x)[1](ct)[0], (M.T @ ct).real)
        Mc = _columns(lambda v, n=n: np.fft.fft(v, n=n), 4)
        ct = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        assert_close(fg.vjp(lambda v, n=n: fnp.fft.fft(v, n=n), x + 0j)[1](ct)[0], Mc.T @ ct)


def test_fftshift_gradient_is_the_inverse_shift():
    x = _draw("real", (3, 4))
    w = _draw("real", (3, 4), key=("w",))
    g = fg.grad(lambda a: fnp.sum(fnp.fft.fftshift(a) * w))(x)
    np.testing.assert_array_equal(g, np.fft.ifftshift(w))


# --- vmap -----------------------------------------------------------------------------------------------


def _loss(f):
    """A real loss of f's output with fixed non-uniform complex weights."""
    def loss(a):
        out = f(fnp, a)
        w = 1.5 + np.cos(np.arange(out.size)).reshape(out.shape) + 0.5j * np.sin(np.arange(out.size)).reshape(out.shape)
        return fnp.sum(fnp.real(out * w.astype(np.result_type(out.dtype, np.complex64))))

    return loss


@pytest.mark.parametrize("fid, f, kind", _params())
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_vmap_matches_a_loop(fid, f, kind, axis):
    xs = _draw(kind, (3,) + GRAD_SHAPE, key=("vmap", fid))
    batched = np.moveaxis(xs, 0, axis)
    got = fg.vmap(lambda a: f(fnp, a), in_axes=axis)(batched)
    want = np.stack([f(np, x) for x in xs])
    assert got.dtype == want.dtype
    assert_close(got, want)


@pytest.mark.parametrize("fid, f, kind", _params())
def test_vmap_of_grad_matches_a_loop_of_grad(fid, f, kind):
    xs = _draw(kind, (3,) + GRAD_SHAPE, key=("vmap-grad", fid))
    g = fg.grad(_loss(f))
    assert_close(fg.vmap(g, in_axes=-1)(np.moveaxis(xs, 0, -1)), np.stack([g(x) for x in xs]))


def test_vmap_binds_each_primitive_once():
    """A batch of transforms is one transform over the extra leading axis, not a Python loop."""
    xs = _draw("real", (10, 4, 6))
    for f, prim in ((lambda a: fnp.fft.fft2(a), "fft"), (lambda a: fnp.fft.rfft(a, n=8), "rfft"),
                    (lambda a: fnp.fft.irfft(a, axis=0), "irfft")):
        prog = fg.make_trace(fg.vmap(f))(xs)
        assert [e.prim.name for e in prog.eqns].count(prim) == 1, str(prog)


# --- jit ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fid, f, kind", _params())
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["64", "32"])
def test_jit_equals_eager(fid, f, kind, dtype):
    a = _draw(kind, GRAD_SHAPE, dtype, key=("jit", fid))
    jf = fg.jit(lambda x: f(fnp, x))
    assert_same(jf(a), f(np, a))
    assert_same(jf(a), f(np, a))  # from the cache
    assert jf.cache_info().misses == 1


@pytest.mark.parametrize("fid, f, kind", _params())
def test_derivatives_of_jit_equal_eager(fid, f, kind):
    a = _draw(kind, GRAD_SHAPE, key=("jit-grad", fid))
    loss = _loss(f)
    want = fg.grad(loss)(a)
    assert_close(fg.jit(fg.grad(loss))(a), want)
    assert_close(fg.grad(fg.jit(loss))(a), want)
    t = _draw(kind, GRAD_SHAPE, key=("jit-t", fid))
    assert_close(fg.jvp(fg.jit(lambda x: f(fnp, x)), (a,), (t,))[1], fg.jvp(lambda x: f(fnp, x), (a,), (t,))[1])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float16, np.float32, np.complex64])
def test_jit_follows_numpys_dtypes_for_every_input_type(dtype):
    """The primitives' shape/dtype rules (used while staging) agree with NumPy's results."""
    x = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    for name, kw in (("fft", {}), ("ifftn", {"axes": (0, 2)}), ("rfft", {"n": 5}), ("rfftn", {}), ("irfft", {"n": 5}),
                     ("irfftn", {}), ("irfftn", {"axes": (1,)}), ("hfft", {}), ("fftshift", {})):
        if name.startswith("rfft") and dtype == np.complex64:
            continue
        f = getattr(fnp.fft, name)
        assert_same(fg.jit(lambda a, f=f, kw=kw: f(a, **kw))(x), getattr(np.fft, name)(x, **kw))


def test_staged_programs_hold_one_transform():
    x = _draw("real", (4, 6))
    prog = fg.make_trace(lambda a: fnp.fft.irfft2(fnp.fft.rfft2(a, s=(5, 8)), s=(4, 6)))(x)
    names = [e.prim.name for e in prog.eqns]
    assert names.count("rfft") == 1 and names.count("irfft") == 1, str(prog)
    assert "pad" in names and "getitem" in names, str(prog)  # the padding to s and the cropping back


# --- dispatch from plain NumPy ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
                                  "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift"])
def test_plain_numpy_calls_dispatch_on_traced_values(name):
    x = _draw("real", (4, 6), key=(name,))
    kw = {} if name in ("fftshift", "ifftshift") else {"norm": "ortho"}

    def f(m, a):
        return m.real(getattr(m.fft, name)(a, **kw)) + 0.0

    out, pullback = fg.vjp(lambda a: f(np, a), x)
    assert_same(out, f(np, x))
    ct = _draw("real", out.shape, key=("ct",))
    assert_close(pullback(ct)[0], fg.vjp(lambda a: f(fnp, a), x)[1](ct)[0])
    assert_close(fg.vmap(lambda a: f(np, a))(np.stack([x, x])), np.stack([f(np, x)] * 2))
    assert_close(fg.jit(lambda a: f(np, a))(x), f(np, x))


def test_primitives_are_registered():
    for name in FFT_PRIMS:
        p = primitives[name]
        assert p.jvp is not None and p.vjp is not None and p.batch is not None and not p.nondiff
