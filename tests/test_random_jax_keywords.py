"""funcgrad.random's JAX keywords: ``mode=`` of bernoulli, gumbel (also JAX's "highest"), categorical and choice,
``categorical(replace=False)``, and ``t`` whose default shape is ``df``'s. Known answers were
recorded from JAX 0.10.2 (``jax_enable_x64``, key ``jax.random.PRNGKey(11)``); JAX is not imported
here. Each answer is checked bit for bit in eager mode and under ``funcgrad.jit``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.random as fr

K = fr.key(11)
DTYPES = {"32": np.float32, "64": np.float64}

LOGITS = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]]
CHOICE_P = [0.1, 0.2, 0.3, 0.15, 0.25]
# p just above the first uniform each element draws (nextafter): mode="low" always says True,
# mode="high" says True only when the second uniform scaled by 2**-nmant lies below the gap
BERNOULLI_EDGE_P = {
    "32": [0.20978273451328278, 0.018746258690953255, 0.7274388670921326, 0.3450886309146881,
           0.6098368763923645, 0.31083765625953674, 0.020508291199803352, 0.8297203183174133],
    "64": [0.4524677782959568, 0.9192122663222263, 0.8074188484938901, 0.7604866134015288,
           0.9811148690998411, 0.14387868657220151, 0.08657790675662348, 0.5758188474637803],
}


def _cases(m: str) -> dict[str, Callable[[Any], Any]]:
    dt = DTYPES[m]
    logits = np.log(np.array(LOGITS, dt))
    edge = np.array(BERNOULLI_EDGE_P[m], dt)
    return {
        "gumbel_high": lambda k: fr.gumbel(k, (6,), dt, mode="high"),
        "gumbel_low": lambda k: fr.gumbel(k, (6,), dt, mode="low"),
        "gumbel_none": lambda k: fr.gumbel(k, (6,), dt, mode=None),
        "gumbel_highest": lambda k: fr.gumbel(k, (6,), dt, mode="highest"),
        "bernoulli_edge_high": lambda k: fr.bernoulli(k, edge, mode="high"),
        "bernoulli_edge_low": lambda k: fr.bernoulli(k, edge, mode="low"),
        "categorical_high": lambda k: fr.categorical(k, logits, shape=(2, 3), mode="high"),
        "categorical_norep": lambda k: fr.categorical(k, logits, shape=(4, 3), replace=False),
        "categorical_norep_high_axis0": lambda k: fr.categorical(k, logits, axis=0, shape=(2, 4), replace=False,
                                                                 mode="high"),
        "choice_high": lambda k: fr.choice(k, 5, (3,), replace=False, p=np.array(CHOICE_P, dt), mode="high"),
        "t_df_array": lambda k: fr.t(k, np.array([1.0, 2.0, 3.0], dt), dtype=dt),
        "t_df_shape": lambda k: fr.t(k, np.array([1.5, 4.0], dt), (2, 2), dtype=dt),
    }


JAX_ANSWERS: dict[str, dict[str, list]] = {
    "32": {
        "gumbel_high": [1.446268081665039, 3.967308759689331, -0.2622813284397125, 0.8597792387008667,
                        0.06060998886823654, 0.9881131649017334],
        "gumbel_low": [-0.44576406478881836, -1.3804676532745361, 1.1449953317642212, -0.06199226528406143,
                       0.7040789723396301, -0.15570767223834991],
        "gumbel_none": [-0.44576406478881836, -1.3804676532745361, 1.1449953317642212, -0.06199226528406143,
                        0.7040789723396301, -0.15570767223834991],
        "gumbel_highest": [1.4462674856185913, 3.9673094749450684, -0.262281596660614, 0.8597795963287354,
                           0.060609735548496246, 0.9881134033203125],
        "bernoulli_edge_high": [False] * 8,
        "bernoulli_edge_low": [True] * 8,
        "categorical_high": [[1, 2, 0], [2, 1, 0]],
        "categorical_norep": [[2, 3, 1], [3, 0, 0], [0, 1, 2], [1, 2, 3]],
        "categorical_norep_high_axis0": [[2, 0, 1, 0], [0, 1, 0, 1]],
        "choice_high": [1, 0, 3],
        "t_df_array": [-0.26200738549232483, -1.0475422143936157, 1.7857065200805664],
        "t_df_shape": [[-0.2802076041698456, -0.7984654307365417], [2.6351113319396973, -0.6593762040138245]],
    },
    "64": {
        "gumbel_high": [0.5069432257098031, -0.9226425705266534, -0.49909973211795194, -0.35707704191419143,
                        -1.3786100098248522, 1.8621184703812288],
        "gumbel_low": [0.23188322302481065, 2.474106684249262, 1.5421871688398416, 1.295369163850534,
                       3.9598626710893132, -0.662061379296017],
        "gumbel_none": [0.23188322302481065, 2.474106684249262, 1.5421871688398416, 1.295369163850534,
                        3.9598626710893132, -0.662061379296017],
        # float64's "highest" is its "high" in JAX
        "gumbel_highest": [0.5069432257098031, -0.9226425705266534, -0.49909973211795194, -0.35707704191419143,
                           -1.3786100098248522, 1.8621184703812288],
        "bernoulli_edge_high": [False, True, False, True, True, True, False, False],
        "bernoulli_edge_low": [True] * 8,
        "categorical_high": [[3, 2, 1], [1, 0, 0]],
        "categorical_norep": [[1, 0, 0], [3, 3, 2], [2, 1, 3], [0, 2, 1]],
        "categorical_norep_high_axis0": [[2, 2, 1, 2], [0, 1, 0, 1]],
        "choice_high": [2, 0, 3],
        "t_df_array": [2.5723609814768267, 0.10369892188882623, 0.2590657487752184],
        "t_df_shape": [[2.3100438682775004, 0.0952773297517655], [0.2064530580236853, 0.16442438244715624]],
    },
}

# JAX's dtypes: draws in the requested float dtype, booleans, top-k indices int32, argmax int64
ANSWER_DTYPES = {"bernoulli_edge_high": np.bool_, "bernoulli_edge_low": np.bool_, "categorical_high": np.int64,
                 "categorical_norep": np.int32, "categorical_norep_high_axis0": np.int32, "choice_high": np.int64}

CASES = [(m, name) for m in DTYPES for name in JAX_ANSWERS[m]]


def _expected(m: str, name: str) -> np.ndarray:
    return np.array(JAX_ANSWERS[m][name], ANSWER_DTYPES.get(name, DTYPES[m]))


def _assert_bits(got: Any, want: np.ndarray) -> None:
    got = np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("m,name", CASES)
def test_jax_answers_eager(m: str, name: str) -> None:
    _assert_bits(_cases(m)[name](K), _expected(m, name))


@pytest.mark.parametrize("m,name", CASES)
def test_jax_answers_jit(m: str, name: str) -> None:
    _assert_bits(fg.jit(_cases(m)[name])(K), _expected(m, name))


@pytest.mark.parametrize("m", list(DTYPES))
def test_high_modes_differ_from_low(m: str) -> None:
    """The recorded answers discriminate: mode="high" is not mode="low" under another name."""
    for draw in ("gumbel", "bernoulli_edge"):
        assert not np.array_equal(_expected(m, f"{draw}_high"), _expected(m, f"{draw}_low"))
    if m == "32":
        assert not np.array_equal(_expected(m, "gumbel_highest"), _expected(m, "gumbel_high"))


def test_gumbel_high_vmap_matches_one_key_at_a_time() -> None:
    keys = fr.split(K, 3)
    batched = fg.vmap(lambda k: fr.gumbel(k, (4,), np.float32, mode="high"))(keys)
    for i in range(3):
        _assert_bits(batched[i], np.asarray(fr.gumbel(keys[i], (4,), np.float32, mode="high")))


@pytest.mark.parametrize("mode", [None, "high"])
def test_categorical_without_replacement_draws_distinct_categories(mode: str | None) -> None:
    logits = np.log(np.array([0.05, 0.1, 0.15, 0.2, 0.5]))
    draws = fr.categorical(K, np.broadcast_to(logits, (7, 5)), shape=(5, 7), replace=False, mode=mode)
    assert draws.shape == (5, 7)
    for column in np.asarray(draws).T:
        assert sorted(column.tolist()) == [0, 1, 2, 3, 4]


def test_t_default_shape_is_df_shape() -> None:
    df = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert fr.t(K, df).shape == (2, 3)
    assert fr.t(K, 3.0).shape == ()
    assert fr.t(K, df, (4, 2, 3)).shape == (4, 2, 3)


def test_t_shape_that_df_does_not_broadcast_to() -> None:
    with pytest.raises(ValueError, match=r"t: df of shape \(3,\) does not broadcast to shape \(2,\)"):
        fr.t(K, np.array([1.0, 2.0, 3.0]), (2,))


@pytest.mark.parametrize("call", [
    lambda: fr.gumbel(K, (2,), mode="medium"),
    lambda: fr.categorical(K, np.zeros(3), mode="HIGH"),
    lambda: fr.choice(K, 5, (2,), replace=False, p=np.full(5, 0.2), mode="fast"),
])
def test_unknown_gumbel_mode_names_the_accepted_ones(call: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match=r"mode must be None, 'low' or 'high' \(or JAX's 'highest'\), got"):
        call()


def test_unknown_bernoulli_mode_names_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match=r"bernoulli: mode must be 'low' or 'high', got 'highest'"):
        fr.bernoulli(K, 0.5, (2,), mode="highest")


def test_fixed_point_to_f32_edge_words() -> None:
    """The float32 "highest" Gumbel's conversion of 64 fixed-point bits, on words that hit every
    branch (zero words, shifts by 32, carries); bit patterns recorded from JAX's own conversion."""
    from funcgrad.random._sampling import fixed_point_to_f32

    words = [0, 1, 255, 256, 2 ** 24 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]
    top, bottom = np.repeat(words, len(words)), np.tile(words, len(words))
    want = np.array([
        520093696, 528482304, 595525632, 595591168, 729808896, 788529151, 788529152, 796917759,
        796917760, 796917760, 796917760, 796917760, 796950528, 801112063, 801112064, 805306367,
        863961088, 863961088, 863961088, 863961088, 863961344, 863993855, 863993856, 864026623,
        864026624, 864026624, 864026624, 864026624, 864026752, 864043007, 864043008, 864059391,
        998244352, 998244352, 998244352, 998244352, 998244352, 998244352, 998244352, 998244352,
        1056964607, 1056964607, 1056964607, 1056964607, 1056964607, 1056964607, 1056964607, 1056964607,
        1056964608, 1056964608, 1056964608, 1056964608, 1056964608, 1056964608, 1056964608, 1056964608,
        1065353215, 1065353215, 1065353215, 1065353215, 1065353215, 1065353215, 1065353215, 1065353215,
    ], np.uint32)
    got = fixed_point_to_f32(top.astype(np.int64), bottom.astype(np.int64))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.uint32), want)


def test_categorical_without_replacement_too_many_draws() -> None:
    with pytest.raises(ValueError, match=r"cannot take 4 draws .* from 3 categories without replacement"):
        fr.categorical(K, np.zeros(3), shape=(4,), replace=False)
