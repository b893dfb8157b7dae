"""Import time: CPU time of ``import funcgrad, funcgrad.numpy`` above ``import numpy``, as a multiple
of NumPy's own import time (issue 12 §5; target ≤ 0.5×).

Each sample is a fresh interpreter that measures, with ``time.process_time``, first ``import numpy``
and then ``import funcgrad, funcgrad.numpy``; the figures are medians over the samples (at least 10)
of NumPy's time, funcgrad's time above it, and their ratio per process. Two settings:

* ``bytecode`` (the row held against the target): compiled modules come from a bytecode cache, as
  for an installed package. The cache lives outside the source tree (``PYTHONPYCACHEPREFIX``) and
  one warm-up run fills it, for NumPy and funcgrad alike.
* ``source``: funcgrad's modules are compiled from source at every import — a copy of the package
  without ``__pycache__``, under ``PYTHONDONTWRITEBYTECODE=1`` — while NumPy loads its installed
  bytecode. This is what a development checkout costs where ``PYTHONDONTWRITEBYTECODE`` is set.

Both import the funcgrad of this checkout (``PYTHONPATH``), whatever is installed.

    python benchmarks/bench_import.py [--repeats N] [--modules]

``--modules`` also lists the funcgrad modules the import loads.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = 0.5

PROBE = (
    "import time; c0 = time.process_time(); import numpy; c1 = time.process_time(); "
    "import funcgrad, funcgrad.numpy; c2 = time.process_time(); print(c1 - c0, c2 - c1)"
)


def _env(package_parent: pathlib.Path, bytecode: bool, cache: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONPROFILEIMPORTTIME"):
        env.pop(var, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(package_parent), os.environ.get("PYTHONPATH")) if p)
    if bytecode:
        assert cache is not None
        env["PYTHONPYCACHEPREFIX"] = cache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _samples(env: dict[str, str], repeats: int, cwd: str) -> tuple[float, float, float]:
    numpy_s, funcgrad_s, ratios = [], [], []
    cmd = [sys.executable, "-c", PROBE]
    subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=cwd)  # warm-up (fills caches)
    for _ in range(repeats):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=cwd)
        a, b = map(float, out.stdout.split())
        numpy_s.append(a)
        funcgrad_s.append(b)
        ratios.append(b / a)
    return statistics.median(numpy_s), statistics.median(funcgrad_s), statistics.median(ratios)


def import_ratio(repeats: int = 15, bytecode: bool = True) -> tuple[float, float, float]:
    """Median CPU seconds of ``import numpy``, of ``import funcgrad, funcgrad.numpy`` above it, and the
    median ratio of the two, over ``repeats`` fresh interpreters (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="funcgrad_bench_import_") as tmp:
        if bytecode:
            env = _env(ROOT, True, os.path.join(tempfile.gettempdir(), "funcgrad_bench_pycache"))
        else:  # a copy of the package without compiled files, so that every import compiles it
            shutil.copytree(ROOT / "funcgrad", pathlib.Path(tmp) / "funcgrad",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            env = _env(pathlib.Path(tmp), False, None)
        return _samples(env, repeats, cwd=tmp)


def loaded_modules() -> list[str]:
    """The funcgrad modules ``import funcgrad, funcgrad.numpy`` loads."""
    code = ("import sys, funcgrad, funcgrad.numpy; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'funcgrad')))")
    env = _env(ROOT, False, None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                          cwd=tempfile.gettempdir()).stdout.split()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="fresh interpreters per setting (at least 10)")
    parser.add_argument("--modules", action="store_true", help="list the funcgrad modules the import loads")
    args = parser.parse_args(argv)
    repeats = max(args.repeats, 10)
    print(f"median over {repeats} fresh interpreters; CPU time (time.process_time); target <= {TARGET}x")
    print(f"{'setting':<10} {'import numpy':>13} {'funcgrad above':>15} {'ratio':>7}  met")
    for name, bytecode in (("bytecode", True), ("source", False)):
        t_np, t_fg, ratio = import_ratio(repeats, bytecode)
        verdict = ("met" if ratio <= TARGET else "NOT met") if bytecode else "(informational)"
        print(f"{name:<10} {t_np * 1e3:>10.1f} ms {t_fg * 1e3:>12.1f} ms {ratio:>6.2f}x  {verdict}", flush=True)
    if args.modules:
        mods = loaded_modules()
        print(f"\n{len(mods)} funcgrad modules loaded: {' '.join(mods)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
