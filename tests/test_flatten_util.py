"""funcgrad.flatten_util.ravel_pytree: values, dtypes, errors, and derivatives in both directions."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.flatten_util import ravel_pytree
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(0)
TREE = {"w": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3), "s": (RNG.standard_normal(()), None)}


def test_values_order_and_roundtrip():
    flat, unravel = ravel_pytree(TREE)
    want = np.concatenate([TREE["b"], TREE["s"][0].ravel(), TREE["w"].ravel()])  # sorted keys: b, s, w
    np.testing.assert_array_equal(flat, want)
    back = unravel(flat)
    assert back["s"][1] is None
    for k in ("w", "b"):
        np.testing.assert_array_equal(back[k], TREE[k])
        assert back[k].shape == TREE[k].shape


def test_mixed_dtypes_promote_and_come_back():
    tree = (np.arange(3, dtype=np.int32), np.ones(2, np.float32))
    flat, unravel = ravel_pytree(tree)
    assert flat.dtype == np.float64  # NumPy's promotion of int32 and float32
    ints, floats = unravel(flat + 1.0)
    assert ints.dtype == np.int32 and floats.dtype == np.float32
    np.testing.assert_array_equal(ints, [1, 2, 3])
    f32, _ = ravel_pytree([np.ones(2, np.float32)])
    assert f32.dtype == np.float32


def test_empty_tree():
    flat, unravel = ravel_pytree({})
    assert flat.shape == (0,) and unravel(flat) == {}


def test_unravel_checks_shape_and_dtype():
    flat, unravel = ravel_pytree(TREE)
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        unravel(flat[:-1])
    with pytest.raises(TypeError, match="float64"):
        unravel(flat.astype(np.float32))


def test_ravel_direction_derivatives():
    def f(w, b):
        flat, _ = ravel_pytree({"w": w, "b": b})
        return fnp.sin(flat) * flat[::-1]

    check_grads(f, (TREE["w"], TREE["b"]), order=2, modes=("fwd", "rev"))


def test_unravel_direction_derivatives():
    _, unravel = ravel_pytree(TREE)

    def g(v):
        t = unravel(v)
        return fnp.tanh(t["w"] @ t["b"]) * t["s"][0]

    check_grads(g, (RNG.standard_normal(10),), order=2, modes=("fwd", "rev"))


def test_grad_of_flat_function_of_a_tree_and_jit_vmap():
    flat, unravel = ravel_pytree(TREE)

    def loss(v):
        t = unravel(v)
        return fnp.sum(t["w"] ** 2) + fnp.sum(t["b"] * t["s"][0])

    g = fg.grad(loss)(flat)
    want = np.concatenate([TREE["b"] * 0 + TREE["s"][0], [TREE["b"].sum()], 2 * TREE["w"].ravel()])
    np.testing.assert_allclose(g, want)
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(flat), want)
    batch = np.stack([flat, 2 * flat])
    np.testing.assert_allclose(fg.vmap(loss)(batch), [loss(flat), loss(2 * flat)])
    # The raveled direction under jit and vmap.
    np.testing.assert_allclose(fg.jit(lambda t: ravel_pytree(t)[0])(TREE), flat)
    stacked = {k: (np.stack([v, v]) if k != "s" else (np.stack([v[0], v[0]]), None)) for k, v in TREE.items()}
    np.testing.assert_allclose(fg.vmap(lambda t: ravel_pytree(t)[0])(stacked), np.stack([flat, flat]))
