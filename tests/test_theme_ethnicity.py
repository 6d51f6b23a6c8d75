"""The ethnicity theme (notebook 03): its findings on the shipped data, its denominators, what it
leaves out and why, and that no suppressed count can be recovered from what it publishes."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest

from cpstats import disclosure
from cpstats.defaults import ENGLAND_CODE
from cpstats.errors import ParameterError
from cpstats.inputs import resolve
from cpstats.stats.disproportionality import DECISION_POINTS
from cpstats.themes import ThemeData, compute
from cpstats.themes import ethnicity as eth

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_ethnicity_vs_population.ipynb"
PLAN = "decision_point=plan_at_31_march"


@pytest.fixture(scope="module")
def default() -> ThemeData:
    return ThemeData(resolve())


@pytest.fixture(scope="module")
def result(default):
    return compute("ethnicity", default)


def _finding(result, measure: str, breakdown: str = "total", source: str | None = None,
             code: str = "825") -> pd.Series:
    rows = result.findings
    rows = rows[(rows["measure"] == measure) & (rows["breakdown"] == breakdown)
                & (rows["geography_code"] == code)]
    if source is not None:
        rows = rows[rows["source"] == source]
    assert len(rows) == 1, (measure, breakdown, source, len(rows))
    return rows.iloc[0]


# -- the default run: Buckinghamshire 2016-17 ------------------------------------------------
@pytest.mark.parametrize("measure, breakdown, source, value", [
    ("population_share_pct", "ethnicity=white_british", "derived", 75.4),
    ("cp_by_ethnicity_printed", "total", "report", 489),
    ("cp_plans_at_31_march", "total", "report", 564),
    ("cp_by_ethnicity", "ethnicity=not_printed", "derived", 75),
    ("ethnicity_rate_per_10k", "ethnicity=white_british", "derived", 35.9),
    ("ethnicity_relative_rate", "ethnicity=black_other", "derived", 6.24),
    ("ethnicity_rate_per_10k_max", "ethnicity=not_printed", "derived", 51.7),
    ("ethnicity_relative_rate_max", "ethnicity=not_printed", "derived", 1.44),
    ("cp_by_ethnicity_share_of_known_pct", "ethnicity=white_british;bound=lower", "derived", 60.2),
    ("cp_by_ethnicity_share_of_known_pct", "ethnicity=white_british;bound=upper", "derived", 69.8),
    # The synthetic county: the generator's built-in differences, recovered.
    ("ethnicity_rate_per_10k", f"{PLAN};ethnicity=white_british", "synthetic", 38.6),
    ("ethnicity_relative_rate", f"{PLAN};ethnicity=white_irish", "synthetic", 5.79),
    ("ethnicity_relative_rate", f"{PLAN};ethnicity=chinese", "synthetic", 0.0),
    ("ethnicity_cohens_w", PLAN, "synthetic", 0.71),
    ("ethnicity_cohens_w", "decision_point=referral", "synthetic", 0.35),
    ("ethnicity_progression_relative_rate",
     "decision_point=s47;ethnicity=black_other", "synthetic", 1.75),
])
def test_the_default_run_states_its_figures(result, measure, breakdown, source, value):
    assert _finding(result, measure, breakdown, source)["value"] == pytest.approx(value)


def test_a_relative_rate_names_the_interval_it_carries(result):
    # Chinese: no child on a plan in the synthetic county, so the exact conditional interval.
    low = _finding(result, "ethnicity_relative_rate", f"{PLAN};ethnicity=chinese", "synthetic")
    assert low["note"].endswith("exact conditional interval (fewer than 10 children)")
    assert (low["lower_95"], low["upper_95"]) == pytest.approx((0.0, 1.844), abs=1e-3)
    high = _finding(result, "ethnicity_relative_rate", f"{PLAN};ethnicity=white_irish",
                    "synthetic")
    assert high["note"].endswith("; Poisson score interval")


def test_published_figures_carry_their_fact_rows(result):
    total = _finding(result, "cp_plans_at_31_march", source="report")
    assert total["unit"] == "count" and "564 on 31st March 2017" in total["note"]
    gap = _finding(result, "cp_by_ethnicity", "ethnicity=not_printed")
    assert gap["note"].startswith("GAP, derived: 564 children minus the 489")


def test_rates_name_their_denominator_and_carry_intervals(result):
    rate = _finding(result, "ethnicity_rate_per_10k", "ethnicity=white_british", "derived")
    assert rate["note"] == ("report count / Census 2011 shares x ONS 0-17 estimate for 2016-17")
    assert rate["lower_95"] == pytest.approx(32.149, abs=1e-3)
    assert rate["upper_95"] == pytest.approx(40.040, abs=1e-3)
    top = _finding(result, "ethnicity_relative_rate", "ethnicity=black_other")
    assert (top["lower_95"], top["upper_95"]) == pytest.approx((3.358, 11.585), abs=1e-3)


def test_the_headline_reads_from_the_findings(result):
    headline = result.sections[eth.SECTIONS.index(eth.report_figures)].paragraphs[0]
    assert "ethnicity of **489** of its **564** children" in headline
    assert "**75** are not printed" in headline
    assert "(Indian, Pakistani, Bangladeshi, Any other Asian background, Chinese)" in headline
    assert "Any other Black background children had the highest rate, **6.24 times**" in headline
    assert "between 60.2% and 69.8%" in headline and "against 75.4%" in headline
    # Groups in display order, not ranked.
    assert "wholly above the White British rate: White Irish, Any other White" in headline


def test_the_denominator_applies_2011_shares_to_the_year_s_ons_total(default):
    pop = eth.denominator(default)
    assert pop.children.sum() == pytest.approx(121_026)
    assert round(pop.children["white_british"]) == 91_281
    assert list(pop.children.index) == [g for g in eth.COMPARISON_GROUPS]
    assert "115,545 children" in pop.label and "121,026" in pop.label
    assert pop.short == "Census 2011 shares x ONS 0-17 estimate for 2016-17"
    england = eth.denominator(default, ENGLAND_CODE)
    assert england.children.sum() == pytest.approx(11_716_740)


def test_the_school_census_basis_is_a_more_recent_mix(default, shared_data):
    section = eth.population(default, population_basis="school_census")
    share = section.findings.frame().set_index("breakdown").loc["ethnicity=white_british"]
    assert share["value"] == pytest.approx(66.9)
    assert "school census January 2017" in share["note"]
    # Census 2011's 0-17 mix is then the one shown beside it.
    words = " ".join(section.paragraphs)
    assert "use school census shares because it is the report year's own mix" in words
    assert "Census 2011, children 0-17 (%)" in section.tables[0].frame.columns


def test_the_bases_side_by_side(default, shared_data):
    section = eth.population(default)
    found = section.findings.frame().set_index("breakdown")
    # White British: 75.4% of children 0-17 in Census 2011, 66.9% of pupils in January 2017
    # (DfE school census), 72.6% of residents of all ages in Census 2021.
    assert found.loc["ethnicity=white_british", "value"] == pytest.approx(75.4, abs=0.05)
    assert found.loc["ethnicity=white_british;basis=school_census", "value"] == pytest.approx(
        66.9, abs=0.05)
    all_ages = found.loc["ethnicity=white_british;basis=census2021"]
    assert all_ages["measure"] == "population_share_all_ages_pct"
    assert all_ages["value"] == pytest.approx(72.6, abs=0.05)
    words = " ".join(section.paragraphs)
    assert "Rates by ethnicity here use Census 2011 shares because" in words
    assert "As a sensitivity check only, Census 2021" in words
    # Beside the children's share on the rates' basis; no claim the data do not make.
    assert "as White British, against 75.4% of children on the Census 2011 shares" in words
    assert "never a denominator for children" in words and "diverse" not in words
    columns = list(section.tables[0].frame.columns)
    assert "School census pupils, January 2017 (%)" in columns
    assert "Census 2021, all ages (%): sensitivity check only" in columns


def test_a_year_without_a_school_census_row_says_so(shared_data):
    words = " ".join(eth.population(ThemeData(resolve("825", 2015))).paragraphs)
    assert ("The school census shares are not shown beside it: parameter --year: found "
            "'2014-15'; expected a reporting year with a school census." in words)


def test_a_missing_basis_file_says_so_not_a_guessed_cause(default, monkeypatch):
    from cpstats.errors import InputError, Problem

    def missing(data, code):
        raise InputError(Problem(file="school_census.csv", expected="a file that exists"))

    monkeypatch.setattr(eth, "_school_shares", missing)
    words = " ".join(eth.population(default).paragraphs)
    assert "are not shown beside it: school_census.csv; expected a file that exists." in words
    assert "reorganised" not in words


def test_an_unknown_basis_is_a_parameter_error(default):
    with pytest.raises(ParameterError):
        eth.population(default, population_basis="census2021_all_ages")


def test_tables_have_reader_labels_and_no_missing_markers(result):
    for name, frame in result.tables.items():
        columns = [*frame.columns, *[n for n in frame.index.names if n]]
        assert not [c for c in columns if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", str(c))], name
        assert not frame.astype(str).isin(["nan", "NaN", "<NA>", "None"]).any().any(), name


def test_charts_draw_and_bars_start_at_zero(result):
    section = result.sections[eth.SECTIONS.index(eth.report_figures)]
    fig = section.charts[0].figure()
    assert fig.axes[0].get_xlim()[0] == 0
    plt.close(fig)
    forest = result.sections[eth.SECTIONS.index(eth.relative_rates)].charts[0]
    assert forest.synthetic
    plt.close(forest.figure())


# -- disclosure: nothing hidden can be worked back ------------------------------------------
def test_a_suppressed_count_cannot_be_recovered_from_the_rates_shown(default, result):
    stages, _ = eth.decision_points(default)
    counts = result.tables["children_by_ethnicity_and_decision_point"]
    rates = result.tables["relative_rates_at_31_march"]
    on_plan = DECISION_POINTS["plan_at_31_march"]
    hidden = counts[on_plan] == disclosure.SUPPRESSED
    assert hidden.sum() >= 2
    derived = rates.columns[:6]  # rate, ratios, intervals, v all others, share ratio
    for group in hidden[hidden].index.intersection(rates.index):
        assert (rates.loc[group, derived] == disclosure.SUPPRESSED).all(), group
    # Where a rate is shown, it gives back only the count shown beside it.
    pop = eth.denominator(default).children.rename(index=eth.COMPARISON_GROUPS)
    shown = rates["Per 10,000"][rates["Per 10,000"] != disclosure.SUPPRESSED].astype(float)
    recovered = (shown * pop.reindex(shown.index) / 10_000).round()
    assert (recovered == counts.loc[shown.index, on_plan].astype(float)).all()
    # The children of known ethnicity at each point are public (the chi-square table's base):
    # hidden cells come at least two to a subtotal, so no subtotal isolates one.
    fit = result.tables["chi_square_by_decision_point"]
    known, unknown = list(eth.COMPARISON_GROUPS.values()), list(eth.UNKNOWN_GROUPS.values())
    for point, label in DECISION_POINTS.items():
        column = counts[label]
        for rows in (known, unknown):
            assert (column[rows] == disclosure.SUPPRESSED).sum() != 1, (point, rows)
        visible_known = column[known][column[known] != disclosure.SUPPRESSED].astype(int).sum()
        assert fit.loc[label, "Children of known ethnicity"] >= visible_known


def test_a_progression_ratio_is_hidden_when_either_count_is(result):
    counts = result.tables["children_by_ethnicity_and_decision_point"]
    table = result.tables["progression_by_decision_point"]
    points = list(DECISION_POINTS.values())
    for before, now in zip(points[:3], points[1:4], strict=True):
        either = ((counts.loc[table.index, before] == disclosure.SUPPRESSED)
                  | (counts.loc[table.index, now] == disclosure.SUPPRESSED))
        assert (table.loc[either, now] == disclosure.SUPPRESSED).all(), now
        assert (table.loc[~either, now] != disclosure.SUPPRESSED).all(), now


def test_the_forest_plot_draws_no_suppressed_group(default, result):
    stages, _ = eth.decision_points(default)
    frame = result.charts["forest_relative_rates"]
    drawn = frame.merge(stages.table, on=["decision_point", "group"])
    assert not drawn["hidden"].any() and "white_british" not in set(frame["group"])


def test_derived_figures_are_hidden_with_their_counts():
    figures = pd.DataFrame({"rate": [39.9, 122.0, 80.0], "ratio": [1.0, 3.05, 2.0]},
                           index=["a", "b", "c"])
    by_row = disclosure.suppress_derived(figures, pd.Series([False, True, False],
                                                            index=["a", "b", "c"]))
    assert by_row["rate"].tolist() == [39.9, "c", 80.0]
    assert by_row["ratio"].tolist() == [1.0, "c", 2.0]
    cells = pd.DataFrame({"ratio": [False, False, True]}, index=["a", "b", "c"])
    by_cell = disclosure.suppress_derived(figures, cells)
    assert by_cell["rate"].tolist() == [39.9, 122.0, 80.0]
    assert by_cell["ratio"].tolist() == [1.0, 3.05, "c"]


def test_a_public_subtotal_gets_its_own_second_cell():
    # Column: a=3 (hidden) and b, c known groups; r, n unknown. Without the known subtotal line,
    # hiding a with n (the smallest other cell) would let the known subtotal give a back.
    table = pd.DataFrame({"x": [3, 40, 50, 30, 6, 129]}, index=["a", "b", "c", "r", "n", "all"])
    plain = disclosure.suppression_mask(table, "all")
    grouped = disclosure.suppression_mask(table, "all", row_groups=[["a", "b", "c"], ["r", "n"]])
    assert plain["x"].sum() == 2 and plain.loc[["a", "b", "c"], "x"].sum() == 1
    for rows in (["a", "b", "c"], ["r", "n"]):
        assert grouped.loc[rows, "x"].sum() != 1


# -- other runs: DfE only, no child-level records --------------------------------------------
@pytest.fixture(scope="module")
def surrey(cin_2022):
    return compute("ethnicity", ThemeData(resolve("Surrey", 2017, dfe_dir=cin_2022)))


def test_a_dfe_only_run_says_what_it_leaves_out(surrey):
    left = " | ".join(surrey.left_out)
    assert "the report's own ethnicity figures" in left
    assert "no CIN Census return given: pass --cin-census" in left
    assert "none for 2016-17" in left  # England's broad groups start in 2017-18
    for name in ("report_figures", "decision_point_counts", "relative_rates", "progression"):
        section = surrey.sections[[s.__name__ for s in eth.SECTIONS].index(name)]
        assert section.empty and section.left_out, name


def test_a_dfe_only_run_still_has_its_denominator(surrey):
    share = _finding(surrey, "population_share_pct", "ethnicity=white_british", code="936")
    assert share["value"] == pytest.approx(81.7)
    assert "246,636 children" in share["note"]  # Surrey's children 0-17 in 2011
    assert set(surrey.findings["measure"]) == {"population_share_pct",
                                               "population_share_all_ages_pct"}


def test_england_from_dfe_s_broad_groups(cin_2022):
    found = compute("ethnicity", ThemeData(resolve("Surrey", 2019, dfe_dir=cin_2022)))
    mixed = _finding(found, "ethnicity_relative_rate", "ethnic_group=Mixed", "derived",
                     ENGLAND_CODE)
    asian = _finding(found, "ethnicity_relative_rate", "ethnic_group=Asian or Asian British",
                     "derived", ENGLAND_CODE)
    assert (mixed["value"], asian["value"]) == pytest.approx((1.85, 0.68))
    assert mixed["note"].startswith("DfE a5 counts / Census 2011 shares")
    assert list(found.tables["england_relative_rates"].index) == [
        "White", "Mixed", "Asian or Asian British", "Black or Black British", "Other ethnic group"]


def test_the_default_la_without_child_level_records(cin_2022):
    found = compute("ethnicity", ThemeData(resolve("825", 2017, dfe_dir=cin_2022)))
    # The report's printed figures are transcribed whatever the DfE release ...
    assert _finding(found, "ethnicity_relative_rate_max", "ethnicity=not_printed")["value"] == 1.44
    # ... but nothing child-level is stated.
    assert not found.findings["source"].isin(["synthetic", "cin_census"]).any()
    assert any("pass --cin-census" in x for x in found.left_out)


def test_a_return_with_nobody_in_the_year_says_so(shared_data):
    data = ThemeData(resolve("825", 2022, cin_census=shared_data / "cin_census"
                             / "liia_tools_cin-2022.xml"))
    section = eth.decision_point_counts(data)
    assert section.empty
    assert section.left_out == ["ethnicity at each decision point (the CIN Census return has no "
                                "child at any decision point in 2021-22)"]


# -- the stored notebook --------------------------------------------------------------------
def test_the_stored_notebook_reads_cleanly():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    texts = [v for c in notebook.cells if c.cell_type == "code" for o in c.outputs
             for k, v in o.get("data", {}).items() if k in ("text/markdown", "text/html")]
    assert texts
    for text in texts:
        assert "NaN" not in text and "&lt;NA&gt;" not in text and "<NA>" not in text
        headers = re.findall(r"<th>(.*?)</th>", text)
        assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)], headers
    tags = [t for c in notebook.cells for t in c.metadata.get("tags", [])]
    assert tags.count("parameters") == 1 and "headline" in tags
    assert "notebook_env" not in "\n".join(c.source for c in notebook.cells)


def test_a_stand_in_finding_no_clustering_says_so_and_shows_an_assumed_design_effect(result):
    # The synthetic county draws ethnicity per child: the same-day stand-in finds no clustering,
    # and that stand-in errs low, so the page says so and shows the interval at a design effect
    # of 2 rather than claiming siblings were allowed for.
    deff = _finding(result, "sibling_design_effect", "grouping=plan_start_day;attribute=ethnicity",
                    "synthetic")
    assert deff["value"] == 1 and deff["note"].startswith("measured on children whose plans "
                                                          "started in 2016-17")
    text = result.sections[eth.SECTIONS.index(eth.relative_rates)].paragraphs[0]
    assert "found no clustering in ethnicity" in text and "widened by it" not in text
    measured = _finding(result, "ethnicity_relative_rate", f"{PLAN};ethnicity=white_irish",
                        "synthetic")
    assumed = _finding(result, "ethnicity_relative_rate",
                       f"{PLAN};ethnicity=white_irish;design_effect=assumed_2", "synthetic")
    assert assumed["value"] == measured["value"]
    assert assumed["lower_95"] < measured["lower_95"] and assumed["upper_95"] > measured["upper_95"]
    # On the log scale the half-width grows by sqrt(2).
    ratio = (pd.Series([assumed["upper_95"], assumed["lower_95"]]).map(float).pipe(np.log).diff()
             / pd.Series([measured["upper_95"], measured["lower_95"]]).map(float).pipe(np.log)
             .diff())
    assert ratio.iloc[1] == pytest.approx(2 ** 0.5, rel=1e-6)
    assert "Were the design effect 2, the 95% interval of White Irish" in text


@pytest.mark.parametrize("measure, breakdown", [
    ("ethnicity_rate_per_10k_max", "ethnicity=not_printed"),
    ("cp_by_ethnicity_share_of_known_pct", "ethnicity=white_british;bound=lower"),
    ("cp_by_ethnicity_share_of_known_pct", "ethnicity=white_british;bound=upper"),
])
def test_a_bound_carries_no_interval_and_says_why(result, measure, breakdown):
    row = _finding(result, measure, breakdown, "derived")
    assert pd.isna(row["lower_95"]) and pd.isna(row["upper_95"])
    assert row["note"].startswith("No interval: a bound under an assumption")


def test_every_interval_column_of_the_rates_table_is_widened():
    from cpstats.stats.disproportionality import widen

    # Relative rate 2 with score and log Wald intervals 1 to 4: with a design effect of 4 both
    # become 0.5 to 8 (the table shows them side by side, so neither may stay narrow).
    table = pd.DataFrame({"rate_per_10k": [10.0], "rate_lower": [5.0], "rate_upper": [20.0],
                          "rr_vs_reference": [2.0], "rr_lower": [1.0], "rr_upper": [4.0],
                          "rr_wald_lower": [1.0], "rr_wald_upper": [4.0]})
    wide = widen(table, 4, eth.WIDENED).iloc[0]
    assert (wide["rr_lower"], wide["rr_upper"]) == (0.5, 8.0)
    assert (wide["rr_wald_lower"], wide["rr_wald_upper"]) == (0.5, 8.0)
    assert (wide["rate_lower"], wide["rate_upper"]) == (2.5, 40.0)
