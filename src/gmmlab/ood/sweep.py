"""The sweep over the number of components K, choosing K without OOD data, and the replay.

Part of :mod:`gmmlab.ood`; used by the assignment chapter (``book/*/07_ood``) and
``benchmarks/ood_pipeline.py``. With gmmlab's mixture every sweep fits its K together
(:func:`gmmlab.mixture.fit_many`).
"""

from __future__ import annotations

import contextlib
import numbers
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .. import metrics
from .._validation import (
    check_bool,
    check_data,
    check_int,
    check_list,
    check_positive_float,
    check_random_state_value,
    check_scale,
    check_seed,
)
from ..mixture import GaussianMixture, fit_many, m_step
from .scorers import GMMScorer

__all__ = [
    "SweepTable",
    "sweep_n_components",
    "fit_scorers",
    "select_n_components",
    "sklearn_start",
    "replay_submission",
]

_COLUMNS = ("n_components", "heldout_loglik", "bic", "auroc", "fpr95", "fit_time", "n_iter",
            "converged")


@dataclass
class SweepTable:
    """Per-K results of :func:`sweep_n_components` (one dict per K in ``rows``).

    Columns: ``n_components``, ``heldout_loglik`` (mean log-density of the held-out
    in-distribution features), ``bic`` (on the fitting features), ``auroc`` and
    ``fpr95`` (None when no test scores were given), ``fit_time`` (seconds; the
    K's share of the joint fit when they were fitted together), ``n_iter``, ``converged``.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.rows, (str, bytes, dict)) or self.rows is None:
            raise TypeError(
                f"rows must be a list of dicts (one per K), got {type(self.rows).__name__}"
            )
        try:
            self.rows = list(self.rows)
        except TypeError:
            raise TypeError(
                f"rows must be a list of dicts (one per K), got {type(self.rows).__name__}"
            ) from None
        self._check_rows()

    def _check_rows(self) -> None:
        """Each row a dict holding every column, of the column's type (rows may have been
        appended since the table was made); a ValueError/TypeError naming ``rows``."""
        if not isinstance(self.rows, list):
            raise TypeError(
                f"rows must be a list of dicts (one per K), got {type(self.rows).__name__}"
            )
        for i, row in enumerate(self.rows):
            if not isinstance(row, dict):
                raise TypeError(f"rows[{i}] must be a dict of the columns {_COLUMNS}, "
                                f"got {type(row).__name__}")
            missing = [c for c in _COLUMNS if c not in row]
            if missing:
                raise ValueError(f"rows[{i}] lacks the columns {missing} (a row holds {_COLUMNS})")
            for column in _COLUMNS:
                if not _ROW_TYPES[column](row[column]):
                    raise TypeError(
                        f"rows[{i}][{column!r}] must be {_ROW_TYPE_NAMES[column]}, got "
                        f"{row[column]!r}"
                    )

    def column(self, name: str) -> np.ndarray:
        """One column as an array (None becomes NaN)."""
        if not isinstance(name, str) or name not in _COLUMNS:
            raise ValueError(f"name must be one of {_COLUMNS}, got {name!r}")
        self._check_rows()
        return np.array([r[name] for r in self.rows], dtype=float)

    def best(self, criterion: str = "bic") -> int:
        """K chosen without OOD data: lowest BIC, or highest held-out log-likelihood.

        Rows whose value is NaN (a failed fit) are never chosen (with a warning); a
        ValueError when no row has a value.
        """
        if not isinstance(criterion, str) or criterion not in ("bic", "heldout"):
            raise ValueError(f"criterion must be 'bic' or 'heldout', got {criterion!r}")
        self._check_rows()
        if not self.rows:
            raise ValueError("the table has no rows: run sweep_n_components first")
        column = "bic" if criterion == "bic" else "heldout_loglik"
        values = self.column(column)
        known = np.flatnonzero(~np.isnan(values))
        if known.size == 0:
            raise ValueError(f"rows: every row's {column} is NaN, no K can be chosen by it")
        if known.size < values.size:
            skipped = [self.rows[i]["n_components"] for i in np.flatnonzero(np.isnan(values))]
            warnings.warn(f"SweepTable.best: K = {skipped} skipped, their {column} is NaN",
                          RuntimeWarning, stacklevel=2)
        pick = np.argmin(values[known]) if criterion == "bic" else np.argmax(values[known])
        return int(self.rows[int(known[pick])]["n_components"])

    def to_string(self) -> str:
        """The table, fixed precision, one line per K."""
        self._check_rows()
        lines = [
            f"{'K':>3} {'held-out LL':>12} {'BIC':>14} {'AUROC':>7} {'FPR95':>7} "
            f"{'fit s':>7} {'iter':>5}"
        ]
        for r in self.rows:
            au = "-" if r["auroc"] is None else f"{r['auroc']:.4f}"
            fp = "-" if r["fpr95"] is None else f"{r['fpr95']:.4f}"
            lines.append(
                f"{r['n_components']:>3} {r['heldout_loglik']:>12.3f} {r['bic']:>14.1f} "
                f"{au:>7} {fp:>7} {r['fit_time']:>7.2f} {r['n_iter']:>5}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


#: What each column of a row of :class:`SweepTable` holds.
_ROW_TYPES = {
    "n_components": _is_int,
    "heldout_loglik": _is_real,
    "bic": _is_real,
    "auroc": lambda v: v is None or _is_real(v),
    "fpr95": lambda v: v is None or _is_real(v),
    "fit_time": _is_real,
    "n_iter": _is_int,
    "converged": lambda v: isinstance(v, (bool, np.bool_)),
}
_ROW_TYPE_NAMES = {
    "n_components": "an int", "heldout_loglik": "a number", "bic": "a number",
    "auroc": "None or a number", "fpr95": "None or a number", "fit_time": "a number",
    "n_iter": "an int", "converged": "a bool",
}


@contextlib.contextmanager
def _blame(name: str):
    """Errors raised inside the block are about argument ``name``: a ValueError/TypeError
    whose message does not name it gets ``name`` in front (the mixture calls its data X)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message):
            raise
        kind = ValueError if isinstance(exc, ValueError) else TypeError
        raise kind(f"{name} (given to the mixture as X): {message}") from exc


def _check_fraction(validation_fraction) -> float:
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, (int, float)):
        raise TypeError(
            f"validation_fraction must be a number in (0, 1), got {validation_fraction!r}"
        )
    if not (0.0 < validation_fraction < 1.0):
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction!r}")
    return float(validation_fraction)


def _split(n: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of the fitting and held-out parts (seeded)."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * validation_fraction))
    if n_val < 1 or n - n_val < 2:
        raise ValueError(
            f"features: too few rows ({n}) to hold out a fraction {validation_fraction}"
        )
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _check_test_features(features_in, features_out, n_features: int):
    """The in-distribution and OOD test features as float64 arrays of ``n_features`` columns."""
    checked = []
    for name, T in (("features_in", features_in), ("features_out", features_out)):
        T = check_data(T, name=name, dtype=np.float64)
        if T.shape[1] != n_features:
            raise ValueError(f"{name} has {T.shape[1]} features, features has {n_features}")
        check_scale(T, name)
        checked.append(T)
    return checked[0], checked[1]


def _check_candidates(candidates, n_samples: int | None = None) -> list[int]:
    cands = check_list(candidates, "candidates", items="integers", item="number of components")
    cands = [check_int(k, "candidates[i]", low=1) for k in cands]
    for k in cands:
        if n_samples is not None and k > n_samples:
            raise ValueError(
                f"candidates: K={k} is more than the number of samples ({n_samples})"
            )
    return cands


def sweep_n_components(
    features,
    candidates: Sequence[int] = range(1, 21),
    *,
    features_in=None,
    features_out=None,
    validation_fraction: float = 0.2,
    max_fit_samples: int | None = None,
    random_state=0,
    callback: Callable[[dict], None] | None = None,
    fit_together: bool = True,
    **scorer_params,
) -> SweepTable:
    """Fit one :class:`~gmmlab.ood.GMMScorer` per K and tabulate how good each is.

    The training features are split once (seeded) into a fitting part and a
    held-out part (``validation_fraction``); for each K one mixture is fitted on
    the fitting part and reports its held-out mean log-likelihood, its BIC on the
    fitting part, and -- only if test features are given -- AUROC and FPR95 of
    the log-likelihoods of ``features_in`` (in-distribution test features) against
    those of ``features_out`` (OOD test features). The OOD columns are for
    *reporting*; :meth:`SweepTable.best` and :func:`select_n_components` never look
    at them. Used by the assignment chapter (``book/*/07_ood``) and
    ``benchmarks/ood_pipeline.py``.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        In-distribution training features.
    candidates : sequence of int
        Numbers of components to try.
    features_in, features_out : array-like of shape (n, n_features), optional
        Test features (in-distribution, OOD) for the AUROC/FPR95 columns.
    validation_fraction : float in (0, 1)
    max_fit_samples : int, optional
        Fit each mixture on at most this many rows of the fitting part (a seeded
        random subset; the held-out part is unchanged). Fitting cost is linear in
        the number of rows; None uses them all.
    random_state : None, int or numpy RandomState
        Seed of the split, of the subset and of every mixture. numpy's ``default_rng``
        and the mixtures take one int seed: an int is used as it is; None or a
        ``RandomState`` gives one seed drawn from it
        (:func:`gmmlab._validation.check_seed`).
    callback : callable, optional
        Called with each row as soon as it is computed (e.g. to print progress).
    fit_together : bool
        With gmmlab's :class:`~gmmlab.mixture.GaussianMixture` (the default estimator),
        fit all the K together with :func:`gmmlab.mixture.fit_many` (the same fits,
        2-3x faster); each row's ``fit_time`` is then the joint fit's time shared
        among the K in proportion to their EM work (``K x n_iter``). False, or any
        other estimator: one K after the other, each timed on its own.
    **scorer_params
        Parameters of :class:`~gmmlab.ood.GMMScorer` (``estimator``,
        ``covariance_type``, ``reg_covar``, ``standardize``, ``tol``, ``max_iter``,
        ...), the same for every K.

    Returns
    -------
    SweepTable

    Examples
    --------
    >>> from gmmlab.data import make_gaussian_mixture
    >>> X = make_gaussian_mixture(600, n_components=3, separation=8, random_state=0).X
    >>> table = sweep_n_components(X, [1, 2, 3, 4])
    >>> table.column("n_components").tolist(), table.best("bic")
    ([1.0, 2.0, 3.0, 4.0], 3)
    """
    X = check_data(features, name="features", dtype=np.float64, min_samples=2)
    check_scale(X, "features")
    cands = _check_candidates(candidates)
    validation_fraction = _check_fraction(validation_fraction)
    if (features_in is None) != (features_out is None):
        raise ValueError("give both features_in and features_out (test features), or neither")
    if features_in is not None:
        features_in, features_out = _check_test_features(features_in, features_out, X.shape[1])
    if max_fit_samples is not None:
        max_fit_samples = check_int(max_fit_samples, "max_fit_samples", low=2)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or callable, got {type(callback).__name__}")
    fit_together = check_bool(fit_together, "fit_together")
    if "n_components" in scorer_params or "random_state" in scorer_params:
        raise TypeError("n_components and random_state of the scorers are set by the sweep")
    seed = check_seed(random_state)
    scorers = [GMMScorer(k, random_state=seed, **scorer_params) for k in cands]
    for scorer in scorers:
        scorer._mixture()  # every parameter checked before any fit

    fit_idx, val_idx = _split(X.shape[0], validation_fraction, seed)
    if max_fit_samples is not None and max_fit_samples < fit_idx.size:
        keep = np.random.default_rng(seed + 1).permutation(fit_idx.size)[:max_fit_samples]
        fit_idx = np.sort(fit_idx[keep])
    too_many = [k for k in cands if k > fit_idx.size]
    if too_many:
        raise ValueError(
            f"candidates: K = {too_many} more than the {fit_idx.size} rows the mixtures are "
            f"fitted on ({X.shape[0]} rows of features, less the held-out fraction "
            f"{validation_fraction}"
            + (f", at most max_fit_samples={max_fit_samples}" if max_fit_samples else "")
            + ")"
        )
    X_fit, X_val = X[fit_idx], X[val_idx]
    table = SweepTable()

    def add(scorer, fit_time):
        table.rows.append(_sweep_row(scorer, X_fit, X_val, features_in, features_out, fit_time))
        if callback is not None:
            callback(table.rows[-1])

    if fit_together and len(cands) > 1 and scorers[0].estimator in (None, GaussianMixture):
        t0 = time.perf_counter()
        with _blame("features"):
            fit_scorers(scorers, X_fit)
        elapsed = time.perf_counter() - t0
        work = np.array([s.mixture_.n_components * max(1, s.mixture_.n_iter_) for s in scorers],
                        dtype=float)
        for scorer, share in zip(scorers, work / work.sum()):
            add(scorer, elapsed * share)
        return table
    for scorer in scorers:
        t0 = time.perf_counter()
        with _blame("features"):
            scorer.fit(X_fit)
        add(scorer, time.perf_counter() - t0)
    return table


def fit_scorers(scorers, X) -> list[GMMScorer]:
    """Fit several :class:`~gmmlab.ood.GMMScorer` on the same features ``X``, together.

    Each scorer gets exactly the mixture its own :meth:`~gmmlab.ood.GMMScorer.fit` would
    give, but all the mixtures are fitted at once by :func:`gmmlab.mixture.fit_many`
    (one EM iteration of all of them is one pair of matrix products): the way
    :func:`sweep_n_components` fits its K, and ``benchmarks/ood_pipeline.py --homework``
    the homework's K = 1..20 on all 60000 training features.

    Parameters
    ----------
    scorers : sequence of GMMScorer
        With gmmlab's mixture (``estimator`` None or
        :class:`gmmlab.mixture.GaussianMixture`), and the same ``standardize``,
        ``covariance_type``, ``reg_covar`` and ``device``; other parameters
        (``n_components``, ``random_state``, ``tol``, ...) may differ.
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    list of GMMScorer
        The same scorers, fitted.

    Examples
    --------
    >>> from gmmlab.data import make_gaussian_mixture
    >>> X = make_gaussian_mixture(600, n_components=3, separation=8, random_state=0).X
    >>> scorers = fit_scorers([GMMScorer(k) for k in (2, 3)], X)
    >>> [s.mixture_.n_components for s in scorers], bool(scorers[1].score(X) > scorers[0].score(X))
    ([2, 3], True)
    """
    scorers = check_list(scorers, "scorers", items="GMMScorer", item="GMMScorer")
    for i, scorer in enumerate(scorers):
        if not isinstance(scorer, GMMScorer):
            raise TypeError(f"scorers[{i}] must be a GMMScorer, got {type(scorer).__name__}")
        if scorer.estimator not in (None, GaussianMixture):
            raise ValueError(
                f"scorers[{i}] has estimator={scorer.estimator!r}: only gmmlab's mixture "
                "(estimator=None) is fitted together; call fit on each scorer instead"
            )
    if len({id(scorer) for scorer in scorers}) != len(scorers):
        raise ValueError("scorers must be distinct objects (the same scorer appears twice)")
    if len({repr(scorer.standardize) for scorer in scorers}) > 1:
        raise ValueError("scorers fitted together must share standardize")
    prepared = [scorer._prepare(X) for scorer in scorers]  # every parameter checked first
    Z = prepared[0][0]  # the same (standardised) features for every scorer
    mixtures = fit_many([mixture for _, mixture in prepared], Z)
    for scorer, mixture in zip(scorers, mixtures):
        scorer.mixture_ = mixture
    return scorers


def _sweep_row(scorer, X_fit, X_val, features_in, features_out, fit_time) -> dict:
    """Measure one fitted :class:`~gmmlab.ood.GMMScorer` (one row of the sweep)."""
    with _blame("features"):
        heldout, bic = scorer.score(X_val), scorer.bic(X_fit)
    row = {
        "n_components": scorer.mixture_.n_components,
        "heldout_loglik": heldout,
        "bic": bic,
        "auroc": None,
        "fpr95": None,
        "fit_time": fit_time,
        "n_iter": int(getattr(scorer.mixture_, "n_iter_", -1)),
        "converged": bool(getattr(scorer.mixture_, "converged_", True)),
    }
    if features_in is not None:
        with _blame("features_in"):
            s_in = scorer.score_samples(features_in)
        with _blame("features_out"):
            s_out = scorer.score_samples(features_out)
        row["auroc"] = metrics.auroc(s_in, s_out)
        row["fpr95"] = metrics.fpr_at_tpr(s_in, s_out, tpr=0.95)
    return row


def select_n_components(
    features,
    candidates: Sequence[int] = range(1, 21),
    *,
    criterion: str = "bic",
    random_state=0,
    validation_fraction: float = 0.2,
    max_fit_samples: int | None = None,
    **scorer_params,
) -> int:
    """Choose the number of GMM components **without any OOD data**.

    ``criterion="bic"``: lowest BIC of a mixture fitted on the fitting part of the
    features; ``"heldout"``: highest mean log-likelihood of the held-out part.
    Same split and fits as :func:`sweep_n_components` (with no test features), whose
    parameters these are. Used by the assignment chapter (``book/*/07_ood``).

    Examples
    --------
    >>> from gmmlab.data import make_gaussian_mixture
    >>> X = make_gaussian_mixture(600, n_components=3, separation=8, random_state=0).X
    >>> select_n_components(X, [1, 2, 3, 4], criterion="bic")
    3
    """
    if not isinstance(criterion, str) or criterion not in ("bic", "heldout"):
        raise ValueError(f"criterion must be 'bic' or 'heldout', got {criterion!r}")
    table = sweep_n_components(
        features,
        candidates,
        validation_fraction=validation_fraction,
        max_fit_samples=max_fit_samples,
        random_state=random_state,
        **scorer_params,
    )
    return table.best(criterion)


def sklearn_start(X, n_components: int, *, random_state=0, reg_covar: float = 1e-6) -> dict:
    """The initial parameters of scikit-learn's ``GaussianMixture(n_components, random_state=...)``.

    scikit-learn's default start (``init_params="kmeans"``): the labels of
    ``sklearn.cluster.KMeans(n_clusters=n_components, n_init=1, random_state=...)``,
    one-hot, then one M-step (:func:`gmmlab.mixture.m_step`, full covariances,
    ``reg_covar`` added). Passed to :class:`gmmlab.mixture.GaussianMixture` as
    ``weights_init``, ``means_init`` and ``precisions_init``, gmmlab's EM then runs
    scikit-learn's fit (the same iterations; ``tests/test_ood_sweep.py`` checks it),
    several K together through :func:`gmmlab.mixture.fit_many`. Used by
    :func:`replay_submission`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : int
    random_state : None, int or numpy RandomState
        Passed to scikit-learn's ``KMeans`` unchanged, as scikit-learn's mixture does.
    reg_covar : float

    Returns
    -------
    dict with keys ``weights_init``, ``means_init``, ``precisions_init``

    Examples
    --------
    >>> from gmmlab.data import load_old_faithful
    >>> start = sklearn_start(load_old_faithful(), 2)
    >>> sorted(start), start["precisions_init"].shape
    (['means_init', 'precisions_init', 'weights_init'], (2, 2, 2))
    """
    from sklearn.cluster import KMeans as SklearnKMeans

    X = check_data(X, name="X", dtype=np.float64, min_samples=2)
    check_scale(X, "X")  # squares of X overflow in the covariances
    k = check_int(n_components, "n_components", low=1)
    if k > X.shape[0]:
        raise ValueError(f"n_components={k} must be at most the number of samples ({X.shape[0]})")
    check_random_state_value(random_state)
    reg_covar = check_positive_float(reg_covar, "reg_covar", allow_zero=True)
    labels = SklearnKMeans(n_clusters=k, n_init=1, random_state=random_state).fit(X).labels_
    resp = np.zeros((X.shape[0], k))
    resp[np.arange(X.shape[0]), labels] = 1.0
    weights, means, covariances = m_step(X, resp, "full", reg_covar)
    return {
        "weights_init": weights,
        "means_init": means,
        "precisions_init": np.linalg.inv(covariances),
    }


def replay_submission(features, candidates: Sequence[int] = range(1, 16), *, features_in,
                      features_out, random_state=0) -> list[dict]:
    """The submitted solution's sweep, as it was: one mixture per K on all the training features.

    For each K, the mixture scikit-learn's ``GaussianMixture(n_components=K,
    random_state=random_state)`` fits with its defaults (full covariances,
    ``reg_covar=1e-6``, ``tol=1e-3``, ``max_iter=100``, k-means start, no
    standardisation) on ``features``, computed by gmmlab's EM from scikit-learn's
    start (:func:`sklearn_start`), every K together (:func:`gmmlab.mixture.fit_many`).
    Then what the submission measured -- the mean log-likelihood of ``features_in``
    and of ``features_out`` and their difference ``delta`` -- beside what it should
    have: AUROC and FPR95 of the per-image log-likelihoods, and the BIC on
    ``features`` (no OOD data). Used by the assignment chapter (``book/*/07_ood``).

    ``random_state`` (None, int or numpy RandomState) is turned into one int seed
    (:func:`gmmlab._validation.check_seed`; an int is used as it is), shared by every
    K as the submission's one seed was.

    Returns
    -------
    list of dict, one per K
        Keys ``n_components``, ``loglik_in``, ``loglik_out``, ``delta``, ``auroc``,
        ``fpr95``, ``bic``, ``n_iter``, ``converged``.
    """
    X = check_data(features, name="features", dtype=np.float64, min_samples=2)
    check_scale(X, "features")
    cands = _check_candidates(candidates, X.shape[0])
    features_in, features_out = _check_test_features(features_in, features_out, X.shape[1])
    seed = check_seed(random_state)
    with _blame("features"):
        starts = [sklearn_start(X, k, random_state=seed) for k in cands]
        mixtures = fit_many(
            [GaussianMixture(k, random_state=seed, **start) for k, start in zip(cands, starts)],
            X,
        )
    rows = []
    for mixture in mixtures:
        s_in = _finite_scores(mixture.score_samples(features_in), features_in, "features_in")
        s_out = _finite_scores(mixture.score_samples(features_out), features_out, "features_out")
        rows.append({
            "n_components": mixture.n_components,
            "loglik_in": float(s_in.mean()),
            "loglik_out": float(s_out.mean()),
            "delta": float(s_in.mean() - s_out.mean()),
            "auroc": metrics.auroc(s_in, s_out),
            "fpr95": metrics.fpr_at_tpr(s_in, s_out, tpr=0.95),
            "bic": float(mixture.bic(X)),
            "n_iter": int(mixture.n_iter_),
            "converged": bool(mixture.converged_),
        })
    return rows


def _finite_scores(scores: np.ndarray, T: np.ndarray, name: str) -> np.ndarray:
    """``scores`` (log-densities of the rows of ``T``) if finite, else a ValueError naming
    ``name``: rows far enough from the training features overflow float64."""
    if np.isfinite(scores).all():
        return scores
    raise ValueError(
        f"{name}: the log-density of some rows is not finite: they lie too far from the "
        f"training features (entries as large as {float(np.abs(T).max()):.3g} in magnitude) "
        f"for float64 arithmetic; rescale or clip {name}"
    )
