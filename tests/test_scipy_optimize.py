"""funcgrad.scipy.optimize: minimize/root on pytrees against closed forms, every SciPy method
family (gradient, Hessian-vector product, dense Hessian, derivative-free), and the derivatives of
the solution (implicit function theorem) against closed forms and central finite differences of
the solver itself, in forward and reverse mode, to second order, under jit and vmap."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.optimize as fopt
from funcgrad.test_util import check_grads

RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 3))
A_SPD = M @ M.T + 3 * np.eye(3)          # symmetric positive definite
B = RNG.standard_normal(3)
TIGHT = {"gtol": 1e-12}


def quadratic(x, a, b):
    """0.5 xᵀ A x - bᵀ x: argmin sym(A)⁻¹ b."""
    return 0.5 * fnp.dot(x, fnp.dot(a, x)) - fnp.dot(b, x)


def argmin_quadratic(a, b, method="BFGS"):
    return fopt.minimize(quadratic, np.zeros(3), args=(a, b), method=method, options=TIGHT).x


# --- values --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["BFGS", "CG", "L-BFGS-B", "Newton-CG", "trust-ncg", "trust-krylov",
                                    "trust-exact", "dogleg", "trust-constr", "SLSQP", None])
def test_minimize_quadratic_every_derivative_method(method):
    options = None if method in (None, "SLSQP", "trust-constr", "L-BFGS-B", "Newton-CG") else TIGHT
    res = fopt.minimize(quadratic, np.zeros(3), args=(A_SPD, B), method=method, options=options, tol=1e-12)
    np.testing.assert_allclose(res.x, np.linalg.solve(A_SPD, B), rtol=1e-6, atol=1e-8)
    assert res.success and isinstance(res.message, str)


def test_minimize_derivative_free_method():
    res = fopt.minimize(quadratic, np.zeros(3), args=(A_SPD, B), method="Nelder-Mead",
                        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000})
    np.testing.assert_allclose(res.x, np.linalg.solve(A_SPD, B), rtol=1e-6, atol=1e-7)


def test_minimize_uses_the_hessian_products_it_is_given():
    """Newton-CG on a quadratic with exact Hessian-vector products converges in very few steps."""
    res = fopt.minimize(quadratic, np.zeros(3), args=(A_SPD, B), method="Newton-CG")
    assert res.success and res.nhev > 0 and res.nit <= 5


def test_minimize_pytree_keeps_structure_and_dtypes():
    def f(p, target):
        return fnp.sum((p["w"] - target) ** 2) + (p["b"][0] - 3.0) ** 2 + fnp.sum(p["c"] ** 2)

    x0 = {"w": np.zeros((2, 2), np.float32), "b": [np.array(0.0)], "c": np.ones(3)}
    target = np.arange(4.0).reshape(2, 2)
    res = fopt.minimize(f, x0, args=(target,))
    assert set(res.x) == {"w", "b", "c"} and isinstance(res.x["b"], list)
    assert res.x["w"].dtype == np.float32 and res.x["w"].shape == (2, 2) and res.x["b"][0].shape == ()
    np.testing.assert_allclose(res.x["w"], target, atol=1e-5)
    np.testing.assert_allclose(res.x["b"][0], 3.0, atol=1e-6)
    np.testing.assert_allclose(res.x["c"], 0.0, atol=1e-6)
    assert res.jac["w"].shape == (2, 2)


def test_minimize_rosenbrock_with_python_control_flow_in_fun():
    """fun uses Python control flow on values, which jit cannot stage: minimize still works."""
    def rosen(x):
        r = fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        return r if r >= 0 else -r

    res = fopt.minimize(rosen, np.array([-1.2, 1.0, 0.5]), method="BFGS", options=TIGHT)
    np.testing.assert_allclose(res.x, np.ones(3), atol=1e-6)


def test_bounds_are_passed_to_scipy():
    res = fopt.minimize(lambda x: fnp.sum((x - 2.0) ** 2), np.zeros(2), bounds=[(0, 1), (0, 5)])
    np.testing.assert_allclose(res.x, [1.0, 2.0], atol=1e-6)


def test_root_values_pytree_and_methods():
    def system(p, a):
        x, y = p["x"], p["y"]
        return {"e1": x ** 2 + y ** 2 - a, "e2": x - y}   # x = y = sqrt(a/2)

    for method in ("hybr", "lm", "broyden1", "krylov"):
        res = fopt.root(system, {"x": np.array(1.0), "y": np.array(0.5)}, args=(8.0,), method=method, tol=1e-12)
        np.testing.assert_allclose([res.x["x"], res.x["y"]], [2.0, 2.0], rtol=1e-7)
        assert res.success


# --- derivatives of the solution ----------------------------------------------------------------------

def test_argmin_jacobian_in_b_is_inverse_hessian_both_modes():
    want = np.linalg.inv(A_SPD)
    np.testing.assert_allclose(fg.jacrev(lambda b: argmin_quadratic(A_SPD, b))(B), want, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fg.jacfwd(lambda b: argmin_quadratic(A_SPD, b))(B), want, rtol=1e-8, atol=1e-10)


def test_argmin_derivative_in_matrix_closed_form():
    """x* = S⁻¹ b with S = (A + Aᵀ)/2, so dx* = -S⁻¹ sym(dA) x* (A deliberately non-symmetric)."""
    a = A_SPD + 0.3 * RNG.standard_normal((3, 3))
    s = (a + a.T) / 2
    x_star = np.linalg.solve(s, B)
    da = RNG.standard_normal((3, 3))
    want = -np.linalg.solve(s, (da + da.T) / 2 @ x_star)
    _, got = fg.jvp(lambda a: argmin_quadratic(a, B), (a,), (da,))
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
    ct = RNG.standard_normal(3)
    _, pullback = fg.vjp(lambda a: argmin_quadratic(a, B), a)
    np.testing.assert_allclose(np.sum(pullback(ct)[0] * da), ct @ want, rtol=1e-7)


def _log_argmin(theta):
    """argmin_x sum(exp(x) - θ x) = log θ."""
    return fopt.minimize(lambda x, t: fnp.sum(fnp.exp(x) - t * x), np.zeros(theta.shape), args=(theta,),
                         method="Newton-CG", options={"xtol": 1e-14}).x


def test_second_order_closed_form():
    theta = np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(_log_argmin(theta), np.log(theta), rtol=1e-10)
    np.testing.assert_allclose(fg.jacrev(_log_argmin)(theta), np.diag(1 / theta), rtol=1e-8)
    # d²/dθ² log θ = -1/θ², by reverse-over-reverse and forward-over-reverse
    g = lambda t: fnp.sum(_log_argmin(t))
    np.testing.assert_allclose(fg.hessian(g)(theta), np.diag(-1 / theta ** 2), rtol=1e-7)
    np.testing.assert_allclose(fg.jacfwd(fg.grad(g))(theta), np.diag(-1 / theta ** 2), rtol=1e-7)
    np.testing.assert_allclose(fg.jacrev(fg.jacrev(g))(theta), np.diag(-1 / theta ** 2), rtol=1e-7)


def _ridge(lam, w0):
    """A nonlinear problem without a closed form: logistic regression with an L2 penalty λ‖w - w0‖²."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((20, 3)), (rng.random(20) > 0.5).astype(float)

    def loss(w, lam, w0):
        z = x @ w
        return fnp.mean(fnp.logaddexp(0.0, z) - y * z) + lam * fnp.sum((w - w0) ** 2)

    return fopt.minimize(loss, np.zeros(3), args=(lam, w0), method="trust-exact", options={"gtol": 1e-13}).x


def test_derivatives_match_finite_differences_of_the_solver():
    """check_grads differentiates the solver by central differences (each evaluation is a new solve)."""
    check_grads(_ridge, (np.array(0.3), np.array([0.5, -1.0, 0.2])), order=2, eps=1e-4, atol=1e-6, rtol=1e-5)


def test_root_derivatives_closed_form_and_finite_differences():
    cube_root = lambda a: fopt.root(lambda x, a: x ** 3 - a, np.ones_like(a), args=(a,), tol=1e-14).x
    a = np.array([8.0, 27.0, 0.5])
    np.testing.assert_allclose(cube_root(a), np.cbrt(a), rtol=1e-12)
    np.testing.assert_allclose(fg.jacfwd(cube_root)(a), np.diag(a ** (-2 / 3) / 3), rtol=1e-9)
    np.testing.assert_allclose(fg.jacrev(cube_root)(a), np.diag(a ** (-2 / 3) / 3), rtol=1e-9)
    second = fg.elementwise_grad(fg.elementwise_grad(lambda a: cube_root(a)))(a)
    np.testing.assert_allclose(second, -2 / 9 * a ** (-5 / 3), rtol=1e-7)
    check_grads(cube_root, (a,), order=2, eps=1e-5, atol=1e-6, rtol=1e-5)


def test_root_derivative_with_pytree_parameters():
    """x = y, x² + y² = p["r2"] * p["s"]: x* = sqrt(r2 s / 2)."""
    def solve(p):
        system = lambda v, p: fnp.stack([v[0] ** 2 + v[1] ** 2 - p["r2"] * p["s"], v[0] - v[1]])
        return fopt.root(system, np.array([1.0, 0.5]), args=(p,), tol=1e-14).x[0]

    p = {"r2": np.array(8.0), "s": np.array(1.5)}
    g = fg.grad(solve)(p)
    x = np.sqrt(8.0 * 1.5 / 2)
    np.testing.assert_allclose(g["r2"], 1.5 / (4 * x), rtol=1e-9)
    np.testing.assert_allclose(g["s"], 8.0 / (4 * x), rtol=1e-9)


def test_large_problems_use_iterative_solves_with_the_same_derivatives(monkeypatch):
    """n = 100 > 64: first derivatives solve with CG (minimize) / GMRES (root) on jitted products;
    checked against closed forms, and the dense path is not taken."""
    rng = np.random.default_rng(11)
    m = rng.standard_normal((100, 100))
    a = m @ m.T / 100 + np.eye(100)
    b, w = rng.standard_normal(100), rng.standard_normal(100)
    iterative = []
    original = fopt._solve_iteratively
    monkeypatch.setattr(fopt, "_solve_iteratively", lambda *args: iterative.append(original(*args)) or iterative[-1])
    argmin = lambda b: fopt.minimize(quadratic, np.zeros(100), args=(a, b), method="Newton-CG",
                                     options={"xtol": 1e-14}).x
    np.testing.assert_allclose(fg.grad(lambda b: fnp.dot(w, argmin(b)))(b), np.linalg.solve(a, w), rtol=1e-7)
    np.testing.assert_allclose(fg.jvp(argmin, (b,), (w,))[1], np.linalg.solve(a, w), rtol=1e-7)

    def system(x, t):   # A x + 0.1 x³ = t, a nonsymmetric Jacobian A + 0.3 diag(x²) with A not symmetric
        return fnp.dot(a + np.triu(a, 1), x) + 0.1 * x ** 3 - t

    root = lambda t: fopt.root(system, np.zeros(100), args=(t,), tol=1e-13).x
    x = root(b)
    jac = a + np.triu(a, 1) + np.diag(0.3 * x ** 2)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.dot(w, root(t)))(b), np.linalg.solve(jac.T, w), rtol=1e-6)
    np.testing.assert_allclose(fg.jvp(root, (b,), (w,))[1], np.linalg.solve(jac, w), rtol=1e-6)
    assert len(iterative) == 4 and all(v is not None for v in iterative)   # converged: no dense fallback


def test_fun_value_in_traced_result_obeys_the_envelope_theorem():
    """d/dθ min_x f(x, θ) = ∂f/∂θ at x*: for sum(exp(x) - θx), -log θ."""
    theta = np.array([0.5, 2.0])
    value = lambda t: fopt.minimize(lambda x, t: fnp.sum(fnp.exp(x) - t * x), np.zeros(2), args=(t,),
                                    method="Newton-CG", options={"xtol": 1e-14}).fun
    np.testing.assert_allclose(fg.grad(value)(theta), -np.log(theta), rtol=1e-8)


def test_no_derivative_in_the_starting_point():
    g = fg.grad(lambda x0: fnp.sum(fopt.minimize(quadratic, x0, args=(A_SPD, B)).x))(np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_repeated_solves_reuse_the_compiled_gradient():
    """A second call with the same function and shapes runs the jitted helpers without tracing fun."""
    calls = []

    def f(x, b):
        calls.append(1)
        return fnp.sum((x - b) ** 2)

    first = fopt.minimize(f, np.zeros(3), args=(np.ones(3),))
    traced = len(calls)
    second = fopt.minimize(f, np.zeros(3), args=(2 * np.ones(3),))
    assert traced > 0 and len(calls) == traced
    np.testing.assert_allclose(first.x, 1.0, atol=1e-6)
    np.testing.assert_allclose(second.x, 2.0, atol=1e-6)
    fopt.minimize(f, np.zeros(4), args=(np.ones(4),))   # a new shape traces again
    assert len(calls) > traced


# --- jit, vmap ----------------------------------------------------------------------------------------

def test_jit_runs_the_solver_at_run_time():
    f = fg.jit(lambda b: argmin_quadratic(A_SPD, b))
    for b in (B, 2 * B, -B):
        np.testing.assert_allclose(f(b), np.linalg.solve(A_SPD, b), rtol=1e-8)
    np.testing.assert_allclose(fg.jacrev(f)(B), np.linalg.inv(A_SPD), rtol=1e-7)
    np.testing.assert_allclose(fg.jit(fg.jacfwd(lambda b: argmin_quadratic(A_SPD, b)))(B),
                               np.linalg.inv(A_SPD), rtol=1e-7)
    res = fg.jit(lambda b: fopt.minimize(quadratic, np.zeros(3), args=(A_SPD, b)))(B)
    assert res.success.dtype == bool and bool(res.success) and int(res.nit) > 0


def test_vmap_solves_each_example_and_keeps_status_per_example():
    bs = RNG.standard_normal((4, 3))
    res = fg.vmap(lambda b: fopt.minimize(quadratic, np.zeros(3), args=(A_SPD, b), options=TIGHT))(bs)
    np.testing.assert_allclose(res.x, np.linalg.solve(A_SPD, bs.T).T, rtol=1e-7, atol=1e-10)
    assert res.nit.shape == (4,) and res.success.all()
    per_example = fg.vmap(fg.jacrev(lambda b: argmin_quadratic(A_SPD, b)))(bs)
    np.testing.assert_allclose(per_example, np.broadcast_to(np.linalg.inv(A_SPD), (4, 3, 3)), rtol=1e-7)


def test_integer_args_pass_through_and_vmap():
    """Non-float leaves of args (here an exponent) are operands without derivatives."""
    def f(x, k, t):
        return fnp.sum(x ** (2 * k)) / (2 * k) - t * fnp.sum(x)   # x* = t^(1/(2k-1))

    sol = lambda k, t: fopt.minimize(f, np.array([1.0]), args=(k, t), method="Newton-CG",
                                     options={"xtol": 1e-14}).x[0]
    np.testing.assert_allclose(sol(2, 8.0), 2.0, rtol=1e-10)
    np.testing.assert_allclose(fg.grad(lambda t: sol(2, t))(8.0), 1 / 3 * 8.0 ** (-2 / 3), rtol=1e-8)
    got = fg.vmap(sol)(np.array([1, 2]), np.array([5.0, 8.0]))
    np.testing.assert_allclose(got, [5.0, 2.0], rtol=1e-10)


def test_empty_x0_is_its_own_solution():
    res = fopt.minimize(lambda x, t: fnp.sum(x ** 2) + t ** 2, np.zeros((0, 2)), args=(3.0,))
    assert res.x.shape == (0, 2) and res.success and res.fun == 9.0
    assert fopt.root(lambda x: x, np.zeros(0)).x.shape == (0,)
    g = fg.grad(lambda t: fnp.sum(fopt.minimize(lambda x, t: fnp.sum((x - t) ** 2), np.zeros(0), args=(t,)).x) + t)
    assert g(2.0) == 1.0
    np.testing.assert_array_equal(fg.jacfwd(lambda t: fopt.root(lambda x, t: x * fnp.sum(t), np.zeros(0), args=(t,)).x)(
        np.ones(2)), np.zeros((0, 2)))


# --- errors -------------------------------------------------------------------------------------------

def test_errors_are_specific():
    with pytest.raises(TypeError, match="must return a scalar"):
        fopt.minimize(lambda x: x ** 2, np.ones(2))
    with pytest.raises(TypeError, match="must be callable"):
        fopt.minimize(3.0, np.ones(2))
    with pytest.raises(TypeError, match="x0 must be real"):
        fopt.minimize(lambda x: fnp.sum(fnp.abs(x)), np.ones(2) * 1j)
    with pytest.raises(TypeError, match="leaf of args must be an array or a number"):
        fopt.minimize(lambda x, s: fnp.sum(x ** 2), np.ones(2), args=("text",))
    with pytest.raises(ValueError, match="as many values as x0"):
        fopt.root(lambda x: fnp.sum(x), np.ones(2))
    with pytest.raises(TypeError, match="did not receive as an argument"):
        fg.grad(lambda t: fnp.sum(fopt.minimize(lambda x: fnp.sum((x - t) ** 2), np.zeros(2)).x))(1.0)
    with pytest.raises(ValueError, match="not differentiable through bounds"):
        fg.grad(lambda t: fopt.minimize(lambda x, t: fnp.sum((x - t) ** 2), np.zeros(1), args=(t,),
                                        bounds=[(0, 1)]).x[0])(0.5)
