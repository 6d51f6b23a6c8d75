"""The default report keeps every figure it stated before the themes moved into the library.

``tests/data/default_results.csv`` is the default run's ``results.csv`` as it was before the
move (Buckinghamshire 2016-17). Each theme, computed in-process, must state every one of its
figures again, at the precision the figure was published to. A figure may only change key for a
reason written in :data:`RENAMED` (later issues update the reference file on purpose).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpstats import themes
from cpstats.inputs import resolve
from cpstats.results import read_results

REFERENCE = Path(__file__).parent / "data" / "default_results.csv"
KEY = ["measure", "geography_code", "period", "breakdown", "source"]
#: (theme, measure, geography_code, period, breakdown, old source) -> new source, with why.
RENAMED: dict[tuple[str, ...], tuple[str, str]] = {}


@pytest.fixture(scope="module")
def data() -> themes.ThemeData:
    return themes.ThemeData(resolve())


@pytest.fixture(scope="module")
def findings(data: themes.ThemeData) -> dict[str, pd.DataFrame]:
    """Each theme's findings, computed once for the module."""
    return {}


def _findings(name: str, data: themes.ThemeData, cache: dict[str, pd.DataFrame]) -> pd.DataFrame:
    if name not in cache:
        cache[name] = themes.compute(name, data).findings
    return cache[name]


@pytest.mark.parametrize("name", list(themes.NOTEBOOKS))
def test_theme_states_every_figure_it_stated_before(name: str, data: themes.ThemeData,
                                                    findings: dict[str, pd.DataFrame]) -> None:
    theme = themes.NOTEBOOKS[name]
    before = read_results(REFERENCE)
    before = before[before["theme"] == theme]
    now = _findings(name, data, findings)
    now = now.set_index(KEY)
    missing, moved = [], []
    for row in before.itertuples(index=False):
        source = RENAMED.get((theme, row.measure, row.geography_code, row.period, row.breakdown,
                              row.source), (row.source, ""))[0]
        key = (row.measure, row.geography_code, row.period, row.breakdown, source)
        if key not in now.index:
            missing.append(key)
            continue
        value = now.loc[key, "value"]
        if pd.isna(row.value):
            if not pd.isna(value):
                moved.append((key, row.value, value))
        elif pd.isna(value) or abs(float(value) - float(row.value)) > _tolerance(row.value):
            moved.append((key, row.value, value))
    assert missing == [] and moved == []


def _tolerance(value: float) -> float:
    """Half a unit in the last decimal the old file stored (it stored at published precision)."""
    text = f"{float(value):.10g}"
    places = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10 ** -places + 1e-9


#: DfE-based rates and percentages that carry no interval, each with the reason its note gives
#: (a census count has no sampling error; a backtest's fallback share and interval coverage
#: count every forecast, and overlapping backtests are no independent trials;
#: a bound under an assumption about unprinted ethnicities is not an estimate).
NO_INTERVAL = {"population_share_pct", "population_share_all_ages_pct",
               "forecast_backtest_fallback_pct", "forecast_backtest_coverage_80_pct",
               "forecast_backtest_coverage_95_pct", "ethnicity_rate_per_10k_max",
               "cp_by_ethnicity_share_of_known_pct"}


def _unbounded(results: pd.DataFrame) -> list[tuple[str, ...]]:
    """DfE-based (source dfe or derived) rate and percentage rows stating a value whose 95%
    interval is missing or does not hold the value, unless :data:`NO_INTERVAL` excuses them
    and their note says why."""
    rows = results[results["source"].isin(["dfe", "derived"])
                   & results["unit"].isin(["rate", "percent"]) & results["value"].notna()]
    held = (rows["lower_95"] <= rows["value"]) & (rows["value"] <= rows["upper_95"])
    excused = (rows["measure"].isin(list(NO_INTERVAL))
               & rows["note"].fillna("").str.contains("No interval: ", regex=False))
    bad = rows[~held.fillna(False) & ~excused]
    return list(bad[["theme", *KEY]].astype(str).itertuples(index=False, name=None))


def test_reference_rates_and_percentages_carry_intervals() -> None:
    results = read_results(REFERENCE)
    assert len(results[results["unit"].isin(["rate", "percent"])]) > 80
    assert _unbounded(results) == []


@pytest.mark.parametrize("name", list(themes.NOTEBOOKS))
def test_every_rate_and_percentage_carries_its_interval(name: str, data: themes.ThemeData,
                                                        findings: dict[str, pd.DataFrame]) -> None:
    assert _unbounded(_findings(name, data, findings)) == []


def test_change_and_ratio_intervals_by_hand(data: themes.ThemeData) -> None:
    from cpstats import comparison

    # Buckinghamshire's children on plans, 31 March 2017 over 2016 (DfE d1): 553 and 454, a
    # change of +21.8%. Clopper-Pearson on 553 of 1,007 gives 0.517821 to 0.580202 (beta
    # quantiles), so the ratio p / (1 - p) runs 1.073919 to 1.382101: -1 and x 100, +7.39% to
    # +38.21%.
    now, before = (data.value("cp_plans_at_31_march", "dfe", period=p)
                   for p in (data.period, data.previous))
    assert (now, before) == (553, 454)
    change = 100 * (now / before - 1)
    bounds = comparison.interval(data.facts, "cp_change_pct", "825", data.period, change)
    assert bounds == pytest.approx((7.3919, 38.2101), abs=1e-4)
    # Its note says what the interval assumes and the counts do not meet.
    assert comparison.LINKED_COUNTS["cp_change_pct"].startswith(
        "interval conservative: treats the counts as independent")
    # A stated value the counts do not give back has no interval.
    assert comparison.interval(data.facts, "cp_change_pct", "825", data.period, change + 1) is None


def test_intervals_on_linked_counts_say_they_are_conservative(
        data: themes.ThemeData, findings: dict[str, pd.DataFrame]) -> None:
    now = _findings("trends", data, findings)
    rows = now[now["measure"].isin(["cp_change_pct", "icpc_to_cp_plan_pct"])
               & (now["source"] == "derived") & now["lower_95"].notna()]
    assert set(rows["measure"]) == {"cp_change_pct", "icpc_to_cp_plan_pct"}
    assert rows["note"].str.contains("interval conservative: treats the counts as independent",
                                     regex=False).all()
    assert rows["note"].str.contains("never read as no difference", regex=False).all()
    # Plans started per ICPC is no binomial share: transfer-ins are among the plans started.
    assert rows.loc[rows["measure"] == "icpc_to_cp_plan_pct", "note"].str.contains(
        "transfer-ins").all()
