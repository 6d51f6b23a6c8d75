"""DfE 4016: a CIN plan does not start while the child is on a CP plan (starting on the day a
CP plan ends is a step down, allowed)."""

import pandas as pd

from cpstats.rules.base import Census, Rule


def find(census: Census) -> pd.Series:
    cin = census.data.cin_plans[["child_id", "start_date"]].dropna()
    cp = census.data.cp_plans[["child_id", "start_date", "end_date"]].dropna(subset=["start_date"])
    pairs = cin.merge(cp, on="child_id", suffixes=("", "_cp"))
    still_open = pairs["end_date"].isna() & (pairs["start_date"] <= census.reference_date)
    during = (pairs["start_date"] >= pairs["start_date_cp"]) & (
        still_open | (pairs["start_date"] < pairs["end_date"]))
    return pairs.loc[during.fillna(False).astype(bool), "child_id"]


RULE = Rule("4016", "CIN plan starting while a CP plan is open", find, first_year=2022)
