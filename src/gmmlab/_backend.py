"""The array backend (numpy or torch) and the worker threads shared by the engines.

:mod:`gmmlab.kmeans` and :mod:`gmmlab.mixture` run their loops either in numpy (the
default) or in torch (``device="cpu"``, ``"cuda"``); :class:`Backend` holds the few
operations whose spelling differs between the two, so that an engine (Lloyd's
kernels, the Gaussian-mixture engines) is written once. ``Backend.of(X)`` is the
backend of an array, so a kernel finds its backend in its arguments.
:func:`n_threads` and :class:`ChunkPool` spread work over chunks of rows on the CPU
cores, with BLAS single-threaded meanwhile (numpy releases the GIL inside BLAS and
its loops), as scikit-learn's OpenMP loops do.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from ._validation import check_device, check_float_dtype

__all__ = ["Backend", "ChunkPool", "n_threads", "onehot_t"]


def n_threads() -> int:
    """Worker threads for chunked loops: as many as scikit-learn's OpenMP loops use.

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


class ChunkPool:
    """Worker threads over chunks of rows, with BLAS single-threaded meanwhile.

    Use it as a context manager (``with ChunkPool() as pool: pool.map(f, items)``);
    one pool serves a whole fit, not one chunk. ``limit_blas=False`` keeps BLAS's
    own threads (for work that is mostly element-wise, between large products).
    """

    def __init__(self, n_threads: int | None = None, *, limit_blas: bool = True):
        self.n_threads = n_threads or globals()["n_threads"]()
        self.limit_blas = limit_blas

    def __enter__(self):
        self._limits = threadpool_limits(1, user_api="blas") if self.limit_blas else None
        self._executor = ThreadPoolExecutor(self.n_threads) if self.n_threads > 1 else None
        return self

    def __exit__(self, *exc):
        if self._executor is not None:
            self._executor.shutdown()
        if self._limits is not None:
            self._limits.restore_original_limits()

    def map(self, func, items):
        """``[func(item) for item in items]``, in parallel when the pool has threads."""
        items = list(items)
        if self._executor is None or len(items) <= 1:
            return [func(item) for item in items]
        return list(self._executor.map(func, items))


class Backend:
    """The array operations the engines need, in numpy or in torch.

    Parameters
    ----------
    device : None, str or torch.device
        ``None`` computes in numpy; otherwise in torch on this device.
    dtype : None, "float64", "float32", a numpy or a torch float dtype
        Floating type of the computation (default float64).
    """

    def __init__(self, device=None, dtype=None):
        name = check_float_dtype(dtype)
        self.device = check_device(device)
        self.torch = None
        if self.device is not None:
            import torch

            self.torch = torch
            self.dtype = getattr(torch, name)
        else:
            self.dtype = np.dtype(name)
        self.itemsize = np.dtype(name).itemsize
        self.eps = float(np.finfo(name).eps)
        xp = np if self.torch is None else self.torch
        self.float64, self.int64 = xp.float64, xp.int64

    @classmethod
    def of(cls, a) -> "Backend":
        """The backend of a float array: numpy for an ndarray, torch on its device for a tensor."""
        if isinstance(a, np.ndarray):
            return cls(None, a.dtype)
        return cls(a.device, a.dtype)

    @property
    def is_numpy(self) -> bool:
        return self.torch is None

    @property
    def on_cpu(self) -> bool:
        """True for numpy and for torch on the CPU (not on an accelerator)."""
        return self.torch is None or self.device.type == "cpu"

    def pool(self) -> "ChunkPool":
        """The worker pool of a fit: threads over chunks in numpy; none in torch, whose
        operations use the cores (or the accelerator) themselves."""
        return ChunkPool() if self.torch is None else ChunkPool(1, limit_blas=False)

    def asarray(self, a):
        """``a`` in this backend's dtype (and on its device), C-contiguous."""
        if self.torch is None:
            return np.ascontiguousarray(a, dtype=self.dtype)
        if isinstance(a, self.torch.Tensor):
            return a.to(device=self.device, dtype=self.dtype).contiguous()
        return self.torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)

    def to_numpy(self, a):
        return a if self.torch is None else a.detach().cpu().numpy()

    def empty(self, shape, dtype=None):
        """An uninitialised array of this backend's dtype (or ``dtype``, e.g. ``self.int64``)."""
        dtype = self.dtype if dtype is None else dtype
        if self.torch is None:
            return np.empty(shape, dtype=dtype)
        return self.torch.empty(shape, dtype=dtype, device=self.device)

    def zeros(self, shape, dtype=None):
        dtype = self.dtype if dtype is None else dtype
        if self.torch is None:
            return np.zeros(shape, dtype=dtype)
        return self.torch.zeros(shape, dtype=dtype, device=self.device)

    def array_equal(self, a, b) -> bool:
        return np.array_equal(a, b) if self.torch is None else self.torch.equal(a, b)

    def argmin_rows(self, a):
        """``(index, value)`` of the smallest entry of every row of a 2-D array."""
        if self.torch is not None:
            value, index = a.min(dim=1)
            return index, value
        index = a.argmin(axis=1)
        return index, a[np.arange(index.size), index]

    def dot64(self, a, b) -> float:
        """``a @ b`` of two vectors, accumulated in float64, as a Python float."""
        if self.torch is None:
            return float(a.astype(np.float64, copy=False) @ b.astype(np.float64, copy=False))
        return float(a.to(self.torch.float64) @ b.to(self.torch.float64))

    def sq_norms64(self, a):
        """Squared norms of the rows of ``a``, accumulated in float64."""
        if self.torch is None:
            return np.einsum("ij,ij->i", a, a, dtype=np.float64)
        return (a * a).sum(1, dtype=self.torch.float64)

    def sq_sum64(self, a) -> float:
        """Sum of the squares of the entries of ``a``, accumulated in float64."""
        if self.torch is None:
            return float(np.einsum("ij,ij->", a, a, dtype=np.float64))
        return float((a * a).sum(dtype=self.torch.float64))

    def bincount(self, labels, weights=None, minlength: int = 0):
        """Counts of each label (int64), or sums of ``weights`` per label (float64)."""
        if self.torch is None:
            return np.bincount(labels, weights=weights, minlength=minlength)
        return self.torch.bincount(labels, weights=weights, minlength=minlength)

    def add_rows_by_label(self, total, labels, rows, weights=None, cache=None) -> None:
        """``total[labels[i]] += weights[i] * rows[i]`` for every row, in place.

        ``total`` is float64, (n_labels, d). In numpy the sum is a sparse one-hot
        product (:func:`onehot_t`; ``cache``, a dict, keeps one matrix per number of
        rows across calls); in torch, ``index_add_``.
        """
        if self.torch is not None:
            rows = rows.to(self.torch.float64)
            if weights is not None:
                rows = rows * weights[:, None]
            total.index_add_(0, labels, rows)
            return
        m = labels.shape[0]
        onehot = None if cache is None else cache.get(m)
        if onehot is None:
            onehot = onehot_t(total.shape[0], m, rows.dtype)
            if cache is not None:
                cache[m] = onehot
        onehot.indices[:] = labels  # column i has its single 1 in row labels[i]
        if weights is not None:
            onehot.data[:] = weights  # ... or its weight
        total += onehot @ rows

    def index(self, idx):
        """An integer index array usable on this backend's arrays."""
        return idx if self.torch is None else self.torch.as_tensor(idx, device=self.device)

    def log(self, a):
        return np.log(a) if self.torch is None else self.torch.log(a)

    def transpose(self, a):
        """``a.T`` of a 2-D array, C-contiguous."""
        return np.ascontiguousarray(a.T) if self.torch is None else a.T.contiguous()

    def swap_last(self, a):
        """``a`` with its last two axes swapped (a view)."""
        return np.swapaxes(a, -1, -2) if self.torch is None else a.mT

    def concat(self, arrays):
        """Arrays of shape (D, K_i) side by side: (D, sum K_i)."""
        if self.torch is None:
            return np.concatenate(arrays, axis=1)
        return self.torch.cat(arrays, dim=1)

    def normalize(self, log_joint, out=None):
        """``(log p(x), responsibilities)`` from log-joints of shape (K, m), by log-sum-exp
        over axis 0 (the responsibilities written into ``out`` when given).

        The responsibilities are ``exp(log_joint - max) / sum``, not
        ``exp(log_joint - log p(x))``: for points so far away that their log-joints
        (say -1e20) absorb ``log K``, the latter would make each column sum to K.
        """
        xp = np if self.torch is None else self.torch
        if self.torch is None:
            top = log_joint.max(axis=0)
        else:
            top = log_joint.max(dim=0).values
        top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))
        resp = xp.exp(xp.subtract(log_joint, top, out=out), out=out)
        total = resp.sum(axis=0) if self.torch is None else resp.sum(dim=0)
        resp /= total  # the same exp serves both outputs
        return xp.log(total) + top, resp


def onehot_t(n_rows: int, m: int, dtype):
    """A sparse (n_rows, m) matrix with one 1 per column, whose rows are set later.

    Built once per number of columns and refilled in place (``.indices``, and
    ``.data`` for weights): ``onehot_t @ rows`` then sums the rows by label (n*d
    additions) without scipy's validation cost on every chunk.
    """
    return sparse.csc_matrix(
        (np.ones(m, dtype=dtype), np.zeros(m, dtype=np.int32), np.arange(m + 1, dtype=np.int32)),
        shape=(n_rows, m),
    )
