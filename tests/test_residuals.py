"""The reverse-mode tape keeps exactly the residuals each vjp rule declares (issue 12 §1).

Structural checks (no timings): which operands and outputs a tape entry holds, that a chain holds
one array per step, and that nothing is held once the pullback is gone.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import OUTPUT, Primitive
from funcgrad.errors import PrimitiveDeclarationError
from funcgrad.test_util import check_grads
from funcgrad.traces.reverse import ReverseTrace, backward, held_arrays, held_residuals


def _record(f, *xs):
    trace = ReverseTrace()
    ins = [trace.new_input(np.asarray(x, dtype=float)) for x in xs]
    try:
        out = f(*ins)
    finally:
        trace.alive = False
    return trace, ins, out


@pytest.mark.parametrize("f, want", [
    (lambda x, y: x + y, ("add", False, ())),
    (lambda x, y: x - y, ("subtract", False, ())),
    (lambda x, y: x * y, ("multiply", False, (0, 1))),
    (lambda x, y: x / y, ("true_divide", True, (1,))),
    (lambda x, y: fnp.where(x > 0, x, y), ("where", False, (0,))),
])
def test_binary_entries_keep_declared_residuals(f, want):
    trace, _, _ = _record(f, [1.0, 2.0], [3.0, 4.0])
    assert held_residuals(trace) == [want]


@pytest.mark.parametrize("f, want", [
    (lambda x: fnp.sin(x), ("sin", False, (0,))),
    (lambda x: fnp.exp(x), ("exp", True, ())),
    (lambda x: fnp.tanh(x), ("tanh", True, ())),
    (lambda x: fnp.sqrt(x), ("sqrt", True, ())),
    (lambda x: -x, ("negative", False, ())),
    (lambda x: fnp.log(x), ("log", False, (0,))),
    (lambda x: x * 3.0, ("multiply", False, (1,))),  # only the constant, not the traced array
    (lambda x: 3.0 * x, ("multiply", False, (0,))),
    (lambda x: x + 1.0, ("add", False, ())),
    (lambda x: fnp.sum(x), ("sum", False, (0,))),
    (lambda x: x.T, ("transpose", False, ())),
])
def test_unary_entries_keep_declared_residuals(f, want):
    trace, _, _ = _record(f, [[1.0, 2.0], [0.5, 4.0]])
    assert held_residuals(trace) == [want]


def test_undeclared_primitive_keeps_everything():
    prim = Primitive("test_residuals_undeclared", lambda x: x * 2.0, register=False,
                     vjp=(lambda ct, out, x: ct * 2.0,))
    trace, _, _ = _record(prim.bind, [1.0])
    assert held_residuals(trace) == [("test_residuals_undeclared", True, (0,))]


def test_rule_gets_none_for_undeclared_residuals():
    seen = []

    def rule(ct, out, x, y):
        seen.append((out, x, y))
        return ct * y

    prim = Primitive("test_residuals_mul", np.multiply, register=False, vjp=(rule, None), residuals=((1,), (0,)))
    trace, (x,), out = _record(lambda x: prim.bind(x, np.array([5.0, 6.0])), [1.0, 2.0])
    (g,) = backward(trace, [(out.node, np.ones(2))], [x.node])
    np.testing.assert_array_equal(g, [5.0, 6.0])
    (o, xx, yy), = seen
    assert o is None and xx is None
    np.testing.assert_array_equal(yy, [5.0, 6.0])


def test_chain_holds_one_array_per_step():
    n = 50
    kept_ids = set()

    def chain(x):
        for _ in range(n):
            x = fnp.sin(x) * 1.0001
        return fnp.sum(x)

    trace, _, _ = _record(chain, np.linspace(0.1, 1.0, 7))
    for p in held_arrays(trace):
        if isinstance(p, np.ndarray):
            kept_ids.add(id(p))
    # the input of each sin (the previous product, or x), plus the input of the final sum
    assert len(kept_ids) == n + 1
    # and each step is one small tuple: (sin, None, x, 1) and (multiply, None, None, 1.0001, 0, 1)
    entries = [e for e in trace.tape if e is not None]
    assert [len(e) for e in entries[:-1]] == [4, 6] * n
    assert all(e[-1] == 1 for e in entries[:-1])  # each step's source is the step before it


def test_intermediates_not_declared_are_freed_during_the_forward_pass():
    refs = []

    def f(x):
        y = fnp.sin(x)  # its output feeds `* 2.0`, which keeps only the constant
        refs.append(weakref.ref(y.primal))
        return fnp.sum(y * 2.0)

    value, pullback = fg.vjp(f, np.linspace(0.0, 1.0, 5))
    gc.collect()
    assert refs[0]() is None
    np.testing.assert_allclose(pullback(np.float64(1.0))[0], 2.0 * np.cos(np.linspace(0.0, 1.0, 5)))


def test_nothing_held_after_the_pullback_is_gone():
    refs = []

    def f(x):
        y = fnp.exp(x)  # exp keeps its output
        refs.append(weakref.ref(y.primal))
        return fnp.sum(fnp.sin(y))

    x = np.linspace(0.0, 1.0, 5)
    _, pullback = fg.vjp(f, x)
    gc.collect()
    assert refs[0]() is not None  # held by the tape while the pullback may still be called
    g1 = pullback(np.float64(1.0))[0]
    g2 = pullback(np.float64(1.0))[0]  # a pullback may be called many times
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(g1, np.cos(np.exp(x)) * np.exp(x))
    del pullback
    gc.collect()
    assert refs[0]() is None


def test_grad_releases_the_tape():
    refs = []

    def f(x):
        y = fnp.tanh(x)
        refs.append(weakref.ref(y.primal))
        return fnp.sum(y * y)

    fg.grad(f)(np.linspace(-1.0, 1.0, 4))
    gc.collect()
    assert refs[0]() is None


@pytest.mark.parametrize("shape_x, shape_y", [((3,), (2, 3)), ((2, 1), (1, 3)), ((), (4,))])
def test_broadcast_operands_not_kept_are_still_summed_back(shape_x, shape_y):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(shape_x), rng.standard_normal(shape_y)
    check_grads(lambda x, y: fnp.sin(x + y) * 2.0, (x, y), order=2, modes=("rev",))
    trace, _, _ = _record(lambda x, y: x + y, x, y)
    assert held_residuals(trace) == [("add", False, ())]


def test_float32_operand_of_a_float64_product_keeps_its_dtype():
    x = np.array([1.0, 2.0], np.float32)
    g = fg.grad(lambda x: fnp.sum(x * np.array([3.0, 4.0])))(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3.0, 4.0])


def test_declaration_must_match_the_rules():
    with pytest.raises(PrimitiveDeclarationError, match="one tuple of read operands per vjp rule"):
        Primitive("test_residuals_bad", np.add, register=False, vjp=(None, None), residuals=((OUTPUT,),))
