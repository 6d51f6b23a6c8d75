"""The forecasting theme (notebook 05): its findings on the shipped data, its tables as
published (rounded to hold on any CPU), and what it leaves out for another LA or missing input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cpstats import themes
from cpstats.inputs import resolve
from cpstats.plots import title_of
from cpstats.stats import backtest as bt
from cpstats.themes import forecasting
from cpstats.themes.base import Chart, ThemeData


def _finding(findings: pd.DataFrame, measure: str, breakdown: str = "total") -> pd.Series:
    rows = findings[(findings["measure"] == measure) & (findings["breakdown"] == breakdown)]
    assert len(rows) == 1, f"{measure} {breakdown}: {len(rows)} rows"
    return rows.iloc[0]


@pytest.fixture(scope="module")
def run() -> ThemeData:
    return ThemeData(resolve())


@pytest.fixture(scope="module")
def default(run) -> themes.ThemeResult:
    """The default run (Buckinghamshire 2016-17, synthetic county): about a minute."""
    return themes.compute("forecasting", run)


@pytest.fixture(scope="module")
def sections(default) -> dict[str, themes.Section]:
    return {s.key: s for s in default.sections}


def test_next_quarter_from_the_synthetic_county(default, sections):
    findings = default.findings
    now = _finding(findings, "cp_plans_at_date")
    assert (now["value"], now["period"], now["source"]) == (564, "2017-03-31", "synthetic")
    point = _finding(findings, "cp_forecast_next_quarter")
    assert point["period"] == "2017-18 Q1" and point["source"] == "synthetic"
    # the hazard model, fixed beforehand by the benchmark; bounds in whole children
    assert point[["value", "lower_80", "upper_80", "lower_95", "upper_95"]].tolist() == [
        634, 593, 678, 577, 693]
    assert "default model stock_flow_hazard, fixed by the quarterly benchmark" in point["note"]
    said = sections["next_quarter"].paragraphs[0]
    assert said.startswith("**564** children were on a plan at the end of 2016-17 Q4.")
    assert "expects **634** at the end of 2017-18 Q1: 80% prediction interval 593 to 678" in said
    assert "fixed beforehand by a benchmark across five synthetic counties" in said
    # Which data it rests on, beside it: invented records, and where the DfE-based forecast is.
    rests = sections["next_quarter"].paragraphs[1]
    assert "rest on the synthetic county" in rests and "not Buckinghamshire's" in rests
    assert "synthetic county" in sections["chairs"].paragraphs[0]


def test_next_quarter_tables_are_published_rounded(default):
    by_model = default.tables["next_quarter_by_model"]
    assert list(by_model.columns) == ["Forecast", "80% lower", "80% upper", "95% lower",
                                      "95% upper"]
    assert by_model.index.name == "Model" and "default" not in by_model.index
    assert by_model.loc["Last value (naive)", "Forecast"] == 564  # plain names, code in brackets
    backtest = default.tables["next_quarter_backtest"]
    row = backtest.set_index("Model").loc["Recommended: Child-level stock and flow (stock_flow_hazard)"]
    # MASE at the registry's 1 decimal, coverage in whole per cent; every origin is scored (the
    # default was not chosen on any of them)
    assert (row["Mean MASE"], row["80% interval coverage (%)"], row["Forecasts"]) == ("1.2", 73, 11)
    assert backtest["Mean MASE"].astype(float).is_monotonic_increasing


def test_chairs_from_the_report_s_establishment(default, sections):
    findings = default.findings
    fte = _finding(findings, "conference_chairs_fte")
    target = _finding(findings, "children_per_chair_fte_target")
    assert (fte["value"], fte["source"], target["value"]) == (5.8, "report", 85)
    per_fte = _finding(findings, "cp_forecast_children_per_fte_chair")
    needed = _finding(findings, "cp_forecast_fte_chairs_needed")
    assert (per_fte["value"], per_fte["lower_80"], per_fte["upper_80"]) == (109.3, 102.2, 116.9)
    assert (needed["value"], needed["upper_80"]) == (7.5, 8.0)
    said = " ".join(sections["chairs"].paragraphs)
    # the figure comes with its data source in the sentence
    assert ("With 5.8 FTE chairs and the forecast of 634 children from the synthetic county "
            "(generated records, not real children), there would be **109.3 children per "
            "full-time chair**") in said
    assert "above the target of 85" in said and "**7.5 FTE chairs**, or 8.0" in said


def test_next_year_from_dfe_pooled_over_every_la(default, sections):
    findings = default.findings
    recommended = _finding(findings, "cp_forecast_next_year")
    pooled = _finding(findings, "cp_forecast_next_year", "model=pooled")
    assert (recommended["value"], recommended["lower_80"], recommended["upper_80"]) == (528, 384, 713)
    assert (pooled["value"], pooled["lower_80"], pooled["upper_80"]) == (515, 388, 685)
    assert recommended["source"] == "derived" and recommended["period"] == "2017-18"
    assert "152 LAs" in recommended["note"]
    annual = default.tables["annual_forecast"]
    assert annual.index.tolist() == [2018, 2019, 2020] and annual.loc[2020, "Forecast"] == 590
    said = sections["next_year"].paragraphs[0]
    assert "expects **528** children on plans in Buckinghamshire at 31 March 2018" in said
    # 2017 is before the data the default was chosen on: the reader is told.
    assert "chosen by a backtest on DfE's figures to 31 March 2021, later than 2017" in said
    chart = default.charts["annual_fan"]
    assert chart["observed"].dropna().tolist() == [190, 242, 332, 454, 553]


def test_annual_track_record_says_which_models_fell_back(run, default, sections):
    findings = default.findings
    assert _finding(findings, "forecast_backtest_fallback_pct", "model=mean_k")["value"] == 100
    assert _finding(findings, "forecast_backtest_fallback_pct", "model=pooled")["value"] == 67
    said = sections["annual_track_record"].paragraphs[0]
    assert "`flows` in 67%, `local_level` in 33%, `mean_k` in 100%, `pooled` in 67%" in said and "152 here" in said
    # Every model scored on the same forecasts: the ones only some models made left out for all.
    scored = bt.common_rows(forecasting.annual_backtest(run)).rows
    keys = {m: set(zip(g["series"], g["origin"].astype(str), g["step"], strict=True))
            for m, g in scored.groupby("model")}
    assert set(keys) == set(forecasting.ANNUAL_MODELS)
    assert all(k == keys["naive"] for k in keys.values())
    table = default.tables["annual_backtest"]
    for step, n in table.groupby("Steps ahead")["Forecasts"]:
        assert n.tolist() == [sum(k[2] == step for k in keys["naive"])] * len(keys)
    assert _finding(findings, "forecast_backtest_left_out")["value"] == 2
    assert "2 that only some models made are left out for all (`flows`, `local_level`" in (
        sections["annual_track_record"].paragraphs[1])


def test_referrals_next_quarter_and_bias_to_the_nearest_ten(default, sections):
    point = _finding(default.findings, "referrals_forecast_next_quarter")
    assert point[["value", "lower_80", "upper_80"]].tolist() == [2275, 1628, 2923]
    assert "expects **2,275** referrals in 2017-18 Q1 (80% prediction interval 1,628 to 2,923)" in (
        sections["referrals"].paragraphs[0])
    table = default.tables["referrals_backtest"].set_index("Model")
    # ETS's bias moved from -129.8 to -129.1 between two OpenBLAS kernels: shown as -130
    assert table.loc["Exponential smoothing (ets)", "Bias"] == -130
    assert table.loc["ARIMA (arima)", "Bias"] == 50
    assert (table["Bias"] % 10 == 0).all()


def test_trust_states_the_recorded_track_record(default, sections):
    findings = default.findings
    mase = _finding(findings, "forecast_backtest_mase",
                    "forecast=cp_forecast_next_quarter;model=default")
    assert mase["value"] == 1.2 and mase["source"] == "synthetic"
    said = sections["trust"].paragraphs[0]
    assert "errors were smaller than the last value's (MASE 1.2 against 1.7; the other models: " in said
    assert "held the outcome in 73% of them (95%: 91%)" in said
    # every model's backtest is stated, not a chosen comparison
    assert ("MASE was 0.7 against seasonal naive's 1.0 on the later origins (the other models: "
            "`arima` 0.5, `ets` 0.5, `naive` 0.5)") in said and "covered 100%" in said
    assert default.left_out == []


def test_every_chart_has_its_frame_and_draws(default):
    assert set(default.charts) == {"next_quarter_fan", "annual_fan", "referrals_next_quarter"}
    section = next(s for s in default.sections if s.key == "next_quarter")
    figure = section.charts[0].figure()
    assert title_of(figure.axes[0]).startswith("About 634 children")
    plt.close(figure)


@pytest.fixture(scope="module")
def surrey(cin_2022) -> ThemeData:
    return ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022))


def test_a_dfe_only_run_leaves_out_child_level_work_and_says_why(surrey):
    quarter = forecasting.next_quarter(surrey)
    assert quarter.empty and quarter.left_out == [forecasting.NO_RETURN]
    chairs = forecasting.chairs(surrey)
    assert "--service FILE" in chairs.paragraphs[0] and "Surrey" in chairs.paragraphs[0]
    assert chairs.findings.frame().empty and "--service FILE" in chairs.left_out[0]
    trust = forecasting.trust(surrey)
    assert "Next quarter" not in trust.paragraphs[0] and "Next year" in trust.paragraphs[0]


def test_a_dfe_only_run_forecasts_next_year_from_dfe(surrey):
    section = forecasting.next_year(surrey, horizon=1)
    point = _finding(section.findings.frame(), "cp_forecast_next_year")
    assert point["geography_code"] == "936" and point["period"] == "2017-18"
    assert point["lower_80"] < point["value"] < point["upper_80"]
    assert f"expects **{point['value']:,.0f}** children on plans in Surrey" in section.paragraphs[0]
    assert section.tables[0].frame.index.tolist() == [2018]


def test_a_service_file_gives_another_la_its_chairs_but_not_a_forecast(cin_2022, tmp_path):
    path = tmp_path / "service.csv"
    path.write_text("setting,value\nchair_fte,9\ncaseload_target,80\n")
    chairs = forecasting.chairs(ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022, service=path)))
    assert chairs.paragraphs == [] and chairs.left_out == [forecasting.NO_RETURN]


def test_no_origin_before_the_year_leaves_the_annual_track_record_out():
    section = forecasting.annual_track_record(ThemeData(resolve(year=2015)))
    assert section.empty
    assert section.left_out == ["the annual track record (too few years before the report year)"]


def test_a_suppressed_month_in_the_last_quarter_leaves_referrals_out():
    data = ThemeData(resolve())
    facts = data.facts
    march = ((facts["measure"] == "referrals_by_month") & (facts["geography_code"] == "825")
             & (facts["period"] == "2017-03"))
    assert march.sum() == 1
    data.__dict__["facts"] = facts[~march]  # as if DfE had suppressed March 2017
    section = forecasting.referrals(data)
    assert section.empty and "months suppressed" in section.left_out[0]


def test_a_referral_backtest_without_the_default_leaves_its_track_record_out(cin_2022):
    """York 2016-17 (the one report of the national batch that failed, in this section): its
    referral backtest scores no one-step forecast of the default on the later origins."""
    section = forecasting.trust(ThemeData(resolve("York", 2017, dfe_dir=cin_2022)))
    assert any("no one-step forecast of both the default and snaive" in x
               for x in section.left_out), section.left_out
    assert "**Referrals:**" not in " ".join(section.paragraphs)


def test_backtest_table_rounds_then_sorts_by_what_it_shows():
    scores = pd.DataFrame({
        "model": ["naive", "ets", "default", "arima"], "step": [1, 1, 1, 1], "n": [5] * 4,
        "mae": [1.0] * 4, "mase": [1.62, 0.501, 0.698, 0.4999], "median_mase": [1.0] * 4,
        "bias": [-65.4, -129.14, -261.5, 52.49], "coverage_80": [0.6, 0.6, 1.0, 0.8],
        "coverage_95": [1.0] * 4})
    table = forecasting.backtest_table(scores, "naive", "mean_k", step=10)
    assert table["Model"].tolist() == ["ARIMA (arima)", "Exponential smoothing (ets)",
                                       "Recommended: Mean of the last 3 (mean_k)",
                                       "Last value (naive)"]
    assert table["Mean MASE"].tolist() == ["0.5", "0.5", "0.7", "1.6"]
    assert table["Bias"].tolist() == [50, -130, -260, -70]
    assert table["MASE / naive"].tolist() == ["0.3", "0.3", "0.4", "1.0"]


def test_bias_step_and_the_fan_drawer():
    assert forecasting.bias_step(pd.Series([1200.0, 2500.0])) == 10
    assert forecasting.bias_step(pd.Series([300.0, 560.0])) == 1
    frame = pd.DataFrame({"observed": [10.0, 12.0, None, None], "point": [None, None, 13.0, 14.0],
                          "lower_80": [None, None, 11.0, 11.0], "upper_80": [None, None, 15, 17],
                          "lower_95": [None, None, 10.0, 9.0], "upper_95": [None, None, 16, 19]},
                         index=["2015", "2016", "2017", "2018"])
    chart = Chart("fan", frame, forecasting.draw_fan, "Rising", "test",
                  options={"observed": "seen", "forecast": "ahead", "xlabel": "Year",
                           "ylabel": "Children"})
    figure = chart.figure()
    assert title_of(figure.axes[0]) == "Rising"
    plt.close(figure)


def test_backtest_coverage_carries_no_interval(default):
    # Backtests overlap and share origins: Wilson's interval would treat them as independent.
    rows = default.findings[default.findings["measure"].str.startswith("forecast_backtest_coverage")]
    assert len(rows) >= 2
    assert rows["lower_95"].isna().all() and rows["upper_95"].isna().all()
    assert rows["note"].str.startswith("No interval: a count of what every backtest").all()


def _frames(value: object) -> list[pd.DataFrame]:
    """Every frame and series inside a (nested) dataclass."""
    import dataclasses

    if isinstance(value, (pd.DataFrame, pd.Series)):
        return [value.to_frame() if isinstance(value, pd.Series) else value]
    if dataclasses.is_dataclass(value):
        return [f for field in dataclasses.fields(value)
                for f in _frames(getattr(value, field.name))]
    return []


def test_the_synthetic_outlook_is_fitted_once_and_kept_without_records(tmp_path, monkeypatch):
    from pathlib import Path

    from cpstats import release_cache

    monkeypatch.setenv(release_cache.CACHE_ENV, str(tmp_path))
    first = forecasting.quarter_outlook(ThemeData(resolve()))
    (entry,) = tmp_path.rglob("quarter_outlook-synthetic-*-2017.pickle")
    kept = _frames(pd.read_pickle(entry))
    assert kept and not any("child_id" in f.columns for f in kept)  # totals and scores only
    monkeypatch.setattr(forecasting.bt, "next_quarter", lambda *a, **k: "fitted again")
    again = forecasting.quarter_outlook(ThemeData(resolve()))
    pd.testing.assert_frame_equal(again.forecasts, first.forecasts)
    # The same records given as a council's own return: fitted in the run, never kept.
    own = ThemeData(resolve())
    assert own.child_level is not None  # loaded (and kept) before the inputs name a return
    own.inputs.cin_census = [Path("return.xml")]
    assert forecasting.quarter_outlook(own) == "fitted again"
    # Nothing kept for the council's return (the synthetic county's records have their folder).
    kept = [p for p in tmp_path.rglob("*.pickle") if p.parent.name != release_cache.SYNTHETIC]
    assert len(kept) == 1


def test_a_smaller_county_in_the_run_s_place_keeps_its_own_outlook(tmp_path, monkeypatch):
    """Records put in the default run's place (as the disclosure attack does) are fitted and
    kept under their own key: the default county's outlook is never theirs, nor theirs its."""
    from cpstats import release_cache, synth

    monkeypatch.setenv(release_cache.CACHE_ENV, str(tmp_path))
    small = ThemeData(resolve())
    small.child_level = synth.generate(seed=3, scale=0.1).data
    mine = forecasting.quarter_outlook(small)
    default = forecasting.quarter_outlook(ThemeData(resolve()))
    assert len(list(tmp_path.rglob("quarter_outlook-synthetic-*.pickle"))) == 2
    assert default.y.iloc[-1] > 5 * mine.y.iloc[-1]
