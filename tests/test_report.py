"""The report runner: parameters checked before any notebook starts, a failing notebook leaves
no partial folder and an earlier report intact, --force is needed to replace a report.

Uses tiny notebooks (a notebooks-dir of their own) so each run costs one kernel start."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cpstats import report
from cpstats.commands import report as commands_report
from cpstats.errors import EXIT_BAD_INPUT, InputError

PARAMETERS = ("la = None\nyear = None\ndfe_dir = None\ncin_census = None\n"
              "population_dir = None\noutput_dir = None")
RECORD = """
from cpstats.results import Results
results = Results("{theme}")
text = results.record("cp_plans_at_31_march", 553, unit="count", geography_code=la,
                      geography_name="Somewhere", period=year, source="dfe")
if output_dir is not None:
    results.save(output_dir)
print(text)
"""


def _notebook(path: Path, *cells: str) -> None:
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                             *[new_code_cell(c) for c in cells]])
    nb.metadata["kernelspec"] = {"name": "cpstats", "display_name": "Python (cpstats)",
                                 "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_ok.ipynb", RECORD.format(theme="01_ok"))
    return folder


def _run(*args: str) -> int:
    """``cpstats report ...`` as the CLI runs it (only this command is loaded, so another
    command's import problem cannot hide this one's behaviour)."""
    parser = argparse.ArgumentParser(prog="cpstats")
    commands_report.register(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args(["report", "--no-progress", *args])
    try:
        return arguments.func(arguments)
    except InputError as error:
        print(f"cpstats report: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


@pytest.mark.parametrize("args, message", [
    (["--la", "Atlantis"], "--la"),
    (["--la", "825", "--year", "2031"], "2016-17"),  # names the years that do have data
    (["--la", "825", "--year", "2016/17"], "--year"),
    (["--cin-census", "no_such_return.xml"], "--cin-census"),
    (["--population-dir", "no_such_folder"], "--population-dir"),
    (["--jobs", "0"], "--jobs"),
])
def test_bad_parameters_fail_before_any_notebook_starts(args, message, notebooks, cin_2022,
                                                        tmp_path, monkeypatch, capsys):
    def never(*_args, **_kwargs):
        raise AssertionError("a notebook started")

    monkeypatch.setattr(report, "execute", never)
    status = _run("--notebooks-dir", str(notebooks), "--dfe-dir", str(cin_2022),
                  "--out", str(tmp_path / "reports"), *args)
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_a_failing_notebook_leaves_no_partial_folder_and_force_is_needed(notebooks, cin_2022,
                                                                          tmp_path, capsys):
    out = tmp_path / "reports"
    common = ["--notebooks-dir", str(notebooks), "--dfe-dir", str(cin_2022), "--out", str(out),
              "--la", "Buckinghamshire", "--year", "2017"]
    folder = out / "buckinghamshire" / "2016-17"

    # A first report is written in full.
    assert _run(*common) == 0
    results = pd.read_csv(folder / "results.csv", dtype={"geography_code": str})
    assert results.loc[0, "geography_code"] == "825" and results.loc[0, "value"] == 553
    for name in ("01_ok.ipynb", "01_ok.html", "01_ok_with_code.html", "index.html", "tables.xlsx"):
        assert (folder / name).is_file(), name
    assert "553" in (folder / "index.html").read_text(encoding="utf-8")
    (folder / "earlier.txt").write_text("the earlier report", encoding="utf-8")

    # Without --force the report is never overwritten, and nothing runs.
    assert _run(*common) == 2
    assert "--force" in capsys.readouterr().err

    # A notebook that raises: the error names notebook and cell; the earlier report is intact.
    _notebook(notebooks / "02_fails.ipynb", "x = 1", "raise ValueError('broken on purpose')")
    assert _run(*common, "--force") == 1
    err = capsys.readouterr().err
    assert "02_fails.ipynb" in err and "cell" in err and "broken on purpose" in err
    assert (folder / "earlier.txt").read_text(encoding="utf-8") == "the earlier report"
    assert sorted(p.name for p in (out / "buckinghamshire").iterdir()) == ["2016-17"]

    # With --force and working notebooks the report is replaced.
    (notebooks / "02_fails.ipynb").unlink()
    assert _run(*common, "--force") == 0
    assert not (folder / "earlier.txt").exists()
    assert (folder / "results.csv").is_file()
