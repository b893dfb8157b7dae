"""The issue-4 example scripts run end to end (each asserts its own results) and exit 0."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script,expect", [
    ("per_example_grads.py", "matches a Python loop of grad"),
    ("newton.py", "both converged to the minimum"),
])
def test_transform_example_runs(script, expect):
    env = dict(os.environ)
    # The scripts import the installed funcgrad; make this checkout importable even if it is not.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    assert expect in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr
