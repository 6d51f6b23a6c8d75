"""The board's pages: the summary holds published figures only, each sentence follows its row."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cpstats import inputs, pages
from cpstats.results import Results
from cpstats.themes.base import ThemeData


@pytest.fixture(scope="module")
def data() -> ThemeData:
    return ThemeData(inputs.resolve(None, None, None, None, None, None))


def _results() -> pd.DataFrame:
    """A derived forecast (from DfE counts) and a synthetic one (from invented records)."""
    results = Results("05_forecasting")
    common = {"geography_code": "825", "geography_name": "Buckinghamshire", "period": "2017-18"}
    results.record("cp_forecast_next_year", 505, source="derived", interval_80=(286, 739),
                   **common)
    results.record("cp_forecast_next_year", 620, source="synthetic", **common)
    return results.frame()


def _summary(data: ThemeData, facts: pd.DataFrame) -> pd.DataFrame:
    return pages.board_summary(facts, _results(), la_code=data.la_code, period=data.period,
                               previous=data.previous, region_code=data.region[0],
                               neighbours=data.neighbours)


def test_the_board_summary_holds_dfe_s_published_figures(data):
    summary = _summary(data, data.facts).set_index("measure")
    # DfE, Characteristics of children in need 2022 release, d1 (time_period 2017).
    assert summary.loc["cp_rate_per_10k", "la"] == 45.2
    assert summary.loc["cp_rate_per_10k", "count"] == 553
    assert summary.loc["cp_rate_per_10k", "england"] == 43.3
    assert summary.loc["cp_reviews_in_timescale_pct", "la"] == 84.6
    assert list(summary.index[:3]) == ["cp_rate_per_10k", "cp_change_pct",
                                       "referrals_rate_per_10k"]
    # The change is computed from DfE's counts (553 on 454 the year before).
    assert summary.loc["cp_change_pct", "la"] == pytest.approx((553 / 454 - 1) * 100, abs=0.5)
    # Referrals: far above England, a difference a test calls beyond chance.
    assert summary.loc["referrals_rate_per_10k", "p_england"] < pages.ALPHA


def test_the_summary_tests_icpc_timeliness_as_the_trends_page_does(data):
    """DfE publishes ICPC timeliness as bands, so the summary's own comparison has no counts;
    it takes the trends page's recorded test rather than saying "no test" beside a page that
    tests it (Buckinghamshire 2016-17: 69.6% against England's 77.3%, z about -5.3)."""
    from cpstats import themes

    recorded = themes.compute("trends", data).findings
    summary = pages.board_summary(data.facts, recorded, la_code=data.la_code,
                                  period=data.period, previous=data.previous,
                                  region_code=data.region[0], neighbours=data.neighbours)
    row = summary.set_index("measure").loc["icpc_within_15_working_days_pct"]
    page = recorded[(recorded["measure"] == "p_value") & (
        recorded["breakdown"] == "measure=icpc_within_15_working_days_pct;against=england")]
    assert len(page) == 1 and row["p_england"] == page["value"].iloc[0] < pages.ALPHA
    # Without the page's findings there is no test to show.
    assert math.isnan(_summary(data, data.facts).set_index("measure").loc[
        "icpc_within_15_working_days_pct", "p_england"])


def test_no_figure_from_child_level_records_reaches_the_board_summary(data):
    invented = data.facts[(data.facts["measure"] == "cp_rate_per_10k")
                          & (data.facts["geography_code"] == "825")
                          & (data.facts["period"] == data.period)
                          & (data.facts["source"] == "dfe")].assign(value=999.0,
                                                                   source="synthetic")
    facts = pd.concat([invented, data.facts], ignore_index=True)
    summary = _summary(data, facts).set_index("measure")
    assert summary.loc["cp_rate_per_10k", "la"] == 45.2
    assert summary.loc["cp_forecast_next_year", "la"] == 505  # the DfE-based one, not 620
    assert 999.0 not in summary["la"].tolist() and 620 not in summary["la"].tolist()


def test_each_sentence_states_its_row_s_figures(data):
    summary = _summary(data, data.facts)
    row = summary.set_index("measure").loc["referrals_rate_per_10k"].copy()
    row["measure"] = "referrals_rate_per_10k"
    text = pages.sentence(row, "Buckinghamshire", "South East", "2016-17", "2015-16")
    assert text.startswith("Referrals per 10,000 children: Buckinghamshire ")
    assert f"higher than England's {row['england']:.1f}" in text
    assert "beyond chance" in text
    row["p_england"] = math.nan
    assert "chance" not in pages.sentence(row, "Buckinghamshire", "South East", "2016-17",
                                          "2015-16")


def test_the_navigation_bar_links_every_page_and_marks_the_current_one():
    links = pages.page_links(["01_trends", "05_forecasting"])
    assert [h for h, _ in links] == ["index.html", "01_trends.html", "05_forecasting.html",
                                     pages.APPENDIX]
    bar = pages.nav_bar(links, "01_trends.html")
    assert "aria-current=page>Trends</a>" in bar and bar.count("aria-current") == 1


def test_a_section_showing_nothing_loses_its_heading_on_the_reader_s_page():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    shown = new_output("display_data", data={"text/markdown": "564 children"})
    notebook = new_notebook(cells=[
        new_markdown_cell("# Trends"), new_code_cell("page = start()"),
        new_markdown_cell("## Children on plans"), new_code_cell("page.show(a)", outputs=[shown]),
        new_markdown_cell("## Conference chairs: caseload"), new_code_cell("page.show(b)"),
        new_code_cell("page.finish()", outputs=[shown])])
    kept = [c.source for c in pages.without_empty_sections(notebook).cells]
    assert "## Conference chairs: caseload" not in kept
    assert kept[:3] == ["# Trends", "page = start()", "## Children on plans"]
