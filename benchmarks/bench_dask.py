"""funcgrad's gradient on Dask arrays vs the same gradient written by hand in dask.array.

On a ``distributed.LocalCluster`` (1 worker, then 2; one thread each, a memory limit per
worker), the logistic-regression gradient of chunked data is computed (a) with
``funcgrad.jit(funcgrad.grad(loss))`` and (b) with the hand-derived formula in ``dask.array``.
Samples of the two alternate; the table reports medians, their ratio (target <= 1.2), the
1 -> 2 worker speed-up, and how far a worker's memory rose above the data it holds while one
gradient ran (its exact peak, from /proc's VmHWM after a reset), in MB and in chunks.

    python benchmarks/bench_dask.py                 # 4M x 20 float64 (640 MB), a few minutes
    python benchmarks/bench_dask.py --quick         # 200k rows: seconds, noisy numbers
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import funcgrad as fg
import funcgrad.numpy as fnp


def loss(w, X, y):
    return fnp.mean(fnp.logaddexp(0.0, -y * (X @ w)))


def grad_by_hand(w, X, y):
    """d/dw mean(log(1 + exp(-y Xw))) = -X^T (y * sigmoid(-y Xw)) / n, in dask.array."""
    z = -y * (X @ w)
    s = 1.0 / (1.0 + da.exp(-z))
    return -(X.T @ (y * s)) / X.shape[0]


def _vm(field: str) -> int:
    """A ``/proc/self/status`` field of this process, in bytes (VmRSS: now; VmHWM: peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> int:
    """Reset this process's peak resident memory (Linux: 5 > clear_refs) and return its RSS."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _vm("VmRSS")


def _working_memory(client: Client, compute: Any) -> float:
    """The most any worker's resident memory rose above what it held before (its share of the
    persisted data, the libraries) while ``compute()`` ran, in bytes: exact peaks, not samples."""
    before = client.run(_reset_peak)
    compute()
    peak = client.run(_vm, "VmHWM")
    return max(peak[w] - before[w] for w in before)


def run(workers: int, rows: int, features: int, chunk_rows: int, samples: int, memory_limit: str) -> dict:
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    try:
        rs = da.random.RandomState(0)
        X = rs.standard_normal((rows, features), chunks=(chunk_rows, features)).persist()
        y = da.where(rs.standard_normal(rows, chunks=chunk_rows) > 0, 1.0, -1.0).persist()
        dask.compute(X.sum(), y.sum())
        w = np.linspace(-0.5, 0.5, features)
        fg_grad = fg.jit(fg.grad(loss))
        a = client.compute(fg_grad(w, X, y), sync=True)
        b = client.compute(grad_by_hand(w, X, y), sync=True)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        times: dict[str, list] = {"funcgrad": [], "by hand": []}
        for _ in range(samples):
            for name, fn in (("funcgrad", lambda: fg_grad(w, X, y)), ("by hand", lambda: grad_by_hand(w, X, y))):
                start = time.perf_counter()
                client.compute(fn(), sync=True)  # building the graph is part of the time
                times[name].append(time.perf_counter() - start)
        held = max(client.run(_vm, "VmRSS").values())
        extra = {name: _working_memory(client, lambda fn=fn: client.compute(fn(), sync=True))
                 for name, fn in (("funcgrad", lambda: fg_grad(w, X, y)), ("by hand", lambda: grad_by_hand(w, X, y)))}
        med = {k: statistics.median(v) for k, v in times.items()}
        return {"workers": workers, **med, "ratio": med["funcgrad"] / med["by hand"],
                "held_mb": held / 2**20, "extra_mb": {k: v / 2**20 for k, v in extra.items()}}
    finally:
        client.close()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--memory-limit", default="1GiB")
    args = parser.parse_args()
    rows = args.rows or (200_000 if args.quick else 4_000_000)
    chunk_rows = max(rows // 16, 1)
    samples = args.samples or (3 if args.quick else 9)
    chunk_mb = chunk_rows * args.features * 8 / 2**20
    print(f"{rows:,} x {args.features} float64 ({rows * args.features * 8 / 2**20:.0f} MB), "
          f"16 chunks of {chunk_mb:.1f} MB, worker memory limit {args.memory_limit}, {samples} samples each")
    results = [run(n, rows, args.features, chunk_rows, samples, args.memory_limit) for n in (1, 2)]
    print(f"{'workers':>7} {'funcgrad s':>11} {'by hand s':>10} {'ratio':>6} {'RSS/worker MB':>14} "
          f"{'+peak funcgrad MB':>18} {'+peak by hand MB':>17}")
    for r in results:
        e = {k: f"{v:.0f} ({v / chunk_mb:.1f} ch)" for k, v in r["extra_mb"].items()}
        print(f"{r['workers']:>7} {r['funcgrad']:>11.3f} {r['by hand']:>10.3f} {r['ratio']:>6.2f} "
              f"{r['held_mb']:>14.0f} {e['funcgrad']:>18} {e['by hand']:>17}")
    print("RSS/worker: a worker's resident memory holding its share of the persisted data; +peak: the most it "
          f"rose above that while one gradient ran (exact, /proc VmHWM), and in chunks of {chunk_mb:.1f} MB (ch).")
    print(f"speed-up 1 -> 2 workers: funcgrad {results[0]['funcgrad'] / results[1]['funcgrad']:.2f}x, "
          f"by hand {results[0]['by hand'] / results[1]['by hand']:.2f}x")


if __name__ == "__main__":
    main()
