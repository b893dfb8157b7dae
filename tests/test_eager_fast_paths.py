"""The eager hot path's shortcuts (issue 12 §2) compute what the general path computes.

* Eager vjp rules (``Primitive.vjp_eager``, funcgrad/prims/eager_vjp.py) give the same values,
  bit for bit, as the general rules on NumPy operands; the backward pass uses the general rules
  whenever something is traced (higher orders, a traced cotangent), and derivatives through
  every primitive with an eager rule are right to second order in both modes.
* The backward pass hands a chain's cotangent from entry to entry without the dict; graphs that
  fan out and in still sum every contribution.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import primitives
from funcgrad.prims import eager_vjp  # noqa: F401  (declares the rules under test)
from funcgrad.prims import elementwise as ew
from funcgrad.prims.reductions import reduce_sum_p
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(12)

# Operands inside each primitive's domain, as functions of a random base array.
DOMAIN = {
    "arcsin": lambda u: 0.9 * np.tanh(u),
    "arccos": lambda u: 0.9 * np.tanh(u),
    "arccosh": lambda u: 1.5 + u * u,
    "tan": lambda u: 0.5 * np.tanh(u),
}


def _with_eager_rules():
    return sorted((p for p in primitives.values() if p.vjp_eager is not p.vjp), key=lambda p: p.name)


def test_the_eager_rules_are_declared_where_expected():
    names = {p.name for p in _with_eager_rules()}
    assert {"sin", "cos", "tanh", "exp", "sum", "where", "maximum"} <= names
    # Operand positions keep their meaning: where's condition has no rule in either table.
    assert ew.where_p.vjp_eager[0] is None and ew.where_p.vjp[0] is None


def _operands(prim, dtype, shape):
    u = RNG.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        u = (u + 1j * RNG.standard_normal(shape)).astype(dtype)
    x = DOMAIN.get(prim.name, lambda v: v)(u)
    if prim.name == "where":
        return [u.real > 0, x, (x * 0.5).astype(dtype)]
    if prim.name in ("maximum", "minimum"):
        y = x[::-1].copy() if x.ndim else x  # ties at the middle (x == y) and where reversed
        return [x, y]
    return [x]


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("shape", [(5,), (), (0,), (2, 3)])
def test_eager_rules_give_the_general_rules_values_bit_for_bit(dtype, shape):
    checked = 0
    for prim in _with_eager_rules():
        if prim is reduce_sum_p:
            continue  # below, with its parameters
        if np.dtype(dtype).kind == "c" and prim.name in ("maximum", "minimum", "arccosh", "arcsin", "arccos"):
            continue  # no complex derivative (or domain) to compare
        args = _operands(prim, dtype, shape)
        out = prim.impl(*args)
        out_dtype = np.asarray(out).dtype
        ct = RNG.standard_normal(np.shape(out)).astype(out_dtype)
        if out_dtype.kind == "c":
            ct = ct + 1j * RNG.standard_normal(np.shape(out)).astype(out_dtype)
        for i, (eager, general) in enumerate(zip(prim.vjp_eager, prim.vjp)):
            if general is None:
                continue
            with np.errstate(all="ignore"):
                got, want = eager(ct, out, *args), general(ct, out, *args)
            assert _same_bits(got, want), (prim.name, i, dtype, shape)
            checked += 1
    assert checked >= (13 if np.dtype(dtype).kind == "c" else 18)


@pytest.mark.parametrize("shape,axis,keepdims", [
    ((4,), None, False), ((2, 3), None, False), ((2, 3), (0,), False), ((2, 3), (1,), True),
    ((2, 3), (0, 1), True), ((), None, False), ((0, 3), (0,), False), ((40, 40), None, False),
])
def test_eager_sum_rule_matches_the_general_one(shape, axis, keepdims):
    x = RNG.standard_normal(shape)
    out = reduce_sum_p.impl(x, axis=axis, keepdims=keepdims)
    for ct in (np.asarray(RNG.standard_normal(np.shape(out))), np.float64(1.5) if np.shape(out) == () else None):
        if ct is None:
            continue
        got = reduce_sum_p.vjp_eager[0](ct, out, x, axis=axis, keepdims=keepdims)
        want = reduce_sum_p.vjp[0](ct, out, x, axis=axis, keepdims=keepdims)
        assert _same_bits(got, want)


def _through(prim):
    """A scalar function of a vector that goes through ``prim`` (fed operands in its domain)."""
    dom = DOMAIN.get(prim.name, lambda v: v)

    def f(u):
        x = 0.9 * fnp.tanh(u) if prim.name in ("arcsin", "arccos") else (
            1.5 + u * u if prim.name == "arccosh" else (0.5 * fnp.tanh(u) if prim.name == "tan" else u))
        if prim.name == "where":
            y = prim.bind(u > 0, x * x, x * 3.0)
        elif prim.name in ("maximum", "minimum"):
            y = prim.bind(x, x[::-1] * 0.5)
        elif prim is reduce_sum_p:
            y = prim.bind(x.reshape(2, 3) * x.reshape(2, 3), axis=(1,), keepdims=False)
        else:
            y = prim.bind(x)
        return fnp.sum(y * y)

    del dom
    return f


@pytest.mark.parametrize("name", sorted(p.name for p in _with_eager_rules()))
def test_derivatives_through_primitives_with_eager_rules_to_second_order(name):
    # At order 2 the rules run on tracers: the general rules must be used and recorded.
    prim = primitives[name]
    x = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])
    if name == "absolute":
        x = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])  # away from the kink
    check_grads(_through(prim), (x,), order=2, modes=("fwd", "rev"))
    hess = fg.hessian(_through(prim))(x)
    assert np.allclose(hess, hess.T, atol=1e-8)


def test_a_traced_cotangent_uses_the_general_rules():
    # The pullback's tape holds plain arrays, but the cotangent is a jvp tracer: the backward
    # pass must record on it (sum's eager rule would try to convert it to an array).
    x = RNG.standard_normal(4)
    _, pullback = fg.vjp(lambda x: fnp.sum(fnp.sin(x)), x)
    v, dv = np.array(2.0), np.array(0.5)
    (g,), (dg,) = fg.jvp(lambda v: pullback(v), (v,), (dv,))
    np.testing.assert_allclose(g, 2.0 * np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(dg, 0.5 * np.cos(x), rtol=1e-14)


def test_grad_of_grad_through_sin_and_sum():
    f = (lambda x: fnp.sum(fnp.sin(x) * x))
    x = RNG.standard_normal(5)
    second = fg.grad(lambda x: fnp.sum(fg.grad(f)(x)))(x)
    np.testing.assert_allclose(second, 2 * np.cos(x) - x * np.sin(x), rtol=1e-13)


def test_fan_out_and_in_sums_every_contribution():
    # Node x feeds many entries (the carried cotangent must not drop or misplace one), and the
    # chain between them is long enough to use the hand-over from entry to entry.
    def f(x):
        y = x
        acc = x * 0.0
        for k in range(30):
            y = fnp.sin(y) * 1.01
            if k % 7 == 0:
                acc = acc + y * x
        return fnp.sum(acc + fnp.tanh(y))

    check_grads(f, (RNG.standard_normal(3),), order=1, modes=("rev",))
    check_grads(f, (RNG.standard_normal(()),), order=2, modes=("rev",))


@pytest.mark.parametrize("transform", ["grad", "hessian", "jvp", "jit_grad", "vmap_grad"])
def test_comparisons_of_tracers_are_comparisons_of_their_values(transform):
    # The comparison operators go straight to the value under reverse and forward traces (the
    # result has no derivative); under jit and vmap they are still recorded / batched.
    def f(x):
        big = x > 0.25
        small = x <= -0.5
        same = (x * 2.0) == (x + x)
        return fnp.sum(fnp.where(big, x * x, fnp.where(small, 3.0 * x, x)) * same) + fnp.sum((x != x) * x)

    x = np.array([0.3, -0.7, 1.1, 0.1, -0.2])
    d1 = np.where(x > 0.25, 2 * x, np.where(x <= -0.5, 3.0, 1.0))
    if transform == "grad":
        np.testing.assert_allclose(fg.grad(f)(x), d1, rtol=1e-14)
    elif transform == "hessian":
        np.testing.assert_allclose(fg.hessian(f)(x), np.diag(np.where(x > 0.25, 2.0, 0.0)), atol=1e-14)
    elif transform == "jvp":
        _, t = fg.jvp(f, (x,), (np.ones_like(x),))
        np.testing.assert_allclose(t, d1.sum(), rtol=1e-14)
    elif transform == "jit_grad":
        np.testing.assert_allclose(fg.jit(fg.grad(f))(x), d1, rtol=1e-14)
    else:
        got = fg.vmap(fg.grad(lambda v: f(v)))(np.stack([x, -x]))
        np.testing.assert_allclose(got[0], d1, rtol=1e-14)


def test_norm_of_a_tracer_as_a_loop_condition_and_in_the_output():
    def doubling(x):
        y = x * 2
        while fnp.linalg.norm(y) < 1000:
            y = y * 2
        return y * fnp.linalg.norm(x)

    x = np.array([0.3, -0.4, 1.2])
    n = np.linalg.norm(x)
    y, pullback = fg.vjp(doubling, x)
    k = int(np.ceil(np.log2(1000 / (2 * n))))  # doublings after the first
    scale = 2.0 ** (k + 1)
    np.testing.assert_allclose(y, scale * x * n, rtol=1e-14)
    v = np.array([0.1, 1.0, -2.0])
    (g,) = pullback(v)
    np.testing.assert_allclose(g, scale * (v * n + x * (v @ x) / n), rtol=1e-13)
    check_grads(lambda x: fnp.linalg.norm(x * x), (x,), order=2)
    assert fg.jit(lambda x: fnp.linalg.norm(x))(x) == np.linalg.norm(x)
    assert fg.vmap(lambda x: fnp.linalg.norm(x))(np.stack([x, 2 * x])).shape == (2,)
