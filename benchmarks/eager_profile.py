"""Where the time of funcgrad's eager mode goes: stage by stage, for the tiny, seed and chain cases.

Each line is the minimum over many samples of the CPU time (``time.process_time_ns``) per call:
on a machine shared with other work the minimum is the steadiest estimate of what a stage costs
(a sample that was interrupted only gets slower). Stages are measured separately, so the
differences between lines tell where the microseconds go: recording the tape (forward under
the reverse trace minus the same code on plain arrays), the backward pass, and the fixed cost
of one call of ``value_and_grad``/``vjp`` (the total minus forward and backward).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/eager_profile.py [--quick]

See benchmarks/EAGER_PROFILE.md for the numbers before and after the work of issue 12 §2.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
from bench_eager import chain_fg, chain_np, doubling_fg, doubling_np, tiny_fg, tiny_np  # noqa: E402

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.traces.reverse import ReverseTrace, backward  # noqa: E402


def best_us(call: Callable[[], Any], number: int, samples: int) -> float:
    """Minimum over ``samples`` of the CPU microseconds per call, ``number`` calls per sample."""
    call()
    best = float("inf")
    for _ in range(samples):
        t0 = time.process_time_ns()
        for _ in range(number):
            call()
        best = min(best, (time.process_time_ns() - t0) / number)
    return best / 1e3


def recorded(f: Callable[[Any], Any], x: np.ndarray) -> tuple[ReverseTrace, Any]:
    """``f`` run on the input tracer of a new reverse trace: the tape and the output tracer."""
    trace = ReverseTrace()
    out = f(trace.new_input(x))
    trace.alive = False
    return trace, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples (a smoke run)")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    samples = max(3, int(200 * scale))
    rows: list[tuple[str, float]] = []

    def row(name: str, call: Callable[[], Any], number: int = 100, per: int = 1, n_samples: int = samples,
            minus: float = 0.0) -> float:
        us = best_us(call, number, n_samples) / per - minus
        rows.append((name, us))
        print(f"{name:<52} {us:9.2f} us", flush=True)
        return us

    rng = np.random.default_rng(0)
    one = np.ones(())

    print("per operation (a 10-vector)")
    x10 = rng.standard_normal(10)
    row("  numpy: np.sin(x)", lambda: np.sin(x10), 1000)
    row("  funcgrad.numpy.sin(x) on an ndarray (bind's fast path)", lambda: fnp.sin(x10), 1000)
    trace = ReverseTrace()
    tx = trace.new_input(x10)

    def reset() -> None:
        del trace.tape[1:]
        trace.num_nodes = 1

    base = best_us(reset, 1000, samples)
    row("  fnp.sin(tracer): recorded on the tape", lambda: (reset(), fnp.sin(tx)), 1000, minus=base)
    row("  tracer * 2.0: recorded on the tape", lambda: (reset(), tx * 2.0), 1000, minus=base)

    print("tiny: value_and_grad of a 6-op function of a 10-vector")
    vg_tiny = fg.value_and_grad(tiny_fg)
    row("  hand-written NumPy, forward + backward", lambda: tiny_np(x10))
    row("  tiny_fg on plain arrays (no tracing)", lambda: tiny_fg(x10))
    row("  forward under a reverse trace (records the tape)", lambda: recorded(tiny_fg, x10))
    tape, out = recorded(tiny_fg, x10)
    row("  backward over that tape", lambda: backward(tape, [(out.node, one)], [0]))
    row("  value_and_grad(tiny_fg)(x): total", lambda: vg_tiny(x10))
    vg_sum = fg.value_and_grad(lambda x: x.sum())
    row("  value_and_grad(lambda x: x.sum())(x): ~fixed cost", lambda: vg_sum(x10))

    print("seed: vjp of the doubling while loop (3-vector) and its pullback")
    x3 = np.random.default_rng(0).standard_normal(3)
    v3 = np.array([0.1, 1.0, 0.0001])
    row("  hand-written NumPy, forward + backward", lambda: doubling_np(x3, v3), 50)
    row("  doubling_fg on plain arrays (no tracing)", lambda: doubling_fg(x3), 50)
    row("  forward under a reverse trace (records the tape)", lambda: recorded(doubling_fg, x3), 50)
    tape3, out3 = recorded(doubling_fg, x3)
    row("  backward over that tape", lambda: backward(tape3, [(out3.node, v3)], [0]), 50)
    row("  vjp(doubling_fg, x)", lambda: fg.vjp(doubling_fg, x3), 50)
    _, pullback = fg.vjp(doubling_fg, x3)
    row("  pullback(v)", lambda: pullback(v3), 50)

    def seed_total() -> Any:
        _, pb = fg.vjp(doubling_fg, x3)
        return pb(v3)

    row("  vjp + pullback: total", seed_total, 50)
    ident = fg.vjp(lambda x: x * 2.0, x3)[1]
    row("  vjp(lambda x: x * 2.0, x): ~fixed cost of vjp", lambda: fg.vjp(lambda x: x * 2.0, x3), 50)
    row("  its pullback: ~fixed cost of a pullback", lambda: ident(v3), 50)

    print("chain: 10,000 ops (sin, * 1.0001) on a 100-vector, per operation")
    x100 = rng.standard_normal(100)
    ops = 10_000
    few = max(3, int(15 * scale))
    row("  hand-written NumPy, forward + backward", lambda: chain_np(x100), 1, ops, few)
    row("  chain_fg on plain arrays (no tracing)", lambda: chain_fg(x100), 1, ops, few)
    row("  forward under a reverse trace", lambda: recorded(chain_fg, x100), 1, ops, few)
    tape_c, out_c = recorded(chain_fg, x100)
    row("  backward over that tape", lambda: backward(tape_c, [(out_c.node, one)], [0]), 1, ops, few)
    vg_chain = fg.value_and_grad(chain_fg)
    row("  value_and_grad(chain_fg)(x): total", lambda: vg_chain(x100), 1, ops, few)
    return 0


if __name__ == "__main__":
    sys.exit(main())
