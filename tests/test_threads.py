"""Threads sharing jitted functions: every cache (a jitted function's entries, the programs derived
from an entry, the global shape cache) stays consistent, results stay correct, and when threads
trace the same key at once one entry is kept.

Stress tests use a very short ``sys.setswitchinterval`` so that threads interleave inside cache
operations; they check results and cache invariants only, never timings.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.jit import RetraceWarning


@pytest.fixture
def fast_switching() -> Any:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _run_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            work(i)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a thread did not finish (deadlock?)"
    return errors


def _f(x: Any) -> Any:
    return fnp.sum(fnp.sin(x) * x ** 2)


def _df(x: np.ndarray) -> np.ndarray:
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


def test_eight_threads_evicting_each_other(fast_switching: Any) -> None:
    # The reproduction: 8 threads, one jit(grad(f)), cache_size=4, 12 shapes.
    g = fg.jit(fg.grad(_f), cache_size=4)
    calls = 8 * 48

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for k in range(48):
            x = rng.standard_normal(1 + (seed + k) % 12)
            np.testing.assert_allclose(g(x), _df(x), rtol=1e-12, atol=1e-12)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RetraceWarning)  # 12 shapes through 4 slots: retraces are the point
        errors = _run_threads(8, work)
    assert not errors, errors[:3]
    info = g.cache_info()
    assert info.size <= 4 and len(g.cache) == info.size
    assert info.hits + info.misses == calls


_COLLIDING_KEYS = textwrap.dedent("""
    import sys, threading, time, warnings
    import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    warnings.simplefilter("ignore")
    sys.setswitchinterval(1e-6)

    class Key:  # every key hashes alike, and comparing two releases the GIL
        def __init__(self, v): self.v = v
        def __hash__(self): return 0
        def __eq__(self, other):
            time.sleep(0)
            return isinstance(other, Key) and other.v == self.v

    g = fg.jit(fg.grad(lambda x, k: fnp.sum(fnp.sin(x) * x ** 2) * k.v), static_argnums=1, cache_size=4)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(60):
                n = int(rng.integers(1, 13))
                x = rng.standard_normal(3)
                want = (np.cos(x) * x ** 2 + 2 * x * np.sin(x)) * n
                assert np.allclose(g(x, Key(n)), want)
        except BaseException as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not errors, errors[:3]
    info = g.cache_info()
    assert info.size == len(g.cache) <= 4 and info.hits + info.misses == 8 * 60, info
    print("ok")
""")


def test_cache_survives_keys_whose_comparison_switches_threads() -> None:
    # Run in a child process: an unguarded OrderedDict mutated from two threads while one of
    # them compares keys can crash the interpreter, which must fail this test, not the run.
    done = subprocess.run([sys.executable, "-c", _COLLIDING_KEYS], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr[-2000:])


def test_threads_tracing_the_same_key_keep_one_entry() -> None:
    n = 4
    inside = threading.Barrier(n, timeout=60)
    traces = []

    def f(x: Any) -> Any:
        traces.append(threading.get_ident())
        inside.wait()  # every thread is tracing the same key at the same time
        return fnp.sin(x) * 2.0

    g = fg.jit(f)
    x = np.linspace(-1, 1, 5)
    results: list = [None] * n

    def work(i: int) -> None:
        results[i] = g(x)

    errors = _run_threads(n, work)
    assert not errors, errors[:3]
    assert len(traces) == n  # they really traced concurrently
    for r in results:
        np.testing.assert_array_equal(r, np.sin(x) * 2.0)
    assert len(g.cache) == 1 and g.cache_info().size == 1
    before = g.cache_info()
    np.testing.assert_array_equal(g(x), np.sin(x) * 2.0)
    after = g.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses) and len(traces) == n


def test_derived_programs_from_many_threads(fast_switching: Any) -> None:
    # grad/jvp/vmap of one jitted function: each derives programs cached on the shared entry.
    h = fg.jit(lambda x, y: fnp.sin(x) * y + x ** 2)
    x, y = np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4)
    want_dx = np.cos(x) * y + 2 * x
    want_dy = np.sin(x)

    def work(i: int) -> None:
        for k in range(30):
            which = (i + k) % 4
            if which == 0:
                np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(h(a, y)))(x), want_dx, rtol=1e-12)
            elif which == 1:
                np.testing.assert_allclose(fg.grad(lambda b: fnp.sum(h(x, b)))(y), want_dy, rtol=1e-12)
            elif which == 2:
                _, t = fg.jvp(lambda a: h(a, y), (x,), (np.ones(4),))
                np.testing.assert_allclose(t, want_dx, rtol=1e-12)
            else:
                out = fg.vmap(h, in_axes=(0, None))(np.stack([x, x + 1]), y)
                np.testing.assert_allclose(out, np.stack([np.sin(x) * y + x ** 2, np.sin(x + 1) * y + (x + 1) ** 2]),
                                           rtol=1e-12)

    errors = _run_threads(8, work)
    assert not errors, errors[:3]
    assert len(h.cache) == 1


def test_many_functions_traced_at_once(fast_switching: Any) -> None:
    # Distinct functions share the global shape (abstract-evaluation) cache.
    def work(i: int) -> None:
        for k in range(20):
            n = 1 + (i * 7 + k) % 9
            f = fg.jit(lambda x, c=float(i + 1): fnp.tanh(x) * c + fnp.reshape(x, (n, 1)).sum(axis=1))
            x = np.linspace(0, 1, n)
            np.testing.assert_allclose(f(x), np.tanh(x) * (i + 1) + x, rtol=1e-12)

    errors = _run_threads(8, work)
    assert not errors, errors[:3]


def test_jitted_method_shared_by_threads(fast_switching: Any) -> None:
    class Model:
        def __init__(self, scale: float) -> None:
            self.scale = scale

        @fg.jit
        def apply(self, x: Any) -> Any:
            return fnp.exp(x) * self.scale

    models = [Model(float(s)) for s in range(1, 5)]
    x = np.linspace(-1, 1, 3)

    def work(i: int) -> None:
        for k in range(25):
            m = models[(i + k) % 4]
            np.testing.assert_allclose(m.apply(x), np.exp(x) * m.scale, rtol=1e-12)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RetraceWarning)  # threads racing on one key each count a trace
        errors = _run_threads(8, work)
    assert not errors, errors[:3]
    assert Model.apply._method_jit is not None and len(Model.apply._method_jit.cache) == 4


def test_control_flow_and_custom_rules_from_many_threads(fast_switching: Any) -> None:
    # Sub-programs (scan bodies, custom rules) cache their compiled code on the program.
    @fg.custom_vjp
    def softclip(x: Any) -> Any:
        return fnp.tanh(x)

    softclip.defvjp(lambda x: (fnp.tanh(x), x), lambda x, ct: (ct * (1 - fnp.tanh(x) ** 2),))

    def loss(x: Any) -> Any:
        final, _ = fg.lax.scan(lambda c, xi: (c * 0.5 + softclip(xi), c), 0.0, x)
        return final

    g = fg.jit(fg.grad(loss), cache_size=2)

    def want(x: np.ndarray) -> np.ndarray:
        n = len(x)
        return 0.5 ** (n - 1 - np.arange(n)) * (1 - np.tanh(x) ** 2)

    def work(i: int) -> None:
        for k in range(20):
            x = np.linspace(-1, 1, 2 + (i + k) % 3)
            np.testing.assert_allclose(g(x), want(x), rtol=1e-12)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RetraceWarning)
        errors = _run_threads(6, work)
    assert not errors, errors[:3]
    assert len(g.cache) <= 2
