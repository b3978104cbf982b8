"""OOD scores, higher = more in-distribution: GMM log-likelihood, MSP, Mahalanobis.

Part of :mod:`gmmlab.ood`; used by the assignment chapter (``book/*/07_ood``).
:class:`GMMScorer` and :class:`MahalanobisScorer` are scikit-learn estimators
(``get_params``/``set_params``/:func:`sklearn.base.clone` work, and ``GridSearchCV``
can tune a :class:`GMMScorer` by its ``score``, the mean log-likelihood).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin

from .._validation import (
    check_bool,
    check_covariance_type,
    check_data,
    check_device,
    check_fitted,
    check_int,
    check_n_features,
    check_positive_float,
    check_random_state_value,
    check_scale,
    to_numpy,
)
from ..mixture import INIT_PARAMS, GaussianMixture

__all__ = ["default_mixture", "msp_score", "MahalanobisScorer", "mahalanobis_score", "GMMScorer"]


def default_mixture():
    """The Gaussian-mixture class used by default: :class:`gmmlab.mixture.GaussianMixture`."""
    return GaussianMixture


def msp_score(logits) -> np.ndarray:
    """Maximum softmax probability (Hendrycks & Gimpel 2017): higher = more in-distribution.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        E.g. ``extract_features(model, images, layer="logits")``.

    Returns
    -------
    ndarray of shape (n_samples,), values in [1 / n_classes, 1]

    Examples
    --------
    >>> msp_score([[0.0, 0.0], [10.0, 0.0]]).round(3).tolist()
    [0.5, 1.0]
    """
    z = check_data(logits, name="logits", dtype=np.float64)
    if z.shape[1] < 2:
        raise ValueError(f"logits must have at least 2 columns (classes), got shape {z.shape}")
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return 1.0 / p.sum(axis=1)  # the largest exp(z - max) is 1


class MahalanobisScorer(BaseEstimator):
    """Class-conditional Gaussians with one shared covariance (Lee et al. 2018).

    ``score_samples`` returns minus the smallest squared Mahalanobis distance to a
    class mean: higher = more in-distribution. The shared covariance is the
    within-class covariance of the training features, estimated with
    :class:`sklearn.covariance.EmpiricalCovariance` as in the authors' code (its
    precision is a pseudo-inverse, so dead ReLU units do no harm). It has no
    parameters. Used by the assignment chapter (``book/*/07_ood``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    means_ : ndarray of shape (n_classes, n_features)
    covariance_, precision_ : ndarray of shape (n_features, n_features)
    n_features_in_ : int

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [12.0, 0.0]])
    >>> scorer = MahalanobisScorer().fit(X, [0, 0, 1, 1])
    >>> scorer.means_.tolist(), scorer.covariance_.tolist()
    ([[1.0, 0.0], [11.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]])
    >>> scorer.score_samples([[1.0, 0.0], [6.0, 0.0]]).tolist()
    [-0.0, -25.0]
    """

    def fit(self, X, y) -> "MahalanobisScorer":
        """Class means and shared covariance of features ``X`` with class labels ``y``."""
        return self._fit(X, y, "X", "y")

    def _fit(self, X, y, x_name: str, y_name: str) -> "MahalanobisScorer":
        """:meth:`fit`, with the arguments' names for the error messages."""
        from sklearn.covariance import EmpiricalCovariance

        if y is None:
            raise ValueError(
                f"MahalanobisScorer requires {y_name} to be passed, but the target {y_name} "
                f"is None: give the class label of each row of {x_name}"
            )
        X = check_data(X, name=x_name, dtype=np.float64, min_samples=2)
        check_scale(X, x_name)  # squares of X overflow in the covariance
        classes, inverse = _class_labels(y, X.shape[0], y_name, x_name)
        self.classes_ = classes
        self.means_ = np.stack([X[inverse == k].mean(axis=0) for k in range(self.classes_.size)])
        est = EmpiricalCovariance(assume_centered=True).fit(X - self.means_[inverse])
        self.covariance_, self.precision_ = est.covariance_, est.precision_
        self.n_features_in_ = X.shape[1]
        return self

    def distances(self, X) -> np.ndarray:
        """Squared Mahalanobis distance of each row of ``X`` to each class mean, (n, n_classes)."""
        return self._distances(X, "X")

    def _distances(self, X, name: str) -> np.ndarray:
        """:meth:`distances`, with the argument's name for the error messages."""
        check_fitted(self, "precision_")
        X = check_n_features(self, X, name)
        check_scale(X, name)
        out = np.empty((X.shape[0], self.classes_.size))
        for k, mu in enumerate(self.means_):
            d = X - mu
            out[:, k] = np.einsum("ij,ij->i", d @ self.precision_, d)
        if not np.isfinite(out).all():
            raise ValueError(
                f"{name}: the squared Mahalanobis distance of some rows overflows float64 "
                f"(entries as large as {float(np.abs(X).max()):.3g} in magnitude); rescale "
                f"or clip {name}"
            )
        return out

    def score_samples(self, X) -> np.ndarray:
        """Minus the smallest squared distance to a class mean, shape (n,)."""
        return -self.distances(X).min(axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # the class labels
        return tags


def mahalanobis_score(features, train_features, train_labels) -> np.ndarray:
    """Mahalanobis OOD score of ``features`` (Lee et al. 2018), higher = more in-distribution.

    Fits :class:`MahalanobisScorer` on ``(train_features, train_labels)`` and returns
    ``-min_c (x - mu_c)^T Sigma^+ (x - mu_c)`` for each row ``x`` of ``features``.

    Examples
    --------
    Two classes with means (0, 1) and (10, 1) and shared covariance 0.5 I:

    >>> train = np.array([[0, 0], [0, 2], [1, 1], [-1, 1], [10, 0], [10, 2], [11, 1], [9, 1]])
    >>> labels = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> mahalanobis_score([[0.0, 1.0], [5.0, 1.0]], train, labels).round(6).tolist()
    [-0.0, -50.0]
    """
    scorer = MahalanobisScorer()._fit(train_features, train_labels, "train_features",
                                      "train_labels")
    return -scorer._distances(features, "features").min(axis=1)


def _class_labels(y, n: int, name: str, x_name: str) -> tuple[np.ndarray, np.ndarray]:
    """The classes of labels ``y`` (one per row of ``x_name``) and each row's class index;
    a ValueError/TypeError naming ``name`` for labels that are not class labels."""
    y = np.asarray(to_numpy(y))
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"{name} must be a 1-D array of {n} labels (one per row of {x_name}), "
            f"got shape {y.shape}"
        )
    if y.dtype.kind not in "biufUSO":
        raise TypeError(
            f"{name} must hold class labels (integers or strings), got dtype {y.dtype}"
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} contains NaN labels")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{name} contains infinite labels")
    if y.dtype.kind == "O":
        for label in y:
            if label is None or isinstance(label, complex) or (
                isinstance(label, float) and not np.isfinite(label)
            ):
                raise ValueError(f"{name} contains the label {label!r}: give a class to each row")
    try:
        return np.unique(y, return_inverse=True)
    except TypeError:
        kinds = sorted({type(label).__name__ for label in y})
        raise TypeError(
            f"{name} mixes labels of types {kinds} that cannot be compared; give labels of "
            "one kind (all integers or all strings)"
        ) from None


#: Parameters of :class:`GMMScorer` passed on to its mixture under the same name.
_MIXTURE_PARAMS = ("covariance_type", "tol", "reg_covar", "max_iter", "n_init", "init_params",
                   "random_state")


class GMMScorer(DensityMixin, BaseEstimator):
    """Log-likelihood under a Gaussian mixture fitted on in-distribution features.

    ``score_samples`` is the log-density of the features (higher = more
    in-distribution). With ``standardize=True`` (default) the mixture is fitted on
    features centred and scaled per dimension by the training mean and standard
    deviation (constant dimensions, e.g. dead ReLU units, keep scale 1); the
    log-Jacobian is added back, so the score stays a log-density of the original
    features. A scikit-learn estimator: parameters are stored as given and checked
    by :meth:`fit`. Used by the assignment chapter (``book/*/07_ood``).

    Parameters
    ----------
    n_components : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
        Added to the diagonal of each covariance (in standardised units when
        ``standardize``).
    standardize : bool
    estimator : class, optional
        The mixture class, scikit-learn-compatible (it takes ``n_components`` and the
        parameters below); default :class:`gmmlab.mixture.GaussianMixture` (pass
        :class:`sklearn.mixture.GaussianMixture` to compare).
    tol, max_iter, n_init, init_params
        EM's convergence threshold, iteration limit, number of initialisations and
        initialisation (``"kmeans"``, ``"k-means++"``, ``"random"`` or
        ``"random_from_data"``), passed to the mixture; the defaults are those of
        scikit-learn and gmmlab.
    random_state : None, int or numpy RandomState
        Passed to the mixture unchanged.
    device : None, str or torch.device
        Run gmmlab's mixture in torch on this device (e.g. ``"cuda"``); None: numpy.
        Only for a mixture class that takes ``device``.
    mixture_params : dict, optional
        Further keyword arguments of the mixture class (e.g. ``{"dtype": "float32"}``,
        ``{"warm_start": True}``), for those not listed above.

    Attributes
    ----------
    mixture_ : the fitted mixture
    mean_, scale_ : ndarray of shape (n_features,)
    n_features_in_ : int

    Examples
    --------
    >>> from gmmlab.data import make_gaussian_mixture
    >>> X = make_gaussian_mixture(500, n_components=2, separation=8, random_state=0).X
    >>> scorer = GMMScorer(2).fit(X)
    >>> scorer.score_samples(X[:3]).shape, scorer.get_params()["n_components"]
    ((3,), 2)
    >>> bool(scorer.score(X) > scorer.score(X + 10.0))
    True
    """

    def __init__(
        self,
        n_components: int = 10,
        *,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        standardize: bool = True,
        estimator=None,
        tol: float = 1e-3,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        random_state=0,
        device=None,
        mixture_params: dict | None = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.standardize = standardize
        self.estimator = estimator
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.device = device
        self.mixture_params = mixture_params

    def _transform(self, X) -> np.ndarray:
        return (X - self.mean_) / self.scale_

    def fit(self, X, y=None) -> "GMMScorer":
        """Fit the mixture on in-distribution features ``X`` (n_samples, n_features)."""
        Z, mixture = self._prepare(X)
        self.mixture_ = mixture.fit(Z)
        return self

    def _mixture(self) -> Any:
        """The unfitted mixture of these parameters, every one of them checked."""
        k = check_int(self.n_components, "n_components", low=1)
        check_covariance_type(self.covariance_type)
        check_positive_float(self.reg_covar, "reg_covar", allow_zero=True)
        check_bool(self.standardize, "standardize")
        check_positive_float(self.tol, "tol", allow_zero=True)
        check_int(self.max_iter, "max_iter", low=0)
        check_int(self.n_init, "n_init", low=1)
        if self.init_params not in INIT_PARAMS:
            raise ValueError(f"init_params must be one of {INIT_PARAMS}, got {self.init_params!r}")
        check_random_state_value(self.random_state)
        cls = default_mixture() if self.estimator is None else self.estimator
        if not isinstance(cls, type):
            raise TypeError(
                "estimator must be None or a mixture class such as "
                f"sklearn.mixture.GaussianMixture (not an instance), got {cls!r}"
            )
        missing = [m for m in ("fit", "score_samples", "bic")
                   if not callable(getattr(cls, m, None))]
        if missing:
            raise TypeError(
                "estimator must be a mixture class with fit, score_samples and bic, such as "
                f"sklearn.mixture.GaussianMixture; {cls.__name__} has no {missing}"
            )
        try:
            accepted = inspect.signature(cls).parameters
        except (TypeError, ValueError):
            raise TypeError(
                f"estimator {cls.__name__}: its parameters cannot be read; give a mixture "
                "class such as sklearn.mixture.GaussianMixture"
            ) from None
        params = {"n_components": k, **{name: getattr(self, name) for name in _MIXTURE_PARAMS}}
        takes_any = any(p.kind == p.VAR_KEYWORD for p in accepted.values())
        refused = sorted(set(params) - set(accepted))
        if refused and not takes_any:
            raise TypeError(
                f"estimator {cls.__name__} takes no parameter {refused}: a mixture class "
                f"taking {list(params)} is needed, such as sklearn.mixture.GaussianMixture"
            )
        if check_device(self.device) is not None:
            if "device" not in accepted:
                raise ValueError(
                    f"device={self.device!r}: the estimator {cls.__name__} takes no device"
                )
            params["device"] = self.device
        extra = {} if self.mixture_params is None else self.mixture_params
        if not isinstance(extra, dict) or not all(isinstance(key, str) for key in extra):
            raise TypeError(
                f"mixture_params must be None or a dict of keyword arguments, got {extra!r}"
            )
        clash = sorted(set(extra) & (set(params) | {"device"}))
        if clash:
            raise ValueError(
                f"mixture_params must not hold {clash}: they are parameters of GMMScorer itself"
            )
        unknown = sorted(set(extra) - set(accepted))
        if unknown and not takes_any:
            raise ValueError(f"mixture_params: {cls.__name__} takes no parameter {unknown}")
        return cls(**params, **extra)

    def _prepare(self, X) -> tuple[np.ndarray, Any]:
        """Check parameters and ``X``, set the standardisation; returns the transformed
        ``X`` and the unfitted mixture (:func:`~gmmlab.ood.sweep_n_components` fits the
        mixtures of several scorers together)."""
        mixture = self._mixture()
        X = check_data(X, name="X", dtype=np.float64, min_samples=2)
        if self.n_components > X.shape[0]:
            raise ValueError(
                f"n_components={self.n_components} must be at most the number of samples of "
                f"X ({X.shape[0]}): a mixture cannot have more components than points"
            )
        check_scale(X, "X")  # squares of X (its variance, squared distances) overflow
        if self.standardize:
            self.mean_ = X.mean(axis=0)
            sd = X.std(axis=0)
            self.scale_ = np.where(sd > 1e-12 * max(1.0, float(np.abs(X).max())), sd, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        self.n_features_in_ = X.shape[1]
        return self._transform(X), mixture

    def _check_X(self, X) -> np.ndarray:
        check_fitted(self, "mixture_")
        X = check_n_features(self, X)
        check_scale(X, "X")
        return X

    def score_samples(self, X) -> np.ndarray:
        """Log-density of each row of ``X`` under the fitted mixture, shape (n_samples,)."""
        X = self._check_X(X)
        out = self.mixture_.score_samples(self._transform(X)) - np.log(self.scale_).sum()
        return _finite(out, X, "log-density")

    def score(self, X, y=None) -> float:
        """Mean log-density of the rows of ``X``."""
        return float(_finite(self.score_samples(X).mean(), X, "mean log-density"))

    def bic(self, X) -> float:
        """Bayesian information criterion of the fitted mixture on ``X`` (lower is better)."""
        X = self._check_X(X)
        # The mixture's BIC on standardised data, plus the log-Jacobian of the scaling.
        jacobian = 2.0 * X.shape[0] * np.log(self.scale_).sum()
        return float(_finite(self.mixture_.bic(self._transform(X)) + jacobian, X, "BIC"))


def _finite(value, X: np.ndarray, what: str):
    """``value`` (computed from ``X``) if all finite, else a ValueError naming ``X``: finite
    rows far enough from the training features overflow float64."""
    if np.isfinite(value).all():
        return value
    raise ValueError(
        f"X: the {what} is not finite: rows of X lie too far from the training features "
        f"(entries as large as {float(np.abs(X).max()):.3g} in magnitude) for float64 "
        "arithmetic; rescale or clip X"
    )
