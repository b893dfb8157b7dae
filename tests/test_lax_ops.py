"""funcgrad.lax array operations (issue 9 §2): the composition table.

Each row is one use of a ``funcgrad.lax`` operation with its operands and a reference written
by hand in NumPy (loops for convolutions and windows). Every row is checked for its value, for
jvp and vjp against central finite differences to second order (in its float operands), for
``vmap`` against a Python loop and for ``jit`` against the eager result.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sp_special

import funcgrad as fg
from funcgrad import lax
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(0)


def normal(*shape):
    return RNG.standard_normal(shape)


def distinct(*shape):  # no ties (max/min/sort derivatives are then unique)
    n = math.prod(shape)
    return ((RNG.permutation(n) - n / 2) * 0.3 + RNG.uniform(-0.05, 0.05, n)).reshape(shape)


# --- hand-written references ----------------------------------------------------------------------


def pad_dilate(x, pads, dil, fill=0.0):
    shape = tuple(0 if n == 0 else (n - 1) * b + 1 for n, b in zip(x.shape, dil))
    y = np.full(shape, fill, x.dtype)
    y[tuple(slice(None, None, b) for b in dil)] = x
    for d, (lo, hi) in enumerate(pads):
        y = np.moveaxis(y, d, 0)
        y = y[max(-lo, 0):y.shape[0] - max(-hi, 0)]
        y = np.concatenate([np.full((max(lo, 0),) + y.shape[1:], fill), y, np.full((max(hi, 0),) + y.shape[1:], fill)])
        y = np.moveaxis(y, 0, d)
    return y


def naive_conv(x, k, strides, pads, ldil, rdil, groups=1):
    """NC(spatial) input, OI(spatial) kernel: a loop over outputs and taps (cross-correlation)."""
    N, C = x.shape[:2]
    O, I = k.shape[:2]
    xp = np.stack([np.stack([pad_dilate(x[n, c], pads, ldil) for c in range(C)]) for n in range(N)])
    ksp = k.shape[2:]
    eff = [(w - 1) * d + 1 for w, d in zip(ksp, rdil)]
    out_sp = [(p - e) // s + 1 for p, e, s in zip(xp.shape[2:], eff, strides)]
    out = np.zeros((N, O) + tuple(out_sp))
    for n in range(N):
        for o in range(O):
            g = o // (O // groups)
            for pos in np.ndindex(*out_sp):
                acc = 0.0
                for i in range(I):
                    for tap in np.ndindex(*ksp):
                        src = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, rdil))
                        acc += xp[(n, g * I + i) + src] * k[(o, i) + tap]
                out[(n, o) + pos] = acc
    return out


def naive_reduce_window(x, op, init, window, strides, pads):
    identity = {np.add: 0.0, np.maximum: -np.inf}[op]
    xp = pad_dilate(x, pads, (1,) * x.ndim, identity)
    out_shape = [(p - w) // s + 1 for p, w, s in zip(xp.shape, window, strides)]
    out = np.zeros(out_shape)
    for pos in np.ndindex(*out_shape):
        block = xp[tuple(slice(p * s, p * s + w) for p, s, w in zip(pos, strides, window))]
        out[pos] = op(op.reduce(block, axis=None), init)
    return out


def np_pad(x, value, config):
    out = x
    for d, (lo, hi, interior) in enumerate(config):
        out = np.moveaxis(out, d, 0)
        n = out.shape[0]
        inner = np.full(((n - 1) * (interior + 1) + 1 if n else 0,) + out.shape[1:], value)
        inner[::interior + 1] = out
        inner = np.concatenate([np.full((max(lo, 0),) + out.shape[1:], value), inner,
                                np.full((max(hi, 0),) + out.shape[1:], value)])
        inner = inner[max(-lo, 0):inner.shape[0] - max(-hi, 0)]
        out = np.moveaxis(inner, 0, d)
    return out


GDN, SDN = lax.GatherDimensionNumbers, lax.ScatterDimensionNumbers
ROWS_IDX = np.array([[2], [0], [3], [0]])
PAIRS = np.array([[1, 2], [3, 0], [0, 1]])


def np_scatter_add(x, rows, u):
    out = x.copy()
    np.add.at(out, rows, u)
    return out


# (name, function, operands, NumPy reference)
ROWS = [
    ("dot_general", lambda a, b: lax.dot_general(a, b, (((2, 0), (1, 3)), ((1,), (0,))),
                                                 precision=lax.Precision.HIGHEST),
     (normal(3, 2, 4, 5), normal(2, 4, 6, 3)), lambda a, b: np.einsum("cbkf,bkgc->bfg", a, b)),
    ("dot_general_matmul", lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))), (normal(3, 4), normal(4, 2)),
     lambda a, b: a @ b),
    ("dot", lax.dot, (normal(3, 4), normal(4)), lambda a, b: a @ b),
    ("batch_matmul", lax.batch_matmul, (normal(2, 3, 4), normal(2, 4, 2)), lambda a, b: a @ b),
    ("conv_nchw_same", lambda x, k: lax.conv(x, k, (1, 2), "SAME"), (normal(2, 3, 5, 6), normal(4, 3, 3, 2)),
     lambda x, k: naive_conv(x, k, (1, 2), [(1, 1), (0, 1)], (1, 1), (1, 1))),
    ("conv_general_nhwc_dilated", lambda x, k: lax.conv_general_dilated(
        x, k, (2, 1), ((1, 2), (0, -1)), lhs_dilation=(1, 2), rhs_dilation=(2, 1),
        dimension_numbers=("NHWC", "HWIO", "NHWC")),
     (normal(2, 5, 4, 2), normal(2, 3, 2, 3)),
     lambda x, k: np.transpose(naive_conv(np.transpose(x, (0, 3, 1, 2)), np.transpose(k, (3, 2, 0, 1)), (2, 1),
                                          [(1, 2), (0, -1)], (1, 2), (2, 1)), (0, 2, 3, 1))),
    ("conv_feature_groups", lambda x, k: lax.conv_general_dilated(x, k, (1,), "VALID", feature_group_count=2),
     (normal(2, 4, 6), normal(6, 2, 3)), lambda x, k: naive_conv(x, k, (1,), [(0, 0)], (1,), (1,), groups=2)),
    ("conv_with_general_padding", lambda x, k: lax.conv_with_general_padding(x, k, (1,), [(2, 0)], (2,), (1,)),
     (normal(1, 2, 4), normal(3, 2, 2)), lambda x, k: naive_conv(x, k, (1,), [(2, 0)], (2,), (1,))),
    ("conv_transpose_same", lambda x, k: lax.conv_transpose(x, k, (2,), "SAME"), (normal(2, 4, 2), normal(3, 2, 3)),
     lambda x, k: np.transpose(naive_conv(np.transpose(x, (0, 2, 1)), np.transpose(k, (2, 1, 0)), (1,), [(2, 1)],
                                          (2,), (1,)), (0, 2, 1))),
    ("reduce_window_max", lambda x: lax.reduce_window(x, -np.inf, lax.max, (2, 3), (2, 1), "SAME"), (distinct(5, 6),),
     lambda x: naive_reduce_window(x, np.maximum, -np.inf, (2, 3), (2, 1), [(0, 1), (1, 1)])),
    ("reduce_window_avg", lambda x: lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), ((1, 0), (0, 1))) / 4.0,
     (normal(3, 4),), lambda x: naive_reduce_window(x, np.add, 0.0, (2, 2), (1, 1), [(1, 0), (0, 1)]) / 4.0),
    ("reduce_window_init", lambda x: lax.reduce_window(x, 1.5, lax.add, (3,), (2,), "SAME"), (normal(6),),
     lambda x: naive_reduce_window(x, np.add, 1.5, (3,), (2,), [(0, 1)])),
    ("reduce_window_generic", lambda x: lax.reduce_window(x, 0.0, lambda a, b: a * 0.5 + b * b, (2,), (1,), "SAME"),
     (normal(5),), lambda x: np.array([(0.0 * 0.5 + x[i] ** 2) * 0.5 + (x[i + 1] ** 2 if i + 1 < 5 else 0.0)
                                       if i + 1 < 5 else x[i] ** 2 for i in range(5)])),
    ("reduce", lambda x: lax.reduce(x, 0.0, lax.add, (0, 2)), (normal(2, 3, 4),), lambda x: x.sum(axis=(0, 2))),
    ("reduce_max", lambda x: lax.reduce_max(x, (1,)), (distinct(3, 4),), lambda x: x.max(axis=1)),
    ("reduce_sum_prod_min", lambda x: lax.reduce_sum(x, (0,)) + lax.reduce_prod(x, (0,)) + lax.reduce_min(x, (0,)),
     (distinct(3, 4),), lambda x: x.sum(0) + x.prod(0) + x.min(0)),
    ("dynamic_slice", lambda x: lax.dynamic_slice(x, (np.int64(-2), 1), (2, 3)), (normal(4, 5),),
     lambda x: x[2:4, 1:4]),
    ("dynamic_slice_clamped", lambda x: lax.dynamic_slice(x, np.array([3, 4]), (2, 3)), (normal(4, 5),),
     lambda x: x[2:4, 2:5]),
    ("dynamic_update_slice", lambda x, u: lax.dynamic_update_slice(x, u, (1, 4)), (normal(4, 5), normal(2, 2)),
     lambda x, u: np.concatenate([x[:, :3], np.concatenate([x[:1, 3:], u, x[3:, 3:]])], axis=1)),
    ("dynamic_slice_in_dim", lambda x: lax.dynamic_slice_in_dim(x, 1, 2, axis=1), (normal(3, 4),), lambda x: x[:, 1:3]),
    ("dynamic_index_in_dim", lambda x: lax.dynamic_index_in_dim(x, 2, axis=0, keepdims=False), (normal(3, 4),),
     lambda x: x[2]),
    ("dynamic_update_index_in_dim", lambda x, u: lax.dynamic_update_index_in_dim(x, u, 1, 1), (normal(3, 4), normal(3)),
     lambda x, u: np.concatenate([x[:, :1], u[:, None], x[:, 2:]], axis=1)),
    ("slice", lambda x: lax.slice(x, (0, 1), (3, 4), (2, 2)), (normal(3, 4),), lambda x: x[0:3:2, 1:4:2]),
    ("slice_in_dim", lambda x: lax.slice_in_dim(x, 1, None, axis=1) + lax.index_in_dim(x, 0, 1), (normal(3, 4),),
     lambda x: x[:, 1:] + x[:, :1]),
    ("pad_interior_negative", lambda x, v: lax.pad(x, v, [(1, -1, 1), (-1, 2, 0)]), (normal(3, 4), normal()),
     lambda x, v: np_pad(x, v, [(1, -1, 1), (-1, 2, 0)])),
    ("pad_constant", lambda x: lax.pad(x, 0.5, [(1, 2, 0), (0, 1, 0)]), (normal(2, 3),),
     lambda x: np_pad(x, 0.5, [(1, 2, 0), (0, 1, 0)])),
    ("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (0, 2)), (normal(2, 1),),
     lambda x: np.broadcast_to(x[:, None, :], (2, 3, 4))),
    ("gather_rows", lambda x: lax.gather(x, ROWS_IDX, GDN((1,), (0,), (0,)), (1, 4)), (normal(4, 4),),
     lambda x: x[ROWS_IDX[:, 0]]),
    ("gather_points_fill", lambda x: lax.gather(x, np.array([[1, 2], [3, 9]]), GDN((), (0, 1), (0, 1)), (1, 1),
                                                mode="fill", fill_value=-1.0), (normal(4, 3),),
     lambda x: np.array([x[1, 2], -1.0])),
    ("gather_windows", lambda x: lax.gather(x, PAIRS, GDN((1, 2), (), (0, 1)), (2, 2)), (normal(4, 3),),
     lambda x: np.stack([x[min(i, 2):min(i, 2) + 2, min(j, 1):min(j, 1) + 2] for i, j in PAIRS])),
    ("scatter_add", lambda x, u: lax.scatter_add(x, ROWS_IDX, u, SDN((1,), (0,), (0,))), (normal(4, 3), normal(4, 3)),
     lambda x, u: np_scatter_add(x, ROWS_IDX[:, 0], u)),
    ("scatter_drop", lambda x, u: lax.scatter(x, np.array([[2], [7]]), u, SDN((1,), (0,), (0,))),
     (normal(4, 3), normal(2, 3)), lambda x, u: np.concatenate([x[:2], u[:1], x[3:]])),
    ("sort", lambda x: lax.sort(x, dimension=0), (distinct(4, 3),), lambda x: np.sort(x, axis=0)),
    ("sort_key_val", lambda k, v: lax.sort_key_val(k, v)[1], (distinct(3, 4), normal(3, 4)),
     lambda k, v: np.take_along_axis(v, np.argsort(k, axis=-1), -1)),
    ("top_k", lambda x: lax.top_k(x, 2)[0], (distinct(3, 5),), lambda x: -np.sort(-x, axis=-1)[:, :2]),
    ("cumsum_reverse", lambda x: lax.cumsum(x, axis=1, reverse=True), (normal(3, 4),),
     lambda x: np.cumsum(x[:, ::-1], axis=1)[:, ::-1]),
    ("cumprod", lambda x: lax.cumprod(x, axis=0), (normal(3, 4),), lambda x: np.cumprod(x, axis=0)),
    ("cummax", lambda x: lax.cummax(x, axis=1), (distinct(3, 5),), lambda x: np.maximum.accumulate(x, axis=1)),
    ("cummin_reverse", lambda x: lax.cummin(x, reverse=True), (distinct(6),),
     lambda x: np.minimum.accumulate(x[::-1])[::-1]),
    ("cumlogsumexp", lambda x: lax.cumlogsumexp(x, axis=1), (normal(2, 5),),
     lambda x: np.logaddexp.accumulate(x, axis=1)),
    ("select_n", lambda a, b, c: lax.select_n(np.array([0, 2, 1, 2]), a, b, c), (normal(4), normal(4), normal(4)),
     lambda a, b, c: np.choose(np.array([0, 2, 1, 2]), [a, b, c])),
    ("clamp", lambda lo, x: lax.clamp(lo, x, 0.5), (RNG.uniform(-1.5, -1.0, 4), np.array([-2.5, -0.3, 0.2, 0.9])),
     lambda lo, x: np.minimum(np.maximum(x, lo), 0.5)),
    ("erf_inv", lax.erf_inv, (RNG.uniform(-0.8, 0.8, 4),), sp_special.erfinv),
    ("rsqrt", lax.rsqrt, (RNG.uniform(0.5, 2.0, 4),), lambda x: 1 / np.sqrt(x)),
    ("integer_pow", lambda x: lax.integer_pow(x, 3) + lax.integer_pow(x, -2), (RNG.uniform(0.5, 2.0, 4),),
     lambda x: x ** 3 + x ** -2.0),
    ("convert_element_type", lambda x: lax.convert_element_type(x, np.float32), (normal(3),),
     lambda x: x.astype(np.float32)),
]
IDS = [r[0] for r in ROWS]


def _float_argnums(args):
    return tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f")


@pytest.mark.parametrize("name,f,args,ref", ROWS, ids=IDS)
def test_value_matches_reference(name, f, args, ref):
    got, want = f(*args), ref(*args)
    assert isinstance(got, np.ndarray) and got.shape == np.shape(want), (got.shape, np.shape(want))
    tol = 1e-6 if got.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,f,args,ref", [r for r in ROWS if r[0] != "convert_element_type"],
                         ids=[i for i in IDS if i != "convert_element_type"])
def test_derivatives_match_finite_differences(name, f, args, ref):
    check_grads(f, args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name,f,args,ref", ROWS, ids=IDS)
def test_vmap_matches_a_loop(name, f, args, ref):
    batch = [np.stack([a, a * 0.5 + 0.1]) for a in args]
    want = np.stack([f(*[b[i] for b in batch]) for i in range(2)])
    np.testing.assert_allclose(fg.vmap(f)(*batch), want, rtol=1e-12, atol=1e-12)
    if len(args) > 1:  # one operand batched, the others not
        got = fg.vmap(f, in_axes=(0,) + (None,) * (len(args) - 1))(batch[0], *args[1:])
        np.testing.assert_allclose(got, np.stack([f(batch[0][i], *args[1:]) for i in range(2)]), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("name,f,args,ref", ROWS, ids=IDS)
def test_jit_matches_eager(name, f, args, ref):
    np.testing.assert_allclose(fg.jit(f)(*args), f(*args), rtol=1e-12, atol=1e-12)
    if name != "convert_element_type":
        loss = lambda *a: fg.numpy.sum(f(*a) ** 2)  # noqa: E731
        np.testing.assert_allclose(fg.jit(fg.grad(loss))(*args), fg.grad(loss)(*args), rtol=1e-10, atol=1e-12)


# --- traced indices, errors, laziness ---------------------------------------------------------------


def test_dynamic_slice_with_traced_and_batched_starts():
    x = normal(6, 5)
    f = lambda x, i: lax.dynamic_slice(x, (i, i - 1), (3, 2))  # noqa: E731
    for i in (0, 2, 4, 9, -1):
        want = f(x, np.int64(i))
        np.testing.assert_array_equal(fg.jit(f)(x, np.int64(i)), want)
    starts = np.array([0, 2, 5, -1])
    np.testing.assert_array_equal(fg.vmap(f, in_axes=(None, 0))(x, starts), np.stack([f(x, s) for s in starts]))
    # Derivative with respect to the operand under jit, with a traced start.
    g = fg.jit(fg.grad(lambda x, i: fg.numpy.sum(f(x, i) ** 2)))(x, np.int64(2))
    want = np.zeros_like(x)
    want[2:5, 1:3] = 2 * x[2:5, 1:3]
    np.testing.assert_allclose(g, want)
    u = normal(2, 2)
    h = lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 0))  # noqa: E731
    np.testing.assert_array_equal(fg.vmap(h, in_axes=(None, None, 0))(x, u, starts),
                                  np.stack([h(x, u, s) for s in starts]))
    check_grads(lambda x, u: fg.jit(h)(x, u, np.int64(3)), (x, u), order=2)


def test_gather_under_vmap_with_batched_indices():
    x = normal(5, 3)
    f = lambda x, idx: lax.gather(x, idx, GDN((1,), (0,), (0,)), (1, 3))  # noqa: E731
    idx = np.array([[[1], [4]], [[0], [0]], [[3], [2]]])
    np.testing.assert_array_equal(fg.vmap(f, in_axes=(None, 0))(x, idx), np.stack([x[i[:, 0]] for i in idx]))
    np.testing.assert_array_equal(fg.jit(f)(x, idx[0]), x[[1, 4]])


def test_precision_and_preferred_element_type():
    a, b = normal(2, 3), normal(3, 2)
    out = lax.dot_general(a, b, (((1,), (0,)), ((), ())), precision=(lax.Precision.HIGH, lax.Precision.DEFAULT),
                          preferred_element_type=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, a @ b, rtol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda: lax.dot_general(normal(2, 3), normal(4, 2), (((1,), (0,)), ((), ()))), TypeError, "same size"),
    (lambda: lax.conv_general_dilated(normal(1, 2, 4), normal(1, 2, 2), (1,), "VALID",
                                      dimension_numbers=("NCX", "OIY", "NCX")), TypeError, "spatial"),
    (lambda: lax.conv_general_dilated(normal(1, 3, 4), normal(2, 2, 2), (1,), "VALID"), TypeError, "features"),
    (lambda: lax.conv(normal(1, 1, 4), normal(1, 1, 2), (1,), "FULL"), ValueError, "SAME"),
    (lambda: lax.slice(normal(3), (1,), (5,)), ValueError, "limit"),
    (lambda: lax.integer_pow(normal(3), 2.0), TypeError, "Python int"),
    (lambda: lax.dynamic_slice(normal(3, 3), (1,), (2, 2)), TypeError, "one per"),
    (lambda: lax.dynamic_slice(normal(3), (1.0,), (2,)), TypeError, "integers"),
    (lambda: lax.pad(normal(3), 0.0, [(0, 0, -1)]), ValueError, "interior"),
    (lambda: lax.broadcast_in_dim(normal(3), (2, 4), (1,)), TypeError, "broadcast"),
    (lambda: lax.gather(normal(3), np.array([[0.5]]), GDN((), (0,), (0,)), (1,)), TypeError, "integers"),
    (lambda: lax.top_k(normal(3), 4), ValueError, "k must"),
    (lambda: lax.select_n(np.array([True]), normal(1), normal(1), normal(1)), TypeError, "at most 2"),
    (lambda: fg.grad(lambda v: lax.reduce_window(normal(4), v, lax.add, (2,)))(1.0), TypeError, "concrete"),
])
def test_misuse_raises_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_lax_array_operations_load_lazily():
    import subprocess
    import sys

    code = ("import sys, funcgrad; assert 'funcgrad._lax.arrays' not in sys.modules; "
            "from funcgrad import lax; lax.dot_general; assert 'funcgrad._lax.arrays' in sys.modules; "
            "assert 'conv_general_dilated' in dir(lax) and 'cond' in dir(lax)")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'not_an_op'"):
        lax.not_an_op  # noqa: B018


# --- the remaining names, 0-d / empty / float32 operands ----------------------------------------------


def test_scatter_combiners_against_numpy_ufunc_at():
    x, idx, u = normal(4, 3), np.array([[1], [3], [1]]), normal(3, 3)
    dn = SDN((1,), (0,), (0,))
    for fn, ufunc in ((lax.scatter_mul, np.multiply), (lax.scatter_min, np.minimum), (lax.scatter_max, np.maximum),
                      (lax.scatter_add, np.add)):
        want = x.copy()
        ufunc.at(want, idx[:, 0], u)
        np.testing.assert_allclose(fn(x, idx, u, dn), want)
    check_grads(lambda x, u: lax.scatter_mul(x, np.array([[0], [2]]), u, dn), (x, normal(2, 3)), order=2)


def test_small_names_against_numpy():
    x = normal(2, 3)
    np.testing.assert_array_equal(lax.iota(np.int32, 4), np.arange(4, dtype=np.int32))
    np.testing.assert_array_equal(lax.broadcasted_iota(np.float32, (2, 3), 1), np.tile(np.arange(3.0), (2, 1)))
    np.testing.assert_array_equal(lax.broadcast(x, (4,)), np.broadcast_to(x, (4, 2, 3)))
    np.testing.assert_array_equal(lax.expand_dims(x, (0, 3)), x[None, :, :, None])
    np.testing.assert_array_equal(lax.squeeze(x[:, None], (1,)), x)
    np.testing.assert_array_equal(lax.reshape(x, (3, 2), dimensions=(1, 0)), x.T.reshape(3, 2))
    np.testing.assert_array_equal(lax.transpose(x, (1, 0)), x.T)
    np.testing.assert_array_equal(lax.rev(x, (0, 1)), x[::-1, ::-1])
    np.testing.assert_array_equal(lax.concatenate([x, x], 1), np.concatenate([x, x], 1))
    np.testing.assert_array_equal(lax.full((2,), 3.0), [3.0, 3.0])
    assert lax.full_like(np.ones(2, np.float32), 1).dtype == np.float32
    np.testing.assert_array_equal(lax.select(x > 0, x, -x), np.abs(x))
    np.testing.assert_allclose(lax.logistic(x), 1 / (1 + np.exp(-x)))
    b = x > 0
    np.testing.assert_array_equal(lax.reduce_and(b, (1,)), b.all(1))
    np.testing.assert_array_equal(lax.reduce_or(b, (1,)), b.any(1))
    np.testing.assert_array_equal(lax.reduce_xor(b, (1,)), b.sum(1) % 2 == 1)
    assert lax.argmax(x, 1, np.int32).dtype == np.int32
    np.testing.assert_array_equal(lax.argmin(x, 0, np.int64), x.argmin(0))
    np.testing.assert_array_equal(lax.reduce(np.array([2, 3, 4]), 1, lax.mul, (0,)), 24)
    np.testing.assert_array_equal(lax.reduce(np.zeros((0, 2)), -np.inf, lax.max, (0,)), [-np.inf, -np.inf])
    # Variadic reduce (an argmax written as a reduction over (value, index) pairs).
    vals, idx = lax.reduce((x, lax.broadcasted_iota(np.int64, x.shape, 1)), (-np.inf, 0),
                           lambda a, b: (fg.numpy.where(a[0] >= b[0], a[0], b[0]),
                                         fg.numpy.where(a[0] >= b[0], a[1], b[1])), (1,))
    np.testing.assert_array_equal(idx, x.argmax(1))
    g = fg.grad(lambda x: fg.numpy.sum(lax.stop_gradient(x) * x))(x)
    np.testing.assert_array_equal(g, x)


@pytest.mark.parametrize("name,f,args", [
    ("conv_empty_batch", lambda x, k: lax.conv(x, k, (1,), "SAME"), (np.zeros((0, 2, 5)), normal(3, 2, 2))),
    ("reduce_window_empty", lambda x: lax.reduce_window(x, 0.0, lax.add, (2, 1), (1, 1), "VALID"), (np.zeros((0, 3)),)),
    ("pad_0d", lambda x: lax.pad(x, 1.0, []), (normal(),)),
    ("pad_empty", lambda x: lax.pad(x, 0.5, [(1, 1, 1)]), (np.zeros(0),)),
    ("dynamic_slice_0d", lambda x: lax.dynamic_slice(x, (), ()), (normal(),)),
    ("dynamic_slice_empty", lambda x: lax.dynamic_slice(x, (1, 0), (2, 0)), (np.zeros((3, 0)),)),
    ("gather_no_indices", lambda x: lax.gather(x, np.zeros((0, 1), int), GDN((1,), (0,), (0,)), (1, 3)),
     (normal(4, 3),)),
    ("cumlogsumexp_empty", lambda x: lax.cumlogsumexp(x, axis=1), (np.zeros((2, 0)),)),
    ("dot_general_empty_contraction", lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))),
     (np.zeros((2, 0)), np.zeros((0, 3)))),
    ("sort_empty", lambda x: lax.sort(x), (np.zeros((2, 0)),)),
    ("clamp_0d", lambda x: lax.clamp(-1.0, x, 1.0), (np.array(0.3),)),
])
def test_zero_dimensional_and_empty_operands(name, f, args):
    out = f(*args)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(fg.jit(f)(*args), out)
    check_grads(f, args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name,f,args,ref", [r for r in ROWS if r[0] not in ("convert_element_type", "erf_inv")],
                         ids=[i for i in IDS if i not in ("convert_element_type", "erf_inv")])
def test_float32_stays_float32(name, f, args, ref):
    args32 = [a.astype(np.float32) if np.asarray(a).dtype == np.float64 else a for a in args]
    out = f(*args32)
    assert out.dtype == np.float32, out.dtype
    g = fg.grad(lambda *a: fg.numpy.sum(f(*a)))(*args32)
    assert g.dtype == np.float32


def test_scatter_and_fill_gather_with_batched_indices():
    x = normal(3, 6, 5)
    idx = np.array([[[1], [2]], [[0], [7]], [[3], [3]]])  # 7 is out of bounds: dropped / filled
    updates = normal(3, 2, 5)
    sdn, gdn = SDN((1,), (0,), (0,)), GDN((1,), (0,), (0,))
    for scatter in (lax.scatter, lax.scatter_add):
        f = lambda x, i, u: scatter(x, i, u, sdn)  # noqa: E731
        want = np.stack([f(x[k], idx[k], updates[k]) for k in range(3)])
        np.testing.assert_allclose(fg.vmap(f)(x, idx, updates), want)
        np.testing.assert_allclose(fg.jit(fg.vmap(f))(x, idx, updates), want)
    g = lambda x, i: lax.gather(x, i, gdn, (1, 5), mode="fill")  # noqa: E731
    want = np.stack([g(x[k], idx[k]) for k in range(3)])
    assert np.isnan(want[1, 1]).all()
    np.testing.assert_allclose(fg.vmap(g)(x, idx), want)


def test_elementwise_names_match_numpy_and_scipy():
    x, y = RNG.uniform(0.2, 0.9, 4), RNG.uniform(1.1, 2.0, 4)
    i, j = np.array([5, -6, 7, 12]), np.array([3, 4, -2, 1])
    pairs = [(lax.log1p(x), np.log1p(x)), (lax.expm1(x), np.expm1(x)), (lax.tan(x), np.tan(x)),
             (lax.asin(x), np.arcsin(x)), (lax.acos(x), np.arccos(x)), (lax.atan(x), np.arctan(x)),
             (lax.atan2(x, y), np.arctan2(x, y)), (lax.sinh(x), np.sinh(x)), (lax.cosh(x), np.cosh(x)),
             (lax.asinh(x), np.arcsinh(x)), (lax.acosh(y), np.arccosh(y)), (lax.atanh(x), np.arctanh(x)),
             (lax.rem(i, j), np.fmod(i, j)), (lax.cbrt(x), np.cbrt(x)), (lax.exp2(x), np.exp2(x)),
             (lax.complex(x, y), x + 1j * y), (lax.conj(x + 1j * y), x - 1j * y), (lax.real(x + 1j * y), x),
             (lax.imag(x + 1j * y), y), (lax.bitwise_and(i, j), i & j), (lax.bitwise_or(i, j), i | j),
             (lax.bitwise_xor(i, j), i ^ j), (lax.bitwise_not(i), ~i), (lax.shift_left(i, 2), i << 2),
             (lax.shift_right_arithmetic(i, 1), i >> 1), (lax.is_finite(np.array([1.0, np.inf])), [True, False]),
             (lax.nextafter(x, y), np.nextafter(x, y)), (lax.erf(x), sp_special.erf(x)),
             (lax.erfc(x), sp_special.erfc(x)), (lax.lgamma(y), sp_special.gammaln(y)),
             (lax.digamma(y), sp_special.digamma(y)), (lax.zeros_like_array(x), np.zeros(4)),
             (lax.collapse(np.ones((2, 3, 4)), 1).shape, (2, 12)),
             (lax.approx_max_k(x, 2)[0], np.sort(x)[::-1][:2]), (lax.approx_min_k(x, 2)[0], np.sort(x)[:2])]
    for got, want in pairs:
        np.testing.assert_allclose(got, want, rtol=1e-12)
    check_grads(lambda x, y: lax.atan2(lax.log1p(x), y) * lax.lgamma(y) + lax.erf(x), (x, y), order=2)
