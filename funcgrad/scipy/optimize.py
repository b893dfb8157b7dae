"""``funcgrad.scipy.optimize``: SciPy's ``minimize`` and ``root`` on pytrees, with derivatives of
the solution.

``minimize(fun, x0, args)`` hands SciPy a gradient from a jitted ``value_and_grad`` of ``fun``
and, for the methods that use one, a Hessian-vector product from forward-over-reverse
(``jvp`` of ``grad``); the result's ``x`` has ``x0``'s structure. ``root(fun, x0, args)`` hands
SciPy the Jacobian from ``jacfwd``.

The solution is differentiable with respect to ``args`` by the implicit function theorem: at a
minimum ``g(x*, θ) = ∇ₓ f(x*, θ) = 0`` (for ``root``, ``g = fun``), so

    dx*/dθ = -(∂g/∂x)⁻¹ ∂g/∂θ,

which needs no differentiation through the solver's iterations. Both modes are available
(``jvp`` and ``vjp``, to any order, since the rules are written with funcgrad operations), the
solve runs at run time under ``jit`` (one staged operation), and ``vmap`` solves once per example.

Sharp bits:

* Parameters you differentiate with respect to must be passed in ``args``. A value captured by
  ``fun``'s closure is treated as a constant.
* The derivative is that of the exact solution; it is as accurate as the solver's convergence, so
  tighten ``tol`` when derivatives matter.
* The linear system with ``∂g/∂x`` is solved densely (``n`` forward passes for ``n`` unknowns,
  then ``funcgrad.numpy.linalg.solve``) for up to 64 unknowns, and for higher-order derivatives
  or under ``jit``/``vmap``; first derivatives of larger problems use conjugate gradients
  (``minimize``) or GMRES (``root``) with jitted Jacobian-vector products instead. ``∂g/∂x`` must
  be non-singular (a strict local minimum, a simple root).
* Bounds and constraints are passed to SciPy, but the solution is not differentiable through them
  (the theorem above ignores active constraints): asking for a derivative raises ``ValueError``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from ..core import Primitive, Tracer
from ..errors import ConcretizationError
from ..ir.program import ShapedArray
from ..tree_util import PyTreeDef, register_pytree_node, tree_flatten, tree_unflatten
from ._lazy import scipy_module

__all__ = ["minimize", "root", "OptimizeResult"]

_JAC_METHODS = {"cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "slsqp", "dogleg", "trust-ncg", "trust-krylov",
                "trust-exact", "trust-constr"}
_HESSP_METHODS = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_HESS_METHODS = {"dogleg", "trust-exact"}
_ROOT_JAC_METHODS = {"hybr", "lm"}
# Scalar fields packed after x in the primitive's output, so that they exist under jit and vmap.
_MIN_INFO = ("success", "status", "nit", "nfev", "njev", "nhev")
_ROOT_INFO = ("success", "status", "nfev", "nit")


class OptimizeResult(dict):
    """The result of :func:`minimize` or :func:`root`: a dict with attribute access, like SciPy's.

    It is a pytree (its values, keys sorted), so a traced result can be returned from ``jit`` and
    ``vmap``.

    >>> r = OptimizeResult(x=1.0, success=True)
    >>> r.x, r["success"]
    (1.0, True)
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"OptimizeResult has no field {name!r}; it has {sorted(self)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __repr__(self) -> str:
        return "OptimizeResult(" + ", ".join(f"{k}={self[k]!r}" for k in sorted(self)) + ")"


def _flatten_result(r: OptimizeResult) -> tuple[list, tuple]:
    keys = tuple(sorted(r))
    return [r[k] for k in keys], keys


def _unflatten_result(keys: Any, values: Any) -> OptimizeResult:
    return OptimizeResult(zip(keys, values))


register_pytree_node(OptimizeResult, _flatten_result, _unflatten_result)


# --- pytrees <-> one float64 vector ------------------------------------------------------------------


class _Layout:
    """Where each leaf of a pytree lives in one flat vector."""

    def __init__(self, leaves: Sequence[Any], treedef: PyTreeDef) -> None:
        self.treedef = treedef
        self.shapes = [_shape(leaf) for leaf in leaves]
        self.dtypes = [_dtype(leaf) for leaf in leaves]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.size = sum(self.sizes)

    def key(self) -> tuple:
        return (self.treedef, tuple(self.shapes), tuple(self.dtypes))

    def ravel(self, leaves: Sequence[Any]) -> Any:
        from .. import numpy as fnp

        if not leaves:
            return np.zeros(0)
        parts = [fnp.ravel(fnp.asarray(leaf)).astype(np.float64) for leaf in leaves]
        return parts[0] if len(parts) == 1 else fnp.concatenate(parts)

    def unravel_leaves(self, flat: Any) -> list:
        out, start = [], 0
        for shape, size, dtype in zip(self.shapes, self.sizes, self.dtypes):
            piece = flat[start:start + size].reshape(shape)
            start += size
            out.append(piece.astype(dtype) if dtype.kind == "f" and dtype != np.float64 else piece)
        return out

    def unravel(self, flat: Any) -> Any:
        return tree_unflatten(self.treedef, self.unravel_leaves(flat))


def _dtype(leaf: Any) -> np.dtype:
    return np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.result_type(leaf)


def _shape(leaf: Any) -> tuple[int, ...]:
    return tuple(leaf.shape) if hasattr(leaf, "shape") else ()


def _check_leaves(leaves: Sequence[Any], what: str, fname: str) -> None:
    for leaf in leaves:
        if isinstance(leaf, Tracer):
            continue
        if isinstance(leaf, (bool, int, float, complex, np.number, np.bool_)):
            continue
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biufc":
            continue
        raise TypeError(
            f"{fname}: every leaf of {what} must be an array or a number; got {type(leaf).__name__} "
            f"({leaf!r:.60}). Pass other settings to `fun` through a closure or functools.partial."
        )


def _is_param(leaf: Any) -> bool:
    """A real floating-point leaf of ``args``: a parameter the solution is differentiable in."""
    return _dtype(leaf).kind == "f"


class _Spec:
    """``fun`` on flat vectors, ``f(x, theta, *others)``, and the jitted helpers SciPy calls. Shared
    by every call with the same function and argument layout (see :func:`_spec`), so repeated
    solves do not trace again."""

    def __init__(self, kind: str, fun: Callable[..., Any], x_layout: _Layout, args_treedef: PyTreeDef,
                 param_mask: Sequence[bool], theta_layout: _Layout) -> None:
        self.kind = kind
        self.fun = fun
        self.x_layout = x_layout
        self.args_treedef = args_treedef
        self.param_mask = tuple(param_mask)
        self.theta_layout = theta_layout
        self._compiled: dict[str, Callable[..., Any]] = {}
        self._eager = False
        self._lock = threading.Lock()

    # the user's function on flat vectors (funcgrad operations only, so it traces)
    def call(self, x: Any, theta: Any, *others: Any) -> Any:
        params = iter(self.theta_layout.unravel_leaves(theta))
        rest = iter(others)
        leaves = [next(params) if is_p else next(rest) for is_p in self.param_mask]
        args = tree_unflatten(self.args_treedef, leaves)
        out = self.fun(self.x_layout.unravel(x), *args)
        if self.kind == "minimize":
            if np.ndim(out) != 0 and getattr(out, "shape", ()) != ():
                raise TypeError(f"minimize: fun must return a scalar; it returned shape {np.shape(out)}. "
                                "Reduce it (e.g. funcgrad.numpy.sum) or use root for systems of equations.")
            return out
        leaves_out, out_tree = tree_flatten(out)
        flat = _Layout(leaves_out, out_tree).ravel(leaves_out)
        if flat.shape != (self.x_layout.size,):
            raise ValueError(f"root: fun must return as many values as x0 has ({self.x_layout.size}); "
                             f"it returned {flat.shape[0]}.")
        return flat

    def condition(self, x: Any, theta: Any, *others: Any) -> Any:
        """``g(x, θ)``, zero at the solution: the gradient for ``minimize``, ``fun`` for ``root``."""
        from ..api import grad

        if self.kind == "minimize":
            return grad(self.call)(x, theta, *others)
        return self.call(x, theta, *others)

    def compiled(self, name: str) -> Callable[..., Any]:
        """Jitted helpers for SciPy (built once per problem), returning NumPy values."""
        with self._lock:
            if name not in self._compiled:
                self._compiled[name] = self._build(name)
            fn = self._compiled[name]

        def concrete(*a: Any) -> Any:
            out = fn(*a)
            if any(isinstance(v, Tracer) for v in tree_flatten(out)[0]):
                raise TypeError(
                    f"{self.kind}: fun uses a traced value it did not receive as an argument (a parameter "
                    "being differentiated, captured by a closure or a global). Pass it through args=(...) so "
                    "that the solution is differentiable with respect to it, or wrap it in funcgrad.stop_gradient."
                )
            return out

        return concrete

    def _build(self, name: str) -> Callable[..., Any]:
        from ..api import jvp, value_and_grad, vjp
        from ..jacobians import hessian, jacfwd
        from ..jit import jit

        if name == "value_and_grad":
            fn = value_and_grad(self.call)
        elif name == "hessp":
            fn = lambda x, p, *a: jvp(lambda y: self.condition(y, *a), (x,), (p,))[1]
        elif name == "hess":
            fn = hessian(self.call)
        elif name == "fun":
            fn = self.call
        elif name == "jac":
            fn = jacfwd(self.call)
        elif name == "jvp_x":  # ∂g/∂x · p
            fn = lambda x, p, *a: jvp(lambda y: self.condition(y, *a), (x,), (p,))[1]
        elif name == "vjp_x":  # (∂g/∂x)ᵀ · c
            fn = lambda x, c, *a: vjp(lambda y: self.condition(y, *a), x)[1](c)[0]
        else:  # pragma: no cover
            raise KeyError(name)
        jitted = jit(fn)

        def run(*a: Any) -> Any:
            if not self._eager:
                try:
                    return jitted(*a)
                except ConcretizationError:  # Python control flow on values: trace eagerly instead
                    self._eager = True
            return fn(*a)

        return run



_SPECS: OrderedDict = OrderedDict()
_SPECS_LOCK = threading.Lock()
_SPECS_SIZE = 32


def _spec(kind: str, fun: Callable[..., Any], x_layout: _Layout, args_treedef: PyTreeDef,
          param_mask: Sequence[bool], theta_layout: _Layout) -> _Spec:
    """The shared :class:`_Spec` for this function and layout (an LRU of the last 32)."""
    key: Any = (kind, fun, x_layout.key(), args_treedef, tuple(param_mask), theta_layout.key())
    try:
        hash(key)
    except TypeError:  # an unhashable callable: no sharing
        return _Spec(kind, fun, x_layout, args_treedef, param_mask, theta_layout)
    with _SPECS_LOCK:
        spec = _SPECS.get(key)
        if spec is None:
            spec = _SPECS[key] = _Spec(kind, fun, x_layout, args_treedef, param_mask, theta_layout)
            if len(_SPECS) > _SPECS_SIZE:
                _SPECS.popitem(last=False)
        else:
            _SPECS.move_to_end(key)
        return spec


class _Problem:
    """One ``minimize``/``root`` call except its arrays: a primitive parameter, hashed by identity."""

    def __init__(self, spec: _Spec, scipy_kwargs: dict) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.fun = spec.fun
        self.x_layout = spec.x_layout
        self.call = spec.call
        self.condition = spec.condition
        self.compiled = spec.compiled
        self.scipy_kwargs = scipy_kwargs
        self.info = _MIN_INFO if spec.kind == "minimize" else _ROOT_INFO
        self.constrained = bool(scipy_kwargs.get("bounds") is not None or scipy_kwargs.get("constraints"))
        self.last_result: Any = None

    # --- the SciPy call ---------------------------------------------------------------------------
    def solve(self, x0: np.ndarray, theta: np.ndarray, others: Sequence[Any]) -> Any:
        opt = scipy_module("optimize")
        if self.x_layout.size == 0:  # SciPy rejects empty vectors; the empty x is the solution
            return OptimizeResult(x=np.zeros(0), success=True, status=0, nit=0, nfev=0, njev=0, nhev=0,
                                  message="x0 has no elements: nothing to solve")
        x0 = np.asarray(x0, np.float64)
        extra = (np.asarray(theta), *others)
        kw = dict(self.scipy_kwargs)
        if self.kind == "root":
            method = str(kw.get("method") or "hybr").lower()
            if method in _ROOT_JAC_METHODS:
                fun, jac = self.compiled("fun"), self.compiled("jac")
                return opt.root(lambda x, *a: (np.asarray(fun(x, *a), np.float64), np.asarray(jac(x, *a), np.float64)),
                                x0, args=extra, jac=True, **kw)
            fun = self.compiled("fun")
            return opt.root(lambda x, *a: np.asarray(fun(x, *a), np.float64), x0, args=extra, **kw)
        method_arg = kw.get("method")
        name = (method_arg if isinstance(method_arg, str) else "bfgs").lower()
        if callable(method_arg) or name in _JAC_METHODS or method_arg is None:
            vg = self.compiled("value_and_grad")

            def value_grad(x: np.ndarray, *a: Any) -> tuple[float, np.ndarray]:
                v, g = vg(x, *a)
                return float(v), np.asarray(g, np.float64)

            kw["jac"] = True
            if name in _HESSP_METHODS:
                hp = self.compiled("hessp")
                kw["hessp"] = lambda x, p, *a: np.asarray(hp(x, np.asarray(p, np.float64), *a), np.float64)
            elif name in _HESS_METHODS:
                h = self.compiled("hess")
                kw["hess"] = lambda x, *a: np.asarray(h(x, *a), np.float64)
            return opt.minimize(value_grad, x0, args=extra, **kw)
        fun = self.compiled("fun")
        return opt.minimize(lambda x, *a: float(fun(x, *a)), x0, args=extra, **kw)

    def pack(self, res: Any) -> np.ndarray:
        info = [float(getattr(res, k, -1) if getattr(res, k, None) is not None else -1) for k in self.info]
        return np.concatenate([np.asarray(res.x, np.float64).ravel(), np.asarray(info, np.float64)])


# --- the primitive: (x0, θ, *others) -> [x*, info] ----------------------------------------------------


def _impl(x0: Any, theta: Any, *others: Any, problem: _Problem) -> np.ndarray:
    res = problem.solve(x0, theta, others)
    problem.last_result = res  # what an eager call reports beyond the packed arrays (message, jac, ...)
    return problem.pack(res)


def _abstract(x0: Any, theta: Any, *others: Any, problem: _Problem) -> ShapedArray:
    return ShapedArray((problem.x_layout.size + len(problem.info),), np.dtype(np.float64))


def _solution(out: Any, problem: _Problem) -> Any:
    return out[:problem.x_layout.size]


def _refuse_constrained(problem: _Problem) -> None:
    if problem.constrained:
        raise ValueError(
            f"{problem.kind}: the solution is not differentiable through bounds or constraints (the implicit "
            "function theorem used here ignores active constraints). Wrap the parameters in "
            "funcgrad.stop_gradient, or write the constraint into fun (a penalty or a change of variables)."
        )


# Above this many unknowns, first-order derivatives on concrete values solve the linear system
# iteratively with Jacobian-vector products (CG for minimize, GMRES for root) instead of forming
# ∂g/∂x densely. Higher orders, jit and vmap (traced values) use the dense funcgrad solve.
_DENSE_MAX = 64


def _solve_linear(problem: _Problem, x: Any, theta: Any, others: tuple, rhs: Any, transpose: bool) -> Any:
    """``v`` with ``A v = rhs`` (``Aᵀ v = rhs`` if ``transpose``), ``A = ∂g/∂x`` at the solution."""
    from .. import numpy as fnp
    from ..jacobians import jacfwd

    n = problem.x_layout.size
    if n == 0:
        return np.zeros(0)
    if n > _DENSE_MAX and not any(isinstance(v, Tracer) for v in (x, theta, rhs, *others)):
        v = _solve_iteratively(problem, x, theta, others, np.asarray(rhs, np.float64), transpose)
        if v is not None:
            return v
    a = jacfwd(problem.condition)(x, theta, *others)
    return fnp.linalg.solve(fnp.swapaxes(a, 0, 1) if transpose else a, rhs)


def _solve_iteratively(problem: _Problem, x: Any, theta: Any, others: tuple, rhs: np.ndarray,
                       transpose: bool) -> np.ndarray | None:
    spla = scipy_module("sparse.linalg")
    n = problem.x_layout.size
    forward = problem.compiled("hessp" if problem.kind == "minimize" else "jvp_x")
    backward = problem.compiled("hessp" if problem.kind == "minimize" else "vjp_x")
    apply = backward if transpose else forward
    op = spla.LinearOperator((n, n), matvec=lambda p: np.asarray(apply(x, np.ravel(p), theta, *others), np.float64),
                             dtype=np.float64)
    solver = spla.cg if problem.kind == "minimize" else spla.gmres
    tol = 1e-12 * max(float(np.linalg.norm(rhs)), 1e-300)
    try:
        v, info = solver(op, rhs, rtol=0.0, atol=tol, maxiter=10 * n)
    except TypeError:  # SciPy < 1.12 calls rtol `tol`
        v, info = solver(op, rhs, tol=0.0, atol=tol, maxiter=10 * n)
    return np.asarray(v) if info == 0 else None  # not converged: fall back to the dense solve


def _jvp_theta(t: Any, out: Any, x0: Any, theta: Any, *others: Any, problem: _Problem) -> Any:
    from .. import numpy as fnp
    from ..api import jvp

    _refuse_constrained(problem)
    x = _solution(out, problem)
    _, b = jvp(lambda th: problem.condition(x, th, *others), (theta,), (t,))
    x_dot = -_solve_linear(problem, x, theta, others, b, transpose=False)
    return fnp.concatenate([x_dot, fnp.zeros(len(problem.info))])


def _vjp_theta(ct: Any, out: Any, x0: Any, theta: Any, *others: Any, problem: _Problem) -> Any:
    from ..api import vjp

    _refuse_constrained(problem)
    x = _solution(out, problem)
    v = _solve_linear(problem, x, theta, others, _solution(ct, problem), transpose=True)
    _, pullback = vjp(lambda th: problem.condition(x, th, *others), theta)
    return -pullback(v)[0]


def _zero_jvp(t: Any, out: Any, *primals: Any, problem: _Problem) -> Any:
    return np.zeros(out.shape)  # the solution does not depend on the starting point


def _zero_vjp(index: int) -> Callable[..., Any]:
    def rule(ct: Any, out: Any, *primals: Any, problem: _Problem) -> Any:
        return np.zeros(np.shape(primals[index]))

    return rule


def _batch(args: tuple, dims: tuple, *, problem: _Problem) -> tuple[Any, int]:
    from .. import numpy as fnp
    from ..prims.factories import batch_to_front

    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    moved = [batch_to_front(a, d) if d is not None else a for a, d in zip(args, dims)]
    outs = [solve_p.bind(*[a[i] if d is not None else a for a, d in zip(moved, dims)], problem=problem)
            for i in range(size)]
    return fnp.stack(outs), 0


# Operands: x0 (no derivative: the solution does not depend on the start), θ (implicit function
# theorem), then the non-float leaves of ``args`` (no derivative).
_MAX_OTHERS = 256

solve_p = Primitive(
    "scipy_optimize_solve",
    _impl,
    jvp=(_zero_jvp, _jvp_theta) + (_zero_jvp,) * _MAX_OTHERS,
    vjp=(_zero_vjp(0), _vjp_theta) + tuple(_zero_vjp(i) for i in range(2, 2 + _MAX_OTHERS)),
    batch=_batch,
    abstract_eval=_abstract,
)


# --- public functions ---------------------------------------------------------------------------------


def _setup(kind: str, fun: Callable[..., Any], x0: Any, args: Any, scipy_kwargs: dict) -> tuple:
    if not callable(fun):
        raise TypeError(f"{kind}: fun must be callable; got {type(fun).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    x_leaves, x_tree = tree_flatten(x0)
    _check_leaves(x_leaves, "x0", kind)
    for leaf in x_leaves:
        if _dtype(leaf).kind == "c":
            raise TypeError(f"{kind}: x0 must be real; SciPy's solvers work on real vectors. Split a complex "
                            "unknown into real and imaginary parts.")
    arg_leaves, args_tree = tree_flatten(args)
    _check_leaves(arg_leaves, "args", kind)
    mask = [_is_param(leaf) for leaf in arg_leaves]
    params = [leaf for leaf, m in zip(arg_leaves, mask) if m]
    others = [leaf for leaf, m in zip(arg_leaves, mask) if not m]
    if len(others) > _MAX_OTHERS:
        raise ValueError(f"{kind}: args has {len(others)} non-floating-point leaves; at most {_MAX_OTHERS} are "
                         "supported. Stack them into arrays.")
    x_layout = _Layout(x_leaves, x_tree)
    theta_layout = _Layout(params, tree_flatten(params)[1])
    problem = _Problem(_spec(kind, fun, x_layout, args_tree, mask, theta_layout), scipy_kwargs)
    return problem, x_layout.ravel(x_leaves), theta_layout.ravel(params), others


def _result(problem: _Problem, packed: Any, args: tuple) -> Any:
    n = problem.x_layout.size
    fields: dict[str, Any] = {"x": problem.x_layout.unravel(packed[:n])}
    for i, name in enumerate(problem.info):
        v = packed[n + i]
        fields[name] = v.astype(bool) if name == "success" else v.astype(np.int64)
    fields["fun"] = problem.fun(fields["x"], *args)
    return OptimizeResult(**fields)


def _run(problem: _Problem, x0: Any, theta: Any, others: list, args: tuple) -> Any:
    if not any(isinstance(a, Tracer) for a in (x0, theta, *others)):
        solve_p.impl(x0, theta, *others, problem=problem)
        res = OptimizeResult(problem.last_result)  # concrete: keep everything SciPy reports
        res.x = problem.x_layout.unravel(np.asarray(res.x, np.float64))
        if problem.kind == "minimize" and "jac" in res and np.shape(res["jac"]) == (problem.x_layout.size,):
            res.jac = problem.x_layout.unravel(np.asarray(res.jac, np.float64))
        if problem.kind == "root" or "fun" not in res:
            res.fun = problem.fun(res.x, *args)
        return res
    return _result(problem, solve_p.bind(x0, theta, *others, problem=problem), args)


def minimize(
    fun: Callable[..., Any],
    x0: Any,
    args: Any = (),
    *,
    method: str | Callable[..., Any] | None = None,
    tol: float | None = None,
    options: dict | None = None,
    bounds: Any = None,
    constraints: Any = (),
    callback: Callable[..., Any] | None = None,
) -> Any:
    """Minimise ``fun(x, *args)`` over a pytree ``x`` with ``scipy.optimize.minimize``.

    The gradient (``jac``) comes from a jitted ``value_and_grad`` of ``fun``; methods that use a
    Hessian get ``hessp`` (forward-over-reverse) or ``hess``. ``fun`` is written with
    ``funcgrad.numpy`` and returns a scalar.

    Returns SciPy's ``OptimizeResult`` with ``x`` in ``x0``'s structure (and dtype). Called with
    traced ``args`` (inside ``grad``, ``jvp``, ``jit``, ``vmap``), ``x`` is differentiable with
    respect to the floating-point leaves of ``args`` by the implicit function theorem, and
    ``success``, ``status``, ``nit``, ``nfev``, ``njev``, ``nhev`` and ``fun`` are arrays (there is no
    ``message``). ``bounds`` apply to the flattened ``x`` (leaves in ``tree_flatten`` order); the
    functions of ``constraints`` and ``callback`` receive the flat vector.

    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> def f(x, a):
    ...     return fnp.sum((x["u"] - a) ** 2) + fnp.sum(x["v"] ** 2)
    >>> res = minimize(f, {"u": np.zeros(2), "v": np.ones(1)}, args=(np.array([1.0, 2.0]),))
    >>> np.round(res.x["u"], 6), np.round(res.x["v"], 6)
    (array([1., 2.]), array([0.]))
    >>> argmin = lambda a: minimize(f, {"u": np.zeros(2), "v": np.ones(1)}, args=(a,)).x["u"]
    >>> np.round(fg.jacrev(argmin)(np.array([1.0, 2.0])), 6) + 0.0   # x*(a) = a: the identity
    array([[1., 0.],
           [0., 1.]])
    """
    if not isinstance(args, tuple):
        args = (args,)
    kw: dict[str, Any] = {"method": method, "tol": tol, "options": options, "callback": callback}
    if bounds is not None:
        kw["bounds"] = bounds
    if constraints:
        kw["constraints"] = constraints
    problem, x0_flat, theta, others = _setup("minimize", fun, x0, args, kw)
    return _run(problem, x0_flat, theta, others, args)


def root(
    fun: Callable[..., Any],
    x0: Any,
    args: Any = (),
    *,
    method: str = "hybr",
    tol: float | None = None,
    options: dict | None = None,
    callback: Callable[..., Any] | None = None,
) -> Any:
    """Solve ``fun(x, *args) = 0`` for a pytree ``x`` with ``scipy.optimize.root``.

    ``fun`` returns a pytree with as many values in total as ``x0`` has; the Jacobian SciPy's
    ``'hybr'`` and ``'lm'`` methods use comes from a jitted ``jacfwd``. Returns SciPy's
    ``OptimizeResult`` with ``x`` in ``x0``'s structure; with traced ``args`` the root is
    differentiable in them by the implicit function theorem (see :func:`minimize`).

    >>> import numpy as np, funcgrad as fg
    >>> cube_root = lambda a: root(lambda x, a: x ** 3 - a, np.array(1.0), args=(a,), tol=1e-12).x
    >>> round(float(cube_root(8.0)), 8), round(float(fg.grad(cube_root)(8.0)), 8)   # d/da a^(1/3) = 1/12
    (2.0, 0.08333333)
    """
    if not isinstance(args, tuple):
        args = (args,)
    kw = {"method": method, "tol": tol, "options": options, "callback": callback}
    problem, x0_flat, theta, others = _setup("root", fun, x0, args, kw)
    return _run(problem, x0_flat, theta, others, args)
