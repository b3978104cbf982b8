"""The EM algorithm for Gaussian mixtures, as the book writes it.

Chapters ``book/*/05_em`` (which shows :func:`e_step`, :func:`m_step` and
:func:`em`), ``04_mixtures``, ``06_elbo`` and ``09_em_derivation``.

Four step functions and one loop, written to be read; they follow
scikit-learn's numerics exactly (log-sum-exp, Cholesky factors of the
precisions, ``reg_covar`` on the diagonal):

* :func:`log_gaussian_prob` -- ``log N(x_n | mu_k, Sigma_k)`` for all n, k;
* :func:`e_step` -- the responsibilities ``r_nk`` and the log-likelihood;
* :func:`m_step` -- the weights, means and covariances that maximise Q;
* :func:`precision_cholesky` -- the factors ``U`` with ``U U^T = Sigma^-1``;
* :func:`em` -- the loop: from initial parameters, an E-step and an
  M-step until the log-likelihood gains less than ``tol``.

:class:`gmmlab.mixture.GaussianMixture` runs this same loop, through an
engine (:mod:`gmmlab.mixture.engines`): ``engine="reference"`` uses these
functions, the default uses faster, equivalent forms of the same steps.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from .._validation import (
    SIMPLEX_ATOL,
    check_array_shape,
    check_covariance_type,
    check_data,
    check_int,
    check_positive_float,
    check_scale,
    check_simplex,
    covariance_shape,
    to_numpy,
)

__all__ = [
    "EMResult",
    "log_gaussian_prob",
    "e_step",
    "m_step",
    "precision_cholesky",
    "em",
]

NOT_POSITIVE_DEFINITE = (
    "Fitting the mixture model failed: the covariance of component(s) "
    "{which} is not positive definite (singleton or collapsed components, "
    "duplicated points or a constant feature). Increase reg_covar (now "
    "{reg}), decrease n_components, or scale the input data X. In "
    "scikit-learn's words: Fitting the mixture model failed because some "
    "components have ill-defined empirical covariance (for instance caused "
    "by singleton or collapsed samples). Try to decrease the number of "
    "components, increase reg_covar, or scale the input data."
)


#: A covariance called directly (no fit running) that is not positive definite.
COVARIANCES_NOT_POSITIVE_DEFINITE = (
    "{name} of component(s) {which} is not positive definite (a singleton "
    "or collapsed component, duplicated points or a constant feature give "
    "such covariances): increase reg_covar (now {reg}), the value added to "
    "their diagonal, or scale the data"
)
#: Relative asymmetry ``|C_ij - C_ji| / sqrt(C_ii C_jj)`` above which a
#: covariance is not symmetric (rounding gives far less).
SYMMETRY_RTOL = 1e-6
#: Relative size of the entries below the diagonal of a Cholesky factor of a
#: precision above which it is not upper triangular (rounding gives far less).
TRIANGULAR_RTOL = 1e-10


def _check_model(X, means, precisions_cholesky, covariance_type):
    """Validated ``(X, means, U)`` for the step functions."""
    covariance_type = check_covariance_type(covariance_type)
    X = check_data(X, name="X")
    means = check_data(means, name="means")
    if means.shape[1] != X.shape[1]:
        raise ValueError(
            f"means has {means.shape[1]} features but X has {X.shape[1]}"
        )
    shape = covariance_shape(covariance_type, *means.shape)
    U = check_array_shape(precisions_cholesky, "precisions_cholesky", shape)
    diag = U if U.ndim < 2 or covariance_type == "diag" else (
        np.diagonal(U, axis1=-2, axis2=-1))
    if (diag <= 0).any():
        raise ValueError(
            "precisions_cholesky must be Cholesky factors of precisions: "
            "their diagonal (every entry, for 'diag' and 'spherical') must "
            "be > 0; build them with precision_cholesky()"
        )
    if covariance_type in ("full", "tied"):
        stack = U if covariance_type == "full" else U[None]
        below = np.abs(np.tril(stack, -1)).max(axis=(1, 2))
        bad = np.flatnonzero(
            below > TRIANGULAR_RTOL * np.abs(stack).max(axis=(1, 2)))
        if bad.size:
            raise ValueError(
                "precisions_cholesky must be upper triangular (the factors U "
                "of Sigma^-1 = U U^T that precision_cholesky() returns), got "
                f"entries below the diagonal as large as {below.max():.3g}"
                + (f" for component(s) {bad.tolist()}"
                   if covariance_type == "full" else "")
            )
    return X, means, U


def _check_log_density(log_prob, X, means, U):
    """``log_prob`` if all finite; else the squared Mahalanobis distances
    overflowed: a ValueError naming the arguments whose scale is at fault."""
    if np.isfinite(log_prob).all():
        return log_prob
    raise ValueError(
        "log N(x | mu_k, Sigma_k) overflows float64: the squared Mahalanobis "
        "distances of X to the means exceed 1.8e308 (X has entries up to "
        f"{np.abs(X).max():.3g}, the means up to {np.abs(means).max():.3g}, "
        f"precisions_cholesky up to {np.abs(U).max():.3g}); rescale X (and "
        "the means and covariances with it)"
    )


def log_gaussian_prob(X, means, precisions_cholesky, covariance_type="full"):
    """Log-densities ``log N(x_n | mu_k, Sigma_k)`` of every sample under
    every component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        Cholesky factors ``U`` of the precisions, ``Sigma_k^-1 = U_k U_k^T``;
        shaped (K, d, d) for "full", (d, d) for "tied", (K, d) for "diag",
        (K,) for "spherical".
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray of shape (n_samples, n_components)

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0]])
    >>> log_gaussian_prob(X, np.zeros((1, 2)), np.ones(1), "spherical")
    array([[-1.83787707],
           [-2.33787707]])
    """
    X, means, U = _check_model(X, means, precisions_cholesky, covariance_type)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: checked
        log_prob = _log_gaussian_prob(X, means, U, covariance_type)
    return _check_log_density(log_prob, X, means, U)


def _log_gaussian_prob(X, means, U, covariance_type):
    """:func:`log_gaussian_prob` for validated arguments."""
    d = X.shape[1]
    if covariance_type == "full":
        log_det = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
        # Mahalanobis distance: ||(x - mu_k) U_k||^2
        maha = np.stack([np.sum(((X - mu) @ Uk) ** 2, axis=1)
                         for mu, Uk in zip(means, U)], axis=1)
    elif covariance_type == "tied":
        log_det = np.log(np.diag(U)).sum()
        maha = np.stack([np.sum(((X - mu) @ U) ** 2, axis=1)
                         for mu in means], axis=1)
    elif covariance_type == "diag":
        log_det = np.log(U).sum(axis=1)
        P = U**2
        maha = ((means**2 * P).sum(axis=1) - 2.0 * X @ (means * P).T
                + X**2 @ P.T)
    else:  # spherical
        log_det = d * np.log(U)
        P = U**2
        maha = ((means**2).sum(axis=1) - 2.0 * X @ means.T
                + (X**2).sum(axis=1)[:, None]) * P
    return -0.5 * (d * math.log(2 * math.pi) + maha) + log_det


def e_step(X, weights, means, precisions_cholesky, covariance_type="full"):
    """E-step: responsibilities ``r_nk = p(z_n = k | x_n, theta)``, in logs.

    Returns
    -------
    log_resp : ndarray of shape (n_samples, n_components)
        ``log r_nk = log w_k + log N(x_n | k) - log p(x_n)``, normalised
        by log-sum-exp.
    mean_log_likelihood : float
        ``(1/N) sum_n log p(x_n | theta)``, which EM never decreases.
    """
    # Bad input: a clear error, not a numpy traceback.
    X, means, U = _check_model(
        X, means, precisions_cholesky, covariance_type
    )
    weights = _check_weights(weights, len(means))
    with np.errstate(divide="ignore"):  # a weight 0 gives log 0 = -inf
        log_joint = np.log(weights) + log_gaussian_prob(
            X, means, U, covariance_type
        )
    log_px = logsumexp(log_joint, axis=1)
    log_resp = normalize_log_resp(log_joint - log_px[:, None])
    return log_resp, float(np.mean(log_px))


def normalize_log_resp(log_resp):
    """``log_resp`` (``log_joint - logsumexp(log_joint)``), with the rows of a point
    so far from every component that ``logsumexp`` lost its last digits (log-joints
    beyond about 1e10 in magnitude, whose responsibilities then sum to up to K)
    normalised again; every other row, and so every ordinary result, unchanged."""
    with np.errstate(under="ignore"):
        sums = np.exp(log_resp).sum(axis=1)
    bad = np.abs(sums - 1.0) > SIMPLEX_ATOL
    if bad.any():
        log_resp = log_resp.copy()
        log_resp[bad] -= np.log(sums[bad])[:, None]
    return log_resp


def m_step(X, resp, covariance_type="full", reg_covar=1e-6):
    """M-step: the weights, means and covariances that maximise Q(theta)
    for the responsibilities ``resp``.

    ``N_k = sum_n r_nk``, ``w_k = N_k / sum_k N_k``,
    ``mu_k = sum_n r_nk x_n / N_k`` and
    ``Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k + reg_covar * I``
    ("tied" pools the scatter of all components, "diag" keeps its diagonal
    and "spherical" the mean of that diagonal).

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray, shaped as ``GaussianMixture.covariances_``
    """
    X, resp = _check_resp(X, resp)  # bad input: a clear error
    covariance_type = check_covariance_type(covariance_type)
    reg_covar = check_positive_float(reg_covar, "reg_covar", allow_zero=True)
    nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps  # none empty
    means = resp.T @ X / nk[:, None]
    if covariance_type == "full":
        covariances = np.empty((len(nk), X.shape[1], X.shape[1]))
        for k in range(len(nk)):
            diff = X - means[k]
            covariances[k] = (resp[:, k] * diff.T) @ diff / nk[k]
            covariances[k].flat[:: X.shape[1] + 1] += reg_covar
    elif covariance_type == "tied":
        # Pooled: sum_k sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N
        covariances = (
            (resp.sum(axis=1) * X.T) @ X - (nk * means.T) @ means
        ) / nk.sum()
        covariances.flat[:: X.shape[1] + 1] += reg_covar
    else:
        covariances = resp.T @ (X * X) / nk[:, None] - means**2 + reg_covar
        if covariance_type == "spherical":
            covariances = covariances.mean(axis=1)
    return nk / nk.sum(), means, covariances


def precision_cholesky(covariances, covariance_type="full", reg_covar=None):
    """Cholesky factors ``U`` of the precisions
    (``Sigma^-1 = U U^T``, ``U = L^-T`` where ``Sigma = L L^T``).

    ``covariances`` must be finite, shaped for ``covariance_type`` as
    ``GaussianMixture.covariances_``, symmetric ("full", "tied") and positive
    definite: otherwise a ``ValueError`` naming ``covariances`` (which says to
    increase ``reg_covar`` when a covariance is not positive definite;
    ``reg_covar``, None or a number >= 0, is only used in that message).
    """
    return _precision_cholesky(covariances, covariance_type, reg_covar)


def _precision_cholesky(covariances, covariance_type, reg_covar, *,
                        name="covariances", fitting=False):
    """:func:`precision_cholesky`, its errors naming ``name``; ``fitting``:
    called by a fit (the M-step's covariances, symmetric by construction), whose
    error is :data:`NOT_POSITIVE_DEFINITE`."""
    reg = "unknown" if reg_covar is None else repr(reg_covar)
    if reg_covar is not None and not fitting:
        check_positive_float(reg_covar, "reg_covar", allow_zero=True)
    covariance_type = check_covariance_type(covariance_type)
    shape = np.shape(to_numpy(covariances))
    ndim = {"full": 3, "tied": 2, "diag": 2, "spherical": 1}[covariance_type]
    if len(shape) != ndim or (
        covariance_type in ("full", "tied") and shape[-1] != shape[-2]
    ):
        raise ValueError(
            f"{name} has shape {shape}, which is not a "
            f"{covariance_type!r} covariance array"
        )
    if 0 in shape:
        raise ValueError(f"{name} must hold at least one component and one "
                         f"feature, got shape {shape}")
    if fitting and not np.isfinite(covariances).all():
        raise ValueError(
            "Fitting the mixture model failed: the M-step gave non-finite "
            "covariances (the scale of X overflows float64); rescale X")
    covariances = check_array_shape(covariances, name, shape)
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[None]
        if not fitting:
            _check_symmetric(stack, name, covariance_type)
        try:
            L = np.linalg.cholesky(stack)  # Sigma_k = L_k L_k^T, all k at once
        except np.linalg.LinAlgError:
            bad = [k for k, c in enumerate(stack) if not _is_pd(c)]
            raise ValueError(_not_pd_message(name, bad, reg, fitting)) from None
        # U_k = L_k^-T by one batched solve (small LAPACK calls are slower)
        eye = np.eye(stack.shape[-1], dtype=stack.dtype)
        U = np.triu(np.linalg.solve(L, eye).swapaxes(1, 2))
        return U if covariance_type == "full" else U[0]
    bad = np.flatnonzero(
        np.reshape(covariances <= 0, (len(covariances), -1)).any(axis=1)
    )
    if bad.size:
        raise ValueError(_not_pd_message(name, bad.tolist(), reg, fitting))
    return 1.0 / np.sqrt(covariances)


def _not_pd_message(name, which, reg, fitting):
    if fitting:
        return NOT_POSITIVE_DEFINITE.format(which=which, reg=reg)
    return COVARIANCES_NOT_POSITIVE_DEFINITE.format(name=name, which=which,
                                                    reg=reg)


def _check_symmetric(stack, name, covariance_type):
    """A ValueError naming ``name`` unless every matrix of ``stack`` (K, d, d)
    is symmetric to :data:`SYMMETRY_RTOL` (relative to its diagonal)."""
    asym = np.abs(stack - np.swapaxes(stack, 1, 2))
    scale = np.sqrt(np.abs(np.diagonal(stack, axis1=1, axis2=2)))
    rtol = max(SYMMETRY_RTOL, 100 * float(np.finfo(stack.dtype).eps))
    bad = np.flatnonzero(
        (asym > rtol * scale[:, :, None] * scale[:, None, :]).any(axis=(1, 2)))
    if bad.size:
        where = f" (component(s) {bad.tolist()})" if covariance_type == "full" else ""
        raise ValueError(
            f"{name} must be symmetric{where}: got |C_ij - C_ji| up to "
            f"{asym.max():.3g}; a covariance matrix equals its transpose"
        )


class EMResult(NamedTuple):
    """What :func:`em` returns."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihoods: list
    converged: bool


def em(X, weights, means, covariances, covariance_type="full", *,
       reg_covar=1e-6, tol=1e-3, max_iter=100):
    """The EM algorithm, from initial parameters.

    Repeats an E-step and an M-step until the mean log-likelihood gains
    less than ``tol`` (or ``max_iter`` times). ``GaussianMixture.fit``
    runs this loop.

    Returns
    -------
    EMResult
        ``(weights, means, covariances, log_likelihoods, converged)``;
        ``log_likelihoods[t]`` is the mean log-likelihood of the parameters
        after ``t`` M-steps (it never decreases).

    Examples
    --------
    >>> from gmmlab.data import load_old_faithful
    >>> X = load_old_faithful()
    >>> start = m_step(X, np.eye(2)[(X[:, 0] > 3).astype(int)])
    >>> result = em(X, *start, tol=1e-6)
    >>> result.converged, len(result.log_likelihoods)
    (True, 4)
    """
    tol = check_positive_float(tol, "tol", allow_zero=True)
    max_iter = check_int(max_iter, "max_iter", low=0)
    _check_em(X, weights, means, covariances, covariance_type, reg_covar)
    history, converged = [], False
    for _ in range(max_iter):
        U = precision_cholesky(covariances, covariance_type, reg_covar)
        log_resp, log_lik = e_step(X, weights, means, U, covariance_type)
        weights, means, covariances = m_step(X, np.exp(log_resp),
                                             covariance_type, reg_covar)
        history.append(log_lik)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            converged = True
            break
    return EMResult(weights, means, covariances, history, converged)


def _is_pd(matrix) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _check_weights(weights, n_components: int) -> np.ndarray:
    w = check_array_shape(weights, "weights", (n_components,))
    return check_simplex(w, "weights")


def _check_resp(X, resp) -> tuple[np.ndarray, np.ndarray]:
    X = check_data(X, name="X")
    check_scale(X)  # the M-step sums squares of X
    resp = check_data(resp, name="resp")
    if resp.shape[0] != X.shape[0]:
        raise ValueError(
            f"resp has {resp.shape[0]} rows but X has {X.shape[0]} samples"
        )
    if (resp < 0).any():
        raise ValueError(
            "resp must be responsibilities (>= 0), got a negative entry"
        )
    # a row: the probabilities that one sample belongs to each component
    # (sum 1; less, or a row of zeros, leaves the sample partly or wholly out)
    sums = resp.sum(axis=1)
    atol = max(SIMPLEX_ATOL, float(np.finfo(resp.dtype).eps) * resp.shape[1])
    if resp.size and sums.max() > 1.0 + atol:
        raise ValueError(
            "resp must be responsibilities: each row sums to at most 1, got "
            f"a row summing to {sums.max():.10g}"
        )
    if not (sums > 0).any():
        raise ValueError(
            "resp must assign some sample to a component: it is all zeros, "
            "which leaves the weights, means and covariances undefined"
        )
    return X, resp


def _check_em(X, weights, means, covariances, covariance_type, reg_covar):
    """Every argument of :func:`em`, checked before its first step."""
    covariance_type = check_covariance_type(covariance_type)
    check_positive_float(reg_covar, "reg_covar", allow_zero=True)
    X = check_data(X, name="X")
    check_scale(X)
    means = check_data(means, name="means")
    if means.shape[1] != X.shape[1]:
        raise ValueError(
            f"means has {means.shape[1]} features but X has {X.shape[1]}"
        )
    _check_weights(weights, len(means))
    shape = covariance_shape(covariance_type, *means.shape)
    if np.shape(to_numpy(covariances)) != shape:
        raise ValueError(
            f"covariances must have shape {shape} for covariance_type="
            f"{covariance_type!r} and means of shape {means.shape}, got "
            f"{np.shape(to_numpy(covariances))}"
        )
    _precision_cholesky(covariances, covariance_type, reg_covar)
