"""Rolling-origin backtests: scores that mean what they say, and no model ever sees the future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpstats.stats import backtest as bt
from cpstats.stats import forecast as fc

YEARS = pd.period_range("2013", periods=10, freq="Y-MAR")
BOUNDS = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]
ANNUAL = ["naive", "drift", "mean_k", "ets", "arima", "sarimax", "stock_flow", "combo"]


def _series(seed: int) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    y = pd.Series(500 + np.cumsum(rng.normal(5, 40, 10)), index=YEARS)
    exog = pd.DataFrame({
        "cp_plans_started": 600 + rng.normal(0, 30, 10),
        "cp_plans_ended": 590 + rng.normal(0, 30, 10),
        "icpcs": 650 + rng.normal(0, 40, 10),
        "cp_rate_per_10k": rng.uniform(20, 70, 10),
    }, index=YEARS)
    return y, exog


def _spoil(frame: pd.Series | pd.DataFrame, origin: str, how: str):
    """Everything after ``origin`` replaced by missing or absurd values."""
    after = frame.index > pd.Period(origin, freq="Y-MAR")
    spoiled = frame.copy()
    spoiled.loc[after] = np.nan if how == "missing" else 1e9
    return spoiled


def _fit_all(y, exog, origin):
    cut = pd.Period(origin, freq="Y-MAR")
    return fc.fit_many(ANNUAL, y.loc[:cut], 3, exog.loc[:cut])


@pytest.mark.parametrize("how", ["missing", "absurd"])
@pytest.mark.parametrize("origin", ["2017", "2019"])
def test_no_model_sees_data_after_its_origin(origin, how):
    y, exog = _series(1)
    clean = bt.rolling_origin(y, ANNUAL, [origin], 3, exog)
    spoiled = bt.rolling_origin(_spoil(y, origin, how), ANNUAL, [origin], 3, _spoil(exog, origin, how))
    assert len(clean) == len(ANNUAL) * 3
    pd.testing.assert_frame_equal(clean[["model", "fitted", "step", *BOUNDS]],
                                  spoiled[["model", "fitted", "step", *BOUNDS]])
    # ...and the backtest did score against the real outcomes.
    assert clean["actual"].notna().all()
    assert not spoiled["actual"].between(0, 1e6).any()


@pytest.mark.parametrize("how", ["missing", "absurd"])
def test_the_pooled_models_see_no_series_after_the_origin(how):
    panel = {f"{i:03d}": _series(i) for i in range(40)}
    spoiled = {k: (_spoil(y, "2018", how), _spoil(x, "2018", how)) for k, (y, x) in panel.items()}
    models = ["pooled", "combo_pooled", "pooled_median", "combo_median", "flows", "local_level",
              "combo_all"]
    clean = fc.forecast_panel(panel, models, 2018, 3)
    dirty = fc.forecast_panel(spoiled, models, 2018, 3)
    assert set(clean["model"]) == set(models) and clean["fitted"].eq("pooled").any()
    assert clean["fitted"].isin(["pooled_median", "flows", "local_level"]).sum() == 3 * 40 * 3
    pd.testing.assert_frame_equal(clean, dirty)


def test_the_child_level_model_sees_no_plan_started_or_ended_after_the_origin():
    rng = np.random.default_rng(2)
    starts = pd.Timestamp("2014-04-01") + pd.to_timedelta(rng.integers(0, 1090, 600), unit="D")
    ends = starts + pd.to_timedelta(rng.integers(20, 700, 600), unit="D")
    plans = pd.DataFrame({"child_id": [f"c{i}" for i in range(600)],
                          "start_date": starts.astype("datetime64[s]"),
                          "end_date": ends.astype("datetime64[s]")})
    origin = pd.Period("2016Q2", freq="Q-MAR")  # July-September 2015
    day = pd.Timestamp("2015-09-30")
    late_ends = plans.assign(end_date=plans["end_date"].where(plans["end_date"] <= day,
                                                              pd.Timestamp("2015-10-01")))
    absurd = pd.concat([late_ends, pd.DataFrame({
        "child_id": ["x"] * 500, "start_date": pd.Timestamp("2015-10-02"),
        "end_date": pd.NaT}).astype({"start_date": "datetime64[s]", "end_date": "datetime64[s]"})])
    clean = fc.hazard_forecast(plans, origin, 2, n_sims=500)
    pd.testing.assert_frame_equal(clean, fc.hazard_forecast(absurd, origin, 2, n_sims=500))


def test_mase_scale_and_scores_by_hand():
    y = pd.Series([100.0, 110, 100, 120, 130, 125], index=YEARS[:6])
    assert bt.naive_scale(y) == pytest.approx((10 + 10 + 20 + 10 + 5) / 5)
    frame = pd.DataFrame({
        "model": "m", "step": 1, "actual": [100.0, 200.0], "point": [110.0, 180.0],
        "lower_80": [90.0, 190.0], "upper_80": [120.0, 210.0],
        "lower_95": [80.0, 150.0], "upper_95": [130.0, 250.0], "scale": [10.0, 20.0],
    }).assign(error=lambda f: f["point"] - f["actual"])
    row = bt.score(frame).iloc[0]
    assert row["mae"] == pytest.approx(15.0)
    assert row["mase"] == pytest.approx((10 / 10 + 20 / 20) / 2)
    assert row["bias"] == pytest.approx((10 - 20) / 2)
    assert row["coverage_80"] == pytest.approx(1.0) and row["coverage_95"] == pytest.approx(1.0)


def test_models_are_scored_only_on_the_forecasts_every_model_made():
    # "pooled" has no forecast for series b at 2018: scored alone, naive's mean would include
    # its worst error there and pooled's would not.
    rows = [{"series": s, "origin": o, "model": m, "step": 1, "actual": 100.0, "scale": 1.0,
             "error": e, **{b: 100.0 for b in BOUNDS}}
            for (s, o, m, e) in [("a", "2017", "naive", 2.0), ("a", "2017", "pooled", 1.0),
                                 ("a", "2018", "naive", 2.0), ("a", "2018", "pooled", 1.0),
                                 ("b", "2018", "naive", 50.0)]]
    frame = pd.DataFrame(rows)
    common = bt.common_rows(frame)
    assert (common.forecasts, common.left_out) == (2, 1)
    assert common.missing.to_dict() == {"pooled": 1}
    assert "1 that only some models made were left out for all (`pooled` had none at 1)" in (
        common.note())
    fair = bt.score(frame).set_index("model")
    assert fair["n"].tolist() == [2, 2] and fair.loc["naive", "mase"] == pytest.approx(2.0)
    unfair = bt.score(frame, common=False).set_index("model")
    assert unfair.loc["naive", "n"] == 3 and unfair.loc["naive", "mase"] == pytest.approx(18.0)


def _scored(models_mase: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for model, values in models_mase.items():
        for origin, value in zip(["2017", "2018", "2019", "2020"], values, strict=True):
            rows.append({"origin": origin, "model": model, "step": 1, "actual": 100.0,
                         "point": 100.0 + value, "error": value, "scale": 1.0,
                         **{b: np.nan for b in BOUNDS[1:]}})
    return pd.DataFrame(rows)


def test_default_is_chosen_on_early_origins_only_and_falls_back_when_nothing_beats_naive():
    # "late" is best overall but only thanks to 2020, which the choice must not look at.
    frame = _scored({"naive": [5, 5, 5, 5], "early": [4, 4, 4, 9], "late": [6, 6, 6, 0]})
    chosen, note = bt.choose_default(frame, [2017, 2018, 2019])
    assert chosen == "early" and "origins 2017 to 2019" in note
    worse = _scored({"naive": [5, 5, 5, 5], "other": [6, 6, 6, 1]})
    chosen, note = bt.choose_default(worse, [2017, 2018, 2019], fallback="mean_k")
    assert chosen == "mean_k" and "no model beat naive" in note


def test_backtest_across_a_panel_in_two_processes_matches_one():
    panel = {f"{i:03d}": _series(i) for i in range(6)}
    one = bt.backtest_panel(panel, ["naive", "mean_k"], [2017, 2018], 2, jobs=1)
    two = bt.backtest_panel(panel, ["naive", "mean_k"], [2017, 2018], 2, jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 6 * 2 * 2 * 2


def test_series_scale_is_the_mase_scale_at_every_period():
    y = pd.Series([100.0, 110, np.nan, 50, 60, 40, 45, 80, 70, 75], index=YEARS)
    scale = fc.series_scale(y.to_frame("la"))["la"]
    for t in range(len(y)):
        expected = bt.naive_scale(y.iloc[:t + 1]) if pd.notna(y.iloc[t]) else np.nan
        assert scale.iloc[t] == pytest.approx(expected, nan_ok=True)
    assert scale.iloc[5] == pytest.approx(15.0)  # |60-50| and |40-60| after the gap


def test_the_median_panel_model_sizes_intervals_by_each_councils_own_volatility():
    # Two groups of random walks, one ten times the other's size and spread.
    panel = {}
    for i in range(60):
        y, exog = _series(100 + i)
        factor = 10.0 if i % 2 else 1.0
        panel[f"{i:03d}"] = (50 + (y - 500) * factor / 10 + factor * 20, exog * factor)
    out = fc.pooled_median_forecast(panel, 2021, 1)
    assert out["fitted"].eq("pooled_median").all()
    width = (out["upper_80"] - out["lower_80"]).groupby(out["series"].str[-3:].astype(int) % 2).median()
    assert 5 < width[1] / width[0] < 20


def test_choosing_by_interval_score_passes_over_an_interval_that_misleads():
    rows = []
    for i in range(50):
        actual = 100.0 + (i % 5)
        rows += [
            {"model": "naive", "point": 100.0, "lower_80": 90.0, "upper_80": 110.0},
            # The better point, with an interval that almost never holds the outcome.
            {"model": "sharp", "point": actual, "lower_80": actual + 0.5, "upper_80": actual + 0.6},
            {"model": "honest", "point": 101.0, "lower_80": 96.0, "upper_80": 103.5},
        ]
        for row in rows[-3:]:
            row.update(origin="2017", step=1, actual=actual, scale=10.0,
                       error=row["point"] - actual, lower_95=0.0, upper_95=1e3)
    backtest = pd.DataFrame(rows)
    assert bt.choose_default(backtest, ["2017"])[0] == "sharp"
    chosen, note = bt.choose_default(backtest, ["2017"], criterion="interval")
    assert chosen == "honest" and "covered 75%-85%" in note


def test_flows_model_follows_the_stock_flow_identity():
    # Every LA starts 100 plans a year and keeps half of those on plans each year, so the stock
    # moves (stock + 100) / 2 towards 100; the forecast must carry on along that path.
    stock = [20.0]
    for _ in range(9):
        stock.append((stock[-1] + 100) * 0.5)
    y = pd.Series(stock, index=YEARS)
    exog = pd.DataFrame({"cp_plans_started": 100.0, "cp_rate_per_10k": y / 500}, index=YEARS)
    panel = {f"{i:03d}": (y, exog) for i in range(40)}
    out = fc.flows_forecast(panel, 2019, 3)
    expected = [(stock[6] + 100) * 0.5]
    for _ in range(2):
        expected.append((expected[-1] + 100) * 0.5)
    assert out["fitted"].eq("flows").all()
    np.testing.assert_allclose(out[out["series"] == "000"]["point"], expected)


def test_shrinking_pulls_a_short_history_further_towards_its_group():
    rng = np.random.default_rng(4)
    values = pd.DataFrame(rng.normal(50, 5, (6, 30)), index=YEARS[:6])
    values.iloc[:5, 0] = np.nan  # series 0 has one year, series 1 six
    values.iloc[-1, [0, 1]] = 90.0
    values.iloc[-3:, 1] = 90.0
    shrunk = fc.shrink_towards_group(values, np.zeros(30, dtype=int)).iloc[-1]
    assert 50 < shrunk[0] < shrunk[1] < 90
    # A fixed weight (the ideas benchmark's) replaces the empirical Bayes one.
    groups = np.zeros(30, dtype=int)
    own = values.rolling(3, min_periods=1).mean().iloc[-1]
    assert fc.shrink_towards_group(values, groups, weight=1.0).iloc[-1].equals(own)
    assert fc.shrink_towards_group(values, groups, weight=0.0).iloc[-1].nunique() == 1


def test_the_state_space_model_learns_how_fast_councils_return_to_their_own_level():
    rng = np.random.default_rng(5)
    def panel(phi):
        x = np.zeros((10, 80))
        for t in range(1, 10):
            x[t] = phi * x[t - 1] + rng.normal(0, 0.15, 80)
        return pd.DataFrame(np.exp(np.log(400) + x), index=YEARS)
    assert fc.fit_local_level(panel(0.3))[0] <= 0.6
    assert fc.fit_local_level(panel(1.0))[0] >= 0.9


def test_every_model_family_is_fitted_through_one_interface():
    from cpstats.stats.forecast.models import Hazard, History, Pooled, SingleSeries, families

    grouped = families(["naive", "combo_median", "stock_flow_hazard", "ets"])
    assert [type(f) for f in grouped] == [SingleSeries, Pooled, Hazard]
    assert grouped[0].names == ("naive", "ets") and grouped[1].names == ("combo_median",)
    panel = {f"{i:03d}": _series(i) for i in range(40)}
    spoiled = {k: (_spoil(y, "2018", "absurd"), _spoil(x, "2018", "absurd"))
               for k, (y, x) in panel.items()}
    origin = pd.Period("2018", freq="Y-MAR")
    history = History.at(origin, spoiled)
    assert all(y.index[-1] == origin for y, _ in history.series.values())
    forecast = Pooled(("combo_pooled",)).fit(history, 2)
    assert set(forecast.frame["model"]) == {"combo_pooled"}
    assert list(forecast.quantiles.columns) == [0.025, 0.10, 0.90, 0.975]
    assert (forecast.quantiles[0.10] <= forecast.point).all()
    assert (forecast.point <= forecast.quantiles[0.90]).all()
