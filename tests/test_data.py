"""gmmlab.data: real MNIST/FashionMNIST through torchvision, Old Faithful, synthetic mixtures."""

import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from gmmlab import data
from gmmlab.data import (
    DataNotFoundError,
    load_fashion_mnist,
    load_mnist,
    load_old_faithful,
    make_gaussian_mixture,
)


def _snapshot(root: Path) -> dict:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.fixture
def fresh_cache():
    data._load_idx.cache_clear()
    yield
    data._load_idx.cache_clear()


def test_mnist_train_shapes_dtypes_and_first_labels():
    images, labels = load_mnist("train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert images.max() == 255 and images.min() == 0
    assert np.bincount(labels).tolist()[1] == 6742  # the published count of ones


def test_fashion_mnist_test_shapes_and_first_labels():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert np.bincount(labels).tolist() == [1000] * 10


def test_arrays_are_read_only_so_callers_cannot_corrupt_the_cache():
    images, _ = load_mnist("test")
    with pytest.raises(ValueError):
        images[0, 0, 0] = 1


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_empty_root_without_network_names_gmmlab_data(tmp_path, monkeypatch, fresh_cache):
    import torchvision.datasets.mnist as tv_mnist

    def no_network(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_network)
    monkeypatch.setenv("GMMLAB_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="GMMLAB_DATA") as info:
        load_mnist("train")
    assert "MNIST/raw" in str(info.value)


def _copy_mnist(root: Path) -> Path:
    """A copy of the MNIST raw files under ``root``; returns its raw folder."""
    source = Path(os.environ["GMMLAB_DATA"]) / "MNIST" / "raw"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in source.iterdir():
        shutil.copy(f, raw / f.name)
    return raw


def test_read_only_root_is_not_written(tmp_path, monkeypatch, fresh_cache):
    raw = _copy_mnist(tmp_path)
    before = _snapshot(tmp_path)
    for p in [tmp_path, tmp_path / "MNIST", raw, *raw.iterdir()]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    monkeypatch.setenv("GMMLAB_DATA", str(tmp_path))
    try:
        images, labels = load_mnist("test")
        assert images.shape == (10000, 28, 28) and labels[:3].tolist() == [7, 2, 1]
        assert _snapshot(tmp_path) == before
    finally:
        for p in [tmp_path, tmp_path / "MNIST", raw, *raw.iterdir()]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_shared_root_untouched_by_loading(fresh_cache):
    root = Path(os.environ["GMMLAB_DATA"])
    before = _snapshot(root)
    load_fashion_mnist("train")
    assert _snapshot(root) == before


def test_corrupt_file_is_reported(tmp_path, monkeypatch, fresh_cache):
    raw = _copy_mnist(tmp_path)
    labels = raw / "t10k-labels-idx1-ubyte"
    content = bytearray(labels.read_bytes())
    content[100] ^= 0xFF  # one flipped byte: same size, wrong label
    labels.write_bytes(bytes(content))
    monkeypatch.setenv("GMMLAB_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="corrupt.*GMMLAB_DATA"):
        load_mnist("test")


def test_old_faithful():
    X = load_old_faithful()
    assert X.shape == (272, 2) and X.dtype == np.float64
    assert X[0].tolist() == [3.6, 79.0]
    # R's summary(faithful): eruptions 1.600..5.100, waiting 43..96, means 3.488 and 70.90
    assert X[:, 0].min() == 1.6 and X[:, 0].max() == 5.1
    assert X[:, 1].min() == 43 and X[:, 1].max() == 96
    np.testing.assert_allclose(X.mean(axis=0), [3.487783, 70.897059], atol=1e-5)


def test_synthetic_mixture_matches_its_parameters():
    s = make_gaussian_mixture(40000, n_components=3, n_features=2, random_state=0)
    assert s.X.shape == (40000, 2) and s.labels.shape == (40000,)
    np.testing.assert_allclose(s.weights.sum(), 1.0)
    np.testing.assert_allclose(np.bincount(s.labels) / 40000, s.weights, atol=0.01)
    for k in range(3):
        Xk = s.X[s.labels == k]
        np.testing.assert_allclose(Xk.mean(axis=0), s.means[k], atol=0.05)
        np.testing.assert_allclose(np.cov(Xk.T), s.covariances[k], atol=0.06)


def test_synthetic_mixture_given_parameters_and_determinism():
    kwargs = dict(weights=[0.25, 0.75], means=[[0.0, 0.0], [5.0, 5.0]], covariances=[np.eye(2), 2 * np.eye(2)])
    a = make_gaussian_mixture(100, random_state=1, **kwargs)
    b = make_gaussian_mixture(100, random_state=1, **kwargs)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, make_gaussian_mixture(100, random_state=2, **kwargs).X)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_samples=0), "n_samples"),
        (dict(weights=[0.5, 0.6], means=[[0, 0], [1, 1]]), "weights"),
        (dict(means=[[0, 0], [1, 1]], covariances=np.ones((2, 2, 2))), "positive definite"),
        (dict(means=[[0, 0]], covariances=np.eye(3)[None]), "covariances gives n_features=3, but means"),
        (dict(n_components=0), "n_components"),
    ],
)
def test_synthetic_mixture_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_gaussian_mixture(**kwargs)


# --------------------------------------------------------------------------- issue 18: bad input


def test_means_and_n_components_must_agree():
    means = [[0.0, 0.0], [5.0, 5.0]]
    # Before, n_components=5 was silently replaced by the 2 rows of means.
    with pytest.raises(ValueError, match=r"means gives n_components=2, but n_components=5"):
        make_gaussian_mixture(50, means=means, n_components=5, random_state=0)
    with pytest.raises(ValueError, match=r"means gives n_features=2, but n_features=3"):
        make_gaussian_mixture(50, means=means, n_features=3, random_state=0)
    with pytest.raises(ValueError, match=r"covariances gives n_components=1, but means gives n_components=2"):
        make_gaussian_mixture(50, means=means, covariances=[np.eye(2)], random_state=0)
    with pytest.raises(ValueError, match=r"weights gives n_components=3, but n_components=2"):
        make_gaussian_mixture(50, weights=[0.2, 0.3, 0.5], n_components=2, random_state=0)
    # Agreeing sizes, given or implied, are fine; the sizes come from the arrays.
    s = make_gaussian_mixture(50, means=means, n_components=2, n_features=2, random_state=0)
    assert s.means.shape == (2, 2)
    s = make_gaussian_mixture(50, weights=[0.2, 0.3, 0.1, 0.4], random_state=0)
    assert s.means.shape == (4, 2) and s.covariances.shape == (4, 2, 2)
    s = make_gaussian_mixture(50, covariances=np.stack([np.eye(3)] * 2), random_state=0)
    assert s.means.shape == (2, 3)


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (-np.inf, ValueError), (np.nan, ValueError),
                                        (np.inf, ValueError), ("4", TypeError), (True, TypeError),
                                        (None, TypeError), (1.7e308, ValueError)])
def test_separation_must_be_a_finite_number_at_least_zero(bad, error):
    with pytest.raises(error, match="separation"):
        make_gaussian_mixture(50, separation=bad, random_state=0)
    if bad == 1.7e308:
        return  # finite: only the cube of random means overflows
    # also when means are given (separation is unused then, but still checked)
    with pytest.raises(error, match="separation"):
        make_gaussian_mixture(50, separation=bad, means=[[0.0, 0.0]], random_state=0)


def test_separation_minus_one_was_accepted_before():
    # With separation=-1 the old code drew means in a cube of negative side: uniform(1.2, -1.2).
    rng = np.random.RandomState(0)
    assert np.isfinite(rng.uniform(1.2, -1.2, size=3)).all()  # numpy does not object
    assert make_gaussian_mixture(50, separation=0, random_state=0).means.tolist() == [[0.0, 0.0]] * 3


@pytest.mark.parametrize("kwargs, name", [
    (dict(weights=[0.5, 0.5 + 0.5j]), "weights"),
    (dict(weights="ab"), "weights"),
    (dict(weights=[0.5, np.nan]), "weights"),
    (dict(means=[[0.0, 0.0], [1.0, np.inf]]), "means"),
    (dict(covariances=np.stack([np.eye(2)] * 2) + 0j), "covariances"),
    (dict(covariances=np.full((2, 2, 2), "a")), "covariances"),
    (dict(covariances=[[[1.0, 0.0], [0.0, np.inf]]] * 2), "covariances"),
])
def test_synthetic_mixture_parameters_name_themselves(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make_gaussian_mixture(50, random_state=0, **kwargs)


@pytest.mark.parametrize("bad", [np.array(["train", "test"]), ["train"], None, b"train", "Train"])
def test_bad_split_names_split(bad):
    for loader in (load_mnist, load_fashion_mnist):
        with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
            loader(bad)


def test_data_root_that_is_a_file_says_to_set_gmmlab_data(tmp_path, monkeypatch, fresh_cache):
    import torchvision.datasets.mnist as tv_mnist

    def no_network(*args, **kwargs):
        raise OSError("no network in this test")

    (tmp_path / "file").write_bytes(b"")
    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_network)
    monkeypatch.setenv("GMMLAB_DATA", str(tmp_path / "file"))
    with pytest.raises(DataNotFoundError, match="Set the environment variable GMMLAB_DATA"):
        load_fashion_mnist("test")
