"""Declaring a primitive: everything in one declaration (batching rules via ``batch=`` or
``batch_of=``, eager rules from one NumPy derivative), and misuse of the declaration's keywords
answered with a PrimitiveDeclarationError saying what was expected, what came and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import Primitive, primitives
from funcgrad.errors import FuncgradError, PrimitiveDeclarationError
from funcgrad.prims.factories import batch_to_front, elementwise, unary


def _rule(ct, out, x):
    return ct * np.cos(x)


def test_a_single_eager_rule_where_a_tuple_belongs():
    with pytest.raises(PrimitiveDeclarationError, match=r"vjp_eager= takes a tuple of rules.*got function.*"
                       r"vjp_eager=\(rule,\)"):
        Primitive("t", np.sin, register=False, vjp=(_rule,), vjp_eager=_rule)
    with pytest.raises(PrimitiveDeclarationError, match=r"jvp_eager= takes a tuple of rules.*got function"):
        Primitive("t", np.sin, register=False, jvp=(_rule,), jvp_eager=_rule)


def test_eager_rules_without_general_rules():
    with pytest.raises(PrimitiveDeclarationError, match=r"vjp_eager= needs vjp= declared.*got vjp=None.*"
                       r"declare vjp=\(rule, \.\.\.\) too"):
        Primitive("t", np.sin, register=False, vjp_eager=(_rule,))


def test_eager_rule_count_mismatch_says_how_many():
    with pytest.raises(PrimitiveDeclarationError, match=r"one eager rule per vjp rule \(1\), got 2; pad with None"):
        Primitive("t", np.sin, register=False, vjp=(_rule,), vjp_eager=(_rule, _rule))
    with pytest.raises(PrimitiveDeclarationError, match=r"each jvp_eager rule is a function or None, got int"):
        Primitive("t", np.sin, register=False, jvp=(_rule,), jvp_eager=(3,))


def test_residuals_of_positions_instead_of_tuples():
    with pytest.raises(PrimitiveDeclarationError, match=r"one tuple of operand positions per vjp rule, got 0 "
                       r"among them; write \(0,\)"):
        Primitive("t", np.sin, register=False, vjp=(_rule,), residuals=(0,))
    with pytest.raises(PrimitiveDeclarationError, match=r"residuals= takes one tuple.*got int"):
        Primitive("t", np.sin, register=False, vjp=(_rule,), residuals=0)  # type: ignore[arg-type]
    with pytest.raises(PrimitiveDeclarationError, match=r"one tuple of read operands per vjp rule \(1\), got 2"):
        Primitive("t", np.sin, register=False, vjp=(_rule,), residuals=((0,), (0,)))


def test_declaration_errors_are_funcgrad_type_and_value_errors():
    for bad in (dict(vjp=(_rule,), vjp_eager=_rule), dict(vjp=(_rule,), residuals=(0,))):
        with pytest.raises(FuncgradError) as info:
            Primitive("t", np.sin, register=False, **bad)
        assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_batch_rule_declared_once():
    with pytest.raises(PrimitiveDeclarationError, match="got both batch= and batch_of="):
        Primitive("t", np.sin, register=False, batch=lambda args, dims: (args[0], 0),
                  batch_of=lambda prim: lambda args, dims: (prim.bind(*args), 0))


def test_batch_of_receives_the_primitive():
    seen = []

    def batch_of(prim):
        seen.append(prim)
        return lambda args, dims: (prim.bind(batch_to_front(args[0], dims[0])) * 1.0, 0)

    p = Primitive("test_decl_double", lambda x: 2.0 * x, register=False, batch_of=batch_of)
    assert seen == [p]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fg.vmap(p.bind, in_axes=1)(x), 2.0 * x.T)


def test_elementwise_gets_the_elementwise_batching_rule_and_ufunc_kernel():
    p = elementwise("test_decl_square", np.square, register=False, nondiff=True)
    q = elementwise("test_decl_square2", lambda x: x * x, register=False, nondiff=True)
    assert p.kernel is not None and q.kernel is None
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(fg.vmap(p.bind, in_axes=1)(x), (x * x).T)
    np.testing.assert_array_equal(fg.vmap(q.bind)(x), x * x)


def test_derivative_eager_gives_both_eager_rules_and_the_product_rule():
    from funcgrad.prims.elementwise import cos

    p = unary("test_decl_sin", np.sin, lambda x, out: cos(x), derivative_eager=lambda x, out: np.cos(x),
              residuals=(0,), register=False)
    assert "test_decl_sin" not in primitives
    x, t = np.array([0.1, 0.7, -1.2]), np.array([2.0, -1.0, 0.5])
    assert p.product_rule is not None
    np.testing.assert_array_equal(p.product_rule(x, None), np.cos(x))
    np.testing.assert_array_equal(p.vjp_eager[0](t, None, x), t * np.cos(x))  # type: ignore[index]
    np.testing.assert_array_equal(p.jvp_eager[0](t, None, x), t * np.cos(x))  # type: ignore[index]
    g = fg.grad(lambda x: fnp.sum(p.bind(x)))(x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-15)
    _, jt = fg.jvp(p.bind, (x,), (t,))
    np.testing.assert_allclose(jt, t * np.cos(x), rtol=1e-15)
    with pytest.raises(PrimitiveDeclarationError, match="derivative_eager= gives both eager rules"):
        unary("test_decl_sin2", np.sin, lambda x, out: cos(x), derivative_eager=lambda x, out: np.cos(x),
              vjp_eager=lambda ct, o, x: ct * np.cos(x), register=False)
