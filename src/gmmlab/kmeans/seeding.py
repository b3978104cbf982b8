"""Initial centers: k-means++ (:func:`kmeans_plusplus`), class means (:func:`class_means`),
and the initial centers of one run of :class:`~gmmlab.kmeans.KMeans` (:func:`_initial_centers`).

The greedy k-means++ that the "Clustering and K-means" chapter shows
(``book/*/02_kmeans``) is :func:`_kmeans_plusplus`; it consumes the random state as
scikit-learn does.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    check_data,
    check_int,
    check_random_state,
    check_sample_weight,
    check_scale,
    check_small_scale,
    to_numpy,
)
from .lloyd import _check_x_sq, _row_norms_sq


def _check_n_clusters(n_clusters, n_samples: int) -> int:
    n_clusters = check_int(n_clusters, "n_clusters", low=1)
    if n_clusters > n_samples:
        raise ValueError(f"n_samples={n_samples} should be >= n_clusters={n_clusters}")
    return n_clusters


def _kmeans_plusplus(X, n_clusters: int, rng, x_sq=None,
                     n_local_trials: int | None = None, sample_weight=None):
    """Greedy k-means++ on validated data.

    Consumes ``rng`` exactly as scikit-learn does. With ``sample_weight``,
    each point's chances (and its share of the potential) are weighted.
    """
    n = X.shape[0]
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    x_sq = x_sq.astype(np.float64, copy=False)
    if n_local_trials is None:
        n_trials = 2 + int(np.log(n_clusters))
    else:
        n_trials = n_local_trials
    w = np.ones(n) if sample_weight is None else sample_weight
    centers = np.empty((n_clusters, X.shape[1]), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.int64)

    def sq_dist_to(rows):  # (len(rows), n) squared distances, clipped at 0
        d = X[rows] @ X.T
        d = x_sq[rows][:, None] - 2.0 * d + x_sq[None, :]
        return np.maximum(d, 0.0, out=d).astype(np.float64, copy=False)

    first = rng.choice(n, p=w / w.sum())  # uniform for equal weights
    centers[0] = X[first]
    indices[0] = first
    closest = sq_dist_to([first])[0]
    potential = closest @ w
    for c in range(1, n_clusters):
        # Candidates drawn with probability proportional to w D(x)^2 ...
        targets = rng.uniform(size=n_trials) * potential
        candidates = np.searchsorted(np.cumsum(w * closest), targets)
        np.clip(candidates, None, n - 1, out=candidates)
        # ... and the one that lowers the potential most is kept.
        dist = np.minimum(closest, sq_dist_to(candidates))
        pots = dist @ w
        best = int(np.argmin(pots))
        potential, closest = pots[best], dist[best]
        centers[c] = X[candidates[best]]
        indices[c] = candidates[best]
    return centers, indices


def kmeans_plusplus(
    X,
    n_clusters: int,
    *,
    sample_weight=None,
    x_squared_norms=None,
    random_state=None,
    n_local_trials: int | None = None,
):
    """k-means++ seeding (Arthur & Vassilvitskii 2007), greedy variant.

    The first center is a data point drawn uniformly; each next one is the best of
    ``2 + ln k`` candidates drawn with probability proportional to ``D(x)^2``, the
    squared distance to the nearest center already chosen -- "best" meaning the one
    that lowers the total ``sum D(x)^2`` most. This is scikit-learn's algorithm and
    consumes the random state the same way, so with the same seed it picks the same
    points as :func:`sklearn.cluster.kmeans_plusplus`.

    Used in the "Clustering and K-means" chapter (``book/*/02_kmeans``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Dense data (integers become ``float64``).
    n_clusters : int
        Number of centers, ``1 <= n_clusters <= n_samples``.
    sample_weight : array-like of shape (n_samples,) or float, optional
        Weights (>= 0): the draws are proportional to ``w D(x)^2`` (the first one to
        ``w``) and the potential is ``sum w D(x)^2``, as in scikit-learn. A point of
        weight 0 is never chosen.
    x_squared_norms : array-like of shape (n_samples,), optional
        Precomputed squared norms of the rows of ``X``.
    random_state : int, numpy RandomState or None
        Passed to :func:`sklearn.utils.check_random_state`.
    n_local_trials : int, optional
        Candidates per step; default ``2 + int(ln n_clusters)``. With 1 it is the
        original (non-greedy) k-means++: each center drawn with probability
        proportional to ``D(x)^2``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        Rows of ``X`` chosen as centers.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]])
    >>> centers, idx = kmeans_plusplus(X, 2, random_state=0)
    >>> sorted(int(i) // 2 for i in idx)  # one point from each pair
    [0, 1]
    >>> _, idx = kmeans_plusplus(X, 2, sample_weight=[0, 1, 0, 1], random_state=0)
    >>> sorted(idx.tolist())  # weight 0: never a center
    [1, 3]
    """
    X = check_data(X, name="X")
    check_scale(X, "X")
    check_small_scale(X, "X")
    n_clusters = _check_n_clusters(n_clusters, X.shape[0])
    sample_weight = check_sample_weight(sample_weight, X)
    if x_squared_norms is not None:
        x_squared_norms = _check_x_sq(x_squared_norms, X, name="x_squared_norms")
    if n_local_trials is not None:
        n_local_trials = check_int(n_local_trials, "n_local_trials", low=1)
    rng = check_random_state(random_state)
    return _kmeans_plusplus(
        X, n_clusters, rng, x_squared_norms, n_local_trials=n_local_trials,
        sample_weight=sample_weight,
    )


def class_means(X, y):
    """Mean of each class: the homework's "class-mean" initialisation of K-means.

    Used in the "Clustering and K-means" chapter (``book/*/02_kmeans``) to start K-means
    from the ten digit means (it uses the labels, so it is a reference point, not an
    unsupervised method).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Dense data (integers become ``float64``).
    y : array-like of shape (n_samples,)
        Class labels (numbers or strings; no NaN).

    Returns
    -------
    means : ndarray of shape (n_classes, n_features)
        Row ``j`` is the mean of the samples of the ``j``-th class in sorted order
        (``np.unique(y)``).

    Examples
    --------
    >>> class_means([[0.0, 0.0], [2.0, 2.0], [10.0, 0.0]], [1, 1, 0]).tolist()
    [[10.0, 0.0], [1.0, 1.0]]
    """
    X = check_data(X, name="X")
    top = max(float(X.max()), -float(X.min()))  # max |X|
    if top > np.finfo(np.float64).max / X.shape[0]:  # the class sums would overflow
        raise ValueError(
            f"X has entries as large as {top:.3g} in magnitude: sums of {X.shape[0]} of them "
            f"overflow float64; rescale X, e.g. divide it by its standard deviation"
        )
    y = np.asarray(to_numpy(y))
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be a 1-D array of {X.shape[0]} labels (one per row of X), got shape {y.shape}"
        )
    if y.dtype.kind not in "biufUSO":
        raise TypeError(f"y must hold class labels (integers or strings), got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinite labels")
    try:
        _, codes = np.unique(y, return_inverse=True)
    except TypeError:  # an object array mixing types
        raise TypeError("y must hold labels of one type (all numbers or all strings)") from None
    counts = np.bincount(codes)
    sums = np.zeros((counts.size, X.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, X)
    return (sums / counts[:, None]).astype(X.dtype, copy=False)



def _initial_centers(init, X, Xc, x_sq, mean, n_clusters: int, rng, sample_weight=None):
    """Initial centers of one run, on data ``Xc = X - mean`` (validated ``init``).

    A callable ``init`` is called on the (uncentred) data ``X``.
    """
    if isinstance(init, str) and init == "k-means++":
        return _kmeans_plusplus(Xc, n_clusters, rng, x_sq, sample_weight=sample_weight)[0]
    if isinstance(init, str):  # "random"
        n = Xc.shape[0]
        w = np.ones(n) if sample_weight is None else sample_weight
        seeds = rng.choice(n, size=n_clusters, replace=False, p=w / w.sum())
        return Xc[seeds]
    if callable(init):
        centers = _check_init_array(init(X, n_clusters, random_state=rng), n_clusters, X)
        return centers - mean
    return init - mean


def _check_init_array(init, n_clusters: int, X):
    """Initial centers given as an array (or returned by a callable ``init``), checked."""
    try:
        init = check_data(init, name="init", dtype=X.dtype)
        check_scale(init, "init")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"init must be 'k-means++', 'random', a callable or an array of shape "
            f"({n_clusters}, {X.shape[1]}): {exc}"
        ) from None
    expected = f"init must have shape (n_clusters, n_features) = ({n_clusters}, {X.shape[1]})"
    if init.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"clusters {n_clusters}: {expected}"
        )
    if init.shape[1] != X.shape[1]:
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"features of the data {X.shape[1]}: {expected}"
        )
    return init
