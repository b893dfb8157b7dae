"""funcgrad's transformations on Dask arrays, computed on a real ``distributed.LocalCluster``.

Dask is a test requirement (``pip install -e ".[test,dask]"``): these tests never skip. One
cluster (two worker processes) serves the whole module and is closed at its end.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import UnsupportedArrayTypeError

TOL = 1e-12


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           memory_limit="1GiB", silence_logs=40)
    c = Client(cluster, timeout="60s")
    try:
        yield c
    finally:
        c.close(timeout=30)
        cluster.close(timeout=30)


def _data(seed: int = 0, n: int = 64, d: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    w = rng.standard_normal(d) * 0.3
    return X, y, w


def logistic_loss(w, X, y):
    return fnp.mean(fnp.logaddexp(0.0, -y * (X @ w))) + 0.01 * fnp.sum(w ** 2)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)


def test_grad_is_lazy_and_matches_numpy_on_the_cluster(client):
    X, y, w = _data()
    dX, dy = da.from_array(X, chunks=(16, 5)), da.from_array(y, chunks=16)
    g = fg.grad(logistic_loss, argnums=(0, 1))(w, dX, dy)
    assert all(isinstance(v, da.Array) for v in g)  # nothing computed yet
    gw, gX = client.compute(g, sync=True)
    ref_w, ref_X = fg.grad(logistic_loss, argnums=(0, 1))(w, X, y)
    _close(gw, ref_w)
    _close(gX, ref_X)


def test_value_and_grad_form_one_graph(client):
    X, y, w = _data(1)
    dX, dy, dw = da.from_array(X, chunks=(16, 5)), da.from_array(y, chunks=16), da.from_array(w)
    value, g = fg.value_and_grad(logistic_loss)(dw, dX, dy)
    assert isinstance(value, da.Array) and isinstance(g, da.Array)
    # the gradient's graph is built on the forward pass's tasks: the scheduler computes them once
    shared = set(dict(value.__dask_graph__())) & set(dict(g.__dask_graph__()))
    assert len(shared) > 3
    v, gw = dask.compute(value, g, scheduler=client.get)
    rv, rg = fg.value_and_grad(logistic_loss)(w, X, y)
    _close(v, rv)
    _close(gw, rg)


def test_vjp_takes_a_dask_cotangent_and_jvp_a_dask_tangent(client):
    x = np.linspace(-1.0, 2.0, 24).reshape(6, 4)
    dx = da.from_array(x, chunks=(3, 2))
    ct = np.cos(x) + 0.5
    f = lambda v: fnp.sin(v) * fnp.exp(v / 3.0)  # noqa: E731
    out, pullback = fg.vjp(f, dx)
    (g,) = pullback(da.from_array(ct, chunks=(2, 4)))
    assert isinstance(out, da.Array) and isinstance(g, da.Array)
    _close(client.compute(g, sync=True), fg.vjp(f, x)[1](ct)[0])
    primal, tangent = fg.jvp(f, (dx,), (da.from_array(ct, chunks=(3, 2)),))
    assert isinstance(tangent, da.Array)
    _close(client.compute(tangent, sync=True), fg.jvp(f, (x,), (ct,))[1])


@pytest.mark.parametrize("name", ["vmap_grad", "jacfwd", "jacrev", "hessian", "checkpoint", "custom_vjp",
                                  "elementwise_grad", "grad_of_grad"])
def test_every_transformation_returns_lazy_dask_arrays(client, name):
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    dx = da.from_array(x, chunks=(1, 4))
    f = lambda v: fnp.sum(fnp.tanh(v) * v ** 2)  # noqa: E731

    @fg.custom_vjp
    def soft(v):
        return fnp.tanh(v)

    soft.defvjp(lambda v: (fnp.tanh(v), v), lambda v, ct: (ct * (1.0 - fnp.tanh(v) ** 2),))
    transforms = {
        "vmap_grad": lambda a: fg.vmap(fg.grad(f))(a),
        "jacfwd": lambda a: fg.jacfwd(lambda v: fnp.sin(v) * v[::-1])(a[0]),
        "jacrev": lambda a: fg.jacrev(lambda v: fnp.sin(v) * v[::-1])(a[0]),
        "hessian": lambda a: fg.hessian(f)(a[1]),
        "checkpoint": lambda a: fg.grad(fg.checkpoint(f))(a),
        "custom_vjp": lambda a: fg.grad(lambda v: fnp.sum(soft(v) * v))(a),
        "elementwise_grad": lambda a: fg.elementwise_grad(fnp.sin)(a),
        "grad_of_grad": lambda a: fg.grad(lambda s: fg.grad(lambda t: fnp.sin(t) * t)(s))(a[0, 1]),
    }
    result = transforms[name](dx)
    assert isinstance(result, da.Array), type(result)
    _close(client.compute(result, sync=True), transforms[name](x))


def test_jit_builds_the_graph_and_keys_its_cache_on_type_and_chunks(client):
    X, y, w = _data(2)
    step = fg.jit(fg.value_and_grad(logistic_loss))
    dX, dy = da.from_array(X, chunks=(16, 5)), da.from_array(y, chunks=16)
    value, g = step(w, dX, dy)
    assert isinstance(value, da.Array) and isinstance(g, da.Array)
    v, gw = client.compute((value, g), sync=True)
    rv, rg = step(w, X, y)  # the NumPy call is its own cache entry
    _close(v, rv)
    _close(gw, rg)
    assert step.misses == 2
    step(w, da.from_array(X, chunks=(16, 5)), da.from_array(y, chunks=16))  # same chunks: a hit
    assert step.misses == 2
    step(w, da.from_array(X, chunks=(32, 5)), da.from_array(y, chunks=32))  # new chunks: a new entry
    assert step.misses == 3
    # the generated code is the same for both array types: it calls NumPy, which dispatches
    assert fg.jit(logistic_loss).lower(w, dX, dy).source == fg.jit(logistic_loss).lower(w, X, y).source


def test_jit_of_grad_with_an_unused_argument_gives_dask_zeros(client):
    x = da.from_array(np.arange(6.0), chunks=3)
    g = fg.jit(fg.grad(lambda a, b: fnp.sum(a * 2.0), argnums=(0, 1)))(x, x)
    assert all(isinstance(v, da.Array) for v in g)
    _close(client.compute(g[1], sync=True), np.zeros(6))
    _close(client.compute(g[0], sync=True), np.full(6, 2.0))


def test_mixed_numpy_constant_and_dask_argument_follow_dask(client):
    X, y, w = _data(3)
    dw = da.from_array(w, chunks=5)
    g = fg.grad(logistic_loss)(dw, X, y)  # NumPy data, Dask parameters: Dask's rules give Dask
    assert isinstance(g, da.Array)
    _close(client.compute(g, sync=True), fg.grad(logistic_loss)(w, X, y))


def test_python_control_flow_on_a_lazy_scalar_computes_it_as_dask_does(client):
    x = np.linspace(0.1, 1.0, 8)

    def f(v):
        s = fnp.sum(v)
        if s > 1.0:  # bool() of a lazy Dask scalar: Dask computes it (and so does funcgrad)
            return s * fnp.sum(v ** 2)
        return s

    g = fg.grad(f)(da.from_array(x, chunks=4))
    assert isinstance(g, da.Array)
    _close(client.compute(g, sync=True), fg.grad(f)(x))


def test_an_operation_dask_lacks_raises_a_clear_error(client):
    x = da.from_array(np.arange(4.0), chunks=2)
    idx = np.array([0, 0, 3])  # repeated indices: the derivative needs np.add.at
    with pytest.raises(UnsupportedArrayTypeError, match=r"index_add.*dask\.array\.Array"):
        fg.grad(lambda v: fnp.sum(v[idx] ** 2))(x)


def test_out_of_core_example_small_mode(client):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "examples" / "out_of_core_regression.py"
    spec = importlib.util.spec_from_file_location("out_of_core_regression", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--small", "--steps", "2"], client=client)
    assert result["losses"][0] == pytest.approx(np.log(2.0), abs=1e-12)  # w = 0 at the start
    assert result["losses"][1] < result["losses"][0]
    np.testing.assert_allclose(result["dask_slice"], result["numpy_slice"], rtol=1e-12, atol=1e-12)


def _scan_loss(v, xs):
    from funcgrad import lax

    c, ys = lax.scan(lambda c, x: (fnp.tanh(c * x + 0.3 * c), fnp.sum(c * x)), v, xs)
    return fnp.sum(c) + fnp.sum(ys ** 2)


def _loops(name):
    from funcgrad import lax

    cases = {
        "scan": _scan_loss,
        "fori_loop": lambda v, xs: fnp.sum(lax.fori_loop(0, 3, lambda i, u: fnp.sin(u) * (i + 1) + 0.1 * u, v)),
        "while_loop": lambda v, xs: fnp.sum(lax.while_loop(lambda s: s[0] < 3,
                                                           lambda s: (s[0] + 1, fnp.sin(s[1]) * 1.1), (0, v))[1] ** 2),
        "cond": lambda v, xs: fnp.sum(lax.cond(fnp.sum(v) > 0, lambda u: fnp.sin(u) * 2.0, lambda u: fnp.cos(u), v)),
    }
    return cases[name]


@pytest.mark.parametrize("transform", ["grad", "jit_grad", "grad_jit", "jit_vmap_grad"])
@pytest.mark.parametrize("name", ["scan", "fori_loop", "while_loop", "cond"])
def test_loops_and_branches_on_dask_arrays(client, name, transform):
    # arrays funcgrad makes inside loops/branches and their derived programs are Dask arrays too
    f = _loops(name)
    v = np.array([0.3, -0.7, 0.5, 0.2])
    xs = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    t = {"grad": fg.grad, "jit_grad": lambda g: fg.jit(fg.grad(g)), "grad_jit": lambda g: fg.grad(fg.jit(g)),
         "jit_vmap_grad": lambda g: fg.jit(fg.vmap(fg.grad(g), in_axes=(0, None)))}[transform]
    arg = np.stack([v, -v]) if "vmap" in transform else v
    got = t(f)(da.from_array(arg, chunks=2), da.from_array(xs, chunks=(1, 2)))
    assert isinstance(got, da.Array), type(got)
    _close(client.compute(got, sync=True), t(f)(arg, xs))
