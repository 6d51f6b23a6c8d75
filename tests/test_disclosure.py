"""Small-number suppression: counts 1-5 from child-level data never reach a reader, directly or
by subtraction from a total."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpstats.disclosure import shares, suppress_counts, suppress_facts, suppress_table, visible
from cpstats.facts import make_facts


def test_a_three_is_published_as_c_and_the_total_cannot_reveal_it():
    counts = pd.Series({"neglect": 40, "emotional_abuse": 30, "physical_abuse": 3,
                        "sexual_abuse": 12, "multiple": 0}, name="children")
    shown = suppress_counts(counts)
    assert shown["physical_abuse"] == "c"
    # The total (85) is public: with only one hidden cell, 85 - visible would give the 3 back.
    assert (shown == "c").sum() >= 2
    # The second cell is the smallest non-zero other cell, and the zero stays visible.
    assert shown["sexual_abuse"] == "c" and shown["multiple"] == 0
    assert shown["neglect"] == 40


def test_counts_from_1_to_5_are_hidden_but_0_and_6_are_not():
    shown = suppress_table(pd.DataFrame({"n": [0, 1, 5, 6, 100]}))
    assert shown["n"].tolist()[:4] == [0, "c", "c", 6]


def test_two_way_table_with_margins_hides_a_rectangle_not_a_cascade():
    table = pd.DataFrame({"male": [3, 40, 20], "female": [10, 12, 30]}, index=["a", "b", "c"])
    table.loc["Total"] = table.sum()
    table["Total"] = table.sum(axis=1)
    shown = suppress_table(table, total_row="Total", total_column="Total")
    hidden = shown == "c"
    assert hidden.loc["a", "male"]
    # No row or column (margins included) holds exactly one hidden cell.
    assert not (hidden.sum(axis=1) == 1).any()
    assert not (hidden.sum(axis=0) == 1).any()
    # Margins stay visible and the hiding stays small (one rectangle of four cells).
    assert hidden.to_numpy().sum() == 4
    assert not hidden["Total"].any() and not hidden.loc["Total"].any()


def test_facts_from_child_level_data_are_suppressed_and_published_ones_are_not():
    rows = [
        {"measure": "cp_by_category", "breakdown": f"category={c}", "value": v, "source": s}
        for s in ("synthetic", "dfe")
        for c, v in (("neglect", 50), ("emotional_abuse", 30), ("physical_abuse", 3),
                     ("sexual_abuse", 8))
    ]
    facts = make_facts(rows, geography_level="local_authority", geography_code="825",
                       geography_name="Buckinghamshire", period="2016-17", unit="count")
    out = suppress_facts(facts)
    synthetic = out[out["source"] == "synthetic"].set_index("breakdown")
    assert np.isnan(synthetic.loc["category=physical_abuse", "value"])
    assert synthetic.loc["category=physical_abuse", "marker"] == "c"
    # Secondary: the next smallest (8) is hidden too, so the total cannot give the 3 away.
    assert synthetic.loc["category=sexual_abuse", "marker"] == "c"
    assert synthetic.loc["category=neglect", "value"] == 50
    published = out[out["source"] == "dfe"].set_index("breakdown")
    assert published.loc["category=physical_abuse", "value"] == 3
    assert published["marker"].isna().all()


def test_charts_of_child_level_counts_never_plot_a_suppressed_cell():
    counts = pd.Series({"male": 300, "female": 260, "unknown": 2}, name="children")
    shown = suppress_counts(counts)
    plotted = visible(shown)
    assert np.isnan(plotted["unknown"]) and np.isnan(plotted["female"]) and plotted["male"] == 300
    share = shares(counts, child_level=True)
    assert np.isnan(share["unknown"])
    assert share["male"] == pytest.approx(300 / 562 * 100)
    # Published counts are not suppressed: their shares are all shown.
    assert shares(counts, child_level=False).notna().all()


def test_the_report_wide_mask_protects_a_month_across_its_quarter_year_and_breakdown():
    """One month of 3 ICPCs, printed by month, by quarter, in the year's total and by gender:
    each sum it is part of holds a second hidden count, and so does its breakdown."""
    from cpstats.disclosure import report_mask

    months = dict(zip(pd.period_range("2016-04", "2017-03", freq="M").strftime("%Y-%m"),
                      [3, 20, 14, 11, 15, 18, 12, 16, 19, 13, 17, 22], strict=True))
    quarters = {f"2016-17 Q{q}": sum(list(months.values())[3 * q - 3:3 * q]) for q in (1, 2, 3, 4)}
    rows = [{"period": p, "value": v, "breakdown": "total"}
            for p, v in {**months, **quarters, "2016-17": sum(months.values())}.items()]
    rows += [{"period": "2016-04", "value": v, "breakdown": f"gender={g}"}
             for g, v in (("female", 1), ("male", 2))]
    facts = make_facts(rows, measure="icpcs", geography_level="local_authority",
                       geography_code="825", geography_name="Buckinghamshire", unit="count",
                       source="cin_census")
    hidden = report_mask(facts).xs(("cin_census", "icpcs"))
    assert hidden[("2016-04", "total")] and hidden[("2016-04", "gender=male")]
    q1 = [(m, "total") for m in ("2016-04", "2016-05", "2016-06")]
    assert hidden[q1].sum() >= 2  # Q1 less the other two months
    year = [(m, "total") for m in months]
    assert hidden[year].sum() >= 2  # the year less the other months
    assert not hidden[("2016-17", "total")]  # 188 ICPCs: nothing to hide


def test_the_report_wide_mask_protects_a_lone_month_against_a_year_printed_nowhere():
    """A return whose records reach into 2014-15 only with 3 referrals in March 2015 (April 2014
    recorded as 0, the months between not at all) and print no 2014-15 figure: DfE publishes
    the year's count, so the missing months count as 0 and a second month of 2014-15 is hidden,
    or the year less the printed months would give March's 3 back."""
    from cpstats.disclosure import report_mask

    rows = [{"period": p, "value": v, "breakdown": "total"}
            for p, v in (("2014-04", 0), ("2015-03", 3), ("2015-04", 40), ("2015-05", 38))]
    facts = make_facts(rows, measure="referrals", geography_level="local_authority",
                       geography_code="825", geography_name="Buckinghamshire", unit="count",
                       source="cin_census")
    hidden = report_mask(facts).xs(("cin_census", "referrals", "total"),
                                   level=("source", "measure", "breakdown"))
    year = pd.period_range("2014-04", "2015-03", freq="M").strftime("%Y-%m")
    assert hidden.index.isin(year).sum() == 12  # the 10 months without records, as 0
    assert hidden["2015-03"] and hidden[year].sum() == 2
    assert not hidden[["2015-04", "2015-05"]].any()


def _counts(rows, measure, source="cin_census"):
    return make_facts(rows, measure=measure, geography_level="local_authority",
                      geography_code="825", geography_name="Buckinghamshire", unit="count",
                      source=source)


def test_the_report_wide_mask_keys_on_source_so_figures_of_two_sources_never_mix():
    """The same measure, year and breakdown from a CIN Census return (3) and an Annex A
    workbook (40): one decision each, not whichever comes first."""
    from cpstats.disclosure import report_mask

    rows = [{"period": "2016-17", "value": 3.0, "breakdown": "gender=male"},
            {"period": "2016-17", "value": 30.0, "breakdown": "gender=female"}]
    other = [{**row, "value": row["value"] + 37} for row in rows]
    hidden = report_mask(pd.concat([_counts(rows, "cp_by_gender"),
                                    _counts(other, "cp_by_gender", "annex_a")]))
    assert hidden[("cin_census", "cp_by_gender", "2016-17", "gender=male")]
    assert not hidden.xs("annex_a").any()


def test_shares_and_summed_bands_follow_the_mask_of_their_counts():
    """A share times its public total is its count; a harmonised age band printed beside a
    hidden DfE band would give it back by difference: both hide with the counts they rest on."""
    from cpstats.disclosure import figure_hidden, report_mask

    bands = {"unborn": 0, "under_1": 4, "1_4": 30, "5_9": 25, "10_15": 2, "16_plus": 9}
    rows = [{"period": "2016-17", "value": float(v), "breakdown": f"age_band={b}"}
            for b, v in bands.items()]
    facts = pd.concat([_counts(rows, "cp_by_age_band"),
                       _counts([{"period": "2016-17", "value": 70.0}], "cp_plans_at_31_march")])
    hidden = report_mask(facts)
    hides = lambda m, b: figure_hidden(hidden, "cin_census", m, "2016-17", b)  # noqa: E731
    assert hides("cp_by_age_band_harmonised", "age_band=0_4")  # under 1 (4) is in it
    assert hides("cp_by_age_band_harmonised_pct", "age_band=10_17")  # 10-15 (2) is in it
    assert not hides("cp_by_age_band_harmonised_pct", "age_band=5_9")
    assert not figure_hidden(hidden, "dfe", "cp_by_age_band", "2016-17", "age_band=under_1")


def test_a_two_way_breakdown_is_protected_along_both_keys_and_its_subtotals():
    """Children at two decision points by three groups, two of them of known ethnicity: a 2
    is hidden with a second count in its column (the point's total is printed), in its row,
    and among the children of known ethnicity (a public subtotal)."""
    from cpstats.disclosure import report_mask

    grid = {("referral", "a"): 2, ("referral", "b"): 40, ("referral", "z"): 30,
            ("s47", "a"): 12, ("s47", "b"): 20, ("s47", "z"): 18}
    rows = [{"period": "2016-17", "value": float(v),
             "breakdown": f"decision_point={p};ethnicity={g}"} for (p, g), v in grid.items()]
    rows += [{"period": "2016-17", "value": float(sum(v for (p, _), v in grid.items()
                                                      if p == point)),
              "breakdown": f"decision_point={point}"} for point in ("referral", "s47")]
    hidden = report_mask(_counts(rows, "children_at_decision_point"),
                         subtotals={"ethnicity": [("a", "b"), ("z",)]}).xs(
        ("cin_census", "children_at_decision_point", "2016-17"))
    cell = lambda p, g: hidden[f"decision_point={p};ethnicity={g}"]  # noqa: E731
    assert cell("referral", "a") and cell("referral", "b")  # column and known subtotal
    assert cell("s47", "a")  # the row of group a
    assert cell("s47", "b")  # and s47's known subtotal
