"""K-means with missing entries: :class:`MissingDataKMeans` and the submitted rule's kernels.

The assignment chapter on missing data (``book/*/08_kmeans_missing``) shows
:meth:`MissingDataKMeans._fill_missing`, :meth:`MissingDataKMeans.fit` and
:meth:`MissingDataKMeans.expected_sq_distances`. The default cost (2) is K-means on the
zero-filled data (:class:`~gmmlab.kmeans.KMeans`); ``distance="submitted"`` runs
:func:`_observed_lloyd`, Lloyd's loop (:func:`~gmmlab.kmeans.lloyd._iterate`) on the
observed coordinates only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_data,
    check_fitted,
    check_positive_float,
    check_random_state,
    check_sample_weight,
    check_scale,
    check_small_scale,
)
from .estimator import KMeans, _check_verbose
from .._backend import ChunkPool, onehot_t
from .lloyd import (
    CHUNK_SIZE,
    _chunk_rows,
    _iterate,
    _row_norms_sq,
)
from .seeding import _initial_centers


def _observed_sq_distances(A, W, a_sq, centers) -> np.ndarray:
    """``sum_{o observed} (x_o - mu_o)^2`` for every row and center: the submitted rule's distance.

    ``A`` is the data with 0 at missing entries, ``W`` the 0/1 mask of observed entries
    (same dtype), ``a_sq`` the squared row norms of ``A``. The expansion is
    ``||A||^2 - 2 A.mu + W.mu^2``: a center's coordinates at a point's missing entries
    never enter its distance.
    """
    d2 = a_sq[:, None] - 2.0 * (A @ centers.T) + W @ (centers * centers).T
    return np.maximum(d2, 0.0)


def _observed_assign(
    A,
    W,
    a_sq,
    centers,
    *,
    pool,
    sums: bool = True,
    sample_weight=None,
    chunk_size: int | None = None,
):
    """Assignment step of the submitted rule, chunk by chunk (chunks shared among threads).

    Returns ``labels``, the observed squared distance of each row to its center and,
    with ``sums=True``, per cluster and coordinate the sum (float64, (K, d)) and the
    number (float64, (K, d)) of the observed values -- with ``sample_weight``, the
    weighted sum and the total weight of the rows that observe it.
    """
    n, d = A.shape
    k = centers.shape[0]
    chunk_size = chunk_size or _chunk_rows(d)
    centers_m2, centers_sq = -2.0 * centers, centers * centers
    labels = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float64)

    def work(block):
        lo, hi = block
        total = np.zeros((k, d), dtype=np.float64) if sums else None
        seen = np.zeros((k, d), dtype=np.float64) if sums else None
        onehots = {}
        for start in range(lo, hi, chunk_size):
            stop = min(start + chunk_size, hi)
            Ac, Wc = A[start:stop], W[start:stop]
            dist = Ac @ centers_m2.T
            dist += Wc @ centers_sq.T  # -2 x.mu + sum over observed coordinates of mu^2
            lab = dist.argmin(axis=1)
            labels[start:stop] = lab
            best[start:stop] = dist[np.arange(lab.size), lab] + a_sq[start:stop]
            if sums:
                onehot = onehots.get(stop - start)
                if onehot is None:
                    onehot = onehots[stop - start] = onehot_t(k, stop - start, A.dtype)
                onehot.indices[:] = lab
                if sample_weight is not None:
                    onehot.data[:] = sample_weight[start:stop]
                total += onehot @ Ac
                seen += onehot @ Wc
        return total, seen

    n_chunks = -(-n // chunk_size)
    n_workers = min(pool.n_threads, n_chunks)
    bounds = [min(n, chunk_size * (n_chunks * w // n_workers)) for w in range(n_workers + 1)]
    parts = pool.map(work, list(zip(bounds[:-1], bounds[1:])))
    np.maximum(best, 0.0, out=best)
    if not sums:
        return labels, best
    return labels, best, sum(p[0] for p in parts), sum(p[1] for p in parts)


def _observed_lloyd(
    A, W, centers, *, max_iter: int, tol: float, sample_weight=None, verbose: int = 0
):
    """Lloyd's iteration of the submitted rule (``MissingDataKMeans(distance="submitted")``).

    ``A`` is the data with 0 at missing entries, ``W`` the 0/1 mask of observed entries
    (same dtype). Assignment: nearest center on the observed coordinates
    (:func:`_observed_sq_distances`). Update: each coordinate of a center is the mean of
    the cluster's observed values of that coordinate (weighted by ``sample_weight``; a
    coordinate that no point of the cluster observes keeps its value). Stopping rules:
    :func:`_iterate`. Returns ``centers, labels, observed_cost, n_iter, history``.
    """
    k = centers.shape[0]
    a_sq = _row_norms_sq(A).astype(np.float64)

    def total(values) -> float:  # sum over the rows, each times its weight
        return float(values.sum() if sample_weight is None else values @ sample_weight)

    with ChunkPool() as pool:

        def step(centers):
            labels, best, sums, seen = _observed_assign(
                A, W, a_sq, centers, pool=pool, sample_weight=sample_weight
            )
            counts = np.bincount(labels, weights=sample_weight, minlength=k)
            empty = np.flatnonzero(counts == 0)
            if empty.size:  # an empty cluster takes the farthest point (ties by index),
                # as in _relocate_empty
                for k_new, i in zip(empty, np.argsort(-best, kind="stable")):
                    w = 1.0 if sample_weight is None else sample_weight[i]
                    sums[labels[i]] -= w * A[i]
                    seen[labels[i]] -= w * W[i]
                    sums[k_new], seen[k_new] = w * A[i], w * W[i]
            observed = seen > 0
            means = sums / np.where(observed, seen, 1.0)
            new_centers = np.where(observed, means, centers).astype(A.dtype, copy=False)
            return new_centers, labels, total(best)

        centers, labels, n_iter, history, final = _iterate(
            step, centers, max_iter=max_iter, tol=tol, verbose=verbose
        )
        if not final:
            labels, _ = _observed_assign(A, W, a_sq, centers, pool=pool, sums=False)
    cost = 0.0
    for start in range(0, A.shape[0], CHUNK_SIZE):
        rows = slice(start, start + CHUNK_SIZE)
        diff = (A[rows] - centers[labels[rows]]) * W[rows]
        if sample_weight is None:
            cost += float(np.einsum("ij,ij->", diff, diff, dtype=np.float64))
        else:
            cost += float(np.einsum("ij,ij->i", diff, diff, dtype=np.float64) @ sample_weight[rows])
    return centers, labels, cost, n_iter, np.asarray(history)


class MissingDataKMeans(KMeans):
    """K-means for data with missing entries (NaN), the homework's cost (2).

    Each missing coordinate is treated as random, drawn from ``N(0, c)``, and the
    cost is the expected squared distance. For a point with observed coordinates
    ``O`` and missing ones ``M``,

    ``E ||x - mu||^2 = sum_{o in O} (x_o - mu_o)^2 + sum_{m in M} (mu_m^2 + c)``,

    so the assignment step compares these expected distances, and the update step,
    setting the gradient in ``mu`` to zero, gives ``mu = (sum of observed values) /
    (cluster size)``: missing values count as the prior mean 0. Equivalently this is
    K-means on the data with NaN replaced by 0, plus the constant ``c * (number of
    missing entries)`` in the cost; ``c`` changes the cost, not the clustering.
    With no NaN it is exactly :class:`KMeans`. Used in the assignment chapter
    (``book/*/08_kmeans_missing``, pen-and-paper question 1).

    Parameters
    ----------
    n_clusters : int
    c : float > 0
        Variance of the prior ``N(0, c)`` of a missing coordinate.
    distance : {"expected", "submitted"}
        ``"expected"`` (default): the homework's cost (2), as above.
        ``"submitted"``: the rule of the submitted solution of the homework, which
        exists so that the chapter can run it beside the correct one. A point goes
        to the center that minimises ``sum_{o in O} (x_o - mu_o)^2 + c |M|`` (the
        term ``sum_{m in M} mu_m^2`` is dropped; ``c |M|`` is the same for every
        center, so only the observed coordinates matter), and each coordinate of a
        center becomes the mean of the cluster's observed values of that coordinate,
        divided by the number of points of the cluster that observe it (a coordinate
        that none of them observes keeps its value). This is K-means on the observed
        coordinates: each step lowers ``sum_n sum_{o in O_n} (x_no - mu_{z_n o})^2``,
        not cost (2). With no NaN it is :class:`KMeans` too. Runs on numpy only
        (``device`` must be None).
    init, n_init, max_iter, tol, random_state, device
        As in :class:`KMeans` (k-means++ and ``tol`` use the zero-filled data, so
        both values of ``distance`` start from the same centers for the same seed).

    Attributes
    ----------
    cluster_centers_, labels_, n_iter_
        As in :class:`KMeans`.
    cost_ : float
        Final value of the cost that the iterations lower (``inertia_`` is the same
        number): cost (2) for ``distance="expected"``; for ``"submitted"``, the
        observed squared distances plus ``c * n_missing_``. Cost (2) of any fitted
        centers and labels follows from :meth:`expected_sq_distances`.
    cost_history_ : ndarray of shape (n_iter_,)
        That cost at the assignment step of each iteration (non-increasing).
    n_missing_ : int
        Number of missing entries of the training data.

    Examples
    --------
    >>> X = np.array([[0.0, np.nan], [0.0, 1.0], [4.0, 0.0], [np.nan, 1.0]])
    >>> km = MissingDataKMeans(2, c=1.0, init=np.array([[0.0, 0.0], [4.0, 0.0]])).fit(X)
    >>> km.labels_.tolist(), km.cluster_centers_.tolist()
    ([0, 0, 1, 0], [[0.0, 0.6666666666666666], [4.0, 0.0]])
    >>> round(km.cost_, 4)  # 2/3^2 + 1 (row 0) + 1/9 (row 1) + 0 + 1 + 1/9 (row 3)
    2.6667

    The submitted rule compares a point with the centers on its observed entries only:

    >>> X = np.array([[0.0, np.nan], [0.0, 1.0], [4.0, 0.0], [np.nan, 0.25]])
    >>> init = np.array([[0.0, 1.0], [4.0, 0.0]])
    >>> # row 3: 0.75^2 + 0^2 < 0.25^2 + 4^2
    >>> MissingDataKMeans(2, init=init).fit(X).labels_.tolist()
    [0, 0, 1, 0]
    >>> sub = MissingDataKMeans(2, distance="submitted", init=init).fit(X)
    >>> sub.labels_.tolist(), sub.cluster_centers_.tolist()  # row 3: 0.25^2 < 0.75^2
    ([0, 0, 1, 1], [[0.0, 1.0], [4.0, 0.125]])
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        c: float = 1.0,
        distance: str = "expected",
        init: Any = "k-means++",
        n_init: int | str = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state=None,
        algorithm: str = "lloyd",
        device=None,
    ):
        super().__init__(
            n_clusters,
            init=init,
            n_init=n_init,
            max_iter=max_iter,
            tol=tol,
            verbose=verbose,
            random_state=random_state,
            algorithm=algorithm,
            device=device,
        )
        self.c = c
        self.distance = distance

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN marks a missing entry
        return tags

    def _check_distance(self) -> str:
        if not isinstance(self.distance, str) or self.distance not in ("expected", "submitted"):
            raise ValueError(f"distance must be 'expected' or 'submitted', got {self.distance!r}")
        if self.distance == "submitted" and self.device is not None:
            raise ValueError(
                f"device must be None with distance='submitted' (numpy only), got {self.device!r}"
            )
        if self.distance == "submitted" and self.algorithm == "elkan":
            raise ValueError(
                "algorithm='elkan' needs distance='expected' (the submitted rule is not a metric)"
            )
        return self.distance

    @staticmethod
    def _fill_missing(X):
        """Validated ``X`` with NaN replaced by 0 (the prior mean), and the
        number of missing entries of each row."""
        X = check_data(X, name="X", allow_nan=True)
        missing = np.isnan(X)
        n_missing = missing.sum(axis=1)
        empty_rows = np.flatnonzero(n_missing == X.shape[1])
        if empty_rows.size:
            raise ValueError(
                f"X has {empty_rows.size} row(s) with every entry missing "
                f"(first: row {empty_rows[0]}); drop them before clustering"
            )
        filled = np.where(missing, 0.0, X).astype(X.dtype, copy=False)
        check_scale(filled, "X")
        return filled, n_missing

    def _check_X(self, X, *, reset: bool):
        filled = self._fill_missing(X)[0]
        self._check_features(X, filled, reset=reset)
        return filled

    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering of ``X`` (NaN marks a missing entry)."""
        c = check_positive_float(self.c, "c")
        if self._check_distance() == "submitted":
            return self._fit_submitted(X, c, sample_weight)
        X_filled, n_missing = self._fill_missing(X)
        # c for every missing entry (times the weight of its row) ...
        extra = c * _weighted_sum(n_missing, sample_weight, X_filled)
        extra = _check_cost(extra, c)
        # ... plus K-means on the zero-filled data (weighted by sample_weight)
        super().fit(X_filled, sample_weight=sample_weight)
        self._check_features(X, X_filled, reset=True)  # X's column names
        self.n_missing_ = int(n_missing.sum())
        self.cost_ = _check_cost(self.inertia_ + extra, c)
        self.inertia_ = self.cost_
        self.cost_history_ = self.inertia_history_ + extra
        self.inertia_history_ = self.cost_history_
        return self

    def _fit_submitted(self, X, c: float, sample_weight):
        """``fit`` for ``distance="submitted"``: same initial centers, the submitted iteration."""
        observed = ~np.isnan(check_data(X, name="X", allow_nan=True))
        X_filled = self._check_X(X, reset=True)
        n_missing = (~observed).sum(axis=1)
        sample_weight = check_sample_weight(sample_weight, X_filled)
        extra = c * _weighted_sum(n_missing, sample_weight, X_filled)
        extra = _check_cost(extra, c)
        n_clusters, n_init, max_iter, tol, init = self._check_params(X_filled)
        self._check_algorithm(n_clusters, None)
        verbose = _check_verbose(self.verbose)
        rng = check_random_state(self.random_state)
        mean = X_filled.mean(axis=0)  # as KMeans.fit does with the zero-filled data
        Xc = X_filled - mean
        check_small_scale(Xc, "X")  # as KMeans.fit does
        x_sq = _row_norms_sq(Xc)
        tol_abs = float(x_sq.sum(dtype=np.float64)) / X_filled.size * tol
        W = observed.astype(X_filled.dtype)
        A = Xc * W  # observed entries (shifted by ``mean``); 0 at missing ones
        best = None
        for _ in range(n_init):
            centers = _initial_centers(
                init, X_filled, Xc, x_sq, mean, n_clusters, rng, sample_weight
            )
            if verbose:
                print("Initialization complete")
            run = _observed_lloyd(
                A, W, centers, max_iter=max_iter, tol=tol_abs, sample_weight=sample_weight,
                verbose=verbose,
            )
            if best is None or run[2] < best[2]:
                best = run
        self._store(best, mean, X_filled.dtype, n_init)
        self.n_missing_ = int(n_missing.sum())
        self.cost_ = self.inertia_ = _check_cost(self.inertia_ + extra, c)
        self.cost_history_ = self.inertia_history_ = self.inertia_history_ + extra
        return self

    def expected_sq_distances(self, X) -> np.ndarray:
        """Expected squared distance (cost (2)) from each row of ``X`` to
        each center.

        The same formula whatever ``distance`` was used to fit the centers.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
        """
        c = check_positive_float(self.c, "c")
        check_fitted(self, "cluster_centers_")
        Xf, n_missing = self._fill_missing(X)
        self._check_n_features(X)
        C = self.cluster_centers_.astype(Xf.dtype, copy=False)
        d2 = (_row_norms_sq(Xf)[:, None] - 2.0 * (Xf @ C.T)
              + _row_norms_sq(C)[None, :])
        return _check_cost(np.maximum(d2, 0.0) + c * n_missing[:, None], c)

    def _rule_sq_distances(self, X) -> np.ndarray:
        """The distances the fitted rule assigns by: cost (2), or the submitted rule's."""
        if self._check_distance() == "expected":
            return self.expected_sq_distances(X)
        c = check_positive_float(self.c, "c")
        check_fitted(self, "cluster_centers_")
        W = (~np.isnan(check_data(X, name="X", allow_nan=True))).astype(np.float64)
        Xf, n_missing = self._fill_missing(X)
        self._check_n_features(X)
        C = self.cluster_centers_.astype(Xf.dtype, copy=False)
        d2 = _observed_sq_distances(Xf, W.astype(Xf.dtype), _row_norms_sq(Xf).astype(np.float64), C)
        return _check_cost(d2 + c * n_missing[:, None], c)

    def predict(self, X) -> np.ndarray:
        """Index of the nearest center of each row of ``X`` by the fitted rule (``distance``)."""
        check_positive_float(self.c, "c")  # as the other methods check it
        if self._check_distance() == "expected":
            return super().predict(X)
        return self._rule_sq_distances(X).argmin(axis=1)

    def transform(self, X) -> np.ndarray:
        """Square root of the rule's squared distances (:meth:`expected_sq_distances`
        by default)."""
        return np.sqrt(self._rule_sq_distances(X))

    def score(self, X, y=None, sample_weight=None) -> float:
        """Opposite of the rule's cost of ``X`` for the fitted centers (cost (2) by default),
        each row counted with its weight."""
        if sample_weight is not None:  # checked before any work
            check_sample_weight(sample_weight, self._fill_missing(X)[0])
        d2 = self._rule_sq_distances(X)
        return -_weighted_sum(d2.min(axis=1), sample_weight, d2)


def _weighted_sum(values, sample_weight, X) -> float:
    """``sum_i values[i]`` (times ``sample_weight[i]``, validated against the rows of ``X``)."""
    if sample_weight is None:
        return float(values.sum())
    return float(values @ check_sample_weight(sample_weight, X))


def _check_cost(cost, c: float):
    """``cost`` (a number or an array) if finite; otherwise a ValueError naming ``c``:
    ``c`` times the number of missing entries overflows (``X``'s scale is checked
    before, by :func:`~gmmlab._validation.check_scale`)."""
    if not np.all(np.isfinite(cost)):
        raise ValueError(
            f"c={c!r} is so large that the cost c * (number of missing entries) overflows "
            "float64; use a smaller c (c changes the cost, not the clustering)"
        )
    return cost
