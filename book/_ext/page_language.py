"""Sphinx extension: the interface language follows the page.

The book is built once, with ``language: fr`` in ``_config.yml``; pages under
``book/pt/`` are rendered with the Portuguese catalogs of Sphinx and of the themes
(pydata-sphinx-theme, sphinx-book-theme) and ``<html lang="pt">``, so that the
theme's own words ("Search", "Download this page", ...) are in the page's language.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

import sphinx
import sphinx.locale

#: Folder prefix of a page -> its language.
PAGE_LANGUAGES = {"book/pt/": "pt", "book/fr/": "fr"}
_CATALOG_LANGUAGES = {"pt": ["pt_BR", "pt"], "fr": ["fr", "fr_FR"]}
#: The search box's placeholder (Jupyter Book sets one English text for the whole book).
SEARCH_TEXT = {"pt": "Pesquisar neste livro…", "fr": "Rechercher dans ce livre…"}


def _catalog_dirs(app) -> dict[str, list[Path]]:
    import pydata_sphinx_theme
    import sphinx_book_theme

    book_theme = Path(sphinx_book_theme.__file__).parent / "theme" / "sphinx_book_theme" / "static" / "locales"
    return {
        "sphinx": [Path(sphinx.locale.__file__).parent, Path(pydata_sphinx_theme.__file__).parent / "locale"],
        "booktheme": [book_theme],
    }


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


def _init(app) -> None:
    dirs = _catalog_dirs(app)
    app.env_page_translators = {
        lang: {cat: _translator(d, cat, lang) for cat, d in dirs.items()} for lang in _CATALOG_LANGUAGES
    }


def _switch(app, pagename, templatename, context, doctree) -> None:
    if app.builder.format != "html":
        return
    language = next((lang for prefix, lang in PAGE_LANGUAGES.items() if pagename.startswith(prefix)), None)
    language = language or app.config.language
    translators = app.env_page_translators.get(language)
    if translators is None:
        return
    context["language"] = language
    context["theme_search_bar_text"] = SEARCH_TEXT[language]
    for catalog, translator in translators.items():
        sphinx.locale.translators[("general", catalog)] = translator
    env = getattr(app.builder, "templates", None)
    if env is not None and hasattr(env, "environment"):
        env.environment.install_gettext_translations(translators["sphinx"])


def setup(app):
    app.connect("builder-inited", _init)
    # Run before the themes' own html-page-context handlers, which translate strings.
    app.connect("html-page-context", _switch, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
