"""EM engines: the same E- and M-steps, computed in different ways.

:class:`~gmmlab.mixture.GaussianMixture` runs the loop of
:func:`gmmlab.mixture.em`; an engine computes its two steps on one data set
(the interface is in :mod:`.base`). ``GaussianMixture(engine=...)`` picks it:

* ``"reference"`` -- :class:`.reference.ReferenceEngine`: the book's step functions
  (:mod:`gmmlab.mixture.reference`), numpy float64;
* ``"fast"`` -- :class:`.quadratic.QuadraticFeatureEngine`: both steps as matrix
  products over the quadratic features ``Phi(X)``; numpy or torch, all covariance
  types, and many runs in one pass (:func:`gmmlab.mixture.fit_many`);
* ``"direct"`` -- :class:`.direct.DirectEngine`: "full" covariances in fat products
  over ``X`` itself (numpy float64); faster than ``Phi`` for few components;
* ``"auto"`` (the default) -- ``"direct"`` for "full" covariances in numpy float64
  with at most :data:`DIRECT_MAX_COMPONENTS` components in all, else ``"fast"``
  (predictions: ``"direct"`` for "full", ``"reference"`` otherwise).

``tests/test_mixture.py`` runs every estimator test with each engine and checks the
engines against each other, the step functions and scikit-learn;
``benchmarks/gmm_sweep.py`` measures them.
"""

from __future__ import annotations

from ..._backend import Backend
from .base import FAR_COMPONENT, Params
from .direct import DirectEngine
from .quadratic import QuadraticFeatureEngine
from .reference import ReferenceEngine

__all__ = ["ENGINES", "DIRECT_MAX_COMPONENTS", "FAR_COMPONENT", "Params", "make_engine",
           "ReferenceEngine", "QuadraticFeatureEngine", "DirectEngine"]

#: The values of ``GaussianMixture(engine=...)``.
ENGINES = ("auto", "reference", "fast", "direct")

#: With ``engine="auto"``, "full" mixtures in numpy float64 with at most this many
#: components (all runs fitted together counted) use the direct engine (measured
#: by ``benchmarks/gmm_sweep.py``).
DIRECT_MAX_COMPONENTS = 8

_CLASSES = {"reference": ReferenceEngine, "fast": QuadraticFeatureEngine,
            "direct": DirectEngine}


def choose_engine(engine: str, covariance_type: str, backend: Backend, n_components: int,
                  *, predict: bool = False) -> str:
    """The engine's name that ``engine`` means for this problem."""
    if engine != "auto":
        return engine
    direct_ok = covariance_type == "full" and backend.is_numpy and backend.itemsize == 8
    if predict:
        return "direct" if direct_ok else "reference"
    return "direct" if direct_ok and n_components <= DIRECT_MAX_COMPONENTS else "fast"


def make_engine(engine: str, X, covariance_type: str, reg_covar: float, backend: Backend,
                n_components: int, *, predict: bool = False):
    """An engine for the validated ``X``; ``n_components`` counts the components of
    all the runs it will serve."""
    name = choose_engine(engine, covariance_type, backend, n_components, predict=predict)
    return _CLASSES[name](X, covariance_type, reg_covar, backend)
