"""Formerly the eager vjp rules, registered on the primitives after their declaration.

Each primitive now declares its eager rules with the rest of its rules (``vjp_eager=`` and
``jvp_eager=`` of :class:`funcgrad.core.Primitive` and of the factories in
:mod:`funcgrad.prims.factories`). This module declares nothing; it stays importable for the
modules that imported it for its side effect (``funcgrad.traces.reverse``), and can go once they
no longer do.
"""

from __future__ import annotations

__all__: list[str] = []
