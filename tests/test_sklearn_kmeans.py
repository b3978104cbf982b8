"""scikit-learn's own K-means tests (``sklearn/cluster/tests/test_k_means.py``), run
against gmmlab's ``KMeans`` and ``kmeans_plusplus`` (see ``tests/sklearn_suite.py``).

Every test of that file passes except those listed in :data:`EXCLUDED`, each with its
reason and the text its failure shows; an exclusion that is no longer needed (its
tests pass, fail for another cause, or no longer exist) fails
:func:`test_every_exclusion_is_still_needed`. The whole file runs once, in a
subprocess, in a few seconds.
"""

from __future__ import annotations

import pytest
import sklearn_suite

TEST_FILE = "cluster/tests/test_k_means.py"

SWAPS = {
    "sklearn.cluster": {"KMeans": "gmmlab.kmeans:KMeans", "kmeans_plusplus": "gmmlab.kmeans:kmeans_plusplus"},
    # scikit-learn's private helpers: stand-ins that fail when called.
    "sklearn.cluster._k_means_common": {},
    "sklearn.cluster._kmeans": {},
}

NOT_OFFERED = "is not offered by gmmlab"
SPARSE = ("sparse input is refused with a clear TypeError: gmmlab centres the data on their mean, "
          "which makes them dense", "Sparse data was passed for X")
PRIVATE = "tests a private helper of scikit-learn's Cython implementation"

EXCLUDED = {
    # Objects gmmlab does not offer.
    "*MiniBatchKMeans*": ("MiniBatchKMeans: gmmlab offers no mini-batch K-means", NOT_OFFERED),
    "test_minibatch_*": ("MiniBatchKMeans and its private _mini_batch_step: not offered", NOT_OFFERED),
    "test_k_means_function": ("the function sklearn.cluster.k_means: gmmlab offers the estimator", NOT_OFFERED),
    # scikit-learn's private helpers (gmmlab's own are tested in test_kmeans.py).
    "test_relocate_empty_clusters[*]": (PRIVATE + " (_relocate_empty_clusters_dense/_sparse)", NOT_OFFERED),
    "test_euclidean_distance[*]": (PRIVATE + " (_euclidean_dense_dense_wrapper)", NOT_OFFERED),
    "test_inertia[*]": (PRIVATE + " (_inertia_dense/_sparse)", NOT_OFFERED),
    "test_is_same_clustering": (PRIVATE + " (_is_same_clustering)", NOT_OFFERED),
    "test_sample_weight_init[*]": (
        "calls the private method KMeans._init_centroids (weighted seeding: test_kmeans.py)",
        "_init_centroids",
    ),
    "test_sample_weight_zero[*]": (
        "calls the private method KMeans._init_centroids (weight 0 never seeds: test_kmeans.py)",
        "_init_centroids",
    ),
    # Sparse input.
    "*sparse_matrix*": SPARSE,
    "*sparse_array*": SPARSE,
    "*X_csr*": SPARSE,
    "test_predict_does_not_change_cluster_centers[csr_*]": SPARSE,
    "test_kmeans_plusplus_output[*-input_data1]": SPARSE,  # a csr_matrix
    "test_kmeans_plusplus_output[*-input_data2]": SPARSE,  # a csr_array
    # A parameter without an object in gmmlab, and a behaviour kept on purpose.
    "test_kmeans_copyx": ("copy_x: gmmlab never modifies X (it centres a copy), so it has no such parameter",
                          "copy_x"),
    "test_warning_n_init_precomputed_centers[KMeans]": (
        "gmmlab refuses n_init > 1 with an array init (a ValueError naming n_init) where scikit-learn "
        "warns and runs once",
        "n_init must be 1 when init is an array",
    ),
}


@pytest.fixture(scope="module")
def suite():
    return sklearn_suite.run_suite(TEST_FILE, SWAPS)


def test_the_suite_ran(suite):
    # The copy imported and ran: its 282 tests (at scikit-learn 1.9.1), of which
    # more than a quarter exercise gmmlab and pass.
    assert len(suite.outcomes) > 250
    assert suite.count("passed") >= 80


def test_every_test_not_excluded_passes(suite):
    verdict = sklearn_suite.check_outcomes(suite, EXCLUDED)
    assert not verdict.unexpected_failures, verdict.report()


def test_every_exclusion_is_still_needed(suite):
    verdict = sklearn_suite.check_outcomes(suite, EXCLUDED)
    assert not (verdict.unknown_exclusions or verdict.passing_exclusions or verdict.other_causes), (
        verdict.report()
    )


def test_the_harness_swaps_imports_and_catches_stale_exclusions():
    source = (
        '"""doc"""\nfrom sklearn.cluster import KMeans, MiniBatchKMeans as M\n'
        "def test_a():\n    from sklearn.cluster import (\n        KMeans as K,\n    )\n    assert K is KMeans\n"
    )
    swapped = sklearn_suite.swap_imports(source, {"sklearn.cluster": {"KMeans": "gmmlab.kmeans:KMeans"}})
    namespace = {}
    exec(compile(swapped, "<swapped>", "exec"), namespace)
    import gmmlab.kmeans

    assert namespace["KMeans"] is gmmlab.kmeans.KMeans
    namespace["test_a"]()  # the import inside the function is swapped too
    with pytest.raises(NotImplementedError, match="MiniBatchKMeans is not offered"):
        namespace["M"]()
    with pytest.raises(ValueError, match="cannot be swapped"):
        sklearn_suite.swap_imports("import sklearn.cluster\n", {"sklearn.cluster": {}})
    result = sklearn_suite.SuiteResult(
        {"test_x[a]": "passed", "test_x[b]": "failed", "test_y": "failed"}, {"test_x[b]": "boom", "test_y": "zap"}
    )
    verdict = sklearn_suite.check_outcomes(
        result, {"test_x[*]": "r", "test_z": "r", "test_y": ("r", "boom")}
    )
    assert verdict.passing_exclusions == {"test_x[*]": ["test_x[a]"]}  # a test that now passes
    assert verdict.unknown_exclusions == ["test_z"]  # a test that no longer exists
    assert verdict.other_causes == {"test_y": ["test_y"]}  # fails, but not for the stated cause
    assert sklearn_suite.check_outcomes(result, {"test_x[b]": "r"}).unexpected_failures == {"test_y": "zap"}
    assert sklearn_suite.check_outcomes(result, {"test_x[b]": "r", "test_y": ("r", "zap")}).ok
