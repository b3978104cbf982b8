"""K-means clustering: Lloyd's algorithm and Elkan's acceleration of it, k-means++
and class-mean seeding, missing data.

Used by the "Clustering and K-means" chapters (``book/*/02_kmeans``,
``book/*/03_kmeans_mnist``: :class:`KMeans`, :func:`kmeans_plusplus`,
:func:`class_means`, :func:`lloyd_step`) and by the assignment chapter on missing
data (``book/*/08_kmeans_missing``: :class:`MissingDataKMeans`, pen-and-paper
question 1). The Gaussian-mixture code initialises EM with :class:`KMeans`.

Everything means what it means in scikit-learn's ``KMeans``: ``tol`` is relative
to the mean feature variance and compared with the total squared center shift, a
run ends with a final assignment step, and ``n_iter_`` counts Lloyd iterations.
Started from the same centers, the results agree with scikit-learn's to rounding
error. The estimators are scikit-learn estimators (``get_params``/``set_params``,
:func:`sklearn.base.clone`, ``GridSearchCV``) and take what a scikit-learn user
passes: ``sample_weight`` (a point of weight ``w`` counts as ``w`` copies of it:
weighted means, weighted inertia, weighted k-means++), ``n_init="auto"``,
``verbose``, ``algorithm="lloyd"`` or ``"elkan"`` (:func:`_elkan`, the same
iterations with fewer distances). Sparse input is refused with a TypeError: the
data are centred on their mean, which would make them dense.

Randomness. ``random_state`` is None, an int or a ``numpy.random.RandomState``,
turned into a RandomState by :func:`sklearn.utils.check_random_state`; every draw
(k-means++, ``init="random"``) is made from it in scikit-learn's order. No numpy
Generator is involved.

Numerics. Squared distances are computed with BLAS as
``||x||^2 - 2 x.c + ||c||^2`` on data centred on its mean (which keeps that
expansion accurate), in chunks of rows so memory stays bounded for large ``n``.
An empty cluster is re-seeded deterministically with the point farthest from its
own center (as scikit-learn does). ``float32`` and ``float64`` data keep their
precision (integer data become ``float64``); sums of squares are accumulated in
``float64``. With ``device=`` (``"cpu"``, ``"cuda"``, ...) the same iteration
runs in torch.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import validate_data

from ._backend import ChunkPool, n_threads
from ._validation import (
    check_data,
    check_device,
    check_fitted,
    check_int,
    check_positive_float,
    check_random_state,
    check_sample_weight,
    to_numpy,
)

__all__ = ["KMeans", "MissingDataKMeans", "kmeans_plusplus", "class_means", "lloyd_step"]

#: Rows per chunk in the assignment step for 784 features (MNIST); lower-dimensional
#: data get proportionally longer chunks (:func:`_chunk_rows`): bounded memory,
#: cache-friendly, and few enough chunks that Python's per-chunk work stays small.
CHUNK_SIZE = 512
#: Rows per chunk for the torch path on an accelerator (GPU).
TORCH_CHUNK_SIZE = 1 << 16


# ---------------------------------------------------------------------------
# Numpy kernels
# ---------------------------------------------------------------------------


def _row_norms_sq(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def _chunk_rows(n_features: int) -> int:
    """Rows per chunk: about ``CHUNK_SIZE * 784`` numbers, and at least ``CHUNK_SIZE`` rows."""
    return max(CHUNK_SIZE, CHUNK_SIZE * 784 // max(1, n_features))


_n_threads = n_threads  # the names used below
_ChunkPool = ChunkPool


def _assign_chunk(Xc, centers_m2, c_sq, onehot_t=None, weights=None):
    """Assignment step on one chunk of rows.

    ``centers_m2`` is ``-2 * centers``. Returns the labels, the sum over the chunk of
    ``min_k (||c_k||^2 - 2 x.c_k)`` (each row times its weight, when ``weights`` are
    given) and, when a sparse (K, m) one-hot matrix ``onehot_t`` is given (see
    :func:`_onehot_t`), the per-cluster sums of the rows (weighted likewise).
    """
    dist = Xc @ centers_m2.T  # -2 x.c, BLAS
    dist += c_sq  # ||c||^2 - 2 x.c: the ||x||^2 term does not change the argmin
    lab = dist.argmin(axis=1)
    best = dist[np.arange(lab.size), lab]
    partial = float(best.sum()) if weights is None else float(best @ weights)
    if onehot_t is None:
        return lab, partial, None
    # Per-cluster sums: (one-hot of the labels)^T @ Xc, a sparse product (n*d additions).
    onehot_t.indices[:] = lab  # column i has its single 1 in row lab[i]
    if weights is not None:
        onehot_t.data[:] = weights  # ... or its weight
    return lab, partial, onehot_t @ Xc


def _onehot_t(n_clusters: int, m: int, dtype):
    """A sparse (n_clusters, m) matrix with one 1 per column, whose rows are set later.

    Built once per chunk size and refilled in place (``.indices``) for each chunk:
    this avoids scipy's validation cost on every chunk.
    """
    return sparse.csc_matrix(
        (np.ones(m, dtype=dtype), np.zeros(m, dtype=np.int32), np.arange(m + 1, dtype=np.int32)),
        shape=(n_clusters, m),
    )


def _assign(
    X,
    centers,
    x_sq=None,
    *,
    sums: bool = False,
    sample_weight=None,
    pool=None,
    chunk_size: int | None = None,
):
    """Nearest center of every row of ``X``, chunk by chunk (chunks shared among threads).

    Returns ``labels`` (int64), ``inertia`` (sum of squared distances to the nearest
    center, from the BLAS expansion) and, with ``sums=True``, the per-cluster sums of
    rows (float64, (K, d)) and counts (int64, (K,)). With ``sample_weight``, the
    inertia, the sums and the counts are weighted (the counts are then float64 sums
    of weights). ``pool`` is a :class:`_ChunkPool` (made here if None).
    """
    if pool is None:
        with _ChunkPool() as pool:
            return _assign(
                X, centers, x_sq, sums=sums, sample_weight=sample_weight, pool=pool,
                chunk_size=chunk_size,
            )
    n, d = X.shape
    chunk_size = chunk_size or _chunk_rows(d)
    k = centers.shape[0]
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    c_sq = _row_norms_sq(centers)
    centers_m2 = -2.0 * centers
    labels = np.empty(n, dtype=np.int64)

    def work(block):  # a contiguous block of rows, processed chunk by chunk
        lo, hi = block
        total = np.zeros((k, d), dtype=np.float64) if sums else None
        onehots = {}  # one sparse one-hot matrix per chunk length, reused
        inertia = 0.0
        for start in range(lo, hi, chunk_size):
            stop = min(start + chunk_size, hi)
            weights = None if sample_weight is None else sample_weight[start:stop]
            onehot_t = None
            if sums:
                onehot_t = onehots.get(stop - start)
                if onehot_t is None:
                    onehot_t = onehots[stop - start] = _onehot_t(k, stop - start, X.dtype)
            labels[start:stop], partial, part = _assign_chunk(
                X[start:stop], centers_m2, c_sq, onehot_t, weights
            )
            inertia += partial
            if sums:
                total += part
        return inertia, total

    n_chunks = -(-n // chunk_size)
    n_workers = min(pool.n_threads, n_chunks)
    bounds = [min(n, chunk_size * (n_chunks * w // n_workers)) for w in range(n_workers + 1)]
    parts = pool.map(work, list(zip(bounds[:-1], bounds[1:])))
    if sample_weight is None:
        x_term = float(x_sq.sum(dtype=np.float64))
    else:
        x_term = float(x_sq.astype(np.float64, copy=False) @ sample_weight)
    inertia = max(x_term + sum(p[0] for p in parts), 0.0)
    if not sums:
        return labels, inertia
    counts = np.bincount(labels, weights=sample_weight, minlength=k)
    return labels, inertia, sum(p[1] for p in parts[1:]) + parts[0][1], counts


def _relocate_empty(X, centers, labels, sums, counts, sample_weight=None) -> None:
    """Re-seed empty clusters in place: each takes the point farthest from its own center.

    Deterministic (farthest first, ties by index), as scikit-learn's Lloyd does;
    nothing moves when every point sits on its center (duplicate points). A
    singleton cluster can be emptied so: :func:`_cluster_means` places it. With
    ``sample_weight``, a cluster is empty when its points weigh 0 in total, and the
    point moves with its weight.
    """
    empty = np.flatnonzero(counts == 0)
    if empty.size == 0:
        return
    dist = ((X - centers[labels]) ** 2).sum(axis=1, dtype=np.float64)
    if dist.max() == 0:
        return
    far = np.lexsort((np.arange(X.shape[0]), -dist))[: empty.size]
    for k_new, i in zip(empty, far):
        k_old = labels[i]
        w = 1 if sample_weight is None else sample_weight[i]
        sums[k_old] -= w * X[i]
        counts[k_old] -= w
        sums[k_new] = w * X[i]
        counts[k_new] = w


def lloyd_step(X, centers, x_sq=None, *, sample_weight=None, pool=None,
               check_input=True):
    """One Lloyd iteration: assign each point to its nearest center, then move
    each center to the mean of its points.

    Shown in the "Clustering and K-means" chapter (``book/*/02_kmeans``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (integers are converted to ``float64``; NaN and infinities are
        refused).
    centers : array-like of shape (n_clusters, n_features)
        Current centers (converted to the dtype of ``X``).
    x_sq : array-like of shape (n_samples,), optional
        Precomputed squared row norms of ``X``.
    sample_weight : array-like of shape (n_samples,) or float, optional
        Weight of each point (>= 0): the means and the inertia are weighted.
    check_input : bool
        Validate the arguments (default). :class:`KMeans` passes False in its
        loop, where they have been checked once.

    Returns
    -------
    new_centers : ndarray of shape (n_clusters, n_features)
        Mean of the points assigned to each center (an empty cluster takes the
        point farthest from its center).
    labels : ndarray of shape (n_samples,)
        Index of the nearest center of each point (for the *old* centers).
    inertia : float
        Sum of squared distances of the points to their nearest *old* center.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    >>> start = np.array([[1.0, 0.0], [3.0, 0.0]])
    >>> new, labels, inertia = lloyd_step(X, start)
    >>> new.tolist(), labels.tolist(), round(inertia, 6)
    ([[0.0, 0.5], [4.0, 0.5]], [0, 0, 1, 1], 6.0)
    >>> lloyd_step([[0, 0], [0, 1]], [[0, 0]])[0].tolist()  # floats
    [[0.0, 0.5]]
    """
    if check_input:
        X, centers, x_sq, sample_weight = _check_step_input(
            X, centers, x_sq, sample_weight)
    # Assignment step: nearest center of each point, per-cluster sums, counts.
    labels, inertia, sums, counts = _assign(
        X, centers, x_sq, sums=True, sample_weight=sample_weight, pool=pool
    )
    # Update step: each center moves to the mean of its points.
    _relocate_empty(X, centers, labels, sums, counts, sample_weight)
    new_centers = _cluster_means(sums, counts).astype(X.dtype, copy=False)
    return new_centers, labels, inertia


def _check_step_input(X, centers, x_sq, sample_weight):
    """The arguments of :func:`lloyd_step`, validated, or a clear error."""
    X = check_data(X, name="X")
    centers = check_data(centers, name="centers", dtype=X.dtype)
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"centers must have {X.shape[1]} columns (one per feature of X), "
            f"got shape {centers.shape}"
        )
    if x_sq is not None:
        x_sq = _check_x_sq(x_sq, X, name="x_sq")
    return X, centers, x_sq, check_sample_weight(sample_weight, X)


def _check_x_sq(x_sq, X, *, name: str):
    """Precomputed squared row norms: a finite, non-negative 1-D array, one per row of ``X``."""
    x_sq = np.asarray(to_numpy(x_sq))
    if x_sq.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be a numeric array of shape ({X.shape[0]},), got dtype {x_sq.dtype}"
        )
    if x_sq.shape != (X.shape[0],):
        raise ValueError(
            f"The length of {name} {x_sq.shape} should be equal to the length of n_samples "
            f"({X.shape[0]},)"
        )
    if not np.isfinite(x_sq).all() or (x_sq < 0).any():
        raise ValueError(f"{name} must hold finite squared norms (>= 0)")
    return x_sq.astype(X.dtype, copy=False)


def _cluster_means(sums, counts):
    """``sums / counts`` per cluster; a cluster still empty after re-seeding
    takes the mean of the largest cluster, as in scikit-learn (never 0 / 0).

    For numpy arrays and torch tensors alike (:func:`_torch_lloyd_step`); the
    counts may be sums of weights.
    """
    empty = counts == 0
    means = sums / (counts + empty)[:, None]  # 1 for an empty cluster: no 0 / 0
    if bool(empty.any()):
        means[empty] = means[[int(counts.argmax())]]  # a copy: no aliasing
    return means


def _iterate(step, centers, *, max_iter: int, tol: float, same=np.array_equal, float64=np.float64,
             verbose: int = 0):
    """Lloyd's loop and scikit-learn's stopping rules, shared by every engine.

    ``step(centers)`` returns ``new_centers, labels, cost`` (one assignment and one
    update). The loop stops when the labels did not change (the centers are then final),
    when the centers moved by at most ``tol`` (sum of squared shifts, accumulated in
    ``float64``), or after ``max_iter`` steps. ``same`` compares two label arrays
    (``np.array_equal``, or ``torch.equal`` for tensors). ``verbose`` prints
    scikit-learn's messages.

    Returns ``centers, labels, n_iter, history, final``: ``final`` is True when the
    labels already match the returned centers (otherwise the caller assigns once more).
    """
    history, labels_old, final = [], None, False
    for it in range(max_iter):
        new_centers, labels, cost = step(centers)
        history.append(cost)
        if verbose:
            print(f"Iteration {it}, inertia {cost}.")
        shift = float(((new_centers - centers) ** 2).sum(dtype=float64))
        centers = new_centers
        if labels_old is not None and same(labels, labels_old):
            final = True  # labels did not change: centers are final
            if verbose:
                print(f"Converged at iteration {it}: strict convergence.")
            break
        if shift <= tol:
            if verbose:
                print(f"Converged at iteration {it}: center shift {shift} within tolerance {tol}.")
            break
        labels_old = labels
    return centers, labels, it + 1, history, final


def _lloyd(
    X, centers, *, max_iter: int, tol: float, x_sq=None, sample_weight=None, verbose: int = 0
):
    """Lloyd's algorithm from ``centers``; scikit-learn's stopping rules (:func:`_iterate`).

    Returns ``centers, labels, inertia, n_iter, inertia_history``.
    """
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    with _ChunkPool() as pool:

        def step(c):  # the arguments were checked by KMeans.fit
            return lloyd_step(
                X, c, x_sq, sample_weight=sample_weight, pool=pool, check_input=False
            )

        centers, labels, n_iter, history, final = _iterate(
            step, centers, max_iter=max_iter, tol=tol, verbose=verbose
        )
        if not final:
            # Final assignment step, so that labels match the returned centers.
            labels, _ = _assign(X, centers, x_sq, pool=pool)
    inertia = _exact_inertia(X, centers, labels, sample_weight=sample_weight)
    return centers, labels, inertia, n_iter, np.asarray(history)


def _exact_inertia(
    X, centers, labels, chunk_size: int = CHUNK_SIZE, *, sample_weight=None
) -> float:
    """Sum of ``||x_i - c_{labels_i}||^2`` (times ``sample_weight[i]``), computed
    directly (no expansion)."""
    total = 0.0
    for start in range(0, X.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        diff = X[rows] - centers[labels[rows]]
        if sample_weight is None:
            total += float(np.einsum("ij,ij->", diff, diff, dtype=np.float64))
        else:
            sq = np.einsum("ij,ij->i", diff, diff, dtype=np.float64)
            total += float(sq @ sample_weight[rows])
    return total


# ---------------------------------------------------------------------------
# Elkan's acceleration (algorithm="elkan")
# ---------------------------------------------------------------------------


def _sq_dist_to_own(X, centers, labels, chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """``||x_i - c_{labels_i}||^2`` for every row, computed directly, in float64."""
    out = np.empty(X.shape[0], dtype=np.float64)
    for start in range(0, X.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        diff = X[rows] - centers[labels[rows]]
        out[rows] = np.einsum("ij,ij->i", diff, diff, dtype=np.float64)
    return out


def _elkan(
    X,
    centers,
    *,
    max_iter: int,
    tol: float,
    x_sq=None,
    sample_weight=None,
    verbose: int = 0,
    stats=None,
):
    """Lloyd's algorithm with Elkan's (2003) triangle-inequality pruning.

    The same iterations as :func:`_lloyd` (same stopping rules, :func:`_iterate`; the
    same labels and centers up to rounding in exact ties), with fewer distances
    computed. Write ``a`` for the center of a point ``x`` and ``u = d(x, c_a)``.
    The triangle inequality gives ``d(x, c_j) >= d(c_a, c_j) - u``, so center ``j``
    cannot be nearer than ``c_a`` when ``u <= d(c_a, c_j) / 2``. Each point also
    keeps a lower bound ``lower[i, j]`` on its distance to every center, valid
    after the centers move (``d(x, c_j') >= d(x, c_j) - ||c_j' - c_j||``). At each
    assignment step:

    1. ``u`` is computed exactly for every point (``n d`` work; it also gives the
       inertia), and every lower bound drops by the distance its center moved;
    2. a point with ``u <= s_a`` (half the distance from ``c_a`` to its nearest
       other center) keeps its center, with no other distance computed;
    3. for the others, ``d(x, c_j)`` is computed only for the centers ``j`` with
       ``u > lower[i, j]`` and ``u > d(c_a, c_j) / 2``; it becomes the new
       ``lower[i, j]``, and the point moves to the nearest of these (ties: the
       lowest index, as in Lloyd's ``argmin``).

    The first step computes every distance (as Lloyd does, BLAS). The update step is
    Lloyd's (weighted means, empty clusters re-seeded by :func:`_relocate_empty`).
    Runs on numpy, on one thread: with few clusters (K = 10 on MNIST) Lloyd's BLAS
    products on every core are as fast; the savings grow with K. Returns what
    :func:`_lloyd` returns; ``stats``, a dict, receives the number of point-center
    distances computed (``"distances"``, the ``n`` exact ones of step 1 included).
    """
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    n, d = X.shape
    k = centers.shape[0]
    weight = np.ones(n) if sample_weight is None else sample_weight  # for the inertia
    rows_per_chunk = max(1, (1 << 22) // (d * k))  # about 4M numbers per gathered block
    state = {"previous": None, "labels": None, "lower": None}
    counted = [0]  # point-center distances computed

    def first_assignment(centers):  # every distance, as Lloyd's assignment computes them
        labels, lower = np.empty(n, dtype=np.int64), np.empty((n, k), dtype=np.float64)
        centers_m2, c_sq = -2.0 * centers, _row_norms_sq(centers)
        for start in range(0, n, CHUNK_SIZE):
            rows = slice(start, start + CHUNK_SIZE)
            dist = X[rows] @ centers_m2.T
            dist += c_sq
            labels[rows] = dist.argmin(axis=1)
            lower[rows] = np.sqrt(np.maximum(dist + x_sq[rows, None], 0.0))
        counted[0] += n * k
        return labels, lower

    def pruned_assignment(centers, labels, lower):  # steps 1-3 above
        moved = np.sqrt(((centers - state["previous"]) ** 2).sum(axis=1, dtype=np.float64))
        lower -= moved
        np.maximum(lower, 0.0, out=lower)
        upper = np.sqrt(_sq_dist_to_own(X, centers, labels))  # step 1
        counted[0] += n
        between = _center_distances(centers)
        half = 0.5 * between
        np.fill_diagonal(between, np.inf)
        s = 0.5 * between.min(axis=1)  # half the distance to the nearest other center
        active = np.flatnonzero(upper > s[labels])  # step 2: the others keep their center
        for start in range(0, active.size, rows_per_chunk):  # step 3
            rows = active[start : start + rows_per_chunk]
            own, u = labels[rows], upper[rows]
            candidate = (u[:, None] > lower[rows]) & (u[:, None] > half[own])
            candidate[np.arange(rows.size), own] = False
            r, j = np.nonzero(candidate)
            counted[0] += r.size
            diff = X[rows[r]] - centers[j]
            dist = np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.float64))
            lower[rows[r], j] = dist
            best = np.full((rows.size, k), np.inf)
            best[r, j] = dist
            best[np.arange(rows.size), own] = u
            labels[rows] = best.argmin(axis=1)
            upper[rows] = best[np.arange(rows.size), labels[rows]]
        return upper

    def step(centers):
        if state["previous"] is None:
            labels, lower = state["labels"], state["lower"] = first_assignment(centers)
            upper = lower[np.arange(n), labels]
        else:
            labels, lower = state["labels"], state["lower"]
            upper = pruned_assignment(centers, labels, lower)
            lower[np.arange(n), labels] = upper  # the distance to its own center is exact
        state["previous"] = centers
        # Update step, as in lloyd_step: weighted means of the clusters.
        counts = np.bincount(labels, weights=sample_weight, minlength=k)
        sums = _cluster_sums(X, labels, k, sample_weight)
        _relocate_empty(X, centers, labels, sums, counts, sample_weight)
        new_centers = _cluster_means(sums, counts).astype(X.dtype, copy=False)
        return new_centers, labels.copy(), float(upper**2 @ weight)

    with _ChunkPool() as pool:
        centers, labels, n_iter, history, final = _iterate(
            step, centers, max_iter=max_iter, tol=tol, verbose=verbose
        )
        if not final:
            labels, _ = _assign(X, centers, x_sq, pool=pool)
    inertia = _exact_inertia(X, centers, labels, sample_weight=sample_weight)
    if stats is not None:
        stats["distances"] = counted[0]
    return centers, labels, inertia, n_iter, np.asarray(history)


def _cluster_sums(X, labels, n_clusters: int, sample_weight=None) -> np.ndarray:
    """Per-cluster sums of the rows of ``X`` (each times its weight), in float64.

    Chunk by chunk, with the sparse one-hot product of :func:`_assign_chunk`.
    """
    n, d = X.shape
    chunk_size = _chunk_rows(d)
    sums = np.zeros((n_clusters, d), dtype=np.float64)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        onehot_t = _onehot_t(n_clusters, stop - start, X.dtype)
        onehot_t.indices[:] = labels[start:stop]
        if sample_weight is not None:
            onehot_t.data[:] = sample_weight[start:stop]
        sums += onehot_t @ X[start:stop]
    return sums


def _center_distances(centers) -> np.ndarray:
    """Distances between the centers, computed directly, row by row (``K d`` memory)."""
    k = centers.shape[0]
    out = np.empty((k, k), dtype=np.float64)
    for i in range(k):
        diff = centers - centers[i]
        out[i] = np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.float64))
    return out


# ---------------------------------------------------------------------------
# Torch kernels (same structure; used with device=...)
# ---------------------------------------------------------------------------


def _torch_assign(
    X, centers, x_sq, *, sums: bool = False, sample_weight=None, chunk_size: int | None = None
):
    import torch

    if chunk_size is None:  # large chunks on accelerators (few kernel launches), cache-sized on CPU
        chunk_size = CHUNK_SIZE if X.device.type == "cpu" else TORCH_CHUNK_SIZE
    n, d = X.shape
    k = centers.shape[0]
    c_sq = (centers * centers).sum(1)
    labels = torch.empty(n, dtype=torch.int64, device=X.device)
    min_sq = torch.empty(n, dtype=torch.float64, device=X.device)
    total = torch.zeros((k, d), dtype=torch.float64, device=X.device) if sums else None
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        Xc = X[start:stop]
        dist = torch.addmm(c_sq, Xc, centers.T, alpha=-2.0)  # ||c||^2 - 2 x.c
        best, lab = dist.min(dim=1)
        labels[start:stop] = lab
        min_sq[start:stop] = best.double() + x_sq[start:stop]
        if sums:
            rows = Xc.double()
            if sample_weight is not None:
                rows = rows * sample_weight[start:stop, None]
            total.index_add_(0, lab, rows)
    min_sq.clamp_(min=0.0)
    if not sums:
        return labels, min_sq
    counts = torch.bincount(labels, weights=sample_weight, minlength=k)
    return labels, min_sq, total, counts


def _torch_relocate_empty(X, centers, labels, sums, counts, sample_weight=None) -> None:
    import torch

    empty = torch.nonzero(counts == 0).flatten().tolist()
    if not empty:
        return
    dist = ((X - centers[labels]) ** 2).sum(1, dtype=torch.float64)
    if float(dist.max()) == 0:
        return
    # farthest first, ties by index (stable sort of -dist)
    far = torch.sort(-dist, stable=True).indices[: len(empty)].tolist()
    for k_new, i in zip(empty, far):
        k_old = int(labels[i])
        w = 1 if sample_weight is None else sample_weight[i]
        sums[k_old] -= w * X[i].double()
        counts[k_old] -= w
        sums[k_new] = w * X[i].double()
        counts[k_new] = w


def _torch_lloyd_step(X, centers, x_sq, sample_weight=None):
    """Torch twin of :func:`lloyd_step`."""
    labels, min_sq, sums, counts = _torch_assign(
        X, centers, x_sq, sums=True, sample_weight=sample_weight
    )
    _torch_relocate_empty(X, centers, labels, sums, counts, sample_weight)
    new_centers = _cluster_means(sums, counts).to(X.dtype)
    cost = min_sq.sum() if sample_weight is None else min_sq @ sample_weight
    return new_centers, labels, float(cost)


def _torch_lloyd(
    X_np, centers_np, *, max_iter: int, tol: float, device, sample_weight=None, verbose: int = 0
):
    import torch

    X = torch.as_tensor(X_np, device=device)
    centers = torch.as_tensor(centers_np, device=device)
    w = None
    if sample_weight is not None:
        w = torch.as_tensor(sample_weight, dtype=torch.float64, device=device)
    x_sq = (X * X).sum(1, dtype=torch.float64)
    centers, labels, n_iter, history, final = _iterate(
        lambda c: _torch_lloyd_step(X, c, x_sq, w), centers, max_iter=max_iter, tol=tol,
        same=torch.equal, float64=torch.float64, verbose=verbose,
    )
    if not final:
        labels, _ = _torch_assign(X, centers, x_sq)
    diff = X - centers[labels]
    if w is None:
        inertia = float((diff * diff).sum(dtype=torch.float64))
    else:
        inertia = float((diff * diff).sum(1, dtype=torch.float64) @ w)
    return centers.cpu().numpy(), labels.cpu().numpy(), inertia, n_iter, np.asarray(history)


# ---------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------


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


_check_device = check_device


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
        device = _check_device(self.device)
        algorithm = self._check_algorithm(n_clusters, device)
        verbose = _check_verbose(self.verbose)
        rng = check_random_state(self.random_state)
        if device is not None:
            engine = functools.partial(_torch_lloyd, device=device)
        else:
            engine = _elkan if algorithm == "elkan" else _lloyd
        # Centre the data: keeps ||x||^2 - 2 x.c + ||c||^2 accurate (scikit-learn does the same).
        mean = X.mean(axis=0)
        Xc = X - mean
        x_sq = _row_norms_sq(Xc)
        # tol is relative to the mean feature variance, sum_i ||x_i - mean||^2 / (n d).
        tol_abs = float(x_sq.sum(dtype=np.float64)) / X.size * tol
        best = None
        for _ in range(n_init):
            centers = _initial_centers(init, X, Xc, x_sq, mean, n_clusters, rng, sample_weight)
            if verbose:
                print("Initialization complete")
            kwargs = {} if device is not None else {"x_sq": x_sq}
            run = engine(
                Xc, centers, max_iter=max_iter, tol=tol_abs, sample_weight=sample_weight,
                verbose=verbose, **kwargs,
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
                onehot_t = onehots.get(stop - start)
                if onehot_t is None:
                    onehot_t = onehots[stop - start] = _onehot_t(k, stop - start, A.dtype)
                onehot_t.indices[:] = lab
                if sample_weight is not None:
                    onehot_t.data[:] = sample_weight[start:stop]
                total += onehot_t @ Ac
                seen += onehot_t @ Wc
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

    with _ChunkPool() as pool:

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
        return np.where(missing, 0.0, X).astype(X.dtype, copy=False), n_missing

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
        # K-means on the zero-filled data (weighted by sample_weight) ...
        super().fit(X_filled, sample_weight=sample_weight)
        self._check_features(X, X_filled, reset=True)  # X's column names
        self.n_missing_ = int(n_missing.sum())
        # ... plus c for every missing entry (times the weight of its row)
        extra = c * _weighted_sum(n_missing, sample_weight, X_filled)
        self.cost_ = self.inertia_ + extra
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
        n_clusters, n_init, max_iter, tol, init = self._check_params(X_filled)
        self._check_algorithm(n_clusters, None)
        verbose = _check_verbose(self.verbose)
        rng = check_random_state(self.random_state)
        mean = X_filled.mean(axis=0)  # as KMeans.fit does with the zero-filled data
        Xc = X_filled - mean
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
        extra = c * _weighted_sum(n_missing, sample_weight, X_filled)
        self.cost_ = self.inertia_ = self.inertia_ + extra
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
        return np.maximum(d2, 0.0) + c * n_missing[:, None]

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
        return d2 + c * n_missing[:, None]

    def predict(self, X) -> np.ndarray:
        """Index of the nearest center of each row of ``X`` by the fitted rule (``distance``)."""
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
