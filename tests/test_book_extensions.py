"""The book's own Sphinx extensions (book/_ext): per-chapter numbering, per-page language."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

import chapter_numbering  # noqa: E402
import page_language  # noqa: E402


def test_chapter_number():
    assert chapter_numbering.chapter_number("book/fr/08_kmeans_missing") == 8
    assert chapter_numbering.chapter_number("book/pt/02_kmeans") == 2
    for page in ("book/fr/index", "book/pt/glossary", "book/references", "book/index"):
        assert chapter_numbering.chapter_number(page) is None


def test_renumber_per_chapter_in_reading_order():
    # Sphinx's numbers run across the book; they become (chapter, k) in each chapter.
    numbers = {
        "book/fr/02_kmeans": {"displaymath": {"a": (3,), "b": (1,), "c": (2,)}, "exercise": {"x": (1,)}},
        "book/fr/08_kmeans_missing": {"displaymath": {"d": (75,), "e": (74,)}, "theorem": {"t": (9,)}},
        "book/fr/glossary": {"table": {"g": (4,)}},
    }
    chapter_numbering.renumber(numbers)
    assert numbers["book/fr/02_kmeans"] == {"displaymath": {"b": (2, 1), "c": (2, 2), "a": (2, 3)},
                                            "exercise": {"x": (2, 1)}}
    assert numbers["book/fr/08_kmeans_missing"] == {"displaymath": {"e": (8, 1), "d": (8, 2)},
                                                    "theorem": {"t": (8, 1)}}
    assert numbers["book/fr/glossary"] == {"table": {"g": (1,)}}


def test_page_language_by_folder():
    app = SimpleNamespace(config=SimpleNamespace(language="fr"))
    assert page_language.page_language(app, "book/pt/05_em") == "pt"
    assert page_language.page_language(app, "book/fr/05_em") == "fr"
    assert page_language.page_language(app, "book/references") == "fr"  # the book's language


@pytest.mark.parametrize("lang, catalog, words", [
    ("fr", "exercise", {"Exercise": "Exercice"}),
    ("pt", "exercise", {"Exercise": "Exercício", "Solution": "Solução"}),
    ("fr", "proof", {"Theorem": "Théorème", "Lemma": "Lemme"}),
    ("pt", "proof", {"Theorem": "Teorema", "Lemma": "Lema", "Proposition": "Proposição"}),
    ("pt", "sphinx", {"Table %s": "Tabela %s"}),
])
def test_catalogs_answer_in_the_page_language(lang, catalog, words):
    app = SimpleNamespace()
    page_language._init(app)
    translator = app.env_page_translators[lang][catalog]
    for english, translated in words.items():
        assert translator.gettext(english) == translated


def test_missing_words_are_ours_and_fall_back():
    fallback = page_language.gettext.NullTranslations()
    words = page_language._Words({"Solution": "Solução"}, fallback)
    assert words.gettext("Solution") == "Solução"
    assert words.gettext("Exercise") == "Exercise"  # not ours: the package's catalog answers


@pytest.mark.parametrize("lang, word", [("fr", "Démonstration. "), ("pt", "Demonstração. ")])
def test_proof_word_translated(lang, word):
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    doc = new_document("<test>", get_default_settings(Parser))
    proof = nodes.admonition(classes=["proof", "proof"])
    proof += nodes.paragraph(text="Proof. On écrit x.")
    other = nodes.admonition(classes=["note"])
    other += nodes.paragraph(text="Proof. Not a proof.")
    doc += [proof, other]
    page_language._translate_proof_word(doc, lang)
    assert proof.astext() == word + "On écrit x."
    assert other.astext() == "Proof. Not a proof."
