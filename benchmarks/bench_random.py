"""Speed of funcgrad.random's draws against NumPy's Generator, in one process (issue 15 §3).

Cases (10**6 draws each, one key), each threefry case twice: [numba] is the default path when
Numba is installed (compiled kernels, funcgrad.random._numba_normal), [numpy] the pure-NumPy path
(the fallback without Numba, forced here with funcgrad.random._accel.numpy_only(); the only path
under FUNCGRAD_RANDOM_NUMBA=0), computing every number. float32 normal draws on the pure-NumPy
path also have [numpy+table]: the same draw once funcgrad.random._normal_table's table of all
2**23 float32 draws exists (built here before timing; a process builds it by itself after 2**25
such draws), and the line after the table shows what building it costs. All give the same bits (JAX's).
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
times sqrt 2), against NumPy's whole normal draw; for float32 also the table path's stages (the
words' xor and shift, the gather from the 32 MiB table) and, with Numba installed, a Numba kernel
that gathers from the table against the Numba kernel that computes every number (why the table is
not used with Numba).

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
from typing import Any, Callable, Iterator

import numpy as np

import funcgrad as fg
import funcgrad.random as fr
from funcgrad.random import _accel, _normal_table

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
            with _path("direct"):
                parts["normal() total"].append(_time(lambda: fr.normal(key, (N,), dtype))[1])
            parts["numpy normal"].append(_time(lambda: gen.standard_normal(N, dtype))[1])
            if dtype == np.float32:
                _table_stages(key, parts)
        reference = statistics.median(parts["numpy normal"])
        print(f"  {np.dtype(dtype).name}:")
        for name, values in parts.items():
            ms = statistics.median(values)
            print(f"    {name:<22}{ms * 1e3:>8.1f} ms {ms / reference:>7.2f}x numpy's normal")


def _table_stages(key: np.ndarray, parts: dict) -> None:
    """One sample of the float32 table path's stages (CPU seconds, appended to ``parts``)."""
    from funcgrad.random import _blocks, _threefry

    with _path("table"):
        table = _normal_table.build()
        parts.setdefault("table: words (above)", []).append(parts["threefry words"][-1])
        y0, y1 = _threefry.threefry2x32(key[0], key[1], np.uint32(0), np.arange(N, dtype=np.uint32))
        block = _threefry.BLOCK
        index, out = np.empty(block, np.uint32), np.empty(N, np.float32)
        shift = xor = gather = 0.0
        for start in range(0, N, block):
            m = min(block, N - start)
            cpu = time.process_time()
            np.bitwise_xor(y0[start:start + m], y1[start:start + m], index[:m])
            t1 = time.process_time()
            np.right_shift(index[:m], _blocks._TABLE_SHIFT, index[:m])
            t2 = time.process_time()
            np.take(table, index[:m], out=out[start:start + m], mode="clip")
            t3 = time.process_time()
            xor, shift, gather = xor + t1 - cpu, shift + t2 - t1, gather + t3 - t2
        parts.setdefault("table: xor, shift", []).append(xor + shift)
        parts.setdefault("table: gather", []).append(gather)
        parts.setdefault("table: normal() total", []).append(_time(lambda: fr.normal(key, (N,), np.float32))[1])
    kernel = _numba_table_kernel()
    if kernel is not None:
        from funcgrad.random import _numba_normal

        keys, direct = key.reshape(1, 2), np.empty((1, N), np.float32)
        parts.setdefault("numba: normal32 kernel", []).append(
            _time(lambda: _numba_normal.normal32(keys, np.uint64(0), direct))[1])
        parts.setdefault("numba: table kernel", []).append(
            _time(lambda: kernel(keys, np.uint64(0), table, direct))[1])


_numba_kernel: Any = None


def _numba_table_kernel() -> Any:
    """A Numba kernel drawing float32 normals from the table (threefry's words in blocks of 512, then
    the gathers), to compare with ``_numba_normal.normal32``; None without Numba."""
    global _numba_kernel
    if _numba_kernel is None and _accel.kernels(N) is not None:
        from numba import njit

        from funcgrad.random._numba_normal import _threefry, _u32

        @njit(nogil=True)
        def table32(keys: Any, start: Any, table: Any, out: Any) -> None:
            index = np.empty(512, np.uint32)
            for j in range(out.shape[0]):
                k0, k1 = _u32(keys[j, 0]), _u32(keys[j, 1])
                for b in range(0, out.shape[1], 512):
                    m = min(512, out.shape[1] - b)
                    for i in range(m):
                        y0, y1 = _threefry(k0, k1, start + np.uint64(b + i))
                        index[i] = _u32(y0 ^ y1) >> _u32(9)
                    for i in range(m):
                        out[j, b + i] = table[index[i]]

        table = _normal_table.build()
        keys, out, want = np.zeros((1, 2), np.uint32), np.empty((1, 1000), np.float32), np.empty((1, 1000), np.float32)
        table32(keys, np.uint64(0), table, out)  # compile, and check the bits
        import funcgrad.random._numba_normal as kernels

        kernels.normal32(keys, np.uint64(0), want)
        assert np.array_equal(out.view(np.uint32), want.view(np.uint32))
        _numba_kernel = table32
    return _numba_kernel


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
        cases.append((f"{name} {fast}", ours, ref, "default" if with_numba else "direct"))
        if with_numba:
            cases.append((f"{name} [numpy]", ours, ref, "direct"))
        if name == "normal-f32":
            cases.append((f"{name} [numpy+table]", ours, ref, "table"))
    keys_ref = lambda: gen.integers(2**32, size=(N // 10, 2), dtype=np.uint32)  # noqa: E731
    cases.append(("split-1e5", lambda: fr.split(key, N // 10), keys_ref, "default"))
    cases.append(("fold_in-vmap", lambda: fold_many(key, data), keys_ref, "default"))
    cases.append(("normal-philox", lambda: fr.normal(philox, (N,)), lambda: gen.standard_normal(N), "default"))
    print(f"funcgrad.random vs numpy.random.Generator, {N:,} draws, median of {samples} "
          f"(numpy {np.__version__}, {platform.machine()}; {_numba_state(with_numba)})")
    print(f"{'':<26}{'---------- wall clock ----------':>34}{'----------- CPU time -----------':>35}")
    print(f"{'case':<26}{'funcgrad ms':>13}{'numpy ms':>11}{'ratio':>10}{'funcgrad ms':>14}{'numpy ms':>11}"
          f"{'ratio':>10}   target")
    for name, ours, ref, mode in cases:
        with _path(mode):
            a, b, ca, cb = compare(ours, ref, samples)
        target = f"<= {TARGET:g}x" if name.startswith(("normal-f64", "normal-f32")) else ""
        status = ("ok" if a / b <= TARGET else "missed") if target else ""
        print(f"{name:<26}{a * 1e3:>13.1f}{b * 1e3:>11.1f}{a / b:>9.2f}x{ca * 1e3:>14.1f}{cb * 1e3:>11.1f}"
              f"{ca / cb:>9.2f}x   {target} {status}")
        if mode == "table":
            build_table_line(gen, max(3, samples // 5))


@contextlib.contextmanager
def _path(mode: str) -> Iterator[None]:
    """``default``: funcgrad's default path; ``direct``: pure NumPy computing every number;
    ``table``: pure NumPy with the float32 normal table built."""
    if mode == "default":
        yield
        return
    with _accel.numpy_only():
        if mode == "table":
            _normal_table.build()
            yield
        else:
            with _normal_table.direct_only():
                yield


def build_table_line(gen: np.random.Generator, samples: int) -> None:
    """What building the float32 normal table costs: median ms (CPU), and in NumPy's 10**6-draw normal samplers."""
    builds, numpy = [], []
    for _ in range(samples):
        _normal_table.release()
        builds.append(_time(_normal_table.build)[1])
        numpy.append(_time(lambda: gen.standard_normal(N, np.float32))[1])
    build, reference = statistics.median(builds), statistics.median(numpy)
    print(f"  (table build, once per process: {build * 1e3:.0f} ms CPU = {build / reference:.0f}x numpy's float32 "
          f"normal of {N:,}; {_normal_table.SIZE * 4 >> 20} MiB; built after {_normal_table.BUILD_AFTER:,} draws)")

if __name__ == "__main__":
    main()
