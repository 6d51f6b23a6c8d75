"""The trends theme (notebook 01_trends): the figures it states for the default run are the
published ones, its rules (change %, two-year share, the ICPC-to-plan proxy, chair caseloads)
hold, and a DfE-only run for another LA says what it left out instead of failing."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cpstats.inputs import resolve
from cpstats.plots import title_of
from cpstats.themes import ThemeData, trends

ENGLAND = "E92000001"


@pytest.fixture(scope="module")
def default() -> trends.ThemeResult:
    return trends.compute(ThemeData(resolve()))


@pytest.fixture(scope="module")
def surrey_data(cin_2022: Path) -> ThemeData:
    return ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022))


@pytest.fixture(scope="module")
def surrey(surrey_data: ThemeData) -> trends.ThemeResult:
    return trends.compute(surrey_data)


def _value(findings: pd.DataFrame, measure: str, source: str, code: str = "825",
           period: str = "2016-17", breakdown: str = "total") -> float:
    rows = findings[(findings["measure"] == measure) & (findings["source"] == source)
                    & (findings["geography_code"] == code) & (findings["period"] == period)
                    & (findings["breakdown"] == breakdown)]
    assert len(rows) == 1, (measure, source, code, period, len(rows))
    return float(rows["value"].iloc[0])


def _section(result: trends.ThemeResult, key: str):
    return next(s for s in result.sections if s.key == key)


# -- rules -------------------------------------------------------------------------------------
def test_change_pct():
    assert trends.change_pct(553, 454) == pytest.approx(21.806, abs=1e-3)
    assert math.isnan(trends.change_pct(553, 0))
    assert math.isnan(trends.change_pct(math.nan, 454))


def test_holiday_effect_compares_holiday_months_with_the_rest():
    months = [f"2016-{m:02d}" for m in range(4, 13)] + ["2017-01", "2017-02", "2017-03"]
    total = pd.Series(100.0, index=months)
    total["2016-08"] = 50.0  # August is all school holiday
    effect = trends.holiday_effect(total)
    assert effect["holiday"] < effect["term"] and effect["fewer_pct"] > 0


def test_sections_are_in_page_order():
    assert [s.__name__ for s in trends.SECTIONS] == [
        "stock", "rates", "flows", "conferences_by_month", "repeat_plans", "durations",
        "reviews", "initial_conferences", "chair_caseloads", "conference_quality",
        "differences", "funnels", "neighbour_table", "trend_tests", "flows_compared"]


# -- the default run: Buckinghamshire 2016-17 -------------------------------------------------
def test_default_run_states_the_published_figures(default):
    f = default.findings
    # DfE 2022 release, d1 / d3 / d6 / c4, and the report as transcribed.
    assert _value(f, "cp_plans_at_31_march", "dfe") == 553
    assert _value(f, "cp_plans_at_31_march", "report") == 564
    assert _value(f, "cp_plans_at_31_march", "dfe", ENGLAND) == 51080
    assert _value(f, "cp_rate_per_10k", "dfe") == 45.2
    assert _value(f, "cp_rate_per_10k", "report") == 46.7
    assert _value(f, "cp_rate_per_10k", "dfe", "E12000008") == 41.3
    assert _value(f, "cp_rate_per_10k", "report", ENGLAND, "2015-16") == 43.1
    assert (_value(f, "cp_plans_started", "dfe"), _value(f, "cp_plans_ended", "dfe")) == (725, 626)
    assert _value(f, "cp_second_or_subsequent_pct", "dfe") == 14.3
    assert _value(f, "cp_reviews_in_timescale_pct", "dfe") == 84.6
    assert _value(f, "review_conferences_in_timescale_pct", "report") == 96
    assert _value(f, "icpcs", "dfe") == 866
    assert _value(f, "icpcs_rate_per_10k", "dfe") == 70.8


def test_default_run_derives_changes_rates_and_proxies(default):
    f = default.findings
    assert _value(f, "cp_change_pct", "derived") == 21.8  # 553 / 454
    assert _value(f, "cp_change_pct", "derived", ENGLAND) == 1.5  # 51,080 / 50,310
    assert _value(f, "cp_rate_per_10k", "derived") == 45.7  # 553 / 121,026 (time_period 2017)
    assert _value(f, "icpc_to_cp_plan_pct", "derived") == 83.7  # 725 / 866
    assert _value(f, "icpc_within_15_working_days_pct", "derived") == 69.6  # c4 day bands
    assert _value(f, "cp_plans_2_years_or_more_pct", "derived", ENGLAND) == 2.1  # 1,080 / 51,080
    rate = f[(f["measure"] == "cp_rate_per_10k") & (f["source"] == "derived")
             & (f["geography_code"] == "825") & (f["breakdown"] == "total")]
    assert "121,026" in rate["note"].iloc[0]  # the rate names its population row


def test_a_suppressed_dfe_count_gives_a_suppressed_share_not_a_number(default):
    f = default.findings
    assert math.isnan(_value(f, "cp_plans_2_years_or_more_pct", "dfe"))
    row = f[(f["measure"] == "cp_plans_2_years_or_more_pct") & (f["source"] == "dfe")]
    assert row["marker"].iloc[0] == "c"
    words = _section(default, "durations").paragraphs[0]
    assert "a suppressed share (DfE shows c" in words and "2.1% in England" in words


def test_headline_sentence_puts_the_report_beside_dfe(default):
    words = _section(default, "stock").paragraphs[0]
    assert "**564**" in words and "**553**" in words
    assert "+25% on a year earlier, after +35% the year before" in words
    assert "(+21.8% on its own figure" in words and "(+11 in the report)" in words
    assert "England had 51,080 children on plans (+1.5%)" in words


def test_chair_caseloads_come_from_the_service_settings(default):
    f = default.findings
    assert _value(f, "conference_chairs_fte", "report", period="2017-03-31") == 5.8
    assert _value(f, "children_per_chair_fte", "report", period="2017-03-31") == 97
    assert _value(f, "children_per_chair_fte_target", "report") == 85
    assert _value(f, "children_per_chair_fte", "derived") == pytest.approx(553 / 5.8, abs=0.05)
    words = _section(default, "chair_caseloads").paragraphs[0]
    assert "**97** children per chair against a target of 85" in words


def test_child_level_figures_are_the_synthetic_county_s(default):
    f = default.findings
    assert _value(f, "icpc_within_15_working_days_pct", "synthetic") == 65.0
    assert _value(f, "icpc_to_cp_plan_pct", "synthetic") == 82.3
    tables = {t.name: t for s in default.sections for t in s.tables}
    months = tables["conferences_by_month"]
    assert months.synthetic and list(months.frame.index)[-1] == "Total"
    assert months.frame.index.name == "Month" and months.frame.index[0] == "April 2016"


def test_tables_are_ready_for_readers(default):
    for name, table in default.tables.items():
        text = table.to_string()
        assert "NaN" not in text and "<NA>" not in text, name
        labels = [*map(str, table.columns), *map(str, table.index.names)]
        assert not any("_" in label for label in labels if label != "None"), (name, labels)
    duration = default.tables["cp_by_duration_dfe"]
    assert duration.loc["2 years or more", "Buckinghamshire"] == "c"
    assert duration.loc["2 years or more", "England"] == "1,080"


def test_every_chart_draws_and_bar_charts_start_at_zero(default):
    charts = [c for s in default.sections for c in s.charts]
    assert len(charts) == 10  # six of the page, four funnel plots (benchmarking)
    for chart in charts:
        fig = chart.figure()
        ax = fig.axes[0]
        if ax.patches:  # bars
            assert ax.get_ylim()[0] == 0 or ax.get_xlim()[0] == 0, chart.name
        assert title_of(ax), chart.name
        plt.close(fig)


def test_nothing_was_left_out_of_the_default_run(default):
    assert default.left_out == []


# -- another LA from DfE data alone: Surrey 2016-17 -----------------------------------------------
def test_dfe_only_run_states_dfe_s_figures(surrey, cin_2022):
    d1 = pd.read_csv(cin_2022 / "d1_child_protection_plans_2013_to_2022.csv", dtype=str,
                     encoding="utf-8-sig")
    surrey_d1 = d1[d1["old_la_code"] == "936"].set_index("time_period")
    f = surrey.findings
    count, before = (float(surrey_d1.loc[year, "CPP_At31"]) for year in ("2017", "2016"))
    assert _value(f, "cp_plans_at_31_march", "dfe", "936") == count == 843
    assert _value(f, "cp_change_pct", "derived", "936") == round((count / before - 1) * 100, 1)
    assert _value(f, "cp_rate_per_10k", "dfe", "936") == 32.5
    # The release publishes the two-year share (d5) and the rate of children at an ICPC (c4).
    assert _value(f, "cp_plans_2_years_or_more_pct", "dfe", "936") == 2.7
    assert _value(f, "children_icpc_rate_per_10k", "dfe", "936") == 50.5
    assert not f["source"].isin(["report", "synthetic", "cin_census", "local"]).any()
    words = _section(surrey, "stock").paragraphs[0]
    assert "**843** children in Surrey" in words and "(DfE), -4.3% on a year earlier" in words


def test_dfe_only_run_says_what_it_left_out_and_why(surrey):
    left_out = "\n".join(surrey.left_out)
    assert "report figures" in left_out
    assert "conferences per month (no CIN Census return given: pass --cin-census)" in left_out
    assert "reviews by month" in left_out and "child-level ICPC figures" in left_out
    assert _section(surrey, "conferences_by_month").empty
    assert _section(surrey, "conference_quality").empty


def test_without_service_settings_chair_caseloads_say_so_and_record_nothing(surrey):
    section = _section(surrey, "chair_caseloads")
    assert section.findings.frame().empty
    assert len(section.paragraphs) == 1
    assert "No service settings were given for Surrey" in section.paragraphs[0]
    assert "--service FILE" in section.paragraphs[0]


def test_a_service_settings_file_gives_chair_caseloads(cin_2022, tmp_path):
    path = tmp_path / "service.csv"
    path.write_text("setting,value\nchair_fte,9.5\ncaseload_target,80\n", encoding="utf-8")
    data = ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022, service=path))
    section = trends.chair_caseloads(data)
    f = section.findings.frame()
    assert _value(f, "conference_chairs_fte", "local", "936") == 9.5
    assert _value(f, "children_per_chair_fte_target", "local", "936") == 80
    assert _value(f, "children_per_chair_fte", "derived", "936") == round(843 / 9.5, 1)
    assert "**88.7** children per chair against a target of 80" in section.paragraphs[0]
