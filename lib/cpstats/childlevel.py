"""The child-level tables: the contract between the CIN Census reader, the
synthetic generator and the measures.

A :class:`CinData` holds one LA's records (from one or several annual returns):
``children`` plus one table per kind of episode. Dates are ``datetime64[s]``
(``NaT`` where absent); child IDs are keyed hashes, never the LA's own IDs;
dates of birth are reduced to the first day of their month at ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

DATE = "datetime64[s]"
STR = "string"

#: Column -> dtype for each table. ``child_id`` joins them all; ``cin_id``
#: identifies one CIN episode (CINdetails block) within a child; ``plan_id``
#: one CP plan within a child.
SCHEMA: dict[str, dict[str, str]] = {
    "children": {
        "child_id": STR,
        "birth_month": DATE,  # first of the month of PersonBirthDate
        "expected_birth_month": DATE,  # first of the month of ExpectedPersonBirthDate
        "gender": STR,  # male / female / unknown
        "ethnicity": STR,  # 18 codes + REFU / NOBT
        "disabled": "boolean",  # any disability other than NONE
        "disabilities": STR,  # codes joined by ',' or 'NONE'
        "death_date": DATE,
    },
    "referrals": {
        "child_id": STR,
        "cin_id": STR,
        "referral_date": DATE,
        "referral_source": STR,
        "primary_need": STR,
        "nfa": "boolean",
        "closure_date": DATE,
        "closure_reason": STR,
        "icpc_date": DATE,  # DateOfInitialCPC in CINdetails (the episode's ICPC, if any)
    },
    "assessments": {
        "child_id": STR,
        "cin_id": STR,
        "start_date": DATE,
        "authorised_date": DATE,
        "factors": STR,  # codes joined by ','
    },
    "s47s": {
        "child_id": STR,
        "cin_id": STR,
        "s47_start_date": DATE,
        "icpc_target_date": DATE,
        "icpc_date": DATE,
        "icpc_not_required": "boolean",
    },
    "cp_plans": {
        "child_id": STR,
        "cin_id": STR,
        "plan_id": STR,
        "start_date": DATE,
        "end_date": DATE,
        "initial_category": STR,  # NEG / PHY / SAB / EMO / MUL
        "latest_category": STR,
        "previous_plans": "Int64",  # NumberOfPreviousCPP
    },
    "reviews": {
        "child_id": STR,
        "plan_id": STR,
        "review_date": DATE,
    },
    "cin_plans": {
        "child_id": STR,
        "cin_id": STR,
        "start_date": DATE,
        "end_date": DATE,
    },
}
TABLES = tuple(SCHEMA)


def empty_table(name: str) -> pd.DataFrame:
    """A table of ``name`` with no rows and the schema's dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCHEMA[name].items()})


def conform_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the schema's columns, in order, with its dtypes."""
    out = pd.DataFrame(index=frame.index)
    for column, dtype in SCHEMA[name].items():
        series = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index)
        if dtype == DATE:
            out[column] = pd.to_datetime(series).astype(DATE)
        else:
            out[column] = series.astype(dtype)
    return out.reset_index(drop=True)


@dataclass
class CinData:
    """One LA's child-level records.

    Attributes
    ----------
    la_code
        DfE three-digit LA number as a string (e.g. ``"825"``).
    reference_date
        The latest return's reference date (31 March); nothing after it is valid.
    source
        ``"cin_census"`` for a real return, ``"synthetic"`` for generated data:
        every fact derived from it carries this ``source``.
    """

    la_code: str
    reference_date: date
    source: str = "cin_census"
    children: pd.DataFrame = field(default_factory=lambda: empty_table("children"))
    referrals: pd.DataFrame = field(default_factory=lambda: empty_table("referrals"))
    assessments: pd.DataFrame = field(default_factory=lambda: empty_table("assessments"))
    s47s: pd.DataFrame = field(default_factory=lambda: empty_table("s47s"))
    cp_plans: pd.DataFrame = field(default_factory=lambda: empty_table("cp_plans"))
    reviews: pd.DataFrame = field(default_factory=lambda: empty_table("reviews"))
    cin_plans: pd.DataFrame = field(default_factory=lambda: empty_table("cin_plans"))

    def table(self, name: str) -> pd.DataFrame:
        """The table called ``name`` (one of :data:`TABLES`)."""
        return getattr(self, name)
