"""The variational view of EM: log-likelihood = ELBO + KL.

Used by the chapter "Gaussian mixtures, EM and the variational view"
(``book/*/06_elbo``) and the assignment's EM derivation (``book/*/09_em_derivation``).

For a Gaussian mixture with parameters ``theta`` and *any* distribution ``q`` over
the component labels of each sample (a matrix whose rows lie on the simplex),

    log p(X | theta) = ELBO(theta, q) + KL(q || p(Z | X, theta)),

    ELBO(theta, q) = sum_n sum_k q_nk [log w_k + log N(x_n | mu_k, Sigma_k) - log q_nk],
    KL(q || p(Z | X, theta)) = sum_n sum_k q_nk [log q_nk - log p(z_n = k | x_n, theta)].

The E-step sets ``q`` to the posterior (KL = 0, the ELBO touches the
log-likelihood); the M-step maximises the ELBO over ``theta`` for that ``q``.
All three functions return totals over the samples, in nats (divide by
``n_samples`` to compare with ``GaussianMixture.score`` or ``lower_bound_``);
``0 log 0`` is taken as 0.

``params`` may be

* a :class:`MixtureParams` (weights, means, covariances, covariance_type),
* a fitted :class:`gmmlab.mixture.GaussianMixture` (any covariance type), or
* a tuple ``(weights, means, covariances)`` with full covariances of shape
  (K, d, d), or ``(weights, means, covariances, covariance_type)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ._validation import (
    check_array_shape,
    check_covariance_type,
    check_data,
    check_simplex,
    covariance_shape,
    to_numpy,
)
from .mixture import COVARIANCE_TYPES, log_gaussian_prob, precision_cholesky
from .mixture.reference import _precision_cholesky, normalize_log_resp

__all__ = ["MixtureParams", "as_params", "log_joint", "posterior", "log_likelihood", "elbo",
           "kl_to_posterior"]


@dataclass(frozen=True)
class MixtureParams:
    """Parameters ``theta`` of a Gaussian mixture.

    ``covariances`` is shaped as ``GaussianMixture.covariances_`` for
    ``covariance_type``: (K, d, d) "full", (d, d) "tied", (K, d) "diag", (K,) "spherical".
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    covariance_type: str = "full"


def as_params(params) -> MixtureParams:
    """Turn any accepted form of ``params`` into a validated :class:`MixtureParams`."""
    if isinstance(params, MixtureParams):
        out = params
    elif hasattr(params, "weights_") and hasattr(params, "covariances_"):
        out = MixtureParams(params.weights_, params.means_, params.covariances_,
                            params.covariance_type)
    elif hasattr(params, "covariance_type") and hasattr(params, "n_components"):
        raise ValueError("params is a GaussianMixture that is not fitted yet: call fit first")
    elif isinstance(params, (tuple, list)) and len(params) in (3, 4):
        out = MixtureParams(*params)
    else:
        raise TypeError(
            "params must be a MixtureParams, a fitted GaussianMixture or a tuple "
            f"(weights, means, covariances[, covariance_type]); got {type(params).__name__}"
        )
    if not isinstance(out.covariance_type, str) or out.covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"params.covariance_type must be one of {COVARIANCE_TYPES}, "
                         f"got {out.covariance_type!r}")
    ct = check_covariance_type(out.covariance_type)
    means = _param_array(out.means, "params.means")
    if means.ndim != 2 or 0 in means.shape:
        raise ValueError(f"params.means must have shape (K, d) with K, d >= 1, got {means.shape}")
    K, d = means.shape
    weights = _param_array(out.weights, "params.weights")
    if weights.shape != (K,):
        raise ValueError(f"params.weights must have shape ({K},), got {weights.shape}")
    weights = check_array_shape(weights, "params.weights", (K,))
    check_simplex(weights, "params.weights")
    shape = covariance_shape(ct, K, d)
    cov = _param_array(out.covariances, "params.covariances")
    if cov.shape != shape:
        raise ValueError(f"params.covariances must have shape {shape} "
                         f"for covariance_type={ct!r}, got {cov.shape}")
    # finite, symmetric and positive definite (the factors are not kept)
    _precision_cholesky(cov, ct, None, name="params.covariances")
    return MixtureParams(weights, means, cov, ct)


def _param_array(value, name) -> np.ndarray:
    """``value`` as a finite float64 array, or a TypeError/ValueError naming ``name``."""
    try:
        a = np.asarray(to_numpy(value))
    except (TypeError, ValueError):  # ragged nested sequences
        a = None
    if a is None or a.dtype.kind not in "biuf":
        kind = "complex" if a is not None and a.dtype.kind == "c" else type(value).__name__
        raise TypeError(f"{name} must be a real numeric array, got {kind}"
                        + (f" of dtype {a.dtype}" if a is not None else ""))
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return a


def _check(X, params):
    theta = as_params(params)
    X = check_data(X, name="X", dtype=np.float64)
    if X.shape[1] != theta.means.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but params.means has "
                         f"{theta.means.shape[1]}")
    return X, theta


def log_joint(X, params) -> np.ndarray:
    """``log p(x_n, z_n = k | theta) = log w_k + log N(x_n | mu_k, Sigma_k)``, shape (n, K)."""
    X, theta = _check(X, params)
    U = precision_cholesky(theta.covariances, theta.covariance_type)
    with np.errstate(divide="ignore"):
        log_w = np.log(theta.weights)
    return log_w + log_gaussian_prob(X, theta.means, U, theta.covariance_type)


def posterior(X, params) -> np.ndarray:
    """The exact posterior ``p(z_n = k | x_n, theta)`` (the E-step's ``q``), shape (n, K)."""
    lj = log_joint(X, params)
    return np.exp(normalize_log_resp(lj - logsumexp(lj, axis=1, keepdims=True)))


def log_likelihood(X, params) -> float:
    """``log p(X | theta) = sum_n log sum_k w_k N(x_n | mu_k, Sigma_k)`` (log-sum-exp)."""
    return float(logsumexp(log_joint(X, params), axis=1).sum())


def _check_q(q, shape) -> np.ndarray:
    try:
        kind = np.asarray(to_numpy(q)).dtype.kind
        if kind == "c":  # not cast to real (numpy would, with a ComplexWarning)
            raise TypeError
        q = np.asarray(to_numpy(q), dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"q must be a real numeric array of shape {shape}, got "
                        f"{type(q).__name__}") from None
    if q.shape != shape:
        raise ValueError(f"q must have shape (n_samples, n_components) = {shape}, got {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("q must not contain NaN or infinity")
    check_simplex(q, "each row of q (a distribution over the components)", axis=1)
    return q


def _xlogy_terms(q, values) -> np.ndarray:
    """``q * values`` with ``0 * anything = 0`` (so ``0 log 0 = 0`` and ``0 * -inf = 0``)."""
    with np.errstate(invalid="ignore"):
        return np.where(q > 0, q * values, 0.0)


def elbo(X, params, q) -> float:
    """Evidence lower bound ``sum_nk q_nk [log p(x_n, z_n = k | theta) - log q_nk]``.

    ``q`` : array of shape (n_samples, n_components), rows non-negative summing to 1.
    """
    lj = log_joint(X, params)
    q = _check_q(q, lj.shape)
    with np.errstate(divide="ignore", invalid="ignore"):  # -inf - -inf where q = w = 0
        return float(_xlogy_terms(q, lj - np.log(q)).sum())


def kl_to_posterior(X, params, q) -> float:
    """``KL(q || p(Z | X, theta)) = sum_nk q_nk [log q_nk - log p(z_n = k | x_n, theta)]`` >= 0."""
    lj = log_joint(X, params)
    q = _check_q(q, lj.shape)
    log_post = normalize_log_resp(lj - logsumexp(lj, axis=1, keepdims=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(_xlogy_terms(q, np.log(q) - log_post).sum())
