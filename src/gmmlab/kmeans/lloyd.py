"""Lloyd's algorithm: the assignment kernels, :func:`lloyd_step` and the loop.

:func:`lloyd_step` (shown in the "Clustering and K-means" chapter, ``book/*/02_kmeans``)
is one iteration: :func:`_assign` finds the nearest center of every row, chunk by chunk
on worker threads, with the per-cluster sums and counts; :func:`_relocate_empty` re-seeds
empty clusters; :func:`_cluster_means` moves the centers. :func:`_iterate` is the loop and
scikit-learn's stopping rules, shared by every engine (Lloyd, Elkan, the submitted
rule of :class:`~gmmlab.kmeans.MissingDataKMeans`); :func:`_lloyd` runs it with
:func:`lloyd_step`. Squared distances are expanded as ``||x||^2 - 2 x.c + ||c||^2``
(BLAS) on data the caller has centred on their mean.

The kernels are written once for numpy arrays and torch tensors (``KMeans(device=...)``):
the few operations spelt differently (an argmin with its values, sums of rows by label,
a weighted count) are methods of :class:`~gmmlab._backend.Backend`, found from the data
(``Backend.of(X)``). In numpy the chunks are shared among worker threads; in torch the
operations use the cores, or the accelerator, themselves.
"""

from __future__ import annotations

import numpy as np

from .._backend import Backend, ChunkPool
from .._validation import (
    check_bool,
    check_data,
    check_sample_weight,
    check_scale,
    check_small_scale,
    to_numpy,
)

#: Rows per chunk in the assignment step for 784 features (MNIST); lower-dimensional
#: data get proportionally longer chunks (:func:`_chunk_rows`): bounded memory,
#: cache-friendly, and few enough chunks that Python's per-chunk work stays small.
CHUNK_SIZE = 512

#: Rows per chunk on an accelerator (``KMeans(device="cuda")``): few kernel launches.
TORCH_CHUNK_SIZE = 1 << 16



def _row_norms_sq(X):
    """Squared norms of the rows of ``X`` (an ndarray or a tensor), in its dtype."""
    if isinstance(X, np.ndarray):
        return np.einsum("ij,ij->i", X, X)
    return (X * X).sum(1)


def _chunk_rows(n_features: int) -> int:
    """Rows per chunk: about ``CHUNK_SIZE * 784`` numbers, and at least ``CHUNK_SIZE`` rows."""
    return max(CHUNK_SIZE, CHUNK_SIZE * 784 // max(1, n_features))


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
    of weights). ``pool`` is a :class:`~gmmlab._backend.ChunkPool` (made here if None).
    The arrays are numpy arrays or torch tensors (:meth:`Backend.of
    <gmmlab._backend.Backend.of>`), the arithmetic the same.
    """
    bk = Backend.of(X)
    if pool is None:
        with bk.pool() as pool:
            return _assign(
                X, centers, x_sq, sums=sums, sample_weight=sample_weight, pool=pool,
                chunk_size=chunk_size,
            )
    n, d = X.shape
    if chunk_size is None:  # cache-sized on the CPU, few kernel launches on an accelerator
        chunk_size = _chunk_rows(d) if bk.on_cpu else TORCH_CHUNK_SIZE
    k = centers.shape[0]
    if x_sq is None:
        x_sq = _row_norms_sq(X)
    c_sq = _row_norms_sq(centers)
    centers_m2 = -2.0 * centers
    labels = bk.empty(n, dtype=bk.int64)

    def work(block):  # a contiguous block of rows, processed chunk by chunk
        lo, hi = block
        total = bk.zeros((k, d), dtype=bk.float64) if sums else None
        cache = {}  # one sparse one-hot matrix per chunk length, reused (numpy)
        inertia = 0.0
        for start in range(lo, hi, chunk_size):
            stop = min(start + chunk_size, hi)
            Xc = X[start:stop]
            weights = None if sample_weight is None else sample_weight[start:stop]
            dist = Xc @ centers_m2.T  # -2 x.c, BLAS
            dist += c_sq  # ||c||^2 - 2 x.c: the ||x||^2 term does not change the argmin
            lab, best = bk.argmin_rows(dist)
            labels[start:stop] = lab
            inertia += float(best.sum()) if weights is None else bk.dot64(best, weights)
            if sums:  # per-cluster sums of the rows (weighted), n*d additions
                bk.add_rows_by_label(total, lab, Xc, weights, cache)
        return inertia, total

    n_chunks = -(-n // chunk_size)
    n_workers = min(pool.n_threads, n_chunks)
    bounds = [min(n, chunk_size * (n_chunks * w // n_workers)) for w in range(n_workers + 1)]
    parts = pool.map(work, list(zip(bounds[:-1], bounds[1:])))
    if sample_weight is None:
        x_term = float(x_sq.sum(dtype=bk.float64))
    else:
        x_term = bk.dot64(x_sq, sample_weight)
    inertia = max(x_term + sum(p[0] for p in parts), 0.0)
    if not sums:
        return labels, inertia
    counts = bk.bincount(labels, weights=sample_weight, minlength=k)
    return labels, inertia, sum(p[1] for p in parts[1:]) + parts[0][1], counts


def _relocate_empty(X, centers, labels, sums, counts, sample_weight=None) -> None:
    """Re-seed empty clusters in place: each takes the point farthest from its own center.

    Deterministic (farthest first, ties by index), as scikit-learn's Lloyd does;
    nothing moves when every point sits on its center (duplicate points). A
    singleton cluster can be emptied so: :func:`_cluster_means` places it. With
    ``sample_weight``, a cluster is empty when its points weigh 0 in total, and the
    point moves with its weight.
    """
    empty = np.flatnonzero(to_numpy(counts) == 0)
    if empty.size == 0:
        return
    dist = to_numpy(((X - centers[labels]) ** 2).sum(1, dtype=Backend.of(X).float64))
    if dist.max() == 0:
        return
    far = np.lexsort((np.arange(X.shape[0]), -dist))[: empty.size]
    for k_new, i in zip(empty.tolist(), far.tolist()):
        k_old = int(labels[i])
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
        Current centers (converted to the dtype of ``X``), at most one per
        point.
    x_sq : array-like of shape (n_samples,), optional
        Precomputed squared row norms of ``X``.
    sample_weight : array-like of shape (n_samples,) or float, optional
        Weight of each point (>= 0): the means and the inertia are weighted.
    pool : ChunkPool, optional
        Worker threads, inside their ``with`` block (a fit passes its own).
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
    if check_bool(check_input, "check_input"):
        X, centers, x_sq, sample_weight = _check_step_input(
            X, centers, x_sq, sample_weight, pool)
    # Assignment step: nearest center of each point, per-cluster sums, counts.
    labels, inertia, sums, counts = _assign(
        X, centers, x_sq, sums=True, sample_weight=sample_weight, pool=pool
    )
    # Update step: each center moves to the mean of its points.
    _relocate_empty(X, centers, labels, sums, counts, sample_weight)
    new_centers = _cluster_means(sums, counts, like=X)
    return new_centers, labels, inertia


def _check_step_input(X, centers, x_sq, sample_weight, pool=None):
    """The arguments of :func:`lloyd_step`, validated, or a clear error."""
    X = check_data(X, name="X")
    check_scale(X, "X")
    check_small_scale(X, "X")
    centers = check_data(centers, name="centers", dtype=X.dtype)
    check_scale(centers, "centers")
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"centers must have {X.shape[1]} columns (one per feature of X), "
            f"got shape {centers.shape}"
        )
    if centers.shape[0] > X.shape[0]:
        raise ValueError(
            f"centers has {centers.shape[0]} rows (clusters), more than the {X.shape[0]} "
            f"rows of X: n_samples={X.shape[0]} should be >= n_clusters={centers.shape[0]}"
        )
    if x_sq is not None:
        x_sq = _check_x_sq(x_sq, X, name="x_sq")
    if pool is not None and not (isinstance(pool, ChunkPool) and hasattr(pool, "_executor")):
        raise TypeError(
            "pool must be None or a ChunkPool in use (inside its 'with ChunkPool() as pool:' "
            f"block), got {pool!r}"
        )
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


def _cluster_means(sums, counts, like=None):
    """``sums / counts`` per cluster; a cluster still empty after re-seeding
    takes the mean of the largest cluster, as in scikit-learn (never 0 / 0).

    For numpy arrays and torch tensors alike; the counts may be sums of weights.
    With ``like`` (the data), the means come in its dtype.
    """
    empty = counts == 0
    means = sums / (counts + empty)[:, None]  # 1 for an empty cluster: no 0 / 0
    if bool(empty.any()):
        means[empty] = means[[int(counts.argmax())]]  # a copy: no aliasing
    return means if like is None else Backend.of(like).asarray(means)


def _iterate(step, centers, *, max_iter: int, tol: float, verbose: int = 0):
    """Lloyd's loop and scikit-learn's stopping rules, shared by every engine.

    ``step(centers)`` returns ``new_centers, labels, cost`` (one assignment and one
    update). The loop stops when the labels did not change (the centers are then final),
    when the centers moved by at most ``tol`` (sum of squared shifts, accumulated in
    ``float64``), or after ``max_iter`` steps; the centers are numpy arrays or torch
    tensors. ``verbose`` prints scikit-learn's messages.

    Returns ``centers, labels, n_iter, history, final``: ``final`` is True when the
    labels already match the returned centers (otherwise the caller assigns once more).
    """
    bk = Backend.of(centers)
    history, labels_old, final = [], None, False
    for it in range(max_iter):
        new_centers, labels, cost = step(centers)
        history.append(cost)
        if verbose:
            print(f"Iteration {it}, inertia {cost}.")
        shift = float(((new_centers - centers) ** 2).sum(dtype=bk.float64))
        centers = new_centers
        if labels_old is not None and bk.array_equal(labels, labels_old):
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
    X, centers, *, max_iter: int, tol: float, x_sq=None, sample_weight=None, verbose: int = 0,
    device=None,
):
    """Lloyd's algorithm from ``centers``; scikit-learn's stopping rules (:func:`_iterate`).

    In numpy, or in torch on ``device`` (``KMeans(device=...)``): the same kernels on
    tensors. Returns ``centers, labels, inertia, n_iter, inertia_history`` (numpy).
    """
    bk = Backend(device, X.dtype)
    X, centers = bk.asarray(X), bk.asarray(centers)
    x_sq = _row_norms_sq(X) if x_sq is None else bk.asarray(x_sq)
    if sample_weight is not None and not bk.is_numpy:
        sample_weight = bk.torch.as_tensor(sample_weight, dtype=bk.float64, device=bk.device)
    with bk.pool() as pool:

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
    return bk.to_numpy(centers), bk.to_numpy(labels), inertia, n_iter, np.asarray(history)


def _exact_inertia(
    X, centers, labels, chunk_size: int = CHUNK_SIZE, *, sample_weight=None
) -> float:
    """Sum of ``||x_i - c_{labels_i}||^2`` (times ``sample_weight[i]``), computed
    directly (no expansion); numpy arrays or torch tensors."""
    bk = Backend.of(X)
    total = 0.0
    for start in range(0, X.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        diff = X[rows] - centers[labels[rows]]
        if sample_weight is None:
            total += bk.sq_sum64(diff)
        else:
            total += float(bk.sq_norms64(diff) @ sample_weight[rows])
    return total
