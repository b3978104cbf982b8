"""The homework's network, its one input transform, and its training (cached on disk).

Part of :mod:`gmmlab.ood`; used by the assignment chapter (``book/*/07_ood``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from .._validation import check_bool, check_int, check_seed
from ..cache import array_digest, cache_dir, digest, read_entry, write_entry

__all__ = ["MLP", "RECIPES", "scale_images", "train_mlp"]

_N_PIXELS = 28 * 28

#: Version of the cache entries of :func:`train_mlp` and
#: :func:`gmmlab.ood.extract_features` (part of every key).
_CACHE_VERSION = 2  # 2: MLP laid out as the homework's class (Flatten inside layers)


class MLP(nn.Module):
    """The homework's network: Flatten, Linear 784->128, ReLU,
    Linear 128->64, ReLU, Linear 64->10.

    Laid out exactly as the homework's class -- one ``nn.Sequential`` named
    ``layers`` that starts with the ``Flatten`` -- so a ``state_dict`` saved
    from the homework's own class loads into this one (keys ``layers.1.*``,
    ``layers.3.*``, ``layers.5.*``).
    Inputs are images scaled to [0, 1] (use :func:`scale_images`): a
    torch tensor of the network's dtype (float32) and device, of shape
    ``(n, 28, 28)``, ``(n, 784)`` or ``(n, 1, 28, 28)`` (torchvision's
    layout), with finite values; anything else (a numpy array, uint8
    pixels, float64, another shape) is refused by every method with an
    error naming ``x``. :meth:`forward` returns the 10 logits.
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
        return _finite_output(self, self.layers(_check_x(self, x)), x)

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """The homework's features: ``self.layers[:-2](x)``, the 64 outputs
        of the second linear layer *before* its ReLU (the ``Flatten`` is
        inside ``layers``)."""
        return _finite_output(self, self.layers[:-2](_check_x(self, x)), x)

    def penultimate_relu(self, x: torch.Tensor) -> torch.Tensor:
        """The same 64 units *after* the second ReLU, ``self.layers[:-1](x)``.
        """
        return _finite_output(self, self.layers[:-1](_check_x(self, x)), x)

    def hidden1(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 outputs of the first linear layer *before* its ReLU."""
        return _finite_output(self, self.layers[:2](_check_x(self, x)), x)


def _check_x(model: MLP, x) -> torch.Tensor:
    """``x`` unchanged if ``model`` can take it; otherwise an error naming ``x``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            "x must be a torch.Tensor of images scaled to [0, 1], of shape (n, 28, 28) "
            f"or (n, 784), got {type(x).__name__}; gmmlab.ood.scale_images(images) "
            "turns uint8 pixels or floats in [0, 1] (numpy or torch) into one"
        )
    weight = model.layers[1].weight
    if x.dtype != weight.dtype:
        dtype = str(weight.dtype).replace("torch.", "")
        hint = (
            f"convert it with x.to(torch.{dtype})" if x.is_floating_point()
            else "gmmlab.ood.scale_images(images) divides uint8 pixels by 255"
        )
        raise TypeError(
            f"x must have the network's dtype {dtype}, got "
            f"{str(x.dtype).replace('torch.', '')}; {hint}"
        )
    shape = tuple(x.shape)
    if len(shape) < 2 or shape[1:] not in ((_N_PIXELS,), (28, 28), (1, 28, 28)):
        raise ValueError(
            f"x must have shape (n, 28, 28), (n, 784) or (n, 1, 28, 28), got {shape}"
        )
    if x.device != weight.device:
        raise ValueError(
            f"x is on device {x.device}, the network on {weight.device}: move one of "
            "them (x.to(device) or model.to(device))"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x contains NaN or infinite values")
    return x

def _finite_output(model: MLP, out, x) -> torch.Tensor:
    """``out`` unchanged if finite; otherwise an error saying why it is not."""
    if bool(torch.isfinite(out).all()):
        return out
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise ValueError(
            "the network's parameters contain NaN or infinite values (a diverged "
            "training?): its outputs are not finite"
        )
    top = float(x.detach().abs().max())
    raise ValueError(
        f"x: the network's output overflows {str(out.dtype).replace('torch.', '')} for "
        f"inputs as large as {top:.3g} in magnitude; the network expects images scaled "
        "to [0, 1] (gmmlab.ood.scale_images)"
    )


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
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
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
            f"{name} must have dtype uint8 (pixels 0..255) or a float dtype "
            f"(values in [0, 1]), got {dtype_name}"
        )
    if len(shape) not in (2, 3) or tuple(shape[1:]) not in ((28, 28), (_N_PIXELS,)):
        raise ValueError(f"{name} must have shape (n, 28, 28) or (n, 784), got {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} must contain at least one image, got an empty array")
    if isinstance(arr, np.ndarray):
        x = torch.as_tensor(np.array(arr, copy=True))
    else:
        x = arr.clone()
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
    """Class indices 0..9, one per image, as an int64 tensor."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers 0..9, got dtype {y.dtype}")
    if y.shape[0] != n:
        raise ValueError(
            f"images and labels must have the same length, got {n} and {y.shape[0]}"
        )
    if y.min() < 0 or y.max() > 9:
        raise ValueError(
            f"labels must be class indices in 0..9, got values in [{y.min()}, {y.max()}]"
        )
    return torch.as_tensor(y.astype(np.int64))


def _array_digest(x: torch.Tensor | np.ndarray) -> str:
    return array_digest(x.numpy() if isinstance(x, torch.Tensor) else x)


#: Training recipes of :func:`train_mlp`.
#:
#: ``"homework"`` is the original assignment: SGD (lr 0.001, momentum 0.9), batches of
#: 32, 10 epochs, cross-entropy, inputs in [0, 1] (≈ 96 % MNIST test accuracy).
#: ``"adam"`` is the better recipe: Adam (lr 0.001, default betas), batches of 64,
#: 10 epochs, cross-entropy, same inputs (≈ 97.5-98 % test accuracy; its penultimate
#: features make the GMM detector much sharper, see the assignment chapter).
RECIPES: dict[str, dict[str, Any]] = {
    "homework": {
        "optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "batch_size": 32, "n_epochs": 10,
    },
    "adam": {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "n_epochs": 10},
}


def _recipe(recipe: str) -> dict[str, Any]:
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    return dict(RECIPES[recipe])


def _show_progress(progress: bool | None) -> bool:
    """The progress-bar rule (see :mod:`gmmlab.ood`)."""
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


def train_mlp(
    images,
    labels,
    *,
    recipe: str = "homework",
    random_state=0,
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
    random_state : None, int or numpy RandomState
        Seeds the weight initialisation and the mini-batch order, which torch draws
        (each through its own ``torch.Generator`` / a forked global RNG: the caller's
        torch RNG state is left untouched). torch takes an int seed: an int is used as
        it is; None or a ``RandomState`` gives one seed drawn from
        ``sklearn.utils.check_random_state(random_state)``
        (:func:`gmmlab._validation.check_seed`), so None trains another network at each
        call. The seed used is stored in ``random_state_``. Training is reproducible on
        one machine.
    n_epochs : int, optional
        Override the recipe's number of epochs (e.g. 1 in tests).
    cache : bool
        Load the weights from :func:`cache_dir` when an entry for the same data,
        recipe, seed, epochs and torch version exists; store them otherwise.
    progress : bool or None
        Progress bar; None applies the rule of :mod:`gmmlab.ood`.
    num_threads : int or None
        torch intra-op threads *during training* (restored afterwards). The
        default 1 is both deterministic across machines and much faster for these
        tiny batches (measured 13x faster than 2 threads on a loaded 2-core
        machine); None leaves torch's setting alone.

    Returns
    -------
    MLP
        In eval mode, with ``recipe_`` (dict), ``random_state_`` (the int seed) and
        ``loss_history_`` (mean training loss per epoch) attributes.

    Examples
    --------
    One epoch on 64 random images (the chapter trains on ``load_mnist("train")``):

    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    >>> model = train_mlp(images, rng.integers(0, 10, size=64), n_epochs=1,
    ...                   cache=False, progress=False)
    >>> len(model.loss_history_), model.random_state_, model.training
    (1, 0, False)
    """
    params = _recipe(recipe)
    seed = check_seed(random_state)
    if n_epochs is not None:
        params["n_epochs"] = check_int(n_epochs, "n_epochs", low=1)
    cache = check_bool(cache, "cache")
    progress = check_bool(progress, "progress", allow_none=True)
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
    """Mini-batch training from the seed; returns ``(model, mean loss per epoch)``."""
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
    bar = tqdm(total=epochs * n_batches, disable=not show, desc=f"MLP ({name})", unit="batch")
    with bar:
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
