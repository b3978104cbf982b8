"""Benchmark: full-covariance GMMs for K = 1..20 on 60000 x 64 features, gmmlab vs scikit-learn.

The homework's workload (issue 4). Both libraries run in this one process, on the same
data, from the same initial parameters (``weights_init``, ``means_init``,
``precisions_init``), with the same ``tol``, ``max_iter`` and ``reg_covar``. For each K it
prints the two wall times, their ratio (scikit-learn / gmmlab, > 1 means gmmlab is
faster), the iterations each ran and the difference of the final mean log-likelihoods
(``score(X)``, nats per sample); then the whole-sweep ratio.

gmmlab's side runs inside :func:`gmmlab.mixture.reuse_features` (as
:func:`gmmlab.ood.sweep_n_components` does): the quadratic features of ``X`` are built
once for the sweep rather than once per K; ``--no-reuse`` turns this off. The time of
that one build is counted in the first K that needs it.

Usage::

    python benchmarks/gmm_sweep.py            # K = 1..20 (long: scikit-learn is slow)
    python benchmarks/gmm_sweep.py --quick    # K = 1..5
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gmmlab.data import make_gaussian_mixture
from gmmlab.mixture import GaussianMixture, m_step, reuse_features


def sweep_features(n_samples: int = 60000, n_features: int = 64, random_state: int = 0) -> np.ndarray:
    """The features the sweep fits: for now a fixed synthetic 10-component mixture.

    Once the OOD issue provides the MLP's penultimate-layer activations on MNIST
    (60000 x 64), return them here instead.
    """
    return make_gaussian_mixture(
        n_samples, n_components=10, n_features=n_features, random_state=random_state
    ).X


def initial_parameters(X: np.ndarray, K: int, reg_covar: float, random_state: int = 0) -> dict:
    """Identical starting point for both libraries: K random points as centres, each
    sample assigned to its nearest centre, then one M-step on these hard labels."""
    rng = np.random.default_rng(random_state + K)
    centers = X[rng.choice(len(X), size=K, replace=False)]
    d2 = (X**2).sum(1)[:, None] - 2 * X @ centers.T + (centers**2).sum(1)
    resp = np.eye(K)[d2.argmin(axis=1)]
    weights, means, covariances = m_step(X, resp, "full", reg_covar)
    return dict(weights_init=weights, means_init=means, precisions_init=np.linalg.inv(covariances))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 1..5 only")
    parser.add_argument("--k-min", type=int, default=1)
    parser.add_argument("--k-max", type=int, default=None, help="default 20 (5 with --quick)")
    parser.add_argument("--n-samples", type=int, default=60000)
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--reg-covar", type=float, default=1e-6)
    parser.add_argument("--no-reuse", action="store_true",
                        help="rebuild gmmlab's quadratic features for every K (no reuse_features())")
    args = parser.parse_args(argv)
    k_max = args.k_max or (5 if args.quick else 20)

    X = sweep_features(args.n_samples)
    print(f"data: {X.shape[0]} x {X.shape[1]}, full covariances, tol={args.tol}, "
          f"max_iter={args.max_iter}, reg_covar={args.reg_covar}")
    print(f"{'K':>3} {'gmmlab s':>9} {'sklearn s':>10} {'ratio':>6} {'iters':>7} "
          f"{'d mean loglik':>14}")
    total_ours = total_ref = 0.0
    worst = 0.0
    shared = contextlib.nullcontext() if args.no_reuse else reuse_features()
    with shared:
        for K in range(args.k_min, k_max + 1):
            diff, dt_ours, dt_ref = run_one(X, K, args)
            worst = max(worst, abs(diff))
            total_ours += dt_ours
            total_ref += dt_ref
    print(f"whole sweep: gmmlab {total_ours:.1f} s, scikit-learn {total_ref:.1f} s, "
          f"ratio {total_ref / total_ours:.2f}x; max |d mean loglik| = {worst:.2e} nats/sample")


def run_one(X, K, args):
    """Fit both libraries for one K; print the row; return (d mean loglik, gmmlab s, sklearn s)."""
    init = initial_parameters(X, K, args.reg_covar)
    kw = dict(n_components=K, covariance_type="full", tol=args.tol, max_iter=args.max_iter,
              reg_covar=args.reg_covar, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        ours = GaussianMixture(**kw).fit(X)
        t1 = time.perf_counter()
        ref = SkGaussianMixture(**kw).fit(X)
        t2 = time.perf_counter()
    diff = ours.score(X) - ref.score(X)
    print(f"{K:>3} {t1 - t0:>9.2f} {t2 - t1:>10.2f} {(t2 - t1) / (t1 - t0):>6.2f} "
          f"{ours.n_iter_:>3}/{ref.n_iter_:<3} {diff:>14.2e}", flush=True)
    return diff, t1 - t0, t2 - t1


if __name__ == "__main__":
    main()
