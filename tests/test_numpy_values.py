"""funcgrad.numpy agrees with NumPy in value, shape and dtype: eagerly on plain arrays, and
under vjp/jvp on traced values (what a transformed function sees and returns).

Every case is written once as ``fn(module, *args)`` and run with ``module = numpy`` (the
reference) and ``module = funcgrad.numpy``. Derivatives are tested in test_numpy_grads.py.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import special

# --- helpers ---------------------------------------------------------------------------------


def _rtol(dtype: np.dtype) -> float:
    return {"f": {2: 1e-3, 4: 1e-6}.get(np.dtype(dtype).itemsize, 1e-12)}.get(np.dtype(dtype).kind, 0.0)


def assert_same(ours, ref, what=""):
    """Same shape and dtype as NumPy, and the same values (to rounding)."""
    assert np.shape(ours) == np.shape(ref), f"{what}: shape {np.shape(ours)} != NumPy's {np.shape(ref)}"
    od, rd = np.asarray(ours).dtype, np.asarray(ref).dtype
    assert od == rd, f"{what}: dtype {od} != NumPy's {rd}"
    if rd.kind in "fc":
        np.testing.assert_allclose(ours, ref, rtol=_rtol(rd), atol=_rtol(rd), equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ours, ref, err_msg=what)


def assert_same_tree(ours, ref, what=""):
    """``assert_same`` leaf by leaf when NumPy returns a list or tuple (split, linspace(retstep))."""
    if isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(ref), f"{what}: {type(ours)} vs {type(ref)}"
        for o, r in zip(ours, ref, strict=True):
            assert_same(o, r, what)
    else:
        assert_same(ours, ref, what)


def _leaves(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def traced_outputs(f, *args):
    """``f(*args)`` as returned by vjp (reverse trace) and by jvp (forward trace)."""
    out_rev, _ = fg.vjp(f, *args)
    tangents = tuple(np.ones_like(a) if np.asarray(a).dtype.kind == "f" else np.zeros_like(a) for a in args)
    out_fwd, _ = fg.jvp(f, args, tangents)
    return out_rev, out_fwd


def check_against_numpy(case, *args):
    """Run ``case(module, *args)`` with NumPy and with funcgrad.numpy, eagerly and traced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = case(np, *args)
        assert_same_tree(case(fnp, *args), ref, "eager")
        if any(np.asarray(a).dtype.kind == "f" for a in args):
            for mode, out in zip(("vjp", "jvp"), traced_outputs(lambda *xs: case(fnp, *xs), *args), strict=True):
                assert all(type(o) is np.ndarray for o in _leaves(out)), f"{mode} returned {type(out)}"
                assert_same_tree(out, ref, mode)


rng = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same random data whichever tests run before it (-k, reordering)."""
    global rng
    rng = np.random.default_rng([1234, zlib.crc32(request.node.name.encode())])


def uniform(shape, lo=-1.0, hi=1.0, dtype=np.float64):
    return rng.uniform(lo, hi, shape).astype(dtype)


# --- section 5: every name exists ------------------------------------------------------------------

SECTION5_NUMPY = """
exp log log1p expm1 log2 log10 sqrt cbrt square reciprocal power sin cos tan arcsin arccos arctan
arctan2 sinh cosh tanh arcsinh arccosh arctanh abs sign floor ceil round maximum minimum fmax fmin
clip where logaddexp hypot
sum mean prod max min var std cumsum cumprod argmax argmin all any
dot matmul vdot inner outer tensordot einsum trace reshape transpose swapaxes moveaxis expand_dims
squeeze broadcast_to ravel concatenate stack hstack vstack split flip tile repeat diag triu tril pad
array asarray zeros ones full zeros_like ones_like full_like arange linspace eye at
""".split()


@pytest.mark.parametrize("name", SECTION5_NUMPY)
def test_section5_name_exists(name):
    assert callable(getattr(fnp, name)), name
    assert name in fnp.__all__


def test_section5_linalg_and_special_exist():
    assert callable(fnp.linalg.norm)
    for name in ("logsumexp", "expit", "softmax"):
        assert callable(getattr(special, name))


# --- elementwise -------------------------------------------------------------------------------

UNARY_DOMAINS = {
    "exp": (-2, 2), "log": (0.1, 3), "log1p": (-0.5, 3), "expm1": (-2, 2), "log2": (0.1, 3),
    "log10": (0.1, 3), "sqrt": (0.1, 3), "cbrt": (-3, 3), "square": (-2, 2), "reciprocal": (0.2, 3),
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9),
    "arctan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-2, 2), "arcsinh": (-3, 3),
    "arccosh": (1.1, 3), "arctanh": (-0.9, 0.9), "abs": (-2, 2), "absolute": (-2, 2), "sign": (-2, 2),
    "floor": (-3, 3), "ceil": (-3, 3), "round": (-3, 3), "negative": (-2, 2), "positive": (-2, 2),
    "rint": (-3, 3), "trunc": (-3, 3),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY_DOMAINS))
def test_unary(name, dtype):
    lo, hi = UNARY_DOMAINS[name]
    for shape in [(2, 3), (), (0, 2)]:
        x = uniform(shape, lo, hi, dtype)
        check_against_numpy(lambda m, a: getattr(m, name)(a), x)


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "abs", "floor", "square", "sign"])
def test_unary_on_python_scalars_and_ints(name):
    check_against_numpy(lambda m: getattr(m, name)(0.7))
    check_against_numpy(lambda m: getattr(m, name)(np.arange(1, 4)))
    check_against_numpy(lambda m: getattr(m, name)([0.5, 1.5]))


BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "arctan2", "maximum", "minimum",
          "fmax", "fmin", "logaddexp", "hypot", "remainder", "mod", "floor_divide"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((), (3,)), ((0, 3), (3,))],
                         ids=["same", "broadcast", "0d", "empty"])
def test_binary_broadcasting(name, shapes):
    x = uniform(shapes[0], 0.2, 2.0)
    y = uniform(shapes[1], 0.2, 2.0)
    check_against_numpy(lambda m, a, b: getattr(m, name)(a, b), x, y)


# NEP 50: Python scalars are weak (they take the array's dtype); NumPy scalars and 0-d arrays are not.
SCALARS = [2.0, 2, np.float64(2.0), np.float32(2.0), np.array(2.0), np.int64(2), True]


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "power", "maximum", "arctan2"])
@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: f"{type(s).__name__}")
def test_weak_scalar_promotion(name, scalar):
    x32 = uniform((3,), 0.5, 1.5, np.float32)
    check_against_numpy(lambda m, a: getattr(m, name)(a, scalar), x32)
    check_against_numpy(lambda m, a: getattr(m, name)(scalar, a), x32)


def test_weak_scalars_keep_float32_and_int_promotes():
    x32 = uniform((3,), 0.5, 1.5, np.float32)
    assert fnp.multiply(x32, 2.0).dtype == np.float32
    assert fnp.multiply(x32, np.float64(2.0)).dtype == np.float64
    assert fnp.add(np.arange(3), 0.5).dtype == np.float64
    assert fnp.add(np.arange(3, dtype=np.int8), 1).dtype == np.int8
    with pytest.raises(OverflowError):  # as NumPy 2: a Python int that does not fit int8
        np.add(np.arange(3, dtype=np.int8), 1000)
    with pytest.raises(OverflowError):
        fnp.add(np.arange(3, dtype=np.int8), 1000)
    out, pullback = fg.vjp(lambda a: a * 2.0 + 1, x32)
    assert out.dtype == np.float32
    assert pullback(np.ones(3, np.float32))[0].dtype == np.float32
    out, pullback = fg.vjp(lambda a: a * np.float64(2.0), x32)
    assert out.dtype == np.float64  # promoted, as NumPy does ...
    assert pullback(np.ones(3))[0].dtype == np.float32  # ... but the gradient has the input's dtype


def test_mixed_float32_float64_arrays():
    x32 = uniform((3,), dtype=np.float32)
    y64 = uniform((3,))
    check_against_numpy(lambda m, a, b: m.multiply(a, b), x32, y64)
    (g32, g64) = fg.grad(lambda a, b: fnp.sum(a * b), argnums=(0, 1))(x32, y64)
    assert g32.dtype == np.float32 and g64.dtype == np.float64


def test_clip_and_where_values():
    x = uniform((3, 4), -2, 2)
    check_against_numpy(lambda m, a: m.clip(a, -0.5, 0.5), x)
    check_against_numpy(lambda m, a: m.clip(a, None, 0.5), x)
    check_against_numpy(lambda m, a: m.clip(a, -0.5, None), x)
    check_against_numpy(lambda m, a: m.clip(a, np.full(4, -0.1), 0.3), x)
    check_against_numpy(lambda m, a: m.clip(a, -0.5, 0.5), x.astype(np.float32))
    check_against_numpy(lambda m, a: m.where(a > 0, a, 0.0), x)
    check_against_numpy(lambda m, a: m.where(a > 0, a, 0.0), x.astype(np.float32))
    check_against_numpy(lambda m, a: m.where(a[0] > 0, a, -a[1]), x)  # broadcasting condition
    check_against_numpy(lambda m, a: m.where(True, a, 1), x)
    assert_same(fnp.where(x > 0)[0], np.where(x > 0)[0])  # the one-argument form
    assert_same(fnp.round(x, 2), np.round(x, 2))


# --- reductions ----------------------------------------------------------------------------------

AXES = [None, 0, -1, 1, (0, 2), (-1, 0), (), (0, 1, 2)]
REDUCTIONS = ["sum", "mean", "prod", "max", "min", "var", "std", "all", "any", "amax", "amin"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_axis_keepdims(name, axis, keepdims):
    for dtype in (np.float64, np.float32):
        x = uniform((2, 3, 4), 0.5, 1.5, dtype)
        check_against_numpy(lambda m, a: getattr(m, name)(a, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, -1, 1])
def test_single_axis_reductions(name, axis):
    for dtype in (np.float64, np.float32):
        x = uniform((2, 3, 4), 0.5, 1.5, dtype)
        check_against_numpy(lambda m, a: getattr(m, name)(a, axis=axis), x)
    if name in ("argmax", "argmin") and axis is not None:
        check_against_numpy(lambda m, a: getattr(m, name)(a, axis=axis, keepdims=True), x)


@pytest.mark.parametrize("name", REDUCTIONS + ["cumsum", "cumprod", "argmax", "argmin"])
def test_reductions_of_integers_booleans_and_0d(name):
    for x in [np.arange(6).reshape(2, 3), np.array([[True, False], [True, True]]), np.arange(4, dtype=np.int8),
              np.array(2.5), np.array(3), np.float32(1.5)]:
        check_against_numpy(lambda m, a: getattr(m, name)(a), x)
        if np.ndim(x):
            check_against_numpy(lambda m, a: getattr(m, name)(a, axis=0), x)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "var", "std", "cumsum", "cumprod", "all", "any"])
def test_reductions_of_empty_arrays(name):
    x = np.zeros((0, 3))
    check_against_numpy(lambda m, a: getattr(m, name)(a), x)
    check_against_numpy(lambda m, a: getattr(m, name)(a, axis=0), x)
    check_against_numpy(lambda m, a: getattr(m, name)(a, axis=1), x)


def test_max_of_empty_axis_raises_like_numpy():
    check_against_numpy(lambda m, a: m.max(a, axis=1), np.zeros((0, 3)))
    with pytest.raises(ValueError):
        fnp.max(np.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError):
        fg.vjp(lambda a: fnp.max(a, axis=0), np.zeros((0, 3)))


def test_reduction_dtype_and_ddof_arguments():
    x = uniform((3, 4), 0.5, 1.5, np.float32)
    check_against_numpy(lambda m, a: m.sum(a, dtype=np.float64), x)
    check_against_numpy(lambda m, a: m.mean(a, axis=0, dtype=np.float64), x)
    check_against_numpy(lambda m, a: m.var(a, axis=1, ddof=1), x)
    check_against_numpy(lambda m, a: m.std(a, ddof=1, keepdims=True), x)
    check_against_numpy(lambda m, a: m.cumsum(a, axis=0, dtype=np.float64), x)
    check_against_numpy(lambda m, a: m.sum(a > 1.0, axis=0), x)
    check_against_numpy(lambda m: m.sum(np.array([True, False]), dtype=np.float32))
    check_against_numpy(lambda m: m.mean(np.ones(3, np.float16)))


def test_reduction_axis_errors_like_numpy():
    x = np.ones((2, 3))
    for bad in (2, -3, (0, 0)):
        with pytest.raises((ValueError, IndexError)):
            np.sum(x, axis=bad)
        with pytest.raises((ValueError, IndexError)):
            fnp.sum(x, axis=bad)


# --- contractions, shape functions ----------------------------------------------------------------

A, B = (3, 4), (4, 5)
CASES = {
    # name: (fn(module, *args), arg shapes)
    "dot mm": (lambda m, a, b: m.dot(a, b), [A, B]),
    "dot mv": (lambda m, a, b: m.dot(a, b), [A, (4,)]),
    "dot vm": (lambda m, a, b: m.dot(a, b), [(3,), A]),
    "dot vv": (lambda m, a, b: m.dot(a, b), [(4,), (4,)]),
    "dot 0d": (lambda m, a, b: m.dot(a, b), [(), A]),
    "dot nd": (lambda m, a, b: m.dot(a, b), [(2, 3, 4), (2, 4, 5)]),
    "matmul": (lambda m, a, b: m.matmul(a, b), [A, B]),
    "matmul stacked": (lambda m, a, b: m.matmul(a, b), [(2, 3, 4), (2, 4, 5)]),
    "matmul broadcast": (lambda m, a, b: m.matmul(a, b), [(2, 1, 3, 4), (3, 4, 2)]),
    "matmul 1d left": (lambda m, a, b: m.matmul(a, b), [(4,), (2, 4, 5)]),
    "matmul 1d right": (lambda m, a, b: m.matmul(a, b), [(2, 3, 4), (4,)]),
    "matmul 1d 1d": (lambda m, a, b: m.matmul(a, b), [(4,), (4,)]),
    "matmul empty": (lambda m, a, b: m.matmul(a, b), [(0, 4), B]),
    "vdot": (lambda m, a, b: m.vdot(a, b), [A, A]),
    "inner": (lambda m, a, b: m.inner(a, b), [A, (5, 4)]),
    "inner 1d": (lambda m, a, b: m.inner(a, b), [(4,), (4,)]),
    "inner 0d": (lambda m, a, b: m.inner(a, b), [(), A]),
    "outer": (lambda m, a, b: m.outer(a, b), [(3,), A]),
    "tensordot 2": (lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    "tensordot axes": (lambda m, a, b: m.tensordot(a, b, axes=([0, 2], [0, 1])), [(2, 3, 4), (2, 4, 5)]),
    "tensordot 0": (lambda m, a, b: m.tensordot(a, b, axes=0), [(3,), (4,)]),
    "tensordot int axes": (lambda m, a, b: m.tensordot(a, b, axes=(1, 0)), [A, B]),
    "einsum matmul": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [A, B]),
    "einsum implicit": (lambda m, a, b: m.einsum("ij,jk", a, b), [A, B]),
    "einsum implicit transpose": (lambda m, a: m.einsum("ji", a), [A]),
    "einsum ellipsis": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (2, 4, 5)]),
    "einsum ellipsis implicit": (lambda m, a, b: m.einsum("...ij,...jk", a, b), [(2, 3, 4), (4, 5)]),
    "einsum ellipsis broadcast": (lambda m, a, b: m.einsum("...j,j->...", a, b), [(2, 3, 4), (4,)]),
    "einsum sum all": (lambda m, a: m.einsum("ij->", a), [A]),
    "einsum outer": (lambda m, a, b: m.einsum("i,j", a, b), [(3,), (4,)]),
    "einsum three": (lambda m, a, b, c: m.einsum("ij,jk,k->i", a, b, c), [A, B, (5,)]),
    "einsum trace": (lambda m, a: m.einsum("ii", a), [(3, 3)]),
    "einsum diagonal": (lambda m, a: m.einsum("ii->i", a), [(3, 3)]),
    "einsum batch diagonal": (lambda m, a, b: m.einsum("bii,bi->b", a, b), [(2, 3, 3), (2, 3)]),
    "einsum spaces": (lambda m, a, b: m.einsum("ij, jk -> ki", a, b), [A, B]),
    "trace": (lambda m, a: m.trace(a), [A]),
    "trace offset": (lambda m, a: m.trace(a, 1), [A]),
    "trace negative offset": (lambda m, a: m.trace(a, -2), [A]),
    "trace axes": (lambda m, a: m.trace(a, 0, 1, 2), [(2, 3, 3)]),
    "reshape": (lambda m, a: m.reshape(a, (4, -1)), [(2, 3, 4)]),
    "reshape int": (lambda m, a: m.reshape(a, -1), [(2, 3, 4)]),
    "reshape 0d": (lambda m, a: m.reshape(a, (1, 1)), [()]),
    "reshape empty": (lambda m, a: m.reshape(a, (3, 0)), [(0, 3)]),
    "ravel": (lambda m, a: m.ravel(a), [(2, 3, 4)]),
    "ravel 0d": (lambda m, a: m.ravel(a), [()]),
    "transpose": (lambda m, a: m.transpose(a), [(2, 3, 4)]),
    "transpose axes": (lambda m, a: m.transpose(a, (1, -1, 0)), [(2, 3, 4)]),
    "swapaxes": (lambda m, a: m.swapaxes(a, 0, -1), [(2, 3, 4)]),
    "moveaxis": (lambda m, a: m.moveaxis(a, 0, -1), [(2, 3, 4)]),
    "moveaxis several": (lambda m, a: m.moveaxis(a, [0, 1], [-1, 0]), [(2, 3, 4)]),
    "expand_dims": (lambda m, a: m.expand_dims(a, 1), [A]),
    "expand_dims tuple": (lambda m, a: m.expand_dims(a, (0, -1)), [A]),
    "expand_dims 0d": (lambda m, a: m.expand_dims(a, 0), [()]),
    "squeeze": (lambda m, a: m.squeeze(a), [(1, 3, 1)]),
    "squeeze axis": (lambda m, a: m.squeeze(a, -1), [(1, 3, 1)]),
    "squeeze tuple": (lambda m, a: m.squeeze(a, (0, 2)), [(1, 3, 1)]),
    "broadcast_to": (lambda m, a: m.broadcast_to(a, (2, 3, 4)), [(4,)]),
    "broadcast_to middle": (lambda m, a: m.broadcast_to(a, (2, 3, 4)), [(3, 1)]),
    "broadcast_to 0d": (lambda m, a: m.broadcast_to(a, 3), [()]),
    "concatenate": (lambda m, a, b: m.concatenate([a, b], axis=1), [A, (3, 2)]),
    "concatenate negative": (lambda m, a, b: m.concatenate((a, b), axis=-2), [A, (1, 4)]),
    "concatenate none": (lambda m, a, b: m.concatenate([a, b], axis=None), [A, (5,)]),
    "concatenate with constant": (lambda m, a: m.concatenate([a, np.ones((1, 4))]), [A]),
    "stack": (lambda m, a, b: m.stack([a, b]), [A, A]),
    "stack last": (lambda m, a, b: m.stack([a, b], axis=-1), [A, A]),
    "stack 0d": (lambda m, a, b: m.stack([a, b]), [(), ()]),
    "hstack": (lambda m, a, b: m.hstack([a, b]), [A, (3, 1)]),
    "hstack 1d": (lambda m, a, b: m.hstack([a, b]), [(3,), (2,)]),
    "hstack 0d": (lambda m, a, b: m.hstack([a, b]), [(), (2,)]),
    "vstack": (lambda m, a, b: m.vstack([a, b]), [A, (4,)]),
    "vstack 1d": (lambda m, a, b: m.vstack((a, b)), [(4,), (4,)]),
    "split": (lambda m, a: m.split(a, 2, axis=1), [A]),
    "split indices": (lambda m, a: m.split(a, [1, 3], axis=-1), [A]),
    "split empty piece": (lambda m, a: m.split(a, [0, 2]), [A]),
    "flip": (lambda m, a: m.flip(a, 1), [A]),
    "flip all": (lambda m, a: m.flip(a), [(2, 3, 4)]),
    "flip tuple": (lambda m, a: m.flip(a, (0, -1)), [(2, 3, 4)]),
    "tile": (lambda m, a: m.tile(a, 2), [(3,)]),
    "tile more reps": (lambda m, a: m.tile(a, (2, 1, 3)), [A]),
    "tile fewer reps": (lambda m, a: m.tile(a, 2), [A]),
    "tile 0d": (lambda m, a: m.tile(a, (2, 2)), [()]),
    "repeat": (lambda m, a: m.repeat(a, 2), [A]),
    "repeat axis": (lambda m, a: m.repeat(a, 3, axis=-1), [A]),
    "repeat counts": (lambda m, a: m.repeat(a, [1, 0, 2], axis=0), [A]),
    "diag extract": (lambda m, a: m.diag(a), [A]),
    "diag extract k": (lambda m, a: m.diag(a, 1), [A]),
    "diag extract negative k": (lambda m, a: m.diag(a, -2), [A]),
    "diag build": (lambda m, a: m.diag(a), [(3,)]),
    "diag build k": (lambda m, a: m.diag(a, 2), [(3,)]),
    "diag build negative k": (lambda m, a: m.diag(a, -1), [(3,)]),
    "triu": (lambda m, a: m.triu(a), [A]),
    "triu k": (lambda m, a: m.triu(a, -1), [A]),
    "tril": (lambda m, a: m.tril(a), [A]),
    "tril stacked": (lambda m, a: m.tril(a, 1), [(2, 3, 4)]),
    "tril 1d": (lambda m, a: m.tril(a, -1), [(3,)]),  # NumPy broadcasts a 1-d input to (n, n)
    "triu 1d": (lambda m, a: m.triu(a), [(3,)]),
    "pad constant": (lambda m, a: m.pad(a, ((1, 2), (0, 3))), [A]),
    "pad constant value": (lambda m, a: m.pad(a, 2, constant_values=1.5), [(3,)]),
    "pad int width": (lambda m, a: m.pad(a, 1), [A]),
    "pad edge": (lambda m, a: m.pad(a, ((1, 2), (3, 0)), mode="edge"), [A]),
    "pad reflect": (lambda m, a: m.pad(a, ((1, 2), (3, 1)), mode="reflect"), [A]),
    "pad reflect wide": (lambda m, a: m.pad(a, (5, 6), mode="reflect"), [(3,)]),
    "pad symmetric": (lambda m, a: m.pad(a, ((2, 2), (4, 1)), mode="symmetric"), [A]),
    "pad wrap": (lambda m, a: m.pad(a, ((1, 2), (5, 1)), mode="wrap"), [A]),
    "linalg.norm": (lambda m, a: m.linalg.norm(a), [A]),
}
NORM_CASES = {
    f"norm ord={o} axis={ax} keepdims={kd}": (lambda m, a, o=o, ax=ax, kd=kd: m.linalg.norm(a, o, ax, kd), [s])
    for o, ax, s in [(None, None, (2, 3, 4)), (None, 1, (2, 3, 4)), (None, (0, 2), (2, 3, 4)), (2, None, (4,)),
                     (1, None, (4,)), (np.inf, None, (4,)), (-np.inf, None, (4,)), (0, None, (4,)), (3, 0, A),
                     (0.5, -1, A), (-1, None, (4,)), (-2, 1, A), ("fro", None, A), ("fro", (2, 0), (2, 3, 4)),
                     (1, None, A), (-1, None, A), (np.inf, None, A), (-np.inf, None, A), (1, (1, 0), A),
                     (np.inf, (2, 0), (2, 3, 4)), (None, None, ()), (None, 0, (0, 3))]
    for kd in (False, True)
}
CASES.update(NORM_CASES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_against_numpy(name, dtype):
    fn, shapes = CASES[name]
    check_against_numpy(fn, *[uniform(s, dtype=dtype) for s in shapes])


def test_norm_of_integers_and_zero():
    check_against_numpy(lambda m: m.linalg.norm(np.arange(5)))
    check_against_numpy(lambda m: m.linalg.norm(np.arange(6).reshape(2, 3), 1))
    check_against_numpy(lambda m, a: m.linalg.norm(a), np.zeros(3))
    check_against_numpy(lambda m, a: m.linalg.norm(a, 3), np.zeros(3))


def test_shape_errors_like_numpy():
    x = np.ones((2, 3))
    for bad in [lambda m: m.reshape(x, (4, -1)), lambda m: m.squeeze(x, 0), lambda m: m.split(x, 2, axis=1),
                lambda m: m.broadcast_to(x, (3, 3)), lambda m: m.concatenate([x, np.ones((2, 2))]),
                lambda m: m.stack([x, np.ones((3, 2))]), lambda m: m.matmul(x, x), lambda m: m.swapaxes(x, 0, 2)]:
        with pytest.raises(ValueError):
            bad(np)
        with pytest.raises(ValueError):
            bad(fnp)


def test_unsupported_arguments_raise_clearly():
    x = np.ones(3)
    for mode in ("mean", "maximum", "linear_ramp", "median", "minimum", "empty"):
        with pytest.raises(NotImplementedError, match="supported: constant, edge, reflect, symmetric, wrap"):
            fnp.pad(x, 1, mode=mode)
    with pytest.raises(NotImplementedError, match="constant"):
        fnp.pad(x, 1, constant_values=(1.0, 2.0))
    with pytest.raises(NotImplementedError, match="order='C'"):
        fnp.reshape(x, (3, 1), order="F")
    with pytest.raises(TypeError, match="out="):
        fnp.sum(x, out=np.zeros(()))
    with pytest.raises(TypeError, match="out="):
        fnp.exp(x, out=np.zeros(3))


def test_shape_helpers():
    x = np.ones((2, 3))
    assert fnp.shape(x) == (2, 3) and fnp.ndim(x) == 2 and fnp.size(x) == 6 and fnp.size(x, 1) == 3
    assert fnp.shape([1, 2]) == (2,) and fnp.ndim(1.0) == 0
    check_against_numpy(lambda m, a: m.atleast_1d(a), np.array(1.0))
    check_against_numpy(lambda m, a: m.atleast_2d(a), np.ones(3))
    check_against_numpy(lambda m, a: m.atleast_3d(a), np.ones((2, 3)))
    check_against_numpy(lambda m, a: m.diagonal(a, 1), np.ones((3, 4)))


# --- creation -------------------------------------------------------------------------------------

CREATION = [
    lambda m: m.array([1, 2]), lambda m: m.array([1.0, 2]), lambda m: m.array(3), lambda m: m.array(2.5),
    lambda m: m.array([[1, 2]], dtype=np.float32), lambda m: m.array([1], ndmin=3), lambda m: m.array([]),
    lambda m: m.array(np.ones(2, np.float32)), lambda m: m.array([np.ones(2, np.float32)] * 2),
    lambda m: m.asarray([1, 2.5]), lambda m: m.asarray(np.ones(2, np.float32)), lambda m: m.asarray(3.0),
    lambda m: m.asarray(np.ones(2, np.float32), dtype=np.float64), lambda m: m.asarray([[True]]),
    lambda m: m.zeros(3), lambda m: m.zeros((2, 3), np.float32), lambda m: m.zeros(()), lambda m: m.zeros((0, 2)),
    lambda m: m.ones(3, dtype=int), lambda m: m.ones((2, 1)), lambda m: m.full((2,), 7), lambda m: m.full(3, 0.5),
    lambda m: m.full((2,), 7.0, dtype=np.float32), lambda m: m.zeros_like(np.ones(3, np.float32)),
    lambda m: m.ones_like(np.ones((2, 2))), lambda m: m.ones_like([1, 2]), lambda m: m.zeros_like(3.0),
    lambda m: m.full_like(np.ones(3, np.float32), 2), lambda m: m.full_like(np.ones(3), 2, dtype=int),
    lambda m: m.full_like([1.5], 2), lambda m: m.zeros_like(np.ones(3), shape=(2,)), lambda m: m.arange(5),
    lambda m: m.arange(0.0, 1.0, 0.25), lambda m: m.arange(3, dtype=np.float32), lambda m: m.arange(2, 8, 3),
    lambda m: m.linspace(0, 1, 5), lambda m: m.linspace(0, 1, 4, endpoint=False), lambda m: m.linspace(2, 3, 1),
    lambda m: m.linspace(0, 1, 5, dtype=np.float32), lambda m: m.linspace(0, 1, 5, retstep=True)[1],
    lambda m: m.linspace(np.float32(0), np.float32(1), 3), lambda m: m.eye(3), lambda m: m.eye(3, 4, k=1),
    lambda m: m.eye(2, dtype=np.float32), lambda m: m.eye(3, k=-1),
]


@pytest.mark.parametrize("case", CREATION, ids=[f"creation{i}" for i in range(len(CREATION))])
def test_creation(case):
    check_against_numpy(case)
    assert type(case(fnp)) in (np.ndarray, np.float64)


def test_creation_from_traced_values():
    x = uniform((3,))
    check_against_numpy(lambda m, a: m.array([a[0], a[1] * 2.0, 3.0]), x)
    check_against_numpy(lambda m, a: m.asarray([[a[0], 1.0], [a[2], a[1]]]), x)
    check_against_numpy(lambda m, a: m.array([a, a * 2.0]), x)
    check_against_numpy(lambda m, a: m.zeros_like(a) + m.ones_like(a) * a, x.astype(np.float32))
    check_against_numpy(lambda m, a: m.full_like(a, 2.0) * a, x.astype(np.float32))
    check_against_numpy(lambda m, a: m.zeros(a.shape) + m.eye(3)[0] * a + m.arange(3), x)

    def traced_only(f, *args):
        # funcgrad.numpy-specific: these keep the derivative, so compare the traced value only.
        out_rev, out_fwd = traced_outputs(f, *args)
        return out_rev, out_fwd

    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        for args in [(7,), (1,), (0,), (4, False), (5, True, False, np.float32)]:
            for out in traced_only(lambda a: fnp.linspace(a[0], a[2], *args), xd):
                assert_same(out, np.linspace(xd[0], xd[2], *args), f"linspace{args}")
        for out in traced_only(lambda a: fnp.linspace(0.0, a[1], 4), xd):
            assert_same(out, np.linspace(0.0, xd[1], 4))
        for out in traced_only(lambda a: fnp.asarray(a, dtype=np.float64), xd):
            assert_same(out, xd.astype(np.float64))
        for out in traced_only(lambda a: fnp.array(a, ndmin=3), xd):
            assert_same(out, np.array(xd, ndmin=3))
        for out in traced_only(lambda a: fnp.full_like(np.ones((2, 3)), a[0]), xd):
            assert_same(out, np.full_like(np.ones((2, 3)), xd[0]))
    out, step = fg.vjp(lambda a: fnp.linspace(a[0], a[2], 5, retstep=True), x)[0]
    ref, ref_step = np.linspace(x[0], x[2], 5, retstep=True)
    assert_same(out, ref)
    assert_same(step, ref_step)


def test_creation_results_carry_no_derivative():
    g = fg.grad(lambda a: fnp.sum(fnp.zeros_like(a) + fnp.ones(3) * fnp.full(3, 2.0)))(np.ones(3))
    assert_same(g, np.zeros(3))


# --- funcgrad.scipy.special -----------------------------------------------------------------------


def _logsumexp_ref(a, axis=None, b=None, keepdims=False):
    a = np.asarray(a, np.float64)
    m = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros(())
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(a - m) * (1.0 if b is None else b)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(e, axis=axis, keepdims=keepdims)) + (m if keepdims else np.squeeze(m, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_values(axis, keepdims):
    x = uniform((2, 3, 4), -3, 3)
    ref = _logsumexp_ref(x, axis, keepdims=keepdims)
    for mode, out in [("eager", special.logsumexp(x, axis, keepdims=keepdims))] + list(zip(
            ("vjp", "jvp"), traced_outputs(lambda a: special.logsumexp(a, axis, keepdims=keepdims), x), strict=True)):
        assert_same(out, ref, mode)
    b = uniform((3, 4), 0.5, 2.0)
    assert_same(special.logsumexp(x, axis, b=b, keepdims=keepdims),
                _logsumexp_ref(x, axis, b=b, keepdims=keepdims))
    out32 = special.logsumexp(x.astype(np.float32), axis, keepdims=keepdims)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, ref, rtol=1e-5)


def test_logsumexp_stable_and_edge_cases():
    assert_same(special.logsumexp(np.array([1000.0, 1000.0])), np.float64(1000.0 + np.log(2.0)))
    assert_same(special.logsumexp(np.array([-1000.0, -1000.0])), np.float64(-1000.0 + np.log(2.0)))
    assert_same(special.logsumexp(np.array([1000.0, -np.inf])), np.float64(1000.0))
    assert_same(special.logsumexp(np.array([-np.inf, -np.inf])), np.float64(-np.inf))
    assert_same(special.logsumexp(np.zeros(0)), np.float64(-np.inf))
    assert_same(special.logsumexp(np.array(2.0)), np.float64(2.0))
    assert_same(special.logsumexp([1.0, 2.0]), np.float64(np.log(np.exp(1.0) + np.exp(2.0))))
    assert_same(special.logsumexp(np.ones((2, 0)), axis=1), np.full(2, -np.inf))
    assert_same(special.logsumexp(np.array([0.0, 0.0]), b=np.array([0.5, 0.5])), np.float64(0.0))
    out, _ = fg.vjp(special.logsumexp, np.array([1000.0, 1000.0]))
    assert np.isfinite(out)


def test_expit_and_softmax_values():
    x = uniform((3, 4), -5, 5)
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        ref = (1.0 / (1.0 + np.exp(-xd))).astype(dtype)
        assert_same(special.expit(xd), ref)
        for out in traced_outputs(special.expit, xd):
            assert_same(out, ref)
        e = np.exp(xd - xd.max(axis=1, keepdims=True))
        sm_ref = e / e.sum(axis=1, keepdims=True)
        assert_same(special.softmax(xd, axis=1), sm_ref)
        for out in traced_outputs(lambda a: special.softmax(a, axis=1), xd):
            assert_same(out, sm_ref)
    np.testing.assert_allclose(special.softmax(x).sum(), 1.0)
    assert_same(special.expit(np.array([-1000.0, 0.0, 1000.0])), np.array([0.0, 0.5, 1.0]))
    assert_same(special.expit(0.0), np.float64(0.5))
    assert_same(special.expit([0.0, 0.0]), np.array([0.5, 0.5]))
    assert_same(special.softmax(np.array([1000.0, 1000.0])), np.array([0.5, 0.5]))
