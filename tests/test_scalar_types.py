"""funcgrad.numpy's scalar types (``fnp.float32``...): calling one on a traced value casts it, as
``jnp.float32(x)`` does in JAX (issue 15, "jax -> funcgrad" by imports only), while every NumPy use of
the type (``dtype=``, ``np.dtype``, ``isinstance``, ``issubdtype``, ``finfo``, equality, pickling)
behaves as with NumPy's type, and concrete input gives exactly NumPy's result."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.dtypes import float0
from funcgrad.numpy.scalar_types import SCALAR_TYPE_NAMES
from funcgrad.test_util import check_grads

X = np.array([0.3, -1.2, 2.5])
FLOAT_NAMES = ["float16", "float32", "float64", "half", "single", "double", "longdouble"]
INT_NAMES = ["int8", "int16", "int32", "int64", "uint8", "uint32", "intp", "int_", "short", "longlong", "ubyte"]


# --- casting traced values ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", FLOAT_NAMES + INT_NAMES + ["bool_", "bool", "complex64", "complex128"])
def test_cast_under_jit_and_vmap_keeps_shape_and_gives_the_dtype(name):
    t = getattr(fnp, name)
    want = X.astype(np.dtype(getattr(np, name)))
    for wrap in (fg.jit, fg.vmap):
        out = wrap(lambda x: t(x))(X)
        assert type(out) is np.ndarray and out.dtype == want.dtype and out.shape == X.shape, (wrap, out)
        np.testing.assert_array_equal(out, want)
    scalar = fg.jit(lambda x: t(x))(np.float64(2.0))
    assert scalar.shape == () and scalar.dtype == np.dtype(getattr(np, name))


def test_float_casts_are_differentiable_against_closed_forms():
    # d/dx sum(float32(x)^2) = 2 x (rounded to float32)
    g = fg.grad(lambda x: fnp.sum(fnp.float32(x) ** 2))(X)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * X.astype(np.float32), rtol=1e-6)
    # a float32 input cast up to float64: the gradient comes back as float32
    x32 = X.astype(np.float32)
    g32 = fg.grad(lambda x: fnp.sum(fnp.sin(fnp.float64(x))))(x32)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, np.cos(x32.astype(np.float64)), rtol=1e-6)
    # second order through a cast of a 0-d value: d2/dx2 float64(x)^3 = 6x
    np.testing.assert_allclose(fg.grad(fg.grad(lambda x: fnp.float64(x) ** 3))(1.5), 9.0)
    np.testing.assert_allclose(fg.hessian(lambda x: fnp.sum(fnp.float64(x) ** 3))(X), np.diag(6 * X))


def test_jvp_through_a_float32_cast_gives_a_float32_tangent():
    out, tan = fg.jvp(lambda x: fnp.float32(x) * 2, (X,), (np.array([1.0, 0.5, -2.0]),))
    assert out.dtype == tan.dtype == np.float32
    np.testing.assert_allclose(tan, [2.0, 1.0, -4.0])


def test_check_grads_through_float64_and_complex128_casts():
    check_grads(lambda x: fnp.tanh(fnp.float64(x)) * fnp.double(x) ** 2, (X,), order=2)
    check_grads(lambda x: fnp.real(fnp.complex128(x) * (1 + 2j)) ** 2, (X,), order=2)
    check_grads(lambda x: fnp.sum(fnp.float64([x[0], x[1] * x[2]]) ** 2), (X,), order=2)


def test_compositions_with_a_cast():
    def f(x):
        return fnp.sum(fnp.float64(x) * fnp.sin(x))

    want = np.sin(X) + X * np.cos(X)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(X), want, rtol=1e-12)
    np.testing.assert_allclose(fg.grad(fg.jit(f))(X), want, rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(fg.grad(lambda x: fnp.float64(x) * fnp.sin(x)))(X), want, rtol=1e-12)
    np.testing.assert_allclose(fg.jvp(fg.grad(f), (X,), (np.ones(3),))[1],
                               2 * np.cos(X) - X * np.sin(X), rtol=1e-12)


@pytest.mark.parametrize("name", ["int32", "uint8", "bool_"])
def test_integer_and_boolean_casts_carry_no_derivative(name):
    t = getattr(fnp, name)
    x = np.array([0.7, 2.2, 3.9])
    # f = t(x) * x: only the second factor carries a derivative, so f' = t(x)
    g = fg.grad(lambda x: fnp.sum(t(x) * x))(x)
    np.testing.assert_array_equal(g, x.astype(np.dtype(getattr(np, name))).astype(np.float64))
    out, tan = fg.jvp(lambda x: t(x), (x,), (np.ones(3),))
    assert out.dtype == np.dtype(getattr(np, name)) and tan.dtype == float0 and tan.shape == (3,)


def test_a_list_of_traced_values_is_stacked_and_cast():
    out = fg.jit(lambda x: fnp.float32([x[0], x[2]]))(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, X[[0, 2]].astype(np.float32))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.float64([x[0], 3 * x[2]])))(X), [1.0, 0.0, 3.0])


def test_a_staged_cast_is_one_astype_equation():
    program = fg.make_trace(lambda x: fnp.float32(x))(X)
    assert [e.prim.name for e in program.eqns] == ["astype"], str(program)


# --- concrete input: NumPy's own result -----------------------------------------------------------------

@pytest.mark.parametrize("value", [2.5, 3, True, np.float64(1.25), np.array(4.0), [1.5, 2.5], np.arange(3), "7.5",
                                   (1, 2)])
@pytest.mark.parametrize("name", ["float32", "float64", "int64", "bool_", "complex64", "uint8"])
def test_concrete_input_gives_numpys_result(value, name):
    ours, theirs = getattr(fnp, name), getattr(np, name)
    try:
        want = theirs(value)
    except (TypeError, ValueError) as e:
        with pytest.raises(type(e)):
            ours(value)
        return
    got = ours(value)
    assert type(got) is type(want)
    np.testing.assert_array_equal(got, want)
    if isinstance(got, np.ndarray):
        assert got.dtype == want.dtype


def test_no_argument_call_as_numpy():
    assert fnp.float32() == np.float32() and type(fnp.float32()) is np.float32
    assert type(fnp.int32(7)) is np.int32 and fnp.int32(7) == 7


def test_a_foreign_array_is_cast_in_its_own_library():
    class Foreign:
        """A minimal non-NumPy array type (as Dask's or CuPy's, for is_foreign_array)."""

        shape, dtype, ndim = (2,), np.dtype(np.float64), 1

        def __array_ufunc__(self, *args, **kwargs):
            return NotImplemented

        def __array_function__(self, *args, **kwargs):
            return NotImplemented

        def astype(self, dtype):
            return ("astype", dtype)

    assert fnp.float32(Foreign()) == ("astype", np.dtype(np.float32))


# --- the type as NumPy uses it ----------------------------------------------------------------------

@pytest.mark.parametrize("name", SCALAR_TYPE_NAMES)
def test_every_scalar_type_is_numpys_as_a_type(name):
    ours, theirs = getattr(fnp, name), getattr(np, name)
    assert ours is not theirs and isinstance(ours, type)
    assert ours.dtype == np.dtype(theirs) and isinstance(ours.dtype, np.dtype)
    assert np.dtype(ours) == np.dtype(theirs) and np.dtype(ours).type is np.dtype(theirs).type
    assert ours == theirs and theirs == ours and not (ours != theirs) and hash(ours) == hash(theirs)
    assert {theirs: "v"}[ours] == "v" and {ours: "v"}[theirs] == "v"
    assert issubclass(ours, theirs) and issubclass(theirs, ours)
    assert isinstance(theirs(1), ours) and not isinstance(np.array([1]), ours)
    assert np.zeros(2, dtype=ours).dtype == np.dtype(theirs)
    assert np.ones(2).astype(ours).dtype == np.dtype(theirs)
    assert np.issubdtype(ours, theirs) and np.issubdtype(theirs, ours) and fnp.issubdtype(np.dtype(theirs), ours)
    assert pickle.loads(pickle.dumps(ours)) is ours
    assert ours.__module__ == "funcgrad.numpy" and getattr(fnp, ours.__qualname__) is ours


def test_aliases_are_the_same_object_as_in_numpy():
    for a in SCALAR_TYPE_NAMES:
        for b in SCALAR_TYPE_NAMES:
            assert (getattr(fnp, a) is getattr(fnp, b)) == (getattr(np, a) is getattr(np, b)), (a, b)


def test_distinct_types_are_not_equal():
    assert fnp.float32 != fnp.float64 and fnp.float32 != np.float64 and np.float64 != fnp.float32
    assert not issubclass(fnp.float32, np.float64) and not isinstance(np.float64(1), fnp.float32)
    assert fnp.float32 != "float32" and fnp.float32 != 1


def test_abstract_types_and_dtype_utilities():
    assert issubclass(fnp.float32, fnp.floating) and issubclass(fnp.int8, fnp.signedinteger)
    assert isinstance(np.float32(1), fnp.floating) and not isinstance(np.int32(1), fnp.floating)
    assert fnp.issubdtype(fnp.float32, fnp.floating) and not fnp.issubdtype(fnp.int32, fnp.floating)
    assert fnp.issubdtype(np.ones(2, np.float32).dtype, fnp.floating)
    assert fnp.finfo(fnp.float32).eps == np.finfo(np.float32).eps
    assert fnp.iinfo(fnp.int16).max == 32767 and fnp.iinfo(fnp.uint8).max == 255
    assert np.isdtype(fnp.float32, "real floating") and fnp.isdtype(fnp.int32, "integral")
    assert fnp.result_type(fnp.float32, 1.0) == np.float32 and fnp.promote_types(fnp.float32, fnp.float64) == np.float64
    assert fnp.can_cast(fnp.float32, fnp.float64) and not fnp.can_cast(fnp.float64, fnp.int8)
    assert np.dtype([("a", fnp.float32), ("b", fnp.int8)]) == np.dtype([("a", np.float32), ("b", np.int8)])
    assert np.ones(2, np.float32).dtype == fnp.float32 and np.ones(2).dtype != fnp.float32


def test_dtype_keyword_in_funcgrad_functions_eager_and_traced():
    assert fnp.zeros(3, dtype=fnp.float32).dtype == np.float32
    assert fnp.arange(3, dtype=fnp.int16).dtype == np.int16
    assert fnp.asarray([1, 2], dtype=fnp.float32).dtype == np.float32
    assert fnp.full((2,), 1.5, dtype=fnp.float32).dtype == np.float32

    def f(x):
        y = fnp.sum(x, dtype=fnp.float32) + fnp.mean(x.astype(fnp.float32)) + fnp.asarray(x, fnp.float32)[0]
        z = fnp.zeros_like(x, dtype=fnp.float32) + fnp.ones(3, dtype=fnp.float32) + fnp.cumsum(x, dtype=fnp.float32)
        return fnp.sum(z * y)

    x = X.copy()
    want = f(x)
    assert want.dtype == np.float32
    np.testing.assert_allclose(fg.jit(f)(x), want, rtol=1e-6)
    assert fg.jit(f)(x).dtype == np.float32
    # d/dx of y * sum(z), y = sum(x) + mean(x) + x0, z = 1 + cumsum(x), in float32
    g = fg.grad(f)(x)
    s_z = np.sum(1 + np.cumsum(x))
    y = x.sum() + x.mean() + x[0]
    want_g = s_z * (1 + 1 / 3 + np.array([1.0, 0, 0])) + y * np.array([3.0, 2.0, 1.0])
    np.testing.assert_allclose(g, want_g, rtol=1e-5)


def test_dtype_keyword_in_plain_numpy_calls_on_traced_values():
    def f(x):
        return np.sum(x.astype(fnp.float32)) + np.sum(x, dtype=fnp.float32)

    assert fg.jit(f)(X).dtype == np.float32
    np.testing.assert_allclose(fg.grad(f)(X), 2 * np.ones(3))
    np.testing.assert_allclose(fg.jit(fg.grad(f))(X), 2 * np.ones(3))


def test_random_draws_accept_the_types_as_dtype():
    key = fg.random.PRNGKey(0)
    a = fg.random.normal(key, (3,), dtype=fnp.float32)
    b = fg.random.normal(key, (3,), dtype=np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


def test_autograd_compat_namespace_casts_boxes():
    import funcgrad.compat.autograd.numpy as anp
    from funcgrad.compat.autograd import grad

    assert anp.float32 == np.float32 and np.dtype(anp.float64) == np.float64
    np.testing.assert_allclose(grad(lambda x: anp.float64(x) ** 2)(1.5), 3.0)
