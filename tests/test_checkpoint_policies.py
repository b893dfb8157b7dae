"""checkpoint(f, policy=..., prevent_cse=..., static_argnums=...) with funcgrad.checkpoint_policies
and checkpoint_name (issue 8 §3): derivatives are unchanged by any policy (against the function
without checkpointing, and finite differences), and each policy saves what it says (counted
recomputations, and the staged programs)."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import core, lax

cp = fg.checkpoint_policies
RNG = np.random.default_rng(3)
W = RNG.standard_normal((3, 3)) * 0.6
X = np.array([0.3, -0.8, 0.5])

POLICIES = {
    "default": None,
    "everything_saveable": cp.everything_saveable,
    "nothing_saveable": cp.nothing_saveable,
    "dots_saveable": cp.dots_saveable,
    "dots_with_no_batch_dims_saveable": cp.dots_with_no_batch_dims_saveable,
    "save_only_these_names": cp.save_only_these_names("s"),
    "save_anything_except_these_names": cp.save_anything_except_these_names("s"),
}


def block(w, x):
    s = fg.checkpoint_name(fnp.sin(w @ x), "s")
    return fnp.tanh(s * x + 0.5) @ w


def loss(block_fn, w, x):
    h = x
    for _ in range(3):
        h = block_fn(w, h)
    return fnp.sum(h * fnp.arange(1.0, 4.0))


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_policies_do_not_change_derivatives(name):
    ck = fg.checkpoint(block, policy=POLICIES[name])
    want_w, want_x = fg.grad(lambda w, x: loss(block, w, x), argnums=(0, 1))(W, X)
    for g in (fg.grad(lambda w, x: loss(ck, w, x), argnums=(0, 1)),
              fg.jit(fg.grad(lambda w, x: loss(ck, w, x), argnums=(0, 1))),
              fg.grad(fg.jit(lambda w, x: loss(ck, w, x)), argnums=(0, 1))):
        gw, gx = g(W, X)
        np.testing.assert_allclose(gw, want_w, rtol=1e-12)
        np.testing.assert_allclose(gx, want_x, rtol=1e-12)
    h = fg.hessian(lambda x: loss(ck, W, x))(X)
    np.testing.assert_allclose(h, fg.hessian(lambda x: loss(block, W, x))(X), rtol=1e-10, atol=1e-12)
    eps, v = 1e-6, np.array([0.2, 1.0, -0.4])
    fd = (loss(block, W, X + eps * v) - loss(block, W, X - eps * v)) / (2 * eps)
    np.testing.assert_allclose(np.dot(fg.grad(lambda x: loss(ck, W, x))(X), v), fd, rtol=1e-7)


@pytest.mark.parametrize("name, sines", [
    ("default", 2), ("nothing_saveable", 2), ("everything_saveable", 1), ("dots_saveable", 2),
    ("save_only_these_names", 1), ("save_anything_except_these_names", 1)])
def test_each_policy_recomputes_only_what_it_does_not_save(name, sines):
    ck = fg.checkpoint(block, policy=POLICIES[name])
    fg.grad(lambda x: loss(ck, W, x))(X)  # warm the shape caches
    sin = core.primitives["sin"]
    impl, calls = sin.impl, []

    def counting(*args, **params):
        calls.append(1)
        return impl(*args, **params)

    sin.impl = counting
    try:
        fg.grad(lambda x: fnp.sum(ck(W, x)))(X)
    finally:
        sin.impl = impl
    assert len(calls) == sines  # one in the forward pass, one more if recomputed


def _count(program, name):
    return sum(e.prim.name == name for e in program.eqns)


def test_dots_saveable_keeps_the_matmul_under_jit():
    progs = {name: fg.jit(fg.grad(lambda w: fnp.sum(fg.checkpoint(block, policy=POLICIES[name])(w, X))))
             .lower(W).program for name in ("nothing_saveable", "dots_saveable")}
    assert _count(progs["dots_saveable"], "rematerialized") >= 1
    assert _count(progs["nothing_saveable"], "rematerialized") == 0

    def recomputed_matmuls(prog):  # matmuls after the barrier that starts the backward pass
        names = [e.prim.name for e in prog.eqns]
        return names[names.index("remat_barrier"):].count("matmul")

    # nothing saved: w @ x is recomputed, plus the vjp's own matmul; dots saved: only the latter
    assert recomputed_matmuls(progs["nothing_saveable"]) == 2
    assert recomputed_matmuls(progs["dots_saveable"]) == 1


def test_policies_inside_a_scan_body_under_jit():
    def run(step):
        return lambda w: fnp.sum(lax.scan(lambda h, _: (step(w, h), fnp.sum(h)), X, None, length=4)[1])

    want = fg.grad(run(block))(W)
    for name in ("dots_saveable", "save_only_these_names", "nothing_saveable"):
        ck = fg.checkpoint(block, policy=POLICIES[name])
        np.testing.assert_allclose(fg.jit(fg.grad(run(ck)))(W), want, rtol=1e-12)
        np.testing.assert_allclose(fg.grad(fg.jit(run(ck)))(W), want, rtol=1e-12)


def test_prevent_cse_false_and_static_argnums():
    def scaled(w, x, k):
        return fnp.sin(w @ x) * k

    ck = fg.checkpoint(scaled, static_argnums=2, prevent_cse=False)
    want = fg.grad(lambda w: fnp.sum(scaled(w, X, 3)))(W)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda w: fnp.sum(ck(w, X, 3))))(W), want, rtol=1e-13)
    np.testing.assert_allclose(fg.grad(fg.jit(lambda w: fnp.sum(ck(w, X, 3))))(W), want, rtol=1e-13)


def test_checkpoint_name_is_the_identity_in_every_mode():
    f = lambda x: fnp.sum(fg.checkpoint_name(x * x, "sq"))  # noqa: E731
    np.testing.assert_allclose(fg.grad(f)(X), 2 * X)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(X), 2 * X)
    np.testing.assert_allclose(fg.vmap(fg.grad(f))(np.stack([X, X])), np.stack([2 * X, 2 * X]))
    with pytest.raises(TypeError, match="str"):
        fg.checkpoint_name(X, 3)
