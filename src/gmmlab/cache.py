"""gmmlab's on-disk cache: where it lives, checksummed entries, and a cache for chapters.

Long computations are stored on disk so that the French and Portuguese twins of a
chapter (and later runs) reuse one result instead of recomputing it:

* :func:`cache_dir` -- the folder: ``$GMMLAB_CACHE`` if set; else ``.cache/gmmlab`` at
  the repository root when gmmlab runs from its repository (the folder is git-ignored);
  else ``~/.cache/gmmlab``. A folder inside the data folder (``GMMLAB_DATA``) is refused.
* :func:`write_entry` / :func:`read_entry` -- one file per entry, written atomically
  (temporary file + :func:`os.replace`) with a SHA-256 of its payload, so that a truncated
  or corrupt entry is detected (with a warning) and recomputed. :mod:`gmmlab.ood` stores
  trained networks and features this way.
* :func:`memory` and :func:`source_digest` -- a :class:`joblib.Memory` in that folder for
  the chapters' long fits (``book/*/03_kmeans_mnist``, ``07_ood``, ``08_kmeans_missing``),
  and a digest of gmmlab's source to put in their cache keys, so that a change of the
  library recomputes them.

This module imports neither torch nor scikit-learn.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

__all__ = ["cache_dir", "digest", "array_digest", "write_entry", "read_entry", "memory", "source_digest"]

_MAGIC = b"GMMLAB-CACHE-1\n"


def cache_dir() -> Path:
    """The folder of gmmlab's on-disk cache (created when first written).

    ``$GMMLAB_CACHE`` if set; else ``.cache/gmmlab`` at the repository root when
    gmmlab is installed from its repository (the folder is git-ignored); else
    ``~/.cache/gmmlab``. A folder inside the data folder (``GMMLAB_DATA``) raises
    ``ValueError``: the data folder may be read-only and is shared.
    """
    from .data import data_root

    env = os.environ.get("GMMLAB_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        repo = Path(__file__).resolve().parents[2]
        if (repo / "pyproject.toml").is_file() and (repo / ".gitignore").is_file():
            path = repo / ".cache" / "gmmlab"
        else:
            path = Path.home() / ".cache" / "gmmlab"
    resolved, data = path.resolve(), data_root().resolve()
    if resolved == data or data in resolved.parents:
        raise ValueError(
            f"the gmmlab cache ({resolved}) must not be inside the data folder GMMLAB_DATA ({data}); "
            "set GMMLAB_CACHE to another folder"
        )
    return path


def digest(*parts: bytes | str) -> str:
    """SHA-256 (hex) of several parts, each bytes or str, kept apart by a separator."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


def array_digest(a: np.ndarray) -> str:
    """SHA-256 of a numpy array's dtype, shape and bytes."""
    a = np.ascontiguousarray(a)
    return digest(str(a.dtype), str(a.shape), memoryview(a).cast("B"))


def write_entry(path: Path, payload: bytes) -> None:
    """Write ``payload`` with its SHA-256, atomically (temporary file + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_entry(path: Path) -> bytes | None:
    """The payload stored at ``path``; None if absent, or (with a warning) if corrupt."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    head = len(_MAGIC) + 64 + 1
    payload = blob[head:]
    ok = (
        blob.startswith(_MAGIC)
        and len(blob) >= head
        and hashlib.sha256(payload).hexdigest().encode() == blob[len(_MAGIC) : head - 1]
    )
    if not ok:
        warnings.warn(f"gmmlab cache entry {path} is corrupt or truncated; recomputing it", stacklevel=3)
        return None
    return payload


def memory():
    """A :class:`joblib.Memory` storing results under ``cache_dir() / "joblib"``.

    Used by the chapters for their long fits; pass :func:`source_digest` of the gmmlab
    modules involved as an argument of the cached function so that the key changes with
    the library.

    Examples
    --------
    >>> import gmmlab.kmeans
    >>> mem = memory()
    >>> @mem.cache
    ... def fit(Z, library=source_digest(gmmlab.kmeans)):
    ...     return gmmlab.kmeans.KMeans(2, random_state=0).fit(Z).inertia_    # doctest: +SKIP
    """
    from joblib import Memory

    return Memory(cache_dir() / "joblib", verbose=0)


def source_digest(*modules: ModuleType) -> str:
    """SHA-256 of the source code of ``modules`` (e.g. ``gmmlab.kmeans``), for cache keys.

    A package counts with all its modules (``gmmlab.mixture``: every file under it).

    Raises ``TypeError`` when given something other than modules.
    """
    if not modules:
        raise TypeError("source_digest needs at least one module, e.g. source_digest(gmmlab.kmeans)")
    for m in modules:
        if not isinstance(m, ModuleType):
            raise TypeError(f"source_digest expects modules, got {type(m).__name__}")
    texts = []
    for m in modules:
        for name, path in _module_files(m):
            texts.append(f"{name}\n{path.read_text(encoding='utf-8')}")
    return digest(*texts)


def _module_files(module: ModuleType) -> list[tuple[str, Path]]:
    """``(name, path)`` of the source files of ``module``: all of a package's modules."""
    if not hasattr(module, "__path__"):  # a plain module
        return [(module.__name__, Path(inspect.getsourcefile(module)))]
    root = Path(inspect.getsourcefile(module)).parent
    return [
        (module.__name__ + "." + ".".join(p.relative_to(root).with_suffix("").parts), p)
        for p in sorted(root.rglob("*.py"))
    ]
