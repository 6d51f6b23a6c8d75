"""A CIN Census return given to ``cpstats report`` is read and checked in the planning step
(issue: hardening). Measured before: bad XML ran notebooks for 20-40 s and exited 1 ("01_trends
.ipynb failed in cell 3: InputError"). Now it is exit 2 naming the file before any notebook
starts, and the records read there reach the notebooks through the run's cache.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.hostile.test_runner import _cpstats
from tests.hostile.test_smaller import _cpstats as cli
from tests.hostile.test_smaller import as_council
from tests.tiny_notebooks import write_notebook as _notebook

SEEDED = """
import os, pathlib
from cpstats.inputs import RUN_CACHE_ENV
cached = pathlib.Path(os.environ[RUN_CACHE_ENV]) / "child_level.pickle"
if not cached.is_file():
    raise SystemExit("the planning step's records are not in the run's cache")
"""


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_cache.ipynb", SEEDED)
    return folder


@pytest.fixture
def good_return(tmp_path: Path) -> Path:
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_return

    county = synth.generate(years=(2017, 2017), scale=0.01)
    return write_return(as_council(county.data), tmp_path / "returns" / "cin_census_2017.xml",
                        la_child_ids=county.la_child_ids)


@pytest.mark.parametrize("content", [b"<Message><Header>", b"not xml at all",
                                     b'<?xml version="1.0"?><Other/>'])
def test_bad_xml_is_refused_before_any_notebook_starts(notebooks, tmp_path, content):
    bad = tmp_path / "cin_census_2017.xml"
    bad.write_bytes(content)
    out = tmp_path / "reports"
    started = time.perf_counter()
    result = _cpstats("--la", "825", "--cin-census", str(bad), "--notebooks-dir",
                      str(notebooks), "--out", str(out))
    took = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    assert "cin_census_2017.xml" in result.stderr and "failed in cell" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and took < 60


def test_a_good_return_is_read_once_and_handed_to_the_notebooks(notebooks, tmp_path,
                                                                good_return, monkeypatch):
    import secrets

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    out = tmp_path / "reports"
    result = _cpstats("--la", "825", "--cin-census", str(good_return), "--notebooks-dir",
                      str(notebooks), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "buckinghamshire" / "2016-17").is_dir()


def test_a_folder_of_xml_returns_is_read_as_xml(good_return, monkeypatch):
    """Measured before: a folder of XML files was read as a CSV folder ("meta.csv ...
    expected" eight times)."""
    import secrets

    from cpstats.io.cin_census import read_returns

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    from_folder = read_returns(good_return.parent)
    from_file = read_returns(good_return)
    assert from_folder.summary.files == from_file.summary.files
    assert len(from_folder.children) == len(from_file.children) > 0


def test_report_takes_a_folder_of_xml_returns(notebooks, tmp_path, good_return, monkeypatch):
    import secrets

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    result = _cpstats("--la", "825", "--cin-census", str(good_return.parent), "--notebooks-dir",
                      str(notebooks), "--out", str(tmp_path / "reports"))
    assert result.returncode == 0, result.stderr
    assert "meta.csv" not in result.stderr


def _county_return(folder: Path, overlap: int = 0) -> Path:
    """A small synthetic return; with ``overlap``, one child's plan repeated that many times,
    each copy starting a day after the one before while it is still open."""
    import pandas as pd

    from cpstats import synth
    from cpstats.io.cin_census_writer import write_return

    county = synth.generate(years=(2017, 2017), scale=0.01)
    data = as_council(county.data)
    if overlap:
        plan = data.cp_plans.dropna(subset=["start_date"]).iloc[[0]]
        copies = pd.concat([plan] * overlap, ignore_index=True)
        copies["plan_id"] = [f"{plan['plan_id'].iloc[0]}x{i}" for i in range(overlap)]
        copies["start_date"] = plan["start_date"].iloc[0] + pd.to_timedelta(
            range(1, overlap + 1), unit="D")
        copies["end_date"] = pd.NaT
        data.cp_plans = pd.concat([data.cp_plans, copies], ignore_index=True)
    return write_return(data, folder / "cin_census_2017.xml", la_child_ids=county.la_child_ids)


def test_overlapping_plans_of_one_child_are_an_error_naming_the_child(tmp_path, monkeypatch):
    """Measured before: a child with 10,000 overlapping plans collapsed without a word into
    365 open plans."""
    import secrets

    from cpstats.io.cin_census import read_returns

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    returned = _county_return(tmp_path, overlap=40)
    data = read_returns(returned)
    found = [p for p in data.summary.problems if p.rule == "overlapping-plans"]
    assert len(found) >= 39 and {p.severity for p in found} == {"error"}  # each copy after the first
    assert len({p.child for p in found}) == 1 and data.summary.children_rejected == 1
    assert found[0].element == "CPPstartDate" and found[0].line is not None
    checked = cli("check", str(returned))  # the same, exit 2, naming line, child and element
    assert checked.returncode == 2 and "1 rejected; 39 errors" in checked.stdout
    assert (f"{returned.name}, line {found[0].line}, child {found[0].child}, element "
            "<CPPstartDate>") in checked.stdout
    assert "expected a CPPstartDate on or after the end of the child's previous plan" in (
        checked.stdout)


def test_two_returns_for_the_same_date_are_refused_naming_both(tmp_path, monkeypatch):
    """Measured before: the same children in two returns for one date, with different
    ethnicity, merged with no warning (the order of the arguments decided)."""
    import secrets

    from cpstats.errors import InputError
    from cpstats.io.cin_census import read_returns

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    first = _county_return(tmp_path)
    second = tmp_path / "again" / "cin_census_2017_resubmitted.xml"
    second.parent.mkdir()
    second.write_text(first.read_text().replace("<Ethnicity>WBRI</Ethnicity>",
                                                "<Ethnicity>WIRI</Ethnicity>"))
    with pytest.raises(InputError) as refused:
        read_returns([first, second])
    message = str(refused.value)
    assert "one return per reference date" in message and "2017-03-31" in message
    assert first.name in message and second.name in message
    result = _cpstats("--la", "825", "--cin-census", str(first), str(second), "--out",
                      str(tmp_path / "reports"))
    assert result.returncode == 2 and "one return per reference date" in result.stderr
