"""Speed of funcgrad.random's draws against NumPy's Generator, in one process (issue 15 §3).

Cases (10**6 draws each, one key), each threefry case twice: [numba] is the default path when
Numba is installed (compiled kernels, funcgrad.random._numba_normal), [numpy] the pure-NumPy path
(the fallback without Numba, forced here with funcgrad.random._accel.numpy_only(); the only path
under FUNCGRAD_RANDOM_NUMBA=0). Both give the same bits (JAX's).
  normal-f64       funcgrad.random.normal(key, (10**6,))              vs  Generator.standard_normal(10**6)
  normal-f32       the same in float32                                 vs  Generator.standard_normal(.., float32)
  uniform-f64      funcgrad.random.uniform(key, (10**6,))             vs  Generator.random(10**6)
  bits-u32         funcgrad.random.bits(key, (10**6,), uint32)        vs  Generator.integers(2**32, 10**6, uint32)
  normal-jit       jit(lambda k: normal(k, (10**6,))) (staged draw)    vs  Generator.standard_normal(10**6)
  split-1e5        funcgrad.random.split(key, 10**5)                   vs  Generator.integers(2**32, (10**5, 2))
  fold_in-vmap     vmap(fold_in, (None, 0))(key, arange(10**5))        vs  the same integers
  normal-philox    normal with a key(0, impl="philox") key             vs  Generator.standard_normal(10**6)
Target: normal-f64 and normal-f32 (threefry2x32, JAX's numbers) within 3x of NumPy's Generator.

--stages prints where the time of the pure-NumPy normal draw goes (funcgrad.random._blocks, one
key, 10**6 draws, median ms): threefry's words, bits -> u in (-1, 1), XLA's log1p(-u**2) (its
rational branch, float32 log or C log on the rest, the gathers), erfinv's polynomial (times u,
times sqrt 2), against NumPy's whole normal draw.

Samples of funcgrad and NumPy alternate, so drift in the machine's speed affects both alike; the
table reports the median time of each and their ratio, in wall-clock time and in CPU time of this
process (``time.process_time``). On a machine shared with other busy processes the wall-clock
ratio also counts the time this process waited for a core; the CPU-time ratio does not, and is
the one to read there. The target applies to the wall-clock ratio on an otherwise idle machine.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_random.py
    python benchmarks/bench_random.py --quick     # smoke run: few samples, noisy numbers
    python benchmarks/bench_random.py --stages    # the pure-NumPy normal draw, stage by stage
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
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


def _numba_state(with_numba: bool) -> str:
    if with_numba:
        return "Numba used"
    if importlib.util.find_spec("numba") is None:
        return "Numba not installed"
    return f"Numba disabled (FUNCGRAD_RANDOM_NUMBA={os.environ.get('FUNCGRAD_RANDOM_NUMBA')})"


def stages(samples: int) -> None:
    """The pure-NumPy normal draw (``_blocks``), stage by stage, per 10**6 draws (median ms)."""
    from funcgrad.random import _blocks, _complex_fma, _threefry

    key = np.asarray(fr.key(0))
    gen = np.random.default_rng(0)
    print(f"funcgrad.random's pure-NumPy normal draw by stage, {N:,} draws, median of {samples} CPU ms "
          f"(block {_threefry.BLOCK}; FMA by complex multiplication: "
          f"{_complex_fma.available(np.float64) and _complex_fma.available(np.float32)})")
    for dtype in (np.float32, np.float64):
        width = np.dtype(dtype).itemsize * 8
        raw_all = _threefry.stream_bits(key, width, N)
        block = _threefry.BLOCK
        stage = _blocks._Stage(np.dtype(dtype), block)
        out = np.empty(N, dtype)
        parts: dict = {"threefry words": [], "bits -> u": [], "log1p(-u^2)": [], "erfinv * u * sqrt2": [],
                       "sum of stages": [], "normal() total": [], "numpy normal": []}
        for _ in range(samples):
            parts["threefry words"].append(_time(lambda: _threefry.stream_bits(key, width, N))[1])
            times = [0.0, 0.0, 0.0]
            for start in range(0, N, block):
                m = min(block, N - start)
                raw = stage.raw[:m]
                raw[...] = raw_all[start:start + m]
                cpu = time.process_time()
                u, s = stage.uniform(raw)
                t1 = time.process_time()
                w = stage.w[:m]
                tail = stage.minus_log1p_of_minus(s, w)
                t2 = time.process_time()
                stage.erfinv_times_u(w, u, out[start:start + m], start, tail)
                t3 = time.process_time()
                times[0] += t1 - cpu
                times[1] += t2 - t1
                times[2] += t3 - t2
            cpu = time.process_time()
            stage.finish(out)
            times[2] += time.process_time() - cpu
            for name, t in zip(("bits -> u", "log1p(-u^2)", "erfinv * u * sqrt2"), times):
                parts[name].append(t)
            parts["sum of stages"].append(parts["threefry words"][-1] + sum(times))
            with _accel.numpy_only():
                parts["normal() total"].append(_time(lambda: fr.normal(key, (N,), dtype))[1])
            parts["numpy normal"].append(_time(lambda: gen.standard_normal(N, dtype))[1])
        reference = statistics.median(parts["numpy normal"])
        print(f"  {np.dtype(dtype).name}:")
        for name, values in parts.items():
            ms = statistics.median(values)
            print(f"    {name:<22}{ms * 1e3:>8.1f} ms {ms / reference:>7.2f}x numpy's normal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few samples (a smoke run)")
    parser.add_argument("--stages", action="store_true", help="the pure-NumPy normal draw, stage by stage")
    args = parser.parse_args()
    samples = 3 if args.quick else 25
    if args.stages:
        stages(samples)
        return
    key = fr.key(0)
    philox = fr.key(0, impl="philox")
    gen = np.random.default_rng(0)
    jitted = fg.jit(lambda k: fr.normal(k, (N,)))
    fold_many = fg.vmap(fr.fold_in, (None, 0))
    data = np.arange(N // 10, dtype=np.uint32)
    with_numba = _accel.kernels(N) is not None
    fast = "[numba]" if with_numba else "[numpy]"  # without Numba the default path is NumPy's
    threefry = {
        "normal-f64": (lambda: fr.normal(key, (N,)), lambda: gen.standard_normal(N)),
        "normal-f32": (lambda: fr.normal(key, (N,), np.float32), lambda: gen.standard_normal(N, np.float32)),
        "uniform-f64": (lambda: fr.uniform(key, (N,)), lambda: gen.random(N)),
        "bits-u32": (lambda: fr.bits(key, (N,), np.uint32), lambda: gen.integers(2**32, size=N, dtype=np.uint32)),
        "normal-jit": (lambda: jitted(key), lambda: gen.standard_normal(N)),
    }
    cases = []
    for name, (ours, ref) in threefry.items():
        cases.append((f"{name} {fast}", ours, ref, False))
        if with_numba:
            cases.append((f"{name} [numpy]", ours, ref, True))
    keys_ref = lambda: gen.integers(2**32, size=(N // 10, 2), dtype=np.uint32)  # noqa: E731
    cases.append(("split-1e5", lambda: fr.split(key, N // 10), keys_ref, False))
    cases.append(("fold_in-vmap", lambda: fold_many(key, data), keys_ref, False))
    cases.append(("normal-philox", lambda: fr.normal(philox, (N,)), lambda: gen.standard_normal(N), False))
    print(f"funcgrad.random vs numpy.random.Generator, {N:,} draws, median of {samples} "
          f"(numpy {np.__version__}, {platform.machine()}; {_numba_state(with_numba)})")
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
