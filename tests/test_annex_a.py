"""Annex A reader, checks, coverage, measures, reconciliation and synthetic writer.

Expected values for the shared sample come from reading the workbook by hand
(``../shared/data/annex_a/liia_tools_Annex_A_sample.xlsx``); hand-built workbooks
carry their own expected values; the synthetic round trip compares the library's
measures on the county with the same measures on the workbook read back.
"""

from __future__ import annotations

import logging
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cpstats import annex_a_measures as am
from cpstats import checks, measures, synth
from cpstats.cli import main
from cpstats.errors import InputError, ParameterError
from cpstats.identifiers import hash_child_id
from cpstats.io import annex_a
from cpstats.io.annex_a import (
    check_annex_a,
    list_number,
    match_columns,
    parse_codes,
    parse_dates,
    read_annex_a,
)
from cpstats.io.annex_a_writer import annex_a_name, write_annex_a

SECRET = "cpstats-test-secret-0123456789"
EXTRACT = date(2017, 2, 15)


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    """Every test hashes with a test secret: nothing touches ~/.config."""
    monkeypatch.setenv("CPSTATS_SECRET", SECRET)


@pytest.fixture(scope="module")
def sample(shared_data: Path) -> Path:
    return shared_data / "annex_a" / "liia_tools_Annex_A_sample.xlsx"


@pytest.fixture(scope="module")
def county() -> synth.SyntheticCounty:
    return synth.generate(scale=0.3)


@pytest.fixture(scope="module")
def workbook(county, tmp_path_factory) -> Path:
    """The county's Annex A extracted mid-month (so the last month is partial)."""
    folder = tmp_path_factory.mktemp("annex_a")
    return write_annex_a(county.data, folder / annex_a_name(EXTRACT), EXTRACT,
                         la_child_ids=county.la_child_ids, seed=3)


@pytest.fixture(scope="module")
def read_back(workbook) -> annex_a.AnnexAData:
    return read_annex_a(workbook, la_code="825", source="synthetic")


def build(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook with the given sheets (first row: headers)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


L3 = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age", "Date of referral",
      "Referral Source", "Referral NFA?", "Allocated Team", "Allocated Worker"]
L5 = ["Child ID", "Sex", "Ethnicity", "DOB", "Age of Child (Years)",
      "Strategy discussion initiating Section 47 Enquiry Start Date",
      "Was an Initial Child Protection Conference deemed unnecessary?",
      "Date of Initial Child Protection Conference",
      "Did the Initial Child Protection Conference Result in a Child Protection Plan",
      "Allocated Worker"]
L7 = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age",
      "Child Protection Plan Start Date", "Initial Category of Abuse", "Latest Category of Abuse",
      "Date of latest review conference", "Child Protection Plan End Date",
      "Number of Previous Child Protection Plans", "Allocated Team", "Allocated Worker"]


@pytest.fixture
def small(tmp_path) -> Path:
    """A hand-made Annex A extracted on 31 March 2017, messy in every way the reader handles."""
    return build(tmp_path / "annex_a_2017-03-31.xlsx", {
        "List 3 Referrals": [L3,
                             [101, "a) Male", "a) WBRI", datetime(2010, 5, 17), 6,
                              datetime(2016, 11, 2), "q) 6: Police", "b) No", "Team A", "Ann Ash"],
                             [102, "F", "White British", "2012-07-09", 4, "14/12/2016",
                              "2A", "No", "Team A", "Bob Birch"],
                             [103, "Female", "MWBC", None, None, 42800, "5A", "Yes", "T", "C C"]],
        "L5 - S47": [L5,
                     [101, "M", "WBRI", None, 6, datetime(2016, 11, 3), "No",
                      datetime(2016, 11, 20), "a) Yes", "Ann Ash"],
                     [102, "b) Female", "WBRI", None, 4, "2016-12-15", "Yes", None, "", "Bob"]],
        "List_7": [L7,
                   # open, reviewed 2016-12-20: next due 2017-06-20 -> not overdue
                   [101, "Male", "WBRI", "2010-05-17", 6, datetime(2016, 11, 20),
                    "Neglect", "a) Emotional abuse", datetime(2016, 12, 20), None, 0, "T", "A"],
                   # open since 2016-10-01, never reviewed: due 2017-01-01 -> overdue
                   [104, "c) Not stated/recorded", "s) NOBT", "01/03/2015", 2, "01/10/2016",
                    "PHY", "PHY", None, None, "2", "T", "D D"],
                   # ended in the window
                   [105, "F", "k) APKN", datetime(2008, 1, 3), 9, datetime(2016, 5, 2),
                    "Sexual abuse", "SAB", datetime(2016, 8, 1), datetime(2017, 1, 9), 1, "T",
                    "E E"],
                   # unborn on 31 March 2017: expected in June
                   [106, "", "", datetime(2017, 6, 1), None, datetime(2017, 3, 1), "Neglect",
                    "Neglect", None, None, 0, "T", "F F"]],
    })


# ============================================================================= pieces
def test_list_numbers_from_sheet_names():
    assert [list_number(n) for n in ("List 7", "list_3 Referrals", "L5 - S47", "List 10",
                                     "Annex A List 6", "Lists", "Cover", "List 11")] == \
        [7, 3, 5, 10, 6, None, None, 11]


def test_headers_matched_by_meaning():
    found = match_columns(L5, 5)
    assert found == {"child_id": 0, "gender": 1, "ethnicity": 2, "birth": 3,
                     "s47_start_date": 5, "icpc_not_required": 6, "icpc_date": 7,
                     "icpc_outcome": 8}  # no age, no worker
    assert match_columns(["Person ID", "Referral Date", "Source of referral"], 3) == {
        "child_id": 0, "referral_date": 1, "referral_source": 2}
    assert "s47_start_date" not in match_columns(
        ["Child ID", "Number of Section 47 Enquiries in the last 12 months"], 5)
    assert "child_id" not in match_columns(["Family identifier"], 3)
    # free text is never taken for a coded column (its cells would be quoted in messages)
    assert match_columns(["Child ID", "Source of concern notes"], 3) == {"child_id": 0}
    assert match_columns(["Child ID", "Disability details", "Gender of worker"], 5) == {
        "child_id": 0}


def test_coded_answers_normalised():
    gender = pd.Series(["a) Male", "Male", "M", "b) Female", "F", "c) Not stated/recorded",
                        "Alien", None], dtype=object)
    assert parse_codes(gender, "gender").tolist() == [
        "male", "male", "male", "female", "female", "unknown", pd.NA, pd.NA]
    ethnic = pd.Series(["a) WBRI", "White British", "WBRI", "White - British",
                        "Mixed - White and Black Caribbean", "k) APKN", "s) NOBT", "Martian"])
    assert parse_codes(ethnic, "ethnicity").tolist() == [
        "WBRI", "WBRI", "WBRI", "WBRI", "MWBC", "APKN", "NOBT", pd.NA]
    category = pd.Series(["Physical abuse", "NEG", "a) Emotional abuse", "Neglect (NEG)",
                          "Multiple/not recommended", "Sexual abuse", "Other"])
    assert parse_codes(category, "category").tolist() == [
        "PHY", "NEG", "EMO", "NEG", "MUL", "SAB", pd.NA]
    source = pd.Series(["s) 8: Other", "j) 3D: Health services", "6", "1a", "99: Mars",
                        "Police", "HEALTH SERVICES - school nurse", "Schools", "Mars"])
    assert parse_codes(source, "source").tolist() == [
        "8", "3D", "6", "1A", pd.NA, "6", "3C", "2A", pd.NA]
    assert parse_codes(pd.Series(["Did not wish to disclose"]), "ethnicity").tolist() == ["REFU"]
    assert annex_a.not_known(pd.Series(["c) Unknown", "Not known", "No", None])).tolist() == [
        True, True, False, False]
    yes = pd.Series(["a) Yes", "b) No", "Y", "n", "", "maybe"], dtype=object)
    assert parse_codes(yes, "yesno").tolist() == [True, False, True, False, pd.NA, pd.NA]


def test_dates_in_every_form_and_the_bad_ones_flagged():
    raw = pd.Series([datetime(2017, 3, 31), 42825, 42825.75, "2017-03-31", "31/03/2017",
                     " 31/03/2017 ", None, "", "31/02/2017", "soon", "2017-13-01"], dtype=object)
    dates, bad = parse_dates(raw)
    good = pd.Timestamp(2017, 3, 31)
    assert dates.iloc[:6].tolist() == [good] * 6
    assert dates.iloc[6:].isna().all()
    assert bad.tolist() == [False] * 8 + [True] * 3


# ============================================================================= shared sample
@pytest.mark.shared_data
def test_check_recognises_the_shared_sample(sample, capsys):
    report = checks.check_file(sample)
    assert report.checker is not None and report.checker.name == "annex_a"
    assert report.problems == []
    assert main(["check", str(sample)]) == 0
    out = capsys.readouterr().out
    assert "Ofsted Annex A workbook" in out and "extract date 2021-03-15" in out


@pytest.mark.shared_data
def test_shared_sample_read_by_hand(sample):
    data = read_annex_a(sample, la_code="999", secret=SECRET)
    assert data.sheets == {1: "List 1", 3: "List 3", 5: "List 5", 6: "List 6", 7: "List 7"}
    assert data.extract_date == date(2021, 3, 15)  # List 6, last seen
    assert data.extract_date_from == "latest date in the lists"
    assert data.window_start == date(2020, 9, 16)
    assert data.warnings == []
    assert len(data.referrals) == 6 and (data.referrals["referral_date"] == "2020-09-16").all()
    assert sorted(data.referrals["referral_source"]) == ["2A", "3D", "6", "6", "6", "8"]
    plans = data.cp_plans.set_index("child_id")
    first = plans.loc[hash_child_id("10721552", "999", SECRET)]
    assert (first["start_date"], first["end_date"]) == (pd.Timestamp(2020, 11, 23),
                                                        pd.Timestamp(2021, 2, 16))
    assert first["initial_category"] == "PHY"
    assert sorted(data.cp_plans["previous_plans"].tolist()) == [0, 0, 0, 0, 0, 1, 1]
    assert data.cp_plans["end_date"].isna().sum() == 2
    assert sorted(data.s47s["icpc_not_required"].tolist()) == [False, False, False, True, True]
    assert data.icpc_outcomes["resulted_in_plan"].tolist() == [True, True, True]
    assert len(data.latest_reviews) == 5 and data.reviews.empty
    child = data.children.set_index("child_id").loc[hash_child_id("10721552", "999", SECRET)]
    assert child["birth_month"] == pd.Timestamp(2021, 1, 1)  # 4 January 2021, cut to the month
    assert (child["gender"], child["ethnicity"]) == ("female", "NOBT")


# ============================================================================= planted problems
def _plant(sample: Path, target: Path) -> Path:
    book = openpyxl.load_workbook(sample)
    del book["List 3"]  # a missing list
    book["List 7"]["G4"] = "31/02/2021"  # an unreadable date
    book["List 7"]["M2"] = datetime(2020, 11, 1)  # ends before its start (2020-11-23)
    book["List 5"]["I3"] = datetime(2020, 9, 10)  # ICPC before its s47 (2020-09-16)
    book.save(target)
    return target


@pytest.mark.shared_data
def test_planted_problems_each_named_by_sheet_row_and_column(sample, tmp_path, capsys):
    bad = _plant(sample, tmp_path / "annex_a_bad.xlsx")
    found = {(p.rule, p.sheet, p.row, (p.column or "")[:1]) for p in check_annex_a(bad)}
    assert found == {("missing-list", None, None, ""), ("bad-date", "List 7", 4, "G"),
                     ("ends-before-start", "List 7", 2, "M"),
                     ("icpc-before-s47", "List 5", 3, "I")}
    assert main(["check", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "List 3 (referrals)" in out
    assert "sheet 'List 7', row 4, column 'G: Child Protection Plan Start Date'" in out
    assert "found '31/02/2021'" in out
    assert "sheet 'List 7', row 2, column 'M: Child Protection Plan End Date'" in out
    assert "expected a date on or after the CP plan start date 2020-11-23" in out
    assert "sheet 'List 5', row 3, column 'I: Date of Initial Child Protection Conference'" in out
    assert "expected an ICPC on or after its section 47 start date 2020-09-16" in out
    with pytest.raises(InputError) as error:
        read_annex_a(bad)
    assert len(error.value.problems) == 4


def test_missing_column_and_header_row_below_a_title(small, tmp_path):
    book = openpyxl.load_workbook(small)
    sheet = book["List_7"]
    sheet.insert_rows(1, 2)
    sheet["A1"] = "Annex A List 7: children subject of a CP plan"  # a title above the header
    sheet["F3"] = "Plan notes"  # the start date header gone
    book.save(tmp_path / "annex_a_2017-03-31.xlsx")
    problems = check_annex_a(tmp_path / "annex_a_2017-03-31.xlsx")
    assert [(p.rule, p.sheet, p.row) for p in problems] == [("missing-column", "List_7", 3)]
    assert "the CP plan start date" in str(problems[0])


def test_not_an_annex_a_is_not_claimed(tmp_path):
    path = build(tmp_path / "other.xlsx", {"Sheet1": [["a", "b"], [1, 2]]})
    assert not annex_a.looks_like_annex_a(path)
    assert checks.check_file(path).checker is None


def test_bad_parameters_refused(small):
    with pytest.raises(ParameterError, match="extract_date"):
        read_annex_a(small, extract_date="soon")
    with pytest.raises(ParameterError, match="window_months"):
        read_annex_a(small, window_months=0)


def test_events_after_a_given_extract_date_refused(small):
    with pytest.raises(InputError, match="on or before the extract date 2017-01-31"):
        read_annex_a(small, extract_date="2017-01-31")


# ============================================================================= hand-made workbook
def test_small_workbook_read_by_hand(small):
    data = read_annex_a(small, la_code="825", secret=SECRET)
    assert data.extract_date == date(2017, 3, 31) and data.extract_date_from == "file name"
    assert data.window_start == date(2016, 10, 1)
    assert data.referrals["referral_date"].tolist() == [
        pd.Timestamp(2016, 11, 2), pd.Timestamp(2016, 12, 14), pd.Timestamp(2017, 3, 6)]
    assert data.referrals["nfa"].tolist() == [False, False, True]
    children = data.children.set_index("child_id")
    unborn = children.loc[hash_child_id("106", "825", SECRET)]
    assert pd.isna(unborn["birth_month"]) and unborn["expected_birth_month"] == pd.Timestamp(
        2017, 6, 1)
    assert children.loc[hash_child_id("104", "825", SECRET), "gender"] == "unknown"
    assert children.loc[hash_child_id("102", "825", SECRET), "ethnicity"] == "WBRI"
    # s47 of 101 belongs to its referral of 2 November; 102's to 14 December
    assert data.s47s["cin_id"].tolist() == ["2016-11-02", "2016-12-14"]
    assert data.icpc_outcomes["resulted_in_plan"].tolist() == [True]
    assert am.reviews_not_overdue(data) == (1, 2)  # 101 reviewed in time, 104 overdue
    snap = measures.snapshot_facts(data, "2017-03-31").set_index(["measure", "breakdown"])
    assert snap.loc[("cp_plans_at_date", "total"), "value"] == 3  # 105 ended in January
    assert snap.loc[("cp_by_age_band", "age_band=unborn"), "value"] == 1
    assert snap.loc[("cp_by_latest_category", "category=emotional_abuse"), "value"] == 1


def test_unknown_codes_are_warnings_and_the_read_goes_on(small, tmp_path):
    book = openpyxl.load_workbook(small)
    book["List 3 Referrals"]["B2"] = "Alien"
    path = tmp_path / "annex_a_2017-03-31.xlsx"
    book.save(path)
    data = read_annex_a(path, secret=SECRET)
    assert [(w.rule, w.severity, w.row, w.value) for w in data.warnings] == [
        ("unknown-code", "warning", 2, "Alien")]
    assert main(["check", str(path)]) == 2  # check lists warnings too


# ============================================================================= coverage
def test_coverage_supports_the_window_and_refuses_the_rest(small):
    cover = read_annex_a(small, secret=SECRET).coverage()
    assert cover.supports("cp_plans_started", "2016-17 Q3")
    assert cover.supports("cp_plans_at_date", "2016-09-30")
    assert not cover.supports("cp_plans_at_date", "2016-09-29")
    assert cover.supports("cp_by_latest_category", "2017-03-31")
    assert not cover.supports("cp_by_latest_category", "2017-02-28")
    assert not cover.supports("icpcs", "2016-17 Q3")  # an s47 before October may hold it
    assert cover.supports("icpcs", "2016-17 Q4")
    with pytest.raises(ParameterError, match="needs events from 2016-04-01 to 2017-03-31"):
        cover.require("cp_plans_ended_by_duration", "2016-17")
    with pytest.raises(ParameterError, match="only each plan's latest"):
        cover.require("cp_reviews_in_timescale_pct", "2017-03-31")
    assert [m.label for m in cover.months()] == [
        "2016-10", "2016-11", "2016-12", "2017-01", "2017-02", "2017-03"]


def test_window_facts_hold_only_what_is_supported(read_back):
    table = am.window_facts(read_back, "month")
    cover = read_back.coverage()
    assert all(cover.supports(m, p) for m, p in zip(table["measure"], table["period"],
                                                    strict=True))
    assert "cp_reviews_in_timescale_pct" not in set(table["measure"])
    months = sorted(set(table.loc[table["measure"] == "cp_plans_started", "period"]))
    assert months == ["2016-09", "2016-10", "2016-11", "2016-12", "2017-01"]  # to last month
    assert (table["source"] == "synthetic").all()


# ============================================================================= synthetic round trip
def test_synthetic_annex_a_reproduces_the_county(county, read_back):
    """Plans open at the extract date and starts in each whole quarter of the window: the
    library's measures on the county and on its Annex A read back agree exactly."""
    data = county.data
    assert read_back.extract_date == EXTRACT
    on_county = measures.snapshot_facts(data, EXTRACT)
    on_annex = measures.snapshot_facts(read_back, EXTRACT)
    key = ["measure", "breakdown"]
    both = on_county.merge(on_annex, on=key, suffixes=("_county", "_annex"))
    stock = both[both["measure"] == "cp_plans_at_date"]
    assert stock["value_annex"].iloc[0] == stock["value_county"].iloc[0] > 100
    quarters = read_back.coverage().quarters()
    assert [q.label for q in quarters] == ["2016-17 Q3"]
    months = read_back.coverage().months()
    for part in [*quarters, *months]:
        county_starts = measures.flow_facts(data, part).query("measure == 'cp_plans_started'")
        annex_starts = measures.flow_facts(read_back, part).query(
            "measure == 'cp_plans_started'")
        assert annex_starts["value"].iloc[0] == county_starts["value"].iloc[0], part.label
    # every other figure the window supports agrees too, breakdowns included
    ours = am.window_facts(read_back, "month")
    ours = ours[~ours["measure"].isin(["cp_reviews_not_overdue", "cp_reviews_not_overdue_pct",
                                       "cp_reviews_not_overdue_eligible",
                                       "icpcs_resulting_in_plan",
                                       "icpcs_resulting_in_plan_pct"])]
    theirs = pd.concat([measures.snapshot_facts(data, EXTRACT),
                        measures.series_facts(data, measures.Period(
                            "w", "date", months[0].start, months[-1].end), "month")])
    theirs = theirs.drop_duplicates(["measure", "period", "breakdown"])
    joined = ours.merge(theirs, on=["measure", "period", "breakdown"], how="left",
                        suffixes=("", "_county"), validate="one_to_one")
    same = (joined["value"] == joined["value_county"]) | (
        joined["value"].isna() & joined["value_county"].isna())
    assert same.all(), joined.loc[~same, ["measure", "period", "breakdown"]]


def test_reconcile_with_the_cin_census(county, read_back):
    table = am.reconcile(county.data, read_back, EXTRACT)
    assert (table["difference"] == 0).all()
    assert table.loc[table["measure"] == "cp_plans_at_date", "annex_a"].iloc[0] > 100
    assert "2016-17 Q3" in set(table["period"])
    # one plan missing from the Annex A shows as one child in the CIN Census only
    on = measures.open_at(read_back.cp_plans, pd.Timestamp(EXTRACT))
    dropped = read_back.cp_plans.index[on][0]
    fewer = annex_a.AnnexAData(**{**read_back.__dict__,
                                  "cp_plans": read_back.cp_plans.drop(index=dropped)})
    table = am.reconcile(county.data, fewer, EXTRACT).set_index("measure")
    assert table.loc["cp_plans_at_date", "difference"] == -1
    assert tuple(table.loc["children_on_plan_not_in_other_source", ["cin_census", "annex_a"]]) \
        == (1, 0)


def test_reconcile_refuses_other_las_and_days_outside_the_window(county, read_back):
    with pytest.raises(ParameterError, match="same LA code"):
        am.reconcile(county.data, annex_a.AnnexAData(**{**read_back.__dict__, "la_code": "826"}))
    with pytest.raises(ParameterError, match="plans open from 2016-08-15"):
        am.reconcile(county.data, read_back, date(2016, 3, 31))


def test_synthetic_workbook_is_messy(workbook):
    book = openpyxl.load_workbook(workbook, read_only=True)
    headers = {name: next(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    kinds = {type(v) for name in book.sheetnames
             for row in book[name].iter_rows(min_row=2, max_row=60, values_only=True)
             for v in row}
    book.close()
    assert {datetime, int, str} <= kinds
    assert any("Allocated Team" in h for h in headers.values())


# ============================================================================= privacy
def _staff_and_ids(workbook: Path) -> tuple[set[str], set[str]]:
    """Worker and team names, free text and raw child IDs as written in the workbook."""
    book = openpyxl.load_workbook(workbook, read_only=True)
    names, ids = set(), set()
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows)
        staff = [i for i, h in enumerate(header) if any(w in h.lower() for w in (
            "worker", "team", "notes", "comments"))]
        for row in rows:
            names |= {str(row[i]) for i in staff}
            ids.add(str(row[0]))
    book.close()
    return names, ids


def test_no_worker_team_or_child_id_in_any_output(workbook, read_back, county, tmp_path,
                                                  capsys, caplog):
    names, ids = _staff_and_ids(workbook)
    assert len(names) > 20 and len(ids) > 100
    caplog.set_level(logging.DEBUG)
    texts = []
    for name in ["children", "referrals", "s47s", "cp_plans", "latest_reviews",
                 "icpc_outcomes"]:
        frame = getattr(read_back, name)
        texts.append(frame.to_csv(index=False))
        texts.append(" ".join(map(str, frame.columns)))
    out = tmp_path / "out"
    out.mkdir()
    am.window_facts(read_back, "month").to_csv(out / "facts.csv", index=False)
    am.reconcile(county.data, read_back, EXTRACT).to_csv(out / "reconcile.csv", index=False)
    texts += [p.read_text() for p in out.iterdir()]
    bad = tmp_path / annex_a_name(EXTRACT)
    shutil.copy(workbook, bad)
    book = openpyxl.load_workbook(bad)
    for sheet in book.worksheets:  # problems on rows with worker names and IDs in them
        for row in (2, 3):
            sheet.cell(row=row, column=2, value="Alien")
    book.save(bad)
    assert main(["check", str(workbook), str(bad)]) == 2
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    assert "Alien" in captured.out  # the problems were reported...
    blob = "\n".join(texts)
    leaked = {n for n in names if n in blob}
    assert not leaked  # ...and no name, team or note went with them
    assert not {i for i in ids if i in blob}


def test_worker_columns_dropped_at_read(workbook):
    sheets, _ = annex_a._read_lists(workbook, "x")
    for sheet in sheets.values():
        kept = set(sheet.frame.columns) - {"row"}
        assert kept <= {f.name for f in annex_a.FIELDS[sheet.number]}
        assert not any("worker" in h.lower() or "team" in h.lower()
                       for h in sheet.headers.values())


# ============================================================================= command line
def test_synth_writes_an_annex_a_that_checks_clean(tmp_path, capsys):
    assert main(["synth", "--scale", "0.05", "--annex-a", "2017-01-31", "--out",
                 str(tmp_path), "--quiet"]) == 0
    path = tmp_path / "annex_a_2017-01-31.xlsx"
    assert path.is_file()
    assert main(["check", str(path)]) == 0
    assert "extract date 2017-01-31 from the file name" in capsys.readouterr().out
    assert main(["synth", "--annex-a", "2018-01-31", "--out", str(tmp_path)]) == 2
    assert main(["synth", "--annex-a", "soon", "--out", str(tmp_path)]) == 2


# ============================================================================= CIN Census + Annex A
@pytest.fixture(scope="module")
def later(tmp_path_factory) -> dict:
    """A county to March 2018, its CIN Census to 31 March 2017 and its Annex A of 30 September
    2017 (window from 1 April 2017, the day after the census)."""
    from cpstats.io.cin_census_writer import write_return

    county = synth.generate(scale=0.2, years=(2013, 2018))
    folder = tmp_path_factory.mktemp("later")
    cin = write_return(county.data, folder / "cin_census_2017.xml", date(2017, 3, 31),
                       la_child_ids=county.la_child_ids, whole_history=True)
    annex = write_annex_a(county.data, folder / annex_a_name(date(2017, 9, 30)),
                          date(2017, 9, 30), la_child_ids=county.la_child_ids)
    return {"county": county, "cin": cin, "annex": annex, "folder": folder}


def test_splice_brings_the_cin_census_up_to_the_extract_date(later):
    from cpstats.io.cin_census import read_returns

    cin = read_returns([later["cin"]], secret=SECRET)
    annex = read_annex_a(later["annex"], la_code=cin.la_code, secret=SECRET)
    both = am.splice(cin, annex)
    assert both.reference_date == date(2017, 9, 30)
    truth = later["county"].data

    def figures(data, month):
        p = measures.parse_period(month)
        icpcs = measures.icpc_table(data)["icpc_date"]
        return (len(measures.plans_open_at(data, p.end)),
                int(measures.in_period(data.cp_plans["start_date"], p).sum()),
                int(measures.in_period(data.cp_plans["end_date"], p).sum()),
                int(measures.in_period(data.referrals["referral_date"], p).sum()),
                int(measures.in_period(icpcs, p).sum()))

    for month in ["2017-04", "2017-05", "2017-06", "2017-07", "2017-08", "2017-09"]:
        got, want = figures(both, month), figures(truth, month)
        assert got[:4] == want[:4], month  # plans open, started, ended; referrals
        if month >= "2017-07":  # ICPCs complete from 3 months into the window
            assert got[4] == want[4], month
    assert figures(cin, "2017-09")[0] == len(measures.plans_open_at(cin, "2017-03-31"))
    assert figures(both, "2017-09")[0] != figures(cin, "2017-09")[0]  # the update mattered


def test_splice_refuses_a_gap(later, tmp_path):
    from cpstats.io.cin_census import read_returns

    cin = read_returns([later["cin"]], secret=SECRET)
    late = write_annex_a(later["county"].data, tmp_path / annex_a_name(date(2017, 12, 31)),
                         date(2017, 12, 31), la_child_ids=later["county"].la_child_ids)
    with pytest.raises(ParameterError, match="starts on or before 2017-04-01"):
        am.splice(cin, read_annex_a(late, la_code=cin.la_code, secret=SECRET))
    assert am.last_whole_quarter("2017-09-30") == pd.Period("2018Q2", freq="Q-MAR")
    assert am.last_whole_quarter("2017-09-29") == pd.Period("2018Q1", freq="Q-MAR")


@pytest.mark.slow
def test_quarterly_forecast_from_last_month(later, capsys):
    args = ["forecast", "quarterly", "--cin-census", str(later["cin"]), "--annex-a",
            str(later["annex"]), "--no-referrals"]
    assert main(args) == 0
    out = capsys.readouterr().out
    # Both inputs were written by cpstats synth, so the spliced records say so.
    assert "(synthetic)" in out and "2017-18 Q3:" in out  # the quarter after September 2017
    assert main(args[:2] + args[4:]) == 2
    assert "--cin-census returns as well" in capsys.readouterr().err


def test_synthetic_workbook_says_it_is_synthetic(workbook):
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert "synthetic" in book.properties.creator
    book.close()


def test_more_problems_by_sheet_row_and_column(small, tmp_path):
    book = openpyxl.load_workbook(small)
    book["List_7"]["K3"] = "two"  # previous plans not a number
    book["List_7"]["I2"] = datetime(2016, 11, 1)  # latest review before the plan's start
    copy = book.copy_worksheet(book["List 3 Referrals"])
    copy.title = "List 3 (copy)"  # a second List 3
    path = tmp_path / "annex_a_2017-03-31.xlsx"
    book.save(path)
    found = [(p.rule, p.severity, p.sheet, p.row, (p.column or "")[:1])
             for p in check_annex_a(path)]
    assert sorted(found) == [
        ("bad-number", "error", "List_7", 3, "K"),
        ("duplicate-list", "error", "List 3 (copy)", None, ""),
        ("review-before-start", "warning", "List_7", 2, "I")]


def test_a_twelve_month_window(small):
    data = read_annex_a(small, secret=SECRET, window_months=12)
    assert data.window_start == date(2016, 4, 1)
    assert data.coverage().supports("cp_plans_ended_by_duration", "2016-17")
    assert data.coverage().supports("cp_plans_at_31_march", "2016-17")


def test_coverage_table_states_what_is_supported(small):
    table = read_annex_a(small, secret=SECRET).coverage().table()
    rows = table.set_index(table["measures"].str.split(" ").str[0])
    assert rows.loc["flows", "from"] == date(2016, 10, 1)
    assert rows.loc["ICPC", "from"] == date(2017, 1, 1)
    assert rows.loc["children", "from"] == date(2016, 9, 30)
    assert pd.isna(rows.loc["DfE", "from"]) and (table["to"].dropna() == date(2017, 3, 31)).all()


def test_small_annex_a_counts_are_suppressed_like_the_cin_census(small):
    from cpstats import disclosure

    data = read_annex_a(small, la_code="825", secret=SECRET)
    table = am.window_facts(data, "quarter")
    assert (table["source"] == "annex_a").all()
    shown = disclosure.suppress_facts(table)
    stock = shown[(shown["measure"] == "cp_plans_at_date") & (shown["breakdown"] == "total")]
    assert stock["value"].isna().all() and (stock["marker"] == "c").all()  # 3 children
    assert disclosure.display_value(3, source="annex_a") == "c"
