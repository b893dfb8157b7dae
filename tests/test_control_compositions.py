"""Nested compositions over every control-flow operation (issue 8 §5), eager and under ``jit``.

``test_control_flow.py`` covers each operation under one transformation (grad, jvp, vjp, vmap,
hessian, vmap∘grad, jit∘·, grad∘jit); this file adds the compositions a JAX user nests:
reverse over vmap over reverse (``jacrev(vmap(grad))``), two vmap levels, reverse over forward
over reverse (``grad(jvp(grad))``), third derivatives, ``jvp``/``vjp`` around ``vmap`` and
``linearize``. The references are the same functions written as Python loops (differentiated by
the tape, vmap as a loop over the examples), and their derivatives are checked against central
finite differences in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_control_flow import CASES, CT, XB, X, close, loss_of

import funcgrad as fg
import funcgrad.numpy as fnp

TT = np.array([0.2, -1.0, 0.7])
U = np.array([0.3, 0.7, -1.1])
XB22 = XB.reshape(2, 2, 3)
ONES_CT = np.ones((len(XB), len(CT))) * np.linspace(0.5, 2.0, len(XB))[:, None] * CT  # non-uniform


def transformed(mode, f):
    """(``mode`` of ``f`` as a function of arrays, its arguments)."""
    loss = loss_of(f)
    return {
        "jacrev∘vmap∘grad": (lambda xb: fg.jacrev(fg.vmap(fg.grad(loss)))(xb), (XB,)),
        "jacfwd∘vmap∘grad": (lambda xb: fg.jacfwd(fg.vmap(fg.grad(loss)))(xb), (XB,)),
        "grad∘vmap": (lambda xb: fg.grad(lambda xb: fnp.sum(fg.vmap(loss)(xb) ** 2))(xb), (XB,)),
        "vmap∘vmap∘grad": (lambda xb: fg.vmap(fg.vmap(fg.grad(loss)))(xb), (XB22,)),
        "vmap∘vmap∘jacrev∘grad": (lambda xb: fg.vmap(fg.vmap(fg.jacrev(fg.grad(loss))))(xb), (XB22,)),
        "vmap∘hessian": (lambda xb: fg.vmap(fg.hessian(loss))(xb), (XB,)),
        "grad∘jvp∘grad": (lambda x: fg.grad(lambda x: fnp.sum(fg.jvp(fg.grad(loss), (x,), (TT,))[1] * U))(x), (X,)),
        "jacrev∘jacrev∘grad": (lambda x: fg.jacrev(fg.jacrev(fg.grad(loss)))(x), (X,)),
        "jacfwd∘hessian": (lambda x: fg.jacfwd(fg.hessian(loss))(x), (X,)),
        "jvp∘vmap": (lambda xb: fg.jvp(fg.vmap(f), (xb,), (xb * 0.5,)), (XB,)),
        "vmap∘jvp": (lambda xb: fg.vmap(lambda x, t: fg.jvp(f, (x,), (t,)))(xb, xb * 0.5), (XB,)),
        "vjp∘vmap": (lambda xb, ct: fg.vjp(fg.vmap(f), xb)[1](ct)[0], (XB, ONES_CT)),
        "linearize": (lambda x, t: fg.linearize(f, x)[1](t), (X, TT)),
    }[mode]


MODES = ["jacrev∘vmap∘grad", "jacfwd∘vmap∘grad", "grad∘vmap", "vmap∘vmap∘grad", "vmap∘vmap∘jacrev∘grad",
         "vmap∘hessian", "grad∘jvp∘grad", "jacrev∘jacrev∘grad", "jacfwd∘hessian", "jvp∘vmap", "vmap∘jvp",
         "vjp∘vmap", "linearize"]


def reference(mode, f_py):
    """The same composition of the Python loop, vmap written as a loop over the examples."""
    loss = loss_of(f_py)

    def per(g, xs=XB):
        return np.stack([np.asarray(g(x)) for x in xs])

    def block_diagonal(blocks):
        return np.einsum("iab,ij->iajb", blocks, np.eye(len(blocks)))

    if mode in ("jacrev∘vmap∘grad", "jacfwd∘vmap∘grad"):
        return block_diagonal(per(fg.hessian(loss)))
    if mode == "grad∘vmap":
        return per(lambda x: 2.0 * loss(x) * fg.grad(loss)(x))
    if mode == "vmap∘vmap∘grad":
        return per(fg.grad(loss)).reshape(XB22.shape)
    if mode == "vmap∘vmap∘jacrev∘grad":
        return per(fg.hessian(loss)).reshape(XB22.shape + (3,))
    if mode == "vmap∘hessian":
        return per(fg.hessian(loss))
    if mode in ("jvp∘vmap", "vmap∘jvp"):
        return per(f_py), per(lambda x: fg.jvp(f_py, (x,), (x * 0.5,))[1])
    if mode == "vjp∘vmap":
        return np.stack([fg.vjp(f_py, x)[1](ct)[0] for x, ct in zip(XB, ONES_CT)])
    if mode == "linearize":
        return fg.jvp(f_py, (X,), (TT,))[1]
    fn, args = transformed(mode, f_py)  # single-example compositions: the Python loop's own
    return fn(*args)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_nested_composition_against_python_loop(case, mode, jit):
    f, f_py = CASES[case]
    fn, args = transformed(mode, f)
    got = fg.jit(fn)(*args) if jit else fn(*args)
    close(got, reference(mode, f_py), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("case", sorted(CASES))
def test_python_loop_references_against_finite_differences(case):
    # The references above differentiate the Python loops to third order; check their hessian and
    # third derivative against central differences of the order below (X is away from the points
    # where a trip count or a branch changes).
    f_py = CASES[case][1]
    loss = loss_of(f_py)
    eps = 1e-5
    for lower, upper in ((fg.grad(loss), fg.hessian(loss)), (fg.hessian(loss), fg.jacfwd(fg.hessian(loss)))):
        fd = np.stack([(np.asarray(lower(X + eps * e)) - np.asarray(lower(X - eps * e))) / (2 * eps)
                       for e in np.eye(3)], axis=-1)
        np.testing.assert_allclose(upper(X), fd, rtol=1e-5, atol=1e-6)
