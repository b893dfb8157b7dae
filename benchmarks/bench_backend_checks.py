"""What the Dask/CuPy support costs the NumPy eager path: bench_table's eager rows with funcgrad's
foreign-array checks as they are, against the same calls with every check bypassed.

funcgrad recognises arrays of other libraries (``funcgrad._backend``: ``is_foreign_array``,
``zeros_like_shape``, ``as_array``, ...) on the eager path: leaves, cotangents, zero cotangents,
broadcasts, loop results. "bypassed" replaces each of those helpers, in every module that
imported it, by its NumPy-only equivalent (``is_foreign_array`` -> False, ``zeros_like_shape`` ->
``np.zeros``, ...), which is what the code did before the support existed. Samples of the two
alternate in one process; the table reports median CPU time per call (``time.process_time``:
steadier than wall time on a shared machine), the median ratio checks/bypassed (1.00 = no cost),
and how many helper calls one call makes (the checks run per call and per array made, not per
operation).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_backend_checks.py [--quick]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread, as bench_table
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
from bench_table import speed_rows  # noqa: E402

import funcgrad as fg  # noqa: E402, F401
from funcgrad import _backend  # noqa: E402

EAGER_ROWS = ("tiny", "seed-vjp", "chain-10k", "MLP-small", "HVP", "tanh-tape")


def _numpy_only() -> dict[str, Callable[..., Any]]:
    """The NumPy-only stand-ins for the foreign-array helpers."""
    return {
        "is_foreign_array": lambda x: False,
        "zeros_like_shape": lambda ref, shape, dtype: np.zeros(shape, dtype),
        "ones_like_shape": lambda ref, shape, dtype: np.ones(shape, dtype),
        "as_array": np.asarray,
        "foreign_of": lambda values: None,
        "fresh_copies": lambda values: [np.array(c) for c in values],
        "numpy_constant_like": lambda value, ref: value,
        "program_is_foreign": lambda values: False,
    }


class Bypass:
    """Swap the helpers in every funcgrad module holding them (and in ``_backend`` itself, for
    imports made inside functions) for their NumPy-only stand-ins, and back."""

    def __init__(self) -> None:
        stand_ins = _numpy_only()
        self.swaps: list[tuple[dict, str, Any, Any]] = []
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "funcgrad" or name.startswith("funcgrad.")):
                continue
            scope = vars(module)
            for helper, stand_in in stand_ins.items():
                if scope.get(helper) is getattr(_backend, helper):
                    self.swaps.append((scope, helper, scope[helper], stand_in))
        if not self.swaps:
            raise RuntimeError("no foreign-array helper found to bypass")

    def __enter__(self) -> None:
        for scope, helper, _, stand_in in self.swaps:
            scope[helper] = stand_in

    def __exit__(self, *exc: Any) -> None:
        for scope, helper, original, _ in self.swaps:
            scope[helper] = original


def helper_calls(call: Callable[[], Any], bypass: Bypass) -> int:
    """How many times one call runs a foreign-array helper (each costs well under a microsecond)."""
    count = [0]

    def counting(f: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return f(*args, **kwargs)
        return counted

    for scope, helper, original, _ in bypass.swaps:
        scope[helper] = counting(original)
    try:
        call()
    finally:
        for scope, helper, original, _ in bypass.swaps:
            scope[helper] = original
    return count[0]


def measure(call: Callable[[], Any], bypass: Bypass, samples: int, number: int) -> dict[str, float]:
    call()
    with bypass:
        call()
    on, off, ratio = [], [], []
    for k in range(samples):
        times = {}
        for mode in (("on", "off") if k % 2 == 0 else ("off", "on")):
            if mode == "off":
                bypass.__enter__()
            try:
                c0 = time.process_time()
                for _ in range(number):
                    call()
                times[mode] = (time.process_time() - c0) / number
            finally:
                if mode == "off":
                    bypass.__exit__()
        on.append(times["on"])
        off.append(times["off"])
        if times["off"] > 0:
            ratio.append(times["on"] / times["off"])
    return {"on": statistics.median(on), "off": statistics.median(off), "ratio": statistics.median(ratio)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = [r for r in speed_rows(np.random.default_rng(0)) if r["name"] in EAGER_ROWS]
    bypass = Bypass()
    print(f"{len(bypass.swaps)} helper references bypassed; medians of CPU time per call")
    print(f"{'row':<11} {'what':<42} {'checks':>11} {'bypassed':>11} {'ratio':>6} {'helper calls':>12}")
    for r in rows:
        k = 1 if args.quick else 0
        m = measure(r["fg"], bypass, r["samples"][k], r["number"][k])
        print(f"{r['name']:<11} {r['what'][:42]:<42} {m['on'] * 1e6:>9.1f}us {m['off'] * 1e6:>9.1f}us "
              f"{m['ratio']:>6.3f} {helper_calls(r['fg'], bypass):>12}")


if __name__ == "__main__":
    main()
