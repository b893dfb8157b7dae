"""Types a checker sees: mypy on a user-style program (expectations with ``assert_type``), on a
program that must fail type checking, and a comparison of the statically visible names and
Tracer methods with what exists at runtime.

One mypy build (cache in a temporary directory) serves every test here.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from pathlib import Path

import pytest

mypy_build = pytest.importorskip("mypy.build")
from mypy.modulefinder import BuildSource  # noqa: E402
from mypy.nodes import ARG_STAR, ARG_STAR2, Decorator, FuncDef, OverloadedFuncDef, TypeInfo  # noqa: E402
from mypy.options import Options  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

USER_PROGRAM = '''
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from typing_extensions import assert_type

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import Tracer
from funcgrad.jit import JitFunction
from funcgrad.tree_util import register_pytree_node_class

Array = np.ndarray[Any, Any]


def loss(w: Array, x: Array, scale: float) -> float:
    return float(fnp.sum(fnp.tanh(x @ w) ** 2) * scale)


def loss_aux(w: Array) -> tuple[float, str]:
    return float(fnp.sum(w)), "aux"


# jit keeps the signature and the result type
jitted = fg.jit(loss)
reveal_type(jitted)  # R: JitFunction
assert_type(jitted(np.ones(2), np.ones((3, 2)), 1.0), float)
assert_type(jitted.cache_info().misses, int)
decorate = fg.jit(static_argnums=1)
reveal_type(decorate(loss))  # R: JitFunction

# grad/value_and_grad keep the parameters; value and aux keep their types
g = fg.grad(loss)
reveal_type(g)  # R: grad
reveal_type(fg.value_and_grad(loss))  # R: value_and_grad
reveal_type(fg.value_and_grad(loss_aux, has_aux=True))  # R: value_and_grad aux
reveal_type(fg.grad(loss_aux, has_aux=True))  # R: grad aux
reveal_type(fg.vmap(loss, in_axes=(None, 0, None)))  # R: vmap
reveal_type(fg.jit(fg.grad(loss)))  # R: jit grad

# vjp: the primal output's type and a pullback; the primals are checked against f's parameters
out, pullback = fg.vjp(loss, np.ones(2), np.ones((3, 2)), 1.0)
assert_type(out, float)
assert_type(pullback(1.0), tuple[Any, ...])
out2, pullback2, aux = fg.vjp(loss_aux, np.ones(2), has_aux=True)
assert_type(aux, str)

# funcgrad.numpy: generated ufuncs and NumPy's re-exported names are visible
assert_type(fnp.float64, type[np.float64])
assert_type(fnp.pi, float)
fnp.sin(np.ones(2))
fnp.arctan2(1.0, np.ones(2))
fnp.linalg.norm(np.ones(2))
fnp.random.RandomState(0)


# Tracer: the operators and methods tracer_methods installs
def on_tracer(t: Tracer) -> None:
    assert_type(t + 1.0, Tracer)
    assert_type(2.0 * t, Tracer)
    assert_type(t @ t, Tracer)
    assert_type(t[0], Tracer)
    assert_type(t.sum(axis=0), Tracer)
    assert_type(t.reshape(2, 3).T, Tracer)
    assert_type(t.at[0].set(1.0), Any)
    assert_type(t.shape, tuple[int, ...])
    assert_type(fg.stop_gradient(t), Tracer)


# lazily loaded names are typed too
assert_type(fg.device_put(np.ones(2)), Any)
fg.nn.relu(np.ones(2))
fg.random.PRNGKey(0)


@register_pytree_node_class
class Point:
    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def tree_flatten(self) -> tuple[tuple[float, float], None]:
        return (self.x, self.y), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: tuple[float, float]) -> Point:
        return cls(*children)


assert_type(Point(1.0, 2.0), Point)
'''

# Each line marked "# E: codes" must give exactly these mypy error codes; nothing else may fail.
MUST_FAIL = '''
from __future__ import annotations

from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core import Tracer


def f(x: np.ndarray[Any, Any], n: int) -> float:
    return float(fnp.sum(x) * n)


fg.jit(f)(np.ones(2), "three")  # E: arg-type
fg.jit(f)(np.ones(2))  # E: call-arg
fg.grad(f)(np.ones(2), 1, 2)  # E: call-arg
fg.value_and_grad(f)(np.ones(2), n="x")  # E: arg-type
fg.vmap(f)(np.ones(2), 1.5)  # E: arg-type
fg.vjp(f, np.ones(2), "three")  # E: arg-type call-arg
value: str = fg.jit(f)(np.ones(2), 3)  # E: assignment
fnp.sin(1.0, 2.0)  # E: arg-type call-arg
fnp.add(1.0)  # E: call-arg
fnp.pad(np.ones(2), 1, mode="edge")  # option strings are Literal types: a valid one passes,
fnp.pad(np.ones(2), 1, mode="mean")  # E: arg-type
fnp.searchsorted(np.ones(2), 1.0, side="middle")  # E: arg-type
fnp.convolve(np.ones(2), np.ones(2), mode="ful")  # E: arg-type
fnp.not_a_numpy_function  # E: attr-defined
fg.not_a_transformation  # E: attr-defined


def on_tracer(t: Tracer) -> None:
    t.no_such_method()  # E: attr-defined
    t.sum(axis=0, out=np.ones(2))  # E: arg-type
'''

# Public modules whose runtime names must all be statically visible definitions.
PUBLIC_MODULES = [
    "funcgrad", "funcgrad.numpy", "funcgrad.numpy.linalg", "funcgrad.numpy.fft", "funcgrad.numpy.random",
    "funcgrad.lax", "funcgrad.tree_util", "funcgrad.flatten_util", "funcgrad.random", "funcgrad.optimizers",
    "funcgrad.nn", "funcgrad.nn.initializers", "funcgrad.example_libraries.stax",
    "funcgrad.example_libraries.optimizers", "funcgrad.scipy", "funcgrad.scipy.special", "funcgrad.scipy.stats",
    "funcgrad.scipy.linalg", "funcgrad.scipy.signal", "funcgrad.scipy.optimize", "funcgrad.custom",
    "funcgrad.config", "funcgrad.errors", "funcgrad.dtypes", "funcgrad.test_util",
]


def _runtime_names(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    if module_name == "funcgrad.numpy.random":  # numpy.random re-exported: the names numpy.random exports
        import numpy.random

        return set(numpy.random.__all__)
    names = set(getattr(module, "__all__", None) or (n for n in dir(module) if not n.startswith("_")))
    if module_name == "funcgrad":  # loaded on first use by the module's __getattr__
        names |= set(module._LAZY_SUBMODULES) | set(module._LAZY_NAMES)
    return names


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One mypy build of both programs (funcgrad followed silently: its own errors are the
    business of ``mypy funcgrad examples``); returns the error lines per program and the trees."""
    tmp = tmp_path_factory.mktemp("typing")
    (tmp / "user_program.py").write_text(textwrap.dedent(USER_PROGRAM))
    (tmp / "must_fail.py").write_text(textwrap.dedent(MUST_FAIL))
    options = Options()
    options.cache_dir = str(tmp / "mypy_cache")
    options.incremental = False
    options.preserve_asts = True
    options.follow_imports = "silent"
    options.strict_optional = True
    options.disallow_untyped_calls = True  # a user's --strict: funcgrad's public functions are typed
    options.implicit_reexport = False  # a user's --strict: names are exported explicitly
    options.mypy_path = [str(ROOT)]
    sources = [BuildSource(str(tmp / "user_program.py"), "user_program"),
               BuildSource(str(tmp / "must_fail.py"), "must_fail")]
    sources += [BuildSource(None, m) for m in PUBLIC_MODULES + ["funcgrad.core"]]
    result = mypy_build.build(sources, options)
    by_file: dict[str, list[str]] = {"user_program": [], "must_fail": []}
    for line in result.errors:
        for name in by_file:
            if line.startswith(str(tmp / f"{name}.py")) and (": error:" in line or ": note:" in line):
                by_file[name].append(line[len(str(tmp)) + 1:])
    return {"errors": by_file, "graph": result.graph}


ARRAY = "numpy.ndarray[Any, Any]"
PARAMS = f"w: {ARRAY}, x: {ARRAY}, scale: float"
# reveal_type(...)  # R: key  ->  the type mypy must reveal: f's parameters (names included) kept
REVEALED = {
    "JitFunction": f"funcgrad.jit.JitFunction[[{PARAMS}], float]",
    "grad": f"def ({PARAMS}) -> Any",
    "value_and_grad": f"def ({PARAMS}) -> tuple[float, Any]",
    "value_and_grad aux": f"def (w: {ARRAY}) -> tuple[tuple[float, str], Any]",
    "grad aux": f"def (w: {ARRAY}) -> tuple[Any, str]",
    "vmap": f"def ({PARAMS}) -> Any",
    "jit grad": f"funcgrad.jit.JitFunction[[{PARAMS}], Any]",
}


def test_user_program_types_as_expected(checked: dict) -> None:
    lines = checked["errors"]["user_program"]
    assert [line for line in lines if ": error:" in line] == []  # every assert_type holds
    revealed = {}
    for line in lines:
        m = re.match(r'user_program\.py:(\d+): note: Revealed type is "(.*)"$', line)
        if m:
            revealed[int(m.group(1))] = m.group(2)
    wanted = {i + 1: REVEALED[m.group(1)] for i, line in enumerate(textwrap.dedent(USER_PROGRAM).splitlines())
              if (m := re.search(r"# R: (.+)$", line))}
    assert revealed == wanted


def test_wrong_calls_fail_type_checking(checked: dict) -> None:
    expected = {i + 1: set(m.group(1).split()) for i, line in enumerate(textwrap.dedent(MUST_FAIL).splitlines())
                if (m := re.search(r"# E: ([\w -]+)$", line))}
    found: dict[int, set[str]] = {}
    for err in checked["errors"]["must_fail"]:
        if ": note:" in err:
            continue
        m = re.match(r"must_fail\.py:(\d+): error: .*\[([\w-]+)\]$", err)
        assert m, err
        found.setdefault(int(m.group(1)), set()).add(m.group(2))
    assert expected == found


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_statically_visible(checked: dict, module_name: str) -> None:
    tree = checked["graph"][module_name].tree
    assert tree is not None
    missing = sorted(n for n in _runtime_names(module_name) if n not in tree.names)
    assert missing == [], f"{module_name}: names a type checker does not see: {missing}"


def _declared_tracer_members(checked: dict) -> dict[str, object]:
    info = checked["graph"]["funcgrad.core"].tree.names["Tracer"].node
    assert isinstance(info, TypeInfo)
    return {name: sym.node for name, sym in info.names.items()}


def test_tracer_members_installed_at_runtime_are_declared(checked: dict) -> None:
    import funcgrad.numpy  # noqa: F401  (installs the operators and methods)
    from funcgrad.core import Tracer

    declared = _declared_tracer_members(checked)
    installed = set(vars(Tracer)) - {"__module__", "__doc__", "__slots__", "__dict__", "__weakref__",
                                     "__annotations__", "__qualname__", "__firstlineno__", "__static_attributes__"}
    assert sorted(installed - set(declared)) == []
    # and every declaration exists at runtime (primal: a slot of every subclass)
    assert sorted(n for n in declared if not hasattr(Tracer, n) and n != "primal") == []


def test_tracer_method_declarations_match_runtime_parameters(checked: dict) -> None:
    import funcgrad.numpy  # noqa: F401
    from funcgrad.core import Tracer

    mismatched = []
    for name, node in _declared_tracer_members(checked).items():
        if name.startswith("__") or isinstance(node, (Decorator, OverloadedFuncDef)) or not isinstance(node, FuncDef):
            continue
        runtime = vars(Tracer).get(name)
        if not inspect.isfunction(runtime):
            continue
        params = list(inspect.signature(runtime).parameters.values())[1:]
        if any(p.kind is p.VAR_POSITIONAL for p in params) and any(p.kind is p.VAR_KEYWORD for p in params):
            continue  # an error-raising catch-all (in-place methods, conversions)
        runtime_names = ["*" if p.kind is p.VAR_POSITIONAL else p.name for p in params if p.kind is not p.VAR_KEYWORD]
        declared_names = ["*" if k == ARG_STAR else n for n, k in zip(node.arg_names[1:], node.arg_kinds[1:])
                          if k != ARG_STAR2]
        if runtime_names != declared_names:
            mismatched.append((name, runtime_names, declared_names))
    assert mismatched == []
