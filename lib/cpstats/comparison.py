"""An LA's published figure beside England's, its region's and its statistical neighbours',
each with a 95% interval and a test of whether it differs from the LA's.

Intervals need the counts behind a figure: a rate per 10,000 is its count over the population
DfE used (implied by the published rate: count / rate x 10,000); a percentage is its numerator
over its denominator, both published beside it. :data:`BASES` says which counts each measure
rests on; a measure not listed there is compared without intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from cpstats.defaults import ENGLAND_CODE
from cpstats.facts import TOTAL, select
from cpstats.stats import intervals

#: measure -> ("rate", count measure) or ("percent", numerator measure, denominator measure).
BASES: dict[str, tuple[str, ...]] = {
    "cp_rate_per_10k": ("rate", "cp_plans_at_31_march"),
    "cp_plans_started_rate_per_10k": ("rate", "cp_plans_started"),
    "cp_plans_ended_rate_per_10k": ("rate", "cp_plans_ended"),
    "referrals_rate_per_10k": ("rate", "referrals"),
    "s47_enquiries_rate_per_10k": ("rate", "s47_enquiries"),
    "icpcs_rate_per_10k": ("rate", "icpcs"),
    "cin_rate_per_10k": ("rate", "children_in_need_at_31_march"),
    "cp_second_or_subsequent_pct": ("percent", "cp_plans_second_or_subsequent",
                                    "cp_plans_started"),
    "cp_reviews_in_timescale_pct": ("percent", "cp_reviews_in_timescale",
                                    "cp_plans_3_months_or_more"),
    "re_referrals_pct": ("percent", "re_referrals", "referrals"),
}
AGAINST = ("england", "region", "neighbours")
COLUMNS = ("role", "geography_code", "geography_name", "period", "measure", "value", "marker",
           "lower_95", "upper_95", "z", "p_value", "source", "note")


def compare(facts: pd.DataFrame, measure: str, la_code: str, period: str, region_code: str,
            neighbours: Sequence[str], against: Sequence[str] = AGAINST,
            source: str = "dfe") -> pd.DataFrame:
    """The LA's value of ``measure`` in ``period`` beside its comparators.

    Parameters
    ----------
    facts
        Published facts holding the measure (and, for intervals, its counts; see :data:`BASES`).
    measure
        A registered measure, e.g. ``"cp_rate_per_10k"``.
    la_code, period
        The LA (DfE number) and the year (``"2016-17"``).
    region_code, neighbours
        The LA's region (GSS code) and statistical neighbours (LA numbers).
    against
        Any of ``"england"``, ``"region"``, ``"neighbours"``.
    source
        Which source's figures to compare (default: DfE's published ones).

    Returns
    -------
    pandas.DataFrame
        One row per area (``role``: ``la``, ``england``, ``region``, ``neighbour``), with the
        value, its 95% interval where :data:`BASES` gives its counts, and for each comparator
        the z statistic and two-sided p-value of its difference from the LA.
    """
    unknown = set(against) - set(AGAINST)
    if unknown:
        raise ValueError(f"against: {sorted(unknown)}; expected any of {', '.join(AGAINST)}")
    roles = {la_code: "la"}
    roles |= {ENGLAND_CODE: "england"} if "england" in against else {}
    roles |= {region_code: "region"} if "region" in against else {}
    roles |= {code: "neighbour" for code in neighbours} if "neighbours" in against else {}
    rows = select(facts, measure=measure, period=period, breakdown=TOTAL, source=source,
                  geography_code=list(roles))
    table = rows.assign(role=rows["geography_code"].map(roles))
    table = _with_intervals(table, facts, measure, period, source)
    order = table["role"].map({"la": 0, "england": 1, "region": 2, "neighbour": 3})
    table = table.assign(_order=order).sort_values(["_order", "geography_name"], kind="stable")
    return table.reindex(columns=list(COLUMNS)).reset_index(drop=True)


def _counts(facts: pd.DataFrame, measure: str, period: str, source: str) -> pd.Series:
    rows = select(facts, measure=measure, period=period, breakdown=TOTAL, source=source)
    return rows.set_index("geography_code")["value"]


def _with_intervals(table: pd.DataFrame, facts: pd.DataFrame, measure: str, period: str,
                    source: str) -> pd.DataFrame:
    base = BASES.get(measure)
    if base is None:
        return table.assign(lower_95=math.nan, upper_95=math.nan, z=math.nan, p_value=math.nan)
    numerator = _counts(facts, base[1], period, source).reindex(table["geography_code"])
    if base[0] == "rate":
        # The population DfE used, implied by its own rate (its vintage, not ONS's latest).
        denominator = numerator / table["value"].to_numpy() * 10_000
    else:
        denominator = _counts(facts, base[2], period, source).reindex(table["geography_code"])
    pairs = list(zip(numerator.to_numpy(dtype=float), denominator.to_numpy(dtype=float),
                     strict=True))
    bounds = [_interval(base[0], x, n) for x, n in pairs]
    la = pairs[list(table["role"]).index("la")] if "la" in set(table["role"]) else (math.nan,) * 2
    tests = [_difference(base[0], la, pair) if role != "la" else (math.nan, math.nan)
             for role, pair in zip(table["role"], pairs, strict=True)]
    return table.assign(lower_95=[b[0] for b in bounds], upper_95=[b[1] for b in bounds],
                        z=[t[0] for t in tests], p_value=[t[1] for t in tests])


def _interval(kind: str, count: float, base: float) -> tuple[float, float]:
    if not (count >= 0 and base > 0):
        return math.nan, math.nan
    if kind == "rate":
        return intervals.rate_interval(count, base)
    return intervals.wilson_interval(count, base)


def _difference(kind: str, la: tuple[float, float],
                other: tuple[float, float]) -> tuple[float, float]:
    if not all(v >= 0 for v in (*la, *other)) or la[1] == 0 or other[1] == 0:
        return math.nan, math.nan
    if kind == "rate":
        return intervals.rates_differ(la[0], la[1], other[0], other[1])
    return intervals.proportions_differ(la[0], la[1], other[0], other[1])
