"""Hardening (issue 10 §3-§4): copies and pickles of traced values, jitted functions in pickles,
exact derivatives at the edges (cumprod at zeros, max/min with NaN, det of singular matrices),
no reference cycle in checkpoint, clear errors for object arrays and iterators, and check_grads at
NaNs. Expected values are closed forms written by hand or NumPy results.
"""

from __future__ import annotations

import copy
import gc
import pickle
import weakref
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import InvalidLeafError, TracerConversionError
from funcgrad.test_util import check_grads

# --- §3 copies and pickles ----------------------------------------------------------------------


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copy_of_a_tracer_keeps_the_derivative(copier: Any) -> None:
    x = np.array([1.0, 2.0])
    # the case: the whole gradient vanished, not only the copied term
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(copier(v) * v))(x), [2.0, 4.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(copier(v) ** 3))(x), 3 * x ** 2)
    # forward mode, nested, containers of tracers, and under vmap and jit
    assert fg.jvp(lambda v: copier(v) * v, (x,), (np.ones(2),))[1].tolist() == [2.0, 4.0]
    np.testing.assert_array_equal(fg.grad(fg.grad(lambda s: copier(s) ** 3))(2.0), 12.0)
    np.testing.assert_array_equal(
        fg.grad(lambda v: fnp.sum(copier({"a": [v]})["a"][0] * v))(x), [2.0, 4.0])
    np.testing.assert_array_equal(fg.vmap(lambda v: copier(v) * 2.0)(x), 2 * x)
    np.testing.assert_array_equal(fg.jit(fg.grad(lambda v: fnp.sum(copier(v) * v)))(x), [2.0, 4.0])


def test_pickling_a_tracer_is_a_clear_error() -> None:
    x = np.array([1.0, 2.0])
    for transform in (lambda f: fg.grad(lambda v: fnp.sum(f(v))), lambda f: lambda v: fg.jvp(f, (v,), (v,)),
                      lambda f: fg.vmap(f), lambda f: fg.jit(f)):
        with pytest.raises(TracerConversionError, match="cannot pickle a traced value"):
            transform(lambda v: pickle.loads(pickle.dumps(v)) * v)(x)


def _double_sin(x: Any) -> Any:
    return fnp.sin(x) * 2.0


_jitted_module_level = fg.jit(_double_sin)


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_jitted_function_pickles_before_and_after_its_first_call(protocol: int) -> None:
    x = np.linspace(0, 1, 3)
    before = pickle.loads(pickle.dumps(_jitted_module_level, protocol))
    np.testing.assert_allclose(before(x), 2 * np.sin(x))
    _jitted_module_level(x)  # compiled code in the cache now
    after = pickle.loads(pickle.dumps(_jitted_module_level, protocol))
    assert after.cache_info().size == 0  # the compiled cache is not pickled, it is rebuilt
    np.testing.assert_allclose(after(x), 2 * np.sin(x))
    assert after.cache_info().misses == 1
    static = fg.jit(np.multiply, static_argnums=1)
    static(x, 3.0)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(static, protocol))(x, 3.0), 3 * x)
    assert copy.deepcopy(_jitted_module_level)(x).tolist() == (2 * np.sin(x)).tolist()


# --- §4 cumprod at zeros ----------------------------------------------------------------------------


def test_cumprod_derivatives_are_exact_at_zeros() -> None:
    x = np.array([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.cumprod(v)))(x), [1.0, 8.0, 0.0])
    np.testing.assert_array_equal(fg.jvp(fnp.cumprod, (x,), (np.ones(3),))[1], [1.0, 2.0, 6.0])
    # sum(cumprod(x)) = x0 + x0 x1 + x0 x1 x2 + x0 x1 x2 x3, Hessian at two zeros by hand
    h = fg.hessian(lambda v: fnp.sum(fnp.cumprod(v)))(np.array([2.0, 0.0, 0.0, 3.0]))
    np.testing.assert_array_equal(h, [[0, 1, 0, 0], [1, 0, 8, 0], [0, 8, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(fg.jit(fg.grad(lambda v: fnp.sum(fnp.cumprod(v))))(x), [1.0, 8.0, 0.0])
    batch = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(fg.vmap(fg.grad(lambda v: fnp.sum(fnp.cumprod(v))))(batch),
                                  [[1.0, 8.0, 0.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 6), 1), ((4, 3), 0), ((0,), 0), ((1,), 0), ((2, 0), 1),
                                        ((2, 3, 4), 1)])
def test_cumprod_matches_finite_differences(shape: tuple, axis: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    if x.size:
        x.flat[0] = 0.0  # a zero among the values
    check_grads(lambda a: fnp.cumprod(a, axis=axis), (x,), order=2)
    check_grads(lambda a: fnp.cumprod(a, axis=axis), (x + 1j * rng.standard_normal(shape),), order=2)


# --- §4 max and min with NaN ------------------------------------------------------------------------


def test_max_and_min_give_the_derivative_to_nan_elements() -> None:
    np.testing.assert_array_equal(fg.grad(fnp.max)(np.array([np.nan, 1.0])), [1.0, 0.0])
    np.testing.assert_array_equal(fg.grad(fnp.min)(np.array([3.0, np.nan, np.nan])), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(fg.jvp(fnp.max, (np.array([np.nan, 1.0]),), (np.array([2.0, 5.0]),))[1], 2.0)
    rows = np.array([[np.nan, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.max(v, axis=1)))(rows), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(fg.jit(fg.grad(fnp.max))(np.array([np.nan, 1.0])), [1.0, 0.0])
    np.testing.assert_array_equal(fg.grad(fnp.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])  # ties unchanged


# --- §4 det at singular matrices --------------------------------------------------------------------


def _adjugate_2x2(a: np.ndarray) -> np.ndarray:
    return np.array([[a[1, 1], -a[0, 1]], [-a[1, 0], a[0, 0]]])


SINGULAR = [np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, 0.0]]),
            np.array([[1.0 + 1j, 2.0], [0.5 + 0.5j, 1.0]])]


@pytest.mark.parametrize("a", SINGULAR, ids=["rank1", "zero", "nilpotent", "complex"])
def test_grad_of_det_is_the_adjugate_at_singular_matrices(a: np.ndarray) -> None:
    want = _adjugate_2x2(a).T
    if a.dtype.kind == "c":
        # JAX's convention: grad of Re(h(z)) for a holomorphic h is h'(z), unconjugated
        got = fg.grad(lambda m: fnp.real(fnp.linalg.det(m)))(a)
        np.testing.assert_allclose(got, want, atol=1e-12)
        np.testing.assert_allclose(fg.grad(fnp.linalg.det, holomorphic=True)(a), want, atol=1e-12)
    else:
        np.testing.assert_allclose(fg.grad(fnp.linalg.det)(a), want, atol=1e-12)
        np.testing.assert_allclose(fg.jacfwd(fnp.linalg.det)(a), want, atol=1e-12)
        np.testing.assert_allclose(fg.jit(fg.grad(fnp.linalg.det))(a), want, atol=1e-12)


def test_grad_of_det_3x3_rank_deficient() -> None:
    # rank 2: adj(A) = (cofactor matrix)^T, computed by hand from the minors
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    cof = np.array([[(a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]), -(a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0]),
                     (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])],
                    [-(a[0, 1] * a[2, 2] - a[0, 2] * a[2, 1]), (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]),
                     -(a[0, 0] * a[2, 1] - a[0, 1] * a[2, 0])],
                    [(a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]), -(a[0, 0] * a[1, 2] - a[0, 2] * a[1, 0]),
                     (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0])]])
    np.testing.assert_allclose(fg.grad(fnp.linalg.det)(a), cof, atol=1e-12)
    np.testing.assert_allclose(fg.vmap(fg.grad(fnp.linalg.det))(np.stack([a, np.eye(3)])), [cof, np.eye(3)],
                               atol=1e-12)


def test_det_derivatives_of_regular_matrices() -> None:
    rng = np.random.default_rng(2)
    for shape in [(3, 3), (2, 4, 4), (1, 1), (0, 0)]:
        a = rng.standard_normal(shape)
        check_grads(fnp.linalg.det, (a,), order=2)
        check_grads(fnp.linalg.det, (a + 1j * rng.standard_normal(shape),), order=2)
    # the Hessian of det at the identity (2x2): d2 det = [[0,0,0,1],[0,0,-1,0],[0,-1,0,0],[1,0,0,0]]
    h = fg.hessian(fnp.linalg.det)(np.eye(2)).reshape(4, 4)
    np.testing.assert_allclose(h, [[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]], atol=1e-12)


# --- §4 checkpoint frees what it closes over --------------------------------------------------------


def test_checkpoint_has_no_reference_cycle() -> None:
    class Tracked(np.ndarray):
        pass

    def make() -> tuple[Any, weakref.ref]:
        w = np.ones(3).view(Tracked)
        f = fg.checkpoint(lambda x: fnp.sum(fnp.sin(x * w)))
        np.testing.assert_allclose(fg.grad(f)(np.zeros(3)), np.ones(3))
        return f, weakref.ref(w)

    gc.disable()
    try:
        f, ref = make()
        assert ref() is not None
        del f
        assert ref() is None, "checkpoint kept a closed-over array alive until gc.collect()"
    finally:
        gc.enable()


def test_checkpoint_with_static_arguments_still_works() -> None:
    f = fg.checkpoint(lambda x, n, y: fnp.sum(fnp.sin(x) ** n * y), static_argnums=(1,))
    x, y = np.array([0.3, 0.7]), np.array([2.0, -1.0])
    np.testing.assert_allclose(fg.grad(f)(x, 2, y), 2 * np.sin(x) * np.cos(x) * y)
    np.testing.assert_allclose(fg.grad(f, argnums=2)(x, 2, y), np.sin(x) ** 2)


# --- §4 clear errors ----------------------------------------------------------------------------------


def test_object_array_is_rejected_naming_the_leaf() -> None:
    x = np.array([1.0, 2.0], dtype=object)
    with pytest.raises(InvalidLeafError, match=r"grad differentiates with respect to x, an array of dtype object"):
        fg.grad(lambda x: fnp.sum(x * x))(x)
    with pytest.raises(InvalidLeafError, match=r"params\['w'\], an array of dtype object"):
        fg.grad(lambda params: fnp.sum(params["w"] ** 2))({"w": x})
    with pytest.raises(InvalidLeafError, match="dtype object"):
        fg.vjp(lambda x: x * x, x)
    with pytest.raises(InvalidLeafError, match="dtype object"):
        fg.jvp(lambda x: x * x, (x,), (x,))
    with pytest.raises(InvalidLeafError, match="jacrev differentiates with respect to x"):
        fg.jacrev(lambda x: x * x)(x)
    with pytest.raises(InvalidLeafError, match="dtype <U1"):
        fg.grad(lambda x: fnp.sum(x))(np.array(["a"]))
    # a non-differentiated argument may still be anything
    np.testing.assert_array_equal(fg.grad(lambda x, s: fnp.sum(x))(np.ones(2), np.array(["a"])), [1.0, 1.0])


@pytest.mark.parametrize("value,type_name", [(iter([1.0, 2.0]), "list_iterator"), ((i for i in range(2)), "generator"),
                                             ("ab", "str"), ({1.0, 2.0}, "set"), (object(), "object")])
def test_vmap_names_the_type_of_a_non_array_argument(value: Any, type_name: str) -> None:
    with pytest.raises(InvalidLeafError, match=rf"args\[0\] is a {type_name}, but vmap maps over arrays"):
        fg.vmap(lambda x: x * 2)(value)
    # unmapped, it passes through
    assert fg.vmap(lambda x, s: x * 2, in_axes=(0, None))(np.ones(2), value).tolist() == [2.0, 2.0]


# --- §4 check_grads at NaNs ---------------------------------------------------------------------------


def test_check_grads_accepts_nans_in_the_same_places() -> None:
    with np.errstate(invalid="ignore"):
        check_grads(fnp.sqrt, (np.array([-1.0, 2.0]),), order=2)
        check_grads(fnp.sqrt, (np.array([-1.0, 2.0], np.float32),), order=1)


def test_check_grads_still_catches_a_wrong_derivative_next_to_a_nan() -> None:
    @fg.custom_jvp
    def wrong_sqrt(x: Any) -> Any:
        return fnp.sqrt(x)

    wrong_sqrt.defjvp(lambda p, t: (fnp.sqrt(p[0]), t[0] * 0.6 / fnp.sqrt(p[0])))
    with np.errstate(invalid="ignore"), pytest.raises(AssertionError, match="forward mode"):
        check_grads(wrong_sqrt, (np.array([-1.0, 2.0]),), order=1, modes=("fwd",))

    @fg.custom_vjp
    def wrong_rev(x: Any) -> Any:
        return fnp.sqrt(x)

    wrong_rev.defvjp(lambda x: (fnp.sqrt(x), x), lambda x, ct: (ct * 0.6 / fnp.sqrt(x),))
    with np.errstate(invalid="ignore"), pytest.raises(AssertionError, match="reverse mode"):
        check_grads(wrong_rev, (np.array([4.0, 2.0]),), order=1, modes=("rev",))


def test_check_grads_float32_tolerance_grows_with_the_output_size() -> None:
    from funcgrad.test_util import _leaf_tol

    small, big = np.zeros(3, np.float32), np.zeros(1000, np.float32)
    assert _leaf_tol(2e-2, False, small, small) == 2e-2
    assert _leaf_tol(2e-2, False, big, big) == pytest.approx(2.0)
    assert _leaf_tol(1e-5, False, big.astype(np.float64), big) == 1e-5  # float64 unscaled
    assert _leaf_tol(1e-3, True, big, big) == 1e-3  # a given tolerance is kept
    # 10000 float32 values: a step of 1e-3 reorders close neighbours, so the finite difference of
    # sort is off by O(1) in a few places; a tolerance that grows with the size accepts it, as JAX's does
    x = np.random.default_rng(0).standard_normal(10000).astype(np.float32)
    check_grads(fnp.sort, (x,), order=1)
