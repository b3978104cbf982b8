"""Bad-input cases for gmmlab.plotting (the figures of the book's chapters).

Every argument of every public figure helper receives the families of
:mod:`badinput` (and the issue's own examples: ``show_images(ncols=0 | -3 | 2.7,
size=0)``, label -1 with ``class_names``, NaN means and negative weights in the ellipse
helpers, ``plot_density_contours(xlim=(1,))``, ``em_animation(iteration=99,
interval=-1)``, ``plot_lloyd_iterations(steps=[0.5, 1.7])``, ``show_clusters`` with a
label of 20 000). Data are tiny (4 x 4 images, 12 points) and figures are closed by the
judge after each case, so the whole area runs in a few seconds.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from badinput import (  # noqa: E402
    MAY_ACCEPT,
    MUST_RAISE,
    Case,
    bad_arrays,
    bad_bools,
    bad_choices,
    bad_floats,
    bad_ints,
    bad_random_states,
    sweep,
)
from gmmlab import plotting as P  # noqa: E402

# -- tiny valid inputs ---------------------------------------------------------------------

_rng = np.random.default_rng(0)
IMAGES = np.arange(6 * 16, dtype=np.float64).reshape(6, 4, 4) / 95.0  # six 4 x 4 images
LABELS = [0, 1, 2, 0, 1, 2]
NAMES = ["a", "b", "c"]
CLUSTERS = np.array([0, 1, 0, 1, 0, 1])
X2 = _rng.normal(size=(12, 2))
MEANS = np.array([[0.0, 0.0], [2.0, 1.0]])
COVS = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, -0.3], [-0.3, 0.5]]])
COV = COVS[0]
WEIGHTS = np.array([0.4, 0.6])
RESP = np.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5]])
TABLE = np.array([[5, 1], [0, 3]])


_AXES = []


def _ax():
    """One small Axes, reused by every case (the judge's plt.close('all') only forgets
    the figure; drawing into its Axes still works): a figure per case would cost
    30-50 ms each."""
    if not _AXES:
        _AXES.append(plt.subplots(figsize=(1, 1))[1])
    ax = _AXES[0]
    ax.clear()
    return ax


def _density(points):
    return -0.5 * (points**2).sum(axis=1)


def _bounded_density(points):
    # finite at every scale (no square that overflows): for the huge / tiny limits
    return -np.log1p(np.abs(points)).sum(axis=1)


def _frames(n_frames=1, **change):
    resp = np.full((len(X2), 2), 0.5)
    frames = [{"resp": resp, "means": MEANS, "covariances": COVS, "title": f"{i}", "iteration": i}
              for i in range(n_frames)]
    frames[0].update(change)
    return frames


def _renders(fig):
    """The figure draws (some values matplotlib only chokes on when rendering)."""
    fig.canvas.draw()
    return None


def _check_figure(result):
    try:
        return _renders(result)
    except Exception as exc:  # noqa: BLE001 - reported as the problem
        return f"the figure does not draw: {type(exc).__name__}: {exc}"


def _texts(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def _same_titles(expected):
    def check(fig):
        titles = _texts(fig)
        return None if titles == expected else f"titles {titles}, expected {expected}"

    return check


def _strings():
    """Bad values of a str-or-None argument (titles, axis labels)."""
    return [("int", 5, MUST_RAISE), ("list", ["a"], MUST_RAISE)]


def _sizes():
    """Bad values of a figure-size argument (inches, > 0)."""
    return [("string", "1", MUST_RAISE), ("NaN", math.nan, MUST_RAISE), ("inf", math.inf, MUST_RAISE),
            ("0", 0.0, MUST_RAISE), ("negative", -1.0, MUST_RAISE), ("None", None, MUST_RAISE),
            ("bool", True, MUST_RAISE), ("list", [1.0], MUST_RAISE)]


def _label_sequences(valid_len):
    """Bad values of a sequence-of-labels argument."""
    return [
        ("str (its characters would be the labels)", "a" * valid_len, MUST_RAISE),
        ("int", 5, MUST_RAISE),
        ("dict", {i: "a" for i in range(valid_len)}, MUST_RAISE),
        ("too short", ["a"] * (valid_len - 1), MUST_RAISE),
        ("empty", [], MUST_RAISE),
        ("2-D", np.array([["a"] * valid_len] * 2), MUST_RAISE),
        ("nested lists", [["a"]] * valid_len, MUST_RAISE),
    ]


def _colors(k):
    return [
        ("a single colour name", "red", MUST_RAISE),
        ("not colours", ["nope"] * k, MUST_RAISE),
        ("too few", ["red"] * (k - 1), MUST_RAISE),
        ("int", 5, MUST_RAISE),
        ("dict", {"a": "red"}, MUST_RAISE),
        ("NaN RGB", [(np.nan, 0.0, 0.0)] * k, MUST_RAISE),
        ("RGB rows (array)", np.eye(3)[:k], MAY_ACCEPT),
    ]


def _cmaps():
    return [("unknown name", "bogus", MUST_RAISE), ("empty string", "", MUST_RAISE),
            ("int", 1, MUST_RAISE), ("list", ["viridis"], MUST_RAISE)]


# -- DecimalCommaFormatter -------------------------------------------------------------------


def cases_formatter():
    F = P.DecimalCommaFormatter
    out = sweep("useOffset", lambda v: F(useOffset=v),
                [("string", "yes", MUST_RAISE), ("NaN", math.nan, MUST_RAISE),
                 ("inf", math.inf, MUST_RAISE), ("list", [1], MUST_RAISE),
                 ("complex", 1j, MUST_RAISE), ("np.bool_", np.True_, MAY_ACCEPT)])
    # None is matplotlib's "use the rcParam" for the three flags below
    out += sweep("useMathText", lambda v: F(useMathText=v), bad_bools(), skip=("None",))
    out += sweep("useLocale", lambda v: F(useLocale=v), bad_bools(), skip=("None",))
    out += sweep("usetex", lambda v: F(usetex=v), bad_bools(), skip=("None",))
    return out


# -- show_images -----------------------------------------------------------------------------


def cases_show_images():
    S = P.show_images
    base = dict(n=3, ncols=2, size=0.5)
    out = sweep("images", lambda v: S(v, **base), bad_arrays(IMAGES))
    out += sweep("images", lambda v: S(v, **base), [
        ("rows that are not square images", np.zeros((3, 10)), MUST_RAISE),
        ("1-D", np.zeros(16), MUST_RAISE),
        ("images without pixels", np.zeros((3, 0, 4)), MUST_RAISE),
        ("flat rows without pixels", np.zeros((3, 0)), MUST_RAISE),
        ("flat rows", IMAGES.reshape(6, 16), MAY_ACCEPT),
        ("float16", IMAGES.astype(np.float16), MAY_ACCEPT),
    ])
    # the huge / tiny images must also draw
    for case in out:
        if case.label.startswith(("huge", "tiny")):
            case.check = _check_figure
    out += sweep("labels", lambda v: S(IMAGES, v, **base), [
        *_label_sequences(3),
        ("NaN label", [0.0, np.nan, 1.0], MUST_RAISE),
        ("inf label", np.array([0.0, 1.0, np.inf]), MUST_RAISE),
        ("generator", (i for i in range(3)), MAY_ACCEPT),
    ])
    out += [Case("labels", "torch tensor", lambda: S(IMAGES, _tensor([3, 4, 5]), **base), MAY_ACCEPT,
                 check=_same_titles(["3", "4", "5"]))]
    # with class_names a label is an index into them
    named = dict(base, class_names=NAMES)
    out += sweep("labels", lambda v: S(IMAGES, v, **named), [
        ("-1 (would wrap to the last name)", [0, -1, 1], MUST_RAISE),
        ("index past the names", [0, 3, 1], MUST_RAISE),
        ("fractional index", [0, 1.5, 1], MUST_RAISE),
        ("string index", ["0", "1", "2"], MUST_RAISE),
        ("bool index", [True, False, True], MUST_RAISE),
        ("NaN index", [0.0, np.nan, 1.0], MUST_RAISE),
        ("uint8 indices", np.array([2, 0, 1], dtype=np.uint8), MAY_ACCEPT),
        ("integral floats", np.array([2.0, 0.0, 1.0]), MAY_ACCEPT),
    ])
    out += [Case("labels", "uint8 indices (titles)", lambda: S(IMAGES, np.array([2, 0, 1], np.uint8), **named),
                 MAY_ACCEPT, check=_same_titles(["c", "a", "b"]))]
    out += sweep("n", lambda v: S(IMAGES, LABELS, n=v, ncols=2, size=0.5), bad_ints(3, low=1))
    out += sweep("n", lambda v: S(IMAGES, LABELS, n=v, ncols=2, size=0.5),
                 [("bool", True, MUST_RAISE), ("more than the images (shows them all)", 100, MAY_ACCEPT)])
    out += sweep("ncols", lambda v: S(IMAGES, LABELS, n=3, ncols=v, size=0.5),
                 bad_ints(2, low=1) + [("0", 0, MUST_RAISE), ("-3", -3, MUST_RAISE), ("2.7", 2.7, MUST_RAISE),
                                       ("bool", True, MUST_RAISE)])
    out += sweep("class_names", lambda v: S(IMAGES, LABELS, class_names=v, **base),
                 _label_sequences(3) + [("set", set(NAMES), MUST_RAISE)], skip=("too short",))
    out += sweep("class_names", lambda v: S(IMAGES, [0, 1, 2], class_names=v, **base),
                 [("fewer names than classes", ["a", "b"], MUST_RAISE)], names=("class_names", "labels"))
    out += [Case("class_names", "without labels", lambda: S(IMAGES, None, class_names=NAMES, **base))]
    out += sweep("title", lambda v: S(IMAGES, LABELS, title=v, **base), _strings())
    out += sweep("label_format", lambda v: S(IMAGES, LABELS, label_format=v, **base), [
        ("None", None, MUST_RAISE), ("int", 5, MUST_RAISE),
        ("two positional fields", "{} {}", MUST_RAISE), ("named field", "{label}", MUST_RAISE),
        ("bad spec", "{:q}", MUST_RAISE),
    ])
    out += sweep("size", lambda v: S(IMAGES, LABELS, n=3, ncols=2, size=v),
                 bad_floats(0.5, low=0.0, low_open=True) + [("bool", True, MUST_RAISE)])
    return out


def _tensor(a):
    import torch

    return torch.as_tensor(np.asarray(a))


# -- the ellipse helpers ---------------------------------------------------------------------


def cases_full_covariances():
    F = P.full_covariances
    out = sweep("covariances", lambda v: F(v, 2, 2, "full"), bad_arrays(COVS))
    out += sweep("covariances", lambda v: F(v, 2, 2, "full"), [
        ("not symmetric", np.array([[[1.0, 2.0], [0.0, 1.0]]] * 2), MUST_RAISE),
        ("not positive semi-definite", np.array([[[1.0, 2.0], [2.0, 1.0]]] * 2), MUST_RAISE),
        ("negative variances", -COVS, MUST_RAISE),
    ])
    out += sweep("covariances", lambda v: F(v, 2, 2, "tied"), [
        ("tied, not symmetric", np.array([[1.0, 2.0], [0.0, 1.0]]), MUST_RAISE),
        ("tied, NaN", np.full((2, 2), np.nan), MUST_RAISE),
    ])
    diag, spherical = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, 2.0])
    out += sweep("covariances", lambda v: F(v, 2, 2, "diag"), [
        ("diag, negative variance", -diag, MUST_RAISE), ("diag, NaN", diag * np.nan, MUST_RAISE),
        ("diag, full shape", COVS, MUST_RAISE), ("diag, integer", diag.astype(int), MAY_ACCEPT)])
    out += sweep("covariances", lambda v: F(v, 2, 2, "spherical"), [
        ("spherical, negative variance", -spherical, MUST_RAISE), ("spherical, inf", spherical * np.inf, MUST_RAISE),
        ("spherical, 2-D", diag, MUST_RAISE), ("spherical, string", "abc", MUST_RAISE)])
    out += sweep("n_components", lambda v: F(COVS, v, 2, "full"), bad_ints(2, low=1) + [("bool", True, MUST_RAISE)],
                 names=("n_components", "covariances"))
    out += sweep("n_components", lambda v: F(COV, v, 2, "tied"),
                 [("huge (a 10**12-entry expansion)", 10**12, MUST_RAISE)])
    out += sweep("n_features", lambda v: F(COVS, 2, v, "full"), bad_ints(2, low=1) + [("bool", True, MUST_RAISE)],
                 names=("n_features", "covariances"))
    out += sweep("n_features", lambda v: F(np.array([0.5, 2.0]), 2, v, "spherical"),
                 [("huge (a 10**12-entry expansion)", 10**6, MUST_RAISE)])
    out += sweep("covariance_type", lambda v: F(COVS, 2, 2, v), bad_choices())
    return out


def cases_ellipse_parameters():
    E = P.ellipse_parameters
    out = sweep("mean", lambda v: E(v, COV), bad_arrays([0.5, -1.0]))
    out += sweep("mean", lambda v: E(v, COV), [("3 coordinates", [0.0, 0.0, 0.0], MUST_RAISE)])
    out += sweep("covariance", lambda v: E([0.0, 0.0], v), bad_arrays(COV))
    out += sweep("covariance", lambda v: E([0.0, 0.0], v), [
        ("not symmetric", [[1.0, 2.0], [0.0, 1.0]], MUST_RAISE),
        ("not positive semi-definite", [[1.0, 2.0], [2.0, 1.0]], MUST_RAISE),
        ("3 x 3", np.eye(3), MUST_RAISE),
        ("overflowing eigenvalues", [[1e308, 1e308], [1e308, 1e308]], MUST_RAISE),
    ])
    out += sweep("n_std", lambda v: E([0.0, 0.0], COV, v),
                 bad_floats(2.0, low=0.0, low_open=True) + [("bool", True, MUST_RAISE),
                                                            ("huge (overflowing axes)", 1e308, MUST_RAISE)])
    return out


def cases_plot_covariance_ellipses():
    def call(ax=None, means=MEANS, covariances=COVS, **kw):
        return P.plot_covariance_ellipses(_ax() if ax is None else ax, means, covariances, **kw)

    out = sweep("ax", lambda v: P.plot_covariance_ellipses(v, MEANS, COVS), [
        ("None", None, MUST_RAISE), ("string", "ax", MUST_RAISE),
        ("array of Axes", np.array([object(), object()]), MUST_RAISE),
        ("a Figure", plt.figure(figsize=(1, 1)), MUST_RAISE),
    ])
    out += sweep("means", lambda v: call(means=v), bad_arrays(MEANS))
    out += sweep("means", lambda v: call(means=v), [
        ("3 columns", np.zeros((2, 3)), MUST_RAISE),
        ("more means than covariances", np.zeros((3, 2)), MUST_RAISE),
    ], names=("means", "covariances"))
    # covariances go through full_covariances (swept in full above): the cases that matter here
    out += sweep("covariances", lambda v: call(covariances=v), [
        ("NaN", np.full((2, 2, 2), np.nan), MUST_RAISE), ("string", "abc", MUST_RAISE),
        ("None", None, MUST_RAISE), ("torch tensor", _tensor(COVS), MAY_ACCEPT),
        ("not positive semi-definite", np.array([[[1.0, 2.0], [2.0, 1.0]]] * 2), MUST_RAISE),
        ("3 components", np.stack([np.eye(2)] * 3), MUST_RAISE),
        ("overflowing eigenvalues", np.full((2, 2, 2), 1e308), MUST_RAISE),
    ])
    out += sweep("covariance_type", lambda v: call(covariance_type=v), bad_choices())
    out += sweep("n_std", lambda v: call(n_std=v), bad_floats(1.0, low=0.0, low_open=True), skip=("list", "array"))
    out += sweep("n_std", lambda v: call(n_std=v), [
        ("bool", True, MUST_RAISE), ("empty list", [], MUST_RAISE),
        ("list with NaN", [1.0, np.nan], MUST_RAISE), ("list with a negative", [1.0, -2.0], MUST_RAISE),
        ("list of strings", ["1", "2"], MUST_RAISE), ("2-D", [[1.0, 2.0]], MUST_RAISE),
        ("dict", {"a": 1.0}, MUST_RAISE),
        ("array", np.array([1.0, 2.0]), MAY_ACCEPT), ("torch tensor", _tensor([1.0, 2.0]), MAY_ACCEPT),
    ])
    out += sweep("colors", lambda v: call(colors=v), _colors(2))
    out += sweep("weights", lambda v: call(weights=v), bad_arrays(WEIGHTS, optional=True))
    out += sweep("weights", lambda v: call(weights=v), [
        ("negative", np.array([-0.5, 1.5]), MUST_RAISE),
        ("not summing to 1", np.array([0.4, 0.4]), MUST_RAISE),
        ("wrong length", np.array([0.2, 0.3, 0.5]), MUST_RAISE),
        ("float32", WEIGHTS.astype(np.float32), MAY_ACCEPT),
    ])
    out += sweep("mark_means", lambda v: call(mark_means=v), bad_bools())
    out += sweep("linewidth", lambda v: call(linewidth=v), _sizes())
    return out


def cases_plot_density_contours():
    def call(ax=None, log_density=_density, xlim=(-2, 2), ylim=(-2, 2), **kw):
        kw.setdefault("n_grid", 12)
        return P.plot_density_contours(_ax() if ax is None else ax, log_density, xlim, ylim, **kw)

    out = sweep("ax", lambda v: P.plot_density_contours(v, _density, (-2, 2), (-2, 2), n_grid=12),
                [("None", None, MUST_RAISE), ("string", "ax", MUST_RAISE)])
    out += sweep("log_density", lambda v: call(log_density=v), [
        ("None", None, MUST_RAISE), ("array", np.zeros(144), MUST_RAISE),
        ("returns NaN", lambda p: np.full(len(p), np.nan), MUST_RAISE),
        ("returns +inf", lambda p: np.full(len(p), np.inf), MUST_RAISE),
        ("returns -inf everywhere", lambda p: np.full(len(p), -np.inf), MUST_RAISE),
        ("returns strings", lambda p: np.full(len(p), "a"), MUST_RAISE),
        ("returns the wrong length", lambda p: np.zeros(3), MUST_RAISE),
        ("returns a scalar", lambda p: 1.0, MUST_RAISE),
        ("returns a tensor", lambda p: _tensor(_density(p)), MAY_ACCEPT),
        ("returns -inf in places", lambda p: np.where(p[:, 0] > 1, -np.inf, _density(p)), MAY_ACCEPT),
    ])
    for arg in ("xlim", "ylim"):
        def with_lim(v, arg=arg):
            return call(**{arg: v, "log_density": _bounded_density})

        if arg == "xlim":  # ylim goes through the same check
            out += sweep(arg, with_lim, bad_arrays([-2.0, 2.0]))
        out += sweep(arg, with_lim, [
            ("one number (1,)", (1,), MUST_RAISE), ("three numbers", (1, 2, 3), MUST_RAISE),
            ("a scalar", 2.0, MUST_RAISE), ("equal ends", (1.0, 1.0), MUST_RAISE),
            ("span overflows", (-1e308, 1e308), MUST_RAISE), ("strings", ("a", "b"), MUST_RAISE),
            ("reversed (a mirrored grid)", (2.0, -2.0), MAY_ACCEPT),
        ])
    out += sweep("n_grid", lambda v: call(n_grid=v), bad_ints(12, low=2, high=P.MAX_GRID_POINTS)
                 + [("bool", True, MUST_RAISE), ("1", 1, MUST_RAISE)])
    out += sweep("levels", lambda v: call(levels=v), [
        ("0", 0, MUST_RAISE), ("negative", -3, MUST_RAISE), ("float", 2.5, MUST_RAISE),
        ("huge count", 10**9, MUST_RAISE), ("bool", True, MUST_RAISE), ("string", "abc", MUST_RAISE),
        ("empty", [], MUST_RAISE), ("decreasing", [0.0, -1.0], MUST_RAISE), ("NaN level", [np.nan, 0.0], MUST_RAISE),
        ("2-D", [[-1.0, 0.0]], MUST_RAISE), ("None", None, MUST_RAISE), ("complex", [1j, 2j], MUST_RAISE),
        ("array", np.linspace(-2, 0, 5), MAY_ACCEPT), ("numpy int", np.int64(5), MAY_ACCEPT),
    ])
    out += sweep("filled", lambda v: call(filled=v), bad_bools())
    out += sweep("cmap", lambda v: call(cmap=v), _cmaps())
    out += [Case("colour", "unknown keyword passed on", lambda: call(colour="red"), names=("colour",))]
    return out


def cases_responsibility_colors():
    R = P.responsibility_colors
    out = sweep("resp", lambda v: R(v), bad_arrays(RESP))
    out += sweep("resp", lambda v: R(v), [("rows not summing to 1", np.full((2, 2), 0.7), MUST_RAISE),
                                          ("negative", np.array([[1.5, -0.5]]), MUST_RAISE)])
    out += sweep("colors", lambda v: R(RESP, v), _colors(2))
    return out


def cases_em_animation():
    small = dict(figsize=(1.0, 0.8), dpi=10)

    default = object()

    def call(X=X2, frames=default, **kw):
        kw = {**small, **kw}
        return P.em_animation(X, _frames() if frames is default else frames, **kw)

    def ll_call(**kw):
        return call(log_likelihoods=[-3.0, -2.5, -2.0], **kw)

    out = sweep("X", lambda v: call(X=v), bad_arrays(X2), names=("X", "frames"))
    out += sweep("X", lambda v: call(X=v), [("3 columns", np.zeros((12, 3)), MUST_RAISE)])
    out += sweep("frames", lambda v: call(frames=v), [
        ("empty", [], MUST_RAISE), ("None", None, MUST_RAISE), ("int", 3, MUST_RAISE),
        ("a single dict", _frames()[0], MUST_RAISE), ("string", "abc", MUST_RAISE),
        ("list of ints", [1, 2], MUST_RAISE),
        ("lacks 'means'", [{"resp": RESP, "covariances": COVS}], MUST_RAISE),
        ("resp with NaN", _frames(resp=np.full((12, 2), np.nan)), MUST_RAISE),
        ("resp rows not summing to 1", _frames(resp=np.full((12, 2), 0.7)), MUST_RAISE),
        ("resp of another length", _frames(resp=np.full((5, 2), 0.5)), MUST_RAISE),
        ("resp with 3 components, 2 means", _frames(resp=np.full((12, 3), 1 / 3)), MUST_RAISE),
        ("means with NaN", _frames(means=np.array([[np.nan, 0.0], [1.0, 1.0]])), MUST_RAISE),
        ("means of shape (2, 3)", _frames(means=np.zeros((2, 3))), MUST_RAISE),
        ("covariances not PSD", _frames(covariances=np.array([[[1.0, 2.0], [2.0, 1.0]]] * 2)), MUST_RAISE),
        ("covariances with inf", _frames(covariances=np.full((2, 2, 2), np.inf)), MUST_RAISE),
        ("covariances of the wrong shape", _frames(covariances=np.eye(2)), MUST_RAISE),
        ("title not a str", _frames(title=5), MUST_RAISE),
    ])
    out += sweep("iteration", lambda v: ll_call(frames=_frames(iteration=v)), [
        ("99 (past the log-likelihoods)", 99, MUST_RAISE), ("negative", -1, MUST_RAISE),
        ("float", 1.5, MUST_RAISE), ("string", "1", MUST_RAISE), ("None", None, MUST_RAISE),
        ("numpy int", np.int64(2), MAY_ACCEPT),
    ])
    out += [Case("iteration", "missing with log_likelihoods",
                 lambda: ll_call(frames=[{"resp": np.full((12, 2), 0.5), "means": MEANS, "covariances": COVS}]))]
    out += sweep("covariance_type", lambda v: call(covariance_type=v), bad_choices())
    ll = np.array([-3.0, -2.5, -2.0])
    out += sweep("log_likelihoods", lambda v: call(log_likelihoods=v, frames=_frames(iteration=0)), [
        ("NaN", [np.nan, -2.5], MUST_RAISE), ("inf", [-3.0, np.inf], MUST_RAISE), ("empty", [], MUST_RAISE),
        ("2-D", [[-3.0, -2.5]], MUST_RAISE), ("scalar", -3.0, MUST_RAISE), ("string", "abc", MUST_RAISE),
        ("dict", {"a": 1}, MUST_RAISE), ("complex", ll + 1j, MUST_RAISE),
        ("object array with None", np.array([None, None], dtype=object), MUST_RAISE),
        ("torch tensor", _tensor(ll), MAY_ACCEPT), ("integer", [-3, -2], MAY_ACCEPT),
    ])
    out += sweep("colors", lambda v: call(colors=v), _colors(2))
    for arg in ("xlabel", "ylabel", "ll_xlabel", "ll_ylabel"):
        out += sweep(arg, lambda v, arg=arg: ll_call(**{arg: v}), [("int", 5, MUST_RAISE)])
    out += sweep("figsize", lambda v: call(figsize=v), [
        ("zero width", (0.0, 1.0), MUST_RAISE), ("negative", (-1.0, 1.0), MUST_RAISE),
        ("NaN", (np.nan, 1.0), MUST_RAISE), ("inf", (np.inf, 1.0), MUST_RAISE),
        ("one number", 3.0, MUST_RAISE), ("three numbers", (1.0, 1.0, 1.0), MUST_RAISE),
        ("string", "big", MUST_RAISE), ("below one pixel", (0.01, 0.01), MUST_RAISE),
        ("too many pixels", (1e4, 1.0), MUST_RAISE),
    ])
    out += sweep("dpi", lambda v: call(dpi=v), bad_ints(10, low=1) + [("bool", True, MUST_RAISE)],
                 names=("dpi", "figsize"))
    out += sweep("interval", lambda v: call(interval=v), bad_ints(700, low=1) + [
        ("-1", -1, MUST_RAISE), ("0 (fps = 1000 / 0)", 0, MUST_RAISE), ("bool", True, MUST_RAISE)])
    out += sweep("html_id", lambda v: call(html_id=v), [
        ("None", None, MUST_RAISE), ("int", 123, MUST_RAISE), ("with a space", "bad id", MUST_RAISE),
        ("empty", "", MUST_RAISE), ("list", ["a"], MUST_RAISE)])
    return out


# -- K-means figures -------------------------------------------------------------------------


def cases_plot_lloyd_iterations():
    L = P.plot_lloyd_iterations
    init = X2[[0, 1]]

    def costs_finite(fig):
        costs = np.asarray(fig.lloyd_costs, dtype=float)
        return None if np.isfinite(costs).all() else f"costs {costs}"

    base = dict(steps=(0, 1), size=0.8)
    out = sweep("X", lambda v: L(v, init, **base), bad_arrays(X2), check=costs_finite, names=("X", "init"))
    out += sweep("X", lambda v: L(v, init, **base), [("3 columns", np.zeros((12, 3)), MUST_RAISE)],
                 names=("X", "init"))
    out += sweep("init", lambda v: L(X2, v, **base), bad_arrays(init), check=costs_finite)
    out += sweep("init", lambda v: L(X2, v, **base), [
        ("more centers than points", np.zeros((13, 2)), MUST_RAISE),
        ("3 columns", np.zeros((2, 3)), MUST_RAISE),
    ])
    out += sweep("steps", lambda v: L(X2, init, steps=v, size=0.8), [
        ("[0.5, 1.7] (would become [0, 1])", [0.5, 1.7], MUST_RAISE), ("negative", [-1, 0], MUST_RAISE),
        ("not increasing", [2, 1], MUST_RAISE), ("repeated", [1, 1], MUST_RAISE), ("empty", [], MUST_RAISE),
        ("None", None, MUST_RAISE), ("int", 3, MUST_RAISE), ("string", "012", MUST_RAISE),
        ("dict", {0: 1}, MUST_RAISE), ("NaN", [0, np.nan], MUST_RAISE), ("bool", [False, True], MUST_RAISE),
        ("huge iteration (would run 10**9 steps)", [0, 10**9], MUST_RAISE),
        ("too many panels", list(range(60)), MUST_RAISE),
        ("numpy ints", np.array([0, 2]), MAY_ACCEPT), ("torch tensor", _tensor([0, 1]), MAY_ACCEPT),
    ])
    out += sweep("title_format", lambda v: L(X2, init, title_format=v, **base), [
        ("None", None, MUST_RAISE), ("int", 5, MUST_RAISE), ("unknown field", "{iteration}", MUST_RAISE),
        ("positional field", "{}", MUST_RAISE), ("bad spec", "{cost:d}", MUST_RAISE),
    ])
    out += sweep("xlabel", lambda v: L(X2, init, xlabel=v, **base), _strings())
    out += sweep("ylabel", lambda v: L(X2, init, ylabel=v, **base), _strings())
    out += sweep("center_label", lambda v: L(X2, init, center_label=v, **base), _strings() + [("None", None, MUST_RAISE)])
    out += sweep("size", lambda v: L(X2, init, steps=(0, 1), size=v), _sizes())
    return out


def cases_show_clusters():
    S = P.show_clusters
    base = dict(n_per_cluster=2, random_state=0, size=0.3)
    out = sweep("images", lambda v: S(v, CLUSTERS, **base), bad_arrays(IMAGES), names=("images", "labels"))
    out += sweep("labels", lambda v: S(IMAGES, v, **base), [
        ("label 20 000 (a 20 001-row grid)", np.array([0, 1, 0, 1, 0, 20_000]), MUST_RAISE),
        ("label past the number of images", np.array([0, 1, 0, 1, 0, 7]), MUST_RAISE),
        ("-1", np.array([0, 1, 0, 1, 0, -1]), MUST_RAISE),
        ("floats", CLUSTERS.astype(float), MUST_RAISE), ("bool", CLUSTERS.astype(bool), MUST_RAISE),
        ("too short", CLUSTERS[:4], MUST_RAISE), ("2-D", CLUSTERS[None], MUST_RAISE),
        ("None", None, MUST_RAISE), ("string", "010101", MUST_RAISE), ("dict", {"a": 1}, MUST_RAISE),
        ("strings", np.array(list("010101")), MUST_RAISE), ("object with None", np.array([None] * 6), MUST_RAISE),
        ("list", CLUSTERS.tolist(), MAY_ACCEPT), ("uint8", CLUSTERS.astype(np.uint8), MAY_ACCEPT),
        ("torch tensor", _tensor(CLUSTERS), MAY_ACCEPT),
    ])
    out += sweep("n_per_cluster", lambda v: S(IMAGES, CLUSTERS, n_per_cluster=v, random_state=0, size=0.3),
                 bad_ints(2, low=1) + [("bool", True, MUST_RAISE), ("huge", 10**6, MUST_RAISE)])
    # a numpy Generator is documented (default_rng takes it); a RandomState gives it a seed
    out += sweep("random_state", lambda v: S(IMAGES, CLUSTERS, n_per_cluster=2, random_state=v, size=0.3),
                 bad_random_states(), skip=("Generator",))
    out += sweep("random_state", lambda v: S(IMAGES, CLUSTERS, n_per_cluster=2, random_state=v, size=0.3), [
        ("Generator", np.random.default_rng(0), MAY_ACCEPT), ("RandomState", np.random.RandomState(0), MAY_ACCEPT),
        ("bool", True, MUST_RAISE),
    ])
    out += sweep("row_label_format", lambda v: S(IMAGES, CLUSTERS, row_label_format=v, **base), [
        ("None", None, MUST_RAISE), ("int", 5, MUST_RAISE), ("unknown field", "{cluster}", MUST_RAISE),
        ("two positional fields", "{} {}", MUST_RAISE), ("bad spec", "{n:s}", MUST_RAISE),
    ])
    out += sweep("row_labels", lambda v: S(IMAGES, CLUSTERS, row_labels=v, **base), _label_sequences(2))
    out += sweep("title", lambda v: S(IMAGES, CLUSTERS, title=v, **base), _strings())
    out += sweep("size", lambda v: S(IMAGES, CLUSTERS, n_per_cluster=2, random_state=0, size=v), _sizes())
    return out


def cases_show_centroids():
    S = P.show_centroids
    centers = IMAGES[:3] - 0.5
    base = dict(ncols=2, size=0.4)
    out = sweep("centers", lambda v: S(v, **base), bad_arrays(centers))
    for case in out:
        if case.label.startswith(("huge", "tiny")):
            case.check = _check_figure
    out += sweep("centers", lambda v: S(v, **base), [
        ("rows that are not square images", np.zeros((3, 10)), MUST_RAISE),
        ("too many images for a figure", np.zeros((P.MAX_GRID_AXES + 1, 1)), MUST_RAISE),
    ])
    out += sweep("titles", lambda v: S(centers, titles=v, **base), _label_sequences(3))
    out += sweep("ncols", lambda v: S(centers, ncols=v, size=0.4), bad_ints(2, low=1) + [("bool", True, MUST_RAISE)])
    out += sweep("title", lambda v: S(centers, title=v, **base), _strings())
    out += sweep("size", lambda v: S(centers, ncols=2, size=v), _sizes())
    out += sweep("cmap", lambda v: S(centers, cmap=v, **base), _cmaps() + [("None", None, MUST_RAISE)])
    return out


def cases_plot_contingency():
    C = P.plot_contingency
    out = sweep("table", lambda v: C(v), bad_arrays(TABLE.astype(float)))
    out += sweep("table", lambda v: C(v), [
        ("negative count", [[1, -2]], MUST_RAISE), ("ragged rows", [[1, 2], [3]], MUST_RAISE),
        ("row totals overflow", np.full((2, 3), 1e308), MUST_RAISE),
        ("too many cells", np.ones((200, 200)), MUST_RAISE),
        ("integer counts", TABLE, MAY_ACCEPT),
    ])
    for arg, n in (("row_labels", 2), ("col_labels", 2)):
        out += sweep(arg, lambda v, arg=arg: C(TABLE, **{arg: v}), _label_sequences(n))
    for arg in ("xlabel", "ylabel", "title", "colorbar_label"):
        out += sweep(arg, lambda v, arg=arg: C(TABLE, **{arg: v}), _strings())
    out += sweep("ax", lambda v: C(TABLE, ax=v), [("string", "ax", MUST_RAISE), ("int", 1, MUST_RAISE),
                                                  ("array of Axes", np.array([1, 2]), MUST_RAISE)])
    return out


CASES = {
    "DecimalCommaFormatter": cases_formatter,
    "show_images": cases_show_images,
    "full_covariances": cases_full_covariances,
    "ellipse_parameters": cases_ellipse_parameters,
    "plot_covariance_ellipses": cases_plot_covariance_ellipses,
    "plot_density_contours": cases_plot_density_contours,
    "responsibility_colors": cases_responsibility_colors,
    "em_animation": cases_em_animation,
    "plot_lloyd_iterations": cases_plot_lloyd_iterations,
    "show_clusters": cases_show_clusters,
    "show_centroids": cases_show_centroids,
    "plot_contingency": cases_plot_contingency,
}
