import math

import pandas as pd
import pytest

from cpstats import facts
from cpstats.errors import InputError


def _row(**overrides):
    row = dict(geography_level="local_authority", geography_code="825",
               geography_name="Buckinghamshire", period="2016-17",
               measure="cp_plans_at_31_march", breakdown="total", value=564, marker=None,
               unit="count", source="report")
    row.update(overrides)
    return row


def test_make_facts_sets_canonical_dtypes():
    table = facts.make_facts([_row()])
    assert list(table.columns) == list(facts.FACT_COLUMNS)
    assert table["value"].dtype == "float64"
    assert table["geography_code"].iloc[0] == "825"


def test_missing_value_needs_a_known_marker():
    with pytest.raises(InputError, match="marker"):
        facts.make_facts([_row(value=None, marker="?")])
    table = facts.make_facts([_row(value=None, marker="c")])
    assert math.isnan(table["value"].iloc[0]) and table["marker"].iloc[0] == "c"


@pytest.mark.parametrize("column,value", [("period", "2017"), ("source", "guess"),
                                          ("breakdown", "category neglect"),
                                          ("geography_level", "county")])
def test_every_schema_problem_names_row_and_column(column, value):
    with pytest.raises(InputError) as caught:
        facts.make_facts([_row(), _row(**{column: value})])
    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (3, column, value)


def test_value_of_and_select():
    table = facts.make_facts([_row(), _row(period="2015-16", value=450)])
    assert facts.value_of(table, period="2015-16") == 450
    assert len(facts.select(table, period=["2015-16", "2016-17"])) == 2
    with pytest.raises(KeyError):
        facts.value_of(table, measure="cp_plans_at_31_march")


def test_empty_facts_is_valid():
    assert facts.validate(facts.empty_facts()).empty
    assert isinstance(facts.empty_facts(), pd.DataFrame)


def test_implausible_values_are_named_by_what_their_unit_needs():
    from cpstats.facts import implausible

    value = pd.Series([-5.0, 1.234, 553.0, -1.0, 140.0, -12.0, -3.0, None])
    unit = pd.Series(["count", "count", "count", "rate", "percent", "percent", "count", "count"])
    measure = pd.Series(["cp_plans_at_31_march"] * 5 + ["cp_change_pct", "cp_change", "icpcs"])
    why = implausible(value, unit, measure)
    assert why.isna().tolist() == [False, False, True, False, False, True, True, True]
    assert why[0] == "a count: a whole number of 0 or more"
    assert why[4] == "a percentage from 0 to 100"
