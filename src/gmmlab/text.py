"""Numbers as the book's French and Portuguese prose writes them.

Both languages write a decimal comma (0,98) and a true minus sign (−287,0); French
groups thousands with a narrow no-break space (60 000), Brazilian Portuguese with a
dot (60.000): ``number(60000, ",d", language="pt")``. Chapters glue such strings into their
prose (``glue("auroc", number(0.9842, ".4f"), display=False)``); printed code output
keeps Python's decimal point. Used by every chapter of the book (``book/*/NN_*``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["number"]

_NNBSP = "\u202f"
_MINUS = "\u2212"


_GROUPING = {"fr": _NNBSP, "pt": "."}


def number(value, spec: str = "", language: str = "fr") -> str:
    """``value`` formatted with the format ``spec``, with a decimal comma.

    Parameters
    ----------
    value : real number (int, float, numpy scalar; not bool), finite
    spec : str
        A format specification as for :func:`format` (e.g. ``".4f"``, ``".1f"``, ``",d"``);
        a ``,`` or ``_`` grouping option groups thousands: with a narrow no-break space
        in French, with a dot in Portuguese.
    language : {"fr", "pt"}
        The page's language (only the thousands separator depends on it).

    Returns
    -------
    str

    Examples
    --------
    >>> number(0.98416, ".4f")
    '0,9842'
    >>> number(-287.04, ".1f")
    '−287,0'
    >>> number(60000, ",d") == "60\\u202f000"
    True
    >>> number(60000.5, ",.1f", language="pt")
    '60.000,5'
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"value must be a real number, got {type(value).__name__}")
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        raise ValueError(f"value must be finite to be written in prose, got {value!r}")
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a format specification string, got {type(spec).__name__}")
    if not isinstance(language, str) or language not in _GROUPING:
        raise ValueError(f"language must be 'fr' or 'pt', got {language!r}")
    try:
        text = format(value, spec.replace(",", "_"))
    except (ValueError, TypeError) as err:
        raise ValueError(f"spec {spec!r} is not a valid format for {value!r}: {err}") from None
    return text.replace(".", ",").replace("_", _GROUPING[language]).replace("-", _MINUS)
