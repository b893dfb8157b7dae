"""funcgrad.random: JAX's numbers (known answers recorded from JAX, not imported here), the same
numbers in eager mode, under jit and under vmap, staged draws, derivatives of reparameterised
draws, Philox keys, and errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.special as sps

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.random as fr
from funcgrad.errors import FuncgradError, RandomKeyError
from funcgrad.prims import random as random_prims

K0 = fr.key(0)
K1 = fr.key(1234)


def _cases(m: str) -> dict:
    """The calls whose results JAX_ANSWERS records (same names), in mode ``m``."""
    dt = np.float32 if m == "32" else np.float64
    it = np.int32 if m == "32" else np.int64
    logits = np.array([[0.1, 2.0, -1.0, 0.5], [1.0, 1.0, 1.0, 1.0]], dt)
    p = np.array([0.1, 0.2, 0.3, 0.4], dt)
    c = {
        "key42": lambda: fr.key(42),
        "split3": lambda: fr.split(K1, 3), "split23": lambda: fr.split(K1, (2, 3)),
        "fold": lambda: fr.fold_in(K1, 99), "foldbig": lambda: fr.fold_in(K1, 2**32 - 3),
        "bits32": lambda: fr.bits(K1, (5,), np.uint32 if m == "32" else np.uint64),
        "bits8": lambda: fr.bits(K1, (4,), np.uint8),
        "bits64": (lambda: fr.bits(K1, (2, 2), np.uint64)) if m == "64" else (lambda: fr.bits(K1, (4,), np.uint16)),
        "uniform": lambda: fr.uniform(K1, (6,), dt), "uniform_mm": lambda: fr.uniform(K1, (2, 3), dt, -2.0, 3.0),
        "normal": lambda: fr.normal(K1, (8,), dt), "normal0": lambda: fr.normal(K0, (), dt),
        "bernoulli": lambda: fr.bernoulli(K1, dt(0.3), (10,)),
        "bernoulli_p": lambda: fr.bernoulli(K1, np.array([0.1, 0.5, 0.9], dt)),
        "exponential": lambda: fr.exponential(K1, (5,), dt), "laplace": lambda: fr.laplace(K1, (5,), dt),
        "gumbel": lambda: fr.gumbel(K1, (5,), dt), "logistic": lambda: fr.logistic(K1, (5,), dt),
        "cauchy": lambda: fr.cauchy(K1, (5,), dt),
        "categorical": lambda: fr.categorical(K1, logits),
        "categorical_shape": lambda: fr.categorical(K1, logits, axis=-1, shape=(3, 2)),
        "categorical_ax0": lambda: fr.categorical(K1, logits, axis=0),
        "randint": lambda: fr.randint(K1, (8,), 0, 10, it), "randint_neg": lambda: fr.randint(K1, (5,), -100, 37, it),
        "randint_big": lambda: fr.randint(K1, (4,), 0, 2**31 - 1, it),
        "randint_int32": lambda: fr.randint(K1, (4,), 3, 9, np.int32),
        "randint_vec": lambda: fr.randint(K1, (3,), np.array([0, 10, 20], it), np.array([5, 15, 21], it), it),
        "perm10": lambda: fr.permutation(K1, 10), "perm_arr": lambda: fr.permutation(K1, np.arange(12).reshape(4, 3)),
        "perm_ax1": lambda: fr.permutation(K1, np.arange(12).reshape(3, 4), axis=1),
        "perm_ind": lambda: fr.permutation(K1, np.arange(12).reshape(3, 4), axis=1, independent=True),
        "choice_norep": lambda: fr.choice(K1, 10, (5,), replace=False),
        "choice_p": lambda: fr.choice(K1, 4, (6,), p=p),
        "choice_p_norep": lambda: fr.choice(K1, 4, (3,), replace=False, p=p),
        "truncnorm": lambda: fr.truncated_normal(K1, -1.0, 2.0, (6,), dt),
        "truncnorm_v": lambda: fr.truncated_normal(K1, np.array([-3.0, 0.0, 1.0], dt), 3.0, (3,), dt),
        "gamma": lambda: fr.gamma(K1, np.array([0.5, 1.0, 2.5, 10.0, 0.01], dt)),
        "gamma_shape": lambda: fr.gamma(K1, 3.0, (4,), dt),
        "loggamma": lambda: fr.loggamma(K1, np.array([0.5, 1.0, 2.5, 0.01], dt)),
        "beta": lambda: fr.beta(K1, 2.0, 3.0, (4,), dt),
        "dirichlet": lambda: fr.dirichlet(K1, np.array([1.0, 2.0, 0.5], dt), (2,), dt),
        "mvn": lambda: fr.multivariate_normal(K1, np.array([1.0, -1.0], dt), np.array([[2.0, 0.5], [0.5, 1.0]], dt),
                                              (3,), dt),
    }
    if m == "64":  # these use the default 64-bit integers, which are JAX's under jax_enable_x64
        c["rademacher"] = lambda: fr.rademacher(K1, (6,))
        c["choice"] = lambda: fr.choice(K1, 10, (5,))
        c["choice_arr"] = lambda: fr.choice(K1, np.arange(20).reshape(5, 4), (2,), axis=0)
    return c


# Bit-identical to JAX: keys, bits and draws that use no transcendental function. The others go
# through log/erfinv, where XLA fuses multiply-adds: they agree to a few units in the last place.
EXACT = {"key42", "split3", "split23", "fold", "foldbig", "bits32", "bits8", "bits64", "uniform", "bernoulli",
         "bernoulli_p", "categorical", "categorical_shape", "categorical_ax0", "randint", "randint_neg",
         "randint_big", "randint_int32", "randint_vec", "perm10", "perm_arr", "perm_ax1", "perm_ind", "choice",
         "choice_norep", "choice_p", "choice_p_norep", "choice_arr", "rademacher"}
# Bit-identical too: these reproduce XLA's own log1p, float32 log and erf, and its FMAs.
BIT_EXACT_DRAWS = {"uniform_mm", "normal", "normal0", "exponential", "laplace", "gumbel", "logistic", "cauchy",
                   "truncnorm", "truncnorm_v"}
CASE_IDS = [(m, name) for m in ("32", "64") for name in _cases(m)]


def test_every_recorded_answer_has_a_case():
    for m in ("32", "64"):
        assert set(_cases(m)) == set(JAX_ANSWERS[m]) - ({"rademacher", "choice", "choice_arr"} if m == "32" else set())


@pytest.mark.parametrize("mode, name", CASE_IDS, ids=[f"{m}-{n}" for m, n in CASE_IDS])
def test_jax_known_answers(mode, name):
    dtype, shape, data = JAX_ANSWERS[mode][name]
    want = np.array(data, dtype=dtype).reshape(shape)
    got = np.asarray(_cases(mode)[name]())
    assert got.shape == want.shape
    if want.dtype.kind in "iu":  # integer draws are JAX's x32 int32 or x64 int64 values
        assert got.dtype.kind in "iu"
        got = got.astype(want.dtype)
    assert got.dtype == want.dtype
    if name in EXACT or name in BIT_EXACT_DRAWS:
        np.testing.assert_array_equal(got, want)
    else:
        rtol = 2e-6 if want.dtype == np.float32 else 5e-14
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3)


def test_threefry_block_function_known_answer():
    # Random123's known-answer vector for threefry2x32 with 20 rounds: key = counter = 0.
    from funcgrad.random._threefry import threefry2x32

    y0, y1 = threefry2x32(0, 0, np.uint32(0), np.uint32(0))
    assert (int(y0), int(y1)) == (0x6B200159, 0x99BA4EFE)
    y0, y1 = threefry2x32(0xFFFFFFFF, 0xFFFFFFFF, np.uint32(0xFFFFFFFF), np.uint32(0xFFFFFFFF))
    assert (int(y0), int(y1)) == (0x1CB996FC, 0xBB002BE7)
    y0, y1 = threefry2x32(0x13198A2E, 0x03707344, np.uint32(0x243F6A88), np.uint32(0x85A308D3))
    assert (int(y0), int(y1)) == (0xC4923A9C, 0x483DF7A0)


def test_large_counters_use_the_high_word():
    from funcgrad.random._threefry import counters

    hi, lo = counters((3,))
    assert hi.shape == () and int(hi) == 0 and lo.tolist() == [0, 1, 2]


# --- the same key gives the same numbers in eager mode, under jit and under vmap ----------------

DRAWS = {
    "bits": lambda k: fr.bits(k, (2, 3)),
    "split": lambda k: fr.split(k, 3),
    "fold_in": lambda k: fr.fold_in(k, 5),
    "uniform": lambda k: fr.uniform(k, (4,)),
    "uniform_bounds": lambda k: fr.uniform(k, (4,), minval=-1.0, maxval=np.array([1.0, 2.0, 3.0, 4.0])),
    "normal": lambda k: fr.normal(k, (2, 2)),
    "normal_f32": lambda k: fr.normal(k, (3,), np.float32),
    "bernoulli": lambda k: fr.bernoulli(k, 0.3, (5,)),
    "categorical": lambda k: fr.categorical(k, np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))),
    "randint": lambda k: fr.randint(k, (4,), 0, 9),
    "permutation": lambda k: fr.permutation(k, 7),
    "permutation_array": lambda k: fr.permutation(k, np.arange(8.0).reshape(4, 2)),
    "choice": lambda k: fr.choice(k, 6, (3,), replace=False),
    "choice_p": lambda k: fr.choice(k, 3, (4,), p=np.array([0.2, 0.5, 0.3])),
    "gamma": lambda k: fr.gamma(k, np.array([0.3, 1.0, 4.0])),
    "beta": lambda k: fr.beta(k, 2.0, 0.5, (3,)),
    "dirichlet": lambda k: fr.dirichlet(k, np.array([0.5, 1.0, 2.0])),
    "multivariate_normal": lambda k: fr.multivariate_normal(k, np.zeros(2), np.array([[1.0, 0.3], [0.3, 2.0]])),
    "truncated_normal": lambda k: fr.truncated_normal(k, -0.5, 1.5, (3,)),
    "exponential": lambda k: fr.exponential(k, (3,)),
    "laplace": lambda k: fr.laplace(k, (3,)),
    "gumbel": lambda k: fr.gumbel(k, (3,)),
    "logistic": lambda k: fr.logistic(k, (3,)),
    "cauchy": lambda k: fr.cauchy(k, (3,)),
    "rademacher": lambda k: fr.rademacher(k, (3,)),
    "poisson": lambda k: fr.poisson(k, np.array([0.5, 4.0, 30.0, 500.0])),
    "empty": lambda k: fr.normal(k, (0, 3)),
    "binomial": lambda k: fr.binomial(k, np.array([3.0, 20.0, 500.0, 0.0]), np.array([0.5, 0.2, 0.7, 0.3])),
    "multinomial": lambda k: fr.multinomial(k, 50.0, np.array([0.2, 0.3, 0.5]), shape=(2, 3)),
}
IMPLS = {"threefry": K1, "philox": fr.key(1234, impl="philox")}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", DRAWS)
def test_same_key_same_numbers_eager_jit_vmap(name, impl):
    draw = DRAWS[name]
    keys = fr.split(IMPLS[impl], 3)
    eager = np.stack([draw(k) for k in keys])
    for i, k in enumerate(keys):
        np.testing.assert_array_equal(fg.jit(draw)(k), eager[i])
    np.testing.assert_array_equal(fg.vmap(draw)(keys), eager)
    np.testing.assert_array_equal(fg.jit(fg.vmap(draw))(keys), eager)
    np.testing.assert_array_equal(fg.vmap(fg.jit(draw))(keys), eager)
    # a batch of keys on another axis
    np.testing.assert_array_equal(fg.vmap(draw, in_axes=1)(keys.T), eager)
    if eager[0].size:
        assert not np.array_equal(eager[0], eager[1]), "two keys gave the same numbers"


def test_jit_stages_the_draw_instead_of_baking_in_a_constant():
    f = fg.jit(lambda k, x: x + fr.normal(k, (3,)))
    x = np.zeros(3)
    a, b = f(K0, x), f(K1, x)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(b, fr.normal(K1, (3,)))
    program = str(fg.make_trace(lambda k: fr.normal(k, (3,)))(K0))
    assert "random_normal" in program


def test_vmap_matches_jax_per_example_streams():
    got = fg.vmap(lambda k: fr.normal(k, (3,)))(fr.split(K1, 4))
    np.testing.assert_allclose(got, np.reshape(JAX_VMAP_NORMAL_64, (4, 3)), rtol=5e-14)


def test_vmap_over_fold_in_data_and_over_bounds():
    f = fg.vmap(lambda i: fr.uniform(fr.fold_in(K1, i), (2,)))
    np.testing.assert_array_equal(f(np.arange(4, dtype=np.uint32)),
                                  np.stack([fr.uniform(fr.fold_in(K1, i), (2,)) for i in range(4)]))
    lows = np.array([0.0, 10.0, 20.0])
    g = fg.vmap(lambda lo: fr.randint(K1, (3,), lo, lo + 5), in_axes=0)
    np.testing.assert_array_equal(g(lows.astype(np.int64)), np.stack([fr.randint(K1, (3,), int(lo), int(lo) + 5)
                                                                      for lo in lows]))
    h = fg.vmap(lambda a: fr.gamma(K1, a, (2,)))
    alphas = np.array([0.5, 3.0])
    np.testing.assert_array_equal(h(alphas), np.stack([fr.gamma(K1, a, (2,)) for a in alphas]))


def test_split_inside_jit_and_a_training_style_loop():
    @fg.jit
    def step(k):
        k, sub = fr.split(k)
        return k, fr.uniform(sub, (2,))

    k = K0
    seen = []
    for _ in range(3):
        k, u = step(k)
        seen.append(u)
    want_k = K0
    for u in seen:
        want_k, sub = fr.split(want_k)
        np.testing.assert_array_equal(u, fr.uniform(sub, (2,)))
    assert len({tuple(u) for u in seen}) == 3


# --- derivatives ---------------------------------------------------------------------------------

def test_uniform_is_differentiable_in_its_bounds():
    u = fr.uniform(K1, (5,))
    g_lo, g_hi = fg.grad(lambda lo, hi: fnp.sum(fr.uniform(K1, (5,), minval=lo, maxval=hi)), argnums=(0, 1))(
        np.array(-1.0), np.array(2.0))
    np.testing.assert_allclose(g_lo, np.sum(1 - u), rtol=1e-13)
    np.testing.assert_allclose(g_hi, np.sum(u), rtol=1e-13)
    _, t = fg.jvp(lambda hi: fr.uniform(K1, (5,), maxval=hi), (np.array(2.0),), (np.array(1.0),))
    np.testing.assert_allclose(t, u, rtol=1e-13)


def test_normal_reparameterised_by_loc_and_scale():
    z = fr.normal(K1, (4,))
    g_mu, g_sigma = fg.grad(lambda mu, s: fnp.sum((mu + s * fr.normal(K1, (4,))) ** 2), argnums=(0, 1))(
        np.array(0.5), np.array(2.0))
    x = 0.5 + 2.0 * z
    np.testing.assert_allclose(g_mu, np.sum(2 * x), rtol=1e-12)
    np.testing.assert_allclose(g_sigma, np.sum(2 * x * z), rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda mu: fnp.sum(mu + fr.normal(K1, (4,)))))(np.array(0.5)), 4.0)


def _implicit_gamma_derivative(a, z, h=1e-6):
    """-(∂P/∂a)/(∂P/∂z) with P = scipy.special.gammainc, the a-derivative by central differences."""
    dp_da = (sps.gammainc(a + h, z) - sps.gammainc(a - h, z)) / (2 * h)
    dp_dz = np.exp((a - 1) * np.log(z) - z - sps.gammaln(a))
    return -dp_da / dp_dz


@pytest.mark.parametrize("a", [0.05, 0.4, 1.0, 2.5, 9.0, 60.0])
def test_gamma_derivative_is_the_implicit_reparameterisation(a):
    f = lambda alpha: fr.gamma(K1, alpha, (6,))  # noqa: E731
    z = f(np.array(a))
    want = _implicit_gamma_derivative(a, z)
    _, pullback = fg.vjp(f, np.array(a))
    np.testing.assert_allclose(pullback(np.ones(6))[0], np.sum(want), rtol=1e-6)
    _, tangent = fg.jvp(f, (np.array(a),), (np.array(1.0),))
    np.testing.assert_allclose(tangent, want, rtol=1e-6)


def test_gamma_derivative_matches_jax_and_works_under_jit_and_vmap():
    g = fg.grad(lambda a: fr.gamma(K1, a))
    np.testing.assert_allclose(g(np.array(2.5)), JAX_GAMMA_GRAD_64, rtol=1e-10)
    np.testing.assert_allclose(fg.jit(g)(np.array(2.5)), JAX_GAMMA_GRAD_64, rtol=1e-10)
    keys = fr.split(K1, 3)
    per_key = fg.vmap(fg.grad(lambda a, k: fr.gamma(k, a)), in_axes=(None, 0))(np.array(2.5), keys)
    for k, gk in zip(keys, per_key, strict=True):
        z = fr.gamma(k, 2.5)
        np.testing.assert_allclose(gk, _implicit_gamma_derivative(2.5, z), rtol=1e-6)


def test_loggamma_and_beta_derivatives():
    la = fg.grad(lambda a: fr.loggamma(K1, a))(np.array(0.7))
    z = fr.gamma(K1, 0.7)
    np.testing.assert_allclose(la, _implicit_gamma_derivative(0.7, z) / z, rtol=1e-5)
    # beta = Ga / (Ga + Gb): d/da through the gamma draw of a (chain rule by hand)
    ka, kb = fr.split(K1)
    ga, gb = fr.gamma(ka, 2.0), fr.gamma(kb, 3.0)
    want = gb / (ga + gb) ** 2 * _implicit_gamma_derivative(2.0, ga)
    np.testing.assert_allclose(fg.grad(lambda a: fr.beta(K1, a, 3.0))(np.array(2.0)), want, rtol=1e-5)


def test_gamma_second_derivative_says_it_is_not_implemented():
    with pytest.raises(FuncgradError, match="second derivatives"):
        fg.grad(fg.grad(lambda a: fr.gamma(K1, a)))(np.array(2.0))


def test_multivariate_normal_is_differentiable_in_mean_and_cov():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    z = fr.normal(K1, (3, 2))
    g_mean = fg.grad(lambda m: fnp.sum(fr.multivariate_normal(K1, m, cov, (3,))))(np.zeros(2))
    np.testing.assert_allclose(g_mean, [3.0, 3.0])
    # d/dcov of sum(L z) with L = cholesky(cov), against central differences of the closed form
    v = lambda c: np.sum(np.linalg.cholesky(c) @ z.T)  # noqa: E731
    g_cov = fg.grad(lambda c: fnp.sum(fr.multivariate_normal(K1, np.zeros(2), c, (3,))))(cov)
    e = np.zeros((2, 2))
    e[1, 1] = 1e-6
    np.testing.assert_allclose(g_cov[1, 1], (v(cov + e) - v(cov - e)) / 2e-6, rtol=1e-6)


def test_permutation_of_an_array_is_differentiable():
    x = np.arange(5.0)
    perm = fr.permutation(K1, x)
    g = fg.grad(lambda x: fnp.sum(fr.permutation(K1, x) * np.arange(5.0)))(x)
    np.testing.assert_array_equal(g[perm.astype(int)], np.arange(5.0))


# --- distributions: moments of large deterministic samples ------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
def test_moments(impl):
    k = IMPLS[impl]
    n = 200_000
    z = fr.normal(k, (n,))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    u = fr.uniform(k, (n,), minval=2.0, maxval=5.0)
    assert u.min() >= 2.0 and u.max() < 5.0 and abs(u.mean() - 3.5) < 0.01
    g = fr.gamma(k, 0.5, (n,))
    assert abs(g.mean() - 0.5) < 0.01 and abs(g.var() - 0.5) < 0.02
    b = fr.beta(k, 2.0, 3.0, (n,))
    assert abs(b.mean() - 0.4) < 0.005
    e = fr.exponential(k, (n,))
    assert abs(e.mean() - 1) < 0.01
    counts = np.bincount(fr.categorical(k, np.log(np.array([0.2, 0.3, 0.5])), shape=(n,)), minlength=3) / n
    np.testing.assert_allclose(counts, [0.2, 0.3, 0.5], atol=0.005)
    r = fr.randint(k, (n,), -3, 4)
    assert r.min() == -3 and r.max() == 3
    t = fr.truncated_normal(k, 0.0, 1.0, (n,))
    assert t.min() >= 0.0 and t.max() <= 1.0
    x = fr.multivariate_normal(k, np.array([1.0, 2.0]), np.array([[2.0, 0.5], [0.5, 1.0]]), (n,))
    np.testing.assert_allclose(np.cov(x.T), [[2.0, 0.5], [0.5, 1.0]], atol=0.03)


def test_permutation_and_choice_are_permutations():
    for k in IMPLS.values():
        assert sorted(fr.permutation(k, 50).tolist()) == list(range(50))
        c = fr.choice(k, 20, (20,), replace=False)
        assert sorted(c.tolist()) == list(range(20))
        ind = fr.permutation(k, np.arange(12).reshape(3, 4), axis=1, independent=True)
        assert all(sorted(row) == list(range(4 * i, 4 * i + 4)) for i, row in enumerate(ind.tolist()))


# --- keys ----------------------------------------------------------------------------------------

def test_philox_keys_are_per_key_and_differ_from_threefry():
    pk = fr.key(0, impl="philox")
    assert pk.shape == (4,) and pk.dtype == np.uint32 and fr.key_impl(pk) == "philox"
    assert fr.key_impl(K0) == "threefry2x32"
    assert fr.split(pk, 3).shape == (3, 4) and fr.fold_in(pk, 3).shape == (4,)
    np.testing.assert_array_equal(fr.normal(pk, (3,)), fr.normal(pk, (3,)))
    assert not np.array_equal(fr.normal(pk, (3,)), fr.normal(fr.fold_in(pk, 1), (3,)))
    a, b = fr.split(pk)
    assert not np.array_equal(fr.uniform(a, (3,)), fr.uniform(b, (3,)))
    assert fr.bits(pk, (3,), np.uint64).dtype == np.uint64


def test_prngkey_is_key_and_seeds_are_64_bit():
    np.testing.assert_array_equal(fr.PRNGKey(7), fr.key(7))
    np.testing.assert_array_equal(fr.key(2**40 + 5), [256, 5])
    np.testing.assert_array_equal(fr.key(-1), [2**32 - 1, 2**32 - 1])
    seeds = np.arange(3)
    np.testing.assert_array_equal(fg.vmap(fr.key)(seeds), np.stack([fr.key(s) for s in range(3)]))


def test_every_random_primitive_is_exercised_here():
    names = {p.name for p in random_prims.RANDOM_PRIMITIVES}
    assert names == {"random_bits", "random_split", "random_fold_in", "random_uniform", "random_normal",
                     "random_truncated_normal", "random_randint", "random_poisson", "random_gamma",
                     "random_gamma_grad", "random_standard", "random_binomial", "random_fma_residual",
                     "random_xla_correction",
                     # multivariate_normal (here) and orthogonal: tests/test_random_jax_exact_linalg.py
                     "random_mvn_exact", "random_orthogonal_exact"}


@pytest.mark.parametrize("bad, fn", [
    (np.array([0, 0], np.int64), "normal"), (np.zeros(3, np.uint32), "normal"),
    (np.zeros((2, 2), np.uint32), "split"), (3, "uniform")])
def test_bad_keys_raise_a_clear_error(bad, fn):
    with pytest.raises(RandomKeyError, match="expected one key"):
        getattr(fr, fn)(bad)


def test_other_misuse_raises_clear_errors():
    with pytest.raises(RandomKeyError, match="impl"):
        fr.key(0, impl="mersenne")
    with pytest.raises(RandomKeyError, match="seed"):
        fr.key(1.5)
    with pytest.raises(ValueError, match="fold_in"):
        fr.fold_in(K0, -1)
    with pytest.raises(TypeError, match="float32 or float64"):
        fr.normal(K0, (2,), np.int32)
    with pytest.raises(ValueError, match="without replacement"):
        fr.choice(K0, 3, (4,), replace=False)
    with pytest.raises(ValueError, match="multivariate_normal"):
        fr.multivariate_normal(K0, np.zeros(2), np.eye(3))


def test_binomial_and_multinomial_name_the_bad_argument():
    # A missing parameter was read as NaN (binomial gave nan); mismatched shapes raised NumPy's
    # broadcast error, which names neither n nor p.
    for call, name in ((lambda: fr.binomial(K0, 3.0, None), "p"), (lambda: fr.binomial(K0, None, 0.5), "n"),
                       (lambda: fr.binomial(K0, 3.0, "half"), "p"),
                       (lambda: fr.multinomial(K0, None, np.array([0.2, 0.8])), "n"),
                       (lambda: fr.multinomial(K0, 3.0, None), "p")):
        with pytest.raises(TypeError, match=rf"^\w+: {name} \(.*must be a real number.*got (None|str 'half')"):
            call()
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"multinomial: n with shape \(3,\) does not broadcast to p's batch shape "
                                         r"\(2,\) \(p has shape \(2, 2\)"):
        fr.multinomial(K0, np.array([3.0, 4.0, 5.0]), p)
    with pytest.raises(ValueError, match=r"multinomial: p with shape \(2,\) does not broadcast to shape=\(3, 3\)"):
        fr.multinomial(K0, 3.0, np.array([0.2, 0.8]), shape=(3, 3))
    with pytest.raises(ValueError, match=r"binomial: n with shape \(3,\) and p with shape \(2,\) do not broadcast"):
        fr.binomial(K0, np.ones(3), np.full(2, 0.5))
    with pytest.raises(ValueError, match=r"binomial: n with shape \(3,\) does not broadcast to shape=\(2,\)"):
        fr.binomial(K0, np.ones(3), 0.5, (2,))
    # what still works: n per row of p, n broadcast along an explicit shape, under vmap
    counts = fr.multinomial(K0, np.array([3.0, 4.0]), p)
    np.testing.assert_array_equal(counts.sum(axis=-1), [3.0, 4.0])
    assert fr.binomial(K0, np.ones(3), 0.5, (2, 3)).shape == (2, 3)
    np.testing.assert_array_equal(fg.vmap(lambda n: fr.multinomial(K0, n, p[0]))(np.array([5.0, 6.0])).sum(-1),
                                  [5.0, 6.0])


def test_import_funcgrad_does_not_load_random_until_used():
    code = ("import sys, funcgrad; assert 'funcgrad.random' not in sys.modules; "
            "import funcgrad.random; funcgrad.random.normal(funcgrad.random.key(0)); "
            "assert funcgrad.random is sys.modules['funcgrad.random']; "
            "assert 'funcgrad.optimizers' not in sys.modules; funcgrad.optimizers.adam(0.1); "
            "assert 'funcgrad.optimizers' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# Known answers computed with JAX 0.10.2 (jax.random, default threefry2x32 'partitionable'
# implementation) and recorded here; JAX is not a test dependency. "32": JAX's default mode, float32
# draws; "64": jax_enable_x64, float64 draws. Each entry: (dtype, shape, flat values).
JAX_ANSWERS = {'32': {'key42': ('uint32', (2,), [0, 42]),
        'split3': ('uint32', (3, 2), [1264997412, 2518116175, 2877103387, 1697627890, 2113592192, 603280156]),
        'split23': ('uint32', (2, 3, 2),
                    [1264997412, 2518116175, 2877103387, 1697627890, 2113592192, 603280156, 3512017511, 140093922,
                     781066781, 179802120, 3899778567, 1232842604]),
        'fold': ('uint32', (2,), [1352316717, 3624571589]),
        'foldbig': ('uint32', (2,), [2482162964, 400377457]),
        'bits32': ('uint32', (5,), [3715183467, 3461522409, 1578076316, 3641478021, 607760917]),
        'bits8': ('uint8', (4,), [107, 233, 156, 133]),
        'bits64': ('uint16', (4,), [13163, 41961, 34972, 35717]),
        'uniform': ('float32', (6,),
                    [0.8650084733963013, 0.8059483766555786, 0.36742448806762695, 0.847847580909729,
                     0.14150536060333252, 0.6290631294250488]),
        'uniform_mm': ('float32', (2, 3),
                       [2.325042247772217, 2.0297417640686035, -0.16287755966186523, 2.2392377853393555,
                        -1.2924731969833374, 1.1453156471252441]),
        'normal': ('float32', (8,),
                   [1.1031016111373901, 0.8630622625350952, -0.3386823832988739, 1.0272457599639893,
                    -1.0735803842544556, 0.32937315106391907, 0.7582090497016907, -0.30057552456855774]),
        'normal0': ('float32', (), [1.622642159461975]),
        'bernoulli': ('bool', (10,), [False, False, False, False, True, False, False, False, False, False]),
        'bernoulli_p': ('bool', (3,), [False, False, True]),
        'exponential': ('float32', (5,),
                        [2.0025432109832764, 1.6396310329437256, 0.45795565843582153, 1.882872462272644,
                         0.1525748372077942]),
        'laplace': ('float32', (5,),
                    [-1.3093962669372559, -0.9464840292930603, 0.3080902099609375, -1.1897255182266235,
                     1.2622703313827515]),
        'gumbel': ('float32', (5,),
                   [1.9309113025665283, 1.533701777458191, -0.0012366274604573846, 1.8014801740646362,
                    -0.6706038117408752]),
        'logistic': ('float32', (5,),
                     [1.857527256011963, 1.4238954782485962, -0.5432817339897156, 1.717818021774292,
                      -1.8028428554534912]),
        'cauchy': ('float32', (5,),
                   [2.214912176132202, 1.4319058656692505, -0.4423786699771881, 1.9302319288253784,
                    -2.0992791652679443]),
        'categorical': ('int32', (2,), [1, 2]),
        'categorical_shape': ('int32', (3, 2), [1, 2, 1, 1, 1, 0]),
        'categorical_ax0': ('int32', (4,), [0, 0, 1, 0]),
        'randint': ('int32', (8,), [7, 7, 1, 2, 6, 2, 8, 2]),
        'randint_neg': ('int32', (5,), [30, -39, 21, -45, -80]),
        'randint_big': ('int32', (4,), [1859643702, 302224929, 79103837, 288587808]),
        'randint_int32': ('int32', (4,), [8, 8, 6, 3]),
        'randint_vec': ('int32', (3,), [2, 12, 20]),
        'perm10': ('int32', (10,), [2, 3, 1, 7, 6, 4, 9, 5, 8, 0]),
        'perm_arr': ('int32', (4, 3), [6, 7, 8, 9, 10, 11, 3, 4, 5, 0, 1, 2]),
        'perm_ax1': ('int32', (3, 4), [2, 3, 1, 0, 6, 7, 5, 4, 10, 11, 9, 8]),
        'perm_ind': ('int32', (3, 4), [2, 3, 1, 0, 7, 6, 4, 5, 10, 11, 9, 8]),
        'choice_norep': ('int32', (5,), [2, 3, 1, 7, 6]),
        'choice_p': ('int32', (6,), [1, 1, 3, 1, 3, 2]),
        'choice_p_norep': ('int32', (3,), [3, 1, 0]),
        'truncnorm': ('float32', (6,),
                      [1.1111423969268799, 0.9092851877212524, -0.10187751799821854, 1.0480780601501465,
                       -0.5992869734764099, 0.44988393783569336]),
        'truncnorm_v': ('float32', (3,), [1.098573923110962, 1.292374610900879, 1.2766814231872559]),
        'gamma': ('float32', (5,),
                  [0.7475204467773438, 2.2035915851593018, 1.2173305749893188, 6.689596176147461,
                   1.5605977750965394e-05]),
        'gamma_shape': ('float32', (4,),
                        [4.006650924682617, 5.143697738647461, 1.5941442251205444, 1.2661190032958984]),
        'loggamma': ('float32', (4,),
                     [-0.29099351167678833, 0.7900886535644531, 0.19666039943695068, -38.37620544433594]),
        'beta': ('float32', (4,),
                 [0.5794566869735718, 0.8453261852264404, 0.5215857028961182, 0.17533527314662933]),
        'dirichlet': ('float32', (2, 3),
                      [0.25991472601890564, 0.6788503527641296, 0.06123490631580353, 0.0729420855641365,
                       0.5417022109031677, 0.38535574078559875]),
        'mvn': ('float32', (3, 2),
                [2.56002140045166, 0.1973261833190918, 0.5210307836532593, -0.15884184837341309,
                 -0.5182719230651855, -1.071467638015747])},
 '64': {'key42': ('uint32', (2,), [0, 42]),
        'split3': ('uint32', (3, 2), [1264997412, 2518116175, 2877103387, 1697627890, 2113592192, 603280156]),
        'split23': ('uint32', (2, 3, 2),
                    [1264997412, 2518116175, 2877103387, 1697627890, 2113592192, 603280156, 3512017511, 140093922,
                     781066781, 179802120, 3899778567, 1232842604]),
        'fold': ('uint32', (2,), [1352316717, 3624571589]),
        'foldbig': ('uint32', (2,), [2482162964, 400377457]),
        'bits32': ('uint64', (5,),
                   [5433122516582754127, 12357064956073459442, 9077809342324232988, 15084000352864414178,
                    3354656280566796296]),
        'bits8': ('uint8', (4,), [107, 233, 156, 133]),
        'bits64': ('uint64', (2, 2),
                   [5433122516582754127, 12357064956073459442, 9077809342324232988, 15084000352864414178]),
        'uniform': ('float64', (6,),
                    [0.29453016179294655, 0.6698778335459667, 0.49210903051785704, 0.8177052976173855,
                     0.18185628136663312, 0.9079879539290077]),
        'uniform_mm': ('float64', (2, 3),
                       [-0.5273491910352672, 1.3493891677298337, 0.4605451525892852, 2.0885264880869276,
                        -1.0907185931668344, 2.5399397696450383]),
        'normal': ('float64', (8,),
                   [-0.5401982439481372, 0.4395758528880331, -0.019781017157027507, 0.9066547397338595,
                    -0.9083135932371194, 1.3284663523926896, 0.20408173576600372, 0.9309652867994741]),
        'normal0': ('float64', (), [-0.2058421394796434]),
        'bernoulli': ('bool', (10,), [True, False, False, False, True, False, False, False, False, False]),
        'bernoulli_p': ('bool', (3,), [False, False, True]),
        'exponential': ('float64', (5,),
                        [0.34889126096738166, 1.108292491653375, 0.6774884814429822, 1.7021306576066864,
                         0.20071726266116016]),
        'laplace': ('float64', (5,),
                    [0.5292266836208187, -0.4151453110934298, 0.01590779973741899, -1.0089834770467414,
                     1.0113913861140116]),
        'gumbel': ('float64', (5,),
                   [-0.20079475845938125, 0.9146422882696618, 0.34382220919794115, 1.6031910688819213,
                    -0.5332944387252732]),
        'logistic': ('float64', (5,),
                     [-0.8734826032133941, 0.7076325704395627, -0.03156649885438223, 1.500877378452411,
                      -1.503821304012797]),
        'cauchy': ('float64', (5,),
                   [-0.7531319326984128, 0.5908804378398133, -0.024795291316352164, 1.5509205753545692,
                    -1.5556209509872914]),
        'rademacher': ('int64', (6,), [1, -1, 1, -1, 1, -1]),
        'categorical': ('int64', (2,), [1, 1]),
        'categorical_shape': ('int64', (3, 2), [1, 1, 0, 1, 1, 0]),
        'categorical_ax0': ('int64', (4,), [1, 1, 1, 1]),
        'randint': ('int64', (8,), [8, 8, 8, 2, 7, 1, 9, 3]),
        'randint_neg': ('int64', (5,), [-52, -12, 6, -37, -4]),
        'randint_big': ('int64', (4,), [1503350261, 1479352528, 531484694, 1184465559]),
        'randint_int32': ('int32', (4,), [8, 8, 6, 3]),
        'randint_vec': ('int64', (3,), [3, 13, 20]),
        'perm10': ('int64', (10,), [2, 3, 1, 7, 6, 4, 9, 5, 8, 0]),
        'perm_arr': ('int64', (4, 3), [6, 7, 8, 9, 10, 11, 3, 4, 5, 0, 1, 2]),
        'perm_ax1': ('int64', (3, 4), [2, 3, 1, 0, 6, 7, 5, 4, 10, 11, 9, 8]),
        'perm_ind': ('int64', (3, 4), [2, 3, 1, 0, 7, 6, 4, 5, 10, 11, 9, 8]),
        'choice': ('int64', (5,), [8, 8, 8, 2, 7]),
        'choice_arr': ('int64', (2, 4), [12, 13, 14, 15, 12, 13, 14, 15]),
        'choice_norep': ('int64', (5,), [2, 3, 1, 7, 6]),
        'choice_p': ('int64', (6,), [3, 2, 2, 1, 3, 0]),
        'choice_p_norep': ('int64', (3,), [3, 1, 2]),
        'truncnorm': ('float64', (6,),
                      [-0.2539785672829901, 0.5446813137467172, 0.15475573600731102, 0.9463870913319913,
                       -0.5028870977904315, 1.2926232491351166]),
        'truncnorm_v': ('float64', (3,), [-0.5385900177468402, 0.9702323281202733, 1.39675341482987]),
        'gamma': ('float64', (5,),
                  [0.0007183193858550993, 0.5298369205490697, 2.7953937342643393, 6.678770062782646,
                   2.467897169239436e-42]),
        'gamma_shape': ('float64', (4,),
                        [1.8257250968286187, 2.3825398494578005, 3.3582758947538256, 1.2616983541968627]),
        'loggamma': ('float64', (4,),
                     [-7.238596260726054, -0.635186016861655, 1.027972967621047, -35.825957013439606]),
        'beta': ('float64', (4,),
                 [0.12492456388128136, 0.15397898705668428, 0.41839767601881145, 0.38196812567903365]),
        'dirichlet': ('float64', (2, 3),
                      [0.1346475047763523, 0.6573904946541471, 0.2079620005695006, 0.037562862585047596,
                       0.9623592921694339, 7.784524551840302e-05]),
        'mvn': ('float64', (3, 2),
                [0.23604431703841455, -0.7798033614889053, 0.9720254172589968, -0.1588957946405507,
                 -0.28454940244377314, -0.07847086548325799])}}
# vmap(lambda k: normal(k, (3,)))(split(key(1234), 4)) in float64
JAX_VMAP_NORMAL_64 = (
[1.2410424739000987, 0.12018902017436692, -2.2399004665975157, 0.07627173395530536,
 -1.3034983085170229, 0.8652432319731388, -0.028936020532457384, 1.0507466447140144,
 -2.2208210172548055, 0.10432788497934098, 0.2072918228798784, 1.9293794569668403]
)
# grad(lambda a: gamma(key(1234), a))(2.5) in float64
JAX_GAMMA_GRAD_64 = 0.7932191381109293


@pytest.mark.parametrize("n", [2**16 + 1, 3 * 2**16 + 5])  # above the block size: both take the block path
@pytest.mark.parametrize("seed", [0, 2**40 + 77])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blockwise_normal_path_equals_the_one_shot_path(n, seed, dtype):
    from random_reference import normal_from_bits

    from funcgrad.random import _sampling

    k = fr.key(seed)
    d = np.dtype(dtype)
    one_shot = normal_from_bits(_sampling.bits(k, d.itemsize * 8, (n,)), d)
    np.testing.assert_array_equal(fr.normal(k, (n,), dtype), one_shot)
    assert np.abs(one_shot).max() > 3.4  # |z| > 3.3 (w > 6.25) uses the tail polynomials


# jax.random.poisson known answers (JAX 0.10.2; the same in both modes: JAX draws them in float32)
JAX_POISSON = {
    "small": [[6, 3, 1], [1, 3, 6]],  # poisson(key(1234), 4.0, (2, 3))
    "big": [[33, 33, 31], [30, 35, 40]],  # poisson(key(1234), 35.0, (2, 3))
    "mix": [[0, 5, 3, 1062], [0, 20, 13, 955], [1, 5, 9, 1031]],  # poisson(key(7), [[0.1, 9.9, 10.0, 1000.0]], (3, 4))
}


def test_poisson_known_answers_and_moments():
    np.testing.assert_array_equal(fr.poisson(K1, 4.0, (2, 3)), JAX_POISSON["small"])
    np.testing.assert_array_equal(fr.poisson(K1, 35.0, (2, 3)), JAX_POISSON["big"])
    np.testing.assert_array_equal(fr.poisson(fr.key(7), np.array([[0.1, 9.9, 10.0, 1000.0]]), (3, 4)),
                                  JAX_POISSON["mix"])
    for lam in (2.5, 50.0):
        x = fr.poisson(fr.key(3), lam, (100_000,))
        assert abs(x.mean() - lam) < 0.02 * lam and abs(x.var() - lam) < 0.05 * lam
    rates = np.array([1.0, 20.0, 300.0])
    np.testing.assert_array_equal(fg.vmap(lambda r: fr.poisson(K1, r, (4,)))(rates),
                                  np.stack([fr.poisson(K1, r, (4,)) for r in rates]))


# More jax.random distributions (JAX 0.10.2), with the calls that produced them below.
JAX_MORE = {'32': {'lognormal': ('float32', (4,),
                      [1.735943078994751, 1.5396130084991455, 0.8442208170890808, 1.671335220336914]),
        't': ('float32', (4,), [-1.6000146865844727, 4.648783206939697, 0.5619637370109558, -3.0989553928375244]),
        'chisquare': ('float32', (4,),
                      [4.234333038330078, 6.001327037811279, 1.0313080549240112, 0.6942411065101624]),
        'pareto': ('float32', (4,), [2.72174072265625, 2.270081043243408, 1.2573142051696777, 2.5636608600616455]),
        'weibull_min': ('float32', (4,),
                        [3.17749285697937, 2.7809557914733887, 1.1882622241973877, 3.049607515335083]),
        'maxwell': ('float32', (4,),
                    [1.4409772157669067, 1.5219380855560303, 0.8959431648254395, 1.6650018692016602]),
        'rayleigh': ('float32', (4,),
                     [1.0770922899246216, 1.3137292861938477, 2.830176591873169, 1.1491018533706665]),
        'orthogonal': ('float32', (3, 3),
                       [0.653771162033081, 0.7254688143730164, 0.21512436866760254, 0.6088139414787292,
                        -0.6731319427490234, 0.41980844736099243, 0.44936496019363403, -0.14348790049552917,
                        -0.8817496299743652]),
        'geometric': ('int32', (6,), [1, 1, 3, 1, 6, 2]),
        'triangular': ('float32', (4,),
                       [2.1000282764434814, 1.9209681749343872, 1.0518077611923218, 2.04453444480896]),
        'wald': ('float32', (4,),
                 [4.545943260192871, 0.9846690893173218, 0.9597225189208984, 0.20947694778442383])},
 '64': {'lognormal': ('float64', (4,),
                      [0.7633038304044522, 1.245812498683387, 0.9901582416475666, 1.5735392315333014]),
        't': ('float64', (4,), [0.9895481626349839, 0.08568808199341316, -2.296368546864472, 0.5416327788526094]),
        'chisquare': ('float64', (4,),
                      [1.2895399175635163, 1.96460069761389, 3.285139653816765, 0.6899628648292693]),
        'pareto': ('float64', (4,),
                   [1.1905860090398341, 1.7404544300551033, 1.4031844218803413, 2.342140673240979]),
        'weibull_min': ('float64', (4,),
                        [0.9911895695599103, 2.1419019670821227, 1.5427584703156125, 2.851184085985294]),
        'maxwell': ('float64', (4,),
                    [0.6967297624234661, 1.8471272966909285, 3.438464485881246, 0.8966434314130485]),
        'rayleigh': ('float64', (4,),
                     [3.127137814910978, 1.7903294025710736, 2.381688443600236, 1.268868091345276]),
        'orthogonal': ('float64', (3, 3),
                       [-0.5025401499193649, 0.029215637800996577, 0.8640600929489239, 0.8434503701842839,
                        -0.20290555977650535, 0.4974141200727792, 0.1898548676094884, 0.9787623717326203,
                        0.07732624991113726]),
        'geometric': ('int64', (6,), [4, 2, 2, 1, 5, 1]),
        'triangular': ('float64', (4,),
                       [0.9399949390176735, 1.592614836399005, 1.254335136146443, 1.954166258769738]),
        'wald': ('float64', (4,),
                 [0.3690735459533261, 1.2948525110916358, 0.15924295165931746, 0.6483870339388816])}}


def _more_cases(m: str) -> dict:
    dt = np.float32 if m == "32" else np.float64
    return {
        "lognormal": lambda: fr.lognormal(K1, 0.5, (4,), dt), "t": lambda: fr.t(K1, 3.0, (4,), dt),
        "chisquare": lambda: fr.chisquare(K1, 3.0, (4,), dt), "pareto": lambda: fr.pareto(K1, 2.0, (4,), dt),
        "weibull_min": lambda: fr.weibull_min(K1, 2.0, 1.5, (4,), dt), "maxwell": lambda: fr.maxwell(K1, (4,), dt),
        "rayleigh": lambda: fr.rayleigh(K1, 2.0, (4,), dt), "orthogonal": lambda: fr.orthogonal(K1, 3, (), dt),
        "geometric": lambda: fr.geometric(K1, dt(0.3), (6,)),
        "triangular": lambda: fr.triangular(K1, 0.0, 1.0, 3.0, (4,), dt), "wald": lambda: fr.wald(K1, 1.5, (4,), dt),
    }


MORE_IDS = [(m, n) for m in ("32", "64") for n in JAX_MORE[m]]


@pytest.mark.parametrize("mode, name", MORE_IDS, ids=[f"{m}-{n}" for m, n in MORE_IDS])
def test_more_distributions_known_answers(mode, name):
    dtype, shape, data = JAX_MORE[mode][name]
    want = np.array(data, dtype=dtype).reshape(shape)
    got = np.asarray(_more_cases(mode)[name]())
    assert got.shape == want.shape
    if want.dtype.kind in "iu":
        np.testing.assert_array_equal(got, want)
    else:
        assert got.dtype == want.dtype
        rtol = 2e-6 if want.dtype == np.float32 else 5e-14
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize("name", ["lognormal", "t", "chisquare", "orthogonal", "geometric", "wald", "triangular"])
def test_more_distributions_same_in_eager_jit_vmap(name):
    draw = {"lognormal": lambda k: fr.lognormal(k, 0.5, (3,)), "t": lambda k: fr.t(k, 4.0, (3,)),
            "chisquare": lambda k: fr.chisquare(k, 2.0, (3,)), "orthogonal": lambda k: fr.orthogonal(k, 3),
            "geometric": lambda k: fr.geometric(k, 0.2, (3,)), "wald": lambda k: fr.wald(k, 2.0, (3,)),
            "triangular": lambda k: fr.triangular(k, -1.0, 0.0, 2.0, (3,))}[name]
    keys = fr.split(K0, 3)
    eager = np.stack([draw(k) for k in keys])
    np.testing.assert_array_equal(fg.vmap(draw)(keys), eager)
    np.testing.assert_array_equal(fg.jit(draw)(keys[2]), eager[2])


def test_lognormal_and_weibull_are_differentiable_in_their_parameters():
    z = fr.normal(K1, (4,))
    g = fg.grad(lambda s: fnp.sum(fr.lognormal(K1, s, (4,))))(np.array(0.7))
    np.testing.assert_allclose(g, np.sum(z * np.exp(0.7 * z)), rtol=1e-13)
    e = -np.log1p(-fr.uniform(K1, (4,)))
    g = fg.grad(lambda c: fnp.sum(fr.weibull_min(K1, 2.0, c, (4,))))(np.array(1.5))
    np.testing.assert_allclose(g, np.sum(2.0 * e ** (1 / 1.5) * np.log(e) * (-1 / 1.5**2)), rtol=1e-12)


def test_exp_based_draws_keep_their_derivatives_on_every_path():
    # The XLA exp correction carries no derivative: the draws differentiate as exp(...) does, to
    # second order, forward and reverse, for broadcast parameters (XLA's rewritten products) and for
    # full-shape ones, under vmap as well.
    from funcgrad.test_util import check_grads

    check_grads(lambda s: fr.lognormal(K1, s, (5,)), (np.array(0.7),))
    check_grads(lambda s: fr.lognormal(K1, s, (3,)), (np.array([0.2, 1.0, 2.5]),))
    check_grads(lambda b: fr.pareto(K1, b, (5,)), (np.array(2.5),))
    check_grads(lambda b: fr.pareto(K1, b, (3,)), (np.array([0.5, 1.0, 3.0]),))
    e = np.asarray(fr.exponential(K1, (3,)))
    b = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(fg.jacfwd(lambda b: fr.pareto(K1, b, (3,)))(b), np.diag(-e / b**2 * np.exp(e / b)),
                               rtol=1e-13)
    per_example = fg.vmap(fg.grad(lambda s: fnp.sum(fr.lognormal(K1, s, (4,)))))(np.array([0.3, 0.7]))
    z = np.asarray(fr.normal(K1, (4,)))
    np.testing.assert_allclose(per_example, [np.sum(z * np.exp(s * z)) for s in (0.3, 0.7)], rtol=1e-13)
    assert fr.lognormal(K1, 0.5, (0,)).shape == (0,) and fr.pareto(K1, 2.0, ()).shape == ()


def test_per_example_gradients_with_per_example_dropout_keys():
    """The DP-SGD / dropout pattern: vmap(grad) over examples, each with its own key."""
    w = np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]])
    xs = np.arange(12.0).reshape(4, 3) / 10
    keys = fr.split(K1, 4)

    def loss(w, x, k):
        h = x @ w
        keep = fr.bernoulli(k, 0.6, h.shape)
        return fnp.sum(fnp.where(keep, h / 0.6, 0.0) ** 2)

    batched = fg.jit(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0)))(w, xs, keys)
    for i in range(4):
        keep = fr.bernoulli(keys[i], 0.6, (2,))
        h = np.where(keep, xs[i] @ w / 0.6, 0.0)
        want = np.outer(xs[i], 2 * h / 0.6 * keep)
        np.testing.assert_allclose(batched[i], want, rtol=1e-13)


def test_gamma_jvp_under_jit_and_float32():
    a32 = np.array([0.5, 2.0, 8.0], np.float32)
    _, t = fg.jit(lambda a: fg.jvp(lambda b: fr.gamma(K1, b), (a,), (np.ones(3, np.float32),)))(a32)
    z = fr.gamma(K1, a32)
    assert z.dtype == np.float32 and t.dtype == np.float32
    np.testing.assert_allclose(t, _implicit_gamma_derivative(a32.astype(float), z.astype(float)), rtol=1e-4)


def test_dirichlet_derivative_by_the_chain_rule_through_log_gamma_draws():
    a = np.array([1.0, 2.0, 3.0])
    g = fg.grad(lambda a: fr.dirichlet(K1, a)[0])(a)
    gam = np.exp(fr.loggamma(K1, a))  # dirichlet = softmax of these log-gamma draws
    x = gam / gam.sum()
    d_log = _implicit_gamma_derivative(a, gam) / gam
    want = x[0] * ((np.arange(3) == 0) - x) * d_log
    np.testing.assert_allclose(g, want, rtol=1e-5)


# jax.random.generalized_normal/ball/double_sided_maxwell (x64 only: their signs come from
# rademacher, whose uniforms are float64 here, as under jax_enable_x64) and f (both modes).
JAX_LAST = {'64': {'generalized_normal': ('float64', (4,),
                               [-0.01962780053719374, 0.7523839320616218, -1.0970912521711673,
                                0.04351284094648828]),
        'ball': ('float64', (2, 3),
                 [-0.6187615047818801, -0.5906270752154172, 0.05934720249957854, 0.6871649718327034,
                  0.2233583673441484, 0.5853650440112103]),
        'double_sided_maxwell': ('float64', (4,),
                                 [-4.127098954714379, 4.3368805691150225, -1.9777631180070814, 3.314429345747715]),
        'f': ('float64', (4,), [4.252468843760945, 3.7801393600524786, 0.861044719872224, 1.2269971566757751])},
 '32': {'f': ('float32', (4,), [0.3153778314590454, 0.007127491291612387, 0.4234071671962738, 1.5764734745025635])}}


@pytest.mark.parametrize("mode, name", [("64", "generalized_normal"), ("64", "ball"), ("64", "double_sided_maxwell"),
                                        ("64", "f"), ("32", "f")])
def test_last_distributions_known_answers(mode, name):
    dt = np.float32 if mode == "32" else np.float64
    call = {"generalized_normal": lambda: fr.generalized_normal(K1, 1.5, (4,), dt),
            "ball": lambda: fr.ball(K1, 3, 2.0, (2,), dt),
            "double_sided_maxwell": lambda: fr.double_sided_maxwell(K1, 1.0, 2.0, (4,), dt),
            "f": lambda: fr.f(K1, 3.0, 5.0, (4,), dt)}[name]
    dtype, shape, data = JAX_LAST[mode][name]
    got = call()
    assert got.dtype == np.dtype(dtype)
    rtol = 2e-6 if dt == np.float32 else 5e-14
    np.testing.assert_allclose(got, np.array(data, dtype).reshape(shape), rtol=rtol)
    np.testing.assert_array_equal(fr.clone(K1), K1)


# --- bit-exact known answers (JAX 0.10.2 on x86-64 CPU, jax_enable_x64, explicit dtypes) ---------------
# The raw bits of each draw (uint32 words for float32, uint64 for float64), so equality is exact.
# These draws go through XLA's own log/log1p and fused multiply-adds, which funcgrad.random._xla_math
# reproduces; the calls are CALLS below with k = jax.random.PRNGKey(seed), A = jnp.asarray.
BIT_CALLS = {'binomial': 'binomial(k, A([3.0, 20.0, 500.0, 40.0], dt), A([0.5, 0.2, 0.7, 0.95], dt), None, dt)',
 'exponential': 'exponential(k, (4,), dt)',
 'gumbel': 'gumbel(k, (4,), dt)',
 'laplace': 'laplace(k, (4,), dt)',
 'logistic': 'logistic(k, (2, 2), dt)',
 'multinomial': 'multinomial(k, A(30.0, dt), A([0.1, 0.6, 0.3], dt), shape=(2, 3), dtype=dt)',
 'normal_0d': 'normal(k, (), dt)',
 'normal_2x5': 'normal(k, (2, 5), dt)',
 'normal_3': 'normal(k, (3,), dt)',
 'truncated_normal': 'truncated_normal(k, -1.5, 0.5, (4,), dt)',
 'uniform_mm': 'uniform(k, (4,), dt, -2.0, 3.0)'}
JAX_BITS = {'32': {'binomial@0': ((4,), [1065353216, 1073741824, 1135968256, 1109393408]),
        'binomial@1234': ((4,), [1073741824, 1073741824, 1135476736, 1109393408]),
        'binomial@big': ((4,), [1073741824, 1082130432, 1136361472, 1108869120]),
        'exponential@0': ((4,), [1077726950, 1081473707, 1053740146, 1059185393]),
        'exponential@1234': ((4,), [1073752491, 1070718830, 1055553834, 1072759287]),
        'exponential@big': ((4,), [1058540121, 1074599459, 1021981021, 1053797754]),
        'gumbel@0': ((4,), [1077614729, 1081428380, 3183898615, 1049490596]),
        'gumbel@1234': ((4,), [1073162266, 1069830231, 3131184725, 1072076519]),
        'gumbel@big': ((4,), [1046494848, 1074356731, 3215121026, 3183478768]),
        'laplace@0': ((4,), [3222303331, 3226050091, 1053897580, 1032095730]),
        'laplace@1234': ((4,), [3215432268, 3211939015, 1050525184, 3214428397]),
        'laplace@big': ((4,), [1038198792, 3217126205, 1077415532, 1053782122]),
        'logistic@0': ((2, 2), [1077501497, 1081382888, 3207767447, 3187703960]),
        'logistic@1234': ((2, 2), [1072546676, 1068909109, 3205174403, 1071374710]),
        'logistic@big': ((2, 2), [3193336580, 1074109228, 3227686547, 3207680913]),
        'multinomial@0': ((2, 3), [1065353216, 1101529088, 1090519040, 1088421888, 1097859072, 1090519040]),
        'multinomial@1234': ((2, 3), [1077936128, 1099956224, 1091567616, 1077936128, 1102577664, 1082130432]),
        'multinomial@big': ((2, 3), [1073741824, 1103101952, 1082130432, 1084227584, 1100480512, 1086324736]),
        'normal_0d@0': ((), [1070576317]),
        'normal_0d@1234': ((), [1066218095]),
        'normal_0d@big': ((), [3188082668]),
        'normal_2x5@0': ((2, 5),
                         [1070576317, 1073847792, 3202220055, 3181445666, 1043616044, 3212368599, 3204290508,
                          1056775985, 1059721932, 3212000746]),
        'normal_2x5@1234': ((2, 5),
                            [1066218095, 1063055782, 3199035335, 1065581770, 3213454101, 1051239321, 1061296637,
                             3197756681, 3200112793, 1058411091]),
        'normal_2x5@big': ((2, 5),
                           [3188082668, 1067239734, 3220455322, 3202114297, 1063853675, 3190346145, 1043246349,
                            3203557127, 1022888058, 1045819594]),
        'normal_3@0': ((3,), [1070576317, 1073847792, 3202220055]),
        'normal_3@1234': ((3,), [1066218095, 1063055782, 3199035335]),
        'normal_3@big': ((3,), [3188082668, 1067239734, 3220455322]),
        'truncated_normal@0': ((4,), [1053915016, 1055701046, 3206119850, 3199738087]),
        'truncated_normal@1234': ((4,), [1049309860, 1043677273, 3205035658, 1048179423]),
        'truncated_normal@big': ((4,), [3200913396, 1050663270, 3215990918, 3206083859]),
        'uniform_mm@0': ((4,), [1076838626, 1077486916, 3199030644, 1051708048]),
        'uniform_mm@1234': ((4,), [1075105150, 1073866570, 3190212960, 1074745260]),
        'uniform_mm@big': ((4,), [1047849456, 1075622796, 3220043382, 3198838484])},
 '64': {'binomial@0': ((4,), [4607182418800017408, 4611686018427387904, 4644741736004845568, 4630544841867001856]),
        'binomial@1234': ((4,), [0, 4616189618054758400, 4644688959446712320, 4630544841867001856]),
        'binomial@big': ((4,), [0, 4607182418800017408, 4644935250051334144, 4630404104378646528]),
        'exponential@0': ((4,), [4603057757045831127, 4597949073452570790, 4614752146199049055, 4605871795515782058]),
        'exponential@1234': ((4,),
                             [4599956686129448010, 4607670124825074570, 4604277493290425252, 4610344534167980282]),
        'exponential@big': ((4,),
                            [4598506094081852469, 4605289104150566496, 4610713884274187900, 4601270789637514796]),
        'gumbel@0': ((4,), [4594136595314349720, 13824717663298318111, 4614712525434929946, 4603490653873327473]),
        'gumbel@1234': ((4,), [13819774450740316177, 4606413584882533509, 4599865370210808114, 4609898949873067240]),
        'gumbel@big': ((4,), [13823694655352467321, 4602701304242592414, 4610306227743902205, 13812685697947333570]),
        'laplace@0': ((4,), [4595582360139728619, 4605722917272707071, 13836563354361783527, 13818353101954672369]),
        'laplace@1234': ((4,),
                         [4602942069735574901, 13824522249846061644, 4580242332510486313, 13830594913638673412]),
        'laplace@big': ((4,), [4604961570843742366, 13815001016214938514, 13830964263744881030, 4600400015427502024]),
        'logistic@0': ((2, 2),
                       [13822972381232499624, 13831848730629966307, 4614672670922455961, 4599080214875849924]),
        'logistic@1234': ((2, 2),
                          [13829414888252745129, 4604549007106370098, 13808082069809865824, 4609438169974973997]),
        'logistic@big': ((2, 2),
                         [13831357070519751739, 4595825472191277220, 4609885889079888298, 13827355184063211198]),
        'multinomial@0': ((2, 3),
                          [4607182418800017408, 4624633867356078080, 4624070917402656768, 4616189618054758400,
                           4627167142146473984, 4613937818241073152]),
        'multinomial@1234': ((2, 3),
                             [4607182418800017408, 4625759767262920704, 4622382067542392832, 4613937818241073152,
                              4625759767262920704, 4621256167635550208]),
        'multinomial@big': ((2, 3),
                            [4617315517961601024, 4625196817309499392, 4621256167635550208, 4607182418800017408,
                             4627448617123184640, 4617315517961601024]),
        'normal_0d@0': ((), [13819956301806572573]),
        'normal_0d@1234': ((), [13826412929620354278]),
        'normal_0d@big': ((), [13828043839289970129]),
        'normal_2x5@0': ((2, 5),
                         [13819956301806572573, 13828615798116809546, 4610857746434946967, 4595935814102313387,
                          4590491565605667708, 13823747008893491071, 4608038840081015588, 4599772057100701619,
                          4590776766942234009, 13829399893359704412]),
        'normal_2x5@1234': ((2, 5),
                            [13826412929620354278, 4601590314506976375, 13804730748279033246, 4606341639441314623,
                             13829728617920128718, 4608661699742256871, 4596520839723726611, 4606560609382726373,
                             4614621777978366325, 4603525993433179959]),
        'normal_2x5@big': ((2, 5),
                           [13828043839289970129, 4593003213717404349, 4606843152869625811, 13824269872849734817,
                            4601756354504145238, 13817565956544835654, 13828370927172003400, 13823142137620302353,
                            13833722346724266169, 13827336046303752978]),
        'normal_3@0': ((3,), [13819956301806572573, 13828615798116809546, 4610857746434946967]),
        'normal_3@1234': ((3,), [13826412929620354278, 4601590314506976375, 13804730748279033246]),
        'normal_3@big': ((3,), [13828043839289970129, 4593003213717404349, 4606843152869625811]),
        'truncated_normal@0': ((4,),
                               [13825058131762462341, 13829066398143879645, 4601586459971444693,
                                13819291994308240977]),
        'truncated_normal@1234': ((4,),
                                  [13827600231033635583, 13808862440958225207, 13822821500835281591,
                                   4596220108651419341]),
        'truncated_normal@big': ((4,),
                                 [13828691656494069148, 13820932124808710541, 4597047438528220013,
                                  13826749239845723741]),
        'uniform_mm@0': ((4,), [4591314295979025216, 13829820573621901078, 4613547372604117562, 4606034024931987842]),
        'uniform_mm@1234': ((4,),
                            [13826297195640533348, 4608755927725612775, 4601968063828259492, 4611885362356768257]),
        'uniform_mm@big': ((4,),
                           [13828961394580435308, 4604753373420389632, 4612046971253872784, 13822073262817896276])}}
BIT_SEEDS = {"0": 0, "1234": 1234, "big": 2**40 + 77}
BIT_IDS = [(m, name) for m in ("32", "64") for name in JAX_BITS[m]]


@pytest.mark.parametrize("mode, name", BIT_IDS, ids=[f"{m}-{n}" for m, n in BIT_IDS])
def test_draws_are_jax_bit_for_bit(mode, name):
    shape, words = JAX_BITS[mode][name]
    dtype = np.float32 if mode == "32" else np.float64
    call, seed = name.split("@")
    env = {"jr": fr, "k": fr.key(BIT_SEEDS[seed]), "dt": dtype, "A": lambda x, d: np.asarray(x, d)}
    got = np.asarray(eval("jr." + BIT_CALLS[call], env))
    assert got.dtype == dtype and got.shape == tuple(shape)
    want = np.array(words, np.uint32 if mode == "32" else np.uint64).view(dtype).reshape(shape)
    np.testing.assert_array_equal(got.view(np.uint32 if mode == "32" else np.uint64),
                                  want.view(np.uint32 if mode == "32" else np.uint64))


# --- exp-based draws, bit for bit: XLA's own exp (_xla_math.exp) and XLA's rewrites of the composition ---------
# (JAX 0.10.2, x86-64 CPU, jax_enable_x64; k = jax.random.PRNGKey(seed), A = jnp.asarray; raw bits as above)
EXP_CALLS = {'lognormal': 'lognormal(k, dt(0.7), (5,), dt)',
 'lognormal_v': 'lognormal(k, A([0.2, 1.0, 2.5], dt), (3,), dt)',
 'pareto': 'pareto(k, dt(2.5), (5,), dt)',
 'pareto_v': 'pareto(k, A([0.5, 1.0, 3.0], dt), (3,), dt)',
 'weibull_min': 'weibull_min(k, dt(2.0), dt(1.5), (5,), dt)'}
JAX_EXP_BITS = {'32': {'lognormal@1234': [1074431621, 1072313114, 1061812050, 1073962140, 1056013528],
        'lognormal@big': [1063881744, 1075239524, 1049011039, 1060988598, 1072832678],
        'lognormal_v@1234': [1067423943, 1075295429, 1054576377],
        'lognormal_v@big': [1064918924, 1079629760, 1007345746],
        'pareto@1234': [1074697312, 1073127646, 1067039606, 1074260563, 1065881117],
        'pareto@big': [1067602664, 1075483384, 1065449692, 1066830887, 1073575039],
        'pareto_v@1234': [1113293211, 1084549010, 1066736660],
        'pareto_v@big': [1079110153, 1091636299, 1065433536],
        'weibull_min@1234': [1078680587, 1077017390, 1066932474, 1078144197, 1058156875],
        'weibull_min@big': [1068818636, 1079562107, 1044347490, 1066157802, 1077338912]},
 '64': {'lognormal@1234': [4604346370765409457, 4608805052472429310, 4607058558215831309, 4611174308132552158,
                           4602944543944568283],
        'lognormal@big': [4603611734712625133, 4607562424748744164, 4611511960741385883, 4604977305160843043,
                          4608844706408263375],
        'lognormal_v@1234': [4606260009604384505, 4609668625488363345, 4606747824357750508],
        'lognormal_v@big': [4605972469149357922, 4607734947282904309, 4622431428281057014],
        'pareto@1234': [4607856894861393486, 4609694824335007150, 4608584249882132346, 4611575953660595393,
                        4607558910328998973],
        'pareto@big': [4607692768456522786, 4608855598143932532, 4611779340832018297, 4608010211656277555,
                       4609723348700164512],
        'pareto_v@1234': [4611706942606968532, 4614003529414529240, 4608323459543519175],
        'pareto_v@big': [4610381831371994216, 4612143033487461564, 4610841652086536684],
        'weibull_min@1234': [4607103061497523485, 4612005553250424998, 4609626785644682981, 4613602714593621437,
                             4604350778179991617],
        'weibull_min@big': [4605670238768267761, 4610374867759913059, 4613807321813804682, 4607745077793004121,
                            4612034937065545897]}}
# sums of the bit patterns (mod 2**64) of 20,000 draws from PRNGKey(1234): every element checked
JAX_EXP_SUMS = {"32": {"lognormal": 21297098003183, "pareto": 21394519335845, "weibull_min": 21371761977530},
                "64": {"lognormal": 14862209108095810364, "pareto": 12281382850639725223,
                       "weibull_min": 17793041532463882431}}
EXP_SUM_CALLS = {"lognormal": "lognormal(k, dt(0.7), (N,), dt)", "pareto": "pareto(k, dt(2.5), (N,), dt)",
                 "weibull_min": "weibull_min(k, dt(2.0), dt(1.5), (N,), dt)"}
EXP_IDS = [(m, name) for m in ("32", "64") for name in JAX_EXP_BITS[m]]


@pytest.mark.parametrize("mode, name", EXP_IDS, ids=[f"{m}-{n}" for m, n in EXP_IDS])
def test_exp_based_draws_are_jax_bit_for_bit(mode, name):
    dtype, utype = (np.float32, np.uint32) if mode == "32" else (np.float64, np.uint64)
    call, seed = name.split("@")
    env = {"jr": fr, "k": fr.key(BIT_SEEDS[seed]), "dt": dtype, "A": lambda x, d: np.asarray(x, d)}

    def draw(k):
        return eval("jr." + EXP_CALLS[call], {**env, "k": k})

    for got in (np.asarray(draw(env["k"])), np.asarray(fg.jit(draw)(env["k"]))):  # eager and staged
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.view(utype), np.array(JAX_EXP_BITS[mode][name], utype))


@pytest.mark.parametrize("mode", ["32", "64"])
@pytest.mark.parametrize("name", list(EXP_SUM_CALLS))
def test_many_exp_based_draws_are_jax_bit_for_bit(mode, name):
    dtype, utype = (np.float32, np.uint32) if mode == "32" else (np.float64, np.uint64)
    got = np.asarray(eval("jr." + EXP_SUM_CALLS[name], {"jr": fr, "k": fr.key(1234), "dt": dtype, "N": 20_000}))
    assert int(got.view(utype).astype(np.uint64).sum(dtype=np.uint64)) == JAX_EXP_SUMS[mode][name]


# wald(k, dt(1.3), (5,), dt) and wald(k, A([0.5, 1.0, 3.0], dt), (3,), dt) (JAX 0.10.2, raw bits), and the bit
# sum of wald(PRNGKey(1234), dt(1.3), (20_000,), dt): XLA contracts two of its multiply-adds
JAX_WALD = {'32': {'sum': 21253373903743,
                   'wald@1234': [1080758038, 1063309972, 1062961105, 1045349140, 1051019460],
                   'wald@big': [1076516950, 1061363049, 1066309529, 1073892272, 1051802230],
                   'wald_v@1234': [1064827808, 1060463767, 1070414471],
                   'wald_v@big': [1061734090, 1059066360, 1075308302]},
            '64': {'sum': 10256125970158558275,
                   'wald@1234': [4599942587451740997, 4607784284971606358, 4594741716239559110,
                                 4603523055370094678, 4614690988477207993],
                   'wald@big': [4599066578301380191, 4608970394535283007, 4617810619511581533,
                                4617854409797476967, 4606652446022570387],
                   'wald_v@1234': [4596855460749724492, 4606162955646098192, 4595528807167876608],
                   'wald_v@big': [4596083167231694576, 4607475874274773619, 4600917593913615688]}}


@pytest.mark.parametrize("mode", ["32", "64"])
def test_wald_is_jax_bit_for_bit_and_differentiable(mode):
    dtype, utype = (np.float32, np.uint32) if mode == "32" else (np.float64, np.uint64)
    answers = JAX_WALD[mode]
    for seed in ("1234", "big"):
        k = fr.key(BIT_SEEDS[seed])
        for name, mean, shape in (("wald", dtype(1.3), (5,)), ("wald_v", np.array([0.5, 1.0, 3.0], dtype), (3,))):
            for got in (fr.wald(k, mean, shape, dtype), fg.jit(lambda k: fr.wald(k, mean, shape, dtype))(k)):
                got = np.asarray(got)
                assert got.dtype == dtype
                np.testing.assert_array_equal(got.view(utype), answers[f"{name}@{seed}"])
    many = np.asarray(fr.wald(fr.key(1234), dtype(1.3), (20_000,), dtype))
    assert int(many.view(utype).astype(np.uint64).sum(dtype=np.uint64)) == answers["sum"]
    if mode == "64":  # the fused steps carry the composition's derivatives
        from funcgrad.test_util import check_grads

        check_grads(lambda m: fr.wald(fr.key(3), m, (6,)), (np.array(1.3),))
        check_grads(lambda m: fr.wald(fr.key(3), m, (3,)), (np.array([0.5, 1.0, 3.0]),))


# float64 gamma family (JAX 0.10.2, jax_enable_x64, x86-64 without AVX-512, where XLA's rsqrt is 1/sqrt): bit
# sums (mod 2**64) of 2,000 draws, A = np.linspace(0.5, 20, 2000); every element checked
GAMMA_CALLS = {"f": "f(k, 3.0, 5.0, (N,), np.float64)", "f_v": "f(k, A, A[::-1].copy(), (N,), np.float64)",
               "beta": "beta(k, 2.0, 3.0, (N,), np.float64)", "chisquare": "chisquare(k, 3.0, (N,), np.float64)",
               "t": "t(k, 3.0, (N,), np.float64)", "generalized_normal": "generalized_normal(k, 1.5, (N,), np.float64)",
               "gamma": "gamma(k, A, None, np.float64)", "loggamma": "loggamma(k, A, None, np.float64)"}
JAX_GAMMA_SUMS = {
    1234: {"f": 6956773584903647303, "f_v": 8922775834437214748, "beta": 13407233375198682068,
           "chisquare": 18262718245425537358, "t": 11606113782363464578, "generalized_normal": 7292185070685200063,
           "gamma": 16304713962876334551, "loggamma": 7270333104781399046},
    7: {"f": 7006349320669795549, "f_v": 9353444975344911710, "beta": 13226381572553145147,
        "chisquare": 238846393818333010, "t": 3065991191166155389, "generalized_normal": 6447215343916881028,
        "gamma": 16312642655492278679, "loggamma": 7689799283381573281}}


@pytest.mark.parametrize("seed", [1234, 7])
@pytest.mark.parametrize("name", list(GAMMA_CALLS))
def test_float64_gamma_family_is_jax_bit_for_bit(name, seed):
    env = {"jr": fr, "k": fr.key(seed), "np": np, "N": 2000, "A": np.linspace(0.5, 20, 2000)}
    got = np.asarray(eval("jr." + GAMMA_CALLS[name], env))
    assert got.dtype == np.float64 and got.shape == (2000,)
    assert int(got.view(np.uint64).sum(dtype=np.uint64)) == JAX_GAMMA_SUMS[seed][name]


def test_xla_exp_matches_its_definition_at_the_edges():
    from funcgrad.random import _xla_math

    for dtype, top in ((np.float32, 89.0), (np.float64, 710.0)):
        x = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, top, -top * 1.2, 1e-30], dtype)
        with np.errstate(all="ignore"):
            got, want = _xla_math.exp(x), np.exp(x)
        assert got.dtype == dtype and got.shape == x.shape
        np.testing.assert_array_equal(got[[0, 1, 4, 5, 6]], want[[0, 1, 4, 5, 6]])  # exact values, special cases
        np.testing.assert_allclose(got[2:4], want[2:4], rtol=np.finfo(dtype).eps)  # XLA's exp: within an ulp
        assert got[7] == np.inf and got[8] == 0.0 and got[9] == 1.0
        y = np.random.default_rng(0).uniform(-80, 80, 10_000).astype(dtype)
        np.testing.assert_allclose(_xla_math.exp(y), np.exp(y), rtol=4 * np.finfo(dtype).eps)
        assert _xla_math.exp(np.array(0.5, dtype)).shape == ()


def test_xla_math_special_values_and_shapes():
    from funcgrad.random import _xla_math

    for dtype in (np.float32, np.float64):
        x = np.array([0.0, -0.0, -1.0, np.inf, np.nan, 1e-30, -0.3, 0.3, 5.0], dtype)
        with np.errstate(all="ignore"):
            got = _xla_math.log1p(x)
            want = np.log1p(x)
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps)
        assert np.signbit(got[1]) and not np.signbit(got[0])  # log1p(-0) = -0
        assert _xla_math.log1p(np.array(-0.25, dtype)).shape == ()
    x = np.array([0.0, -1.0, np.inf, np.nan, 1e-40, 3e38, 0.5, 2.0], np.float32)
    with np.errstate(all="ignore"):
        got, want = _xla_math.log_f32(x), np.log(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=4e-7)
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(1000) for _ in range(3))
    from fractions import Fraction

    exact = np.array([float(Fraction(p) * Fraction(q) + Fraction(r)) for p, q, r in zip(a, b, c, strict=True)])
    np.testing.assert_array_equal(_xla_math.fma64(a, b, c), exact)


def _reference_fma64(a, b, c):
    """fma64's definition, the plain way (Veltkamp splits of both factors, Knuth's two-sum):
    ``round(s + round(e + l))`` with ``a b = h + l`` and ``h + c = s + e`` exactly."""
    def split(v):
        gamma = v * 134217729.0
        hi = gamma - (gamma - v)
        return hi, v - hi

    (a_hi, a_lo), (b_hi, b_lo) = split(a), split(b)
    h = a * b
    low = (((a_hi * b_hi - h) + a_hi * b_lo) + a_lo * b_hi) + a_lo * b_lo
    s = h + c
    bb = s - h
    e = (h - (s - bb)) + (c - bb)
    return s + (e + low)


def _reference_horner(coefficients, x):
    p = np.full(x.shape, float(coefficients[0]))
    for c in coefficients[1:]:
        p = _reference_fma64(p, x, np.float64(c))
    return p


def _hard_floats(rng, n, low=-40, high=40):
    """float64s with random exponents, many of them with few significant bits, all-ones or
    all-zero significands, or one bit flipped (ties and carries in the splits and sums)."""
    v = np.ldexp(rng.uniform(-2.0, 2.0, n), rng.integers(low, high, n)).view(np.uint64)
    kind = rng.integers(0, 5, n)
    v[kind == 0] &= np.uint64(0xFFFFFFFFF8000000)
    v[kind == 1] |= np.uint64(0x7FFFFFF)
    v[kind == 2] |= np.uint64(0xFFFFFFFFFFFFF)
    v[kind == 3] &= np.uint64(0xFFF0000000000000)
    return v.view(np.float64)


def test_fast_fma64_and_horner_match_their_definition_bit_for_bit():
    # The fast paths (truncation split, fast two-sum where a bound allows it) must change no bit.
    from funcgrad.random import _erfinv, _xla_math

    rng = np.random.default_rng(15)
    n = 50_000
    a, b = _hard_floats(rng, n), _hard_floats(rng, n)
    near = -(a * b) * (1.0 + rng.integers(-3, 4, n) * 2.0**-52)  # heavy cancellation
    c = np.where(rng.random(n) < 0.5, near, _hard_floats(rng, n))
    c[:1000] = 0.0
    got = _xla_math.fma64(a, b, c)
    np.testing.assert_array_equal(got.view(np.uint64), _reference_fma64(a, b, c).view(np.uint64))
    assert np.count_nonzero(got != a * b + c) > n // 20  # the cases where an FMA differs are well covered
    polynomials = (_erfinv._F64_CENTRAL, _erfinv._F64_MIDDLE, _erfinv._F64_TAIL, _xla_math._LOG1P_P,
                   _xla_math._LOG1P_Q, tuple(_hard_floats(rng, 9, -8, 8)))
    x = np.concatenate([rng.uniform(-3.125, 3.125, n // 2), _hard_floats(rng, n // 2, -30, 2)])
    for coefficients in polynomials:
        for arg in (x, np.minimum(x, 3.125), x[np.abs(x) < 0.5]):
            got = _xla_math.horner(coefficients, arg)
            want = _reference_horner(coefficients, arg)
            np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


def test_bad_impl_and_exponent_are_clear_errors():
    with pytest.raises(RandomKeyError, match="not a key implementation"):
        fr.wrap_key_data(np.array([0, 42], np.uint32), impl="foo")
    for call in (lambda: fr.generalized_normal(fr.key(0), 0.0), lambda: fr.ball(fr.key(0), 3, p=0)):
        with pytest.raises(ValueError, match="p must be positive"):
            call()
