"""Sphinx configuration for funcgrad's documentation.

Build (warnings are errors):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference (``docs/api/``) is generated from the modules at build time: every public
module of funcgrad gets a page listing every public name (its ``__all__``, or its public
functions and classes), so names added to the package appear without editing these files.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

project = "funcgrad"
author = "funcgrad contributors"
copyright = "funcgrad contributors"  # noqa: A001 - Sphinx's name

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = True
myst_heading_anchors = 3
# The README is written for GitHub: its links to repository files (examples/, benchmarks/) are not
# documents of this site.
suppress_warnings = ["myst.xref_missing", "myst.header"]

# Modules whose public names are funcgrad's own top-level names (documented there) or that are
# the machinery behind them (traces, IR, primitives).
INTERNAL = ("funcgrad.core", "funcgrad.api", "funcgrad.jit", "funcgrad.custom", "funcgrad.vmap",
            "funcgrad.jacobians", "funcgrad.errors", "funcgrad.traces", "funcgrad.ir", "funcgrad.prims")


def _is_internal(name: str) -> bool:
    return any(part.startswith("_") for part in name.split(".")) or any(
        name == m or name.startswith(m + ".") for m in INTERNAL)


def public_modules() -> list:
    import funcgrad

    names = ["funcgrad"]
    for info in pkgutil.walk_packages(funcgrad.__path__, "funcgrad."):
        if not _is_internal(info.name):
            names.append(info.name)
    mods = [importlib.import_module(n) for n in sorted(set(names))]
    return [m for m in mods if not _reexported_by_parent(m)]


def public_names(mod) -> list[str]:
    if hasattr(mod, "__all__"):
        return [n for n in mod.__all__ if hasattr(mod, n)]
    out = []
    for n, obj in vars(mod).items():
        if n.startswith("_") or inspect.ismodule(obj):
            continue
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", "") == mod.__name__:
            out.append(n)
    return out


def _reexported_by_parent(mod) -> bool:
    """An implementation module whose every public name its package exports (documented there)."""
    if "." not in mod.__name__:
        return False
    parent = importlib.import_module(mod.__name__.rsplit(".", 1)[0])
    names = [n for n in public_names(mod) if not inspect.ismodule(getattr(mod, n))]
    return bool(names) and all(getattr(parent, n, None) is getattr(mod, n) for n in names)


def _ours(obj) -> bool:
    target = obj if inspect.isclass(obj) or callable(obj) else type(obj)
    return str(getattr(target, "__module__", "") or "").startswith("funcgrad")


def _documented(obj) -> bool:
    """Functions and classes of funcgrad get an autodoc entry (once, where they live)."""
    return _ours(obj) and (inspect.isclass(obj) or callable(obj))


def canonical_homes(mods: list) -> dict:
    """For each object listed in several modules, the one page that documents it: the module it
    is defined in or the closest package above that (``funcgrad.numpy.elementwise.sin`` is
    documented as ``funcgrad.numpy.sin``), otherwise the shortest module name."""
    places: dict = {}
    for mod in mods:
        for n in public_names(mod):
            obj = getattr(mod, n)
            if _documented(obj) and not inspect.ismodule(obj):
                places.setdefault(id(obj), []).append((mod.__name__, n, obj))
    homes = {}
    for key, where in places.items():
        defined_in = str(getattr(where[0][2], "__module__", "") or "")
        above = [w for w in where if defined_in == w[0] or defined_in.startswith(w[0] + ".")]
        best = max(above, key=lambda w: len(w[0])) if above else min(where, key=lambda w: (w[0].count("."), w[0]))
        homes[key] = f"{best[0]}.{best[1]}"
    return homes


def module_page(mod, homes: dict, module_names: set) -> str:
    name = mod.__name__
    lines = [name, "=" * len(name), "", f".. automodule:: {name}", "   :no-members:", "",
             f".. currentmodule:: {name}", ""]
    foreign, aliases = [], []
    for n in public_names(mod):
        obj = getattr(mod, n)
        if inspect.ismodule(obj):
            continue
        full = f"{name}.{n}"
        if not _ours(obj):
            foreign.append(n)
        elif full in module_names:  # a function named like a submodule: documented on that page
            aliases.append((n, full))
        elif not _documented(obj):
            lines += [f".. py:data:: {n}", f"   :value: {type(obj).__name__}", ""]
        elif homes.get(id(obj), full) != full:
            aliases.append((n, homes[id(obj)]))
        elif inspect.isclass(obj):
            lines += [f".. autoclass:: {full}", "   :members:", ""]
        else:
            lines += [f".. autofunction:: {full}", ""]
    if aliases:
        lines += ["Also here, the same objects as:", ""]
        lines += [f"* ``{n}``: :py:obj:`{target}`" for n, target in aliases] + [""]
    if foreign:
        lines += ["NumPy's own objects, re-exported unchanged:", "",
                  ", ".join(f"``{n}``" for n in foreign), ""]
    return "\n".join(lines)


def write_api_pages(app=None) -> None:
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    mods = public_modules()
    module_names = {m.__name__ for m in mods}
    homes = canonical_homes(mods)
    pages = []
    for mod in mods:
        text = module_page(mod, homes, module_names)
        path = out / f"{mod.__name__}.rst"
        if not path.exists() or path.read_text() != text:  # unchanged files keep Sphinx's cache valid
            path.write_text(text)
        pages.append(mod.__name__)
    for stale in out.glob("*.rst"):
        if stale.stem not in pages and stale.name != "index.rst":
            os.remove(stale)
    index = ["API reference", "=============", "",
             "Every public module of funcgrad and every public name in it, generated from the docstrings.", "",
             ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p}" for p in pages] + [""]
    text = "\n".join(index)
    if not (out / "index.rst").exists() or (out / "index.rst").read_text() != text:
        (out / "index.rst").write_text(text)


_PLURAL = re.compile(r"(``[^`]+``|:[a-z]+:`[^`]+`)(s\b)")


def plural_after_markup(app, what, name, obj, options, lines) -> None:
    """Docstrings say ``y``s and :class:`Point`s; reST needs an escaped space before the ``s``."""
    lines[:] = [_PLURAL.sub(r"\1\\ \2", line) for line in lines]


def setup(app):
    app.connect("builder-inited", write_api_pages)
    app.connect("autodoc-process-docstring", plural_after_markup)
    return {"parallel_read_safe": True}
