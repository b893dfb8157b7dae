"""Fit Gaussian-process hyperparameters by maximising the log marginal likelihood.

A GP with an RBF kernel, k(x, x') = s2 * exp(-(x - x')^2 / (2 l^2)), and Gaussian noise of
variance n2 models noisy observations y of a smooth function. Its log marginal likelihood is

    log p(y | l, s2, n2) = -1/2 y^T K^{-1} y - 1/2 log|K| - n/2 log(2 pi),   K = k(X, X) + n2 I.

It is computed with a Cholesky factorisation (``funcgrad.scipy.linalg.cho_factor``/``cho_solve``)
and ``funcgrad.numpy.linalg.slogdet``; ``funcgrad.value_and_grad`` gives its value and gradient
with respect to the log-hyperparameters in one pass, and ``scipy.optimize.minimize(jac=True)``
(L-BFGS-B) maximises it. Before optimising, the gradient is checked against central finite
differences and against the textbook closed form 1/2 tr((a a^T - K^{-1}) dK/dtheta). The fitted
model then predicts at new inputs (the predictive variance uses a triangular solve).

Run it with ``python examples/gaussian_process.py`` (a second or two).
"""

import numpy as np
import scipy.optimize

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl

# --- synthetic data -------------------------------------------------------------------------

rng = np.random.default_rng(0)
TRUE_NOISE_STD = 0.1
X = np.sort(rng.uniform(0.0, 6.0, 40))
Y = np.sin(1.5 * X) + 0.5 * np.cos(0.5 * X) + TRUE_NOISE_STD * rng.standard_normal(X.shape)


def rbf(xa, xb, log_length, log_signal_var):
    """s2 * exp(-(xa_i - xb_j)^2 / (2 l^2)) with l = exp(log_length), s2 = exp(log_signal_var)."""
    d = xa[:, None] - xb[None, :]
    return fnp.exp(log_signal_var - 0.5 * d ** 2 * fnp.exp(-2.0 * log_length))


def log_marginal_likelihood(theta, x=X, y=Y):
    """log p(y | theta) for theta = (log l, log s2, log n2)."""
    log_length, log_signal_var, log_noise_var = theta[0], theta[1], theta[2]
    n = x.shape[0]
    K = rbf(x, x, log_length, log_signal_var) + fnp.exp(log_noise_var) * np.eye(n)
    alpha = fsl.cho_solve(fsl.cho_factor(K, lower=True), y)  # K^{-1} y by two triangular solves
    logdet = fnp.linalg.slogdet(K).logabsdet
    return -0.5 * (y @ alpha) - 0.5 * logdet - 0.5 * n * np.log(2.0 * np.pi)


def negative_lml(theta):
    return -log_marginal_likelihood(theta)


value_and_grad = fg.value_and_grad(negative_lml)


def objective(theta):
    """What scipy.optimize.minimize(jac=True) expects: (value, gradient) as float and float64 array."""
    value, g = value_and_grad(np.asarray(theta, dtype=np.float64))
    return float(value), np.asarray(g, dtype=np.float64)


# --- independent checks of the gradient ----------------------------------------------------


def finite_difference_grad(f, theta, eps=1e-6):
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = eps
        g[i] = (f(theta + e) - f(theta - e)) / (2.0 * eps)
    return g


def closed_form_grad(theta):
    """d(-log p)/d theta_j = -1/2 tr((a a^T - K^{-1}) dK/dtheta_j), written out in NumPy."""
    length, s2, n2 = np.exp(theta)
    d2 = (X[:, None] - X[None, :]) ** 2
    kf = s2 * np.exp(-0.5 * d2 / length ** 2)
    K = kf + n2 * np.eye(X.size)
    K_inv = np.linalg.inv(K)
    a = K_inv @ Y
    inner = np.outer(a, a) - K_inv
    dK = [kf * d2 / length ** 2, kf, n2 * np.eye(X.size)]  # derivatives with respect to log l, log s2, log n2
    return np.array([-0.5 * np.sum(inner * dk) for dk in dK])


def main():
    theta0 = np.log(np.array([2.0, 0.5, 0.5]))  # length 2, signal variance 0.5, noise variance 0.5
    value0, grad0 = objective(theta0)
    fd = finite_difference_grad(lambda th: float(negative_lml(th)), theta0)
    print(f"start: -log p(y) = {value0:.4f}")
    print(f"  funcgrad gradient:          {grad0}")
    print(f"  finite-difference gradient: {fd}")
    np.testing.assert_allclose(grad0, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad0, closed_form_grad(theta0), rtol=1e-10, atol=1e-10)
    # slogdet's log-determinant agrees with the Cholesky factor's 2 * sum(log(diag(L)))
    K0 = rbf(X, X, theta0[0], theta0[1]) + np.exp(theta0[2]) * np.eye(X.size)
    L0 = fsl.cholesky(K0, lower=True)
    np.testing.assert_allclose(fnp.linalg.slogdet(K0).logabsdet, 2.0 * np.sum(np.log(np.diag(L0))), rtol=1e-12)
    print("gradient matches finite differences and the closed form")

    result = scipy.optimize.minimize(objective, theta0, jac=True, method="L-BFGS-B")
    assert result.success, result.message
    length, signal_var, noise_var = np.exp(result.x)
    print(f"optimised in {result.nit} iterations ({result.nfev} evaluations): -log p(y) = {result.fun:.4f}")
    print(f"  length scale     l  = {length:.4f}")
    print(f"  signal variance  s2 = {signal_var:.4f}  (std {np.sqrt(signal_var):.4f})")
    print(f"  noise variance   n2 = {noise_var:.6f}  (std {np.sqrt(noise_var):.4f}; true std {TRUE_NOISE_STD})")
    assert result.fun < value0
    assert np.max(np.abs(result.jac)) < 1e-3, result.jac
    assert 0.5 * TRUE_NOISE_STD < np.sqrt(noise_var) < 2.0 * TRUE_NOISE_STD

    # predictions at new inputs with the fitted hyperparameters
    x_new = np.linspace(0.0, 6.0, 7)
    K = rbf(X, X, *result.x[:2]) + noise_var * np.eye(X.size)
    c = fsl.cho_factor(K, lower=True)
    K_star = rbf(X, x_new, *result.x[:2])
    mean = K_star.T @ fsl.cho_solve(c, Y)
    v = fsl.solve_triangular(c[0], K_star, lower=True)
    var = signal_var - np.sum(v * v, axis=0)
    truth = np.sin(1.5 * x_new) + 0.5 * np.cos(0.5 * x_new)
    print("  x      mean     std      truth")
    for xi, mi, si, ti in zip(x_new, mean, np.sqrt(var), truth):
        print(f"  {xi:4.1f}  {mi:7.4f}  {si:7.4f}  {ti:7.4f}")
    assert np.max(np.abs(mean - truth)) < 0.25
    print("GP hyperparameters fitted")


if __name__ == "__main__":
    main()
