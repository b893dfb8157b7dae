"""Memory of compiled code (tracemalloc): intermediates are released after their last use, so the
peak of a jitted chain of large temporaries stays where hand-written NumPy has it; and a jitted
function keeps no reference to the arrays it was called with or returned.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

N = 1_000_000  # 8 MB per float64 array
MB = 1 << 20


def peak_extra(fn, *args):
    """Peak memory allocated while ``fn(*args)`` runs, above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        out = fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del out
    return peak - before


def chain(x):
    """20 elementwise operations, each making a new array of x's size."""
    y = x
    for k in range(20):
        y = fnp.sin(y) if k % 2 == 0 else y * 1.0001
    return y


def chain_numpy(x):
    y = np.sin(x)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    y = np.sin(y)
    y = y * 1.0001
    return y


def branches(x):
    """Values used several times and far apart: each must live exactly until its last use."""
    a = fnp.sin(x)
    b = fnp.cos(x)
    c = a * b
    d = fnp.exp(c)
    e = d + a
    f = fnp.tanh(e)
    g = f * b
    h = g - c
    return fnp.sqrt(h * h + 1.0)


def branches_numpy(x):
    """Written carefully, each temporary deleted after its last use (the tightest hand version)."""
    a = np.sin(x)
    b = np.cos(x)
    c = a * b
    d = np.exp(c)
    e = d + a
    del d, a
    f = np.tanh(e)
    del e
    g = f * b
    del f, b
    h = g - c
    del g, c
    return np.sqrt(h * h + 1.0)


@pytest.fixture(scope="module")
def big():
    return np.random.default_rng(0).uniform(-1.0, 1.0, N)


@pytest.mark.parametrize("fn, hand", [(chain, chain_numpy), (branches, branches_numpy)],
                         ids=["chain", "branches"])
def test_jitted_peak_is_within_1_5x_of_hand_written_numpy(big, fn, hand):
    jf = fg.jit(fn)
    np.testing.assert_allclose(jf(big), hand(big), rtol=1e-13)  # compiled, and the same values
    hand_peak = peak_extra(hand, big)
    jit_peak = peak_extra(jf, big)
    assert hand_peak >= 2 * 8 * MB * 0.9  # the measurement sees NumPy's allocations
    assert jit_peak <= 1.5 * hand_peak, f"jit peak {jit_peak / MB:.1f} MB vs hand-written {hand_peak / MB:.1f} MB"
    # without releasing intermediates the chain would hold ~20 arrays at once
    assert jit_peak < 5 * 8 * MB


def test_grad_of_jit_peak_is_within_1_5x_of_hand_written_numpy(big):
    """Forward and backward of the chain: hand-written NumPy keeps the input of every sin for
    the backward pass (10 arrays); the compiled forward/backward programs should keep no more."""

    def loss(x):
        return fnp.sum(chain(x))

    def hand(x):
        saved = []
        y = x
        for k in range(20):
            if k % 2 == 0:
                saved.append(y)
                y = np.sin(y)
            else:
                y = y * 1.0001
        del y
        ct = np.ones_like(x)
        for k in reversed(range(20)):
            if k % 2 == 0:
                ct = ct * np.cos(saved.pop())
            else:
                ct = ct * 1.0001
        return ct

    g = fg.grad(fg.jit(loss))
    np.testing.assert_allclose(g(big), hand(big), rtol=1e-12)
    hand_peak = peak_extra(hand, big)
    jit_peak = peak_extra(g, big)
    assert jit_peak <= 1.5 * hand_peak, f"grad(jit) peak {jit_peak / MB:.1f} MB vs hand {hand_peak / MB:.1f} MB"
    jg = fg.jit(fg.grad(loss))
    jg(big)
    jit_grad_peak = peak_extra(jg, big)
    assert jit_grad_peak <= 1.5 * hand_peak, f"jit(grad) peak {jit_grad_peak / MB:.1f} MB vs {hand_peak / MB:.1f} MB"


def test_jitted_function_keeps_no_reference_to_arguments_or_results():
    jf = fg.jit(lambda x: fnp.sin(x) * 2.0)
    x = np.ones(1000)
    out = jf(x)
    out = jf(x)  # the cached path too
    refs = [weakref.ref(x), weakref.ref(out)]
    del x, out
    gc.collect()
    assert all(r() is None for r in refs)


def test_grad_of_jit_releases_residuals_after_the_call(big):
    g = fg.grad(fg.jit(lambda x: fnp.sum(chain(x))))
    g(big)  # compile everything first
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        result = g(big)
        del result
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < MB, f"{(after - before) / MB:.1f} MB still held after the call"


def test_pullback_of_jit_holds_residuals_only_while_alive(big):
    _, pullback = fg.vjp(fg.jit(chain), big)
    (ct,) = pullback(np.ones(N))
    probe = weakref.ref(ct)
    del pullback, ct
    gc.collect()
    assert probe() is None
