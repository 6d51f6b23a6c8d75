"""Measures on hand-built child histories whose answers are counted by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from cpstats import measures
from cpstats.childlevel import CinData, conform_table
from cpstats.errors import ParameterError
from cpstats.facts import value_of

# --- small constructors: one dict per row, dates as ISO strings ---------------------------------


def child(cid: str, birth: str | None = "2010-06-01", expected: str | None = None,
          gender: str = "male", ethnicity: str = "WBRI", disabled: bool = False) -> dict:
    return {"child_id": cid, "birth_month": birth, "expected_birth_month": expected,
            "gender": gender, "ethnicity": ethnicity, "disabled": disabled,
            "disabilities": "DDA" if disabled else "NONE"}


def plan(cid: str, start: str, end: str | None = None, pid: str = "1", category: str = "NEG",
         previous: int = 0, latest: str | None = None, cin: str = "1") -> dict:
    return {"child_id": cid, "cin_id": cin, "plan_id": pid, "start_date": start,
            "end_date": end, "initial_category": category,
            "latest_category": latest or category, "previous_plans": previous}


def review(cid: str, when: str, pid: str = "1") -> dict:
    return {"child_id": cid, "plan_id": pid, "review_date": when}


def s47(cid: str, start: str, icpc: str | None = None, cin: str = "1") -> dict:
    return {"child_id": cid, "cin_id": cin, "s47_start_date": start, "icpc_date": icpc,
            "icpc_not_required": False}


def referral(cid: str, when: str, cin: str = "1") -> dict:
    return {"child_id": cid, "cin_id": cin, "referral_date": when, "nfa": False}


def cin_data(**tables: list[dict]) -> CinData:
    built = {name: conform_table(name, pd.DataFrame(rows)) for name, rows in tables.items()}
    return CinData(la_code="825", reference_date=pd.Timestamp("2018-03-31").date(),
                   source="synthetic", **built)


def value(frame: pd.DataFrame, measure: str, period: str, breakdown: str = "total") -> float:
    return value_of(frame, measure=measure, period=period, breakdown=breakdown)


# --- open plans, starts and ends ----------------------------------------------------------------


@pytest.fixture(scope="module")
def march_edges() -> CinData:
    ids = ["starts_31mar", "ends_31mar", "open_all_year", "ends_1apr", "ended_before"]
    return cin_data(
        children=[child(c) for c in ids],
        cp_plans=[
            plan("starts_31mar", "2017-03-31"),
            plan("ends_31mar", "2016-10-01", "2017-03-31"),
            plan("open_all_year", "2016-04-01"),
            plan("ends_1apr", "2016-03-31", "2017-04-01"),
            plan("ended_before", "2015-06-01", "2016-03-31"),
        ],
    )


def test_plan_ending_on_31_march_is_not_open_then(march_edges: CinData) -> None:
    out = measures.period_facts(march_edges, "2016-17")
    assert value(out, "cp_plans_at_31_march", "2016-17") == 3  # starts_31mar, open_all_year, ends_1apr
    assert value(out, "cp_plans_started", "2016-17") == 3  # starts_31mar, ends_31mar, open_all_year
    assert value(out, "cp_plans_ended", "2016-17") == 1  # ends_31mar (1 April is next year)
    previous = measures.snapshot_facts(march_edges, "2015-16")
    assert value(previous, "cp_plans_at_31_march", "2015-16") == 1  # ends_1apr started that day
    assert set(out["source"]) == {"synthetic"} and set(out["geography_code"]) == {"825"}
    assert set(out["geography_name"]) == {"Buckinghamshire"}


def test_snapshot_at_a_date_and_monthly_series_agree(march_edges: CinData) -> None:
    at = measures.snapshot_facts(march_edges, "2017-03-31")
    assert value(at, "cp_plans_at_date", "2017-03-31") == 3
    assert value(measures.snapshot_facts(march_edges, "2017-04"), "cp_plans_at_date",
                 "2017-04-30") == 2
    monthly = measures.series_facts(march_edges, "2016-17", "month")
    starts = monthly[(monthly["measure"] == "cp_plans_started") & (monthly["breakdown"] == "total")]
    assert starts["value"].sum() == 3 and len(starts) == 12
    assert value(monthly, "cp_plans_started", "2016-10") == 1
    wide = measures.series_frame(measures.series_facts(march_edges, "2016-17", "quarter"))
    assert wide.index.tolist() == [f"2016-17 Q{q}" for q in (1, 2, 3, 4)]
    assert wide["cp_plans_at_end"].tolist() == [2, 2, 3, 3]
    assert wide["cp_plans_ended"].tolist() == [0, 0, 0, 1]


# --- ICPC timeliness ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def icpc_cases() -> CinData:
    return cin_data(
        children=[child(c) for c in "abcdefg"],
        s47s=[
            s47("a", "2017-01-10", "2017-01-10"),  # same day: 0 working days
            s47("b", "2016-12-16", "2017-01-11"),  # Christmas holidays: exactly 15
            s47("c", "2016-12-16", "2017-01-12"),  # 16: late
            s47("d", "2017-04-10", "2017-05-04"),  # Easter 2017-18: 15
            # two s47s in one CIN episode recording the same ICPC: one ICPC, from the later s47
            s47("e", "2016-11-01", "2017-01-20"),
            s47("e", "2017-01-03", "2017-01-20"),
            # ICPC dated before its episode's only s47: counted, left out of timeliness
            s47("f", "2017-02-10", None),
            s47("f", "2017-03-01", "2017-02-01", cin="2"),
            s47("g", "2017-02-01", None, cin="1"),  # no ICPC
        ],
    )


def test_icpc_belongs_to_latest_s47_of_its_episode(icpc_cases: CinData) -> None:
    table = measures.icpc_table(icpc_cases)
    assert len(table) == 6
    e = table[table["child_id"] == "e"].iloc[0]
    assert e["s47_start_date"] == pd.Timestamp("2017-01-03") and e["working_days"] == 13
    f = table[table["child_id"] == "f"].iloc[0]
    assert pd.isna(f["s47_start_date"]) and pd.isna(f["working_days"])


def test_icpc_within_15_working_days(icpc_cases: CinData) -> None:
    out = measures.flow_facts(icpc_cases, "2016-17")
    assert value(out, "icpcs", "2016-17") == 5  # a, b, c, e, f
    assert value(out, "s47_enquiries", "2016-17") == 8
    assert value(out, "icpc_within_15_working_days", "2016-17") == 3  # a, b, e
    assert value(out, "icpc_within_15_working_days_pct", "2016-17") == pytest.approx(75.0)
    assert value(measures.flow_facts(icpc_cases, "2017-18"),
                 "icpc_within_15_working_days_pct", "2017-18") == 100.0


def test_conversion_ratios() -> None:
    data = cin_data(
        children=[child(c) for c in "abcd"],
        referrals=[referral(c, "2016-05-01") for c in "abcd"],
        s47s=[s47("a", "2016-05-02", "2016-05-20"), s47("b", "2016-05-02", "2016-05-20")],
        cp_plans=[plan("a", "2016-05-20")],
    )
    out = measures.flow_facts(data, "2016-17")
    assert value(out, "referral_to_s47_pct", "2016-17") == 50.0
    assert value(out, "s47_to_icpc_pct", "2016-17") == 100.0
    assert value(out, "icpc_to_cp_plan_pct", "2016-17") == 50.0
    empty = measures.flow_facts(data, "2015-16")
    row = empty[empty["measure"] == "referral_to_s47_pct"].iloc[0]
    assert pd.isna(row["value"]) and row["marker"] == "z"


# --- who the children are -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def profile() -> CinData:
    return cin_data(
        children=[
            child("unborn_expected", birth=None, expected="2017-05-01", gender="unknown"),
            child("born_may", birth="2017-05-01", gender="female", ethnicity="BAFR"),
            child("age5", birth="2012-03-01", gender="female", ethnicity="CHNE", disabled=True),
            child("age4", birth="2012-04-01", ethnicity="AIND"),
            child("age16", birth="2001-03-01", ethnicity="MWBC"),
            child("age0", birth="2016-04-01", ethnicity="NOBT"),
        ],
        cp_plans=[
            plan("unborn_expected", "2017-02-01", category="EMO"),
            plan("born_may", "2017-02-01", category="EMO", latest="NEG"),
            plan("age5", "2016-01-01", category="SAB"),
            plan("age4", "2016-01-01", category="PHY"),
            plan("age16", "2016-01-01", category="MUL"),
            plan("age0", "2016-06-01"),
        ],
    )


def test_breakdowns_at_31_march(profile: CinData) -> None:
    out = measures.snapshot_facts(profile, "2016-17")

    def by(measure: str, key: str) -> dict[str, float]:
        rows = out[out["measure"] == measure]
        return {b.split("=")[1]: v for b, v in zip(rows["breakdown"], rows["value"], strict=True)
                if b.startswith(key) and v > 0}

    assert by("cp_by_age_band", "age_band") == {"unborn": 2, "under_1": 1, "1_4": 1, "5_9": 1,
                                                "16_plus": 1}
    assert by("cp_by_gender", "gender") == {"unborn": 2, "female": 1, "male": 3}
    assert by("cp_by_category", "category") == {"emotional_abuse": 2, "sexual_abuse": 1,
                                                "physical_abuse": 1, "multiple": 1, "neglect": 1}
    assert by("cp_by_latest_category", "category")["neglect"] == 2
    assert by("cp_by_ethnicity", "ethnicity") == {"WBRI": 1, "BAFR": 1, "CHNE": 1, "AIND": 1,
                                                  "MWBC": 1, "NOBT": 1}
    groups = by("cp_by_ethnic_group", "ethnic_group")
    # Chinese is under Asian in DfE's 2022-release groups, so no one is in Other.
    assert groups == {"White": 1, "Black or Black British": 1, "Asian or Asian British": 2,
                      "Mixed": 1, "Not obtained": 1}
    assert by("cp_by_disability", "disability") == {"disabled": 1, "not_disabled": 5}
    # Zero categories are kept as explicit zeros.
    assert value(out, "cp_by_age_band", "2016-17", "age_band=10_15") == 0


def test_child_born_after_the_date_is_unborn_only_until_birth(profile: CinData) -> None:
    later = measures.snapshot_facts(profile, "2017-06-30")
    # born_may is now under 1; age0 (born April 2016) has turned 1; unborn_expected is still unborn.
    assert value(later, "cp_by_age_band", "2017-06-30", "age_band=unborn") == 1
    assert value(later, "cp_by_age_band", "2017-06-30", "age_band=under_1") == 1
    assert value(later, "cp_by_age_band", "2017-06-30", "age_band=1_4") == 1
    assert value(later, "cp_by_gender", "2017-06-30", "gender=female") == 2


# --- repeat plans -------------------------------------------------------------------------------


def test_second_or_subsequent_plans() -> None:
    data = cin_data(
        children=[child(c) for c in ("twice", "recorded", "first")],
        cp_plans=[
            plan("twice", "2015-05-01", "2016-01-10", pid="1"),
            plan("twice", "2016-06-01", pid="2"),  # earlier plan in the data, previous not recorded
            plan("recorded", "2016-07-01", previous=2),  # earlier plans before the data began
            plan("first", "2016-08-01"),
        ],
    )
    out = measures.flow_facts(data, "2016-17")
    assert value(out, "cp_plans_started", "2016-17") == 3
    assert value(out, "cp_plans_second_or_subsequent", "2016-17") == 2
    assert value(out, "cp_second_or_subsequent_pct", "2016-17") == pytest.approx(200 / 3)
    assert value(measures.flow_facts(data, "2014-15"), "cp_plans_second_or_subsequent", "2014-15") == 0
    assert value(measures.snapshot_facts(data, "2016-17"), "cp_plans_at_31_march", "2016-17") == 3


# --- reviews ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review_cases() -> CinData:
    return cin_data(
        children=[child(c) for c in ("feb28", "late", "leap", "six_ok", "overdue", "new", "chain")],
        cp_plans=[
            plan("feb28", "2016-11-30"),
            plan("late", "2016-11-30"),
            plan("leap", "2015-11-30", "2016-04-15"),
            plan("six_ok", "2016-09-15"),
            plan("overdue", "2016-06-01"),
            plan("new", "2017-01-15"),
            plan("chain", "2016-04-10"),
        ],
        reviews=[
            review("feb28", "2017-02-28"),  # due 30 Nov + 3 months = 28 Feb 2017: on time
            review("late", "2017-03-01"),  # one day late
            review("leap", "2016-02-29"),  # due 29 Feb 2016 (leap year): on time
            review("six_ok", "2016-12-15"),  # on time; next due 15 Jun 2017
            review("overdue", "2016-08-20"),  # on time, but next was due 20 Feb 2017 and not held
            review("chain", "2016-07-10"),  # due 10 Jul: on time
            review("chain", "2017-01-11"),  # due 10 Jan 2017: one day late
        ],
    )


def test_dfe_reviews_in_timescale_at_31_march(review_cases: CinData) -> None:
    # Eligible (on a plan 3+ months at 31 March 2017): feb28, late, six_ok, overdue, chain.
    # All on time: feb28, six_ok.
    assert measures.reviews_in_timescale(review_cases, "2016-17") == (2, 5)
    out = measures.snapshot_facts(review_cases, "2016-17")
    assert value(out, "cp_plans_3_months_or_more", "2016-17") == 5
    assert value(out, "cp_reviews_in_timescale", "2016-17") == 2
    assert value(out, "cp_reviews_in_timescale_pct", "2016-17") == pytest.approx(40.0)
    # On 28 Feb 2017 the 30 Nov plans reach 3 months: feb28 reviewed that day, late not yet.
    assert measures.reviews_in_timescale(review_cases, "2017-02-28")[1] == 5


def test_review_conferences_held_in_timescale(review_cases: CinData) -> None:
    out = measures.flow_facts(review_cases, "2016-17")
    # Reviews held in 2016-17: feb28, late, six_ok, overdue, chain x2 -> on time: 4 of 6.
    assert value(out, "review_conferences", "2016-17") == 6
    assert value(out, "review_conferences_in_timescale", "2016-17") == 4
    previous = measures.flow_facts(review_cases, "2015-16")
    assert value(previous, "review_conferences_in_timescale_pct", "2015-16") == 100.0


def test_three_months_after_clamps_to_month_end() -> None:
    starts = pd.Series(pd.to_datetime(["2016-11-30", "2015-11-30", "2016-08-31", "2017-01-15"]))
    assert measures.add_months(starts, 3).dt.strftime("%Y-%m-%d").tolist() == [
        "2017-02-28", "2016-02-29", "2016-11-30", "2017-04-15"]


# --- durations ----------------------------------------------------------------------------------


def test_duration_bands_at_a_date_and_at_end() -> None:
    starts = ["2017-03-10", "2017-02-01", "2016-12-31", "2016-12-30", "2016-10-01", "2016-04-01",
              "2016-03-31", "2015-03-31", "2014-03-31", "2013-01-01"]
    data = cin_data(
        children=[child(f"c{i}") for i in range(len(starts))] + [child("e1"), child("e2")],
        cp_plans=[plan(f"c{i}", s) for i, s in enumerate(starts)]
        + [plan("e1", "2015-01-10", "2017-01-10"), plan("e2", "2016-10-01", "2016-10-20")],
    )
    out = measures.snapshot_facts(data, "2016-17")
    # Days/months to 31 Mar 2017: 21 d, 58 d, 3 m exactly, 3 m + 1 d, 6 m exactly, < 1 y,
    # 1 day under 6 m, < 1 y, 1 y exactly, 2 y exactly, 3 y exactly, > 4 y.
    dfe = {"3_months_or_less": 3, "3_to_6_months": 2, "6_months_to_1_year": 1,
           "1_to_2_years": 1, "2_years_or_more": 3}
    report = {"under_4_weeks": 1, "4_to_8_weeks": 0, "8_weeks_to_3_months": 1,
              "3_to_6_months": 3, "6_to_12_months": 1, "1_to_2_years": 1, "2_to_3_years": 1,
              "3_years_plus": 2}
    for band, n in dfe.items():
        assert value(out, "cp_by_duration", "2016-17", f"duration={band}") == n, band
    for band, n in report.items():
        assert value(out, "cp_by_duration_report", "2016-17", f"duration={band}") == n, band
    assert value(out, "cp_plans_2_years_or_more_pct", "2016-17") == pytest.approx(30.0)
    assert value(out, "cp_by_duration_pct", "2016-17", "duration=2_years_or_more") == 30.0
    ended = measures.flow_facts(data, "2016-17")
    assert value(ended, "cp_plans_ended_by_duration", "2016-17", "duration=2_years_or_more") == 1
    assert value(ended, "cp_plans_ended_by_duration", "2016-17", "duration=3_months_or_less") == 1
    assert value(ended, "cp_plans_ended_by_duration_report", "2016-17",
                 "duration=under_4_weeks") == 1
    assert value(ended, "cp_plans_ended_by_duration_pct", "2016-17",
                 "duration=2_years_or_more") == 50.0


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "label"),
    [
        ("2016-17", "year", "2016-04-01", "2017-03-31", "2016-17"),
        (2017, "year", "2016-04-01", "2017-03-31", "2016-17"),
        ("2016-17 Q3", "quarter", "2016-10-01", "2016-12-31", "2016-17 Q3"),
        ("2016-02", "month", "2016-02-01", "2016-02-29", "2016-02"),
        ("2017-03-31", "date", "2017-03-31", "2017-03-31", "2017-03-31"),
    ],
)
def test_parse_period(text: object, kind: str, start: str, end: str, label: str) -> None:
    p = measures.parse_period(text)
    assert (p.kind, p.start, p.end, p.label) == (kind, pd.Timestamp(start), pd.Timestamp(end), label)


@pytest.mark.parametrize("text", ["2016-18", "2017-13", "2017-02-30", "Q4"])
def test_bad_period_is_a_parameter_error(text: str) -> None:
    with pytest.raises(ParameterError):
        measures.parse_period(text)


def test_all_measures_is_unique_and_covers_the_years(march_edges: CinData) -> None:
    out = measures.all_measures(march_edges, years=["2016-17"])
    assert not out.duplicated(["measure", "period", "breakdown"]).any()
    assert value(out, "cp_plans_at_date", "2017-03-31") == value(
        out, "cp_plans_at_31_march", "2016-17")
    assert {"2016-17", "2016-17 Q4", "2017-03"} <= set(out["period"])


def test_isin_matches_pandas_including_missing_values() -> None:
    values = pd.Series(["a", "b", None, "c", "a"], dtype="string", index=[5, 6, 7, 8, 9])
    allowed = pd.Series(["a", "c", None], dtype="string")
    assert measures.isin(values, allowed).tolist() == [True, False, False, True, True]
    assert measures.isin(values, allowed).index.tolist() == [5, 6, 7, 8, 9]
    assert not measures.isin(values, []).any()


def test_an_icpc_led_to_a_plan_when_the_child_s_plan_started_that_day():
    from cpstats.measures import icpc_led_to_plan

    icpcs = pd.DataFrame({"child_id": ["a", "a", "b", "c"],
                          "icpc_date": pd.to_datetime(["2016-05-02", "2016-09-01",
                                                       "2016-06-10", "2016-07-01"])})
    plans = pd.DataFrame({"child_id": ["a", "b", "b", "d"],
                          "start_date": pd.to_datetime(["2016-05-02", "2016-06-11",
                                                        "2016-06-10", "2016-07-01"])})
    # a: plan on the first ICPC's day only; b: one plan that day (and one the day after);
    # c: none; d's plan belongs to no ICPC. Counted per ICPC: 2 of 4, never more than one each.
    assert icpc_led_to_plan(icpcs, plans).tolist() == [True, False, True, False]
