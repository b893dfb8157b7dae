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

import dataclasses
from typing import Any, Callable, Hashable, Iterable, NamedTuple, Sequence

from .errors import TreeMismatchError

__all__ = [
    "PyTreeDef",
    "SequenceKey",
    "DictKey",
    "GetAttrKey",
    "keystr",
    "register_pytree_node",
    "register_dataclass",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_unflatten",
    "tree_leaves",
    "tree_structure",
    "tree_map",
]


# --- key paths ------------------------------------------------------------------------------


class SequenceKey(NamedTuple):
    idx: int

    def __str__(self) -> str:
        return f"[{self.idx}]"


class DictKey(NamedTuple):
    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


class GetAttrKey(NamedTuple):
    name: str

    def __str__(self) -> str:
        return f".{self.name}"


KeyPath = tuple  # a tuple of SequenceKey / DictKey / GetAttrKey


def keystr(path: Sequence[Any], root: str = "") -> str:
    """Render a key path the way a user would index into the tree: ``params['w'][1]``."""
    return root + "".join(str(k) for k in path)


# --- the registry ---------------------------------------------------------------------------


class _NodeKind(NamedTuple):
    # flatten(node) -> (children, aux); unflatten(aux, children) -> node;
    # keys(node, aux) -> one key per child, for error messages.
    flatten: Callable[[Any], tuple[Sequence[Any], Hashable]]
    unflatten: Callable[[Hashable, Sequence[Any]], Any]
    keys: Callable[[Any, Hashable], Sequence[Any]]


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
    unflatten_func: Callable[[Hashable, Iterable[Any]], Any],
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
        return [SequenceKey(i) for i in range(len(flatten(node)[0]))]

    _registry[nodetype] = _NodeKind(flatten, lambda aux, ch: unflatten_func(aux, ch), keys)


def register_dataclass(
    nodetype: type,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] = (),
) -> type:
    """Register a dataclass as a pytree node; usable as a decorator.

    ``data_fields`` (default: every field not in ``meta_fields``) are children; ``meta_fields``
    are static, hashable data that becomes part of the tree structure.

    >>> @register_dataclass
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: float
    ...     b: float
    >>> tree_leaves(Params(w=1.0, b=2.0))
    [1.0, 2.0]
    """
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
        kwargs.update(zip(meta, aux, strict=True))  # type: ignore[arg-type]
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


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError as e:
        raise TypeError(
            f"dict keys in a pytree must be sortable (funcgrad orders them); got keys {list(d)!r}"
        ) from e


def _dict_flatten(d: dict) -> tuple[Sequence[Any], Hashable]:
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
            lambda aux, ch, _t=t: _t(*ch),
            lambda node, aux: [GetAttrKey(f) for f in type(node)._fields],
        )
    return None


# --- tree structure ------------------------------------------------------------------------


class PyTreeDef:
    """The structure of a pytree: node types, static data, and where the leaves go."""

    __slots__ = ("node_type", "aux", "children", "num_leaves", "_hash")

    def __init__(self, node_type: type | None, aux: Hashable, children: tuple[PyTreeDef, ...]):
        self.node_type = node_type  # None marks a leaf
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if node_type is None else sum(c.num_leaves for c in children)
        self._hash: int | None = None

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

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        if not isinstance(leaves, (list, tuple)):
            leaves = list(leaves)
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
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, inner, strict=True)) + "}"  # type: ignore[arg-type]
        if self.node_type is type(None):
            return "None"
        return f"{self.node_type.__name__}(" + ", ".join(inner) + ")"


_sentinel = object()
_LEAF = PyTreeDef(None, None, ())


def _flatten(x: Any, leaves: list, is_leaf: Callable[[Any], bool] | None,
             paths: list | None, path: tuple) -> PyTreeDef:
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


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
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
        if t is tuple and all(type(c) not in _registry and not isinstance(c, tuple) for c in tree):
            treedef = _TUPLES_OF_LEAVES.get(len(tree))
            if treedef is None:
                treedef = _TUPLES_OF_LEAVES[len(tree)] = PyTreeDef(tuple, None, (_LEAF,) * len(tree))
            return list(tree), treedef
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf, None, ())


_TUPLES_OF_LEAVES: dict[int, PyTreeDef] = {}


def tree_flatten_with_path(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[tuple[tuple, Any]], PyTreeDef]:
    """Like :func:`tree_flatten`, with each leaf paired with its key path.

    >>> [(keystr(p), v) for p, v in tree_flatten_with_path({"w": [1.0, 2.0]})[0]]
    [("['w'][0]", 1.0), ("['w'][1]", 2.0)]
    """
    leaves: list = []
    paths: list = []
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


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
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


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf-wise to one or more pytrees of the same structure.

    >>> tree_map(lambda a, b: a + b, {"w": 1.0, "b": 2.0}, {"w": 10.0, "b": 20.0})
    {'b': 22.0, 'w': 11.0}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for i, r in enumerate(rest):
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            raise TreeMismatchError(
                f"tree_map: tree {i + 1} has structure {r_def}, but the first tree has {treedef}; "
                "all trees passed to tree_map must have the same structure."
            )
        others.append(r_leaves)
    return treedef.unflatten(f(*args) for args in zip(leaves, *others, strict=True))


def describe_unregistered(x: Any) -> str:
    """A hint for a leaf that looks like a container the user forgot to register."""
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
