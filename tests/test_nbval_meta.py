"""nbval really compares: a changed stored output makes it fail, and every cell excluded from
comparison says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_ignored_cell_says_why(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and ("nbval-ignore-output" in tags or "nbval-skip" in tags):
            first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            assert first.startswith("#") and len(first) > 15, (
                f"{path.name} cell {index} is excluded from nbval without a comment saying why")


def _first_markdown_output(notebook) -> tuple[int, int]:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue
        for number, output in enumerate(cell.get("outputs", [])):
            if "text/markdown" in output.get("data", {}):
                return index, number
    raise AssertionError("no markdown output stored")


def _nbval(folder: Path, name: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "sanitize.cfg", name],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_nbval_fails_when_a_stored_output_is_altered(tmp_path):
    """The stored notebook, cut after its first markdown output so the check is quick, passes
    nbval as stored and fails once that one output is changed."""
    notebook = nbformat.read(ROOT / "notebooks" / "01_trends.ipynb", as_version=4)
    cell, output = _first_markdown_output(notebook)
    notebook.cells = notebook.cells[: cell + 1]
    shutil.copy(SANITIZE, tmp_path / "sanitize.cfg")
    nbformat.write(notebook, tmp_path / "stored.ipynb")
    data = notebook.cells[cell].outputs[output]["data"]
    data["text/markdown"] = data["text/markdown"].replace("year ending", "year ENDING", 1)
    assert "year ENDING" in data["text/markdown"]
    nbformat.write(notebook, tmp_path / "altered.ipynb")

    stored = _nbval(tmp_path, "stored.ipynb")
    assert stored.returncode == 0, stored.stdout[-2000:]
    altered = _nbval(tmp_path, "altered.ipynb")
    assert altered.returncode == 1, altered.stdout[-2000:]
    assert "year ENDING" in altered.stdout  # the mismatch is reported against the stored text
    code_index = sum(c.cell_type == "code" for c in notebook.cells[:cell])  # nbval counts code cells
    assert f"altered.ipynb::Cell {code_index}" in altered.stdout
    assert "outputs did not match" in altered.stdout.lower() or "mismatch" in altered.stdout.lower()


def test_sanitize_config_does_not_hide_figures():
    """The patterns only touch volatile text: no pattern matches a plain number or a percentage."""
    import re

    text = SANITIZE.read_text(encoding="utf-8")
    patterns = re.findall(r"^regex: (.+)$", text, flags=re.M)
    assert patterns
    for sample in ("564", "46.7", "+25%", "84.6%", "2016-17", "Buckinghamshire (LA 825)"):
        for pattern in patterns:
            assert not re.search(pattern, sample), (pattern, sample)
