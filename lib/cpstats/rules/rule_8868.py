"""DfE 8868: in a closed episode every section 47 enquiry ends in an ICPC or says an ICPC is
not required."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    s = census.with_episode(census.data.s47s, ["closure_date"])
    open_ended = s["icpc_date"].isna() & ~s["icpc_not_required"].fillna(False).astype(bool)
    return ids(s, s["closure_date"].notna() & open_ended)


RULE = Rule("8868", "Closed episode with a section 47 neither conferenced nor marked "
            "'ICPC not required'", find)
