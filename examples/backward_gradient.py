"""What is the ``gradient`` argument of PyTorch's ``y.backward(gradient)``? Answered with funcgrad.

For a function y = f(x) with Jacobian J = dy/dx, PyTorch's ``y.backward(v)`` stores vᵀ·J in
``x.grad``: the vector-Jacobian product. ``v`` is the *cotangent* of ``y``: "how much each
output entry matters" — for instance dL/dy for some loss L computed from y, so that vᵀ·J = dL/dx
by the chain rule. funcgrad exposes the same thing as a function:

    y, pullback = funcgrad.vjp(f, x)
    (x_bar,) = pullback(v)        # x_bar = vᵀ·J, shaped like x

and ``funcgrad.grad(f)(x)`` is ``pullback(1.0)`` for a scalar-valued ``f``.

Run it with ``python examples/backward_gradient.py``.
"""

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

np.set_printoptions(precision=6, suppress=True)


def section(title):
    print()
    print(title)
    print("-" * len(title))


def show(name, value):
    text = np.array2string(np.asarray(value), prefix=" " * (len(name) + 5))
    print(f"  {name} = {text}")


# --- 1. A function with a data-dependent while loop --------------------------------------------
section("1. y = f(x) doubles x until ||y|| >= 1000, pulled back with v = [0.1, 1.0, 0.0001]")


def f(x):
    y = x * 2
    while fnp.linalg.norm(y) < 1000:  # ordinary Python control flow on the real value of y
        y = y * 2
    return y


x = np.random.default_rng(0).standard_normal(3)
v = np.array([0.1, 1.0, 0.0001])
y, pullback = fg.vjp(f, x)
(x_bar,) = pullback(v)

# For these x the loop ran some number of times; in all, y = 2**k * x, so J = 2**k * I and
# vᵀJ = 2**k * v. Count k directly with plain NumPy, independently of funcgrad:
k, z = 1, x * 2
while np.linalg.norm(z) < 1000:
    z, k = z * 2, k + 1

show("x", x)
show("y", y)
print(f"  the input was doubled k = {k} times, so y = 2**{k} * x = {2**k} * x and J = {2**k} * I")
show("pullback(v) = vᵀJ", x_bar)
show("2**k * v", 2**k * v)
assert np.array_equal(x_bar, 2**k * v)
print("  In PyTorch: x.requires_grad_(); y = f(x); y.backward(torch.tensor(v)); x.grad is this vector.")

# --- 2. c = sum(a - b): a scalar output ------------------------------------------------------
section("2. c = sum(a - b): a scalar output, so the cotangent is the scalar 1.0")
a = np.array([[1.0, 1.0], [2.0, 2.0]])
b = np.array([[1.0, 2.0], [1.0, 2.0]])
c, pullback = fg.vjp(lambda a, b: fnp.sum(a - b), a, b)
a_bar, b_bar = pullback(1.0)
show("c", c)
show("a_bar", a_bar)
show("b_bar", b_bar)
print("  Every entry of a adds to c with weight +1, every entry of b with weight -1.")
ga, gb = fg.grad(lambda a, b: fnp.sum(a - b), argnums=(0, 1))(a, b)
print(f"  grad(..., argnums=(0, 1)) is this same pullback seeded with 1.0: "
      f"{np.array_equal(ga, a_bar) and np.array_equal(gb, b_bar)}")

# A 2x2 cotangent for a scalar output is a mistake: old PyTorch silently accepted it, funcgrad
# says what is wrong.
try:
    pullback(np.array([[1.0, 2.0], [3.0, 4.0]]))
except fg.CotangentMismatchError as e:
    print("  pullback(<2x2 array>) for the scalar c is rejected:")
    print(f"    CotangentMismatchError: {e}")
else:  # pragma: no cover
    raise AssertionError("a 2x2 cotangent for a scalar output should have been rejected")

# --- 3. c = a - b: a 2x2 output, so the cotangent is a 2x2 array ------------------------------
section("3. c = a - b: a 2x2 output, pulled back with v = [[1, 2], [3, 4]]")
v = np.array([[1.0, 2.0], [3.0, 4.0]])
c, pullback = fg.vjp(lambda a, b: a - b, a, b)
a_bar, b_bar = pullback(v)
show("c", c)
show("a_bar", a_bar)
show("b_bar", b_bar)
print("  c[i, j] depends only on a[i, j] (weight +1) and b[i, j] (weight -1): a_bar = v, b_bar = -v.")

# --- 4. c = a @ b ---------------------------------------------------------------------------
section("4. c = a @ b with a = [[0, 0], [2, 2]], b = [[1, 2], [1, 2]]")
a = np.array([[0.0, 0.0], [2.0, 2.0]])
b = np.array([[1.0, 2.0], [1.0, 2.0]])
c, pullback = fg.vjp(lambda a, b: a @ b, a, b)
show("c", c)
print("  For c = a @ b the pullback is a_bar = v @ b.T and b_bar = a.T @ v.")
for v in (np.ones((2, 2)), np.array([[1.0, 2.0], [3.0, 4.0]])):
    a_bar, b_bar = pullback(v)  # a pullback may be called any number of times
    print(f"  v = {v.tolist()}:")
    show("  a_bar", a_bar)
    show("  b_bar", b_bar)
    assert np.array_equal(a_bar, v @ b.T) and np.array_equal(b_bar, a.T @ v)
print("  With v = ones this is elementwise_grad, i.e. PyTorch's c.backward(torch.ones_like(c)),")
print("  which is also the gradient of the scalar c.sum().")
