"""Every docstring example in funcgrad runs as a doctest: one test per module (its id is the
module's name, so a failure points at the module and its owner), plus the narrative pages of the
documentation site. Modules are discovered from the package, so new modules are covered as soon
as they exist."""

from __future__ import annotations

import doctest
import importlib
import io
import pathlib
import pkgutil

import numpy as np
import pytest

import funcgrad
import funcgrad.numpy as fnp

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    names = ["funcgrad"]
    for info in pkgutil.walk_packages(funcgrad.__path__, "funcgrad."):
        names.append(info.name)
    return sorted(names)


def _run(tests: list, where: str) -> None:
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    printoptions = np.get_printoptions()
    try:
        for test in tests:
            runner.run(test, out=out.write)
    finally:
        np.set_printoptions(**printoptions)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {where}:\n{out.getvalue()}"


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    # only docstrings of objects defined in this module (re-exports are tested where they live)
    tests = [t for t in finder.find(mod, name) if t.examples]
    _run(tests, name)


@pytest.mark.parametrize("page", ["sharp_bits.rst", "implicit_differentiation.rst"])
def test_documentation_page_examples(page):
    text = (ROOT / "docs" / page).read_text()
    globs = {"np": np, "fg": funcgrad, "fnp": fnp}
    test = doctest.DocTestParser().get_doctest(text, globs, page, str(ROOT / "docs" / page), 0)
    assert test.examples, f"docs/{page} has no examples"
    _run([test], f"docs/{page}")
