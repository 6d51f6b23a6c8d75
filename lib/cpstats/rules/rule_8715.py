"""DfE 8715: an ICPC date, when present, falls within the census year."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    s, r = census.data.s47s, census.data.referrals
    return pd.concat([ids(s, census.outside_year(s["icpc_date"])),
                      ids(r, census.outside_year(r["icpc_date"]))])


RULE = Rule("8715", "ICPC date outside the census year", find)
