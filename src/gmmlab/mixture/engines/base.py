"""What every EM engine shares: the parameters, the data centred once, and the
M-step from the sufficient statistics.

An engine fits one data set ``X``. :class:`gmmlab.mixture.GaussianMixture` asks it
for the two halves of an EM iteration and nothing else:

* ``engine.e_step(params)`` -- the E-step for the parameters ``params``: returns
  ``(mean log-likelihood, stats)``, where ``stats`` holds whatever the M-step needs
  (the responsibilities, or only their weighted sums);
* ``engine.m_step(stats)`` -- the M-step: the new :class:`Params`;
* ``engine.e_step_many(params_list)`` -- several runs' E-steps at once (what
  :func:`gmmlab.mixture.fit_many` uses; an engine may do them in one pass);
* ``engine.m_step_from_resp(resp)`` -- the M-step for given responsibilities
  (initialisation);
* ``engine.log_joint(params)`` -- ``log w_k + log N(x_n | mu_k, Sigma_k)``, shape
  (n_samples, n_components): what ``predict``, ``predict_proba`` and
  ``score_samples`` read.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..._backend import Backend
from ..reference import NOT_POSITIVE_DEFINITE, _precision_cholesky

__all__ = ["Params", "Moments", "FAR_COMPONENT"]

#: A component whose squared Mahalanobis distance to the data mean exceeds this is
#: "far": the quadratic form expanded around the data mean, ``x'Px - 2 m'Px + m'Pm``,
#: would lose about ``log10`` of that distance in digits (tight clusters far apart),
#: so the engines compute its log-density and its covariance around its own mean
#: instead (exact to rounding, as the direct form ``||(x - m) U||^2``).
FAR_COMPONENT = 1e5


class Params(NamedTuple):
    """The parameters of a mixture, as the engines pass them around (numpy arrays)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


class Moments:
    """The M-step from the weighted sums of the quadratic features.

    ``S`` has shape (D, K), ``D = q + d + 1``: column k holds ``sum_n r_nk phi(x_n)``
    with ``phi(x) = (quad(x), x, 1)`` on centred data ``x`` (``quad`` is the upper
    triangle of ``x x'`` for "full"/"tied", ``x**2`` for "diag"/"spherical"). Both
    fast engines produce such sums, so they share this M-step. ``exact`` optionally
    gives, for some components, the scatter around their current mean ``c_k``
    (``sum_n r_nk (x_n - c_k)(x_n - c_k)'``), which replaces the second moments for
    them: the covariance is then computed without cancellation.
    """

    def __init__(self, d: int, covariance_type: str, reg_covar: float, backend: Backend,
                 shift: np.ndarray):
        self.d, self.covariance_type, self.reg_covar = d, covariance_type, reg_covar
        self.bk, self.shift = backend, shift
        self.quad = covariance_type in ("full", "tied")
        self.q = d * (d + 1) // 2 if self.quad else d
        self.D = self.q + d + 1
        iu = np.triu_indices(d)
        self.iu_np = iu
        self.iu = (backend.index(iu[0]), backend.index(iu[1]))
        self.diag_idx = backend.index(np.arange(d))

    def params(self, S, exact=None) -> Params:
        """M-step from ``S`` (shape (D, K)): weights, means, covariances, U."""
        bk, d, reg = self.bk, self.d, self.reg_covar
        nk = S[-1] + 10 * bk.eps  # as scikit-learn: no empty component
        mc = (S[self.q : self.q + d] / nk).T  # (K, d), centred
        K = mc.shape[0]
        if self.quad:
            second = bk.empty((K, d, d))
            Sq = S[: self.q].T
            second[:, self.iu[0], self.iu[1]] = Sq
            second[:, self.iu[1], self.iu[0]] = Sq
            if self.covariance_type == "full":
                cov = second / nk[:, None, None] - mc[:, :, None] * mc[:, None, :]
                for k, scatter in _exact_scatters(bk, mc, nk, exact):
                    cov[k] = scatter / nk[k]
            elif not exact:
                cov = (second.sum(0) - (nk[:, None] * mc).T @ mc)[None] / nk.sum()
            else:  # pooled, with the far components' scatter computed exactly
                scatter = second - nk[:, None, None] * (mc[:, :, None] * mc[:, None, :])
                for k, exact_k in _exact_scatters(bk, mc, nk, exact):
                    scatter[k] = exact_k
                cov = scatter.sum(0)[None] / nk.sum()
            cov[:, self.diag_idx, self.diag_idx] += reg
            U = self._precision_cholesky(cov)
            if self.covariance_type == "tied":
                cov, U = cov[0], U[0]
        else:
            cov = (S[: self.q] / nk).T - mc * mc
            for k, scatter in _exact_scatters(bk, mc, nk, exact):
                cov[k] = scatter / nk[k]
            cov = cov + reg
            if self.covariance_type == "spherical":
                cov = cov.mean(1)
            bad = (cov <= 0).reshape(K, -1).any(1)
            if bool(bad.any()):
                which = np.flatnonzero(bk.to_numpy(bad)).tolist()
                raise ValueError(NOT_POSITIVE_DEFINITE.format(which=which, reg=repr(reg)))
            U = 1.0 / cov**0.5
        weights = nk / nk.sum()
        to_np = bk.to_numpy
        return Params(to_np(weights), to_np(mc) + self.shift, to_np(cov), to_np(U))

    def _precision_cholesky(self, cov):
        """Batched ``U_k = L_k^-T`` of covariances of shape (K, d, d)."""
        bk = self.bk
        if bk.torch is None:
            return _precision_cholesky(cov, "full", self.reg_covar, fitting=True)
        torch = bk.torch
        L, info = torch.linalg.cholesky_ex(cov)
        if bool((info != 0).any()):
            bad = torch.nonzero(info).flatten().tolist()
            raise ValueError(NOT_POSITIVE_DEFINITE.format(which=bad, reg=repr(self.reg_covar)))
        eye = torch.eye(cov.shape[-1], dtype=bk.dtype, device=bk.device)
        return torch.linalg.solve_triangular(L, eye.expand_as(L), upper=False).mT


def _exact_scatters(bk, mc, nk, exact):
    """``(k, scatter_k)`` for the far components, from their scatter summed around
    their current mean ``c``:
    ``sum r (x - m)(x - m)' = sum r (x - c)(x - c)' - N (m - c)(m - c)'``
    (``m - c``, the step of the mean in one iteration, is small: no cancellation)."""
    for k, (c, around_c) in (exact or {}).items():
        delta = mc[k] - bk.asarray(c)
        outer = delta[:, None] * delta[None, :] if bk.asarray(around_c).ndim == 2 else delta * delta
        yield k, bk.asarray(around_c) - nk[k] * outer


def far_components(means_c, prec_chol, covariance_type) -> np.ndarray:
    """Indices of the components whose squared Mahalanobis distance from the data mean
    (``means_c`` are the means in centred coordinates) exceeds :data:`FAR_COMPONENT`."""
    m = np.asarray(means_c, dtype=np.float64)
    U = np.asarray(prec_chol, dtype=np.float64)
    if covariance_type == "full":
        a = np.einsum("kd,kde->ke", m, U)
    elif covariance_type == "tied":
        a = m @ U
    elif covariance_type == "diag":
        a = m * U
    else:
        a = m * U[:, None]
    return np.flatnonzero((a**2).sum(axis=1) > FAR_COMPONENT)


class FarComponents:
    """The far components of one E-step (see :data:`FAR_COMPONENT`), computed directly.

    ``log_joint(Xc)`` gives their ``log w_k + log N(x | k)`` from ``||(x - c_k) U_k||^2``
    (``c_k`` their mean, centred coordinates), ``add(Xc, R)`` sums their scatter
    around ``c_k`` for the M-step, and ``exact`` holds those sums for :class:`Moments`.
    """

    def __init__(self, bk: Backend, covariance_type: str, params: Params, shift, idx):
        self.bk, self.ct, self.idx = bk, covariance_type, [int(k) for k in idx]
        d = params.means.shape[1]
        U = params.precisions_cholesky
        self.c = {k: bk.asarray(params.means[k] - shift) for k in self.idx}
        if covariance_type == "tied":
            self.U = {k: bk.asarray(U) for k in self.idx}
        else:
            self.U = {k: bk.asarray(U[k]) for k in self.idx}
        self.const = {}
        with np.errstate(divide="ignore"):
            for k in self.idx:
                Uk = U if covariance_type == "tied" else U[k]
                if covariance_type in ("full", "tied"):
                    log_det = np.log(np.diag(Uk)).sum()
                elif covariance_type == "diag":
                    log_det = np.log(Uk).sum()
                else:
                    log_det = d * np.log(Uk)
                self.const[k] = float(np.log(params.weights[k]) + log_det
                                      - 0.5 * d * np.log(2 * np.pi))
        self.sums = {}

    def __bool__(self):
        return bool(self.idx)

    def _maha(self, Dk, k):
        Uk = self.U[k]
        if self.ct in ("full", "tied"):
            Y = Dk @ Uk
            return (Y * Y).sum(1)
        if self.ct == "diag":
            return (Dk * Dk) @ (Uk * Uk)
        return (Dk * Dk).sum(1) * (Uk * Uk)

    def log_joint(self, Xc_rows):
        """Rows ``len(idx)`` x ``m``: the far components' log-joints for ``Xc_rows``."""
        rows = [self.const[k] - 0.5 * self._maha(Xc_rows - self.c[k], k) for k in self.idx]
        return rows

    def add(self, Xc_rows, resp_rows):
        """Add ``sum_n r_nk (x_n - c_k)(x_n - c_k)'`` (its diagonal for "diag" and
        "spherical") over ``Xc_rows``; ``resp_rows[i]`` holds component ``idx[i]``'s
        responsibilities, shape (m,)."""
        for k, r in zip(self.idx, resp_rows):
            Dk = Xc_rows - self.c[k]
            if self.ct in ("full", "tied"):
                part = Dk.T @ (Dk * r[:, None])
            else:
                part = r @ (Dk * Dk)
            self.sums[k] = part if k not in self.sums else self.sums[k] + part

    @property
    def exact(self):
        return {k: (self.c[k], self.sums[k]) for k in self.idx if k in self.sums} or None
