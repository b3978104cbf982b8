"""Figures that the chapters repeat, styled once for the whole book.

Every chapter calls :func:`use_book_style` in its first code cell, so that fonts,
sizes and colours agree across pages and figures render byte-identically from one
run to the next (fixed DPI, no timestamps in the files).

Used by every chapter, first by "Données : MNIST et FashionMNIST" /
"Dados: MNIST e FashionMNIST" (``book/*/01_data``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["BOOK_STYLE", "use_book_style", "show_images"]

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


def use_book_style() -> None:
    """Apply the book's matplotlib style (:data:`BOOK_STYLE`) and PNG inline output.

    Also removes the volatile metadata (creation date) that matplotlib writes into
    saved files, so that a figure is byte-identical from one run to the next.
    """
    mpl.rcParams.update(BOOK_STYLE)
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
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"images: rows of length {images.shape[1]} are not square images")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, height, width) or (N, pixels), got {images.shape}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = min(int(n), len(images))
    if n == 0:
        raise ValueError("images is empty")
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
