"""Guards on the book's sources: the rules that nbval and Sphinx cannot check themselves.

- every chapter's MyST Markdown (``NN_name.md``) and its executed ``.ipynb`` hold the same cells;
- every code cell of every ``.ipynb`` has been executed, top to bottom, without errors
  (nbval silently skips comparing cells without a stored execution count);
- ``book/fr`` and ``book/pt`` mirror each other file for file;
- a French chapter and its Portuguese twin run the same code (rule below);
- every page links to its twin, and the table of contents lists both languages in parallel;
- every chapter opens with the set-up cell that installs gmmlab where it is missing (Colab,
  a fresh Jupyter), from the repository named in ``_config.yml``;
- every cell that asserts a claim of the text is hidden from the reader (tag ``remove-cell``:
  nbval still runs it, the HTML does not show it).

**Same-code rule.** Two code cells are "the same code" when their Python token streams are
identical once comments are dropped and the text of string literals is set aside. Inside
f-strings the replacement fields (expressions, conversions, format specs) still have to agree,
so both languages print the same numbers with the same precision; only the surrounding words
may be translated. Cell tags (e.g. ``nbval-ignore-output``) must agree too.
"""

from __future__ import annotations

import io
import re
import string
import tokenize
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LANGS = {"fr": ("pt", "Ler em português"), "pt": ("fr", "Lire en français")}
CHAPTERS = sorted(BOOK.glob("*/[0-9][0-9]_*.md"))
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
PAGES = sorted(p for p in BOOK.glob("*/*") if p.suffix in (".md", ".ipynb"))


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def _cells(nb) -> list[tuple[str, str, tuple]]:
    return [
        (c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ())))
        for c in nb.cells
    ]


# -- the same-code rule -----------------------------------------------------------------

_STRING_PREFIX = re.compile(r"^([rRbBuUfF]*)('''|\"\"\"|'|\")")


def _fstring_fields(token: str) -> tuple:
    match = _STRING_PREFIX.match(token)
    prefix, quote = match.group(1), match.group(2)
    if "f" not in prefix.lower():
        return ()
    body = token[len(prefix) + len(quote) : -len(quote)]
    try:
        return tuple((f, c, s) for _, f, s, c in string.Formatter().parse(body) if f is not None)
    except ValueError:  # unusual f-string: compare it as an opaque string
        return ("<f-string>",)


def code_signature(source: str) -> tuple:
    """Token stream of ``source`` without comments, with string literals blanked.

    IPython magics (``%``/``!`` lines) are compared verbatim.
    """
    lines, magics = [], []
    for line in source.splitlines():
        if line.lstrip().startswith(("%", "!")):
            magics.append(line.strip())
            lines.append("")
        else:
            lines.append(line)
    out = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if tok.type in skip:
            continue
        if tok.type == tokenize.STRING:
            out.append(("STRING", _fstring_fields(tok.string)))
        else:
            out.append((tok.type, tok.string))
    return tuple(magics), tuple(out)


def test_code_signature_rule():
    fr = 'print(f"moyenne {x:6.2f}")  # commentaire\nfig.suptitle("Étiquette")\n'
    pt = 'print(f"média {x:6.2f}")  # comentário\n\nfig.suptitle("Rótulo")\n'
    assert code_signature(fr) == code_signature(pt)
    assert code_signature('print(f"{x:6.2f}")') != code_signature('print(f"{x:6.3f}")')
    assert code_signature('print(f"{x}")') != code_signature('print(f"{y}")')
    assert code_signature("a = f(x, 1)") != code_signature("a = f(x, 2)")


# -- the guards ---------------------------------------------------------------------------


def test_there_are_chapters():
    assert CHAPTERS, "no chapter found under book/<lang>/NN_name.md"


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_pair_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{_rel(md)} has no executed twin {ipynb.name}: run python .ci/execute.py {_rel(md)}"
    text = jupytext.read(md)
    stored = nbformat.read(ipynb, as_version=4)
    assert _cells(text) == _cells(stored), (
        f"{_rel(md)} and {ipynb.name} differ: re-execute with python .ci/execute.py {_rel(md)}"
    )
    assert stored.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=_rel)
def test_notebook_fully_executed(ipynb):
    assert ipynb.with_suffix(".md").is_file(), f"{_rel(ipynb)} has no MyST Markdown source"
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert None not in counts, f"{_rel(ipynb)}: code cell(s) never executed; nbval would not compare them"
    assert counts == list(range(1, len(code) + 1)), f"{_rel(ipynb)}: not executed top to bottom once: {counts}"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{_rel(ipynb)} stores an error: {errors[0].get('ename')}"


def test_languages_mirror_file_for_file():
    fr = {p.relative_to(BOOK / "fr") for p in (BOOK / "fr").rglob("*") if p.is_file()}
    pt = {p.relative_to(BOOK / "pt") for p in (BOOK / "pt").rglob("*") if p.is_file()}
    assert fr, "book/fr is empty"
    assert fr == pt, f"only in fr: {sorted(map(str, fr - pt))}; only in pt: {sorted(map(str, pt - fr))}"


@pytest.mark.parametrize("md", [p for p in CHAPTERS if p.parent.name == "fr"], ids=_rel)
def test_twins_run_the_same_code(md):
    twin = BOOK / "pt" / md.name
    fr_code = [(c.source, c.metadata.get("tags", [])) for c in jupytext.read(md).cells if c.cell_type == "code"]
    pt_code = [(c.source, c.metadata.get("tags", [])) for c in jupytext.read(twin).cells if c.cell_type == "code"]
    assert len(fr_code) == len(pt_code), f"{md.name}: {len(fr_code)} code cells in fr, {len(pt_code)} in pt"
    for i, ((a, tags_a), (b, tags_b)) in enumerate(zip(fr_code, pt_code)):
        assert code_signature(a) == code_signature(b), f"{md.name}: code cell {i} differs:\n{a}\n---\n{b}"
        assert sorted(tags_a) == sorted(tags_b), f"{md.name}: code cell {i} has tags {tags_a} vs {tags_b}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.suffix == ".md"], ids=_rel)
def test_page_links_to_its_twin(page):
    lang = page.parent.name
    other, text = LANGS[lang]
    target = page.with_suffix(".ipynb").name if page.with_suffix(".ipynb").exists() else page.name
    link = f"[{text}](../{other}/{target})"
    assert link in page.read_text(encoding="utf-8"), f"{_rel(page)} lacks the link {link}"


_SETUP_INSTALL = re.compile(r'%pip install --quiet "gmmlab @ git\+(?P<url>\S+)" myst-nb')


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_chapter_opens_with_setup_cell(md):
    first = next(c.source for c in jupytext.read(md).cells if c.cell_type == "code")
    assert first.lstrip().startswith("#"), f"{_rel(md)}: the set-up cell must open with a comment saying what it does"
    assert 'if importlib.util.find_spec("gmmlab") is None:' in first, f"{_rel(md)}: first code cell is not the set-up cell"
    match = _SETUP_INSTALL.search(first)
    assert match, f"{_rel(md)}: the set-up cell does not install gmmlab from the repository"
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert match["url"] == repository, f"{_rel(md)}: installs from {match['url']}, _config.yml names {repository}"


def test_toc_lists_both_languages_in_parallel():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = {p["caption"]: [c["file"] for c in p["chapters"]] for p in toc["parts"]}
    fr, pt = parts["Français"], parts["Português"]
    assert [f.replace("book/fr/", "") for f in fr] == [f.replace("book/pt/", "") for f in pt]
    assert fr[0] == "book/fr/index" and pt[0] == "book/pt/index", "each part opens with its preface"
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in PAGES}
    listed = {f for files in parts.values() for f in files}
    assert pages <= listed, f"pages missing from _toc.yml: {sorted(pages - listed)}"


# -- claims are checked in hidden cells ---------------------------------------------------


def asserts_in(source: str) -> int:
    """Number of ``assert`` statements in a code cell (magics and comments ignored)."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tokens = tokenize.generate_tokens(io.StringIO(code + "\n").readline)
    return sum(tok.type == tokenize.NAME and tok.string == "assert" for tok in tokens)


def test_asserts_in_rule():
    assert asserts_in("x = 1\nassert x == 1, 'assert'") == 1
    assert asserts_in("# assert nothing\nprint('assert')\nasserted = 2") == 0
    assert asserts_in("for r in R:\n    assert r\n    assert not r is None") == 2


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_assertion_cells_are_hidden(md):
    shown = [
        i for i, c in enumerate(jupytext.read(md).cells)
        if c.cell_type == "code" and asserts_in(c.source) and "remove-cell" not in c.metadata.get("tags", ())
    ]
    assert not shown, f"{_rel(md)}: cell(s) {shown} assert a claim but are shown to the reader: tag them remove-cell"
