"""Logistic regression on more data than the workers may hold, with the same funcgrad code as on NumPy.

The data (by default 20 million rows x 20 features of float64, 3.2 GB) is a lazy Dask array,
generated chunk by chunk on a ``distributed.LocalCluster`` whose workers are limited to 1 GB
each; it is never in memory at once. ``jit(value_and_grad(loss))`` of Dask arrays returns a lazy
value and gradient built from one Dask graph; each step computes them (one pass over the chunks)
and takes a gradient step on the small parameter vector, which stays a NumPy array.

The same ``loss`` and ``train`` then run on a small slice twice, as NumPy arrays and as Dask
arrays, and print equal losses: moving a model between NumPy and Dask changes only the input
arrays.

    python examples/out_of_core_regression.py            # full size: minutes
    python examples/out_of_core_regression.py --small    # seconds (what the tests run)
    FUNCGRAD_EXAMPLE_SMALL=1 python examples/out_of_core_regression.py

Measured once at full size (2026-12-03, 2 workers x 1 thread, ``memory_limit="1GiB"`` each, 40
chunks of 500,000 rows = 80 MB, 5 steps; a 2-core machine shared with other jobs, load average
4-6, so the process got 63% of a core on average): losses 0.693147, 0.627473, 0.577055,
0.537797, 0.506646; 240 s for the 5 steps (48 s a step: each step generates the 3.2 GB again,
chunk by chunk, and reads it once); peak resident memory (``ru_maxrss``) 361 MB and 375 MB in the
two workers and 243 MB in the client process during training (384 MB at exit, after the
slice comparison), far below the 1 GiB limit (Dask pauses a worker at 80% of it). The NumPy and Dask losses on the
2,000-row slice were equal (difference 0.0).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import dask
import dask.array as da
import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def loss(w: Any, X: Any, y: Any) -> Any:
    """Mean logistic loss of labels ``y`` (±1) with a small L2 penalty; works on NumPy and Dask."""
    return fnp.mean(fnp.logaddexp(0.0, -y * (X @ w))) + 1e-3 * fnp.sum(w ** 2)


step = fg.jit(fg.value_and_grad(loss))


def train(w: np.ndarray, X: Any, y: Any, steps: int, lr: float, log: str = "") -> tuple[np.ndarray, list]:
    """Gradient descent; the gradient of a Dask batch is computed, the parameters stay NumPy."""
    losses = []
    for k in range(steps):
        value, g = step(w, X, y)
        if isinstance(g, da.Array):
            value, g = dask.compute(value, g)  # one pass over the chunks for both
        w = w - lr * np.asarray(g)
        losses.append(float(value))
        if log:
            print(f"{log} step {k}: loss {float(value):.12f}", flush=True)
    return w, losses


def make_data(rows: int, features: int, chunk_rows: int, seed: int = 0) -> tuple[Any, Any]:
    """Lazy features and ±1 labels from a noisy linear model, made chunk by chunk on the workers."""
    rs = da.random.RandomState(seed)
    X = rs.standard_normal((rows, features), chunks=(chunk_rows, features))
    w_true = np.linspace(-1.0, 1.0, features)
    y = da.where(X @ w_true + rs.standard_normal(rows, chunks=chunk_rows) > 0, 1.0, -1.0)
    return X, y


def _max_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def peak_memory_mb(client: Any) -> dict:
    """Peak resident memory (MiB) each worker process reached since it started, and this process's."""
    per_worker = client.run(_max_rss_mb)
    return {"workers": [per_worker[k] for k in sorted(per_worker)], "client": _max_rss_mb()}


def main(argv: list[str] | None = None, client: Any = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", default=os.environ.get("FUNCGRAD_EXAMPLE_SMALL") == "1",
                        help="20,000 rows: runs in seconds")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GiB", help="per worker")
    args = parser.parse_args(argv)
    rows = args.rows or (20_000 if args.small else 20_000_000)
    chunk_rows = args.chunk_rows or (5_000 if args.small else 500_000)  # 500k x 20 x 8 B = 80 MB a chunk
    steps = args.steps or (3 if args.small else 5)

    own = None
    if client is None:
        from distributed import Client, LocalCluster

        own = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           memory_limit=args.memory_limit, dashboard_address=None, silence_logs=40)
        client = Client(own)
    try:
        X, y = make_data(rows, args.features, chunk_rows)
        gb = rows * args.features * 8 / 1e9
        print(f"data: {rows:,} x {args.features} float64 = {gb:.2f} GB in chunks of {chunk_rows:,} rows, "
              f"{len(client.scheduler_info()['workers'])} workers limited to {args.memory_limit} each")
        w0 = np.zeros(args.features)
        start = time.perf_counter()
        _, losses = train(w0, X, y, steps, lr=0.5, log="dask")
        seconds = time.perf_counter() - start
        print(f"{steps} steps in {seconds:.1f} s ({seconds / steps:.2f} s a step)")
        peaks = peak_memory_mb(client)
        print("peak resident memory: " + ", ".join(f"worker {k} {v:.0f} MB" for k, v in enumerate(peaks["workers"]))
              + f", this (client) process {peaks['client']:.0f} MB")

        # The same code on a small slice, as NumPy and as Dask arrays: equal numbers.
        n = min(rows, 2_000)
        Xs, ys = dask.compute(X[:n], y[:n])
        _, on_numpy = train(w0, Xs, ys, 3, lr=0.5, log="numpy slice")
        _, on_dask = train(w0, da.from_array(Xs, chunks=(500, args.features)), da.from_array(ys, chunks=500), 3,
                           lr=0.5, log="dask slice ")
        diff = max(abs(a - b) for a, b in zip(on_numpy, on_dask))
        print(f"largest difference between the NumPy and Dask losses on the slice: {diff:.1e}")
        return {"losses": losses, "numpy_slice": on_numpy, "dask_slice": on_dask, "seconds": seconds,
                "peak_mb": peaks}
    finally:
        if own is not None:
            client.close()
            own.close()


if __name__ == "__main__":
    main()
