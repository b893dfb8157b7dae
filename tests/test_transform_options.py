"""Transformation options JAX users pass (issue 9 §4): allow_int and float0 in grad/vjp/jacrev/jvp,
pullbacks and Partials returned from jit, and the clear errors of jit on generators and
non-callables. (vmap's axis_name, in_axes lists and spmd_axis_name: tests/test_lax_collectives.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.dtypes import float0
from funcgrad.tree_util import Partial

X = np.array([0.5, -1.0, 2.0])


def _is_float0_zeros(g, shape):
    return isinstance(g, np.ndarray) and g.dtype == float0 and g.shape == tuple(shape) and g.nbytes == 0


def test_grad_allow_int_gives_float0():
    f = lambda x, n, flags: fnp.sum(x ** 2) * n + fnp.sum(fnp.where(flags, x, 0.0))  # noqa: E731
    n, flags = np.int32(3), np.array([True, False, True])
    with pytest.raises(fg.IntegerInputError, match="allow_int=True"):
        fg.grad(f, argnums=(0, 1))(X, n, flags)
    gx, gn, gflags = fg.grad(f, argnums=(0, 1, 2), allow_int=True)(X, n, flags)
    np.testing.assert_allclose(gx, 2 * X * 3 + flags)
    assert _is_float0_zeros(gn, ()) and _is_float0_zeros(gflags, (3,))
    (value, g) = fg.value_and_grad(lambda n: n * 2.0, allow_int=True)(5)
    assert value == 10.0 and _is_float0_zeros(g, ())
    # Integers inside a pytree.
    g = fg.grad(lambda p: p["w"] @ p["w"] * p["k"], allow_int=True)({"w": X, "k": np.array(2)})
    np.testing.assert_allclose(g["w"], 4 * X)
    assert _is_float0_zeros(g["k"], ())


def test_vjp_integer_cotangents_are_float0():
    out, pullback = fg.vjp(lambda x, k: x[k] * 2.0, X, np.array([2, 0]))
    gx, gk = pullback(np.array([1.0, 10.0]))
    np.testing.assert_allclose(gx, [20.0, 0.0, 2.0])
    assert _is_float0_zeros(gk, (2,))


def test_jacrev_allow_int():
    jx, jn = fg.jacrev(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(X, np.array([1, 2, 3]))
    np.testing.assert_allclose(jx, np.diag([1.0, 2.0, 3.0]))
    assert _is_float0_zeros(jn, (3, 3))
    with pytest.raises(fg.IntegerInputError):
        fg.jacrev(lambda n: n * 1.0)(np.arange(3))


def test_jvp_float0_tangents_for_integer_inputs():
    n = np.array([1, 2, 3])
    out, tout = fg.jvp(lambda x, n: (x * n, n + 1), (X, n), (np.ones(3), np.zeros(3, float0)))
    np.testing.assert_allclose(out[0], X * n)
    np.testing.assert_allclose(tout[0], n.astype(float))
    assert _is_float0_zeros(tout[1], (3,))  # an integer output's tangent is float0 too
    with pytest.raises(fg.TangentMismatchError, match="float0"):
        fg.jvp(lambda x, n: x * n, (X, n), (np.ones(3), np.ones(3)))
    with pytest.raises(fg.TangentMismatchError, match="only for integer"):
        fg.jvp(lambda x: x, (X,), (np.zeros(3, float0),))


def test_jit_returning_a_partial():
    scale = fg.jit(lambda x: Partial(fnp.multiply, x * 2.0))(X)
    assert isinstance(scale, Partial)
    np.testing.assert_allclose(scale(np.ones(3)), 2 * X)

    def linearized(x):
        return fnp.sin(x), Partial(lambda c, t: c * t, fnp.cos(x))

    y, lin = fg.jit(linearized)(X)
    np.testing.assert_allclose(y, np.sin(X))
    np.testing.assert_allclose(lin(np.full(3, 2.0)), 2 * np.cos(X))


def test_jit_returning_a_pullback():
    f = lambda x: fnp.sum(fnp.sin(x) * x)  # noqa: E731
    pullback = fg.jit(lambda x: fg.vjp(f, x)[1])(X)
    assert isinstance(pullback, Partial)
    (g,) = pullback(np.array(2.0))
    np.testing.assert_allclose(g, 2 * (np.cos(X) * X + np.sin(X)))
    # A pullback made outside jit is a Partial too, and calls its recorded tape.
    out, pb = fg.vjp(f, X)
    np.testing.assert_allclose(pb(np.array(1.0))[0], np.cos(X) * X + np.sin(X))
    np.testing.assert_allclose(pb(np.array(3.0))[0], 3 * (np.cos(X) * X + np.sin(X)))
    pb_aux = fg.jit(lambda x: fg.vjp(lambda y: (f(y), y), x, has_aux=True)[1])(X)
    np.testing.assert_allclose(pb_aux(np.array(1.0))[0], np.cos(X) * X + np.sin(X))


def test_jit_of_generators_and_non_callables_is_a_type_error():
    def gen(x):
        yield x

    async def coro(x):
        return x

    with pytest.raises(TypeError, match="generator function"):
        fg.jit(gen)
    with pytest.raises(TypeError, match="coroutine function"):
        fg.jit(coro)
    with pytest.raises(TypeError, match="expects a function"):
        fg.jit(3)
    with pytest.raises(TypeError, match="expects a function"):
        fg.jit(np.ones(2))


def test_jit_of_an_object_that_cannot_be_weakly_referenced_works():
    # A deliberate difference from JAX (README, "Coming from JAX"): compiled code is kept by the
    # jitted object, not in a global weak cache, so such callables are fine.
    class Slotted:
        __slots__ = ()

        def __call__(self, x):
            return x * 2.0

    import weakref

    with pytest.raises(TypeError):
        weakref.ref(Slotted())
    np.testing.assert_allclose(fg.jit(Slotted())(X), 2 * X)
    np.testing.assert_allclose(fg.jit(np.multiply, static_argnums=1)(X, 3.0), 3 * X)
