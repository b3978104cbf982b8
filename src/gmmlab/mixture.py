"""Gaussian mixture models fitted by the EM algorithm.

Used by the chapters "Gaussian mixtures, EM and the variational view"
(``book/*/04_mixtures``, ``05_em``, ``06_elbo``), the assignment's EM derivation
(``book/*/09_em_derivation``) and its out-of-distribution detector (``book/*/07_ood``).

The module has three parts:

* **Step functions** the book shows and calls one at a time, written to be read:
  :func:`log_gaussian_prob`, :func:`e_step`, :func:`m_step` and
  :func:`precision_cholesky`. They follow scikit-learn's numerics exactly
  (log-sum-exp, Cholesky factors of the precisions, ``reg_covar`` on the diagonal).
* :class:`GaussianMixture`, a scikit-learn-compatible estimator (same parameters,
  accepted values, fitted attributes and convergence rule as
  ``sklearn.mixture.GaussianMixture`` 1.9) whose EM loop runs the *same* updates in a
  faster, equivalent form: every log-density is an affine function of the quadratic
  features ``phi(x) = (x_i x_j for i <= j, x, 1)``, so the E-step's
  ``log w_k + log N(x | mu_k, Sigma_k)`` for all components is one matrix product
  ``Phi(X) @ W`` and the M-step's weighted sums ``sum_n r_nk phi(x_n)`` are one
  product ``Phi(X).T @ R``. ``X`` is centred first (on its mean) so the expanded
  quadratic forms do not lose precision. With few "full" components a direct form
  (one product ``X @ [U_1 ... U_K]``, no ``Phi``) is faster and is used instead
  (:data:`DIRECT_MAX_COMPONENTS`).
* :func:`fit_many` fits several estimators on the same data together (a sweep over
  K): each runs its own EM, but one iteration of all of them is one pair of matrix
  products over ``Phi``. (:func:`reuse_features` instead lets fits one after the
  other share ``Phi``.) The tests check the engines and :func:`fit_many` against
  the step functions, each other and scikit-learn; ``benchmarks/gmm_sweep.py``
  measures them against scikit-learn.

Parameters are numpy ``float64`` arrays by default; ``device``/``dtype`` run the
engine in torch (``device="cuda"`` or ``"cpu"``).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning

from ._validation import (
    check_data,
    check_fitted,
    check_int,
    check_list,
    check_positive_float,
    check_random_state,
    to_numpy,
)
from .kmeans import _n_threads

__all__ = [
    "COVARIANCE_TYPES",
    "INIT_PARAMS",
    "GaussianMixture",
    "log_gaussian_prob",
    "e_step",
    "m_step",
    "precision_cholesky",
    "reuse_features",
    "fit_many",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")

#: Largest quadratic-feature matrix ``Phi(X)`` kept in memory during ``fit`` (bytes);
#: beyond it the features are recomputed chunk by chunk at each iteration.
MAX_FEATURE_BYTES = 1.25 * 2**30
#: Size of one block of ``Phi(X)`` when it is recomputed at each iteration (bytes).
CHUNK_BYTES = 64 * 2**20
#: Up to this many components, "full" mixtures fitted with numpy skip ``Phi(X)`` and
#: compute each component's quadratic form directly (faster for few components; measured
#: by ``benchmarks/gmm_sweep.py``).
DIRECT_MAX_COMPONENTS = 8
#: Rows per block in that direct form: this many elements (64 MiB) for the
#: (rows, K * d) intermediate products.
DIRECT_BLOCK_ELEMENTS = 2**23

_NOT_PD = (
    "Fitting the mixture model failed: the covariance of component(s) {which} is not "
    "positive definite (singleton or collapsed components, duplicated points or a "
    "constant feature). Increase reg_covar (now {reg}), decrease n_components, or "
    "scale the input data."
)


def _dtype_name(dtype) -> str:
    """'float64' or 'float32' for None, a name, a numpy or a torch dtype; else ValueError."""
    if dtype is None:
        return "float64"
    name = str(dtype).replace("torch.", "")
    if name not in ("float64", "float32"):
        try:
            name = np.dtype(dtype).name
        except TypeError:
            pass
    if name not in ("float64", "float32"):
        raise ValueError(f"dtype must be float64 or float32 (or None), got {dtype!r}")
    return name


def _check_covariance_type(covariance_type) -> str:
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}"
        )
    return covariance_type


def _precision_shape(covariance_type: str, K: int, d: int) -> tuple[int, ...]:
    return {"full": (K, d, d), "tied": (d, d), "diag": (K, d), "spherical": (K,)}[covariance_type]


def _check_array(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A finite float array of exactly ``shape``, or a ValueError/TypeError naming ``name``."""
    try:
        a = np.asarray(to_numpy(value))
    except ValueError:  # ragged nested lists
        a = None
    if a is None or a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array of shape {shape}, got {type(value).__name__}")
    a = a if a.dtype == np.float32 else a.astype(np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return a


def _check_step_model(X, means, precisions_cholesky, covariance_type):
    """Validated ``(X, means, U)`` for the step functions (clear errors for bad input)."""
    covariance_type = _check_covariance_type(covariance_type)
    X = check_data(X, name="X")
    means = check_data(means, name="means")
    if means.shape[1] != X.shape[1]:
        raise ValueError(f"means has {means.shape[1]} features but X has {X.shape[1]}")
    K, d = means.shape
    U = _check_array(precisions_cholesky, "precisions_cholesky", _precision_shape(covariance_type, K, d))
    diag = np.diagonal(U, axis1=-2, axis2=-1) if covariance_type in ("full", "tied") else U
    if (diag <= 0).any():
        raise ValueError(
            "precisions_cholesky must be Cholesky factors of precisions: their diagonal "
            "(every entry, for 'diag' and 'spherical') must be > 0; build them with precision_cholesky()"
        )
    return X, means, U


def _check_weights(weights, n_components: int) -> np.ndarray:
    w = _check_array(weights, "weights", (n_components,))
    if (w < 0).any() or abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(f"weights must be >= 0 and sum to 1, got sum {w.sum():.6g}, min {w.min():.3g}")
    return w


def _check_resp(X, resp) -> tuple[np.ndarray, np.ndarray]:
    X = check_data(X, name="X")
    resp = check_data(resp, name="resp")
    if resp.shape[0] != X.shape[0]:
        raise ValueError(f"resp has {resp.shape[0]} rows but X has {X.shape[0]} samples")
    if (resp < 0).any():
        raise ValueError("resp must be responsibilities (>= 0), got a negative entry")
    return X, resp


# ----------------------------------------------------------------------------------
# Step functions (the readable reference, shown in the book)
# ----------------------------------------------------------------------------------


def log_gaussian_prob(X, means, precisions_cholesky, covariance_type="full"):
    """Log-densities ``log N(x_n | mu_k, Sigma_k)`` of every sample under every component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        Cholesky factors ``U`` of the precisions, ``Sigma_k^{-1} = U_k U_k^T``; shaped
        (K, d, d) for "full", (d, d) for "tied", (K, d) for "diag", (K,) for "spherical".
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    X, means, U = _check_step_model(X, means, precisions_cholesky, covariance_type)  # clear errors
    n_features = X.shape[1]
    if covariance_type == "full":
        log_det = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
        # Mahalanobis distance: ||(x - mu_k) U_k||^2
        maha = np.stack([np.sum(((X - mu) @ Uk) ** 2, axis=1) for mu, Uk in zip(means, U)], 1)
    elif covariance_type == "tied":
        log_det = np.log(np.diag(U)).sum()
        maha = np.stack([np.sum(((X - mu) @ U) ** 2, axis=1) for mu in means], axis=1)
    elif covariance_type == "diag":
        log_det = np.log(U).sum(axis=1)
        P = U**2
        maha = (means**2 * P).sum(axis=1) - 2.0 * X @ (means * P).T + X**2 @ P.T
    else:  # spherical
        log_det = n_features * np.log(U)
        P = U**2
        maha = ((means**2).sum(axis=1) - 2.0 * X @ means.T + (X**2).sum(axis=1)[:, None]) * P
    return -0.5 * (n_features * math.log(2 * math.pi) + maha) + log_det


def e_step(X, weights, means, precisions_cholesky, covariance_type="full"):
    """E-step: responsibilities ``r_nk = p(z_n = k | x_n, theta)``, in logs.

    Returns
    -------
    log_resp : ndarray of shape (n_samples, n_components)
        ``log r_nk = log w_k + log N(x_n | k) - log p(x_n)``, normalised
        by log-sum-exp.
    mean_log_likelihood : float
        ``(1/n) sum_n log p(x_n | theta)``, the quantity EM never decreases.
    """
    # Bad input: a clear error, not a numpy traceback.
    X, means, U = _check_step_model(
        X, means, precisions_cholesky, covariance_type
    )
    weights = _check_weights(weights, len(means))
    with np.errstate(divide="ignore"):  # a weight 0 gives log 0 = -inf
        log_joint = np.log(weights) + log_gaussian_prob(
            X, means, U, covariance_type
        )
    log_px = logsumexp(log_joint, axis=1)
    return log_joint - log_px[:, None], float(np.mean(log_px))


def m_step(X, resp, covariance_type="full", reg_covar=1e-6):
    """M-step: the weights, means and covariances that maximise Q(theta)
    for the responsibilities ``resp``.

    ``N_k = sum_n r_nk``, ``w_k = N_k / sum_k N_k``,
    ``mu_k = sum_n r_nk x_n / N_k`` and
    ``Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k + reg_covar * I``
    ("tied" pools the scatter of all components, "diag" keeps its diagonal and
    "spherical" the mean of that diagonal).

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray, shaped as ``GaussianMixture.covariances_``
    """
    X, resp = _check_resp(X, resp)  # bad input: a clear error
    covariance_type = _check_covariance_type(covariance_type)
    reg_covar = check_positive_float(reg_covar, "reg_covar", allow_zero=True)
    nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps  # no empty component
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
    """Cholesky factors ``U`` of the precisions (``Sigma^{-1} = U U^T``, ``U = L^{-T}``).

    Raises a ``ValueError`` saying to increase ``reg_covar`` when a covariance is
    not positive definite (``reg_covar`` is only used in that message).
    """
    reg = "unknown" if reg_covar is None else repr(reg_covar)
    covariance_type = _check_covariance_type(covariance_type)
    shape = np.shape(to_numpy(covariances))
    if len(shape) != {"full": 3, "tied": 2, "diag": 2, "spherical": 1}[covariance_type] or (
        covariance_type in ("full", "tied") and shape[-1] != shape[-2]
    ):
        raise ValueError(f"covariances has shape {shape}, which is not a {covariance_type!r} covariance array")
    covariances = _check_array(covariances, "covariances", shape)
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[None]
        try:
            L = np.linalg.cholesky(stack)  # Sigma_k = L_k L_k^T, all k at once
        except np.linalg.LinAlgError:
            bad = [k for k, c in enumerate(stack) if not _is_positive_definite(c)]
            raise ValueError(_NOT_PD.format(which=bad, reg=reg)) from None
        # U_k = L_k^{-T}; one batched solve (a loop of small LAPACK calls is far slower)
        U = np.triu(np.linalg.solve(L, np.eye(stack.shape[-1], dtype=stack.dtype)).swapaxes(1, 2))
        return U if covariance_type == "full" else U[0]
    bad = np.flatnonzero(np.reshape(covariances <= 0, (len(covariances), -1)).any(axis=1))
    if bad.size:
        raise ValueError(_NOT_PD.format(which=bad.tolist(), reg=reg))
    return 1.0 / np.sqrt(covariances)


def _is_positive_definite(matrix) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _precision_cholesky_from_precisions(precisions, covariance_type):
    """``U`` upper triangular with ``U U^T = precision`` (scikit-learn's convention)."""
    if covariance_type in ("full", "tied"):
        flip = precisions[..., ::-1, ::-1]
        return np.linalg.cholesky(flip)[..., ::-1, ::-1].copy()
    return np.sqrt(precisions)


def _covariances_from_precision_cholesky(U, covariance_type):
    if covariance_type in ("full", "tied"):
        P = U @ np.swapaxes(U, -1, -2)
        return np.linalg.inv(P)
    return 1.0 / U**2


# ----------------------------------------------------------------------------------
# The fast engine: EM in quadratic-feature form (numpy or torch)
# ----------------------------------------------------------------------------------


_shared_features: dict | None = None


@contextlib.contextmanager
def reuse_features():
    """Context in which fits on the same data share one quadratic-feature matrix ``Phi(X)``.

    A sweep over the number of components fits many mixtures on the same ``X``; inside
    this context the matrix ``Phi(X)`` that :class:`GaussianMixture` builds for its EM
    (see the module docstring) is computed once and reused while the data stay the same
    (recognised by a hash of their bytes). Only the last data set's matrix is kept, and
    it is released when the context exits. Results are identical with or without it.
    Used by :func:`gmmlab.ood.sweep_n_components` and ``benchmarks/gmm_sweep.py``.

    Examples
    --------
    >>> from gmmlab.data import make_gaussian_mixture
    >>> X = make_gaussian_mixture(500, n_components=3, random_state=0).X
    >>> with reuse_features():
    ...     bics = [GaussianMixture(k, random_state=0).fit(X).bic(X) for k in (9, 10)]
    """
    global _shared_features
    outer = _shared_features
    if outer is None:
        _shared_features = {}
    try:
        yield
    finally:
        if outer is None:
            _shared_features = None


class _Backend:
    """The few array operations the engine needs, for numpy or torch."""

    def __init__(self, device=None, dtype=None):
        self.torch = None
        if device is not None:
            import torch

            self.torch = torch
            self.device = torch.device(device)
            self.dtype = getattr(torch, _dtype_name(dtype))
        else:
            self.dtype = np.dtype(_dtype_name(dtype))

    def asarray(self, a):
        if self.torch is None:
            return np.ascontiguousarray(a, dtype=self.dtype)
        return self.torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)

    def to_numpy(self, a):
        return a if self.torch is None else a.detach().cpu().numpy()

    def empty(self, shape):
        if self.torch is None:
            return np.empty(shape, dtype=self.dtype)
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def index(self, idx):
        return idx if self.torch is None else self.torch.as_tensor(idx, device=self.device)

    def log(self, a):
        return np.log(a) if self.torch is None else self.torch.log(a)

    def concat(self, arrays):
        """Arrays of shape (D, K_i) side by side: (D, sum K_i)."""
        if self.torch is None:
            return np.concatenate(arrays, axis=1)
        return self.torch.cat(arrays, dim=1)

    def zeros(self, shape):
        if self.torch is None:
            return np.zeros(shape, dtype=self.dtype)
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

    def normalize(self, log_joint, out=None):
        """``(log p(x), responsibilities)`` from log-joints of shape (K, m), by log-sum-exp
        (the responsibilities written into ``out`` when given)."""
        if self.torch is not None:
            log_px = self.torch.logsumexp(log_joint, dim=0)
            return log_px, self.torch.exp(log_joint - log_px[None, :], out=out)
        top = log_joint.max(axis=0)
        top = np.where(np.isfinite(top), top, 0.0)
        resp = np.exp(np.subtract(log_joint, top, out=out), out=out)
        total = resp.sum(axis=0)
        resp /= total  # the same exp serves both outputs
        return np.log(total) + top, resp

    def precision_cholesky(self, covariances, reg_covar):
        """Batched ``U_k = L_k^{-T}``; ``covariances`` has shape (K, d, d)."""
        if self.torch is None:
            return precision_cholesky(covariances, "full", reg_covar)
        torch = self.torch
        L, info = torch.linalg.cholesky_ex(covariances)
        if bool((info != 0).any()):
            bad = torch.nonzero(info).flatten().tolist()
            raise ValueError(_NOT_PD.format(which=bad, reg=repr(reg_covar)))
        eye = torch.eye(covariances.shape[-1], dtype=self.dtype, device=self.device)
        return torch.linalg.solve_triangular(L, eye.expand_as(L), upper=False).mT


class _QuadraticFeatureEM:
    """EM for a Gaussian mixture written on the features ``phi(x) = (quad(x), x, 1)``.

    ``quad(x)`` is the upper triangle of ``x x^T`` ("full", "tied") or ``x**2``
    ("diag", "spherical"), computed on ``x - shift`` with ``shift`` the mean of ``X``.
    ``log w_k + log N(x | mu_k, Sigma_k) = phi(x) . W[:, k]`` and the M-step needs
    only ``S = Phi(X)^T R`` (the weighted counts, first and second moments).
    """

    def __init__(self, X, covariance_type, reg_covar, backend: _Backend):
        self.bk = bk = backend
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.n, self.d = n, d = X.shape
        self.shift = X.mean(axis=0)
        self.Xc_np = np.ascontiguousarray(X - self.shift)
        self.Xc = bk.asarray(self.Xc_np)
        self.quad = covariance_type in ("full", "tied")
        self.diag_idx = bk.index(np.arange(d))
        if self.quad:
            iu = np.triu_indices(d)
            self.iu = (bk.index(iu[0]), bk.index(iu[1]))
            self.q = len(iu[0])
        else:
            self.q = d
        self.D = self.q + d + 1
        self._prepare()

    def _prepare(self):
        n, bk = self.n, self.bk
        itemsize = 8 if "64" in str(bk.dtype) else 4
        # A feature that is 0 for every sample once centred (a constant one: a dead ReLU
        # unit, a blank pixel) makes rows of Phi that are 0 everywhere; they add nothing to
        # either product, so Phi keeps only the other rows (``phi_rows``: their places in W, S).
        alive = np.flatnonzero(np.any(self.Xc_np != 0, axis=0))
        self.alive = alive if alive.size < self.d else None
        rows = self._phi_rows(alive) if self.alive is not None else None
        self.phi_rows = None if rows is None else bk.index(rows)
        self.n_rows = self.D if rows is None else rows.size
        # Phi(X) is stored transposed and contiguous, (D, n), when it fits in memory: two
        # large GEMMs per iteration (many small ones were slower, and erratic when the
        # cores are shared). Otherwise it is recomputed block by block at each iteration.
        self.blocks = None
        if n * self.n_rows * itemsize <= MAX_FEATURE_BYTES:
            self.chunk = n
            key = None
            if _shared_features is not None:  # inside reuse_features(): one Phi per data set
                key = (hashlib.blake2b(self.Xc_np).hexdigest(), self.quad, str(bk.dtype),
                       str(getattr(bk, "device", "numpy")))
                if _shared_features.get("key") == key:
                    self.blocks = _shared_features["blocks"]
                    return
            self.blocks = list(self._compute_blocks())
            if key is not None:
                _shared_features.clear()
                _shared_features.update(key=key, blocks=self.blocks)
        else:
            self.chunk = max(1, int(CHUNK_BYTES // (self.n_rows * itemsize)))

    def _phi_rows(self, alive):
        """Places in ``phi`` (of length D) of the entries made of the features ``alive`` only."""
        if self.quad:
            starts = np.concatenate([[0], np.cumsum(np.arange(self.d, 0, -1))])
            quad = [starts[i] + (j - i) for s, i in enumerate(alive) for j in alive[s:]]
        else:
            quad = list(alive)
        return np.array(quad + [self.q + i for i in alive] + [self.D - 1])

    def features_t(self, Xc):
        """``Phi(Xc)`` transposed, shape (n_rows, m), for rows ``Xc`` (already centred);
        only the rows ``phi_rows`` of the full Phi when some features are constant."""
        if self.alive is not None:
            Xc = Xc[:, self.bk.index(self.alive)]
        m, d = Xc.shape
        q = d * (d + 1) // 2 if self.quad else d
        XT = Xc.T.contiguous() if self.bk.torch is not None else np.ascontiguousarray(Xc.T)
        out = self.bk.empty((q + d + 1, m))
        if self.quad:
            starts = np.concatenate([[0], np.cumsum(np.arange(d, 0, -1))])

            def quad_rows(rows):  # row i of the upper triangle: x_i * x_j, j >= i
                for i in rows:
                    out[starts[i] : starts[i + 1]] = XT[i] * XT[i:]

            n_threads = _n_threads()
            if self.bk.torch is None and n_threads > 1 and m * q >= 2**20:
                # numpy releases the GIL: threads fill (and page in) Phi in parallel
                with ThreadPoolExecutor(n_threads) as pool:
                    list(pool.map(quad_rows, [range(t, d, n_threads) for t in range(n_threads)]))
            else:
                quad_rows(range(d))
        else:
            out[:d] = XT * XT
        out[q : q + d] = XT
        out[-1] = 1.0
        return out

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

    def _compute_blocks(self):
        for start in range(0, self.n, self.chunk):
            sl = slice(start, min(start + self.chunk, self.n))
            yield sl, self.features_t(self.Xc[sl])

    def chunks(self):
        """Blocks ``(rows, Phi[rows].T)`` covering all samples."""
        return iter(self.blocks) if self.blocks is not None else self._compute_blocks()

    # -- parameters <-> weight matrix / moments --------------------------------------

    def weight_matrix(self, weights, means, prec_chol):
        """``W`` of shape (D, K): ``Phi @ W = log w_k + log N(x | mu_k, Sigma_k)``."""
        bk, d = self.bk, self.d
        weights, prec_chol = bk.asarray(weights), bk.asarray(prec_chol)
        mc = bk.asarray(means - self.shift)  # means in centred coordinates
        K = mc.shape[0]
        W = bk.empty((self.D, K))
        if self.covariance_type in ("full", "tied"):
            U = prec_chol if self.covariance_type == "full" else prec_chol[None]
            P = U @ U.mT if bk.torch is not None else U @ np.swapaxes(U, 1, 2)
            P = P.expand(K, d, d) if bk.torch is not None else np.broadcast_to(P, (K, d, d))
            Pm = (P @ mc[:, :, None])[:, :, 0]  # P_k mu_k
            log_det = bk.log(U[:, self.diag_idx, self.diag_idx]).sum(1)
            coef = P[:, self.iu[0], self.iu[1]]  # (K, q): P_ij for i <= j
            diag = self.iu[0] == self.iu[1]
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
        W[-1] = (
            -0.5 * (mc * Pm).sum(1) + log_det - 0.5 * d * math.log(2 * math.pi) + bk.log(weights)
        )
        return W

    def parameters(self, S):
        """M-step from ``S = Phi(X)^T R`` (shape (D, K)): weights, means, covariances, U."""
        bk, d, reg = self.bk, self.d, self.reg_covar
        eps = np.finfo(bk.dtype).eps if bk.torch is None else bk.torch.finfo(bk.dtype).eps
        nk = S[-1] + 10 * eps  # as scikit-learn: no empty component
        mc = (S[self.q : self.q + d] / nk).T  # (K, d), centred
        K = mc.shape[0]
        if self.quad:
            second = bk.empty((K, d, d))
            Sq = S[: self.q].T
            second[:, self.iu[0], self.iu[1]] = Sq
            second[:, self.iu[1], self.iu[0]] = Sq
            if self.covariance_type == "full":
                cov = second / nk[:, None, None] - mc[:, :, None] * mc[:, None, :]
            else:
                cov = (second.sum(0) - (nk[:, None] * mc).T @ mc)[None] / nk.sum()
            cov[:, self.diag_idx, self.diag_idx] += reg
            U = bk.precision_cholesky(cov, reg)
            if self.covariance_type == "tied":
                cov, U = cov[0], U[0]
        else:
            cov = (S[: self.q] / nk).T - mc * mc + reg
            if self.covariance_type == "spherical":
                cov = cov.mean(1)
            bad = (cov <= 0).reshape(K, -1).any(1)
            if bool(bad.any()):
                which = np.flatnonzero(bk.to_numpy(bad)).tolist()
                raise ValueError(_NOT_PD.format(which=which, reg=repr(reg)))
            U = 1.0 / cov**0.5
        weights = nk / nk.sum()
        to_np = bk.to_numpy
        return to_np(weights), to_np(mc) + self.shift, to_np(cov), to_np(U)

    # -- the two steps ----------------------------------------------------------------

    def _log_joint_blocks(self, W):
        """``(rows, log_joint)`` block by block, ``log_joint`` of shape (K, m)."""
        Wt = self._live(W).T
        for sl, phi_t in self.chunks():
            yield sl, Wt @ phi_t

    def log_resp(self, W):
        """E-step for all samples: (log_resp as numpy array, mean log-likelihood)."""
        out = None
        total = 0.0
        for rows, log_joint in self._log_joint_blocks(W):
            log_px, _ = self.bk.normalize(log_joint)
            if out is None:
                out = np.empty((self.n, log_joint.shape[0]), dtype=np.float64)
            out[rows] = self.bk.to_numpy(log_joint - log_px[None, :]).T
            total += float(log_px.sum())
        return out, total / self.n

    def iterate(self, W):
        """One EM iteration from ``W``: (mean log-likelihood, S = Phi^T R), in one pass."""
        S = self.bk.zeros((self.n_rows, W.shape[1]))
        total = 0.0
        Wt = self._live(W).T
        for _, phi_t in self.chunks():
            log_joint = Wt @ phi_t  # E-step: log w_k + log N(x | k), shape (K, m)
            log_px, resp_t = self.bk.normalize(log_joint)
            S += phi_t @ resp_t.T  # M-step sums: (D, K)
            total += float(log_px.sum())
        return total / self.n, self._full(S)

    def iterate_many(self, Ws):
        """:meth:`iterate` for several EM runs at once (see :func:`fit_many`).

        The runs' weight matrices side by side make *one* product over ``Phi`` for all
        their E-steps and one for all their M-steps: each run's columns are exactly
        what :meth:`iterate` computes, but ``Phi`` (the large, memory-bound operand) is
        read once per iteration for all runs, and the products are fat enough to run
        near the machine's peak. Returns ``[(mean log-likelihood, S)]``, one per run.
        """
        bounds = np.cumsum([0] + [W.shape[1] for W in Ws])
        Wt = self._live(self.bk.concat(Ws)).T
        S = self.bk.zeros((self.n_rows, int(bounds[-1])))
        totals = np.zeros(len(Ws))
        runs = list(enumerate(zip(bounds[:-1], bounds[1:])))
        n_threads = min(_n_threads(), len(Ws)) if self.bk.torch is None else 1
        for _, phi_t in self.chunks():
            log_joint = Wt @ phi_t  # all runs' E-steps, shape (sum K, m)
            resp_t = self.bk.empty(log_joint.shape)

            def normalize(run):  # each run its own log-sum-exp
                i, (a, b) = run
                log_px, _ = self.bk.normalize(log_joint[a:b], out=resp_t[a:b])
                totals[i] += float(log_px.sum())

            if n_threads > 1:  # numpy's exp and sums release the GIL: runs in parallel
                with ThreadPoolExecutor(n_threads) as pool:
                    list(pool.map(normalize, runs))
            else:
                list(map(normalize, runs))
            S += phi_t @ resp_t.T  # all runs' M-step sums
        S = self._full(S)
        return [(totals[i] / self.n, S[:, a:b]) for i, (a, b) in runs]

    def moments(self, resp):
        """``S = Phi^T R`` for given responsibilities (used at initialisation)."""
        R = self.bk.asarray(resp)
        S = self.bk.zeros((self.n_rows, R.shape[1]))
        for sl, phi_t in self.chunks():
            S += phi_t @ R[sl]
        return self._full(S)


class _DirectEM(_QuadraticFeatureEM):
    """The same EM for "full" covariances without ``Phi``: each component's quadratic form
    is computed directly, ``||(x - mu_k) U_k||^2`` for all k from one product
    ``X @ [U_1 ... U_K]``, and the M-step's second moments as ``X^T [r_1 * X ... r_K * X]``.

    Twice the arithmetic of the ``Phi`` form, but in fat, compute-bound matrix products
    over a ``(n, d)`` array instead of skinny, memory-bound ones over ``Phi`` (``(n, D)``,
    ``D ~ d^2 / 2``), and nothing to build: faster for few components (numpy, float64). The
    parameters come out of :meth:`parameters` from the same ``S`` as the ``Phi`` form.
    """

    def _prepare(self):
        self.blocks = None
        self.iu_np = np.triu_indices(self.d)
        # a column of ones folds the "- mu_k U_k" of every component into the product
        self.Xa = np.hstack([self.Xc, np.ones((self.n, 1))])

    def _rows(self, K):
        step = max(1, DIRECT_BLOCK_ELEMENTS // (K * self.d))
        for start in range(0, self.n, step):
            yield slice(start, min(start + step, self.n))

    def weight_matrix(self, weights, means, prec_chol):
        """``(A, const)``: ``log w_k + log N(x | k) = const_k - ||[x, 1] A_k||^2 / 2``
        with ``A_k = [U_k; -mu_k U_k]`` (centred coordinates), ``A = [A_1 ... A_K]``."""
        K, d = prec_chol.shape[0], self.d
        A = np.empty((d + 1, K, d))
        A[:d] = np.swapaxes(prec_chol, 0, 1)
        A[d] = -((means - self.shift)[:, None, :] @ prec_chol)[:, 0, :]
        log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
        with np.errstate(divide="ignore"):
            const = np.log(weights) + log_det - 0.5 * d * math.log(2 * math.pi)
        return A.reshape(d + 1, K * d), const

    def _log_joint(self, rows, W):
        """Log-joints of the rows ``rows`` of ``Xc``, shape (K, m)."""
        A, const = W
        Y = self.Xa[rows] @ A
        Y = Y.reshape(Y.shape[0], -1, self.d)
        return const[:, None] - 0.5 * np.einsum("mkd,mkd->km", Y, Y)

    def _sums(self, rows, R, S2, S):
        """Add the sums of the M-step over ``rows`` with responsibilities ``R`` (m, K)."""
        Xb = self.Xc[rows]
        m, K = R.shape
        S2 += Xb.T @ (Xb[:, None, :] * R[:, :, None]).reshape(m, K * self.d)
        S[self.q : self.q + self.d] += Xb.T @ R
        S[-1] += R.sum(axis=0)

    def _finish(self, S2, S):
        K = S.shape[1]
        S[: self.q] = S2.reshape(self.d, K, self.d)[self.iu_np[0], :, self.iu_np[1]]
        return S

    def _log_joint_blocks(self, W):
        for rows in self._rows(W[1].shape[0]):
            yield rows, self._log_joint(rows, W)

    def iterate(self, W):
        K = W[1].shape[0]
        S, S2 = np.zeros((self.D, K)), np.zeros((self.d, K * self.d))
        total = 0.0
        for rows in self._rows(K):
            log_px, resp_t = self.bk.normalize(self._log_joint(rows, W))
            self._sums(rows, resp_t.T, S2, S)
            total += float(log_px.sum())
        return total / self.n, self._finish(S2, S)

    def iterate_many(self, Ws):
        return [self.iterate(W) for W in Ws]  # nothing to share without Phi

    def moments(self, resp):
        K = resp.shape[1]
        S, S2 = np.zeros((self.D, K)), np.zeros((self.d, K * self.d))
        for rows in self._rows(K):
            self._sums(rows, resp[rows], S2, S)
        return self._finish(S2, S)


def _engine(X, covariance_type, reg_covar, backend, n_components):
    """The faster EM engine for this problem (see :data:`DIRECT_MAX_COMPONENTS`);
    ``n_components`` counts the components of all the runs it will serve."""
    if (
        covariance_type == "full"
        and backend.torch is None
        and backend.dtype == np.float64
        and n_components <= DIRECT_MAX_COMPONENTS
    ):
        return _DirectEM(X, covariance_type, reg_covar, backend)
    return _QuadraticFeatureEM(X, covariance_type, reg_covar, backend)


# ----------------------------------------------------------------------------------
# The estimator
# ----------------------------------------------------------------------------------


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with scikit-learn's API and numerics.

    Chapters: "Gaussian mixtures, EM and the variational view" (``book/*/04_mixtures``,
    ``05_em``, ``06_elbo``), the EM derivation (``book/*/09_em_derivation``) and the
    out-of-distribution detector (``book/*/07_ood``).

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components K (>= 1).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    tol : float, default=1e-3
        EM stops when the mean log-likelihood gains less than ``tol`` (in absolute
        value) in an iteration. ``tol=0`` runs exactly ``max_iter`` iterations.
    reg_covar : float, default=1e-6
        Non-negative number added to the diagonal of every covariance.
    max_iter : int, default=100
        Maximum number of EM iterations (0: only initialise).
    n_init : int, default=1
        Number of initialisations; the one with the largest final lower bound is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        How the initial responsibilities are made: hard labels of
        :class:`gmmlab.kmeans.KMeans`; one-hot on the points chosen by
        :func:`gmmlab.kmeans.kmeans_plusplus`; uniform random rows normalised to 1;
        one-hot on ``n_components`` distinct random points.
    weights_init : array-like of shape (n_components,), optional
    means_init : array-like of shape (n_components, n_features), optional
    precisions_init : array-like, optional
        Initial precisions (inverse covariances), shaped (K, d, d) for "full",
        (d, d) for "tied", (K, d) for "diag", (K,) for "spherical".
    random_state : int, RandomState or None
        Seeds the initialisation and :meth:`sample`.
    warm_start : bool, default=False
        Start a new ``fit`` from the previous solution (``n_init`` is then ignored).
    device : str or torch.device, optional
        Run EM in torch on this device ("cpu", "cuda"); default: numpy.
    dtype : optional
        Floating type of the computation (default float64; float32 is faster on
        GPUs but far less accurate).

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_ : ndarray
        Fitted parameters, shaped as in scikit-learn; always float64 numpy arrays
        (also after a torch or float32 fit).
    converged_ : bool
    n_iter_ : int
        EM iterations run by the best initialisation.
    lower_bound_ : float
        Mean log-likelihood per sample computed at the last iteration of the best
        initialisation (in the E-step, i.e. of the parameters before its M-step).
    log_likelihood_history_ : list of float
        The mean log-likelihood computed at each iteration of the best initialisation
        (entry ``t`` is that of the parameters after ``t`` iterations); never
        decreases, and ends with ``lower_bound_``. ``lower_bounds_`` is an alias.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(2, init_params="random_from_data", random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0]).round(3)
    array([ 1., 10.])
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        device=None,
        dtype=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.device = device
        self.dtype = dtype

    # -- validation -------------------------------------------------------------------

    def _check_parameters(self, n_features):
        K = check_int(self.n_components, "n_components", low=1)
        check_positive_float(self.tol, "tol", allow_zero=True)
        check_positive_float(self.reg_covar, "reg_covar", allow_zero=True)
        check_int(self.max_iter, "max_iter", low=0)
        check_int(self.n_init, "n_init", low=1)
        ct = _check_covariance_type(self.covariance_type)
        if self.init_params not in INIT_PARAMS:
            raise ValueError(f"init_params must be one of {INIT_PARAMS}, got {self.init_params!r}")
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be a bool, got {self.warm_start!r}")
        _dtype_name(self.dtype)
        if self.device is not None and not isinstance(self.device, str) and type(self.device).__name__ != "device":
            raise TypeError(f"device must be None, a string such as 'cpu' or 'cuda', or a torch.device; got {self.device!r}")
        weights = means = precisions = None
        if self.weights_init is not None:
            weights = self._as_init(self.weights_init, "weights_init", (K,))
            if np.any(weights < 0) or np.any(weights > 1):
                raise ValueError(f"weights_init must lie in [0, 1], got {weights!r}")
            if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8):
                raise ValueError(f"weights_init must sum to 1, got sum {weights.sum()!r}")
        if self.means_init is not None:
            means = self._as_init(self.means_init, "means_init", (K, n_features))
        if self.precisions_init is not None:
            shape = {"full": (K, n_features, n_features), "tied": (n_features, n_features),
                     "diag": (K, n_features), "spherical": (K,)}[ct]
            precisions = self._as_init(self.precisions_init, "precisions_init", shape)
            if ct in ("full", "tied"):
                for k, P in enumerate(precisions.reshape(-1, n_features, n_features)):
                    if not np.allclose(P, P.T) or np.linalg.eigvalsh(P).min() <= 0:
                        raise ValueError(
                            f"precisions_init[{k}] must be symmetric positive definite"
                            if ct == "full" else "precisions_init must be symmetric positive definite"
                        )
            elif np.any(precisions <= 0):
                raise ValueError("precisions_init must be positive")
        return weights, means, precisions

    def _as_init(self, value, name, shape):
        try:
            arr = np.asarray(to_numpy(value), dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a numeric array of shape {shape}") from None
        if arr.shape != shape:
            raise ValueError(
                f"{name} must have shape {shape} for covariance_type={self.covariance_type!r}, "
                f"n_components={self.n_components} and {self.n_features_in_} features; got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must not contain NaN or infinity")
        return arr

    def _check_X(self, X):
        check_fitted(self, "precisions_cholesky_")
        X = check_data(X, name="X", dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but this GaussianMixture was fitted "
                f"with {self.n_features_in_} features"
            )
        return X

    # -- initialisation ---------------------------------------------------------------

    def _initial_resp(self, X, random_state):
        n, K = X.shape[0], self.n_components
        resp = np.zeros((n, K))
        if self.init_params == "kmeans":
            from .kmeans import KMeans

            labels = KMeans(K, n_init=1, random_state=random_state).fit(X).labels_
            resp[np.arange(n), labels] = 1
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n, K))
            resp /= resp.sum(axis=1)[:, None]
        elif self.init_params == "random_from_data":
            resp[random_state.choice(n, size=K, replace=False), np.arange(K)] = 1
        else:  # k-means++
            from .kmeans import kmeans_plusplus

            result = kmeans_plusplus(X, K, random_state=random_state)
            indices = result[1] if isinstance(result, tuple) else None
            if indices is None:  # centers only: they are data points, find their rows
                centers = np.asarray(result)
                indices = np.array([np.flatnonzero((X == c).all(axis=1))[0] for c in centers])
            resp[np.asarray(indices), np.arange(K)] = 1
        return resp

    def _initialize(self, X, engine, random_state, inits):
        weights_init, means_init, precisions_init = inits
        ct = self.covariance_type
        covariances = None
        if weights_init is None or means_init is None or precisions_init is None:
            resp = self._initial_resp(X, random_state)
            weights, means, covariances, U = engine.parameters(engine.moments(resp))
        if weights_init is not None:
            weights = weights_init
        if means_init is not None:
            means = means_init
        if precisions_init is None:
            return weights, means, covariances, U
        U = _precision_cholesky_from_precisions(precisions_init, ct)
        return weights, means, _covariances_from_precision_cholesky(U, ct), U

    # -- fitting ----------------------------------------------------------------------

    def fit(self, X, y=None):
        """Estimate the parameters with EM (best of ``n_init`` runs). Returns ``self``."""
        self._fit(X)
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the component of highest responsibility for each sample."""
        return self._fit(X, final_e_step=True).argmax(axis=1)

    def _fit(self, X, final_e_step=False):
        X = check_data(X, name="X", dtype=np.float64, min_samples=2)
        engine = _fit_together([self], X)
        if not final_e_step:
            return None
        # final E-step so that fit_predict(X) agrees with fit(X).predict(X)
        W = engine.weight_matrix(self.weights_, self.means_, self.precisions_cholesky_)
        log_resp, _ = engine.log_resp(W)
        return log_resp

    def _check_fit(self, X):
        """Validate parameters and data for a fit; returns ``(inits, do_init, n_runs)``."""
        n_features = X.shape[1]
        had_fit = hasattr(self, "converged_")
        if not (self.warm_start and had_fit):
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(f"X has {n_features} features; the warm start has {self.n_features_in_}")
        inits = self._check_parameters(n_features)
        if X.shape[0] < self.n_components:
            raise ValueError(
                f"n_components={self.n_components} must be <= n_samples={X.shape[0]}"
            )
        do_init = not (self.warm_start and had_fit)
        return inits, do_init, (self.n_init if do_init else 1)

    def _runs(self, X, engine, inits, do_init, n_runs):
        """The EM runs of this fit (one per initialisation), as :meth:`_em` generators."""
        random_state = check_random_state(self.random_state)
        runs = []
        for _ in range(n_runs):
            if do_init:
                params, lower_bound = self._initialize(X, engine, random_state, inits), -np.inf
            else:
                params = (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)
                lower_bound = self.lower_bound_
            runs.append(self._em(engine, params, lower_bound))
        return runs

    def _em(self, engine, params, lower_bound):
        """One EM run as a generator: yields the weight matrix of each E-step, receives the
        engine's ``(mean log-likelihood, S)`` for it (see :func:`_lockstep`), and returns
        ``(params, n_iter, history, converged, lower_bound)``."""
        history = []
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            previous = lower_bound
            W = engine.weight_matrix(params[0], params[1], params[3])
            lower_bound, S = yield W  # E-step (+ sums for the M-step)
            params = engine.parameters(S)  # M-step
            history.append(lower_bound)
            if abs(lower_bound - previous) < self.tol:
                converged = True
                break
        return params, n_iter, history, converged, lower_bound

    def _store(self, results):
        """Keep the run with the largest final lower bound (the first, on ties)."""
        best = None
        for params, n_iter, history, converged, lower_bound in results:
            if best is None or lower_bound > best[-1]:
                best = (params, n_iter, history, converged, lower_bound)
        params, self.n_iter_, history, self.converged_, self.lower_bound_ = best
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = (
            np.asarray(p, dtype=np.float64) for p in params
        )
        U = self.precisions_cholesky_
        if self.covariance_type in ("full", "tied"):
            self.precisions_ = U @ np.swapaxes(U, -1, -2)
        else:
            self.precisions_ = U**2
        self.log_likelihood_history_ = list(history)
        self.lower_bounds_ = self.log_likelihood_history_

    # -- using a fitted model ---------------------------------------------------------

    def _estimate_weighted_log_prob(self, X):
        if self.covariance_type == "full":  # the direct form: one product for all components
            engine = _DirectEM(X, "full", self.reg_covar, _Backend())
            W = engine.weight_matrix(self.weights_, self.means_, self.precisions_cholesky_)
            out = np.empty((X.shape[0], self.n_components))
            for rows, log_joint in engine._log_joint_blocks(W):
                out[rows] = log_joint.T
            return out
        with np.errstate(divide="ignore"):
            return np.log(self.weights_) + log_gaussian_prob(
                X, self.means_, self.precisions_cholesky_, self.covariance_type
            )

    def score_samples(self, X):
        """``log p(x_n | theta)`` for each sample, shape (n_samples,)."""
        return logsumexp(self._estimate_weighted_log_prob(self._check_X(X)), axis=1)

    def score(self, X, y=None):
        """Mean log-likelihood per sample of ``X``."""
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """Component of highest posterior probability for each sample."""
        return self._estimate_weighted_log_prob(self._check_X(X)).argmax(axis=1)

    def predict_proba(self, X):
        """Responsibilities ``p(z = k | x_n, theta)``, shape (n_samples, n_components)."""
        X = self._check_X(X)
        log_resp, _ = e_step(X, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)
        return np.exp(log_resp)

    def sample(self, n_samples=1):
        """Draw ``n_samples`` points; returns ``(X, labels)`` like scikit-learn."""
        check_fitted(self, "precisions_cholesky_")
        n_samples = check_int(n_samples, "n_samples", low=1)
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        d = self.means_.shape[1]
        ct = self.covariance_type
        parts = []
        for k, (mean, count) in enumerate(zip(self.means_, counts)):
            if ct == "full":
                parts.append(rng.multivariate_normal(mean, self.covariances_[k], int(count)))
            elif ct == "tied":
                parts.append(rng.multivariate_normal(mean, self.covariances_, int(count)))
            else:
                std = np.sqrt(self.covariances_[k])
                parts.append(mean + rng.standard_normal(size=(int(count), d)) * std)
        labels = np.concatenate([np.full(int(c), k, dtype=np.int64) for k, c in enumerate(counts)])
        return np.vstack(parts), labels

    def n_parameters(self):
        """Number of free parameters ``p`` of the fitted mixture (the penalty of BIC and AIC).

        ``K - 1`` weights, ``K d`` means and the covariances: ``K d (d + 1) / 2`` ("full"),
        ``d (d + 1) / 2`` ("tied"), ``K d`` ("diag") or ``K`` ("spherical"); equal to
        scikit-learn's private ``_n_parameters()``. Used by ``book/*/04_mixtures``.
        """
        check_fitted(self, "means_")
        K, d = self.means_.shape
        cov = {"full": K * d * (d + 1) / 2, "diag": K * d, "tied": d * (d + 1) / 2,
               "spherical": K}[self.covariance_type]
        return int(cov + K * d + K - 1)

    _n_parameters = n_parameters  # scikit-learn's name

    def bic(self, X):
        """Bayesian information criterion ``-2 log L + p log n`` (lower is better)."""
        X = self._check_X(X)
        return -2 * self.score(X) * X.shape[0] + self.n_parameters() * math.log(X.shape[0])

    def aic(self, X):
        """Akaike information criterion ``-2 log L + 2 p`` (lower is better)."""
        X = self._check_X(X)
        return -2 * self.score(X) * X.shape[0] + 2 * self.n_parameters()


# ----------------------------------------------------------------------------------
# Several fits on the same data, together
# ----------------------------------------------------------------------------------


def _lockstep(engine, runs):
    """Drive EM runs (generators of :meth:`GaussianMixture._em`) until all have finished:
    at each iteration the engine serves all unfinished runs together. Returns each run's
    result, in order."""
    results = [None] * len(runs)
    pending = {}
    for i, run in enumerate(runs):
        try:
            pending[i] = next(run)
        except StopIteration as stop:  # max_iter = 0
            results[i] = stop.value
    while pending:
        order = list(pending)
        Ws = [pending[i] for i in order]
        outs = [engine.iterate(Ws[0])] if len(Ws) == 1 else engine.iterate_many(Ws)
        for i, out in zip(order, outs):
            try:
                pending[i] = runs[i].send(out)
            except StopIteration as stop:  # converged or max_iter reached: leaves the group
                results[i] = stop.value
                del pending[i]
    return results


def _fit_together(estimators, X):
    """Fit ``estimators`` (same settings) on the validated ``X``; returns the engine."""
    plans = [est._check_fit(X) for est in estimators]
    first = estimators[0]
    n_columns = sum(est.n_components * n_runs for est, (_, _, n_runs) in zip(estimators, plans))
    backend = _Backend(first.device, first.dtype)
    engine = _engine(X, first.covariance_type, float(first.reg_covar), backend, n_columns)
    runs = [est._runs(X, engine, *plan) for est, plan in zip(estimators, plans)]
    results = _lockstep(engine, [run for group in runs for run in group])
    start = 0
    for est, group in zip(estimators, runs):
        est._store(results[start : start + len(group)])
        start += len(group)
    return engine


def fit_many(estimators, X):
    """Fit several :class:`GaussianMixture` on the same ``X``, together.

    Each estimator runs exactly the EM of its own ``fit`` (same initialisation, updates,
    convergence rule and fitted attributes), but all their unfinished runs advance
    together, one EM iteration at a time: their E-steps are one matrix product over the
    quadratic features ``Phi(X)``, and so are their M-steps (a run leaves the group when
    it converges). A sweep over K thus reads ``Phi(X)`` once per iteration instead of
    once per K, in products fat enough to run near the processor's peak: on the course's
    sweeps (K = 1..20, 48000-60000 x 64) 2-3x faster than fitting the K one after another,
    and 6-7x faster than scikit-learn (``benchmarks/gmm_sweep.py``, ``ood_pipeline.py``). Used by
    :func:`gmmlab.ood.sweep_n_components` (``book/*/07_ood``).

    Parameters
    ----------
    estimators : sequence of GaussianMixture
        They must share ``covariance_type``, ``reg_covar``, ``device`` and ``dtype``
        (``n_components``, ``n_init``, ``tol``, ``max_iter``, initialisation and
        ``random_state`` may differ).
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    list of GaussianMixture
        The same estimators, fitted.

    Examples
    --------
    >>> from gmmlab.data import load_old_faithful
    >>> X = load_old_faithful()
    >>> models = fit_many([GaussianMixture(k, random_state=0) for k in (1, 2, 3)], X)
    >>> [int(m.bic(X)) for m in models]
    [2607, 2322, 2349]
    """
    if isinstance(estimators, GaussianMixture):
        raise TypeError("estimators must be a sequence of GaussianMixture, got a single GaussianMixture")
    estimators = check_list(estimators, "estimators", items="GaussianMixture", item="GaussianMixture")
    for i, est in enumerate(estimators):
        if not isinstance(est, GaussianMixture):
            raise TypeError(f"estimators[{i}] must be a gmmlab GaussianMixture, got {type(est).__name__}")
    if len({id(est) for est in estimators}) != len(estimators):
        raise ValueError("estimators must be distinct objects (the same estimator appears twice)")
    for name in ("covariance_type", "reg_covar", "device", "dtype"):
        values = {repr(getattr(est, name)) for est in estimators}
        if len(values) > 1:
            raise ValueError(f"estimators fitted together must share {name}; got {sorted(values)}")
    X = check_data(X, name="X", dtype=np.float64, min_samples=2)
    _fit_together(estimators, X)
    return estimators
