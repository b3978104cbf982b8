"""Tests of gmmlab.ood: the homework's MLP, its features, the cache and the OOD scores."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gmmlab import ood
from gmmlab.data import load_fashion_mnist, load_mnist, make_gaussian_mixture


@pytest.fixture(autouse=True)
def tiny_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache folder."""
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def mnist_small():
    images, labels = load_mnist("train")
    return np.array(images[:1200]), np.array(labels[:1200])


def _train(images, labels, **kw):
    kw.setdefault("n_epochs", 2)
    kw.setdefault("progress", False)
    return ood.train_mlp(images, labels, **kw)


# --- the network ----------------------------------------------------------------


def test_mlp_is_the_homework_architecture():
    model = ood.MLP()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 128), (128, 64), (64, 10)]
    assert sum(p.numel() for p in model.parameters()) == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    x = torch.rand(5, 28, 28)
    h = model.penultimate(x)
    assert h.shape == (5, 64)
    # The homework's penultimate(x) is layers[:-2](x): Flatten, Linear, ReLU, Linear -- the
    # second linear layer *before* its ReLU, so its values take both signs.
    assert (h < 0).any() and (h > 0).any()
    l1, l2, l3 = linears
    torch.testing.assert_close(h, l2(torch.relu(l1(x.reshape(5, 784)))))
    torch.testing.assert_close(model.hidden1(x), l1(x.reshape(5, 784)))
    torch.testing.assert_close(model.penultimate_relu(x), torch.relu(h))
    torch.testing.assert_close(model(x), l3(torch.relu(h)))


class _HomeworkMLP(torch.nn.Module):
    """The homework's own class, as handed out (Flatten inside the Sequential)."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.layers(x)

    def penultimate(self, x):
        return self.layers[:-2](x)


def test_homework_state_dict_loads_and_gives_the_homework_layer():
    torch.manual_seed(3)
    theirs = _HomeworkMLP()
    ours = ood.MLP()
    ours.load_state_dict(theirs.state_dict())  # strict: same keys, same shapes
    x = torch.rand(7, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(ours.penultimate(x), theirs.penultimate(x), rtol=0, atol=0)
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
    feats = ood.extract_features(ours, x.numpy(), cache=False)
    np.testing.assert_array_equal(feats, theirs.penultimate(x).detach().numpy().astype(np.float64))
    # The post-ReLU values are a different layer: the check above can fail.
    post = ood.extract_features(ours, x.numpy(), layer="penultimate_relu", cache=False)
    assert (post >= 0).all() and not np.array_equal(post, feats)
    # A state_dict of another layout is refused, not silently half-loaded.
    wrong = {k.replace("layers.1.", "layers.0."): v for k, v in theirs.state_dict().items()}
    with pytest.raises(RuntimeError):
        ood.MLP().load_state_dict(wrong)


# --- the original notebook's bug: features on 0..255 pixels ---------------------------


def test_features_use_the_training_scaling(mnist_small):
    images, labels = mnist_small
    model = _train(images, labels, cache=False)
    feats = ood.extract_features(model, images[:300], cache=False)
    with torch.no_grad():
        expected = model.penultimate(torch.from_numpy(images[:300].astype(np.float32) / 255.0))
    np.testing.assert_array_equal(feats, expected.numpy().astype(np.float64))
    # What the original notebook did (0..255 inputs) gives very different features ...
    with torch.no_grad():
        wrong = model.penultimate(torch.from_numpy(images[:300].astype(np.float32))).numpy()
    assert np.abs(wrong - feats).max() > 10 * np.abs(feats).max()
    # ... and gmmlab refuses such floats instead of silently using them.
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ood.extract_features(model, images[:300].astype(np.float32), cache=False)
    # Floats already in [0, 1] (numpy or torch) are the same input as uint8 pixels.
    scaled = images[:300] / 255.0
    np.testing.assert_array_equal(ood.extract_features(model, scaled, cache=False), feats)
    np.testing.assert_array_equal(ood.extract_features(model, torch.from_numpy(scaled), cache=False), feats)


def test_training_uses_the_same_scaling_as_features(mnist_small):
    images, labels = mnist_small
    a = _train(images[:400], labels[:400], n_epochs=1, cache=False)
    b = _train(images[:400] / 255.0, labels[:400], n_epochs=1, cache=False)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        torch.testing.assert_close(va, vb, rtol=0, atol=0)


def test_scale_images():
    x = np.arange(2 * 784, dtype=np.int64).reshape(2, 28, 28) % 256
    out = ood.scale_images(x.astype(np.uint8))
    assert out.dtype == torch.float32 and out.shape == (2, 784)
    np.testing.assert_allclose(out.numpy(), x.reshape(2, 784) / 255.0, rtol=1e-6)
    flat = ood.scale_images(x.reshape(2, 784).astype(np.uint8))
    torch.testing.assert_close(flat, out)


# --- training -------------------------------------------------------------------


def test_training_learns_and_is_reproducible(mnist_small):
    images, labels = mnist_small
    state = torch.get_rng_state()
    threads = torch.get_num_threads()
    a = _train(images[:1000], labels[:1000], n_epochs=4, cache=False, recipe="adam")
    # The caller's torch RNG and thread setting are left as they were.
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    assert a.loss_history_[-1] < a.loss_history_[0] < 2.5
    test_x, test_y = load_mnist("test")
    logits = ood.extract_features(a, test_x[:1000], layer="logits", cache=False)
    assert (logits.argmax(axis=1) == test_y[:1000]).mean() > 0.75
    b = _train(images[:1000], labels[:1000], n_epochs=4, cache=False, recipe="adam")
    c = _train(images[:1000], labels[:1000], n_epochs=4, cache=False, recipe="adam", random_state=1)
    wa, wb, wc = (m.layers[1].weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_adam_recipe_differs_from_homework(mnist_small):
    images, labels = mnist_small
    hw = _train(images[:500], labels[:500], n_epochs=1, cache=False)
    ad = _train(images[:500], labels[:500], n_epochs=1, cache=False, recipe="adam")
    assert ad.recipe_["optimizer"] == "adam" and hw.recipe_["batch_size"] == 32
    assert not torch.equal(hw.layers[1].weight, ad.layers[1].weight)


# --- the cache ------------------------------------------------------------------


def test_second_call_loads_from_cache(mnist_small, tiny_cache, monkeypatch):
    images, labels = mnist_small
    first = _train(images, labels)
    feats = ood.extract_features(first, images)
    assert len(list(tiny_cache.glob("mlp-homework-seed0-*.pt"))) == 1
    assert len(list(tiny_cache.glob("features-penultimate-*.npy"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cache")

    monkeypatch.setattr(ood, "_fit", no_training)
    second = _train(images, labels)
    for (k1, v1), (k2, v2) in zip(first.state_dict().items(), second.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    assert second.loss_history_ == first.loss_history_
    np.testing.assert_array_equal(ood.extract_features(second, images), feats)
    # A different seed, recipe, epoch count or dataset is a different entry: it must train.
    for kwargs in ({"random_state": 1}, {"recipe": "adam"}, {"n_epochs": 1}):
        with pytest.raises(AssertionError, match="trained again"):
            _train(images, labels, **kwargs)
    with pytest.raises(AssertionError, match="trained again"):
        _train(images[:-1], labels[:-1])


def test_truncated_cache_entries_are_recomputed(mnist_small, tiny_cache, monkeypatch):
    images, labels = mnist_small
    first = _train(images, labels)
    feats = ood.extract_features(first, images[:500])
    calls = []
    real_fit = ood._fit

    def counting_fit(*args, **kwargs):
        calls.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(ood, "_fit", counting_fit)
    (weights,) = tiny_cache.glob("mlp-*.pt")
    (features,) = tiny_cache.glob("features-*.npy")
    for path in (weights, features):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        again = _train(images, labels)
    assert calls == [1]
    assert torch.equal(again.layers[3].weight, first.layers[3].weight)  # same seed, same result
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        np.testing.assert_array_equal(ood.extract_features(again, images[:500]), feats)
    # The entries were rewritten whole: loading now is silent and needs no training.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _train(images, labels)
        ood.extract_features(again, images[:500])
    assert calls == [1]
    # A flipped byte (same length) is detected too.
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        _train(images, labels)
    assert calls == [1, 1]
    assert not list(tiny_cache.glob("*.tmp"))


def test_cache_folder_rules(monkeypatch, tmp_path):
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "c"))
    assert ood.cache_dir() == tmp_path / "c"
    monkeypatch.setenv("GMMLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "data" / "cache"))
    with pytest.raises(ValueError, match="GMMLAB_DATA"):
        ood.cache_dir()
    monkeypatch.delenv("GMMLAB_CACHE")
    default = ood.cache_dir()
    assert default.name == "gmmlab" and default.parent.name == ".cache"
    assert tmp_path / "data" not in default.parents


def test_progress_rule(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GMMLAB_PROGRESS", raising=False)  # conftest.py sets it for the whole run
    assert ood._show_progress(None) is True
    monkeypatch.setenv("CI", "true")
    assert ood._show_progress(None) is False
    assert ood._show_progress(True) is True
    monkeypatch.setenv("CI", "0")
    assert ood._show_progress(None) is True
    monkeypatch.setenv("GMMLAB_PROGRESS", "0")  # set for nbval (conftest.py) and .ci/execute.py
    assert ood._show_progress(None) is False
    monkeypatch.delenv("GMMLAB_PROGRESS")
    monkeypatch.setattr("sys.stderr", object())  # a stream without isatty, outside Jupyter
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert ood._show_progress(None) is False
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # inside Jupyter
    assert ood._show_progress(None) is True
    monkeypatch.setenv("GMMLAB_PROGRESS", "0")
    assert ood._show_progress(None) is False


# --- scores ---------------------------------------------------------------------


def test_msp_known_answers():
    np.testing.assert_allclose(ood.msp_score([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]), [1 / 3, 1 / 3])
    np.testing.assert_allclose(ood.msp_score([[np.log(3.0), 0.0]]), [0.75])
    z = np.random.default_rng(0).normal(scale=20, size=(50, 10))
    np.testing.assert_allclose(ood.msp_score(z), torch.softmax(torch.from_numpy(z), 1).max(1).values.numpy())
    assert np.isfinite(ood.msp_score([[1e4, -1e4]])).all()


def test_mahalanobis_known_answer():
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    means = np.array([[0.0, 0.0], [6.0, 3.0], [-5.0, 4.0]])
    y = np.repeat([0, 1, 2], 4000)
    X = means[y] + rng.multivariate_normal(np.zeros(2), cov, size=y.size)
    scorer = ood.MahalanobisScorer().fit(X, y)
    np.testing.assert_allclose(scorer.means_, means, atol=0.06)
    np.testing.assert_allclose(scorer.covariance_, cov, atol=0.06)
    # Exact: the pooled within-class covariance (MLE) and minus the smallest distance.
    centred = X - np.stack([X[y == k].mean(0) for k in range(3)])[y]
    pooled = centred.T @ centred / X.shape[0]
    np.testing.assert_allclose(scorer.covariance_, pooled, rtol=1e-10)
    q = np.array([[0.0, 0.0], [6.0, 3.0], [1.0, -1.0], [30.0, -30.0]])
    expected = -np.min([np.einsum("ij,jk,ik->i", q - m, np.linalg.inv(pooled), q - m) for m in scorer.means_], axis=0)
    np.testing.assert_allclose(ood.mahalanobis_score(q, X, y), expected, rtol=1e-8)
    s = ood.mahalanobis_score(q, X, y)
    assert s[0] > s[2] > s[3] and s[3] < -100


def test_gmm_scorer_one_component_is_the_gaussian_mle():
    rng = np.random.default_rng(1)
    X = rng.multivariate_normal([1.0, -2.0, 50.0], [[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 400.0]], size=3000)
    mu, cov = X.mean(0), np.cov(X.T, bias=True)
    q = rng.normal(size=(20, 3)) * [2, 2, 30] + mu
    expected = multivariate_normal(mu, cov).logpdf(q)
    for standardize in (True, False):
        scorer = ood.GMMScorer(1, standardize=standardize, reg_covar=0.0, estimator=SkGaussianMixture).fit(X)
        np.testing.assert_allclose(scorer.score_samples(q), expected, rtol=1e-6)
        n_params = 3 + 6
        bic = -2 * multivariate_normal(mu, cov).logpdf(X).sum() + n_params * np.log(X.shape[0])
        np.testing.assert_allclose(scorer.bic(X), bic, rtol=1e-8)


def test_gmm_scorer_with_gmmlab_mixture_matches_sklearn():
    X = make_gaussian_mixture(2000, n_components=3, n_features=4, separation=8, random_state=0).X
    q = X[:200] + 0.5
    ours = ood.GMMScorer(3, random_state=0).fit(X)
    ref = ood.GMMScorer(3, random_state=0, estimator=SkGaussianMixture).fit(X)
    assert type(ours.mixture_).__module__ == "gmmlab.mixture"
    np.testing.assert_allclose(ours.score_samples(q), ref.score_samples(q), rtol=1e-3, atol=1e-3)


def test_dead_units_do_not_break_the_scorers():
    rng = np.random.default_rng(2)
    X = np.maximum(rng.normal(size=(1000, 5)), 0.0)
    X[:, 2] = 0.0  # a dead ReLU unit
    y = rng.integers(0, 3, size=1000)
    assert np.isfinite(ood.GMMScorer(2, estimator=SkGaussianMixture).fit(X).score_samples(X)).all()
    assert np.isfinite(ood.mahalanobis_score(X, X, y)).all()


# --- choosing K without OOD data, and the sweep ---------------------------------


@pytest.mark.parametrize("criterion", ["bic", "heldout"])
def test_select_n_components_finds_the_true_k(criterion):
    X = make_gaussian_mixture(1500, n_components=3, n_features=2, separation=10, random_state=3).X
    k = ood.select_n_components(X, [1, 2, 3, 4, 6], criterion=criterion, estimator=SkGaussianMixture)
    assert k == 3


def test_sweep_table():
    s = make_gaussian_mixture(2000, n_components=2, n_features=3, separation=8, random_state=4)
    far = s.X[:500] + 40.0
    rows = []
    table = ood.sweep_n_components(
        s.X[500:], [1, 2, 3], features_in=s.X[:500], features_out=far, estimator=SkGaussianMixture, callback=rows.append
    )
    assert rows == table.rows and table.column("n_components").tolist() == [1, 2, 3]
    assert np.all(table.column("auroc") == 1.0) and np.all(table.column("fpr95") == 0.0)
    assert table.best("bic") == 2 and table.column("heldout_loglik")[1] > table.column("heldout_loglik")[0]
    assert "AUROC" in table.to_string() and len(table.to_string().splitlines()) == 4
    no_ood = ood.sweep_n_components(s.X[500:], [1, 2], estimator=SkGaussianMixture)
    assert no_ood.rows[0]["auroc"] is None
    np.testing.assert_allclose(no_ood.column("bic"), table.column("bic")[:2])
    # A fit subsample changes the BIC (fewer rows) but not the held-out rows.
    sub = ood.sweep_n_components(s.X[500:], [1], max_fit_samples=300, estimator=SkGaussianMixture)
    assert sub.column("bic")[0] < 0.3 * no_ood.column("bic")[0]
    assert abs(sub.column("heldout_loglik")[0] - no_ood.column("heldout_loglik")[0]) < 0.2


def test_sweep_fits_the_k_together_with_the_same_results(monkeypatch):
    """The default sweep fits all K at once (gmmlab.mixture.fit_many): same rows as one K
    after the other, and as scikit-learn; fit times are shares of the joint fit."""
    from gmmlab import mixture

    s = make_gaussian_mixture(2000, n_components=3, n_features=4, separation=6, random_state=5)
    args = (s.X[500:], [1, 2, 3, 5, 8])
    kw = dict(features_in=s.X[:500], features_out=s.X[:500] * 3.0, reg_covar=1e-3, max_fit_samples=900)
    calls = []
    monkeypatch.setattr(ood, "fit_many", lambda ms, X: calls.append(len(ms)) or mixture.fit_many(ms, X))
    rows = []
    together = ood.sweep_n_components(*args, callback=rows.append, **kw)
    assert calls == [5] and rows == together.rows
    one_by_one = ood.sweep_n_components(*args, fit_together=False, **kw)
    reference = ood.sweep_n_components(*args, estimator=SkGaussianMixture, **kw)
    assert calls == [5]  # neither of these fits together
    for name in ("n_components", "n_iter", "converged", "auroc", "fpr95"):
        assert together.column(name).tolist() == one_by_one.column(name).tolist() == reference.column(name).tolist()
    for name in ("heldout_loglik", "bic"):
        np.testing.assert_allclose(together.column(name), one_by_one.column(name), rtol=1e-10)
        np.testing.assert_allclose(together.column(name), reference.column(name), rtol=1e-6)
    times = together.column("fit_time")
    assert np.all(times > 0) and times[-1] > times[0]  # K = 8 does more of the shared work than K = 1


# --- bad input ------------------------------------------------------------------


def test_bad_images_and_labels(mnist_small):
    images, labels = mnist_small
    model = ood.MLP()
    with pytest.raises(ValueError, match="same length"):
        ood.train_mlp(images[:10], labels[:9], cache=False)
    with pytest.raises(ValueError, match="at least one image"):
        ood.train_mlp(images[:0], labels[:0], cache=False)
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28\)"):
        ood.extract_features(model, images[:5, :, :27], cache=False)
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28\)"):
        ood.extract_features(model, images[0], cache=False)
    with pytest.raises(TypeError, match="uint8"):
        ood.extract_features(model, images[:5].astype(np.int64), cache=False)
    with pytest.raises(TypeError, match="uint8"):
        ood.extract_features(model, images[:5] > 0, cache=False)
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        ood.extract_features(model, images[:5].tolist(), cache=False)
    nan_images = images[:5] / 255.0
    nan_images[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ood.extract_features(model, nan_images, cache=False)
    with pytest.raises(ValueError, match="labels"):
        ood.train_mlp(images[:10], labels[:10] + 10, cache=False)
    with pytest.raises(TypeError, match="labels"):
        ood.train_mlp(images[:10], labels[:10].astype(float), cache=False)
    with pytest.raises(ValueError, match="recipe"):
        ood.train_mlp(images[:10], labels[:10], recipe="rmsprop", cache=False)
    with pytest.raises(TypeError, match="random_state"):
        ood.train_mlp(images[:10], labels[:10], random_state=None, cache=False)
    with pytest.raises(ValueError, match="layer"):
        ood.extract_features(model, images[:5], layer="first", cache=False)
    with pytest.raises(TypeError, match="model"):
        ood.extract_features(torch.nn.Linear(784, 10), images[:5], cache=False)


def test_bad_scores_input():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50)
    with pytest.raises(ValueError, match="logits"):
        ood.msp_score([[0.0, np.nan]])
    with pytest.raises(ValueError, match="logits"):
        ood.msp_score(np.zeros((0, 10)))
    with pytest.raises(ValueError, match="2 columns"):
        ood.msp_score(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="y must be"):
        ood.mahalanobis_score(X, X, y[:-1])
    with pytest.raises(ValueError, match="features"):
        ood.mahalanobis_score(X[:, :2], X, y)
    with pytest.raises(ValueError, match="X"):
        ood.mahalanobis_score(np.full((2, 3), np.nan), X, y)
    scorer = ood.GMMScorer(2, estimator=SkGaussianMixture)
    with pytest.raises(ValueError, match="not fitted"):
        scorer.score_samples(X)
    with pytest.raises(ValueError, match="X"):
        scorer.fit(np.vstack([X, [[np.nan, 0.0, 0.0]]]))
    with pytest.raises(ValueError, match="n_components"):
        ood.GMMScorer(0).fit(X)
    scorer.fit(X)
    with pytest.raises(ValueError, match="features"):
        scorer.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="criterion"):
        ood.select_n_components(X, [1, 2], criterion="aic")
    with pytest.raises(ValueError, match="candidates"):
        ood.select_n_components(X, [])
    with pytest.raises(ValueError, match="features_out"):
        ood.sweep_n_components(X, [1], features_in=X)
    with pytest.raises(ValueError, match="validation_fraction"):
        ood.sweep_n_components(X, [1], validation_fraction=1.5)


# --- real data, end to end (small) ------------------------------------------------


def test_small_end_to_end_on_real_data(mnist_small):
    images, labels = mnist_small
    model = _train(images, labels, n_epochs=3, recipe="adam")
    fashion, _ = load_fashion_mnist("test")
    test_x, _ = load_mnist("test")
    train_f = ood.extract_features(model, images)
    f_in, f_out = ood.extract_features(model, test_x[:500]), ood.extract_features(model, fashion[:500])
    table = ood.sweep_n_components(train_f, [1, 2], features_in=f_in, features_out=f_out, estimator=SkGaussianMixture)
    # Even a briefly trained network separates digits from clothes better than chance.
    assert table.column("auroc").min() > 0.8


# --- the submitted solution's sweep, replayed --------------------------------------


def test_sklearn_start_replays_sklearns_fit():
    from sklearn.mixture import GaussianMixture as SkGM

    from gmmlab.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, s, (300, 4)) for c, s in [(0, 1.0), (4, 0.5), (-3, 2.0)]])
    for k in (1, 2, 3, 5):
        ours = GaussianMixture(k, random_state=0, **ood.sklearn_start(X, k, random_state=0)).fit(X)
        theirs = SkGM(k, random_state=0).fit(X)
        assert ours.n_iter_ == theirs.n_iter_
        np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-9)
    # Another seed is another start (the check can fail).
    other = GaussianMixture(5, random_state=0, **ood.sklearn_start(X, 5, random_state=1)).fit(X)
    assert not np.allclose(other.score_samples(X), SkGM(5, random_state=0).fit(X).score_samples(X))


def test_replay_submission_rows():
    from sklearn.mixture import GaussianMixture as SkGM

    rng = np.random.default_rng(1)
    train = np.concatenate([rng.normal(0, 1, (400, 3)), rng.normal(3, 1, (400, 3))])
    t_in, t_out = rng.normal(0, 1, (200, 3)), rng.normal(8, 1, (100, 3))
    rows = ood.replay_submission(train, [1, 2, 3], features_in=t_in, features_out=t_out)
    assert [r["n_components"] for r in rows] == [1, 2, 3]
    for r in rows:
        sk = SkGM(r["n_components"], random_state=0).fit(train)
        assert r["loglik_in"] == pytest.approx(sk.score(t_in), rel=1e-9)
        assert r["delta"] == pytest.approx(sk.score(t_in) - sk.score(t_out), rel=1e-9)
        assert r["bic"] == pytest.approx(sk.bic(train), rel=1e-9)
        assert r["auroc"] > 0.99 and r["fpr95"] == 0.0
    with pytest.raises(ValueError, match="features_out has 2 features"):
        ood.replay_submission(train, [1], features_in=t_in, features_out=t_out[:, :2])
    with pytest.raises(ValueError, match="candidates"):
        ood.replay_submission(train[:5], [9], features_in=t_in, features_out=t_out)
