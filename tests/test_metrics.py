"""Tests for gmmlab.metrics: OOD metrics against sklearn.metrics, clustering metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from gmmlab import metrics

OOD_FUNCS = [metrics.auroc, metrics.aupr_in, metrics.aupr_out, metrics.fpr_at_tpr]


def _fpr_bruteforce(s_in, s_out, tpr):
    """Highest threshold among the scores that accepts >= tpr of s_in; fraction of s_out accepted."""
    for t in np.sort(np.unique(np.concatenate([s_in, s_out])))[::-1]:
        if np.mean(s_in >= t) >= tpr - 1e-12:
            return np.mean(s_out >= t)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- OOD


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ood_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    s_in = rng.normal(1.0, 1.0, 300)
    s_out = rng.normal(0.0, 1.5, 200)
    s_out[:20] = s_in[:20]  # some exact ties
    y = np.r_[np.ones(300), np.zeros(200)]
    s = np.r_[s_in, s_out]
    assert metrics.auroc(s_in, s_out) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-14)
    assert metrics.aupr_in(s_in, s_out) == pytest.approx(skm.average_precision_score(y, s), abs=1e-14)
    assert metrics.aupr_out(s_in, s_out) == pytest.approx(
        skm.average_precision_score(1 - y, -s), abs=1e-14
    )
    # AUROC is P(in > out) + P(tie)/2: check against the direct pairwise count.
    diff = s_in[:, None] - s_out[None, :]
    pairwise = np.mean(diff > 0) + 0.5 * np.mean(diff == 0)
    assert metrics.auroc(s_in, s_out) == pytest.approx(pairwise, abs=1e-12)
    for tpr in (0.95, 0.8, 0.5, 1.0):
        assert metrics.fpr_at_tpr(s_in, s_out, tpr=tpr) == pytest.approx(
            _fpr_bruteforce(s_in, s_out, tpr), abs=1e-14
        )


def test_fpr95_accepts_95_percent_of_in_distribution():
    # 100 in-distribution scores 1..100; 95% accepted -> threshold 6; OOD 0..9 accepted: 6..9 = 4 of 10
    s_in = np.arange(1, 101, dtype=float)
    s_out = np.arange(0, 10, dtype=float)
    assert metrics.fpr_at_tpr(s_in, s_out) == pytest.approx(0.4)
    assert metrics.fpr_at_tpr(s_in, s_out, tpr=0.9) == pytest.approx(0.0)  # threshold 11


def test_perfect_separation():
    s_in = np.linspace(10, 20, 50)
    s_out = np.linspace(-5, 5, 70)
    assert metrics.auroc(s_in, s_out) == 1.0
    assert metrics.aupr_in(s_in, s_out) == 1.0
    assert metrics.aupr_out(s_in, s_out) == 1.0
    assert metrics.fpr_at_tpr(s_in, s_out) == 0.0
    # Reversed scores: the worst possible detector.
    assert metrics.auroc(s_out, s_in) == 0.0
    assert metrics.fpr_at_tpr(s_out, s_in) == 1.0


def test_identical_distributions_give_chance():
    rng = np.random.default_rng(0)
    s_in = rng.normal(size=20000)
    s_out = rng.normal(size=20000)
    assert metrics.auroc(s_in, s_out) == pytest.approx(0.5, abs=0.01)
    assert metrics.fpr_at_tpr(s_in, s_out) == pytest.approx(0.95, abs=0.01)
    assert metrics.aupr_in(s_in, s_out) == pytest.approx(0.5, abs=0.01)
    # All scores equal: a single threshold, everything accepted.
    assert metrics.auroc(np.ones(5), np.ones(7)) == 0.5
    assert metrics.fpr_at_tpr(np.ones(5), np.ones(7)) == 1.0


def test_ood_accepts_lists_and_torch():
    import torch

    assert metrics.auroc([1.0, 2.0], torch.tensor([0.0, 1.5])) == pytest.approx(0.75)


@pytest.mark.parametrize("func", OOD_FUNCS)
@pytest.mark.parametrize(
    "score_in, score_out, name",
    [
        ([], [1.0, 2.0], "score_in"),
        ([1.0, 2.0], [], "score_out"),
        ([1.0, np.nan], [1.0, 2.0], "score_in"),
        ([1.0, 2.0], [np.nan, 2.0], "score_out"),
        ([1.0, np.inf], [1.0, 2.0], "score_in"),
        (np.ones((3, 2)), [1.0, 2.0], "score_in"),
        ([1.0, 2.0], np.ones((2, 1)), "score_out"),
        (3.0, [1.0, 2.0], "score_in"),
        (["a", "b"], [1.0, 2.0], "score_in"),
    ],
)
def test_ood_bad_input(func, score_in, score_out, name):
    with pytest.raises((ValueError, TypeError), match=name):
        func(score_in, score_out)


@pytest.mark.parametrize("tpr", [0.0, -0.1, 1.5, np.nan, "0.95", True])
def test_fpr_at_tpr_bad_tpr(tpr):
    with pytest.raises(ValueError, match="tpr"):
        metrics.fpr_at_tpr([1.0, 2.0], [0.0], tpr=tpr)


# --------------------------------------------------------------------------- clustering


def test_accuracy_is_one_on_permuted_labels():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 1000)
    perm = rng.permutation(10)
    assert metrics.clustering_accuracy(y, perm[y]) == 1.0
    assert metrics.purity(y, perm[y]) == 1.0
    # Arbitrary label values (strings vs. large ints) work too.
    names = np.array(list("abcdefghij"))
    assert metrics.clustering_accuracy(names[y], 100 + perm[y]) == 1.0


def test_accuracy_matches_bruteforce_matching():
    import itertools

    rng = np.random.default_rng(1)
    for _ in range(5):
        y = rng.integers(0, 4, 60)
        c = rng.integers(0, 4, 60)
        best = max(np.mean(np.asarray(p)[c] == y) for p in itertools.permutations(range(4)))
        assert metrics.clustering_accuracy(y, c) == pytest.approx(best)


def test_accuracy_and_purity_hand_case():
    y = [0, 0, 0, 1, 1, 1]
    c = [0, 0, 1, 1, 1, 1]
    # cluster 0 -> class 0 (2 right), cluster 1 -> class 1 (3 right): 5/6
    assert metrics.clustering_accuracy(y, c) == pytest.approx(5 / 6)
    assert metrics.purity(y, c) == pytest.approx(5 / 6)
    # One cluster for everything: purity = majority share, accuracy the same.
    assert metrics.purity(y, [0] * 6) == pytest.approx(0.5)
    # One cluster per sample: purity 1, but the matching only uses 2 clusters.
    assert metrics.purity(y, range(6)) == 1.0
    assert metrics.clustering_accuracy(y, range(6)) == pytest.approx(2 / 6)


def test_contingency_table():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    c = np.array([5, 5, 5, 7, 7, 7, 7])
    t = metrics.contingency_table(y, c)
    np.testing.assert_array_equal(t.clusters, [5, 7])
    np.testing.assert_array_equal(t.classes, [0, 1, 2])
    np.testing.assert_array_equal(t.table, [[2, 1, 0], [0, 1, 3]])
    assert t.table.sum() == y.size
    np.testing.assert_array_equal(t.table.T, skm.cluster.contingency_matrix(y, c))


def test_reexports_are_sklearn():
    assert metrics.adjusted_rand_score is skm.adjusted_rand_score
    assert metrics.normalized_mutual_info_score is skm.normalized_mutual_info_score


@pytest.mark.parametrize("func", [metrics.clustering_accuracy, metrics.purity, metrics.contingency_table])
def test_clustering_bad_input(func):
    with pytest.raises(ValueError, match="same length"):
        func([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="labels_true"):
        func([], [])
    with pytest.raises(ValueError, match="labels_pred"):
        func([0, 1], [[0, 1]])
    with pytest.raises(ValueError, match="labels_true"):
        func([0.0, np.nan], [0, 1])


# --------------------------------------------------------------------------- issue 18: bad input


@pytest.mark.parametrize("func", OOD_FUNCS)
@pytest.mark.parametrize("which", ["score_in", "score_out"])
def test_ood_complex_scores_are_refused_not_cast(func, which):
    import warnings

    import torch

    s_in, s_out = np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.5])
    for bad in (np.array([1.0, 2.0, 3.0, 4.0]) + 1j, np.array([0.0, 1.0]).astype(complex),
                [1 + 2j, 3 + 0j], torch.tensor([1 + 1j, 2 + 0j])):
        args = {"score_in": s_in, "score_out": s_out, which: bad}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ComplexWarning either: a TypeError first
            with pytest.raises(TypeError, match=rf"{which} must be a 1-D array of real scores.*complex"):
                func(args["score_in"], args["score_out"])
    # Before, the imaginary part was dropped: the result was that of the real parts.
    real = {"score_in": s_in, "score_out": s_out, which: np.real(np.array([3.0, -1.0]) + 5j)}
    assert np.isfinite(func(real["score_in"], real["score_out"]))


@pytest.mark.parametrize("bad", [np.array(["1.5", "2.5"]), None, {"a": 1}, [1.0, None]])
def test_ood_strings_none_and_objects_are_refused(bad):
    with pytest.raises(TypeError, match="score_out must be a 1-D array of real scores"):
        metrics.auroc([1.0, 2.0], bad)


@pytest.mark.parametrize("func", [metrics.clustering_accuracy, metrics.purity, metrics.contingency_table])
def test_clustering_labels_with_none_or_mixed_types_name_the_argument(func):
    y = [0, 0, 1, 1]
    with pytest.raises(ValueError, match=r"labels_true contains None \(at index 1\)"):
        func([0, None, 1, 1], y)
    with pytest.raises(ValueError, match=r"labels_pred contains None \(at index 0\)"):
        func(y, np.array([None, 0, 1, 1], dtype=object))
    with pytest.raises(TypeError, match="labels_true mixes numbers and strings"):
        func(np.array([0, "a", 1, 1], dtype=object), y)
    with pytest.raises(TypeError, match="labels_pred mixes strings with int"):
        func(y, [0, "0", 1, 1])
    with pytest.raises(TypeError, match="labels_pred must be a 1-D array of labels.*complex"):
        func(y, [0j, 1j, 1, 1])
    with pytest.raises(ValueError, match="labels_true contains infinite labels"):
        func([0.0, np.inf, 1.0, 1.0], y)
    with pytest.raises(TypeError, match="labels_true must be a 1-D array of labels.*NoneType"):
        func(None, y)


def test_mixed_label_list_no_longer_merges_classes():
    # numpy turns [0, "0", 1, 1] into ["0", "0", "1", "1"]: the old code scored two
    # different labels, 0 and "0", as one class (purity 1.0 here).
    merged = metrics.purity(np.asarray([0, "0", 1, 1]), [0, 1, 2, 2])
    assert merged == 1.0
    with pytest.raises(TypeError, match="labels_true mixes strings"):
        metrics.purity([0, "0", 1, 1], [0, 1, 2, 2])


def test_clustering_labels_of_one_kind_still_work():
    y, c = [0, 0, 1, 1], [1, 1, 0, 0]
    assert metrics.clustering_accuracy(np.array(y, dtype=object), c) == 1.0
    assert metrics.clustering_accuracy(["a", "a", "b", "b"], c) == 1.0
    assert metrics.purity(np.array(["a", "a", "b", "b"], dtype=object), c) == 1.0
    assert metrics.purity([0.0, 0.0, 1.5, 1.5], np.array([True, True, False, False])) == 1.0
