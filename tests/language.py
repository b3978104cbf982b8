"""Prose of the book's MyST pages, and the two checks that keep its languages native.

Used by ``tests/test_language.py`` (part of the README's test command). The prose of a
page is what a reader reads as text: code cells, ``literalinclude`` and other code
directives, display and inline math, inline code, roles (``{glue:text}``, ``{cite:p}``,
``{eq}``, ``{ref}``...), link targets, URLs, labels and directive options are set aside.
Admonitions, exercises, proofs and dropdowns are prose.

- :func:`spelling_errors`: words that Hunspell's dictionary of the page's language
  (Debian's ``hunspell-fr`` / ``hunspell-pt-br`` through ``pyenchant``) and the project's
  word list (``tests/wordlists/<lang>.txt``) both reject.
- :func:`typography_errors`: French without its no-break spaces (U+202F before ``; ! ? %``,
  U+00A0 before ``:`` and inside « »), Portuguese with « », a space before ``%``, or a
  European / French form listed in :data:`PT_FORBIDDEN`; in both, a decimal point in a
  number of the prose.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NNBSP, NBSP = "\u202f", "\u00a0"
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})\s*(\{[^}]*\})?\s*(.*)$")
_PROSE_DIRECTIVES = {
    "{admonition}", "{note}", "{warning}", "{tip}", "{important}", "{hint}", "{caution}", "{attention}",
    "{seealso}", "{dropdown}", "{exercise}", "{solution}", "{solution-start}", "{exercise-start}",
    "{prf:theorem}", "{prf:proof}", "{prf:lemma}", "{prf:proposition}", "{prf:definition}",
    "{prf:corollary}", "{prf:remark}", "{prf:example}", "{prf:algorithm}",
}
#: Directives whose argument is a title in the page's language (a solution's argument is a label).
_TITLED_DIRECTIVES = {
    "{admonition}", "{dropdown}", "{exercise}", "{exercise-start}",
    *(d for d in _PROSE_DIRECTIVES if d.startswith("{prf:") and d != "{prf:proof}"),
}
#: Portuguese forms that are European or calqued on the French twin, with what to write instead.
PT_FORBIDDEN = {
    r"\bcentróides?\b": "centroide",
    r"\bidéias?\b": "ideia",
    r"\blei normal\b": "distribuição normal",
    r"\blei a posteriori\b": "distribuição a posteriori",
    r"\bcentra e reduz\b": "padroniza",
    r"\bcentrar e reduzir\b": "padronizar",
    r"\bpartilh": "compartilh-",
    r"\bem esperança\b": "em valor esperado",
    r"\brelançando\b": "rodando de novo",
    r"\bpara reter\b": "para lembrar",
    r"\bpara guardar\b": "para lembrar",
    r"\bficheiros?\b": "arquivo",
    r"\becrã\b": "tela",
    r"\bequipa\b": "time / equipe",
}


def prose_lines(text: str):
    """Yield ``(line number, text)`` for each prose line of a MyST Markdown page."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # front matter
        start = 1
        while start < len(lines) and lines[start].strip() != "---":
            start += 1
        start += 1
    stack: list[tuple[str, bool]] = []  # open fences: (marker, holds prose)
    in_math = False
    for n in range(start, len(lines)):
        line = lines[n]
        s = line.strip()
        if in_math:
            if s.endswith("$$") or s.startswith("$$"):
                in_math = False
            continue
        m = _FENCE.match(line)
        if m:
            marker, directive, rest = m.group(2), m.group(3) or "", m.group(4)
            if stack and not directive and not rest and marker[0] == stack[-1][0][0] and len(marker) >= len(stack[-1][0]):
                stack.pop()
                continue
            if directive or not stack or stack[-1][1]:
                prose = directive in _PROSE_DIRECTIVES
                stack.append((marker, prose))
                if prose and directive in _TITLED_DIRECTIVES and rest:
                    yield n + 1, rest
                continue
        if stack and not stack[-1][1]:
            continue
        if re.match(r"^:[a-zA-Z-]+:", s) or re.match(r"^\(.*\)=$", s):  # directive option, label
            continue
        if s.startswith("$$"):
            if not (len(s) > 4 and s.endswith("$$")):
                in_math = True
            continue
        yield n + 1, line


def prose(text: str):
    """Yield ``(line number, text)`` of the prose with inline math, inline code and roles
    removed, also where such a span runs over a line break."""
    for n, _, _, cleaned in _prose_spans(text):
        yield n, cleaned


def _prose_spans(text: str):
    """Yield ``(line number, line, open span, text)`` for each prose line: the span
    (``"$"`` inline math, ``"`"`` inline code or a role's text, or None) that the line
    continues from the line before, and the line with such spans removed."""
    open_span = None  # "$" inside inline math, "`" inside inline code or a role's text
    for n, line in prose_lines(text):
        starts_in = open_span
        out, i = [], 0
        while i < len(line):
            ch = line[i]
            if ch == "\\" and i + 1 < len(line) and open_span != "`":  # an escaped character
                if open_span is None:
                    out.append(line[i : i + 2])
                i += 2
                continue
            if ch in "$`" and open_span in (None, ch):
                open_span = ch if open_span is None else None
                out.append(" ")
            elif open_span is None:
                out.append(ch)
            i += 1
        yield n, line, starts_in, re.sub(r"\{[a-zA-Z:-]+\}", " ", "".join(out))


def strip_markup(line: str) -> str:
    """The text of a prose line without roles, inline code, inline math, link targets and URLs."""
    line = re.sub(r"\[(Ler em português|Lire en français)\]\([^)]*\)", " ", line)  # the twin link
    line = re.sub(r"\{[a-zA-Z:-]+\}`[^`]*`", " ", line)
    line = re.sub(r"`[^`]*`", " ", line)
    line = re.sub(r"\$[^$]*\$", " ", line)
    line = re.sub(r"\]\([^)]*\)", "]", line)
    line = re.sub(r"https?://\S+", " ", line)
    line = re.sub(r"<[^>]+>", " ", line)
    return line


_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿŒœ]+(?:['’\-][A-Za-zÀ-ÖØ-öø-ÿŒœ]+)*")


def words(text: str):
    """The words of a prose line (elisions split: « l'algorithme » gives l, algorithme)."""
    for w in _WORD.findall(strip_markup(text)):
        for part in re.split(r"['’]", w):
            if len(part) > 1:
                yield part


def word_list(lang: str) -> set[str]:
    path = ROOT / "tests" / "wordlists" / f"{lang}.txt"
    if not path.exists():
        return set()
    return {w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")}


_DICTS: dict[str, object] = {}


def dictionary(lang: str):
    """Hunspell's dictionary for ``lang`` ("fr" or "pt") through pyenchant."""
    if lang not in _DICTS:
        import enchant

        tag = {"fr": "fr_FR", "pt": "pt_BR"}[lang]
        if not enchant.dict_exists(tag):
            raise RuntimeError(f"no Hunspell dictionary {tag}: install Debian's hunspell-fr and hunspell-pt-br")
        _DICTS[lang] = enchant.Dict(tag)
    return _DICTS[lang]


def spelling_errors(
    text: str, lang: str, extra: set[str] | None = None, table_columns: set[int] | None = None
) -> list[tuple[int, str]]:
    """``(line, word)`` for each word of the prose that neither the dictionary nor the word list knows.

    ``table_columns``: in Markdown table rows, check only these columns (0-based): a
    glossary's columns in the other languages are not the page's language.
    """
    d, known = dictionary(lang), word_list(lang) | (extra or set())
    bad = []
    for n, line in prose(text):
        if table_columns is not None and line.lstrip().startswith("|"):
            cells = line.strip().strip("|").split("|")
            line = " ".join(c for i, c in enumerate(cells) if i in table_columns)
        for w in words(line):
            if w in known or w.lower() in known or d.check(w) or d.check(w.lower()):
                continue
            # hyphenated compounds: accept when every part is known
            parts = w.split("-")
            if len(parts) > 1 and all(p in known or d.check(p) or d.check(p.lower()) for p in parts if p):
                continue
            bad.append((n, w))
    return bad


_REFERENCE = re.compile(
    r"(?:(?:§|\b(?:figures?|figuras?|fig\.|sections?|seções|seção|chapitres?|capítulos?|équations?|equações|"
    r"equação|éq\.|eq\.|eqs\.|exercices?|exercícios?|tables?|tabelas?|théorèmes?|teoremas?))[\s\u00a0\u202f]*"
    r"|\d+(?:\.\d+)+(?:–|-|, | et | e | à | a ))$",
    re.IGNORECASE,
)
_DECIMAL_POINT = re.compile(r"(?<![\w.])\d+(?:\.\d+)+(?!\w|\.\d)")


def typography_errors(text: str, lang: str) -> list[tuple[int, str]]:
    """``(line, problem)`` for each typographic fault of the page's prose."""
    bad = []
    for n, raw in prose(text):
        line = strip_markup(raw)
        for m in _DECIMAL_POINT.finditer(line):
            if lang == "pt" and re.fullmatch(r"[1-9]\d{0,2}(\.\d{3})+", m.group(0)):
                continue  # Brazilian thousands: 60.000
            if _REFERENCE.search(line[: m.start()]):
                continue  # a figure, section or equation number: « figure 9.8 », « §9.2 »
            bad.append((n, f"decimal point in {m.group(0)!r}: write a decimal comma"))
            break
        if lang == "fr":
            for m in re.finditer(r"(\S)?([ \u00a0]?)([;!?%])", line):
                before, space, sign = m.groups()
                if before is None and not space:
                    continue
                if space != NNBSP and not (sign == "%" and before is None):
                    if sign in "!?" and before in ("!", "?"):
                        continue
                    bad.append((n, f"{sign!r} needs a narrow no-break space (U+202F) before it"))
            for m in re.finditer(r"(\S?)([ \u202f]?):(?=\s|$)", line):
                if m.group(2) != NBSP and m.group(1):
                    bad.append((n, "':' needs a no-break space (U+00A0) before it"))
            if re.search(r"«(?!\u00a0)", line) or re.search(r"(?<!\u00a0)»", line):
                bad.append((n, "« » need no-break spaces (U+00A0) inside"))
            if re.search(r"\d \d{3}\b", line):
                bad.append((n, "thousands are grouped with a narrow no-break space (U+202F)"))
            if re.search(r'(^|\s)"\w', line):
                bad.append((n, 'quotations take « », not "'))
        else:
            if "«" in line or "»" in line:
                bad.append((n, "Portuguese quotations take “aspas”, not « »"))
            if re.search(r"\d[ \u00a0\u202f]%", raw):
                bad.append((n, "no space before % in Portuguese (95%)"))
            if re.search(r"\}`[ \u00a0\u202f]%", raw):
                bad.append((n, "no space before % in Portuguese (95%)"))
            low = line.lower()
            for form, instead in PT_FORBIDDEN.items():
                found = re.search(form, low)
                if found:
                    bad.append((n, f"{found.group(0)!r}: write {instead!r}"))
    return bad


_LIST_MARKER = re.compile(r"^\s*(?:[+\-*]|\d+[.)])\s")


def list_markers_in_math(text: str) -> list[int]:
    """Line numbers where a line that continues inline math opens with ``+ ``, ``- ``,
    ``* `` or ``1. ``: Markdown reads a list item there and breaks the formula in two."""
    return [
        n for n, line, starts_in, _ in _prose_spans(text)
        if starts_in == "$" and _LIST_MARKER.match(line)
    ]
