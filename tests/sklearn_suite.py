"""Run one of scikit-learn's own test files against gmmlab.

scikit-learn ships its test files inside the installed package (for example
``sklearn/cluster/tests/test_k_means.py``). :func:`run_suite` copies one of them into
a temporary folder with some of its imports swapped for gmmlab's objects (``from
sklearn.cluster import KMeans`` becomes gmmlab's ``KMeans``), supplies the two
fixtures of scikit-learn's ``conftest.py`` that the files use (``global_random_seed``,
fixed to 42 as scikit-learn's default; ``global_dtype``, float32 and float64), runs it
under pytest in a subprocess and returns the outcome of every test.

Which imports are swapped is a mapping ``{module: {name: "gmmlab.module:attribute"}}``.
Every name imported from a module of that mapping is rebound: to the gmmlab object
named, or -- a name gmmlab does not offer (``MiniBatchKMeans``, a private helper) -- to
a stand-in that raises ``NotImplementedError`` when it is called, so that the tests of
scikit-learn's own objects fail instead of passing on scikit-learn's code. Modules
outside the mapping (``sklearn.utils._testing``, ``sklearn.datasets``, ...) are left
alone.

:func:`check_outcomes` compares the outcomes with a list of excluded tests (patterns
where ``*`` matches anything, each with its reason and, optionally, a text that the
failure must show): every test not excluded must pass, and every exclusion must still
be needed -- it names at least one test, and every test it names fails, for the
stated cause when one is given (a test that now passes, a name that no longer exists,
or a failure for another cause makes the entry stale).
``tests/test_sklearn_kmeans.py`` (K-means) and ``tests/test_sklearn_mixture.py`` use it.

Tracebacks are printed by Python (``--tb=native``): pytest's own formatting of a
few hundred failures costs more than running the tests.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sklearn

SKLEARN_DIR = Path(sklearn.__file__).resolve().parent

#: The stand-in for a name that gmmlab does not offer (put at the top of the copy).
_NOT_OFFERED = '''
def _gmmlab_not_offered(qualified_name):
    """A stand-in for a scikit-learn object that gmmlab does not offer."""
    short = qualified_name.rsplit(".", 1)[-1]

    def __new__(cls, *args, **kwargs):
        raise NotImplementedError(f"{qualified_name} is not offered by gmmlab")

    return type(short, (), {"__new__": __new__})
'''

#: ``conftest.py`` of the copy: scikit-learn's two global fixtures and a recorder
#: of every test's outcome (written as JSON where GMMLAB_SUITE_REPORT says).
_CONFTEST = '''
import json
import os

import numpy as np
import pytest

_outcomes, _messages = {}, {}


@pytest.fixture
def global_random_seed():
    return 42  # scikit-learn's default (SKLEARN_TESTS_GLOBAL_RANDOM_SEED unset)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def global_dtype(request):
    return request.param


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::", 1)[1]
    if report.when == "call" or report.outcome != "passed":
        if report.when == "teardown" and _outcomes.get(name) != "passed":
            return
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        _outcomes[name] = outcome
        if report.failed:
            _messages[name] = report.longreprtext


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["GMMLAB_SUITE_REPORT"], "w", encoding="utf-8") as f:
        json.dump({"outcomes": _outcomes, "messages": _messages}, f)
'''


@dataclass
class SuiteResult:
    """Outcomes of one run: test id (``test_name[params]``) -> ``"passed"``,
    ``"failed"``, ``"skipped"``, ``"xfailed"`` or ``"xpassed"``."""

    outcomes: dict[str, str]
    messages: dict[str, str] = field(default_factory=dict)  # test id -> its failure report
    seconds: float = 0.0
    output: str = ""

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


def swap_imports(source: str, swaps: dict[str, dict[str, str]]) -> str:
    """``source`` with every ``from M import a, b as c`` of a module ``M`` in ``swaps``
    replaced by bindings to gmmlab's objects (``swaps[M][a] = "gmmlab.x:attr"``) or to
    stand-ins that fail when called (names not in ``swaps[M]``).

    Raises ``ValueError`` when a module of ``swaps`` is imported otherwise
    (``import sklearn.cluster``): its attributes could not be swapped.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []  # (first line, last line, replacement), 1-based, inclusive
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in swaps:
                    raise ValueError(f"line {node.lineno}: 'import {alias.name}' cannot be swapped")
        if not isinstance(node, ast.ImportFrom) or node.module not in swaps:
            continue
        indent = " " * node.col_offset
        bindings = []
        for alias in node.names:
            if alias.name == "*":
                raise ValueError(f"line {node.lineno}: 'from {node.module} import *' cannot be swapped")
            target = swaps[node.module].get(alias.name)
            bound = alias.asname or alias.name
            if target is None:
                bindings.append(f"{bound} = _gmmlab_not_offered({node.module + '.' + alias.name!r})")
            else:
                module, attribute = target.split(":")
                bindings.append(f"from {module} import {attribute} as {bound}  # swapped for gmmlab's")
        edits.append((node.lineno, node.end_lineno, "".join(f"{indent}{b}\n" for b in bindings)))
    if not edits:
        raise ValueError(f"no import of {sorted(swaps)} found: nothing to swap")
    for first, last, text in sorted(edits, reverse=True):
        lines[first - 1 : last] = [text]
    # The stand-in factory goes before the first statement that is not a docstring
    # or a __future__ import.
    body = tree.body
    position = 0
    while position < len(body) and (
        (isinstance(body[position], ast.Expr) and isinstance(body[position].value, ast.Constant))
        or (isinstance(body[position], ast.ImportFrom) and body[position].module == "__future__")
    ):
        position += 1
    head_lines = body[position - 1].end_lineno if position else 0
    # Line numbers before the first edit are unchanged by the edits.
    head = "".join(lines[:head_lines])
    return head + _NOT_OFFERED + "".join(lines[head_lines:])


def run_suite(
    test_file: str,
    swaps: dict[str, dict[str, str]],
    *,
    timeout: float = 900,
    pytest_args: tuple[str, ...] = (),
) -> SuiteResult:
    """Run scikit-learn's ``test_file`` (relative to the installed ``sklearn``
    package, e.g. ``"cluster/tests/test_k_means.py"``) with ``swaps`` applied.

    The copy runs in a fresh Python process (``python -m pytest``), in a temporary
    folder, with its own ``pytest.ini`` (this repository's pytest options do not
    apply). Raises ``RuntimeError`` (with pytest's output) when no outcome was
    recorded, e.g. when the copy could not be imported.
    """
    source_path = SKLEARN_DIR / test_file
    source = swap_imports(source_path.read_text(encoding="utf-8"), swaps)
    with tempfile.TemporaryDirectory(prefix="gmmlab-sklearn-suite-") as tmp:
        tmp = Path(tmp)
        (tmp / source_path.name).write_text(source, encoding="utf-8")
        (tmp / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
        (tmp / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        report = tmp / "report.json"
        env = dict(os.environ, GMMLAB_SUITE_REPORT=str(report))
        command = [
            sys.executable, "-m", "pytest", str(tmp / source_path.name), "-q", "-p", "no:cacheprovider",
            "-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp), "--tb=native", *pytest_args,
        ]
        start = time.perf_counter()
        run = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - start
        output = run.stdout + run.stderr
        if not report.exists():
            raise RuntimeError(f"pytest recorded no outcome for {test_file}:\n{output[-5000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    if not data["outcomes"]:
        raise RuntimeError(f"no test of {test_file} ran:\n{output[-5000:]}")
    return SuiteResult(data["outcomes"], data["messages"], seconds, output)


def _pattern(pattern: str) -> re.Pattern:
    """A test-id pattern where only ``*`` is special (brackets are literal)."""
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)))


def matching(pattern: str, names) -> list[str]:
    """The test ids among ``names`` that ``pattern`` matches in full."""
    regex = _pattern(pattern)
    return [name for name in names if regex.fullmatch(name)]


@dataclass
class Verdict:
    """What :func:`check_outcomes` found wrong (all empty when the suite is as expected)."""

    unexpected_failures: dict[str, str]  # test id -> the end of its failure report
    unknown_exclusions: list[str]  # patterns that match no test
    passing_exclusions: dict[str, list[str]]  # pattern -> the tests it names that did not fail
    other_causes: dict[str, list[str]]  # pattern -> the tests that failed without its text

    @property
    def ok(self) -> bool:
        return not (self.unexpected_failures or self.unknown_exclusions or self.passing_exclusions
                    or self.other_causes)

    def report(self) -> str:
        parts = [f"{name}:\n{message[-3000:]}" for name, message in self.unexpected_failures.items()]
        parts += [f"exclusion {p!r} names no test" for p in self.unknown_exclusions]
        parts += [f"exclusion {p!r}: these did not fail: {n}" for p, n in self.passing_exclusions.items()]
        parts += [f"exclusion {p!r}: these failed for another cause: {n}" for p, n in self.other_causes.items()]
        return "\n\n".join(parts)


def check_outcomes(result: SuiteResult, excluded: dict[str, str | tuple[str, str]]) -> Verdict:
    """Compare ``result`` with ``excluded``: pattern -> reason, or pattern -> (reason,
    a text that each failure it names must show).

    A test not excluded must pass (or be skipped by the file's own ``skipif``); an
    excluded pattern must name at least one test, and each test it names must fail,
    showing the text of one of the exclusions that name it (when they give one).
    """
    causes = {}  # test id -> the texts of the exclusions that name it (None: any failure)
    unknown, passing = [], {}
    for pattern, entry in excluded.items():
        reason, cause = (entry, None) if isinstance(entry, str) else entry
        if not reason or not reason.strip():
            raise ValueError(f"exclusion {pattern!r} has no reason")
        names = matching(pattern, result.outcomes)
        if not names:
            unknown.append(pattern)
        not_failing = [n for n in names if result.outcomes[n] != "failed"]
        if not_failing:
            passing[pattern] = not_failing
        for name in names:
            causes.setdefault(name, []).append(cause)
    other = {}
    for pattern, entry in excluded.items():
        for name in matching(pattern, result.outcomes):
            message = result.messages.get(name, "")
            if result.outcomes[name] == "failed" and not any(
                cause is None or cause in message for cause in causes[name]
            ):
                other.setdefault(pattern, []).append(name)
    unexpected = {
        name: result.messages.get(name, outcome)
        for name, outcome in result.outcomes.items()
        if name not in causes and outcome not in ("passed", "skipped", "xfailed")
    }
    return Verdict(unexpected, unknown, passing, other)
