"""DfE Characteristics of children in need reader, against the published 2022 release."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import pytest

from cpstats.codes import ETHNIC_GROUP_OF
from cpstats.errors import InputError
from cpstats.facts import select, value_of
from cpstats.io import dfe

BUCKS = "825"
ENGLAND = "E92000001"
D1 = "d1_child_protection_plans_2013_to_2022.csv"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2022.csv"
D3 = "d3_cpps_subsequent_plan_2013_to_2022.csv"


@pytest.fixture(scope="module")
def release(cin_2022):
    started = time.perf_counter()
    facts = dfe.read_release(cin_2022)
    facts.attrs["seconds"] = time.perf_counter() - started
    return facts


def total(facts, code, measure, period, source="dfe"):
    return value_of(facts, geography_code=code, measure=measure, period=period,
                    breakdown="total", source=source)


def test_buckinghamshire_2016_17_published(release):
    assert total(release, BUCKS, "cp_plans_at_31_march", "2016-17") == 553
    assert total(release, BUCKS, "cp_rate_per_10k", "2016-17") == 45.2
    assert total(release, BUCKS, "referrals", "2016-17") == 9204
    assert total(release, BUCKS, "s47_enquiries", "2016-17") == 2576
    assert total(release, BUCKS, "icpcs", "2016-17") == 866


def test_england_2015_16_rate_and_names(release):
    assert total(release, ENGLAND, "cp_rate_per_10k", "2015-16") == 43.1
    row = select(release, geography_code=BUCKS, measure="cp_plans_at_31_march", period="2016-17")
    assert row["geography_name"].iloc[0] == "Buckinghamshire"
    assert row["geography_level"].iloc[0] == "local_authority"
    south_east = select(release, geography_code="E12000008", measure="cp_plans_at_31_march",
                        period="2016-17", breakdown="total")
    assert south_east["geography_level"].tolist() == ["regional"]


def test_icpc_within_15_working_days_derived(release):
    bucks = total(release, BUCKS, "icpc_within_15_working_days_pct", "2016-17", source="derived")
    england = total(release, ENGLAND, "icpc_within_15_working_days_pct", "2016-17", "derived")
    assert round(bucks, 1) == 69.6
    assert round(england, 1) == 77.3


def test_suppressed_cells_stay_missing_with_marker(release):
    # West Sussex 2012-13, plans of 1-2 years at 31 March: published as "c"
    cell = select(release, geography_code="938", measure="cp_by_duration", period="2012-13",
                  breakdown="duration=1_to_2_years")
    assert len(cell) == 1
    assert math.isnan(cell["value"].iloc[0]) and cell["marker"].iloc[0] == "c"
    markers = release.loc[release["value"].isna(), "marker"]
    assert markers.notna().all() and "c" in set(markers)
    assert (release.loc[release["value"].notna(), "marker"].isna()).all()


def test_buckinghamshire_joins_across_gss_codes(release, cin_2022):
    """d3 says E10000002 up to 2019-20 and E06000060 after; d1 says E06000060 throughout."""
    text = (cin_2022 / D3).read_text(encoding="utf-8-sig")
    assert ",825,E10000002," in text and ",825,E06000060," in text
    repeat = select(release, geography_code=BUCKS, measure="cp_second_or_subsequent_pct")
    assert len(repeat) == 10  # 2012-13 to 2021-22, one series
    assert set(repeat["period"]) >= {"2016-17", "2021-22"}
    assert not select(release, geography_code="E10000002").shape[0]


def test_contract_measures_and_breakdowns(release):
    neglect = value_of(release, geography_code=BUCKS, measure="cp_by_category",
                       period="2016-17", breakdown="category=neglect")
    categories = select(release, geography_code=BUCKS, measure="cp_by_category", period="2016-17")
    assert len(categories) == 5 and neglect == categories["value"].max()
    durations = select(release, geography_code=BUCKS, measure="cp_by_duration", period="2016-17")
    # the two longest bands are suppressed ("c"): the published three sum to 473 of 553, so
    # "c" can hide more than 5 children (secondary suppression), never count it as 0-5
    suppressed = durations.loc[durations["marker"] == "c", "breakdown"]
    assert set(suppressed) == {"duration=1_to_2_years", "duration=2_years_or_more"}
    assert durations["value"].sum() == 203 + 142 + 128
    months = select(release, geography_code=BUCKS, measure="referrals_by_month")
    assert {"2016-04", "2017-03"} <= set(months["period"])
    assert months[months["period"].between("2016-04", "2017-03")]["value"].sum() == 9204
    bands = select(release, geography_code=BUCKS, measure="icpc_duration_days", period="2016-17")
    assert set(bands["breakdown"]) == {"band=0_10", "band=11_15", "band=16_20", "band=21_plus"}
    for measure in ("cp_plans_started", "cp_plans_ended", "cp_reviews_in_timescale_pct",
                    "cp_second_or_subsequent_pct"):
        assert not math.isnan(total(release, BUCKS, measure, "2016-17"))


def test_one_fact_per_key_and_fast(release):
    key = ["geography_level", "geography_code", "period", "measure", "breakdown", "source"]
    assert not release.duplicated(key).any()
    assert release.attrs["seconds"] < 15  # a few seconds on a quiet machine


def test_a1_a2_told_apart_by_category_not_name(cin_2022, tmp_path):
    a1 = dfe.recognise(cin_2022 / "a1.csv")
    a2 = dfe.recognise(cin_2022 / "a2_section47_icpc_cpp_2013_to_2022.csv")
    assert (a1.name, a2.name) == ("a1", "a2")
    misnamed = tmp_path / "a1.csv"
    shutil.copy(cin_2022 / "a2_section47_icpc_cpp_2013_to_2022.csv", misnamed)
    assert dfe.recognise(misnamed).name == "a2"
    facts = dfe.read_table(misnamed)
    assert total(facts, ENGLAND, "icpcs", "2016-17") == 76930


def test_every_release_file_recognised(cin_2022):
    names = sorted(dfe.recognise(p).name for p in cin_2022.glob("*.csv"))
    assert names == sorted(t.name for t in dfe.TABLES)


def test_renamed_columns_of_other_releases_read(cin_2022, tmp_path):
    text = (cin_2022 / C1).read_text(encoding="utf-8-sig")
    header, body = text.split("\n", 1)
    renamed = header.replace(",Category,", ",category,").replace(",Referrals,", ",referral_count,")
    assert renamed != header
    path = tmp_path / "other_release.csv"
    path.write_text(renamed + "\n" + body, encoding="utf-8")
    facts = dfe.read_table(path)
    assert total(facts, BUCKS, "referrals", "2016-17") == 9204


# --- bad input: each a clear InputError naming file, row, column and value ------------------


def _edit(source: Path, target: Path, old: str, new: str, count: int = 1) -> Path:
    text = source.read_text(encoding="utf-8-sig")
    assert old in text
    target.write_text(text.replace(old, new, count), encoding="utf-8")
    return target


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputError, match=r"empty\.csv.*empty"):
        dfe.read_table(path)


def test_truncated_file(cin_2022, tmp_path):
    data = (cin_2022 / D1).read_bytes()
    path = tmp_path / "truncated.csv"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"truncated\.csv, row \d+.*fields like the header"):
        dfe.read_table(path)


def test_renamed_required_column(cin_2022, tmp_path):
    path = _edit(cin_2022 / D1, tmp_path / "renamed.csv", ",CPP_At31,", ",CPP_on_31_Mar,")
    with pytest.raises(InputError) as caught:
        dfe.read_table(path)
    message = str(caught.value)
    assert "renamed.csv" in message and "CPP_At31" in message and "d1" in message
    assert "CPP_on_31_Mar" in message


def test_value_neither_number_nor_marker(cin_2022, tmp_path):
    path = _edit(cin_2022 / D1, tmp_path / "bad_value.csv",
                 "Child Protection Plans,64390,", "Child Protection Plans,64390x,")
    with pytest.raises(InputError) as caught:
        dfe.read_table(path)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (2, "CPP_start", "64390x")
    path = _edit(cin_2022 / D1, tmp_path / "bad_marker.csv",
                 "Child Protection Plans,64390,", "Child Protection Plans,n/a,")
    with pytest.raises(InputError, match=r"bad_marker\.csv, row 2, column 'CPP_start'.*'n/a'"):
        dfe.read_table(path)


def test_unknown_la_code(cin_2022, tmp_path):
    path = _edit(cin_2022 / D1, tmp_path / "unknown_la.csv", ",825,E06000060,", ",999,E06000999,")
    with pytest.raises(InputError, match=r"unknown_la\.csv, row \d+, column 'old_la_code'.*'999'"):
        dfe.read_table(path)


def test_gss_code_of_another_la(cin_2022, tmp_path):
    path = _edit(cin_2022 / D1, tmp_path / "mismatch.csv", ",825,E06000060,", ",825,E10000009,")
    with pytest.raises(InputError, match=r"new_la_code.*E10000009.*LA 825"):
        dfe.read_table(path)


def test_unrecognised_file(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"other\.csv.*Characteristics of children in need"):
        dfe.read_table(path)


def test_region_and_country_codes_checked(cin_2022, tmp_path):
    path = _edit(cin_2022 / D1, tmp_path / "region.csv", "Regional,E92000001,England,E12000008,",
                 "Regional,E92000001,England,South East,")
    with pytest.raises(InputError, match=r"region\.csv, row \d+, column 'region_code'"):
        dfe.read_table(path)
    path = _edit(cin_2022 / D1, tmp_path / "wales.csv", "National,E92000001,England,",
                 "National,W92000004,Wales,")
    with pytest.raises(InputError, match=r"column 'country_code': found 'W92000004'"):
        dfe.read_table(path)


def test_chinese_counted_under_asian_in_dfe_tables(release):
    """DfE's CIN tables put Chinese in the Asian group, and so does codes.ETHNIC_GROUP_OF."""
    assert ETHNIC_GROUP_OF["CHNE"] == "Asian or Asian British"
    england = {"geography_code": ENGLAND, "period": "2021-22"}
    detailed = select(release, measure="cin_by_ethnicity", **england).set_index("breakdown")["value"]
    asian = value_of(release, measure="cin_by_ethnic_group",
                     breakdown="ethnic_group=Asian or Asian British", **england)
    parts = ["AIND", "APKN", "ABAN", "CHNE", "AOTH"]
    assert asian == sum(detailed[f"ethnicity={c}"] for c in parts) == 31230
    groups = select(release, measure="cin_by_ethnic_group", **england)
    groups = groups[~groups["breakdown"].str.contains(";")].set_index("breakdown")  # no gender/age
    five = groups.drop(index="ethnic_group=known")["value"].sum()
    assert five == groups.loc["ethnic_group=known", "value"] == 389050


def test_release_folder_with_a_table_twice(cin_2022, tmp_path):
    for name in (D1, D3):
        shutil.copy(cin_2022 / name, tmp_path / name)
    shutil.copy(cin_2022 / D1, tmp_path / "d1_copy.csv")
    (tmp_path / "d1.meta.csv").write_text("col_name,col_type,label\n")  # skipped: metadata
    with pytest.raises(InputError, match=r"d1_copy\.csv.*table d1 is also in"):
        dfe.read_release(tmp_path)
    (tmp_path / "d1_copy.csv").unlink()
    facts = dfe.read_release(tmp_path)
    assert total(facts, BUCKS, "cp_second_or_subsequent_pct", "2016-17") > 0


def test_academic_year_time_period_and_bad_years(cin_2022, tmp_path):
    path = _edit(cin_2022 / D3, tmp_path / "academic.csv", "\n2017,", "\n201617,", count=-1)
    facts = dfe.read_table(path)
    assert total(facts, BUCKS, "cp_second_or_subsequent_pct", "2016-17") > 0
    path = _edit(cin_2022 / D3, tmp_path / "bad_year.csv", "\n2017,", "\n201618,")
    with pytest.raises(InputError, match=r"column 'time_period': found '201618'"):
        dfe.read_table(path)
