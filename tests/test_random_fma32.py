"""``_xla_math.fma32`` (and its Numba twin) is a fused multiply-add: ``a * b + c`` rounded ONCE to
float32, checked against an exact reference in integer arithmetic on cases built to sit next to a
float32 rounding midpoint, where computing in float64 and rounding twice goes wrong."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from funcgrad.random import _xla_math


def _round_to_float32(x: Fraction) -> np.float32:
    """The float32 nearest ``x`` (ties to even), by integer arithmetic only."""
    if x == 0:
        return np.float32(0.0)
    sign = -1 if x < 0 else 1
    x = abs(x)
    exponent = x.numerator.bit_length() - x.denominator.bit_length()  # 2**exponent ~ x within a factor 2
    while x >= Fraction(2) ** (exponent + 1):
        exponent += 1
    while x < Fraction(2) ** exponent:
        exponent -= 1
    scale = max(exponent - 23, -149)  # the unit in the last place; subnormals below 2**-126
    q = x / Fraction(2) ** scale
    whole = q.numerator // q.denominator
    rest = q - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    return np.float32(sign * float(whole * Fraction(2) ** scale))  # exact in float64, then in float32


def _exact(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.array([_round_to_float32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
                     for x, y, z in zip(a, b, c)], np.float32)


def _hard_cases(seed: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``a``, ``b`` float32 whose exact product lies within 2**-29 (relative) of a float32 midpoint,
    and ``c`` float32 close to the distance to that midpoint: the exact sum ends just beside,
    on, or across the midpoint, with a tail far below float64's last bit."""
    rng = np.random.default_rng(seed)
    a_all, b_all, c_all = [], [], []
    while sum(len(a) for a in a_all) < count:
        a = (rng.uniform(0.5, 2.0, 200_000) * 2.0 ** rng.integers(-20, 20, 200_000)).astype(np.float32)
        b = (rng.uniform(0.5, 2.0, 200_000) * np.where(rng.random(200_000) < 0.5, -1, 1)).astype(np.float32)
        product = a.astype(np.float64) * b  # exact
        nearest = product.astype(np.float32).astype(np.float64)
        ulp = np.spacing(np.abs(product).astype(np.float32)).astype(np.float64)
        midpoint = nearest + np.where(product > nearest, 0.5, -0.5) * ulp
        distance = midpoint - product  # exact (Sterbenz-like: both within one ulp)
        near = (np.abs(distance) < np.abs(midpoint) * 2.0**-29) & (distance != 0)
        a, b, distance = a[near], b[near], distance[near]
        c = distance.astype(np.float32)
        shift = rng.integers(-2, 3, c.size)  # the float32 neighbours of the distance too
        up, down = np.nextafter(c, np.float32(np.inf)), np.nextafter(c, np.float32(-np.inf))
        c = np.where(shift > 0, up, np.where(shift < 0, down, c))
        a_all.append(a)
        b_all.append(b)
        c_all.append(c.astype(np.float32))
    return (np.concatenate(a_all)[:count], np.concatenate(b_all)[:count], np.concatenate(c_all)[:count])


def test_fma32_rounds_once_on_the_reported_case() -> None:
    a = np.array([1 + 2**-23], np.float32)
    b = np.array([1 - 2**-24], np.float32)
    c = np.float32(2**-47 * (1 + 2**-13))
    got = _xla_math.fma32(a, b, float(c))
    assert got.dtype == np.float32
    assert got[0] == np.float32(1 + 2**-23)  # double rounding gives 1.0
    assert _exact(a, b, np.array([c]))[0] == np.float32(1 + 2**-23)


@pytest.mark.parametrize("seed", [0, 1])
def test_fma32_is_correctly_rounded_next_to_float32_midpoints(seed: int) -> None:
    a, b, c = _hard_cases(seed, 6000)
    want = _exact(a, b, c)
    double_rounded = (a.astype(np.float64) * b + c).astype(np.float32)
    assert np.count_nonzero(double_rounded != want) > 50  # the cases do catch a double rounding
    got = _xla_math.fma32(a, b, c)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    got_float_c = _xla_math.fma32(a, b, c.astype(np.float64))
    np.testing.assert_array_equal(got_float_c.view(np.uint32), want.view(np.uint32))


def test_fma32_is_correctly_rounded_on_random_and_special_inputs() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    scale = 2.0 ** rng.integers(-30, 30, (3, n))
    a, b, c = (rng.standard_normal((3, n)) * scale).astype(np.float32)
    c[:200] = -(a[:200].astype(np.float64) * b[:200]).astype(np.float32)  # cancellation
    c[200:300] = 0
    a[300:320] = np.float32(1e-30)  # products of subnormal size
    b[300:320] = np.float32(1e-15)
    c[300:320] = np.float32(1e-45) * rng.integers(-3, 4, 20)
    want = _exact(a, b, c)
    np.testing.assert_array_equal(_xla_math.fma32(a, b, c).view(np.uint32), want.view(np.uint32))
    with np.errstate(over="ignore"):
        specials = _xla_math.fma32(np.array([np.inf, np.nan, 3e38, 1.0], np.float32),
                                   np.array([1.0, 1.0, 10.0, -0.0], np.float32), np.array([1.0, 1.0, 0.0, 0.0]))
    np.testing.assert_array_equal(specials, np.array([np.inf, np.nan, np.inf, 0.0], np.float32))


@pytest.mark.parametrize("scale", [2.0**-150, 2.0**-24])  # float32 subnormal and normal midpoints
def test_fma32_is_correctly_rounded_beside_midpoints_with_a_float64_addend(scale: float) -> None:
    rng = np.random.default_rng(11)
    if scale == 2.0**-24:  # 3 * (odd 24-bit number) < 2**25: 25 significant bits, a midpoint in [1.5, 2)
        odd = 2 * rng.integers(2**22, 2**24 // 3, 3000) + 1
        a = np.full(odd.shape, 3.0, np.float32)
        midpoint = 3.0 * odd * scale
    else:  # (odd number) * 2**-150 below 2**-126: a midpoint of float32's subnormal numbers
        odd = 2 * rng.integers(0, 2**23, 3000) + 1
        a = np.full(odd.shape, 2.0**-100, np.float32)
        midpoint = odd * scale
    b = (midpoint / a.astype(np.float64)).astype(np.float32)
    assert np.array_equal(a.astype(np.float64) * b, midpoint)  # the product is the midpoint itself
    c = rng.choice([-1.0, 1.0], odd.shape) * 2.0 ** rng.integers(-230, -200, odd.shape).astype(float)
    want = _exact(a, b, c)
    assert np.count_nonzero((a.astype(np.float64) * b + c).astype(np.float32) != want) > 1000
    np.testing.assert_array_equal(_xla_math.fma32(a, b, c).view(np.uint32), want.view(np.uint32))


def test_fma32_broadcasts_and_keeps_zero_dimensional_shape() -> None:
    out = _xla_math.fma32(np.float32(2), np.ones((2, 3), np.float32), 0.5)
    assert out.shape == (2, 3) and out.dtype == np.float32 and np.all(out == 2.5)
    assert _xla_math.fma32(np.float32(2), np.float32(3), 1.0).shape == ()


def test_numba_fma32_gives_the_same_bits() -> None:
    pytest.importorskip("numba")
    from numba import njit

    from funcgrad.random import _numba_normal

    fma = _numba_normal._fma32

    @njit
    def apply(a: np.ndarray, b: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:
        for i in range(a.size):
            out[i] = fma(a[i], b[i], c[i])

    a, b, c = _hard_cases(3, 4000)
    out = np.empty(a.shape, np.float32)
    apply(a, b, c, out)
    np.testing.assert_array_equal(out.view(np.uint32), _exact(a, b, c).view(np.uint32))
    np.testing.assert_array_equal(out.view(np.uint32), _xla_math.fma32(a, b, c).view(np.uint32))
