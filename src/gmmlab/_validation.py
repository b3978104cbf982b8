"""Input validation shared by every gmmlab estimator.

Thin wrappers around scikit-learn's validators (we do not rewrite them), so that
bad input raises a ``ValueError``/``TypeError`` naming the argument and what was
expected, never a NaN or a bare numpy traceback.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array, check_random_state, check_scalar

__all__ = [
    "NotFittedError",
    "check_data",
    "check_int",
    "check_list",
    "check_positive_float",
    "check_random_state",
    "check_fitted",
    "to_numpy",
]


def to_numpy(value):
    """A CPU numpy array for a torch tensor; any other value is returned unchanged."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def check_data(
    X,
    *,
    name: str = "X",
    allow_nan: bool = False,
    dtype=(np.float64, np.float32),
    min_samples: int = 1,
) -> np.ndarray:
    """Return ``X`` as a C-contiguous 2-D float array, or raise a clear error.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data. Lists, numpy arrays and CPU torch tensors are accepted.
    name : str
        Argument name used in error messages.
    allow_nan : bool
        Whether missing entries (NaN) are allowed; infinities never are.
    dtype : dtype or tuple of dtypes
        Accepted float dtypes; other inputs are converted to the first one.
    min_samples : int
        Minimum number of rows.
    """
    X = to_numpy(X)
    if isinstance(X, (str, bytes)) or (
        isinstance(X, np.ndarray) and X.dtype.kind not in "biuf"
    ):
        raise TypeError(
            f"{name} must be a numeric array of shape (n_samples, n_features), "
            f"got {type(X).__name__}"
            + (f" of dtype {X.dtype}" if isinstance(X, np.ndarray) else "")
        )
    try:
        return check_array(
            X,
            dtype=dtype,
            order="C",
            ensure_all_finite="allow-nan" if allow_nan else True,
            ensure_min_samples=min_samples,
            input_name=name,
        )
    except ValueError as exc:
        message = str(exc)
        if name not in message:
            message = f"{name}: {message}"
        raise ValueError(message) from None


def check_list(value, name: str, *, items: str, item: str) -> list:
    """``value`` as a non-empty list: a TypeError if it is not a sequence of ``items``,
    a ValueError if it holds no ``item``."""
    try:
        values = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of {items}, got {type(value).__name__}") from None
    if not values:
        raise ValueError(f"{name} must contain at least one {item}")
    return values


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Check that ``value`` is an integer in ``[low, high]`` and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    check_scalar(int(value), name, numbers.Integral, min_val=low, max_val=high)
    return int(value)


def check_positive_float(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (>= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def check_fitted(estimator, attribute: str) -> None:
    """Raise ``NotFittedError`` (a ``ValueError``) if ``estimator`` lacks ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet: "
            "call 'fit' with appropriate arguments before using this method."
        )
