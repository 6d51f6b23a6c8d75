"""CIN Census reader and checks.

Expected values come from reading the XML by hand (the shared samples and the
fixtures in tests/data/cin), never from the reader's own output.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cpstats import checks, childlevel
from cpstats.errors import InputError
from cpstats.identifiers import SYNTHETIC_SECRET, hash_child_id
from cpstats.io.cin_census import (
    ERROR,
    WARNING,
    CinCensusData,
    check_cin_census,
    read_cin_census,
    read_returns,
    write_csv,
)

DATA = Path(__file__).parent / "data" / "cin"
SECRET = "cpstats-test-secret-0123456789"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    """Every test hashes with a test secret: nothing touches ~/.config."""
    monkeypatch.setenv("CPSTATS_SECRET", SECRET)


@functools.cache
def _read(paths: tuple[str, ...], keep: bool) -> CinCensusData:
    return read_returns(list(paths), secret=SECRET, keep_rejected=keep)


def read(*paths: Path, keep: bool = False) -> CinCensusData:
    """A read shared between tests (each distinct read runs once; tables are not modified)."""
    return _read(tuple(str(p) for p in paths), keep)


def h(raw: str, la: str = "825") -> str:
    return hash_child_id(raw, scope=la, secret=SECRET)


def found(problems) -> Counter:
    """Problems as a multiset of (severity, rule, element, value)."""
    return Counter((p.severity, p.rule, p.element, p.value) for p in problems)


def raw_ids(path: Path) -> set[str]:
    return set(re.findall(r"<LAchildID>\s*([^<]*?)\s*</LAchildID>", path.read_text()))


def every_text(data: CinCensusData) -> str:
    """Everything a read produced, as text: tables and problems."""
    parts = [data.table(name).to_csv(index=False) for name in childlevel.TABLES]
    parts += [str(p) for p in data.summary.problems]
    return "\n".join(parts)


# ----------------------------------------------------------------------------- shared samples
SAMPLES = "cin_census"
#: What each shared sample holds, read by hand from the XML.
#: rows: children, referrals (CINdetails), assessments, s47s, cp_plans, reviews, cin_plans.
CATALOGUE = {
    "d2i_validator_CIN_Census_2021.xml": {
        "la": "201", "ref": date(2023, 3, 31), "variants": ["GenderCurrent"],
        "read": 1, "kept": 0, "rows": (1, 1, 1, 1, 1, 1, 1),
        # one child, every date in 1965-1971 (the 1066 expected birth date too) in a
        # return for 2023: decades off; plan, s47 and assessment before the referral;
        # the text "PersonBirthDate" stray between elements.
        "problems": {
            (WARNING, "stray-text", "ChildIdentifiers", "PersonBirthDate"): 1,
            **{(ERROR, "implausible-date", e, v): 1 for e, v in [
                ("PersonBirthDate", "1965-03-27"), ("PersonDeathDate", "1980-10-08"),
                ("CINreferralDate", "1970-10-06"), ("CINclosureDate", "1971-02-27"),
                ("DateOfInitialCPC", "1970-12-06"), ("DateOfInitialCPC", "1970-06-17"),
                ("AssessmentActualStartDate", "1970-06-03"),
                ("AssessmentAuthorisationDate", "1971-07-18"),
                ("CINPlanStartDate", "1971-01-24"), ("CINPlanEndDate", "1971-01-26"),
                ("S47ActualStartDate", "1970-06-02"), ("CPPstartDate", "1970-02-17"),
                ("CPPendDate", "1971-03-14"), ("CPPreviewDate", "1971-02-15")]},
            (ERROR, "implausible-future-date", "ExpectedPersonBirthDate", "1066-04-13"): 1,
            (ERROR, "implausible-future-date", "InitialCPCtarget", "1970-06-23"): 1,
            (WARNING, "before-referral", "AssessmentActualStartDate", "1970-06-03"): 1,
            (WARNING, "before-referral", "S47ActualStartDate", "1970-06-02"): 1,
            (WARNING, "before-referral", "CPPstartDate", "1970-02-17"): 1,
        },
    },
    "liia_tools_cin-2022.xml": {
        "la": "201", "ref": date(2022, 3, 31), "variants": ["GenderCurrent"],
        "read": 1, "kept": 0, "rows": (1, 1, 1, 1, 1, 1, 1),
        # as 2021 without the stray text; born 1966, expected 1966.
        "problems": {
            **{(ERROR, "implausible-date", e, v): 1 for e, v in [
                ("PersonBirthDate", "1966-03-24"), ("PersonDeathDate", "1980-10-08"),
                ("CINreferralDate", "1970-10-06"), ("CINclosureDate", "1971-02-27"),
                ("DateOfInitialCPC", "1970-12-06"), ("DateOfInitialCPC", "1970-06-17"),
                ("AssessmentActualStartDate", "1970-06-03"),
                ("AssessmentAuthorisationDate", "1971-07-18"),
                ("CINPlanStartDate", "1971-01-24"), ("CINPlanEndDate", "1971-01-26"),
                ("S47ActualStartDate", "1970-06-02"), ("CPPstartDate", "1970-02-17"),
                ("CPPendDate", "1971-03-14"), ("CPPreviewDate", "1971-02-15")]},
            (ERROR, "implausible-future-date", "ExpectedPersonBirthDate", "1966-03-22"): 1,
            (ERROR, "implausible-future-date", "InitialCPCtarget", "1970-06-23"): 1,
            (WARNING, "before-referral", "AssessmentActualStartDate", "1970-06-03"): 1,
            (WARNING, "before-referral", "S47ActualStartDate", "1970-06-02"): 1,
            (WARNING, "before-referral", "CPPstartDate", "1970-02-17"): 1,
        },
    },
    "d2i_validator_CIN_Census_2024.xml": {
        "la": "201", "ref": date(2024, 3, 31), "variants": ["Sex"],
        "read": 2, "kept": 0, "rows": (2, 2, 2, 1, 1, 1, 1),
        # child 1: assessment starting 2028 (after the reference date) and authorised
        # before it started, unknown factor RB, s47 and plan before the referral;
        # child 2 ("child_fails_assessments"): referred and closed after the reference
        # date, assessment before the referral, no AssessmentFactors in its block.
        "problems": {
            (WARNING, "year-mismatch", "Year", "2023"): 1,
            (WARNING, "stray-text", "ChildIdentifiers", "PersonBirthDate"): 1,
            (ERROR, "after-reference-date", "AssessmentActualStartDate", "2028-04-28"): 1,
            (ERROR, "ends-before-start", "AssessmentAuthorisationDate", "2020-09-19"): 1,
            (WARNING, "unknown-code", "AssessmentFactors", "RB"): 1,
            (WARNING, "before-referral", "S47ActualStartDate", "2022-06-02"): 1,
            (WARNING, "before-referral", "CPPstartDate", "2022-02-17"): 1,
            (ERROR, "after-reference-date", "CINreferralDate", "2024-10-24"): 1,
            (ERROR, "after-reference-date", "CINclosureDate", "2024-10-29"): 1,
            (WARNING, "before-referral", "AssessmentActualStartDate", "2023-12-25"): 1,
            (WARNING, "missing-element", "AssessmentFactors", None): 1,
        },
    },
}
# The 2026 sample is the 2024 one plus a <PreProceedingsandFGDM> block (ignored, so
# its 2026-27 dates raise nothing); its header still says 2024-03-31.
CATALOGUE["d2i_validator_CIN_Census_2026.xml"] = {
    **CATALOGUE["d2i_validator_CIN_Census_2024.xml"],
    "variants": ["Sex", "PreProceedingsandFGDM"]}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_small_samples_yield_their_catalogue(shared_data, name):
    expected = CATALOGUE[name]
    data = read(shared_data / SAMPLES / name)
    summary = data.summary
    assert (data.la_code, data.reference_date) == (expected["la"], expected["ref"])
    assert list(summary.variants.values()) == [expected["variants"]]
    assert (summary.children_read, summary.children_kept) == (expected["read"], expected["kept"])
    assert summary.children_rejected == expected["read"] - expected["kept"]
    assert tuple(summary.rows_read[t] for t in childlevel.TABLES) == expected["rows"]
    assert found(summary.problems) == Counter(expected["problems"])
    assert len(data.children) == expected["kept"]


@pytest.mark.shared_data
def test_2024_sample_tables_when_rejected_children_are_kept(shared_data):
    data = read(shared_data / SAMPLES / "d2i_validator_CIN_Census_2024.xml", keep=True)
    first, second = h("DfEX0000001", "201"), h("child_fails_assessments", "201")
    children = data.children.set_index("child_id")
    # Sex 1 and Sex M are both male; months of birth 2015-03 and 2023-09.
    assert children.loc[[first, second], "gender"].tolist() == ["male", "male"]
    assert children.loc[first, "birth_month"] == pd.Timestamp("2015-03-01")
    assert children.loc[second, "birth_month"] == pd.Timestamp("2023-09-01")
    assert children.loc[first, "disabilities"] == "HAND,HEAR" and children.loc[first, "disabled"]
    assert children.loc[second, "disabilities"] == "NONE" and not children.loc[second, "disabled"]
    plan = data.cp_plans.iloc[0]
    assert (plan["child_id"], plan["plan_id"], plan["cin_id"]) == (first, "2022-02-17",
                                                                  "2022-10-06")
    assert (plan["start_date"], plan["end_date"]) == (pd.Timestamp("2022-02-17"),
                                                      pd.Timestamp("2023-03-14"))
    assert (plan["initial_category"], plan["latest_category"], plan["previous_plans"]) == (
        "PHY", "PHY", 10)
    assert data.reviews["review_date"].tolist() == [pd.Timestamp("2023-02-15")]
    s47 = data.s47s.iloc[0]
    assert (s47["s47_start_date"], s47["icpc_target_date"], s47["icpc_date"]) == (
        pd.Timestamp("2022-06-02"), pd.Timestamp("2022-06-23"), pd.Timestamp("2022-06-17"))
    assert not s47["icpc_not_required"]
    referrals = data.referrals.set_index("child_id")
    assert referrals.loc[first, "icpc_date"] == pd.Timestamp("2022-12-06")
    assert referrals.loc[second, "closure_reason"] == "RC9"
    # the unknown factor RB is dropped, the known ones kept
    assert data.assessments.set_index("child_id").loc[first, "factors"] == "1C,6B"


@pytest.mark.shared_data
def test_d2i_fake_file_332_children(shared_data):
    # 332 children, 402 CINdetails (referrals only). 9 children have dates after the
    # header's reference date 2022-07-21 (9 closures, 8 referrals, 6 ICPCs: errors);
    # the 21 children with a death date all have 55 referral/ICPC dates after it.
    path = shared_data / SAMPLES / "d2i_validator_fake_CIN_data.xml"
    data = read(path)
    summary = data.summary
    assert (data.la_code, data.reference_date) == ("975", date(2022, 7, 21))
    assert (summary.children_read, summary.children_kept, summary.children_rejected) == (
        332, 323, 9)
    assert summary.rows_read["referrals"] == 402
    assert summary.rows_kept["referrals"] == 386
    assert all(summary.rows_read[t] == 0 for t in ("assessments", "s47s", "cp_plans",
                                                    "reviews", "cin_plans"))
    rules = Counter((p.rule, p.element) for p in summary.problems)
    assert rules == Counter({
        ("after-reference-date", "CINclosureDate"): 9,
        ("after-reference-date", "CINreferralDate"): 8,
        ("after-reference-date", "DateOfInitialCPC"): 6,
        ("after-death", "CINreferralDate"): rules[("after-death", "CINreferralDate")],
        ("after-death", "DateOfInitialCPC"): rules[("after-death", "DateOfInitialCPC")],
        ("reference-date-not-31-march", "ReferenceDate"): 1})
    assert sum(n for (rule, _), n in rules.items() if rule == "after-death") == 55
    assert len({p.child for p in summary.problems if p.rule == "after-death"}) == 21


@pytest.mark.shared_data
def test_d2i_fake_file_codes_when_all_kept(shared_data):
    data = read(shared_data / SAMPLES / "d2i_validator_fake_CIN_data.xml", keep=True)
    # GenderCurrent: 82 x 1, 74 x 2, 96 x 0 and 80 x 9 (not recorded / indeterminate)
    assert data.children["gender"].value_counts().to_dict() == {
        "unknown": 176, "male": 82, "female": 74}
    assert data.children["ethnicity"].notna().all()  # all 20 codes valid
    assert int(data.children["disabled"].sum()) == 71  # 74 with Disabilities, 3 only NONE
    assert int(data.referrals["nfa"].sum()) == 402
    assert (data.children["birth_month"].dt.day == 1).all()


@pytest.mark.shared_data
def test_no_raw_id_or_upn_in_any_output_of_the_samples(shared_data):
    for path in sorted((shared_data / SAMPLES).glob("*.xml")):
        text = every_text(read(path, keep=True))
        secrets_ = raw_ids(path) | set(re.findall(r"<(?:Former)?UPN>([^<]*)<", path.read_text()))
        assert secrets_ and not any(s in text for s in secrets_), path.name


@pytest.mark.shared_data
def test_returns_of_different_las_refused(shared_data):
    with pytest.raises(InputError, match="returns of one LA"):
        read_returns([DATA / "return_2017.xml",
                      shared_data / SAMPLES / "d2i_validator_CIN_Census_2024.xml"])


# ----------------------------------------------------------------------------- hand-made returns
def test_return_2017_tables():
    data = read(DATA / "return_2017.xml")
    assert isinstance(data, childlevel.CinData)
    assert (data.la_code, data.reference_date, data.source) == ("825", date(2017, 3, 31),
                                                                "cin_census")
    assert data.summary.problems == []
    assert [len(data.table(t)) for t in childlevel.TABLES] == [3, 4, 2, 2, 2, 2, 1]
    for name in childlevel.TABLES:
        assert list(data.table(name).columns) == list(childlevel.SCHEMA[name])
        assert data.table(name).dtypes.astype(str).tolist() == [
            str(pd.Series(dtype=t).dtype) for t in childlevel.SCHEMA[name].values()]
    children = data.children.set_index("child_id")
    a1, b2, c3 = h("BUCKS-A1"), h("BUCKS-B2"), h("BUCKS-C3")
    assert children.loc[a1, "birth_month"] == pd.Timestamp("2010-06-01")  # born 15 June
    assert pd.isna(children.loc[b2, "birth_month"])  # unborn
    assert children.loc[b2, "expected_birth_month"] == pd.Timestamp("2017-05-01")
    assert children.loc[c3, "birth_month"] == pd.Timestamp("2004-11-01")  # born 30 Nov
    assert children["gender"].to_dict() == {a1: "female", b2: "unknown", c3: "male"}
    assert children["ethnicity"].to_dict() == {a1: "WBRI", b2: "NOBT", c3: "AIND"}
    assert children["disabled"].to_dict() == {a1: False, b2: False, c3: True}
    assert children.loc[c3, "disabilities"] == "LD,AUT"
    referrals = data.referrals.set_index(["child_id", "cin_id"])
    assert referrals.loc[(c3, "2015-06-01"), "nfa"]
    assert referrals.loc[(c3, "2015-06-01"), "closure_reason"] == "RC8"
    assert not referrals.loc[(b2, "2017-01-09"), "nfa"]  # ReferralNFA 0
    assert referrals.loc[(b2, "2017-01-09"), "icpc_date"] == pd.Timestamp("2017-01-30")
    assert referrals.loc[(a1, "2016-04-04"), "referral_source"] == "5A"
    plans = data.cp_plans.set_index("child_id")
    assert plans.loc[a1, "plan_id"] == "2016-04-26" and pd.isna(plans.loc[a1, "end_date"])
    assert plans.loc[b2, "initial_category"] == "MUL"
    assert data.reviews.groupby("child_id").size().to_dict() == {a1: 2}
    assert data.cin_plans.iloc[0][["child_id", "cin_id"]].tolist() == [c3, "2016-10-03"]
    assert data.assessments.set_index("child_id").loc[a1, "factors"] == "3A,4B"


def test_two_returns_combine_one_child_updates_and_a_conflict():
    data = read(DATA / "return_2017.xml", DATA / "return_2018.xml")
    a1, b2, d4 = h("BUCKS-A1"), h("BUCKS-B2"), h("BUCKS-D4")
    assert data.reference_date == date(2018, 3, 31)
    # A1, B2 in both returns, C3 only in 2017, D4 only in 2018
    assert data.summary.children_read == 4 and len(data.children) == 4
    assert [len(data.table(t)) for t in childlevel.TABLES] == [4, 5, 2, 3, 3, 5, 1]
    plans = data.cp_plans.set_index("child_id")
    assert plans.loc[a1, "end_date"] == pd.Timestamp("2017-06-30")  # ended since 2017
    assert plans.loc[a1, "latest_category"] == "EMO"  # updated, not a conflict
    assert plans.loc[b2, "initial_category"] == "NEG"  # latest return's, reported
    assert data.reviews.groupby("child_id").size().to_dict() == {a1: 3, b2: 1, d4: 1}
    assert data.referrals.set_index("child_id").loc[a1, "closure_date"] == pd.Timestamp(
        "2017-07-31")
    children = data.children.set_index("child_id")
    assert children.loc[b2, "birth_month"] == pd.Timestamp("2017-05-01")  # born since
    assert children.loc[b2, "ethnicity"] == "MWBC"  # NOBT then, obtained now
    assert children.loc[d4, "birth_month"] == pd.Timestamp("2016-02-01")  # born 29 Feb
    [conflict] = data.summary.problems
    assert (conflict.rule, conflict.child, conflict.element, conflict.value) == (
        "conflict", b2, "InitialCategoryOfAbuse", "MUL | NEG")
    assert "CP plan from 2017-01-30" in conflict.expected


def test_combining_does_not_depend_on_the_order_given():
    forward = read(DATA / "return_2017.xml", DATA / "return_2018.xml")
    backward = read(DATA / "return_2018.xml", DATA / "return_2017.xml")
    for name in childlevel.TABLES:
        pd.testing.assert_frame_equal(forward.table(name), backward.table(name))


def test_same_return_twice_is_the_same_data():
    once = read(DATA / "return_2017.xml")
    twice = read(DATA / "return_2017.xml", DATA / "return_2017.xml")
    assert twice.summary.problems == []
    for name in childlevel.TABLES:
        pd.testing.assert_frame_equal(once.table(name), twice.table(name))


def test_duplicate_child_in_one_return_is_combined_and_reported(tmp_path):
    text = (DATA / "return_2017.xml").read_text()
    a1 = text[text.index("    <Child>"):text.index("    </Child>") + len("    </Child>\n")]
    changed = a1.replace("<CPPstartDate>2016-04-26</CPPstartDate>",
                         "<CPPstartDate>2016-04-26</CPPstartDate>\n"
                         "          <CPPendDate>2016-12-01</CPPendDate>")
    path = tmp_path / "dup.xml"
    path.write_text(text.replace("  </Children>", changed + "  </Children>"))
    data = read_cin_census(path)
    assert len(data.children) == 3
    assert found(data.summary.problems) == Counter({
        (WARNING, "duplicate-child", "LAchildID", None): 1})
    # the second block only adds an end date: an update, the plan is one row
    plan = data.cp_plans.set_index("child_id").loc[h("BUCKS-A1")]
    assert plan["end_date"] == pd.Timestamp("2016-12-01")


def test_raw_ids_never_in_output_of_fixtures():
    for path in sorted(DATA.glob("*.xml")):
        try:
            text = every_text(read(path, keep=True))
        except InputError as error:
            text = str(error)
        ids = raw_ids(path)
        assert not any(i in text for i in ids), path.name


def test_stray_text_naming_the_child_is_not_echoed(tmp_path):
    text = (DATA / "return_2017.xml").read_text().replace(
        "<LAchildID>BUCKS-A1</LAchildID>", "<LAchildID>BUCKS-A1</LAchildID>id BUCKS-A1")
    path = tmp_path / "stray.xml"
    path.write_text(text)
    [problem] = check_cin_census(path)
    assert problem.rule == "stray-text" and problem.value == f"id {h('BUCKS-A1')}"


def test_synthetic_source_uses_the_published_secret():
    data = read_cin_census(DATA / "return_2017.xml", source="synthetic")
    assert data.source == "synthetic"
    expected = hash_child_id("BUCKS-A1", scope="825", secret=SYNTHETIC_SECRET)
    assert expected in set(data.children["child_id"])


# ----------------------------------------------------------------------------- broken fixtures
def test_truncated_file_names_the_line():
    with pytest.raises(InputError) as caught:
        read_cin_census(DATA / "truncated.xml")
    [problem] = caught.value.problems
    # the file's 25 lines end inside <CINreferralDate>: the parser runs out on line 26
    assert (problem.rule, problem.line) == ("xml-syntax", 26)
    assert "Premature end of data" in problem.value
    assert check_cin_census(DATA / "truncated.xml") == [problem]


def test_wrong_root():
    with pytest.raises(InputError, match="root element <Message>") as caught:
        read_cin_census(DATA / "wrong_root.xml")
    [problem] = caught.value.problems
    assert (problem.rule, problem.element, problem.line) == ("wrong-root", "CINCensus", 3)


def test_missing_lachildid_rejects_that_child_only():
    data = read(DATA / "missing_lachildid.xml")
    assert (data.summary.children_read, data.summary.children_kept,
            data.summary.children_rejected) == (2, 1, 1)
    assert data.children["child_id"].tolist() == [h("GOOD-1")]
    [problem] = data.summary.problems
    assert (problem.severity, problem.rule, problem.element, problem.line) == (
        ERROR, "missing-id", "LAchildID", 15)
    assert "A123456789012" not in every_text(data)  # its UPN is never kept


def test_plan_ending_before_it_starts_rejects_the_child():
    data = read(DATA / "plan_end_before_start.xml")
    [problem] = data.summary.problems
    assert (problem.severity, problem.rule, problem.child, problem.element, problem.value) == (
        ERROR, "ends-before-start", h("ENDS-1"), "CPPendDate", "2016-08-01")
    assert "CPPstartDate 2016-09-01" in problem.expected
    assert data.children["child_id"].tolist() == [h("GOOD-1")]
    assert data.cp_plans.empty and data.summary.rows_read["cp_plans"] == 1


def test_unknown_ethnicity_warns_and_keeps_the_child():
    data = read(DATA / "unknown_ethnicity.xml")
    [problem] = data.summary.problems
    assert (problem.severity, problem.rule, problem.child, problem.element, problem.value) == (
        WARNING, "unknown-code", h("ETHN-1"), "Ethnicity", "WBRX")
    assert "WBRI" in problem.expected
    assert len(data.children) == 1 and pd.isna(data.children.loc[0, "ethnicity"])


def test_mixed_problems_each_reported():
    data = read(DATA / "mixed_problems.xml")
    assert found(data.summary.problems) == Counter({
        # MIXED-1: warnings only, kept
        (WARNING, "unknown-code", "Sex", "X"): 1,
        (WARNING, "unknown-code", "ReferralSource", "99"): 1,
        (WARNING, "stray-text", "Section47", "oops"): 1,
        (WARNING, "icpc-before-s47", "DateOfInitialCPC", "2016-06-08"): 1,
        # MIXED-2: misspelt <CPPStartDate>, month 13: rejected
        (WARNING, "unexpected-element", "CPPStartDate", None): 1,
        (ERROR, "missing-date", "CPPstartDate", None): 1,
        (ERROR, "impossible-date", "CPPendDate", "2016-13-01"): 1,
        (WARNING, "unknown-code", "InitialCategoryOfAbuse", "XYZ"): 1,
    })
    assert {p.child for p in data.summary.errors} == {h("MIXED-2")}
    [child] = data.children.to_dict("records")
    assert (child["child_id"], child["gender"]) == (h("MIXED-1"), "unknown")
    assert pd.isna(data.referrals.loc[0, "referral_source"])


def test_impossible_date_refused_by_name(tmp_path):
    """2016-02-30 is written like a date: pandas would read it as missing, cpstats names it."""
    text = (DATA / "return_2017.xml").read_text()
    path = tmp_path / "impossible.xml"
    path.write_text(text.replace("<CPPreviewDate>2016-07-20</CPPreviewDate>",
                                 "<CPPreviewDate>2016-02-30</CPPreviewDate>")
                    .replace("<S47ActualStartDate>2017-01-10</S47ActualStartDate>",
                             "<S47ActualStartDate>2017-13-10</S47ActualStartDate>"))
    problems = check_cin_census(path)
    assert found(problems) == Counter({
        (ERROR, "impossible-date", "CPPreviewDate", "2016-02-30"): 1,
        (ERROR, "impossible-date", "S47ActualStartDate", "2017-13-10"): 1})
    text_of = {p.element: str(p) for p in problems}
    assert "impossible date: February 2016 has 29 days, not 30" in text_of["CPPreviewDate"]
    assert "impossible date: there is no month 13" in text_of["S47ActualStartDate"]
    assert "line 53" in text_of["CPPreviewDate"]  # its <Reviews> block


def test_problems_name_the_dfe_rule_they_also_break(tmp_path):
    text = (DATA / "return_2017.xml").read_text()
    path = tmp_path / "late_closure.xml"
    path.write_text(text.replace("<AssessmentAuthorisationDate>2016-04-20",
                                 "<AssessmentAuthorisationDate>2017-04-20"))
    [problem] = check_cin_census(path)
    assert (problem.rule, problem.dfe_code) == ("after-reference-date", "8696")
    assert str(problem).endswith("[DfE rule 8696]")


def test_missing_file():
    with pytest.raises(InputError, match="an existing CIN Census XML file or CSV folder"):
        read_cin_census(DATA / "no_such_file.xml")


# ----------------------------------------------------------------------------- CSV
def test_csv_round_trip(tmp_path):
    data = read(DATA / "return_2017.xml", DATA / "return_2018.xml")
    folder = write_csv(data, tmp_path / "csv")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["meta.csv", *(f"{t}.csv" for t in childlevel.TABLES)])
    back = read_cin_census(folder)
    assert (back.la_code, back.reference_date, back.source) == (
        data.la_code, data.reference_date, data.source)
    assert back.summary.problems == []
    for name in childlevel.TABLES:
        pd.testing.assert_frame_equal(back.table(name), data.table(name))


def test_csv_raw_ids_are_hashed_like_xml(tmp_path):
    folder = write_csv(read(DATA / "return_2017.xml"), tmp_path / "csv")
    hashed = {h(x): x for x in ("BUCKS-A1", "BUCKS-B2", "BUCKS-C3")}
    for name in childlevel.TABLES:  # as an LA export would have them: raw IDs
        path = folder / f"{name}.csv"
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        table["child_id"] = table["child_id"].map(hashed)
        table.to_csv(path, index=False)
    data = read_cin_census(folder)
    assert set(data.children["child_id"]) == set(hashed)
    assert not any(raw in every_text(data) for raw in hashed.values())


def test_csv_missing_column_and_meta(tmp_path):
    folder = write_csv(read(DATA / "return_2017.xml"), tmp_path / "csv")
    plans = pd.read_csv(folder / "cp_plans.csv", dtype=str)
    plans.drop(columns="start_date").to_csv(folder / "cp_plans.csv", index=False)
    with pytest.raises(InputError, match="column 'start_date'"):
        read_cin_census(folder)
    (folder / "meta.csv").unlink()
    problems = check_cin_census(folder)
    assert {p.rule for p in problems} == {"missing-file", "missing-column"}


def test_csv_row_problems_name_file_row_and_column(tmp_path):
    folder = write_csv(read(DATA / "return_2017.xml"), tmp_path / "csv")
    plans = pd.read_csv(folder / "cp_plans.csv", dtype=str, keep_default_na=False)
    plans.loc[0, "end_date"] = "2015-01-01"  # before its start in 2016/2017
    plans.to_csv(folder / "cp_plans.csv", index=False)
    data = read_cin_census(folder)
    [problem] = data.summary.problems
    assert (problem.rule, problem.row, problem.column, problem.value) == (
        "ends-before-start", 2, "end_date", "2015-01-01")
    assert problem.file.endswith("cp_plans.csv")
    assert data.summary.children_rejected == 1


# ----------------------------------------------------------------------------- cpstats check
def test_registered_with_cpstats_check(tmp_path):
    names = ["return_2017.xml", "truncated.xml", "plan_end_before_start.xml"]
    reports = {r.path.name: r for r in checks.check_paths([DATA / n for n in names])}
    assert {r.checker.name for r in reports.values()} == {"cin_census_xml"}
    assert reports["return_2017.xml"].ok
    assert "3 children read, 3 kept, 0 rejected" in reports["return_2017.xml"].summary
    assert not reports["truncated.xml"].ok
    assert [p.rule for p in reports["plan_end_before_start.xml"].problems] == [
        "ends-before-start"]
    folder = write_csv(read(DATA / "return_2017.xml"), tmp_path / "csv")
    csv_reports = checks.check_paths([folder])
    assert {r.checker.name for r in csv_reports} == {"cin_census_csv"}
    assert all(r.ok for r in csv_reports)


def test_nothing_to_read():
    with pytest.raises(InputError, match="at least one CIN Census XML file or CSV folder"):
        read_returns([])


def test_csv_code_lists_tidied_and_unknown_codes_dropped(tmp_path):
    folder = write_csv(read(DATA / "return_2017.xml"), tmp_path / "csv")
    children = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    c3 = children["child_id"] == h("BUCKS-C3")
    children.loc[c3, "disabilities"] = " LD , XX,AUT,"
    children.to_csv(folder / "children.csv", index=False)
    data = read_cin_census(folder)
    [problem] = data.summary.problems
    assert (problem.rule, problem.column, problem.value) == ("unknown-code", "disabilities", "XX")
    assert data.children.set_index("child_id").loc[h("BUCKS-C3"), "disabilities"] == "LD,AUT"


def test_cli_check_exit_status_and_message(capsys):
    from cpstats.cli import main

    assert main(["check", str(DATA / "return_2017.xml")]) == 0
    assert main(["check", str(DATA / "truncated.xml")]) == 2
    out = capsys.readouterr().out
    assert "3 children read, 3 kept, 0 rejected" in out
    assert "truncated.xml, line 26" in out and "well-formed XML" in out


def test_reference_date_from_year_or_refused(tmp_path):
    text = (DATA / "return_2017.xml").read_text()
    path = tmp_path / "no_ref.xml"
    path.write_text(text.replace("<ReferenceDate>2017-03-31</ReferenceDate>", ""))
    data = read_cin_census(path)
    assert data.reference_date == date(2017, 3, 31)
    assert [(p.rule, p.severity) for p in data.summary.problems] == [
        ("reference-date-from-year", WARNING)]
    path.write_text(text.replace("<ReferenceDate>2017-03-31</ReferenceDate>", "")
                    .replace("<Year>2017</Year>", ""))
    with pytest.raises(InputError, match="ReferenceDate"):
        read_cin_census(path)
