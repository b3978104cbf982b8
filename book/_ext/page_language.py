"""Sphinx extension: the interface language follows the page.

The book is built once, with ``language: fr`` in ``_config.yml``; pages under
``book/pt/`` are rendered with the Portuguese catalogs of Sphinx and of the themes
(pydata-sphinx-theme, sphinx-book-theme) and ``<html lang="pt">``, so that the
theme's own words ("Search", "Download this page", ...) are in the page's language.

The page's body follows it too: the labels that sphinx-exercise and sphinx-proof write
(« Exercice », "Solução", « Théorème », "Demonstração"), the toggles of hidden code cells
(« Afficher le code », "Mostrar o código"), the numbers of figures and
tables ("Tabela 8.1") and Sphinx's own words ("Link para este cabeçalho") are looked up
in the page's language, once when the page is read (the directives' titles) and once
when it is resolved and written (cross-references, the HTML visitors). References to
theorems read « le théorème 6.4 », "o teorema 6.4", lower case as in a sentence.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

import sphinx
import sphinx.locale
from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

#: Folder prefix of a page -> its language.
PAGE_LANGUAGES = {"book/pt/": "pt", "book/fr/": "fr"}
_CATALOG_LANGUAGES = {"pt": ["pt_BR", "pt"], "fr": ["fr", "fr_FR"]}
#: The search box's placeholder (Jupyter Book sets one English text for the whole book).
SEARCH_TEXT = {"pt": "Pesquisar neste livro…", "fr": "Rechercher dans ce livre…"}


def _catalog_dirs(app) -> dict[str, list[Path]]:
    import pydata_sphinx_theme
    import sphinx_book_theme
    import sphinx_exercise
    import sphinx_proof

    book_theme = Path(sphinx_book_theme.__file__).parent / "theme" / "sphinx_book_theme" / "static" / "locales"
    return {
        "sphinx": [Path(sphinx.locale.__file__).parent, Path(pydata_sphinx_theme.__file__).parent / "locale"],
        "booktheme": [book_theme],
        "exercise": [Path(sphinx_exercise.__file__).parent / "translations" / "locales"],
        "proof": [Path(sphinx_proof.__file__).parent / "translations" / "locales"],
    }


#: The numfig_format entries written in the page's language ("Tabela %s"); sphinx-proof's
#: own entries ("theorem %s") are placeholders its visitors replace, and stay as they are.
_NUMFIG_WORDS = {"figure": "Fig. %s", "table": "Table %s", "code-block": "Listing %s", "section": "Section %s"}


def page_language(app, docname: str) -> str:
    """The language of page ``docname``: ``fr`` or ``pt`` by its folder, else the book's."""
    return next((lang for prefix, lang in PAGE_LANGUAGES.items() if docname.startswith(prefix)), None) or (
        app.config.language
    )


def _use(app, language: str) -> None:
    """Make ``language`` the one every gettext lookup and numfig_format answer in."""
    translators = app.env_page_translators.get(language)
    if translators is None:
        return
    for catalog, translator in translators.items():
        sphinx.locale.translators[("general", catalog)] = translator
    numfig = dict(app.config.numfig_format)
    for figtype, words in _NUMFIG_WORDS.items():
        numfig[figtype] = translators["sphinx"].gettext(words)
    numfig["exercise"] = translators["exercise"].gettext("Exercise") + " %s"
    app.config.numfig_format = numfig


def _on_read(app, docname, source) -> None:
    _use(app, page_language(app, docname))


#: sphinx-proof writes its proofs' opening word in English, untranslated ("Proof. ").
PROOF_WORD = {"fr": "Démonstration", "pt": "Demonstração"}


def _translate_proof_word(doctree, language: str) -> None:
    for admonition in doctree.findall(nodes.admonition):
        if "proof" not in admonition["classes"] or not admonition.children:
            continue
        first = next(admonition.children[0].findall(nodes.Text), None)
        if first is not None and first.startswith("Proof. "):
            first.parent.replace(first, nodes.Text(PROOF_WORD[language] + ". " + first[len("Proof. ") :]))


class _PageLanguageBeforeResolving(SphinxPostTransform):
    """Switch to the page's language before its references are resolved and it is written."""

    default_priority = 1  # before sphinx's ReferencesResolver (10)

    def run(self, **kwargs) -> None:
        language = page_language(self.app, self.env.docname)
        _use(self.app, language)
        if language in PROOF_WORD:
            _translate_proof_word(self.document, language)


def _translator(dirs: list[Path], catalog: str, language: str) -> gettext.NullTranslations:
    result = None
    for d in dirs:
        try:
            t = gettext.translation(catalog, localedir=os.fspath(d), languages=_CATALOG_LANGUAGES[language])
        except OSError:
            continue
        if result is None:
            result = t
        else:
            result.add_fallback(t)
    return result or gettext.NullTranslations()


#: Words the packages' catalogs lack (sphinx-exercise 1.2.1 has no "Solution" in Portuguese).
MISSING_WORDS = {"pt": {"exercise": {"Solution": "Solução"}}}


class _Words(gettext.NullTranslations):
    """A few translations of our own, in front of a package's catalog."""

    def __init__(self, words: dict[str, str], fallback: gettext.NullTranslations) -> None:
        super().__init__()
        self.words = words
        self.add_fallback(fallback)

    def gettext(self, message: str) -> str:
        return self.words.get(message) or super().gettext(message)


def _init(app) -> None:
    dirs = _catalog_dirs(app)
    app.env_page_translators = {
        lang: {
            cat: _Words(MISSING_WORDS.get(lang, {}).get(cat, {}), _translator(d, cat, lang))
            for cat, d in dirs.items()
        }
        for lang in _CATALOG_LANGUAGES
    }


def _switch(app, pagename, templatename, context, doctree) -> None:
    if app.builder.format != "html":
        return
    language = page_language(app, pagename)
    translators = app.env_page_translators.get(language)
    if translators is None:
        return
    context["language"] = language
    context["theme_search_bar_text"] = SEARCH_TEXT[language]
    _use(app, language)
    env = getattr(app.builder, "templates", None)
    if env is not None and hasattr(env, "environment"):
        env.environment.install_gettext_translations(translators["sphinx"])


#: The toggles of hidden code cells (myst-nb writes "Show code cell source" on every page).
CELL_PROMPTS = {
    "fr": {"source": ("Afficher le code", "Masquer le code"),
           "output": ("Afficher la sortie", "Masquer la sortie"),
           "content": ("Afficher la cellule", "Masquer la cellule")},
    "pt": {"source": ("Mostrar o código", "Ocultar o código"),
           "output": ("Mostrar a saída", "Ocultar a saída"),
           "content": ("Mostrar a célula", "Ocultar a célula")},
}


class _CellPromptsInPageLanguage(SphinxPostTransform):
    """Word myst-nb's "Show code cell source" toggles in the page's language."""

    default_priority = 200  # after myst-nb's HideInputCells (199) has made the toggles
    formats = ("html",)

    def run(self, **kwargs) -> None:
        from myst_nb.sphinx_ import HideCodeCellNode

        prompts = CELL_PROMPTS.get(page_language(self.app, self.env.docname))
        if prompts is None:
            return
        for node in self.document.findall(HideCodeCellNode):
            classes = node["classes"]
            kind = "source" if "above-input" in classes else "output"
            if "above-input" in classes and any(
                child.get("nb_element") == "cell_code_output" for child in node.children
            ):
                kind = "content"
            node["prompt_show"], node["prompt_hide"] = prompts[kind]


def _lowercase_proof_references(app) -> None:
    """French and Portuguese write « le théorème 6.4 », "o teorema 6.4" in a sentence:
    sphinx-proof's generated reference texts ("Théorème 6.4") lose their capital there.
    A reference given its own text (``{prf:ref}`texte <label>```) is left as written."""
    from sphinx_proof.domain import ProofDomain

    original = ProofDomain.resolve_xref
    if getattr(original, "_gmmlab_lowercase", False):
        return

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        generated = target in contnode[0]
        reference = original(self, env, fromdocname, builder, typ, target, node, contnode)
        if reference is not None and generated and page_language(app, fromdocname) in PROOF_WORD:
            text = reference.children[0]
            if isinstance(text, nodes.Text) and text[:1].isupper():
                reference.replace(text, nodes.Text(text[:1].lower() + text[1:]))
        return reference

    resolve_xref._gmmlab_lowercase = True
    ProofDomain.resolve_xref = resolve_xref


def setup(app):
    app.connect("builder-inited", _init)
    app.connect("builder-inited", _lowercase_proof_references)
    app.connect("source-read", _on_read)
    app.add_post_transform(_PageLanguageBeforeResolving)
    app.add_post_transform(_CellPromptsInPageLanguage)
    # Run before the themes' own html-page-context handlers, which translate strings.
    app.connect("html-page-context", _switch, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
