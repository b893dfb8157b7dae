"""``jit(f, backend="numba")``: elementwise regions fused into Numba loop kernels.

The kernels must compute what the NumPy backend computes: to 1e-12 relative in double precision
(1e-5 in single precision, where NumPy's SIMD routines and the C library may differ by an ulp or
two), with NumPy's result dtypes and broadcasting, on 0-d and empty arrays, and with NaN and
infinities. Every row of the primitive table (tests/test_primitives.py) runs under both backends,
forward and ``jit(grad)``; rows are grouped by case into one jitted function each, so that a few
large kernels are compiled instead of a thousand small ones (compilation dominates this file's
time). The error for a missing Numba is tested by simulating the failed import.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import test_primitives as prim_table

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import BackendUnavailableError, UnknownBackendError
from funcgrad.ir.fusion import find_regions, kernel_source, plan
from funcgrad.ir.passes import optimize
from funcgrad.tree_util import tree_leaves

# A kernel Numba cannot compile falls back to NumPy with this warning: here, it is a failure.
pytestmark = pytest.mark.filterwarnings("error:funcgrad's Numba backend could not compile:RuntimeWarning")

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="the numba extra is not installed (CI installs it)")


def numba_jit(f, **kw):
    return fg.jit(f, backend="numba", **kw)


def assert_close(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind in "fc":
        tol = 1e-5 if want.dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def kernel_calls(jitted, *args) -> int:
    """How many fused kernels the generated program calls."""
    program = jitted.lower(*args).program
    return len(find_regions(program)[1])


# --- choosing the backend -----------------------------------------------------------------------


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(UnknownBackendError, match=r"'numpy', 'numba'") as info:
        fg.jit(lambda x: x, backend="numbaa")
    assert isinstance(info.value, ValueError)
    with pytest.raises(UnknownBackendError):
        fg.jit(backend=None)  # type: ignore[arg-type]


def test_missing_numba_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    with pytest.raises(BackendUnavailableError, match=r'pip install "funcgrad\[numba\]"') as info:
        fg.jit(lambda x: x * 2.0, backend="numba")
    assert isinstance(info.value, ImportError)
    with pytest.raises(BackendUnavailableError, match="funcgrad\\[numba\\]"):
        fg.jit(backend="numba")  # the decorator form fails as early
    # the default backend does not need it
    np.testing.assert_array_equal(fg.jit(lambda x: x * 2.0)(np.ones(2)), [2.0, 2.0])


def test_too_old_numba_names_the_extra(monkeypatch):
    class OldNumba:
        __version__ = "0.55.2"

    monkeypatch.setitem(sys.modules, "numba", OldNumba)
    with pytest.raises(BackendUnavailableError, match=r"0\.60.*funcgrad\[numba\]"):
        fg.jit(lambda x: x, backend="numba")


def test_the_pyproject_declares_the_extra_and_tests_install_it():
    text = open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml")).read()
    assert 'numba = ["numba>=0.60"]' in text
    test_extra = text.split("\ntest = [", 1)[1].split("\n]", 1)[0]
    assert '"numba>=0.60"' in test_extra


# --- regions and kernel source (no Numba needed) --------------------------------------------------


def _program(f, *args):
    return optimize(fg.make_trace(f)(*args))


def test_regions_fuse_elementwise_work_and_leave_the_rest():
    def f(x, w):
        h = fnp.tanh(x @ w + 1.0) * 2.0  # matmul stays NumPy; add, tanh, multiply fuse
        return fnp.sum(fnp.exp(h) - h, axis=1)  # exp, subtract fuse with them; the sum stays NumPy

    prog = _program(f, np.ones((4, 3)), np.ones((3, 5)))
    order, regions = find_regions(prog)
    assert len(regions) == 1
    assert [e.prim.name for e in regions[0].eqns] == ["add", "tanh", "multiply", "exp", "subtract"]
    rest = [item.prim.name for item in order if not isinstance(item, int)]
    assert rest == ["dot_general", "sum"] or rest == ["matmul", "sum"], rest


def test_a_region_never_waits_on_its_own_result():
    # y depends on a reduction of the region's first part: the second part is another kernel
    def f(x):
        a = fnp.sin(x) * 2.0
        s = fnp.sum(a)
        return fnp.cos(a) * s + a

    prog = _program(f, np.ones(5))
    order, regions = find_regions(prog)
    positions = {id(item): k for k, item in enumerate(order)}
    assert len(regions) == 2
    first, second = (order.index(k) for k in range(2))
    total = next(k for k, item in enumerate(order) if not isinstance(item, int))
    assert first < total < second, positions


def test_scalar_steps_between_a_reduction_and_the_backward_pass_join_the_backward_kernel():
    def f(x):
        return fnp.log(fnp.sum(fnp.exp(fnp.sin(x))))

    prog = _program(fg.value_and_grad(f), np.ones(5))
    _, regions = find_regions(prog)
    assert len(regions) == 2  # forward; log and 1/sum computed once before the backward loop
    assert regions[1].prelude >= 2


def test_kernel_source_is_names_and_templates_only():
    hostile = 1.0000000000000002
    prog = _program(lambda x, y: fnp.where(x > hostile, fnp.exp(x) * np.nan, -0.0 * y + 0.0), np.ones((2, 3)),
                    np.ones((2, 3)))
    (region,) = find_regions(prog)[1]
    src = kernel_source(region)
    assert "nan" not in src and "0.0" not in src and repr(hostile) not in src  # literals are arguments
    compile(src, "<kernel>", "exec")
    import re

    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", src))
    generated = {w for w in words if re.fullmatch(r"[aoxtni]\d+", w)}
    assert words - generated <= {"def", "kernel", "np", "empty", "float64", "bool_", "shape", "for", "in", "range",
                                 "h", "as_scalar", "math", "exp", "if", "else", "return"}, words - generated
    # the two zeros are different literals (sign), so different arguments
    zeros = [a.value for a in region.args if type(getattr(a, "value", None)) is float and a.value == 0.0]
    assert sorted(np.signbit(zeros)) == [False, True]


def test_subclass_and_out_of_range_literals_stay_numpy_calls():
    class MyFloat(float):
        pass

    prog = _program(lambda x: fnp.sin(x) * MyFloat(2.0) + 2 ** 70, np.ones(3))
    assert all(plan(e) is None for e in prog.eqns if e.prim.name in ("multiply", "add"))


def test_integer_arithmetic_and_float16_stay_numpy_calls():
    assert plan(_program(lambda i: i + 1, np.arange(3)).eqns[0]) is None
    assert plan(_program(lambda x: fnp.sin(x), np.ones(3, np.float16)).eqns[0]) is None


def test_fusion_accepts_an_operation_by_its_primitives_kernel_rule_alone():
    from funcgrad.core import Primitive
    from funcgrad.prims.factories import ufunc_kernel

    bare = Primitive("sin", np.sin, register=False)  # a NumPy ufunc, named like sin, without a rule
    prog = fg.make_trace(lambda x: bare.bind(x))(np.ones(3))
    assert plan(prog.eqns[0]) is None
    bare.kernel = ufunc_kernel
    assert plan(prog.eqns[0]).template == "math.sin({0})"
    bare.kernel = lambda e: None  # a rule may decline an equation
    assert plan(prog.eqns[0]) is None


def test_every_registered_primitive_a_kernel_can_compute_declares_its_rule():
    """Registry-wide: each primitive whose NumPy ufunc has a kernel template declares the ufunc
    rule on itself (so fusion, which reads only ``prim.kernel``, computes it), and the ones
    computed by other rules declare theirs."""
    from funcgrad.core import primitives
    from funcgrad.ir.fusion import ufunc_plan
    from funcgrad.prims.elementwise import expit_p, imag_p, real_p, round_p, where_p
    from funcgrad.prims.shape import astype_p, broadcast_to_p, optimization_barrier_p, stop_gradient_p

    checked = 0
    for prim in list(primitives.values()):
        if type(prim.impl) is not np.ufunc or prim.impl.nout != 1 or prim.impl.nin > 2:
            continue
        args = [np.linspace(0.1, 0.9, 3)] * prim.impl.nin
        e = fg.make_trace(lambda *xs: prim.bind(*xs))(*args).eqns[0]
        if ufunc_plan(e) is not None:
            checked += 1
            assert prim.kernel is not None, f"{prim.name}: a kernel can compute it but it declares no rule"
    assert checked >= 50
    for prim in (expit_p, where_p, real_p, imag_p, round_p, astype_p, broadcast_to_p, stop_gradient_p,
                 optimization_barrier_p):
        assert prim.kernel is not None and type(prim.impl) is not np.ufunc, prim.name


def test_the_fusion_pass_names_no_primitive():
    """ir/fusion.py tests primitive attributes, never names: no string in it is a registered
    primitive's name, it reads no ``.name`` and imports no primitive module."""
    import ast

    import funcgrad.ir.fusion as fusion
    from funcgrad.core import primitives

    tree = ast.parse(open(fusion.__file__).read())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert not strings & set(primitives), strings & set(primitives)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "name"]
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not [m for m in imported if "prims" in m], imported


def test_expit_kernel_is_the_impls_own_formula():
    from funcgrad.ir.fusion import formula_plan
    from funcgrad.prims import elementwise

    for dtype, name in ((np.float64, "np.float64"), (np.float32, "np.float32")):
        (e,) = _program(elementwise.expit_p.bind, np.ones(3, dtype)).eqns
        assert e.prim is elementwise.expit_p
        assert plan(e).template == f"({name}(1.0) / ({name}(1.0) + math.exp((-{{0}}))))"
        assert plan(e) == formula_plan(e, elementwise._expit_formula)
    e = _program(elementwise.expit_p.bind, np.ones(3)).eqns[0]
    assert formula_plan(e, lambda x: np.round(x)) is None  # no kernel template: stays a NumPy call
    assert formula_plan(e, lambda x: x * 1j) is None  # a complex constant in a real formula
    assert formula_plan(e, lambda x: x * np.ones(3)) is None  # an array is no scalar formula
    assert formula_plan(e, lambda x: 2.0 * x - 1).template == "((np.float64(2.0) * {0}) - np.float64(1.0))"


def test_every_elementwise_row_of_the_primitive_table_is_fused():
    """Which primitives a kernel computes (float64 operands): all of NumPy's elementwise ones in
    the table except the few left to NumPy on purpose."""
    left_to_numpy = {"nondiff_ufunc", "round[decimals=1]"}
    fused, missing = set(), []
    for row in prim_table.ROWS[: next(k for k, r in enumerate(prim_table.ROWS) if r.prim == "sum")]:
        args = prim_table.make_args(row, next(iter(row.shapes)))
        prog = fg.make_trace(row.fn)(*args)
        found = [e for e in prog.eqns if e.prim.name == row.prim]
        if found and all(plan(e) is not None for e in found):
            fused.add(row.id)
        elif row.id not in left_to_numpy:
            missing.append(row.id)
    assert not missing, f"elementwise rows a kernel does not compute: {missing}"
    assert len(fused) >= 68


# --- every row of the primitive table, under both backends --------------------------------------


_FIRST_NON_ELEMENTWISE = next(k for k, r in enumerate(prim_table.ROWS) if r.prim == "sum")
# Two groups of (row, case) pairs, each jitted as ONE function computing every row's value and the
# gradient of one loss of them all: every case of the elementwise rows (the primitives kernels
# compute: shapes, broadcasting, 0-d, empty, float32, complex), and the first case of every other
# row (reductions, linear algebra... stay NumPy calls, but their compositions and derivatives have
# elementwise steps that kernels compute). Regions form per shape across a whole group, so a few
# dozen kernels are compiled instead of thousands: compilation is what this test spends its time on.
GROUPS = {
    "elementwise": [(row, case) for row in prim_table.ROWS[:_FIRST_NON_ELEMENTWISE] for case in row.shapes],
    "other": [(row, next(iter(row.shapes))) for row in prim_table.ROWS[_FIRST_NON_ELEMENTWISE:]],
}


def _grouped(pairs):
    """One function applying every row to its case's operands (forward), the operands, one
    scalar loss of the differentiable rows, and the positions of the loss's inexact operands."""
    args, spans = [], []
    for row, case in pairs:
        a = prim_table.make_args(row, case)
        spans.append((len(args), len(args) + len(a)))
        args.extend(a)

    def forward(*xs):
        return [row.fn(*xs[i:j]) for (row, _), (i, j) in zip(pairs, spans)]

    rng = np.random.default_rng(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = fg.jit(forward)(*args)
    diff = [k for k, (row, _) in enumerate(pairs) if row.diff]
    cts = {k: [rng.standard_normal(np.shape(o)) for o in tree_leaves(outs[k])] for k in diff}

    def loss(*xs):
        total = 0.0
        for k in diff:
            i, j = spans[k]
            for o, ct in zip(tree_leaves(pairs[k][0].fn(*xs[i:j])), cts[k]):
                total = total + fnp.sum(fnp.real(o * ct))
        return total

    argnums = tuple(i for k in diff for i in range(*spans[k]) if args[i].dtype.kind in "fc")
    owner = {i: f"{pairs[k][0].id} [{pairs[k][1]}] operand {i - spans[k][0]}" for k in diff for i in range(*spans[k])}
    return forward, loss, args, argnums, owner


@needs_numba
@pytest.mark.parametrize("group", list(GROUPS))
def test_primitive_table_values_and_gradients_match_the_numpy_backend(group):
    pairs = GROUPS[group]
    forward, loss, args, argnums, owner = _grouped(pairs)
    both = lambda *xs: (forward(*xs), fg.grad(loss, argnums=argnums)(*xs))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's own warnings (overflow at a domain's edge)
        want_values, want_grads = fg.jit(both)(*args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fused = numba_jit(both)
        got_values, got_grads = fused(*args)
    assert not [w for w in caught if "Numba backend could not compile" in str(w.message)]
    for (row, case), g, w in zip(pairs, got_values, want_values):
        for gl, wl in zip(tree_leaves(g), tree_leaves(w)):
            assert_close(gl, wl, f"{row.id} [{case}]")
    for i, g, w in zip(argnums, got_grads, want_grads):
        assert_close(g, w, f"gradient of {owner[i]}")
    assert kernel_calls(fused, *args) >= 5


# --- semantics the table's domains do not reach -------------------------------------------------

SPECIAL = np.array([0.0, -0.0, 1.5, -2.0, 3.0, np.nan, np.inf, -np.inf])


@needs_numba
def test_special_values_follow_numpy():
    x = SPECIAL[:, None]
    y = SPECIAL[None, :]

    def f(x, y):
        return (fnp.maximum(x, y), fnp.minimum(x, y), fnp.fmax(x, y), fnp.fmin(x, y), fnp.remainder(x, y),
                fnp.floor_divide(x, y), fnp.logaddexp(x, y), fnp.sign(x) + 0 * y, fnp.true_divide(x, y),
                fnp.power(fnp.abs(x), y), fnp.where(x, y, -y), fnp.logical_and(x, y), fnp.logical_xor(x, y),
                fnp.isnan(x * y), fnp.isinf(x - y), fnp.isfinite(x + y), fnp.arctan2(x, y), fnp.hypot(x, y),
                fnp.floor(x) + fnp.ceil(y) + fnp.trunc(x * y), fnp.round(x - y), fnp.less(x, y), fnp.equal(x, y),
                fnp.sqrt(x) + fnp.log(y), fnp.log1p(x) * fnp.expm1(y), fnp.cbrt(x - y))

    with np.errstate(all="ignore"):
        want = fg.jit(f)(x, y)
        got = numba_jit(f)(x, y)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, f"output {k}")


@needs_numba
def test_complex_operations_follow_numpy():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    w = np.array([0.0 + 0.0j, 1.0 - 2.0j, 0.5j, -3.0])

    def f(z, w):
        return (z * w + z / w, fnp.abs(z - w), fnp.conj(z) * fnp.exp(z), fnp.real(z * w), fnp.imag(z / (w + 1.0)),
                fnp.sqrt(z) + fnp.log(z) - fnp.sin(z) * fnp.cos(z))

    with np.errstate(all="ignore"):
        want = fg.jit(f)(z, w)
        got = numba_jit(f)(z, w)
        got32 = numba_jit(f)(z.astype(np.complex64), w.astype(np.complex64))
        want32 = fg.jit(f)(z.astype(np.complex64), w.astype(np.complex64))
    for k, (g, wt) in enumerate(zip(got + got32, want + want32)):
        assert_close(g, wt, f"output {k}")


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_follow_numpy_promotion(dtype):
    x = np.linspace(-1, 1, 6, dtype=dtype).reshape(2, 3)
    i = np.arange(3)
    b = np.array([True, False, True])

    def f(x, i, b, s):
        return (x * 2 + 1.5, x + i, fnp.where(b, x, 0.5), x.astype(np.float32) * x, fnp.logical_and(x > 0, b), x * s,
                fnp.exp(x).astype(np.complex64) * 1j, b * 1.0 + x, -x / 3)

    got = numba_jit(f)(x, i, b, 2.0)  # s is a weakly typed Python float
    want = fg.jit(f)(x, i, b, 2.0)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, f"output {k}")
    assert got[0].dtype == dtype  # a Python scalar does not promote float32


@needs_numba
@pytest.mark.parametrize("shapes", [((2, 1, 4), (3, 1), ()), ((0, 3), (3,), (1, 1)), ((), (), ()),
                                    ((1, 1), (5,), (2, 1, 1)), ((4, 1, 3), (1, 2, 1), (2, 3))],
                         ids=["middle", "empty", "0d", "ones", "outer"])
def test_broadcasting_follows_numpy(shapes):
    rng = np.random.default_rng(4)
    args = [rng.standard_normal(s) for s in shapes]

    def f(a, b, c):
        t = fnp.sin(a) * b + c
        return t * t - fnp.cos(b), fnp.tanh(a * c)

    got, want = numba_jit(f)(*args), fg.jit(f)(*args)
    for g, w in zip(got, want):
        assert_close(g, w)
        assert type(g) is np.ndarray


@needs_numba
@pytest.mark.parametrize("shape", [(3, 4), (3, 1, 4), (0, 4)])
def test_a_kernel_whose_operands_are_all_broadcast(shape):
    s = np.linspace(1, 2, 4)  # no operand has the first dimensions: their sizes are arguments
    f = numba_jit(lambda s: fnp.sin(fnp.broadcast_to(s, shape)) * 2.0 + fnp.broadcast_to(s, shape))
    assert_close(f(s), np.sin(np.broadcast_to(s, shape)) * 2.0 + s)


@needs_numba
def test_non_contiguous_and_zero_d_array_operands():
    x = np.arange(12.0).reshape(3, 4)
    f = numba_jit(lambda a, b, s: fnp.sin(a) * b + s)
    for a, b, s in [(x.T, x[0, :3], np.array(2.0)), (x[:, ::2], x[:, :1], np.float64(0.5)), (x.T, x.T, 1.0)]:
        np.testing.assert_allclose(f(a, b, s), np.sin(a) * b + s, rtol=1e-12, atol=0)


@needs_numba
def test_derivatives_of_a_numba_jitted_function():
    def f(x, y):
        return fnp.sum(fnp.tanh(x * y) ** 2 + fnp.exp(-x))

    x, y = np.linspace(-1, 1, 5), np.linspace(0.5, 1.5, 5)
    jf = numba_jit(f)
    g = fg.grad(jf, argnums=(0, 1))(x, y)
    g_np = fg.grad(fg.jit(f), argnums=(0, 1))(x, y)
    for a, b in zip(g, g_np):
        assert_close(a, b)
    # closed form
    t = np.tanh(x * y)
    np.testing.assert_allclose(g[0], 2 * t * (1 - t * t) * y - np.exp(-x), rtol=1e-12)
    hvp = fg.jvp(fg.grad(jf), (x, y), (np.ones(5), np.zeros(5)))[1]
    assert_close(hvp, fg.jvp(fg.grad(fg.jit(f)), (x, y), (np.ones(5), np.zeros(5)))[1])
    batched = fg.vmap(numba_jit(lambda x: fnp.sin(x) * 2.0 + 1.0))(np.ones((3, 2)))
    assert_close(batched, np.sin(np.ones((3, 2))) * 2.0 + 1.0)


@needs_numba
def test_programs_with_the_same_work_and_other_constants_share_kernels():
    from funcgrad.ir import numba_backend

    x = np.linspace(0, 1, 7)
    numba_jit(lambda x: fnp.sin(x) * 1.25 + 0.5)(x)
    before = numba_backend.kernel_count()
    np.testing.assert_allclose(numba_jit(lambda x: fnp.sin(x) * 3.0 + -1.0)(x), np.sin(x) * 3.0 - 1.0, rtol=1e-12)
    np.testing.assert_allclose(numba_jit(lambda x: fnp.sin(x) * 3.0 + -1.0)(x * 2), np.sin(2 * x) * 3.0 - 1.0,
                               rtol=1e-12)
    assert numba_backend.kernel_count() == before


@needs_numba
def test_zero_and_negative_zero_literals_stay_distinct():
    f = numba_jit(lambda x: (x * 0.0, x * -0.0, x + -0.0))
    x = np.array([1.0, -1.0, 0.0])
    for g, w in zip(f(x), (x * 0.0, x * -0.0, x + -0.0)):
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


@needs_numba
def test_a_kernel_numba_cannot_compile_falls_back_to_numpy_with_a_warning(monkeypatch):
    from funcgrad.ir import numba_backend

    monkeypatch.setattr(numba_backend, "kernel_source", lambda region: "def kernel(a0):\n    return undefined_name\n")
    with pytest.warns(RuntimeWarning, match="run as NumPy calls instead"):
        f = numba_jit(lambda x: fnp.sin(x) * 2.0)
        got = f(np.ones(3))
    np.testing.assert_allclose(got, np.sin(np.ones(3)) * 2.0, rtol=0)


@needs_numba
def test_backend_survives_pickling_and_methods():
    f = pickle.loads(pickle.dumps(numba_jit(np.sin)))
    assert f.backend == "numba"

    class Model:
        @fg.jit
        def plain(self, x):
            return x

        @numba_jit
        def fused(self, x):
            return fnp.exp(x) * 2.0 - 1.0

    np.testing.assert_allclose(Model().fused(np.zeros(2)), [1.0, 1.0])


@needs_numba
def test_kernels_are_cached_on_disk_for_a_new_process(tmp_path):
    code = textwrap.dedent("""
        import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        from funcgrad.ir import numba_backend
        f = fg.jit(fg.value_and_grad(lambda x: fnp.sum(fnp.sin(x) * 1.5 + fnp.cos(x) ** 2)), backend="numba")
        v, g = f(np.linspace(0, 1, 5))
        stats = [k.stats for k in numba_backend._kernels.values()]
        print(sum(s.cache_hits[sig] for s in stats for sig in s.cache_hits),
              sum(s.cache_misses[sig] for s in stats for sig in s.cache_misses), numba_backend.cache_dir())
    """)
    env = dict(os.environ, FUNCGRAD_NUMBA_CACHE=str(tmp_path))
    env.pop("NUMBA_CACHE_DIR", None)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
            for _ in range(2)]
    (hits1, misses1, where1), (hits2, misses2, where2) = (r.split() for r in runs)
    assert where1 == where2 == str(tmp_path)
    assert int(misses1) >= 1 and int(hits1) == 0  # the first process compiles
    assert int(misses2) == 0 and int(hits2) == int(misses1)  # the second loads every kernel from disk
    assert any(p.name.startswith("fg_") and p.suffix == ".py" for p in tmp_path.iterdir())


@needs_numba
def test_dask_arguments_stay_lazy_numpy_calls():
    da = pytest.importorskip("dask.array")
    x = da.from_array(np.linspace(0, 1, 6), chunks=3)
    got = numba_jit(lambda x: fnp.sin(x) * 2.0 + 1.0)(x)
    assert type(got) is type(x)  # not computed by a kernel: still a lazy Dask array
    np.testing.assert_allclose(np.asarray(got), np.sin(np.linspace(0, 1, 6)) * 2.0 + 1.0, rtol=1e-12)
