"""Tests for gmmlab.kmeans: exact agreement with scikit-learn, invariants, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import make_blobs

from gmmlab.kmeans import KMeans, MissingDataKMeans, class_means, kmeans_plusplus, lloyd_step


def _blobs():
    X, _ = make_blobs(3000, centers=6, n_features=5, cluster_std=2.5, random_state=0)
    return X


def test_matches_sklearn_from_same_centers_blobs():
    X = _blobs()
    init, _ = kmeans_plusplus(X, 6, random_state=1)
    ours = KMeans(6, init=init).fit(X)
    ref = SkKMeans(6, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6, atol=1e-9)
