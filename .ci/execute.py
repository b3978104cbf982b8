"""Re-execute book chapters: read each MyST Markdown chapter, run it top to bottom and
store the outputs in its paired ``.ipynb`` (what nbval checks and the book renders).

Usage (from the repository root)::

    python .ci/execute.py book/fr/02_kmeans.md book/pt/02_kmeans.md
    python .ci/execute.py            # every chapter, both languages

The notebook runs in its own folder with the ``python3`` kernel, like nbval runs it;
no timing metadata is stored, so re-executing an unchanged chapter changes nothing but
what really changed.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

ROOT = Path(__file__).resolve().parents[1]


def chapters() -> list[Path]:
    """Every paired chapter (``book/<lang>/NN_name.md``)."""
    return sorted((ROOT / "book").glob("*/[0-9][0-9]_*.md"))


def stable_cell_ids(nb) -> None:
    """Cell ids from each cell's type and source (jupytext draws random ones), so that
    re-executing a chapter does not rewrite the id of every cell."""
    seen: dict[str, int] = {}
    for cell in nb.cells:
        base = hashlib.sha256(f"{cell.cell_type}\0{cell.source}".encode()).hexdigest()[:12]
        seen[base] = seen.get(base, 0) + 1
        cell.id = base if seen[base] == 1 else f"{base}-{seen[base]}"


def execute(md: Path) -> Path:
    nb = jupytext.read(md)
    client = NotebookClient(
        nb,
        timeout=3600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(md.parent)}},
    )
    client.execute()
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    stable_cell_ids(nb)
    nbformat.validate(nb)
    out = md.with_suffix(".ipynb")
    jupytext.write(nb, out, fmt="ipynb")
    md.touch()  # the .md stays the newer file of the pair, as jupytext expects
    return out


def main(argv: list[str]) -> int:
    # the kernels' environment under nbval: no progress bars, OpenBLAS's kernel pinned
    sys.path.insert(0, str(ROOT))
    import conftest  # noqa: F401
    paths = [Path(p).resolve() for p in argv] or chapters()
    for md in paths:
        if md.suffix != ".md":
            md = md.with_suffix(".md")
        start = time.perf_counter()
        out = execute(md)
        print(f"{out.relative_to(ROOT)}: executed in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
