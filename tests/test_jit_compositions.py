"""jit composed with every other transformation, each against the eager result (and, for the
higher derivatives, against finite differences), with non-uniform cotangents and tangents.

Also checks that under grad(jit(f)) the forward and backward passes run compiled programs that
are derived once and cached on the jitted entry, not re-interpreted primitive by primitive.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import core
from funcgrad import tree_util as tu
from funcgrad.ir import validate
from funcgrad.scipy.special import logsumexp

RNG = np.random.default_rng(42)
W = RNG.standard_normal((3, 4))  # a closed-over constant
X = RNG.standard_normal(3)


def close(got, want, tol=1e-12):
    got_leaves, want_leaves = tu.tree_leaves(got), tu.tree_leaves(want)
    assert tu.tree_structure(got) == tu.tree_structure(want)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def fd_grad(f, x, eps=1e-6):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# --- the table of functions: scalar-valued (for grad) and array-valued (for vjp/jvp) ---------------------


def mlp_loss(x):
    h = fnp.tanh(x @ W)
    return logsumexp(h) + 0.1 * fnp.sum(x ** 2)


def indexed(x):
    y = fnp.cumsum(x[::-1]) * x[0]
    return fnp.sum(fnp.maximum(y, 0.3) ** 2) + fnp.prod(fnp.sin(x))


def broadcasty(x):
    m = fnp.reshape(x, (3, 1)) * fnp.reshape(x, (1, 3))  # outer product by broadcasting
    return fnp.sum(fnp.exp(-m) / (1.0 + x)) + fnp.max(m)


def reductions(x):
    z = fnp.where(x > 0, x, 0.5 * x)
    return fnp.linalg.norm(z) * fnp.mean(fnp.cos(z)) - fnp.min(z)


SCALAR_FUNCS = [mlp_loss, indexed, broadcasty, reductions]


def vec_elementwise(x):
    return fnp.sin(x) * fnp.exp(-x) + x ** 2


def vec_matrix(x):
    return fnp.tanh(fnp.outer(x, x) @ W) * 2.0


def vec_concat(x):
    return fnp.concatenate([x[1:] * x[:-1], fnp.sqrt(x * x + 1.0)])


VECTOR_FUNCS = [vec_elementwise, vec_matrix, vec_concat]

scalar_funcs = pytest.mark.parametrize("f", SCALAR_FUNCS, ids=lambda f: f.__name__)
vector_funcs = pytest.mark.parametrize("f", VECTOR_FUNCS, ids=lambda f: f.__name__)


def random_like(x, seed):
    x = np.asarray(x)
    return np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)


# --- reverse mode -------------------------------------------------------------------------------------------


@scalar_funcs
def test_jit_of_grad(f):
    close(fg.jit(fg.grad(f))(X), fg.grad(f)(X))
    np.testing.assert_allclose(fg.grad(f)(X), fd_grad(f, X), rtol=1e-6, atol=1e-8)


@scalar_funcs
def test_jit_of_value_and_grad(f):
    close(fg.jit(fg.value_and_grad(f))(X), fg.value_and_grad(f)(X))


@scalar_funcs
def test_grad_of_jit(f):
    close(fg.grad(fg.jit(f))(X), fg.grad(f)(X))


@vector_funcs
def test_vjp_of_jit_and_its_pullback_called_twice(f):
    out, pullback = fg.vjp(f, X)
    jout, jpullback = fg.vjp(fg.jit(f), X)
    close(jout, out)
    ct1, ct2 = random_like(out, 1), random_like(out, 2)
    close(jpullback(ct1), pullback(ct1))
    close(jpullback(ct2), pullback(ct2))
    close(jpullback(ct1), pullback(ct1))  # and again: nothing consumed


def test_vjp_of_jit_with_pytree_input_and_output():
    def f(p):
        h = fnp.tanh(p["x"] @ p["w"])
        return {"h": h, "s": fnp.sum(h * p["x"][0])}

    p = {"x": X, "w": W}
    out, pullback = fg.vjp(f, p)
    jout, jpullback = fg.vjp(fg.jit(f), p)
    close(jout, out)
    ct = {"h": random_like(out["h"], 3), "s": np.array(-0.7)}
    close(jpullback(ct), pullback(ct))


def test_grad_of_jit_with_several_argnums_and_kwargs_closure():
    def f(x, w, scale):
        return fnp.sum(fnp.sin(x @ w) * scale)

    jf = fg.jit(f)
    close(fg.grad(jf, argnums=(0, 1, 2))(X, W, 1.5), fg.grad(f, argnums=(0, 1, 2))(X, W, 1.5))
    close(fg.grad(lambda w: jf(X, w, scale=0.5))(W), fg.grad(lambda w: f(X, w, 0.5))(W))


def test_grad_of_jit_with_static_argument():
    def f(x, n):
        for _ in range(n):
            x = fnp.sin(x) * 1.1
        return fnp.sum(x)

    jf = fg.jit(f, static_argnums=1)
    for n in (1, 3):
        close(fg.grad(jf)(X, n), fg.grad(f)(X, n))


def test_grad_of_jit_runs_compiled_code_derived_once():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.sum(fnp.sin(x) * fnp.exp(x))

    jf = fg.jit(f)
    g1 = fg.grad(jf)(X)
    entry = next(iter(jf.cache.values()))[0]
    fwd, bwd = entry.vjp_parts()
    n_res = len(fwd.program.outputs) - entry.n_out
    assert fwd.compiled.source.startswith("def ") and bwd.compiled.source.startswith("def ")
    assert entry.vjp_parts() == (fwd, bwd)  # derived once, cached on the entry
    assert n_res >= 1  # the forward program returns residuals for the backward one
    # the backward program computes the cotangent of x from cotangents and residuals only
    assert len(bwd.program.inputs) == len(entry.program.outputs) + n_res

    # Second call: no retrace, no re-derivation, and no primitive is interpreted (bound) at all
    # on the way: forward and backward run generated code.
    sin = core.primitives["sin"]
    impl, counted = sin.impl, []

    def counting_impl(*args, **params):
        counted.append(1)
        return impl(*args, **params)

    sin.impl = counting_impl
    try:
        g2 = fg.grad(jf)(X + 0.5)
        assert counted == [], "grad(jit(f)) re-interpreted sin instead of running compiled code"
        fg.grad(f)(X)  # the eager path does interpret it: the counter works
        assert counted
    finally:
        sin.impl = impl
    assert entry.vjp_parts()[0] is fwd
    assert jf.cache_info().misses == 1 and len(calls) == 2  # one trace, one eager call
    close(g1, fg.grad(f)(X))
    close(g2, fg.grad(f)(X + 0.5))


@scalar_funcs
def test_derived_programs_are_valid(f):
    """The forward, backward, jvp and batched programs derived from an entry are well formed."""
    jf = fg.jit(f)
    fg.grad(jf)(X)
    fg.jvp(jf, (X,), (np.ones(3),))
    fg.vmap(jf)(XS)
    entry = next(iter(jf.cache.values()))[0]
    fwd, bwd = entry.vjp_parts()
    programs = [entry.program, fwd.program, bwd.program, entry.jvp_entry().program]
    programs += [e.program for e in entry._batched.values()]
    assert len(programs) == 5
    for prog in programs:
        validate(prog)


def test_python_control_flow_under_jit_of_grad_is_a_concretization_error():
    def f(x):
        if fnp.sum(x) > 0:  # fine under grad alone
            return fnp.sum(x ** 2)
        return fnp.sum(x)

    np.testing.assert_array_equal(fg.grad(f)(np.ones(3)), np.full(3, 2.0))
    with pytest.raises(fg.ConcretizationError) as info:
        fg.jit(fg.grad(f))(np.ones(3))
    msg = str(info.value)
    assert "from x" in msg and "if fnp.sum(x) > 0:  # fine under grad alone" in msg and "static_argnums" in msg


def test_grad_of_jit_twice_does_not_retrace():
    jf = fg.jit(mlp_loss)
    for k in range(3):
        close(fg.grad(jf)(X + k), fg.grad(mlp_loss)(X + k))
    assert jf.cache_info().misses == 1
    assert jf.cache_info().hits == 2


# --- forward mode --------------------------------------------------------------------------------------


@vector_funcs
def test_jvp_of_jit(f):
    t = random_like(X, 4)
    close(fg.jvp(fg.jit(f), (X,), (t,)), fg.jvp(f, (X,), (t,)))


@vector_funcs
def test_jit_of_jvp(f):
    t = random_like(X, 5)
    jf = fg.jit(lambda x, t: fg.jvp(f, (x,), (t,)))
    close(jf(X, t), fg.jvp(f, (X,), (t,)))
    close(jf(X * 2, t), fg.jvp(f, (X * 2,), (t,)))
    assert jf.cache_info().misses == 1


def test_jvp_of_jit_entry_is_derived_once():
    jf = fg.jit(vec_elementwise)
    t = random_like(X, 6)
    fg.jvp(jf, (X,), (t,))
    entry = next(iter(jf.cache.values()))[0]
    jvp_entry = entry.jvp_entry()
    close(fg.jvp(jf, (X + 1,), (t,)), fg.jvp(vec_elementwise, (X + 1,), (t,)))
    assert entry.jvp_entry() is jvp_entry and jf.cache_info().misses == 1


def test_jvp_of_jit_with_an_integer_input():
    f = fg.jit(lambda x, i: x[i] * 2.0)
    i = np.array([2, 0])
    close(fg.jvp(lambda x: f(x, i), (X,), (np.ones(3),)), (X[i] * 2.0, np.full(2, 2.0)))


# --- nesting --------------------------------------------------------------------------------------------


@scalar_funcs
def test_jit_of_jit(f):
    close(fg.jit(fg.jit(f))(X), f(X))
    close(fg.jit(lambda x: fg.jit(f)(x) * 2.0)(X), f(X) * 2.0)
    close(fg.grad(fg.jit(fg.jit(f)))(X), fg.grad(f)(X))


def test_grad_of_grad_of_jit():
    def f(s):
        return fnp.sin(s) ** 3 * fnp.exp(0.3 * s)

    s = 0.7
    want = fg.grad(fg.grad(f))(s)
    close(fg.grad(fg.grad(fg.jit(f)))(s), want)
    d1 = fg.grad(f)
    fd = (float(d1(s + 1e-6)) - float(d1(s - 1e-6))) / 2e-6
    np.testing.assert_allclose(want, fd, rtol=1e-7)
    # third order, and jit at every level
    close(fg.grad(fg.grad(fg.grad(fg.jit(f))))(s), fg.grad(fg.grad(fg.grad(f)))(s))
    close(fg.jit(fg.grad(fg.jit(fg.grad(fg.jit(f)))))(s), want)


@scalar_funcs
def test_hessian_of_jit(f):
    close(fg.hessian(fg.jit(f))(X), fg.hessian(f)(X), tol=1e-10)


def test_hessian_vector_product_jvp_of_grad_of_jit():
    t = random_like(X, 8)
    want = fg.jvp(fg.grad(mlp_loss), (X,), (t,))
    close(fg.jvp(fg.grad(fg.jit(mlp_loss)), (X,), (t,)), want)
    close(fg.jit(lambda x, t: fg.jvp(fg.grad(mlp_loss), (x,), (t,)))(X, t), want)


# --- vmap ------------------------------------------------------------------------------------------------

XS = RNG.standard_normal((5, 3))


@vector_funcs
def test_vmap_of_jit(f):
    want = np.stack([f(x) for x in XS])
    close(fg.vmap(fg.jit(f))(XS), want)
    # batch along another axis, and a second call with the same batch size reuses the entry
    jf = fg.jit(f)
    close(fg.vmap(jf, in_axes=1)(XS.T), want)
    close(fg.vmap(jf, in_axes=1)(XS.T * 2), np.stack([f(x) for x in XS * 2]))
    assert jf.cache_info().misses == 1


@vector_funcs
def test_jit_of_vmap(f):
    want = np.stack([f(x) for x in XS])
    close(fg.jit(fg.vmap(f))(XS), want)


def test_vmap_of_jit_with_an_unbatched_argument():
    def f(x, w):
        return fnp.tanh(x @ w)

    close(fg.vmap(fg.jit(f), in_axes=(0, None))(XS, W), np.stack([f(x, W) for x in XS]))


@scalar_funcs
def test_jit_of_vmap_of_grad(f):
    want = np.stack([fg.grad(f)(x) for x in XS])
    close(fg.jit(fg.vmap(fg.grad(f)))(XS), want)
    close(fg.vmap(fg.grad(fg.jit(f)))(XS), want)
    close(fg.vmap(fg.jit(fg.grad(f)))(XS), want)


def test_grad_of_vmap_of_jit_with_nonuniform_cotangent():
    jf = fg.jit(vec_elementwise)
    ct = random_like(np.stack([vec_elementwise(x) for x in XS]), 9)
    want = fg.vjp(lambda xs: fg.vmap(vec_elementwise)(xs), XS)[1](ct)
    close(fg.vjp(fg.vmap(jf), XS)[1](ct), want)


def test_jit_closing_over_values_of_enclosing_transformations():
    """A jitted function closing over a vmap, jvp or outer-jit traced value gets it as an extra input."""
    x0 = np.array([0.5, -1.0, 2.0])
    ys = np.array([1.0, 2.0, -0.5])

    def f(y):
        return fg.jit(lambda x: fnp.sin(x * y))(x0)

    close(fg.vmap(f)(ys), np.stack([np.sin(x0 * y) for y in ys]))
    close(fg.jvp(f, (np.array(1.5),), (np.array(0.7),)), (np.sin(x0 * 1.5), np.cos(x0 * 1.5) * x0 * 0.7))
    close(fg.jit(f)(np.array(1.5)), np.sin(x0 * 1.5))
    inner_grad = fg.jit(lambda y: fg.grad(lambda s: fnp.sum(f(s)))(y))
    close(inner_grad(np.array(1.5)), np.sum(np.cos(x0 * 1.5) * x0))


# --- custom rules inside jit --------------------------------------------------------------------------------


@fg.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda res, ct: (fnp.clip(ct, -1.0, 1.0),))


def uses_custom(x):
    return fnp.sum(5.0 * clip_gradient(fnp.sin(x)) * x)


def test_custom_vjp_inside_jit_of_grad():
    want = fg.grad(uses_custom)(X)
    # the custom rule is really used: the natural gradient differs
    natural = fg.grad(lambda x: fnp.sum(5.0 * fnp.sin(x) * x))(X)
    assert not np.allclose(want, natural)
    close(fg.jit(fg.grad(uses_custom))(X), want)


def test_custom_vjp_inside_jit():
    close(fg.jit(uses_custom)(X), uses_custom(X))
    # a transformation inside jit reaches the custom function first and uses its rule
    close(fg.jit(lambda x: fg.vjp(uses_custom, x)[1](np.array(0.5)))(X), fg.vjp(uses_custom, X)[1](np.array(0.5)))


def test_grad_of_jit_uses_the_custom_vjp_rule():
    close(fg.grad(fg.jit(uses_custom))(X), fg.grad(uses_custom)(X))


def test_custom_jvp_inside_jit():
    @fg.custom_jvp
    def softplus(x):
        return fnp.logaddexp(0.0, x)

    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] * fg.scipy.special.expit(p[0])))
    close(fg.jit(lambda x: fnp.sum(softplus(x)))(X), np.sum(np.logaddexp(0.0, X)))


def test_stop_gradient_inside_jit():
    def f(x):
        return fnp.sum(x * fg.stop_gradient(x))

    close(fg.grad(fg.jit(f))(X), X)
    close(fg.jit(fg.grad(f))(X), X)
