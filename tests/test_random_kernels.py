"""funcgrad.random's Numba kernels (large threefry draws) against the NumPy code and against
known answers recorded from JAX 0.10.2 (x86-64 CPU, jax_enable_x64); JAX is not imported here.

Sums of bit patterns are taken modulo 2**64 (NumPy's uint64 sum wraps), so one number checks
every element of a large draw."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from random_reference import normal_from_bits

import funcgrad as fg
import funcgrad.random as fr
from funcgrad.random import _accel, _sampling, _threefry

numba = pytest.importorskip("numba")  # the optional extra funcgrad[numba]; CI's test extra installs it
from funcgrad.random import _numba_normal  # noqa: E402 (needs Numba)

N = 200_003  # above _accel.MIN_SIZE and several kernel blocks, not a multiple of either


def _word_sum(x: np.ndarray) -> int:
    words = x.view(np.uint32 if x.dtype.itemsize == 4 else np.uint64).astype(np.uint64)
    return int(words.sum(dtype=np.uint64))


# jax.random.normal(PRNGKey(seed), (N,), dtype): sum of the bit patterns, and the bits at 0, 16383,
# 16384, 65536 and N - 1
JAX_NORMAL = {
    ("float32", 1234): (426495792151589, [1066218095, 1062620542, 1058013495, 1062609002, 3207220633]),
    ("float32", 2**40 + 77): (426168366655731, [3188082668, 3204695780, 1051898634, 1064314446, 3202488389]),
    ("float64", 1234): (16191398155019113167, [13826412929620354278, 13832931798317440361, 4608247812290354169,
                                               13831414874272391424, 4605927580660632245]),
    ("float64", 2**40 + 77): (15566118409059317557, [13828043839289970129, 13822656382238054578,
                                                     13818503723501310638, 4603933060501049025,
                                                     13831521383912503818]),
}
JAX_UNIFORM = {"float32": 210558189726038, "float64": 15785731924346474468}  # uniform(PRNGKey(1234), (N,), dt)
JAX_BITS = {"uint32": 429179434120078, "uint64": 15865815664460784598}  # bits(PRNGKey(1234), (N,), dt)
# vmap(lambda k: normal(k, (30_000,), dt))(split(PRNGKey(7), 3))
JAX_VMAP = {"float32": 191880024891254, "float64": 11265509244049934379}
# normal(PRNGKey(0), (i + 3,), dt)[i - 2:]: draws whose |z| > 5.4 lie in the tail polynomials (for float64,
# w = -log(1 - u²) >= 16: the last of the three)
JAX_TAIL = {
    "float64": (24820701, [4605797858782204387, 4600626355360480844, 4618174845287594077, 13809738359021524432,
                           4603121851451694176]),
    "float32": (4276093, [3208594831, 1062542125, 3232592000, 1059925536, 1047631839]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [1234, 2**40 + 77])
def test_large_normal_draws_are_jax_bit_for_bit_in_both_paths(dtype, seed):
    total, at = JAX_NORMAL[(dtype, seed)]
    fast = fr.normal(fr.key(seed), (N,), dtype)
    with _accel.numpy_only():
        slow = fr.normal(fr.key(seed), (N,), dtype)
    for got in (fast, slow):
        assert got.dtype == np.dtype(dtype) and got.shape == (N,)
        assert _word_sum(got) == total
        np.testing.assert_array_equal(got[[0, 16383, 16384, 65536, N - 1]].view(f"uint{got.itemsize * 8}"), at)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_uniform_and_bits_are_jax_bit_for_bit_in_both_paths(dtype):
    utype = "uint32" if dtype == "float32" else "uint64"
    for numpy_only in (False, True):
        with _accel.numpy_only() if numpy_only else contextlib.nullcontext():
            assert _word_sum(fr.uniform(fr.key(1234), (N,), dtype)) == JAX_UNIFORM[dtype]
            assert _word_sum(fr.bits(fr.key(1234), (N,), utype)) == JAX_BITS[utype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vmapped_large_draws_are_jax_bit_for_bit(dtype):
    keys = fr.split(fr.key(7), 3)
    got = fg.vmap(lambda k: fr.normal(k, (30_000,), dtype))(keys)
    assert got.shape == (3, 30_000)
    assert _word_sum(np.asarray(got)) == JAX_VMAP[dtype]
    jitted = fg.jit(lambda k: fr.normal(k, (30_000,), dtype))
    np.testing.assert_array_equal(jitted(keys[1]), got[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tail_polynomials_are_jax_bit_for_bit_in_both_paths(dtype):
    index, words = JAX_TAIL[dtype]
    d = np.dtype(dtype)
    key = np.asarray(fr.key(0))
    fast = np.empty((1, 5), d)
    kernel = _numba_normal.normal64 if d == np.float64 else _numba_normal.normal32
    kernel(key.reshape(1, 2), np.uint64(index - 2), fast)
    slow = normal_from_bits(_threefry.bits_of_counters(key, d.itemsize * 8, index - 2, index + 3), d)
    utype = f"uint{d.itemsize * 8}"
    np.testing.assert_array_equal(fast[0].view(utype), words)
    np.testing.assert_array_equal(slow.view(utype), words)
    assert np.abs(fast).max() > 5.4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lead", [(), (2,), (2, 2)])
def test_numba_and_numpy_paths_give_identical_bits(dtype, lead):
    # Many draws (every branch of log1p and of erfinv: |z| up to ~5), one key or a batch of keys.
    n = 3 * 2**16 + 5 if not lead else 20_001
    keys = fr.split(fr.key(2**40 + 77), lead) if lead else fr.key(2**40 + 77)
    assert _accel.kernels(n * int(np.prod(lead))) is not None
    fast = np.asarray(_sampling.normal(np.asarray(keys), (n,), dtype))
    with _accel.numpy_only():
        assert _accel.kernels(n) is None
        slow = np.asarray(_sampling.normal(np.asarray(keys), (n,), dtype))
    assert fast.shape == slow.shape == lead + (n,)
    utype = f"uint{np.dtype(dtype).itemsize * 8}"
    np.testing.assert_array_equal(fast.view(utype), slow.view(utype))


@pytest.mark.parametrize("width", [32, 64])
def test_bits_kernels_cross_the_high_counter_word(width):
    # Counters 2**32 - 3 .. 2**32 + 2: the kernels carry into the high word as the block function does.
    key = np.asarray(fr.key(99))
    start = 2**32 - 3
    out = np.empty((1, 6), np.uint32 if width == 32 else np.uint64)
    (_numba_normal.bits32 if width == 32 else _numba_normal.bits64)(key.reshape(1, 2), np.uint64(start), out)
    flat = np.arange(start, start + 6, dtype=np.uint64)
    y0, y1 = _threefry.threefry2x32(key[0], key[1], (flat >> np.uint64(32)).astype(np.uint32),
                                    flat.astype(np.uint32))
    want = y0 ^ y1 if width == 32 else _threefry._join64(y0, y1)
    np.testing.assert_array_equal(out[0], want)


def test_small_draws_and_the_switch_use_numpy(monkeypatch):
    assert _accel.kernels(_accel.MIN_SIZE - 1) is None
    assert _accel.kernels(_accel.MIN_SIZE) is not None
    monkeypatch.setenv("FUNCGRAD_RANDOM_NUMBA", "0")
    assert _accel.kernels(10**6) is None


def test_a_failing_kernel_falls_back_to_numpy_with_one_warning(monkeypatch):
    class Broken:
        def __getattr__(self, name: str) -> object:
            def kernel(*args: object) -> None:
                raise RuntimeError("no compiler today")
            return kernel

    want = np.asarray(fr.normal(fr.key(3), (_accel.MIN_SIZE,)))
    monkeypatch.setattr(_accel, "_module", Broken())
    with pytest.warns(RuntimeWarning, match="normal64 failed.*using NumPy"):
        got = fr.normal(fr.key(3), (_accel.MIN_SIZE,))
    np.testing.assert_array_equal(got, want)
    assert _accel.kernels(10**6) is None  # remembered: no second attempt, no second warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fr.normal(fr.key(3), (_accel.MIN_SIZE,)), want)


def test_without_numba_the_numpy_path_is_used(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numba" else real(name, *a))
    monkeypatch.setattr(_accel, "_module", None)
    assert _accel.kernels(10**6) is None
    np.testing.assert_array_equal(fr.normal(fr.key(5), (20_000,))[:3], fr.normal(fr.key(5), (3,)))


def test_the_c_library_log_path_gives_the_same_bits(monkeypatch):
    # Where NumPy has its own AVX-512 float64 log, _xla_math uses the C library's (XLA's); forced
    # here, it must give the recorded JAX numbers and the Numba kernel's bits.
    from funcgrad.random import _xla_math

    monkeypatch.setattr(_xla_math, "_NUMPY_OWN_LOG", True)
    with _accel.numpy_only():
        slow = np.asarray(fr.normal(fr.key(1234), (N,), np.float64))
    assert _word_sum(slow) == JAX_NORMAL[("float64", 1234)][0]
    np.testing.assert_array_equal(slow, fr.normal(fr.key(1234), (N,), np.float64))
    x = np.array([0.0, -1.0, np.inf, np.nan, 1e-300, 2.5])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_xla_math.log(x), np.log(x))
    assert _xla_math.log(np.array(2.0)).shape == ()
