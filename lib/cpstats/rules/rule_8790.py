"""DfE 8790: a child with disability NONE has no other disability code."""

import pandas as pd

from cpstats.rules.base import Census, Rule, codes


def find(census: Census) -> pd.Series:
    children = census.data.children
    listed = codes(children["disabilities"])
    none = listed["code"].str.upper() == "NONE"
    mixed = none.groupby(listed["row"]).agg(["any", "all"])
    rows = mixed.index[mixed["any"] & ~mixed["all"]]
    return children.loc[rows, "child_id"]


RULE = Rule("8790", "Disability NONE together with other disability codes", find)
