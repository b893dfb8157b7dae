"""funcgrad's gradient on Dask arrays vs the same gradient written by hand in dask.array.

On a ``distributed.LocalCluster`` (1 worker, then 2; one thread each, a memory limit per
worker), the logistic-regression gradient of chunked data is computed (a) with
``funcgrad.jit(funcgrad.grad(loss))`` and (b) with the hand-derived formula in ``dask.array``.
Samples of the two alternate; the table reports medians, their ratio (target <= 1.2), the
1 -> 2 worker speed-up, and the peak memory a worker process reached (against its limit and
the size of one chunk).

    python benchmarks/bench_dask.py                 # 4M x 20 float64 (640 MB), a few minutes
    python benchmarks/bench_dask.py --quick         # 200k rows: seconds, noisy numbers
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def _peak_rss(client: Client) -> dict:
    """Peak resident memory of each worker process since the last reset (psutil on the worker)."""
    return client.run(lambda dask_worker: dask_worker.monitor.range_query(start=0)["memory"])


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
        peaks = []
        for series in _peak_rss(client).values():
            peaks.append(max(series) if series else float("nan"))
        med = {k: statistics.median(v) for k, v in times.items()}
        return {"workers": workers, **med, "ratio": med["funcgrad"] / med["by hand"],
                "peak_mb": max(peaks) / 2**20}
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
    print(f"{'workers':>7} {'funcgrad s':>11} {'by hand s':>10} {'ratio':>6} {'peak RSS/worker MB':>19}")
    for r in results:
        print(f"{r['workers']:>7} {r['funcgrad']:>11.3f} {r['by hand']:>10.3f} {r['ratio']:>6.2f} "
              f"{r['peak_mb']:>19.0f}")
    print(f"speed-up 1 -> 2 workers: funcgrad {results[0]['funcgrad'] / results[1]['funcgrad']:.2f}x, "
          f"by hand {results[0]['by hand'] / results[1]['by hand']:.2f}x")


if __name__ == "__main__":
    main()
