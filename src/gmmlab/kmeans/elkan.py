"""Elkan's acceleration of Lloyd's algorithm (``KMeans(algorithm="elkan")``).

:func:`_elkan` makes the same iterations as :func:`~gmmlab.kmeans.lloyd._lloyd` (the
same loop, :func:`~gmmlab.kmeans.lloyd._iterate`, and the same update step), skipping
the point-center distances that the triangle inequality rules out.
"""

from __future__ import annotations

import numpy as np

from .._backend import Backend, ChunkPool
from .lloyd import (
    CHUNK_SIZE,
    _assign,
    _chunk_rows,
    _cluster_means,
    _exact_inertia,
    _iterate,
    _relocate_empty,
    _row_norms_sq,
)


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

    with ChunkPool() as pool:
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

    Chunk by chunk, as in :func:`~gmmlab.kmeans.lloyd._assign`
    (:meth:`~gmmlab._backend.Backend.add_rows_by_label`).
    """
    n, d = X.shape
    chunk_size = _chunk_rows(d)
    sums = np.zeros((n_clusters, d), dtype=np.float64)
    bk, cache = Backend.of(X), {}
    for start in range(0, n, chunk_size):
        rows = slice(start, start + chunk_size)
        weights = None if sample_weight is None else sample_weight[rows]
        bk.add_rows_by_label(sums, labels[rows], X[rows], weights, cache)
    return sums


def _center_distances(centers) -> np.ndarray:
    """Distances between the centers, computed directly, row by row (``K d`` memory)."""
    k = centers.shape[0]
    out = np.empty((k, k), dtype=np.float64)
    for i in range(k):
        diff = centers - centers[i]
        out[i] = np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.float64))
    return out
