"""The network's activations on images (cached on disk), and the exercise's inputs in one call.

Part of :mod:`gmmlab.ood`; used by the assignment chapter (``book/*/07_ood``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._validation import check_bool, check_int, check_seed
from ..cache import cache_dir, digest, read_entry, write_entry
from .network import _CACHE_VERSION, MLP, _array_digest, _recipe, scale_images, train_mlp

__all__ = ["extract_features", "OODFeatures", "load_ood_features"]

#: The activations :func:`extract_features` returns, by name.
_LAYERS = ("penultimate", "penultimate_relu", "hidden1", "logits")


def _check_layer(layer) -> str:
    if not isinstance(layer, str) or layer not in _LAYERS:
        raise ValueError(f"layer must be one of {_LAYERS}, got {layer!r}")
    return layer


def _model_digest(model: nn.Module) -> str:
    parts = []
    for k, v in model.state_dict().items():
        parts += [k, _array_digest(v.detach().cpu().contiguous())]
    return digest(type(model).__name__, *parts)


def extract_features(
    model: MLP,
    images,
    *,
    layer: str = "penultimate",
    batch_size: int = 8192,
    cache: bool = True,
) -> np.ndarray:
    """Activations of ``model`` on ``images``, with the training's input scaling.

    Images go through :func:`~gmmlab.ood.scale_images` -- the same function
    :func:`~gmmlab.ood.train_mlp` uses -- then through the network in batches under
    ``torch.no_grad()`` in eval mode. Used by the assignment chapter (``book/*/07_ood``).

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
        Store/load the result in :func:`~gmmlab.cache.cache_dir`, keyed by a SHA-256
        of the model's weights, of the images and the layer.

    Returns
    -------
    ndarray of shape (n, 64), (n, 128) or (n, 10), dtype float64
        (The network computes in float32; the values are exactly those floats.)

    Examples
    --------
    >>> feats = extract_features(MLP(), np.zeros((3, 28, 28), np.uint8), cache=False)
    >>> feats.shape, feats.dtype
    ((3, 64), dtype('float64'))
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be a gmmlab.ood.MLP, got {type(model).__name__}")
    layer = _check_layer(layer)
    batch_size = check_int(batch_size, "batch_size", low=1)
    cache = check_bool(cache, "cache")
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
    random_state=0,
    cache: bool = True,
    progress: bool | None = None,
) -> OODFeatures:
    """Train (or load) the MLP on MNIST-train and extract every feature of the exercise.

    MNIST-train features (for fitting), MNIST-test (in-distribution) and
    FashionMNIST-test (OOD) features and logits. Every argument is checked before
    the data are read or a network is trained. Used by the assignment chapter
    (``book/*/07_ood``) and ``benchmarks/ood_pipeline.py``.

    Parameters
    ----------
    recipe : {"homework", "adam"}
        The training recipe (:data:`~gmmlab.ood.RECIPES`).
    layer : {"penultimate", "penultimate_relu", "hidden1", "logits"}
        The features of ``train``, ``test_in`` and ``test_out``
        (:func:`extract_features`); the logits are extracted too.
    random_state : None, int or numpy RandomState
        Seed of the training (see :func:`~gmmlab.ood.train_mlp`).
    cache : bool
        Load/store the network and the features in :func:`~gmmlab.cache.cache_dir`.
    progress : bool or None
        Progress bar of the training; None applies the rule of :mod:`gmmlab.ood`.

    Returns
    -------
    OODFeatures

    Examples
    --------
    The chapter's answer (a full training, a few minutes on two cores when not cached);
    ``f.train`` then holds the 60000 MNIST-train rows of 128 features:

    >>> f = load_ood_features("adam", layer="hidden1")   # doctest: +SKIP
    """
    from ..data import load_fashion_mnist, load_mnist

    _recipe(recipe)
    layer = _check_layer(layer)
    seed = check_seed(random_state)
    cache = check_bool(cache, "cache")
    progress = check_bool(progress, "progress", allow_none=True)

    x_tr, y_tr = load_mnist("train")
    x_te, y_te = load_mnist("test")
    x_out, _ = load_fashion_mnist("test")
    model = train_mlp(
        x_tr, y_tr, recipe=recipe, random_state=seed, cache=cache, progress=progress
    )
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
