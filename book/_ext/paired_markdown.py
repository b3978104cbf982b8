"""Sphinx extension: offer each chapter's MyST Markdown source for download.

A chapter is rendered from its executed ``NN_name.ipynb``; sphinx-book-theme's download
menu then offers the ``.ipynb`` only. This adds the paired ``NN_name.md`` (what people
edit, open with jupytext) to that menu and copies it next to the ``.ipynb`` under
``_sources/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _paired_markdown(app, docname: str) -> Path | None:
    md = Path(app.srcdir) / f"{docname}.md"
    ipynb = Path(app.srcdir) / f"{docname}.ipynb"
    return md if md.is_file() and ipynb.is_file() else None


def _add_button(app, pagename, templatename, context, doctree) -> None:
    if _paired_markdown(app, pagename) is None:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(
                1,
                {
                    "type": "link",
                    "url": f"{context['pathto']('_sources', 1)}/{pagename}.md",
                    "text": ".md",
                    "tooltip": "MyST Markdown (jupytext)",
                    "icon": "fas fa-file-lines",
                    "label": "download-md-button",
                },
            )


def _copy_sources(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        md = _paired_markdown(app, docname)
        if md is not None:
            target = Path(app.outdir) / "_sources" / f"{docname}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(md, target)


def setup(app):
    # After sphinx-book-theme has built its download menu (default priority 500).
    app.connect("html-page-context", _add_button, priority=900)
    app.connect("build-finished", _copy_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
