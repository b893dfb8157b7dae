"""Issue 5 §1: the breadth of ``funcgrad.numpy``.

For every name of the list: it exists; its value, shape and dtype match NumPy's (eagerly, and on
traced values under vjp and jvp) on several shapes (0-d, empty, broadcasting, float32, integer,
complex where NumPy accepts it, NEP 50 weak Python scalars); its derivatives pass
``check_grads`` to second order in forward and reverse mode; plain NumPy calls on traced values
dispatch to it; and NumPy's errors are raised for NumPy's invalid arguments. Conventions at ties
and kinks (sort/median/percentile, nan handling, sinc at 0) are checked against closed forms.

Cases are written once as ``fn(module, *args)`` and run with ``module = numpy`` (the reference)
and ``module = funcgrad.numpy``. Expected derivatives come only from finite differences
(``check_grads``) or closed forms written out here.
"""

from __future__ import annotations

import doctest
import importlib
import math
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.test_util import check_grads

F32, C64 = np.float32, np.complex64

NAMES = """
absolute add subtract multiply divide true_divide negative power mod remainder fabs exp2 deg2rad
rad2deg degrees radians sinc logaddexp2 nan_to_num real imag conj conjugate angle real_if_close
iscomplexobj isrealobj iscomplex all allclose append array_split atleast_1d atleast_2d atleast_3d
column_stack row_stack dstack dsplit hsplit vsplit cross diff diagonal fliplr flipud rot90 roll
rollaxis kron select sort partition nanmean nansum gradient median percentile ndim shape ravel
reshape take take_along_axis argsort quantile isclose
""".split()
CONSTANTS = "float16 float32 float64 int64 complex64 complex128 pi e inf nan newaxis".split()


# --- helpers ---------------------------------------------------------------------------------------


def _tol(dtype) -> float:
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return 0.0
    size = dtype.itemsize // (2 if dtype.kind == "c" else 1)
    return {2: 1e-3, 4: 1e-6}.get(size, 1e-12)


def assert_same(ours, ref, what=""):
    """Same shape and dtype as NumPy, and the same values (to rounding)."""
    assert np.shape(ours) == np.shape(ref), f"{what}: shape {np.shape(ours)} != NumPy's {np.shape(ref)}"
    od, rd = np.asarray(ours).dtype, np.asarray(ref).dtype
    assert od == rd, f"{what}: dtype {od} != NumPy's {rd}"
    if rd.kind in "fc":
        np.testing.assert_allclose(ours, ref, rtol=_tol(rd), atol=_tol(rd), equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ours, ref, err_msg=what)


def assert_same_tree(ours, ref, what=""):
    if isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(ref), f"{what}: {type(ours)} vs {type(ref)}"
        for o, r in zip(ours, ref, strict=True):
            assert_same(o, r, what)
    else:
        assert_same(ours, ref, what)


def _inexact(a) -> bool:
    return np.asarray(a).dtype.kind in "fc"


def traced_outputs(f, *args):
    """``f(*args)`` as vjp (reverse trace) and jvp (forward trace) return it."""
    out_rev, _ = fg.vjp(f, *args)
    tangents = tuple(np.ones_like(a) if _inexact(a) else np.zeros_like(a) for a in args)
    out_fwd, _ = fg.jvp(f, args, tangents)
    return out_rev, out_fwd


def _leaves(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _quiet():
    """NumPy's own warnings (empty slices, deprecated aliases) are expected in some cases."""
    w = warnings.catch_warnings()
    w.__enter__()
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    return w


_rng = np.random.default_rng(20250105)


def R(*shape, lo=-2.0, hi=2.0, dtype=np.float64):
    return np.asarray(_rng.uniform(lo, hi, shape)).astype(dtype)


def P(*shape, dtype=np.float64):  # positive, away from 0
    return R(*shape, lo=0.5, hi=2.0, dtype=dtype)


def NZ(*shape, dtype=np.float64):  # |x| in [0.5, 2], random signs
    return (P(*shape) * _rng.choice([-1.0, 1.0], shape)).astype(dtype)


def C(*shape, dtype=np.complex128):
    return (R(*shape) + 1j * R(*shape)).astype(dtype)


def I(*shape, lo=-5, hi=6):  # noqa: E743
    return _rng.integers(lo, hi, shape)


def TIES(*shape, dtype=np.float64):
    return _rng.integers(-2, 3, shape).astype(dtype)


SPECIAL = np.array([1.5, np.nan, np.inf, -np.inf, -0.5, 0.0])


# --- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_name_exists_and_is_public(name):
    assert callable(getattr(fnp, name)), name
    assert name in fnp.__all__
    assert getattr(fnp, name).__doc__ and ">>>" in getattr(fnp, name).__doc__, f"{name}: docstring with an example"


@pytest.mark.parametrize("name", ["r_", "c_"])
def test_index_expressions_exist(name):
    obj = getattr(fnp, name)
    assert hasattr(obj, "__getitem__") and name in fnp.__all__
    assert ">>>" in obj.__doc__


@pytest.mark.parametrize("name", CONSTANTS)
def test_dtypes_and_constants_are_numpys(name):
    ours, theirs = getattr(fnp, name), getattr(np, name)
    if isinstance(theirs, type):  # scalar types: NumPy's, subclassed so that a call casts traced values
        assert ours == theirs and issubclass(ours, theirs) and np.dtype(ours) == np.dtype(theirs)
    else:
        assert ours is theirs


def test_random_is_a_module_reexporting_numpys_random():
    import funcgrad.numpy.random as npr  # as autograd code does: import autograd.numpy.random as npr

    assert fnp.random is npr and npr.__name__ == "funcgrad.numpy.random"
    for name in ("default_rng", "randn", "RandomState", "Generator", "seed", "normal", "PCG64"):
        assert getattr(npr, name) is getattr(np.random, name)
    assert npr.default_rng(0).standard_normal(2).shape == (2,)
    with pytest.raises(AttributeError):
        npr.not_a_function  # noqa: B018


def test_dtype_objects_work_as_dtype_arguments():
    x = np.arange(3.0)
    assert fnp.sum(x, dtype=fnp.float32).dtype == np.float32
    assert fnp.astype(x, fnp.complex64).dtype == np.complex64
    assert fnp.reshape(x, (3,))[fnp.newaxis].shape == (1, 3)
    assert fnp.cos(fnp.pi) == -1.0 and fnp.isnan(fnp.nan) and fnp.isinf(fnp.inf) and fnp.log(fnp.e) == 1.0


MODULES = ["elementwise", "shape", "reductions", "contractions", "creation", "sorting", "differences"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"funcgrad.numpy.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples of funcgrad.numpy.{module} failed"


# --- values against NumPy ------------------------------------------------------------------------------

VALUES: list = []


def V(case_id, fn, *args):
    VALUES.append(pytest.param(fn, args, id=case_id))


# binary arithmetic: broadcasting, 0-d, empty, float32, NEP 50 weak Python scalars, ints, complex
for _name in ["add", "subtract", "multiply", "divide", "true_divide", "power", "mod", "remainder", "logaddexp2"]:
    _pos = _name == "power"
    _den = _name in ("divide", "true_divide", "mod", "remainder")
    _x = P if _pos else R
    _y = NZ if _den else _x
    _f = (lambda n: lambda m, a, b: getattr(m, n)(a, b))(_name)
    V(f"{_name} same shape", _f, _x(2, 3), _y(2, 3))
    V(f"{_name} broadcast", _f, _x(3, 1), _y(4))
    V(f"{_name} 0-d with array", _f, _x(), _y(2, 3))
    V(f"{_name} 0-d", _f, _x(), _y())
    V(f"{_name} empty", _f, _x(0, 3), _y(3))
    V(f"{_name} float32", _f, _x(3, 1, dtype=F32), _y(4, dtype=F32))
    V(f"{_name} float32 and float64", _f, _x(3, dtype=F32), _y(3))
    V(f"{_name} float32 with weak python float", (lambda n: lambda m, a: getattr(m, n)(a, 1.5))(_name),
      _x(3, dtype=F32))
    V(f"{_name} weak python int with float32", (lambda n: lambda m, a: getattr(m, n)(3, a))(_name), _y(3, dtype=F32))
    V(f"{_name} int and float", _f, I(3, lo=1, hi=4), _y(3))
    V(f"{_name} python scalars", (lambda n: lambda m: getattr(m, n)(2.5, 1.5))(_name))
    if _name not in ("mod", "remainder", "logaddexp2"):
        V(f"{_name} complex", _f, C(2, 3), C(3))
        V(f"{_name} complex64", _f, C(3, dtype=C64), C(3, dtype=C64))
        V(f"{_name} complex and float32", _f, C(3, dtype=C64), _y(3, dtype=F32))
for _name in ["add", "subtract", "multiply", "mod", "remainder"]:
    V(f"{_name} ints", (lambda n: lambda m, a, b: getattr(m, n)(a, b))(_name), I(2, 3), I(3, lo=1))
V("power ints", lambda m, a, b: m.power(a, b), I(2, 3), I(3, lo=0, hi=4))

# unary elementwise
for _name, _complex, _int in [("absolute", True, True), ("negative", True, True), ("fabs", False, True),
                              ("exp2", True, True), ("deg2rad", False, True), ("rad2deg", False, True),
                              ("degrees", False, True), ("radians", False, True), ("sinc", True, True),
                              ("real", True, True), ("imag", True, True), ("conj", True, True),
                              ("conjugate", True, True), ("angle", True, True), ("iscomplex", True, True),
                              ("real_if_close", True, True), ("nan_to_num", True, True)]:
    _f = (lambda n: lambda m, a: getattr(m, n)(a))(_name)
    V(f"{_name} 2-d", _f, R(2, 3))
    V(f"{_name} 0-d", _f, R())
    V(f"{_name} empty", _f, R(0, 3))
    V(f"{_name} float32", _f, R(4, dtype=F32))
    V(f"{_name} python float", (lambda n: lambda m: getattr(m, n)(-0.75))(_name))
    if _int:
        V(f"{_name} int", _f, I(5))
        V(f"{_name} int8", _f, I(5).astype(np.int8))
    if _complex:
        V(f"{_name} complex", _f, C(2, 3))
        V(f"{_name} complex64", _f, C(3, dtype=C64))
        V(f"{_name} complex 0-d", _f, C())
V("sinc at zeros", lambda m, a: m.sinc(a), np.array([0.0, 1.0, -0.0, 0.5, 2.0, -3.0]))
V("sinc at zeros float32", lambda m, a: m.sinc(a), np.array([0.0, 0.25, 1.0], F32))
V("angle deg", lambda m, a: m.angle(a, deg=True), C(4))
V("angle of reals", lambda m, a: m.angle(a), np.array([-2.0, 0.0, 3.0]))
V("nan_to_num special", lambda m, a: m.nan_to_num(a), SPECIAL)
V("nan_to_num special float32", lambda m, a: m.nan_to_num(a), SPECIAL.astype(F32))
V("nan_to_num special float16", lambda m, a: m.nan_to_num(a), SPECIAL.astype(np.float16))
V("nan_to_num values", lambda m, a: m.nan_to_num(a, nan=-1.0, posinf=7.0, neginf=np.float64(-7.0)), SPECIAL.astype(F32))
V("nan_to_num complex special", lambda m, a: m.nan_to_num(a, nan=2.0),
  np.array([complex(np.nan, 1.0), complex(np.inf, -np.inf), 1 + 2j]))
V("real_if_close tiny imaginary", lambda m, a: m.real_if_close(a + 1e-15j), R(3))
V("real_if_close large imaginary", lambda m, a: m.real_if_close(a + 1e-3j), R(3))
V("real_if_close complex64", lambda m, a: m.real_if_close(a), R(3).astype(C64))
V("iscomplex mixed", lambda m, a: m.iscomplex(a), np.array([1 + 0j, 1 + 1e-20j, 2j]))
V("logaddexp2 with infinities", lambda m, a, b: m.logaddexp2(a, b), np.array([-np.inf, 0.0, 3.0]),
  np.array([-np.inf, -np.inf, 3.0]))
V("logaddexp2 large", lambda m, a, b: m.logaddexp2(a, b), np.array([1000.0, -1000.0]), np.array([999.0, -1001.0]))
V("isclose", lambda m, a, b: m.isclose(a, b), R(3, 4), R(3, 4))
V("isclose near", lambda m, a: m.isclose(a, a + 1e-9), R(3, 4))
V("isclose broadcast", lambda m, a, b: m.isclose(a, b, rtol=0.5, atol=0.1), R(3, 1), R(4))
V("isclose nan", lambda m, a: m.isclose(a, a), SPECIAL)
V("isclose equal_nan", lambda m, a: m.isclose(a, a, equal_nan=True), SPECIAL)
V("isclose ints", lambda m, a, b: m.isclose(a, b), I(4), I(4))
V("all", lambda m, a: m.all(a > -1.5), R(3, 4))
V("all axis keepdims", lambda m, a: m.all(a > -1.0, axis=1, keepdims=True), R(3, 4))
V("all empty", lambda m, a: m.all(a > 0, axis=0), R(0, 3))
V("all floats", lambda m, a: m.all(a), R(3, 4))

# select
V("select", lambda m, a: m.select([a < -1, a < 1], [a * 2, -a], default=7.5), R(3, 4))
V("select float32 weak default", lambda m, a: m.select([a > 0], [a], 0.5), R(5, dtype=F32))
V("select float32 numpy default", lambda m, a: m.select([a > 0], [a], np.float64(0.5)), R(5, dtype=F32))
V("select broadcast", lambda m, a, b: m.select([a > 0, b > 0], [a, b], default=b), R(3, 1), R(4))
V("select array default", lambda m, a, b: m.select([a > 0.5], [a], default=b), R(2, 3), R(3))
V("select 0-d", lambda m, a: m.select([a > 0], [a], default=-1.0), R())
V("select ints", lambda m, a: m.select([a > 0, a < -2], [a, a * 10]), I(6))
V("select python choice", lambda m, a: m.select([a > 0], [1.0], default=a), R(4))

# stacking and splitting
V("append flat", lambda m, a, b: m.append(a, b), R(2, 3), R(3, 2))
V("append axis 0", lambda m, a, b: m.append(a, b, axis=0), R(2, 3), R(1, 3))
V("append axis 1", lambda m, a, b: m.append(a, b, axis=1), R(2, 3), R(2, 1))
V("append 0-d", lambda m, a, b: m.append(a, b), R(), R(2))
V("append list", lambda m, a: m.append(a, [1.0, 2.0]), R(3, dtype=F32))
V("append empty", lambda m, a, b: m.append(a, b), R(0), R(2))
for _secs in [3, 1, [1, 3], [2, 2, 5], [-2]]:
    V(f"array_split {_secs}", (lambda s: lambda m, a: m.array_split(a, s))(_secs), R(7))
V("array_split axis 1", lambda m, a: m.array_split(a, 3, axis=1), R(2, 5))
V("array_split more sections than elements", lambda m, a: m.array_split(a, 4), R(2))
V("array_split float32", lambda m, a: m.array_split(a, 2, axis=-1), R(3, 3, dtype=F32))
V("array_split empty", lambda m, a: m.array_split(a, 2), R(0, 2))
for _k, _s in [(1, ()), (1, (3,)), (1, (2, 3)), (2, ()), (2, (3,)), (2, (2, 3)), (2, (2, 3, 4)),
               (3, ()), (3, (3,)), (3, (2, 3)), (3, (2, 3, 4)), (3, (0,))]:
    V(f"atleast_{_k}d {_s}", (lambda k: lambda m, a: getattr(m, f"atleast_{k}d")(a))(_k), R(*_s))
for _k in (1, 2, 3):
    V(f"atleast_{_k}d several", (lambda k: lambda m, a, b: getattr(m, f"atleast_{k}d")(a, b))(_k), R(), R(2, 3))
    V(f"atleast_{_k}d python float", (lambda k: lambda m: getattr(m, f"atleast_{k}d")(2.5))(_k))
V("column_stack 1-d", lambda m, a, b: m.column_stack([a, b]), R(3), R(3))
V("column_stack mixed", lambda m, a, b: m.column_stack([a, b]), R(3), R(3, 2))
V("column_stack 0-d", lambda m, a, b: m.column_stack([a, b]), R(), R())
V("column_stack float32", lambda m, a, b: m.column_stack((a, b)), R(2, dtype=F32), R(2, 1, dtype=F32))
V("row_stack", lambda m, a, b: m.row_stack([a, b]), R(3), R(2, 3))
V("dstack 1-d", lambda m, a, b: m.dstack([a, b]), R(3), R(3))
V("dstack 2-d", lambda m, a, b: m.dstack([a, b]), R(2, 3), R(2, 3))
V("dstack 3-d", lambda m, a, b: m.dstack([a, b]), R(2, 3, 1), R(2, 3, 2))
V("dstack 0-d", lambda m, a, b: m.dstack([a, b]), R(), R())
V("hsplit 2-d", lambda m, a: m.hsplit(a, 2), R(3, 4))
V("hsplit 1-d", lambda m, a: m.hsplit(a, [1, 3]), R(5))
V("hsplit 3-d", lambda m, a: m.hsplit(a, 3), R(2, 3, 2))
V("vsplit", lambda m, a: m.vsplit(a, 2), R(4, 3))
V("vsplit indices", lambda m, a: m.vsplit(a, [1]), R(3, 2, 2))
V("dsplit", lambda m, a: m.dsplit(a, 2), R(2, 3, 4))
V("dsplit indices", lambda m, a: m.dsplit(a, [1, 1, 3]), R(1, 2, 4, dtype=F32))

# vectors, differences
V("cross 3", lambda m, a, b: m.cross(a, b), R(3), R(3))
V("cross broadcast", lambda m, a, b: m.cross(a, b), R(4, 3), R(3))
V("cross stacked", lambda m, a, b: m.cross(a, b), R(2, 1, 3), R(5, 3))
V("cross 2 and 3", lambda m, a, b: m.cross(a, b), R(4, 2), R(4, 3))
V("cross 3 and 2", lambda m, a, b: m.cross(a, b), R(3), R(2))
V("cross 2 and 2", lambda m, a, b: m.cross(a, b), R(5, 2), R(2))
V("cross axes", lambda m, a, b: m.cross(a, b, axisa=0, axisb=1, axisc=0), R(3, 4), R(4, 3))
V("cross axis", lambda m, a, b: m.cross(a, b, axis=0), R(3, 2), R(3, 2))
V("cross float32", lambda m, a, b: m.cross(a, b), R(2, 3, dtype=F32), R(2, 3, dtype=F32))
V("cross ints", lambda m, a, b: m.cross(a, b), I(3), I(3))
V("cross int and float", lambda m, a, b: m.cross(a, b), I(3), R(3))
V("cross complex", lambda m, a, b: m.cross(a, b), C(3), C(3))
for _n in (0, 1, 2, 3):
    V(f"diff n={_n}", (lambda n: lambda m, a: m.diff(a, n=n))(_n), R(2, 5))
V("diff axis 0", lambda m, a: m.diff(a, axis=0), R(3, 4))
V("diff prepend scalar", lambda m, a: m.diff(a, prepend=0.0), R(2, 3))
V("diff prepend and append arrays", lambda m, a, b: m.diff(a, axis=0, prepend=b, append=b), R(2, 3), R(1, 3))
V("diff float32 with python prepend", lambda m, a: m.diff(a, prepend=0.0, append=1.0), R(4, dtype=F32))
V("diff float32 keeps float32", lambda m, a: m.diff(a, 2), R(4, dtype=F32))
V("diff ints", lambda m, a: m.diff(a), I(6))
V("diff int with float prepend", lambda m, a: m.diff(a, prepend=0.5), I(4))
V("diff bools", lambda m, a: m.diff(a > 0), R(6))
V("diff empty", lambda m, a: m.diff(a), R(3, 0))
V("diff n beyond length", lambda m, a: m.diff(a, n=5), R(3))
V("diff complex", lambda m, a: m.diff(a), C(4))
for _off in (-2, -1, 0, 1, 3, 6):
    V(f"diagonal offset {_off}", (lambda k: lambda m, a: m.diagonal(a, k))(_off), R(3, 4))
V("diagonal axes", lambda m, a: m.diagonal(a, 1, 2, 0), R(2, 3, 4))
V("diagonal negative axes", lambda m, a: m.diagonal(a, -1, axis1=-1, axis2=-2), R(2, 3, 4))
V("diagonal empty", lambda m, a: m.diagonal(a), R(0, 3))
V("diagonal float32", lambda m, a: m.diagonal(a), R(3, 3, dtype=F32))

# flips, rotations, rolls
V("fliplr", lambda m, a: m.fliplr(a), R(2, 3))
V("fliplr 3-d", lambda m, a: m.fliplr(a), R(2, 3, 2))
V("flipud", lambda m, a: m.flipud(a), R(3, 2))
V("flipud 1-d", lambda m, a: m.flipud(a), R(4))
V("flipud empty", lambda m, a: m.flipud(a), R(0, 2))
for _k in (-1, 0, 1, 2, 3, 4, 7):
    V(f"rot90 k={_k}", (lambda k: lambda m, a: m.rot90(a, k))(_k), R(2, 3))
for _axes in [(1, 0), (0, 2), (2, 1), (-1, 0)]:
    V(f"rot90 axes {_axes}", (lambda ax: lambda m, a: m.rot90(a, 1, ax))(_axes), R(2, 3, 4))
    V(f"rot90 k=3 axes {_axes}", (lambda ax: lambda m, a: m.rot90(a, 3, axes=ax))(_axes), R(2, 3, 4))
for _shift, _axis in [(1, None), (-2, None), (7, None), (1, 0), (-1, 1), ((1, 2), (0, 1)), ((1, 1), (1, 1)),
                      (2, (0, 1)), ((1, -1), 1)]:
    V(f"roll {_shift} {_axis}", (lambda s, ax: lambda m, a: m.roll(a, s, axis=ax))(_shift, _axis), R(3, 4))
V("roll 0-d", lambda m, a: m.roll(a, 3), R())
V("roll empty", lambda m, a: m.roll(a, 1, axis=0), R(0, 3))
V("roll float32", lambda m, a: m.roll(a, 1), R(5, dtype=F32))
for _ax, _start in [(0, 0), (2, 0), (0, 3), (1, 3), (-1, 1), (1, -1), (2, 2), (0, -3)]:
    V(f"rollaxis {_ax} {_start}", (lambda ax, st: lambda m, a: m.rollaxis(a, ax, st))(_ax, _start), R(2, 3, 4))

# products
V("kron 2-d", lambda m, a, b: m.kron(a, b), R(2, 2), R(3, 3))
V("kron 1-d", lambda m, a, b: m.kron(a, b), R(2), R(3))
V("kron different ranks", lambda m, a, b: m.kron(a, b), R(2), R(3, 2))
V("kron 3-d and 2-d", lambda m, a, b: m.kron(a, b), R(2, 1, 2), R(2, 3))
V("kron 0-d", lambda m, a, b: m.kron(a, b), R(), R(2, 2))
V("kron float32 and python float", lambda m, a: m.kron(a, 2.0), R(2, dtype=F32))
V("kron ints", lambda m, a, b: m.kron(a, b), I(2, 2), I(2))
V("kron complex", lambda m, a, b: m.kron(a, b), C(2), C(2, 2))
V("kron empty", lambda m, a, b: m.kron(a, b), R(0, 2), R(2, 2))

# sorting and order statistics (continuous values: NumPy's default sort and ours agree)
for _axis in (-1, 0, None):
    V(f"sort axis {_axis}", (lambda ax: lambda m, a: m.sort(a, axis=ax))(_axis), R(3, 4))
    V(f"argsort axis {_axis}", (lambda ax: lambda m, a: m.argsort(a, axis=ax))(_axis), R(3, 4))
V("sort float32", lambda m, a: m.sort(a), R(5, dtype=F32))
V("sort ties", lambda m, a: m.sort(a, axis=0), TIES(4, 3))
V("sort ints", lambda m, a: m.sort(a), I(7))
V("sort nan last", lambda m, a: m.sort(a), SPECIAL)
V("sort complex", lambda m, a: m.sort(a), np.array([1 + 2j, 1 - 1j, -3 + 0j, 1 + 0j]))
V("sort empty", lambda m, a: m.sort(a), R(2, 0))
V("sort 0-d flattened", lambda m, a: m.sort(a, axis=None), R())
V("sort stable", lambda m, a: m.sort(a, kind="stable"), R(6))
V("argsort stable ties", lambda m, a: m.argsort(a, kind="stable"), TIES(9))
V("argsort stable= ties", lambda m, a: m.argsort(a, axis=0, stable=True), TIES(5, 3))
V("argsort 0-d", lambda m, a: m.argsort(a), R())
V("argsort empty", lambda m, a: m.argsort(a), R(0))
for _axis in (None, 0, 1, -1, (0, 1), (0, 2)):
    V(f"median axis {_axis}", (lambda ax: lambda m, a: m.median(a, axis=ax))(_axis), R(4, 5, 3))
    V(f"median axis {_axis} keepdims", (lambda ax: lambda m, a: m.median(a, axis=ax, keepdims=True))(_axis),
      R(2, 3, 4))
V("median odd", lambda m, a: m.median(a), R(7))
V("median float32", lambda m, a: m.median(a, axis=0), R(4, 3, dtype=F32))
V("median ints", lambda m, a: m.median(a), I(6))
V("median 0-d", lambda m, a: m.median(a), R())
V("median nan", lambda m, a: m.median(a), SPECIAL)
V("median nan per slice", lambda m, a: m.median(a, axis=1), np.array([[1.0, np.nan, 2.0], [3.0, 1.0, 2.0]]))
V("median empty", lambda m, a: m.median(a), R(0))
V("median ties", lambda m, a: m.median(a, axis=1), TIES(3, 6))
V("median python list", lambda m: m.median([3.0, 1.0, 2.0, 7.0]))
for _q in (0, 12.5, 30, 50, 100, [10, 90], [[5.0, 25.0], [50.0, 99.0]]):
    V(f"percentile {_q}", (lambda q: lambda m, a: m.percentile(a, q))(_q), R(11))
    V(f"percentile {_q} axis 0", (lambda q: lambda m, a: m.percentile(a, q, axis=0))(_q), R(5, 3))
for _method in ("linear", "lower", "higher", "nearest", "midpoint"):
    V(f"percentile {_method}", (lambda me: lambda m, a: m.percentile(a, [0, 12.5, 37.5, 50, 62.5, 80, 100],
                                                                     method=me))(_method), R(5))
    V(f"percentile {_method} ints", (lambda me: lambda m, a: m.percentile(a, [20, 37.5], method=me))(_method), I(5))
    V(f"quantile {_method}", (lambda me: lambda m, a: m.quantile(a, 0.3, axis=1, method=me))(_method), R(3, 6))
V("percentile axes keepdims", lambda m, a: m.percentile(a, [25, 75], axis=(0, 2), keepdims=True), R(2, 3, 4))
V("percentile keepdims all", lambda m, a: m.percentile(a, 40, keepdims=True), R(2, 3))
V("percentile negative axis", lambda m, a: m.percentile(a, 40, axis=-1), R(2, 3, 5))
V("percentile nan", lambda m, a: m.percentile(a, [10, 50]), SPECIAL)
V("percentile 0-d", lambda m, a: m.percentile(a, 50), R())
V("percentile ties", lambda m, a: m.percentile(a, [20, 50, 70], axis=0), TIES(6, 2))
for _qid, _q in [("python", 30), ("float32", np.float32(30)), ("0-d float64", np.array(30.0)),
                 ("list", [30]), ("float32 array", np.array([30.0], F32)), ("int64", np.int64(30))]:
    V(f"percentile float32 data, q {_qid}", (lambda q: lambda m, a: m.percentile(a, q))(_q), R(6, dtype=F32))
    V(f"percentile float16 data, q {_qid}", (lambda q: lambda m, a: m.percentile(a, q))(_q),
      R(6, dtype=np.float16))
    V(f"percentile int data, q {_qid}", (lambda q: lambda m, a: m.percentile(a, q))(_q), I(6))
V("quantile", lambda m, a: m.quantile(a, [0.0, 0.25, 1.0], axis=0), R(4, 3))
V("quantile float32", lambda m, a: m.quantile(a, 0.75), R(4, 3, dtype=F32))

# nan-aware reductions
_NANS = np.array([[1.0, np.nan, 3.0, -2.0], [np.nan, np.nan, np.nan, np.nan], [0.5, 2.0, np.nan, 1.0]])
for _name in ("nansum", "nanmean"):
    for _axis in (None, 0, 1, (0, 1)):
        V(f"{_name} axis {_axis}", (lambda n, ax: lambda m, a: getattr(m, n)(a, axis=ax))(_name, _axis), _NANS)
    V(f"{_name} keepdims", (lambda n: lambda m, a: getattr(m, n)(a, axis=1, keepdims=True))(_name), _NANS)
    V(f"{_name} float32", (lambda n: lambda m, a: getattr(m, n)(a, axis=0))(_name), _NANS.astype(F32))
    V(f"{_name} dtype", (lambda n: lambda m, a: getattr(m, n)(a, axis=1, dtype=np.float64))(_name), _NANS.astype(F32))
    V(f"{_name} no nans", (lambda n: lambda m, a: getattr(m, n)(a, axis=0))(_name), R(3, 4))
    V(f"{_name} ints", (lambda n: lambda m, a: getattr(m, n)(a, axis=0))(_name), I(3, 4))
    V(f"{_name} 0-d", (lambda n: lambda m, a: getattr(m, n)(a))(_name), R())
    V(f"{_name} empty", (lambda n: lambda m, a: getattr(m, n)(a, axis=0))(_name), R(0, 3))
    V(f"{_name} complex", (lambda n: lambda m, a: getattr(m, n)(a))(_name), np.array([1 + 1j, complex(np.nan, 0), 2j]))
    V(f"{_name} complex64", (lambda n: lambda m, a: getattr(m, n)(a, axis=0))(_name), C(3, 2, dtype=C64))

# gradient
V("gradient 1-d", lambda m, a: m.gradient(a), R(6))
V("gradient 1-d spacing", lambda m, a: m.gradient(a, 0.5), R(6))
V("gradient 1-d edge order 2", lambda m, a: m.gradient(a, edge_order=2), R(6))
V("gradient 2-d", lambda m, a: m.gradient(a), R(4, 5))
V("gradient 2-d spacings", lambda m, a: m.gradient(a, 2.0, 0.25), R(4, 5))
V("gradient axis", lambda m, a: m.gradient(a, axis=1), R(4, 5))
V("gradient axes", lambda m, a: m.gradient(a, 3.0, axis=(1, 0)), R(4, 5))
V("gradient uniform coordinates", lambda m, a: m.gradient(a, np.array([0.0, 0.5, 1.0, 1.5, 2.0])), R(5))
V("gradient coordinates", lambda m, a, x: m.gradient(a, x), R(6), np.cumsum(P(6)))
V("gradient coordinates edge order 2", lambda m, a, x: m.gradient(a, x, edge_order=2), R(6), np.cumsum(P(6)))
V("gradient 2-d coordinates", lambda m, a, x: m.gradient(a, x, 0.5), R(5, 3), np.cumsum(P(5)))
V("gradient 2-d coordinates axis 1", lambda m, a, x: m.gradient(a, x, axis=1, edge_order=2), R(2, 5),
  np.cumsum(P(5)))
V("gradient int coordinates", lambda m, a: m.gradient(a, np.array([0, 1, 3, 4, 8])), R(5))
V("gradient two points", lambda m, a: m.gradient(a), R(2))
V("gradient three points edge 2", lambda m, a: m.gradient(a, axis=0, edge_order=2), R(3, 2))
V("gradient float32", lambda m, a: m.gradient(a), R(3, 4, dtype=F32))
V("gradient float32 spacing", lambda m, a: m.gradient(a, 0.3, edge_order=2), R(5, dtype=F32))
V("gradient float32 numpy spacing", lambda m, a: m.gradient(a, np.float64(0.3)), R(5, dtype=F32))
V("gradient ints", lambda m, a: m.gradient(a), I(5))
V("gradient complex", lambda m, a: m.gradient(a, edge_order=2), C(4))

# index expressions
V("r_ arrays and scalars", lambda m, a, b: m.r_[a, 0.5, b], R(3), R(2))
V("r_ slices", lambda m, a: m.r_[a, 0:3, 5:1:-2, 0:1:5j], R(2))
V("r_ float32 weak scalar", lambda m, a: m.r_[a, 3.0], R(2, dtype=F32))
V("r_ float32 numpy scalar", lambda m, a: m.r_[a, np.float64(3.0)], R(2, dtype=F32))
V("r_ float32 0-d array", lambda m, a: m.r_[a, np.array(3.0)], R(2, dtype=F32))
V("r_ 0-d", lambda m, a, b: m.r_[a, b], R(), R())
V("r_ 2-d", lambda m, a, b: m.r_[a, b], R(2, 3), R(1, 3))
V("r_ directive axis", lambda m, a, b: m.r_["1", a, b], R(2, 3), R(2, 1))
V("r_ directive ndmin", lambda m, a, b: m.r_["0,2", a, b], R(3), R(3))
V("r_ directive trans1d", lambda m, a, b: m.r_["0,2,0", a, b], R(3), R(3))
V("r_ directive 3-d", lambda m, a, b: m.r_["-1,3,1", a, b], R(2), R(2, 3))
V("r_ empty", lambda m, a: m.r_[a, a], R(0))
V("r_ complex", lambda m, a: m.r_[a, 1j], C(2))
V("c_ columns", lambda m, a, b: m.c_[a, b], R(3), R(3))
V("c_ mixed", lambda m, a, b: m.c_[a, b, a], R(3), R(3, 2))
V("c_ row with scalars", lambda m, a: m.c_[a, 0.0, 1.0, a], R(1, 3))
V("c_ float32", lambda m, a, b: m.c_[a, b], R(2, dtype=F32), R(2, dtype=F32))

# gathers, reshapes
V("take flat", lambda m, a: m.take(a, [0, 5, 2, 5]), R(2, 3))
V("take axis", lambda m, a: m.take(a, [[2, 0], [1, 1]], axis=1), R(2, 3, 2))
V("take scalar index", lambda m, a: m.take(a, 1, axis=0), R(3, 2))
V("take negative", lambda m, a: m.take(a, [-1, -3], axis=-1), R(2, 3))
V("take wrap", lambda m, a: m.take(a, [4, -5, 7], mode="wrap"), R(3))
V("take clip", lambda m, a: m.take(a, [4, -5, 1], axis=0, mode="clip"), R(3, 2))
V("take empty", lambda m, a: m.take(a, np.array([], int), axis=1), R(2, 3))
V("take float32", lambda m, a: m.take(a, [1, 1]), R(3, dtype=F32))
V("take_along_axis sort", lambda m, a: m.take_along_axis(a, np.argsort(a, axis=1), axis=1), R(3, 4))
V("take_along_axis broadcast", lambda m, a: m.take_along_axis(a, np.array([[0], [2]]), axis=0), R(3, 4))
V("take_along_axis 1-d", lambda m, a: m.take_along_axis(a, np.array([2, 0, 0]), axis=0), R(3))
V("take_along_axis None", lambda m, a: m.take_along_axis(a, np.array([5, 0]), axis=None), R(2, 3))
V("take_along_axis 3-d", lambda m, a: m.take_along_axis(a, np.argmax(a, axis=1)[:, None], axis=1), R(2, 3, 4))
V("take_along_axis default axis", lambda m, a: m.take_along_axis(a, np.array([[1, 0]]), -1), R(2, 3))
V("ravel", lambda m, a: m.ravel(a), R(2, 3, 2))
V("ravel 0-d", lambda m, a: m.ravel(a), R())
V("reshape", lambda m, a: m.reshape(a, (3, -1)), R(2, 3, 2))
V("reshape to 0-d", lambda m, a: m.reshape(a, ()), R(1, 1))
V("reshape empty", lambda m, a: m.reshape(a, (-1, 2)), R(0, 4))
V("reshape float32", lambda m, a: m.reshape(a, 6), R(2, 3, dtype=F32))


@pytest.mark.parametrize("fn, args", VALUES)
def test_values_match_numpy(fn, args):
    w = _quiet()
    try:
        ref = fn(np, *args)
        assert_same_tree(fn(fnp, *args), ref, "eager")
        if any(_inexact(a) for a in args):
            for mode, out in zip(("vjp", "jvp"), traced_outputs(lambda *xs: fn(fnp, *xs), *args), strict=True):
                assert all(type(o) is np.ndarray for o in _leaves(out)), f"{mode} returned {type(out)}"
                assert_same_tree(out, ref, mode)
    finally:
        w.__exit__(None, None, None)


def test_partition_places_kth_and_splits_around_it():
    """NumPy leaves the order within each side unspecified; funcgrad returns the sorted array."""
    for a, kth, axis in [(R(9), 4, -1), (R(9), [0, 3, 8], -1), (R(4, 5), 2, 0), (R(4, 5), -1, 1),
                         (TIES(10), 5, -1), (R(3, 4), 7, None), (R(6, dtype=F32), 2, 0)]:
        ref = np.partition(a, kth, axis=axis)
        for ours in (fnp.partition(a, kth, axis=axis), *traced_outputs(lambda x: fnp.partition(x, kth, axis=axis), a)):
            assert ours.shape == ref.shape and ours.dtype == ref.dtype
            ax = -1 if axis is None else axis
            for k in np.atleast_1d(kth):
                np.testing.assert_array_equal(np.take(ours, k, axis=ax), np.take(ref, k, axis=ax))
                before = np.take(ours, np.arange(ours.shape[ax])[:k % ours.shape[ax]], axis=ax)
                after = np.take(ours, np.arange(ours.shape[ax])[k % ours.shape[ax]:], axis=ax)
                kv = np.expand_dims(np.take(ours, k, axis=ax), ax)
                assert np.all(before <= kv) and np.all(after >= kv)
            np.testing.assert_array_equal(np.sort(ours, axis=ax), np.sort(ref, axis=ax))


META = {
    "iscomplexobj": [(lambda m, a: m.iscomplexobj(a), R(3)), (lambda m, a: m.iscomplexobj(a), C(2)),
                     (lambda m, a: m.iscomplexobj(a * 1j), R(2)), (lambda m, a: m.iscomplexobj(a), R(2, dtype=F32))],
    "isrealobj": [(lambda m, a: m.isrealobj(a), R(3)), (lambda m, a: m.isrealobj(a), C(2, dtype=C64)),
                  (lambda m, a: m.isrealobj(m.real(a)), C(2))],
    "allclose": [(lambda m, a: m.allclose(a, a + 1e-10), R(3)), (lambda m, a: m.allclose(a, a + 0.1), R(3)),
                 (lambda m, a: m.allclose(a, a[:1] + 1e-3, atol=1.0), R(3)),
                 (lambda m, a: m.allclose(a, a, equal_nan=True), SPECIAL), (lambda m, a: m.allclose(a, a), SPECIAL)],
    "ndim": [(lambda m, a: m.ndim(a), R()), (lambda m, a: m.ndim(a), R(2, 0, 3)), (lambda m, a: m.ndim(a[None]), R(3))],
    "shape": [(lambda m, a: m.shape(a), R()), (lambda m, a: m.shape(a), R(2, 0, 3)),
              (lambda m, a: m.shape(m.ravel(a)), R(2, 3))],
}


@pytest.mark.parametrize("name", list(META))
def test_python_valued_functions_on_traced_values(name):
    """Functions returning Python bools or tuples give NumPy's answer, eagerly and on tracers."""
    for fn, a in META[name]:
        ref = fn(np, a)
        assert fn(fnp, a) == ref and type(fn(fnp, a)) is type(ref)
        seen = []

        def f(x, fn=fn):
            seen.append(fn(fnp, x))
            return fnp.sum(fnp.real(x))

        fg.vjp(f, a)
        fg.jvp(f, (a,), (np.ones_like(a),))
        assert seen == [ref, ref], (seen, ref)


# --- derivatives: check_grads to second order, forward and reverse ------------------------------------

GRADS: list = []


def G(case_id, f, *args, **kw):
    GRADS.append(pytest.param(f, args, kw, id=case_id))


def REM_X(*shape):  # x / y stays 0.3..0.45 away from an integer for y in REM_Y: no jumps of mod
    return _rng.integers(-3, 4, shape) + 0.45


def REM_Y(*shape):
    return _rng.choice([-1.0, 1.0], shape) * _rng.uniform(1.0, 1.05, shape)


for _name in ["add", "subtract", "multiply", "logaddexp2"]:
    G(f"{_name} broadcast", getattr(fnp, _name), R(3, 1), R(4))
    G(f"{_name} 0-d", getattr(fnp, _name), R(), R(2, 3))
    G(f"{_name} float32", getattr(fnp, _name), R(3, dtype=F32), R(3, dtype=F32))
    G(f"{_name} with python float", (lambda n: lambda a: getattr(fnp, n)(a, 0.75))(_name), R(4))
for _name in ["divide", "true_divide"]:
    G(f"{_name} broadcast", getattr(fnp, _name), R(3, 1), NZ(4))
    G(f"{_name} 0-d", getattr(fnp, _name), R(), NZ(2, 3))
G("power broadcast", fnp.power, P(3, 1), R(4))
G("power 0-d", fnp.power, P(), R(2, 3))
G("power python exponent", lambda a: fnp.power(a, 3), R(4))
G("negative", fnp.negative, R(2, 3))
for _name in ["mod", "remainder"]:
    G(f"{_name} broadcast", getattr(fnp, _name), REM_X(3, 1), REM_Y(4))
    G(f"{_name} python divisor", (lambda n: lambda a: getattr(fnp, n)(a, 0.25))(_name), R(4, lo=0.3, hi=0.45))
G("logaddexp2 large", fnp.logaddexp2, np.array([800.0, -900.0]), np.array([801.5, -899.0]))
for _name in ["absolute", "fabs"]:
    G(_name, getattr(fnp, _name), NZ(2, 3))
    G(f"{_name} 0-d", getattr(fnp, _name), NZ())
for _name in ["exp2", "deg2rad", "rad2deg", "degrees", "radians", "sinc"]:
    G(_name, getattr(fnp, _name), R(2, 3))
    G(f"{_name} 0-d", getattr(fnp, _name), R())
    G(f"{_name} float32", getattr(fnp, _name), R(4, dtype=F32))
G("sinc near zero", fnp.sinc, np.array([1e-3, -2e-3, 0.25]))
G("nan_to_num", fnp.nan_to_num, R(2, 3))
G("nan_to_num specials", lambda a: fnp.nan_to_num(a, nan=1.0, posinf=3.0), SPECIAL)
G("real_if_close of reals", fnp.real_if_close, R(3))
G("angle of reals", fnp.angle, NZ(4))
G("select", lambda a, b, d: fnp.select([a < -0.5, b > 0.5], [a * b, -b], default=d), R(3, 4), R(4), R(3, 1))
G("select python default", lambda a: fnp.select([a > 0], [a ** 2], default=0.5), NZ(5))
G("append", fnp.append, R(2, 3), R(3))
G("append axis", lambda a, b: fnp.append(a, b, axis=1), R(2, 3), R(2, 2))
G("array_split", lambda a: fnp.array_split(a, 3, axis=1), R(2, 5))
G("array_split indices", lambda a: fnp.array_split(a, [1, 4]), R(6))
for _k in (1, 2, 3):
    G(f"atleast_{_k}d", getattr(fnp, f"atleast_{_k}d"), R(3))
    G(f"atleast_{_k}d several", getattr(fnp, f"atleast_{_k}d"), R(), R(2, 3))
G("column_stack", lambda a, b: fnp.column_stack([a, b]), R(3), R(3, 2))
G("row_stack", lambda a, b: fnp.row_stack([a, b]), R(3), R(2, 3))
G("dstack", lambda a, b: fnp.dstack([a, b]), R(2, 3), R(2, 3, 2))
G("hsplit", lambda a: fnp.hsplit(a, 2), R(2, 4))
G("vsplit", lambda a: fnp.vsplit(a, [1]), R(3, 2))
G("dsplit", lambda a: fnp.dsplit(a, 2), R(1, 2, 4))
G("cross", fnp.cross, R(4, 3), R(3))
G("cross 2 and 3", lambda a, b: fnp.cross(a, b), R(2), R(3))
G("cross 2 and 2", lambda a, b: fnp.cross(a, b), R(3, 2), R(3, 2))
G("cross axes", lambda a, b: fnp.cross(a, b, axisa=0, axisb=1, axisc=0), R(3, 4), R(4, 3))
G("diff", fnp.diff, R(3, 5))
G("diff n=2 axis 0", lambda a: fnp.diff(a, 2, axis=0), R(4, 3))
G("diff prepend append", lambda a, p: fnp.diff(a, prepend=p, append=2.0), R(2, 4), R(2, 1))
G("diagonal", lambda a: fnp.diagonal(a, 1), R(3, 4))
G("diagonal axes", lambda a: fnp.diagonal(a, -1, 2, 1), R(2, 3, 4))
G("fliplr", fnp.fliplr, R(2, 3))
G("flipud", fnp.flipud, R(3, 2))
for _k in (1, 2, 3):
    G(f"rot90 k={_k}", (lambda k: lambda a: fnp.rot90(a, k, axes=(2, 0)))(_k), R(2, 3, 4))
G("roll", lambda a: fnp.roll(a, (1, -2), axis=(0, 1)), R(3, 4))
G("roll flat", lambda a: fnp.roll(a, 5), R(3, 4))
G("rollaxis", lambda a: fnp.rollaxis(a, 2, 1), R(2, 3, 4))
G("kron", fnp.kron, R(2, 3), R(3, 2))
G("kron ranks", fnp.kron, R(2), R(2, 3))
G("kron 0-d", fnp.kron, R(), R(2))
G("sort", fnp.sort, R(3, 5))
G("sort axis 0", lambda a: fnp.sort(a, axis=0), R(4, 3))
G("sort flat", lambda a: fnp.sort(a, axis=None), R(3, 2))
G("sort float32", fnp.sort, R(6, dtype=F32))
G("partition", lambda a: fnp.partition(a, 3), R(2, 6))
G("take", lambda a: fnp.take(a, [[0, 2], [2, 2]], axis=1), R(2, 3))
G("take flat", lambda a: fnp.take(a, [5, 0, 5]), R(2, 3))
G("take_along_axis", lambda a: fnp.take_along_axis(a, np.array([[0, 2, 2], [1, 0, 0]]), axis=1), R(2, 3))
G("take_along_axis broadcast", lambda a: fnp.take_along_axis(a, np.array([[1], [0]]), axis=0), R(2, 3))
G("ravel", fnp.ravel, R(2, 3))
G("reshape", lambda a: fnp.reshape(a, (3, -1)), R(2, 3))
G("nansum", lambda a: fnp.nansum(fnp.where(np.isnan(_NANS), np.nan, a), axis=1), R(3, 4))
G("nanmean", lambda a: fnp.nanmean(fnp.where(np.isnan(_NANS), np.nan, a), axis=0), R(3, 4))
G("nanmean all", lambda a: fnp.nanmean(fnp.where(np.isnan(SPECIAL), np.nan, a)), R(6))
G("nansum no nans keepdims", lambda a: fnp.nansum(a, axis=(0, 1), keepdims=True), R(2, 3, 2))
G("median odd", fnp.median, R(7))
G("median even", fnp.median, R(6))
G("median axis", lambda a: fnp.median(a, axis=1, keepdims=True), R(3, 4))
G("median axes", lambda a: fnp.median(a, axis=(0, 2)), R(2, 3, 3))
G("median float32", fnp.median, R(5, dtype=F32))
G("percentile", lambda a: fnp.percentile(a, [10.0, 37.0, 90.0]), R(8))
G("percentile axis", lambda a: fnp.percentile(a, 33.0, axis=0), R(5, 3))
G("percentile midpoint", lambda a: fnp.percentile(a, 30.0, method="midpoint"), R(6))
G("percentile lower", lambda a: fnp.percentile(a, 30.0, method="lower"), R(6))
G("percentile traced q", lambda a, q: fnp.percentile(a, q), R(6), np.array(43.0))
G("percentile traced q array", lambda a, q: fnp.percentile(a, q, axis=1), R(2, 7), np.array([12.0, 81.0]))
G("quantile", lambda a: fnp.quantile(a, 0.7, axis=-1), R(3, 5))
G("quantile traced q", lambda a, q: fnp.quantile(a, q), R(9), np.array(0.52))
G("gradient", fnp.gradient, R(6))
G("gradient 2-d", fnp.gradient, R(3, 4))
G("gradient edge order 2", lambda a: fnp.gradient(a, 0.5, edge_order=2), R(5))
G("gradient traced spacing", lambda a, h: fnp.gradient(a, h, edge_order=2), R(5), np.array(0.7))
G("gradient traced coordinates", lambda a, x: fnp.gradient(a, x), R(5), np.cumsum(P(5)))
G("gradient traced coordinates edge 2", lambda a, x: fnp.gradient(a, x, axis=0, edge_order=2), R(5, 2),
  np.cumsum(P(5)))
G("r_", lambda a, b: fnp.r_[a, 1.5, b, 0:2], R(3), R())
G("r_ directive", lambda a, b: fnp.r_["0,2,0", a, b], R(3), R(3))
G("c_", lambda a, b: fnp.c_[a, b], R(3), R(3, 2))
# complex inputs (JAX convention: jvp/vjp with complex tangents and cotangents)
for _name in ["add", "subtract", "multiply"]:
    G(f"{_name} complex", getattr(fnp, _name), C(3, 1), C(4))
    G(f"{_name} complex and real", getattr(fnp, _name), C(3), R(3))
G("divide complex", fnp.divide, C(3), C(3) + 3.0)
G("true_divide complex", fnp.true_divide, C(2, 2), C(2) + 3.0)
G("power complex", fnp.power, C(3) + 3.0, C(3))
G("power complex python exponent", lambda z: fnp.power(z, 2), C(3))
G("negative complex", fnp.negative, C(3))
G("absolute complex", fnp.absolute, C(2, 3))
G("exp2 complex", fnp.exp2, C(3))
G("sinc complex", fnp.sinc, C(3))
G("real", fnp.real, C(3))
G("imag", fnp.imag, C(3))
G("conj", fnp.conj, C(3))
G("conjugate", fnp.conjugate, C(3))
G("angle", fnp.angle, C(4) + 0.5)
G("angle deg", lambda z: fnp.angle(z, deg=True), C(4) + 0.5)
G("nan_to_num complex", fnp.nan_to_num, C(3))
G("real_if_close complex", fnp.real_if_close, C(3))
G("diff complex", fnp.diff, C(4))
G("kron complex", fnp.kron, C(2), C(2))
G("cross complex", fnp.cross, C(3), C(3))
G("roll complex", lambda z: fnp.roll(z, 1), C(4))
G("sort complex", fnp.sort, C(5))
G("take complex", lambda z: fnp.take(z, [1, 1, 0]), C(3))
G("nansum complex", lambda z: fnp.nansum(z, axis=0), C(3, 2))
G("nanmean complex", fnp.nanmean, C(4))
G("select complex", lambda z: fnp.select([np.array([True, False, True])], [z * 2j], default=z), C(3))
G("append complex", fnp.append, C(2), R(2))
G("gradient complex", fnp.gradient, C(5))
G("r_ complex", lambda z, x: fnp.r_[z, x], C(2), R(2))
G("median complex", fnp.median, C(5))


@pytest.mark.parametrize("f, args, kw", GRADS)
def test_derivatives_match_finite_differences(f, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check_grads(f, args, order=2, modes=("fwd", "rev"), **kw)


@pytest.mark.parametrize("f, args, kw", [p for p in GRADS if any(np.asarray(a).dtype == F32 for a in p.values[1])])
def test_float32_derivatives_stay_float32(f, args, kw):
    out, pullback = fg.vjp(f, *args)
    cts = pullback(tuple(np.ones_like(o) for o in out) if isinstance(out, (list, tuple)) else np.ones_like(out))
    for a, c in zip(args, cts, strict=True):
        assert c.dtype == np.asarray(a).dtype and c.shape == np.shape(a)
    _, t_out = fg.jvp(f, args, tuple(np.ones_like(a) for a in args))
    for o, t in zip(_leaves(out), _leaves(t_out), strict=True):
        assert t.dtype == o.dtype == F32


def test_derivative_of_r_and_c_matches_closed_form():
    a, b = R(3), R(2)
    g = fg.grad(lambda a, b: fnp.sum(fnp.r_[a, 2.0, b, a] * fnp.r_[1:10]), argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(g[0], np.arange(1.0, 4.0) + np.arange(7.0, 10.0))
    np.testing.assert_array_equal(g[1], np.arange(5.0, 7.0))
    w = R(3, 2)
    gc = fg.grad(lambda a: fnp.sum(fnp.c_[a, a * 2.0] * w))(a)
    np.testing.assert_allclose(gc, w[:, 0] + 2.0 * w[:, 1], rtol=1e-15)


# --- conventions at ties and kinks (closed forms) ---------------------------------------------------------


def _grad_and_jvp_rows(f, x):
    """The Jacobian of ``f`` at ``x`` row by row from grad (reverse) and column by column from jvp (forward)."""
    out = np.asarray(f(x))
    rows = np.stack([fg.grad(lambda v, i=i: fnp.reshape(f(v), (-1,))[i])(x) for i in range(out.size)])
    cols = np.stack([np.reshape(fg.jvp(f, (x,), (np.eye(x.size)[j].reshape(x.shape),))[1], (-1,))
                     for j in range(x.size)], axis=1)
    np.testing.assert_array_equal(rows.reshape(cols.shape), cols)
    return rows


def test_sort_ties_go_to_the_stable_order():
    x = np.array([2.0, 1.0, 1.0, 3.0, 1.0])
    jac = _grad_and_jvp_rows(fnp.sort, x)
    perm = np.argsort(x, kind="stable")  # [1, 2, 4, 0, 3]
    np.testing.assert_array_equal(jac, np.eye(5)[perm])
    np.testing.assert_array_equal(_grad_and_jvp_rows(lambda v: fnp.partition(v, 2), x), np.eye(5)[perm])


def test_sort_ties_along_an_axis():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    g = fg.grad(lambda v: fnp.sort(v, axis=0)[1, 0] + 10.0 * fnp.sort(v, axis=0)[0, 1])(x)
    np.testing.assert_array_equal(g, [[1.0, 10.0], [0.0, 0.0], [0.0, 0.0]])


def test_median_ties():
    np.testing.assert_array_equal(fg.grad(fnp.median)(np.array([1.0, 1.0, 1.0])), [0.0, 1.0, 0.0])
    # sorted stably: positions 1 and 2 hold elements 2 and 3
    np.testing.assert_array_equal(fg.grad(fnp.median)(np.array([3.0, 1.0, 1.0, 2.0])), [0.0, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(fg.grad(fnp.median)(np.array([2.0, 2.0, 2.0, 2.0])), [0.0, 0.5, 0.5, 0.0])
    _, t = fg.jvp(fnp.median, (np.array([3.0, 1.0, 1.0, 2.0]),), (np.array([1.0, 10.0, 100.0, 1000.0]),))
    assert t == 550.0


def test_median_without_ties_selects_the_middle_elements():
    x = np.array([5.0, -1.0, 3.0, 0.5, 9.0])
    np.testing.assert_array_equal(fg.grad(fnp.median)(x), [0.0, 0.0, 1.0, 0.0, 0.0])
    x = np.array([[5.0, -1.0, 3.0, 0.5], [1.0, 2.0, 3.0, 4.0]])
    g = fg.grad(lambda v: fnp.sum(fnp.median(v, axis=1) * np.array([1.0, 10.0])))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.5, 0.5], [0.0, 5.0, 5.0, 0.0]])


def test_percentile_weights_and_q_derivative():
    x = np.array([4.0, 0.0, 3.0, 1.0, 2.0])  # sorted: x[1] x[3] x[4] x[2] x[0]
    # 30%: position 1.2 of the sorted values, 0.8 * x[3] + 0.2 * x[4]
    np.testing.assert_allclose(fg.grad(lambda v: fnp.percentile(v, 30.0))(x), [0.0, 0.0, 0.0, 0.8, 0.2], rtol=1e-14)
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.percentile(v, 50.0))(x), [0.0, 0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.percentile(v, 100.0))(x), [1.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(fg.jvp(lambda v: fnp.percentile(v, 30.0), (x,), (np.arange(5.0),))[1], 0.8 * 3 + 0.2 * 4)
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.percentile(v, 0.0))(x), [0.0, 1.0, 0.0, 0.0, 0.0])
    # d/dq: the slope between the two neighbours, (x_hi - x_lo) * (n - 1) / 100
    y = np.array([0.0, 1.0, 4.0, 9.0, 16.0])
    np.testing.assert_allclose(fg.grad(lambda q: fnp.percentile(y, q))(np.array(60.0)), (9.0 - 4.0) * 4 / 100)
    np.testing.assert_allclose(fg.grad(lambda q: fnp.quantile(y, q))(np.array(0.1)), (1.0 - 0.0) * 4)
    # ties: the stable order decides which of the equal elements is selected
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.percentile(v, 50.0))(np.array([1.0, 0.0, 1.0, 1.0, 2.0])),
                                  [0.0, 0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.percentile(v, 40.0, method="nearest"))(y), [0, 0, 1, 0, 0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow of the replaced values times weights
def test_nan_handling_derivatives():
    g = fg.grad(lambda v: fnp.sum(fnp.nan_to_num(v) * np.arange(1.0, 7.0)))(SPECIAL)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 5.0, 6.0])
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(fg.grad(fnp.nansum)(x), [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = fg.grad(lambda v: fnp.nansum(fnp.nanmean(v, axis=1)))(x)  # the all-NaN row: NaN mean, zero derivative
    np.testing.assert_array_equal(g, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    assert np.isnan(fnp.median(np.array([1.0, np.nan, 0.0])))
    assert np.isnan(fg.vjp(fnp.median, np.array([1.0, np.nan, 0.0]))[0])


def test_sinc_derivatives_at_zero_are_exact():
    zero = np.array(0.0)
    d = [fnp.sinc]
    for _ in range(4):
        d.append(fg.grad(d[-1]))
    pi = math.pi
    assert [float(f(zero)) for f in d] == pytest.approx([1.0, 0.0, -pi ** 2 / 3, 0.0, pi ** 4 / 5], abs=1e-12)
    _, t = fg.jvp(fnp.sinc, (np.array([0.0, 0.5]),), (np.array([1.0, 1.0]),))
    np.testing.assert_allclose(t, [0.0, (pi * 0.5 * np.cos(pi * 0.5) - np.sin(pi * 0.5)) / (pi * 0.5 ** 2)],
                               atol=1e-15)


def test_kinks_and_ties_of_elementwise_functions():
    for f in (fnp.fabs, fnp.absolute):
        np.testing.assert_array_equal(fg.grad(lambda v, f=f: fnp.sum(f(v)))(np.array([-2.0, 0.0, 3.0])), [-1, 0, 1])
    g = fg.grad(lambda a, b: fnp.logaddexp2(a, b), argnums=(0, 1))(np.array(1.5), np.array(1.5))
    assert g == (0.5, 0.5)
    x = np.array([-2.0, 0.5, 2.0])
    g = fg.grad(lambda v: fnp.sum(fnp.select([v < 1.0, v < 0.0], [v * 3.0, v * 5.0], default=v * 7.0)))(x)
    np.testing.assert_array_equal(g, [3.0, 3.0, 7.0])  # the first true condition wins, as in NumPy


# --- plain NumPy calls on traced values -----------------------------------------------------------------------

DISPATCH = [
    ("absolute", lambda a: np.absolute(a), NZ(3)), ("add", lambda a: np.add(a, 2.0), R(3)),
    ("subtract", lambda a: np.subtract(1.0, a), R(3)), ("multiply", lambda a: np.multiply(a, a), R(3)),
    ("divide", lambda a: np.divide(a, 3.0), R(3)), ("true_divide", lambda a: np.true_divide(2.0, a), NZ(3)),
    ("negative", lambda a: np.negative(a), R(3)), ("power", lambda a: np.power(a, 2.5), P(3)),
    ("mod", lambda a: np.mod(a, 0.25), R(3, lo=0.3, hi=0.45)),
    ("remainder", lambda a: np.remainder(5.1, a), np.array([1.4, 1.9, 2.2])),
    ("fabs", lambda a: np.fabs(a), NZ(3)), ("exp2", lambda a: np.exp2(a), R(3)),
    ("deg2rad", lambda a: np.deg2rad(a), R(3)), ("rad2deg", lambda a: np.rad2deg(a), R(3)),
    ("degrees", lambda a: np.degrees(a), R(3)), ("radians", lambda a: np.radians(a), R(3)),
    ("sinc", lambda a: np.sinc(a), R(3)), ("logaddexp2", lambda a: np.logaddexp2(a, a[::-1]), R(3)),
    ("nan_to_num", lambda a: np.nan_to_num(a, nan=2.0), R(3)),
    ("real", lambda z: np.real(z), C(3)), ("imag", lambda z: np.imag(z), C(3)), ("conj", lambda z: np.conj(z), C(3)),
    ("conjugate", lambda z: np.conjugate(z), C(3)), ("angle", lambda z: np.angle(z), C(3)),
    ("real_if_close", lambda a: np.real_if_close(a), R(3)),
    ("append", lambda a: np.append(a, a[:1], axis=0), R(2, 3)),
    ("array_split", lambda a: np.array_split(a, 3), R(5)),
    ("atleast_1d", lambda a: np.atleast_1d(a[0]), R(3)), ("atleast_2d", lambda a: np.atleast_2d(a), R(3)),
    ("atleast_3d", lambda a: np.atleast_3d(a), R(3)),
    ("column_stack", lambda a: np.column_stack([a, a]), R(3)), ("row_stack", lambda a: np.row_stack([a, a]), R(3)),
    ("dstack", lambda a: np.dstack([a, a]), R(3)),
    ("dsplit", lambda a: np.dsplit(a, 2), R(1, 2, 2)), ("hsplit", lambda a: np.hsplit(a, 2), R(2, 2)),
    ("vsplit", lambda a: np.vsplit(a, 2), R(2, 2)), ("cross", lambda a: np.cross(a, a[::-1] ** 2), R(3)),
    ("diff", lambda a: np.diff(a, prepend=1.0), R(4)), ("diagonal", lambda a: np.diagonal(a), R(3, 3)),
    ("fliplr", lambda a: np.fliplr(a), R(2, 2)), ("flipud", lambda a: np.flipud(a), R(2, 2)),
    ("rot90", lambda a: np.rot90(a, 3), R(2, 3)), ("roll", lambda a: np.roll(a, 2), R(5)),
    ("rollaxis", lambda a: np.rollaxis(a, 1), R(2, 3)), ("kron", lambda a: np.kron(a, a), R(2)),
    ("select", lambda a: np.select([a > 0], [a * 2.0], default=a), R(4)),
    ("sort", lambda a: np.sort(a), R(5)), ("partition", lambda a: np.partition(a, 2), R(5)),
    ("nanmean", lambda a: np.nanmean(a, axis=0), R(3, 2)), ("nansum", lambda a: np.nansum(a), R(3)),
    ("gradient", lambda a: np.gradient(a, 0.5), R(4)), ("gradient 2-d", lambda a: np.gradient(a), R(3, 3)),
    ("median", lambda a: np.median(a), R(4)), ("percentile", lambda a: np.percentile(a, [20, 70]), R(5)),
    ("quantile", lambda a: np.quantile(a, 0.4, axis=1), R(2, 5)),
    ("ravel", lambda a: np.ravel(a), R(2, 2)), ("reshape", lambda a: np.reshape(a, (2, 2)), R(4)),
    ("take", lambda a: np.take(a, [2, 0]), R(3)),
    ("take_along_axis", lambda a: np.take_along_axis(a, np.argsort(a, axis=1), axis=1), R(2, 3)),
    ("sort via argsort", lambda a: a[np.argsort(a)], R(4)),
    ("all", lambda a: a * np.all(a > -5.0), R(3)), ("allclose", lambda a: a * np.allclose(a, a), R(3)),
    ("iscomplexobj", lambda a: a * (not np.iscomplexobj(a)), R(3)), ("isrealobj", lambda a: a * np.isrealobj(a), R(3)),
    ("iscomplex", lambda a: a * np.iscomplex(a), R(3) + 1j),
    ("isclose", lambda a: a * np.isclose(a, 0.5, atol=0.1), R(3)),
    ("ndim", lambda a: a * np.ndim(a), R(3)), ("shape", lambda a: a * np.shape(a)[0], R(3)),
]


@pytest.mark.parametrize("name, f, x", DISPATCH, ids=[d[0] for d in DISPATCH])
def test_plain_numpy_dispatches_under_vjp_jvp_and_grad(name, f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = f(x)
        out = fg.vjp(f, x)[0]
        assert_same_tree(out, ref, "vjp")
        assert_same_tree(fg.jvp(f, (x,), (np.ones_like(x),))[0], ref, "jvp")
        if not (isinstance(ref, np.ndarray) and ref.dtype.kind in "fc" or isinstance(ref, list)):
            return
        check_grads(f, (x,), order=1)


def test_plain_numpy_grad_equals_funcgrad_numpy_grad():
    x = R(6)

    def loss(m):
        return lambda v: m.sum(m.sort(v)[1:] * m.diff(v) + m.roll(v, 2)[:5] ** 2) + m.median(v) \
            + m.percentile(v, 40.0) + m.nansum(m.gradient(v)) + m.sum(m.kron(v[:2], v[2:4]))

    np.testing.assert_allclose(fg.grad(loss(np))(x), fg.grad(loss(fnp))(x), rtol=1e-14)
    np.testing.assert_allclose(loss(np)(x), loss(fnp)(x), rtol=1e-14)


# --- jit and vmap --------------------------------------------------------------------------------------------

STAGED = [
    ("sort", lambda a: fnp.sort(a, axis=0), R(4, 3)), ("argsort", lambda a: a[fnp.argsort(a)], R(5)),
    ("median", lambda a: fnp.median(a, axis=1), R(3, 4)),
    ("percentile", lambda a: fnp.percentile(a, [25.0, 80.0], axis=0), R(5, 2)),
    ("partition", lambda a: fnp.partition(a, 1), R(4)), ("roll", lambda a: fnp.roll(a, (1, 2), axis=(0, 1)), R(3, 4)),
    ("rot90", lambda a: fnp.rot90(a), R(2, 3)), ("gradient", lambda a: fnp.gradient(a, edge_order=2, axis=1), R(3, 4)),
    ("diff", lambda a: fnp.diff(a, 2, prepend=0.0), R(5)), ("kron", lambda a: fnp.kron(a, a), R(2, 2)),
    ("cross", lambda a: fnp.cross(a, a ** 2), R(2, 3)), ("r_", lambda a: fnp.r_[a, 0.5, a[:1]], R(3)),
    ("c_", lambda a: fnp.c_[a, a * 2.0], R(3)),
    ("nanmean", lambda a: fnp.nanmean(fnp.where(a > 1.5, np.nan, a), axis=0), R(4, 3)),
    ("nan_to_num", lambda a: fnp.nan_to_num(fnp.log(a)), R(4)),
    ("select", lambda a: fnp.select([a < 0, a < 1], [a ** 2, a], default=-a), R(5)),
    ("take_along_axis", lambda a: fnp.take_along_axis(a, fnp.argsort(a, axis=0), axis=0), R(3, 2)),
    ("sinc exp2 logaddexp2", lambda a: fnp.sinc(a) + fnp.exp2(a) + fnp.logaddexp2(a, 0.5) + fnp.fabs(a), R(4)),
]


@pytest.mark.parametrize("name, f, x", STAGED, ids=[s[0] for s in STAGED])
def test_under_jit_and_vmap(name, f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = f(x)
        assert_same(fg.jit(f)(x), ref, "jit")
        loss = lambda v: fnp.sum(fnp.sin(f(v)))  # noqa: E731
        np.testing.assert_allclose(fg.jit(fg.grad(loss))(x), fg.grad(loss)(x), rtol=1e-13, atol=1e-14)
        xs = np.stack([x, x * 0.5 + 0.1, -x])
        want = np.stack([f(v) for v in xs])
        np.testing.assert_allclose(fg.vmap(f)(xs), want, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(fg.vmap(fg.grad(loss))(xs), np.stack([fg.grad(loss)(v) for v in xs]),
                                   rtol=1e-12, atol=1e-13)


def test_percentile_needs_a_concrete_q_under_jit():
    with pytest.raises(fg.ConcretizationError):
        fg.jit(lambda a, q: fnp.percentile(a, q))(R(4), np.array(30.0))
    assert fg.jit(lambda a, q: fnp.percentile(a, q), static_argnums=1)(np.arange(5.0), 25.0) == 1.0


# --- errors: NumPy's exceptions for NumPy's invalid arguments ---------------------------------------------

_X = np.arange(6.0).reshape(2, 3)
ERRORS = {
    "diff negative order": lambda m: m.diff(_X, -1),
    "diff 0-d": lambda m: m.diff(np.array(1.0)),
    "rot90 three axes": lambda m: m.rot90(_X, 1, (0, 1, 2)),
    "rot90 same axes": lambda m: m.rot90(_X, 1, (1, 1)),
    "rot90 axes out of range": lambda m: m.rot90(_X, 1, (0, 5)),
    "fliplr 1-d": lambda m: m.fliplr(np.ones(3)),
    "flipud 0-d": lambda m: m.flipud(np.array(1.0)),
    "hsplit 0-d": lambda m: m.hsplit(np.array(1.0), 1),
    "vsplit 1-d": lambda m: m.vsplit(np.ones(4), 2),
    "dsplit 2-d": lambda m: m.dsplit(_X, 2),
    "split unequal": lambda m: m.hsplit(_X, 2),
    "array_split zero sections": lambda m: m.array_split(_X, 0),
    "percentile q above 100": lambda m: m.percentile(_X, 101),
    "percentile negative q": lambda m: m.percentile(_X, [-1, 50]),
    "quantile q above 1": lambda m: m.quantile(_X, 1.5),
    "percentile complex": lambda m: m.percentile(np.ones(3) * 1j, 50),
    "percentile empty": lambda m: m.percentile(np.ones(0), 50),
    "select lengths": lambda m: m.select([_X > 0], [_X, _X]),
    "select empty": lambda m: m.select([], []),
    "select non-boolean condition": lambda m: m.select([_X], [_X]),
    "take_along_axis ndim": lambda m: m.take_along_axis(_X, np.array([0]), axis=1),
    "take out of bounds": lambda m: m.take(_X, [7]),
    "cross dimension 4": lambda m: m.cross(np.ones(4), np.ones(4)),
    "roll 2-d shift": lambda m: m.roll(_X, np.ones((2, 2), int), axis=0),
    "gradient too small": lambda m: m.gradient(np.ones(2), edge_order=2),
    "gradient edge order 3": lambda m: m.gradient(np.ones(5), edge_order=3),
    "gradient spacings count": lambda m: m.gradient(_X, 1.0, 2.0, 3.0),
    "gradient 2-d spacing": lambda m: m.gradient(np.ones(3), np.ones((3, 1))),
    "gradient coordinates length": lambda m: m.gradient(np.ones(3), np.arange(4.0)),
    "partition kth out of bounds": lambda m: m.partition(np.ones(3), 3),
    "sort axis": lambda m: m.sort(_X, axis=2),
    "argsort axis": lambda m: m.argsort(_X, axis=-3),
    "median axis": lambda m: m.median(_X, axis=2),
    "rollaxis start": lambda m: m.rollaxis(_X, 0, 4),
    "rollaxis axis": lambda m: m.rollaxis(_X, 3),
    "fabs complex": lambda m: m.fabs(np.ones(2) * 1j),
    "deg2rad complex": lambda m: m.deg2rad(np.ones(2) * 1j),
    "logaddexp2 complex": lambda m: m.logaddexp2(np.ones(2) * 1j, 1.0),
    "mod complex": lambda m: m.mod(np.ones(2) * 1j, 1.0),
    "r_ directive not first": lambda m: m.r_[np.ones(2), "0,2"],
    "r_ unknown directive": lambda m: m.r_["x", np.ones(2)],
    "take axis": lambda m: m.take(_X, [0], axis=3),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_numpy_errors(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(Exception) as ref:
            ERRORS[name](np)
        kind = type(ref.value)  # NumPy's UFuncTypeError is funcgrad's TypeError
        with pytest.raises(TypeError if issubclass(kind, TypeError) else kind):
            ERRORS[name](fnp)


def test_unsupported_arguments_raise_clearly():
    with pytest.raises(NotImplementedError, match="method"):
        fnp.percentile(np.ones(3), 50, method="weibull")
    with pytest.raises(NotImplementedError, match="weights"):
        fnp.percentile(np.ones(3), 50, weights=np.ones(3))
    with pytest.raises(NotImplementedError, match="order"):
        fnp.sort(np.ones(3), order="x")
    with pytest.raises(NotImplementedError, match="matrix"):
        fnp.r_["r", np.ones(2)]
    with pytest.raises(TypeError, match="out="):
        fnp.median(np.ones(3), out=np.zeros(()))
    with pytest.raises(TypeError, match="integers"):
        fnp.take(np.ones(3), np.array([0.5]))
    with pytest.warns(DeprecationWarning):
        fnp.row_stack([np.ones(2)])
    with pytest.warns(DeprecationWarning):
        fnp.cross(np.ones(2), np.ones(2))
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        fnp.nanmean(np.array([np.nan]))


def test_plain_r_cannot_see_traced_values_and_says_so():
    """np.r_/np.c_ are objects, not functions: NumPy converts their items with np.array, which
    raises funcgrad's conversion error; funcgrad.numpy.r_ is the differentiable equivalent."""
    with pytest.raises(fg.TracerConversionError):
        fg.grad(lambda a: np.sum(np.r_[a, 1.0]))(R(2))
    np.testing.assert_array_equal(fg.grad(lambda a: fnp.sum(fnp.r_[a, 1.0]))(R(2)), [1.0, 1.0])


def test_tracer_methods_take_argsort_and_in_place_sort():
    x = np.array([3.0, 1.0, 2.0])
    f = lambda v: fnp.sum(v.take([0, 0, 1]) * v[v.argsort()])  # noqa: E731  2 x0 x1 + x0 x2
    np.testing.assert_array_equal(fg.grad(f)(x), [2 * 1.0 + 2.0, 2 * 3.0, 3.0])
    assert fg.vjp(lambda v: v.argsort(kind="stable") * 1.0, x)[0].tolist() == [1.0, 2.0, 0.0]
    with pytest.raises(fg.TracerAssignmentError, match="fnp.sort|funcgrad.numpy.sort"):
        fg.grad(lambda v: v.sort())(x)
