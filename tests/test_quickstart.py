"""examples/quickstart.py (the README's first command) shows jit, vmap, jacfwd and hessian on one
screen, and the numbers it prints are the closed forms."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _output() -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+\.\d*(?:e-?\d+)?|-?\d+(?=[,\]\s])", text)])


def test_quickstart_shows_jit_vmap_jacfwd_hessian_with_closed_form_numbers():
    lines = {line.split()[0]: line for line in _output()}
    x = np.array([0.0, 1.0, 2.0])
    fprime = np.sin(x) + x * np.cos(x)
    assert {"vjp", "grad", "jit", "vmap", "jacfwd"} <= set(lines)
    np.testing.assert_allclose(_numbers(lines["jit"].split("=")[1].split("<-")[0])[-3:], fprime, atol=1e-4)
    rows = _numbers(lines["vmap"].split("=")[1])
    ones = np.ones(3)
    np.testing.assert_allclose(rows, np.concatenate([fprime, np.sin(ones) + np.cos(ones)]), atol=1e-4)
    jac, hess = lines["jacfwd"].split("hessian diag =")
    np.testing.assert_allclose(_numbers(jac.split("=")[1])[-3:], fprime, atol=1e-4)
    np.testing.assert_allclose(_numbers(hess.split("<-")[0]), 2 * np.cos(x) - x * np.sin(x), atol=1e-4)
