"""Rates per 10,000: the pairing rule, the report's older denominator, vintages, markers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpstats.facts import empty_facts, select, value_of
from cpstats.io import dfe
from cpstats.io.local import read_report_figures
from cpstats.io.population import ONS_FILE_NAME, read_ons_population
from cpstats.rates import rate_measure, rate_per_10k, rates_from_counts, shift_period

BUCKS, ENGLAND = "825", "E92000001"


@pytest.fixture(scope="module")
def d1(cin_2022: Path) -> pd.DataFrame:
    return dfe.read_table(cin_2022 / "d1_child_protection_plans_2013_to_2022.csv")


@pytest.fixture(scope="module")
def ons(shared_data: Path) -> pd.DataFrame:
    return read_ons_population(shared_data / "ons" / ONS_FILE_NAME)


def plans(d1: pd.DataFrame) -> pd.DataFrame:
    return select(d1, measure="cp_plans_at_31_march")


def test_rate_per_10k_basics():
    assert rate_per_10k(1, 10_000) == 1.0
    assert np.isnan(rate_per_10k(5, 0))
    out = rate_per_10k(pd.Series([10.0, np.nan]), pd.Series([1000.0, 1000.0]))
    assert out.iloc[0] == 100 and np.isnan(out.iloc[1])
    assert rate_measure("cp_plans_at_31_march") == "cp_rate_per_10k"
    assert rate_measure("icpcs") == "icpcs_rate_per_10k"
    assert shift_period("2016-17", -1) == "2015-16"


@pytest.mark.parametrize("code", [ENGLAND, BUCKS])
def test_time_period_2016_row_reproduces_dfe_published_2015_16_rates(d1, ons, code):
    derived = rates_from_counts(plans(d1), ons)
    ours = value_of(derived, geography_code=code, period="2015-16", measure="cp_rate_per_10k")
    published = value_of(d1, geography_code=code, period="2015-16", measure="cp_rate_per_10k")
    assert ours == published  # 43.1 (England, 50,310) and 37.6 (Bucks, 454)
    assert value_of(plans(d1), geography_code=code, period="2015-16") == {ENGLAND: 50_310, BUCKS: 454}[code]


def test_2016_17_pairing_rule_gives_another_vintage_than_the_2022_release(d1, ons):
    derived = rates_from_counts(plans(d1), ons)
    got = {c: value_of(derived, geography_code=c, period="2016-17", measure="cp_rate_per_10k")
           for c in (ENGLAND, BUCKS)}
    printed = {c: value_of(d1, geography_code=c, period="2016-17", measure="cp_rate_per_10k")
               for c in (ENGLAND, BUCKS)}
    assert got == {ENGLAND: 43.6, BUCKS: 45.7}
    assert printed == {ENGLAND: 43.3, BUCKS: 45.2}
    assert value_of(plans(d1), geography_code=BUCKS, period="2016-17") == 553


def test_rates_name_their_population_row(d1, ons):
    derived = rates_from_counts(select(plans(d1), geography_code=BUCKS, period="2016-17"), ons)
    note = derived["note"].item()
    population = value_of(ons, geography_code=BUCKS, period="2016-17")
    assert "time_period 2017 row" in note and f"{population:,.0f}" in note and "553" in note
    assert (derived["source"] == "derived").all() and (derived["unit"] == "rate").all()


def test_report_46_7_is_564_over_the_row_one_year_older(ons):
    seed = read_report_figures()
    counts = select(seed, geography_code=BUCKS, measure="cp_plans_at_31_march", period="2016-17")
    report_way = rates_from_counts(counts, ons, lag_years=1)
    rule_way = rates_from_counts(counts, ons)
    assert report_way["value"].item() == value_of(seed, geography_code=BUCKS, period="2016-17",
                                                  measure="cp_rate_per_10k") == 46.7
    assert "120,643" in report_way["note"].item()
    assert rule_way["value"].item() == 46.6


def test_only_a_few_la_rates_of_the_2022_release_are_reproduced(d1, ons):
    derived = rates_from_counts(plans(d1), ons)
    published = select(d1, measure="cp_rate_per_10k", geography_level="local_authority")
    both = derived.merge(published, on=["geography_code", "period"], suffixes=("", "_pub"))
    share = (both["value"] == both["value_pub"]).mean()
    assert len(both) > 1000 and share < 0.10  # vintages differ: always label rates


def test_missing_population_keeps_its_marker(d1, ons):
    dorset = rates_from_counts(select(plans(d1), geography_code="835", period="2016-17"), ons)
    assert dorset["value"].isna().all() and dorset["marker"].tolist() == ["x"]


def test_suppressed_count_keeps_its_marker(ons):
    counts = pd.DataFrame([{
        "geography_level": "local_authority", "geography_code": BUCKS, "geography_name": "Buckinghamshire",
        "period": "2016-17", "measure": "icpcs", "breakdown": "total", "value": np.nan, "marker": "c",
        "unit": "count", "source": "dfe"}])
    out = rates_from_counts(counts, ons)
    assert out["marker"].tolist() == ["c"] and out["measure"].tolist() == ["icpcs_rate_per_10k"]


def test_no_counts_give_no_rates(ons):
    assert rates_from_counts(empty_facts(), ons).empty


def test_same_figure_from_two_sources_is_refused(d1, ons):
    seed = select(read_report_figures(), geography_code=BUCKS, measure="cp_plans_at_31_march")
    both = pd.concat([seed, select(plans(d1), geography_code=BUCKS)], ignore_index=True)
    with pytest.raises(ValueError, match="several sources"):
        rates_from_counts(both, ons)


def test_a_month_is_not_a_reporting_year(ons):
    """``2017-03`` looks like ``2016-17`` to a loose pattern; only years get rates."""
    row = {"geography_level": "local_authority", "geography_code": BUCKS,
           "geography_name": "Buckinghamshire", "measure": "icpcs", "breakdown": "total",
           "value": 60.0, "marker": pd.NA, "unit": "count", "source": "dfe"}
    counts = pd.DataFrame([{**row, "period": "2017-03"}, {**row, "period": "2016-17"}])
    assert rates_from_counts(counts, ons)["period"].tolist() == ["2016-17"]
