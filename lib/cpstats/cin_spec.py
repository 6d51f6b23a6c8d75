"""What each collection year's CIN Census specification holds: the one table of schema years.

A return for the year ending 31 March ``year`` may only carry the elements and codes of that
year's specification. They change rarely, so the table lists the first year's codes and
then each year's changes (from the DfE schemas kept in ``../shared/data/cin_census/schemas``:
the 2017 schema serves 2013-2020, as the earlier years have none there).

>>> spec(2017).cin_plan_dates, "RC9" in spec(2017).closure_reasons, "5D" in spec(2023).referral_sources
(False, False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

#: Earliest collection year described (cpstats reads returns from 2012-13).
FIRST_YEAR = 2013


@dataclass(frozen=True)
class YearSpec:
    """The elements and codes of one collection year's CIN Census."""

    year: int
    #: The schema file (in ``shared/data/cin_census/schemas``) nearest to the year's own.
    schema: str
    #: Whether ``<CINPlanDates>`` exists (from 2021-22).
    cin_plan_dates: bool
    closure_reasons: frozenset[str]
    referral_sources: frozenset[str]
    assessment_factors: frozenset[str]


_BASE = YearSpec(
    year=FIRST_YEAR, schema="liia_tools_CIN_schema_2017.xsd", cin_plan_dates=False,
    closure_reasons=frozenset(f"RC{i}" for i in range(1, 9)),
    referral_sources=frozenset("1A 1B 1C 1D 2A 2B 3A 3B 3C 3D 3E 3F 4 5A 5B 5C 6 7 8 9 10".split()),
    assessment_factors=frozenset(
        "1A 1B 1C 2A 2B 2C 3A 3B 3C 4A 4B 4C 5A 5B 5C 6A 6B 6C 7A 8B 8C 8D 8E 8F 9A 10A 11A "
        "12A 13A 14A 15A 16A 17A 18A 19A 20 21 22A 23A".split()),
)


def _factors(spec: YearSpec, add: str = "", drop: str = "") -> frozenset[str]:
    return (spec.assessment_factors | set(add.split())) - set(drop.split())


#: Year -> how its specification differs from the previous year's.
CHANGES = {
    2021: lambda s: replace(s, schema="liia_tools_CIN_schema_2021.xsd",
                            assessment_factors=_factors(s, "18B 18C 19B 19C", "18A 19A")),
    2022: lambda s: replace(s, schema="liia_tools_CIN_schema_2022.xsd", cin_plan_dates=True,
                            assessment_factors=_factors(s, "24A")),
    2023: lambda s: replace(s, schema="liia_tools_CIN_schema_2023.xsd",
                            closure_reasons=s.closure_reasons | {"RC9"},
                            referral_sources=s.referral_sources | {"5D"}),
}


@cache
def spec(year: int) -> YearSpec:
    """The specification of the return for the year ending 31 March ``year`` (years before
    :data:`FIRST_YEAR` take the first year's)."""
    current = _BASE
    for step in range(FIRST_YEAR + 1, year + 1):
        if step in CHANGES:
            current = CHANGES[step](current)
    return replace(current, year=year)


def collection_year(dates):
    """The collection year of each date (a pandas Series of dates): 2017 for April 2016 to
    March 2017."""
    return dates.dt.year + (dates.dt.month >= 4)
