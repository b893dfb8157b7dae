"""Nested transformations of a staged ``while_loop`` whose trip count depends on the data (issue 8):
reverse mode over a vmap of a reverse-mode loop (``jacrev(vmap(grad))``), vmap levels that each
batch the trip count under reverse over reverse (``vmap(vmap(jacrev(grad)))``), third derivatives
built from jacrev/jacfwd/vmap in every order, and reverse over forward over reverse
(``grad(jvp(grad))``). Each is checked against the same loop written as a Python loop with each
example's own trip count, whose derivatives are in turn checked against central finite differences
in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax

RNG = np.random.default_rng(80)
W = RNG.standard_normal((3, 3)) * 0.5
C = np.array([1.0, -0.5, 2.0])
T = np.array([0.5, -1.0, 0.25])
# Examples whose trip counts, ceil(1 + 2|x|^2), are 2, 3, 4 and 2.
XT = np.array([[0.3, -0.2, 0.1], [-0.5, 0.4, 0.35], [0.6, 0.5, -0.7], [0.1, 0.05, -0.2]])
TRIPS = [int(np.ceil(1.0 + 2.0 * np.sum(x * x))) for x in XT]
X22 = XT.reshape(2, 2, 3)


def trip_loop(x, checkpoint=None):
    kw = {} if checkpoint is None else {"checkpoint": checkpoint}
    c = lax.while_loop(lambda c: c[1] < 1.0 + 2.0 * fnp.sum(x * x),
                       lambda c: (fnp.sin(W @ c[0]) * c[0] + x, c[1] + 1), (x, 0), **kw)[0]
    return fnp.sum(c * C)


def python_loop(trips):
    def f(x):
        c = x
        for _ in range(trips):
            c = fnp.sin(W @ c) * c + x
        return fnp.sum(c * C)

    return f


def _fd(f, x, eps=1e-5):
    """Central finite differences of ``f`` at ``x``, one input direction per trailing axis."""
    cols = [(np.asarray(f(x + eps * e)) - np.asarray(f(x - eps * e))) / (2 * eps) for e in np.eye(x.size)]
    return np.stack(cols, axis=-1)


def _references():
    """Per example: gradient, hessian and third derivative of the Python loop, the last two
    checked against central differences of the one before."""
    g, h, d3 = [], [], []
    for x, n in zip(XT, TRIPS):
        f = python_loop(n)
        gi, hi, di = fg.grad(f)(x), fg.hessian(f)(x), fg.jacfwd(fg.hessian(f))(x)
        np.testing.assert_allclose(hi, _fd(fg.grad(f), x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(di, _fd(fg.hessian(f), x), rtol=1e-6, atol=1e-6)
        g.append(gi)
        h.append(hi)
        d3.append(di)
    return np.stack(g), np.stack(h), np.stack(d3)


G, H, D3 = _references()
D3T = np.einsum("iakb,k->iab", D3, T)  # d/dx of (H @ T) per example


def _block_diagonal(blocks):
    """(n, a..., b) per-example blocks -> the (n, a..., n, b) jacobian of a vmapped function."""
    n = blocks.shape[0]
    out = np.zeros((n,) + blocks.shape[1:-1] + (n,) + blocks.shape[-1:])
    for i in range(n):
        out[(i,) + (slice(None),) * (blocks.ndim - 2) + (i,)] = blocks[i]
    return out


def _inner_block_diagonal(blocks):
    """(2, 2, 3, 3) blocks -> (2, 2, 3, 2, 3): vmap over the first axis of jacrev(vmap(.))."""
    out = np.zeros((2, 2, 3, 2, 3))
    for a in range(2):
        for b in range(2):
            out[a, b, :, b, :] = blocks[a, b]
    return out


def _cases(loss):
    sq = lambda g: lambda x: fnp.sum(g(x) * T) ** 2  # noqa: E731 - a scalar of the gradient
    vg_t = lambda xs: fnp.sum(fg.vmap(fg.grad(loss))(xs) @ T)  # noqa: E731
    s = np.array([1.0, -2.0, 0.5])
    gg = np.stack([2.0 * (gi @ T) * (hi @ T) for gi, hi in zip(G, H)])
    return {
        # reverse over a vmap of a reverse-mode loop
        "jacrev∘vmap∘grad": (lambda: fg.jacrev(fg.vmap(fg.grad(loss)))(XT), _block_diagonal(H)),
        "jit∘jacrev∘vmap∘grad": (lambda: fg.jit(fg.jacrev(fg.vmap(fg.grad(loss))))(XT), _block_diagonal(H)),
        "grad∘vmap∘grad": (lambda: fg.grad(lambda xs: fnp.sum(fg.vmap(fg.grad(loss))(xs) @ T) ** 2)(XT),
                           2.0 * np.sum(G @ T) * (H @ T)),
        "vmap∘jacrev∘vmap∘grad": (lambda: fg.vmap(fg.jacrev(fg.vmap(fg.grad(loss))))(X22),
                                  _inner_block_diagonal(H.reshape(2, 2, 3, 3))),
        "jacrev∘vmap∘hessian": (lambda: fg.jacrev(fg.vmap(fg.hessian(loss)))(XT), _block_diagonal(D3)),
        "jacrev∘vmap∘jacrev∘grad": (lambda: fg.jacrev(lambda xs: fg.vmap(fg.jacrev(fg.grad(loss)))(xs) @ T)(XT),
                                    _block_diagonal(D3T)),
        "hessian∘vmap∘grad": (lambda: fg.hessian(vg_t)(XT), _block_diagonal(D3T)),
        "jacfwd∘jacrev∘vmap∘grad": (lambda: fg.jacfwd(fg.jacrev(vg_t))(XT), _block_diagonal(D3T)),
        "jacfwd∘vmap∘jacrev∘grad": (lambda: fg.jacfwd(lambda xs: fg.vmap(fg.jacrev(fg.grad(loss)))(xs) @ T)(XT),
                                    _block_diagonal(D3T)),
        # two vmap levels that both batch the trip count, under reverse over reverse
        "vmap∘vmap∘jacrev∘grad": (lambda: fg.vmap(fg.vmap(fg.jacrev(fg.grad(loss))))(X22), H.reshape(2, 2, 3, 3)),
        "jit∘vmap∘vmap∘grad∘grad": (lambda: fg.jit(fg.vmap(fg.vmap(fg.grad(sq(fg.grad(loss))))))(X22),
                                    gg.reshape(2, 2, 3)),
        # the outer vmap leaves the trip count alone, the inner one batches it
        "vmap_s∘vmap_x∘jacrev∘grad": (
            lambda: fg.vmap(lambda s: fg.vmap(fg.jacrev(fg.grad(lambda x: s * loss(x))))(XT))(s),
            s[:, None, None, None] * H[None]),
        # third derivatives, every jacobian a vmap over the cotangents or tangents
        "vmap∘jacrev∘jacrev∘grad": (lambda: fg.vmap(fg.jacrev(fg.jacrev(fg.grad(loss))))(XT), D3),
        "vmap∘jacrev∘hessian": (lambda: fg.vmap(fg.jacrev(fg.hessian(loss)))(XT), D3),
        "vmap∘jacrev∘jacfwd∘grad": (lambda: fg.vmap(fg.jacrev(fg.jacfwd(fg.grad(loss))))(XT), D3),
        "vmap∘jacfwd∘hessian": (lambda: fg.vmap(fg.jacfwd(fg.hessian(loss)))(XT), D3),
    }


CASE_NAMES = sorted(_cases(trip_loop))


@pytest.mark.parametrize("checkpoint", [None, "sqrt"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_nested_derivatives_of_staged_while_with_per_example_trip_counts(name, checkpoint):
    assert sorted(set(TRIPS)) == [2, 3, 4]
    loss = fg.jit(lambda x: trip_loop(x, checkpoint))  # staged: the loop is one while_loop equation
    run, want = _cases(loss)[name]
    got = run()
    assert np.shape(got) == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("checkpoint", [None, "sqrt"])
def test_single_example_third_derivatives_of_staged_while(checkpoint):
    loss = fg.jit(lambda x: trip_loop(x, checkpoint))
    x, d3 = XT[2], D3[2]
    for name, f in {"jacrev∘jacrev∘grad": fg.jacrev(fg.jacrev(fg.grad(loss))),
                    "jacrev∘hessian": fg.jacrev(fg.hessian(loss)),
                    "jacrev∘jacfwd∘grad": fg.jacrev(fg.jacfwd(fg.grad(loss))),
                    "jit∘jacrev∘jacrev∘grad": fg.jit(fg.jacrev(fg.jacrev(fg.grad(loss))))}.items():
        np.testing.assert_allclose(f(x), d3, rtol=1e-9, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("checkpoint", [None, "sqrt"])
def test_reverse_over_forward_over_reverse_of_staged_while(checkpoint):
    # grad of a Hessian-vector product (jvp of grad): reverse mode meets the tape_zip that joins
    # the tape and its tangent (it used to raise NotImplementedError: no width).
    loss = fg.jit(lambda x: trip_loop(x, checkpoint))
    u = np.array([0.3, 0.7, -1.1])

    def hvp_dot(f):
        return lambda x: fnp.sum(fg.jvp(fg.grad(f), (x,), (T,))[1] * u)

    for i in (0, 2):
        want = np.einsum("akb,k,a->b", D3[i], T, u)
        np.testing.assert_allclose(fg.grad(hvp_dot(loss))(XT[i]), want, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(fg.jit(fg.grad(hvp_dot(loss)))(XT[i]), want, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(want, _fd(hvp_dot(python_loop(TRIPS[i])), XT[i]), rtol=1e-6, atol=1e-6)


def test_forward_over_reverse_over_vmap_of_reverse_with_non_uniform_tangents():
    # jvp of grad of a sum over vmap(grad): the tape of a batched loop zipped with its tangent
    # (the cotangent entries of its flags left out) reads every entry at its place.
    loss = fg.jit(trip_loop)
    g2 = fg.grad(lambda xs: fnp.sum(fg.vmap(fg.grad(loss))(xs) @ T))
    v = RNG.standard_normal(XT.shape)
    out, tangent = fg.jvp(g2, (XT,), (v,))
    np.testing.assert_allclose(out, H @ T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(tangent, np.einsum("iab,ib->ia", D3T, v), rtol=1e-9, atol=1e-10)


def test_vmapped_while_whose_carry_becomes_traced_by_jit():
    # Under jit a vmapped loop over concrete examples whose body adds a value traced by jit: the
    # predicate is batched, then abstract (it used to raise NotImplementedError); the rest of the
    # loop is staged, the finished examples stay frozen.
    xs = np.array([0.0, 5.0, 11.0])

    def f(y):
        return fg.vmap(lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c + y, x))(xs)

    def f_py(y):
        out = []
        for x in xs:
            c = x
            while c < 10.0:
                c = c + y
            out.append(c)
        return fnp.stack(out)

    for g in (f, fg.jit(f)):
        np.testing.assert_allclose(g(3.0), [12.0, 11.0, 11.0])
    for d in (fg.grad(lambda y: fnp.sum(f(y) * xs)), fg.jit(fg.grad(lambda y: fnp.sum(f(y) * xs)))):
        np.testing.assert_allclose(d(3.0), fg.grad(lambda y: fnp.sum(f_py(y) * xs))(3.0), rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda y: fnp.sum(f(y) * xs)))(3.0),
                               (np.sum(f_py(3.0 + 1e-6) * xs) - np.sum(f_py(3.0 - 1e-6) * xs)) / 2e-6, rtol=1e-6)


# --- loops inside loop bodies: a tape recorded inside a step is one of the step's residuals -------


def _assert_batched_hessians(loss, want):
    """The per-example Hessians of ``loss`` over XT, batched four ways, are ``want``."""
    for label, h in {"vmap∘hessian": lambda: fg.vmap(fg.hessian(loss))(XT),
                     "vmap∘jacrev∘grad": lambda: fg.vmap(fg.jacrev(fg.grad(loss)))(XT),
                     "jacrev∘vmap∘grad": lambda: np.einsum("iaib->iab", fg.jacrev(fg.vmap(fg.grad(loss)))(XT)),
                     "vmap∘vmap∘jacrev∘grad": lambda: fg.vmap(fg.vmap(fg.jacrev(fg.grad(loss))))(X22).reshape(4, 3, 3),
                     }.items():
        np.testing.assert_allclose(h(), want, rtol=1e-9, atol=1e-10, err_msg=label)


def _inner_while(c, x):
    """A loop whose trip count, ceil(1 + |c|^2), depends on the carry it starts from."""
    return lax.while_loop(lambda s: s[1] < 1.0 + fnp.sum(s[0] * s[0]),
                          lambda s: (fnp.sin(W @ s[0]) * 0.9 + x, s[1] + 1), (c, 0))[0]


def _inner_trips(c, x):
    s, k = np.asarray(c), 0
    while k < 1.0 + np.sum(s * s):
        s, k = np.sin(W @ s) * 0.9 + x, k + 1
    return s, k


def nested_while(x):
    c = lax.while_loop(lambda c: c[1] < 1.0 + 2.0 * fnp.sum(x * x),
                       lambda c: (_inner_while(c[0], x), c[1] + 1), (x, 0))[0]
    return fnp.sum(c * C)


def nested_while_py(x0):
    """The same loops as Python loops, with the trip counts of the loops run at ``x0``."""
    plan, c = [], np.asarray(x0)
    for _ in range(int(np.ceil(1.0 + 2.0 * np.sum(x0 * x0)))):
        c, k = _inner_trips(c, x0)
        plan.append(k)

    def f(x):
        c = x
        for k in plan:
            for _ in range(k):
                c = fnp.sin(W @ c) * 0.9 + x
        return fnp.sum(c * C)

    return f


def test_while_inside_a_while_body_to_second_order():
    # Second derivatives of a staged while loop whose body runs another staged while loop: the
    # inner loop's tape is a residual of the outer step, and its tangent/cotangent tape goes with
    # it (forward over reverse gave wrong values; reverse over reverse, IndexError).
    loss = fg.jit(nested_while)
    hs = []
    for x in XT:
        f = nested_while_py(x)
        hs.append(fg.hessian(f)(x))
        np.testing.assert_allclose(hs[-1], _fd(fg.grad(f), x), rtol=1e-6, atol=1e-7)
    want = np.stack(hs)
    x = XT[2]
    for name, h in {"hessian": fg.hessian(loss), "jacrev∘grad": fg.jacrev(fg.grad(loss)),
                    "jacfwd∘grad": fg.jacfwd(fg.grad(loss)), "jit∘jacrev∘grad": fg.jit(fg.jacrev(fg.grad(nested_while)))
                    }.items():
        np.testing.assert_allclose(h(x), want[2], rtol=1e-9, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(fg.grad(lambda x: fg.grad(loss)(x)[0])(x), want[2][0], rtol=1e-9, atol=1e-10)
    _assert_batched_hessians(loss, want)


def scan_of_while(x):
    h, ys = lax.scan(lambda h, r: (_inner_while(h, r), fnp.sum(h)), x, fnp.stack([x, 0.5 * x, -x]))
    return fnp.sum(h * C) + fnp.sum(ys)


def scan_of_while_py(x0):
    plan, h = [], np.asarray(x0)
    for r in (x0, 0.5 * x0, -x0):
        h, k = _inner_trips(h, r)
        plan.append(k)

    def f(x):
        h, s = x, 0.0
        for r, k in zip((x, 0.5 * x, -x), plan):
            s = s + fnp.sum(h)
            for _ in range(k):
                h = fnp.sin(W @ h) * 0.9 + r
        return fnp.sum(h * C) + s

    return f


def cond_of_while(x):
    return fnp.sum(lax.cond(fnp.sum(x) > 0, lambda v: _inner_while(v, v * 0.3), fnp.sin, x) * C)


def cond_of_while_py(x0):
    if np.sum(x0) <= 0:
        return lambda x: fnp.sum(fnp.sin(x) * C)
    k = _inner_trips(x0, x0 * 0.3)[1]

    def f(x):
        h = x
        for _ in range(k):
            h = fnp.sin(W @ h) * 0.9 + x * 0.3
        return fnp.sum(h * C)

    return f


@pytest.mark.parametrize("name", ["scan_of_while", "cond_of_while"])
def test_while_inside_scan_and_cond_under_nested_transformations(name):
    # A scan stacks the tapes its steps record (an array of tapes, moved between the batch and
    # step axes with their derivatives); a cond batched over its predicate runs every branch and
    # keeps the one tape recorded. The last example takes the other branch of the cond.
    f, f_py = {"scan_of_while": (scan_of_while, scan_of_while_py),
               "cond_of_while": (cond_of_while, cond_of_while_py)}[name]
    assert np.sum(XT[3]) < 0 < np.sum(XT[0])
    loss = fg.jit(f)
    hs = []
    for x in XT:
        g = fg.grad(f_py(x))
        hs.append(fg.hessian(f_py(x))(x))
        np.testing.assert_allclose(hs[-1], _fd(g, x), rtol=1e-6, atol=1e-7)
    want = np.stack(hs)
    for label, h in {"hessian": lambda: fg.hessian(loss)(XT[2]), "jacrev∘grad": lambda: fg.jacrev(fg.grad(loss))(XT[2]),
                     "jvp∘vmap∘grad": lambda: fg.jvp(fg.vmap(fg.grad(loss)), (XT,), (XT[::-1],))[1]}.items():
        expected = {"jvp∘vmap∘grad": np.einsum("iab,ib->ia", want, XT[::-1])}.get(label, want[2])
        np.testing.assert_allclose(h(), expected, rtol=1e-9, atol=1e-10, err_msg=label)
    _assert_batched_hessians(loss, want)


@fg.custom_vjp
def _csin(v):
    return fnp.sin(v)


_csin.defvjp(lambda v: (fnp.sin(v), fnp.cos(v)), lambda cos_v, ct: (cos_v * ct,))


@fg.custom_jvp
def _ctanh(v):
    return fnp.tanh(v)


_ctanh.defjvp(lambda p, t: (fnp.tanh(p[0]), t[0] * (1.0 - fnp.tanh(p[0]) ** 2)))

# A step of the loop written with each construct inside the body, and the same step in plain NumPy
# operations for the Python loop (cond: the branch the first carry takes, fixed per example).
BODY_STEPS = {
    "custom_vjp": (lambda c, x: _csin(W @ c) * c + x, lambda c, x, b: fnp.sin(W @ c) * c + x),
    "custom_jvp": (lambda c, x: _ctanh(W @ c) * c + x, lambda c, x, b: fnp.tanh(W @ c) * c + x),
    "checkpoint": (lambda c, x: fg.checkpoint(lambda c: fnp.sin(W @ c) * c)(c) + x,
                   lambda c, x, b: fnp.sin(W @ c) * c + x),
    "cond": (lambda c, x: lax.cond(fnp.sum(c) > 0, lambda c: fnp.sin(W @ c) * c, lambda c: fnp.cos(W @ c) * c, c) + x,
             lambda c, x, b: (fnp.sin(W @ c) * c if b else fnp.cos(W @ c) * c) + x),
    "scan": (lambda c, x: lax.scan(lambda h, r: (fnp.sin(W @ h) * h + r, None), c, fnp.stack([x, 0.5 * x]))[0],
             lambda c, x, b: fnp.sin(W @ (fnp.sin(W @ c) * c + x)) * (fnp.sin(W @ c) * c + x) + 0.5 * x),
    "fori_loop": (lambda c, x: lax.fori_loop(0, 2, lambda i, h: fnp.sin(W @ h) * h + x, c),
                  lambda c, x, b: fnp.sin(W @ (fnp.sin(W @ c) * c + x)) * (fnp.sin(W @ c) * c + x) + x),
}


@pytest.mark.parametrize("kind", sorted(BODY_STEPS))
def test_constructs_inside_a_staged_while_body_under_nested_transformations(kind):
    step, step_py = BODY_STEPS[kind]

    def loop(x):
        c = lax.while_loop(lambda c: c[1] < 1.0 + 2.0 * fnp.sum(x * x), lambda c: (step(c[0], x), c[1] + 1), (x, 0))[0]
        return fnp.sum(c * C)

    def loop_py(x0, n):
        branches, c = [], np.asarray(x0)
        for _ in range(n):
            branches.append(bool(np.sum(c) > 0))
            c = np.asarray(step_py(c, x0, branches[-1]))

        def f(x):
            c = x
            for b in branches:
                c = step_py(c, x, b)
            return fnp.sum(c * C)

        return f

    want = np.stack([fg.hessian(loop_py(x, n))(x) for x, n in zip(XT, TRIPS)])
    np.testing.assert_allclose(want[1], _fd(fg.grad(loop_py(XT[1], TRIPS[1])), XT[1]), rtol=1e-6, atol=1e-7)
    loss = fg.jit(loop)
    _assert_batched_hessians(loss, want)


@pytest.mark.parametrize("checkpoint", [None, "sqrt"])
def test_jit_boundaries_between_nested_transformations(checkpoint):
    # jit at every level between vmap and reverse/forward mode: a batched jit program returns an
    # unbatched tape broadcast along the batch (read as the same tape for every example).
    def loss(x):
        return trip_loop(x, checkpoint)

    x, h, d3 = XT[2], H[2], D3[2]
    s = np.array([1.0, -2.0, 0.5])
    cases = {
        "vmap_s∘jacrev∘jit∘grad": (lambda: fg.vmap(lambda s: fg.jacrev(fg.jit(fg.grad(lambda x: s * loss(x))))(x))(s),
                                   s[:, None, None] * h),
        "jacrev∘jit∘vmap_s∘grad": (lambda: fg.jacrev(fg.jit(lambda x: fg.vmap(lambda s: fg.grad(
            lambda x: s * loss(x))(x))(s)))(x), s[:, None, None] * h),
        "jacrev∘vmap_s∘jit∘grad": (lambda: fg.jacrev(lambda x: fg.vmap(lambda s: fg.jit(fg.grad(
            lambda x, s: s * loss(x)))(x, s))(s))(x), s[:, None, None] * h),
        "grad∘jit∘vmap∘jit∘grad": (lambda: fg.grad(lambda xs: fnp.sum(
            fg.jit(fg.vmap(fg.jit(fg.grad(loss))))(xs)[2] * T))(XT)[2], h @ T),
        "jit∘jacrev∘jit∘jacrev∘jit∘grad": (lambda: fg.jit(fg.jacrev(fg.jit(fg.jacrev(fg.jit(fg.grad(loss))))))(x), d3),
        "jacfwd∘jit∘jacrev∘jit∘grad": (lambda: fg.jacfwd(fg.jit(fg.jacrev(fg.jit(fg.grad(loss)))))(x), d3),
        "jacrev∘jit∘jacfwd∘jit∘grad": (lambda: fg.jacrev(fg.jit(fg.jacfwd(fg.jit(fg.grad(loss)))))(x), d3),
        "jacrev∘vmap∘jit∘hessian": (lambda: np.einsum("iabic->iabc", fg.jacrev(fg.vmap(fg.jit(fg.hessian(loss))))(XT)),
                                    D3),
    }
    for name, (run, want) in cases.items():
        np.testing.assert_allclose(run(), want, rtol=1e-9, atol=1e-10, err_msg=name)
