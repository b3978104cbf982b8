"""Figures that the chapters repeat, styled once for the whole book.

Every chapter calls :func:`use_book_style` in its first code cell, so that fonts,
sizes and colours agree across pages and figures render byte-identically from one
run to the next (fixed DPI, no timestamps in the files), and so that tick labels carry
the decimal comma of both the book's languages (:class:`DecimalCommaFormatter`).

Used by every chapter, first by "Données : MNIST et FashionMNIST" /
"Dados: MNIST e FashionMNIST" (``book/*/01_data``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.scale
import matplotlib.ticker
import numpy as np

from ._validation import (
    check_array_shape,
    check_bool,
    check_covariance_type,
    check_data,
    check_int,
    check_list,
    check_positive_float,
    check_random_state_value,
    check_scale,
    check_seed,
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

    Parameters
    ----------
    useOffset : bool or float, optional
        Offset notation, as for :class:`matplotlib.ticker.ScalarFormatter` (None: the
        rcParam ``axes.formatter.useoffset``).
    useMathText, useLocale, usetex : bool, optional
        As for :class:`matplotlib.ticker.ScalarFormatter` (None: the rcParams).
    """

    def __init__(self, useOffset=None, useMathText=None, useLocale=None, *, usetex=None):
        expected = "None, True, False or a finite number (the offset)"
        if isinstance(useOffset, np.bool_):
            useOffset = bool(useOffset)
        elif useOffset is not None and not isinstance(useOffset, bool):
            if not isinstance(useOffset, numbers.Real):
                raise TypeError(f"useOffset must be {expected}, got {useOffset!r} ({type(useOffset).__name__})")
            if not np.isfinite(useOffset):
                raise ValueError(f"useOffset must be {expected}, got {useOffset!r}")
        check_bool(useMathText, "useMathText", allow_none=True)
        check_bool(useLocale, "useLocale", allow_none=True)
        check_bool(usetex, "usetex", allow_none=True)
        super().__init__(useOffset, useMathText, useLocale, usetex=usetex)

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


# -- argument checks shared by the figures below (each names the argument it checks) --------

#: Most images (axes) one grid figure may hold: beyond this, matplotlib needs minutes to
#: build and draw the figure (about 7 ms an axes to build, far more to draw).
MAX_GRID_AXES = 1000
#: Most cells (counts written in) of :func:`plot_contingency`.
MAX_TABLE_CELLS = 10_000
#: Largest iteration :func:`plot_lloyd_iterations` runs to, and most panels it draws.
MAX_LLOYD_ITERATIONS = 1000
MAX_LLOYD_PANELS = 50
#: Most grid points along each axis of :func:`plot_density_contours`, and most levels.
MAX_GRID_POINTS = 2000
MAX_LEVELS = 1000
#: Most pixels along each side of an :func:`em_animation` frame.
MAX_FRAME_PIXELS = 8192


def _check_str(value, name: str, *, optional: bool = True):
    """``value`` if it is a str (or None with ``optional``); a TypeError naming ``name`` otherwise."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        expected = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    return value


def _check_axes(ax, name: str = "ax", *, optional: bool = False):
    """``ax`` if it is a matplotlib Axes (or None with ``optional``); a TypeError otherwise."""
    from matplotlib.axes import Axes

    if (ax is None and optional) or isinstance(ax, Axes):
        return ax
    hint = ""
    if isinstance(ax, np.ndarray):
        hint = " (an array of Axes, as plt.subplots returns for a grid: pick one, e.g. axes[0])"
    raise TypeError(
        f"{name} must be a matplotlib Axes{' or None' if optional else ''}, e.g. from "
        f"`fig, ax = plt.subplots()`, got {type(ax).__name__}{hint}"
    )


def _check_format(fmt, name: str, *args, **kwargs) -> str:
    """``fmt`` if it is a str that ``fmt.format(*args, **kwargs)`` accepts; else a clear error."""
    _check_str(fmt, name, optional=False)
    try:
        fmt.format(*args, **kwargs)
    except (IndexError, KeyError, ValueError, TypeError, AttributeError) as exc:
        fields = ", ".join([*("{" + str(i) + "}" for i in range(len(args))), *("{" + k + "}" for k in kwargs)])
        raise ValueError(
            f"{name}={fmt!r} cannot be formatted with the fields {fields or 'none'} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    return fmt


def _check_text_list(value, name: str, *, length: int | None = None, optional: bool = True):
    """``value`` as a list of labels (str, numbers...), one per row/column/image; None
    stays None with ``optional``. Refuses a single str (whose characters would become
    the labels), dicts, sets, non-sequences and nested sequences."""
    if value is None and optional:
        return None
    if isinstance(value, (str, bytes, dict, set, frozenset)) or value is None:
        raise TypeError(
            f"{name} must be a sequence of labels (e.g. a list of str), got "
            f"{type(value).__name__} {value!r:.60}"
        )
    value = to_numpy(value)
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of labels, got an array of shape {value.shape}")
    values = check_list(value, name, items="labels", item="label")
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple, dict, set, np.ndarray)) or hasattr(v, "detach"):
            raise TypeError(f"{name}[{i}] must be a single label (str or number), got {type(v).__name__}")
    if length is not None and len(values) != length:
        raise ValueError(f"{name} has {len(values)} entries, expected {length}")
    return values


def _check_colors(colors, n: int, name: str = "colors"):
    """None, or ``colors`` as a list of at least ``n`` matplotlib colours."""
    from matplotlib.colors import is_color_like

    if colors is None:
        return None
    if isinstance(colors, (str, bytes, dict, set, frozenset)) or not hasattr(colors, "__iter__"):
        raise TypeError(
            f"{name} must be a sequence of colours, one per component (e.g. ['tab:red', "
            f"'tab:blue']), got {type(colors).__name__} {colors!r:.60}"
        )
    values = list(to_numpy(colors))
    if len(values) < n:
        raise ValueError(f"{name} has {len(values)} entries, expected at least {n}")
    for i, c in enumerate(values[:n]):
        if not is_color_like(c) or (not isinstance(c, str) and not np.isfinite(np.asarray(c, dtype=float)).all()):
            raise ValueError(f"{name}[{i}] = {c!r} is not a matplotlib colour")
    return values


def _check_cmap(cmap, name: str = "cmap", *, optional: bool = False):
    """``cmap`` if it is a Colormap or the name of a registered one (None with ``optional``)."""
    from matplotlib.colors import Colormap

    if (cmap is None and optional) or isinstance(cmap, Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(f"{name} must be a colour map name (e.g. 'viridis') or a Colormap, got "
                        f"{cmap!r} ({type(cmap).__name__})")
    if cmap not in mpl.colormaps:
        import difflib

        close = difflib.get_close_matches(cmap, list(mpl.colormaps), n=3)
        raise ValueError(f"{name}={cmap!r} is not a matplotlib colour map"
                         + (f"; did you mean {', '.join(map(repr, close))}?" if close else ""))
    return cmap


def _check_numeric(value, name: str, *, expected: str = "a numeric array") -> np.ndarray:
    """``value`` (list, array, CPU tensor) as a float64 array; a TypeError naming ``name``
    for strings, None, dicts, complex or non-numeric objects."""
    value = to_numpy(value)
    if value is None or isinstance(value, (str, bytes, dict, set, frozenset)):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    try:
        a = np.asarray(value)
        if a.dtype.kind == "O":
            a = a.astype(np.float64)
    except (ValueError, TypeError):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__} "
                        f"holding non-numbers (or rows of unequal length)") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be {expected} of real numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


def _check_vector(value, name: str, *, min_len: int = 1) -> np.ndarray:
    """``value`` as a finite 1-D float64 array of at least ``min_len`` entries."""
    a = _check_numeric(value, name, expected="a 1-D sequence of numbers")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if len(a) < min_len:
        raise ValueError(f"{name} must have at least {min_len} entries, got {len(a)}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {a!r:.80}")
    return a


def _check_means(means, name: str = "means") -> np.ndarray:
    """``means`` as a finite float64 array of shape (K, 2), K >= 1."""
    means = check_data(means, name=name, dtype=np.float64)
    if means.shape[1] != 2:
        raise ValueError(f"{name} must have shape (K, 2), got {means.shape}")
    return means


def _check_radii(n_std, name: str = "n_std") -> list[float]:
    """``n_std`` (a number or a sequence of numbers, each finite and > 0) as a list of floats."""
    if isinstance(n_std, (str, bytes)):
        raise TypeError(f"{name} must be a positive number or a sequence of them, got {n_std!r}")
    if np.isscalar(n_std):
        check_positive_float(n_std, name)
        return [float(n_std)]
    values = check_list(to_numpy(n_std), name, items="positive numbers", item="radius")
    for r in values:
        check_positive_float(r, name)
    return [float(r) for r in values]


def _ellipses(means, covs, radii, name: str = "covariances") -> list:
    """Every ``ellipse_parameters(means[k], covs[k], r)``, component by component, computed
    before anything is drawn (an error names ``name`` and the component)."""
    out = []
    for k in range(len(means)):
        row = []
        for r in radii:
            try:
                row.append(ellipse_parameters(means[k], covs[k], r))
            except ValueError as exc:
                raise ValueError(f"{name}[{k}] (component {k}): {exc}") from None
        out.append(row)
    return out


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
        Number of images to show (at most ``len(images)``, and ``MAX_GRID_AXES``).
    ncols : int
        Number of columns of the grid.
    class_names : sequence of str, optional
        ``class_names[label]`` is shown instead of the label itself (labels must then
        be integer indices ``0 .. len(class_names) - 1``).
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
    check_int(n, "n", low=1)
    n = min(int(n), len(images))
    if n > MAX_GRID_AXES:
        raise ValueError(f"n={n}: at most {MAX_GRID_AXES} images fit in one figure")
    check_int(ncols, "ncols", low=1)
    _check_str(title, "title")
    _check_str(label_format, "label_format", optional=False)
    check_positive_float(size, "size")
    if class_names is not None:
        class_names = _check_text_list(class_names, "class_names")
        if labels is None:
            raise ValueError("class_names is only used with labels (class_names[label] is "
                             "shown for each label): pass labels too")
    texts = None
    if labels is not None:
        labels = _check_text_list(labels, "labels")
        if len(labels) < n:
            raise ValueError(f"labels has {len(labels)} entries, expected at least n={n}")
        texts = []
        for i, label in enumerate(labels[:n]):
            if isinstance(label, numbers.Real) and not isinstance(label, numbers.Integral) \
                    and not np.isfinite(label):
                raise ValueError(f"labels[{i}] = {label!r}: labels must be finite")
            if class_names is not None:
                ok = isinstance(label, numbers.Real) and not isinstance(label, (bool, np.bool_)) \
                    and float(label) == int(label)
                if not ok or not 0 <= int(label) < len(class_names):
                    raise ValueError(
                        f"labels[{i}] = {label!r}: with class_names, labels must be integer "
                        f"indices 0 .. {len(class_names) - 1} into class_names"
                    )
            text = class_names[int(label)] if class_names is not None else label
            try:
                texts.append(label_format.format(text))
            except (IndexError, KeyError, ValueError, TypeError, AttributeError) as exc:
                raise ValueError(f"label_format={label_format!r} cannot format the label {text!r} "
                                 f"(one positional field {{}} expected; {type(exc).__name__}: {exc})") from None
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)))
    axes = np.atleast_1d(axes).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if texts is not None:
            ax.set_title(texts[i])
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
    shape = covariance_shape(covariance_type, K, d)
    if K * d * d > MAX_EXPANDED_ENTRIES:
        raise ValueError(
            f"n_components={K} and n_features={d} would expand covariances to {K * d * d:.3g} "
            f"entries (at most {MAX_EXPANDED_ENTRIES:.0g})"
        )
    c = check_array_shape(covariances, "covariances", shape)
    c = c.astype(np.float64)
    if covariance_type in ("diag", "spherical") and (c < 0).any():
        raise ValueError(f"covariances must be variances (>= 0) for "
                         f"covariance_type={covariance_type!r}, got min {c.min():.3g}")
    if covariance_type in ("full", "tied"):
        _check_covariance_matrices(c if covariance_type == "full" else c[None], "covariances")
    if covariance_type == "full":
        return c.copy()
    if covariance_type == "tied":
        return np.repeat(c[None], K, axis=0)
    if covariance_type == "diag":
        return np.stack([np.diag(v) for v in c])
    return c[:, None, None] * np.eye(d)[None]


#: Most entries of the (n_components, n_features, n_features) array that
#: :func:`full_covariances` builds (800 MB of float64).
MAX_EXPANDED_ENTRIES = 10**8


def _check_covariance_matrices(c: np.ndarray, name: str) -> None:
    """A ValueError naming ``name`` unless every ``c[k]`` is symmetric positive semi-definite
    (to rounding: eigenvalues >= -1e-10 times the largest)."""
    for k, m in enumerate(c):
        where = f"{name}[{k}]" if len(c) > 1 else name
        if not np.allclose(m, m.T):
            raise ValueError(f"{where} must be a symmetric matrix, got {m!r:.120}")
        eig = np.linalg.eigvalsh(m)
        if not np.isfinite(eig).all():
            raise ValueError(f"{where}: its eigenvalues overflow float64; rescale the data")
        if eig[0] < -1e-10 * max(abs(eig[-1]), np.finfo(np.float64).tiny):
            raise ValueError(f"{where} must be positive semi-definite, got eigenvalues {eig!r:.120}")


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
    mean = _check_numeric(mean, "mean", expected="an array of shape (2,)")
    cov = _check_numeric(covariance, "covariance", expected="an array of shape (2, 2)")
    if mean.shape != (2,) or cov.shape != (2, 2):
        raise ValueError(
            f"ellipses are drawn in 2-D: mean must have shape (2,) and covariance (2, 2), "
            f"got {mean.shape} and {cov.shape}"
        )
    if not np.all(np.isfinite(mean)):
        raise ValueError(f"mean must be finite (no NaN or infinity), got {mean!r}")
    if not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T):
        raise ValueError("covariance must be a finite symmetric matrix")
    check_positive_float(n_std, "n_std")  # n_std itself is used below (unchanged arithmetic)
    eigval, eigvec = np.linalg.eigh(cov)  # ascending
    if not np.isfinite(eigval).all():
        raise ValueError("covariance: its eigenvalues overflow float64; rescale the data")
    if eigval[0] < 0:
        raise ValueError("covariance must be positive semi-definite")
    major = eigvec[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    angle = (angle + 90.0) % 180.0 - 90.0  # an axis has no direction: angle in [-90, 90)
    width, height = 2 * n_std * np.sqrt(eigval[::-1])
    if not (np.isfinite(width) and np.isfinite(height)):
        raise ValueError(f"the ellipse's axes overflow float64 (n_std={n_std!r} times the square "
                         f"root of covariance's eigenvalues {eigval!r}); rescale the data")
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

    means = _check_means(means)
    K = means.shape[0]
    covs = full_covariances(covariances, K, 2, covariance_type)
    radii = _check_radii(n_std)
    colors = _check_colors(colors, K)
    if colors is None:
        colors = [plt.get_cmap("tab10")(k % 10) for k in range(K)]
    if weights is not None:
        weights = check_simplex(check_array_shape(weights, "weights", (K,)), "weights").astype(np.float64)
    check_bool(mark_means, "mark_means")
    check_positive_float(linewidth, "linewidth")
    _check_axes(ax)
    ellipses = _ellipses(means, covs, radii)  # every ellipse, before anything is drawn
    patches = []
    for k in range(K):
        lw = linewidth if weights is None else linewidth * (0.5 + 2.5 * weights[k])
        for j, r in enumerate(radii):
            center, w, h, angle = ellipses[k][j]
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
    _check_axes(ax)
    if not callable(log_density):
        raise TypeError("log_density must be a callable mapping (n, 2) points to n log-densities")
    limits = {name: _check_limits(value, name) for name, value in (("xlim", xlim), ("ylim", ylim))}
    check_int(n_grid, "n_grid", low=2, high=MAX_GRID_POINTS)
    if isinstance(levels, numbers.Integral) and not isinstance(levels, (bool, np.bool_)):
        check_int(levels, "levels", low=1, high=MAX_LEVELS)
    else:
        if isinstance(levels, (bool, np.bool_, numbers.Real)):
            raise TypeError(f"levels must be an int (how many levels) or a sequence of levels, "
                            f"got {levels!r} ({type(levels).__name__})")
        lv = _check_vector(levels, "levels")
        if len(lv) > MAX_LEVELS or np.any(np.diff(lv) <= 0):
            raise ValueError(f"levels must be at most {MAX_LEVELS} increasing values, got {lv!r:.100}")
    check_bool(filled, "filled")
    _check_cmap(cmap, optional=True)  # None: matplotlib's default colour map
    xs = np.linspace(*limits["xlim"], int(n_grid))
    ys = np.linspace(*limits["ylim"], int(n_grid))
    gx, gy = np.meshgrid(xs, ys)
    z = log_density(np.column_stack([gx.ravel(), gy.ravel()]))
    try:
        z = np.asarray(to_numpy(z), dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"log_density must return numbers, got {type(z).__name__} {z!r:.60}") from None
    if z.shape != (gx.size,):
        raise ValueError(f"log_density returned shape {z.shape}, expected ({gx.size},)")
    bad = np.isnan(z) | (z == np.inf)
    if not bad.any() and not np.isfinite(z).any():
        bad = z == -np.inf
    if bad.any():
        raise ValueError(
            f"log_density returned {int(bad.sum())} NaN, +inf or (all) -inf values over the grid "
            f"xlim=({float(limits['xlim'][0]):g}, {float(limits['xlim'][1]):g}), "
            f"ylim=({float(limits['ylim'][0]):g}, {float(limits['ylim'][1]):g}) (log-densities must be "
            f"finite or -inf, and not all -inf)"
        )
    z = z.reshape(gx.shape)
    draw = ax.contourf if filled else ax.contour
    try:
        return draw(gx, gy, z, levels=levels, cmap=cmap, **kwargs)
    except AttributeError as exc:  # matplotlib's word for an unknown keyword
        if "unexpected keyword" not in str(exc):
            raise
        raise TypeError(f"plot_density_contours: a keyword passed on to "
                        f"{'contourf' if filled else 'contour'} is unknown ({exc})") from None


def _check_limits(value, name: str) -> tuple:
    """``value`` as two finite, distinct numbers (a grid's extent), with a finite span."""
    if isinstance(value, (bool, np.bool_, numbers.Number)):
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}")
    a = _check_numeric(value, name, expected="a pair (low, high) of numbers")
    if a.shape != (2,):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got shape {a.shape}: {value!r:.60}")
    if not np.isfinite(a).all() or not np.isfinite(a[1] - a[0]):
        raise ValueError(f"{name} must be two finite numbers with a finite span, got {value!r:.60}")
    if a[0] == a[1]:
        raise ValueError(f"{name} must be two different numbers (the grid's extent), got {value!r:.60}")
    values = tuple(to_numpy(value))
    # the numbers themselves (ints stay ints) go to linspace, exactly as before
    return values if all(isinstance(v, numbers.Real) for v in values) else tuple(a)


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
    colors = _check_colors(colors, K)
    if colors is None:
        colors = [plt.get_cmap("tab10")(k % 10) for k in range(K)]
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

    X = check_data(X, name="X", dtype=np.float64)
    if X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    span = X.max(axis=0) - X.min(axis=0)
    if not np.isfinite(X.max(axis=0) + 0.15 * span).all() or not np.isfinite(X.min(axis=0) - 0.15 * span).all():
        raise ValueError(f"X has entries as large as {np.abs(X).max():.3g}: the axes' limits overflow; rescale X")
    if isinstance(frames, (str, bytes, Mapping)):
        raise TypeError(f"frames must be a sequence of dicts, one per frame, got {type(frames).__name__}")
    try:
        frames = list(frames)
    except TypeError:
        raise TypeError(f"frames must be a sequence of dicts, one per frame, got {type(frames).__name__}") from None
    if not frames:
        raise ValueError("frames is empty: give at least one frame (a dict per frame)")
    check_covariance_type(covariance_type)
    if log_likelihoods is not None:
        n_ll = len(_check_vector(log_likelihoods, "log_likelihoods"))
        if any(isinstance(f, Mapping) and "iteration" not in f for f in frames):
            raise ValueError("with log_likelihoods, every frame needs an 'iteration' key")
    n_components = 1
    for i, f in enumerate(frames):
        where = f"frames[{i}]"
        if not isinstance(f, Mapping):
            raise TypeError(f"{where} must be a dict with the keys 'resp', 'means' and "
                            f"'covariances', got {type(f).__name__}")
        missing = {"resp", "means", "covariances"} - set(f)
        if missing:
            raise ValueError(f"{where} lacks the key(s) {sorted(missing)}")
        resp = check_data(f["resp"], name=f"{where}['resp']", dtype=np.float64)
        check_simplex(resp, f"each row of {where}['resp']", axis=1)
        if resp.shape[0] != len(X):
            raise ValueError(f"{where}['resp'] has {resp.shape[0]} rows, X has {len(X)}")
        means = _check_means(f["means"], f"{where}['means']")
        if resp.shape[1] != len(means):
            raise ValueError(f"{where}['resp'] has {resp.shape[1]} columns (components), but "
                             f"{where}['means'] has {len(means)} rows")
        try:
            covs = full_covariances(f["covariances"], len(means), 2, covariance_type)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}['covariances']: {exc}") from None
        _ellipses(means, covs, [1.0, 2.0], f"{where}['covariances']")
        _check_str(f.get("title"), f"{where}['title']")
        if log_likelihoods is not None:
            check_int(f["iteration"], f"{where}['iteration']", low=0, high=n_ll - 1)
        n_components = max(n_components, len(means))
    _check_colors(colors, n_components)
    for name, value in (("xlabel", xlabel), ("ylabel", ylabel), ("ll_xlabel", ll_xlabel), ("ll_ylabel", ll_ylabel)):
        _check_str(value, name)
    check_int(dpi, "dpi", low=1)
    size = check_array_shape(figsize, "figsize", (2,))
    if np.any(size <= 0) or np.any(size * dpi < 1) or np.any(size * dpi > MAX_FRAME_PIXELS):
        raise ValueError(f"figsize={figsize!r} (inches) at dpi={dpi!r} must give frames of 1 to "
                         f"{MAX_FRAME_PIXELS} pixels on each side")
    check_int(interval, "interval", low=1)
    _check_str(html_id, "html_id", optional=False)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(html_id)):
        raise ValueError(f"html_id must be a letter followed by letters, digits or _, got {html_id!r}")
    if log_likelihoods is not None:
        log_likelihoods = np.asarray(to_numpy(log_likelihoods), dtype=np.float64)

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
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"{name} holds images without pixels: shape {images.shape}")
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
        Iterations to show, non-negative and increasing (0: the initial centers); at
        most ``MAX_LLOYD_PANELS`` (50) of them, none beyond ``MAX_LLOYD_ITERATIONS`` (1000).
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

    X = check_data(X, name="X", dtype=np.float64)
    centers = check_data(init, name="init", dtype=np.float64)
    if X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if centers.shape[1] != 2 or not 1 <= len(centers) <= len(X):
        raise ValueError(f"init must have shape (n_clusters, 2) with 1 <= n_clusters <= {len(X)}, got {centers.shape}")
    check_scale(X, "X")  # squared distances between points and centers must not overflow
    check_scale(np.concatenate([X, centers]), "init")
    if isinstance(steps, (str, bytes, Mapping)):
        raise TypeError(f"steps must be a sequence of iteration numbers, got {type(steps).__name__} {steps!r:.40}")
    steps = check_list(to_numpy(steps), "steps", items="iteration numbers (int >= 0)", item="iteration")
    for i, it in enumerate(steps):
        check_int(it, f"steps[{i}]", low=0, high=MAX_LLOYD_ITERATIONS)
    steps = [int(s) for s in steps]
    if not steps or steps[0] < 0 or any(b <= a for a, b in zip(steps, steps[1:])):
        raise ValueError(f"steps must be non-negative, increasing iteration numbers, got {steps!r}")
    if len(steps) > MAX_LLOYD_PANELS:
        raise ValueError(f"steps has {len(steps)} iterations: at most {MAX_LLOYD_PANELS} panels fit in one figure")
    _check_format(title_format, "title_format", it=0, cost=1.0)
    _check_str(xlabel, "xlabel")
    _check_str(ylabel, "ylabel")
    _check_str(center_label, "center_label", optional=False)
    check_positive_float(size, "size")
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
        Cluster of each image (integers ``0 .. K-1``, with ``K <= N`` and at most
        ``MAX_GRID_AXES`` (1000) images in the whole grid).
    n_per_cluster : int
        Images per row (fewer when a cluster is smaller; the row is then padded).
    random_state : int, numpy Generator, RandomState or None
        Seed of the draw (without replacement, within each cluster): an int in
        ``[0, 2**32 - 1]`` or a Generator is used by :func:`numpy.random.default_rng`; a
        RandomState gives it a seed (:func:`gmmlab._validation.check_seed`).
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
    if labels is None or isinstance(labels, (str, bytes, dict, set)):
        raise TypeError(f"labels must be an array of {len(images)} integer cluster indices, got "
                        f"{type(labels).__name__}")
    labels = np.asarray(to_numpy(labels))
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be {len(images)} integer cluster indices (one per image), got {labels.shape} {labels.dtype}")
    if labels.min() < 0:
        raise ValueError("labels must be non-negative cluster indices")
    check_int(n_per_cluster, "n_per_cluster", low=1)
    if isinstance(random_state, np.random.Generator):
        seed = random_state
    elif isinstance(random_state, np.random.RandomState):
        seed = check_seed(random_state)
    else:  # None or an int in [0, 2**32 - 1], as everywhere in gmmlab
        seed = check_random_state_value(random_state)
    _check_format(row_label_format, "row_label_format", 0, k=0, n=1)
    _check_str(title, "title")
    check_positive_float(size, "size")
    n_clusters = int(labels.max()) + 1
    if n_clusters > len(images):
        raise ValueError(
            f"labels holds the cluster index {n_clusters - 1}, but there are only {len(images)} "
            f"images: cluster indices must lie in 0 .. K-1 with K <= {len(images)} (relabel with "
            f"np.unique(labels, return_inverse=True)[1])"
        )
    if n_clusters * int(n_per_cluster) > MAX_GRID_AXES:
        raise ValueError(
            f"labels holds cluster indices up to {n_clusters - 1}: {n_clusters} rows of "
            f"n_per_cluster={int(n_per_cluster)} images exceed the {MAX_GRID_AXES} images one figure "
            f"can hold"
        )
    if row_labels is not None:
        row_labels = [str(r) for r in _check_text_list(row_labels, "row_labels")]
        if len(row_labels) != n_clusters:
            raise ValueError(f"row_labels has {len(row_labels)} entries, expected one per cluster ({n_clusters})")
    rng = np.random.default_rng(seed)
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
    if len(centers) > MAX_GRID_AXES:
        raise ValueError(f"centers holds {len(centers)} images: at most {MAX_GRID_AXES} fit in one figure")
    if titles is not None:
        titles = _check_text_list(titles, "titles")
        if len(titles) != len(centers):
            raise ValueError(f"titles has {len(titles)} entries, expected one per center ({len(centers)})")
    check_int(ncols, "ncols", low=1)
    _check_str(title, "title")
    check_positive_float(size, "size")
    _check_cmap(cmap)
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
    try:
        table = np.asarray(to_numpy(table))
    except (ValueError, TypeError):  # ragged rows
        raise ValueError("table must be a non-empty 2-D array of counts, got rows of unequal length") from None
    if table.ndim != 2 or table.size == 0:
        raise ValueError(f"table must be a non-empty 2-D array of counts, got shape {table.shape}")
    if table.dtype.kind not in "iuf" or np.any(table < 0) or not np.all(np.isfinite(table)):
        raise ValueError("table must hold finite, non-negative counts")
    if table.size > MAX_TABLE_CELLS:
        raise ValueError(f"table has {table.size} cells: at most {MAX_TABLE_CELLS} counts can be written in one figure")
    n_rows, n_cols = table.shape
    row_labels = list(range(n_rows)) if row_labels is None else _check_text_list(row_labels, "row_labels")
    col_labels = list(range(n_cols)) if col_labels is None else _check_text_list(col_labels, "col_labels")
    if len(row_labels) != n_rows or len(col_labels) != n_cols:
        raise ValueError(
            f"row_labels/col_labels must have {n_rows}/{n_cols} entries, got {len(row_labels)}/{len(col_labels)}"
        )
    for name, value in (("xlabel", xlabel), ("ylabel", ylabel), ("title", title), ("colorbar_label", colorbar_label)):
        _check_str(value, name)
    _check_axes(ax, optional=True)
    totals = table.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(totals)):
        raise ValueError(f"table's row totals overflow {table.dtype} (counts as large as {table.max():.3g})")
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
