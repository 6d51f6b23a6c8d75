"""DfE 8696: an assessment authorisation date, when present, falls within the census year."""

import pandas as pd

from cpstats.rules.base import Census, Rule, ids


def find(census: Census) -> pd.Series:
    a = census.data.assessments
    return ids(a, census.outside_year(a["authorised_date"]))


RULE = Rule("8696", "Assessment authorisation date outside the census year", find)
