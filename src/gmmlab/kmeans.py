"""K-means clustering: Lloyd's algorithm, k-means++ seeding, class-mean seeding, missing data.

Used by the "Clustering and K-means" chapters (``book/*/02_kmeans``,
``book/*/03_kmeans_mnist``: :class:`KMeans`, :func:`kmeans_plusplus`,
:func:`class_means`, :func:`lloyd_step`) and by the assignment chapter on missing
data (``book/*/08_kmeans_missing``: :class:`MissingDataKMeans`, pen-and-paper
question 1). The Gaussian-mixture code initialises EM with :class:`KMeans`.

Everything means what it means in scikit-learn's ``KMeans(algorithm="lloyd")``:
``tol`` is relative to the mean feature variance and compared with the total
squared center shift, a run ends with a final assignment step, and ``n_iter_``
counts Lloyd iterations. Started from the same centers, the results agree with
scikit-learn's to rounding error.

Numerics. Squared distances are computed with BLAS as
``||x||^2 - 2 x.c + ||c||^2`` on data centred on its mean (which keeps that
expansion accurate), in chunks of rows so memory stays bounded for large ``n``.
An empty cluster is re-seeded deterministically with the point farthest from its
own center (as scikit-learn does). ``float32`` and ``float64`` data keep their
precision; sums of squares are accumulated in ``float64``. With ``device=``
(``"cpu"``, ``"cuda"``, ...) the same iteration runs in torch.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from ._validation import check_data, check_fitted, check_int, check_positive_float, check_random_state

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


def _n_threads() -> int:
    """Worker threads for the chunked loop: as many as scikit-learn's OpenMP loops use.

    That is the CPUs this process may use, or ``OMP_NUM_THREADS`` when set.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    return max(1, n)


class _ChunkPool:
    """Worker threads over chunks of rows, with BLAS itself single-threaded meanwhile.

    numpy releases the GIL inside BLAS and its loops, so threads over chunks use all
    cores (as scikit-learn's OpenMP loop does) without oversubscribing them.
    """

    def __init__(self, n_threads: int | None = None):
        self.n_threads = n_threads or _n_threads()

    def __enter__(self):
        self._limits = threadpool_limits(1, user_api="blas")
        self._executor = ThreadPoolExecutor(self.n_threads) if self.n_threads > 1 else None
        return self

    def __exit__(self, *exc):
        if self._executor is not None:
            self._executor.shutdown()
        self._limits.restore_original_limits()

    def map(self, func, items):
        if self._executor is None or len(items) == 1:
            return [func(item) for item in items]
        return list(self._executor.map(func, items))


def _assign_chunk(Xc, centers_m2, c_sq, onehot_t=None):
    """Assignment step on one chunk of rows.

    ``centers_m2`` is ``-2 * centers``. Returns the labels, the sum over the chunk of
    ``min_k (||c_k||^2 - 2 x.c_k)`` and, when a sparse (K, m) one-hot matrix
    ``onehot_t`` is given (see :func:`_onehot_t`), the per-cluster sums of the rows.
    """
    dist = Xc @ centers_m2.T  # -2 x.c, BLAS
    dist += c_sq  # ||c||^2 - 2 x.c: the ||x||^2 term does not change the argmin
    lab = dist.argmin(axis=1)
    partial = float(dist[np.arange(lab.size), lab].sum())
    if onehot_t is None:
        return lab, partial, None
    # Per-cluster sums: (one-hot of the labels)^T @ Xc, a sparse product (n*d additions).
    onehot_t.indices[:] = lab  # column i has its single 1 in row lab[i]
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


def _assign(X, centers, x_sq=None, *, sums: bool = False, pool=None, chunk_size: int | None = None):
    """Nearest center of every row of ``X``, chunk by chunk (chunks shared among threads).

    Returns ``labels`` (int64), ``inertia`` (sum of squared distances to the nearest
    center, from the BLAS expansion) and, with ``sums=True``, the per-cluster sums of
    rows (float64, (K, d)) and counts (int64, (K,)). ``pool`` is a :class:`_ChunkPool`
    (made here if None).
    """
    if pool is None:
        with _ChunkPool() as pool:
            return _assign(X, centers, x_sq, sums=sums, pool=pool, chunk_size=chunk_size)
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
            onehot_t = None
            if sums:
                onehot_t = onehots.get(stop - start)
                if onehot_t is None:
                    onehot_t = onehots[stop - start] = _onehot_t(k, stop - start, X.dtype)
            labels[start:stop], partial, part = _assign_chunk(X[start:stop], centers_m2, c_sq, onehot_t)
            inertia += partial
            if sums:
                total += part
        return inertia, total

    n_chunks = -(-n // chunk_size)
    n_workers = min(pool.n_threads, n_chunks)
    bounds = [min(n, chunk_size * (n_chunks * w // n_workers)) for w in range(n_workers + 1)]
    parts = pool.map(work, list(zip(bounds[:-1], bounds[1:])))
    inertia = max(float(x_sq.sum(dtype=np.float64)) + sum(p[0] for p in parts), 0.0)
    if not sums:
        return labels, inertia
    counts = np.bincount(labels, minlength=k)
    return labels, inertia, sum(p[1] for p in parts[1:]) + parts[0][1], counts


def _relocate_empty(X, centers, labels, sums, counts) -> None:
    """Re-seed empty clusters in place: each takes the point farthest from its own center.

    Deterministic (farthest first, ties by index), as scikit-learn's Lloyd does;
    nothing moves when every point sits on its center (duplicate points). A
    singleton cluster can be emptied so: :func:`_cluster_means` places it.
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
        sums[k_old] -= X[i]
        counts[k_old] -= 1
        sums[k_new] = X[i]
        counts[k_new] = 1


def lloyd_step(X, centers, x_sq=None, *, pool=None):
    """One Lloyd iteration: assign each point to its nearest center, then move
    each center to the mean of its points.

    Shown in the "Clustering and K-means" chapter (``book/*/02_kmeans``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centers : ndarray of shape (n_clusters, n_features)
        Current centers (same dtype as ``X``).
    x_sq : ndarray of shape (n_samples,), optional
        Precomputed squared row norms of ``X``.

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
    """
    if not isinstance(X, np.ndarray) or not isinstance(centers, np.ndarray):
        X = check_data(X, name="X")
        centers = check_data(centers, name="centers", dtype=X.dtype)
    # Assignment step: nearest center of each point, per-cluster sums, counts.
    labels, inertia, sums, counts = _assign(
        X, centers, x_sq, sums=True, pool=pool
    )
    # Update step: each center moves to the mean of its points.
    _relocate_empty(X, centers, labels, sums, counts)
    new_centers = _cluster_means(sums, counts).astype(X.dtype, copy=False)
    return new_centers, labels, inertia


def _cluster_means(sums, counts):
    """``sums / counts`` per cluster; a cluster still empty after re-seeding
    takes the mean of the largest cluster, as in scikit-learn (never 0 / 0).

    For numpy arrays and torch tensors alike (:func:`_torch_lloyd_step`).
    """
    means = sums / counts.clip(min=1)[:, None]
    empty = counts == 0
    if bool(empty.any()):
        means[empty] = means[[int(counts.argmax())]]  # a copy: no aliasing
    return means


def _iterate(step, centers, *, max_iter: int, tol: float, same=np.array_equal, float64=np.float64):
    """Lloyd's loop and scikit-learn's stopping rules, shared by every engine.

    ``step(centers)`` returns ``new_centers, labels, cost`` (one assignment and one
    update). The loop stops when the labels did not change (the centers are then final),
    when the centers moved by at most ``tol`` (sum of squared shifts, accumulated in
    ``float64``), or after ``max_iter`` steps. ``same`` compares two label arrays
    (``np.array_equal``, or ``torch.equal`` for tensors).

    Returns ``centers, labels, n_iter, history, final``: ``final`` is True when the
    labels already match the returned centers (otherwise the caller assigns once more).
    """
    history, labels_old, final = [], None, False
    for it in range(max_iter):
        new_centers, labels, cost = step(centers)
        history.append(cost)
        shift = float(((new_centers - centers) ** 2).sum(dtype=float64))
        centers = new_centers
        if labels_old is not None and same(labels, labels_old):
            final = True  # labels did not change: centers are final
            break
        if shift <= tol:
            break
        labels_old = labels
    return centers, labels, it + 1, history, final


def _lloyd(X, centers, *, max_iter: int, tol: float, x_sq=None):
    """Lloyd's algorithm from ``centers``; scikit-learn's stopping rules (:func:`_iterate`).

    Returns ``centers, labels, inertia, n_iter, inertia_history``.
    """
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    with _ChunkPool() as pool:
        centers, labels, n_iter, history, final = _iterate(
            lambda c: lloyd_step(X, c, x_sq, pool=pool), centers, max_iter=max_iter, tol=tol
        )
        if not final:
            # Final assignment step, so that labels match the returned centers.
            labels, _ = _assign(X, centers, x_sq, pool=pool)
    inertia = _exact_inertia(X, centers, labels)
    return centers, labels, inertia, n_iter, np.asarray(history)


def _exact_inertia(X, centers, labels, chunk_size: int = CHUNK_SIZE) -> float:
    """Sum of ``||x_i - c_{labels_i}||^2`` computed directly (no expansion)."""
    total = 0.0
    for start in range(0, X.shape[0], chunk_size):
        diff = X[start : start + chunk_size] - centers[labels[start : start + chunk_size]]
        total += float(np.einsum("ij,ij->", diff, diff, dtype=np.float64))
    return total


# ---------------------------------------------------------------------------
# Torch kernels (same structure; used with device=...)
# ---------------------------------------------------------------------------


def _torch_assign(X, centers, x_sq, *, sums: bool = False, chunk_size: int | None = None):
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
            total.index_add_(0, lab, Xc.double())
    min_sq.clamp_(min=0.0)
    if not sums:
        return labels, min_sq
    counts = torch.bincount(labels, minlength=k)
    return labels, min_sq, total, counts


def _torch_relocate_empty(X, centers, labels, sums, counts) -> None:
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
        sums[k_old] -= X[i].double()
        counts[k_old] -= 1
        sums[k_new] = X[i].double()
        counts[k_new] = 1


def _torch_lloyd_step(X, centers, x_sq):
    """Torch twin of :func:`lloyd_step`."""
    labels, min_sq, sums, counts = _torch_assign(X, centers, x_sq, sums=True)
    _torch_relocate_empty(X, centers, labels, sums, counts)
    new_centers = _cluster_means(sums, counts).to(X.dtype)
    return new_centers, labels, float(min_sq.sum())


def _torch_lloyd(X_np, centers_np, *, max_iter: int, tol: float, device):
    import torch

    X = torch.as_tensor(X_np, device=device)
    centers = torch.as_tensor(centers_np, device=device)
    x_sq = (X * X).sum(1, dtype=torch.float64)
    centers, labels, n_iter, history, final = _iterate(
        lambda c: _torch_lloyd_step(X, c, x_sq), centers, max_iter=max_iter, tol=tol,
        same=torch.equal, float64=torch.float64,
    )
    if not final:
        labels, _ = _torch_assign(X, centers, x_sq)
    diff = X - centers[labels]
    inertia = float((diff * diff).sum(dtype=torch.float64))
    return centers.cpu().numpy(), labels.cpu().numpy(), inertia, n_iter, np.asarray(history)


# ---------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------


def _check_n_clusters(n_clusters, n_samples: int) -> int:
    n_clusters = check_int(n_clusters, "n_clusters", low=1)
    if n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} must be <= n_samples={n_samples}")
    return n_clusters


def _kmeans_plusplus(X, n_clusters: int, rng, x_sq=None,
                     n_local_trials: int | None = None):
    """Greedy k-means++ on validated data.

    Consumes ``rng`` exactly as scikit-learn does.
    """
    n = X.shape[0]
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    x_sq = x_sq.astype(np.float64, copy=False)
    if n_local_trials is None:
        n_trials = 2 + int(np.log(n_clusters))
    else:
        n_trials = n_local_trials
    centers = np.empty((n_clusters, X.shape[1]), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.int64)

    def sq_dist_to(rows):  # (len(rows), n) squared distances, clipped at 0
        d = X[rows] @ X.T
        d = x_sq[rows][:, None] - 2.0 * d + x_sq[None, :]
        return np.maximum(d, 0.0, out=d).astype(np.float64, copy=False)

    first = rng.choice(n, p=np.ones(n) / n)  # uniform
    centers[0] = X[first]
    indices[0] = first
    closest = sq_dist_to([first])[0]
    potential = closest.sum()
    for c in range(1, n_clusters):
        # Candidates drawn with probability proportional to D(x)^2 ...
        targets = rng.uniform(size=n_trials) * potential
        candidates = np.searchsorted(np.cumsum(closest), targets)
        np.clip(candidates, None, n - 1, out=candidates)
        # ... and the one that lowers the potential most is kept.
        dist = np.minimum(closest, sq_dist_to(candidates))
        pots = dist.sum(axis=1)
        best = int(np.argmin(pots))
        potential, closest = pots[best], dist[best]
        centers[c] = X[candidates[best]]
        indices[c] = candidates[best]
    return centers, indices


def kmeans_plusplus(X, n_clusters: int, *, random_state=None, n_local_trials: int | None = None):
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
    n_clusters : int
        Number of centers, ``1 <= n_clusters <= n_samples``.
    random_state : int, numpy RandomState or None
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
    """
    X = check_data(X, name="X")
    n_clusters = _check_n_clusters(n_clusters, X.shape[0])
    if n_local_trials is not None:
        n_local_trials = check_int(n_local_trials, "n_local_trials", low=1)
    return _kmeans_plusplus(X, n_clusters, check_random_state(random_state), n_local_trials=n_local_trials)


def class_means(X, y):
    """Mean of each class: the homework's "class-mean" initialisation of K-means.

    Used in the "Clustering and K-means" chapter (``book/*/02_kmeans``) to start K-means
    from the ten digit means (it uses the labels, so it is a reference point, not an
    unsupervised method).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Class labels.

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
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must be a 1-D array of {X.shape[0]} labels (one per row of X), got shape {y.shape}")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("y contains NaN labels")
    _, codes = np.unique(y, return_inverse=True)
    counts = np.bincount(codes)
    sums = np.zeros((counts.size, X.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, X)
    return (sums / counts[:, None]).astype(X.dtype, copy=False)


# ---------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------


def _initial_centers(init, Xc, x_sq, mean, n_clusters: int, rng):
    """Initial centers of one run, on data ``Xc`` centred on ``mean`` (validated ``init``)."""
    if isinstance(init, str) and init == "k-means++":
        return _kmeans_plusplus(Xc, n_clusters, rng, x_sq)[0]
    if isinstance(init, str):  # "random"
        seeds = rng.choice(Xc.shape[0], size=n_clusters, replace=False, p=np.ones(Xc.shape[0]) / Xc.shape[0])
        return Xc[seeds]
    return init - mean


def _check_device(device):
    if device is None:
        return None
    import torch

    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be None or a torch device such as 'cpu' or 'cuda', got {device!r}") from None


class KMeans:
    """K-means clustering with Lloyd's algorithm.

    Minimises the inertia ``sum_i ||x_i - mu_{z_i}||^2`` by alternating the
    assignment step (each point to its nearest center) and the update step (each
    center to the mean of its points), see :func:`lloyd_step`. Used in the
    "Clustering and K-means" chapter (``book/*/02_kmeans``) and to initialise EM for
    Gaussian mixtures.

    Parameters
    ----------
    n_clusters : int
        Number of clusters K.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features)
        ``"k-means++"`` (:func:`kmeans_plusplus`), ``"random"`` (K distinct data
        points drawn uniformly) or the initial centers themselves (e.g.
        :func:`class_means`).
    n_init : int
        Number of runs from different seeds; the one with the lowest inertia is
        kept. Must be 1 when ``init`` is an array.
    max_iter : int
        Maximum number of Lloyd iterations per run.
    tol : float
        Relative tolerance: a run stops when the total squared center shift is at
        most ``tol`` times the mean variance of the features (or when no label
        changes).
    random_state : int, numpy RandomState or None
        Seed of the initialisation. With the same seed the centers are those
        scikit-learn's ``KMeans`` starts from.
    device : None or str or torch.device
        ``None``: numpy. Otherwise the iteration runs in torch on that device
        (``"cpu"``, ``"cuda"``).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of squared distances of the samples to their center.
    n_iter_ : int
        Number of Lloyd iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia at the assignment step of each iteration (non-increasing).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    >>> km = KMeans(2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist()), float(km.inertia_)
    ([[0.0, 0.5], [4.0, 0.5]], 1.0)
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state=None,
        device=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_clusters={self.n_clusters!r})"

    # -- input handling (overridden by MissingDataKMeans) --------------------
    def _validate_data(self, X):
        return check_data(X, name="X")

    def _check_params(self, X):
        n_samples, n_features = X.shape
        n_clusters = _check_n_clusters(self.n_clusters, n_samples)
        n_init = check_int(self.n_init, "n_init", low=1)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        tol = check_positive_float(self.tol, "tol", allow_zero=True)
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(f"init must be 'k-means++', 'random' or an array of centers, got {init!r}")
        else:
            try:
                init = check_data(init, name="init", dtype=X.dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"init must be 'k-means++', 'random' or an array of shape "
                    f"({n_clusters}, {n_features}): {exc}"
                ) from None
            if init.shape != (n_clusters, n_features):
                raise ValueError(
                    f"init must have shape (n_clusters, n_features) = ({n_clusters}, {n_features}), "
                    f"got {init.shape}"
                )
            if n_init != 1:
                raise ValueError(f"n_init must be 1 when init is an array of centers, got {n_init}")
        return n_clusters, n_init, max_iter, tol, init

    # -- fitting -------------------------------------------------------------
    def fit(self, X, y=None):
        """Compute the clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        X = self._validate_data(X)
        n_clusters, n_init, max_iter, tol, init = self._check_params(X)
        device = _check_device(self.device)
        rng = check_random_state(self.random_state)
        # Centre the data: keeps ||x||^2 - 2 x.c + ||c||^2 accurate (scikit-learn does the same).
        mean = X.mean(axis=0)
        Xc = X - mean
        x_sq = _row_norms_sq(Xc)
        # tol is relative to the mean feature variance, sum_i ||x_i - mean||^2 / (n d).
        tol_abs = float(x_sq.sum(dtype=np.float64)) / X.size * tol
        best = None
        for _ in range(n_init):
            centers = _initial_centers(init, Xc, x_sq, mean, n_clusters, rng)
            if device is None:
                run = _lloyd(Xc, centers, max_iter=max_iter, tol=tol_abs, x_sq=x_sq)
            else:
                run = _torch_lloyd(Xc, centers, max_iter=max_iter, tol=tol_abs, device=device)
            if best is None or run[2] < best[2]:
                best = run
        centers, labels, inertia, n_iter, history = best
        self.cluster_centers_ = (centers + mean).astype(X.dtype, copy=False)
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.inertia_history_ = history
        self.n_features_in_ = X.shape[1]
        return self

    def fit_predict(self, X, y=None) -> np.ndarray:
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    def _check_n_features(self, X) -> None:
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} was fitted with {self.n_features_in_}"
            )

    def _check_new(self, X):
        check_fitted(self, "cluster_centers_")
        X = self._validate_data(X)
        self._check_n_features(X)
        return X

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
        """Euclidean distances from each row of ``X`` to each center.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        X = self._check_new(X)
        C = self.cluster_centers_.astype(X.dtype, copy=False)
        d2 = _row_norms_sq(X)[:, None] - 2.0 * (X @ C.T) + _row_norms_sq(C)[None, :]
        return np.sqrt(np.maximum(d2, 0.0))

    def score(self, X, y=None) -> float:
        """Opposite of the inertia of ``X`` for the fitted centers (higher is better)."""
        X = self._check_new(X)
        C = self.cluster_centers_.astype(X.dtype, copy=False)
        labels = _assign(X, C)[0]
        return -_exact_inertia(X, C, labels)


def _observed_sq_distances(A, W, a_sq, centers) -> np.ndarray:
    """``sum_{o observed} (x_o - mu_o)^2`` for every row and center: the submitted rule's distance.

    ``A`` is the data with 0 at missing entries, ``W`` the 0/1 mask of observed entries
    (same dtype), ``a_sq`` the squared row norms of ``A``. The expansion is
    ``||A||^2 - 2 A.mu + W.mu^2``: a center's coordinates at a point's missing entries
    never enter its distance.
    """
    d2 = a_sq[:, None] - 2.0 * (A @ centers.T) + W @ (centers * centers).T
    return np.maximum(d2, 0.0)


def _observed_assign(A, W, a_sq, centers, *, pool, sums: bool = True, chunk_size: int | None = None):
    """Assignment step of the submitted rule, chunk by chunk (chunks shared among threads).

    Returns ``labels``, the observed squared distance of each row to its center and,
    with ``sums=True``, per cluster and coordinate the sum (float64, (K, d)) and the
    number (float64, (K, d)) of the observed values.
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


def _observed_lloyd(A, W, centers, *, max_iter: int, tol: float):
    """Lloyd's iteration of the submitted rule (``MissingDataKMeans(distance="submitted")``).

    ``A`` is the data with 0 at missing entries, ``W`` the 0/1 mask of observed entries
    (same dtype). Assignment: nearest center on the observed coordinates
    (:func:`_observed_sq_distances`). Update: each coordinate of a center is the mean of
    the cluster's observed values of that coordinate (a coordinate that no point of the
    cluster observes keeps its value). Stopping rules: :func:`_iterate`. Returns
    ``centers, labels, observed_cost, n_iter, history``.
    """
    k = centers.shape[0]
    a_sq = _row_norms_sq(A).astype(np.float64)

    with _ChunkPool() as pool:

        def step(centers):
            labels, best, sums, seen = _observed_assign(A, W, a_sq, centers, pool=pool)
            empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
            if empty.size:  # an empty cluster takes the farthest point (ties by index), as in _relocate_empty
                for k_new, i in zip(empty, np.argsort(-best, kind="stable")):
                    sums[labels[i]] -= A[i]
                    seen[labels[i]] -= W[i]
                    sums[k_new], seen[k_new] = A[i], W[i]
            new_centers = np.where(seen > 0, sums / np.maximum(seen, 1.0), centers).astype(A.dtype, copy=False)
            return new_centers, labels, float(best.sum())

        centers, labels, n_iter, history, final = _iterate(step, centers, max_iter=max_iter, tol=tol)
        if not final:
            labels, _ = _observed_assign(A, W, a_sq, centers, pool=pool, sums=False)
    cost = 0.0
    for start in range(0, A.shape[0], CHUNK_SIZE):
        rows = slice(start, start + CHUNK_SIZE)
        diff = (A[rows] - centers[labels[rows]]) * W[rows]
        cost += float(np.einsum("ij,ij->", diff, diff, dtype=np.float64))
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
    >>> MissingDataKMeans(2, init=init).fit(X).labels_.tolist()  # row 3: 0.75^2 + 0^2 < 0.25^2 + 4^2
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
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state=None,
        device=None,
    ):
        super().__init__(
            n_clusters, init=init, n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state, device=device
        )
        self.c = c
        self.distance = distance

    def _check_distance(self) -> str:
        if not isinstance(self.distance, str) or self.distance not in ("expected", "submitted"):
            raise ValueError(f"distance must be 'expected' or 'submitted', got {self.distance!r}")
        if self.distance == "submitted" and self.device is not None:
            raise ValueError(f"device must be None with distance='submitted' (numpy only), got {self.device!r}")
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

    def _validate_data(self, X):
        return self._fill_missing(X)[0]

    def fit(self, X, y=None):
        """Compute the clustering of ``X`` (NaN marks a missing entry)."""
        c = check_positive_float(self.c, "c")
        if self._check_distance() == "submitted":
            return self._fit_submitted(X, c)
        X, n_missing = self._fill_missing(X)
        super().fit(X)  # K-means on the zero-filled data ...
        self.n_missing_ = int(n_missing.sum())
        extra = c * self.n_missing_  # ... plus c for every missing entry
        self.cost_ = self.inertia_ + extra
        self.inertia_ = self.cost_
        self.cost_history_ = self.inertia_history_ + extra
        self.inertia_history_ = self.cost_history_
        return self

    def _fit_submitted(self, X, c: float):
        """``fit`` for ``distance="submitted"``: same initial centers, the submitted iteration."""
        observed = ~np.isnan(check_data(X, name="X", allow_nan=True))
        X, n_missing = self._fill_missing(X)
        n_clusters, n_init, max_iter, tol, init = self._check_params(X)
        rng = check_random_state(self.random_state)
        mean = X.mean(axis=0)  # as KMeans.fit does with the zero-filled data
        Xc = X - mean
        x_sq = _row_norms_sq(Xc)
        tol_abs = float(x_sq.sum(dtype=np.float64)) / X.size * tol
        W = observed.astype(X.dtype)
        A = Xc * W  # observed entries (shifted by ``mean``); 0 at missing ones
        best = None
        for _ in range(n_init):
            centers = _initial_centers(init, Xc, x_sq, mean, n_clusters, rng)
            run = _observed_lloyd(A, W, centers, max_iter=max_iter, tol=tol_abs)
            if best is None or run[2] < best[2]:
                best = run
        centers, labels, cost, n_iter, history = best
        self.n_missing_ = int(n_missing.sum())
        extra = c * self.n_missing_
        self.cluster_centers_ = (centers + mean).astype(X.dtype, copy=False)
        self.labels_ = labels
        self.cost_ = self.inertia_ = cost + extra
        self.cost_history_ = self.inertia_history_ = history + extra
        self.n_iter_ = n_iter
        self.n_features_in_ = X.shape[1]
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
        self._check_n_features(Xf)
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
        X = check_data(X, name="X", allow_nan=True)
        W = (~np.isnan(X)).astype(X.dtype)
        Xf, n_missing = self._fill_missing(X)
        self._check_n_features(Xf)
        C = self.cluster_centers_.astype(Xf.dtype, copy=False)
        d2 = _observed_sq_distances(Xf, W, _row_norms_sq(Xf).astype(np.float64), C)
        return d2 + c * n_missing[:, None]

    def predict(self, X) -> np.ndarray:
        """Index of the nearest center of each row of ``X`` by the fitted rule (``distance``)."""
        if self._check_distance() == "expected":
            return super().predict(X)
        return self._rule_sq_distances(X).argmin(axis=1)

    def transform(self, X) -> np.ndarray:
        """Square root of the rule's squared distances (:meth:`expected_sq_distances` by default)."""
        return np.sqrt(self._rule_sq_distances(X))

    def score(self, X, y=None) -> float:
        """Opposite of the rule's cost of ``X`` for the fitted centers (cost (2) by default)."""
        return -float(self._rule_sq_distances(X).min(axis=1).sum())
