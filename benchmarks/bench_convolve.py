"""Speed of funcgrad's tensor convolution (a CNN layer) against SciPy, as ratios, in one process.

A convolutional layer ``out[n, o] = sum_c correlate(x[n, c], k[c, o], 'valid')`` — in funcgrad
``funcgrad.scipy.signal.correlate(x, k, 'valid', axes=([2, 3], [2, 3]), dot_axes=([1], [0]))`` —
computed five ways:

  funcgrad         the call above (strided windows + one matmul)
  scipy-loop       hand-written: ``scipy.signal.correlate`` per (example, output channel, input
                   channel), summed over input channels (what one writes without a tensor form)
  scipy-fft        hand-written, vectorised: one ``scipy.signal.fftconvolve(..., axes=(-2, -1))``
                   over broadcast (example, in, out) axes, then a sum over input channels
  numpy-strided    hand-written NumPy doing what funcgrad's impl does (sliding_window_view +
                   tensordot): funcgrad's overhead over its own algorithm

and the reverse pass: ``vjp`` of the layer with a given cotangent (both inputs' cotangents) against
the hand-written SciPy backward pass (``convolve(ct, k, 'full')`` and ``correlate(x, ct, 'valid')``
per pair, summed).

Every variant is checked against scipy-loop first (relative error <= 1e-10). Samples alternate
between variants so drift in the machine's speed affects all alike; the table reports medians and
ratios to funcgrad (a ratio > 1 means that variant is slower than funcgrad).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_convolve.py
    python benchmarks/bench_convolve.py --quick      # smoke run: few samples, noisy numbers
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np
import scipy
import scipy.signal as ss
from numpy.lib.stride_tricks import sliding_window_view

import funcgrad as fg
import funcgrad.scipy.signal as fss

RTOL = 1e-10
AXES, DOT = ([2, 3], [2, 3]), ([1], [0])
# (name, batch, channels in, channels out, image side, kernel side)
CASES = [("mnist-layer1", 16, 1, 8, 28, 5), ("layer2", 16, 8, 16, 12, 3), ("tiny", 4, 2, 3, 8, 3)]


def funcgrad_forward(x: np.ndarray, k: np.ndarray) -> Any:
    return fss.correlate(x, k, "valid", axes=AXES, dot_axes=DOT)


def scipy_loop_forward(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    n, c, o = x.shape[0], x.shape[1], k.shape[1]
    out = np.zeros((n, o) + tuple(a - b + 1 for a, b in zip(x.shape[2:], k.shape[2:])))
    for i in range(n):
        for j in range(o):
            for ch in range(c):
                out[i, j] += ss.correlate(x[i, ch], k[ch, j], "valid")
    return out


def scipy_fft_forward(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    # correlate = convolve with the kernel flipped; broadcast (n, c, o), then sum over c
    prod = ss.fftconvolve(x[:, :, None], k[None, :, :, ::-1, ::-1], mode="valid", axes=(-2, -1))
    return prod.sum(axis=1)


def numpy_strided_forward(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    win = sliding_window_view(x, k.shape[2:], axis=(2, 3))        # (n, c, h', w', kh, kw)
    return np.tensordot(win, k, axes=([1, 4, 5], [0, 2, 3])).transpose(0, 3, 1, 2)


def funcgrad_backward(x: np.ndarray, k: np.ndarray, ct: np.ndarray) -> tuple:
    _, pullback = fg.vjp(funcgrad_forward, x, k)
    return pullback(ct)


def scipy_loop_backward(x: np.ndarray, k: np.ndarray, ct: np.ndarray) -> tuple:
    gx, gk = np.zeros_like(x), np.zeros_like(k)
    for i in range(x.shape[0]):
        for j in range(k.shape[1]):
            for ch in range(x.shape[1]):
                gx[i, ch] += ss.convolve(ct[i, j], k[ch, j], "full")
                gk[ch, j] += ss.correlate(x[i, ch], ct[i, j], "valid")
    return gx, gk


def _rel(a: Any, b: Any) -> float:
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / max(np.linalg.norm(np.ravel(b)), 1e-300))


def _time(fn: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def measure(variants: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    number = {}
    for name, fn in variants.items():  # calls per sample: about 20 ms of work
        once = _time(fn, 1)
        number[name] = max(1, int(0.02 / max(once, 1e-7)))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            samples[name].append(_time(fn, number[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


def run_case(name: str, n: int, c: int, o: int, side: int, ks: int, repeats: int) -> list[tuple]:
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((n, c, side, side)), rng.standard_normal((c, o, ks, ks))
    want = scipy_loop_forward(x, k)
    ct = rng.standard_normal(want.shape)
    forward = {"funcgrad": lambda: funcgrad_forward(x, k), "scipy-loop": lambda: scipy_loop_forward(x, k),
               "scipy-fft": lambda: scipy_fft_forward(x, k), "numpy-strided": lambda: numpy_strided_forward(x, k)}
    for vname, fn in forward.items():
        err = _rel(fn(), want)
        if err > RTOL:
            sys.exit(f"{name}/{vname}: forward differs from scipy-loop (relative error {err:.2e})")
    gwant = scipy_loop_backward(x, k, ct)
    backward = {"funcgrad": lambda: funcgrad_backward(x, k, ct), "scipy-loop": lambda: scipy_loop_backward(x, k, ct)}
    for got, w in zip(funcgrad_backward(x, k, ct), gwant):
        if _rel(got, w) > RTOL:
            sys.exit(f"{name}: backward differs from scipy-loop (relative error {_rel(got, w):.2e})")
    rows = []
    for what, variants in (("forward", forward), ("vjp", backward)):
        med = measure(variants, repeats)
        for vname, t in med.items():
            rows.append((name, what, vname, t, t / med["funcgrad"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few samples (checks that the script runs)")
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, python {platform.python_version()}; "
          f"medians of {repeats} samples; ratio = time / funcgrad's time")
    print(f"{'case':14} {'pass':8} {'variant':14} {'median':>12} {'ratio':>8}")
    for case in CASES:
        for name, what, vname, t, ratio in run_case(*case, repeats=repeats):
            print(f"{name:14} {what:8} {vname:14} {t * 1e3:10.3f}ms {ratio:8.2f}")


if __name__ == "__main__":
    main()
