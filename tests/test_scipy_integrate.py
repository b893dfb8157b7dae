"""funcgrad.scipy.integrate.odeint: values against SciPy's odeint (bit for bit) and closed forms
(exponential decay, harmonic oscillator); reverse mode (adjoint method) and forward mode
(forward sensitivities) against closed-form derivatives and finite differences; pytrees, vmap,
jit, errors.

Accuracy: derivatives are computed by further numerical solves, so they match the exact
derivative, and finite differences of the solver's output, only to about the solver's tolerance.
Finite-difference checks therefore use tight solver tolerances, a larger step (1e-4) and
check_grads to order 1 (order 2 once, with looser tolerances); closed forms are compared at a
tolerance a little above the solver's.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import _integrate_prims as P
from funcgrad.scipy.integrate import OdeintError, odeint
from funcgrad.test_util import check_grads

TIGHT = dict(rtol=1e-12, atol=1e-12)
T = np.array([0.0, 0.3, 1.0, 1.7, 2.5])


def decay(y, t, k):
    return -k * y


def oscillator(state, t, w):
    x, v = state[0], state[1]
    return fnp.stack([v, -w ** 2 * x])


def forced(y, t, a, b):  # time-dependent, nonlinear, two parameter arrays
    return -a * y ** 3 + b * fnp.sin(t) + 0.1 * fnp.cos(y)


# --- values ------------------------------------------------------------------------------------


def test_values_equal_scipy_odeint():
    y0, k = np.array([1.0, 2.0, -0.5]), np.array([0.7, 1.3, 0.2])
    np.testing.assert_array_equal(odeint(decay, y0, T, k), si.odeint(decay, y0, T, args=(k,)))
    a, b = np.array([0.5, 1.5]), np.array([1.0, -0.3])
    np.testing.assert_array_equal(odeint(forced, np.array([0.2, -1.0]), T, a, b, **TIGHT),
                                  si.odeint(forced, np.array([0.2, -1.0]), T, args=(a, b), **TIGHT))


def test_exponential_decay_closed_form():
    y0, k = np.array([1.0, 2.0]), np.array([0.7, 1.3])
    ys = odeint(decay, y0, T, k, **TIGHT)
    np.testing.assert_allclose(ys, y0 * np.exp(-np.outer(T, k)), rtol=1e-10, atol=1e-12)


def test_harmonic_oscillator_closed_form():
    w = 2.0
    ys = odeint(oscillator, np.array([1.0, 0.0]), T, np.array(w), **TIGHT)
    np.testing.assert_allclose(ys[:, 0], np.cos(w * T), atol=1e-10)
    np.testing.assert_allclose(ys[:, 1], -w * np.sin(w * T), atol=1e-10)


def test_backwards_in_time_and_single_time():
    y0, k = np.array([1.0]), np.array([0.5])
    t = np.array([2.0, 1.0, 0.0])
    np.testing.assert_allclose(odeint(decay, y0, t, k, **TIGHT)[:, 0], np.exp(0.5 * np.array([0.0, 1.0, 2.0])),
                               rtol=1e-10)
    np.testing.assert_array_equal(odeint(decay, y0, np.array([3.0]), k), [[1.0]])


# --- reverse mode (adjoint) and forward mode (sensitivities) against closed forms -------------------------


def _decay_loss_and_grads(y0, k, t, w):
    """L = sum_i w_i . y0 exp(-k (t_i - t_0)) and its exact gradients."""
    e = np.exp(-np.outer(t - t[0], k))  # (T, n)
    gy0 = (w * e).sum(0)
    gk = (w * -(t - t[0])[:, None] * y0 * e).sum(0)
    dy_dt = -k * y0 * e  # dy_i/dt_i
    gt = (w * dy_dt).sum(1)
    gt[0] = -(w[1:] * dy_dt[1:]).sum()
    return gy0, gk, gt


def test_reverse_mode_matches_closed_form_for_y0_args_and_times():
    y0, k = np.array([1.0, 2.0]), np.array([0.7, 1.3])
    w = np.cos(np.arange(T.size * 2)).reshape(T.size, 2) + 1.5  # a non-uniform cotangent
    gy0, gt, gk = fg.grad(lambda y0, t, k: fnp.sum(w * odeint(decay, y0, t, k, **TIGHT)), argnums=(0, 1, 2))(y0, T, k)
    want_y0, want_k, want_t = _decay_loss_and_grads(y0, k, T, w)
    np.testing.assert_allclose(gy0, want_y0, rtol=1e-9)
    np.testing.assert_allclose(gk, want_k, rtol=1e-9)
    np.testing.assert_allclose(gt, want_t, rtol=1e-9, atol=1e-10)


def test_forward_mode_matches_closed_form():
    y0, k = np.array([1.0, 2.0]), np.array([0.7, 1.3])
    ty0, tk, tt = np.array([0.3, -1.0]), np.array([1.0, 0.5]), np.array([0.1, -0.2, 0.3, 0.0, 1.0])
    _, got = fg.jvp(lambda y0, t, k: odeint(decay, y0, t, k, **TIGHT), (y0, T, k), (ty0, tt, tk))
    s = T - T[0]
    e = np.exp(-np.outer(s, k))
    want = ty0 * e - s[:, None] * tk * y0 * e + (tt - tt[0])[:, None] * (-k * y0 * e)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_oscillator_frequency_derivative_both_modes():
    t = np.linspace(0.0, 3.0, 7)

    def position(w):
        return odeint(oscillator, np.array([1.0, 0.0]), t, w, **TIGHT)[:, 0]

    w = np.array(2.0)
    _, tangent = fg.jvp(position, (w,), (np.array(1.0),))
    np.testing.assert_allclose(tangent, -t * np.sin(2.0 * t), atol=1e-9)  # d cos(w t) / dw
    ct = np.linspace(-1.0, 1.0, 7)
    (g,) = fg.vjp(position, w)[1](ct)
    np.testing.assert_allclose(g, ct @ (-t * np.sin(2.0 * t)), atol=1e-9)


def test_second_derivative_closed_form():
    t = np.array([0.0, 1.0, 2.0])
    f = lambda k: fnp.sum(odeint(decay, np.array([1.0]), t, k, **TIGHT))
    np.testing.assert_allclose(fg.hessian(f)(np.array([0.5])), [[np.sum(t ** 2 * np.exp(-0.5 * t))]], rtol=1e-7)
    # reverse over reverse: grad of the grad
    g2 = fg.grad(lambda k: fg.grad(f)(k)[0])(np.array([0.5]))
    np.testing.assert_allclose(g2, [np.sum(t ** 2 * np.exp(-0.5 * t))], rtol=1e-7)


# --- against finite differences -----------------------------------------------------------------------


FD_CASES = {
    "decay": (lambda y0, t, k: odeint(decay, y0, t, k, **TIGHT), (np.array([1.0, 2.0]), T, np.array([0.7, 1.3]))),
    "oscillator": (lambda y0, t, w: odeint(oscillator, y0, t, w, **TIGHT), (np.array([1.0, 0.5]), T, np.array(1.7))),
    "forced": (lambda y0, t, a, b: odeint(forced, y0, t, a, b, **TIGHT),
               (np.array([0.2, -1.0]), T, np.array([0.5, 1.5]), np.array([1.0, -0.3]))),
}


@pytest.mark.parametrize("name", FD_CASES)
def test_first_derivatives_match_finite_differences(name):
    """Order 1 in y0, t and args, both modes and their consistency (limited by the solver tolerance)."""
    f, args = FD_CASES[name]
    check_grads(f, args, order=1, eps=1e-4)


def test_second_derivatives_match_finite_differences_loosely():
    f, args = FD_CASES["decay"]
    check_grads(f, args, order=2, eps=1e-4, atol=1e-4, rtol=1e-4)


def test_no_args_and_float32():
    f = lambda y0, t: odeint(lambda y, t: -y + fnp.sin(t), y0, t, **TIGHT)
    check_grads(f, (np.array([1.0, -2.0]), T), order=1, eps=1e-4)
    y32 = np.array([1.0, 2.0], np.float32)
    out = odeint(decay, y32, T, np.float32(0.5))
    assert out.dtype == np.float32
    g = fg.grad(lambda y: fnp.sum(odeint(decay, y, T, np.float32(0.5))))(y32)
    assert g.dtype == np.float32
    check_grads(lambda y: odeint(decay, y, T, np.float32(0.5)), (y32,), order=1)


# --- pytrees -----------------------------------------------------------------------------------------


def test_pytree_state_and_args():
    def rhs(state, t, params):
        return {"x": state["v"], "v": -params["w"] ** 2 * state["x"] - params["c"] * state["v"]}

    y0 = {"x": np.array([1.0, 0.0]), "v": np.array([0.0, 1.0])}
    params = {"w": np.array(2.0), "c": np.array(0.1)}
    out = odeint(rhs, y0, T, params, **TIGHT)
    assert set(out) == {"x", "v"} and out["x"].shape == (T.size, 2)
    flat = si.odeint(lambda y, t: np.concatenate([y[2:], -4.0 * y[:2] - 0.1 * y[2:]]), np.array([1.0, 0.0, 0.0, 1.0]),
                     T, **TIGHT)
    np.testing.assert_allclose(out["x"], flat[:, :2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["v"], flat[:, 2:], rtol=1e-10, atol=1e-12)

    def loss(y0, params):
        o = odeint(rhs, y0, T, params, **TIGHT)
        return fnp.sum(o["x"] ** 2) + fnp.sum(o["v"])

    check_grads(loss, (y0, params), order=1, eps=1e-4)


def test_matrix_state():
    a = np.array([[-0.5, 1.0], [-1.0, -0.2]])
    y0 = np.eye(2)
    out = odeint(lambda y, t, a: a @ y, y0, T, a, **TIGHT)  # the fundamental matrix expm(a t)
    import scipy.linalg as sl

    np.testing.assert_allclose(out[-1], sl.expm(a * T[-1]), rtol=1e-9, atol=1e-11)
    check_grads(lambda y0, a: odeint(lambda y, t, a: a @ y, y0, T, a, **TIGHT), (y0, a), order=1, eps=1e-4)


# --- vmap, jit --------------------------------------------------------------------------------------


def _examples():
    rng = np.random.default_rng(0)
    return rng.uniform(0.5, 2.0, (3, 2)), rng.uniform(0.2, 1.5, (3, 2))


@pytest.mark.parametrize("axes", [(0, 0), (None, 0), (0, None), (1, 1)], ids=str)
def test_vmap_equals_a_python_loop_exactly(axes):
    y0s, ks = _examples()
    f = lambda y0, k: odeint(decay, y0, T, k)
    args = [y0s if axes[0] is not None else y0s[0], ks if axes[1] is not None else ks[0]]
    args = [a if ax is None else np.moveaxis(a, 0, ax) for a, ax in zip(args, axes)]
    got = fg.vmap(f, in_axes=axes)(*args)
    want = np.stack([f(y0s[i] if axes[0] is not None else y0s[0], ks[i] if axes[1] is not None else ks[0])
                     for i in range(3)])
    np.testing.assert_array_equal(got, want)


def test_vmap_over_time_grids():
    y0s, ks = _examples()
    ts = np.stack([T, 2 * T, T + 1.0])
    got = fg.vmap(lambda t: odeint(decay, y0s[0], t, ks[0]))(ts)
    np.testing.assert_array_equal(got, np.stack([odeint(decay, y0s[0], t, ks[0]) for t in ts]))


def test_vmap_of_grad_equals_a_loop_of_grad():
    y0s, ks = _examples()
    loss = lambda y0, k: fnp.sum(odeint(decay, y0, T, k) ** 2)
    g = fg.grad(loss, argnums=(0, 1))
    got = fg.vmap(g)(y0s, ks)
    want = [g(y0s[i], ks[i]) for i in range(3)]
    for j in range(2):
        np.testing.assert_array_equal(got[j], np.stack([w[j] for w in want]))


def test_jit_equals_eager_and_stages_one_solve(monkeypatch):
    y0s, ks = _examples()
    f = lambda y0, k: odeint(decay, y0, T, k)
    jf = fg.jit(f)
    np.testing.assert_array_equal(jf(y0s[0], ks[0]), f(y0s[0], ks[0]))
    np.testing.assert_array_equal(jf(y0s[1], ks[1]), f(y0s[1], ks[1]))
    assert jf.cache_info().misses == 1
    loss = lambda y0, k: fnp.sum(f(y0, k) ** 2)
    want = fg.grad(loss, argnums=(0, 1))(y0s[0], ks[0])
    jit_of_grad = fg.jit(fg.grad(loss, argnums=(0, 1)))(y0s[0], ks[0])
    grad_of_jit = fg.grad(fg.jit(loss), argnums=(0, 1))(y0s[0], ks[0])
    for got in (jit_of_grad, grad_of_jit):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)

    def boom(*a, **k):
        raise AssertionError("the solver ran while tracing")

    monkeypatch.setattr(P.odeint_p, "impl", boom)
    prog = fg.make_trace(f)(y0s[0], ks[0])
    assert [e.prim.name for e in prog.eqns].count("odeint") == 1


# --- errors ------------------------------------------------------------------------------------------


def test_closed_over_traced_value_raises_a_clear_error():
    with pytest.raises(TypeError, match="pass|passed to odeint as extra arguments"):
        fg.grad(lambda k: fnp.sum(odeint(lambda y, t: -k * y, np.array([1.0]), T)))(np.array(0.5))


def test_solver_failure_raises_with_scipy_message():
    with pytest.raises(OdeintError, match="Excess work done"):
        odeint(decay, np.array([1.0]), np.array([0.0, 1e4]), np.array([1.0]), mxstep=3)


def test_bad_inputs():
    with pytest.raises(TypeError, match="real systems"):
        odeint(decay, np.array([1.0 + 1j]), T, np.array([1.0]))
    with pytest.raises(ValueError, match="1-d"):
        odeint(decay, np.array([1.0]), np.array(1.0), np.array([1.0]))
    with pytest.raises(ValueError, match="shape"):
        odeint(lambda y, t: fnp.sum(y), np.array([1.0, 2.0]), T)
    with pytest.raises(TypeError, match="structure"):
        odeint(lambda y, t: (y, y), np.array([1.0]), T)
    with pytest.raises(TypeError, match="callable"):
        odeint(None, np.array([1.0]), T)
