"""DfE 8831: a referral marked no further action has no assessment, section 47 or ICPC."""

import pandas as pd

from cpstats.rules.base import EPISODE, Census, Rule, ids


def find(census: Census) -> pd.Series:
    data = census.data
    a, s = data.assessments, data.s47s
    active = pd.concat([
        a.loc[a["start_date"].notna() | a["authorised_date"].notna(), EPISODE],
        s.loc[s["s47_start_date"].notna() | s["icpc_date"].notna(), EPISODE],
    ]).drop_duplicates().assign(_active=True)
    referrals = data.referrals
    busy = referrals[EPISODE].merge(active, how="left")["_active"].notna().to_numpy()
    nfa = referrals["nfa"].fillna(False).astype(bool)
    return ids(referrals, nfa & (busy | referrals["icpc_date"].notna()))


RULE = Rule("8831", "Assessment, section 47 or ICPC in a no-further-action referral", find)
