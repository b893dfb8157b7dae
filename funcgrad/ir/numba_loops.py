"""Whole loops as one Numba kernel each, for ``jit(f, backend="numba")``.

The default backend runs a ``scan`` or ``while`` equation as a Python loop calling the body's
generated NumPy code once per step (one NumPy call per operation per step). Here, when every
equation of the body has a translation (:mod:`funcgrad.ir.numba_loop_rules`: elementwise
operations, int64 counters, matrix products, sums and norms, reshapes, transposes, basic indexing
and updates through it, ``concatenate``, loops nested in the body), the whole loop — every step,
the stacking of the per-step outputs and the swapping of the carries — is one Numba kernel
(:mod:`funcgrad.ir.numba_loop_source` writes it), so a step costs a few instructions per element
instead of microseconds of Python. This module decides which loop equations of a program become
kernels (:func:`compile_loops`, called by :func:`funcgrad.ir.numba_backend.compile_program`),
compiles them and calls them. Reverse mode of a ``while`` loop becomes two kernels, the recording
loop and the backward loop, when the tape goes from the one to the others only.

Any other body, and any call with operands the kernel was not compiled for (another array
library, another dtype), runs as the default backend runs it. The loop length and the literals
are kernel arguments, so loops of different lengths share one kernel; kernels are cached on disk
like the fused kernels (:func:`funcgrad.ir.numba_backend._load`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Primitive
from .numba_loop_source import KernelSpec, Unsupported, kernel_spec, loop_kernel_source, loop_prims
from .program import Eqn, Program, Var

__all__ = ["compile_loops", "loop_kernel_source", "numba_loop_p", "LoopCall"]


# --- running a kernel ---------------------------------------------------------------------------

_PY_SCALARS = (bool, int, float, complex)


class _Recorded:
    """The tape of a recording loop run by a kernel: each residual stacked over the steps, and
    the trip count. Only the backward kernels paired with that loop read it."""

    __slots__ = ("residuals", "count")
    dtype = np.dtype(object)

    def __init__(self, residuals: tuple, count: int) -> None:
        self.residuals, self.count = residuals, count

    def __repr__(self) -> str:
        return f"<while-loop tape recorded by a Numba kernel: {self.count} steps>"


class LoopCall:
    """Calls a compiled loop kernel with a loop equation's operands; any operand the kernel
    was not compiled for (another library's array, another dtype) runs the primitive's own impl.
    ``kind``: "scan", "while", "record" (returns the carries and a :class:`_Recorded` tape) or
    "backward" (reads one)."""

    def __init__(self, kernel: Any, e: Eqn, spec: KernelSpec, kind: str) -> None:
        self.kernel, self.kind = kernel, kind
        self.prim, self.params = e.prim, dict(e.params)
        self.avals = spec.in_avals
        self.extra = tuple(spec.extra) + ((int(e.params["length"]),) if kind == "scan" else ())
        self.out_dtypes = [np.dtype(o.aval.dtype) for o in e.outs]

    def __call__(self, *args: Any) -> list:
        extra = self.extra
        operands: Any = args
        if self.kind == "backward":
            n_ct, n_cr = self.params["n_ct"], self.params["n_const_res"]
            tape = args[n_ct]
            if type(tape) is not _Recorded:  # recorded by the default loop
                return self.prim.impl(*args, **self.params)
            operands = args[:n_ct] + tape.residuals + args[n_ct + 1:n_ct + 1 + n_cr]
            extra = extra + (tape.count,)
        converted = []
        for x, aval in zip(operands, self.avals):
            if aval.shape:
                if type(x) is not np.ndarray or x.dtype != aval.dtype:
                    if self.kind != "backward":
                        return self.prim.impl(*args, **self.params)
                    x = np.asarray(x, dtype=aval.dtype)  # (its tape is a kernel's: only this kernel reads it)
                converted.append(x if x.flags.c_contiguous else np.ascontiguousarray(x))
            else:
                if self.kind != "backward" and not isinstance(x, (np.ndarray, np.generic) + _PY_SCALARS):
                    return self.prim.impl(*args, **self.params)
                converted.append(aval.dtype.type(x))
        outs = self.kernel(*converted, *extra)
        if self.kind == "record":
            n = self.params["n_carry"]
            return [_array(o, d) for o, d in zip(outs[:n], self.out_dtypes)] + [_Recorded(outs[n:-1], outs[-1])]
        return [_array(o, d) for o, d in zip(outs, self.out_dtypes)]


def _array(o: Any, dtype: np.dtype) -> Any:
    return o if type(o) is np.ndarray else np.array(o, dtype=dtype)


def _emit(e: Eqn, args: list[str], bind: Callable[..., str]) -> str:
    return f"{bind(e.params['kernel'], 'loop')}({', '.join(args)})"


numba_loop_p = Primitive(
    "numba_loop",
    lambda *args, kernel: kernel(*args),
    multiple_results=True,
    emit=_emit,
    register=False,
)


# (source, signature thunk, what, fallback) -> the compiled kernel, or None if Numba cannot compile it
CompileKernel = Callable[[str, Callable[[], tuple], str, str], Any]


def _signature(spec: KernelSpec, with_length: bool) -> tuple:
    from numba import typeof
    from numba.core import types
    from numba.np.numpy_support import from_dtype

    sig: list[Any] = []
    for a in spec.in_avals:
        dt = from_dtype(np.dtype(a.dtype))
        sig.append(types.Array(dt, len(a.shape), "C") if a.shape else dt)
    sig.extend(typeof(v) for v in spec.extra)
    if with_length:
        sig.append(types.int64)
    return tuple(sig)


def compile_loops(program: Program, compile_kernel: CompileKernel) -> Program:
    """``program`` with each loop equation whose body translates replaced by a ``numba_loop``
    equation running the whole loop in one compiled kernel (``compile_kernel``, as
    :func:`funcgrad.ir.numba_backend.compile_kernel`, compiles it or gives None): ``scan``,
    ``while``, and the recording and backward loops of a differentiated ``while`` when the tape
    goes from one to the others only (both become kernels, or neither). Other equations are left as they are."""
    if program.derived.get("foreign"):
        return program
    prims = loop_prims()
    readers: dict[Var, list[Eqn]] = {}
    for e in program.eqns:
        for a in e.inputs:
            if type(a) is Var:
                readers.setdefault(a, []).append(e)
    returned = {a for a in program.outputs if type(a) is Var}
    new: dict[int, Eqn] = {}  # id of an equation -> its replacement
    for e in program.eqns:
        calls: list[tuple[Eqn, LoopCall | None]]
        if e.prim is prims.scan or e.prim is prims.while_:
            calls = [(e, _compile_loop(e, "scan" if e.prim is prims.scan else "while", compile_kernel))]
        elif e.prim is prims.record:
            tape = e.outs[-1]
            users = readers.get(tape, [])
            if tape in returned or not users or any(
                    u.prim is not prims.backward or len(u.inputs) <= u.params.get("n_ct", len(u.inputs))
                    or u.inputs[u.params["n_ct"]] is not tape or u.inputs.count(tape) != 1
                    or not _reads_the_recording(e, u) for u in users):
                continue
            calls = [(e, _compile_loop(e, "record", compile_kernel))]
            calls += [(u, _compile_loop(u, "backward", compile_kernel)) for u in users if calls[-1][1] is not None]
        else:
            continue
        if all(call is not None for _, call in calls):
            new.update((id(old), Eqn(numba_loop_p, old.inputs, old.out, {"kernel": call})) for old, call in calls)
    if not new:
        return program
    return program.replace(eqns=[new.get(id(e), e) for e in program.eqns])


def _reads_the_recording(record: Eqn, backward: Eqn) -> bool:
    """Whether the backward loop's residual inputs are the recording loop's residuals (the tape
    layout the two kernels agree on)."""
    recorded = record.params["body"].out_avals[record.params["n_carry"]:]
    bwd, n_ct = backward.params.get("bwd"), backward.params["n_ct"]
    if not isinstance(bwd, Program):
        return False
    read = bwd.in_avals[n_ct:len(bwd.inputs) - backward.params.get("n_const_res", 0)]
    return len(read) == len(recorded) and all(
        tuple(a.shape) == tuple(b.shape) and np.dtype(a.dtype) == np.dtype(b.dtype) for a, b in zip(read, recorded))


def _compile_loop(e: Eqn, kind: str, compile_kernel: CompileKernel) -> LoopCall | None:
    try:
        spec = kernel_spec(e)
    except Unsupported:
        return None  # not every operation has a translation: the loop runs as in the default backend
    kernel = compile_kernel(spec.source, lambda: _signature(spec, kind in ("scan", "backward")), "a loop kernel",
                            "the loop runs as in the NumPy backend instead")
    if kernel is None:
        return None
    return LoopCall(kernel, e, spec, kind)
