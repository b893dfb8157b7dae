"""Nested transformations: no perturbation confusion, higher derivatives, HVPs, vjp inside grad.

Expected values are closed forms (and central finite differences as a second opinion).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree_util as tu

RNG = np.random.default_rng(1)


def derivative(mode):
    """d/dx of a scalar function of a scalar, by the given transformation."""

    def by_grad(f):
        return fg.grad(f)

    def by_jvp(f):
        return lambda x: fg.jvp(f, (x,), (1.0,))[1]

    def by_vjp(f):
        def d(x):
            out, pullback = fg.vjp(f, x)
            return pullback(1.0)[0]

        return d

    return {"grad": by_grad, "jvp": by_jvp, "vjp": by_vjp}[mode]


MODES = ["grad", "jvp", "vjp"]
PAIRS = list(itertools.product(MODES, MODES))


# --- perturbation confusion --------------------------------------------------------------------


def test_no_perturbation_confusion_grad_grad():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (confusing the two perturbations gives 2)
    f = lambda x: x * fg.grad(lambda y: x + y)(1.0)
    assert float(fg.grad(f)(2.0)) == 1.0
    assert float(fg.grad(f)(-7.5)) == 1.0


def test_no_perturbation_confusion_jvp_inside_grad():
    f = lambda x: x * fg.jvp(lambda y: x + y, (np.array(1.0),), (np.array(1.0),))[1]
    assert float(fg.grad(f)(2.0)) == 1.0


def test_no_perturbation_confusion_grad_inside_jvp():
    f = lambda x: x * fg.grad(lambda y: x + y)(1.0)
    out, t = fg.jvp(f, (np.array(2.0),), (np.array(1.0),))
    assert float(out) == 2.0
    assert float(t) == 1.0


@pytest.mark.parametrize("outer, inner", PAIRS, ids=[f"{o}-of-{i}" for o, i in PAIRS])
def test_no_perturbation_confusion_every_pair(outer, inner):
    d_out, d_in = derivative(outer), derivative(inner)
    x = 1.7
    # d/dx [x * d/dy (x + y)] = 1
    np.testing.assert_allclose(d_out(lambda x: x * d_in(lambda y: x + y)(1.0))(x), 1.0, rtol=1e-14)
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    np.testing.assert_allclose(d_out(lambda x: x * d_in(lambda y: x * y)(3.0))(x), 2 * x, rtol=1e-14)
    # d/dx [d/dy (x * y**2) at y = x] = d/dx [2 x**2] = 4x
    np.testing.assert_allclose(d_out(lambda x: d_in(lambda y: x * y**2)(x))(x), 4 * x, rtol=1e-14)


def test_no_confusion_with_three_levels():
    # d/dx [ x * d/dy [ y * d/dz (x + y + z) ] ] = d/dx [x * 1] = 1
    f = lambda x: x * fg.grad(lambda y: y * fg.grad(lambda z: x + y + z)(1.0))(1.0)
    assert float(fg.grad(f)(0.5)) == 1.0
    # d/dx [ x * d/dy [ x * y * d/dz (x * z) ] ] = d/dx [x * x * x] = 3x**2
    g = lambda x: x * fg.grad(lambda y: x * y * fg.grad(lambda z: x * z)(2.0))(1.0)
    np.testing.assert_allclose(fg.grad(g)(0.5), 3 * 0.5**2, rtol=1e-14)


# --- higher derivatives ------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, 0.7, -2.3, np.pi / 2])
def test_fourth_derivative_of_sin_grad_nested(x):
    d4 = fg.grad(fg.grad(fg.grad(fg.grad(fnp.sin))))
    np.testing.assert_allclose(d4(x), np.sin(x), rtol=1e-13, atol=1e-15)
    d3 = fg.grad(fg.grad(fg.grad(fnp.sin)))
    np.testing.assert_allclose(d3(x), -np.cos(x), rtol=1e-13, atol=1e-15)


def test_fourth_derivative_of_sin_elementwise_grad():
    x = np.linspace(-3, 3, 13)
    d = fnp.sin
    for _ in range(4):
        d = fg.elementwise_grad(d)
    np.testing.assert_allclose(d(x), np.sin(x), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("modes", [("jvp",) * 4, ("grad", "jvp", "vjp", "jvp"), ("jvp", "grad", "jvp", "grad")],
                         ids=["fwd4", "mixed1", "mixed2"])
def test_fourth_derivative_of_sin_mixed_modes(modes):
    d = fnp.sin
    for m in modes:
        d = derivative(m)(d)
    np.testing.assert_allclose(d(0.9), np.sin(0.9), rtol=1e-13)


def test_second_derivative_of_vector_function_elementwise():
    x = np.linspace(0.5, 2.0, 4)
    d2 = fg.elementwise_grad(fg.elementwise_grad(lambda x: x**3 * fnp.log(x)))
    # (x^3 log x)'' = 6x log x + 5x
    np.testing.assert_allclose(d2(x), 6 * x * np.log(x) + 5 * x, rtol=1e-12)


# --- grad of grad of a pytree function ----------------------------------------------------------


def f_tree(p):
    return fnp.sum(fnp.sin(p["w"])) * fnp.sum(p["b"] ** 2)


def test_grad_of_grad_of_pytree_function_closed_form():
    p = {"w": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    w, b = p["w"], p["b"]
    sb, ssin = np.sum(b**2), np.sum(np.sin(w))

    g = fg.grad(f_tree)(p)
    np.testing.assert_allclose(g["w"], np.cos(w) * sb, rtol=1e-13)
    np.testing.assert_allclose(g["b"], 2 * ssin * b, rtol=1e-13)

    # h(p) = sum of all gradient entries = sum(cos w) * sb + 2 * ssin * sum(b)
    h = lambda p: sum(fnp.sum(leaf) for leaf in tu.tree_leaves(fg.grad(f_tree)(p)))
    gh = fg.grad(h)(p)
    assert set(gh) == {"w", "b"} and gh["w"].shape == (3,) and gh["b"].shape == (2,)
    np.testing.assert_allclose(gh["w"], -np.sin(w) * sb + 2 * np.cos(w) * np.sum(b), rtol=1e-12)
    np.testing.assert_allclose(gh["b"], 2 * np.sum(np.cos(w)) * b + 2 * ssin, rtol=1e-12)


def test_grad_of_squared_gradient_norm_of_pytree_function():
    p = {"w": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    w, b = p["w"], p["b"]
    sb, ssin, c2 = np.sum(b**2), np.sum(np.sin(w)), np.sum(np.cos(w) ** 2)

    def gnorm2(p):
        g = fg.grad(f_tree)(p)
        return fnp.sum(g["w"] ** 2) + fnp.sum(g["b"] ** 2)

    # gnorm2 = sb**2 * c2 + 4 * ssin**2 * sb
    np.testing.assert_allclose(gnorm2(p), sb**2 * c2 + 4 * ssin**2 * sb, rtol=1e-13)
    gg = fg.grad(gnorm2)(p)
    np.testing.assert_allclose(gg["w"], -2 * sb**2 * np.cos(w) * np.sin(w) + 8 * ssin * sb * np.cos(w), rtol=1e-12)
    np.testing.assert_allclose(gg["b"], 4 * b * (sb * c2 + 2 * ssin**2), rtol=1e-12)

    # second opinion: central differences on the w leaf
    eps = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = eps
        plus = {"w": w + e, "b": b}
        minus = {"w": w - e, "b": b}
        fd = (float(gnorm2(plus)) - float(gnorm2(minus))) / (2 * eps)
        np.testing.assert_allclose(gg["w"][i], fd, rtol=1e-6)


# --- Hessian-vector products --------------------------------------------------------------------


def cubic(x, a):
    return fnp.sum(x**3) + fnp.dot(a, x) ** 2


def test_hvp_forward_over_reverse():
    x, a, v = RNG.standard_normal(4), RNG.standard_normal(4), RNG.standard_normal(4)
    H = np.diag(6 * x) + 2 * np.outer(a, a)
    g, hv = fg.jvp(lambda x: fg.grad(cubic)(x, a), (x,), (v,))
    np.testing.assert_allclose(g, 3 * x**2 + 2 * a * np.dot(a, x), rtol=1e-13)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12)


def test_hvp_reverse_over_reverse_and_reverse_over_forward():
    x, a, v = RNG.standard_normal(4), RNG.standard_normal(4), RNG.standard_normal(4)
    H = np.diag(6 * x) + 2 * np.outer(a, a)
    hv = fg.grad(lambda x: fnp.dot(fg.grad(cubic)(x, a), v))(x)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12)
    hv = fg.grad(lambda x: fg.jvp(lambda x: cubic(x, a), (x,), (v,))[1])(x)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12)


def test_hvp_of_pytree_function():
    p = {"w": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    v = {"w": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    w, b = p["w"], p["b"]
    _, hv = fg.jvp(fg.grad(f_tree), (p,), (v,))
    # Hessian blocks of sum(sin w) * sum(b**2)
    sb, ssin = np.sum(b**2), np.sum(np.sin(w))
    hww = np.diag(-np.sin(w) * sb)
    hwb = 2 * np.outer(np.cos(w), b)
    hbb = 2 * ssin * np.eye(2)
    np.testing.assert_allclose(hv["w"], hww @ v["w"] + hwb @ v["b"], rtol=1e-12)
    np.testing.assert_allclose(hv["b"], hwb.T @ v["w"] + hbb @ v["b"], rtol=1e-12)


# --- grad of a function that calls vjp -----------------------------------------------------------


def test_grad_of_function_using_a_pullback():
    def h(x):
        # inner function closes over x; its pullback at z = x is ct * cos(x) * x
        out, pullback = fg.vjp(lambda z: fnp.sin(z) * x, x)
        (gz,) = pullback(x**2)
        return fnp.sum(gz)  # = sum(x**3 cos x)

    x = RNG.standard_normal(3)
    np.testing.assert_allclose(h(x), np.sum(x**3 * np.cos(x)), rtol=1e-13)
    np.testing.assert_allclose(fg.grad(h)(x), 3 * x**2 * np.cos(x) - x**3 * np.sin(x), rtol=1e-12)


def test_grad_of_function_calling_pullback_twice():
    def h(x):
        out, pullback = fg.vjp(lambda z: z**2, x)
        (g1,) = pullback(np.ones(3))  # 2x
        (g2,) = pullback(out)  # 2x * x**2 = 2x**3
        return fnp.sum(g1 * g2)  # 4 sum(x**4)

    x = RNG.standard_normal(3)
    np.testing.assert_allclose(fg.grad(h)(x), 16 * x**3, rtol=1e-12)


def test_jvp_of_function_using_a_pullback():
    def h(x):
        out, pullback = fg.vjp(lambda z: fnp.exp(z) * z, x)
        return pullback(np.ones(3))[0]  # exp(x) (1 + x)

    x, t = RNG.standard_normal(3), RNG.standard_normal(3)
    _, ht = fg.jvp(h, (x,), (t,))
    np.testing.assert_allclose(ht, t * np.exp(x) * (2 + x), rtol=1e-12)


def test_nested_float32_stays_float32():
    x = np.float32(0.3)
    d2 = fg.grad(fg.grad(lambda x: fnp.sin(x) * x))(x)
    assert d2.dtype == np.float32
    np.testing.assert_allclose(d2, 2 * np.cos(0.3) - 0.3 * np.sin(0.3), rtol=1e-6)
