"""Control flow as higher-order primitives (issue 8): every control-flow operation × {eager, jit}
× {grad, jvp, vjp, vmap, hessian, jit∘grad, grad∘jit, vmap∘grad}, checked against the same loop
written as a Python loop (differentiated by the tape) and against central finite differences;
structure of the staged programs (one equation per loop, residuals, one branch); and a registry
test that every higher-order primitive declares all its rules.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import core, lax
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(8)
W = RNG.standard_normal((3, 3)) * 0.5
X = np.array([0.3, -0.7, 0.45])
XB = RNG.standard_normal((4, 3)) * 0.5
CT = np.array([1.0, -0.5, 2.0, 0.25])
COEF = np.arange(1.0, 6.0)


def _rows(x):
    return fnp.reshape(COEF, (5, 1)) * x  # 5 steps of inputs derived from x


# Each case: (lax version, Python-loop version); both map x (3,) to a vector (4,).

def scan_lax(x, reverse=False, unroll=1):
    def step(h, r):
        h = fnp.tanh(W @ h + r)
        return h, fnp.sum(h * r)

    h, ys = lax.scan(step, fnp.zeros(3) + 0.1 * x, _rows(x), reverse=reverse, unroll=unroll)
    return fnp.concatenate([h, fnp.reshape(fnp.sum(ys * COEF), (1,))])


def scan_py(x, reverse=False, unroll=1):
    rows = _rows(x)
    h, ys = fnp.zeros(3) + 0.1 * x, [None] * 5
    for i in (range(4, -1, -1) if reverse else range(5)):
        h = fnp.tanh(W @ h + rows[i])
        ys[i] = fnp.sum(h * rows[i])
    return fnp.concatenate([h, fnp.reshape(fnp.sum(fnp.stack(ys) * COEF), (1,))])


def fori_lax(x):
    c = lax.fori_loop(0, 4, lambda i, c: fnp.sin(c) * x + 0.1 * i, x)
    return fnp.concatenate([c, fnp.reshape(fnp.sum(c), (1,))])


def fori_py(x):
    c = x
    for i in range(4):
        c = fnp.sin(c) * x + 0.1 * i
    return fnp.concatenate([c, fnp.reshape(fnp.sum(c), (1,))])


def fori_traced_lax(x):
    n = fnp.astype(fnp.sum(x * 0.0) + 3.0, np.int64)  # under jit: a traced bound (a while loop)
    c = lax.fori_loop(0, n, lambda i, c: fnp.sin(c) * x + 0.1 * i, x)
    return fnp.concatenate([c, fnp.reshape(fnp.sum(c), (1,))])


def fori_traced_py(x):
    c = x
    for i in range(3):
        c = fnp.sin(c) * x + 0.1 * i
    return fnp.concatenate([c, fnp.reshape(fnp.sum(c), (1,))])


def _grows(c):
    return fnp.sum(c * c) < 30.0


def while_lax(x, checkpoint=None):
    k, c = lax.while_loop(lambda kc: _grows(kc[1]), lambda kc: (kc[0] + 1, kc[1] * 1.3 + 0.2 * fnp.sin(x)),
                          (0, x + 1.0), checkpoint=checkpoint)
    return fnp.concatenate([c, fnp.reshape(fnp.sum(c) * k, (1,))])


def while_py(x, checkpoint=None):
    k, c = 0, x + 1.0
    while _grows(c):
        k, c = k + 1, c * 1.3 + 0.2 * fnp.sin(x)
    return fnp.concatenate([c, fnp.reshape(fnp.sum(c) * k, (1,))])


def cond_lax(x):
    y = lax.cond(fnp.sum(x) > 0, lambda v: fnp.sin(v) * v, lambda v: v ** 3, x)
    return fnp.concatenate([y, fnp.reshape(fnp.sum(y), (1,))])


def cond_py(x):
    y = fnp.sin(x) * x if fnp.sum(x) > 0 else x ** 3
    return fnp.concatenate([y, fnp.reshape(fnp.sum(y), (1,))])


def switch_lax(x):
    i = fnp.astype(fnp.sum(x) > 0, np.int64) + fnp.astype(fnp.sum(x) > 1, np.int64)
    y = lax.switch(i, [lambda v: v ** 2, lambda v: fnp.exp(v), lambda v: fnp.sin(v)], x)
    return fnp.concatenate([y, fnp.reshape(fnp.sum(y), (1,))])


def switch_py(x):
    i = int(fnp.sum(x) > 0) + int(fnp.sum(x) > 1)
    y = [lambda v: v ** 2, lambda v: fnp.exp(v), lambda v: fnp.sin(v)][i](x)
    return fnp.concatenate([y, fnp.reshape(fnp.sum(y), (1,))])


def map_lax(x):
    ys = lax.map(lambda r: fnp.tanh(W @ r), _rows(x))
    return fnp.concatenate([ys[-1], fnp.reshape(fnp.sum(ys), (1,))])


def map_py(x):
    ys = fnp.stack([fnp.tanh(W @ r) for r in _rows(x)])
    return fnp.concatenate([ys[-1], fnp.reshape(fnp.sum(ys), (1,))])


def assoc_lax(x):
    r = lax.associative_scan(fnp.multiply, fnp.concatenate([x, x * 0.5 + 1.0]))
    return r[2:]


def assoc_py(x):
    e = fnp.concatenate([x, x * 0.5 + 1.0])
    out, acc = [], None
    for k in range(6):
        acc = e[k] if acc is None else acc * e[k]
        out.append(acc)
    return fnp.stack(out)[2:]


def nested_lax(x):
    def outer(c, r):
        inner = lax.scan(lambda h, s: (fnp.sin(h * s), h), c, fnp.stack([r, r * 0.5]))[0]
        return inner, fnp.sum(inner)

    c, ys = lax.scan(outer, x, _rows(x)[:3])
    return fnp.concatenate([c, fnp.reshape(fnp.sum(ys), (1,))])


def nested_py(x):
    c, ys = x, []
    for r in _rows(x)[:3]:
        for s in (r, r * 0.5):
            c = fnp.sin(c * s)
        ys.append(fnp.sum(c))
    return fnp.concatenate([c, fnp.reshape(fnp.sum(fnp.stack(ys)), (1,))])


@fg.custom_vjp
def _scaled(v):
    return fnp.sin(v)


_scaled.defvjp(lambda v: (fnp.sin(v), fnp.cos(v)), lambda cos_v, ct: (cos_v * ct,))  # the true rule


def custom_in_scan_lax(x):
    h, ys = lax.scan(lambda h, r: (_scaled(h) + r, fnp.sum(h)), x, _rows(x))
    return fnp.concatenate([h, fnp.reshape(fnp.sum(ys), (1,))])


def custom_in_scan_py(x):
    h, ys = x, []
    for r in _rows(x):
        ys.append(fnp.sum(h))
        h = fnp.sin(h) + r
    return fnp.concatenate([h, fnp.reshape(fnp.sum(fnp.stack(ys)), (1,))])


def remat_scan_lax(x):
    return fg.checkpoint(lambda v: scan_lax(v))(x)


CASES = {
    "scan": (scan_lax, scan_py),
    "scan_reverse": (lambda x: scan_lax(x, reverse=True), lambda x: scan_py(x, reverse=True)),
    "scan_unroll2": (lambda x: scan_lax(x, unroll=2), scan_py),
    "fori_loop": (fori_lax, fori_py),
    "fori_loop_traced_bounds": (fori_traced_lax, fori_traced_py),
    "while_loop": (while_lax, while_py),
    "while_loop_sqrt": (lambda x: while_lax(x, "sqrt"), while_py),
    "cond": (cond_lax, cond_py),
    "switch": (switch_lax, switch_py),
    "map": (map_lax, map_py),
    "associative_scan": (assoc_lax, assoc_py),
    "nested_scan": (nested_lax, nested_py),
    "custom_vjp_in_scan": (custom_in_scan_lax, custom_in_scan_py),
    "checkpointed_scan": (remat_scan_lax, scan_py),
}

# Loops whose trip count is data-dependent under jit (a staged while loop).
STAGED_WHILE = {"while_loop", "while_loop_sqrt", "fori_loop_traced_bounds"}


def loss_of(f):
    return lambda x: fnp.sum(f(x) * CT)


T = np.array([0.2, -1.0, 0.7])


def transformed(mode, f):
    """(the transformation of ``f`` as a function of arrays, its arguments)."""
    loss = loss_of(f)
    return {
        "grad": (lambda x: fg.grad(loss)(x), (X,)),
        "jvp": (lambda x, t: fg.jvp(f, (x,), (t,)), (X, T)),
        "vjp": (lambda x, ct: fg.vjp(f, x)[1](ct), (X, CT)),
        "vmap": (lambda xb: fg.vmap(f)(xb), (XB,)),
        "hessian": (lambda x: fg.hessian(loss)(x), (X,)),
        "vmap_grad": (lambda xb: fg.vmap(fg.grad(loss))(xb), (XB,)),
    }[mode]


MODES = ["grad", "jvp", "vjp", "vmap", "hessian", "vmap_grad"]


def reference(mode, f_py):
    """The same transformation of the Python loop; vmap as a Python loop over the examples (a
    Python loop cannot branch on a batched value)."""
    loss = loss_of(f_py)
    if mode == "vmap":
        return np.stack([np.asarray(f_py(x)) for x in XB])
    if mode == "vmap_grad":
        return np.stack([fg.grad(loss)(x) for x in XB])
    fn, args = transformed(mode, f_py)
    return fn(*args)


def close(a, b, rtol=1e-9, atol=1e-10):
    la, lb = fg.tree_util.tree_leaves(a), fg.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_eager_against_python_loop(case, mode):
    f, f_py = CASES[case]
    fn, args = transformed(mode, f)
    close(fn(*args), reference(mode, f_py))


@pytest.mark.parametrize("mode", MODES + ["grad_of_jit"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_jit_against_python_loop(case, mode):
    f, f_py = CASES[case]
    if mode == "grad_of_jit":  # grad∘jit; the other modes are jit∘mode
        close(fg.grad(fg.jit(loss_of(f)))(X), reference("grad", f_py))
        return
    fn, args = transformed(mode, f)
    jf = fg.jit(fn)
    if case in STAGED_WHILE and mode == "vmap_grad":
        # per-example trip counts: also as the gradient of a sum over the batch
        loss = loss_of(f)
        g = fg.jit(fg.grad(lambda xb: fnp.sum(fg.vmap(loss)(xb))))
        close(g(XB), reference(mode, f_py))
    close(jf(*args), reference(mode, f_py))
    assert jf.cache_info().misses == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_against_finite_differences(case):
    f = CASES[case][0]
    loss = loss_of(f)
    v = np.array([0.4, 0.1, -0.9])
    eps = 1e-6
    fd = (loss(X + eps * v) - loss(X - eps * v)) / (2 * eps)
    for g in (fg.grad(loss), fg.jit(fg.grad(loss)), fg.grad(fg.jit(loss))):
        np.testing.assert_allclose(np.dot(g(X), v), fd, rtol=1e-6, atol=1e-8)


# --- structure of the staged programs ------------------------------------------------------------


def _count(program, name):
    return sum(e.prim.name == name for e in program.eqns)


def rnn_loss(w, xs):
    def step(h, x):
        h = fnp.tanh(w @ h + x)
        return h, fnp.sum(h)

    h, ys = lax.scan(step, fnp.zeros(w.shape[0]), xs)
    return fnp.sum(h) + fnp.sum(ys)


def test_jit_grad_of_scan_is_not_unrolled():
    w = RNG.standard_normal((4, 4)) * 0.3
    progs = [fg.jit(fg.grad(rnn_loss)).lower(w, RNG.standard_normal((n, 4))).program for n in (3, 300)]
    assert len(progs[0].eqns) == len(progs[1].eqns)  # independent of the length
    assert _count(progs[1], "scan") == 2  # a forward scan and a backward scan
    assert "tanh" not in [e.prim.name for e in progs[1].eqns]  # only inside the bodies
    text = str(fg.make_trace(fg.grad(rnn_loss))(w, RNG.standard_normal((3, 4))))
    assert "body={ lambda" in text and text.count("scan[") == 2


def test_scan_reverse_mode_stacks_only_needed_residuals():
    w = RNG.standard_normal((4, 4)) * 0.3
    prog = fg.make_trace(fg.grad(rnn_loss))(w, RNG.standard_normal((7, 4)))
    fwd = next(e for e in prog.eqns if e.prim.name == "scan")
    stacked = [o.aval.shape for o in fwd.outs[1:]]
    # ys (7,), then per step: 1 - h**2 and the carry going in, each (7, 4); w.T is loop invariant:
    # computed once outside the loop, never stacked as (7, 4, 4).
    assert (7, 4, 4) not in stacked and len(stacked) == 3
    assert _count(prog, "jit_call") == 1  # the invariant part, w.T


def test_grad_of_scan_matches_hand_written_backward():
    w = RNG.standard_normal((4, 4)) * 0.3
    xs = RNG.standard_normal((6, 4))
    hs, h = [np.zeros(4)], np.zeros(4)
    for x in xs:
        h = np.tanh(w @ h + x)
        hs.append(h)
    gw, gh = np.zeros_like(w), np.zeros(4)
    for t in range(6, 0, -1):
        gh = gh + 1.0 + (1.0 if t == 6 else 0.0)
        ga = gh * (1 - hs[t] ** 2)
        gw += np.outer(ga, hs[t - 1])
        gh = w.T @ ga
    np.testing.assert_allclose(fg.jit(fg.grad(rnn_loss))(w, xs), gw, rtol=1e-12)


def test_cond_under_jit_runs_only_the_taken_branch():
    # The untaken branch is log(x) at a negative x: nan in value and gradient if it ran.
    f = lambda x: lax.cond(x > 0, lambda v: fnp.log(v), lambda v: v * 2.0, x)  # noqa: E731
    with np.errstate(all="raise"):  # a nan/inf computed anywhere would raise
        assert fg.jit(fg.grad(f))(np.array(-1.0)) == 2.0
        assert fg.grad(fg.jit(f))(np.array(-1.0)) == 2.0
        assert fg.jvp(fg.jit(f), (np.array(-1.0),), (np.array(1.0),))[1] == 2.0
        assert fg.jit(f)(np.array(-3.0)) == -6.0
    assert _count(fg.make_trace(f)(np.array(1.0)), "cond") == 1


def test_while_loop_reverse_mode_under_jit_and_checkpointing():
    def f(x, checkpoint=None):
        return lax.while_loop(lambda c: c[0] < 1000.0, lambda c: (c[0] * 1.01 + 1.0, c[1] * fnp.cos(c[0] * 1e-3)),
                              (x, x), checkpoint=checkpoint)[1]

    for ck in (None, "sqrt"):
        g = fg.jit(fg.grad(lambda x: f(x, ck)))
        eps = 1e-6
        fd = (f(np.array(2.0 + eps)) - f(np.array(2.0 - eps))) / (2 * eps)
        # the trip count is locally constant in x here, so finite differences apply
        np.testing.assert_allclose(g(np.array(2.0)), fd, rtol=1e-6)
        np.testing.assert_allclose(fg.grad(fg.jit(lambda x: f(x, ck)))(np.array(2.0)), fd, rtol=1e-6)


def test_float32_carries_stay_float32():
    x = np.ones(3, np.float32)
    c, ys = fg.jit(lambda x: lax.scan(lambda c, r: (c * r, c + r), x, fnp.stack([x, x])))(x)
    assert c.dtype == np.float32 and ys.dtype == np.float32
    g = fg.jit(fg.grad(lambda x: fnp.sum(lax.scan(lambda c, r: (fnp.sin(c) * r, c), x, fnp.stack([x, x]))[0])))(x)
    assert g.dtype == np.float32
    w = fg.jit(lambda x: lax.while_loop(lambda c: fnp.sum(c) < 10, lambda c: c * 2.0, x))(x)
    assert w.dtype == np.float32


def test_pytree_carries_and_xs_and_length_without_xs():
    def f(x):
        (a, b), ys = lax.scan(lambda c, r: ((c[0] + r["u"], c[1] * r["v"]), {"s": c[0] * c[1]}),
                              (x, x), {"u": _rows(x), "v": _rows(x) * 0.1})
        return fnp.sum(a) + fnp.sum(b) + fnp.sum(ys["s"])

    def f_py(x):
        a, b, s = x, x, 0.0
        for r in _rows(x):
            s = s + fnp.sum(a * b)
            a, b = a + r, b * (r * 0.1)
        return fnp.sum(a) + fnp.sum(b) + s

    close(fg.jit(fg.grad(f))(X), fg.grad(f_py)(X))
    c, ys = fg.jit(lambda x: lax.scan(lambda c, _: (c * 2.0, c), x, None, length=4))(X)
    close((c, ys), (X * 16, np.stack([X, X * 2, X * 4, X * 8])))


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_reverse_associative_scan_of_a_non_commutative_op_combines_as_jax_documents(n, axis):
    # JAX: for elems [..., x, y, z] and reverse=True the result is [..., f(f(z, y), x), f(z, y), z]
    # (the scan of the flipped elements, flipped back); the later element is fn's first argument.
    # The affine maps (a, b): t -> a t + b composed by op do not commute.
    from funcgrad.test_util import check_grads

    def op(p, q):
        return p[0] * q[0], p[1] * q[0] + q[1]

    def lax_version(e):
        a, b = lax.associative_scan(op, (fnp.tanh(e), e * 0.5), reverse=True, axis=axis)
        return fnp.concatenate([fnp.ravel(a), fnp.ravel(b * b)])

    def python_version(e):
        a_all, b_all = fnp.moveaxis(fnp.tanh(e), axis, 0), fnp.moveaxis(e * 0.5, axis, 0)
        acc, a_out, b_out = None, [], []
        for k in range(n - 1, -1, -1):
            acc = (a_all[k], b_all[k]) if acc is None else op(acc, (a_all[k], b_all[k]))
            a_out.insert(0, acc[0])
            b_out.insert(0, acc[1])
        a, b = fnp.moveaxis(fnp.stack(a_out), 0, axis), fnp.moveaxis(fnp.stack(b_out), 0, axis)
        return fnp.concatenate([fnp.ravel(a), fnp.ravel(b * b)])

    e = np.moveaxis(RNG.standard_normal((n, 2, 3)), 0, axis)
    close(lax_version(e), python_version(e))
    close(fg.jit(lax_version)(e), python_version(e))
    close(fg.jacrev(lax_version)(e), fg.jacrev(python_version)(e))
    close(fg.vmap(fg.jit(lax_version), in_axes=2 if axis != -1 else 1)(np.stack([e, -e], axis=2 if axis != -1 else 1)),
          np.stack([python_version(e), python_version(-e)]))
    check_grads(lax_version, (e,), order=2)
    # the documented three-element case with matrix products: [C @ B @ A, C @ B, C]
    m = RNG.standard_normal((3, 2, 2))
    close(lax.associative_scan(fnp.matmul, m, reverse=True), np.stack([m[2] @ m[1] @ m[0], m[2] @ m[1], m[2]]))


# --- the registry ---------------------------------------------------------------------------------


def test_every_higher_order_primitive_has_all_its_rules():
    from funcgrad.prims import import_all_primitives

    import_all_primitives()  # registers the loop primitives (funcgrad.control loads with funcgrad.lax)
    names = set(core.higher_order_primitives)
    assert {"jit_call", "scan", "while_loop", "cond", "custom_vjp_call", "custom_jvp_call"} <= names
    for name, prim in core.higher_order_primitives.items():
        assert prim.multiple_results, name
        for rule in ("impl", "abstract_eval", "jvp_all", "vjp_all", "batch"):
            assert callable(getattr(prim, rule)), f"{name} has no {rule}"


# --- custom rules and checkpoint around and inside loops ------------------------------------------


def _softplus_jvp():
    @fg.custom_jvp
    def softplus(x):
        return fnp.logaddexp(0.0, x)

    softplus.defjvp(lambda p, t: (softplus(p[0]), 3.0 * t[0] / (1.0 + fnp.exp(-p[0]))))  # 3x the truth
    return softplus


def test_custom_jvp_under_vmap_and_inside_a_scan_body():
    # Known failure of the previous design: RecursionError in both places.
    sp = _softplus_jvp()
    xs = np.array([-1.0, 0.0, 2.0])
    sig = 1.0 / (1.0 + np.exp(-xs))
    np.testing.assert_allclose(fg.vmap(sp)(xs), np.logaddexp(0.0, xs), rtol=1e-14)
    np.testing.assert_allclose(fg.vmap(fg.grad(sp))(xs), 3.0 * sig, rtol=1e-14)

    def loop(x):
        return lax.scan(lambda c, x: (c + sp(x), sp(x)), 0.0, x)[0]

    for g in (fg.grad(loop), fg.jit(fg.grad(loop)), fg.grad(fg.jit(loop))):
        np.testing.assert_allclose(g(xs), 3.0 * sig, rtol=1e-14)


def test_checkpoint_of_a_scan_and_custom_vjp_inside_a_while_body():
    # Known failure of the previous design: CustomRuleError "expected 2" for a remat scan.
    g = fg.checkpoint(lambda x: lax.scan(lambda c, x: (c * x, c), 1.0, x)[0])
    x = np.arange(1.0, 4.0)
    for d in (fg.grad(g), fg.jit(fg.grad(g)), fg.grad(fg.jit(g))):
        np.testing.assert_allclose(d(x), [6.0, 3.0, 2.0], rtol=1e-14)

    calls = []

    @fg.custom_vjp
    def halve(v):
        return v * 0.5

    def bwd(_, ct):
        calls.append(1)
        return (ct * 5.0,)  # deliberately not the true derivative (0.5)

    halve.defvjp(lambda v: (v * 0.5, None), bwd)
    f = lambda x: lax.while_loop(lambda c: c[0] < x[0] * 0.0 + 3.0,  # noqa: E731
                                 lambda c: (c[0] + 1.0, halve(c[1])), (x[0] * 0.0, x))[1]
    np.testing.assert_allclose(fg.jit(fg.jacrev(f))(X), np.eye(3) * 125.0, rtol=1e-14)
    assert calls  # the user's bwd was used


def _hvp_fd(g, x, v, eps=1e-5):
    """Central finite difference of the gradient ``g`` along ``v``."""
    return (np.asarray(g(x + eps * v)) - np.asarray(g(x - eps * v))) / (2 * eps)


@pytest.mark.parametrize("case", sorted(STAGED_WHILE))
def test_staged_while_second_order(case):
    # The trip count depends on the data (piecewise constant): second derivatives of every
    # composition agree with the same loop written as a Python loop, and with finite
    # differences of the gradient (X is away from the points where the trip count changes).
    f, f_py = CASES[case]
    loss, loss_py = loss_of(f), loss_of(f_py)
    t = np.array([0.5, -1.0, 0.25])
    got = fg.jit(lambda x, t: fg.jvp(fg.grad(loss), (x,), (t,)))(X, t)
    close(got, fg.jvp(fg.grad(loss_py), (X,), (t,)))
    want_h = fg.hessian(loss_py)(X)
    np.testing.assert_allclose(want_h @ t, _hvp_fd(fg.grad(loss_py), X, t), rtol=1e-6, atol=1e-7)
    sq = lambda g: lambda x: fnp.sum(g(x) * T) ** 2  # noqa: E731 - a scalar of the gradient
    want_gg = fg.grad(sq(fg.grad(loss_py)))(X)
    # reverse over reverse, jitted at every level
    close(fg.jit(fg.grad(sq(fg.grad(loss))))(X), want_gg)
    close(fg.grad(sq(fg.grad(fg.jit(loss))))(X), want_gg)
    close(fg.grad(fg.jit(sq(fg.grad(loss))))(X), want_gg)
    close(fg.jit(fg.grad(sq(fg.jit(fg.grad(loss)))))(X), want_gg)
    # hessians: forward over reverse and reverse over reverse, inside and outside jit
    for h in (fg.jit(fg.hessian(loss)), fg.hessian(fg.jit(loss)), fg.jit(fg.jacrev(fg.grad(loss))),
              fg.jacrev(fg.grad(fg.jit(loss))), fg.jacfwd(fg.grad(fg.jit(loss)))):
        close(h(X), want_h, rtol=1e-8)
    np.testing.assert_allclose(fg.jit(fg.jacrev(fg.grad(loss)))(X) @ t, _hvp_fd(fg.jit(fg.grad(loss)), X, t),
                               rtol=1e-6, atol=1e-7)
    # under vmap each example has its own trip count: the finished ones are frozen in every loop
    want_b = np.stack([fg.grad(sq(fg.grad(loss_py)))(x) for x in XB])
    close(fg.jit(fg.vmap(fg.grad(sq(fg.grad(loss)))))(XB), want_b)
    close(fg.vmap(fg.grad(sq(fg.grad(fg.jit(loss)))))(XB), want_b)


def test_second_order_through_a_checkpointed_tape_that_is_not_differentiated():
    # d/ds of grad_x(s * loss(x)): the loop's forward pass does not depend on s, so its tape stays
    # checkpointed (carries every stride steps); only the backward loop is differentiated, and it
    # expands the tape step by step first.
    f = CASES["while_loop_sqrt"][0]
    loss = loss_of(f)
    want = np.dot(fg.grad(loss_of(CASES["while_loop_sqrt"][1]))(X), T)
    g = lambda s, x: fnp.sum(fg.grad(lambda x: s * loss(x))(x) * T)  # noqa: E731
    for d in (fg.jit(fg.grad(g)), fg.grad(fg.jit(g))):
        np.testing.assert_allclose(d(1.5, X), want, rtol=1e-10)


def test_staged_while_third_order_and_invariants():
    # A loop whose body reads a traced invariant (w) and an integer carry; grad of grad of grad
    # (every level jitted) against the Python loop; the trip count depends on w.
    def loop(w, x, py=False):
        body = lambda c: (c[0] + 1, fnp.tanh(w @ c[1]) + 0.3 * x)  # noqa: E731
        cond = lambda c: fnp.sum(c[1] ** 2) + c[0] < 8.0  # noqa: E731
        if py:
            c = (0, x)
            while cond(c):
                c = body(c)
            return c[1]
        return lax.while_loop(cond, body, (0, x))[1]

    x = np.array([0.2, -0.4, 0.9])
    l3 = lambda py: lambda w: fnp.sum(fg.grad(lambda w: fnp.sum(  # noqa: E731
        fg.grad(lambda w: fnp.sum(loop(w, x, py) * CT[:3]))(w) ** 2))(w) * W)
    assert int(lax.while_loop(lambda c: fnp.sum(c[1] ** 2) + c[0] < 8.0,
                              lambda c: (c[0] + 1, fnp.tanh(W @ c[1]) + 0.3 * x), (0, x))[0]) > 3
    want = fg.grad(l3(True))(W)
    close(fg.jit(fg.grad(l3(False)))(W), want, rtol=1e-8)
    # forward over reverse over reverse
    t = RNG.standard_normal((3, 3))
    close(fg.jit(lambda w, t: fg.jvp(l3(False), (w,), (t,)))(W, t), fg.jvp(l3(True), (W,), (t,)), rtol=1e-8)


def test_counter_while_loop_under_jit_is_staged_not_unrolled():
    # The predicate starts concrete (a Python counter), the carry is abstract: still one equation.
    def f(x, n=500):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, fnp.sin(c[1]) * 0.9 + x), (0, x))[1]

    def f_py(x, n=500):
        c = x
        for _ in range(n):
            c = fnp.sin(c) * 0.9 + x
        return c

    prog = fg.make_trace(f)(X)
    assert [e.prim.name for e in prog.eqns] == ["while_loop"]
    close(fg.jit(f)(X), f_py(X))
    close(fg.jit(fg.grad(lambda x: fnp.sum(f(x))))(X), fg.grad(lambda x: fnp.sum(f_py(x)))(X))
    assert np.array_equal(fg.jit(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0),
                                                          (0, x)))(X)[1], X * 8)


# --- vmap of second derivatives of a staged while loop: per-example trip counts ------------------

def _trip_loop(x, checkpoint=None):
    """A loop whose trip count, ceil(1 + 2|x|^2), depends on the example."""
    kw = {} if checkpoint is None else {"checkpoint": checkpoint}
    c = lax.while_loop(lambda c: c[1] < 1.0 + 2.0 * fnp.sum(x * x),
                       lambda c: (fnp.sin(W @ c[0]) * c[0] + x, c[1] + 1), (x, 0), **kw)[0]
    return fnp.sum(c * CT[:3])


def _trip_loop_py(x, trips):
    c = x
    for _ in range(trips):
        c = fnp.sin(W @ c) * c + x
    return fnp.sum(c * CT[:3])


XT = np.array([[0.3, -0.2, 0.1], [-0.5, 0.4, 0.35], [0.6, 0.5, -0.7], [0.1, 0.05, -0.2]])
TRIPS = [int(np.ceil(1.0 + 2.0 * np.sum(x * x))) for x in XT]


def _per_example_hessians():
    """Hessians of the same loop written as a Python loop with each example's trip count,
    checked against central finite differences of its gradient."""
    hs = []
    for x, n in zip(XT, TRIPS):
        h = fg.hessian(lambda x: _trip_loop_py(x, n))(x)
        g = fg.grad(lambda x: _trip_loop_py(x, n))
        np.testing.assert_allclose(h, np.stack([_hvp_fd(g, x, e) for e in np.eye(3)]), rtol=1e-6, atol=1e-7)
        hs.append(h)
    return np.stack(hs)


@pytest.mark.parametrize("checkpoint", [None, "sqrt"])
def test_vmap_of_hessian_of_staged_while_with_per_example_trip_counts(checkpoint):
    # Previously: IndexError (a tape recorded by a loop batched twice, by vmap and by the
    # basis vmap of jacfwd, had the shape of one batch level only).
    assert len(set(TRIPS)) == 3  # the examples run 2, 3 and 4 steps
    want = _per_example_hessians()
    loss = lambda x: _trip_loop(x, checkpoint)  # noqa: E731
    for name, h in {
        "vmap∘hessian∘jit": fg.vmap(fg.hessian(fg.jit(loss))),
        "jit∘vmap∘hessian": fg.jit(fg.vmap(fg.hessian(loss))),
        "vmap∘jit∘hessian": fg.vmap(fg.jit(fg.hessian(loss))),
        "jit∘vmap∘jacfwd∘grad": fg.jit(fg.vmap(fg.jacfwd(fg.grad(loss)))),
        # reverse over reverse: jacrev's vmap over the cotangents inside the vmap over examples
        "vmap∘jacrev∘grad∘jit": fg.vmap(fg.jacrev(fg.grad(fg.jit(loss)))),
        "jit∘vmap∘jacrev∘grad": fg.jit(fg.vmap(fg.jacrev(fg.grad(loss)))),
    }.items():
        np.testing.assert_allclose(h(XT), want, rtol=1e-9, atol=1e-10, err_msg=name)
    # nested vmap: the trip counts differ along both batch axes
    xt2 = XT[[0, 2, 1, 3]].reshape(2, 2, 3)
    want2 = want[[0, 2, 1, 3]].reshape(2, 2, 3, 3)
    close(fg.vmap(fg.vmap(fg.hessian(fg.jit(loss))))(xt2), want2, rtol=1e-9, atol=1e-10)
    close(fg.jit(fg.vmap(fg.vmap(fg.hessian(loss))))(xt2), want2, rtol=1e-9, atol=1e-10)
    # the per-example hessian as jacfwd of a vmapped gradient (block diagonal)
    full = fg.jit(fg.jacfwd(fg.vmap(fg.grad(loss))))(XT)
    close(np.einsum("iaib->iab", full), want, rtol=1e-9, atol=1e-10)
    for i in range(4):
        full[i, :, i, :] = 0.0
    assert not np.any(full)  # an example's gradient does not depend on another example


def test_vmap_of_vmap_of_reverse_over_reverse_of_staged_while():
    want = _per_example_hessians()
    loss = fg.jit(_trip_loop)
    s = np.array([1.0, -2.0, 0.5])
    # an inner vmap that does not change the trip count (s scales the loss): supported
    got = fg.vmap(lambda x: fg.vmap(lambda s: fg.jacrev(fg.grad(lambda x: s * loss(x)))(x))(s))(XT)
    close(got, s[None, :, None, None] * want[:, None], rtol=1e-9, atol=1e-10)
    # the trip count batched at the inner level (these raised NotImplementedError before the
    # flags of every vmap level were read explicitly by the loops' bodies; more in test_control_nested)
    sq = lambda g: lambda x: fnp.sum(g(x) * T) ** 2  # noqa: E731
    close(fg.vmap(fg.vmap(fg.jacrev(fg.grad(loss))))(XT.reshape(2, 2, 3)), want.reshape(2, 2, 3, 3),
          rtol=1e-9, atol=1e-10)
    want_gg = np.stack([fg.grad(sq(fg.grad(lambda x, n=n: _trip_loop_py(x, n))))(x) for x, n in zip(XT, TRIPS)])
    close(fg.jit(fg.vmap(fg.vmap(fg.grad(sq(fg.grad(_trip_loop))))))(XT.reshape(2, 2, 3)), want_gg.reshape(2, 2, 3),
          rtol=1e-9, atol=1e-10)
    close(fg.vmap(lambda s: fg.vmap(fg.jacrev(fg.grad(lambda x: s * loss(x))))(XT))(s), s[:, None, None, None] * want,
          rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 10])
def test_lax_map_batch_size_equals_the_python_loop_and_differentiates(batch_size):
    def f(x):
        return {"a": fnp.sin(x["u"]) * fnp.sum(x["v"]), "b": x["u"] ** 2}

    xs = {"u": np.linspace(-1.0, 2.0, 7), "v": np.arange(14.0).reshape(7, 2) / 10}
    want = {k: np.stack([f({"u": xs["u"][i], "v": xs["v"][i]})[k] for i in range(7)]) for k in ("a", "b")}
    for got in (lax.map(f, xs, batch_size=batch_size), fg.jit(lambda t: lax.map(f, t, batch_size=batch_size))(xs)):
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-15, atol=0)

    def loss(u, v):
        out = lax.map(f, {"u": u, "v": v}, batch_size=batch_size)
        return fnp.sum(out["a"] ** 2) + fnp.sum(fnp.cos(out["b"]))

    check_grads(loss, (xs["u"], xs["v"]), order=2, modes=("fwd", "rev"))
    per_row = fg.vmap(lambda u: lax.map(lambda x: fnp.sin(x) * x, u, batch_size=batch_size))(np.ones((3, 5)))
    np.testing.assert_allclose(per_row, np.full((3, 5), np.sin(1.0)), rtol=1e-15)


def test_lax_map_batch_size_rejects_bad_values_and_mismatched_lengths():
    xs = np.arange(4.0)
    with pytest.raises(ValueError, match="at least 1"):
        lax.map(fnp.sin, xs, batch_size=0)
    for bad in (1.5, True, "2"):
        with pytest.raises(TypeError, match="batch_size must be a positive int"):
            lax.map(fnp.sin, xs, batch_size=bad)
    with pytest.raises(ValueError, match="same leading axis"):
        lax.map(lambda t: t[0] + t[1], (np.ones(3), np.ones(4)), batch_size=2)
