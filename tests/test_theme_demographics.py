"""The demographics theme (notebook 02): its findings on the shipped data, another LA from DfE
data alone, and the child-level and degraded paths."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cpstats.codes import harmonise_age_bands
from cpstats.inputs import resolve
from cpstats.themes import ThemeData, demographics
from cpstats.themes.base import Section

ENGLAND = "E92000001"


def _value(findings: pd.DataFrame, measure: str, source: str, breakdown: str = "total",
           code: str = "825", period: str = "2016-17") -> float:
    rows = findings[(findings["measure"] == measure) & (findings["source"] == source)
                    & (findings["breakdown"] == breakdown) & (findings["geography_code"] == code)
                    & (findings["period"] == period)]
    assert len(rows) == 1, (measure, source, breakdown, code, period, len(rows))
    return float(rows["value"].iloc[0])


def _text(section: Section) -> str:
    return "\n".join(section.paragraphs)


@pytest.fixture(scope="module")
def default() -> demographics.ThemeResult:
    return demographics.compute(ThemeData(resolve()))


@pytest.fixture(scope="module")
def sections(default) -> dict[str, Section]:
    return {s.key: s for s in default.sections}


# -- the default run: Buckinghamshire 2016-17, the report's figures beside DfE's ------------
def test_category_counts_are_the_report_s_and_dfe_s(default):
    found = default.findings
    report = {"neglect": 279, "emotional_abuse": 243, "sexual_abuse": 26, "physical_abuse": 16,
              "multiple": 0}
    dfe = {"neglect": 296, "emotional_abuse": 207, "sexual_abuse": 28, "physical_abuse": 22,
           "multiple": 0}
    for source, counts in (("report", report), ("dfe", dfe)):
        for key, n in counts.items():
            assert _value(found, "cp_by_category", source, f"category={key}") == n
    assert _value(found, "cp_by_category_pct", "derived", "category=neglect") == 49.5
    assert _value(found, "cp_by_category_pct", "derived", "category=neglect", ENGLAND) == 48.1
    # The report's counts against England's latest category (they sit 13 children from DfE's
    # latest counts for Buckinghamshire), Multiple left out of the test: chi-square 14.9 on
    # 3 df, w = 0.16 (was 0.34 against the initial category with Multiple = 0 in the test).
    assert _value(found, "cp_by_category_cohens_w", "derived") == 0.16
    assert _value(found, "cp_by_category_pct", "derived", "category=neglect;definition=latest",
                  ENGLAND) == 47.7  # 24,390 of 51,080
    # DfE's neglect share rose from 225 of 2015-16's total to 296 of 553.
    assert _value(found, "cp_by_category", "dfe", "category=neglect", period="2015-16") == 225
    assert _value(found, "cp_by_category_share_change", "derived", "category=neglect") == 4.0


def test_category_prose_states_the_findings(sections):
    text = _text(sections["category"])
    assert text.startswith("Neglect was the category for 49.5% of the 564 children on a plan "
                           "in Buckinghamshire at 31 March 2017 (the council's report), "
                           "against 47.7% (latest category; 48.1% initial) in England.")
    # Issue 12: 33 of the old chi-square's 65.3 came from Multiple = 0 (a recording convention),
    # and the report's latest-category counts were tested against England's initial category.
    assert "England's latest category is the comparator" in text
    assert "Multiple categories: 0.0% here against 5.1% in England" in text
    assert "chi-square 14.9 on 3 degrees of freedom (p 0.002)" in text
    assert "Cohen's w is 0.16, a small effect" in text
    assert "largest change on 2015-16 was in neglect: +4.0 percentage points" in text
    assert "(225 to 296 children)" in text


def test_gender_against_england_s_nearest_year(default, sections):
    found = default.findings
    for key, n in {"male": 290, "female": 263, "unborn": 11}.items():
        assert _value(found, "cp_by_gender", "report", f"gender={key}") == n
    assert _value(found, "cp_by_gender_pct", "derived", "gender=male") == 51.4
    assert _value(found, "cp_by_gender_pct", "derived", "gender=female") == 46.6
    assert _value(found, "cp_by_gender_cohens_w", "derived") == 0.02
    text = _text(sections["gender"])
    assert "51.4% of the children on a plan were boys and 46.6% girls" in text
    assert "the nearest year they have, 2017-18, is used" in text
    assert "DfE did not publish" not in text  # it did, in 2016-17's own release tables
    assert "(p 0.891)" in text and "a negligible effect" in text
    table = default.tables["cp_by_gender"]
    # England's unborn children come from its age table (DfE counts them under age).
    assert table.loc["Unborn", "England 2017-18 (children)"] == 1150


def test_age_in_harmonised_bands(default, sections):
    found = default.findings
    for key, n in {"unborn": 11, "under_1": 41, "1_4": 146, "5_9": 172, "10_15": 157,
                   "16_plus": 37}.items():
        assert _value(found, "cp_by_age_band", "report", f"age_band={key}") == n
    for key, n in {"unborn": 11, "0_4": 187, "5_9": 172, "10_17": 194}.items():
        assert _value(found, "cp_by_age_band_harmonised", "derived", f"age_band={key}") == n
    assert _value(found, "cp_by_age_band_harmonised_pct", "derived", "age_band=0_4") == 33.2
    assert _value(found, "cp_by_age_band_harmonised_cohens_w", "derived") == 0.04
    assert _text(sections["age"]).startswith("33.2% of the children on a plan in "
                                             "Buckinghamshire were under 5")
    # The age mix by year comes from the synthetic county's records, shares per year.
    mix = default.charts["age_mix_by_year"]
    assert list(mix.columns) == ["Unborn", "0-4", "5-9", "10-17"]
    assert mix.loc["2016-17"].sum() == pytest.approx(100)
    assert sections["age"].charts[-1].synthetic
    # 2014-15 hides a band of 1 to 5 (and the one that would reveal it): the note says why its
    # shares do not sum to 100%.
    assert mix.loc["2014-15"].isna().sum() == 2 and mix.loc["2014-15"].sum() < 100
    assert "in 2014-15 a band of 1 to 5 children" in sections["age"].charts[-1].source


def test_disability_and_its_proxy(default, sections):
    found = default.findings
    assert _value(found, "cp_disabled_pct", "report") == 6
    assert _value(found, "cin_with_disability_pct", "dfe") == 15.7
    assert _value(found, "cin_with_disability_pct", "dfe", code=ENGLAND) == 12.9
    assert _text(sections["disability"]).startswith(
        "6% of children on a plan in Buckinghamshire at 31 March 2017 had a disability recorded")
    assert "as a proxy, 15.7% of all children in need in Buckinghamshire and 12.9% in England" \
        in _text(sections["disability"])


def test_tables_are_for_readers(default):
    assert set(default.tables) == {"cp_by_category", "cp_by_gender", "cp_by_age_band"}
    for name, table in default.tables.items():
        labels = [table.index.name, *table.columns]
        assert not [c for c in labels if re.fullmatch(r"[a-z0-9_]+", str(c))], name
        shares = table.filter(like="(%)")
        assert shares.map(lambda v: bool(re.fullmatch(r"\d+\.\d", v))).all().all(), name
    category = default.tables["cp_by_category"]
    assert category.loc["Neglect", "Buckinghamshire (%)"] == "49.5"
    assert category.loc["Multiple", "Buckinghamshire (%)"] == "0.0"


def test_every_figure_is_stated_once_and_nothing_is_left_out(default):
    found = default.findings
    assert not found.duplicated(["measure", "geography_code", "period", "breakdown",
                                 "source"]).any()
    assert default.left_out == []
    assert set(default.charts) == {"cp_by_category", "cp_by_gender", "cp_by_age_band",
                                   "age_mix_by_year"}


# -- another LA from DfE data alone ----------------------------------------------------------
@pytest.fixture(scope="module")
def surrey(cin_2022) -> demographics.ThemeResult:
    return demographics.compute(ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022)))


def test_another_la_s_categories_are_dfe_s(surrey, cin_2022):
    # Surrey's neglect count as DfE published it (d4, read here without cpstats).
    d4 = pd.read_csv(cin_2022 / "d4_cpps_at31march_by_category_of_abuse_2013_to_2022.csv",
                     dtype=str, encoding="utf-8-sig")
    row = d4[(d4["old_la_code"] == "936") & (d4["time_period"] == "2017")]
    found = surrey.findings
    neglect = _value(found, "cp_by_category", "dfe", "category=neglect", code="936")
    assert neglect == float(row["Neglect_Initial"].iloc[0])
    total = _value(found, "cp_plans_at_31_march", "dfe", code="936")
    assert _value(found, "cp_by_category_pct", "derived", "category=neglect", "936") == \
        pytest.approx(round(neglect / total * 100, 1))
    assert not found["source"].isin(["report", "synthetic", "cin_census"]).any()
    text = _text(surrey.sections[0])
    assert f"of the {total:,.0f} children on a plan in Surrey" in text and "(DfE)" in text


def test_another_la_leaves_out_what_dfe_does_not_publish(surrey):
    sections = {s.key: s for s in surrey.sections}
    for key in ("gender", "age", "disability"):
        assert sections[key].left_out, key
        assert not sections[key].tables and not sections[key].charts, key
        assert _text(sections[key]).startswith("Not shown for Surrey in 2016-17"), key
    assert any("needs the council's report or a CIN Census return" in x
               for x in surrey.left_out)
    assert set(surrey.charts) == {"cp_by_category"}


def test_groups_dfe_suppressed_are_shown_as_published_and_left_out_of_the_test(cin_2022):
    result = demographics.compute(ThemeData(resolve("Rutland", 2013, dfe_dir=cin_2022)))
    table = result.tables["cp_by_category"]
    for group in ("Physical abuse", "Multiple"):
        assert table.loc[group, "Rutland (children)"] == "c"
        assert table.loc[group, "Rutland (%)"] == "c"
    text = _text(result.sections[0])
    assert "Left out of the test, suppressed or not published: Physical abuse." in text
    assert "Multiple categories: suppressed by DfE here" in text
    assert "simulated samples" in text  # expected counts below 5
    found = result.findings
    physical = found[(found["measure"] == "cp_by_category")
                     & (found["breakdown"] == "category=physical_abuse")]
    assert physical["value"].isna().all() and (physical["marker"] == "c").all()


# -- child-level paths -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def without_report() -> demographics.ThemeResult:
    """The default run with the report's figures taken away: gender, age and disability then
    come from the synthetic county's records."""
    data = ThemeData(resolve())
    data.__dict__["facts"] = data.facts[data.facts["source"] != "report"]
    return demographics.compute(data)


def test_child_level_figures_when_the_report_gives_none(without_report):
    found = without_report.findings
    assert not (found["source"] == "report").any()
    # Category: DfE is preferred over the synthetic county.
    assert _value(found, "cp_by_category", "dfe", "category=neglect") == 296
    # Gender and age from the synthetic county, with the year before from the same records.
    assert _value(found, "cp_by_gender", "synthetic", "gender=male") == 290
    assert _value(found, "cp_by_gender_pct", "synthetic", "gender=male", period="2015-16") > 0
    assert _value(found, "cp_by_age_band_harmonised", "synthetic", "age_band=0_4") == 187
    assert _value(found, "cp_disabled_pct", "synthetic") == pytest.approx(29 / 564 * 100, abs=0.05)
    sections = {s.key: s for s in without_report.sections}
    assert "A year earlier boys were" in _text(sections["gender"])
    assert "(the synthetic county" in _text(sections["age"])
    assert sections["gender"].tables[0].synthetic


def test_small_child_level_counts_are_suppressed_everywhere():
    data = ThemeData(resolve())
    section = Section(demographics.THEME, "gender", "Gender", data)
    local = pd.Series({"male": 300.0, "female": 260.0, "unborn": 4.0})
    england = pd.Series({"male": 27160.0, "female": 25410.0, "unborn": 1150.0})
    demographics.compare(section, demographics.GENDER, local, "synthetic", england, "2017-18")
    table = section.tables[0].frame
    shown = table["Buckinghamshire (children)"]
    assert shown["Unborn"] == "c" and (shown == "c").sum() == 2  # and one more, so no sum gives it
    assert (table["Buckinghamshire (%)"] == "c").sum() == 2
    chart = section.charts[0].frame
    assert chart["Buckinghamshire"].isna().sum() == 2
    found = section.findings.frame()
    unborn = found[found["breakdown"] == "gender=unborn"]
    assert unborn["value"].isna().all() and (unborn["marker"] == "c").all()


def test_no_child_level_records_no_age_mix(surrey):
    assert "age_mix_by_year" not in surrey.charts


# -- the rules -------------------------------------------------------------------------------
def test_rules():
    assert [demographics.effect_size(w) for w in (0.05, 0.1, 0.34, 0.5)] == [
        "negligible", "small", "medium", "large"]
    assert demographics.percent_text(pd.Series([2.0, 49.468, float("nan")]),
                                     "cp_by_gender_pct", "c").tolist() == ["2.0", "49.5", "c"]
    bands = pd.Series({"unborn": 1, "under_1": 2, "1_4": 3, "5_9": 4, "10_15": 5, "16_plus": 6})
    assert harmonise_age_bands(bands).tolist() == [1, 5, 4, 11]


def test_child_level_tests_allow_for_siblings(without_report):
    found = without_report.findings
    deff = found[found["measure"] == "sibling_design_effect"].set_index("breakdown")["value"]
    # Gender and age come from the synthetic county: each test carries its design effect.
    assert {"grouping=plan_start_day;attribute=gender",
            "grouping=plan_start_day;attribute=age_band"} <= set(deff.index)
    assert (deff >= 1).all()
    sections = {s.key: s for s in without_report.sections}
    assert "the chi-square is divided by the design effect of sibling groups" in _text(
        sections["gender"])


def _planted_siblings():
    """Four families whose plans start together, each child sharing the family's gender and
    category: 3 + 3 + 2 + 2 children on four days."""
    from datetime import date

    from cpstats.childlevel import CinData, conform_table

    sizes, genders = [3, 3, 2, 2], ["male", "female", "male", "female"]
    categories, days = ["NEG", "PHY", "EMO", "SAB"], ["2016-05-02", "2016-06-01", "2016-07-01",
                                                       "2016-08-01"]
    family = [f for f, n in enumerate(sizes) for _ in range(n)]
    ids = [str(i) for i in range(len(family))]
    children = conform_table("children", pd.DataFrame({
        "child_id": ids, "ethnicity": ["WBRI"] * len(ids), "gender": [genders[f] for f in family],
        "birth_month": pd.to_datetime(["2010-01-01"] * len(ids))}))
    plans = conform_table("cp_plans", pd.DataFrame({
        "child_id": ids, "cin_id": ["1"] * len(ids), "plan_id": ["1"] * len(ids),
        "start_date": pd.to_datetime([days[f] for f in family]),
        "initial_category": [categories[f] for f in family]}))
    return CinData(la_code="999", reference_date=date(2017, 3, 31), source="synthetic",
                   children=children, cp_plans=plans)


def test_planted_sibling_groups_give_a_design_effect_above_1():
    from cpstats.stats.disproportionality import sibling_design_effect, sibling_groups

    plans = sibling_groups(_planted_siblings(), 2017)
    # Every family agrees within itself (rho = 1); m = (9 + 9 + 4 + 4) / 10 = 2.6 = deff.
    for attribute in ("gender", "category"):
        found = sibling_design_effect(plans["group"], plans[attribute])
        assert found["rho"] == pytest.approx(1) and found["deff"] == pytest.approx(2.6)


def test_child_level_share_intervals_are_widened_by_the_design_effect():
    from cpstats.stats.intervals import wilson_interval

    section = Section(demographics.THEME, "t", "T", ThemeData(resolve()))
    share = pd.Series({"male": 50.0})
    demographics.record_shares(section, demographics.GENDER, share, "synthetic", total=200,
                               deff=2.0)
    demographics.record_shares(section, demographics.GENDER, share, "report", total=200,
                               deff=2.0)
    rows = section.findings.frame().set_index("source")
    # Child-level: Wilson on 50 of 100 (the effective counts), not 100 of 200.
    assert (rows.loc["synthetic", "lower_95"], rows.loc["synthetic", "upper_95"]) == (
        pytest.approx(tuple(round(v, 1) for v in wilson_interval(50, 100))))
    assert "/ design effect 2.00" in rows.loc["synthetic", "note"]
    # Published counts carry no family link to measure: as they are.
    assert (rows.loc["derived", "lower_95"], rows.loc["derived", "upper_95"]) == (
        pytest.approx(tuple(round(v, 1) for v in wilson_interval(100, 200))))


def test_sibling_groups_are_built_once_per_run(monkeypatch):
    from cpstats.stats import disproportionality as dp
    from cpstats.themes import ethnicity

    calls = []
    real = dp.sibling_groups
    monkeypatch.setattr(dp, "sibling_groups", lambda *a: calls.append(a) or real(*a))
    data = ThemeData(resolve())
    section = Section(demographics.THEME, "t", "T", data)
    effects = [demographics.design_effect(section, mix, "synthetic")
               for mix in (demographics.GENDER, demographics.AGE)]
    stages, _ = ethnicity.decision_points(data)
    assert len(calls) == 1 and stages is not None and min(effects) >= 1
