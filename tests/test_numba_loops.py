"""Whole ``scan``/``while`` loops as one Numba kernel under ``jit(f, backend="numba")``
(funcgrad/ir/numba_loops.py).

Each case runs under both backends and must agree to 1e-12 (values and derivatives: grad, vjp,
jvp), with the same dtypes; each checks that the loop really ran as a kernel (the generated
program calls it), or, for bodies without a translation, that it did not and is still right.
Derivatives are also checked against the hand-written loop or central finite differences, so
that both backends being wrong in the same way would fail.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.test_util import check_grads

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                       reason="the numba extra is not installed (CI installs it)"),
    # a loop kernel Numba cannot compile falls back with this warning: here, it is a failure
    pytest.mark.filterwarnings("error:funcgrad's Numba backend could not compile:RuntimeWarning"),
]

RNG = np.random.default_rng(7)
H = 5
W = RNG.standard_normal((H, H)) * 0.4


def loop_kernels(jitted, *args) -> int:
    """How many whole-loop kernels the generated program calls."""
    return len(re.findall(r"\b_loop\d+_*\(", jitted.lower(*args).source))


def assert_close(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    tol = 1e-5 if want.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def both(f, *args, kernels: int):
    """``f`` jitted with each backend: results equal, and the Numba one calls ``kernels`` loop kernels."""
    numba_f = fg.jit(f, backend="numba")
    want = fg.jit(f)(*args)
    got = numba_f(*args)
    for k, (g, w) in enumerate(zip(fg.tree_util.tree_leaves(got), fg.tree_util.tree_leaves(want))):
        assert_close(g, w, f"output {k}")
    assert loop_kernels(numba_f, *args) == kernels
    return got


def rnn_loss(w, xs):
    def step(h, x):
        h = fnp.tanh(w @ h + x)
        return h, fnp.sum(h)

    h, ys = lax.scan(step, fnp.zeros(H), xs)
    return fnp.sum(h) + fnp.sum(ys)


def rnn_grad_by_hand(w, xs):
    hs = [np.zeros(H)]
    for x in xs:
        hs.append(np.tanh(w @ hs[-1] + x))
    gw, gh, n = np.zeros_like(w), np.zeros(H), len(xs)
    for t in range(n, 0, -1):
        gh = gh + (2.0 if t == n else 1.0)
        ga = gh * (1.0 - hs[t] * hs[t])
        gw += np.outer(ga, hs[t - 1])
        gh = w.T @ ga
    return gw


def test_rnn_gradient_runs_forward_and_backward_loops_as_kernels():
    xs = RNG.standard_normal((40, H))
    got = both(fg.value_and_grad(rnn_loss), W, xs, kernels=2)
    np.testing.assert_allclose(got[1], rnn_grad_by_hand(W, xs), rtol=1e-12, atol=1e-13)
    # the same kernels serve another length (the length is an argument, not part of the source)
    longer = RNG.standard_normal((300, H))
    got = both(fg.grad(rnn_loss), W, longer, kernels=2)
    np.testing.assert_allclose(got, rnn_grad_by_hand(W, longer), rtol=1e-12, atol=1e-13)


def test_rnn_value_grad_jvp_and_vjp_against_finite_differences():
    xs = RNG.standard_normal((6, H))
    check_grads(fg.jit(rnn_loss, backend="numba"), (W, xs), order=1, modes=("fwd", "rev"))
    tangent = RNG.standard_normal(W.shape)
    both(lambda w, t: fg.jvp(lambda w: rnn_loss(w, xs), (w,), (t,)), W, tangent, kernels=1)
    both(lambda w, ct: fg.vjp(rnn_loss, w, xs)[1](ct), W, 0.5, kernels=2)


def multi(c, xs):
    """Several carries (a 0-d one, a swapped pair), 0-d and 2-d per-step outputs, broadcasting,
    transposes, keepdims sums, 1-d @ 2-d and 2-d @ 2-d products."""
    def step(carry, x):
        a, b, s = carry
        m = fnp.reshape(a, (3, 1)) * fnp.reshape(x, (1, 4)) + 0.5  # (3, 1) * (1, 4) -> (3, 4)
        t = fnp.transpose(m)  # (4, 3)
        col = fnp.sum(m * m, axis=1, keepdims=True)  # (3, 1)
        s2 = s * 0.9 + fnp.sum(fnp.sin(t)) + fnp.sum(col) * 1e-3
        a2 = fnp.cos(a @ m @ t) + fnp.sum(b * x) * 0.01  # (3,) @ (3, 4) @ (4, 3)
        return (a2, b, s2), (s2, t)

    (a, b, s), (ss, ts) = lax.scan(step, c, xs)
    return a, b, s, ss, ts


def test_carries_of_several_shapes_broadcasting_products_and_transposes():
    c = (RNG.standard_normal(3) * 0.3, RNG.standard_normal(4), np.float64(0.25))
    xs = RNG.standard_normal((7, 4)) * 0.3
    out = both(multi, c, xs, kernels=1)
    assert out[2].shape == () and out[3].shape == (7,) and out[4].shape == (7, 4, 3)

    def loss(a, xs):
        a, _, s, ss, ts = multi((a, c[1], c[2]), xs)
        return fnp.sum(a) + s + fnp.sum(ss * 0.3) + fnp.sum(ts ** 2)

    both(fg.grad(loss, argnums=(0, 1)), c[0], xs, kernels=2)
    check_grads(fg.jit(loss, backend="numba"), (c[0], xs), order=1, modes=("rev",))


def test_reverse_scan_without_xs_and_a_carry_swap():
    def f(p, q):
        def step(c, _):
            p, q = c
            return (q, p * 0.5 + fnp.tanh(q)), p  # the old carry as this step's output

        return lax.scan(step, (p, q), None, length=9, reverse=True)

    p, q = RNG.standard_normal(3), RNG.standard_normal(3)
    (a, b), ys = both(f, p, q, kernels=1)
    want_p, want_q, want_ys = p, q, []
    for _ in range(9):
        want_ys.append(want_p)
        want_p, want_q = want_q, want_p * 0.5 + np.tanh(want_q)
    np.testing.assert_allclose(a, want_p, rtol=1e-13)
    np.testing.assert_allclose(ys, np.stack(want_ys[::-1]), rtol=1e-13)  # stored at the reversed index
    both(fg.grad(lambda p, q: fnp.sum(f(p, q)[1] ** 2) + fnp.sum(f(p, q)[0][0])), p, q, kernels=3)


def test_zero_length_scan_returns_copies_of_the_carries_and_empty_outputs():
    f = lambda c, xs: lax.scan(lambda c, x: (c * x, c + x), c, xs)  # noqa: E731
    c = np.arange(3.0)
    out, ys = both(f, c, np.empty((0, 3)), kernels=1)
    assert ys.shape == (0, 3)
    out[0] = 99.0
    assert c[0] == 0.0  # the carry returned is not the caller's array


def test_float32_carries_stay_float32():
    xs = RNG.standard_normal((12, 4)).astype(np.float32)

    def f(h, xs):
        return lax.scan(lambda h, x: (fnp.tanh(h * 0.5 + x), fnp.sum(h)), h, xs)

    h, ys = both(f, np.zeros(4, np.float32), xs, kernels=1)
    assert h.dtype == np.float32 and ys.dtype == np.float32
    g = both(fg.grad(lambda h, xs: fnp.sum(f(h, xs)[1])), np.ones(4, np.float32), xs, kernels=2)
    assert g.dtype == np.float32


def test_while_loop_runs_as_one_kernel():
    def f(x, limit):
        return lax.while_loop(lambda c: fnp.sum(c[0] * c[0]) < limit,
                              lambda c: (c[0] * 1.5 + 0.01, c[1] + 1.0), (x, 0.0))

    x = np.array([0.1, -0.2, 0.05])
    y, n = both(f, x, 1e4, kernels=1)
    want, k = x.copy(), 0
    while np.sum(want * want) < 1e4:
        want, k = want * 1.5 + 0.01, k + 1
    np.testing.assert_allclose(y, want, rtol=1e-13)
    assert n == k and n.dtype == np.float64


def test_bodies_without_a_translation_keep_the_default_loop():
    xs = RNG.standard_normal((6, 4))

    def f(c, xs):  # indexing, a sort and an integer counter: no translation
        return lax.scan(lambda c, x: ((fnp.sort(c[0] + x), c[1] + 1), x[1:] * c[0][0]), (np.zeros(4), 0), xs)

    both(f, np.zeros(4), xs, kernels=0)


def test_other_array_libraries_and_dtypes_at_call_time_run_the_default_loop():
    from funcgrad.ir.numba_backend import compile_kernel, compile_program
    from funcgrad.ir.numba_loops import compile_loops, numba_loop_p

    program = fg.make_trace(lambda c, xs: lax.scan(lambda c, x: (c + x, c * x), c, xs))(np.zeros(2), np.ones((3, 2)))
    assert "_loop" in compile_program(program).source
    (e,) = program.eqns
    (loop,) = compile_loops(program, compile_kernel).eqns
    assert loop.prim is numba_loop_p
    call = loop.params["kernel"]
    want = e.prim.impl(np.zeros(2), np.ones((3, 2)), **e.params)
    got = call(np.zeros(2), np.ones((3, 2)))
    for g, w in zip(got, want):
        assert_close(g, w)
    # a strided xs (not C-contiguous) is copied; an int array is not what the kernel was made for
    strided = np.ones((3, 4))[:, ::2]
    for g, w in zip(call(np.zeros(2), strided), e.prim.impl(np.zeros(2), strided, **e.params)):
        assert_close(g, w)
    ints = np.ones((3, 2), dtype=np.int64)
    for g, w in zip(call(np.zeros(2), ints), e.prim.impl(np.zeros(2), ints, **e.params)):
        assert_close(g, w)


def test_loop_kernels_are_cached_on_disk_for_a_new_process(tmp_path):
    code = textwrap.dedent("""
        import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        from funcgrad import lax
        from funcgrad.ir import numba_backend
        def loss(w, xs):
            h, ys = lax.scan(lambda h, x: (fnp.tanh(w @ h + x), fnp.sum(h)), fnp.zeros(3), xs)
            return fnp.sum(ys)
        g = fg.jit(fg.grad(loss), backend="numba")
        g(np.eye(3) * 0.5, np.ones((4, 3)))
        assert "_loop" in g.lower(np.eye(3) * 0.5, np.ones((4, 3))).source
        stats = [k.stats for k in numba_backend._kernels.values()]
        print(sum(s.cache_hits[sig] for s in stats for sig in s.cache_hits),
              sum(s.cache_misses[sig] for s in stats for sig in s.cache_misses))
    """)
    env = dict(os.environ, FUNCGRAD_NUMBA_CACHE=str(tmp_path))
    env.pop("NUMBA_CACHE_DIR", None)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
            for _ in range(2)]
    (hits1, misses1), (hits2, misses2) = (r.split() for r in runs)
    assert int(misses1) >= 2 and int(hits1) == 0  # the first process compiles both loops (and fused kernels)
    assert int(misses2) == 0 and int(hits2) == int(misses1)  # the second loads every kernel from disk


def grow(x, limit):
    return lax.while_loop(lambda c: fnp.sum(c[0] * c[0]) < limit,
                          lambda c: (c[0] * 1.5 + fnp.sin(c[0]) * c[1], c[1] * 0.9), (x, 1.0))


def grow_by_hand(x, limit):
    """The loop and its reverse mode written out: (final x, d sum(final x) / dx)."""
    xs, s = [x], 1.0
    while np.sum(xs[-1] ** 2) < limit:
        xs.append(xs[-1] * 1.5 + np.sin(xs[-1]) * s)
        s *= 0.9
    g = np.ones_like(x)
    for k in range(len(xs) - 2, -1, -1):
        g = g * (1.5 + np.cos(xs[k]) * 0.9 ** k)
    return xs[-1], g


def test_reverse_mode_of_a_while_loop_runs_the_recording_and_backward_loops_as_kernels():
    x = np.array([0.1, -0.2, 0.05])
    for limit in (1e4, 1e-6):  # many trips; none (the tape is empty)
        g = both(fg.grad(lambda x: fnp.sum(grow(x, limit)[0])), x, kernels=2)
        np.testing.assert_allclose(g, grow_by_hand(x, limit)[1], rtol=1e-12)
    # every input differentiated (the limit too: zero), value and grad together, a vjp with a cotangent
    both(fg.value_and_grad(lambda x, lim: fnp.sum(grow(x, lim)[0] ** 2), argnums=(0, 1)), x, 1e3, kernels=2)
    both(lambda x, ct: fg.vjp(lambda x: grow(x, 1e3), x)[1]((ct, 2.0)), x, np.array([1.0, -1.0, 0.5]), kernels=2)
    # forward mode is a while loop carrying tangents
    both(lambda x, t: fg.jvp(lambda x: grow(x, 1e3)[0], (x,), (t,)), x, np.ones(3), kernels=1)
    check_grads(fg.jit(lambda x: fnp.sum(grow(x, 1e3)[0]), backend="numba"), (x,), order=1, modes=("rev",))


def test_a_tape_leaving_the_program_keeps_the_default_loops():
    x = np.array([0.1, -0.2, 0.05])
    f = fg.jit(lambda x: fg.vjp(lambda x: fnp.sum(grow(x, 1e3)[0]), x), backend="numba")
    value, pullback = f(x)
    np.testing.assert_allclose(pullback(1.0)[0], grow_by_hand(x, 1e3)[1], rtol=1e-12)
    np.testing.assert_allclose(value, np.sum(grow_by_hand(x, 1e3)[0]), rtol=1e-12)


def test_checkpointed_while_loop_keeps_the_default_loops():
    x = np.array([0.1, -0.2, 0.05])
    loss = lambda x: fnp.sum(lax.while_loop(lambda c: fnp.sum(c * c) < 1e3,  # noqa: E731
                                             lambda c: c * 1.5 + 0.1, x, checkpoint="sqrt"))
    both(fg.grad(loss), x, kernels=0)


def test_norms_in_a_predicate_and_in_a_scan_body():
    def doubling(x):
        return lax.while_loop(lambda y: fnp.linalg.norm(y) < 1000.0, lambda y: y * 2.0, x * 2.0)

    x, ct = np.array([1e-3, -2e-3, 5e-4]), np.array([0.1, 1.0, 1e-4])
    y, g = both(lambda x, ct: (lambda out, pb: (out, pb(ct)[0]))(*fg.vjp(doubling, x)), x, ct, kernels=2)
    k = int(round(np.log2(y[0] / x[0]))) - 1  # trips after the first doubling
    np.testing.assert_allclose(y, x * 2.0 ** (k + 1), rtol=1e-15)
    np.testing.assert_allclose(g, ct * 2.0 ** (k + 1), rtol=1e-15)

    def rows(m, xs):  # norms over one axis, with and without keepdims
        def step(m, x):
            m = m / fnp.linalg.norm(m, axis=1, keepdims=True) + fnp.reshape(x, (3, 1)) * 0.1
            return m, fnp.linalg.norm(m, axis=0)

        return lax.scan(step, m, xs)

    m, xs = RNG.standard_normal((3, 2)), RNG.standard_normal((5, 3))
    both(rows, m, xs, kernels=1)
    both(fg.grad(lambda m, xs: fnp.sum(rows(m, xs)[1]) + fnp.sum(rows(m, xs)[0] ** 2)), m, xs, kernels=3)


def test_the_backend_of_a_jit_around_grad_of_a_jitted_function_is_its_own():
    # grad(jit(f)) carries jit(f)'s attributes (functools.wraps): the outer jit's backend must win
    inner = fg.jit(rnn_loss)
    outer = fg.jit(fg.grad(inner), backend="numba")
    assert outer.backend == "numba" and inner.backend == "numpy"
    xs = RNG.standard_normal((8, H))
    np.testing.assert_allclose(outer(W, xs), rnn_grad_by_hand(W, xs), rtol=1e-12, atol=1e-13)
    assert loop_kernels(outer, W, xs) == 2


def test_loop_counters_basic_indexing_and_concatenation():
    def f(c, xs):
        def step(carry, x):
            c, i = carry
            head = fnp.concatenate([x[:1], c[1:], x[-1:][None, ...][0]])  # (1,) + (2,) + (1,)
            c = fnp.tanh(c * x[1] + head[::-1][1:] * 0.5) + fnp.where(i > 2, 1.0, 0.0)
            return (c, i + 1), fnp.maximum(i * 2, 3) - 1

        return lax.scan(step, (c, 0), xs)

    c, xs = RNG.standard_normal(3), RNG.standard_normal((6, 3))
    (c_out, n), ys = both(f, c, xs, kernels=1)
    assert n == 6 and n.dtype == np.int64 and ys.dtype == np.int64
    np.testing.assert_array_equal(ys, np.maximum(np.arange(6) * 2, 3) - 1)
    both(fg.grad(lambda c, xs: fnp.sum(f(c, xs)[0][0] ** 2), argnums=(0, 1)), c, xs, kernels=2)
    check_grads(fg.jit(lambda c, xs: fnp.sum(f(c, xs)[0][0] ** 2), backend="numba"), (c, xs), order=1,
                modes=("rev", "fwd"))
    # fori_loop with concrete bounds (a scan with an int64 counter) and traced bounds (a while loop)
    g = lambda x, n: lax.fori_loop(0, n, lambda i, c: c * 1.1 + i * c[::-1], x)  # noqa: E731
    both(lambda x: g(x, 7), c, kernels=1)
    both(g, c, 7, kernels=1)
    both(fg.grad(lambda x: fnp.sum(g(x, 7))), c, kernels=2)


def test_index_updates_in_a_body():
    def f(c, xs):
        def step(c, x):
            c = c.at[0].set(x[1]).at[1:].add(fnp.sin(x[:2]) * c[0]).at[::2].multiply(0.9)
            return c, c.at[-1].set(2.0)[::-1]

        return lax.scan(step, c, xs)

    c, xs = RNG.standard_normal(3), RNG.standard_normal((5, 3))
    both(f, c, xs, kernels=1)
    both(fg.grad(lambda c, xs: fnp.sum(f(c, xs)[1] ** 2), argnums=(0, 1)), c, xs, kernels=2)


def test_loops_in_loop_bodies_are_inlined_in_the_kernel():
    def nested(c, xs):
        def step(c, x):
            d, ds = lax.scan(lambda d, y: (fnp.tanh(d * 0.9 + y), d * y), c, fnp.reshape(x, (4, 1)), reverse=True)
            e = lax.while_loop(lambda e: fnp.sum(e * e) < 4.0, lambda e: e * 1.5 + 0.1, d * 0.1 + 0.01)
            return d + e * 0.01, fnp.sum(ds)

        return lax.scan(step, c, xs)

    c, xs = RNG.standard_normal(1) * 0.5, RNG.standard_normal((6, 4))
    both(nested, c, xs, kernels=1)
    # reverse mode: the inner scan's forward and backward loops inside the outer ones (a while loop's
    # tape would be a residual of the outer loop: that keeps the default loops)
    both(fg.grad(lambda c, xs: fnp.sum(nested(c, xs)[1]) + fnp.sum(nested(c, xs)[0]), argnums=(0, 1)), c, xs,
         kernels=0)

    def scans(c, xs):
        return lax.scan(lambda c, x: lax.scan(lambda d, y: (fnp.sin(d) * y + d, d * y), c, fnp.reshape(x, (4, 1))),
                        c, xs)

    both(scans, c, xs, kernels=1)
    def loss(c, xs):
        c, ys = scans(c, xs)
        return fnp.sum(ys ** 2) + fnp.sum(c)

    both(fg.grad(loss, argnums=(0, 1)), c, xs, kernels=2)
    check_grads(fg.jit(loss, backend="numba"), (c, xs * 0.3), order=1, modes=("rev", "fwd"))


def test_complex_and_empty_carries():
    def f(z, e, xs):
        def step(c, x):
            z, e = c
            return (z * fnp.exp(1j * x) + 0.1, e * 2.0), fnp.real(z) * x

        return lax.scan(step, (z, e), xs)

    z = np.array([1.0 + 0.5j, -0.3j])
    (z_out, e_out), ys = both(f, z, np.zeros(0), RNG.standard_normal((4, 2)), kernels=1)
    assert z_out.dtype == np.complex128 and e_out.shape == (0,) and ys.dtype == np.float64


def test_vmap_of_a_scan_and_of_its_gradient():
    xs = RNG.standard_normal((3, 10, H))  # a batch of 3 sequences
    got = fg.jit(fg.vmap(rnn_loss, in_axes=(None, 0)), backend="numba")(W, xs)
    np.testing.assert_allclose(got, [rnn_loss(W, x) for x in xs], rtol=1e-12)
    assert loop_kernels(fg.jit(fg.vmap(rnn_loss, in_axes=(None, 0)), backend="numba"), W, xs) == 1
    per_example = fg.jit(fg.vmap(fg.grad(rnn_loss), in_axes=(None, 0)), backend="numba")(W, xs)
    for g, x in zip(per_example, xs):
        np.testing.assert_allclose(g, rnn_grad_by_hand(W, x), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)),
                                    ((2, 3, 4), (4, 2)), ((4,), (2, 4, 3)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_shapes_in_a_body(shapes):
    sa, sb = shapes
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    f = lambda a, b, xs: lax.scan(lambda c, x: (c, fnp.sum(fnp.sin(a * x) @ b)), 0.0, xs)  # noqa: E731
    both(f, a, b, RNG.standard_normal(4), kernels=1)


def test_hessian_of_a_scan():
    def f(c, xs):
        c, ys = lax.scan(lambda c, x: (fnp.sin(c) * x + c * 0.5, c * c), c, xs)
        return fnp.sum(c) + fnp.sum(ys)

    c, xs = RNG.standard_normal(2), RNG.standard_normal((5, 2))
    h = both(fg.hessian(f), c, xs, kernels=2)
    eps = 1e-5  # central differences of the gradient
    g = fg.jit(fg.grad(f))
    fd = np.stack([(g(c + eps * e, xs) - g(c - eps * e, xs)) / (2 * eps) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-7)


def test_boolean_carries_and_number_operands():
    def f(x):  # a done flag and a counter carried by a while loop; a Python number as an initial carry
        def body(c):
            x, done, n = c
            x = fnp.where(done, x, x * 0.5)
            return x, fnp.logical_or(done, fnp.sum(fnp.abs(x)) < 1e-3), n + 1.0

        return lax.while_loop(lambda c: fnp.logical_and(fnp.logical_not(c[1]), c[2] < 100.0), body,
                              (x, False, 0.0))

    x, done, n = both(f, np.array([1.0, -3.0]), kernels=1)
    assert done.dtype == np.bool_ and bool(done) and n == 12.0

    def g(xs):
        return lax.scan(lambda c, x: (c * 0.5 + x, c > 0.1), 1.0, xs)

    c, flags = both(g, RNG.standard_normal(6), kernels=1)
    assert flags.dtype == np.bool_


def test_a_loop_kernel_numba_cannot_compile_falls_back_to_the_default_loop_with_a_warning(monkeypatch):
    from funcgrad.ir import numba_loops

    def broken(spec, with_length):
        raise TypeError("no signature")

    monkeypatch.setattr(numba_loops, "_signature", broken)

    def f(c, xs):
        return lax.scan(lambda c, x: (fnp.sin(c) + x, c * x), c, xs)

    c, xs = np.linspace(0.1, 0.5, 2), np.ones((4, 2))
    with pytest.warns(RuntimeWarning, match="could not compile a loop kernel .TypeError: no signature.; the loop runs "
                                            "as in the NumPy backend instead. Please report"):
        jitted = fg.jit(f, backend="numba")
        got = jitted(c, xs)
    assert loop_kernels(jitted, c, xs) == 0
    for g, w in zip(fg.tree_util.tree_leaves(got), fg.tree_util.tree_leaves(f(c, xs))):
        assert_close(g, w)


@pytest.fixture
def kernel_runs(monkeypatch):
    """The kinds of the whole-loop kernels run from now on ("scan", "while", ...), as
    funcgrad.ir.numba_loops calls them (each LoopCall's kernel wrapped to record its kind)."""
    from funcgrad.ir import numba_loops

    runs: list[str] = []
    init = numba_loops.LoopCall.__init__

    def recording(self, kernel, e, spec, kind):
        def run(*args):
            runs.append(kind)
            return kernel(*args)

        init(self, run, e, spec, kind)

    monkeypatch.setattr(numba_loops.LoopCall, "__init__", recording)
    return runs


def sub_program_loop_kernels(jitted, *args) -> int:
    """How many whole-loop kernels the generated code of the custom_vjp/custom_jvp calls (checkpointed
    bodies) of ``jitted``'s program calls."""
    import inspect

    lowered = jitted.lower(*args)
    names = re.findall(r"\b(_custom_\d+)\(", lowered.source)
    assert names, lowered.source
    bodies = [inspect.getsource(lowered.compiled.__globals__[n]) for n in names]
    return sum(len(re.findall(r"\b_loop\d+_*\(", b)) for b in bodies)


def test_a_scan_inside_a_checkpointed_function_runs_as_a_loop_kernel(kernel_runs):
    # the checkpointed body is a sub-program (a custom_vjp call): it compiles with the outer jit's backend
    xs = RNG.standard_normal((8, H))
    f = fg.checkpoint(rnn_loss)
    numba_f = fg.jit(f, backend="numba")
    got = numba_f(W, xs)
    assert kernel_runs == ["scan"]
    assert_close(got, fg.jit(f)(W, xs))
    assert_close(got, rnn_loss(W, xs))
    assert loop_kernels(numba_f, W, xs) == 0 and sub_program_loop_kernels(numba_f, W, xs) == 1
    # the NumPy backend's body keeps the default loop
    assert sub_program_loop_kernels(fg.jit(f), W, xs) == 0
    # vmap of the checkpointed function: the batched body is a custom_vjp call too
    xss = RNG.standard_normal((3, 8, H))
    kernel_runs.clear()
    batched = fg.jit(fg.vmap(f, in_axes=(None, 0)), backend="numba")
    assert_close(batched(W, xss), np.array([rnn_loss(W, x) for x in xss]))
    assert kernel_runs == ["scan"]
    # and its gradient (the recomputation is inlined into the program: forward and backward loop kernels)
    kernel_runs.clear()
    np.testing.assert_allclose(fg.jit(fg.grad(f), backend="numba")(W, xs), rnn_grad_by_hand(W, xs),
                               rtol=1e-12, atol=1e-13)
    assert sorted(kernel_runs) == ["scan", "scan"]


def test_a_loop_inside_a_custom_jvp_function_runs_as_a_loop_kernel(kernel_runs):
    @fg.custom_jvp
    def grown(x):
        return grow(x, 1e3)[0]

    @grown.defjvp
    def grown_jvp(primals, tangents):
        return grown(primals[0]), tangents[0] * 2.0

    x = np.array([0.1, -0.2, 0.05])
    numba_f = fg.jit(lambda x: grown(x) * 2.0, backend="numba")
    got = numba_f(x)
    assert_close(got, fg.jit(lambda x: grown(x) * 2.0)(x))
    assert_close(got, grow_by_hand(x, 1e3)[0] * 2.0)
    assert kernel_runs == ["while"] and sub_program_loop_kernels(numba_f, x) == 1
