"""Tests of gmmlab.ood.network: the homework's MLP, its input scaling, its training and cache."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest
import torch

from gmmlab import ood
from gmmlab._validation import check_seed
from gmmlab.data import load_mnist
from gmmlab.ood import network


pytestmark = pytest.mark.usefixtures("tiny_cache")  # every test: its own empty cache


def _train(images, labels, **kw):
    kw.setdefault("n_epochs", 2)
    kw.setdefault("progress", False)
    return ood.train_mlp(images, labels, **kw)


def _same_weights(a, b) -> bool:
    return all(ka == kb and torch.equal(va, vb)
               for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()))


# --- the network ----------------------------------------------------------------


def test_mlp_is_the_homework_architecture():
    model = ood.MLP()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 128), (128, 64), (64, 10)]
    n_params = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert sum(p.numel() for p in model.parameters()) == n_params
    x = torch.rand(5, 28, 28)
    h = model.penultimate(x)
    assert h.shape == (5, 64)
    # The homework's penultimate(x) is layers[:-2](x): Flatten, Linear, ReLU, Linear -- the
    # second linear layer *before* its ReLU, so its values take both signs.
    assert (h < 0).any() and (h > 0).any()
    l1, l2, l3 = linears
    torch.testing.assert_close(h, l2(torch.relu(l1(x.reshape(5, 784)))))
    torch.testing.assert_close(model.hidden1(x), l1(x.reshape(5, 784)))
    torch.testing.assert_close(model.penultimate_relu(x), torch.relu(h))
    torch.testing.assert_close(model(x), l3(torch.relu(h)))


#: The MLP's methods, each with the part of ``layers`` it runs.
_METHODS = {"forward": slice(None), "penultimate": slice(None, -2),
            "penultimate_relu": slice(None, -1), "hidden1": slice(None, 2)}


@pytest.mark.parametrize("method", sorted(_METHODS))
def test_mlp_methods_refuse_what_they_cannot_take(method):
    """Issue 18: a numpy array, a (2, 100) tensor, float64 or uint8 pixels used to end in
    torch's shape/dtype errors; each is refused with an error naming ``x``."""
    torch.manual_seed(0)
    model = ood.MLP()
    call = getattr(model, method)
    x = torch.rand(3, 28, 28)
    raw = model.layers[_METHODS[method]]  # the unchecked modules (what the method used to be)
    with pytest.raises(RuntimeError):  # torch's own error, which names nothing
        raw(torch.rand(2, 100))
    bad = [
        (x.numpy(), TypeError, r"x must be a torch.Tensor .*got ndarray.*scale_images"),
        (x.tolist(), TypeError, r"x must be a torch.Tensor .*got list"),
        (torch.rand(2, 100), ValueError, r"x must have shape .*got \(2, 100\)"),
        (torch.rand(784), ValueError, r"x must have shape .*got \(784,\)"),
        (torch.rand(28, 28), ValueError, r"x must have shape .*got \(28, 28\)"),
        (x.double(), TypeError, r"x must have the network's dtype float32, got float64"),
        ((x * 255).to(torch.uint8), TypeError, r"x must have .*got uint8.*scale_images"),
        (x > 0.5, TypeError, r"x must have the network's dtype float32, got bool"),
        (torch.full((1, 784), float("nan")), ValueError, "x contains NaN or infinite"),
    ]
    for value, error, match in bad:
        with pytest.raises(error, match=match):
            call(value)
    # Valid input: exactly the modules' output (the checks change no number), in the three
    # layouts, torchvision's (n, 1, 28, 28) included.
    expected = raw(x)
    assert torch.equal(call(x), expected)
    assert torch.equal(call(x.reshape(3, 784)), expected)
    assert torch.equal(call(x[:, None]), expected)
    assert call(torch.zeros(0, 784)).shape[0] == 0
    # A network in float64 takes float64 input (the dtype is the network's, not a constant).
    model.double()
    assert call(x.double()).dtype == torch.float64
    with pytest.raises(TypeError, match="dtype float64, got float32"):
        call(x)


def test_mlp_outputs_that_overflow_are_refused():
    model = ood.MLP()
    x = torch.full((1, 784), 1e10)
    with torch.no_grad():
        model.layers[1].weight.mul_(1e30)
        assert not torch.isfinite(model.layers(x)).all()  # what used to be returned
    with pytest.raises(ValueError, match=r"x: the network's output overflows float32 .* 1e\+10"):
        model(x)
    with torch.no_grad():
        model.layers[1].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="parameters contain NaN"):
        model(torch.rand(2, 784))


class _HomeworkMLP(torch.nn.Module):
    """The homework's own class, as handed out (Flatten inside the Sequential)."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.layers(x)

    def penultimate(self, x):
        return self.layers[:-2](x)


def test_homework_state_dict_loads_and_gives_the_homework_layer():
    torch.manual_seed(3)
    theirs = _HomeworkMLP()
    ours = ood.MLP()
    ours.load_state_dict(theirs.state_dict())  # strict: same keys, same shapes
    x = torch.rand(7, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(ours.penultimate(x), theirs.penultimate(x), rtol=0, atol=0)
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
    feats = ood.extract_features(ours, x.numpy(), cache=False)
    expected = theirs.penultimate(x).detach().numpy().astype(np.float64)
    np.testing.assert_array_equal(feats, expected)
    # The post-ReLU values are a different layer: the check above can fail.
    post = ood.extract_features(ours, x.numpy(), layer="penultimate_relu", cache=False)
    assert (post >= 0).all() and not np.array_equal(post, feats)
    # A state_dict of another layout is refused, not silently half-loaded.
    wrong = {k.replace("layers.1.", "layers.0."): v for k, v in theirs.state_dict().items()}
    with pytest.raises(RuntimeError):
        ood.MLP().load_state_dict(wrong)


# --- one input scaling for training and features ----------------------------------


def test_scale_images():
    x = np.arange(2 * 784, dtype=np.int64).reshape(2, 28, 28) % 256
    out = ood.scale_images(x.astype(np.uint8))
    assert out.dtype == torch.float32 and out.shape == (2, 784)
    np.testing.assert_allclose(out.numpy(), x.reshape(2, 784) / 255.0, rtol=1e-6)
    flat = ood.scale_images(x.reshape(2, 784).astype(np.uint8))
    torch.testing.assert_close(flat, out)
    # The caller's array is not modified through the result.
    images = x.astype(np.uint8)
    ood.scale_images(images / 255.0).fill_(0.5)
    assert images.max() == 255


def test_training_uses_the_same_scaling_as_features(mnist_small):
    images, labels = mnist_small
    a = _train(images[:400], labels[:400], n_epochs=1, cache=False)
    b = _train(images[:400] / 255.0, labels[:400], n_epochs=1, cache=False)
    assert _same_weights(a, b)


# --- training -------------------------------------------------------------------


def test_training_learns_and_is_reproducible(mnist_small):
    images, labels = mnist_small
    state = torch.get_rng_state()
    threads = torch.get_num_threads()
    a = _train(images[:1000], labels[:1000], n_epochs=4, cache=False, recipe="adam")
    # The caller's torch RNG and thread setting are left as they were.
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    assert a.loss_history_[-1] < a.loss_history_[0] < 2.5
    test_x, test_y = load_mnist("test")
    logits = ood.extract_features(a, test_x[:1000], layer="logits", cache=False)
    assert (logits.argmax(axis=1) == test_y[:1000]).mean() > 0.75
    b = _train(images[:1000], labels[:1000], n_epochs=4, cache=False, recipe="adam")
    c = _train(images[:1000], labels[:1000], n_epochs=4, cache=False, recipe="adam",
               random_state=1)
    wa, wb, wc = (m.layers[1].weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_adam_recipe_differs_from_homework(mnist_small):
    images, labels = mnist_small
    hw = _train(images[:500], labels[:500], n_epochs=1, cache=False)
    ad = _train(images[:500], labels[:500], n_epochs=1, cache=False, recipe="adam")
    assert ad.recipe_["optimizer"] == "adam" and hw.recipe_["batch_size"] == 32
    assert not torch.equal(hw.layers[1].weight, ad.layers[1].weight)


def test_random_state_none_int_or_randomstate(mnist_small):
    """random_state is None | int | RandomState; torch gets the int seed check_seed gives."""
    images, labels = mnist_small[0][:100], mnist_small[1][:100]
    from_int = _train(images, labels, n_epochs=1, cache=False, random_state=5)
    assert from_int.random_state_ == 5
    rs = np.random.RandomState(0)
    from_rs = _train(images, labels, n_epochs=1, cache=False, random_state=rs)
    seed = check_seed(np.random.RandomState(0))
    assert from_rs.random_state_ == seed
    assert _same_weights(from_rs, _train(images, labels, n_epochs=1, cache=False,
                                         random_state=seed))
    # The RandomState advanced: the next network gets another seed.
    assert _train(images, labels, n_epochs=1, cache=False, random_state=rs).random_state_ != seed
    seeds = {_train(images, labels, n_epochs=1, cache=False, random_state=None).random_state_
             for _ in range(2)}
    assert len(seeds) == 2


# --- the cache ------------------------------------------------------------------


def test_second_call_loads_from_cache(mnist_small, tiny_cache, monkeypatch):
    images, labels = mnist_small
    first = _train(images, labels)
    feats = ood.extract_features(first, images)
    assert len(list(tiny_cache.glob("mlp-homework-seed0-*.pt"))) == 1
    assert len(list(tiny_cache.glob("features-penultimate-*.npy"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cache")

    monkeypatch.setattr(network, "_fit", no_training)
    second = _train(images, labels)
    assert _same_weights(first, second)
    assert second.loss_history_ == first.loss_history_
    np.testing.assert_array_equal(ood.extract_features(second, images), feats)
    # A different seed, recipe, epoch count or dataset is a different entry: it must train.
    for kwargs in ({"random_state": 1}, {"recipe": "adam"}, {"n_epochs": 1}):
        with pytest.raises(AssertionError, match="trained again"):
            _train(images, labels, **kwargs)
    with pytest.raises(AssertionError, match="trained again"):
        _train(images[:-1], labels[:-1])


def test_truncated_cache_entries_are_recomputed(mnist_small, tiny_cache, monkeypatch):
    images, labels = mnist_small
    first = _train(images, labels)
    feats = ood.extract_features(first, images[:500])
    calls = []
    real_fit = network._fit

    def counting_fit(*args, **kwargs):
        calls.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(network, "_fit", counting_fit)
    (weights,) = tiny_cache.glob("mlp-*.pt")
    (features,) = tiny_cache.glob("features-*.npy")
    for path in (weights, features):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        again = _train(images, labels)
    assert calls == [1]
    assert torch.equal(again.layers[3].weight, first.layers[3].weight)  # same seed, same result
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        np.testing.assert_array_equal(ood.extract_features(again, images[:500]), feats)
    # The entries were rewritten whole: loading now is silent and needs no training.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _train(images, labels)
        ood.extract_features(again, images[:500])
    assert calls == [1]
    # A flipped byte (same length) is detected too.
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        _train(images, labels)
    assert calls == [1, 1]
    assert not list(tiny_cache.glob("*.tmp"))


def test_cache_folder_rules(monkeypatch, tmp_path):
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "c"))
    assert ood.cache_dir() == tmp_path / "c"
    monkeypatch.setenv("GMMLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "data" / "cache"))
    with pytest.raises(ValueError, match="GMMLAB_DATA"):
        ood.cache_dir()
    monkeypatch.delenv("GMMLAB_CACHE")
    default = ood.cache_dir()
    assert default.name == "gmmlab" and default.parent.name == ".cache"
    assert tmp_path / "data" not in default.parents


def test_progress_rule(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    show = network._show_progress
    monkeypatch.setattr("sys.stderr", Tty())
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GMMLAB_PROGRESS", raising=False)  # conftest.py sets it for the whole run
    assert show(None) is True
    monkeypatch.setenv("CI", "true")
    assert show(None) is False
    assert show(True) is True
    monkeypatch.setenv("CI", "0")
    assert show(None) is True
    monkeypatch.setenv("GMMLAB_PROGRESS", "0")  # set for nbval (conftest.py) and .ci/execute.py
    assert show(None) is False
    monkeypatch.delenv("GMMLAB_PROGRESS")
    monkeypatch.setattr("sys.stderr", object())  # a stream without isatty, outside Jupyter
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert show(None) is False
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # in Jupyter
    assert show(None) is True
    monkeypatch.setenv("GMMLAB_PROGRESS", "0")
    assert show(None) is False


# --- bad input ------------------------------------------------------------------


def test_bad_images_and_labels(mnist_small):
    images, labels = mnist_small
    with pytest.raises(ValueError, match="same length"):
        ood.train_mlp(images[:10], labels[:9], cache=False)
    with pytest.raises(ValueError, match="at least one image"):
        ood.train_mlp(images[:0], labels[:0], cache=False)
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28\)"):
        ood.scale_images(images[:5, :, :27])
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28\)"):
        ood.scale_images(images[0])
    with pytest.raises(TypeError, match="uint8"):
        ood.scale_images(images[:5].astype(np.int64))
    with pytest.raises(TypeError, match="uint8"):
        ood.scale_images(images[:5] > 0)
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        ood.scale_images(images[:5].tolist())
    with pytest.raises(TypeError, match="pixels must be"):
        ood.scale_images(images[:5].tolist(), name="pixels")
    with pytest.raises(TypeError, match="name must be a str"):
        ood.scale_images(images[:5], name=3)
    nan_images = images[:5] / 255.0
    nan_images[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ood.scale_images(nan_images)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ood.scale_images(images[:5].astype(np.float32))
    with pytest.raises(ValueError, match="labels"):
        ood.train_mlp(images[:10], labels[:10] + 10, cache=False)
    with pytest.raises(TypeError, match="labels"):
        ood.train_mlp(images[:10], labels[:10].astype(float), cache=False)
    with pytest.raises(ValueError, match="labels must be a 1-D"):
        ood.train_mlp(images[:10], labels[:10, None], cache=False)


#: Bad arguments of train_mlp, the error and the words it must hold.
BAD_TRAIN_MLP_ARGUMENTS = [
    ({"recipe": "rmsprop"}, ValueError, "recipe must be one of"),
    ({"recipe": None}, ValueError, "recipe must be one of"),
    ({"random_state": -1}, ValueError, "random_state"),
    ({"random_state": 2**32}, ValueError, "random_state"),
    ({"random_state": 1.5}, TypeError, "random_state"),
    ({"random_state": "0"}, TypeError, "random_state"),
    ({"random_state": True}, TypeError, "random_state"),
    ({"random_state": np.random.default_rng(0)}, TypeError, "random_state"),
    ({"n_epochs": 0}, ValueError, "n_epochs"),
    ({"n_epochs": 2.0}, TypeError, "n_epochs"),
    ({"num_threads": 0}, ValueError, "num_threads"),
    ({"cache": "no"}, TypeError, "cache"),
    ({"cache": None}, TypeError, "cache"),
    ({"progress": 1}, TypeError, "progress"),
]


def test_bad_train_mlp_arguments_are_refused_before_training(mnist_small, monkeypatch):
    images, labels = mnist_small[0][:10], mnist_small[1][:10]

    def no_training(*args, **kwargs):
        raise AssertionError("trained despite a bad argument")

    monkeypatch.setattr(network, "_fit", no_training)
    for kwargs, error, match in BAD_TRAIN_MLP_ARGUMENTS:
        with pytest.raises(error, match=match):
            ood.train_mlp(images, labels, **kwargs)
    # The same call with good arguments does reach the training (the checks above can fail).
    with pytest.raises(AssertionError, match="trained despite"):
        ood.train_mlp(images, labels, cache=False)
