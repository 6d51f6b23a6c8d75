"""Forecast models on series whose right answer is known, their intervals and fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpstats.stats import forecast as fc

YEARS = pd.period_range("2013", periods=10, freq="Y-MAR")
QUARTERS = pd.period_range("2012Q1", periods=20, freq="Q-MAR")
BOUNDS = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]


def _widths(frame: pd.DataFrame) -> np.ndarray:
    return (frame["upper_95"] - frame["lower_95"]).to_numpy()


@pytest.mark.parametrize("model", ["naive", "drift", "mean_k", "ets", "arima", "combo"])
def test_a_constant_series_is_forecast_as_that_constant_with_no_spread(model):
    y = pd.Series(400.0, index=YEARS)
    out = fc.fit_forecast(model, y, 3)
    assert out["point"].to_numpy() == pytest.approx([400.0] * 3)
    assert _widths(out) == pytest.approx([0.0] * 3, abs=1e-3)
    assert list(out["period"].astype(str)) == ["2023", "2024", "2025"]
    assert out["fitted"].str.startswith(model).all()


def test_a_straight_line_is_extended_by_drift_and_held_by_naive_and_mean_k():
    y = pd.Series(100.0 + 10.0 * np.arange(10), index=YEARS)  # 100 ... 190
    drift = fc.fit_forecast("drift", y, 3)
    assert drift["point"].to_numpy() == pytest.approx([200.0, 210.0, 220.0])
    assert _widths(drift) == pytest.approx([0.0] * 3)
    assert fc.fit_forecast("naive", y, 2)["point"].to_numpy() == pytest.approx([190.0, 190.0])
    assert fc.fit_forecast("mean_k", y, 1)["point"].iloc[0] == pytest.approx(180.0)
    # Naive's interval now has width: every step was +10, so sd = 10 and h=1 80% = 10 * t(0.9, 9).
    naive = fc.fit_forecast("naive", y, 1)
    assert naive["upper_80"].iloc[0] - 190.0 == pytest.approx(10 * 1.3830, rel=1e-3)


@pytest.mark.parametrize("model", ["snaive", "ets"])
def test_a_pure_seasonal_pattern_is_repeated(model):
    pattern = [100.0, 120.0, 90.0, 130.0]
    y = pd.Series(np.tile(pattern, 5), index=QUARTERS)
    out = fc.fit_forecast(model, y, 6)
    assert out["point"].to_numpy() == pytest.approx(pattern + pattern[:2], rel=1e-4)
    assert out["fitted"].iloc[0] == model


def test_seasonal_naive_takes_the_value_one_season_back_with_whole_season_steps():
    rng = np.random.default_rng(3)
    y = pd.Series(200 + rng.normal(0, 10, 20), index=QUARTERS)
    out = fc.fit_forecast("snaive", y, 8)
    assert out["point"].to_numpy() == pytest.approx(np.tile(y.to_numpy()[-4:], 2))
    width = _widths(out)
    assert width[:4] == pytest.approx([width[0]] * 4)  # same season count ahead
    assert width[4] == pytest.approx(width[0] * np.sqrt(2))


def test_stock_flow_follows_the_identity_stock_plus_starts_minus_ends():
    # 100 starts a year and half of everything open in a year ends: S' = 0.5 (S + 100).
    stock = [300.0]
    for _ in range(7):
        stock.append(0.5 * (stock[-1] + 100))
    index = YEARS[:8]
    starts = pd.Series(100.0, index=index)
    ends = pd.Series(np.r_[np.nan, np.array(stock[:-1]) + 100 - np.array(stock[1:])], index=index)
    exog = pd.DataFrame({"cp_plans_started": starts, "cp_plans_ended": ends})
    out = fc.fit_forecast("stock_flow", pd.Series(stock, index=index), 2, exog)
    first = 0.5 * (stock[-1] + 100)
    assert out["point"].to_numpy() == pytest.approx([first, 0.5 * (first + 100)])
    assert out["fitted"].iloc[0] == "stock_flow"


def test_lower_bounds_never_go_below_zero():
    y = pd.Series([30.0, 2.0, 40.0, 1.0, 35.0, 0.0, 3.0, 1.0, 2.0, 1.0], index=YEARS)
    for model in ("naive", "drift", "mean_k", "ets", "arima", "combo"):
        out = fc.fit_forecast(model, y, 3)
        assert (out[BOUNDS].to_numpy() >= 0).all(), model
        assert (out["lower_95"] <= out["lower_80"]).all() and (out["upper_80"] <= out["upper_95"]).all()


def test_naive_80pc_interval_covers_about_80pc_of_500_random_walks():
    rng = np.random.default_rng(20170331)
    steps = rng.normal(0, 25, size=(500, 31))
    paths = 1000 + np.cumsum(steps, axis=1)
    index = pd.period_range("1990", periods=30, freq="Y-MAR")
    hits = []
    for path in paths:
        out = fc.fit_forecast("naive", pd.Series(path[:30], index=index), 1)
        hits.append(out["lower_80"].iloc[0] <= path[30] <= out["upper_80"].iloc[0])
    assert 0.75 <= np.mean(hits) <= 0.85


def test_a_series_too_short_for_a_model_falls_back_and_says_so():
    y = pd.Series([500.0, 520.0, 480.0, 510.0], index=YEARS[:4])
    out = fc.fit_forecast("ets", y, 2)
    assert out["model"].eq("ets").all() and out["fitted"].eq("naive").all()
    assert "ets needs at least 6 points" in out["note"].iloc[0]
    assert out["point"].to_numpy() == pytest.approx([510.0, 510.0])
    sarimax = fc.fit_forecast("sarimax", y, 1)  # sarimax -> arima -> naive
    assert sarimax["fitted"].iloc[0] == "naive"
    assert "sarimax" in sarimax["note"].iloc[0] and "arima" in sarimax["note"].iloc[0]


def test_a_gap_starts_the_series_again_and_two_points_are_too_few_for_anything():
    y = pd.Series([500.0, 510, np.nan, 600, 610, 620, 640], index=YEARS[:7])
    out = fc.fit_forecast("naive", y, 1)
    assert "last 4 unbroken points" in out["note"].iloc[0]
    with pytest.raises(fc.TooShort):
        fc.fit_forecast("naive", pd.Series([1.0, np.nan, 5.0, 6.0], index=YEARS[:4]), 1)
    with pytest.raises(ValueError, match="unknown model"):
        fc.fit_forecast("prophet", y, 1)
    with pytest.raises(ValueError, match="at least 1"):
        fc.fit_forecast("naive", y, 0)


def test_sarimax_uses_the_previous_years_indicator():
    # y_t = 2 x_{t-1} + small noise: the forecast for next year follows 2 x_origin.
    rng = np.random.default_rng(5)
    x = pd.Series(rng.uniform(100, 300, 10), index=YEARS)
    y = pd.Series(np.r_[400.0, 2 * x.to_numpy()[:-1]] + rng.normal(0, 1, 10), index=YEARS)
    out = fc.fit_forecast("sarimax", y, 1, pd.DataFrame({"icpcs": x}))
    assert out["fitted"].iloc[0] == "sarimax"
    assert out["point"].iloc[0] == pytest.approx(2 * x.iloc[-1], rel=0.05)


def _reverting_panel(b: float, n_series: int = 40) -> dict:
    """Series whose log change is exactly b x log(mean of last 3 / current); starts = ends."""
    rng = np.random.default_rng(11)
    panel = {}
    for i in range(n_series):
        y = list(rng.uniform(100, 900, 3))
        for _ in range(7):
            y.append(y[-1] * (np.mean(y[-3:]) / y[-1]) ** b)
        flows = pd.DataFrame({"cp_plans_started": 50.0, "cp_plans_ended": 50.0, "icpcs": 60.0},
                             index=YEARS)
        panel[f"{i:03d}"] = (pd.Series(y, index=YEARS), flows)
    return panel


def test_pooled_regression_recovers_an_exact_common_rule():
    panel = _reverting_panel(0.6)
    truth = {k: y.iloc[-1] for k, (y, _) in panel.items()}  # 2022
    out = fc.pooled_forecast(panel, 2021, 1)
    assert len(out) == len(panel) and out["fitted"].eq("pooled").all()
    got = out.set_index("series")["point"]
    assert got.to_numpy() == pytest.approx(np.array([truth[k] for k in got.index]), rel=1e-6)
    assert (out["upper_95"] - out["lower_95"]).to_numpy() == pytest.approx(0.0, abs=1e-3)


def test_combining_averages_points_and_bounds():
    y = pd.Series([500.0, 520, 480, 530, 510, 540, 560, 550], index=YEARS[:8])
    parts = pd.concat([fc.fit_forecast(m, y, 2).assign(series="x") for m in ("naive", "mean_k")])
    combined = fc.combine(parts, ("naive", "mean_k"), "both")
    expected = parts.groupby("step")[BOUNDS].mean()
    assert combined[BOUNDS].to_numpy() == pytest.approx(expected.to_numpy())
    assert combined["fitted"].iloc[0] == "mean(mean_k,naive)"


def _plans(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({
        "child_id": [f"c{i}" for i in range(len(rows))],
        "start_date": pd.to_datetime([s for s, _ in rows]).astype("datetime64[s]"),
        "end_date": pd.to_datetime([e for _, e in rows]).astype("datetime64[s]"),
    })


def test_duration_hazards_count_plans_at_risk_and_ending_by_time_on_plan():
    # Open on 31 Dec 2016 (end of Q3 of 2016-17): 4 plans under 3 months,
    # 2 plans 12-15 months; of these, 1 short and 2 long end by 31 March 2017.
    plans = _plans([("2016-11-01", None), ("2016-11-01", "2017-02-01"), ("2016-12-01", None),
                    ("2016-12-20", None), ("2015-10-01", "2017-01-10"), ("2015-11-01", "2017-03-01")])
    table = fc.duration_hazards(plans, pd.Period("2017Q4", freq="Q-MAR"), window=1)
    assert table.loc[0, ["at_risk", "ended"]].tolist() == [4, 1]
    assert table.loc[4, ["at_risk", "ended"]].tolist() == [2, 2]
    assert table.loc[0, "hazard"] == pytest.approx(0.25)


def test_hazard_model_with_no_ends_and_no_new_starts_keeps_todays_stock():
    plans = _plans([("2015-05-01", None)] * 30)
    out = fc.hazard_forecast(plans, "2017Q4", h=2, n_sims=200)
    assert out["point"].to_numpy() == pytest.approx([30.0, 30.0])
    assert out["lower_95"].eq(30).all() and out["upper_95"].eq(30).all()


def test_chair_capacity_against_the_reports_target():
    forecast = pd.DataFrame({"point": [564.0], "lower_80": [520.0], "upper_80": [610.0],
                             "lower_95": [500.0], "upper_95": [640.0]})
    out = fc.chair_capacity(forecast, 5.8, 85).iloc[0]  # the report's establishment and target
    assert out["per_fte"] == pytest.approx(97.2, abs=0.05)  # the report: 97 per FTE chair
    assert out["fte_needed"] == pytest.approx(564 / 85)
    assert out["fte_gap"] == pytest.approx(564 / 85 - 5.8)
    with pytest.raises(TypeError):  # no council's figures are assumed for another
        fc.chair_capacity(forecast)  # type: ignore[call-arg]


def _sibling_plans(seed: int = 3, groups: int = 300, over_days: int = 1090) -> pd.DataFrame:
    """Plans of sibling groups of 1-4 children sharing referral, start and end dates."""
    rng = np.random.default_rng(seed)
    size = rng.choice([1, 2, 3, 4], size=groups, p=[0.5, 0.28, 0.14, 0.08])
    days = rng.choice(over_days, size=groups, replace=False)  # one group per referral day
    start = pd.Timestamp("2014-04-01") + pd.to_timedelta(days, unit="D")
    end = start + pd.to_timedelta(rng.integers(30, 700, groups), unit="D")
    plans = pd.DataFrame({"cin_id": (start - pd.Timedelta(days=20)).strftime("%Y-%m-%d"),
                          "start_date": start.astype("datetime64[s]"),
                          "end_date": end.astype("datetime64[s]")}).loc[np.repeat(np.arange(groups), size)]
    return plans.reset_index(drop=True).assign(child_id=lambda f: [f"c{i}" for i in f.index])


def test_sibling_groups_are_found_by_shared_referral_and_start():
    plans = _sibling_plans()
    units = fc.family_units(plans)
    assert len(units) == 300 and units["size"].sum() == len(plans)
    assert units["size"].max() == 4


def test_the_hazard_model_widens_its_interval_for_siblings_who_end_together():
    # Plans started April-December 2014 only: next quarter's stock is the plans that do not
    # end, and siblings ending together make that count vary more than children ending alone.
    plans = _sibling_plans(groups=250, over_days=270)
    origin = pd.Period("2016Q3", freq="Q-MAR")  # October-December 2015
    grouped = fc.hazard_forecast(plans, origin, 1, n_sims=3000)
    alone = fc.hazard_forecast(plans.drop(columns="cin_id"), origin, 1, n_sims=3000)
    width = (grouped["upper_80"] - grouped["lower_80"]).iloc[0]
    assert width > 1.2 * (alone["upper_80"] - alone["lower_80"]).iloc[0]
    assert grouped["point"].iloc[0] == pytest.approx(alone["point"].iloc[0], rel=0.1)


def test_a_rise_in_referrals_raises_the_forecast_by_the_new_plans_only():
    plans = _sibling_plans()
    origin = pd.Period("2016Q4", freq="Q-MAR")
    base = fc.hazard_forecast(plans, origin, 1, n_sims=3000)["point"].iloc[0]
    more = fc.hazard_forecast(plans, origin, 1, n_sims=3000, starts_factor=1.1)["point"].iloc[0]
    none = fc.hazard_forecast(plans, origin, 1, n_sims=3000, starts_factor=0.0)["point"].iloc[0]
    # 10% more new plans adds a tenth of the new plans still open at the quarter end.
    assert more - base == pytest.approx(0.1 * (base - none), rel=0.25)
    assert more > base > none


def test_the_damped_trend_keeps_rising_less_each_year():
    y = pd.Series([100.0, 121, 139, 156, 169, 181, 190, 198], index=YEARS[:8])
    out = fc.fit_forecast("ets_damped", y, 3)
    assert out["fitted"].eq("ets_damped").all()
    steps = np.diff(np.r_[y.iloc[-1], out["point"].to_numpy()])
    assert (steps > 0).all() and steps[0] > steps[1] > steps[2]
    assert out["point"].iloc[-1] < y.iloc[-1] + 3 * (y.iloc[-1] - y.iloc[-2])  # below the last step's line
    short = fc.fit_forecast("ets_damped", y.iloc[:5], 1)
    assert short["fitted"].iloc[0] == "naive" and "ets_damped needs at least 6" in short["note"].iloc[0]
