"""funcgrad.scipy.signal: convolve and correlate in every mode against SciPy (values bit for bit),
derivatives in both inputs against finite differences to second order and against the dense
matrix of the linear map, vmap against a Python loop, jit against eager, dtypes and errors."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import scipy.signal as ss

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.signal as fss
from funcgrad.scipy import _signal_prims as P
from funcgrad.test_util import check_grads

MODES = ("full", "same", "valid")
KINDS = {"convolve": (fss.convolve, ss.convolve), "correlate": (fss.correlate, ss.correlate)}
# operand shape pairs: in1 larger, in2 larger, equal, mixed-equal dims, 2-d, 3-d, length-1 kernel
SHAPES = {
    "1d": ((6,), (3,)),
    "1d-in2-larger": ((3,), (5,)),
    "1d-equal": ((4,), (4,)),
    "1d-kernel-1": ((5,), (1,)),
    "2d": ((4, 5), (2, 3)),
    "2d-in2-larger": ((2, 3), (4, 5)),
    "2d-one-dim-equal": ((3, 4), (3, 2)),
    "3d": ((3, 2, 4), (2, 2, 3)),
}


def _operands(key, sx, sy, complex_=False, dtype=np.float64):
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    x, y = rng.standard_normal(sx), rng.standard_normal(sy)
    if complex_:
        x = x + 1j * rng.standard_normal(sx)
        y = y + 1j * rng.standard_normal(sy)
    return x.astype(dtype) if not complex_ else x, y.astype(dtype) if not complex_ else y


def _valid_ok(sx, sy):
    return all(a >= b for a, b in zip(sx, sy)) or all(b >= a for a, b in zip(sx, sy))


PARAMS = [pytest.param(kind, mode, shape, id=f"{kind}-{mode}-{shape}")
          for kind in KINDS for mode in MODES for shape in SHAPES
          if mode != "valid" or _valid_ok(*SHAPES[shape])]


@pytest.mark.parametrize("kind, mode, shape", PARAMS)
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
def test_value_matches_scipy(kind, mode, shape, method):
    fn, ref = KINDS[kind]
    for complex_ in (False, True):
        x, y = _operands(f"{kind}{mode}{shape}", *SHAPES[shape], complex_)
        got, want = fn(x, y, mode, method), ref(x, y, mode, method)
        assert type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind, mode, shape", PARAMS)
def test_derivatives_match_finite_differences(kind, mode, shape):
    """Both inputs, forward and reverse mode, to second order; real and complex."""
    fn, _ = KINDS[kind]
    for complex_ in (False, True):
        x, y = _operands(f"{kind}{mode}{shape}/grad", *SHAPES[shape], complex_)
        check_grads(lambda a, b: fn(a, b, mode, "direct"), (x, y), order=2)


@pytest.mark.parametrize("kind, mode, shape", [p for p in PARAMS if "2d" in p.id or "3d" in p.id])
def test_fft_method_derivatives(kind, mode, shape):
    fn, _ = KINDS[kind]
    x, y = _operands(f"{kind}{mode}{shape}/fft", *SHAPES[shape])
    check_grads(lambda a, b: fn(a, b, mode, "fft"), (x, y), order=1)


def _dense(f, shape):
    """The matrix of the linear map f (on arrays of the given shape), column by column."""
    cols = []
    for i in range(int(np.prod(shape))):
        e = np.zeros(int(np.prod(shape)))
        e[i] = 1.0
        cols.append(np.ravel(f(e.reshape(shape))))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("kind, mode, shape", [p for p in PARAMS if p.id.split("-", 2)[2].startswith(("1d", "2d"))])
def test_vjp_is_the_transpose_of_the_linear_map(kind, mode, shape):
    """The cotangent of each input is exactly Jᵀ·ct, with J built column by column from SciPy."""
    fn, ref = KINDS[kind]
    x, y = _operands(f"{kind}{mode}{shape}/dense", *SHAPES[shape])
    out, pullback = fg.vjp(lambda a, b: fn(a, b, mode), x, y)
    ct = np.random.default_rng(0).standard_normal(out.shape)
    gx, gy = pullback(ct)
    jx = _dense(lambda a: ref(a, y, mode, "direct"), x.shape)
    jy = _dense(lambda b: ref(x, b, mode, "direct"), y.shape)
    np.testing.assert_allclose(gx.ravel(), jx.T @ ct.ravel(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy.ravel(), jy.T @ ct.ravel(), rtol=1e-12, atol=1e-12)


def test_moving_average_gradient_closed_form():
    """d/dx sum(convolve(x, ones(k)/k, 'valid')): entry i is the number of windows covering it / k."""
    x, k = np.arange(8.0), 3
    g = fg.grad(lambda x: fnp.sum(fss.convolve(x, np.ones(k) / k, "valid")))(x)
    np.testing.assert_allclose(g, np.array([1, 2, 3, 3, 3, 3, 2, 1]) / k)
    # and with respect to the kernel: each tap sums a window of x
    gk = fg.grad(lambda w: fnp.sum(fss.correlate(x, w, "valid")))(np.ones(k))
    np.testing.assert_allclose(gk, [x[j:j + 6].sum() for j in range(k)])


# --- vmap, jit ------------------------------------------------------------------------------------------

VMAP_PARAMS = [pytest.param(kind, mode, shape, id=f"{kind}-{mode}-{shape}")
               for kind in KINDS for mode in MODES for shape in ("1d", "1d-in2-larger", "2d")
               if mode != "valid" or _valid_ok(*SHAPES[shape])]


@pytest.mark.parametrize("kind, mode, shape", VMAP_PARAMS)
@pytest.mark.parametrize("axes", [(0, 0), (0, None), (None, 0), (-1, 1)], ids=str)
def test_vmap_matches_python_loop(kind, mode, shape, axes):
    fn, ref = KINDS[kind]
    sx, sy = SHAPES[shape]
    rng = np.random.default_rng(3)
    xs, ys = rng.standard_normal((3,) + sx), rng.standard_normal((3,) + sy)
    args = [xs if axes[0] is not None else xs[0], ys if axes[1] is not None else ys[0]]
    args = [a if ax is None else np.moveaxis(a, 0, ax) for a, ax in zip(args, axes)]
    got = fg.vmap(lambda a, b: fn(a, b, mode), in_axes=axes)(*args)
    want = np.stack([ref(xs[i] if axes[0] is not None else xs[0], ys[i] if axes[1] is not None else ys[0], mode)
                     for i in range(3)])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind, mode, shape", VMAP_PARAMS)
def test_vmap_of_grad_and_grad_of_vmap(kind, mode, shape):
    fn, _ = KINDS[kind]
    sx, sy = SHAPES[shape]
    rng = np.random.default_rng(4)
    xs, ys = rng.standard_normal((3,) + sx), rng.standard_normal((3,) + sy)

    def loss(a, b):
        out = fn(a, b, mode)
        return fnp.sum(fnp.sin(out))

    g = fg.grad(loss, argnums=(0, 1))
    got = fg.vmap(g)(xs, ys)
    want = [g(xs[i], ys[i]) for i in range(3)]
    for k in range(2):
        np.testing.assert_allclose(got[k], np.stack([w[k] for w in want]), rtol=1e-12, atol=1e-12)
    # grad of a vmapped (batched) loss, with the kernel shared
    total = fg.grad(lambda a, b: fnp.sum(fg.vmap(lambda ai: loss(ai, b))(a)), argnums=(0, 1))(xs, ys[0])
    per = [g(xs[i], ys[0]) for i in range(3)]
    np.testing.assert_allclose(total[0], np.stack([p[0] for p in per]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(total[1], sum(p[1] for p in per), rtol=1e-12, atol=1e-12)


def test_nested_vmap_batches_twice():
    rng = np.random.default_rng(5)
    xs, ys = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 3))
    got = fg.vmap(fg.vmap(lambda a, b: fss.correlate(a, b, "same")))(xs, ys)
    want = np.stack([np.stack([ss.correlate(xs[i, j], ys[i, j], "same") for j in range(3)]) for i in range(2)])
    np.testing.assert_array_equal(got, want)
    check_grads(fg.vmap(lambda a, b: fss.convolve(a, b, "valid")), (xs[0], ys[0]), order=2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_jit_matches_eager(kind, mode):
    fn, _ = KINDS[kind]
    x, y = _operands(f"jit{kind}{mode}", (4, 5), (2, 3))
    jf = fg.jit(lambda a, b: fn(a, b, mode))
    np.testing.assert_array_equal(jf(x, y), fn(x, y, mode))
    prog = fg.make_trace(lambda a, b: fn(a, b, mode))(x, y)
    assert "convolve" in [e.prim.name for e in prog.eqns]

    def loss(a, b):
        return fnp.sum(fn(a, b, mode) ** 2)

    for got, want in zip(fg.jit(fg.grad(loss, argnums=(0, 1)))(x, y), fg.grad(loss, argnums=(0, 1))(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for got, want in zip(fg.grad(fg.jit(loss), argnums=(0, 1))(x, y), fg.grad(loss, argnums=(0, 1))(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_jit_does_not_convolve_while_tracing(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("impl ran while tracing")

    monkeypatch.setattr(P.convolve_p, "impl", boom)
    prog = fg.make_trace(lambda a, b: fss.convolve(a, b, "valid"))(np.ones((50, 40)), np.ones((5, 4)))
    assert prog.eqns[-1].out.aval.shape == (46, 37)


# --- dtypes, special cases, errors -----------------------------------------------------------------------


@pytest.mark.parametrize("dx, dy", [(np.float32, np.float32), (np.float32, np.float64), (np.int64, np.int64),
                                    (np.int64, np.float32), (np.complex64, np.float32)])
def test_dtypes_follow_scipy(dx, dy):
    x, y = np.arange(1, 7).astype(dx), np.array([1, -2, 1]).astype(dy)
    for kind in KINDS:
        fn, ref = KINDS[kind]
        for mode in MODES:
            got, want = fn(x, y, mode), ref(x, y, mode)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_float32_gradients_stay_float32():
    x, y = np.linspace(0, 1, 6, dtype=np.float32), np.array([1.0, 0.5], np.float32)
    gx, gy = fg.grad(lambda a, b: fnp.sum(fss.convolve(a, b) ** 2), argnums=(0, 1))(x, y)
    assert gx.dtype == gy.dtype == np.float32
    check_grads(lambda a, b: fss.correlate(a, b, "same"), (x, y), order=1)


def test_integer_input_is_a_constant():
    x, w = np.arange(5), np.array([0.5, -1.0])
    g = fg.grad(lambda w: fnp.sum(fss.convolve(x, w) ** 2))(w)
    full = np.stack([ss.convolve(x, e) for e in np.eye(2)], axis=1)  # dz/dw
    np.testing.assert_allclose(g, 2 * full.T @ ss.convolve(x, w))


def test_zero_dimensional_inputs_multiply_as_in_scipy():
    assert fss.convolve(np.array(2.0), np.array(3.0)) == 6.0
    np.testing.assert_array_equal(fss.correlate(np.array(2.0 + 1j), np.array(3.0 + 1j)),
                                  ss.correlate(np.array(2.0 + 1j), np.array(3.0 + 1j)))
    assert fg.grad(lambda a: fss.convolve(a, np.array(3.0)))(np.array(2.0)) == 3.0


def test_errors_are_clear():
    with pytest.raises(ValueError, match="same dimensionality"):
        fss.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least as large"):
        fss.convolve(np.ones((3, 2)), np.ones((2, 3)), "valid")
    with pytest.raises(ValueError, match="mode"):
        fss.correlate(np.ones(3), np.ones(2), "circular")
    with pytest.raises(ValueError, match="method"):
        fss.convolve(np.ones(3), np.ones(2), method="winograd")
