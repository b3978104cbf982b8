"""Data used by the book: MNIST, FashionMNIST, Old Faithful and synthetic mixtures.

MNIST and FashionMNIST are loaded through torchvision from the folder named by the
environment variable ``GMMLAB_DATA`` (default: ``data/`` at the repository root,
git-ignored). torchvision's layout is expected there::

    $GMMLAB_DATA/MNIST/raw/train-images-idx3-ubyte        (and the 3 other files)
    $GMMLAB_DATA/FashionMNIST/raw/train-images-idx3-ubyte (and the 3 other files)

When the files are missing torchvision downloads them (once); when they are present
nothing is written, so a read-only copy works. Missing files that cannot be
downloaded, and corrupt files, raise :class:`DataNotFoundError` naming ``GMMLAB_DATA``.

Used by every chapter, first by "Données : MNIST et FashionMNIST" /
"Dados: MNIST e FashionMNIST" (``book/*/01_*``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ._validation import (
    check_array_shape,
    check_data,
    check_int,
    check_positive_float,
    check_random_state,
    check_simplex,
    to_numpy,
)

__all__ = [
    "DataNotFoundError",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "data_root",
    "load_mnist",
    "load_fashion_mnist",
    "load_old_faithful",
    "MixtureSample",
    "make_gaussian_mixture",
]

#: Names of the ten FashionMNIST classes (Xiao, Rasul & Vollgraf 2017), by label.
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
#: Names of the ten MNIST classes, by label.
MNIST_CLASSES = tuple(str(d) for d in range(10))

# MD5 of the *uncompressed* IDX files (the published originals).
_MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}
_N_SAMPLES = {"train": 60000, "test": 10000}


class DataNotFoundError(RuntimeError):
    """The data files are missing (and could not be downloaded) or are corrupt."""


def data_root() -> Path:
    """The data folder: ``$GMMLAB_DATA``, or ``data/`` at the repository root."""
    env = os.environ.get("GMMLAB_DATA")
    if env:
        return Path(env).expanduser()
    # src/gmmlab/data.py -> repository root (editable install) or cwd otherwise.
    here = Path(__file__).resolve()
    repo = here.parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / "data"
    return Path.cwd() / "data"


def _layout_help(root: Path, name: str) -> str:
    files = ", ".join(_MD5[name])
    return (
        f"Set the environment variable GMMLAB_DATA to a folder holding {name}/raw/ with the "
        f"uncompressed IDX files ({files}), torchvision's layout, or run once with internet "
        f"access so torchvision downloads them there (current root: {root})."
    )


@functools.lru_cache(maxsize=None)
def _verify_md5(path: str, expected: str) -> None:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise DataNotFoundError(f"{path} is corrupt (MD5 {digest.hexdigest()}, expected {expected}).")


@functools.lru_cache(maxsize=8)
def _load_idx(name: str, split: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    from torchvision import datasets  # imported lazily: torchvision is slow to import

    cls = {"MNIST": datasets.MNIST, "FashionMNIST": datasets.FashionMNIST}[name]
    rootp = Path(root)
    raw = rootp / name / "raw"
    present = all((raw / f).is_file() for f in _MD5[name])
    try:
        # download=True only downloads when files are missing: nothing is written otherwise.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            ds = cls(str(rootp), train=(split == "train"), download=not present)
    except Exception as exc:  # network down, read-only folder, truncated archive...
        raise DataNotFoundError(
            f"Could not load {name} ({split}) from {rootp}: {exc}. " + _layout_help(rootp, name)
        ) from exc
    try:
        for fname, md5 in _MD5[name].items():
            _verify_md5(str(raw / fname), md5)
    except DataNotFoundError as exc:
        raise DataNotFoundError(f"{exc} " + _layout_help(rootp, name)) from None
    images = ds.data.numpy().astype(np.uint8, copy=False)
    labels = ds.targets.numpy().astype(np.int64, copy=False)
    if images.shape != (_N_SAMPLES[split], 28, 28) or labels.shape != (_N_SAMPLES[split],):
        raise DataNotFoundError(
            f"{name} ({split}) in {rootp} has unexpected shape {images.shape}. " + _layout_help(rootp, name)
        )
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _check_split(split: str) -> str:
    if not isinstance(split, str) or split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST (LeCun, Cortes & Burges) through torchvision.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.

    Returns
    -------
    images : ndarray of shape (n, 28, 28), dtype uint8
        Pixel intensities 0..255 (read-only; copy before modifying).
    labels : ndarray of shape (n,), dtype int64
        Digits 0..9.

    Examples
    --------
    >>> images, labels = load_mnist("train")  # doctest: +SKIP
    >>> images.shape, labels[:5]              # doctest: +SKIP
    ((60000, 28, 28), array([5, 0, 4, 1, 9]))
    """
    return _load_idx("MNIST", _check_split(split), str(data_root()))


def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load FashionMNIST (Xiao, Rasul & Vollgraf 2017) through torchvision.

    Same format as :func:`load_mnist`; class names are in :data:`FASHION_MNIST_CLASSES`.
    """
    return _load_idx("FashionMNIST", _check_split(split), str(data_root()))


def load_old_faithful() -> np.ndarray:
    """The Old Faithful geyser data (272 eruptions), shipped with gmmlab.

    Columns: eruption duration and waiting time to the next eruption, both in minutes.
    Source: R's ``datasets::faithful``; Azzalini, A. and Bowman, A. W. (1990),
    "A look at some data on the Old Faithful geyser", Applied Statistics 39, 357–365;
    Härdle, W. (1991), Smoothing Techniques with Implementation in S.

    Returns
    -------
    X : ndarray of shape (272, 2), dtype float64
        ``X[:, 0]`` is the duration, ``X[:, 1]`` the waiting time.
    """
    text = resources.files("gmmlab").joinpath("datasets/old_faithful.csv").read_text()
    return np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.float64)


@dataclass(frozen=True)
class MixtureSample:
    """A sample from a known Gaussian mixture, with the parameters that generated it."""

    X: np.ndarray  #: (n_samples, n_features) points
    labels: np.ndarray  #: (n_samples,) index of the component each point came from
    weights: np.ndarray  #: (n_components,) mixing weights
    means: np.ndarray  #: (n_components, n_features)
    covariances: np.ndarray  #: (n_components, n_features, n_features)


def make_gaussian_mixture(
    n_samples: int = 500,
    *,
    weights=None,
    means=None,
    covariances=None,
    n_components: int | None = None,
    n_features: int | None = None,
    separation: float = 4.0,
    random_state=None,
) -> MixtureSample:
    """Draw ``n_samples`` points from a Gaussian mixture by ancestral sampling.

    Parameters not given are drawn at random (deterministically from ``random_state``):
    weights from a Dirichlet(5, …, 5), means uniform in a cube of side
    ``separation * n_components ** (1 / n_features)``, covariances as random
    rotations of diagonal matrices with variances in [0.3, 1.5].

    Parameters
    ----------
    n_samples : int
        Number of points.
    weights : array-like of shape (K,), optional
        Mixing weights (non-negative, summing to 1).
    means : array-like of shape (K, d), optional
    covariances : array-like of shape (K, d, d), optional
        Symmetric positive-definite matrices.
    n_components, n_features : int, optional
        K and d. By default the sizes of the given ``weights``, ``means`` and
        ``covariances``, else 3 and 2; when given with them, they must agree (a
        ``ValueError`` names both otherwise).
    separation : float >= 0
        Scale of the spread of random means relative to the unit covariances (used
        only when ``means`` is not given).
    random_state : int, numpy RandomState or None

    Returns
    -------
    MixtureSample
        ``X``, ``labels`` and the true ``weights``, ``means``, ``covariances``.

    Examples
    --------
    >>> s = make_gaussian_mixture(300, n_components=2, random_state=0)
    >>> s.X.shape, s.weights.shape, s.covariances.shape
    ((300, 2), (2,), (2, 2, 2))
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    rng = check_random_state(random_state)
    check_positive_float(separation, "separation", allow_zero=True)  # used as given
    if means is not None:
        means = check_data(means, name="means", dtype=np.float64)
    n_components = _agree(
        "n_components", n_components, 3,
        weights=_size(weights, 1, 0),
        means=None if means is None else means.shape[0],
        covariances=_size(covariances, 3, 0),
    )
    n_features = _agree(
        "n_features", n_features, 2,
        means=None if means is None else means.shape[1],
        covariances=_size(covariances, 3, 1),
    )
    if weights is None:
        weights = rng.dirichlet(np.full(n_components, 5.0))
    else:
        weights = np.asarray(check_array_shape(weights, "weights", (n_components,)), dtype=np.float64)
    check_simplex(weights, "weights")
    if means is None:
        side = separation * n_components ** (1.0 / n_features)
        if not np.isfinite(side):
            raise ValueError(
                f"separation={separation!r} makes the cube of random means infinite "
                f"(side separation * n_components ** (1 / n_features)); use a smaller separation"
            )
        means = rng.uniform(-side / 2, side / 2, size=(n_components, n_features))
    if covariances is None:
        covariances = np.empty((n_components, n_features, n_features))
        for k in range(n_components):
            q, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
            covariances[k] = (q * rng.uniform(0.3, 1.5, n_features)) @ q.T
    else:
        covariances = np.asarray(
            check_array_shape(covariances, "covariances", (n_components, n_features, n_features)),
            dtype=np.float64,
        )
    chol = np.empty_like(covariances)
    for k, cov in enumerate(covariances):
        if not np.allclose(cov, cov.T):
            raise ValueError(f"covariances[{k}] must be symmetric")
        try:
            chol[k] = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError(f"covariances[{k}] must be positive definite") from None
    labels = rng.choice(n_components, size=n_samples, p=weights)
    X = means[labels] + np.einsum("nij,nj->ni", chol[labels], rng.standard_normal((n_samples, n_features)))
    if not np.isfinite(X).all():
        raise ValueError(
            "means and covariances are so large that the sample overflows float64; rescale them"
        )
    return MixtureSample(X, labels.astype(np.int64), weights, means, covariances)


def _size(value, ndim: int, axis: int) -> int | None:
    """The length of axis ``axis`` of an array-like ``value`` with ``ndim`` dimensions;
    None for None or another shape (its own check then reports it)."""
    if value is None:
        return None
    try:
        shape = np.shape(to_numpy(value))
    except (TypeError, ValueError):  # ragged lists
        return None
    return shape[axis] if len(shape) == ndim else None


def _agree(name: str, value, default: int, **sizes) -> int:
    """The number of components (or features): ``value`` if given, else the size the
    given arrays imply, else ``default``; a ValueError naming both when they disagree."""
    given = {k: v for k, v in sizes.items() if v is not None}
    if value is not None:
        value = check_int(value, name, low=1)
    for array, size in given.items():
        if size < 1:
            raise ValueError(f"{array} must hold at least one component, got {size} ({name})")
        expected = value if value is not None else next(iter(given.values()))
        if size != expected:
            source = f"{name}={value}" if value is not None else (
                f"{next(iter(given))} gives {name}={expected}")
            raise ValueError(f"{array} gives {name}={size}, but {source}; make them agree")
    if value is not None:
        return value
    return next(iter(given.values())) if given else default
