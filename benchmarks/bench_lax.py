"""Speed of funcgrad.lax's convolution and max pooling against hand-written NumPy, as ratios.

Each case is computed, forward and reverse (vjp with a given cotangent, both inputs' cotangents),
by:

  funcgrad   ``lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO",
             "NHWC"))`` and ``lax.reduce_window(x, -inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")``
             (eager; and under ``jit``)
  numpy      hand-written NumPy: pad, ``sliding_window_view``, one ``tensordot`` (im2col) forward;
             the backward pass as the same contraction with the cotangent and a col2im loop over
             the kernel taps. Max pooling: a reshape and ``max``, its backward pass the mask of
             the maxima.

Values are checked against each other first. Samples alternate between variants; the table
reports medians of the timings and the ratio funcgrad / numpy (> 1: funcgrad is slower).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lax.py
    python benchmarks/bench_lax.py --quick
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax

DN = ("NHWC", "HWIO", "NHWC")
# (name, batch, side, channels in, channels out, kernel side)
CASES = [("cifar-layer", 32, 32, 3, 16, 3), ("mid-layer", 32, 16, 16, 32, 3), ("small", 8, 8, 4, 4, 3)]


def np_conv(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    r = k.shape[0] // 2
    xp = np.pad(x, ((0, 0), (r, r), (r, r), (0, 0)))
    cols = sliding_window_view(xp, k.shape[:2], axis=(1, 2))  # N, H, W, C, kh, kw
    return np.tensordot(cols, k, axes=([3, 4, 5], [2, 0, 1]))


def np_conv_vjp(x: np.ndarray, k: np.ndarray, ct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = k.shape[0] // 2
    xp = np.pad(x, ((0, 0), (r, r), (r, r), (0, 0)))
    cols = sliding_window_view(xp, k.shape[:2], axis=(1, 2))
    gk = np.tensordot(cols, ct, axes=([0, 1, 2], [0, 1, 2]))  # C, kh, kw, O
    gk = np.transpose(gk, (1, 2, 0, 3))
    gxp = np.zeros_like(xp)
    h, w = x.shape[1:3]
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            gxp[:, i:i + h, j:j + w, :] += ct @ k[i, j].T
    return gxp[:, r:r + h, r:r + w, :], gk


def np_pool(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def np_pool_vjp(x: np.ndarray, ct: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c)
    out = blocks.max(axis=(2, 4), keepdims=True)
    mask = blocks == out
    return (mask * ct[:, :, None, :, None, :] / mask.sum(axis=(2, 4), keepdims=True)).reshape(x.shape)


def fg_conv(x: Any, k: Any) -> Any:
    return lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=DN)


def fg_pool(x: Any) -> Any:
    return lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def median_time(fn: Callable[[], Any], samples: list) -> None:
    start = time.perf_counter()
    fn()
    samples.append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n_samples = 3 if parser.parse_args().quick else 15
    rng = np.random.default_rng(0)
    jit_conv = fg.jit(fg_conv)
    jit_conv_vjp = fg.jit(lambda x, k, ct: fg.vjp(fg_conv, x, k)[1](ct))
    print(f"{'case':<14}{'op':<14}{'numpy ms':>10}{'funcgrad ms':>13}{'ratio':>8}{'jit ms':>9}{'ratio':>8}")
    for name, n, side, cin, cout, ks in CASES:
        x = rng.standard_normal((n, side, side, cin))
        k = rng.standard_normal((ks, ks, cin, cout))
        ct = rng.standard_normal((n, side, side, cout))
        pct = rng.standard_normal((n, side // 2, side // 2, cin))
        np.testing.assert_allclose(fg_conv(x, k), np_conv(x, k), rtol=1e-10, atol=1e-10)
        for got, want in zip(fg.vjp(fg_conv, x, k)[1](ct), np_conv_vjp(x, k, ct)):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fg_pool(x), np_pool(x))
        np.testing.assert_allclose(fg.vjp(fg_pool, x)[1](pct)[0], np_pool_vjp(x, pct), atol=1e-12)
        variants = {
            "conv fwd": (lambda: np_conv(x, k), lambda: fg_conv(x, k), lambda: jit_conv(x, k)),
            "conv vjp": (lambda: np_conv_vjp(x, k, ct), lambda: fg.vjp(fg_conv, x, k)[1](ct),
                         lambda: jit_conv_vjp(x, k, ct)),
            "maxpool fwd": (lambda: np_pool(x), lambda: fg_pool(x), None),
            "maxpool vjp": (lambda: np_pool_vjp(x, pct), lambda: fg.vjp(fg_pool, x)[1](pct), None),
        }
        for op, (ref, ours, jitted) in variants.items():
            times: dict[str, list] = {"numpy": [], "funcgrad": [], "jit": []}
            if jitted is not None:
                jitted()  # compile
            for _ in range(n_samples):
                median_time(ref, times["numpy"])
                median_time(ours, times["funcgrad"])
                if jitted is not None:
                    median_time(jitted, times["jit"])
            med = {key: statistics.median(v) * 1e3 for key, v in times.items() if v}
            jit_cols = f"{med['jit']:>9.2f}{med['jit'] / med['numpy']:>8.2f}" if "jit" in med else ""
            print(f"{name:<14}{op:<14}{med['numpy']:>10.2f}{med['funcgrad']:>13.2f}"
                  f"{med['funcgrad'] / med['numpy']:>8.2f}{jit_cols}")
    _ = fnp  # funcgrad.numpy is imported so that tracers have their operators


if __name__ == "__main__":
    main()
