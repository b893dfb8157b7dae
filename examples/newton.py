"""Newton's method on the Rosenbrock function, two ways.

1. With the full Hessian, ``hessian(f)`` (forward-over-reverse: ``jacfwd(jacrev(f))``), solving
   ``H p = -g`` with ``numpy.linalg.solve``: fine for a few variables.
2. Matrix-free (Newton-CG): Hessian-vector products ``H v = jvp(grad(f), (x,), (v,))[1]``, each
   as cheap as a couple of gradients, fed to conjugate gradients. The Hessian is never formed, so
   this scales to many variables.

Both use a backtracking line search, and print f and the gradient norm at every iteration.
Run it with ``python examples/newton.py``.
"""

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def rosenbrock(x):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; minimum 0 at x = (1, ..., 1)."""
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


grad_f = fg.grad(rosenbrock)
hess_f = fg.hessian(rosenbrock)


def hvp(x, v):
    """Hessian-vector product: the derivative of grad f at x in the direction v (forward over reverse)."""
    return fg.jvp(grad_f, (x,), (v,))[1]


def line_search(x, p, g, f0):
    """Backtracking (Armijo) line search along the descent direction p."""
    t = 1.0
    while rosenbrock(x + t * p) > f0 + 1e-4 * t * (g @ p) and t > 1e-10:
        t *= 0.5
    return t


def conjugate_gradients(x, g, max_iter, tol):
    """Approximately solve H p = -g with Hessian-vector products only. On negative curvature,
    stop and return the direction found so far (or -g at the start), which is still a descent
    direction (Steihaug's truncation)."""
    p = np.zeros_like(g)
    r = -g.copy()
    d = r.copy()
    rr = r @ r
    for _ in range(max_iter):
        Hd = hvp(x, d)
        curvature = d @ Hd
        if curvature <= 0:
            return p if p.any() else -g
        alpha = rr / curvature
        p = p + alpha * d
        r = r - alpha * Hd
        rr_new = r @ r
        if np.sqrt(rr_new) < tol:
            break
        d = r + (rr_new / rr) * d
        rr = rr_new
    return p


def newton(x, direction, name, max_iter=100, gtol=1e-10):
    print(f"\n{name}: {x.size} variables, start f = {float(rosenbrock(x)):.4g}")
    print("  iter            f        |grad|   step")
    for it in range(max_iter):
        f0 = float(rosenbrock(x))
        g = grad_f(x)
        gnorm = np.linalg.norm(g)
        if gnorm < gtol:
            break
        p = direction(x, g)
        if g @ p >= 0:  # not a descent direction (Hessian not positive definite here)
            p = -g
        t = line_search(x, p, g, f0)
        print(f"  {it:4d}  {f0:11.4e}  {gnorm:11.4e}  {t:5.3f}")
        x = x + t * p
    print(f"  done after {it} iterations: f = {float(rosenbrock(x)):.3e}, |grad| = {np.linalg.norm(grad_f(x)):.3e}")
    return x


# 1. Full Hessian on the classic 2-d start point.
x_full = newton(np.array([-1.2, 1.0]), lambda x, g: np.linalg.solve(hess_f(x), -g), "Newton with hessian")
assert np.allclose(x_full, 1.0, atol=1e-8), x_full

# The Hessian agrees with the closed form at the start point.
x0 = np.array([-1.2, 1.0])
closed = np.array([[1200 * x0[0] ** 2 - 400 * x0[1] + 2, -400 * x0[0]], [-400 * x0[0], 200.0]])
assert np.allclose(hess_f(x0), closed, rtol=1e-12)
# ... and a Hessian-vector product is the Hessian times the vector, without forming the Hessian.
v = np.array([0.3, -2.0])
assert np.allclose(hvp(x0, v), closed @ v, rtol=1e-12)

# 2. Matrix-free Newton-CG on 20 variables.
n = 20
start = np.zeros(n)
x_cg = newton(start,
              lambda x, g: conjugate_gradients(x, g, max_iter=2 * n, tol=1e-3 * min(1.0, float(np.linalg.norm(g)))),
              "Newton-CG with Hessian-vector products", max_iter=200)
assert np.allclose(x_cg, 1.0, atol=1e-6), x_cg
print("\nboth converged to the minimum at (1, ..., 1)")
