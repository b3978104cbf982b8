"""The reference engine: the book's step functions, one after the other.

``GaussianMixture(engine="reference")`` fits with exactly :func:`~gmmlab.mixture.e_step`,
:func:`~gmmlab.mixture.m_step` and :func:`~gmmlab.mixture.precision_cholesky` (numpy,
float64), the loop of :func:`gmmlab.mixture.em`: slower, and the yardstick the fast
engines are tested against.
"""

from __future__ import annotations

import numpy as np

from ..._backend import Backend
from ..reference import _precision_cholesky, e_step, log_gaussian_prob, m_step
from .base import Params

__all__ = ["ReferenceEngine"]


class ReferenceEngine:
    """EM through the step functions of :mod:`gmmlab.mixture.reference`."""

    name = "reference"

    def __init__(self, X, covariance_type, reg_covar, backend: Backend):
        if not backend.is_numpy or backend.dtype != np.float64:
            raise ValueError(
                "engine='reference' runs the step functions in numpy float64; "
                f"got device={backend.device}, dtype={backend.dtype} "
                "(use engine='fast' or 'auto' for torch or float32)"
            )
        self.X, self.covariance_type, self.reg_covar = X, covariance_type, reg_covar
        self.n = X.shape[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def log_joint(self, params: Params) -> np.ndarray:
        with np.errstate(divide="ignore"):  # a weight 0 gives log 0 = -inf
            return np.log(params.weights) + log_gaussian_prob(
                self.X, params.means, params.precisions_cholesky, self.covariance_type)

    def e_step(self, params: Params):
        log_resp, mean_log_lik = e_step(self.X, params.weights, params.means,
                                        params.precisions_cholesky, self.covariance_type)
        return mean_log_lik, np.exp(log_resp)

    def e_step_many(self, params_list):
        return [self.e_step(p) for p in params_list]

    def m_step(self, resp) -> Params:
        weights, means, cov = m_step(self.X, resp, self.covariance_type, self.reg_covar)
        return Params(weights, means, cov,
                      _precision_cholesky(cov, self.covariance_type, self.reg_covar,
                                          fitting=True))

    m_step_from_resp = m_step
