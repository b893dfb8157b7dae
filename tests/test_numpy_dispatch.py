"""Traced values behave like NumPy arrays: operators (including reversed operands), comparisons,
methods and properties; plain NumPy calls inside transformed functions dispatch to funcgrad.numpy;
what funcgrad does not cover, or what would drop a derivative, raises a clear error.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads

rng = np.random.default_rng(99)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same random data whichever tests run before it (-k, reordering)."""
    global rng
    rng = np.random.default_rng([99, zlib.crc32(request.node.name.encode())])
X = rng.uniform(0.3, 1.7, 3)  # away from the jumps of // and % used below
W = rng.standard_normal((3, 2))
M = rng.standard_normal((3, 4))


def traced_value(f, *args):
    """The output of ``f`` as vjp returns it, checked to be an ndarray."""
    out = fg.vjp(f, *args)[0]
    assert type(out) is np.ndarray, type(out)
    return out


def assert_matches_numpy(f, *args, grads=True):
    """``f`` on traced values gives what it gives on plain arrays; its derivatives pass check_grads."""
    ref = f(*args)
    out = traced_value(f, *args)
    assert out.shape == np.shape(ref) and out.dtype == np.asarray(ref).dtype
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    if grads:
        check_grads(f, args, order=2)


# --- operators --------------------------------------------------------------------------------------

OPERATORS = {
    "add": lambda a: a + 2.0, "radd": lambda a: 1 + a, "sub": lambda a: a - 0.5, "rsub": lambda a: 2.0 - a,
    "mul": lambda a: a * 3, "rmul": lambda a: 3.0 * a, "div": lambda a: a / 4.0, "rdiv": lambda a: 1.0 / a,
    "pow": lambda a: a ** 3, "pow float": lambda a: a ** 2.5, "rpow": lambda a: 2.0 ** a,
    "pow tracer": lambda a: a ** a,
    "floordiv": lambda a: a // 0.25 + a, "rfloordiv": lambda a: 5.1 // a + a, "mod": lambda a: a % 0.25,
    "rmod": lambda a: 5.1 % a, "neg": lambda a: -a, "pos": lambda a: +a, "abs": lambda a: abs(a - 1.0),
    "matmul": lambda a: a @ W, "rmatmul ndarray": lambda a: W.T @ a, "matmul vector": lambda a: a @ a,
    "tracer op tracer": lambda a: a * a - a / (a + 1.0),
    "add ndarray": lambda a: a + np.ones(3), "ndarray mul": lambda a: np.ones(3) * a,
    "ndarray sub": lambda a: np.arange(3.0) - a, "ndarray div": lambda a: np.ones(3) / a,
    "broadcast": lambda a: a[:, None] * np.ones((3, 2)) + a[:2],
    "numpy scalar": lambda a: np.float64(2.0) * a - a * np.float32(3.0),
}


@pytest.mark.parametrize("name", list(OPERATORS))
def test_operators(name):
    assert_matches_numpy(OPERATORS[name], X)


@pytest.mark.parametrize("name", ["add", "rsub", "rdiv", "rpow", "mul", "rmatmul ndarray", "ndarray mul", "mod"])
def test_operators_float32(name):
    f = OPERATORS[name]
    x32 = X.astype(np.float32)
    ref = f(x32)
    out, pullback = fg.vjp(f, x32)
    assert out.dtype == ref.dtype
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    assert pullback(np.ones_like(out))[0].dtype == np.float32


def test_reversed_operand_derivatives_closed_form():
    x = X
    np.testing.assert_allclose(fg.elementwise_grad(lambda a: 2.0 - a)(x), -np.ones(3))
    np.testing.assert_allclose(fg.elementwise_grad(lambda a: 1.0 / a)(x), -1.0 / x ** 2)
    np.testing.assert_allclose(fg.elementwise_grad(lambda a: 2.0 ** a)(x), np.log(2.0) * 2.0 ** x)
    np.testing.assert_allclose(fg.elementwise_grad(lambda a: a ** 3)(x), 3 * x ** 2)
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(W.T @ a))(x), W.sum(axis=1))
    np.testing.assert_allclose(fg.elementwise_grad(lambda a: 5.1 % a)(x), -np.floor(5.1 / x))


def test_comparisons_give_plain_boolean_arrays():
    def f(a):
        results = [a < 1, a <= 1, a > 1, a >= 1, a == X[0], a != X[0], 1 < a, 1.0 >= a, ~(a > 1), a < a * 2]
        for r, ref in zip(results, [X < 1, X <= 1, X > 1, X >= 1, X == X[0], X != X[0], 1 < X, 1.0 >= X,
                                    ~(X > 1), X < X * 2], strict=True):
            assert type(r) is np.ndarray and r.dtype == np.bool_, type(r)
            np.testing.assert_array_equal(r, ref)
        return a

    fg.vjp(f, X)
    fg.jvp(f, (X,), (X,))
    # comparisons carry no derivative, but select values that do
    g = fg.grad(lambda a: fnp.sum(fnp.where(a > 1, a * a, -a)))(X)
    np.testing.assert_allclose(g, np.where(X > 1, 2 * X, -1.0))


# --- properties and methods ----------------------------------------------------------------------------


def test_properties():
    seen = {}

    def f(a):
        seen.update(shape=a.shape, ndim=a.ndim, dtype=a.dtype, size=a.size, len=len(a), T=a.T.shape, mT=a.mT.shape)
        return a

    fg.vjp(f, M.astype(np.float32))
    assert seen == dict(shape=(3, 4), ndim=2, dtype=np.float32, size=12, len=3, T=(4, 3), mT=(4, 3))
    fg.jvp(f, (np.ones((2, 5)),), (np.ones((2, 5)),))
    assert seen["shape"] == (2, 5) and seen["dtype"] == np.float64
    with pytest.raises(TypeError, match="0-d"):
        fg.vjp(lambda a: len(a), np.array(1.0))


METHODS = {
    "T": lambda a: a.T, "sum": lambda a: a.sum(), "sum axis": lambda a: a.sum(axis=0, keepdims=True),
    "sum negative axis": lambda a: a.sum(-1), "mean": lambda a: a.mean(), "mean axis": lambda a: a.mean(1),
    "max": lambda a: a.max(), "max axis": lambda a: a.max(axis=0), "min": lambda a: a.min(axis=1, keepdims=True),
    "prod": lambda a: a.prod(axis=0), "var": lambda a: a.var(), "std": lambda a: a.std(axis=0, ddof=1),
    "cumsum": lambda a: a.cumsum(axis=1), "cumprod": lambda a: a.cumprod(), "reshape args": lambda a: a.reshape(4, 3),
    "reshape tuple": lambda a: a.reshape((2, -1)), "reshape int": lambda a: a.reshape(-1),
    "astype float32": lambda a: a.astype(np.float32), "astype same": lambda a: a.astype(np.float64),
    "transpose": lambda a: a.transpose(), "transpose tuple": lambda a: a.transpose((1, 0)),
    "transpose args": lambda a: a.reshape(3, 2, 2).transpose(2, 0, 1), "ravel": lambda a: a.ravel(),
    "flatten": lambda a: a.flatten(), "swapaxes": lambda a: a.swapaxes(0, 1), "squeeze": lambda a: a[None].squeeze(),
    "repeat": lambda a: a.repeat(2, axis=0), "diagonal": lambda a: a.diagonal(), "trace": lambda a: a.trace(),
    "dot": lambda a: a.dot(M.T), "clip": lambda a: a.clip(-0.5, 0.5), "copy": lambda a: a.copy() * 1.0,
    "chained": lambda a: (a.T @ a).sum(axis=0).reshape(2, 2).mean(),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_methods(name):
    f = METHODS[name]
    x = M if name != "cumprod" else rng.uniform(0.5, 1.5, M.shape)
    if name == "clip":
        x = rng.uniform(0.1, 0.4, M.shape) * rng.choice([-2.0, 2.0], M.shape)
    assert_matches_numpy(f, x, grads=name != "astype float32")
    if name == "astype float32":
        check_grads(lambda a: f(a).astype(np.float64), [x], order=2, eps=1e-3, atol=1e-3, rtol=1e-3)


def test_nondifferentiable_methods():
    def f(a):
        assert a.argmax() == M.argmax() and np.array_equal(a.argmin(axis=0), M.argmin(axis=0))
        assert a.all() == M.all() and np.array_equal((a > 0).any(axis=1), (M > 0).any(axis=1))
        as_int = a.astype(np.int64)
        assert type(as_int) is np.ndarray and as_int.dtype == np.int64
        return a * as_int

    g = fg.grad(lambda a: fnp.sum(f(a)))(M)
    np.testing.assert_allclose(g, M.astype(np.int64))  # the int cast carries no derivative


# --- plain NumPy inside transformed functions -------------------------------------------------------------

PLAIN_NUMPY = {
    "np.sin": lambda a: np.sin(a), "np.exp(np.log)": lambda a: np.exp(np.log(a)), "np.sum": lambda a: np.sum(a),
    "np.sum axis": lambda a: np.sum(a, axis=0, keepdims=True), "np.mean": lambda a: np.mean(a),
    "np.dot": lambda a: np.dot(a, W), "np.dot ndarray first": lambda a: np.dot(W.T, a),
    "np.matmul": lambda a: np.matmul(a, W), "np.add.reduce": lambda a: np.add.reduce(a),
    "np.multiply.reduce": lambda a: np.multiply.reduce(a), "np.maximum.reduce": lambda a: np.maximum.reduce(a),
    "np.add.accumulate": lambda a: np.add.accumulate(a), "np.maximum": lambda a: np.maximum(a, 1.0),
    "np.minimum tracers": lambda a: np.minimum(a, a[::-1] + 0.1), "x + np.ones": lambda a: a + np.ones(3),
    "np.ones * x": lambda a: np.ones(3) * a, "np.where": lambda a: np.where(a > 1, a, -a),
    "np.clip": lambda a: np.clip(a, 0.5, 1.5), "np.concatenate": lambda a: np.concatenate([a, np.ones(2), a]),
    "np.stack": lambda a: np.stack([a, 2 * a], axis=1), "np.reshape": lambda a: np.reshape(a, (3, 1)),
    "np.transpose": lambda a: np.transpose(np.outer(a, W[:, 0])), "np.linalg.norm": lambda a: np.linalg.norm(a),
    "np.linalg.norm ord": lambda a: np.linalg.norm(a, ord=3), "np.einsum": lambda a: np.einsum("i,ij->j", a, W),
    "np.power": lambda a: np.power(a, 2), "np.square": lambda a: np.square(a), "np.sqrt": lambda a: np.sqrt(a),
    "np.var": lambda a: np.var(a), "np.std": lambda a: np.std(a), "np.max": lambda a: np.max(a),
    "np.outer": lambda a: np.outer(a, a), "np.tensordot": lambda a: np.tensordot(a, W, 1),
    "np.tile": lambda a: np.tile(a, 2), "np.pad": lambda a: np.pad(a, 1, mode="edge"),
    "np.diag": lambda a: np.diag(a), "np.trace": lambda a: np.trace(np.outer(a, a)),
    "np.cumsum": lambda a: np.cumsum(a),
    "np.prod": lambda a: np.prod(a), "np.logaddexp": lambda a: np.logaddexp(a, 0.2),
    "np.hypot": lambda a: np.hypot(a, a),
    "np.arctan2": lambda a: np.arctan2(a, 0.7), "np.true_divide": lambda a: np.true_divide(1.0, a),
    "np.negative": lambda a: np.negative(a), "np.abs": lambda a: np.abs(a - 1.0),
    "np.split": lambda a: np.split(a, 3)[1],
    "np.broadcast_to": lambda a: np.broadcast_to(a, (2, 3)), "np.flip": lambda a: np.flip(a),
    "np.moveaxis": lambda a: np.moveaxis(a[None], 0, 1), "np.repeat": lambda a: np.repeat(a, 2),
    "np.triu": lambda a: np.triu(np.outer(a, a)), "np.vdot": lambda a: np.vdot(a, a),
    "np.inner": lambda a: np.inner(a, a),
    "np.hstack": lambda a: np.hstack([a, a]), "np.vstack": lambda a: np.vstack([a, a]),
    "np.expand_dims": lambda a: np.expand_dims(a, 0), "np.squeeze": lambda a: np.squeeze(a[None]),
    "np.swapaxes": lambda a: np.swapaxes(a[None], 0, 1), "np.ravel": lambda a: np.ravel(a),
    "np.zeros_like": lambda a: np.zeros_like(a) + a, "np.full_like": lambda a: np.full_like(a, 2.0) * a,
    "np.shape": lambda a: a * np.shape(a)[0], "np.ndim": lambda a: a * np.ndim(a), "np.size": lambda a: a * np.size(a),
    "np.sign": lambda a: np.sign(a - 1.0) * a, "np.round": lambda a: np.round(a, 1) + a,
    "np.fmax": lambda a: np.fmax(a, 1.0),
    "np.cosh": lambda a: np.cosh(a), "np.arcsinh": lambda a: np.arcsinh(a), "np.log1p": lambda a: np.log1p(a),
    "np.sum dtype": lambda a: np.sum(a, dtype=np.float64), "np.linspace": lambda a: np.linspace(0.0, a[1], 4),
}


@pytest.mark.parametrize("name", list(PLAIN_NUMPY))
def test_plain_numpy_inside_transformed_functions(name):
    assert_matches_numpy(PLAIN_NUMPY[name], X)


def test_plain_numpy_closed_forms():
    np.testing.assert_allclose(fg.grad(lambda a: np.sum(np.sin(a)))(X), np.cos(X))
    np.testing.assert_allclose(fg.grad(lambda a: np.sum(np.dot(a, W)))(X), W.sum(axis=1))
    np.testing.assert_allclose(fg.grad(lambda a: np.add.reduce(a * a))(X), 2 * X)
    np.testing.assert_allclose(fg.grad(lambda a: np.sum(np.maximum(a, 1.0)))(X), (X > 1).astype(float))
    np.testing.assert_allclose(fg.jvp(lambda a: np.sum(np.ones(3) * a), (X,), (np.ones(3),))[1], 3.0)


def test_plain_numpy_mixed_with_funcgrad_numpy_and_nested():
    def f(a):
        return np.sum(fnp.tanh(np.dot(np.outer(a, a), W)) ** 2)

    check_grads(f, [X], order=2)
    # grad of grad: plain NumPy on second-level tracers
    g2 = fg.grad(lambda a: np.sum(fg.grad(lambda b: np.sum(np.sin(b)))(a)))(X)
    np.testing.assert_allclose(g2, -np.sin(X))


UNSUPPORTED = {
    # ufunc methods and arguments funcgrad leaves out on purpose
    "numpy.add.outer": lambda a: np.add.outer(a, a),
    "numpy.sin": lambda a: np.sin(a, where=a > 1),
    "numpy.add": lambda a: np.add(a, a, out=np.zeros(3)),
}

# Once unsupported (issue 9 §1 added them): plain NumPy calls on traced values dispatch to funcgrad.
NOW_SUPPORTED = {
    "numpy.unique": lambda a: np.unique(a),
    "numpy.histogram counts": lambda a: np.histogram(a, bins=3)[0],
    "numpy.searchsorted": lambda a: np.searchsorted(np.sort(a), 0.5),
    "numpy.mean where": lambda a: np.mean(a, where=a > 0.2),
    "numpy.sum initial": lambda a: np.sum(a, initial=1.0),
}


@pytest.mark.parametrize("name", list(NOW_SUPPORTED))
def test_plain_numpy_calls_of_new_functions_dispatch(name):
    f = NOW_SUPPORTED[name]
    out, _ = fg.vjp(lambda a: f(a) * 1, X)
    np.testing.assert_allclose(out, f(X) * 1)


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_unsupported_numpy_functions_raise_naming_them(name):
    for transform in (lambda f: fg.vjp(f, X), lambda f: fg.jvp(f, (X,), (X,))):
        with pytest.raises(fg.UnsupportedNumpyFunctionError) as info:
            transform(UNSUPPORTED[name])
        assert name in str(info.value)
        assert isinstance(info.value, TypeError)


CONVERSIONS = {
    "np.asarray": lambda a: np.asarray(a), "np.array": lambda a: np.array(a),
    "np.array of a list": lambda a: np.array([a[0], a[1]]), "float": lambda a: float(a[0]),
    "float 0-d": lambda a: float(np.sum(a)), "int": lambda a: int(a[0]), "complex": lambda a: complex(a[0]),
    ".item": lambda a: a[0].item(), ".tolist": lambda a: a.tolist(),
    "index": lambda a: [1, 2, 3][np.sum(a)],
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions_raise(name):
    for transform in (lambda f: fg.vjp(f, X), lambda f: fg.jvp(f, (X,), (X,)),
                      lambda f: fg.grad(lambda a: fnp.sum(a) * 0.0 + f(a) * 0.0)(X)):
        with pytest.raises(fg.TracerConversionError, match="stop_gradient") as info:
            transform(CONVERSIONS[name])
        assert isinstance(info.value, TypeError)


def test_conversions_after_stop_gradient_work_outside():
    out = fg.vjp(lambda a: fg.stop_gradient(a) * 1.0, X)[0]
    assert float(np.asarray(out)[0]) == X[0]


# --- Python control flow on traced values ------------------------------------------------------------------


def test_python_if_and_while():
    def f(a):
        if a.sum() > 100:
            return a * 0.0
        y = a * 2.0
        while fnp.linalg.norm(y) < 1000:
            y = y * 2.0
        if y[0] > y[1]:
            y = y + a[0]
        return y

    x = np.array([0.3, -0.1, 0.2])
    out, pullback = fg.vjp(f, x)
    k = int(np.ceil(np.log2(1000 / np.linalg.norm(2 * x))))
    np.testing.assert_allclose(out, x * 2.0 ** (k + 1) + x[0])
    ct = np.array([0.1, 1.0, 1e-4])
    np.testing.assert_allclose(pullback(ct)[0], ct * 2.0 ** (k + 1) + np.array([ct.sum(), 0.0, 0.0]))
    check_grads(f, [x], order=2)

    def branches(a):
        return fnp.sin(a) if a > 0 else a ** 3

    for v, d in [(0.5, np.cos(0.5)), (-0.5, 3 * 0.25)]:
        np.testing.assert_allclose(fg.grad(branches)(v), d)
        np.testing.assert_allclose(fg.jvp(branches, (np.array(v),), (np.array(1.0),))[1], d)
        np.testing.assert_allclose(fg.grad(fg.grad(branches))(v), -np.sin(0.5) if v > 0 else 6 * v)


def test_truth_value_of_non_scalar_tracer_is_ambiguous_like_numpy():
    with pytest.raises(ValueError, match="ambiguous"):
        fg.vjp(lambda a: a if a else a, X)
    assert fg.grad(lambda a: a * 2 if (a > 0).all() else a)(np.array(1.0)) == 2.0
    with pytest.raises(TypeError, match="unhashable"):
        fg.vjp(lambda a: {a: 1}, X)
