"""``funcgrad.tree``: JAX's short names for :mod:`funcgrad.tree_util` (``jax.tree.map``,
``jax.tree.leaves``, …).

>>> import funcgrad as fg
>>> fg.tree.map(lambda v: v * 2, {"a": 1, "b": (2, 3)})
{'a': 2, 'b': (4, 6)}
"""

from __future__ import annotations

from typing import Any

from .tree_util import tree_all as all  # noqa: A004
from .tree_util import tree_broadcast as broadcast
from .tree_util import tree_flatten as flatten
from .tree_util import tree_flatten_with_path as flatten_with_path
from .tree_util import tree_leaves as leaves
from .tree_util import tree_leaves_with_path as leaves_with_path
from .tree_util import tree_map as map  # noqa: A004
from .tree_util import tree_map_with_path as map_with_path
from .tree_util import tree_reduce as reduce
from .tree_util import tree_reduce_associative as reduce_associative
from .tree_util import tree_structure as structure
from .tree_util import tree_transpose as transpose
from .tree_util import tree_unflatten as unflatten

__all__ = ["all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path", "map", "map_with_path",
           "reduce", "reduce_associative", "static", "structure", "transpose", "unflatten"]


def static(**field_kwargs: Any) -> Any:
    """A dataclass field marked static (``metadata={"static": True}``; other arguments as
    :func:`dataclasses.field`): :func:`funcgrad.tree_util.register_dataclass` makes it part of the
    tree structure instead of a leaf.

    >>> import dataclasses, funcgrad as fg
    >>> @fg.tree_util.register_dataclass
    ... @dataclasses.dataclass
    ... class Op:
    ...     x: float
    ...     name: str = static(default="add")
    >>> fg.tree.leaves(Op(1.0))
    [1.0]
    """
    import dataclasses

    metadata = dict(field_kwargs.pop("metadata", None) or {})
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **field_kwargs)
