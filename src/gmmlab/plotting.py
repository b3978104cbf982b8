"""Figures that the chapters repeat, styled once for the whole book.

Every chapter calls :func:`use_book_style` in its first code cell, so that fonts,
sizes and colours agree across pages and figures render byte-identically from one
run to the next (fixed DPI, no timestamps in the files), and so that tick labels carry
the decimal comma of both the book's languages (:class:`DecimalCommaFormatter`).

Used by every chapter, first by "Données : MNIST et FashionMNIST" /
"Dados: MNIST e FashionMNIST" (``book/*/01_data``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.scale
import matplotlib.ticker
import numpy as np

from ._validation import (
    check_array_shape,
    check_data,
    check_int,
    check_simplex,
    covariance_shape,
    to_numpy,
)

__all__ = ["BOOK_STYLE", "DecimalCommaFormatter", "use_book_style", "show_images"]

#: rcParams applied by :func:`use_book_style`.
BOOK_STYLE: dict = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (6.0, 4.0),
    "figure.constrained_layout.use": True,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=plt.get_cmap("tab10").colors),
    "image.cmap": "gray_r",
    "image.interpolation": "nearest",
    "svg.hashsalt": "gmmlab",  # stable ids in SVG output
    "path.simplify": True,
}


class DecimalCommaFormatter(matplotlib.ticker.ScalarFormatter):
    """matplotlib's default tick formatter, with a decimal comma (0,5 instead of 0.5).

    French and Portuguese both write a decimal comma; :func:`use_book_style` makes this
    the major formatter of every linear axis, so the twins' figures need no code of
    their own for it.
    """

    def __call__(self, x, pos=None):
        return _comma(super().__call__(x, pos), self._useMathText)

    def get_offset(self):
        return _comma(super().get_offset(), self._useMathText)

    def format_data_short(self, value):
        return _comma(super().format_data_short(value), False)


def _comma(text: str, mathtext: bool) -> str:
    return text.replace(".", "{,}" if mathtext else ",")


_linear_defaults = matplotlib.scale.LinearScale.set_default_locators_and_formatters


def _linear_defaults_with_comma(self, axis):
    _linear_defaults(self, axis)
    axis.set_major_formatter(DecimalCommaFormatter())


def use_book_style() -> None:
    """Apply the book's matplotlib style (:data:`BOOK_STYLE`), decimal commas and PNG output.

    Linear axes created afterwards get :class:`DecimalCommaFormatter` as their major
    tick formatter (an axis given another formatter keeps it). Also removes the
    volatile metadata (creation date) that matplotlib writes into saved files, so that
    a figure is byte-identical from one run to the next.
    """
    mpl.rcParams.update(BOOK_STYLE)
    matplotlib.scale.LinearScale.set_default_locators_and_formatters = _linear_defaults_with_comma
    try:  # inside Jupyter: PNG output (what nbval and the book store)
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # pragma: no cover - outside IPython nothing to configure
        pass


def show_images(
    images,
    labels: Sequence | None = None,
    *,
    n: int = 9,
    ncols: int = 3,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    label_format: str = "{}",
    size: float = 1.6,
) -> plt.Figure:
    """Show the first ``n`` images in a grid, each titled with its label.

    The homework's first cells: nine MNIST images with their labels.

    Parameters
    ----------
    images : array-like of shape (N, 28, 28) or (N, 784)
        Images (any real dtype); flat rows are reshaped to square images.
    labels : sequence of length >= n, optional
        Label of each image, shown above it.
    n : int
        Number of images to show (at most ``len(images)``).
    ncols : int
        Number of columns of the grid.
    class_names : sequence of str, optional
        ``class_names[label]`` is shown instead of the label itself.
    title : str, optional
        Title of the whole figure.
    label_format : str
        Format of each image title, e.g. ``"Label : {}"``.
    size : float
        Side of one image, in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = show_images(np.zeros((9, 28, 28)), labels=range(9))
    >>> len(fig.axes)
    9
    """
    images = _as_square_images(images)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = min(int(n), len(images))
    if labels is not None:
        labels = list(labels)
        if len(labels) < n:
            raise ValueError(f"labels has {len(labels)} entries, expected at least n={n}")
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)))
    axes = np.atleast_1d(axes).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if labels is not None:
            label = labels[i]
            text = class_names[int(label)] if class_names is not None else label
            ax.set_title(label_format.format(text))
    if title:
        fig.suptitle(title)
    return fig


# -- Gaussian mixtures and EM ("Mélanges de gaussiennes", "L'algorithme E.M",
#    "La vue variationnelle" / "Misturas de gaussianas", "O algoritmo EM", "A visão
#    variacional": book/*/04_mixtures, 05_em, 06_elbo) ----------------------------------

__all__ += [
    "ellipse_parameters",
    "full_covariances",
    "plot_covariance_ellipses",
    "plot_density_contours",
    "responsibility_colors",
    "em_animation",
]


def full_covariances(covariances, n_components: int, n_features: int, covariance_type: str = "full"):
    """Expand covariances stored per ``covariance_type`` (as in ``GaussianMixture.covariances_``)
    into an array of shape (n_components, n_features, n_features).

    Examples
    --------
    >>> full_covariances(np.array([1.0, 4.0]), 2, 2, "spherical")[1]
    array([[4., 0.],
           [0., 4.]])
    """
    K = check_int(n_components, "n_components", low=1)
    d = check_int(n_features, "n_features", low=1)
    c = check_array_shape(covariances, "covariances", covariance_shape(covariance_type, K, d))
    c = c.astype(np.float64)
    if covariance_type in ("diag", "spherical") and (c < 0).any():
        raise ValueError(f"covariances must be variances (>= 0) for "
                         f"covariance_type={covariance_type!r}, got min {c.min():.3g}")
    if covariance_type == "full":
        return c.copy()
    if covariance_type == "tied":
        return np.repeat(c[None], K, axis=0)
    if covariance_type == "diag":
        return np.stack([np.diag(v) for v in c])
    return c[:, None, None] * np.eye(d)[None]


def ellipse_parameters(mean, covariance, n_std: float = 2.0):
    """Centre, axis lengths and angle of the ellipse ``(x - mu)^T Sigma^{-1} (x - mu) = n_std^2``.

    The axes point along the eigenvectors of ``covariance`` and their half-lengths are
    ``n_std * sqrt(eigenvalue)``.

    Returns
    -------
    center : ndarray of shape (2,)
    width, height : float
        Full lengths (2 half-lengths) of the axes along the largest and the
        smallest eigenvector.
    angle : float
        Angle of the largest axis with the x axis, in degrees (matplotlib's
        ``Ellipse`` convention).

    Examples
    --------
    >>> c, w, h, a = ellipse_parameters([0, 0], [[4, 0], [0, 1]], n_std=1)
    >>> float(w), float(h), float(a)
    (4.0, 2.0, 0.0)
    """
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(covariance, dtype=np.float64)
    if mean.shape != (2,) or cov.shape != (2, 2):
        raise ValueError(
            f"ellipses are drawn in 2-D: mean must have shape (2,) and covariance (2, 2), "
            f"got {mean.shape} and {cov.shape}"
        )
    if not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T):
        raise ValueError("covariance must be a finite symmetric matrix")
    if not isinstance(n_std, (int, float, np.floating, np.integer)) or not n_std > 0:
        raise ValueError(f"n_std must be a positive number, got {n_std!r}")
    eigval, eigvec = np.linalg.eigh(cov)  # ascending
    if eigval[0] < 0:
        raise ValueError("covariance must be positive semi-definite")
    major = eigvec[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    angle = (angle + 90.0) % 180.0 - 90.0  # an axis has no direction: angle in [-90, 90)
    width, height = 2 * n_std * np.sqrt(eigval[::-1])
    return mean, float(width), float(height), angle


def plot_covariance_ellipses(
    ax,
    means,
    covariances,
    *,
    covariance_type: str = "full",
    n_std: Sequence[float] | float = (1.0, 2.0),
    colors: Sequence | None = None,
    weights=None,
    mark_means: bool = True,
    linewidth: float = 1.5,
) -> list:
    """Draw each component's covariance ellipses (at ``n_std`` standard deviations).

    Parameters
    ----------
    ax : matplotlib Axes
    means : array-like of shape (K, 2)
    covariances : array-like
        Shaped per ``covariance_type``, like ``GaussianMixture.covariances_``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    n_std : float or sequence of float
        Mahalanobis radii of the ellipses drawn for each component.
    colors : sequence of colours, optional
        One per component (default: the tab10 cycle).
    weights : array-like of shape (K,), optional
        Mixing weights; when given, each ellipse's line width grows with its weight.
    mark_means : bool
        Mark each mean with a cross.

    Returns
    -------
    list of matplotlib.patches.Ellipse
        The ellipses, component by component (then radius by radius).
    """
    from matplotlib.patches import Ellipse

    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"means must have shape (K, 2), got {means.shape}")
    K = means.shape[0]
    covs = full_covariances(covariances, K, 2, covariance_type)
    radii = [float(n_std)] if np.isscalar(n_std) else [float(r) for r in n_std]
    if colors is None:
        colors = [plt.get_cmap("tab10")(k % 10) for k in range(K)]
    if len(colors) < K:
        raise ValueError(f"colors has {len(colors)} entries, expected at least {K}")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (K,):
            raise ValueError(f"weights must have shape ({K},), got {weights.shape}")
    patches = []
    for k in range(K):
        lw = linewidth if weights is None else linewidth * (0.5 + 2.5 * weights[k])
        for j, r in enumerate(radii):
            center, w, h, angle = ellipse_parameters(means[k], covs[k], r)
            e = Ellipse(center, w, h, angle=angle, fill=False, edgecolor=colors[k],
                        linewidth=lw, alpha=1.0 if j == 0 else 0.6, zorder=3)
            ax.add_patch(e)
            patches.append(e)
        if mark_means:
            ax.plot(*means[k], marker="x", color=colors[k], markersize=8, mew=2, zorder=4)
    return patches


def plot_density_contours(
    ax,
    log_density,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    n_grid: int = 150,
    levels: int | Sequence[float] = 12,
    filled: bool = False,
    cmap: str = "viridis",
    **kwargs,
):
    """Contours of ``log_density`` (e.g. ``GaussianMixture.score_samples``) over a 2-D grid.

    Parameters
    ----------
    ax : matplotlib Axes
    log_density : callable
        Maps an array of shape (n, 2) to the n log-densities.
    xlim, ylim : (float, float)
        Extent of the grid.
    n_grid : int
        Number of grid points along each axis.
    levels : int or sequence of float
        Passed to ``contour``/``contourf``: the number of levels or the levels of the
        log-density themselves.
    filled : bool
        Filled contours (``contourf``) instead of lines.

    Returns
    -------
    matplotlib.contour.QuadContourSet
    """
    if not callable(log_density):
        raise TypeError("log_density must be a callable mapping (n, 2) points to n log-densities")
    if not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
        raise ValueError(f"n_grid must be an integer >= 2, got {n_grid!r}")
    xs = np.linspace(*xlim, int(n_grid))
    ys = np.linspace(*ylim, int(n_grid))
    gx, gy = np.meshgrid(xs, ys)
    z = np.asarray(log_density(np.column_stack([gx.ravel(), gy.ravel()])), dtype=np.float64)
    if z.shape != (gx.size,):
        raise ValueError(f"log_density returned shape {z.shape}, expected ({gx.size},)")
    z = z.reshape(gx.shape)
    draw = ax.contourf if filled else ax.contour
    return draw(gx, gy, z, levels=levels, cmap=cmap, **kwargs)


def responsibility_colors(resp, colors: Sequence | None = None) -> np.ndarray:
    """RGB colour of each point: the mix of the component colours weighted by its
    responsibilities (a point shared half and half between red and blue is purple).

    Returns
    -------
    ndarray of shape (n_samples, 3)
    """
    from matplotlib.colors import to_rgb

    resp = check_data(resp, name="resp", dtype=np.float64)
    check_simplex(resp, "each row of resp", axis=1)
    K = resp.shape[1]
    if colors is None:
        colors = [plt.get_cmap("tab10")(k % 10) for k in range(K)]
    if len(colors) < K:
        raise ValueError(f"colors has {len(colors)} entries, expected at least {K}")
    base = np.array([to_rgb(c) for c in colors[:K]])
    return np.clip(resp @ base, 0.0, 1.0)


def em_animation(
    X,
    frames: Sequence[dict],
    *,
    covariance_type: str = "full",
    log_likelihoods: Sequence[float] | None = None,
    colors: Sequence | None = None,
    xlabel: str = "",
    ylabel: str = "",
    ll_xlabel: str = "",
    ll_ylabel: str = "",
    figsize: tuple[float, float] = (8.0, 3.4),
    dpi: int = 64,
    interval: int = 700,
    html_id: str = "em_animation",
):
    """EM step by step, as an animation that plays in a static HTML page.

    Each frame shows the points coloured by their responsibilities (see
    :func:`responsibility_colors`) and the components' covariance ellipses; with
    ``log_likelihoods``, a second panel draws the log-likelihood curve and marks the
    current iteration.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    frames : sequence of dict
        One per frame, with keys ``"resp"`` (n_samples, K), ``"means"`` (K, 2),
        ``"covariances"`` (per ``covariance_type``), ``"title"`` (str) and, when
        ``log_likelihoods`` is given, ``"iteration"`` (the index into it to mark).
    log_likelihoods : sequence of float, optional
        E.g. ``GaussianMixture.log_likelihood_history_``.
    xlabel, ylabel, ll_xlabel, ll_ylabel : str
        Axis labels (each chapter passes its own language).
    dpi, interval : int
        Resolution of the frames, and milliseconds between frames.
    html_id : str
        Identifier used for the HTML elements instead of matplotlib's random one, so
        the output is identical from run to run (and unique within a page).

    Returns
    -------
    IPython.display.HTML
        The ``to_jshtml`` player (frames as embedded PNGs, JavaScript controls).
    """
    import re

    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    frames = list(frames)
    if not frames:
        raise ValueError("frames is empty")
    for i, f in enumerate(frames):
        missing = {"resp", "means", "covariances"} - set(f)
        if missing:
            raise ValueError(f"frames[{i}] lacks the key(s) {sorted(missing)}")
        if np.shape(f["resp"])[0] != len(X):
            raise ValueError(f"frames[{i}]['resp'] has {np.shape(f['resp'])[0]} rows, X has {len(X)}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(html_id)):
        raise ValueError(f"html_id must be a letter followed by letters, digits or _, got {html_id!r}")
    if log_likelihoods is not None:
        log_likelihoods = np.asarray(log_likelihoods, dtype=np.float64)
        if any("iteration" not in f for f in frames):
            raise ValueError("with log_likelihoods, every frame needs an 'iteration' key")

    pad = 0.15 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    if log_likelihoods is None:
        fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
        ax_ll = None
    else:
        fig, (ax, ax_ll) = plt.subplots(1, 2, figsize=figsize, dpi=dpi, width_ratios=[1.15, 1])

    def draw(i):
        f = frames[i]
        ax.clear()
        ax.scatter(X[:, 0], X[:, 1], c=responsibility_colors(f["resp"], colors), s=12,
                   edgecolors="none", alpha=0.5)
        plot_covariance_ellipses(ax, f["means"], f["covariances"], covariance_type=covariance_type,
                                 colors=colors, linewidth=2.0)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f.get("title", ""))
        if ax_ll is not None:
            ax_ll.clear()
            t = np.arange(len(log_likelihoods))
            ax_ll.plot(t, log_likelihoods, color="0.6", marker="o", markersize=3)
            j = int(f["iteration"])
            ax_ll.plot(t[: j + 1], log_likelihoods[: j + 1], color="C3", marker="o", markersize=4)
            ax_ll.set_xlabel(ll_xlabel)
            ax_ll.set_ylabel(ll_ylabel)
        return []

    anim = FuncAnimation(fig, draw, frames=len(frames), interval=interval, blit=False)
    with mpl.rc_context({"savefig.dpi": dpi}):  # frames are saved at savefig.dpi
        html = anim.to_jshtml(fps=None, default_mode="once")
    plt.close(fig)
    # matplotlib names the player's elements after a random uuid: make them stable
    ids = set(re.findall(r"_anim_img([0-9a-f]{32})", html))
    for uid in ids:
        html = html.replace(uid, html_id)
    return HTML(html)


# ---------------------------------------------------------------------------
# K-means figures ("Clustering and K-means" chapters, ``book/*/02_kmeans`` and
# ``book/*/03_kmeans_mnist``). Every word shown is an argument, so that each
# language supplies its own.
# ---------------------------------------------------------------------------

__all__ += ["plot_lloyd_iterations", "show_clusters", "show_centroids", "plot_contingency"]


def _as_square_images(images, name: str = "images") -> np.ndarray:
    """``images`` as an array of shape (N, side, side); flat rows are reshaped."""
    images = np.asarray(to_numpy(images))
    if images.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got {type(images).__name__} "
                        f"of dtype {images.dtype}")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"{name}: rows of length {images.shape[1]} are not square images")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"{name} must have shape (N, height, width) or (N, pixels), got {images.shape}")
    if len(images) == 0:
        raise ValueError(f"{name} is empty")
    return images


def plot_lloyd_iterations(
    X,
    init,
    *,
    steps: Sequence[int] = (0, 1, 2, 5),
    title_format: str = "iteration {it}: cost {cost:.4g}",
    xlabel: str | None = None,
    ylabel: str | None = None,
    center_label: str = "centers",
    size: float = 2.6,
) -> plt.Figure:
    """Lloyd's algorithm on 2-D data, one panel per chosen iteration.

    Runs :func:`gmmlab.kmeans.lloyd_step` from ``init`` and shows, for each
    iteration ``it`` in ``steps``, the points coloured by their assignment to the
    centers of that iteration, those centers (crosses) and the path each center
    has travelled so far. The panel title gives the cost (inertia) of that
    assignment. Used by "Clustering and K-means" (``book/*/02_kmeans``).

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    init : array-like of shape (n_clusters, 2)
        Initial centers (iteration 0).
    steps : sequence of int
        Iterations to show, non-negative and increasing (0: the initial centers).
    title_format : str
        Panel title, formatted with ``it`` (iteration) and ``cost``.
    xlabel, ylabel : str, optional
        Axis labels (the same on every panel).
    center_label : str
        Legend entry of the centers.
    size : float
        Side of one panel, in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per step; ``fig.lloyd_costs`` holds the cost of every shown step.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    >>> fig = plot_lloyd_iterations(X, X[[0, 1]], steps=(0, 1))
    >>> [round(c, 3) for c in fig.lloyd_costs]
    [32.0, 16.0]
    """
    from .kmeans import lloyd_step  # local import: plotting stays importable alone

    X = np.asarray(X, dtype=np.float64)
    centers = np.asarray(init, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if centers.ndim != 2 or centers.shape[1] != 2 or not 1 <= len(centers) <= len(X):
        raise ValueError(f"init must have shape (n_clusters, 2) with 1 <= n_clusters <= {len(X)}, got {centers.shape}")
    steps = [int(s) for s in steps]
    if not steps or steps[0] < 0 or any(b <= a for a, b in zip(steps, steps[1:])):
        raise ValueError(f"steps must be non-negative, increasing iteration numbers, got {steps!r}")
    path = [centers]
    shown = {}
    for it in range(steps[-1] + 1):
        new_centers, labels, cost = lloyd_step(X, path[-1])
        if it in steps:
            shown[it] = (path[-1], labels, cost, np.array(path))
        path.append(new_centers)
    colors = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(1, len(steps), figsize=(size * len(steps), size + 0.4), sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, it in zip(axes, steps):
        c, labels, cost, trail = shown[it]
        ax.scatter(X[:, 0], X[:, 1], s=6, c=[colors[k % 10] for k in labels], alpha=0.6, linewidths=0)
        for k in range(len(c)):
            ax.plot(trail[:, k, 0], trail[:, k, 1], "-", color="black", lw=0.8)
        ax.scatter(c[:, 0], c[:, 1], marker="X", s=70, c=[colors[k % 10] for k in range(len(c))],
                   edgecolors="black", linewidths=1.0, label=center_label)
        ax.set_title(title_format.format(it=it, cost=cost))
        if xlabel:
            ax.set_xlabel(xlabel)
    if ylabel:
        axes[0].set_ylabel(ylabel)
    axes[-1].legend(loc="best", fontsize=8)
    fig.lloyd_costs = [shown[it][2] for it in steps]
    return fig


def show_clusters(
    images,
    labels,
    *,
    n_per_cluster: int = 9,
    random_state=None,
    row_label_format: str = "{}",
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    size: float = 0.55,
) -> plt.Figure:
    """Random images of every cluster: one row per cluster, ``n_per_cluster`` columns.

    The homework's "nine random images per cluster", for all clusters in one
    compact figure. Used by "K-means on MNIST" (``book/*/03_kmeans_mnist``).

    Parameters
    ----------
    images : array-like of shape (N, 28, 28) or (N, 784)
    labels : array-like of shape (N,)
        Cluster of each image (integers ``0 .. K-1``).
    n_per_cluster : int
        Images per row (fewer when a cluster is smaller; the row is then padded).
    random_state : int, numpy Generator or None
        Seed of the draw (without replacement, within each cluster).
    row_label_format : str
        Label of each row, formatted with the cluster index and its size, e.g.
        ``"cluster {k} (n={n})"``; positional ``{}`` gives the index.
    row_labels : sequence of K str, optional
        Labels of the rows, used instead of ``row_label_format``.
    title : str, optional
        Title of the whole figure.
    size : float
        Side of one image, in inches.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.cluster_indices[k]`` lists the indices of the images shown for cluster ``k``.

    Examples
    --------
    >>> fig = show_clusters(np.zeros((20, 28, 28)), np.arange(20) % 2, n_per_cluster=3, random_state=0)
    >>> len(fig.axes), [len(i) for i in fig.cluster_indices]
    (6, [3, 3])
    """
    images = _as_square_images(images)
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be {len(images)} integer cluster indices (one per image), got {labels.shape} {labels.dtype}")
    if labels.min() < 0:
        raise ValueError("labels must be non-negative cluster indices")
    if not isinstance(n_per_cluster, (int, np.integer)) or n_per_cluster < 1:
        raise ValueError(f"n_per_cluster must be a positive integer, got {n_per_cluster!r}")
    rng = np.random.default_rng(random_state)
    n_clusters = int(labels.max()) + 1
    if row_labels is not None:
        row_labels = [str(r) for r in row_labels]
        if len(row_labels) != n_clusters:
            raise ValueError(f"row_labels has {len(row_labels)} entries, expected one per cluster ({n_clusters})")
    fig, axes = plt.subplots(n_clusters, n_per_cluster, squeeze=False,
                             figsize=(size * n_per_cluster + 1.1, size * n_clusters + (0.3 if title else 0)),
                             gridspec_kw={"wspace": 0.02, "hspace": 0.02})
    fig.set_layout_engine("constrained", w_pad=0.01, h_pad=0.01, wspace=0.0, hspace=0.0)
    fig.cluster_indices = []
    for k in range(n_clusters):
        members = np.flatnonzero(labels == k)
        chosen = np.sort(rng.choice(members, size=min(n_per_cluster, members.size), replace=False))
        fig.cluster_indices.append(chosen)
        for j, ax in enumerate(axes[k]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < chosen.size:
                ax.imshow(images[chosen[j]], cmap="gray_r")
        text = row_labels[k] if row_labels is not None else row_label_format.format(k, k=k, n=members.size)
        axes[k, 0].set_ylabel(text, rotation=0,
                              ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def show_centroids(
    centers,
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 5,
    title: str | None = None,
    size: float = 1.2,
    cmap: str = "RdBu_r",
) -> plt.Figure:
    """Cluster centers shown as images (e.g. ten 28 x 28 centroids).

    Each image gets its own symmetric colour scale around 0 (standardised pixels:
    red above the pixel's mean, blue below) unless ``cmap`` is a sequential map, in
    which case the scale is the image's own minimum to maximum. Used by
    "K-means on MNIST" (``book/*/03_kmeans_mnist``).

    Parameters
    ----------
    centers : array-like of shape (K, 784) or (K, 28, 28)
    titles : sequence of K str, optional
        Title of each image (e.g. the cluster index and its majority digit).
    ncols : int
        Images per row.
    title : str, optional
        Title of the whole figure.
    size : float
        Side of one image, in inches.
    cmap : str
        Colour map; the default diverging map suits standardised pixels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = show_centroids(np.zeros((10, 784)), titles=[str(k) for k in range(10)])
    >>> len(fig.axes)
    10
    """
    centers = _as_square_images(centers, "centers")
    if titles is not None:
        titles = list(titles)
        if len(titles) != len(centers):
            raise ValueError(f"titles has {len(titles)} entries, expected one per center ({len(centers)})")
    if not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    ncols = min(int(ncols), len(centers))
    nrows = -(-len(centers) // ncols)
    diverging = cmap in ("RdBu_r", "RdBu", "coolwarm", "bwr", "seismic", "PuOr", "PuOr_r")
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(size * ncols, (size + 0.25) * nrows + (0.3 if title else 0)))
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= len(centers):
            continue
        img = centers[i]
        if diverging:
            v = float(np.abs(img).max()) or 1.0
            ax.imshow(img, cmap=cmap, vmin=-v, vmax=v)
        else:
            ax.imshow(img, cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_contingency(
    table,
    *,
    row_labels: Sequence | None = None,
    col_labels: Sequence | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    colorbar_label: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Heat map of a contingency table (rows: clusters, columns: classes), counts written in.

    Colours show each row's counts as a fraction of the row total, so that a pure
    cluster is one dark cell whatever its size. Used by "K-means on MNIST"
    (``book/*/03_kmeans_mnist``) with :func:`gmmlab.metrics.contingency_table`.

    Parameters
    ----------
    table : array-like of shape (n_rows, n_cols)
        Non-negative counts.
    row_labels, col_labels : sequence, optional
        Tick labels (default: 0, 1, ...).
    xlabel, ylabel, title, colorbar_label : str, optional
        Words shown on the figure.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_contingency([[5, 0], [1, 4]], xlabel="class", ylabel="cluster")
    >>> fig.axes[0].get_xlabel()
    'class'
    """
    table = np.asarray(table)
    if table.ndim != 2 or table.size == 0:
        raise ValueError(f"table must be a non-empty 2-D array of counts, got shape {table.shape}")
    if table.dtype.kind not in "iuf" or np.any(table < 0) or not np.all(np.isfinite(table)):
        raise ValueError("table must hold finite, non-negative counts")
    n_rows, n_cols = table.shape
    row_labels = list(range(n_rows)) if row_labels is None else list(row_labels)
    col_labels = list(range(n_cols)) if col_labels is None else list(col_labels)
    if len(row_labels) != n_rows or len(col_labels) != n_cols:
        raise ValueError(
            f"row_labels/col_labels must have {n_rows}/{n_cols} entries, got {len(row_labels)}/{len(col_labels)}"
        )
    totals = table.sum(axis=1, keepdims=True)
    share = np.divide(table, totals, out=np.zeros(table.shape, dtype=np.float64), where=totals > 0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.5 * n_cols + 1.8, 0.4 * n_rows + 1.0))
    else:
        fig = ax.figure
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            value = table[i, j]
            text = f"{value:g}" if table.dtype.kind == "f" else str(int(value))
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(n_cols), [str(c) for c in col_labels])
    ax.set_yticks(range(n_rows), [str(r) for r in row_labels])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    if colorbar_label:
        cbar.set_label(colorbar_label)
    return fig
