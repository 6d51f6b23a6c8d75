"""Disproportionality statistics and the ethnicity mapping, checked by hand arithmetic."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from cpstats.childlevel import CinData, conform_table
from cpstats.codes import ETHNIC_GROUP_OF, ETHNICITY_LABELS
from cpstats.denominators import census_children, child_population_by_group
from cpstats.errors import InputError
from cpstats.ethnicity_map import (
    BROAD_SCHEMES,
    CENSUS2011_TO_GROUP,
    CIN_TO_GROUP,
    COMPARISON_GROUPS,
    SCHOOL_CENSUS_TO_GROUP,
    UNKNOWN_GROUPS,
    broad_group,
    comparison_group,
    mapping_table,
)
from cpstats.stats.disproportionality import (
    aggregate,
    by_decision_point,
    decision_point_counts,
    disproportionality,
    goodness_of_fit,
    partial_comparison,
    rate_interval,
)

Z = 1.959963984540054

# A small table: 30 of 1,000 Pakistani children and 100 of 10,000 White British
# children on a plan; 3 of 200 Black African children; 19 not obtained.
COUNTS = pd.Series({"white_british": 100, "asian_pakistani": 30, "black_african": 3,
                    "not_obtained": 19})
POPULATION = pd.Series({"white_british": 10_000, "asian_pakistani": 1_000, "black_african": 200})


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return disproportionality(COUNTS, POPULATION, population_basis="hand table").set_index("group")


def test_relative_rate_and_intervals_by_hand(table):
    row = table.loc["asian_pakistani"]
    # Rates: 30/1000*10000 = 300 and 100/10000*10000 = 100 per 10,000, so RR = 3.
    assert row["rate_per_10k"] == pytest.approx(300.0)
    assert row["rr_vs_reference"] == pytest.approx(3.0)
    # Log-RR Wald: SE = sqrt(1/30 + 1/100) = sqrt(0.043333) = 0.208167;
    # 3 * exp(-/+ 1.96 * 0.208167) = 3 / 1.50381, 3 * 1.50381 = 1.99494, 4.51142.
    se = math.sqrt(1 / 30 + 1 / 100)
    assert se == pytest.approx(0.208167, abs=1e-6)
    assert row["rr_wald_lower"] == pytest.approx(1.99494, abs=1e-4)
    assert row["rr_wald_upper"] == pytest.approx(4.51142, abs=1e-4)
    # Score interval = Wilson interval for p = 30/(30+100), mapped to the ratio
    # scale by RR = p / (1 - p) / d with d = 1000/10000 = 0.1:
    # centre = (0.230769 + z^2/260) / (1 + z^2/130) = 0.238497
    # half = z / (1 + z^2/130) * sqrt(0.230769*0.769231/130 + z^2/(4*130^2)) = 0.071797
    # p in (0.166700, 0.310294)  ->  RR in (2.0005, 4.4989).
    n, p = 130, 30 / 130
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    lo_p, hi_p = centre - half, centre + half
    assert (lo_p, hi_p) == pytest.approx((0.166700, 0.310294), abs=1e-5)
    assert row["rr_lower"] == pytest.approx(lo_p / (1 - lo_p) / 0.1, rel=1e-4)
    assert row["rr_upper"] == pytest.approx(hi_p / (1 - hi_p) / 0.1, rel=1e-4)
    assert row["rr_lower"] == pytest.approx(2.0005, abs=1e-3)
    assert row["rr_method"] == "score"


def test_relative_rate_against_all_other_children(table):
    # Others of known ethnicity: 100 + 3 = 103 children in 10,200; rate 100.98 per 10k.
    # RR = 300 / (103/10200*10000) = 300 / 100.980 = 2.97087.
    assert table.loc["asian_pakistani", "rr_vs_rest"] == pytest.approx(2.97087, abs=1e-4)


def test_share_ratio_and_known_shares(table):
    # Known ethnicity: 133 children. Pakistani share 30/133 = 22.556%; population
    # share 1000/11200 = 8.929%; share ratio 2.5263.
    assert table.loc["asian_pakistani", "share_of_known_pct"] == pytest.approx(22.5564, abs=1e-3)
    assert table.loc["asian_pakistani", "population_share_pct"] == pytest.approx(8.9286, abs=1e-3)
    assert table.loc["asian_pakistani", "share_ratio"] == pytest.approx(2.5263, abs=1e-3)
    known = table.loc[list(POPULATION.index)]
    assert known["share_of_known_pct"].sum() == pytest.approx(100.0)
    # Not obtained is reported apart, with its count and no share or rate.
    assert table.loc["not_obtained", "count"] == 19
    assert pd.isna(table.loc["not_obtained", "share_of_known_pct"])
    assert pd.isna(table.loc["not_obtained", "rate_per_10k"])


def test_small_groups_flagged_not_dropped(table):
    assert "black_african" in table.index
    assert bool(table.loc["black_african", "small_count"])
    assert bool(table.loc["black_african", "suppress"])  # 1-5: suppressed when published
    assert not bool(table.loc["asian_pakistani", "small_count"])
    assert not bool(table.loc["not_obtained", "suppress"])  # 19 is publishable
    # Still computed, just flagged: 3/200 = 150 per 10,000.
    assert table.loc["black_african", "rate_per_10k"] == pytest.approx(150.0)
    assert (table["population_basis"] == "hand table").all()


def test_zero_count_group_gets_a_one_sided_interval():
    counts = pd.Series({"white_british": 100, "chinese": 0})
    population = pd.Series({"white_british": 10_000, "chinese": 500})
    row = disproportionality(counts, population, population_basis="t").set_index("group")
    assert row.loc["chinese", "rr_lower"] == 0
    # Exact conditional: p_hi = 1 - 0.025^(1/100) = 0.036214; RR = p/(1-p) x 10000/500 = 0.7515.
    assert row.loc["chinese", "rr_upper"] == pytest.approx(0.036214 / 0.963786 * 20, rel=1e-4)
    assert row.loc["chinese", "rr_method"] == "exact-cond"
    assert pd.isna(row.loc["chinese", "rr_wald_upper"])


def test_rate_interval_matches_exact_poisson_table_and_byar():
    # Exact 95% limits for 3 events (Garwood tables): 0.619 and 8.767; per 1,000 -> per 10,000.
    low, up = rate_interval(3, 1000)
    assert float(low) == pytest.approx(6.19, abs=0.01)
    assert float(up) == pytest.approx(87.67, abs=0.01)
    # Byar for 100 events: 100*(1 - 1/900 - 1.96/30)^3 = 81.36; 101*(1 - 1/909 + 1.96/sqrt(101)/3)^3 = 121.63.
    low, up = rate_interval(100, 10_000)
    assert float(low) == pytest.approx(81.36, abs=0.01)
    assert float(up) == pytest.approx(121.63, abs=0.01)


def test_chi_square_goodness_of_fit_by_hand():
    # 30 and 10 children against equal population shares: expected 20 and 20,
    # chi2 = 100/20 + 100/20 = 10 on 1 df, p = 0.00157; Cohen's w = sqrt(10/40) = 0.5.
    gof = goodness_of_fit(pd.Series({"white_british": 30, "asian_indian": 10, "refused": 4}),
                          pd.Series({"white_british": 500, "asian_indian": 500}))
    assert gof["n"] == 40
    assert gof["chi2"] == pytest.approx(10.0)
    assert gof["p_value"] == pytest.approx(0.0015654, abs=1e-6)
    assert gof["cohens_w"] == pytest.approx(0.5)
    assert 0.0005 < gof["p_monte_carlo"] < 0.01


def test_aggregate_into_broad_groups():
    broad = aggregate(pd.Series({"white_british": 5, "white_other": 2, "chinese": 1,
                                 "other": 4, "refused": 3}), BROAD_SCHEMES["dfe"])
    assert broad.to_dict() == {"White": 7, "Asian or Asian British": 1, "Other ethnic group": 4,
                               "refused": 3}


# --- the code mapping ----------------------------------------------------------------------

def test_every_cin_code_maps_and_unknowns_stay_apart():
    assert set(CIN_TO_GROUP) == set(ETHNICITY_LABELS)
    assert set(CIN_TO_GROUP.values()) == set(COMPARISON_GROUPS) | set(UNKNOWN_GROUPS)
    assert CIN_TO_GROUP["REFU"] == "refused" and CIN_TO_GROUP["NOBT"] == "not_obtained"
    assert len(COMPARISON_GROUPS) == 17


def test_not_one_to_one_groups():
    # Gypsy/Roma and Irish Traveller are one census group; Arab is census-only.
    assert CIN_TO_GROUP["WIRT"] == CIN_TO_GROUP["WROM"] == \
        CENSUS2011_TO_GROUP["White: Gypsy or Irish Traveller"]
    assert CENSUS2011_TO_GROUP["Other ethnic group: Arab"] == CIN_TO_GROUP["OOTH"]
    # Chinese: Asian in the census and DfE's 2022 release, Other in older DfE tables.
    chinese = pd.Series([CIN_TO_GROUP["CHNE"]])
    assert broad_group(chinese, "dfe").iloc[0] == "Asian or Asian British"
    assert broad_group(chinese, "dfe_chinese_other").iloc[0] == "Other ethnic group"
    assert broad_group(chinese, "census").iloc[0] == "Asian or Asian British"
    assert CENSUS2011_TO_GROUP["Asian/Asian British: Chinese"] == "chinese"


def test_dfe_scheme_reproduces_dfe_five_groups():
    codes = [c for c in ETHNICITY_LABELS if c not in ("REFU", "NOBT")]
    ours = broad_group(pd.Series(codes).map(CIN_TO_GROUP), "dfe")
    assert ours.tolist() == [ETHNIC_GROUP_OF[c] for c in codes]


def test_comparison_group_cleans_and_rejects():
    out = comparison_group(pd.Series(["wbri", " APKN ", None, "NOBT"]))
    assert out.tolist() == ["white_british", "asian_pakistani", "not_obtained", "not_obtained"]
    with pytest.raises(InputError, match="XXXX"):
        comparison_group(pd.Series(["WBRI", "XXXX"]), file="kids.csv")


def test_mapping_table_covers_every_source_label():
    table = mapping_table()
    assert len(table) == len(CIN_TO_GROUP) + len(CENSUS2011_TO_GROUP) + len(SCHOOL_CENSUS_TO_GROUP)
    assert table["group_label"].notna().all()
    assert "Roma" in table.loc[table["code_or_label"] == "WROM", "caveat"].iloc[0]


@pytest.mark.shared_data
def test_census_labels_are_the_dc2101ew_headers(shared_data):
    header = (shared_data / "census" / "census2011_dc2101ew_localAuthorities.csv").read_text(
        encoding="utf-8-sig").splitlines()[0]
    for label in CENSUS2011_TO_GROUP:
        assert f"Age: Age 0 to 4; Ethnic Group: {label}; measures: Value" in header, label


@pytest.mark.shared_data
def test_school_census_labels_are_the_published_ones(shared_data):
    spc = pd.read_csv(shared_data / "dfe" / "school_census"
                      / "spc_pupils_ethnicity_and_language_201516_to_202122.csv.gz",
                      dtype=str, encoding="utf-8-sig", usecols=["ethnicity"])
    published = set(spc["ethnicity"].unique()) - {"Total"}
    assert published == set(SCHOOL_CENSUS_TO_GROUP)


# --- decision points from child-level records ---------------------------------------------

def _cin() -> CinData:
    children = conform_table("children", pd.DataFrame({
        "child_id": ["a", "b", "c", "d"], "ethnicity": ["WBRI", "APKN", "NOBT", "WBRI"]}))
    referrals = conform_table("referrals", pd.DataFrame({
        "child_id": ["a", "b", "c", "c", "d"], "cin_id": ["1", "1", "1", "2", "1"],
        "referral_date": pd.to_datetime(["2016-05-01", "2016-04-01", "2016-06-01", "2017-01-01",
                                         "2016-03-31"])}))
    s47s = conform_table("s47s", pd.DataFrame({
        "child_id": ["a", "b"], "cin_id": ["1", "1"],
        "s47_start_date": pd.to_datetime(["2016-05-03", "2016-03-30"]),
        "icpc_date": pd.to_datetime(["2016-05-20", "2016-04-15"])}))
    plans = conform_table("cp_plans", pd.DataFrame({
        "child_id": ["a", "b", "d"], "cin_id": ["1", "1", "1"], "plan_id": ["1", "1", "1"],
        "start_date": pd.to_datetime(["2016-05-20", "2016-04-15", "2015-01-01"]),
        "end_date": pd.to_datetime([None, "2016-12-01", "2017-03-31"])}))
    return CinData(la_code="999", reference_date=date(2017, 3, 31), source="synthetic",
                   children=children, referrals=referrals, s47s=s47s, cp_plans=plans)


def test_decision_point_counts_count_children_once_in_the_year():
    counts = decision_point_counts(_cin(), 2017).set_index(["decision_point", "group"])["count"]
    # Referred in 2016-17: a, b, c (c twice, counted once); d's referral was 31 March 2016.
    assert counts["referral"][["white_british", "asian_pakistani", "not_obtained"]].tolist() == [1, 1, 1]
    assert counts["referral"].sum() == 3
    # b's s47 started in 2015-16, its ICPC in 2016-17.
    assert counts["s47"].sum() == 1 and counts["icpc"].sum() == 2
    assert counts["plan_start"].sum() == 2
    # On a plan at 31 March 2017: only a (b ended in December, d ended on 31 March).
    assert counts["plan_at_31_march"].sum() == 1
    assert counts["plan_at_31_march"]["white_british"] == 1


def test_by_decision_point_adds_progression():
    counts = pd.DataFrame({
        "decision_point": ["referral"] * 2 + ["s47"] * 2,
        "group": ["white_british", "asian_pakistani"] * 2,
        "count": [400, 100, 100, 50]})
    table = by_decision_point(counts, POPULATION, population_basis="t").set_index(
        ["decision_point", "group"])
    # s47 per referred child: 100/400 = 0.25 and 50/100 = 0.5: a progression ratio of 2.
    assert table.loc[("s47", "asian_pakistani"), "progression"] == pytest.approx(0.5)
    assert table.loc[("s47", "asian_pakistani"), "progression_rr"] == pytest.approx(2.0)
    assert table.loc[("s47", "asian_pakistani"), "progression_lower"] > 1
    assert pd.isna(table.loc[("referral", "asian_pakistani")].get("progression"))


def test_partial_comparison_of_a_list_that_does_not_add_up():
    # Printed: WBRI 100, WIRT 2, MWBC 30, NOBT 5 = 137 of 150; missing 13 belong to the
    # codes not printed (WROM, APKN, ... REFU).
    printed = pd.Series({"WBRI": 100, "WIRT": 2, "MWBC": 30, "NOBT": 5})
    population = pd.Series({"white_british": 10_000, "gypsy_roma_irish_traveller": 100,
                            "mixed_white_black_caribbean": 1_000, "asian_pakistani": 2_000,
                            "chinese": 600})
    table, summary = partial_comparison(printed, 150, population, population_basis="t")
    table = table.set_index("group")
    assert table.loc["white_british", "status"] == "exact"
    # WIRT printed, WROM not: Gypsy/Roma/Irish Traveller has at least 2.
    assert table.loc["gypsy_roma_irish_traveller", "status"] == "lower bound"
    assert pd.isna(table.loc["gypsy_roma_irish_traveller", "rr_vs_reference"])
    assert table.loc["asian_pakistani", "status"] == "not printed"
    assert pd.isna(table.loc["asian_pakistani", "count"])
    # MWBC: 30/1000 against 100/10000: RR = 3.
    assert table.loc["mixed_white_black_caribbean", "rr_vs_reference"] == pytest.approx(3.0)
    assert summary["missing"] == 13 and summary["known_printed"] == 132
    assert summary["known_max"] == 145
    # At most 13 children in 2,600 not-printed children: 50 per 10,000, RR at most 0.5.
    assert summary["not_printed_population"] == 2600
    assert summary["not_printed_rate_max"] == pytest.approx(50.0)
    assert summary["not_printed_rr_max"] == pytest.approx(0.5)


# --- denominators through the population readers ------------------------------------------

@pytest.mark.shared_data
def test_buckinghamshire_2011_children_through_the_population_reader(shared_data):
    from cpstats.io.population import census2011_children_by_group

    children = census2011_children_by_group("825", shared_data / "census")
    assert children.attrs["total"] == 115_545  # DC2101EW, four districts summed
    assert children.sum() == 115_545  # the 17 comparison groups cover every child
    assert len(children) == 17


@pytest.mark.shared_data
@pytest.mark.parametrize("basis", ["census2011", "school_census"])
def test_population_by_group_scales_shares_to_the_year_total(shared_data, basis):
    population = child_population_by_group(
        "825", "2016-17", basis,
        ons_path=shared_data / "ons" / "ons_mid-year_population_estimates_2012_to_2024.csv",
        census_dir=shared_data / "census",
        school_census_path=shared_data / "dfe" / "school_census"
        / "spc_pupils_ethnicity_and_language_201516_to_202122.csv.gz")
    assert population.sum() == pytest.approx(population.attrs["ons_total"])
    assert population.attrs["ons_period"] == "2016-17"
    assert str(f"{population.attrs['ons_total']:,.0f}") in population.attrs["basis_label"]
    if basis == "census2011":
        # White British: 87,147 of 115,545 children in 2011, scaled to the year's total.
        share = 87_147 / 115_545
        assert population["white_british"] == pytest.approx(share * population.attrs["ons_total"])
    else:
        assert "school census" in population.attrs["basis_label"]


def test_unknown_population_basis_is_a_parameter_error():
    from cpstats.errors import ParameterError

    with pytest.raises(ParameterError, match="census2011"):
        child_population_by_group("825", 2017, "census2021_all_ages")


@pytest.mark.shared_data
@pytest.mark.parametrize("code", ["825", "E92000001", "E12000008", "330"])
def test_shipped_census_extract_matches_the_published_files(shared_data, code):
    shipped = census_children(code)
    published = census_children(code, shared_data / "census")
    assert shipped.attrs["total"] == published.attrs["total"]
    pd.testing.assert_series_equal(shipped.sort_index(), published.sort_index(),
                                   check_names=False, check_dtype=False)


def test_the_reports_printed_ethnicity_against_the_2011_population():
    from cpstats.facts import select
    from cpstats.io.local import read_report_figures
    from cpstats.reference import load_reference

    report = read_report_figures()
    rows = select(report, measure="cp_by_ethnicity", source="report", geography_code="825")
    printed = pd.Series(rows["value"].to_numpy(),
                        index=rows["breakdown"].str.removeprefix("ethnicity=").to_numpy())
    population = child_population_by_group("825", "2016-17", ons=load_reference())
    table, gap = partial_comparison(printed, 564, population, population_basis="t")
    assert (gap["printed"], gap["missing"], gap["known_printed"]) == (489, 75, 470)
    # White British: 87,147 of 115,545 children in 2011 x 121,026 (ONS, 2016-17) = 91,280.9;
    # 328 / 91,280.9 x 10,000 = 35.93 per 10,000.
    wb = table.set_index("group").loc["white_british"]
    assert wb["population"] == pytest.approx(87_147 / 115_545 * 121_026)
    assert wb["rate_per_10k"] == pytest.approx(35.93, abs=0.01)
    # Not printed: Indian 2,882 + Pakistani 8,229 + Bangladeshi 338 + other Asian 1,897 +
    # Chinese 498 = 13,844 children in 2011 -> 14,500.7 in 2016-17; at most 75 of them on plans:
    # 51.72 per 10,000, at most 51.72 / 35.93 = 1.44 times the White British rate.
    assert gap["not_printed_population"] == pytest.approx(13_844 / 115_545 * 121_026)
    assert gap["not_printed_rate_max"] == pytest.approx(51.72, abs=0.01)
    assert gap["not_printed_rr_max"] == pytest.approx(1.44, abs=0.005)
    assert set(table.loc[table["status"] == "not printed", "group"]) == {
        "asian_indian", "asian_pakistani", "asian_bangladeshi", "asian_other", "chinese"}


def test_small_group_relative_rate_uses_the_exact_conditional_interval():
    # 6 children in 1,000 against 100 in 10,000: RR = 60 / 100 = 0.6. Given 106 children,
    # 6 ~ Bin(106, p): Clopper-Pearson p in (beta(0.025; 6, 101), beta(0.975; 7, 100))
    # = (0.021053, 0.119138) -> RR = p / (1 - p) x 10 = (0.2151, 1.3525); the score interval,
    # (0.269, 1.338), is narrower.
    from cpstats.stats.disproportionality import exact_ratio_interval, rate_ratio_interval

    low, high = exact_ratio_interval(6, 1_000, 100, 10_000)
    assert (round(low, 4), round(high, 4)) == (0.2151, 1.3525)
    assert rate_ratio_interval(6, 1_000, 100, 10_000)[2] == "exact-cond"
    assert rate_ratio_interval(30, 1_000, 100, 10_000)[2] == "score"


def test_the_closed_form_score_interval_is_statsmodels_inverted_score_test():
    # statsmodels finds each limit with Nelder-Mead (to about 1e-8 in the ratio); the closed
    # form solves the same score equation exactly, so they agree to a millionth or so.
    import numpy as np
    from statsmodels.stats.rates import confint_poisson_2indep

    from cpstats.stats.disproportionality import rate_ratio_intervals

    a = np.array([10.0, 17.0, 30.0, 95.0, 2500.0, 12.0])
    e1 = np.array([900.0, 800.0, 1_000.0, 5_000.0, 80_000.0, 3_000.0])
    c = np.array([1.0, 3.0, 100.0, 300.0, 4_000.0, 0.0])
    e2 = np.array([40_000.0, 90_000.0, 10_000.0, 60_000.0, 50_000.0, 10_000.0])
    low, high, method = rate_ratio_intervals(a, e1, c, e2)
    assert list(method) == ["score"] * 5 + ["none"]  # no reference children: no ratio
    for i in range(5):
        expected = confint_poisson_2indep(a[i], e1[i], c[i], e2[i], method="score",
                                          compare="ratio")
        assert np.allclose([low[i], high[i]], expected, rtol=1e-5)
    assert np.isnan([low[5], high[5]]).all()


def test_sibling_design_effect_by_hand():
    import pandas as pd

    from cpstats.stats.disproportionality import goodness_of_fit, sibling_design_effect, widen

    # Groups a (x, x), b (y, y), c (x), d (y): m = (4 + 4 + 1 + 1) / 6 = 5/3; both pairs agree,
    # chance agreement 0.5^2 + 0.5^2 = 0.5, so rho = (1 - 0.5) / 0.5 = 1 and deff = 5/3.
    found = sibling_design_effect(pd.Series(list("aabbcd")), pd.Series(list("xxyyxy")))
    assert found["mean_size"] == pytest.approx(5 / 3) and found["rho"] == pytest.approx(1)
    assert found["deff"] == pytest.approx(5 / 3)
    # Siblings who never agree: rho floors at 0, no design effect.
    assert sibling_design_effect(pd.Series(list("aabb")), pd.Series(list("xyxy")))["deff"] == 1
    # Rao-Scott: the statistic halves with deff 2, Cohen's w stays.
    counts, pop = pd.Series({"a": 30, "b": 10}), pd.Series({"a": 500, "b": 500})
    plain, halved = goodness_of_fit(counts, pop), goodness_of_fit(counts, pop, design_effect=2)
    assert halved["chi2"] == pytest.approx(plain["chi2"] / 2) and plain["chi2"] == 10
    assert halved["cohens_w"] == plain["cohens_w"] and halved["p_value"] > plain["p_value"]
    # Widening on the log scale: 2 (1 to 4) with deff 4 becomes 2 x (1/2)^2 to 2 x 2^2.
    table = pd.DataFrame({"rr": [2.0, 0.0], "lo": [1.0, 0.0], "hi": [4.0, 3.0]})
    wide = widen(table, 4, [("rr", "lo", "hi")])
    assert wide["lo"].tolist() == [0.5, 0.0] and wide["hi"].tolist() == [8.0, 12.0]


def test_sibling_groups_band_age_at_the_plan_s_start():
    from cpstats.stats.disproportionality import sibling_groups

    # A pre-birth plan (born two months after it started), a child with no birth date yet,
    # a 4-year-old and a 9-year-old at the start: the first two are unborn, not 0_4.
    children = conform_table("children", pd.DataFrame({
        "child_id": ["u", "n", "a", "b"], "ethnicity": ["WBRI"] * 4,
        "birth_month": pd.to_datetime(["2016-08-01", None, "2012-01-01", "2007-01-01"])}))
    plans = conform_table("cp_plans", pd.DataFrame({
        "child_id": ["u", "n", "a", "b"], "cin_id": ["1"] * 4, "plan_id": ["1"] * 4,
        "start_date": pd.to_datetime(["2016-06-01", "2016-06-01", "2016-06-01", "2016-07-01"])}))
    cin = CinData(la_code="999", reference_date=date(2017, 3, 31), source="synthetic",
                  children=children, cp_plans=plans)
    bands = sibling_groups(cin, 2017).set_index("child_id")["age_band"]
    assert bands.to_dict() == {"u": "unborn", "n": "unborn", "a": "0_4", "b": "5_9"}
