"""jacfwd, jacrev, hessian and linearize (issue 4 §2).

Expected values come from central finite differences (computed here with plain NumPy) or from
closed forms; never from funcgrad in the same mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy.special import logsumexp
from funcgrad.tree_util import tree_flatten, tree_map, tree_structure, tree_unflatten

EPS = 1e-6


def fd_jac(g, x, eps=EPS):
    """Central-difference Jacobian of an array -> array function: shape out.shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    out0 = np.asarray(g(x))
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(g(x + e), np.float64) - np.asarray(g(x - e), np.float64)) / (2 * eps))
    if not cols:
        return np.zeros(out0.shape + x.shape)
    return np.moveaxis(np.stack(cols), 0, -1).reshape(out0.shape + x.shape)


def fd_jac_tree(f, args, argnums=0):
    """Finite-difference Jacobian with JAX's block structure (output tree of argument trees)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    out_leaves, out_tree = tree_flatten(f(*args))
    per_out = [[] for _ in out_leaves]  # per output leaf: one argument tree per argnum
    for n in nums:
        in_leaves, in_tree = tree_flatten(args[n])
        blocks = [[] for _ in out_leaves]
        for i, leaf in enumerate(in_leaves):
            def g(v, i=i, n=n, in_leaves=in_leaves, in_tree=in_tree):
                new = list(in_leaves)
                new[i] = v
                full = list(args)
                full[n] = tree_unflatten(in_tree, new)
                return np.concatenate([np.ravel(o) for o in tree_flatten(f(*full))[0]])

            J = fd_jac(g, leaf)  # (total_out,) + leaf.shape
            start = 0
            for j, o in enumerate(out_leaves):
                size = np.size(o)
                blocks[j].append(J[start:start + size].reshape(np.shape(o) + np.shape(leaf)))
                start += size
        for j in range(len(out_leaves)):
            per_out[j].append(tree_unflatten(in_tree, blocks[j]))
    return tree_unflatten(out_tree, [p[0] if isinstance(argnums, int) else tuple(p) for p in per_out])


def fd_hessian(f, x, h=1e-4):
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    H = np.zeros((n, n))
    flat = x.ravel()
    for i in range(n):
        for j in range(n):
            def at(di, dj):
                y = flat.copy()
                y[i] += di
                y[j] += dj
                return float(f(y.reshape(x.shape)))

            H[i, j] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def assert_tree_close(got, want, rtol=1e-6, atol=1e-7):
    g_leaves, g_tree = tree_flatten(got)
    w_leaves, w_tree = tree_flatten(want)
    assert g_tree == w_tree, f"\n{g_tree}\n{w_tree}"
    for g, w in zip(g_leaves, w_leaves):
        assert isinstance(g, np.ndarray), type(g)
        assert g.shape == np.shape(w), (g.shape, np.shape(w))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


JACS = [pytest.param(fg.jacfwd, id="jacfwd"), pytest.param(fg.jacrev, id="jacrev")]

rng = np.random.default_rng(0)
X3 = rng.standard_normal(3)
M23 = rng.standard_normal((2, 3))

# (name, f, args) for f: arrays -> array
FUNCS = [
    ("sin", fnp.sin, (X3,)),
    ("linear", lambda x: M23 @ x, (X3,)),
    ("vector_to_scalar", lambda x: fnp.sum(fnp.exp(x) * x), (X3,)),
    ("scalar_to_vector", lambda t: fnp.stack([fnp.cos(t), fnp.sin(t), t * t]), (np.array(0.7),)),
    ("scalar_to_scalar", lambda t: fnp.tanh(t) * t, (np.array(-0.3),)),
    ("matrix_to_matrix", lambda A: A @ A.T + fnp.sin(A[:, :2]).sum(), (M23,)),
    ("matrix_to_vector", lambda A: fnp.linalg.norm(A, axis=1), (M23,)),
    ("softmax", lambda x: fnp.exp(x - logsumexp(x)), (X3,)),
    ("indexing", lambda x: fnp.concatenate([x[::-1], x[np.array([0, 0])], fnp.at(x)[1].set(3.0 * x[2])]), (X3,)),
    ("reductions", lambda x: fnp.stack([fnp.max(x), fnp.prod(x), fnp.cumsum(x)[-1], fnp.mean(x ** 2)]), (X3,)),
]


@pytest.mark.parametrize("jac", JACS)
@pytest.mark.parametrize("name,f,args", FUNCS, ids=[c[0] for c in FUNCS])
def test_jacobian_vs_finite_differences(jac, name, f, args):
    got = jac(f)(*args)
    want = fd_jac(f, args[0])
    out = np.asarray(f(*args))
    assert got.shape == out.shape + args[0].shape
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jac", JACS)
def test_closed_forms(jac):
    A = rng.standard_normal((4, 3))
    np.testing.assert_allclose(jac(lambda x: A @ x)(X3), A, rtol=1e-14)
    np.testing.assert_allclose(jac(fnp.sin)(X3), np.diag(np.cos(X3)), rtol=1e-14)
    np.testing.assert_allclose(jac(lambda x: x * fnp.sum(x))(X3), np.eye(3) * X3.sum() + X3[:, None], rtol=1e-14)
    # d(A X)/dX for matrix X: block J[i, j, k, l] = A[i, k] δ(j, l)
    X = rng.standard_normal((3, 2))
    want = np.einsum("ik,jl->ijkl", A, np.eye(2))
    np.testing.assert_allclose(jac(lambda X: A @ X)(X), want, rtol=1e-14)


@pytest.mark.parametrize("jac", JACS)
def test_argnums_int_and_tuple(jac):
    x, y = rng.standard_normal(3), rng.standard_normal(2)
    f = lambda x, y: fnp.outer(fnp.sin(x), y).ravel() * 2.0
    jy = jac(f, argnums=1)(x, y)
    np.testing.assert_allclose(jy, fd_jac(lambda v: f(x, v), y), rtol=1e-6, atol=1e-8)
    both = jac(f, argnums=(0, 1))(x, y)
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[0], fd_jac(lambda v: f(v, y), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(both[1], jy, rtol=1e-12)
    single = jac(f, argnums=(1,))(x, y)
    assert isinstance(single, tuple) and len(single) == 1
    np.testing.assert_allclose(single[0], jy, rtol=1e-12)
    neg = jac(f, argnums=-1)(x, y)
    np.testing.assert_allclose(neg, jy, rtol=1e-12)


@pytest.mark.parametrize("jac", JACS)
def test_has_aux(jac):
    def f(x):
        y = fnp.sin(x) * x[0]
        return y, {"y": y, "n": 7}

    J, aux = jac(f, has_aux=True)(X3)
    np.testing.assert_allclose(J, fd_jac(lambda v: f(v)[0], X3), rtol=1e-6, atol=1e-8)
    assert set(aux) == {"y", "n"}
    assert isinstance(aux["y"], np.ndarray) and aux["y"].shape == (3,)
    np.testing.assert_allclose(aux["y"], np.sin(X3) * X3[0])
    assert aux["n"] == 7


@pytest.mark.parametrize("jac", JACS)
def test_has_aux_must_return_a_pair(jac):
    with pytest.raises(fg.HasAuxError):
        jac(lambda x: x * 2.0, has_aux=True)(X3)


@pytest.mark.parametrize("jac", JACS)
def test_argnums_out_of_range(jac):
    with pytest.raises(fg.ArgnumsError):
        jac(lambda x: x, argnums=1)(X3)


@pytest.mark.parametrize("jac", JACS)
def test_integer_input_rejected(jac):
    with pytest.raises(fg.IntegerInputError):
        jac(lambda x: x * 2)(np.arange(3))


def _net(params, x):
    h = fnp.tanh(x @ params["w"] + params["b"])
    return {"out": h, "norm": fnp.sum(h * h), "pair": (h[0], params["b"] * 2.0)}


@pytest.mark.parametrize("jac", JACS)
def test_pytree_block_structure(jac):
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    J = jac(_net)(params, x)
    # output tree of argument trees, each block out.shape + in.shape
    assert set(J) == {"out", "norm", "pair"}
    assert set(J["out"]) == {"w", "b"}
    assert J["out"]["w"].shape == (2, 3, 2) and J["out"]["b"].shape == (2, 2)
    assert J["norm"]["w"].shape == (3, 2) and J["norm"]["b"].shape == (2,)
    assert isinstance(J["pair"], tuple) and J["pair"][0]["w"].shape == (3, 2)
    assert J["pair"][1]["b"].shape == (2, 2)
    np.testing.assert_allclose(J["pair"][1]["b"], 2.0 * np.eye(2), rtol=1e-14)
    np.testing.assert_array_equal(J["pair"][1]["w"], np.zeros((2, 3, 2)))
    assert_tree_close(J, fd_jac_tree(_net, (params, x)))


@pytest.mark.parametrize("jac", JACS)
def test_pytree_with_argnums_tuple(jac):
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    J = jac(_net, argnums=(0, 1))(params, x)
    assert isinstance(J["norm"], tuple) and len(J["norm"]) == 2
    assert J["out"][1].shape == (2, 3)
    assert_tree_close(J, fd_jac_tree(_net, (params, x), (0, 1)))


@pytest.mark.parametrize("jac", JACS)
def test_list_and_tuple_input_trees(jac):
    def f(xs):
        a, (b, c) = xs
        return [a * b[0], fnp.sum(c) * a]

    xs = [np.array([1.0, 2.0]), (np.array([3.0, -1.0]), np.array(0.5))]
    J = jac(f)(xs)
    assert tree_structure(J) == tree_structure([[0, (0, 0)], [0, (0, 0)]])
    assert_tree_close(J, fd_jac_tree(f, (xs,)))


@pytest.mark.parametrize("jac", JACS)
def test_float32_jacobian_stays_float32(jac):
    x = np.array([0.5, 1.0, 2.0], np.float32)
    J = jac(lambda v: fnp.sin(v) * 2.0)(x)
    assert J.dtype == np.float32
    np.testing.assert_allclose(J, np.diag(2 * np.cos(x)), rtol=1e-6)


@pytest.mark.parametrize("jac", JACS)
def test_one_vectorised_pass_not_a_loop_over_basis_vectors(jac):
    calls = []

    def f(x):
        calls.append(1)
        return fnp.sin(x) * 2.0

    jac(f)(np.ones(50))
    assert len(calls) == 1  # 50 basis vectors, one call of f


@pytest.mark.parametrize("jac", JACS)
def test_constant_output_has_a_zero_jacobian(jac):
    J = jac(lambda x: np.ones(2))(X3)
    np.testing.assert_array_equal(J, np.zeros((2, 3)))


def test_jacobian_with_keyword_arguments_held_fixed():
    f = lambda x, scale=1.0: x * scale
    np.testing.assert_allclose(fg.jacrev(f)(X3, scale=3.0), 3.0 * np.eye(3))
    np.testing.assert_allclose(fg.jacfwd(f)(X3, scale=3.0), 3.0 * np.eye(3))


# --- hessian --------------------------------------------------------------------------------


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] += -400.0 * x[i]
        H[i + 1, i] += -400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return H


@pytest.mark.parametrize("x", [np.array([-1.2, 1.0]), np.array([0.3, -0.5, 1.1, 0.9, 2.0])])
def test_hessian_of_rosenbrock_closed_form(x):
    H = fg.hessian(rosenbrock)(x)
    np.testing.assert_allclose(H, rosenbrock_hessian(x), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(H, fd_hessian(lambda v: np.sum(100 * (v[1:] - v[:-1] ** 2) ** 2
                                                           + (1 - v[:-1]) ** 2), x), rtol=1e-5, atol=1e-3)


def test_hessian_of_a_quadratic_form():
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    np.testing.assert_allclose(fg.hessian(lambda v: v @ A @ v)(x), A + A.T, rtol=1e-13)


@pytest.mark.parametrize("name,f", [
    ("logsumexp", lambda x: logsumexp(x * x)),
    ("mixed", lambda x: fnp.sum(fnp.sin(x) * fnp.cumprod(x)) + fnp.prod(x) + fnp.linalg.norm(x) ** 3),
    ("matrix_input", lambda A: fnp.sum(fnp.tanh(A @ A.T))),
])
def test_hessian_vs_finite_differences(name, f):
    x = rng.uniform(0.3, 1.2, (2, 2) if name == "matrix_input" else 4)
    H = fg.hessian(f)(x)
    assert H.shape == x.shape + x.shape
    np.testing.assert_allclose(H, fd_hessian(f, x), rtol=1e-5, atol=1e-6)
    Hf = H.reshape(x.size, x.size)
    np.testing.assert_allclose(Hf, Hf.T, rtol=1e-12, atol=1e-12)


def test_hessian_pytree_blocks_and_argnums():
    def f(p, x):
        return fnp.sum(fnp.sin(p["a"] * x) * p["b"]) + p["b"] ** 3

    p = {"a": rng.standard_normal(3), "b": np.array(0.7)}
    x = rng.standard_normal(3)
    H = fg.hessian(f)(p, x)
    assert set(H) == {"a", "b"} and set(H["a"]) == {"a", "b"}
    assert H["a"]["a"].shape == (3, 3) and H["a"]["b"].shape == (3,) and H["b"]["a"].shape == (3,)
    assert H["b"]["b"].shape == ()
    a, b = p["a"], p["b"]
    np.testing.assert_allclose(H["a"]["a"], np.diag(-np.sin(a * x) * x * x * b), rtol=1e-12)
    np.testing.assert_allclose(H["a"]["b"], np.cos(a * x) * x, rtol=1e-12)
    np.testing.assert_allclose(H["b"]["a"], np.cos(a * x) * x, rtol=1e-12)
    np.testing.assert_allclose(H["b"]["b"], 6.0 * b, rtol=1e-12)
    H2 = fg.hessian(f, argnums=(0, 1))(p, x)
    # JAX's structure: the gradient's tree (a tuple: dict for p, array for x), each leaf holding a
    # tuple over argnums of argument trees.
    assert isinstance(H2, tuple) and set(H2[0]) == {"a", "b"} and isinstance(H2[0]["a"], tuple)
    assert isinstance(H2[1], tuple) and len(H2[1]) == 2 and set(H2[1][0]) == {"a", "b"}
    np.testing.assert_allclose(H2[0]["a"][0]["a"], H["a"]["a"], rtol=1e-14)
    np.testing.assert_allclose(H2[1][1], np.diag(-np.sin(a * x) * a * a * b), rtol=1e-12)
    cross = np.diag(-np.sin(a * x) * a * x * b + np.cos(a * x) * b)  # d/dx of df/da
    np.testing.assert_allclose(H2[0]["a"][1], cross, rtol=1e-12)
    np.testing.assert_allclose(H2[1][0]["a"], cross.T, rtol=1e-12)


def test_hessian_has_aux():
    H, aux = fg.hessian(lambda x: (fnp.sum(x ** 3), x.shape[0]), has_aux=True)(X3)
    np.testing.assert_allclose(H, np.diag(6 * X3), rtol=1e-13)
    assert aux == 3


# --- linearize ------------------------------------------------------------------------------


def test_linearize_value_and_jvp_vs_finite_differences():
    f = lambda x: fnp.sin(x) * fnp.sum(x ** 2)
    y, f_jvp = fg.linearize(f, X3)
    np.testing.assert_allclose(y, np.sin(X3) * np.sum(X3 ** 2), rtol=1e-14)
    J = fd_jac(f, X3)
    t1, t2 = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(f_jvp(t1), J @ t1, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(f_jvp(t2), J @ t2, rtol=1e-6, atol=1e-8)  # reusable
    # linear in the tangent
    np.testing.assert_allclose(f_jvp(2.0 * t1 - 3.0 * t2), 2.0 * f_jvp(t1) - 3.0 * f_jvp(t2), rtol=1e-12)


def test_linearize_pytree_primals_and_several_arguments():
    def f(p, x):
        return {"u": p["w"] @ x, "v": fnp.sum(p["b"]) * x}

    p = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    y, f_jvp = fg.linearize(f, p, x)
    assert isinstance(y["u"], np.ndarray)
    tp = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    tx = rng.standard_normal(3)
    t = f_jvp(tp, tx)
    np.testing.assert_allclose(t["u"], tp["w"] @ x + p["w"] @ tx, rtol=1e-13)
    np.testing.assert_allclose(t["v"], np.sum(tp["b"]) * x + np.sum(p["b"]) * tx, rtol=1e-13)


def test_linearize_checks_tangents():
    _, f_jvp = fg.linearize(fnp.sin, X3)
    with pytest.raises(fg.TangentMismatchError):
        f_jvp(np.ones(4))


def test_jacobian_rows_match_linearize_and_vjp_columns():
    """jacfwd columns = jvp of basis vectors; jacrev rows = pullbacks: checked against each other
    and against finite differences on a function with a non-square Jacobian."""
    f = lambda x: fnp.stack([fnp.sum(x * x), x[0] * x[1], fnp.exp(x[2])])
    x = rng.standard_normal(4)
    Jf, Jr = fg.jacfwd(f)(x), fg.jacrev(f)(x)
    np.testing.assert_allclose(Jf, Jr, rtol=1e-13)
    np.testing.assert_allclose(Jf, fd_jac(f, x), rtol=1e-6, atol=1e-8)


def test_jacobian_of_nested_trees_of_outputs_with_tree_map():
    f = lambda x: {"a": x * 2.0, "b": [fnp.sum(x), x[:2]]}
    J = fg.jacrev(f)(X3)
    want = tree_map(lambda o: o, fd_jac_tree(f, (X3,)))
    assert_tree_close(J, want)
