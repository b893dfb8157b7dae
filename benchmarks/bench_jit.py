"""Speed of ``jit``-compiled derivatives, as ratios to hand-written NumPy doing the same work.

Cases (each checked once against the hand-written version, value and every gradient, to 1e-10
relative, before timing): the tiny 6-op function and both MLPs from bench_eager.py under
``jit(value_and_grad)``; the Hessian-vector product ``jvp(grad(loss))`` with respect to the
first weight matrix of the small MLP (hand-written: forward, backward and the R-operator pass);
a 1,000-op elementwise chain; and the first-call (trace + compile) time of
``jit(grad(chain of 1,000 ops))``.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_jit.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np
from bench_eager import check_same, fmt, mlp_fg, mlp_np, mlp_params, time_pair, tiny_fg, tiny_np

import funcgrad as fg
import funcgrad.numpy as fnp

CHAIN_OPS = 1_000


def chain_fg(x):
    for _ in range(CHAIN_OPS // 2):
        x = fnp.sin(x) * 1.0001
    return fnp.sum(x)


def chain_np(x):
    sin_inputs = []
    for _ in range(CHAIN_OPS // 2):
        sin_inputs.append(x)
        x = np.sin(x) * 1.0001
    value = np.sum(x)
    g = np.ones_like(x)
    for s in reversed(sin_inputs):
        g = g * 1.0001
        g = g * np.cos(s)
    return value, g


def hvp_np(params, x, onehot, v):
    """Gradient and Hessian-vector product of the MLP loss with respect to w1, by hand
    (backward pass, then the R-operator: the directional derivative of every backward value)."""
    w1, b1, w2, b2, w3, b3 = (params[k] for k in ("w1", "b1", "w2", "b2", "w3", "b3"))
    batch = x.shape[0]
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    logits = h2 @ w3 + b3
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    dlogits = (p - onehot) * (1.0 / batch)
    dh2 = dlogits @ w3.T
    dz2 = dh2 * (1.0 - h2 * h2)
    dh1 = dz2 @ w2.T
    dz1 = dh1 * (1.0 - h1 * h1)
    grad = x.T @ dz1
    # R-pass: directional derivatives along v.
    r_h1 = (1.0 - h1 * h1) * (x @ v)
    r_h2 = (1.0 - h2 * h2) * (r_h1 @ w2)
    r_logits = r_h2 @ w3
    r_p = p * (r_logits - np.sum(p * r_logits, axis=1, keepdims=True))
    r_dz2 = ((r_p * (1.0 / batch)) @ w3.T) * (1.0 - h2 * h2) - dh2 * (2.0 * h2 * r_h2)
    r_dz1 = (r_dz2 @ w2.T) * (1.0 - h1 * h1) - dh1 * (2.0 * h1 * r_h1)
    return grad, x.T @ r_dz1


def build_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    x_tiny = rng.standard_normal(10)
    tiny = fg.jit(fg.value_and_grad(tiny_fg))
    cases.append(dict(name="tiny", desc="jit(value_and_grad), 6-op fn of a 10-vector", target=1.5,
                      fg=lambda: tiny(x_tiny), np=lambda: tiny_np(x_tiny),
                      unpack=lambda r: {"value": r[0], "grad": r[1]}, samples=(101, 5), number=(500, 20)))

    mlp = fg.jit(fg.value_and_grad(mlp_fg))
    small = None
    for label, batch, sizes, target, samples, number in (
        ("MLP-small", 32, (64, 128, 128, 10), 1.15, (201, 5), (20, 2)),
        ("MLP-large", 256, (784, 1024, 1024, 10), 1.05, (61, 3), (1, 1)),
    ):
        params = mlp_params(sizes, rng)
        x = rng.standard_normal((batch, sizes[0]))
        onehot = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
        small = small or (params, x, onehot)
        cases.append(dict(
            name=label, desc=f"jit(value_and_grad) MLP {batch}x{'-'.join(map(str, sizes))}", target=target,
            fg=(lambda p=params, x=x, o=onehot: mlp(p, x, o)), np=(lambda p=params, x=x, o=onehot: mlp_np(p, x, o)),
            unpack=lambda r: {"value": r[0], **{f"d{k}": v for k, v in r[1].items()}},
            samples=samples, number=number))

    params, x, onehot = small
    v = rng.standard_normal(params["w1"].shape)

    def loss_w1(w1, params, x, onehot):
        return mlp_fg({**params, "w1": w1}, x, onehot)

    hvp = fg.jit(lambda w1, params, x, onehot, v: fg.jvp(
        lambda w: fg.grad(loss_w1)(w, params, x, onehot), (w1,), (v,)))
    cases.append(dict(name="HVP", desc="jit(jvp(grad)) wrt w1 of MLP-small", target=1.2,
                      fg=lambda: hvp(params["w1"], params, x, onehot, v), np=lambda: hvp_np(params, x, onehot, v),
                      unpack=lambda r: {"grad": r[0], "hvp": r[1]}, samples=(201, 5), number=(10, 2)))

    x_chain = rng.standard_normal(100)
    chain = fg.jit(fg.value_and_grad(chain_fg))
    cases.append(dict(name="chain-1k", desc="jit(value_and_grad), 1,000-op chain", target=None,
                      fg=lambda: chain(x_chain), np=lambda: chain_np(x_chain),
                      unpack=lambda r: {"value": r[0], "grad": r[1]}, samples=(51, 3), number=(5, 1)))
    return cases


def first_call_seconds(repeats: int) -> float:
    """Median time of the first call (trace + compile + run) of jit(grad(1,000-op chain))."""
    x = np.random.default_rng(0).standard_normal(100)
    times = []
    for _ in range(repeats):
        f = fg.jit(fg.grad(chain_fg))  # a new function each time: nothing cached
        t0 = time.perf_counter()
        f(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run, not a measurement")
    args = parser.parse_args(argv)
    which = 1 if args.quick else 0
    cases = build_cases(np.random.default_rng(1234))
    for c in cases:
        check_same(c["name"], c["unpack"](c["fg"]()), c["unpack"](c["np"]()))
    print(f"checked: jit results == hand-written NumPy (rel. err <= 1e-10) for {len(cases)} cases")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}"
          + (", --quick: few samples, numbers are noisy" if args.quick else ""))
    print()
    header = f"{'case':<10} {'what':<46} {'numpy':>10} {'funcgrad':>10} {'ratio':>7} {'target':>7}  ok"
    print(header)
    print("-" * len(header))
    for c in cases:
        t_fg, t_np = time_pair(c["fg"], c["np"], c["samples"][which], c["number"][which])
        ratio = t_fg / t_np
        tgt = "-" if c["target"] is None else f"{c['target']:g}x"
        ok = "" if c["target"] is None else ("yes" if ratio <= c["target"] else "NO")
        print(f"{c['name']:<10} {c['desc']:<46} {fmt(t_np):>10} {fmt(t_fg):>10} {ratio:>6.2f}x {tgt:>7}  {ok}",
              flush=True)
    first = first_call_seconds(3 if args.quick else 7)
    print(f"{'first-call':<10} {'jit(grad(1,000-op chain)): trace + compile + run':<46} {'':>10} "
          f"{fmt(first):>10} {'':>7} {'0.2 s':>7}  {'yes' if first <= 0.2 else 'NO'}")
    print()
    print("times are medians per call; ratio = funcgrad / hand-written NumPy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
