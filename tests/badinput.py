"""The bad-input sweep's machinery: families of bad values, cases, and how a call is judged.

Every public callable of gmmlab is swept (``tests/test_bad_input.py``): each argument in
turn receives values a student may pass by mistake, the others staying valid. A call
passes when it

- raises a ``ValueError`` or ``TypeError`` (or a subclass, e.g. scikit-learn's
  ``NotFittedError``) whose message names the argument (``Case.names``), or
- for a value that may be accepted (``Case.may_accept``: integer or list data, a tensor,
  huge or tiny magnitudes...), returns a result whose numbers are all finite, or raises
  as above.

It fails when it returns for a value that must be refused (silently wrong), returns
NaN/inf, raises another exception or an error that does not name its argument
(unclear), or runs past ``TIMEOUT_S`` (a hang).

The per-area registries (``tests/badinput_<area>.py``) build their cases with
:func:`sweep` and the value families below; each defines ``CASES``, a dict from the
callable's public name (as :func:`public_callables` spells it) to a function that
returns its list of :class:`Case` (called in the test, so valid models are fitted there).
"""

from __future__ import annotations

import math
import re
import signal
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

#: Seconds one call may take before it counts as a hang.
TIMEOUT_S = 20

MUST_RAISE, MAY_ACCEPT = "must raise", "may accept"


@dataclass
class Case:
    """One call with one bad argument."""

    arg: str  # the argument that receives the bad value
    label: str  # what the value is ("NaN", "3-D", ...)
    call: Callable[[], Any]
    expect: str = MUST_RAISE  # or MAY_ACCEPT
    names: tuple = ()  # words any of which the message must contain (default: arg)
    check: Callable[[Any], str | None] | None = None  # extra check of an accepted result

    def __post_init__(self):
        self.names = tuple(self.names) or (self.arg,)


# --------------------------------------------------------------------------- values


def bad_arrays(valid, *, ndim: int | None = None, optional: bool = False, accept_empty=False):
    """``(label, value, expectation)`` for a float array argument whose valid value is ``valid``.

    ``optional``: None is a valid value (not swept). ``accept_empty``: an empty array may
    be accepted.
    """
    valid = np.asarray(valid, dtype=float)
    ndim = valid.ndim if ndim is None else ndim
    out = []

    def put(label, value, expect=MUST_RAISE):
        out.append((label, value, expect))

    with_nan = valid.copy()
    with_nan.flat[0] = np.nan
    with_inf = valid.copy()
    with_inf.flat[-1] = np.inf
    with_minf = valid.copy()
    with_minf.flat[0] = -np.inf
    put("NaN", with_nan)
    put("inf", with_inf)
    put("-inf", with_minf)
    put("empty", valid[:0], MAY_ACCEPT if accept_empty else MUST_RAISE)
    if ndim == 2:
        put("no columns", valid[:, :0], MAY_ACCEPT if accept_empty else MUST_RAISE)
        put("1-D", valid[:, 0])
    if ndim >= 1:
        put("3-D" if ndim == 2 else f"{ndim + 1}-D", valid[None, ...])
    put("scalar", 1.5)
    put("string", "abc")
    if not optional:
        put("None", None)
    put("dict", {"a": 1})
    put("array of strings", np.full(valid.shape, "a"))
    put("object array of numbers", valid.astype(object), MAY_ACCEPT)
    put("object array with None", np.array([None] * valid.size, dtype=object).reshape(valid.shape))
    put("bool", valid > np.median(valid), MAY_ACCEPT)
    put("complex", valid + 1j)
    put("integer", np.round(valid * 3).astype(np.int64), MAY_ACCEPT)
    put("uint8", np.clip(np.round(valid * 3) + 10, 0, 255).astype(np.uint8), MAY_ACCEPT)
    put("list", valid.tolist(), MAY_ACCEPT)
    if ndim == 2:
        with warnings.catch_warnings():  # numpy's PendingDeprecationWarning for np.matrix
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            put("np.matrix", np.asmatrix(valid), MAY_ACCEPT)
    put("torch tensor", _tensor(valid), MAY_ACCEPT)
    put("huge (x 1e300)", valid * 1e300, MAY_ACCEPT)
    put("tiny (x 1e-300)", valid * 1e-300, MAY_ACCEPT)
    return out


def bad_ints(valid: int = 3, *, low: int = 1, high: int | None = None, optional=False):
    """Bad values for an integer argument of valid range ``[low, high]``."""
    out = [
        ("float", valid + 0.5, MUST_RAISE),
        ("string", str(valid), MUST_RAISE),
        ("NaN", math.nan, MUST_RAISE),
        ("inf", math.inf, MUST_RAISE),
        ("list", [valid], MUST_RAISE),
        ("complex", complex(valid, 1), MUST_RAISE),
        ("below range", low - 1, MUST_RAISE),
        ("negative", -5 if low > -5 else low - 5, MUST_RAISE),
    ]
    if not optional:
        out.append(("None", None, MUST_RAISE))
    if high is not None:
        out.append(("above range", high + 1, MUST_RAISE))
    return out


def bad_floats(valid: float = 1.0, *, low: float | None = 0.0, high: float | None = None,
               low_open: bool = False, optional=False):
    """Bad values for a float argument, valid in ``[low, high]`` (``(low, ...]`` when ``low_open``)."""
    out = [
        ("string", str(valid), MUST_RAISE),
        ("NaN", math.nan, MUST_RAISE),
        ("list", [valid], MUST_RAISE),
        ("complex", complex(valid, 1), MUST_RAISE),
        ("array", np.array([valid, valid]), MUST_RAISE),
    ]
    if high is None:
        out.append(("inf", math.inf, MAY_ACCEPT))
    else:
        out.append(("inf", math.inf, MUST_RAISE))
        out.append(("above range", high * 2 + 1, MUST_RAISE))
    if low is not None:
        out.append(("-inf", -math.inf, MUST_RAISE))
        out.append(("below range", low - 1.0, MUST_RAISE))
        if low_open:
            out.append(("at the open end", low, MUST_RAISE))
    if not optional:
        out.append(("None", None, MUST_RAISE))
    return out


def bad_choices(*, optional=False):
    """Bad values for a string option."""
    out = [("unknown string", "bogus", MUST_RAISE), ("empty string", "", MUST_RAISE),
           ("int", 1, MUST_RAISE), ("list", ["a"], MUST_RAISE)]
    if not optional:
        out.append(("None", None, MUST_RAISE))
    return out


def bad_bools():
    return [("string", "yes", MUST_RAISE), ("int 2", 2, MUST_RAISE), ("None", None, MUST_RAISE),
            ("list", [True], MUST_RAISE)]


def bad_random_states():
    """``random_state`` must be None, an int in [0, 2**32) or a RandomState."""
    return [("string", "x", MUST_RAISE), ("negative", -1, MUST_RAISE),
            ("too large", 2**40, MUST_RAISE), ("float", 1.5, MUST_RAISE),
            ("Generator", np.random.default_rng(0), MUST_RAISE), ("list", [1], MUST_RAISE)]


def bad_devices():
    import torch

    out = [("unknown name", "bogus", MUST_RAISE), ("int", 123, MUST_RAISE),
           ("meta", "meta", MUST_RAISE), ("list", ["cpu"], MUST_RAISE)]
    if not torch.cuda.is_available():
        out.append(("cuda without a GPU", "cuda", MUST_RAISE))
    return out


def _tensor(a):
    import torch

    return torch.as_tensor(np.asarray(a))


def sweep(arg: str, call: Callable[[Any], Any], values, *, names=(), check=None,
          skip=()) -> list[Case]:
    """Cases that pass each of ``values`` (from a family above) as argument ``arg``.

    ``call(value)`` makes the call with ``value`` in the place of ``arg``; ``skip`` lists
    labels not to use (say why next to the call).
    """
    return [
        Case(arg, label, (lambda v=value: call(v)), expect, names=names, check=check)
        for label, value, expect in values
        if label not in skip
    ]


# --------------------------------------------------------------------------- judging


def finite_problems(result, _depth: int = 0) -> str | None:
    """Where ``result`` holds a non-finite number (arrays, numbers, tuples, estimators...)."""
    if _depth > 4 or result is None or isinstance(result, (str, bytes, bool)):
        return None
    if hasattr(result, "detach") and hasattr(result, "cpu"):  # a torch tensor
        result = result.detach().cpu().numpy()
    if isinstance(result, (float, int, complex, np.number, np.ndarray)):
        a = np.asarray(result)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return "non-finite values"
        return None
    if isinstance(result, dict):
        items = result.values()
    elif isinstance(result, (tuple, list)):
        items = result
    elif hasattr(result, "__dict__") and type(result).__module__.startswith("gmmlab"):
        items = [v for k, v in vars(result).items() if k.endswith("_") or not k.startswith("_")]
    else:
        return None
    for item in items:
        problem = finite_problems(item, _depth + 1)
        if problem:
            return problem
    return None


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def names_argument(message: str, names) -> bool:
    """Whether ``message`` contains one of ``names`` as a word (``X``, ``n_components``)."""
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in names)


def judge(case: Case) -> str | None:
    """None when the call behaves; otherwise what is wrong with it."""
    from sklearn.exceptions import NotFittedError

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = case.call()
            except _Timeout:
                return f"hang (over {TIMEOUT_S} s)"
            except NotFittedError:
                return None
            except (ValueError, TypeError) as exc:
                message = str(exc)
                if names_argument(message, case.names):
                    return None
                return f"unclear {type(exc).__name__}: {message[:200]!r} (does not name {case.names[0]!r})"
            except Exception as exc:  # noqa: BLE001 - that is what the sweep looks for
                return f"unclear {type(exc).__name__}: {str(exc)[:200]!r}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        _close_figures()
    if case.expect == MUST_RAISE:
        return "silently accepted"
    problem = finite_problems(result)
    if problem is None and case.check is not None:
        problem = case.check(result)
    return problem and f"accepted with {problem}"


def _close_figures():
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# --------------------------------------------------------------------------- the public API

#: The namespaces whose ``__all__`` is gmmlab's public API.
PUBLIC_MODULES = (
    "gmmlab.kmeans", "gmmlab.mixture", "gmmlab.ood", "gmmlab.metrics", "gmmlab.plotting",
    "gmmlab.variational", "gmmlab.data", "gmmlab.cache", "gmmlab.text",
)


def public_callables() -> dict[str, Any]:
    """Every public function, estimator/class constructor and public method, by name
    (``"lloyd_step"``, ``"KMeans"``, ``"KMeans.fit"``); re-exports counted once."""
    import importlib
    import inspect

    out = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj):
                continue
            if not (getattr(obj, "__module__", "") or "").startswith("gmmlab"):
                continue  # re-exported from scikit-learn
            out.setdefault(name, obj)
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if not attr.startswith("_") and callable(value):
                        out.setdefault(f"{name}.{attr}", value)
    return out
