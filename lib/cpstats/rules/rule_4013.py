"""DfE 4013: a CIN plan end date, when present, falls within the census year."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    plans = census.data.cin_plans
    return ids(plans, census.outside_year(plans["end_date"]))


RULE = Rule("4013", "CIN plan end date outside the census year", find, first_year=2022)
