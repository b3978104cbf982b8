"""The estimator :class:`KMeans`: validation, ``n_init`` runs of an engine, fitted attributes.

:meth:`KMeans.fit` checks every argument, centres the data, and runs the engine chosen by
``algorithm`` and ``device`` (:func:`~gmmlab.kmeans.lloyd._lloyd`,
:func:`~gmmlab.kmeans.elkan._elkan`; ``_lloyd`` on torch tensors with ``device``) from
the initial centers of :func:`~gmmlab.kmeans.seeding._initial_centers`, keeping the run
of lowest inertia.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import validate_data

from .._validation import (
    check_data,
    check_device,
    check_fitted,
    check_int,
    check_positive_float,
    check_random_state,
    check_sample_weight,
    check_scale,
    check_small_scale,
)
from .elkan import _elkan
from .lloyd import (
    _assign,
    _exact_inertia,
    _lloyd,
    _row_norms_sq,
)
from .seeding import _check_init_array, _check_n_clusters, _initial_centers

def _check_verbose(verbose) -> int:
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    return check_int(verbose, "verbose", low=0)


def _warn_if_fewer_clusters(labels, n_clusters: int) -> None:
    """scikit-learn's ConvergenceWarning when some clusters end up with no point."""
    distinct = np.unique(labels).size
    if distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than "
            f"n_clusters ({n_clusters}). "
            "Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=4,
        )


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means clustering with Lloyd's algorithm.

    Minimises the inertia ``sum_i ||x_i - mu_{z_i}||^2`` by alternating the
    assignment step (each point to its nearest center) and the update step (each
    center to the mean of its points), see :func:`lloyd_step`. Used in the
    "Clustering and K-means" chapter (``book/*/02_kmeans``) and to initialise EM for
    Gaussian mixtures. A scikit-learn estimator: parameters are stored as given and
    checked by :meth:`fit`.

    Parameters
    ----------
    n_clusters : int
        Number of clusters K.
    init : {"k-means++", "random"}, callable or array-like of shape (n_clusters, n_features)
        ``"k-means++"`` (:func:`kmeans_plusplus`), ``"random"`` (K distinct data
        points drawn uniformly, or with probability proportional to their weight),
        a callable ``init(X, n_clusters, random_state=rng)`` returning the centers
        (called on the data ``X`` with the estimator's RandomState), or the initial
        centers themselves (e.g. :func:`class_means`).
    n_init : int or "auto"
        Number of runs from different seeds; the one with the lowest inertia is
        kept. Must be 1 when ``init`` is an array. ``"auto"`` is scikit-learn's rule:
        1 run for ``"k-means++"`` or an array, 10 for ``"random"`` or a callable.
        The default, 1, is not scikit-learn's (``"auto"``).
    max_iter : int
        Maximum number of Lloyd iterations per run.
    tol : float
        Relative tolerance: a run stops when the total squared center shift is at
        most ``tol`` times the mean variance of the features (or when no label
        changes).
    verbose : int
        Above 0, prints scikit-learn's progress messages (the inertia at each
        iteration, why a run stopped).
    random_state : int, numpy RandomState or None
        Seed of the initialisation (through :func:`sklearn.utils.check_random_state`).
        With the same seed the centers are those scikit-learn's ``KMeans`` starts
        from.
    algorithm : {"lloyd", "elkan"}
        ``"lloyd"``: every point-center distance at every iteration (BLAS).
        ``"elkan"``: the same iterations, skipping the distances that the triangle
        inequality rules out (:func:`_elkan`); numpy only. With one cluster it falls
        back to ``"lloyd"`` with a RuntimeWarning, as scikit-learn does.
    device : None or str or torch.device
        ``None``: numpy. Otherwise the iteration runs in torch on that device
        (``"cpu"``, ``"cuda"``).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of squared distances of the samples to their center (each times its
        weight).
    n_iter_ : int
        Number of Lloyd iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia at the assignment step of each iteration (non-increasing).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had column names (a pandas DataFrame).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    >>> km = KMeans(2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist()), float(km.inertia_)
    ([[0.0, 0.5], [4.0, 0.5]], 1.0)
    >>> km.fit(X, sample_weight=[3, 1, 1, 1]).cluster_centers_[km.labels_[0]].tolist()
    [0.0, 0.25]
    >>> from sklearn.base import clone
    >>> clone(km).set_params(n_clusters=3, algorithm="elkan")
    KMeans(algorithm='elkan', n_clusters=3, random_state=0)
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int | str = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state=None,
        algorithm: str = "lloyd",
        device=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.algorithm = algorithm
        self.device = device

    # -- input handling (overridden by MissingDataKMeans) --------------------
    def _check_X(self, X, *, reset: bool):
        """``X`` validated (dense, finite floats); sets (``reset``) or checks
        ``n_features_in_`` and the feature names."""
        checked = check_data(X, name="X")
        check_scale(checked, "X")
        self._check_features(X, checked, reset=reset)
        return checked

    def _check_features(self, X, checked, *, reset: bool) -> None:
        """scikit-learn's bookkeeping of ``n_features_in_`` and ``feature_names_in_``."""
        X = X if hasattr(X, "columns") else checked  # feature names come from columns
        validate_data(self, X, reset=reset, skip_check_array=True)

    def _check_n_features(self, X) -> None:
        """A ValueError when ``X`` has not as many features as the data of :meth:`fit`."""
        self._check_features(X, X, reset=False)

    def _check_params(self, X):
        n_samples, n_features = X.shape
        n_clusters = _check_n_clusters(self.n_clusters, n_samples)
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(
                    "init must be 'k-means++', 'random', a callable or an array of centers, "
                    f"got {init!r}"
                )
        elif not callable(init):
            init = _check_init_array(init, n_clusters, X)
        if isinstance(self.n_init, str):
            if self.n_init != "auto":
                raise ValueError(
                    f"n_init must be a positive integer or 'auto', got {self.n_init!r}"
                )
            n_init = 1 if isinstance(init, np.ndarray) or init == "k-means++" else 10
        else:
            n_init = check_int(self.n_init, "n_init", low=1)
        if isinstance(init, np.ndarray) and n_init != 1:
            raise ValueError(f"n_init must be 1 when init is an array of centers, got {n_init}")
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        tol = check_positive_float(self.tol, "tol", allow_zero=True)
        return n_clusters, n_init, max_iter, tol, init

    def _check_algorithm(self, n_clusters: int, device) -> str:
        if not isinstance(self.algorithm, str) or self.algorithm not in ("lloyd", "elkan"):
            raise ValueError(f"algorithm must be 'lloyd' or 'elkan', got {self.algorithm!r}")
        if self.algorithm == "elkan" and device is not None:
            raise ValueError(
                f"algorithm='elkan' runs on numpy only: device must be None, got {self.device!r}"
            )
        if self.algorithm == "elkan" and n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
                stacklevel=3,
            )
            return "lloyd"
        return self.algorithm

    # -- fitting -------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense data (integers become ``float64``; sparse matrices are refused).
        y : ignored
        sample_weight : array-like of shape (n_samples,) or float, optional
            Weight of each point (>= 0, not all 0): a point of weight ``w`` counts
            as ``w`` copies of it in the means, the inertia and k-means++.

        Returns
        -------
        self
        """
        X = self._check_X(X, reset=True)
        sample_weight = check_sample_weight(sample_weight, X)
        n_clusters, n_init, max_iter, tol, init = self._check_params(X)
        device = check_device(self.device)
        algorithm = self._check_algorithm(n_clusters, device)
        verbose = _check_verbose(self.verbose)
        rng = check_random_state(self.random_state)
        engine = _elkan if algorithm == "elkan" else functools.partial(_lloyd, device=device)
        # Centre the data: keeps ||x||^2 - 2 x.c + ||c||^2 accurate (scikit-learn does the same).
        mean = X.mean(axis=0)
        Xc = X - mean
        check_small_scale(Xc, "X")  # (X - its mean): the numbers Lloyd's loop works with
        x_sq = _row_norms_sq(Xc)
        # tol is relative to the mean feature variance, sum_i ||x_i - mean||^2 / (n d).
        tol_abs = float(x_sq.sum(dtype=np.float64)) / X.size * tol
        best = None
        for _ in range(n_init):
            centers = _initial_centers(init, X, Xc, x_sq, mean, n_clusters, rng, sample_weight)
            if verbose:
                print("Initialization complete")
            run = engine(
                Xc, centers, max_iter=max_iter, tol=tol_abs, x_sq=x_sq,
                sample_weight=sample_weight, verbose=verbose,
            )
            if best is None or run[2] < best[2]:
                best = run
        self._store(best, mean, X.dtype, n_init)
        return self

    def _store(self, best, mean, dtype, n_init: int) -> None:
        """The fitted attributes, from the best run
        ``(centers, labels, inertia, n_iter, history)``."""
        centers, labels, inertia, n_iter, history = best
        self.cluster_centers_ = (centers + mean).astype(dtype, copy=False)
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.inertia_history_ = history
        self._n_init = n_init  # the number of runs made (scikit-learn's name)
        _warn_if_fewer_clusters(labels, self.cluster_centers_.shape[0])

    def fit_predict(self, X, y=None, sample_weight=None) -> np.ndarray:
        """Fit and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None) -> np.ndarray:
        """Fit, then return the distances of the rows of ``X`` to the centers
        (:meth:`transform`)."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    @property
    def _n_features_out(self) -> int:
        """Number of columns of :meth:`transform` (for ``get_feature_names_out``)."""
        return self.cluster_centers_.shape[0]

    def _check_new(self, X):
        check_fitted(self, "cluster_centers_")
        return self._check_X(X, reset=False)

    def predict(self, X) -> np.ndarray:
        """Index of the nearest center for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        X = self._check_new(X)
        return _assign(X, self.cluster_centers_.astype(X.dtype, copy=False))[0]

    def transform(self, X) -> np.ndarray:
        """Euclidean distances from each row of ``X`` to each center
        (:func:`sklearn.metrics.pairwise.euclidean_distances`, as in scikit-learn).

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        X = self._check_new(X)
        return euclidean_distances(X, self.cluster_centers_.astype(X.dtype, copy=False))

    def score(self, X, y=None, sample_weight=None) -> float:
        """Opposite of the inertia of ``X`` for the fitted centers (higher is better),
        each point counted with its weight."""
        X = self._check_new(X)
        sample_weight = check_sample_weight(sample_weight, X)
        C = self.cluster_centers_.astype(X.dtype, copy=False)
        labels = _assign(X, C)[0]
        return -_exact_inertia(X, C, labels, sample_weight=sample_weight)
