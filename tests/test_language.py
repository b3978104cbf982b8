"""The book's two languages stay native: Hunspell spelling and typography, per page.

Every chapter, preface and glossary page of ``book/fr`` and ``book/pt`` is checked (see
``tests/language.py`` for what counts as prose). A word that neither Hunspell's
dictionary of the page's language (Debian's ``hunspell-fr``, ``hunspell-pt-br``, read
through ``pyenchant``) nor the project's word list ``tests/wordlists/<lang>.txt`` knows
fails with its file and line; so does a typographic fault. Technical terms go into the
word list; everything else is corrected in the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import language
from language import spelling_errors, typography_errors

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("[fp][rt]/*.md"))


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_there_are_pages_in_both_languages():
    assert {p.parent.name for p in PAGES} == {"fr", "pt"}


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_spelling(page):
    # A glossary's table gives each term in the three languages: only the page's column is checked.
    columns = {0, 3} if page.stem == "glossary" else None
    bad = spelling_errors(page.read_text(encoding="utf-8"), page.parent.name, table_columns=columns)
    assert not bad, "unknown words (fix them, or add a technical term to tests/wordlists/):\n" + "\n".join(
        f"{_rel(page)}:{n}: {w}" for n, w in bad
    )


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_typography(page):
    bad = typography_errors(page.read_text(encoding="utf-8"), page.parent.name)
    assert not bad, "typography:\n" + "\n".join(f"{_rel(page)}:{n}: {msg}" for n, msg in bad)


# -- the checks can fail ----------------------------------------------------------------

BAD_FR = """---
kernelspec: {}
---

# Un titre : mal espacé

La vraisemblence augmente ; vraiment ? Oui ! Elle vaut 0.98, soit 98 % sur 60 000 points.
On dit « features » sans espaces : «mot».

```{code-cell} ipython3
x = "texte ; ignoré : 0.5 motinconnu"
```

$$
\\mathrm{motinconnu} : x
$$
"""

GOOD_FR = (
    "# Un titre\u00a0: bien espacé\n\n"
    "La vraisemblance augmente\u202f; vraiment\u202f? Oui\u202f! Elle vaut 0,98, soit 98\u202f% sur "
    "60\u202f000 points, $a : b$ et `x ; y` mis à part.\n«\u00a0mot\u00a0»\n"
)

BAD_PT = """# Um título

A verossimilhansa do centróide cresce 95 % « assim », segundo a lei normal, e vale 0.5.
"""

GOOD_PT = "# Um título\n\nA verossimilhança do centroide cresce 95%, “assim”, e vale 0,5 em 60.000 pontos; segundo a distribuição normal.\n"


def test_french_checks_catch_a_bad_sample():
    typo = typography_errors(BAD_FR, "fr")
    lines = {n for n, _ in typo}
    assert {5, 7, 8} <= lines and not lines & {11, 15}, typo
    messages = " ".join(m for _, m in typo)
    for expected in ["U+202F) before", "U+00A0) before", "decimal point", "thousands", "« » need"]:
        assert expected in messages, (expected, typo)
    assert ("vraisemblence" in {w for _, w in spelling_errors(BAD_FR, "fr")})
    assert "motinconnu" not in {w for _, w in spelling_errors(BAD_FR, "fr")}
    assert typography_errors(GOOD_FR, "fr") == [] and spelling_errors(GOOD_FR, "fr") == []
    # Figure, section and equation numbers are not decimals.
    assert typography_errors("Voir la figure 9.8, le §9.2, le § 9.3 et les équations 9.14 à 9.22.\n", "fr") == []


def test_portuguese_checks_catch_a_bad_sample():
    messages = " ".join(m for _, m in typography_errors(BAD_PT, "pt"))
    for expected in ["« »", "no space before %", "'centróide'", "'lei normal'", "decimal point"]:
        assert expected in messages, (expected, messages)
    assert {"verossimilhansa", "centróide"} <= {w for _, w in spelling_errors(BAD_PT, "pt")}
    assert typography_errors(GOOD_PT, "pt") == [] and spelling_errors(GOOD_PT, "pt") == []


def test_glossary_columns():
    row = "| centroïde | centroide | centroid | [chapitre 2](02_kmeans.ipynb) |\n"
    assert {w for _, w in spelling_errors(row, "fr")} == {"centroide", "centroid"}
    assert spelling_errors(row, "fr", table_columns={0, 3}) == []


def test_word_list_is_used():
    assert spelling_errors("Le K-means de Lloyd sur MNIST.\n", "fr") == []
    assert spelling_errors("Le motinconnu.\n", "fr", extra={"motinconnu"}) == []


# -- glued numbers follow the page's language ---------------------------------------------

CHAPTER_NOTEBOOKS = sorted((ROOT / "book").glob("[fp][rt]/[0-9][0-9]_*.ipynb"))


_PT_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.])")


def glued_decimal_points(notebook_json: dict, lang: str = "fr") -> list[tuple[str, str]]:
    """``(name, value)`` of each glued value that prints with a decimal point (``0.98``):
    prose numbers are glued as strings made by ``gmmlab.text.number`` (``0,98``). In
    Portuguese a dot that groups thousands (``60.000``, ``1.234,5``) is not a decimal point."""
    bad = []
    for cell in notebook_json["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = data.get("application/papermill.record/text/plain")
            if text is None:
                continue
            value = "".join(text) if isinstance(text, list) else text
            if re.search(r"\d\.\d", _PT_THOUSANDS.sub("", value) if lang == "pt" else value):
                bad.append((out.get("metadata", {}).get("scrapbook", {}).get("name", "?"), value))
    return bad


def test_glued_decimal_points_rule():
    record = {"outputs": [{"data": {"application/papermill.record/text/plain": "0.9842"},
                           "metadata": {"scrapbook": {"name": "auroc"}}}]}
    assert glued_decimal_points({"cells": [record]}) == [("auroc", "0.9842")]
    record["outputs"][0]["data"]["application/papermill.record/text/plain"] = "'0,9842'"
    assert glued_decimal_points({"cells": [record]}) == []
    record["outputs"][0]["data"]["application/papermill.record/text/plain"] = "'60.000'"
    assert glued_decimal_points({"cells": [record]}, "pt") == []
    assert glued_decimal_points({"cells": [record]}, "fr") == [("auroc", "'60.000'")]
    for value in ("'1.234,5'", "'12.345.678'"):
        record["outputs"][0]["data"]["application/papermill.record/text/plain"] = value
        assert glued_decimal_points({"cells": [record]}, "pt") == []
    for value in ("'0.98'", "'60.0001'", "'1.5'"):
        record["outputs"][0]["data"]["application/papermill.record/text/plain"] = value
        assert glued_decimal_points({"cells": [record]}, "pt") == [("auroc", value)]


@pytest.mark.parametrize("notebook", CHAPTER_NOTEBOOKS, ids=_rel)
def test_glued_numbers_have_a_decimal_comma(notebook):
    bad = glued_decimal_points(json.loads(notebook.read_text(encoding="utf-8")), notebook.parent.name)
    assert not bad, f"{_rel(notebook)}: glued with a decimal point (glue gmmlab.text.number(...) instead): {bad}"


def test_list_marker_in_math_rule():
    assert language.list_markers_in_math("Soit $a\n+ b$ et $c$.\n") == [2]
    assert language.list_markers_in_math("Soit $a +\nb$.\n\n- un point\n") == []


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_no_list_marker_breaks_a_formula(page):
    bad = language.list_markers_in_math(page.read_text(encoding="utf-8"))
    assert not bad, (f"{_rel(page)}: lines {bad} continue inline math but open with a list marker "
                     "(+, -, *, 1.): move the operator to the end of the previous line")
