"""jit: compiled code against eager results over the whole primitive table, the cache, static
arguments, pytrees, methods, closures, concretization errors and the generated source.

Expected values come from eager funcgrad (which calls NumPy directly) or NumPy, never from the
jit path itself. A registry test fails as soon as a primitive has no row in this file's table.
"""

from __future__ import annotations

import dataclasses
import functools
import linecache
import traceback
import warnings
import zlib
from collections import namedtuple
from typing import Any, Callable

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.integrate as fsp_integrate
import funcgrad.scipy.linalg as fsp_linalg
import funcgrad.scipy.optimize as _fsp_optimize
import funcgrad.scipy.signal as fsp_signal
from funcgrad import core
from funcgrad import tree_util as tu
from funcgrad.ir import validate
from funcgrad.ir.passes import optimize
from funcgrad.jit import RetraceWarning
from funcgrad.prims import import_all_primitives
from funcgrad.prims import windows as _windows  # noqa: F401  (registers funcgrad.lax's lazily loaded primitives)
from funcgrad.scipy.special import expit

# --- operand domains: (rng, shape) -> array -------------------------------------------------------


def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


REAL = _uniform(-2.0, 2.0)
POS = _uniform(0.5, 2.0)
UNIT = _uniform(-0.8, 0.8)
GT1 = _uniform(1.2, 3.0)
TAN = _uniform(-1.2, 1.2)


def NONZERO(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def TIES(rng, shape):  # small integers as floats: equal values occur
    return rng.integers(-2, 3, shape).astype(np.float64)


def SPECIAL(rng, shape):
    return rng.choice([0.0, 1.5, -2.0, np.nan, np.inf, -np.inf], shape)


def DISTINCT(rng, shape):
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.3 + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def BOOL(rng, shape):
    return rng.random(shape) < 0.5


def INT(rng, shape):
    return rng.integers(-5, 6, shape)


def INT_NONZERO(rng, shape):
    return rng.choice([-3, -2, -1, 1, 2, 3], shape)


def COMPLEX(rng, shape):
    return rng.uniform(-2.0, 2.0, shape) + 1j * rng.uniform(-2.0, 2.0, shape)


def INDEX3(rng, shape):  # valid indices into an axis of length 3
    return rng.integers(0, 3, shape)


# --- the table --------------------------------------------------------------------------------------
# A case maps to one spec per operand: a shape, or "py" for a Python float passed as an argument
# (weakly typed). Cases whose name starts with "f32" cast float arrays to float32.


@dataclasses.dataclass(frozen=True)
class Row:
    prim: str
    fn: Callable[..., Any]
    cases: dict
    domains: tuple
    variant: str = ""
    diff: bool = True
    exact: bool = True  # jit's value equals eager's bit for bit

    @property
    def id(self) -> str:
        return f"{self.prim}[{self.variant}]" if self.variant else self.prim


UNARY = {"f64": ((2, 3),), "f32": ((2, 3),), "0d": ((),), "empty": ((0, 3),), "py": ("py",)}
ARRAYS = {k: v for k, v in UNARY.items() if k != "py"}  # for functions using array methods
BINARY = {"f64": ((2, 3), (2, 3)), "bcast": ((3, 1), (4,)), "f32": ((3, 1), (4,)), "0d": ((), ()),
          "py-right": ((2, 3), "py"), "f32-py-left": ("py", (2, 3)), "empty": ((0, 3), (3,))}


def U(prim, fn, dom=REAL, variant="", diff=True, cases=UNARY):
    return Row(prim, fn, cases, (dom,), variant, diff)


def B(prim, fn, doms=(REAL, REAL), variant="", diff=True, cases=BINARY):
    return Row(prim, fn, cases, doms, variant, diff)


INT_BINARY = {"int": ((2, 3), (3,)), "int-f32": ((2, 3), (3,))}

ROWS: list[Row] = [
    B("add", fnp.add), B("subtract", fnp.subtract), B("multiply", fnp.multiply),
    B("true_divide", fnp.true_divide, (REAL, NONZERO)),
    B("add", fnp.add, (INT, INT), "int", diff=False, cases={"int": ((2, 3), (3,))}),
    B("multiply", lambda i, x: i * x, (INT, REAL), "int*float", diff=False,
      cases={"f64": ((2, 3), (3,)), "f32": ((2, 3), (3,))}),
    U("negative", fnp.negative),
    B("power", fnp.power, (POS, REAL)),
    U("power", lambda x: x ** 3, variant="x**3"),
    U("power", lambda x: x ** 2, variant="x**2-int-literal"),
    B("remainder", fnp.remainder, (REAL, NONZERO)),
    B("remainder", fnp.remainder, (INT, INT_NONZERO), "int", diff=False, cases={"int": ((2, 3), (3,))}),
    U("exp", fnp.exp), U("log", fnp.log, POS), U("log1p", fnp.log1p, POS), U("expm1", fnp.expm1),
    U("log2", fnp.log2, POS), U("log10", fnp.log10, POS), U("sqrt", fnp.sqrt, POS), U("cbrt", fnp.cbrt, NONZERO),
    U("sin", fnp.sin), U("cos", fnp.cos), U("tan", fnp.tan, TAN), U("arcsin", fnp.arcsin, UNIT),
    U("arccos", fnp.arccos, UNIT), U("arctan", fnp.arctan), U("sinh", fnp.sinh), U("cosh", fnp.cosh),
    U("tanh", fnp.tanh), U("arcsinh", fnp.arcsinh), U("arccosh", fnp.arccosh, GT1), U("arctanh", fnp.arctanh, UNIT),
    U("absolute", fnp.abs, NONZERO), U("expit", expit),
    B("arctan2", fnp.arctan2, (NONZERO, REAL)), B("hypot", fnp.hypot), B("logaddexp", fnp.logaddexp),
    B("maximum", fnp.maximum, (DISTINCT, DISTINCT)), B("minimum", fnp.minimum, (DISTINCT, DISTINCT)),
    B("fmax", fnp.fmax, (SPECIAL, REAL), diff=False), B("fmin", fnp.fmin, (SPECIAL, REAL), diff=False),
    B("fmax", fnp.fmax, (DISTINCT, DISTINCT), "finite"), B("fmin", fnp.fmin, (DISTINCT, DISTINCT), "finite"),
    Row("where", fnp.where, {"f64": ((2, 3), (2, 3), (2, 3)), "bcast": ((3, 1), (4,), ()),
                             "f32": ((3, 1), (4,), (3, 4)), "0d": ((), (), ())}, (BOOL, REAL, REAL)),
    Row("where", lambda c, x: fnp.where(c, x, 0.5), {"f64": ((2, 3), (2, 3)), "f32": ((2, 3), (3,))},
        (BOOL, REAL), "python-float-branch"),
    B("floor_divide", fnp.floor_divide, (REAL, NONZERO), diff=False),
    B("floor_divide", fnp.floor_divide, (INT, INT_NONZERO), "int", diff=False, cases={"int": ((2, 3), (3,))}),
    B("equal", fnp.equal, (TIES, TIES), diff=False), B("not_equal", fnp.not_equal, (TIES, TIES), diff=False),
    B("less", fnp.less, (TIES, TIES), diff=False), B("less_equal", fnp.less_equal, (TIES, TIES), diff=False),
    B("greater", fnp.greater, (TIES, TIES), diff=False),
    B("greater_equal", fnp.greater_equal, (TIES, TIES), diff=False),
    B("logical_and", fnp.logical_and, (BOOL, BOOL), diff=False, cases={"bool": ((2, 3), (3,)), "0d": ((), ())}),
    B("logical_or", fnp.logical_or, (TIES, TIES), diff=False),
    B("logical_xor", fnp.logical_xor, (BOOL, TIES), diff=False, cases={"mixed": ((2, 3), (3,))}),
    U("logical_not", fnp.logical_not, TIES, diff=False), U("isnan", fnp.isnan, SPECIAL, diff=False),
    U("isinf", fnp.isinf, SPECIAL, diff=False), U("isfinite", fnp.isfinite, SPECIAL, diff=False),
    U("sign", fnp.sign, TIES, diff=False), U("floor", fnp.floor, diff=False), U("ceil", fnp.ceil, diff=False),
    U("trunc", fnp.trunc, diff=False), U("round", fnp.round, diff=False),
    U("round", lambda x: fnp.round(x, 1), variant="decimals=1", diff=False),
]


def _bind(name):
    """Apply a registered primitive directly (looked up at call time)."""
    return lambda *args, **params: core.primitives[name].bind(*args, **params)


COMPLEX_UNARY = {"c128": ((2, 3),), "c64": ((3,),), "f64": ((2, 3),), "f32": ((3,),)}
ROWS += [
    U("real", _bind("real"), COMPLEX, cases=COMPLEX_UNARY),
    U("imag", _bind("imag"), COMPLEX, cases=COMPLEX_UNARY),
    U("conjugate", _bind("conjugate"), COMPLEX, cases=COMPLEX_UNARY),
    U("absolute", fnp.abs, COMPLEX, "complex", diff=False, cases={"c128": ((2, 3),), "c64": ((3,),)}),
    U("multiply", lambda x: x * (1.5 - 2j), REAL, "complex-literal", diff=False,
      cases={"f64": ((3,),), "f32": ((3,),), "c64": ((3,),)}),
]

ALL = {"f64": ((3, 4),), "f32": ((2, 3),), "0d": ((),), "empty": ((0, 3),)}
NONEMPTY = {k: v for k, v in ALL.items() if k != "empty"}
AXIS1 = {"f64": ((3, 4),), "f32": ((3, 4),), "empty": ((0, 3),)}
AXES02 = {"f64": ((2, 3, 4),), "f32": ((2, 3, 4),)}


def _reductions(prim, fn, dom, diff=True, empty=True):
    return [
        Row(prim, fn, ALL if empty else NONEMPTY, (dom,), "all", diff),
        Row(prim, lambda x: fn(x, axis=1), AXIS1 if empty else {"f64": ((3, 4),)}, (dom,), "axis=1", diff),
        Row(prim, lambda x: fn(x, axis=(0, 2), keepdims=True), AXES02, (dom,), "axis=(0,2),keepdims", diff),
    ]


ROWS += _reductions("sum", fnp.sum, REAL)
ROWS += [Row("sum", fnp.sum, {"int": ((3, 4),), "bool": ((3, 4),)}, (INT,), "int", False),
         Row("sum", lambda b: fnp.sum(b, axis=0), {"bool": ((3, 4),)}, (BOOL,), "bool", False)]
ROWS += _reductions("max", fnp.max, DISTINCT, empty=False)
ROWS += _reductions("min", fnp.min, DISTINCT, empty=False)
ROWS += _reductions("prod", fnp.prod, NONZERO)
ROWS += _reductions("all", fnp.all, TIES, diff=False)
ROWS += _reductions("any", fnp.any, TIES, diff=False)
ROWS += [
    Row("argmax", fnp.argmax, NONEMPTY, (TIES,), "all", False),
    Row("argmax", lambda x: fnp.argmax(x, axis=1), {"f64": ((3, 4),)}, (TIES,), "axis=1", False),
    Row("argsort", lambda x: fnp.argsort(x, kind="stable"), AXIS1, (TIES,), "stable", False),
    Row("argsort", lambda x: fnp.argsort(x, axis=None), {"f64": ((3, 4),), "0d": ((),)}, (DISTINCT,), "flat", False),
    Row("argsort", lambda x: fnp.sort(x, axis=0), AXIS1, (TIES,), "sort"),
    Row("argsort", lambda x: fnp.median(x, axis=1), {"f64": ((3, 4),), "f32": ((3, 5),)}, (DISTINCT,), "median"),
    Row("argmin", fnp.argmin, NONEMPTY, (TIES,), "all", False),
    Row("argmin", lambda x: fnp.argmin(x, axis=0, keepdims=True), {"f64": ((3, 4),)}, (TIES,), "axis=0,kd", False),
    Row("cumsum", lambda x: fnp.cumsum(x, axis=1), AXIS1, (REAL,), "axis=1"),
    Row("cumsum", fnp.cumsum, {"f64": ((2, 3),), "0d": ((),)}, (REAL,), "flat"),
    Row("cumprod", lambda x: fnp.cumprod(x, axis=0), AXIS1, (NONZERO,), "axis=0"),
    Row("cumprod", fnp.cumprod, {"f64": ((2, 3),)}, (NONZERO,), "flat"),
]

# shape primitives
ROWS += [
    Row("reshape", lambda x: fnp.reshape(x, x.shape[::-1]), {"f64": ((2, 3, 4),), "f32": ((2, 3),), "0d": ((),),
                                                             "empty": ((0, 3),)}, (REAL,), "reversed"),
    Row("reshape", lambda x: x.reshape(-1), ARRAYS, (REAL,), "ravel"),
    Row("reshape", lambda x: fnp.reshape(x, (1,) + x.shape) + x, {"f64": ((2, 3),)}, (REAL,), "leading-unit"),
    Row("transpose", lambda x: fnp.transpose(x, (1, 2, 0)), {"f64": ((2, 3, 4),), "f32": ((2, 3, 4),)}, (REAL,)),
    Row("transpose", lambda x: x.T, {"f64": ((2, 3),), "0d": ((),)}, (REAL,), ".T"),
    Row("broadcast_to", lambda x: fnp.broadcast_to(x, (2, 3, 4)), {"f64": ((3, 1),), "f32": ((1, 4),), "0d": ((),)},
        (REAL,)),
    Row("broadcast_to", lambda x, y: fnp.broadcast_to(x, (3, 4)) * y, {"f64": ((4,), (3, 4)), "f32": ((4,), (3, 4))},
        (REAL, REAL), "times-full"),
    Row("broadcast_to", lambda x: fnp.broadcast_to(x, (3,)) * fnp.broadcast_to(x, (3,)), {"f64": ((),)}, (REAL,),
        "squared"),
    Row("broadcast_to", lambda x, y: fnp.broadcast_to(x, (3,)) + fnp.broadcast_to(y, (3,)),
        {"f64": ((), ()), "py": ("py", "py"), "f32-py": ("py", ())}, (REAL, REAL), "two-broadcasts"),
    Row("concatenate", lambda *xs: fnp.concatenate(xs, axis=0), {"f64": ((2, 3), (1, 3), (3, 3)),
                                                                 "f32": ((2, 3), (1, 3), (3, 3))},
        (REAL, REAL, REAL), "axis=0"),
    Row("concatenate", lambda x, y: fnp.concatenate([x, y], axis=1),
        {"int-mixed": ((2, 1), (2, 3)), "f32-int-mixed": ((2, 1), (2, 3))}, (REAL, INT), "axis=1,int"),
    Row("pad", lambda x: fnp.pad(x, ((1, 2), (0, 1)), constant_values=0.5), {"f64": ((2, 3),), "f32": ((2, 3),)},
        (REAL,)),
    Row("astype", lambda x: fnp.astype(x, np.float32), UNARY, (REAL,), "float32"),
    Row("astype", lambda x: x.astype(np.float64), {"f32": ((2, 3),), "f64": ((2, 3),), "f32-0d": ((),)}, (REAL,),
        "float64"),
    Row("astype", lambda x: x.astype(np.int32), ARRAYS, (REAL,), "int32", diff=False),
    Row("astype", lambda x: fnp.astype(x, np.int32), {"py": ("py",)}, (REAL,), "int32-of-python-float", diff=False),
    Row("stop_gradient", fg.stop_gradient, UNARY, (REAL,), diff=False),
    Row("stop_gradient", lambda x: fg.stop_gradient(x) * x, {"f64": ((3,),)}, (REAL,), "times-x"),
]

# indexing
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
IDX = np.array([2, 0, 2])
ROWS += [
    Row("getitem", lambda x: x[1:, ::-1], {"f64": ((3, 4),), "f32": ((3, 4),), "empty": ((0, 4),)}, (REAL,), "slices"),
    Row("getitem", lambda x: x[1], {"f64": ((3, 4),)}, (REAL,), "int"),
    Row("getitem", lambda x: x[IDX], {"f64": ((3, 4),), "f32": ((3,),)}, (REAL,), "const-int-array"),
    Row("getitem", lambda x, i: x[i, 1:], {"f64": ((3, 4), (2, 2))}, (REAL, INDEX3), "traced-int-array"),
    Row("getitem", lambda x: x[MASK], {"f64": ((3, 4),), "f32": ((3, 4),)}, (REAL,), "const-mask"),
    Row("getitem", lambda x: x[None, ..., 0], {"f64": ((2, 3, 4),), "f32": ((3, 4),)}, (REAL,), "None-Ellipsis"),
    Row("getitem", lambda x: x[()], {"0d": ((),)}, (REAL,), "0d"),
    Row("index_add", lambda x, v: fnp.at(x)[IDX].add(v), {"f64": ((3, 4), (4,)), "f32": ((3, 4), (3, 4))},
        (REAL, REAL), "repeated-int-array"),
    Row("index_add", lambda x, v: fnp.at(x)[1:, ::2].add(v), {"f64": ((3, 4), (2, 2)), "f32": ((3, 4), (2, 1))},
        (REAL, REAL), "slices"),
    Row("index_set", lambda x, v: fnp.at(x)[IDX[:2]].set(v), {"f64": ((3, 4), (2, 4)), "f32": ((3, 4), ())},
        (REAL, REAL), "int-array"),
    Row("index_set", lambda x, v: fnp.at(x)[..., 1:].set(v), {"f64": ((3, 4), (3, 3)), "py": ((3, 4), "py")},
        (REAL, REAL), "slices"),
    Row("index_set", lambda x: fnp.at(x)[MASK].set(0.0), {"f64": ((3, 4),)}, (REAL,), "const-mask"),
    Row("index_set", lambda m, v: fnp.at(m)[0].set(v), {"bool": ((2, 3), (3,))}, (BOOL, BOOL), "bool-values",
        diff=False),
    # x.at[idx].max/multiply with a repeated index (issue 9 §1)
    Row("index_update", lambda x, v: fnp.at(x)[IDX].max(v), {"f64": ((3, 4), (4,)), "f32": ((3, 4), (3, 4))},
        (DISTINCT, DISTINCT), "max-repeated"),
    Row("index_update", lambda x: fnp.at(x)[IDX].multiply(1.5), {"f64": ((3, 4),), "f32": ((3, 4),)}, (REAL,),
        "multiply-repeated"),
    Row("nondiff_ufunc", lambda x, y: fnp.nextafter(x, y), {"f64": ((2, 3), (2, 3)), "f32": ((3,), (3,))},
        (REAL, REAL), "nextafter", diff=False),
    Row("nondiff_ufunc", lambda x: fnp.signbit(x), {"f64": ((2, 3),), "0d": ((),)}, (REAL,), "signbit", diff=False),
]

# contractions and norms
ROWS += [
    Row("matmul", fnp.matmul, {"f64": ((2, 3), (3, 4)), "f32": ((2, 3), (3, 4)), "empty-k": ((2, 0), (0, 3))},
        (REAL, REAL), "mat@mat"),
    Row("matmul", lambda a, b: a @ b, {"f64": ((2, 3), (3,)), "bcast": ((2, 2, 3), (3,))}, (REAL, REAL), "mat@vec"),
    Row("matmul", fnp.matmul, {"f64": ((3,), (3,)), "f32": ((3,), (3,))}, (REAL, REAL), "vec@vec"),
    Row("einsum", lambda a, b: fnp.einsum("ij,jk->ik", a, b), {"f64": ((2, 3), (3, 4)), "f32": ((2, 3), (3, 4))},
        (REAL, REAL), "ij,jk->ik"),
    Row("einsum", lambda a: fnp.einsum("ij->j", a), {"f64": ((3, 4),)}, (REAL,), "ij->j"),
    # Not bit-exact: eager funcgrad.numpy.einsum on arrays calls np.einsum(optimize=False), while the
    # primitive (used under every transformation) contracts three operands with optimize=True.
    Row("einsum", lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c), {"f64": ((2, 3), (3, 2), (2, 2))},
        (REAL, REAL, REAL), "three", exact=False),
    Row("l2norm", fnp.linalg.norm, {"f64": ((2, 3),), "f32": ((2, 3),), "0d": ((),)}, (NONZERO,), "all"),
    Row("l2norm", lambda x: fnp.linalg.norm(x, axis=1), {"f64": ((3, 4),)}, (NONZERO,), "axis=1"),
]


# Known bugs outside this test's reach (funcgrad/prims), as (row id, case) -> reason.
KNOWN_CODEGEN_BUGS: dict = {}  # (row id, case) -> reason, for known failures (strict xfail)


def _params(rows, cases=None, known=None):
    known = known or {}
    return [pytest.param(row, case, id=f"{row.id}-{case}",
                         marks=[pytest.mark.xfail(strict=True, reason=known[row.id, case])]
                         if (row.id, case) in known else [])
            for row in rows for case in row.cases if cases is None or case in cases]


def make_args(row: Row, case: str) -> tuple:
    rng = np.random.default_rng(zlib.crc32(f"{row.id}/{case}".encode()))
    args: list[Any] = []
    for spec, dom in zip(row.cases[case], row.domains, strict=True):
        if spec == "py":
            args.append(float(dom(rng, ())))
            continue
        a = np.asarray(dom(rng, spec))
        if case.startswith("f32") and a.dtype.kind == "f":
            a = a.astype(np.float32)
        if case.startswith("c64"):
            a = a.astype(np.complex64)
        if case == "int-f32" and a.dtype.kind == "f":
            a = a.astype(np.float32)
        if case == "bool" and row.domains[0] is INT:
            a = a > 0
        args.append(a)
    return tuple(args)


def assert_same(got, want, exact=True):
    """``got`` (from jit) is a NumPy array with eager's shape and dtype, and (exactly) its value."""
    assert type(got) is np.ndarray, f"jit returned a {type(got).__name__}, not a numpy.ndarray"
    want = np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != eager {want.shape}"
    assert got.dtype == want.dtype, f"dtype {got.dtype} != eager {want.dtype}"
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        tol = 2e-6 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# solvers and decompositions (several outputs packed in one array by the primitive)


def SPD(rng, shape):  # symmetric positive definite stacks of matrices, well conditioned
    m = rng.standard_normal(shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def WELL(rng, shape):  # well-conditioned matrices, distinct singular values
    return rng.standard_normal(shape) * 0.3 + np.diag([3.0, 2.0, 1.0])[: shape[-2], : shape[-1]]


SQUARE = {"f64": ((3, 3),), "f32": ((3, 3),), "batched": ((2, 3, 3),)}
ROWS += [
    Row("solve", _bind("solve"), {"f64": ((3, 3), (3, 2)), "f32": ((3, 3), (3, 2)), "batched": ((2, 3, 3), (2, 3, 1))},
        (WELL, REAL)),
    Row("cholesky", _bind("cholesky"), SQUARE, (SPD,)),
    Row("eigh", lambda a: _bind("eigh")(a, lower=True), SQUARE, (SPD,), "lower"),
    Row("svd", lambda a: _bind("svd")(a, full_matrices=False), {"f64": ((3, 2),), "f32": ((2, 3),),
                                                               "batched": ((2, 3, 3),)}, (WELL,), "reduced"),
    Row("qr", lambda a: _bind("qr")(a, complete=False), {"f64": ((3, 2),), "f32": ((3, 3),), "batched": ((2, 3, 3),)},
        (WELL,), "reduced"),
    Row("logabsdet", _bind("logabsdet"), SQUARE, (WELL,)),
    Row("det", _bind("det"), SQUARE, (WELL,)),
    Row("adjugate", _bind("adjugate"), SQUARE, (WELL,)),
    Row("slogdet_sign", _bind("slogdet_sign"), SQUARE, (REAL,), diff=False),
    Row("eig", _bind("eig"), {"f64": ((3, 3),), "f32": ((3, 3),)}, (WELL,), diff=False),
]


# fft rows
ROWS += [
    Row("fft", lambda x: fnp.fft.fft(x, n=5, norm="ortho"), {"f64": ((2, 4),), "f32": ((3,),)}, (REAL,), "real"),
    # complex inputs (their derivatives under jit are tested in tests/test_fft.py)
    Row("fft", lambda z: fnp.fft.ifftn(z, axes=(0, 1)), {"c128": ((2, 4),), "c64": ((3, 2),)}, (COMPLEX,),
        "complex"),
    Row("rfft", lambda x: fnp.fft.rfftn(x, s=(3, 6), axes=(0, 1)), {"f64": ((4, 3),), "f32": ((3, 4),)}, (REAL,)),
    Row("irfft", lambda x: fnp.fft.irfft(x, n=6), {"f64": ((2, 4),), "f32": ((4,),)}, (REAL,), "real"),
    Row("irfft", lambda z: fnp.fft.irfft2(z, norm="forward"), {"c128": ((2, 4),), "c64": ((3, 3),)}, (COMPLEX,),
        "complex"),
]


# scipy.linalg/signal rows
# (funcgrad.scipy.linalg, funcgrad.scipy.signal, funcgrad.scipy.integrate.odeint; their shapes and dtypes
# under jit come from abstract rules, so no solver runs on placeholder matrices while tracing)


def SHIFTED(rng, shape):  # eigenvalues near 2: Sylvester-solvable, real principal square root
    return rng.uniform(-0.4, 0.4, shape) + 2.0 * np.eye(shape[-1])


def BANDED(rng, shape):  # band storage (l = u = 1) with a dominant main diagonal
    ab = rng.uniform(-0.5, 0.5, shape)
    ab[..., 1, :] += 3.0
    return ab


def _jit_decay(y, t, k):
    return -k * y


_JIT_T = np.array([0.0, 0.4, 1.0])

ROWS += [
    Row("solve_triangular", lambda a, b: fsp_linalg.solve_triangular(a, b, lower=True),
        {"f64": ((3, 3), (3, 2)), "f32": ((3, 3), (3,)), "batched": ((2, 3, 3), (3, 2))}, (WELL, REAL)),
    Row("solve_sylvester", fsp_linalg.solve_sylvester,
        {"f64": ((3, 3), (2, 2), (3, 2)), "f32": ((2, 2), (2, 2), (2, 2)), "batched": ((2, 3, 3), (2, 2), (3, 2))},
        (SHIFTED, SHIFTED, REAL)),
    Row("sqrtm", fsp_linalg.sqrtm, SQUARE, (SPD,)),
    Row("solve_banded", lambda ab, b: fsp_linalg.solve_banded((1, 1), ab, b),
        {"f64": ((3, 4), (4, 2)), "f32": ((3, 4), (4,)), "batched": ((2, 3, 4), (4, 1))}, (BANDED, REAL)),
    Row("expm", fsp_linalg.expm, SQUARE, (REAL,)),
    Row("convolve", lambda x, y: fsp_signal.convolve(x, y), {"f64": ((5,), (3,)), "f32": ((4, 3), (2, 2))},
        (REAL, REAL), "full"),
    Row("convolve", lambda x, y: fsp_signal.correlate(x, y, "same"), {"f64": ((5,), (3,)), "f32": ((2, 3), (3, 4))},
        (REAL, REAL), "correlate,same"),
    Row("convolve", lambda x, y: fsp_signal.convolve(x, y, "valid"), {"f64": ((5,), (3,)), "f32": ((2, 3), (3, 4))},
        (REAL, REAL), "valid"),
    Row("sliding_dot", lambda x, k: fsp_signal.correlate(x, k, "same", axes=([2, 3], [2, 3]), dot_axes=([1], [0])),
        {"f64": ((2, 3, 5, 4), (3, 2, 2, 3)), "f32": ((1, 2, 4, 4), (2, 3, 3, 2)),
         "empty": ((0, 2, 3, 3), (2, 1, 2, 2))}, (REAL, REAL), "cnn-same", exact=False),
    Row("scipy_optimize_solve", lambda a: _fsp_optimize.minimize(
        lambda x, a: fnp.sum(fnp.exp(x) - a * x), np.zeros(np.shape(a)), args=(a,), method="Newton-CG",
        options={"xtol": 1e-14}).x, {"f64": ((3,),), "0d": ((),)}, (POS,), "minimize", exact=False),
    Row("odeint", lambda y0, k: fsp_integrate.odeint(_jit_decay, y0, _JIT_T, k),
        {"f64": ((2,), (2,)), "f32": ((2,), (2,)), "0d": ((), ())}, (POS, POS)),
]
# lax window rows (funcgrad.prims.windows)
ROWS += [
    Row("window_patches", lambda x, k: fg.lax.conv_general_dilated(x, k, (1, 2), ((1, 0), (0, 1)), lhs_dilation=(2, 1),
                                                                  dimension_numbers=("NHWC", "HWIO", "NHWC")),
        {"f64": ((2, 4, 5, 3), (2, 2, 3, 2)), "f32": ((1, 3, 3, 2), (2, 2, 2, 1)),
         "empty": ((0, 3, 3, 2), (2, 2, 2, 1))},
        (REAL, REAL), "conv", exact=False),
    Row("window_patches", lambda x: fg.lax.reduce_window(x, 0.0, fg.lax.add, (2, 2), (1, 2), "SAME"),
        {"f64": ((3, 5),), "f32": ((4, 4),), "empty": ((0, 3),)}, (REAL,), "reduce_window", exact=False),
    Row("window_patches_transpose", lambda ct: _bind("window_patches_transpose")(
        ct, operand_shape=(3, 4), window=(2, 1), strides=(1, 2), padding=((1, 0), (0, 0)), base_dilation=(1, 1),
        window_dilation=(1, 1)), {"f64": ((3, 2, 2, 1),), "f32": ((3, 2, 2, 1),)}, (REAL,), exact=False),
]


# mvn cdf rows (funcgrad.scipy.stats.multivariate_normal.cdf; shape and dtype from the abstract rule)
import funcgrad.scipy.stats as fsp_stats  # noqa: E402

ROWS += [
    Row("mvn_cdf", lambda x, m, s: fsp_stats.multivariate_normal.cdf(x, m, s),
        {"f64": ((3, 2), (2,), (2, 2)), "f32": ((2,), (2,), (2, 2)), "empty": ((0, 2), (2,), (2, 2))},
        (REAL, REAL, SPD)),
]


# scipy.special rows (funcgrad.scipy.special). Orders and shape parameters without a closed-form
# derivative are integer operands or Python floats ("py"), so the derivative tests differentiate only
# where a closed form exists.
import funcgrad.scipy.special as fsp_special  # noqa: E402

SP_PROB = _uniform(0.1, 0.9)
SP_X = _uniform(0.5, 3.0)


def SP_ORDER(rng, shape):  # integer orders, negative ones included
    return rng.integers(-1, 4, shape)


def SP_POSINT(rng, shape):  # integer shape parameters
    return rng.integers(1, 5, shape)


def SP_ZETA_S(rng, shape):  # integer orders s > 1 of the Hurwitz zeta function
    return rng.integers(2, 5, shape)


SP_ORDER_CASES = {"f64": ((2, 3), (2, 3)), "bcast": ((3, 1), (4,)), "f32": ((3, 1), (4,)), "0d": ((), ()),
                  "f32-py-left": ("py", (2, 3)), "empty": ((0, 3), (3,))}


def SPO(prim, fn, doms, variant=""):
    return Row(prim, fn, SP_ORDER_CASES, doms, variant)


ROWS += [
    U("erf", fsp_special.erf), U("erfc", fsp_special.erfc), U("erfinv", fsp_special.erfinv, UNIT),
    U("erfcinv", lambda x: fsp_special.erfcinv(x + 1.0), UNIT), U("log_ndtr", fsp_special.log_ndtr),
    U("logit", fsp_special.logit, SP_PROB), U("gamma", fsp_special.gamma, POS), U("gammaln", fsp_special.gammaln, POS),
    U("digamma", fsp_special.digamma, POS), U("rgamma", fsp_special.rgamma, POS),
    U("gammasgn", fsp_special.gammasgn, REAL, diff=False),
    U("i0", fsp_special.i0), U("i1", fsp_special.i1), U("j0", fsp_special.j0), U("j1", fsp_special.j1),
    U("y0", fsp_special.y0, SP_X), U("y1", fsp_special.y1, SP_X),
    B("beta", fsp_special.beta, (POS, POS)), B("betaln", fsp_special.betaln, (POS, POS)),
    B("poch", fsp_special.poch, (POS, POS)), B("xlogy", fsp_special.xlogy, (REAL, POS)),
    B("xlog1py", fsp_special.xlog1py, (REAL, POS)),
    SPO("zeta", fsp_special.zeta, (SP_ZETA_S, POS)),
    SPO("gammainc", fsp_special.gammainc, (SP_POSINT, POS)), SPO("gammaincc", fsp_special.gammaincc, (SP_POSINT, POS)),
    SPO("stdtr", fsp_special.stdtr, (SP_POSINT, REAL)),
    SPO("iv", fsp_special.iv, (SP_ORDER, REAL)), SPO("ive", fsp_special.ive, (SP_ORDER, NONZERO)),
    SPO("jv", fsp_special.jv, (SP_ORDER, REAL)), SPO("yn", fsp_special.yn, (SP_ORDER, SP_X)),
    Row("betainc", fsp_special.betainc, {"f64": ((2, 3), (2, 3), (2, 3)), "bcast": ((3, 1), (4,), ()),
                                         "f32": ((3, 1), (4,), (3, 4)), "0d": ((), (), ())},
        (SP_POSINT, SP_POSINT, SP_PROB)),
    Row("digamma", lambda n, x: fsp_special.polygamma(n, x), {"f64": ((2, 3), (2, 3)), "f32": ((3,), (3,))},
        (SP_POSINT, POS), "polygamma"),
    # the zeros/seed jit stages for Dask/CuPy arguments (a constant: no derivative)
    Row("full_like",
        lambda x: x * core.primitives["full_like"].bind(x, fill=2.0, shape=(3,), dtype=np.dtype(np.float64)),
        {"f64": ((3,),)}, (REAL,)),
]


# --- the registry -----------------------------------------------------------------------------------


def test_every_primitive_has_a_row():
    import_all_primitives()  # the lazily loaded families too (linalg, fft, lax, scipy)
    missing = sorted(set(core.primitives) - {row.prim for row in ROWS})
    unknown = sorted({row.prim for row in ROWS} - set(core.primitives))
    assert not missing, f"primitives without a row in the jit table of tests/test_jit.py: {missing}"
    assert not unknown, f"rows naming primitives that are not registered: {unknown}"


def test_row_ids_are_unique():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_program_stages_the_primitive(row):
    """Each row really stages its primitive (not folded away) in its main case, and every case
    gives a valid program, before and after optimisation."""
    for case in row.cases:
        prog = fg.make_trace(row.fn)(*make_args(row, case))
        validate(prog)
        validate(optimize(prog))
        if case == next(iter(row.cases)):
            assert row.prim in [e.prim.name for e in prog.eqns], str(prog)


@pytest.mark.parametrize("row, case", _params(ROWS, known=KNOWN_CODEGEN_BUGS))
def test_compiled_value_equals_eager(row, case):
    args = make_args(row, case)
    with np.errstate(all="ignore"):
        want = row.fn(*args)
        jf = fg.jit(row.fn)
        first = jf(*args)
        again = jf(*args)  # from the cache
    assert_same(first, want, row.exact)
    assert_same(again, want, row.exact)
    assert jf.cache_info().misses == 1 and jf.cache_info().hits == 1


def _float_positions(args):
    return tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f")


def _restrict(fn, args, pos):
    """fn as a function of the operands at ``pos`` only (the others fixed)."""

    def g(*fargs):
        full = list(args)
        for i, a in zip(pos, fargs, strict=True):
            full[i] = a
        return fn(*full)

    return g


_DIFF_CASES = ("f64", "f32", "bcast", "0d", "empty", "py-right", "f32-py-left")


@pytest.mark.parametrize("row, case", _params([r for r in ROWS if r.diff], _DIFF_CASES, KNOWN_CODEGEN_BUGS))
def test_derivatives_of_compiled_equal_eager(row, case):
    """vjp(jit(f)) (compiled forward/backward programs) and jvp(jit(f)) against eager, with
    non-uniform cotangents and tangents."""
    args = make_args(row, case)
    pos = _float_positions(args)
    fargs = tuple(args[i] for i in pos)
    rng = np.random.default_rng(7)
    g = _restrict(row.fn, args, pos)
    jg = fg.jit(g)
    out, pullback = fg.vjp(g, *fargs)
    jout, jpullback = fg.vjp(jg, *fargs)
    assert_same(jout, out)
    ct = rng.standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
    for want, got in zip(pullback(ct), jpullback(ct), strict=True):
        assert_same(got, want, exact=False)
    tangents = tuple(rng.standard_normal(a.shape).astype(a.dtype) for a in fargs)
    out, t_out = fg.jvp(g, fargs, tangents)
    jout, jt_out = fg.jvp(jg, fargs, tangents)
    assert_same(jout, out)
    assert_same(jt_out, t_out, exact=False)


# --- cache ------------------------------------------------------------------------------------------


def counting(fn):
    """fn, counting how often its Python body runs (once per trace under jit)."""
    calls = []

    @functools.wraps(fn)  # keeps fn's signature, which jit reads for argument names
    def wrapped(*args, **kwargs):
        calls.append(1)
        return fn(*args, **kwargs)

    wrapped.calls = calls
    return wrapped


def test_hits_and_misses_and_no_retrace_on_new_values():
    body = counting(lambda x, y: fnp.sin(x) * y)
    f = fg.jit(body)
    assert f.cache_info() == (0, 0, 0, 64)
    x, y = np.arange(3.0), np.ones(3)
    np.testing.assert_array_equal(f(x, y), np.sin(x) * y)
    assert f.cache_info()[:3] == (0, 1, 1)
    for k in range(5):  # new values, same shapes and dtypes
        x2, y2 = x + k, y * k
        np.testing.assert_array_equal(f(x2, y2), np.sin(x2) * y2)
    info = f.cache_info()
    assert (info.hits, info.misses, info.size) == (5, 1, 1)
    assert len(body.calls) == 1
    f.clear_cache()
    assert f.cache_info()[:3] == (0, 0, 0)
    f(x, y)
    assert len(body.calls) == 2


@pytest.mark.parametrize("change", ["shape", "rank", "dtype", "int-dtype", "0d-array-vs-float", "tree-structure",
                                    "dict-keys", "tuple-vs-list", "scalar-type"])
def test_retrace_on_new_signature(change):
    body = counting(lambda x: fnp.sum(tu.tree_leaves(x)[0]) * 2)
    f = fg.jit(body)
    first, second = {
        "shape": (np.ones(3), np.ones(4)),
        "rank": (np.ones(3), np.ones((3, 1))),
        "dtype": (np.ones(3), np.ones(3, np.float32)),
        "int-dtype": (np.ones(3, np.int64), np.ones(3, np.int32)),
        "0d-array-vs-float": (np.array(1.0), 1.0),
        "tree-structure": ((np.ones(3),), (np.ones(3), np.ones(3))),
        "dict-keys": ({"a": np.ones(3)}, {"b": np.ones(3)}),
        "tuple-vs-list": ((np.ones(3),), [np.ones(3)]),
        "scalar-type": (1.0, 1),
    }[change]
    for arg in (first, second, first, second):
        want = np.sum(tu.tree_leaves(arg)[0]) * 2
        got = f(arg)
        assert_same(got, want)
    assert f.cache_info()[:3] == (2, 2, 2)
    assert len(body.calls) == 2


def test_python_scalars_are_weakly_typed():
    body = counting(lambda x, s: x * s)
    f = fg.jit(body)
    x32 = np.arange(3, dtype=np.float32)
    for s in (1.0, 2.0, -3.5):
        out = f(x32, s)
        assert_same(out, x32 * s)  # float32 array * Python float stays float32
    assert out.dtype == np.float32
    assert len(body.calls) == 1 and f.cache_info().misses == 1
    # a NumPy float64 scalar is not weak: float32 * float64 scalar is float64, and a separate entry
    assert_same(f(x32, np.float64(2.0)), x32 * np.float64(2.0))
    assert f.cache_info().misses == 2
    # a Python int is weak too, and its own entry (int and float promote differently)
    i8 = np.arange(3, dtype=np.int8)
    assert_same(f(i8, 3), i8 * 3)
    assert_same(f(i8, 4), i8 * 4)
    assert f.cache_info().misses == 3
    # a bare Python scalar function: result is a 0-d array of the scalar's default dtype
    g = fg.jit(lambda a, b: a * b + 1)
    assert_same(g(2.0, 3.0), np.asarray(7.0))
    assert_same(g(2, 3), np.asarray(7))


def test_cache_is_bounded_and_evicts_the_oldest_entry():
    body = counting(lambda x: x + 1.0)
    f = fg.jit(body, cache_size=2)
    a, b, c = np.ones(1), np.ones(2), np.ones(3)
    for x in (a, b, c):
        np.testing.assert_array_equal(f(x), x + 1.0)
    assert f.cache_info()[:4] == (0, 3, 2, 2)
    np.testing.assert_array_equal(f(c), c + 1.0)
    np.testing.assert_array_equal(f(b), b + 1.0)
    assert f.cache_info()[:3] == (2, 3, 2)
    np.testing.assert_array_equal(f(a), a + 1.0)  # evicted: traced again
    assert f.cache_info()[:3] == (2, 4, 2)
    assert len(body.calls) == 4


def test_lru_with_python_scalar_arguments():
    f = fg.jit(lambda x, s: x * s, cache_size=2)
    a, b, c = np.ones(1), np.ones(2), np.ones(3)
    f(a, 1.0)
    f(b, 1.0)
    f(a, 2.0)  # a is now the most recently used
    f(c, 1.0)  # evicts b
    assert f.cache_info()[:3] == (1, 3, 2)
    f(a, 3.0)
    assert f.cache_info()[:3] == (2, 3, 2)


def test_lru_bound_evicts_least_recently_used():
    body = counting(lambda x: x + 1.0)
    f = fg.jit(body, cache_size=2)
    a, b, c = np.ones(1), np.ones(2), np.ones(3)
    f(a)
    f(b)
    f(a)  # a is now the most recently used
    f(c)  # evicts b
    info = f.cache_info()
    assert (info.hits, info.misses, info.size, info.maxsize) == (1, 3, 2, 2)
    f(a)
    f(c)
    assert f.cache_info().misses == 3
    f(b)  # was evicted: traced again
    assert f.cache_info().misses == 4 and f.cache_info().size == 2
    assert len(body.calls) == 4
    for x in (a, b, c):
        np.testing.assert_array_equal(f(x), x + 1.0)


def test_retrace_warning_names_the_changing_argument():
    f = fg.jit(lambda x, y: x * fnp.sum(y))
    x = np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RetraceWarning)
        for n in range(1, 8):
            f(x, np.ones(n))
    with pytest.warns(RetraceWarning) as record:
        f(x, np.ones(8))
    msg = str(record[0].message)
    assert "y changed from shape (7,)" in msg and "to shape (8,)" in msg, msg
    assert "x changed" not in msg, msg  # only the argument that changes is named
    assert "8 times" in msg, msg
    assert record[0].filename == __file__  # points at the caller


def test_retrace_warning_names_a_changing_static_argument():
    f = fg.jit(lambda x, power: x ** power, static_argnums=1)
    x = np.full(2, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RetraceWarning)
        for p in range(1, 8):
            f(x, p)
    with pytest.warns(RetraceWarning, match=r"static argument (1|'power') changed from 7 to 8"):
        np.testing.assert_array_equal(f(x, 8), x ** 8)


def test_retrace_warning_for_a_keyword_argument_and_a_pytree_leaf():
    f = fg.jit(lambda params, *, scale: fnp.sum(params["w"]) * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RetraceWarning)
        for n in range(1, 8):
            f({"w": np.ones(n)}, scale=np.ones(2))
    with pytest.warns(RetraceWarning, match=r"params\['w'\]"):
        f({"w": np.ones(8)}, scale=np.ones(2))


# --- static arguments ---------------------------------------------------------------------------------


def test_static_argnums_values_are_python_values_and_cache_keys():
    body = counting(lambda x, n: x[:n] * n if n > 1 else -x)  # Python control flow on n
    f = fg.jit(body, static_argnums=1)
    x = np.arange(5.0)
    assert_same(f(x, 3), x[:3] * 3)
    assert_same(f(x + 1, 3), (x + 1)[:3] * 3)
    assert_same(f(x, 1), -x)
    assert f.cache_info()[:2] == (1, 2)
    assert len(body.calls) == 2
    # passed by keyword, a static positional parameter is the same cache entry
    assert_same(f(x, n=3), x[:3] * 3)


def test_static_argnames_and_negative_static_argnums():
    def fn(x, mode="sin", k=1):
        return (fnp.sin(x) if mode == "sin" else fnp.cos(x)) * k

    f = fg.jit(fn, static_argnames=("mode", "k"))
    x = np.linspace(0, 1, 4)
    assert_same(f(x, mode="cos"), np.cos(x))
    assert_same(f(x, "cos"), np.cos(x))  # a static_argnames parameter passed positionally
    assert_same(f(x, mode="sin", k=2), np.sin(x) * 2)
    assert_same(f(x), np.sin(x))
    g = fg.jit(fn, static_argnums=-1)  # k
    assert_same(g(x, k=3), np.sin(x) * 3)


def test_unhashable_static_argument_is_a_clear_error():
    f = fg.jit(lambda x, shape: fnp.reshape(x, shape), static_argnums=1)
    with pytest.raises(fg.StaticArgumentError) as info:
        f(np.ones(6), [2, 3])
    msg = str(info.value)
    assert isinstance(info.value, TypeError)
    assert "'shape'" in msg and "list" in msg and "hashable" in msg and "tuple" in msg
    assert_same(f(np.ones(6), (2, 3)), np.ones((2, 3)))
    g = fg.jit(lambda x, cfg: x * cfg["a"], static_argnames="cfg")
    with pytest.raises(fg.StaticArgumentError, match="'cfg'.*dict"):
        g(np.ones(2), cfg={"a": 2.0})


def test_non_array_argument_points_to_static_argnums():
    f = fg.jit(lambda x, name: x * 2)
    with pytest.raises(fg.InvalidLeafError, match=r"name.*str.*static"):
        f(np.ones(2), "hello")
    f = fg.jit(lambda d: d["x"] * 2)
    with pytest.raises(fg.InvalidLeafError, match=r"d\['fn'\]"):
        f({"x": np.ones(2), "fn": print})


# --- keyword arguments, pytrees, methods, closures -------------------------------------------------------


def test_keyword_arguments():
    body = counting(lambda x, y=None, *, scale: (x if y is None else x + y) * scale)
    f = fg.jit(body)
    x, y = np.arange(3.0), np.ones(3)
    assert_same(f(x, scale=2.0), x * 2.0)
    assert_same(f(x, y=y, scale=3.0), (x + y) * 3.0)
    assert_same(f(x, y, scale=3.0), (x + y) * 3.0)
    assert_same(f(x, scale=np.float32(2.0)), x * np.float32(2.0))
    with pytest.raises(TypeError):
        f(x)  # a missing keyword-only argument is the user's own TypeError


Point = namedtuple("Point", ["x", "y"])


@tu.register_dataclass
@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray


def test_pytree_inputs_and_outputs():
    def fn(params, batch):
        layer, extra = params["layer"], params["extra"]
        h = fnp.tanh(batch.x @ layer.w + layer.b)
        loss = fnp.sum((h - batch.y) ** 2) + extra[0] * extra[1]
        return {"loss": loss, "h": h, "nothing": None, "pair": (h[0], [loss * 2])}

    rng = np.random.default_rng(0)
    params = {"layer": Layer(rng.standard_normal((3, 2)), rng.standard_normal(2)), "extra": (2.0, np.array(3.0))}
    batch = Point(rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))
    want = fn(params, batch)
    f = fg.jit(fn)
    for _ in range(2):
        got = f(params, batch)
        assert tu.tree_structure(got) == tu.tree_structure(want)
        for g, w in zip(tu.tree_leaves(got), tu.tree_leaves(want), strict=True):
            assert_same(g, w, exact=False)
    assert f.cache_info()[:2] == (1, 1)


def test_outputs_that_are_inputs_constants_or_python_values():
    c = np.arange(3.0)
    f = fg.jit(lambda x: (x, c, 2.0, x * 1.0))
    x = np.ones(3)
    got = f(x)
    assert_same(got[0], x)
    assert_same(got[1], c)
    assert_same(got[2], np.asarray(2.0))
    assert_same(got[3], x)


class Model:
    def __init__(self, scale):
        self.scale = scale
        self.w = np.arange(3.0) * scale

    @fg.jit
    def apply(self, x):
        return fnp.sum(self.w * fnp.sin(x)) * self.scale



def test_methods():
    x = np.linspace(0, 1, 3)
    m1, m2 = Model(1.0), Model(2.0)
    assert_same(m1.apply(x), np.sum(m1.w * np.sin(x)) * 1.0)
    assert_same(m2.apply(x), np.sum(m2.w * np.sin(x)) * 2.0)  # each instance its own entry
    assert_same(m1.apply(x + 1), np.sum(m1.w * np.sin(x + 1)) * 1.0)
    # methods compose with grad
    np.testing.assert_allclose(fg.grad(m2.apply)(x), m2.w * np.cos(x) * 2.0, rtol=1e-14)


def test_method_with_static_argnames():
    class Poly:
        @fg.jit(static_argnames="n")
        def power(self, n, x):
            return x ** n

    x = np.linspace(0, 1, 3)
    assert_same(Poly().power(3, x), x ** 3)
    assert_same(Poly().power(n=2, x=x), x ** 2)


def test_method_static_argnums_count_self():
    class Poly:
        @fg.jit(static_argnums=1)
        def power(self, n, x):
            return x ** n

    x = np.linspace(0, 1, 3)
    assert_same(Poly().power(3, x), x ** 3)


def test_closure_over_arrays_becomes_constants_and_work_on_constants_is_folded():
    c = np.array([0.5, 1.0, 1.5])

    def fn(x):
        k = fnp.exp(fnp.sin(c) * 2.0) + 1.0  # constants only: computed once, at trace time
        return fnp.sum(x * k + c)

    x = np.array([1.0, -1.0, 2.0])
    prog = fg.make_trace(fn)(x)
    names = [e.prim.name for e in prog.eqns]
    assert names == ["multiply", "add", "sum"], str(prog)  # no sin, exp or the add of constants
    assert len(prog.consts) == 2
    folded = [v for v in prog.consts.values() if not np.array_equal(v, c)]
    np.testing.assert_array_equal(folded[0], np.exp(np.sin(c) * 2.0) + 1.0)
    assert "sin" not in str(prog) and "exp" not in str(prog)
    f = fg.jit(fn)
    assert_same(f(x), np.sum(x * (np.exp(np.sin(c) * 2.0) + 1.0) + c))
    np.testing.assert_allclose(fg.grad(f)(x), np.exp(np.sin(c) * 2.0) + 1.0, rtol=1e-15)


def test_closure_over_an_outer_traced_value():
    """A jitted function closing over a value traced by an enclosing grad: captured as an input."""
    x = np.array([0.3, -0.7])

    def outer(y):
        inner = fg.jit(lambda v: fnp.sum(fnp.sin(v * y)))
        return inner(x)

    y0 = np.array(1.3)
    got = fg.grad(outer)(y0)
    want = np.sum(np.cos(x * y0) * x)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_jit_with_integer_and_boolean_inputs():
    f = fg.jit(lambda i, b, x: fnp.where(b, x[i], 0.0))
    x, i, b = np.arange(4.0), np.array([3, 1]), np.array([True, False])
    assert_same(f(i, b, x), np.where(b, x[i], 0.0))


# --- concretization errors ------------------------------------------------------------------------------


def _concretization(fn, *args, **kwargs):
    with pytest.raises(fg.ConcretizationError) as info:
        fg.jit(fn)(*args, **kwargs)
    assert isinstance(info.value, TypeError)
    return str(info.value)


def _assert_message(msg, arg, line_text, fixes=("static_argnums", "static_argnames")):
    assert f"from {arg}" in msg, msg
    assert __file__ in msg, msg  # the user's file ...
    assert line_text in msg, msg  # ... and source line
    for fix in fixes:
        assert fix in msg, msg


def test_if_on_a_traced_value():
    def fn(x, y):
        z = fnp.sum(y) * 2.0
        if z > 0:  # the line the message shows
            return x
        return -x

    msg = _concretization(fn, np.ones(2), np.ones(3))
    _assert_message(msg, "y", "if z > 0:  # the line the message shows")
    assert "bool()" in msg and "where" in msg
    # the same code is fine under grad (values are concrete) and with y static-free alternatives
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fn(x, np.ones(3))))(np.ones(2)), np.ones(2))


@pytest.mark.parametrize("form", ["while", "and", "or", "not", "assert", "ternary"])
def test_other_bool_conversions(form):
    def fn(x):
        s = fnp.sum(x)
        if form == "while":
            while s > 10:
                s = s / 2
        elif form == "and":
            s = (s > 0) and s
        elif form == "or":
            s = (s > 0) or s
        elif form == "not":
            s = s * (not (s > 0))
        elif form == "assert":
            assert s > 0
        else:
            s = s if s > 0 else -s
        return s

    msg = _concretization(fn, np.ones(3))
    line = {"while": "while s > 10:", "and": "s = (s > 0) and s", "or": "s = (s > 0) or s",
            "not": "s = s * (not (s > 0))", "assert": "assert s > 0", "ternary": "s = s if s > 0 else -s"}[form]
    _assert_message(msg, "x", line)
    assert "bool()" in msg


@pytest.mark.parametrize("conv", ["float", "int", "complex", "item", "tolist"])
def test_scalar_conversions(conv):
    def fn(x):
        v = fnp.sum(x)
        if conv == "float":
            return float(v) * x
        if conv == "int":
            return int(v) * x
        if conv == "complex":
            return complex(v) * x
        if conv == "item":
            return v.item() * x
        return v.tolist() * x

    msg = _concretization(fn, np.ones(3))
    line = {"float": "return float(v) * x", "int": "return int(v) * x", "complex": "return complex(v) * x",
            "item": "return v.item() * x", "tolist": "return v.tolist() * x"}[conv]
    _assert_message(msg, "x", line)
    assert {"float": "float()", "int": "int()", "complex": "complex()", "item": ".item()",
            "tolist": ".tolist()"}[conv] in msg


def test_float_of_a_python_scalar_argument_names_it():
    msg = _concretization(lambda x, lr: x * float(lr), np.ones(2), 0.1)
    _assert_message(msg, "lr", "float(lr)")
    # the fix the message suggests works
    f = fg.jit(lambda x, lr: x * float(lr), static_argnums=1)
    assert_same(f(np.ones(2), 0.1), np.ones(2) * 0.1)


def test_index_conversion_range():
    def fn(x, n):
        total = x * 0.0
        for i in range(n):
            total = total + x * i
        return total

    msg = _concretization(fn, np.ones(2), 3)
    _assert_message(msg, "n", "for i in range(n):")
    assert "__index__" in msg
    f = fg.jit(fn, static_argnames="n")
    assert_same(f(np.ones(2), 3), np.full(2, 3.0))


def test_index_conversion_sequence_index():
    msg = _concretization(lambda x, k: [x, -x][k], np.ones(2), 1)
    _assert_message(msg, "k", "[x, -x][k]")


def test_index_conversion_slice_bound():
    msg = _concretization(lambda x, n: x[:n], np.arange(4.0), 2)
    _assert_message(msg, "n", "x[:n]")


def test_index_conversion_array_size():
    msg = _concretization(lambda x, n: fnp.zeros(n) + fnp.sum(x), np.arange(4.0), 2)
    _assert_message(msg, "n", "fnp.zeros(n)")


@pytest.mark.parametrize("conv", ["asarray", "array", "float64"])
def test_conversion_to_numpy_array(conv):
    def fn(x):
        y = x * 2.0
        return {"asarray": np.asarray, "array": np.array, "float64": np.float64}[conv](y)

    msg = _concretization(fn, np.ones(3))
    _assert_message(msg, "x", "[conv](y)")
    assert "NumPy array" in msg


def test_boolean_mask_computed_from_an_argument():
    def fn(x, y):
        return fnp.sum(x[y > 0])

    msg = _concretization(fn, np.ones(3), np.array([1.0, -1.0, 2.0]))
    _assert_message(msg, "y", "fnp.sum(x[y > 0])")
    assert "boolean-mask" in msg and "where" in msg
    # a mask passed as an argument, and a masked update
    msg = _concretization(lambda x, m: x[m], np.ones(3), np.array([True, False, True]))
    _assert_message(msg, "m", "lambda x, m: x[m]")
    msg = _concretization(lambda x: fnp.at(x)[x > 1.0].set(0.0), np.ones(3))
    _assert_message(msg, "x", "fnp.at(x)[x > 1.0].set(0.0)")
    # the suggested fix
    f = fg.jit(lambda x, y: fnp.sum(fnp.where(y > 0, x, 0.0)))
    assert_same(f(np.arange(3.0), np.array([1.0, -1.0, 2.0])), np.asarray(2.0))


def test_constant_boolean_mask_is_fine():
    mask = np.array([True, False, True, True])
    f = fg.jit(lambda x: fnp.sum(x[mask] ** 2))
    x = np.arange(4.0)
    assert_same(f(x), np.asarray(np.sum(x[mask] ** 2)))
    np.testing.assert_array_equal(fg.grad(f)(x), 2 * x * mask)


def test_error_names_a_pytree_leaf_and_a_keyword():
    msg = _concretization(lambda p: p["w"][0] if fnp.sum(p["w"][1]) else 0.0, {"w": [np.ones(2), np.ones(2)]})
    assert "p['w'][1]" in msg, msg
    msg = _concretization(lambda x, *, flag: x if flag else -x, np.ones(2), flag=np.array(True))
    assert "from flag" in msg, msg


def test_concretization_error_is_not_raised_outside_jit():
    def fn(x):
        n = 0
        while fnp.sum(x) < 100:
            x = x * 2
            n += 1
        return x if fnp.max(x) > 0 else -x

    x = np.ones(3)
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fn(x)))(x), np.full(3, 64.0))


# --- generated source and tracebacks --------------------------------------------------------------------


def test_lower_gives_program_source_and_callable():
    def fn(x, y):
        return fnp.sum(fnp.tanh(x) * y + 1.0)

    x, y = np.linspace(-1, 1, 5), np.arange(5.0)
    f = fg.jit(fn)
    low = f.lower(x, y)
    assert low.source.startswith("def ")
    assert "return" in low.source
    assert low.source.count("\n") >= len(low.program.eqns) + 2
    for e in low.program.eqns:  # the program printed, each equation by its primitive
        assert e.prim.name in str(low.program)
    (got,) = low.compiled(x, y)
    np.testing.assert_allclose(got, fn(x, y), rtol=1e-15)
    # lowering traces, but lower() of a cached signature reuses the entry
    f(x, y)
    assert f.lower(x, y).source == f.lower(x, y).source
    # the source is registered with linecache under the compiled function's file name
    filename = low.compiled.__code__.co_filename
    assert filename.startswith("<funcgrad-jit")
    assert linecache.getlines(filename) == low.source.splitlines(True)


def test_traceback_shows_the_generated_line():
    f = fg.jit(lambda x: fnp.sum(fnp.log(x) * 2.0))
    f(np.ones(3))
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError) as info:
            f(np.zeros(3))
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [fr for fr in frames if fr.filename.startswith("<funcgrad-jit")]
    assert generated, [fr.filename for fr in frames]
    assert generated[-1].line  # linecache gives the line's text
    assert generated[-1].line in f.lower(np.ones(3)).source
    text = "".join(traceback.format_exception(info.value))
    assert generated[-1].line in text


def test_make_trace_static_argnums_and_kwargs():
    prog = fg.make_trace(lambda x, n: x ** n, static_argnums=1)(np.ones(3), 3)
    assert "power" in str(prog) and "3" in str(prog)
    assert len(prog.inputs) == 1
    prog = fg.make_trace(lambda x, *, y: x + y)(np.ones(3), y=np.ones(3))
    assert [e.prim.name for e in prog.eqns] == ["add"] and len(prog.inputs) == 2
    validate(prog)
    assert prog.input_names == ["x", "y"]


def test_bitwise_operators_on_staged_and_batched_values_follow_numpy():
    b, c, i = np.array([True, False, True]), np.array([True, True, False]), np.array([5, 3, 12])

    def f(x, y, n):
        return x & y, x | y, x ^ y, True & x, n & 6, 1 | n, n ^ 3, n << 2, n >> 1, 1 << n

    want = f(b, c, i)
    for got in (fg.jit(f)(b, c, i), fg.vmap(f)(b, c, i)):
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def test_invert_operator_is_numpys_bitwise_not_on_staged_and_batched_values():
    cases = (np.array([5, 0, -3]), np.array([True, False]), np.array([250, 3], dtype=np.uint8),
             np.arange(6, dtype=np.int16).reshape(2, 3))
    for a in cases:
        want = ~a
        for got in (fg.jit(lambda x: ~x)(a), fg.vmap(lambda x: ~x)(a)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="invert"):
        fg.jit(lambda x: ~x)(np.ones(2))
