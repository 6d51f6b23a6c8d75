"""What nbval cannot check in the stored notebooks: figures are there (nbval skips PNG), every
code cell ran, nothing volatile or child-level was stored."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cpstats.childlevel import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Figures each of this issue's notebooks shows in the default run (at least).
MIN_FIGURES = {"01_trends.ipynb": 6, "02_demographics.ipynb": 4,
               "04_referrals_s47_correlation.ipynb": 6}
#: Columns that only a child-level table has (identifiers and dates of one child).
CHILD_COLUMNS = {"child_id", "cin_id", "plan_id", "birth_month", "expected_birth_month",
                 "death_date", "referral_date", "s47_start_date", "review_date"}
HASHED_ID = re.compile(r"\b[0-9a-f]{16,}\b")


def _outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            yield index, cell


def _texts(output) -> list[str]:
    if output.output_type == "stream":
        return [output.text]
    if output.output_type == "error":
        return [output.evalue]
    return [v for k, v in output.get("data", {}).items() if k.startswith("text/")]


def test_child_level_columns_are_the_schema_s():
    assert CHILD_COLUMNS - {"referral_date"} <= {c for t in SCHEMA.values() for c in t}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_ran_and_has_its_figures(path):
    figures = 0
    for index, cell in _outputs(path):
        assert cell.execution_count is not None, f"{path.name} cell {index} was not executed"
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name} cell {index} stored an error"
            figures += "image/png" in output.get("data", {})
    assert figures >= MIN_FIGURES.get(path.name, 1), f"{path.name}: {figures} figures stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_child_level_row_warning_or_path_is_stored(path):
    for index, cell in _outputs(path):
        for output in cell.outputs:
            if output.output_type == "stream":
                assert output.name != "stderr", f"{path.name} cell {index} stored stderr: {output.text[:200]}"
            for text in _texts(output):
                where = f"{path.name} cell {index}"
                assert not CHILD_COLUMNS & set(re.findall(r"[a-z_]+", text)), f"{where}: child-level columns"
                assert not HASHED_ID.search(text), f"{where}: something like a hashed child ID"
                assert "/work/" not in text and "/home/" not in text and "/tmp/" not in text, (
                    f"{where}: a local path")
