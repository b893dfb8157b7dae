"""A one-screen tour of funcgrad: vjp, grad, value_and_grad, jvp, elementwise_grad, jit, vmap,
jacfwd/hessian, pytrees.

Run it with ``python examples/quickstart.py``.
"""

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.optimizers as optim

np.set_printoptions(precision=4, suppress=True)


def f(x):
    """An ordinary function of an array, written with funcgrad.numpy (NumPy's names)."""
    return fnp.sin(x) * x


x = np.array([0.0, 1.0, 2.0])

# vjp: the output and a pullback. pullback(v) is v^T J, what PyTorch's y.backward(v) computes.
y, pullback = fg.vjp(f, x)
v = np.array([1.0, 10.0, 100.0])
(x_bar,) = pullback(v)
print("vjp              f(x)  =", y)
print("                 v^T J =", x_bar, "  <- pullback(v), v =", v)

# grad: the pullback of a scalar function seeded with 1.0.
loss = lambda x: fnp.sum(f(x))
print("grad             d/dx sum(f(x)) =", fg.grad(loss)(x))

# value_and_grad: both in one pass.
value, g = fg.value_and_grad(loss)(x)
print(f"value_and_grad   value = {float(value):.4f}, grad =", g)

# jvp: forward mode, J t for a tangent t (here the first basis vector: a column of J).
y, y_dot = fg.jvp(f, (x,), (np.array([0.0, 1.0, 0.0]),))
print("jvp              J t   =", y_dot, "  <- column 1 of J")

# elementwise_grad: the pullback seeded with ones; for an elementwise f, f'(x) at every point.
print("elementwise_grad f'(x) =", fg.elementwise_grad(f)(x), "  <- sin x + x cos x")

# jit: trace once per input shape/dtype, run as generated NumPy code; composes with grad.
fast_grad = fg.jit(fg.grad(loss))
print("jit              d/dx sum(f(x)) =", fast_grad(x), "  <- same numbers, compiled")

# vmap: map over a leading axis without a Python loop (here: per-example gradients).
xs = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
print("vmap             per-row grads  =", fg.vmap(fg.grad(loss))(xs).round(4).tolist())

# jacfwd / hessian: full Jacobians (forward mode) and second derivatives (forward over reverse).
print("jacfwd           diag J  =", np.diag(fg.jacfwd(f)(x)), "  hessian diag =", np.diag(fg.hessian(loss)(x)),
      "  <- 2 cos x - x sin x")

# Plain NumPy calls work on traced values too, and Python control flow sees real values.
def g_np(x):
    s = np.sum(np.exp(x))
    return s if s < 100 else np.log(s)


print("plain NumPy      d/dx  =", fg.grad(g_np)(x), "  <- np.sum(np.exp(x)) took the first branch")

# Pytrees: parameters can be dicts (and lists, tuples, namedtuples...); gradients share the tree.
rng = np.random.default_rng(0)
params = {"w": rng.standard_normal((3, 2)), "b": np.zeros(2)}
inputs, targets = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))


def mse(params, inputs, targets):
    pred = fnp.tanh(inputs @ params["w"] + params["b"])
    return fnp.mean((pred - targets) ** 2)


# A training loop: funcgrad.optimizers steps any pytree (sgd, adam, ... with schedules).
opt = optim.sgd(0.5)
opt_state = opt.init(params)
for step in range(3):
    value, grads = fg.value_and_grad(mse)(params, inputs, targets)
    print(f"pytree step {step}    loss = {float(value):.4f}  grads: " + ", ".join(
        f"{k}{grads[k].shape}" for k in sorted(grads)))
    updates, opt_state = opt.update(grads, opt_state, params)
    params = optim.apply_updates(params, updates)
