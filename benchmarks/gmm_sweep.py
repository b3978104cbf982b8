"""Benchmark: full-covariance GMMs for K = 1..20 on 60000 x 64 features, gmmlab vs scikit-learn.

The homework's workload (issue 4). Both libraries run in this one process, on the same
data, from the same initial parameters (``weights_init``, ``means_init``,
``precisions_init``), with the same ``tol``, ``max_iter`` and ``reg_covar``. For each K it
prints the wall times, the iterations each library ran and the difference of the final
mean log-likelihoods (``score(X)``, nats per sample); then the whole-sweep times and
their ratio (scikit-learn / gmmlab, > 1 means gmmlab is faster).

gmmlab fits all K together with :func:`gmmlab.mixture.fit_many` (as
:func:`gmmlab.ood.sweep_n_components` does): every K runs its own EM, but all unfinished
fits share the matrix products of each iteration. That joint fit is timed before and
after scikit-learn's sweep, and the ratio uses the mean of the two. ``--one-by-one``
fits one K after the other instead (each fit builds its own quadratic features), and
prints per-K times for both libraries; ``--engine`` picks gmmlab's engine
(``GaussianMixture(engine=...)``, default "auto").

Usage::

    python benchmarks/gmm_sweep.py                 # K = 1..20 (long: scikit-learn is slow)
    python benchmarks/gmm_sweep.py --quick         # K = 1..5
    python benchmarks/gmm_sweep.py --one-by-one    # per-K comparison
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gmmlab.data import make_gaussian_mixture
from gmmlab.mixture import ENGINES, GaussianMixture, fit_many, m_step


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
    parser.add_argument("--one-by-one", action="store_true",
                        help="gmmlab fits one K after the other (as scikit-learn), not with fit_many()")
    parser.add_argument("--engine", choices=ENGINES, default="auto", help="gmmlab's EM engine")
    args = parser.parse_args(argv)
    k_max = args.k_max or (5 if args.quick else 20)
    ks = list(range(args.k_min, k_max + 1))

    X = sweep_features(args.n_samples)
    print(f"data: {X.shape[0]} x {X.shape[1]}, full covariances, K = {ks[0]}..{ks[-1]}, tol={args.tol}, "
          f"max_iter={args.max_iter}, reg_covar={args.reg_covar}; gmmlab "
          + ("one K after the other" if args.one_by_one else "all K together (fit_many)")
          + f", engine={args.engine!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if args.one_by_one:
            ours, t_ours = fit_one_by_one(X, ks, args)
            ref, t_ref = fit_reference(X, ks, args)
            t_gmmlab = sum(t_ours)
        else:  # the joint fit runs before and after scikit-learn: load drift hits both alike
            ours, before = fit_together(X, ks, args)
            ref, t_ref = fit_reference(X, ks, args)
            _, after = fit_together(X, ks, args)
            t_ours = [None] * len(ks)
            t_gmmlab = (before + after) / 2
            print(f"gmmlab fit_many: {before:.1f} s before, {after:.1f} s after scikit-learn's sweep")

    print(f"{'K':>3} {'gmmlab s':>9} {'sklearn s':>10} {'iters':>7} {'d mean loglik':>14}")
    worst = 0.0
    for K, a, b, t_a, t_b in zip(ks, ours, ref, t_ours, t_ref):
        diff = a.score(X) - b.score(X)
        worst = max(worst, abs(diff))
        shown = "-" if t_a is None else f"{t_a:.2f}"
        print(f"{K:>3} {shown:>9} {t_b:>10.2f} {a.n_iter_:>3}/{b.n_iter_:<3} {diff:>14.2e}")
    same = all(a.n_iter_ == b.n_iter_ for a, b in zip(ours, ref))
    print(f"whole sweep: gmmlab {t_gmmlab:.1f} s, scikit-learn {sum(t_ref):.1f} s, "
          f"ratio {sum(t_ref) / t_gmmlab:.2f}x; max |d mean loglik| = {worst:.2e} nats/sample; "
          f"iterations {'identical' if same else 'DIFFER'}")


def _kwargs(X, K, args) -> dict:
    return dict(n_components=K, covariance_type="full", tol=args.tol, max_iter=args.max_iter,
                reg_covar=args.reg_covar, **initial_parameters(X, K, args.reg_covar))


def fit_reference(X, ks, args):
    """scikit-learn, one K after the other: (models, seconds per K)."""
    models, times = [], []
    for K in ks:
        kw = _kwargs(X, K, args)
        t0 = time.perf_counter()
        models.append(SkGaussianMixture(**kw).fit(X))
        times.append(time.perf_counter() - t0)
        print(f"  sklearn K={K:>2}: {times[-1]:6.2f} s, {models[-1].n_iter_} iterations", flush=True)
    return models, times


def fit_one_by_one(X, ks, args):
    """gmmlab, one K after the other: (models, seconds per K)."""
    models, times = [], []
    for K in ks:
        kw = _kwargs(X, K, args)
        t0 = time.perf_counter()
        models.append(GaussianMixture(**kw, engine=args.engine).fit(X))
        times.append(time.perf_counter() - t0)
    return models, times


def fit_together(X, ks, args):
    """gmmlab, all K in one :func:`gmmlab.mixture.fit_many`: (models, seconds)."""
    models = [GaussianMixture(**_kwargs(X, K, args), engine=args.engine) for K in ks]
    t0 = time.perf_counter()
    fit_many(models, X)
    return models, time.perf_counter() - t0


if __name__ == "__main__":
    main()
