"""Speed of vmap and hessian, as ratios, in one process (issue 4 §6).

(a) Per-example gradients of a small MLP (64-128-128-10, tanh, softmax cross-entropy via
    logsumexp) over a batch of 32, three ways:
      vmap    ``vmap(grad(loss), in_axes=(None, 0, 0))(params, xs, ys)``
      loop    a Python loop of ``grad(loss)`` over the 32 examples, stacked
      numpy   hand-written NumPy: the batched forward pass, then the backward pass with
              per-example weight gradients as einsum outer products
    Target: vmap at least 5x faster than the loop.
(b) The Hessian of a 100-dimensional function f(x) = logsumexp(A x) + 0.5 sum(c x^2):
      hessian           ``hessian(f)`` (forward-over-reverse, one vmapped jvp of the gradient)
      jacrev(jacfwd)    reverse-over-forward
      numpy             the closed form A^T (diag(p) - p p^T) A + diag(c), p = softmax(A x)

Before timing, every variant is checked once against the hand-written NumPy result (relative
error <= 1e-10). Samples of the variants alternate, so drift in the machine's speed affects all
alike; the table reports medians of repeated runs and their ratios.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_transforms.py
    python benchmarks/bench_transforms.py --quick      # smoke run: few samples, noisy numbers

On a machine busy with other work, multi-threaded BLAS makes the matrix products (and so every
ratio) swing from run to run; ``OPENBLAS_NUM_THREADS=1`` gives steadier numbers there.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy.special import logsumexp

RTOL = 1e-10
SIZES = (64, 128, 128, 10)
BATCH = 32
HESS_DIM = 100


# --- (a) per-example gradients ------------------------------------------------------------------


def make_mlp(rng: np.random.Generator) -> tuple[dict, np.ndarray, np.ndarray]:
    params = {}
    for k, (m, n) in enumerate(zip(SIZES[:-1], SIZES[1:]), start=1):
        params[f"w{k}"] = rng.standard_normal((m, n)) / np.sqrt(m)
        params[f"b{k}"] = rng.standard_normal(n) * 0.1
    xs = rng.standard_normal((BATCH, SIZES[0]))
    ys = rng.integers(0, SIZES[-1], BATCH)
    return params, xs, ys


def loss(params: dict, x: Any, y: Any) -> Any:
    """Softmax cross-entropy of one example."""
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    h = fnp.tanh(h @ params["w2"] + params["b2"])
    logits = h @ params["w3"] + params["b3"]
    return logsumexp(logits) - logits[y]


per_example_vmap = fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))
grad_one = fg.grad(loss)


def per_example_loop(params: dict, xs: np.ndarray, ys: np.ndarray) -> dict:
    grads = [grad_one(params, xs[i], ys[i]) for i in range(len(xs))]
    return {k: np.stack([g[k] for g in grads]) for k in params}


def per_example_numpy(params: dict, xs: np.ndarray, ys: np.ndarray) -> dict:
    w1, b1, w2, b2, w3, b3 = (params[k] for k in ("w1", "b1", "w2", "b2", "w3", "b3"))
    h1 = np.tanh(xs @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    logits = h2 @ w3 + b3
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d3 = p
    d3[np.arange(len(ys)), ys] -= 1.0  # d loss_i / d logits_i
    d2 = (d3 @ w3.T) * (1.0 - h2 * h2)
    d1 = (d2 @ w2.T) * (1.0 - h1 * h1)
    return {
        "w1": np.einsum("bi,bj->bij", xs, d1), "b1": d1,
        "w2": np.einsum("bi,bj->bij", h1, d2), "b2": d2,
        "w3": np.einsum("bi,bj->bij", h2, d3), "b3": d3,
    }


# --- (b) hessian of a 100-dimensional function --------------------------------------------------


def make_hess_problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A = rng.standard_normal((HESS_DIM, HESS_DIM)) / np.sqrt(HESS_DIM)
    c = rng.uniform(0.5, 1.5, HESS_DIM)
    x = rng.standard_normal(HESS_DIM)
    return A, c, x


def hess_fn(A: np.ndarray, c: np.ndarray) -> Callable[[Any], Any]:
    return lambda x: logsumexp(A @ x) + 0.5 * fnp.sum(c * x * x)


def hessian_numpy(A: np.ndarray, c: np.ndarray, x: np.ndarray) -> np.ndarray:
    z = A @ x
    p = np.exp(z - z.max())
    p /= p.sum()
    return A.T @ ((np.diag(p) - np.outer(p, p)) @ A) + np.diag(c)


# --- timing -----------------------------------------------------------------------------------


def rel_err(got: Any, want: Any) -> float:
    got, want = np.asarray(got), np.asarray(want)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300))


def check(name: str, got: Any, want: Any) -> None:
    if isinstance(want, dict):
        for k in want:
            check(f"{name}[{k!r}]", got[k], want[k])
        return
    assert np.shape(got) == np.shape(want), (name, np.shape(got), np.shape(want))
    err = rel_err(got, want)
    if not err <= RTOL:
        raise SystemExit(f"{name}: relative error {err:.3g} exceeds {RTOL}")


def time_all(calls: dict[str, Callable[[], Any]], samples: int, number: int) -> dict[str, float]:
    """Median seconds per call of each, sampling the variants in alternation."""
    times: dict[str, list[float]] = {k: [] for k in calls}
    perf = time.perf_counter
    for call in calls.values():  # warm-up
        call()
    for _ in range(samples):
        for name, call in calls.items():
            t0 = perf()
            for _ in range(number):
                call()
            times[name].append((perf() - t0) / number)
    return {k: statistics.median(v) for k, v in times.items()}


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:9.1f} us"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few samples: check that the script runs")
    args = ap.parse_args(argv)
    samples = 3 if args.quick else 21
    rng = np.random.default_rng(0)

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")

    params, xs, ys = make_mlp(rng)
    want = per_example_numpy(params, xs, ys)
    check("vmap(grad)", per_example_vmap(params, xs, ys), want)
    check("loop of grad", per_example_loop(params, xs, ys), want)
    t = time_all({
        "vmap": lambda: per_example_vmap(params, xs, ys),
        "loop": lambda: per_example_loop(params, xs, ys),
        "numpy": lambda: per_example_numpy(params, xs, ys),
    }, samples, 1 if args.quick else 5)
    print(f"\n(a) per-example gradients, MLP {'-'.join(map(str, SIZES))}, batch {BATCH}")
    print(f"    vmap(grad)         {fmt(t['vmap'])}")
    print(f"    loop of grad       {fmt(t['loop'])}")
    print(f"    hand-written numpy {fmt(t['numpy'])}")
    speedup = t["loop"] / t["vmap"]
    print(f"    loop / vmap  = {speedup:6.2f}x   (target >= 5x: {'met' if speedup >= 5 else 'MISSED'})")
    print(f"    vmap / numpy = {t['vmap'] / t['numpy']:6.2f}x")
    print(f"    loop / numpy = {t['loop'] / t['numpy']:6.2f}x")

    A, c, x = make_hess_problem(rng)
    f = hess_fn(A, c)
    hess, rev_fwd = fg.hessian(f), fg.jacrev(fg.jacfwd(f))
    want_h = hessian_numpy(A, c, x)
    check("hessian", hess(x), want_h)
    check("jacrev(jacfwd)", rev_fwd(x), want_h)
    t = time_all({
        "hessian": lambda: hess(x),
        "rev_fwd": lambda: rev_fwd(x),
        "numpy": lambda: hessian_numpy(A, c, x),
    }, samples, 1 if args.quick else 3)
    print(f"\n(b) hessian of a {HESS_DIM}-dimensional function (logsumexp(A x) + 0.5 sum(c x^2))")
    print(f"    hessian (fwd-over-rev) {fmt(t['hessian'])}")
    print(f"    jacrev(jacfwd)         {fmt(t['rev_fwd'])}")
    print(f"    closed form in numpy   {fmt(t['numpy'])}")
    print(f"    hessian / numpy        = {t['hessian'] / t['numpy']:6.2f}x")
    print(f"    jacrev(jacfwd) / numpy = {t['rev_fwd'] / t['numpy']:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
