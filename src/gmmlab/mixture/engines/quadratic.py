"""The quadratic-feature engine: EM as two matrix products per iteration.

Every log-density of a Gaussian mixture is an affine function of the quadratic
features ``phi(x) = (quad(x), x, 1)`` (``quad(x)``: the upper triangle of ``x x'``
for "full"/"tied", ``x**2`` for "diag"/"spherical"), so

* the E-step's ``log w_k + log N(x | mu_k, Sigma_k)`` for all n, k is one product
  ``Phi(X) W`` (:meth:`QuadraticFeatureEngine.weight_matrix` builds ``W``), and
* the M-step needs only ``S = Phi(X)' R``: the weighted counts, first and second
  moments (:class:`~gmmlab.mixture.engines.base.Moments` turns them into parameters).

``X`` is centred on its mean first. The expanded quadratic form
``x'Px - 2 m'Px + m'Pm`` still loses digits for a component far from that mean
compared with its own spread (tight clusters far apart): such components
(:data:`~gmmlab.mixture.engines.base.FAR_COMPONENT`) are computed directly, around
their own mean, so the log-densities stay exact to rounding (``tests/test_mixture.py``
checks it against the direct form). Many runs share one pass over ``Phi``
(:meth:`e_step_many`), which is what makes :func:`gmmlab.mixture.fit_many` fast.
Runs in numpy or in torch (any device).
"""

from __future__ import annotations

import math

import numpy as np

from ..._backend import Backend, ChunkPool
from .base import FarComponents, Moments, Params, far_components

__all__ = ["QuadraticFeatureEngine", "MAX_FEATURE_BYTES", "CHUNK_BYTES"]

#: Largest ``Phi(X)`` kept in memory (bytes); beyond it the features are recomputed
#: block by block at each iteration.
MAX_FEATURE_BYTES = 1.25 * 2**30
#: Size of one block of ``Phi(X)`` when it is recomputed at each iteration (bytes).
CHUNK_BYTES = 64 * 2**20


class QuadraticFeatureEngine:
    """EM on the features ``phi(x)`` of ``X`` (see the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
    backend : gmmlab._backend.Backend
    """

    name = "fast"

    def __init__(self, X, covariance_type, reg_covar, backend: Backend, *,
                 max_feature_bytes=None, chunk_bytes=None):
        self.bk = bk = backend
        self.covariance_type = covariance_type
        self.n, self.d = n, d = X.shape
        self.shift = X.mean(axis=0)
        Xc = np.ascontiguousarray(X - self.shift)
        self.Xc = bk.asarray(Xc)
        self.moments = Moments(d, covariance_type, reg_covar, bk, self.shift)
        self.quad, self.q, self.D = self.moments.quad, self.moments.q, self.moments.D
        self.pool = None
        # A feature that is 0 for every sample once centred (a dead ReLU unit, a blank
        # pixel) makes rows of Phi that are 0 everywhere; they add nothing to either
        # product, so Phi keeps only the other rows (``phi_rows``: their places in W, S).
        alive = np.flatnonzero(np.any(Xc != 0, axis=0))
        self.alive = alive if alive.size < d else None
        rows = self._phi_rows(alive) if self.alive is not None else None
        self.phi_rows = None if rows is None else bk.index(rows)
        self.n_rows = self.D if rows is None else rows.size
        # Phi(X) is stored transposed and contiguous, (n_rows, n), when it fits: two
        # large GEMMs per iteration. Otherwise it is rebuilt block by block.
        max_bytes = MAX_FEATURE_BYTES if max_feature_bytes is None else max_feature_bytes
        size = n * self.n_rows * bk.itemsize
        self.chunk = n if size <= max_bytes else max(
            1, int((CHUNK_BYTES if chunk_bytes is None else chunk_bytes)
                   // (self.n_rows * bk.itemsize)))
        self.blocks = None
        if self.chunk == n:
            with ChunkPool(limit_blas=False) as pool:
                self.blocks = [(slice(0, n), self.features_t(self.Xc, pool))]

    def __enter__(self):
        self._pool_context = ChunkPool(limit_blas=False)
        self.pool = self._pool_context.__enter__()
        return self

    def __exit__(self, *exc):
        self._pool_context.__exit__(*exc)
        self.pool = None

    # -- the features ---------------------------------------------------------------

    def _phi_rows(self, alive):
        """Places in ``phi`` (length D) of the entries made of the features ``alive``."""
        if self.quad:
            starts = np.concatenate([[0], np.cumsum(np.arange(self.d, 0, -1))])
            quad = [starts[i] + (j - i) for s, i in enumerate(alive) for j in alive[s:]]
        else:
            quad = list(alive)
        return np.array(quad + [self.q + i for i in alive] + [self.D - 1])

    def features_t(self, Xc, pool=None):
        """``Phi(Xc)`` transposed, shape (n_rows, m), for centred rows ``Xc``; only the
        rows ``phi_rows`` of the full Phi when some features are constant."""
        bk = self.bk
        if self.alive is not None:
            Xc = Xc[:, bk.index(self.alive)]
        m, d = Xc.shape
        q = d * (d + 1) // 2 if self.quad else d
        XT = bk.transpose(Xc)
        out = bk.empty((q + d + 1, m))
        if self.quad:
            starts = np.concatenate([[0], np.cumsum(np.arange(d, 0, -1))])

            def quad_rows(rows):  # row i of the upper triangle: x_i * x_j, j >= i
                for i in rows:
                    out[starts[i] : starts[i + 1]] = XT[i] * XT[i:]

            pool = pool or self.pool
            if bk.is_numpy and pool is not None and pool.n_threads > 1 and m * q >= 2**20:
                t = pool.n_threads  # threads fill (and page in) Phi in parallel
                pool.map(quad_rows, [range(s, d, t) for s in range(t)])
            else:
                quad_rows(range(d))
        else:
            out[:d] = XT * XT
        out[q : q + d] = XT
        out[-1] = 1.0
        return out

    def chunks(self):
        """Blocks ``(rows, Phi[rows]')`` covering all samples."""
        if self.blocks is not None:
            return iter(self.blocks)
        return ((slice(s, min(s + self.chunk, self.n)),
                 self.features_t(self.Xc[s : s + self.chunk]))
                for s in range(0, self.n, self.chunk))

    def _live(self, W):
        """The rows of ``W`` (shape (D, K)) that meet the stored rows of Phi."""
        return W if self.phi_rows is None else W[self.phi_rows]

    def _full(self, S):
        """``S`` (shape (n_rows, K)) back to all D rows, zeros for the dropped ones."""
        if self.phi_rows is None:
            return S
        full = self.bk.zeros((self.D, S.shape[1]))
        full[self.phi_rows] = S
        return full

    # -- parameters -> weight matrix ------------------------------------------------

    def weight_matrix(self, params: Params):
        """``W`` of shape (D, K) with ``Phi @ W = log w_k + log N(x | mu_k, Sigma_k)``."""
        bk, d, mo = self.bk, self.d, self.moments
        weights = bk.asarray(params.weights)
        prec_chol = bk.asarray(params.precisions_cholesky)
        mc = bk.asarray(params.means - self.shift)  # means in centred coordinates
        K = mc.shape[0]
        W = bk.empty((self.D, K))
        if self.quad:
            U = prec_chol if self.covariance_type == "full" else prec_chol[None]
            P = U @ bk.swap_last(U)
            P = P.expand(K, d, d) if bk.torch is not None else np.broadcast_to(P, (K, d, d))
            Pm = (P @ mc[:, :, None])[:, :, 0]  # P_k mu_k
            log_det = bk.log(U[:, mo.diag_idx, mo.diag_idx]).sum(1)
            coef = P[:, mo.iu[0], mo.iu[1]]  # (K, q): P_ij for i <= j
            diag = mo.iu[0] == mo.iu[1]
            W[: self.q] = (-(coef * (1.0 - 0.5 * diag))).T  # -P_ii/2 and -P_ij (i < j)
        else:
            P = prec_chol**2
            if self.covariance_type == "spherical":
                P = P[:, None] * bk.asarray(np.ones(d))
                log_det = d * bk.log(prec_chol)
            else:
                log_det = bk.log(prec_chol).sum(1)
            Pm = P * mc
            W[: self.q] = (-0.5 * P).T
        W[self.q : self.q + d] = Pm.T
        W[-1] = (-0.5 * (mc * Pm).sum(1) + log_det - 0.5 * d * math.log(2 * math.pi)
                 + bk.log(weights))
        return W

    def _far(self, params: Params) -> FarComponents:
        idx = far_components(params.means - self.shift, params.precisions_cholesky,
                             self.covariance_type)
        return FarComponents(self.bk, self.covariance_type, params, self.shift, idx)

    # -- the two steps --------------------------------------------------------------

    def log_joint(self, params: Params) -> np.ndarray:
        """``log w_k + log N(x_n | k)``, shape (n_samples, n_components), float64."""
        W, far = self.weight_matrix(params), self._far(params)
        out = np.empty((self.n, len(params.weights)))
        Wt = self._live(W).T
        for rows, phi_t in self.chunks():
            log_joint = Wt @ phi_t
            for k, row in zip(far.idx, far.log_joint(self.Xc[rows])):
                log_joint[k] = row
            out[rows] = self.bk.to_numpy(log_joint).T
        return out

    def e_step(self, params: Params):
        """E-step (and the M-step's sums) in one pass: ``(mean log-likelihood, stats)``."""
        return self.e_step_many([params])[0]

    def e_step_many(self, params_list):
        """:meth:`e_step` for several EM runs at once (see :func:`fit_many`).

        The runs' weight matrices side by side make *one* product over ``Phi`` for all
        their E-steps and one for all their M-steps: each run's columns are exactly
        what it alone would compute, but ``Phi`` (the large, memory-bound operand) is
        read once per iteration for all runs, in products fat enough to run near the
        machine's peak. Returns ``[(mean log-likelihood, stats)]``, one per run.
        """
        bk = self.bk
        Ws = [self.weight_matrix(p) for p in params_list]
        fars = [self._far(p) for p in params_list]
        bounds = np.cumsum([0] + [W.shape[1] for W in Ws])
        Wt = self._live(Ws[0] if len(Ws) == 1 else bk.concat(Ws)).T
        S = bk.zeros((self.n_rows, int(bounds[-1])))
        totals = np.zeros(len(Ws))
        runs = list(enumerate(zip(bounds[:-1], bounds[1:])))
        parallel = self.pool is not None and bk.is_numpy and len(Ws) > 1
        for rows, phi_t in self.chunks():
            log_joint = Wt @ phi_t  # all runs' E-steps, shape (sum K, m)
            resp_t = log_joint if len(Ws) == 1 else bk.empty(log_joint.shape)

            def normalize(run):  # each run its own log-sum-exp
                i, (a, b) = run
                far = fars[i]
                if far:
                    Xr = self.Xc[rows]
                    for k, row in zip(far.idx, far.log_joint(Xr)):
                        log_joint[a + k] = row
                log_px, _ = bk.normalize(log_joint[a:b], out=resp_t[a:b])
                if far:
                    far.add(Xr, [resp_t[a + k] for k in far.idx])
                totals[i] += float(log_px.sum())

            if parallel:  # numpy's exp and sums release the GIL: runs in parallel
                self.pool.map(normalize, runs)
            else:
                list(map(normalize, runs))
            S += phi_t @ resp_t.T  # all runs' M-step sums
        S = self._full(S)
        return [(float(totals[i] / self.n), (S[:, a:b], fars[i].exact)) for i, (a, b) in runs]

    def m_step(self, stats) -> Params:
        """M-step from the sums of :meth:`e_step`."""
        S, exact = stats
        return self.moments.params(S, exact)

    def m_step_from_resp(self, resp) -> Params:
        """M-step for given responsibilities ``resp`` (n_samples, K) (initialisation)."""
        R = self.bk.asarray(resp)
        S = self.bk.zeros((self.n_rows, R.shape[1]))
        for rows, phi_t in self.chunks():
            S += phi_t @ R[rows]
        return self.moments.params(self._full(S))
