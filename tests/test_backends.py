"""The backend-agnostic rules, exercised on CPU with a CuPy-like array type.

``StrictArray`` (tests/strict_array.py) raises on any conversion to NumPy and on mixing with a
NumPy array, as CuPy does. Every transformation must accept it as a leaf, return it, and never
make an array of the wrong library (zero cotangents, grad's seed, jit's staged zeros).
"""

from __future__ import annotations

import numpy as np
import pytest
from strict_array import ForbiddenConversion, ForbiddenMixing, StrictArray

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree_util import tree_leaves

rng = np.random.default_rng(0)
X = rng.standard_normal((6, 3))
Y = np.where(rng.standard_normal(6) > 0, 1.0, -1.0)
W = rng.standard_normal(3) * 0.5
CT = rng.standard_normal((6, 3))


def loss(w, x, y):
    return fnp.mean(fnp.logaddexp(0.0, -y * (x @ w))) + fnp.sum(fnp.tanh(x[1:4]) * 0.5) + 0.1 * fnp.sum(w ** 2)


def f2(v):
    return fnp.sin(v) * fnp.exp(v / 4.0)


@fg.custom_vjp
def soft(v):
    return fnp.tanh(v)


soft.defvjp(lambda v: (fnp.tanh(v), v), lambda v, ct: (ct * (1.0 - fnp.tanh(v) ** 2),))

CASES = {
    "grad": lambda w, x, y, ct: fg.grad(loss, argnums=(0, 1, 2))(w, x, y),
    "value_and_grad": lambda w, x, y, ct: fg.value_and_grad(loss)(w, x, y),
    "vjp": lambda w, x, y, ct: fg.vjp(f2, x)[1](ct),
    "jvp": lambda w, x, y, ct: fg.jvp(f2, (x,), (ct,)),
    "vmap": lambda w, x, y, ct: fg.vmap(lambda r: fnp.dot(r, w))(x),
    "vmap_grad": lambda w, x, y, ct: fg.vmap(fg.grad(lambda r: fnp.sum(fnp.sin(r) * w)))(x),
    "jacfwd": lambda w, x, y, ct: fg.jacfwd(lambda v: fnp.sin(v) * v[::-1])(w),
    "jacrev": lambda w, x, y, ct: fg.jacrev(lambda v: fnp.sin(v) * v[::-1])(w),
    "hessian": lambda w, x, y, ct: fg.hessian(lambda v: loss(v, x, y))(w),
    "checkpoint": lambda w, x, y, ct: fg.grad(fg.checkpoint(lambda v: fnp.sum(f2(v))))(x),
    "custom_vjp": lambda w, x, y, ct: fg.grad(lambda v: fnp.sum(soft(v) * v))(x),
    "elementwise_grad": lambda w, x, y, ct: fg.elementwise_grad(fnp.sin)(x),
    "grad_of_grad": lambda w, x, y, ct: fg.grad(lambda s: fg.grad(lambda t: fnp.sin(t) * t)(s))(w[0]),
    "unused_argument": lambda w, x, y, ct: fg.grad(lambda a, b: fnp.sum(a), argnums=(0, 1))(w, x),
    "jit": lambda w, x, y, ct: fg.jit(loss)(w, x, y),
    "jit_grad": lambda w, x, y, ct: fg.jit(fg.grad(loss, argnums=(0, 1)))(w, x, y),
    "grad_jit": lambda w, x, y, ct: fg.grad(fg.jit(loss), argnums=(0, 1))(w, x, y),
    "jit_value_and_grad": lambda w, x, y, ct: fg.jit(fg.value_and_grad(loss))(w, x, y),
    "jit_unused": lambda w, x, y, ct: fg.jit(fg.grad(lambda a, b: fnp.sum(a * 2.0), argnums=(0, 1)))(w, x),
    "grad_jit_unused": lambda w, x, y, ct: fg.grad(fg.jit(lambda a, b: fnp.sum(a * 2.0)), argnums=(0, 1))(w, x),
    "jvp_jit": lambda w, x, y, ct: fg.jvp(fg.jit(f2), (x,), (ct,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transformation_stays_in_the_array_library(name):
    case = CASES[name]
    got = case(StrictArray(W), StrictArray(X), StrictArray(Y), StrictArray(CT))
    want = case(W, X, Y, CT)
    got_leaves, want_leaves = tree_leaves(got), tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert type(g) is StrictArray, f"{name}: a {type(g).__name__} came back, not the input library's array"
        np.testing.assert_allclose(g.get(), w, rtol=1e-12, atol=1e-12)


def test_the_strict_array_catches_conversion_and_mixing():
    # guard for the guard: it must fail where CuPy fails, or the tests above prove nothing
    with pytest.raises(ForbiddenConversion):
        np.asarray(StrictArray(X))
    with pytest.raises(ForbiddenMixing):
        StrictArray(X) * X
    assert type(np.zeros_like(StrictArray(X), shape=(2,))) is StrictArray
    assert type(np.asarray(np.eye(2), like=StrictArray(X))) is StrictArray


def test_jit_cache_key_includes_the_array_type():
    f = fg.jit(lambda v: fnp.sum(v * 2.0))
    f(X)
    f(StrictArray(X))
    assert f.misses == 2
    f(StrictArray(X))
    assert f.misses == 2
