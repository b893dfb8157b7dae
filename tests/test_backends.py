"""The backend-agnostic rules, exercised on CPU with a CuPy-like array type.

``StrictArray`` (tests/strict_array.py) raises on any conversion to NumPy and on mixing with a
NumPy array, as CuPy does. Every transformation must accept it as a leaf, return it, and never
make an array of the wrong library (zero cotangents, grad's seed, jit's staged zeros).
"""

from __future__ import annotations

import numpy as np
import pytest
from strict_array import ForbiddenConversion, ForbiddenMixing, StrictArray

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree_util import tree_leaves

rng = np.random.default_rng(0)
X = rng.standard_normal((6, 3))
Y = np.where(rng.standard_normal(6) > 0, 1.0, -1.0)
W = rng.standard_normal(3) * 0.5
CT = rng.standard_normal((6, 3))


def loss(w, x, y):
    return fnp.mean(fnp.logaddexp(0.0, -y * (x @ w))) + fnp.sum(fnp.tanh(x[1:4]) * 0.5) + 0.1 * fnp.sum(w ** 2)


def f2(v):
    return fnp.sin(v) * fnp.exp(v / 4.0)


@fg.custom_vjp
def soft(v):
    return fnp.tanh(v)


soft.defvjp(lambda v: (fnp.tanh(v), v), lambda v, ct: (ct * (1.0 - fnp.tanh(v) ** 2),))

CASES = {
    "grad": lambda w, x, y, ct: fg.grad(loss, argnums=(0, 1, 2))(w, x, y),
    "value_and_grad": lambda w, x, y, ct: fg.value_and_grad(loss)(w, x, y),
    "vjp": lambda w, x, y, ct: fg.vjp(f2, x)[1](ct),
    "jvp": lambda w, x, y, ct: fg.jvp(f2, (x,), (ct,)),
    "vmap": lambda w, x, y, ct: fg.vmap(lambda r: fnp.dot(r, w))(x),
    "vmap_grad": lambda w, x, y, ct: fg.vmap(fg.grad(lambda r: fnp.sum(fnp.sin(r) * w)))(x),
    "jacfwd": lambda w, x, y, ct: fg.jacfwd(lambda v: fnp.sin(v) * v[::-1])(w),
    "jacrev": lambda w, x, y, ct: fg.jacrev(lambda v: fnp.sin(v) * v[::-1])(w),
    "hessian": lambda w, x, y, ct: fg.hessian(lambda v: loss(v, x, y))(w),
    "checkpoint": lambda w, x, y, ct: fg.grad(fg.checkpoint(lambda v: fnp.sum(f2(v))))(x),
    "custom_vjp": lambda w, x, y, ct: fg.grad(lambda v: fnp.sum(soft(v) * v))(x),
    "elementwise_grad": lambda w, x, y, ct: fg.elementwise_grad(fnp.sin)(x),
    "grad_of_grad": lambda w, x, y, ct: fg.grad(lambda s: fg.grad(lambda t: fnp.sin(t) * t)(s))(w[0]),
    "unused_argument": lambda w, x, y, ct: fg.grad(lambda a, b: fnp.sum(a), argnums=(0, 1))(w, x),
    "jit": lambda w, x, y, ct: fg.jit(loss)(w, x, y),
    "jit_grad": lambda w, x, y, ct: fg.jit(fg.grad(loss, argnums=(0, 1)))(w, x, y),
    "grad_jit": lambda w, x, y, ct: fg.grad(fg.jit(loss), argnums=(0, 1))(w, x, y),
    "jit_value_and_grad": lambda w, x, y, ct: fg.jit(fg.value_and_grad(loss))(w, x, y),
    "jit_unused": lambda w, x, y, ct: fg.jit(fg.grad(lambda a, b: fnp.sum(a * 2.0), argnums=(0, 1)))(w, x),
    "grad_jit_unused": lambda w, x, y, ct: fg.grad(fg.jit(lambda a, b: fnp.sum(a * 2.0)), argnums=(0, 1))(w, x),
    "jvp_jit": lambda w, x, y, ct: fg.jvp(fg.jit(f2), (x,), (ct,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transformation_stays_in_the_array_library(name):
    case = CASES[name]
    got = case(StrictArray(W), StrictArray(X), StrictArray(Y), StrictArray(CT))
    want = case(W, X, Y, CT)
    got_leaves, want_leaves = tree_leaves(got), tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert type(g) is StrictArray, f"{name}: a {type(g).__name__} came back, not the input library's array"
        np.testing.assert_allclose(g.get(), w, rtol=1e-12, atol=1e-12)


def test_the_strict_array_catches_conversion_and_mixing():
    # guard for the guard: it must fail where CuPy fails, or the tests above prove nothing
    with pytest.raises(ForbiddenConversion):
        np.asarray(StrictArray(X))
    with pytest.raises(ForbiddenMixing):
        StrictArray(X) * X
    assert type(np.zeros_like(StrictArray(X), shape=(2,))) is StrictArray
    assert type(np.asarray(np.eye(2), like=StrictArray(X))) is StrictArray


def test_jit_cache_key_includes_the_array_type():
    f = fg.jit(lambda v: fnp.sum(v * 2.0))
    f(X)
    f(StrictArray(X))
    assert f.misses == 2
    f(StrictArray(X))
    assert f.misses == 2


# --- arrays funcgrad makes inside loops, branches and derived programs ----------------------------
# Zero tangents of carries, cotangent accumulators, the stacked ys of a scan, a loop counter, the
# residual slots of a cond's untaken branches, and every program derived from a loop body or a
# branch (jvp, vjp, vmap, under jit or not) must be made in the operands' library: on CuPy a
# NumPy array there fails, as it does here.

from funcgrad import lax  # noqa: E402

XS = rng.standard_normal((4, 3))
V0 = np.array([0.3, -0.7, 0.5])


def _scan_f(v, xs, **kw):
    def body(c, x):
        c2 = fnp.tanh(c * x + 0.3 * c)
        return c2, fnp.sum(c2 * x)

    c, ys = lax.scan(body, v, xs, **kw)
    return fnp.sum(c) + fnp.sum(ys ** 2)


def _while_f(v, checkpoint=None):
    kw = {} if checkpoint is None else {"checkpoint": checkpoint}
    out = lax.while_loop(lambda s: s[0] < 4, lambda s: (s[0] + 1, fnp.sin(s[1]) * 1.1 + 0.1), (0, v), **kw)
    return fnp.sum(out[1] ** 2)


def _fori_counter_f(v):
    # the counter takes part in the arithmetic: it must be in the carry's library
    return fnp.sum(lax.fori_loop(0, 4, lambda i, u: fnp.sin(u) * (i + 1) * 0.5 + 0.1 * u, v))


def _cond_f(v):
    return fnp.sum(lax.cond(fnp.sum(v) > 0, lambda u: fnp.sin(u) * 2.0, lambda u: fnp.cos(u) * u, v))


def _switch_f(v):
    branches = [lambda u, w: u * 2.0, lambda u, w: fnp.exp(u) * w, lambda u, w: w * 0.0]
    return fnp.sum(lax.switch(1, branches, v, v[::-1] * 1.0))


@fg.custom_vjp
def _soft(v):
    return fnp.tanh(v)


_soft.defvjp(lambda v: (fnp.tanh(v), v), lambda v, ct: (ct * (1.0 - fnp.tanh(v) ** 2),))


def _custom_in_scan_f(v, xs):
    return fnp.sum(lax.scan(lambda c, x: (_soft(c * x), fnp.sum(c)), v, xs)[0])


def _checkpoint_in_loop_f(v):
    step = fg.checkpoint(lambda u: fnp.sin(fnp.sin(u)) * u + 0.2)
    return fnp.sum(lax.fori_loop(0, 3, lambda i, u: step(u), v))


LOOP_FUNCTIONS = {  # each takes (v, xs); xs is in the same library as v
    "scan": _scan_f,
    "scan_unrolled_reverse": lambda v, xs: _scan_f(v, xs, unroll=3, reverse=True),
    "scan_closure": lambda v, xs: fnp.sum(lax.scan(lambda c, i: (c * fnp.cos(xs[0]) + xs[1], c), v, None,
                                                   length=3)[1]),
    "while_loop": lambda v, xs: _while_f(v),
    "while_loop_sqrt": lambda v, xs: _while_f(v, "sqrt"),
    "fori_loop_counter": lambda v, xs: _fori_counter_f(v),
    "cond": lambda v, xs: _cond_f(v),
    "cond_other_branch": lambda v, xs: _cond_f(-v),
    "switch": lambda v, xs: _switch_f(v),
    "custom_vjp_in_scan": _custom_in_scan_f,
    "checkpoint_in_loop": lambda v, xs: _checkpoint_in_loop_f(v),
}


def _batch(v, lib):
    return v[None, :] * lib(np.array([[1.0], [0.5]]))


LOOP_TRANSFORMS = {
    "eager": lambda f, v, xs, lib: f(v, xs),
    "grad": lambda f, v, xs, lib: fg.grad(f)(v, xs),
    "jvp": lambda f, v, xs, lib: fg.jvp(lambda u: f(u, xs), (v,), (v * 0.5 + 1.0,)),
    "vmap": lambda f, v, xs, lib: fg.vmap(lambda u: f(u, xs))(_batch(v, lib)),
    "vmap_grad": lambda f, v, xs, lib: fg.vmap(fg.grad(lambda u: f(u, xs)))(_batch(v, lib)),
    "jit": lambda f, v, xs, lib: fg.jit(f)(v, xs),
    "jit_grad": lambda f, v, xs, lib: fg.jit(fg.grad(f))(v, xs),
    "grad_jit": lambda f, v, xs, lib: fg.grad(fg.jit(f))(v, xs),
    "jit_jvp": lambda f, v, xs, lib: fg.jit(lambda u, s: fg.jvp(lambda w: f(w, s), (u,), (u * 0.5 + 1.0,)))(v, xs),
    "grad_grad": lambda f, v, xs, lib: fg.grad(lambda u: fnp.sum(fg.grad(f)(u, xs) ** 2))(v),
    "jit_vmap_grad": lambda f, v, xs, lib: fg.jit(lambda b, s: fg.vmap(fg.grad(lambda u: f(u, s)))(b))(
        _batch(v, lib), xs),
}


@pytest.mark.parametrize("transform", sorted(LOOP_TRANSFORMS))
@pytest.mark.parametrize("name", sorted(LOOP_FUNCTIONS))
def test_loops_and_branches_make_arrays_in_the_operands_library(name, transform):
    f, t = LOOP_FUNCTIONS[name], LOOP_TRANSFORMS[transform]
    want = t(f, V0, XS, np.asarray)
    got = t(f, StrictArray(V0), StrictArray(XS), StrictArray)
    got_leaves, want_leaves = tree_leaves(got), tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert type(g) is StrictArray, f"{name}/{transform}: a {type(g).__name__} came back"
        np.testing.assert_allclose(g.get(), w, rtol=1e-12, atol=1e-12)


def test_a_closed_over_foreign_array_is_not_converted_under_jit():
    # a constant of the program (kept as it is), and one folded at compile time (x.T * 2.0)
    x = StrictArray(XS)
    got = fg.jit(fg.grad(lambda v: fnp.sum(fnp.tanh(x @ v)) + fnp.sum(v @ (fnp.transpose(x) * 2.0))))(StrictArray(V0))
    want = fg.grad(lambda v: fnp.sum(fnp.tanh(XS @ v)) + fnp.sum(v @ (XS.T * 2.0)))(V0)
    assert type(got) is StrictArray
    np.testing.assert_allclose(got.get(), want, rtol=1e-12, atol=1e-12)


def test_empty_scan_and_linear_transpose_stay_in_the_library():
    carry, ys = lax.scan(lambda c, x: (c + x, c * x), StrictArray(V0), StrictArray(np.zeros((0, 3))))
    assert type(carry) is StrictArray and type(ys) is StrictArray and ys.shape == (0, 3)
    a = StrictArray(np.array([[1.0, 2.0], [3.0, 4.0]]))
    (ct,) = fg.linear_transpose(lambda v: a @ v, StrictArray(np.zeros(2)))(StrictArray(np.array([1.0, 0.0])))
    assert type(ct) is StrictArray
    np.testing.assert_allclose(ct.get(), [1.0, 2.0])


# --- every primitive's rules, on the CuPy-like array -----------------------------------------------
# Each differentiable row of the primitive table (tests/test_primitives.py) runs on StrictArray
# operands: value, vjp and jvp stay StrictArrays and equal NumPy's. Rules that need a constant
# (an identity, a mask, padding ones) make it in the operand's library.

import test_primitives as prim_table  # noqa: E402

# Rows that cannot run on a CuPy-like array, and why (kept explicit; each name must be a row).
NOT_ON_FOREIGN_ARRAYS = {
    # computed by SciPy functions that convert their inputs (SciPy's special-function ufuncs do
    # dispatch, so funcgrad.scipy.special runs: lazily on Dask)
    **dict.fromkeys(["convolve", "expm", "mvn_cdf", "odeint", "scipy_optimize_solve", "sliding_dot", "solve_banded",
                     "solve_sylvester", "solve_triangular", "sqrtm"], "SciPy"),
    # the rows index with NumPy integer arrays or masks, which a CuPy-like array refuses beside it
    **dict.fromkeys(["getitem", "index_add", "index_set", "index_update"], "NumPy index arrays in the row"),
}
ROW_NOT_ON_FOREIGN_ARRAYS = {"svd[U c Vh]": "the row multiplies by a NumPy constant"}
KNOWN_GAPS: dict[str, str] = {}  # row id -> why it fails on a CuPy-like array (xfail, strict)


def _foreign_rows():
    for row in prim_table.ROWS:
        if not row.diff or row.prim in NOT_ON_FOREIGN_ARRAYS or row.id in ROW_NOT_ON_FOREIGN_ARRAYS:
            continue
        case = "shape" if "shape" in row.shapes else next(iter(row.shapes))
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[row.id])] if row.id in KNOWN_GAPS else []
        yield pytest.param(row, case, id=f"{row.id}-{case}", marks=marks)


def test_the_exclusions_name_real_rows():
    prims = {row.prim for row in prim_table.ROWS}
    ids = {row.id for row in prim_table.ROWS}
    assert set(NOT_ON_FOREIGN_ARRAYS) <= prims
    assert set(ROW_NOT_ON_FOREIGN_ARRAYS) | set(KNOWN_GAPS) <= ids


def _strict(x):
    return StrictArray(x) if isinstance(x, np.ndarray) else x


@pytest.mark.parametrize("row, case", list(_foreign_rows()))
def test_primitive_rules_stay_in_the_array_library(row, case):
    args = prim_table.make_args(row, case)
    floats = [i for i, a in enumerate(args) if a.dtype.kind in "fc"]
    rng = np.random.default_rng(3)
    out, pullback = fg.vjp(row.fn, *args)
    ct = rng.standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
    want_cts = pullback(ct)
    tangents = [rng.standard_normal(args[i].shape).astype(args[i].dtype) for i in floats]

    def of_floats(*xs, base=args):
        full = list(base)
        for i, x in zip(floats, xs):
            full[i] = x
        return row.fn(*full)

    want_t = fg.jvp(of_floats, tuple(args[i] for i in floats), tuple(tangents))[1]

    s_args = [_strict(a) for a in args]
    s_out, s_pullback = fg.vjp(row.fn, *s_args)
    got_cts = s_pullback(StrictArray(ct))
    got_t = fg.jvp(lambda *xs: of_floats(*xs, base=s_args), tuple(s_args[i] for i in floats),
                   tuple(StrictArray(t) for t in tangents))[1]
    pairs = [(s_out, out), (got_t, want_t)] + [(g, w) for g, w in zip(got_cts, want_cts)
                                               if np.dtype(w.dtype) != fg.dtypes.float0]
    for g, w in pairs:
        assert type(g) is StrictArray, f"{row.id}: a {type(g).__name__} came back"
        np.testing.assert_allclose(g.get(), w, rtol=1e-10, atol=1e-12)


def test_a_scan_body_closing_over_a_foreign_array_from_a_python_number():
    # the carry starts as a Python number; the body's closed-over StrictArray decides the library
    def f(x):
        ys = lax.scan(lambda c, i: (fnp.sin(c) * fnp.sum(x[0]) + 0.1, c), 0.5, None, length=3)[1]
        return fnp.sum(fnp.sum(ys) * x[1])

    got = fg.grad(f)(StrictArray(XS))
    assert type(got) is StrictArray
    np.testing.assert_allclose(got.get(), fg.grad(f)(XS), rtol=1e-12, atol=1e-12)
    got = fg.jit(fg.grad(f))(StrictArray(XS))
    assert type(got) is StrictArray
    np.testing.assert_allclose(got.get(), fg.grad(f)(XS), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transform", ["grad", "jit_grad", "grad_jit", "jit_vmap_grad"])
def test_constants_of_decomposition_rules_are_made_in_the_library_under_jit(transform):
    # cholesky/eigh/slogdet rules use an identity and triangle masks: under jit for StrictArray
    # arguments they are moved into the library when the program runs (constant_like)
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])

    def f(m):
        return fnp.sum(fnp.linalg.cholesky(m) ** 2) + fnp.linalg.slogdet(m)[1] + fnp.sum(fnp.linalg.eigh(m)[0] ** 3)

    t = {"grad": fg.grad, "jit_grad": lambda g: fg.jit(fg.grad(g)), "grad_jit": lambda g: fg.grad(fg.jit(g)),
         "jit_vmap_grad": lambda g: fg.jit(fg.vmap(fg.grad(g)))}[transform]
    x = np.stack([a, a * 1.5]) if "vmap" in transform else a
    got = t(f)(StrictArray(x))
    assert type(got) is StrictArray
    np.testing.assert_allclose(got.get(), t(f)(x), rtol=1e-12, atol=1e-12)
