"""Reader for DfE *Characteristics of children in need* underlying data CSVs.

Each published table (a1 ... d8) is recognised by its columns -- and a1/a2, which
share columns, by their ``category`` values -- never by its file name. Column
names are matched case-insensitively and through :data:`ALIASES`, so other
releases' renamings (``Referrals`` vs ``referral_count``) still read. Every
value cell becomes one fact; suppression markers (``c``, ``x``, ``z`` ...) stay
as markers beside a missing value, never 0. LA rows are keyed by the DfE LA
number through :mod:`cpstats.geography`, so Buckinghamshire is ``825`` whether a
file says E10000002 or E06000060.

Measure names follow the results contract in ``design.md`` where one exists
(``cp_plans_at_31_march``, ``cp_rate_per_10k``, ``referrals``, ``s47_enquiries``,
``icpcs``, ``cp_by_category`` ...); :data:`TABLES` lists every mapping.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cpstats import geography
from cpstats.checks import register_checker
from cpstats.codes import MEASURE_RENAMES
from cpstats.errors import InputError, Problem, display_path
from cpstats.facts import (
    FACT_COLUMNS,
    MARKERS,
    NOTE_COLUMN,
    TOTAL,
    implausible,
    make_facts,
    sort,
)
from cpstats.io.files import regular_files
from cpstats.periods import year_label

SOURCE = "dfe"
PERCENT_SUFFIX = "_percent"

# ---------------------------------------------------------------------------------------------
# Table specifications


@dataclass(frozen=True)
class Col:
    """How one published value column becomes facts.

    ``measure`` may start with ``{row}``: the row's own measure (long tables, where each
    row is a different quantity). ``month`` (1-12) makes the period that calendar month.
    """

    measure: str
    unit: str = "count"
    breakdown: str = TOTAL
    month: int | None = None


@dataclass(frozen=True)
class Table:
    """A published DfE CIN table: its value columns and, for national long tables, its rows."""

    name: str
    title: str
    columns: Mapping[str, Col]
    #: Columns whose joined values label a row (``characteristic`` ...); with ``rows``.
    row_key: tuple[str, ...] = ()
    #: Row label -> (measure for ``{row}`` columns, breakdown added to every fact of the row).
    rows: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)
    #: ``category`` values that tell a1 from a2 (identical columns).
    categories: frozenset[str] = frozenset()
    #: Drop cells marked ``z`` (not applicable): in long tables every row has a rate and a
    #: percent column although most rows have only one of them.
    drop_not_applicable: bool = False

    @property
    def required(self) -> frozenset[str]:
        """Lower-case keys of the columns that identify the table."""
        names = [*self.columns, *self.row_key, *(["category"] if self.categories else [])]
        return frozenset(n.lower() for n in names)


def _with(column: str, measure: str, rate: bool = False, pct: bool = False,
          rate_measure: str | None = None, pct_measure: str | None = None) -> dict[str, Col]:
    """A count column and its ``_rate`` (per 10,000 children) / ``_percent`` companions."""
    out = {column: Col(measure)}
    if rate:
        out[f"{column}_rate"] = Col(rate_measure or f"{measure}_rate_per_10k", "rate")
    if pct:
        out[f"{column}{PERCENT_SUFFIX}"] = Col(pct_measure or f"{measure}_pct", "percent")
    return out


def _split(measure: str, key: str, columns: Mapping[str, str], pct: bool = False,
           unit: str = "count") -> dict[str, Col]:
    """Columns that split one quantity, ``{column: value}`` -> breakdown ``key=value``."""
    out = {col: Col(measure, unit, f"{key}={value}") for col, value in columns.items()}
    if pct:
        out |= {f"{col}{PERCENT_SUFFIX}": Col(f"{measure}_pct", "percent", f"{key}={value}")
                for col, value in columns.items()}
    return out


def _lower(columns: list[str], prefix: str = "") -> dict[str, str]:
    return {c: c.lower().removeprefix(prefix) for c in columns}


_CATEGORY = {"Neglect": "neglect", "Physical": "physical_abuse", "Sexual": "sexual_abuse",
             "Emotional": "emotional_abuse", "Multiple": "multiple"}
_PLAN_BANDS = {  # DfE's CP plan length bands -> codes.DURATION_BANDS keys
    "3_months_or_less": "3_months_or_less",
    "more_than_3_months_6_months": "3_to_6_months",
    "more_than_6_months_less_than_1_year": "6_months_to_1_year",
    "1_year_less_than_2_years": "1_to_2_years",
    "2_years_or_more": "2_years_or_more",
}
_CIN_BANDS = {**{k: v for k, v in _PLAN_BANDS.items() if k != "2_years_or_more"},
              "2years+": "2_years_or_more"}
_ICPC_BANDS = {"Duration_0-10_days": "0_10", "Duration_11-15_days": "11_15",
               "Duration_16-20_days": "16_20", "Duration_21+_days": "21_plus"}
_MONTHS = ["April", "May", "June", "July", "August", "September", "October", "November",
           "December", "January", "February", "March"]
_AGE = {"Unborn": "unborn", "Under 1": "under_1", "Under 1 year": "under_1",
        "1 to 4 years": "1_4", "1-4 years": "1_4", "5 to 9 years": "5_9", "5-9 years": "5_9",
        "10 to 15 years": "10_15", "10-15 years": "10_15", "16 years and over": "16_plus",
        "16 & over": "16_plus"}
_GENDER = {"Female": "female", "Male": "male", "Unknown or Indeterminate gender": "unknown"}
# DfE's five groups use codes.ETHNIC_GROUPS labels (as the child-level measures do); "known"
# is the sum of the five. In these tables Chinese is counted under Asian (a7's Asian total
# includes it), not under Other as codes.ETHNIC_GROUP_OF has it.
_ETHNIC_GROUP = {"White": "White", "Mixed": "Mixed", "Asian or Asian British": "Asian or Asian British",
                 "Black or Black British": "Black or Black British",
                 "Other ethnic group": "Other ethnic group", "Known ethnicity": "known"}
# a7's detailed groups -> CIN Census codes (Gypsy/Roma and Irish Traveller are one group there).
_A7_ETHNICITY = {
    "White British": "WBRI", "White Irish": "WIRI", "Gypsy or Irish Traveller": "WIRT+WROM",
    "Any other White background": "WOTH", "White and Black Caribbean": "MWBC",
    "White and Black African": "MWBA", "White and Asian": "MWAS",
    "Any other mixed background": "MOTH", "Indian": "AIND", "Pakistani": "APKN",
    "Bangladeshi": "ABAN", "Chinese": "CHNE", "Any other Asian background": "AOTH",
    "Black African": "BAFR", "Black Caribbean": "BCRB", "Any other Black background": "BOTH",
    "Any other ethnic group": "OOTH",
}


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _gender_age_rows() -> dict[str, tuple[str | None, str]]:
    """a3/a4 ``characteristic``: 'Female Aged 1 to 4 years' -> 'gender=female;age_band=1_4'."""
    rows: dict[str, tuple[str | None, str]] = {"Total": (None, TOTAL), "Unborn": (None, "age_band=unborn"),
                                               "Unknown or Indeterminate gender": (None, "gender=unknown")}
    for gender in ("Female", "Male", "Total"):
        parts = [] if gender == "Total" else [f"gender={gender.lower()}"]
        if parts:
            rows[gender] = (None, parts[0])
        for label in ("Under 1 year", "1 to 4 years", "5 to 9 years", "10 to 15 years",
                      "16 years and over"):
            rows[f"{gender} Aged {label}"] = (None, ";".join([*parts, f"age_band={_AGE[label]}"]))
    return rows


def _a5_rows() -> dict[str, tuple[str | None, str]]:
    rows: dict[str, tuple[str | None, str]] = {"Gender|Total": ("cp_plans_at_31_march", TOTAL)}
    rows |= {f"Gender|{k}": ("cp_by_gender", f"gender={v}") for k, v in _GENDER.items()}
    rows |= {f"Age|{k}": ("cp_by_age_band", f"age_band={v}") for k, v in _AGE.items()
             if "-" in k or "&" in k or k in ("Unborn", "Under 1")}
    rows |= {f"Ethnicity|{k}": ("cp_by_ethnic_group", f"ethnic_group={v}")
             for k, v in _ETHNIC_GROUP.items()}
    return rows


def _a7_rows() -> dict[str, tuple[str | None, str]]:
    rows: dict[str, tuple[str | None, str]] = {"Total|Total": ("children_in_need_at_31_march", TOTAL),
                                               "Unborn|Unborn": ("cin_by_age_band", "age_band=unborn")}
    rows |= {f"Gender|{k}": ("cin_by_gender", f"gender={v}") for k, v in _GENDER.items()}
    rows |= {f"Age|{k}": ("cin_by_age_band", f"age_band={v}") for k, v in _AGE.items()
             if k.endswith(("year", "years", "over")) and "-" not in k}
    groups = {"Known ethnicity": "known", "Total White": "White", "Total mixed": "Mixed",
              "Total Asian or Asian British": "Asian or Asian British",
              "Total Black or Black British": "Black or Black British",
              "Any other ethnic group": "Other ethnic group"}
    rows |= {f"Ethnicity|{k}": ("cin_by_ethnic_group", f"ethnic_group={v}") for k, v in groups.items()}
    # "Any other ethnic group" is both a group and a code: the group row wins, OOTH is the same.
    rows |= {f"Ethnicity|{k}": ("cin_by_ethnicity", f"ethnicity={v}")
             for k, v in _A7_ETHNICITY.items() if k not in groups}
    return rows


_LONG_COLUMNS = {"number": Col("{row}"), "rate": Col("{row}_rate_per_10k", "rate"),
                 "percent": Col("{row}_pct", "percent")}
_A1_ROWS = {
    "Episodes of need at any point in the year": "cin_episodes_any_point",
    "Children in Need at any point during the year": "children_in_need_any_point",
    "Episodes of need starting in the year": "cin_episodes_started",
    "Children starting an episode of need in the year": "children_starting_cin",
    "Episodes of need ending in the year": "cin_episodes_ended",
    "Children ending an episode of need in the year": "children_ending_cin",
    "Children in Need at 31 March": "children_in_need_at_31_march",
    "Children awaiting assessment or assessment not required at 31 March": "children_awaiting_assessment",
    "Referrals in the year": "referrals",
    "Re-referrals within 12 months of a previous referral": "re_referrals",
    "Referral - No Further Action": "referrals_nfa",
    "Referral - Assessed as not in Need": "referrals_not_in_need",
    "Children referred in the year": "children_referred",
    "Children re-referred within 12 months of a previous referral": "children_re_referred",
    "Assessments completed in the year": "assessments_completed",
}
_A2_ROWS: dict[str, tuple[str | None, str]] = {
    "Section 47s in the year": ("s47_enquiries", TOTAL),
    "Children subject to a Section 47 in the year": ("children_s47", TOTAL),
    "ICPCs in the year": ("icpcs", TOTAL),
    "Children subject to an ICPC in the year": ("children_icpc", TOTAL),
    "CPP at 31 March": ("cp_plans_at_31_march", TOTAL),
    "Children subject to a CPP for 3 months or more": ("cp_plans_3_months_or_more", TOTAL),
    "CPP for 3 months or more reviewed within timescales": ("cp_reviews_in_timescale", TOTAL),
    "CPPs starting in the year": ("cp_plans_started", TOTAL),
    "CPPs starting which were a second or subsequent plan": ("cp_plans_second_or_subsequent", TOTAL),
    "Children starting CPPs in the year": ("children_starting_cp_plan", TOTAL),
    "CPPs ending in the year": ("cp_plans_ended", TOTAL),
    "CPPs ending that had lasted two years or more": ("cp_plans_ended_by_duration",
                                                      "duration=2_years_or_more"),
    "Children ending CPPs in the year": ("children_ending_cp_plan", TOTAL),
}
#: Measure names a generic rule would give -> the contract's name for the same figure.
RENAMES = MEASURE_RENAMES

_CIN_AT31 = _with("At31_episodes", "children_in_need_at_31_march")

#: Every table of the release, in priority order: when two tables publish the same
#: figure (d1 and d4 both give children on plans at 31 March), the earlier one is kept.
TABLES: tuple[Table, ...] = (
    Table("d1", "Child protection plans", {
        **_with("CPP_start", "cp_plans_started", rate=True),
        **_with("CPP_child_start", "children_starting_cp_plan", rate=True),
        **_with("CPP_end", "cp_plans_ended", rate=True),
        **_with("CPP_child_end", "children_ending_cp_plan", rate=True),
        **_with("CPP_anypoint", "cp_plans_any_point", rate=True),
        **_with("CPP_child_anypoint", "children_on_cp_plan_any_point", rate=True),
        **_with("CPP_At31", "cp_plans_at_31_march", rate=True, rate_measure="cp_rate_per_10k"),
    }),
    Table("d3", "Child protection plans which are a second or subsequent plan", {
        **_with("CPP_start", "cp_plans_started"),
        **_with("CPP_subsequent", "cp_plans_second_or_subsequent", pct=True,
                pct_measure="cp_second_or_subsequent_pct"),
    }),
    Table("d4", "Children on child protection plans at 31 March by category of abuse", {
        **_with("CPP_At31", "cp_plans_at_31_march"),
        **_split("cp_by_category", "category", {f"{k}_Initial": v for k, v in _CATEGORY.items()}),
        **_split("cp_by_latest_category", "category",
                 {f"{k}_Latest": v for k, v in _CATEGORY.items()}),
    }),
    Table("d5", "Children on child protection plans at 31 March by length of plan", {
        **_with("CPP_At31", "cp_plans_at_31_march"),
        **_split("cp_by_duration", "duration", _PLAN_BANDS, pct=True),
    }),
    Table("d6", "Child protection plans reviewed within timescales", {
        **_with("CPP_At31_3Months", "cp_plans_3_months_or_more"),
        **_with("Reviewed_within_timescales", "cp_reviews_in_timescale", pct=True),
    }),
    Table("d7", "Child protection plans ending by length of plan", {
        **_with("CPP_End", "cp_plans_ended"),
        **_split("cp_plans_ended_by_duration", "duration", _PLAN_BANDS, pct=True),
    }),
    Table("d2", "Child protection plans starting by initial and latest category of abuse", {
        **_with("CPP_start", "cp_plans_started"),
        **_split("cp_plans_started_by_category", "category",
                 {f"{k}_Initial": v for k, v in _CATEGORY.items()}),
        **_split("cp_plans_started_by_latest_category", "category",
                 {f"{k}_Latest": v for k, v in _CATEGORY.items()}),
    }),
    Table("d8", "Child protection plans ending in the first six months of the year by length", {
        **_with("CPP_End_first_6months", "cp_plans_ended_first_6_months_of_year"),
        **_split("cp_plans_ended_first_6_months_of_year_by_duration", "duration", {
            "3_months_or_less": "3_months_or_less",
            "3_months_or_less_transfer": "3_months_or_less_transfer_in",
            "more_than_3_months_6_months": "3_to_6_months",
            "more_than_6_months": "more_than_6_months"}, pct=True),
    }),
    Table("c1", "Referrals and re-referrals", {
        **_with("Referrals", "referrals", rate=True),
        **_with("Re_referrals", "re_referrals", pct=True),
        **_with("No_Further_Action", "referrals_nfa", pct=True),
        **_with("Not_in_Need", "referrals_not_in_need", pct=True),
        **_with("Referrals_child", "children_referred", rate=True),
        **_with("Re_referrals_child", "children_re_referred", pct=True),
    }),
    Table("c4", "Section 47 enquiries and initial child protection conferences", {
        **_with("Section47", "s47_enquiries", rate=True),
        **_with("Section47_child", "children_s47", rate=True),
        **_with("ICPC", "icpcs", rate=True),
        **_with("ICPC_child", "children_icpc", rate=True),
        **_split("icpc_duration_days", "band", _ICPC_BANDS),
        "Duration_25th_Percentile": Col("icpc_duration_days_p25", "days"),
        "Duration_median": Col("icpc_duration_days_median", "days"),
        "Duration_75th_Percentile": Col("icpc_duration_days_p75", "days"),
    }),
    Table("c6", "Referrals by month", {
        **_with("Referrals", "referrals"),
        **{m: Col("referrals_by_month", month=(i + 3) % 12 + 1) for i, m in enumerate(_MONTHS)},
    }),
    Table("c5", "Referrals by source", {
        **_with("Referrals", "referrals"),
        **_split("referrals_by_source", "source", _lower(
            ["Individual", "Schools", "Education_Services", "Health_Services", "Housing",
             "LA_Services", "Police", "Other_legal_agency", "Other", "Anonymous", "Unknown"])),
    }),
    Table("c2", "Assessments by duration", {
        **_with("Assessments_completed", "assessments_completed", rate=True),
        **_split("assessments_by_duration", "days", {
            "Same_day": "same_day", "1-10_days": "1_10", "11-20_days": "11_20",
            "21-30_days": "21_30", "31-40_days": "31_40", "41-45_days": "41_45",
            "46-50_days": "46_50", "51-60_days": "51_60", "61+_days": "61_plus"}),
        "25th_Percentile_days": Col("assessment_duration_days_p25", "days"),
        "Median_days": Col("assessment_duration_days_median", "days"),
        "75th_Percentile_days": Col("assessment_duration_days_p75", "days"),
    }),
    Table("c3", "Factors identified at the end of assessment", {
        **_with("Episodes_with_assessment_factor", "episodes_with_assessment_factors"),
        **_split("assessment_factors", "factor", _lower([
            f"{f}_{who}" for f in ("Alcohol_Misuse", "Drug_Misuse", "Domestic_Abuse",
                                   "Mental_Health", "Learning_Disability", "Physical_Disability")
            for who in ("child", "parent", "person")] + [
            "Young_Carer", "Privately_fostered", "Unaccompanied_asylum_seeker", "Going_missing",
            "Child_sexual_exploitation", "Trafficking", "Gangs", "Socially_unacceptable_behaviour",
            "Self_harm", "Neglect", "Emotional_Abuse", "Physical_Abuse_unknown",
            "Physical_Abuse_child_on_child", "Physical_Abuse_adult_on_child",
            "Sexual_Abuse_unknown", "Sexual_Abuse_child_on_child", "Sexual_Abuse_adult_on_child",
            "Female_Genital_Mutilation", "Faith_linked_abuse", "Child_criminal_exploitation",
            "Other"])),
    }),
    Table("b1", "Children in need", {
        **_with("Anypoint_episodes", "cin_episodes_any_point", rate=True),
        **_with("Anypoint_child", "children_in_need_any_point", rate=True),
        **_with("Started_episodes", "cin_episodes_started", rate=True),
        **_with("Started_child", "children_starting_cin", rate=True),
        **_with("Ended_episodes", "cin_episodes_ended", rate=True),
        **_with("Ended_child", "children_ending_cin", rate=True),
        **_with("At31_episodes", "children_in_need_at_31_march", rate=True,
                rate_measure="cin_rate_per_10k"),
        **_with("Awaiting_assessment", "children_awaiting_assessment", rate=True),
    }),
    Table("b2", "Children in need with a recorded disability", {
        **_CIN_AT31,
        **_with("At31_episodes_disability_recorded", "cin_with_disability", pct=True),
        **_split("cin_by_disability_pct", "disability", {
            f"{d}{PERCENT_SUFFIX}": d.lower() for d in (
                "Autism", "Behaviour", "Communication", "Consciousness", "Hand_Function",
                "Hearing", "Incontinence", "Learning_Difficulties", "Mobility", "Personal_care",
                "Vision", "Other")}, unit="percent"),
    }),
    Table("b3", "Children in need by primary need at assessment", {
        **_CIN_AT31,
        **_split("cin_by_primary_need", "need", _lower([
            "N1_Abuse_or_neglect", "N2_Childs_disability_or_illness",
            "N3_Parents_disability_or_illness", "N4_Family_in_acute_stress",
            "N5_Family_dysfunction", "N6_Socially_unacceptable_behaviour", "N7_Low_income",
            "N8_Absent_parenting", "N9_Cases_other_than_CIN", "N0_Not_stated"])),
    }),
    Table("b4", "Children in need by duration of open episode", {
        **_CIN_AT31, **_split("cin_by_open_duration", "duration", _CIN_BANDS, pct=True),
    }),
    Table("b5", "Episodes of need ended by duration", {
        **_with("Ended_episodes", "cin_episodes_ended"),
        **_split("cin_ended_by_duration", "duration", _CIN_BANDS, pct=True),
    }),
    Table("b6", "Episodes of need ended by reason for closure", {
        **_with("Ended_episodes", "cin_episodes_ended"),
        **_split("cin_ended_by_reason", "reason", _lower([
            "unknown", "RC1_Adopted", "RC2_Died", "RC3_Residence_Order",
            "RC4_Special_Guardianship_Order", "RC5_Transfer_to_another_LA",
            "RC6_Transfer_to_Adult_Social_Service", "RC7_Other"]), pct=True),
    }),
    Table("b7", "Child in need plans", {
        **_with("CINPlan_start", "cin_plans_started", rate=True),
        **_with("CINPlan_child_start", "children_starting_cin_plan", rate=True),
        **_with("CINPlan_end", "cin_plans_ended", rate=True),
        **_with("CINPlan_child_end", "children_ending_cin_plan", rate=True),
        **_with("CINPlan_anypoint", "cin_plans_any_point", rate=True),
        **_with("CINPlan_child_anypoint", "children_on_cin_plan_any_point", rate=True),
        **_with("CINPlan_At31", "cin_plans_at_31_march", rate=True),
    }),
    Table("a6", "Children on child protection plans at 31 March by initial category (England)", {
        **_with("CPP_At31", "cp_plans_at_31_march"),
        **_split("cp_by_category", "category", {
            "Neglect_Initial": "neglect", "Physical_abuse_Initial": "physical_abuse",
            "Sexual_abuse_Initial": "sexual_abuse", "Emotional_abuse_Initial": "emotional_abuse",
            "Multiple_Initial": "multiple"}),
    }),
    Table("a5", "Children on child protection plans at 31 March by initial category, gender, "
          "age and ethnicity (England)", {
              "CPP_At31": Col("{row}"),
              **_split("cp_by_category", "category", {
                  "Neglect_Initial": "neglect", "Physical_Abuse_Initial": "physical_abuse",
                  "Sexual_Abuse_Initial": "sexual_abuse",
                  "Emotional_Abuse_Initial": "emotional_abuse", "Multiple_Initial": "multiple"}),
          }, row_key=("characteristic", "characteristic_type"), rows=_a5_rows()),
    Table("a2", "Section 47 enquiries, ICPCs and child protection plans (England)", _LONG_COLUMNS,
          row_key=("category_type",), rows=_A2_ROWS,
          categories=frozenset({"Section 47", "ICPC", "CPP"}), drop_not_applicable=True),
    Table("a1", "Children in need, referrals and assessments (England)", _LONG_COLUMNS,
          row_key=("category_type",), rows={k: (v, TOTAL) for k, v in _A1_ROWS.items()},
          categories=frozenset({"Children in Need", "Referrals", "Assessments"}),
          drop_not_applicable=True),
    Table("a3", "Children in need by primary need, gender and age (England)", {
        "CIN_At31": Col("children_in_need_at_31_march"),
        **_split("cin_by_primary_need", "need", _lower([
            "N1_Abuse_or_neglect", "N2_Childs_disability_or_illness",
            "N3_Parents_disability_or_illness", "N4_Family_in_acute_stress",
            "N5_Family_dysfunction", "N6_Socially_unacceptable_behaviour", "N7_Low_income",
            "N8_Absent_parenting", "N9_Cases_other_than_CIN", "N0_Not_stated"])),
    }, row_key=("characteristic",), rows=_gender_age_rows()),
    Table("a4", "Children in need by ethnicity, gender and age (England)", {
        "CIN_At31": Col("children_in_need_at_31_march"),
        **_split("cin_by_ethnic_group", "ethnic_group", {
            "Known_ethnicity": "known", "Ethnicity_White": "White", "Ethnicity_Mixed": "Mixed",
            "Ethnicity_Asian_or_Asian_British": "Asian or Asian British",
            "Ethnicity_Black_or_Black_British": "Black or Black British",
            "Other_ethnic_group": "Other ethnic group"}),
    }, row_key=("characteristic",), rows=_gender_age_rows()),
    Table("a7", "Children in need by age, gender and detailed ethnicity (England)", {
        "number": Col("{row}"), "percent": Col("{row}_pct", "percent"),
    }, row_key=("characteristic", "characteristic_type"), rows=_a7_rows()),
)
TABLE_BY_NAME = {t.name: t for t in TABLES}

#: Identifying columns of every table (geography and period).
ID_COLUMNS = ("time_period", "time_identifier", "geographic_level", "country_code",
              "country_name", "region_code", "region_name", "old_la_code", "new_la_code",
              "la_name", "category", "characteristic", "characteristic_type", "category_type")
REQUIRED_ID_COLUMNS = ("time_period", "geographic_level")
#: Other releases' names for the same columns (compared lower-case) -> the 2022 name.
ALIASES = {
    "referral_count": "Referrals",
    "referral_rate": "Referrals_rate",
    "re_referral_count": "Re_referrals",
    "re_referral_percent": "Re_referrals_percent",
    "section_47_count": "Section47",
    "section47_count": "Section47",
    "icpc_count": "ICPC",
    "cpp_at_31_march": "CPP_At31",
    "cpp_at_31_march_rate": "CPP_At31_rate",
    "la_code": "old_la_code",
    "new_la_code_gss": "new_la_code",
    "year": "time_period",
}
_LEVELS = {"National": "national", "Regional": "regional", "Local authority": "local_authority"}


_ALIASES = {alias.lower(): name.lower() for alias, name in ALIASES.items()}


def _known_keys() -> frozenset[str]:
    return frozenset(c.lower() for t in TABLES for c in t.columns) | frozenset(ID_COLUMNS)


def _key(column: str) -> str:
    """Compare columns case-insensitively and through :data:`ALIASES`."""
    text = column.strip().lower()
    return _ALIASES.get(text, text)


_KNOWN_KEYS = _known_keys()

# ---------------------------------------------------------------------------------------------
# Public API


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one DfE CIN underlying CSV into facts.

    Parameters
    ----------
    path
        A CSV of the *Characteristics of children in need* release, e.g.
        ``d1_child_protection_plans_2013_to_2022.csv``; recognised by its columns.

    Returns
    -------
    pandas.DataFrame
        Facts (``source="dfe"``, ``note`` naming table and column).

    Raises
    ------
    InputError
        Listing every problem: empty or truncated file, unrecognised or renamed columns,
        values that are neither numbers nor known markers, unknown LA codes.
    """
    table, facts, found = parse_table(path)
    if found:
        raise InputError(found)
    return facts


def read_release(folder: str | Path) -> pd.DataFrame:
    """Read every CSV of a DfE CIN release folder into one facts table.

    Figures published in several tables are kept once (the first table in :data:`TABLES`
    wins); derived figures (:func:`derive`) are added with ``source="derived"``.

    Parameters
    ----------
    folder
        The release's underlying data folder (e.g. ``../shared/data/dfe/cin_2022``).

    Returns
    -------
    pandas.DataFrame
        Facts sorted with :func:`cpstats.facts.sort`.
    """
    folder = Path(folder)
    # EES downloads may carry metadata files beside the data ("*.meta.csv", "*_meta.csv")
    paths = [p for p in regular_files(folder, "*.csv") if not p.name.lower().endswith("meta.csv")]
    if not paths:
        raise InputError(Problem(file=display_path(folder), expected="a folder of DfE CIN CSVs"))
    stamp = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return _read_release_cached(stamp).copy()


@functools.lru_cache(maxsize=2)
def _read_release_cached(stamp: tuple[tuple[str, int, int], ...]) -> pd.DataFrame:
    """The release read once per set of files (path, mtime, size): themes and tests reuse it."""
    paths = [Path(p) for p, _, _ in stamp]
    parsed, found, seen = [], [], {}
    for path in paths:
        table, facts, problems = parse_table(path)
        found += problems
        if table is not None and table.name in seen:
            found.append(Problem(file=display_path(path), expected=(
                f"one file per table; table {table.name} is also in {seen[table.name]}")))
        elif table is not None:
            seen[table.name] = display_path(path)
            parsed.append((TABLES.index(table), facts))
    if found:
        raise InputError(found)
    frames = [facts for _, facts in sorted(parsed, key=lambda p: p[0])]
    published = pd.concat(frames, ignore_index=True).drop_duplicates(_KEY, keep="first")
    return _sort(pd.concat([published, derive(published)], ignore_index=True))


def recognise(path: str | Path) -> Table | None:
    """The table a CSV holds, judged by its header (and a1/a2 by category values), or None."""
    try:
        rows = _read_rows(Path(path))
    except InputError:
        return None
    if not rows:
        return None
    keys = [_key(h) for h in rows[0]]
    table, _ = _match(rows[0], lambda: _category_values(rows, keys))
    return table


def looks_like_dfe_cin(path: str | Path) -> bool:
    """True if ``path`` is a CSV shaped like a DfE CIN table (even one with renamed columns)."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            keys = [_key(h) for h in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    if not set(REQUIRED_ID_COLUMNS) & set(keys):  # one renamed is still a DfE table, told so
        return False
    return max(_overlap(t, keys) for t in TABLES) >= 0.5


def supported_tables() -> str:
    """One line per table this reader knows, for help texts and error messages."""
    return "\n".join(f"{t.name}: {t.title}" for t in TABLES)


def derive(facts: pd.DataFrame) -> pd.DataFrame:
    """Figures computed from published ones, ``source="derived"``.

    ``icpc_within_15_working_days_pct``: ICPCs held within 15 working days of the start of
    the section 47 enquiry, from c4's day bands: (0-10 + 11-15) / all four bands * 100.
    Missing (marker ``c`` if a band was suppressed, else ``x``) when a band is missing.
    """
    bands = facts[(facts["measure"] == "icpc_duration_days") & (facts["source"] == SOURCE)]
    if bands.empty:
        return facts.iloc[0:0]
    keys = ["geography_level", "geography_code", "geography_name", "period"]
    wide = bands.set_index([*keys, "breakdown"])["value"].unstack("breakdown")
    wide = wide.reindex(columns=[f"band={b}" for b in _ICPC_BANDS.values()])
    within = wide["band=0_10"] + wide["band=11_15"]
    share = (within / wide.sum(axis=1, skipna=False) * 100).rename("value").reset_index()
    suppressed = (bands["marker"] == "c").groupby([bands[k] for k in keys]).any()
    share = share.merge(suppressed.rename("any_c").reset_index(), on=keys, how="left")
    share["marker"] = np.where(share["value"].isna(),
                               np.where(share["any_c"].fillna(False), "c", "x"), None)
    return make_facts(
        share.drop(columns="any_c"), measure="icpc_within_15_working_days_pct",
        breakdown=TOTAL, unit="percent", source="derived",
        note="c4: (0-10 + 11-15 working-day bands) / all four bands",
    )


# ---------------------------------------------------------------------------------------------
# Parsing

_KEY = ["geography_level", "geography_code", "period", "measure", "breakdown", "source"]
_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")  # "1,234" in a quoted cell


def parse_table(path: str | Path) -> tuple[Table | None, pd.DataFrame, list[Problem]]:
    """Parse one CSV: (table or None, facts from the good cells, every problem found).

    :func:`read_table` raises on the problems; ``cpstats check`` lists them.
    """
    path = Path(path)
    name = display_path(path)
    try:
        rows = _read_rows(path)
    except InputError as error:
        return None, pd.DataFrame(columns=FACT_COLUMNS), error.problems
    found = _structure_problems(rows, name)
    if found:
        return None, pd.DataFrame(columns=FACT_COLUMNS), found
    keys = [_key(h) for h in rows[0]]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        return None, pd.DataFrame(columns=FACT_COLUMNS), [Problem(
            file=name, row=1, column=", ".join(duplicated), expected="each column once")]
    table, problem = _match(rows[0], lambda: _category_values(rows, keys), name)
    if table is None:
        return None, pd.DataFrame(columns=FACT_COLUMNS), [problem] if problem else []
    missing_id = [c for c in REQUIRED_ID_COLUMNS if c not in keys]
    if missing_id:
        return None, pd.DataFrame(columns=FACT_COLUMNS), [Problem(
            file=name, row=1, column=", ".join(missing_id),
            expected=f"the columns of DfE table {table.name} ({table.title}): missing "
                     f"{', '.join(missing_id)} (renamed?)")]
    canonical = {c.lower(): c for c in (*ID_COLUMNS, *table.columns)}
    frame = pd.DataFrame(rows[1:], columns=[canonical.get(k, k) for k in keys], dtype="string")
    frame["_row"] = np.arange(2, len(frame) + 2)
    facts, found = _to_facts(frame, table, name)
    return table, facts, found


def _read_rows(path: Path) -> list[list[str]]:
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(Problem(file=name, value=f"byte {error.start}",
                                 expected="a UTF-8 CSV file")) from None
    except OSError as error:
        raise InputError(Problem(file=name, expected=f"a readable file ({error.strerror})")) from None
    if not text.strip():
        raise InputError(Problem(file=name, expected="a CSV with a header row and data rows; "
                                                    "the file is empty"))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise InputError(Problem(file=name, expected=f"a well-formed CSV ({error})")) from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # trailing blank lines
    return rows


def _structure_problems(rows: list[list[str]], name: str) -> list[Problem]:
    """Header-only files and ragged rows (a truncated download ends mid-row)."""
    if len(rows) < 2:
        return [Problem(file=name, row=1, expected="data rows after the header; found none")]
    width = len(rows[0])
    lengths = np.fromiter(map(len, rows), dtype=int, count=len(rows))
    bad = np.flatnonzero(lengths != width)
    return [Problem(file=name, row=int(i) + 1, value=",".join(rows[i])[-60:],
                    expected=f"{width} fields like the header, found {lengths[i]} "
                             "(truncated or malformed CSV)")
            for i in bad]


def _overlap(table: Table, keys: list[str]) -> float:
    return len(table.required & set(keys)) / len(table.required)


def _category_values(rows: list[list[str]], keys: list[str]) -> set[str]:
    if "category" not in keys:
        return set()
    at = keys.index("category")
    return {r[at].strip() for r in rows[1:] if len(r) > at}


def _match(header: list[str], categories: Callable[[], set[str]],
           name: str = "") -> tuple[Table | None, Problem | None]:
    """The table whose columns the header holds (most specific wins), else a Problem."""
    keys = [_key(h) for h in header]
    present = set(keys)
    candidates = [t for t in TABLES if t.required <= present]
    if any(t.categories for t in candidates):
        values = categories()
        candidates = [t for t in candidates if not t.categories or values <= t.categories]
    if candidates:
        return max(candidates, key=lambda t: len(t.required)), None
    missing_id = [c for c in REQUIRED_ID_COLUMNS if c not in present]
    closest = max(TABLES, key=lambda t: _overlap(t, keys))
    if not missing_id and _overlap(closest, keys) >= 0.5:
        names = {c.lower(): c for c in (*closest.columns, *closest.row_key, "category")}
        missing = sorted(names[k] for k in closest.required - present)
        unknown = [h for h, k in zip(header, keys, strict=True) if k not in _KNOWN_KEYS]
        return None, Problem(
            file=name, row=1, column=", ".join(missing),
            value=", ".join(unknown) if unknown else None,
            expected=f"the columns of DfE table {closest.name} ({closest.title}): "
                     f"missing {missing} (renamed?)")
    return None, Problem(
        file=name, row=1, value=", ".join(header[:8]) + (" ..." if len(header) > 8 else ""),
        expected="the columns of a DfE 'Characteristics of children in need' table "
                 f"(time_period, geographic_level, ... ; tables {', '.join(t.name for t in TABLES)})")


def _to_facts(frame: pd.DataFrame, table: Table, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    found: list[Problem] = []
    geo, problems = _geography(frame, name)
    found += problems
    period, problems = _periods(frame, name)
    found += problems
    ids = pd.concat([geo, period, frame[["_row"]]], axis=1)
    if table.row_key:
        label = frame[list(table.row_key)[0]].str.strip()
        for column in table.row_key[1:]:
            label = label + "|" + frame[column].str.strip()
        known = label.isin(list(table.rows))
        found += [Problem(file=name, row=int(r), column="/".join(table.row_key), value=v,
                          expected=f"a {table.name} row label such as {next(iter(table.rows))!r}")
                  for r, v in zip(frame.loc[~known, "_row"], label[~known], strict=True)]
        measures = {k: m for k, (m, _) in table.rows.items() if m}
        ids["_row_measure"] = label.map(measures).astype("string")
        ids["_row_breakdown"] = label.map({k: b for k, (_, b) in table.rows.items()}).astype("string")
    long, problems = _values(_stack(ids, frame, list(table.columns)), name)
    found += problems
    facts = _name_measures(long, table)
    found += _meaning_problems(facts, name)
    if table.drop_not_applicable:
        facts = facts[facts["marker"].fillna("") != "z"]
    facts = facts.dropna(subset=["geography_code", "period", "measure"])
    if found:
        return pd.DataFrame(columns=FACT_COLUMNS), found
    facts = facts.assign(source=SOURCE, note=table.name + ":" + facts["column"])
    found += _duplicate_rows(facts, name)
    facts = make_facts(facts[[*FACT_COLUMNS, NOTE_COLUMN]])
    return facts, found


def _duplicate_rows(facts: pd.DataFrame, name: str) -> list[Problem]:
    """The first repeated area and year, naming the file's rows that hold it."""
    duplicated = facts.duplicated([c for c in _KEY if c in facts.columns], keep=False)
    if not duplicated.any():
        return []
    first = facts[duplicated].iloc[0]
    same = duplicated & (facts["geography_code"] == first["geography_code"]) & (
        facts["period"] == first["period"])
    rows = sorted({int(r) for r in facts.loc[same, "_row"]})
    return [Problem(file=name, row=rows[0],
                    value=f"{first['geography_code']} {first['period']} (rows "
                          f"{', '.join(map(str, rows[:5]))})",
                    expected="one row per area and year (a duplicate row)")]


def _stack(ids: pd.DataFrame, frame: pd.DataFrame, value_columns: list[str]) -> pd.DataFrame:
    """One row per (row, value column): a melt without its per-column overhead."""
    rows = np.tile(np.arange(len(frame)), len(value_columns))
    long = ids.iloc[rows].reset_index(drop=True)
    long["column"] = np.repeat(np.array(value_columns, dtype=object), len(frame))
    long["raw"] = frame[value_columns].to_numpy(dtype=object).ravel(order="F")
    return long


def _geography(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Level, code (DfE LA number, or GSS for England/regions) and name of each row."""
    found: list[Problem] = []
    raw_level = frame["geographic_level"].str.strip()
    level = raw_level.map(_LEVELS)
    bad = level.isna()
    found += [Problem(file=name, row=int(r), column="geographic_level", value=v,
                      expected=f"one of {list(_LEVELS)}")
              for r, v in zip(frame.loc[bad, "_row"], raw_level[bad], strict=True)]
    out = pd.DataFrame({"geography_level": level}, index=frame.index)
    out["geography_code"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    out["geography_name"] = pd.Series(pd.NA, index=frame.index, dtype="string")

    national = level == "national"
    if "country_code" in frame:  # England only: other UK countries are not in these statistics
        wrong = national & (frame["country_code"].str.strip() != geography.ENGLAND_CODE)
        found += [Problem(file=name, row=int(r), column="country_code", value=v,
                          expected=f"{geography.ENGLAND_CODE} (England)")
                  for r, v in zip(frame.loc[wrong, "_row"], frame.loc[wrong, "country_code"],
                                  strict=True)]
    out.loc[national, "geography_code"] = geography.ENGLAND_CODE
    out.loc[national, "geography_name"] = geography.ENGLAND_NAME
    regional = level == "regional"
    if regional.any() and "region_code" not in frame:
        found.append(Problem(file=name, row=1, column="region_code",
                             expected="a region_code column for regional rows"))
    elif regional.any():
        code = frame["region_code"].str.strip()
        wrong = regional & ~code.str.fullmatch(r"E1[23]\d{6}")
        found += [Problem(file=name, row=int(r), column="region_code", value=v,
                          expected="a region's GSS code (E12..., Inner/Outer London E13...)")
                  for r, v in zip(frame.loc[wrong, "_row"], code[wrong], strict=True)]
        out.loc[regional, "geography_code"] = code[regional]
        names = frame["region_name"].str.strip() if "region_name" in frame else code
        out.loc[regional, "geography_name"] = names[regional]
    la = level == "local_authority"
    if la.any():
        codes, problems = _la_codes(frame[la], name)
        found += problems
        out.loc[la, "geography_code"] = codes
        names = {c: geography.la_name(c) for c in codes.dropna().unique()}
        out.loc[la, "geography_name"] = codes.map(names)
    return out, found


def _la_codes(rows: pd.DataFrame, name: str) -> tuple[pd.Series, list[Problem]]:
    """DfE LA numbers for LA rows, checking the GSS code belongs to the same LA."""
    if "old_la_code" not in rows and "new_la_code" not in rows:
        return pd.Series(pd.NA, index=rows.index, dtype="string"), [Problem(
            file=name, row=1, column="old_la_code",
            expected="an old_la_code (DfE LA number) or new_la_code column for LA rows")]
    old = rows["old_la_code"].str.strip() if "old_la_code" in rows else pd.Series("", index=rows.index)
    new = rows["new_la_code"].str.strip() if "new_la_code" in rows else pd.Series("", index=rows.index)
    given = old.where(old != "", new)
    lookup = {v: _try_la(v) for v in given.unique()}
    codes = given.map(lookup).astype("string")
    found = [Problem(file=name, row=int(r), column="old_la_code" if o else "new_la_code",
                     value=v, expected="an English LA code known to cpstats.geography")
             for r, v, o in zip(rows.loc[codes.isna(), "_row"], given[codes.isna()],
                                old[codes.isna()] != "", strict=True)]
    pairs = pd.DataFrame({"code": codes, "gss": new}).dropna().drop_duplicates()
    pairs = pairs[pairs["gss"] != ""]
    wrong = pairs[[g not in geography.gss_codes(c) for c, g in zip(pairs["code"], pairs["gss"],
                                                                     strict=True)]]
    for code, gss in zip(wrong["code"], wrong["gss"], strict=True):
        at = rows.loc[(codes == code) & (new == gss), "_row"].iloc[0]
        found.append(Problem(file=name, row=int(at), column="new_la_code", value=gss,
                             expected=f"a GSS code of LA {code} ({geography.la_name(code)}): "
                                      f"{geography.gss_codes(code)}"))
    return codes, found


def _try_la(value: str) -> str | None:
    try:
        return geography.la_code(value) if value else None
    except InputError:
        return None


def _periods(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    raw = frame["time_period"].str.strip()
    # Some releases write the academic-style 201617; DfE CIN uses the year ending 31 March.
    six = raw.str.extract(r"^(\d{4})(\d{2})$").apply(pd.to_numeric)
    academic = (six[0] + 1).where((six[0] + 1) % 100 == six[1])
    year = pd.to_numeric(raw.where(raw.str.fullmatch(r"\d{4}")), errors="coerce").fillna(academic)
    bad = year.isna() | (year < 1990) | (year > 2100)
    found = [Problem(file=name, row=int(r), column="time_period", value=v,
                     expected="a year ending 31 March such as 2017")
             for r, v in zip(frame.loc[bad, "_row"], raw[bad], strict=True)]
    out = pd.DataFrame({"_year": year.astype("Int64")}, index=frame.index)
    labels = {y: year_label(int(y)) for y in year.dropna().unique()}
    out["period"] = year.map(labels).astype("string")
    return out, found


def _values(long: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Numbers to ``value``; known markers to ``marker``; anything else is a problem."""
    raw = long["raw"].fillna("").str.strip()
    raw = raw.mask(raw.str.fullmatch(_NUMBER), raw.str.replace(",", "", regex=False))
    value = pd.to_numeric(raw, errors="coerce")
    lowered = raw.str.lower()
    marker = lowered.where(value.isna() & lowered.isin(list(MARKERS)))
    bad = value.isna() & marker.isna()
    found = [Problem(file=name, row=int(r), column=c, value=v,
                     expected=f"a number or a marker {', '.join(MARKERS)}")
             for r, c, v in zip(long.loc[bad, "_row"], long.loc[bad, "column"], raw[bad],
                                strict=True)]
    return long.assign(value=value.astype("float64"), marker=marker.astype("string")), found


def _meaning_problems(long: pd.DataFrame, name: str) -> list[Problem]:
    """Numbers that cannot mean what their column says (a negative count, a percentage of 140)."""
    why = implausible(long["value"], long["unit"], long["measure"])
    bad = why.notna()
    return [Problem(file=name, row=int(r), column=c, value=f"{v:g}", expected=str(e))
            for r, c, v, e in zip(long.loc[bad, "_row"], long.loc[bad, "column"],
                                  long.loc[bad, "value"], why[bad], strict=True)]


def _name_measures(long: pd.DataFrame, table: Table) -> pd.DataFrame:
    spec = pd.DataFrame(
        [(c, s.measure, s.unit, s.breakdown, s.month) for c, s in table.columns.items()],
        columns=["column", "_measure", "unit", "_breakdown", "_month"])
    long = long.merge(spec, on="column", how="left")
    measure = long["_measure"].astype("string")
    breakdown = long["_breakdown"].astype("string")
    if table.row_key:
        from_row = measure.str.startswith("{row}")
        measure = measure.where(~from_row, long["_row_measure"] + measure.str.removeprefix("{row}"))
        row_part = long["_row_breakdown"].astype("string")
        both = (breakdown != TOTAL) & (row_part != TOTAL)
        breakdown = breakdown.where(row_part == TOTAL, row_part).where(
            ~both, breakdown + ";" + row_part)
    long["measure"] = measure.replace(RENAMES)
    long["breakdown"] = breakdown
    month = long["_month"].astype("Float64")
    if month.notna().any():
        calendar_year = long["_year"] - (month >= 4).astype("Int64")
        monthly = calendar_year.astype("string") + "-" + month.astype("Int64").astype(
            "string").str.zfill(2)
        long["period"] = long["period"].where(month.isna(), monthly)
    return long


def _sort(facts: pd.DataFrame) -> pd.DataFrame:
    return sort(facts)


# ---------------------------------------------------------------------------------------------
# ``cpstats check`` formats


def _check(path: Path) -> list[Problem]:
    return parse_table(path)[2]


def _describe(path: Path) -> str:
    rows = _read_rows(path)
    table = recognise(path)
    what = f"DfE CIN table {table.name} ({table.title})" if table else "DfE CIN-like table"
    return f"{what}, {len(rows) - 1:,} rows"


def _looks_like_neighbours(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8-sig") as handle:
        return handle.readline().startswith("LA num,LA Name,")


def _check_neighbours(path: Path) -> list[Problem]:
    try:
        model = geography.build_statistical_neighbours(path)
    except InputError as error:
        return error.problems
    known = set(geography.all_las()["old_la_code"])
    codes = pd.concat([model["old_la_code"], model["neighbour_code"]]).drop_duplicates()
    return [Problem(file=display_path(path), value=c, expected="a DfE LA number known to "
                    "cpstats.geography") for c in sorted(set(codes) - known)]


def _describe_neighbours(path: Path) -> str:
    model = geography.build_statistical_neighbours(path)
    return f"DfE statistical neighbours, {model['old_la_code'].nunique()} LAs"


register_checker("dfe_cin", looks_like_dfe_cin, _check,
                 "DfE 'Characteristics of children in need' underlying data table (CSV, "
                 "tables a1-a7, b1-b7, c1-c6, d1-d8)", _describe)
register_checker("dfe_statistical_neighbours", _looks_like_neighbours, _check_neighbours,
                 "DfE statistical-neighbour model (CSV: LA num, LA Name, SN1..SN10)",
                 _describe_neighbours)
