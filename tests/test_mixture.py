"""Tests for gmmlab.mixture: EM for Gaussian mixtures, against scikit-learn and theory."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gmmlab.data import load_old_faithful, make_gaussian_mixture
from gmmlab.mixture import (
    COVARIANCE_TYPES,
    GaussianMixture,
    e_step,
    log_gaussian_prob,
    m_step,
    precision_cholesky,
)

RTOL = 1e-6


def _datasets():
    faithful = load_old_faithful()
    blobs = make_gaussian_mixture(600, n_components=3, n_features=4, random_state=1).X
    # far from the origin and badly scaled: checks the numerics of the fast engine
    shifted = make_gaussian_mixture(400, n_components=2, n_features=3, random_state=2).X
    shifted = shifted * np.array([1.0, 10.0, 0.1]) + np.array([50.0, -200.0, 3.0])
    return {"old_faithful": faithful, "blobs4d": blobs, "shifted3d": shifted}


DATASETS = _datasets()


def _initial_parameters(X, K, covariance_type, seed=0):
    """Identical starting point for both libraries: an M-step on random responsibilities."""
    rng = np.random.default_rng(seed)
    resp = rng.dirichlet(np.ones(K), size=len(X))
    weights, means, covariances = m_step(X, resp, covariance_type, 1e-6)
    precisions = (
        np.linalg.inv(covariances) if covariance_type in ("full", "tied") else 1.0 / covariances
    )
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def _rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_equal_to_sklearn_from_identical_initial_parameters(name, covariance_type):
    X = DATASETS[name]
    K = 3
    init = _initial_parameters(X, K, covariance_type)
    kw = dict(n_components=K, covariance_type=covariance_type, tol=1e-6, max_iter=60, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**kw).fit(X)
        ref = SkGaussianMixture(**kw).fit(X)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
        assert _rel(getattr(ours, attr), getattr(ref, attr)) < RTOL, attr
    assert abs(ours.lower_bound_ - ref.lower_bound_) < RTOL * abs(ref.lower_bound_)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=RTOL)
    np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=RTOL)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.bic(X) == pytest.approx(ref.bic(X), rel=RTOL)
    assert ours.aic(X) == pytest.approx(ref.aic(X), rel=RTOL)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_fit_runs_for_every_init_and_predict_agrees_with_fit_predict(init_params):
    X = DATASETS["old_faithful"]
    gm = GaussianMixture(2, init_params=init_params, random_state=0, max_iter=3, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = gm.fit_predict(X)
    np.testing.assert_array_equal(labels, gm.predict(X))
    assert gm.n_iter_ == 3 and len(gm.log_likelihood_history_) == 3
