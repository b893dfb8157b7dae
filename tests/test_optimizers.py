"""funcgrad.optimizers: the first steps of every optimizer against its update formula written out
by hand in NumPy here, on a pytree of parameters, eagerly and under jit; schedules; clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.optimizers as optim
from funcgrad.errors import TreeMismatchError

RNG = np.random.default_rng(0)
PARAMS = {"w": RNG.standard_normal((3, 2)), "layers": (RNG.standard_normal(4), np.array(0.5))}
GRADS = [{"w": RNG.standard_normal((3, 2)), "layers": (RNG.standard_normal(4), np.array(g))}
         for g in (0.3, -1.2, 0.0)]


def _leaves(tree):
    return [tree["w"], tree["layers"][0], tree["layers"][1]]


# Reference implementations: one leaf, a list of gradients, the list of parameters after each step.

def ref_sgd(x, gs, lr=0.1):
    out = []
    for g in gs:
        x = x - lr * g
        out.append(x)
    return out


def ref_momentum(x, gs, lr=0.1, mass=0.9, nesterov=False):
    v, out = np.zeros_like(x), []
    for g in gs:
        v = mass * v + g
        x = x - lr * (mass * v + g if nesterov else v)
        out.append(x)
    return out


def ref_adagrad(x, gs, lr=0.1, mom=0.9):
    s, m, out = np.zeros_like(x), np.zeros_like(x), []
    for g in gs:
        s = s + g**2
        with np.errstate(divide="ignore"):
            inv = np.where(s > 0, 1 / np.sqrt(s), 0.0)
        m = (1 - mom) * g * inv + mom * m
        x = x - lr * m
        out.append(x)
    return out


def ref_rmsprop(x, gs, lr=0.1, gamma=0.9, eps=1e-8):
    a, out = np.zeros_like(x), []
    for g in gs:
        a = gamma * a + (1 - gamma) * g**2
        x = x - lr * g / np.sqrt(a + eps)
        out.append(x)
    return out


def ref_adam(x, gs, lr=0.1, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    m, v, out = np.zeros_like(x), np.zeros_like(x), []
    for t, g in enumerate(gs, start=1):
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g**2 + b2 * v
        x = x - lr * ((m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps) + wd * x)
        out.append(x)
    return out


def ref_adamax(x, gs, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
    m, u, out = np.zeros_like(x), np.zeros_like(x), []
    for t, g in enumerate(gs, start=1):
        m = (1 - b1) * g + b1 * m
        u = np.maximum(b2 * u, np.abs(g))
        x = x - lr / (1 - b1**t) * m / (u + eps)
        out.append(x)
    return out


CASES = {
    "sgd": (optim.sgd(0.1), ref_sgd),
    "momentum": (optim.momentum(0.1, 0.9), ref_momentum),
    "nesterov": (optim.nesterov(0.1, 0.9), lambda x, gs: ref_momentum(x, gs, nesterov=True)),
    "adagrad": (optim.adagrad(0.1), ref_adagrad),
    "rmsprop": (optim.rmsprop(0.1), ref_rmsprop),
    "adam": (optim.adam(0.1), ref_adam),
    "adamw": (optim.adamw(0.1, weight_decay=0.01), lambda x, gs: ref_adam(x, gs, wd=0.01)),
    "adamax": (optim.adamax(0.1), ref_adamax),
    "sgd_schedule": (optim.sgd(optim.exponential_decay(0.1, 1, 0.5)),
                     lambda x, gs: [x - 0.1 * gs[0], x - 0.1 * gs[0] - 0.05 * gs[1],
                                    x - 0.1 * gs[0] - 0.05 * gs[1] - 0.025 * gs[2]]),
}


def _run(opt, params, grads, jit):
    def step(p, s, g):
        updates, s = opt.update(g, s, p)
        return optim.apply_updates(p, updates), s

    step = fg.jit(step) if jit else step
    state = opt.init(params)
    history = []
    for g in grads:
        params, state = step(params, state, g)
        history.append(params)
    return history


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name", CASES)
def test_first_steps_match_the_formula(name, jit):
    opt, ref = CASES[name]
    history = _run(opt, PARAMS, GRADS, jit)
    for i, (x0, *_) in enumerate(zip(_leaves(PARAMS), strict=True)):
        want = ref(x0, [_leaves(g)[i] for g in GRADS])
        for step, p in enumerate(history):
            got = _leaves(p)[i]
            assert got.shape == x0.shape and got.dtype == x0.dtype
            np.testing.assert_allclose(got, want[step], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_float32_parameters_stay_float32(name):
    opt, _ = CASES[name]
    p = {"a": np.ones(3, np.float32)}
    history = _run(opt, p, [{"a": np.full(3, 0.5, np.float32)}] * 2, jit=True)
    assert history[-1]["a"].dtype == np.float32


def test_rmsprop_autograd_form():
    opt = optim.rmsprop(0.1, gamma=0.9, eps=1e-8, eps_inside_sqrt=False, initial_scale=1.0)
    x, g = np.array([1.0, 2.0]), np.array([0.5, -3.0])
    (p,) = _run(opt, x, [g], jit=False)
    a = 0.9 * 1.0 + 0.1 * g**2
    np.testing.assert_allclose(p, x - 0.1 * g / (np.sqrt(a) + 1e-8), rtol=1e-14)


def test_jit_compiles_one_step_for_every_iteration():
    opt = optim.adam(0.01)
    calls = []

    @fg.jit
    def step(p, s):
        calls.append(1)  # runs only while tracing
        g = fg.grad(lambda q: fnp.sum((q - 2.0) ** 2))(p)
        updates, s = opt.update(g, s, p)
        return optim.apply_updates(p, updates), s

    p, s = np.zeros(2), opt.init(np.zeros(2))
    for _ in range(5):
        p, s = step(p, s)
    assert len(calls) == 1
    assert int(s[0]) == 5


def test_optimizers_minimise_a_quadratic():
    target = {"a": np.array([1.0, -2.0]), "b": np.array(3.0)}
    loss = lambda p: fnp.sum((p["a"] - target["a"]) ** 2) + (p["b"] - target["b"]) ** 2  # noqa: E731
    for opt in (optim.sgd(0.1), optim.momentum(0.05), optim.nesterov(0.05), optim.adagrad(0.5),
                optim.rmsprop(0.05), optim.adam(0.1), optim.adamw(0.1, weight_decay=0.0), optim.adamax(0.1)):
        p = {"a": np.zeros(2), "b": np.array(0.0)}
        s = opt.init(p)
        step = fg.jit(lambda p, s, opt=opt: (lambda u_s: (optim.apply_updates(p, u_s[0]), u_s[1]))(
            opt.update(fg.grad(loss)(p), s, p)))
        for _ in range(400):
            p, s = step(p, s)
        assert loss(p) < 1e-3, opt


# --- schedules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_schedules(jit):
    wrap = fg.jit if jit else (lambda f: f)
    steps = [0, 1, 5, 10, 11, 25]
    cases = {
        "constant": (optim.constant(0.3), lambda i: 0.3),
        "exponential_decay": (optim.exponential_decay(0.5, 10, 0.1), lambda i: 0.5 * 0.1 ** (i / 10)),
        "inverse_time_decay": (optim.inverse_time_decay(1.0, 5, 2.0), lambda i: 1 / (1 + 2 * i / 5)),
        "inverse_time_decay_staircase": (optim.inverse_time_decay(1.0, 5, 2.0, staircase=True),
                                         lambda i: 1 / (1 + 2 * (i // 5))),
        "polynomial_decay": (optim.polynomial_decay(1.0, 10, 0.1, power=2.0),
                             lambda i: 0.9 * (1 - min(i, 10) / 10) ** 2 + 0.1),
        "piecewise_constant": (optim.piecewise_constant([5, 10], [1.0, 0.5, 0.25]),
                               lambda i: 1.0 if i <= 5 else 0.5 if i <= 10 else 0.25),
        "cosine_decay": (optim.cosine_decay(2.0, 10, alpha=0.1),
                         lambda i: 2.0 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(i, 10) / 10)) + 0.1)),
    }
    for name, (schedule, ref) in cases.items():
        f = wrap(lambda i, schedule=schedule: fnp.asarray(schedule(i)) + 0.0)
        for i in steps:
            np.testing.assert_allclose(f(np.array(i)), ref(i), rtol=1e-14, err_msg=name)


def test_bad_schedule_arguments():
    with pytest.raises(ValueError, match="one more value"):
        optim.piecewise_constant([1, 2], [1.0])
    with pytest.raises(ValueError, match="decay_steps"):
        optim.cosine_decay(1.0, 0)
    with pytest.raises(TypeError, match="learning rate"):
        optim.sgd("fast")


# --- clipping, chaining, the triple ----------------------------------------------------------------

def test_clip_by_global_norm():
    clip = optim.clip_by_global_norm(2.0)
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    out, _ = clip.update(g, clip.init(g))
    np.testing.assert_allclose(out["a"], [1.2, 0.0])
    np.testing.assert_allclose(out["b"], [[1.6]])
    small = {"a": np.array([0.3, 0.0]), "b": np.array([[0.4]])}
    out, _ = fg.jit(clip.update)(small, ())
    np.testing.assert_array_equal(out["a"], small["a"])
    np.testing.assert_allclose(optim.global_norm(g), 5.0)
    # differentiable: d/dg of sum(clip(g)) at norm 5 > 2
    gr = fg.grad(lambda a: fnp.sum(clip.update({"a": a}, ())[0]["a"]))(np.array([3.0, 4.0]))
    x = np.array([3.0, 4.0])
    n = np.linalg.norm(x)
    np.testing.assert_allclose(gr, 2.0 / n - 2.0 * x.sum() * x / n**3)


def test_chain_clips_then_steps():
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(0.5))
    (p,) = _run(opt, np.zeros(2), [np.array([3.0, 4.0])], jit=True)
    np.testing.assert_allclose(p, [-0.3, -0.4])


def test_as_triple_runs_like_the_transformation():
    init_fun, update_fun, get_params = optim.as_triple(optim.adam(0.1))
    state = init_fun(PARAMS)
    for i, g in enumerate(GRADS):
        state = fg.jit(update_fun)(i, g, state)
    for got, x0, idx in zip(_leaves(get_params(state)), _leaves(PARAMS), range(3), strict=True):
        np.testing.assert_allclose(got, ref_adam(x0, [_leaves(g)[idx] for g in GRADS])[-1], rtol=1e-12)


def test_misuse_errors():
    opt = optim.adam(0.1)
    state = opt.init({"a": np.zeros(2)})
    with pytest.raises(TreeMismatchError, match="tree"):
        opt.update({"b": np.zeros(2)}, state)
    w = optim.adamw(0.1)
    with pytest.raises(TypeError, match="params"):
        w.update(np.zeros(1), w.init(np.zeros(1)))
