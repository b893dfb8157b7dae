"""Generated code never contains text the user did not write as code.

``jit`` compiles Python source. Values a user passes (constants, static arguments, parameters of
operations) and names a user chooses (function names) end up in that source, so each test here
tries a hostile or unusual value and checks three things: no user text ran as code, the jitted
result equals the eager one (computed by NumPy through funcgrad's eager path, not by jit), and
the generated source is valid Python whose names are all chosen by funcgrad.
"""

from __future__ import annotations

import builtins
import enum
import keyword
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import Primitive
from funcgrad.ir.codegen import function_name, literal_source

MARK = "FUNCGRAD_INJECTED"
PAYLOAD = f"(__import__('builtins').__dict__.__setitem__('{MARK}', 1) or 2)"


@pytest.fixture(autouse=True)
def _never_injected() -> Any:
    builtins.__dict__.pop(MARK, None)
    yield
    assert MARK not in builtins.__dict__, "user text was executed as code"


def _hostile(base: type) -> type:
    """A subclass of ``base`` whose every text conversion is code that marks its execution."""

    class Hostile(base):  # type: ignore[misc, valid-type]
        def __repr__(self) -> str:
            return PAYLOAD

        __str__ = __repr__

        def __format__(self, spec: str) -> str:
            return PAYLOAD

    Hostile.__name__ = Hostile.__qualname__ = f"Hostile{base.__name__}"
    return Hostile


HFloat, HInt, HComplex, HStr = _hostile(float), _hostile(int), _hostile(complex), _hostile(str)


def _same(a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    if a.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def _source(f: Callable[..., Any], *args: Any, **kw: Any) -> str:
    return fg.jit(f, **kw).lower(*args).source


# --- constants --------------------------------------------------------------------------------


@pytest.mark.parametrize("const", [HFloat(3.0), HInt(3), HComplex(3 + 1j)], ids=["float", "int", "complex"])
def test_number_subclass_constant_is_bound_not_written(const: Any) -> None:
    def f(x: Any) -> Any:
        return x * const + const

    x = np.array([1.0, 2.0])
    _same(fg.jit(f)(x), f(x))
    assert "__import__" not in _source(f, x)


def test_float_subclass_whose_repr_rounds_computes_its_true_value() -> None:
    class Rounded(float):
        def __repr__(self) -> str:
            return "1.0"

    def f(x: Any) -> Any:
        return x * Rounded(0.99)

    np.testing.assert_array_equal(fg.jit(f)(np.ones(2)), [0.99, 0.99])


def test_two_subclass_constants_with_equal_repr_are_not_merged() -> None:
    class Same(float):
        def __repr__(self) -> str:
            return "0.5"

    def f(x: Any) -> Any:
        return x * Same(2.0) + x * Same(3.0)

    np.testing.assert_array_equal(fg.jit(f)(np.ones(2)), [5.0, 5.0])


class Mode(enum.IntEnum):
    D = 2


class Flag(enum.IntFlag):
    A = 1
    B = 4


@pytest.mark.parametrize("const", [Mode.D, Flag.A | Flag.B, True, np.float32(1.5), np.int8(3), np.bool_(True),
                                   np.complex64(1 - 2j), Fraction(1, 3), 2 ** 70, -(2 ** 63)],
                         ids=repr)
def test_unusual_constants_match_eager(const: Any) -> None:
    def f(x: Any) -> Any:
        return x * const

    x = np.array([1.0, -2.0])
    _same(fg.jit(f)(x), f(x))


def test_decimal_constant_fails_as_in_eager() -> None:
    def f(x: Any) -> Any:
        return x * Decimal("0.1")

    with pytest.raises(TypeError, match="Decimal"):
        f(np.ones(2))
    with pytest.raises(TypeError, match="Decimal"):
        fg.jit(f)(np.ones(2))


@pytest.mark.parametrize("const", [math.inf, -math.inf, math.nan, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 0.1,
                                   1 / 3, complex(1, -0.0), complex(math.nan, math.inf), -1j, False],
                         ids=repr)
def test_special_float_and_complex_literals_are_exact(const: Any) -> None:
    def f(x: Any) -> Any:
        return x * const + const

    x = np.array([1.0, -0.0, 3.0])
    with np.errstate(all="ignore"):
        _same(fg.jit(f)(x), f(x))


def test_negative_zero_literal_keeps_its_sign_and_is_not_merged_with_zero() -> None:
    out = fg.jit(lambda x: (x * -0.0, x * 0.0))(np.array([1.0]))
    assert np.signbit(out[0][0]) and not np.signbit(out[1][0])


# --- static arguments and operation parameters --------------------------------------------------


STATIC_USES: dict[str, Callable[[Any, Any], Any]] = {
    "multiply": lambda x, n: x * n,
    "reshape": lambda x, n: fnp.reshape(x, (n, -1)),
    "method reshape": lambda x, n: x.reshape(n, -1),
    "sum axis": lambda x, n: fnp.sum(fnp.reshape(x, (2, 2)), axis=n - 1),
    "index": lambda x, n: x[n],
    "slice": lambda x, n: x[n - 2:n],
    "step slice": lambda x, n: x[::n],
    "transpose": lambda x, n: fnp.transpose(fnp.reshape(x, (2, 2)), (n - 1, n - 2)),
    "ones": lambda x, n: fnp.ones((n,)) * x[0],
    "power": lambda x, n: x ** n,
}


@pytest.mark.parametrize("use", list(STATIC_USES), ids=str)
@pytest.mark.parametrize("static", [HInt(2), Mode.D, np.int64(2), True + 1], ids=["hostile int", "IntEnum", "np.int64",
                                                                                  "int"])
def test_static_argument_is_never_written_as_code(use: str, static: Any) -> None:
    f = STATIC_USES[use]
    x = np.arange(4.0) + 1.0
    jf = fg.jit(f, static_argnums=1)
    _same(jf(x, static), f(x, static))
    assert "__import__" not in jf.lower(x, static).source


def test_static_dtype_object_and_hostile_str() -> None:
    def f(x: Any, dtype: Any) -> Any:
        return fnp.asarray(x).astype(dtype) * 2

    x = np.arange(3.0)
    for dtype in (np.dtype(np.float32), np.int16, "float32"):
        _same(fg.jit(f, static_argnums=1)(x, dtype), f(x, dtype))

    def g(x: Any, label: Any) -> Any:  # a hostile str only steers Python control flow
        return x * 2.0 if label == "double" else x

    _same(fg.jit(g, static_argnums=1)(x, HStr("double")), x * 2.0)


def test_hostile_static_enum_in_control_flow() -> None:
    class Op(enum.Enum):
        SIN = "sin"
        COS = "cos"

        def __repr__(self) -> str:
            return PAYLOAD

    def f(x: Any, op: Op) -> Any:
        return fnp.sin(x) if op is Op.SIN else fnp.cos(x)

    x = np.linspace(0, 1, 3)
    _same(fg.jit(f, static_argnums=1)(x, Op.COS), np.cos(x))


# --- literal_source and function_name directly ------------------------------------------------


EXACT = [0, -1, 2 ** 100, True, False, None, 0.1, -0.0, 1e300, 5e-324, (), (1,), (1, (2, None), -3.5)]


@pytest.mark.parametrize("value", EXACT, ids=repr)
def test_literal_source_round_trips_exact_values(value: Any) -> None:
    scope: dict = {}
    src = literal_source(value, lambda v: pytest.fail(f"{v!r} should be written as text"))
    back = eval(src, scope)  # noqa: S307 - checking that the text is what it claims
    assert type(back) is type(value) and repr(back) == repr(value)


@pytest.mark.parametrize("value", [HFloat(1.0), HInt(1), HComplex(1j), 1j, math.nan, math.inf, Mode.D,
                                   np.float64(1.0), np.dtype("f4"), "text", HStr("x"), [1, 2], (1, HInt(2)),
                                   Fraction(1, 2), Decimal(1)],
                         ids=lambda v: type(v).__name__)
def test_literal_source_binds_everything_else_by_reference(value: Any) -> None:
    scope: dict = {}

    def bind(v: Any) -> str:
        name = f"_k{len(scope)}"
        scope[name] = v
        return name

    src = literal_source(value, bind)
    assert "__import__" not in src and "'" not in src and '"' not in src
    back = eval(src, scope)  # noqa: S307
    if isinstance(value, tuple):
        assert back[1] is value[1]
    else:
        assert back is value


NAMES = ["class", "None", "True", "lambda", "if", "match", "_", "x²", "ﬁ", "ｆｏｏ", "λ", "_fresh3", "_k1", "_k0",
         "_multiply_0", "_array1", "__builtins__", "__init__", "__name__", "a0", "v0", "", "123", "with space",
         "f(): pass\nimport os\ndef g", PAYLOAD, "x" * 100_000]


@pytest.mark.parametrize("name", NAMES, ids=lambda n: repr(n[:20]))
def test_function_name_is_a_valid_free_identifier(name: str) -> None:
    taken = {"_fresh3", "_k1", "_k0", "_multiply_0", "_array1"}
    ident = function_name(name, taken)
    assert ident.isidentifier() and ident.isascii() and not keyword.iskeyword(ident)
    assert ident not in taken and not ident.startswith("__") and ident not in ("None", "True", "False")
    assert len(ident) <= 100
    compile(f"def {ident}():\n    pass\n", "<test>", "exec")


def _named(name: Any, body: Callable[..., Any]) -> Callable[..., Any]:
    def f(x: Any) -> Any:
        return body(x)

    f.__name__ = name
    return f


@pytest.mark.parametrize("name", NAMES, ids=lambda n: repr(n[:20]))
def test_jit_with_any_function_name(name: str) -> None:
    # Uses constants, a 0-d output and a closed-over array, so the module has many globals.
    w = np.array([0.5, -1.5])
    f = _named(name, lambda x: (x * 2.0 + w, fnp.sum(x) * 3.0, w))
    x = np.array([1.0, 2.0])
    out = fg.jit(f)(x)
    _same(out[0], x * 2.0 + w)
    _same(out[1], np.sum(x) * 3.0)
    _same(out[2], w)
    source = fg.jit(f).lower(x).source
    lines = source.splitlines()
    assert lines[0].startswith("def ") and all(line.startswith("    ") for line in lines[1:])
    assert lines[0][4:lines[0].index("(")].isidentifier()
    g = fg.grad(lambda x: fnp.sum(fg.jit(f)(x)[0] ** 2) + fg.jit(f)(x)[1])
    np.testing.assert_allclose(fg.jit(g)(x), 4 * (x * 2.0 + w) + 3.0)
    np.testing.assert_allclose(g(x), 4 * (x * 2.0 + w) + 3.0)


def test_jit_of_callables_with_odd_names() -> None:
    class NoName:
        def __call__(self, x: Any) -> Any:
            return x + 1.0

    class OddName(NoName):
        __name__ = 123  # not a string at all

    class StrName(NoName):
        pass

    StrName.__name__ = HStr("ok")  # a str subclass whose str()/format() is code
    x = np.array([1.0])
    for obj in (NoName(), OddName(), StrName()):
        _same(fg.jit(obj)(x), x + 1.0)


@pytest.mark.parametrize("name", ["if", "class", "_k1", "ﬁ", "x²", "__builtins__", PAYLOAD], ids=repr)
def test_custom_rules_and_checkpoint_with_odd_names_under_jit(name: str) -> None:
    x = np.array([0.3, -1.2])

    vf = fg.custom_vjp(_named(name, fnp.sin))
    vf.defvjp(lambda x: (fnp.sin(x), x), lambda r, ct: (ct * fnp.cos(r),))
    jf = fg.custom_jvp(_named(name, fnp.sin))
    jf.defjvp(lambda p, t: (fnp.sin(p[0]), fnp.cos(p[0]) * t[0]))
    cf = fg.checkpoint(_named(name, fnp.sin))
    for f in (vf, jf, cf):
        loss = fg.jit(fg.grad(lambda x: fnp.sum(f(x))))
        np.testing.assert_allclose(loss(x), np.cos(x))
        np.testing.assert_allclose(fg.jit(f)(x), np.sin(x))


@pytest.mark.parametrize("prim_name", ["if", "x²", "my op-1", PAYLOAD], ids=repr)
def test_user_primitive_with_odd_name_under_jit(prim_name: str) -> None:
    double = Primitive(prim_name, lambda x, scale: x * scale, register=False)
    x = np.array([1.0, 2.0])
    f = fg.jit(lambda x: double.bind(x, scale=HFloat(2.0)) + double.bind(x, scale=HFloat(2.0)))
    _same(f(x), x * 4.0)


# --- inside control flow and custom rules (sub-programs compiled on their own) -------------------


CONTROL_FLOW: dict[str, Callable[[Any], Any]] = {
    "cond": lambda x: fg.lax.cond(fnp.sum(x) > 0, lambda v: v * HFloat(3.0), lambda v: v - HFloat(3.0), x),
    "scan": lambda x: fg.lax.scan(lambda c, xi: (c * HFloat(3.0) + xi, c), 0.0, x)[0],
    "fori_loop": lambda x: fg.lax.fori_loop(0, HInt(3), lambda i, v: v * HFloat(3.0), x),
    "while_loop": lambda x: fg.lax.while_loop(lambda v: fnp.sum(v) < HFloat(100.0), lambda v: v * HFloat(3.0), x),
}


@pytest.mark.parametrize("form", list(CONTROL_FLOW), ids=str)
def test_hostile_constants_inside_control_flow_bodies(form: str) -> None:
    f = CONTROL_FLOW[form]
    x = np.array([1.0, 2.0])
    _same(fg.jit(f)(x), f(x))
    loss = lambda v: fnp.sum(f(v) ** 2)  # noqa: E731
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(x), fg.grad(loss)(x), rtol=1e-12)


def test_hostile_constants_inside_custom_rules_under_jit() -> None:
    @fg.custom_vjp
    def scaled(x: Any) -> Any:
        return x * HFloat(3.0)

    scaled.defvjp(lambda x: (x * HFloat(3.0), None), lambda _, ct: (ct * HFloat(3.0),))
    x = np.array([1.0, -2.0])
    _same(fg.jit(scaled)(x), x * 3.0)
    np.testing.assert_array_equal(fg.jit(fg.grad(lambda v: fnp.sum(scaled(v))))(x), [3.0, 3.0])
