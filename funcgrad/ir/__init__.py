"""The IR: programs (``program``), passes over them (``passes``) and code generation (``codegen``)."""

from .program import Eqn, Literal, Program, ShapedArray, Var, validate

__all__ = ["Eqn", "Literal", "Program", "ShapedArray", "Var", "validate"]
