"""funcgrad.compat.autograd against hand-written NumPy (and against autograd itself, when it is
installed) on autograd-style programs, in one process: medians of alternating samples, and ratios.

Cases: the gradient of a tanh MLP's log-posterior written in autograd's style (list of (W, b)
tuples, ``logsumexp``, ``flatten`` for the L2 prior), and a small logistic-regression gradient
(per-call overhead). Before timing, each implementation's gradient is checked against NumPy's.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_compat.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import funcgrad.compat.autograd as fag
import funcgrad.compat.autograd.numpy as fanp
from funcgrad.compat.autograd.misc import flatten as fflatten
from funcgrad.compat.autograd.scipy.special import logsumexp as flse

try:
    import autograd as rag
    import autograd.numpy as ranp
    from autograd.misc import flatten as rflatten
    from autograd.scipy.special import logsumexp as rlse
except ImportError:  # pragma: no cover
    rag = None

QUICK = "--quick" in sys.argv


def make_mlp(anp, flatten, lse):
    def log_posterior(params, inputs, targets, l2):
        prior = -l2 * anp.sum(flatten(params)[0] ** 2)
        for W, b in params:
            outputs = anp.dot(inputs, W) + b
            inputs = anp.tanh(outputs)
        logp = outputs - lse(outputs, axis=1, keepdims=True)
        return prior + anp.sum(logp * targets)

    return log_posterior


def mlp_grad_numpy(params, x, y, l2):
    """Hand-written forward and backward pass of the same log-posterior."""
    acts, pre = [x], []
    for W, b in params:
        z = acts[-1] @ W + b
        pre.append(z)
        acts.append(np.tanh(z))
    out = pre[-1]
    m = out.max(axis=1, keepdims=True)
    sm = np.exp(out - m)
    sm /= sm.sum(axis=1, keepdims=True)
    g_out = y - sm * y.sum(axis=1, keepdims=True)
    grads = []
    g = g_out
    for k in range(len(params) - 1, -1, -1):
        W, b = params[k]
        grads.append((acts[k].T @ g - 2 * l2 * W, g.sum(0) - 2 * l2 * b))
        if k:
            g = (g @ W.T) * (1 - acts[k] ** 2)
    return grads[::-1]


def logistic_numpy(w, x, t):
    p = 0.5 * (np.tanh(x @ w / 2) + 1)
    dp = -(t / (p * t + (1 - p) * (1 - t)) - (1 - t) / (p * t + (1 - p) * (1 - t)))
    return x.T @ (dp * p * (1 - p))


def make_logistic(anp):
    def loss(w, x, t):
        p = 0.5 * (anp.tanh(anp.dot(x, w) / 2) + 1)
        return -anp.sum(anp.log(p * t + (1 - p) * (1 - t)))

    return loss


def flat(tree):
    return fflatten(tree)[0]


def timed(fns, repeat):
    samples = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            samples[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in samples.items()}


def case(name, fns, check, repeat):
    ref = flat(check["numpy"]())
    for k in fns:
        if k != "numpy":
            got = flat(check[k]())
            assert np.linalg.norm(got - ref) <= 1e-10 * np.linalg.norm(ref), (name, k)
    med = timed(fns, repeat)
    base = med["numpy"]
    row = "  ".join(f"{k} {med[k] * 1e3:8.3f} ms ({med[k] / base:5.2f}x)" for k in fns)
    print(f"{name:14s} {row}")


def main():
    rs = np.random.RandomState(0)
    repeat = 5 if QUICK else 41
    for label, sizes, batch in [("MLP-small", [64, 128, 128, 10], 32), ("MLP-large", [784, 512, 512, 10], 256)]:
        params = [(0.1 * rs.randn(m, n), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
        x, y = rs.randn(batch, sizes[0]), np.eye(sizes[-1])[rs.randint(0, sizes[-1], batch)]
        ours = fag.grad(make_mlp(fanp, fflatten, flse))
        fns = {"numpy": lambda: mlp_grad_numpy(params, x, y, 0.01), "compat": lambda: ours(params, x, y, 0.01)}
        if rag is not None:
            theirs = rag.grad(make_mlp(ranp, rflatten, rlse))
            fns["autograd"] = lambda: theirs(params, x, y, 0.01)
        case(label, fns, fns, repeat)
    w, xs, t = rs.randn(3), rs.randn(20, 3), (rs.rand(20) > 0.5).astype(float)
    ours = fag.grad(make_logistic(fanp))
    fns = {"numpy": lambda: logistic_numpy(w, xs, t), "compat": lambda: ours(w, xs, t)}
    if rag is not None:
        theirs = rag.grad(make_logistic(ranp))
        fns["autograd"] = lambda: theirs(w, xs, t)
    case("logistic-tiny", fns, fns, repeat * 5)


if __name__ == "__main__":
    main()
