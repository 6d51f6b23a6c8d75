"""Bad published inputs, refused with exit 2 and a message naming file, row and column, by
both ``cpstats check`` and ``cpstats report`` (before any notebook starts)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

D1 = "d1_child_protection_plans_2013_to_2022.csv"


def _cpstats(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cpstats.cli", *args], capture_output=True,
                          text=True, timeout=300)


def _edited_d1(cin_2022: Path, folder: Path, edit) -> Path:  # noqa: ANN001 -- rows -> None
    folder.mkdir()
    with (cin_2022 / D1).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    with (folder / D1).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder


def _set(column: str, row: int, value: str):  # noqa: ANN202
    def edit(rows: list[list[str]]) -> None:
        rows[row - 1][rows[0].index(column)] = value
    return edit


def _rename(column: str):  # noqa: ANN202
    def edit(rows: list[list[str]]) -> None:
        rows[0][rows[0].index(column)] = "renamed"
    return edit


@pytest.mark.parametrize("edit, expected", [
    (_set("CPP_At31", 6, "-5"), "row 6, column 'CPP_At31': found '-5'; expected a count"),
    (_set("CPP_start", 7, "1.234"), "row 7, column 'CPP_start': found '1.234'; expected a count"),
    (_set("CPP_At31_rate", 8, "-1"), "row 8, column 'CPP_At31_rate': found '-1'; expected a rate"),
    (_rename("time_period"), "column 'time_period'; expected the columns of DfE table d1"),
    (_rename("geographic_level"), "column 'geographic_level'; expected the columns of DfE table d1"),
])
def test_a_dfe_file_whose_values_or_columns_cannot_be_right_is_refused(edit, expected, cin_2022,
                                                                        tmp_path):
    folder = _edited_d1(cin_2022, tmp_path / "release", edit)
    checked = _cpstats("check", str(folder))
    assert checked.returncode == 2 and expected in checked.stdout + checked.stderr
    reported = _cpstats("report", "--no-progress", "--la", "825", "--dfe-dir", str(folder),
                        "--out", str(tmp_path / "reports"))
    assert reported.returncode == 2 and expected in reported.stderr
    assert "Traceback" not in reported.stderr and not (tmp_path / "reports").exists()


def test_a_pipe_among_the_csvs_is_refused_not_waited_on(cin_2022, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(cin_2022 / D1, folder / D1)
    os.mkfifo(folder / "pipe.csv")
    checked = _cpstats("check", str(folder))
    assert checked.returncode == 2 and "pipe.csv" in checked.stdout + checked.stderr
    reported = _cpstats("report", "--no-progress", "--la", "825", "--dfe-dir", str(folder),
                        "--out", str(tmp_path / "reports"))
    assert reported.returncode == 2
    assert "pipe.csv" in reported.stderr and "an ordinary file" in reported.stderr


def test_a_link_out_of_the_release_folder_is_not_followed(cin_2022, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(cin_2022 / D1, folder / D1)
    secret = tmp_path / "secret.csv"
    secret.write_text("name,notes\nSomeone,private words\n")
    (folder / "link.csv").symlink_to(secret)
    reported = _cpstats("report", "--no-progress", "--la", "825", "--dfe-dir", str(folder),
                        "--out", str(tmp_path / "reports"))
    assert reported.returncode == 2 and "leads outside" in reported.stderr
    assert "private words" not in reported.stderr and "Someone" not in reported.stderr
