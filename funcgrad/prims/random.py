"""The random primitives: every draw of ``funcgrad.random`` is one of these, with all its rules.

A draw is a pure function of its key, so it is an ordinary primitive: under ``jit`` it is staged
(the compiled program draws from whatever key it is called with), under ``vmap`` a batch of keys
gives each example the numbers its own key gives eagerly (the NumPy implementations take keys
with leading batch axes), and ``jit``'s common-subexpression elimination may merge two draws
from the same key because they are equal.

Keys are ``uint32`` arrays whose last axis holds the key words (2 for threefry2x32, 4 for
Philox). Operands after the key (bounds, shape parameters) broadcast against the draw's shape.

Only ``random_gamma`` carries a derivative (implicit reparameterisation in ``alpha``); the
others are ``nondiff``. Reparameterised draws that are compositions (``uniform`` with bounds,
``normal`` scaled and shifted) get their derivatives from the operations they are composed of.

These primitives are not in ``funcgrad.core.primitives`` (``register=False``): their values
have no NumPy reference for the primitive table of ``tests/test_primitives.py``, and keys are
not float operands. ``RANDOM_PRIMITIVES`` lists them; ``tests/test_random.py`` checks each
against known answers recorded from JAX, in eager mode, under ``jit`` and under ``vmap``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Primitive
from ..errors import FuncgradError
from ..random import _sampling
from .factories import batch_to_front, elementwise, ndim_of

__all__ = ["random_bits", "random_split", "random_fold_in", "random_uniform", "random_normal",
           "random_truncated_normal", "random_standard", "random_randint", "random_poisson", "random_binomial",
           "random_gamma", "random_fma_residual", "random_xla_correction", "random_mvn_exact",
           "random_orthogonal_exact", "RANDOM_PRIMITIVES"]


def _aval(shape: tuple[int, ...], dtype: Any) -> Any:
    from ..ir.program import ShapedArray

    return ShapedArray(tuple(shape), np.dtype(dtype))


def _lead(key_aval: Any) -> tuple[int, ...]:
    return tuple(key_aval.shape[:-1])


def _draw_batch(prim: Primitive) -> Any:
    """vmap of a draw (``batch_of=`` of its declaration): the key's batch axis goes first (its
    leading axes are batch axes for the implementation); other operands go first too, padded to
    broadcast against the draw's shape."""

    def rule(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        rank = len(params["shape"])
        moved = []
        for i, (a, d) in enumerate(zip(args, dims, strict=True)):
            if d is None:
                moved.append(a)
            elif i == 0:
                moved.append(batch_to_front(a, d))
            else:
                moved.append(batch_to_front(a, d, rank=max(rank, ndim_of(a) - 1)))
        return prim.bind(*moved, **params), 0

    return rule


# --- key operations ------------------------------------------------------------------------------

random_bits_p = Primitive(
    "random_bits", lambda key, bit_width, shape: _sampling.bits(np.asarray(key), bit_width, shape),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, bit_width, shape: _aval(_lead(key) + shape, f"uint{bit_width}"))
random_bits = random_bits_p.bind

random_split_p = Primitive(
    "random_split", lambda key, shape: _sampling.split(np.asarray(key), shape),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, shape: _aval(_lead(key) + shape + key.shape[-1:], np.uint32))
random_split = random_split_p.bind


def _fold_in_batch(args: tuple, dims: tuple) -> tuple[Any, int]:
    key, data = args
    key = key if dims[0] is None else batch_to_front(key, dims[0])
    data = data if dims[1] is None else batch_to_front(data, dims[1])
    return random_fold_in(key, data), 0


random_fold_in_p = Primitive(
    "random_fold_in", lambda key, data: _sampling.fold_in(np.asarray(key), data),
    nondiff=True, register=False, batch=_fold_in_batch,
    abstract_eval=lambda key, data: _aval(
        np.broadcast_shapes(_lead(key), tuple(getattr(data, "shape", ()) or ())) + key.shape[-1:], np.uint32))
random_fold_in = random_fold_in_p.bind


# --- draws ---------------------------------------------------------------------------------------

def _draw_aval(key: Any, *operands: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    shapes = [tuple(getattr(o, "shape", ()) or ()) for o in operands]
    return _aval(np.broadcast_shapes(_lead(key) + shape, *shapes), dtype)


random_uniform_p = Primitive(
    "random_uniform", lambda key, shape, dtype: _sampling.uniform(np.asarray(key), shape, dtype),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, shape, dtype: _draw_aval(key, shape=shape, dtype=dtype))
random_uniform = random_uniform_p.bind

random_normal_p = Primitive(
    "random_normal", lambda key, shape, dtype: _sampling.normal(np.asarray(key), shape, dtype),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, shape, dtype: _draw_aval(key, shape=shape, dtype=dtype))
random_normal = random_normal_p.bind

def _fma_residual_aval(a: Any, b: Any, c: Any) -> Any:
    shapes = [tuple(getattr(o, "shape", ()) or ()) for o in (a, b, c)]
    return _aval(np.broadcast_shapes(*shapes), a.dtype)


# fma(a, b, c) - (a * b + c): added (without derivative) to the composition a * b + c, it makes
# ``uniform`` with bounds XLA's fused multiply-add to the bit while keeping the composition's
# derivatives.
random_fma_residual_p = elementwise(
    "random_fma_residual", _sampling.fma_residual, nondiff=True, register=False,
    abstract_eval=_fma_residual_aval)
random_fma_residual = random_fma_residual_p.bind


def _xla_correction_aval(x: Any, plain: Any, fn: str) -> Any:
    shapes = [tuple(getattr(o, "shape", ()) or ()) for o in (x, plain)]
    return _aval(np.broadcast_shapes(*shapes), plain.dtype)


# xla_fn(x) - fn(x): added (without derivative) to NumPy's fn(x) (``plain``), it gives XLA CPU's value
# of fn (``"exp"``) to the bit while keeping fn's derivatives (lognormal, pareto).
random_xla_correction_p = elementwise(
    "random_xla_correction", _sampling.xla_correction, nondiff=True, register=False,
    abstract_eval=_xla_correction_aval)
random_xla_correction = random_xla_correction_p.bind


def _linalg_batch(bind: Callable[[], Any], cores: tuple[int, ...]) -> Any:
    """vmap of a linear-algebra draw: batched operands' batch axes go first, padded so that their
    non-core axes (``cores``: each operand's number of trailing matrix or vector axes) broadcast as
    the unbatched operation's do; unbatched operands broadcast against them (right-aligned), so a
    batch of keys is a batch of rows of one product, as in XLA's batched program."""

    def rule(args: tuple, dims: tuple, **params: Any) -> tuple[Any, int]:
        rank = max(ndim_of(a) - (d is not None) - c for a, d, c in zip(args, dims, cores, strict=True))
        moved = [a if d is None else batch_to_front(a, d, rank=rank + c)
                 for a, d, c in zip(args, dims, cores, strict=True)]
        return bind()(*moved, **params), 0

    return rule


def _mvn_aval(mean: Any, cov: Any, z: Any, erfinv: Any, method: str) -> Any:
    return _aval(np.broadcast_shapes(mean.shape, cov.shape[:-1], z.shape), z.dtype)


# JAX's multivariate_normal value, bit for bit (mean + factor(cov) @ z in XLA's order, factors from
# SciPy's LAPACK, which is JAX's); no derivative: funcgrad.random adds the composition's derivative.
random_mvn_exact_p = Primitive(
    "random_mvn_exact",
    lambda mean, cov, z, erfinv, method: _xla_linalg().multivariate_normal(mean, cov, z, erfinv, method),
    nondiff=True, register=False, batch=_linalg_batch(lambda: random_mvn_exact, (1, 2, 1, 1)),
    abstract_eval=_mvn_aval)
random_mvn_exact: Callable[..., Any] = random_mvn_exact_p.bind

# JAX's orthogonal before its final transpose: Q · sign(diag R) of the reduced QR of each matrix.
random_orthogonal_exact_p = Primitive(
    "random_orthogonal_exact", lambda z: _xla_linalg().orthogonal(np.asarray(z)),
    nondiff=True, register=False, batch=_linalg_batch(lambda: random_orthogonal_exact, (2,)),
    abstract_eval=lambda z: _aval(z.shape, z.dtype))
random_orthogonal_exact: Callable[..., Any] = random_orthogonal_exact_p.bind


def _xla_linalg() -> Any:
    from ..random import _xla_linalg

    return _xla_linalg


random_standard_p = Primitive(
    "random_standard",
    lambda key, shape, dtype, dist: _sampling.standard(np.asarray(key), shape, dtype, dist),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, shape, dtype, dist: _draw_aval(key, shape=shape, dtype=dtype))
random_standard = random_standard_p.bind

random_truncated_normal_p = Primitive(
    "random_truncated_normal",
    lambda key, lower, upper, shape, dtype: _sampling.truncated_normal(np.asarray(key), lower, upper, shape, dtype),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, lower, upper, shape, dtype: _draw_aval(key, lower, upper, shape=shape, dtype=dtype))
random_truncated_normal = random_truncated_normal_p.bind

random_randint_p = Primitive(
    "random_randint",
    lambda key, minval, maxval, shape, dtype: _sampling.randint(np.asarray(key), minval, maxval, shape, dtype),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, minval, maxval, shape, dtype: _draw_aval(key, minval, maxval, shape=shape, dtype=dtype))
random_randint = random_randint_p.bind


random_poisson_p = Primitive(
    "random_poisson",
    lambda key, lam, shape, dtype: _sampling.poisson(np.asarray(key), lam, shape, dtype),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, lam, shape, dtype: _draw_aval(key, lam, shape=shape, dtype=dtype))
random_poisson = random_poisson_p.bind


random_binomial_p = Primitive(
    "random_binomial",
    lambda key, count, prob, shape, dtype: _sampling.binomial(np.asarray(key), count, prob, shape, dtype),
    nondiff=True, register=False, batch_of=_draw_batch,
    abstract_eval=lambda key, count, prob, shape, dtype: _draw_aval(key, count, prob, shape=shape, dtype=dtype))
random_binomial = random_binomial_p.bind

# Gamma: differentiable in alpha by implicit reparameterisation. The derivative of a draw is a
# function of (alpha, draw) only, computed by ``random_gamma_grad``.

def _gamma_grad_impl(alpha: Any, sample: Any, log_space: bool) -> Any:
    alpha = np.asarray(alpha)
    sample = np.asarray(sample)
    if log_space:
        z = np.exp(sample)
        return (_sampling.gamma_sample_derivative(alpha, z) / z).astype(sample.dtype)
    return _sampling.gamma_sample_derivative(alpha, sample).astype(sample.dtype)


def _no_second_derivative(*args: Any, **params: Any) -> Any:
    raise FuncgradError(
        "second derivatives of funcgrad.random.gamma (and beta, dirichlet) draws with respect to "
        "their shape parameter are not implemented; differentiate the draw once (first-order "
        "gradients of any order of composition with other operations work).")


def _gamma_grad_batch(args: tuple, dims: tuple, log_space: bool) -> tuple[Any, int]:
    rank = max(ndim_of(b) - (e is not None) for b, e in zip(args, dims, strict=True))
    return random_gamma_grad(*(batch_to_front(a, d, rank=rank) if d is not None else a
                               for a, d in zip(args, dims, strict=True)), log_space=log_space), 0


random_gamma_grad_p = Primitive(
    "random_gamma_grad", _gamma_grad_impl, register=False, batch=_gamma_grad_batch,
    jvp=(_no_second_derivative, _no_second_derivative), vjp=(_no_second_derivative, _no_second_derivative),
    abstract_eval=lambda alpha, sample, log_space: _aval(
        np.broadcast_shapes(alpha.shape, sample.shape), sample.dtype))
random_gamma_grad: Callable[..., Any] = random_gamma_grad_p.bind

random_gamma_p = Primitive(
    "random_gamma",
    lambda key, alpha, shape, log_space: _sampling.gamma(np.asarray(key), alpha, shape, log_space),
    register=False, batch_of=_draw_batch,
    jvp=(None, lambda t, out, key, alpha, shape, log_space: t * random_gamma_grad(alpha, out, log_space=log_space)),
    vjp=(None, lambda ct, out, key, alpha, shape, log_space: ct * random_gamma_grad(alpha, out, log_space=log_space)),
    abstract_eval=lambda key, alpha, shape, log_space: _draw_aval(key, alpha, shape=shape, dtype=alpha.dtype))
random_gamma = random_gamma_p.bind

RANDOM_PRIMITIVES = (random_bits_p, random_split_p, random_fold_in_p, random_uniform_p, random_normal_p,
                     random_truncated_normal_p, random_standard_p, random_randint_p, random_poisson_p,
                     random_binomial_p, random_gamma_p, random_gamma_grad_p, random_fma_residual_p,
                     random_xla_correction_p, random_mvn_exact_p, random_orthogonal_exact_p)
