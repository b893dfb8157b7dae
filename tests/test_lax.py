"""funcgrad.lax: cond, switch, fori_loop, scan, while_loop — eagerly against plain Python, under
grad/jvp (closed forms and finite differences), vmap (against a Python loop), jit (against
eager), and in compositions."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.lax import ControlFlowTypeError


def fd(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# --- cond / switch ------------------------------------------------------------------------------


def branchy(x):
    return lax.cond(x > 0, lambda v: fnp.sin(v) * v, lambda v: v ** 3, x)


def branchy_py(x):
    return np.sin(x) * x if x > 0 else x ** 3


@pytest.mark.parametrize("x", [-1.5, 0.7, 2.0])
def test_cond_eager_grad_jvp(x):
    assert np.allclose(branchy(x), branchy_py(x))
    g = fg.grad(branchy)(x)
    assert np.allclose(g, fd(branchy_py, x))
    _, t = fg.jvp(branchy, (np.array(x),), (np.array(1.0),))
    assert np.allclose(t, fd(branchy_py, x))


def test_cond_only_runs_chosen_branch_when_concrete():
    calls = []

    def t(v):
        calls.append("t")
        return v

    def f(v):
        calls.append("f")
        return -v

    lax.cond(True, t, f, 1.0)
    fg.grad(lambda x: lax.cond(x > 0, t, f, x))(2.0)
    assert calls == ["t", "t"]


def test_cond_vmap_jit_and_compositions():
    xs = np.array([-1.5, 0.7, 2.0, -0.2])
    expected = np.array([branchy_py(x) for x in xs])
    assert np.allclose(fg.vmap(branchy)(xs), expected)
    jf = fg.jit(branchy)
    for x in xs:
        assert np.allclose(jf(np.array(x)), branchy_py(x))
    assert jf.cache_info().misses == 1
    grads = np.array([fd(branchy_py, x) for x in xs])
    assert np.allclose(fg.vmap(fg.grad(branchy))(xs), grads)
    assert np.allclose([fg.grad(fg.jit(branchy))(np.array(x)) for x in xs], grads)


def test_cond_pytree_operands_and_outputs():
    out = lax.cond(False, lambda a, b: {"s": a + b, "d": a - b}, lambda a, b: {"s": a * b, "d": b}, 2.0, 3.0)
    assert out == {"s": 6.0, "d": 3.0}
    f = fg.jit(lambda a, b: lax.cond(a > b, lambda a, b: (a, b), lambda a, b: (b, a), a, b))
    assert f(np.array(1.0), np.array(2.0)) == (2.0, 1.0)


def test_cond_mismatched_branches_under_jit_and_vmap():
    f = fg.jit(lambda x: lax.cond(x > 0, lambda v: v, lambda v: fnp.stack([v, v]), x))
    with pytest.raises(ControlFlowTypeError, match="shape"):
        f(np.array(1.0))
    g = fg.vmap(lambda x: lax.cond(x > 0, lambda v: (v, v), lambda v: v, x))
    with pytest.raises(ControlFlowTypeError, match="tree structure"):
        g(np.ones(3))
    h = fg.jit(lambda x: lax.cond(x > 0, lambda v: v, lambda v: v.astype(np.float32), x))
    with pytest.raises(TypeError, match="dtype"):
        h(np.array(1.0))


def test_cond_predicate_must_be_scalar():
    with pytest.raises(ControlFlowTypeError, match="scalar"):
        lax.cond(np.array([True, False]), lambda: 1.0, lambda: 2.0)


def three_way(i, x):
    return lax.switch(i, [lambda v: v + 1.0, lambda v: v * v, lambda v: fnp.exp(v)], x)


def three_way_py(i, x):
    i = min(max(int(i), 0), 2)
    return [x + 1.0, x * x, np.exp(x)][i]


@pytest.mark.parametrize("i", [-1, 0, 1, 2, 5])
def test_switch_eager_grad_jit(i):
    x = 0.8
    assert np.allclose(three_way(i, x), three_way_py(i, x))
    assert np.allclose(fg.grad(three_way, argnums=1)(i, x), fd(lambda v: three_way_py(i, v), x))
    jf = fg.jit(three_way)
    assert np.allclose(jf(np.array(i), np.array(x)), three_way_py(i, x))


def test_switch_vmap_batched_index():
    idx = np.array([0, 1, 2, 7, -3])
    xs = np.linspace(0.1, 1.0, 5)
    out = fg.vmap(three_way)(idx, xs)
    assert np.allclose(out, [three_way_py(i, x) for i, x in zip(idx, xs)])
    grads = fg.vmap(fg.grad(three_way, argnums=1))(idx, xs)
    assert np.allclose(grads, [fd(lambda v: three_way_py(i, v), x) for i, x in zip(idx, xs)])


# --- fori_loop ---------------------------------------------------------------------------------


def poly(x, n):
    # sum_{i<n} i * x**i, via a carried power
    return lax.fori_loop(0, n, lambda i, c: (c[0] + i * c[1], c[1] * x), (0.0, 1.0))[0]


def poly_py(x, n):
    return sum(i * x ** i for i in range(n))


def test_fori_loop_eager_grad_jvp():
    assert np.allclose(poly(1.3, 5), poly_py(1.3, 5))
    assert np.allclose(fg.grad(poly)(1.3, 5), fd(lambda v: poly_py(v, 5), 1.3))
    _, t = fg.jvp(lambda x: poly(x, 5), (np.array(1.3),), (np.array(1.0),))
    assert np.allclose(t, fd(lambda v: poly_py(v, 5), 1.3))
    assert lax.fori_loop(3, 3, lambda i, c: c + 1, 7) == 7


def test_fori_loop_jit_concrete_and_traced_bounds():
    unrolled = fg.jit(poly, static_argnums=1)
    assert np.allclose(unrolled(np.array(1.3), 5), poly_py(1.3, 5))
    staged = fg.jit(poly)
    for n in [0, 1, 4, 9]:
        assert np.allclose(staged(np.array(1.3), np.array(n)), poly_py(1.3, n))
    assert staged.cache_info().misses == 1
    assert np.allclose(fg.grad(fg.jit(poly, static_argnums=1))(np.array(1.3), 5), fd(lambda v: poly_py(v, 5), 1.3))


def test_fori_loop_vmap():
    xs = np.array([0.5, 1.1, 2.0])
    assert np.allclose(fg.vmap(poly, in_axes=(0, None))(xs, 4), [poly_py(x, 4) for x in xs])
    ns = np.array([1, 3, 6])
    assert np.allclose(fg.vmap(poly)(xs, ns), [poly_py(x, n) for x, n in zip(xs, ns)])
    assert np.allclose(fg.vmap(fg.grad(poly), in_axes=(0, None))(xs, 4),
                       [fd(lambda v: poly_py(v, 4), x) for x in xs])


def test_fori_loop_carry_change_is_an_error():
    with pytest.raises(ControlFlowTypeError, match="shape"):
        lax.fori_loop(0, 3, lambda i, c: fnp.stack([c, c]), np.array(1.0))


# --- scan --------------------------------------------------------------------------------------


def rnn(w, xs):
    def step(h, x):
        h = fnp.tanh(w * h + x)
        return h, h * 2.0

    return lax.scan(step, 0.0, xs)


def rnn_py(w, xs, reverse=False):
    h, ys = 0.0, [None] * len(xs)
    for i in (reversed(range(len(xs))) if reverse else range(len(xs))):
        h = np.tanh(w * h + xs[i])
        ys[i] = h * 2.0
    return h, np.array(ys)


XS = np.array([0.3, -0.5, 1.2, 0.1])


def test_scan_eager_reverse_and_none_xs():
    h, ys = rnn(0.7, XS)
    eh, eys = rnn_py(0.7, XS)
    assert np.allclose(h, eh) and np.allclose(ys, eys)
    h, ys = lax.scan(lambda h, x: (fnp.tanh(0.7 * h + x), h * 2.0 + 0 * x), 0.0, XS, reverse=True)
    eh, _ = rnn_py(0.7, XS, reverse=True)
    assert np.allclose(h, eh)
    c, ys = lax.scan(lambda c, _: (c + 1, c * c), 0, None, length=4)
    assert c == 4 and np.array_equal(ys, [0, 1, 4, 9])
    c, ys = lax.scan(lambda c, x: (c, {"a": x}), 1.0, np.zeros((0, 2)))
    assert c == 1.0 and ys["a"].shape == (0, 2)


def test_scan_pytree_xs_and_length_mismatch():
    c, ys = lax.scan(lambda c, x: (c + x["a"] * x["b"], x["a"]), 0.0, {"a": np.arange(3.0), "b": np.ones(3)})
    assert c == 3.0 and np.array_equal(ys, [0.0, 1.0, 2.0])
    with pytest.raises(ControlFlowTypeError, match="length"):
        lax.scan(lambda c, x: (c, x), 0.0, {"a": np.ones(3), "b": np.ones(4)})


def test_scan_grad_jvp_vmap_jit():
    loss = lambda w: rnn(w, XS)[0] + fnp.sum(rnn(w, XS)[1])  # noqa: E731
    loss_py = lambda w: rnn_py(w, XS)[0] + np.sum(rnn_py(w, XS)[1])  # noqa: E731
    assert np.allclose(fg.grad(loss)(0.7), fd(loss_py, 0.7))
    _, t = fg.jvp(loss, (np.array(0.7),), (np.array(1.0),))
    assert np.allclose(t, fd(loss_py, 0.7))
    ws = np.array([0.1, 0.7, -0.4])
    hs, ys = fg.vmap(rnn, in_axes=(0, None))(ws, XS)
    for k, w in enumerate(ws):
        eh, eys = rnn_py(w, XS)
        assert np.allclose(hs[k], eh) and np.allclose(ys[k], eys)
    jh, jys = fg.jit(rnn)(np.array(0.7), XS)
    eh, eys = rnn_py(0.7, XS)
    assert np.allclose(jh, eh) and np.allclose(jys, eys)
    assert np.allclose(fg.grad(fg.jit(loss))(np.array(0.7)), fd(loss_py, 0.7))
    assert np.allclose(fg.vmap(fg.grad(loss))(ws), [fd(loss_py, w) for w in ws])


def test_scan_carry_change_is_an_error():
    with pytest.raises(ControlFlowTypeError, match="dtype"):
        lax.scan(lambda c, x: (c.astype(np.float32), x), np.array(0.0), np.ones(2))


# --- while_loop --------------------------------------------------------------------------------


def grow(x):
    # doubles x until it exceeds 10: a data-dependent trip count
    return lax.while_loop(lambda c: c[1] < 10.0, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))


def grow_py(x):
    k = 0
    while x < 10.0:
        k, x = k + 1, x * 2.0
    return k, x


@pytest.mark.parametrize("x", [0.3, 1.0, 7.0, 12.0])
def test_while_loop_eager_grad_jvp(x):
    k, v = grow(x)
    ek, ev = grow_py(x)
    assert k == ek and np.allclose(v, ev)
    assert np.allclose(fg.grad(lambda x: grow(x)[1])(x), 2.0 ** ek)
    _, t = fg.jvp(lambda x: grow(x)[1], (np.array(x),), (np.array(1.0),))
    assert np.allclose(t, 2.0 ** ek)


def test_while_loop_vmap_batched_predicate():
    xs = np.array([0.3, 1.0, 7.0, 12.0])
    ks, vs = fg.vmap(grow)(xs)
    expected = [grow_py(x) for x in xs]
    assert np.array_equal(ks, [e[0] for e in expected])
    assert np.allclose(vs, [e[1] for e in expected])
    g = fg.vmap(fg.grad(lambda x: grow(x)[1]))(xs)
    assert np.allclose(g, [2.0 ** e[0] for e in expected])
    g2 = fg.grad(lambda xs: fnp.sum(fg.vmap(grow)(xs)[1]))(xs)
    assert np.allclose(g2, [2.0 ** e[0] for e in expected])


def test_while_loop_jit_data_dependent_trip_count_one_equation():
    jf = fg.jit(grow)
    for x in [0.3, 1.0, 7.0, 12.0]:
        k, v = jf(np.array(x))
        ek, ev = grow_py(x)
        assert k == ek and np.allclose(v, ev)
    assert jf.cache_info().misses == 1 and jf.cache_info().hits == 3
    prog = fg.make_trace(grow)(np.array(1.0))
    assert sum(e.prim.name == "while_loop" for e in prog.eqns) == 1


def test_while_loop_jit_closure_over_traced_values():
    def f(x, n, scale):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * x + scale), (0, 0.0))[1]

    def f_py(x, n, scale):
        v = 0.0
        for _ in range(n):
            v = v * x + scale
        return v

    jf = fg.jit(f)
    for n in [0, 3, 6]:
        assert np.allclose(jf(np.array(1.5), np.array(n), np.array(0.5)), f_py(1.5, n, 0.5))


def test_while_loop_jit_and_vmap_compose():
    xs = np.array([0.3, 1.0, 7.0, 12.0])
    expected = [grow_py(x) for x in xs]
    for g in (fg.jit(fg.vmap(grow)), fg.vmap(fg.jit(grow))):
        ks, vs = g(xs)
        assert np.array_equal(ks, [e[0] for e in expected])
        assert np.allclose(vs, [e[1] for e in expected])


@pytest.mark.parametrize("x", [0.3, 1.0, 7.0, 12.0])
def test_while_loop_staged_derivatives_with_a_data_dependent_trip_count(x):
    # d/dx of x * 2**k(x) is 2**k(x): the trip count k depends on x, and is recorded.
    ek = grow_py(x)[0]
    assert np.allclose(fg.grad(lambda x: fg.jit(grow)(x)[1])(np.array(x)), 2.0 ** ek)
    assert np.allclose(fg.jit(fg.grad(lambda x: grow(x)[1]))(np.array(x)), 2.0 ** ek)
    _, t = fg.jvp(lambda x: fg.jit(grow)(x)[1], (np.array(x),), (np.array(1.0),))
    assert np.allclose(t, 2.0 ** ek)


def test_while_loop_carry_changes_are_errors():
    with pytest.raises(ControlFlowTypeError, match="dtype"):
        lax.while_loop(lambda c: c < 3, lambda c: (c + 1).astype(np.float32), np.array(0.0))
    with pytest.raises(ControlFlowTypeError, match="tree structure"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: c[0] + 1, (0, 1.0))
    with pytest.raises(ControlFlowTypeError, match="shape"):
        fg.jit(lambda x: lax.while_loop(lambda c: fnp.sum(c) < 3, lambda c: fnp.stack([c, c]), x))(np.array(0.0))
    with pytest.raises(ControlFlowTypeError, match="scalar"):
        fg.jit(lambda x: lax.while_loop(lambda c: c < 3, lambda c: c + 1, x))(np.zeros(2))
