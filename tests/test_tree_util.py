"""funcgrad.tree_util: flatten/unflatten, the node registry, tree_map, key paths."""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import numpy as np
import pytest

from funcgrad import tree_util as tu
from funcgrad.errors import TreeMismatchError

Point = namedtuple("Point", ["x", "y"])


class Box:
    """A user class registered with register_pytree_node; ``tag`` is static (aux) data."""

    def __init__(self, a, b, tag):
        self.a, self.b, self.tag = a, b, tag

    def __eq__(self, other):
        return type(other) is Box and (self.a, self.b, self.tag) == (other.a, other.b, other.tag)


tu.register_pytree_node(Box, lambda box: ((box.a, box.b), box.tag), lambda tag, ch: Box(ch[0], ch[1], tag))


@tu.register_dataclass
@dataclasses.dataclass
class Params:
    w: object
    b: object


@dataclasses.dataclass(frozen=True)
class Layer:
    w: object
    b: object
    activation: str


tu.register_dataclass(Layer, data_fields=["w", "b"], meta_fields=["activation"])


def _nested():
    return {
        "z": [1.0, (2.0, None)],
        "a": Point(3.0, {"k": 4.0}),
        "layer": Layer(5.0, 6.0, "relu"),
        "box": Box(7.0, [8.0], "t"),
        "p": Params(9.0, 10.0),
    }


# --- flatten / unflatten ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tree",
    [
        1.0,
        np.arange(3.0),
        (),
        [],
        {},
        None,
        (1.0, [2.0, {"a": 3.0}]),
        Point(1.0, 2.0),
        Params(np.ones(2), np.zeros(())),
        Layer(1.0, 2.0, "tanh"),
        Box(1.0, (2.0, 3.0), "x"),
        [None, (None,), {"n": None}],
    ],
    ids=lambda t: type(t).__name__,
)
def test_flatten_unflatten_round_trip(tree):
    leaves, treedef = tu.tree_flatten(tree)
    back = tu.tree_unflatten(treedef, leaves)
    assert type(back) is type(tree)
    assert tu.tree_structure(back) == treedef
    for a, b in zip(tu.tree_leaves(back), leaves, strict=True):
        assert a is b  # unflatten puts the very same objects back


def test_round_trip_nested_everything():
    tree = _nested()
    leaves, treedef = tu.tree_flatten(tree)
    assert leaves == [3.0, 4.0, 7.0, 8.0, 5.0, 6.0, 9.0, 10.0, 1.0, 2.0]
    back = tu.tree_unflatten(treedef, leaves)
    assert back == tree
    assert back["layer"].activation == "relu" and back["box"].tag == "t"
    assert treedef.num_leaves == 10


def test_unflatten_with_new_leaves():
    treedef = tu.tree_structure({"b": (1, 2), "a": [3]})
    assert tu.tree_unflatten(treedef, iter([10, 20, 30])) == {"a": [10], "b": (20, 30)}


def test_dict_keys_are_sorted():
    leaves, treedef = tu.tree_flatten({"b": 2, "c": 3, "a": 1})
    assert leaves == [1, 2, 3]
    back = tu.tree_unflatten(treedef, leaves)
    assert list(back) == ["a", "b", "c"]
    # insertion order does not matter: same structure
    assert tu.tree_structure({"a": 0, "b": 0}) == tu.tree_structure({"b": 0, "a": 0})


def test_unsortable_dict_keys_error():
    with pytest.raises(TypeError, match="sortable"):
        tu.tree_flatten({1: 1.0, "a": 2.0})


def test_none_is_an_empty_node():
    assert tu.tree_leaves(None) == []
    assert tu.tree_leaves([None, 1.0, (None,)]) == [1.0]
    leaves, treedef = tu.tree_flatten((1.0, None))
    assert tu.tree_unflatten(treedef, [5.0]) == (5.0, None)
    # None is a node, not a leaf: it does not match a leaf
    assert tu.tree_structure((None,)) != tu.tree_structure((1.0,))
    assert tu.tree_map(lambda v: v + 1, [None, 1]) == [None, 2]


def test_namedtuple():
    leaves, treedef = tu.tree_flatten(Point(1.0, (2.0, 3.0)))
    assert leaves == [1.0, 2.0, 3.0]
    back = tu.tree_unflatten(treedef, [4.0, 5.0, 6.0])
    assert isinstance(back, Point) and back == Point(4.0, (5.0, 6.0))
    assert tu.tree_structure(Point(1, 2)) != tu.tree_structure((1, 2))


def test_containers_of_different_types_differ():
    assert tu.tree_structure([1]) != tu.tree_structure((1,))
    assert tu.tree_structure({"a": 1}) != tu.tree_structure({"b": 1})
    assert tu.tree_structure((1, 2)) != tu.tree_structure((1, 2, 3))
    assert tu.tree_structure(1.0) == tu.tree_structure(np.ones(5))  # leaves are all alike


def test_arrays_and_numbers_are_leaves():
    a = np.ones((2, 3))
    assert tu.tree_leaves([a, np.float32(1.0), 2, "s"]) == [a, np.float32(1.0), 2, "s"]
    assert tu.tree_leaves(a)[0] is a


def test_register_pytree_node():
    box = Box(1.0, [2.0, 3.0], "tag")
    leaves, treedef = tu.tree_flatten(box)
    assert leaves == [1.0, 2.0, 3.0]
    back = tu.tree_unflatten(treedef, [4.0, 5.0, 6.0])
    assert back == Box(4.0, [5.0, 6.0], "tag")
    # aux data is part of the structure
    assert tu.tree_structure(Box(0, 0, "x")) != tu.tree_structure(Box(0, 0, "y"))
    assert tu.tree_structure(Box(0, 0, "x")) == tu.tree_structure(Box(1, 1, "x"))


def test_register_twice_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        tu.register_pytree_node(Box, lambda b: ((), None), lambda aux, ch: None)
    with pytest.raises(ValueError, match="already registered"):
        tu.register_dataclass(Params)


def test_register_dataclass_default_fields():
    p = Params(np.ones(2), 3.0)
    leaves, treedef = tu.tree_flatten(p)
    assert leaves[0] is p.w and leaves[1] == 3.0
    back = tu.tree_unflatten(treedef, [1.0, 2.0])
    assert isinstance(back, Params) and (back.w, back.b) == (1.0, 2.0)


def test_register_dataclass_meta_fields():
    layer = Layer(np.ones(2), np.zeros(2), "relu")
    leaves, treedef = tu.tree_flatten(layer)
    assert len(leaves) == 2  # activation is static, not a leaf
    back = tu.tree_unflatten(treedef, ["W", "B"])
    assert isinstance(back, Layer)  # frozen dataclass rebuilt
    assert (back.w, back.b, back.activation) == ("W", "B", "relu")
    assert tu.tree_structure(Layer(1, 2, "relu")) == tu.tree_structure(Layer(3, 4, "relu"))
    assert tu.tree_structure(Layer(1, 2, "relu")) != tu.tree_structure(Layer(1, 2, "tanh"))
    assert hash(tu.tree_structure(Layer(1, 2, "relu"))) == hash(tu.tree_structure(Layer(3, 4, "relu")))


def test_register_dataclass_rejects_non_dataclass():
    class NotADataclass:
        pass

    with pytest.raises(TypeError, match="dataclass"):
        tu.register_dataclass(NotADataclass)


def test_register_dataclass_validates_field_names():
    def fresh():
        @dataclasses.dataclass
        class Conv:
            w: object
            b: object
            stride: int

        return Conv

    with pytest.raises(ValueError, match=r"\['x'\] are not fields.*\['w', 'b', 'stride'\]"):
        tu.register_dataclass(fresh(), data_fields=["w", "x"], meta_fields=["stride"])
    with pytest.raises(ValueError, match="both data_fields and meta_fields"):
        tu.register_dataclass(fresh(), data_fields=["w", "b", "stride"], meta_fields=["stride"])
    with pytest.raises(ValueError, match=r"\['b'\] are in neither data_fields nor meta_fields"):
        tu.register_dataclass(fresh(), data_fields=["w"], meta_fields=["stride"])
    with pytest.raises(TypeError, match=r"got the string 'stride'; write \['stride'\]"):
        tu.register_dataclass(fresh(), meta_fields="stride")
    with pytest.raises(TypeError, match="expects a dataclass"):
        tu.register_dataclass(Params(1.0, 2.0))  # an instance, not the class
    cls = fresh()
    tu.register_dataclass(cls, meta_fields=["stride"])  # data_fields default to the rest
    assert tu.tree_leaves(cls(1.0, 2.0, 3)) == [1.0, 2.0]


def test_unflatten_wrong_number_of_leaves():
    treedef = tu.tree_structure((1, [2, 3]))
    with pytest.raises(TreeMismatchError, match=r"3 leaves, but 2 were given"):
        tu.tree_unflatten(treedef, [1, 2])
    with pytest.raises(TreeMismatchError, match=r"3 leaves, but 4 were given"):
        tu.tree_unflatten(treedef, [1, 2, 3, 4])
    with pytest.raises(ValueError):  # TreeMismatchError is a ValueError
        tu.tree_unflatten(treedef, [])


def test_unflatten_with_swapped_arguments():
    leaves, treedef = tu.tree_flatten((1, 2))
    with pytest.raises(TypeError, match=r"expects a PyTreeDef first.*got a list \(the arguments look swapped\)"):
        tu.tree_unflatten(leaves, treedef)


# --- tree_map / tree_leaves / tree_structure --------------------------------------------------


def test_tree_map_one_tree():
    tree = _nested()
    doubled = tu.tree_map(lambda v: v * 2, tree)
    assert tu.tree_structure(doubled) == tu.tree_structure(tree)
    assert tu.tree_leaves(doubled) == [2 * v for v in tu.tree_leaves(tree)]
    assert doubled["layer"].activation == "relu"


def test_tree_map_several_trees():
    a = {"w": np.ones(2), "b": (1.0, None)}
    b = {"w": np.full(2, 2.0), "b": (10.0, None)}
    c = {"w": np.full(2, 3.0), "b": (100.0, None)}
    out = tu.tree_map(lambda x, y, z: x + y * z, a, b, c)
    np.testing.assert_array_equal(out["w"], [7.0, 7.0])
    assert out["b"] == (1001.0, None)


@pytest.mark.parametrize(
    "first, second",
    [
        ({"a": 1}, {"b": 1}),
        ([1, 2], (1, 2)),
        ([1, 2], [1, 2, 3]),
        ((1, None), (1, 2)),
        (Layer(1, 2, "relu"), Layer(1, 2, "tanh")),
        ([1, {"a": 1}], [1, {"a": 1, "b": 2}]),
    ],
)
def test_tree_map_structure_mismatch(first, second):
    with pytest.raises(TreeMismatchError, match="same structure") as info:
        tu.tree_map(lambda x, y: x, first, second)
    assert isinstance(info.value, ValueError)
    assert str(tu.tree_structure(second)) in str(info.value)


def test_tree_map_is_leaf():
    f = lambda t: sum(t) if isinstance(t, tuple) else -t
    out = tu.tree_map(f, [(1, 2), (3,), [4, 5, 6]], is_leaf=lambda x: isinstance(x, tuple))
    assert out == [3, 3, [-4, -5, -6]]


def test_tree_leaves_order():
    assert tu.tree_leaves({"b": 1, "a": [2, 3]}) == [2, 3, 1]
    assert tu.tree_leaves([Point(1, 2), {"y": 3, "x": 4}]) == [1, 2, 4, 3]


def test_tree_structure_equality_and_hash():
    s1 = tu.tree_structure({"a": [np.ones(2), 1.0], "b": Point(1, None)})
    s2 = tu.tree_structure({"b": Point("x", None), "a": [0, np.zeros(7)]})
    assert s1 == s2 and hash(s1) == hash(s2)
    assert len({s1, s2}) == 1
    s3 = tu.tree_structure({"a": [1, 1], "b": Point(1, 2)})
    assert s1 != s3
    assert s1 != "not a treedef"
    assert repr(s1) == "PyTreeDef({'a': [*, *], 'b': Point(*, None)})"


def test_tree_structure_of_leaf_and_empty_containers():
    assert tu.tree_structure(1.0).num_leaves == 1
    assert tu.tree_structure(()).num_leaves == 0
    assert tu.tree_structure(()) != tu.tree_structure([])
    assert tu.tree_structure({}) != tu.tree_structure(None)


# --- key paths ---------------------------------------------------------------------------------


def test_tree_flatten_with_path_and_keystr():
    with_path, treedef = tu.tree_flatten_with_path(_nested())
    assert treedef == tu.tree_structure(_nested())
    got = [(tu.keystr(path), leaf) for path, leaf in with_path]
    assert got == [
        ("['a'].x", 3.0),
        ("['a'].y['k']", 4.0),
        ("['box'][0]", 7.0),
        ("['box'][1][0]", 8.0),
        ("['layer'].w", 5.0),
        ("['layer'].b", 6.0),
        ("['p'].w", 9.0),
        ("['p'].b", 10.0),
        ("['z'][0]", 1.0),
        ("['z'][1][0]", 2.0),
    ]


def test_key_types_and_keystr_root():
    with_path, _ = tu.tree_flatten_with_path({"w": [0.0, 1.0]})
    path, leaf = with_path[1]
    assert path == (tu.DictKey("w"), tu.SequenceKey(1)) and leaf == 1.0
    assert tu.keystr(path) == "['w'][1]"
    assert tu.keystr(path, "params") == "params['w'][1]"
    assert tu.keystr((tu.GetAttrKey("layer"), tu.DictKey(3))) == ".layer[3]"
    assert tu.keystr(()) == ""


def test_flatten_with_path_matches_flatten():
    tree = [{"a": (1, 2)}, Point(3, [4]), None, Box(5, 6, "t")]
    with_path, treedef = tu.tree_flatten_with_path(tree)
    leaves, treedef2 = tu.tree_flatten(tree)
    assert [leaf for _, leaf in with_path] == leaves
    assert treedef == treedef2


def test_flatten_with_path_is_leaf():
    with_path, _ = tu.tree_flatten_with_path({"a": (1, 2), "b": [3]}, is_leaf=lambda x: isinstance(x, tuple))
    assert [(tu.keystr(p), v) for p, v in with_path] == [("['a']", (1, 2)), ("['b'][0]", 3)]


# --- issue 9 §3: the rest of jax.tree_util -------------------------------------------------------


def test_key_types_compare_by_type_and_render():
    assert tu.SequenceKey(1) != tu.FlattenedIndexKey(1)
    assert tu.DictKey("a") == tu.DictKey("a") and hash(tu.DictKey("a")) == hash(tu.DictKey("a"))
    assert (tu.SequenceKey(1).idx, tu.DictKey("k").key, tu.GetAttrKey("w").name, tu.FlattenedIndexKey(2).key) == (
        1, "k", "w", 2)
    with_path, _ = tu.tree_flatten_with_path(Box(1.0, 2.0, "t"))
    assert [p for p, _ in with_path] == [(tu.FlattenedIndexKey(0),), (tu.FlattenedIndexKey(1),)]
    assert tu.keystr((tu.FlattenedIndexKey(3),)) == "[3]"


def test_tree_map_with_path_and_leaves_with_path():
    tree = {"b": [1.0, 2.0], "a": Point(3.0, None)}
    out = tu.tree_map_with_path(lambda p, x, y: (tu.keystr(p), x + y), tree, tu.tree_map(lambda v: 10 * v, tree))
    assert out == {"a": Point(("['a'].x", 33.0), None), "b": [("['b'][0]", 11.0), ("['b'][1]", 22.0)]}
    assert [(tu.keystr(p), v) for p, v in tu.tree_leaves_with_path(tree)] == [
        ("['a'].x", 3.0), ("['b'][0]", 1.0), ("['b'][1]", 2.0)]


def test_tree_map_with_prefix_rest_trees():
    out = tu.tree_map(lambda a, b: (a, b), {"x": 1, "y": 2}, {"x": [3, 4], "y": {"k": 5}})
    assert out == {"x": (1, [3, 4]), "y": (2, {"k": 5})}
    # A leaf of the first tree may stand for None (an empty node) in the others.
    assert tu.tree_map(lambda a, b: b, [1, 2], [None, (3,)]) == [None, (3,)]
    with pytest.raises(TreeMismatchError, match=r"\['y'\]"):
        tu.tree_map(lambda a, b: a, {"x": 1, "y": [1, 2]}, {"x": 1, "y": [1, 2, 3]})


def test_treedef_counts_children_node_data():
    treedef = tu.tree_structure({"a": (1.0, None), "b": [2.0, 3.0]})
    assert treedef.num_leaves == 3
    assert treedef.num_nodes == 7  # dict, tuple, leaf, None, list, leaf, leaf (None is a node, as in JAX)
    children = treedef.children()
    assert isinstance(children, list) and children == tu.treedef_children(treedef)
    assert children == [tu.tree_structure((0, None)), tu.tree_structure([0, 0])]
    assert treedef.node_data() == (dict, ("a", "b"))
    assert tu.tree_structure(1.0).node_data() is None
    assert tu.treedef_is_leaf(tu.tree_structure(1.0)) and not tu.treedef_is_leaf(treedef)
    assert tu.treedef_tuple([tu.tree_structure(1), treedef]) == tu.tree_structure((1, {"a": (1, None), "b": [1, 1]}))


def test_flatten_up_to_and_compose():
    treedef = tu.tree_structure([0, {"k": 0}])
    assert treedef.flatten_up_to([(1, 2), {"k": {"deep": 3}}]) == [(1, 2), {"deep": 3}]
    with pytest.raises(TreeMismatchError, match=r"\[1\]"):
        treedef.flatten_up_to([1, {"j": 2}])
    with pytest.raises(TreeMismatchError, match="list"):
        treedef.flatten_up_to((1, {"k": 2}))
    with pytest.raises(TreeMismatchError, match="leaf"):
        treedef.flatten_up_to(5)
    composed = tu.tree_structure((0, 0)).compose(tu.tree_structure({"a": 0, "b": [0]}))
    assert composed == tu.tree_structure(({"a": 0, "b": [0]}, {"a": 0, "b": [0]}))
    assert composed.num_leaves == 4
    assert composed.unflatten([1, 2, 3, 4]) == ({"a": 1, "b": [2]}, {"a": 3, "b": [4]})
    with pytest.raises(TypeError, match="PyTreeDef"):
        treedef.compose([0])


def test_tree_transpose():
    outer, inner = tu.tree_structure([0, 0, 0]), tu.tree_structure({"a": 0, "b": (0, 0)})
    tree = [{"a": i, "b": (10 * i, 100 * i)} for i in range(3)]
    want = {"a": [0, 1, 2], "b": ([0, 10, 20], [0, 100, 200])}
    assert tu.tree_transpose(outer, inner, tree) == want
    assert tu.tree_transpose(outer, None, tree) == want
    # Transposing back recovers the original.
    assert tu.tree_transpose(inner, outer, want) == tree
    with pytest.raises(TreeMismatchError):
        tu.tree_transpose(outer, inner, [{"a": 0, "b": (0, 0)}] * 2)
    with pytest.raises(TypeError, match="outer_treedef"):
        tu.tree_transpose([0], inner, tree)


def test_tree_broadcast_reduce_all_and_all_leaves():
    assert tu.tree_broadcast({"x": 1, "y": 2}, {"x": [0, 0], "y": {"a": 0, "b": 0}}) == {
        "x": [1, 1], "y": {"a": 2, "b": 2}}
    assert tu.tree_broadcast(7, (0, [0])) == (7, [7])
    assert tu.tree_reduce(lambda a, b: a * b, [2, (3, 4)]) == 24
    assert tu.tree_reduce(lambda a, b: a + b, [], 5) == 5
    with pytest.raises(TypeError, match="initializer"):
        tu.tree_reduce(lambda a, b: a + b, [])
    assert tu.tree_reduce(lambda a, b: a + [b], [(1,), 2], []) == [1, 2]
    assert tu.tree_all({"a": True, "b": [1, 2.0]}) and not tu.tree_all([1, (0,)])
    assert tu.tree_all([])
    assert tu.all_leaves([1.0, np.ones(2), "s"])
    assert not tu.all_leaves([1.0, None]) and not tu.all_leaves([[1.0]])
    assert tu.all_leaves([(1, 2)], is_leaf=lambda x: isinstance(x, tuple))


def test_register_pytree_with_keys():
    class Named:
        def __init__(self, w, b):
            self.w, self.b = w, b

    tu.register_pytree_with_keys(
        Named, lambda n: (((tu.GetAttrKey("w"), n.w), (tu.GetAttrKey("b"), n.b)), "meta"),
        lambda aux, ch: Named(*ch))
    with_path, treedef = tu.tree_flatten_with_path({"layer": Named(1.0, [2.0])})
    assert [(tu.keystr(p), v) for p, v in with_path] == [("['layer'].w", 1.0), ("['layer'].b[0]", 2.0)]
    back = treedef.unflatten([3.0, 4.0])["layer"]
    assert (back.w, back.b) == (3.0, [4.0])
    with pytest.raises(ValueError, match="already registered"):
        tu.register_pytree_with_keys(Named, lambda n: ((), None), lambda aux, ch: None)

    class Bad:
        pass

    tu.register_pytree_with_keys(Bad, lambda n: ([1.0], None), lambda aux, ch: Bad())
    with pytest.raises(TypeError, match="pairs"):
        tu.tree_flatten(Bad())


def test_register_pytree_node_class_and_static():
    @tu.register_pytree_node_class
    class Scaled:
        def __init__(self, x, scale):
            self.x, self.scale = x, scale

        def tree_flatten(self):
            return (self.x,), self.scale

        @classmethod
        def tree_unflatten(cls, scale, children):
            return cls(children[0], scale)

    leaves, treedef = tu.tree_flatten(Scaled(np.ones(2), 3))
    assert len(leaves) == 1 and treedef.unflatten([5.0]).scale == 3
    with pytest.raises(TypeError, match="tree_unflatten"):
        tu.register_pytree_node_class(type("NoMethods", (), {}))

    @tu.register_static
    @dataclasses.dataclass(frozen=True)
    class Config:
        depth: int

    tree = {"cfg": Config(2), "w": 1.0}
    leaves, treedef = tu.tree_flatten(tree)
    assert leaves == [1.0]
    assert treedef.unflatten([2.0]) == {"cfg": Config(2), "w": 2.0}
    assert tu.tree_structure({"cfg": Config(3), "w": 1.0}) != treedef


def test_partial_is_a_pytree_through_transformations():
    import funcgrad as fg
    import funcgrad.numpy as fnp

    scale = tu.Partial(lambda s, x, power=1: s * x ** power, np.array(2.0), power=3)
    leaves, treedef = tu.tree_flatten(scale)
    assert len(leaves) == 2 and np.array_equal(leaves[0], 2.0) and leaves[1] == 3
    assert isinstance(treedef.unflatten(leaves), tu.Partial)
    assert scale(np.array(1.5)) == 2.0 * 1.5 ** 3
    # A Partial argument: differentiate with respect to its bound array.
    g = fg.grad(lambda p: fnp.sum(p(np.array([1.0, 2.0]))))(tu.Partial(lambda s, x: s * x, np.array(3.0)))
    assert isinstance(g, tu.Partial) and np.allclose(g.args[0], 3.0)
