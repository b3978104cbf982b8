"""Benchmark: gmmlab.kmeans.KMeans vs scikit-learn's KMeans(algorithm="lloyd") on MNIST.

Standardised MNIST train (60000 x 784, each pixel centred and scaled by its standard
deviation; constant pixels are only centred), K = 10, both started from the same
k-means++ centers, one run each (n_init=1), alternating in one process. Prints the
best and median time of each, the time ratio gmmlab / scikit-learn (target <= 1.2),
the CPU-time ratio (less sensitive to other processes on a shared machine) and the
relative inertia difference (target <= 1e-6).

Usage::

    GMMLAB_DATA=/path/to/datasets python benchmarks/kmeans_mnist.py [--repeats 3] [--device cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.cluster import KMeans as SkKMeans

from gmmlab.data import load_mnist
from gmmlab.kmeans import KMeans, kmeans_plusplus


def standardised_mnist() -> np.ndarray:
    images, _ = load_mnist("train")
    X = images.reshape(len(images), -1).astype(np.float64)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0  # constant (border) pixels: avoid 0/0
    return (X - mean) / std


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-clusters", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="run gmmlab's torch path on this device")
    args = parser.parse_args()

    X = standardised_mnist()
    init, _ = kmeans_plusplus(X, args.n_clusters, random_state=args.seed)
    print(f"data {X.shape}, K={args.n_clusters}, device={args.device or 'numpy'}")

    times = {"gmmlab": [], "sklearn": []}
    ratios, cpu_ratios = [], []
    for r in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        ours = KMeans(args.n_clusters, init=init, device=args.device).fit(X)
        t1, c1 = time.perf_counter(), time.process_time()
        ref = SkKMeans(args.n_clusters, init=init, n_init=1, algorithm="lloyd").fit(X)
        t2, c2 = time.perf_counter(), time.process_time()
        times["gmmlab"].append(t1 - t0)
        times["sklearn"].append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))
        cpu_ratios.append((c1 - c0) / (c2 - c1))
        print(
            f"run {r}: gmmlab {t1 - t0:.2f} s ({ours.n_iter_} it), "
            f"sklearn {t2 - t1:.2f} s ({ref.n_iter_} it), ratio {ratios[-1]:.2f} "
            f"(CPU time: {c1 - c0:.2f} s vs {c2 - c1:.2f} s, ratio {cpu_ratios[-1]:.2f})",
            flush=True,
        )
    rel = abs(ours.inertia_ - ref.inertia_) / ref.inertia_
    same_labels = float(np.mean(ours.labels_ == ref.labels_))
    g, s = np.array(times["gmmlab"]), np.array(times["sklearn"])
    print(f"best   : gmmlab {g.min():.2f} s, sklearn {s.min():.2f} s, ratio {g.min() / s.min():.3f}")
    print(f"median : gmmlab {np.median(g):.2f} s, sklearn {np.median(s):.2f} s, ratio {np.median(g) / np.median(s):.3f}")
    print(f"median of per-run ratios: {np.median(ratios):.3f}  (target <= 1.2)")
    print(f"median of per-run CPU-time ratios: {np.median(cpu_ratios):.3f}")
    print(f"inertia gmmlab {ours.inertia_:.6f}, sklearn {ref.inertia_:.6f}, relative difference {rel:.2e} (target <= 1e-6)")
    print(f"labels equal: {same_labels:.6f}; n_iter gmmlab {ours.n_iter_}, sklearn {ref.n_iter_}")


if __name__ == "__main__":
    main()
