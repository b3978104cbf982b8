"""The two derivations of the M-step (chapter 09), checked by autograd on Old Faithful.

Bishop's §9.2 differentiates the log-likelihood ``ln p(X | theta)`` directly; the Q-function
route differentiates ``Q(theta, theta_old) = sum_nk r_nk (ln pi_k + ln N(x_n | mu_k, Sigma_k))``
with the responsibilities ``r_nk = gamma_nk(theta_old)`` held fixed. Their gradients are the
same expression with ``gamma`` evaluated at ``theta`` or frozen at ``theta_old``, hence equal
at ``theta = theta_old`` in every parametrisation, and different elsewhere. These tests check
that, the closed-form gradients of Bishop's eqs. 9.16-9.21 (and that the submitted
solution's slips do not match them), and the decomposition behind it.
"""

import math

import numpy as np
import pytest
import torch

from gmmlab.data import load_old_faithful
from gmmlab.mixture import e_step, log_gaussian_prob, m_step, precision_cholesky

DTYPE = torch.float64


def _faithful():
    X = load_old_faithful()
    return (X - X.mean(axis=0)) / X.std(axis=0)


X_FAITHFUL = _faithful()

# theta_old: chapter 05's deliberately bad start, and M-steps of random responsibilities
_BAD_START = (np.array([0.5, 0.5]), np.array([[-1.5, 1.0], [1.5, -1.0]]), np.array([np.eye(2), np.eye(2)]))


def _random_theta(K, seed):
    resp = np.random.default_rng(seed).dirichlet(np.ones(K), size=len(X_FAITHFUL))
    return m_step(X_FAITHFUL, resp, "full", reg_covar=0.0)


THETAS_OLD = {"bad_start": _BAD_START, "random_K2": _random_theta(2, 0), "random_K3": _random_theta(3, 1)}


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=DTYPE, requires_grad=grad)


def log_normal(X, means, covariances):
    """log N(x_n | mu_k, Sigma_k) as an (N, K) tensor, written out (no gradient formula)."""
    d = X.shape[1]
    diff = X[:, None, :] - means[None]
    solved = torch.linalg.solve(covariances[None], diff.unsqueeze(-1)).squeeze(-1)
    return -0.5 * (d * math.log(2 * math.pi) + torch.logdet(covariances) + (diff * solved).sum(-1))


def log_likelihood(X, weights, means, covariances):
    return torch.logsumexp(torch.log(weights) + log_normal(X, means, covariances), dim=1).sum()


def q_function(X, resp, weights, means, covariances):
    return (resp * (torch.log(weights) + log_normal(X, means, covariances))).sum()


def _responsibilities(theta):
    log_resp, _ = e_step(X_FAITHFUL, theta[0], theta[1], precision_cholesky(theta[2]), "full")
    return np.exp(log_resp)


def _gradients(f, theta, parametrisation):
    """Gradients of f(X, weights, means, covariances) at theta in one parametrisation."""
    X = _t(X_FAITHFUL)
    w, mu, S = theta
    if parametrisation == "direct":  # the weights and the covariance matrices themselves
        params = [_t(w, True), _t(mu, True), _t(S, True)]
        f(X, *params).backward()
    else:  # unconstrained: softmax logits, means, Cholesky factors
        params = [_t(np.log(w), True), _t(mu, True), _t(np.linalg.cholesky(S), True)]
        alpha, m, L = params
        Lt = torch.tril(L)
        f(X, torch.softmax(alpha, 0), m, Lt @ Lt.mT).backward()
    return [p.grad.numpy() for p in params]


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(a).max()


def test_torch_log_likelihood_and_q_equal_the_library():
    theta = THETAS_OLD["bad_start"]
    resp = _responsibilities(theta)
    _, mean_ll = e_step(X_FAITHFUL, theta[0], theta[1], precision_cholesky(theta[2]), "full")
    ll = log_likelihood(_t(X_FAITHFUL), *map(_t, theta)).item()
    assert math.isclose(ll, len(X_FAITHFUL) * mean_ll, rel_tol=1e-12)
    log_joint = np.log(theta[0]) + log_gaussian_prob(X_FAITHFUL, theta[1], precision_cholesky(theta[2]), "full")
    q = q_function(_t(X_FAITHFUL), _t(resp), *map(_t, theta)).item()
    assert math.isclose(q, np.sum(resp * log_joint), rel_tol=1e-12)


@pytest.mark.parametrize("parametrisation", ["direct", "unconstrained"])
@pytest.mark.parametrize("start", sorted(THETAS_OLD))
def test_gradient_of_log_likelihood_equals_gradient_of_q_at_theta_old(start, parametrisation):
    theta_old = THETAS_OLD[start]
    resp = _t(_responsibilities(theta_old))
    g_lnp = _gradients(log_likelihood, theta_old, parametrisation)
    g_q = _gradients(lambda X, *th: q_function(X, resp, *th), theta_old, parametrisation)
    for a, b in zip(g_lnp, g_q):
        assert np.abs(a).max() > 1e-3  # a real, non-zero gradient
        assert _rel(a, b) < 1e-10


@pytest.mark.parametrize("parametrisation", ["direct", "unconstrained"])
@pytest.mark.parametrize("start", sorted(THETAS_OLD))
def test_gradients_differ_away_from_theta_old(start, parametrisation):
    """At theta_new (and at a perturbed theta) the responsibilities are no longer r_nk."""
    theta_old = THETAS_OLD[start]
    resp = _responsibilities(theta_old)
    theta_new = m_step(X_FAITHFUL, resp, "full", reg_covar=0.0)
    rng = np.random.default_rng(0)
    theta_moved = (theta_old[0], theta_old[1] + 0.3 * rng.standard_normal(theta_old[1].shape), theta_old[2])
    rt = _t(resp)
    for theta in (theta_new, theta_moved):
        g_lnp = _gradients(log_likelihood, theta, parametrisation)
        g_q = _gradients(lambda X, *th: q_function(X, rt, *th), theta, parametrisation)
        # means and covariances: the two gradients are clearly different
        assert _rel(g_lnp[1], g_q[1]) > 1e-2
        assert _rel(g_lnp[2], g_q[2]) > 1e-2
    # at theta_new the gradient of Q vanishes (means, covariances, softmax logits), that of ln p not
    g_q_new = _gradients(lambda X, *th: q_function(X, rt, *th), theta_new, "unconstrained")
    g_lnp_new = _gradients(log_likelihood, theta_new, "unconstrained")
    for a, b in zip(g_lnp_new, g_q_new):
        assert np.abs(b).max() < 1e-8 < 1e-3 < np.abs(a).max()


def test_bishop_closed_form_gradients_and_the_submitted_slips():
    """Eqs. 9.16, 9.19 and 9.21 at an arbitrary theta, against autograd; the slips fail."""
    w, mu, S = THETAS_OLD["random_K3"]
    mu = mu + np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.0]])  # not an M-step point
    X = X_FAITHFUL
    log_joint = np.log(w) + log_gaussian_prob(X, mu, precision_cholesky(S), "full")
    gamma = np.exp(log_joint - np.logaddexp.reduce(log_joint, axis=1, keepdims=True))  # gamma_nk(theta)
    Nk = gamma.sum(axis=0)
    Sinv = np.linalg.inv(S)

    wt, mt, St = _t(w, True), _t(mu, True), _t(S, True)
    log_likelihood(_t(X), wt, mt, St).backward()

    residual = np.stack([Sinv[k] @ (gamma[:, k, None] * (X - mu[k])).sum(axis=0) for k in range(3)])
    assert _rel(mt.grad.numpy(), residual) < 1e-12  # 9.16
    assert _rel(mt.grad.numpy(), -2 * residual) > 1  # the stray -2
    # the chain-rule slip: gamma / (pi_k N_nk) in front of d ln N / d mu
    slip = np.stack([Sinv[k] @ ((gamma[:, k] / np.exp(log_joint[:, k]))[:, None] * (X - mu[k])).sum(axis=0)
                     for k in range(3)])
    assert _rel(mt.grad.numpy(), slip) > 1

    scatter = np.stack([(gamma[:, k, None] * (X - mu[k])).T @ (X - mu[k]) for k in range(3)])
    half = 0.5 * Sinv @ (scatter - Nk[:, None, None] * S) @ Sinv
    assert _rel(St.grad.numpy(), half) < 1e-12  # the gradient behind 9.19
    assert _rel(St.grad.numpy(), 2 * half) > 0.5  # the missing 1/2

    assert _rel(wt.grad.numpy(), Nk / w) < 1e-12  # 9.21 without lambda: N_k(theta) / pi_k
    assert np.ptp(wt.grad.numpy()) > 1.0  # not an M-step point: the gradient is not normal to sum(pi) = 1


def test_log_likelihood_minus_q_is_a_cross_entropy_minimal_at_theta_old():
    """ln p(X|theta) = Q(theta, theta_old) - sum r ln gamma(theta), and Q + const minorises ln p."""
    theta_old = THETAS_OLD["random_K2"]
    r = _responsibilities(theta_old)
    X = _t(X_FAITHFUL)
    gap = lambda th: (log_likelihood(X, *map(_t, th)) - q_function(X, _t(r), *map(_t, th))).item()
    gap_old = gap(theta_old)
    assert math.isclose(gap_old, -np.sum(r * np.log(r)), rel_tol=1e-10)
    rng = np.random.default_rng(3)
    for _ in range(20):
        w = rng.dirichlet(np.ones(2))
        mu = theta_old[1] + rng.standard_normal((2, 2))
        B = rng.standard_normal((2, 2, 2))
        S = B @ B.transpose(0, 2, 1) + 0.1 * np.eye(2)
        log_joint = np.log(w) + log_gaussian_prob(X_FAITHFUL, mu, precision_cholesky(S), "full")
        log_gamma = log_joint - np.logaddexp.reduce(log_joint, axis=1, keepdims=True)
        assert math.isclose(gap((w, mu, S)), -np.sum(r * log_gamma), rel_tol=1e-9)
        assert gap((w, mu, S)) > gap_old  # Gibbs: strictly larger away from theta_old


def test_covariance_with_the_old_mean_is_not_the_m_step():
    """The submitted Sigma update around mu_t: Sigma_new + delta delta^T, Q lower by a known amount."""
    theta_old = _BAD_START
    r = _responsibilities(theta_old)
    w, mu, S = m_step(X_FAITHFUL, r, "full", reg_covar=0.0)
    Nk = r.sum(axis=0)
    S_t = np.stack([(r[:, k, None] * (X_FAITHFUL - theta_old[1][k])).T @ (X_FAITHFUL - theta_old[1][k]) / Nk[k]
                    for k in range(2)])
    delta = mu - theta_old[1]
    assert np.allclose(S_t, S + np.einsum("ki,kj->kij", delta, delta))
    X, rt = _t(X_FAITHFUL), _t(r)
    C = _t(S_t, True)
    q_t = q_function(X, rt, _t(w), _t(mu), C)
    q_t.backward()
    assert C.grad.abs().max().item() > 1.0  # not stationary
    q_new = q_function(X, rt, *map(_t, (w, mu, S))).item()
    u = np.einsum("ki,kij,kj->k", delta, np.linalg.inv(S), delta)
    assert math.isclose(q_t.item() - q_new, -0.5 * np.sum(Nk * (np.log1p(u) - u / (1 + u))), rel_tol=1e-9)
    assert q_t.item() < q_new
    # on this start it also lowers the log-likelihood compared with the correct update
    ll_t = log_likelihood(X, *map(_t, (w, mu, S_t))).item()
    assert ll_t < log_likelihood(X, *map(_t, (w, mu, S))).item()
    # ... but it is still a block-wise maximisation of Q (a generalised EM step): Q and ln p
    # do not fall below their values at theta_old
    assert q_t.item() > q_function(X, rt, *map(_t, theta_old)).item()
    assert ll_t > log_likelihood(X, *map(_t, theta_old)).item()


def test_old_mean_scheme_never_decreases_and_reaches_the_same_limit():
    def run(slip):
        theta, history = _BAD_START, []
        for _ in range(300):
            r = _responsibilities(theta)
            history.append(log_likelihood(_t(X_FAITHFUL), *map(_t, theta)).item())
            w, mu, S = m_step(X_FAITHFUL, r, "full", reg_covar=0.0)
            if slip:
                S = np.stack([(r[:, k, None] * (X_FAITHFUL - theta[1][k])).T @ (X_FAITHFUL - theta[1][k])
                              / r[:, k].sum() for k in range(2)])
            theta = (w, mu, S)
        return np.array(history)

    ok, slip = run(False), run(True)
    for history in (ok, slip):
        assert np.diff(history).min() > -1e-9 * np.abs(history).max()
    assert not np.allclose(ok[:5], slip[:5])  # different paths ...
    assert math.isclose(ok[-1], slip[-1], rel_tol=1e-9)  # ... to the same fixed point


def test_em_fixed_point_is_a_stationary_point_of_the_log_likelihood():
    theta = _BAD_START
    for _ in range(500):
        theta = m_step(X_FAITHFUL, _responsibilities(theta), "full", reg_covar=0.0)
    w, mu, S = theta
    wt, mt, St = _t(w, True), _t(mu, True), _t(S, True)
    log_likelihood(_t(X_FAITHFUL), wt, mt, St).backward()
    N = len(X_FAITHFUL)
    assert np.abs(mt.grad.numpy()).max() < 1e-6
    assert np.abs(St.grad.numpy()).max() < 1e-6
    assert np.abs(wt.grad.numpy() - N).max() < 1e-6 * N  # normal to sum(pi) = 1: lambda = -N
    # the check can fail: the bad start is far from stationary
    wt0 = _t(_BAD_START[1], True)
    log_likelihood(_t(X_FAITHFUL), _t(_BAD_START[0]), wt0, _t(_BAD_START[2])).backward()
    assert np.abs(wt0.grad.numpy()).max() > 1.0
