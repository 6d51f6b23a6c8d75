"""Stitching five real-shaped returns of the default synthetic county into one history.

Each return holds only its year (as a council's does), so an episode, plan or assessment
running across 31 March is in two returns and must come back once, with its latest values;
a child referred again in a later year is the same child. The county's own records are the
truth the stitched history is compared with. The same returns pass cpstats' implementation
of DfE's validation rules.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from cpstats import measures, rules, synth
from cpstats.childlevel import TABLES
from cpstats.io.cin_census import read_cin_census, read_returns
from cpstats.io.cin_census_writer import held_by_returns, write_returns

YEARS = [f"{y - 1}-{y % 100:02d}" for y in range(2013, 2018)]
#: Review timeliness in the first year needs each plan's review before it, which no
#: return holds (it is before the first return's year); every other figure is exact.
FIRST_YEAR_ONLY_HISTORY = {"cp_reviews_in_timescale", "cp_reviews_in_timescale_pct",
                           "review_conferences_in_timescale",
                           "review_conferences_in_timescale_pct"}


@pytest.fixture(scope="module")
def county() -> synth.SyntheticCounty:
    return synth.generate()


@pytest.fixture(scope="module")
def returns(county: synth.SyntheticCounty, tmp_path_factory: pytest.TempPathFactory
            ) -> list[Path]:
    return write_returns(county.data, tmp_path_factory.mktemp("county"), county.years,
                         la_child_ids=county.la_child_ids, upns=county.upns)


@pytest.fixture(scope="module")
def stitched(returns: list[Path]):
    return read_returns(returns, source="synthetic")


def test_five_returns_stitch_into_the_records_they_hold(county, stitched) -> None:
    assert stitched.summary.children_rejected == 0 and not stitched.summary.problems
    held = held_by_returns(county.data, county.years)
    for name in TABLES:
        keys = list(held.table(name).columns)
        pd.testing.assert_frame_equal(
            held.table(name).sort_values(keys).reset_index(drop=True),
            stitched.table(name).sort_values(keys).reset_index(drop=True), obj=name)


def test_plans_open_at_each_31_march_are_the_generators(county, stitched) -> None:
    def at_31_march(data) -> list[float]:
        return [float(measures.snapshot_facts(data, year).query(
            "measure == 'cp_plans_at_31_march' and breakdown == 'total'")["value"].iloc[0])
            for year in YEARS]

    assert at_31_march(stitched) == at_31_march(county.data) == [190, 242, 333, 450, 564]


@pytest.mark.parametrize("year", YEARS)
def test_multi_year_measures_equal_the_generators(county, stitched, year: str) -> None:
    mine = measures.period_facts(county.data, year)
    back = measures.period_facts(stitched, year)
    keys = [c for c in mine.columns if c != "value"]
    both = mine.merge(back, on=keys, how="outer", suffixes=("_county", "_returns"),
                      indicator=True)
    assert (both["_merge"] == "both").all()
    if year == YEARS[0] or _open_since_before_the_returns(county, year):
        both = both[~both["measure"].isin(FIRST_YEAR_ONLY_HISTORY)]
    differs = both[both["value_county"].ne(both["value_returns"])
                   & both[["value_county", "value_returns"]].notna().any(axis=1)]
    assert differs.empty, differs[["measure", "breakdown", "value_county", "value_returns"]]


def _open_since_before_the_returns(county: synth.SyntheticCounty, year: str) -> bool:
    """A plan open at the year's end began before the first return's year, so its earlier
    reviews are in no return (siblings share a plan's dates, so a long plan comes in groups)."""
    plans = county.data.cp_plans
    first = pd.Timestamp(f"{county.years[0] - 1}-04-01")
    open_then = measures.open_at(plans, pd.Timestamp(f"{int(year[:4]) + 1}-03-31"))
    return bool((plans.loc[open_then, "start_date"] < first).any())


def _children_in(path: Path) -> set[str]:
    return {e.text for e in etree.parse(str(path)).getroot().iter("LAchildID")}


def test_a_plan_across_31_march_is_in_two_returns_and_counted_once(county, returns,
                                                                   stitched) -> None:
    plans = county.data.cp_plans
    spans = plans[(plans["start_date"] < "2016-03-01") & (plans["end_date"] > "2016-05-01")
                  & (plans["end_date"] <= "2017-03-31")]
    plan = spans.iloc[0]
    raw = county.la_child_ids[plan["child_id"]]
    assert raw in _children_in(returns[3]) and raw in _children_in(returns[4])
    back = stitched.cp_plans[(stitched.cp_plans["child_id"] == plan["child_id"])
                             & (stitched.cp_plans["start_date"] == plan["start_date"])]
    assert len(back) == 1 and back["end_date"].iloc[0] == plan["end_date"]


def test_a_child_referred_again_in_a_later_year_is_one_child(county, returns, stitched) -> None:
    ref = county.data.referrals
    closed_2014 = ref[ref["closure_date"].between("2013-04-01", "2014-03-31")]
    again = ref[ref["referral_date"] >= "2015-04-01"]
    child = sorted(set(closed_2014["child_id"]) & set(again["child_id"]))[0]
    raw = county.la_child_ids[child]
    seen = [raw in _children_in(path) for path in returns]
    assert seen[1] and any(seen[3:])  # returns at least a year apart
    assert len(stitched.referrals[stitched.referrals["child_id"] == child]) == len(
        ref[ref["child_id"] == child])


def test_every_return_passes_the_dfe_rules(returns) -> None:
    for path in returns:
        data = read_cin_census(path, source="synthetic", keep_rejected=True)
        table = rules.run(rules.Census.of(data))
        assert len(table) == len(rules.rules_for(data.reference_date.year))
        failing = table[table["records"] > 0]
        assert failing.empty, (path.name, failing.to_string())


def test_later_years_pass_the_cin_plan_and_new_code_rules(tmp_path: Path) -> None:
    later = synth.generate(seed=5, years=(2021, 2023), scale=0.15)
    paths = write_returns(later.data, tmp_path, later.years, la_child_ids=later.la_child_ids,
                          upns=later.upns)
    for path in paths:
        data = read_cin_census(path, source="synthetic", keep_rejected=True)
        table = rules.run(rules.Census.of(data)).set_index("code")
        assert ("4016" in table.index) == (data.reference_date.year >= 2022)
        assert table["records"].sum() == 0, (path.name, table[table["records"] > 0])


def test_every_return_is_valid_against_its_years_schema(shared_data: Path, returns) -> None:
    from cpstats.cin_spec import spec

    xs = "{http://www.w3.org/2001/XMLSchema}"
    for path in returns:
        tree = etree.parse(str(shared_data / "cin_census" / "schemas"
                               / spec(int(path.stem[-4:])).schema))
        for element in tree.iter(f"{xs}element"):  # DfE allows 0 previous plans
            if element.get("name") == "NumberOfPreviousCPP":
                element.set("type", "xs:nonNegativeInteger")
        schema = etree.XMLSchema(tree)
        assert schema.validate(etree.parse(str(path))), (path.name, schema.error_log)
