"""Give tracers NumPy's operators, methods and properties, and NumPy's dispatch protocols.

Importing this module installs them on :class:`funcgrad.core.Tracer`; the core stays free of
NumPy semantics. ``np.sin(tracer)`` reaches :meth:`__array_ufunc__`, ``np.sum(tracer)``
reaches :meth:`__array_function__`; both dispatch to the ``funcgrad.numpy`` function of the
same name, and raise a clear error for anything funcgrad does not cover.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import Tracer
from ..errors import (
    FuncgradError,
    TracerAssignmentError,
    TracerConversionError,
    UnsupportedNumpyFunctionError,
)
from ..prims import elementwise as ew
from ..prims import linalg as la
from ..prims.indexing import encode_index, getitem


def _binary(bind: Any) -> tuple[Any, Any]:
    def op(self: Any, other: Any) -> Any:
        return bind(self, other)

    def rop(self: Any, other: Any) -> Any:
        return bind(other, self)

    return op, rop


def _binary_prim(prim: Any) -> tuple[Any, Any]:
    """``_binary`` for a primitive: with a number or plain array on the other side (``x * 2.0``),
    the trace is ``self``'s, and the operation goes to it without bind's search."""
    bind = prim.bind

    def op(self: Any, other: Any) -> Any:
        trace = self._trace
        if isinstance(other, Tracer) or not trace.alive:
            return bind(self, other)  # the search (or its leaked-tracer error)
        return trace.process(prim, (self, other), {})

    def rop(self: Any, other: Any) -> Any:
        trace = self._trace
        if isinstance(other, Tracer) or not trace.alive:
            return bind(other, self)
        return trace.process(prim, (other, self), {})

    return op, rop


# A real floating-point value compared with a Python number: the operator gives what the ufunc
# gives (the same result and type, for every float dtype, 0-d or not, NaN, infinities and Python
# ints too large for any dtype: checked in tests/test_eager_fast_paths.py), and on a NumPy scalar
# (a norm in a loop's condition) it is NumPy's scalar fast path, about 10x cheaper than the ufunc.
_REAL_FLOAT_SCALARS = (np.float64, np.float32, np.float16, np.longdouble)
_PY_REAL = (float, int, bool)


def _compare_prim(prim: Any, operator_fn: Any) -> Any:
    """``_binary_prim``'s ``op`` for a comparison (no derivative): under a trace whose tracers
    hold concrete values (reverse and forward mode), the comparison of the value, which is what
    those traces' ``process`` returns for an operation without a derivative. ``operator_fn`` is
    the Python operator computing the same as ``prim``'s ufunc on real floats."""
    bind, impl = prim.bind, prim.impl

    def op(self: Any, other: Any) -> Any:
        trace = self._trace
        if isinstance(other, Tracer) or not trace.alive:
            return bind(self, other)
        if trace.concrete_values:
            x = self.primal
            t = type(x)
            if (t in _REAL_FLOAT_SCALARS or t is np.ndarray and x.dtype.kind == "f") and type(other) in _PY_REAL:
                return operator_fn(x, other)
            return bind(x, other) if isinstance(x, Tracer) else impl(x, other)
        return trace.process(prim, (self, other), {})

    return op


_SIZE_HINT = (" Or give the result's length, as in JAX: funcgrad.numpy.extract(mask, x, size=n), "
              "funcgrad.numpy.nonzero(mask, size=n) or funcgrad.numpy.compress(..., size=n).")


def _reject_traced_masks(idx: Any, name: str = "getitem") -> None:
    """A boolean mask traced by jit or vmap selects a number of elements unknown while tracing:
    a ConcretizationError (jit's names the mask's origin and the line) that also points to size=."""
    from ..core import ValuelessTracer
    from ..errors import ConcretizationError

    for item in idx if isinstance(idx, tuple) else (idx,):
        if not (isinstance(item, Tracer) and item.dtype == np.bool_):
            continue
        v = item
        while isinstance(v, Tracer) and not isinstance(v, ValuelessTracer):
            v = v.primal
        if not isinstance(v, ValuelessTracer):
            continue
        origin = getattr(v, "origin", None)
        if origin is not None:  # jit: the staging trace's own message (origin, user line, fixes)
            from ..core import mask_error

            base = str(mask_error(name, origin))
        else:
            base = ("boolean-mask indexing under vmap: the result's shape would differ from example to example. "
                    "Select elementwise with funcgrad.numpy.where(mask, x, 0) instead.")
        raise ConcretizationError(base + _SIZE_HINT)


def _getitem(self: Tracer, idx: Any) -> Any:
    _reject_traced_masks(idx)
    spec, arrays = encode_index(idx)
    return getitem(self, *arrays, spec=spec)


def _setitem(self: Tracer, idx: Any, value: Any) -> None:
    raise TracerAssignmentError(
        "traced arrays are immutable: `x[idx] = v` would lose the derivative. Write "
        "`x = x.at[idx].set(v)` (or `.add(v)`) instead; it returns an updated copy."
    )


def _sort_in_place(self: Tracer, *args: Any, **kwargs: Any) -> None:
    raise TracerAssignmentError(
        "x.sort() sorts in place, and traced arrays are immutable. Write `x = funcgrad.numpy.sort(x)` "
        "(or `np.sort(x)`) instead; it returns a sorted copy and keeps the derivative."
    )


# x.at[idx]: the full set of JAX's updates lives in index_update.py.
from .index_update import At as _At  # noqa: E402


def at(x: Any) -> _At:
    """Functional updates for tracers and plain arrays alike: ``at(x)[idx].set(v)``.

    Inside a transformed function ``x.at[idx].set(v)`` is the same; ``at(x)`` also works when
    the function is called on plain NumPy arrays.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.at(np.zeros(3))[1].set(5.0)
    array([0., 5., 0.])
    >>> fnp.at(np.ones(3))[[0, 0, 2]].multiply(2.0)
    array([4., 1., 2.])
    """
    return _At(x)


def _conversion_error(kind: str) -> Any:
    def convert(self: Tracer, *args: Any, **kwargs: Any) -> Any:
        raise TracerConversionError(
            f"{kind} of a traced value would silently drop its derivative. Keep the computation in "
            "funcgrad.numpy (or plain NumPy functions, which dispatch to it); to use the value "
            "without its derivative, apply funcgrad.stop_gradient and convert outside the "
            "differentiated function."
        )

    return convert


def _install() -> None:
    import importlib

    from . import contractions, reductions
    from .elementwise import astype

    # Not `from . import shape`: the package attribute `funcgrad.numpy.shape` is the function
    # numpy.shape (re-exported by `from .shape import *`), which shadows the submodule.
    shape = importlib.import_module(".shape", __package__)

    T: Any = Tracer  # assigned attribute by attribute; core.Tracer declares them for type checkers
    T.__add__, T.__radd__ = _binary_prim(ew.add_p)
    T.__sub__, T.__rsub__ = _binary_prim(ew.sub_p)
    T.__mul__, T.__rmul__ = _binary_prim(ew.mul_p)
    T.__truediv__, T.__rtruediv__ = _binary_prim(ew.div_p)
    T.__pow__, T.__rpow__ = _binary_prim(ew.pow_p)
    T.__floordiv__, T.__rfloordiv__ = _binary(ew.floor_divide_p.bind)
    T.__mod__, T.__rmod__ = _binary(ew.remainder_p.bind)
    T.__matmul__, T.__rmatmul__ = _binary(la.matmul)
    from . import mathfuncs  # bitwise operators: the same (non-differentiable) ufuncs as NumPy's

    T.__and__, T.__rand__ = _binary(mathfuncs.bitwise_and)
    T.__or__, T.__ror__ = _binary(mathfuncs.bitwise_or)
    T.__xor__, T.__rxor__ = _binary(mathfuncs.bitwise_xor)
    T.__lshift__, T.__rlshift__ = _binary(mathfuncs.left_shift)
    T.__rshift__, T.__rrshift__ = _binary(mathfuncs.right_shift)
    T.__lt__ = _compare_prim(ew.less_p, operator.lt)
    T.__le__ = _compare_prim(ew.less_equal_p, operator.le)
    T.__gt__ = _compare_prim(ew.greater_p, operator.gt)
    T.__ge__ = _compare_prim(ew.greater_equal_p, operator.ge)
    T.__eq__ = _compare_prim(ew.equal_p, operator.eq)
    T.__ne__ = _compare_prim(ew.not_equal_p, operator.ne)
    T.__neg__ = lambda self: ew.neg(self)
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: ew.abs_p.bind(self)
    T.__invert__ = lambda self: mathfuncs.invert(self)  # bitwise NOT, as NumPy's ~ (logical only on bools)
    T.__getitem__ = _getitem
    T.__setitem__ = _setitem
    T.__iter__ = lambda self: (self[i] for i in range(len(self)))
    T.__array__ = _conversion_error("Converting to a NumPy array (np.asarray/np.array)")
    T.__float__ = _conversion_error("float()")
    T.__int__ = _conversion_error("int()")
    T.__complex__ = _conversion_error("complex()")
    T.__index__ = _conversion_error("Using as an index (__index__)")
    T.item = _conversion_error(".item()")
    T.tolist = _conversion_error(".tolist()")
    T.at = property(lambda self: _At(self))
    T.T = property(lambda self: shape.transpose(self))
    T.mT = property(lambda self: shape.swapaxes(self, -1, -2))
    T.astype = lambda self, dtype, copy=True: astype(self, dtype)
    T.sum = lambda self, axis=None, dtype=None, out=None, keepdims=False, **kw: reductions.sum(
        self, axis, dtype, out, keepdims, **kw)
    T.mean = lambda self, axis=None, dtype=None, out=None, keepdims=False, **kw: reductions.mean(
        self, axis, dtype, out, keepdims, **kw)
    T.prod = lambda self, axis=None, dtype=None, out=None, keepdims=False, **kw: reductions.prod(
        self, axis, dtype, out, keepdims, **kw)
    T.max = lambda self, axis=None, out=None, keepdims=False, **kw: reductions.max(self, axis, out, keepdims, **kw)
    T.min = lambda self, axis=None, out=None, keepdims=False, **kw: reductions.min(self, axis, out, keepdims, **kw)
    T.var = lambda self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw: reductions.var(
        self, axis, dtype, out, ddof, keepdims, **kw)
    T.std = lambda self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw: reductions.std(
        self, axis, dtype, out, ddof, keepdims, **kw)
    T.cumsum = lambda self, axis=None, dtype=None: reductions.cumsum(self, axis, dtype)
    T.cumprod = lambda self, axis=None, dtype=None: reductions.cumprod(self, axis, dtype)
    T.argmax = lambda self, axis=None, out=None, keepdims=False: reductions.argmax(self, axis, out, keepdims=keepdims)
    T.argmin = lambda self, axis=None, out=None, keepdims=False: reductions.argmin(self, axis, out, keepdims=keepdims)
    T.all = lambda self, axis=None, out=None, keepdims=False, **kw: reductions.all(self, axis, out, keepdims, **kw)
    T.any = lambda self, axis=None, out=None, keepdims=False, **kw: reductions.any(self, axis, out, keepdims, **kw)
    T.reshape = lambda self, *shp, order="C": shape.reshape(
        self, shp[0] if len(shp) == 1 and not isinstance(shp[0], int) else shp, order)
    T.transpose = lambda self, *axes: shape.transpose(
        self, None if not axes else axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)
    T.swapaxes = lambda self, a, b: shape.swapaxes(self, a, b)
    T.ravel = lambda self, order="C": shape.ravel(self, order)
    T.flatten = lambda self, order="C": shape.ravel(self, order)
    T.squeeze = lambda self, axis=None: shape.squeeze(self, axis)
    T.repeat = lambda self, repeats, axis=None: shape.repeat(self, repeats, axis)
    T.diagonal = lambda self, offset=0, axis1=0, axis2=1: shape.diagonal(self, offset, axis1, axis2)
    T.take = lambda self, indices, axis=None, out=None, mode="raise": shape.take(self, indices, axis, out, mode)
    T.argsort = lambda self, axis=-1, kind=None, order=None, *, stable=None: importlib.import_module(
        ".sorting", __package__).argsort(self, axis, kind, order, stable=stable)
    T.sort = _sort_in_place
    T.trace = lambda self, offset=0, axis1=0, axis2=1: contractions.trace(self, offset, axis1, axis2)
    T.dot = lambda self, b: contractions.dot(self, b)
    T.clip = lambda self, min=None, max=None: __import__("funcgrad.numpy", fromlist=["clip"]).clip(self, min, max)
    T.copy = lambda self: self
    _more_methods(T)
    T.real = property(lambda self: ew.real(self))
    T.imag = property(lambda self: ew.imag(self))
    T.conj = lambda self: ew.conj(self)
    T.conjugate = lambda self: ew.conj(self)
    T.__array_ufunc__ = _array_ufunc
    T.__array_function__ = _array_function


_ufuncs: dict[Any, Any] = {}
_functions: dict[Any, Any] = {}
_REDUCE_METHODS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
                   "logical_and": "all", "logical_or": "any"}
_ACCUMULATE_METHODS = {"add": "cumsum", "multiply": "cumprod"}


# NumPy module name -> funcgrad module that registers its dispatch when imported (loaded on first dispatch).
_lazy_dispatch: dict[str, str] = {}


def register_dispatch(namespace: Any, numpy_namespace: Any, names: list[str]) -> None:
    """Route NumPy's functions/ufuncs of these names to funcgrad's implementations.

    Names whose funcgrad object *is* NumPy's (re-exported unchanged) are skipped: NumPy's own
    function would only dispatch to itself.
    """
    for name in names:
        theirs = getattr(numpy_namespace, name, None)
        if theirs is None or not callable(theirs):
            continue
        ours = getattr(namespace, name)
        if ours is theirs:
            continue
        (_ufuncs if isinstance(theirs, np.ufunc) else _functions)[theirs] = ours


def register_lazy_dispatch(numpy_module: str, module: str) -> None:
    """Dispatch NumPy's functions defined in ``numpy_module`` (by their ``__module__``) to funcgrad's
    module ``module``, imported on the first such call (which then calls :func:`register_dispatch`).

    So ``np.linalg.solve(tracer)`` works before anything imported ``funcgrad.numpy.linalg``.
    """
    _lazy_dispatch[numpy_module] = module


def _lookup_function(func: Any) -> Any:
    """funcgrad's implementation of the NumPy function ``func``, or None."""
    ours = _functions.get(func)
    if ours is None:
        module = _lazy_dispatch.get(getattr(func, "__module__", None) or "")
        if module is not None:
            import importlib

            importlib.import_module(module)  # registers its functions
            ours = _functions.get(func)
    return ours


def _array_ufunc(self: Tracer, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    import funcgrad.numpy as fnp

    if kwargs.get("out") is not None:
        raise UnsupportedNumpyFunctionError(
            f"numpy.{ufunc.__name__}(..., out=...) writes in place, which cannot be differentiated; "
            "use the return value instead.")
    kwargs.pop("out", None)
    if method == "__call__":
        ours = _ufuncs.get(ufunc)
        if ours is not None and not kwargs:
            return ours(*inputs)
    elif method == "reduce" and ufunc.__name__ in _REDUCE_METHODS and len(inputs) == 1:
        return getattr(fnp, _REDUCE_METHODS[ufunc.__name__])(inputs[0], axis=kwargs.pop("axis", 0),
                                                             keepdims=kwargs.pop("keepdims", False))
    elif method == "accumulate" and ufunc.__name__ in _ACCUMULATE_METHODS and len(inputs) == 1:
        return getattr(fnp, _ACCUMULATE_METHODS[ufunc.__name__])(inputs[0], axis=kwargs.pop("axis", 0))
    what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    extra = f" with keyword arguments {sorted(kwargs)}" if kwargs else ""
    raise UnsupportedNumpyFunctionError(
        f"{what}{extra} is not supported on traced values by funcgrad. Use a funcgrad.numpy "
        "function (see dir(funcgrad.numpy)) or compose it from supported operations."
    )


def _array_function(self: Tracer, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    ours = _functions.get(func) or _lookup_function(func)
    if ours is None:
        mod = getattr(func, "__module__", "numpy") or "numpy"
        mod = "numpy" if mod.startswith("numpy._core") or mod == "numpy.core" else mod
        raise UnsupportedNumpyFunctionError(
            f"{mod}.{func.__name__} is not supported on traced values by funcgrad. Use a "
            "funcgrad.numpy function (see dir(funcgrad.numpy)) or compose it from supported "
            "operations."
        )
    try:
        return ours(*args, **kwargs)
    except TypeError as e:
        if isinstance(e, FuncgradError) or _accepts(ours, args, kwargs):
            raise
        raise UnsupportedNumpyFunctionError(
            f"numpy.{func.__name__} is supported on traced values by funcgrad, but not with these "
            f"arguments ({e}). Drop the unsupported arguments, or compose the computation from "
            "supported funcgrad.numpy operations."
        ) from None


def _accepts(fn: Any, args: Any, kwargs: Any) -> bool:
    """Whether ``fn``'s signature accepts these arguments (NumPy's may take more than ours)."""
    import inspect

    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return False
    except ValueError:  # no signature available
        return True
    return True


def _in_place_method(name: str, instead: str) -> Any:
    def method(self: Tracer, *args: Any, **kwargs: Any) -> None:
        raise TracerAssignmentError(f"x.{name}() modifies x in place, and traced arrays are immutable. Use "
                                    f"{instead} instead; it returns an updated copy and keeps the derivative.")

    return method


def _more_methods(T: Any) -> None:
    """ndarray methods that forward to the funcgrad.numpy function of the same name."""
    import funcgrad.numpy as fnp

    T.nonzero = lambda self: fnp.nonzero(self)
    T.searchsorted = lambda self, v, side="left", sorter=None: fnp.searchsorted(self, v, side, sorter)
    T.round = lambda self, decimals=0, out=None: fnp.round(self, decimals, out)
    T.compress = lambda self, condition, axis=None, out=None: fnp.compress(condition, self, axis, out)
    T.choose = lambda self, choices, out=None, mode="raise": fnp.choose(self, choices, out, mode)
    T.argpartition = lambda self, kth, axis=-1, kind="introselect", order=None: fnp.argpartition(
        self, kth, axis, kind, order)
    T.itemsize = property(lambda self: np.dtype(self.dtype).itemsize)
    T.nbytes = property(lambda self: np.dtype(self.dtype).itemsize * self.size)
    T.partition = _in_place_method("partition", "funcgrad.numpy.partition(x, kth)")
    T.resize = _in_place_method("resize", "funcgrad.numpy.resize(x, new_shape)")
    T.fill = _in_place_method("fill", "funcgrad.numpy.full_like(x, value)")
    T.put = _in_place_method("put", "funcgrad.numpy.put(x, ind, v, inplace=False)")
