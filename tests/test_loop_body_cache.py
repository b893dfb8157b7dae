"""Eager lax.scan under a transformation reuses its traced body across calls when the body's
closure allows it (funcgrad/_closure_key.py), and never returns a stale result."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.lax as lax_module
import funcgrad.numpy as fnp
from funcgrad import lax

XS = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
W = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [0.0, 0.2, 0.7]])


def python_scan(step, init, xs):
    c, ys = init, []
    for x in xs:
        c, y = step(c, x)
        ys.append(y)
    return c, fnp.stack(ys)


@pytest.fixture
def traces(monkeypatch):
    """Counts the loop bodies traced."""
    calls: list = []
    real = lax_module._trace

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lax_module, "_trace", counting)
    return calls


def make_loss(w, b, scan=lax.scan):
    def step(h, x):
        h = fnp.tanh(w @ h + x + b)
        return h, fnp.sum(h * h)

    def loss(xs):
        h, ys = scan(step, fnp.zeros(3), xs)
        return fnp.sum(h) + fnp.sum(ys)

    return loss


def test_body_traced_once_and_closure_over_a_changed_array_gives_the_new_result(traces):
    b = np.array([0.1, -0.3, 0.2])
    g1 = fg.grad(make_loss(W, b))(XS)
    n_first = len(traces)
    assert n_first >= 1
    g2 = fg.grad(make_loss(W, b))(XS)  # a new closure object, same code: no new trace
    assert len(traces) == n_first
    np.testing.assert_array_equal(g1, g2)
    b2 = b * -3.0
    w2 = W.T.copy()
    got = fg.grad(make_loss(w2, b2))(XS)  # changed arrays: still no trace, new values
    assert len(traces) == n_first
    want = fg.grad(make_loss(w2, b2, scan=python_scan))(XS)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not np.allclose(got, g1)
    b[:] = [2.0, 0.0, -1.0]  # changed in place
    np.testing.assert_allclose(fg.grad(make_loss(W, b))(XS),
                               fg.grad(make_loss(W, b, scan=python_scan))(XS), rtol=1e-12)


def test_closure_over_a_traced_value_is_differentiated():
    # grad with respect to w, which the body closes over (a tracer, lifted to an input)
    def loss(w, scan=lax.scan):
        return make_loss(w, 0.5, scan)(XS)

    want = fg.grad(lambda w: loss(w, python_scan))(W)
    for _ in range(2):
        np.testing.assert_allclose(fg.grad(loss)(W), want, rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(W), want, rtol=1e-12)


def test_closure_over_a_changed_number_and_shape(traces):
    for b in (0.37, -2.13):
        got = fg.grad(make_loss(W, b))(XS)
        np.testing.assert_allclose(got, fg.grad(make_loss(W, b, scan=python_scan))(XS), rtol=1e-12)
    assert len(traces) == 2  # a Python number is part of the key: one trace per value
    fg.grad(make_loss(W * 2.0, -2.13))(XS)
    assert len(traces) == 2
    xs5 = np.ones((5, 3)) * 0.1
    np.testing.assert_allclose(fg.grad(make_loss(W, 0.5))(xs5),
                               fg.grad(make_loss(W, 0.5, scan=python_scan))(xs5), rtol=1e-12)


GLOBAL_B = np.array([0.1, 0.2, 0.3])


def _global_step(h, x):
    return fnp.tanh(h + x * GLOBAL_B), fnp.sum(h)


def test_body_reading_a_global_array_or_an_object_is_traced_again(traces):
    global GLOBAL_B
    loss = lambda xs: fnp.sum(lax.scan(_global_step, fnp.zeros(3), xs)[1])  # noqa: E731
    ref = lambda xs: fnp.sum(python_scan(_global_step, fnp.zeros(3), xs)[1])  # noqa: E731
    first = fg.grad(loss)(XS)
    GLOBAL_B = GLOBAL_B * 4.0
    try:
        np.testing.assert_allclose(fg.grad(loss)(XS), fg.grad(ref)(XS), rtol=1e-12)
        assert not np.allclose(fg.grad(loss)(XS), first)
    finally:
        GLOBAL_B = GLOBAL_B / 4.0

    class Params:
        scale = np.array([1.0, 2.0, 3.0])

    assert len(traces) == 3  # every call traced again
    p = Params()
    step = lambda h, x: (fnp.tanh(h * p.scale + x), fnp.sum(h))  # noqa: E731
    before = fg.grad(lambda xs: fnp.sum(lax.scan(step, fnp.zeros(3), xs)[0]))(XS)
    p.scale = np.array([-1.0, 0.5, 0.0])
    after = fg.grad(lambda xs: fnp.sum(lax.scan(step, fnp.zeros(3), xs)[0]))(XS)
    want = fg.grad(lambda xs: fnp.sum(python_scan(step, fnp.zeros(3), xs)[0]))(XS)
    np.testing.assert_allclose(after, want, rtol=1e-12)
    assert not np.allclose(before, after)


def test_fori_loop_body_closure_is_cached_too(traces):
    def loss(x, c):
        def body(i, v):
            return fnp.sin(v) * c + i * 0.1

        return fnp.sum(lax.fori_loop(0, 6, body, x))

    def loss_py(x, c):
        v = x
        for i in range(6):
            v = fnp.sin(v) * c + i * 0.1
        return fnp.sum(v)

    x = np.array([0.3, -0.2])
    for c in (np.array(0.9), np.array(-1.1)):
        np.testing.assert_allclose(fg.grad(loss)(x, c), fg.grad(loss_py)(x, c), rtol=1e-12)
    n = len(traces)
    fg.grad(loss)(x, np.array(0.3))
    assert len(traces) == n


# --- how a scan body runs: the work no carry depends on is batched over all steps ---------------


def _scan_cases():
    k = np.array([0.5, -1.0, 2.0])

    def body(c, x):
        h, acc, n = c
        h2 = fnp.tanh(h * 0.9 + x)
        ys = (fnp.sum(h2 * h2), h, x, k, 3.0, n)  # computed, a carry going in, xs, invariant, literal, int
        return (h2, acc + fnp.outer(h2, x), n + 1), ys

    init = (np.zeros(3), np.zeros((3, 3)), np.asarray(0))
    return body, init


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_with_batched_post_work_matches_the_python_loop(reverse, monkeypatch):
    from funcgrad import control

    body, init = _scan_cases()

    def loop_py(xs):
        c, ys = init, [None] * len(xs)
        for i in (range(len(xs) - 1, -1, -1) if reverse else range(len(xs))):
            c, ys[i] = body(c, xs[i])
        return c, tuple(np.stack([np.asarray(y[j]) for y in ys]) for j in range(6))

    f = fg.jit(lambda xs: lax.scan(body, init, xs, reverse=reverse))
    got = f(XS)
    want = loop_py(XS)
    for a, b in zip(fg.tree_util.tree_leaves(got), fg.tree_util.tree_leaves(want)):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    scan_eqn = next(e for e in fg.make_trace(lambda xs: lax.scan(body, init, xs, reverse=reverse))(XS).eqns
                    if e.prim.name == "scan")
    plan = control._hoist_plan(scan_eqn.params["body"], 3, 1)
    assert plan is not None and plan.acc == [1]  # the outer-product accumulator is summed after the loop
    assert len(plan.core.eqns) < len(scan_eqn.params["body"].eqns)
    # too big to batch: the plain loop, same numbers
    monkeypatch.setattr(control.scan, "_HOIST_BYTES", 0)  # (read by the scan impl)
    for a, b in zip(fg.tree_util.tree_leaves(fg.jit(lambda xs: lax.scan(body, init, xs, reverse=reverse))(XS)),
                    fg.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_grad_of_scan_with_batched_post_work_against_finite_differences():
    from funcgrad.test_util import check_grads

    def loss(w, xs):
        def step(c, x):
            h, acc = c
            h = fnp.tanh(w @ h + x)
            return (h, acc + h * x), fnp.sum(h ** 2)

        (h, acc), ys = lax.scan(step, (fnp.zeros(3), fnp.zeros(3)), xs)
        return fnp.sum(h) + fnp.sum(acc * acc) + fnp.sum(ys * fnp.arange(4.0))

    check_grads(fg.jit(loss), (W, XS), order=2, modes=("rev",))


def test_scan_work_on_loop_invariants_runs_once():
    # A closed-over array is an input of the body (lifted), so nothing constant-folds it; the
    # work on it alone (here the inverse and the sums) runs once before the loop, not per step.
    from funcgrad import control

    a = np.array([[2.0, 0.3, 0.0], [0.1, 1.5, 0.2], [0.0, 0.4, 1.8]])

    def loss(xs, a):
        def step(h, x):
            m = fnp.linalg.inv(a) * fnp.sum(a)
            h = fnp.tanh(m @ h + x)
            return h, h[0]

        h, ys = lax.scan(step, fnp.ones(3), xs)
        return fnp.sum(h) + fnp.sum(ys)

    def loss_py(xs, a):
        h, ys = fnp.ones(3), []
        for x in xs:
            h = fnp.tanh(fnp.linalg.inv(a) * fnp.sum(a) @ h + x)
            ys.append(h[0])
        return fnp.sum(h) + fnp.sum(fnp.stack(ys))

    for g in (fg.grad(loss, argnums=(0, 1)), fg.jit(fg.grad(loss, argnums=(0, 1)))):
        for got, want in zip(g(XS, a), fg.grad(loss_py, argnums=(0, 1))(XS, a)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    body = next(e for e in fg.make_trace(loss)(XS, a).eqns if e.prim.name == "scan").params["body"]
    plan = control._hoist_plan(body, 1, 1)
    assert {e.prim.name for e in body.eqns} >= {"solve", "sum"}  # inv(a) is a solve
    assert plan.pre is not None and {e.prim.name for e in plan.pre.eqns} == {"solve", "sum", "multiply"}
    assert {e.prim.name for e in plan.core.eqns} == {"matmul", "add", "tanh"}


def test_scan_accumulators_keep_their_dtype():
    xs = np.arange(6)
    cases = [(np.int8(1), xs.astype(np.int8) * 40), (np.array([False]), (xs[:, None] % 2) == 1),
             (np.float32(0.5), xs.astype(np.float32) / 3), (np.complex128(1j), xs * (1 + 2j))]
    for init, x in cases:
        got_c, got_y = fg.jit(lambda x, init=init: lax.scan(lambda c, v: (c + v, v * 1), init, x))(x)
        c = init
        with np.errstate(over="ignore"):
            for v in x:
                c = c + v  # NumPy's own wrap-around (int8) and logical or (bool)
        assert np.asarray(got_c).dtype == np.asarray(c).dtype
        np.testing.assert_allclose(np.asarray(got_c, dtype=complex), np.asarray(c, dtype=complex), rtol=1e-6)
