"""Population readers: ONS mid-year estimates, Census 2011 DC2101EW, school census ethnicity."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from cpstats import geography
from cpstats.checks import check_file
from cpstats.errors import InputError, ParameterError
from cpstats.facts import select
from cpstats.io import population as P


@pytest.fixture(scope="module")
def ons_file(shared_data: Path) -> Path:
    return shared_data / "ons" / P.ONS_FILE_NAME


@pytest.fixture(scope="module")
def ons(ons_file: Path) -> pd.DataFrame:
    return P.read_ons_population(ons_file)


@pytest.fixture(scope="module")
def census_dir(shared_data: Path) -> Path:
    return shared_data / "census"


@pytest.fixture(scope="module")
def school_file(shared_data: Path) -> Path:
    return shared_data / "dfe" / "school_census" / P.SCHOOL_CENSUS_FILE


# ---- ONS mid-year estimates


def test_report_population_is_the_time_period_2016_row(ons_file):
    row = P.child_population("825", "2015-16", path=ons_file)
    assert row["value"].item() == 120_643  # "the 2015 mid-year estimate" the report names
    assert "time_period 2016 row" in row["note"].item()


def test_pairing_rule_reporting_year_2016_17_uses_time_period_2017(ons_file):
    row = P.child_population("Buckinghamshire", 2017, path=ons_file)
    assert row["period"].item() == "2016-17"
    assert "time_period 2017 row (mid-2016)" in row["note"].item()


def test_buckinghamshire_joins_across_its_two_gss_codes(ons_file):
    series = P.child_population("825", None, path=ons_file)
    # E10000002 up to time_period 2019, E06000060 from 2020: one unbroken series under 825
    assert series["period"].tolist() == [f"{y - 1}-{y % 100:02d}" for y in range(2012, 2025)]
    assert series["value"].notna().all()
    by_old = P.child_population("E10000002", 2019, path=ons_file)["value"].item()
    by_new = P.child_population("E06000060", 2019, path=ons_file)["value"].item()
    assert by_old == by_new


def test_suppressed_dorset_bournemouth_poole_keep_marker_x(ons):
    early = select(ons, geography_code=["835", "836", "837"])
    assert len(early) == 21 and early["value"].isna().all() and (early["marker"] == "x").all()
    assert select(ons, geography_code=["838", "839"])["value"].notna().all()


@pytest.mark.parametrize("period", ["2015-16", "2016-17", "2020-21"])
def test_regions_sum_to_england_and_south_east_las_to_the_region(ons, period):
    year = select(ons, period=period)
    england = select(year, geography_level="national")["value"].item()
    regions = year[(year["geography_level"] == "regional") & year["geography_code"].str.startswith("E12")]
    assert regions["value"].sum() == england
    las = geography.all_las()
    south_east = las.loc[las["region_code"] == "E12000008", "old_la_code"].unique().tolist()
    assert select(year, geography_code=south_east)["value"].sum() == \
        select(year, geography_code="E12000008")["value"].item()


def test_unknown_area_and_year_are_parameter_errors(ons_file):
    with pytest.raises(ParameterError, match="--la"):
        P.child_population("Atlantis", 2017, path=ons_file)
    with pytest.raises(ParameterError, match="2011-12 to 2023-24"):
        P.child_population("825", 2030, path=ons_file)


# ---- Census 2011 DC2101EW


def test_buckinghamshire_children_0_17_in_2011(census_dir):
    table = P.census2011_children_by_ethnicity("825", census_dir)
    assert table.attrs["total"] == 115_545
    assert table["children"].sum() == 115_545  # the 18 groups exhaust the total
    assert table.attrs["districts"] == ["E07000004", "E07000005", "E07000006", "E07000007"]
    assert len(table) == 18 and table["census_group_id"].is_unique


def test_regions_from_their_own_file_sum_to_england(census_dir):
    regions = sorted(geography.all_las()["region_code"].unique())
    total = sum(P.census2011_children_by_ethnicity(r, census_dir).attrs["total"] for r in regions)
    assert total == P.census2011_children_by_ethnicity("England", census_dir).attrs["total"]


def test_the_152_las_of_2016_17_sum_to_england(census_dir):
    las = geography.current_las(2017)
    assert len(las) == 152
    total = sum(P.census2011_children_by_ethnicity(la, census_dir).attrs["total"] for la in las)
    assert total == P.census2011_children_by_ethnicity("E92000001", census_dir).attrs["total"]


@pytest.mark.parametrize(("old", "new"), [(["909"], ["942", "943"]),
                                          (["835", "836", "837"], ["838", "839"]),
                                          (["928"], ["940", "941"])])
def test_reorganised_las_cover_the_same_2011_children(census_dir, old, new):
    def total(codes):
        return sum(P.census2011_children_by_ethnicity(c, census_dir).attrs["total"] for c in codes)
    assert total(old) == total(new)


def test_census_by_group_merges_arab_into_other(census_dir):
    table = P.census2011_children_by_ethnicity("825", census_dir).set_index("census_group_id")
    groups = P.census2011_children_by_group("825", census_dir)
    assert len(groups) == 17
    assert groups["other"] == table.loc["other_arab", "children"] + table.loc["other_any_other", "children"]


def test_census_facts_carry_total_and_18_groups(census_dir):
    facts = P.read_census2011_children(["825", "E12000008"], census_dir)
    bucks = select(facts, geography_code="825")
    assert len(bucks) == 19 and (bucks["period"] == "2011-03-27").all()
    assert select(bucks, breakdown="total")["value"].item() == 115_545
    assert bucks.loc[bucks["breakdown"] != "total", "value"].sum() == 115_545


# ---- School census


def test_school_census_shares_for_buckinghamshire_2016_17(school_file):
    shares = P.school_census_ethnicity_shares("825", "2016-17", path=school_file)
    assert shares["period"].unique().tolist() == ["2017-01"]
    assert shares["pupils"].sum() == shares.attrs["total"]  # 18 groups + unclassified = total
    assert shares["share_pct"].sum() == pytest.approx(100)
    assert shares["share_known_pct"].sum() == pytest.approx(100)
    # the file's own published percentage for White British, January 2017
    raw = pd.read_csv(school_file, dtype=str, encoding="utf-8-sig", usecols=[
        "old_la_code", "time_period", "phase_type_grouping", "language", "ethnicity", "percent_of_pupils"])
    published = raw[(raw["old_la_code"] == "825") & (raw["time_period"] == "201617")
                    & (raw["phase_type_grouping"] == "Total") & (raw["language"] == "Total")
                    & (raw["ethnicity"] == "White - White British")]["percent_of_pupils"].astype(float)
    wbri = shares.set_index("ethnicity").loc["WBRI", "share_pct"]
    assert wbri == pytest.approx(published.item(), abs=1e-6)


def test_school_census_series_break_is_labelled(school_file):
    before = P.school_census_ethnicity_shares("England", 2017, path=school_file)
    after = P.school_census_ethnicity_shares("England", 2018, path=school_file)
    assert before["series"].unique().tolist() == ["series to 2016/17"]
    assert after["series"].unique().tolist() == ["series from 2017/18"]
    assert after.attrs["total"] > 1.1 * before.attrs["total"]  # the jump the break makes


def test_school_census_keys_buckinghamshire_on_825(school_file):
    facts = P.read_school_census_ethnicity(school_file)
    assert "E10000002" not in set(facts["geography_code"])
    assert len(select(facts, geography_code="825", breakdown="total")) == 7


# ---- bad input


def _ons_text(ons_file: Path) -> list[str]:
    return ons_file.read_text(encoding="utf-8-sig").splitlines()


def _write(tmp_path: Path, lines: list[str], name: str = "pop.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ons_renamed_column(tmp_path, ons_file):
    lines = _ons_text(ons_file)
    lines[0] = lines[0].replace("population_estimate", "Population")
    with pytest.raises(InputError, match="row 1, column 'population_estimate'"):
        P.read_ons_population(_write(tmp_path, lines))


def test_ons_non_numeric_value_that_is_no_marker(tmp_path, ons_file):
    lines = _ons_text(ons_file)
    lines[4] = lines[4].rsplit(",", 1)[0] + ",12O4"
    with pytest.raises(InputError, match="row 5, column 'population_estimate': found '12O4'"):
        P.read_ons_population(_write(tmp_path, lines))


def test_ons_unknown_la(tmp_path, ons_file):
    lines = _ons_text(ons_file)
    index = next(i for i, line in enumerate(lines) if ",825," in line)
    lines[index] = lines[index].replace(",825,", ",999,")
    with pytest.raises(InputError, match=f"row {index + 1}, column 'old_la_code': found '999'"):
        P.read_ons_population(_write(tmp_path, lines))


def test_ons_empty_and_truncated_files(tmp_path, ons_file):
    with pytest.raises(InputError, match="empty"):
        P.read_ons_population(_write(tmp_path, [], "empty.csv"))
    lines = _ons_text(ons_file)
    with pytest.raises(InputError, match="row 11.*truncated"):  # last row cut mid-way
        P.read_ons_population(_write(tmp_path, [*lines[:10], lines[10][:30]], "cut.csv"))


def test_truncated_gzip(tmp_path, school_file):
    data = school_file.read_bytes()
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="cut.csv.gz"):
        P.read_school_census_ethnicity(path)


def test_dc2101ew_non_integer_count(tmp_path, census_dir):
    source = (census_dir / "census2011_dc2101ew_regions.csv").read_text(encoding="utf-8-sig").splitlines()
    fields = source[2].split(",")
    fields[40] = '"n/a"'
    path = _write(tmp_path, [source[0], source[1], ",".join(fields)], "dc.csv")
    with pytest.raises(InputError, match="row 3, column 'Sex: All persons; Age: Age 0 to 4"):
        P.read_dc2101ew_children(path)


def test_checker_recognises_and_passes_the_published_files(ons_file, census_dir, school_file, tmp_path):
    expected = {ons_file: "ons_population", school_file: "school_census_ethnicity",
                census_dir / "census2011_dc2101ew_localAuthorities.csv": "census2011_dc2101ew",
                census_dir / P.LAD_COUNTY_LOOKUP: "lad18_county_lookup",
                school_file.parent / "spc_pupils_ethnicity_and_language_meta.csv": "dfe_metadata"}
    for path, name in expected.items():
        report = check_file(path)
        assert (report.checker.name, report.problems) == (name, [])
        assert P.check_population_file(path) == [] or name in ("lad18_county_lookup", "dfe_metadata")
    other = _write(tmp_path, ["a,b", "1,2"], "other.csv")
    assert "ONS population" in P.check_population_file(other)[0].expected
    gz = tmp_path / "small.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write("a,b\n1,2\n")
    assert not P.is_school_census_ethnicity_file(gz)
