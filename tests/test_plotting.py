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
        ((np.zeros((4, 28, 28)),), {"n": 0}, "n must be"),
    ],
)
def test_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        show_images(*args, **kwargs)
