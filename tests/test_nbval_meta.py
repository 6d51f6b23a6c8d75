"""nbval really compares: a changed stored output makes it fail, and every cell excluded from
comparison says why."""

from __future__ import annotations

import json
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


@pytest.mark.slow
def test_nbval_fails_when_a_stored_output_is_altered(tmp_path):
    source = ROOT / "notebooks" / "01_trends.ipynb"
    notebook = nbformat.read(source, as_version=4)
    cell, output = _first_markdown_output(notebook)
    data = notebook.cells[cell].outputs[output]["data"]
    original = data["text/markdown"]
    data["text/markdown"] = original.replace("year ending", "year ENDING")
    assert data["text/markdown"] != original
    altered = tmp_path / "01_trends.ipynb"
    nbformat.write(notebook, altered)
    shutil.copy(SANITIZE, tmp_path / "sanitize.cfg")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    # -x stops at the first failing cell, so only the first few cells run.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "sanitize.cfg", altered.name],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "year ENDING" in result.stdout or "mismatch" in result.stdout.lower(), result.stdout[-2000:]
    assert f"Cell {cell}" in result.stdout or "::Cell" in result.stdout


def test_sanitize_config_does_not_hide_figures():
    """The patterns only touch volatile text: no pattern matches a plain number or a percentage."""
    import re

    text = SANITIZE.read_text(encoding="utf-8")
    patterns = re.findall(r"^regex: (.+)$", text, flags=re.M)
    assert patterns
    for sample in ("564", "46.7", "+25%", "84.6%", "2016-17", "Buckinghamshire (LA 825)"):
        for pattern in patterns:
            assert not re.search(pattern, sample), (pattern, sample)
    json.dumps(patterns)  # plain strings, nothing clever
