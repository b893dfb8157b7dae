"""funcgrad.scipy.signal.convolve/correlate with axes= and dot_axes= (the tensor form, as autograd's
convolve): values against a brute-force reference built from SciPy's 1-pair convolutions (a loop
over every free and summed index), derivatives against finite differences to second order in both
modes, vmap against a Python loop (and without a loop over examples), jit, 0-d, empty and float32
inputs, and errors."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
import scipy.signal as ss

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.signal as fss
from funcgrad.scipy import _tensorconv as TC
from funcgrad.test_util import check_grads

FNS = {"convolve": (fss.convolve, ss.convolve), "correlate": (fss.correlate, ss.correlate)}
MODES = ("full", "same", "valid")


def reference(kind, a, b, axes, dot_axes, mode):
    """Loop over in1's free indices, in2's free indices and the summed indices; SciPy does each
    convolution of the convolved axes. Output axes: in1's free, in2's free, convolved."""
    ref = FNS[kind][1]
    ca, cb = [list(np.arange(a.ndim)[list(axes[0])]), list(np.arange(b.ndim)[list(axes[1])])]
    da, db = [list(np.arange(a.ndim)[list(dot_axes[0])]), list(np.arange(b.ndim)[list(dot_axes[1])])]
    fa = [i for i in range(a.ndim) if i not in ca + da]
    fb = [i for i in range(b.ndim) if i not in cb + db]
    at, bt = a.transpose(fa + da + ca), b.transpose(fb + db + cb)
    free_a, free_b = at.shape[:len(fa)], bt.shape[:len(fb)]
    dots = at.shape[len(fa):len(fa) + len(da)]
    results = {}
    for ia in np.ndindex(free_a):
        for ib in np.ndindex(free_b):
            acc = 0
            for d in np.ndindex(dots):
                x, y = at[ia + d], bt[ib + d]
                acc = acc + (ref(x, y, mode) if x.ndim else (x * (np.conj(y) if kind == "correlate" else y)))
            results[ia + ib] = np.asarray(acc)
    core = next(iter(results.values())).shape if results else ()
    out = np.zeros(free_a + free_b + core, np.result_type(a, b))
    for k, v in results.items():
        out[k] = v
    return out


# (in1 shape, in2 shape, axes, dot_axes): 1-d, CNN layer (NCHW x IOHW), kernel larger than the
# image, unsorted and negative axes, several dot axes, no free axes, outer product only
CONFIGS = {
    "1d": ((7,), (3,), ([0], [0]), ([], [])),
    "1d-free": ((2, 7), (3, 4), ([1], [0]), ([], [])),
    "cnn": ((2, 3, 6, 5), (3, 4, 3, 2), ([2, 3], [2, 3]), ([1], [0])),
    "cnn-kernel-larger": ((2, 3, 2, 3), (3, 2, 4, 4), ([2, 3], [2, 3]), ([1], [0])),
    "unsorted-negative": ((5, 2, 4), (3, 2, 2), ([-1, 0], [2, 0]), ([1], [1])),
    "two-dot-axes": ((2, 3, 5), (3, 2, 2), ([2], [2]), ([0, 1], [1, 0])),
    "same-size": ((4, 4), (4, 4), ([0, 1], [0, 1]), ([], [])),
    "outer": ((2, 3), (4,), ([], []), ([], [])),
}


def _valid_ok(sa, sb, axes):
    n = [sa[i] for i in axes[0]]
    m = [sb[i] for i in axes[1]]
    return all(x >= y for x, y in zip(n, m)) or all(y >= x for x, y in zip(n, m))


def _operands(name, complex_=False, dtype=np.float64):
    sa, sb, _, _ = CONFIGS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    if complex_:
        a, b = a + 1j * rng.standard_normal(sa), b + 1j * rng.standard_normal(sb)
        return a, b
    return a.astype(dtype), b.astype(dtype)


PARAMS = [pytest.param(kind, mode, name, id=f"{kind}-{mode}-{name}") for kind in FNS for mode in MODES
          for name in CONFIGS if mode != "valid" or _valid_ok(CONFIGS[name][0], CONFIGS[name][1], CONFIGS[name][2])]


@pytest.mark.parametrize("kind, mode, name", PARAMS)
def test_values_match_the_brute_force_reference(kind, mode, name):
    _, _, axes, dot_axes = CONFIGS[name]
    for complex_ in (False, True):
        a, b = _operands(name, complex_)
        got = FNS[kind][0](a, b, mode, axes=axes, dot_axes=dot_axes)
        want = reference(kind, a, b, axes, dot_axes, mode)
        assert type(got) is np.ndarray and got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", FNS)
@pytest.mark.parametrize("mode", MODES)
def test_axes_none_is_scipy_on_all_axes(kind, mode):
    rng = np.random.default_rng(1)
    for sa, sb in [((6, 5), (3, 2)), ((2, 3), (4, 4)), ((5, 4, 3), (2, 3, 2))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        if mode == "valid" and not _valid_ok(sa, sb, (range(len(sa)), range(len(sb)))):
            continue
        got = FNS[kind][0](a, b, mode, dot_axes=([], []))
        np.testing.assert_allclose(got, FNS[kind][1](a, b, mode), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind, mode, name", [p for p in PARAMS if p.id.split("-", 2)[2] in
                                              ("1d-free", "cnn", "cnn-kernel-larger", "unsorted-negative",
                                               "two-dot-axes", "outer")])
def test_derivatives_match_finite_differences(kind, mode, name):
    """Both inputs, forward and reverse mode, to second order (and <vjp(ct), t> = <ct, jvp(t)>)."""
    _, _, axes, dot_axes = CONFIGS[name]
    fn = FNS[kind][0]
    a, b = _operands(name)
    check_grads(lambda x, y: fn(x, y, mode, axes=axes, dot_axes=dot_axes), (a, b), order=2)


@pytest.mark.parametrize("kind", FNS)
def test_complex_derivatives(kind):
    a, b = _operands("1d-free", complex_=True)
    check_grads(lambda x, y: FNS[kind][0](x, y, "same", axes=([1], [0])), (a, b), order=2)


def test_vjp_is_the_transpose_of_the_linear_map():
    """Cotangents equal Jᵀ·ct with J built column by column from the brute-force reference."""
    _, _, axes, dot_axes = CONFIGS["cnn"]
    a, b = _operands("cnn")
    f = lambda x, y: fss.correlate(x, y, "valid", axes=axes, dot_axes=dot_axes)
    out, pullback = fg.vjp(f, a, b)
    ct = np.random.default_rng(2).standard_normal(out.shape)
    ga, gb = pullback(ct)
    for arg, g, which in ((a, ga, 0), (b, gb, 1)):
        cols = []
        for i in range(arg.size):
            e = np.zeros(arg.size)
            e[i] = 1.0
            pair = (e.reshape(arg.shape), b) if which == 0 else (a, e.reshape(arg.shape))
            cols.append(reference("correlate", *pair, axes, dot_axes, "valid").ravel())
        np.testing.assert_allclose(g.ravel(), np.stack(cols, 1).T @ ct.ravel(), rtol=1e-12, atol=1e-12)


def test_small_cnn_gradient():
    """Two convolutional layers with a nonlinearity and a dense readout, differentiated end to end."""
    rng = np.random.default_rng(3)
    images = rng.standard_normal((2, 1, 7, 7))
    params = {"k1": rng.standard_normal((1, 3, 3, 3)) * 0.5, "k2": rng.standard_normal((3, 2, 2, 2)) * 0.5,
              "w": rng.standard_normal((2 * 4 * 4,)) * 0.3}

    def net(k1, k2, w):
        h = fnp.tanh(fss.correlate(images, k1, "valid", axes=([2, 3], [2, 3]), dot_axes=([1], [0])))
        h = fnp.tanh(fss.convolve(h, k2, "valid", axes=([2, 3], [2, 3]), dot_axes=([1], [0])))
        return fnp.sum(fnp.sin(h.reshape(2, -1) @ w))

    check_grads(net, (params["k1"], params["k2"], params["w"]), order=2)


# --- vmap, jit --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FNS)
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0), (2, 1)], ids=str)
def test_vmap_matches_python_loop(kind, in_axes):
    _, _, axes, dot_axes = CONFIGS["cnn"]
    a, b = _operands("cnn")
    rng = np.random.default_rng(4)
    batch_a, batch_b = rng.standard_normal((3,) + a.shape), rng.standard_normal((3,) + b.shape)
    f = lambda x, y: FNS[kind][0](x, y, "same", axes=axes, dot_axes=dot_axes)
    args = [np.moveaxis(batch_a, 0, in_axes[0]) if in_axes[0] is not None else a,
            np.moveaxis(batch_b, 0, in_axes[1]) if in_axes[1] is not None else b]
    got = fg.vmap(f, in_axes=in_axes)(*args)
    want = np.stack([f(batch_a[i] if in_axes[0] is not None else a, batch_b[i] if in_axes[1] is not None else b)
                     for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_vmap_binds_the_primitive_once_and_per_example_gradients(monkeypatch):
    from funcgrad.traces.batching import BatchTrace

    _, _, axes, dot_axes = CONFIGS["cnn"]
    a, b = _operands("cnn")
    batch = np.random.default_rng(5).standard_normal((6,) + a.shape)
    counts = []
    original = BatchTrace.process

    def counting(self, prim, args, params):
        if prim.name == "sliding_dot":
            counts.append(1)
        return original(self, prim, args, params)

    monkeypatch.setattr(BatchTrace, "process", counting)
    loss = lambda k, x: fnp.sum(fnp.tanh(fss.correlate(x, k, "valid", axes=axes, dot_axes=dot_axes)) ** 2)
    fg.vmap(loss, in_axes=(None, 0))(b, batch)
    assert len(counts) == 1
    monkeypatch.undo()
    got = fg.vmap(fg.grad(loss), in_axes=(None, 0))(b, batch)
    want = np.stack([fg.grad(loss)(b, batch[i]) for i in range(6)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_jit_matches_eager_and_differentiates():
    _, _, axes, dot_axes = CONFIGS["unsorted-negative"]
    a, b = _operands("unsorted-negative")
    f = lambda x, y: fnp.sum(fnp.sin(fss.convolve(x, y, "full", axes=axes, dot_axes=dot_axes)))
    np.testing.assert_allclose(fg.jit(f)(a, b), f(a, b), rtol=1e-13)
    for got, want in zip(fg.jit(fg.grad(f, argnums=(0, 1)))(a, b), fg.grad(f, argnums=(0, 1))(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    for got, want in zip(fg.grad(fg.jit(f), argnums=(0, 1))(a, b), fg.grad(f, argnums=(0, 1))(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# --- dtypes, 0-d, empty ------------------------------------------------------------------------------


def test_float32_stays_float32():
    a, b = _operands("cnn", dtype=np.float32)
    f = lambda x, y: fss.correlate(x, y, "valid", axes=([2, 3], [2, 3]), dot_axes=([1], [0]))
    assert f(a, b).dtype == np.float32
    ga, gb = fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(a, b)
    assert ga.dtype == gb.dtype == np.float32
    np.testing.assert_allclose(f(a, b), f(a.astype(float), b.astype(float)), rtol=1e-4, atol=1e-5)


def test_zero_dimensional_inputs_multiply():
    for kind in FNS:
        got = FNS[kind][0](np.array(2.0), np.array(3.0), axes=([], []))
        assert got.shape == () and got == 6.0
        g = fg.grad(lambda x: FNS[kind][0](x, np.array(3.0), dot_axes=([], [])))(np.array(2.0))
        assert g == 3.0


@pytest.mark.parametrize("mode", MODES)
def test_empty_free_and_dot_axes(mode):
    axes, dot_axes = ([2, 3], [2, 3]), ([1], [0])
    rng = np.random.default_rng(6)
    empty_batch, k = rng.standard_normal((0, 3, 5, 5)), rng.standard_normal((3, 2, 2, 2))
    f = lambda x, y: fss.correlate(x, y, mode, axes=axes, dot_axes=dot_axes)
    out = f(empty_batch, k)
    assert out.shape[:2] == (0, 2)
    ga, gk = fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(empty_batch, k)
    assert ga.shape == empty_batch.shape and gk.shape == k.shape and not gk.any()
    # a summed axis of length 0: an empty sum, zeros
    x0, k0 = rng.standard_normal((2, 0, 5, 5)), rng.standard_normal((0, 2, 2, 2))
    assert not f(x0, k0).any() and f(x0, k0).shape[:2] == (2, 2)
    image = rng.standard_normal((1, 3, 4, 4))
    check_grads(lambda y: f(image, y), (k,), order=2)


def test_primitive_layout_matches_einsum():
    """The primitive on its own: batch, free, dot and correlated groups (batch axes broadcast)."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((3, 2, 4, 6)), rng.standard_normal((1, 5, 4, 2))
    got = TC.sliding_dot(x, w, nbatch=1, nfree_x=1, ndot=1)
    windows = np.lib.stride_tricks.sliding_window_view(x, 2, axis=3)           # (3, 2, 4, 5, 2)
    want = np.einsum("zadkj,zbdj->zabk", windows, np.broadcast_to(w, (3, 5, 4, 2)))
    np.testing.assert_allclose(got, want, rtol=1e-13)
    check_grads(lambda x, w: TC.sliding_dot(x, w, nbatch=1, nfree_x=1, ndot=1), (x, w), order=2)


@pytest.mark.parametrize("xs, ws, nbatch, nfree_x, ndot", [
    ((3, 2, 4, 6), (1, 5, 4, 2), 1, 1, 1), ((2, 3, 7, 6), (4, 3, 2, 3), 0, 1, 1), ((5,), (2,), 0, 0, 0),
    ((2, 3), (4, 3), 0, 1, 1), ((0, 3, 5), (2, 3, 2), 0, 1, 1), ((2, 0, 5), (2, 0, 2), 0, 1, 1),
    ((2, 1, 3, 6, 5), (2, 4, 3, 3, 2), 1, 1, 1)], ids=str)
def test_both_algorithms_agree(xs, ws, nbatch, nfree_x, ndot):
    """Strided windows + matmul, and matmul + shifted adds: the impl picks one by cost."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    shape = TC._out_shape(xs, ws, nbatch, nfree_x, ndot)
    windows = TC._windows_matmul(x, w, nbatch, nfree_x, ndot, shape)
    shifted = TC._shift_add(x, w, nbatch, nfree_x, ndot, shape)
    assert windows.shape == shifted.shape == shape
    np.testing.assert_allclose(shifted, windows, rtol=1e-12, atol=1e-12)


def test_the_input_gradient_of_a_wide_layer_uses_shifted_adds(monkeypatch):
    """One input channel, eight output channels: the forward pass uses windows, the input
    gradient (cotangent with 8 channels against a 1-channel result) the shifted adds."""
    used = []
    for name in ("_windows_matmul", "_shift_add"):
        original = getattr(TC, name)
        monkeypatch.setattr(TC, name, lambda *a, _f=original, _n=name: used.append(_n) or _f(*a))
    rng = np.random.default_rng(9)
    x, k = rng.standard_normal((16, 1, 28, 28)), rng.standard_normal((1, 8, 5, 5))
    f = lambda x: fss.correlate(x, k, "valid", axes=([2, 3], [2, 3]), dot_axes=([1], [0]))
    out, pullback = fg.vjp(f, x)
    assert used == ["_windows_matmul"]
    pullback(np.ones(out.shape))
    assert used == ["_windows_matmul", "_shift_add"]


# --- errors -----------------------------------------------------------------------------------------


def test_errors_are_specific():
    a, b = np.ones((2, 3, 5)), np.ones((3, 2))
    with pytest.raises(TypeError, match="third positional argument is mode"):
        fss.convolve(a, b, ([2], [1]))
    with pytest.raises(ValueError, match="dot_axes pair axes of equal length"):
        fss.convolve(a, b, axes=([2], [1]), dot_axes=([0], [0]))
    with pytest.raises(ValueError, match="both convolved"):
        fss.convolve(a, b, axes=([1], [0]), dot_axes=([1], [0]))
    with pytest.raises(ValueError, match="one input must be at least as large"):
        fss.correlate(np.ones((4, 2)), np.ones((2, 4)), "valid", axes=([0, 1], [0, 1]))
    with pytest.raises(ValueError, match="out of range"):
        fss.convolve(a, b, axes=([3], [1]))
    with pytest.raises(ValueError, match="must not be empty"):
        fss.convolve(np.ones((0,)), np.ones((2,)), axes=([0], [0]))
    with pytest.raises(ValueError, match="acceptable mode"):
        fss.convolve(a, b, "circular", axes=([2], [1]))
    with pytest.raises(TypeError, match="must be a sequence of axis numbers"):
        fss.convolve(a, b, axes=[2, 1])
    with pytest.raises(ValueError, match="with axes=None"):
        fss.convolve(a, b, dot_axes=([1], [0]))
    with pytest.raises(ValueError, match="repeats an axis"):
        fss.convolve(a, b, axes=([2, 2], [1, 0]))


def test_all_configs_are_exercised():
    """Every config appears in the value table in every mode it allows (guards against a typo)."""
    ids = {p.id for p in PARAMS}
    for kind, mode, name in itertools.product(FNS, ("full", "same"), CONFIGS):
        assert f"{kind}-{mode}-{name}" in ids
