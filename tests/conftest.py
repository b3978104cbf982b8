"""Shared test configuration.

The MNIST/FashionMNIST tests read the real files from ``GMMLAB_DATA``; when it is not
set, the read-only copy in ``../shared/datasets`` (beside the repository) is used if it
exists, as ``.ci/run`` does.
"""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
_shared = ROOT.parent / "shared" / "datasets"
if "GMMLAB_DATA" not in os.environ and _shared.is_dir():
    os.environ["GMMLAB_DATA"] = str(_shared)


@pytest.fixture
def tiny_cache(tmp_path, monkeypatch):
    """An empty cache folder of the test's own (``GMMLAB_CACHE``); the OOD tests use it
    for every test (``pytestmark``)."""
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def mnist_small():
    """The first 1200 MNIST training images and labels."""
    from gmmlab.data import load_mnist

    images, labels = load_mnist("train")
    return np.array(images[:1200]), np.array(labels[:1200])
