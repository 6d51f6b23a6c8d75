"""DfE 8930: a CP plan end date, when present, falls within the census year."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    plans = census.data.cp_plans
    return ids(plans, census.outside_year(plans["end_date"]))


RULE = Rule("8930", "CP plan end date outside the census year", find)
