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


# -- the apparatus of a course book (issue 16) --------------------------------------------

APPARATUS = {
    "fr": {"objectives": "Objectifs", "prerequisites": "Prérequis", "summary": "## À retenir",
           "exercises": "## Exercices", "homework": "L'énoncé du devoir"},
    "pt": {"objectives": "Objetivos", "prerequisites": "Pré-requisitos", "summary": "## Para lembrar",
           "exercises": "## Exercícios", "homework": "O enunciado da lista"},
}
#: The chapters that answer the homework, and quote its question at their start.
HOMEWORK_CHAPTERS = {"03", "07", "08", "09"}
#: The chapters that carry exercises (at least four each, each with a solution).
EXERCISE_CHAPTERS = {"02", "03", "04", "05", "06", "07", "08", "09"}
_DIRECTIVE = re.compile(r"^(:{3,}|`{3,})\{(?P<name>[a-z:-]+)\}[ \t]*(?P<arg>.*)$", re.M)
_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)


def directives(text: str) -> list[tuple[str, str, str]]:
    """``(name, argument, label)`` of each MyST directive of a page, in order."""
    found = []
    for m in _DIRECTIVE.finditer(text):
        rest = text[m.end():].split("\n", 12)[1:12]
        label = next((_LABEL.match(line).group(1) for line in rest if _LABEL.match(line)), "")
        found.append((m["name"], m["arg"].strip(), label))
    return found


def exercises_and_solutions(text: str) -> tuple[list[str], list[str]]:
    """The labels of a page's exercises, and the exercise labels its solutions answer."""
    found = directives(text)
    exercises = [label for name, _, label in found if name in ("exercise", "exercise-start")]
    solutions = [arg for name, arg, _ in found if name in ("solution", "solution-start")]
    return exercises, solutions


def test_exercise_rules():
    page = (":::{exercise} Titre\n:label: fr-ex-02-a\n\nÉnoncé.\n:::\n\n"
            ":::{solution} fr-ex-02-a\n:class: dropdown\nS.\n:::\n\n"
            ":::{exercise}\n:label: fr-ex-02-b\nÉnoncé.\n:::\n"
            ":::{solution-start} fr-ex-02-b\n:class: dropdown\n:::\n\ntexte\n\n:::{solution-end}\n:::\n")
    assert exercises_and_solutions(page) == (["fr-ex-02-a", "fr-ex-02-b"], ["fr-ex-02-a", "fr-ex-02-b"])
    assert exercises_and_solutions(page.replace(":::{solution} fr-ex-02-a", ":::{note}")) == (
        ["fr-ex-02-a", "fr-ex-02-b"], ["fr-ex-02-b"])


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_chapter_opens_with_objectives_and_prerequisites(md):
    words = APPARATUS[md.parent.name]
    text = md.read_text(encoding="utf-8")
    head = text[: text.find("```{code-cell}")]  # before the set-up cell: right under the title
    blocks = {}
    for key in ("objectives", "prerequisites"):
        block = re.search(r":::\{admonition\} " + re.escape(words[key]) + r"\n(.*?)\n:::", head, re.S)
        assert block, f"{_rel(md)}: no « {words[key]} » admonition under the title"
        blocks[key] = block.group(1)
        items = re.findall(r"^- ", blocks[key], re.M)
        assert (3 if key == "objectives" else 1) <= len(items) <= (5 if key == "objectives" else 8), (
            f"{_rel(md)}: « {words[key]} » has {len(items)} items")
    number = md.name[:2]
    if number != "01":
        assert re.search(r"\]\(0\d_[a-z_]+\.ipynb", blocks["prerequisites"]), (
            f"{_rel(md)}: the prerequisites link to no earlier chapter")
    if number in HOMEWORK_CHAPTERS:
        assert re.search(r":::\{admonition\} " + re.escape(words["homework"]), text[: text.find("\n## ")]), (
            f"{_rel(md)}: chapter {number} answers the homework but does not state its question at its start")


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_chapter_closes_with_summary_then_exercises(md):
    words = APPARATUS[md.parent.name]
    text = md.read_text(encoding="utf-8")
    sections = re.findall(r"^## .*$", text, re.M)
    assert words["summary"] in sections, f"{_rel(md)}: no section « {words['summary'][3:]} »"
    if md.name[:2] in EXERCISE_CHAPTERS:
        assert sections[-2:] == [words["summary"], words["exercises"]], (
            f"{_rel(md)}: the last two sections must be {words['summary']!r} then {words['exercises']!r}, "
            f"not {sections[-2:]}")


@pytest.mark.parametrize("md", [c for c in CHAPTERS if c.name[:2] in EXERCISE_CHAPTERS], ids=_rel)
def test_chapter_has_four_exercises_with_solutions(md):
    lang, number = md.parent.name, md.name[:2]
    exercises, solutions = exercises_and_solutions(md.read_text(encoding="utf-8"))
    assert len(exercises) >= 4, f"{_rel(md)}: {len(exercises)} exercises, at least 4 expected"
    assert len(set(exercises)) == len(exercises), f"{_rel(md)}: duplicate exercise labels"
    bad = [e for e in exercises if not e.startswith(f"{lang}-ex-{number}-")]
    assert not bad, f"{_rel(md)}: exercise labels must start with {lang}-ex-{number}-: {bad}"
    assert sorted(solutions) == sorted(exercises), (
        f"{_rel(md)}: exercises without a solution {sorted(set(exercises) - set(solutions))}, "
        f"solutions of no exercise {sorted(set(solutions) - set(exercises))}")
    twin = BOOK / LANGS[lang][0] / md.name
    other, _ = exercises_and_solutions(twin.read_text(encoding="utf-8"))
    assert [e.split("-", 1)[1] for e in exercises] == [e.split("-", 1)[1] for e in other], (
        f"{_rel(md)} and its twin must have the same exercises, in the same order")


@pytest.mark.parametrize("md", [c for c in CHAPTERS if c.name[:2] in EXERCISE_CHAPTERS], ids=_rel)
def test_solutions_are_hidden(md):
    text = md.read_text(encoding="utf-8")
    for m in re.finditer(r"^:::\{(solution|solution-start)\}[ \t]*(\S+)\n(?P<options>(?::[a-z-]+:.*\n)*)", text, re.M):
        assert re.search(r"^:class:.*\bdropdown\b", m["options"], re.M), (
            f"{_rel(md)}: the solution of {m.group(2)} is not hidden (:class: dropdown)")


def test_theorem_labels_follow_the_page_language():
    for md in CHAPTERS:
        lang = md.parent.name
        for name, _, label in directives(md.read_text(encoding="utf-8")):
            if name.startswith("prf:") and name != "prf:proof":
                assert label.startswith(f"{lang}-"), f"{_rel(md)}: {name} without a {lang}- label ({label!r})"


#: Code as wide as the page shows without scrolling (PEP 8's 79; .ci/test_browser.py checks the page).
CODE_WIDTH = 79


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_visible_code_fits_the_page(md):
    wide = [
        (i, len(line)) for i, c in enumerate(jupytext.read(md).cells)
        if c.cell_type == "code" and not {"remove-cell", "remove-input"} & set(c.metadata.get("tags", ()))
        for line in c.source.splitlines() if len(line) > CODE_WIDTH
    ]
    assert not wide, f"{_rel(md)}: code lines wider than {CODE_WIDTH} characters (cell, length): {wide[:8]}"


_LITERALINCLUDE = re.compile(r"^```\{literalinclude\} (?P<path>\S+)\n(?P<options>(?::[a-z-]+:.*\n)*)", re.M)


def _python_object_lines(path: Path, dotted: str) -> list[str]:
    """The lines ``literalinclude`` shows for ``:pyobject: dotted`` (Sphinx's own lookup)."""
    from sphinx.pycode import ModuleAnalyzer

    _, start, end = ModuleAnalyzer.for_file(str(path), "").find_tags()[dotted]
    return path.read_text(encoding="utf-8").splitlines()[start - 1 : end]


@pytest.mark.parametrize("md", CHAPTERS, ids=_rel)
def test_library_code_shown_fits_the_page(md):
    """The library's code that a chapter shows (``literalinclude`` with ``:pyobject:``) fits too."""
    for m in _LITERALINCLUDE.finditer(md.read_text(encoding="utf-8")):
        obj = re.search(r"^:pyobject:\s*(\S+)", m["options"], re.M)
        if not obj:
            continue
        lines = _python_object_lines((md.parent / m["path"]).resolve(), obj.group(1))
        wide = [len(line) for line in lines if len(line) > CODE_WIDTH]
        assert not wide, f"{_rel(md)}: {m['path']}:{obj.group(1)} has lines of {wide} characters"
