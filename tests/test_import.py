"""Issue 12 §5: ``import funcgrad, funcgrad.numpy`` loads only the core; the heavy modules load on first use.

Structural checks in fresh interpreters (no timings): which modules ``sys.modules`` holds after the
import, and that the first use of a lazily loaded name (attribute access, ``from ... import``,
NumPy's own functions dispatching on traced values, a primitive inside ``jit``/``vmap``, unpickling)
loads its module and works. The import time itself is measured by ``benchmarks/bench_import.py``.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Modules that `import funcgrad, funcgrad.numpy` must not load (each has a lazy entry point).
HEAVY = (
    "funcgrad.numpy.linalg", "funcgrad.numpy._linalg", "funcgrad.numpy.linalg_extra", "funcgrad.prims.decompositions",
    "funcgrad.numpy.fft", "funcgrad.numpy._fft", "funcgrad.prims.fft", "funcgrad.numpy.random",
    "funcgrad.lax", "funcgrad._lax", "funcgrad._lax.arrays", "funcgrad.control", "funcgrad.prims.windows",
    "funcgrad.scipy", "funcgrad.scipy.special", "funcgrad.scipy.stats", "funcgrad.scipy._special_prims",
    "funcgrad.random", "funcgrad.prims.random", "funcgrad.nn", "funcgrad.example_libraries", "funcgrad.compat",
    "funcgrad.optimizers", "funcgrad.checkpoint_policies", "funcgrad._devices", "funcgrad._jax_api",
    "funcgrad.flatten_util", "funcgrad.custom", "scipy", "dask", "numba",
)


def run(code: str) -> str:
    """Run ``code`` in a fresh interpreter that imports this checkout's funcgrad; its stdout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_loads_none_of_the_heavy_modules():
    out = run(f"""
        import json, sys
        import funcgrad, funcgrad.numpy
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    assert json.loads(out) == []


def test_the_heavy_list_names_real_modules():
    """Each funcgrad entry of HEAVY exists (a renamed module would make the check above vacuous)."""
    out = run(f"""
        import importlib, json
        names = [m for m in {HEAVY!r} if m.startswith("funcgrad")]
        for m in names:
            importlib.import_module(m)
        print(json.dumps(len(names)))
    """)
    assert json.loads(out) == sum(m.startswith("funcgrad") for m in HEAVY)


@pytest.mark.parametrize("use, loads", [
    ("fnp.linalg.det(np.eye(2))", "funcgrad.prims.decompositions"),
    ("fnp.fft.fft(np.ones(4))", "funcgrad.prims.fft"),
    ("fg.lax.scan(lambda c, x: (c + x, c), 0.0, np.ones(3))", "funcgrad.control"),
    ("fg.scipy.special.gammaln(np.array(3.0))", "funcgrad.scipy._special_prims"),
    ("fg.random.normal(fg.random.PRNGKey(0), (2,))", "funcgrad.prims.random"),
    ("fg.checkpoint_policies.dots_saveable", "funcgrad.checkpoint_policies"),
    ("fg.custom_vjp(lambda x: x)", "funcgrad.custom"),
])
def test_first_use_loads_the_module(use, loads):
    out = run(f"""
        import json, sys
        import numpy as np
        import funcgrad as fg, funcgrad.numpy as fnp
        before = {loads!r} in sys.modules
        {use}
        print(json.dumps([before, {loads!r} in sys.modules]))
    """)
    assert json.loads(out) == [False, True]


def test_numpy_dispatch_finds_functions_of_modules_not_yet_imported():
    """np.linalg.* and np.fft.* on traced values reach funcgrad's versions before anything imported them."""
    out = run("""
        import json, sys
        import numpy as np
        import funcgrad as fg
        a = np.array([[3.0, 1.0], [1.0, 2.0]])
        b = np.array([1.0, -1.0])
        g = fg.grad(lambda a: np.linalg.solve(a, b).sum())(a)
        x = np.linalg.solve(a, b)
        want = -np.outer(np.linalg.solve(a.T, np.ones(2)), x)
        loaded = "funcgrad.numpy.linalg" in sys.modules
        f = fg.jit(lambda x: np.fft.rfft(x).real.sum())
        gf = fg.grad(f)(np.arange(4.0))
        print(json.dumps([loaded, float(abs(g - want).max()), gf.tolist()]))
    """)
    loaded, err, gf = json.loads(out)
    assert loaded and err < 1e-12
    # d/dx_j of sum_k Re(rfft(x)_k) = sum_{k=0..2} cos(2 pi k j / 4)
    want = [sum(math.cos(2 * math.pi * k * j / 4) for k in range(3)) for j in range(4)]
    assert gf == pytest.approx(want, abs=1e-12)


def test_lazy_primitives_keep_their_rules_under_jit_vmap_and_grad():
    """A primitive from a lazily loaded family, met first inside jit∘vmap∘grad, has every rule."""
    out = run("""
        import json
        import numpy as np
        import funcgrad as fg
        f = lambda a: np.linalg.slogdet(a)[1]       # log|det a|; its gradient is inv(a).T
        a = np.array([[[2.0, 0.5], [0.1, 1.0]], [[1.0, 0.2], [0.3, 3.0]]])
        got = fg.jit(fg.vmap(fg.grad(f)))(a)
        want = np.linalg.inv(a).transpose(0, 2, 1)
        print(json.dumps(float(abs(got - want).max())))
    """)
    assert json.loads(out) < 1e-12


def test_import_forms_and_dir_list_the_lazy_names():
    out = run("""
        import json
        import funcgrad, funcgrad.numpy as fnp
        lazy_in_dir = [all(n in dir(funcgrad) for n in ("lax", "scipy", "random", "nn", "device_put", "custom_vjp")),
                       all(n in dir(fnp) for n in ("linalg", "fft", "random")),
                       all(n in dir(funcgrad.scipy) for n in ("linalg", "signal", "integrate", "optimize"))]
        from funcgrad.numpy.linalg import solve
        import funcgrad.scipy.stats.norm as norm
        from funcgrad.lax import scan
        import funcgrad.numpy.fft as fft
        print(json.dumps(lazy_in_dir + [solve is fnp.linalg.solve, scan is funcgrad.lax.scan,
                                        abs(float(norm.logpdf(0.0)) + 0.9189385332046727) < 1e-15,
                                        fft.fft is fnp.fft.fft]))
    """)
    assert json.loads(out) == [True] * 7


def test_a_pickled_jitted_function_of_a_lazy_module_loads_in_a_fresh_process():
    blob = run("""
        import pickle, sys
        import funcgrad as fg, funcgrad.numpy as fnp
        sys.stdout.write(pickle.dumps(fg.jit(fnp.linalg.det)).hex())
    """)
    out = run(f"""
        import json, pickle, sys
        import numpy as np
        f = pickle.loads(bytes.fromhex({blob.strip()!r}))
        print(json.dumps(float(f(np.array([[2.0, 1.0], [1.0, 3.0]])))))
    """)
    assert json.loads(out) == pytest.approx(5.0, rel=1e-14)


def test_unknown_names_still_raise_attribute_errors():
    import funcgrad
    import funcgrad.numpy as fnp

    with pytest.raises(AttributeError, match="no attribute 'not_a_module'"):
        funcgrad.not_a_module  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'not_a_module'"):
        fnp.not_a_module  # noqa: B018
