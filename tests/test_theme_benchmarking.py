"""Benchmarking sections (page 01_trends): intervals on every DfE-based rate and percentage,
tests against England and the region, funnel plots, neighbour ranks and trend tests, checked
against figures recomputed from DfE's published counts (Buckinghamshire 2016-17)."""

from __future__ import annotations

import pandas as pd
import pytest

from cpstats.inputs import resolve
from cpstats.themes import ThemeData, benchmarking

ENGLAND = "E92000001"
@pytest.fixture(scope="module")
def data() -> ThemeData:
    return ThemeData(resolve())


@pytest.fixture(scope="module")
def findings(data: ThemeData) -> pd.DataFrame:
    return pd.concat([s(data).findings.frame() for s in benchmarking.SECTIONS])


def _row(findings: pd.DataFrame, measure: str, breakdown: str = "total",
         code: str = "825") -> pd.Series:
    rows = findings[(findings["measure"] == measure) & (findings["breakdown"] == breakdown)
                    & (findings["geography_code"] == code)]
    assert len(rows.drop_duplicates(["measure", "breakdown", "source"])) == 1, (measure, rows)
    return rows.iloc[0]


def test_intervals_and_tests_match_the_published_counts(findings: pd.DataFrame):
    rate = _row(findings, "cp_rate_per_10k")
    assert (rate["value"], rate["lower_95"], rate["upper_95"]) == (45.2, 41.5, 49.1)
    # Repeat plans 104 / 725 against England's 12,420 / 66,410 (rounded counts): z about -3.0.
    z = {m: _row(findings, "difference_z", f"measure={m};against=england")["value"]
         for m in ("cp_second_or_subsequent_pct", "cp_reviews_in_timescale_pct",
                   "icpc_within_15_working_days_pct", "cp_rate_per_10k")}
    assert round(z["cp_second_or_subsequent_pct"], 1) == -3.0
    assert round(z["cp_reviews_in_timescale_pct"], 1) == -5.2
    assert round(z["icpc_within_15_working_days_pct"], 1) == -5.3
    assert abs(z["cp_rate_per_10k"]) < 1.96
    holm = _row(findings, "p_value_holm", "measure=cp_rate_per_10k;against=england")["value"]
    assert holm > 0.05


def test_prose_says_higher_or_lower_only_where_the_test_does(data: ThemeData):
    section = benchmarking.differences(data)
    words = " ".join(section.paragraphs)
    assert "Plans reviewed within timescale (%) lower (84.6% against 92.1%, p < 0.001)" in words
    found, alike = words.split("No difference beyond chance in:", 1)
    assert "Children on a plan per 10,000 children" not in found.split("Against South East")[0]
    assert "Children on a plan per 10,000 children" in alike


def test_funnel_places_buckinghamshire_inside_the_95_limits(data: ThemeData,
                                                             findings: pd.DataFrame):
    section = benchmarking.funnels(data)
    chart = next(c for c in section.charts if c.name == "funnel_cp_rate_per_10k")
    assert chart.title.endswith("within the 95% limits")
    fitted = chart.options["funnel"]
    assert fitted.method == "additive" and fitted.councils == 150
    assert abs(_row(findings, "funnel_z_score", "measure=cp_rate_per_10k")["value"]) < 1.96
    assert _row(findings, "cp_rate_per_10k", "funnel=pooled_councils", ENGLAND)["value"] == 43.3
    assert len(section.charts) == 4


def test_neighbour_means_are_named_and_differ(findings: pd.DataFrame):
    assert _row(findings, "cp_rate_per_10k", "neighbours=unweighted_mean")["value"] == 40.2
    assert _row(findings, "cp_rate_per_10k", "neighbours=weighted_mean")["value"] == 36.1
    assert _row(findings, "rank_among_neighbours", "measure=cp_second_or_subsequent_pct")[
        "value"] == 11  # the lowest of 11
    assert benchmarking.rank(pd.Series({"a": 3.0, "b": 2.0, "c": 2.0, "d": 1.0}), "c") == (2, 4, 2)


def test_trend_of_children_on_plans(findings: pd.DataFrame):
    # 2016-17 over 2015-16: (553 / implied 122,345) / (450 / implied 120,643 ...) about 1.20.
    ratio = _row(findings, "rate_ratio_on_previous_year", "measure=cp_plans_at_31_march")
    assert ratio["value"] == 1.2 and ratio["lower_95"] < 1.2 < ratio["upper_95"]
    trend = _row(findings, "trend_rate_ratio_per_year", "measure=cp_plans_at_31_march")
    assert trend["lower_95"] > 1  # Buckinghamshire's rate rose every year from 2013-14


def test_holm_adjustment_by_hand():
    # p = 0.01, 0.04, 0.03: sorted 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, max(0.06, 0.04 x 1) = 0.06.
    adjusted = benchmarking.holm(pd.Series([0.01, 0.04, 0.03]))
    assert adjusted.round(6).tolist() == [0.03, 0.06, 0.06]


def test_funnel_limits_are_exact_and_kept_per_release(tmp_path, monkeypatch):
    from cpstats import release_cache
    from cpstats.stats import funnel

    monkeypatch.setenv(release_cache.CACHE_ENV, str(tmp_path))
    data = ThemeData(resolve())
    benchmarking.release_level(data)
    kept = sorted(p.name for p in tmp_path.rglob("funnel-*.pickle"))
    assert kept == [f"funnel-{m}-{data.year}.pickle" for m in sorted(benchmarking.FUNNELS)]
    panel, fitted, grid = benchmarking.funnel_of(data, "cp_second_or_subsequent_pct")
    # The chart draws the exact limits; at large denominators they meet the normal ones.
    assert (grid["lower_95"] <= grid["upper_95"]).all()
    last = grid.iloc[-1]
    assert last["upper_99_8"] == pytest.approx(last["normal_upper_99_8"], rel=0.02)
    # The panel holds DfE's published counts: 104 repeat plans of 725 started (14.3%).
    la = panel.loc["825"]
    repeat, started = (float(data.fact(m, "dfe")["value"].iloc[0])
                       for m in ("cp_plans_second_or_subsequent", "cp_plans_started"))
    assert (la["numerator"], la["denominator"]) == (repeat, started) == (104, 725)
    low, high = fitted.exact_limits(la["denominator"], funnel.LEVELS[0])
    assert low < repeat / started < high


def test_the_cp_rate_funnel_places_buckinghamshire_from_its_published_counts(data: ThemeData):
    from cpstats.stats import funnel

    panel, fitted, _ = benchmarking.funnel_of(data, "cp_rate_per_10k")
    la = panel.loc["825"]
    # DfE's 553 children on plans at 31 March 2017 over the population its rate of 45.2 implies.
    on_plans = float(data.fact("cp_plans_at_31_march", "dfe")["value"].iloc[0])
    assert la["numerator"] == on_plans == 553
    assert la["numerator"] / la["denominator"] * 10_000 == pytest.approx(45.2, abs=0.05)
    assert funnel.position(la["numerator"] / la["denominator"], la["denominator"], fitted,
                           exact=True) == "within the 95% limits"
    words = " ".join(benchmarking.funnels(data).paragraphs)
    assert ("Children on a plan per 10,000 children: 45.2, within the 95% limits around the 150 "
            "councils' pooled 43.3" in words)
    assert "additive random-effects method" in words and "(an approximation" in words



def test_flows_against_england(data: ThemeData):
    section = benchmarking.flows_compared(data)
    found = section.findings.frame()
    # d1: 553 on plans at 31 March over 725 started = 0.76 years (England 51,080 / 66,410 = 0.77).
    assert _row(found, "cp_mean_duration_years")["value"] == 0.76
    assert _row(found, "cp_mean_duration_years", code=ENGLAND)["value"] == 0.77
    # d8: 120 of the 293 plans ending April-September lasted 3 months or less (England 30.4%).
    early = _row(found, "cp_plans_ended_first_6_months_of_year_by_duration_pct",
                 "duration=3_months_or_less")
    assert (early["value"], early["lower_95"], early["upper_95"]) == (41.0, 35.5, 46.7)
    words = " ".join(section.paragraphs)
    assert "more ended within 3 months than in England beyond chance (p < 0.001)" in words
    assert "Re-referrals within 12 months (%): 32.9% (32.0% to 33.9%) against 21.9%" in words


def test_pooled_neighbour_mean_has_an_interval(findings: pd.DataFrame):
    pooled = _row(findings, "cp_rate_per_10k", "neighbours=weighted_mean")
    assert pooled["lower_95"] < 36.1 < pooled["upper_95"]
    # The unweighted mean (40.2) carries Dobson's interval: its small councils weigh more per
    # child, so it is wider than the pooled one.
    plain = _row(findings, "cp_rate_per_10k", "neighbours=unweighted_mean")
    assert plain["lower_95"] < 40.2 < plain["upper_95"]
    assert plain["upper_95"] - plain["lower_95"] > pooled["upper_95"] - pooled["lower_95"]


def test_neighbour_means_without_neighbours_or_with_no_children(data: ThemeData):
    from cpstats.themes.base import Section

    panel = benchmarking.councils(data, "cp_rate_per_10k")
    # No neighbour publishes the measure: ranks only, a sentence, no mean and no crash.
    alone = Section(benchmarking.THEME, "alone", "Alone", data)
    words = benchmarking._rank_words(alone, data, panel.drop(index=data.neighbours),
                                     "cp_rate_per_10k")
    assert words.endswith("no neighbour publishes it, so there is no neighbours' mean.")
    assert not alone.findings.frame()["breakdown"].str.startswith("neighbours=").any()
    # Every neighbour with no child on a plan: means of 0, the pooled rate keeps its exact
    # Poisson upper limit (3.69 over about a million children: 0.0 at one decimal), the
    # unweighted mean (Dobson's, nothing to scale) has no interval.
    zeros = panel.copy()
    zeros.loc[data.neighbours, ["numerator", "value"]] = 0.0
    none = Section(benchmarking.THEME, "none", "None", data)
    words = benchmarking._rank_words(none, data, zeros, "cp_rate_per_10k")
    assert "neighbours' unweighted mean 0.0, weighted (pooled counts) 0.0." in words
    found = none.findings.frame().set_index("breakdown")
    assert pd.isna(found.loc["neighbours=unweighted_mean", "lower_95"])
    assert found.loc["neighbours=weighted_mean", "lower_95"] == 0
    assert found.loc["neighbours=weighted_mean", "upper_95"] == 0
