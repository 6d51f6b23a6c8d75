"""DfE 8794: a child's disability codes are all different."""

import pandas as pd

from cpstats.rules.base import Census, Rule, codes


def find(census: Census) -> pd.Series:
    children = census.data.children
    listed = codes(children["disabilities"])
    rows = listed.loc[listed.duplicated(["row", "code"]), "row"].unique()
    return children.loc[rows, "child_id"]


RULE = Rule("8794", "The same disability code twice for a child", find)
