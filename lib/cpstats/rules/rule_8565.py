"""DfE 8565: nothing in an episode is dated after the episode's closure."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids

#: Table -> the dates that must not follow the closure.
ACTIVITY = {"assessments": ["start_date", "authorised_date"],
            "s47s": ["s47_start_date", "icpc_date"], "cp_plans": ["end_date"],
            "cin_plans": ["start_date", "end_date"]}


def find(census: Census) -> pd.Series:
    referrals = census.data.referrals
    found = [ids(referrals, referrals["icpc_date"] > referrals["closure_date"])]
    for name, columns in ACTIVITY.items():
        frame = census.with_episode(census.data.table(name), ["closure_date"])
        late = pd.concat([frame[c] > frame["closure_date"] for c in columns], axis=1).any(axis=1)
        found.append(ids(frame, late))
    return pd.concat(found)


RULE = Rule("8565", "Activity dated after the episode's closure", find)
