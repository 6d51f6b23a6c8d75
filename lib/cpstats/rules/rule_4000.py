"""DfE 4000: no CIN plan in a referral marked no further action."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    plans = census.with_episode(census.data.cin_plans, ["nfa"])
    return ids(plans, plans["nfa"].fillna(False).astype(bool))


RULE = Rule("4000", "CIN plan in a referral with no further action", find, first_year=2022)
