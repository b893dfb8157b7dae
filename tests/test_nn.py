"""funcgrad.nn (jax.nn) and funcgrad.nn.initializers: closed forms, finite differences, exact
values and derivatives at the extremes, and known answers recorded from JAX 0.10 (JAX is not a
test dependency)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import scipy.special as ss

import funcgrad as fg
import funcgrad.nn as nn
import funcgrad.nn.initializers as init
from funcgrad.test_util import check_grads

X = np.array([-3.0, -1.3, -0.4, 0.3, 0.9, 2.2, 4.5, 7.0])
sig = lambda x: 1 / (1 + np.exp(-x))
SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

CLOSED_FORMS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": sig,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "soft_sign": lambda x: x / (np.abs(x) + 1),
    "silu": lambda x: x * sig(x),
    "swish": lambda x: x * sig(x),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * (np.exp(x) - 1)),
    "celu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "log_sigmoid": lambda x: np.log(sig(x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip(x + 1, 0, 2) / 2,
    "tanh": np.tanh,
    "identity": lambda x: x,
}
SMOOTH = ["sigmoid", "softplus", "silu", "swish", "gelu", "log_sigmoid", "mish", "squareplus", "tanh", "identity"]


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_values_against_closed_forms_and_dtypes(name):
    f = getattr(nn, name)
    np.testing.assert_allclose(f(X), CLOSED_FORMS[name](X), rtol=1e-13, atol=1e-15)
    assert f(X.astype(np.float32)).dtype == np.float32
    assert f(np.zeros((0, 2))).shape == (0, 2)
    assert np.shape(f(np.float64(0.7))) == ()


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_under_jit_and_vmap(name):
    f = getattr(nn, name)
    x = np.stack([X, -X])
    np.testing.assert_allclose(fg.jit(f)(x), f(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(fg.vmap(f)(x), f(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(fg.vmap(fg.grad(lambda v: f(v).sum()))(x), fg.grad(lambda v: f(v).sum())(x),
                               rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_derivatives_against_finite_differences(name):
    f = getattr(nn, name)
    # away from kinks: every function is smooth there
    x = np.array([-2.7, -0.45, 0.35, 1.6, 3.3, 6.4]) if name not in SMOOTH else X
    check_grads(f, (x,), order=2)
    check_grads(lambda v: f(v) * 1.5, (np.array(0.8),), order=1)


def test_one_sided_derivatives_at_kinks_are_jax():
    kinks = {"relu": [(0.0, 0.0)], "relu6": [(0.0, 0.0), (6.0, 0.0)], "leaky_relu": [(0.0, 1.0)],
             "hard_tanh": [(1.0, 1.0), (-1.0, 1.0)], "elu": [(0.0, 1.0)]}
    for name, points in kinks.items():
        for x, want in points:
            assert float(fg.grad(getattr(nn, name))(x)) == want, (name, x)


def test_extremes_are_finite_and_exact():
    assert float(nn.softplus(1000.0)) == 1000.0 and float(fg.grad(nn.softplus)(1000.0)) == 1.0
    assert float(nn.softplus(-1000.0)) == 0.0 and float(fg.grad(nn.softplus)(-1000.0)) == 0.0
    assert float(nn.log_sigmoid(-1000.0)) == -1000.0 and float(fg.grad(nn.log_sigmoid)(-1000.0)) == 1.0
    assert float(nn.log_sigmoid(1000.0)) == 0.0 and float(fg.grad(nn.log_sigmoid)(1000.0)) == 0.0
    for name in ("sigmoid", "silu", "elu", "selu", "celu", "mish", "gelu"):
        for x in (-1000.0, 1000.0):
            v, g = fg.value_and_grad(getattr(nn, name))(x)
            assert np.isfinite(v) and np.isfinite(g), (name, x, v, g)
    a = np.array([0.5, -np.inf, 1.5, -np.inf])
    lse = nn.logsumexp(a)
    np.testing.assert_allclose(lse, np.log(np.exp(0.5) + np.exp(1.5)), rtol=1e-15)
    g = fg.grad(nn.logsumexp)(a)
    np.testing.assert_allclose(g, [ss.softmax([0.5, 1.5])[0], 0, ss.softmax([0.5, 1.5])[1], 0], rtol=1e-14)
    np.testing.assert_allclose(nn.softmax(a), g, rtol=1e-14)
    gl = fg.grad(lambda v: nn.log_softmax(v)[0])(a)
    assert np.all(np.isfinite(gl)) and gl[1] == 0.0 and gl[3] == 0.0
    np.testing.assert_allclose(nn.softmax(np.array([1000.0, 0.0])), [1.0, 0.0])


def test_softmax_family_closed_forms_axes_and_where():
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(nn.softmax(x, axis=0), ss.softmax(x, axis=0), rtol=1e-14)
    np.testing.assert_allclose(nn.log_softmax(x), ss.log_softmax(x, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(nn.logsumexp(x, axis=1), ss.logsumexp(x, axis=1), rtol=1e-14)
    np.testing.assert_allclose(nn.logmeanexp(x, axis=1), ss.logsumexp(x, axis=1) - np.log(4), rtol=1e-14)
    mask = np.array([True, False, True, True])
    sm = nn.softmax(x, where=mask)
    np.testing.assert_allclose(sm[:, 1], 0.0)
    np.testing.assert_allclose(sm[:, mask], ss.softmax(x[:, mask], axis=-1), rtol=1e-14)
    assert np.all(nn.log_softmax(x, where=mask)[:, 1] == -np.inf)
    check_grads(lambda v: nn.softmax(v, axis=0), (x,), order=2)
    check_grads(nn.log_softmax, (x,), order=2)
    check_grads(lambda v: nn.logsumexp(v, axis=0), (x,), order=2)


def test_glu_standardize_one_hot_log1mexp():
    x = np.random.default_rng(1).standard_normal((2, 6))
    np.testing.assert_allclose(nn.glu(x), x[:, :3] * sig(x[:, 3:]), rtol=1e-14)
    with pytest.raises(ValueError, match="odd"):
        nn.glu(np.ones(3))
    z = nn.standardize(x, axis=1)
    np.testing.assert_allclose(z, (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5),
                               rtol=1e-10)
    check_grads(lambda v: nn.standardize(v, axis=1), (x,), order=2)
    # algorithm="stable" is the two-pass variance (exact where the one-pass formula cancels)
    big = 1e8 + np.array([[0.0, 1.0, 2.0, 7.0]])
    centred = big - big.mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(nn.standardize(big, algorithm="stable"),
                               centred / np.sqrt(np.mean(centred ** 2, axis=-1, keepdims=True) + 1e-5), rtol=1e-13)
    check_grads(lambda v: nn.standardize(v, axis=0, algorithm="stable"), (x,), order=2)
    # "fast": mean(x²) - mean(x)² clipped at 0, as JAX's (here it cancels to -0.25: unclipped, NaN)
    const = np.full(3, 30000000.1)
    assert np.mean(const * const) - np.mean(const) ** 2 < -1e-5
    np.testing.assert_array_equal(nn.standardize(const), (const - const.mean()) / np.sqrt(1e-5))
    with pytest.raises(ValueError, match="algorithm"):
        nn.standardize(x, algorithm="two-pass")
    np.testing.assert_array_equal(nn.one_hot(np.array([2, 0, 5]), 3),
                                  [[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    assert nn.one_hot(np.array([[1]]), 4, axis=0).shape == (4, 1, 1)
    assert nn.one_hot(np.array([1]), 2, dtype=np.float32).dtype == np.float32
    labels = np.array([[0, 2], [1, 1]])
    np.testing.assert_array_equal(fg.jit(lambda v: nn.one_hot(v, 3))(labels), nn.one_hot(labels, 3))
    np.testing.assert_array_equal(fg.vmap(lambda v: nn.one_hot(v, 3, axis=0))(labels),
                                  np.stack([nn.one_hot(r, 3, axis=0) for r in labels]))
    v = np.array([1e-8, 0.1, 2.0, 50.0])
    np.testing.assert_allclose(nn.log1mexp(v), [np.log(1e-8) + np.log1p(-5e-9), np.log(-np.expm1(-0.1)),
                                             np.log1p(-np.exp(-2.0)), -np.exp(-50.0)], rtol=1e-7)
    assert float(nn.gelu(1.0, approximate=False)) == pytest.approx(1.0 * 0.5 * (1 + math.erf(1 / math.sqrt(2))),
                                                                    rel=1e-15)


def test_nn_transforms_compose():
    x = np.random.default_rng(2).standard_normal((5, 3))
    vg = fg.vmap(fg.grad(lambda r: nn.logsumexp(r)))(x)
    np.testing.assert_allclose(vg, ss.softmax(x, axis=1), rtol=1e-13)
    jg = fg.jit(fg.grad(lambda v: nn.log_softmax(v).sum() + nn.gelu(v).sum()))(x)
    np.testing.assert_allclose(jg, fg.grad(lambda v: nn.log_softmax(v).sum() + nn.gelu(v).sum())(x), rtol=1e-13)


def _naive_attention(q, k, v, keep, scale, q_len=None, bias=None):
    b_, t_, n_, _ = q.shape
    g = n_ // k.shape[2]
    out = np.zeros(q.shape)
    for b in range(b_):
        for n in range(n_):
            for t in range(t_):
                logits = np.array([q[b, t, n] @ k[b, s, n // g] * scale for s in range(k.shape[1])])
                if bias is not None:
                    logits = logits + bias[b, n, t]
                logits = np.where(keep[b, n, t], logits, -0.7 * np.finfo(float).max)
                p = np.exp(logits - logits.max())
                p /= p.sum()
                out[b, t, n] = p @ v[b, :, n // g]
                if q_len is not None and t >= q_len[b]:
                    out[b, t, n] = 0
    return out


def test_dot_product_attention_against_a_direct_loop():
    r = np.random.default_rng(3)
    q, k, v = r.standard_normal((2, 5, 4, 3)), r.standard_normal((2, 6, 2, 3)), r.standard_normal((2, 6, 2, 3))
    bias, mask = r.standard_normal((2, 4, 5, 6)), r.random((2, 1, 5, 6)) > 0.3
    scale = 1 / np.sqrt(3)
    full = np.ones((2, 4, 5, 6), bool)
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v), _naive_attention(q, k, v, full, scale), rtol=1e-12)
    causal = full & np.tril(np.ones((5, 6), bool))
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v, is_causal=True, scale=0.5),
                               _naive_attention(q, k, v, causal, 0.5), rtol=1e-12)
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v, bias=bias, mask=mask),
                               _naive_attention(q, k, v, full & mask, scale, bias=bias), rtol=1e-12)
    with_bias = nn.dot_product_attention(q, k, v, bias=bias)
    logits = np.einsum("btnh,bsnh->bnts", q, np.repeat(k, 2, axis=2)) * scale + bias
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(with_bias, np.einsum("bnts,bsnh->btnh", probs, np.repeat(v, 2, axis=2)), rtol=1e-12)
    window = full & (np.abs(np.arange(5)[:, None] - np.arange(6)[None, :]) <= 1)
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v, local_window_size=1),
                               _naive_attention(q, k, v, window, scale), rtol=1e-12)
    lengths = full & (np.arange(6)[None, None, None, :] < np.array([2, 6])[:, None, None, None])
    lengths &= np.arange(5)[None, None, :, None] < np.array([3, 5])[:, None, None, None]
    np.testing.assert_allclose(
        nn.dot_product_attention(q, k, v, query_seq_lengths=np.array([3, 5]), key_value_seq_lengths=np.array([2, 6])),
        _naive_attention(q, k, v, lengths, scale, q_len=[3, 5]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nn.dot_product_attention(q[0], k[0], v[0]), _naive_attention(q, k, v, full, scale)[0],
                               rtol=1e-12)
    check_grads(lambda a, b, c: nn.dot_product_attention(a, b, c, is_causal=True), (q, k, v), order=1)
    # traced masks and lengths (under jit)
    jitted = fg.jit(lambda lq, lk, m: nn.dot_product_attention(q, k, v, mask=m, query_seq_lengths=lq,
                                                                 key_value_seq_lengths=lk))
    np.testing.assert_allclose(jitted(np.array([3, 5]), np.array([2, 6]), mask),
                               nn.dot_product_attention(q, k, v, mask=mask, query_seq_lengths=np.array([3, 5]),
                                                        key_value_seq_lengths=np.array([2, 6])), rtol=1e-12)
    with pytest.raises(ValueError, match="K dividing N"):
        nn.dot_product_attention(q, k[:, :, :1].repeat(3, axis=2), v[:, :, :1].repeat(3, axis=2))


# --- initializers --------------------------------------------------------------------------

def _key(seed):
    import funcgrad.random as fr

    return fr.key(seed)


JAX_FLOAT32 = {  # jax.nn.initializers.<name>(*args)(jax.random.key(0), shape, jnp.float32), JAX 0.10.2
    ("glorot_normal", (), (2, 3)): [[1.046842336654663, 1.2329133749008179, -0.29671576619148254],
                                    [-0.05394943431019783, 0.12079361826181412, -0.65617436170578]],
    ("he_uniform", (), (3, 2)): [[1.2661935091018677, 1.3536282777786255], [-0.47435131669044495, -0.08861897140741348],
                                 [0.19767512381076813, -0.9461002945899963]],
    ("orthogonal", (), (2, 3)): [[0.96083664894104, -0.2567500174045563, 0.1042710393667221],
                                 [0.18604838848114014, 0.31881120800971985, -0.9293790459632874]],
    # square and column_axis=0: the column axis is the matrix's last axis (Q, not its transpose)
    ("orthogonal", (), (3, 3)): [[0.9554101228713989, 0.2941357493400574, 0.02599557861685753],
                                 [-0.04628981649875641, 0.2361408770084381, -0.9706156253814697],
                                 [-0.2916313707828522, 0.9261326193809509, 0.23922686278820038]],
    ("orthogonal", (1.0, 0), (2, 2, 3)): [[[0.5636004209518433, -0.1506025195121765, 0.06116253137588501],
                                           [-0.1720345914363861, 0.23075176775455475, 0.7570272088050842]],
                                          [[0.7814790606498718, -0.0591076985001564, -0.3009595274925232],
                                           [0.12156011164188385, -0.25595709681510925, -0.4636044502258301]]],
    ("delta_orthogonal", (), (1, 1, 2, 2)): [[[[0.9661029577255249, 0.25815725326538086],
                                               [-0.25815725326538086, 0.9661028981208801]]]],
    ("normal", (0.5,), (3,)): [0.8113210797309875, 1.0126323699951172, -0.21679721772670746],
    ("uniform", (2.0,), (3,)): [1.895334005355835, 1.9571597576141357, 0.6645829677581787],
}


@pytest.mark.parametrize("case", sorted(JAX_FLOAT32, key=str))
def test_initializers_give_jax_numbers(case):
    name, args, shape = case
    got = getattr(init, name)(*args)(_key(0), shape, np.float32)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, JAX_FLOAT32[case], rtol=2e-6, atol=1e-7)


def test_variance_scaling_statistics_and_fans():
    w = init.variance_scaling(2.0, "fan_in", "normal")(_key(1), (400, 300))
    assert w.dtype == np.float64
    assert abs(w.var() * 400 / 2.0 - 1) < 0.02
    u = init.variance_scaling(1.0, "fan_avg", "uniform")(_key(2), (200, 600))
    assert abs(u.var() * 400 - 1) < 0.02 and np.abs(u).max() <= math.sqrt(3 / 400)
    t = init.glorot_normal()(_key(3), (300, 500))
    assert abs(t.var() * 400 - 1) < 0.03 and np.abs(t).max() <= 2 * math.sqrt(1 / 400) / 0.87962566103423978 + 1e-12
    # convolution kernels: receptive field multiplies both fans (HWIO)
    k = init.he_normal()(_key(4), (3, 3, 64, 32))
    assert abs(k.var() * 9 * 64 / 2 - 1) < 0.05
    with pytest.raises(ValueError, match="mode"):
        init.variance_scaling(1.0, "fan_wrong", "normal")
    with pytest.raises(ValueError, match="at least 2"):
        init.lecun_normal()(_key(0), (5,))
    assert init.xavier_uniform is init.glorot_uniform and init.kaiming_normal is init.he_normal


def test_orthogonal_constant_zeros_ones_delta():
    q = init.orthogonal(scale=2.0)(_key(5), (4, 6))
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-12)
    d = init.delta_orthogonal()(_key(6), (3, 3, 4, 4))
    np.testing.assert_allclose(d[1, 1] @ d[1, 1].T, np.eye(4), atol=1e-12)
    assert np.count_nonzero(d) == np.count_nonzero(d[1, 1])
    np.testing.assert_array_equal(init.constant(0.25)(_key(0), (2,)), [0.25, 0.25])
    assert init.zeros(_key(0), (2, 2), np.float32).dtype == np.float32
    np.testing.assert_array_equal(init.ones(_key(0), 3), [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="float dtype"):
        init.normal()(_key(0), (2,), np.int32)


@pytest.mark.parametrize("module", [nn, init])
def test_docstring_examples(module):
    assert doctest.testmod(module, extraglobs={"np": np}).failed == 0
