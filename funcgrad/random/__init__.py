"""Functional random numbers: explicit keys, splittable, stageable under ``jit`` and ``vmap``.

A key is a small ``uint32`` array. Every draw is a pure function of its key: nothing is global
or stateful, so a program that needs fresh numbers splits its key (``split``, ``fold_in``) and
hands one of the new keys to each draw.

>>> import funcgrad.random as fr
>>> k = fr.key(0)
>>> k1, k2 = fr.split(k)
>>> fr.uniform(k1, (3,), dtype="float32")
array([0.8423141 , 0.18237865, 0.2271781 ], dtype=float32)

**The numbers are JAX's.** The default key implementation is threefry2x32 (Salmon et al. 2011),
laid out as JAX's default ``jax.random`` is (the "partitionable" scheme of JAX ≥ 0.5), so keys,
``split``, ``fold_in`` and ``bits`` are bit-identical to JAX's, and so are the draws built from
bits and comparisons (``uniform``, ``randint``, ``bernoulli``, ``permutation``, ``choice``,
``rademacher``, ``poisson``, ``geometric``; ``categorical`` too, unless two noisy logits tie to the
last bit). Draws that go through transcendental functions are bit-identical to JAX on CPU where
funcgrad reproduces XLA's own elementwise functions (``funcgrad.random._xla_math``: XLA's
``log1p`` and ``exp``, its float32 ``log``, ``erf`` and ``rsqrt``, the fused multiply–adds XLA
forms in polynomials, its order of sums, and XLA's rewrites of a broadcast parameter): ``uniform``
with ``minval``/``maxval``, ``normal``, ``truncated_normal``, ``exponential``, ``gumbel``, ``laplace``, ``logistic``,
``binomial``, ``multinomial``, ``lognormal``, ``pareto``, ``weibull_min``, ``wald``, ``rayleigh``,
``gamma``, ``loggamma``, ``beta``, ``chisquare``, ``t``, ``f``, ``generalized_normal``, ``maxwell``
and ``double_sided_maxwell`` in float32 and float64 (checked bit for bit against recorded JAX answers,
eager, under ``jit`` and ``vmap``). Where this depends on the processor: XLA's float32 reciprocal
square root (in the gamma family) is the processor's approximate one, which funcgrad reproduces
as AMD Zen 3 computes it (other processors, Intel's in particular, may make JAX's float32 gamma
draws differ by an ulp from funcgrad's); float64 gamma draws assume no AVX-512 (XLA's rsqrt is
``1/sqrt`` there). ``dirichlet`` and ``ball`` are JAX's bit for bit too, in float32 and float64 at
every size: XLA hands a fusion with a reduction of 4096 numbers or more (every key of a ``vmap``
counted) to YNNPACK, whose ``exp``, ``log``, ``log1p`` and order of sums funcgrad reproduces as its
AVX2 + FMA3 kernels compute them (a CPU with AVX-512 runs others), and sums rows longer than 32 in
windows (``funcgrad.random._fusion_math``); ``ball`` and ``generalized_normal`` need a concrete
``p`` (a traced one gives the composition, a few ulp away). Numbers also
depend on how XLA compiles the draw: JAX gives other float32 gamma numbers when ``a`` is a
compile-time constant inside a user's ``jit`` (XLA then folds the exact ``rsqrt``); funcgrad gives
JAX's numbers for a call of the draw itself.
``multivariate_normal`` (``cholesky``, ``eigh``, ``svd``; batched means and covariances) and
``orthogonal`` are JAX's bit for bit in float32 and float64 when SciPy is installed: jaxlib factors
with SciPy's LAPACK, and funcgrad reproduces XLA's order of ``factor @ z`` (its matrix–vector
tiles, YNNPACK's kernels; ``funcgrad.random._xla_linalg``); without SciPy, NumPy's LAPACK gives
factors an ulp or so away (and other eigenvector signs). Not reproduced: draws of 2 to 7 vectors of
dimension 4 to 7 (a small dot LLVM vectorises), which agree to a few ulp. ``eigh`` clamps
rounding-error negative eigenvalues to zero, where JAX returns NaN.
float32 draws are JAX's default numbers; float64 draws are JAX's under ``jax_enable_x64`` (JAX 0.10).

**Differences from JAX.** Keys are raw ``uint32`` arrays (JAX's legacy ``PRNGKey`` style), also
from ``key()``; the default float dtype is float64 (funcgrad follows NumPy), which is JAX's
``jax_enable_x64`` behaviour, and the default integer dtype is int64. Pass ``dtype=float32`` for
JAX's default 32-bit numbers. An integer seed is read as a 64-bit integer (as with
``jax_enable_x64``), so negative seeds differ from JAX's 32-bit mode.

**Philox.** ``key(seed, impl="philox")`` makes a 4-word key that uses NumPy's Philox generator
(NumPy's fast samplers; its numbers are not JAX's). The implementation is chosen per key and
travels with it: every function reads it off the key's last axis (2 words: threefry, 4: Philox).

**The guarantee: the same key gives the same numbers in eager mode, under ``jit`` and under
``vmap``.** A draw is a primitive (``funcgrad.prims.random``): under ``jit`` it is staged, so
each call with a new key gives new numbers; under ``vmap`` over keys each example gets exactly
the numbers its own key gives eagerly. Reparameterised draws are differentiable in their
parameters: ``uniform`` in ``minval``/``maxval``, ``normal`` through ``loc + scale * z``,
``multivariate_normal`` in ``mean``/``cov``, ``gamma``/``beta``/``dirichlet`` in their
concentrations by implicit reparameterisation (first order).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Sequence

import numpy as np

from ..core import Tracer
from ..errors import RandomKeyError
from . import _philox, _threefry
from ._sampling import PHILOX_WORDS, THREEFRY_WORDS

__all__ = [
    "key", "PRNGKey", "key_data", "wrap_key_data", "key_impl", "split", "fold_in", "bits", "uniform", "normal",
    "bernoulli", "categorical", "randint", "permutation", "choice", "gamma", "loggamma", "beta", "dirichlet",
    "multivariate_normal", "truncated_normal", "exponential", "laplace", "gumbel", "logistic", "cauchy",
    "rademacher", "poisson", "lognormal", "t", "chisquare", "pareto", "weibull_min", "maxwell", "rayleigh",
    "orthogonal", "geometric", "triangular", "wald", "generalized_normal", "ball", "double_sided_maxwell", "f",
    "clone", "binomial", "multinomial", "key_dtype",
]

_IMPLS = {"threefry2x32": THREEFRY_WORDS, "threefry": THREEFRY_WORDS, "philox": PHILOX_WORDS}
Shape = Sequence[int]


def _prims() -> Any:
    from ..prims import random as prims

    return prims


def _fnp() -> Any:
    from .. import numpy as fnp

    return fnp


# --- keys ----------------------------------------------------------------------------------------

def key(seed: Any, *, impl: str | None = None) -> Any:
    """A key from an integer seed: ``uint32[2]`` (threefry2x32, JAX's default) or, with
    ``impl="philox"``, ``uint32[4]`` (NumPy's Philox).

    >>> key(42)
    array([ 0, 42], dtype=uint32)
    """
    name = "threefry2x32" if impl is None else impl
    if name not in _IMPLS:
        raise RandomKeyError(f"impl={impl!r} is not a key implementation; expected one of "
                             f"{sorted(set(_IMPLS) - {'threefry'})}")
    if isinstance(seed, Tracer):
        if _IMPLS[name] != THREEFRY_WORDS:
            raise RandomKeyError("a Philox key needs a concrete seed; make the seed static or use threefry")
        fnp = _fnp()
        s = fnp.astype(seed, np.int64)  # the words of its 64-bit two's complement, by floor arithmetic
        hi = fnp.astype(fnp.remainder(fnp.floor_divide(s, 2**32), 2**32), np.uint32)
        return fnp.stack([hi, fnp.astype(fnp.remainder(s, 2**32), np.uint32)])
    s = np.asarray(seed)
    if s.shape != () or s.dtype.kind not in "iub":
        raise RandomKeyError(f"a seed is one integer, got {type(seed).__name__} with shape {s.shape} and dtype "
                             f"{s.dtype}; pass an int such as key(0)")
    if _IMPLS[name] == PHILOX_WORDS:
        return _philox.seed_to_key(int(s))
    hi, lo = _threefry.seed_to_key(s)
    return np.array([hi, lo], np.uint32)


PRNGKey = key


def key_data(keys: Any) -> Any:
    """The raw ``uint32`` words of ``keys`` (keys are raw words already: returned unchanged)."""
    return keys


def wrap_key_data(data: Any, *, impl: str | None = None) -> Any:
    """Keys from raw ``uint32`` words (``(..., 2)`` threefry, ``(..., 4)`` Philox), checked.

    >>> wrap_key_data(np.array([0, 42], np.uint32))
    array([ 0, 42], dtype=uint32)
    """
    words = _check_key(data, "wrap_key_data", batched=True)
    if impl is not None and impl not in _IMPLS:
        raise RandomKeyError(f"wrap_key_data: impl={impl!r} is not a key implementation; expected one of "
                             f"{sorted(set(_IMPLS) - {'threefry'})}")
    if impl is not None and _IMPLS.get(impl) != words:
        raise RandomKeyError(f"wrap_key_data: impl={impl!r} needs {_IMPLS.get(impl)} words per key, "
                             f"the data has {words}")
    return data


def key_impl(k: Any) -> str:
    """``"threefry2x32"`` or ``"philox"``: the generator a key (or batch of keys) uses."""
    words = _check_key(k, "key_impl", batched=True)
    return "threefry2x32" if words == THREEFRY_WORDS else "philox"


def _shape_dtype(x: Any) -> tuple[tuple[int, ...], np.dtype]:
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return tuple(x.shape), np.dtype(x.dtype)
    a = np.asarray(x)
    return a.shape, a.dtype


def _check_key(k: Any, fn: str, batched: bool = False) -> int:
    shape, dtype = _shape_dtype(k)
    ok = dtype == np.uint32 and len(shape) >= 1 and shape[-1] in (THREEFRY_WORDS, PHILOX_WORDS)
    if not ok or (not batched and len(shape) != 1):
        raise RandomKeyError(
            f"{fn} expected one key, a uint32 array of shape (2,) (threefry) or (4,) (philox), but got "
            f"{dtype} with shape {shape}. Make keys with funcgrad.random.key(seed); to use a batch of keys, "
            f"map over them with funcgrad.vmap(lambda k: {fn}(k, ...))(keys).")
    return shape[-1]


def _shape(shape: Any, fn: str) -> tuple[int, ...]:
    if shape is None:
        return ()
    try:
        return (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(
            operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{fn}: shape must be a tuple of ints, got {shape!r}") from None


def _real_param(x: Any, name: str, fn: str, example: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of the parameter ``name`` of ``fn``; TypeError unless it holds real numbers."""
    shape, dtype = _shape_dtype(x)
    if dtype.kind not in "biuf":
        got = "None" if x is None else f"{type(x).__name__} {x!r:.60}" + (
            f" (dtype {dtype})" if dtype.kind != "O" else "")
        raise TypeError(f"{fn}: {name} must be a real number or an array of them, got {got}; for example "
                        f"{fn}({example})")
    return shape, dtype


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _float_dtype(dtype: Any, fn: str) -> np.dtype:
    d = np.dtype(np.float64 if dtype is None else dtype)
    if d not in (np.float32, np.float64):
        raise TypeError(f"{fn} draws float32 or float64 numbers, got dtype={d}")
    return d


def split(key: Any, num: int | Shape = 2) -> Any:
    """``num`` new independent keys (an int or a shape), stacked on the leading axes.

    >>> split(key(0))
    array([[1797259609, 2579123966],
           [ 928981903, 3453687069]], dtype=uint32)
    """
    _check_key(key, "split")
    return _prims().random_split(key, shape=_shape(num, "split"))


def fold_in(key: Any, data: Any) -> Any:
    """A new key from ``key`` and a 32-bit unsigned integer ``data`` (a step number, an index).

    >>> fold_in(key(0), 7)
    array([2716826189,  292468403], dtype=uint32)
    """
    _check_key(key, "fold_in")
    if not isinstance(data, Tracer):
        d = np.asarray(data)
        if d.shape != () or d.dtype.kind not in "iub" or not 0 <= int(d) < 2**32:
            raise ValueError(f"fold_in: data must be one integer in [0, 2**32), got {data!r}")
        data = np.uint32(int(d))
    return _prims().random_fold_in(key, data)


def bits(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Uniformly random unsigned integers (uint8, 16, 32 or 64; by default uint64, as JAX's
    ``jax_enable_x64`` mode).

    >>> bits(key(0), (3,), dtype="uint32")
    array([4070199207, 4202968722, 1427181096], dtype=uint32)
    """
    _check_key(key, "bits")
    d = np.dtype(np.uint64 if dtype is None else dtype)
    if d.kind != "u":
        raise TypeError(f"bits: dtype must be an unsigned integer type, got {d}")
    return _prims().random_bits(key, bit_width=d.itemsize * 8, shape=_shape(shape, "bits"))


# --- continuous draws ------------------------------------------------------------------------------

def _is_default(v: Any, value: float) -> bool:
    return type(v) in (int, float) and v == value


def _as_dtype(x: Any, dtype: np.dtype) -> Any:
    """A bound as ``dtype`` (Python numbers stay numbers: weakly typed, exact)."""
    if type(x) in (int, float):
        return float(x)
    return _fnp().astype(x, dtype)


def uniform(key: Any, shape: Shape = (), dtype: Any = None, minval: Any = 0.0, maxval: Any = 1.0) -> Any:
    """Floats uniform in ``[minval, maxval)``; differentiable in ``minval`` and ``maxval``.

    >>> uniform(key(0), (2,))
    array([0.41845711, 0.21629545])
    """
    _check_key(key, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    shape = _shape(shape, "uniform")
    u = _prims().random_uniform(key, shape=shape, dtype=dtype)
    if _is_default(minval, 0.0) and _is_default(maxval, 1.0):
        return u
    fnp = _fnp()
    if type(minval) in (int, float) and type(maxval) in (int, float):
        # JAX converts the bounds to dtype and subtracts there; exact as Python floats (weak types)
        lo, hi = float(dtype.type(minval)), float(dtype.type(maxval))
        span: Any = float(dtype.type(hi) - dtype.type(lo))
    else:
        lo, hi = _as_dtype(minval, dtype), _as_dtype(maxval, dtype)
        span = hi - lo
    # XLA fuses u * span + lo into one FMA: the residual (no derivative) makes it that, bit for bit
    out = u * span + lo
    out = out + _prims().random_fma_residual(u, span, lo)
    out = fnp.maximum(lo, out)
    return fnp.broadcast_to(out, shape) if out.shape != shape else out


def normal(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Standard normal floats. For N(μ, σ²) write ``mu + sigma * normal(k, shape)``: the
    result is differentiable in ``mu`` and ``sigma``.

    >>> normal(key(0), (2,), dtype="float32")
    array([1.6226422, 2.0252647], dtype=float32)
    """
    _check_key(key, "normal")
    return _prims().random_normal(key, shape=_shape(shape, "normal"), dtype=_float_dtype(dtype, "normal"))


def _tiny_uniform(key: Any, shape: tuple[int, ...], dtype: np.dtype, minval: float) -> Any:
    return uniform(key, shape, dtype, minval=float(dtype.type(minval)), maxval=1.0)


def _standard(key: Any, shape: Shape, dtype: Any, dist: str) -> Any:
    _check_key(key, dist)
    return _prims().random_standard(key, shape=_shape(shape, dist), dtype=_float_dtype(dtype, dist), dist=dist)


def exponential(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Exponential(1) floats: ``-log1p(-u)``.

    >>> bool(exponential(key(0), (100,)).min() > 0)
    True
    """
    return _standard(key, shape, dtype, "exponential")


def _gumbel_mode(mode: Any, fn: str) -> str:
    """JAX's ``mode`` of the Gumbel sampler: None (its default, "low"), "low", "high" or "highest"."""
    if mode is None or mode == "low":
        return "low"
    if mode in ("high", "highest"):
        return str(mode)
    raise ValueError(f"{fn}: mode must be None, 'low' or 'high' (or JAX's 'highest'), got {mode!r}")


def gumbel(key: Any, shape: Shape = (), dtype: Any = None, mode: str | None = None) -> Any:
    """Standard Gumbel floats: ``-log(-log(u))``. ``mode="high"`` (as JAX's) fills in the low bits of
    ``u`` below 1/2 from a second uniform and takes ``-log(-log1p(-x))``: in float32 the largest
    draw grows from about 16 to about 32, for twice the random bits. JAX's ``mode="highest"`` reads
    64 random bits as a fixed-point fraction in float32 (in float64 it is ``"high"``).

    >>> gumbel(key(0), (2,)).shape
    (2,)
    >>> gumbel(key(0), (2,), mode="high").shape
    (2,)
    """
    mode = _gumbel_mode(mode, "gumbel")
    if mode == "highest" and _float_dtype(dtype, "gumbel") == np.float32:
        return _standard(key, shape, dtype, "gumbel_highest")  # 64 random bits per float32 draw
    if mode != "low":
        return _standard(key, shape, dtype, "gumbel_high")  # float64's "highest" is its "high", as in JAX
    return _standard(key, shape, dtype, "gumbel")


def laplace(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Standard Laplace floats.

    >>> laplace(key(0), (2,)).shape
    (2,)
    """
    return _standard(key, shape, dtype, "laplace")


def logistic(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Standard logistic floats: ``log(u) - log1p(-u)``.

    >>> logistic(key(0), (2,)).shape
    (2,)
    """
    return _standard(key, shape, dtype, "logistic")


def cauchy(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Standard Cauchy floats: ``tan(π (u - 1/2))``.

    >>> cauchy(key(0), (2,)).shape
    (2,)
    """
    _check_key(key, "cauchy")
    dtype = _float_dtype(dtype, "cauchy")
    u = _tiny_uniform(key, _shape(shape, "cauchy"), dtype, np.finfo(dtype).eps)
    return _fnp().tan(float(dtype.type(math.pi)) * (u - 0.5))


def truncated_normal(key: Any, lower: Any, upper: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Standard normal floats conditioned on ``[lower, upper]`` (inverse-CDF method).

    >>> x = truncated_normal(key(0), -1.0, 2.0, (100,))
    >>> bool(x.min() >= -1.0 and x.max() <= 2.0)
    True
    """
    _check_key(key, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    if shape is None:
        shape = np.broadcast_shapes(_shape_dtype(lower)[0], _shape_dtype(upper)[0])
    shape = _shape(shape, "truncated_normal")
    lo, hi = _bounds(lower, upper, shape, dtype)
    return _prims().random_truncated_normal(key, lo, hi, shape=shape, dtype=dtype)


def _bounds(lower: Any, upper: Any, shape: tuple[int, ...], dtype: Any) -> tuple[Any, Any]:
    fnp = _fnp()
    out = []
    for b in (lower, upper):
        if isinstance(b, Tracer):
            out.append(fnp.astype(b, dtype))
        else:
            out.append(np.asarray(b, dtype))
    return tuple(out)  # type: ignore[return-value]


# --- discrete draws ------------------------------------------------------------------------------

def bernoulli(key: Any, p: Any = 0.5, shape: Shape | None = None, mode: str = "low") -> Any:
    """Booleans, True with probability ``p`` (``uniform < p``, in ``p``'s float dtype).
    ``mode="high"`` (as JAX's) compares two uniforms, ``u2 · 2**-nmant < p - u1``: correct for
    ``p`` below the uniform's resolution (about 1e-7 in float32), for twice the random bits.

    >>> bernoulli(key(0), 0.5, (4,))
    array([ True,  True, False, False])
    >>> bernoulli(key(0), 0.5, (4,), mode="high").shape
    (4,)
    """
    _check_key(key, "bernoulli")
    if mode not in ("low", "high"):
        raise ValueError(f"bernoulli: mode must be 'low' or 'high', got {mode!r}")
    p_shape, dtype = _shape_dtype(p)
    if dtype.kind != "f" or type(p) in (int, float):
        dtype = np.dtype(np.float64)
    if shape is None:
        shape = p_shape
    shape = _shape(shape, "bernoulli")
    if mode == "high":
        pair = _prims().random_uniform(key, shape=(2,) + shape, dtype=dtype)
        low_bits = pair[1] * float(2.0 ** -np.finfo(dtype).nmant)  # exact: a power-of-two scaling
        return low_bits < p - pair[0]
    u = _prims().random_uniform(key, shape=shape, dtype=dtype)
    return u < p


def rademacher(key: Any, shape: Shape = (), dtype: Any = np.int64) -> Any:
    """-1 or +1, each with probability 1/2.

    >>> rademacher(key(0), (4,))
    array([ 1,  1, -1, -1])
    """
    b = bernoulli(key, 0.5, _shape(shape, "rademacher"))
    return 2 * _fnp().astype(b, dtype) - 1


def poisson(key: Any, lam: Any, shape: Shape | None = None, dtype: Any = np.int64) -> Any:
    """Poisson counts with rate ``lam`` (Knuth's method below 10, transformed rejection above;
    computed in float32, as JAX does).

    >>> poisson(key(0), 3.0, (5,))
    array([0, 0, 4, 4, 1])
    """
    _check_key(key, "poisson")
    d = np.dtype(dtype)
    if d.kind not in "iu":
        raise TypeError(f"poisson: dtype must be an integer type, got {d}")
    lam_shape = _shape_dtype(lam)[0]
    shape = lam_shape if shape is None else _shape(shape, "poisson")
    fnp = _fnp()
    rate = fnp.astype(lam, np.float32) if isinstance(lam, Tracer) else np.asarray(lam, np.float32)
    if tuple(rate.shape) != shape:
        rate = fnp.broadcast_to(rate, shape)
    return _prims().random_poisson(key, rate, shape=shape, dtype=d)


def binomial(key: Any, n: Any, p: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Binomial counts of ``n`` trials with success probability ``p``, as floats (JAX's
    convention), by JAX's method: waiting times for ``n·min(p, 1-p) <= 10``, BTRS rejection above.
    NaN for a negative or NaN ``n`` or an invalid ``p``; ``inf`` for an infinite ``n``.

    >>> binomial(key(0), 10.0, 0.3, (5,))
    array([4., 1., 3., 4., 3.])
    """
    _check_key(key, "binomial")
    fnp = _fnp()
    dtype = _float_dtype(dtype, "binomial")
    n_shape, _ = _real_param(n, "n (the number of trials)", "binomial", "key, 10, 0.3")
    p_shape, p_dtype = _real_param(p, "p (the success probability)", "binomial", "key, 10, 0.3")
    if shape is None:
        try:
            shape = np.broadcast_shapes(n_shape, p_shape)
        except ValueError:
            raise ValueError(f"binomial: n with shape {n_shape} and p with shape {p_shape} do not broadcast "
                             "together; give them broadcastable shapes") from None
    else:
        shape = _shape(shape, "binomial")
        for name, got in (("n", n_shape), ("p", p_shape)):
            if not _broadcasts_to(got, shape):
                raise ValueError(f"binomial: {name} with shape {got} does not broadcast to shape={shape}; give "
                                 f"{name} a shape that does (n has shape {n_shape}, p has shape {p_shape})")
    float_dtype = p_dtype if p_dtype.kind == "f" and type(p) is not float else dtype
    prob = fnp.astype(p, float_dtype) if isinstance(p, Tracer) else np.asarray(p, float_dtype)
    count = fnp.astype(n, float_dtype) if isinstance(n, Tracer) else np.asarray(n, float_dtype)
    if tuple(prob.shape) != shape:
        prob = fnp.broadcast_to(prob, shape)
    if tuple(count.shape) != shape:
        count = fnp.broadcast_to(count, shape)
    return _prims().random_binomial(key, count, prob, shape=shape, dtype=dtype)


def multinomial(key: Any, n: Any, p: Any, *, shape: Shape | None = None, dtype: Any = None,
                unroll: int | bool = 1) -> Any:
    """Counts of ``n`` trials over the outcomes of the last axis of ``p``, as floats: one binomial
    per outcome on what is left, with probability ``p_i / (p_i + ... + p_last)`` (``unroll`` is
    accepted for JAX's signature; the loop over outcomes runs in Python).

    >>> multinomial(key(0), 10.0, np.array([0.2, 0.3, 0.5]))
    array([1., 4., 5.])
    """
    _check_key(key, "multinomial")
    fnp = _fnp()
    n_shape, _ = _real_param(n, "n (the number of trials)", "multinomial", "key, 10, np.array([0.2, 0.8])")
    p_shape, p_dtype = _real_param(p, "p (the outcome probabilities)", "multinomial",
                                   "key, 10, np.array([0.2, 0.8])")
    if len(p_shape) < 1:
        raise ValueError("multinomial: p must have at least one axis (the outcomes)")
    float_dtype = p_dtype if p_dtype.kind == "f" else np.dtype(np.float64)
    shape = p_shape if shape is None else _shape(shape, "multinomial")
    if not shape or not _broadcasts_to(p_shape, shape):
        raise ValueError(f"multinomial: p with shape {p_shape} does not broadcast to shape={shape} (the shape of "
                         f"the counts, outcomes last); pass shape=batch + ({p_shape[-1]},)")
    if not _broadcasts_to(n_shape, shape[:-1]):
        raise ValueError(f"multinomial: n with shape {n_shape} does not broadcast to p's batch shape {shape[:-1]} "
                         f"(p has shape {p_shape}, its last axis the outcomes); give n one count per row of p: "
                         f"shape {shape[:-1]}, one that broadcasts to it, or a scalar")
    probs = fnp.broadcast_to(fnp.astype(p, float_dtype), shape)
    remainder = fnp.broadcast_to(fnp.astype(n, float_dtype), shape[:-1])
    probs = fnp.moveaxis(probs, -1, 0)
    remaining = fnp.flip(fnp.cumsum(fnp.flip(probs, 0), axis=0), 0)
    ratios = probs / fnp.where(remaining == 0, 1.0, remaining)
    keys = split(key, shape[-1])
    counts = []
    for i in range(shape[-1]):
        count = binomial(keys[i], remainder, fnp.clip(ratios[i], 0, 1), dtype=float_dtype)
        remainder = remainder - count
        counts.append(count)
    out = fnp.stack(counts, axis=-1)
    return fnp.astype(out, _float_dtype(dtype, "multinomial"))


def key_dtype(impl: str | None = None) -> np.dtype:
    """The dtype of keys: ``uint32`` for every implementation (funcgrad's keys are raw key words;
    JAX's typed keys have their own dtype, which ``jax.random.key_data`` turns into these words).

    >>> key_dtype()
    dtype('uint32')
    """
    name = "threefry2x32" if impl is None else impl
    if name not in _IMPLS:
        raise RandomKeyError(f"impl={impl!r} is not a key implementation; expected one of "
                             f"{sorted(set(_IMPLS) - {'threefry'})}")
    return np.dtype(np.uint32)


def randint(key: Any, shape: Shape, minval: Any, maxval: Any, dtype: Any = np.int64) -> Any:
    """Integers uniform in ``[minval, maxval)``.

    >>> randint(key(0), (5,), 0, 10)
    array([5, 1, 5, 7, 3])
    """
    _check_key(key, "randint")
    d = np.dtype(dtype)
    if d.kind not in "iu":
        raise TypeError(f"randint: dtype must be an integer type, got {d}")
    shape = _shape(shape, "randint")
    lo, hi = minval, maxval
    if not isinstance(lo, Tracer):
        lo = np.asarray(lo)
    if not isinstance(hi, Tracer):
        hi = np.asarray(hi)
    return _prims().random_randint(key, lo, hi, shape=shape, dtype=d)


def _shuffle(key: Any, x: Any, axis: int) -> Any:
    """``x`` reordered along ``axis`` by sorting random 32-bit keys, in enough rounds that ties
    are negligible (independent per slice when ``x`` has other axes)."""
    fnp = _fnp()
    rounds = math.ceil(3 * math.log(max(1, int(np.prod(x.shape)))) / math.log(2**32 - 1))
    for _ in range(rounds):
        key, sub = split(key)
        order = fnp.argsort(bits(sub, x.shape, np.uint32), axis=axis, kind="stable")
        x = fnp.take_along_axis(x, order, axis=axis)
    return x


def permutation(key: Any, x: Any, axis: int = 0, independent: bool = False) -> Any:
    """A random permutation of ``range(x)`` (an int), or of ``x`` along ``axis``
    (differentiable in ``x``). ``independent=True`` shuffles each slice on its own.

    >>> permutation(key(0), 5)
    array([0, 1, 4, 3, 2])
    """
    _check_key(key, "permutation")
    fnp = _fnp()
    if isinstance(x, (int, np.integer)) or (not isinstance(x, Tracer) and np.ndim(x) == 0):
        return _shuffle(key, np.arange(int(x)), 0)
    ndim = len(x.shape) if hasattr(x, "shape") else np.ndim(x)
    if ndim == 0:
        raise ValueError("permutation: x must be an int or an array with at least one axis")
    axis = axis % ndim
    if independent or ndim == 1:
        return _shuffle(key, x if hasattr(x, "shape") else np.asarray(x), axis)
    order = _shuffle(key, np.arange(x.shape[axis]), 0)
    return fnp.take(x, order, axis=axis)


def choice(key: Any, a: Any, shape: Shape = (), replace: bool = True, p: Any = None, axis: int = 0,
           mode: str | None = None) -> Any:
    """Draws from ``range(a)`` (an int) or from ``a`` along ``axis``, with or without replacement,
    uniformly or with probabilities ``p``. ``mode`` is the Gumbel sampler's (see :func:`gumbel`),
    used as in JAX only with ``p`` and ``replace=False``.

    >>> choice(key(0), 10, (3,), replace=False)
    array([0, 1, 8])
    """
    _check_key(key, "choice")
    mode = _gumbel_mode(mode, "choice")
    fnp = _fnp()
    shape = _shape(shape, "choice")
    scalar = isinstance(a, (int, np.integer)) or (not isinstance(a, Tracer) and np.ndim(a) == 0)
    n = int(a) if scalar else a.shape[axis]
    draws = math.prod(shape)
    if not replace and draws > n:
        raise ValueError(f"choice: cannot take {draws} draws from {n} items without replacement")
    if p is None:
        if replace:
            index = randint(key, shape, 0, n)
        else:
            index = fnp.reshape(permutation(key, n)[:draws], shape)
    else:
        p = p if isinstance(p, Tracer) else np.asarray(p)
        if tuple(p.shape) != (n,):
            raise ValueError(f"choice: p must have shape ({n},), got {tuple(p.shape)}")
        if replace:
            cumulative = fnp.cumsum(p)
            r = cumulative[-1] * (1 - uniform(key, shape, p.dtype))
            # searchsorted(cumulative, r): how many cumulative probabilities lie below r
            index = fnp.sum(cumulative < fnp.expand_dims(r, -1), axis=-1)
        else:
            g = gumbel(key, (n,), p.dtype, mode=mode) + fnp.log(p)
            index = fnp.reshape(fnp.argsort(-g, kind="stable")[:draws], shape)
    if scalar:
        return index
    return fnp.take(a, index, axis=axis)


def categorical(key: Any, logits: Any, axis: int = -1, shape: Shape | None = None, replace: bool = True,
                mode: str | None = None) -> Any:
    """Category indices drawn with probabilities ``softmax(logits)`` along ``axis``
    (the Gumbel-max trick). ``replace=False`` draws the leading ``shape`` axes (those before the
    logits' batch shape) without replacement, as JAX: the top ``k`` of ``logits + gumbel``.
    ``mode`` is the Gumbel sampler's (see :func:`gumbel`).

    >>> categorical(key(0), np.log(np.array([0.1, 0.2, 0.7])), shape=(4,))
    array([2, 2, 2, 1])
    >>> sorted(categorical(key(0), np.zeros(5), shape=(5,), replace=False).tolist())
    [0, 1, 2, 3, 4]
    """
    _check_key(key, "categorical")
    mode = _gumbel_mode(mode, "categorical")
    fnp = _fnp()
    logits = logits if isinstance(logits, Tracer) else np.asarray(logits)
    ndim = len(logits.shape)
    axis = axis % ndim
    batch = tuple(logits.shape[:axis]) + tuple(logits.shape[axis + 1:])
    shape = batch if shape is None else _shape(shape, "categorical")
    if shape[len(shape) - len(batch):] != batch:
        raise ValueError(f"categorical: shape {shape} must end with the logits' batch shape {batch}")
    prefix = shape[: len(shape) - len(batch)]
    dtype = np.dtype(logits.dtype) if np.dtype(logits.dtype).kind == "f" else np.dtype(np.float64)
    if not replace:
        return _categorical_without_replacement(key, logits, axis, shape, prefix, dtype, mode)
    noise_shape = list(shape[len(prefix):])
    noise_shape.insert(axis, logits.shape[axis])
    g = gumbel(key, prefix + tuple(noise_shape), dtype, mode=mode)
    return fnp.argmax(g + fnp.reshape(logits, (1,) * len(prefix) + tuple(logits.shape)), axis=axis + len(prefix))



def _categorical_without_replacement(key: Any, logits: Any, axis: int, shape: tuple[int, ...],
                                     prefix: tuple[int, ...], dtype: np.dtype, mode: str) -> Any:
    """The Gumbel top-k trick: one Gumbel draw per logit, the ``k = prod(prefix)`` largest of
    ``logits + g`` along ``axis`` (ties to the lower index), laid out as ``prefix + batch``."""
    fnp = _fnp()
    k, n = math.prod(prefix), logits.shape[axis]
    if k > n:
        raise ValueError(f"categorical: cannot take {k} draws (shape {shape}) from {n} categories without "
                         f"replacement; draw at most {n}, or pass replace=True")
    perturbed = fnp.astype(logits, dtype) + gumbel(key, tuple(logits.shape), dtype, mode=mode)
    ranked = fnp.argsort(-fnp.moveaxis(perturbed, axis, -1), axis=-1, kind="stable")[..., :k]
    # (batch..., k) -> (k, batch...) -> prefix + batch; int32 as JAX's top_k indices
    return fnp.astype(fnp.reshape(fnp.moveaxis(ranked, -1, 0), shape), np.int32)

# --- gamma family ---------------------------------------------------------------------------------

def _gamma(key: Any, a: Any, shape: Shape | None, dtype: Any, log_space: bool | str, fn: str) -> Any:
    _check_key(key, fn)
    fnp = _fnp()
    if dtype is None and type(a) not in (int, float) and _shape_dtype(a)[1].kind == "f":
        dtype = _shape_dtype(a)[1]  # float32 concentrations give float32 draws
    dtype = _float_dtype(dtype, fn)
    a = fnp.astype(a, dtype) if isinstance(a, Tracer) else np.asarray(a, dtype)
    shape = tuple(a.shape) if shape is None else _shape(shape, fn)
    if tuple(a.shape) != shape:
        a = fnp.broadcast_to(a, shape)
    return _prims().random_gamma(key, a, shape=shape, log_space=log_space)


def gamma(key: Any, a: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Gamma(a, 1) floats; differentiable in ``a`` (implicit reparameterisation).

    >>> bool(gamma(key(0), 2.0, (100,)).min() > 0)
    True
    """
    return _gamma(key, a, shape, dtype, False, "gamma")


def loggamma(key: Any, a: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """log of Gamma(a, 1) floats, accurate for small ``a`` where the draws underflow."""
    return _gamma(key, a, shape, dtype, True, "loggamma")


def beta(key: Any, a: Any, b: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Beta(a, b) floats, as ``Ga / (Ga + Gb)`` from two log-gamma draws.

    >>> x = beta(key(0), 2.0, 3.0, (100,))
    >>> bool(x.min() > 0 and x.max() < 1)
    True
    """
    fnp = _fnp()
    if shape is None:
        shape = np.broadcast_shapes(_shape_dtype(a)[0], _shape_dtype(b)[0])
    key_a, key_b = split(key)
    log_a = loggamma(key_a, a, shape, dtype)
    log_b = loggamma(key_b, b, shape, dtype)
    top = fnp.maximum(log_a, log_b)
    ga, gb = _xla_exp(log_a - top), _xla_exp(log_b - top)
    return ga / (ga + gb)


def dirichlet(key: Any, alpha: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Dirichlet(alpha) vectors along the last axis, as normalised gamma draws.

    >>> x = dirichlet(key(0), np.array([1.0, 2.0, 3.0]), (2,))
    >>> x.shape, bool(np.allclose(x.sum(-1), 1.0))
    ((2, 3), True)
    """
    fnp = _fnp()
    alpha_shape = _shape_dtype(alpha)[0]
    if len(alpha_shape) < 1:
        raise ValueError("dirichlet: alpha must have at least one axis (the categories)")
    shape = alpha_shape[:-1] if shape is None else _shape(shape, "dirichlet")
    # JAX's numbers: its log-gamma draws, exp, order of the sum and reciprocal product as XLA computes
    # them in the dirichlet program (YNNPACK's from 4096 numbers on, every key of a batch counted); the
    # corrections carry no derivative, so this differentiates as a softmax of log-gamma draws
    logs = _gamma(key, alpha, shape + alpha_shape[-1:], dtype, "dirichlet", "dirichlet")
    logs = logs - fnp.max(logs, axis=-1, keepdims=True)
    e = fnp.exp(logs)
    e = e + _prims().random_xla_correction(logs, e, fn="dirichlet_exp")
    plain = e / fnp.sum(e, axis=-1, keepdims=True)
    return plain + _prims().random_xla_correction(e, plain, fn="normalise")


def multivariate_normal(key: Any, mean: Any, cov: Any, shape: Shape | None = None, dtype: Any = None,
                        method: str = "cholesky") -> Any:
    """Normal vectors with ``mean`` and covariance ``cov`` (``method``: ``"cholesky"``, ``"eigh"``
    or ``"svd"``); differentiable in ``mean`` and ``cov``.

    >>> multivariate_normal(key(0), np.zeros(2), np.eye(2), (3,)).shape
    (3, 2)
    """
    _check_key(key, "multivariate_normal")
    fnp = _fnp()
    mean_shape, mean_dtype = _shape_dtype(mean)
    cov_shape, cov_dtype = _shape_dtype(cov)
    if dtype is None:
        dtype = np.result_type(mean_dtype, cov_dtype, np.float32)
    dtype = _float_dtype(dtype, "multivariate_normal")
    if len(mean_shape) < 1 or cov_shape[-2:] != mean_shape[-1:] * 2:
        raise ValueError(f"multivariate_normal: mean must be (..., n) and cov (..., n, n); got {mean_shape} "
                         f"and {cov_shape}")
    if shape is None:
        shape = np.broadcast_shapes(mean_shape[:-1], cov_shape[:-2])
    shape = _shape(shape, "multivariate_normal")
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError(f"multivariate_normal: method must be 'cholesky', 'eigh' or 'svd', got {method!r}")
    draw_shape = shape + mean_shape[-1:]
    z = normal(key, draw_shape, dtype)
    prims = _prims()
    erfinv = prims.random_standard(key, shape=draw_shape, dtype=dtype, dist="erfinv") if mean_shape[-1] == 1 else z
    mean, cov = _param(mean, dtype), _param(cov, dtype)
    # JAX's numbers: SciPy's LAPACK (JAX's) and XLA's order of the product (random._xla_linalg)
    exact = prims.random_mvn_exact(mean, cov, z, erfinv, method=method)
    if not (isinstance(mean, Tracer) or isinstance(cov, Tracer)):
        return exact
    # differentiable in mean and cov: the composition's derivative on JAX's value (its value adds 0)
    if method != "svd":  # JAX factors the symmetrised matrix
        cov = (cov + fnp.swapaxes(cov, -1, -2)) * 0.5
    if method == "cholesky":
        factor = fnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = fnp.linalg.eigh(cov)
        factor = v * fnp.sqrt(fnp.maximum(w, 0.0))[..., None, :]
    else:
        u, s, _ = fnp.linalg.svd(cov)
        factor = u * fnp.sqrt(s)[..., None, :]
    plain = mean + fnp.einsum("...ij,...j->...i", factor, z)
    from .. import stop_gradient

    return exact + (plain - stop_gradient(plain))


# --- more distributions, composed from the draws above ------------------------------------------------

def _xla_exp(x: Any) -> Any:
    """``exp(x)`` with XLA CPU's bits (JAX's numbers), differentiable as ``exp``: NumPy's value plus
    a derivative-free correction."""
    plain = _fnp().exp(x)
    return plain + _prims().random_xla_correction(x, plain, fn="exp")


def _param(x: Any, dtype: np.dtype) -> Any:
    return _fnp().astype(x, dtype) if isinstance(x, Tracer) else np.asarray(x, dtype)


def lognormal(key: Any, sigma: Any = 1.0, shape: Shape | None = None, dtype: Any = None) -> Any:
    """``exp(sigma * z)`` for standard normal ``z``; differentiable in ``sigma``.

    >>> bool(lognormal(key(0), 0.5, (100,)).min() > 0)
    True
    """
    shape = _shape_dtype(sigma)[0] if shape is None else _shape(shape, "lognormal")
    d = _float_dtype(dtype, "lognormal")
    s = _param(sigma, d)
    if tuple(s.shape) == shape:
        return _xla_exp(normal(key, shape, d) * s)
    # JAX's numbers: XLA folds a broadcast sigma into the normal draw's final factor √2, so the
    # product is erfinv(u) · (√2 σ) (normal(key) is erfinv(u) · √2)
    _check_key(key, "lognormal")
    e = _prims().random_standard(key, shape=shape, dtype=d, dist="erfinv")
    return _xla_exp(e * (s * d.type(math.sqrt(2.0))))


def chisquare(key: Any, df: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Chi-squared draws with ``df`` degrees of freedom: ``2 · Gamma(df/2)``.

    >>> chisquare(key(0), 3.0, (4,)).shape
    (4,)
    """
    shape = _shape_dtype(df)[0] if shape is None else _shape(shape, "chisquare")
    return _xla_exp(loggamma(key, df * 0.5, shape, dtype)) * 2.0  # as JAX computes it


def t(key: Any, df: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Student's t draws: ``z · sqrt((df/2) / Gamma(df/2))`` from two split keys; the shape is
    ``df``'s unless ``shape`` is given (as in JAX).

    >>> t(key(0), 3.0, (4,)).shape
    (4,)
    >>> t(key(0), np.array([1.0, 2.0, 3.0])).shape
    (3,)
    """
    _check_key(key, "t")
    dtype = _float_dtype(dtype, "t")
    df_shape = _shape_dtype(df)[0]
    shape = df_shape if shape is None else _shape(shape, "t")
    if not _broadcasts_to(df_shape, shape):
        raise ValueError(f"t: df of shape {df_shape} does not broadcast to shape {shape}; "
                         f"pass a shape that ends with df's shape, or shape=None for df's own")
    key_normal, key_gamma = split(key)
    df = _fnp().astype(df, dtype) if isinstance(df, Tracer) else np.asarray(df, dtype)  # as JAX: df in dtype
    half = df * 0.5
    return normal(key_normal, shape, dtype) * _fnp().sqrt(half / gamma(key_gamma, half, shape, dtype))


def pareto(key: Any, b: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Pareto draws with shape ``b`` (support ``[1, ∞)``): ``exp(E / b)`` for exponential ``E``.

    >>> bool(pareto(key(0), 2.0, (50,)).min() >= 1)
    True
    """
    shape = _shape_dtype(b)[0] if shape is None else _shape(shape, "pareto")
    d = _float_dtype(dtype, "pareto")
    b = _param(b, d)
    e = exponential(key, shape, d)
    # JAX's numbers: XLA divides by a broadcast b as a product with its reciprocal
    return _xla_exp(e / b if tuple(b.shape) == shape else e * (1.0 / b))


def weibull_min(key: Any, scale: Any, concentration: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Weibull draws: ``(-log1p(-u))^(1/concentration) · scale``.

    >>> weibull_min(key(0), 2.0, 1.5, (3,)).shape
    (3,)
    """
    return exponential(key, shape, dtype) ** (1.0 / concentration) * scale  # -log1p(-u), as JAX's


def maxwell(key: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """Maxwell–Boltzmann draws: the norm of a standard normal 3-vector.

    >>> bool(maxwell(key(0), (10,)).min() > 0)
    True
    """
    _check_key(key, "maxwell")
    # one primitive: the sum of squares in XLA's order (JAX's numbers bit for bit, see _sampling.maxwell)
    return _prims().random_standard(key, shape=_shape(shape, "maxwell"), dtype=_float_dtype(dtype, "maxwell"),
                                    dist="maxwell")


def rayleigh(key: Any, scale: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Rayleigh draws: ``scale · sqrt(-2 log u)``.

    >>> bool(rayleigh(key(0), 2.0, (10,)).min() > 0)
    True
    """
    shape = _shape_dtype(scale)[0] if shape is None else _shape(shape, "rayleigh")
    u = uniform(key, shape, dtype)
    log_u = _fnp().log(u)
    log_u = log_u + _prims().random_xla_correction(u, log_u, fn="log")  # XLA's log: JAX's numbers
    return scale * _fnp().sqrt(log_u * -2.0)


def orthogonal(key: Any, n: int, shape: Shape = (), dtype: Any = None, m: int | None = None) -> Any:
    """Haar-random ``n × n`` orthogonal matrices: the QR factor ``Q`` of a normal matrix, with
    column signs fixed by ``R``'s diagonal; ``n × m`` semi-orthogonal ones with ``m`` (orthonormal
    rows when ``n <= m``, columns when ``m <= n``).

    >>> q = orthogonal(key(0), 3)
    >>> bool(np.allclose(q @ q.T, np.eye(3)))
    True
    """
    cols = n if m is None else operator.index(m)
    n = operator.index(n)
    z = normal(key, _shape(shape, "orthogonal") + (max(n, cols), min(n, cols)), dtype)
    q = _prims().random_orthogonal_exact(z)  # JAX's numbers: SciPy's LAPACK QR (JAX's), Q · sign(diag R)
    return _fnp().swapaxes(q, -1, -2) if n < cols else q


def geometric(key: Any, p: Any, shape: Shape | None = None, dtype: Any = np.int64) -> Any:
    """Geometric draws (trials until the first success, from 1) with success probability ``p``.

    >>> bool(geometric(key(0), 0.3, (10,)).min() >= 1)
    True
    """
    fnp = _fnp()
    p_shape, p_dtype = _shape_dtype(p)
    float_dtype = p_dtype if p_dtype.kind == "f" and type(p) is not float else np.dtype(np.float64)
    shape = p_shape if shape is None else _shape(shape, "geometric")
    u = uniform(key, shape, float_dtype)
    return fnp.astype(fnp.floor(fnp.log(u) / fnp.log1p(-p)) + 1, dtype)


def triangular(key: Any, left: Any, mode: Any, right: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Triangular draws on ``[left, right]`` peaking at ``mode`` (inverse CDF of a uniform).

    >>> x = triangular(key(0), 0.0, 1.0, 3.0, (20,))
    >>> bool(x.min() >= 0 and x.max() <= 3)
    True
    """
    fnp = _fnp()
    if shape is None:
        shape = np.broadcast_shapes(_shape_dtype(left)[0], _shape_dtype(mode)[0], _shape_dtype(right)[0])
    u = uniform(key, _shape(shape, "triangular"), dtype)
    width = right - left
    cut = (mode - left) / width
    low = left + fnp.sqrt(u * width * (mode - left))
    high = right - fnp.sqrt((1.0 - u) * width * (right - mode))
    return fnp.where(u < cut, low, high)


def wald(key: Any, mean: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """Wald (inverse Gaussian) draws with ``mean`` and unit shape (Michael, Schucany and Haas).

    >>> bool(wald(key(0), 1.5, (20,)).min() > 0)
    True
    """
    fnp = _fnp()
    shape = _shape_dtype(mean)[0] if shape is None else _shape(shape, "wald")
    d = _float_dtype(dtype, "wald")
    mean = _param(mean, d)
    if tuple(mean.shape) != shape:
        mean = fnp.broadcast_to(mean, shape)
    key_normal, key_uniform = split(key)
    v = normal(key_normal, shape, d)
    z = uniform(key_uniform, shape, d)
    y = v * v
    mean_sq = mean * mean
    # JAX's numbers: XLA contracts 4·mean·y + mean²·y² and mean + mean²·y/2 - (mean/2)·sqrt(…) into
    # fused multiply-adds (the first product of each is the fused one)
    root = fnp.sqrt(_fused(4.0 * mean, y, mean_sq * (y * y)))
    x = _fused(-(mean * 0.5), root, mean + mean_sq * y * 0.5)
    return fnp.where(z <= mean / (mean + x), x, mean_sq / x)


def _fused(a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` rounded once, as XLA contracts it; differentiable as ``a * b + c``."""
    return a * b + c + _prims().random_fma_residual(a, b, c)


def _static_exponent(p: Any, fn: str) -> float | None:
    """``p`` as a float when it is a concrete number (checked positive), else None (a traced ``p``)."""
    if isinstance(p, Tracer):
        return None
    if np.ndim(p) != 0 or np.asarray(p).dtype.kind not in "iuf":
        raise ValueError(f"{fn}: the exponent p must be one positive number, got {p!r}")
    if not float(p) > 0:
        raise ValueError(f"{fn}: the exponent p must be positive, got {p!r}")
    return float(p)


def generalized_normal(key: Any, p: float, shape: Shape = (), dtype: Any = None) -> Any:
    """Generalised normal draws with exponent ``p`` (density ∝ ``exp(-abs(x) ** p)``): ``±Gamma(1/p) ** (1/p)``.

    >>> generalized_normal(key(0), 1.5, (3,)).shape
    (3,)
    """
    shape = _shape(shape, "generalized_normal")
    exponent = _static_exponent(p, "generalized_normal")
    if exponent is not None:  # JAX's numbers: one draw in NumPy (the C library's pow, as XLA calls it)
        _check_key(key, "generalized_normal")
        return _prims().random_standard(key, shape=shape, dtype=_float_dtype(dtype, "generalized_normal"),
                                        dist=("generalized_normal", exponent))
    key_gamma, key_sign = split(key)
    g = gamma(key_gamma, 1.0 / p, shape, dtype)
    r = _fnp().astype(rademacher(key_sign, shape), g.dtype)
    return r * g ** (1.0 / p)


def ball(key: Any, d: int, p: float = 2.0, shape: Shape = (), dtype: Any = None) -> Any:
    """Points uniform in the unit ``p``-norm ball of dimension ``d`` (Barthe et al. 2005).

    >>> bool(np.all(np.linalg.norm(ball(key(0), 3, shape=(50,)), axis=-1) <= 1))
    True
    """
    fnp = _fnp()
    shape = _shape(shape, "ball")
    if not isinstance(d, (int, np.integer)) or d < 0:
        raise ValueError(f"ball: the dimension d must be a non-negative int, got {d!r}")
    exponent = _static_exponent(p, "ball")
    if exponent is not None:  # JAX's numbers: one draw in NumPy (XLA's or YNNPACK's order of the sum)
        _check_key(key, "ball")
        return _prims().random_standard(key, shape=shape + (int(d),), dtype=_float_dtype(dtype, "ball"),
                                        dist=("ball", exponent))
    key_g, key_e = split(key)
    g = generalized_normal(key_g, p, shape + (d,), dtype)
    e = exponential(key_e, shape, dtype)
    return g / fnp.expand_dims((fnp.sum(fnp.abs(g) ** p, axis=-1) + e) ** (1.0 / p), -1)


def double_sided_maxwell(key: Any, loc: Any, scale: Any, shape: Shape = (), dtype: Any = None) -> Any:
    """``loc + scale · (±1) · Maxwell``, of shape ``shape + params`` where ``params`` is the broadcast
    shape of ``loc`` and ``scale`` (JAX's rule; an empty ``shape`` counts as ``params``, so array
    parameters of shape ``(3,)`` give ``(3, 3)`` draws).

    >>> double_sided_maxwell(key(0), 1.0, 2.0, (3,)).shape
    (3,)
    >>> double_sided_maxwell(key(0), np.zeros(2), 1.0, (3,)).shape
    (3, 2)
    """
    params = np.broadcast_shapes(_shape_dtype(loc)[0], _shape_dtype(scale)[0])
    shape = (_shape(shape, "double_sided_maxwell") or params) + params
    key_maxwell, key_sign = split(key)
    m = maxwell(key_maxwell, shape, dtype)
    signed = _fnp().astype(rademacher(key_sign, shape), m.dtype) * m
    d = np.dtype(m.dtype)
    scale = scale if type(scale) in (int, float) else _param(scale, d)
    loc = loc if type(loc) in (int, float) else _param(loc, d)
    return _fused(signed, scale, loc)  # as JAX's sign * m * scale + loc, which XLA contracts


def f(key: Any, dfnum: Any, dfden: Any, shape: Shape | None = None, dtype: Any = None) -> Any:
    """F-distribution draws: ``(χ²(dfnum)/dfnum) / (χ²(dfden)/dfden)``.

    >>> bool(f(key(0), 3.0, 5.0, (10,)).min() > 0)
    True
    """
    if shape is None:
        shape = np.broadcast_shapes(_shape_dtype(dfnum)[0], _shape_dtype(dfden)[0])
    key_den, key_num = split(key)
    d = _float_dtype(dtype, "f")
    dfnum, dfden = _param(dfnum, d), _param(dfden, d)
    num = chisquare(key_num, dfnum, shape, d)
    den = chisquare(key_den, dfden, shape, d)
    return (num * dfden) / (dfnum * den)  # XLA's rewrite of (num / dfnum) / (den / dfden)


def clone(key: Any) -> Any:
    """The same key (keys are immutable arrays; JAX needs this for its typed keys)."""
    _check_key(key, "clone", batched=True)
    return key
