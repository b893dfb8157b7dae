"""Pytrees: nested containers of arrays, flattened to a list of leaves plus a structure.

Containers known out of the box: ``tuple``, ``list``, ``dict`` (keys in sorted order), ``None``
(a node with no children) and namedtuples. Other classes join with :func:`register_pytree_node`
or :func:`register_dataclass`. Everything else is a leaf.

>>> leaves, treedef = tree_flatten({"b": 2.0, "a": (1.0, None)})
>>> leaves
[1.0, 2.0]
>>> tree_unflatten(treedef, [10.0, 20.0])
{'a': (10.0, None), 'b': 20.0}
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ClassVar, Hashable, Iterable, NamedTuple, Sequence, TypeVar

from .errors import TreeMismatchError

__all__ = [
    "PyTreeDef",
    "SequenceKey",
    "DictKey",
    "GetAttrKey",
    "FlattenedIndexKey",
    "Partial",
    "keystr",
    "register_pytree_node",
    "register_pytree_with_keys",
    "register_pytree_node_class",
    "register_pytree_with_keys_class",
    "register_static",
    "register_dataclass",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_unflatten",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_structure",
    "tree_map",
    "tree_map_with_path",
    "tree_reduce",
    "tree_reduce_associative",
    "tree_all",
    "all_leaves",
    "tree_broadcast",
    "tree_transpose",
    "treedef_children",
    "treedef_is_leaf",
    "treedef_tuple",
    "flatten_one_level",
    "flatten_one_level_with_keys",
    "is_tree_node",
    "KeyEntry",
    "KeyPath",
]


# --- key paths ------------------------------------------------------------------------------


class _PathKey:
    """One entry of a key path: immutable, hashable, equal to keys of its class with an equal value.

    The behaviour of a frozen one-field dataclass, written out because ``@dataclass`` costs about a
    millisecond per class at ``import funcgrad``.
    """

    __slots__ = ()
    _field: ClassVar[str]

    def _value(self) -> Any:
        return getattr(self, self._field)

    def __setattr__(self, name: str, value: Any) -> None:
        import dataclasses

        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        import dataclasses

        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._value() == other._value())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self._value(),))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._field}={self._value()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self._value(),)


class SequenceKey(_PathKey):
    """The position of a child in a tuple, list or namedtuple-like sequence."""

    __slots__ = ("idx",)
    _field = "idx"
    idx: int

    def __init__(self, idx: int) -> None:
        object.__setattr__(self, "idx", idx)

    def __str__(self) -> str:
        return f"[{self.idx}]"


class DictKey(_PathKey):
    """The key of a child in a dict."""

    __slots__ = ("key",)
    _field = "key"
    key: Hashable

    def __init__(self, key: Hashable) -> None:
        object.__setattr__(self, "key", key)

    def __str__(self) -> str:
        return f"[{self.key!r}]"


class GetAttrKey(_PathKey):
    """The attribute name of a child (namedtuple fields, dataclass fields)."""

    __slots__ = ("name",)
    _field = "name"
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __str__(self) -> str:
        return f".{self.name}"


class FlattenedIndexKey(_PathKey):
    """The position of a child among a registered node's flattened children (nodes registered
    without keys). Rendered as ``[i]`` (JAX renders ``[<flat index i>]``)."""

    __slots__ = ("key",)
    _field = "key"
    key: int

    def __init__(self, key: int) -> None:
        object.__setattr__(self, "key", key)

    def __str__(self) -> str:
        return f"[{self.key}]"


KeyEntry = TypeVar("KeyEntry", bound=Hashable)  # one key of a key path (SequenceKey, DictKey, ...), for annotations
KeyPath = tuple[Any, ...]  # a tuple of SequenceKey / DictKey / GetAttrKey / FlattenedIndexKey
_C = TypeVar("_C", bound=type)  # a class decorated by register_pytree_node_class keeps its type


def keystr(path: Sequence[Any], root: str = "") -> str:
    """Render a key path the way a user would index into the tree: ``params['w'][1]``."""
    return root + "".join(str(k) for k in path)


# --- the registry ---------------------------------------------------------------------------


class _NodeKind(NamedTuple):
    # flatten(node) -> (children, aux); unflatten(aux, children) -> node;
    # keys(node, aux) -> one key per child, for error messages.
    flatten: Callable[[Any], tuple[Sequence[Any], Hashable]]
    unflatten: Callable[[Any, Sequence[Any]], Any]
    keys: Callable[[Any, Any], Sequence[Any]]


_registry: dict[type, _NodeKind] = {}


def _check_hashable(aux: Any, nodetype: type, what: str) -> None:
    """Tree structures are compared and used as cache keys: their static data must hash."""
    try:
        hash(aux)
    except TypeError:
        raise TypeError(
            f"{what} of pytree node {nodetype.__qualname__} must be hashable (it is part of the tree "
            f"structure, compared and used as a cache key), but it is {aux!r}. Use tuples instead of "
            "lists; arrays belong among the children (data fields), not the static data."
        ) from None


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable[Any], Hashable]],
    unflatten_func: Callable[[Any, Any], Any],
) -> None:
    """Make instances of ``nodetype`` pytree nodes.

    ``flatten_func(node)`` returns ``(children, aux_data)``, where ``aux_data`` is hashable static
    data; ``unflatten_func(aux_data, children)`` rebuilds the node.

    >>> class Pair:
    ...     def __init__(self, a, b): self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, c: Pair(*c))
    >>> tree_leaves(Pair(1.0, 2.0))
    [1.0, 2.0]
    """
    if nodetype in _registry:
        raise ValueError(f"{nodetype.__qualname__} is already registered as a pytree node.")

    def flatten(node: Any) -> tuple[Sequence[Any], Hashable]:
        children, aux = flatten_func(node)
        _check_hashable(aux, nodetype, "the auxiliary data returned by its flatten function")
        return tuple(children), aux

    def keys(node: Any, aux: Hashable) -> Sequence[Any]:
        return [FlattenedIndexKey(i) for i in range(len(flatten(node)[0]))]

    _registry[nodetype] = _NodeKind(flatten, lambda aux, ch: unflatten_func(aux, ch), keys)


def register_pytree_with_keys(
    nodetype: type,
    flatten_with_keys: Callable[[Any], tuple[Iterable[tuple[Any, Any]], Hashable]],
    unflatten_func: Callable[[Any, Any], Any],
    flatten_func: Callable[[Any], tuple[Iterable[Any], Hashable]] | None = None,
) -> None:
    """Like :func:`register_pytree_node`, with a key for each child (used in key paths).

    ``flatten_with_keys(node)`` returns ``((key, child), ...), aux_data``; ``flatten_func`` (optional)
    is a faster flatten without keys.

    >>> class Named:
    ...     def __init__(self, x): self.x = x
    >>> register_pytree_with_keys(Named, lambda n: (((GetAttrKey("x"), n.x),), None), lambda _, c: Named(*c))
    >>> keystr(tree_flatten_with_path(Named(1.0))[0][0][0])
    '.x'
    """
    if nodetype in _registry:
        raise ValueError(f"{nodetype.__qualname__} is already registered as a pytree node.")

    def with_keys(node: Any) -> tuple[list[Any], list[Any], Hashable]:
        pairs, aux = flatten_with_keys(node)
        pairs = list(pairs)
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(
                    f"the flatten_with_keys function of pytree node {nodetype.__qualname__} must return "
                    f"((key, child), ...) pairs and the auxiliary data; got the entry {pair!r}."
                )
        _check_hashable(aux, nodetype, "the auxiliary data returned by its flatten function")
        return [k for k, _ in pairs], [c for _, c in pairs], aux

    def flatten(node: Any) -> tuple[Sequence[Any], Hashable]:
        if flatten_func is not None:
            children, aux = flatten_func(node)
            _check_hashable(aux, nodetype, "the auxiliary data returned by its flatten function")
            return tuple(children), aux
        _, children, aux = with_keys(node)
        return tuple(children), aux

    _registry[nodetype] = _NodeKind(flatten, lambda aux, ch: unflatten_func(aux, ch),
                                    lambda node, aux: with_keys(node)[0])


def register_pytree_node_class(cls: _C) -> _C:
    """Class decorator: register ``cls`` using its ``tree_flatten`` method, which returns
    ``(children, aux_data)``, and its ``tree_unflatten(aux_data, children)`` classmethod.

    >>> @register_pytree_node_class
    ... class Scaled:
    ...     def __init__(self, x, scale): self.x, self.scale = x, scale
    ...     def tree_flatten(self): return (self.x,), self.scale
    ...     @classmethod
    ...     def tree_unflatten(cls, scale, children): return cls(children[0], scale)
    >>> tree_leaves(Scaled(2.0, "static"))
    [2.0]
    """
    missing = [m for m in ("tree_flatten", "tree_unflatten") if not callable(getattr(cls, m, None))]
    if missing:
        raise TypeError(
            f"register_pytree_node_class({getattr(cls, '__qualname__', cls)!r}) needs the methods "
            f"tree_flatten(self) -> (children, aux_data) and the classmethod tree_unflatten(cls, aux_data, "
            f"children); missing: {missing}."
        )
    klass: Any = cls  # checked above to have tree_unflatten
    register_pytree_node(cls, lambda node: node.tree_flatten(), klass.tree_unflatten)
    return cls


def register_pytree_with_keys_class(cls: _C) -> _C:
    """Class decorator: :func:`register_pytree_with_keys` with the class's ``tree_flatten_with_keys``
    method (``((key, child), ...), aux_data``), its ``tree_unflatten(aux_data, children)`` classmethod,
    and its ``tree_flatten`` method if it has one.

    >>> @register_pytree_with_keys_class
    ... class Box2:
    ...     def __init__(self, x): self.x = x
    ...     def tree_flatten_with_keys(self): return ((GetAttrKey("x"), self.x),), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children): return cls(*children)
    >>> keystr(tree_leaves_with_path(Box2(1.0))[0][0])
    '.x'
    """
    missing = [m for m in ("tree_flatten_with_keys", "tree_unflatten") if not callable(getattr(cls, m, None))]
    if missing:
        raise TypeError(
            f"register_pytree_with_keys_class({getattr(cls, '__qualname__', cls)!r}) needs the methods "
            "tree_flatten_with_keys(self) -> (((key, child), ...), aux_data) and the classmethod "
            f"tree_unflatten(cls, aux_data, children); missing: {missing}."
        )
    klass: Any = cls
    flatten_func = (lambda node: node.tree_flatten()) if callable(getattr(cls, "tree_flatten", None)) else None
    register_pytree_with_keys(cls, lambda node: node.tree_flatten_with_keys(), klass.tree_unflatten, flatten_func)
    return cls


def register_static(cls: type) -> type:
    """Register ``cls`` as a node with no children: its instances (which must be hashable) are
    part of the tree structure, never leaves. Usable as a decorator.

    >>> @register_static
    ... class Config:
    ...     def __hash__(self): return 0
    ...     def __eq__(self, other): return isinstance(other, Config)
    >>> tree_leaves([1.0, Config()])
    [1.0]
    """
    register_pytree_node(cls, lambda node: ((), node), lambda node, _: node)
    return cls


def register_dataclass(
    nodetype: type,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] = (),
) -> type:
    """Register a dataclass as a pytree node; usable as a decorator.

    ``data_fields`` (default: every field not in ``meta_fields``) are children; ``meta_fields``
    are static, hashable data that becomes part of the tree structure. Given neither, the fields
    declared with :func:`funcgrad.tree.static` (``metadata={"static": True}``) are the meta fields.

    >>> import dataclasses
    >>> @register_dataclass
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: float
    ...     b: float
    >>> tree_leaves(Params(w=1.0, b=2.0))
    [1.0, 2.0]
    """
    import dataclasses

    if not (isinstance(nodetype, type) and dataclasses.is_dataclass(nodetype)):
        raise TypeError(
            f"register_dataclass expects a dataclass, got {nodetype!r}; decorate the class with "
            "@dataclasses.dataclass first, or use register_pytree_node."
        )
    for label, given in (("data_fields", data_fields), ("meta_fields", meta_fields)):
        if isinstance(given, str):
            raise TypeError(
                f"register_dataclass: {label} must be a sequence of field names, got the string "
                f"{given!r}; write [{given!r}]."
            )
    fields = [f.name for f in dataclasses.fields(nodetype)]
    if data_fields is None and not meta_fields:  # as JAX: fields marked static (funcgrad.tree.static) are meta
        meta_fields = [f.name for f in dataclasses.fields(nodetype) if f.metadata.get("static", False)]
    meta = tuple(meta_fields)
    data = tuple(data_fields) if data_fields is not None else tuple(n for n in fields if n not in meta)
    where = f"register_dataclass({nodetype.__qualname__})"
    unknown = [n for n in data + meta if n not in fields]
    if unknown:
        raise ValueError(f"{where}: {unknown} are not fields of the dataclass; its fields are {fields}.")
    both = [n for n in data if n in meta]
    if both:
        raise ValueError(f"{where}: {both} are listed in both data_fields and meta_fields; pick one.")
    missing = [n for n in fields if n not in data and n not in meta]
    if missing:
        raise ValueError(
            f"{where}: fields {missing} are in neither data_fields nor meta_fields; list every field "
            "in one of them (unflattening rebuilds the object from these fields only)."
        )

    def flatten(node: Any) -> tuple[Sequence[Any], Hashable]:
        aux = tuple(getattr(node, n) for n in meta)
        if meta:
            _check_hashable(aux, nodetype, f"its meta fields {list(meta)}")
        return tuple(getattr(node, n) for n in data), aux

    def unflatten(aux: Hashable, children: Sequence[Any]) -> Any:
        kwargs = dict(zip(data, children, strict=True))
        kwargs.update(zip(meta, aux, strict=True))  # type: ignore[call-overload]
        obj = object.__new__(nodetype)
        # Bypass __init__ (and frozen __setattr__): unflatten may be given non-array leaves.
        for k, v in kwargs.items():
            object.__setattr__(obj, k, v)
        return obj

    if nodetype in _registry:
        raise ValueError(f"{nodetype.__qualname__} is already registered as a pytree node.")
    _registry[nodetype] = _NodeKind(flatten, unflatten, lambda node, aux: [GetAttrKey(n) for n in data])
    return nodetype


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


_registry[tuple] = _NodeKind(
    lambda t: (t, None), lambda aux, ch: tuple(ch), lambda node, aux: [SequenceKey(i) for i in range(len(node))]
)
_registry[list] = _NodeKind(
    lambda t: (t, None), lambda aux, ch: list(ch), lambda node, aux: [SequenceKey(i) for i in range(len(node))]
)


def _sorted_keys(d: dict[Any, Any]) -> list[Any]:
    try:
        return sorted(d)
    except TypeError as e:
        raise TypeError(
            f"dict keys in a pytree must be sortable (funcgrad orders them); got keys {list(d)!r}"
        ) from e


def _dict_flatten(d: dict[Any, Any]) -> tuple[Sequence[Any], Hashable]:
    keys = tuple(_sorted_keys(d))
    return tuple(d[k] for k in keys), keys


_registry[dict] = _NodeKind(
    _dict_flatten, lambda keys, ch: dict(zip(keys, ch, strict=True)), lambda node, keys: [DictKey(k) for k in keys]
)
_registry[type(None)] = _NodeKind(lambda n: ((), None), lambda aux, ch: None, lambda node, aux: [])


def _node_kind(x: Any) -> tuple[type, _NodeKind] | None:
    t = type(x)
    kind = _registry.get(t)
    if kind is not None:
        return t, kind
    if _is_namedtuple(x):
        return t, _NodeKind(
            lambda n: (tuple(n), None),
            lambda aux, ch: t(*ch),
            lambda node, aux: [GetAttrKey(f) for f in type(node)._fields],
        )
    return None


# --- tree structure ------------------------------------------------------------------------


class _Children(tuple["PyTreeDef", ...]):
    """A node's child structures: a tuple (``treedef.children[0]``) that, called, returns them as a
    list, as JAX's ``treedef.children()`` does."""

    __slots__ = ()

    def __call__(self) -> list[PyTreeDef]:
        return list(self)


class PyTreeDef:
    """The structure of a pytree: node types, static data, and where the leaves go.

    >>> treedef = tree_structure({"a": (1.0, 2.0), "b": 3.0})
    >>> treedef.num_leaves, treedef.num_nodes, treedef.children()
    (3, 5, [PyTreeDef((*, *)), PyTreeDef(*)])
    >>> treedef.flatten_up_to({"a": ([1, 2], 3), "b": {"c": 4}})
    [[1, 2], 3, {'c': 4}]
    """

    __slots__ = ("node_type", "aux", "children", "num_leaves", "_hash", "_tuple_of_leaves")

    def __init__(self, node_type: type | None, aux: Hashable, children: tuple[PyTreeDef, ...]):
        self.node_type = node_type  # None marks a leaf
        self.aux = aux
        self.children = _Children(children)
        self.num_leaves: int = 1 if node_type is None else sum(c.num_leaves for c in children)
        self._hash: int | None = None
        # A tuple of leaves (the positional arguments of most calls) unflattens without recursion.
        self._tuple_of_leaves = node_type is tuple and all(c.node_type is None for c in children)

    @property
    def num_nodes(self) -> int:
        return 1 + sum(c.num_nodes for c in self.children)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (
            self.node_type is other.node_type
            and self.aux == other.aux
            and self.children == other.children
        )

    def __hash__(self) -> int:
        if self._hash is None:
            try:
                aux_hash = hash(self.aux)
            except TypeError:
                aux_hash = id(self.aux)
            self._hash = hash((self.node_type, aux_hash, self.children))
        return self._hash

    def node_data(self) -> tuple[type, Hashable] | None:
        """``(node type, static data)`` of the root, or None for a leaf."""
        return None if self.node_type is None else (self.node_type, self.aux)

    def compose(self, inner: PyTreeDef) -> PyTreeDef:
        """The structure of this tree with every leaf replaced by a tree of structure ``inner``.

        >>> tree_structure((1, 2)).compose(tree_structure([1, 1]))
        PyTreeDef(([*, *], [*, *]))
        """
        if not isinstance(inner, PyTreeDef):
            raise TypeError(f"PyTreeDef.compose expects a PyTreeDef, got a {type(inner).__name__}.")
        if self.node_type is None:
            return inner
        return PyTreeDef(self.node_type, self.aux, tuple(c.compose(inner) for c in self.children))

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Flatten ``tree`` only as deep as this structure goes: one entry per leaf of this
        structure, holding the whole subtree of ``tree`` found there. ``tree`` must have this
        structure as a prefix (:class:`TreeMismatchError` otherwise, naming where they differ).
        """
        out: list[Any] = []
        self._up_to(tree, out, ())
        return out

    def _up_to(self, x: Any, out: list[Any], path: tuple[Any, ...]) -> None:
        if self.node_type is None:
            out.append(x)
            return
        where = keystr(path) or "the root"
        found = _node_kind(x)
        if found is None or found[0] is not self.node_type:
            raise TreeMismatchError(
                f"expected a {self.node_type.__name__} at {where} (structure {self}), but found "
                f"{'a leaf' if found is None else 'a ' + found[0].__name__} {_short(x)}; the tree "
                "must have the given structure as a prefix."
            )
        kind = found[1]
        children, aux = kind.flatten(x)
        if aux != self.aux or len(children) != len(self.children):
            raise TreeMismatchError(
                f"at {where} the structure {self} has {len(self.children)} children"
                f"{'' if self.aux is None else f' (static data {self.aux!r})'}, but the tree has "
                f"{len(children)}{'' if aux is None else f' (static data {aux!r})'}; the tree must have "
                "the given structure as a prefix."
            )
        for child_def, child, key in zip(self.children, children, kind.keys(x, aux), strict=True):
            child_def._up_to(child, out, path + (key,))

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        if not isinstance(leaves, (list, tuple)):
            leaves = list(leaves)
        if self._tuple_of_leaves and len(leaves) == self.num_leaves:
            return tuple(leaves)
        if len(leaves) != self.num_leaves:
            raise TreeMismatchError(
                f"tree structure {self} has {self.num_leaves} leaves, but {len(leaves)} were given to "
                "unflatten it; pass exactly one leaf per * of the structure, in flattening order."
            )
        return self._build(iter(leaves))

    def _build(self, it: Any) -> Any:
        if self.node_type is None:
            leaf = next(it, _sentinel)
            if leaf is _sentinel:
                raise TreeMismatchError(f"too few leaves for tree structure {self}")
            return leaf
        children = [c._build(it) for c in self.children]
        if self.node_type in _registry:
            return _registry[self.node_type].unflatten(self.aux, children)
        return self.node_type(*children)  # namedtuple

    def __repr__(self) -> str:
        return f"PyTreeDef({self._describe()})"

    def _describe(self) -> str:
        if self.node_type is None:
            return "*"
        inner = [c._describe() for c in self.children]
        if self.node_type is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        if self.node_type is list:
            return "[" + ", ".join(inner) + "]"
        if self.node_type is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, inner, strict=True)) + "}"  # type: ignore[call-overload]
        if self.node_type is type(None):
            return "None"
        return f"{self.node_type.__name__}(" + ", ".join(inner) + ")"


_sentinel = object()
_LEAF = PyTreeDef(None, None, ())


def _short(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def _flatten(x: Any, leaves: list[Any], is_leaf: Callable[[Any], bool] | None,
             paths: list[Any] | None, path: tuple[Any, ...]) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        if paths is not None:
            paths.append(path)
        return _LEAF
    found = _node_kind(x)
    if found is None:
        leaves.append(x)
        if paths is not None:
            paths.append(path)
        return _LEAF
    t, kind = found
    children, aux = kind.flatten(x)
    if paths is None:
        subdefs = tuple(_flatten(c, leaves, is_leaf, None, path) for c in children)
    else:
        keys = kind.keys(x, aux)
        subdefs = tuple(_flatten(c, leaves, is_leaf, paths, path + (k,)) for c, k in zip(children, keys, strict=True))
    return PyTreeDef(t, aux, subdefs)


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], PyTreeDef]:
    """Flatten a pytree into ``(leaves, treedef)``.

    >>> tree_flatten([1.0, {"w": 2.0}])
    ([1.0, 2.0], PyTreeDef([*, {'w': *}]))
    """
    if is_leaf is None:
        # Fast paths for the shapes every transformation sees on each call: one array, or a
        # tuple of arrays (the positional arguments). Anything registered takes the general path.
        t = type(tree)
        if t not in _registry and not isinstance(tree, tuple):
            return [tree], _LEAF
        if t is tuple:
            for c in tree:  # a loop, not all(...): no generator on every call
                if type(c) in _registry or isinstance(c, tuple):
                    break
            else:
                treedef = _TUPLES_OF_LEAVES.get(len(tree))
                if treedef is None:
                    treedef = _TUPLES_OF_LEAVES[len(tree)] = PyTreeDef(tuple, None, (_LEAF,) * len(tree))
                return list(tree), treedef
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves, is_leaf, None, ())


_TUPLES_OF_LEAVES: dict[int, PyTreeDef] = {}


def tree_flatten_with_path(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[tuple[tuple[Any, ...], Any]], PyTreeDef]:
    """Like :func:`tree_flatten`, with each leaf paired with its key path.

    >>> [(keystr(p), v) for p, v in tree_flatten_with_path({"w": [1.0, 2.0]})[0]]
    [("['w'][0]", 1.0), ("['w'][1]", 2.0)]
    """
    leaves: list[Any] = []
    paths: list[Any] = []
    treedef = _flatten(tree, leaves, is_leaf, paths, ())
    return list(zip(paths, leaves, strict=True)), treedef


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree from its structure and leaves.

    >>> tree_unflatten(tree_structure((1, 2)), [3, 4])
    (3, 4)
    """
    if not isinstance(treedef, PyTreeDef):
        swapped = " (the arguments look swapped)" if isinstance(leaves, PyTreeDef) else ""
        raise TypeError(
            f"tree_unflatten(treedef, leaves) expects a PyTreeDef first (from tree_flatten or "
            f"tree_structure), got a {type(treedef).__name__}{swapped}."
        )
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of a pytree, in flattening order.

    >>> tree_leaves({"b": 1, "a": [2, 3]})
    [2, 3, 1]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of a pytree, without its leaves.

    >>> tree_structure((1.0, [2.0]))
    PyTreeDef((*, [*]))
    """
    return tree_flatten(tree, is_leaf)[1]


def _rest_leaves(treedef: PyTreeDef, rest: Sequence[Any], is_leaf: Callable[[Any], bool] | None,
                 who: str) -> list[list[Any]]:
    """For each of ``rest``: its subtrees at the leaves of ``treedef`` (which must be a prefix)."""
    out = []
    for i, r in enumerate(rest):
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def == treedef:  # the common case: the same structure
            out.append(r_leaves)
            continue
        try:
            out.append(treedef.flatten_up_to(r))
        except TreeMismatchError as e:
            raise TreeMismatchError(
                f"{who}: tree {i + 1} has structure {r_def}, which does not have the first tree's structure "
                f"{treedef} as a prefix ({e}). Every further tree must have the same structure as the first, or "
                "extend it (a leaf of the first tree may stand for a whole subtree of the others)."
            ) from None
    return out


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf-wise to one or more pytrees.

    Every tree in ``rest`` must have ``tree``'s structure, or have it as a prefix: then ``f``
    receives, for each leaf of ``tree``, the whole subtree of the others found at that place.

    >>> tree_map(lambda a, b: a + b, {"w": 1.0, "b": 2.0}, {"w": 10.0, "b": 20.0})
    {'b': 22.0, 'w': 11.0}
    >>> tree_map(lambda a, b: (a, len(b)), [1, 2], [[0, 0], [0]])
    [(1, 2), (2, 1)]
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = _rest_leaves(treedef, rest, is_leaf, "tree_map")
    return treedef.unflatten(f(*args) for args in zip(leaves, *others, strict=True))


def tree_map_with_path(f: Callable[..., Any], tree: Any, *rest: Any,
                       is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Like :func:`tree_map`, with ``f(key_path, leaf, *others)`` also given each leaf's key path.

    >>> tree_map_with_path(lambda p, x: keystr(p) + "=" + str(x), {"a": [1, 2]})
    {'a': ["['a'][0]=1", "['a'][1]=2"]}
    """
    with_path, treedef = tree_flatten_with_path(tree, is_leaf)
    others = _rest_leaves(treedef, rest, is_leaf, "tree_map_with_path")
    return treedef.unflatten(f(p, x, *xs) for (p, x), *xs in zip(with_path, *others, strict=True))


def tree_leaves_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[tuple[tuple[Any, ...], Any]]:
    """The ``(key_path, leaf)`` pairs of a pytree, in flattening order.

    >>> [(keystr(p), x) for p, x in tree_leaves_with_path({"b": 1, "a": (2,)})]
    [("['a'][0]", 2), ("['b']", 1)]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


_NO_INITIALIZER = object()


def tree_reduce(function: Callable[[Any, Any], Any], tree: Any, initializer: Any = _NO_INITIALIZER,
                is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``functools.reduce(function, tree_leaves(tree), initializer)``.

    >>> tree_reduce(lambda a, b: a + b, {"x": 1, "y": [2, 3]})
    6
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        if not leaves:
            raise TypeError("tree_reduce of a tree with no leaves needs an initializer.")
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


class _Unspecified:
    def __repr__(self) -> str:
        return "<no identity>"


_NO_IDENTITY: Any = _Unspecified()


def tree_reduce_associative(operation: Callable[[Any, Any], Any], tree: Any, *, identity: Any = _NO_IDENTITY,
                            is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Combine the leaves of ``tree`` with the associative ``operation`` pairwise, as a balanced
    tree of calls (depth log n, not n); ``identity`` is the result for a tree without leaves.

    >>> tree_reduce_associative(lambda a, b: a + b, {"a": 1, "b": [2, 3]})
    6
    """
    items = tree_leaves(tree, is_leaf=is_leaf)
    if not items:
        if identity is _NO_IDENTITY:
            raise TypeError("tree_reduce_associative: the tree has no leaves; pass identity= for that case.")
        return identity

    def reduce(lo: int, hi: int) -> Any:  # the halves split as JAX splits them (the same grouping)
        if hi - lo == 1:
            return items[lo]
        mid = lo + (hi - lo) // 2
        return operation(reduce(lo, mid), reduce(mid, hi))

    return reduce(0, len(items))


def flatten_one_level(tree: Any) -> tuple[Sequence[Any], Hashable]:
    """The children of pytree node ``tree`` (one level down) and its static data.

    >>> flatten_one_level({"a": [1, 2], "b": 3})
    (([1, 2], 3), ('a', 'b'))
    """
    found = _node_kind(tree)
    if found is None:
        raise ValueError(f"can't tree-flatten type: {type(tree)} (it is a leaf, not a registered pytree node).")
    children, aux = found[1].flatten(tree)
    return tuple(children), aux


def flatten_one_level_with_keys(tree: Any) -> tuple[Sequence[tuple[Any, Any]], Hashable]:
    """:func:`flatten_one_level` with each child's key: ``(((key, child), ...), aux)``.

    >>> flatten_one_level_with_keys([5.0])
    (((SequenceKey(idx=0), 5.0),), None)
    """
    found = _node_kind(tree)
    if found is None:
        raise ValueError(f"can't tree-flatten type: {type(tree)} (it is a leaf, not a registered pytree node).")
    children, aux = found[1].flatten(tree)
    return tuple(zip(found[1].keys(tree, aux), children)), aux


def is_tree_node(typ: type) -> bool:
    """Whether instances of ``typ`` are pytree nodes (built in, registered, or a namedtuple class).

    >>> is_tree_node(list), is_tree_node(float)
    (True, False)
    """
    return typ in _registry or (isinstance(typ, type) and issubclass(typ, tuple) and hasattr(typ, "_fields"))


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every leaf is truthy (``all(tree_leaves(tree))``).

    >>> tree_all([True, {"a": 1}]), tree_all([True, (0,)])
    (True, False)
    """
    return all(tree_leaves(tree, is_leaf))


def all_leaves(iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every element of ``iterable`` is a leaf (no container, no None).

    >>> all_leaves([1.0, "s"]), all_leaves([1.0, (2.0,)])
    (True, False)
    """
    return all((is_leaf is not None and is_leaf(x)) or _node_kind(x) is None for x in iterable)


def tree_broadcast(prefix_tree: Any, full_tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``prefix_tree`` expanded to ``full_tree``'s structure: each of its leaves is repeated over
    the subtree of ``full_tree`` at the same place.

    >>> tree_broadcast([1, 2], [(0, 0), {"a": 0}])
    [(1, 1), {'a': 2}]
    """
    out: list[Any] = []
    tree_map(lambda p, sub: out.extend([p] * tree_structure(sub).num_leaves), prefix_tree, full_tree,
             is_leaf=is_leaf)
    return tree_structure(full_tree).unflatten(out)


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose: Any) -> Any:
    """Turn a tree of structure ``outer`` of trees of structure ``inner`` into an ``inner`` tree of
    ``outer`` trees. ``inner_treedef=None`` infers it from the first inner tree.

    >>> tree_transpose(tree_structure([0, 0]), tree_structure((0, 0)), [(1, 2), (3, 4)])
    ([1, 3], [2, 4])
    """
    for name, td in (("outer_treedef", outer_treedef), ("inner_treedef", inner_treedef)):
        if not (isinstance(td, PyTreeDef) or (td is None and name == "inner_treedef")):
            raise TypeError(f"tree_transpose: {name} must be a PyTreeDef (from tree_structure), got "
                            f"{type(td).__name__}.")
    inners = outer_treedef.flatten_up_to(pytree_to_transpose)
    if inner_treedef is None:
        if not inners:
            raise TypeError("tree_transpose: cannot infer inner_treedef from a tree with no inner trees; pass it.")
        inner_treedef = tree_structure(inners[0])
    columns = [inner_treedef.flatten_up_to(t) for t in inners]
    per_inner_leaf = [outer_treedef.unflatten(list(row)) for row in zip(*columns, strict=True)] if columns else [
        outer_treedef.unflatten([]) for _ in range(inner_treedef.num_leaves)]
    return inner_treedef.unflatten(per_inner_leaf)


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """The structures of the root's children (``treedef.children()``)."""
    return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether the structure is a single leaf."""
    return treedef.node_type is None


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The structure of a tuple whose elements have the given structures."""
    return PyTreeDef(tuple, None, tuple(treedefs))


class Partial(functools.partial[Any]):
    """``functools.partial`` that is a pytree: the bound arguments are its children, the function
    is static structure. So a ``Partial`` can be passed to and returned from transformed functions
    (a pullback returned from ``jit``, a loss with bound data passed to ``grad``).

    >>> add = Partial(lambda a, b: a + b, 1.0)
    >>> add(2.0), tree_leaves(add)
    (3.0, [1.0])
    """

    def __repr__(self) -> str:
        return "Partial(" + super().__repr__().split("(", 1)[1]


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, children: Partial(func, *children[0], **children[1]),
)


def describe_unregistered(x: Any) -> str:
    """A hint for a leaf that looks like a container the user forgot to register."""
    import dataclasses

    t = type(x)
    if dataclasses.is_dataclass(x):
        return (
            f" {t.__qualname__} is a dataclass that is not registered as a pytree node; register it "
            f"with @funcgrad.tree_util.register_dataclass (or register_pytree_node) so funcgrad can "
            "look inside it."
        )
    return (
        f" If {t.__qualname__} is a container of arrays, register it with "
        "funcgrad.tree_util.register_pytree_node(cls, flatten, unflatten) (or register_dataclass)."
    )
