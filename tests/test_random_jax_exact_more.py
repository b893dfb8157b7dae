"""More of funcgrad.random bit for bit against JAX: the float32 gamma family (XLA's approximate float32
``rsqrt`` reproduced), subnormal gamma draws flushed to zero as XLA does, ``maxwell`` /
``double_sided_maxwell`` (XLA's order of the sum of squares) and ``dirichlet`` (XLA's sum and
reciprocal product), eager, under ``jit`` and under ``vmap``.

The known answers were computed with JAX 0.10.2 on CPU (AMD EPYC, Zen 3, AVX2, no AVX-512) with
``jax_enable_x64`` and explicit dtypes, and recorded here; JAX is not a test dependency. The calls are
the strings below with ``k = jax.random.PRNGKey(seed)``, ``A = jnp.asarray`` of a NumPy array of
dtype ``dt``. float32 ``rsqrt`` is the processor's approximation, which differs between processor
makers: funcgrad reproduces the AMD Zen 3 one on every machine (these tests pass anywhere; JAX
itself on an Intel CPU may give float32 gamma draws an ulp away from these)."""

from __future__ import annotations

import numpy as np
import pytest
from random_reference import bit_sum, call_env, eager_and_jit

import funcgrad as fg
import funcgrad.random as fr
from funcgrad.random import _xla_math

SEEDS = {"1234": 1234, "big": 2**40 + 77}
DTYPES = {"32": (np.float32, np.uint32), "64": (np.float64, np.uint64)}

SMALL_CALLS = {'beta': 'beta(k, dt(2.0), dt(0.7), (4,), dt)',
 'chisquare': 'chisquare(k, dt(3.0), (4,), dt)',
 'dirichlet': 'dirichlet(k, A([0.5, 1.0, 3.0], dt), (4,), dt)',
 'double_sided_maxwell': 'double_sided_maxwell(k, dt(0.7), dt(1.3), (4,), dt)',
 'f': 'f(k, dt(3.0), dt(5.0), (4,), dt)',
 'gamma': 'gamma(k, A([0.3, 1.0, 2.5, 9.0], dt), None, dt)',
 'loggamma': 'loggamma(k, A([0.3, 1.0, 2.5, 9.0], dt), None, dt)',
 'maxwell': 'maxwell(k, (2, 3), dt)',
 'maxwell_0d': 'maxwell(k, (), dt)',
 't': 't(k, dt(3.0), (4,), dt)'}
MANY_CALLS = {'beta': 'beta(k, dt(2.0), dt(0.7), (2000,), dt)',
 'chisquare': 'chisquare(k, dt(3.0), (2000,), dt)',
 'dirichlet': 'dirichlet(k, A([0.5, 1.0, 3.0], dt), (1365,), dt)',
 'dirichlet_k32': 'dirichlet(k, A(np.linspace(0.2, 5, 32), dt), (100,), dt)',
 'double_sided_maxwell': 'double_sided_maxwell(k, 0.7, 1.3, (1000,), dt)',
 'f': 'f(k, dt(3.0), dt(5.0), (2000,), dt)',
 'gamma': 'gamma(k, A(np.linspace(0.1, 20, 2000), dt), None, dt)',
 'gamma_tiny': 'gamma(k, A(np.geomspace(0.001, 0.5, 2000), dt), None, dt)',
 'generalized_normal': 'generalized_normal(k, 1.5, (2000,), dt)',
 'loggamma': 'loggamma(k, A(np.linspace(0.1, 20, 2000), dt), None, dt)',
 'maxwell_fused': 'maxwell(k, (1365,), dt)',
 'maxwell_ynn': 'maxwell(k, (3000,), dt)',
 't': 't(k, dt(3.0), (2000,), dt)'}
VMAP_CALLS = {'dirichlet': 'dirichlet(k, A([0.5, 1.0, 3.0], dt), (200,), dt)',
 'gamma': 'gamma(k, A([0.3, 1.0, 2.5, 9.0], dt), None, dt)',
 'maxwell_fused': 'maxwell(k, (400,), dt)',
 'maxwell_ynn': 'maxwell(k, (1000,), dt)'}
JAX = {'many': {'32': {'beta@1234': 2121212334756,
                 'beta@big': 2120608989818,
                 'chisquare@1234': 2147133168010,
                 'chisquare@big': 2147606513628,
                 'dirichlet@1234': 4264575051366,
                 'dirichlet@big': 4265965966588,
                 'dirichlet_k32@1234': 3246914152327,
                 'dirichlet_k32@big': 3247562455072,
                 'double_sided_maxwell@1234': 2123573460070,
                 'double_sided_maxwell@big': 2076240421490,
                 'f@1234': 2124886801952,
                 'f@big': 2126682678086,
                 'gamma@1234': 2174930386641,
                 'gamma@big': 2174122698528,
                 'gamma_tiny@1234': 1128873921330,
                 'gamma_tiny@big': 1138548803821,
                 'generalized_normal@1234': 4361325225279,
                 'generalized_normal@big': 4262549615067,
                 'loggamma@1234': 2446797456196,
                 'loggamma@big': 2445160867620,
                 'maxwell_fused@1234': 1459723002728,
                 'maxwell_fused@big': 1459368617868,
                 'maxwell_ynn@1234': 3207753175242,
                 'maxwell_ynn@big': 3207576122473,
                 't@1234': 4258010800380,
                 't@big': 4287670414292},
          '64': {'beta@1234': 4148272749049233820,
                 'beta@big': 4316567862188857227,
                 'chisquare@1234': 18262718245425537358,
                 'chisquare@big': 37411186250393242,
                 'dirichlet@1234': 17035429174948562275,
                 'dirichlet@big': 17524279557815129194,
                 'dirichlet_k32@1234': 9686056782744062171,
                 'dirichlet_k32@big': 9562866860517619009,
                 'double_sided_maxwell@1234': 16620631494503149504,
                 'double_sided_maxwell@big': 7954661953904587400,
                 'f@1234': 6956773584903647303,
                 'f@big': 6851203189446833370,
                 'gamma@1234': 14616608980811464598,
                 'gamma@big': 14878404384021197964,
                 'gamma_tiny@1234': 2910055927575179218,
                 'gamma_tiny@big': 14905001311835577805,
                 'generalized_normal@1234': 7292185070685200063,
                 'generalized_normal@big': 6521203013461330323,
                 'loggamma@1234': 7289468677567737744,
                 'loggamma@big': 7736942510063133134,
                 'maxwell_fused@1234': 1481940061408355532,
                 'maxwell_fused@big': 1608762575026452357,
                 'maxwell_ynn@1234': 11473192022807030915,
                 'maxwell_ynn@big': 11543795929970757964,
                 't@1234': 11606113782363464578,
                 't@big': 12131950034638738590}},
 'rsqrt_nan': 781,
 'rsqrt_small': [1065353216, 1060439283, 1058262330, 1072280040, 1482907561, 537729937, 1035489810, 2139095040,
                 4286578688, 0, 2139095040, 4290772992],
 'rsqrt_sum': 212090471236802,
 'small': {'32': {'beta@1234': [1064231332, 1065256604, 1060776674, 1061313293],
                  'beta@big': [1044209943, 1064196110, 1062466952, 1062358068],
                  'chisquare@1234': [1082621864, 1086327519, 1065615847, 1060223433],
                  'chisquare@big': [1083161557, 1077327192, 1062142500, 1057416343],
                  'dirichlet@1234': [1042835620, 1056454959, 1051955837, 1032412393, 1035258457, 1062746903,
                                     1044431055, 1045193875, 1058846375, 1034655011, 1034945209, 1062505732],
                  'dirichlet@big': [1035181439, 1051999868, 1057975570, 1020281490, 1059671086, 1050698618, 994701370,
                                    1051156589, 1059816921, 1036795997, 1037440683, 1061926175],
                  'double_sided_maxwell@1234': [3207827422, 1081349988, 3220513659, 1071538264],
                  'double_sided_maxwell@big': [1071663311, 3216631273, 3208712519, 3217634736],
                  'f@1234': [1050769716, 1005161915, 1054394579, 1070189026],
                  'f@big': [1085814282, 1048651722, 1075402740, 1067691918],
                  'gamma@1234': [1051132488, 1074595749, 1067176317, 1086045203],
                  'gamma@big': [1025725468, 1063140704, 1065643869, 1085162915],
                  'loggamma@1234': [3213845824, 1061831488, 1044996440, 1071806520],
                  'loggamma@big': [3226350921, 3188773012, 1024164960, 1071182305],
                  'maxwell@1234': [1069052401, 1069731550, 1063607432, 1070931656, 1074487285, 1072703280],
                  'maxwell@big': [1074879685, 1065526290, 1057034156, 1070429414, 1070517928, 1062831025],
                  'maxwell_0d@1234': [1069052401],
                  'maxwell_0d@big': [1074879685],
                  't@1234': [3217870152, 1083491029, 1058004187, 3225834825],
                  't@big': [3202092268, 3207069012, 3183673401, 1057157726]},
           '64': {'beta@1234': [4599319090712227821, 4605957432493549547, 4605903813153733926, 4606835610057990907],
                  'beta@big': [4603579763935766762, 4606366290140740274, 4604329476019067482, 4606926717342043482],
                  'chisquare@1234': [4608486390664865344, 4611526594142352643, 4614579895660412020,
                                     4604389852547165570],
                  'chisquare@big': [4616233970784097059, 4612201935910897992, 4600556487858252857,
                                    4616380834383085255],
                  'dirichlet@1234': [4550946747215200341, 4594076792670322295, 4605953561954289838,
                                     4588357160307196556, 4602815669066958866, 4601380576975097740,
                                     4582011043600868870, 4581507307814898312, 4606801046656301179,
                                     4595565099486677418, 4599176060093085710, 4602830928913392014],
                  'dirichlet@big': [4602454947940449565, 4596671125332150231, 4599151137884036855,
                                    4593916743994753219, 4599029574812631489, 4603316260426600175,
                                    4593680236465393102, 4583738106800299532, 4605801837087806876,
                                    4598419843875212267, 4596618117946894333, 4602945782407274507],
                  'double_sided_maxwell@1234': [13836482576091345127, 4613642770248082118, 13831615260652888667,
                                                4612146239189799625],
                  'double_sided_maxwell@big': [4614499549541771379, 13831113989352112053, 13832325323896196381,
                                               13830418415447965261],
                  'f@1234': [4616473872702429513, 4615694535906687852, 4605930820904408178, 4608204723110236591],
                  'f@big': [4605381175815047565, 4597577413263212175, 4606555408476503106, 4599585118725659396],
                  'gamma@1234': [4528687642808556195, 4602947566261180259, 4613477085890010757, 4618279972182050048],
                  'gamma@big': [4607335363399622519, 4603826950045456953, 4603984359416715143, 4622307344134424850],
                  'loggamma@1234': [13846331214966540029, 13827268503417750422, 4607308397846572002,
                                    4610639249010111774],
                  'loggamma@big': [4584973777840063872, 13825439490455607878, 13824944621676408566,
                                   4612554661508074093],
                  'maxwell@1234': [4604450803342132928, 4610997540977730049, 4614925152488688140, 4606251465592468432,
                                   4606828154971929858, 4608698426163993606],
                  'maxwell@big': [4608119985156915890, 4603740649634580606, 4611212098554180163, 4609840601082894403,
                                  4609481071056522634, 4607257692661418777],
                  'maxwell_0d@1234': [4604450803342132928],
                  'maxwell_0d@big': [4608119985156915890],
                  't@1234': [4607088277018292561, 4590838897689334976, 13835725417920775298, 4603053813907300932],
                  't@big': [4612598093528443609, 4594653893221821409, 13833217088233779170, 4610322909093098073]}},
 'vmap': {'32': {'dirichlet@1234': 1874306726876,
                 'dirichlet@big': 1874842003604,
                 'gamma@1234': 12783747559,
                 'gamma@big': 12834791376,
                 'maxwell_fused@1234': 1283049408342,
                 'maxwell_fused@big': 1283346642457,
                 'maxwell_ynn@1234': 3207935912366,
                 'maxwell_ynn@big': 3208408242260},
          '64': {'dirichlet@1234': 6148353399179409208,
                 'dirichlet@big': 6058355906576042883,
                 'gamma@1234': 18356642198391058592,
                 'gamma@big': 18393948674862409905,
                 'maxwell_fused@1234': 15681979204530462204,
                 'maxwell_fused@big': 15590765673244855605,
                 'maxwell_ynn@1234': 11283094861686941702,
                 'maxwell_ynn@big': 11234110956009693857}}}


SMALL_IDS = [(m, n) for m in DTYPES for n in JAX["small"][m]]


@pytest.mark.parametrize("mode, name", SMALL_IDS, ids=[f"{m}-{n}" for m, n in SMALL_IDS])
def test_draws_are_jax_bit_for_bit_eager_and_under_jit(mode, name):
    dt, ut = DTYPES[mode]
    call, seed = name.split("@")
    want = np.array(JAX["small"][mode][name], ut)
    for got in eager_and_jit(SMALL_CALLS, call, dt, fr.key(SEEDS[seed])):
        assert got.dtype == dt
        assert got.shape == (() if call == "maxwell_0d" else got.shape)
        np.testing.assert_array_equal(got.reshape(-1).view(ut), want)


MANY_IDS = [(m, n) for m in DTYPES for n in JAX["many"][m]]


@pytest.mark.parametrize("mode, name", MANY_IDS, ids=[f"{m}-{n}" for m, n in MANY_IDS])
def test_many_draws_are_jax_bit_for_bit(mode, name):
    dt, _ = DTYPES[mode]
    call, seed = name.split("@")
    got = np.asarray(eval("jr." + MANY_CALLS[call], call_env(dt, fr.key(SEEDS[seed]))))
    assert got.dtype == dt
    assert bit_sum(got) == JAX["many"][mode][name]


VMAP_IDS = [(m, n) for m in DTYPES for n in JAX["vmap"][m]]


@pytest.mark.parametrize("mode, name", VMAP_IDS, ids=[f"{m}-{n}" for m, n in VMAP_IDS])
def test_draws_over_a_batch_of_keys_are_jax_bit_for_bit(mode, name):
    """vmap over split(key, 3): XLA picks the order of maxwell's and dirichlet's sums by the size of the
    whole batched draw, and funcgrad's primitives see the whole batch too."""
    dt, _ = DTYPES[mode]
    call, seed = name.split("@")
    keys = fr.split(fr.key(SEEDS[seed]), 3)
    got = np.asarray(fg.vmap(lambda k: eval("jr." + VMAP_CALLS[call], call_env(dt, k)))(keys))
    assert got.dtype == dt and got.shape[0] == 3
    assert bit_sum(got) == JAX["vmap"][mode][name]


def test_xla_float32_rsqrt_is_reproduced():
    # 200,003 float32 bit patterns spread over [0, 2**31): zero, subnormals, every binade, inf and NaNs
    bits = (np.arange(200_003, dtype=np.uint64) * 21_473 + 8_388_608) % (2**31)
    x = bits.astype(np.uint32).view(np.float32)
    r = _xla_math.rsqrt(x)
    assert r.dtype == np.float32 and r.shape == x.shape
    assert int(np.isnan(r).sum()) == JAX["rsqrt_nan"]
    assert bit_sum(np.where(np.isnan(r), np.float32(0), r)) == JAX["rsqrt_sum"]
    xs = np.array([1.0, 2.0, 3.0, 0.3, 1e-30, 7e37, 123.456, 0.0, -0.0, np.inf, 1e-40, -2.0], np.float32)
    got = _xla_math.rsqrt(xs)
    want = np.array(JAX["rsqrt_small"], np.uint32)
    nan = np.isnan(got)
    np.testing.assert_array_equal(nan, np.isnan(want.view(np.float32)))
    np.testing.assert_array_equal(got.view(np.uint32)[~nan], want[~nan])


def test_rsqrt_shapes_dtypes_and_its_estimate():
    assert _xla_math.rsqrt(np.float32(4.0)).shape == ()
    assert float(_xla_math.rsqrt(np.float32(4.0))) == 0.5
    assert _xla_math.rsqrt(np.zeros((0, 3), np.float32)).shape == (0, 3)
    np.testing.assert_array_equal(_xla_math.rsqrt(np.array([4.0, 2.0])), 1.0 / np.sqrt([4.0, 2.0]))  # float64
    x = np.geomspace(1e-30, 1e30, 10_001).astype(np.float32)
    estimate = _xla_math.rsqrt_estimate_f32(x)
    exact = 1.0 / np.sqrt(x.astype(np.float64))
    assert np.max(np.abs(estimate / exact - 1.0)) < 2.0**-11  # a 12-bit approximation
    assert np.all(estimate.view(np.uint32) & np.uint32(0x7FF) == 0)  # with 12 significant bits
    refined = _xla_math.rsqrt(x)
    assert np.max(np.abs(refined / exact - 1.0)) < 2.0**-22  # within an ulp or so after the Newton step


def test_flush_subnormal():
    for dt in (np.float32, np.float64):
        tiny = np.finfo(dt).tiny
        x = np.array([tiny, tiny / 2, -tiny / 4, 0.0, -0.0, 1.0, np.nan, -np.inf], dt)
        got = _xla_math.flush_subnormal(x)
        assert got.dtype == dt
        np.testing.assert_array_equal(got[:6], [tiny, 0.0, 0.0, 0.0, 0.0, 1.0])
        assert np.signbit(got[2]) and np.signbit(got[4]) and np.isnan(got[6]) and got[7] == -np.inf
        assert _xla_math.flush_subnormal(np.array(tiny / 2, dt)).shape == ()


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gamma_draws_below_the_normal_range_are_zero(dt):
    g = fr.gamma(fr.key(5), np.geomspace(0.001, 0.05, 500).astype(dt), None, dt)
    assert g.dtype == dt
    assert not np.any((g > 0) & (g < np.finfo(dt).tiny))
    assert np.any(g == 0) and np.all(g >= 0)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_maxwell_shapes_and_sizes_around_the_switch(dt):
    k = fr.key(3)
    assert fr.maxwell(k, (), dt).shape == () and fr.maxwell(k, (), dt).dtype == dt
    assert fr.maxwell(k, (0,), dt).shape == (0,) and fr.maxwell(k, (2, 0), dt).shape == (2, 0)
    for n in (1365, 1366):  # 4095 and 4098 normal numbers: the two orders of XLA's sum
        z = fr.normal(k, (n, 3), dt).astype(np.float64)
        m = fr.maxwell(k, (n,), dt)
        np.testing.assert_allclose(m, np.sqrt((z * z).sum(-1)), rtol=4 * np.finfo(dt).eps)
    np.testing.assert_array_equal(fr.maxwell(k, (7, 9), dt), fg.jit(lambda kk: fr.maxwell(kk, (7, 9), dt))(k))


def test_double_sided_maxwell_and_dirichlet_keep_their_derivatives():
    from funcgrad.test_util import check_grads

    k = fr.key(11)
    check_grads(lambda loc, scale: fr.double_sided_maxwell(k, loc, scale, (5,)), (np.array(0.7), np.array(1.3)))
    m = fr.maxwell(fr.split(k)[0], (5,))
    sign = fr.rademacher(fr.split(k)[1], (5,)).astype(np.float64)
    g = fg.grad(lambda s: fr.double_sided_maxwell(k, 0.7, s, (5,)).sum())(1.3)
    np.testing.assert_allclose(g, (sign * m).sum(), rtol=1e-12)
    alpha = np.array([0.5, 1.0, 3.0])
    x = fr.dirichlet(k, alpha, (4,))
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-14)
    # the reciprocal correction carries no derivative: the Jacobian is the composition's (a softmax of log-gammas)
    jac = fg.jacfwd(lambda a: fr.dirichlet(k, a, (2,)))(alpha)
    logs = fr.loggamma(k, alpha, (2, 3))
    dlogs = fg.jacfwd(lambda a: fr.loggamma(k, a, (2, 3)))(alpha)
    p = np.exp(logs - logs.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    soft = np.einsum("bi,ij->bij", p, np.eye(3)) - np.einsum("bi,bj->bij", p, p)
    np.testing.assert_allclose(jac, np.einsum("bij,bjk->bik", soft, dlogs), rtol=1e-9, atol=1e-12)


# rayleigh(k, dt(1.7), (4,), dt) (raw bits) and the bit sum of rayleigh(k, dt(1.7), (2000,), dt) (XLA's log)
JAX_RAYLEIGH = {'32': {'1234': ([1063936019, 1066331914, 1075443244, 1064962921], 2143927534750),
        'big': ([1074391191, 1062365687, 1083266909, 1075921018], 2144125589378)},
 '64': {'1234': ([4613167853896654347, 4609532306978393012, 4611741041554539430, 4607536121956507074],
                 16518545922116212875),
        'big': ([4613693685071079044, 4611100678810159550, 4607321381196400694, 4612773609339050774],
                16899840681168799539)}}


@pytest.mark.parametrize("mode", ["32", "64"])
@pytest.mark.parametrize("seed", ["1234", "big"])
def test_rayleigh_is_jax_bit_for_bit_and_differentiable_in_scale(mode, seed):
    dt, ut = DTYPES[mode]
    k = fr.key(SEEDS[seed])
    bits, total = JAX_RAYLEIGH[mode][seed]
    for got in (fr.rayleigh(k, dt(1.7), (4,), dt), fg.jit(lambda kk: fr.rayleigh(kk, dt(1.7), (4,), dt))(k)):
        got = np.asarray(got)
        assert got.dtype == dt
        np.testing.assert_array_equal(got.view(ut), np.array(bits, ut))
    assert bit_sum(fr.rayleigh(k, dt(1.7), (2000,), dt)) == total
    if mode == "64":
        u = fr.uniform(k, (4,))
        g = fg.grad(lambda s: fr.rayleigh(k, s, (4,)).sum())(1.7)
        np.testing.assert_allclose(g, np.sqrt(-2.0 * np.log(u)).sum(), rtol=1e-14)


# poisson (JAX computes it in float32 in both modes; XLA's log, lgamma and the FMA in k log λ - λ): sums of the counts,
# plain and weighted by position, for k = PRNGKey(seed), λ = np.linspace(10, 300, 20000) (rejection) and
# np.linspace(0.1, 9.9, 5000) (Knuth), float32; and the bit sum of XLA's float32 lgamma on the inputs below
JAX_POISSON_MORE = {'rejection@0': 3100627, 'weighted@0': 40688024167, 'knuth@0': 82421540, 'rejection@1': 3099916,
                    'weighted@1': 40671093003, 'knuth@1': 83082714, 'lgamma_sum': 261590330693290}


@pytest.mark.parametrize("seed", [0, 1])
def test_poisson_counts_are_jax_exactly(seed):
    lam = np.linspace(10, 300, 20000).astype(np.float32)
    counts = np.asarray(fr.poisson(fr.key(seed), lam, (20000,))).astype(np.int64)
    assert counts.sum() == JAX_POISSON_MORE[f"rejection@{seed}"]
    assert (counts * np.arange(20000)).sum() == JAX_POISSON_MORE[f"weighted@{seed}"]
    lam = np.linspace(0.1, 9.9, 5000).astype(np.float32)
    counts = np.asarray(fr.poisson(fr.key(seed), lam, (5000,))).astype(np.int64)
    assert (counts * np.arange(5000)).sum() == JAX_POISSON_MORE[f"knuth@{seed}"]


def test_xla_float32_lgamma_is_reproduced():
    x = np.concatenate([np.arange(1, 20001).astype(np.float32),
                        np.arange(200_000, dtype=np.float32) * np.float32(0.05) + np.float32(0.5)])
    assert bit_sum(_xla_math.lgamma_f32(x)) == JAX_POISSON_MORE["lgamma_sum"]
    got = _xla_math.lgamma_f32(np.array([1.0, 2.0, np.inf, 0.25], np.float32))
    assert got[1] == 0.0 and got[2] == np.inf and np.isnan(got[3])  # below 1/2: not reproduced, NaN
    assert abs(float(got[0])) < 1e-6 and _xla_math.lgamma_f32(np.float32(4.0)).shape == ()
