"""The array backend (numpy or torch) and the worker threads shared by the engines.

:mod:`gmmlab.kmeans` and :mod:`gmmlab.mixture` run their loops either in numpy (the
default) or in torch (``device="cpu"``, ``"cuda"``); :class:`Backend` holds the few
operations whose spelling differs between the two, so that an engine is written once.
:func:`n_threads` and :class:`ChunkPool` spread work over chunks of rows on the CPU
cores, with BLAS single-threaded meanwhile (numpy releases the GIL inside BLAS and
its loops), as scikit-learn's OpenMP loops do.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from ._validation import check_device, check_float_dtype

__all__ = ["Backend", "ChunkPool", "n_threads"]


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

    @property
    def is_numpy(self) -> bool:
        return self.torch is None

    def asarray(self, a):
        """``a`` in this backend's dtype (and on its device), C-contiguous."""
        if self.torch is None:
            return np.ascontiguousarray(a, dtype=self.dtype)
        if isinstance(a, self.torch.Tensor):
            return a.to(device=self.device, dtype=self.dtype).contiguous()
        return self.torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)

    def to_numpy(self, a):
        return a if self.torch is None else a.detach().cpu().numpy()

    def empty(self, shape):
        if self.torch is None:
            return np.empty(shape, dtype=self.dtype)
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def zeros(self, shape):
        if self.torch is None:
            return np.zeros(shape, dtype=self.dtype)
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

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
        over axis 0 (the responsibilities written into ``out`` when given)."""
        if self.torch is not None:
            log_px = self.torch.logsumexp(log_joint, dim=0)
            return log_px, self.torch.exp(log_joint - log_px[None, :], out=out)
        top = log_joint.max(axis=0)
        top = np.where(np.isfinite(top), top, 0.0)
        resp = np.exp(np.subtract(log_joint, top, out=out), out=out)
        total = resp.sum(axis=0)
        resp /= total  # the same exp serves both outputs
        return np.log(total) + top, resp
