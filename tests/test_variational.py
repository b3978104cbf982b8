"""Tests for gmmlab.variational: log p(X | theta) = ELBO(theta, q) + KL(q || posterior)."""

import warnings

import numpy as np
import pytest

from gmmlab.data import load_old_faithful, make_gaussian_mixture
from gmmlab.mixture import COVARIANCE_TYPES, GaussianMixture, e_step, m_step, precision_cholesky
from gmmlab.variational import (
    MixtureParams,
    as_params,
    elbo,
    kl_to_posterior,
    log_joint,
    log_likelihood,
    posterior,
)


def _params(X, K, covariance_type, seed):
    rng = np.random.default_rng(seed)
    weights, means, cov = m_step(X, rng.dirichlet(np.ones(K), size=len(X)), covariance_type, 1e-6)
    return MixtureParams(weights, means, cov, covariance_type)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_elbo_plus_kl_is_the_log_likelihood_for_random_q(covariance_type):
    X = make_gaussian_mixture(300, n_components=3, n_features=3, random_state=0).X
    rng = np.random.default_rng(1)
    for seed in range(3):
        theta = _params(X, 3, covariance_type, seed)
        ll = log_likelihood(X, theta)
        for alpha in (0.1, 1.0, 10.0):
            q = rng.dirichlet(np.full(3, alpha), size=len(X))
            e, kl = elbo(X, theta, q), kl_to_posterior(X, theta, q)
            assert abs(e + kl - ll) <= 1e-9 * abs(ll)
            assert kl > 0  # a random q is not the posterior
            assert e < ll


def test_log_likelihood_matches_a_direct_density_computation():
    X = load_old_faithful()
    theta = _params(X, 2, "full", 0)
    dens = sum(
        w * np.exp(-0.5 * np.einsum("ni,ij,nj->n", X - m, np.linalg.inv(S), X - m))
        / np.sqrt(np.linalg.det(2 * np.pi * S))
        for w, m, S in zip(theta.weights, theta.means, theta.covariances)
    )
    assert log_likelihood(X, theta) == pytest.approx(np.log(dens).sum(), rel=1e-12)


def test_q_with_zeros_uses_zero_log_zero():
    X = load_old_faithful()
    theta = _params(X, 3, "full", 0)
    # hard assignments: every row is one-hot (zeros everywhere else)
    q = np.eye(3)[np.random.default_rng(0).integers(0, 3, len(X))]
    e, kl = elbo(X, theta, q), kl_to_posterior(X, theta, q)
    assert np.isfinite(e) and np.isfinite(kl) and kl >= 0
    assert e + kl == pytest.approx(log_likelihood(X, theta), rel=1e-9)
    # hard ELBO is sum_n log p(x_n, z_n): no entropy term
    lj = np.log(theta.weights) + np.stack(
        [-0.5 * np.einsum("ni,ij,nj->n", X - m, np.linalg.inv(S), X - m)
         - 0.5 * np.log(np.linalg.det(2 * np.pi * S)) for m, S in zip(theta.means, theta.covariances)], 1)
    assert e == pytest.approx((q * lj).sum(), rel=1e-10)


def test_zero_weight_component_and_zero_q_column():
    X = load_old_faithful()
    th = _params(X, 3, "diag", 0)
    theta = MixtureParams(np.array([0.5, 0.5, 0.0]), th.means, th.covariances, "diag")
    q = np.random.default_rng(0).dirichlet(np.ones(2), size=len(X))
    q = np.hstack([q, np.zeros((len(X), 1))])
    ll, e, kl = log_likelihood(X, theta), elbo(X, theta, q), kl_to_posterior(X, theta, q)
    assert np.isfinite([ll, e, kl]).all()
    assert e + kl == pytest.approx(ll, rel=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_kl_is_zero_after_an_e_step_and_elbo_equals_log_likelihood(covariance_type):
    X = make_gaussian_mixture(300, n_components=2, n_features=2, random_state=3).X
    theta = _params(X, 2, covariance_type, 4)
    U = precision_cholesky(theta.covariances, covariance_type)
    log_resp, mean_ll = e_step(X, theta.weights, theta.means, U, covariance_type)
    q = np.exp(log_resp)
    assert abs(kl_to_posterior(X, theta, q)) < 1e-9
    assert elbo(X, theta, q) == pytest.approx(log_likelihood(X, theta), rel=1e-12)
    assert mean_ll * len(X) == pytest.approx(log_likelihood(X, theta), rel=1e-12)
    np.testing.assert_allclose(posterior(X, theta), q, atol=1e-12)


def test_em_iteration_raises_elbo_then_log_likelihood():
    """The E-step closes the gap, the M-step raises the ELBO: the two halves of EM."""
    X = load_old_faithful()
    theta = _params(X, 2, "full", 0)
    q = posterior(X, theta)
    w, m, c = m_step(X, q, "full", 1e-6)
    new = MixtureParams(w, m, c, "full")
    assert elbo(X, new, q) > elbo(X, theta, q)
    assert log_likelihood(X, new) >= elbo(X, new, q)
    assert log_likelihood(X, new) > log_likelihood(X, theta)


def test_accepts_fitted_estimator_and_tuple():
    X = load_old_faithful()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(2, covariance_type="tied", random_state=0).fit(X)
    assert log_likelihood(X, gm) / len(X) == pytest.approx(gm.score(X), rel=1e-12)
    full = GaussianMixture(2, random_state=0).fit(X)
    ll = log_likelihood(X, (full.weights_, full.means_, full.covariances_))
    assert ll == pytest.approx(full.score(X) * len(X), rel=1e-12)


def test_bad_inputs_raise_clear_errors():
    X = load_old_faithful()
    theta = _params(X, 2, "full", 0)
    q = posterior(X, theta)
    with pytest.raises(ValueError, match="q must have shape"):
        elbo(X, theta, q[:, :1])
    with pytest.raises(ValueError, match="sum to 1"):
        elbo(X, theta, q * 0.5)
    with pytest.raises(ValueError, match="q .* must be >= 0"):
        kl_to_posterior(X, theta, np.column_stack([q[:, 0] + 1, -q[:, 0]]))
    with pytest.raises(ValueError, match="NaN"):
        kl_to_posterior(X, theta, np.full_like(q, np.nan))
    with pytest.raises(ValueError, match="not fitted"):
        log_likelihood(X, GaussianMixture(2))
    with pytest.raises(TypeError, match="params must be"):
        log_likelihood(X, "theta")
    with pytest.raises(ValueError, match="params.covariances must have shape"):
        log_likelihood(X, (theta.weights, theta.means, theta.covariances[0]))
    with pytest.raises(ValueError, match="covariance_type"):
        log_likelihood(X, (theta.weights, theta.means, theta.covariances, "banana"))
    with pytest.raises(ValueError, match="features"):
        log_likelihood(X[:, :1], theta)
    with pytest.raises(ValueError, match="X"):
        log_likelihood(np.where(X > 80, np.nan, X), theta)


def test_bad_parameters_are_refused_naming_their_part():
    """Non-symmetric covariances used to be read by one triangle; NaN means, complex or
    string parts gave NaN, a cast or numpy's messages."""
    X = load_old_faithful()
    theta = _params(X, 2, "full", 0)
    w, m, c = theta.weights, theta.means, theta.covariances
    skew = c.copy()
    skew[1, 0, 1] += 5.0
    for f in (log_joint, log_likelihood, as_params):
        args = ((w, m, skew),) if f is as_params else (X, (w, m, skew))
        with pytest.raises(ValueError, match=r"params.covariances must be symmetric"):
            f(*args)
    with pytest.raises(ValueError, match=r"params.means must be finite"):
        as_params((w, np.where(m > 0, np.nan, m), c))
    with pytest.raises(TypeError, match=r"params.weights must be a real numeric array, got complex"):
        as_params((w + 0j, m, c))
    with pytest.raises(TypeError, match=r"params.covariances must be a real numeric array"):
        as_params((w, m, "c"))
    with pytest.raises(ValueError, match=r"params.covariances of component\(s\) \[1\] is not positive"):
        as_params((w, m, np.stack([c[0], -c[1]])))


def test_complex_q_is_refused_not_cast():
    X = load_old_faithful()
    theta = _params(X, 2, "full", 0)
    q = posterior(X, theta)
    for f in (elbo, kl_to_posterior):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ComplexWarning: an error
            with pytest.raises(TypeError, match=r"^q must be a real numeric array"):
                f(X, theta, q + 0j)


def test_huge_data_is_refused_and_far_points_stay_finite():
    X = load_old_faithful()
    theta = _params(X, 2, "full", 0)
    for f in (posterior, log_likelihood, log_joint):
        with pytest.raises(ValueError, match=r"overflow.*\bX\b|\bX\b.*overflow"):
            f(X * 1e300, theta)  # was NaN
    with pytest.raises(ValueError, match=r"overflow.*\bX\b|\bX\b.*overflow"):
        kl_to_posterior(X * 1e300, theta, posterior(X, theta))
    far = posterior(X * 1e100, theta)
    np.testing.assert_allclose(far.sum(axis=1), 1.0, atol=1e-12)
    assert np.isfinite(kl_to_posterior(X * 1e100, theta, far))
