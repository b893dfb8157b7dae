"""Staging (jit): run a function on abstract values and record every primitive as an equation.

Arguments become :class:`StagedTracer` values that know only their shape and dtype. Operations
whose operands are all concrete (closed-over arrays, Python numbers) never reach this trace —
``bind``'s eager path computes them at trace time — so they are folded into program constants
on purpose: the program only contains work that depends on the arguments.

A traced value of an *enclosing* transformation (say ``grad``) that the function closes over
is captured as an extra program input, and passed in at call time.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .._backend import as_array
from ..core import Primitive, Trace, Tracer, ValuelessTracer, abstract_eval, mask_error, user_frame
from ..errors import ConcretizationError, InvalidLeafError, LeakedTracerError
from ..ir.program import Eqn, Literal, Program, ShapedArray, Var, aval_of

__all__ = ["StagedTracer", "StagingTrace", "trace_to_program", "eval_program", "abstract_eval"]

_PY_SCALARS = (bool, int, float, complex)


class StagedTracer(ValuelessTracer):
    # "_var", not "var": a slot named var would shadow the ndarray method x.var() under jit
    __slots__ = ("_var", "origin")

    def __init__(self, trace: StagingTrace, var: Var, origin: str) -> None:
        self._trace = trace
        self._var = var
        self.origin = origin

    @property
    def shape(self) -> tuple[int, ...]:
        return self._var.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self._var.aval.dtype

    def _no_value(self, what: str) -> ConcretizationError:
        return ConcretizationError(
            f"{what} needs a concrete value, but under jit this value is abstract "
            f"({self._var.aval}, computed from {self.origin}); only its shape and dtype are known "
            f"while tracing.\n  at {user_frame()}\n"
            "Fixes: mark the argument static (jit(f, static_argnums=...) or static_argnames=...), "
            "so its value is known and each value gets its own compiled version; choose values "
            "elementwise with funcgrad.numpy.where instead of Python if/else; or do not jit this "
            "function (grad, vjp and jvp allow Python control flow on values)."
        )

    def __repr__(self) -> str:
        return f"StagedTracer({self._var.aval}, from {self.origin})"


class StagingTrace(Trace):
    __slots__ = ("eqns", "consts", "captured")
    records_programs = True

    def __init__(self) -> None:
        super().__init__()
        self.eqns: list[Eqn] = []
        self.consts: dict[int, tuple[Any, Var]] = {}  # id(array) -> (array, var)
        self.captured: dict[int, tuple[Any, Var]] = {}  # id(tracer) -> (tracer, var)

    def atom(self, a: Any) -> Any:
        """The program operand for ``a``: a variable, a literal, a constant or a capture."""
        if type(a) is StagedTracer and a._trace is self:
            return a._var
        if isinstance(a, Tracer):
            found = self.captured.get(id(a))
            if found is None:
                if not a._trace.alive:
                    raise LeakedTracerError(
                        "a function being jitted uses a traced value whose transformation has already "
                        "returned (a leaked tracer); return it from that function instead, or store "
                        "funcgrad.stop_gradient(value)."
                    )
                found = self.captured[id(a)] = (a, Var(ShapedArray(tuple(a.shape), np.dtype(a.dtype))))
            return found[1]
        if isinstance(a, _PY_SCALARS) and not isinstance(a, np.generic):
            return Literal(a)
        found = self.consts.get(id(a))
        if found is None:
            arr = as_array(a)  # a closed-over Dask/CuPy array stays one (a Dask array stays lazy)
            found = self.consts[id(a)] = (a, Var(aval_of(arr)))  # `a` held: its id stays its own
        return found[1]

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        ins = tuple(self.atom(a) for a in args)
        operands = [x.aval if isinstance(x, Var) else x for x in ins]
        start = prim.index_start
        if start is not None:
            for k in range(start, len(args)):
                a = args[k]
                if isinstance(a, Tracer):
                    if np.dtype(a.dtype) == bool:
                        origin = a.origin if type(a) is StagedTracer else "a value of an enclosing transformation"
                        raise mask_error(prim.name, origin)
                elif as_array(a).dtype == bool:
                    # A concrete mask (a closed-over constant): the result's shape is known.
                    operands[k] = as_array(a)
        aval = abstract_eval(prim, operands, params)
        origin = next((a.origin for a in args if type(a) is StagedTracer), "a closed-over value")
        if prim.multiple_results:
            outs = tuple(Var(a) for a in aval)
            self.eqns.append(Eqn(prim, ins, outs, params))
            return [StagedTracer(self, v, origin) for v in outs]
        out = Var(aval)
        self.eqns.append(Eqn(prim, ins, out, params))
        return StagedTracer(self, out, origin)

    def program(self, inputs: Sequence[Var], outputs: Sequence[Any], names: Sequence[str]) -> Program:
        out_atoms = [self.atom(o) for o in outputs]
        captured = [v for _, v in self.captured.values()]
        return Program(list(inputs) + captured, self.eqns, out_atoms,
                       {v: as_array(a) for a, v in self.consts.values()},
                       list(names) + [f"captured{i}" for i in range(len(captured))])


def trace_to_program(f: Callable[..., Any], avals: Sequence[ShapedArray],
                     names: Sequence[str]) -> tuple[Program, list, Any]:
    """Stage ``f(*leaves)`` (one positional argument per leaf) into a program.

    Returns the program, the captured outer tracers (extra inputs to pass at call time, in
    order), and the tree structure of ``f``'s output (whose leaves the program's outputs are).
    """
    from ..tree_util import tree_flatten

    trace = StagingTrace()
    in_vars = [Var(a) for a in avals]
    tracers = [StagedTracer(trace, v, n) for v, n in zip(in_vars, names)]
    try:
        out = f(*tracers)
    finally:
        trace.alive = False
    leaves, treedef = tree_flatten(out)
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, (Tracer, np.ndarray, np.generic, *_PY_SCALARS)):
            from ..tree_util import describe_unregistered, keystr, tree_flatten_with_path

            path = keystr(tree_flatten_with_path(out)[0][i][0], "output")
            raise InvalidLeafError(
                f"a function being jitted returned a {type(leaf).__qualname__} at {path}; jitted "
                "functions return arrays, numbers and pytrees of them."
                + (" Compute non-array results outside the jitted function." if type(leaf).__module__ == "builtins"
                   else describe_unregistered(leaf)))
    program = trace.program(in_vars, leaves, names)
    captured = [t for t, _ in trace.captured.values()]
    return program, captured, treedef


def eval_program(program: Program, *args: Any) -> list:
    """Run ``program`` by binding each equation: under any trace, this re-traces it (a
    higher-order equation meets the active trace's rules like any other)."""
    env: dict[Var, Any] = dict(program.consts)
    env.update(zip(program.inputs, args))
    for e in program.eqns:
        out = e.prim.bind(*[env[a] if type(a) is Var else a.value for a in e.inputs], **e.params)
        if type(e.out) is tuple:
            env.update(zip(e.out, out))
        else:
            env[e.out] = out
    return [env[a] if type(a) is Var else a.value for a in program.outputs]
