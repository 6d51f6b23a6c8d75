"""DfE 8925: a CP plan does not end before it starts (cpstats: ends-before-start)."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    plans = census.data.cp_plans
    return ids(plans, plans["end_date"] < plans["start_date"])


RULE = Rule("8925", "CP plan ending before its start date", find)
