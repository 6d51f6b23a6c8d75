"""Theme pipeline (notebook 04): the figures the default run states, read back from the findings,
and what a run without child-level records, or with too little, leaves out and why."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cpstats.inputs import resolve
from cpstats.themes import ThemeData, pipeline


@pytest.fixture(scope="module")
def data() -> ThemeData:
    return ThemeData(resolve())


@pytest.fixture(scope="module")
def result(data):
    return pipeline.compute(data)


@pytest.fixture(scope="module")
def findings(result) -> pd.DataFrame:
    return result.findings.set_index(["measure", "geography_code", "breakdown"])


def _section(result, key: str):
    return next(s for s in result.sections if s.key == key)


def _paragraphs(result, key: str) -> str:
    return " ".join(_section(result, key).paragraphs)


def test_sections_are_in_page_order(result):
    assert [s.key for s in result.sections] == [
        "conversion", "across_councils", "seasonality", "monthly", "correlations", "lead_and_lag",
        "lag_regression", "child_seasonality"]
    assert result.left_out == []


def test_conversion_ratios_from_dfe_counts(result, findings):
    # DfE 2016-17: Buckinghamshire 2,576 / 9,204 = 28.0%, 866 / 2,576 = 33.6%, 725 / 866 = 83.7%;
    # England 185,680 / 646,120 = 28.7%, 76,930 / 185,680 = 41.4%, 66,410 / 76,930 = 86.3%.
    expected = {("s47_per_referral_pct", "825"): 28.0, ("icpc_per_s47_pct", "825"): 33.6,
                ("plan_per_icpc_pct", "825"): 83.7, ("s47_per_referral_pct", "E92000001"): 28.7,
                ("icpc_per_s47_pct", "E92000001"): 41.4, ("plan_per_icpc_pct", "E92000001"): 86.3}
    for (measure, code), value in expected.items():
        row = findings.loc[(measure, code, "total")]
        assert row["value"] == value and row["source"] == "derived" and row["unit"] == "percent"
    # The note names the DfE columns the ratio came from (carried from the fact rows).
    assert findings.loc[("icpc_per_s47_pct", "825", "total"), "note"] == (
        "DfE c4:ICPC / c4:Section47, 2016-17")
    assert "7.8 percentage points below England" in _paragraphs(result, "conversion")


def test_conversion_table_and_chart(result):
    table = result.tables["pipeline_ratios"]
    assert list(table.columns[:3]) == ["Area", "Year", "Referrals"]
    bucks = table[(table["Area"] == "Buckinghamshire") & (table["Year"] == "2016-17")].iloc[0]
    assert bucks["Referrals"] == 9_204 and bucks["s47 per referral (%)"] == "28.0"
    chart = result.charts["pipeline_ratios"]
    assert chart.loc["2016-17", ("ICPCs per s47", "England")] == pytest.approx(41.43, abs=0.01)


def test_across_councils(result, findings):
    pearson = findings.loc[("cross_la_correlation_s47_rate_cp_rate", "825",
                            "comparison=all_las;method=pearson")]
    assert pearson["value"] == 0.73 and pearson["source"] == "derived"
    assert pearson["lower_95"] == pytest.approx(0.650, abs=1e-3)
    assert pearson["upper_95"] == pytest.approx(0.800, abs=1e-3)
    assert findings.loc[("cross_la_correlation_s47_rate_cp_rate", "825",
                         "comparison=all_las;method=spearman"), "value"] == 0.68
    # The LA's two rates are DfE's, recorded with their DfE columns.
    rate = findings.loc[("s47_enquiries_rate_per_10k", "825", "total")]
    assert (rate["value"], rate["source"], rate["note"]) == (210.5, "dfe", "c4:Section47_rate")
    assert findings.loc[("cp_rate_per_10k", "825", "total"), "value"] == 45.2
    said = _paragraphs(result, "across_councils")
    assert "(150 councils)" in said and "(95% interval 0.65 to 0.80; Spearman 0.68)" in said
    assert "enquiry rate number 33 from the top of the 150" in said
    by_year = result.tables["cross_la_correlation_by_year"].set_index("Year")
    assert list(by_year.index) == ["2012-13", "2013-14", "2014-15", "2015-16", "2016-17"]
    assert by_year.loc["2016-17", "Pearson r"] == "0.73"
    assert by_year.loc["2012-13", "95% interval"] == "0.56 to 0.74"
    scatter = result.charts["cross_la_s47_cp_rates"]
    assert len(scatter) == 150 and scatter["highlight"].sum() == 1


def test_seasonality_of_dfe_referrals(result, findings):
    august = findings.loc[("referrals_month_index", "825", "month=august")]
    assert august["value"] == 0.72 and august["source"] == "derived"
    assert august["lower_95"] == pytest.approx(0.428, abs=1e-3)
    assert findings.loc[("referrals_month_index", "825", "month=november"), "value"] == 1.23
    said = _paragraphs(result, "seasonality")
    assert "F = 1.94 on 11 and 44 degrees of freedom, p = 0.060" in said
    # C6 2016-17 sums to DfE's 9,204 referrals.
    months = result.charts["referrals_by_month"]
    assert months.loc["2016-04":"2017-03", "value"].sum() == 9_204
    table = result.tables["referral_month_effects"].set_index("Month")
    assert table.loc["August", "95% interval"] == "0.43 to 1.01"


def test_bar_charts_start_at_zero(result):
    import matplotlib.pyplot as plt

    chart = next(c for c in _section(result, "seasonality").charts
                 if c.name == "referrals_month_effects")
    figure = chart.figure()
    assert figure.axes[0].get_ylim()[0] == 0
    plt.close(figure)


def test_monthly_child_level_series(result):
    section = _section(result, "monthly")
    table = section.tables[0]
    assert table.synthetic and list(table.frame.columns) == [
        "Referrals", "s47 enquiries", "ICPCs", "Plans started"]
    assert len(table.frame) == 36 and table.frame.index[0] == "2014-04"
    assert table.frame.loc["2017-02", "Plans started"] == 98


def test_monthly_correlations(result, findings):
    expected = {"pair=referrals_s47;series=monthly;of=levels": 0.75,
                "pair=referrals_s47;series=monthly;of=changes": 0.23,
                "pair=referrals_s47;series=quarterly;of=levels": 0.94,
                "pair=s47_plans_started;series=monthly;of=levels": 0.94}
    for breakdown, value in expected.items():
        row = findings.loc[("correlation_pearson", "825", breakdown)]
        assert row["value"] == value and row["source"] == "synthetic"
    said = _paragraphs(result, "correlations")
    assert "over 12 quarters, where a correlation needs to exceed 0.58 to reach p < 0.05" in said
    assert "(0.56 to 0.87, n = 36)" in said
    grid = result.tables["pipeline_correlations"]
    assert len(grid) == 16 and (grid["p"] != "0").all() and "< 0.001" in set(grid["p"])
    first = grid.iloc[1]
    assert (first["Pair"], first["Of"], first["p"]) == ("Referrals / s47 enquiries", "changes",
                                                        "0.175")


def test_lag_regression(result, findings):
    coef = findings.loc[("lag_regression_coefficient", "825",
                         "outcome=cp_plans_started;driver=s47_enquiries;lag=0")]
    assert coef["value"] == pytest.approx(0.27, abs=0.011) and coef["source"] == "synthetic"
    assert findings.loc[("lag_regression_r2", "825",
                         "outcome=cp_plans_started;driver=s47_enquiries"), "value"] == (
        pytest.approx(0.91, abs=0.011))
    said = _paragraphs(result, "lag_regression")
    assert "the strongest term is lag 0" in said and "over 34 months" in said
    coefficients = result.tables["lag_regression_coefficients"]
    assert coefficients["Term"].iloc[:4].tolist() == [
        "Constant", "s47 enquiries, same month", "s47 enquiries, 1 month before",
        "s47 enquiries, 2 months before"]
    # Fitted numbers are shown rounded (2 decimals; p-values 3, "< 0.001" below that).
    assert coefficients["Coefficient"].str.fullmatch(r"-?\d+\.\d\d").all()
    assert coefficients["p"].str.fullmatch(r"< 0\.001|\d\.\d{3}").all()
    diagnostics = result.tables["lag_regression_diagnostics"]
    assert diagnostics.loc["Months", "Plans started"] == "34"


def test_cross_correlation_and_child_seasonality(result):
    chart = _section(result, "lead_and_lag").charts[0]
    assert chart.title.startswith("Enquiries and plan starts correlate most at lag 0 (r = 0.94)")
    assert chart.frame.index.tolist() == list(range(-6, 7))
    said = _paragraphs(result, "child_seasonality")
    assert "over 3 years" in said and "p < 0.001" in said and "busiest November" in said


def test_tables_are_as_a_reader_sees_them(result):
    for name, table in result.tables.items():
        labels = [str(c) for c in [table.index.name, *table.columns] if c is not None]
        assert not [c for c in labels if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", c)], name
        text = table.astype(str).to_numpy().ravel()
        assert not {"nan", "<NA>", "None"} & set(text), name
        assert not table.isna().to_numpy().any(), name


def test_p_values_are_never_zero():
    assert pipeline.p_text(0.0) == "p < 0.001"
    assert pipeline.p_text(0.00049) == "p < 0.001"
    assert pipeline.p_text(0.0604) == "p = 0.060"


def test_too_few_active_months_leaves_the_child_level_analyses_out():
    data = ThemeData(resolve())
    facts = data.child_facts
    sparse = (facts["measure"] == "icpcs") & ~facts["period"].isin(["2016-04", "2016-05"])
    data.__dict__["child_facts"] = facts[~sparse]  # ICPCs in two months only
    monthly = pipeline.monthly(data)
    assert monthly.tables and "too few months with every kind of event (2 for the sparsest" in (
        monthly.left_out[0])
    for section in (pipeline.correlations, pipeline.lead_and_lag, pipeline.lag_regression,
                    pipeline.child_seasonality):
        assert section(data).empty


@pytest.mark.shared_data
def test_a_dfe_only_run_for_another_la(cin_2022):
    result = pipeline.compute(ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022)))
    findings = result.findings.set_index(["measure", "geography_code", "breakdown"])
    # DfE 2016-17, Surrey: 4,269 / 11,679 = 36.6%; 1,352 / 4,269 = 31.7%; 1,038 / 1,352 = 76.8%.
    assert findings.loc[("s47_per_referral_pct", "936", "total"), "value"] == 36.6
    assert findings.loc[("icpc_per_s47_pct", "936", "total"), "value"] == 31.7
    assert findings.loc[("plan_per_icpc_pct", "936", "total"), "value"] == 76.8
    assert set(findings["source"]) == {"dfe", "derived"}
    assert result.left_out == [
        "monthly series, correlations and lag regression from child-level records (no CIN "
        "Census return given: pass --cin-census)"]
    assert all(s.empty for s in result.sections[4:])


@pytest.mark.shared_data
def test_a_council_with_suppressed_figures_says_what_it_left_out(cin_2022):
    result = pipeline.compute(ThemeData(resolve("201", 2017, dfe_dir=cin_2022)))
    assert result.findings.empty
    left_out = " | ".join(result.left_out)
    assert "pipeline conversion for 2016-17" in left_out
    assert "City of London's section 47 or child protection rate" in left_out
    assert "1 complete year(s) of monthly referrals" in left_out


def test_the_strongest_lag_names_its_simultaneous_interval(result, findings):
    # The prose, the table and results.csv hold the same Bonferroni interval and say so; the
    # table keeps each term's own 95% interval beside it, named as such.
    coef = findings.loc[("lag_regression_coefficient", "825",
                         "outcome=cp_plans_started;driver=s47_enquiries;lag=0")]
    assert "simultaneous 95% interval, each lag's at 98.3% (Bonferroni)" in coef["note"]
    table = result.tables["lag_regression_coefficients"].set_index(["Outcome", "Term"])
    column = "Bonferroni (3 lags): simultaneous 95% interval, each lag's at 98.3%"
    shown = table.loc[("Plans started", "s47 enquiries, same month"), column]
    low, high = (float(x) for x in shown.split(" to "))
    assert (low, high) == (pytest.approx(coef["lower_95"], abs=0.005),
                           pytest.approx(coef["upper_95"], abs=0.005))
    own = table.loc[("Plans started", "s47 enquiries, same month"),
                    "95% interval (this term alone)"]
    assert own != shown and float(own.split(" to ")[0]) >= low
    assert table.loc[("Plans started", "Constant"), column] == ""
    said = _paragraphs(result, "lag_regression")
    assert f"per enquiry, simultaneous 95% interval, each lag's at 98.3%: {shown} (Bonf" in said
