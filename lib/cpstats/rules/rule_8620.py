"""DfE 8620: a CIN closure date, when present, falls within the census year."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    referrals = census.data.referrals
    return ids(referrals, census.outside_year(referrals["closure_date"]))


RULE = Rule("8620", "CIN closure date outside the census year", find)
