"""Indexing traced values, and the functional updates ``x.at[idx].set(v)`` / ``.add(v)``.

Values are compared with NumPy's indexing; derivatives with finite differences (check_grads)
and with hand-written closed forms (scatter-adds built with ``np.add.at``).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads

rng = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same random data whichever tests run before it (-k, reordering)."""
    global rng
    rng = np.random.default_rng([7, zlib.crc32(request.node.name.encode())])
X = rng.standard_normal((3, 4))
X3 = rng.standard_normal((2, 3, 4))

INDICES = {
    "int": np.s_[1],
    "negative int": np.s_[-1],
    "int pair": np.s_[-1, 2],
    "slice": np.s_[1:],
    "slices": np.s_[1:, ::2],
    "negative step": np.s_[::-1],
    "negative steps": np.s_[::-1, 3:0:-2],
    "negative bounds": np.s_[-2:, :-1],
    "empty slice": np.s_[2:2],
    "int array": np.s_[[0, 2]],
    "int array with repeats": np.s_[[0, 2, 2, 0, 2]],
    "negative int array": np.s_[[-1, 0]],
    "two int arrays": np.s_[[0, 1, 1], [3, 3, 0]],
    "2d int array": np.s_[np.array([[0, 1], [1, 1]])],
    "int array on axis 1": np.s_[:, [3, 0, 3]],
    "broadcast int arrays": np.s_[np.array([[0], [2]]), np.array([1, 3, 1])],
    "bool mask": "mask",
    "bool row mask": np.s_[np.array([True, False, True])],
    "bool column mask": np.s_[:, np.array([False, True, True, False])],
    "all-false mask": np.s_[np.zeros((3, 4), bool)],
    "ellipsis": np.s_[..., 1],
    "ellipsis first": np.s_[1, ...],
    "none": np.s_[None],
    "nones": np.s_[None, :, None],
    "ellipsis none": np.s_[..., None, ::-1],
    "slice int none": np.s_[1:, None, 2],
    "slice and int array": np.s_[1:, [0, 0, 3]],
    "none and int array": np.s_[None, [2, 0], 1:3],
    "int and int array": np.s_[2, [1, 1, 0]],
    "bool and slice": np.s_[np.array([True, False, True]), 1:],
    "tuple of lists": np.s_[[0, 2], [1, 1]],
    "numpy integer": np.s_[np.int64(2)],
}
INDICES3 = {
    "3d separated int arrays": np.s_[[0, 1], :, [1, 2]],
    "3d ellipsis int array": np.s_[..., [0, 0, 3]],
    "3d ellipsis middle": np.s_[1, ..., 2],
    "3d mask over two axes": "mask2",
    "3d int, none, slice": np.s_[0, None, :, ::-2],
}


def _index(name):
    idx = INDICES.get(name, INDICES3.get(name))
    x = X if name in INDICES else X3
    if isinstance(idx, str):
        idx = x > 0 if idx == "mask" else np.s_[:, x[0] > 0]  # mask2: a (3, 4) mask on axes 1, 2
    return x, idx


ALL = list(INDICES) + list(INDICES3)


@pytest.mark.parametrize("name", ALL)
def test_getitem_value(name):
    x, idx = _index(name)
    ref = x[idx]
    for out in (fg.vjp(lambda a: a[idx], x)[0], fg.jvp(lambda a: a[idx], (x,), (np.ones_like(x),))[0]):
        assert type(out) is np.ndarray and out.shape == ref.shape and out.dtype == ref.dtype
        np.testing.assert_array_equal(out, ref)
    out32 = fg.vjp(lambda a: a[idx], x.astype(np.float32))[0]
    assert out32.dtype == np.float32


@pytest.mark.parametrize("name", ALL)
def test_getitem_grads(name):
    x, idx = _index(name)
    check_grads(lambda a: a[idx], [x], order=2)
    # closed form: the pullback scatter-adds the cotangent (repeated indices accumulate)
    ct = rng.standard_normal(np.shape(x[idx]))
    expected = np.zeros_like(x)
    np.add.at(expected, idx, ct)
    (g,) = fg.vjp(lambda a: a[idx], x)[1](ct)
    assert type(g) is np.ndarray and g.shape == x.shape
    np.testing.assert_allclose(g, expected)


def test_repeated_integer_indices_accumulate():
    x = np.array([1.0, 2.0, 3.0])
    g = fg.grad(lambda a: fnp.sum(a[[0, 0, 2, 0]] * np.array([1.0, 2.0, 3.0, 4.0])))(x)
    np.testing.assert_array_equal(g, [7.0, 0.0, 3.0])
    g = fg.grad(lambda a: fnp.sum(a[np.array([[1, 1], [1, 2]])] ** 2))(x)
    np.testing.assert_array_equal(g, [0.0, 3 * 2 * 2.0, 2 * 3.0])


def test_indexing_python_loops_and_iteration():
    x = rng.standard_normal(4)
    check_grads(lambda a: fnp.stack([a[i] * a[-1 - i] for i in range(len(a))]), [x], order=2)
    check_grads(lambda a: fnp.stack(list(a)), [x], order=2)
    g = fg.grad(lambda a: sum(v * v for v in a))(x)
    np.testing.assert_allclose(g, 2 * x)


def test_empty_list_index():
    x = np.arange(4.0)
    out, pullback = fg.vjp(lambda a: a[[]], x)
    np.testing.assert_array_equal(out, x[[]])
    np.testing.assert_array_equal(pullback(np.zeros(0))[0], np.zeros(4))


def test_indexing_errors():
    x = np.arange(4.0)
    with pytest.raises(fg.IndexingError, match="integer"):
        fg.vjp(lambda a: a[a[0]], x)  # a traced float used as an index
    with pytest.raises(fg.IndexingError, match="astype"):
        fg.vjp(lambda a: a[np.array([0.0, 1.0])], x)
    with pytest.raises(IndexError):
        fg.vjp(lambda a: a[4], x)
    with pytest.raises(IndexError):
        fg.vjp(lambda a: a[0, 0], x)
    # an integer index computed from a traced value's concrete argmax is fine
    assert fg.grad(lambda a: a[fnp.argmax(a)])(x)[3] == 1.0


# --- x.at[idx].set(v) / .add(v) -----------------------------------------------------------------------

UPDATES = {
    "int": (np.s_[1], ()),
    "int row to vector": (np.s_[1], (4,)),
    "slice broadcast": (np.s_[1:, ::-2], (2,)),
    "negative step": (np.s_[::-1, 0], (3,)),
    "int array": (np.s_[[0, 2]], (2, 4)),
    "int arrays": (np.s_[1, [0, 2]], (2,)),
    "mask": ("mask", ()),
    "ellipsis": (np.s_[..., 1], (3,)),
    "none": (np.s_[None, 0], (1, 4)),
    "everything": (np.s_[...], (3, 4)),
}


def _update_args(name):
    idx, vshape = UPDATES[name]
    if isinstance(idx, str):
        idx = X > 0
    return idx, rng.standard_normal(vshape)


def _ref_update(x, idx, v, how):
    out = x.copy()
    if how == "set":
        out[idx] = v
    else:
        np.add.at(out, idx, v)
    return out


@pytest.mark.parametrize("how", ["set", "add"])
@pytest.mark.parametrize("name", list(UPDATES))
def test_at_update(name, how):
    idx, v = _update_args(name)
    ref = _ref_update(X, idx, v, how)

    def f(a, b):
        return getattr(a.at[idx], how)(b)

    x_before = X.copy()
    for out in (fg.vjp(f, X, v)[0], fg.jvp(f, (X, v), (X, v))[0], getattr(fnp.at(X)[idx], how)(v)):
        assert type(out) is np.ndarray and out.dtype == np.float64
        np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(X, x_before)  # functional: the input is never written

    # derivatives w.r.t. both x and v (funcgrad.numpy.at works on plain arrays, so check_grads can use it)
    check_grads(lambda a, b: getattr(fnp.at(a)[idx], how)(b), [X, v], order=2)
    # closed forms: x's cotangent is ct (zeroed where overwritten, for set); v's is ct[idx] summed to v's shape
    ct = rng.standard_normal(X.shape)
    gx, gv = fg.vjp(f, X, v)[1](ct)
    overwritten = _ref_update(np.zeros_like(X), idx, 1.0, "set") > 0
    np.testing.assert_allclose(gx, np.where(overwritten, 0.0, ct) if how == "set" else ct)
    np.testing.assert_allclose(gv, _sum_to(ct[idx], v.shape))


def _sum_to(g, shape):
    """Undo NumPy broadcasting of an array of ``shape`` to ``g.shape`` by summing."""
    g = np.sum(g, axis=tuple(range(g.ndim - len(shape))))
    return np.sum(g, axis=tuple(d for d, s in enumerate(shape) if s == 1), keepdims=True).reshape(shape)


def test_at_add_with_repeated_indices_accumulates():
    x = np.zeros(3)
    out = fnp.at(x)[[0, 0, 2]].add(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [3.0, 0.0, 3.0])
    gx, gv = fg.vjp(lambda a, b: a.at[[0, 0, 2]].add(b), x, np.ones(3))[1](np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(gx, [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(gv, [10.0, 10.0, 30.0])
    check_grads(lambda a, b: fnp.at(a)[[0, 0, 2]].add(b * b), [x + 1.0, np.array([1.0, 2.0, 3.0])], order=2)


def test_at_with_only_one_traced_operand_and_dtypes():
    v = rng.standard_normal(4)
    check_grads(lambda b: fnp.at(X)[0].set(b), [v], order=2)  # x is a constant
    check_grads(lambda a: fnp.at(a)[0].set(v), [X], order=2)  # v is a constant
    check_grads(lambda a: fnp.at(a)[0].add(2.0), [X], order=2)
    x32 = X.astype(np.float32)
    out, pullback = fg.vjp(lambda a, b: a.at[0].set(b), x32, v)
    assert out.dtype == np.float32  # NumPy casts v to x's dtype on assignment
    gx, gv = pullback(np.ones((3, 4), np.float32))
    assert gx.dtype == np.float32 and gv.dtype == np.float64
    np.testing.assert_array_equal(gv, np.ones(4))
    assert np.asarray(fg.vjp(lambda a: a.at[1:].get(), X)[0]).shape == (2, 4)
    check_grads(lambda a: fnp.at(a)[1:, ::-1].get(), [X], order=2)


def test_at_inside_a_loop():
    def cumulative(x):
        out = fnp.zeros_like(x)
        total = 0.0
        for i in range(x.shape[0]):
            total = total + x[i]
            out = fnp.at(out)[i].set(total)  # out starts as a plain array: fnp.at, not .at
        return out

    x = rng.standard_normal(5)
    np.testing.assert_allclose(fg.vjp(cumulative, x)[0], np.cumsum(x))
    check_grads(cumulative, [x], order=2)
    ct = rng.standard_normal(5)
    np.testing.assert_allclose(fg.vjp(cumulative, x)[1](ct)[0], np.cumsum(ct[::-1])[::-1])


@pytest.mark.parametrize("idx", [0, np.s_[1:], np.s_[[0, 1]], np.s_[...]], ids=str)
def test_setitem_on_tracer_raises(idx):
    def f(a):
        a[idx] = 1.0
        return a

    for transform in (lambda: fg.vjp(f, X), lambda: fg.grad(lambda a: fnp.sum(f(a)))(X),
                      lambda: fg.jvp(f, (X,), (X,))):
        with pytest.raises(fg.TracerAssignmentError, match=r"\.at\[") as info:
            transform()
        assert isinstance(info.value, TypeError)
        assert ".set(" in str(info.value)
