"""gmmlab.plotting: the image grid and the book's deterministic style."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gmmlab.plotting import BOOK_STYLE, show_images, use_book_style


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_grid_of_nine_with_labels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    fig = show_images(images, labels=range(12), n=9, label_format="Label: {}")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"Label: {i}" for i in range(9)]
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), images[4])
    plt.close(fig)


def test_flat_rows_and_class_names():
    fig = show_images(np.zeros((3, 784)), [2, 0, 1], n=3, class_names=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["c", "a", "b"]
    assert fig.axes[0].images[0].get_array().shape == (28, 28)
    plt.close(fig)


def test_same_figure_renders_byte_identically():
    use_book_style()
    images = np.arange(9 * 28 * 28).reshape(9, 28, 28) % 255
    first = _png(show_images(images, range(9), title="MNIST"))
    second = _png(show_images(images, range(9), title="MNIST"))
    assert first == second
    assert plt.rcParams["figure.dpi"] == BOOK_STYLE["figure.dpi"]


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.zeros((4, 10)),), {}, "not square"),
        ((np.zeros((4, 2, 2, 2)),), {}, "shape"),
        ((np.zeros((4, 28, 28)), [1, 2]), {"n": 4}, "labels"),
        ((np.zeros((4, 28, 28)),), {"n": 0}, "n == 0, must be >= 1"),
    ],
)
def test_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        show_images(*args, **kwargs)


# -- Gaussian mixtures and EM: ellipses, contours, the EM animation ------------------------

from gmmlab.plotting import (  # noqa: E402
    ellipse_parameters,
    em_animation,
    full_covariances,
    plot_covariance_ellipses,
    plot_density_contours,
    responsibility_colors,
)


def test_ellipse_axes_are_the_covariance_eigendecomposition():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(2, 2))
    cov = A @ A.T + 0.1 * np.eye(2)
    center, width, height, angle = ellipse_parameters([1.0, -2.0], cov, n_std=2.0)
    eigval, eigvec = np.linalg.eigh(cov)
    np.testing.assert_allclose([width, height], 4.0 * np.sqrt(eigval[::-1]))
    # the major axis direction is the top eigenvector (up to sign)
    direction = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    np.testing.assert_allclose(abs(direction @ eigvec[:, 1]), 1.0, atol=1e-12)
    # the ellipse's points satisfy (x - mu)^T Sigma^-1 (x - mu) = n_std^2
    t = np.linspace(0, 2 * np.pi, 7)
    a, b = width / 2, height / 2
    minor = np.array([-direction[1], direction[0]])
    pts = center + np.outer(a * np.cos(t), direction) + np.outer(b * np.sin(t), minor)
    d = pts - center
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4.0)


def test_plotted_ellipses_match_the_covariances():
    means = np.array([[0.0, 0.0], [3.0, 1.0]])
    covs = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, -0.3], [-0.3, 0.5]]])
    fig, ax = plt.subplots()
    patches = plot_covariance_ellipses(ax, means, covs, n_std=(1.0, 2.0))
    assert len(patches) == 4
    for k in range(2):
        for j, r in enumerate((1.0, 2.0)):
            e = patches[2 * k + j]
            _, w, h, angle = ellipse_parameters(means[k], covs[k], r)
            np.testing.assert_allclose([e.width, e.height, e.angle], [w, h, angle])
            np.testing.assert_allclose(e.center, means[k])
    plt.close(fig)


@pytest.mark.parametrize(
    "covariance_type, covs",
    [("tied", np.array([[2.0, 0.3], [0.3, 1.0]])), ("diag", np.array([[1.0, 2.0], [3.0, 4.0]])),
     ("spherical", np.array([0.5, 2.0]))],
)
def test_full_covariances_per_type(covariance_type, covs):
    full = full_covariances(covs, 2, 2, covariance_type)
    assert full.shape == (2, 2, 2)
    if covariance_type == "tied":
        np.testing.assert_array_equal(full[0], covs)
        np.testing.assert_array_equal(full[1], covs)
    elif covariance_type == "diag":
        np.testing.assert_array_equal(full[1], np.diag(covs[1]))
    else:
        np.testing.assert_array_equal(full[1], 2.0 * np.eye(2))


def test_density_contours_levels_follow_the_function():
    fig, ax = plt.subplots()
    cs = plot_density_contours(ax, lambda P: -0.5 * (P**2).sum(axis=1), (-2, 2), (-2, 2),
                               n_grid=50, levels=[-1.0, -0.5])
    np.testing.assert_allclose(cs.levels, [-1.0, -0.5])
    # the level -0.5 is the unit circle
    seg = np.concatenate([p.vertices for p in cs.get_paths()[1:2]])
    np.testing.assert_allclose(np.hypot(seg[:, 0], seg[:, 1]), 1.0, atol=0.01)
    plt.close(fig)


def test_responsibility_colors_mix_the_component_colours():
    rgb = responsibility_colors(np.array([[1.0, 0.0], [0.5, 0.5]]), colors=["red", "blue"])
    np.testing.assert_allclose(rgb, [[1, 0, 0], [0.5, 0, 0.5]])
    with pytest.raises(ValueError, match="resp must be >= 0 and sum to 1"):
        responsibility_colors(np.array([[0.7, 0.7]]))


def _frames(n_frames):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    frames = []
    for i in range(n_frames):
        resp = rng.dirichlet([1.0, 1.0], size=40)
        frames.append({"resp": resp, "means": np.array([[0.0, 0.0], [1.0, i / 5]]),
                       "covariances": np.array([np.eye(2), 0.5 * np.eye(2)]),
                       "title": f"{i}", "iteration": i})
    return X, frames


def test_em_animation_is_deterministic_with_the_expected_frames():
    use_book_style()
    X, frames = _frames(4)
    kwargs = dict(log_likelihoods=np.linspace(-3, -2, 4), dpi=30, html_id="em_test")
    first = em_animation(X, frames, **kwargs).data
    second = em_animation(X, frames, **kwargs).data
    assert first == second
    assert "var frames = new Array(4);" in first
    assert first.count("data:image/png;base64,") == 4
    assert 'id="_anim_imgem_test"' in first and "anim_imgem_test" in first
    # no random uuid left in any element id or JavaScript name
    import re

    assert not re.search(r"anim[A-Za-z0-9_]*[0-9a-f]{32}", first)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"frames": []}, "empty"), ({"html_id": "bad id"}, "html_id"),
     ({"log_likelihoods": [0.0], "drop_iteration": True}, "iteration")],
)
def test_em_animation_bad_input(kwargs, match):
    X, frames = _frames(1)
    kwargs = dict(kwargs)
    if kwargs.pop("drop_iteration", False):
        del frames[0]["iteration"]
    kwargs.setdefault("frames", frames)
    with pytest.raises(ValueError, match=match):
        em_animation(X, **kwargs)


def test_ellipse_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        ellipse_parameters([0, 0, 0], np.eye(3))
    with pytest.raises(ValueError, match="semi-definite"):
        ellipse_parameters([0, 0], [[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="covariance_type"):
        full_covariances(np.eye(2), 1, 2, "round")


# -- K-means figures (chapters 02_kmeans and 03_kmeans_mnist) ----------------------------

from gmmlab.kmeans import lloyd_step  # noqa: E402
from gmmlab.plotting import plot_contingency, plot_lloyd_iterations, show_centroids, show_clusters  # noqa: E402


def test_lloyd_iterations_costs_match_lloyd_steps_and_never_increase():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, 0.5, size=(40, 2)) for c in ([0, 0], [5, 0], [0, 5])])
    init = X[[0, 1, 2]]  # three points of the same blob: a poor start
    fig = plot_lloyd_iterations(X, init, steps=(0, 1, 3), title_format="it {it} cost {cost:.2f}",
                                xlabel="x1", ylabel="x2", center_label="centres")
    centers, expected = init, []
    for it in range(4):
        new, _, cost = lloyd_step(X, centers)
        if it in (0, 1, 3):
            expected.append(cost)
        centers = new
    np.testing.assert_allclose(fig.lloyd_costs, expected)
    assert all(b <= a + 1e-9 for a, b in zip(fig.lloyd_costs, fig.lloyd_costs[1:]))
    assert fig.lloyd_costs[-1] < fig.lloyd_costs[0]
    assert [ax.get_title() for ax in fig.axes] == [f"it {it} cost {c:.2f}" for it, c in zip((0, 1, 3), expected)]
    assert fig.axes[0].get_ylabel() == "x2" and fig.axes[2].get_xlabel() == "x1"
    assert fig.axes[-1].get_legend().get_texts()[0].get_text() == "centres"
    plt.close(fig)


def test_show_clusters_draws_members_of_each_cluster_reproducibly():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 784), dtype=np.uint8)
    labels = np.repeat([0, 1, 2], [30, 15, 5])
    fig = show_clusters(images, labels, n_per_cluster=9, random_state=3, row_label_format="c{k} n={n}")
    assert len(fig.axes) == 27
    sizes = [len(i) for i in fig.cluster_indices]
    assert sizes == [9, 9, 5]  # the smallest cluster has only 5 images
    for k, idx in enumerate(fig.cluster_indices):
        assert np.all(labels[idx] == k) and len(set(idx.tolist())) == len(idx)
        first_img = fig.axes[9 * k].images[0].get_array()
        np.testing.assert_array_equal(first_img, images[idx[0]].reshape(28, 28))
    assert fig.axes[18].get_ylabel() == "c2 n=5"
    assert not fig.axes[26].images  # padding cell stays empty
    again = show_clusters(images, labels, n_per_cluster=9, random_state=3, row_labels=["a", "b", "c"])
    assert [again.axes[9 * k].get_ylabel() for k in range(3)] == ["a", "b", "c"]
    assert all(np.array_equal(a, b) for a, b in zip(fig.cluster_indices, again.cluster_indices))
    plt.close("all")


def test_show_centroids_titles_and_symmetric_scale():
    centers = np.zeros((3, 784))
    centers[1, 0] = 2.0
    centers[1, 1] = -0.5
    fig = show_centroids(centers, titles=["a", "b", "c"], ncols=2, title="T")
    assert len(fig.axes) == 4 and [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert fig.axes[1].images[0].get_clim() == (-2.0, 2.0)
    assert not fig.axes[3].images
    plt.close(fig)


def test_plot_contingency_counts_and_labels():
    table = np.array([[90, 10], [0, 0], [3, 7]])
    fig = plot_contingency(table, row_labels=["A", "B", "C"], col_labels=["x", "y"], xlabel="chiffre",
                           ylabel="groupe", title="titre", colorbar_label="part")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["90", "10", "0", "0", "3", "7"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("chiffre", "groupe", "titre")
    np.testing.assert_allclose(ax.images[0].get_array()[0], [0.9, 0.1])  # row shares
    np.testing.assert_allclose(ax.images[0].get_array()[1], [0.0, 0.0])  # empty row: no NaN
    plt.close(fig)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plot_lloyd_iterations(np.zeros((5, 3)), np.zeros((2, 3))), "X must have shape"),
        (lambda: plot_lloyd_iterations(np.zeros((5, 2)), np.zeros((6, 2))), "init must have shape"),
        (lambda: plot_lloyd_iterations(np.zeros((5, 2)), np.zeros((2, 2)), steps=(2, 1)), "steps"),
        (lambda: show_clusters(np.zeros((4, 784)), [0, 1, 0]), "labels must be"),
        (lambda: show_clusters(np.zeros((4, 784)), [0.0, 1.0, 0.0, 1.0]), "labels must be"),
        (lambda: show_clusters(np.zeros((4, 784)), [0, 1, 0, 1], n_per_cluster=0), "n_per_cluster"),
        (lambda: show_clusters(np.zeros((4, 784)), [0, 1, 0, 1], row_labels=["a"]), "row_labels"),
        (lambda: show_centroids(np.zeros((3, 10))), "not square"),
        (lambda: show_centroids(np.zeros((3, 784)), titles=["a"]), "titles"),
        (lambda: plot_contingency([1, 2]), "2-D"),
        (lambda: plot_contingency([[1, -2]]), "non-negative"),
        (lambda: plot_contingency([[1, 2]], row_labels=["a", "b"]), "row_labels"),
        (lambda: plot_contingency([[1, np.nan]]), "finite"),
        (lambda: show_centroids(np.full((3, 784), np.nan)), "finite"),
        (lambda: show_clusters(np.full((4, 784), np.inf), [0, 1, 0, 1]), "finite"),
        (lambda: plot_lloyd_iterations(np.full((5, 2), np.nan), np.zeros((2, 2))), "NaN"),
    ],
)
def test_kmeans_figures_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    plt.close("all")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: show_images("abc"), TypeError, "images must be a numeric array"),
        (lambda: show_images(np.full((2, 784), np.nan)), ValueError, "finite"),
        (lambda: full_covariances(np.ones(2), "2", 2, "spherical"), TypeError, "n_components"),
        (lambda: full_covariances(np.ones(2), 2, 0, "spherical"), ValueError, "n_features"),
        (lambda: full_covariances(np.array([-1.0, 1.0]), 2, 2, "spherical"), ValueError, "variances"),
        (lambda: full_covariances(np.ones((2, 3)), 2, 2, "diag"), ValueError, r"shape \(2, 2\)"),
        (lambda: full_covariances(np.ones(2), 2, 2, "round"), ValueError, "covariance_type"),
        (lambda: ellipse_parameters([0, 0], [[1, 2], [2, 1]]), ValueError, "positive semi-definite"),
        (lambda: ellipse_parameters([0, 0, 0], np.eye(2)), ValueError, "2-D"),
        (lambda: ellipse_parameters([0, 0], np.eye(2), n_std=-1), ValueError, "n_std"),
        (lambda: plot_covariance_ellipses(None, np.zeros((2, 2)), np.stack([np.eye(2)] * 3)),
         ValueError, "covariances must have shape"),
        (lambda: responsibility_colors(np.full((3, 2), np.nan)), ValueError, "NaN"),
        (lambda: responsibility_colors(np.full((3, 2), 0.5), colors=["red"]), ValueError, "colors"),
        (lambda: em_animation(np.zeros((3, 2)), []), ValueError, "frames is empty"),
    ],
)
def test_mixture_figures_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
    plt.close("all")


def test_book_style_writes_decimal_commas():
    import matplotlib.pyplot as plt

    from gmmlab.plotting import DecimalCommaFormatter, use_book_style

    use_book_style()
    fig, ax = plt.subplots()
    ax.plot([0.0, 0.5, 1.5], [2e-3, 1e-3, 2.5e-3])
    fig.canvas.draw()
    xt = [t.get_text() for t in ax.get_xticklabels()]
    yt = [t.get_text() for t in ax.get_yticklabels()]
    assert isinstance(ax.xaxis.get_major_formatter(), DecimalCommaFormatter)
    assert any("," in t for t in xt) and not any("." in t for t in xt + yt), (xt, yt)
    assert "0,4" in xt and "\u22120,2" in xt
    # An axis given its own formatter keeps it.
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1f}"))
    fig.canvas.draw()
    assert all("." in t for t in (t.get_text() for t in ax.get_yticklabels()) if t)
    plt.close(fig)


# -- issue #18: bad input never passes silently ---------------------------------------------

import time  # noqa: E402

import matplotlib  # noqa: E402

IMG = np.zeros((6, 4, 4))


def _close():
    plt.close("all")


@pytest.mark.parametrize("ncols", [0, -3, 2.7, True])
def test_show_images_refuses_a_nonsense_ncols(ncols):
    # the old code drew max(1, min(int(ncols), n)) columns: 1, 1, 2 and 1
    assert max(1, min(int(ncols), 3)) >= 1
    with pytest.raises((ValueError, TypeError), match=r"\bncols\b"):
        show_images(IMG, n=3, ncols=ncols)
    _close()


@pytest.mark.parametrize("size", [0, -1.0, float("inf"), "1"])
def test_show_images_refuses_a_nonsense_size(size):
    with pytest.raises((ValueError, TypeError), match=r"\bsize\b"):
        show_images(IMG, n=3, size=size)
    _close()


def test_label_minus_one_no_longer_wraps_to_the_last_class_name():
    names = ["a", "b", "c"]
    assert names[int(-1)] == "c"  # what the old code showed
    with pytest.raises(ValueError, match=r"labels\[1\] = -1.*0 \.\. 2"):
        show_images(IMG, [0, -1, 1], n=3, class_names=names)
    for bad in ([0, 3, 1], [0, 1.5, 1], ["0", "1", "2"]):
        with pytest.raises(ValueError, match="labels"):
            show_images(IMG, bad, n=3, class_names=names)
    # valid indices (uint8, integral floats) still give the names
    fig = show_images(IMG, np.array([2, 0, 1], np.uint8), n=3, class_names=names)
    assert [ax.get_title() for ax in fig.axes] == ["c", "a", "b"]
    _close()


def test_show_images_unclear_errors_now_name_their_argument():
    with pytest.raises(ValueError, match="label_format"):  # was IndexError
        show_images(IMG, [0, 1, 2], n=3, label_format="{} {}")
    with pytest.raises(ValueError, match="class_names"):  # was silently ignored
        show_images(IMG, n=3, class_names=["a"])
    with pytest.raises(TypeError, match="labels"):  # a str: its characters were the labels
        show_images(IMG, "abc", n=3)


def test_ellipse_helpers_refuse_nan_means_and_negative_weights():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    with pytest.raises(ValueError, match=r"\bmean\b.*finite"):
        ellipse_parameters([np.nan, 0.0], cov)
    with pytest.raises(ValueError, match=r"\bmean\b.*finite"):
        ellipse_parameters([0.0, np.inf], cov)
    means, covs = np.zeros((2, 2)), np.stack([cov, cov])
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"\bmeans\b"):
        plot_covariance_ellipses(ax, [[np.nan, 0.0], [1.0, 1.0]], covs)
    weights = np.array([-0.5, 1.5])
    assert 1.5 * (0.5 + 2.5 * weights[0]) < 0  # the old line width of component 0
    with pytest.raises(ValueError, match=r"\bweights\b.*>= 0"):
        plot_covariance_ellipses(ax, means, covs, weights=weights)
    with pytest.raises(ValueError, match=r"\bweights\b"):
        plot_covariance_ellipses(ax, means, covs, weights=[np.nan, 1.0])
    assert not ax.patches and not ax.lines  # refused before anything was drawn
    with pytest.raises(TypeError, match=r"\bcolors\b"):  # a single colour name
        plot_covariance_ellipses(ax, means, covs, colors="red")
    with pytest.raises(TypeError, match=r"\bax\b"):  # was AttributeError
        plot_covariance_ellipses(None, means, covs)
    with pytest.raises(ValueError, match=r"covariances.*positive semi-definite"):
        full_covariances(np.array([[1.0, 2.0], [2.0, 1.0]]), 2, 2, "tied")
    with pytest.raises(ValueError, match=r"\bn_components\b"):  # was MemoryError
        full_covariances(np.eye(2), 10**12, 2, "tied")
    _close()


def test_density_contours_refuse_a_one_number_xlim():
    assert np.linspace(*(1,), 150)[[0, -1]].tolist() == [1.0, 150.0]  # the old grid
    fig, ax = plt.subplots()
    for bad in [(1,), (1, 2, 3), (1.0, 1.0), (0.0, np.nan), "ab", 2.0]:
        with pytest.raises((ValueError, TypeError), match=r"\bxlim\b"):
            plot_density_contours(ax, lambda P: -(P**2).sum(axis=1), bad, (-2, 2), n_grid=10)
    with pytest.raises(ValueError, match=r"\blog_density\b"):
        plot_density_contours(ax, lambda P: np.full(len(P), np.nan), (-2, 2), (-2, 2), n_grid=10)
    with pytest.raises(ValueError, match=r"\blevels\b"):
        plot_density_contours(ax, lambda P: -(P**2).sum(axis=1), (-2, 2), (-2, 2), n_grid=10, levels=[0, -1])
    _close()


@pytest.mark.parametrize("change, match", [
    ({"iteration": 99}, r"frames\[0\]\['iteration'\] == 99, must be <= 3"),
    ({"iteration": 1.5}, r"frames\[0\]\['iteration'\] must be an integer"),
    ({"interval": -1}, r"interval == -1, must be >= 1"),
    ({"interval": 0}, r"interval == 0, must be >= 1"),  # was ZeroDivisionError
])
def test_em_animation_refuses_iteration_99_and_interval_minus_1(change, match):
    X, frames = _frames(1)
    change = dict(change)
    if "iteration" in change:
        frames[0]["iteration"] = change.pop("iteration")
    with pytest.raises((ValueError, TypeError), match=match):
        em_animation(X, frames, log_likelihoods=np.linspace(-3, -2, 4), dpi=10, **change)


def test_lloyd_iterations_refuse_fractional_steps():
    assert [int(s) for s in [0.5, 1.7]] == [0, 1]  # what the old code ran
    X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    with pytest.raises(TypeError, match=r"steps\[0\] must be an integer, got 0\.5"):
        plot_lloyd_iterations(X, X[[0, 1]], steps=[0.5, 1.7])
    with pytest.raises(ValueError, match=r"steps\[1\]"):
        plot_lloyd_iterations(X, X[[0, 1]], steps=[0, 10**9])  # would run 10**9 steps
    with pytest.raises(ValueError, match=r"\bX\b.*rescale"):
        plot_lloyd_iterations(X * 1e300, X[[0, 1]] * 1e300, steps=[0, 1])
    fig = plot_lloyd_iterations(X, X[[0, 1]], steps=np.array([0, 1]))  # numpy ints still fine
    assert [round(c, 3) for c in fig.lloyd_costs] == [32.0, 16.0]
    _close()


def test_show_clusters_refuses_a_label_of_20000_at_once():
    images = np.zeros((30_000, 2, 2))
    labels = np.arange(30_000) % 3
    labels[-1] = 20_000  # the old code built a 20 001 x 3 grid of axes (minutes)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"\blabels\b.*20000"):
        show_clusters(images, labels, n_per_cluster=3)
    assert time.perf_counter() - start < 2.0
    assert not plt.get_fignums()
    small = np.zeros((6, 4, 4))
    with pytest.raises(ValueError, match=r"labels holds the cluster index 7, but there are only 6"):
        show_clusters(small, [0, 1, 0, 1, 0, 7])
    with pytest.raises(TypeError, match=r"\brandom_state\b"):  # was numpy's SeedSequence error
        show_clusters(small, [0, 1, 0, 1, 0, 1], random_state="x")
    with pytest.raises(ValueError, match=r"\brow_label_format\b"):  # was KeyError
        show_clusters(small, [0, 1, 0, 1, 0, 1], row_label_format="{cluster}")
    fig = show_clusters(small, [0, 1, 0, 1, 0, 1], n_per_cluster=2, random_state=np.random.default_rng(0))
    assert len(fig.axes) == 4
    _close()


def test_centroids_and_contingency_name_their_arguments():
    with pytest.raises(ValueError, match=r"\bcmap\b"):
        show_centroids(np.zeros((2, 16)), cmap="bogus")
    with pytest.raises(TypeError, match=r"\btitles\b"):
        show_centroids(np.zeros((3, 16)), titles="abc")
    with pytest.raises(TypeError, match=r"\bax\b"):  # was AttributeError
        plot_contingency([[1, 2]], ax="ax")
    with pytest.raises(ValueError, match=r"\btable\b"):
        plot_contingency(np.ones((200, 200)))
    _close()


def test_decimal_comma_formatter_checks_its_arguments():
    from gmmlab.plotting import DecimalCommaFormatter

    with pytest.raises(TypeError, match="useOffset"):
        DecimalCommaFormatter(useOffset="yes")
    with pytest.raises(TypeError, match="useMathText"):
        DecimalCommaFormatter(useMathText="yes")
    assert isinstance(DecimalCommaFormatter(useOffset=np.True_), matplotlib.ticker.ScalarFormatter)
