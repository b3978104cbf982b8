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
    ``ValueError``: the data folder may be read-only and is shared; so does a path that
    is (or lies under) a regular file.
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
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(
                    f"the gmmlab cache folder {path} is not a folder ({folder} is a file); "
                    "set GMMLAB_CACHE to a folder"
                )
            break
    return path


def digest(*parts: bytes | str) -> str:
    """SHA-256 (hex) of several parts, each bytes or str, kept apart by a separator.

    Distinct lists of parts give distinct digests: each part is followed by a NUL byte,
    and NUL and ``\\x01`` bytes inside a part are escaped (``\\x01`` doubled, NUL as
    ``\\x01\\x00``), so ``digest("a\\0b")`` differs from ``digest("a", "b")``. A part
    without either byte (text, hex digests) hashes as it always has. A str counts as its
    UTF-8 encoding (lone surrogates included), so ``digest("a") == digest(b"a")``.

    Parameters
    ----------
    *parts : str, bytes, bytearray or memoryview

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> digest("a", "b") == digest("a\\0b")
    False
    """
    h = hashlib.sha256()
    for i, p in enumerate(parts):
        h.update(_escape(_part_bytes(p, i)))
        h.update(b"\0")
    return h.hexdigest()


def _part_bytes(p, i: int) -> bytes:
    if isinstance(p, str):
        return p.encode("utf-8", "surrogatepass")
    if isinstance(p, bytes):
        return p
    if isinstance(p, (bytearray, memoryview)):
        return bytes(p)
    hint = "; hash an array with array_digest(a)" if isinstance(p, np.ndarray) else ""
    raise TypeError(
        f"digest parts must be str or bytes, got {type(p).__name__} for part {i} ({p!r:.60}){hint}"
    )


def _escape(b: bytes) -> bytes:
    if b"\0" in b or b"\x01" in b:
        b = b.replace(b"\x01", b"\x01\x01").replace(b"\0", b"\x01\0")
    return b


def array_digest(a) -> str:
    """SHA-256 (hex) of an array's dtype, shape and bytes: equal arrays, equal digests.

    Parameters
    ----------
    a : numpy array, or array-like (list, number, CPU or GPU torch tensor)
        Any dtype but ``object`` (an object array holds pointers, not values: it is
        refused, as are None, strings, dicts and other non-arrays). Non-contiguous
        arrays hash as their contiguous copy; a 0-d array differs from a 1-element one.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> import numpy as np
    >>> array_digest(np.arange(3)) == array_digest([0, 1, 2])
    True
    """
    a = _as_array(a)
    h = hashlib.sha256()
    # dtype and shape determine the number of bytes: the encoding is unambiguous
    h.update(f"{a.dtype}\0{a.shape}\0".encode())
    h.update(a.reshape(-1).view(np.uint8))
    h.update(b"\0")
    return h.hexdigest()


def _as_array(a) -> np.ndarray:
    expected = "a must be a numpy array (or a list or tensor of numbers)"
    if hasattr(a, "detach") and hasattr(a, "cpu") and hasattr(a, "numpy"):  # a torch tensor
        try:
            a = a.detach().cpu().numpy()
        except (TypeError, RuntimeError) as exc:
            raise TypeError(f"{expected}, got a tensor numpy cannot hold ({exc})") from None
    if a is None or isinstance(a, (str, bytes, bytearray, dict, set, frozenset)) or callable(a):
        raise TypeError(f"{expected}, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{expected}, got {type(a).__name__} ({exc})") from None
    if arr.dtype.hasobject:
        raise TypeError(
            f"{expected}, got an array of dtype {arr.dtype}: its bytes are memory addresses, "
            f"not values; convert it to a numeric dtype first"
        )
    return np.ascontiguousarray(arr) if arr.ndim else arr


def _check_path(path, name: str = "path") -> Path:
    """``path`` (a str or path-like) as a :class:`~pathlib.Path` to a file, or a clear error."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or pathlib.Path, got {type(path).__name__}")
    if isinstance(path, str) and not path:
        raise ValueError(f"{name} must name a file, got an empty string")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{name} must name a file, got the directory {path}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{name} {path} lies under {parent}, which is a file, not a directory")
            break
    return path


def write_entry(path, payload) -> None:
    """Write ``payload`` with its SHA-256, atomically (temporary file + os.replace).

    Parameters
    ----------
    path : str or pathlib.Path
        The file (its folder is created).
    payload : bytes (or bytearray, memoryview)
        A str must be encoded first; an array saved first (``np.save`` to a
        :class:`io.BytesIO`), so that it can be read back with its dtype and shape.
    """
    path = _check_path(path)
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        hint = {str: "; encode a str first (payload.encode())",
                np.ndarray: "; save an array first (np.save to an io.BytesIO)"}.get(type(payload), "")
        raise TypeError(f"payload must be bytes, got {type(payload).__name__}{hint}")
    payload = bytes(payload)
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


def read_entry(path) -> bytes | None:
    """The payload stored at ``path`` (str or pathlib.Path); None if absent, or (with a
    warning) if corrupt."""
    path = _check_path(path)
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
    files = []
    for m in modules:
        if not isinstance(m, ModuleType):
            raise TypeError(f"source_digest expects modules, got {type(m).__name__} ({m!r:.60})")
        files.append(_module_files(m))
    texts = []
    for module_files in files:
        for name, path in module_files:
            texts.append(f"{name}\n{path.read_text(encoding='utf-8')}")
    return digest(*texts)


def _module_files(module: ModuleType) -> list[tuple[str, Path]]:
    """``(name, path)`` of the source files of ``module``: all of a package's modules."""
    try:
        source = inspect.getsourcefile(module)
    except TypeError:  # a built-in module
        source = None
    if source is None or not Path(source).is_file():
        raise ValueError(
            f"source_digest expects modules with Python source files, got {module.__name__!r} "
            f"(built-in, compiled or without a file)"
        )
    if not hasattr(module, "__path__"):  # a plain module
        return [(module.__name__, Path(source))]
    root = Path(source).parent
    return [
        (module.__name__ + "." + ".".join(p.relative_to(root).with_suffix("").parts), p)
        for p in sorted(root.rglob("*.py"))
    ]
