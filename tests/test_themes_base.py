"""What every theme relies on: findings carried from fact rows, tables suppressed at
publication, sources named by what a figure was computed from, and pages that write only when
asked to."""

from __future__ import annotations

import pandas as pd
import pytest

from cpstats.inputs import resolve
from cpstats.notebook import Page, reader_frame
from cpstats.themes.base import Section, ThemeData, text


@pytest.fixture(scope="module")
def data() -> ThemeData:
    return ThemeData(resolve())


def test_a_published_fact_keeps_its_unit_source_and_note(data):
    section = Section("01_trends", "stock", "Children on plans", data)
    said = section.record_fact(data.fact("cp_plans_at_31_march", "dfe"))
    row = section.findings.frame().iloc[0]
    assert said == "553"
    assert (row["unit"], row["source"], row["note"]) == ("count", "dfe", "d1:CPP_At31")


def test_a_derived_figure_is_named_by_what_it_came_from(data):
    section = Section("01_trends", "flows", "Flows", data)
    section.derive("cp_change_pct", 10.0, inputs=["dfe"])
    section.derive("icpc_to_cp_plan_pct", 80.0, inputs=["synthetic", "synthetic"])
    sources = section.findings.frame().set_index("measure")["source"]
    assert sources["cp_change_pct"] == "derived" and sources["icpc_to_cp_plan_pct"] == "synthetic"


def test_child_level_tables_are_suppressed_when_published(data):
    section = Section("01_trends", "months", "Months", data)
    counts = pd.DataFrame({"Initial conferences": [3, 40, 57], "Review conferences": [20, 2, 30]},
                          index=pd.Index(["2016-04", "2016-05", "2016-06"], name="Month"))
    table = section.table("conferences_by_month", counts, child_level=True)
    shown = table.frame
    assert shown.loc["2016-04", "Initial conferences"] == "c"
    assert shown.loc["2016-05", "Review conferences"] == "c"
    assert table.synthetic  # the default run's child-level records are the synthetic county
    published = section.table("published_counts", counts)
    assert published.frame.loc["2016-04", "Initial conferences"] == 3
    with pytest.raises(ValueError, match="lower-case"):
        section.table("Bad Name", counts)


def test_the_service_settings_of_the_seed_la_come_from_its_report(data):
    service = data.service.set_index("measure")["value"]
    assert service["conference_chairs_fte"] == 5.8
    assert service["children_per_chair_fte_target"] == 85
    assert ThemeData(resolve("Surrey", 2017)).service.empty


def test_a_service_settings_file_replaces_the_report_s(tmp_path):
    from cpstats.errors import InputError

    path = tmp_path / "service.csv"
    path.write_text("setting,value,note\nchair_fte,7.5,agreed May\ncaseload_target,80,\n")
    service = ThemeData(resolve("Surrey", 2017, service=path)).service.set_index("measure")
    assert service.loc["conference_chairs_fte", "value"] == 7.5
    assert set(service["source"]) == {"local"}
    path.write_text("setting,value\nchair_fte,-1\nchairs,3\n")
    with pytest.raises(InputError) as error:
        ThemeData(resolve("Surrey", 2017, service=path)).service  # noqa: B018
    message = str(error.value)
    assert "row 2" in message and "row 3" in message and "caseload_target" in message


def test_text_uses_the_registry_precision():
    assert text(45.2345, "cp_rate_per_10k") == "45.2"
    assert text(0.1234, "correlation_pearson") == "0.12"
    assert text(12.0, "cp_change_pct", signed=True) == "+12.0%"


def test_a_page_writes_only_when_given_a_folder(data, tmp_path):
    section = Section("01_trends", "stock", "Children on plans", data)
    section.record_fact(data.fact("cp_plans_at_31_march", "dfe"))
    section.table("tiny", pd.DataFrame({"Children": [1]}, index=pd.Index(["x"], name="Area")))
    Page("01_trends", data, None).show(section)
    assert not list(tmp_path.iterdir())
    page = Page("01_trends", data, tmp_path)
    page.show(section)
    page.finish()
    assert (tmp_path / "tables" / "01_tiny.csv").read_text().splitlines()[0] == "Area,Children"
    assert (tmp_path / "results" / "01_trends.csv").is_file()


def test_reader_frames_lose_row_numbers_but_keep_named_indexes():
    numbered = pd.DataFrame({"a": [1, 2]})
    assert reader_frame(numbered) is numbered
    named = numbered.set_axis(pd.Index(["x", "y"], name="Area"))
    assert list(reader_frame(named).columns) == ["Area", "a"]
