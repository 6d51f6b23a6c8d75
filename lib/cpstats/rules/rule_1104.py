"""DfE 1104: an initial child protection conference dated before its episode's referral."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    s47s = census.with_episode(census.data.s47s, ["referral_date"])
    referrals = census.data.referrals
    return pd.concat([ids(s47s, s47s["icpc_date"] < s47s["referral_date"]),
                      ids(referrals, referrals["icpc_date"] < referrals["referral_date"])])


RULE = Rule("1104", "Initial child protection conference before the referral date", find)
