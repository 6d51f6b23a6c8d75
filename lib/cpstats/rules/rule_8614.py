"""DfE 8614: factors identified at assessment only on an authorised (completed) assessment."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    a = census.data.assessments
    return ids(a, a["factors"].notna() & a["authorised_date"].isna())


RULE = Rule("8614", "Assessment factors on an assessment not authorised", find)
