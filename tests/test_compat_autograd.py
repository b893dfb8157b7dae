"""funcgrad.compat.autograd: autograd 1.x's API, checked against closed forms and finite
differences always, and against autograd itself where it is installed (the test extra
``compat-oracles``)."""

from __future__ import annotations

import collections
import doctest
import importlib
import warnings

import numpy as onp
import pytest

import funcgrad.compat.autograd as ag
import funcgrad.compat.autograd.numpy as np
import funcgrad.compat.autograd.numpy.random as npr
from funcgrad.compat.autograd import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    hessian,
    hessian_tensor_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
)
from funcgrad.compat.autograd.extend import (
    Box,
    def_linear,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    notrace_primitive,
    primitive,
    vspace,
)
from funcgrad.compat.autograd.misc import flatten
from funcgrad.compat.autograd.misc.fixed_points import fixed_point
from funcgrad.compat.autograd.misc.optimizers import adam, rmsprop, sgd
from funcgrad.compat.autograd.test_util import check_grads, check_jvp, check_vjp
from funcgrad.errors import ArgnumsError, CustomRuleError, NonScalarOutputError

try:  # an oracle only: every test below also checks closed forms or finite differences
    import autograd as real_ag
    import autograd.numpy as real_np
except ImportError:  # pragma: no cover - depends on the environment
    real_ag = real_np = None

RNG = onp.random.default_rng(0)
X = RNG.standard_normal(4)
Y = RNG.standard_normal(4)
A = RNG.standard_normal((3, 4))


def fd_grad(f, x, eps=1e-6):
    """Central finite differences of scalar ``f`` at array ``x``."""
    x = onp.asarray(x, float)
    g = onp.zeros_like(x)
    for i in onp.ndindex(x.shape):
        e = onp.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def loss(x, y):
    return np.sum(np.tanh(x) * y ** 2) + np.sum(np.sin(x * y))


def loss_closed_dx(x, y):
    return (1 - onp.tanh(x) ** 2) * y ** 2 + onp.cos(x * y) * y


def loss_closed_dy(x, y):
    return 2 * onp.tanh(x) * y + onp.cos(x * y) * x


def test_grad_argnum_int_and_tuple_against_closed_forms():
    onp.testing.assert_allclose(grad(loss)(X, Y), loss_closed_dx(X, Y), rtol=1e-12)
    onp.testing.assert_allclose(grad(loss, 1)(X, Y), loss_closed_dy(X, Y), rtol=1e-12)
    gx, gy = grad(loss, argnum=(0, 1))(X, Y)
    onp.testing.assert_allclose(gx, loss_closed_dx(X, Y), rtol=1e-12)
    onp.testing.assert_allclose(gy, loss_closed_dy(X, Y), rtol=1e-12)
    onp.testing.assert_allclose(grad(loss, -1)(X, Y), loss_closed_dy(X, Y), rtol=1e-12)


def test_grad_of_scalar_is_numpy_scalar_and_size_one_outputs_allowed():
    g = grad(lambda x: x ** 3)(2.0)
    assert type(g) is onp.float64 and g == 12.0
    onp.testing.assert_allclose(grad(lambda x: x ** 2)(onp.array([3.0])), [6.0])
    with pytest.raises(NonScalarOutputError, match="jacobian, elementwise_grad"):
        grad(lambda x: x ** 2)(onp.ones(2))


def test_integer_inputs_are_refused_as_in_autograd():
    """autograd raises TypeError("Can't differentiate w.r.t. type ..."); funcgrad's own grad would
    return a float0 zero, which autograd code never expects."""
    cases = [lambda: grad(lambda x: x ** 2)(2), lambda: grad(lambda x: np.sum(x ** 2))(onp.array([1, 2])),
             lambda: grad(lambda x, y: x * y, 1)(2.0, 3), lambda: grad(lambda x: x[0] * x[1])([1.0, 2]),
             lambda: grad(lambda x: x * 2.0)(True), lambda: elementwise_grad(lambda x: x ** 2)(3),
             lambda: value_and_grad(lambda x: x ** 2)(3), lambda: make_vjp(lambda x: x ** 2)(3),
             lambda: make_jvp(lambda x: x * 2.0)(3), lambda: grad_and_aux(lambda x: (x ** 2, 0))(3)]
    for case in cases:
        with pytest.raises(TypeError, match="Can't differentiate w.r.t. type"):
            case()
    # autograd's jacobian accepts an integer array (and differentiates as if it were float)
    j = jacobian(lambda x: x * 2.0)(onp.arange(3))
    assert j.dtype == onp.float64
    onp.testing.assert_array_equal(j, 2.0 * onp.eye(3))


def test_scalar_results_are_numpy_scalars_as_in_autograd():
    vjp, ans = make_vjp(lambda x: np.sum(x ** 2))(onp.array([1.0, 2.0]))
    assert type(ans) is onp.float64 and ans == 5.0
    ans, tangent = make_jvp(lambda x: x ** 3)(2.0)(1.0)
    assert (type(ans), type(tangent)) == (onp.float64, onp.float64) and (ans, tangent) == (8.0, 12.0)
    d = deriv(lambda x: x ** 3)(2.0)
    assert type(d) is onp.float64 and d == 12.0
    # array results stay arrays
    ans, tangent = make_jvp(lambda x: x ** 2)(onp.array([3.0]))(onp.array([1.0]))
    assert type(ans) is onp.ndarray and type(tangent) is onp.ndarray


def test_grad_rejects_bad_argnum():
    with pytest.raises(ArgnumsError, match="argnum=5"):
        grad(loss, 5)(X, Y)
    with pytest.raises(ArgnumsError, match="int or a tuple"):
        grad(loss, "x")(X, Y)


def test_grad_of_pytrees_and_kwargs():
    params = {"w": A, "b": Y[:3]}

    def f(p, x, scale=1.0):
        return scale * np.sum((np.dot(p["w"], x) + p["b"]) ** 2)

    g = grad(f)(params, X, scale=0.5)
    r = A @ X + Y[:3]
    onp.testing.assert_allclose(g["w"], onp.outer(r, X), rtol=1e-12)
    onp.testing.assert_allclose(g["b"], r, rtol=1e-12)


def test_elementwise_value_and_aux():
    onp.testing.assert_allclose(elementwise_grad(np.tanh)(X), 1 - onp.tanh(X) ** 2, rtol=1e-12)
    v, g = value_and_grad(loss)(X, Y)
    onp.testing.assert_allclose(v, onp.sum(onp.tanh(X) * Y ** 2) + onp.sum(onp.sin(X * Y)), rtol=1e-12)
    onp.testing.assert_allclose(g, loss_closed_dx(X, Y), rtol=1e-12)
    g, aux = grad_and_aux(lambda x: (np.sum(x ** 2), {"n": x.shape}))(X)
    onp.testing.assert_allclose(g, 2 * X)
    assert aux == {"n": (4,)}


def test_jacobian_hessian_and_products_against_closed_forms():
    f = lambda x: np.tanh(np.dot(A, x))
    t = onp.tanh(A @ X)
    jac = (1 - t ** 2)[:, None] * A
    onp.testing.assert_allclose(jacobian(f)(X), jac, rtol=1e-12)
    cube = lambda x: np.sum(x ** 3) + np.prod(x[:2])
    hess = onp.diag(6 * X)
    hess[0, 1] += 1
    hess[1, 0] += 1
    onp.testing.assert_allclose(hessian(cube)(X), hess, rtol=1e-12, atol=1e-14)
    onp.testing.assert_allclose(hessian_tensor_product(cube)(X, Y), hess @ Y, rtol=1e-12)
    hvp, g = make_hvp(cube)(X)
    onp.testing.assert_allclose(hvp(Y), hess @ Y, rtol=1e-12)
    onp.testing.assert_allclose(g, fd_grad(lambda v: onp.sum(v ** 3) + v[0] * v[1], X), rtol=1e-6)
    u = Y[:3]
    onp.testing.assert_allclose(tensor_jacobian_product(f)(X, u), u @ jac, rtol=1e-12)
    # an empty output
    assert jacobian(lambda x: x[:0])(X).shape == (0, 4)


def test_make_vjp_make_jvp_deriv():
    f = lambda x: np.sin(x) * 2.0
    vjp, ans = make_vjp(f)(X)
    onp.testing.assert_allclose(ans, 2 * onp.sin(X))
    onp.testing.assert_allclose(vjp(Y), 2 * onp.cos(X) * Y, rtol=1e-12)
    out, tangent = make_jvp(f)(X)(Y)
    onp.testing.assert_allclose(tangent, 2 * onp.cos(X) * Y, rtol=1e-12)
    assert float(deriv(lambda x: x ** 3)(2.0)) == 12.0
    # a float64 cotangent for a float32 output is accepted, as in autograd
    vjp32, _ = make_vjp(lambda x: x * 2)(onp.ones(2, onp.float32))
    assert vjp32(onp.ones(2)).dtype == onp.float32


def test_make_ggnvp_is_jt_j_for_half_squared_norm():
    v = Y
    ggnvp = make_ggnvp(lambda x: np.dot(A, x))(X)
    onp.testing.assert_allclose(ggnvp(v), A.T @ (A @ v), rtol=1e-12)


def test_holomorphic_and_complex_convention():
    z = 1.0 + 2.0j
    assert complex(holomorphic_grad(lambda z: z ** 2)(z)) == 2 * z
    # real-valued function of a complex input: df/dx - i df/dy (autograd's and JAX's convention)
    assert complex(grad(lambda z: np.abs(z) ** 2)(z)) == 2 - 4j
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        holomorphic_grad(lambda x: x ** 2)(1.0)
    assert any("not complex" in str(m.message) for m in w)


def test_multigrad_dict_and_checkpoint():
    def f(a, b, c=2.0):
        return a * b * c

    g = multigrad_dict(f)(3.0, 4.0)
    assert isinstance(g, collections.OrderedDict) and list(g) == ["a", "b", "c"]
    assert (float(g["a"]), float(g["b"]), float(g["c"])) == (8.0, 6.0, 12.0)
    h = checkpoint(lambda x: np.sum(np.sin(x) ** 2))
    onp.testing.assert_allclose(grad(h)(X), 2 * onp.sin(X) * onp.cos(X), rtol=1e-12)


# --- extend ---------------------------------------------------------------------------------

@primitive
def softplus(x, beta=1.0):
    return onp.logaddexp(0.0, beta * x) / beta


defvjp(softplus, lambda ans, x, beta=1.0: lambda g: g / (1 + np.exp(-beta * x)))
defjvp(softplus, lambda g, ans, x, beta=1.0: g / (1 + np.exp(-beta * x)))


@primitive
def scaled(x, y):
    return x * onp.asarray(y)


defvjp(scaled, lambda ans, x, y: lambda g: g * y, None)


def test_primitive_rules_checked_against_finite_differences_to_second_order():
    assert type(softplus(X)) is onp.ndarray  # untraced: just the function
    check_grads(softplus, modes=["fwd", "rev"], order=2)(X)
    check_grads(lambda x: softplus(x, beta=2.5), order=2)(X)
    onp.testing.assert_allclose(grad(lambda x: np.sum(softplus(x)))(X), 1 / (1 + onp.exp(-X)), rtol=1e-12)
    # None: a zero derivative for that argument
    onp.testing.assert_allclose(grad(lambda y: np.sum(scaled(X, y)))(Y), 0.0)
    onp.testing.assert_allclose(grad(lambda x: np.sum(scaled(x, Y)))(X), Y)


def test_primitive_under_vmap_and_funcgrad_transforms():
    import funcgrad as fg

    onp.testing.assert_allclose(fg.vmap(softplus)(A), onp.logaddexp(0, A), rtol=1e-12)
    h = fg.jacfwd(fg.grad(lambda x: np.sum(softplus(x))))(X)
    s = 1 / (1 + onp.exp(-X))
    onp.testing.assert_allclose(h, onp.diag(s * (1 - s)), rtol=1e-10, atol=1e-14)


def test_argnum_rule_forms_and_def_linear():
    @primitive
    def mul(x, y):
        return x * y

    defvjp_argnum(mul, lambda argnum, ans, args, kwargs: lambda g: g * args[1 - argnum])
    defjvp_argnum(mul, lambda argnum, g, ans, args, kwargs: g * args[1 - argnum])
    check_grads(mul, argnum=(0, 1), order=2)(X, Y)

    @primitive
    def mul2(x, y):
        return x * y

    defvjp_argnums(mul2, lambda argnums, ans, args, kwargs: lambda g: tuple(g * args[1 - i] for i in argnums))
    check_grads(mul2, argnum=1, modes=["rev"], order=1)(X, Y)

    @primitive
    def dbl(x):
        return 2.0 * x

    def_linear(dbl)
    check_jvp(dbl, X)
    with pytest.raises(NotImplementedError, match="reverse-mode"):
        grad(lambda x: np.sum(dbl(x)))(X)
    with pytest.raises(CustomRuleError, match="@primitive"):
        defvjp(lambda x: x, None)


def test_check_grads_catches_a_wrong_rule():
    @primitive
    def bad_sin(x):
        return onp.sin(x)

    defvjp(bad_sin, lambda ans, x: lambda g: g * np.cos(x) * 1.01)
    defjvp(bad_sin, lambda g, ans, x: g * np.cos(x))
    check_vjp(lambda x: bad_sin(x) * 0 + np.sin(x), X)
    with pytest.raises(AssertionError):
        check_grads(bad_sin, modes=["rev"])(X)
    with pytest.raises(AssertionError):
        check_grads(bad_sin)(X)  # the fwd/rev consistency check disagrees too


def test_notrace_box_vspace_builtins():
    seen = []

    @notrace_primitive
    def record(x):
        seen.append(type(x))
        return x

    grad(lambda x: np.sum(record(x) * x))(X)
    assert seen == [onp.ndarray]
    grad(lambda x: np.sum(x) if isinstance(x, Box) else 0 * np.sum(x))(X)
    assert isinstance(0.0, Box) is False
    vs = vspace({"a": onp.ones((2, 3)), "b": 1.0 + 0j})
    assert vs.size == 7 and vs.iscomplex
    assert vspace(onp.ones((2, 3))).zeros().shape == (2, 3)
    assert len(list(vspace(onp.ones(3)).standard_basis())) == 3
    assert ag.isinstance is importlib.import_module("funcgrad.compat.autograd.builtins").isinstance

    def f(x):
        assert ag.isinstance(x, onp.ndarray) and ag.type(x) is onp.ndarray
        return np.sum(x ** 2)

    onp.testing.assert_allclose(grad(f)(X), 2 * X)
    assert ag.tuple is tuple and ag.dict is dict and ag.list is list


def test_misc_flatten_order_and_roundtrip():
    value = {"b": onp.array([1.0, 2.0]), "a": 3.0, "c": [onp.ones(2), (4.0,)]}
    flat, unflatten = flatten(value)
    onp.testing.assert_array_equal(flat, [3.0, 1.0, 2.0, 1.0, 1.0, 4.0])  # sorted keys, as autograd
    back = unflatten(flat * 2)
    onp.testing.assert_array_equal(back["c"][0], [2.0, 2.0])
    assert float(back["c"][1][0]) == 8.0
    # differentiable: flatten inside a loss
    g = grad(lambda p: np.sum(flatten(p)[0] ** 2))(value)
    onp.testing.assert_array_equal(g["b"], [2.0, 4.0])


def _reference_adam(g_fn, x, num_iters, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    m = onp.zeros_like(x)
    v = onp.zeros_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh = m / (1 - b1 ** (i + 1))
        vh = v / (1 - b2 ** (i + 1))
        x = x - step_size * mh / (onp.sqrt(vh) + eps)
    return x


def test_misc_optimizers_signature_and_numbers():
    target = {"w": A, "b": Y}

    def objective(p, i):
        return np.sum((p["w"] - target["w"]) ** 2) + np.sum(np.sin(p["b"] * (i + 1)))

    calls = []
    x0 = {"w": onp.zeros((3, 4)), "b": onp.zeros(4)}
    out = adam(grad(objective), x0, callback=lambda p, i, g: calls.append((i, sorted(p), sorted(g))),
               num_iters=25, step_size=0.1)
    assert calls[0] == (0, ["b", "w"], ["b", "w"]) and len(calls) == 25

    def flat_grad(v, i):
        w, b = v[4:].reshape(3, 4), v[:4]  # flattened in sorted-key order: "b" then "w"
        return onp.concatenate([onp.cos(b * (i + 1)) * (i + 1), (2 * (w - A)).ravel()])

    ref = _reference_adam(flat_grad, onp.zeros(16), 25, step_size=0.1)
    onp.testing.assert_allclose(out["b"], ref[:4], rtol=1e-12)
    onp.testing.assert_allclose(out["w"], ref[4:].reshape(3, 4), rtol=1e-12)
    quad_grad = lambda p, i: 2 * (p - 3.0) * (1 + i % 3)
    q = sgd(quad_grad, onp.zeros(2), num_iters=40, step_size=0.2, mass=0.8)
    x, vel = onp.zeros(2), onp.zeros(2)
    for i in range(40):
        vel = 0.8 * vel - 0.2 * quad_grad(x, i)
        x = x + 0.2 * vel
    onp.testing.assert_allclose(q, x, rtol=1e-12)
    r = rmsprop(quad_grad, onp.zeros(2), num_iters=40, step_size=0.05, gamma=0.8)
    x, avg = onp.zeros(2), onp.ones(2)
    for i in range(40):
        g = quad_grad(x, i)
        avg = 0.8 * avg + 0.2 * g ** 2
        x = x - 0.05 * g / (onp.sqrt(avg) + 1e-8)
    onp.testing.assert_allclose(r, x, rtol=1e-12)


@pytest.mark.parametrize("opt", [adam, rmsprop, sgd])
def test_optimizer_runs_are_differentiable_in_the_step_size(opt):
    def final_loss(step_size):
        x = opt(lambda x, i: 2 * (x - 3.0) * x, onp.ones(2), num_iters=5, step_size=step_size)
        return np.sum(x ** 2)

    fd = (final_loss(0.1 + 1e-6) - final_loss(0.1 - 1e-6)) / 2e-6
    onp.testing.assert_allclose(grad(final_loss)(0.1), fd, rtol=1e-7)


def test_fixed_point_derivative_closed_form():
    def newton_sqrt(a):
        return fixed_point(lambda a: lambda x: 0.5 * (x + a / x), a, 1.0, lambda x, y: np.abs(x - y), 1e-13)

    onp.testing.assert_allclose(newton_sqrt(2.0), onp.sqrt(2.0), rtol=1e-14)
    onp.testing.assert_allclose(grad(newton_sqrt)(2.0), 0.5 / onp.sqrt(2.0), rtol=1e-10)


def test_odeint_with_autograds_signature_against_closed_form():
    from funcgrad.compat.autograd.scipy.integrate import odeint

    def total(a):
        ys = odeint(lambda y, t, k: -k * y, np.array([1.0, 2.0]), np.array([0.0, 0.5, 1.0]), (a,),
                    rtol=1e-11, atol=1e-11)
        return np.sum(ys)

    onp.testing.assert_allclose(total(0.7), 3 * (1 + onp.exp(-0.35) + onp.exp(-0.7)), rtol=1e-8)
    onp.testing.assert_allclose(grad(total)(0.7), -3 * (0.5 * onp.exp(-0.35) + onp.exp(-0.7)), rtol=1e-7)


def test_numpy_module_surface():
    assert npr is onp.random or npr.RandomState is onp.random.RandomState
    onp.testing.assert_array_equal(npr.RandomState(0).randn(3), onp.random.RandomState(0).randn(3))
    assert np.random.RandomState is onp.random.RandomState
    # funcgrad.numpy's scalar types: NumPy's, subclassed so that a call also casts a traced value
    assert np.seterr is onp.seterr and np.float32 == onp.float32 and issubclass(np.float32, onp.float32)
    import funcgrad.compat.autograd.numpy.fft as fft
    import funcgrad.compat.autograd.numpy.linalg as la

    onp.testing.assert_allclose(grad(lambda x: la.norm(x))(X), X / onp.linalg.norm(X), rtol=1e-12)
    onp.testing.assert_allclose(fft.fft(X), onp.fft.fft(X))
    with pytest.raises(AttributeError, match="no attribute"):
        np.not_a_numpy_name  # noqa: B018


def test_scipy_submodules_by_dotted_path():
    import funcgrad.compat.autograd.scipy.stats.norm as norm
    import scipy.stats as ss

    from funcgrad.compat.autograd.scipy.misc import logsumexp
    from funcgrad.compat.autograd.scipy.stats import dirichlet, gamma, multivariate_normal, poisson, t

    onp.testing.assert_allclose(norm.logpdf(X, 0.5, 2.0), ss.norm.logpdf(X, 0.5, 2.0), rtol=1e-12)
    onp.testing.assert_allclose(grad(lambda m: np.sum(norm.logpdf(X, m, 2.0)))(0.5),
                                onp.sum((X - 0.5) / 4.0), rtol=1e-12)
    onp.testing.assert_allclose(t.logpdf(X, 3.0), ss.t.logpdf(X, 3.0), rtol=1e-12)
    onp.testing.assert_allclose(gamma.logpdf(2.0, 3.0), ss.gamma.logpdf(2.0, 3.0), rtol=1e-12)
    onp.testing.assert_allclose(poisson.logpmf(3, 2.0), ss.poisson.logpmf(3, 2.0), rtol=1e-12)
    onp.testing.assert_allclose(multivariate_normal.logpdf(X, Y, onp.eye(4)),
                                ss.multivariate_normal.logpdf(X, Y, onp.eye(4)), rtol=1e-12)
    alpha = onp.array([1.5, 2.0, 3.0])
    onp.testing.assert_allclose(dirichlet.logpdf(onp.array([0.2, 0.3, 0.5]), alpha),
                                ss.dirichlet.logpdf([0.2, 0.3, 0.5], alpha), rtol=1e-12)
    onp.testing.assert_allclose(logsumexp(X), onp.log(onp.sum(onp.exp(X))), rtol=1e-12)
    for name in ("special", "signal", "linalg", "integrate"):
        importlib.import_module(f"funcgrad.compat.autograd.scipy.{name}")
    # scalar arguments give NumPy scalars, as autograd's (SciPy's) functions do; arrays stay arrays
    from funcgrad.compat.autograd.scipy.special import logsumexp as special_logsumexp
    from funcgrad.compat.autograd.scipy.stats import beta, chi2

    for value, want in [(norm.logpdf(0.3), ss.norm.logpdf(0.3)), (norm.cdf(0.3, 0.1, 2.0), ss.norm.cdf(0.3, 0.1, 2.0)),
                        (t.logpdf(0.3, 3.0), ss.t.logpdf(0.3, 3.0)), (gamma.cdf(1.5, 2.0), ss.gamma.cdf(1.5, 2.0)),
                        (beta.pdf(0.3, 2.0, 3.0), ss.beta.pdf(0.3, 2.0, 3.0)),
                        (chi2.logpdf(1.5, 3.0), ss.chi2.logpdf(1.5, 3.0)),
                        (poisson.cdf(3, 2.5), ss.poisson.cdf(3, 2.5)),
                        (logsumexp(X), None), (special_logsumexp(X), None),
                        (multivariate_normal.logpdf(X, Y, onp.eye(4)), None),
                        (dirichlet.logpdf([0.2, 0.8], [1.5, 2.0]), None),
                        (multivariate_normal.entropy(Y, onp.eye(4)), 2 * (1 + onp.log(2 * onp.pi)))]:
        assert type(value) is onp.float64, value
        if want is not None:
            assert value == pytest.approx(want, rel=1e-12)
    assert type(norm.logpdf(X)) is onp.ndarray
    assert type(grad(norm.logpdf)(0.3)) is onp.float64
    value, sign = special_logsumexp(onp.array([1.0, 2.0]), b=onp.array([1.0, -1.0]), return_sign=True)
    assert (type(value), type(sign)) == (onp.float64, onp.float64) and sign == -1.0


@pytest.mark.skipif(real_ag is None, reason="autograd not installed: the closed-form tests above still ran")
def test_against_autograd_itself():
    f_ours = lambda x, y: np.sum(np.tanh(np.dot(A, x)) * y[:3]) + np.sum(np.exp(-x ** 2))
    f_real = lambda x, y: real_np.sum(real_np.tanh(real_np.dot(A, x)) * y[:3]) + real_np.sum(real_np.exp(-x ** 2))
    for op in ("grad", "elementwise_grad", "jacobian", "hessian"):
        for argnum in (0, 1):
            ours = getattr(ag, op)(f_ours, argnum)(X, Y)
            real = getattr(real_ag, op)(f_real, argnum)(X, Y)
            onp.testing.assert_allclose(ours, real, rtol=1e-9, atol=1e-12)
    from autograd.misc import flatten as real_flatten

    value = {"z": [onp.ones(2), 2.0], "a": (A, {"q": Y})}
    onp.testing.assert_array_equal(flatten(value)[0], real_flatten(value)[0])


DOCTEST_MODULES = [
    "", ".differential_operators", ".extend", ".builtins", ".tracer", ".wrap_util", ".core", ".util",
    ".test_util", ".numpy", ".numpy.random", ".numpy.linalg", ".numpy.fft", ".scipy", ".scipy.misc",
    ".scipy.stats", ".scipy.integrate", ".misc", ".misc.flatten", ".misc.optimizers", ".misc.fixed_points",
    ".numpy.numpy_boxes", ".numpy.numpy_vjps", ".numpy.numpy_wrapper", ".numpy.numpy_vspaces", ".scipy.special",
]


def test_numpy_vjps_helpers_in_user_primitives():
    """The helpers user code imports from autograd.numpy.numpy_vjps, used the way user primitives use
    them, against closed forms and finite differences (second order: the rules are funcgrad code)."""
    from funcgrad.compat.autograd.numpy.numpy_vjps import (
        balanced_eq,
        match_complex,
        metadata,
        repeat_to_match_shape,
        unbroadcast,
        unbroadcast_f,
        untake,
        wrapped_reshape,
    )

    @primitive
    def scaled_product(x, y):
        return onp.sin(x) * y

    defvjp(scaled_product, lambda ans, x, y: unbroadcast_f(x, lambda g: g * np.cos(x) * y),
           lambda ans, x, y: unbroadcast_f(y, lambda g: g * np.sin(x)))
    x, y = RNG.standard_normal((3, 1)), RNG.standard_normal(4)
    weights = RNG.standard_normal((3, 4))
    f = lambda x, y: np.sum(scaled_product(x, y) * weights)
    onp.testing.assert_allclose(grad(f)(x, y), onp.sum(onp.cos(x) * y * weights, axis=1, keepdims=True), rtol=1e-12)
    onp.testing.assert_allclose(grad(f, 1)(x, y), onp.sum(onp.sin(x) * weights, axis=0), rtol=1e-12)
    check_grads(f, modes=["rev"], order=2)(x, y)

    big = onp.arange(24.0).reshape(2, 3, 4)
    onp.testing.assert_array_equal(unbroadcast(big, metadata(onp.ones((3, 1)))), big.sum(axis=(0, 2))[:, None])
    onp.testing.assert_array_equal(unbroadcast(big + 1j, metadata(onp.ones(4))), big.sum(axis=(0, 1)))
    assert unbroadcast(big, metadata(2.0)) == big.sum()
    rep, n = repeat_to_match_shape(onp.array([1.0, 2.0]), (2, 3, 4), onp.float64, (1, 2), False)
    assert n == 12 and rep.shape == (2, 3, 4) and (rep[1] == 2.0).all()
    onp.testing.assert_array_equal(untake(onp.array([1.0, 2.0, 5.0]), onp.array([0, 0, 2]), onp.zeros(3)),
                                   [3.0, 0.0, 5.0])
    onp.testing.assert_array_equal(balanced_eq(onp.array([1.0, 2.0]), onp.array([2.0, 2.0]), onp.array([2.0, 2.0])),
                                   [0.0, 0.5])
    assert match_complex(1.0, 2.0 + 3.0j) == 2.0 and match_complex(1j, 2.0) == 2.0 + 0j
    assert wrapped_reshape(onp.ones(6), 2, 3).shape == (2, 3) == wrapped_reshape(onp.ones(6), (2, 3)).shape


def test_scipy_names_without_rules_behave_as_autograds_primitives():
    """A SciPy function funcgrad has no differentiable version of (logm, ellipk) runs on traced values (as
    autograd's wrapped primitives do) and raises NotImplementedError only when differentiated."""
    import scipy.linalg
    import scipy.special

    import funcgrad.compat.autograd.scipy.linalg as sl
    import funcgrad.compat.autograd.scipy.special as sp

    a = onp.array([[2.0, 0.5], [0.5, 1.0]])
    seen = []

    def f(m):
        from funcgrad.compat.autograd.extend import getval

        seen.append(getval(sl.logm(m))[0, 1] + getval(sp.ellipk(0.3 * m[0, 0] / 2.0)))  # values, no derivative
        return np.sum(m ** 2)

    onp.testing.assert_array_equal(grad(f)(a), 2 * a)
    assert seen == [scipy.linalg.logm(a)[0, 1] + scipy.special.ellipk(0.3)]
    with pytest.raises(NotImplementedError, match="logm"):
        grad(lambda m: np.sum(sl.logm(m)))(a)
    assert sl.LinAlgError is scipy.linalg.LinAlgError and sl.lu_factor(a)[1].tolist() == [0, 1]


def test_wrap_namespace_and_core_names():
    import scipy.linalg

    from funcgrad.compat.autograd.core import getval, isbox, subval
    from funcgrad.compat.autograd.differential_operators import make_jvp_reversemode
    from funcgrad.compat.autograd.numpy.numpy_wrapper import wrap_namespace

    ns: dict = {}
    wrap_namespace(scipy.linalg.__dict__, ns)
    defvjp(ns["sqrtm"], lambda ans, a: lambda g: scipy.linalg.solve_sylvester(ans, ans, g))
    a = onp.array([[2.0, 0.5], [0.5, 1.0]])
    g = grad(lambda m: np.sum(ns["sqrtm"](m) * a))(a)
    eps, fd = 1e-6, onp.zeros((2, 2))
    for i in onp.ndindex(2, 2):
        e = onp.zeros((2, 2))
        e[i] = eps
        fd[i] = (onp.sum(scipy.linalg.sqrtm(a + e) * a) - onp.sum(scipy.linalg.sqrtm(a - e) * a)) / (2 * eps)
    onp.testing.assert_allclose(g, fd, rtol=1e-7)
    with pytest.raises(NotImplementedError, match="expm"):
        grad(lambda m: np.sum(ns["expm"](m)))(a)  # wrapped, no rule given: as autograd, an error
    v = onp.array([1.0, 0.5, -2.0])
    onp.testing.assert_allclose(make_jvp_reversemode(lambda x: np.sin(x) * np.sum(x ** 2))(X[:3])(v),
                                onp.cos(X[:3]) * v * onp.sum(X[:3] ** 2) + onp.sin(X[:3]) * 2 * onp.dot(X[:3], v),
                                rtol=1e-12)
    seen = []
    grad(lambda x: seen.append((isbox(x), getval(x))) or x * 2.0)(3.0)
    assert seen == [(True, 3.0)] and isbox(3.0) is False and subval((1, 2, 3), 1, 9) == (1, 9, 3)


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module("funcgrad.compat.autograd" + name)
    result = doctest.testmod(module, extraglobs={"np": onp}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_scipy_signal_convolve_takes_autograds_argument_order():
    # autograd's CNN code calls convolve(A, B, axes, dot_axes, mode) positionally.
    import funcgrad.compat.autograd.scipy.signal as ag_signal
    from funcgrad.scipy import signal as fg_signal

    rng = onp.random.default_rng(0)
    images, kernels = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((3, 4, 3, 3))
    axes, dot_axes = ([2, 3], [2, 3]), ([1], [0])
    for mode in ("full", "valid", "same"):
        got = ag_signal.convolve(images, kernels, axes, dot_axes, mode)
        want = fg_signal.convolve(images, kernels, mode, axes=axes, dot_axes=dot_axes)
        onp.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    # one output entry by hand, 'valid': sum over channels and window of image * flipped kernel
    got = ag_signal.convolve(images, kernels, axes, dot_axes, "valid")
    by_hand = sum(images[1, c, 2 + i, 1 + j] * kernels[c, 3, 2 - i, 2 - j]
                  for c in range(3) for i in range(3) for j in range(3))
    onp.testing.assert_allclose(got[1, 3, 2, 1], by_hand, rtol=1e-13)
    check_grads(lambda a: ag_signal.convolve(a, kernels, axes, dot_axes, "valid"), modes=["rev"], order=1)(images)
