"""``cpstats forecast``: the CSV contract on the shared 2022 release, and errors that exit 2."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from cpstats import cli
from cpstats.commands import forecast as command
from cpstats.io.dfe import read_release
from cpstats.stats import backtest as bt
from cpstats.stats import forecast as fc

CONTRACT = ["old_la_code", "la_name", "year", "model", "point", "lower_80", "upper_80",
            "lower_95", "upper_95"]
D1 = "d1_child_protection_plans_2013_to_2022.csv"


def _published_stock(cin_2022) -> dict[tuple[str, int], float]:
    """(LA code, year) -> children on plans at 31 March, straight from DfE's d1 CSV."""
    with open(cin_2022 / D1, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["geographic_level"] == "Local authority"]
    return {(r["old_la_code"], int(r["time_period"])): float(r["CPP_At31"])
            for r in rows if r["CPP_At31"].isdigit()}


@pytest.fixture(scope="module")
def annual_csv(cin_2022, tmp_path_factory):
    out = tmp_path_factory.mktemp("forecast") / "annual.csv"
    status = cli.main(["forecast", "annual", "--dfe-dir", str(cin_2022), "--origin", "2022",
                       "--horizon", "3", "--out", str(out), "--models", f"naive,{fc.ANNUAL_DEFAULT}",
                       "--quiet"])
    assert status == 0
    return pd.read_csv(out, dtype={"old_la_code": str, "la_name": str}, encoding="utf-8")


@pytest.fixture(scope="module")
def facts(cin_2022):
    return read_release(cin_2022)


def test_annual_csv_has_the_contract_columns_and_one_row_per_la_year_and_model(annual_csv, cin_2022):
    assert list(annual_csv.columns) == CONTRACT
    assert not annual_csv.duplicated(["old_la_code", "year", "model"]).any()
    published = _published_stock(cin_2022)
    with_2022 = {la for la, year in published if year == 2022}
    assert set(annual_csv["old_la_code"]) == with_2022  # every LA with a 2022 figure, no other
    assert set(annual_csv["year"]) == {2023, 2024, 2025}
    assert set(annual_csv["model"]) == {"naive", fc.ANNUAL_DEFAULT, "default"}
    assert len(annual_csv) == len(with_2022) * 3 * 3


def test_annual_naive_is_the_published_2022_figure_and_bounds_are_ordered(annual_csv, cin_2022):
    published = _published_stock(cin_2022)
    naive = annual_csv[annual_csv["model"] == "naive"]
    expected = naive["old_la_code"].map(lambda la: published[(la, 2022)])
    assert naive["point"].to_numpy() == pytest.approx(expected.to_numpy())
    bounds = annual_csv[["lower_95", "lower_80", "point", "upper_80", "upper_95"]].to_numpy()
    assert (bounds[:, :-1] <= bounds[:, 1:] + 0.05).all() and (bounds >= 0).all()
    bucks = annual_csv[(annual_csv["old_la_code"] == "825") & (annual_csv["model"] == "default")]
    assert bucks["la_name"].eq("Buckinghamshire").all()


def test_annual_default_is_the_recommended_model(annual_csv):
    key = ["old_la_code", "year"]
    default = annual_csv[annual_csv["model"] == "default"].set_index(key)
    chosen = annual_csv[annual_csv["model"] == fc.ANNUAL_DEFAULT].set_index(key)
    pd.testing.assert_frame_equal(default.drop(columns="model"), chosen.drop(columns="model"))


def test_a_different_origin_uses_only_data_up_to_it(facts, cin_2022):
    table, _ = command.annual_forecasts(facts, 2019, 2, ("naive",))
    published = _published_stock(cin_2022)
    naive = table[table["model"] == "naive"]
    assert naive["point"].to_numpy() == pytest.approx(
        naive["old_la_code"].map(lambda la: published[(la, 2019)]).to_numpy())
    assert set(table["year"]) == {2020, 2021}


@pytest.mark.parametrize("args, named", [
    (["--origin", "2022", "--horizon", "0"], "--horizon"),
    (["--origin", "2031"], "--origin"),
    (["--origin", "2014"], "--origin"),
    (["--origin", "twenty"], "--year"),
])
def test_annual_bad_parameters_exit_2_and_write_nothing(cin_2022, tmp_path, capsys, args, named):
    out = tmp_path / "f.csv"
    status = cli.main(["forecast", "annual", "--dfe-dir", str(cin_2022), "--out", str(out),
                       "--quiet", *args])
    assert status == 2
    assert named in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_annual_missing_folder_exits_2_naming_it(tmp_path, capsys):
    status = cli.main(["forecast", "annual", "--dfe-dir", str(tmp_path / "nowhere"),
                       "--out", str(tmp_path / "f.csv")])
    assert status == 2
    assert "nowhere" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()


def test_quarterly_for_the_synthetic_county_with_chairs_from_a_service_file(tmp_path, capsys):
    out, service = tmp_path / "q.csv", tmp_path / "service.csv"
    service.write_text("setting,value\nchair_fte,5.8\ncaseload_target,85\n")
    status = cli.main(["forecast", "quarterly", "--no-referrals", "--out", str(out),
                       "--service", str(service), "--target", "90", "--referrals-change", "10"])
    assert status == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out, dtype={"geography_code": str})
    assert set(table["model"]) >= {"naive", "stock_flow_hazard", "default"}
    assert table["period"].eq("2017-18 Q1").all() and table["source"].eq("synthetic").all()
    default = table[table["model"] == "default"].iloc[0]
    assert f"{default['point'] / 5.8:.1f} children per FTE chair" in printed
    assert f"{default['point'] / 90:.1f} FTE needed" in printed  # --target wins over the file
    # the scenario: 10% more referrals, so more children and more chairs than the forecast
    scenario = re.search(r"scenario, referrals \+10%.*: ([\d,]+) children", printed)
    assert scenario and int(scenario.group(1).replace(",", "")) > round(default["point"])
    assert "scenario chairs (+10% referrals) at the end of 2017-18 Q1" in printed


def test_quarterly_without_chair_figures_leaves_chairs_out(capsys):
    status = cli.main(["forecast", "quarterly", "--no-referrals", "--fte", "5.8"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "chairs: left out" in printed and "per FTE chair" not in printed


def test_quarterly_bad_chair_figures_exit_2_before_the_long_work(tmp_path, capsys):
    assert cli.main(["forecast", "quarterly", "--fte", "0"]) == 2
    assert "--fte" in capsys.readouterr().err
    assert cli.main(["forecast", "quarterly", "--referrals-change", "-100"]) == 2
    assert "--referrals-change" in capsys.readouterr().err
    assert cli.main(["forecast", "quarterly", "--service", str(tmp_path / "none.csv")]) == 2
    assert "none.csv" in capsys.readouterr().err


def test_quarterly_missing_dfe_folder_exits_2_before_the_long_work(tmp_path, capsys):
    status = cli.main(["forecast", "quarterly", "--dfe-dir", str(tmp_path / "absent")])
    assert status == 2 and "absent" in capsys.readouterr().err


def test_referrals_next_quarter_backtests_seasonal_models_against_seasonal_naive(facts, cin_2022):
    outlook = bt.next_quarter_referrals(facts, "825", n_origins=2)
    # The series is DfE's referrals by month summed to quarters: the last known quarter,
    # January-March 2022, is the sum of the published January, February and March.
    with open(cin_2022 / "c6_children_in_need_referrals_by_month_2013_to_2022.csv",
              encoding="utf-8-sig", newline="") as handle:
        row = next(r for r in csv.DictReader(handle)
                   if r["old_la_code"] == "825" and r["time_period"] == "2022")
    assert outlook.y.iloc[-1] == sum(float(row[m]) for m in ("January", "February", "March"))
    assert str(outlook.origin) == "2022Q4"
    assert "snaive" in outlook.study.note
    assert set(outlook.forecasts["model"]) == {*bt.REFERRAL_MODELS, "default"}
    assert len(outlook.study.choose_on) == 1 and len(outlook.study.report_on) == 1


def test_a_backtest_coverage_far_from_80_percent_is_warned_about():
    scores = pd.DataFrame({"model": ["default", "naive"], "step": [1, 1], "n": [10, 10],
                           "mase": [0.8, 1.0], "bias": [0.0, 0.0],
                           "coverage_80": [0.4, 0.8], "coverage_95": [0.6, 0.9]})
    warned = command._coverage_warning(scores)
    assert warned and "held the outcome in 40% of 10" in warned[0] and "narrower" in warned[0]
    assert command._coverage_warning(scores.assign(coverage_80=[0.8, 0.8])) == []
