"""Tests for gmmlab.kmeans: exact agreement with scikit-learn, invariants, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from gmmlab._backend import ChunkPool
from gmmlab import kmeans as km_module
from gmmlab.kmeans import elkan as km_elkan
from gmmlab.kmeans import estimator as km_estimator
from gmmlab.kmeans import lloyd as km_lloyd
from gmmlab.kmeans import missing as km_missing
from gmmlab.kmeans import seeding as km_seeding
from gmmlab.data import load_mnist, load_old_faithful
from gmmlab.kmeans import KMeans, MissingDataKMeans, class_means, kmeans_plusplus, lloyd_step

# --------------------------------------------------------------------------- data sets


def _blobs():
    X, _ = make_blobs(3000, centers=6, n_features=5, cluster_std=2.5, random_state=0)
    return X


def _anisotropic():
    X, _ = make_blobs(2000, centers=3, n_features=2, random_state=170)
    return X @ np.array([[0.60834549, -0.63667341], [-0.40887718, 0.85253229]])


@pytest.fixture(scope="module")
def mnist_subset():
    images, labels = load_mnist("train")
    X = images[:2500].reshape(2500, -1).astype(np.float64) / 255.0
    return X, labels[:2500]


DATASETS = {
    "blobs": (_blobs, 6),
    "anisotropic": (_anisotropic, 3),
    "old_faithful": (load_old_faithful, 2),
}


def _compare_with_sklearn(X, init, **kwargs):
    ours = KMeans(init.shape[0], init=init, **kwargs).fit(X)
    ref = SkKMeans(init.shape[0], init=init, n_init=1, algorithm="lloyd", **kwargs).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    assert ours.n_iter_ == ref.n_iter_
    scale = np.abs(X).max()
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6, atol=1e-9 * scale)
    return ours, ref


# --------------------------------------------------------------------------- equality with sklearn


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_sklearn_from_same_centers(name, seed):
    make, k = DATASETS[name]
    X = make()
    init, _ = kmeans_plusplus(X, k, random_state=seed)
    ours, _ = _compare_with_sklearn(X, init)
    assert ours.n_iter_ > 1  # the comparison covers real iterations


def test_matches_sklearn_with_random_init_centers():
    X = _anisotropic()
    rng = np.random.default_rng(3)
    init = X[rng.choice(len(X), 3, replace=False)]
    _compare_with_sklearn(X, init, max_iter=5)  # stopped by max_iter: final E-step
    _compare_with_sklearn(X, init, tol=0.5)  # stopped by tol
    _compare_with_sklearn(X, init, tol=0.0)  # stopped by unchanged labels


def test_matches_sklearn_on_mnist_subset(mnist_subset):
    X, y = mnist_subset
    init, _ = kmeans_plusplus(X, 10, random_state=0)
    ours, ref = _compare_with_sklearn(X, init)
    np.testing.assert_allclose(ours.transform(X[:50]), ref.transform(X[:50]), rtol=1e-6)
    # Class-mean initialisation (the homework's third start) agrees as well.
    _compare_with_sklearn(X, class_means(X, y))


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_same_seed_same_result_as_sklearn(init):
    # gmmlab draws the initial centers exactly as scikit-learn does.
    X = _blobs()
    ours = KMeans(6, init=init, n_init=3, random_state=7).fit(X)
    ref = SkKMeans(6, init=init, n_init=3, random_state=7, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)


def test_empty_cluster_is_reseeded_like_sklearn():
    X = _anisotropic()
    init = np.vstack([X[:2], [[1e3, 1e3]]])  # the third center attracts no point
    ours, _ = _compare_with_sklearn(X, init)
    assert np.bincount(ours.labels_, minlength=3).min() > 0
    # The empty cluster takes the point farthest from its center, as lloyd_step documents.
    new, labels, _ = lloyd_step(X, init)
    d = ((X - init[labels]) ** 2).sum(1)
    np.testing.assert_array_equal(new[2], X[np.argmax(d)])



@pytest.mark.parametrize("device", [None, "cpu"])
def test_reseeding_that_empties_a_singleton_matches_sklearn(device):
    # The empty cluster (center 1000) takes 100, the only point of its cluster: that one is
    # left empty and, as in scikit-learn, takes the largest cluster's mean -- never 0 / 0.
    import warnings

    X = np.array([[0.0], [1.0], [2.0], [100.0]])
    init = np.array([[0.5], [1.5], [60.0], [1000.0]])
    new, _, _ = lloyd_step(X, init)
    np.testing.assert_array_equal(new.ravel(), [0.5, 2.0, 0.5, 100.0])
    for max_iter in (1, 2, 300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # both warn: fewer distinct clusters than K
            ref = SkKMeans(4, init=init, n_init=1, max_iter=max_iter, algorithm="lloyd").fit(X)
            ours = KMeans(4, init=init, max_iter=max_iter, device=device).fit(X)
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_)
        assert ours.n_iter_ == ref.n_iter_ and np.isfinite(ours.inertia_history_).all()
        assert ours.inertia_ == pytest.approx(ref.inertia_)


def test_duplicate_points_are_not_reseeded():
    # Every point on its center: nothing to re-seed (scikit-learn returns early too).
    X = np.array([[1.0], [1.0], [1.0]])
    new, labels, inertia = lloyd_step(X, np.array([[1.0], [5.0]]))
    assert inertia == 0 and np.all(np.isfinite(new)) and labels.tolist() == [0, 0, 0]


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("name", list(DATASETS))
def test_inertia_never_increases(name):
    make, k = DATASETS[name]
    X = make()
    km = KMeans(k, init="random", random_state=0, tol=0).fit(X)
    h = km.inertia_history_
    assert h.shape == (km.n_iter_,) and km.n_iter_ > 2
    assert np.all(np.diff(h) <= 1e-10 * h[:-1])
    assert km.inertia_ <= h[-1] * (1 + 1e-10)
    # inertia_ is the sum of squared distances to the assigned centers, and labels are nearest centers.
    d2 = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(km.labels_, d2.argmin(1))
    assert km.inertia_ == pytest.approx(d2.min(1).sum(), rel=1e-10)


def test_lloyd_step_against_brute_force():
    X = _blobs()
    rng = np.random.default_rng(0)
    centers = X[rng.choice(len(X), 6, replace=False)]
    new, labels, inertia = lloyd_step(X, centers)
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d2.argmin(1))
    assert inertia == pytest.approx(d2.min(1).sum(), rel=1e-10)
    expected = np.array([X[labels == k].mean(0) for k in range(6)])
    np.testing.assert_allclose(new, expected, rtol=1e-12, atol=1e-12)


def test_result_independent_of_chunking_and_threads():
    X = _blobs()
    centers = X[:6]
    ref = km_lloyd._assign(X, centers, sums=True)
    for chunk_size, threads in [(7, 1), (7, 2), (5000, 2), (333, 3)]:
        with ChunkPool(threads) as pool:
            got = km_lloyd._assign(X, centers, sums=True, pool=pool, chunk_size=chunk_size)
        np.testing.assert_array_equal(got[0], ref[0])
        assert got[1] == pytest.approx(ref[1], rel=1e-12)
        np.testing.assert_allclose(got[2], ref[2], rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(got[3], ref[3])


def test_chunks_hold_about_as_many_numbers_whatever_the_dimension():
    assert km_lloyd._chunk_rows(784) == km_lloyd.CHUNK_SIZE  # MNIST: as tuned
    assert km_lloyd._chunk_rows(64) == km_lloyd.CHUNK_SIZE * 784 // 64  # longer chunks in low dimension
    assert km_lloyd._chunk_rows(5000) == km_lloyd.CHUNK_SIZE  # never fewer rows than CHUNK_SIZE


def test_predict_transform_fit_predict():
    X = _blobs()
    km = KMeans(6, random_state=0).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(KMeans(6, random_state=0).fit_predict(X), km.labels_)
    D = km.transform(X[:100])
    np.testing.assert_allclose(D, np.linalg.norm(X[:100, None] - km.cluster_centers_[None], axis=-1), rtol=1e-9)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-10)


def test_float32_keeps_precision_and_agrees():
    X = _blobs()
    init, _ = kmeans_plusplus(X, 6, random_state=0)
    k64 = KMeans(6, init=init).fit(X)
    k32 = KMeans(6, init=init.astype(np.float32)).fit(X.astype(np.float32))
    assert k32.cluster_centers_.dtype == np.float32
    ref32 = SkKMeans(6, init=init.astype(np.float32), n_init=1, algorithm="lloyd").fit(X.astype(np.float32))
    assert np.mean(k32.labels_ == ref32.labels_) > 0.999
    assert k32.inertia_ == pytest.approx(k64.inertia_, rel=1e-4)
    np.testing.assert_allclose(k32.cluster_centers_, k64.cluster_centers_, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_torch_path_matches_numpy(dtype):
    X = _blobs().astype(dtype)
    init, _ = kmeans_plusplus(X, 6, random_state=2)
    a = KMeans(6, init=init).fit(X)
    b = KMeans(6, init=init, device="cpu").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.n_iter_ == b.n_iter_
    rel = 1e-10 if dtype == np.float64 else 1e-5
    assert b.inertia_ == pytest.approx(a.inertia_, rel=rel)
    np.testing.assert_allclose(b.inertia_history_, a.inertia_history_, rtol=rel)
    assert b.cluster_centers_.dtype == dtype
    # Empty-cluster re-seeding is the same in torch.
    X2 = _anisotropic()
    init2 = np.vstack([X2[:2], [[1e3, 1e3]]])
    np.testing.assert_array_equal(KMeans(3, init=init2, device="cpu").fit(X2).labels_, KMeans(3, init=init2).fit(X2).labels_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("chunk_size", [None, 1 << 16])  # the CPU's chunks, an accelerator's
def test_kernels_on_tensors_equal_the_numpy_kernels(dtype, chunk_size):
    # The kernels are written once: on torch tensors (KMeans(device=...)) the same
    # functions make the same step as on numpy arrays, weights and empty clusters included.
    torch = pytest.importorskip("torch")
    X = _blobs().astype(dtype)
    w = np.random.RandomState(0).rand(len(X)).astype(dtype)
    centers = np.vstack([X[:5], np.full((1, X.shape[1]), 1e3, dtype)])  # the last one empties
    Xt, ct, wt = (torch.as_tensor(a) for a in (X, centers, w.astype(np.float64)))
    labels, inertia, sums, counts = km_lloyd._assign(X, centers, sums=True, sample_weight=w)
    labels_t, inertia_t, sums_t, counts_t = km_lloyd._assign(
        Xt, ct, sums=True, sample_weight=wt, chunk_size=chunk_size
    )
    assert isinstance(labels_t, torch.Tensor) and labels_t.dtype == torch.int64
    np.testing.assert_array_equal(labels_t.numpy(), labels)
    rel = 1e-12 if dtype == np.float64 else 1e-5  # float32: numpy sums chunks in float32
    assert inertia_t == pytest.approx(inertia, rel=rel)
    np.testing.assert_allclose(sums_t.numpy(), sums, rtol=rel, atol=rel * np.abs(sums).max())
    np.testing.assert_allclose(counts_t.numpy(), counts, rtol=rel)
    assert counts[-1] == 0  # the empty cluster is re-seeded the same way in both
    new, labels2, _ = lloyd_step(X, centers, sample_weight=w)
    new_t, labels2_t, _ = lloyd_step(Xt, ct, sample_weight=wt, check_input=False)
    assert new_t.dtype == ct.dtype
    np.testing.assert_array_equal(labels2_t.numpy(), labels2)
    np.testing.assert_allclose(new_t.numpy(), new, rtol=rel, atol=rel)
    assert not np.allclose(new[-1], centers[-1])  # it moved onto a data point


def test_weighted_float32_inertia_accumulates_in_float64():
    # float32 data and weights: the terms of the inertia are summed in float64, so the
    # result is the float32 expansion's, not a float32 dot product's (off by ~1e-7 here).
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(3000, 20) + 4 * rng.randn(1, 20) for _ in range(6)]).astype(np.float32)
    w = (rng.rand(len(X)) * 3).astype(np.float32)
    X64, c64 = X.astype(np.float64), X[:5].astype(np.float64)
    exact = ((X64[:, None, :] - c64[None]) ** 2).sum(-1).min(1) @ w.astype(np.float64)
    assert lloyd_step(X, X[:5], sample_weight=w)[2] == pytest.approx(exact, rel=3e-8)

def test_n_init_keeps_best_run():
    # The n_init runs draw their starts one after the other from one RandomState (as in
    # scikit-learn): replay those draws, fit each start alone, and compare with the best.
    X = _blobs()
    rng = np.random.RandomState(0)
    starts = [X[rng.choice(len(X), size=6, replace=False, p=np.ones(len(X)) / len(X))] for _ in range(4)]
    runs = [KMeans(6, init=start, max_iter=5).fit(X) for start in starts]
    inertias = [run.inertia_ for run in runs]
    assert len(set(inertias)) > 1 and np.argmin(inertias) != 0  # the best is not the first
    best = KMeans(6, init="random", n_init=4, max_iter=5, random_state=0).fit(X)
    assert best.inertia_ == min(inertias)
    np.testing.assert_array_equal(best.labels_, runs[int(np.argmin(inertias))].labels_)


# --------------------------------------------------------------------------- k-means++


def test_kmeans_plusplus_same_points_as_sklearn():
    X = _blobs()
    for seed in range(3):
        c, idx = kmeans_plusplus(X, 6, random_state=seed)
        c_ref, idx_ref = sk_kmeans_plusplus(X, 6, random_state=seed)
        np.testing.assert_array_equal(idx, idx_ref)
        np.testing.assert_array_equal(c, X[idx])


def _pair_distribution(X, n_local_trials):
    """Exact P(first = i, second = j) of k-means++ with k = 2 (ties: first candidate)."""
    n = len(X)
    D2 = ((X[:, None] - X[None]) ** 2).sum(-1)
    P = np.zeros((n, n))
    for i in range(n):
        q = D2[i] / D2[i].sum()
        for cand in itertools.product(range(n), repeat=n_local_trials):
            pots = [np.minimum(D2[i], D2[j]).sum() for j in cand]
            P[i, cand[int(np.argmin(pots))]] += np.prod(q[list(cand)]) / n
    return P


@pytest.mark.parametrize("n_local_trials", [1, None])
def test_kmeans_plusplus_distribution(n_local_trials):
    # First center uniform, second drawn proportional to D^2 (n_local_trials=1), or the best
    # of 2 such draws (the greedy default for k = 2): chi-square test with a fixed seed.
    X = np.array([[0.0], [1.0], [2.0], [4.0], [7.0], [11.0]])
    P = _pair_distribution(X, n_local_trials or 2)  # default for k = 2: 2 + int(ln 2) = 2
    rng = np.random.RandomState(0)
    n_draws = 5000
    counts = np.zeros_like(P)
    _, (i, j) = kmeans_plusplus(X, 2, random_state=0, n_local_trials=n_local_trials)  # public entry
    for _ in range(n_draws):  # the validated core, to keep the test fast
        _, (i, j) = km_seeding._kmeans_plusplus(X, 2, rng, n_local_trials=n_local_trials)
        counts[i, j] += 1
    # First center: uniform.
    first = counts.sum(1)
    assert stats.chisquare(first, np.full(6, n_draws / 6)).pvalue > 1e-3
    # Joint law of (first, second) on the cells of non-zero probability; none outside.
    support = P > 0
    assert counts[~support].sum() == 0
    assert stats.chisquare(counts[support], n_draws * P[support]).pvalue > 1e-3
    # The test has power: the D^2 law is far from uniform over the other points.
    uniform = (1 - np.eye(6)) / 30
    assert stats.chisquare(counts[support], n_draws * uniform[support] / uniform[support].sum()).pvalue < 1e-6


# --------------------------------------------------------------------------- class means


def test_class_means():
    X = _blobs()
    y = np.repeat(np.array([3, 1, 2]), 1000)
    got = class_means(X, y)
    np.testing.assert_allclose(got, [X[y == 1].mean(0), X[y == 2].mean(0), X[y == 3].mean(0)], rtol=1e-12)
    with pytest.raises(ValueError, match="y"):
        class_means(X, y[:-1])


# --------------------------------------------------------------------------- missing data


def _with_missing(X, frac, seed):
    rng = np.random.default_rng(seed)
    X = X.copy()
    mask = rng.random(X.shape) < frac
    mask[mask.all(1), 0] = False  # keep every row with one observed entry
    X[mask] = np.nan
    return X


def test_missing_data_cost_matches_monte_carlo():
    X = _with_missing(_blobs(), 0.25, seed=0)
    c = 2.0
    m = MissingDataKMeans(6, c=c, random_state=0).fit(X)
    mask = np.isnan(X)
    # The closed form E||x - mu||^2 = sum_O (x_o - mu_o)^2 + sum_M (mu_m^2 + c), term by term.
    mu = m.cluster_centers_[m.labels_]
    closed = np.where(mask, mu**2 + c, (np.nan_to_num(X) - mu) ** 2).sum()
    assert m.cost_ == pytest.approx(closed, rel=1e-10)
    # Monte-Carlo: fill the missing entries with N(0, c) draws, within 3 standard errors.
    rng = np.random.default_rng(1)
    draws = []
    for _ in range(400):
        Xs = np.where(mask, rng.normal(0.0, np.sqrt(c), X.shape), X)
        draws.append(((Xs - mu) ** 2).sum())
    draws = np.array(draws)
    se = draws.std(ddof=1) / np.sqrt(draws.size)
    assert abs(draws.mean() - m.cost_) < 3 * se
    # ... and the test can fail: the cost with c ignored is many standard errors away.
    assert abs(draws.mean() - (m.cost_ - c * mask.sum())) > 30 * se


def test_missing_data_update_and_assignment_from_the_formula():
    X = _with_missing(_anisotropic(), 0.3, seed=2)
    mask = np.isnan(X)
    init = np.nan_to_num(X[:3])
    m = MissingDataKMeans(3, c=0.5, init=init, max_iter=1).fit(X)
    # One iteration: assign by expected distance to init, then mean of observed / cluster size.
    E = np.where(mask[:, None, :], init[None] ** 2 + 0.5, (X[:, None, :] - init[None]) ** 2).sum(-1)
    z = E.argmin(1)
    expected = np.array([np.nansum(X[z == k], axis=0) / (z == k).sum() for k in range(3)])
    np.testing.assert_allclose(m.cluster_centers_, expected, rtol=1e-12)
    np.testing.assert_allclose(m.expected_sq_distances(X[:20]), np.where(
        mask[:20, None, :], m.cluster_centers_[None] ** 2 + 0.5, (X[:20, None, :] - m.cluster_centers_[None]) ** 2
    ).sum(-1), rtol=1e-10)
    np.testing.assert_array_equal(m.predict(X), m.expected_sq_distances(X).argmin(1))


def test_missing_data_cost_never_increases():
    X = _with_missing(_blobs(), 0.4, seed=3)
    m = MissingDataKMeans(6, c=1.0, init="random", random_state=1, tol=0).fit(X)
    h = m.cost_history_
    assert m.n_iter_ > 2
    assert np.all(np.diff(h) <= 1e-10 * h[:-1])
    assert m.cost_ <= h[-1] * (1 + 1e-10)


def test_missing_data_without_nan_is_kmeans():
    X = _blobs()
    for kwargs in ({"random_state": 3}, {"init": X[:6]}, {"init": "random", "random_state": 0, "n_init": 2}):
        a = KMeans(6, **kwargs).fit(X)
        b = MissingDataKMeans(6, c=5.0, **kwargs).fit(X)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
        assert a.inertia_ == b.cost_ and a.n_iter_ == b.n_iter_
        np.testing.assert_array_equal(a.inertia_history_, b.cost_history_)


def _observed_sq(X, centers):
    """Brute force: sum over the observed coordinates of (x_o - mu_o)^2, for every row and center."""
    return np.nansum((X[:, None, :] - centers[None]) ** 2, axis=-1)


def test_missing_data_default_is_expected_cost_and_zero_filled_kmeans():
    X = _with_missing(_blobs(), 0.3, seed=4)
    default = MissingDataKMeans(6, c=2.0, random_state=5).fit(X)
    assert MissingDataKMeans().distance == "expected"
    explicit = MissingDataKMeans(6, c=2.0, distance="expected", random_state=5).fit(X)
    zero_filled = KMeans(6, random_state=5).fit(np.nan_to_num(X))
    for other in (explicit, zero_filled):
        np.testing.assert_array_equal(default.labels_, other.labels_)
        np.testing.assert_array_equal(default.cluster_centers_, other.cluster_centers_)
    assert default.cost_ == pytest.approx(zero_filled.inertia_ + 2.0 * np.isnan(X).sum(), rel=1e-12)


def test_submitted_rule_one_iteration_from_the_formula():
    X = _with_missing(_anisotropic(), 0.3, seed=2)
    init = np.nan_to_num(X[:3])
    m = MissingDataKMeans(3, c=0.5, distance="submitted", init=init, max_iter=1).fit(X)
    # Assignment on the observed coordinates only; update: per-coordinate mean of the observed values.
    z = _observed_sq(X, init).argmin(1)
    expected = np.array([np.nanmean(X[z == k], axis=0) for k in range(3)])
    np.testing.assert_allclose(m.cluster_centers_, expected, rtol=1e-12)
    # ... which is not the update of cost (2) (observed sum / cluster size).
    assert not np.allclose(m.cluster_centers_, [np.nansum(X[z == k], axis=0) / (z == k).sum() for k in range(3)])
    np.testing.assert_array_equal(m.predict(X), _observed_sq(X, m.cluster_centers_).argmin(1))
    np.testing.assert_allclose(m.transform(X[:20]) ** 2, _observed_sq(X[:20], m.cluster_centers_)
                               + 0.5 * np.isnan(X[:20]).sum(1)[:, None], rtol=1e-10, atol=1e-10)


def test_submitted_rule_in_chunks_and_threads_on_mnist(mnist_subset):
    # 784 features: several chunks of rows, shared among threads; one iteration against the formula.
    X = _with_missing(mnist_subset[0], 0.3, seed=9)
    init = np.nan_to_num(X[:10])
    m = MissingDataKMeans(10, distance="submitted", init=init, max_iter=1).fit(X)
    D = np.stack([np.nansum((X - c) ** 2, axis=1) for c in init], axis=1)
    z = D.argmin(1)
    expected = np.array([np.nanmean(X[z == k], axis=0) for k in range(10)])
    np.testing.assert_allclose(m.cluster_centers_, np.where(np.isnan(expected), init, expected), rtol=1e-9, atol=1e-12)
    assert m.cost_history_[0] == pytest.approx(D.min(1).sum() + np.isnan(X).sum(), rel=1e-9)


def test_submitted_rule_is_kmeans_on_the_observed_coordinates():
    # Columns 3 and 4 missing everywhere: the submitted rule is K-means on columns 0-2 ...
    X = _blobs()
    X[:, 3:] = np.nan
    init = X[[0, 500, 1000, 1500, 2000, 2500]].copy()
    init[:, 3:] = 7.0
    sub = MissingDataKMeans(6, distance="submitted", init=init, tol=0).fit(X)
    ref = KMeans(6, init=init[:, :3], tol=0).fit(X[:, :3])
    np.testing.assert_array_equal(sub.labels_, ref.labels_)
    np.testing.assert_allclose(sub.cluster_centers_[:, :3], ref.cluster_centers_, rtol=1e-10)
    np.testing.assert_array_equal(sub.cluster_centers_[:, 3:], 7.0)  # never observed: kept
    assert sub.cost_ == pytest.approx(ref.inertia_ + 1.0 * X[:, 3:].size, rel=1e-10)
    # ... while cost (2) pulls the centers' never-observed coordinates to 0.
    exp = MissingDataKMeans(6, distance="expected", init=init, tol=0).fit(X)
    np.testing.assert_array_equal(exp.cluster_centers_[:, 3:], 0.0)


def test_submitted_rule_ignores_the_centers_missing_coordinates():
    X = _with_missing(_blobs(), 0.4, seed=6)
    m = MissingDataKMeans(6, c=1.0, distance="submitted", random_state=0).fit(X)
    rows = np.flatnonzero(np.isnan(X[:, 2]))
    D = m.transform(X[rows])
    E = m.expected_sq_distances(X[rows])
    m.cluster_centers_ = m.cluster_centers_.copy()
    m.cluster_centers_[:, 2] = np.random.default_rng(0).normal(0.0, 50.0, 6)
    np.testing.assert_allclose(m.transform(X[rows]), D, rtol=1e-12)  # mu_m plays no role ...
    assert not np.allclose(m.expected_sq_distances(X[rows]), E)  # ... in cost (2) it does


def test_submitted_rule_cost_never_increases_and_is_its_own_criterion():
    X = _with_missing(_blobs(), 0.4, seed=3)
    m = MissingDataKMeans(6, c=1.5, distance="submitted", init="random", random_state=1, tol=0).fit(X)
    h = m.cost_history_
    assert m.n_iter_ > 2
    assert np.all(np.diff(h) <= 1e-10 * h[:-1])
    mu = m.cluster_centers_[m.labels_]
    assert m.cost_ == pytest.approx(np.nansum((X - mu) ** 2) + 1.5 * np.isnan(X).sum(), rel=1e-10)
    assert m.score(X) == pytest.approx(-m.cost_, rel=1e-10)


def test_submitted_rule_starts_where_the_expected_one_does():
    X = _with_missing(_blobs(), 0.3, seed=7)
    init0, _ = kmeans_plusplus(np.nan_to_num(X), 6, random_state=2)
    seeded = MissingDataKMeans(6, distance="submitted", random_state=2).fit(X)
    given = MissingDataKMeans(6, distance="submitted", init=init0).fit(X)
    np.testing.assert_array_equal(seeded.labels_, given.labels_)
    for kwargs in ({"random_state": 3}, {"init": "random", "random_state": 0, "n_init": 2}):  # no NaN: KMeans
        a = KMeans(6, **kwargs).fit(_blobs())
        b = MissingDataKMeans(6, distance="submitted", **kwargs).fit(_blobs())
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10)


def test_submitted_rule_reseeds_an_empty_cluster():
    X = _with_missing(_blobs(), 0.2, seed=8)
    init = np.nan_to_num(X[:6])
    init[5] = 1e6  # nobody's nearest center
    m = MissingDataKMeans(6, distance="submitted", init=init).fit(X)
    assert np.isfinite(m.cluster_centers_).all()
    assert np.bincount(m.labels_, minlength=6).min() > 0


def test_docstring_examples():
    import doctest
    import importlib
    import pkgutil

    names = [m.name for m in pkgutil.iter_modules(km_module.__path__, "gmmlab.kmeans.")]
    assert {m.__name__ for m in (km_lloyd, km_elkan, km_seeding, km_estimator, km_missing)} <= set(names)
    attempted = 0
    for module in [km_module, *map(importlib.import_module, names)]:
        result = doctest.testmod(module, extraglobs={"np": np})
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 26  # as many examples as the single module kmeans.py had


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X: KMeans(0).fit(X), "n_clusters"),
        (lambda X: KMeans(31).fit(X[:30]), "n_clusters"),
        (lambda X: KMeans(2.5).fit(X), "n_clusters"),
        (lambda X: KMeans(2).fit(np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X)), "X"),
        (lambda X: KMeans(2).fit(X[:, 0]), "X"),
        (lambda X: KMeans(2).fit(X[:, :, None]), "X"),
        (lambda X: KMeans(2).fit(np.empty((0, 2))), "X"),
        (lambda X: KMeans(2, init=np.zeros((3, 2))).fit(X), "init"),
        (lambda X: KMeans(2, init=np.zeros((2, 5))).fit(X), "init"),
        (lambda X: KMeans(2, init=np.zeros(4)).fit(X), "init"),
        (lambda X: KMeans(2, init="kmeans").fit(X), "init"),
        (lambda X: KMeans(2, init=X[:2], n_init=3).fit(X), "n_init"),
        (lambda X: KMeans(2, max_iter=0).fit(X), "max_iter"),
        (lambda X: KMeans(2, tol=-1.0).fit(X), "tol"),
        (lambda X: KMeans(2, device="no-such-device").fit(X), "device"),
        (lambda X: KMeans(2).fit(X).predict(X[:, :1]), "features"),
        (lambda X: KMeans(2).predict(X), "not fitted"),
        (lambda X: kmeans_plusplus(X, 0), "n_clusters"),
        (lambda X: kmeans_plusplus(X[:3], 4), "n_clusters"),
        (lambda X: kmeans_plusplus(X[0], 2), "X"),
        (lambda X: MissingDataKMeans(2, c=0.0).fit(X), "c"),
        (lambda X: MissingDataKMeans(2, c=-1.0).fit(X), "c"),
        (lambda X: MissingDataKMeans(2).fit(np.vstack([X, [np.nan, np.nan]])), "every entry missing"),
        (lambda X: MissingDataKMeans(2).fit(X[:, 0]), "X"),
        (lambda X: MissingDataKMeans(2).fit(np.vstack([X, [np.inf, 1.0]])), "X"),
        (lambda X: MissingDataKMeans(2, init=np.zeros((2, 3))).fit(X), "init"),
        (lambda X: MissingDataKMeans(0).fit(X), "n_clusters"),
        (lambda X: MissingDataKMeans(2, distance="observed").fit(X), "distance"),
        (lambda X: MissingDataKMeans(2, distance=None).fit(X), "distance"),
        (lambda X: MissingDataKMeans(2, distance="submitted", device="cpu").fit(X), "device"),
    ],
)
def test_bad_input(make, match):
    X = load_old_faithful()
    with pytest.raises((ValueError, TypeError), match=match):
        make(X)


# --------------------------------------------------------------------------- bad input, argument by argument


def _faithful():
    return load_old_faithful()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda X: lloyd_step(np.where(np.eye(*X.shape, dtype=bool), np.nan, X), X[:2]), ValueError, "X"),
        (lambda X: lloyd_step(np.where(np.eye(*X.shape, dtype=bool), np.inf, X), X[:2]), ValueError, "X"),
        (lambda X: lloyd_step(X[:, 0], X[:2]), ValueError, "X"),
        (lambda X: lloyd_step(X, X[:2, :1]), ValueError, "centers must have 2 columns"),
        (lambda X: lloyd_step(X, X[0]), ValueError, "centers"),
        (lambda X: lloyd_step(X, np.empty((0, 2))), ValueError, "centers"),
        (lambda X: lloyd_step(X, [[np.nan, 0.0]]), ValueError, "centers"),
        (lambda X: lloyd_step(X.astype(str), X[:2]), TypeError, "X"),
        (lambda X: lloyd_step(X, X[:2], x_sq=np.ones(5)), ValueError, "x_sq"),
        (lambda X: lloyd_step(X, X[:2], x_sq=-np.ones(len(X))), ValueError, "x_sq"),
        (lambda X: lloyd_step(X, X[:2], sample_weight=-np.ones(len(X))), ValueError, "sample_weight"),
        (lambda X: lloyd_step(X, X[:2], sample_weight=np.ones(3)), ValueError, "sample_weight"),
        (lambda X: lloyd_step(X, X[:2], sample_weight="heavy"), TypeError, "sample_weight"),
        (lambda X: lloyd_step(_sparse(X), X[:2]), TypeError, "Sparse"),
    ],
)
def test_lloyd_step_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(_faithful())


def _sparse(X):
    from scipy import sparse

    return sparse.csr_matrix(X)


def test_lloyd_step_converts_integers_and_dtypes():
    # Integer data: float means (the mean of (0, 0) and (1, 1) is (0.5, 0.5), not (0, 0)).
    new, labels, inertia = lloyd_step(np.array([[0, 0], [1, 1]]), np.array([[0, 0]]))
    assert new.dtype == np.float64 and new.tolist() == [[0.5, 0.5]] and inertia == 2.0
    # Centers take the dtype of X (the documented contract), lists are accepted.
    X = _blobs().astype(np.float32)
    a = lloyd_step(X, X[:6].astype(np.float64))
    b = lloyd_step(X, X[:6])
    assert a[0].dtype == np.float32
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(lloyd_step(X.tolist(), X[:6].tolist())[1], b[1])


def test_expected_sq_distances_bad_input():
    X = _with_missing(_blobs(), 0.2, seed=0)
    with pytest.raises(ValueError, match="not fitted"):
        MissingDataKMeans(3).expected_sq_distances(X)
    m = MissingDataKMeans(3, random_state=0).fit(X)
    for bad, error, match in [
        (X[:, 0], ValueError, "X"),
        (np.nan_to_num(X)[:, :3], ValueError, "features"),
        (np.where(np.isnan(X), np.inf, X), ValueError, "X"),
        (X.astype(str), TypeError, "X"),
        (_sparse(np.nan_to_num(X)), TypeError, "Sparse"),
        (np.full((2, X.shape[1]), np.nan), ValueError, "every entry missing"),
    ]:
        with pytest.raises(error, match=match):
            m.expected_sq_distances(bad)
    m.set_params(c=-1.0)
    with pytest.raises(ValueError, match="c must be"):
        m.expected_sq_distances(X)


def test_expected_sq_distances_of_integer_and_list_input():
    X = np.array([[0, 1], [4, 0], [0, 2], [5, 1]])
    m = MissingDataKMeans(2, c=0.5, init=np.array([[0.0, 1.0], [4.0, 0.0]])).fit(X)
    np.testing.assert_allclose(m.expected_sq_distances(X.tolist()), m.expected_sq_distances(X.astype(float)))
    # A point (NaN, 1): mu_0^2 + c for the missing coordinate, (1 - mu_1)^2 for the observed one.
    mu = m.cluster_centers_
    expected = mu[:, 0] ** 2 + 0.5 + (1.0 - mu[:, 1]) ** 2
    np.testing.assert_allclose(m.expected_sq_distances([[np.nan, 1.0]]), [expected])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sample_weight": -np.ones(272)}, ValueError, "sample_weight"),
        ({"sample_weight": np.zeros(272)}, ValueError, "[Ss]ample weights"),
        ({"x_squared_norms": np.ones(3)}, ValueError, "x_squared_norms"),
        ({"x_squared_norms": np.full(272, np.nan)}, ValueError, "x_squared_norms"),
        ({"n_local_trials": 0}, ValueError, "n_local_trials"),
        ({"n_local_trials": 1.5}, TypeError, "n_local_trials"),
        ({"random_state": "seed"}, TypeError, "random_state must be None.*'seed'"),
        ({"random_state": np.random.default_rng(0)}, TypeError, "random_state.*RandomState"),
    ],
)
def test_kmeans_plusplus_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        kmeans_plusplus(_faithful(), 2, **kwargs)


def test_kmeans_plusplus_sparse_and_integer_input():
    X = _faithful()
    with pytest.raises(TypeError, match="Sparse"):
        kmeans_plusplus(_sparse(X), 2)
    centers, idx = kmeans_plusplus(np.round(X).astype(int), 2, random_state=0)
    assert centers.dtype == np.float64


@pytest.mark.parametrize(
    "y, error, match",
    [
        (np.zeros((272, 1)), ValueError, "1-D"),
        (np.zeros(271), ValueError, "272 labels"),
        (np.r_[np.nan, np.zeros(271)], ValueError, "NaN"),
        (np.r_[np.inf, np.zeros(271)], ValueError, "infinite"),
        (np.array([1, "a"] * 136, dtype=object), TypeError, "one type"),
        (np.zeros(272, dtype=complex), TypeError, "class labels"),
    ],
)
def test_class_means_bad_input(y, error, match):
    with pytest.raises(error, match=match):
        class_means(_faithful(), y)


def test_class_means_bad_X_and_string_labels():
    X = _faithful()
    with pytest.raises(ValueError, match="X"):
        class_means(np.where(np.eye(*X.shape, dtype=bool), np.nan, X), np.zeros(272))
    means = class_means(X, np.where(X[:, 1] > 70, "long", "short"))
    np.testing.assert_allclose(means, [X[X[:, 1] > 70].mean(0), X[X[:, 1] <= 70].mean(0)])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"device": 3}, TypeError, "device"),
        ({"device": "no-such-device"}, ValueError, "device"),
        ({"algorithm": "elkan", "device": "cpu"}, ValueError, "device must be None"),
        ({"algorithm": "full"}, ValueError, "algorithm"),
        ({"verbose": -1}, ValueError, "verbose"),
        ({"verbose": "yes"}, TypeError, "verbose"),
        ({"n_init": "many"}, ValueError, "n_init"),
        ({"n_init": 0}, ValueError, "n_init"),
        ({"init": lambda X, k, random_state: X[:k, :1]}, ValueError, "initial centers"),
        ({"init": lambda X, k, random_state: X[: k + 1]}, ValueError, "initial centers"),
    ],
)
def test_parameters_are_checked_before_any_work(params, error, match, monkeypatch):
    # fit validates every argument first: a bad one is reported before any
    # initialisation or iteration starts.
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    if "init" not in params:
        monkeypatch.setattr(km_estimator, "_initial_centers", no_work)
    for name in ("_lloyd", "_elkan"):
        monkeypatch.setattr(km_estimator, name, no_work)
    with pytest.raises(error, match=match):
        KMeans(2, **params).fit(_faithful())


def test_sample_weight_is_checked_before_any_work(monkeypatch):
    for module in (km_estimator, km_missing):  # KMeans.fit, MissingDataKMeans._fit_submitted
        monkeypatch.setattr(module, "_initial_centers", lambda *a, **k: pytest.fail("work started"))
    X = _faithful()
    for bad, error in [(-np.ones(len(X)), ValueError), (np.ones(3), ValueError), ("w", TypeError),
                       (np.full(len(X), np.nan), ValueError), (np.inf, ValueError)]:
        with pytest.raises(error, match="sample_weight|Sample weights"):
            KMeans(2).fit(X, sample_weight=bad)
        with pytest.raises(error, match="sample_weight|Sample weights"):
            MissingDataKMeans(2, distance="submitted").fit(X, sample_weight=bad)


def test_sparse_input_is_refused_clearly():
    X = _faithful()
    km = KMeans(2, random_state=0).fit(X)
    for call in (lambda: KMeans(2).fit(_sparse(X)), lambda: km.predict(_sparse(X)),
                 lambda: km.transform(_sparse(X)), lambda: MissingDataKMeans(2).fit(_sparse(X))):
        with pytest.raises(TypeError, match="Sparse data was passed for X.*toarray"):
            call()


# --------------------------------------------------------------------------- issue 18: bad input never passes silently


def _small():
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    return centers[np.arange(30) % 3] + 0.5 * rng.randn(30, 2)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, bool])
def test_lloyd_step_integer_X_gets_float_centers(dtype):
    # Issue 18: integer/uint8/bool X had its centers cast to X.dtype (truncated).
    if dtype is bool:
        X, C = _small() > 1.0, np.array([[0.3, 0.4], [0.9, 0.2], [0.1, 0.8]])
    else:
        X = np.clip(np.round(_small() * 3) + 10, 0, 255).astype(dtype)
        C = np.array([[10.4, 10.6], [21.7, 10.2], [10.3, 21.9]])
    new, labels, inertia = lloyd_step(X, C)
    ref = lloyd_step(X.astype(np.float64), C)
    assert new.dtype == np.float64
    np.testing.assert_array_equal(new, ref[0])
    np.testing.assert_array_equal(labels, ref[1])
    assert inertia == ref[2]
    # What the old code returned: the means truncated to X's dtype.
    old = lloyd_step(X.astype(np.float64), C.astype(dtype).astype(np.float64))[0].astype(dtype)
    assert not np.array_equal(old.astype(np.float64), new)


@pytest.mark.parametrize("where", ["X", "centers"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_lloyd_step_refuses_non_finite_values(where, value):
    X, C = _small(), _small()[:3].copy()
    bad = (X if where == "X" else C).copy()
    bad[1, 1] = value
    args = (bad, C) if where == "X" else (X, bad)
    with pytest.raises(ValueError, match=rf"\b{where}\b"):
        lloyd_step(*args)
    # Unchecked (check_input=False), the same numbers give a non-finite result.
    with np.errstate(all="ignore"):
        out = lloyd_step(*args, check_input=False)
    assert not (np.isfinite(out[0]).all() and np.isfinite(out[2]))


@pytest.mark.parametrize("x_sq", [np.ones((30, 1)), np.ones((1, 30)), np.ones(29), np.ones(31)])
def test_lloyd_step_refuses_x_sq_of_the_wrong_shape(x_sq):
    # Issue 18: an x_sq of the wrong length or 2-D gave inertia 0.0.
    X, C = _small(), _small()[:3]
    with pytest.raises(ValueError, match=r"\bx_sq\b.*\(30,\)"):
        lloyd_step(X, C, x_sq=x_sq)
    assert lloyd_step(X, C)[2] > 1.0  # the true inertia is not 0.0


def test_lloyd_step_refuses_more_centers_than_points():
    # Issue 18: more centers than points gave NaN (now: degenerate) centers.
    X = _small()[:2]
    with pytest.raises(ValueError, match=r"centers has 3 rows.*n_samples=2 should be >= n_clusters=3"):
        lloyd_step(X, _small()[:3])
    new, labels, _ = lloyd_step(X, _small()[:3], check_input=False)  # the unchecked answer:
    assert np.unique(labels).size < 3  # a cluster with no point of its own


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"check_input": "yes"}, TypeError, "check_input must be True or False"),
        ({"check_input": None}, TypeError, "check_input"),
        ({"check_input": 1}, TypeError, "check_input"),
        ({"pool": "x"}, TypeError, "pool must be None or a ChunkPool"),
        ({"pool": ChunkPool()}, TypeError, "pool"),  # not entered: no threads yet
    ],
)
def test_lloyd_step_checks_check_input_and_pool(kwargs, error, match):
    with pytest.raises(error, match=match):
        lloyd_step(_small(), _small()[:3], **kwargs)


@pytest.mark.parametrize(
    "X, centers, match",
    [
        (np.zeros(30), np.zeros((3, 2)), r"\bX\b"),  # was numpy's "not enough values to unpack"
        (np.zeros((30, 2)), np.zeros(2), r"\bcenters\b"),
        (np.zeros((30, 2, 1)), np.zeros((3, 2)), r"\bX\b"),
        (np.zeros((30, 2)), np.zeros((3, 2, 1)), r"\bcenters\b"),
        (np.zeros((30, 2)), np.zeros((3, 5)), r"centers must have 2 columns"),  # was matmul's
        (np.full((30, 2), "a"), np.zeros((3, 2)), r"\bX\b"),  # was einsum's
        (np.zeros((30, 2)), np.full((3, 2), "a"), r"\bcenters\b"),
        (np.zeros((30, 2)), np.array([[None, None]] * 3), r"\bcenters\b"),
        (np.zeros((30, 2)), np.zeros((3, 2)) + 1j, r"\bcenters\b"),
    ],
)
def test_lloyd_step_array_errors_name_their_argument(X, centers, match):
    with pytest.raises((ValueError, TypeError), match=match):
        lloyd_step(X, centers)


def test_huge_data_are_refused_naming_X():
    # Issue 18: KMeans on X * 1e300 reported inertia_ = inf.
    X = _small()
    with np.errstate(over="ignore"):
        assert not np.isfinite(((X * 1e300) ** 2).sum())  # what inertia_ became
    for call in (
        lambda: KMeans(3, random_state=0).fit(X * 1e300),
        lambda: KMeans(3, random_state=0, device="cpu").fit(X * 1e300),
        lambda: KMeans(3, random_state=0, algorithm="elkan").fit(X * 1e300),
        lambda: KMeans(3, random_state=0).fit(X).transform(X * 1e300),
        lambda: KMeans(3, random_state=0).fit(X).score(X * 1e300),
        lambda: kmeans_plusplus(X * 1e300, 3, random_state=0),
        lambda: lloyd_step(X * 1e300, X[:3] * 1e300),
        lambda: MissingDataKMeans(3, random_state=0).fit(X * 1e300),
        lambda: MissingDataKMeans(3, distance="submitted", random_state=0).fit(X * 1e300),
        lambda: MissingDataKMeans(3, random_state=0).fit(X).expected_sq_distances(X * 1e300),
    ):
        with pytest.raises(ValueError, match=r"X has entries as large as \d\.\d+e\+300.*rescale X"):
            call()
    with pytest.raises(ValueError, match=r"^centers has entries"):
        lloyd_step(X, X[:3] * 1e300)
    with pytest.raises(ValueError, match=r"\binit\b.*entries as large"):
        KMeans(3, init=X[:3] * 1e300).fit(X)
    with pytest.raises(ValueError, match=r"X has entries as large.*overflow float64"):
        class_means(X * 1e307, np.arange(30) % 3)
    # At a scale the arithmetic holds, the clustering is X's.
    np.testing.assert_array_equal(
        KMeans(3, random_state=0).fit(X * 1e100).labels_, KMeans(3, random_state=0).fit(X).labels_
    )


def test_tiny_data_are_refused_naming_X(monkeypatch):
    # X * 1e-300: every squared distance underflows to 0, every point went to one cluster.
    X = _small()
    for call in (
        lambda: KMeans(3, random_state=0).fit(X * 1e-300),
        lambda: kmeans_plusplus(X * 1e-300, 3, random_state=0),
        lambda: lloyd_step(X * 1e-300, X[:3] * 1e-300),
        lambda: MissingDataKMeans(3, random_state=0).fit(X * 1e-300),
        lambda: MissingDataKMeans(3, distance="submitted", random_state=0).fit(X * 1e-300),
    ):
        with pytest.raises(ValueError, match=r"X has no entry larger than .*underflow float64"):
            call()
    np.testing.assert_array_equal(
        KMeans(3, random_state=0).fit(X * 1e-100).labels_, KMeans(3, random_state=0).fit(X).labels_
    )
    # Without the check, the clustering collapses: what the guard prevents.
    monkeypatch.setattr(km_estimator, "check_small_scale", lambda X, name="X": None)
    with pytest.warns(ConvergenceWarning):
        collapsed = KMeans(3, random_state=0).fit(X * 1e-300).labels_
    assert np.unique(collapsed).size == 1
    # Constant data (all at one point) are not "tiny": the centred data are 0.
    assert KMeans(1).fit(np.full((5, 2), 1e-300)).inertia_ == 0.0


@pytest.mark.parametrize("value", ["x", -1, 2**40, 1.5, np.random.default_rng(0), [1], True])
def test_bad_random_state_is_named(value):
    for call in (
        lambda: KMeans(3, random_state=value).fit(_small()),
        lambda: MissingDataKMeans(3, random_state=value).fit(_small()),
        lambda: kmeans_plusplus(_small(), 3, random_state=value),
    ):
        with pytest.raises((ValueError, TypeError), match=r"\brandom_state\b"):
            call()


@pytest.mark.parametrize("device", ["meta", "bogus", 123, ["cpu"], "cuda"])
def test_bad_device_is_named(device):
    import torch

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 'cuda' is valid")
    with pytest.raises((ValueError, TypeError), match=r"\bdevice\b"):
        KMeans(3, device=device).fit(_small())


def test_sample_weight_messages_name_sample_weight():
    X = _small()
    for w in (np.zeros(30), np.ones((30, 1)), np.ones(5)):
        for call in (
            lambda: KMeans(3).fit(X, sample_weight=w),
            lambda: lloyd_step(X, X[:3], sample_weight=w),
            lambda: kmeans_plusplus(X, 3, sample_weight=w),
            lambda: MissingDataKMeans(3).fit(X, sample_weight=w),
            lambda: MissingDataKMeans(3, distance="submitted").fit(X, sample_weight=w),
            lambda: KMeans(3).fit(X).score(X, sample_weight=w),
        ):
            with pytest.raises(ValueError, match=r"\bsample_weight\b"):
                call()


def test_missing_data_kmeans_bad_input():
    X = _small()
    X[[1, 7], [0, 1]] = np.nan  # NaN marks a missing entry: valid
    model = MissingDataKMeans(3, random_state=0).fit(X)
    assert np.isfinite(model.cost_) and model.n_missing_ == 2
    with_inf = X.copy()
    with_inf[3, 0] = np.inf
    with pytest.raises(ValueError, match=r"\bX\b"):
        MissingDataKMeans(3).fit(with_inf)
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.predict(with_inf)
    # c so large that c * (number of missing entries) overflows: named, not an inf cost_.
    assert not np.isfinite(1e308 * 2.0)
    for distance in ("expected", "submitted"):
        with pytest.raises(ValueError, match=r"^c=1e\+308 is so large"):
            MissingDataKMeans(3, c=1e308, distance=distance).fit(X)
    model.c = -1.0
    with pytest.raises(ValueError, match=r"\bc\b"):
        model.predict(X)


def test_dok_sparse_input_is_refused_as_sparse():
    # dok_array subclasses dict: the shared check refused it as a "dict".
    from scipy import sparse

    X = sparse.dok_array(_small())
    for call in (lambda: KMeans(3).fit(X), lambda: MissingDataKMeans(3).fit(X),
                 lambda: kmeans_plusplus(X, 3), lambda: class_means(X, np.arange(30) % 3),
                 lambda: lloyd_step(X, _small()[:3])):
        with pytest.raises(TypeError, match="Sparse data was passed for X"):
            call()


def test_checks_leave_valid_results_unchanged():
    # The checks only refuse; valid input gives scikit-learn's numbers as before.
    X = _blobs()
    init = X[:6].copy()
    _compare_with_sklearn(X, init)
    a = KMeans(6, init=init, device="cpu").fit(X)
    b = KMeans(6, init=init).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)


# --------------------------------------------------------------------------- sample weights


def _weights(n, seed=0):
    return np.random.RandomState(seed).uniform(0.1, 3.0, n)


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_sample_weight_matches_sklearn(init, algorithm):
    X = _blobs()
    w = _weights(len(X))
    for seed in range(3):
        ours = KMeans(6, init=init, random_state=seed, algorithm=algorithm).fit(X, sample_weight=w)
        ref = SkKMeans(6, init=init, n_init=1, random_state=seed, algorithm="lloyd").fit(X, sample_weight=w)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        assert ours.n_iter_ == ref.n_iter_
        assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-12)
        assert ours.score(X[:500], sample_weight=w[:500]) == pytest.approx(
            ref.score(X[:500], sample_weight=w[:500]), rel=1e-10)
    # ... and the weights matter: the unweighted fit is another one.
    assert KMeans(6, init=init, random_state=0).fit(X).inertia_ != pytest.approx(ours.inertia_, rel=1e-3)


def test_weighted_kmeans_plusplus_matches_sklearn_and_skips_weight_zero(monkeypatch):
    X = _blobs()
    w = _weights(len(X))
    w[::2] = 0.0
    for seed in range(5):
        centers, idx = kmeans_plusplus(X, 6, sample_weight=w, random_state=seed)
        _, idx_ref = sk_kmeans_plusplus(X, 6, sample_weight=w, random_state=seed)
        np.testing.assert_array_equal(idx, idx_ref)
        assert np.all(idx % 2 == 1)  # a point of weight 0 is never a center
    # Inside KMeans too: its starts (data points, centred) are rows of weight > 0.
    starts = []
    original = km_estimator._initial_centers
    monkeypatch.setattr(km_estimator, "_initial_centers", lambda *a, **k: starts.append(original(*a, **k)) or starts[-1])
    for init in ("k-means++", "random"):
        KMeans(6, init=init, n_init=3, max_iter=1, random_state=1).fit(X, sample_weight=w)
    Xc = X - X.mean(0)
    for start in starts:
        rows = [np.flatnonzero(np.all(Xc == c, axis=1)) for c in start]
        assert all(r.size == 1 and r[0] % 2 == 1 for r in rows)
    assert len(starts) == 6


@pytest.mark.parametrize("engine", [{}, {"algorithm": "elkan"}, {"device": "cpu"}])
def test_weight_n_is_n_copies(engine):
    # From the same start, integer weights give the fit of the data with each row repeated.
    X = _blobs()
    w = np.random.RandomState(1).randint(1, 4, len(X))
    init = X[[0, 500, 1000, 1500, 2000, 2500]]
    a = KMeans(6, init=init, **engine).fit(X, sample_weight=w)
    b = KMeans(6, init=init, **engine).fit(np.repeat(X, w, axis=0))
    np.testing.assert_array_equal(np.repeat(a.labels_, w), b.labels_)
    assert a.n_iter_ == b.n_iter_
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-10)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10)
    np.testing.assert_allclose(a.inertia_history_, b.inertia_history_, rtol=1e-10)


@pytest.mark.parametrize("distance", ["expected", "submitted"])
def test_missing_data_weight_n_is_n_copies(distance):
    X = _with_missing(_blobs(), 0.3, seed=2)
    w = np.random.RandomState(1).randint(1, 4, len(X))
    init = np.nan_to_num(X[[0, 500, 1000, 1500, 2000, 2500]])
    a = MissingDataKMeans(6, c=2.0, distance=distance, init=init).fit(X, sample_weight=w)
    Xr = np.repeat(X, w, axis=0)
    b = MissingDataKMeans(6, c=2.0, distance=distance, init=init).fit(Xr)
    np.testing.assert_array_equal(np.repeat(a.labels_, w), b.labels_)
    assert a.cost_ == pytest.approx(b.cost_, rel=1e-10)  # the c term is weighted too
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.cost_history_, b.cost_history_, rtol=1e-10)
    assert a.score(X, sample_weight=w) == pytest.approx(b.score(Xr), rel=1e-10)


def test_unit_weights_are_no_weights_and_weights_are_not_modified():
    X = _blobs()
    w = np.ones(len(X))
    for kwargs in ({}, {"algorithm": "elkan"}, {"init": "random", "n_init": 3}):
        a = KMeans(6, random_state=4, **kwargs).fit(X)
        b = KMeans(6, random_state=4, **kwargs).fit(X, sample_weight=w)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
        assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)
    np.testing.assert_array_equal(w, 1.0)
    # fit_predict and fit_transform pass the weights on.
    w2 = _weights(len(X))
    km = KMeans(6, random_state=0)
    np.testing.assert_array_equal(km.fit_predict(X, sample_weight=w2), KMeans(6, random_state=0).fit(
        X, sample_weight=w2).labels_)
    np.testing.assert_allclose(km.fit_transform(X, sample_weight=w2), km.transform(X))


# --------------------------------------------------------------------------- Elkan's algorithm


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("tol", [1e-4, 0.0])
def test_elkan_gives_lloyds_iterations(name, tol):
    make, k = DATASETS[name]
    X = make()
    for seed in range(3):
        lloyd = KMeans(k, init="random", random_state=seed, tol=tol).fit(X)
        elkan = KMeans(k, init="random", random_state=seed, tol=tol, algorithm="elkan").fit(X)
        np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
        assert elkan.n_iter_ == lloyd.n_iter_
        np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_, rtol=1e-12, atol=1e-12)
        assert elkan.inertia_ == pytest.approx(lloyd.inertia_, rel=1e-12)
        np.testing.assert_allclose(elkan.inertia_history_, lloyd.inertia_history_, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_elkan_on_mnist_prunes_distances(mnist_subset, dtype):
    X = mnist_subset[0].astype(dtype)
    init, _ = kmeans_plusplus(X, 10, random_state=0)
    lloyd = KMeans(10, init=init).fit(X)
    elkan = KMeans(10, init=init, algorithm="elkan").fit(X)
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
    assert elkan.n_iter_ == lloyd.n_iter_ > 10
    np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_, atol=1e-5 if dtype == np.float32 else 1e-12)
    # The point of the algorithm: far fewer point-center distances than Lloyd's n K per iteration.
    stats = {}
    mean = X.mean(0)
    km_elkan._elkan(X - mean, init - mean, max_iter=300, tol=0.0, stats=stats)
    n_iter = KMeans(10, init=init, tol=0.0).fit(X).n_iter_
    assert stats["distances"] < 0.35 * len(X) * 10 * n_iter


def test_elkan_reseeds_empty_clusters_and_duplicates_like_lloyd():
    X = _anisotropic()
    init = np.vstack([X[:2], [[1e3, 1e3]]])
    a, b = KMeans(3, init=init).fit(X), KMeans(3, init=init, algorithm="elkan").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    X = np.array([[0.0, 0.0], [1, 1], [1, 1], [1, 0], [0, 1]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(4\)"):
        e = KMeans(5, init=X, algorithm="elkan").fit(X)
    assert e.n_iter_ == 1


def test_elkan_with_one_cluster_falls_back_to_lloyd():
    X = _blobs()
    with pytest.warns(RuntimeWarning, match="single cluster"):
        e = KMeans(1, algorithm="elkan").fit(X)
    np.testing.assert_allclose(e.cluster_centers_, X.mean(0, keepdims=True), rtol=1e-12)


# --------------------------------------------------------------------------- scikit-learn conventions


def test_n_init_auto_follows_sklearn():
    X = _blobs()
    for init, runs in [("k-means++", 1), ("random", 10), (X[:6], 1), (lambda X, k, random_state: X[:k], 10)]:
        km = KMeans(6, init=init, n_init="auto", random_state=0, max_iter=3).fit(X)
        assert km._n_init == runs
    a = KMeans(6, init="random", n_init="auto", random_state=2).fit(X)
    b = KMeans(6, init="random", n_init=10, random_state=2).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert KMeans().n_init == 1  # gmmlab's default (scikit-learn's is "auto")


def test_callable_init_gets_the_data_and_the_random_state():
    X = _blobs()
    seen = {}

    def init(data, k, random_state):
        seen["data"], seen["rng"] = data, random_state
        return data[random_state.choice(len(data), k, replace=False)]

    km = KMeans(6, init=init, random_state=3).fit(X)
    np.testing.assert_array_equal(seen["data"], X)  # the data as given, not centred
    assert isinstance(seen["rng"], np.random.RandomState)
    start = X[np.random.RandomState(3).choice(len(X), 6, replace=False)]
    np.testing.assert_array_equal(km.labels_, KMeans(6, init=start).fit(X).labels_)


def test_verbose_prints_sklearns_messages(capsys):
    X = _blobs()
    KMeans(6, random_state=0, verbose=1, tol=0).fit(X)
    out = capsys.readouterr().out
    assert "Initialization complete" in out and "Iteration 0, inertia" in out
    assert "strict convergence" in out
    KMeans(6, random_state=0, verbose=True, tol=0.5, algorithm="elkan").fit(X)
    assert "within tolerance" in capsys.readouterr().out
    MissingDataKMeans(6, random_state=0, verbose=1, distance="submitted").fit(X)
    assert "Iteration 0, inertia" in capsys.readouterr().out
    KMeans(6, random_state=0).fit(X)
    assert capsys.readouterr().out == ""


def test_fewer_distinct_clusters_warns_like_sklearn():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(3\) found smaller"):
        km = KMeans(4, random_state=0).fit(X)
    assert set(km.labels_) == {0, 1, 2}


@pytest.mark.parametrize("Estimator", [KMeans, MissingDataKMeans])
def test_get_params_set_params_clone(Estimator):
    from sklearn.base import clone

    km = Estimator(3, init="random", n_init=2, tol=1e-3, random_state=5, algorithm="elkan")
    params = km.get_params()
    assert params["n_clusters"] == 3 and params["init"] == "random" and params["algorithm"] == "elkan"
    assert set(params) >= {"n_clusters", "init", "n_init", "max_iter", "tol", "verbose", "random_state",
                           "algorithm", "device"}
    twin = clone(km)
    assert twin is not km and twin.get_params() == params and not hasattr(twin, "cluster_centers_")
    X = _blobs()
    np.testing.assert_array_equal(twin.fit(X).labels_, km.fit(X).labels_)
    assert km.set_params(n_clusters=4) is km and km.fit(X).cluster_centers_.shape == (4, 5)
    assert repr(Estimator(2)) == f"{Estimator.__name__}(n_clusters=2)"
    # Parameters are stored unchecked; fit checks them.
    bad = Estimator(n_clusters=-1, tol="x")
    assert bad.n_clusters == -1 and bad.tol == "x"
    with pytest.raises(ValueError, match="n_clusters"):
        bad.fit(X)


def test_grid_search_tunes_kmeans():
    from sklearn.model_selection import GridSearchCV

    X = _blobs()
    search = GridSearchCV(KMeans(random_state=0), {"n_clusters": [2, 6], "algorithm": ["lloyd", "elkan"]}, cv=3)
    search.fit(X)
    assert search.best_params_["n_clusters"] == 6  # the score (minus inertia) prefers more clusters
    assert isinstance(search.best_estimator_, KMeans)
    gs = GridSearchCV(MissingDataKMeans(2, random_state=0), {"c": [0.5, 2.0]}, cv=2).fit(_with_missing(X, 0.2, 0))
    assert gs.best_params_ == {"c": 0.5}  # the cost grows with c


def test_feature_names_out_and_n_features_in():
    X = _blobs()
    km = KMeans(3, random_state=0).fit(X)
    assert km.n_features_in_ == 5
    np.testing.assert_array_equal(km.get_feature_names_out(), ["kmeans0", "kmeans1", "kmeans2"])
    m = MissingDataKMeans(2, random_state=0).fit(_with_missing(X, 0.2, 0))
    np.testing.assert_array_equal(m.get_feature_names_out(), ["missingdatakmeans0", "missingdatakmeans1"])
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])


def test_same_result_in_another_process():
    # Deterministic across processes (thread scheduling, hashing): a fit in a fresh
    # interpreter gives the same bytes as here.
    import subprocess
    import sys

    code = (
        "import hashlib, numpy as np\n"
        "from sklearn.datasets import make_blobs\n"
        "from gmmlab.kmeans import KMeans\n"
        "X, _ = make_blobs(3000, centers=6, n_features=5, cluster_std=2.5, random_state=0)\n"
        "w = np.random.RandomState(0).uniform(0.1, 3.0, len(X))\n"
        "km = KMeans(6, init='random', n_init=3, random_state=7).fit(X, sample_weight=w)\n"
        "print(hashlib.sha256(km.cluster_centers_.tobytes() + km.labels_.tobytes()).hexdigest())\n"
    )
    import hashlib

    X = _blobs()
    km = KMeans(6, init="random", n_init=3, random_state=7).fit(X, sample_weight=_weights(len(X)))
    here = hashlib.sha256(km.cluster_centers_.tobytes() + km.labels_.tobytes()).hexdigest()
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert there == here


def _expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "the random start draws from n weighted rows or from the repeated rows: the same seed picks "
            "other starts (scikit-learn's KMeans fails it too); from a fixed start, weight n = n copies: "
            "test_weight_n_is_n_copies"
        ),
    }


from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks(
    [KMeans(n_clusters=2, n_init=2, max_iter=5), MissingDataKMeans(n_clusters=2, n_init=2, max_iter=5)],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tiny data sets, duplicate rows
        check(estimator)
