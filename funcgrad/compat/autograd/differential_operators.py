"""autograd's differential operators (``grad``, ``jacobian``, ``make_vjp``, …) on funcgrad.

Each takes ``fun`` and ``argnum`` (an int, or a tuple of ints: then the derivative is taken with
respect to the tuple of those arguments and returned as a tuple) and returns a function of the
same arguments as ``fun``, as autograd's do. Gradients with respect to Python or NumPy scalars
are NumPy scalars, as in autograd; everything else is an array or a pytree of arrays.
"""

from __future__ import annotations

import collections
import functools
import inspect
import math
import warnings
from typing import Any, Callable

import numpy as np

from ... import numpy as fnp
from ...api import vjp as _vjp
from ...core import Tracer
from ...custom import checkpoint as _checkpoint
from ...errors import ArgnumsError, IntegerInputError, NonScalarOutputError
from ...tree_util import tree_leaves, tree_map

__all__ = [
    "grad", "elementwise_grad", "value_and_grad", "grad_and_aux", "jacobian", "hessian",
    "hessian_tensor_product", "hessian_vector_product", "make_hvp", "make_ggnvp", "make_vjp", "make_jvp",
    "tensor_jacobian_product", "vector_jacobian_product", "holomorphic_grad", "multigrad_dict", "checkpoint",
    "deriv", "grad_named", "make_jvp_reversemode",
]

_SCALARS = (float, complex, int, np.generic)


def _select(fun: Callable[..., Any], argnum: Any, args: tuple, kwargs: dict) -> tuple[Callable[[Any], Any], Any]:
    """``fun`` as a function of one value ``x`` (``args[argnum]``, or a tuple of arguments)."""
    name = getattr(fun, "__name__", type(fun).__name__)

    def check(i: Any) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise ArgnumsError(f"argnum must be an int or a tuple of ints, got {i!r} ({type(i).__name__}).")
        if not -len(args) <= int(i) < len(args):
            raise ArgnumsError(
                f"argnum={argnum!r} names argument {int(i)}, but {name} was called with {len(args)} "
                "positional argument(s). Keyword arguments are never differentiated; pass the value "
                "positionally.")
        return int(i) % len(args)

    if isinstance(argnum, (tuple, list)):
        nums = [check(i) for i in argnum]

        def unary_many(xs: Any) -> Any:
            full = list(args)
            for i, v in zip(nums, xs):
                full[i] = v
            return fun(*full, **kwargs)

        return unary_many, tuple(args[i] for i in nums)
    n = check(argnum)

    def unary(x: Any) -> Any:
        full = list(args)
        full[n] = x
        return fun(*full, **kwargs)

    return unary, args[n]


def _nary(op: Callable[..., Any]) -> Callable[..., Callable[..., Any]]:
    """``op(unary_fun, x, *extra)`` as autograd's ``op(fun, argnum=0, *extra)(*args, **kwargs)``."""

    @functools.wraps(op)
    def make(fun: Callable[..., Any], argnum: Any = 0, *op_args: Any, **op_kwargs: Any) -> Callable[..., Any]:
        @functools.wraps(fun)
        def transformed(*args: Any, **kwargs: Any) -> Any:
            unary, x = _select(fun, argnum, args, kwargs)
            return op(unary, x, *op_args, **op_kwargs)

        return transformed

    return make


def _like_input(ct: Any, x: Any) -> Any:
    """A derivative with respect to a scalar is a NumPy scalar (autograd's types); arrays stay."""
    if type(x) is np.ndarray:
        return ct

    def one(c: Any, xi: Any) -> Any:
        if isinstance(xi, _SCALARS) and type(c) is np.ndarray and c.ndim == 0:
            return c[()]
        return c

    return tree_map(one, ct, x)


def _scalar_value(v: Any) -> Any:
    return v[()] if type(v) is np.ndarray and v.ndim == 0 else v


def _coerce_like(g: Any, out: Any) -> Any:
    """A user's cotangent in the output's dtype (autograd accepts e.g. float64 for a float32 output)."""
    def one(c: Any, o: Any) -> Any:
        if isinstance(c, Tracer) or not hasattr(o, "dtype"):
            return c
        return np.asarray(c, dtype=o.dtype)

    try:
        return tree_map(one, g, out)
    except Exception:  # a structure mismatch: let the pullback explain it
        return g


def _refuse_integers(x: Any) -> None:
    """autograd's ``TypeError`` for a value with no vector space of derivatives (an int or bool,
    or an integer array), instead of funcgrad's zero ``float0`` derivative."""
    if type(x) is np.ndarray and x.dtype.kind in "fc":
        return
    for leaf in tree_leaves(x):
        kind = leaf.dtype.kind if hasattr(leaf, "dtype") else np.asarray(leaf).dtype.kind
        if kind in "biu":
            raise IntegerInputError(
                f"Can't differentiate w.r.t. type {type(leaf)} (as autograd): derivatives need floating-point "
                "inputs. Pass 2.0 instead of 2, or x.astype(float).")


def _make_vjp(fun: Callable[[Any], Any], x: Any) -> tuple[Callable[[Any], Any], Any]:
    _refuse_integers(x)
    out, pullback = _vjp(fun, x)

    def vjp(g: Any) -> Any:
        return _like_input(pullback(_coerce_like(g, out))[0], x)

    return vjp, out


def _ones_like(v: Any) -> Any:
    return np.ones(np.shape(v), v.dtype if hasattr(v, "dtype") else np.float64)


def _require_scalar(ans: Any, who: str) -> None:
    if not hasattr(ans, "shape") or math.prod(ans.shape) != 1:
        got = f"shape {tuple(ans.shape)}" if hasattr(ans, "shape") else f"a {type(ans).__name__}"
        raise NonScalarOutputError(
            f"{who} only applies to real scalar-output functions, but the function returned {got}. "
            "Try jacobian, elementwise_grad or holomorphic_grad.")


@_nary
def make_vjp(fun: Callable[[Any], Any], x: Any) -> tuple[Callable[[Any], Any], Any]:
    """``make_vjp(fun, argnum)(*args)`` returns ``(vjp, ans)``; ``vjp(g)`` is gᵀ·J for the argument.

    >>> import numpy as np
    >>> vjp, ans = make_vjp(lambda x: x * 3.0)(np.array([1.0, 2.0]))
    >>> vjp(np.array([1.0, 0.5]))
    array([3. , 1.5])
    """
    vjp, ans = _make_vjp(fun, x)
    return vjp, _scalar_value(ans)


@_nary
def make_jvp(fun: Callable[[Any], Any], x: Any) -> Callable[[Any], tuple[Any, Any]]:
    """``make_jvp(fun, argnum)(*args)`` returns ``jvp``; ``jvp(v)`` is ``(ans, J·v)`` (forward mode).

    >>> import numpy as np
    >>> make_jvp(lambda x: x ** 2)(np.array([3.0]))(np.array([1.0]))
    (array([9.]), array([6.]))
    """
    from ...api import jvp as _jvp

    _refuse_integers(x)

    def jvp(v: Any) -> tuple[Any, Any]:
        ans, tangent = _jvp(fun, (x,), (_coerce_like(v, x if hasattr(x, "dtype") else np.asarray(x)),))
        return tree_map(_scalar_value, ans), tree_map(_scalar_value, tangent)

    return jvp


@_nary
def grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """The gradient of scalar-valued ``fun`` with respect to argument ``argnum``.

    >>> import numpy as np
    >>> grad(lambda x, y: (x * y).sum(), 1)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array([1., 2.])
    """
    vjp, ans = _make_vjp(fun, x)
    _require_scalar(ans, "grad")
    return vjp(_ones_like(ans))


@_nary
def elementwise_grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """The sum of the Jacobian's rows (its diagonal for elementwise ``fun``), in one pass.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> elementwise_grad(fnp.sin)(np.array([0.0, np.pi]))
    array([ 1., -1.])
    """
    vjp, ans = _make_vjp(fun, x)
    if np.iscomplexobj(ans) if not isinstance(ans, Tracer) else ans.dtype.kind == "c":
        raise NonScalarOutputError("elementwise_grad only applies to real-output functions.")
    return vjp(tree_map(_ones_like, ans))


@_nary
def value_and_grad(fun: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """``(fun(*args), grad(fun)(*args))`` in one pass (suitable for ``scipy.optimize``).

    >>> import numpy as np
    >>> value_and_grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
    """
    vjp, ans = _make_vjp(fun, x)
    _require_scalar(ans, "value_and_grad")
    return _scalar_value(ans), vjp(_ones_like(ans))


@_nary
def grad_and_aux(fun: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """For ``fun`` returning ``(value, aux)``: ``(grad of value, aux)``.

    >>> import numpy as np
    >>> grad_and_aux(lambda x: ((x ** 2).sum(), "aux"))(np.array([1.0]))
    (array([2.]), 'aux')
    """
    _refuse_integers(x)
    out, pullback, aux = _vjp(fun, x, has_aux=True)
    _require_scalar(out, "grad_and_aux")
    return _like_input(pullback(_ones_like(out))[0], x), aux


def _stack_rows(rows: list, shape: tuple) -> Any:
    if any(isinstance(r, Tracer) for r in rows):
        return fnp.reshape(fnp.stack(rows), shape)
    return np.reshape(np.stack([np.asarray(r) for r in rows]), shape)


@_nary
def jacobian(fun: Callable[[Any], Any], x: Any) -> Any:
    """The Jacobian, of shape ``out.shape + x.shape``: one pullback per output element (as in
    autograd, so Python control flow in ``fun`` is fine).

    >>> import numpy as np
    >>> jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if type(x) is np.ndarray and x.dtype.kind in "biu":
        x = x.astype(np.float64)  # autograd's jacobian accepts an integer array
    if isinstance(x, (tuple, list, dict)):
        raise TypeError("jacobian differentiates with respect to one array argument (as in autograd); "
                        "for several arguments call it once per argnum, or use funcgrad.jacrev.")
    vjp, ans = _make_vjp(fun, x)
    if not hasattr(ans, "shape"):
        raise TypeError(f"jacobian needs an array output, got a {type(ans).__name__}; use funcgrad.jacrev "
                        "for pytree outputs.")
    out_shape, x_shape = tuple(ans.shape), tuple(np.shape(x))
    n = math.prod(out_shape)
    if n == 0:
        return np.zeros(out_shape + x_shape, np.result_type(ans.dtype, np.asarray(x).dtype))
    basis = np.eye(n, dtype=ans.dtype).reshape((n,) + out_shape)
    return _stack_rows([vjp(b) for b in basis], out_shape + x_shape)


@_nary
def hessian(fun: Callable[[Any], Any], x: Any) -> Any:
    """The exact Hessian (the Jacobian of the Jacobian).

    >>> import numpy as np
    >>> hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacobian(jacobian(fun))(x)


@_nary
def make_hvp(fun: Callable[[Any], Any], x: Any) -> tuple[Callable[[Any], Any], Any]:
    """``(hvp, grad_value)``: ``hvp(v)`` is the Hessian-vector product at ``x``, reusing one
    forward pass for many ``v``.

    >>> import numpy as np
    >>> hvp, g = make_hvp(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    >>> hvp(np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    return _make_vjp(grad(fun), x)


@_nary
def make_jvp_reversemode(fun: Callable[[Any], Any], x: Any) -> Callable[[Any], Any]:
    """``jvp(v) = J·v`` computed by reverse mode twice (the pullback of the linear pullback), for
    functions whose forward mode is unavailable.

    >>> import numpy as np
    >>> make_jvp_reversemode(lambda x: x ** 2)(np.array([1.0, 3.0]))(np.array([1.0, 1.0]))
    array([2., 6.])
    """
    vjp, ans = _make_vjp(fun, x)
    zeros = tree_map(lambda v: np.zeros(np.shape(v), v.dtype if hasattr(v, "dtype") else np.float64), ans)
    jvp, _ = _make_vjp(vjp, zeros)
    return jvp


@_nary
def deriv(fun: Callable[[Any], Any], x: Any) -> Any:
    """The forward-mode derivative along ones (for a scalar ``x``: ``fun'(x)``).

    >>> float(deriv(lambda x: x ** 3)(2.0))
    12.0
    """
    v = np.ones(np.shape(x), np.asarray(x).dtype)
    return make_jvp(fun)(x)(v)[1]


@_nary
def holomorphic_grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """``f'(z)`` for a holomorphic ``fun`` of a complex argument.

    >>> complex(holomorphic_grad(lambda z: z ** 2)(1.0 + 2.0j))
    (2+4j)
    """
    if not np.iscomplexobj(x) if not isinstance(x, Tracer) else x.dtype.kind != "c":
        warnings.warn("Input to holomorphic_grad is not complex", stacklevel=3)
    return grad(lambda z: fnp.real(fun(z)))(x)


def hessian_tensor_product(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """A function of ``(*args, tensor)`` giving the Hessian of ``fun`` contracted with ``tensor``.

    >>> import numpy as np
    >>> hessian_tensor_product(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        return fnp.tensordot(fun_grad(*args, **kwargs), vector, np.ndim(vector))

    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """A function of ``(*args, tensor)`` giving ``tensor`` contracted with the Jacobian's leading axes.

    >>> import numpy as np
    >>> tensor_jacobian_product(lambda x: x ** 2)(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([2., 4.])
    """

    def vector_dot_fun(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        return fnp.tensordot(vector, fun(*args, **kwargs), axes=np.ndim(vector))

    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def _half_sum_of_squares(x: Any) -> Any:
    return 0.5 * fnp.sum(x ** 2, axis=-1)


def make_ggnvp(f: Callable[..., Any], g: Callable[[Any], Any] = _half_sum_of_squares,
               f_argnum: int = 0) -> Callable[..., Callable[[Any], Any]]:
    """Generalised Gauss-Newton-vector products of ``g ∘ f``: ``make_ggnvp(f, g)(*args)(v)`` is
    ``Jᵀ·H_g·J·v`` (J the Jacobian of ``f``, H_g the Hessian of ``g`` at ``f(x)``).

    >>> import numpy as np
    >>> make_ggnvp(lambda x: 2.0 * x)(np.array([1.0, 2.0]))(np.array([1.0, 0.0]))
    array([4., 0.])
    """

    def build(fun: Callable[[Any], Any], x: Any) -> Callable[[Any], Any]:
        f_vjp, f_x = _make_vjp(fun, x)
        g_hvp, grad_g_x = _make_vjp(grad(g), f_x)
        zeros = tree_map(lambda v: np.zeros(np.shape(v), v.dtype), grad_g_x)
        # J·v as the pullback of the (linear) pullback: reverse mode only, as in autograd.
        f_jvp, _ = _make_vjp(f_vjp, zeros)

        def ggnvp(v: Any) -> Any:
            return f_vjp(g_hvp(f_jvp(v)))

        return ggnvp

    return _nary(build)(f, f_argnum)


def multigrad_dict(fun: Callable[..., Any]) -> Callable[..., Any]:
    """Gradients with respect to every argument at once, as an ordered dict by argument name.

    >>> import numpy as np
    >>> dict(multigrad_dict(lambda a, b: a * b)(2.0, 3.0))
    {'a': np.float64(3.0), 'b': np.float64(2.0)}
    """
    sig = inspect.signature(fun)
    params = sig.parameters

    def gradfun(*args: Any, **kwargs: Any) -> collections.OrderedDict:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        values = collections.OrderedDict(bound.arguments)

        def of_dict(d: dict) -> Any:
            pos, kw = [], {}
            for name, p in params.items():
                if p.kind is p.VAR_POSITIONAL:
                    pos.extend(d[name])
                elif p.kind is p.VAR_KEYWORD:
                    kw.update(d[name])
                elif p.kind is p.KEYWORD_ONLY:
                    kw[name] = d[name]
                else:
                    pos.append(d[name])
            return fun(*pos, **kw)

        grads = grad(of_dict)(dict(values))
        return collections.OrderedDict((name, grads[name]) for name in values)

    return gradfun


def grad_named(fun: Callable[..., Any], argname: str) -> Callable[..., Any]:
    """The gradient with respect to the argument called ``argname``.

    >>> float(grad_named(lambda x, y: x * y, "y")(2.0, 3.0))
    2.0
    """
    names = [p.name for p in inspect.signature(fun).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if argname not in names:
        raise ArgnumsError(f"grad_named: {argname!r} is not a positional parameter of the function "
                           f"(its positional parameters are {names}).")
    return grad(fun, names.index(argname))


def checkpoint(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` whose intermediate values are recomputed in the backward pass instead of kept
    (funcgrad's :func:`funcgrad.checkpoint`; non-array arguments need ``funcgrad.checkpoint``'s
    ``static_argnums``).

    >>> import numpy as np
    >>> float(grad(lambda x: checkpoint(lambda y: (y ** 2).sum())(x))(np.array(3.0)))
    6.0
    """
    return _checkpoint(fun)
