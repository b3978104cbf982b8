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
    fit_many,
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


#: Every engine for every covariance type it fits ("direct" fits "full" only).
ENGINE_CASES = [(ct, engine) for ct in COVARIANCE_TYPES for engine in ("reference", "fast", "direct")
                if engine != "direct" or ct == "full"]


def _rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))


@pytest.mark.parametrize("covariance_type, engine", ENGINE_CASES)
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_equal_to_sklearn_from_identical_initial_parameters(name, covariance_type, engine):
    X = DATASETS[name]
    K = 3
    init = _initial_parameters(X, K, covariance_type)
    kw = dict(n_components=K, covariance_type=covariance_type, tol=1e-6, max_iter=60, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**kw, engine=engine).fit(X)
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


def _fit_quiet(gm, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gm.fit(X)


@pytest.mark.parametrize("covariance_type, engine", ENGINE_CASES)
def test_mean_log_likelihood_never_decreases(covariance_type, engine):
    X = DATASETS["blobs4d"]
    gm = _fit_quiet(GaussianMixture(4, covariance_type=covariance_type, init_params="random",
                                    tol=0, max_iter=40, random_state=0, engine=engine), X)
    h = np.asarray(gm.log_likelihood_history_)
    assert len(h) == 40 and gm.n_iter_ == 40 and not gm.converged_
    assert np.all(np.diff(h) >= -1e-10 * np.abs(h[1:]))
    assert gm.lower_bound_ == h[-1]
    # one more E-step on the final parameters: the likelihood is still not lower
    assert gm.score(X) >= h[-1] - 1e-10


@pytest.mark.parametrize("covariance_type, engine", ENGINE_CASES)
def test_engine_iterations_equal_the_step_functions(covariance_type, engine):
    """Every engine runs exactly the EM of e_step/m_step/precision_cholesky."""
    X = DATASETS["shifted3d"]
    init = _initial_parameters(X, 3, covariance_type, seed=5)
    gm = GaussianMixture(3, covariance_type=covariance_type, tol=0, max_iter=7, engine=engine,
                         **init)
    _fit_quiet(gm, X)
    w, m = init["weights_init"], init["means_init"]
    P = init["precisions_init"]
    U = (np.linalg.cholesky(P[..., ::-1, ::-1])[..., ::-1, ::-1]
         if covariance_type in ("full", "tied") else np.sqrt(P))
    history = []
    for _ in range(7):
        log_resp, ll = e_step(X, w, m, U, covariance_type)
        w, m, c = m_step(X, np.exp(log_resp), covariance_type, 1e-6)
        U = precision_cholesky(c, covariance_type)
        history.append(ll)
    np.testing.assert_allclose(gm.log_likelihood_history_, history, rtol=1e-10)
    for ours, ref in [(gm.weights_, w), (gm.means_, m), (gm.covariances_, c),
                      (gm.precisions_cholesky_, U)]:
        assert _rel(ours, ref) < 1e-8
    # predict_proba agrees with fit_predict (the fit's engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = gm.fit_predict(X)
    np.testing.assert_array_equal(gm.predict_proba(X).argmax(1), labels)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_torch_path_on_cpu_equals_numpy_path(covariance_type):
    X = DATASETS["old_faithful"]
    kw = dict(n_components=3, covariance_type=covariance_type, init_params="random",
              random_state=0, tol=0, max_iter=15)
    a = _fit_quiet(GaussianMixture(**kw), X)
    b = _fit_quiet(GaussianMixture(**kw, device="cpu", dtype=torch.float64), X)
    for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert isinstance(getattr(b, attr), np.ndarray)
        assert _rel(getattr(b, attr), getattr(a, attr)) < 1e-9, attr
    np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=1e-12)
    c = _fit_quiet(GaussianMixture(**kw, device="cpu", dtype="float32"), X)
    assert c.means_.dtype == np.float64  # fitted attributes are always float64 numpy arrays
    assert not np.array_equal(c.means_, a.means_)  # ... but computed in float32
    np.testing.assert_allclose(c.means_, a.means_, rtol=1e-3)
    d = _fit_quiet(GaussianMixture(**kw, dtype="float32"), X)  # numpy in float32
    assert not np.array_equal(d.means_, a.means_)
    np.testing.assert_allclose(d.means_, a.means_, rtol=1e-3)


def _q_function_torch(X, resp, alpha, means, factors, covariance_type):
    """Q(theta) = sum_nk r_nk [log softmax(alpha)_k + log N(x_n | mu_k, Sigma_k)] in torch."""
    n, d = X.shape
    K = resp.shape[1]
    if covariance_type == "full":
        L = torch.tril(factors)
    elif covariance_type == "tied":
        L = torch.tril(factors).expand(K, d, d)
    elif covariance_type == "diag":
        L = torch.diag_embed(factors)
    else:
        L = factors[:, None, None] * torch.eye(d, dtype=X.dtype)
    dist = torch.distributions.MultivariateNormal(means, scale_tril=L)
    log_prob = dist.log_prob(X[:, None, :])  # (n, K)
    return (resp * (torch.log_softmax(alpha, 0) + log_prob)).sum()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_m_step_is_a_stationary_point_of_q(covariance_type):
    X = DATASETS["blobs4d"][:200]
    rng = np.random.default_rng(0)
    resp = rng.dirichlet(np.ones(3), size=len(X))
    w, m, c = m_step(X, resp, covariance_type, reg_covar=0.0)
    # parameterise: softmax weights, means, Cholesky factors / standard deviations
    if covariance_type in ("full", "tied"):
        factors0 = np.linalg.cholesky(c)
    else:
        factors0 = np.sqrt(c)
    alpha = torch.tensor(np.log(w), requires_grad=True)
    means = torch.tensor(m, requires_grad=True)
    factors = torch.tensor(factors0, requires_grad=True)
    Xt, Rt = torch.tensor(X), torch.tensor(resp)
    Q = _q_function_torch(Xt, Rt, alpha, means, factors, covariance_type)
    Q.backward()
    scale = len(X)
    for g in (alpha.grad, means.grad, torch.tril(factors.grad) if factors.ndim > 1 and
              covariance_type in ("full", "tied") else factors.grad):
        assert g.abs().max().item() < 1e-8 * scale
    # and the gradient is clearly non-zero elsewhere (the check can fail)
    means2 = torch.tensor(m + 0.1, requires_grad=True)
    _q_function_torch(Xt, Rt, alpha.detach(), means2, factors.detach(), covariance_type).backward()
    assert means2.grad.abs().max().item() > 1.0


def test_recovers_known_parameters_of_a_synthetic_mixture():
    true_means = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 7.0]])
    true_cov = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 1.2]], [[1.5, 0.0], [0.0, 0.4]]])
    s = make_gaussian_mixture(6000, weights=[0.5, 0.3, 0.2], means=true_means,
                              covariances=true_cov, random_state=0)
    gm = GaussianMixture(3, random_state=0).fit(s.X)
    order = np.argsort(gm.means_[:, 0] + 10 * gm.means_[:, 1])  # (0,0), (6,0), (0,7)
    # within ~4 standard errors of the truth (6000 points) ...
    np.testing.assert_allclose(gm.weights_[order], s.weights, atol=0.03)
    np.testing.assert_allclose(gm.means_[order], true_means, atol=0.15)
    np.testing.assert_allclose(gm.covariances_[order], true_cov, atol=0.15)
    # ... and close to the estimates that know the labels (well-separated clusters)
    label_means = np.array([s.X[s.labels == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(gm.means_[order], label_means, atol=0.02)
    assert gm.converged_


def test_n_init_keeps_the_best_run_like_sklearn():
    X = DATASETS["old_faithful"]
    kw = dict(n_components=3, init_params="random_from_data", n_init=4, random_state=7,
              max_iter=15)
    ours = _fit_quiet(GaussianMixture(**kw), X)
    ref = _fit_quiet(SkGaussianMixture(**kw), X)
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)
    assert ours.n_iter_ == ref.n_iter_
    assert _rel(ours.means_, ref.means_) < RTOL
    # the kept run is the best of the runs the same random stream would give one by one
    rng = np.random.RandomState(7)
    bounds = []
    for _ in range(4):
        idx = rng.choice(len(X), size=3, replace=False)
        resp = np.zeros((len(X), 3))
        resp[idx, np.arange(3)] = 1
        w, m, c = m_step(X, resp, "full", 1e-6)
        one = _fit_quiet(GaussianMixture(3, max_iter=15, weights_init=w, means_init=m,
                                         precisions_init=np.linalg.inv(c)), X)
        bounds.append(one.lower_bound_)
    assert ours.lower_bound_ == pytest.approx(max(bounds), rel=1e-9)
    assert len(set(np.round(bounds, 6))) > 1  # the runs differ: the choice matters


def test_warm_start_continues_like_sklearn():
    X = DATASETS["old_faithful"]
    kw = dict(n_components=2, init_params="random", random_state=1, warm_start=True, max_iter=2, tol=0)
    ours, ref = GaussianMixture(**kw), SkGaussianMixture(**kw)
    for _ in range(3):
        _fit_quiet(ours, X)
        _fit_quiet(ref, X)
    assert _rel(ours.covariances_, ref.covariances_) < RTOL
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)


def test_max_iter_zero_returns_the_initial_parameters():
    X = DATASETS["old_faithful"]
    init = _initial_parameters(X, 2, "full")
    gm = _fit_quiet(GaussianMixture(2, max_iter=0, **init), X)
    assert gm.n_iter_ == 0 and gm.log_likelihood_history_ == []
    np.testing.assert_allclose(gm.means_, init["means_init"])
    np.testing.assert_allclose(gm.precisions_, init["precisions_init"], rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_n_parameters_bic_and_aic_equal_sklearn(covariance_type):
    X = DATASETS["blobs4d"]
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    with pytest.raises(Exception, match="not fitted"):
        ours.n_parameters()
    ours.fit(X)
    ref = SkGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    assert ours.n_parameters() == ref._n_parameters()
    assert ours.n_parameters() == {"full": 44, "tied": 24, "diag": 26, "spherical": 17}[covariance_type]
    assert ours.bic(X) == pytest.approx(ref.bic(X), rel=1e-6)
    assert ours.aic(X) == pytest.approx(ref.aic(X), rel=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_matches_sklearn(covariance_type):
    X = DATASETS["old_faithful"]
    init = _initial_parameters(X, 2, covariance_type)
    kw = dict(n_components=2, covariance_type=covariance_type, random_state=3, **init)
    ours, ref = _fit_quiet(GaussianMixture(**kw), X), _fit_quiet(SkGaussianMixture(**kw), X)
    (Xa, ya), (Xb, yb) = ours.sample(50), ref.sample(50)
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_allclose(Xa, Xb, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="n_samples"):
        ours.sample(0)


# -- degenerate data --------------------------------------------------------------


def test_duplicated_points_fit_thanks_to_reg_covar():
    X = np.repeat(DATASETS["old_faithful"][:20], 10, axis=0)
    gm = _fit_quiet(GaussianMixture(3, random_state=0), X)
    assert np.all(np.isfinite(gm.covariances_)) and np.isfinite(gm.lower_bound_)


def test_more_components_than_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0]]), 20, axis=0)
    gm = _fit_quiet(GaussianMixture(5, init_params="random_from_data", random_state=0), X)
    assert np.all(np.linalg.eigvalsh(gm.covariances_) >= 1e-6 * (1 - 1e-9))
    with pytest.raises(ValueError, match="(?i)increase reg_covar"):
        _fit_quiet(GaussianMixture(5, init_params="random_from_data", reg_covar=0.0,
                                   random_state=0), X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_constant_feature(covariance_type):
    X = np.column_stack([DATASETS["old_faithful"], np.full(272, 3.0)])
    gm = _fit_quiet(GaussianMixture(2, covariance_type=covariance_type, random_state=0), X)
    assert np.isfinite(gm.score(X))
    if covariance_type == "spherical":  # one variance for all features: still > 0
        gm0 = _fit_quiet(GaussianMixture(2, covariance_type="spherical", reg_covar=0.0,
                                         random_state=0), X)
        assert np.all(gm0.covariances_ > 0)
        return
    with pytest.raises(ValueError, match="(?i)increase reg_covar"):
        _fit_quiet(GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.0,
                                   random_state=0), X)


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_components=0), ValueError, "n_components"),
        (dict(n_components=2.5), TypeError, "n_components"),
        (dict(reg_covar=-1e-3), ValueError, "reg_covar"),
        (dict(tol=-1.0), ValueError, "tol"),
        (dict(max_iter=-1), ValueError, "max_iter"),
        (dict(n_init=0), ValueError, "n_init"),
        (dict(covariance_type="banana"), ValueError, "covariance_type"),
        (dict(init_params="kmeans--"), ValueError, "init_params"),
        (dict(dtype="int8"), ValueError, "dtype"),
        (dict(weights_init=[0.5, 0.5, 0.0]), ValueError, "weights_init"),
        (dict(weights_init=[0.7, 0.7]), ValueError, "weights_init"),
        (dict(means_init=np.zeros((3, 2))), ValueError, "means_init"),
        (dict(precisions_init=np.ones((2, 2))), ValueError, "precisions_init"),
        (dict(precisions_init=np.stack([np.eye(2), -np.eye(2)])), ValueError, "precisions_init"),
        (dict(covariance_type="diag", precisions_init=np.ones((2, 3))), ValueError, "precisions_init"),
        (dict(covariance_type="spherical", precisions_init=[1.0, -1.0]), ValueError, "precisions_init"),
        (dict(n_components=300), ValueError, "n_components"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, error, match):
    X = DATASETS["old_faithful"]
    kwargs = {"n_components": 2, **kwargs}
    with pytest.raises(error, match=match):
        GaussianMixture(**kwargs).fit(X)


def test_bad_data_raise_clear_errors():
    X = DATASETS["old_faithful"].copy()
    gm = GaussianMixture(2)
    with pytest.raises(Exception, match="not fitted"):
        gm.predict(X)
    with pytest.raises(Exception, match="not fitted"):
        gm.score_samples(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X.*NaN|NaN.*X"):
        gm.fit(bad)
    with pytest.raises(ValueError, match="2D|2-D|dimension"):
        gm.fit(X[:, 0])
    with pytest.raises(ValueError, match="sample"):
        gm.fit(X[:1])
    with pytest.raises(TypeError, match="X"):
        gm.fit("not data")
    gm.fit(X)
    with pytest.raises(ValueError, match="features"):
        gm.predict(X[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        gm.score_samples(bad)


def _step_arguments():
    X = DATASETS["old_faithful"]
    resp = np.random.default_rng(0).dirichlet(np.ones(2), size=len(X))
    w, m, c = m_step(X, resp, "full", 1e-6)
    return X, resp, w, m, precision_cholesky(c, "full")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda X, r, w, m, U: e_step(X[:, :1], w, m, U), ValueError, "means has 2 features but X has 1"),
        (lambda X, r, w, m, U: e_step(X, w[:1], m, U), ValueError, "weights must have shape"),
        (lambda X, r, w, m, U: e_step(X, w * 2, m, U), ValueError, "weights must be >= 0 and sum to 1"),
        (lambda X, r, w, m, U: e_step(X, [1.5, -0.5], m, U), ValueError, "weights must be >= 0"),
        (lambda X, r, w, m, U: e_step(X, [np.nan, 1.0], m, U), ValueError, "weights must be finite"),
        (lambda X, r, w, m, U: e_step(X, w, m, U[0]), ValueError, r"precisions_cholesky must have shape \(2, 2, 2\)"),
        (lambda X, r, w, m, U: e_step(X, w, m, -U), ValueError, "diagonal"),
        (lambda X, r, w, m, U: e_step(X, w, m, U, "banana"), ValueError, "covariance_type"),
        (lambda X, r, w, m, U: e_step(X, w, m, U[:, :, 0], "diag"), ValueError, "diagonal|> 0"),
        (lambda X, r, w, m, U: e_step("data", w, m, U), TypeError, "X"),
        (lambda X, r, w, m, U: log_gaussian_prob(X, m, "U"), TypeError, "precisions_cholesky"),
        (lambda X, r, w, m, U: log_gaussian_prob(X, m[:, :, None], U), ValueError, "means"),
        (lambda X, r, w, m, U: m_step(X, r[:-1]), ValueError, "resp has 271 rows but X has 272"),
        (lambda X, r, w, m, U: m_step(X, -r), ValueError, "resp must be responsibilities"),
        (lambda X, r, w, m, U: m_step(X, np.where(r > 0.5, np.nan, r)), ValueError, "resp.*NaN|NaN.*resp"),
        (lambda X, r, w, m, U: m_step(X, r, "full", reg_covar=-1.0), ValueError, "reg_covar"),
        (lambda X, r, w, m, U: m_step(X, r, "banana"), ValueError, "covariance_type"),
        (lambda X, r, w, m, U: precision_cholesky(np.eye(2), "full"), ValueError, "not a 'full' covariance"),
        (lambda X, r, w, m, U: precision_cholesky(np.full((2, 2), np.nan), "tied"), ValueError, "finite"),
        (lambda X, r, w, m, U: precision_cholesky([1.0, 0.0], "spherical", 1e-6), ValueError, "(?i)increase reg_covar"),
    ],
)
def test_step_functions_reject_bad_input_clearly(call, error, match):
    """The step functions are public (the book calls them): bad input gets a clear error, never a NaN."""
    with pytest.raises(error, match=match):
        call(*_step_arguments())


def test_step_functions_accept_lists_and_a_zero_weight():
    X, resp, w, m, U = _step_arguments()
    log_resp, ll = e_step(X.tolist(), [1.0, 0.0], m.tolist(), U.tolist())
    assert np.isfinite(ll) and np.all(log_resp[:, 1] == -np.inf) and np.all(log_resp[:, 0] == 0.0)
    w2, m2, c2 = m_step(X.tolist(), resp.tolist(), "full", 1e-6)
    np.testing.assert_allclose(m2, m)


def _assert_same_run(a, b, attrs, tol):
    """Two fits of the same EM by different code paths: same history, same parameters."""
    np.testing.assert_allclose(a.log_likelihood_history_, b.log_likelihood_history_, rtol=1e-12)
    for attr in attrs:
        assert _rel(getattr(a, attr), getattr(b, attr)) < tol, attr


def test_block_by_block_path_equals_the_whole_array_path(monkeypatch):
    """Data too large for Phi(X) in memory: the features are recomputed per block."""
    from gmmlab.mixture.engines import quadratic

    X = DATASETS["blobs4d"]
    kw = dict(n_components=3, init_params="random", random_state=0, tol=0, max_iter=10,
              engine="fast")
    whole = _fit_quiet(GaussianMixture(**kw), X)
    monkeypatch.setattr(quadratic, "MAX_FEATURE_BYTES", 1000)
    monkeypatch.setattr(quadratic, "CHUNK_BYTES", 50 * 15 * 8)  # blocks of 50 samples
    blocks = _fit_quiet(GaussianMixture(**kw), X)
    _assert_same_run(blocks, whole, ["covariances_"], tol=1e-10)


@pytest.mark.parametrize("covariance_type", ["full"])
def test_direct_engine_in_row_blocks_equals_the_phi_engine(monkeypatch, covariance_type):
    """The direct form (few components, "full") in blocks of rows runs the same EM as Phi."""
    from gmmlab.mixture.engines import direct as direct_module

    X = DATASETS["shifted3d"]
    kw = dict(n_components=3, covariance_type=covariance_type, init_params="random",
              random_state=0, tol=0, max_iter=10)
    phi = _fit_quiet(GaussianMixture(**kw, engine="fast"), X)
    monkeypatch.setattr(direct_module, "BLOCK_ELEMENTS", 3 * 3 * 37)  # blocks of 37 rows
    direct = _fit_quiet(GaussianMixture(**kw, engine="direct"), X)
    _assert_same_run(direct, phi, ["weights_", "means_", "covariances_", "precisions_cholesky_"],
                     tol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_array_equal(direct.fit_predict(X), phi.predict(X))


def test_fit_many_builds_phi_once_for_a_whole_sweep(monkeypatch):
    """fit_many serves every K of a sweep from one Phi(X); a fit alone builds its own."""
    from gmmlab.mixture.engines import QuadraticFeatureEngine

    calls = []
    original = QuadraticFeatureEngine.features_t
    monkeypatch.setattr(QuadraticFeatureEngine, "features_t",
                        lambda self, Xc, pool=None: calls.append(Xc.shape) or original(self, Xc, pool))
    X = DATASETS["blobs4d"]
    kw = dict(init_params="random", random_state=0, tol=0, max_iter=5, engine="fast")
    alone = [_fit_quiet(GaussianMixture(k, **kw), X) for k in (2, 3, 4)]
    assert len(calls) == 3
    calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        together = fit_many([GaussianMixture(k, **kw) for k in (2, 3, 4)], X)
    assert len(calls) == 1
    for a, b in zip(alone, together):
        np.testing.assert_allclose(a.log_likelihood_history_, b.log_likelihood_history_, rtol=1e-13)
        np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_many_runs_each_estimator_exactly_as_its_own_fit(covariance_type):
    """fit_many (runs in lockstep, shared products) = each estimator's own fit, whatever
    its n_init, tol, max_iter, initialisation or seed; one that stops early leaves the group."""
    X = DATASETS["shifted3d"]
    settings = [
        dict(n_components=1),
        dict(n_components=2, n_init=3, init_params="random"),
        dict(n_components=3, tol=1e-6, init_params="k-means++", random_state=5),
        dict(n_components=4, max_iter=3),  # stops (unconverged) long before the others
        dict(n_components=5, init_params="random_from_data", max_iter=0),
        dict(n_components=6, random_state=1),
    ]

    def make():
        return [GaussianMixture(covariance_type=covariance_type, **{"random_state": 0, **kw}) for kw in settings]

    alone = [_fit_quiet(gm, X) for gm in make()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        together = fit_many(make(), X)
    assert [m.n_iter_ for m in together] == [m.n_iter_ for m in alone]
    assert [m.converged_ for m in together] == [m.converged_ for m in alone]
    assert not together[3].converged_ and together[3].n_iter_ == 3 and together[4].n_iter_ == 0
    for a, b in zip(together, alone):
        _assert_same_run(a, b, ["weights_", "means_", "covariances_", "precisions_cholesky_"], tol=1e-9)
        assert a.lower_bound_ == pytest.approx(b.lower_bound_, rel=1e-12, abs=1e-300)


def test_fit_many_equals_sklearn_over_a_sweep_and_warns_like_fit():
    X = DATASETS["old_faithful"]
    ks = range(1, 7)
    ours = fit_many([GaussianMixture(k, random_state=0) for k in ks], X)
    for k, gm in zip(ks, ours):
        ref = SkGaussianMixture(k, random_state=0).fit(X)
        assert gm.n_iter_ == ref.n_iter_
        assert gm.score(X) == pytest.approx(ref.score(X), rel=1e-9)
        assert _rel(gm.means_, ref.means_) < 1e-6
    with pytest.warns(ConvergenceWarning):
        fit_many([GaussianMixture(2, max_iter=1, random_state=0), GaussianMixture(3, random_state=0)], X)


def test_fit_many_torch_path_on_cpu_equals_numpy_path():
    X = DATASETS["blobs4d"]
    kw = dict(init_params="random", random_state=0, tol=0, max_iter=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = fit_many([GaussianMixture(k, **kw) for k in (2, 3, 4)], X)
        b = fit_many([GaussianMixture(k, device="cpu", dtype=torch.float64, **kw) for k in (2, 3, 4)], X)
    for x, y in zip(a, b):
        _assert_same_run(x, y, ["means_", "covariances_"], tol=1e-9)


def test_fit_many_with_a_warm_start_continues_it():
    X = DATASETS["blobs4d"]
    warm = GaussianMixture(3, warm_start=True, max_iter=2, random_state=0)
    ref = GaussianMixture(3, warm_start=True, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X)
        ref.fit(X).fit(X)
        fit_many([warm, GaussianMixture(5, random_state=0)], X)
    _assert_same_run(warm, ref, ["means_", "covariances_"], tol=1e-9)


@pytest.mark.parametrize(
    "estimators, error, match",
    [
        ([], ValueError, "at least one"),
        (GaussianMixture(2), TypeError, "sequence of GaussianMixture"),
        (3, TypeError, "sequence of GaussianMixture"),
        ([GaussianMixture(2), SkGaussianMixture(2)], TypeError, r"estimators\[1\] must be a gmmlab GaussianMixture"),
        ([GaussianMixture(2), GaussianMixture(3, reg_covar=1e-3)], ValueError, "share reg_covar"),
        ([GaussianMixture(2), GaussianMixture(3, covariance_type="diag")], ValueError, "share covariance_type"),
        ([GaussianMixture(2), GaussianMixture(3, dtype="float32")], ValueError, "share dtype"),
        ([GaussianMixture(2), GaussianMixture(300)], ValueError, "n_components=300 must be <= n_samples"),
        ([GaussianMixture(2), GaussianMixture(3, tol=-1.0)], ValueError, "tol"),
    ],
)
def test_fit_many_rejects_bad_input_clearly(estimators, error, match):
    with pytest.raises(error, match=match):
        fit_many(estimators, DATASETS["old_faithful"])


def test_fit_many_rejects_bad_data_and_repeated_estimators():
    gm = GaussianMixture(2)
    with pytest.raises(ValueError, match="distinct"):
        fit_many([gm, gm], DATASETS["old_faithful"])
    with pytest.raises(ValueError, match="NaN"):
        fit_many([GaussianMixture(2)], np.full((10, 2), np.nan))
    with pytest.raises(TypeError, match="X"):
        fit_many([GaussianMixture(2)], "data")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_constant_features_leave_phi_and_change_nothing(monkeypatch, covariance_type):
    """A feature that is constant (a dead ReLU unit) makes rows of Phi that are 0 for every
    sample: Phi drops them, and the fit still equals scikit-learn's (here with Phi, and with
    several fits together)."""
    from gmmlab._backend import Backend
    from gmmlab.mixture.engines import QuadraticFeatureEngine

    base = DATASETS["blobs4d"]
    X = np.column_stack([base[:, :2], np.zeros(len(base)), base[:, 2:], np.full(len(base), 3.0)])
    engine = QuadraticFeatureEngine(X, covariance_type, 1e-3, Backend())
    assert engine.alive.tolist() == [0, 1, 3, 4]
    assert engine.n_rows == (15 if covariance_type in ("full", "tied") else 9) < engine.D
    assert engine.blocks[0][1].shape == (engine.n_rows, len(X))
    kw = dict(covariance_type=covariance_type, reg_covar=1e-3, random_state=0)
    alone = _fit_quiet(GaussianMixture(3, engine="fast", **kw), X)
    together = fit_many([GaussianMixture(k, **kw) for k in (2, 3)], X)[1]
    ref = SkGaussianMixture(3, **kw).fit(X)
    for gm in (alone, together):
        assert gm.n_iter_ == ref.n_iter_
        assert gm.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-10)
        for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            np.testing.assert_allclose(getattr(gm, attr), getattr(ref, attr), rtol=1e-7, atol=1e-10)


# -- issue 18: bad input never passes silently ---------------------------------------


def _two_blobs():
    rng = np.random.RandomState(0)
    return np.vstack([rng.randn(20, 2) - 3.0, rng.randn(20, 2) + 3.0])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "random", "random_from_data"])
def test_huge_data_is_refused_naming_x(covariance_type, init_params):
    """X * 1e300 used to give an all-NaN model ("diag", "spherical", with only a
    ConvergenceWarning) or "covariances must be finite"; now an error naming X."""
    X = _two_blobs() * 1e300
    gm = GaussianMixture(2, covariance_type=covariance_type, init_params=init_params,
                         random_state=0)
    with pytest.raises(ValueError, match=r"^X has entries as large as") as info:
        gm.fit(X)
    assert "finite" not in str(info.value) and "reg_covar" not in str(info.value)
    with pytest.raises(ValueError, match=r"^X has entries"):
        gm.fit_predict(X)
    with pytest.raises(ValueError, match=r"^X has entries"):
        fit_many([GaussianMixture(1), GaussianMixture(2)], X)
    assert not hasattr(gm, "means_")  # refused before any work


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_fitted_mixture_refuses_huge_points_and_handles_far_ones(covariance_type):
    X = _two_blobs()
    gm = _fit_quiet(GaussianMixture(2, covariance_type=covariance_type, random_state=0), X)
    for method in ("predict_proba", "predict", "score_samples", "score", "bic", "aic"):
        with pytest.raises(ValueError, match=r"overflow.*\bX\b|\bX\b.*overflow"):
            getattr(gm, method)(X * 1e300)  # was NaN, component 0, -inf, inf
    far = X * 1e100  # representable: finite log-densities, responsibilities summing to 1
    assert np.isfinite(gm.score_samples(far)).all()
    proba = gm.predict_proba(far)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(proba.argmax(axis=1), gm.predict(far))
    # and ordinary points are untouched by that repair
    log_joint = gm._log_joint(X)
    from scipy.special import logsumexp

    np.testing.assert_array_equal(gm.predict_proba(X),
                                  np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None]))


def test_far_points_under_tied_covariances_get_responsibilities_summing_to_one():
    """Tied components give far points log-joints equal to float64 precision: plain
    log-sum-exp loses log(2) against 1e200 and returned rows summing to 2."""
    X = _two_blobs()
    gm = _fit_quiet(GaussianMixture(2, covariance_type="tied", random_state=0), X)
    from scipy.special import logsumexp

    log_joint = gm._log_joint(X * 1e100)
    old = np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None])
    assert np.allclose(old.sum(axis=1), 2.0)  # what the old code returned
    np.testing.assert_allclose(gm.predict_proba(X * 1e100).sum(axis=1), 1.0, atol=1e-12)
    w, m, U = gm.weights_, gm.means_, gm.precisions_cholesky_
    log_resp, ll = e_step(X * 1e100, w, m, U, "tied")
    assert np.isfinite(ll)
    np.testing.assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, atol=1e-12)


def test_step_functions_refuse_huge_data_naming_x():
    X = _two_blobs()
    resp = np.eye(2)[(X[:, 0] > 0).astype(int)]
    w, m, c = m_step(X, resp)
    U = precision_cholesky(c)
    with pytest.raises(ValueError, match=r"\bX\b.*overflow|overflow.*\bX\b"):
        e_step(X * 1e300, w, m, U)  # was NaN
    with pytest.raises(ValueError, match=r"^X has entries as large as"):
        m_step(X * 1e300, resp)  # was NaN
    with pytest.raises(ValueError, match=r"\bmeans\b"):
        log_gaussian_prob(X, m * 1e300, U)
    with pytest.raises(ValueError, match=r"\bprecisions_cholesky\b"):
        log_gaussian_prob(X, m, U * 1e300)


def test_log_gaussian_prob_refuses_a_non_triangular_factor():
    """U = [[1, 2], [3, 1]] is no Cholesky factor: the old code used its diagonal for
    log det and gave -1.84 at x = 0, where the density of precision U U^T is -0.23."""
    from scipy.stats import multivariate_normal

    U = np.array([[1.0, 2.0], [3.0, 1.0]])
    true = multivariate_normal(np.zeros(2), np.linalg.inv(U @ U.T)).logpdf([0.0, 0.0])
    old = -np.log(2 * np.pi)  # the diagonal's log det is 0
    assert true == pytest.approx(-0.2284, abs=1e-4) and old == pytest.approx(-1.8379, abs=1e-4)
    for call in (lambda: log_gaussian_prob(np.zeros((1, 2)), np.zeros((1, 2)), U[None]),
                 lambda: log_gaussian_prob(np.zeros((1, 2)), np.zeros((1, 2)), U, "tied"),
                 lambda: e_step(np.zeros((1, 2)), [1.0], np.zeros((1, 2)), U[None])):
        with pytest.raises(ValueError, match="precisions_cholesky must be upper triangular"):
            call()
    # a factor computed by a general inverse (rounding below the diagonal) is accepted
    L = np.linalg.cholesky(np.array([[2.0, 0.9], [0.9, 1.0]]))
    U_inv = np.linalg.inv(L).T
    U_inv[1, 0] += 1e-17
    assert np.isfinite(log_gaussian_prob(np.zeros((1, 2)), np.zeros((1, 2)), U_inv[None])).all()


def test_precision_cholesky_refuses_non_symmetric_covariances():
    """The Cholesky factorisation reads one triangle only: [[1, 5], [0, 1]] used to be
    taken for the identity."""
    C = np.array([[1.0, 5.0], [0.0, 1.0]])
    assert np.allclose(np.linalg.cholesky(C), np.eye(2))  # what the old code used
    with pytest.raises(ValueError, match=r"covariances must be symmetric \(component\(s\) \[1\]\)"):
        precision_cholesky(np.stack([np.eye(2), C]))
    with pytest.raises(ValueError, match="covariances must be symmetric"):
        precision_cholesky(C.T, "tied")
    # rounding-level asymmetry (an M-step's products) is accepted
    X = DATASETS["shifted3d"]
    _, _, tied = m_step(X, np.random.default_rng(0).dirichlet(np.ones(3), size=len(X)), "tied")
    assert np.isfinite(precision_cholesky(tied, "tied")).all()


def test_precision_cholesky_called_directly_does_not_speak_of_a_fit():
    with pytest.raises(ValueError) as info:
        precision_cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]), "tied", 1e-6)
    message = str(info.value)
    assert "Fitting the mixture model failed" not in message
    assert message.startswith("covariances of component(s) [0] is not positive definite")
    assert "increase reg_covar (now 1e-06)" in message
    with pytest.raises(ValueError, match="reg_covar"):
        precision_cholesky(np.eye(2), "tied", reg_covar=-1.0)
    with pytest.raises(ValueError, match="at least one component"):
        precision_cholesky(np.zeros((0, 2, 2)))
    # a fit keeps scikit-learn's message, whose first sentence chapter 04 prints
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0]]), 20, axis=0)
    with pytest.raises(ValueError) as info:
        _fit_quiet(GaussianMixture(5, init_params="random_from_data", reg_covar=0.0,
                                   random_state=0), X)
    assert str(info.value).split(". ")[0].startswith(
        "Fitting the mixture model failed: the covariance of component(s)")
    assert "Fitting the mixture model failed because some components have ill-defined" in str(info.value)


def test_m_step_refuses_responsibilities_that_assign_nothing():
    X = _two_blobs()
    zeros = np.zeros((len(X), 2))
    with pytest.raises(ValueError, match="resp must assign some sample"):
        m_step(X, zeros)  # used to return weights 1/2, means 0, covariances reg_covar
    with pytest.raises(ValueError, match="resp must be responsibilities: each row sums to at most 1"):
        m_step(X, 2 * np.eye(2)[(X[:, 0] > 0).astype(int)])
    # rows of zeros for some samples stay valid (scikit-learn's "random_from_data" start)
    resp = zeros.copy()
    resp[[0, 25], [0, 1]] = 1.0
    w, m, c = m_step(X, resp)
    np.testing.assert_allclose(m, X[[0, 25]], atol=1e-12)


@pytest.mark.parametrize("change, name", [(dict(n_components=3), "n_components"),
                                          (dict(covariance_type="diag"), "covariance_type")])
def test_warm_start_refuses_a_change_of_model(change, name):
    """The warm start used to go on with the old 2 components when n_components became 3."""
    X = _two_blobs()
    gm = _fit_quiet(GaussianMixture(2, warm_start=True, max_iter=3, random_state=0), X)
    gm.set_params(**change)
    with pytest.raises(ValueError, match=rf"^{name}=.*warm_start=True continues the previous fit"):
        gm.fit(X)
    gm.set_params(warm_start=False)
    _fit_quiet(gm, X)  # a fresh fit is fine
    assert len(gm.weights_) == gm.n_components


@pytest.mark.parametrize(
    "first, second",
    [(dict(reg_covar=0), dict(reg_covar=0.0)),
     (dict(device="cpu"), dict(device=torch.device("cpu"))),
     (dict(device="cpu", dtype="float32"), dict(device="cpu", dtype=np.float32)),
     (dict(dtype=torch.float64), dict(dtype="float64")),
     (dict(), dict(dtype="float64"))],
)
def test_fit_many_compares_normalised_settings(first, second):
    """Settings were compared by repr: 0 vs 0.0, "cpu" vs torch.device("cpu") and
    "float32" vs np.float32 were refused as different."""
    X = DATASETS["old_faithful"]
    a, b = GaussianMixture(1, random_state=0, **first), GaussianMixture(2, random_state=0, **second)
    assert {repr(v) for v in (a.get_params()[k] for k in first)} != {
        repr(v) for v in (b.get_params()[k] for k in first)} or not first
    fit_many([a, b], X)
    alone = GaussianMixture(2, random_state=0, **second).fit(X)
    np.testing.assert_allclose(b.means_, alone.means_, rtol=1e-12)
    with pytest.raises(ValueError, match="share reg_covar"):
        fit_many([GaussianMixture(1, reg_covar=0), GaussianMixture(2, reg_covar=1e-3)], X)


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(random_state=-1), "random_state"), (dict(random_state=2**40), "random_state"),
     (dict(random_state="x"), "random_state"), (dict(random_state=np.random.default_rng(0)), "random_state"),
     (dict(device="meta"), "device"), (dict(device="bogus"), "device"), (dict(device=123), "device")],
)
def test_bad_random_state_or_device_is_refused_before_any_work(kwargs, name, monkeypatch):
    from gmmlab.mixture import gaussian_mixture

    def no_engine(*args, **kw):
        raise AssertionError("an engine was built before the parameters were checked")

    monkeypatch.setattr(gaussian_mixture, "make_engine", no_engine)
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        GaussianMixture(2, **kwargs).fit(DATASETS["old_faithful"])


def test_n_parameters_names_a_bad_covariance_type():
    gm = _fit_quiet(GaussianMixture(2, random_state=0), _two_blobs())
    gm.covariance_type = "bogus"  # was a KeyError
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        gm.n_parameters()
