"""Every user-facing error of the API: its exception type and the key words of its message.

Each message must say what was expected, what came, and how to fix it, naming the offending
argument or output by its key path (``params['w'][1]``).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import (
    ArgnumsError,
    CotangentMismatchError,
    FuncgradError,
    HasAuxError,
    IntegerInputError,
    InvalidLeafError,
    LeakedTracerError,
    NonScalarOutputError,
    TangentMismatchError,
)

X = np.array([1.0, 2.0, 3.0])


def loss(x):
    return fnp.sum(x**2)


def words(*ws):
    """A regex matching a message that contains every one of ``ws`` (in any order)."""
    return "".join(f"(?=.*{re.escape(w)})" for w in ws)


def test_all_errors_are_funcgrad_errors_and_builtin_kinds():
    assert issubclass(NonScalarOutputError, TypeError) and issubclass(NonScalarOutputError, FuncgradError)
    assert issubclass(IntegerInputError, TypeError)
    assert issubclass(ArgnumsError, ValueError)
    assert issubclass(HasAuxError, TypeError)
    assert issubclass(CotangentMismatchError, ValueError)
    assert issubclass(TangentMismatchError, ValueError)
    assert issubclass(InvalidLeafError, TypeError)
    assert issubclass(LeakedTracerError, FuncgradError)


# --- grad of a non-scalar output --------------------------------------------------------------


@pytest.mark.parametrize("transform", [fg.grad, fg.value_and_grad])
def test_grad_of_vector_output(transform):
    with pytest.raises(NonScalarOutputError, match=words("scalar", "shape (3,)", "vjp", "elementwise_grad")) as info:
        transform(lambda x: x * 2)(X)
    assert isinstance(info.value, TypeError)


def test_grad_of_shape_1_output_says_it_is_not_a_scalar():
    with pytest.raises(TypeError, match=words("(1,)", "is not a scalar", "vjp", "elementwise_grad")):
        fg.grad(lambda x: fnp.sum(x, keepdims=True))(X)


def test_grad_of_matrix_output():
    with pytest.raises(NonScalarOutputError, match=words("shape (2, 2)", "vjp")):
        fg.grad(lambda x: fnp.outer(x[:2], x[:2]))(X)


def test_grad_of_pytree_output():
    with pytest.raises(NonScalarOutputError, match=words("scalar", "tuple", "vjp", "elementwise_grad")):
        fg.grad(lambda x: (fnp.sum(x), fnp.sum(x)))(X)


def test_grad_of_integer_output():
    with pytest.raises(NonScalarOutputError, match=words("floating-point", "int")):
        fg.grad(lambda x: 3)(X)


# --- differentiating with respect to integers --------------------------------------------------


@pytest.mark.parametrize("value", [3, np.arange(3), np.array([True, False]), np.int32(2)],
                         ids=["py-int", "int-array", "bool-array", "np-int32"])
def test_grad_wrt_integer_input(value):
    with pytest.raises(IntegerInputError, match=words("x", "dtype", "float")) as info:
        fg.grad(lambda x: fnp.sum(x * 1.0))(value)
    assert isinstance(info.value, TypeError)


def test_grad_wrt_integer_names_the_argument_and_the_fix():
    def f(w, steps):
        return fnp.sum(w) * steps

    with pytest.raises(IntegerInputError, match=words("steps", "int64", "astype(float)", "argnums")):
        fg.grad(f, argnums=(0, 1))(X, np.int64(3))
    # not differentiating it is fine
    np.testing.assert_allclose(fg.grad(f)(X, 3), 3.0)


def test_integer_leaf_inside_a_pytree_argument():
    with pytest.raises(IntegerInputError, match=words("params['w'][1]", "int64", "meta field")):
        fg.grad(lambda params: fnp.sum(params["w"][0]))({"w": [X, np.arange(3)], "b": 1.0})


def test_elementwise_grad_wrt_integer_input():
    with pytest.raises(IntegerInputError, match=words("elementwise_grad", "float")):
        fg.elementwise_grad(lambda x: x * 1.0)(np.arange(3))


# --- argnums ------------------------------------------------------------------------------------


@pytest.mark.parametrize("argnums", [2, -3, (0, 2), (5,)])
def test_argnums_out_of_range(argnums):
    with pytest.raises(ArgnumsError, match=words("argnums", "2 positional arguments", "valid: -2 to 1")) as info:
        fg.grad(lambda x, y: fnp.sum(x * y), argnums=argnums)(X, X)
    assert isinstance(info.value, ValueError)


def test_argnums_naming_a_keyword_argument():
    # y passed by keyword: there is only one positional argument, and keywords are never differentiated
    with pytest.raises(ArgnumsError, match=words("argnums=1", "1 positional argument", "Keyword", "positionally")):
        fg.grad(lambda x, y: fnp.sum(x * y), argnums=1)(X, y=X)


@pytest.mark.parametrize("transform", [fg.value_and_grad, fg.elementwise_grad])
def test_argnums_out_of_range_other_transforms(transform):
    with pytest.raises(ArgnumsError, match="argnums"):
        transform(lambda x: x, argnums=1)(X)


def test_argnums_of_wrong_type_or_empty():
    with pytest.raises(ArgnumsError, match=words("int or a tuple of ints", "'0'", "str")):
        fg.grad(loss, argnums="0")(X)
    with pytest.raises(ArgnumsError, match=words("int or a tuple of ints", "1.0", "float")):
        fg.grad(loss, argnums=1.0)(X)
    with pytest.raises(ArgnumsError, match=words("must be ints", "True")):
        fg.grad(loss, argnums=(True,))(X)
    with pytest.raises(ArgnumsError, match=words("empty", "at least one")):
        fg.grad(loss, argnums=())(X)


def test_argnums_with_only_keyword_arguments():
    with pytest.raises(ArgnumsError, match=words("no positional arguments", "Keyword", "positionally")):
        fg.grad(lambda *, x: fnp.sum(x))(x=X)


# --- has_aux ------------------------------------------------------------------------------------


def test_has_aux_without_a_pair_grad():
    with pytest.raises(HasAuxError, match=words("has_aux=True", "pair", "array of shape ()", "out, aux")):
        fg.grad(loss, has_aux=True)(X)


def test_has_aux_with_a_triple():
    with pytest.raises(HasAuxError, match=words("pair", "tuple of length 3")):
        fg.value_and_grad(lambda x: (loss(x), 1.0, 2.0), has_aux=True)(X)


def test_has_aux_without_a_pair_vjp_and_jvp():
    with pytest.raises(HasAuxError, match=words("pair", "array of shape (3,)")):
        fg.vjp(lambda x: x * 2, X, has_aux=True)
    with pytest.raises(HasAuxError, match=words("pair", "array of shape (3,)")):
        fg.jvp(lambda x: x * 2, (X,), (X,), has_aux=True)
    with pytest.raises(HasAuxError, match=words("pair", "dict")):
        fg.vjp(lambda x: {"out": x}, X, has_aux=True)


def test_has_aux_message_does_not_leak_internal_names():
    with pytest.raises(HasAuxError) as info:
        fg.grad(loss, has_aux=True)(X)
    assert "Tracer" not in str(info.value)


# --- cotangents ---------------------------------------------------------------------------------


def test_seed_case_2x2_cotangent_for_scalar_sum_is_rejected():
    a = np.array([[1.0, 1.0], [2.0, 2.0]])
    b = np.array([[1.0, 2.0], [1.0, 2.0]])
    out, pullback = fg.vjp(lambda a, b: fnp.sum(a - b), a, b)
    with pytest.raises(CotangentMismatchError, match=words("shape (2, 2)", "shape ()", "scalar")) as info:
        pullback(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert isinstance(info.value, ValueError)
    # the right cotangent works
    ga, gb = pullback(1.0)
    np.testing.assert_array_equal(ga, np.ones((2, 2)))
    np.testing.assert_array_equal(gb, -np.ones((2, 2)))


def test_cotangent_wrong_shape():
    out, pullback = fg.vjp(lambda x: x * 2, X)
    with pytest.raises(CotangentMismatchError, match=words("shape (2,)", "shape (3,)")):
        pullback(np.ones(2))
    with pytest.raises(CotangentMismatchError, match=words("shape (1, 3)", "shape (3,)", "not broadcast")):
        pullback(np.ones((1, 3)))
    with pytest.raises(CotangentMismatchError, match=words("scalar 1.0", "shape (3,)", "np.ones")):
        pullback(1.0)


def test_cotangent_wrong_dtype():
    out, pullback = fg.vjp(lambda x: x * 2, X)
    with pytest.raises(CotangentMismatchError, match=words("float32", "float64", "astype")):
        pullback(np.ones(3, np.float32))
    with pytest.raises(CotangentMismatchError, match=words("int64", "float64")):
        pullback(np.ones(3, np.int64))
    out, pullback = fg.vjp(lambda x: x * 2, X.astype(np.float32))
    with pytest.raises(CotangentMismatchError, match=words("float64", "float32", "astype(np.float32)")):
        pullback(np.ones(3))


@pytest.mark.parametrize(
    "ct, expected",
    [
        (np.ones(3), "PyTreeDef(*)"),
        ([np.ones(3), np.ones(3)], "PyTreeDef([*, *])"),
        ((np.ones(3),), "PyTreeDef((*,))"),
        ({"a": np.ones(3), "b": np.ones(3)}, "PyTreeDef({'a': *, 'b': *})"),
        (None, "PyTreeDef(None)"),
    ],
)
def test_cotangent_wrong_tree(ct, expected):
    out, pullback = fg.vjp(lambda x: (x, x * 2), X)
    with pytest.raises(CotangentMismatchError, match=words("tree structure", expected, "PyTreeDef((*, *))")):
        pullback(ct)


def test_cotangent_not_an_array():
    out, pullback = fg.vjp(lambda x: x * 2, X)
    with pytest.raises(CotangentMismatchError, match=words("str", "expected an array", "shape (3,)")):
        pullback("ones")


def test_cotangent_errors_name_the_output_key_path():
    out, pullback = fg.vjp(lambda p: {"w": [p * 2, p[:2]], "b": fnp.sum(p)}, X)
    with pytest.raises(CotangentMismatchError, match=words("output['w'][1]", "shape (3,)", "shape (2,)")):
        pullback({"w": [np.ones(3), np.ones(3)], "b": 1.0})
    with pytest.raises(CotangentMismatchError, match=words("output['b']", "float32")):
        pullback({"w": [np.ones(3), np.ones(2)], "b": np.float32(1.0)})


# --- tangents -----------------------------------------------------------------------------------


def test_tangents_wrong_tree():
    with pytest.raises(TangentMismatchError, match=words("tree structure", "tangents", "primals")) as info:
        fg.jvp(lambda x, y: x * y, (X, X), (X,))
    assert isinstance(info.value, ValueError)
    with pytest.raises(TangentMismatchError, match=words("{'a': *}", "[*]")):
        fg.jvp(lambda p: p, ({"a": X},), ([X],))


def test_tangents_wrong_shape():
    with pytest.raises(TangentMismatchError, match=words("tangent for x", "shape (2,)", "shape (3,)")):
        fg.jvp(lambda x: x * 2, (X,), (np.ones(2),))


def test_tangents_wrong_dtype():
    with pytest.raises(TangentMismatchError, match=words("tangent for x", "float32", "float64", "astype")):
        fg.jvp(lambda x: x * 2, (X,), (np.ones(3, np.float32),))


def test_tangent_errors_name_the_key_path():
    def f(params):
        return params["w"][1] * 2

    primals = ({"w": [X, X]},)
    with pytest.raises(TangentMismatchError, match=words("params['w'][1]", "shape (4,)", "shape (3,)")):
        fg.jvp(f, primals, ({"w": [X, np.ones(4)]},))


def test_tangent_that_is_not_an_array():
    with pytest.raises(InvalidLeafError, match=words("the tangent for x", "str", "shaped like its primal")):
        fg.jvp(lambda x: x, (X,), ("ones",))


def test_jvp_primals_not_a_tuple():
    with pytest.raises(TypeError, match=words("tuples", "jvp(f, (x,), (t,))")):
        fg.jvp(lambda x: x, X, X)


# --- functions returning something that is not an array ----------------------------------------


def test_function_returning_a_string():
    with pytest.raises(InvalidLeafError, match=words("returned", "output", "str", "has_aux")) as info:
        fg.vjp(lambda x: "done", X)
    assert isinstance(info.value, TypeError)


def test_non_array_output_names_the_key_path():
    with pytest.raises(InvalidLeafError, match=words("output['a'][1]", "str")):
        fg.vjp(lambda x: {"a": [x, "oops"]}, X)
    with pytest.raises(InvalidLeafError, match=words("output['a'][1]", "str")):
        fg.jvp(lambda x: {"a": [x, "oops"]}, (X,), (X,))
    with pytest.raises(InvalidLeafError, match=words("output", "object")):
        fg.grad(lambda x: object())(X)


def test_returning_an_unregistered_class_says_how_to_register():
    class Result:
        def __init__(self, v):
            self.v = v

    with pytest.raises(InvalidLeafError, match=words("output", "Result", "register_pytree_node")):
        fg.vjp(lambda x: Result(x), X)


# --- arguments that are not arrays or pytrees --------------------------------------------------


class Model:
    def __init__(self, w):
        self.w = w


@dataclasses.dataclass
class Config:
    w: np.ndarray


def test_unregistered_class_argument_says_how_to_register():
    with pytest.raises(InvalidLeafError, match=words("model", "Model", "register_pytree_node")) as info:
        fg.grad(lambda model: fnp.sum(model.w))(Model(X))
    assert isinstance(info.value, TypeError)
    with pytest.raises(InvalidLeafError, match=words("Model", "register_pytree_node")):
        fg.vjp(lambda model: model.w, Model(X))
    with pytest.raises(InvalidLeafError, match=words("Model", "register_pytree_node")):
        fg.jvp(lambda model: model.w, (Model(X),), (Model(X),))


def test_unregistered_dataclass_argument_says_how_to_register():
    with pytest.raises(InvalidLeafError, match=words("cfg", "Config", "dataclass", "register_dataclass")):
        fg.grad(lambda cfg: fnp.sum(cfg.w))(Config(X))


def test_unregistered_leaf_key_path():
    def f(params):
        return fnp.sum(params["w"][0])

    with pytest.raises(InvalidLeafError, match=words("params['w'][1]", "Config", "register_dataclass")):
        fg.grad(f)({"w": [X, Config(X)]})


def test_string_argument_suggests_keyword_or_closure():
    with pytest.raises(InvalidLeafError, match=words("mode", "str", "keyword argument", "functools.partial")):
        fg.vjp(lambda x, mode: x, X, "fast")
    # a string that is not differentiated is fine
    np.testing.assert_allclose(fg.grad(lambda x, mode: fnp.sum(x), argnums=0)(X, "fast"), np.ones(3))


def test_unnamed_argument_falls_back_to_its_position():
    with pytest.raises(IntegerInputError, match=words("args[1]", "int64")):
        fg.grad(lambda *args: fnp.sum(args[0]), argnums=1)(X, np.arange(3))


# --- leaked tracers -----------------------------------------------------------------------------


def _leak(transform):
    store = []

    def f(x):
        store.append(x * 2)
        return fnp.sum(x)

    if transform == "grad":
        fg.grad(f)(X)
    elif transform == "vjp":
        fg.vjp(f, X)
    else:
        fg.jvp(f, (X,), (X,))
    return store[0]


LEAK_WORDS = words("leaked tracer", "already returned", "Return the value", "stop_gradient")


@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp"])
def test_leaked_tracer_used_after_its_transformation(transform):
    leaked = _leak(transform)
    with pytest.raises(LeakedTracerError, match=LEAK_WORDS):
        leaked + 1.0
    with pytest.raises(LeakedTracerError, match=LEAK_WORDS):
        fnp.sin(leaked)
    with pytest.raises(LeakedTracerError, match=LEAK_WORDS):
        np.sum(leaked)  # plain NumPy dispatches to funcgrad and is caught too


@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp"])
def test_leaked_tracer_inside_a_new_transformation(transform):
    leaked = _leak(transform)
    with pytest.raises(LeakedTracerError, match=LEAK_WORDS):
        fg.grad(lambda y: fnp.sum(y * leaked))(X)
    with pytest.raises(LeakedTracerError, match=LEAK_WORDS):
        fg.jvp(lambda y: y * leaked, (X,), (X,))


def test_leaked_tracer_passed_as_a_primal_or_cotangent():
    leaked = _leak("grad")
    with pytest.raises(LeakedTracerError, match=words("y", "leaked tracer")):
        fg.vjp(lambda y: y, leaked)
    with pytest.raises(LeakedTracerError, match=words("y", "leaked tracer")):
        fg.jvp(lambda y: y, (leaked,), (X,))
    out, pullback = fg.vjp(lambda y: y, X)
    with pytest.raises(LeakedTracerError, match=words("cotangent", "leaked tracer")):
        pullback(leaked)


def test_leaked_tracer_returned_from_another_function():
    leaked = _leak("vjp")
    with pytest.raises(LeakedTracerError, match=words("output", "leaked tracer")):
        fg.vjp(lambda y: leaked, X)


# --- messages name the argument ----------------------------------------------------------------


def test_complex_output_of_grad_needs_holomorphic():
    with pytest.raises(TypeError, match=words("real scalar", "complex128", "holomorphic=True")):
        fg.grad(lambda z: fnp.sum(z))(np.array([1j]))


def test_holomorphic_grad_rejects_real_inputs_with_the_argument_name():
    with pytest.raises(TypeError, match=words("z", "float64", "holomorphic=True", "complex")):
        fg.grad(lambda z: z * z, holomorphic=True)(np.array(1.0))


def test_holomorphic_grad_rejects_a_real_output():
    with pytest.raises(TypeError, match=words("complex scalar", "float64", "holomorphic")):
        fg.grad(lambda z: fnp.abs(z), holomorphic=True)(np.array(1j))
