"""Pipeline correlation statistics: hand arithmetic, simulated series, published ratios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpstats.stats.correlation import (
    correlation,
    correlation_grid,
    critical_r,
    cross_correlation,
    cross_section,
    distributed_lag,
    month_effects,
    monthly_frame,
    newey_west_lags,
    pipeline_ratios,
    pipeline_table,
)


def _simulated(lag: int, n: int = 72, seed: int = 7) -> pd.DataFrame:
    """Monthly s47 counts and plan starts driven by s47s ``lag`` months earlier."""
    rng = np.random.default_rng(seed)
    s47 = rng.poisson(200, n + lag).astype(float)
    plans = 0.3 * s47[: n] + rng.normal(0, 4, n)  # plans[t] depends on s47[t - lag]
    return pd.DataFrame({"s47_enquiries": s47[lag:], "cp_plans_started": plans,
                         "month": (np.arange(n) + 3) % 12 + 1})


@pytest.mark.parametrize("lag", [1, 2, 3])
def test_lag_regression_recovers_the_true_lag(lag):
    model = distributed_lag(_simulated(lag), "cp_plans_started", "s47_enquiries",
                            lags=(0, 1, 2, 3, 4))
    assert model.strongest_lag() == lag
    coef = model.coefficients.set_index("lag")
    # The true coefficient (0.3) is inside its interval; the other lags' are near 0.
    assert coef.loc[lag, "lower"] < 0.3 < coef.loc[lag, "upper"]
    others = coef.drop(index=[lag]).dropna(subset=["coef"])
    others = others[others.index.notna()]
    assert (others["coef"].abs() < 0.1).all()
    assert model.n == 72 - 4  # the first 4 months lack lagged values
    assert model.hac_maxlags == newey_west_lags(68) == 3
    assert 1.2 < model.durbin_watson < 2.8  # white-noise errors: DW near 2 (SD about 0.24)
    assert model.ljung_box_p > 0.01


def test_lag_regression_with_month_effects_and_trend_has_more_terms():
    model = distributed_lag(_simulated(2), "cp_plans_started", "s47_enquiries", lags=(0, 2),
                            month_effects=True, trend=True)
    assert len(model.coefficients) == 1 + 2 + 1 + 11
    assert model.strongest_lag() == 2


def test_fisher_z_interval_by_hand():
    # Build x, y with Pearson r = 0.5 exactly over n = 28 points: y = x + e with e
    # orthogonal to x and scaled so that corr = 0.5.
    rng = np.random.default_rng(3)
    x = rng.normal(size=28)
    e = rng.normal(size=28)
    x, e = x - x.mean(), e - e.mean()
    e = e - (e @ x) / (x @ x) * x
    e = e / np.linalg.norm(e) * np.linalg.norm(x) * math.sqrt(3)  # tan(60 deg): corr = 0.5
    out = correlation(x, x + e)
    assert out["r"] == pytest.approx(0.5)
    # z = atanh(0.5) = 0.549306; SE = 1/sqrt(25) = 0.2; z -/+ 1.96*0.2 = 0.157313, 0.941298;
    # tanh(t) = (e^2t - 1)/(e^2t + 1) -> 0.369748/2.369748 = 0.156028, 5.570553/7.570553 = 0.735818.
    assert out["lower"] == pytest.approx(0.156028, abs=1e-5)
    assert out["upper"] == pytest.approx(0.735818, abs=1e-5)
    spearman = correlation(x, x + e, method="spearman")
    assert spearman["upper"] - spearman["lower"] > out["upper"] - out["lower"] - 0.1


def test_cross_correlation_peaks_at_the_lead():
    data = _simulated(3, n=120)
    ccf = cross_correlation(data["s47_enquiries"], data["cp_plans_started"], max_lag=5)
    peak = ccf.loc[ccf["r"].idxmax()]
    assert peak["lag"] == 3 and peak["beyond_bound"]
    assert ccf["bound"].iloc[0] == pytest.approx(1.959964 / math.sqrt(120), abs=1e-6)
    # A perfectly shifted copy has r close to 1 at that lag (the divisor n shrinks it by (n-k)/n).
    x = pd.Series(np.random.default_rng(1).normal(size=50))
    r = cross_correlation(x, x.shift(2).bfill(), max_lag=3).set_index("lag")["r"]
    assert r[2] > 0.9


def test_month_effects_recover_a_built_in_pattern():
    pattern = np.array([0.8, 1, 1, 1, 0.8, 1, 1, 1.2, 0.8, 1.1, 1.1, 1.2])  # April first
    pattern = pattern / pattern.mean()
    years = np.repeat([2015, 2016, 2017, 2018], 12)
    months = np.tile([4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3], 4)
    level = np.repeat([500.0, 550, 600, 700], 12)
    frame = pd.DataFrame({"year": years, "month": months, "value": level * np.tile(pattern, 4)})
    table, test = month_effects(frame)
    assert table["month_name"].iloc[0] == "April"
    np.testing.assert_allclose(table["index"], pattern)
    assert test["years"] == 4 and test["p_value"] < 1e-6


def test_month_effects_ignore_incomplete_years():
    frame = pd.DataFrame({"year": [2017] * 12 + [2018] * 3,
                          "month": [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6],
                          "value": [10.0] * 12 + [1.0, 50.0, 1.0]})
    table, test = month_effects(frame)
    assert (table["years"] == 1).all() and (table["index"] == 1).all()


def test_pipeline_ratios():
    counts = pd.DataFrame({"referrals": [1000.0], "s47_enquiries": [250.0], "icpcs": [100.0],
                           "cp_plans_started": [85.0]})
    ratios = pipeline_ratios(counts).iloc[0]
    assert ratios.to_dict() == {"s47_per_referral": 0.25, "icpc_per_s47": 0.4,
                                "plan_per_icpc": 0.85}


@pytest.mark.shared_data
def test_published_conversion_ratios_2016_17(cin_2022):
    from cpstats.io.dfe import read_table

    facts = pd.concat([read_table(cin_2022 / name) for name in (
        "c1_children_in_need_referrals_and_rereferrals_2013_to_2022.csv",
        "c4_children_in_need_section_47s_and_icpcs_2013_to_2022.csv",
        "d1_child_protection_plans_2013_to_2022.csv")], ignore_index=True)
    table = pipeline_table(facts, ["E92000001", "825"]).set_index(["geography_code", "period"])
    england, bucks = table.loc[("E92000001", "2016-17")], table.loc[("825", "2016-17")]
    # England: 185,680 / 646,120 = 28.7%; 76,930 / 185,680 = 41.4% (domain.md 2.5).
    assert england["referrals"] == 646_120 and england["s47_enquiries"] == 185_680
    assert round(100 * england["s47_per_referral"], 1) == 28.7
    assert round(100 * england["icpc_per_s47"], 1) == 41.4
    # Buckinghamshire: 2,576 / 9,204 = 28.0%; 866 / 2,576 = 33.6%; 725 plan starts.
    assert round(100 * bucks["s47_per_referral"], 1) == 28.0
    assert round(100 * bucks["icpc_per_s47"], 1) == 33.6
    assert bucks["plan_per_icpc"] == pytest.approx(725 / 866)


@pytest.mark.shared_data
def test_monthly_referrals_and_their_season_from_dfe(cin_2022):
    from cpstats.io.dfe import read_table

    facts = read_table(cin_2022 / "c6_children_in_need_referrals_by_month_2013_to_2022.csv")
    months = monthly_frame(facts, "825", "referrals_by_month")
    year = months[months["year"] == 2017].set_index("month")["value"]
    # C6 2016-17, Buckinghamshire: April 821 ... March 920, summing to 9,204 referrals.
    assert year[4] == 821 and year[3] == 920 and year.sum() == 9_204
    assert months["period"].iloc[0] == "2012-04"
    table, test = month_effects(months)
    assert table["years"].min() == 10 and test["years"] == 10


@pytest.mark.shared_data
def test_cross_section_of_every_council(cin_2022):
    from cpstats.io.dfe import read_table

    facts = pd.concat([read_table(cin_2022 / name) for name in (
        "c4_children_in_need_section_47s_and_icpcs_2013_to_2022.csv",
        "d1_child_protection_plans_2013_to_2022.csv")], ignore_index=True)
    table = cross_section(facts, "2016-17", "s47_enquiries_rate_per_10k", "cp_rate_per_10k")
    # One row per council with both rates published (a few are suppressed or missing).
    assert 145 <= len(table) <= 152 and table["geography_code"].is_unique
    bucks = table.set_index("geography_code").loc["825"]
    assert bucks["s47_enquiries_rate_per_10k"] == 210.5 and bucks["cp_rate_per_10k"] == 45.2
    r = correlation(table["s47_enquiries_rate_per_10k"], table["cp_rate_per_10k"])
    assert r["n"] == len(table) and r["lower"] < r["r"] < r["upper"]


def test_critical_r_by_hand():
    # n = 12: t(0.975, 10) = 2.228139; r = t / sqrt(t^2 + 10) = 2.228139 / 3.868411 = 0.575983.
    assert critical_r(12) == pytest.approx(0.575983, abs=1e-6)
    # n = 3: t(0.975, 1) = 12.706205; r = 12.706205 / sqrt(161.447643 + 1) = 0.996917.
    assert critical_r(3) == pytest.approx(0.996917, abs=1e-6)
    with pytest.raises(ValueError, match="at least 3"):
        critical_r(2)


def test_correlation_grid_levels_and_changes():
    data = _simulated(0, n=24)
    quarterly = data.groupby(np.arange(24) // 3).sum()
    grid = correlation_grid({"monthly": data, "quarterly": quarterly},
                            [("s47_enquiries", "cp_plans_started")])
    assert grid[["series", "of", "n"]].values.tolist() == [
        ["monthly", "levels", 24], ["monthly", "changes", 23],
        ["quarterly", "levels", 8], ["quarterly", "changes", 7]]
    changes = data[["s47_enquiries", "cp_plans_started"]].diff()
    expected = correlation(changes["s47_enquiries"], changes["cp_plans_started"])
    assert grid.loc[1, "r"] == pytest.approx(expected["r"])
    assert grid.loc[1, "p_value"] == pytest.approx(expected["p_value"])


def test_lag_sum_and_aic_lag_length_on_a_built_in_lag():
    import numpy as np
    import pandas as pd

    from cpstats.stats.correlation import distributed_lag, lag_length_by_aic, lag_sum

    # y = 0.3 x(t) + 0.1 x(t-1) + noise: the sum of the lag terms is 0.4 and AIC keeps lag 1.
    rng = np.random.default_rng(12)
    x = pd.Series(100 + rng.normal(0, 20, 60))
    y = 0.3 * x + 0.1 * x.shift(1) + rng.normal(0, 1, 60)
    frame = pd.DataFrame({"x": x, "y": y})
    assert lag_length_by_aic(frame, "y", "x", 2) == 1
    total = lag_sum(distributed_lag(frame, "y", "x", lags=(0, 1)))
    assert total["lower"] < 0.4 < total["upper"] and abs(total["sum"] - 0.4) < 0.02


def test_prewhitening_finds_the_built_in_lead():
    import numpy as np
    import pandas as pd

    from cpstats.stats.correlation import prewhitened_cross_correlation

    # x is AR(1) with phi 0.8 (raw cross-correlations spread over many lags); y follows x two
    # months later. After prewhitening (AIC keeps at least the AR(1) term), the peak is lag 2.
    rng = np.random.default_rng(5)
    e = rng.normal(0, 1, 200)
    x = np.zeros(200)
    for t in range(1, 200):
        x[t] = 0.8 * x[t - 1] + e[t]
    y = pd.Series(x).shift(2).fillna(0) + rng.normal(0, 0.3, 200)
    table, order = prewhitened_cross_correlation(pd.Series(x), y, max_lag=4)
    assert order >= 1
    assert int(table.loc[table["r"].abs().idxmax(), "lag"]) == 2


def test_selected_lag_interval_is_bonferroni_over_the_candidates():
    from scipy import stats

    from cpstats.stats.correlation import selected_interval

    model = distributed_lag(_simulated(2), "cp_plans_started", "s47_enquiries", lags=(0, 1, 2))
    best = model.strongest_lag()
    row = model.coefficients.set_index("lag").loc[best]
    # Picked from 3 lags: coef +- t(1 - 0.05 / 6, residual df) x HAC se, wider than the 95% one.
    t = stats.t.ppf(1 - 0.05 / 6, model.result.df_resid)
    low, high = selected_interval(model, best, 3)
    assert (low, high) == pytest.approx((row["coef"] - t * row["se"], row["coef"] + t * row["se"]))
    assert low < row["lower"] and high > row["upper"] and low < 0.3 < high
