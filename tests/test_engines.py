"""Tests for gmmlab.mixture's engines, the reference loop ``em`` and the estimator's
scikit-learn conventions (engine choice, verbose, estimator checks, determinism)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from gmmlab._backend import Backend
from gmmlab.data import load_old_faithful, make_gaussian_mixture
from gmmlab.mixture import (
    COVARIANCE_TYPES,
    ENGINES,
    GaussianMixture,
    em,
    fit_many,
    m_step,
    precision_cholesky,
)
from gmmlab.mixture.engines import DirectEngine, QuadraticFeatureEngine, base
from gmmlab.mixture.engines.base import Params

FAITHFUL = load_old_faithful()


# -- the reference loop ----------------------------------------------------------


@pytest.mark.parametrize("engine", ["reference", "fast", "direct"])
def test_em_is_the_loop_that_gaussian_mixture_runs(engine):
    """em and GaussianMixture started from the same parameters run the same EM."""
    X = make_gaussian_mixture(500, n_components=3, n_features=2, random_state=3).X
    resp = np.random.default_rng(0).dirichlet(np.ones(3), size=len(X))
    w, m, c = m_step(X, resp)
    result = em(X, w, m, c, tol=1e-8, max_iter=200)
    gm = GaussianMixture(3, tol=1e-8, max_iter=200, weights_init=w, means_init=m,
                         precisions_init=np.linalg.inv(c), engine=engine).fit(X)
    assert result.converged and gm.converged_
    assert len(result.log_likelihoods) == gm.n_iter_ > 5
    np.testing.assert_allclose(result.log_likelihoods, gm.log_likelihood_history_, rtol=1e-12)
    for ours, theirs in zip(result[:3], (gm.weights_, gm.means_, gm.covariances_)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert np.all(np.diff(result.log_likelihoods) >= -1e-12)


def test_em_stops_at_max_iter_and_checks_its_arguments():
    start = m_step(FAITHFUL, np.eye(2)[(FAITHFUL[:, 0] > 3).astype(int)])
    result = em(FAITHFUL, *start, tol=0, max_iter=4)
    assert len(result.log_likelihoods) == 4 and not result.converged
    assert em(FAITHFUL, *start, max_iter=0).log_likelihoods == []
    with pytest.raises(ValueError, match="max_iter"):
        em(FAITHFUL, *start, max_iter=-1)
    with pytest.raises(ValueError, match="tol"):
        em(FAITHFUL, *start, tol=-1.0)
    with pytest.raises(ValueError, match="means has 3 features"):
        em(FAITHFUL, start[0], np.zeros((2, 3)), start[2])
    with pytest.raises(ValueError, match="weights must be >= 0 and sum to 1"):
        em(FAITHFUL, [0.7, 0.7], *start[1:])


# -- tight clusters far apart: the expanded quadratic form ------------------------


def _exact(X, resp, covariance_type, reg):
    """Parameters and log-joints computed around each component's own mean."""
    nk = resp.sum(0) + 10 * np.finfo(float).eps
    means = resp.T @ X / nk[:, None]
    scatter = np.stack([(r * (X - mu).T) @ (X - mu) for r, mu in zip(resp.T, means)])
    d = X.shape[1]
    if covariance_type == "full":
        cov = scatter / nk[:, None, None] + reg * np.eye(d)
    elif covariance_type == "tied":
        cov = scatter.sum(0) / nk.sum() + reg * np.eye(d)
    else:
        cov = np.stack([np.diag(s) for s in scatter]) / nk[:, None] + reg
        cov = cov.mean(1) if covariance_type == "spherical" else cov
    U = precision_cholesky(cov, covariance_type)
    columns = []
    for k, mu in enumerate(means):
        D = X - mu
        if covariance_type in ("full", "tied"):
            Uk = U[k] if covariance_type == "full" else U
            maha, log_det = ((D @ Uk) ** 2).sum(1), np.log(np.diag(Uk)).sum()
        elif covariance_type == "diag":
            maha, log_det = (D**2) @ U[k] ** 2, np.log(U[k]).sum()
        else:
            maha, log_det = (D**2).sum(1) * U[k] ** 2, d * np.log(U[k])
        columns.append(np.log(nk[k] / nk.sum()) + log_det - 0.5 * (d * np.log(2 * np.pi) + maha))
    return Params(nk / nk.sum(), means, cov, U), np.stack(columns, axis=1)


def _tight_far_clusters(separation):
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [separation, 0, 0], [0, separation, 0]]) + 7.0
    X = np.concatenate([c + rng.normal(size=(300, 3)) for c in centres])
    return X, np.repeat(np.eye(3), 300, axis=0)


ENGINE_CASES = [(ct, e) for ct in COVARIANCE_TYPES for e in (QuadraticFeatureEngine, DirectEngine)
                if e is QuadraticFeatureEngine or ct == "full"]


@pytest.mark.parametrize("covariance_type, engine", ENGINE_CASES)
@pytest.mark.parametrize("separation", [1e5, 1e6])
def test_tight_clusters_far_apart_keep_their_precision(covariance_type, engine, separation,
                                                      monkeypatch):
    """Three unit clusters 1e5 or 1e6 standard deviations apart: the engines' log-densities
    agree with the form computed around each component's own mean to 1e-9 nats, and so do
    their M-steps' covariances (relative error 1e-10). Without the far-component
    correction (FAR_COMPONENT = inf) the expanded form misses by more than 1e-7."""
    X, resp = _tight_far_clusters(separation)
    params, log_joint = _exact(X, resp, covariance_type, 1e-6)
    mask = resp.astype(bool)

    def errors():
        eng = engine(X, covariance_type, 1e-6, Backend())
        log_err = np.abs(eng.log_joint(params) - log_joint)[mask].max()
        _, stats = eng.e_step(params)
        cov = eng.m_step(stats).covariances
        return log_err, np.abs(cov - params.covariances).max() / np.abs(params.covariances).max()

    log_err, cov_err = errors()
    assert log_err < 1e-9 and cov_err < 1e-10
    monkeypatch.setattr(base, "FAR_COMPONENT", np.inf)
    log_err, cov_err = errors()
    assert max(log_err, cov_err) > 1e-7  # the check can fail: this is what it catches


def test_far_components_are_rare_on_ordinary_data():
    """The correction is for extreme data: none of the usual fits meets it."""
    X = make_gaussian_mixture(2000, n_components=4, n_features=8, random_state=0).X
    for ct in COVARIANCE_TYPES:
        gm = GaussianMixture(6, covariance_type=ct, random_state=0).fit(X)
        centred = gm.means_ - X.mean(0)
        assert base.far_components(centred, gm.precisions_cholesky_, ct).size == 0


# -- the engine parameter ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(engine="turbo"), "engine must be one of"),
        (dict(engine="direct", covariance_type="diag"), "'full' covariances only"),
        (dict(engine="reference", device="cpu"), "numpy float64"),
        (dict(engine="reference", dtype="float32"), "numpy float64"),
        (dict(engine="direct", device="cpu"), "numpy float64"),
        (dict(device=3), "device"),
        (dict(device="banana"), "device"),
    ],
)
def test_bad_engine_settings_raise_clear_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GaussianMixture(2, **kwargs).fit(FAITHFUL)


def test_every_engine_gives_the_same_fit_and_predictions():
    X = make_gaussian_mixture(800, n_components=3, n_features=3, random_state=4).X
    fits = {e: GaussianMixture(3, random_state=0, engine=e).fit(X) for e in ENGINES}
    ref = fits["reference"]
    for name, gm in fits.items():
        assert gm.n_iter_ == ref.n_iter_, name
        np.testing.assert_allclose(gm.log_likelihood_history_, ref.log_likelihood_history_,
                                   rtol=1e-11)
        np.testing.assert_allclose(gm.score_samples(X), ref.score_samples(X), rtol=1e-11)
        np.testing.assert_allclose(gm.predict_proba(X), ref.predict_proba(X), atol=1e-11)
        np.testing.assert_array_equal(gm.predict(X), ref.predict(X))


def test_fit_many_needs_one_engine():
    with pytest.raises(ValueError, match="share engine"):
        fit_many([GaussianMixture(1), GaussianMixture(2, engine="reference")], FAITHFUL)


# -- scikit-learn's conventions ---------------------------------------------------


def test_verbose_prints_scikit_learns_messages(capsys):
    GaussianMixture(2, verbose=2, verbose_interval=1, random_state=0, n_init=2).fit(FAITHFUL)
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Initialization 1" in out
    assert "  Iteration 1\t time lapse" in out and "ll change" in out
    assert out.count("Initialization converged. time lapse") == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GaussianMixture(2, verbose=1, random_state=0, max_iter=2, tol=0).fit(FAITHFUL)
    assert capsys.readouterr().out == "Initialization 0\nInitialization did not converge.\n"
    GaussianMixture(2, random_state=0).fit(FAITHFUL)
    assert capsys.readouterr().out == ""


@parametrize_with_checks(
    [GaussianMixture(), GaussianMixture(engine="reference"), GaussianMixture(engine="fast")],
    expected_failed_checks=lambda est: {},
)
def test_gaussian_mixture_passes_sklearn_estimator_checks(estimator, check):
    check(estimator)


_DETERMINISM = """
import hashlib, numpy as np
from gmmlab.data import make_gaussian_mixture
from gmmlab.mixture import GaussianMixture, fit_many
X = make_gaussian_mixture(3000, n_components=5, n_features=6, random_state=0).X
models = fit_many([GaussianMixture(k, n_init=2, random_state=1) for k in (3, 12)], X)
models.append(GaussianMixture(4, covariance_type="diag", random_state=2).fit(X))
h = hashlib.sha256()
for gm in models:
    for a in (gm.weights_, gm.means_, gm.covariances_, np.array(gm.log_likelihood_history_)):
        h.update(a.tobytes())
print(h.hexdigest())
"""


def test_fits_are_identical_in_two_separate_processes():
    """Same data, same random_state: the same bytes, whatever the threads do."""
    runs = [subprocess.run([sys.executable, "-c", _DETERMINISM], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)]
    assert len(runs[0].strip()) == 64 and runs[0] == runs[1]


def test_em_checks_every_argument_before_its_first_step():
    """max_iter=0 used to return without looking at the arguments."""
    start = m_step(FAITHFUL, np.eye(2)[(FAITHFUL[:, 0] > 3).astype(int)])
    w, m, c = start
    with pytest.raises(TypeError, match=r"\bX\b"):
        em("abc", w, m, c, max_iter=0)
    with pytest.raises(ValueError, match="weights must be >= 0 and sum to 1"):
        em(FAITHFUL, w * 2, m, c, max_iter=0)
    with pytest.raises(ValueError, match=r"covariances must have shape \(2, 2, 2\)"):
        em(FAITHFUL, w, m, c[:1], max_iter=0)
    with pytest.raises(ValueError, match="covariances must be symmetric"):
        em(FAITHFUL, w, m, np.stack([c[0], [[1.0, 5.0], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match="reg_covar"):
        em(FAITHFUL, w, m, c, reg_covar=-1.0, max_iter=0)
    with pytest.raises(ValueError, match=r"^X has entries as large as"):
        em(FAITHFUL * 1e300, w, m, c)  # was "Input resp contains NaN"
    assert em(FAITHFUL, w, m, c, max_iter=0).log_likelihoods == []


def test_a_fit_whose_log_likelihood_overflows_names_its_inputs():
    """means_init far out of scale with X: the E-step's log-densities overflow; the fit
    used to fail later with "covariances must be finite"."""
    X = FAITHFUL
    with pytest.raises(ValueError, match="log-likelihood of X is not finite.*means_init"):
        GaussianMixture(2, means_init=np.array([[1e300, 0.0], [0.0, 1e300]])).fit(X)


@pytest.mark.parametrize("device", [None, "cpu"])
def test_normalize_far_points_columns_sum_to_one(device):
    # Log-joints of -1e20 absorb log K: exp(log_joint - log p(x)) would give columns
    # summing to K (2 here); the backend divides by the sum instead, in numpy and torch.
    bk = Backend(device)
    log_joint = np.array([[-1e20, -3.0], [-1e20, -1.0]])
    log_px, resp = bk.normalize(bk.asarray(log_joint))
    np.testing.assert_allclose(bk.to_numpy(resp).sum(axis=0), 1.0, rtol=1e-15)
    naive = np.exp(log_joint - bk.to_numpy(log_px)[None, :])
    assert naive[:, 0].sum() == 2.0  # what the guard prevents
    np.testing.assert_allclose(bk.to_numpy(log_px)[1], np.logaddexp(-3.0, -1.0), rtol=1e-15)
