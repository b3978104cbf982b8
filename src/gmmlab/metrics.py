"""Evaluation metrics: clustering quality and out-of-distribution (OOD) detection.

Clustering part, used by the "K-means on MNIST" chapter (``book/*/03_kmeans_mnist``) and
the assignment chapter on missing data (``book/*/08_kmeans_missing``):

* :func:`clustering_accuracy` -- accuracy after the best one-to-one matching of
  clusters to classes (Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`);
* :func:`purity` -- each cluster votes for its majority class;
* :func:`contingency_table` -- counts of cluster x class;
* :func:`adjusted_rand_score` and :func:`normalized_mutual_info_score`, re-exported
  unchanged from :mod:`sklearn.metrics`.

Out-of-distribution part, used by the density-based OOD detection chapter
(``book/*/07_ood``, through :mod:`gmmlab.ood`): :func:`auroc`, :func:`aupr_in`, :func:`aupr_out` and
:func:`fpr_at_tpr`, thin wrappers over :mod:`sklearn.metrics`.

Convention for every OOD metric: **in-distribution is the positive class** and a
**higher score means "more in-distribution"** (e.g. a log-likelihood). A detector
accepts a sample as in-distribution when its score is at least a threshold.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    normalized_mutual_info_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.metrics.cluster import contingency_matrix

from ._validation import to_numpy

__all__ = [
    "ContingencyTable",
    "contingency_table",
    "clustering_accuracy",
    "purity",
    "adjusted_rand_score",
    "normalized_mutual_info_score",
    "auroc",
    "aupr_in",
    "aupr_out",
    "fpr_at_tpr",
]


# ---------------------------------------------------------------------------
# Out-of-distribution detection
# ---------------------------------------------------------------------------


def _check_scores(scores, name: str) -> np.ndarray:
    """Return ``scores`` as a finite, non-empty 1-D float64 array, or raise a clear error.

    Real numbers only: complex scores (even with a zero imaginary part), strings (even
    numeric ones) and None are refused rather than cast.
    """
    scores = to_numpy(scores)
    expected = f"{name} must be a 1-D array of real scores"
    if scores is None or isinstance(scores, (str, bytes, dict, set)):
        raise TypeError(f"{expected}, got {type(scores).__name__}")
    try:
        raw = np.asarray(scores)
    except (TypeError, ValueError):  # ragged nested lists
        raise TypeError(f"{expected}, got {type(scores).__name__}") from None
    if raw.dtype.kind == "c" or (
        raw.dtype.kind == "O" and any(isinstance(v, (complex, np.complexfloating)) for v in raw.flat)
    ):
        raise TypeError(
            f"{expected}, got complex numbers (dtype {raw.dtype}); pass the real part "
            f"(np.real) or the magnitude (np.abs) explicitly"
        )
    if raw.dtype.kind not in "biufO":
        raise TypeError(f"{expected}, got an array of dtype {raw.dtype}")
    if raw.dtype.kind == "O" and any(v is None for v in raw.flat):
        raise TypeError(f"{expected}, got None among them (a missing score?)")
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{expected}, got {type(scores).__name__} holding non-numbers") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of scores, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must contain at least one score, got an empty array")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN scores ({int(np.isnan(arr).sum())} of {arr.size})")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains infinite scores; clip them to a finite range first")
    return arr


def _ood_problem(score_in, score_out) -> tuple[np.ndarray, np.ndarray]:
    """Stack the scores into (y_true, y_score) with in-distribution as class 1."""
    s_in = _check_scores(score_in, "score_in")
    s_out = _check_scores(score_out, "score_out")
    y = np.concatenate([np.ones(s_in.size, dtype=np.int64), np.zeros(s_out.size, dtype=np.int64)])
    return y, np.concatenate([s_in, s_out])


def auroc(score_in, score_out) -> float:
    """Area under the ROC curve, in-distribution as the positive class.

    Equals the probability that a random in-distribution sample scores higher than
    a random OOD sample (ties count 1/2): 1 is perfect separation, 0.5 is chance.

    Parameters
    ----------
    score_in : array-like of shape (n_in,)
        Scores of in-distribution samples (higher = more in-distribution).
    score_out : array-like of shape (n_out,)
        Scores of out-of-distribution samples.

    Returns
    -------
    float

    Examples
    --------
    >>> auroc([3.0, 4.0, 5.0], [0.0, 1.0])
    1.0
    """
    y, s = _ood_problem(score_in, score_out)
    return float(roc_auc_score(y, s))


def aupr_in(score_in, score_out) -> float:
    """Area under the precision-recall curve with in-distribution as positive.

    Computed as scikit-learn's average precision. Parameters as in :func:`auroc`.

    Examples
    --------
    >>> aupr_in([3.0, 4.0], [0.0, 1.0])
    1.0
    """
    y, s = _ood_problem(score_in, score_out)
    return float(average_precision_score(y, s))


def aupr_out(score_in, score_out) -> float:
    """Area under the precision-recall curve with OOD as positive (scores negated).

    Computed as scikit-learn's average precision. Parameters as in :func:`auroc`.

    Examples
    --------
    >>> aupr_out([3.0, 4.0], [0.0, 1.0])
    1.0
    """
    y, s = _ood_problem(score_in, score_out)
    return float(average_precision_score(1 - y, -s))


def fpr_at_tpr(score_in, score_out, tpr: float = 0.95) -> float:
    """False-positive rate at a given true-positive rate (FPR95 by default).

    The threshold is the highest one that accepts at least a fraction ``tpr`` of the
    in-distribution samples (accept when ``score >= threshold``); the result is the
    fraction of OOD samples accepted at that threshold. Lower is better.

    Parameters
    ----------
    score_in, score_out : array-like of shape (n_in,), (n_out,)
        As in :func:`auroc`.
    tpr : float in (0, 1]
        Fraction of in-distribution samples to accept.

    Returns
    -------
    float
        Fraction of ``score_out`` at or above the threshold.

    Examples
    --------
    >>> fpr_at_tpr([3.0, 4.0, 5.0], [0.0, 1.0])
    0.0
    >>> fpr_at_tpr([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.5], tpr=0.5)
    0.3333333333333333
    """
    if isinstance(tpr, bool) or not isinstance(tpr, (int, float, np.integer, np.floating)):
        raise ValueError(f"tpr must be a number in (0, 1], got {tpr!r}")
    tpr = float(tpr)
    if not (0.0 < tpr <= 1.0):
        raise ValueError(f"tpr must be in (0, 1], got {tpr!r}")
    y, s = _ood_problem(score_in, score_out)
    fprs, tprs, _ = roc_curve(y, s, drop_intermediate=False)
    # tprs is non-decreasing; the first point reaching the target is the highest threshold.
    idx = int(np.searchsorted(tprs, tpr - 1e-12, side="left"))
    return float(fprs[min(idx, fprs.size - 1)])


# ---------------------------------------------------------------------------
# Clustering
# ---------------------------------------------------------------------------


def _check_labels(labels, name: str) -> np.ndarray:
    """``labels`` as a 1-D array of class or cluster labels, or a clear error naming ``name``.

    Labels are integers, bools, finite floats or strings -- one kind in one labelling.
    None, NaN, infinities, complex numbers, other objects and a mix of numbers and
    strings are refused (they cannot be sorted, or would silently merge classes).
    """
    value = to_numpy(labels)
    expected = f"{name} must be a 1-D array of labels (integers or strings)"
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{expected}, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raise TypeError(f"{expected}, got {type(value).__name__}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must contain at least one label, got an empty array")
    kind = arr.dtype.kind
    if kind in "US" and not isinstance(value, np.ndarray):
        # numpy turns [0, "a"] into strings: 0 and "0" would become one class
        kinds = {type(v).__name__ for v in value if not isinstance(v, (str, bytes))}
        if kinds:
            raise TypeError(f"{name} mixes strings with {', '.join(sorted(kinds))} labels; use one kind")
    elif kind == "c":
        raise TypeError(f"{expected}, got complex numbers (dtype {arr.dtype})")
    elif kind == "f":
        if np.isnan(arr).any():
            raise ValueError(f"{name} contains NaN labels ({int(np.isnan(arr).sum())} of {arr.size})")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains infinite labels; every label must be finite")
    elif kind == "O":
        _check_object_labels(arr, name, expected)
    elif kind not in "biuUS":
        raise TypeError(f"{expected}, got an array of dtype {arr.dtype}")
    return arr


def _check_object_labels(arr: np.ndarray, name: str, expected: str) -> None:
    kinds = set()
    for i, v in enumerate(arr):
        if v is None:
            raise ValueError(f"{name} contains None (at index {i}); every sample needs a label")
        if isinstance(v, (str, np.str_)):
            kinds.add("str")
        elif isinstance(v, (numbers.Real, np.bool_)):
            if isinstance(v, (float, np.floating)) and not np.isfinite(v):
                raise ValueError(f"{name} contains a non-finite label {v!r} (at index {i})")
            kinds.add("number")
        else:
            raise TypeError(f"{expected}, got a {type(v).__name__} ({v!r}) at index {i}")
    if len(kinds) > 1:
        raise TypeError(f"{name} mixes numbers and strings as labels; use one kind")


def _check_labelings(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray]:
    y = _check_labels(labels_true, "labels_true")
    c = _check_labels(labels_pred, "labels_pred")
    if y.shape != c.shape:
        raise ValueError(
            f"labels_true and labels_pred must have the same length, got "
            f"{y.size} and {c.size}"
        )
    return y, c


class ContingencyTable(NamedTuple):
    """Counts of samples per (cluster, class)."""

    table: np.ndarray  #: (n_clusters, n_classes) integer counts
    clusters: np.ndarray  #: cluster ids, one per row (sorted)
    classes: np.ndarray  #: class labels, one per column (sorted)


def contingency_table(labels_true, labels_pred) -> ContingencyTable:
    """Cluster x class contingency table (rows: clusters, columns: true classes).

    Built with :func:`sklearn.metrics.cluster.contingency_matrix`.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        True classes.
    labels_pred : array-like of shape (n_samples,)
        Cluster assignments.

    Returns
    -------
    ContingencyTable
        ``table[i, j]`` is the number of samples in cluster ``clusters[i]`` with class
        ``classes[j]``.

    Examples
    --------
    >>> t = contingency_table([0, 0, 1, 1], [1, 1, 0, 1])
    >>> t.table.tolist(), t.clusters.tolist(), t.classes.tolist()
    ([[0, 1], [2, 1]], [0, 1], [0, 1])
    """
    y, c = _check_labelings(labels_true, labels_pred)
    table = contingency_matrix(c, y)
    return ContingencyTable(np.asarray(table, dtype=np.int64), np.unique(c), np.unique(y))


def clustering_accuracy(labels_true, labels_pred) -> float:
    """Accuracy of a clustering after the best one-to-one cluster -> class matching.

    The matching maximises the number of correctly assigned samples (Hungarian
    algorithm, :func:`scipy.optimize.linear_sum_assignment`). When there are more
    clusters than classes, the unmatched clusters count as errors.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
    labels_pred : array-like of shape (n_samples,)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> clustering_accuracy([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])
    1.0
    """
    table = contingency_table(labels_true, labels_pred).table
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def purity(labels_true, labels_pred) -> float:
    """Purity: the fraction of samples whose class is their cluster's majority class.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
    labels_pred : array-like of shape (n_samples,)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> purity([0, 0, 1, 1], [0, 0, 0, 1])
    0.75
    """
    table = contingency_table(labels_true, labels_pred).table
    return float(table.max(axis=1).sum() / table.sum())
