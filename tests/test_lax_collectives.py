"""Collectives over named vmap axes (issue 9 §4): psum, pmean, pmax, pmin, all_gather,
psum_scatter, ppermute, axis_index; their derivatives, nesting over two names, jit; and the vmap
options JAX users pass (in_axes lists, spmd_axis_name).

Values are checked against NumPy on the stacked batch; derivatives against central finite
differences of the whole vmapped function; the per-example reverse mode inside ``vmap`` against
the gradient of the summed batch (the transpose of the batched computation, JAX's semantics).
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 2))  # 3 examples of shape (2,)


def named(f, **kw):
    return fg.vmap(f, axis_name="i", **kw)


def test_values_against_numpy():
    np.testing.assert_allclose(named(lambda x: lax.psum(x, "i"))(X), np.broadcast_to(X.sum(0), X.shape))
    np.testing.assert_allclose(named(lambda x: lax.pmean(x, "i"))(X), np.broadcast_to(X.mean(0), X.shape))
    np.testing.assert_allclose(named(lambda x: lax.pmax(x, "i"))(X), np.broadcast_to(X.max(0), X.shape))
    np.testing.assert_allclose(named(lambda x: lax.pmin(x, "i"))(X), np.broadcast_to(X.min(0), X.shape))
    np.testing.assert_allclose(named(lambda x: lax.all_gather(x, "i"))(X), np.broadcast_to(X, (3, 3, 2)))
    np.testing.assert_allclose(named(lambda x: lax.all_gather(x, "i", axis=1))(X),
                               np.broadcast_to(X.T, (3, 2, 3)))
    np.testing.assert_allclose(named(lambda x: lax.all_gather(x, "i", tiled=True))(X),
                               np.broadcast_to(X.reshape(-1), (3, 6)))
    np.testing.assert_array_equal(named(lambda x: lax.axis_index("i"))(X), [0, 1, 2])
    np.testing.assert_allclose(named(lambda x: lax.ppermute(x, "i", [(0, 2), (2, 1)]))(X),
                               np.stack([np.zeros(2), X[2], X[0]]))
    Y = RNG.standard_normal((3, 3, 2))  # each example: 3 blocks of shape (2,)
    np.testing.assert_allclose(named(lambda y: lax.psum_scatter(y, "i"))(Y), Y.sum(0))
    Z = RNG.standard_normal((3, 2, 6))  # tiled: dimension 1 split into 3 blocks of 2
    np.testing.assert_allclose(named(lambda z: lax.psum_scatter(z, "i", scatter_dimension=1, tiled=True))(Z),
                               np.stack([Z.sum(0)[:, 2 * i:2 * i + 2] for i in range(3)]))


def test_unbatched_operands_and_pytrees():
    # A value the same for every example: psum multiplies by the axis size.
    np.testing.assert_allclose(named(lambda x: x + lax.psum(1.0, "i"))(X), X + 3.0)
    np.testing.assert_allclose(named(lambda x: lax.all_gather(np.ones(2), "i"), in_axes=0)(X), np.ones((3, 3, 2)))
    out = named(lambda x: lax.psum({"a": x, "b": (2 * x,)}, "i"))(X)
    np.testing.assert_allclose(out["a"], np.broadcast_to(X.sum(0), X.shape))
    np.testing.assert_allclose(out["b"][0], np.broadcast_to(2 * X.sum(0), X.shape))
    np.testing.assert_array_equal(named(lambda x: fnp.full(2, lax.axis_size("i")))(X), np.full((3, 2), 3))


def _batch_functions():
    perm = [(0, 1), (1, 2), (2, 0)]
    return [
        ("psum", lambda x: fnp.sin(x) * lax.psum(x ** 2, "i")),
        ("pmean", lambda x: fnp.exp(lax.pmean(x * x, "i")) - x),
        ("pmax", lambda x: lax.pmax(x, "i") * x),
        ("pmin", lambda x: lax.pmin(fnp.sin(x), "i") ** 2),
        ("all_gather", lambda x: fnp.tanh(lax.all_gather(x, "i", axis=1)) * x[:, None]),
        ("all_gather_tiled", lambda x: lax.all_gather(x ** 2, "i", tiled=True)),
        ("psum_scatter", lambda x: lax.psum_scatter(fnp.concatenate([x, x[:1] ** 2]) * fnp.sin(x[0]), "i")),
        ("ppermute", lambda x: lax.ppermute(x ** 3, "i", perm) * x),
        ("axis_index", lambda x: x ** 2 * lax.axis_index("i")),
    ]


FUNCS = _batch_functions()
IDS = [name for name, _ in FUNCS]
XD = RNG.permutation(6).reshape(3, 2) * 0.4 - 1.0  # distinct values: no ties for pmax/pmin


@pytest.mark.parametrize("name,f", FUNCS, ids=IDS)
def test_derivatives_of_the_batched_function(name, f):
    check_grads(named(f), (XD,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name,f", FUNCS, ids=IDS)
def test_grad_inside_vmap_is_the_transpose_of_the_batch(name, f):
    loss = lambda x: fnp.sum(f(x) * np.arange(1.0, 1.0 + np.size(f(XD[0]))).reshape(np.shape(f(XD[0]))))  # noqa: E731
    per_example = named(fg.grad(loss))(XD)
    whole = fg.grad(lambda xs: fnp.sum(named(loss)(xs)))(XD)
    np.testing.assert_allclose(per_example, whole, rtol=1e-12, atol=1e-12)
    # jvp inside vmap: the batched tangent map, against forward mode of the whole batch.
    t = RNG.standard_normal(XD.shape)
    inside = named(lambda x, tx: fg.jvp(f, (x,), (tx,))[1])(XD, t)
    outside = fg.jvp(named(f), (XD,), (t,))[1]
    np.testing.assert_allclose(inside, outside, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,f", FUNCS, ids=IDS)
def test_jit_inside_and_outside_the_named_vmap(name, f):
    want = named(f)(XD)
    np.testing.assert_allclose(fg.jit(named(f))(XD), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(named(fg.jit(f))(XD), want, rtol=1e-12, atol=1e-12)
    g = fg.grad(lambda xs: fnp.sum(named(f)(xs) ** 2))
    np.testing.assert_allclose(fg.jit(g)(XD), g(XD), rtol=1e-10, atol=1e-12)


def test_two_named_axes_nest():
    A = RNG.standard_normal((2, 3))  # axis 'i' of size 2 outside, 'j' of size 3 inside

    def f(x):
        return (lax.psum(x, "i") * lax.psum(x, "j") + lax.psum(x, ("i", "j"))
                + lax.axis_index("i") * 10 + lax.axis_index("j") + lax.pmax(x, "j") * lax.pmean(x, "i"))

    nested = fg.vmap(fg.vmap(f, axis_name="j"), axis_name="i")
    want = (A.sum(0)[None, :] * A.sum(1)[:, None] + A.sum() + np.arange(2)[:, None] * 10 + np.arange(3)[None, :]
            + A.max(1)[:, None] * A.mean(0)[None, :])
    np.testing.assert_allclose(nested(A), want)
    np.testing.assert_array_equal(fg.vmap(fg.vmap(lambda x: lax.axis_index(("i", "j")), axis_name="j"),
                                          axis_name="i")(A), np.arange(6).reshape(2, 3))
    gathered = fg.vmap(fg.vmap(lambda x: lax.all_gather(x, "i"), axis_name="j"), axis_name="i")(A)
    np.testing.assert_allclose(gathered, np.broadcast_to(A.T[None, :, :], (2, 3, 2)))
    check_grads(nested, (A,), order=2, modes=("fwd", "rev"))
    # The same name bound twice: the innermost wins.
    inner = fg.vmap(fg.vmap(lambda x: lax.psum(x, "i"), axis_name="i"), axis_name="i")(A)
    np.testing.assert_allclose(inner, np.broadcast_to(A.sum(1, keepdims=True), A.shape))


def test_collective_errors():
    with pytest.raises(NameError, match="unbound axis name 'k'"):
        named(lambda x: lax.psum(x, "k"))(X)
    with pytest.raises(NameError, match="axis_name='i'"):
        lax.psum(np.ones(2), "i")
    with pytest.raises(ValueError, match="distinct"):
        named(lambda x: lax.ppermute(x, "i", [(0, 1), (2, 1)]))(X)
    with pytest.raises(ValueError, match="axis size 3"):
        named(lambda x: lax.psum_scatter(x, "i"))(X)
    with pytest.raises(TypeError, match="hashable"):
        fg.vmap(lambda x: x, axis_name=["i"])(X)


def test_vmap_in_axes_list_and_spmd_axis_name():
    a, b = RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    want = fg.vmap(fnp.dot, in_axes=(0, None))(a, b)
    np.testing.assert_allclose(fg.vmap(fnp.dot, in_axes=[0, None])(a, b), want)
    np.testing.assert_allclose(fg.vmap(lambda p: p[0] @ p[1], in_axes=([0, None],))([a, b]), want)
    np.testing.assert_allclose(fg.vmap(fnp.dot, in_axes=[0, None], spmd_axis_name="batch")(a, b), want)
    np.testing.assert_allclose(fg.vmap(lambda x: x * 2, spmd_axis_name=None)(a), a * 2)
