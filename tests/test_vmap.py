"""vmap (issue 4 §1): every primitive family against a Python loop over the batch, in_axes/out_axes
(ints, negative ints, None, pytree prefixes), axis_size, nesting, pytrees, and the errors.

The reference is always the same function called on one example at a time (plain NumPy values:
the eager path) and stacked with ``np.stack``; derivatives are not involved here.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.integrate as fsp_integrate
import funcgrad.scipy.linalg as fsp_linalg
import funcgrad.scipy.optimize as _fsp_optimize
import funcgrad.scipy.signal as fsp_signal
from funcgrad.core import primitives
from funcgrad.prims import import_all_primitives
from funcgrad.scipy.special import expit, logsumexp
from funcgrad.traces.batching import BatchTrace
from funcgrad.tree_util import tree_flatten, tree_map

B = 3  # batch size used by the table


def _loop(f, samples, axes):
    """f applied per example; ``samples[i]`` holds example i's arguments (unbatched ones: sample 0)."""
    outs = []
    for i in range(B):
        args = [samples[i][k] if ax is not None else samples[0][k] for k, ax in enumerate(axes)]
        outs.append(f(*args))
    return tree_map(lambda *ys: np.stack([np.asarray(y) for y in ys]), *outs)


def _batch_args(samples, axes):
    args = []
    for k, ax in enumerate(axes):
        if ax is None:
            args.append(samples[0][k])
        else:
            args.append(np.stack([np.asarray(s[k]) for s in samples], axis=ax))
    return args


def assert_tree_close(got, want, rtol=1e-10, atol=1e-12):
    g_leaves, g_tree = tree_flatten(got)
    w_leaves, w_tree = tree_flatten(want)
    assert g_tree == w_tree, (g_tree, w_tree)
    for g, w in zip(g_leaves, w_leaves):
        assert isinstance(g, np.ndarray), type(g)
        w = np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if w.dtype.kind in "iub":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# --- per-example argument generators ----------------------------------------------------------


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def unit(*shape):
    return lambda rng: rng.uniform(-0.9, 0.9, shape)


def ints(high, *shape):
    return lambda rng: rng.integers(0, high, shape)


def with_ties(*shape):
    # few distinct values, so max/min/argmax/maximum meet ties
    return lambda rng: rng.integers(-2, 3, shape).astype(float)


def complex_normal(*shape):
    return lambda rng: rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def well_conditioned(n):
    return lambda rng: rng.standard_normal((n, n)) + 3.0 * np.eye(n)


def spd(n):
    def gen(rng):
        m = rng.standard_normal((n, n))
        return m @ m.T + n * np.eye(n)

    return gen


def f32(gen):
    return lambda rng: gen(rng).astype(np.float32)


MASK = np.array([True, False, True, True, False])
IDX = np.array([3, 0, 3, 1])
IDX2 = np.array([[0, 2], [1, 1]])

# (name, function, per-example argument generators)
CASES = [
    # elementwise, one operand
    ("neg", lambda x: -x, [normal(2, 3)]),
    ("sin", fnp.sin, [normal(2, 3)]),
    ("cos", fnp.cos, [normal(4)]),
    ("tan", fnp.tan, [unit(4)]),
    ("exp", fnp.exp, [normal(2, 3)]),
    ("log", fnp.log, [positive(2, 3)]),
    ("log1p", fnp.log1p, [positive(3)]),
    ("expm1", fnp.expm1, [normal(3)]),
    ("log2", fnp.log2, [positive(3)]),
    ("log10", fnp.log10, [positive(3)]),
    ("sqrt", fnp.sqrt, [positive(3)]),
    ("cbrt", fnp.cbrt, [normal(3)]),
    ("arcsin", fnp.arcsin, [unit(3)]),
    ("arccos", fnp.arccos, [unit(3)]),
    ("arctan", fnp.arctan, [normal(3)]),
    ("sinh", fnp.sinh, [normal(3)]),
    ("cosh", fnp.cosh, [normal(3)]),
    ("tanh", fnp.tanh, [normal(2, 3)]),
    ("arcsinh", fnp.arcsinh, [normal(3)]),
    ("arccosh", lambda x: fnp.arccosh(x + 1.0), [positive(3)]),
    ("arctanh", fnp.arctanh, [unit(3)]),
    ("abs", fnp.abs, [with_ties(5)]),
    ("expit", expit, [normal(4)]),
    ("square_reciprocal", lambda x: fnp.square(x) + fnp.reciprocal(x), [positive(3)]),
    ("scalar_example", lambda x: fnp.sin(x) * x, [normal()]),
    ("float32", lambda x: fnp.exp(x) * 2.0, [f32(normal(3))]),
    ("astype", lambda x: fnp.astype(x, np.float32) + 1.0, [normal(3)]),
    ("astype_int", lambda x: (x * 3.0).astype(np.int64), [normal(3)]),
    # elementwise, two operands, broadcasting between batched and unbatched operands
    ("add", lambda x, y: x + y, [normal(2, 3), normal(2, 3)]),
    ("add_bcast_row", lambda x, y: x + y, [normal(2, 3), normal(3)]),
    ("add_bcast_col", lambda x, y: x - y, [normal(3), normal(2, 1)]),
    ("mul_scalar", lambda x, y: x * y, [normal(2, 3), normal()]),
    ("div", lambda x, y: x / y, [normal(2, 3), positive(3)]),
    ("power", lambda x, y: fnp.power(x, y), [positive(3), normal(3)]),
    ("pow_const", lambda x: x ** 3, [normal(2, 2)]),
    ("remainder", lambda x, y: fnp.remainder(x, y), [normal(4), positive(4)]),
    ("floor_divide", lambda x, y: x // y, [normal(4), positive(4)]),
    ("arctan2", fnp.arctan2, [normal(3), normal(3)]),
    ("hypot", fnp.hypot, [normal(2, 3), normal(3)]),
    ("logaddexp", fnp.logaddexp, [normal(3), normal(2, 3)]),
    ("maximum_ties", fnp.maximum, [with_ties(5), with_ties(5)]),
    ("minimum", fnp.minimum, [normal(2, 3), normal(3)]),
    ("fmax", fnp.fmax, [normal(3), normal(3)]),
    ("fmin", fnp.fmin, [normal(3), normal(3)]),
    ("clip", lambda x: fnp.clip(x, -0.5, 0.5), [normal(5)]),
    ("where", lambda c, x, y: fnp.where(c > 0, x, y), [normal(4), normal(4), normal()]),
    ("where_scalar_branch", lambda x: fnp.where(x > 0, x, 0.0), [normal(2, 3)]),
    # no derivative: comparisons, logic, rounding
    ("compare", lambda x, y: [x == y, x != y, x < y, x <= y, x > y, x >= y], [with_ties(5), with_ties(5)]),
    ("logical", lambda x, y: [fnp.logical_and(x > 0, y > 0), fnp.logical_or(x > 0, y > 0),
                              fnp.logical_xor(x > 0, y > 0), fnp.logical_not(x > 0)], [normal(4), normal(4)]),
    ("isnan_isinf", lambda x: [fnp.isnan(fnp.where(x > 0, x, np.nan)), fnp.isinf(fnp.where(x > 0, x, -np.inf)),
                               fnp.isfinite(fnp.where(x > 0.5, x, np.nan))], [normal(5)]),
    ("rounding", lambda x: [fnp.floor(x), fnp.ceil(x), fnp.trunc(x), fnp.round(x, 1), fnp.sign(x)],
     [normal(5)]),
    ("stop_gradient", lambda x: fg.stop_gradient(x) * x, [normal(3)]),
    ("complex_parts", lambda z: [fnp.real(z), fnp.imag(z), fnp.conjugate(z) * z], [complex_normal(2, 3)]),
    # reductions
    ("sum_all", fnp.sum, [normal(2, 3)]),
    ("sum_axis", lambda x: fnp.sum(x, axis=1), [normal(2, 3)]),
    ("sum_neg_axis_keepdims", lambda x: fnp.sum(x, axis=-1, keepdims=True), [normal(2, 3)]),
    ("sum_tuple_axes", lambda x: fnp.sum(x, axis=(0, 2)), [normal(2, 3, 4)]),
    ("sum_all_keepdims", lambda x: x.sum(keepdims=True), [normal(2, 3)]),
    ("mean_var_std", lambda x: [fnp.mean(x, axis=0), fnp.var(x), fnp.std(x, axis=1, keepdims=True)],
     [normal(2, 3)]),
    ("max_min", lambda x: [fnp.max(x), fnp.max(x, axis=0), fnp.min(x, axis=1, keepdims=True)], [with_ties(3, 4)]),
    ("prod", lambda x: [fnp.prod(x), fnp.prod(x, axis=1)], [normal(2, 3)]),
    ("argmax_argmin", lambda x: [fnp.argmax(x), fnp.argmin(x), fnp.argmax(x, axis=1), fnp.argmin(x, axis=0),
                                 fnp.argmax(x, keepdims=True), fnp.argmin(x, axis=-1, keepdims=True)],
     [normal(3, 4)]),
    ("argmax_ties", lambda x: [fnp.argmax(x), fnp.argmax(x, axis=0)], [with_ties(3, 4)]),
    ("argsort_sort", lambda x: [fnp.argsort(x), fnp.argsort(x, axis=0), fnp.argsort(x, axis=None),
                                fnp.sort(x), fnp.sort(x, axis=0), fnp.median(x), fnp.median(x, axis=1),
                                fnp.percentile(x, [25.0, 60.0], axis=0)], [normal(3, 4)]),
    ("argsort_sort_ties", lambda x: [fnp.argsort(x, kind="stable"), fnp.sort(x, axis=0), fnp.median(x, axis=0)],
     [with_ties(3, 4)]),
    ("all_any", lambda x: [fnp.all(x > -1), fnp.any(x > 1, axis=0), fnp.all(x > 0, axis=1, keepdims=True)],
     [normal(3, 4)]),
    ("cumsum", lambda x: [fnp.cumsum(x), fnp.cumsum(x, axis=0), fnp.cumsum(x, axis=-1)], [normal(2, 3)]),
    ("cumprod", lambda x: [fnp.cumprod(x), fnp.cumprod(x, axis=1)], [positive(2, 3)]),
    ("logsumexp", lambda x: [logsumexp(x), logsumexp(x, axis=1)], [normal(2, 3)]),
    # shape
    ("reshape", lambda x: fnp.reshape(x, (3, -1)), [normal(2, 3, 2)]),
    ("ravel", lambda x: x.ravel(), [normal(2, 3)]),
    ("reshape_to_scalar", lambda x: fnp.reshape(x, ()), [normal(1)]),
    ("transpose", lambda x: [x.T, fnp.transpose(x, (1, 2, 0))], [normal(2, 3, 4)]),
    ("swap_move", lambda x: [fnp.swapaxes(x, 0, 2), fnp.moveaxis(x, 0, -1)], [normal(2, 3, 4)]),
    ("expand_squeeze", lambda x: [fnp.expand_dims(x, 1), fnp.squeeze(x), fnp.squeeze(x, axis=0)], [normal(1, 3)]),
    ("broadcast_to", lambda x: fnp.broadcast_to(x, (4, 2, 3)), [normal(2, 1)]),
    ("broadcast_to_rank", lambda x: fnp.broadcast_to(x, (2, 3)), [normal(3)]),
    ("concatenate", lambda x, y: fnp.concatenate([x, y, x], axis=1), [normal(2, 3), normal(2, 1)]),
    ("concatenate_axis0", lambda x, y: fnp.concatenate([x, y]), [normal(2), normal(3)]),
    ("stack", lambda x, y: [fnp.stack([x, y]), fnp.stack([x, y], axis=-1)], [normal(3), normal(3)]),
    ("hstack_vstack", lambda x, y: [fnp.hstack([x, y]), fnp.vstack([x, y])], [normal(2, 3), normal(2, 3)]),
    ("split", lambda x: fnp.split(x, [1, 3], axis=1), [normal(2, 4)]),
    ("flip_tile_repeat", lambda x: [fnp.flip(x), fnp.flip(x, axis=1), fnp.tile(x, (2, 1)), fnp.repeat(x, 2, axis=0)],
     [normal(2, 3)]),
    ("diag_trace", lambda x: [fnp.diag(x), fnp.diagonal(x, 1), fnp.trace(x), fnp.triu(x), fnp.tril(x, -1)],
     [normal(3, 3)]),
    ("diag_of_vector", lambda v: fnp.diag(v), [normal(3)]),
    ("pad", lambda x: [fnp.pad(x, ((1, 0), (2, 1))), fnp.pad(x, 1, constant_values=2.5)], [normal(2, 3)]),
    # indexing: basic
    ("slices", lambda x: [x[1:], x[::-1], x[:, 1], x[1], x[..., 0], x[None], x[:, None, 1:]], [normal(3, 4)]),
    ("int_index_scalar", lambda x: x[2], [normal(4)]),
    # integer arrays and boolean masks (constants), ints + arrays in various positions
    ("int_array", lambda x: x[IDX], [normal(5, 2)]),
    ("int_array_2d", lambda x: x[IDX2], [normal(4)]),
    ("bool_mask", lambda x: x[MASK], [normal(5, 2)]),
    ("bool_mask_2d", lambda x: x[np.eye(3, dtype=bool)], [normal(3, 3)]),
    ("bool_mask_after_slice", lambda x: x[:, MASK], [normal(2, 5)]),
    ("slice_then_array", lambda x: x[:, IDX], [normal(2, 5)]),
    ("int_then_array", lambda x: x[1, IDX], [normal(3, 5)]),
    ("array_slice_array", lambda x: x[IDX, :, IDX], [normal(5, 2, 5)]),
    ("slice_array_array", lambda x: x[:, IDX, IDX], [normal(2, 5, 5)]),
    ("array_int_slice", lambda x: x[IDX, 0, 1:], [normal(5, 2, 3)]),
    ("ellipsis_array", lambda x: x[..., IDX], [normal(2, 3, 5)]),
    ("none_and_array", lambda x: x[None, IDX], [normal(5)]),
    ("slice_none_array", lambda x: x[:, None, IDX], [normal(2, 5)]),
    ("array_none_array", lambda x: x[IDX, None, IDX], [normal(5, 5)]),
    ("int_slice_array", lambda x: x[1, :, IDX], [normal(3, 2, 5)]),
    ("mask_and_int", lambda x: x[MASK, 1], [normal(5, 3)]),
    ("negative_steps_and_ints", lambda x: x[-1, ::-2], [normal(3, 5)]),
    # batched integer index arrays (per-example labels)
    # (a plain NumPy array cannot be indexed by a traced value: fnp.at(x)[i].get() covers x unbatched)
    ("labels", lambda logits, y: fnp.at(logits)[y].get(), [normal(10), ints(10)]),
    ("labels_vector", lambda logits, y: fnp.at(logits)[y].get(), [normal(10, 2), ints(10, 4)]),
    ("gather_rows", lambda x, i: fnp.at(x)[:, i].get(), [normal(2, 6), ints(6, 3)]),
    ("gather_pairs", lambda x, i, j: fnp.at(x)[i, :, j].get(), [normal(4, 2, 5), ints(4, 3), ints(5, 3)]),
    ("int_then_batched_array", lambda x, i: fnp.at(x)[1, i].get(), [normal(3, 6), ints(6, 2)]),
    ("arange_labels", lambda logits, y: fnp.at(logits)[np.arange(4), y].get(), [normal(4, 10), ints(10, 4)]),
    ("labels_syntax", lambda logits, y: (logits[y], logits[:, y]), [normal(10, 10), ints(10)], {"none0"}),
    # functional updates
    ("at_set", lambda x, v: fnp.at(x)[1].set(v), [normal(3, 2), normal(2)]),
    ("at_add_slice", lambda x, v: fnp.at(x)[:, 1:].add(v), [normal(2, 3), normal()]),
    ("at_add_repeated", lambda x, v: fnp.at(x)[IDX].add(v), [normal(5), normal(4)]),
    ("at_set_mask", lambda x, v: fnp.at(x)[MASK].set(v), [normal(5), normal()]),
    ("at_set_batched_index", lambda x, i, v: fnp.at(x)[i].set(v), [normal(6), ints(6), normal()]),
    ("at_add_batched_indices", lambda x, i, v: fnp.at(x)[i].add(v), [normal(6, 2), ints(6, 3), normal(3, 2)]),
    ("at_slice_array", lambda x, v: fnp.at(x)[:, IDX].add(v), [normal(2, 5), normal(2, 4)]),
    ("at_get", lambda x: fnp.at(x)[IDX].get(), [normal(5)]),
    ("at_method_syntax", lambda x, v: fg.vmap(lambda r: r.at[0].set(v) + r.at[1:].add(1.0))(x),
     [normal(2, 3), normal()]),
    ("at_max_repeated", lambda x, v: fnp.at(x)[IDX].max(v), [normal(5), normal(4)]),
    ("at_multiply_repeated", lambda x: fnp.at(x)[IDX].multiply(2.0), [normal(5)]),
    ("at_divide_distinct_clip", lambda x, v: fnp.at(x)[np.array([0, 7])].divide(v, mode="clip"),
     [normal(5), positive(2)]),
    ("nextafter_ldexp", lambda x, y: fnp.nextafter(x, y) + fnp.ldexp(x, 2), [normal(3), normal(3)]),
    ("nonzero_size", lambda x: fnp.nonzero(x > 0, size=3, fill_value=-1)[0], [normal(5)], {"grad"}),
    ("unique_size", lambda x: fnp.unique(fnp.round(x), size=4), [normal(5)], {"grad"}),
    # contractions
    ("matmul_1d_1d", fnp.matmul, [normal(3), normal(3)]),
    ("matmul_2d_1d", fnp.matmul, [normal(2, 3), normal(3)]),
    ("matmul_1d_2d", fnp.matmul, [normal(3), normal(3, 2)]),
    ("matmul_2d_2d", lambda a, b: a @ b, [normal(2, 3), normal(3, 4)]),
    ("matmul_stacked", fnp.matmul, [normal(2, 2, 3), normal(2, 3, 4)]),
    ("matmul_stacked_2d", fnp.matmul, [normal(2, 2, 3), normal(3, 4)]),
    ("matmul_1d_stacked", fnp.matmul, [normal(3), normal(2, 3, 4)]),
    ("matmul_stacked_1d", fnp.matmul, [normal(2, 2, 3), normal(3)]),
    ("dot_vdot_inner_outer", lambda a, b: [fnp.dot(a, b), fnp.vdot(a, b), fnp.inner(a, b), fnp.outer(a, b)],
     [normal(3), normal(3)]),
    ("tensordot", lambda a, b: fnp.tensordot(a, b, axes=([1], [0])), [normal(2, 3), normal(3, 4)]),
    ("einsum_matmul", lambda a, b: fnp.einsum("ij,jk->ik", a, b), [normal(2, 3), normal(3, 4)]),
    ("einsum_three", lambda a, b, c: fnp.einsum("ij,j,jk->k", a, b, c), [normal(2, 3), normal(3), normal(3, 2)]),
    ("einsum_trace_outer", lambda a: [fnp.einsum("ii->", a), fnp.einsum("i,j->ij", a[0], a[1])], [normal(3, 3)]),
    ("einsum_implicit", lambda a, b: fnp.einsum("ij,jk", a, b), [normal(2, 3), normal(3, 2)]),
    ("norm", lambda x: [fnp.linalg.norm(x), fnp.linalg.norm(x, axis=1), fnp.linalg.norm(x, axis=0, keepdims=True)],
     [normal(2, 3)]),
    ("norm_matrix", lambda x: fnp.linalg.norm(x, "fro"), [normal(2, 3)]),
    # solvers and decompositions (stacks of matrices)
    ("solve", fnp.linalg.solve, [well_conditioned(3), normal(3)]),
    ("solve_matrix_rhs", fnp.linalg.solve, [well_conditioned(3), normal(3, 2)]),
    ("inv_det_slogdet", lambda A: [fnp.linalg.inv(A), fnp.linalg.det(A), *fnp.linalg.slogdet(A)],
     [well_conditioned(3)]),
    ("adjugate", lambda A: fg.grad(fnp.linalg.det)(A), [normal(3, 3)]),  # det's gradient is the adjugate
    ("cholesky", fnp.linalg.cholesky, [spd(3)]),
    ("eigh", lambda S: (lambda w, V: [w, fnp.abs(V)])(*fnp.linalg.eigh(S)), [spd(3)]),
    ("svd", lambda A: (lambda U, s, Vh: [fnp.abs(U), s, fnp.abs(Vh)])(*fnp.linalg.svd(A, full_matrices=False)),
     [normal(3, 2)]),
    ("qr", lambda A: [fnp.abs(q) for q in fnp.linalg.qr(A)], [normal(3, 2)]),
    ("eig", lambda A: (lambda w: [fnp.real(w), fnp.imag(w)])(fnp.linalg.eigvals(A)), [normal(3, 3)], {"grad"}),
    # plain NumPy calls dispatch to funcgrad
    ("plain_numpy", lambda x, w: np.tanh(np.dot(x, w)).sum() + np.sin(x).mean(), [normal(3), normal(3, 2)]),
    # a small network: per-example loss
    ("mlp_loss", lambda x, y, w, b: -(logsumexp(fnp.tanh(x @ w + b)) - fnp.tanh(x @ w + b)[y]),
     [normal(4), ints(3), normal(4, 3), normal(3)]),
    # a constant output (broadcast to the batch)
    ("constant_output", lambda x: np.ones(2), [normal(3)]),
    # fft rows
    ("fft", lambda x: (lambda F: [fnp.real(F), fnp.imag(F), fnp.fft.ifft(x, n=6, norm="ortho"),
                                  fnp.abs(fnp.fft.fftn(x, axes=(0,)))])(fnp.fft.fft2(x)), [normal(2, 4)]),
    ("fft_complex", lambda z: [fnp.fft.fft(z, n=3), fnp.fft.ifftn(z, norm="forward")], [complex_normal(2, 4)]),
    ("rfft_irfft", lambda x: (lambda X: [fnp.real(X), fnp.imag(fnp.fft.rfftn(x, s=(3, 5), axes=(1, 0))),
                                         fnp.fft.irfft(X, n=5), fnp.fft.irfft2(X, norm="ortho")])(fnp.fft.rfft(x)),
     [normal(2, 4)]),
    ("irfft_complex", lambda z: [fnp.fft.irfft(z), fnp.fft.irfftn(z, s=(2, 5), axes=(0, 1), norm="forward")],
     [complex_normal(2, 4)]),
    ("fftshift", lambda x: [fnp.fft.fftshift(x), fnp.fft.ifftshift(x, axes=1)], [normal(3, 4)]),
]
# scipy.linalg/signal rows
# (funcgrad.scipy.linalg, funcgrad.scipy.signal, funcgrad.scipy.integrate.odeint)


def shifted(n):  # eigenvalues near 2: Sylvester-solvable, real principal square root
    return lambda rng: rng.uniform(-0.4, 0.4, (n, n)) + 2.0 * np.eye(n)


def banded(l, u, n):  # band storage with a dominant main diagonal
    def gen(rng):
        ab = rng.uniform(-0.5, 0.5, (l + u + 1, n))
        ab[u] += 3.0
        return ab

    return gen


def _ode_decay(y, t, k):
    return -k * y


_ODE_T = np.array([0.0, 0.5, 1.2])

CASES += [
    ("solve_triangular", lambda a, b: [fsp_linalg.solve_triangular(a, b, lower=True),
                                       fsp_linalg.solve_triangular(a, b, trans=1, unit_diagonal=True)],
     [well_conditioned(3), normal(3, 2)]),
    ("solve_triangular_vector", lambda a, b: fsp_linalg.solve_triangular(a, b, trans="T"),
     [well_conditioned(3), normal(3)]),
    ("cho_solve", lambda a, b: fsp_linalg.cho_solve(fsp_linalg.cho_factor(a), b), [spd(3), normal(3)]),
    ("solve_sylvester", fsp_linalg.solve_sylvester, [shifted(3), shifted(2), normal(3, 2)]),
    ("sqrtm", fsp_linalg.sqrtm, [spd(3)]),
    ("solve_banded", lambda ab, b: fsp_linalg.solve_banded((1, 2), ab, b), [banded(1, 2, 5), normal(5, 2)]),
    ("solve_banded_vector", lambda ab, b: fsp_linalg.solve_banded((1, 1), ab, b), [banded(1, 1, 4), normal(4)]),
    ("expm", fsp_linalg.expm, [unit(3, 3)]),
    ("convolve", lambda x, y: [fsp_signal.convolve(x, y), fsp_signal.correlate(x, y, "same"),
                               fsp_signal.convolve(x, y, "valid")], [normal(5), normal(3)]),
    ("convolve_2d", lambda x, y: [fsp_signal.correlate(x, y), fsp_signal.convolve(x, y, "same"),
                                  fsp_signal.correlate(x, y, "valid")], [normal(4, 3), normal(2, 2)]),
    ("odeint", lambda y0, k: fsp_integrate.odeint(_ode_decay, y0, _ODE_T, k), [positive(2), positive(2)]),
    ("sliding_dot", lambda x, k: [fsp_signal.correlate(x, k, "valid", axes=([1, 2], [2, 3]), dot_axes=([0], [0])),
                                  fsp_signal.convolve(x, k, "full", axes=([1, 2], [2, 3]), dot_axes=([0], [0]))],
     [normal(2, 4, 3), normal(2, 3, 2, 2)]),
    ("scipy_optimize_solve", lambda a: _fsp_optimize.root(lambda x, a: x ** 3 - a, np.ones(2), args=(a,),
                                                          tol=1e-14).x, [positive(2)]),
]
# scipy.special rows (funcgrad.scipy.special; orders and shape parameters are integers, after the
# differentiated operand, so that vmap∘grad differentiates only where a closed form exists)
import funcgrad.scipy.special as fsp_special  # noqa: E402


def prob(*shape):
    return lambda rng: rng.uniform(0.1, 0.9, shape)


CASES += [
    ("special_unary", lambda x: [fsp_special.erf(x), fsp_special.erfc(x), fsp_special.erfinv(x),
                                 fsp_special.erfcinv(x + 1.0), fsp_special.log_ndtr(x),
                                 fsp_special.logit(0.5 * x + 0.5), fsp_special.i0(x), fsp_special.i1(x),
                                 fsp_special.j0(x), fsp_special.j1(x), fsp_special.gammasgn(x)], [unit(2, 3)]),
    ("special_positive", lambda x: [fsp_special.gamma(x), fsp_special.gammaln(x), fsp_special.digamma(x),
                                    fsp_special.rgamma(x), fsp_special.y0(x), fsp_special.y1(x),
                                    fsp_special.zeta(2.5, x)], [positive(2, 3)]),
    ("special_binary", lambda a, x: [fsp_special.beta(a, x), fsp_special.betaln(a, x), fsp_special.poch(a, x),
                                     fsp_special.xlogy(a, x), fsp_special.xlog1py(a, x)],
     [positive(3), positive(2, 3)]),
    ("special_orders", lambda x, n: [fsp_special.yn(n, x), fsp_special.jv(n, x), fsp_special.iv(n, x),
                                     fsp_special.ive(n, x), fsp_special.polygamma(n, x),
                                     fsp_special.gammainc(n + 1, x), fsp_special.gammaincc(n + 1, x),
                                     fsp_special.stdtr(n + 1, x)], [positive(4), ints(3, 4)]),
    ("special_betainc", lambda x, a, b: fsp_special.betainc(a, b, x), [prob(2, 3), positive(3), positive(2, 3)],
     {"grad"}),
    ("special_betainc_x", lambda x, a: fsp_special.betainc(a + 1, 2.5, x), [prob(2, 3), ints(4, 3)]),
    ("special_compositions", lambda x: [fsp_special.softmax(x, axis=1), fsp_special.log_softmax(x),
                                        fsp_special.logsumexp(x, axis=0, b=x * x, return_sign=True)[0],
                                        fsp_special.multigammaln(x * x + 2.0, 3), fsp_special.entr(x * x)],
     [normal(2, 3)]),
]
# mvn cdf rows (funcgrad.scipy.stats.multivariate_normal.cdf; vmap over the covariance loops over the batch)
import funcgrad.scipy.stats as fsp_stats  # noqa: E402

CASES += [
    ("mvn_cdf", lambda x, m, s: [fsp_stats.multivariate_normal.cdf(x, m, s),
                                 fsp_stats.multivariate_normal.logcdf(x[0], m[0], s[0, 0])],
     [normal(2), normal(2), spd(2)]),
]
# lax window rows (funcgrad.prims.windows): convolutions and windowed reductions, and the col2im transpose
CASES += [
    ("window_patches", lambda x, k: [fg.lax.conv_general_dilated(x, k, (1, 2), "SAME", rhs_dilation=(1, 2)),
                                     fg.lax.reduce_window(x, -np.inf, fg.lax.max, (1, 1, 2, 2), (1, 1, 1, 2), "VALID")],
     [normal(2, 3, 4, 5), normal(2, 3, 2, 2)]),
    ("window_patches_transpose", lambda ct: core_primitives_bind(
        "window_patches_transpose", ct, operand_shape=(3, 4), window=(2, 1), strides=(1, 2),
        padding=((1, 0), (0, 0)), base_dilation=(1, 1), window_dilation=(1, 1)),
     [normal(3, 2, 2, 1)]),
]
# full_like: the zeros/seed jit stages for Dask/CuPy arguments (the result is unbatched)
CASES += [
    ("full_like", lambda x: x * core_primitives_bind("full_like", x, fill=2.0, shape=(3,), dtype=np.dtype(np.float64)),
     [normal(3)]),
]


def core_primitives_bind(name, *args, **params):
    return primitives[name].bind(*args, **params)


# 4th entry: in_axes variants to skip ("grad": no vmap∘grad test, the function has no derivative)
CASES = [c if len(c) == 4 else (*c, set()) for c in CASES]


def _variants(gens):
    """in_axes variants: all 0, all -1 (batch axis last), a middle axis, and each argument unbatched."""
    n = len(gens)
    rng = np.random.default_rng(0)
    ndims = [np.ndim(g(rng)) for g in gens]
    out = [("front", (0,) * n), ("last", (-1,) * n),
           ("middle", tuple(1 if d >= 1 else 0 for d in ndims))]
    if n > 1:
        for k in range(n):
            out.append((f"none{k}", tuple(None if j == k else 0 for j in range(n))))
    return out


PARAMS = [pytest.param(name, f, gens, axes, id=f"{name}-{vname}")
          for name, f, gens, skip in CASES for vname, axes in _variants(gens) if vname not in skip]


def _samples(gens, seed=0):
    rng = np.random.default_rng(seed)
    return [[g(rng) for g in gens] for _ in range(B)]


@pytest.mark.parametrize("name,f,gens,axes", PARAMS)
def test_vmap_matches_python_loop(name, f, gens, axes):
    samples = _samples(gens)
    want = _loop(f, samples, axes)
    got = fg.vmap(f, in_axes=axes)(*_batch_args(samples, axes))
    rtol = 1e-5 if any(np.asarray(a).dtype == np.float32 for a in samples[0]) else 1e-10
    assert_tree_close(got, want, rtol=rtol)


def _weights(shape):
    """A fixed, non-uniform cotangent of the given shape."""
    return 1.5 + np.cos(np.arange(int(np.prod(shape, dtype=int)))).reshape(shape)


def _scalarized(f):
    def loss(*args):
        total = 0.0
        for leaf in tree_flatten(f(*args))[0]:
            if np.dtype(leaf.dtype).kind == "f":
                total = total + fnp.sum(leaf * _weights(leaf.shape).astype(leaf.dtype))
        return total

    return loss


GRAD_XFAIL: dict = {}  # (case, variant) -> pytest mark, for known failures outside the batching code

def _has_float_output(f, gens) -> bool:
    """grad applies only to rows with a floating-point output (not comparisons, argmax, ...)."""
    out = f(*_samples(gens, seed=1)[0])
    return any(np.dtype(leaf.dtype).kind == "f" for leaf in tree_flatten(out)[0])


GRAD_PARAMS = [pytest.param(name, f, gens, axes, id=f"{name}-{vname}", marks=GRAD_XFAIL.get((name, vname), ()))
               for name, f, gens, skip in CASES for vname, axes in _variants(gens)
               if vname in ("front", "last", "none0", "none1") and vname not in skip and "grad" not in skip
               and np.dtype(np.asarray(gens[0](np.random.default_rng(0))).dtype).kind == "f"
               and _has_float_output(f, gens)]


@pytest.mark.parametrize("name,f,gens,axes", GRAD_PARAMS)
def test_vmap_of_grad_matches_python_loop_of_grad(name, f, gens, axes):
    """vmap∘grad for every row (with respect to every float argument): per-example gradients
    against a Python loop of grad."""
    samples = _samples(gens, seed=1)
    loss = _scalarized(f)
    argnums = tuple(k for k, a in enumerate(samples[0]) if np.asarray(a).dtype.kind == "f")
    want = _loop(fg.grad(loss, argnums=argnums), samples, axes)
    got = fg.vmap(fg.grad(loss, argnums=argnums), in_axes=axes)(*_batch_args(samples, axes))
    rtol = 1e-5 if any(np.asarray(a).dtype == np.float32 for a in samples[0]) else 1e-10
    assert_tree_close(got, want, rtol=rtol)


def test_every_primitive_has_a_batching_rule():
    import_all_primitives()  # the lazily loaded families too (linalg, fft, lax, scipy)
    missing = sorted(name for name, p in primitives.items() if p.batch is None)
    assert not missing, f"primitives without a batching rule: {missing}"


def test_every_batching_rule_is_exercised_by_the_table(monkeypatch):
    seen = set()
    original = BatchTrace.process

    def recording(self, prim, args, params):
        seen.add(prim.name)
        return original(self, prim, args, params)

    monkeypatch.setattr(BatchTrace, "process", recording)
    for _name, f, gens, _skip in CASES:
        for _vname, axes in _variants(gens)[:1]:
            samples = _samples(gens)
            fg.vmap(f, in_axes=axes)(*_batch_args(samples, axes))
    missing = sorted(set(primitives) - seen)
    assert not missing, f"primitives whose batching rule no table row reaches: {missing}"


def test_no_python_loop_over_examples(monkeypatch):
    """A covered primitive is bound once per call, whatever the batch size."""
    counts = {}
    original = BatchTrace.process

    def counting(self, prim, args, params):
        counts[prim.name] = counts.get(prim.name, 0) + 1
        return original(self, prim, args, params)

    monkeypatch.setattr(BatchTrace, "process", counting)
    f = lambda x, w: fnp.sum(fnp.tanh(x @ w))
    fg.vmap(f, in_axes=(0, None))(np.ones((1000, 3)), np.ones((3, 2)))
    assert counts == {"matmul": 1, "tanh": 1, "sum": 1}


# --- in_axes / out_axes / axis_size -------------------------------------------------------------


def test_in_axes_int_applies_to_all_arguments():
    x, y = np.random.default_rng(1).standard_normal((2, 4, 3))
    got = fg.vmap(lambda a, b: a * b, in_axes=1)(x, y)
    np.testing.assert_allclose(got, np.stack([x[:, i] * y[:, i] for i in range(3)]))


def test_in_axes_negative():
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    got = fg.vmap(lambda a: fnp.sum(a, axis=0), in_axes=-2)(x)
    np.testing.assert_allclose(got, np.stack([x[:, i, :].sum(axis=0) for i in range(3)]))


def test_in_axes_dict_prefix():
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal((5, 2))}
    x = rng.standard_normal((5, 3))

    def f(p, x):
        return fnp.tanh(x @ p["w"] + p["b"])

    got = fg.vmap(f, in_axes=({"w": None, "b": 0}, 0))(params, x)
    want = np.stack([np.tanh(x[i] @ params["w"] + params["b"][i]) for i in range(5)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_in_axes_nested_prefix_and_none_for_a_whole_subtree():
    rng = np.random.default_rng(4)
    tree = {"a": (rng.standard_normal((4, 2)), rng.standard_normal((2, 4))), "c": rng.standard_normal(3)}

    def f(t):
        return t["a"][0] * t["a"][1] + fnp.sum(t["c"])

    got = fg.vmap(f, in_axes=({"a": (0, 1), "c": None},))(tree)
    want = np.stack([tree["a"][0][i] * tree["a"][1][:, i] + tree["c"].sum() for i in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_in_axes_for_a_namedtuple_and_a_list_argument():
    from collections import namedtuple

    P = namedtuple("P", ["x", "y"])
    rng = np.random.default_rng(5)
    p = P(rng.standard_normal((3, 2)), rng.standard_normal(2))
    lst = [rng.standard_normal(3), rng.standard_normal((2, 3))]
    f = lambda p, lst: p.x * p.y + lst[0] * 2.0 + lst[1][0]
    got = fg.vmap(f, in_axes=(P(0, None), [0, 1]))(p, lst)
    want = np.stack([p.x[i] * p.y + lst[0][i] * 2.0 + lst[1][0, i] for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_out_axes_int_negative_and_none():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 2, 3))
    c = rng.standard_normal(5)
    f = lambda a, c: (fnp.sin(a), c * 2.0, fnp.sum(a, axis=0))
    s, k, r = fg.vmap(f, in_axes=(0, None), out_axes=(1, None, -1))(x, c)
    np.testing.assert_allclose(s, np.moveaxis(np.sin(x), 0, 1))
    np.testing.assert_allclose(k, c * 2.0)  # not batched: returned once, without a batch axis
    np.testing.assert_allclose(r, np.moveaxis(x.sum(axis=1), 0, -1))
    assert s.shape == (2, 4, 3) and k.shape == (5,) and r.shape == (3, 4)


def test_out_axes_pytree_prefix():
    x = np.random.default_rng(7).standard_normal((4, 3))
    out = fg.vmap(lambda a: {"p": a * 2.0, "q": (a, fnp.sum(a))}, out_axes={"p": 1, "q": 0})(x)
    np.testing.assert_allclose(out["p"], (x * 2.0).T)
    np.testing.assert_allclose(out["q"][0], x)
    np.testing.assert_allclose(out["q"][1], x.sum(axis=1))


def test_axis_size_with_no_batched_input():
    c = np.array([1.0, 2.0])
    out = fg.vmap(lambda c: fnp.sin(c), in_axes=None, axis_size=4)(c)
    np.testing.assert_allclose(out, np.broadcast_to(np.sin(c), (4, 2)))
    assert out.shape == (4, 2)
    out = fg.vmap(lambda: np.float64(3.0), axis_size=2)()
    np.testing.assert_array_equal(out, [3.0, 3.0])


def test_axis_size_agreeing_with_the_inputs():
    x = np.ones((3, 2))
    np.testing.assert_array_equal(fg.vmap(fnp.sum, axis_size=3)(x), [2.0, 2.0, 2.0])


def test_keyword_arguments_are_mapped_over_axis_0_as_in_jax():
    x = np.arange(6.0).reshape(3, 2)
    scale = np.array([1.0, 10.0, 100.0])
    got = fg.vmap(lambda a, scale=1.0: a * scale, in_axes=1)(x.T, scale=scale)
    np.testing.assert_allclose(got, x * scale[:, None])
    got = fg.vmap(lambda a, p: a * p["s"], in_axes=(None,))(np.ones(2), p={"s": scale})
    np.testing.assert_allclose(got, np.outer(scale, np.ones(2)))
    with pytest.raises(fg.BatchAxisError, match=r"kwargs\['scale'\].*functools.partial"):
        fg.vmap(lambda a, scale=1.0: a * scale)(x, scale=2.0)
    with pytest.raises(fg.BatchAxisError, match=r"args\[0\] has size 3, kwargs\['scale'\] has size 2"):
        fg.vmap(lambda a, scale=1.0: a * scale)(x, scale=np.ones(2))


def test_python_numbers_as_unbatched_inputs_and_lists_as_pytrees():
    got = fg.vmap(lambda a, b: a * b, in_axes=(0, None))(np.array([1.0, 2.0, 3.0]), 2.0)
    np.testing.assert_array_equal(got, [2.0, 4.0, 6.0])
    assert isinstance(got, np.ndarray)
    # a list is a pytree (as in JAX), not an array: its leaves are mapped one by one
    got = fg.vmap(lambda xs: xs[0] + xs[1])([np.ones(2), np.arange(2.0)])
    np.testing.assert_array_equal(got, [1.0, 2.0])


def test_pytree_inputs_and_outputs():
    rng = np.random.default_rng(8)
    tree = {"u": rng.standard_normal((3, 2)), "v": [rng.standard_normal(3), rng.standard_normal((3, 2, 2))]}

    def f(t):
        return {"s": t["u"] @ t["v"][1], "n": (t["v"][0] ** 2, fnp.sum(t["u"]))}

    got = fg.vmap(f)(tree)
    outs = [f({"u": tree["u"][i], "v": [tree["v"][0][i], tree["v"][1][i]]}) for i in range(3)]
    want = tree_map(lambda *ys: np.stack(ys), *outs)
    assert_tree_close(got, want)


def test_dataclass_pytree_in_and_out():
    import dataclasses

    from funcgrad.tree_util import register_dataclass

    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        b: np.ndarray

    register_dataclass(Layer, data_fields=["w", "b"], meta_fields=[])
    rng = np.random.default_rng(9)
    layer = Layer(rng.standard_normal((4, 2, 2)), rng.standard_normal(2))
    out = fg.vmap(lambda L: Layer(L.w * 2.0, L.b + fnp.sum(L.w)), in_axes=(Layer(0, None),))(layer)
    assert isinstance(out, Layer)
    np.testing.assert_allclose(out.w, layer.w * 2.0)
    np.testing.assert_allclose(out.b, layer.b + layer.w.sum(axis=(1, 2))[:, None])


def test_nested_vmap_outer_product_and_pairwise_distances():
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    dist = lambda x, y: fnp.linalg.norm(x - y)
    got = fg.vmap(fg.vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(a, b)
    want = np.array([[np.linalg.norm(x - y) for y in b] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_nested_vmap_on_different_axes_and_out_axes():
    x = np.random.default_rng(11).standard_normal((2, 3, 4))
    inner = fg.vmap(lambda r: fnp.cumsum(r), in_axes=1, out_axes=1)  # over axis 1 of a (3, 4) slab
    got = fg.vmap(inner, in_axes=2, out_axes=0)(x)  # outer over axis 2 of x
    want = np.stack([np.stack([np.cumsum(x[:, j, i]) for j in range(3)], axis=1) for i in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_triple_nested_vmap():
    x = np.random.default_rng(12).standard_normal((2, 3, 4, 5))
    f = fg.vmap(fg.vmap(fg.vmap(lambda v: fnp.max(v) - fnp.sum(v))))
    np.testing.assert_allclose(f(x), x.max(axis=-1) - x.sum(axis=-1), rtol=1e-12)


def test_nested_vmap_with_batched_labels():
    rng = np.random.default_rng(13)
    logits, y = rng.standard_normal((2, 3, 10)), rng.integers(0, 10, (2, 3))
    got = fg.vmap(fg.vmap(lambda lg, t: lg[t]))(logits, y)
    want = np.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
    np.testing.assert_array_equal(got, want)
    # inner index batched, outer logits batched only
    got = fg.vmap(fg.vmap(lambda lg, t: lg[t], in_axes=(None, 0)), in_axes=(0, None))(logits[0], y[0])
    np.testing.assert_array_equal(got, logits[0][:, y[0]])


def test_vmap_of_a_function_closing_over_a_batched_value():
    x = np.random.default_rng(14).standard_normal((3, 2))
    ys = np.random.default_rng(15).standard_normal((4, 2))

    def outer(xi):
        return fg.vmap(lambda yj: fnp.dot(xi, yj))(ys)

    np.testing.assert_allclose(fg.vmap(outer)(x), x @ ys.T, rtol=1e-12)


def test_python_control_flow_on_unbatched_values_is_allowed():
    def f(x, n):
        for _ in range(int(n)):
            x = x * 2.0
        if x.shape[0] > 1:
            x = x + 1.0
        return x

    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(np.ones((3, 2)), 2), np.full((3, 2), 5.0))


def test_float32_stays_float32():
    x = np.ones((3, 2), np.float32)
    out = fg.vmap(lambda a: fnp.sum(fnp.exp(a) * 2.0))(x)
    assert out.dtype == np.float32


def test_empty_batch_and_empty_examples():
    out = fg.vmap(lambda a: a * 2.0 + fnp.sum(a))(np.zeros((0, 3)))
    assert out.shape == (0, 3)
    out = fg.vmap(lambda a: fnp.sum(a))(np.zeros((4, 0)))
    np.testing.assert_array_equal(out, np.zeros(4))


def test_outputs_are_numpy_arrays():
    out = fg.vmap(lambda a: (a, fnp.sum(a), 1.0))(np.ones((2, 3)))
    assert all(isinstance(o, np.ndarray) for o in out)
    assert out[2].shape == (2,)


# --- errors ----------------------------------------------------------------------------------


def test_inconsistent_batch_sizes_name_arguments_and_sizes():
    def f(x, y):
        return x + y

    with pytest.raises(fg.BatchAxisError) as e:
        fg.vmap(f)(np.ones((3, 2)), np.ones((4, 2)))
    msg = str(e.value)
    assert "args[0]" in msg and "args[1]" in msg and "3" in msg and "4" in msg and "f" in msg


def test_inconsistent_batch_sizes_in_a_pytree_name_the_key_path():
    with pytest.raises(fg.BatchAxisError, match=r"\['b'\].*5|5.*\['b'\]"):
        fg.vmap(lambda d: d["a"] + d["b"])({"a": np.ones(3), "b": np.ones(5)})


def test_axis_size_disagreeing_with_inputs():
    with pytest.raises(fg.BatchAxisError, match="axis_size=5"):
        fg.vmap(fnp.sum, axis_size=5)(np.ones((3, 2)))


def test_in_axis_out_of_range():
    with pytest.raises(fg.BatchAxisError) as e:
        fg.vmap(fnp.sum, in_axes=2)(np.ones((3, 2)))
    msg = str(e.value)
    assert "in_axes=2" in msg and "(3, 2)" in msg
    with pytest.raises(fg.BatchAxisError, match="in_axes=-3"):
        fg.vmap(fnp.sum, in_axes=-3)(np.ones((3, 2)))
    with pytest.raises(fg.BatchAxisError, match="in_axes=0"):
        fg.vmap(fnp.sum)(np.float64(1.0))  # a 0-d input has no axis to map


def test_out_axis_out_of_range():
    with pytest.raises(fg.BatchAxisError, match="out_axes=3.*out of range"):
        fg.vmap(lambda a: a, out_axes=3)(np.ones((3, 2)))


def test_out_axes_none_for_a_batched_output():
    with pytest.raises(fg.BatchAxisError, match="out_axes is None"):
        fg.vmap(lambda a: a, out_axes=None)(np.ones((3, 2)))


def test_no_batched_input_without_axis_size():
    with pytest.raises(fg.BatchAxisError, match="axis_size"):
        fg.vmap(lambda a: a, in_axes=None)(np.ones(3))


def test_in_axes_tuple_length_mismatch():
    with pytest.raises(fg.BatchAxisError, match="2 entries but 3 positional"):
        fg.vmap(lambda a, b, c: a, in_axes=(0, 0))(np.ones(2), np.ones(2), np.ones(2))


def test_in_axes_list_is_read_as_a_tuple():
    # As in JAX (issue 9 §4): a top-level list gives one entry per positional argument.
    np.testing.assert_array_equal(fg.vmap(lambda a: a * 2, in_axes=[0])(np.ones(2)), [2.0, 2.0])
    with pytest.raises(fg.BatchAxisError, match="1 entries but 2 positional"):
        fg.vmap(lambda a, b: a, in_axes=[0])(np.ones(2), np.ones(2))


def test_in_axes_tree_mismatch_names_the_key_path():
    params = {"w": np.ones((3, 2)), "b": np.ones(3)}
    with pytest.raises(fg.BatchAxisError) as e:
        fg.vmap(lambda p: p["w"], in_axes=({"w": 0, "c": 0},))(params)
    msg = str(e.value)
    assert "args[0]" in msg and "'c'" in msg
    with pytest.raises(fg.BatchAxisError) as e:
        fg.vmap(lambda p: p["w"][0], in_axes=({"w": (0, 0), "b": 0},))({"w": np.ones((3, 2)), "b": np.ones(3)})
    assert "args[0]['w']" in str(e.value)
    with pytest.raises(fg.BatchAxisError) as e:
        fg.vmap(lambda p: p[0], in_axes=((0, None, 0),))((np.ones(2), np.ones(2)))
    assert "args[0]" in str(e.value) and "3" in str(e.value) and "2" in str(e.value)


def test_out_axes_tree_mismatch_names_the_key_path():
    with pytest.raises(fg.BatchAxisError, match=r"output\['a'\]"):
        fg.vmap(lambda x: {"a": (x, x)}, out_axes={"a": (0, 0, 0)})(np.ones(2))


def test_python_if_on_a_batched_value():
    def f(x):
        if fnp.sum(x) > 0:
            return x
        return -x

    with pytest.raises(fg.BatchedConcretizationError) as e:
        fg.vmap(f)(np.ones((3, 2)))
    msg = str(e.value)
    assert "example" in msg and "where" in msg  # why (differs per example) and what to use
    assert isinstance(e.value, TypeError)


@pytest.mark.parametrize("convert", [bool, float, int])
def test_bool_float_int_of_a_batched_value(convert):
    with pytest.raises(fg.BatchedConcretizationError):
        fg.vmap(lambda x: convert(x))(np.ones(3))


def test_while_loop_on_a_batched_value():
    def f(x):
        while fnp.linalg.norm(x) < 10.0:
            x = x * 2.0
        return x

    with pytest.raises(fg.BatchedConcretizationError, match="where"):
        fg.vmap(f)(np.ones((3, 2)))


def test_np_asarray_of_a_batched_value_is_an_error():
    with pytest.raises((fg.BatchedConcretizationError, fg.TracerConversionError)):
        fg.vmap(lambda x: np.asarray(x) * 2)(np.ones((3, 2)))


def test_indexing_a_plain_numpy_array_with_a_batched_index_points_to_at():
    table = np.arange(10.0)
    with pytest.raises(fg.BatchedConcretizationError, match=r"at\(array\)\[index\]\.get\(\)"):
        fg.vmap(lambda y: table[y])(np.array([1, 2]))
    np.testing.assert_array_equal(fg.vmap(lambda y: fnp.at(table)[y].get())(np.array([1, 2])), [1.0, 2.0])


def test_batched_boolean_mask_index_is_a_clear_error():
    # issue 9 §1: a ConcretizationError pointing to where(), and to size= for a fixed-length result
    with pytest.raises(fg.ConcretizationError, match="where.*size=") as info:
        fg.vmap(lambda x: x[x > 0])(np.ones((3, 2)))
    assert isinstance(info.value, TypeError)


def test_leaked_batch_tracer():
    leaked = []
    fg.vmap(lambda x: leaked.append(x) or x)(np.ones((2, 3)))
    with pytest.raises(fg.LeakedTracerError):
        fnp.sin(leaked[0])
