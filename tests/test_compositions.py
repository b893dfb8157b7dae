"""Every pair of transformations on a table of functions (issue 4 §5).

vmap∘grad, grad∘vmap, jacfwd∘jacrev, jacrev∘jacfwd, hessian, vmap∘vmap, jvp∘grad (and vmap∘jvp,
vmap∘vjp), each compared against central finite differences of the plain function and, where a
batch is involved, against a Python loop over the batch. Cotangents, tangents and batch weights
are non-uniform random values.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy.special import logsumexp
from funcgrad.tree_util import tree_flatten, tree_map, tree_unflatten

B = 3


def ravel(tree):
    """A pytree of float arrays as one vector, and the inverse."""
    leaves, treedef = tree_flatten(tree)
    shapes = [np.shape(x) for x in leaves]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    flat = np.concatenate([np.ravel(x) for x in leaves]) if leaves else np.zeros(0)

    def unravel(v):
        out, start = [], 0
        for s, n in zip(shapes, sizes):
            out.append(np.asarray(v[start:start + n]).reshape(s))
            start += n
        return tree_unflatten(treedef, out)

    return flat, unravel


def fd_grad(f, x, eps=1e-6):
    flat, unravel = ravel(x)
    g = np.zeros_like(flat)
    for k in range(flat.size):
        e = np.zeros_like(flat)
        e[k] = eps
        g[k] = (float(f(unravel(flat + e))) - float(f(unravel(flat - e)))) / (2 * eps)
    return g


def fd_hessian(f, x, h=1e-4):
    flat, unravel = ravel(x)
    n = flat.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            def at(di, dj):
                y = flat.copy()
                y[i] += di
                y[j] += dj
                return float(f(unravel(y)))

            H[i, j] = H[j, i] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    return H


def flat_of(tree):
    return ravel(tree)[0]


def hessian_blocks_to_matrix(H, x):
    """JAX block structure (x's tree of x's trees) -> dense n-by-n matrix."""
    x_leaves = tree_flatten(x)[0]
    outer = _outer_blocks(H, x)
    rows = []
    for xi, row_tree in zip(x_leaves, outer):
        blocks = tree_flatten(row_tree)[0]
        rows.append(np.concatenate([np.reshape(b, (np.size(xi), np.size(xj))) for b, xj in zip(blocks, x_leaves)],
                                   axis=1))
    return np.concatenate(rows, axis=0)


def _outer_blocks(H, x):
    n_leaves = len(tree_flatten(x)[0])
    flat_blocks = tree_flatten(H)[0]
    assert len(flat_blocks) == n_leaves * n_leaves
    return [tree_unflatten(tree_flatten(x)[1], flat_blocks[i * n_leaves:(i + 1) * n_leaves]) for i in range(n_leaves)]


# --- the table -----------------------------------------------------------------------------------

rng = np.random.default_rng(0)
DATA_X = rng.standard_normal((4, 3))
DATA_Y = np.array([0, 2, 1, 1])
IDX = np.array([2, 0, 0, 3])


def mlp_loss(p):
    h = fnp.tanh(DATA_X @ p["w1"] + p["b1"])
    logits = h @ p["w2"]
    return fnp.mean(logsumexp(logits, axis=1) - logits[np.arange(4), DATA_Y])


@fg.custom_jvp
def softplus(x):
    return fnp.logaddexp(0.0, x)


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * fg.scipy.special.expit(x)


@fg.custom_vjp
def smooth_abs(x):
    return fnp.sqrt(x * x + 1.0)


smooth_abs.defvjp(lambda x: (smooth_abs(x), x), lambda x, ct: (ct * x / fnp.sqrt(x * x + 1.0),))


def _block(x):
    return fnp.sin(x) * 0.5 + x * fnp.tanh(x)


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def normal(*shape):
    return lambda r: r.standard_normal(shape)


def positive(*shape):
    return lambda r: r.uniform(0.5, 1.5, shape)


_GATHER_ROWS = np.array([[5], [0], [5], [2]])


def _lax_layers(x):
    """funcgrad.lax array operations in one function: convolution, max pooling, dynamic slicing,
    gather, scans, padding and a general contraction."""
    img = fnp.reshape(x, (1, 1, 8))
    kernel = fnp.reshape(x[:3], (1, 1, 3))
    h = fnp.tanh(fg.lax.conv_general_dilated(img, kernel, (1,), "SAME", rhs_dilation=(2,)))
    pooled = fg.lax.reduce_window(h, -np.inf, fg.lax.max, (1, 1, 2), (1, 1, 2), "VALID")
    picked = fg.lax.dynamic_slice(pooled, (0, 0, 1), (1, 1, 2))
    gathered = fg.lax.gather(x, _GATHER_ROWS, fg.lax.GatherDimensionNumbers((), (0,), (0,)), (1,))
    padded = fg.lax.pad(x[:3], x[3], [(1, 1, 1)])
    contracted = fg.lax.dot_general(fnp.reshape(x, (2, 4)), fnp.reshape(x, (2, 4)), (((1,), (1,)), ((), ())))
    return (fnp.sum(picked ** 2) + fnp.sum(fg.lax.cumlogsumexp(gathered) * gathered) + fnp.sum(padded ** 2)
            + fnp.sum(fnp.sin(contracted)))


# (name, scalar function of one pytree argument, generator of that argument)
FUNCS = [
    ("elementwise", lambda x: fnp.sum(fnp.sin(x) * x + fnp.exp(-x * x)), normal(4)),
    ("rosenbrock", rosenbrock, lambda r: r.uniform(-1.0, 1.0, 4)),
    ("mlp_dict", mlp_loss, lambda r: {"w1": r.standard_normal((3, 2)), "b1": r.standard_normal(2),
                                      "w2": r.standard_normal((2, 3))}),
    ("tuple_args", lambda t: fnp.sum(fnp.tanh(t[0] @ t[1])) + fnp.prod(t[1][0]) * fnp.sum(t[2] ** 2),
     lambda r: (r.standard_normal((2, 3)), r.standard_normal((3, 2)), r.standard_normal())),
    ("indexing", lambda x: fnp.sum(x[::2] * x[1::2]) + fnp.sum(x[IDX] ** 3)
     + fnp.sum(fnp.at(x)[1].set(x[0] * x[2]) ** 2), normal(4)),
    ("reductions", lambda x: fnp.max(fnp.cumsum(x)) + fnp.var(x) + fnp.linalg.norm(x) ** 1.5
     + logsumexp(x * 2.0), normal(5)),
    ("matrix", lambda A: fnp.trace(A @ A) + fnp.sum(fnp.tanh(A) * A.T) + fnp.einsum("ij,ij->", A, A) ** 2,
     normal(2, 2)),
    ("where", lambda x: fnp.sum(fnp.where(x > 0, x ** 2, fnp.sin(x))), lambda r: r.choice([-1, 1], 5)
     * r.uniform(0.2, 1.0, 5)),
    ("broadcast_concat", lambda x: fnp.sum(fnp.concatenate([x, x[::-1] * 2.0]) * fnp.linspace(0, 1, 8))
     + fnp.sum((x[:, None] * x[None, :]) ** 2), normal(4)),
    ("division_pow_log", lambda x: fnp.sum(fnp.log(x) / (1.0 + x) + x ** x), positive(3)),
    ("custom_rules", lambda x: fnp.sum(softplus(x) * smooth_abs(x)), normal(4)),
    ("checkpoint", lambda x: fnp.sum(fg.checkpoint(_block)(fg.checkpoint(_block)(x)) ** 2), normal(3)),
    ("lax_layers", lambda x: _lax_layers(x), normal(8)),
]
IDS = [f[0] for f in FUNCS]


def batch_of(gen, seed):
    r = np.random.default_rng(seed)
    samples = [gen(r) for _ in range(B)]
    return samples, tree_map(lambda *xs: np.stack(xs), *samples)


def close(got, want, rtol=1e-6, atol=1e-6):
    got, want = flat_of(got) if not isinstance(got, np.ndarray) else got, want
    np.testing.assert_allclose(np.ravel(got), np.ravel(want), rtol=rtol, atol=atol * max(1.0, np.abs(want).max()))


def assert_same_tree(a, b):
    assert tree_flatten(a)[1] == tree_flatten(b)[1]
    for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
        assert isinstance(x, np.ndarray) and np.shape(x) == np.shape(y)


@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_vmap_of_grad(name, f, gen):
    samples, xs = batch_of(gen, 1)
    got = fg.vmap(fg.grad(f))(xs)
    for i, x in enumerate(samples):
        gi = tree_map(lambda g: np.asarray(g[i]), got)
        loop = fg.grad(f)(x)
        assert_same_tree(gi, x)
        close(flat_of(gi), flat_of(loop), rtol=1e-10, atol=1e-12)
        close(flat_of(gi), fd_grad(f, x))


@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_grad_of_vmap(name, f, gen):
    samples, xs = batch_of(gen, 2)
    weights = np.array([0.5, -2.0, 1.25])  # a non-uniform cotangent for the batch of outputs
    got = fg.grad(lambda xs: fnp.sum(fg.vmap(f)(xs) * weights))(xs)
    assert_same_tree(got, xs)
    for i, x in enumerate(samples):
        close(flat_of(tree_map(lambda g: g[i], got)), weights[i] * fd_grad(f, x))


@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_hessians_vs_finite_differences(name, f, gen):
    x = gen(np.random.default_rng(3))
    want = fd_hessian(f, x)
    scale = max(1.0, np.abs(want).max())
    for which, H in (("hessian", fg.hessian(f)(x)),
                     ("jacfwd(jacrev)", fg.jacfwd(fg.jacrev(f))(x)),
                     ("jacrev(jacfwd)", fg.jacrev(fg.jacfwd(f))(x))):
        M = hessian_blocks_to_matrix(H, x)
        np.testing.assert_allclose(M, want, rtol=1e-5, atol=1e-5 * scale, err_msg=which)


@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_jvp_of_grad_is_a_hessian_vector_product(name, f, gen):
    r = np.random.default_rng(4)
    x = gen(r)
    flat, unravel = ravel(x)
    t = unravel(r.standard_normal(flat.size))
    g, hv = fg.jvp(fg.grad(f), (x,), (t,))
    assert_same_tree(hv, x)
    close(flat_of(g), fd_grad(f, x))
    close(flat_of(hv), fd_hessian(f, x) @ flat_of(t), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_vmap_of_vmap(name, f, gen):
    r = np.random.default_rng(5)
    samples = [[gen(r) for _ in range(2)] for _ in range(B)]
    xss = tree_map(lambda *rows: np.stack(rows), *[tree_map(lambda *xs: np.stack(xs), *row) for row in samples])
    got = fg.vmap(fg.vmap(f))(xss)
    want = np.array([[f(x) for x in row] for row in samples])
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # and with the gradient inside, against finite differences
    g = fg.vmap(fg.vmap(fg.grad(f)))(xss)
    for i in range(B):
        for j in range(2):
            close(flat_of(tree_map(lambda a: a[i, j], g)), fd_grad(f, samples[i][j]))


@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_vmap_of_jvp_with_per_example_tangents(name, f, gen):
    samples, xs = batch_of(gen, 6)
    r = np.random.default_rng(7)
    ts = tree_map(lambda a: r.standard_normal(a.shape), xs)
    out, tout = fg.vmap(lambda x, t: fg.jvp(f, (x,), (t,)))(xs, ts)
    for i, x in enumerate(samples):
        np.testing.assert_allclose(out[i], f(x), rtol=1e-10)
        t = tree_map(lambda a: a[i], ts)
        np.testing.assert_allclose(tout[i], fd_grad(f, x) @ flat_of(t), rtol=1e-6, atol=1e-6)


def test_vmap_of_vjp_with_per_example_cotangents():
    f = lambda x: fnp.stack([fnp.sum(fnp.sin(x)), x[0] * x[1], fnp.prod(x)])
    xs = np.random.default_rng(8).standard_normal((B, 3))
    cts = np.random.default_rng(9).standard_normal((B, 3))

    def per_example(x, ct):
        return fg.vjp(f, x)[1](ct)[0]

    got = fg.vmap(per_example)(xs, cts)
    for i in range(B):
        J = np.stack([fd_grad(lambda v, k=k: np.asarray(f(v))[k], xs[i]) for k in range(3)])
        np.testing.assert_allclose(got[i], cts[i] @ J, rtol=1e-6, atol=1e-8)
    # the same pullback, one cotangent per example through vmap (what jacrev does)
    _, pullback = fg.vjp(f, xs[0])
    rows = fg.vmap(lambda ct: pullback(ct)[0])(cts)
    J0 = np.stack([fd_grad(lambda v, k=k: np.asarray(f(v))[k], xs[0]) for k in range(3)])
    np.testing.assert_allclose(rows, cts @ J0, rtol=1e-6, atol=1e-8)


def test_vmap_of_grad_with_unbatched_parameters_per_example_gradients():
    def loss(p, x, y):
        logits = fnp.tanh(x @ p["w"] + p["b"])
        return logsumexp(logits) - logits[y]

    r = np.random.default_rng(10)
    p = {"w": r.standard_normal((3, 4)), "b": r.standard_normal(4)}
    xs, ys = r.standard_normal((5, 3)), r.integers(0, 4, 5)
    got = fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(p, xs, ys)
    assert got["w"].shape == (5, 3, 4) and got["b"].shape == (5, 4)
    for i in range(5):
        want = fd_grad(lambda q: loss(q, xs[i], ys[i]), p)
        close(flat_of(tree_map(lambda g: g[i], got)), want)


def test_jacobians_of_vmapped_functions_and_vmapped_jacobians():
    f = lambda x: fnp.sin(x) * fnp.sum(x ** 2)
    xs = np.random.default_rng(11).standard_normal((B, 3))
    per_example = fg.vmap(fg.jacrev(f))(xs)
    per_example_fwd = fg.vmap(fg.jacfwd(f))(xs)
    whole = fg.jacfwd(fg.vmap(f))(xs)  # (B, 3, B, 3), block diagonal
    for i in range(B):
        J = np.stack([fd_grad(lambda v, k=k: np.asarray(f(v))[k], xs[i]) for k in range(3)])
        np.testing.assert_allclose(per_example[i], J, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(per_example_fwd[i], J, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(whole[i, :, i, :], J, rtol=1e-6, atol=1e-8)
        for j in range(B):
            if j != i:
                np.testing.assert_array_equal(whole[i, :, j, :], 0.0)
    np.testing.assert_allclose(fg.jacrev(fg.vmap(f))(xs), whole, rtol=1e-12)


def test_no_perturbation_confusion_across_vmap_and_grad():
    # d/dx [ x * d/dy (x + y) ] = 1, with the inner derivative taken per example under vmap
    def outer(x):
        inner = fg.vmap(fg.grad(lambda y: fnp.sum(x + y)))(np.ones((2, 1)))
        return x * fnp.sum(inner) / 2.0

    np.testing.assert_allclose(fg.grad(outer)(np.array(3.0)), 1.0)
    np.testing.assert_allclose(fg.vmap(fg.grad(outer))(np.array([1.0, 2.0])), [1.0, 1.0])


# --- with jit on either side --------------------------------------------------------------------


JIT_COMPOSITIONS = {
    "jit(vmap(grad))": lambda f: fg.jit(fg.vmap(fg.grad(f))),
    "vmap(jit(grad))": lambda f: fg.vmap(fg.jit(fg.grad(f))),
    "vmap(grad(jit))": lambda f: fg.vmap(fg.grad(fg.jit(f))),
    "grad(jit(vmap))": lambda f: fg.grad(lambda xs: fnp.sum(fg.jit(fg.vmap(f))(xs))),
}


@pytest.mark.parametrize("combo", list(JIT_COMPOSITIONS))
@pytest.mark.parametrize("name,f,gen", FUNCS, ids=IDS)
def test_jit_with_vmap_and_grad(name, f, gen, combo):
    samples, xs = batch_of(gen, 12)
    transformed = JIT_COMPOSITIONS[combo](f)
    for _ in range(2):  # the second call runs the cached compiled program
        got = transformed(xs)
        assert_same_tree(got, xs)
        for i, x in enumerate(samples):
            close(flat_of(tree_map(lambda g: np.asarray(g[i]), got)), fd_grad(f, x))


@pytest.mark.parametrize("name,f,gen", FUNCS[:4] + FUNCS[-2:], ids=IDS[:4] + IDS[-2:])
def test_jit_of_hessian_and_hessian_of_jit(name, f, gen):
    x = gen(np.random.default_rng(13))
    want = fd_hessian(f, x)
    scale = max(1.0, np.abs(want).max())
    for which, H in (("jit(hessian)", fg.jit(fg.hessian(f))(x)), ("hessian(jit)", fg.hessian(fg.jit(f))(x))):
        np.testing.assert_allclose(hessian_blocks_to_matrix(H, x), want, rtol=1e-5, atol=1e-5 * scale, err_msg=which)
