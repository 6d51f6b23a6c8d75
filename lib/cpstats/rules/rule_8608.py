"""DfE 8608: an assessment is not authorised before it started (cpstats: ends-before-start)."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    a = census.data.assessments
    return ids(a, a["authorised_date"] < a["start_date"])


RULE = Rule("8608", "Assessment authorised before its start date", find)
