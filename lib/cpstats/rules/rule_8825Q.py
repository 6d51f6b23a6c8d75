"""DfE 8825Q: an episode closed after assessment (RC8, or RC9 where the code exists) has an
assessment."""

import pandas as pd

from cpstats.rules.base import EPISODE, Census, Rule, episodes_with, ids


def find(census: Census) -> pd.Series:
    referrals = census.data.referrals
    assessed = episodes_with(census.data.assessments).assign(_assessed=True)
    has = referrals[EPISODE].merge(assessed, how="left")["_assessed"].notna().to_numpy()
    return ids(referrals, referrals["closure_reason"].isin(["RC8", "RC9"]) & ~has)


RULE = Rule("8825Q", "Closed after assessment (RC8/RC9) with no assessment", find)
