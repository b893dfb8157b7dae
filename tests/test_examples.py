"""The seed cases of issue 2 §6 (what PyTorch's ``y.backward(gradient)`` means), with exact numbers,
and the example scripts run end to end."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

ROOT = pathlib.Path(__file__).resolve().parent.parent
V2 = np.array([[1.0, 2.0], [3.0, 4.0]])


def _doubling(x):
    y = x * 2
    while fnp.linalg.norm(y) < 1000:
        y = y * 2
    return y


def _count_doublings(x):
    """k such that the loop above returns 2**k * x, counted with plain NumPy."""
    k, z = 1, np.asarray(x) * 2
    while np.linalg.norm(z) < 1000:
        z, k = z * 2, k + 1
    return k


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_while_loop_pullback_is_v_times_2_to_the_k(seed):
    x = np.random.default_rng(seed).standard_normal(3)
    v = np.array([0.1, 1.0, 0.0001])
    k = _count_doublings(x)
    y, pullback = fg.vjp(_doubling, x)
    np.testing.assert_array_equal(y, 2.0**k * x)
    (x_bar,) = pullback(v)
    assert x_bar.shape == x.shape and x_bar.dtype == np.float64
    np.testing.assert_array_equal(x_bar, v * 2.0**k)


def test_while_loop_with_a_small_input_doubles_many_times():
    x = np.array([1e-3, -2e-3, 5e-4])
    k = _count_doublings(x)
    assert k > 15
    _, pullback = fg.vjp(_doubling, x)
    v = np.array([0.1, 1.0, 0.0001])
    np.testing.assert_array_equal(pullback(v)[0], v * 2.0**k)


A_SUB = np.array([[1.0, 1.0], [2.0, 2.0]])
B_SUB = np.array([[1.0, 2.0], [1.0, 2.0]])


@pytest.mark.parametrize("cotangent", [1.0, np.array(1.0), np.float64(1.0)], ids=["float", "0d", "scalar"])
def test_sum_of_difference_pulled_back_with_one(cotangent):
    c, pullback = fg.vjp(lambda a, b: fnp.sum(a - b), A_SUB, B_SUB)
    assert c.shape == () and c == 0.0
    a_bar, b_bar = pullback(cotangent)
    np.testing.assert_array_equal(a_bar, np.ones((2, 2)))
    np.testing.assert_array_equal(b_bar, -np.ones((2, 2)))


def test_grad_is_the_pullback_seeded_with_one():
    a_bar, b_bar = fg.grad(lambda a, b: fnp.sum(a - b), argnums=(0, 1))(A_SUB, B_SUB)
    np.testing.assert_array_equal(a_bar, np.ones((2, 2)))
    np.testing.assert_array_equal(b_bar, -np.ones((2, 2)))


def test_difference_pulled_back_with_matrix():
    c, pullback = fg.vjp(lambda a, b: a - b, A_SUB, B_SUB)
    np.testing.assert_array_equal(c, A_SUB - B_SUB)
    a_bar, b_bar = pullback(V2)
    np.testing.assert_array_equal(a_bar, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(b_bar, -np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_matrix_cotangent_for_scalar_output_is_rejected():
    # Old PyTorch silently accepted this 2x2 "gradient" for the scalar sum(a - b).
    _, pullback = fg.vjp(lambda a, b: fnp.sum(a - b), A_SUB, B_SUB)
    with pytest.raises(fg.CotangentMismatchError) as info:
        pullback(V2)
    message = str(info.value)
    assert "(2, 2)" in message and "()" in message and "shape" in message
    assert isinstance(info.value, ValueError)


def test_wrong_shape_cotangent_for_matrix_output_is_rejected():
    _, pullback = fg.vjp(lambda a, b: a - b, A_SUB, B_SUB)
    with pytest.raises(fg.CotangentMismatchError, match=r"shape"):
        pullback(1.0)
    with pytest.raises(fg.CotangentMismatchError, match=r"\(4,\)"):
        pullback(np.ones(4))


A_MM = np.array([[0.0, 0.0], [2.0, 2.0]])
B_MM = np.array([[1.0, 2.0], [1.0, 2.0]])


@pytest.mark.parametrize(
    "cotangent, a_expected, b_expected",
    [
        (np.ones((2, 2)), [[3.0, 3.0], [3.0, 3.0]], [[2.0, 2.0], [2.0, 2.0]]),
        (V2, [[5.0, 5.0], [11.0, 11.0]], [[6.0, 8.0], [6.0, 8.0]]),
    ],
    ids=["ones", "1234"],
)
def test_matmul_pullback(cotangent, a_expected, b_expected):
    c, pullback = fg.vjp(lambda a, b: a @ b, A_MM, B_MM)
    np.testing.assert_array_equal(c, [[0.0, 0.0], [4.0, 8.0]])
    a_bar, b_bar = pullback(cotangent)
    np.testing.assert_array_equal(a_bar, a_expected)
    np.testing.assert_array_equal(b_bar, b_expected)


def test_matmul_pullback_called_twice_and_elementwise_grad():
    _, pullback = fg.vjp(lambda a, b: a @ b, A_MM, B_MM)
    first = pullback(V2)
    pullback(np.ones((2, 2)))
    again = pullback(V2)
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)
    a_bar, b_bar = fg.elementwise_grad(lambda a, b: a @ b, argnums=(0, 1))(A_MM, B_MM)
    np.testing.assert_array_equal(a_bar, [[3.0, 3.0], [3.0, 3.0]])
    np.testing.assert_array_equal(b_bar, [[2.0, 2.0], [2.0, 2.0]])


@pytest.mark.parametrize("script", ["quickstart.py", "backward_gradient.py"])
def test_example_script_runs(script):
    env = dict(os.environ)
    # The scripts import the installed funcgrad; make this checkout importable even if it is not.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip()
    assert "Warning" not in proc.stderr, proc.stderr


def test_readme_opens_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    commands = [line.strip() for line in lines[:10] if line.startswith("pip install")]
    assert commands == [
        "pip install -e . && python examples/quickstart.py",
        'pip install -e ".[test]" && python -m pytest',
    ]


def test_readme_snippets_are_true():
    import doctest

    result = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, verbose=False, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 20
    assert result.failed == 0, "a README example no longer matches the library; see the output above"


def test_mnist_like_example_trains_with_adam_and_dropout():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_like.py"), "--quick"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mnist_like.py failed:\n{proc.stdout}\n{proc.stderr}"
    assert "loss decreased" in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr


def test_mnist_like_dropout_masks_change_with_the_key_inside_jit():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import mnist_like
    finally:
        sys.path.remove(str(ROOT / "examples"))
    import funcgrad.random as fr

    params = mnist_like.init_params(fr.key(1), (8, 16, 3))
    x = np.ones((4, 8))
    f = fg.jit(lambda p, k: mnist_like.log_probs(p, x, k, 0.5))
    a, b = f(params, fr.key(2)), f(params, fr.key(3))
    assert not np.array_equal(a, b)  # new key, new masks, same compiled program
    np.testing.assert_array_equal(f(params, fr.key(2)), mnist_like.log_probs(params, x, fr.key(2), 0.5))
    losses, _ = mnist_like.train(sizes=(16, 16, 4), n_train=256, n_test=64, epochs=3, batch=32,
                                 learning_rate=3e-3, verbose=False)
    assert losses[-1] < losses[0]
