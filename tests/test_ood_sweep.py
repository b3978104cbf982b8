"""Tests of gmmlab.ood.sweep: the K sweep, choosing K without OOD data, the replayed submission."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gmmlab import mixture, ood
from gmmlab._validation import check_seed
from gmmlab.data import load_fashion_mnist, load_mnist, make_gaussian_mixture
from gmmlab.ood import sweep as sweep_module


@pytest.fixture(autouse=True)
def tiny_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache folder."""
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def count_fit_many(monkeypatch):
    """The sizes of the fit_many calls the sweep makes."""
    calls = []

    def counting(estimators, X):
        calls.append(len(estimators))
        counting.devices = [est.device for est in estimators]
        return mixture.fit_many(estimators, X)

    monkeypatch.setattr(sweep_module, "fit_many", counting)
    return calls


# --- choosing K without OOD data, and the sweep ---------------------------------


@pytest.mark.parametrize("criterion", ["bic", "heldout"])
def test_select_n_components_finds_the_true_k(criterion):
    X = make_gaussian_mixture(1500, n_components=3, n_features=2, separation=10,
                              random_state=3).X
    assert ood.select_n_components(X, [1, 2, 3, 4, 6], criterion=criterion) == 3


def test_sweep_table():
    s = make_gaussian_mixture(2000, n_components=2, n_features=3, separation=8, random_state=4)
    far = s.X[:500] + 40.0
    rows = []
    table = ood.sweep_n_components(s.X[500:], [1, 2, 3], features_in=s.X[:500], features_out=far,
                                   callback=rows.append)
    assert rows == table.rows and table.column("n_components").tolist() == [1, 2, 3]
    assert np.all(table.column("auroc") == 1.0) and np.all(table.column("fpr95") == 0.0)
    heldout = table.column("heldout_loglik")
    assert table.best("bic") == 2 and heldout[1] > heldout[0]
    assert "AUROC" in table.to_string() and len(table.to_string().splitlines()) == 4
    assert str(table) == table.to_string()
    no_ood = ood.sweep_n_components(s.X[500:], [1, 2])
    assert no_ood.rows[0]["auroc"] is None and " - " in no_ood.to_string()
    np.testing.assert_allclose(no_ood.column("bic"), table.column("bic")[:2])
    # A fit subsample changes the BIC (fewer rows) but not the held-out rows.
    sub = ood.sweep_n_components(s.X[500:], [1], max_fit_samples=300)
    assert sub.column("bic")[0] < 0.3 * no_ood.column("bic")[0]
    assert abs(sub.column("heldout_loglik")[0] - no_ood.column("heldout_loglik")[0]) < 0.2
    with pytest.raises(ValueError, match="name must be one of"):
        table.column("aic")
    with pytest.raises(ValueError, match="criterion"):
        table.best("aic")
    with pytest.raises(ValueError, match="no rows"):
        ood.SweepTable().best()


def test_sweep_fits_the_k_together_with_the_same_results(count_fit_many):
    """The default sweep fits all K at once (gmmlab.mixture.fit_many): same rows as one K
    after the other, and as scikit-learn; fit times are shares of the joint fit."""
    s = make_gaussian_mixture(2000, n_components=3, n_features=4, separation=6, random_state=5)
    args = (s.X[500:], [1, 2, 3, 5, 8])
    kw = dict(features_in=s.X[:500], features_out=s.X[:500] * 3.0, reg_covar=1e-3,
              max_fit_samples=900)
    rows = []
    together = ood.sweep_n_components(*args, callback=rows.append, **kw)
    assert count_fit_many == [5] and rows == together.rows
    one_by_one = ood.sweep_n_components(*args, fit_together=False, **kw)
    reference = ood.sweep_n_components(*args, estimator=SkGaussianMixture, **kw)
    assert count_fit_many == [5]  # neither of these fits together
    for name in ("n_components", "n_iter", "converged", "auroc", "fpr95"):
        expected = reference.column(name).tolist()
        assert together.column(name).tolist() == one_by_one.column(name).tolist() == expected
    for name in ("heldout_loglik", "bic"):
        np.testing.assert_allclose(together.column(name), one_by_one.column(name), rtol=1e-10)
        np.testing.assert_allclose(together.column(name), reference.column(name), rtol=1e-6)
    times = together.column("fit_time")
    assert np.all(times > 0) and times[-1] > times[0]  # K = 8 does more of the shared work


def test_fit_scorers_gives_each_scorer_its_own_fit(count_fit_many):
    X = make_gaussian_mixture(700, n_components=3, n_features=3, separation=6,
                              random_state=8).X
    params = [dict(n_components=1), dict(n_components=3, random_state=2),
              dict(n_components=4, tol=1e-4)]
    together = ood.fit_scorers([ood.GMMScorer(**p) for p in params], X)
    assert count_fit_many == [3]
    for scorer, p in zip(together, params):
        alone = ood.GMMScorer(**p).fit(X)
        assert scorer.mixture_.n_iter_ == alone.mixture_.n_iter_
        np.testing.assert_allclose(scorer.score_samples(X), alone.score_samples(X), rtol=1e-10)
        np.testing.assert_array_equal(scorer.scale_, alone.scale_)
    with pytest.raises(TypeError, match="scorers"):
        ood.fit_scorers(ood.GMMScorer(2), X)
    with pytest.raises(TypeError, match=r"scorers\[1\] must be a GMMScorer"):
        ood.fit_scorers([ood.GMMScorer(2), SkGaussianMixture(2)], X)
    with pytest.raises(ValueError, match="only gmmlab's mixture"):
        ood.fit_scorers([ood.GMMScorer(2, estimator=SkGaussianMixture)], X)
    one = ood.GMMScorer(2)
    with pytest.raises(ValueError, match="distinct"):
        ood.fit_scorers([one, one], X)
    with pytest.raises(ValueError, match="share standardize"):
        ood.fit_scorers([ood.GMMScorer(2), ood.GMMScorer(3, standardize=False)], X)
    with pytest.raises(ValueError, match="reg_covar"):
        ood.fit_scorers([ood.GMMScorer(2), ood.GMMScorer(3, reg_covar=-1.0)], X)
    assert count_fit_many == [3]


def test_sweep_passes_scorer_parameters_to_every_k(count_fit_many):
    X = make_gaussian_mixture(400, n_components=2, n_features=3, separation=6,
                              random_state=6).X
    diag = ood.sweep_n_components(X, [1, 2, 3], covariance_type="diag", reg_covar=1e-3)
    full = ood.sweep_n_components(X, [1, 2, 3], reg_covar=1e-3)
    assert count_fit_many == [3, 3]
    # Diagonal covariances are another model: other likelihoods, fewer parameters.
    assert not np.allclose(diag.column("bic"), full.column("bic"))
    assert sweep_module.fit_many.devices == [None] * 3
    on_torch = ood.sweep_n_components(X, [1, 2], reg_covar=1e-3, device="cpu")
    assert sweep_module.fit_many.devices == ["cpu"] * 2
    np.testing.assert_allclose(on_torch.column("bic"), full.column("bic")[:2], rtol=1e-9)


def test_sweep_random_state_none_int_or_randomstate():
    X = make_gaussian_mixture(600, n_components=2, n_features=2, separation=6,
                              random_state=7).X
    seed = check_seed(np.random.RandomState(1))
    from_rs = ood.sweep_n_components(X, [1, 2], random_state=np.random.RandomState(1))
    from_int = ood.sweep_n_components(X, [1, 2], random_state=seed)
    other = ood.sweep_n_components(X, [1, 2], random_state=0)
    assert from_rs.column("heldout_loglik").tolist() == from_int.column("heldout_loglik").tolist()
    assert from_rs.column("heldout_loglik").tolist() != other.column("heldout_loglik").tolist()
    assert len(ood.sweep_n_components(X, [1, 2], random_state=None).rows) == 2


# --- bad input ------------------------------------------------------------------


def test_bad_select_and_sweep_input(count_fit_many):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match="criterion"):
        ood.select_n_components(X, [1, 2], criterion="aic")
    with pytest.raises(ValueError, match="candidates"):
        ood.select_n_components(X, [])
    with pytest.raises(TypeError, match="candidates"):
        ood.sweep_n_components(X, 3)
    with pytest.raises(ValueError, match=r"candidates\[i\]"):
        ood.sweep_n_components(X, [2, 0])
    with pytest.raises(ValueError, match="features_out"):
        ood.sweep_n_components(X, [1], features_in=X)
    with pytest.raises(ValueError, match="features_in has 2 features"):
        ood.sweep_n_components(X, [1], features_in=X[:, :2], features_out=X)
    with pytest.raises(ValueError, match="features"):
        ood.sweep_n_components(X[:1], [1])
    with pytest.raises(ValueError, match="validation_fraction"):
        ood.sweep_n_components(X, [1], validation_fraction=1.5)
    with pytest.raises(TypeError, match="validation_fraction"):
        ood.sweep_n_components(X, [1], validation_fraction="0.2")
    with pytest.raises(ValueError, match="too few rows"):
        ood.sweep_n_components(X[:3], [1], validation_fraction=0.1)
    with pytest.raises(ValueError, match="max_fit_samples"):
        ood.sweep_n_components(X, [1], max_fit_samples=1)
    with pytest.raises(TypeError, match="random_state"):
        ood.sweep_n_components(X, [1], random_state="0")
    with pytest.raises(TypeError, match="callback"):
        ood.sweep_n_components(X, [1], callback=3)
    with pytest.raises(TypeError, match="fit_together"):
        ood.sweep_n_components(X, [1], fit_together="yes")
    with pytest.raises(TypeError, match="set by the sweep"):
        ood.sweep_n_components(X, [1], n_components=3)
    # The scorers' parameters are checked before any mixture is fitted.
    with pytest.raises(ValueError, match="covariance_type"):
        ood.sweep_n_components(X, [1, 2], covariance_type="round")
    with pytest.raises(ValueError, match="device"):
        ood.sweep_n_components(X, [1, 2], device="no-such-device")
    with pytest.raises(ValueError, match="takes no device"):
        ood.sweep_n_components(X, [1, 2], device="cpu", estimator=SkGaussianMixture)
    assert count_fit_many == []


# --- real data, end to end (small) ------------------------------------------------


def test_small_end_to_end_on_real_data():
    images, labels = load_mnist("train")
    images, labels = np.array(images[:1200]), np.array(labels[:1200])
    model = ood.train_mlp(images, labels, n_epochs=3, recipe="adam", progress=False)
    fashion, _ = load_fashion_mnist("test")
    test_x, _ = load_mnist("test")
    train_f = ood.extract_features(model, images)
    f_in = ood.extract_features(model, test_x[:500])
    f_out = ood.extract_features(model, fashion[:500])
    table = ood.sweep_n_components(train_f, [1, 2], features_in=f_in, features_out=f_out)
    # Even a briefly trained network separates digits from clothes better than chance.
    assert table.column("auroc").min() > 0.8


# --- the submitted solution's sweep, replayed --------------------------------------


def test_sklearn_start_replays_sklearns_fit():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, s, (300, 4)) for c, s in [(0, 1.0), (4, 0.5), (-3, 2.0)]])
    for k in (1, 2, 3, 5):
        start = ood.sklearn_start(X, k, random_state=0)
        ours = mixture.GaussianMixture(k, random_state=0, **start).fit(X)
        theirs = SkGaussianMixture(k, random_state=0).fit(X)
        assert ours.n_iter_ == theirs.n_iter_
        np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-9)
    # Another seed is another start (the check can fail).
    other = mixture.GaussianMixture(5, random_state=0, **ood.sklearn_start(X, 5, random_state=1))
    assert not np.allclose(other.fit(X).score_samples(X),
                           SkGaussianMixture(5, random_state=0).fit(X).score_samples(X))
    # A RandomState reaches scikit-learn's KMeans unchanged, as in scikit-learn's own fit.
    from_rs = ood.sklearn_start(X, 3, random_state=np.random.RandomState(4))
    np.testing.assert_array_equal(from_rs["means_init"],
                                  ood.sklearn_start(X, 3, random_state=4)["means_init"])
    with pytest.raises(TypeError, match="random_state"):
        ood.sklearn_start(X, 3, random_state="4")
    with pytest.raises(ValueError, match="n_components"):
        ood.sklearn_start(X, 0)
    with pytest.raises(ValueError, match="at most the number of samples"):
        ood.sklearn_start(X[:2], 3)
    with pytest.raises(ValueError, match="reg_covar"):
        ood.sklearn_start(X, 2, reg_covar=-1.0)


def test_replay_submission_rows():
    rng = np.random.default_rng(1)
    train = np.concatenate([rng.normal(0, 1, (400, 3)), rng.normal(3, 1, (400, 3))])
    t_in, t_out = rng.normal(0, 1, (200, 3)), rng.normal(8, 1, (100, 3))
    rows = ood.replay_submission(train, [1, 2, 3], features_in=t_in, features_out=t_out)
    assert [r["n_components"] for r in rows] == [1, 2, 3]
    for r in rows:
        sk = SkGaussianMixture(r["n_components"], random_state=0).fit(train)
        assert r["loglik_in"] == pytest.approx(sk.score(t_in), rel=1e-9)
        assert r["delta"] == pytest.approx(sk.score(t_in) - sk.score(t_out), rel=1e-9)
        assert r["bic"] == pytest.approx(sk.bic(train), rel=1e-9)
        assert r["auroc"] > 0.99 and r["fpr95"] == 0.0
    with pytest.raises(ValueError, match="features_out has 2 features"):
        ood.replay_submission(train, [1], features_in=t_in, features_out=t_out[:, :2])
    with pytest.raises(ValueError, match="candidates"):
        ood.replay_submission(train[:5], [9], features_in=t_in, features_out=t_out)
    with pytest.raises(TypeError, match="random_state"):
        ood.replay_submission(train, [1], features_in=t_in, features_out=t_out, random_state=0.5)


# --- issue 18: bad input never passes silently ------------------------------------


def _row(k, bic, heldout=-1.0):
    return {"n_components": k, "heldout_loglik": heldout, "bic": bic, "auroc": None,
            "fpr95": None, "fit_time": 0.0, "n_iter": 1, "converged": True}


def test_best_never_picks_a_row_whose_value_is_nan():
    table = ood.SweepTable([_row(1, np.nan, np.nan), _row(2, 5.0, -3.0), _row(3, 7.0, -4.0)])
    # What np.argmin/np.argmax did: the NaN row (K = 1).
    assert int(np.argmin(table.column("bic"))) == 0
    assert int(np.argmax(table.column("heldout_loglik"))) == 0
    with pytest.warns(RuntimeWarning, match=r"K = \[1\] skipped, their bic is NaN"):
        assert table.best("bic") == 2
    with pytest.warns(RuntimeWarning, match="heldout_loglik is NaN"):
        assert table.best("heldout") == 2
    with pytest.raises(ValueError, match="rows: every row's bic is NaN"):
        ood.SweepTable([_row(1, np.nan), _row(2, np.nan)]).best()
    # Without NaN: the first lowest BIC, as before.
    assert ood.SweepTable([_row(1, 3.0), _row(2, 1.0), _row(3, 1.0)]).best() == 2


def test_sweep_table_rows_are_checked():
    with pytest.raises(TypeError, match="rows must be a list of dicts"):
        ood.SweepTable("abc")
    with pytest.raises(TypeError, match=r"rows\[0\] must be a dict"):
        ood.SweepTable([1])
    with pytest.raises(ValueError, match=r"rows\[0\] lacks the columns \['heldout_loglik'"):
        ood.SweepTable([{"n_components": 1}])
    with pytest.raises(TypeError, match=r"rows\[0\]\['bic'\] must be a number, got '10'"):
        ood.SweepTable([{**_row(1, 1.0), "bic": "10"}])
    # Rows appended later are checked by column, best and to_string.
    table = ood.SweepTable([_row(1, 1.0)])
    table.rows.append({**_row(2, 1.0), "heldout_loglik": None})
    for call in (lambda: table.column("bic"), table.best, table.to_string):
        with pytest.raises(TypeError, match=r"rows\[1\]\['heldout_loglik'\]"):
            call()
    assert ood.SweepTable((_row(1, 1.0),)).rows == [_row(1, 1.0)]  # a tuple becomes a list


def test_too_many_components_blame_candidates_before_any_fit(count_fit_many):
    X = np.random.default_rng(0).normal(size=(40, 3))
    # 40 rows less the held-out 20 %: 32 rows to fit on.
    with pytest.raises(ValueError, match=r"candidates: K = \[100\] more than the 32 rows"):
        ood.sweep_n_components(X, [1, 100])
    with pytest.raises(ValueError, match=r"candidates: K = \[12\] .*max_fit_samples=10"):
        ood.sweep_n_components(X, [1, 12], max_fit_samples=10)
    with pytest.raises(ValueError, match="candidates"):
        ood.select_n_components(X, [100])
    assert count_fit_many == []
    assert len(ood.sweep_n_components(X, [32], reg_covar=1e-3, max_iter=5).rows) == 1


def test_sweep_errors_name_the_sweeps_arguments():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match=r"^features has entries as large as"):
        ood.sweep_n_components(X * 1e300, [1, 2])
    with pytest.raises(ValueError, match=r"^features_in has entries as large as"):
        ood.sweep_n_components(X, [1, 2], features_in=X * 1e300, features_out=X)
    with pytest.raises(ValueError, match=r"^features has entries as large as"):
        ood.replay_submission(X * 1e300, [1], features_in=X, features_out=X)
    with pytest.raises(ValueError, match=r"^features_out has entries as large as"):
        ood.replay_submission(X, [1], features_in=X, features_out=X * 1e300)
    # An error of the mixture about its X is an error about the sweep's features.
    with pytest.raises(ValueError, match=r"^features \(given to the mixture as X\): "):
        ood.sweep_n_components(X * 1e-300, [1, 2])
    with pytest.raises(ValueError, match=r"^X has entries as large as"):
        ood.sklearn_start(X * 1e300, 2)
