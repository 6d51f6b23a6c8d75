"""An Annex A workbook as a run's child-level input: the study's year ends at its extract date,
only what its lists support is computed, a synthetic workbook stays labelled synthetic, and a
bad workbook stops a report before any notebook starts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import cpstats
from cpstats import measures, report, synth
from cpstats.errors import InputError
from cpstats.io.annex_a_writer import annex_a_name, write_annex_a

EXTRACT = date(2017, 3, 31)


@pytest.fixture(scope="module")
def county() -> synth.SyntheticCounty:
    return synth.generate()


@pytest.fixture(scope="module")
def workbook(county, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("annex_a")
    return write_annex_a(county.data, folder / annex_a_name(EXTRACT), EXTRACT,
                         la_child_ids=county.la_child_ids, seed=3)


@pytest.fixture(scope="module")
def study(workbook) -> cpstats.Study:
    return cpstats.Study(annex_a=workbook)


def test_the_year_is_the_one_holding_the_extract_date(study):
    assert study.year == "2016-17"


def test_a_synthetic_workbook_stays_synthetic(study):
    assert study._data.child_source == "synthetic" and study._data.synthetic


def test_plans_open_at_the_extract_date_are_the_county_s(study, county):
    facts = study._data.child_facts
    open_now = facts[(facts["measure"] == "cp_plans_at_31_march") & (facts["breakdown"] == "total")
                     & (facts["period"] == "2016-17")]
    expected = measures.snapshot_facts(county.data, EXTRACT)
    expected = expected[(expected["measure"] == "cp_plans_at_date")
                        & (expected["breakdown"] == "total")]
    assert open_now["value"].iloc[0] == expected["value"].iloc[0] > 500


def test_what_a_six_month_window_cannot_give_is_not_computed(study):
    facts = study._data.child_facts
    year = facts[facts["period"] == "2016-17"]
    # A year's flows would be half a year's: left out, not understated.
    assert year[year["measure"].isin(["cp_plans_started", "referrals", "review_conferences",
                                      "cp_plans_ended_by_duration"])].empty
    months = facts[(facts["measure"] == "cp_plans_started") & facts["period"].str.fullmatch(
        r"\d{4}-\d{2}")]
    assert set(months["period"]) >= {"2016-10", "2017-03"}


def test_a_bad_workbook_stops_the_report_before_any_notebook(tmp_path, monkeypatch):
    bad = tmp_path / "annex_a.xlsx"
    bad.write_bytes(b"not a workbook")
    monkeypatch.setattr(report, "execute", lambda *a, **k: pytest.fail("a notebook ran"))
    with pytest.raises(InputError, match="annex_a.xlsx"):
        report.plan(["825"], annex_a=bad, out=tmp_path / "reports")
    assert not (tmp_path / "reports").exists()
