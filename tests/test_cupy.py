"""funcgrad's transformations on CuPy arrays (GPU). Run where CuPy imports and a GPU is present;
skipped with that reason otherwise. The same rules are checked on CPU in tests/test_backends.py
(a CuPy-like array that fails on any conversion to NumPy), so a CuPy bug cannot hide here."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree_util import tree_leaves


def _gpu_reason() -> str | None:
    try:
        import cupy
    except Exception as e:  # ImportError, or a CUDA library missing at import
        return f"cupy does not import ({type(e).__name__}: {e})"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "cupy imports but no GPU is present"
    except Exception as e:
        return f"cupy imports but no GPU is present ({type(e).__name__})"
    return None


_REASON = _gpu_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def loss(w, x, y):
    return fnp.mean(fnp.logaddexp(0.0, -y * (x @ w))) + 0.1 * fnp.sum(w ** 2)


def test_grad_jit_and_vmap_stay_on_the_gpu():
    import cupy as cp

    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((32, 4)), np.sign(rng.standard_normal(32)), rng.standard_normal(4)
    cX, cy, cw = cp.asarray(X), cp.asarray(y), cp.asarray(w)
    for transform in (fg.grad(loss), fg.jit(fg.grad(loss)), fg.grad(fg.jit(loss))):
        g = transform(cw, cX, cy)
        assert isinstance(g, cp.ndarray)
        np.testing.assert_allclose(g.get(), transform(w, X, y), rtol=1e-12, atol=1e-12)
    rows = fg.vmap(fg.grad(lambda r: fnp.sum(fnp.sin(r) * cw)))(cX)
    assert isinstance(rows, cp.ndarray)
    np.testing.assert_allclose(rows.get(), np.cos(X) * w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transform", ["grad", "jvp", "vmap_grad", "jit_grad", "grad_jit", "jit_vmap_grad"])
@pytest.mark.parametrize("name", ["scan", "while_loop", "while_loop_sqrt", "fori_loop_counter", "cond", "switch",
                                  "custom_vjp_in_scan", "checkpoint_in_loop"])
def test_loops_and_branches_stay_on_the_gpu(name, transform):
    # the same table as tests/test_backends.py, with cupy arrays
    import cupy as cp
    from test_backends import LOOP_FUNCTIONS, LOOP_TRANSFORMS, V0, XS

    f, t = LOOP_FUNCTIONS[name], LOOP_TRANSFORMS[transform]
    got = t(f, cp.asarray(V0), cp.asarray(XS), cp.asarray)
    want = t(f, V0, XS, np.asarray)
    got_leaves, want_leaves = tree_leaves(got), tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert isinstance(g, cp.ndarray), f"{name}/{transform}: a {type(g).__name__} came back"
        np.testing.assert_allclose(g.get(), w, rtol=1e-12, atol=1e-12)
