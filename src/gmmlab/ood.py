"""Density-based out-of-distribution (OOD) detection with the homework's MLP.

Homework question 2, solved in the assignment chapter (``book/fr/07_ood`` /
``book/pt/07_ood``): train a small MLP on MNIST, model the activations of its
penultimate layer on the *training* images with a Gaussian mixture, and use the
log-likelihood to tell MNIST test images (in-distribution) from FashionMNIST test
images (out-of-distribution, which should land in the tails).

What lives here
---------------
* :class:`MLP` -- exactly the homework's network (784 -> 128 -> 64 -> 10, ReLU), laid
  out as the homework's class (its ``state_dict`` loads), with :meth:`MLP.penultimate`
  (the homework's ``layers[:-2]``), :meth:`MLP.penultimate_relu` and :meth:`MLP.hidden1`.
* :func:`scale_images` -- **the one input transform** (uint8 0..255 -> float in
  [0, 1]) shared by :func:`train_mlp` and :func:`extract_features`. The original
  notebook computed features on 0..255 pixels for a network trained on [0, 1]
  inputs; routing both through this function makes that impossible, and floats
  outside [0, 1] are refused rather than guessed at.
* :func:`train_mlp` (recipes in :data:`RECIPES`) and :func:`extract_features`, both
  cached on disk (:func:`cache_dir`) so the French and Portuguese chapters share
  one training.
* Scores, **higher = more in-distribution**: :class:`GMMScorer` (GMM
  log-likelihood), :func:`msp_score` (Hendrycks & Gimpel 2017),
  :func:`mahalanobis_score` / :class:`MahalanobisScorer` (Lee et al. 2018).
* Choosing the number of components without OOD data:
  :func:`select_n_components`; the per-K table of the exercise:
  :func:`sweep_n_components`. Metrics come from :mod:`gmmlab.metrics`.
* :func:`load_ood_features` -- the whole exercise's inputs in one call.

Which features
--------------
The homework models ``penultimate(x) = self.layers[:-2](x)``: the slice drops the last
two modules of ``layers`` (the last linear layer and the second ReLU), so these are the
64 outputs of the second linear layer *before* the second ReLU (``layer="penultimate"``,
the default). The same units after that ReLU are ``layer="penultimate_relu"``; the 128
outputs of the *first* linear layer before its ReLU are ``layer="hidden1"``. Measured on
MNIST-test vs FashionMNIST-test in the assignment chapter (numbers printed there, not
hand-copied here), with 4000-point fits and K chosen without OOD data: on the homework's
layer the homework recipe stays far from AUROC >= 0.98 with FPR95 <= 10 %, and the Adam
recipe meets both for a minority of seeds at best; ``"hidden1"`` meets both with either
recipe, for each of five seeds. Features are
standardised before fitting (:class:`GMMScorer`) and K is chosen without OOD data
(:func:`select_n_components`, BIC or held-out likelihood). :func:`replay_submission`
replays the submitted solution's sweep (scikit-learn's defaults, mean log-likelihoods).

Caching
-------
Trained weights and features are stored under :func:`gmmlab.cache.cache_dir`
(re-exported here): the folder named by the environment variable ``GMMLAB_CACHE``,
else ``.cache/gmmlab`` at the repository root (git-ignored) when gmmlab runs from its
repository, else ``~/.cache/gmmlab``. A cache folder inside the data folder
(``GMMLAB_DATA``) is refused. An entry's name is derived from a SHA-256 of the training data, the
recipe, the seed, the number of epochs and the torch version (training numerics
may change between torch releases); each file is written atomically (temporary
file + :func:`os.replace`) and carries a SHA-256 of its payload, so a truncated or
corrupt entry is detected, reported with a warning, and recomputed.

Progress bars
-------------
``progress=None`` (the default) shows a tqdm bar only in interactive use: in a
terminal, or in a Jupyter kernel (where ``tqdm.auto`` draws a notebook bar). It stays
silent when the environment variable ``CI`` is set (not ``0``/``false``) or when
``GMMLAB_PROGRESS=0``: the repository's ``conftest.py`` sets it for nbval and
``.ci/execute.py`` for the stored outputs, so re-executed chapters compare equal.
``progress=True``/``False`` overrides the rule.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from . import metrics
from ._validation import check_data, check_fitted, check_int, check_list, check_positive_float
from .cache import array_digest, cache_dir, digest, read_entry, write_entry
from .mixture import GaussianMixture, fit_many, reuse_features

__all__ = [
    "MLP",
    "RECIPES",
    "scale_images",
    "train_mlp",
    "extract_features",
    "cache_dir",
    "GMMScorer",
    "MahalanobisScorer",
    "msp_score",
    "mahalanobis_score",
    "SweepTable",
    "sweep_n_components",
    "select_n_components",
    "sklearn_start",
    "replay_submission",
    "OODFeatures",
    "load_ood_features",
    "default_mixture",
]

_N_PIXELS = 28 * 28
_LAYERS = ("penultimate", "penultimate_relu", "hidden1", "logits")


# ---------------------------------------------------------------------------
# The network and its input transform
# ---------------------------------------------------------------------------


class MLP(nn.Module):
    """The homework's network: Flatten, Linear 784->128, ReLU,
    Linear 128->64, ReLU, Linear 64->10.

    Laid out exactly as the homework's class -- one ``nn.Sequential`` named
    ``layers`` that starts with the ``Flatten`` -- so a ``state_dict`` saved
    from the homework's own class loads into this one (keys ``layers.1.*``,
    ``layers.3.*``, ``layers.5.*``).
    Inputs are images scaled to [0, 1] (use :func:`scale_images`), of shape
    ``(n, 28, 28)`` or ``(n, 784)``; :meth:`forward` returns the 10 logits.
    Used by the assignment chapter (``book/*/07_ood``).

    Examples
    --------
    >>> model = MLP()
    >>> x = torch.zeros(2, 28, 28)
    >>> model(x).shape, model.penultimate(x).shape
    (torch.Size([2, 10]), torch.Size([2, 64]))
    """

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(_N_PIXELS, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The 10 class logits."""
        return self.layers(x)

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """The homework's features: ``self.layers[:-2](x)``, the 64 outputs
        of the second linear layer *before* its ReLU (the ``Flatten`` is
        inside ``layers``)."""
        return self.layers[:-2](x)

    def penultimate_relu(self, x: torch.Tensor) -> torch.Tensor:
        """The same 64 units *after* the second ReLU, ``self.layers[:-1](x)``.
        """
        return self.layers[:-1](x)

    def hidden1(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 outputs of the first linear layer *before* its ReLU."""
        return self.layers[:2](x)


def scale_images(images, *, name: str = "images") -> torch.Tensor:
    """Validate images and scale them to [0, 1]: the one transform of training and features.

    Parameters
    ----------
    images : array-like of shape (n, 28, 28) or (n, 784)
        ``uint8`` pixels 0..255 (as returned by :func:`gmmlab.data.load_mnist`),
        which are divided by 255; or floats already in [0, 1], used as they are.
        numpy arrays and torch tensors are accepted.
    name : str
        Argument name used in error messages.

    Returns
    -------
    torch.Tensor of shape (n, 784), dtype float32, values in [0, 1]

    Raises
    ------
    TypeError
        For other dtypes (e.g. int64 or bool pixels: convert to uint8 first).
    ValueError
        For a wrong shape, no images, non-finite values, or floats outside [0, 1]
        (0..255 pixels stored as floats are refused, not silently rescaled).

    Examples
    --------
    >>> scale_images(np.full((1, 28, 28), 255, dtype=np.uint8)).max().item()
    1.0
    """
    if isinstance(images, torch.Tensor):
        arr = images.detach().cpu()
        is_uint8 = arr.dtype == torch.uint8
        is_float = arr.is_floating_point()
        dtype_name = str(arr.dtype).replace("torch.", "")
        shape = tuple(arr.shape)
    elif isinstance(images, np.ndarray):
        arr = images
        is_uint8 = arr.dtype == np.uint8
        is_float = arr.dtype.kind == "f"
        dtype_name = str(arr.dtype)
        shape = arr.shape
    else:
        raise TypeError(
            f"{name} must be a numpy array or torch tensor of uint8 pixels (n, 28, 28), "
            f"got {type(images).__name__}"
        )
    if not (is_uint8 or is_float):
        raise TypeError(
            f"{name} must have dtype uint8 (pixels 0..255) or a float dtype (values in [0, 1]), "
            f"got {dtype_name}"
        )
    if len(shape) not in (2, 3) or tuple(shape[1:]) not in ((28, 28), (_N_PIXELS,)):
        raise ValueError(f"{name} must have shape (n, 28, 28) or (n, 784), got {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} must contain at least one image, got an empty array")
    x = torch.as_tensor(np.array(arr, copy=True) if isinstance(arr, np.ndarray) else arr.clone())
    x = x.reshape(shape[0], _N_PIXELS)
    if is_uint8:
        return x.to(torch.float32) / 255.0
    x = x.to(torch.float32)
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"float {name} must already be scaled to [0, 1], got values in [{lo:g}, {hi:g}]; "
            "pass the uint8 pixels (0..255) instead and gmmlab divides them by 255"
        )
    return x


def _check_labels(labels, n: int) -> torch.Tensor:
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers 0..9, got dtype {y.dtype}")
    if y.shape[0] != n:
        raise ValueError(f"images and labels must have the same length, got {n} and {y.shape[0]}")
    if y.min() < 0 or y.max() > 9:
        raise ValueError(f"labels must be class indices in 0..9, got values in [{y.min()}, {y.max()}]")
    return torch.as_tensor(y.astype(np.int64))


# ---------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------

_CACHE_VERSION = 2  # 2: MLP laid out as the homework's class (Flatten inside layers)


def _array_digest(x: torch.Tensor | np.ndarray) -> str:
    return array_digest(x.numpy() if isinstance(x, torch.Tensor) else x)


def _model_digest(model: nn.Module) -> str:
    parts = []
    for k, v in model.state_dict().items():
        parts += [k, _array_digest(v.detach().cpu().contiguous())]
    return digest(type(model).__name__, *parts)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

#: Training recipes of :func:`train_mlp`.
#:
#: ``"homework"`` is the original assignment: SGD (lr 0.001, momentum 0.9), batches of
#: 32, 10 epochs, cross-entropy, inputs in [0, 1] (≈ 96 % MNIST test accuracy).
#: ``"adam"`` is the better recipe: Adam (lr 0.001, default betas), batches of 64,
#: 10 epochs, cross-entropy, same inputs (≈ 97.5-98 % test accuracy; its penultimate
#: features make the GMM detector much sharper, see the assignment chapter).
RECIPES: dict[str, dict[str, Any]] = {
    "homework": {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "batch_size": 32, "n_epochs": 10},
    "adam": {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "n_epochs": 10},
}


def _show_progress(progress: bool | None) -> bool:
    """The progress-bar rule (see the module docstring)."""
    if progress is not None:
        return bool(progress)
    off = ("", "0", "false", "no")
    if os.environ.get("CI", "").strip().lower() not in off:
        return False
    if os.environ.get("GMMLAB_PROGRESS", "").strip().lower() in off[1:]:
        return False
    if "ipykernel" in sys.modules:  # a Jupyter kernel: tqdm.auto draws a notebook bar
        return True
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block, then restore the previous setting."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _recipe(recipe: str) -> dict[str, Any]:
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    return dict(RECIPES[recipe])


def train_mlp(
    images,
    labels,
    *,
    recipe: str = "homework",
    random_state: int = 0,
    n_epochs: int | None = None,
    cache: bool = True,
    progress: bool | None = None,
    num_threads: int | None = 1,
) -> MLP:
    """Train the homework's :class:`MLP` on images and labels (cached on disk).

    Used by the assignment chapter (``book/*/07_ood``) and ``benchmarks/ood_pipeline.py``.

    Parameters
    ----------
    images : array-like of shape (n, 28, 28)
        uint8 pixels (or floats in [0, 1]); scaled by :func:`scale_images`.
    labels : array-like of shape (n,)
        Classes 0..9.
    recipe : {"homework", "adam"}
        See :data:`RECIPES`.
    random_state : int
        Seed of the weight initialisation and of the mini-batch order (each through
        its own ``torch.Generator`` / a forked global RNG: the caller's torch RNG
        state is left untouched). Training is reproducible on one machine.
    n_epochs : int, optional
        Override the recipe's number of epochs (e.g. 1 in tests).
    cache : bool
        Load the weights from :func:`cache_dir` when an entry for the same data,
        recipe, seed, epochs and torch version exists; store them otherwise.
    progress : bool or None
        Progress bar; None applies the rule of the module docstring.
    num_threads : int or None
        torch intra-op threads *during training* (restored afterwards). The
        default 1 is both deterministic across machines and much faster for these
        tiny batches (measured 13x faster than 2 threads on a loaded 2-core
        machine); None leaves torch's setting alone.

    Returns
    -------
    MLP
        In eval mode, with ``recipe_`` (dict), ``random_state_`` and
        ``loss_history_`` (mean training loss per epoch) attributes.

    Examples
    --------
    >>> from gmmlab.data import load_mnist                      # doctest: +SKIP
    >>> model = train_mlp(*load_mnist("train"), recipe="adam")   # doctest: +SKIP
    """
    params = _recipe(recipe)
    seed = check_int(random_state, "random_state", low=0)
    if n_epochs is not None:
        params["n_epochs"] = check_int(n_epochs, "n_epochs", low=1)
    if num_threads is not None:
        num_threads = check_int(num_threads, "num_threads", low=1)
    x = scale_images(images)
    y = _check_labels(labels, x.shape[0])

    key = digest(
        f"mlp-v{_CACHE_VERSION}",
        _array_digest(x),
        _array_digest(y),
        json.dumps(params, sort_keys=True),
        str(seed),
        torch.__version__,
    )
    path = cache_dir() / f"mlp-{recipe}-seed{seed}-{key[:20]}.pt" if cache else None
    if path is not None:
        payload = read_entry(path)
        if payload is not None:
            state = torch.load(io.BytesIO(payload), weights_only=True)
            model = MLP()
            model.load_state_dict(state["state_dict"])
            return _finish(model, params, seed, list(state["loss_history"]))

    with _torch_threads(num_threads):
        model, history = _fit(x, y, params, seed, _show_progress(progress), recipe)
    if path is not None:
        buf = io.BytesIO()
        torch.save({"state_dict": model.state_dict(), "loss_history": history}, buf)
        write_entry(path, buf.getvalue())
    return _finish(model, params, seed, history)


def _finish(model: MLP, params: dict, seed: int, history: list[float]) -> MLP:
    model.eval()
    model.recipe_ = params
    model.random_state_ = seed
    model.loss_history_ = [float(v) for v in history]
    return model


def _fit(x: torch.Tensor, y: torch.Tensor, params: dict, seed: int, show: bool, name: str):
    # tqdm.auto picks the notebook bar in Jupyter, but warns at import when ipywidgets is
    # missing: import it only when a bar is shown.
    if show:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    with torch.random.fork_rng(devices=[]):  # weight init from the seed; caller's RNG untouched
        torch.manual_seed(seed)
        model = MLP()
    gen = torch.Generator().manual_seed(seed)
    if params["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=params["lr"], momentum=params["momentum"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=params["lr"])
    loss_fn = nn.CrossEntropyLoss()
    n, bs, epochs = x.shape[0], params["batch_size"], params["n_epochs"]
    n_batches = -(-n // bs)
    history = []
    model.train()
    with tqdm(total=epochs * n_batches, disable=not show, desc=f"MLP ({name})", unit="batch") as bar:
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for i in range(0, n, bs):
                idx = perm[i : i + bs]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * idx.shape[0]
                bar.update(1)
            history.append(total / n)
            bar.set_postfix(epoch=epoch + 1, loss=f"{history[-1]:.4f}")
    return model, history


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


def extract_features(
    model: MLP,
    images,
    *,
    layer: str = "penultimate",
    batch_size: int = 8192,
    cache: bool = True,
) -> np.ndarray:
    """Activations of ``model`` on ``images``, with the training's input scaling.

    Images go through :func:`scale_images` -- the same function :func:`train_mlp`
    uses -- then through the network in batches under ``torch.no_grad()`` in eval
    mode. Used by the assignment chapter (``book/*/07_ood``).

    Parameters
    ----------
    model : MLP
    images : array-like of shape (n, 28, 28)
        uint8 pixels 0..255, or floats already in [0, 1].
    layer : {"penultimate", "penultimate_relu", "hidden1", "logits"}
        The homework's features (``model.layers[:-2]``: the 64 outputs of the second
        linear layer, before its ReLU), the same 64 units after that ReLU, the 128
        values of the first layer before its ReLU, or the 10 logits.
    batch_size : int
        Images per forward pass.
    cache : bool
        Store/load the result in :func:`cache_dir`, keyed by a SHA-256 of the
        model's weights, of the images and the layer.

    Returns
    -------
    ndarray of shape (n, 64) or (n, 10), dtype float64
        (The network computes in float32; the values are exactly those floats.)

    Examples
    --------
    >>> feats = extract_features(MLP(), np.zeros((3, 28, 28), np.uint8), cache=False)
    >>> feats.shape
    (3, 64)
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be a gmmlab.ood.MLP, got {type(model).__name__}")
    if layer not in _LAYERS:
        raise ValueError(f"layer must be one of {_LAYERS}, got {layer!r}")
    batch_size = check_int(batch_size, "batch_size", low=1)
    x = scale_images(images)
    path = None
    if cache:
        key = digest(f"features-v{_CACHE_VERSION}", _model_digest(model), _array_digest(x), layer)
        path = cache_dir() / f"features-{layer}-{key[:20]}.npy"
        payload = read_entry(path)
        if payload is not None:
            return np.load(io.BytesIO(payload), allow_pickle=False)
    fn = {
        "penultimate": model.penultimate,
        "penultimate_relu": model.penultimate_relu,
        "hidden1": model.hidden1,
        "logits": model,
    }[layer]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = torch.cat([fn(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])
    finally:
        model.train(was_training)
    feats = out.numpy().astype(np.float64)
    if path is not None:
        buf = io.BytesIO()
        np.save(buf, feats, allow_pickle=False)
        write_entry(path, buf.getvalue())
    return feats


# ---------------------------------------------------------------------------
# Scores (higher = more in-distribution)
# ---------------------------------------------------------------------------


def default_mixture():
    """The Gaussian-mixture class used by default: :class:`gmmlab.mixture.GaussianMixture`."""
    return GaussianMixture


def msp_score(logits) -> np.ndarray:
    """Maximum softmax probability (Hendrycks & Gimpel 2017): higher = more in-distribution.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        E.g. ``extract_features(model, images, layer="logits")``.

    Returns
    -------
    ndarray of shape (n_samples,), values in [1 / n_classes, 1]

    Examples
    --------
    >>> msp_score([[0.0, 0.0], [10.0, 0.0]]).round(3).tolist()
    [0.5, 1.0]
    """
    z = check_data(logits, name="logits", dtype=np.float64)
    if z.shape[1] < 2:
        raise ValueError(f"logits must have at least 2 columns (classes), got shape {z.shape}")
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return 1.0 / p.sum(axis=1)  # the largest exp(z - max) is 1


def _check_features(X, n_features: int) -> np.ndarray:
    """``X`` as a float64 array for a scorer fitted on ``n_features`` features, or a clear error."""
    X = check_data(X, name="X", dtype=np.float64)
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, the scorer was fitted on {n_features}")
    return X


class MahalanobisScorer:
    """Class-conditional Gaussians with one shared covariance (Lee et al. 2018).

    ``score_samples`` returns minus the smallest squared Mahalanobis distance to a
    class mean: higher = more in-distribution. The shared covariance is the
    within-class covariance of the training features, estimated with
    :class:`sklearn.covariance.EmpiricalCovariance` as in the authors' code (its
    precision is a pseudo-inverse, so dead ReLU units do no harm).
    Used by the assignment chapter (``book/*/07_ood``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    means_ : ndarray of shape (n_classes, n_features)
    covariance_, precision_ : ndarray of shape (n_features, n_features)
    """

    def fit(self, X, y) -> "MahalanobisScorer":
        from sklearn.covariance import EmpiricalCovariance

        X = check_data(X, name="X", dtype=np.float64, min_samples=2)
        y = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be a 1-D array of {X.shape[0]} labels (one per row of X), got shape {y.shape}")
        if y.dtype.kind == "f" and np.isnan(y).any():
            raise ValueError("y contains NaN labels")
        self.classes_, inverse = np.unique(y, return_inverse=True)
        self.means_ = np.stack([X[inverse == k].mean(axis=0) for k in range(self.classes_.size)])
        est = EmpiricalCovariance(assume_centered=True).fit(X - self.means_[inverse])
        self.covariance_, self.precision_ = est.covariance_, est.precision_
        return self

    def distances(self, X) -> np.ndarray:
        """Squared Mahalanobis distance of each row of ``X`` to each class mean, (n, n_classes)."""
        check_fitted(self, "precision_")
        X = _check_features(X, self.means_.shape[1])
        out = np.empty((X.shape[0], self.classes_.size))
        for k, mu in enumerate(self.means_):
            d = X - mu
            out[:, k] = np.einsum("ij,ij->i", d @ self.precision_, d)
        return out

    def score_samples(self, X) -> np.ndarray:
        """Minus the smallest squared distance to a class mean, shape (n,)."""
        return -self.distances(X).min(axis=1)


def mahalanobis_score(features, train_features, train_labels) -> np.ndarray:
    """Mahalanobis OOD score of ``features`` (Lee et al. 2018), higher = more in-distribution.

    Fits :class:`MahalanobisScorer` on ``(train_features, train_labels)`` and returns
    ``-min_c (x - mu_c)^T Sigma^+ (x - mu_c)`` for each row ``x`` of ``features``.

    Examples
    --------
    Two classes with means (0, 1) and (10, 1) and shared covariance 0.5 I:

    >>> train = np.array([[0, 0], [0, 2], [1, 1], [-1, 1], [10, 0], [10, 2], [11, 1], [9, 1]])
    >>> mahalanobis_score([[0.0, 1.0], [5.0, 1.0]], train, [0, 0, 0, 0, 1, 1, 1, 1]).round(6).tolist()
    [-0.0, -50.0]
    """
    return MahalanobisScorer().fit(train_features, train_labels).score_samples(features)


class GMMScorer:
    """Log-likelihood under a Gaussian mixture fitted on in-distribution features.

    ``score_samples`` is the log-density of the features (higher = more
    in-distribution). With ``standardize=True`` (default) the mixture is fitted on
    features centred and scaled per dimension by the training mean and standard
    deviation (constant dimensions, e.g. dead ReLU units, keep scale 1); the
    log-Jacobian is added back, so the score stays a log-density of the original
    features. Used by the assignment chapter (``book/*/07_ood``).

    Parameters
    ----------
    n_components : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
        Added to the diagonal of each covariance (in standardised units when
        ``standardize``).
    standardize : bool
    estimator : class, optional
        The mixture class, scikit-learn-compatible; default
        :class:`gmmlab.mixture.GaussianMixture` (pass
        :class:`sklearn.mixture.GaussianMixture` to compare).
    random_state : int
    **kwargs
        Passed to the estimator (``tol``, ``max_iter``, ``n_init``, ``init_params``).

    Attributes
    ----------
    mixture_ : the fitted estimator
    mean_, scale_ : ndarray of shape (n_features,)
    """

    def __init__(
        self,
        n_components: int = 10,
        *,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        standardize: bool = True,
        estimator=None,
        random_state: int | None = 0,
        **kwargs,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.standardize = standardize
        self.estimator = estimator
        self.random_state = random_state
        self.kwargs = kwargs

    def _transform(self, X) -> np.ndarray:
        return (X - self.mean_) / self.scale_

    def fit(self, X, y=None) -> "GMMScorer":
        """Fit the mixture on in-distribution features ``X`` (n_samples, n_features)."""
        Z, mixture = self._prepare(X)
        self.mixture_ = mixture.fit(Z)
        return self

    def _prepare(self, X) -> tuple[np.ndarray, Any]:
        """Validate, set the standardisation; returns the transformed ``X`` and the unfitted mixture."""
        k = check_int(self.n_components, "n_components", low=1)
        check_positive_float(self.reg_covar, "reg_covar", allow_zero=True)
        X = check_data(X, name="X", dtype=np.float64, min_samples=max(2, k))
        if self.standardize:
            self.mean_ = X.mean(axis=0)
            sd = X.std(axis=0)
            self.scale_ = np.where(sd > 1e-12 * max(1.0, float(np.abs(X).max())), sd, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        cls = self.estimator if self.estimator is not None else default_mixture()
        mixture = cls(
            n_components=k,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            random_state=self.random_state,
            **self.kwargs,
        )
        return self._transform(X), mixture

    def _check_X(self, X) -> np.ndarray:
        check_fitted(self, "mixture_")
        return _check_features(X, self.mean_.shape[0])

    def score_samples(self, X) -> np.ndarray:
        """Log-density of each row of ``X`` under the fitted mixture, shape (n_samples,)."""
        X = self._check_X(X)
        return self.mixture_.score_samples(self._transform(X)) - np.log(self.scale_).sum()

    def score(self, X, y=None) -> float:
        """Mean log-density of the rows of ``X``."""
        return float(self.score_samples(X).mean())

    def bic(self, X) -> float:
        """Bayesian information criterion of the fitted mixture on ``X`` (lower is better)."""
        X = self._check_X(X)
        # The mixture's BIC on standardised data, plus the log-Jacobian of the scaling.
        return float(self.mixture_.bic(self._transform(X)) + 2.0 * X.shape[0] * np.log(self.scale_).sum())


# ---------------------------------------------------------------------------
# Choosing K and the sweep
# ---------------------------------------------------------------------------

_COLUMNS = ("n_components", "heldout_loglik", "bic", "auroc", "fpr95", "fit_time", "n_iter", "converged")


@dataclass
class SweepTable:
    """Per-K results of :func:`sweep_n_components` (one dict per K in ``rows``).

    Columns: ``n_components``, ``heldout_loglik`` (mean log-density of the held-out
    in-distribution features), ``bic`` (on the fitting features), ``auroc`` and
    ``fpr95`` (None when no test scores were given), ``fit_time`` (seconds; the
    K's share of the joint fit when they were fitted together), ``n_iter``, ``converged``.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)

    def column(self, name: str) -> np.ndarray:
        """One column as an array."""
        if name not in _COLUMNS:
            raise ValueError(f"name must be one of {_COLUMNS}, got {name!r}")
        return np.array([r[name] for r in self.rows], dtype=float)

    def best(self, criterion: str = "bic") -> int:
        """K chosen without OOD data: lowest BIC, or highest held-out log-likelihood."""
        if criterion == "bic":
            return int(self.rows[int(np.argmin(self.column("bic")))]["n_components"])
        if criterion == "heldout":
            return int(self.rows[int(np.argmax(self.column("heldout_loglik")))]["n_components"])
        raise ValueError(f"criterion must be 'bic' or 'heldout', got {criterion!r}")

    def to_string(self) -> str:
        """The table, fixed precision, one line per K."""
        lines = [f"{'K':>3} {'held-out LL':>12} {'BIC':>14} {'AUROC':>7} {'FPR95':>7} {'fit s':>7} {'iter':>5}"]
        for r in self.rows:
            au = "-" if r["auroc"] is None else f"{r['auroc']:.4f}"
            fp = "-" if r["fpr95"] is None else f"{r['fpr95']:.4f}"
            lines.append(
                f"{r['n_components']:>3} {r['heldout_loglik']:>12.3f} {r['bic']:>14.1f} {au:>7} {fp:>7} "
                f"{r['fit_time']:>7.2f} {r['n_iter']:>5}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()


def _split(n: int, validation_fraction: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    if not (0.0 < validation_fraction < 1.0):
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction!r}")
    perm = np.random.default_rng(random_state).permutation(n)
    n_val = int(round(n * validation_fraction))
    if n_val < 1 or n - n_val < 2:
        raise ValueError(f"features: too few rows ({n}) to hold out a fraction {validation_fraction}")
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _check_test_features(features_in, features_out, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """The in-distribution and OOD test features as float64 arrays of ``n_features`` columns."""
    checked = []
    for name, T in (("features_in", features_in), ("features_out", features_out)):
        T = check_data(T, name=name, dtype=np.float64)
        if T.shape[1] != n_features:
            raise ValueError(f"{name} has {T.shape[1]} features, features has {n_features}")
        checked.append(T)
    return checked[0], checked[1]


def _check_candidates(candidates) -> list[int]:
    cands = check_list(candidates, "candidates", items="integers", item="number of components")
    return [check_int(k, "candidates[i]", low=1) for k in cands]


def sweep_n_components(
    features,
    candidates: Sequence[int] = range(1, 21),
    *,
    features_in=None,
    features_out=None,
    validation_fraction: float = 0.2,
    max_fit_samples: int | None = None,
    random_state: int = 0,
    callback: Callable[[dict], None] | None = None,
    fit_together: bool = True,
    **scorer_params,
) -> SweepTable:
    """Fit one :class:`GMMScorer` per K and tabulate how good each is.

    The training features are split once (seeded) into a fitting part and a
    held-out part (``validation_fraction``); for each K one mixture is fitted on
    the fitting part and reports its held-out mean log-likelihood, its BIC on the
    fitting part, and -- only if test features are given -- AUROC and FPR95 of
    the log-likelihoods of ``features_in`` (in-distribution test features) against
    those of ``features_out`` (OOD test features). The OOD columns are for *reporting*; :meth:`SweepTable.best` and
    :func:`select_n_components` never look at them. Used by the assignment
    chapter (``book/*/07_ood``) and ``benchmarks/ood_pipeline.py``.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        In-distribution training features.
    candidates : sequence of int
        Numbers of components to try.
    features_in, features_out : array-like of shape (n, n_features), optional
        Test features (in-distribution, OOD) for the AUROC/FPR95 columns.
    validation_fraction : float in (0, 1)
    max_fit_samples : int, optional
        Fit each mixture on at most this many rows of the fitting part (a seeded
        random subset; the held-out part is unchanged). Fitting cost is linear in
        the number of rows; None uses them all.
    random_state : int
        Seed of the split and of every mixture.
    callback : callable, optional
        Called with each row as soon as it is computed (e.g. to print progress).
    fit_together : bool
        With gmmlab's :class:`~gmmlab.mixture.GaussianMixture` (the default estimator),
        fit all the K together with :func:`gmmlab.mixture.fit_many` (the same fits,
        2-3x faster); each row's ``fit_time`` is then the joint fit's time shared
        among the K in proportion to their EM work (``K x n_iter``). False, or any
        other estimator: one K after the other, each timed on its own.
    **scorer_params
        Passed to :class:`GMMScorer` (``estimator``, ``covariance_type``,
        ``reg_covar``, ``standardize``, ``tol``, ``max_iter``, ...).

    Returns
    -------
    SweepTable
    """
    cands = _check_candidates(candidates)
    check_positive_float(validation_fraction, "validation_fraction")
    X = check_data(features, name="features", dtype=np.float64, min_samples=2)
    if (features_in is None) != (features_out is None):
        raise ValueError("give both features_in and features_out (test features), or neither")
    if features_in is not None:
        features_in, features_out = _check_test_features(features_in, features_out, X.shape[1])
    fit_idx, val_idx = _split(X.shape[0], validation_fraction, check_int(random_state, "random_state", low=0))
    if max_fit_samples is not None:
        max_fit_samples = check_int(max_fit_samples, "max_fit_samples", low=2)
        if max_fit_samples < fit_idx.size:
            keep = np.random.default_rng(random_state + 1).permutation(fit_idx.size)[:max_fit_samples]
            fit_idx = np.sort(fit_idx[keep])
    X_fit, X_val = X[fit_idx], X[val_idx]
    scorers = [GMMScorer(k, random_state=random_state, **scorer_params) for k in cands]
    table = SweepTable()
    if fit_together and len(cands) > 1 and scorers[0].estimator in (None, GaussianMixture):
        t0 = time.perf_counter()
        Z, first = scorers[0]._prepare(X_fit)  # the same standardised features for every K
        mixtures = fit_many([first] + [scorer._prepare(X_fit)[1] for scorer in scorers[1:]], Z)
        elapsed = time.perf_counter() - t0
        work = np.array([m.n_components * max(1, m.n_iter_) for m in mixtures], dtype=float)
        for scorer, mixture, share in zip(scorers, mixtures, work / work.sum()):
            scorer.mixture_ = mixture
            table.rows.append(_sweep_row(scorer, X_fit, X_val, features_in, features_out, elapsed * share))
            if callback is not None:
                callback(table.rows[-1])
        return table
    with reuse_features():  # every K is fitted on X_fit: build its quadratic features once
        for scorer in scorers:
            t0 = time.perf_counter()
            scorer.fit(X_fit)
            table.rows.append(_sweep_row(scorer, X_fit, X_val, features_in, features_out, time.perf_counter() - t0))
            if callback is not None:
                callback(table.rows[-1])
    return table


def _sweep_row(scorer, X_fit, X_val, features_in, features_out, fit_time) -> dict:
    """Measure one fitted :class:`GMMScorer` (one row of the sweep)."""
    row = {
        "n_components": scorer.mixture_.n_components,
        "heldout_loglik": scorer.score(X_val),
        "bic": scorer.bic(X_fit),
        "auroc": None,
        "fpr95": None,
        "fit_time": fit_time,
        "n_iter": int(getattr(scorer.mixture_, "n_iter_", -1)),
        "converged": bool(getattr(scorer.mixture_, "converged_", True)),
    }
    if features_in is not None:
        s_in, s_out = scorer.score_samples(features_in), scorer.score_samples(features_out)
        row["auroc"] = metrics.auroc(s_in, s_out)
        row["fpr95"] = metrics.fpr_at_tpr(s_in, s_out, tpr=0.95)
    return row


def sklearn_start(X, n_components: int, *, random_state: int = 0, reg_covar: float = 1e-6) -> dict:
    """The initial parameters of scikit-learn's ``GaussianMixture(n_components, random_state=...)``.

    scikit-learn's default start (``init_params="kmeans"``): the labels of
    ``sklearn.cluster.KMeans(n_clusters=n_components, n_init=1, random_state=...)``,
    one-hot, then one M-step (:func:`gmmlab.mixture.m_step`, full covariances,
    ``reg_covar`` added). Passed to :class:`gmmlab.mixture.GaussianMixture` as
    ``weights_init``, ``means_init`` and ``precisions_init``, gmmlab's EM then runs
    scikit-learn's fit (the same iterations; ``tests/test_ood.py`` checks it), several K
    together through :func:`gmmlab.mixture.fit_many`. Used by :func:`replay_submission`.

    Returns
    -------
    dict with keys ``weights_init``, ``means_init``, ``precisions_init``
    """
    from sklearn.cluster import KMeans as SklearnKMeans

    from .mixture import m_step

    X = check_data(X, name="X", dtype=np.float64, min_samples=2)
    k = check_int(n_components, "n_components", low=1)
    if k > X.shape[0]:
        raise ValueError(f"n_components={k} must be at most the number of samples ({X.shape[0]})")
    seed = check_int(random_state, "random_state", low=0)
    reg_covar = check_positive_float(reg_covar, "reg_covar", allow_zero=True)
    labels = SklearnKMeans(n_clusters=k, n_init=1, random_state=seed).fit(X).labels_
    resp = np.zeros((X.shape[0], k))
    resp[np.arange(X.shape[0]), labels] = 1.0
    weights, means, covariances = m_step(X, resp, "full", reg_covar)
    return {
        "weights_init": weights,
        "means_init": means,
        "precisions_init": np.linalg.inv(covariances),
    }


def replay_submission(features, candidates: Sequence[int] = range(1, 16), *, features_in, features_out,
                      random_state: int = 0) -> list[dict]:
    """The submitted solution's sweep, as it was: one mixture per K on all the training features.

    For each K, the mixture scikit-learn's ``GaussianMixture(n_components=K,
    random_state=random_state)`` fits with its defaults (full covariances,
    ``reg_covar=1e-6``, ``tol=1e-3``, ``max_iter=100``, k-means start, no
    standardisation) on ``features``, computed by gmmlab's EM from scikit-learn's start
    (:func:`sklearn_start`), every K together (:func:`gmmlab.mixture.fit_many`). Then
    what the submission measured -- the mean log-likelihood of ``features_in`` and of
    ``features_out`` and their difference ``delta`` -- beside what it should have:
    AUROC and FPR95 of the per-image log-likelihoods, and the BIC on ``features``
    (no OOD data). Used by the assignment chapter (``book/*/07_ood``).

    Returns
    -------
    list of dict, one per K
        Keys ``n_components``, ``loglik_in``, ``loglik_out``, ``delta``, ``auroc``,
        ``fpr95``, ``bic``, ``n_iter``, ``converged``.
    """
    cands = _check_candidates(candidates)
    X = check_data(features, name="features", dtype=np.float64, min_samples=2)
    seed = check_int(random_state, "random_state", low=0)
    features_in, features_out = _check_test_features(features_in, features_out, X.shape[1])
    for k in cands:
        if k > X.shape[0]:
            raise ValueError(f"candidates: K={k} is more than the number of samples ({X.shape[0]})")
    mixtures = fit_many(
        [GaussianMixture(k, random_state=seed, **sklearn_start(X, k, random_state=seed)) for k in cands], X
    )
    rows = []
    for mixture in mixtures:
        s_in, s_out = mixture.score_samples(features_in), mixture.score_samples(features_out)
        rows.append({
            "n_components": mixture.n_components,
            "loglik_in": float(s_in.mean()),
            "loglik_out": float(s_out.mean()),
            "delta": float(s_in.mean() - s_out.mean()),
            "auroc": metrics.auroc(s_in, s_out),
            "fpr95": metrics.fpr_at_tpr(s_in, s_out, tpr=0.95),
            "bic": float(mixture.bic(X)),
            "n_iter": int(mixture.n_iter_),
            "converged": bool(mixture.converged_),
        })
    return rows


def select_n_components(
    features,
    candidates: Sequence[int] = range(1, 21),
    *,
    criterion: str = "bic",
    random_state: int = 0,
    validation_fraction: float = 0.2,
    max_fit_samples: int | None = None,
    **scorer_params,
) -> int:
    """Choose the number of GMM components **without any OOD data**.

    ``criterion="bic"``: lowest BIC of a mixture fitted on the fitting part of the
    features; ``"heldout"``: highest mean log-likelihood of the held-out part.
    Same split and fits as :func:`sweep_n_components` (with no test features).
    Used by the assignment chapter (``book/*/07_ood``).

    Examples
    --------
    >>> from gmmlab.data import make_gaussian_mixture
    >>> X = make_gaussian_mixture(600, n_components=3, separation=8, random_state=0).X
    >>> select_n_components(X, [1, 2, 3, 4], criterion="bic")
    3
    """
    if criterion not in ("bic", "heldout"):
        raise ValueError(f"criterion must be 'bic' or 'heldout', got {criterion!r}")
    table = sweep_n_components(
        features,
        candidates,
        validation_fraction=validation_fraction,
        max_fit_samples=max_fit_samples,
        random_state=random_state,
        **scorer_params,
    )
    return table.best(criterion)


# ---------------------------------------------------------------------------
# The exercise's data in one call
# ---------------------------------------------------------------------------


@dataclass
class OODFeatures:
    """Inputs of the OOD exercise for one trained MLP (see :func:`load_ood_features`)."""

    model: MLP
    train: np.ndarray  #: MNIST-train features (n, d)
    train_labels: np.ndarray  #: MNIST-train labels (n,)
    test_in: np.ndarray  #: MNIST-test features
    test_out: np.ndarray  #: FashionMNIST-test features
    logits_in: np.ndarray  #: MNIST-test logits (n, 10)
    logits_out: np.ndarray  #: FashionMNIST-test logits
    test_accuracy: float  #: MNIST test accuracy of the model
    layer: str


def load_ood_features(
    recipe: str = "homework",
    *,
    layer: str = "penultimate",
    random_state: int = 0,
    cache: bool = True,
    progress: bool | None = None,
) -> OODFeatures:
    """Train (or load) the MLP on MNIST-train and extract every feature of the exercise.

    MNIST-train features (for fitting), MNIST-test (in-distribution) and
    FashionMNIST-test (OOD) features and logits. Used by the assignment chapter
    (``book/*/07_ood``) and ``benchmarks/ood_pipeline.py``.
    """
    from .data import load_fashion_mnist, load_mnist

    x_tr, y_tr = load_mnist("train")
    x_te, y_te = load_mnist("test")
    x_out, _ = load_fashion_mnist("test")
    model = train_mlp(x_tr, y_tr, recipe=recipe, random_state=random_state, cache=cache, progress=progress)
    logits_in = extract_features(model, x_te, layer="logits", cache=cache)
    return OODFeatures(
        model=model,
        train=extract_features(model, x_tr, layer=layer, cache=cache),
        train_labels=np.asarray(y_tr),
        test_in=extract_features(model, x_te, layer=layer, cache=cache),
        test_out=extract_features(model, x_out, layer=layer, cache=cache),
        logits_in=logits_in,
        logits_out=extract_features(model, x_out, layer="logits", cache=cache),
        test_accuracy=float((logits_in.argmax(axis=1) == np.asarray(y_te)).mean()),
        layer=layer,
    )
