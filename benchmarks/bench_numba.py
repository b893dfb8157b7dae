"""The Numba backend, ``jit(f, backend="numba")``: steady-state ratios to hand-written NumPy, and
first-call times with a cold and a warm on-disk kernel cache.

Rows (each checked once against the hand-written version, value and gradient, to 1e-10 relative,
before timing; float64, one thread; medians of alternating samples, CPU time):

* ``numba-chain-1k``: ``jit(value_and_grad)`` of the 1,000-op chain (``sin``, ``* 1.0001``) on a
  100-vector — target <= 0.4x (JAX's jit reaches 0.42x); the default backend's ratio beside it.
* ``numba-tiny``: ``jit(value_and_grad)`` of the 6-op function of a 10-vector — target <= 0.8x.
* ``first-call``: trace + compile + first run of a new ``jit(value_and_grad(f), backend="numba")``
  in a fresh process: with an empty kernel cache (cold: Numba compiles every kernel), and again
  in another fresh process on the cache the first one left (warm: kernels are loaded from disk).
  Each includes importing Numba and starting its compiler (about a second).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_numba.py [--quick]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from bench_eager import check_same, fmt, tiny_fg, tiny_np  # noqa: E402
from bench_jit import chain_fg, chain_np  # noqa: E402

import funcgrad as fg  # noqa: E402

_FIRST_CALL = """
import sys, time
sys.path.insert(0, {bench!r})
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
import funcgrad as fg
from bench_eager import tiny_fg
from bench_jit import chain_fg
f = fg.jit(fg.value_and_grad({case}), backend="numba")
f(np.random.default_rng(0).standard_normal({size}))
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def time_pair(fg_call, np_call, samples: int, number: int) -> tuple[float, float, float]:
    """Median CPU seconds per call of each, and the median ratio, from alternating samples."""
    fg_call(), np_call()
    cpu = time.process_time
    a, b, r = [], [], []
    for _ in range(samples):
        c0 = cpu()
        for _ in range(number):
            np_call()
        c1 = cpu()
        for _ in range(number):
            fg_call()
        c2 = cpu()
        a.append((c1 - c0) / number)
        b.append((c2 - c1) / number)
        if c1 > c0:
            r.append((c2 - c1) / (c1 - c0))
    return statistics.median(a), statistics.median(b), statistics.median(r)


def first_call(case: str, size: int, cache: str) -> tuple[float, float]:
    """(wall, CPU) seconds of import + trace + compile + run in a fresh process using ``cache``."""
    env = dict(os.environ, FUNCGRAD_NUMBA_CACHE=cache)
    env.pop("NUMBA_CACHE_DIR", None)
    code = _FIRST_CALL.format(bench=os.path.dirname(os.path.abspath(__file__)), case=case, size=size)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    wall, cpu = map(float, out.stdout.split())
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run, not a measurement")
    args = parser.parse_args(argv)
    quick = args.quick
    import numba

    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
          f"{platform.machine()}" + (", --quick: few samples, numbers are noisy" if quick else ""))
    vg = fg.value_and_grad
    both = (lambda r: {"value": r[0], "grad": r[1]})
    rng = np.random.default_rng(1234)
    x_tiny, x_chain = rng.standard_normal(10), rng.standard_normal(100)
    rows = [
        ("numba-chain-1k", "jit(value_and_grad) 1,000-op chain, 100-vector", 0.4, chain_fg, chain_np, x_chain,
         (41, 3), (5, 1)),
        ("numba-tiny", "jit(value_and_grad) 6-op fn of a 10-vector", 0.8, tiny_fg, tiny_np, x_tiny,
         (151, 5), (200, 20)),
    ]
    header = f"{'row':<16} {'what':<48} {'numpy':>10} {'funcgrad':>10} {'ratio':>7} {'target':>8}  met"
    print(header)
    print("-" * len(header))
    met = missed = 0
    for name, what, target, f_fg, f_np, x, samples, number in rows:
        fused = fg.jit(vg(f_fg), backend="numba")
        plain = fg.jit(vg(f_fg))
        check_same(name, both(fused(x)), both(f_np(x)))
        s, n = samples[quick], number[quick]
        t_np, t_fg, ratio = time_pair(lambda: fused(x), lambda: f_np(x), s, n)
        ok = ratio <= target
        met, missed = met + ok, missed + (not ok)
        print(f"{name:<16} {what:<48} {fmt(t_np):>10} {fmt(t_fg):>10} {ratio:>6.2f}x {'<=' + str(target) + 'x':>8}  "
              f"{'met' if ok else 'NOT met'}", flush=True)
        t_np, t_plain, ratio = time_pair(lambda: plain(x), lambda: f_np(x), s, n)
        print(f"{'  numpy backend':<16} {'the same, jit(..., backend=numpy)':<48} {fmt(t_np):>10} "
              f"{fmt(t_plain):>10} {ratio:>6.2f}x", flush=True)
    for case, size in (("chain_fg", 100), ("tiny_fg", 10)):
        colds, warms = [], []
        for _ in range(1 if quick else 3):
            with tempfile.TemporaryDirectory(prefix="funcgrad-bench-numba-") as cache:
                colds.append(first_call(case, size, cache))
                warms.append(first_call(case, size, cache))
        cold = statistics.median(c[0] for c in colds), statistics.median(c[1] for c in colds)
        warm = statistics.median(c[0] for c in warms), statistics.median(c[1] for c in warms)
        print(f"{'first-call':<16} {case + ': cold cache, new process':<48} {'':>10} {cold[0]:>8.2f} s"
              f"   (cpu {cold[1]:.2f} s)")
        print(f"{'first-call':<16} {case + ': warm disk cache, new process':<48} {'':>10} {warm[0]:>8.2f} s"
              f"   (cpu {warm[1]:.2f} s)")
    print()
    print("numpy/funcgrad columns: median CPU time per call; ratio = funcgrad / hand-written NumPy (median over")
    print("alternating samples). first-call: wall seconds in a fresh process, including import of numpy, funcgrad")
    print("and numba.")
    print(f"{met} met, {missed} not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
