"""The report's figures as transcribed in data/seed/report_figures.csv, and the facts-CSV reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpstats.errors import InputError
from cpstats.facts import select, value_of
from cpstats.io.local import REPORT_FIGURES, read_facts_csv, read_report_figures

BUCKS, ENGLAND, SOUTH_EAST = "825", "E92000001", "E12000008"


@pytest.fixture(scope="module")
def seed() -> pd.DataFrame:
    return read_report_figures()


def fig(seed: pd.DataFrame, measure: str, period: str = "2016-17", code: str = BUCKS,
        breakdown: str = "total") -> float:
    return value_of(seed, geography_code=code, period=period, measure=measure, breakdown=breakdown)


@pytest.mark.parametrize(("measure", "period", "code", "breakdown", "expected"), [
    ("cp_plans_at_31_march", "2014-15", BUCKS, "total", 333),
    ("cp_plans_at_31_march", "2015-16", BUCKS, "total", 450),
    ("cp_plans_at_31_march", "2016-17", BUCKS, "total", 564),
    ("cp_rate_per_10k", "2015-16", BUCKS, "total", 37.5),
    ("cp_rate_per_10k", "2015-16", ENGLAND, "total", 43.1),
    ("cp_rate_per_10k", "2015-16", SOUTH_EAST, "total", 42.1),
    ("cp_rate_per_10k", "2016-17", BUCKS, "total", 46.7),
    ("population_0_17", "2015-16", BUCKS, "total", 120_643),
    ("referrals", "2016-17", BUCKS, "total", 9147),
    ("referrals", "2015-16", BUCKS, "total", 6933),
    ("cp_conferences_change_pct", "2016-17", BUCKS, "total", 32),
    ("icpcs_change_pct", "2016-17", BUCKS, "total", 17),
    ("icpc_children_rate_change_pct", "2016-17", BUCKS, "baseline=2014-15", 36),
    ("cp_change_pct", "2015-16", BUCKS, "total", 35),
    ("cp_change_pct", "2016-17", BUCKS, "total", 25),
    ("cp_change_pct", "2015-16", ENGLAND, "total", 1.2),
    ("referrals_change_pct", "2015-16", ENGLAND, "total", -2.2),
    ("s47_enquiries_change_pct", "2015-16", ENGLAND, "total", 7.6),
    ("icpcs_change_pct", "2015-16", ENGLAND, "total", 2.3),
    ("cp_disabled_pct", "2016-17", BUCKS, "total", 6),
    ("review_conferences_in_timescale_pct", "2016-17", BUCKS, "total", 96),
    ("cp_reviews_in_timescale_pct", "2015-16", ENGLAND, "total", 93.7),
    ("cp_plans_2_years_or_more_pct", "2016-17", BUCKS, "total", 1),
    ("conference_attendance_pct", "2016-11", BUCKS, "total", 89),
    ("conference_reports_provided_pct", "2016-11", BUCKS, "total", 55),
    ("conferences_audited", "2016-11", BUCKS, "total", 87),
    ("conference_length_minutes", "2016-11", BUCKS, "total", 103),
    ("conference_chairs_fte", "2017-03-31", BUCKS, "total", 5.8),
    ("children_per_chair_fte", "2017-03-31", BUCKS, "total", 97),
    ("children_per_chair_fte_target", "2016-17", BUCKS, "total", 85),
])
def test_required_figures_are_transcribed(seed, measure, period, code, breakdown, expected):
    assert fig(seed, measure, period, code, breakdown) == expected


@pytest.mark.parametrize("measure", ["cp_by_category", "cp_by_gender", "cp_by_age_band", "cp_by_duration_report"])
def test_breakdowns_at_31_march_sum_to_the_564_children(seed, measure):
    rows = select(seed, geography_code=BUCKS, period="2016-17", measure=measure, source="report")
    assert rows["value"].sum() == 564


def test_ethnicity_as_printed_sums_to_489_and_the_gap_is_explicit(seed):
    eth = select(seed, geography_code=BUCKS, period="2016-17", measure="cp_by_ethnicity")
    printed = eth[eth["source"] == "report"]
    gap = eth[eth["breakdown"] == "ethnicity=not_printed"]
    assert len(printed) == 13 and printed["value"].sum() == 489
    assert gap["value"].tolist() == [75] and gap["source"].tolist() == ["derived"]
    # No printed group is attributed to the groups the print omits.
    assert not printed["breakdown"].str.contains("APKN|AIND|ABAN|AOTH|CHNE|WROM|REFU").any()


def test_repeat_plan_values_are_not_assigned_to_quarters(seed):
    rows = select(seed, measure="cp_repeat_plan_children")
    assert sorted(rows["value"], reverse=True) == [47, 34, 34, 33, 30, 27, 15, 14]
    assert rows["breakdown"].str.startswith("quarter=unknown;").all()
    assert not rows["period"].str.contains("Q").any()


def test_the_42_percent_claim_is_kept_and_flagged(seed):
    claim = select(seed, measure="cp_change_pct", breakdown="baseline=2014-15")
    assert claim["value"].tolist() == [42]
    assert "FLAGGED" in claim["note"].iloc[0]
    actual = fig(seed, "cp_plans_at_31_march") / fig(seed, "cp_plans_at_31_march", "2014-15") - 1
    assert round(100 * actual) == 69  # what the report's own counts give


def test_internal_arithmetic_of_the_report(seed):
    assert round(564 / fig(seed, "population_0_17", "2015-16") * 10_000, 1) == 46.7
    assert fig(seed, "cp_change", "2015-16") == 450 - 333
    assert fig(seed, "cp_change") == 564 - 450
    assert round(fig(seed, "cp_rate_per_10k") - fig(seed, "cp_rate_per_10k", "2015-16"), 1) == 9.2
    stages = select(seed, measure="conference_length_minutes").set_index("breakdown")["value"]
    assert stages["stage=information_sharing"] + stages["stage=plan_and_decision"] == stages["total"]
    assert round(564 / fig(seed, "conference_chairs_fte", "2017-03-31")) == 97
    band = fig(seed, "cp_by_duration_report", breakdown="duration=6_to_12_months")
    assert round(100 * band / 564) == fig(seed, "cp_by_duration_report_pct", breakdown="duration=6_to_12_months")


def test_review_measures_are_kept_apart(seed):
    ours = select(seed, geography_code=BUCKS, measure="cp_reviews_in_timescale_pct")
    assert ours.empty  # the report's 96% is not DfE's measure
    note = select(seed, measure="review_conferences_in_timescale_pct")["note"].iloc[0]
    assert "84.6" in note


def test_every_row_cites_a_section_and_sources_are_report_or_derived(seed):
    assert seed["note"].str.len().gt(20).all()
    assert set(seed["source"]) == {"report", "derived"}
    assert seed["value"].notna().all()


# ---- bad input: each a clear error naming file, row and column


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "figures.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_text() -> str:
    return REPORT_FIGURES.read_text(encoding="utf-8")


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_facts_csv(_write(tmp_path, ""))


def test_header_only(tmp_path, seed_text):
    with pytest.raises(InputError, match="at least one row of figures"):
        read_facts_csv(_write(tmp_path, seed_text.splitlines()[0] + "\n"))


def test_truncated_file(tmp_path, seed_text):
    lines = seed_text.splitlines()
    cut = lines[5][: lines[5].index(",report") + 1]  # stops mid-row, inside no quotes
    with pytest.raises(InputError) as info:
        read_facts_csv(_write(tmp_path, "\n".join([*lines[:5], cut]) + "\n"))
    assert "figures.csv, row 6" in str(info.value) and "truncated" in str(info.value)


def test_renamed_column(tmp_path, seed_text):
    with pytest.raises(InputError) as info:
        read_facts_csv(_write(tmp_path, seed_text.replace("measure,", "Measure,", 1)))
    text = str(info.value)
    assert "column 'measure'" in text and "'Measure'" in text and "row 1" in text


def test_non_numeric_value_that_is_no_marker(tmp_path, seed_text):
    lines = seed_text.splitlines()
    lines[3] = lines[3].replace(",564,", ",5x4,", 1)
    with pytest.raises(InputError) as info:
        read_facts_csv(_write(tmp_path, "\n".join(lines) + "\n"))
    assert "row 4" in str(info.value) and "'5x4'" in str(info.value) and "column 'value'" in str(info.value)


def test_missing_value_needs_a_known_marker(tmp_path, seed_text):
    lines = seed_text.splitlines()
    lines[3] = lines[3].replace(",564,,", ",,?,", 1)
    with pytest.raises(InputError, match="row 4, column 'marker'"):
        read_facts_csv(_write(tmp_path, "\n".join(lines) + "\n"))
    lines[3] = lines[3].replace(",,?,", ",,c,", 1)
    facts = read_facts_csv(_write(tmp_path, "\n".join(lines) + "\n"))
    assert pd.isna(facts["value"].iloc[2]) and facts["marker"].iloc[2] == "c"


def test_unknown_la(tmp_path, seed_text):
    lines = seed_text.splitlines()
    lines[2] = lines[2].replace("local_authority,825,", "local_authority,999,", 1)
    with pytest.raises(InputError, match="row 3, column 'geography_code': found '999'"):
        read_facts_csv(_write(tmp_path, "\n".join(lines) + "\n"))


def test_duplicate_figure(tmp_path, seed_text):
    lines = seed_text.splitlines()
    with pytest.raises(InputError, match="repeats an earlier row"):
        read_facts_csv(_write(tmp_path, "\n".join([*lines, lines[1]]) + "\n"))
