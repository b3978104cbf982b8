"""Bad-input cases of gmmlab.metrics, gmmlab.cache, gmmlab.data and gmmlab.text
(swept by ``tests/test_bad_input.py``).

Every argument of every public callable of these modules receives the value families of
:mod:`badinput`; the others stay valid. A value that may be accepted must give the same
result as the same numbers given in their plain form (``_same_as``): float64 scores for
the OOD metrics, the same partition for the clustering metrics, the same digest for an
array given as a list or a tensor, the same payload read back from the cache.

The data loaders are swept on their arguments only (``split``): every bad value is
refused before any file is read, so the sweep never loads MNIST. What a missing or
corrupt data folder gives (:class:`gmmlab.data.DataNotFoundError`, naming
``GMMLAB_DATA``) is tested in ``tests/test_data.py``: it is not a bad argument.
``adjusted_rand_score`` and ``normalized_mutual_info_score`` are scikit-learn's
(re-exported unchanged, not swept).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import shutil
import tempfile
import types
from pathlib import Path

import numpy as np

from badinput import (
    MAY_ACCEPT,
    MUST_RAISE,
    Case,
    bad_arrays,
    bad_choices,
    bad_floats,
    bad_ints,
    bad_random_states,
    sweep,
)
from gmmlab import cache, metrics
from gmmlab.data import load_fashion_mnist, load_mnist, load_old_faithful, make_gaussian_mixture
from gmmlab.text import number


def _plain(value):
    """The numbers of an accepted value as a plain numpy array (tensors, lists, objects)."""
    from gmmlab._validation import to_numpy

    return np.asarray(to_numpy(value))


def _tensor(a):
    import torch

    return torch.as_tensor(np.asarray(a))


def _differs(result, ref) -> str | None:
    if isinstance(ref, tuple):
        for i, (a, b) in enumerate(zip(result, ref)):
            problem = _differs(a, b)
            if problem:
                return f"item {i}: {problem}"
        return None
    a, b = np.asarray(result), np.asarray(ref)
    if a.shape != b.shape:
        return f"shape {a.shape}, not {b.shape}"
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return None if np.allclose(a, b, rtol=1e-12, atol=0) else f"{result!r}, not {ref!r}"
    return None if np.array_equal(a, b) else f"{result!r}, not {ref!r}"


def _swept(arg, call, values, *, reference=None, names=(), skip=()):
    """:func:`badinput.sweep`, with every accepted value checked against
    ``call(reference(value))`` (the same input in its plain form) when ``reference``."""
    cases = []
    for label, value, expect in values:
        if label in skip:
            continue
        check = None
        if reference is not None and expect == MAY_ACCEPT:
            def check(result, value=value):
                return _differs(result, call(reference(value)))
        cases.append(Case(arg, label, (lambda v=value: call(v)), expect, names=names, check=check))
    return cases


# ----------------------------------------------------------------------------- OOD metrics


def _scores():
    rng = np.random.RandomState(0)
    return rng.normal(1.0, 1.0, 12), rng.normal(0.0, 1.0, 9)


def _more_bad_scores(valid):
    return [
        ("column (n, 1)", valid[:, None], MUST_RAISE),
        ("numeric strings", valid.astype(str), MUST_RAISE),
        ("list of complex", (valid + 1j).tolist(), MUST_RAISE),
        ("complex with zero imaginary part", valid.astype(complex), MUST_RAISE),
        ("complex tensor", _tensor(valid + 1j), MUST_RAISE),
        ("list with None", [None] + valid[1:].tolist(), MUST_RAISE),
        ("float32", valid.astype(np.float32), MAY_ACCEPT),
    ]


def _ood_cases(func, **kwargs):
    def cases():
        s_in, s_out = _scores()

        def as_float(v):
            return np.asarray(_plain(v), dtype=np.float64)

        out = []
        for arg, valid in (("score_in", s_in), ("score_out", s_out)):
            def call(v, arg=arg):
                args = {"score_in": s_in, "score_out": s_out, arg: v}
                return func(args["score_in"], args["score_out"], **kwargs)

            out += _swept(arg, call, bad_arrays(valid) + _more_bad_scores(valid), reference=as_float)
        return out

    return cases


def _fpr_at_tpr_cases():
    s_in, s_out = _scores()
    return _ood_cases(metrics.fpr_at_tpr)() + sweep(
        "tpr", lambda v: metrics.fpr_at_tpr(s_in, s_out, tpr=v),
        bad_floats(0.95, low=0.0, high=1.0, low_open=True)
        + [("bool", True, MUST_RAISE), ("numpy float32", np.float32(0.5), MAY_ACCEPT),
           ("0-d array", np.array(0.5), MAY_ACCEPT), ("fraction as percent", 95, MUST_RAISE)],
    )


# ----------------------------------------------------------------------------- clustering

_LABELS_TRUE = np.array([0, 0, 1, 1, 2, 2, 0, 1, 2, 2])
_LABELS_PRED = np.array([1, 1, 0, 0, 2, 2, 1, 0, 0, 2])


def _partition(v):
    """The same partition as ``v``, with labels 0, 1, ... (the plain form of labels)."""
    return np.unique(_plain(v), return_inverse=True)[1].ravel()


def _result_of(func):
    if func is metrics.contingency_table:
        return lambda t, u: metrics.contingency_table(t, u).table
    return func


def _more_bad_labels(valid):
    n = valid.size
    mixed = valid.astype(object)
    mixed[1] = "a"
    with_none = valid.astype(object)
    with_none[2] = None
    return [
        ("list with None", [None] + valid[1:].tolist(), MUST_RAISE),
        ("object array with one None", with_none, MUST_RAISE),
        ("mixed int and str (object)", mixed, MUST_RAISE),
        ("mixed int and str (list)", [0, "a"] + valid[2:].tolist(), MUST_RAISE),
        ("list of complex", (valid + 1j).tolist(), MUST_RAISE),
        ("column (n, 1)", valid[:, None], MUST_RAISE),
        ("one label short", valid[: n - 1], MUST_RAISE),
        ("object array of tuples", np.array([(0,)] * n + [None], dtype=object)[:n], MUST_RAISE),
        # class names are valid labels: the same partition as integer labels
        ("class names", np.array(list("abc"))[valid.astype(int)], MAY_ACCEPT),
        ("float labels 0.0, 1.0, ...", valid.astype(float), MAY_ACCEPT),
    ]


def _clustering_cases(func):
    def cases():
        call_of = _result_of(func)
        out = []
        for arg, valid in (("labels_true", _LABELS_TRUE), ("labels_pred", _LABELS_PRED)):
            def call(v, arg=arg):
                args = {"labels_true": _LABELS_TRUE, "labels_pred": _LABELS_PRED, arg: v}
                return call_of(args["labels_true"], args["labels_pred"])

            values = bad_arrays(valid.astype(float)) + _more_bad_labels(valid)
            # "array of strings" is np.full(shape, "a"): one class name for every sample,
            # a valid (if dull) labelling -- accepted, checked like the other accepted ones.
            values = [(lab, v, MAY_ACCEPT if lab == "array of strings" else e) for lab, v, e in values]
            out += _swept(arg, call, values, reference=_partition)
        return out

    return cases


# ----------------------------------------------------------------------------- cache

_TMP = []


def _tmpdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="gmmlab-badinput-"))
    _TMP.append(path)
    return path


@atexit.register
def _cleanup():
    for path in _TMP:
        shutil.rmtree(path, ignore_errors=True)


def _not_parts():
    return [
        ("None", None, MUST_RAISE),
        ("int", 1, MUST_RAISE),
        ("float", 1.5, MUST_RAISE),
        ("list of str", ["a"], MUST_RAISE),
        ("numpy array", np.arange(3), MUST_RAISE),
        ("dict", {"a": 1}, MUST_RAISE),
        ("Path", Path("x"), MUST_RAISE),
    ]


def _digest_cases():
    def distinct(result):
        a, b = result
        return "collision: the two argument lists give one digest" if a == b else None

    collisions = [
        (("a\0b",), ("a", "b")),
        (("a\0", "b"), ("a", "\0b")),
        (("a", ""), ("a\0",)),
        ((), ("",)),
        (("\x01\0",), ("\x01", "")),
        ((b"a\0b",), (b"a", b"b")),
    ]
    cases = (
        sweep("parts", lambda v: cache.digest(v), _not_parts())
        + sweep("parts", lambda v: cache.digest("a", v), _not_parts())
        + [
            Case("parts", f"{a!r} vs {b!r}", (lambda a=a, b=b: (cache.digest(*a), cache.digest(*b))),
                 MAY_ACCEPT, check=distinct)
            for a, b in collisions
        ]
        + [
            Case("parts", "bytearray", lambda: cache.digest(bytearray(b"ab")), MAY_ACCEPT,
                 check=lambda r: _differs(r, cache.digest(b"ab"))),
            Case("parts", "memoryview", lambda: cache.digest(memoryview(b"ab")), MAY_ACCEPT,
                 check=lambda r: _differs(r, cache.digest(b"ab"))),
            Case("parts", "lone surrogate", lambda: cache.digest("\ud800"), MAY_ACCEPT,
                 check=lambda r: distinct((r, cache.digest("\ud801")))),
            Case("parts", "empty string", lambda: cache.digest(""), MAY_ACCEPT),
        ]
    )
    return cases


def _array_digest_cases():
    valid = np.arange(6, dtype=float).reshape(3, 2) / 7
    # hashed by value: any numeric array, whatever its numbers (NaN, inf), shape or
    # size -- but never an object array (that would hash memory addresses).
    by_value = {"NaN", "inf", "-inf", "empty", "no columns", "1-D", "3-D", "complex", "bool",
                "integer", "uint8", "huge (x 1e300)", "tiny (x 1e-300)", "array of strings",
                "scalar"}
    values = [(lab, v, MAY_ACCEPT if lab in by_value else e) for lab, v, e in bad_arrays(valid)]
    values += [
        ("set", {1, 2}, MUST_RAISE),
        ("bytes", b"abc", MUST_RAISE),
        ("ragged list", [[1.0], [1.0, 2.0]], MUST_RAISE),
        ("list with None", [1.0, None], MUST_RAISE),
        ("a function", len, MUST_RAISE),
        ("tensor requiring grad", _requires_grad(valid), MAY_ACCEPT),
        ("numpy scalar", np.float64(1.5), MAY_ACCEPT),
        ("0-d array", np.array(1.5), MAY_ACCEPT),
        ("Fortran order", np.asfortranarray(valid), MAY_ACCEPT),
        ("strided view", np.arange(12.0)[::2], MAY_ACCEPT),
    ]

    def same_as_plain(value):
        def check(result):
            if not (isinstance(result, str) and len(result) == 64):
                return f"not a SHA-256 hex digest: {result!r}"
            return _differs(result, cache.array_digest(np.array(_plain(value))))
        return check

    def distinct_from(other):
        return lambda result: (
            "collision" if result == cache.array_digest(other) else None)

    cases = []
    for label, value, expect in values:
        check = same_as_plain(value) if expect == MAY_ACCEPT and label != "tensor requiring grad" else None
        cases.append(Case("a", label, (lambda v=value: cache.array_digest(v)), expect, check=check))
    cases += [
        Case("a", "0-d vs 1-element", lambda: cache.array_digest(np.array(1.5)), MAY_ACCEPT,
             check=distinct_from(np.array([1.5]))),
        Case("a", "scalar vs 1-element", lambda: cache.array_digest(1.5), MAY_ACCEPT,
             check=distinct_from(np.array([1.5]))),
    ]
    return cases


def _requires_grad(a):
    import torch

    return torch.tensor(a, requires_grad=True)


def _bad_paths(tmp: Path):
    a_file = tmp / "a-file"
    a_file.write_bytes(b"x")
    (tmp / "a-dir").mkdir()
    return [
        ("None", None, MUST_RAISE),
        ("int", 1, MUST_RAISE),
        ("float", 1.5, MUST_RAISE),
        ("bytes", os.fsencode(tmp / "entry"), MUST_RAISE),
        ("list", [str(tmp / "entry")], MUST_RAISE),
        ("empty string", "", MUST_RAISE),
        ("a directory", tmp / "a-dir", MUST_RAISE),
        ("under a regular file", a_file / "entry", MUST_RAISE),
    ]


def _write_entry_cases():
    tmp = _tmpdir()

    def round_trip(path, payload):
        def check(result):
            if result is not None:
                return f"returned {result!r}"
            back = cache.read_entry(Path(path))
            return None if back == bytes(payload) else f"read back {back!r}, not {bytes(payload)!r}"
        return check

    str_path = str(tmp / "as-str")
    return (
        sweep("path", lambda v: cache.write_entry(v, b"payload"), _bad_paths(tmp))
        + [Case("path", "str", lambda: cache.write_entry(str_path, b"payload"), MAY_ACCEPT,
                check=round_trip(str_path, b"payload"))]
        + sweep("payload", lambda v: cache.write_entry(tmp / "entry", v), [
            ("str", "payload", MUST_RAISE),
            ("None", None, MUST_RAISE),
            ("int", 3, MUST_RAISE),
            ("list of ints", [1, 2, 3], MUST_RAISE),
            ("numpy array", np.arange(3.0), MUST_RAISE),
            ("dict", {"a": 1}, MUST_RAISE),
        ])
        + [
            Case("payload", label, (lambda v=value, p=tmp / f"ok-{i}": cache.write_entry(p, v)),
                 MAY_ACCEPT, check=round_trip(tmp / f"ok-{i}", value))
            for i, (label, value) in enumerate(
                [("bytearray", bytearray(b"ab")), ("memoryview", memoryview(b"ab")), ("empty", b"")])
        ]
    )


def _read_entry_cases():
    tmp = _tmpdir()
    stored = tmp / "stored"
    cache.write_entry(stored, b"payload")
    return sweep("path", cache.read_entry, _bad_paths(tmp)) + [
        Case("path", "str", lambda: cache.read_entry(str(stored)), MAY_ACCEPT,
             check=lambda r: None if r == b"payload" else f"read {r!r}"),
        Case("path", "absent str", lambda: cache.read_entry(str(tmp / "absent")), MAY_ACCEPT,
             check=lambda r: None if r is None else f"read {r!r}"),
    ]


@contextlib.contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _memory_cases():
    from gmmlab.data import data_root

    tmp = _tmpdir()
    a_file = tmp / "a-file"
    a_file.write_bytes(b"x")

    def with_cache(value):
        with _env(GMMLAB_CACHE=str(value)):
            return cache.memory()

    return sweep("GMMLAB_CACHE", with_cache, [
        ("inside the data folder", data_root() / "cache", MUST_RAISE),
        ("the data folder itself", data_root(), MUST_RAISE),
        ("a regular file", a_file, MUST_RAISE),
        ("under a regular file", a_file / "sub", MUST_RAISE),
    ]) + [
        Case("memory", "a positional argument", lambda: cache.memory("dir")),
    ]


def _source_digest_cases():
    import gmmlab.kmeans
    import sys

    return sweep("modules", lambda v: cache.source_digest(v), [
        ("module name as str", "gmmlab.kmeans", MUST_RAISE),
        ("None", None, MUST_RAISE),
        ("int", 1, MUST_RAISE),
        ("a class", gmmlab.kmeans.KMeans, MUST_RAISE),
        ("a function", gmmlab.kmeans.lloyd_step, MUST_RAISE),
        ("list of modules", [gmmlab.kmeans], MUST_RAISE),
        ("built-in module", sys, MUST_RAISE),
        ("module without a file", types.ModuleType("nowhere"), MUST_RAISE),
    ]) + [
        Case("modules", "no module", lambda: cache.source_digest(), names=("modules", "module")),
        Case("modules", "a module and a str", lambda: cache.source_digest(gmmlab.kmeans, "x")),
        Case("modules", "math (an extension module)", lambda: cache.source_digest(math)),
    ]


# ----------------------------------------------------------------------------- data


def _split_cases(loader):
    def cases():
        return sweep("split", loader, bad_choices() + [
            ("capitalised", "Train", MUST_RAISE),
            ("validation", "validation", MUST_RAISE),
            ("bool", True, MUST_RAISE),
            ("array of splits", np.array(["train", "test"]), MUST_RAISE),
            ("bytes", b"train", MUST_RAISE),
        ])

    return cases


def _old_faithful_cases():
    return [
        Case("load_old_faithful", "a positional argument", lambda: load_old_faithful("x")),
        Case("load_old_faithful", "a keyword argument", lambda: load_old_faithful(split="train")),
        Case("load_old_faithful", "valid call", load_old_faithful, MAY_ACCEPT,
             check=lambda X: None if X.shape == (272, 2) else f"shape {X.shape}"),
    ]


_MIX = dict(weights=[0.5, 0.3, 0.2], means=[[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]],
            covariances=[np.eye(2), [[1.0, 0.3], [0.3, 0.5]], 0.5 * np.eye(2)])


def _mixture(**kwargs):
    return make_gaussian_mixture(30, **{"random_state": 0, **kwargs})


def _make_gaussian_mixture_cases():
    w, m, c = (np.asarray(_MIX[k], dtype=float) for k in ("weights", "means", "covariances"))

    def given(**kwargs):
        return _mixture(**{**_MIX, **kwargs}).X

    def reference(v):
        return np.asarray(_plain(v), dtype=np.float64)

    not_sym = c.copy()
    not_sym[1, 0, 1] = 0.9
    not_pd = c.copy()
    not_pd[1] = [[1.0, 2.0], [2.0, 1.0]]
    return (
        sweep("n_samples", lambda v: make_gaussian_mixture(v, random_state=0), bad_ints(30, low=1))
        + _swept("weights", lambda v: given(weights=v), bad_arrays(w, optional=True) + [
            ("not summing to 1", [0.5, 0.3, 0.3], MUST_RAISE),
            ("negative", [1.2, -0.4, 0.2], MUST_RAISE),
            ("2 weights for 3 means", [0.5, 0.5], MUST_RAISE),
            ("(3, 1)", w[:, None], MUST_RAISE),
        ], reference=reference)
        + _swept("weights", lambda v: _mixture(weights=v, n_components=3).X, [
            ("2 weights, n_components=3", [0.5, 0.5], MUST_RAISE),
        ], names=("weights", "n_components"))
        + _swept("means", lambda v: given(means=v), bad_arrays(m, optional=True) + [
            ("2 means for 3 weights", m[:2], MUST_RAISE),
            ("3 features, covariances 2x2", np.hstack([m, m[:, :1]]), MUST_RAISE),
        ], reference=reference)
        + _swept("means", lambda v: _mixture(means=v).X, bad_arrays(m, optional=True)[:3], reference=reference)
        + [
            Case("means", "shape (2, 2) with n_components=5",
                 lambda: _mixture(means=m[:2], n_components=5), names=("means", "n_components")),
            Case("means", "shape (3, 2) with n_features=3",
                 lambda: _mixture(means=m, n_features=3), names=("means", "n_features")),
        ]
        + _swept("covariances", lambda v: given(covariances=v), bad_arrays(c, optional=True) + [
            ("not symmetric", not_sym, MUST_RAISE),
            ("not positive definite", not_pd, MUST_RAISE),
            ("2 for 3 means", c[:2], MUST_RAISE),
            ("(3, 2) diagonal", np.ones((3, 2)), MUST_RAISE),
            ("3x3 for 2 features", np.stack([np.eye(3)] * 3), MUST_RAISE),
        ], reference=reference)
        + [Case("covariances", "shape (2, 2, 2) with n_components=4",
                lambda: _mixture(covariances=c[:2], n_components=4),
                names=("covariances", "n_components"))]
        + sweep("n_components", lambda v: _mixture(n_components=v), bad_ints(3, low=1, optional=True))
        + sweep("n_features", lambda v: _mixture(n_features=v), bad_ints(2, low=1, optional=True))
        + sweep("separation", lambda v: _mixture(separation=v), bad_floats(4.0, low=0.0) + [
            ("-1", -1, MUST_RAISE),
            ("huge but finite cube", 1e308, MAY_ACCEPT),
            ("overflowing the cube", 1.7e308, MUST_RAISE),
            ("bool", True, MUST_RAISE),
        ])
        + [Case("separation", "-1 with means given", lambda: _mixture(separation=-1.0, means=m))]
        + sweep("random_state", lambda v: _mixture(random_state=v), bad_random_states())
    )


# ----------------------------------------------------------------------------- text


def _number_cases():
    def no_point(result):
        return None if isinstance(result, str) and "." not in result else f"{result!r}"

    return (
        sweep("value", lambda v: number(v, ".2f"), [
            ("NaN", math.nan, MUST_RAISE),
            ("inf", math.inf, MUST_RAISE),
            ("-inf", -math.inf, MUST_RAISE),
            ("numpy NaN", np.float64("nan"), MUST_RAISE),
            ("None", None, MUST_RAISE),
            ("string", "0.5", MUST_RAISE),
            ("bool", True, MUST_RAISE),
            ("complex", 1j, MUST_RAISE),
            ("list", [1.0], MUST_RAISE),
            ("array", np.array([1.0, 2.0]), MUST_RAISE),
            ("torch tensor", _tensor([1.0]), MUST_RAISE),
        ])
        + sweep("value", lambda v: number(v, ".2f"), [
            ("numpy float32", np.float32(1.5), MAY_ACCEPT),
            ("numpy int64", np.int64(3), MAY_ACCEPT),
            ("huge (1e300)", 1e300, MAY_ACCEPT),
            ("tiny (1e-300)", 1e-300, MAY_ACCEPT),
        ], check=no_point)
        + sweep("spec", lambda v: number(1.5, v), [
            ("int", 2, MUST_RAISE),
            ("None", None, MUST_RAISE),
            ("bytes", b".2f", MUST_RAISE),
            ("unknown code", "q", MUST_RAISE),
            ("string code for a number", ".2s", MUST_RAISE),
            ("integer code for a float", "d", MUST_RAISE),
            ("list", [".2f"], MUST_RAISE),
        ])
        + sweep("language", lambda v: number(1.5, ".1f", language=v), bad_choices() + [
            ("capitalised", "FR", MUST_RAISE),
            ("English", "en", MUST_RAISE),
        ])
    )


CASES = {
    "auroc": _ood_cases(metrics.auroc),
    "aupr_in": _ood_cases(metrics.aupr_in),
    "aupr_out": _ood_cases(metrics.aupr_out),
    "fpr_at_tpr": _fpr_at_tpr_cases,
    "contingency_table": _clustering_cases(metrics.contingency_table),
    "clustering_accuracy": _clustering_cases(metrics.clustering_accuracy),
    "purity": _clustering_cases(metrics.purity),
    "digest": _digest_cases,
    "array_digest": _array_digest_cases,
    "write_entry": _write_entry_cases,
    "read_entry": _read_entry_cases,
    "memory": _memory_cases,
    "source_digest": _source_digest_cases,
    "load_mnist": _split_cases(load_mnist),
    "load_fashion_mnist": _split_cases(load_fashion_mnist),
    "load_old_faithful": _old_faithful_cases,
    "make_gaussian_mixture": _make_gaussian_mixture_cases,
    "number": _number_cases,
}
