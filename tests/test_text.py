import numpy as np
import pytest

from gmmlab.text import number


def test_decimal_comma_minus_and_grouping():
    assert number(0.98416, ".4f") == "0,9842"
    assert number(np.float64(95.55), ".2f") == "95,55"
    assert number(-287.04, ".1f") == "\u2212287,0"
    assert number(60000, ",d") == "60\u202f000"
    assert number(19304.0, ",.0f") == "19\u202f304"
    assert number(7) == "7"
    # The point really is replaced: the check can fail.
    assert "." not in number(1 / 3, ".6f")


@pytest.mark.parametrize("bad", ["0.5", None, True, 1j, [1.0]])
def test_bad_value(bad):
    with pytest.raises(TypeError, match="value must be a real number"):
        number(bad, ".2f")


def test_bad_spec():
    with pytest.raises(ValueError, match="spec 'q' is not a valid format"):
        number(1.5, "q")
    with pytest.raises(TypeError, match="spec must be"):
        number(1.5, 2)


def test_portuguese_groups_thousands_with_a_dot():
    assert number(60000, ",d", language="pt") == "60.000"
    assert number(-1234567.25, ",.2f", language="pt") == "\u22121.234.567,25"
    assert number(60000, ",d", "fr") == "60\u202f000"
    # Without a grouping option nothing is grouped, in either language.
    assert number(60000, "d", language="pt") == "60000"


@pytest.mark.parametrize("bad", ["en", "PT", "", None])
def test_bad_language(bad):
    with pytest.raises(ValueError, match="language must be 'fr' or 'pt'"):
        number(1.5, ".1f", language=bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float32("nan")])
def test_non_finite_value_is_refused(bad):
    # Before, "nan" and "inf" went into the prose unchanged.
    assert format(bad, ".2f") in ("nan", "inf", "-inf")
    with pytest.raises(ValueError, match="value must be finite"):
        number(bad, ".2f")


@pytest.mark.parametrize("bad", [["fr"], 1, b"fr"])
def test_bad_language_type(bad):
    with pytest.raises(ValueError, match="language must be 'fr' or 'pt'"):
        number(1.5, ".1f", language=bad)


def test_numpy_bool_is_not_a_number():
    with pytest.raises(TypeError, match="value must be a real number"):
        number(np.bool_(True))
