"""The torch twins of Lloyd's kernels (``KMeans(device=...)``).

The same iteration as :mod:`gmmlab.kmeans.lloyd` (the same loop,
:func:`~gmmlab.kmeans.lloyd._iterate`, and :func:`~gmmlab.kmeans.lloyd._cluster_means`),
written with torch tensors so that it runs on ``"cpu"``, ``"cuda"``, ... torch is
imported only when this path runs.
"""

from __future__ import annotations

import numpy as np

from .lloyd import CHUNK_SIZE, _cluster_means, _iterate

#: Rows per chunk for the torch path on an accelerator (GPU).
TORCH_CHUNK_SIZE = 1 << 16



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
