"""The IR (funcgrad.ir): hand-built programs through the validator, the printer, to_dot(), every
pass (DCE, CSE, constant folding, broadcast removal, liveness) and code generation.

Programs here are built by hand from Var/Eqn/Program and the registered primitives, so each pass
is tested on exactly the situation it is meant for. Expected values come from NumPy.
"""

from __future__ import annotations

import linecache

import numpy as np
import pytest

from funcgrad.core import primitives as P
from funcgrad.ir import Eqn, Literal, Program, ShapedArray, Var, validate
from funcgrad.ir.codegen import generate
from funcgrad.ir.passes import cse, dce, drop_broadcasts, fold_constants, last_uses, optimize
from funcgrad.traces.staging import eval_program

F64 = np.dtype("float64")
F32 = np.dtype("float32")
BOOL = np.dtype("bool")


def var(*shape, dtype=F64, weak=False):
    return Var(ShapedArray(tuple(shape), np.dtype(dtype), weak))


def eqn(name, inputs, out, **params):
    return Eqn(P[name], tuple(inputs), out, params)


def run(program, *args):
    """Run a program by its generated code, and check the result against eval_program."""
    got = generate(program).fn(*args)
    want = eval_program(program, *args)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    return got


def prims_of(program):
    return [e.prim.name for e in program.eqns]


# --- a small program used by several tests ------------------------------------------------------
#   c = sin(a); d = cos(a) (dead); e = c * 2.0; out e


def sin_times_two():
    a, c, d, e = var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], c), eqn("cos", [a], d), eqn("multiply", [c, Literal(2.0)], e)], [e])
    return prog, (a, c, d, e)


# --- validate -----------------------------------------------------------------------------------


def test_validate_accepts_well_formed_programs():
    prog, _ = sin_times_two()
    validate(prog)
    # constants, literals, several outputs, an input passed straight through, a literal output
    k, x, y, z = var(3), var(2, 3), var(2, 3), var(2)
    prog = Program([x], [eqn("add", [x, k], y), eqn("sum", [y], z, axis=(1,), keepdims=False)],
                   [z, x, Literal(1.5)], consts={k: np.arange(3.0)})
    validate(prog)


def test_validate_rejects_use_before_definition():
    a, b, c = var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [b], c), eqn("cos", [a], b)], [c])
    with pytest.raises(ValueError, match="before it is defined"):
        validate(prog)


def test_validate_rejects_an_operand_from_nowhere():
    a, stray, c = var(3), var(3), var(3)
    with pytest.raises(ValueError, match="before it is defined"):
        validate(Program([a], [eqn("add", [a, stray], c)], [c]))


@pytest.mark.parametrize("declared", [ShapedArray((4,), F64), ShapedArray((3,), F32), ShapedArray((), F64)],
                         ids=["wrong-shape", "wrong-dtype", "wrong-rank"])
def test_validate_rejects_a_wrongly_declared_type(declared):
    a, out = var(3), Var(declared)
    with pytest.raises(ValueError, match=r"declares output .* but its operands give f64\[3\]"):
        validate(Program([a], [eqn("sin", [a], out)], [out]))


def test_validate_checks_dtype_promotion_and_reductions():
    x, y, ok, bad = var(3, dtype=F32), var(3, dtype=F64), var(3), var(3, dtype=F32)
    validate(Program([x, y], [eqn("add", [x, y], ok)], [ok]))
    with pytest.raises(ValueError, match="declares output"):
        validate(Program([x, y], [eqn("add", [x, y], bad)], [bad]))
    # a Python-scalar literal is weakly typed: float32 stays float32
    out = var(3, dtype=F32)
    validate(Program([x], [eqn("multiply", [x, Literal(2.0)], out)], [out]))
    m, s = var(2, 3), var(3)
    validate(Program([m], [eqn("sum", [m], s, axis=(0,), keepdims=False)], [s]))
    with pytest.raises(ValueError, match="declares output"):
        validate(Program([m], [eqn("sum", [m], s, axis=(1,), keepdims=False)], [s]))


def test_validate_rejects_redefinition():
    a, b = var(3), var(3)
    with pytest.raises(ValueError, match="redefines"):
        validate(Program([a], [eqn("sin", [a], b), eqn("cos", [a], b)], [b]))
    with pytest.raises(ValueError, match="redefines"):  # an equation writing over an input
        validate(Program([a], [eqn("sin", [a], a)], [a]))
    with pytest.raises(ValueError, match="bound twice"):
        validate(Program([a, a], [], [a]))
    k = var(3)
    with pytest.raises(ValueError, match="bound twice"):  # a constant that is also an input
        validate(Program([k], [], [k], consts={k: np.zeros(3)}))


def test_validate_rejects_undefined_outputs_and_bad_operands():
    a, b, ghost = var(3), var(3), var(3)
    with pytest.raises(ValueError, match="never defined"):
        validate(Program([a], [eqn("sin", [a], b)], [ghost]))
    with pytest.raises(ValueError, match="neither a Var nor a Literal"):
        validate(Program([a], [eqn("add", [a, 2.0], b)], [b]))


def test_validate_accepts_a_constant_boolean_mask():
    x, m, out = var(4), var(4, dtype=BOOL), var(2)
    prog = Program([x], [eqn("getitem", [x, m], out, spec=(("a", 0),))], [out],
                   consts={m: np.array([True, False, True, False])})
    validate(prog)
    np.testing.assert_array_equal(run(prog, np.arange(4.0))[0], [0.0, 2.0])


# --- the printer and to_dot ---------------------------------------------------------------------


def test_printer_shows_types_primitives_params_literals_and_outputs():
    k, x, y, z = var(3), var(2, 3, dtype=F32), var(2, 3, dtype=F64), var(2)
    w = var(2, 3, dtype=F32)
    prog = Program([x], [eqn("multiply", [x, Literal(2.5)], w), eqn("add", [w, k], y),
                         eqn("sum", [y], z, axis=(1,), keepdims=False)], [z, x], consts={k: np.ones(3)})
    text = str(prog)
    lines = text.splitlines()
    # consts and inputs are separated by ';' in the binder line, JAX-style
    assert lines[0].startswith("{ lambda ") and " ; " in lines[0] and lines[0].endswith(". let")
    assert "f64[3]" in lines[0] and "f32[2,3]" in lines[0]
    assert len(lines) == 1 + len(prog.eqns) + 1  # one line per equation
    assert "multiply" in lines[1] and "2.5" in lines[1] and "f32[2,3]" in lines[1]
    assert "add" in lines[2] and "f64[2,3]" in lines[2]
    assert "sum[" in lines[3] and "axis=(1,)" in lines[3] and "keepdims=False" in lines[3]
    assert lines[-1].strip().startswith("in (") and lines[-1].strip().endswith(") }")
    # each variable has one name, used consistently: the output of line 1 is an operand of line 2
    out1 = lines[1].split(":")[0].strip()
    assert out1 in lines[2].split("=")[1].split()
    assert repr(prog) == text


def test_printer_marks_weak_types_and_names_many_variables():
    s = var(weak=True)
    vars_ = [var() for _ in range(30)]
    eqns, prev = [], s
    for v in vars_:
        eqns.append(eqn("sin", [prev], v))
        prev = v
    text = str(Program([s], eqns, [prev]))
    assert "~weak" in text.splitlines()[0]
    names = [line.split(":")[0].strip() for line in text.splitlines()[1:-1]]
    assert len(set(names)) == 30  # distinct names past 26 letters


def test_printer_single_output_and_no_constants():
    prog, _ = sin_times_two()
    lines = str(prog).splitlines()
    assert lines[0] == "{ lambda a:f64[3]. let"
    assert lines[-1].strip().endswith(",) }")  # a 1-tuple of outputs, as Python writes it


def test_to_dot_structure():
    # y = x * 2.0; w = y + k; z = sum(w)
    k, x, y, w, z = var(3), var(3), var(3), var(3), var()
    prog = Program([x], [eqn("multiply", [x, Literal(2.0)], y), eqn("add", [y, k], w),
                         eqn("sum", [w], z, axis=None, keepdims=False)], [z], consts={k: np.ones(3)})
    dot = prog.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    assert dot.count('"') % 2 == 0
    for i, e in enumerate(prog.eqns):
        assert f'"eqn{i}"' in dot and f'label="{e.prim.name}"' in dot
    assert "invhouse" in dot  # the input
    assert "dashed" in dot and "(const)" in dot  # the constant
    assert 'label="2.0"' in dot  # the literal
    assert '"out0"' in dot
    edges = [line for line in dot.splitlines() if "->" in line]
    # every equation has one edge per operand and one to its result, plus one per output
    assert len(edges) == sum(len(e.inputs) + 1 for e in prog.eqns) + len(prog.outputs)
    # the data flow: eqn0's result feeds eqn1, eqn1's result feeds eqn2
    names = {}
    for line in dot.splitlines():
        if '" -> "' in line:
            src, dst = (s.strip(' ";') for s in line.split("->"))
            names.setdefault(dst, []).append(src)
    out0 = next(n for n in names if names[n] == ["eqn0"])
    assert out0 in names["eqn1"]
    out1 = next(n for n in names if names[n] == ["eqn1"])
    assert out1 in names["eqn2"]


# --- dead-code elimination ----------------------------------------------------------------------


def test_dce_drops_dead_equations_and_keeps_live_ones():
    prog, (a, c, d, e) = sin_times_two()
    out = dce(prog)
    assert prims_of(out) == ["sin", "multiply"]
    assert prims_of(prog) == ["sin", "cos", "multiply"]  # the argument is not mutated
    validate(out)
    x = np.linspace(0, 1, 3)
    np.testing.assert_array_equal(run(out, x)[0], np.sin(x) * 2.0)


def test_dce_drops_dead_chains_and_unused_constants():
    a, k1, k2 = var(3), var(3), var(3)
    t1, t2, t3, live = var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("add", [a, k1], t1), eqn("exp", [t1], t2), eqn("log", [t2], t3),  # dead chain
                         eqn("multiply", [a, k2], live)], [live], consts={k1: np.ones(3), k2: np.full(3, 2.0)})
    out = dce(prog)
    assert prims_of(out) == ["multiply"]
    assert set(out.consts) == {k2}
    validate(out)


def test_dce_keeps_everything_when_all_is_live_and_handles_trivial_programs():
    a, b, c = var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], b), eqn("cos", [b], c)], [c, b])
    assert prims_of(dce(prog)) == ["sin", "cos"]
    # outputs that are inputs or literals only: nothing to compute
    prog = Program([a], [eqn("sin", [a], b)], [a, Literal(3.0)])
    assert dce(prog).eqns == []


# --- common-subexpression elimination -----------------------------------------------------------


def test_cse_merges_duplicates_and_renames_their_uses():
    a, s1, s2, t, u = var(3), var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], s1), eqn("sin", [a], s2), eqn("multiply", [s1, s2], t),
                         eqn("add", [s2, Literal(1.0)], u)], [t, u, s2])
    out = cse(prog)
    assert prims_of(out) == ["sin", "multiply", "add"]
    assert out.eqns[1].inputs == (s1, s1)
    assert out.eqns[2].inputs[0] is s1
    assert out.outputs[2] is s1  # outputs are renamed too
    assert prims_of(prog) == ["sin", "sin", "multiply", "add"]
    validate(out)
    x = np.array([0.1, 0.2, 0.3])
    got = run(out, x)
    np.testing.assert_array_equal(got[0], np.sin(x) * np.sin(x))
    np.testing.assert_array_equal(got[1], np.sin(x) + 1.0)


def test_cse_merges_transitively():
    # sin(a) twice, then cos of each: once the sins merge, the cos equations are duplicates too
    a, s1, s2, c1, c2, out = var(3), var(3), var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], s1), eqn("sin", [a], s2), eqn("cos", [s1], c1), eqn("cos", [s2], c2),
                         eqn("subtract", [c1, c2], out)], [out])
    assert prims_of(cse(prog)) == ["sin", "cos", "subtract"]


def test_cse_does_not_merge_different_params_literals_or_operands():
    m = var(2, 3)
    r0, r1 = var(3), var(2)
    a, b = var(3), var(3)
    x1, x2, x3, x4, x5 = var(3), var(3), var(3), var(3), var(3)
    prog = Program([m, a, b], [
        eqn("sum", [m], r0, axis=(0,), keepdims=False),
        eqn("sum", [m], r1, axis=(1,), keepdims=False),  # other params
        eqn("multiply", [a, Literal(2.0)], x1),
        eqn("multiply", [a, Literal(3.0)], x2),  # other literal
        eqn("multiply", [b, Literal(2.0)], x3),  # other operand
        eqn("multiply", [a, Literal(0.0)], x4),
        eqn("multiply", [a, Literal(-0.0)], x5),  # 0.0 == -0.0, but the results' zeros differ in sign
    ], [r0, r1, x1, x2, x3, x4, x5])
    out = cse(prog)
    assert len(out.eqns) == len(prog.eqns)
    got = run(out, np.ones((2, 3)), -np.ones(3), np.ones(3))
    assert np.all(np.signbit(got[5])) and not np.any(np.signbit(got[6]))


def test_cse_merges_equal_literals_but_not_int_and_float():
    a = var(3)
    x1, x2, x3 = var(3), var(3), var(3)
    prog = Program([a], [eqn("multiply", [a, Literal(2.0)], x1), eqn("multiply", [a, Literal(2.0)], x2),
                         eqn("multiply", [a, Literal(2)], x3)], [x1, x2, x3])
    out = cse(prog)
    assert len(out.eqns) == 2
    assert out.outputs[0] is out.outputs[1] and out.outputs[2] is not out.outputs[0]


def test_cse_merges_duplicates_of_an_unhashable_param_safely():
    # einsum's subscripts are a str (hashable); getitem specs are tuples; an unhashable param
    # (a list) must not crash CSE: the equation is kept as is.
    x, y1, y2 = var(3, 4), var(4, 3), var(4, 3)
    prog = Program([x], [Eqn(P["transpose"], (x,), y1, {"axes": [1, 0]}),
                         Eqn(P["transpose"], (x,), y2, {"axes": [1, 0]})], [y1, y2])
    out = cse(prog)
    assert len(out.eqns) == 2


# --- constant folding ---------------------------------------------------------------------------


def test_fold_constants_evaluates_constant_equations():
    a, k = var(3), var(3)
    kk, ke, out = var(3), var(3), var(3)
    prog = Program([a], [eqn("multiply", [k, Literal(2.0)], kk), eqn("exp", [kk], ke),  # constants only
                         eqn("add", [a, ke], out)], [out], consts={k: np.array([0.0, 0.5, 1.0])})
    folded = fold_constants(prog)
    assert prims_of(folded) == ["add"]
    assert set(folded.consts) == {ke}  # the intermediate constant and the original are gone (DCE)
    np.testing.assert_array_equal(folded.consts[ke], np.exp(np.array([0.0, 0.5, 1.0]) * 2.0))
    assert prims_of(prog) == ["multiply", "exp", "add"]  # not mutated
    validate(folded)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(run(folded, x)[0], x + np.exp(np.array([0.0, 0.5, 1.0]) * 2.0))


def test_fold_constants_keeps_work_on_inputs_and_folds_literal_only_equations():
    a, s, out = var(3), var(), var(3)
    prog = Program([a], [eqn("add", [Literal(1.0), Literal(2.0)], s), eqn("multiply", [a, s], out)], [out])
    folded = fold_constants(prog)
    assert prims_of(folded) == ["multiply"]
    np.testing.assert_array_equal(run(folded, np.ones(3))[0], np.full(3, 3.0))


def test_fold_constants_leaves_large_results_to_run_time():
    k, big, a, out = var(), var(1000), var(1000), var(1000)
    prog = Program([a], [eqn("broadcast_to", [k], big, shape=(1000,)), eqn("add", [a, big], out)], [out],
                   consts={k: np.array(2.0)})
    assert prims_of(fold_constants(prog, max_size=100)) == ["broadcast_to", "add"]
    assert prims_of(fold_constants(prog)) == ["add"]


def test_fold_constants_output_that_is_constant():
    k, kk = var(2), var(2)
    prog = Program([], [eqn("negative", [k], kk)], [kk], consts={k: np.array([1.0, -2.0])})
    folded = fold_constants(prog)
    assert folded.eqns == []
    np.testing.assert_array_equal(run(folded)[0], [-1.0, 2.0])


# --- broadcast removal --------------------------------------------------------------------------


def test_drop_broadcasts_removes_a_broadcast_feeding_an_elementwise_op():
    s, x, b, out = var(), var(4), var(4), var(4)
    prog = Program([s, x], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("multiply", [b, x], out)], [out])
    dropped = drop_broadcasts(prog)
    assert prims_of(dropped) == ["multiply"]
    assert dropped.eqns[0].inputs == (s, x)
    validate(dropped)
    np.testing.assert_array_equal(run(dropped, np.array(3.0), np.arange(4.0))[0], 3.0 * np.arange(4.0))


@pytest.mark.parametrize("case", ["output", "non-elementwise-user", "smaller-other", "literal-other",
                                  "same-broadcast-twice", "two-broadcasts", "weak-source"])
def test_drop_broadcasts_keeps_broadcasts_that_matter(case):
    s, b, out = var(), var(4), var(4)
    if case == "output":
        prog = Program([s], [eqn("broadcast_to", [s], b, shape=(4,))], [b])
    elif case == "non-elementwise-user":
        prog = Program([s], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("sin", [b], out)], [out])
    elif case == "smaller-other":
        t = var()
        prog = Program([s, t], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("add", [b, t], out)], [out])
    elif case == "literal-other":
        prog = Program([s], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("add", [b, Literal(1.0)], out)], [out])
    elif case == "same-broadcast-twice":  # b * b: its other operand is itself
        prog = Program([s], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("multiply", [b, b], out)], [out])
    elif case == "two-broadcasts":  # b1 + b2: at most one of them can go
        t, b2 = var(), var(4)
        prog = Program([s, t], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("broadcast_to", [t], b2, shape=(4,)),
                                eqn("add", [b, b2], out)], [out])
    else:  # a Python float broadcast to an array is float64; left alone it would promote weakly
        s = var(weak=True)
        x32 = var(4, dtype=F32)
        prog = Program([s, x32], [eqn("broadcast_to", [s], b, shape=(4,)), eqn("add", [b, x32], out)], [out])
    dropped = drop_broadcasts(prog)
    validate(prog)
    validate(dropped)  # whatever was dropped, every type is still what it was declared to be
    assert "broadcast_to" in prims_of(dropped)
    args = [np.array(2.0) if v.aval.shape == () and not v.aval.weak else 2.0 if v.aval.weak
            else np.arange(4.0).astype(v.aval.dtype) for v in prog.inputs]
    got = run(dropped, *args)
    want = eval_program(prog, *args)
    for g, w in zip(got, want, strict=True):
        assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(g, w)


def test_drop_broadcasts_also_drops_leading_unit_reshapes():
    x, r, m, out = var(3), var(1, 3), var(2, 3), var(2, 3)
    prog = Program([x, m], [eqn("reshape", [x], r, shape=(1, 3)), eqn("add", [m, r], out)], [out])
    dropped = drop_broadcasts(prog)
    assert prims_of(dropped) == ["add"]
    validate(dropped)


# --- liveness -----------------------------------------------------------------------------------


def test_last_uses():
    #   0: b = sin(a)   1: c = cos(b)   2: d = b * c   3: e = exp(d)  -> out (e, c)
    k, a, b, c, d, e = var(3), var(3), var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], b), eqn("cos", [b], c), eqn("multiply", [b, c], d),
                         eqn("add", [k, d], e)], [e, c], consts={k: np.ones(3)})
    lu = last_uses(prog)
    assert lu[0] == [a]  # inputs die too (codegen does not delete the caller's arrays)
    assert 1 not in lu  # b is still needed by equation 2
    assert lu[2] == [b]  # c is an output: never freed
    assert lu[3] == [d]  # k is a constant: never freed
    freed = [v for vs in lu.values() for v in vs]
    assert len(freed) == len(set(freed))  # each variable dies once


def test_last_uses_of_an_operand_used_twice_in_one_equation():
    a, b, c = var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], b), eqn("multiply", [b, b], c)], [c])
    assert last_uses(prog)[1] == [b]


# --- optimize and codegen -----------------------------------------------------------------------


def test_optimize_pipeline_keeps_values():
    k = var(3)
    a, kk, s1, s2, t, dead, out = var(3), var(3), var(3), var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("exp", [k], kk), eqn("sin", [a], s1), eqn("sin", [a], s2), eqn("cos", [a], dead),
                         eqn("multiply", [s1, s2], t), eqn("add", [t, kk], out)], [out],
                   consts={k: np.array([0.0, 1.0, 2.0])})
    opt = optimize(prog)
    validate(opt)
    assert prims_of(opt) == ["sin", "multiply", "add"]
    x = np.array([0.3, -1.0, 2.0])
    np.testing.assert_array_equal(run(opt, x)[0], eval_program(prog, x)[0])


def test_generate_source_one_line_per_equation_with_dels_and_linecache():
    a, b, c, d, e = var(3), var(3), var(3), var(3), var(3)
    prog = Program([a], [eqn("sin", [a], b), eqn("cos", [a], c), eqn("multiply", [b, c], d),
                         eqn("exp", [d], e)], [e])
    compiled = generate(prog, name="my prog")
    src = compiled.source
    lines = src.splitlines()
    assert lines[0].startswith("def my_prog(")
    assert lines[-1].strip().startswith("return (")
    # (after the check that the arguments are NumPy arrays, with its call of the general version)
    assert lines[1].strip().startswith("if type(a0) is not ") and lines[2].strip().startswith("return _general")
    body = [ln for ln in lines[3:-1] if not ln.strip().startswith("del ")]
    assert len(body) == len(prog.eqns)
    assert any(ln.strip().startswith("del ") for ln in lines)  # an intermediate is released
    # the source is registered, so tracebacks and pdb can show it
    assert linecache.getlines(compiled.filename) == src.splitlines(True)
    compile(src, "<check>", "exec")
    x = np.array([0.1, 0.2, 0.3])
    (got,) = compiled.fn(x)
    np.testing.assert_array_equal(got, np.exp(np.sin(x) * np.cos(x)))
    assert x.tolist() == [0.1, 0.2, 0.3]  # inputs are never modified


def test_generate_non_finite_and_complex_literals_and_0d_outputs():
    a, b, c, s = var(3), var(3), var(3), var()
    prog = Program([a], [eqn("maximum", [a, Literal(-np.inf)], b), eqn("minimum", [b, Literal(np.inf)], c),
                         eqn("sum", [c], s, axis=None, keepdims=False)], [c, s, Literal(np.nan)])
    got = generate(prog).fn(np.array([1.0, -2.0, 3.0]))
    np.testing.assert_array_equal(got[0], [1.0, -2.0, 3.0])
    assert type(got[1]) is np.ndarray and got[1].shape == () and got[1] == 2.0
    assert np.isnan(got[2])


def test_generate_output_that_is_an_input_or_repeated():
    a, b = var(2), var(2)
    prog = Program([a], [eqn("negative", [a], b)], [a, b, b])
    x = np.array([1.0, 2.0])
    got = generate(prog).fn(x)
    assert got[0] is x
    np.testing.assert_array_equal(got[1], -x)
    np.testing.assert_array_equal(got[2], -x)


def test_generate_handles_names_that_are_not_identifiers():
    a, b = var(2), var(2)
    compiled = generate(Program([a], [eqn("sin", [a], b)], [b]), name="<lambda>")
    assert compiled.source.startswith("def ")
    compiled = generate(Program([a], [eqn("sin", [a], b)], [b]), name="3d")
    np.testing.assert_array_equal(compiled.fn(np.zeros(2))[0], np.zeros(2))
