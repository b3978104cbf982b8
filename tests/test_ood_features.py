"""Tests of gmmlab.ood.features: activations with the training's scaling, the exercise's inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gmmlab.data
from gmmlab import ood
from gmmlab.ood import features as features_module


pytestmark = pytest.mark.usefixtures("tiny_cache")  # every test: its own empty cache


# --- the original notebook's bug: features on 0..255 pixels ---------------------------


def test_features_use_the_training_scaling(mnist_small):
    images, _ = mnist_small
    torch.manual_seed(1)
    model = ood.MLP()  # any weights show it (training uses scale_images too: test_ood_network)
    feats = ood.extract_features(model, images[:300], cache=False)
    with torch.no_grad():
        expected = model.penultimate(torch.from_numpy(images[:300].astype(np.float32) / 255.0))
    np.testing.assert_array_equal(feats, expected.numpy().astype(np.float64))
    # What the original notebook did (0..255 inputs) gives very different features ...
    with torch.no_grad():
        wrong = model.penultimate(torch.from_numpy(images[:300].astype(np.float32))).numpy()
    assert np.abs(wrong - feats).max() > 10 * np.abs(feats).max()
    # ... and gmmlab refuses such floats instead of silently using them.
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ood.extract_features(model, images[:300].astype(np.float32), cache=False)
    # Floats already in [0, 1] (numpy or torch) are the same input as uint8 pixels.
    scaled = images[:300] / 255.0
    np.testing.assert_array_equal(ood.extract_features(model, scaled, cache=False), feats)
    from_torch = ood.extract_features(model, torch.from_numpy(scaled), cache=False)
    np.testing.assert_array_equal(from_torch, feats)


def test_layers_batches_and_training_mode():
    torch.manual_seed(0)
    model = ood.MLP().train()
    x = np.random.default_rng(0).integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    scaled = torch.from_numpy(x.reshape(50, 784).astype(np.float32) / 255.0)
    with torch.no_grad():
        expected = {"penultimate": model.penultimate(scaled), "hidden1": model.hidden1(scaled),
                    "penultimate_relu": model.penultimate_relu(scaled), "logits": model(scaled)}
    for layer, values in expected.items():
        one_batch = ood.extract_features(model, x, layer=layer, cache=False)
        small_batches = ood.extract_features(model, x, layer=layer, batch_size=7, cache=False)
        assert one_batch.dtype == np.float64 and one_batch.shape == tuple(values.shape)
        np.testing.assert_allclose(one_batch, values.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(small_batches, one_batch, rtol=1e-6, atol=1e-6)
    assert model.training  # restored after the no_grad, eval-mode pass


def test_features_cache_is_keyed_by_weights_images_and_layer(mnist_small, tiny_cache):
    images, _ = mnist_small
    torch.manual_seed(0)
    a, b = ood.MLP(), ood.MLP()
    first = ood.extract_features(a, images[:100])
    np.testing.assert_array_equal(ood.extract_features(a, images[:100]), first)
    assert len(list(tiny_cache.glob("features-*.npy"))) == 1
    other_model = ood.extract_features(b, images[:100])
    other_images = ood.extract_features(a, images[1:101])
    other_layer = ood.extract_features(a, images[:100], layer="hidden1")
    assert len(list(tiny_cache.glob("features-*.npy"))) == 4
    assert not np.array_equal(other_model, first) and not np.array_equal(other_images, first)
    assert other_layer.shape == (100, 128)


# --- bad input ------------------------------------------------------------------


def test_bad_extract_features_arguments(mnist_small, monkeypatch):
    images, _ = mnist_small
    model = ood.MLP()
    with pytest.raises(TypeError, match="model must be a gmmlab.ood.MLP"):
        ood.extract_features(torch.nn.Linear(784, 10), images[:5], cache=False)
    with pytest.raises(ValueError, match="layer must be one of"):
        ood.extract_features(model, images[:5], layer="first", cache=False)
    with pytest.raises(ValueError, match="layer must be one of"):
        ood.extract_features(model, images[:5], layer=None, cache=False)
    with pytest.raises(ValueError, match="batch_size"):
        ood.extract_features(model, images[:5], batch_size=0, cache=False)
    with pytest.raises(TypeError, match="batch_size"):
        ood.extract_features(model, images[:5], batch_size=2.5, cache=False)
    with pytest.raises(TypeError, match="cache"):
        ood.extract_features(model, images[:5], cache="no")
    # The images go through scale_images (its own tests are in test_ood_network.py).
    with pytest.raises(ValueError, match=r"images must have shape \(n, 28, 28\)"):
        ood.extract_features(model, images[:5, :, :27], cache=False)
    with pytest.raises(TypeError, match="uint8"):
        ood.extract_features(model, images[:5].astype(np.int64), cache=False)
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        ood.extract_features(model, images[:5].tolist(), cache=False)
    nan_images = images[:5] / 255.0
    nan_images[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ood.extract_features(model, nan_images, cache=False)


#: Bad arguments of load_ood_features, the error and the words it must hold.
BAD_LOAD_ARGUMENTS = [
    ({"recipe": "rmsprop"}, ValueError, "recipe must be one of"),
    ({"layer": "first"}, ValueError, "layer must be one of"),
    ({"layer": 2}, ValueError, "layer must be one of"),
    ({"random_state": -1}, ValueError, "random_state"),
    ({"random_state": "0"}, TypeError, "random_state"),
    ({"random_state": np.random.default_rng(0)}, TypeError, "random_state"),
    ({"cache": "yes"}, TypeError, "cache"),
    ({"progress": "auto"}, TypeError, "progress"),
    # issue 18: every argument, whatever the others (layer etc.), before any work
    ({"recipe": "adam", "layer": None}, ValueError, "layer must be one of"),
    ({"recipe": None, "layer": "hidden1"}, ValueError, "recipe must be one of"),
    ({"layer": ["hidden1"]}, ValueError, "layer must be one of"),
    ({"layer": "hidden1", "random_state": 2**40}, ValueError, "random_state"),
    ({"random_state": 1.5}, TypeError, "random_state"),
    ({"random_state": [1]}, TypeError, "random_state"),
    ({"layer": "hidden1", "cache": None}, TypeError, "cache"),
    ({"recipe": "adam", "progress": 1}, TypeError, "progress"),
]


def test_bad_load_ood_features_arguments_are_refused_before_any_work(monkeypatch):
    """Each argument is checked before the data are read or a network is trained (the layer
    used to be checked only after the training)."""
    def no_work(*args, **kwargs):
        raise AssertionError("started working despite a bad argument")

    for name in ("load_mnist", "load_fashion_mnist"):
        monkeypatch.setattr(gmmlab.data, name, no_work)
    monkeypatch.setattr(features_module, "train_mlp", no_work)
    for kwargs, error, match in BAD_LOAD_ARGUMENTS:
        with pytest.raises(error, match=match):
            ood.load_ood_features(**kwargs)
    # With good arguments the same call does start working (the checks above can fail).
    with pytest.raises(AssertionError, match="started working"):
        ood.load_ood_features()


def test_load_ood_features_wires_the_parts(monkeypatch):
    """load_ood_features trains on MNIST-train with its arguments and extracts each set."""
    rng = np.random.default_rng(0)
    sets = {("MNIST", "train"): 40, ("MNIST", "test"): 30, ("Fashion", "test"): 20}
    data = {key: (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))
            for key, n in sets.items()}
    monkeypatch.setattr(gmmlab.data, "load_mnist", lambda split: data["MNIST", split])
    monkeypatch.setattr(gmmlab.data, "load_fashion_mnist", lambda split: data["Fashion", split])
    calls = []
    real_train = ood.train_mlp

    def short_training(images, labels, **kwargs):
        calls.append(kwargs)
        return real_train(images, labels, n_epochs=1, **kwargs)

    monkeypatch.setattr(features_module, "train_mlp", short_training)
    f = ood.load_ood_features("adam", layer="hidden1", random_state=3, cache=False,
                              progress=False)
    assert calls == [{"recipe": "adam", "random_state": 3, "cache": False, "progress": False}]
    assert f.model.recipe_["optimizer"] == "adam" and f.layer == "hidden1"
    assert f.train.shape == (40, 128) and f.test_in.shape == (30, 128)
    assert f.test_out.shape == (20, 128) and f.logits_out.shape == (20, 10)
    np.testing.assert_array_equal(f.train_labels, data["MNIST", "train"][1])
    np.testing.assert_array_equal(
        f.test_in, ood.extract_features(f.model, data["MNIST", "test"][0], layer="hidden1",
                                        cache=False))
    y_test = data["MNIST", "test"][1]
    assert f.test_accuracy == float((f.logits_in.argmax(axis=1) == y_test).mean())
