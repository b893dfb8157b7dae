"""vjp, grad, value_and_grad, elementwise_grad and jvp against JAX's contract.

Expected derivatives come from closed forms or central finite differences, never from funcgrad.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree_util as tu

RNG = np.random.default_rng(0)
Pair = namedtuple("Pair", ["first", "second"])


@tu.register_dataclass
@dataclasses.dataclass
class Linear:
    w: np.ndarray
    b: np.ndarray


# `name` is static data: not a leaf, part of the tree structure.
@dataclasses.dataclass
class NamedLinear:
    w: np.ndarray
    b: np.ndarray
    name: str


tu.register_dataclass(NamedLinear, data_fields=["w", "b"], meta_fields=["name"])


class Scaled:
    """A user container registered with register_pytree_node; ``unit`` is static."""

    def __init__(self, value, unit):
        self.value, self.unit = value, unit


tu.register_pytree_node(Scaled, lambda s: ((s.value,), s.unit), lambda unit, ch: Scaled(ch[0], unit))


def fd_grad(f, x, eps=1e-6):
    """Central finite differences of a scalar function of one float64 array."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return g


def assert_same_tree(result, reference):
    """Same pytree structure; every leaf a numpy.ndarray with the reference's shape and dtype."""
    assert tu.tree_structure(result) == tu.tree_structure(reference), (result, reference)
    for r, ref in zip(tu.tree_leaves(result), tu.tree_leaves(reference), strict=True):
        ref = np.asarray(ref)
        assert type(r) is np.ndarray, type(r)
        assert r.shape == ref.shape, (r.shape, ref.shape)
        assert r.dtype == ref.dtype, (r.dtype, ref.dtype)


# --- vjp ---------------------------------------------------------------------------------------


def test_vjp_output_and_pullback_closed_form():
    x = RNG.standard_normal(4)
    out, pullback = fg.vjp(lambda x: fnp.sin(x) * x, x)
    np.testing.assert_allclose(out, np.sin(x) * x, rtol=1e-14)
    v = RNG.standard_normal(4)
    (gx,) = pullback(v)
    np.testing.assert_allclose(gx, v * (np.cos(x) * x + np.sin(x)), rtol=1e-12)


def test_vjp_returns_one_cotangent_per_primal():
    a, b, c = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal((2, 3))
    out, pullback = fg.vjp(lambda a, b, c: c @ (a * b), a, b, c)
    v = RNG.standard_normal(2)
    grads = pullback(v)
    assert isinstance(grads, tuple) and len(grads) == 3
    np.testing.assert_allclose(grads[0], (c.T @ v) * b, rtol=1e-12)
    np.testing.assert_allclose(grads[1], (c.T @ v) * a, rtol=1e-12)
    np.testing.assert_allclose(grads[2], np.outer(v, a * b), rtol=1e-12)


def test_pullback_called_many_times():
    A = RNG.standard_normal((3, 4))
    x = RNG.standard_normal(4)
    out, pullback = fg.vjp(lambda x: A @ fnp.tanh(x), x)
    J = A * (1 - np.tanh(x) ** 2)  # closed-form Jacobian
    cts = [RNG.standard_normal(3) for _ in range(5)]
    first = pullback(cts[0])[0]
    for v in cts:
        np.testing.assert_allclose(pullback(v)[0], v @ J, rtol=1e-12)
    # nothing accumulates between calls
    np.testing.assert_array_equal(pullback(cts[0])[0], first)
    np.testing.assert_allclose(pullback(np.zeros(3))[0], np.zeros(4))


def test_vjp_has_aux():
    x = RNG.standard_normal(3)
    out, pullback, aux = fg.vjp(lambda x: (x**2, {"norm": fnp.sum(x**2), "tag": "hi"}), x, has_aux=True)
    np.testing.assert_allclose(out, x**2)
    assert type(aux["norm"]) is np.ndarray and aux["norm"].shape == ()
    np.testing.assert_allclose(aux["norm"], np.sum(x**2))
    assert aux["tag"] == "hi"
    v = RNG.standard_normal(3)
    np.testing.assert_allclose(pullback(v)[0], 2 * x * v)


@pytest.mark.parametrize(
    "n", [np.arange(6).reshape(2, 3), 3, np.array([True, False, True])], ids=["array", "int", "bool"]
)
def test_vjp_integer_primal_gets_zeros_of_its_shape(n):
    # As in JAX (issue 9 §4): the cotangent of an integer or boolean primal is float0 (no data).
    x = np.full((2, 3), 1.5)
    out, pullback = fg.vjp(lambda x, n: x * n, x, n)
    gx, gn = pullback(np.ones_like(out))
    np.testing.assert_allclose(gx, np.broadcast_to(n, (2, 3)).astype(float))
    assert type(gn) is np.ndarray
    assert gn.shape == np.shape(n)
    assert gn.dtype == fg.dtypes.float0 and gn.nbytes == 0


def test_vjp_output_not_depending_on_input():
    x = RNG.standard_normal(3)
    out, pullback = fg.vjp(lambda x: np.ones(2), x)
    np.testing.assert_array_equal(out, np.ones(2))
    (gx,) = pullback(np.array([1.0, 2.0]))
    assert_same_tree(gx, x)
    np.testing.assert_array_equal(gx, 0.0)
    # part of a pytree output depends on the input, part does not
    out, pullback = fg.vjp(lambda x: {"dep": 3 * x, "const": 7.0}, x)
    assert_same_tree(out, {"dep": x, "const": np.float64(7.0)})
    (gx,) = pullback({"dep": np.ones(3), "const": 1.0})
    np.testing.assert_allclose(gx, 3.0)


def test_vjp_identity_and_constant_outputs():
    x = RNG.standard_normal((2, 2))
    out, pullback = fg.vjp(lambda x: (x, x), x)
    np.testing.assert_array_equal(out[0], x)
    v1, v2 = RNG.standard_normal((2, 2)), RNG.standard_normal((2, 2))
    np.testing.assert_allclose(pullback((v1, v2))[0], v1 + v2)


# --- grad and argnums --------------------------------------------------------------------------


def f3(x, y, z):
    return fnp.sum(x * fnp.sin(y)) + fnp.sum(z**3)


def test_grad_argnums_int():
    x, y, z = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(2)
    np.testing.assert_allclose(fg.grad(f3)(x, y, z), np.sin(y))
    np.testing.assert_allclose(fg.grad(f3, argnums=1)(x, y, z), x * np.cos(y))
    np.testing.assert_allclose(fg.grad(f3, argnums=2)(x, y, z), 3 * z**2)


def test_grad_argnums_negative():
    x, y, z = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(2)
    np.testing.assert_allclose(fg.grad(f3, argnums=-1)(x, y, z), 3 * z**2)
    np.testing.assert_allclose(fg.grad(f3, argnums=-3)(x, y, z), np.sin(y))


def test_grad_argnums_numpy_int_and_list():
    x, y, z = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(2)
    np.testing.assert_allclose(fg.grad(f3, argnums=np.int64(1))(x, y, z), x * np.cos(y))
    g = fg.grad(f3, argnums=[0, 2])(x, y, z)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g[1], 3 * z**2)


def test_grad_argnums_tuple():
    x, y, z = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(2)
    g = fg.grad(f3, argnums=(0, 2))(x, y, z)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g[0], np.sin(y))
    np.testing.assert_allclose(g[1], 3 * z**2)
    # the order of argnums is the order of the results; negative entries allowed
    g = fg.grad(f3, argnums=(-1, 1))(x, y, z)
    np.testing.assert_allclose(g[0], 3 * z**2)
    np.testing.assert_allclose(g[1], x * np.cos(y))
    # a 1-tuple gives a 1-tuple
    g = fg.grad(f3, argnums=(1,))(x, y, z)
    assert isinstance(g, tuple) and len(g) == 1
    np.testing.assert_allclose(g[0], x * np.cos(y))


def test_grad_against_finite_differences():
    A = RNG.standard_normal((3, 3))

    def f(x):
        return fnp.sum(fnp.tanh(A @ x) ** 2) + fnp.log(1 + x @ x)

    x = RNG.standard_normal(3)
    f_np = lambda x: np.sum(np.tanh(A @ x) ** 2) + np.log(1 + x @ x)
    np.testing.assert_allclose(fg.grad(f)(x), fd_grad(f_np, x), rtol=1e-6, atol=1e-8)


def test_grad_has_aux():
    x = RNG.standard_normal(3)
    g, aux = fg.grad(lambda x: (fnp.sum(x**2), {"x2": x * 2, "n": 3}), has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x)
    assert type(aux["x2"]) is np.ndarray  # auxiliary tracers become plain arrays
    np.testing.assert_allclose(aux["x2"], 2 * x)
    assert int(aux["n"]) == 3


def test_grad_has_aux_with_argnums_tuple():
    x, y = RNG.standard_normal(2), RNG.standard_normal(2)
    (gx, gy), aux = fg.grad(lambda x, y: (fnp.sum(x * y), x - y), argnums=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x)
    np.testing.assert_allclose(aux, x - y)


def test_value_and_grad():
    x = RNG.standard_normal(4)
    value, g = fg.value_and_grad(lambda x: fnp.sum(fnp.exp(x)))(x)
    assert type(value) is np.ndarray and value.shape == ()
    np.testing.assert_allclose(value, np.sum(np.exp(x)))
    np.testing.assert_allclose(g, np.exp(x))


def test_value_and_grad_has_aux_and_argnums():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    (value, aux), (gx, gy) = fg.value_and_grad(
        lambda x, y: (fnp.sum(x * y**2), {"y": y}), argnums=(0, 1), has_aux=True
    )(x, y)
    np.testing.assert_allclose(value, np.sum(x * y**2))
    np.testing.assert_allclose(aux["y"], y)
    np.testing.assert_allclose(gx, y**2)
    np.testing.assert_allclose(gy, 2 * x * y)
    (value, aux), gy = fg.value_and_grad(lambda x, y: (fnp.sum(x * y), 0.5), argnums=-1, has_aux=True)(x, y)
    np.testing.assert_allclose(gy, x)
    assert float(aux) == 0.5


# --- keyword arguments -------------------------------------------------------------------------


def scaled_loss(x, *, scale, shift=0.0, label="loss"):
    assert isinstance(label, str)
    return fnp.sum((x * scale + shift) ** 2)


def test_keyword_arguments_pass_through_and_are_not_differentiated():
    x = RNG.standard_normal(3)
    scale, shift = np.array(2.0), np.array(0.5)
    g = fg.grad(scaled_loss)(x, scale=scale, shift=shift, label="L")
    np.testing.assert_allclose(g, 2 * (x * scale + shift) * scale)
    value, g = fg.value_and_grad(scaled_loss)(x, scale=scale)
    np.testing.assert_allclose(value, np.sum((2 * x) ** 2))
    np.testing.assert_allclose(g, 8 * x)
    g = fg.elementwise_grad(lambda x, *, k: x * k)(x, k=3.0)
    np.testing.assert_allclose(g, 3.0)


def test_keyword_for_a_positional_parameter_is_not_differentiated():
    def f(x, y):
        return fnp.sum(x * y)

    x, y = RNG.standard_normal(2), RNG.standard_normal(2)
    np.testing.assert_allclose(fg.grad(f)(x, y=y), y)  # only x (argnums=0) is differentiated


# --- pytrees -----------------------------------------------------------------------------------


def tree_loss(p):
    """Sum of squares over every leaf of an arbitrary pytree (closed-form gradient 2 * leaf)."""
    return sum(fnp.sum(leaf**2) for leaf in tu.tree_leaves(p))


PYTREES = {
    "nested": lambda: ((np.ones(2), [np.arange(3.0), {"k": np.array(2.0)}]), {"z": np.ones((2, 2))}),
    "none": lambda: {"a": None, "b": (np.ones(3), None)},
    "namedtuple": lambda: Pair(np.arange(2.0), Pair(np.array(1.5), np.ones((1, 2)))),
    "dataclass": lambda: Linear(np.ones((2, 3)), np.arange(2.0)),
    "dataclass_meta": lambda: NamedLinear(np.ones((2, 3)), np.arange(2.0), "layer1"),
    "registered": lambda: [Scaled(np.arange(3.0), "m"), Scaled({"v": np.array(4.0)}, "s")],
    "float32": lambda: {"w": np.ones(3, np.float32), "b": np.arange(2.0)},
}


@pytest.mark.parametrize("name", PYTREES)
def test_grad_of_pytree_input(name):
    p = PYTREES[name]()
    g = fg.grad(tree_loss)(p)
    assert_same_tree(g, p)
    for gl, pl in zip(tu.tree_leaves(g), tu.tree_leaves(p), strict=True):
        np.testing.assert_allclose(gl, 2 * pl, rtol=1e-6)
    if name == "dataclass":
        assert isinstance(g, Linear)
    if name == "dataclass_meta":
        assert isinstance(g, NamedLinear) and g.name == "layer1"
    if name == "registered":
        assert [s.unit for s in g] == ["m", "s"]


@pytest.mark.parametrize("name", PYTREES)
def test_vjp_and_jvp_of_pytree_input_and_output(name):
    p = PYTREES[name]()
    double = lambda p: tu.tree_map(lambda v: 2 * v, p)
    out, pullback = fg.vjp(double, p)
    assert_same_tree(out, p)
    ct = tu.tree_map(lambda v: np.full(np.shape(v), 0.5, np.asarray(v).dtype), p)
    (g,) = pullback(ct)
    assert_same_tree(g, p)
    for leaf in tu.tree_leaves(g):
        np.testing.assert_allclose(leaf, 1.0)
    out, tangent = fg.jvp(double, (p,), (ct,))
    assert_same_tree(out, p)
    assert_same_tree(tangent, p)
    for leaf in tu.tree_leaves(tangent):
        np.testing.assert_allclose(leaf, 1.0)


def test_pytree_output_structure_of_vjp():
    x = RNG.standard_normal(3)
    out, pullback = fg.vjp(lambda x: {"s": fnp.sum(x), "pair": Pair(x * 2, [x[0]])}, x)
    assert_same_tree(out, {"s": np.float64(0), "pair": Pair(x, [np.float64(0)])})
    ct = {"s": 1.0, "pair": Pair(np.array([1.0, 2.0, 3.0]), [np.array(10.0)])}
    (g,) = pullback(ct)
    np.testing.assert_allclose(g, 1.0 + 2 * np.array([1.0, 2.0, 3.0]) + np.array([10.0, 0, 0]))


def test_python_list_of_floats_is_a_pytree():
    g = fg.grad(lambda xs: xs[0] * xs[1] ** 2)([3.0, 2.0])
    assert isinstance(g, list) and len(g) == 2
    assert_same_tree(g, [np.float64(0), np.float64(0)])
    np.testing.assert_allclose(g, [4.0, 12.0])


# --- dtypes and result types -------------------------------------------------------------------


def test_float32_in_float32_out():
    x = RNG.standard_normal(3).astype(np.float32)
    g = fg.grad(lambda x: fnp.sum(fnp.sin(x) * 2.0))(x)  # a Python float does not promote
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * np.cos(x), rtol=1e-6)
    value, g = fg.value_and_grad(lambda x: fnp.sum(x**2))(x)
    assert value.dtype == np.float32 and g.dtype == np.float32
    out, pullback = fg.vjp(fnp.exp, x)
    assert out.dtype == np.float32
    assert pullback(np.ones(3, np.float32))[0].dtype == np.float32
    out, t = fg.jvp(fnp.exp, (x,), (np.ones(3, np.float32),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    assert fg.elementwise_grad(fnp.tanh)(x).dtype == np.float32


def test_float32_gradient_even_when_computation_promotes():
    x = np.ones(3, np.float32)
    w = np.arange(3.0)  # float64: the computation runs in float64
    g = fg.grad(lambda x: fnp.sum(x * w))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, w)


def test_mixed_dtypes_each_gradient_keeps_its_dtype():
    x32, x64 = np.ones(2, np.float32), np.ones(2)
    g32, g64 = fg.grad(lambda a, b: fnp.sum(a * b), argnums=(0, 1))(x32, x64)
    assert g32.dtype == np.float32 and g64.dtype == np.float64


def test_scalars_come_back_as_0d_arrays():
    g = fg.grad(lambda x: x * x)(3.0)
    assert type(g) is np.ndarray and g.shape == () and g.dtype == np.float64
    assert float(g) == 6.0
    g = fg.grad(lambda x: x * x)(np.float32(3.0))
    assert type(g) is np.ndarray and g.shape == () and g.dtype == np.float32
    value, g = fg.value_and_grad(lambda x: fnp.sum(x))(np.ones(2))
    assert type(value) is np.ndarray and value.shape == ()
    out, pullback = fg.vjp(lambda x: fnp.sum(x * x), np.ones(2))
    assert type(out) is np.ndarray and out.shape == ()
    out, t = fg.jvp(lambda x: fnp.sum(x * x), (np.ones(2),), (np.ones(2),))
    assert type(out) is np.ndarray and type(t) is np.ndarray and out.shape == t.shape == ()
    assert float(t) == 4.0


def test_results_are_ndarrays_not_tracers():
    x = RNG.standard_normal(3)
    for result in [
        fg.grad(lambda x: fnp.sum(x))(x),
        fg.vjp(fnp.sin, x)[0],
        fg.vjp(fnp.sin, x)[1](x)[0],
        fg.jvp(fnp.sin, (x,), (x,))[0],
        fg.jvp(fnp.sin, (x,), (x,))[1],
        fg.elementwise_grad(fnp.sin)(x),
    ]:
        assert type(result) is np.ndarray


# --- functions whose output does not depend on the input ---------------------------------------


@pytest.mark.parametrize(
    "const, value",
    [(lambda x: np.array(2.0), 2.0), (lambda x: 2.0, 2.0), (lambda x: fnp.sum(np.ones(3)), 3.0)],
    ids=["array", "float", "numpy-op"],
)
def test_grad_of_constant_function_is_zero(const, value):
    x = RNG.standard_normal((2, 3))
    g = fg.grad(const)(x)
    assert_same_tree(g, x)
    np.testing.assert_array_equal(g, 0.0)
    v, g = fg.value_and_grad(const)(x)
    assert type(v) is np.ndarray and v.shape == () and float(v) == value
    np.testing.assert_array_equal(g, 0.0)


def test_jvp_and_elementwise_grad_of_constant_function():
    x = RNG.standard_normal(3)
    out, t = fg.jvp(lambda x: np.ones(2), (x,), (x,))
    np.testing.assert_array_equal(out, np.ones(2))
    assert_same_tree(t, np.ones(2))
    np.testing.assert_array_equal(t, 0.0)
    g = fg.elementwise_grad(lambda x: np.ones(2))(x)
    assert_same_tree(g, x)
    np.testing.assert_array_equal(g, 0.0)


def test_gradient_through_integer_ops_only_is_zero():
    # x only reaches the output through a comparison: no derivative flows
    x = RNG.standard_normal(4)
    g = fg.grad(lambda x: fnp.sum((x > 0) * 1.0))(x)
    np.testing.assert_array_equal(g, 0.0)


# --- elementwise_grad --------------------------------------------------------------------------


def test_elementwise_grad_of_elementwise_function():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(fg.elementwise_grad(fnp.tanh)(x), 1 - np.tanh(x) ** 2, rtol=1e-12)


def test_elementwise_grad_is_sum_of_jacobian_rows():
    A = RNG.standard_normal((3, 4))
    x = RNG.standard_normal(4)
    g = fg.elementwise_grad(lambda x: A @ fnp.sin(x))(x)
    np.testing.assert_allclose(g, np.ones(3) @ (A * np.cos(x)), rtol=1e-12)


def test_elementwise_grad_argnums_and_pytree_output():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    gx, gy = fg.elementwise_grad(lambda x, y: {"p": x * y, "s": x + y}, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y + 1)
    np.testing.assert_allclose(gy, x + 1)
    gy = fg.elementwise_grad(lambda x, y: x * y**2, argnums=-1)(x, y)
    np.testing.assert_allclose(gy, 2 * x * y)


# --- jvp ---------------------------------------------------------------------------------------


def test_jvp_closed_form():
    x, t = RNG.standard_normal(3), RNG.standard_normal(3)
    out, tout = fg.jvp(lambda x: fnp.exp(x) * x, (x,), (t,))
    np.testing.assert_allclose(out, np.exp(x) * x)
    np.testing.assert_allclose(tout, t * np.exp(x) * (1 + x), rtol=1e-12)


def test_jvp_several_primals_and_lists():
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    ta, tb = RNG.standard_normal(3), RNG.standard_normal(3)
    out, tout = fg.jvp(lambda a, b: a * fnp.sin(b), [a, b], [ta, tb])
    np.testing.assert_allclose(tout, ta * np.sin(b) + a * np.cos(b) * tb, rtol=1e-12)


def test_jvp_against_finite_differences():
    A = RNG.standard_normal((2, 3))
    f = lambda x: fnp.tanh(A @ x) * fnp.sum(x**2)
    f_np = lambda x: np.tanh(A @ x) * np.sum(x**2)
    x, t = RNG.standard_normal(3), RNG.standard_normal(3)
    eps = 1e-6
    fd = (f_np(x + eps * t) - f_np(x - eps * t)) / (2 * eps)
    np.testing.assert_allclose(fg.jvp(f, (x,), (t,))[1], fd, rtol=1e-6, atol=1e-9)


def test_jvp_has_aux():
    x, t = RNG.standard_normal(2), RNG.standard_normal(2)
    out, tout, aux = fg.jvp(lambda x: (x**2, {"cube": x**3}), (x,), (t,), has_aux=True)
    np.testing.assert_allclose(tout, 2 * x * t)
    assert type(aux["cube"]) is np.ndarray
    np.testing.assert_allclose(aux["cube"], x**3)


def test_jvp_integer_primal_carries_no_tangent():
    x = np.array(2.0)
    n = np.array(3)
    out, tout = fg.jvp(lambda x, n: x**n, (x, n), (np.array(1.0), np.array(5)))
    np.testing.assert_allclose(out, 8.0)
    np.testing.assert_allclose(tout, 3 * 2.0**2)


def test_jvp_is_linear_in_the_tangent():
    x = RNG.standard_normal(3)
    f = lambda x: fnp.sin(x) * fnp.sum(x)
    t1, t2 = RNG.standard_normal(3), RNG.standard_normal(3)
    j = lambda t: fg.jvp(f, (x,), (t,))[1]
    np.testing.assert_allclose(j(2 * t1 - 3 * t2), 2 * j(t1) - 3 * j(t2), rtol=1e-12, atol=1e-14)


# --- Python control flow on values -------------------------------------------------------------


def doubling(x):
    y = x * 2
    while fnp.linalg.norm(y) < 1000:
        y = y * 2
    return y


def piecewise(x):
    if x > 1.0:
        return x**3
    elif x > 0:
        return fnp.sin(x)
    return -x * 2.0


def _doublings(x):
    k, y = 1, x * 2
    while np.linalg.norm(y) < 1000:
        y, k = y * 2, k + 1
    return k


def test_while_loop_under_vjp():
    x = np.array([0.3, -1.2, 0.7])
    k = _doublings(x)
    out, pullback = fg.vjp(doubling, x)
    np.testing.assert_allclose(out, x * 2.0**k)
    v = np.array([0.1, 1.0, 0.0001])
    np.testing.assert_allclose(pullback(v)[0], v * 2.0**k)


def test_while_loop_under_jvp_and_grad():
    x = np.array([0.3, -1.2, 0.7])
    k = _doublings(x)
    t = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(fg.jvp(doubling, (x,), (t,))[1], t * 2.0**k)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(doubling(x)))(x), np.full(3, 2.0**k))


@pytest.mark.parametrize("x, expected", [(2.0, 3 * 2.0**2), (0.5, np.cos(0.5)), (-1.0, -2.0)])
def test_if_on_values_under_grad_vjp_jvp(x, expected):
    np.testing.assert_allclose(fg.grad(piecewise)(x), expected)
    out, pullback = fg.vjp(piecewise, x)
    np.testing.assert_allclose(pullback(1.0)[0], expected)
    np.testing.assert_allclose(fg.jvp(piecewise, (x,), (1.0,))[1], expected)
    np.testing.assert_allclose(fg.value_and_grad(piecewise)(x)[1], expected)


def test_control_flow_on_array_elements_and_item():
    def f(x):
        total = 0.0
        for i in range(x.shape[0]):
            if x[i] > 0:  # branches per element
                total = total + x[i] ** 2
        if fnp.sum(x) > 100:  # comparisons of 0-d values are concrete too
            total = total * 0.0
        return total

    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(fg.grad(f)(x), [2.0, 0.0, 6.0])
