"""The estimator :class:`GaussianMixture`, and :func:`fit_many` (several fits together).

``fit`` is the loop of :func:`gmmlab.mixture.em` -- an E-step, an M-step, until the
mean log-likelihood gains less than ``tol`` -- over the two steps of an engine
(:mod:`gmmlab.mixture.engines`): :func:`_run_em` below is that loop, for one run or for
many in lockstep; each run's state is a :class:`_Run`.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning

from .._backend import Backend
from .._validation import (
    check_array_shape,
    check_covariance_type,
    check_data,
    check_device,
    check_fitted,
    check_float_dtype,
    check_int,
    check_list,
    check_n_features,
    check_positive_float,
    check_random_state,
    check_random_state_value,
    check_scale,
    check_simplex,
    covariance_shape,
)
from .engines import ENGINES, Params, make_engine
from .reference import normalize_log_resp

__all__ = ["GaussianMixture", "fit_many", "INIT_PARAMS"]

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")


class _Run:
    """Where one EM run stands: its parameters, iteration count, log-likelihoods."""

    def __init__(self, params: Params, lower_bound: float, estimator, index: int):
        self.params, self.lower_bound = params, lower_bound
        self.tol, self.max_iter = estimator.tol, estimator.max_iter
        self.verbose, self.verbose_interval = estimator.verbose, estimator.verbose_interval
        self.index, self.history = index, []
        self.n_iter, self.converged = 0, False
        self.done = self.max_iter == 0
        self.start = self.last = time.perf_counter()
        if self.verbose >= 1:
            print(f"Initialization {index}")

    def update(self, lower_bound: float, params: Params) -> None:
        """End of one iteration: the E-step gave ``lower_bound``, the M-step ``params``."""
        previous, self.lower_bound, self.params = self.lower_bound, lower_bound, params
        self.n_iter += 1
        self.history.append(lower_bound)
        self.converged = abs(lower_bound - previous) < self.tol
        self.done = self.converged or self.n_iter >= self.max_iter
        if self.verbose >= 1:
            self._report(lower_bound - previous)

    def _report(self, change):
        now = time.perf_counter()
        if self.n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {self.n_iter}")
            else:
                print(f"  Iteration {self.n_iter}\t time lapse {now - self.last:.5f}s\t "
                      f"ll change {change:.5f}")
                self.last = now
        if self.done:
            outcome = "converged" if self.converged else "did not converge"
            if self.verbose == 1:
                print(f"Initialization {outcome}.")
            else:
                print(f"Initialization {outcome}. time lapse {now - self.start:.5f}s\t "
                      f"lower bound {self.lower_bound:.5f}.")


def _run_em(engine, runs) -> None:
    """EM for ``runs`` on one data set, in lockstep: the loop of :func:`em`.

    At each iteration the engine computes the E-steps of all unfinished runs together
    (one pass over the data), then each run takes its M-step and tests convergence.
    """
    active = [run for run in runs if not run.done]
    while active:
        e_steps = engine.e_step_many([run.params for run in active])  # E-steps
        for run, (lower_bound, stats) in zip(active, e_steps):
            _check_lower_bound(lower_bound)
            run.update(lower_bound, engine.m_step(stats))  # M-step
        active = [run for run in active if not run.done]


def _check_lower_bound(lower_bound: float) -> None:
    """The E-step's mean log-likelihood is finite unless log-densities overflowed."""
    if not math.isfinite(lower_bound):
        raise ValueError(
            "Fitting the mixture model failed: the log-likelihood of X is not finite "
            "(log-densities overflow float64: points of X lie too far from every "
            "component, e.g. means_init or precisions_init out of scale with X); "
            "rescale X, or check means_init and precisions_init"
        )


def _check_fit_data(X) -> np.ndarray:
    """``X`` for a fit: float64, at least 2 samples, and a scale whose squares fit float64."""
    X = check_data(X, name="X", dtype=np.float64, min_samples=2)
    check_scale(X)
    return X


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with scikit-learn's API and numerics.

    Chapters: "Gaussian mixtures, EM and the variational view" (``book/*/04_mixtures``,
    ``05_em``, ``06_elbo``), the EM derivation (``book/*/09_em_derivation``) and the
    out-of-distribution detector (``book/*/07_ood``).

    ``fit`` runs the loop of :func:`gmmlab.mixture.em` (see :func:`_run_em`): from
    initial parameters, an E-step and an M-step until the mean log-likelihood gains
    less than ``tol``, keeping the best of ``n_init`` runs. ``engine`` says how the
    two steps are computed.

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
    engine : {"auto", "reference", "fast", "direct"}, default="auto"
        How the E- and M-steps are computed (:mod:`gmmlab.mixture.engines`): the
        book's step functions ("reference"), matrix products over the quadratic
        features ("fast", numpy or torch), "full" covariances computed directly
        ("direct"), or the faster of the last two for the problem ("auto"). All run
        the same EM and agree to rounding error.
    verbose : int, default=0
        1 prints when each initialisation starts and ends, 2 also every
        ``verbose_interval`` iterations with timings (scikit-learn's messages).
    verbose_interval : int, default=10

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
        verbose=0,
        verbose_interval=10,
        device=None,
        dtype=None,
        engine="auto",
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
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.device = device
        self.dtype = dtype
        self.engine = engine

    # -- validation -------------------------------------------------------------------

    def _check_parameters(self, n_features):
        K = check_int(self.n_components, "n_components", low=1)
        check_positive_float(self.tol, "tol", allow_zero=True)
        check_positive_float(self.reg_covar, "reg_covar", allow_zero=True)
        check_int(self.max_iter, "max_iter", low=0)
        check_int(self.n_init, "n_init", low=1)
        check_int(self.verbose, "verbose", low=0)
        check_int(self.verbose_interval, "verbose_interval", low=1)
        ct = check_covariance_type(self.covariance_type)
        if self.init_params not in INIT_PARAMS:
            raise ValueError(f"init_params must be one of {INIT_PARAMS}, got {self.init_params!r}")
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be a bool, got {self.warm_start!r}")
        check_random_state_value(self.random_state)
        dtype = check_float_dtype(self.dtype)
        device = check_device(self.device)
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.engine in ("reference", "direct") and (device is not None or dtype != "float64"):
            raise ValueError(f"engine={self.engine!r} runs in numpy float64: it takes no "
                             f"device or dtype (got device={self.device!r}, dtype={self.dtype!r})")
        if self.engine == "direct" and ct != "full":
            raise ValueError(f"engine='direct' fits 'full' covariances only, got {ct!r}")
        weights = means = precisions = None
        if self.weights_init is not None:
            weights = check_simplex(self._as_init(self.weights_init, "weights_init", (K,)),
                                    "weights_init").astype(np.float64)
        if self.means_init is not None:
            means = self._as_init(self.means_init, "means_init", (K, n_features)).astype(float)
        if self.precisions_init is not None:
            shape = covariance_shape(ct, K, n_features)
            precisions = self._as_init(self.precisions_init, "precisions_init", shape).astype(float)
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
            return check_array_shape(value, name, shape)  # float32 kept
        except ValueError as error:
            if "shape" not in str(error):
                raise
            raise ValueError(
                f"{error} (for covariance_type={self.covariance_type!r}, "
                f"n_components={self.n_components} and {self.n_features_in_} features)"
            ) from None

    def _check_X(self, X):
        check_fitted(self, "precisions_cholesky_")
        return check_n_features(self, X)

    # -- initialisation ---------------------------------------------------------------

    def _initial_resp(self, X, random_state):
        n, K = X.shape[0], self.n_components
        resp = np.zeros((n, K))
        if self.init_params == "kmeans":
            from ..kmeans import KMeans

            labels = KMeans(K, n_init=1, random_state=random_state).fit(X).labels_
            resp[np.arange(n), labels] = 1
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n, K))
            resp /= resp.sum(axis=1)[:, None]
        elif self.init_params == "random_from_data":
            resp[random_state.choice(n, size=K, replace=False), np.arange(K)] = 1
        else:  # k-means++
            from ..kmeans import kmeans_plusplus

            result = kmeans_plusplus(X, K, random_state=random_state)
            indices = result[1] if isinstance(result, tuple) else None
            if indices is None:  # centers only: they are data points, find their rows
                centers = np.asarray(result)
                indices = np.array([np.flatnonzero((X == c).all(axis=1))[0] for c in centers])
            resp[np.asarray(indices), np.arange(K)] = 1
        return resp

    def _initialize(self, X, engine, random_state, inits) -> Params:
        weights_init, means_init, precisions_init = inits
        ct = self.covariance_type
        if weights_init is None or means_init is None or precisions_init is None:
            weights, means, covariances, U = engine.m_step_from_resp(
                self._initial_resp(X, random_state))
        if weights_init is not None:
            weights = weights_init
        if means_init is not None:
            means = means_init
        if precisions_init is None:
            return Params(weights, means, covariances, U)
        U = _precision_cholesky_from_precisions(precisions_init, ct)
        return Params(weights, means, _covariances_from_precision_cholesky(U, ct), U)

    # -- fitting ----------------------------------------------------------------------

    def fit(self, X, y=None):
        """Estimate the parameters with EM (best of ``n_init`` runs). Returns ``self``."""
        X = _check_fit_data(X)
        _fit_together([self], X)
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the component of highest responsibility for each sample."""
        X = _check_fit_data(X)
        engine = _fit_together([self], X)
        # a final E-step, so that fit_predict(X) agrees with fit(X).predict(X)
        return engine.log_joint(self._params()).argmax(axis=1)

    def _check_fit(self, X):
        """Validate parameters and data for a fit; returns ``(inits, do_init, n_runs)``."""
        n_features = X.shape[1]
        had_fit = hasattr(self, "converged_")
        if not (self.warm_start and had_fit):
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(f"X has {n_features} features; the warm start has {self.n_features_in_}")
        inits = self._check_parameters(n_features)
        if self.warm_start and had_fit:
            self._check_warm_start()
        if X.shape[0] < self.n_components:
            raise ValueError(
                f"n_components={self.n_components} must be <= n_samples={X.shape[0]}"
            )
        do_init = not (self.warm_start and had_fit)
        return inits, do_init, (self.n_init if do_init else 1)

    def _check_warm_start(self):
        """A warm start continues the previous fit: same number of components, same
        covariance type (a ValueError naming the one that changed)."""
        fitted_k = len(self.weights_)
        if self.n_components != fitted_k:
            raise ValueError(
                f"n_components={self.n_components}, but warm_start=True continues the "
                f"previous fit, which has {fitted_k} components: set n_components="
                f"{fitted_k}, or warm_start=False to fit anew"
            )
        fitted_ct = getattr(self, "_fitted_covariance_type", self.covariance_type)
        if self.covariance_type != fitted_ct:
            raise ValueError(
                f"covariance_type={self.covariance_type!r}, but warm_start=True continues "
                f"the previous fit, whose covariance_type is {fitted_ct!r}: set it back, "
                f"or warm_start=False to fit anew"
            )

    def _start_runs(self, X, engine, inits, do_init, n_runs) -> list[_Run]:
        """The EM runs of this fit, one per initialisation, initialised."""
        random_state = check_random_state(self.random_state)
        runs = []
        for index in range(n_runs):
            if do_init:
                params, lower_bound = self._initialize(X, engine, random_state, inits), -np.inf
            else:
                params, lower_bound = self._params(), self.lower_bound_
            runs.append(_Run(params, lower_bound, self, index))
        return runs

    def _store(self, runs: list[_Run]):
        """Keep the run with the largest final lower bound (the first, on ties)."""
        best = runs[0]
        for run in runs[1:]:
            if run.lower_bound > best.lower_bound:
                best = run
        self.n_iter_, self.converged_, self.lower_bound_ = best.n_iter, best.converged, best.lower_bound
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = (
            np.asarray(p, dtype=np.float64) for p in best.params
        )
        U = self.precisions_cholesky_
        if self.covariance_type in ("full", "tied"):
            self.precisions_ = U @ np.swapaxes(U, -1, -2)
        else:
            self.precisions_ = U**2
        self.log_likelihood_history_ = list(best.history)
        self.lower_bounds_ = self.log_likelihood_history_
        self._fitted_covariance_type = self.covariance_type

    def _params(self) -> Params:
        return Params(self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)

    # -- using a fitted model ---------------------------------------------------------

    def _log_joint(self, X):
        """``log w_k + log N(x_n | k)`` for the validated ``X``: the one engine call
        behind :meth:`score_samples`, :meth:`predict` and :meth:`predict_proba`."""
        fast = self.engine == "fast"
        backend = Backend(self.device if fast else None, self.dtype if fast else None)
        engine = make_engine(self.engine, X, self.covariance_type, float(self.reg_covar),
                             backend, self.n_components, predict=True)
        with engine:
            log_joint = engine.log_joint(self._params())
        if not np.isfinite(log_joint).all():
            raise ValueError(
                f"X lies too far from the fitted components: its log-densities overflow "
                f"float64 (X has entries up to {np.abs(X).max():.3g}, the means up to "
                f"{np.abs(self.means_).max():.3g}); rescale X as the training data was"
            )
        return log_joint

    def score_samples(self, X):
        """``log p(x_n | theta)`` for each sample, shape (n_samples,)."""
        return logsumexp(self._log_joint(self._check_X(X)), axis=1)

    def score(self, X, y=None):
        """Mean log-likelihood per sample of ``X``."""
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """Component of highest posterior probability for each sample."""
        return self._log_joint(self._check_X(X)).argmax(axis=1)

    def predict_proba(self, X):
        """Responsibilities ``p(z = k | x_n, theta)``, shape (n_samples, n_components)."""
        log_joint = self._log_joint(self._check_X(X))
        return np.exp(normalize_log_resp(log_joint - logsumexp(log_joint, axis=1)[:, None]))

    def sample(self, n_samples=1):
        """Draw ``n_samples`` points; returns ``(X, labels)`` like scikit-learn."""
        check_fitted(self, "precisions_cholesky_")
        if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool) and n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples}. The sampling requires at "
                             "least one sample.")
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
        check_covariance_type(self.covariance_type)
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


def _precision_cholesky_from_precisions(precisions, covariance_type):
    """``U`` upper triangular with ``U U^T = precision`` (scikit-learn's convention)."""
    if covariance_type in ("full", "tied"):
        flip = precisions[..., ::-1, ::-1]
        return np.linalg.cholesky(flip)[..., ::-1, ::-1].copy()
    return np.sqrt(precisions)


def _covariances_from_precision_cholesky(U, covariance_type):
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(U @ np.swapaxes(U, -1, -2))
    return 1.0 / U**2


# ----------------------------------------------------------------------------------
# Several fits on the same data, together
# ----------------------------------------------------------------------------------


def _fit_together(estimators, X):
    """Fit ``estimators`` (same data settings) on the validated ``X``; returns the engine."""
    plans = [est._check_fit(X) for est in estimators]
    first = estimators[0]
    # the engine is chosen for the components of one run of each estimator: n_init runs
    # of a fit use the engine a single run would, so each run is exactly a fit alone
    n_columns = sum(est.n_components for est in estimators)
    backend = Backend(first.device, first.dtype)
    engine = make_engine(first.engine, X, first.covariance_type, float(first.reg_covar),
                         backend, n_columns)
    with engine:
        runs = [est._start_runs(X, engine, *plan) for est, plan in zip(estimators, plans)]
        _run_em(engine, [run for group in runs for run in group])
    for est, group in zip(estimators, runs):
        est._store(group)
    return engine


def _setting(name, value):
    """A hashable normal form of the setting ``name`` (validated by the fit itself)."""
    if name == "reg_covar" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if name == "device":
        return ("device", str(check_device(value)))
    if name == "dtype":
        return ("dtype", check_float_dtype(value))
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    return (type(value).__name__, value)


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
        They must share ``covariance_type``, ``reg_covar``, ``device``, ``dtype`` and ``engine``
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
    for name in ("covariance_type", "reg_covar", "device", "dtype", "engine"):
        values = {}  # equal settings spelled differently (0 and 0.0, "cpu" and
        for est in estimators:  # torch.device("cpu")) are one setting
            values.setdefault(_setting(name, getattr(est, name)), getattr(est, name))
        if len(values) > 1:
            raise ValueError(f"estimators fitted together must share {name}; got "
                             f"{sorted(repr(v) for v in values.values())}")
    X = _check_fit_data(X)
    _fit_together(estimators, X)
    return estimators
