"""DfE 8675Q: a section 47 enquiry started more than 15 working days before the reference date
has an ICPC date, or says an ICPC is not required."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids
from cpstats.workdays import ICPC_WORKING_DAYS


def find(census: Census) -> pd.Series:
    s = census.data.s47s
    waiting = s["icpc_date"].isna() & ~s["icpc_not_required"].fillna(False).astype(bool)
    overdue = s["s47_start_date"] < census.working_days_before_reference(ICPC_WORKING_DAYS)
    return ids(s, waiting & overdue)


RULE = Rule("8675Q", "Section 47 started over 15 working days before the reference date with "
            "no ICPC and ICPC not marked 'not required'", find)
