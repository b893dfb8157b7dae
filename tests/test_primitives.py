"""The primitive test table: one row per primitive registered in ``funcgrad.core.primitives``.

A row is data: the registry name of the primitive it exercises, a callable that applies it (the
public ``funcgrad.numpy`` function, or ``prim.bind`` with parameters), the NumPy reference, the
operand shapes for each case and the domain each operand is drawn from. A primitive may have
several rows (``sum[axis=1]``, ``sum[keepdims]``); ``test_every_primitive_has_a_row`` fails as
soon as a primitive is registered without one.

Every differentiable row is checked for
  * its value against NumPy (same dtype and shape; exactly equal, since funcgrad calls the same
    NumPy function);
  * jvp and vjp against central finite differences, to second order, together with the identity
    <vjp(ct), t> = <ct, jvp(t)> (``funcgrad.test_util.check_grads``);
  * the shapes and dtypes of first- and second-order derivatives (float32 stays float32)
on the cases its operands allow: ordinary shapes, broadcasting operands, 0-d and empty arrays,
float32. Non-differentiable rows are checked for value, zero jvp/vjp, and for not disturbing the
gradient of a function that uses them (against a closed form).

The documented conventions at kinks are tested at the end against closed forms written by hand.
Derivative expectations never come from funcgrad itself.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
import zlib
from typing import Any, Callable

import numpy as np
import pytest
import scipy.integrate as sp_integrate
import scipy.linalg as sp_linalg
import scipy.signal as sp_signal

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.integrate as fsp_integrate
import funcgrad.scipy.linalg as fsp_linalg
import funcgrad.scipy.optimize as _fsp_optimize
import funcgrad.scipy.signal as fsp_signal
from funcgrad import core
from funcgrad.prims import decompositions as dec
from funcgrad.prims import import_all_primitives
from funcgrad.prims import indexing as ix
from funcgrad.prims import linalg as la
from funcgrad.prims import shape as sh
from funcgrad.prims import windows as _win
from funcgrad.prims.ufuncs import nondiff_ufunc
from funcgrad.scipy.special import expit
from funcgrad.test_util import check_grads

# --- operand domains ----------------------------------------------------------------------------
# Each sampler maps (rng, shape) to a float64 (or bool) array. Domains keep finite differences away
# from singularities, branch cuts, kinks and ties.


def _uniform(lo: float, hi: float) -> Callable[..., np.ndarray]:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


REAL = _uniform(-2.0, 2.0)
POS = _uniform(0.5, 2.0)
UNIT = _uniform(-0.8, 0.8)  # arcsin, arccos, arctanh
GT1 = _uniform(1.2, 3.0)  # arccosh
LOG1P = _uniform(-0.5, 2.0)
TAN = _uniform(-1.2, 1.2)


def NONZERO(rng, shape):  # |x| in [0.5, 2], either sign (cbrt, abs, divisors)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def SMALLPROD(rng, shape):  # prod/cumprod: nonzero and moderate, so products stay O(1)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.6, 1.5, shape)


def GRID_ODD(rng, shape):  # with GRID_EVEN: never equal, always at least 0.1 apart (no ties)
    return 0.2 * rng.integers(-8, 8, shape) + 0.1


def GRID_EVEN(rng, shape):
    return 0.2 * rng.integers(-8, 8, shape)


def DISTINCT(rng, shape):  # all elements at least 0.2 apart: max/min without ties
    n = math.prod(shape)
    return ((rng.permutation(n) - n / 2) * 0.3 + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def TIES(rng, shape):  # small integers as floats: comparisons see equal values, sign sees 0
    return rng.integers(-2, 3, shape).astype(np.float64)


def TRUTHY(rng, shape):  # logical operations on floats: zeros and nonzeros
    return rng.choice([0.0, 1.5, -2.0], shape)


def SPECIAL(rng, shape):
    return rng.choice([0.0, 1.5, -2.0, np.nan, np.inf, -np.inf], shape)


def COMPLEX(rng, shape):  # z = x + iy, |z| in about [0.5, 2.5]: away from 0 (abs, angle)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape) + 1j * rng.uniform(-1.0, 1.0, shape)


def BOOL(rng, shape):
    return rng.random(shape) < 0.5


def REM_X(rng, shape):  # x / y stays 0.3..0.45 away from an integer for every y in REM_Y
    return rng.integers(-3, 4, shape) + 0.45


def REM_Y(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(1.0, 1.05, shape)


# --- the row type -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    prim: str  # name in funcgrad.core.primitives
    fn: Callable[..., Any]  # applies the primitive
    ref: Callable[..., Any]  # NumPy reference
    shapes: dict  # case name -> operand shapes
    samplers: tuple  # one domain per operand
    variant: str = ""
    diff: bool = True  # False: the result carries no derivative
    exact: bool = True  # value equal to the reference bit for bit
    order: int = 2
    tol: dict = dataclasses.field(default_factory=dict)  # extra check_grads arguments

    @property
    def id(self) -> str:
        return f"{self.prim}[{self.variant}]" if self.variant else self.prim


def make_args(row: Row, case: str) -> tuple:
    rng = np.random.default_rng(zlib.crc32(f"{row.id}/{case}".encode()))
    args = []
    for shape, sample in zip(row.shapes[case], row.samplers, strict=True):
        a = np.asarray(sample(rng, shape))
        if case.startswith("float32") and a.dtype.kind == "f":
            a = a.astype(np.float32)
        elif case.startswith("float32") and a.dtype.kind == "c":
            a = a.astype(np.complex64)
        args.append(a)
    return tuple(args)


UNARY = {"shape": ((2, 3),), "scalar": ((),), "empty": ((0, 3),), "float32": ((2, 3),)}
BINARY = {
    "shape": ((2, 3), (2, 3)),
    "broadcast": ((3, 1), (4,)),
    "broadcast0d": ((), (2, 3)),
    "scalar": ((), ()),
    "empty": ((0, 3), (3,)),
    "float32": ((3, 1), (4,)),
}
TERNARY = {
    "shape": ((2, 3), (2, 3), (2, 3)),
    "broadcast": ((3, 1), (4,), ()),
    "scalar": ((), (), ()),
    "empty": ((0, 1), (3,), (0, 3)),
    "float32": ((3, 1), (4,), (3, 4)),
}


def unary(prim, fn, ref, sampler=REAL, variant="", **kw):
    return Row(prim, fn, ref, UNARY, (sampler,), variant, **kw)


def binary(prim, fn, ref, samplers=(REAL, REAL), variant="", **kw):
    return Row(prim, fn, ref, BINARY, samplers, variant, **kw)


def _np_expit(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- elementwise rows ---------------------------------------------------------------------------

ROWS: list[Row] = [
    binary("add", fnp.add, np.add),
    binary("subtract", fnp.subtract, np.subtract),
    binary("multiply", fnp.multiply, np.multiply),
    binary("true_divide", fnp.true_divide, np.true_divide, (REAL, NONZERO)),
    unary("negative", fnp.negative, np.negative),
    binary("power", fnp.power, np.power, (POS, REAL)),
    # a constant exponent: negative bases are fine when only the base is differentiated
    unary("power", lambda x: fnp.power(x, 3.0), lambda x: np.power(x, 3.0), variant="x**3"),
    unary("power", lambda y: fnp.power(1.7, y), lambda y: np.power(1.7, y), variant="1.7**y"),
    binary("remainder", fnp.remainder, np.remainder, (REM_X, REM_Y)),
    unary("exp", fnp.exp, np.exp),
    unary("log", fnp.log, np.log, POS),
    unary("log1p", fnp.log1p, np.log1p, LOG1P),
    unary("expm1", fnp.expm1, np.expm1),
    unary("log2", fnp.log2, np.log2, POS),
    unary("log10", fnp.log10, np.log10, POS),
    unary("sqrt", fnp.sqrt, np.sqrt, POS),
    unary("cbrt", fnp.cbrt, np.cbrt, NONZERO),
    unary("sin", fnp.sin, np.sin),
    unary("cos", fnp.cos, np.cos),
    unary("tan", fnp.tan, np.tan, TAN),
    unary("arcsin", fnp.arcsin, np.arcsin, UNIT),
    unary("arccos", fnp.arccos, np.arccos, UNIT),
    unary("arctan", fnp.arctan, np.arctan),
    unary("sinh", fnp.sinh, np.sinh),
    unary("cosh", fnp.cosh, np.cosh),
    unary("tanh", fnp.tanh, np.tanh),
    unary("arcsinh", fnp.arcsinh, np.arcsinh),
    unary("arccosh", fnp.arccosh, np.arccosh, GT1),
    unary("arctanh", fnp.arctanh, np.arctanh, UNIT),
    unary("absolute", fnp.abs, np.abs, NONZERO),
    unary("expit", expit, _np_expit),
    # complex numbers: parts, and a few holomorphic operations on complex values
    unary("real", fnp.real, np.real, COMPLEX),
    unary("real", fnp.real, np.real, REAL, variant="real input"),
    unary("imag", fnp.imag, np.imag, COMPLEX),
    unary("conjugate", fnp.conj, np.conjugate, COMPLEX),
    unary("absolute", fnp.abs, np.abs, COMPLEX, variant="complex"),
    unary("exp", fnp.exp, np.exp, COMPLEX, variant="complex"),
    unary("sin", fnp.sin, np.sin, COMPLEX, variant="complex"),
    binary("multiply", fnp.multiply, np.multiply, (COMPLEX, COMPLEX), variant="complex"),
    binary("multiply", fnp.multiply, np.multiply, (REAL, COMPLEX), variant="real*complex"),
    binary("true_divide", fnp.true_divide, np.true_divide, (COMPLEX, COMPLEX), variant="complex"),
    # arctan2(y, x): y kept away from 0 so finite differences never cross the branch cut
    binary("arctan2", fnp.arctan2, np.arctan2, (NONZERO, REAL)),
    binary("hypot", fnp.hypot, np.hypot),
    binary("logaddexp", fnp.logaddexp, np.logaddexp),
    binary("maximum", fnp.maximum, np.maximum, (GRID_ODD, GRID_EVEN)),
    binary("minimum", fnp.minimum, np.minimum, (GRID_ODD, GRID_EVEN)),
    binary("fmax", fnp.fmax, np.fmax, (GRID_ODD, GRID_EVEN)),
    binary("fmin", fnp.fmin, np.fmin, (GRID_ODD, GRID_EVEN)),
    Row("where", fnp.where, np.where, TERNARY, (BOOL, REAL, REAL)),
    # no derivative
    binary("floor_divide", fnp.floor_divide, np.floor_divide, (REAL, NONZERO), diff=False),
    binary("equal", fnp.equal, np.equal, (TIES, TIES), diff=False),
    binary("not_equal", fnp.not_equal, np.not_equal, (TIES, TIES), diff=False),
    binary("less", fnp.less, np.less, (TIES, TIES), diff=False),
    binary("less_equal", fnp.less_equal, np.less_equal, (TIES, TIES), diff=False),
    binary("greater", fnp.greater, np.greater, (TIES, TIES), diff=False),
    binary("greater_equal", fnp.greater_equal, np.greater_equal, (TIES, TIES), diff=False),
    binary("logical_and", fnp.logical_and, np.logical_and, (TRUTHY, TRUTHY), diff=False),
    binary("logical_or", fnp.logical_or, np.logical_or, (TRUTHY, TRUTHY), diff=False),
    binary("logical_xor", fnp.logical_xor, np.logical_xor, (TRUTHY, TRUTHY), diff=False),
    unary("logical_not", fnp.logical_not, np.logical_not, TRUTHY, diff=False),
    unary("isnan", fnp.isnan, np.isnan, SPECIAL, diff=False),
    unary("isinf", fnp.isinf, np.isinf, SPECIAL, diff=False),
    unary("isfinite", fnp.isfinite, np.isfinite, SPECIAL, diff=False),
    unary("sign", fnp.sign, np.sign, TIES, diff=False),
    unary("floor", fnp.floor, np.floor, diff=False),
    unary("ceil", fnp.ceil, np.ceil, diff=False),
    unary("trunc", fnp.trunc, np.trunc, diff=False),
    unary("round", fnp.round, np.round, diff=False),
    unary("round", lambda x: fnp.round(x, 1), lambda x: np.round(x, 1), variant="decimals=1", diff=False),
]

# --- reductions and scans -----------------------------------------------------------------------

ALL = {"shape": ((3, 4),), "scalar": ((),), "empty": ((0, 3),), "float32": ((2, 3),)}
ALL_NONEMPTY = {k: v for k, v in ALL.items() if k != "empty"}  # max/min of nothing is an error
AXIS1 = {"shape": ((3, 4),), "empty": ((0, 3),), "float32": ((3, 4),)}
AXES02 = {"shape": ((2, 3, 4),), "empty": ((2, 0, 3),), "float32": ((2, 3, 4),)}


def _reduction_rows(prim, fnp_fn, np_fn, sampler, diff=True, empty_all=True):
    return [
        Row(prim, fnp_fn, np_fn, ALL if empty_all else ALL_NONEMPTY, (sampler,), "all", diff=diff),
        Row(prim, lambda x: fnp_fn(x, axis=1), lambda x: np_fn(x, axis=1), AXIS1, (sampler,), "axis=1",
            diff=diff),
        Row(prim, lambda x: fnp_fn(x, axis=(0, 2), keepdims=True),
            lambda x: np_fn(x, axis=(0, 2), keepdims=True), AXES02,
            (sampler,), "axis=(0,2),keepdims", diff=diff),
    ]


def _index_reduction_rows(prim, fnp_fn, np_fn):
    return [
        Row(prim, fnp_fn, np_fn, ALL_NONEMPTY, (TIES,), "all", diff=False),
        Row(prim, lambda x: fnp_fn(x, axis=1), lambda x: np_fn(x, axis=1), AXIS1, (TIES,), "axis=1",
            diff=False),
        Row(prim, lambda x: fnp_fn(x, axis=0, keepdims=True), lambda x: np_fn(x, axis=0, keepdims=True),
            {"shape": ((3, 4),), "empty": ((2, 0),)}, (TIES,), "axis=0,keepdims", diff=False),
    ]


SCAN = {"shape": ((3, 4),), "empty": ((0, 3),), "float32": ((3, 4),)}
SCAN_FLAT = {"shape": ((2, 3),), "scalar": ((),), "empty": ((0, 3),), "float32": ((2, 3),)}

ROWS += _reduction_rows("sum", fnp.sum, np.sum, REAL)
ROWS += _reduction_rows("max", fnp.max, np.max, DISTINCT, empty_all=False)
ROWS += _reduction_rows("min", fnp.min, np.min, DISTINCT, empty_all=False)
ROWS += _reduction_rows("prod", fnp.prod, np.prod, SMALLPROD)
ROWS += _reduction_rows("all", fnp.all, np.all, TRUTHY, diff=False)
ROWS += _reduction_rows("any", fnp.any, np.any, TRUTHY, diff=False)
ROWS += _index_reduction_rows("argmax", fnp.argmax, np.argmax)
ROWS += _index_reduction_rows("argmin", fnp.argmin, np.argmin)
ROWS += [
    Row("argsort", lambda x: fnp.argsort(x, kind="stable"), lambda x: np.argsort(x, kind="stable"), AXIS1,
        (TIES,), "last axis,stable", diff=False),
    Row("argsort", lambda x: fnp.argsort(x, axis=0), lambda x: np.argsort(x, axis=0), AXIS1, (DISTINCT,),
        "axis=0", diff=False),
    Row("argsort", lambda x: fnp.argsort(x, axis=None, stable=True),
        lambda x: np.argsort(x, axis=None, stable=True), ALL, (TIES,), "flat", diff=False),
]
ROWS += [
    Row("cumsum", lambda x: fnp.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), SCAN, (REAL,), "axis=1"),
    Row("cumsum", lambda x: fnp.cumsum(x, axis=0), lambda x: np.cumsum(x, axis=0), SCAN, (REAL,), "axis=0"),
    Row("cumsum", fnp.cumsum, np.cumsum, SCAN_FLAT, (REAL,), "flat"),
    Row("cumprod", lambda x: fnp.cumprod(x, axis=1), lambda x: np.cumprod(x, axis=1), SCAN, (SMALLPROD,),
        "axis=1"),
    Row("cumprod", lambda x: fnp.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=0), SCAN, (SMALLPROD,),
        "axis=0"),
    Row("cumprod", fnp.cumprod, np.cumprod, SCAN_FLAT, (SMALLPROD,), "flat"),
]

# --- shape primitives ---------------------------------------------------------------------------


def _perm(ndim: int) -> tuple[int, ...]:
    # a rotation, so the permutation is not its own inverse (catches a wrong inverse in the vjp)
    return tuple(range(1, ndim)) + (0,) if ndim else ()


def _bshape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (2,) + tuple(4 if s == 1 else s for s in shape)


def _pw(ndim: int) -> tuple:
    return ((1, 2),) * ndim


ROWS += [
    Row("reshape", lambda x: sh.reshape(x, shape=x.shape[::-1]), lambda x: np.reshape(x, x.shape[::-1]),
        {"shape": ((2, 3, 4),), "scalar": ((),), "empty": ((0, 3),), "float32": ((2, 3),)}, (REAL,),
        "reversed"),
    Row("reshape", fnp.ravel, np.ravel, UNARY, (REAL,), "ravel"),
    Row("transpose", lambda x: sh.transpose(x, axes=_perm(x.ndim)), lambda x: np.transpose(x, _perm(x.ndim)),
        {"shape": ((2, 3, 4),), "scalar": ((),), "empty": ((0, 3, 2),), "float32": ((2, 3, 4),)}, (REAL,)),
    Row("broadcast_to", lambda x: sh.broadcast_to(x, shape=_bshape(x.shape)),
        lambda x: np.broadcast_to(x, _bshape(x.shape)),
        {"shape": ((3, 1),), "broadcast": ((1, 4),), "scalar": ((),), "empty": ((0, 1),), "float32": ((3, 1),)},
        (REAL,)),
    Row("concatenate", lambda *xs: sh.concatenate(*xs, axis=0), lambda *xs: np.concatenate(xs, axis=0),
        {"shape": ((2, 3), (1, 3), (3, 3)), "empty": ((0, 3), (2, 3), (0, 3)),
         "float32": ((2, 3), (1, 3), (3, 3))}, (REAL, REAL, REAL), "axis=0"),
    Row("concatenate", lambda x, y: sh.concatenate(x, y, axis=1), lambda x, y: np.concatenate((x, y), axis=1),
        {"shape": ((2, 1), (2, 3)), "empty": ((0, 1), (0, 2)), "float32": ((2, 1), (2, 3))}, (REAL, REAL),
        "axis=1"),
    Row("concatenate",
        lambda x, y: sh.concatenate(sh.reshape(x, shape=(1,) + x.shape), sh.reshape(y, shape=(1,) + y.shape),
                                    axis=0),
        lambda x, y: np.stack((x, y)), {"scalar": ((), ())}, (REAL, REAL), "stack-0d"),
    Row("pad", lambda x: sh.pad(x, pad_width=_pw(x.ndim), value=0.5),
        lambda x: np.pad(x, _pw(x.ndim), constant_values=0.5),
        {"shape": ((2, 3),), "empty": ((0, 3),), "float32": ((2, 3),)}, (REAL,)),
    Row("astype", lambda x: sh.astype(x, dtype=np.dtype(np.float32)), lambda x: x.astype(np.float32), UNARY,
        (REAL,), "float32"),
    Row("astype", lambda x: sh.astype(x, dtype=np.dtype(np.float64)), lambda x: x.astype(np.float64), UNARY,
        (REAL,), "float64"),
    Row("astype", lambda x: sh.astype(x, dtype=np.dtype(np.int32)), lambda x: x.astype(np.int32), UNARY,
        (REAL,), "int32", diff=False),
    Row("stop_gradient", sh.stop_gradient, lambda x: x, UNARY, (REAL,), diff=False),
]

# --- indexing -----------------------------------------------------------------------------------


def _gi(x, idx):
    spec, arrays = ix.encode_index(idx)
    return ix.getitem(x, *arrays, spec=spec)


def _rows_idx(x):  # repeated rows: [last, 0, last]
    n = x.shape[0]
    return np.array([n - 1, 0, n - 1]) if n else np.zeros(0, np.int64)


def _mask(x):
    return np.arange(x.size).reshape(x.shape) % 3 == 0


def _slices(x):
    return () if x.ndim == 0 else (slice(1, None), slice(None, None, -1))[: x.ndim]


def _newaxis(x):
    return (None, Ellipsis) if x.ndim == 0 else (None, Ellipsis, 0)


def _np_add_at(x, idx, v):
    out = x.copy()
    np.add.at(out, idx, v)
    return out


def _np_set(x, idx, v):
    out = x.copy()
    out[idx] = v
    return out


_PAIRS = (np.array([[0], [2]]), np.array([1, 3, 1]))
_SET_ROWS = np.array([2, 0])

ROWS += [
    Row("getitem", lambda x: _gi(x, _slices(x)), lambda x: x[_slices(x)],
        {"shape": ((3, 4),), "scalar": ((),), "empty": ((0, 3),), "float32": ((3, 4),)}, (REAL,), "slices"),
    Row("getitem", lambda x: _gi(x, _rows_idx(x)), lambda x: x[_rows_idx(x)],
        {"shape": ((3, 4),), "empty": ((0, 3),), "float32": ((3,),)}, (REAL,), "int-array"),
    Row("getitem", lambda x: _gi(x, _PAIRS), lambda x: x[_PAIRS], {"shape": ((3, 4),), "float32": ((3, 4),)},
        (REAL,), "broadcast-arrays"),
    Row("getitem", lambda x: _gi(x, (1, slice(None, 2))), lambda x: x[1, :2],
        {"shape": ((3, 4),), "float32": ((3, 4),)}, (REAL,), "int-and-slice"),
    Row("getitem", lambda x: _gi(x, _mask(x)), lambda x: x[_mask(x)],
        {"shape": ((3, 4),), "scalar": ((),), "empty": ((0, 3),), "float32": ((3, 4),)}, (REAL,), "mask"),
    Row("getitem", lambda x: _gi(x, _newaxis(x)), lambda x: x[_newaxis(x)],
        {"shape": ((3, 4),), "scalar": ((),), "empty": ((0, 3),), "float32": ((2, 3, 4),)}, (REAL,),
        "None-Ellipsis"),
    Row("index_add", lambda x, v: fnp.at(x)[_rows_idx(x) if x.ndim else ()].add(v),
        lambda x, v: _np_add_at(x, _rows_idx(x) if x.ndim else (), v),
        {"shape": ((3, 4), (3, 4)), "broadcast": ((3, 4), (4,)), "broadcast0d": ((3, 4), ()),
         "scalar": ((), ()), "empty": ((0, 3), (3,)), "float32": ((3, 4), (4,))}, (REAL, REAL), "int-array"),
    Row("index_add", lambda x, v: fnp.at(x)[1:, ::2].add(v), lambda x, v: _np_add_at(x, (slice(1, None),
                                                                                         slice(None, None, 2)), v),
        {"shape": ((3, 4), (2, 2)), "broadcast": ((3, 4), (2, 1)), "empty": ((0, 3), (2,)),
         "float32": ((3, 4), (2, 2))}, (REAL, REAL), "slices"),
    Row("index_set", lambda x, v: fnp.at(x)[_SET_ROWS].set(v), lambda x, v: _np_set(x, _SET_ROWS, v),
        {"shape": ((3, 4), (2, 4)), "broadcast": ((3, 4), (4,)), "broadcast0d": ((3, 4), ()),
         "float32": ((3, 4), (2, 1))}, (REAL, REAL), "int-array"),
    Row("index_set", lambda x, v: fnp.at(x)[..., 1:].set(v), lambda x, v: _np_set(x, (Ellipsis, slice(1, None)), v),
        {"shape": ((3, 4), (3, 3)), "broadcast": ((3, 4), (3, 1)), "empty": ((0, 3), (2,)),
         "float32": ((3, 4), (3,))}, (REAL, REAL), "slices"),
    # a repeated index: NumPy keeps the last write, and only that write has a derivative
    Row("index_set", lambda x, v: fnp.at(x)[_rows_idx(x)].set(v), lambda x, v: _np_set(x, _rows_idx(x), v),
        {"shape": ((3, 4), (3, 4)), "broadcast": ((3, 4), (4,)), "broadcast0d": ((3, 4), ()),
         "float32": ((3,), (3,))}, (REAL, REAL), "repeated"),
    Row("index_set", lambda x, v: fnp.at(x)[()].set(v), lambda x, v: _np_set(x, (), v),
        {"scalar": ((), ()), "float32": ((), ())}, (REAL, REAL), "0d"),
]


# --- contractions and norms ---------------------------------------------------------------------


def _einsum_row(subscripts, shapes, variant=None):
    n = len(subscripts.split("->")[0].split(","))
    return Row("einsum", lambda *ops: la.einsum(*ops, subscripts=subscripts),
               lambda *ops: np.einsum(subscripts, *ops, optimize=len(ops) > 2), shapes, (REAL,) * n,
               variant or subscripts)


ROWS += [
    Row("matmul", fnp.matmul, np.matmul,
        {"shape": ((2, 3), (3, 4)), "empty": ((0, 3), (3, 2)), "empty-k": ((2, 0), (0, 3)),
         "float32": ((2, 3), (3, 4))}, (REAL, REAL), "mat@mat"),
    Row("matmul", fnp.matmul, np.matmul,
        {"shape": ((2, 3), (3,)), "broadcast": ((2, 2, 3), (3,)), "float32": ((2, 3), (3,))}, (REAL, REAL),
        "mat@vec"),
    Row("matmul", fnp.matmul, np.matmul,
        {"shape": ((3,), (3, 4)), "broadcast": ((3,), (2, 3, 4)), "float32": ((3,), (3, 4))}, (REAL, REAL),
        "vec@mat"),
    Row("matmul", fnp.matmul, np.matmul,
        {"shape": ((3,), (3,)), "empty": ((0,), (0,)), "float32": ((3,), (3,))}, (REAL, REAL), "vec@vec"),
    Row("matmul", fnp.matmul, np.matmul,
        {"broadcast": ((2, 1, 2, 3), (4, 3, 2)), "float32": ((3, 2, 3), (1, 3, 2))}, (REAL, REAL), "batched"),
    _einsum_row("ij,jk->ik", {"shape": ((2, 3), (3, 4)), "empty": ((0, 3), (3, 2)), "float32": ((2, 3), (3, 4))}),
    _einsum_row("ij->j", {"shape": ((3, 4),), "empty": ((0, 3),), "float32": ((3, 4),)}),
    _einsum_row("ij->ji", {"shape": ((3, 4),), "float32": ((3, 4),)}),
    _einsum_row("i,i->", {"shape": ((3,), (3,)), "empty": ((0,), (0,)), "float32": ((3,), (3,))}),
    _einsum_row("i,j->ij", {"shape": ((3,), (2,)), "float32": ((3,), (2,))}),
    _einsum_row("bij,bjk->bik", {"shape": ((2, 2, 3), (2, 3, 2)), "float32": ((2, 2, 3), (2, 3, 2))}),
    _einsum_row("ij,jk,kl->il", {"shape": ((2, 3), (3, 2), (2, 2)), "float32": ((2, 3), (3, 2), (2, 2))}),
    _einsum_row("ijk,j->ik", {"shape": ((2, 3, 2), (3,)), "float32": ((2, 3, 2), (3,))},
                "ijk,j->ik (summed index)"),
    _einsum_row(",->", {"scalar": ((), ()), "float32": ((), ())}),
    Row("l2norm", fnp.linalg.norm, np.linalg.norm,
        {"shape": ((2, 3),), "scalar": ((),), "empty": ((0, 3),), "float32": ((2, 3),)}, (REAL,), "all"),
    Row("l2norm", lambda x: fnp.linalg.norm(x, axis=1), lambda x: np.linalg.norm(x, axis=1), AXIS1, (REAL,),
        "axis=1"),
    Row("l2norm", lambda x: fnp.linalg.norm(x, axis=0, keepdims=True),
        lambda x: np.linalg.norm(x, axis=0, keepdims=True),
        {"shape": ((3, 4),), "empty": ((2, 0),), "float32": ((3, 4),)}, (REAL,), "axis=0,keepdims"),
    Row("l2norm", lambda x: fnp.linalg.norm(x, axis=(2, 0)), lambda x: np.linalg.norm(x, axis=(2, 0)),
        {"shape": ((2, 3, 4),), "float32": ((2, 3, 4),)}, (REAL,), "axis=(2,0)"),
]

# --- solvers and decompositions (funcgrad.prims.decompositions) -----------------------------------
# Matrices drawn so that finite differences are well conditioned: diagonally dominant with either
# sign of determinant, symmetric positive definite, symmetric with eigenvalues 1 apart, and
# rectangular with singular values about 1 apart. Stacked (batched) and empty stacks included.


def _stacked(make):
    def sample(rng, shape):
        out = np.empty(shape)
        for idx in np.ndindex(shape[:-2]):
            out[idx] = make(rng, *shape[-2:])
        return out

    return sample


WELLCOND = _stacked(lambda rng, m, n: rng.uniform(-0.5, 0.5, (m, n)) + np.diag(rng.choice([-2.0, 2.0], n)))
SPD = _stacked(lambda rng, m, n: (lambda x: x @ x.T / n + np.eye(n))(rng.standard_normal((n, n))))


def _orthogonal(rng, n):
    return np.linalg.qr(rng.standard_normal((n, n)))[0]


def _sym_spectrum(rng, m, n):
    q = _orthogonal(rng, n)
    return (q * (np.arange(n) - n / 2.0 + rng.uniform(-0.1, 0.1, n))) @ q.T


def _rect_spectrum(rng, m, n):
    k = min(m, n)
    d = np.zeros((m, n))
    d[np.arange(k), np.arange(k)] = 1.0 + np.arange(k) + rng.uniform(-0.1, 0.1, k)
    return _orthogonal(rng, m) @ d @ _orthogonal(rng, n)


SYM = _stacked(_sym_spectrum)  # eigenvalues about 1 apart (not symmetric-only: NumPy reads one triangle)
RECT = _stacked(_rect_spectrum)  # singular values about 1 apart


def _np_eig_packed(x):
    w, v = np.linalg.eig(x)
    p = np.concatenate([w.astype(np.result_type(w, 1j))[..., None, :], v.astype(np.result_type(v, 1j))], axis=-2)
    return np.stack([p.real, p.imag], axis=-3)


def _weighted_uv(u, vh, c_like):  # sum_i c_i u_i vh_i: independent of the signs of singular vector pairs
    c = (1.0 + np.arange(c_like.shape[-1])).astype(c_like.dtype)
    return (u * c) @ vh


def _sq(x):
    return x * x


SQUARE = {"shape": ((3, 3),), "stacked": ((2, 3, 3),), "empty": ((0, 3, 3),), "float32": ((3, 3),)}
TALL = {"tall": ((4, 3),), "wide": ((3, 5),), "square": ((3, 3),), "stacked": ((2, 4, 3),), "empty": ((0, 3, 2),),
        "float32": ((4, 3),)}
SOLVE = {"shape": ((3, 3), (3, 2)), "vector": ((3, 3), (3,)), "broadcast": ((2, 1, 3, 3), (4, 3, 2)),
         "stacked-vector": ((2, 3, 3), (3,)), "empty": ((0, 3, 3), (0, 3, 2)), "float32": ((2, 3, 3), (3, 2))}

ROWS += [
    Row("solve", fnp.linalg.solve, np.linalg.solve, SOLVE, (WELLCOND, REAL)),
    Row("solve", fnp.linalg.inv, np.linalg.inv, SQUARE, (WELLCOND,), "inv"),
    Row("cholesky", fnp.linalg.cholesky, np.linalg.cholesky, SQUARE, (SPD,)),
    Row("cholesky", lambda x: fnp.linalg.cholesky(x, upper=True), lambda x: np.linalg.cholesky(x, upper=True),
        SQUARE, (SPD,), "upper"),
    Row("eigh", lambda x: fnp.linalg.eigh(x).eigenvalues, lambda x: np.linalg.eigh(x).eigenvalues, SQUARE, (SYM,),
        "eigenvalues"),
    Row("eigh", lambda x: _sq(fnp.linalg.eigh(x).eigenvectors), lambda x: _sq(np.linalg.eigh(x).eigenvectors),
        SQUARE, (SYM,), "eigenvectors**2"),
    Row("eigh", lambda x: _sq(fnp.linalg.eigh(x, UPLO="U").eigenvectors),
        lambda x: _sq(np.linalg.eigh(x, UPLO="U").eigenvectors), SQUARE, (SYM,), "UPLO=U"),
    Row("svd", lambda x: fnp.linalg.svd(x, compute_uv=False), lambda x: np.linalg.svd(x, compute_uv=False), TALL,
        (RECT,), "values", exact=False),
    Row("svd", lambda x: (lambda r: _weighted_uv(r.U, r.Vh, r.S))(fnp.linalg.svd(x, full_matrices=False)),
        lambda x: (lambda r: _weighted_uv(r.U, r.Vh, r.S))(np.linalg.svd(x, full_matrices=False)), TALL, (RECT,),
        "U c Vh", exact=False),
    Row("svd", lambda x: _sq(fnp.linalg.svd(x).U), lambda x: _sq(np.linalg.svd(x).U),
        SQUARE, (RECT,), "full,square"),
    Row("qr", lambda x: fnp.linalg.qr(x).Q, lambda x: np.linalg.qr(x).Q, TALL, (RECT,), "Q"),
    Row("qr", lambda x: fnp.linalg.qr(x).R, lambda x: np.linalg.qr(x).R, TALL, (RECT,), "R"),
    Row("qr", lambda x: fnp.linalg.qr(x, mode="complete").R, lambda x: np.linalg.qr(x, mode="complete").R,
        {"wide": ((3, 5),), "square": ((3, 3),), "float32": ((2, 4),)}, (RECT,), "complete"),
    Row("logabsdet", lambda x: fnp.linalg.slogdet(x).logabsdet, lambda x: np.linalg.slogdet(x).logabsdet, SQUARE,
        (WELLCOND,)),
    Row("det", fnp.linalg.det, np.linalg.det, SQUARE, (WELLCOND,), exact=False),
    Row("adjugate", dec.adjugate, lambda x: np.linalg.det(x)[..., None, None] * np.linalg.inv(x), SQUARE, (WELLCOND,),
        exact=False),
    Row("slogdet_sign", lambda x: fnp.linalg.slogdet(x).sign, lambda x: np.linalg.slogdet(x).sign, SQUARE,
        (WELLCOND,), diff=False),
    # eig has no derivative (complex outputs): its row checks the value, behind stop_gradient
    Row("eig", lambda x: dec.eig(sh.stop_gradient(x)), _np_eig_packed, SQUARE, (WELLCOND,), diff=False),
]

# fft rows
# --- discrete Fourier transforms (funcgrad.prims.fft): complex-to-complex, real-to-complex and
# complex-to-real, with even and odd lengths, padding/cropping (n, s), every norm.
ROWS += [
    Row("fft", fnp.fft.fft, np.fft.fft, {"shape": ((2, 5),), "empty": ((0, 4),), "float32": ((3, 4),)}, (REAL,),
        "1d"),
    Row("fft", lambda z: fnp.fft.fft(z, n=6, norm="ortho"), lambda z: np.fft.fft(z, n=6, norm="ortho"),
        {"shape": ((2, 4),), "float32": ((5,),)}, (COMPLEX,), "complex,n=6,ortho"),
    Row("fft", lambda z: fnp.fft.ifftn(z, axes=(0, 2), norm="forward"),
        lambda z: np.fft.ifftn(z, axes=(0, 2), norm="forward"),
        {"shape": ((2, 3, 4),), "empty": ((2, 0, 3),), "float32": ((3, 2, 2),)}, (COMPLEX,), "ifftn"),
    Row("rfft", fnp.fft.rfft, np.fft.rfft, {"even": ((2, 6),), "odd": ((3, 5),), "empty": ((0, 4),),
                                           "float32": ((2, 6),)}, (REAL,), "1d"),
    Row("rfft", lambda x: fnp.fft.rfftn(x, s=(3, 5), axes=(1, 0), norm="ortho"),
        lambda x: np.fft.rfftn(x, s=(3, 5), axes=(1, 0), norm="ortho"), {"shape": ((2, 4),), "float32": ((4, 3),)},
        (REAL,), "rfftn,s,ortho"),
    Row("irfft", fnp.fft.irfft, np.fft.irfft, {"shape": ((2, 4),), "empty": ((0, 3),), "float32": ((3,),)},
        (COMPLEX,), "1d"),
    Row("irfft", lambda z: fnp.fft.irfftn(z, s=(3, 5), axes=(0, 1), norm="forward"),
        lambda z: np.fft.irfftn(z, s=(3, 5), axes=(0, 1), norm="forward"), {"shape": ((2, 4),), "float32": ((3, 3),)},
        (COMPLEX,), "irfftn,odd,forward"),
    Row("irfft", lambda x: fnp.fft.irfft(x, n=6), lambda x: np.fft.irfft(x, n=6),
        {"shape": ((2, 4),), "float32": ((4,),)}, (REAL,), "real input"),
]

# scipy.special rows: the primitives of funcgrad.scipy._special_prims (values are SciPy's ufuncs).
# Orders and shape parameters without a closed-form derivative are integer operands (no derivative)
# or constants; the shape dicts are copies, so the Python-scalar tests meant for NumPy's binary
# operations (float32 kept) do not apply: SciPy's own loops decide those dtypes.
import scipy.special as _scs  # noqa: E402

import funcgrad.scipy.special as _fss  # noqa: E402

SP_PROB = _uniform(0.1, 0.9)
SP_ERFC = _uniform(0.1, 1.9)
SP_X = _uniform(0.5, 3.0)
SP_POCH = _uniform(-0.4, 2.0)


def SP_ORDER(rng, shape):  # integer Bessel orders, negative ones included
    return rng.integers(-1, 4, shape)


def SP_POSINT(rng, shape):  # integer shape parameters (gammainc's a, betainc's a and b, stdtr's df)
    return rng.integers(1, 5, shape)


SP_BINARY = dict(BINARY)
SP_TERNARY = dict(TERNARY)


def _sp_row(name, domains, variant="", fn=None, ref=None, diff=True):
    shapes = {1: UNARY, 2: SP_BINARY, 3: SP_TERNARY}[len(domains)]
    return Row(name, fn or getattr(_fss, name), ref or getattr(_scs, name), shapes, tuple(domains), variant,
               diff=diff)


ROWS += [
    _sp_row("erf", [REAL]), _sp_row("erfc", [REAL]), _sp_row("erfinv", [UNIT]), _sp_row("erfcinv", [SP_ERFC]),
    _sp_row("log_ndtr", [REAL]), _sp_row("logit", [SP_PROB]),
    _sp_row("gamma", [POS]), _sp_row("gammaln", [POS]), _sp_row("digamma", [POS]), _sp_row("rgamma", [POS]),
    _sp_row("gammasgn", [REAL], diff=False),
    _sp_row("i0", [REAL]), _sp_row("i1", [REAL]), _sp_row("j0", [REAL]), _sp_row("j1", [REAL]),
    _sp_row("y0", [SP_X]), _sp_row("y1", [SP_X]),
    _sp_row("beta", [POS, POS]), _sp_row("betaln", [POS, POS]), _sp_row("poch", [POS, SP_POCH]),
    _sp_row("xlogy", [REAL, POS]), _sp_row("xlog1py", [REAL, LOG1P]),
    _sp_row("zeta", [SP_POSINT, POS], "int s", fn=lambda s, q: _fss.zeta(s + 1, q),
            ref=lambda s, q: _scs.zeta(s + 1, q)),
    _sp_row("zeta", [POS], "s=2.5", fn=lambda q: _fss.zeta(2.5, q), ref=lambda q: _scs.zeta(2.5, q)),
    _sp_row("gammainc", [SP_POSINT, POS], "int a"),
    _sp_row("gammainc", [POS], "a=1.7", fn=lambda x: _fss.gammainc(1.7, x), ref=lambda x: _scs.gammainc(1.7, x)),
    _sp_row("gammaincc", [SP_POSINT, POS], "int a"),
    _sp_row("gammaincc", [POS], "a=0.6", fn=lambda x: _fss.gammaincc(0.6, x), ref=lambda x: _scs.gammaincc(0.6, x)),
    _sp_row("betainc", [SP_POSINT, SP_POSINT, SP_PROB], "int a, b"),
    _sp_row("betainc", [SP_PROB], "a=0.7,b=2.5", fn=lambda x: _fss.betainc(0.7, 2.5, x),
            ref=lambda x: _scs.betainc(0.7, 2.5, x)),
    _sp_row("stdtr", [SP_POSINT, REAL], "int df"),
    _sp_row("stdtr", [REAL], "df=3.5", fn=lambda x: _fss.stdtr(3.5, x), ref=lambda x: _scs.stdtr(3.5, x)),
    _sp_row("iv", [SP_ORDER, REAL], "int v"),
    _sp_row("iv", [POS], "v=1.5", fn=lambda x: _fss.iv(1.5, x), ref=lambda x: _scs.iv(1.5, x)),
    _sp_row("ive", [SP_ORDER, NONZERO], "int v"),
    _sp_row("ive", [POS], "v=0.5", fn=lambda x: _fss.ive(0.5, x), ref=lambda x: _scs.ive(0.5, x)),
    _sp_row("jv", [SP_ORDER, REAL], "int v"),
    _sp_row("jv", [POS], "v=1.5", fn=lambda x: _fss.jv(1.5, x), ref=lambda x: _scs.jv(1.5, x)),
    _sp_row("yn", [SP_ORDER, SP_X], "int n"),
]

# scipy.linalg/signal rows
# --- funcgrad.scipy.linalg, funcgrad.scipy.signal and funcgrad.scipy.integrate.odeint: values against
# SciPy (the primitives call SciPy, so bit for bit). Matrices are drawn well conditioned for each
# solver; odeint's derivatives come from further solves, so its row is checked to first order with a
# larger finite-difference step, at tight solver tolerances.


def _sp_shifted(rng, shape):  # eigenvalues near 2: Sylvester-solvable, real principal square root
    return rng.uniform(-0.4, 0.4, shape) + 2.0 * np.eye(shape[-1])


def _sp_band(u):
    def sample(rng, shape):  # band storage with a dominant main diagonal (row u)
        ab = rng.uniform(-0.5, 0.5, shape)
        diag = shape[:-2] + shape[-1:]
        ab[..., u, :] = rng.choice([-1.0, 1.0], diag) * rng.uniform(2.5, 3.0, diag)
        return ab

    return sample


def _sp_times(rng, shape):  # increasing output times, at least 0.2 apart
    return np.cumsum(rng.uniform(0.2, 0.6, shape))


def _sp_decay(y, t, k):
    return -k * y


def _sp_odeint(y0, t, k):
    return fsp_integrate.odeint(_sp_decay, y0, t, k, rtol=1e-12, atol=1e-12)


def _sp_odeint_ref(y0, t, k):
    ys = sp_integrate.odeint(_sp_decay, y0, t, args=(k,), rtol=1e-12, atol=1e-12)
    return ys.reshape(t.shape + y0.shape).astype(y0.dtype)


_SP_TRI = {"shape": ((3, 3), (3, 2)), "vector": ((3, 3), (3,)), "broadcast": ((2, 1, 3, 3), (4, 3, 2)),
           "empty": ((3, 3), (3, 0)), "float32": ((3, 3), (3, 2))}
_SP_SQ = {"shape": ((3, 3),), "stacked": ((2, 3, 3),), "empty": ((0, 0),), "float32": ((3, 3),)}

ROWS += [
    Row("solve_triangular", lambda a, b: fsp_linalg.solve_triangular(a, b, lower=True),
        lambda a, b: sp_linalg.solve_triangular(a, b, lower=True), _SP_TRI, (WELLCOND, REAL), "lower"),
    Row("solve_triangular", lambda a, b: fsp_linalg.solve_triangular(a, b, trans="T", unit_diagonal=True),
        lambda a, b: sp_linalg.solve_triangular(a, b, trans="T", unit_diagonal=True), _SP_TRI, (WELLCOND, REAL),
        "upper,trans=T,unit_diagonal"),
    Row("solve_sylvester", fsp_linalg.solve_sylvester, sp_linalg.solve_sylvester,
        {"shape": ((3, 3), (2, 2), (3, 2)), "stacked": ((2, 2, 2), (3, 3), (2, 2, 3)),
         "empty": ((0, 0), (2, 2), (0, 2)), "float32": ((3, 3), (2, 2), (3, 2))}, (_sp_shifted, _sp_shifted, REAL)),
    Row("sqrtm", fsp_linalg.sqrtm, sp_linalg.sqrtm, _SP_SQ, (_sp_shifted,)),
    Row("solve_banded", lambda ab, b: fsp_linalg.solve_banded((1, 1), ab, b),
        lambda ab, b: sp_linalg.solve_banded((1, 1), ab, b),
        {"shape": ((3, 5), (5, 2)), "vector": ((3, 5), (5,)), "stacked": ((2, 3, 4), (2, 4, 1)),
         "empty": ((3, 4), (4, 0)), "float32": ((3, 5), (5,))}, (_sp_band(1), REAL), "l=1,u=1"),
    Row("solve_banded", lambda ab, b: fsp_linalg.solve_banded((2, 0), ab, b),
        lambda ab, b: sp_linalg.solve_banded((2, 0), ab, b),
        {"shape": ((3, 5), (5, 2)), "float32": ((3, 4), (4,))}, (_sp_band(0), REAL), "l=2,u=0"),
    Row("expm", fsp_linalg.expm, sp_linalg.expm, _SP_SQ, (UNIT,)),
    Row("convolve", lambda x, y: fsp_signal.convolve(x, y), lambda x, y: sp_signal.convolve(x, y),
        {"shape": ((5,), (3,)), "2d": ((4, 3), (2, 2)), "float32": ((4,), (6,))}, (REAL, REAL), "full"),
    Row("convolve", lambda x, y: fsp_signal.convolve(x, y, "valid"), lambda x, y: sp_signal.convolve(x, y, "valid"),
        {"shape": ((5,), (3,)), "in2-larger": ((2, 3), (3, 4)), "float32": ((6,), (2,))}, (REAL, REAL), "valid"),
    Row("convolve", lambda x, y: fsp_signal.correlate(x, y, "same"), lambda x, y: sp_signal.correlate(x, y, "same"),
        {"shape": ((5,), (3,)), "2d": ((3, 4), (2, 3)), "empty": ((0,), (3,)), "float32": ((4,), (3,))},
        (REAL, REAL), "correlate,same"),
    Row("convolve", lambda x, y: fsp_signal.convolve(x, y, "same"), lambda x, y: sp_signal.convolve(x, y, "same"),
        {"shape": ((3,), (2,)), "float32": ((2,), (3,))}, (COMPLEX, COMPLEX), "complex,same"),
    # tensor convolution (sliding_dot): against einsum over NumPy's sliding windows (another summation order)
    Row("sliding_dot", lambda x, k: fsp_signal.correlate(x, k, "valid", axes=([2, 3], [2, 3]), dot_axes=([1], [0])),
        lambda x, k: np.einsum("nchwij,cdij->ndhw", np.lib.stride_tricks.sliding_window_view(x, k.shape[2:], (2, 3)),
                               k), {"shape": ((2, 3, 5, 4), (3, 2, 2, 3)), "empty": ((0, 3, 4, 4), (3, 2, 2, 2)),
                                    "float32": ((1, 2, 4, 4), (2, 3, 3, 2))}, (REAL, REAL), "cnn-valid", exact=False),
    Row("sliding_dot", lambda x, k: fsp_signal.convolve(x, k, "full", axes=([0], [0])),
        lambda x, k: np.stack([sp_signal.convolve(x, k[:, j]) for j in range(k.shape[1])], axis=0),
        {"shape": ((5,), (3, 2)), "float32": ((4,), (2, 3))}, (REAL, REAL), "full-1d", exact=False),
    # funcgrad.scipy.optimize (scipy_optimize_solve): a root against its closed form
    Row("scipy_optimize_solve", lambda a: _fsp_optimize.root(lambda x, a: x ** 3 - a, np.ones_like(a), args=(a,),
                                                             tol=1e-14).x,
        np.cbrt, {"shape": ((3,),), "scalar": ((),)}, (POS,), "root-cbrt", exact=False,
        tol={"eps": 1e-5}),
    Row("odeint", _sp_odeint, _sp_odeint_ref,
        {"shape": ((2,), (4,), (2,)), "broadcast": ((2,), (3,), ()), "scalar": ((), (3,), ()),
         "float32": ((2,), (4,), (2,))}, (POS, _sp_times, POS), order=1, tol={"eps": 1e-4}),
]

# mvn cdf rows
# funcgrad.scipy.stats.multivariate_normal.cdf (primitive mvn_cdf): values against SciPy called once per
# point with a fresh default_rng(0) (what funcgrad does), bit for bit. The covariance operand is
# symmetrised ((A + A^T)/2) so that finite differences perturb a symmetric matrix; n = 1 and 2 are exact
# to all orders, n = 3 is checked to first order at a tight SciPy tolerance with a larger step.
import scipy.stats as _sps  # noqa: E402

import funcgrad.scipy.stats as _fst  # noqa: E402


def _mvn_spd(rng, shape):
    m = rng.uniform(-0.5, 0.5, shape)
    return m @ m.T + np.eye(shape[-1])


def _mvn_sym(a):
    return 0.5 * (a + a.T)


def _mvn_cdf_ref(x, m, a, **kw):
    s, n = _mvn_sym(a), m.shape[0]
    vals = [_sps.multivariate_normal.cdf(p, m, s, rng=np.random.default_rng(0), **kw) for p in x.reshape(-1, n)]
    return np.squeeze(np.asarray(vals, np.float64).reshape(x.shape[:-1])).astype(np.result_type(x, m, a))


_MVN_TIGHT = {"abseps": 1e-7, "releps": 1e-7}
ROWS += [
    Row("mvn_cdf", lambda x, m, a: _fst.multivariate_normal.cdf(x, m, _mvn_sym(a)), _mvn_cdf_ref,
        {"shape": ((3, 2), (2,), (2, 2)), "point": ((2,), (2,), (2, 2)), "empty": ((0, 2), (2,), (2, 2)),
         "float32": ((2,), (2,), (2, 2))}, (REAL, REAL, _mvn_spd), "n=2"),
    Row("mvn_cdf", lambda x, m, a: _fst.multivariate_normal.cdf(x, m, _mvn_sym(a)), _mvn_cdf_ref,
        {"shape": ((3, 1), (1,), (1, 1)), "point": ((1,), (1,), (1, 1))}, (REAL, REAL, _mvn_spd), "n=1"),
    Row("mvn_cdf", lambda x, m, a: _fst.multivariate_normal.cdf(x, m, _mvn_sym(a), **_MVN_TIGHT),
        lambda x, m, a: _mvn_cdf_ref(x, m, a, **_MVN_TIGHT),
        {"point": ((3,), (3,), (3, 3))}, (REAL, REAL, _mvn_spd), "n=3", order=1,
        tol={"eps": 1e-3, "atol": 1e-4, "rtol": 1e-4}),
]

# --- index_update (x.at[idx].multiply/divide/power/min/max with repeated indices) and nondiff_ufunc --


def _np_ufunc_at(ufunc, x, idx, v):
    out = x.copy()
    ufunc.at(out, idx, v)
    return out


_REPEATED = np.array([2, 0, 2, 1])
_UPDATE = {"shape": ((3, 4), (4, 4)), "broadcast": ((3, 4), (4,)), "broadcast0d": ((3, 4), ()),
           "float32": ((3, 4), (4, 1))}
_SCALE = np.array([1.5, -0.5, 2.0, 0.75])  # constant factors: with repeated indices only x is differentiable
ROWS += [
    Row("index_update", lambda x, v: fnp.at(x)[_REPEATED].max(v),
        lambda x, v: _np_ufunc_at(np.maximum, x, _REPEATED, v), _UPDATE, (GRID_ODD, GRID_EVEN), "max repeated"),
    Row("index_update", lambda x, v: fnp.at(x)[_REPEATED].min(v),
        lambda x, v: _np_ufunc_at(np.minimum, x, _REPEATED, v), _UPDATE, (GRID_ODD, GRID_EVEN), "min repeated"),
    Row("index_update", lambda x, v: fnp.at(x)[_REPEATED, 1:].max(v),
        lambda x, v: _np_ufunc_at(np.maximum, x, (_REPEATED, slice(1, None)), v),
        {"shape": ((3, 4), (4, 3)), "float32": ((3, 4), (3,))}, (GRID_ODD, GRID_EVEN), "max repeated slice"),
    Row("index_update", lambda x: fnp.at(x)[_REPEATED].multiply(_SCALE),
        lambda x: _np_ufunc_at(np.multiply, x, _REPEATED, _SCALE), {"shape": ((3, 4),), "float32": ((3, 4),)},
        (REAL,), "multiply repeated"),
    Row("index_update", lambda x: fnp.at(x)[_REPEATED].divide(_SCALE),
        lambda x: _np_ufunc_at(np.divide, x, _REPEATED, _SCALE), {"shape": ((3, 4),), "float32": ((3, 4),)},
        (REAL,), "divide repeated"),
    Row("nondiff_ufunc", lambda x: nondiff_ufunc("signbit", x), np.signbit, UNARY, (TIES,), "signbit", diff=False),
    Row("nondiff_ufunc", lambda x: nondiff_ufunc("spacing", x), np.spacing, UNARY, (REAL,), "spacing", diff=False),
    Row("nondiff_ufunc", lambda x, y: nondiff_ufunc("nextafter", x, y), np.nextafter, BINARY, (REAL, REAL),
        "nextafter", diff=False),
    Row("nondiff_ufunc", lambda x: nondiff_ufunc("frexp", x, index=1), lambda x: np.frexp(x)[1], UNARY, (REAL,),
        "frexp exponent", diff=False),
    # zero cotangents and grad's seed, staged by jit for Dask/CuPy arguments (tests/test_backends.py)
    Row("full_like", lambda x: sh.full_like(x, fill=1.0, shape=(2, 2), dtype=np.dtype(np.float64)),
        lambda x: np.ones((2, 2)), UNARY, (REAL,), diff=False),
]

# lax window rows
# --- sliding windows (funcgrad.prims.windows), under funcgrad.lax's convolutions and reduce_window: values
# against a loop over output positions and window taps; the transpose (col2im) against a loop that adds.


def _win_params(ndim):
    """Window parameters exercising padding (negative too), strides and both dilations."""
    window, strides, padding, base, wdil = [], [], [], [], []
    for d in range(ndim):
        window.append(2 if d % 2 == 0 else 1)
        strides.append(1 + d % 2)
        padding.append((1, 0) if d % 2 == 0 else (0, -1))
        base.append(2 if d == ndim - 1 else 1)
        wdil.append(2 if d == 0 else 1)
    return dict(window=tuple(window), strides=tuple(strides), padding=tuple(padding), base_dilation=tuple(base),
                window_dilation=tuple(wdil))


def _np_padded(x, padding, base_dilation, fill):
    shape = tuple(0 if n == 0 else (n - 1) * b + 1 for n, b in zip(x.shape, base_dilation))
    y = np.full(shape, fill, x.dtype)
    y[tuple(slice(None, None, b) for b in base_dilation)] = x
    for d, (lo, hi) in enumerate(padding):
        y = np.moveaxis(y, d, 0)
        y = y[max(-lo, 0):y.shape[0] - max(-hi, 0)]
        y = np.concatenate([np.full((max(lo, 0),) + y.shape[1:], fill, x.dtype), y,
                            np.full((max(hi, 0),) + y.shape[1:], fill, x.dtype)])
        y = np.moveaxis(y, 0, d)
    return y


def _np_out_shape(padded_shape, window, strides, window_dilation):
    return tuple(max(0, (p - ((w - 1) * wd + 1)) // s + 1) if p >= (w - 1) * wd + 1 else 0
                 for p, w, s, wd in zip(padded_shape, window, strides, window_dilation))


def _np_patches(x, window, strides, padding, base_dilation, window_dilation, fill):
    y = _np_padded(x, padding, base_dilation, fill)
    out = _np_out_shape(y.shape, window, strides, window_dilation)
    res = np.zeros(out + window, x.dtype)
    for o in np.ndindex(*out):
        for k in np.ndindex(*window):
            res[o + k] = y[tuple(oi * s + ki * wd for oi, ki, s, wd in zip(o, k, strides, window_dilation))]
    return res


def _np_patches_transpose(ct, operand_shape, window, strides, padding, base_dilation, window_dilation):
    n = len(operand_shape)
    marker = _np_padded(np.arange(math.prod(operand_shape)).reshape(operand_shape) + 1, padding, base_dilation, 0)
    x = np.zeros(operand_shape, ct.dtype).reshape(-1)
    for o in np.ndindex(*ct.shape[:n]):
        for k in np.ndindex(*window):
            src = marker[tuple(oi * s + ki * wd for oi, ki, s, wd in zip(o, k, strides, window_dilation))]
            if src:  # an element of x (not padding or a dilation hole)
                x[src - 1] += ct[o + k]
    return x.reshape(operand_shape)


_WIN = {"shape": ((3, 4),), "3d": ((3, 2, 4),), "scalar": ((),), "empty": ((0, 3),), "float32": ((3, 4),)}


def _ct_shape(shape):
    p = _win_params(len(shape))
    padded = np.zeros(tuple(0 if n == 0 else (n - 1) * b + 1 for n, b in zip(shape, p["base_dilation"])))
    padded_shape = tuple(m + lo + hi for m, (lo, hi) in zip(padded.shape, p["padding"]))
    return _np_out_shape(padded_shape, p["window"], p["strides"], p["window_dilation"]) + p["window"]


_WIN_T = {case: (_ct_shape(shapes[0]),) for case, shapes in _WIN.items()}
_WIN_T_OPERAND = {_ct_shape(shapes[0]): shapes[0] for shapes in _WIN.values()}

ROWS += [
    Row("window_patches", lambda x: _win.window_patches(x, fill=0.5, **_win_params(x.ndim)),
        lambda x: _np_patches(x, fill=0.5, **_win_params(x.ndim)), _WIN, (REAL,)),
    Row("window_patches_transpose",
        lambda ct: _win.window_patches_transpose(ct, operand_shape=_WIN_T_OPERAND[ct.shape],
                                                 **_win_params(len(_WIN_T_OPERAND[ct.shape]))),
        lambda ct: _np_patches_transpose(ct, _WIN_T_OPERAND[ct.shape], **_win_params(len(_WIN_T_OPERAND[ct.shape]))),
        _WIN_T, (REAL,), exact=False),
]


# --- parametrisation ----------------------------------------------------------------------------


def _params(rows):
    return [pytest.param(row, case, id=f"{row.id}-{case}") for row in rows for case in row.shapes]


DIFF_ROWS = [r for r in ROWS if r.diff]
NONDIFF_ROWS = [r for r in ROWS if not r.diff]


def _float_indices(args) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if a.dtype.kind == "f")


def _random_like(x, rng):
    x = np.asarray(x)
    if x.dtype.kind == "f":
        return rng.standard_normal(x.shape).astype(x.dtype)
    return np.zeros(x.shape, x.dtype)


def assert_same(got, want, exact=True):
    """``got`` equals NumPy's ``want`` in type, shape, dtype and (exactly, by default) value."""
    assert isinstance(got, (np.ndarray, np.generic)), f"expected a NumPy value, got {type(got).__name__}"
    got_a, want_a = np.asarray(got), np.asarray(want)
    assert got_a.shape == want_a.shape, f"shape {got_a.shape} != NumPy's {want_a.shape}"
    assert got_a.dtype == want_a.dtype, f"dtype {got_a.dtype} != NumPy's {want_a.dtype}"
    if exact:
        np.testing.assert_array_equal(got_a, want_a)
    else:
        tol = 1e-5 if want_a.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got_a, want_a, rtol=tol, atol=tol)


# --- the registry -------------------------------------------------------------------------------


def test_every_primitive_has_a_row():
    import_all_primitives()  # the lazily loaded families too (linalg, fft, lax, scipy)
    registered = set(core.primitives)
    covered = {row.prim for row in ROWS}
    missing = sorted(registered - covered)
    unknown = sorted(covered - registered)
    assert not missing, f"primitives without a row in the test table of tests/test_primitives.py: {missing}"
    assert not unknown, f"rows naming primitives that are not registered: {unknown}"


def test_rows_agree_with_the_registry_on_differentiability():
    for row in ROWS:
        if core.primitives[row.prim].nondiff:
            assert not row.diff, f"{row.id}: the primitive is declared nondiff, but its row expects a derivative"


def test_row_ids_are_unique():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row, case", _params(ROWS))
def test_row_applies_its_primitive(row, case, monkeypatch):
    """Each row really exercises the primitive it is named after (its impl runs)."""
    prim = core.primitives[row.prim]
    calls = []
    impl = prim.impl

    def counting(*args, **params):
        calls.append(1)
        return impl(*args, **params)

    monkeypatch.setattr(prim, "impl", counting)
    row.fn(*make_args(row, case))
    assert calls, f"{row.id} never called the impl of primitive {row.prim!r}"


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("row, case", _params(ROWS))
def test_value_matches_numpy(row, case):
    args = make_args(row, case)
    with np.errstate(all="ignore"):
        want = row.ref(*args)
    assert_same(row.fn(*args), want, row.exact)


# --- derivatives of differentiable rows ---------------------------------------------------------


@pytest.mark.parametrize("row, case", _params(DIFF_ROWS))
def test_derivatives_match_finite_differences(row, case):
    """jvp and vjp vs central differences to second order, and <vjp(ct), t> = <ct, jvp(t)>."""
    check_grads(row.fn, make_args(row, case), order=row.order, modes=("fwd", "rev"), **row.tol)


@pytest.mark.parametrize("row, case", _params(DIFF_ROWS))
def test_derivative_shapes_and_dtypes(row, case):
    """Outputs, cotangents and tangents keep NumPy's shapes and dtypes, at first and second order."""
    args = make_args(row, case)
    want = row.fn(*args)
    rng = np.random.default_rng(1)

    out, pullback = fg.vjp(row.fn, *args)
    assert type(out) is np.ndarray
    assert_same(out, want)
    ct = _random_like(out, rng)
    cts = pullback(ct)
    assert len(cts) == len(args)
    for a, c in zip(args, cts, strict=True):
        assert type(c) is np.ndarray and c.shape == a.shape and c.dtype == _ct_dtype(a), (c.shape, c.dtype)

    tangents = tuple(_random_like(a, rng) for a in args)
    out2, t_out = fg.jvp(row.fn, args, tangents)
    assert_same(out2, want)
    assert type(t_out) is np.ndarray and t_out.shape == out.shape and t_out.dtype == out.dtype

    # second order: forward over reverse and reverse over forward
    _, t_cts = fg.jvp(lambda *a: pullback_at(row.fn, a, ct), args, tangents)
    for a, c in zip(args, t_cts, strict=True):
        assert c.shape == a.shape and c.dtype == _ct_dtype(a), (c.shape, c.dtype)
    _, pb2 = fg.vjp(lambda *a: fg.jvp(row.fn, a, tangents)[1], *args)
    for a, c in zip(args, pb2(ct), strict=True):
        assert c.shape == a.shape and c.dtype == _ct_dtype(a), (c.shape, c.dtype)

    fidx = _float_indices(args)
    if out.shape == () and fidx and out.dtype.kind == "f":  # grad needs a real scalar output
        g = fg.grad(row.fn, argnums=fidx)(*args)
        for i, gi in zip(fidx, g, strict=True):
            assert gi.shape == args[i].shape and gi.dtype == args[i].dtype


def _ct_dtype(a):
    """A cotangent has its argument's dtype; an integer or boolean argument's is float0 (as in JAX)."""
    return a.dtype if a.dtype.kind in "fc" else fg.dtypes.float0


def pullback_at(f, args, ct):
    return fg.vjp(f, *args)[1](ct)


_PY_SCALAR = [r for r in DIFF_ROWS if r.shapes is BINARY and COMPLEX not in r.samplers]


@pytest.mark.parametrize("row", _PY_SCALAR, ids=[r.id for r in _PY_SCALAR])
@pytest.mark.parametrize("side", [0, 1])
def test_python_scalar_operand_keeps_float32(row, side):
    """A Python float operand is weakly typed: float32 in, float32 out and float32 derivatives."""
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    arr = row.samplers[1 - side](rng, (2, 3)).astype(np.float32)
    scalar = float(row.samplers[side](rng, ()))

    def f(x):
        return row.fn(scalar, x) if side == 0 else row.fn(x, scalar)

    want = row.ref(scalar, arr) if side == 0 else row.ref(arr, scalar)
    assert_same(f(arr), want)
    _, pullback = fg.vjp(f, arr)
    (g,) = pullback(np.ones((2, 3), np.float32))
    assert g.dtype == np.float32
    check_grads(f, (arr,), order=1)


@pytest.mark.parametrize("row", _PY_SCALAR, ids=[r.id for r in _PY_SCALAR])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("side", [0, 1])
def test_integer_operand_promotes_like_numpy(row, dtype, side):
    """An integer array operand carries no derivative; the float operand's derivative keeps its dtype."""
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    arr = row.samplers[1 - side](rng, (2, 3)).astype(dtype)
    ints = np.array([1, 2, 3])

    def f(x):
        return row.fn(ints, x) if side == 0 else row.fn(x, ints)

    want = row.ref(ints, arr) if side == 0 else row.ref(arr, ints)
    assert_same(f(arr), want)
    out, pullback = fg.vjp(f, arr)
    assert_same(out, want)
    (g,) = pullback(np.ones(out.shape, out.dtype))
    assert g.dtype == dtype and g.shape == arr.shape
    check_grads(f, (arr,), order=1)


# --- rows without a derivative ------------------------------------------------------------------


@pytest.mark.parametrize("row, case", _params(NONDIFF_ROWS))
def test_no_derivative_is_zero(row, case):
    args = make_args(row, case)
    rng = np.random.default_rng(2)
    with np.errstate(all="ignore"):
        want = row.ref(*args)
        tangents = tuple(_random_like(a, rng) for a in args)
        out, t_out = fg.jvp(row.fn, args, tangents)
        assert_same(out, want)
        assert t_out.shape == out.shape and t_out.dtype == _ct_dtype(out)
        assert t_out.dtype == fg.dtypes.float0 or not np.any(t_out)
        out, pullback = fg.vjp(row.fn, *args)
        assert_same(out, want)
        cts = pullback(_random_like(out, rng))
    for a, c in zip(args, cts, strict=True):
        assert c.shape == a.shape and c.dtype == _ct_dtype(a)
        assert c.dtype == fg.dtypes.float0 or not np.any(c)


@pytest.mark.parametrize("row, case", _params(NONDIFF_ROWS))
def test_no_derivative_does_not_break_grad(row, case):
    """h(x) = sum(x**2) * c(x), with c built from the operation: grad h = 2 c x, Hessian·t = 2 c t."""
    args = make_args(row, case)
    fidx = _float_indices(args)
    assert fidx, "non-differentiable rows use float operands, so that tracers reach the operation"

    def h(*a):
        c = fnp.sum(fnp.astype(row.fn(*a), np.float64))
        s = 0.0
        for i in fidx:
            s = s + fnp.sum(a[i] * a[i])
        return s * c

    with np.errstate(all="ignore"):
        c = float(np.sum(np.asarray(row.ref(*args), np.float64)))
        grads = fg.grad(h, argnums=fidx)(*args)
        rng = np.random.default_rng(3)
        tangents = tuple(_random_like(a, rng) for a in args)
        _, hvp = fg.jvp(fg.grad(h, argnums=fidx), args, tangents)
        for i, g, hv in zip(fidx, grads, hvp, strict=True):
            assert g.dtype == args[i].dtype and hv.dtype == args[i].dtype
            tol = 1e-5 if args[i].dtype == np.float32 else 1e-12
            np.testing.assert_allclose(g, 2 * c * args[i].astype(np.float64), rtol=tol, atol=tol)
            np.testing.assert_allclose(hv, 2 * c * tangents[i].astype(np.float64), rtol=tol, atol=tol)


# --- conventions at kinks (closed forms written by hand) -----------------------------------------


def _grads_both_modes(f, args):
    """Full Jacobian-transpose-times-ones by reverse mode, and the same by forward mode per input."""
    out, pullback = fg.vjp(f, *args)
    rev = pullback(np.ones_like(out))
    fwd = []
    for i, a in enumerate(args):
        cols = []
        for k in range(a.size):
            t = [np.zeros_like(b) for b in args]
            t[i].flat[k] = 1.0
            cols.append(np.sum(fg.jvp(f, args, tuple(t))[1]))
        fwd.append(np.array(cols, a.dtype).reshape(a.shape))
    return rev, tuple(fwd)


def _assert_grads(f, args, want):
    rev, fwd = _grads_both_modes(f, args)
    for r, w in zip(rev, want, strict=True):
        np.testing.assert_array_equal(r, np.asarray(w, r.dtype))
    for r, w in zip(fwd, want, strict=True):
        np.testing.assert_array_equal(r, np.asarray(w, r.dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_abs_derivative_at_zero_is_zero(dtype):
    x = np.array([-1.5, 0.0, 2.0], dtype)
    _assert_grads(fnp.abs, (x,), ([-1.0, 0.0, 1.0],))
    assert fg.grad(fnp.abs)(dtype(0.0)) == 0.0
    # and the second derivative vanishes too
    assert fg.grad(fg.grad(fnp.abs))(dtype(0.0)) == 0.0


@pytest.mark.parametrize("fn", [fnp.maximum, fnp.minimum, fnp.fmax, fnp.fmin], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_extremum_ties_split_equally(fn, dtype):
    x, y = dtype(1.0), dtype(1.0)
    assert fg.grad(fn, argnums=(0, 1))(x, y) == (0.5, 0.5)
    # elementwise, with broadcasting: x = [1, 2, 3] against y = 2
    xs = np.array([1.0, 2.0, 3.0], dtype)
    y = np.array(2.0, dtype)
    if fn in (fnp.maximum, fnp.fmax):
        want = ([0.0, 0.5, 1.0], 1.0 + 0.5)
    else:
        want = ([1.0, 0.5, 0.0], 0.5 + 1.0)
    _assert_grads(fn, (xs, y), want)


@pytest.mark.parametrize("fn", [fnp.fmax, fnp.fmin], ids=lambda f: f.__name__)
def test_fmax_fmin_nan_operand_gives_derivative_to_the_other(fn):
    x = np.array([np.nan, 1.0, 3.0])
    y = np.array([2.0, np.nan, 3.0])
    np.testing.assert_array_equal(fn(x, y), [2.0, 1.0, 3.0])
    _assert_grads(fn, (x, y), ([0.0, 1.0, 0.5], [1.0, 0.0, 0.5]))


@pytest.mark.parametrize("fn", [fnp.max, fnp.min], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reduction_extremum_ties_split_equally(fn, dtype):
    x = np.array([3.0, 1.0, 3.0, 3.0], dtype) * (1 if fn is fnp.max else -1)
    third = dtype(1.0) / dtype(3.0)
    _assert_grads(fn, (x,), ([third, 0.0, third, third],))
    m = np.array([[1.0, 1.0, 0.0], [2.0, 1.0, -1.0]], dtype) * (1 if fn is fnp.max else -1)
    _assert_grads(lambda a: fn(a, axis=1), (m,), ([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]],))
    _assert_grads(lambda a: fn(a, axis=0, keepdims=True), (m,), ([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]],))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norm_gradient_at_zero_is_zero(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division-by-zero warning either
        with np.errstate(all="raise"):
            x = np.zeros(3, dtype)
            g = fg.grad(fnp.linalg.norm)(x)
            assert g.dtype == dtype
            np.testing.assert_array_equal(g, np.zeros(3))
            _, t = fg.jvp(fnp.linalg.norm, (x,), (np.ones(3, dtype),))
            assert t == 0.0
            # one zero row among nonzero rows, along an axis
            m = np.array([[0.0, 0.0], [3.0, 4.0]], dtype)
            _assert_grads(lambda a: fnp.linalg.norm(a, axis=1), (m,), ([[0.0, 0.0], [0.6, 0.8]],))
            # a 0-d zero
            assert fg.grad(fnp.linalg.norm)(dtype(0.0)) == 0.0


def test_hypot_derivative_at_origin_is_zero():
    with np.errstate(all="raise"):
        assert fg.grad(fnp.hypot, argnums=(0, 1))(0.0, 0.0) == (0.0, 0.0)
        x = np.array([0.0, 3.0])
        y = np.array([0.0, 4.0])
        _assert_grads(fnp.hypot, (x, y), ([0.0, 0.6], [0.0, 0.8]))


def test_power_derivative_in_exponent_at_zero_base_is_zero():
    with np.errstate(all="raise"):
        assert fg.grad(fnp.power, argnums=1)(0.0, 2.0) == 0.0
        x = np.array([0.0, 2.0, 0.0])
        y = np.array([3.0, 3.0, 1.0])
        # d/dx x**y = y x**(y-1): [0, 12, 1];  d/dy x**y = x**y log x, and 0 at x = 0: [0, 8 log 2, 0]
        _assert_grads(fnp.power, (x, y), ([0.0, 12.0, 1.0], [0.0, 8.0 * math.log(2.0), 0.0]))


def test_power_derivative_in_base_of_zeroth_power_at_zero_is_zero():
    # x**0 is the constant 1, so its derivative is 0 even at x = 0 (not 0 * 0**-1 = NaN)
    with np.errstate(all="raise"):
        assert fg.grad(fnp.power)(0.0, 0.0) == 0.0
        assert fg.grad(lambda x: fnp.power(x, 0))(0.0) == 0.0  # an integer exponent
        # a polynomial evaluated at 0: d/dx sum_k c_k x**k = c_1
        c = np.array([3.0, -2.0, 5.0, 7.0])
        poly = lambda x: fnp.sum(c * fnp.power(x, np.arange(4.0)))  # noqa: E731
        assert fg.grad(poly)(0.0) == -2.0
        assert fg.grad(fg.grad(poly))(0.0) == 2 * 5.0
        assert fg.grad(fg.grad(fg.grad(poly)))(0.0) == 6 * 7.0
        _, t = fg.jvp(poly, (np.array(0.0),), (np.array(1.0),))
        assert t == -2.0
    # the mixed derivative d/dx d/dy x**y = x**(y-1) (1 + y log x) is untouched at y = 0, x != 0
    mixed = fg.grad(fg.grad(fnp.power, argnums=1), argnums=0)(2.0, 0.0)
    np.testing.assert_allclose(mixed, 0.5, rtol=1e-14)


def _products_of_others(x, axis):
    """For every element, the product of the other elements along ``axis`` (loops, no division)."""
    out = np.empty_like(x)
    moved = np.moveaxis(x, axis, -1)
    res = np.moveaxis(out, axis, -1)
    for idx in np.ndindex(moved.shape[:-1]):
        row = moved[idx]
        for k in range(row.shape[0]):
            p = 1.0
            for j, v in enumerate(row):
                if j != k:
                    p *= v
            res[idx + (k,)] = p
    return out


def test_prod_gradient_is_exact_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    _assert_grads(fnp.prod, (x,), ([0.0, 24.0, 0.0, 0.0],))
    x = np.array([0.0, 2.0, 0.0])
    _assert_grads(fnp.prod, (x,), ([0.0, 0.0, 0.0],))
    m = np.array([[1.5, 0.0, 3.0], [2.0, 5.0, 7.0]])
    _assert_grads(lambda a: fnp.prod(a, axis=1), (m,), (_products_of_others(m, 1),))
    _assert_grads(lambda a: fnp.prod(a, axis=0), (m,), (_products_of_others(m, 0),))
    np.testing.assert_array_equal(_products_of_others(m, 1), [[0.0, 4.5, 0.0], [35.0, 14.0, 10.0]])


def test_prod_hessian_is_exact_with_a_zero():
    x = np.array([2.0, 0.0, 3.0, 5.0])
    n = x.size
    hess = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                hess[i, j] = np.prod([x[k] for k in range(n) if k not in (i, j)])
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        _, col = fg.jvp(fg.grad(fnp.prod), (x,), (e,))
        np.testing.assert_array_equal(col, hess[:, i])


def test_einsum_diagonal_operand_reverse_mode_raises_clearly():
    x = np.arange(9.0).reshape(3, 3)
    _, t = fg.jvp(lambda a: la.einsum(a, subscripts="ii->i"), (x,), (np.eye(3),))
    np.testing.assert_array_equal(t, np.ones(3))
    with pytest.raises(NotImplementedError, match="diagonal"):
        fg.vjp(lambda a: la.einsum(a, subscripts="ii->i"), x)[1](np.ones(3))


def test_where_with_a_float_condition_differentiates():
    c = np.array([0.0, 1.5, -2.0])
    g = fg.grad(lambda x: fnp.sum(fnp.where(x, x * x, 3.0 * x)))(c)
    np.testing.assert_array_equal(g, [3.0, 3.0, -4.0])
