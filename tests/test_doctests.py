"""The examples in gmmlab's docstrings are run and their outputs checked (doctest), so a
docstring never shows an output the code does not give."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import gmmlab

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(gmmlab.__path__, prefix="gmmlab.")
)


def _examples(module) -> int:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return sum(len(test.examples) for test in finder.find(module, module.__name__))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch, tmp_path):
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path))  # nothing written to the real cache
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        extraglobs={"np": np},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        report=True,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see above)"


def test_the_library_has_examples_and_a_broken_one_is_caught():
    """The public modules carry examples, and a wrong output would fail the test above."""
    from gmmlab import mixture

    assert _examples(mixture.reference) >= 2 and _examples(mixture.gaussian_mixture) >= 2
    bad = doctest.DocTestParser().get_doctest(">>> 1 + 1\n3\n", {}, "bad", None, 0)
    runner = doctest.DocTestRunner(verbose=False)
    runner.run(bad, out=lambda text: None)
    assert runner.failures == 1
