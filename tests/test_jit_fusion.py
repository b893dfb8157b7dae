"""What jit's generated NumPy code fuses, checked on the source (never on timings), and that it
stays safe: in-place updates only into dead buffers of the program's own making (a user's
input, a constant or a returned array is never written), the same values as the general code
and as eager evaluation; and the call path's table of plain arguments (dicts, lists, numbers).
"""

from __future__ import annotations

import ast
import threading
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.ir import buffers
from funcgrad.ir.codegen import generate
from funcgrad.ir.program import ShapedArray, Var
from funcgrad.scipy.special import logsumexp


def mlp(params: dict, x: Any, onehot: Any) -> Any:
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    h = fnp.tanh(h @ params["w2"] + params["b2"])
    logits = h @ params["w3"] + params["b3"]
    return fnp.mean(logsumexp(logits, axis=1) - fnp.sum(onehot * logits, axis=1))


def mlp_args(seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = (6, 5, 4, 3)
    params = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"w{i}"] = rng.standard_normal((m, n)) / np.sqrt(m)
        params[f"b{i}"] = 0.1 * rng.standard_normal(n)
    x = rng.standard_normal((7, 6))
    onehot = np.eye(3)[rng.integers(0, 3, 7)]
    return params, x, onehot


def tiny(x: Any) -> Any:
    y = x * 2.0
    z = fnp.sin(y)
    u = z * x
    s = fnp.exp(u)
    return fnp.log(fnp.sum(s))


class Sub(np.ndarray):
    """An ndarray subclass: the generated code's type check sends it to the general version."""


def calls(source: str, scope: dict | None = None) -> list[tuple[str, list[str], str | None]]:
    """(function name, operand sources, buffer written) of every call in the generated function,
    in order. The buffer is an ``out=`` keyword, or a ufunc's extra positional argument (the
    ufuncs are looked up in ``scope``, the generated module's globals)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [ast.unparse(a) for a in node.args]
            out = next((ast.unparse(k.value) for k in node.keywords if k.arg == "out"), None)
            fn = (scope or {}).get(node.func.id)
            if out is None and isinstance(fn, np.ufunc) and len(args) == fn.nin + 1:
                out = args.pop()
            found.append((node.func.id, args, out))
    return found


def lowered_calls(lowered: Any) -> list[tuple[str, list[str], str | None]]:
    return calls(lowered.source, lowered.compiled.__globals__)


def general_version(lowered: Any) -> Any:
    """The general version of a lowered function (what non-NumPy arguments run)."""
    return next(v for k, v in lowered.compiled.__globals__.items() if k.startswith("_general"))


def assert_allclose_tree(got: Any, want: Any, tol: float = 1e-12) -> None:
    g_leaves, g_tree = fg.tree_util.tree_flatten(got)
    w_leaves, w_tree = fg.tree_util.tree_flatten(want)
    assert g_tree == w_tree
    for g, w in zip(g_leaves, w_leaves):
        assert type(g) is np.ndarray
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


# --- fusion, read from the source --------------------------------------------------------------


def test_elementwise_chain_allocates_one_array_and_updates_it_in_place() -> None:
    f = fg.jit(lambda x: fnp.exp(fnp.sin(x) * 2.0 + 1.0) - x)
    x = np.linspace(-1.0, 1.0, 5)
    lowered = f.lower(x)
    made = [c for c in lowered_calls(lowered) if c[0].startswith(("_sin", "_multiply", "_add", "_exp", "_subtract"))]
    assert len(made) == 5
    assert made[0][2] is None  # sin(x) makes the one new array (x is the caller's: never written)
    target = made[1][2]
    assert target is not None and all(c[2] == target for c in made[1:])  # every later step writes into it
    assert "a0" not in {c[2] for c in made}
    np.testing.assert_array_equal(f(x), np.exp(np.sin(x) * 2.0 + 1.0) - x)


def test_no_intermediate_is_allocated_twice_in_the_mlp_gradient() -> None:
    params, x, onehot = mlp_args()
    lowered = fg.jit(fg.value_and_grad(mlp)).lower(params, x, onehot)
    program = lowered.program
    plan = buffers.plan_buffers(program)
    # Every elementwise ufunc whose operand of its result's shape and dtype dies there (and is
    # the program's own array) writes into it: the number of in-place writes is the number of
    # such equations, and the source has one write per such equation.
    assert plan.writes and sum(c[2] is not None for c in lowered_calls(lowered)) == len(plan.writes)
    for k, buffer in plan.writes.items():
        e = program.eqns[k]
        assert buffer in e.inputs and buffer not in program.inputs and buffer not in program.consts
        assert buffer.aval.shape == e.out.aval.shape and buffer.aval.dtype == e.out.aval.dtype
    # tanh of each hidden layer, and the bias added before it, update the matmul's result
    tanh_calls = [c for c in lowered_calls(lowered) if c[0].startswith("_tanh")]
    assert len(tanh_calls) == 2 and all(c[2] == c[1][0] for c in tanh_calls)


def test_softmax_backward_writes_into_the_dead_exp_buffer() -> None:
    params, x, onehot = mlp_args()
    cs = lowered_calls(fg.jit(fg.value_and_grad(mlp)).lower(params, x, onehot))
    exp_at = next(i for i, c in enumerate(cs) if c[0].startswith("_exp"))
    exp_buffer = cs[exp_at][2]
    assert exp_buffer is not None  # exp(logits - max) itself reuses the subtraction's array
    # softmax = exp / sum: the multiply by 1/sum is written into exp's array once exp is dead
    later = [c for c in cs[exp_at + 1:] if c[0].startswith("_multiply") and c[2] == exp_buffer]
    assert later and exp_buffer in later[0][1]


def test_transposes_are_folded_into_the_matmul_that_reads_them() -> None:
    params, x, onehot = mlp_args()
    src = fg.jit(fg.value_and_grad(mlp)).lower(params, x, onehot).source
    assert ".transpose(" not in src
    matmuls = [c for c in calls(src) if c[0].startswith("_matmul")]
    assert sum(a.endswith(".T") for c in matmuls for a in c[1]) == 5  # w3.T, h2.T, w2.T, h1.T, x.T
    assert not any(line.strip().endswith(".T") for line in src.splitlines())  # no line of its own


def test_reductions_call_ufunc_reduce_and_scalar_arithmetic_uses_operators() -> None:
    x = np.linspace(0.1, 1.0, 10)
    lowered = fg.jit(fg.value_and_grad(tiny)).lower(x)
    g = lowered.compiled.__globals__
    reducers = [c for c in calls(lowered.source) if g.get(c[0]) == np.add.reduce]  # (equal, not identical)
    assert len(reducers) == 1 and reducers[0][1][1:] == ["None"]  # axis=None (keepdims=False by default)
    # the seed's 1/sum(s) is NumPy scalar arithmetic, no ufunc call
    assert any(" / " in line for line in lowered.source.splitlines())
    value, grad = fg.jit(fg.value_and_grad(tiny))(x)
    want_v, want_g = fg.value_and_grad(tiny)(x)
    np.testing.assert_allclose(value, want_v, rtol=1e-12)
    np.testing.assert_allclose(grad, want_g, rtol=1e-12, atol=1e-12)
    assert type(value) is np.ndarray and value.shape == ()


def test_reductions_of_known_arrays_have_no_type_check() -> None:
    # tiny's sum reads exp's result, a new array: ufunc.reduce directly. A reduction of what the
    # code cannot know to be an array (a reshape's result may be anything its impl returns; a 0-d
    # argument may be a NumPy scalar) keeps its check, and the general version checks every one.
    x = np.linspace(0.1, 1.0, 10)
    lowered = fg.jit(fg.value_and_grad(tiny)).lower(x)
    assert "if type(v" not in lowered.source
    lowered = fg.jit(lambda x, s: fnp.sum(x) + fnp.sum(x.reshape(2, 5), axis=0) * fnp.sum(s)).lower(x, np.array(2.0))
    g = lowered.compiled.__globals__
    checked = [line for line in lowered.source.splitlines() if " if type(" in line and " else " in line]
    direct = [c for c in calls(lowered.source) if g.get(c[0]) == np.add.reduce and c[1][0] == "a0"]
    assert len(checked) == 2 and not any("(a0" in line for line in checked), lowered.source
    assert len(direct) == 1  # the argument x, past the function's own type check
    sub = np.linspace(0.1, 1.0, 10).view(Sub)
    for arg in (x, sub):
        got = fg.jit(fg.value_and_grad(tiny))(arg)
        np.testing.assert_allclose(got[1], fg.value_and_grad(tiny)(x)[1], rtol=1e-12)
    general = general_version(fg.jit(fg.value_and_grad(tiny)).lower(x))
    general(sub)
    assert " else " in general.compiled.source and "if type(v" in general.compiled.source


def test_max_reduction_uses_maximum_reduce() -> None:
    lowered = fg.jit(lambda x: fnp.max(x, axis=1) + fnp.min(x, axis=0).sum()).lower(np.ones((3, 4)))
    g = lowered.compiled.__globals__
    used = [g.get(c[0]) for c in calls(lowered.source)]
    assert np.maximum.reduce in used and np.minimum.reduce in used  # (equal bound methods)


# --- the same values as the general code and as eager -----------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_fused_mlp_equals_general_code_and_eager(seed: int) -> None:
    params, x, onehot = mlp_args(seed)
    jf = fg.jit(fg.value_and_grad(mlp))
    got = jf(params, x, onehot)
    want = fg.value_and_grad(mlp)(params, x, onehot)
    assert_allclose_tree(got, want)
    lowered = jf.lower(params, x, onehot)
    leaves = fg.tree_util.tree_leaves((params, x, onehot))
    fused = lowered.compiled(*leaves)
    general = general_version(lowered)(*leaves)
    general_code = general_version(lowered).compiled
    assert all(c[2] is None for c in calls(general_code.source, general_code.fn.__globals__))
    for a, b in zip(fused, general):
        np.testing.assert_array_equal(a, b)  # the same NumPy loops, into other buffers


def test_hessian_vector_product_under_jit_equals_eager() -> None:
    params, x, onehot = mlp_args(3)
    v = np.random.default_rng(4).standard_normal(params["w1"].shape)

    def hvp(w1: Any, params: dict, x: Any, onehot: Any, v: Any) -> Any:
        loss = lambda w: mlp({**params, "w1": w}, x, onehot)  # noqa: E731
        return fg.jvp(fg.grad(loss), (w1,), (v,))

    got = fg.jit(hvp)(params["w1"], params, x, onehot, v)
    want = hvp(params["w1"], params, x, onehot, v)
    assert_allclose_tree(got, want)


def test_subclass_and_foreign_arguments_run_the_general_version() -> None:
    f = fg.jit(lambda x: fnp.exp(fnp.sin(x) * 2.0))
    x = np.linspace(0.0, 1.0, 4)
    want = np.exp(np.sin(x) * 2.0)
    np.testing.assert_array_equal(f(x), want)
    sub = x.copy().view(Sub)
    before = sub.copy()
    got = f(sub)
    np.testing.assert_array_equal(np.asarray(got), want)
    np.testing.assert_array_equal(sub, before)
    assert general_version(f.lower(x)).compiled is not None  # it was compiled on that call


# --- aliasing safety ----------------------------------------------------------------------------


def test_inputs_are_never_written() -> None:
    def f(x: Any, y: Any) -> Any:
        return fnp.exp(x) * 2.0 + fnp.tanh(y) - x  # x, y die at their last use: still the caller's

    x, y = np.linspace(-1, 1, 6), np.linspace(0, 2, 6)
    x0, y0 = x.copy(), y.copy()
    jf = fg.jit(f)
    written = {c[2] for c in lowered_calls(jf.lower(x, y))}
    assert written - {None} and not written & {"a0", "a1"}
    for _ in range(3):
        np.testing.assert_allclose(jf(x, y), np.exp(x0) * 2.0 + np.tanh(y0) - x0, rtol=1e-15)
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(y, y0)


def test_returned_arrays_are_never_overwritten_and_never_shared_between_calls() -> None:
    def f(x: Any) -> Any:
        y = fnp.sin(x)          # returned, and read again after
        z = fnp.exp(y) * 3.0    # y's last read: but y is an output
        return y, z, z + 1.0

    jf = fg.jit(f)
    x = np.linspace(0, 1, 5)
    y, z, z1 = jf(x)
    np.testing.assert_array_equal(y, np.sin(x))
    np.testing.assert_array_equal(z, np.exp(np.sin(x)) * 3.0)
    np.testing.assert_array_equal(z1, np.exp(np.sin(x)) * 3.0 + 1.0)
    y2, z2, _ = jf(x)
    assert y2 is not y and z2 is not z and not np.shares_memory(y, y2) and not np.shares_memory(z, z1)


def test_a_view_still_needed_keeps_its_buffer_from_being_written() -> None:
    def f(x: Any) -> Any:
        y = fnp.sin(x)
        t = y.T                     # a view of y
        r = fnp.reshape(y, (-1,))   # another view of y
        w = fnp.exp(y) * 2.0        # y dies here, its views do not
        return t + 1.0, r * w.reshape(-1), w

    jf = fg.jit(f)
    x = np.arange(6.0).reshape(2, 3) / 7.0
    got = jf(x)
    y = np.sin(x)
    want = (y.T + 1.0, y.reshape(-1) * (np.exp(y) * 2.0).reshape(-1), np.exp(y) * 2.0)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_a_returned_view_keeps_its_base_from_being_written() -> None:
    def f(x: Any) -> Any:
        y = fnp.sin(x)
        return y.T, fnp.cos(y)  # y's last read is cos: its transpose is returned

    x = np.arange(6.0).reshape(2, 3)
    t, c = fg.jit(f)(x)
    np.testing.assert_array_equal(t, np.sin(x).T)
    np.testing.assert_array_equal(c, np.cos(np.sin(x)))


def test_constants_are_never_written() -> None:
    c = np.linspace(1.0, 2.0, 4)
    c0 = c.copy()
    jf = fg.jit(lambda x: fnp.exp(c * 2.0) + fnp.sin(c) * x)
    x = np.ones(4)
    first = jf(x)
    second = jf(x)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(c, c0)
    np.testing.assert_array_equal(first, np.exp(c0 * 2.0) + np.sin(c0) * x)


def test_mutating_a_result_does_not_change_the_next_call() -> None:
    jf = fg.jit(lambda x: (fnp.sin(x) * 2.0, fnp.sum(x)))
    x = np.linspace(0, 1, 3)
    a, s = jf(x)
    a[:] = 99.0
    s[...] = -1.0
    b, s2 = jf(x)
    np.testing.assert_array_equal(b, np.sin(x) * 2.0)
    assert s2 == np.sum(x)


def test_plan_writes_only_owned_same_shape_buffers_at_their_death() -> None:
    params, x, onehot = mlp_args()
    program = fg.jit(fg.value_and_grad(mlp)).lower(params, x, onehot).program
    plan = buffers.plan_buffers(program)
    outputs = {a for a in program.outputs if type(a) is Var}
    for k, buffer in plan.writes.items():
        assert buffer in plan.fresh and buffer not in outputs
        later = [e for e in program.eqns[k + 1:] if buffer in e.inputs]
        assert not later  # the buffer's value is never read after it is overwritten


def test_non_numpy_constants_disable_the_specialisation() -> None:
    prog = fg.make_trace(lambda x: fnp.sin(x) * 2.0)(np.ones(3))
    assert buffers.numpy_program(prog)
    k = next(iter(prog.consts), None)
    assert k is None  # no constants here; a program with an opaque constant is not specialised
    other = prog.replace(consts={Var(ShapedArray((), np.dtype(object))): object()})
    assert not buffers.numpy_program(other)
    assert "_general" not in generate(other).source


# --- the call path ------------------------------------------------------------------------------


def test_dicts_in_any_key_order_share_one_entry_and_give_the_same_results() -> None:
    traces = []

    def f(p: dict, x: Any) -> Any:
        traces.append(1)
        return p["w"] @ x + p["b"] * 2.0, p["b"] - 1.0

    jf = fg.jit(f)
    w, b, x = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0]), np.array([0.5, 1.0, 2.0])
    want = (w @ x + b * 2.0, b - 1.0)
    for p in ({"w": w, "b": b}, {"b": b, "w": w}, {"w": w, "b": b}, {"b": b, "w": w}):
        got = jf(p, x)
        for a, c in zip(got, want):
            np.testing.assert_array_equal(a, c)
    assert len(traces) == 1 and jf.cache_info()[:3] == (3, 1, 1)


def test_nested_lists_tuples_and_numbers_take_the_fast_table() -> None:
    jf = fg.jit(lambda layers, s: sum(w.sum() * s + b for w, b in layers))
    layers = [(np.ones((2, 2)), np.array(1.0)), (np.full((3,), 2.0), np.array(0.0))]
    want = 4.0 * 0.5 + 1.0 + 6.0 * 0.5
    for s in (0.5, 0.5, 0.5):
        np.testing.assert_allclose(jf(layers, s), want)
    assert jf.cache_info()[:2] == (2, 1)
    assert len(jf._fast) == 1


def test_structures_with_equal_leaves_do_not_collide() -> None:
    jf = fg.jit(lambda a: fg.tree_util.tree_leaves(a)[0] * 2.0)
    x = np.ones(3)
    for arg in ({"a": x}, [x], (x,), {"b": x}, [[x]], x):
        np.testing.assert_array_equal(jf(arg), x * 2.0)
    assert jf.cache_info().misses == 6


def test_empty_containers_and_0d_arrays_do_not_collide() -> None:
    # (np.dtype("float64") == float is True in NumPy: keys must not rely on comparing them)
    jf = fg.jit(lambda *a: fg.tree_util.tree_leaves(a)[0] + 1.0)
    zero = np.array(1.0)
    np.testing.assert_array_equal(jf(zero), 2.0)
    np.testing.assert_array_equal(jf({}, 1.0), 2.0)
    np.testing.assert_array_equal(jf([], 1.0), 2.0)
    np.testing.assert_array_equal(jf((), 1.0), 2.0)
    np.testing.assert_array_equal(jf(zero, zero), 2.0)
    assert jf.cache_info().misses == 5 and len(jf._fast) == 5
    keys = list(jf._fast)
    assert all(a != b for i, a in enumerate(keys) for b in keys[i + 1:])


def test_number_types_are_part_of_the_key() -> None:
    jf = fg.jit(lambda x, s: x * s)
    x = np.ones(2, dtype=np.float32)
    assert jf(x, 2).dtype == np.float32 and jf(x, 2.0).dtype == np.float32 and jf(x, True).dtype == np.float32
    assert jf(x, 1 + 0j).dtype == np.complex64
    assert jf.cache_info().misses == 4
    np.testing.assert_array_equal(jf(x, 3), x * 3)  # a new value of a known type: no retrace
    assert jf.cache_info().misses == 4


def test_non_str_dict_keys_stay_on_the_general_path_and_are_correct() -> None:
    jf = fg.jit(lambda d: d[1] * 2.0 + d[2])
    d = {2: np.ones(2), 1: np.arange(2.0)}
    for _ in range(3):
        np.testing.assert_array_equal(jf(d), np.arange(2.0) * 2.0 + 1.0)
    assert jf.cache_info()[:2] == (2, 1) and not jf._fast


def test_fast_path_hits_count_exactly_from_many_threads() -> None:
    jf = fg.jit(lambda p, x: p["a"] * x)
    p, x = {"a": np.ones(3)}, np.arange(3.0)
    jf(p, x)

    def work() -> None:
        for _ in range(200):
            jf(p, x)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert jf.cache_info()[:3] == (800, 1, 1)


def test_one_array_calls_take_the_shape_table_and_check_the_dtype() -> None:
    # One array argument is looked up by its shape alone, its dtype compared by identity: an
    # equal dtype that is another object (metadata), another dtype or a NumPy scalar of that
    # shape takes the general path, with the right result and no retrace.
    jf = fg.jit(lambda x: x * 2.0)
    x64, x32 = np.arange(3.0), np.arange(3.0, dtype=np.float32)
    tagged = np.arange(3.0).astype(np.dtype(np.float64, metadata={"tag": 1}))
    assert tagged.dtype == x64.dtype and tagged.dtype is not x64.dtype
    for x in (x64, x32, x64, x32, tagged, tagged):
        got = jf(x)
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, np.arange(3.0) * 2.0)
    assert jf.cache_info()[:2] == (4, 2)
    assert list(jf._fast_one) == [(3,)] and jf._fast_one[(3,)][5] is x32.dtype  # the latest of one shape
    scalar_fn = fg.jit(lambda x: x + 1.0)
    assert scalar_fn(np.array(1.0)).shape == ()
    for s in (np.float64(2.0), np.float32(2.0), 2.0):
        out = scalar_fn(s)
        assert type(out) is np.ndarray and out == 3.0
    assert scalar_fn.cache_info().misses == 3  # a NumPy float64 scalar shares the 0-d array's entry


def test_one_array_shape_table_forgets_evicted_entries() -> None:
    jf = fg.jit(lambda x: x + 1.0, cache_size=1)
    a, b = np.ones(2), np.ones(3)
    jf(a)
    jf(b)  # evicts a
    assert list(jf._fast_one) == [(3,)]
    np.testing.assert_array_equal(jf(a), a + 1.0)
    assert jf.cache_info()[:2] == (0, 3)
    jf.clear_cache()
    assert not jf._fast_one and not jf._fast


def test_one_array_hits_count_exactly_from_many_threads() -> None:
    jf = fg.jit(lambda x: x * 3.0)
    x = np.arange(3.0)
    jf(x)

    def work() -> None:
        for _ in range(300):
            jf(x)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert jf.cache_info()[:3] == (1200, 1, 1)


def test_least_recently_used_counts_fast_path_hits() -> None:
    jf = fg.jit(lambda p: p["a"] + 1.0, cache_size=2)
    a, b, c = ({"a": np.ones(n)} for n in (1, 2, 3))
    jf(a)
    jf(b)
    jf(a)  # a fast hit: b is now the least recently used
    jf(c)  # evicts b
    assert jf.cache_info()[:3] == (1, 3, 2)
    jf(a)
    assert jf.cache_info()[:2] == (2, 3)
    jf(b)
    assert jf.cache_info()[:2] == (2, 4)


def test_disable_jit_still_wins_over_the_fast_path() -> None:
    seen = []

    def f(x: Any) -> Any:
        seen.append(type(x))
        return x * 2.0

    jf = fg.jit(f)
    x = np.ones(2)
    jf(x)
    jf(x)
    with fg.disable_jit():
        jf(x)
    assert seen[-1] is np.ndarray and len(seen) == 2


def test_float_literals_are_0d_arrays_only_where_every_operand_is_float64() -> None:
    f = fg.jit(lambda x: fnp.sin(x) * 2.0 + 0.5)
    x64 = np.linspace(0, 1, 4)
    x32 = x64.astype(np.float32)
    lowered = f.lower(x64)
    g = lowered.compiled.__globals__
    literal_operands = [g[a] for c in lowered_calls(lowered) for a in c[1] if a in g and type(g[a]) is np.ndarray]
    assert sorted(float(a) for a in literal_operands) == [0.5, 2.0]
    assert all(a.shape == () and a.dtype == np.float64 for a in literal_operands)
    assert "2.0" in f.lower(x32).source  # float32: a Python float, which keeps float32 (NEP 50)
    for x in (x64, x32, x64):
        got = f(x)
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, np.sin(x) * 2.0 + 0.5)
    assert sorted(float(a) for a in literal_operands) == [0.5, 2.0]  # never written
