"""``funcgrad.compat.autograd.extend``: define new primitives with their own derivatives, as in
autograd.

``@primitive`` makes a function an operation funcgrad does not look inside; ``defvjp`` and
``defjvp`` give its reverse- and forward-mode rules in autograd's form (``vjp_maker(ans, *args,
**kwargs)`` returns ``lambda g: ...``; ``jvp(g, ans, *args, **kwargs)``). Rules written with
``funcgrad.compat.autograd.numpy`` are themselves differentiable, so higher derivatives work.
Under ``vmap`` (e.g. inside ``funcgrad.jacrev``) a primitive runs once per batch element.

>>> import numpy
>>> import funcgrad.compat.autograd.numpy as np
>>> from funcgrad.compat.autograd import grad
>>> @primitive
... def cube(x):
...     return numpy.power(x, 3)
>>> defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
>>> float(grad(cube)(2.0))
12.0
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterator

import numpy as np

from ... import numpy as fnp
from ...core import Primitive, Tracer
from ...errors import CustomRuleError
from ...tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "primitive", "notrace_primitive", "defvjp", "defjvp", "defvjp_argnum", "defvjp_argnums", "defjvp_argnum",
    "defjvp_argnums", "def_linear", "Box", "VSpace", "vspace", "SparseObject", "getval", "subval",
]

_PRIMITIVE_ATTR = "_funcgrad_autograd_primitive"


class _RuleTable:
    """One rule per operand position, indexable like ``Primitive.jvp``/``Primitive.vjp``: rules set
    per argnum first, then the generic ``make(argnum)`` (``defvjp_argnum``), else None (no rule)."""

    __slots__ = ("by_argnum", "make")

    def __init__(self) -> None:
        self.by_argnum: dict[int, Callable[..., Any]] = {}
        self.make: Callable[[int], Callable[..., Any]] | None = None

    def __getitem__(self, i: int) -> Callable[..., Any] | None:
        rule = self.by_argnum.get(i)
        if rule is None and self.make is not None:
            rule = self.make(i)
        return rule


def subval(x: tuple, i: int, v: Any) -> tuple:
    """``x`` with entry ``i`` replaced by ``v``."""
    return x[:i] + (v,) + x[i + 1:]


def _result(name: str, value: Any) -> Any:
    if type(value) is np.ndarray:
        return value
    if isinstance(value, (np.generic, int, float, complex)):
        return np.asarray(value)
    if isinstance(value, Tracer):
        return value
    raise TypeError(
        f"the primitive {name} returned a {type(value).__name__}; while it is being differentiated "
        "funcgrad.compat.autograd supports primitives that return one array or number. Split it into "
        "one primitive per output.")


def primitive(f: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``f`` (written with plain NumPy/SciPy) as an operation with user-defined derivatives.

    Called without traced arguments it is just ``f``. See :func:`defvjp` and :func:`defjvp`.
    """
    name = getattr(f, "__name__", type(f).__name__)
    jvps, vjps = _RuleTable(), _RuleTable()

    def impl(*args: Any, **kwargs: Any) -> Any:
        return _result(name, f(*args, **kwargs))

    def batch(vals: tuple, dims: tuple, **kwargs: Any) -> tuple[Any, int]:
        size = next(v.shape[d] for v, d in zip(vals, dims) if d is not None)
        moved = [v if d is None else fnp.moveaxis(v, d, 0) for v, d in zip(vals, dims)]
        outs = [prim.bind(*[v if d is None else v[b] for v, d in zip(moved, dims)], **kwargs) for b in range(size)]
        return fnp.stack(outs), 0

    prim = Primitive(f"autograd.{name}", impl, jvp=jvps, vjp=vjps, batch=batch, register=False)

    @functools.wraps(f)
    def f_wrapped(*args: Any, **kwargs: Any) -> Any:
        for a in args:
            if isinstance(a, Tracer):
                return prim.bind(*args, **kwargs)
        return f(*args, **kwargs)

    f_wrapped.fun = f  # type: ignore[attr-defined]
    setattr(f_wrapped, _PRIMITIVE_ATTR, (prim, jvps, vjps))
    return f_wrapped


def _tables(fun: Callable[..., Any], who: str) -> tuple[Primitive, _RuleTable, _RuleTable]:
    found = getattr(fun, _PRIMITIVE_ATTR, None)
    if found is None:
        raise CustomRuleError(
            f"{who} needs a function made with @primitive, got {getattr(fun, '__name__', fun)!r}. Decorate "
            "it with funcgrad.compat.autograd.extend.primitive first.")
    return found


def _zeros_like(x: Any) -> Any:
    return fnp.zeros_like(x) if isinstance(x, Tracer) else np.zeros_like(x)


def defvjp(fun: Callable[..., Any], *vjpmakers: Callable[..., Any] | None, argnums: Any = None) -> None:
    """Reverse-mode rules, one per argument: ``vjpmaker(ans, *args, **kwargs)`` returns the function
    ``g -> cotangent of that argument``; ``None`` means a zero derivative."""
    _, _, vjps = _tables(fun, "defvjp")
    for i, maker in zip(range(len(vjpmakers)) if argnums is None else argnums, vjpmakers):
        if maker is None:
            vjps.by_argnum[i] = lambda ct, ans, *args, _i=i, **kw: _zeros_like(args[_i])
        elif callable(maker):
            vjps.by_argnum[i] = lambda ct, ans, *args, _m=maker, **kw: _m(ans, *args, **kw)(ct)
        else:
            raise CustomRuleError(f"defvjp: the rule for argument {i} must be callable or None, got {maker!r}.")


def defvjp_argnum(fun: Callable[..., Any], vjpmaker: Callable[..., Any]) -> None:
    """One reverse-mode rule for every argument: ``vjpmaker(argnum, ans, args, kwargs)(g)``."""
    _, _, vjps = _tables(fun, "defvjp_argnum")
    vjps.make = lambda i: lambda ct, ans, *args, **kw: vjpmaker(i, ans, args, kw)(ct)


def defvjp_argnums(fun: Callable[..., Any], vjpmaker: Callable[..., Any]) -> None:
    """One joint reverse-mode rule: ``vjpmaker(argnums, ans, args, kwargs)(g)`` returns a tuple of
    cotangents, one per entry of ``argnums``."""
    _, _, vjps = _tables(fun, "defvjp_argnums")
    vjps.make = lambda i: lambda ct, ans, *args, **kw: vjpmaker((i,), ans, args, kw)(ct)[0]


def defjvp(fun: Callable[..., Any], *jvpfuns: Any, argnums: Any = None) -> None:
    """Forward-mode rules, one per argument: ``jvpfun(g, ans, *args, **kwargs)`` is that argument's
    contribution to the output tangent; ``None`` means zero and ``"same"`` means ``fun`` is linear in it.

    >>> import numpy
    >>> from funcgrad.compat.autograd import deriv
    >>> @primitive
    ... def square(x):
    ...     return numpy.square(x)
    >>> defjvp(square, lambda g, ans, x: 2 * x * g)
    >>> float(deriv(square)(3.0))
    6.0
    """
    _, jvps, _ = _tables(fun, "defjvp")
    for i, rule in zip(range(len(jvpfuns)) if argnums is None else argnums, jvpfuns):
        if rule is None:
            jvps.by_argnum[i] = lambda g, ans, *args, **kw: _zeros_like(ans)
        elif isinstance(rule, str) and rule == "same":
            jvps.by_argnum[i] = lambda g, ans, *args, _i=i, **kw: fun(*subval(args, _i, g), **kw)
        elif callable(rule):
            jvps.by_argnum[i] = rule
        else:
            raise CustomRuleError(f"defjvp: the rule for argument {i} must be callable, None or 'same', got {rule!r}.")


def defjvp_argnum(fun: Callable[..., Any], jvpmaker: Callable[..., Any]) -> None:
    """One forward-mode rule for every argument: ``jvpmaker(argnum, g, ans, args, kwargs)``."""
    _, jvps, _ = _tables(fun, "defjvp_argnum")
    jvps.make = lambda i: lambda g, ans, *args, **kw: jvpmaker(i, g, ans, args, kw)


def defjvp_argnums(fun: Callable[..., Any], jvpmaker: Callable[..., Any]) -> None:
    """One joint forward-mode rule: ``jvpmaker(argnums, gs, ans, args, kwargs)``."""
    _, jvps, _ = _tables(fun, "defjvp_argnums")
    jvps.make = lambda i: lambda g, ans, *args, **kw: jvpmaker((i,), (g,), ans, args, kw)


def def_linear(fun: Callable[..., Any]) -> None:
    """Declare ``fun`` linear in each argument: its forward-mode rule is ``fun`` itself."""
    defjvp_argnum(fun, lambda i, g, ans, args, kwargs: fun(*subval(args, i, g), **kwargs))


def getval(x: Any) -> Any:
    """The value beneath any tracing (autograd's ``getval``); other values pass through."""
    return x.concrete_value() if isinstance(x, Tracer) else x


def notrace_primitive(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` called on the values beneath any tracing: its result carries no derivative."""

    @functools.wraps(f)
    def f_wrapped(*args: Any, **kwargs: Any) -> Any:
        return f(*map(getval, args), **{k: getval(v) for k, v in kwargs.items()})

    f_wrapped.fun = f  # type: ignore[attr-defined]
    return f_wrapped


class _BoxMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tracer) or type.__instancecheck__(cls, obj)


class Box(metaclass=_BoxMeta):
    """What autograd calls a box: ``isinstance(x, Box)`` is true for funcgrad's traced values.

    funcgrad's traced values are :class:`funcgrad.core.Tracer` objects; this class exists so that
    user code testing for boxes keeps working. ``Box.register`` is accepted and has no effect
    (funcgrad traces any array type NumPy dispatches to it).
    """

    type_mappings: dict = {}
    types: set = set()

    def __init__(self, value: Any, trace: Any = None, node: Any = None) -> None:
        self._value = value
        self._trace = trace
        self._node = node

    @classmethod
    def register(cls, value_type: type) -> None:
        Box.types.add(cls)
        Box.type_mappings[value_type] = cls


class VSpace:
    """The vector space of a value (an array, a number, or a pytree of them), as autograd's
    ``vspace(x)``: ``zeros()``, ``ones()``, ``randn()``, ``standard_basis()``, ``add``,
    ``scalar_mul``, ``inner_prod``, ``covector``, ``flatten``/``unflatten``, and ``shape``, ``size``,
    ``dtype``, ``ndim``, ``iscomplex``.

    >>> vspace(np.zeros((2, 3))).zeros().shape
    (2, 3)
    """

    def __init__(self, value: Any) -> None:
        leaves, self._treedef = tree_flatten(value)
        self._leaves = [(tuple(np.shape(v)), np.dtype(v.dtype) if hasattr(v, "dtype") else np.asarray(v).dtype)
                        for v in leaves]
        self.size = int(sum(int(np.prod(s, dtype=np.int64)) for s, _ in self._leaves))
        self.iscomplex = any(d.kind == "c" for _, d in self._leaves)
        if len(self._leaves) == 1 and self._treedef.node_type is None:
            self.shape, self.dtype = self._leaves[0]
            self.ndim = len(self.shape)

    @classmethod
    def register(cls, value_type: type, vspace_maker: Callable[[Any], Any] | None = None) -> None:
        """Accepted for compatibility; funcgrad describes any registered pytree."""

    def _make(self, make_leaf: Callable[[tuple, np.dtype], Any]) -> Any:
        return tree_unflatten(self._treedef, [make_leaf(s, d) for s, d in self._leaves])

    def zeros(self) -> Any:
        return self._make(lambda s, d: np.zeros(s, d))

    def ones(self) -> Any:
        return self._make(lambda s, d: np.ones(s, d))

    def randn(self) -> Any:
        def draw(s: tuple, d: np.dtype) -> Any:
            x = np.random.randn(*s)
            if d.kind == "c":
                x = x + 1j * np.random.randn(*s)
            return np.asarray(x).astype(d)

        return self._make(draw)

    def standard_basis(self) -> Iterator[Any]:
        for k in range(self.size):
            flat = np.zeros(self.size)
            flat[k] = 1.0
            yield self.unflatten(flat)

    def flatten(self, value: Any, covector: bool = False) -> Any:
        leaves = tree_flatten(self.covector(value) if covector else value)[0]
        if not leaves:
            return np.zeros(0)
        return fnp.concatenate([fnp.ravel(v) for v in leaves])

    def unflatten(self, flat: Any, covector: bool = False) -> Any:
        out, start = [], 0
        for s, d in self._leaves:
            n = int(np.prod(s, dtype=np.int64))
            out.append(fnp.reshape(flat[start:start + n], s).astype(d) if not isinstance(flat, Tracer)
                       else fnp.reshape(flat[start:start + n], s))
            start += n
        value = tree_unflatten(self._treedef, out)
        return self.covector(value) if covector else value

    def add(self, x: Any, y: Any) -> Any:
        return tree_map(lambda a, b: a + b, x, y)

    mut_add = add

    def scalar_mul(self, x: Any, a: Any) -> Any:
        return tree_map(lambda v: v * a, x)

    def inner_prod(self, x: Any, y: Any) -> Any:
        total = 0.0
        for a, b in zip(tree_flatten(x)[0], tree_flatten(y)[0]):
            total = total + fnp.real(fnp.sum(fnp.conj(a) * b))
        return total

    def covector(self, x: Any) -> Any:
        return tree_map(fnp.conj, x) if self.iscomplex else x

    def examples(self) -> list:
        return [self.zeros(), self.ones(), self.randn()]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VSpace) and (self._treedef, self._leaves) == (other._treedef, other._leaves)

    def __hash__(self) -> int:
        return hash((str(self._treedef), tuple(self._leaves)))

    def __repr__(self) -> str:
        return f"VSpace({self._leaves if self._treedef.node_type is not None else self._leaves[0]})"


def vspace(value: Any) -> VSpace:
    """The :class:`VSpace` of ``value``."""
    return VSpace(value)


class SparseObject:
    """autograd's sparse cotangent marker. funcgrad's rules always produce dense cotangents, so an
    object of this class is only kept for code that constructs one; it is not a cotangent."""

    __slots__ = ("vs", "mut_add")

    def __init__(self, vs: VSpace, mut_add: Callable[..., Any]) -> None:
        self.vs = vs
        self.mut_add = mut_add


