"""Every row of issue 12's speed-and-memory table, measured in one run, with its target.

Speed rows are ratios of funcgrad to hand-written NumPy doing the same forward and backward work
(the cases of bench_eager.py and bench_jit.py, plus an eager Hessian-vector product and a long
``tanh`` chain), float64, one BLAS thread. Samples of the two alternate; each row reports the
median ratio of wall-clock time and of CPU time (``time.process_time``: steadier than wall time
on a machine shared with other work). A row is "met" when the CPU-time ratio is within target.
With Numba installed, ``numba-tiny`` and ``numba-chain-1k`` time the same jitted functions under
``jit(..., backend="numba")`` (first-call times of that backend: ``bench_numba.py``).

Memory rows are tracemalloc peaks (bytes NumPy and Python allocate during the call) of the eager
10,000-op chain on a 100-vector, and of a 10-op chain on a 1e7-element vector, against the
hand-written NumPy forward+backward pass. The import row is the CPU time of
``import funcgrad, funcgrad.numpy`` after ``import numpy`` in a fresh interpreter, as a multiple of
NumPy's own import time (medians over fresh processes; ``bench_import.py``): with funcgrad's bytecode
cached (the row held to the target), and compiled from source (``import-nopyc``, informational).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_table.py [--quick] [--only ROW ...]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread, as the table says
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
from bench_eager import (  # noqa: E402
    chain_fg,
    chain_np,
    check_same,
    doubling_fg,
    doubling_np,
    mlp_fg,
    mlp_np,
    mlp_params,
    tiny_fg,
    tiny_np,
)
from bench_import import import_ratio  # noqa: E402
from bench_jit import chain_fg as chain1k_fg  # noqa: E402
from bench_jit import chain_np as chain1k_np  # noqa: E402
from bench_jit import hvp_np  # noqa: E402

import funcgrad as fg  # noqa: E402

TANH_OPS, TANH_SIZE = 1_000, 100


def tanh_chain_fg(x):
    for _ in range(TANH_OPS):
        x = fg.numpy.tanh(x)
    return fg.numpy.sum(x)


def tanh_chain_np(x):
    """Forward keeping every output, then the reverse pass: g <- g * (1 - y**2)."""
    outs = []
    for _ in range(TANH_OPS):
        x = np.tanh(x)
        outs.append(x)
    value = np.sum(x)
    g = np.ones_like(x)
    for y in reversed(outs):
        g = g * (1.0 - y * y)
    return value, g


def time_pair(fg_call: Callable[[], Any], np_call: Callable[[], Any], samples: int, number: int,
              ) -> dict[str, float]:
    """Medians per call (wall and CPU seconds) of each, and median ratios, from alternating samples."""
    fg_call(), np_call()  # warm-up
    wall, cpu = time.perf_counter, time.process_time
    rows: dict[str, list[float]] = {k: [] for k in ("fg_wall", "np_wall", "fg_cpu", "np_cpu", "r_wall", "r_cpu")}
    for _ in range(samples):
        w0, c0 = wall(), cpu()
        for _ in range(number):
            np_call()
        w1, c1 = wall(), cpu()
        for _ in range(number):
            fg_call()
        w2, c2 = wall(), cpu()
        rows["np_wall"].append((w1 - w0) / number)
        rows["fg_wall"].append((w2 - w1) / number)
        rows["np_cpu"].append((c1 - c0) / number)
        rows["fg_cpu"].append((c2 - c1) / number)
        rows["r_wall"].append((w2 - w1) / (w1 - w0))
        if c1 > c0:
            rows["r_cpu"].append((c2 - c1) / (c1 - c0))
    return {k: statistics.median(v) if v else float("nan") for k, v in rows.items()}


def peak_bytes(call: Callable[[], Any]) -> int:
    """tracemalloc peak above the starting level during ``call()`` (its result dropped inside)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


def speed_rows(rng: np.random.Generator) -> list[dict]:
    """(name, what, target, fg call, np call, unpack, samples full/quick, calls per sample)."""
    rows = []
    vg = fg.value_and_grad
    both = (lambda r: {"value": r[0], "grad": r[1]})
    x_tiny = rng.standard_normal(10)
    tiny_vg = vg(tiny_fg)
    rows.append(dict(name="tiny", what="eager grad, 6-op fn of a 10-vector", target=4.0,
                     fg=lambda: tiny_vg(x_tiny), np=lambda: tiny_np(x_tiny), unpack=both,
                     samples=(151, 5), number=(100, 20)))

    x_loop = np.random.default_rng(0).standard_normal(3)
    v_loop = np.array([0.1, 1.0, 0.0001])

    def loop_fg():
        y, pullback = fg.vjp(doubling_fg, x_loop)
        return y, pullback(v_loop)[0]

    rows.append(dict(name="seed-vjp", what="eager vjp of the doubling while loop", target=2.5,
                     fg=loop_fg, np=lambda: doubling_np(x_loop, v_loop), unpack=lambda r: {"y": r[0], "vjp": r[1]},
                     samples=(151, 5), number=(50, 10)))

    x_chain = rng.standard_normal(100)
    chain_vg = vg(chain_fg)
    rows.append(dict(name="chain-10k", what="eager 10k-op chain (sin, *1.0001)", target=2.0,
                     fg=lambda: chain_vg(x_chain), np=lambda: chain_np(x_chain), unpack=both,
                     samples=(41, 3), number=(1, 1)))

    params = mlp_params((64, 128, 128, 10), rng)
    x = rng.standard_normal((32, 64))
    onehot = np.eye(10)[rng.integers(0, 10, 32)]
    mlp_vg = vg(mlp_fg)
    mlp_unpack = (lambda r: {"value": r[0], **{f"d{k}": v for k, v in r[1].items()}})
    rows.append(dict(name="MLP-small", what="eager MLP 32x64-128-128-10", target=2.0,
                     fg=lambda: mlp_vg(params, x, onehot), np=lambda: mlp_np(params, x, onehot),
                     unpack=mlp_unpack, samples=(151, 5), number=(10, 2)))

    v = rng.standard_normal(params["w1"].shape)

    def loss_w1(w1, params, x, onehot):
        return mlp_fg({**params, "w1": w1}, x, onehot)

    def hvp_fg(w1, params, x, onehot, v):
        return fg.jvp(lambda w: fg.grad(loss_w1)(w, params, x, onehot), (w1,), (v,))

    hvp_unpack = (lambda r: {"grad": r[0], "hvp": r[1]})
    rows.append(dict(name="HVP", what="eager jvp(grad) wrt w1 of MLP-small", target=2.0,
                     fg=lambda: hvp_fg(params["w1"], params, x, onehot, v), np=lambda: hvp_np(params, x, onehot, v),
                     unpack=hvp_unpack, samples=(101, 5), number=(5, 1)))

    x_tanh = rng.standard_normal(TANH_SIZE) * 0.5
    tanh_vg = vg(tanh_chain_fg)
    rows.append(dict(name="tanh-tape", what=f"eager {TANH_OPS} tanh on {TANH_SIZE:,} vs hand reverse",
                     target=1.3, fg=lambda: tanh_vg(x_tanh), np=lambda: tanh_chain_np(x_tanh), unpack=both,
                     samples=(31, 3), number=(1, 1)))

    jtiny = fg.jit(vg(tiny_fg))
    rows.append(dict(name="jit-tiny", what="jit(value_and_grad) 6-op fn", target=0.8,
                     fg=lambda: jtiny(x_tiny), np=lambda: tiny_np(x_tiny), unpack=both,
                     samples=(151, 5), number=(200, 20)))
    jmlp = fg.jit(vg(mlp_fg))
    rows.append(dict(name="jit-MLP-small", what="jit(value_and_grad) MLP-small", target=1.1,
                     fg=lambda: jmlp(params, x, onehot), np=lambda: mlp_np(params, x, onehot),
                     unpack=mlp_unpack, samples=(151, 5), number=(20, 2)))
    jhvp = fg.jit(hvp_fg)
    rows.append(dict(name="jit-HVP", what="jit(jvp(grad)) wrt w1 of MLP-small", target=1.1,
                     fg=lambda: jhvp(params["w1"], params, x, onehot, v), np=lambda: hvp_np(params, x, onehot, v),
                     unpack=hvp_unpack, samples=(151, 5), number=(10, 2)))
    jchain = fg.jit(vg(chain1k_fg))
    # The issue's <= 0.4x target for this chain is the fused backend's (numba-chain-1k); here informational.
    rows.append(dict(name="jit-chain-1k", what="jit(value_and_grad) 1,000-op chain", target=None,
                     fg=lambda: jchain(x_chain), np=lambda: chain1k_np(x_chain), unpack=both,
                     samples=(61, 3), number=(5, 1)))
    if importlib.util.find_spec("numba") is not None:  # the optional fused backend (more in bench_numba.py)
        ntiny = fg.jit(vg(tiny_fg), backend="numba")
        rows.append(dict(name="numba-tiny", what="jit(value_and_grad, backend=numba) 6-op fn", target=0.8,
                         fg=lambda: ntiny(x_tiny), np=lambda: tiny_np(x_tiny), unpack=both,
                         samples=(151, 5), number=(200, 20)))
        nchain = fg.jit(vg(chain1k_fg), backend="numba")
        rows.append(dict(name="numba-chain-1k", what="jit(value_and_grad, backend=numba) 1,000-op chain",
                         target=0.4, fg=lambda: nchain(x_chain), np=lambda: chain1k_np(x_chain), unpack=both,
                         samples=(61, 3), number=(5, 1)))
    return rows


def memory_rows() -> list[tuple[str, str, int, int, float | None]]:
    """(name, what, funcgrad bytes, numpy bytes, target in bytes or None)."""
    x = np.random.default_rng(5).standard_normal(100)
    chain_vg = fg.value_and_grad(chain_fg)
    out = [("mem-chain-10k", "tracemalloc peak, eager 10k chain, 100-vector",
            peak_bytes(lambda: chain_vg(x)), peak_bytes(lambda: chain_np(x)), 5.5e6)]
    big = np.random.default_rng(6).standard_normal(10_000_000)

    def big_fg(x):
        for _ in range(5):
            x = fg.numpy.sin(x) * 1.0001
        return fg.numpy.sum(x)

    def big_np(x):
        ins = []
        for _ in range(5):
            ins.append(x)
            x = np.sin(x) * 1.0001
        value = np.sum(x)
        g = np.ones_like(x)
        for s in reversed(ins):
            g = (g * 1.0001) * np.cos(s)
        return value, g

    big_vg = fg.value_and_grad(big_fg)
    out.append(("mem-1e7", "tracemalloc peak, 10-op chain on 1e7 elements",
                peak_bytes(lambda: big_vg(big)), peak_bytes(lambda: big_np(big)), None))
    return out


def first_call_seconds(repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of trace + compile + run of a new jit(grad(1,000-op chain))."""
    x = np.random.default_rng(0).standard_normal(100)
    walls, cpus = [], []
    for _ in range(repeats):
        f = fg.jit(fg.grad(chain1k_fg))
        w0, c0 = time.perf_counter(), time.process_time()
        f(x)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run, not a measurement")
    parser.add_argument("--only", nargs="*", help="only these rows (names as printed)")
    args = parser.parse_args(argv)
    which = 1 if args.quick else 0
    want = (lambda name: not args.only or name in args.only)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"
          + (", --quick: few samples, numbers are noisy" if args.quick else ""))
    header = (f"{'row':<14} {'what':<46} {'numpy':>10} {'funcgrad':>10} {'ratio(wall)':>11} {'ratio(cpu)':>10} "
              f"{'target':>8}  met")
    print(header)
    print("-" * len(header))
    met = missed = 0

    def report(name, what, a, b, r_wall, r_cpu, target, ok):
        nonlocal met, missed
        met += ok is True
        missed += ok is False
        verdict = "" if ok is None else ("met" if ok else "NOT met")
        print(f"{name:<14} {what:<46} {a:>10} {b:>10} {r_wall:>11} {r_cpu:>10} {target:>8}  {verdict}", flush=True)

    rows = [r for r in speed_rows(np.random.default_rng(1234)) if want(r["name"])]
    for r in rows:
        check_same(r["name"], r["unpack"](r["fg"]()), r["unpack"](r["np"]()))
    for r in rows:
        t = time_pair(r["fg"], r["np"], r["samples"][which], r["number"][which])
        report(r["name"], r["what"], fmt(t["np_cpu"]), fmt(t["fg_cpu"]), f"{t['r_wall']:.2f}x", f"{t['r_cpu']:.2f}x",
               "-" if r["target"] is None else f"<={r['target']:g}x",
               None if r["target"] is None else t["r_cpu"] <= r["target"])
    if want("mem-chain-10k") or want("mem-1e7"):
        for name, what, b_fg, b_np, target in memory_rows():
            if not want(name):
                continue
            tgt = "-" if target is None else f"<={target / 1e6:g}MB"
            report(name, what, f"{b_np / 1e6:.2f} MB", f"{b_fg / 1e6:.2f} MB", "", f"{b_fg / b_np:.2f}x", tgt,
                   None if target is None else b_fg <= target)
    if want("first-call"):
        w, c = first_call_seconds(3 if args.quick else 9)
        report("first-call", "jit(grad(1,000-op chain)): trace+compile+run", "", f"{w:.3f} s",
               "", f"cpu {c:.3f} s", "<=0.15 s", c <= 0.15)
    if want("import"):
        t_np, t_fg, ratio = import_ratio(5 if args.quick else 15)  # bench_import.py: fresh interpreters, medians
        report("import", "import funcgrad, funcgrad.numpy above numpy", f"{t_np * 1e3:.0f} ms",
               f"{t_fg * 1e3:.0f} ms", "", f"{ratio:.2f}x", "<=0.5x", ratio <= 0.5)
        t_np, t_fg, ratio = import_ratio(3 if args.quick else 11, bytecode=False)
        report("import-nopyc", "the same, compiling sources (no .pyc cache)", f"{t_np * 1e3:.0f} ms",
               f"{t_fg * 1e3:.0f} ms", "", f"{ratio:.2f}x", "-", None)
    print()
    print("numpy/funcgrad columns: median CPU time per call (speed rows), peak bytes (memory rows);")
    print("ratio = funcgrad / hand-written NumPy (median over alternating samples); met = CPU ratio <= target")
    print(f"{met} met, {missed} not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
