"""Issue 9 §1: ``funcgrad.numpy`` covers NumPy's namespace.

* Every public callable of ``numpy``, ``numpy.linalg`` and ``numpy.fft`` exists in funcgrad (a
  walk of ``dir()``, against a short, justified exclusion list).
* The names the issue lists: values against NumPy's, eagerly and on traced values (under vjp and
  jvp). Their derivatives are checked to second order, both modes, in the composition table of
  tests/test_numpy_grads.py (GRAD_CASES), and new primitives have rows in tests/test_primitives.py.
* Structural items: lists of traced values as array-likes, ``full`` of a traced value under
  grad/vmap, ``initial=``/``where=``, ``x.at[idx]`` with every update and mode, ``size=`` for
  value-dependent shapes under jit/vmap, and the ConcretizationError naming ``size=`` without it.

Expected values come from NumPy; expected derivatives from finite differences or closed forms.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ConcretizationError, TracerAssignmentError
from funcgrad.test_util import check_grads

rng = np.random.default_rng(9)

# Names of NumPy's namespaces that funcgrad does not provide, and why.
EXCLUDED = {
    "numpy": set(),
    "numpy.linalg": {"test"},  # NumPy's own test-suite runner for the submodule, not an array function
    "numpy.fft": {"test"},
}


# Public names funcgrad's namespaces have beyond NumPy's, and why. Anything else public there is a leaked
# helper (an import or a private function without its underscore) and fails the test below.
EXTRA_ALLOWED: dict[str, set[str]] = {
    "numpy.linalg": set(),  # exactly NumPy's names (the result tuples EighResult, ... stay unexported, as in NumPy)
    "numpy.fft": set(),
}


@pytest.mark.parametrize("numpy_module, ours", [(np.linalg, fnp.linalg), (np.fft, fnp.fft)],
                         ids=["numpy.linalg", "numpy.fft"])
def test_no_public_names_beyond_numpys(numpy_module, ours):
    theirs = {n for n in dir(numpy_module) if not n.startswith("_")}
    allowed = EXTRA_ALLOWED[numpy_module.__name__]
    extra = sorted(n for n in dir(ours) if not n.startswith("_") and n not in theirs and n not in allowed)
    assert not extra, f"public names of {ours.__name__} that {numpy_module.__name__} does not have: {extra}"
    assert set(ours.__all__) <= theirs | allowed, sorted(set(ours.__all__) - theirs - allowed)
    assert set(ours.__all__) >= {n for n in theirs if n not in EXCLUDED[numpy_module.__name__]
                                 and callable(getattr(numpy_module, n))}
    # functions of the private implementation modules (_linalg, _fft) carry the public module's name
    private = [n for n in ours.__all__ if getattr(getattr(ours, n), "__module__", "").startswith("funcgrad.numpy._")]
    assert not private, private


def _public_callables(module) -> list[str]:
    return sorted(n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n)))


@pytest.mark.parametrize("numpy_module, ours", [(np, fnp), (np.linalg, fnp.linalg), (np.fft, fnp.fft)],
                         ids=["numpy", "numpy.linalg", "numpy.fft"])
def test_every_public_numpy_callable_is_provided(numpy_module, ours):
    names = _public_callables(numpy_module)
    excluded = EXCLUDED[numpy_module.__name__]
    missing = [n for n in names if n not in excluded and not callable(getattr(ours, n, None))]
    assert not missing, f"{numpy_module.__name__} names missing from funcgrad: {missing}"
    stale = sorted(n for n in excluded if n not in names)
    assert not stale, f"exclusions that NumPy no longer has: {stale}"


def _numpy_parameters_we_lack(numpy_fn, ours) -> list[str]:
    try:
        theirs_sig, our_sig = inspect.signature(numpy_fn), inspect.signature(ours)
    except (TypeError, ValueError):  # no introspectable signature (C functions, ufuncs)
        return []
    ours_params = our_sig.parameters.values()
    if any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in ours_params):
        return []
    return [name for name, p in theirs_sig.parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in our_sig.parameters]


@pytest.mark.parametrize("numpy_module, ours", [(np, fnp), (np.linalg, fnp.linalg), (np.fft, fnp.fft)],
                         ids=["numpy", "numpy.linalg", "numpy.fft"])
def test_signatures_accept_numpys_parameters(numpy_module, ours):
    """Each function funcgrad implements itself takes every parameter name NumPy's takes."""
    lacking = {}
    for name in _public_callables(numpy_module):
        theirs, mine = getattr(numpy_module, name), getattr(ours, name, None)
        if mine is None or mine is theirs or isinstance(theirs, (type, np.ufunc)):
            continue
        missing = _numpy_parameters_we_lack(theirs, mine)
        if missing:
            lacking[name] = missing
    assert not lacking, f"parameters of NumPy's {numpy_module.__name__} functions funcgrad does not accept: {lacking}"


def test_coverage_numbers():
    """The exclusion lists stay short: everything else of NumPy's namespaces is provided."""
    total = sum(len(_public_callables(m)) for m in (np, np.linalg, np.fft))
    excluded = sum(len(v) for v in EXCLUDED.values())
    assert excluded <= 5 and total > 450


@pytest.mark.parametrize("name", ["seterr", "geterr", "errstate", "finfo", "iinfo", "dtype", "printoptions",
                                  "save", "load", "array2string", "ndindex", "busday_count", "poly1d"])
def test_passthrough_names_work_on_concrete_values(name):
    assert callable(getattr(fnp, name))
    if name == "seterr":
        old = fnp.seterr(divide="ignore")
        assert fnp.geterr()["divide"] == "ignore"
        fnp.seterr(**old)
    elif name == "finfo":
        assert fnp.finfo(np.float32).eps == np.finfo(np.float32).eps
    elif name == "array2string":
        assert fnp.array2string(np.array([1.0, 2.0])) == "[1. 2.]"
        out, _ = fg.vjp(lambda x: x * 1.0, np.array([1.0, 2.0]))
        assert fg.vjp(lambda x: (x, fnp.array2string(x))[0], np.array([1.0]))[0] is not None
        del out


def test_dtype_utilities_accept_traced_values():
    def f(x):
        assert fnp.result_type(x, 1.0) == np.float32
        assert fnp.can_cast(x, np.float64)
        assert fnp.common_type(x) is np.float32
        assert fnp.promote_types(x.dtype, np.int64) == np.float64
        assert fnp.issubdtype(x.dtype, np.floating)
        return x * 2

    x = np.ones(3, np.float32)
    fg.vjp(f, x)
    fg.jit(f)(x)


# --- the names the issue lists: values against NumPy, eager and traced --------------------------

X = rng.uniform(-1, 1, (3, 5))
V = np.array([0.0, 1.5, 0.0, -2.0, 1.5, 3.0])
S = np.sort(rng.uniform(-1, 1, 6))
Y = X + 0.3 * rng.uniform(-1, 1, (3, 5))
NANX = np.where(rng.random((3, 5)) < 0.3, np.nan, X)
POS = rng.uniform(0.5, 2.0, (3, 5))

# name: (function of (module, *args), args). Run with module = numpy and module = funcgrad.numpy.
CASES = {
    "nonzero": (lambda m, a: m.nonzero(a), [V]),
    "argwhere": (lambda m, a: m.argwhere(a), [np.reshape(V, (2, 3))]),
    "unique": (lambda m, a: m.unique(a, return_index=True, return_inverse=True, return_counts=True), [V]),
    "isin": (lambda m, a: m.isin(a, [1.5, 3.0]), [V]),
    "searchsorted": (lambda m, a: m.searchsorted(a, [-0.5, 0.0, 0.5], side="right"), [S]),
    "digitize": (lambda m, a: m.digitize(a, [-0.5, 0.0, 0.5]), [X]),
    "histogram": (lambda m, a: m.histogram(a, bins=4), [X]),
    "interp": (lambda m, a, xp: m.interp(a, xp, xp ** 2), [X, S]),
    "meshgrid": (lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [S, V]),
    "average": (lambda m, a: m.average(a, axis=0, weights=[1.0, 2.0, 3.0]), [X]),
    "cov": (lambda m, a, b: m.cov(a, b), [X, Y]),
    "corrcoef": (lambda m, a: m.corrcoef(a, rowvar=False), [X]),
    "convolve": (lambda m, a, b: m.convolve(a, b, mode="same"), [S, V]),
    "correlate": (lambda m, a, b: m.correlate(a, b, mode="full"), [S, V]),
    "nanmax": (lambda m, a: m.nanmax(a, axis=1), [NANX]),
    "nanmin": (lambda m, a: m.nanmin(a, axis=0, keepdims=True), [NANX]),
    "nanvar": (lambda m, a: m.nanvar(a, axis=1, ddof=1), [NANX]),
    "nanstd": (lambda m, a: m.nanstd(a), [NANX]),
    "nanprod": (lambda m, a: m.nanprod(a, axis=1), [NANX]),
    "nancumsum": (lambda m, a: m.nancumsum(a, axis=0), [NANX]),
    "ptp": (lambda m, a: m.ptp(a, axis=1), [X]),
    "copy": (lambda m, a: m.copy(a), [X]),
    "block": (lambda m, a, b: m.block([[a, b], [b, a]]), [X, Y]),
    "broadcast_arrays": (lambda m, a, b: m.broadcast_arrays(a, b[:, :1]), [X, Y]),
    "tril_indices": (lambda m, a: m.tril_indices(4, k=1), [X]),
    "triu_indices": (lambda m, a: m.triu_indices(3, m=5), [X]),
    "polyval": (lambda m, p, x: m.polyval(p, x), [S[:4], X]),
    "polyfit": (lambda m, x, y: m.polyfit(x, y, 3), [S, V]),
    "roots": (lambda m, p: m.roots(p), [np.array([1.0, -6.0, 11.0, -6.0])]),
    "vander": (lambda m, x: m.vander(x, 4), [S]),
    "trapezoid": (lambda m, y, x: m.trapezoid(y, x), [X, S[:5]]),
    "float_power": (lambda m, a, b: m.float_power(a, b), [POS, X]),
    "fmod": (lambda m, a: m.fmod(a * 5.0, 1.3), [X]),
    "modf": (lambda m, a: m.modf(a * 5.0), [X]),
    "copysign": (lambda m, a, b: m.copysign(a, b), [X, Y]),
    "heaviside": (lambda m, a: m.heaviside(np.round(a), 0.5), [X]),
    "i0": (lambda m, a: m.i0(a), [X]),
    "logspace": (lambda m, a: m.logspace(0.0, 2.0, 5), [X]),
    "geomspace": (lambda m, a: m.geomspace(1.0, 1000.0, 4), [X]),
    "atan2": (lambda m, a, b: m.atan2(a, b), [X, Y]),
    "acos": (lambda m, a: m.acos(a * 0.9), [X]),
    "vecdot": (lambda m, a, b: m.vecdot(a, b), [X, Y]),
    "matvec": (lambda m, a, b: m.matvec(a, b), [X, S[:5]]),
    "put_along_axis": None,  # NumPy's writes in place: tested on its own below
    "cumulative_sum": (lambda m, a: m.cumulative_sum(a, axis=1, include_initial=True), [X]),
    "seterr": None,  # tested above (a pass-through of NumPy's)
    "result_type": (lambda m, a: m.result_type(a, np.float32), [X]),
    "promote_types": (lambda m, a: m.promote_types(np.int8, np.float16), [X]),
    "issubdtype": (lambda m, a: m.issubdtype(np.float32, np.floating), [X]),
    "linalg.cross": (lambda m, a, b: m.linalg.cross(a, b), [X[:, :3], Y[:, :3]]),
    "linalg.diagonal": (lambda m, a: m.linalg.diagonal(a, offset=1), [X]),
    "linalg.matmul": (lambda m, a, b: m.linalg.matmul(a, b.T), [X, Y]),
    "linalg.outer": (lambda m, a, b: m.linalg.outer(a, b), [S, V]),
    "linalg.tensordot": (lambda m, a, b: m.linalg.tensordot(a, b, axes=([1], [1])), [X, Y]),
    "linalg.tensorinv": (lambda m, a: m.linalg.tensorinv(a, ind=1), [np.eye(4).reshape(4, 2, 2) + 0.1 * X[:, :4].T
                                                                         .reshape(4, 3)[:, :2].repeat(2).reshape(
                                                                             4, 2, 2)[:4]]),
    "linalg.tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(a, b),
                           [np.eye(6).reshape(2, 3, 6) + 0.1 * rng.uniform(-1, 1, (2, 3, 6)), X[:2, :3]]),
    "linalg.trace": (lambda m, a: m.linalg.trace(a, offset=-1), [X]),
    "linalg.vecdot": (lambda m, a, b: m.linalg.vecdot(a, b, axis=0), [X, Y]),
}


def _leaves(x):
    return [v for leaf in x for v in _leaves(leaf)] if isinstance(x, (tuple, list)) else [x]


def _assert_same(ours, ref, what):
    ours, ref = _leaves(ours), _leaves(ref)
    assert len(ours) == len(ref), what
    for o, r in zip(ours, ref, strict=True):
        if isinstance(r, (bool, np.dtype, type)):
            assert o == r, what
            continue
        assert np.shape(o) == np.shape(r), f"{what}: shape {np.shape(o)} != {np.shape(r)}"
        od, rd = np.asarray(o).dtype, np.asarray(r).dtype
        assert od == rd, f"{what}: dtype {od} != {rd}"
        np.testing.assert_allclose(o, r, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=what)


def _sorted_if_roots(name, value):
    return np.sort(value) if name == "roots" else value


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c is not None])
def test_listed_names_match_numpy(name):
    fn, args = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = fn(np, *args)
        _assert_same(_sorted_if_roots(name, fn(fnp, *args)), _sorted_if_roots(name, ref), f"{name} eager")
        if name in ("result_type", "promote_types", "issubdtype"):
            return  # dtype results: traced operands are checked in test_dtype_utilities_accept_traced_values
        # on traced values, under vjp (reverse) and jvp (forward)
        out, _ = fg.vjp(lambda *a: fn(fnp, *a), *args)
        _assert_same(_sorted_if_roots(name, out), _sorted_if_roots(name, ref), f"{name} under vjp")
        out, _ = fg.jvp(lambda *a: fn(fnp, *a), tuple(args), tuple(np.ones_like(a) for a in args))
        _assert_same(_sorted_if_roots(name, out), _sorted_if_roots(name, ref), f"{name} under jvp")


def test_put_along_axis():
    a = X.copy()
    idx = np.array([[1], [0], [4]])
    want = X.copy()
    np.put_along_axis(want, idx, 9.0, axis=1)
    assert fnp.put_along_axis(a, idx, 9.0, axis=1) is None  # NumPy's in-place form on a NumPy array
    np.testing.assert_array_equal(a, want)
    np.testing.assert_array_equal(fnp.put_along_axis(X, idx, 9.0, 1, inplace=False), want)
    out, _ = fg.vjp(lambda x: fnp.put_along_axis(x, idx, 9.0, 1, inplace=False), X)
    np.testing.assert_array_equal(out, want)
    with pytest.raises(TracerAssignmentError, match="inplace=False"):
        fg.vjp(lambda x: fnp.put_along_axis(x, idx, 9.0, 1), X)
    g = fg.grad(lambda x: fnp.sum(fnp.put_along_axis(x, idx, x[:, :1] * 2.0, 1, inplace=False)))(X)
    closed = np.ones_like(X)
    closed[[0, 1, 2], [1, 0, 4]] = 0.0
    closed[:, 0] += 2.0
    np.testing.assert_allclose(g, closed)


@pytest.mark.parametrize("name, call, args", [
    ("put", lambda m, a, v: m.put(a, [0, 5, 7], v), [X, S[:2]]),
    ("put wrap", lambda m, a, v: m.put(a, [1, 17], v, mode="wrap"), [X, S[:2]]),
    ("put clip", lambda m, a, v: m.put(a, [-20, 40], v, mode="clip"), [X, S[:2]]),
    ("place", lambda m, a, v: m.place(a, MASK, v), [X, S[:3]]),
    ("putmask", lambda m, a, v: m.putmask(a, MASK, v), [X, S[:4]]),
    ("fill_diagonal", lambda m, a, v: m.fill_diagonal(a, v), [X, S[:2]]),
    ("fill_diagonal wrap", lambda m, a, v: m.fill_diagonal(a, v, wrap=True), [np.ones((7, 3)), S[:2]]),
])
def test_in_place_writers_and_their_functional_forms(name, call, args):
    want = args[0].copy()
    assert call(np, want, args[1]) is None  # NumPy writes in place
    mine = args[0].copy()
    assert call(fnp, mine, args[1]) is None  # so does funcgrad on a NumPy array
    np.testing.assert_array_equal(mine, want)
    functional = getattr(fnp, name.split()[0])

    def copy_form(a, v):
        return call(_Inplace(functional), a, v)

    np.testing.assert_allclose(copy_form(*args), want)
    np.testing.assert_allclose(fg.vjp(copy_form, *args)[0], want)
    np.testing.assert_allclose(fg.jit(copy_form)(*args), want)
    check_grads(copy_form, args, order=2)
    with pytest.raises(TracerAssignmentError, match="inplace=False|where"):
        fg.vjp(lambda a: call(fnp, a, args[1]), args[0])


class _Inplace:
    """A namespace whose writer is called with inplace=False."""

    def __init__(self, fn):
        self.fn = fn

    def __getattr__(self, name):
        return lambda *a, **k: self.fn(*a, inplace=False, **k)


def test_kaiser_is_differentiable_in_beta():
    pytest.importorskip("scipy")
    np.testing.assert_allclose(fg.vjp(lambda b: fnp.kaiser(7, b), 2.5)[0], np.kaiser(7, 2.5), rtol=1e-12)
    check_grads(lambda b: fnp.kaiser(6, b), [np.array(1.7)], order=2)


def test_more_tracer_methods():
    x = np.array([0.0, 2.5, -1.0, 3.0])

    def f(a):
        return a.compress(np.array([True, False, True, True])).sum() + a.round(1).sum() * 0.0

    np.testing.assert_allclose(fg.grad(f)(x), [1.0, 0.0, 1.0, 1.0])
    s = np.sort(x)
    out, _ = fg.vjp(lambda a: (a.nonzero()[0], a.argpartition(1), a.itemsize, a.nbytes), x)
    assert [o.tolist() if hasattr(o, "tolist") else o for o in out] == [[1, 2, 3], np.argsort(x).tolist(), 8, 32]
    out, _ = fg.vjp(lambda a: a.searchsorted(np.array([1.0, 2.5]), side="right"), s)
    np.testing.assert_array_equal(out, s.searchsorted([1.0, 2.5], side="right"))
    for method in ("partition", "resize", "fill", "put"):
        with pytest.raises(TracerAssignmentError):
            fg.vjp(lambda a: getattr(a, method)(1), x)


def test_i0_derivative_is_i1():
    pytest.importorskip("scipy")
    from scipy.special import i1

    check_grads(fnp.i0, [X], order=2)
    np.testing.assert_allclose(fg.elementwise_grad(fnp.i0)(X), i1(X), rtol=1e-12)


@pytest.mark.parametrize("name", ["gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
                                  "right_shift"])
def test_integer_functions_under_jit_and_vmap(name):
    a, b = np.array([12, 7, 9, 4]), np.array([8, 3, 6, 1])
    want = getattr(np, name)(a, b)
    np.testing.assert_array_equal(fg.jit(getattr(fnp, name))(a, b), want)
    np.testing.assert_array_equal(fg.vmap(getattr(fnp, name))(a, b), want)


# --- lists of traced values, full, einsum sublists ------------------------------------------------


def test_lists_of_traced_values_are_array_likes():
    def f(t1, t2):
        return (fnp.sum(fnp.array([t1, t2])) + fnp.mean([t1, t2 * t2]) + fnp.sum(fnp.append([1.0, t1], t2))
                + fnp.max((t1, t2)) + fnp.dot([t1, t2], [t2, 1.0]) + fnp.sum(fnp.stack([[t1, 1.0], [2.0, t2]])))

    t1, t2 = 0.3, 0.7
    g1, g2 = fg.grad(f, argnums=(0, 1))(t1, t2)
    # closed forms: d/dt1 = 1 + 1/2 + 1 + 0 + t2 + 1; d/dt2 = 1 + t2 + 1 + 1 + (t1 + 1) + 1
    np.testing.assert_allclose([g1, g2], [3.5 + t2, 5.0 + t2 + t1])
    assert fnp.array([np.float32(1.0), 2]).dtype == np.array([np.float32(1.0), 2]).dtype
    out, _ = fg.vjp(lambda a: fnp.array([a, 2]), np.float32(1.5))
    assert out.dtype == np.array([np.float32(1.5), 2]).dtype


def test_lists_of_traced_values_in_ufuncs_where_and_clip():
    def f(t):
        return (fnp.sum(fnp.sin([t, 2.0 * t])) + fnp.sum(fnp.where([True, False], [t, t], 0.0))
                + fnp.sum(fnp.clip([t, 3.0 * t], 0.0, 1.0)) + fnp.sum(fnp.multiply((t, 1.0), 2.0)))

    t = 0.2
    np.testing.assert_allclose(fg.grad(f)(t), np.cos(t) + 2 * np.cos(2 * t) + 1.0 + 1.0 + 3.0 + 2.0)
    check_grads(f, [np.array(t)], order=2)


def test_tracer_reduction_methods_take_initial_and_where():
    x = np.array([1.0, -1.0, 2.0])
    g = fg.grad(lambda a: a.sum(where=a > 0, initial=1.0) + a.max(initial=5.0) + a.mean(where=a > 0))(x)
    np.testing.assert_allclose(g, [1.5, 0.0, 1.5])
    out, _ = fg.vjp(lambda a: a.prod(where=a > 0) + a.var(where=a > 0) + a.min(initial=0.0), x)
    np.testing.assert_allclose(out, x.prod(where=x > 0) + x.var(where=x > 0) + x.min(initial=0.0))
    np.testing.assert_array_equal(fg.vmap(lambda a: a.all(where=a > 0))(np.ones((2, 3))), [True, True])


def test_full_of_a_traced_value_is_differentiable_and_vmappable():
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(fnp.full((2, 3), v)))(1.5), 6.0)
    np.testing.assert_allclose(fg.vmap(lambda v: fnp.full((2,), v))(np.arange(3.0)), np.repeat(np.arange(3.0), 2)
                               .reshape(3, 2))
    np.testing.assert_allclose(fg.jit(lambda v: fnp.full((2,), v, dtype=np.float32))(2.0), np.full(2, 2.0, np.float32))
    assert fg.jit(lambda v: fnp.full((2,), v, dtype=np.float32))(2.0).dtype == np.float32
    check_grads(lambda v: fnp.full((2, 3), v), [np.array([1.0, 2.0, 3.0])], order=2)
    with pytest.raises(ValueError):
        fg.vjp(lambda v: fnp.full((2,), v), np.ones(3))


def test_einsum_sublists_match_numpy():
    a, b = X, Y.T
    for args in [(a, [0, 1], b, [1, 2]), (a, [0, 1], b, [1, 2], [2, 0]), (a, [Ellipsis, 1], [Ellipsis]),
                 (a, [0, 0 + 1], [])]:
        want = np.einsum(*args)
        np.testing.assert_allclose(fnp.einsum(*args), want)
        out, _ = fg.vjp(lambda x: fnp.einsum(*((x,) + args[1:])), args[0])
        np.testing.assert_allclose(out, want)


# --- reductions: initial= and where= ------------------------------------------------------------

MASK = rng.random((3, 5)) < 0.6
MASK[:, 0] = True


@pytest.mark.parametrize("name, kwargs", [
    ("sum", {"where": MASK}), ("sum", {"initial": 2.5, "axis": 1}), ("sum", {"where": MASK, "axis": 0,
                                                                            "keepdims": True}),
    ("prod", {"where": MASK, "initial": 2.0}), ("max", {"where": MASK, "initial": -3.0, "axis": 1}),
    ("min", {"initial": -0.5}), ("amax", {"initial": 0.5, "axis": 0}), ("mean", {"where": MASK, "axis": 1}),
    ("var", {"where": MASK, "axis": 0, "ddof": 1}), ("std", {"where": MASK}), ("all", {"where": MASK}),
    ("any", {"where": MASK, "axis": 1}), ("nanmax", {"where": MASK, "initial": -5.0}),
    ("nansum", {"where": MASK}) if hasattr(fnp.nansum, "__wrapped__") else ("mean", {"where": MASK[0]}),
])
def test_reductions_accept_initial_and_where(name, kwargs):
    data = X > 0 if name in ("all", "any") else X
    want = getattr(np, name)(data, **kwargs)
    _assert_same(getattr(fnp, name)(data, **kwargs), want, f"{name} eager")
    if name not in ("all", "any"):
        out, _ = fg.vjp(lambda a: getattr(fnp, name)(a, **kwargs), data)
        _assert_same(out, want, f"{name} traced")
        np.testing.assert_allclose(fg.jit(lambda a: getattr(fnp, name)(a, **kwargs))(data), want)


def test_where_gradient_is_zero_outside_the_mask():
    g = fg.grad(lambda a: fnp.sum(a * a, where=MASK))(X)
    np.testing.assert_allclose(g, np.where(MASK, 2 * X, 0.0))
    g = fg.grad(lambda a: fnp.max(a, where=MASK, initial=-10.0))(X)
    closed = np.zeros_like(X)
    closed[np.unravel_index(np.argmax(np.where(MASK, X, -np.inf)), X.shape)] = 1.0
    np.testing.assert_allclose(g, closed)
    with pytest.raises(ValueError, match="initial"):
        fnp.max(X, where=MASK)


def test_empty_max_with_initial():
    e = np.zeros((0, 3))
    np.testing.assert_array_equal(fnp.max(e, axis=0, initial=1.0), np.max(e, axis=0, initial=1.0))
    out, _ = fg.vjp(lambda a: fnp.max(a, axis=0, initial=1.0), e)
    np.testing.assert_array_equal(out, np.ones(3))


# --- x.at[idx] ------------------------------------------------------------------------------------

_UFUNCS = {"add": np.add, "multiply": np.multiply, "divide": np.divide, "power": np.power, "min": np.minimum,
           "max": np.maximum}


def _numpy_update(x, idx, how, v):
    out = x.copy()
    if how == "set":
        out[idx] = v
    else:
        _UFUNCS[how].at(out, idx, v)
    return out


@pytest.mark.parametrize("how", ["set", "add", "multiply", "divide", "power", "min", "max"])
@pytest.mark.parametrize("idx", [np.s_[1], np.s_[[0, 2, 2]], np.s_[:, [4, 1]], np.s_[1:, ::2], np.s_[[0, 1], [3, 3]]],
                         ids=["int", "repeated rows", "columns", "slices", "repeated pair"])
def test_at_updates_match_numpy(how, idx):
    x = POS.copy()
    v = 1.3
    want = _numpy_update(x, idx, how, v)
    np.testing.assert_allclose(getattr(fnp.at(x)[idx], how)(v), want)
    out, _ = fg.vjp(lambda a: getattr(a.at[idx], how)(v), x)
    np.testing.assert_allclose(out, want)
    np.testing.assert_allclose(fg.jit(lambda a: getattr(a.at[idx], how)(v))(x), want)
    batched = fg.vmap(lambda a: getattr(a.at[idx], how)(v))(np.stack([x, 2 * x]))
    np.testing.assert_allclose(batched[1], _numpy_update(2 * x, idx, how, v))
    np.testing.assert_array_equal(x, POS)  # never in place


def test_at_min_max_ties_share_the_derivative():
    x = np.array([1.0, 2.0, 3.0])
    gx, gv = fg.grad(lambda a, v: fnp.sum(a.at[np.array([0, 0, 1])].max(v)), argnums=(0, 1))(x, np.array([1.0, 0.5,
                                                                                                           2.0]))
    np.testing.assert_allclose(gx, [0.5, 0.5, 1.0])  # x[0] ties with v[0]; x[1] ties with v[2]
    np.testing.assert_allclose(gv, [0.5, 0.0, 0.5])


def test_at_multiply_derivative_in_values_needs_distinct_indices():
    x = np.arange(1.0, 4.0)
    g = fg.grad(lambda v: fnp.sum(fnp.at(x)[np.array([0, 2])].multiply(v)))(np.array([2.0, 3.0]))
    np.testing.assert_allclose(g, [1.0, 3.0])
    with pytest.raises(NotImplementedError, match="distinct"):
        fg.grad(lambda v: fnp.sum(fnp.at(x)[np.array([0, 0])].multiply(v)))(np.array([2.0, 3.0]))
    g = fg.grad(lambda a: fnp.sum(a.at[np.array([0, 0])].multiply(2.0)))(x)
    np.testing.assert_allclose(g, [4.0, 1.0, 1.0])


def test_at_apply_and_get():
    x = np.arange(5.0)
    np.testing.assert_allclose(fnp.at(x)[1:3].apply(np.sin), np.r_[0.0, np.sin([1.0, 2.0]), 3.0, 4.0])
    out, _ = fg.vjp(lambda a: a.at[np.array([1, 1])].apply(fnp.exp), x)
    np.testing.assert_allclose(out, np.r_[0.0, np.e, 2.0, 3.0, 4.0])  # once per position, as in JAX
    np.testing.assert_allclose(fnp.at(x)[::2].get(indices_are_sorted=True, unique_indices=True), x[::2])


@pytest.mark.parametrize("mode", ["clip", "drop", "fill"])
def test_at_out_of_bounds_modes(mode):
    x = np.arange(5.0)
    idx = np.array([1, 7, -2, -9])
    clipped = np.array([1, 4, 3, 0])
    inside = np.array([True, False, True, False])
    if mode == "clip":
        want_get, want_set = x[clipped], _numpy_update(x, clipped, "set", 10.0)
    else:
        want_get = np.where(inside, x[np.where(inside, idx, 0)], -1.0)
        want_set = _numpy_update(x, idx[inside], "set", 10.0)

    def get(a):
        return fnp.at(a)[idx].get(mode=mode, fill_value=-1.0)

    def put(a):
        return fnp.at(a)[idx].set(10.0, mode=mode)

    for f, want in ((get, want_get), (put, want_set)):
        np.testing.assert_allclose(f(x), want)
        np.testing.assert_allclose(fg.vjp(f, x)[0], want)
        np.testing.assert_allclose(fg.jit(f)(x), want)
    np.testing.assert_allclose(fnp.at(x)[7].add(1.0, mode="drop"), x)
    assert np.isnan(fnp.at(x)[np.array([7])].get(mode="fill")[0])
    assert fnp.at(np.arange(3))[np.array([7])].get(mode="fill")[0] == np.iinfo(np.int64).min
    with pytest.raises(IndexError):
        fnp.at(x)[np.array([7])].get()
    with pytest.raises(ValueError, match="mode"):
        fnp.at(x)[1].get(mode="wrap")


def test_at_derivatives_with_modes():
    check_grads(lambda a, v: fnp.at(a)[np.array([1, 7, -2])].add(v, mode="drop"), [np.arange(5.0), np.ones(3)], order=2)
    check_grads(lambda a: fnp.at(a)[np.array([1, 7, -9])].get(mode="clip"), [np.arange(5.0)], order=2)


# --- value-dependent shapes: size= under jit and vmap -------------------------------------------

A2 = np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 1.0]])


@pytest.mark.parametrize("name, call", [
    ("nonzero", lambda a: fnp.nonzero(a, size=4, fill_value=-1)),
    ("argwhere", lambda a: fnp.argwhere(a, size=4, fill_value=7)),
    ("flatnonzero", lambda a: fnp.flatnonzero(a, size=2)),
    ("unique", lambda a: fnp.unique(a, size=5, fill_value=-1.0)),
    ("unique counts", lambda a: fnp.unique(a, return_counts=True, return_index=True, size=5)),
    ("compress", lambda a: fnp.compress(a[0] > 0, a, axis=1, size=2, fill_value=9.0)),
    ("extract", lambda a: fnp.extract(a > 0.5, a, size=4)),
    ("where one argument", lambda a: fnp.nonzero(a, size=3)),
])
def test_size_argument_works_under_jit_and_vmap(name, call):
    want = call(A2)  # the same function on concrete values, checked against NumPy below
    got = fg.jit(call)(A2)
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        np.testing.assert_array_equal(g, w)
    batched = fg.vmap(call)(np.stack([A2, A2[::-1]]))
    for g, w in zip(_leaves(batched), _leaves(call(A2[::-1])), strict=True):
        np.testing.assert_array_equal(np.asarray(g)[1], w)


def test_size_results_against_numpy():
    nz = np.nonzero(A2)
    got = fnp.nonzero(A2, size=4, fill_value=-1)
    for g, n in zip(got, nz, strict=True):
        np.testing.assert_array_equal(g, np.r_[n, -1])
    np.testing.assert_array_equal(fnp.nonzero(A2, size=2)[1], nz[1][:2])
    np.testing.assert_array_equal(fnp.argwhere(A2, size=4, fill_value=7), np.r_[np.argwhere(A2), [[7, 7]]])
    u = np.unique(A2)
    np.testing.assert_array_equal(fg.jit(lambda a: fnp.unique(a, size=5, fill_value=-1.0))(A2), np.r_[u, -1.0])
    np.testing.assert_array_equal(fg.jit(lambda a: fnp.unique(a, size=6))(A2), np.r_[u, u[0], u[0]])  # min fills
    vals, idx, counts = fg.jit(lambda a: fnp.unique(a, return_index=True, return_counts=True, size=5))(A2)
    wv, wi, wc = np.unique(A2, return_index=True, return_counts=True)
    np.testing.assert_array_equal(vals[:4], wv)
    np.testing.assert_array_equal(idx, np.r_[wi, 0])
    np.testing.assert_array_equal(counts, np.r_[wc, 0])
    np.testing.assert_array_equal(fg.jit(lambda a: fnp.extract(a > 0.5, a, size=4))(A2), np.r_[np.extract(A2 > 0.5,
                                                                                                          A2), 0.0])


@pytest.mark.parametrize("call", [fnp.nonzero, fnp.argwhere, fnp.flatnonzero, fnp.unique,
                                  lambda a: fnp.extract(a > 0, a), lambda a: fnp.compress(a[0] > 0, a, axis=1)])
@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_without_size_a_concretization_error_names_size(call, transform):
    with pytest.raises(ConcretizationError, match="size="):
        if transform == "jit":
            fg.jit(call)(A2)
        else:
            fg.vmap(call)(np.stack([A2, A2]))


@pytest.mark.parametrize("call", [lambda a: a[a > 0], lambda a: fnp.where(a > 0)], ids=["boolean mask", "where"])
@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_traced_boolean_masks_raise_a_concretization_error(call, transform):
    with pytest.raises(ConcretizationError, match="size="):
        if transform == "jit":
            fg.jit(call)(A2)
        else:
            fg.vmap(call)(np.stack([A2, A2]))


def test_at_with_a_traced_boolean_mask_raises_naming_size():
    # as in JAX (x.at[mask] needs a concrete mask under jit); where() is the way to keep the shape
    x = np.array([1.0, -2.0, 3.0])
    for update in (lambda a: a.at[a > 0].set(0.0), lambda a: a.at[a > 0].add(1.0), lambda a: a.at[a > 0].get(),
                   lambda a: a.at[a > 0].max(1.0), lambda a: a.at[a > 0].apply(fnp.sin)):
        with pytest.raises(ConcretizationError, match="size="):
            fg.jit(update)(x)
        with pytest.raises(ConcretizationError, match="size="):
            fg.vmap(update)(np.stack([x, x]))
    np.testing.assert_allclose(fg.jit(lambda a: fnp.where(a > 0, 0.0, a))(x), [0.0, -2.0, 0.0])


def test_value_dependent_functions_keep_derivatives_on_concrete_values():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.unique(a) ** 2))(x), [6.0, 2.0, 0.0, 4.0])
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.extract(a > 1.5, a)))(x), [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(fnp.compress(a > 1.5, a, size=4)))(x), [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(fg.jit(fg.grad(lambda a: fnp.sum(fnp.compress(a > 1.5, a, size=4) ** 2)))(x),
                               [6.0, 0.0, 6.0, 4.0])
