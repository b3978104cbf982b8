"""Gaussian mixture models fitted by the EM algorithm.

Used by the chapters "Gaussian mixtures, EM and the variational view"
(``book/*/04_mixtures``, ``05_em``, ``06_elbo``), the assignment's EM derivation
(``book/*/09_em_derivation``) and its out-of-distribution detector (``book/*/07_ood``).

Where to read what:

* :mod:`gmmlab.mixture.reference` -- **the EM algorithm as the book writes it**:
  :func:`log_gaussian_prob`, :func:`e_step`, :func:`m_step`,
  :func:`precision_cholesky` and the loop :func:`em`. Start here.
* :mod:`gmmlab.mixture.gaussian_mixture` -- :class:`GaussianMixture`, a
  scikit-learn-compatible estimator (same parameters, accepted values, fitted
  attributes and convergence rule as ``sklearn.mixture.GaussianMixture`` 1.9) whose
  ``fit`` is that same loop over an engine's E- and M-steps, and :func:`fit_many`,
  which fits several estimators on the same data together (a sweep over K).
* :mod:`gmmlab.mixture.engines` -- how the two steps are computed: the step
  functions themselves (``engine="reference"``), matrix products over the quadratic
  features ``phi(x) = (x_i x_j, x, 1)`` (``"fast"``, numpy or torch) or, for "full"
  covariances, fat products over ``X`` (``"direct"``). The tests check the engines
  against the step functions, each other and scikit-learn;
  ``benchmarks/gmm_sweep.py`` measures them against scikit-learn.
"""

from .._validation import COVARIANCE_TYPES
from .engines import ENGINES
from .gaussian_mixture import INIT_PARAMS, GaussianMixture, fit_many
from .reference import EMResult, e_step, em, log_gaussian_prob, m_step, precision_cholesky

__all__ = [
    "COVARIANCE_TYPES",
    "INIT_PARAMS",
    "ENGINES",
    "GaussianMixture",
    "fit_many",
    "EMResult",
    "em",
    "log_gaussian_prob",
    "e_step",
    "m_step",
    "precision_cholesky",
]
