"""custom_vjp, custom_jvp, stop_gradient and checkpoint (issue 4 §3).

The user rules here are deliberately *not* the true derivative (scaled by 3, or clipped), so a
result can only match if the user's rule was called and its result used; calls are counted.
Expected values are closed forms or central finite differences.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree_util import tree_flatten

X = np.array([0.3, -1.2, 2.0])
CT = np.array([1.0, -2.0, 0.5])


def fd(f, x, t, eps=1e-6):
    return (np.asarray(f(x + eps * t)) - np.asarray(f(x - eps * t))) / (2 * eps)


# --- custom_vjp ----------------------------------------------------------------------------------


def make_scaled_sin_vjp():
    """sin with a backward rule that returns 3 * cos(x) * ct (three times the true derivative)."""
    calls = {"fwd": 0, "bwd": 0}

    @fg.custom_vjp
    def f(x):
        return fnp.sin(x)

    def fwd(x):
        calls["fwd"] += 1
        return fnp.sin(x), fnp.cos(x)

    def bwd(cos_x, ct):
        calls["bwd"] += 1
        return (3.0 * cos_x * ct,)

    f.defvjp(fwd, bwd)
    return f, calls


def test_custom_vjp_value_without_transformation():
    f, calls = make_scaled_sin_vjp()
    np.testing.assert_allclose(f(X), np.sin(X))
    assert calls == {"fwd": 0, "bwd": 0}


def test_custom_vjp_under_grad_uses_the_rule():
    f, calls = make_scaled_sin_vjp()
    g = fg.grad(lambda x: fnp.sum(f(x) * CT))(X)
    np.testing.assert_allclose(g, 3.0 * np.cos(X) * CT, rtol=1e-14)
    assert calls == {"fwd": 1, "bwd": 1}


def test_custom_vjp_under_vjp_with_a_non_uniform_cotangent():
    f, calls = make_scaled_sin_vjp()
    out, pullback = fg.vjp(f, X)
    np.testing.assert_allclose(out, np.sin(X))
    (g,) = pullback(CT)
    np.testing.assert_allclose(g, 3.0 * np.cos(X) * CT, rtol=1e-14)
    (g2,) = pullback(2.0 * CT)  # the pullback can be called again
    np.testing.assert_allclose(g2, 6.0 * np.cos(X) * CT, rtol=1e-14)
    assert calls == {"fwd": 1, "bwd": 2}


def test_custom_vjp_bwd_not_called_when_no_cotangent_arrives():
    f, calls = make_scaled_sin_vjp()
    fg.grad(lambda x: fnp.sum(x) + 0.0 * fnp.sum(fg.stop_gradient(f(x))))(X)
    assert calls["bwd"] == 0


def test_custom_vjp_under_jvp_differentiates_the_function_itself():
    # Documented behaviour (custom_vjp's docstring): forward mode ignores the reverse rule.
    f, calls = make_scaled_sin_vjp()
    out, t = fg.jvp(f, (X,), (CT,))
    np.testing.assert_allclose(out, np.sin(X))
    np.testing.assert_allclose(t, fd(np.sin, X, CT), rtol=1e-8)
    assert calls["bwd"] == 0


def test_custom_vjp_grad_of_grad_differentiates_the_bwd_rule():
    f, calls = make_scaled_sin_vjp()
    d1 = fg.grad(lambda x: f(x))
    d2 = fg.grad(d1)
    x = np.array(0.7)
    np.testing.assert_allclose(d1(x), 3.0 * np.cos(0.7), rtol=1e-14)
    np.testing.assert_allclose(d2(x), -3.0 * np.sin(0.7), rtol=1e-12)  # d/dx of the rule 3 cos(x)
    np.testing.assert_allclose(fg.hessian(lambda v: fnp.sum(f(v)))(X), np.diag(-3.0 * np.sin(X)), rtol=1e-12)


def test_custom_vjp_jvp_of_grad():
    f, _ = make_scaled_sin_vjp()
    _, t = fg.jvp(fg.grad(lambda x: fnp.sum(f(x))), (X,), (CT,))
    np.testing.assert_allclose(t, -3.0 * np.sin(X) * CT, rtol=1e-12)


def test_custom_vjp_under_vmap():
    f, calls = make_scaled_sin_vjp()
    xs = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(fg.vmap(f)(xs), np.sin(xs), rtol=1e-14)
    g = fg.vmap(fg.grad(lambda x: fnp.sum(f(x) * CT)))(xs)
    np.testing.assert_allclose(g, 3.0 * np.cos(xs) * CT, rtol=1e-14)
    # grad of a sum of vmap: the batched rule is used
    calls["bwd"] = 0
    g2 = fg.grad(lambda xs: fnp.sum(fg.vmap(f)(xs) * CT))(xs)
    np.testing.assert_allclose(g2, 3.0 * np.cos(xs) * CT, rtol=1e-14)
    assert calls["bwd"] >= 1
    # vmap with an unbatched argument next to a batched one
    h = fg.vmap(lambda a, b: fnp.sum(f(a) * b), in_axes=(None, 0))
    np.testing.assert_allclose(h(X, xs), (np.sin(X) * xs).sum(axis=1), rtol=1e-14)


def test_custom_vjp_with_pytree_arguments_and_outputs():
    calls = {"bwd": 0}

    @fg.custom_vjp
    def layer(p, x):
        return {"y": p["w"] @ x + p["b"], "s": fnp.sum(x)}

    def fwd(p, x):
        return layer(p, x), (p, x)

    def bwd(res, ct):
        calls["bwd"] += 1
        p, x = res
        # deliberately doubled
        gp = {"w": 2.0 * fnp.outer(ct["y"], x), "b": 2.0 * ct["y"]}
        gx = 2.0 * (p["w"].T @ ct["y"] + ct["s"])
        return gp, gx

    layer.defvjp(fwd, bwd)
    rng = np.random.default_rng(1)
    p = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    cy, cs = np.array([1.0, -3.0]), 0.25

    def loss(p, x):
        out = layer(p, x)
        return fnp.sum(out["y"] * cy) + cs * out["s"]

    gp, gx = fg.grad(loss, argnums=(0, 1))(p, x)
    np.testing.assert_allclose(gp["w"], 2.0 * np.outer(cy, x), rtol=1e-14)
    np.testing.assert_allclose(gp["b"], 2.0 * cy, rtol=1e-14)
    np.testing.assert_allclose(gx, 2.0 * (p["w"].T @ cy + cs), rtol=1e-14)
    assert calls["bwd"] == 1


def test_custom_vjp_nondiff_argnums():
    calls = {"bwd": 0}

    @fg.custom_vjp
    def apply(fn, x, scale):
        return fn(x) * scale

    def fwd(fn, x, scale):
        return apply(fn, x, scale), (x, scale)

    def bwd(fn, res, ct):
        calls["bwd"] += 1
        x, scale = res
        return (fn(x) * 0.0 + 5.0 * ct * scale, fnp.sum(ct * fn(x)))  # d/dx replaced by 5

    apply = fg.custom_vjp(apply.fun, nondiff_argnums=(0,))
    apply.defvjp(fwd, bwd)
    gx, gs = fg.grad(lambda x, s: fnp.sum(apply(fnp.tanh, x, s)), argnums=(0, 1))(X, np.array(2.0))
    np.testing.assert_allclose(gx, np.full(3, 10.0), rtol=1e-14)
    np.testing.assert_allclose(gs, np.sum(np.tanh(X)), rtol=1e-14)
    assert calls["bwd"] == 1
    # and under vmap
    gxs = fg.vmap(fg.grad(lambda x: fnp.sum(apply(fnp.sin, x, np.array(3.0)))))(np.ones((2, 3)))
    np.testing.assert_allclose(gxs, np.full((2, 3), 15.0))


def test_custom_vjp_bwd_may_return_none_for_an_argument():
    @fg.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, x), lambda x, ct: (ct * 7.0, None))
    gx, gy = fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(X, X)
    np.testing.assert_allclose(gx, np.full(3, 7.0))
    np.testing.assert_array_equal(gy, np.zeros(3))


def test_custom_vjp_float32():
    f, _ = make_scaled_sin_vjp()
    x = X.astype(np.float32)
    g = fg.grad(lambda v: fnp.sum(f(v)))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 3.0 * np.cos(x), rtol=1e-6)


def _bad_vjp(bwd):
    @fg.custom_vjp
    def my_special_fn(x, y):
        return x * y

    my_special_fn.defvjp(lambda x, y: (x * y, (x, y)), bwd)
    return my_special_fn


def test_bwd_returning_the_wrong_number_of_cotangents():
    f = _bad_vjp(lambda res, ct: (ct * res[1],))
    with pytest.raises(fg.CustomRuleError) as e:
        fg.grad(lambda x: fnp.sum(f(x, X)))(X)
    msg = str(e.value)
    assert "my_special_fn" in msg and "2" in msg and "1" in msg


def test_bwd_returning_a_bare_array_instead_of_a_tuple():
    f = _bad_vjp(lambda res, ct: ct * res[1])
    with pytest.raises(fg.CustomRuleError, match="my_special_fn.*tuple"):
        fg.grad(lambda x: fnp.sum(f(x, X)))(X)


def test_bwd_returning_the_wrong_shape():
    f = _bad_vjp(lambda res, ct: (ct * res[1], fnp.sum(ct)))
    with pytest.raises(fg.CustomRuleError) as e:
        fg.grad(lambda x: fnp.sum(f(x, X)))(X)
    msg = str(e.value)
    assert "my_special_fn" in msg and "argument 1" in msg and "()" in msg and "(3,)" in msg


def test_bwd_returning_the_wrong_dtype():
    f = _bad_vjp(lambda res, ct: (ct * res[1], (ct * res[0]).astype(np.float32)))
    with pytest.raises(fg.CustomRuleError) as e:
        fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(X, X)
    msg = str(e.value)
    assert "my_special_fn" in msg and "argument 1" in msg and "float32" in msg and "float64" in msg


def test_bwd_returning_the_wrong_tree_for_a_pytree_argument():
    @fg.custom_vjp
    def tree_fn(p):
        return p["a"] * 2.0

    tree_fn.defvjp(lambda p: (tree_fn(p), None), lambda res, ct: ({"b": ct},))
    with pytest.raises(fg.CustomRuleError, match="tree_fn.*argument 0"):
        fg.grad(lambda a: fnp.sum(tree_fn({"a": a})))(X)


def test_bwd_wrong_shape_inside_a_pytree_names_the_key_path():
    @fg.custom_vjp
    def tree_fn(p):
        return p["a"] * p["b"]

    tree_fn.defvjp(lambda p: (tree_fn(p), p), lambda p, ct: ({"a": ct * p["b"], "b": ct[:2]},))
    with pytest.raises(fg.CustomRuleError) as e:
        fg.grad(lambda a: fnp.sum(tree_fn({"a": a, "b": X})))(X)
    assert "tree_fn" in str(e.value) and "['b']" in str(e.value)


def test_fwd_not_returning_a_pair():
    @fg.custom_vjp
    def f(x):
        return x

    f.defvjp(lambda x: x, lambda res, ct: (ct,))
    with pytest.raises(fg.CustomRuleError, match="fwd of f.*pair"):
        fg.grad(lambda x: fnp.sum(f(x)))(X)


def test_missing_defvjp():
    @fg.custom_vjp
    def no_rule(x):
        return x

    with pytest.raises(fg.CustomRuleError, match=r"no_rule.*defvjp"):
        fg.grad(lambda x: fnp.sum(no_rule(x)))(X)


def test_traced_value_in_nondiff_argnums_is_an_error():
    f = fg.custom_vjp(lambda s, x: x * s, nondiff_argnums=(0,))
    f.defvjp(lambda s, x: (x * s, None), lambda s, res, ct: (ct * s,))
    with pytest.raises(fg.CustomRuleError, match="nondiff_argnums"):
        fg.grad(lambda x: fnp.sum(f(x, x)))(X)


# --- custom_jvp ----------------------------------------------------------------------------------


def make_scaled_sin_jvp():
    """sin with a jvp rule returning 3 * cos(x) * t."""
    calls = {"rule": 0}

    @fg.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def rule(primals, tangents):
        calls["rule"] += 1
        (x,), (t,) = primals, tangents
        return f(x), 3.0 * fnp.cos(x) * t

    return f, calls


def test_custom_jvp_under_jvp():
    f, calls = make_scaled_sin_jvp()
    out, t = fg.jvp(f, (X,), (CT,))
    np.testing.assert_allclose(out, np.sin(X))
    np.testing.assert_allclose(t, 3.0 * np.cos(X) * CT, rtol=1e-14)
    assert calls["rule"] == 1


def test_custom_jvp_under_grad_and_vjp_transposes_the_rule():
    f, calls = make_scaled_sin_jvp()
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(f(x) * CT))(X), 3.0 * np.cos(X) * CT, rtol=1e-14)
    assert calls["rule"] >= 1
    out, pullback = fg.vjp(f, X)
    np.testing.assert_allclose(pullback(CT)[0], 3.0 * np.cos(X) * CT, rtol=1e-14)
    np.testing.assert_allclose(pullback(-CT)[0], -3.0 * np.cos(X) * CT, rtol=1e-14)


def test_custom_jvp_nested():
    f, _ = make_scaled_sin_jvp()
    x = np.array(0.4)
    np.testing.assert_allclose(fg.grad(fg.grad(f))(x), -3.0 * np.sin(0.4), rtol=1e-12)
    _, t = fg.jvp(fg.grad(lambda v: fnp.sum(f(v))), (X,), (CT,))
    np.testing.assert_allclose(t, -3.0 * np.sin(X) * CT, rtol=1e-12)
    np.testing.assert_allclose(fg.jacfwd(fg.jacrev(lambda v: fnp.sum(f(v))))(X), np.diag(-3.0 * np.sin(X)),
                               rtol=1e-12)
    np.testing.assert_allclose(fg.jacrev(fg.jacfwd(lambda v: fnp.sum(f(v))))(X), np.diag(-3.0 * np.sin(X)),
                               rtol=1e-12)


def test_custom_jvp_under_vmap():
    f, calls = make_scaled_sin_jvp()
    xs = np.random.default_rng(2).standard_normal((4, 3))
    ts = np.random.default_rng(3).standard_normal((4, 3))
    np.testing.assert_allclose(fg.vmap(f)(xs), np.sin(xs), rtol=1e-14)
    t = fg.vmap(lambda x, t: fg.jvp(f, (x,), (t,))[1])(xs, ts)
    np.testing.assert_allclose(t, 3.0 * np.cos(xs) * ts, rtol=1e-14)
    g = fg.vmap(fg.grad(lambda x: fnp.sum(f(x) * CT)))(xs)
    np.testing.assert_allclose(g, 3.0 * np.cos(xs) * CT, rtol=1e-14)
    calls["rule"] = 0
    g2 = fg.grad(lambda xs: fnp.sum(fg.vmap(f)(xs) * CT))(xs)
    np.testing.assert_allclose(g2, 3.0 * np.cos(xs) * CT, rtol=1e-14)
    assert calls["rule"] >= 1
    _, t2 = fg.jvp(fg.vmap(f), (xs,), (ts,))
    np.testing.assert_allclose(t2, 3.0 * np.cos(xs) * ts, rtol=1e-14)


def test_custom_jvp_with_pytree_arguments_and_nondiff_argnums():
    calls = {"rule": 0}

    def scaled_norm(p, eps):
        return fnp.sqrt(fnp.sum(p["a"] ** 2) + fnp.sum(p["b"] ** 2) + eps)

    f = fg.custom_jvp(scaled_norm, nondiff_argnums=(1,))

    @f.defjvp
    def rule(eps, primals, tangents):
        calls["rule"] += 1
        (p,), (t,) = primals, tangents
        n = scaled_norm(p, eps)
        # deliberately twice the true derivative
        return n, 2.0 * (fnp.sum(p["a"] * t["a"]) + fnp.sum(p["b"] * t["b"])) / n

    p = {"a": X, "b": np.array([1.0, 2.0])}
    n = np.sqrt(np.sum(X ** 2) + 5.0 + 1e-3)
    g = fg.grad(lambda p: f(p, 1e-3))(p)
    np.testing.assert_allclose(g["a"], 2.0 * X / n, rtol=1e-13)
    np.testing.assert_allclose(g["b"], 2.0 * p["b"] / n, rtol=1e-13)
    tp = {"a": CT, "b": np.array([0.5, -1.0])}
    _, t = fg.jvp(lambda p: f(p, 1e-3), (p,), (tp,))
    np.testing.assert_allclose(t, 2.0 * (X @ CT + p["b"] @ tp["b"]) / n, rtol=1e-13)
    assert calls["rule"] >= 2


def test_custom_jvp_rule_for_a_numerically_unstable_function():
    @fg.custom_jvp
    def log1pexp(x):
        return fnp.logaddexp(0.0, x)

    @log1pexp.defjvp
    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * fg.scipy.special.expit(x)

    x = np.array([-800.0, 0.0, 800.0])
    g = fg.elementwise_grad(log1pexp)(x)
    np.testing.assert_allclose(g, [0.0, 0.5, 1.0])
    assert np.all(np.isfinite(g))


def test_custom_jvp_wrong_tangent_shape():
    @fg.custom_jvp
    def bad_tangent(x):
        return x * 2.0

    bad_tangent.defjvp(lambda p, t: (p[0] * 2.0, fnp.sum(t[0])))
    with pytest.raises(fg.CustomRuleError, match="bad_tangent.*shape"):
        fg.jvp(bad_tangent, (X,), (CT,))


def test_custom_jvp_wrong_tangent_dtype():
    @fg.custom_jvp
    def bad_dtype(x):
        return x * 2.0

    bad_dtype.defjvp(lambda p, t: (p[0] * 2.0, (t[0] * 2.0).astype(np.float32)))
    with pytest.raises(fg.CustomRuleError, match="bad_dtype.*float32"):
        fg.jvp(bad_dtype, (X,), (CT,))


def test_custom_jvp_rule_not_returning_a_pair():
    @fg.custom_jvp
    def not_pair(x):
        return x

    not_pair.defjvp(lambda p, t: t[0])
    with pytest.raises(fg.CustomRuleError, match="not_pair.*pair"):
        fg.jvp(not_pair, (X,), (CT,))


def test_missing_defjvp():
    @fg.custom_jvp
    def no_jvp_rule(x):
        return x

    with pytest.raises(fg.CustomRuleError, match=r"no_jvp_rule.*defjvp"):
        fg.jvp(no_jvp_rule, (X,), (CT,))
    with pytest.raises(fg.CustomRuleError, match=r"no_jvp_rule.*defjvp"):
        fg.grad(lambda x: fnp.sum(no_jvp_rule(x)))(X)


# --- stop_gradient -------------------------------------------------------------------------------


def test_stop_gradient_value_passes():
    np.testing.assert_array_equal(fg.stop_gradient(X), X)
    tree = fg.stop_gradient({"a": X, "b": (1.0, np.ones(2))})
    np.testing.assert_array_equal(tree["a"], X)
    np.testing.assert_array_equal(tree["b"][1], np.ones(2))


def test_stop_gradient_in_every_mode():
    f = lambda x: fnp.sum(fg.stop_gradient(x) * x + fg.stop_gradient(fnp.sin(x)))
    np.testing.assert_allclose(fg.grad(f)(X), X, rtol=1e-14)  # only the unstopped factor
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fg.stop_gradient(x ** 2)))(X), np.zeros(3))
    out, t = fg.jvp(lambda x: fg.stop_gradient(x * 3.0), (X,), (CT,))
    np.testing.assert_allclose(out, 3.0 * X)
    np.testing.assert_array_equal(t, np.zeros(3))
    out, pullback = fg.vjp(lambda x: fg.stop_gradient(fnp.exp(x)), X)
    np.testing.assert_allclose(out, np.exp(X))
    np.testing.assert_array_equal(pullback(CT)[0], np.zeros(3))
    xs = np.random.default_rng(4).standard_normal((3, 3))
    g = fg.vmap(fg.grad(lambda x: fnp.sum(fg.stop_gradient(x) * fnp.sin(x))))(xs)
    np.testing.assert_allclose(g, xs * np.cos(xs), rtol=1e-14)
    g = fg.grad(lambda xs: fnp.sum(fg.vmap(lambda x: fg.stop_gradient(x) * x)(xs)))(xs)
    np.testing.assert_allclose(g, xs, rtol=1e-14)
    np.testing.assert_array_equal(fg.hessian(lambda x: fnp.sum(fg.stop_gradient(x) * x ** 2))(X),
                                  np.diag(2.0 * X))


def test_stop_gradient_of_a_pytree_under_grad():
    g = fg.grad(lambda p: fnp.sum(fg.stop_gradient(p)["a"] * p["a"]) + fnp.sum(fg.stop_gradient(p["b"])))(
        {"a": X, "b": X})
    np.testing.assert_allclose(g["a"], X)
    np.testing.assert_array_equal(g["b"], np.zeros(3))


# --- checkpoint ----------------------------------------------------------------------------------


def _block(x):
    a = fnp.sin(x)
    b = a * x
    c = b * b + x
    d = c * a
    return x + 0.1 * d


def _chain(x, block, n=50):
    for _ in range(n):
        x = block(x)
    return fnp.sum(x * x)


def test_checkpoint_gradient_is_identical():
    x = np.random.default_rng(5).standard_normal(100)
    plain = fg.grad(lambda x: _chain(x, _block, 10))(x)
    ckpt = fg.grad(lambda x: _chain(x, fg.checkpoint(_block), 10))(x)
    np.testing.assert_array_equal(ckpt, plain)
    assert fg.remat is fg.checkpoint


def test_checkpoint_recomputes_the_forward_pass():
    calls = []

    def block(x):
        calls.append(1)
        return _block(x)

    x = np.ones(4)
    fg.grad(lambda x: _chain(x, fg.checkpoint(block), 5))(x)
    assert len(calls) == 10  # 5 in the forward pass, 5 again during the backward pass
    calls.clear()
    fg.checkpoint(block)(x)  # no transformation: runs once
    assert len(calls) == 1


def test_checkpoint_with_pytree_arguments_several_outputs_and_nesting():
    def layer(p, x):
        h = fnp.tanh(x @ p["w"] + p["b"])
        return h, fnp.sum(h ** 2)

    rng = np.random.default_rng(6)
    p = {"w": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    x = rng.standard_normal((2, 3))

    def loss(p, x, lay):
        h, s = lay(p, x)
        h2, s2 = lay(p, h)
        return fnp.sum(h2) + s * s2

    want = fg.grad(loss, argnums=(0, 1))(p, x, layer)
    got = fg.grad(loss, argnums=(0, 1))(p, x, fg.checkpoint(layer))
    for g, w in zip(tree_flatten(got)[0], tree_flatten(want)[0]):
        np.testing.assert_allclose(g, w, rtol=1e-13)
    # nested checkpoints, and second derivatives through them
    nested = fg.checkpoint(lambda p, x: layer(p, fg.checkpoint(layer)(p, x)[0]))
    got = fg.grad(lambda p: fnp.sum(nested(p, x)[0]))(p)
    want = fg.grad(lambda p: fnp.sum(layer(p, layer(p, x)[0])[0]))(p)
    np.testing.assert_allclose(got["w"], want["w"], rtol=1e-13)
    hv = fg.hessian(lambda v: _chain(v, fg.checkpoint(_block), 3))(X)
    np.testing.assert_allclose(hv, fg.hessian(lambda v: _chain(v, _block, 3))(X), rtol=1e-12)


def test_checkpoint_under_jvp_and_vmap():
    xs = np.random.default_rng(7).standard_normal((4, 3))
    ck = fg.checkpoint(_block)
    np.testing.assert_allclose(fg.vmap(ck)(xs), fg.vmap(_block)(xs), rtol=1e-14)
    g1 = fg.vmap(fg.grad(lambda x: _chain(x, ck, 3)))(xs)
    g2 = fg.vmap(fg.grad(lambda x: _chain(x, _block, 3)))(xs)
    np.testing.assert_allclose(g1, g2, rtol=1e-13)
    _, t1 = fg.jvp(ck, (X,), (CT,))
    _, t2 = fg.jvp(_block, (X,), (CT,))
    np.testing.assert_allclose(t1, t2, rtol=1e-14)


def _peak_bytes_of_grad(block, x):
    g = fg.grad(lambda v: _chain(v, block, 50))
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        out = g(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak - start


def test_checkpoint_lowers_peak_memory():
    """A chain of 50 blocks, each making several 1e5-element intermediates: without checkpointing
    the tape keeps every block's intermediates until the backward pass reaches it; with it, only
    each block's input is kept and one block's intermediates are alive at a time."""
    x = np.random.default_rng(8).standard_normal(100_000) * 0.1
    g_plain, peak_plain = _peak_bytes_of_grad(_block, x)
    g_ckpt, peak_ckpt = _peak_bytes_of_grad(fg.checkpoint(_block), x)
    np.testing.assert_array_equal(g_ckpt, g_plain)
    mb = 1 << 20
    assert peak_ckpt < 0.5 * peak_plain, f"checkpointed peak {peak_ckpt / mb:.1f} MiB vs {peak_plain / mb:.1f} MiB"


# --- custom rules under vmap with unbatched arguments and non-leading batch axes ---------------


def _weighted_sum_vjp():
    calls = {"bwd": 0}

    @fg.custom_vjp
    def wsum(w, x):
        return fnp.sum(w * x)

    def bwd(res, ct):
        calls["bwd"] += 1
        w, x = res
        return 3.0 * ct * x, 3.0 * ct * w  # three times the true cotangents

    wsum.defvjp(lambda w, x: (wsum(w, x), (w, x)), bwd)
    return wsum, calls


def _weighted_sum_jvp():
    @fg.custom_jvp
    def wsum(w, x):
        return fnp.sum(w * x)

    wsum.defjvp(lambda p, t: (wsum(*p), 3.0 * (fnp.sum(t[0] * p[1]) + fnp.sum(p[0] * t[1]))))
    return wsum


W2 = np.array([1.0, -2.0])
XS = np.arange(6.0).reshape(3, 2) - 2.5
CT3 = np.array([1.0, 0.5, -2.0])


@pytest.mark.parametrize("make", [lambda: _weighted_sum_vjp()[0], _weighted_sum_jvp], ids=["custom_vjp", "custom_jvp"])
def test_grad_of_vmap_with_an_unbatched_argument(make):
    wsum = make()
    # d/dw sum_i ct_i * wsum(w, x_i), with the rule's factor 3
    g = fg.grad(lambda w: fnp.sum(fg.vmap(wsum, in_axes=(None, 0))(w, XS) * CT3))(W2)
    np.testing.assert_allclose(g, 3.0 * CT3 @ XS, rtol=1e-14)
    gx = fg.grad(lambda xs: fnp.sum(fg.vmap(wsum, in_axes=(None, 0))(W2, xs) * CT3))(XS)
    np.testing.assert_allclose(gx, 3.0 * CT3[:, None] * W2, rtol=1e-14)


@pytest.mark.parametrize("make", [lambda: _weighted_sum_vjp()[0], _weighted_sum_jvp], ids=["custom_vjp", "custom_jvp"])
def test_grad_of_vmap_over_a_non_leading_axis(make):
    wsum = make()
    xt = XS.T.copy()  # batch along axis 1
    g = fg.grad(lambda xt: fnp.sum(fg.vmap(wsum, in_axes=(None, 1))(W2, xt) * CT3))(xt)
    assert g.shape == xt.shape
    np.testing.assert_allclose(g, (3.0 * CT3[:, None] * W2).T, rtol=1e-14)
    gw, gx = fg.grad(lambda w, xt: fnp.sum(fg.vmap(wsum, in_axes=(None, 1))(w, xt) * CT3), argnums=(0, 1))(W2, xt)
    np.testing.assert_allclose(gw, 3.0 * CT3 @ XS, rtol=1e-14)
    np.testing.assert_allclose(gx, g, rtol=1e-14)


def test_checkpoint_under_vmap_with_unbatched_parameters():
    layer = lambda p, x: fnp.tanh(x @ p)
    p = np.random.default_rng(9).standard_normal((2, 2))
    for axes, xs in (((None, 0), XS), ((None, 1), XS.T.copy())):
        want = fg.grad(lambda p: fnp.sum(fg.vmap(layer, in_axes=axes)(p, xs) * CT3[:, None]))(p)
        got = fg.grad(lambda p: fnp.sum(fg.vmap(fg.checkpoint(layer), in_axes=axes)(p, xs) * CT3[:, None]))(p)
        np.testing.assert_allclose(got, want, rtol=1e-14)
        # and against a closed form: sum_i ct_i x_i^T (1 - tanh^2)
        h = np.tanh(XS @ p)
        np.testing.assert_allclose(got, XS.T @ (CT3[:, None] * (1 - h ** 2)), rtol=1e-12)


# --- custom rules and jit ------------------------------------------------------------------------


def test_custom_rules_inside_jit_use_the_rule():
    f, calls = make_scaled_sin_vjp()
    g = fg.jit(fg.grad(lambda x: fnp.sum(f(x) * CT)))
    np.testing.assert_allclose(g(X), 3.0 * np.cos(X) * CT, rtol=1e-14)
    np.testing.assert_allclose(g(X + 1.0), 3.0 * np.cos(X + 1.0) * CT, rtol=1e-14)  # cached program
    assert calls["bwd"] == 1  # called once, while staging
    h, _ = make_scaled_sin_jvp()
    np.testing.assert_allclose(fg.jit(fg.grad(lambda x: fnp.sum(h(x) * CT)))(X), 3.0 * np.cos(X) * CT, rtol=1e-14)
    _, t = fg.jit(lambda x, t: fg.jvp(h, (x,), (t,)))(X, CT)
    np.testing.assert_allclose(t, 3.0 * np.cos(X) * CT, rtol=1e-14)
    xs = np.random.default_rng(10).standard_normal((2, 3))
    np.testing.assert_allclose(fg.jit(fg.vmap(fg.grad(lambda x: fnp.sum(f(x)))))(xs), 3.0 * np.cos(xs), rtol=1e-14)


def test_custom_functions_and_checkpoint_under_jit_compute_the_right_values():
    f, _ = make_scaled_sin_vjp()
    h, _ = make_scaled_sin_jvp()
    np.testing.assert_allclose(fg.jit(lambda x: f(x) + h(x))(X), 2.0 * np.sin(X), rtol=1e-14)
    ck = fg.jit(fg.grad(lambda x: _chain(x, fg.checkpoint(_block), 3)))
    np.testing.assert_allclose(ck(X), fg.grad(lambda x: _chain(x, _block, 3))(X), rtol=1e-13)


@pytest.mark.parametrize("make", [make_scaled_sin_vjp, make_scaled_sin_jvp], ids=["custom_vjp", "custom_jvp"])
def test_grad_of_jit_uses_the_custom_rule(make):
    f, _ = make()
    np.testing.assert_allclose(fg.grad(fg.jit(lambda x: fnp.sum(f(x) * CT)))(X), 3.0 * np.cos(X) * CT, rtol=1e-14)
