"""cpstats' implementation of DfE CIN Census validation rules (``cpstats.rules``).

Each rule has a failing case and a passing case. Failing cases are records from the
synthetic returns as ``cpstats synth`` wrote them before its returns were made to pass
DfE's rules (data/synthetic/cin_census_2016.xml and _2017.xml, seed 2017), dates as they
were; rules those files passed start from one of their records with the change named.
The passing case is the same record put right.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from cpstats import rules
from cpstats.childlevel import TABLES, CinData, conform_table

REF = date(2017, 3, 31)
D = pd.Timestamp


def census(ref: date = REF, **tables: list[dict]) -> rules.Census:
    """A one-child return (child "A", episode "e1" unless given) from a few records."""
    frames = {}
    for name in TABLES:
        rows = [{"child_id": "A", **({"cin_id": "e1"} if name != "children" else {}), **row}
                for row in tables.get(name, [])]
        if name == "children" and not rows:
            rows = [{"child_id": "A", "disabilities": "NONE"}]
        if name == "referrals" and not rows:
            rows = [{"referral_date": D("2016-06-01")}]
        frames[name] = conform_table(name, pd.DataFrame(rows, columns=None if rows else ["child_id"]))
    return rules.Census.of(CinData(la_code="825", reference_date=ref, **frames))


def fails(code: str, case: rules.Census) -> int:
    """Children failing rule ``code``."""
    rule = next(r for r in rules.all_rules() if r.code == code)
    return rule.find(case).nunique()


REFERRAL = {"referral_date": D("2016-09-10"), "nfa": False}
# code -> (failing case, passing case)
CASES = {
    # 2017 return: ICPC 2015-11-02 moved to the day before its referral (2015-10-17).
    "1104": ({"referrals": [{"referral_date": D("2015-10-17")}],
              "s47s": [{"s47_start_date": D("2015-10-23"), "icpc_date": D("2015-10-16")}]},
             {"referrals": [{"referral_date": D("2015-10-17")}],
              "s47s": [{"s47_start_date": D("2015-10-23"), "icpc_date": D("2015-11-02")}]}),
    # 2017 return: plan started 2016-04-04 with its ICPC moved to 2016-04-05.
    "2885": ({"s47s": [{"s47_start_date": D("2016-03-20"), "icpc_date": D("2016-04-05")}],
              "cp_plans": [{"plan_id": "p", "start_date": D("2016-04-04")}]},
             {"s47s": [{"s47_start_date": D("2016-03-20"), "icpc_date": D("2016-04-04")}],
              "cp_plans": [{"plan_id": "p", "start_date": D("2016-04-04")}]}),
    # 2017 return: closed RC9 2016-11-04 after an s47 from 2016-09-12.
    "2990": ({"referrals": [{**REFERRAL, "closure_date": D("2016-11-04"), "closure_reason": "RC9"}],
              "s47s": [{"s47_start_date": D("2016-09-12"), "icpc_not_required": True}]},
             {"referrals": [{**REFERRAL, "closure_date": D("2016-11-04"), "closure_reason": "RC7"}],
              "s47s": [{"s47_start_date": D("2016-09-12"), "icpc_not_required": True}]}),
    # 2017 return: NFA referral 2016-02-27 with a CIN plan 2016-04-06 to 2017-01-02.
    "4000": ({"referrals": [{"referral_date": D("2016-02-27"), "nfa": True}],
              "cin_plans": [{"start_date": D("2016-04-06"), "end_date": D("2017-01-02")}]},
             {"referrals": [{"referral_date": D("2016-02-27"), "nfa": False}],
              "cin_plans": [{"start_date": D("2016-04-06"), "end_date": D("2017-01-02")}]}),
    # 2017 return: CIN plan 2015-07-28 to 2016-03-30, ended before the year.
    "4013": ({"cin_plans": [{"start_date": D("2015-07-28"), "end_date": D("2016-03-30")}]},
             {"cin_plans": [{"start_date": D("2015-07-28"), "end_date": D("2016-05-30")}]}),
    # 2017 return: step-down CIN plan from the CP plan's end 2016-12-29, moved a day earlier.
    "4016": ({"cp_plans": [{"plan_id": "p", "start_date": D("2015-11-02"),
                            "end_date": D("2016-12-29")}],
              "cin_plans": [{"start_date": D("2016-12-28")}]},
             {"cp_plans": [{"plan_id": "p", "start_date": D("2015-11-02"),
                            "end_date": D("2016-12-29")}],
              "cin_plans": [{"start_date": D("2016-12-29")}]}),
    # 2017 return: closed 2017-01-02, ICPC 2017-01-03.
    "8565": ({"referrals": [{"referral_date": D("2016-11-26"), "closure_date": D("2017-01-02"),
                             "closure_reason": "RC7"}],
              "s47s": [{"s47_start_date": D("2016-12-01"), "icpc_date": D("2017-01-03")}]},
             {"referrals": [{"referral_date": D("2016-11-26"), "closure_date": D("2017-01-09"),
                             "closure_reason": "RC7"}],
              "s47s": [{"s47_start_date": D("2016-12-01"), "icpc_date": D("2017-01-03")}]}),
    # 2017 return: NFA referral of 2015-10-02 still open across the year start.
    "8569Q": ({"referrals": [{"referral_date": D("2015-10-02"), "nfa": True,
                              "closure_date": D("2016-04-20")}]},
              {"referrals": [{"referral_date": D("2016-10-02"), "nfa": True,
                              "closure_date": D("2016-10-02")}]}),
    # A 2017 episode's closure reason changed to RC2 (died), no date of death.
    "8585Q": ({"referrals": [{**REFERRAL, "closure_date": D("2016-11-04"),
                              "closure_reason": "RC2"}]},
              {"children": [{"disabilities": "NONE", "death_date": D("2016-11-04")}],
               "referrals": [{**REFERRAL, "closure_date": D("2016-11-04"),
                              "closure_reason": "RC2"}]}),
    # 2017 return: assessment 2016-09-12 authorised 2016-10-06, dates swapped.
    "8608": ({"assessments": [{"start_date": D("2016-10-06"), "authorised_date": D("2016-09-12")}]},
             {"assessments": [{"start_date": D("2016-09-12"), "authorised_date": D("2016-10-06")}]}),
    # 2017 return: assessment from 2017-03-07, not authorised, with factors 11A,16A.
    "8614": ({"assessments": [{"start_date": D("2017-03-07"), "factors": "11A,16A"}]},
             {"assessments": [{"start_date": D("2017-03-07")}]}),
    # 2016 return: episode closed 2016-07-11 (after its reference date); the 2017 return
    # holds the closure.
    "8620": ({"referrals": [{"referral_date": D("2016-02-01"), "closure_date": D("2016-07-11"),
                             "closure_reason": "RC7"}]},
             {"referrals": [{"referral_date": D("2016-02-01"), "closure_date": D("2016-03-11"),
                             "closure_reason": "RC7"}]}),
    # 2017 return: s47 from 2017-02-17, no ICPC, ICPCnotRequired false.
    "8675Q": ({"s47s": [{"s47_start_date": D("2017-02-17"), "icpc_not_required": False}]},
              {"s47s": [{"s47_start_date": D("2017-02-17"), "icpc_not_required": True}]}),
    # 2017 return: assessment authorised 2015-08-23.
    "8696": ({"assessments": [{"start_date": D("2015-08-07"), "authorised_date": D("2015-08-23")}]},
             {"assessments": [{"start_date": D("2016-08-07"), "authorised_date": D("2016-08-23")}]}),
    # 2017 return: ICPC 2015-11-02.
    "8715": ({"s47s": [{"s47_start_date": D("2015-10-23"), "icpc_date": D("2015-11-02")}]},
             {"s47s": [{"s47_start_date": D("2016-10-24"), "icpc_date": D("2016-11-02")}]}),
    # A 2017 child's disability AUT given with NONE.
    "8790": ({"children": [{"disabilities": "NONE,AUT"}]}, {"children": [{"disabilities": "AUT"}]}),
    # A 2017 child's disability AUT given twice.
    "8794": ({"children": [{"disabilities": "AUT,AUT"}]},
             {"children": [{"disabilities": "AUT,BEH"}]}),
    # 2017 return: NFA referral closed RC8 on the day, no assessment.
    "8825Q": ({"referrals": [{"referral_date": D("2016-08-04"), "nfa": True,
                              "closure_date": D("2016-08-04"), "closure_reason": "RC8"}]},
              {"referrals": [{"referral_date": D("2016-08-04"), "nfa": True,
                              "closure_date": D("2016-08-04"), "closure_reason": "RC7"}]}),
    # 2017 return: the assessment of 2016-09-12 in a referral marked NFA.
    "8831": ({"referrals": [{**REFERRAL, "nfa": True}],
              "assessments": [{"start_date": D("2016-09-12")}]},
             {"referrals": [{**REFERRAL, "nfa": True}]}),
    # 2017 return: closed 2016-10-11 with an s47 of 2016-09-02 neither conferenced nor
    # marked ICPC not required.
    "8868": ({"referrals": [{"referral_date": D("2016-08-31"), "closure_date": D("2016-10-11"),
                             "closure_reason": "RC7"}],
              "s47s": [{"s47_start_date": D("2016-09-02"), "icpc_not_required": False}]},
             {"referrals": [{"referral_date": D("2016-08-31"), "closure_date": D("2016-10-11"),
                             "closure_reason": "RC7"}],
              "s47s": [{"s47_start_date": D("2016-09-02"), "icpc_not_required": True}]}),
    # 2017 return: plan 2015-11-02 to 2016-12-29, dates swapped.
    "8925": ({"cp_plans": [{"plan_id": "p", "start_date": D("2016-12-29"),
                            "end_date": D("2015-11-02")}]},
             {"cp_plans": [{"plan_id": "p", "start_date": D("2015-11-02"),
                            "end_date": D("2016-12-29")}]}),
    # 2017 return: plan 2015-05-21 to 2016-02-29, ended before the year.
    "8930": ({"cp_plans": [{"plan_id": "p", "start_date": D("2015-05-21"),
                            "end_date": D("2016-02-29")}]},
             {"cp_plans": [{"plan_id": "p", "start_date": D("2015-05-21"),
                            "end_date": D("2016-06-29")}]}),
}
REFS = {"8620": date(2016, 3, 31)}


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fails_the_synthetic_record_and_passes_it_put_right(code: str) -> None:
    failing, passing = CASES[code]
    ref = REFS.get(code, REF)
    assert fails(code, census(ref, **failing)) == 1
    assert fails(code, census(ref, **passing)) == 0


def test_every_rule_has_a_case_and_the_listed_codes_are_all_there() -> None:
    codes = {r.code for r in rules.all_rules()}
    assert codes == set(CASES)
    assert {"1104", "2885", "2990", "4000", "4013", "4016", "8565", "8569Q", "8585Q", "8608",
            "8614", "8620", "8675Q", "8696", "8715", "8790", "8794", "8825Q", "8831", "8868",
            "8925", "8930"} <= codes


def test_rule_sets_per_year_are_deltas_of_the_previous_year() -> None:
    before = {r.code for r in rules.rules_for(2021)}
    after = {r.code for r in rules.rules_for(2022)}
    added, removed = rules.changes(2022)
    assert after == before | {r.code for r in added} and not removed
    assert {r.code for r in added} == {"4000", "4013", "4016"}  # CINPlanDates from 2022
    assert rules.changes(2018) == ([], [])
    assert "4000" not in before and len(rules.rules_for(2017)) == len(rules.all_rules()) - 3


def test_run_counts_children_not_records() -> None:
    case = census(**{"s47s": [{"s47_start_date": D("2015-10-23"), "icpc_date": D("2015-11-02")},
                              {"s47_start_date": D("2015-12-23"), "icpc_date": D("2016-01-02")}]})
    table = rules.run(case).set_index("code")
    assert table.loc["8715", ["records", "children"]].tolist() == [2, 1]
    assert table.loc["8620", "children"] == 0 and table.loc["8715", "kind"] == "error"
    assert table.loc["8675Q", "kind"] == "query"


def test_rules_do_not_import_the_readers() -> None:
    import subprocess
    import sys

    code = ("import sys, cpstats.rules as r; r.all_rules(); "
            "print(sorted(m for m in sys.modules if m.startswith('cpstats.io')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
