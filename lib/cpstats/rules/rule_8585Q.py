"""DfE 8585Q: an episode closed because the child died (RC2) has the child's date of death."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    deaths = census.data.children[["child_id", "death_date"]].drop_duplicates("child_id")
    referrals = census.data.referrals[["child_id", "closure_reason"]].merge(
        deaths, on="child_id", how="left")
    return ids(referrals, (referrals["closure_reason"] == "RC2")
               & referrals["death_date"].isna())


RULE = Rule("8585Q", "Closed as died (RC2) with no date of death", find)
