"""Every exception funcgrad raises on purpose, in one place.

Each subclasses the built-in exception a Python user would expect to catch (``TypeError`` for
a value of the wrong kind, ``ValueError`` for a value of the right kind but the wrong shape), so
``except TypeError`` keeps working, and each message says what was expected, what came, and the fix.
"""

from __future__ import annotations


class FuncgradError(Exception):
    """Base class of funcgrad's own errors."""


class NonScalarOutputError(FuncgradError, TypeError):
    """``grad`` was asked to differentiate a function whose output is not a scalar."""


class IntegerInputError(FuncgradError, TypeError):
    """A derivative was requested with respect to an integer or boolean input."""


class ArgnumsError(FuncgradError, ValueError):
    """``argnums`` names an argument the function was not called with."""


class HasAuxError(FuncgradError, TypeError):
    """``has_aux=True`` but the function did not return an ``(output, aux)`` pair."""


class CotangentMismatchError(FuncgradError, ValueError):
    """A cotangent given to a pullback does not match the output's tree, shape or dtype."""


class TangentMismatchError(FuncgradError, ValueError):
    """Tangents given to ``jvp`` do not match the primals' tree, shape or dtype."""


class InvalidLeafError(FuncgradError, TypeError):
    """A pytree holds a leaf that is not an array or a number."""


class TreeMismatchError(FuncgradError, ValueError):
    """Two pytrees that must share a structure do not."""


class LeakedTracerError(FuncgradError, RuntimeError):
    """A traced value was used after the transformation that made it had ended."""


class TracerConversionError(FuncgradError, TypeError):
    """A traced value was converted to a NumPy array or Python number, which drops its derivative."""


class UnsupportedNumpyFunctionError(FuncgradError, TypeError):
    """A NumPy function or ufunc method funcgrad does not cover was called on a traced value."""


class TracerAssignmentError(FuncgradError, TypeError):
    """In-place assignment ``x[i] = v`` was attempted on a traced value."""


class IndexingError(FuncgradError, IndexError):
    """An index funcgrad cannot use on a traced array (a traced float, a float index array)."""


class BatchedConcretizationError(FuncgradError, TypeError):
    """Python control flow or conversion was attempted on a value that differs across a vmap batch."""


class BatchAxisError(FuncgradError, ValueError):
    """vmap's in_axes/out_axes/axis_size disagree with the arguments (sizes, ranges, trees)."""


class CustomRuleError(FuncgradError, TypeError):
    """A custom_vjp/custom_jvp rule is missing or returned values that do not fit its function."""


class ConcretizationError(FuncgradError, TypeError):
    """A value staged by ``jit`` (known only by shape and dtype) was needed as a concrete value."""


class StaticArgumentError(FuncgradError, TypeError):
    """A ``jit`` static argument is unhashable, or static_argnums/static_argnames are invalid."""


class ControlFlowTypeError(FuncgradError, TypeError):
    """Branches of ``lax.cond``/``switch`` disagree, or a loop body changed its carry (tree
    structure, shape or dtype)."""


class RandomKeyError(FuncgradError, TypeError):
    """A ``funcgrad.random`` function got something that is not one key (a ``uint32`` array of
    shape ``(2,)`` for threefry or ``(4,)`` for Philox), or an unknown key implementation."""


class UnsupportedArrayTypeError(FuncgradError, TypeError):
    """An operation on an array of another library (Dask, CuPy) that library does not provide
    (e.g. a decomposition Dask lacks, or scatter-add with repeated indices on Dask)."""


class BackendUnavailableError(FuncgradError, ImportError):
    """``jit(f, backend=...)`` names a backend whose optional dependency is not installed (the
    message names the extra to install, e.g. ``pip install "funcgrad[numba]"``)."""


class UnknownBackendError(FuncgradError, ValueError):
    """``jit(f, backend=...)`` names no backend; the message lists the valid names."""


class PrimitiveDeclarationError(FuncgradError, TypeError, ValueError):
    """A :class:`funcgrad.core.Primitive` declaration whose rule tables or residuals have the
    wrong form (e.g. ``vjp_eager`` without ``vjp``, or a number where a tuple of operand
    positions belongs); the message says what was expected, what came, and how to fix it."""
