"""Speed of funcgrad.random's draws against NumPy's Generator, in one process (issue 15 §3).

Cases (10**6 draws each, one key), each threefry case twice: [numba] is the default path when
Numba is installed (compiled kernels, funcgrad.random._numba_normal), [numpy] the pure-NumPy path
(the fallback without Numba, forced here with funcgrad.random._accel.numpy_only()). Both give the
same bits (JAX's).
  normal-f64       funcgrad.random.normal(key, (10**6,))              vs  Generator.standard_normal(10**6)
  normal-f32       the same in float32                                 vs  Generator.standard_normal(.., float32)
  uniform-f64      funcgrad.random.uniform(key, (10**6,))             vs  Generator.random(10**6)
  normal-philox    normal with a key(0, impl="philox") key             vs  Generator.standard_normal(10**6)
  normal-jit       jit(lambda k: normal(k, (10**6,))) (staged draw)    vs  Generator.standard_normal(10**6)
Target: normal-f64 and normal-f32 (threefry2x32, JAX's numbers) within 3x of NumPy's Generator.

Samples of funcgrad and NumPy alternate, so drift in the machine's speed affects both alike; the
table reports the median time of each and their ratio, in wall-clock time and in CPU time of this
process (``time.process_time``). On a machine shared with other busy processes the wall-clock
ratio also counts the time this process waited for a core; the CPU-time ratio does not, and is
the one to read there. The target applies to the wall-clock ratio on an otherwise idle machine.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_random.py
    python benchmarks/bench_random.py --quick     # smoke run: few samples, noisy numbers
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import time
from typing import Any, Callable

import numpy as np

import funcgrad as fg
import funcgrad.random as fr
from funcgrad.random import _accel

N = 10**6
TARGET = 3.0


def _time(f: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(ours: Callable[[], Any], numpy: Callable[[], Any], samples: int) -> tuple[float, float, float, float]:
    """Median wall-clock and CPU seconds of ``ours`` and of ``numpy``, sampled alternately."""
    ours()
    numpy()
    a, b = [], []
    for _ in range(samples):
        a.append(_time(ours))
        b.append(_time(numpy))
    return (statistics.median(t[0] for t in a), statistics.median(t[0] for t in b),
            statistics.median(t[1] for t in a), statistics.median(t[1] for t in b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few samples (a smoke run)")
    args = parser.parse_args()
    samples = 3 if args.quick else 25
    key = fr.key(0)
    philox = fr.key(0, impl="philox")
    gen = np.random.default_rng(0)
    jitted = fg.jit(lambda k: fr.normal(k, (N,)))
    with_numba = _accel.kernels(N) is not None
    fast = "[numba]" if with_numba else "[numpy]"  # without Numba the default path is NumPy's
    threefry = {
        "normal-f64": (lambda: fr.normal(key, (N,)), lambda: gen.standard_normal(N)),
        "normal-f32": (lambda: fr.normal(key, (N,), np.float32), lambda: gen.standard_normal(N, np.float32)),
        "uniform-f64": (lambda: fr.uniform(key, (N,)), lambda: gen.random(N)),
        "normal-jit": (lambda: jitted(key), lambda: gen.standard_normal(N)),
    }
    cases = []
    for name, (ours, ref) in threefry.items():
        cases.append((f"{name} {fast}", ours, ref, False))
        if with_numba:
            cases.append((f"{name} [numpy]", ours, ref, True))
    cases.append(("normal-philox", lambda: fr.normal(philox, (N,)), lambda: gen.standard_normal(N), False))
    print(f"funcgrad.random vs numpy.random.Generator, {N:,} draws, median of {samples} "
          f"(numpy {np.__version__}, {platform.machine()}; Numba {'used' if with_numba else 'not installed'})")
    print(f"{'':<22}{'---------- wall clock ----------':>34}{'----------- CPU time -----------':>35}")
    print(f"{'case':<22}{'funcgrad ms':>13}{'numpy ms':>11}{'ratio':>10}{'funcgrad ms':>14}{'numpy ms':>11}"
          f"{'ratio':>10}   target")
    for name, ours, ref, numpy_only in cases:
        with _accel.numpy_only() if numpy_only else contextlib.nullcontext():
            a, b, ca, cb = compare(ours, ref, samples)
        target = f"<= {TARGET:g}x" if name.startswith(("normal-f64", "normal-f32")) else ""
        status = ("ok" if a / b <= TARGET else "missed") if target else ""
        print(f"{name:<22}{a * 1e3:>13.1f}{b * 1e3:>11.1f}{a / b:>9.2f}x{ca * 1e3:>14.1f}{cb * 1e3:>11.1f}"
              f"{ca / cb:>9.2f}x   {target} {status}")

if __name__ == "__main__":
    main()
