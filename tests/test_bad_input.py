"""Bad input never passes silently: every public callable of gmmlab, swept.

Each public function, constructor and method (:func:`badinput.public_callables`) has
its cases in one of the registries ``tests/badinput_<area>.py``; a callable without
cases, unless listed in ``NOT_SWEPT`` with its reason, fails :func:`test_every_public_callable_is_swept`
(so a new public function must come with its validation). How a call is judged:
:mod:`badinput`.
"""

from __future__ import annotations

import importlib

import matplotlib
import pytest

import badinput

matplotlib.use("Agg")

AREAS = ("kmeans", "mixture", "ood", "plotting", "misc")

#: Public callables that take no input a student could get wrong, with the reason.
NOT_SWEPT = {
    "DataNotFoundError": "an exception class, raised by the loaders",
    "EMResult": "a result record (NamedTuple) returned by em",
    "MixtureSample": "a result record returned by make_gaussian_mixture",
    "OODFeatures": "a result record returned by load_ood_features",
    "ContingencyTable": "a result record returned by contingency_table",
    "MixtureParams": "a result record; as_params builds and checks it",
    "DecimalCommaFormatter.get_offset": "called by matplotlib, not by users",
    "DecimalCommaFormatter.format_data_short": "called by matplotlib, not by users",
    "use_book_style": "takes no argument",
    "data_root": "takes no argument (reads GMMLAB_DATA, tested in test_data.py)",
    "cache_dir": "takes no argument (reads GMMLAB_CACHE, tested in test_cache.py)",
}


def _registry():
    cases = {}
    for area in AREAS:
        try:
            module = importlib.import_module(f"badinput_{area}")
        except ModuleNotFoundError:
            continue
        for name, area_cases in module.CASES.items():
            assert name not in cases, f"{name} swept twice"
            cases[name] = area_cases
    return cases


CASES = _registry()


def test_every_public_callable_is_swept():
    public = badinput.public_callables()
    missing = sorted(set(public) - set(CASES) - set(NOT_SWEPT))
    assert not missing, f"public callables without bad-input cases: {missing}"
    unknown = sorted(set(CASES) - set(public))
    assert not unknown, f"cases for names that are not public: {unknown}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name):
    failures = []
    for case in CASES[name]():
        problem = badinput.judge(case)
        if problem:
            failures.append(f"{name}({case.arg}={case.label}): {problem}")
    assert not failures, "\n".join(failures)


def test_the_judge_can_fail(monkeypatch):
    # The judge reports each way a call can go wrong (so a passing sweep means something).
    import numpy as np

    def refuses(v):
        raise ValueError("x must be positive, got -1")

    def hangs(v):
        while True:
            pass

    monkeypatch.setattr(badinput, "TIMEOUT_S", 1)
    judged = {
        "clear": badinput.Case("x", "neg", lambda: refuses(-1)),
        "unclear": badinput.Case("y", "neg", lambda: refuses(-1)),
        "silent": badinput.Case("x", "neg", lambda: 1.0),
        "nan": badinput.Case("x", "huge", lambda: np.array([np.nan]), badinput.MAY_ACCEPT),
        "finite": badinput.Case("x", "huge", lambda: np.array([1.0]), badinput.MAY_ACCEPT),
        "other": badinput.Case("x", "neg", lambda: [][1]),
        "hang": badinput.Case("x", "neg", lambda: hangs(1)),
    }
    verdicts = {key: badinput.judge(case) for key, case in judged.items()}
    assert verdicts["clear"] is None and verdicts["finite"] is None
    assert verdicts["unclear"].startswith("unclear ValueError")
    assert verdicts["silent"] == "silently accepted"
    assert verdicts["nan"] == "accepted with non-finite values"
    assert verdicts["other"].startswith("unclear IndexError")
    assert verdicts["hang"].startswith("hang")
