"""Regression tests for bugs found in review: each test failed before its fix."""

from __future__ import annotations

import gc
import linecache
import weakref

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.lax as lax
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads
from funcgrad.tree_util import register_pytree_node

# --- results handed to users are fresh, writable arrays ------------------------------------------


def test_gradients_are_writable_arrays():
    g = fg.grad(lambda x: fnp.sum(x))(np.ones(5000))  # the sum's vjp is a broadcast
    g *= 0.1
    np.testing.assert_array_equal(g, np.full(5000, 0.1))
    first = fg.grad(lambda x: x)(np.array(2.0))  # the seed itself must not be handed out
    first += 1.0
    assert fg.grad(lambda x: x)(np.array(2.0)) == 1.0


def test_jit_outputs_are_fresh_copies_of_constants():
    c = np.arange(3.0)
    f = fg.jit(lambda x: (x * 2.0, np.zeros(3), c * 2.0))
    _, zeros, doubled = f(np.ones(3))
    zeros += 1.0
    doubled += 100.0
    again = f(np.ones(3))
    np.testing.assert_array_equal(again[1], np.zeros(3))
    np.testing.assert_array_equal(again[2], c * 2.0)
    g = fg.jit(fg.grad(lambda x: fnp.sum(x)))(np.ones(5000))
    g *= 2.0  # writable, not a broadcast view


# --- API arguments ---------------------------------------------------------------------------------


def test_duplicate_argnums_are_rejected():
    with pytest.raises(fg.ArgnumsError, match="twice"):
        fg.grad(lambda x, y: fnp.sum(x * x * y), argnums=(0, -2))(np.array(2.0), np.array(3.0))


def test_jacobians_accept_numpy_integer_argnums():
    jac = fg.jacrev(fnp.sin, argnums=np.int64(0))(np.array([0.0, 1.0]))
    assert isinstance(jac, np.ndarray)
    np.testing.assert_allclose(jac, np.diag(np.cos([0.0, 1.0])))


def test_unbatched_and_nondifferentiated_python_scalars_stay_weak():
    x32 = np.ones(3, np.float32)
    assert fg.vmap(lambda x, s: x * s, in_axes=(0, None))(np.ones((2, 3), np.float32), 0.5).dtype == np.float32
    assert fg.jvp(lambda x, n: x * n, (x32, 2), (x32, 0))[1].dtype == np.float32
    assert fg.vjp(lambda x, n: x * n, x32, 2)[0].dtype == np.float32


def test_unhashable_pytree_aux_data_is_a_clear_error():
    class Box:
        def __init__(self, v, meta):
            self.v, self.meta = v, meta

    register_pytree_node(Box, lambda b: ((b.v,), b.meta), lambda meta, ch: Box(ch[0], meta))
    with pytest.raises(TypeError, match="must be hashable"):
        fg.grad(lambda b: fnp.sum(b.v))(Box(np.ones(2), [1, 2]))


def test_repr_of_abstract_and_batched_tracers_does_not_raise():
    seen = []
    fg.jit(fg.grad(lambda x: (seen.append(repr(x)), fnp.sum(x * x))[1]))(np.ones(2))
    fg.vmap(fg.grad(lambda x: (seen.append(repr(x)), fnp.sum(x * x))[1]))(np.ones((2, 2)))
    assert len(seen) == 2 and all("float64" in s for s in seen)


# --- jit -------------------------------------------------------------------------------------------


def test_static_values_of_different_types_get_different_versions():
    f = fg.jit(lambda x, n: x ** n, static_argnums=1)
    assert f(np.arange(3), 2).dtype == np.int64
    assert f(np.arange(3), 2.0).dtype == np.float64


def test_static_argnums_naming_no_argument_are_rejected():
    with pytest.raises(fg.StaticArgumentError, match="names no argument"):
        fg.jit(lambda x: x, static_argnums=3)
    with pytest.raises(fg.StaticArgumentError, match="names no parameter"):
        fg.jit(lambda x: x, static_argnames="y")


def test_leaked_tracer_through_jit_is_detected():
    leaked = []
    fg.grad(lambda x: (leaked.append(x), fnp.sum(x))[1])(np.ones(2))
    with pytest.raises(fg.LeakedTracerError):
        fg.jit(fnp.sin)(leaked[0])
    with pytest.raises(fg.LeakedTracerError):
        fg.jit(lambda x: x * leaked[0])(np.ones(2))


def test_grad_of_jit_differentiates_only_the_requested_inputs():
    w = np.random.default_rng(0).standard_normal((4, 4))
    f = fg.jit(lambda w, x: fnp.sum(fnp.tanh(w @ x)))
    g = fg.grad(f, argnums=1)(w, np.ones(4))
    np.testing.assert_allclose(g, w.T @ (1 - np.tanh(w @ np.ones(4)) ** 2), rtol=1e-12)
    entry = next(iter(f.cache.values()))[0]
    _, bwd = entry.vjp_parts((False, True))
    assert len(bwd.program.outputs) == 1  # no cotangent computed for w
    assert sum(e.prim.name == "matmul" for e in bwd.program.eqns) == 1


def test_checkpoint_recomputation_survives_jit_optimisation():
    def inner(x):
        return fnp.sin(fnp.sin(x))

    f = fg.jit(fg.grad(lambda x: fnp.sum(fg.checkpoint(inner)(x) ** 2)))
    program = f.lower(np.ones(3)).program
    # two sines in the forward pass, the inner one again in the backward recomputation
    assert sum(e.prim.name == "sin" for e in program.eqns) == 3
    x = np.array([0.3, 0.7, 1.1])
    np.testing.assert_allclose(f(x), fg.grad(lambda x: fnp.sum(inner(x) ** 2))(x), rtol=1e-13)


def test_jitted_methods_can_be_inspected():
    class Model:
        def __init__(self):
            self.w = np.ones(3)

        @fg.jit
        def apply(self, x):
            return fnp.sum(self.w * x)

    m = Model()
    assert m.apply(np.ones(3)) == 3.0
    assert m.apply.cache_info().misses == 1
    assert "multiply" in str(m.apply.lower(np.ones(3)).program)


def test_generated_source_leaves_linecache_with_its_function():
    f = fg.jit(lambda x: x * 3.0)
    f(np.ones(2))
    filename = next(iter(f.cache.values()))[0].compiled.filename
    assert linecache.getlines(filename)
    ref = weakref.ref(next(iter(f.cache.values()))[0].compiled.fn)
    del f
    gc.collect()
    assert ref() is None and filename not in linecache.cache


# --- custom rules ----------------------------------------------------------------------------------


def test_custom_jvp_rule_returning_only_a_tangent_is_a_clear_error_in_reverse_mode():
    f = fg.custom_jvp(lambda x: fnp.sin(x))
    f.defjvp(lambda p, t: t[0] * fnp.cos(p[0]))
    with pytest.raises(fg.CustomRuleError, match="must return a pair"):
        fg.grad(f)(np.array(1.0))


def test_checkpoint_takes_keyword_and_static_arguments():
    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(fg.checkpoint(lambda x, k=1.0: x * k)(x, k=2.0), 2 * x)
    g = fg.grad(lambda x: fnp.sum(fg.checkpoint(lambda x, act: act(x), static_argnums=(1,))(x, fnp.sin)))(x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-14)
    with pytest.raises(fg.CustomRuleError, match="nondiff_argnums"):
        fg.grad(lambda x: fnp.sum(fg.checkpoint(lambda x, act: act(x))(x, fnp.sin)))(x)


def test_check_grads_in_reverse_mode_only_does_not_need_forward_rules():
    f = fg.custom_vjp(lambda x: np.asarray(x) ** 2 if not isinstance(x, fg.core.Tracer) else x * x)
    f.defvjp(lambda x: (x * x, x), lambda x, ct: (2.0 * ct * x,))
    check_grads(lambda x: fnp.sum(f(x)), (np.array([0.5, 1.5]),), order=1, modes=("rev",))


# --- funcgrad.numpy, linalg, lax -------------------------------------------------------------------


def test_linspace_with_traced_endpoints_under_jit_and_vmap():
    want = np.linspace(0.0, 1.0, 4)
    np.testing.assert_allclose(fg.jit(lambda s: fnp.linspace(s, 1.0, 4))(0.0), want)
    got = fg.vmap(lambda s: fnp.linspace(s, 1.0, 4))(np.array([0.0, 0.5]))
    np.testing.assert_allclose(got, np.stack([want, np.linspace(0.5, 1.0, 4)]))


@pytest.mark.parametrize("order", [2, -2, "nuc"])
def test_matrix_norm_gradient_is_zero_at_zero(order):
    g = fg.grad(lambda a: fnp.linalg.norm(a, order))(np.zeros((2, 2)))
    np.testing.assert_array_equal(g, np.zeros((2, 2)))
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert fnp.linalg.norm(a, order) == pytest.approx(np.linalg.norm(a, order), rel=1e-14)


def test_traced_quantile_under_jit_and_vmap_is_a_clear_error():
    a = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.0])
    with pytest.raises(fg.ConcretizationError, match="quantile"):
        fg.jit(lambda q: fnp.quantile(a, q))(0.3)
    with pytest.raises(fg.BatchedConcretizationError, match="quantile"):
        fg.vmap(lambda q: fnp.quantile(a, q))(np.array([0.3, 0.7]))


def test_switch_rejects_a_non_integer_index():
    branches = [lambda v: v, lambda v: v * v, lambda v: v ** 3]
    with pytest.raises(fg.ControlFlowTypeError, match="integer"):
        lax.switch(1.7, branches, 2.0)
    with pytest.raises(fg.ControlFlowTypeError, match="integer"):
        fg.jit(lambda i: lax.switch(i, branches, 2.0))(1.7)
    assert fg.jit(lambda i: lax.switch(i, branches, 2.0))(1) == 4.0


def test_python_number_results_of_rules_are_accepted():
    z = np.array([1 + 1j, 2 - 1j])

    def f(z):
        return 1j * fnp.imag(fnp.sum(z))

    out = fg.jvp(lambda z, t: fg.jvp(f, (z,), (t,))[1], (z, z), (z, z))
    assert all(isinstance(o, np.ndarray) for o in out)


@pytest.mark.parametrize("name, arg", [
    ("square", np.array([True, False])),
    ("rint", np.arange(3)),
    ("rint", np.array([True])),
    ("rint", np.array([1.5, 2.5], np.float32)),
    ("angle", np.array([True])),
    ("angle", np.arange(3)),
    ("angle", np.float32(1.0)),
    ("reciprocal", np.array([2, 1, -1, -2])),
])
def test_dtypes_of_integer_and_boolean_inputs_follow_numpy(name, arg):
    got, want = getattr(fnp, name)(arg), getattr(np, name)(arg)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


def test_jitted_function_returning_a_non_array_is_a_clear_error():
    with pytest.raises(fg.InvalidLeafError, match=r"output\[1\]"):
        fg.jit(lambda x: (x, "text"))(np.ones(2))
