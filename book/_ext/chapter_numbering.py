"""Sphinx extension: equations, figures, tables, exercises and theorems numbered per chapter.

A chapter is a page ``book/<lang>/NN_name``; its number is ``NN``. Sphinx numbers
``numfig`` objects across the whole book when the table of contents is not numbered
(chapter 08 would show equation (75)); this extension renumbers them, after Sphinx has
assigned its numbers, as ``(NN, k)``: the ``k``-th object of that kind in the chapter,
in reading order, which Sphinx prints as "8.3". Pages without a chapter number
(the landing pages, the glossaries, the notation pages) keep numbers from 1.
"""

from __future__ import annotations

import re

CHAPTER = re.compile(r"^book/(?:fr|pt)/(\d\d)_")


def chapter_number(docname: str) -> int | None:
    """The chapter number of page ``docname`` (``book/fr/08_x`` -> 8), or None."""
    match = CHAPTER.match(docname)
    return int(match.group(1)) if match else None


def renumber(toc_fignumbers: dict) -> None:
    """Rewrite Sphinx's ``env.toc_fignumbers`` in place: per page, per kind, (chapter, k)."""
    for docname, kinds in toc_fignumbers.items():
        chapter = chapter_number(docname)
        for kind, numbers in kinds.items():
            ordered = sorted(numbers, key=lambda ident: numbers[ident])
            for k, ident in enumerate(ordered, start=1):
                numbers[ident] = (chapter, k) if chapter is not None else (k,)


def _on_env_updated(app, env) -> list[str]:
    renumber(env.toc_fignumbers)
    return []


def setup(app):
    # After Sphinx's own TocTreeCollector (priority 500) has assigned its numbers.
    app.connect("env-get-updated", _on_env_updated, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
