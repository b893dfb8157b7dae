"""The inverse error function in NumPy, with M. Giles' polynomial approximations ("Approximating
the erfinv function", GPU Computing Gems Jade Edition, 2011): the single-precision one for float32
and the double-precision one for float64. These are the approximations XLA evaluates, so normal
draws agree with JAX's (to the last bit in almost every case)."""

from __future__ import annotations

import numpy as np

from . import _xla_math

__all__ = ["erfinv"]

_F32_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_F32_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
             -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)

_F64_CENTRAL = (-3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
                1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
                6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
                2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
                1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
                4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
                0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
                0.24015818242558961693, 1.6536545626831027356)
_F64_MIDDLE = (2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
               1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
               2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
               6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
               0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
               -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
               3.0838856104922207635)
_F64_TAIL = (-2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
             -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
             2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
             -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
             7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
             1.0103004648645343977, 4.8499064014085844221)


def _horner(coefficients: tuple, w: np.ndarray) -> np.ndarray:
    return _xla_math.horner(coefficients, w)  # one FMA per step, as XLA evaluates it


def _fix_tail(x: np.ndarray, w: np.ndarray, p: np.ndarray, threshold: float, tails: tuple) -> None:
    """Recompute ``p`` where ``w >= threshold`` (|x| near 1: few elements) with the tail
    polynomials ``tails``: ``((upper_bound_of_w, shift, coefficients), ...)`` on ``sqrt(w) - shift``."""
    index = np.flatnonzero(w >= threshold)
    if not index.size:
        return
    flat_p = p.reshape(-1)
    wt = w.reshape(-1)[index]
    root = np.sqrt(wt)
    result = np.empty_like(wt)
    lower = threshold
    for upper, shift, coefficients in tails:
        sel = (wt >= lower) & (wt < upper)
        if sel.any():
            result[sel] = _horner(coefficients, root[sel] - wt.dtype.type(shift))
        lower = upper
    flat_p[index] = result


def erfinv(x: np.ndarray, open_interval: bool = False) -> np.ndarray:
    """erf⁻¹(x) for float32 or float64 ``x`` in [-1, 1] (±inf at ±1; ``open_interval=True``
    promises |x| < 1 and skips that check).

    >>> round(float(erfinv(np.array(0.5))), 14)
    0.47693627620447
    """
    x = np.asarray(x)
    if x.ndim == 0:  # NumPy turns 0-d arithmetic results into scalars, which have no out=
        return erfinv(x.reshape(1), open_interval).reshape(())
    dtype = x.dtype.type
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.multiply(x, x)
        np.negative(w, out=w)
        w = _xla_math.log1p(w)
        np.negative(w, out=w)
        # The central polynomial for every element (cheap, vectorised), then the few tail ones.
        if x.dtype == np.float32:
            p = _horner(_F32_CENTRAL, w - dtype(2.5))
            _fix_tail(x, w, p, 5.0, ((np.inf, 3.0, _F32_TAIL),))
        else:
            central = w - dtype(3.125)
            # Where w >= 6.25 the tail polynomials replace this value: clamping there keeps max |x|
            # at 3.125, which lets most steps of the polynomial use the cheaper exact sum.
            np.minimum(central, dtype(3.125), out=central)
            p = _horner(_F64_CENTRAL, central)
            _fix_tail(x, w, p, 6.25, ((16.0, 3.25, _F64_MIDDLE), (np.inf, 5.0, _F64_TAIL)))
        p *= x
        if open_interval:
            return p
        edge = np.flatnonzero(np.abs(x) == dtype(1.0))
        if edge.size:
            p.reshape(-1)[edge] = x.reshape(-1)[edge] * dtype(np.inf)
    return p
