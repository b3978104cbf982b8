"""Tests of gmmlab.ood.scorers: MSP, Mahalanobis and GMM scores, as scikit-learn estimators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from gmmlab import ood
from gmmlab.data import make_gaussian_mixture

# --- scikit-learn's estimator checks ------------------------------------------------

#: Checks that cannot apply, by name, with the reason (strict: one that starts passing fails).
EXPECTED_FAILED_CHECKS = {
    "check_array_api_input": "the scorers compute in numpy (gmmlab's mixture in torch through "
    "device=), not through the array API (scikit-learn skips it unless SCIPY_ARRAY_API=1)",
}


@parametrize_with_checks(
    [ood.GMMScorer(2), ood.MahalanobisScorer()],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gmm_scorer_params_clone_and_set_params():
    scorer = ood.GMMScorer(3, covariance_type="diag", reg_covar=1e-3, tol=1e-4,
                           estimator=SkGaussianMixture, mixture_params={"weights_init": None})
    params = scorer.get_params()
    assert params["n_components"] == 3 and params["covariance_type"] == "diag"
    assert params["estimator"] is SkGaussianMixture and params["tol"] == 1e-4
    twin = clone(scorer)
    assert twin is not scorer and twin.get_params() == params
    assert twin.mixture_params == {"weights_init": None}
    assert twin.mixture_params is not scorer.mixture_params  # clone copies
    twin.set_params(n_components=5, max_iter=7)
    assert twin.n_components == 5 and twin.max_iter == 7 and scorer.n_components == 3
    # Parameters are stored as given (bad values too) and checked by fit.
    odd = ood.GMMScorer(n_components=-1, covariance_type="round")
    assert odd.n_components == -1 and odd.covariance_type == "round"
    X = make_gaussian_mixture(200, n_components=2, random_state=0).X
    fitted = twin.fit(X)
    assert fitted.mixture_.n_components == 5 and fitted.mixture_.max_iter == 7
    assert fitted.mixture_.tol == 1e-4 and fitted.n_features_in_ == 2
    with pytest.raises(ValueError, match="not fitted"):
        clone(fitted).score_samples(X)


def test_grid_search_tunes_the_gmm_scorer():
    """GridSearchCV picks K by the held-out mean log-likelihood (GMMScorer.score)."""
    X = make_gaussian_mixture(900, n_components=3, n_features=2, separation=8,
                              random_state=1).X
    folds = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(ood.GMMScorer(random_state=0), {"n_components": [1, 2, 3]},
                          cv=folds).fit(X)
    assert search.best_params_ == {"n_components": 3}
    by_hand = [ood.GMMScorer(3, random_state=0).fit(X[train]).score(X[test])
               for train, test in folds.split(X)]
    np.testing.assert_allclose(search.best_score_, np.mean(by_hand), rtol=1e-12)
    means = search.cv_results_["mean_test_score"]
    assert means[0] < means[1] < means[2]


# --- known answers ----------------------------------------------------------------


def test_msp_known_answers():
    np.testing.assert_allclose(ood.msp_score([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]), [1 / 3, 1 / 3])
    np.testing.assert_allclose(ood.msp_score([[np.log(3.0), 0.0]]), [0.75])
    z = np.random.default_rng(0).normal(scale=20, size=(50, 10))
    softmax = torch.softmax(torch.from_numpy(z), 1).max(1).values.numpy()
    np.testing.assert_allclose(ood.msp_score(z), softmax)
    assert np.isfinite(ood.msp_score([[1e4, -1e4]])).all()


def test_mahalanobis_known_answer():
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    means = np.array([[0.0, 0.0], [6.0, 3.0], [-5.0, 4.0]])
    y = np.repeat([0, 1, 2], 4000)
    X = means[y] + rng.multivariate_normal(np.zeros(2), cov, size=y.size)
    scorer = ood.MahalanobisScorer().fit(X, y)
    np.testing.assert_allclose(scorer.means_, means, atol=0.06)
    np.testing.assert_allclose(scorer.covariance_, cov, atol=0.06)
    # Exact: the pooled within-class covariance (MLE) and minus the smallest distance.
    centred = X - np.stack([X[y == k].mean(0) for k in range(3)])[y]
    pooled = centred.T @ centred / X.shape[0]
    np.testing.assert_allclose(scorer.covariance_, pooled, rtol=1e-10)
    q = np.array([[0.0, 0.0], [6.0, 3.0], [1.0, -1.0], [30.0, -30.0]])
    inv = np.linalg.inv(pooled)
    expected = -np.min([np.einsum("ij,jk,ik->i", q - m, inv, q - m) for m in scorer.means_], 0)
    np.testing.assert_allclose(ood.mahalanobis_score(q, X, y), expected, rtol=1e-8)
    s = ood.mahalanobis_score(q, X, y)
    assert s[0] > s[2] > s[3] and s[3] < -100
    # Labels may be strings or a torch tensor.
    names = np.array(["zero", "one", "two"])[y]
    np.testing.assert_allclose(ood.MahalanobisScorer().fit(X, names).score_samples(q), s)
    np.testing.assert_allclose(ood.mahalanobis_score(q, X, torch.from_numpy(y)), s)


def test_gmm_scorer_one_component_is_the_gaussian_mle():
    rng = np.random.default_rng(1)
    cov = [[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 400.0]]
    X = rng.multivariate_normal([1.0, -2.0, 50.0], cov, size=3000)
    mu, cov = X.mean(0), np.cov(X.T, bias=True)
    q = rng.normal(size=(20, 3)) * [2, 2, 30] + mu
    expected = multivariate_normal(mu, cov).logpdf(q)
    for standardize in (True, False):
        scorer = ood.GMMScorer(1, standardize=standardize, reg_covar=0.0,
                               estimator=SkGaussianMixture).fit(X)
        np.testing.assert_allclose(scorer.score_samples(q), expected, rtol=1e-6)
        n_params = 3 + 6
        bic = -2 * multivariate_normal(mu, cov).logpdf(X).sum() + n_params * np.log(X.shape[0])
        np.testing.assert_allclose(scorer.bic(X), bic, rtol=1e-8)


def test_gmm_scorer_with_gmmlab_mixture_matches_sklearn():
    X = make_gaussian_mixture(2000, n_components=3, n_features=4, separation=8,
                              random_state=0).X
    q = X[:200] + 0.5
    ours = ood.GMMScorer(3, random_state=0).fit(X)
    ref = ood.GMMScorer(3, random_state=0, estimator=SkGaussianMixture).fit(X)
    assert type(ours.mixture_).__module__.startswith("gmmlab.mixture")
    np.testing.assert_allclose(ours.score_samples(q), ref.score_samples(q), rtol=1e-3, atol=1e-3)


def test_gmm_scorer_on_a_torch_device():
    """device= runs gmmlab's mixture in torch: the same fit as numpy's, up to rounding."""
    X = make_gaussian_mixture(120, n_components=2, n_features=2, separation=6,
                              random_state=2).X
    numpy_fit = ood.GMMScorer(2, random_state=0).fit(X)
    torch_fit = ood.GMMScorer(2, random_state=0, device=torch.device("cpu")).fit(X)
    assert torch_fit.mixture_.device == torch.device("cpu") and numpy_fit.mixture_.device is None
    assert torch_fit.mixture_.n_iter_ == numpy_fit.mixture_.n_iter_
    np.testing.assert_allclose(torch_fit.score_samples(X), numpy_fit.score_samples(X),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mixture_params_reach_the_mixture():
    X = make_gaussian_mixture(100, n_components=2, n_features=2, separation=8,
                              random_state=0).X
    start = np.array([[-50.0, 0.0], [50.0, 0.0]])
    scorer = ood.GMMScorer(2, estimator=SkGaussianMixture, standardize=False, max_iter=1,
                           mixture_params={"means_init": start}).fit(X)
    np.testing.assert_array_equal(scorer.mixture_.means_init, start)
    default = ood.GMMScorer(2, estimator=SkGaussianMixture, standardize=False, max_iter=1).fit(X)
    assert default.mixture_.means_init is None
    assert not np.allclose(scorer.mixture_.means_, default.mixture_.means_)


def test_dead_units_do_not_break_the_scorers():
    rng = np.random.default_rng(2)
    X = np.maximum(rng.normal(size=(1000, 5)), 0.0)
    X[:, 2] = 0.0  # a dead ReLU unit
    y = rng.integers(0, 3, size=1000)
    assert np.isfinite(ood.GMMScorer(2, estimator=SkGaussianMixture).fit(X).score_samples(X)).all()
    assert np.isfinite(ood.mahalanobis_score(X, X, y)).all()


# --- bad input ------------------------------------------------------------------


def test_bad_scores_input():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50)
    with pytest.raises(ValueError, match="logits"):
        ood.msp_score([[0.0, np.nan]])
    with pytest.raises(ValueError, match="logits"):
        ood.msp_score(np.zeros((0, 10)))
    with pytest.raises(ValueError, match="2 columns"):
        ood.msp_score(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="train_labels must be"):
        ood.mahalanobis_score(X, X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        ood.MahalanobisScorer().fit(X, None)
    with pytest.raises(ValueError, match="NaN labels"):
        ood.mahalanobis_score(X, X, np.where(y == 0, np.nan, 1.0))
    with pytest.raises(ValueError, match="X has 2 features, but MahalanobisScorer is expecting 3"):
        ood.MahalanobisScorer().fit(X, y).score_samples(X[:, :2])
    # mahalanobis_score names its own arguments (not the X and y of the scorer it fits).
    with pytest.raises(ValueError,
                       match="features has 2 features, but MahalanobisScorer is expecting 3 features"):
        ood.mahalanobis_score(X[:, :2], X, y)
    with pytest.raises(ValueError, match=r"\bfeatures\b"):
        ood.mahalanobis_score(np.full((2, 3), np.nan), X, y)
    with pytest.raises(ValueError, match=r"\btrain_features\b"):
        ood.mahalanobis_score(X, np.full((2, 3), np.nan), y)
    with pytest.raises(ValueError, match="train_labels contains NaN labels"):
        ood.mahalanobis_score(X, X, np.where(y == 0, np.nan, 1.0))
    scorer = ood.GMMScorer(2, estimator=SkGaussianMixture)
    with pytest.raises(ValueError, match="not fitted"):
        scorer.score_samples(X)
    with pytest.raises(ValueError, match="not fitted"):
        scorer.bic(X)
    with pytest.raises(ValueError, match="X"):
        scorer.fit(np.vstack([X, [[np.nan, 0.0, 0.0]]]))
    scorer.fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but GMMScorer is expecting 3"):
        scorer.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="X has 2 features"):
        scorer.bic(X[:, :2])


#: Bad parameters of GMMScorer, the error and the words it must hold.
BAD_SCORER_PARAMETERS = [
    ({"n_components": 0}, ValueError, "n_components"),
    ({"n_components": 2.0}, TypeError, "n_components"),
    ({"covariance_type": "round"}, ValueError, "covariance_type must be one of"),
    ({"reg_covar": -1.0}, ValueError, "reg_covar"),
    ({"standardize": "yes"}, TypeError, "standardize"),
    ({"estimator": SkGaussianMixture()}, TypeError, "not an instance"),
    ({"tol": -1.0}, ValueError, "tol"),
    ({"max_iter": -1}, ValueError, "max_iter"),
    ({"n_init": 0}, ValueError, "n_init"),
    ({"init_params": "spectral"}, ValueError, "init_params must be one of"),
    ({"random_state": "seed"}, TypeError, "random_state"),
    ({"random_state": -3}, ValueError, "random_state"),
    ({"device": "no-such-device"}, ValueError, "device"),
    ({"device": 3}, TypeError, "device"),
    ({"device": "cpu", "estimator": SkGaussianMixture}, ValueError, "takes no device"),
    ({"mixture_params": [("dtype", "float32")]}, TypeError, "mixture_params"),
    ({"mixture_params": {"tol": 1e-4}}, ValueError, "parameters of GMMScorer itself"),
    ({"mixture_params": {"momentum": 0.9}}, ValueError, "takes no parameter"),
]


def test_bad_gmm_scorer_parameters_are_refused_by_fit(monkeypatch):
    X = np.random.default_rng(0).normal(size=(60, 3))
    # Checked before any fitting.
    for cls in (SkGaussianMixture, ood.default_mixture()):
        monkeypatch.setattr(cls, "fit", lambda *a, **k: pytest.fail("fitted"))
    for params, error, match in BAD_SCORER_PARAMETERS:
        scorer = ood.GMMScorer(**{"n_components": 2, "random_state": 0, **params})  # stored
        with pytest.raises(error, match=match):
            scorer.fit(X)
    with pytest.raises(pytest.fail.Exception, match="fitted"):  # good parameters do fit
        ood.GMMScorer(2).fit(X)


# --- issue 18: bad input never passes silently ------------------------------------


def test_standardize_no_is_refused_not_taken_as_true():
    """``standardize="no"`` is truthy: taken as it was, it would standardise."""
    X = np.random.default_rng(0).normal(size=(60, 3)) * [1.0, 10.0, 100.0]
    with pytest.raises(TypeError, match=r"standardize must be True or False, got 'no'"):
        ood.GMMScorer(2, standardize="no").fit(X)
    with pytest.raises(TypeError, match="standardize"):
        ood.fit_scorers([ood.GMMScorer(2, standardize="no")], X)
    with pytest.raises(TypeError, match="standardize"):
        ood.sweep_n_components(X, [1, 2], standardize="no")
    # What "no" would have meant had it been used as a truth value: another model.
    standardised = ood.GMMScorer(2, standardize=bool("no")).fit(X)
    plain = ood.GMMScorer(2, standardize=False).fit(X)
    assert not np.array_equal(standardised.scale_, plain.scale_)


def test_more_components_than_samples_blames_n_components():
    X = np.random.default_rng(0).normal(size=(3, 2))
    with pytest.raises(ValueError,
                       match=r"n_components=4 must be at most the number of samples of X \(3\)"):
        ood.GMMScorer(4).fit(X)
    for estimator in (None, SkGaussianMixture):
        ood.GMMScorer(3, estimator=estimator, reg_covar=1e-3).fit(X)  # as many as points: fine
    with pytest.raises(ValueError, match="n_components=41"):
        ood.fit_scorers([ood.GMMScorer(41)], np.random.default_rng(1).normal(size=(40, 2)))


def test_estimator_must_be_a_mixture_class():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(TypeError, match=r"estimator must be a mixture class .* dict has no"):
        ood.GMMScorer(2, estimator=dict).fit(X)
    with pytest.raises(TypeError, match=r"estimator must be a mixture class .* Linear has no"):
        ood.GMMScorer(2, estimator=torch.nn.Linear).fit(X)

    class NoInit:  # fit/score_samples/bic, but takes none of the mixture's parameters
        def __init__(self, n_components):
            pass

        def fit(self, X):
            return self

        score_samples = bic = fit
    with pytest.raises(TypeError, match=r"estimator NoInit takes no parameter \['covariance_type'"):
        ood.GMMScorer(2, estimator=NoInit).fit(X)


@pytest.mark.parametrize("value, error", [
    ("x", TypeError), (-1, ValueError), (2**40, ValueError), (1.5, TypeError),
    (np.random.default_rng(0), TypeError), ([1], TypeError),
])
def test_bad_random_states_are_named(value, error):
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(error, match=r"\brandom_state\b"):
        ood.GMMScorer(2, random_state=value).fit(X)
    with pytest.raises(error, match=r"\brandom_state\b"):
        ood.sweep_n_components(X, [1, 2], random_state=value)
    with pytest.raises(error, match=r"\brandom_state\b"):
        ood.sklearn_start(X, 2, random_state=value)


@pytest.mark.parametrize("value, error", [
    ("bogus", ValueError), (123, TypeError), ("meta", ValueError), (["cpu"], TypeError),
] + ([] if torch.cuda.is_available() else [("cuda", ValueError)]))
def test_bad_devices_are_named(value, error):
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(error, match=r"\bdevice\b"):
        ood.GMMScorer(2, device=value).fit(X)
    with pytest.raises(error, match=r"\bdevice\b"):
        ood.sweep_n_components(X, [1, 2], device=value)


def test_data_out_of_float64_range_is_refused_naming_it():
    X = make_gaussian_mixture(60, n_components=2, n_features=3, random_state=0).X
    y = np.repeat([0, 1], 30)
    for standardize in (True, False):
        with pytest.raises(ValueError, match=r"^X has entries as large as"):
            ood.GMMScorer(2, standardize=standardize).fit(X * 1e300)
    with pytest.raises(ValueError, match=r"^X has entries as large as"):
        ood.MahalanobisScorer().fit(X * 1e300, y)
    with pytest.raises(ValueError, match=r"^train_features has entries as large as"):
        ood.mahalanobis_score(X, X * 1e300, y)
    # A fitted scorer: a point too far away for float64 gets an error naming X, never
    # -inf or NaN (scikit-learn's mixture, for one, gives -inf there).
    far = np.full((1, 3), 1e200)
    for estimator in (None, SkGaussianMixture):
        scorer = ood.GMMScorer(2, random_state=0, estimator=estimator).fit(X)
        for method in ("score_samples", "score", "bic"):
            with pytest.raises(ValueError, match=r"^X"):
                getattr(scorer, method)(far)
    with np.errstate(all="ignore"):
        old = scorer.mixture_.score_samples(scorer._transform(far))
    assert not np.isfinite(old).all()
    # The guard on the result, for far points that pass the scale check of the input
    # (narrow components: large precisions).
    scorer = ood.GMMScorer(2, estimator=SkGaussianMixture, standardize=False).fit(X * 1e-3)
    farish = np.full((1, 3), 1e153)
    with np.errstate(all="ignore"):
        assert not np.isfinite(scorer.mixture_.score_samples(scorer._transform(farish))).all()
    with pytest.raises(ValueError, match=r"^X: the log-density is not finite"), \
            np.errstate(all="ignore"):
        scorer.score_samples(farish)
    maha = ood.MahalanobisScorer().fit(X, y)
    for method in ("distances", "score_samples"):
        with pytest.raises(ValueError, match=r"^X"):
            getattr(maha, method)(far)
    with pytest.raises(ValueError, match=r"^features"):
        ood.mahalanobis_score(far, X, y)
    # Far but representable points keep finite scores, as before.
    assert np.isfinite(scorer.score_samples(np.full((1, 3), 1e100))).all()
    assert np.isfinite(maha.score_samples(np.full((1, 3), 1e100))).all()


def test_class_labels_that_are_no_classes_are_refused():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.repeat([0, 1], 20)
    bad = [
        (np.where(y == 0, np.inf, 1.0), ValueError, "y contains infinite labels"),
        (y + 1j, TypeError, "y must hold class labels"),
        (np.array([0, None] * 20, dtype=object), ValueError, "y contains the label None"),
        (np.array([0, "a"] * 20, dtype=object), TypeError,
         r"y mixes labels of types \['int', 'str'\]"),
    ]
    for labels, error, match in bad:
        with pytest.raises(error, match=match):
            ood.MahalanobisScorer().fit(X, labels)
        with pytest.raises(error, match=match.replace("y ", "train_labels ", 1)):
            ood.mahalanobis_score(X, X, labels)
    # What an infinite label used to give: a class of its own, silently.
    assert np.unique(np.where(y == 0, np.inf, 1.0)).size == 2
    # Strings and booleans are class labels.
    names = np.array(["a", "b"])[y]
    np.testing.assert_array_equal(ood.MahalanobisScorer().fit(X, names).classes_, ["a", "b"])
    assert ood.MahalanobisScorer().fit(X, y == 1).classes_.tolist() == [False, True]
