"""funcgrad.random's blocked pure-NumPy draws (``_blocks``, ``_threefry.KeyStream``/``stream_bits``,
``_complex_fma``) against the unblocked reference (threefry's block function on all counters at
once, ``normal_from_bits`` (tests/random_reference.py) with the emulated FMAs): every bit equal, at sizes around
the block boundaries, for one key and for batches of keys under ``vmap``. The reference itself is
checked against JAX's recorded answers in test_random.py and test_random_kernels.py."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from random_reference import normal_from_bits

import funcgrad as fg
import funcgrad.random as fr
from funcgrad.random import _accel, _blocks, _complex_fma, _normal_table, _sampling, _threefry, _xla_math

SMALL_BLOCK = 64  # monkeypatched block size: many block boundaries in few draws
SIZES = [0, 1, 2, SMALL_BLOCK - 1, SMALL_BLOCK, SMALL_BLOCK + 1, 2 * SMALL_BLOCK + 3, 3001]


def _reference_words(key: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Threefry's two words for every counter of a draw of ``shape``, unblocked."""
    hi, lo = _threefry.counters(shape)
    k0, k1 = _threefry._key_words(np.asarray(key), len(shape))
    return _threefry.threefry2x32(k0, k1, hi, lo)


def _reference_bits(key: np.ndarray, width: int, shape: tuple[int, ...]) -> np.ndarray:
    y0, y1 = _reference_words(key, shape)
    if width == 64:
        return (y0.astype(np.uint64) << np.uint64(32)) | y1.astype(np.uint64)
    return (y0 ^ y1).astype(np.dtype(f"uint{width}"))


def _reference_normal(key: np.ndarray, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    d = np.dtype(dtype)
    return normal_from_bits(_reference_bits(key, d.itemsize * 8, shape), d)


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.view(f"uint{a.itemsize * 8}"), b.view(f"uint{b.itemsize * 8}"))


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(_threefry, "BLOCK", SMALL_BLOCK)
    with _accel.numpy_only():
        yield


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
def test_blocked_normal_equals_the_unblocked_reference_around_block_boundaries(small_blocks, dtype, n):
    key = np.asarray(fr.key(2**33 + 5))
    got = _sampling.normal(key, (n,), dtype)
    _same_bits(got, _reference_normal(key, (n,), dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blocked_normal_hits_every_branch(small_blocks, dtype):
    # 3001 draws over 47 blocks: both log1p branches in every block and erfinv's tail polynomials
    # (|z| > 2.7 for float32, > 3.0 for float64; float64's last one, |z| > 5.4, by a chosen counter)
    key = np.asarray(fr.key(11))
    got = _sampling.normal(key, (3001,), dtype)
    want = _reference_normal(key, (3001,), dtype)
    _same_bits(got, want)
    u = np.abs(np.asarray(_sampling.uniform(key, (3001,), dtype)) * 2 - 1)
    assert (u < 0.6).any() and (u > 0.7).any()
    assert (np.abs(got) > (2.8 if dtype == "float32" else 3.1)).sum() >= 3
    # a draw whose w = -log(1 - u²) >= 16 (float64's third polynomial): element i of normal(key(0), (i + 3,))
    index = 24820701 if dtype == "float64" else 4276093  # from test_random_kernels' JAX_TAIL
    bits = _threefry.bits_of_counters(np.asarray(fr.key(0)), np.dtype(dtype).itemsize * 8, index - 2, index + 3)
    deep = _blocks.normal_of_bits(bits.copy(), dtype)
    _same_bits(deep, normal_from_bits(bits.copy(), np.dtype(dtype)))
    assert np.abs(deep).max() > 5.4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blocked_normal_at_the_real_block_size(dtype):
    key = np.asarray(fr.key(3))
    block = _threefry.BLOCK
    with _accel.numpy_only():
        for n in (block - 1, block + 1):
            _same_bits(_sampling.normal(key, (n,), dtype), _reference_normal(key, (n,), dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, SMALL_BLOCK + 1, 3001])
def test_batched_keys_under_vmap_equal_each_key_alone(small_blocks, monkeypatch, dtype, n):
    keys = np.asarray(fr.split(fr.key(7), 3))
    want = np.stack([_reference_normal(k, (n,), dtype) for k in keys])
    for per_key_stream in (1, 10**9):  # each key's own blocked stream / all keys' bits, then blocks
        monkeypatch.setattr(_threefry, "PER_KEY_STREAM", per_key_stream)
        _same_bits(fg.vmap(lambda k: fr.normal(k, (n,), dtype))(keys), want)
        _same_bits(fg.vmap(lambda k: fr.uniform(k, (n,), dtype))(keys),
                   np.stack([_sampling._unit_floats(_reference_bits(k, np.dtype(dtype).itemsize * 8, (n,)),
                                                    np.dtype(dtype)) for k in keys]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (SMALL_BLOCK,), (5, 2 * SMALL_BLOCK + 1)])
def test_blocked_uniform_and_bits_equal_the_reference(small_blocks, dtype, shape):
    key = np.asarray(fr.key(123))
    d = np.dtype(dtype)
    _same_bits(_sampling.uniform(key, shape, d), _sampling._unit_floats(_reference_bits(key, d.itemsize * 8, shape), d))
    for width in (8, 16, 32, 64):
        np.testing.assert_array_equal(_threefry.random_bits(key, width, shape), _reference_bits(key, width, shape))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_many_keys_with_few_numbers_each_run_a_block_of_keys_at_a_time(small_blocks, dtype):
    # 7 keys x 20 numbers with blocks of 64: 3 keys per block (3 + 3 + 1), against each key alone
    keys = np.asarray(fr.split(fr.key(5), (7,)))
    for width in (8, 16, 32, 64):
        want = np.stack([_reference_bits(k, width, (4, 5)) for k in keys])
        np.testing.assert_array_equal(_threefry.random_bits(keys, width, (4, 5)), want)
    _same_bits(_sampling.normal(keys, (20,), dtype), np.stack([_reference_normal(k, (20,), dtype) for k in keys]))


@pytest.mark.parametrize("shape", [(), (1,), (SMALL_BLOCK + 1,), (3, SMALL_BLOCK)])
def test_blocked_split_equals_the_reference(small_blocks, shape):
    key = np.asarray(fr.key(42))
    y0, y1 = _reference_words(key, shape)
    np.testing.assert_array_equal(_threefry.split(key, shape), np.stack([y0, y1], axis=-1))


def test_key_stream_words_from_any_start():
    key = np.asarray(fr.key(2**40 + 9))
    stream = _threefry.KeyStream(key, 100)
    y0, y1 = _reference_words(key, (1000,))
    for start, m in [(0, 100), (1, 99), (537, 64), (900, 100)]:
        x0, x1 = np.empty(m, np.uint32), np.empty(m, np.uint32)
        stream.words(start, x0, x1)
        np.testing.assert_array_equal(x0, y0[start:start + m])
        np.testing.assert_array_equal(x1, y1[start:start + m])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unscaled_erfinv_draws_equal_the_reference(small_blocks, dtype):
    key = np.asarray(fr.key(8))
    d = np.dtype(dtype)
    got = _sampling.standard(key, (2 * SMALL_BLOCK + 1,), d, "erfinv")
    want = normal_from_bits(_reference_bits(key, d.itemsize * 8, (2 * SMALL_BLOCK + 1,)), d, scaled=False)
    _same_bits(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_without_exact_complex_fma_the_emulation_gives_the_same_bits(small_blocks, monkeypatch, dtype):
    key = np.asarray(fr.key(99))
    want = _reference_normal(key, (1001,), dtype)
    monkeypatch.setitem(_complex_fma._checked, np.dtype(dtype), False)
    assert not _blocks._Stage(np.dtype(dtype), 8).fused
    _same_bits(_sampling.normal(key, (1001,), dtype), want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_complex_fma_horner_rounds_once_per_step(dtype):
    rng = np.random.default_rng(4)
    x = rng.uniform(-4.0, 4.0, 5003).astype(dtype)
    coefficients = tuple(rng.standard_normal(9))
    want = _complex_fma._exact_horner(coefficients, x)
    plain = np.full(x.shape, np.dtype(dtype).type(coefficients[0]))
    for c in coefficients[1:]:
        plain = plain * x + np.dtype(dtype).type(c)
    assert (plain != want).mean() > 0.05  # unfused steps really differ on this data
    if not _complex_fma.available(dtype):  # then every caller uses the emulation (previous test)
        assert not _blocks._Stage(np.dtype(dtype), 8).fused
        return
    w = _complex_fma.argument_buffer(x.size, dtype)
    w.real = x
    _same_bits(_complex_fma.horner(coefficients, w, np.empty_like(w)), want)


def test_float32_log_equals_xla_log_reference():
    # Positive normal float32 numbers as log1p's far branch sees them (1 - u², in (0, 0.586]), with
    # the significands around √½ (where the reduction switches) and the exponents' edges.
    rng = np.random.default_rng(5)
    bits = rng.integers(np.float32(2.0**-24).view(np.uint32), np.float32(0.586).view(np.uint32), 200_000,
                        dtype=np.uint32)
    edges = []
    for exponent in range(-24, 0):
        for m in (0.5, 0.70710677, 0.7071068, 0.99999994):
            v = np.float32(np.ldexp(m, exponent))
            edges += [np.nextafter(v, np.float32(0)), v, np.nextafter(v, np.float32(1))]
    x = np.concatenate([bits.view(np.float32), np.array(edges, np.float32)])
    x = x[(x > 0) & (x <= np.float32(0.586))]
    if not _complex_fma.available(np.float32):  # then the stage calls _xla_math.log_f32 itself
        assert not _blocks._Stage(np.dtype(np.float32), 8).fused
        return
    got = _blocks._log_f32(x, _blocks._LogBuffers(x.size))
    _same_bits(got, _xla_math.log_f32(x))


@pytest.mark.parametrize(("key", "counter", "want"), [
    ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),  # Random123's known-answer vectors, 20 rounds
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
])
def test_threefry_known_answers_on_both_paths(key, counter, want):
    one_key = _threefry.threefry2x32(key[0], key[1], np.uint32(counter[0]), np.uint32(counter[1]))
    keys = _threefry.threefry2x32(np.full(3, key[0], np.uint32), key[1], np.uint32(counter[0]), np.uint32(counter[1]))
    assert (int(one_key[0]), int(one_key[1])) == want
    assert all((int(k0), int(k1)) == want for k0, k1 in zip(*keys))


@pytest.mark.parametrize("n", [_threefry.BLOCK - 1, _threefry.BLOCK + 1, 2 * _threefry.BLOCK + 5])
def test_threefry_one_key_blocks_equal_the_broadcast_key_path(n):
    rng = np.random.default_rng(n)
    x0, x1 = rng.integers(0, 2**32, (2, n), dtype=np.uint64).astype(np.uint32)
    k0, k1 = np.uint32(0x9E3779B9), np.uint32(0x7F4A7C15)
    blocked = _threefry.threefry2x32(k0, k1, x0, x1)  # one key: in blocks of BLOCK counters
    whole = _threefry.threefry2x32(np.full(n, k0), k1, x0, x1)  # a key per element: one pass
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[1], whole[1])


# --- the float32 normal table (_normal_table): every float32 draw, by the 23 bits it depends on -------------

# Recorded from JAX 0.10.2 (x86-64 CPU): the float32 answers of test_random.py (JAX_ANSWERS, JAX_MORE) and
# test_random_kernels.py (JAX_NORMAL, JAX_VMAP, JAX_TAIL), which that file checks only with Numba installed.
JAX_F32_NORMAL_8 = [1.1031016111373901, 0.8630622625350952, -0.3386823832988739, 1.0272457599639893,
                    -1.0735803842544556, 0.32937315106391907, 0.7582090497016907, -0.30057552456855774]
JAX_F32_NORMAL_0D = 1.622642159461975  # normal(PRNGKey(0), (), float32)
JAX_F32_LOGNORMAL = [1.735943078994751, 1.5396130084991455, 0.8442208170890808, 1.671335220336914]
JAX_F32_LARGE = {  # normal(PRNGKey(seed), (200_003,), float32): bit-pattern sum mod 2**64, bits at 5 places
    1234: (426495792151589, [1066218095, 1062620542, 1058013495, 1062609002, 3207220633]),
    2**40 + 77: (426168366655731, [3188082668, 3204695780, 1051898634, 1064314446, 3202488389]),
}
JAX_F32_VMAP = 191880024891254  # vmap(lambda k: normal(k, (30_000,), float32))(split(PRNGKey(7), 3)): bit sum
JAX_F32_TAIL = (4276093, [3208594831, 1062542125, 3232592000, 1059925536, 1047631839])  # normal(key(0), (i+3,))[i-2:]


def _bit_sum(x: np.ndarray) -> int:
    return int(np.asarray(x).view(np.uint32).astype(np.uint64).sum(dtype=np.uint64))


@pytest.fixture(scope="module")
def normal_table():
    """The real table, built once for these tests (and released after them)."""
    table = _normal_table.build()
    yield table
    _normal_table.release()


@pytest.fixture
def fresh_policy(monkeypatch, normal_table):
    """A process that has drawn nothing yet, whose table "build" hands out the table built above."""
    monkeypatch.setattr(_normal_table, "_table", None)
    monkeypatch.setattr(_normal_table, "_drawn", 0)
    monkeypatch.setattr(_normal_table, "_failed", False)
    builds = []
    monkeypatch.setattr(_normal_table, "_compute", lambda: builds.append(1) or normal_table)
    monkeypatch.delenv("FUNCGRAD_RANDOM_TABLE", raising=False)
    with _accel.numpy_only():
        yield builds


def test_the_table_equals_the_direct_path_for_every_23_bit_value(normal_table):
    assert normal_table.shape == (_normal_table.SIZE,) == (2**23,) and normal_table.dtype == np.float32
    k = np.arange(2**23, dtype=np.uint32)
    words = (k << np.uint32(9)) | np.random.default_rng(0).integers(0, 512, k.size, dtype=np.uint32)  # low bits: any
    through_table = _blocks.normal_of_bits(words, np.float32)
    with _normal_table.direct_only():
        direct = _blocks.normal_of_bits(words, np.float32)
    _same_bits(through_table, direct)
    _same_bits(normal_table, direct)
    # and the direct path against the unblocked reference, on every 61st k and both ends
    sample = np.concatenate([words[::61], words[:3], words[2**22 - 2:2**22 + 2], words[-3:]])
    _same_bits(_blocks.normal_of_bits(sample, np.float32), normal_from_bits(sample, np.dtype(np.float32)))


@pytest.mark.parametrize("seed", [1234, 2**40 + 77])
def test_table_draws_are_jax_bit_for_bit(normal_table, seed):
    total, at = JAX_F32_LARGE[seed]
    with _accel.numpy_only():  # 200_003: not a multiple of the block
        assert _normal_table.lookup(1) is normal_table
        got = np.asarray(fr.normal(fr.key(seed), (200_003,), np.float32))
        jitted = np.asarray(fg.jit(lambda k: fr.normal(k, (200_003,), np.float32))(fr.key(seed)))
    assert _bit_sum(got) == total
    np.testing.assert_array_equal(got[[0, 16383, 16384, 65536, 200_002]].view(np.uint32), at)
    _same_bits(jitted, got)


def test_small_and_batched_table_draws_are_jax_bit_for_bit(normal_table):
    with _accel.numpy_only():
        _same_bits(fr.normal(fr.key(1234), (8,), np.float32), np.array(JAX_F32_NORMAL_8, np.float32))
        _same_bits(fr.normal(fr.key(0), (), np.float32), np.array(JAX_F32_NORMAL_0D, np.float32))
        assert fr.normal(fr.key(0), (0,), np.float32).shape == (0,)
        assert fr.normal(fr.key(0), (0, 3), np.float32).shape == (0, 3)
        _same_bits(fr.lognormal(fr.key(1234), 0.5, (4,), np.float32), np.array(JAX_F32_LOGNORMAL, np.float32))
        keys = fr.split(fr.key(7), 3)
        batched = np.asarray(fg.vmap(lambda k: fr.normal(k, (30_000,), np.float32))(keys))  # per-key streams
        few = np.asarray(fg.vmap(lambda k: fr.normal(k, (5, 3), np.float32))(keys))  # normal_of_bits of all keys
        index, words = JAX_F32_TAIL
        tail = _blocks.normal_of_bits(_threefry.bits_of_counters(np.asarray(fr.key(0)), 32, index - 2, index + 3),
                                      np.float32)
    assert _bit_sum(batched) == JAX_F32_VMAP
    np.testing.assert_array_equal(tail.view(np.uint32), words)
    with _accel.numpy_only(), _normal_table.direct_only():
        _same_bits(few, fg.vmap(lambda k: fr.normal(k, (5, 3), np.float32))(keys))


@pytest.mark.parametrize("n", [1, SMALL_BLOCK - 1, SMALL_BLOCK + 1, 2 * SMALL_BLOCK + 3, 3001])
def test_table_draws_equal_the_reference_around_block_boundaries(normal_table, small_blocks, n):
    key = np.asarray(fr.key(2**33 + 5))
    _same_bits(_sampling.normal(key, (n,), np.float32), _reference_normal(key, (n,), "float32"))
    _same_bits(_sampling.normal(key, (n, 2), np.float32), _reference_normal(key, (n, 2), "float32"))


def test_the_table_is_built_once_the_process_has_drawn_enough(fresh_policy, monkeypatch):
    builds = fresh_policy
    monkeypatch.setattr(_normal_table, "BUILD_AFTER", 1000)
    key = fr.key(3)
    want = _reference_normal(np.asarray(key), (600,), "float32")
    _same_bits(fr.normal(key, (600,), np.float32), want)
    fr.normal(key, (600,), np.float64)  # float64 draws, erfinv draws and Numba's draws do not count
    _sampling.standard(np.asarray(key), (600,), np.dtype(np.float32), "erfinv")
    assert builds == [] and _normal_table.drawn() == 600 and _normal_table._table is None
    _same_bits(fr.normal(key, (600,), np.float32), want)  # 1200 >= 1000: built, and used from this draw
    assert builds == [1] and _normal_table._table is not None
    _same_bits(fr.normal(key, (600,), np.float32), want)
    assert builds == [1]  # built once
    _normal_table.release()
    assert _normal_table._table is None and _normal_table.drawn() == 0


def test_one_draw_that_large_builds_the_table_at_once_and_small_draws_never_do(fresh_policy, monkeypatch):
    builds = fresh_policy
    monkeypatch.setattr(_normal_table, "BUILD_AFTER", 5000)
    key = fr.key(4)
    for _ in range(10):
        fr.normal(key, (3, 7), np.float32)
    assert builds == [] and _normal_table.drawn() == 210
    _same_bits(fr.normal(key, (5000,), np.float32), _reference_normal(np.asarray(key), (5000,), "float32"))
    assert builds == [1]


def test_the_table_can_be_disabled(fresh_policy, monkeypatch):
    builds = fresh_policy
    monkeypatch.setattr(_normal_table, "BUILD_AFTER", 100)
    key = fr.key(5)
    want = _reference_normal(np.asarray(key), (300,), "float32")
    monkeypatch.setenv("FUNCGRAD_RANDOM_TABLE", "0")
    _same_bits(fr.normal(key, (300,), np.float32), want)
    with _normal_table.direct_only():
        _same_bits(fr.normal(key, (300,), np.float32), want)
    assert builds == [] and _normal_table.drawn() == 0  # disabled: nothing counted
    monkeypatch.delenv("FUNCGRAD_RANDOM_TABLE")
    _same_bits(fr.normal(key, (300,), np.float32), want)
    assert builds == [1]
    monkeypatch.setenv("FUNCGRAD_RANDOM_TABLE", "0")  # a built table is not used either
    assert _normal_table.lookup(10) is None
    with _normal_table.direct_only():
        assert _normal_table.lookup(10) is None
    monkeypatch.delenv("FUNCGRAD_RANDOM_TABLE")
    assert _normal_table.lookup(10) is not None


def test_a_failed_build_leaves_the_direct_path_and_is_not_retried(fresh_policy, monkeypatch):
    calls = []

    def no_memory():
        calls.append(1)
        raise MemoryError

    monkeypatch.setattr(_normal_table, "_compute", no_memory)
    monkeypatch.setattr(_normal_table, "BUILD_AFTER", 10)
    key = fr.key(6)
    want = _reference_normal(np.asarray(key), (20,), "float32")
    _same_bits(fr.normal(key, (20,), np.float32), want)
    _same_bits(fr.normal(key, (20,), np.float32), want)
    assert calls == [1] and _normal_table._table is None
    with pytest.raises(MemoryError, match="32 MiB"):
        _normal_table.build()


def test_concurrent_draws_build_the_table_once(fresh_policy, monkeypatch):
    builds = fresh_policy
    build = _normal_table._compute

    def slow_build():  # other threads draw (directly) while one builds
        time.sleep(0.05)
        return build()

    monkeypatch.setattr(_normal_table, "_compute", slow_build)
    monkeypatch.setattr(_normal_table, "BUILD_AFTER", 10)
    key = fr.key(8)
    want = _reference_normal(np.asarray(key), (50,), "float32")
    results = []

    def draw():
        with _accel.numpy_only():
            for _ in range(20):
                results.append(np.asarray(fr.normal(key, (50,), np.float32)))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == [1] and len(results) == 80
    for r in results:
        _same_bits(r, want)


@pytest.mark.parametrize("name", ["normal", "normal-jit", "normal-vmap", "generalized_normal", "multivariate_normal",
                                  "t", "maxwell", "double_sided_maxwell", "orthogonal", "ball"])
def test_draws_built_on_float32_normals_are_the_same_through_the_table(normal_table, monkeypatch, name):
    f32 = np.float32
    draw = {
        "normal": lambda k: fr.normal(k, (3, 1001), f32),
        "normal-jit": fg.jit(lambda k: fr.normal(k, (2, 3), f32)),
        "normal-vmap": lambda k: fg.vmap(lambda kk: fr.normal(kk, (7,), f32))(fr.split(k, 5)),
        "generalized_normal": lambda k: fr.generalized_normal(k, 2.0, (300,), f32),
        "multivariate_normal": lambda k: fr.multivariate_normal(k, np.array([1.0, -1.0], f32),
                                                                np.array([[2.0, 0.5], [0.5, 1.0]], f32), (50,), f32),
        "t": lambda k: fr.t(k, 3.0, (200,), f32),
        "maxwell": lambda k: fr.maxwell(k, (300,), f32),
        "double_sided_maxwell": lambda k: fr.double_sided_maxwell(k, 1.0, 2.0, (300,), f32),
        "orthogonal": lambda k: fr.orthogonal(k, 4, (3,), f32),
        "ball": lambda k: fr.ball(k, 3, 2.0, (100,), f32),
    }[name]
    key = fr.key(2024)
    with _accel.numpy_only():
        assert _normal_table.lookup(1) is normal_table
        through_table = np.asarray(draw(key))
        with _normal_table.direct_only():
            direct = np.asarray(draw(key))
        monkeypatch.setattr(_normal_table, "_table", normal_table + f32(1.0))
        shifted = np.asarray(draw(key))
    _same_bits(through_table, direct)
    assert not np.array_equal(shifted, direct)  # the draw really went through the table
