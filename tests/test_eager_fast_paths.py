"""The eager hot path's shortcuts (issue 12 §2) compute what the general path computes.

* Eager vjp rules (``Primitive.vjp_eager``, declared with each primitive) give the same values,
  bit for bit, as the general rules on NumPy operands; the backward pass uses the general rules
  whenever something is traced (higher orders, a traced cotangent), and derivatives through
  every primitive with an eager rule are right to second order in both modes.
* The backward pass hands a chain's cotangent from entry to entry without the dict; graphs that
  fan out and in still sum every contribution.
"""

from __future__ import annotations

import numpy as np
import pytest
from eager_domains import DOMAIN, operands

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import primitives
from funcgrad.prims import elementwise as ew
from funcgrad.prims.reductions import reduce_sum_p
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(12)



def _with_eager_rules():
    return sorted((p for p in primitives.values() if p.vjp_eager is not p.vjp), key=lambda p: p.name)


def test_the_eager_rules_are_declared_where_expected():
    names = {p.name for p in _with_eager_rules()}
    assert {"sin", "cos", "tanh", "exp", "sum", "where", "maximum"} <= names
    # Operand positions keep their meaning: where's condition has no rule in either table.
    assert ew.where_p.vjp_eager[0] is None and ew.where_p.vjp[0] is None


def _operands(prim, dtype, shape):
    u = RNG.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        u = (u + 1j * RNG.standard_normal(shape)).astype(dtype)
    return operands(prim, u)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("shape", [(5,), (), (0,), (2, 3)])
def test_eager_rules_give_the_general_rules_values_bit_for_bit(dtype, shape):
    checked = 0
    for prim in _with_eager_rules():
        if prim is reduce_sum_p:
            continue  # below, with its parameters
        if np.dtype(dtype).kind == "c" and prim.name in ("maximum", "minimum", "arccosh", "arcsin", "arccos"):
            continue  # no complex derivative (or domain) to compare
        args = _operands(prim, dtype, shape)
        out = prim.impl(*args)
        out_dtype = np.asarray(out).dtype
        ct = RNG.standard_normal(np.shape(out)).astype(out_dtype)
        if out_dtype.kind == "c":
            ct = ct + 1j * RNG.standard_normal(np.shape(out)).astype(out_dtype)
        for i, (eager, general) in enumerate(zip(prim.vjp_eager, prim.vjp)):
            if general is None:
                continue
            with np.errstate(all="ignore"):
                got, want = eager(ct, out, *args), general(ct, out, *args)
            assert _same_bits(got, want), (prim.name, i, dtype, shape)
            checked += 1
    assert checked >= (13 if np.dtype(dtype).kind == "c" else 18)


@pytest.mark.parametrize("shape,axis,keepdims", [
    ((4,), None, False), ((2, 3), None, False), ((2, 3), (0,), False), ((2, 3), (1,), True),
    ((2, 3), (0, 1), True), ((), None, False), ((0, 3), (0,), False), ((40, 40), None, False),
])
def test_eager_sum_rule_matches_the_general_one(shape, axis, keepdims):
    x = RNG.standard_normal(shape)
    out = reduce_sum_p.impl(x, axis=axis, keepdims=keepdims)
    for ct in (np.asarray(RNG.standard_normal(np.shape(out))), np.float64(1.5) if np.shape(out) == () else None):
        if ct is None:
            continue
        got = reduce_sum_p.vjp_eager[0](ct, out, x, axis=axis, keepdims=keepdims)
        want = reduce_sum_p.vjp[0](ct, out, x, axis=axis, keepdims=keepdims)
        assert _same_bits(got, want)


def _through(prim):
    """A scalar function of a vector that goes through ``prim`` (fed operands in its domain)."""
    dom = DOMAIN.get(prim.name, lambda v: v)

    def f(u):
        x = 0.9 * fnp.tanh(u) if prim.name in ("arcsin", "arccos") else (
            1.5 + u * u if prim.name == "arccosh" else (0.5 * fnp.tanh(u) if prim.name == "tan" else u))
        if prim.name == "where":
            y = prim.bind(u > 0, x * x, x * 3.0)
        elif prim.name in ("maximum", "minimum"):
            y = prim.bind(x, x[::-1] * 0.5)
        elif prim is reduce_sum_p:
            y = prim.bind(x.reshape(2, 3) * x.reshape(2, 3), axis=(1,), keepdims=False)
        else:
            y = prim.bind(x)
        return fnp.sum(y * y)

    del dom
    return f


@pytest.mark.parametrize("name", sorted(p.name for p in _with_eager_rules()))
def test_derivatives_through_primitives_with_eager_rules_to_second_order(name):
    # At order 2 the rules run on tracers: the general rules must be used and recorded.
    prim = primitives[name]
    x = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])
    if name == "absolute":
        x = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])  # away from the kink
    check_grads(_through(prim), (x,), order=2, modes=("fwd", "rev"))
    hess = fg.hessian(_through(prim))(x)
    assert np.allclose(hess, hess.T, atol=1e-8)


def test_a_traced_cotangent_uses_the_general_rules():
    # The pullback's tape holds plain arrays, but the cotangent is a jvp tracer: the backward
    # pass must record on it (sum's eager rule would try to convert it to an array).
    x = RNG.standard_normal(4)
    _, pullback = fg.vjp(lambda x: fnp.sum(fnp.sin(x)), x)
    v, dv = np.array(2.0), np.array(0.5)
    (g,), (dg,) = fg.jvp(lambda v: pullback(v), (v,), (dv,))
    np.testing.assert_allclose(g, 2.0 * np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(dg, 0.5 * np.cos(x), rtol=1e-14)


def test_grad_of_grad_through_sin_and_sum():
    f = (lambda x: fnp.sum(fnp.sin(x) * x))
    x = RNG.standard_normal(5)
    second = fg.grad(lambda x: fnp.sum(fg.grad(f)(x)))(x)
    np.testing.assert_allclose(second, 2 * np.cos(x) - x * np.sin(x), rtol=1e-13)


def test_fan_out_and_in_sums_every_contribution():
    # Node x feeds many entries (the carried cotangent must not drop or misplace one), and the
    # chain between them is long enough to use the hand-over from entry to entry.
    def f(x):
        y = x
        acc = x * 0.0
        for k in range(30):
            y = fnp.sin(y) * 1.01
            if k % 7 == 0:
                acc = acc + y * x
        return fnp.sum(acc + fnp.tanh(y))

    check_grads(f, (RNG.standard_normal(3),), order=1, modes=("rev",))
    check_grads(f, (RNG.standard_normal(()),), order=2, modes=("rev",))


@pytest.mark.parametrize("transform", ["grad", "hessian", "jvp", "jit_grad", "vmap_grad"])
def test_comparisons_of_tracers_are_comparisons_of_their_values(transform):
    # The comparison operators go straight to the value under reverse and forward traces (the
    # result has no derivative); under jit and vmap they are still recorded / batched.
    def f(x):
        big = x > 0.25
        small = x <= -0.5
        same = (x * 2.0) == (x + x)
        return fnp.sum(fnp.where(big, x * x, fnp.where(small, 3.0 * x, x)) * same) + fnp.sum((x != x) * x)

    x = np.array([0.3, -0.7, 1.1, 0.1, -0.2])
    d1 = np.where(x > 0.25, 2 * x, np.where(x <= -0.5, 3.0, 1.0))
    if transform == "grad":
        np.testing.assert_allclose(fg.grad(f)(x), d1, rtol=1e-14)
    elif transform == "hessian":
        np.testing.assert_allclose(fg.hessian(f)(x), np.diag(np.where(x > 0.25, 2.0, 0.0)), atol=1e-14)
    elif transform == "jvp":
        _, t = fg.jvp(f, (x,), (np.ones_like(x),))
        np.testing.assert_allclose(t, d1.sum(), rtol=1e-14)
    elif transform == "jit_grad":
        np.testing.assert_allclose(fg.jit(fg.grad(f))(x), d1, rtol=1e-14)
    else:
        got = fg.vmap(fg.grad(lambda v: f(v)))(np.stack([x, -x]))
        np.testing.assert_allclose(got[0], d1, rtol=1e-14)


def test_norm_of_a_tracer_as_a_loop_condition_and_in_the_output():
    def doubling(x):
        y = x * 2
        while fnp.linalg.norm(y) < 1000:
            y = y * 2
        return y * fnp.linalg.norm(x)

    x = np.array([0.3, -0.4, 1.2])
    n = np.linalg.norm(x)
    y, pullback = fg.vjp(doubling, x)
    k = int(np.ceil(np.log2(1000 / (2 * n))))  # doublings after the first
    scale = 2.0 ** (k + 1)
    np.testing.assert_allclose(y, scale * x * n, rtol=1e-14)
    v = np.array([0.1, 1.0, -2.0])
    (g,) = pullback(v)
    np.testing.assert_allclose(g, scale * (v * n + x * (v @ x) / n), rtol=1e-13)
    check_grads(lambda x: fnp.linalg.norm(x * x), (x,), order=2)
    assert fg.jit(lambda x: fnp.linalg.norm(x))(x) == np.linalg.norm(x)
    assert fg.vmap(lambda x: fnp.linalg.norm(x))(np.stack([x, 2 * x])).shape == (2,)


# --- round 5: comparisons by operator, one-array vjp, lean recording of one operand / a number ---

_COMPARE = [("__lt__", np.less), ("__le__", np.less_equal), ("__gt__", np.greater),
            ("__ge__", np.greater_equal), ("__eq__", np.equal), ("__ne__", np.not_equal)]
_NUMBERS = [0, -1, 1000, 2**53 + 1, 2**64 + 5, 10**400, 0.1, 1e300, float("inf"), float("nan"), -0.0,
            65520, True, False]


def _result(fn, *args):
    try:
        with np.errstate(all="ignore"):  # (float16 overflows converting 65520: a warning either way)
            r = fn(*args)
    except Exception as e:  # the same error (type) either way
        return ("error", type(e))
    return (type(r), np.asarray(r).dtype, np.asarray(r).tolist())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize("kind", ["scalar", "0-d", "vector"])
def test_comparisons_with_python_numbers_give_the_ufuncs_results(dtype, kind):
    # A real float value compared with a Python number goes through the operator (NumPy's scalar
    # fast path): same result, type and dtype as the ufunc, for every number, NaN and huge ints.
    import warnings

    from funcgrad.traces.forward import ForwardTrace, jvp_tracer
    from funcgrad.traces.reverse import ReverseTrace

    for base in (0.1, 1000.0, float("nan"), float("inf"), -0.0, 65504.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = {"scalar": dtype(base), "0-d": np.array(base, dtype),
                     "vector": np.array([base, 1.0, -3.0], dtype)}[kind]
        rev = ReverseTrace()
        t_rev = rev.new_input(value) if kind != "scalar" else fnp.sum(rev.new_input(np.array([base], dtype)))
        fwd = ForwardTrace()
        t_fwd = jvp_tracer(fwd, np.asarray(value) if kind != "scalar" else value, np.zeros_like(value))
        assert type(t_rev.primal) is type(value) and t_rev.primal.dtype == value.dtype
        for t in (t_rev, t_fwd):
            for name, ufunc in _COMPARE:
                for number in _NUMBERS:
                    want = _result(ufunc, value, number)
                    assert _result(getattr(type(t), name), t, number) == want, (name, number)
            # the reflected forms (number < tracer) reach the tracer's operators
            assert _result(lambda a: 0.5 < a, t) == _result(np.greater, value, 0.5)
            assert _result(lambda a: 7 == a, t) == _result(np.equal, value, 7)
        rev.alive = fwd.alive = False


def test_comparisons_under_forward_mode_give_the_ufuncs_results():
    x0 = np.array([0.5, -2.0, np.nan], np.float32)

    def flags(x):
        return [x < 0.5, x >= 0, x == -2, x != 0.5, x > 2**64, x <= True, 0.5 > x]

    def f(x):
        for got, want in zip(flags(x), flags(x0), strict=True):
            assert type(got) is np.ndarray and got.dtype == np.bool_
            np.testing.assert_array_equal(got, want)
        return x * 2.0

    fg.jvp(f, (x0,), (np.ones_like(x0),))
    fg.vjp(f, x0)
    fg.jacfwd(fg.grad(lambda x: fnp.sum(f(x))))(x0)


def _general_vjp(f, x):
    """vjp through the general path (two primals: the tree is flattened, every check runs)."""
    out, pullback = fg.vjp(lambda x, _: f(x), x, np.zeros(1))
    return out, (lambda ct: pullback(ct)[:1])


def _doubling(x):
    y = x * 2
    while fnp.linalg.norm(y) < 1000:
        y = y * 2
    return y


@pytest.mark.parametrize("f", [
    _doubling,
    lambda x: fnp.sin(x) * x + fnp.tanh(x) / 3,
    lambda x: fnp.sum(fnp.exp(x)),            # a NumPy scalar out
    lambda x: fnp.ones_like(x) * 2.0,         # an output that does not depend on x
    lambda x: x,                              # the input itself
], ids=["doubling", "elementwise", "scalar-out", "constant-out", "identity"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("shape", [(3,), ()])
def test_one_array_vjp_gives_the_general_paths_bits(f, dtype, shape):
    x = (RNG.standard_normal(shape) + 1.5).astype(dtype)
    out, pullback = fg.vjp(f, x)
    out_g, pullback_g = _general_vjp(f, x)
    assert _same_bits(out, out_g) and type(out) is type(out_g)
    ct = np.asarray(RNG.standard_normal(np.shape(out))).astype(np.asarray(out).dtype)
    for _ in range(2):  # a pullback may be called again
        (g,) = pullback(ct)
        (g_g,) = pullback_g(ct)
        assert _same_bits(g, g_g) and type(g) is type(g_g)
    assert g.flags.writeable


def test_one_array_vjp_keeps_the_pullbacks_checks():
    x = RNG.standard_normal(3)
    _, pullback = fg.vjp(_doubling, x)
    _, pullback_g = _general_vjp(_doubling, x)
    for bad in (np.ones(4), np.ones(3, np.float32), [np.ones(3)], (np.ones(3), np.ones(3)), "a", 1.0):
        with pytest.raises(fg.errors.CotangentMismatchError) as fast:
            pullback(bad)
        with pytest.raises(fg.errors.CotangentMismatchError) as general:
            pullback_g(bad)
        assert str(fast.value).replace("<lambda>", "_doubling") == str(general.value).replace("<lambda>", "_doubling")
    # A Python float for a 0-d output, and a 0-d array of another float dtype (an error) as before.
    _, pb0 = fg.vjp(lambda x: fnp.sum(x * x), x)
    np.testing.assert_array_equal(pb0(1.0)[0], 2 * x)
    with pytest.raises(fg.errors.CotangentMismatchError):
        pb0(np.array(1.0, np.float32))


def test_one_array_vjp_nested_in_outer_transformations():
    # f closes over a tracer of an outer trace: the inner vjp's tape holds outer tracers, so the
    # pullback records on them (the general rules), and the levels stay apart.
    x0 = np.array([0.3, -0.5, 0.8])
    v = np.array([1.0, 2.0, -1.0])

    def inner(y):
        _, pullback = fg.vjp(lambda x: fnp.sin(x * y) * y, x0)
        return fnp.sum(pullback(v)[0])

    # d/dy sum(v * cos(x y) y^2) = sum(v * (2 y cos(xy) - x y^2 sin(xy)))
    y = np.array(0.7)
    want = np.sum(v * (2 * y * np.cos(x0 * y) - x0 * y * y * np.sin(x0 * y)))
    np.testing.assert_allclose(fg.grad(inner)(y), want, rtol=1e-13)
    _, t = fg.jvp(inner, (y,), (np.array(1.0),))
    np.testing.assert_allclose(t, want, rtol=1e-13)
    check_grads(inner, (y,), order=2)
    # vjp of a function of x differentiated again in x (the same kind of trace, two levels)
    second = fg.grad(lambda x: fnp.sum(fg.vjp(lambda z: fnp.sin(z) * z, x)[1](v)[0]))(x0)
    np.testing.assert_allclose(second, v * (2 * np.cos(x0) - x0 * np.sin(x0)), rtol=1e-13)
    # a traced cotangent (jvp of the pullback)
    _, pullback = fg.vjp(_doubling, x0)
    (g,), (dg,) = fg.jvp(pullback, (v,), (2 * v,))
    np.testing.assert_array_equal(dg, 2 * g)


def _recorded_by_the_general_path(monkeypatch):
    from funcgrad.traces.reverse import ReverseTrace

    monkeypatch.setattr(ReverseTrace, "process", lambda self, prim, args, params:
                        ReverseTrace._process_general(self, prim, args, params))


_LEAN_CASES = {
    "unary ufuncs": lambda x: fnp.sum(fnp.tanh(fnp.sin(x)) * fnp.exp(x)),
    "abs of complex (dtype changes)": lambda x: fnp.sum(fnp.abs(x * (1 + 2j)) * x),
    "number on either side": lambda x: fnp.sum((2.0 * x - 3) / 7 + x ** 2 + x * 2 + 1.5 ** x),
    "bool and NumPy scalar": lambda x: fnp.sum(x * True + x * np.float32(0.5) + np.float64(2.0) * x),
    "0-d and vector mixed": lambda x: fnp.sum(x * fnp.sum(x) + fnp.sin(fnp.sum(x)) * 3),
    "norm and comparison": lambda x: fnp.linalg.norm(x) * 2 if fnp.linalg.norm(x) < 10 else fnp.sum(x),
}


@pytest.mark.parametrize("name", list(_LEAN_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4,), (), (0,)])
def test_lean_recording_gives_the_general_paths_bits(name, dtype, shape, monkeypatch):
    # One tracked operand (unary ufuncs, a Python number on the other side) is recorded inline
    # in its compact form; the general path (_process_general) must give the same bits, at
    # first and second order and with grad nested in grad.
    f = _LEAN_CASES[name]
    x = (RNG.standard_normal(shape) * 0.5 + 0.2).astype(dtype)
    v = RNG.standard_normal(shape).astype(dtype)
    results = []
    for general in (False, True):
        if general:
            _recorded_by_the_general_path(monkeypatch)
        value, g = fg.value_and_grad(f)(x)
        hvp = fg.grad(lambda x: fnp.sum(fg.grad(f)(x) * v))(x)
        results.append((value, g, hvp))
    for fast, general in zip(*results):
        assert _same_bits(fast, general)


def test_lean_recording_of_float32_with_python_numbers_keeps_float32():
    x = RNG.standard_normal(3).astype(np.float32)
    value, g = fg.value_and_grad(lambda x: fnp.sum(fnp.tanh(x * 2.0) + 3 * x))(x)
    assert value.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * (1 - np.tanh(2 * x) ** 2) + 3, rtol=1e-6)


def test_chains_whose_shape_or_dtype_changes_between_runs():
    # The backward pass knows the shape and dtype of a cotangent handed down a chain of compact
    # entries; a reshape, a sum, a broadcast or a cast between two chains starts a new run.
    def f(x, dtype=np.float64):
        y = fnp.tanh(fnp.sin(x) * 1.5)                    # (6,) chain
        z = fnp.reshape(y, (2, 3))
        z = fnp.exp(fnp.sin(z) * 0.5)                     # (2, 3) chain
        w = fnp.sum(z, axis=0)                            # (3,)
        w = fnp.cos(w * 2.0) + z                          # broadcast back to (2, 3)
        return fnp.sum(fnp.tanh(w.astype(dtype)) * 2.0)   # a chain in another dtype

    x = RNG.standard_normal(6)
    check_grads(f, (x,), order=2, modes=("rev",))
    g32 = fg.grad(lambda x: f(x, np.float32))(x)
    assert g32.dtype == np.float64 and g32.shape == (6,)
    np.testing.assert_allclose(g32, fg.grad(f)(x), rtol=1e-5, atol=1e-6)
    h = fg.grad(lambda x: fnp.sum(fg.grad(lambda x: fnp.sum(fnp.tanh(fnp.tanh(x) * 2.0)))(x)))(x)
    t1 = np.tanh(x)
    t2 = np.tanh(2 * t1)
    d1 = 2 * (1 - t2 ** 2) * (1 - t1 ** 2)
    d2 = 2 * (-2 * t2 * (1 - t2 ** 2) * 2 * (1 - t1 ** 2) ** 2 + (1 - t2 ** 2) * (-2 * t1 * (1 - t1 ** 2)))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.tanh(fnp.tanh(x) * 2.0)))(x), d1, rtol=1e-13)
    np.testing.assert_allclose(h, d2, rtol=1e-12)


# --- round 5: chains of product-form rules pushed down in runs (traces/reverse.py _fused_run) ---

# For each primitive declaring a product_rule: an input in its domain and a factor bringing its output
# back into the domain (so long chains stay finite).
_CHAIN_STEP = {
    "sin": (0.7, 1.1), "cos": (0.7, 0.9), "tan": (0.3, 0.8), "sinh": (0.2, 0.6), "cosh": (0.5, 0.5),
    "tanh": (0.7, 1.2), "exp": (0.3, 0.3), "expm1": (0.3, 0.5), "expit": (0.3, 1.5), "arcsin": (0.3, 0.5),
    "arccos": (0.3, 0.25), "arcsinh": (0.7, 1.1), "arccosh": (2.0, 2.0),
}


def _run_count(monkeypatch):
    from funcgrad.traces import reverse

    used = []
    original = reverse._fused_run

    def counting(tape, node, ct):
        done, g = original(tape, node, ct)
        used.append(done)
        return done, g

    monkeypatch.setattr(reverse, "_fused_run", counting)
    return used


def _grads_with_and_without_runs(f, x, monkeypatch):
    from funcgrad.traces import reverse

    used = _run_count(monkeypatch)
    fused = fg.value_and_grad(f)(x)
    runs = [d for d in used if d > 0]  # (no run: 0 or less)
    monkeypatch.setattr(reverse, "_FUSED_MIN", 10**9)  # entry by entry
    plain = fg.value_and_grad(f)(x)
    return fused, plain, runs


def test_every_product_rule_is_listed_with_a_chain_step():
    assert {p.name for p in primitives.values() if p.product_rule is not None} == set(_CHAIN_STEP)


@pytest.mark.parametrize("name", sorted(_CHAIN_STEP))
def test_eager_rules_are_built_from_the_one_numpy_derivative(name):
    # jvp_eager, vjp_eager and the backward pass's product rule all come from derivative_eager:
    # each eager rule is exactly t * h(x, out), and h is the general rule's derivative to the bit.
    prim = getattr(ew, f"{name}_p")
    h = prim.product_rule
    x = _CHAIN_STEP[name][0] + 0.05 * RNG.uniform(-1, 1, 6)
    out = prim.impl(x)
    t = RNG.standard_normal(6)
    assert _same_bits(prim.vjp_eager[0](t, out, x), t * h(x, out))
    assert _same_bits(prim.jvp_eager[0](t, out, x), t * h(x, out))
    assert _same_bits(prim.vjp[0](t, out, x), t * h(x, out))  # the general rule on NumPy operands


def test_a_new_unary_primitive_with_a_numpy_derivative_goes_in_runs(monkeypatch):
    # The backward pass reads the primitive's trait, not a list of known primitives.
    from funcgrad.prims.factories import unary

    half_sin = unary("test_half_sin", lambda x: 0.5 * np.sin(x), lambda x, out: 0.5 * fnp.cos(x),
                     derivative_eager=lambda x, out: 0.5 * np.cos(x), residuals=(0,), register=False)
    assert half_sin.product_rule is not None and "test_half_sin" not in primitives

    def f(x):
        for _ in range(12):
            x = half_sin.bind(x) * 1.5
        return fnp.sum(x)

    x = RNG.uniform(0.2, 0.8, 5)
    (v1, g1), (v2, g2), runs = _grads_with_and_without_runs(f, x, monkeypatch)
    assert runs and sum(runs) >= 20
    assert _same_bits(v1, v2) and _same_bits(g1, g2)
    expected = np.ones(5)
    y = x
    ys = []
    for _ in range(12):
        ys.append(y)
        y = 0.5 * np.sin(y) * 1.5
    for y in reversed(ys):
        expected = expected * (0.75 * np.cos(y))
    np.testing.assert_allclose(g1, expected, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(_CHAIN_STEP))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7,), (2, 3), (512,)])
def test_chain_runs_give_the_entry_by_entry_bits(name, dtype, shape, monkeypatch):
    prim = getattr(ew, f"{name}_p")
    start, factor = _CHAIN_STEP[name]

    alone = name in ("sin", "cos", "tan", "sinh", "tanh", "expit", "arcsin", "arcsinh")  # stays in its domain

    def f(x):
        y = x
        for _ in range(9 if alone else 0):  # the primitive alone, then with numbers (float and int, either side)
            y = prim.bind(y)
        y = y * factor
        for k in range(25):
            y = prim.bind(y) * factor if k % 3 else factor * prim.bind(y)
            if k % 5 == 0:
                y = y * 1  # an int
        return fnp.sum(y * y)

    x = (start + 0.02 * RNG.uniform(-1, 1, shape)).astype(dtype)
    (v1, g1), (v2, g2), runs = _grads_with_and_without_runs(f, x, monkeypatch)
    assert runs and sum(runs) > 20  # the chain went in runs
    assert _same_bits(v1, v2) and _same_bits(g1, g2)
    assert np.all(np.isfinite(g1))


@pytest.mark.parametrize("shape", [(), (0,), (513,), (3,)])
def test_chain_runs_only_for_small_real_arrays(shape, monkeypatch):
    x = 0.5 + 0.1 * RNG.standard_normal(shape)
    (v1, g1), (v2, g2), runs = _grads_with_and_without_runs(
        lambda x: fnp.sum(fnp.tanh(fnp.tanh(fnp.tanh(fnp.tanh(fnp.tanh(x)))))), x, monkeypatch)
    assert bool(runs) == (shape == (3,))
    assert _same_bits(v1, v2) and _same_bits(g1, g2)
    # complex: entry by entry
    z = x.astype(np.complex128) * (1 + 0.5j)
    used = _run_count(monkeypatch)
    fg.grad(lambda z: fnp.real(fnp.sum(fnp.tanh(fnp.tanh(fnp.tanh(fnp.tanh(fnp.tanh(z))))))))(z)
    assert all(d <= 0 for d in used)


def test_chain_runs_stop_where_a_cotangent_is_pending_or_a_node_is_shared(monkeypatch):
    # y feeds both the rest of the chain and another branch: its cotangent from that branch is
    # pending when the chain below reaches it, so it is summed there, not skipped.
    def f(x):
        y = x
        for _ in range(8):
            y = fnp.sin(y)
        z = y
        for _ in range(8):
            z = fnp.tanh(z) * 1.1
        w = y * y  # recorded after z's chain: processed first by the backward pass
        u = y
        for _ in range(6):
            u = fnp.exp(u) * 0.5
        return fnp.sum(z) + fnp.sum(w) + fnp.sum(u)

    x = RNG.standard_normal(5)
    (v1, g1), (v2, g2), runs = _grads_with_and_without_runs(f, x, monkeypatch)
    assert runs
    assert _same_bits(v1, v2) and _same_bits(g1, g2)
    check_grads(f, (x,), order=1, modes=("rev",))


def test_chain_runs_are_first_order_only_and_second_order_is_right(monkeypatch):
    # A traced tape (order 2) or a traced cotangent takes the general rules entry by entry.
    def f(x):
        for _ in range(10):
            x = fnp.tanh(x) * 1.3
        return fnp.sum(x)

    x = RNG.standard_normal(4) * 0.3
    used = _run_count(monkeypatch)
    hess = fg.hessian(f)(x)
    check_grads(f, (x,), order=2, modes=("rev",))
    eps = 1e-6
    fd = np.stack([(fg.grad(f)(x + eps * e) - fg.grad(f)(x - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-8)
    _, pullback = fg.vjp(lambda x: f(x) * 1.0, x)
    used.clear()
    (g,), (dg,) = fg.jvp(lambda v: pullback(v), (np.array(1.0),), (np.array(2.0),))
    np.testing.assert_allclose(dg, 2 * g, rtol=1e-14)


def test_a_chain_cotangent_handed_past_nodes_without_one():
    # a * 3 reads a node several entries back: the entries in between (a norm only compared, an
    # input, a custom_vjp output nobody uses) have no cotangent and are passed over.
    @fg.custom_vjp
    def twice(v):
        return v * 2.0

    twice.defvjp(lambda v: (v * 2.0, None), lambda _, ct: (ct * 2.0,))

    def f(x, y):
        a = fnp.sin(x) * 2.0
        for _ in range(3):
            if fnp.linalg.norm(a) > 1e9:  # recorded, never reached by a cotangent
                break
            twice(y)
        b = a * 3.0
        return fnp.tanh(b) * y + twice(y)

    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    out, pullback = fg.vjp(f, x, y)
    v = RNG.standard_normal(4)
    gx, gy = pullback(v)
    b = 6.0 * np.sin(x)
    np.testing.assert_allclose(gx, v * y * (1 - np.tanh(b) ** 2) * 6.0 * np.cos(x), rtol=1e-13)
    np.testing.assert_allclose(gy, v * np.tanh(b) + 2.0 * v, rtol=1e-13)
    check_grads(lambda x: fnp.sum(f(x, y)), (x,), order=2, modes=("rev",))
    _, pb = fg.vjp(lambda x: f(x, y), x)  # one array in: the same backward pass
    np.testing.assert_array_equal(pb(v)[0], gx)
