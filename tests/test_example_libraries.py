"""funcgrad.example_libraries.stax and .optimizers: JAX's signatures and numbers (known answers
recorded from JAX 0.10.2 with jax_enable_x64; JAX is not a test dependency), shapes against the
layers' definitions, and the update formulas against hand-written NumPy."""

from __future__ import annotations

import doctest
import pickle

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.random as fr
from funcgrad.example_libraries import optimizers, stax

RNG = np.random.default_rng(0)


def test_mlp_gives_jax_numbers():
    init_fun, apply_fun = stax.serial(stax.Dense(3), stax.Tanh, stax.Dense(2), stax.LogSoftmax)
    out_shape, params = init_fun(fr.key(42), (-1, 2))
    assert out_shape == (-1, 2)
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    np.testing.assert_allclose(apply_fun(params, x), [[-0.35448565803716686, -1.2090998548709722],
                                                      [-0.6114366490624983, -0.7821332150305316]], rtol=1e-12)


def test_dropout_gives_jax_numbers_and_needs_rng():
    init_fun, apply_fun = stax.serial(stax.Dense(4), stax.Dropout(0.5))
    _, params = init_fun(fr.key(1), (-1, 2))
    out = apply_fun(params, np.ones((2, 2)), rng=fr.key(7))
    np.testing.assert_allclose(out, [[-3.5533068556991894, -0.39010947468935514, 0.0, 0.0],
                                     [-3.5533068556991894, -0.39010947468935514, 0.0, -2.015663895611882]],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="rng=key"):
        stax.Dropout(0.5)[1]((), np.ones(2))
    np.testing.assert_array_equal(stax.Dropout(0.5, mode="test")[1]((), np.ones(2), rng=fr.key(0)), [1.0, 1.0])


def _reference_conv_nhwc(x, w, stride, pad):
    """Direct cross-correlation, NHWC input, HWIO kernel (for checking stax.Conv)."""
    x = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    kh, kw, _, o = w.shape
    oh = (x.shape[1] - kh) // stride[0] + 1
    ow = (x.shape[2] - kw) // stride[1] + 1
    out = np.zeros((x.shape[0], oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, w)
    return out


def test_conv_pooling_batchnorm_flatten_shapes_and_values():
    init_fun, apply_fun = stax.serial(stax.Conv(4, (3, 3), (2, 2), "SAME"), stax.BatchNorm(), stax.Relu,
                                      stax.MaxPool((2, 2)), stax.AvgPool((2, 2), padding="SAME"), stax.Flatten,
                                      stax.Dense(2))
    out_shape, params = init_fun(fr.key(0), (2, 11, 9, 3))
    x = RNG.standard_normal((2, 11, 9, 3))
    y = apply_fun(params, x)
    assert out_shape == (2, 2) and y.shape == (2, 2)
    # the convolution alone against a direct loop (SAME, stride 2: 11 -> 6, 9 -> 5; pads (1, 1) each)
    conv_init, conv_apply = stax.Conv(4, (3, 3), (2, 2), "SAME")
    shape, (w, b) = conv_init(fr.key(3), (2, 11, 9, 3))
    assert shape == (2, 6, 5, 4) and w.shape == (3, 3, 3, 4) and b.shape == (1, 1, 1, 4)
    np.testing.assert_allclose(conv_apply((w, b), x), _reference_conv_nhwc(x, w, (2, 2), ((1, 1), (1, 1))) + b,
                               rtol=1e-12, atol=1e-12)
    # pooling against NumPy
    z = RNG.standard_normal((1, 4, 6, 2))
    np.testing.assert_allclose(stax.MaxPool((2, 2), (2, 2))[1]((), z), z.reshape(1, 2, 2, 3, 2, 2).max(axis=(2, 4)))
    np.testing.assert_allclose(stax.AvgPool((2, 2), (2, 2))[1]((), z), z.reshape(1, 2, 2, 3, 2, 2).mean(axis=(2, 4)))
    np.testing.assert_allclose(stax.SumPool((2, 2), (2, 2))[1]((), z), z.reshape(1, 2, 2, 3, 2, 2).sum(axis=(2, 4)))
    # batch norm: per-channel standardisation over N, H, W
    bn = stax.BatchNorm()[1]((np.zeros(2), np.ones(2)), z)
    np.testing.assert_allclose(bn, (z - z.mean((0, 1, 2))) / np.sqrt(z.var((0, 1, 2)) + 1e-5), rtol=1e-10)
    # gradients flow through the whole network
    loss = lambda p: fnp.sum(apply_fun(p, x) ** 2)
    g = fg.grad(loss)(params)
    assert fg.tree_util.tree_structure(g) == fg.tree_util.tree_structure(params)


def test_conv_transpose_shapes_and_adjointness():
    init_fun, apply_fun = stax.ConvTranspose(3, (3, 3), (2, 2), "SAME")
    shape, (w, b) = init_fun(fr.key(0), (2, 5, 4, 3))
    assert shape == (2, 10, 8, 3)
    x = RNG.standard_normal((2, 5, 4, 3))
    assert apply_fun((w, b), x).shape == shape
    assert stax.ConvTranspose(2, (2, 3), (1, 2), "VALID")[0](fr.key(0), (2, 5, 4, 3))[0] == (2, 6, 9, 2)
    assert stax.Conv1DTranspose(3, (3,), (2,), "SAME")[0](fr.key(0), (2, 5, 3))[0] == (2, 10, 3)
    # VALID transposed convolution with stride 1 is the adjoint of VALID convolution (kernel flipped, I/O swapped)
    conv = lambda v, k: stax.Conv(2, (2, 2))[1]((k, 0.0), v)
    k = RNG.standard_normal((2, 2, 3, 2))
    u, v = RNG.standard_normal((1, 4, 4, 3)), RNG.standard_normal((1, 3, 3, 2))
    kt = np.transpose(k[::-1, ::-1], (0, 1, 3, 2))
    convt = stax.ConvTranspose(3, (2, 2))[1]((kt, 0.0), v)
    np.testing.assert_allclose(np.sum(conv(u, k) * v), np.sum(u * convt), rtol=1e-12)


def test_combinators_and_elementwise_layers():
    init_fun, apply_fun = stax.serial(stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Identity), stax.FanInConcat())
    shape, params = init_fun(fr.key(0), (-1, 4))
    assert shape == (-1, 7) and params[1][1] == ()
    x = RNG.standard_normal((5, 4))
    y = apply_fun(params, x)
    np.testing.assert_allclose(y[:, 3:], x)
    np.testing.assert_allclose(y[:, :3], x @ params[1][0][0] + params[1][0][1], rtol=1e-13)
    s_init, s_apply = stax.serial(stax.FanOut(3), stax.parallel(stax.Identity, stax.Identity, stax.Tanh), stax.FanInSum)
    assert s_init(fr.key(0), (2,))[0] == (2,)
    np.testing.assert_allclose(s_apply(s_init(fr.key(0), (2,))[1], np.array([0.5, 1.0])),
                               2 * np.array([0.5, 1.0]) + np.tanh([0.5, 1.0]))
    for layer, f in [(stax.Relu, lambda v: np.maximum(v, 0)), (stax.Exp, np.exp),
                     (stax.Sigmoid, lambda v: 1 / (1 + np.exp(-v))),
                     (stax.Softmax, lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True))]:
        np.testing.assert_allclose(layer[1]((), x), f(x), rtol=1e-13)
    dep_init, dep_apply = stax.shape_dependent(lambda shape: stax.Dense(shape[-1]))
    shape, p = dep_init(fr.key(1), (3, 6))
    assert shape == (3, 6) and dep_apply(p, np.ones((3, 6))).shape == (3, 6)


def test_optimizer_updates_match_the_formulas():
    p0 = {"w": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3)}
    grad_of = lambda p, i: {k: np.cos(v * (i + 1)) + v for k, v in p.items()}
    opt_init, opt_update, get_params = optimizers.adam(0.05)
    state = opt_init(p0)
    ref = {k: (v.copy(), np.zeros_like(v), np.zeros_like(v)) for k, v in p0.items()}
    for i in range(20):
        state = opt_update(i, grad_of(get_params(state), i), state)
        for k, (x, m, v) in list(ref.items()):
            g = np.cos(x * (i + 1)) + x
            m = 0.1 * g + 0.9 * m
            v = 0.001 * g * g + 0.999 * v
            x = x - 0.05 * (m / (1 - 0.9 ** (i + 1))) / (np.sqrt(v / (1 - 0.999 ** (i + 1))) + 1e-8)
            ref[k] = (x, m, v)
    for k in p0:
        np.testing.assert_allclose(get_params(state)[k], ref[k][0], rtol=1e-12)
    # momentum with a schedule
    sched = optimizers.exponential_decay(0.1, 5, 0.5)
    m_init, m_update, m_get = optimizers.momentum(sched, 0.9)
    s, x, vel = m_init(1.0), 1.0, 0.0
    for i in range(6):
        s = m_update(i, 2 * m_get(s), s)
        vel = 0.9 * vel + 2 * x
        x = x - 0.1 * 0.5 ** (i / 5) * vel
    assert float(m_get(s)) == pytest.approx(x, rel=1e-14)


@pytest.mark.parametrize("name,args", [("sgd", (0.1,)), ("momentum", (0.1, 0.9)), ("nesterov", (0.1, 0.9)),
                                       ("adagrad", (0.5,)), ("rmsprop", (0.05,)), ("rmsprop_momentum", (0.02,)),
                                       ("adam", (0.1,)), ("adamax", (0.1,)), ("sm3", (0.5,))])
def test_every_optimizer_minimises_a_quadratic_under_jit(name, args):
    opt_init, opt_update, get_params = getattr(optimizers, name)(*args)
    target = {"a": np.array([1.0, -2.0]), "b": np.array(0.5)}
    loss = lambda p: sum(fnp.sum((p[k] - target[k]) ** 2) for k in p)

    @fg.jit
    def step(i, state):
        return opt_update(i, fg.grad(loss)(get_params(state)), state)

    state = opt_init({"a": np.zeros(2), "b": np.array(0.0)})
    first = float(loss(get_params(state)))
    for i in range(300):
        state = step(i, state)
    assert float(loss(get_params(state))) < 1e-2 * first


def test_state_packing_schedules_and_clipping():
    opt_init, opt_update, get_params = optimizers.rmsprop_momentum(0.01)
    state = opt_init({"w": np.ones(2), "v": [np.zeros(3)]})
    packed = optimizers.pack_optimizer_state(pickle.loads(pickle.dumps(optimizers.unpack_optimizer_state(state))))
    assert isinstance(packed, optimizers.OptimizerState)
    assert fg.tree_util.tree_structure(packed) == fg.tree_util.tree_structure(state)
    with pytest.raises(TypeError, match="did not match"):
        opt_update(0, {"w": np.ones(2)}, state)
    g = {"a": np.array([3.0, 4.0])}
    assert float(optimizers.l2_norm(g)) == 5.0
    np.testing.assert_allclose(optimizers.clip_grads(g, 1.0)["a"], [0.6, 0.8])
    np.testing.assert_allclose(optimizers.clip_grads(g, 10.0)["a"], [3.0, 4.0])
    assert [float(optimizers.piecewise_constant([3, 6], [1.0, 0.5, 0.1])(i)) for i in (0, 4, 7)] == [1.0, 0.5, 0.1]
    assert float(optimizers.polynomial_decay(1.0, 10, 0.1, 2.0)(20)) == pytest.approx(0.1)
    assert float(optimizers.inverse_time_decay(1.0, 5, 0.5, staircase=True)(7)) == pytest.approx(1 / 1.5)
    with pytest.raises(TypeError, match="schedule"):
        optimizers.make_schedule(np.ones(2))


# jax.tree_util.tree_leaves(state) after two steps from {"w": [1, -2], "b": 0.5} with grads sin(3x) + x,
# recorded from JAX 0.10.2 (jax_enable_x64): the leaves are each parameter's (x, *slots), no step count.
JAX_STATE_LEAVES = {
    "sgd": [[0.2284457604797627], [0.7507731691859768, -1.716838445864008]],
    "momentum": [[0.09367121168539777], [2.565792896541968], [0.6480723684605888, -1.5619858407019112],
                 [2.378156307334245, -2.6595570911798125]],
    "adagrad": [[0.47395879866583135], [4.447491559466649], [0.16041201334168642],
                [0.9738688849887838, -1.974009758314505], [2.649499681207981, 5.789230396631406],
                [0.16131115011216202, -0.15990241685494858]],
    "rmsprop": [[0.04278823567686632], [0.25189137687671415], [0.42340609727997053, -1.5531048090749209],
                [0.36384936063821305, 0.3212947945983492]],
    "adam": [[0.30047486304331306], [0.26797845753045846], [0.004014576873926732],
             [0.7998912153802382, -1.801349419077952], [0.23543878859872397, -0.28978405110599265],
             [0.003062790060387949, 0.0047781001272612705]],
    "adamax": [[0.30572090375445704], [0.26797845753045846], [1.4959974916174505],
               [0.8066468071554974, -1.8112681823072676], [0.23543878859872397, -0.28978405110599265],
               [1.32737987873336, 1.718863917299273]],
}


@pytest.mark.parametrize("name", sorted(JAX_STATE_LEAVES))
def test_optimizer_state_has_jaxs_leaves(name):
    args = (0.1, 0.9) if name == "momentum" else (0.1,)
    opt_init, opt_update, get_params = getattr(optimizers, name)(*args)
    state = opt_init({"w": np.array([1.0, -2.0]), "b": np.array(0.5)})
    for i in range(2):
        state = opt_update(i, fg.tree_util.tree_map(lambda x: np.sin(3 * x) + x, get_params(state)), state)
    leaves = fg.tree_util.tree_leaves(state)
    assert len(leaves) == len(JAX_STATE_LEAVES[name])
    for got, want in zip(leaves, JAX_STATE_LEAVES[name]):
        np.testing.assert_allclose(np.ravel(got), want, rtol=1e-13)
    per_param = optimizers.unpack_optimizer_state(state)["w"].subtree
    if name == "sgd":
        assert isinstance(per_param, np.ndarray)  # JAX's sgd keeps x alone
    else:
        assert isinstance(per_param, tuple) and per_param[0] is get_params(state)["w"]


@pytest.mark.parametrize("module", [stax, optimizers])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0
