"""The forward trace's eager jvp rules and fast paths compute what the general path computes.

* Each eager jvp rule (``Primitive.jvp_eager``, declared with its primitive) gives the same
  values, bit for bit, as the general rule on NumPy operands; each rule for both operands of a
  binary primitive gives what the two general rules' contributions summed with ``add`` give.
* ``jvp``, ``jvp`` of ``grad`` (a Hessian-vector product), ``jacfwd`` and nested ``jvp`` give the
  same bits with the eager rules as with the general ones (the forward trace uses the general
  rules whenever a primal or tangent is traced), and derivatives through every primitive with an
  eager jvp rule are right to second order in both modes.
"""

from __future__ import annotations

import numpy as np
import pytest
from eager_domains import DOMAIN, operands

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import Primitive, primitives
from funcgrad.prims import elementwise as ew
from funcgrad.prims.linalg import matmul_p
from funcgrad.scipy.special import logsumexp
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(7)

# Parameters of the primitives that take some, per operand shape.
PARAMS = {
    "sum": lambda shape: {"axis": (len(shape) - 1,) if shape else None, "keepdims": False},
    "reshape": lambda shape: {"shape": (-1,)},
    "transpose": lambda shape: {"axes": tuple(reversed(range(len(shape))))},
    "broadcast_to": lambda shape: {"shape": (2,) + shape},
    "astype": lambda shape: {"dtype": np.float32},
}
NO_COMPLEX = ("maximum", "minimum", "arccosh", "arcsin", "arccos", "astype")


def _with_eager_jvp():
    return sorted((p for p in primitives.values() if p.jvp_eager is not p.jvp), key=lambda p: p.name)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _random(shape, dtype):
    u = RNG.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        u = (u + 1j * RNG.standard_normal(shape)).astype(dtype)
    return u


def _operands(prim, dtype, shape):
    u = _random(shape, dtype)
    if prim.name in ("where", "maximum", "minimum"):
        return operands(prim, u)
    x = operands(prim, u)[0]
    if prim is matmul_p:
        return [x, DOMAIN.get(prim.name, lambda v: v)(_random(shape[::-1], dtype))]
    if len(prim.jvp) == 2:  # arithmetic: the second operand broadcast against the first
        return [x, DOMAIN["true_divide"](_random(shape[-1:], dtype))]
    return [x]


def test_the_eager_jvp_rules_are_declared_where_expected():
    names = {p.name for p in _with_eager_jvp()}
    assert {"sin", "tanh", "exp", "sum", "where", "maximum", "matmul", "add", "subtract", "multiply",
            "reshape", "broadcast_to"} <= names
    # Operand positions keep their meaning: where's condition has no rule in either table.
    assert ew.where_p.jvp_eager[0] is None and ew.where_p.jvp[0] is None
    # Binary primitives with a rule for both operands have it third.
    assert len(ew.sub_p.jvp_eager) == 3 and len(ew.maximum_p.jvp_eager) == 2


def test_a_malformed_declaration_is_refused():
    one = (lambda t, o, x: t,)
    with pytest.raises(ValueError, match=r"one eager rule per jvp rule \(1\), got 2"):
        Primitive("bad", np.negative, jvp=one, vjp=one, jvp_eager=(None, None), register=False)
    with pytest.raises(ValueError, match="one eager rule per vjp rule"):
        Primitive("bad", np.negative, jvp=one, vjp=one, vjp_eager=(None, None), register=False)
    with pytest.raises(ValueError, match=r"vjp_eager= needs vjp= declared as a tuple of rules"):
        Primitive("bad", np.negative, vjp_eager=(None,), register=False)
    two = (lambda t, o, x, y: t, lambda t, o, x, y: t)
    with pytest.raises(ValueError, match="and a third for both operands"):
        Primitive("bad", np.add, jvp=two, vjp=two, jvp_eager=(None,) * 4, register=False)
    # a third rule is for both operands' jvp contributions only
    with pytest.raises(ValueError, match="one eager rule per vjp rule"):
        Primitive("bad", np.add, jvp=two, vjp=two, vjp_eager=(None,) * 3, register=False)
    ok = Primitive("ok", np.add, jvp=two, vjp=two, jvp_eager=(None, None, _both := lambda *a: 0), register=False)
    assert ok.jvp_eager == (two[0], two[1], _both) and ok.vjp_eager is two


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("shape", [(4, 4), (), (0, 3), (3,)])
def test_eager_jvp_rules_give_the_general_rules_values_bit_for_bit(dtype, shape):
    checked = 0
    for prim in _with_eager_jvp():
        if np.dtype(dtype).kind == "c" and prim.name in NO_COMPLEX:
            continue  # no complex derivative (or domain) to compare
        if prim is matmul_p and len(shape) < 1:
            continue
        args = _operands(prim, dtype, shape)
        params = PARAMS.get(prim.name, lambda s: {})(shape)
        with np.errstate(all="ignore"):
            out = prim.impl(*args, **params)
        tangents = [_random(np.shape(a), dtype) if np.asarray(a).dtype.kind in "fc" else None for a in args]
        contributions = {}
        for i, general in enumerate(prim.jvp):
            if general is None:
                continue
            eager = prim.jvp_eager[i]
            with np.errstate(all="ignore"):
                got, want = eager(tangents[i], out, *args, **params), general(tangents[i], out, *args, **params)
            assert _same_bits(got, want), (prim.name, i, dtype, shape)
            contributions[i] = want
            checked += 1
        if len(prim.jvp_eager) == len(prim.jvp) + 1:  # the rule for both operands: the two contributions, summed
            with np.errstate(all="ignore"):
                got = prim.jvp_eager[2](tangents[0], tangents[1], out, *args)
                want = ew.add(contributions[0], contributions[1])
            assert _same_bits(got, want), (prim.name, "both", dtype, shape)
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_rule_for_x_times_x_adds_one_product_to_itself(dtype):
    # x * x (the same tracer twice): t * x + x * t, computed once and doubled, is the same bits.
    x, t = _random((6,), dtype), _random((6,), dtype)
    out = x * x
    got = ew.mul_p.jvp_eager[2](t, t, out, x, x)
    want = ew.add(ew.mul_p.jvp[0](t, out, x, x), ew.mul_p.jvp[1](t, out, x, x))
    assert _same_bits(got, want)
    (_, dt) = fg.jvp(lambda x: x * x, (x,), (t,))
    assert _same_bits(dt, want)


def _mlp_loss(w1, params, x, onehot):
    h = fnp.tanh(x @ w1 + params["b1"])
    h = fnp.tanh(h @ params["w2"] + params["b2"])
    logits = h @ params["w3"] + params["b3"]
    return fnp.mean(logsumexp(logits, axis=1) - fnp.sum(onehot * logits, axis=1))


def _mlp_case():
    rng = np.random.default_rng(3)
    params = {"w2": rng.standard_normal((6, 5)) / 3, "b2": rng.standard_normal(5) * 0.1,
              "w3": rng.standard_normal((5, 3)) / 3, "b3": rng.standard_normal(3) * 0.1,
              "b1": rng.standard_normal(6) * 0.1}
    w1, v = rng.standard_normal((4, 6)) / 2, rng.standard_normal((4, 6))
    x, onehot = rng.standard_normal((7, 4)), np.eye(3)[rng.integers(0, 3, 7)]
    return w1, v, params, x, onehot


def _many_primitives(x):
    y = fnp.sin(x) * fnp.cos(x) + fnp.exp(0.3 * x) / (2.0 + fnp.tanh(x))
    z = fnp.maximum(y, x[::-1]) - fnp.minimum(x, 0.1) + fnp.where(x > 0, y * y, -x)
    m = fnp.reshape(z, (2, 3)) @ fnp.transpose(fnp.reshape(x, (2, 3)))
    return fnp.sum(m * m, axis=1) + fnp.sum(fnp.arcsinh(z) * fnp.abs(x - 0.2))


def _results():
    """Forward-mode derivatives at orders 1 and 2, nested both ways."""
    w1, v, params, x, onehot = _mlp_case()
    u = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])
    du = np.array([1.0, -0.5, 0.25, 2.0, 0.1, -1.0])
    out = {}
    out["jvp"] = fg.jvp(_many_primitives, (u,), (du,))
    out["hvp"] = fg.jvp(lambda w: fg.grad(_mlp_loss)(w, params, x, onehot), (w1,), (v,))
    out["jvp_of_jvp"] = fg.jvp(lambda a: fg.jvp(_many_primitives, (a,), (du,))[1], (u,), (du[::-1].copy(),))
    out["jacfwd"] = fg.jacfwd(_many_primitives)(u)
    out["jacfwd_grad"] = fg.jacfwd(fg.grad(lambda a: fnp.sum(_many_primitives(a))))(u)
    out["grad_of_jvp"] = fg.grad(lambda a: fnp.sum(fg.jvp(_many_primitives, (a,), (du,))[1]))(u)
    return out


def _flat(tree):
    return fg.tree_util.tree_leaves(tree)


def test_derivatives_are_the_same_bits_with_the_general_rules(monkeypatch):
    fast = _results()
    for prim in _with_eager_jvp():
        monkeypatch.setattr(prim, "jvp_eager", prim.jvp)
    general = _results()
    for key in fast:
        a, b = _flat(fast[key]), _flat(general[key])
        assert len(a) == len(b)
        for p, q in zip(a, b):
            assert _same_bits(p, q), key


def test_the_hessian_vector_product_is_the_hessian_times_v():
    w1, v, params, x, onehot = _mlp_case()
    g, hv = fg.jvp(lambda w: fg.grad(_mlp_loss)(w, params, x, onehot), (w1,), (v,))
    hess = fg.hessian(_mlp_loss)(w1, params, x, onehot).reshape(w1.size, w1.size)
    np.testing.assert_allclose(hv.ravel(), hess @ v.ravel(), rtol=1e-10, atol=1e-12)
    eps = 1e-6  # and central differences of the gradient
    gp = fg.grad(_mlp_loss)(w1 + eps * v, params, x, onehot)
    gm = fg.grad(_mlp_loss)(w1 - eps * v, params, x, onehot)
    np.testing.assert_allclose(hv, (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(p.name for p in _with_eager_jvp()))
def test_derivatives_through_primitives_with_eager_jvp_rules_to_second_order(name):
    prim = primitives[name]
    u0 = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])

    def f(u):
        # operands inside the domain, written with funcgrad operations
        x = {"arcsin": lambda: 0.9 * fnp.tanh(u), "arccos": lambda: 0.9 * fnp.tanh(u), "tan": lambda: 0.5 * fnp.tanh(u),
             "arccosh": lambda: 1.5 + u * u, "true_divide": lambda: u * u + 0.5}.get(name, lambda: u)()
        if name == "where":
            y = prim.bind(u > 0, x * x, x * 3.0)
        elif name in ("maximum", "minimum"):
            y = prim.bind(x, x[::-1] * 0.5)
        elif prim is matmul_p:
            y = prim.bind(fnp.reshape(x, (2, 3)), fnp.reshape(x, (3, 2)))
        elif len(prim.jvp) == 2:  # arithmetic: both operands traced, and one plain
            y = prim.bind(prim.bind(x, x[::-1]), 1.5)
        elif name in PARAMS:
            y = prim.bind(fnp.reshape(x, (2, 3)), **PARAMS[name]((2, 3)))
        else:
            y = prim.bind(x)
        return fnp.sum(y * y)

    check_grads(f, (u0,), order=2, modes=("fwd", "rev"))
    hess = fg.jacfwd(fg.grad(f))(u0)
    np.testing.assert_allclose(hess, fg.hessian(f)(u0), rtol=1e-10, atol=1e-10)


def test_a_traced_tangent_uses_the_general_rules():
    # jvp inside grad with respect to the tangent: the forward trace's tangents are reverse
    # tracers, so its rules must record on them (sum's eager rule calls np.add.reduce).
    x = np.array([0.2, -0.4, 0.9])

    def f(t):
        return fnp.sum(fg.jvp(lambda a: fnp.sum(fnp.sin(a), axis=0) * fnp.tanh(a), (x,), (t,))[1])

    t = np.array([1.0, 2.0, -1.0])
    check_grads(f, (t,), order=2, modes=("rev", "fwd"))


_TRAITS = {"kernel", "residuals", "shape_role", "index_start", "broadcasting_binary", "vjp_eager", "jvp_eager",
           "jvp", "vjp", "impl", "batch", "product_rule", "jvp_all", "vjp_all", "abstract_eval", "emit", "nondiff",
           "multiple_results", "inline"}


def _late_assignments(source: str, name: str) -> list[str]:
    """Rules and traits assigned to an object's attribute (anywhere: module level, helper
    functions, loops), or set with setattr, in ``source``; ``self.x = ...`` is a class's own."""
    import ast

    late = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        else:
            targets = []
        for t in targets:
            for e in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(e, ast.Attribute) and e.attr in _TRAITS \
                        and not (isinstance(e.value, ast.Name) and e.value.id == "self"):
                    late.append(f"{name}:{node.lineno}: .{e.attr} =")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setattr" and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in _TRAITS:
            late.append(f"{name}:{node.lineno}: setattr(..., {node.args[1].value!r}, ...)")
    return late


def test_each_primitive_is_one_declaration():
    # Rules and traits (batching rules included) are declared in the primitive's declaration
    # (Primitive(...) or a factory), never assigned to it afterwards, in any module of funcgrad
    # (core.py's Primitive.__init__ is where the declaration lands).
    import pathlib

    root = pathlib.Path(fg.__file__).parent
    late = []
    for path in sorted(root.rglob("*.py")):
        if path != root / "core.py":
            late += _late_assignments(path.read_text(), str(path.relative_to(root)))
    assert not late, late


@pytest.mark.parametrize("source", [
    "p = Primitive('x', f)\np.batch = rule\n",
    "def with_batch(prim):\n    prim.batch = rule(prim)\n    return prim\n",
    "for p in ps:\n    p.vjp_eager = (r,)\n",
    "setattr(p, 'kernel', k)\n",
    "p.residuals, p.product_rule = ((0,),), h\n",
])
def test_the_one_declaration_check_finds_late_assignments(source):
    assert _late_assignments(source, "m.py")
    assert not _late_assignments("class A:\n    def __init__(self):\n        self.batch = 1\n", "m.py")
