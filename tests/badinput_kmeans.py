"""Bad-input cases of gmmlab.kmeans (swept by ``tests/test_bad_input.py``).

Every argument of every public callable of :mod:`gmmlab.kmeans` receives the value
families of :mod:`badinput`; the others stay valid. Hyper-parameters are swept through
the constructor and :meth:`fit` (scikit-learn convention). A value that may be accepted
(integer, bool, list, np.matrix, object-of-numbers data, a torch tensor) must give the
same result as the same numbers given as a float64 array (``_same_as_float``).
``y`` of ``fit``/``fit_predict``/``fit_transform``/``score`` is not swept: it is
ignored, as in scikit-learn.
"""

from __future__ import annotations

import numpy as np

import badinput
from badinput import (
    MAY_ACCEPT,
    MUST_RAISE,
    Case,
    bad_arrays,
    bad_bools,
    bad_choices,
    bad_devices,
    bad_floats,
    bad_ints,
    bad_random_states,
    sweep,
)
from gmmlab._backend import ChunkPool
from gmmlab.kmeans import KMeans, MissingDataKMeans, class_means, kmeans_plusplus, lloyd_step

# ----------------------------------------------------------------------------- data


def _data():
    """30 points in 2-D around three centers (fixed)."""
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    return centers[np.arange(30) % 3] + 0.5 * rng.randn(30, 2)


def _missing_data():
    """:func:`_data` with a few entries missing (never a whole row)."""
    X = _data()
    X[[1, 7, 12], [0, 1, 0]] = np.nan
    return X


def _as_float(value):
    """The numbers of an accepted value as a float64 array (the reference input)."""
    from gmmlab._validation import to_numpy

    return np.asarray(np.asarray(to_numpy(value)), dtype=np.float64)


def _compare(result, ref) -> str | None:
    """Where ``result`` differs from ``ref`` (arrays, floats, fitted estimators)."""
    if isinstance(result, KMeans):
        for attr in ("labels_", "cluster_centers_", "inertia_"):
            problem = _compare(getattr(result, attr), getattr(ref, attr))
            if problem:
                return f"{attr}: {problem}"
        return None
    if isinstance(result, tuple):
        for i, (a, b) in enumerate(zip(result, ref)):
            problem = _compare(a, b)
            if problem:
                return f"item {i}: {problem}"
        return None
    a, b = np.asarray(result), np.asarray(ref)
    if a.shape != b.shape:
        return f"shape {a.shape}, not {b.shape} as for float64 input"
    if a.dtype.kind in "iub":
        return None if np.array_equal(a, b) else "differs from the reference (the same numbers as float64, or unscaled)"
    return None if np.allclose(a, b, rtol=1e-12, atol=0) else "differs from the reference (the same numbers as float64, or unscaled)"


def _swept(arg, call, values, *, same_as_float=True, names=(), skip=(), valid=None,
           scaled=None):
    """:func:`badinput.sweep`, with (``same_as_float``) every accepted value that is not
    huge or tiny checked against the call on its numbers as a float64 array.

    ``scaled(result, reference, factor)``, with ``valid`` (the unscaled value): what is
    wrong with the result of ``valid * factor`` (huge, tiny) given the result of
    ``valid`` -- for calls whose answer does not depend on the scale of the data.
    """
    cases = []
    for label, value, expect in values:
        if label in skip:
            continue
        check = None
        if expect == MAY_ACCEPT and label.startswith(("huge", "tiny")) and scaled is not None:
            factor = 1e300 if label.startswith("huge") else 1e-300
            check = (lambda result, f=factor: scaled(result, call(valid), f))
        elif expect == MAY_ACCEPT and not label.startswith(("huge", "tiny")) and same_as_float:
            check = (lambda result, v=value: _compare(result, call(_as_float(v))))
        cases.append(Case(arg, label, (lambda v=value: call(v)), expect, names=names, check=check))
    return cases


def _same_labels(key):
    """``scaled`` for :func:`_swept`: the clustering ``key(result)`` does not depend on
    the scale of the data."""
    def scaled(result, reference, factor):
        return _compare(key(result), key(reference))
    return scaled


def _more_features(X):
    return [("3 features (2 fitted)", np.hstack([X, X[:, :1]]), MUST_RAISE)]


# ----------------------------------------------------------------------------- KMeans

_HYPER = dict(n_clusters=3, random_state=0)


def _kmeans_params(make, X, fit):
    """Bad hyper-parameters of an estimator (``make(**params)``), reported by ``fit``."""
    base = dict(_HYPER)
    Xi = np.nan_to_num(X)  # initial centers are complete (MissingDataKMeans's X is not)

    def with_(**changed):
        return fit(make(**{**base, **changed}), X)

    return (
        sweep("n_clusters", lambda v: with_(n_clusters=v), bad_ints(3, high=len(X)))
        + sweep("init", lambda v: with_(init=v), bad_choices())
        # an array init: the shape (n_clusters, n_features) and finiteness are checked
        + sweep("init", lambda v: with_(init=v), bad_arrays(Xi[:3]))
        + [Case("init", "callable returning 2 centers", lambda: with_(
                init=lambda X_, k, random_state: Xi[:2]))]
        + sweep("n_init", lambda v: with_(n_init=v), bad_ints(1) + [("string", "bogus", MUST_RAISE)])
        + [Case("n_init", "3 with an array init", lambda: with_(init=Xi[:3], n_init=3))]
        + sweep("max_iter", lambda v: with_(max_iter=v), bad_ints(300))
        + sweep("tol", lambda v: with_(tol=v), bad_floats(1e-4, low=0.0))
        # verbose: bools are accepted (scikit-learn's convention); prints nothing at 0
        + sweep("verbose", lambda v: with_(verbose=v), bad_ints(0, low=0))
        + sweep("random_state", lambda v: with_(random_state=v), bad_random_states())
        + sweep("algorithm", lambda v: with_(algorithm=v), bad_choices())
        + [Case("algorithm", "elkan with a device", lambda: with_(algorithm="elkan", device="cpu"),
                names=("algorithm", "device"))]
        + sweep("device", lambda v: with_(device=v), bad_devices())
    )


def _kmeans_fit_cases():
    X = _data()
    w = np.ones(len(X))

    def fit(v):
        return KMeans(**_HYPER).fit(v)

    return (
        # huge or tiny X: refused, or the same clustering as X's
        _swept("X", fit, bad_arrays(X), valid=X, scaled=_same_labels(lambda km: km.labels_))
        + _swept("X", lambda v: KMeans(**_HYPER, device="cpu").fit(v), bad_arrays(X),
                 valid=X, scaled=_same_labels(lambda km: km.labels_))
        + [Case("X", "2 rows for 3 clusters", lambda: fit(X[:2]), names=("n_clusters", "X"))]
        + _swept("sample_weight", lambda v: KMeans(**_HYPER).fit(X, sample_weight=v),
                 bad_arrays(w, optional=True) + [("all 0", np.zeros(len(X)), MUST_RAISE),
                                                 ("negative", -w, MUST_RAISE),
                                                 ("too short", w[:5], MUST_RAISE)],
                 # a scalar weight is valid (every point weighs 1.5: the same clustering)
                 skip=("scalar",))
        + _kmeans_params(KMeans, X, lambda est, X_: est.fit(X_))
    )


def _kmeans_ctor_cases():
    X = _data()
    return [
        Case("n_clusters", "string", lambda: KMeans("3").fit(X)),
        Case("tol", "negative", lambda: KMeans(3, tol=-1.0).fit(X)),
        Case("device", "bogus", lambda: KMeans(3, device="bogus").fit(X)),
        Case("init", "wrong shape", lambda: KMeans(3, init=np.zeros((2, 2))).fit(X)),
    ]


def _fit_x_cases(method):
    X = _data()

    def call(v):
        return getattr(KMeans(**_HYPER), method)(v)

    return (
        _swept("X", call, bad_arrays(X), valid=X,
               scaled=_same_labels(lambda r: r if method == "fit_predict" else r.argmin(1)))
        + _swept("sample_weight", lambda v: getattr(KMeans(**_HYPER), method)(X, sample_weight=v),
                 bad_arrays(np.ones(len(X)), optional=True), skip=("scalar",))
        + [Case("n_clusters", "too many", lambda: getattr(KMeans(31), method)(X))]
    )


def _fitted_cases(make, method, *, data=_data, extra_X=()):
    """Cases of a method of a fitted estimator that takes ``X`` (predict, transform...)."""
    X = data()
    model = make().fit(X)

    def call(v):
        return getattr(model, method)(v)

    return (
        [Case("X", "before fit", lambda: getattr(make(), method)(X), names=("fit", "fitted"))]
        + _swept("X", call, list(extra_X) or bad_arrays(np.nan_to_num(X)))
        + _swept("X", call, _more_features(np.nan_to_num(X)), names=("X", "features"))
    )


def _score_cases(make, *, data=_data, extra_X=()):
    X = data()
    model = make().fit(X)
    w = np.ones(len(X))
    return _fitted_cases(make, "score", data=data, extra_X=extra_X) + _swept(
        "sample_weight", lambda v: model.score(X, sample_weight=v),
        bad_arrays(w, optional=True) + [("too short", w[:5], MUST_RAISE)], skip=("scalar",),
    )


# ----------------------------------------------------------------------------- MissingDataKMeans


def _missing_X_values(X):
    """X's family for MissingDataKMeans: NaN marks a missing entry (valid), inf does not;
    a row with every entry missing is refused."""
    values = [v for v in bad_arrays(np.nan_to_num(X)) if v[0] != "NaN"]
    all_nan = X.copy()
    all_nan[4] = np.nan
    with_inf = X.copy()
    with_inf[0, 1] = np.inf
    return values + [
        ("NaN (missing entries)", X, MAY_ACCEPT),
        ("a row of NaN", all_nan, MUST_RAISE),
        ("inf next to NaN", with_inf, MUST_RAISE),
        ("all NaN", np.full_like(X, np.nan), MUST_RAISE),
    ]


def _missing(**kw):
    return MissingDataKMeans(**{**_HYPER, **kw})


def _missing_fit_cases():
    X = _missing_data()
    w = np.ones(len(X))
    cases = []
    for distance in ("expected", "submitted"):
        def fit(v, distance=distance):
            return _missing(distance=distance).fit(v)

        cases += _swept("X", fit, _missing_X_values(X), valid=X,
                        scaled=_same_labels(lambda km: km.labels_))
        cases += _swept(
            "sample_weight", lambda v, d=distance: _missing(distance=d).fit(X, sample_weight=v),
            bad_arrays(w, optional=True) + [("all 0", np.zeros(len(X)), MUST_RAISE)],
            skip=("scalar",),
        )
        cases += _kmeans_params(
            lambda **p: MissingDataKMeans(distance=distance, **p), X, lambda est, X_: est.fit(X_))
    cases += sweep("c", lambda v: _missing(c=v).fit(X), bad_floats(1.0, low=0.0, low_open=True)
                   + [("so large that the cost overflows", 1e308, MUST_RAISE)])
    cases += sweep("distance", lambda v: _missing(distance=v).fit(X), bad_choices())
    cases += [Case("device", "cpu with distance='submitted'",
                   lambda: _missing(distance="submitted", device="cpu").fit(X)),
              Case("algorithm", "elkan with distance='submitted'",
                   lambda: _missing(distance="submitted", algorithm="elkan").fit(X))]
    return cases


def _missing_ctor_cases():
    X = _missing_data()
    return [
        Case("c", "string", lambda: MissingDataKMeans(3, c="1").fit(X)),
        Case("distance", "bogus", lambda: MissingDataKMeans(3, distance="bogus").fit(X)),
        Case("n_clusters", "zero", lambda: MissingDataKMeans(0).fit(X)),
    ]


def _missing_method_cases(method):
    X = _missing_data()
    cases = []
    for distance in ("expected", "submitted"):
        make = lambda distance=distance: _missing(distance=distance)  # noqa: E731
        if method == "score":
            cases += _score_cases(make, data=_missing_data, extra_X=_missing_X_values(X))
        else:
            cases += _fitted_cases(make, method, data=_missing_data, extra_X=_missing_X_values(X))
        # a parameter changed after fit is checked again
        model = make().fit(X)
        model.c = -1.0
        cases.append(Case("c", "set to -1 after fit", lambda m=model: getattr(m, method)(X)))
    return cases


# ----------------------------------------------------------------------------- functions


def _kmeans_plusplus_cases():
    X = _data()
    w = np.ones(len(X))
    return (
        _swept("X", lambda v: kmeans_plusplus(v, 3, random_state=0), bad_arrays(X), valid=X,
               scaled=_same_labels(lambda r: r[1]))
        + sweep("n_clusters", lambda v: kmeans_plusplus(X, v, random_state=0), bad_ints(3, high=len(X)))
        + _swept("sample_weight", lambda v: kmeans_plusplus(X, 3, sample_weight=v, random_state=0),
                 bad_arrays(w, optional=True) + [("all 0", np.zeros(len(X)), MUST_RAISE)],
                 skip=("scalar",))
        + _swept("x_squared_norms",
                 lambda v: kmeans_plusplus(X, 3, x_squared_norms=v, random_state=0),
                 bad_arrays((X**2).sum(1), optional=True)
                 + [("negative", -(X**2).sum(1), MUST_RAISE)])
        + sweep("random_state", lambda v: kmeans_plusplus(X, 3, random_state=v), bad_random_states())
        + sweep("n_local_trials", lambda v: kmeans_plusplus(X, 3, n_local_trials=v, random_state=0),
                bad_ints(2, optional=True))
    )


def _class_means_cases():
    X = _data()
    y = np.arange(len(X)) % 3
    return (
        _swept("X", lambda v: class_means(v, y[: len(np.atleast_1d(v))] if np.ndim(v) >= 1
                                          else y), bad_arrays(X),
               skip=("empty",), valid=X,  # means scale with X
               scaled=lambda r, ref, factor: _compare(r / factor, ref))
        + [Case("X", "empty", lambda: class_means(X[:0], y[:0]), names=("X", "y"))]
        + [Case("X", "near float64's largest", lambda: class_means(X * 1e307, y))]
        + _swept("y", lambda v: class_means(X, v), [
            ("NaN", np.where(y == 0, np.nan, y), MUST_RAISE),
            ("inf", np.where(y == 0, np.inf, y.astype(float)), MUST_RAISE),
            ("too short", y[:5], MUST_RAISE),
            ("2-D", y[:, None], MUST_RAISE),
            ("scalar", 1, MUST_RAISE),
            ("None", None, MUST_RAISE),
            ("dict", {"a": 1}, MUST_RAISE),
            ("complex", y + 1j, MUST_RAISE),
            ("object array with None", np.array([None] * len(y), dtype=object), MUST_RAISE),
            ("mixed types", np.array([1, "a"] * 15, dtype=object), MUST_RAISE),
            ("strings", np.array(["a", "b", "c"])[y], MAY_ACCEPT),
            ("list", y.tolist(), MAY_ACCEPT),
            ("torch tensor", badinput._tensor(y), MAY_ACCEPT),
            ("float labels", y.astype(float), MAY_ACCEPT),
        ], same_as_float=False)
    )


def _lloyd_step_cases():
    X = _data()
    C = X[:3].copy()
    w = np.ones(len(X))
    x_sq = (X**2).sum(1)

    def step(**kw):
        args = {"X": X, "centers": C, **kw}
        return lloyd_step(args.pop("X"), args.pop("centers"), **args)

    return (
        # integer/uint8/bool X: float means, as for the same numbers in float64
        _swept("X", lambda v: step(X=v), bad_arrays(X))
        + [Case("X", "2 rows for 3 centers", lambda: step(X=X[:2]), names=("centers", "X"))]
        + _swept("centers", lambda v: step(centers=v), bad_arrays(C))
        + _swept("centers", lambda v: step(centers=v), [
            ("3 features", np.hstack([C, C[:, :1]]), MUST_RAISE),
            ("1 feature", C[:, :1], MUST_RAISE)])
        + _swept("x_sq", lambda v: step(x_sq=v), bad_arrays(x_sq, optional=True) + [
            ("2-D", x_sq[:, None], MUST_RAISE), ("too short", x_sq[:5], MUST_RAISE),
            ("negative", -x_sq, MUST_RAISE)])
        + _swept("sample_weight", lambda v: step(sample_weight=v),
                 bad_arrays(w, optional=True) + [("all 0", np.zeros(len(X)), MUST_RAISE),
                                                 ("negative", -w, MUST_RAISE)],
                 skip=("scalar",))
        + sweep("pool", lambda v: step(pool=v), [
            ("string", "x", MUST_RAISE), ("int", 4, MUST_RAISE),
            ("a ThreadPoolExecutor", __import__("concurrent.futures").futures.ThreadPoolExecutor(1),
             MUST_RAISE),
            ("a ChunkPool outside its with block", ChunkPool(), MUST_RAISE)])
        + sweep("check_input", lambda v: step(check_input=v), bad_bools())
    )


CASES = {
    "KMeans": _kmeans_ctor_cases,
    "KMeans.fit": _kmeans_fit_cases,
    "KMeans.fit_predict": lambda: _fit_x_cases("fit_predict"),
    "KMeans.fit_transform": lambda: _fit_x_cases("fit_transform"),
    "KMeans.predict": lambda: _fitted_cases(lambda: KMeans(**_HYPER), "predict"),
    "KMeans.transform": lambda: _fitted_cases(lambda: KMeans(**_HYPER), "transform"),
    "KMeans.score": lambda: _score_cases(lambda: KMeans(**_HYPER)),
    "MissingDataKMeans": _missing_ctor_cases,
    "MissingDataKMeans.fit": _missing_fit_cases,
    "MissingDataKMeans.expected_sq_distances": lambda: _missing_method_cases("expected_sq_distances"),
    "MissingDataKMeans.predict": lambda: _missing_method_cases("predict"),
    "MissingDataKMeans.transform": lambda: _missing_method_cases("transform"),
    "MissingDataKMeans.score": lambda: _missing_method_cases("score"),
    "kmeans_plusplus": _kmeans_plusplus_cases,
    "class_means": _class_means_cases,
    "lloyd_step": _lloyd_step_cases,
}
