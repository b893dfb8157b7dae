"""Object arrays and derivatives: funcgrad differentiates arrays of numbers (float, complex). An
object array given as a differentiated argument is refused (tests/test_hardening.py); an object
array *made* from a value being differentiated (``x.astype(object)``, ``x * fractions``) is refused
as clearly, in reverse and forward mode, eagerly and under jit. Before, the traces handed such a
value on without its derivative, so the gradient through it was a silent zero. Object arrays that
do not depend on a differentiated value keep working."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import TracerConversionError

X = np.array([0.5, 2.0, -1.5])
FRACTIONS = np.array([Fraction(1, 3), Fraction(2, 5), Fraction(-3, 7)], dtype=object)


def as_float(v):
    return fnp.asarray(v, dtype=float)


# Each makes an object array from x; the derivative of each with respect to x is not zero.
MADE_FROM_X = {
    "astype": ("astype", lambda x: fnp.sum(as_float(x.astype(object)) ** 2)),
    "asarray": ("astype", lambda x: as_float(fnp.sum(fnp.asarray(x, dtype=object) * 3.0))),
    "fractions": ("multiply", lambda x: as_float(fnp.sum(x * FRACTIONS))),
    "fractions-plain-numpy": ("multiply", lambda x: as_float(np.sum(np.multiply(FRACTIONS, x)))),
}


@pytest.mark.parametrize("case", sorted(MADE_FROM_X))
def test_reverse_mode_refuses_an_object_array_made_from_a_differentiated_value(case):
    prim, f = MADE_FROM_X[case]
    match = rf"{prim} made an array of dtype object from a value being differentiated \(reverse mode\)"
    for transform in (fg.grad, lambda f: fg.jit(fg.grad(f)), fg.value_and_grad, fg.jacrev,
                      lambda f: fg.grad(fg.grad(lambda x: f(x * x[0])))):
        with pytest.raises(TracerConversionError, match=match):
            transform(f)(X)
    with pytest.raises(TracerConversionError, match="x.astype\\(float\\), not x.astype\\(object\\)"):
        fg.vjp(lambda x: x.astype(object), X)


def test_stop_gradient_lets_an_object_array_through_without_a_derivative():
    def f(x):
        exact = fnp.sum(fg.stop_gradient(x).astype(object) * FRACTIONS)  # a constant: no derivative
        return fnp.sum(x ** 2) * as_float(exact)

    exact = float(sum(FRACTIONS * X.astype(object)))
    np.testing.assert_allclose(fg.grad(f)(X), 2 * X * exact, rtol=1e-15)


def test_object_arrays_not_made_from_differentiated_values_still_work():
    # exact rational arithmetic on constants, then a float array: d/dx sum(x * c^2) = c^2
    c2 = as_float(FRACTIONS * FRACTIONS)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(x * as_float(FRACTIONS * FRACTIONS)))(X), c2, rtol=1e-15)
    # a non-differentiated object argument, used in the function
    g = fg.grad(lambda x, c: fnp.sum(x * as_float(c)), argnums=0)(X, FRACTIONS)
    np.testing.assert_allclose(g, FRACTIONS.astype(float), rtol=1e-15)
    # an integer cast carries no derivative, as before (not an error)
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(x.astype(np.int64) * x))(X), X.astype(np.int64))


@pytest.mark.parametrize("case", sorted(MADE_FROM_X))
def test_forward_mode_refuses_an_object_array_made_from_a_differentiated_value(case):
    prim, f = MADE_FROM_X[case]
    match = rf"{prim} made an array of dtype object from a value being differentiated \(forward mode\)"
    for transform in (lambda f: lambda x: fg.jvp(f, (x,), (np.ones(3),)), fg.jacfwd,
                      lambda f: fg.jit(lambda x: fg.jvp(f, (x,), (np.ones(3),))), fg.hessian):
        with pytest.raises(TracerConversionError, match=match):
            transform(f)(X)


def test_forward_mode_with_stop_gradient_and_constant_object_arrays():
    def f(x):
        exact = fnp.sum(fg.stop_gradient(x).astype(object) * FRACTIONS)
        return fnp.sum(x ** 2) * as_float(exact) + fnp.sum(x * as_float(FRACTIONS * FRACTIONS))

    t = np.array([1.0, -2.0, 0.5])
    exact = float(sum(FRACTIONS * X.astype(object)))
    want = np.sum((2 * X * exact + (FRACTIONS * FRACTIONS).astype(float)) * t)
    np.testing.assert_allclose(fg.jvp(f, (X,), (t,))[1], want, rtol=1e-14)
