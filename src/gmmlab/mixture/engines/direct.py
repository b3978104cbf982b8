"""The direct engine: EM for "full" covariances in fat products over ``X``.

Each component's quadratic form is computed as it is written,
``||(x - mu_k) U_k||^2``, for all k from one product ``[X, 1] @ [A_1 ... A_K]``
(``A_k = [U_k; -mu_k U_k]``), and the M-step's second moments as
``X' [r_1 * X ... r_K * X]``. Twice the arithmetic of the quadratic-feature form,
but compute-bound products over the ``(n, d)`` data instead of memory-bound ones
over ``Phi`` (``(n, D)``, ``D ~ d^2 / 2``) and nothing to build: faster for few
components (numpy, float64). The M-step is the quadratic-feature engine's
(:class:`~gmmlab.mixture.engines.base.Moments`), from the same sums.
"""

from __future__ import annotations

import math

import numpy as np

from ..._backend import Backend
from .base import FarComponents, Moments, Params, far_components

__all__ = ["DirectEngine", "BLOCK_ELEMENTS"]

#: Rows per block: this many elements (64 MiB) for the (rows, K * d) products.
BLOCK_ELEMENTS = 2**23


class DirectEngine:
    """EM for "full" covariances, each log-density computed directly (numpy, float64).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    covariance_type : "full"
    reg_covar : float
    backend : gmmlab._backend.Backend
        Must be numpy, float64.
    """

    name = "direct"

    def __init__(self, X, covariance_type, reg_covar, backend: Backend, *, block_elements=None):
        if covariance_type != "full" or not backend.is_numpy or backend.dtype != np.float64:
            raise ValueError(
                "the direct engine fits 'full' covariances in numpy float64; got "
                f"covariance_type={covariance_type!r}, device={backend.device}, "
                f"dtype={backend.dtype}"
            )
        self.bk = backend
        self.covariance_type = covariance_type
        self.n, self.d = n, d = X.shape
        self.shift = X.mean(axis=0)
        self.Xc = np.ascontiguousarray(X - self.shift)
        # a column of ones folds the "- mu_k U_k" of every component into the product
        self.Xa = np.hstack([self.Xc, np.ones((n, 1))])
        self.moments = Moments(d, covariance_type, reg_covar, backend, self.shift)
        self.block_elements = BLOCK_ELEMENTS if block_elements is None else block_elements

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def _blocks(self, K):
        step = max(1, self.block_elements // (K * self.d))
        for start in range(0, self.n, step):
            yield slice(start, min(start + step, self.n))

    def weight_matrix(self, params: Params):
        """``(A, const)``: ``log w_k + log N(x | k) = const_k - ||[x, 1] A_k||^2 / 2``
        in centred coordinates, ``A = [A_1 ... A_K]`` of shape (d + 1, K d)."""
        U = params.precisions_cholesky
        K, d = U.shape[0], self.d
        A = np.empty((d + 1, K, d))
        A[:d] = np.swapaxes(U, 0, 1)
        A[d] = -((params.means - self.shift)[:, None, :] @ U)[:, 0, :]
        log_det = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
        with np.errstate(divide="ignore"):
            const = np.log(params.weights) + log_det - 0.5 * d * math.log(2 * math.pi)
        return A.reshape(d + 1, K * d), const

    def _log_joint(self, rows, W):
        """Log-joints of the rows ``rows``, shape (K, m)."""
        A, const = W
        Y = self.Xa[rows] @ A
        Y = Y.reshape(Y.shape[0], -1, self.d)
        return const[:, None] - 0.5 * np.einsum("mkd,mkd->km", Y, Y)

    def _add_sums(self, rows, R, S2, S):
        """Add the M-step's sums over ``rows`` for responsibilities ``R`` (m, K)."""
        Xb = self.Xc[rows]
        m, K = R.shape
        S2 += Xb.T @ (Xb[:, None, :] * R[:, :, None]).reshape(m, K * self.d)
        S[self.moments.q : self.moments.q + self.d] += Xb.T @ R
        S[-1] += R.sum(axis=0)

    def _finish(self, S2, S):
        K = S.shape[1]
        iu = self.moments.iu_np
        S[: self.moments.q] = S2.reshape(self.d, K, self.d)[iu[0], :, iu[1]]
        return S

    def log_joint(self, params: Params) -> np.ndarray:
        """``log w_k + log N(x_n | k)``, shape (n_samples, n_components)."""
        W = self.weight_matrix(params)
        out = np.empty((self.n, len(params.weights)))
        for rows in self._blocks(len(params.weights)):
            out[rows] = self._log_joint(rows, W).T
        return out

    def e_step(self, params: Params):
        """E-step (and the M-step's sums) in one pass: ``(mean log-likelihood, stats)``."""
        W = self.weight_matrix(params)
        K = len(params.weights)
        # far components: exact log-densities already; their scatter around their mean
        far = FarComponents(self.bk, "full", params, self.shift,
                            far_components(params.means - self.shift,
                                           params.precisions_cholesky, "full"))
        S, S2 = np.zeros((self.moments.D, K)), np.zeros((self.d, K * self.d))
        total = 0.0
        for rows in self._blocks(K):
            log_px, resp_t = self.bk.normalize(self._log_joint(rows, W))
            self._add_sums(rows, resp_t.T, S2, S)
            if far:
                far.add(self.Xc[rows], [resp_t[k] for k in far.idx])
            total += float(log_px.sum())
        return total / self.n, (self._finish(S2, S), far.exact)

    def e_step_many(self, params_list):
        return [self.e_step(p) for p in params_list]  # nothing to share without Phi

    def m_step(self, stats) -> Params:
        S, exact = stats
        return self.moments.params(S, exact)

    def m_step_from_resp(self, resp) -> Params:
        K = resp.shape[1]
        S, S2 = np.zeros((self.moments.D, K)), np.zeros((self.d, K * self.d))
        for rows in self._blocks(K):
            self._add_sums(rows, resp[rows], S2, S)
        return self.moments.params(self._finish(S2, S))
