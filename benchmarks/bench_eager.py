"""Eager-mode speed of funcgrad, as ratios to hand-written NumPy doing the same work.

Each case is computed twice in this one process: with funcgrad (``grad``/``vjp`` of an ordinary
function) and with a hand-written NumPy forward pass plus a hand-derived backward pass that
computes the same value and every gradient. Before timing, the script checks once that both give
the same results (relative error ≤ 1e-10). Timing samples of the two alternate, so drift in the
machine's speed affects both alike; the table reports medians of many samples and their ratio.

    python benchmarks/bench_eager.py            # full run (a few minutes)
    python benchmarks/bench_eager.py --quick    # smoke run (seconds): few samples, noisy numbers

See benchmarks/README.md for how to run it on this machine (BLAS environment variables).
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


# --- (a) a 10,000-op elementwise chain --------------------------------------------------------

CHAIN_OPS = 10_000


def chain_fg(x):
    for _ in range(CHAIN_OPS // 2):
        x = fnp.sin(x)
        x = x * 1.0001
    return fnp.sum(x)


def chain_np(x):
    """Forward keeping the inputs of every sin, then the backward pass in reverse order."""
    sin_inputs = []
    for _ in range(CHAIN_OPS // 2):
        sin_inputs.append(x)
        x = np.sin(x)
        x = x * 1.0001
    value = np.sum(x)
    g = np.ones_like(x)
    for s in reversed(sin_inputs):
        g = g * 1.0001
        g = g * np.cos(s)
    return value, g


# --- (b) a tiny 6-op scalar function of a 10-vector -------------------------------------------


def tiny_fg(x):
    y = x * 2.0       # 1
    z = fnp.sin(y)    # 2
    u = z * x         # 3
    s = fnp.exp(u)    # 4
    t = fnp.sum(s)    # 5
    return fnp.log(t)  # 6


def tiny_np(x):
    y = x * 2.0
    z = np.sin(y)
    u = z * x
    s = np.exp(u)
    t = np.sum(s)
    value = np.log(t)
    dt = 1.0 / t
    du = dt * s
    dx = du * z
    dy = (du * x) * np.cos(y)
    dx = dx + dy * 2.0
    return value, dx


# --- (c) an MLP loss over a dict of parameters ------------------------------------------------


def mlp_params(sizes, rng):
    params = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"w{i}"] = rng.standard_normal((m, n)) / np.sqrt(m)
        params[f"b{i}"] = 0.1 * rng.standard_normal(n)
    return params


def mlp_fg(params, x, onehot):
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    h = fnp.tanh(h @ params["w2"] + params["b2"])
    logits = h @ params["w3"] + params["b3"]
    # softmax cross-entropy: logsumexp(logits) - logit of the true class, averaged over the batch
    return fnp.mean(logsumexp(logits, axis=1) - fnp.sum(onehot * logits, axis=1))


def mlp_np(params, x, onehot):
    w1, b1, w2, b2, w3, b3 = (params[k] for k in ("w1", "b1", "w2", "b2", "w3", "b3"))
    batch = x.shape[0]
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    logits = h2 @ w3 + b3
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    se = np.sum(e, axis=1, keepdims=True)
    lse = np.log(se) + m
    value = np.mean(lse[:, 0] - np.sum(onehot * logits, axis=1))
    # backward: d loss / d logits = (softmax - onehot) / batch
    dlogits = (e / se - onehot) * (1.0 / batch)
    grads = {"w3": h2.T @ dlogits, "b3": dlogits.sum(axis=0)}
    dz2 = (dlogits @ w3.T) * (1.0 - h2 * h2)
    grads["w2"], grads["b2"] = h1.T @ dz2, dz2.sum(axis=0)
    dz1 = (dz2 @ w2.T) * (1.0 - h1 * h1)
    grads["w1"], grads["b1"] = x.T @ dz1, dz1.sum(axis=0)
    return value, grads


# --- (d) the seed's while loop, as a vjp ------------------------------------------------------


def doubling_fg(x):
    y = x * 2
    while fnp.linalg.norm(y) < 1000:
        y = y * 2
    return y


def doubling_np(x, v):
    """Forward counting the doublings, backward doubling the cotangent as many times."""
    y = x * 2
    k = 1
    while np.linalg.norm(y) < 1000:
        y = y * 2
        k += 1
    g = v
    for _ in range(k):
        g = g * 2
    return y, g


# --- harness ----------------------------------------------------------------------------------


def rel_err(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (scale if scale > 0 else 1.0))


def check_same(name: str, got: dict, want: dict) -> None:
    assert got.keys() == want.keys(), (got.keys(), want.keys())
    for key in want:
        err = rel_err(got[key], want[key])
        if not err <= RTOL:
            raise AssertionError(f"{name}: funcgrad and hand-written NumPy differ in {key}: "
                                 f"relative error {err:.2e} > {RTOL:g}")


def time_pair(fg_call: Callable[[], Any], np_call: Callable[[], Any], samples: int, number: int,
              ) -> tuple[float, float]:
    """Median seconds per call of each, from ``samples`` alternating samples of ``number`` calls."""
    fg_call(), np_call()  # warm-up
    fg_times, np_times = [], []
    perf = time.perf_counter
    for _ in range(samples):
        t0 = perf()
        for _ in range(number):
            np_call()
        t1 = perf()
        for _ in range(number):
            fg_call()
        t2 = perf()
        np_times.append((t1 - t0) / number)
        fg_times.append((t2 - t1) / number)
    return statistics.median(fg_times), statistics.median(np_times)


def build_cases(rng: np.random.Generator) -> list[dict]:
    cases = []

    # Transformed functions are built once, as a user would, and called in the timed loop.
    chain_vg, tiny_vg, mlp_vg = (fg.value_and_grad(f) for f in (chain_fg, tiny_fg, mlp_fg))

    x_chain = rng.standard_normal(100)
    cases.append(dict(
        name="chain", desc="(a) 10k-op sin/*1.0001 chain, 100-vector", target=3.0,
        fg=lambda: chain_vg(x_chain),
        np=lambda: chain_np(x_chain),
        unpack=lambda r: {"value": r[0], "grad": r[1]},
        samples=(31, 3), number=(1, 1),
    ))

    x_tiny = rng.standard_normal(10)
    cases.append(dict(
        name="tiny", desc="(b) tiny 6-op scalar fn, 10-vector", target=8.0,
        fg=lambda: tiny_vg(x_tiny),
        np=lambda: tiny_np(x_tiny),
        unpack=lambda r: {"value": r[0], "grad": r[1]},
        samples=(101, 5), number=(200, 20),
    ))

    for label, batch, sizes, target, samples, number in (
        ("MLP-small", 32, (64, 128, 128, 10), 3.0, (201, 5), (10, 2)),
        ("MLP-large", 256, (784, 1024, 1024, 10), 1.15, (61, 3), (1, 1)),
    ):
        params = mlp_params(sizes, rng)
        x = rng.standard_normal((batch, sizes[0]))
        onehot = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
        cases.append(dict(
            name=label, desc=f"(c) MLP batch {batch}, {'-'.join(map(str, sizes))}", target=target,
            fg=(lambda p=params, x=x, o=onehot: mlp_vg(p, x, o)),
            np=(lambda p=params, x=x, o=onehot: mlp_np(p, x, o)),
            unpack=lambda r: {"value": r[0], **{f"d{k}": v for k, v in r[1].items()}},
            samples=samples, number=number,
        ))

    x_loop = np.random.default_rng(0).standard_normal(3)
    v_loop = np.array([0.1, 1.0, 0.0001])

    def loop_fg():
        y, pullback = fg.vjp(doubling_fg, x_loop)
        return y, pullback(v_loop)[0]

    cases.append(dict(
        name="while-vjp", desc="(d) seed while-loop vjp, 3-vector", target=None,
        fg=loop_fg, np=lambda: doubling_np(x_loop, v_loop),
        unpack=lambda r: {"value": r[0], "vjp": r[1]},
        samples=(101, 5), number=(100, 10),
    ))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run, not a measurement")
    parser.add_argument("--only", nargs="*", help="run only the cases with these names")
    args = parser.parse_args(argv)
    which = 1 if args.quick else 0

    cases = build_cases(np.random.default_rng(1234))
    if args.only:
        cases = [c for c in cases if c["name"] in args.only]

    # Correctness first, once: same forward value and gradients to 1e-10 relative.
    for c in cases:
        check_same(c["name"], c["unpack"](c["fg"]()), c["unpack"](c["np"]()))
    print(f"checked: funcgrad == hand-written NumPy (value and all gradients, rel. err <= {RTOL:g}) "
          f"for {len(cases)} cases")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}"
          + (", --quick: few samples, numbers are noisy" if args.quick else ""))
    print()

    header = f"{'case':<11} {'what':<40} {'numpy':>11} {'funcgrad':>11} {'ratio':>7} {'target':>7}  ok"
    print(header)
    print("-" * len(header))
    missed = 0
    for c in cases:
        t_fg, t_np = time_pair(c["fg"], c["np"], c["samples"][which], c["number"][which])
        ratio = t_fg / t_np
        target = c["target"]
        if target is None:
            tgt, ok = "-", ""
        else:
            tgt, ok = f"{target:g}x", ("yes" if ratio <= target else "NO")
            missed += ratio > target
        print(f"{c['name']:<11} {c['desc']:<40} {fmt(t_np):>11} {fmt(t_fg):>11} {ratio:>6.2f}x {tgt:>7}  {ok}",
              flush=True)
    print()
    print("times are medians per call (forward + all gradients); ratio = funcgrad / hand-written NumPy")
    if missed:
        print(f"{missed} case(s) above target")
    return 0


def fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


if __name__ == "__main__":
    sys.exit(main())
