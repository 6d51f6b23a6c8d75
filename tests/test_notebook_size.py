"""Notebooks render; the library computes. A standing budget on the notebooks' code keeps it so:
later work adds sections by calling themes, not by growing cells."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: Non-blank, non-comment lines of code cells across the five theme notebooks.
BUDGET = 600


def code_lines(path: Path) -> int:
    """Non-blank, non-comment lines in a notebook's code cells."""
    notebook = nbformat.read(path, as_version=4)
    lines = [line.strip() for cell in notebook.cells if cell.cell_type == "code"
             for line in cell.source.splitlines()]
    return sum(1 for line in lines if line and not line.startswith("#"))


def test_code_lines_are_counted_without_blanks_or_comments(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("# a comment\n\nx = 1\n  # indented comment\ny = 2"),
        nbformat.v4.new_markdown_cell("not code\nat all")])
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert code_lines(path) == 2


def test_the_theme_notebooks_stay_thin():
    counts = {p.name: code_lines(p) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}
    assert len(counts) == 5
    assert sum(counts.values()) <= BUDGET, counts


def test_notebooks_define_no_functions_or_loops():
    """Helpers and loops in cells are rules hiding from unit tests: they belong in a theme."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        assert not re.search(r"^\s*(def|class|for|while) ", code, re.MULTILINE), path.name
