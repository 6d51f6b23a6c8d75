"""DfE 8569Q: a referral made before the census year (less one working day) is not marked no
further action: such a referral closes on the day, so it cannot be in a later return."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids
from cpstats.workdays import add_working_days


def find(census: Census) -> pd.Series:
    referrals = census.data.referrals
    limit = pd.Timestamp(add_working_days(census.start.date(), -1))
    nfa = referrals["nfa"].fillna(False).astype(bool)
    return ids(referrals, nfa & (referrals["referral_date"] < limit))


RULE = Rule("8569Q", "No-further-action referral made before the census year", find)
