"""Density-based out-of-distribution (OOD) detection with the homework's MLP.

Homework question 2, solved in the assignment chapter (``book/fr/07_ood`` /
``book/pt/07_ood``): train a small MLP on MNIST, model the activations of its
penultimate layer on the *training* images with a Gaussian mixture, and use the
log-likelihood to tell MNIST test images (in-distribution) from FashionMNIST test
images (out-of-distribution, which should land in the tails).

What lives where
----------------
Every name below is importable from :mod:`gmmlab.ood` itself; the package has one
module per concern:

* :mod:`gmmlab.ood.network` -- the network and its training.
  :class:`MLP` is exactly the homework's network (784 -> 128 -> 64 -> 10, ReLU), laid
  out as the homework's class (its ``state_dict`` loads), with :meth:`MLP.penultimate`
  (the homework's ``layers[:-2]``), :meth:`MLP.penultimate_relu` and :meth:`MLP.hidden1`.
  :func:`scale_images` is **the one input transform** (uint8 0..255 -> float in
  [0, 1]) shared by :func:`train_mlp` and :func:`extract_features`: the original
  notebook computed features on 0..255 pixels for a network trained on [0, 1]
  inputs; routing both through this function makes that impossible, and floats
  outside [0, 1] are refused rather than guessed at. :func:`train_mlp` trains it
  (recipes in :data:`RECIPES`), cached on disk.
* :mod:`gmmlab.ood.features` -- :func:`extract_features` (the activations of a layer,
  cached on disk), and :func:`load_ood_features`, the whole exercise's inputs in one
  call (an :class:`OODFeatures`).
* :mod:`gmmlab.ood.scorers` -- scores, **higher = more in-distribution**:
  :class:`GMMScorer` (GMM log-likelihood; the mixture class is :func:`default_mixture`
  unless told otherwise), :func:`msp_score` (Hendrycks & Gimpel 2017),
  :func:`mahalanobis_score` / :class:`MahalanobisScorer` (Lee et al. 2018). The two
  classes are scikit-learn estimators (``get_params``, ``clone``, ``GridSearchCV``).
* :mod:`gmmlab.ood.sweep` -- choosing the number of components without OOD data:
  :func:`select_n_components`; the per-K table of the exercise:
  :func:`sweep_n_components` (a :class:`SweepTable`), all K fitted together by
  :func:`fit_scorers` (through :func:`gmmlab.mixture.fit_many`);
  :func:`replay_submission` replays the submitted solution's sweep from
  scikit-learn's start (:func:`sklearn_start`).

Metrics come from :mod:`gmmlab.metrics`.

Which features
--------------
The homework models ``penultimate(x) = self.layers[:-2](x)``: the slice drops the last
two modules of ``layers`` (the last linear layer and the second ReLU), so these are the
64 outputs of the second linear layer *before* the second ReLU (``layer="penultimate"``,
the default). The same units after that ReLU are ``layer="penultimate_relu"``; the 128
outputs of the *first* linear layer before its ReLU are ``layer="hidden1"``. Measured on
MNIST-test vs FashionMNIST-test in the assignment chapter (numbers printed there, not
hand-copied here), with 4000-point fits and K chosen without OOD data: on the homework's
layer the homework recipe stays far from AUROC >= 0.98 with FPR95 <= 10 %, and the Adam
recipe meets both for a minority of seeds at best; ``"hidden1"`` meets both with either
recipe, for each of five seeds. Features are standardised before fitting
(:class:`GMMScorer`) and K is chosen without OOD data (:func:`select_n_components`, BIC
or held-out likelihood). :func:`replay_submission` replays the submitted solution's
sweep (scikit-learn's defaults, mean log-likelihoods).

Random states
-------------
``random_state`` is None, an int or a :class:`numpy.random.RandomState` everywhere, as
in scikit-learn. Where the generator is torch's (:func:`train_mlp`) or numpy's
``default_rng`` (the split of :func:`sweep_n_components`), an int seed is needed: an int
is used as it is, and None or a ``RandomState`` gives one seed drawn from
``sklearn.utils.check_random_state(random_state)`` (:func:`gmmlab._validation.check_seed`).

Caching
-------
Trained weights and features are stored under :func:`gmmlab.cache.cache_dir`
(re-exported here): the folder named by the environment variable ``GMMLAB_CACHE``,
else ``.cache/gmmlab`` at the repository root (git-ignored) when gmmlab runs from its
repository, else ``~/.cache/gmmlab``. A cache folder inside the data folder
(``GMMLAB_DATA``) is refused. An entry's name is derived from a SHA-256 of the training
data, the recipe, the seed, the number of epochs and the torch version (training
numerics may change between torch releases); each file is written atomically
(temporary file + :func:`os.replace`) and carries a SHA-256 of its payload, so a
truncated or corrupt entry is detected, reported with a warning, and recomputed.

Progress bars
-------------
``progress=None`` (the default) shows a tqdm bar only in interactive use: in a
terminal, or in a Jupyter kernel (where ``tqdm.auto`` draws a notebook bar). It stays
silent when the environment variable ``CI`` is set (not ``0``/``false``) or when
``GMMLAB_PROGRESS=0``: the repository's ``conftest.py`` sets it for nbval and
``.ci/execute.py`` for the stored outputs, so re-executed chapters compare equal.
``progress=True``/``False`` overrides the rule.
"""

from __future__ import annotations

from ..cache import cache_dir
from .features import OODFeatures, extract_features, load_ood_features
from .network import MLP, RECIPES, scale_images, train_mlp
from .scorers import GMMScorer, MahalanobisScorer, default_mixture, mahalanobis_score, msp_score
from .sweep import (
    SweepTable,
    fit_scorers,
    replay_submission,
    select_n_components,
    sklearn_start,
    sweep_n_components,
)

__all__ = [
    "MLP",
    "RECIPES",
    "scale_images",
    "train_mlp",
    "extract_features",
    "cache_dir",
    "GMMScorer",
    "MahalanobisScorer",
    "msp_score",
    "mahalanobis_score",
    "SweepTable",
    "sweep_n_components",
    "fit_scorers",
    "select_n_components",
    "sklearn_start",
    "replay_submission",
    "OODFeatures",
    "load_ood_features",
    "default_mixture",
]
