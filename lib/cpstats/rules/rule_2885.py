"""DfE 2885: a CP plan starting in the census year starts on the day of an ICPC of its episode."""

import pandas as pd

from cpstats.rules.base import EPISODE, Census, Rule, ids


def find(census: Census) -> pd.Series:
    data = census.data
    plans = data.cp_plans
    in_year = plans["start_date"].notna() & ~census.outside_year(plans["start_date"])
    conferences = pd.concat([data.s47s[[*EPISODE, "icpc_date"]],
                             data.referrals[[*EPISODE, "icpc_date"]]]).dropna()
    conferences = conferences.rename(columns={"icpc_date": "start_date"}).drop_duplicates()
    matched = plans[[*EPISODE, "start_date"]].merge(conferences, how="left", indicator=True)
    return ids(plans, in_year & (matched["_merge"] == "left_only").to_numpy())


RULE = Rule("2885", "CP plan starting in the year on a day with no ICPC in its episode", find)
