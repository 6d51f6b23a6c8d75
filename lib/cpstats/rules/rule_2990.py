"""DfE 2990: an episode closed after assessment with no further action (RC8, and RC9 where
the code exists) has no section 47, ICPC, CP plan or CIN plan."""

import pandas as pd

from cpstats.rules.base import EPISODE, Census, Rule, episodes_with, ids

AFTER_ASSESSMENT = ["RC8", "RC9"]


def find(census: Census) -> pd.Series:
    data = census.data
    referrals = data.referrals
    busy = pd.concat([episodes_with(t) for t in (data.s47s, data.cp_plans, data.cin_plans)])
    busy = busy.drop_duplicates().assign(_busy=True)
    flagged = referrals[EPISODE].merge(busy, how="left")["_busy"].notna().to_numpy()
    closed = referrals["closure_reason"].isin(AFTER_ASSESSMENT)
    return ids(referrals, closed & (flagged | referrals["icpc_date"].notna()))


RULE = Rule("2990", "Section 47, ICPC or plan in an episode closed after assessment (RC8/RC9)",
            find)
