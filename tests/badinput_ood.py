"""Bad-input cases of :mod:`gmmlab.ood` (the out-of-distribution exercise), for
``tests/test_bad_input.py``.

Tiny data throughout (40 rows of 3 features, 4 images): the whole area sweeps in a few
seconds. ``train_mlp``, ``extract_features`` and ``load_ood_features`` are only swept
for the validation they do before any work: accepted values train one epoch on 4
images (``cache=False``), and ``load_ood_features`` runs with the data loaders and the
training replaced by a guard that fails the case should a bad value get through.
"""

from __future__ import annotations

import contextlib
import math
from functools import lru_cache

import numpy as np
import torch

from badinput import (
    MAY_ACCEPT,
    MUST_RAISE,
    bad_arrays,
    bad_bools,
    bad_choices,
    bad_devices,
    bad_floats,
    bad_ints,
    bad_random_states,
    sweep,
)

# --------------------------------------------------------------------------- data


@lru_cache(maxsize=None)
def _data():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0.0, 1.0, (20, 3)), rng.normal(4.0, 1.0, (20, 3))])
    y = np.repeat([0, 1], 20)
    return X, y


def _X():
    return _data()[0].copy()


def _y():
    return _data()[1].copy()


@lru_cache(maxsize=None)
def _scorer():
    from gmmlab import ood

    return ood.GMMScorer(2, random_state=0).fit(_X())


@lru_cache(maxsize=None)
def _mahalanobis():
    from gmmlab import ood

    return ood.MahalanobisScorer().fit(_X(), _y())


def _images(n=4):
    return np.random.default_rng(1).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def _labels(n=4):
    return np.arange(n) % 10


def _float_images(n=2):
    """Valid floats in [0, 1] (the family's base value for image arguments)."""
    return _images(n) / 255.0


@lru_cache(maxsize=None)
def _model():
    from gmmlab import ood

    torch.manual_seed(0)
    return ood.MLP()


def _row(k, bic, heldout=-1.0):
    return {"n_components": k, "heldout_loglik": heldout, "bic": bic, "auroc": None,
            "fpr95": None, "fit_time": 0.01, "n_iter": 3, "converged": True}


def _table(*rows):
    from gmmlab import ood

    return ood.SweepTable(rows=list(rows))


#: "Not given" (None is one of the bad values swept).
_DEFAULT = object()


def _same(expected):
    def check(result):
        return None if result == expected else f"returned {result!r}, expected {expected!r}"

    return check


def _finite_scores(result):
    a = np.asarray(result, dtype=float)
    return None if np.isfinite(a).all() else "non-finite scores"


# --------------------------------------------------------------------------- the network

#: Bad tensors for the MLP's methods (the family's values are numpy arrays: refused too).
def _bad_tensors():
    x = torch.rand(2, 28, 28)
    nan, inf = x.clone(), x.clone()
    nan[0, 0, 0] = math.nan
    inf[1, 2, 3] = math.inf
    return [
        ("tensor with NaN", nan, MUST_RAISE),
        ("tensor with inf", inf, MUST_RAISE),
        ("(2, 100) tensor", torch.rand(2, 100), MUST_RAISE),
        ("one image (28, 28)", torch.rand(28, 28), MUST_RAISE),
        ("1-D (784,)", torch.rand(784), MUST_RAISE),
        ("(2, 3, 28, 28)", torch.rand(2, 3, 28, 28), MUST_RAISE),
        ("float64 tensor", x.double(), MUST_RAISE),
        ("float16 tensor", x.half(), MUST_RAISE),
        ("uint8 tensor", (x * 255).to(torch.uint8), MUST_RAISE),
        ("int64 tensor", (x * 255).long(), MUST_RAISE),
        ("bool tensor", x > 0.5, MUST_RAISE),
        ("complex tensor", x.to(torch.complex64), MUST_RAISE),
        ("0-D tensor", torch.tensor(0.5), MUST_RAISE),
        ("huge float32 (x 1e37)", x * 1e37, MAY_ACCEPT),
        ("tiny float32 (x 1e-37)", x * 1e-37, MAY_ACCEPT),
        ("(2, 784) float32", x.reshape(2, 784), MAY_ACCEPT),
        ("(2, 1, 28, 28) float32 (torchvision's layout)", x[:, None], MAY_ACCEPT),
        ("no image (0, 784)", torch.zeros(0, 784), MAY_ACCEPT),
    ]


def _mlp_cases(method):
    def cases():
        model = _model()

        def call(v):
            return getattr(model, method)(v) if method else model(v)

        out = sweep("x", call, bad_arrays(_float_images(), ndim=3), skip=("torch tensor",))
        # ("torch tensor" of the family is float64: in _bad_tensors.)
        out += sweep("x", call, _bad_tensors())
        if not method:
            from gmmlab import ood

            out += sweep("MLP", lambda v: ood.MLP(v), [("an argument", 3, MUST_RAISE)])
        return out

    return cases


def _scale_images_cases():
    from gmmlab import ood

    f = _float_images()
    out = sweep("images", lambda v: ood.scale_images(v), bad_arrays(f, ndim=3))
    out += sweep("images", lambda v: ood.scale_images(v), [
        ("uint8 (n, 784)", _images(2).reshape(2, 784), MAY_ACCEPT),
        ("(2, 28, 27)", f[:, :, :27], MUST_RAISE),
        ("floats 0..255", f * 255.0, MUST_RAISE),
        ("negative floats", f - 2.0, MUST_RAISE),
        ("int64 pixels", _images(2).astype(np.int64), MUST_RAISE),
        ("bool", _images(2) > 100, MUST_RAISE),
        ("uint8 tensor", torch.from_numpy(_images(2)), MAY_ACCEPT),
        ("NaN tensor", torch.full((2, 784), math.nan), MUST_RAISE),
    ])
    out += sweep("name", lambda v: ood.scale_images(f, name=v),
                 [("int", 3, MUST_RAISE), ("None", None, MUST_RAISE), ("list", ["a"], MUST_RAISE)])
    return out


def _train(**kw):
    from gmmlab import ood

    args = dict(images=_images(), labels=_labels(), n_epochs=1, cache=False, progress=False)
    args.update(kw)
    images, labels = args.pop("images"), args.pop("labels")
    return ood.train_mlp(images, labels, **args)


def _train_mlp_cases():
    f = _float_images(4)
    out = sweep("images", lambda v: _train(images=v), bad_arrays(f, ndim=3),
                skip=("empty",))  # (an empty images array: its own case below)
    out += sweep("images", lambda v: _train(images=v, labels=_labels(0)),
                 [("empty", f[:0], MUST_RAISE)])
    labels = _labels().astype(float)
    out += sweep("labels", lambda v: _train(labels=v), bad_arrays(labels, ndim=1))
    out += sweep("labels", lambda v: _train(labels=v), [
        ("class 10", np.array([0, 1, 2, 10]), MUST_RAISE),
        ("class -1", np.array([0, 1, 2, -1]), MUST_RAISE),
        ("too short", _labels(3), MUST_RAISE),
        ("strings", np.array(list("abcd")), MUST_RAISE),
        ("int tensor", torch.from_numpy(_labels()), MAY_ACCEPT),
        ("huge int", np.array([0, 1, 2, 2**40]), MUST_RAISE),
    ])
    out += sweep("recipe", lambda v: _train(recipe=v), bad_choices())
    out += sweep("random_state", lambda v: _train(random_state=v), bad_random_states())
    out += sweep("n_epochs", lambda v: _train(n_epochs=v), bad_ints(1, low=1, optional=True))
    out += sweep("cache", lambda v: _train(cache=v), bad_bools())
    out += sweep("progress", lambda v: _train(progress=v), bad_bools(),
                 skip=("None",))  # None is valid: the progress-bar rule
    out += sweep("num_threads", lambda v: _train(num_threads=v), bad_ints(1, low=1, optional=True))
    return out


def _extract(model=_DEFAULT, images=_DEFAULT, **kw):
    from gmmlab import ood

    kw.setdefault("cache", False)
    return ood.extract_features(_model() if model is _DEFAULT else model,
                                _images(2) if images is _DEFAULT else images, **kw)


def _extract_features_cases():
    out = sweep("model", lambda v: _extract(model=v), [
        ("None", None, MUST_RAISE), ("string", "mlp", MUST_RAISE),
        ("another module", torch.nn.Linear(784, 10), MUST_RAISE),
        ("the class", type(_model()), MUST_RAISE),
    ])
    out += sweep("images", lambda v: _extract(images=v), bad_arrays(_float_images(), ndim=3))
    out += sweep("layer", lambda v: _extract(layer=v), bad_choices())
    out += sweep("batch_size", lambda v: _extract(batch_size=v), bad_ints(8, low=1))
    out += sweep("cache", lambda v: _extract(cache=v), bad_bools())
    return out


@contextlib.contextmanager
def _no_work():
    """Data loading and training replaced by a RuntimeError (an accepted bad value then
    fails its case, as an unclear error, instead of training a network for minutes)."""
    import gmmlab.data
    from gmmlab.ood import features as features_module

    def no_work(*args, **kwargs):
        raise RuntimeError("load_ood_features started working despite a bad argument")

    saved = [(gmmlab.data, n, getattr(gmmlab.data, n))
             for n in ("load_mnist", "load_fashion_mnist")]
    saved += [(features_module, n, getattr(features_module, n))
              for n in ("train_mlp", "extract_features")]
    for owner, name, _ in saved:
        setattr(owner, name, no_work)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def _load(**kw):
    from gmmlab import ood

    with _no_work():
        return ood.load_ood_features(**kw)


def _load_ood_features_cases():
    out = sweep("recipe", lambda v: _load(recipe=v), bad_choices())
    out += sweep("layer", lambda v: _load(layer=v), bad_choices())
    out += sweep("random_state", lambda v: _load(random_state=v), bad_random_states())
    out += sweep("cache", lambda v: _load(cache=v), bad_bools())
    out += sweep("progress", lambda v: _load(progress=v), bad_bools(),
                 skip=("None",))  # None is valid: the progress-bar rule
    # Every argument before any work: a bad layer after a good recipe, and the reverse.
    out += sweep("layer", lambda v: _load(recipe="adam", layer=v, random_state=3),
                 [("unknown with the other arguments good", "fc2", MUST_RAISE)])
    out += sweep("recipe", lambda v: _load(recipe=v, layer="hidden1"),
                 [("unknown with the other arguments good", "sgd", MUST_RAISE)])
    return out


# --------------------------------------------------------------------------- scorers


def _gmm(X=_DEFAULT, **params):
    from gmmlab import ood

    params.setdefault("n_components", 2)
    return ood.GMMScorer(**params).fit(_X() if X is _DEFAULT else X)


def _gmm_scorer_cases():
    from gmmlab import ood

    X = _X()
    return [
        *sweep("n_components", lambda v: ood.GMMScorer(v).fit(X),
               [("string", "3", MUST_RAISE), ("zero", 0, MUST_RAISE)]),
        *sweep("standardize", lambda v: ood.GMMScorer(2, standardize=v).fit(X),
               [("string 'no'", "no", MUST_RAISE)]),
        *sweep("estimator", lambda v: ood.GMMScorer(2, estimator=v).fit(X),
               [("an instance", ood.GMMScorer(), MUST_RAISE)]),
    ]


def _gmm_fit_cases():
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    X = _X()
    n = X.shape[0]
    out = sweep("X", lambda v: _gmm(v), bad_arrays(X))
    out += sweep("X", lambda v: _gmm(v, standardize=False), [
        ("huge (x 1e300), no standardisation", X * 1e300, MAY_ACCEPT),
        ("tiny (x 1e-300), no standardisation", X * 1e-300, MAY_ACCEPT),
    ])
    out += sweep("n_components", lambda v: _gmm(n_components=v), bad_ints(2, low=1, high=n))
    out += sweep("n_components", lambda v: _gmm(X[:3], n_components=v),
                 [("4 components, 3 rows", 4, MUST_RAISE)])
    out += sweep("covariance_type", lambda v: _gmm(covariance_type=v), bad_choices())
    out += sweep("reg_covar", lambda v: _gmm(reg_covar=v), bad_floats(1e-6, low=0.0))
    out += sweep("standardize", lambda v: _gmm(standardize=v),
                 bad_bools() + [("string 'no'", "no", MUST_RAISE), ("int 0", 0, MUST_RAISE)])
    out += sweep("tol", lambda v: _gmm(tol=v), bad_floats(1e-3, low=0.0))
    out += sweep("max_iter", lambda v: _gmm(max_iter=v), bad_ints(100, low=0))
    out += sweep("n_init", lambda v: _gmm(n_init=v), bad_ints(1, low=1))
    out += sweep("init_params", lambda v: _gmm(init_params=v), bad_choices())
    out += sweep("random_state", lambda v: _gmm(random_state=v), bad_random_states())
    out += sweep("device", lambda v: _gmm(device=v), bad_devices())
    out += sweep("estimator", lambda v: _gmm(estimator=v), [
        ("an instance", SkGaussianMixture(2), MUST_RAISE),
        ("a string", "sklearn", MUST_RAISE),
        ("int", 3, MUST_RAISE),
        ("a class that is no mixture", dict, MUST_RAISE),
        ("a class without n_components", torch.nn.Linear, MUST_RAISE),
        ("sklearn's class", SkGaussianMixture, MAY_ACCEPT),
    ])
    out += sweep("device", lambda v: _gmm(device=v, estimator=SkGaussianMixture),
                 [("cpu for a class without device", "cpu", MUST_RAISE)],
                 names=("device", "estimator"))
    out += sweep("mixture_params", lambda v: _gmm(mixture_params=v), [
        ("list", [("dtype", "float32")], MUST_RAISE),
        ("string", "dtype=float32", MUST_RAISE),
        ("non-string key", {1: 2}, MUST_RAISE),
        ("a GMMScorer parameter", {"tol": 1e-4}, MUST_RAISE),
        ("n_components", {"n_components": 3}, MUST_RAISE),
        ("unknown parameter", {"momentum": 0.9}, MUST_RAISE),
        ("float32", {"dtype": "float32"}, MAY_ACCEPT),
    ])
    out += sweep("mixture_params", lambda v: _gmm(mixture_params=v),
                 [("bad dtype", {"dtype": "float16"}, MUST_RAISE)],
                 names=("mixture_params", "dtype"))
    return out


def _fitted_x_cases(method, *, check=None):
    def cases():
        from gmmlab import ood

        X = _X()
        fitted = _scorer()
        call = lambda v: getattr(fitted, method)(v)  # noqa: E731
        out = sweep("X", call, bad_arrays(X), check=check)
        out += sweep("X", call, [
            ("2 features", X[:, :2], MUST_RAISE),
            ("4 features", np.hstack([X, X[:, :1]]), MUST_RAISE),
            ("one far point (1e200)", np.full((1, 3), 1e200), MAY_ACCEPT),
            ("one far point (1e150)", np.full((1, 3), 1e150), MAY_ACCEPT),
            ("one far point (-1e100)", np.full((1, 3), -1e100), MAY_ACCEPT),
        ], check=check)
        out.append(sweep("X", lambda v: getattr(ood.GMMScorer(2), method)(v),
                         [("unfitted scorer", X, MUST_RAISE)])[0])
        return out

    return cases


def _mahalanobis_scorer_cases():
    from gmmlab import ood

    return [
        *sweep("MahalanobisScorer", lambda v: ood.MahalanobisScorer(v),
               [("an argument", 3, MUST_RAISE)]),
        *sweep("X", lambda v: ood.MahalanobisScorer().distances(v),
               [("unfitted scorer", _X(), MUST_RAISE)]),
    ]


def _mahalanobis_fit_cases():
    from gmmlab import ood

    X, y = _X(), _y()
    out = sweep("X", lambda v: ood.MahalanobisScorer().fit(v, y), bad_arrays(X))
    out += sweep("y", lambda v: ood.MahalanobisScorer().fit(X, v), bad_arrays(y.astype(float)),
                 skip=("array of strings",))  # string class labels are valid: case below
    out += sweep("y", lambda v: ood.MahalanobisScorer().fit(X, v), [
        ("strings", np.array(["a", "b"])[y], MAY_ACCEPT),
        ("too short", y[:-1], MUST_RAISE),
        ("None among labels", np.array([0, None] * 20, dtype=object), MUST_RAISE),
        ("mixed types", np.array([0, "a"] * 20, dtype=object), MUST_RAISE),
        ("2-D", y[:, None], MUST_RAISE),
    ])
    return out


def _mahalanobis_x_cases(method):
    def cases():
        X = _X()
        fitted = _mahalanobis()
        call = lambda v: getattr(fitted, method)(v)  # noqa: E731
        out = sweep("X", call, bad_arrays(X))
        out += sweep("X", call, [
            ("2 features", X[:, :2], MUST_RAISE),
            ("one far point (1e200)", np.full((1, 3), 1e200), MAY_ACCEPT),
            ("one far point (1e150)", np.full((1, 3), 1e150), MAY_ACCEPT),
        ])
        return out

    return cases


def _msp_cases():
    from gmmlab import ood

    z = np.random.default_rng(2).normal(size=(5, 4))
    out = sweep("logits", lambda v: ood.msp_score(v), bad_arrays(z))
    out += sweep("logits", lambda v: ood.msp_score(v), [
        ("one class", z[:, :1], MUST_RAISE),
        ("float32 tensor", torch.from_numpy(z.astype(np.float32)), MAY_ACCEPT),
        ("huge spread", np.array([[1e308, -1e308]]), MAY_ACCEPT),
    ])
    return out


def _mahalanobis_score_cases():
    from gmmlab import ood

    X, y = _X(), _y()
    out = sweep("features", lambda v: ood.mahalanobis_score(v, X, y), bad_arrays(X))
    out += sweep("features", lambda v: ood.mahalanobis_score(v, X, y),
                 [("2 features", X[:, :2], MUST_RAISE)])
    out += sweep("train_features", lambda v: ood.mahalanobis_score(X, v, y), bad_arrays(X))
    out += sweep("train_labels", lambda v: ood.mahalanobis_score(X, X, v),
                 bad_arrays(y.astype(float)),
                 skip=("array of strings",))  # string class labels are valid
    out += sweep("train_labels", lambda v: ood.mahalanobis_score(X, X, v),
                 [("too short", y[:-1], MUST_RAISE),
                  ("None among labels", np.array([0, None] * 20, dtype=object), MUST_RAISE)])
    return out


def _default_mixture_cases():
    from gmmlab import ood
    from gmmlab.mixture import GaussianMixture

    return [
        *sweep("default_mixture", lambda v: ood.default_mixture(v),
               [("an argument", "sklearn", MUST_RAISE)]),
        *sweep("default_mixture", lambda v: ood.default_mixture(),
               [("no argument", None, MAY_ACCEPT)],
               check=lambda r: None if r is GaussianMixture else f"returned {r!r}"),
    ]


# --------------------------------------------------------------------------- the sweep


def _sweep_table_cases():
    from gmmlab import ood

    return sweep("rows", lambda v: ood.SweepTable(rows=v), [
        ("string", "abc", MUST_RAISE),
        ("None", None, MUST_RAISE),
        ("dict", {"a": 1}, MUST_RAISE),
        ("list of numbers", [1, 2], MUST_RAISE),
        ("row without bic", [{"n_components": 1}], MUST_RAISE),
        ("n_components a string", [{**_row(1, 10.0), "n_components": "1"}], MUST_RAISE),
        ("bic a string", [{**_row(1, 10.0), "bic": "10"}], MUST_RAISE),
        ("auroc a list", [{**_row(1, 10.0), "auroc": [0.5]}], MUST_RAISE),
        ("tuple of rows", (_row(1, 10.0),), MAY_ACCEPT),
    ])


def _column_cases():
    table = _table(_row(1, 10.0), _row(2, 5.0))
    out = sweep("name", lambda v: table.column(v), bad_choices())
    out += sweep("name", lambda v: table.column(v), [("a method name", "best", MUST_RAISE)])

    def broken(v):
        t = _table(_row(1, 10.0))
        t.rows.append(v)
        return t.column("bic")

    out += sweep("rows", broken, [("row without bic", {"n_components": 2}, MUST_RAISE),
                                  ("not a dict", 3, MUST_RAISE)])
    return out


def _best_cases():
    table = _table(_row(1, 10.0), _row(2, 5.0))
    out = sweep("criterion", lambda v: table.best(v), bad_choices())
    out += sweep("rows", lambda v: _table(*v).best("bic"), [
        # The K whose BIC is NaN is never chosen (np.argmin used to pick it).
        ("a NaN BIC", [_row(1, math.nan), _row(2, 5.0), _row(3, 7.0)], MAY_ACCEPT),
        ("no rows", [], MUST_RAISE),
        ("every BIC NaN", [_row(1, math.nan), _row(2, math.nan)], MUST_RAISE),
    ], names=("rows", "bic"), check=_same(2))
    out += sweep("rows", lambda v: _table(*v).best("heldout"), [
        ("a NaN held-out log-likelihood",
         [_row(1, 1.0, math.nan), _row(2, 1.0, -3.0), _row(3, 1.0, -5.0)], MAY_ACCEPT),
    ], names=("rows", "heldout_loglik"), check=_same(2))

    def broken(v):
        t = _table(_row(1, 10.0))
        t.rows.append(v)
        return t.best()

    out += sweep("rows", broken, [("row without bic", {"n_components": 2}, MUST_RAISE),
                                  ("bic None", {**_row(2, 1.0), "bic": None}, MUST_RAISE)])
    return out


def _to_string_cases():
    def broken(v):
        t = _table(_row(1, 10.0))
        t.rows.append(v)
        return t.to_string()

    out = sweep("rows", broken, [
        ("row without bic", {"n_components": 2}, MUST_RAISE),
        ("heldout_loglik None", {**_row(2, 1.0), "heldout_loglik": None}, MUST_RAISE),
        ("not a dict", "row", MUST_RAISE),
    ])
    out += sweep("rows", lambda v: _table(*v).to_string(), [
        ("no rows", [], MAY_ACCEPT),
        ("a NaN BIC", [_row(1, math.nan)], MAY_ACCEPT),
    ])
    return out


def _sweep_call(features=_DEFAULT, candidates=(1, 2), **kw):
    from gmmlab import ood

    kw.setdefault("max_iter", 20)
    return ood.sweep_n_components(_X() if features is _DEFAULT else features, list(candidates)
                                  if isinstance(candidates, tuple) else candidates, **kw)


def _sweep_cases():
    X = _X()
    out = sweep("features", lambda v: _sweep_call(v), bad_arrays(X))
    out += sweep("candidates", lambda v: _sweep_call(candidates=v), [
        ("string", "12", MUST_RAISE),
        ("int", 3, MUST_RAISE),
        ("None", None, MUST_RAISE),
        ("empty", [], MUST_RAISE),
        ("a zero", [0, 1], MUST_RAISE),
        ("a float", [1, 2.5], MUST_RAISE),
        ("a NaN", [1, math.nan], MUST_RAISE),
        ("a string inside", [1, "2"], MUST_RAISE),
        ("more components than fitting rows", [100], MUST_RAISE),
        ("more than the rows left by max_fit_samples", [1, 12], MUST_RAISE),
        ("numpy ints", np.array([1, 2]), MAY_ACCEPT),
        ("a range", range(1, 3), MAY_ACCEPT),
    ])
    # (the last-but-two case with max_fit_samples: below)
    out = [c for c in out if c.label != "more than the rows left by max_fit_samples"]
    out += sweep("candidates", lambda v: _sweep_call(candidates=v, max_fit_samples=10),
                 [("more than the rows left by max_fit_samples", [1, 12], MUST_RAISE)])
    for name in ("features_in", "features_out"):
        other = "features_out" if name == "features_in" else "features_in"
        out += sweep(name, lambda v, name=name, other=other: _sweep_call(**{name: v, other: X}),
                     bad_arrays(X), skip=("None",))  # None: the next case
        out += sweep(name, lambda v, name=name: _sweep_call(**{name: v}),
                     [("without the other", X, MUST_RAISE)], names=("features_in", "features_out"))
        out += sweep(name, lambda v, name=name, other=other: _sweep_call(**{name: v, other: X}),
                     [("2 features", X[:, :2], MUST_RAISE)])
    out += sweep("validation_fraction", lambda v: _sweep_call(validation_fraction=v),
                 bad_floats(0.2, low=0.0, high=1.0, low_open=True)
                 + [("one", 1.0, MUST_RAISE), ("bool", True, MUST_RAISE)])
    out += sweep("max_fit_samples", lambda v: _sweep_call(max_fit_samples=v),
                 bad_ints(20, low=2, optional=True))
    out += sweep("random_state", lambda v: _sweep_call(random_state=v), bad_random_states())
    out += sweep("callback", lambda v: _sweep_call(callback=v),
                 [("int", 3, MUST_RAISE), ("string", "print", MUST_RAISE)])
    out += sweep("fit_together", lambda v: _sweep_call(fit_together=v), bad_bools())
    out += sweep("scorer_params", lambda v: _sweep_call(**v), [
        ("n_components", {"n_components": 3}, MUST_RAISE),
        ("unknown", {"momentum": 0.9}, MUST_RAISE),
    ], names=("n_components", "momentum", "scorer_params"))
    out += sweep("covariance_type", lambda v: _sweep_call(covariance_type=v), bad_choices())
    out += sweep("reg_covar", lambda v: _sweep_call(reg_covar=v), bad_floats(1e-6, low=0.0))
    out += sweep("device", lambda v: _sweep_call(device=v), bad_devices())
    out += sweep("standardize", lambda v: _sweep_call(standardize=v),
                 [("string 'no'", "no", MUST_RAISE)])
    return out


def _select_cases():
    from gmmlab import ood

    X = _X()
    call = lambda **kw: ood.select_n_components(X, [1, 2], max_iter=20, **kw)  # noqa: E731
    out = sweep("criterion", lambda v: call(criterion=v), bad_choices())
    out += sweep("features", lambda v: ood.select_n_components(v, [1, 2]), bad_arrays(X),
                 skip=("huge (x 1e300)", "tiny (x 1e-300)", "list", "torch tensor",
                       "np.matrix", "object array of numbers", "bool", "integer", "uint8"))
    # (the accepted kinds of features are swept through sweep_n_components)
    out += sweep("candidates", lambda v: ood.select_n_components(X, v),
                 [("empty", [], MUST_RAISE), ("too many components", [100], MUST_RAISE)])
    out += sweep("random_state", lambda v: call(random_state=v), bad_random_states())
    out += sweep("validation_fraction", lambda v: call(validation_fraction=v),
                 [("zero", 0.0, MUST_RAISE), ("string", "0.2", MUST_RAISE)])
    out += sweep("max_fit_samples", lambda v: call(max_fit_samples=v),
                 [("one", 1, MUST_RAISE), ("float", 10.5, MUST_RAISE)])
    return out


def _fit_scorers_cases():
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    from gmmlab import ood

    X = _X()
    one = ood.GMMScorer(2)
    out = sweep("scorers", lambda v: ood.fit_scorers(v, X), [
        ("a scorer, not a list", ood.GMMScorer(2), MUST_RAISE),
        ("string", "abc", MUST_RAISE),
        ("None", None, MUST_RAISE),
        ("empty", [], MUST_RAISE),
        ("a mixture inside", [ood.GMMScorer(2), SkGaussianMixture(2)], MUST_RAISE),
        ("sklearn estimator", [ood.GMMScorer(2, estimator=SkGaussianMixture)], MUST_RAISE),
        ("the same twice", [one, one], MUST_RAISE),
        ("a tuple", (ood.GMMScorer(1), ood.GMMScorer(2)), MAY_ACCEPT),
    ])
    out += sweep("scorers", lambda v: ood.fit_scorers(v, X), [
        ("standardize differs", [ood.GMMScorer(2), ood.GMMScorer(3, standardize=False)],
         MUST_RAISE),
        ("standardize 'no'", [ood.GMMScorer(2, standardize="no")], MUST_RAISE),
        ("standardize 1 vs True", [ood.GMMScorer(2, standardize=1), ood.GMMScorer(3)],
         MUST_RAISE),
    ], names=("scorers", "standardize"))
    out += sweep("scorers", lambda v: ood.fit_scorers(v, X), [
        ("covariance_type differs",
         [ood.GMMScorer(2), ood.GMMScorer(3, covariance_type="diag")], MUST_RAISE),
        ("reg_covar differs", [ood.GMMScorer(2), ood.GMMScorer(3, reg_covar=1e-3)], MUST_RAISE),
        ("n_components too large", [ood.GMMScorer(41)], MUST_RAISE),
    ], names=("scorers", "covariance_type", "reg_covar", "n_components"))
    out += sweep("X", lambda v: ood.fit_scorers([ood.GMMScorer(1), ood.GMMScorer(2)], v),
                 bad_arrays(X))
    return out


def _sklearn_start_cases():
    from gmmlab import ood

    X = _X()
    n = X.shape[0]
    out = sweep("X", lambda v: ood.sklearn_start(v, 2), bad_arrays(X))
    out += sweep("n_components", lambda v: ood.sklearn_start(X, v), bad_ints(2, low=1, high=n))
    out += sweep("random_state", lambda v: ood.sklearn_start(X, 2, random_state=v),
                 bad_random_states())
    out += sweep("reg_covar", lambda v: ood.sklearn_start(X, 2, reg_covar=v),
                 bad_floats(1e-6, low=0.0))
    return out


def _replay(features=_DEFAULT, candidates=(2,), features_in=_DEFAULT,
            features_out=_DEFAULT, **kw):
    from gmmlab import ood

    X = _X()
    return ood.replay_submission(
        X if features is _DEFAULT else features,
        list(candidates) if isinstance(candidates, tuple) else candidates,
        features_in=X[:10] if features_in is _DEFAULT else features_in,
        features_out=X[:10] + 5.0 if features_out is _DEFAULT else features_out, **kw)


def _replay_cases():
    X = _X()
    out = sweep("features", lambda v: _replay(features=v), bad_arrays(X))
    out += sweep("candidates", lambda v: _replay(candidates=v), [
        ("empty", [], MUST_RAISE), ("string", "12", MUST_RAISE), ("a zero", [0], MUST_RAISE),
        ("more components than rows", [41], MUST_RAISE), ("None", None, MUST_RAISE),
        ("a float", [1.5], MUST_RAISE),
    ])
    for name in ("features_in", "features_out"):
        out += sweep(name, lambda v, name=name: _replay(**{name: v}), bad_arrays(X))
        out += sweep(name, lambda v, name=name: _replay(**{name: v}),
                     [("2 features", X[:, :2], MUST_RAISE)])
    out += sweep("random_state", lambda v: _replay(random_state=v), bad_random_states())
    return out


CASES = {
    "MLP": _mlp_cases(None),
    "MLP.forward": _mlp_cases("forward"),
    "MLP.penultimate": _mlp_cases("penultimate"),
    "MLP.penultimate_relu": _mlp_cases("penultimate_relu"),
    "MLP.hidden1": _mlp_cases("hidden1"),
    "scale_images": _scale_images_cases,
    "train_mlp": _train_mlp_cases,
    "extract_features": _extract_features_cases,
    "load_ood_features": _load_ood_features_cases,
    "GMMScorer": _gmm_scorer_cases,
    "GMMScorer.fit": _gmm_fit_cases,
    "GMMScorer.score_samples": _fitted_x_cases("score_samples", check=_finite_scores),
    "GMMScorer.score": _fitted_x_cases("score"),
    "GMMScorer.bic": _fitted_x_cases("bic"),
    "MahalanobisScorer": _mahalanobis_scorer_cases,
    "MahalanobisScorer.fit": _mahalanobis_fit_cases,
    "MahalanobisScorer.distances": _mahalanobis_x_cases("distances"),
    "MahalanobisScorer.score_samples": _mahalanobis_x_cases("score_samples"),
    "msp_score": _msp_cases,
    "mahalanobis_score": _mahalanobis_score_cases,
    "default_mixture": _default_mixture_cases,
    "SweepTable": _sweep_table_cases,
    "SweepTable.column": _column_cases,
    "SweepTable.best": _best_cases,
    "SweepTable.to_string": _to_string_cases,
    "sweep_n_components": _sweep_cases,
    "select_n_components": _select_cases,
    "fit_scorers": _fit_scorers_cases,
    "sklearn_start": _sklearn_start_cases,
    "replay_submission": _replay_cases,
}
