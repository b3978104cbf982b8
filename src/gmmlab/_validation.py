"""Input validation shared by every gmmlab estimator.

Thin wrappers around scikit-learn's validators (we do not rewrite them), so that
bad input raises a ``ValueError``/``TypeError`` naming the argument and what was
expected, never a NaN or a bare numpy traceback.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array, check_scalar
from sklearn.utils import check_random_state as _sklearn_check_random_state

__all__ = [
    "NotFittedError",
    "COVARIANCE_TYPES",
    "SIMPLEX_ATOL",
    "check_array_shape",
    "check_covariance_type",
    "check_data",
    "check_device",
    "check_n_features",
    "check_simplex",
    "covariance_shape",
    "check_float_dtype",
    "check_int",
    "check_list",
    "check_positive_float",
    "check_random_state",
    "check_fitted",
    "check_sample_weight",
    "check_scale",
    "check_small_scale",
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
    from scipy import sparse

    if sparse.issparse(X):  # before the dict check: dok_array is a dict
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required. Use "
            "'.toarray()' to convert to a dense numpy array."
        )
    if isinstance(X, np.matrix):  # scikit-learn refuses np.matrix; it is a 2-D array
        X = np.asarray(X)
    # object arrays of numbers are converted (as scikit-learn does); complex numbers
    # get scikit-learn's "Complex data not supported" ValueError
    if isinstance(X, (str, bytes, dict, set)) or X is None or (
        isinstance(X, np.ndarray) and X.dtype.kind not in "biufOc"
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
    except TypeError as exc:  # e.g. objects that are not numbers
        raise TypeError(
            f"{name} must be a numeric array of shape (n_samples, n_features), "
            f"got {type(X).__name__} ({exc})"
        ) from None


def check_scale(X, name: str = "X") -> None:
    """A ValueError naming ``name`` when the entries of ``X`` are so large that sums of
    their squares overflow ``X``'s float type (``||x - mu||^2``, variances, inertia).

    Data at such scales (beyond about 1e150 in float64, 1e18 in float32) cannot be
    clustered in floating point without rescaling; the error says so rather than
    returning infinities or NaN.
    """
    if X.size == 0:
        return
    top = max(float(X.max()), -float(X.min()))  # max |X|, without a copy of X
    limit = float(np.sqrt(np.finfo(X.dtype).max / (16.0 * X.size)))
    if top > limit:
        raise ValueError(
            f"{name} has entries as large as {top:.3g} in magnitude: sums of their squares "
            f"overflow {X.dtype} (limit about {limit:.3g} for this size); rescale {name}, "
            f"e.g. divide it by its standard deviation"
        )


def check_small_scale(X, name: str = "X") -> None:
    """A ValueError naming ``name`` when the entries of ``X`` are not all 0 but so small
    that their squares underflow ``X``'s float type (below about 1e-154 in float64,
    1e-19 in float32): every squared distance would be 0, or lose its digits. The
    counterpart of :func:`check_scale` (overflow)."""
    if X.size == 0:
        return
    top = max(float(X.max()), -float(X.min()))
    limit = float(np.sqrt(np.finfo(X.dtype).tiny))
    if 0.0 < top < limit:
        raise ValueError(
            f"{name} has no entry larger than {top:.3g} in magnitude: their squares "
            f"underflow {X.dtype} (limit about {limit:.3g}), so squared distances vanish; "
            f"rescale {name}, e.g. divide it by its standard deviation"
        )


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
    """Raise ``NotFittedError`` (a ``ValueError``) if ``estimator`` lacks ``attribute``
    (scikit-learn's message, word for word)."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def check_n_features(estimator, X, name: str = "X") -> np.ndarray:
    """``X`` as a float64 array with as many features as the fitted ``estimator``
    (``n_features_in_``), or scikit-learn's ValueError for a mismatch (naming ``name``)."""
    X = check_data(X, name=name, dtype=np.float64)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input"
        )
    return X


def check_device(device):
    """``None`` (numpy) or a ``torch.device``; a ValueError naming ``device`` otherwise."""
    if device is None:
        return None
    import torch

    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be None, a string such as 'cpu' or 'cuda', or a torch.device, "
            f"got {type(device).__name__}"
        )
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be None or a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    if device.type == "meta":
        raise ValueError("device must hold data ('cpu', 'cuda', ...), got 'meta' (shapes only)")
    if device.type != "cpu":
        backend = getattr(torch, device.type, None)
        available = getattr(backend, "is_available", None)
        if available is not None and not available():
            raise ValueError(
                f"device={str(device)!r}, but torch finds no {device.type} device on this "
                f"machine; use device='cpu' or None (numpy)"
            )
    return device


def check_float_dtype(dtype) -> str:
    """'float64' or 'float32' for None, a name, a numpy or a torch dtype; else a ValueError."""
    if dtype is None:
        return "float64"
    name = str(dtype).replace("torch.", "")
    if name not in ("float64", "float32"):
        try:
            name = np.dtype(dtype).name
        except TypeError:
            pass
    if name not in ("float64", "float32"):
        raise ValueError(f"dtype must be float64 or float32 (or None), got {dtype!r}")
    return name


# -- Gaussian-mixture parameters ----------------------------------------------------

#: The covariance structures of a Gaussian mixture (scikit-learn's names).
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
#: Tolerance on ``sum(p) = 1`` for every probability vector gmmlab accepts
#: (mixture weights, rows of responsibilities).
SIMPLEX_ATOL = 1e-8


def check_covariance_type(covariance_type) -> str:
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}"
        )
    return covariance_type


def covariance_shape(covariance_type: str, n_components: int, n_features: int) -> tuple[int, ...]:
    """Shape of the covariances (or precisions, or their Cholesky factors) of a mixture."""
    K, d = n_components, n_features
    return {"full": (K, d, d), "tied": (d, d), "diag": (K, d), "spherical": (K,)}[
        check_covariance_type(covariance_type)
    ]


def check_array_shape(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A finite float array of exactly ``shape`` (float32 kept, anything else float64),
    or a ValueError/TypeError naming ``name``."""
    try:
        a = np.asarray(to_numpy(value))
    except (ValueError, TypeError):  # ragged nested lists
        a = None
    if a is None or a.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be a numeric array of shape {shape}, got {type(value).__name__}"
        )
    a = a if a.dtype == np.float32 else a.astype(np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return a


def check_simplex(p: np.ndarray, name: str, *, axis: int = -1) -> np.ndarray:
    """``p`` (already a float array) if its entries are >= 0 and sum to 1 along ``axis``
    -- within :data:`SIMPLEX_ATOL`, or the rounding of ``p``'s own dtype when coarser
    (float32) --; otherwise a ValueError naming ``name``."""
    atol = max(SIMPLEX_ATOL, float(np.finfo(p.dtype).eps) * p.shape[axis])
    sums = p.sum(axis=axis)
    if (p < 0).any() or not np.all(np.abs(sums - 1.0) <= atol):
        worst = np.ravel(sums)[np.argmax(np.abs(np.ravel(sums) - 1))]
        raise ValueError(
            f"{name} must be >= 0 and sum to 1 (within {atol:.3g}), got "
            f"sum {float(worst):.10g}, min {p.min():.3g}"
        )
    return p


def check_sample_weight(sample_weight, X):
    """``None``, or ``sample_weight`` as a 1-D array of ``X``'s float dtype, one weight per row.

    A scalar gives every row that weight. Weights must be finite and >= 0, and not
    all 0 (scikit-learn's ``_check_sample_weight``, whose messages name
    ``sample_weight``); ``None`` stays ``None`` so that unweighted code paths stay
    unweighted.
    """
    if sample_weight is None:
        return None
    from sklearn.utils.validation import _check_sample_weight

    if isinstance(sample_weight, (str, bytes, bool, np.bool_)):
        raise TypeError(
            f"sample_weight must be None, a number or an array of shape (n_samples,), "
            f"got {type(sample_weight).__name__}"
        )
    if isinstance(sample_weight, numbers.Real) and not np.isfinite(sample_weight):
        raise ValueError(f"sample_weight must be finite, got {sample_weight!r}")
    try:
        return _check_sample_weight(to_numpy(sample_weight), X, dtype=X.dtype, ensure_non_negative=True)
    except TypeError as exc:
        raise TypeError(
            f"sample_weight must be None, a number or an array of shape (n_samples,), "
            f"got {type(sample_weight).__name__} ({exc})"
        ) from None
    except ValueError as exc:
        message = str(exc)
        if "sample_weight" not in message:
            message = f"sample_weight: {message}"
        raise ValueError(message) from None


def check_seed(random_state, name: str = "random_state") -> int:
    """An int seed for a generator other than numpy's ``RandomState`` (torch, ``default_rng``).

    ``random_state`` means what it means everywhere in gmmlab and scikit-learn: None, an
    int, or a :class:`numpy.random.RandomState`. An int is returned unchanged (it must lie
    in ``[0, 2**32 - 1]``, as for ``RandomState``); None or a ``RandomState`` draws one seed
    from ``check_random_state(random_state)`` (None: numpy's global ``RandomState``), so
    each call gives another seed and a ``RandomState`` advances.

    Examples
    --------
    >>> check_seed(7), check_seed(np.random.RandomState(0))
    (7, 209652396)
    """
    random_state = check_random_state_value(random_state, name)
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return int(_sklearn_check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return random_state


def check_random_state(random_state, name: str = "random_state") -> np.random.RandomState:
    """scikit-learn's :func:`sklearn.utils.check_random_state`, after
    :func:`check_random_state_value` (so a bad value gets an error naming ``name``)."""
    return _sklearn_check_random_state(check_random_state_value(random_state, name))


def check_random_state_value(random_state, name: str = "random_state"):
    """``random_state`` unchanged if it is None, an int in ``[0, 2**32 - 1]`` or a
    :class:`numpy.random.RandomState` (nothing is drawn from it); a TypeError or
    ValueError naming ``name`` otherwise."""
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"{name} must be None, an int or a numpy RandomState, got {random_state!r}")
    if isinstance(random_state, numbers.Integral):
        return check_int(random_state, name, low=0, high=2**32 - 1)
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return random_state
    raise TypeError(
        f"{name} must be None, an int or a numpy RandomState, got {random_state!r} "
        f"({type(random_state).__name__})"
    )


def check_bool(value, name: str, *, allow_none: bool = False) -> bool | None:
    """``value`` as a bool (None too with ``allow_none``); a TypeError naming ``name`` otherwise.

    numpy's ``bool_`` counts as a bool; 0, 1 and strings do not.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    expected = "True, False or None" if allow_none else "True or False"
    raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
