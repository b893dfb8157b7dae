"""custom_vjp symbolic_zeros / nondiff_argnames / None cotangents, custom_jvp.defjvps,
custom_vmap, custom_gradient, linear_transpose, closure_convert, eval_shape and ShapeDtypeStruct
(issue 8 §3). User rules here deliberately differ from the true derivative (scaled), so a
result only matches if the rule ran; plain values are checked against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax

X = np.array([0.3, -1.2, 2.0])
Y = np.array([1.5, 0.5, -0.25])
TRANSFORMS = {
    "eager": lambda g: g,
    "jit(grad)": fg.jit,
}


def _sym_zero_pair():
    seen = {}

    @fg.custom_vjp
    def f(x, y):
        return x * y, fnp.sin(x)

    def fwd(x, y):
        seen["perturbed"] = (x.perturbed, y.perturbed)
        return (x.value * y.value, fnp.sin(x.value)), (x.value, y.value)

    def bwd(res, cts):
        x, y = res
        ct_prod, ct_sin = cts
        seen["zero"] = isinstance(ct_sin, fg.SymbolicZero)
        gx = 3.0 * ct_prod * y  # 3x the true rule
        if not isinstance(ct_sin, fg.SymbolicZero):
            gx = gx + ct_sin * fnp.cos(x)
        return gx, fg.SymbolicZero(y.shape, y.dtype)  # y: no cotangent

    f.defvjp(fwd, bwd, symbolic_zeros=True)
    return f, seen


@pytest.mark.parametrize("mode", sorted(TRANSFORMS))
def test_custom_vjp_symbolic_zeros(mode):
    f, seen = _sym_zero_pair()
    g = TRANSFORMS[mode](fg.grad(lambda x, y: fnp.sum(f(x, y)[0]), argnums=(0, 1)))
    gx, gy = g(X, Y)
    np.testing.assert_allclose(gx, 3.0 * Y)
    np.testing.assert_array_equal(gy, np.zeros(3))
    assert seen["zero"] is True  # the sin output got no cotangent: a SymbolicZero arrived
    assert seen["perturbed"] == (True, True)
    g2 = TRANSFORMS[mode](fg.grad(lambda x: (lambda p, s: fnp.sum(p + s))(*f(x, Y))))
    np.testing.assert_allclose(g2(X), 3.0 * Y + np.cos(X))
    fg.grad(lambda x: fnp.sum(f(x, Y)[0]))(X)
    assert seen["perturbed"] == (True, False)  # y is a constant there
    np.testing.assert_allclose(f(X, Y)[0], X * Y)  # no transformation: fwd is not called


def test_custom_vjp_nondiff_argnames_and_none_cotangents():
    @fg.custom_vjp
    def scale(x, factor, y):
        return x * factor + y

    scale2 = fg.custom_vjp(scale.fun, nondiff_argnames=("factor",))
    scale2.defvjp(lambda x, factor, y: (x * factor + y, None),
                  lambda factor, res, ct: (ct * factor * 10.0, None))  # y gets None: no cotangent
    gx, gy = fg.grad(lambda x, y: fnp.sum(scale2(x, 2.0, y)), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, np.full(3, 20.0))
    np.testing.assert_array_equal(gy, np.zeros(3))
    np.testing.assert_allclose(fg.jit(fg.grad(lambda x: fnp.sum(scale2(x, 2.0, Y))))(X), np.full(3, 20.0))
    with pytest.raises(fg.CustomRuleError, match="nondiff_argnames"):
        fg.custom_vjp(scale.fun, nondiff_argnames=("nope",))


def test_custom_jvp_defjvps():
    f = fg.custom_jvp(lambda x, y: x * y)
    f.defjvps(lambda tx, out, x, y: 3.0 * tx * y, None)  # y: no derivative; x: 3x the truth
    gx, gy = fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, 3.0 * Y)
    np.testing.assert_array_equal(gy, np.zeros(3))
    _, t = fg.jvp(f, (X, Y), (np.ones(3), np.ones(3)))
    np.testing.assert_allclose(t, 3.0 * Y)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda x: fnp.sum(f(x, Y))))(X), 3.0 * Y)
    np.testing.assert_allclose(fg.vmap(fg.grad(lambda x: fnp.sum(f(x, Y))))(np.stack([X, X])),
                               np.stack([3.0 * Y, 3.0 * Y]))


def test_custom_vmap_rule_is_used_and_derivatives_differentiate_the_function():
    calls = []
    f = fg.custom_vmap(lambda x, w: fnp.sum(x * w))

    @f.def_vmap
    def rule(size, batched, x, w):
        calls.append((size, batched))
        assert batched == (True, False)
        return fnp.sum(x * w, axis=1) * 2.0, True  # 2x: visibly the rule

    xs = np.stack([X, Y])
    np.testing.assert_allclose(f(X, Y), np.sum(X * Y))
    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(xs, Y), 2.0 * xs @ Y)
    np.testing.assert_allclose(fg.jit(fg.vmap(f, in_axes=(0, None)))(xs, Y), 2.0 * xs @ Y)
    assert calls and calls[0] == (2, (True, False))
    np.testing.assert_allclose(fg.grad(f)(X, Y), Y)  # the function's own derivative
    np.testing.assert_allclose(fg.jit(fg.grad(f))(X, Y), Y)
    with pytest.raises(fg.CustomRuleError, match="def_vmap"):
        fg.custom_vmap(fnp.sin)(X)


def test_custom_gradient():
    f = fg.custom_gradient(lambda x: (fnp.sin(x), lambda ct: ct * 100.0))
    np.testing.assert_allclose(f(X), np.sin(X))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(f(x)))(X), np.full(3, 100.0))
    np.testing.assert_allclose(fg.jit(fg.grad(lambda x: fnp.sum(f(x))))(X), np.full(3, 100.0))


def test_linear_transpose():
    a = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]])
    t = fg.linear_transpose(lambda x: a @ x, fg.ShapeDtypeStruct((3,), np.float64))
    ct = np.array([0.5, -2.0])
    np.testing.assert_allclose(t(ct)[0], a.T @ ct)
    t2 = fg.linear_transpose(lambda x, y: x + 2.0 * y, X, Y)
    gx, gy = t2(np.ones(3))
    np.testing.assert_allclose(gx, np.ones(3))
    np.testing.assert_allclose(gy, np.full(3, 2.0))


def test_closure_convert_makes_closed_over_tracers_explicit():
    def outer(w):
        f = lambda x: fnp.sin(x * w)  # noqa: E731 - closes over the traced w
        g, consts = fg.closure_convert(f, X)
        assert len(consts) == 1 and consts[0] is w

        @fg.custom_vjp
        def h(x, *cs):
            return g(x, *cs)

        def bwd(res, ct):
            x, cs = res
            _, pb = fg.vjp(g, x, *cs)
            return pb(ct)

        h.defvjp(lambda x, *cs: (g(x, *cs), (x, cs)), bwd)
        return fnp.sum(h(X, *consts))

    w = np.array(0.7)
    np.testing.assert_allclose(fg.grad(outer)(w), np.sum(np.cos(X * w) * X))


def test_eval_shape_and_shape_dtype_struct():
    s = fg.eval_shape(lambda x, y: (fnp.outer(x, y), fnp.sum(x)), fg.ShapeDtypeStruct((4,), np.float32),
                      np.ones(3, np.float32))
    assert s == (fg.ShapeDtypeStruct((4, 3), np.float32), fg.ShapeDtypeStruct((), np.float32))
    assert s[0].ndim == 2 and s[0].size == 12
    huge = fg.ShapeDtypeStruct((10**6, 10**3), "f8")
    big = fg.eval_shape(lambda x: lax.scan(lambda c, r: (c + r, c), x[0], x)[1], huge)
    assert big == fg.ShapeDtypeStruct((10**6, 10**3), np.float64)  # traced only: no 8 TB allocated
    with pytest.raises(fg.InvalidLeafError, match="ShapeDtypeStruct"):
        fg.eval_shape(lambda x: x, "text")
