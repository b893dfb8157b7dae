"""funcgrad.random.dirichlet and funcgrad.random.ball (and generalized_normal, which ball draws from)
bit for bit against JAX 0.10.2, float32 and float64, eager, under ``jit`` and under ``vmap`` over keys,
on both sides of XLA's switch to YNNPACK (a fusion with a reduction of 4096 numbers or more, every key
of a batch counted), with more than 32 categories (XLA's windowed sums), one or two rows with
concentrations below 1 (float32 logs that XLA leaves to the C library), a broadcast ``alpha``, and
``ball`` with p = 0.5, 1, 1.5, 2, 3 and d = 1 (a division XLA keeps) to 40.

The known answers were computed with JAX 0.10.2 on CPU (AMD EPYC, Zen 3, AVX2 + FMA3, no AVX-512)
with ``jax_enable_x64`` and explicit dtypes, and recorded here (raw bits of small draws; bit sums and
three raw words of large ones); JAX is not a test dependency. The calls are the strings below with
``k = jax.random.PRNGKey(seed)``, ``A = jnp.asarray`` of a NumPy array of dtype ``dt``; the vmap calls
map over ``jax.random.split(k, 3)``. ``FM`` holds bit sums of YNNPACK's and XLA's exp, log and sums on
fixed inputs (``jax.jit`` of ``exp(x - x.max())``, ``log(x) - log(x).max()``, ``x.sum(-1)``), for
``funcgrad.random._fusion_math``."""

from __future__ import annotations

import numpy as np
import pytest
from random_reference import bit_sum, call_env, eager_and_jit

import funcgrad as fg
import funcgrad.random as fr
from funcgrad.random import _fusion_math

SEEDS = {"1234": 1234, "big": 2**40 + 77, "0": 0}
DTYPES = {"32": (np.float32, np.uint32), "64": (np.float64, np.uint64)}

SMALL_CALLS = {
 'dirichlet_2rows': 'dirichlet(k, A([0.3, 0.6, 0.9], dt), (2,), dt)',
 'dirichlet_1row': 'dirichlet(k, A([0.3, 0.5], dt), (1,), dt)',
 'dirichlet_0d': 'dirichlet(k, A([0.2, 2.0, 0.7], dt), (), dt)',
 'dirichlet_5rows': 'dirichlet(k, A([0.3, 0.6, 0.9], dt), (5,), dt)',
 'dirichlet_big_alpha': 'dirichlet(k, A([2.0, 3.0], dt), (3,), dt)',
 'ball_p2': 'ball(k, 3, 2.0, (2,), dt)',
 'ball_p05': 'ball(k, 2, 0.5, (3,), dt)',
 'ball_p3_d1': 'ball(k, 1, 3.0, (4,), dt)',
 'ball_p1_0d': 'ball(k, 5, 1.0, (), dt)',
 'ball_p15': 'ball(k, 4, 1.5, (2,), dt)',
 'generalized_normal_p2': 'generalized_normal(k, 2.0, (4,), dt)',
 'generalized_normal_p05': 'generalized_normal(k, 0.5, (4,), dt)',
}
MANY_CALLS = {
 'dirichlet_4095': 'dirichlet(k, A([0.5, 1.0, 3.0], dt), (1365,), dt)',
 'dirichlet_4096': 'dirichlet(k, A([0.5, 2.0], dt), (2048,), dt)',
 'dirichlet_4098': 'dirichlet(k, A([0.5, 1.0, 3.0], dt), (1366,), dt)',
 'dirichlet_1e5': 'dirichlet(k, A([0.4, 1.0, 2.5, 7.0], dt), (25000,), dt)',
 'dirichlet_k33': 'dirichlet(k, A(np.linspace(0.2, 5, 33), dt), (10,), dt)',
 'dirichlet_k100': 'dirichlet(k, A(np.linspace(0.05, 5, 100), dt), (100,), dt)',
 'dirichlet_k1100': 'dirichlet(k, A(np.linspace(0.2, 5, 1100), dt), (2,), dt)',
 'dirichlet_k5000': 'dirichlet(k, A(np.linspace(0.05, 3, 5000), dt), (1,), dt)',
 'dirichlet_tiny': 'dirichlet(k, A(np.linspace(0.01, 0.3, 33), dt), (200,), dt)',
 'dirichlet_broadcast': 'dirichlet(k, A([[0.5, 2.0], [0.3, 0.7]], dt), (2048, 2), dt)',
 'dirichlet_broadcast_small': 'dirichlet(k, A([[0.5, 2.0], [0.3, 0.7]], dt), None, dt)',
 'ball_4095': 'ball(k, 3, 2.0, (1365,), dt)',
 'ball_4098': 'ball(k, 3, 2.0, (1366,), dt)',
 'ball_p05_1e4': 'ball(k, 5, 0.5, (2000,), dt)',
 'ball_p3_4000': 'ball(k, 2, 3.0, (2000,), dt)',
 'ball_d40': 'ball(k, 40, 1.0, (3,), dt)',
 'ball_d1': 'ball(k, 1, 2.0, (2000,), dt)',
 'ball_p15_1e4': 'ball(k, 2, 1.5, (5000,), dt)',
 'generalized_normal_p2': 'generalized_normal(k, 2.0, (3000,), dt)',
 'generalized_normal_p3': 'generalized_normal(k, 3.0, (3000,), dt)',
}
VMAP_CALLS = {
 'dirichlet_ynn': 'dirichlet(k, A([0.5, 1.0, 3.0], dt), (1000,), dt)',
 'dirichlet_6': 'dirichlet(k, A([0.3, 0.6], dt), (1,), dt)',
 'ball_ynn': 'ball(k, 3, 2.0, (1000,), dt)',
 'ball_small': 'ball(k, 2, 0.5, (4,), dt)',
}
JAX = {'many': {'32': {'ball_4095@1234': 8658572586843,
                 'ball_4095@big': 8679154000811,
                 'ball_4098@1234': 8663881708562,
                 'ball_4098@big': 8684454458678,
                 'ball_d1@1234': 4182649981504,
                 'ball_d1@big': 4257307165260,
                 'ball_d40@1234': 243871565352,
                 'ball_d40@big': 252748728210,
                 'ball_p05_1e4@1234': 20868210694149,
                 'ball_p05_1e4@big': 20925319654582,
                 'ball_p15_1e4@1234': 21179544765677,
                 'ball_p15_1e4@big': 21233295378293,
                 'ball_p3_4000@1234': 8456009863129,
                 'ball_p3_4000@big': 8464437836138,
                 'dirichlet_1e5@1234': 103474895305174,
                 'dirichlet_1e5@big': 103485881430418,
                 'dirichlet_4095@1234': 4264575051366,
                 'dirichlet_4095@big': 4265965966588,
                 'dirichlet_4096@1234': 4288837315412,
                 'dirichlet_4096@big': 4289581055769,
                 'dirichlet_4098@1234': 4267709680371,
                 'dirichlet_4098@big': 4269089887742,
                 'dirichlet_broadcast@1234': 8561036949587,
                 'dirichlet_broadcast@big': 8562969634102,
                 'dirichlet_broadcast_small@1234': 4218032030,
                 'dirichlet_broadcast_small@big': 4175797296,
                 'dirichlet_k100@1234': 9973029249234,
                 'dirichlet_k100@big': 9966125683788,
                 'dirichlet_k1100@1234': 2140437722246,
                 'dirichlet_k1100@big': 2140024128839,
                 'dirichlet_k33@1234': 334804997223,
                 'dirichlet_k33@big': 334653900054,
                 'dirichlet_k5000@1234': 4736843143027,
                 'dirichlet_k5000@big': 4737310956845,
                 'dirichlet_tiny@1234': 5960813137760,
                 'dirichlet_tiny@big': 5960867072335,
                 'generalized_normal_p2@1234': 6404102369039,
                 'generalized_normal_p2@big': 6352302227523,
                 'generalized_normal_p3@1234': 6401865511996,
                 'generalized_normal_p3@big': 6350068993898},
          '64': {'ball_4095@1234': 13707509954322223418,
                 'ball_4095@big': 14188990490327058105,
                 'ball_4098@1234': 18282248249961156897,
                 'ball_4098@big': 320265162648020035,
                 'ball_d1@1234': 4935648146961068844,
                 'ball_d1@big': 14461119862701755415,
                 'ball_d40@1234': 5374701155156615453,
                 'ball_d40@big': 5238740461158928868,
                 'ball_p05_1e4@1234': 5829826431334675399,
                 'ball_p05_1e4@big': 15751780507370618886,
                 'ball_p15_1e4@1234': 6799966095477595724,
                 'ball_p15_1e4@big': 16999906993734451240,
                 'ball_p3_4000@1234': 16382943517110916362,
                 'ball_p3_4000@big': 16604588913573434565,
                 'dirichlet_1e5@1234': 11806200981834508591,
                 'dirichlet_1e5@big': 12773954200543619215,
                 'dirichlet_4095@1234': 17035429174948562275,
                 'dirichlet_4095@big': 17524279557815129194,
                 'dirichlet_4096@1234': 15644814153718179749,
                 'dirichlet_4096@big': 15091053488544638145,
                 'dirichlet_4098@1234': 12374447408096419502,
                 'dirichlet_4098@big': 12847121764737448905,
                 'dirichlet_broadcast@1234': 4544526833768090238,
                 'dirichlet_broadcast@big': 3370625896332809358,
                 'dirichlet_broadcast_small@1234': 18369120134614649866,
                 'dirichlet_broadcast_small@big': 18393575211134938444,
                 'dirichlet_k100@1234': 11117373055440050945,
                 'dirichlet_k100@big': 15908824653186538213,
                 'dirichlet_k1100@1234': 9798520343360034168,
                 'dirichlet_k1100@big': 9685180505517362682,
                 'dirichlet_k33@1234': 17035349353626396399,
                 'dirichlet_k33@big': 16982677484514890141,
                 'dirichlet_k5000@1234': 11890937936198845106,
                 'dirichlet_k5000@big': 11180236296594418091,
                 'dirichlet_tiny@1234': 16359911124796777372,
                 'dirichlet_tiny@big': 1214799758316501300,
                 'generalized_normal_p2@1234': 13071596719524582632,
                 'generalized_normal_p2@big': 12550052347415025465,
                 'generalized_normal_p3@1234': 11797875395215877405,
                 'generalized_normal_p3@big': 11376801704739652420}},
 'picks': {'32': {'ball_4095@1234': [3190163133, 3186241865, 3186612143],
                  'ball_4095@big': [1023267487, 3189101600, 1051355151],
                  'ball_4098@1234': [3190163133, 1060231737, 1056902982],
                  'ball_4098@big': [1023267487, 3199953728, 1047811366],
                  'ball_d1@1234': [3193812847, 1034954413, 1057163673],
                  'ball_d1@big': [1023520446, 3202942661, 1064994001],
                  'ball_d40@1234': [3148436941, 1026452571, 3156997428],
                  'ball_d40@big': [1013353003, 991983593, 3147038606],
                  'ball_p05_1e4@1234': [3139265121, 1042107368, 3168097918],
                  'ball_p05_1e4@big': [1015863016, 1003901189, 1013602495],
                  'ball_p15_1e4@1234': [3190315210, 1059472009, 3204508329],
                  'ball_p15_1e4@big': [1022304626, 1054654619, 1016407911],
                  'ball_p3_4000@1234': [3196700027, 1044460801, 3201450589],
                  'ball_p3_4000@big': [1023985811, 3205380770, 3211015901],
                  'dirichlet_1e5@1234': [1032232290, 1033755639, 1061977767],
                  'dirichlet_1e5@big': [1016899455, 966623611, 1060852858],
                  'dirichlet_4095@1234': [1042835620, 1010709378, 1057644391],
                  'dirichlet_4095@big': [1035181439, 1043600967, 1051133612],
                  'dirichlet_4096@1234': [1042967909, 1019636320, 1058805016],
                  'dirichlet_4096@big': [1036657963, 1060999949, 1064882538],
                  'dirichlet_4098@1234': [1042835621, 1057316507, 1057504111],
                  'dirichlet_4098@big': [1035181439, 1043617126, 1055313788],
                  'dirichlet_broadcast@1234': [1042967909, 1039623439, 1065339777],
                  'dirichlet_broadcast@big': [1036657963, 1057436305, 1065298759],
                  'dirichlet_broadcast_small@1234': [1042967910, 1054112545, 1058390640],
                  'dirichlet_broadcast_small@big': [1036657963, 1010276883, 1065165207],
                  'dirichlet_k100@1234': [876084567, 515292780, 1012623011],
                  'dirichlet_k100@big': [721781976, 820399665, 1016296317],
                  'dirichlet_k1100@1234': [943642719, 766797881, 976749357],
                  'dirichlet_k1100@big': [905956486, 947811534, 981628416],
                  'dirichlet_k33@1234': [986282235, 940733434, 1035484153],
                  'dirichlet_k33@big': [948185231, 972071664, 1025536806],
                  'dirichlet_k5000@1234': [835466293, 947151960, 968106892],
                  'dirichlet_k5000@big': [679664682, 952589565, 981765876],
                  'dirichlet_tiny@1234': [421136914, 209441875, 1017808997],
                  'dirichlet_tiny@big': [0, 712423338, 1015027810],
                  'generalized_normal_p2@1234': [3209372772, 3206115613, 1057830070],
                  'generalized_normal_p2@big': [1052895561, 1056005611, 3208088513],
                  'generalized_normal_p3@1234': [3207792103, 3203416846, 1057403156],
                  'generalized_normal_p3@big': [1053921623, 1057192126, 3207625725]},
           '64': {'ball_4095@1234': [13827120564564785989, 13818674365733127773, 13827342167468463481],
                  'ball_4095@big': [4589626208924642030, 13817348275117577283, 4602784999757646307],
                  'ball_4098@1234': [13827120564564785989, 4597274939995912809, 4604717807917542017],
                  'ball_4098@big': [4589626208924642030, 13825062199574040251, 4602874051105777685],
                  'ball_d1@1234': [13828472691131993701, 4603879615412091056, 4603282378025207797],
                  'ball_d1@big': [4594588159835678043, 13826425715773046970, 4599556981943685404],
                  'ball_d40@1234': [13809392051854975755, 4570591429838309717, 13796309989059005145],
                  'ball_d40@big': [4576826084444346436, 4584876575125616567, 13810433603020850144],
                  'ball_p05_1e4@1234': [13809421185374804291, 4545322693898665423, 13817235042235264765],
                  'ball_p05_1e4@big': [4581273320027269358, 4582211457314526401, 4583421593628237131],
                  'ball_p15_1e4@1234': [13826460457348684705, 4592669557734284945, 13828189020648401868],
                  'ball_p15_1e4@big': [4594369276003753085, 4602224694394156361, 4579963057773108005],
                  'ball_p3_4000@1234': [13827879634280598197, 4606093235924962935, 13825089888720218870],
                  'ball_p3_4000@big': [4594063281551546511, 13823513909920383198, 13829364841909360175],
                  'dirichlet_1e5@1234': [4535159480588025056, 4577034197875726135, 4603627237603674895],
                  'dirichlet_1e5@big': [4592859609759722703, 4566457429975508463, 4604576994363998113],
                  'dirichlet_4095@1234': [4550946747215200341, 4589666050422906712, 4602730194053435471],
                  'dirichlet_4095@big': [4602454947940449565, 4591873745171734713, 4606855764167033740],
                  'dirichlet_4096@1234': [4557724301565129333, 4603416353550088573, 4606970546707434895],
                  'dirichlet_4096@big': [4602282668862603246, 4601324564328373242, 4604658739466385068],
                  'dirichlet_4098@1234': [4550946747215200341, 4541001610364647061, 4603762567269579882],
                  'dirichlet_4098@big': [4602454947940449563, 4599772302961317305, 4602340650504283141],
                  'dirichlet_broadcast@1234': [4557724301565129333, 4587341799393204830, 4601400203972358588],
                  'dirichlet_broadcast@big': [4602282668862603246, 4585259811832762581, 4600413588358612740],
                  'dirichlet_broadcast_small@1234': [4557724301565129333, 4600399326212107621, 4603818565652916557],
                  'dirichlet_broadcast_small@big': [4602282668862603245, 4581413100361946630, 4607002547582719825],
                  'dirichlet_k100@1234': [4121802394725817260, 4537099975753551811, 4575025587667244267],
                  'dirichlet_k100@big': [4552528218683066421, 4538276754739092915, 4575917167957002281],
                  'dirichlet_k1100@1234': [4439448906587087710, 4540988459691482497, 4565891351170906049],
                  'dirichlet_k1100@big': [4553332408139048230, 4529935901755920355, 4569358767719804963],
                  'dirichlet_k33@1234': [4461788413164666957, 4548748190040197228, 4585234684373119276],
                  'dirichlet_k33@big': [4576989454603286035, 4458138214645399379, 4588482194876434002],
                  'dirichlet_k5000@1234': [4099613206650659768, 4549289992359274544, 4550594210877436091],
                  'dirichlet_k5000@big': [4530537994551903177, 4541811222220014531, 4557785544215339546],
                  'dirichlet_tiny@1234': [2378222361407392064, 4577506312631121756, 4576446413099889700],
                  'dirichlet_tiny@big': [4497668782457865633, 3588224710006257549, 4596101977924564623],
                  'generalized_normal_p2@1234': [13804835926467837996, 13830619661213616204, 4597591055809119295],
                  'generalized_normal_p2@big': [4601472412348533044, 4597464117990728023, 13810908349782009615],
                  'generalized_normal_p3@1234': [13805361782864612586, 13829829802976200412, 4597571458446360472],
                  'generalized_normal_p3@big': [4601944742663087871, 4597070946239495955, 13811121603856277131]}},
 'small': {'32': {'ball_p05@0': [3199221756, 3190623777, 1015935141, 3208366090, 3201718807, 3162643404],
                  'ball_p05@1234': [3157550900, 3197867310, 1053973530, 1039409066, 1061876759, 1010125608],
                  'ball_p05@big': [1032129006, 3190377693, 1039106557, 1049681525, 1029077924, 1057656068],
                  'ball_p15@0': [3209479962, 3198576804, 1006278079, 3193282880, 3180004776, 3157186197, 3212514006,
                                 1017282701],
                  'ball_p15@1234': [3185597736, 3190846687, 1057402395, 1043674137, 1061591801, 1027497107,
                                    3169051826, 3201571519],
                  'ball_p15@big': [1018808575, 3189740049, 1025623967, 1055469125, 1042486691, 1056239269, 1056496770,
                                   1037573374],
                  'ball_p1_0d@0': [3185261347, 3178847644, 1058767697, 3180479450, 3189501244],
                  'ball_p1_0d@1234': [3164350988, 3196286199, 1044101670, 1033283333, 1045879732],
                  'ball_p1_0d@big': [1035703856, 3191964060, 1037632423, 1045769593, 1033847860],
                  'ball_p2@0': [3211447035, 3200849280, 1010757204, 3210510956, 3198302703, 3179330138],
                  'ball_p2@1234': [3190163133, 3192665462, 1059180151, 1055410755, 1062957427, 1032776532],
                  'ball_p2@big': [1023267487, 3192611062, 1029314824, 1058786178, 1045439486, 1057167569],
                  'ball_p3_d1@0': [3212802748, 3211899674, 1035830772, 3200570224],
                  'ball_p3_d1@1234': [3196748013, 3208182049, 1065288388, 1062816811],
                  'ball_p3_d1@big': [1024009108, 3197491625, 1039489425, 1057930244],
                  'dirichlet_0d@0': [1045142728, 1061123673, 1029318494],
                  'dirichlet_0d@1234': [1022293358, 1063016005, 1038192760],
                  'dirichlet_0d@big': [992549058, 1064803474, 1022839478],
                  'dirichlet_1row@0': [1052919820, 1058987002],
                  'dirichlet_1row@1234': [1059930696, 1051032429],
                  'dirichlet_1row@big': [1060024951, 1050843924],
                  'dirichlet_2rows@0': [1050700658, 1058185383, 1038699770, 1009330888, 1065081679, 1002439491],
                  'dirichlet_2rows@1234': [1049195958, 1046599779, 1057148684, 1027644484, 1051001747, 1059157107],
                  'dirichlet_2rows@big': [1044956628, 1045401972, 1058662958, 1023438529, 1063808965, 1031312624],
                  'dirichlet_5rows@0': [1050700658, 1058185383, 1038699770, 1009330888, 1065081679, 1002439491,
                                        1035149823, 1040838887, 1061625735, 1051295954, 1037316795, 1058060607,
                                        1052866728, 1042685761, 1055618999],
                  'dirichlet_5rows@1234': [1049195958, 1046599779, 1057148684, 1027644484, 1051001747, 1059157107,
                                           1044615862, 1052699496, 1054821182, 1041050415, 1061058481, 1039264805,
                                           1042551568, 1059494252, 1044481859],
                  'dirichlet_5rows@big': [1044956628, 1045401972, 1058662958, 1023438529, 1063808965, 1031312624,
                                          967369664, 1060247755, 1050387505, 1063027480, 1040860957, 996876352,
                                          1055454106, 1033870548, 1055860015],
                  'dirichlet_big_alpha@0': [1052383221, 1059255303, 1043392464, 1062454796, 1056679535, 1057107143],
                  'dirichlet_big_alpha@1234': [1051919347, 1059487239, 1053716832, 1058588495, 1049967714,
                                               1060463055],
                  'dirichlet_big_alpha@big': [1056564726, 1057164549, 1053402887, 1058745468, 1061560112, 1046971204],
                  'generalized_normal_p05@0': [1075627039, 3203773437, 3234549277, 3230668500],
                  'generalized_normal_p05@1234': [3231716886, 1074461522, 3229368922, 1040140938],
                  'generalized_normal_p05@big': [1054500317, 3248205843, 3223862135, 3207377478],
                  'generalized_normal_p2@0': [1064586100, 3182993586, 3214116479, 3203808728],
                  'generalized_normal_p2@1234': [3209372772, 1064147359, 3208839298, 1049502359],
                  'generalized_normal_p2@big': [1052895561, 3215053947, 3194449671, 3156523927]},
           '64': {'ball_p05@0': [13824014526895375770, 13817249995346373434, 4597499307582164837,
                                 13791202999369815853, 13817405833472079446, 13818200751424658551],
                  'ball_p05@1234': [13819179605616689034, 13819518437643051375, 4595416395993805058,
                                    4599313986489973740, 4594579078213696514, 4593193940835254096],
                  'ball_p05@big': [4593260092099963017, 13820764684046706504, 4597500112131804704,
                                   4585250062069922346, 4585433706498709481, 4584044316712101873],
                  'ball_p15@0': [13828527417633783947, 13823765528189811396, 4589951503230524446,
                                 13816848518290276262, 13820365285651833712, 13825199195298166404,
                                 13809957750373812851, 4594912749696075007],
                  'ball_p15@1234': [13825834223545894130, 13825466163551884294, 4586567965451938985,
                                    4598632254563841492, 4595125009949981482, 4601339079410777254,
                                    13814197659289643706, 13827723174644274991],
                  'ball_p15@big': [4588287453000900137, 13817462213923836850, 4605648359581824013,
                                   4568315898365220241, 4593709596290143085, 4593869576059027343, 4598810267442063195,
                                   4602138036510158075],
                  'ball_p1_0d@0': [13823501163174382123, 13818322119294928565, 4598578918834121849,
                                   13792637988391306139, 13819329834963659467],
                  'ball_p1_0d@1234': [13819585483879263668, 13819848274555946899, 4593034744245130757,
                                      4595733939174953064, 4595746701008902112],
                  'ball_p1_0d@big': [4591554586391505383, 13818449247266998252, 4601756811152845422,
                                     4592175393966457535, 4583849926059422918],
                  'ball_p2@0': [13829356840010126411, 13825206048457403212, 4590753936131813911, 13817710773434444523,
                                13821819481199662089, 13826468519025024146],
                  'ball_p2@1234': [13827120564564785989, 13826867152151762382, 4588713654285797097,
                                   4604364651367452057, 4597215353570064937, 4603447719133445617],
                  'ball_p2@big': [4589626208924642030, 13818273882831721075, 4606054161845599976, 4570287730868330400,
                                  4597834506459622547, 4598225955647795507],
                  'ball_p3_d1@0': [13830373763151021004, 13825085999785317858, 4591945274310340098,
                                   13823816513307980178],
                  'ball_p3_d1@1234': [13828673774060227370, 13830122708443533881, 4590280119551240935,
                                      4604545575373231286],
                  'ball_p3_d1@big': [4594107021861585328, 13819572082834608857, 4605249646330768194,
                                     4570533358979549885],
                  'dirichlet_0d@0': [4563097049720270475, 4603001210029561507, 4602012731885296907],
                  'dirichlet_0d@1234': [4485987421397634440, 4604096688995406214, 4599843079380924309],
                  'dirichlet_0d@big': [4598962586272820635, 4603966218493191966, 4589230157698109602],
                  'dirichlet_1row@0': [4604508621832262910, 4599019213853414916],
                  'dirichlet_1row@1234': [4535137233685964859, 4607182280982373633],
                  'dirichlet_1row@big': [4604049962365723971, 4599936532786492794],
                  'dirichlet_2rows@0': [4578423574339350682, 4578427049504708060, 4606955178483111910,
                                        4517791809693949863, 4593841277063035562, 4606014094717322006],
                  'dirichlet_2rows@1234': [4526221359530803645, 4599527982438168368, 4604254202388720025,
                                           4594123468816035604, 4605785518908538010, 4580714429731763235],
                  'dirichlet_2rows@big': [4602969167649222397, 4599924652737608526, 4593358298590714576,
                                          4595507373531437146, 4602566813094664190, 4599621148630178772],
                  'dirichlet_5rows@0': [4578423574339350682, 4578427049504708060, 4606955178483111910,
                                        4517791809693949863, 4593841277063035562, 4606014094717322006,
                                        4581419389521074761, 4581031262253596007, 4606834412270085443,
                                        4592776851228292478, 4596082866913276430, 4604439653323691212,
                                        4581953648255548564, 4597354250962168921, 4604939097793136390],
                  'dirichlet_5rows@1234': [4526221359530803645, 4599527982438168368, 4604254202388720025,
                                           4594123468816035604, 4605785518908538010, 4580714429731763235,
                                           4580398705377771200, 4586285566032499822, 4606651450863681219,
                                           4597736912096577100, 4593731476263608874, 4603899331855238626,
                                           4606242410368954253, 4584072068983212677, 4590080776217972980],
                  'dirichlet_5rows@big': [4602969167649222397, 4599924652737608526, 4593358298590714576,
                                          4595507373531437146, 4602566813094664190, 4599621148630178772,
                                          4596780797397195550, 4567738489998006788, 4605257380509791070,
                                          4602680354742148678, 4591472488179176836, 4600973731154640403,
                                          4585395483263514557, 4577833941725122590, 4606750872411658820],
                  'dirichlet_big_alpha@0': [4601020675529236968, 4603507890994351884, 4605960187936320554,
                                            4594056943745322841, 4596655558675193027, 4605310534203853007],
                  'dirichlet_big_alpha@1234': [4599084174793370178, 4604476141362285278, 4603922856462151625,
                                               4600190744593637485, 4604409869508176458, 4599216718501587819],
                  'dirichlet_big_alpha@big': [4602737092737025785, 4602562272043889165, 4591260060532382940,
                                              4606357963816365157, 4601717401924297420, 4603159527796821658],
                  'generalized_normal_p05@0': [4617775243026589356, 13847208110440300732, 13844687437598656028,
                                               13800752738351518915],
                  'generalized_normal_p05@1234': [13823914393866290358, 4605880200481041596, 13840483642275987432,
                                                  4620638530877110081],
                  'generalized_normal_p05@big': [4603021095815758131, 13834673053481052604, 13835635650233698703,
                                                 13849124116252917868],
                  'generalized_normal_p2@0': [4605856519995610064, 13832049649943520149, 13818501180024843120,
                                              13812678592646548418],
                  'generalized_normal_p2@1234': [13804835926467837996, 4604754480069600997, 13830003759795191357,
                                                 4585327961521330684],
                  'generalized_normal_p2@big': [4601472412348533044, 13828156540288875581, 13811738834859714080,
                                                13813998404939606975]}},
 'vmap': {'32': {'ball_small@1234': 55027287876,
                 'ball_small@big': 48540162916,
                 'ball_ynn@1234': 19003865020007,
                 'ball_ynn@big': 19107913577295,
                 'dirichlet_6@1234': 6324733134,
                 'dirichlet_6@big': 6273546303,
                 'dirichlet_ynn@1234': 9374049040897,
                 'dirichlet_ynn@big': 9372689646799},
          '64': {'ball_small@1234': 18004711916306865018,
                 'ball_small@big': 8751620188453798041,
                 'ball_ynn@1234': 7891263283425381203,
                 'ball_ynn@big': 17267614785474468903,
                 'dirichlet_6@1234': 9093896589414876566,
                 'dirichlet_6@big': 9160399030167272917,
                 'dirichlet_ynn@1234': 11130748213936971411,
                 'dirichlet_ynn@big': 10178165185229926224}}}
FM = {'xla_sum_1000@32': 2348813419,
 'xla_sum_1000@64': 9331460134903469826,
 'xla_sum_100@32': 22918561298,
 'xla_sum_100@64': 775093861048133870,
 'xla_sum_33@32': 67886864935,
 'xla_sum_33@64': 1858837946724058616,
 'xla_sum_3@32': 732776713925,
 'xla_sum_3@64': 260269637127693165,
 'ynn_exp@32': 10082593259239,
 'ynn_exp@64': 15188398221331918168,
 'ynn_log@32': 64763159981104,
 'ynn_log@64': 3685209105964428438,
 'ynn_sum_1000@32': 5872396715,
 'ynn_sum_1000@64': 4882101236922419509,
 'ynn_sum_100@32': 46986884234,
 'ynn_sum_100@64': 6202686565411631100,
 'ynn_sum_33@32': 141455412260,
 'ynn_sum_33@64': 8497388170524512643,
 'ynn_sum_3@32': 1503059859940,
 'ynn_sum_3@64': 10280358143674352152,
 'ynn_sum_5000@32': 1193385288,
 'ynn_sum_5000@64': 4675919114162986286}


SMALL_IDS = [(m, n) for m in DTYPES for n in JAX["small"][m]]


@pytest.mark.parametrize("mode, name", SMALL_IDS, ids=[f"{m}-{n}" for m, n in SMALL_IDS])
def test_small_draws_are_jax_bit_for_bit_eager_and_under_jit(mode, name):
    dt, ut = DTYPES[mode]
    call, seed = name.split("@")
    want = np.array(JAX["small"][mode][name], ut)
    for got in eager_and_jit(SMALL_CALLS, call, dt, fr.key(SEEDS[seed])):
        assert got.dtype == dt
        np.testing.assert_array_equal(got.reshape(-1).view(ut), want)


MANY_IDS = [(m, n) for m in DTYPES for n in JAX["many"][m]]


@pytest.mark.parametrize("mode, name", MANY_IDS, ids=[f"{m}-{n}" for m, n in MANY_IDS])
def test_large_draws_are_jax_bit_for_bit(mode, name):
    dt, ut = DTYPES[mode]
    call, seed = name.split("@")
    got = np.asarray(eval("jr." + MANY_CALLS[call], call_env(dt, fr.key(SEEDS[seed]))))
    assert got.dtype == dt
    flat = got.reshape(-1).view(ut)
    assert [int(flat[0]), int(flat[flat.size // 2]), int(flat[-1])] == JAX["picks"][mode][name]
    assert bit_sum(got) == JAX["many"][mode][name]


@pytest.mark.parametrize("mode", ["32", "64"])
@pytest.mark.parametrize("call", ["dirichlet_4098", "ball_4098", "dirichlet_k33", "ball_d1"])
def test_large_draws_under_jit_are_jax_bit_for_bit(mode, call):
    dt, _ = DTYPES[mode]
    got = fg.jit(lambda k: eval("jr." + MANY_CALLS[call], call_env(dt, k)))(fr.key(SEEDS["1234"]))
    assert bit_sum(got) == JAX["many"][mode][f"{call}@1234"]


VMAP_IDS = [(m, n) for m in DTYPES for n in JAX["vmap"][m]]


@pytest.mark.parametrize("mode, name", VMAP_IDS, ids=[f"{m}-{n}" for m, n in VMAP_IDS])
def test_draws_over_a_batch_of_keys_are_jax_bit_for_bit(mode, name):
    """vmap over split(key, 3): 3 x 1000 x 3 numbers go to YNNPACK though each key's 3000 would not (XLA
    sees the whole batch, and so do funcgrad's primitives), and 3 x 1 x 2 float32 logs are the C library's."""
    dt, _ = DTYPES[mode]
    call, seed = name.split("@")
    keys = fr.split(fr.key(SEEDS[seed]), 3)

    def draw(k):
        return eval("jr." + VMAP_CALLS[call], call_env(dt, k))

    for got in (fg.vmap(draw)(keys), fg.jit(fg.vmap(draw))(keys)):
        got = np.asarray(got)
        assert got.dtype == dt and got.shape[0] == 3
        assert bit_sum(got) == JAX["vmap"][mode][name]


def _grid(dt: type) -> np.ndarray:
    i = np.arange(20000, dtype=np.float64)
    return (-(i * 0.0371) % 95.0).astype(dt)


@pytest.mark.parametrize("mode", ["32", "64"])
def test_ynnpack_exp_log_and_the_two_orders_of_sums(mode):
    dt, _ = DTYPES[mode]
    x = _grid(dt)
    x[0] = 0
    assert bit_sum(_fusion_math.ynn_exp(x - x.max())) == FM[f"ynn_exp@{mode}"]
    z = np.exp(_grid(np.float64) / 4).astype(dt)
    z[0] = 1.0
    logs = _fusion_math.ynn_log(z)
    assert bit_sum(logs - logs.max()) == FM[f"ynn_log@{mode}"]
    for k in (3, 33, 100, 1000, 5000):
        rows = max(4096 // k + 1, 1)
        y = (np.arange(rows * k) % 97 * 0.173 + 0.011).astype(dt).reshape(rows, k)
        assert bit_sum(_fusion_math.ynn_sum_last(y)) == FM[f"ynn_sum_{k}@{mode}"]
        small = y[:max(1, 2000 // k)]
        if small.size < 4096:
            assert bit_sum(_fusion_math.xla_sum_last(small)) == FM[f"xla_sum_{k}@{mode}"]


def test_fusion_math_special_values_and_shapes():
    for dt in (np.float32, np.float64):
        tiny = np.finfo(dt).tiny
        e = _fusion_math.ynn_exp(np.array([0.0, -np.inf, np.inf, np.nan, -1000.0, 1.0], dt))
        assert e.dtype == dt and e[0] == 1 and e[1] == 0 and e[2] == np.inf and np.isnan(e[3]) and e[4] == 0
        assert abs(float(e[5]) / np.e - 1) < 4 * np.finfo(dt).eps
        lg = _fusion_math.ynn_log(np.array([1.0, 0.0, tiny / 4, -1.0, np.inf, np.nan, np.e], dt))
        assert lg.dtype == dt and lg[0] == 0 and lg[1] == -np.inf and lg[2] == -np.inf  # subnormals read as 0
        assert np.isnan(lg[3]) and lg[4] == np.inf and np.isnan(lg[5]) and abs(float(lg[6]) - 1) < 4 * np.finfo(dt).eps
        assert _fusion_math.ynn_exp(np.zeros((2, 0, 3), dt)).shape == (2, 0, 3)
        assert _fusion_math.ynn_log(np.ones((), dt)).shape == ()
        for total in (_fusion_math.ynn_sum_last, _fusion_math.xla_sum_last):
            assert total(np.zeros((3, 0), dt)).shape == (3,)
            x = np.arange(1, 2 * 3 * 70 + 1, dtype=dt).reshape(2, 3, 70)
            np.testing.assert_allclose(total(x), x.astype(np.float64).sum(-1), rtol=8 * np.finfo(dt).eps)
        p = _fusion_math.c_pow(np.array([4.0, 2.0, 0.0], dt), 0.5)
        assert p.dtype == dt and p[0] == 2 and abs(float(p[1]) - np.sqrt(2)) < 4 * np.finfo(dt).eps and p[2] == 0


def test_float32_single_operation_logs_of_fewer_than_16_numbers():
    """XLA leaves the last 3, 5, 6 or 7 lanes of a float32 single-operation vector to the C library's logf."""
    x = np.linspace(0.3, 2.9, 7).astype(np.float32)
    xla = _fusion_math.log_f32(x)
    for n, library_lanes in ((7, 7), (4, 0), (11, 3), (12, 0), (16, 0)):
        xs = np.resize(x, n)
        got = _fusion_math.xla_single_op_log_f32(xs, np.arange(n), n)
        np.testing.assert_array_equal(got[:n - library_lanes], np.resize(xla, n)[:n - library_lanes])
        np.testing.assert_allclose(got, np.log(xs.astype(np.float64)), rtol=2e-7)
    np.testing.assert_array_equal(_fusion_math.xla_single_op_log_f32(np.array([2.0]), [0], 3), np.log([2.0]))


def test_dirichlet_keeps_its_derivatives_on_both_sides_of_the_switch():
    """The corrections carry no derivative: the Jacobian is the composition's (a softmax of log-gamma draws,
    each differentiable in alpha by implicit reparameterisation), for XLA's and YNNPACK's numbers alike."""
    alpha = np.array([0.5, 1.0, 3.0])
    for rows in (2, 1366):
        k = fr.key(11)
        jac = fg.jacfwd(lambda a: fr.dirichlet(k, a, (rows,)))(alpha)
        logs = fr.loggamma(k, alpha, (rows, 3))
        dlogs = fg.jacfwd(lambda a: fr.loggamma(k, a, (rows, 3)))(alpha)
        p = np.exp(logs - logs.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        soft = np.einsum("bi,ij->bij", p, np.eye(3)) - np.einsum("bi,bj->bij", p, p)
        np.testing.assert_allclose(jac, np.einsum("bij,bjk->bik", soft, dlogs), rtol=1e-7, atol=1e-12)
        g = fg.grad(lambda a: fr.dirichlet(k, a, (rows,))[:, 0].sum())(alpha)
        np.testing.assert_allclose(g, jac[:, 0, :].sum(0), rtol=1e-12, atol=1e-15)
    x = fr.dirichlet(fr.key(3), np.array([0.5, 1.0, 3.0]), (1366,))
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-14)


def test_ball_and_generalized_normal_shapes_errors_and_a_traced_exponent():
    k = fr.key(5)
    for dt in (np.float32, np.float64):
        x = fr.ball(k, 3, 2.0, (2, 4), dt)
        assert x.shape == (2, 4, 3) and x.dtype == dt
        assert np.all(np.abs(x).sum(-1) <= 3) and np.all((np.abs(x.astype(np.float64)) ** 2).sum(-1) <= 1 + 1e-6)
        assert fr.ball(k, 0, 2.0, (3,), dt).shape == (3, 0)
        assert fr.ball(k, 2, 2.0, (0,), dt).shape == (0, 2)
        assert fr.generalized_normal(k, 2.0, (), dt).shape == ()
    with pytest.raises(ValueError, match="p must be positive"):
        fr.ball(k, 3, -1.0)
    with pytest.raises(ValueError, match="non-negative int"):
        fr.ball(k, -1, 2.0)
    with pytest.raises(ValueError, match="one positive number"):
        fr.generalized_normal(k, np.array([1.0, 2.0]))
    # a traced exponent: the composition (JAX's numbers need a concrete p; these agree to a few ulp)
    traced = fg.jit(lambda kk, p: fr.ball(kk, 3, p, (5,)))(k, 2.0)
    np.testing.assert_allclose(traced, fr.ball(k, 3, 2.0, (5,)), rtol=1e-12)
    np.testing.assert_array_equal(fr.ball(k, 3, np.float32(2.0), (5,)), fr.ball(k, 3, 2, (5,)))
