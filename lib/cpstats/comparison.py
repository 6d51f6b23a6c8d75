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

#: A count a figure rests on: a measure's total, or the sum of some of its breakdowns
#: (``("icpc_duration_days", ("band=0_10", ...))``; an empty tuple sums every breakdown).
Count = str | tuple[str, tuple[str, ...]]
_ICPC_BANDS = ("band=0_10", "band=11_15", "band=16_20", "band=21_plus")
_DURATION_BANDS = ("duration=3_months_or_less", "duration=3_to_6_months",
                   "duration=6_months_to_1_year", "duration=1_to_2_years",
                   "duration=2_years_or_more")
#: measure -> ("rate", count) or ("percent", numerator, denominator), each a :data:`Count`.
BASES: dict[str, tuple] = {
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
    # DfE publishes the day bands, not the share: within 15 working days over every banded ICPC.
    "icpc_within_15_working_days_pct": ("percent", ("icpc_duration_days", _ICPC_BANDS[:2]),
                                        ("icpc_duration_days", _ICPC_BANDS)),
    "cin_with_disability_pct": ("percent", "cin_with_disability", "children_in_need_at_31_march"),
    "cp_plans_2_years_or_more_pct": ("percent", ("cp_by_duration", ("duration=2_years_or_more",)),
                                     ("cp_by_duration", _DURATION_BANDS)),
    # Conversion ratios of published counts, treated as proportions of the earlier stage.
    "s47_per_referral_pct": ("percent", "s47_enquiries", "referrals"),
    "icpc_per_s47_pct": ("percent", "icpcs", "s47_enquiries"),
}
#: A breakdown's share (``cp_by_category_pct`` for ``category=neglect``) rests on the count of
#: that breakdown over the sum of every breakdown of its key, in this count measure.
SHARES: dict[str, str] = {
    "cp_by_category_pct": "cp_by_category", "cp_by_gender_pct": "cp_by_gender",
    "cp_by_duration_pct": "cp_by_duration",
    "cp_plans_ended_by_duration_pct": "cp_plans_ended_by_duration",
}
#: Shares of a published total whose bands overlap (d8's transfer-ins are within 3 months or
#: less): the breakdown's count over the total, not over the sum of the bands.
SHARE_TOTALS: dict[str, tuple[str, str]] = {
    "cp_plans_ended_first_6_months_of_year_by_duration_pct": (
        "cp_plans_ended_first_6_months_of_year_by_duration",
        "cp_plans_ended_first_6_months_of_year"),
}
#: Ratios of two published counts stated as percentages, not shares (plans started can exceed
#: the ICPCs held): measure -> (numerator, denominator). Interval: the exact conditional one
#: for a ratio of two Poisson counts (Clopper-Pearson on numerator / (numerator + denominator)).
RATIOS: dict[str, tuple[str, str]] = {
    "icpc_to_cp_plan_pct": ("cp_plans_started", "icpcs"),
    "plan_per_icpc_pct": ("cp_plans_started", "icpcs"),
}
#: A count's change on the year before, in percent: measure -> the count. Interval: 100 x (the
#: exact conditional interval of this year's count over last year's, treated as Poisson - 1).
CHANGES: dict[str, str] = {"cp_change_pct": "cp_plans_at_31_march"}
#: What the intervals of :data:`RATIOS` and :data:`CHANGES` assume and the counts do not meet.
LINKED_COUNTS = {
    **dict.fromkeys(RATIOS, "interval conservative: treats the counts as independent, though "
                            "most plans started follow the ICPCs counted (not a binomial "
                            "share: plans started also include transfer-ins); never read as "
                            "no difference"),
    **dict.fromkeys(CHANGES, "interval conservative: treats the counts as independent, though "
                             "many children on a plan at one 31 March are still on it at the "
                             "next; never read as no difference"),
}
#: How far a percentage recomputed from its counts may sit from the figure stated (published
#: percentages are rounded to 1 decimal); further apart, the counts are not its base. DfE
#: rounds national and regional counts to the nearest 10, which moves a share by up to
#: 100 x 10 / denominator more.
_AGREE = 0.051
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


def interval(facts: pd.DataFrame, measure: str, geography_code: str, period: str,
             value: float, breakdown: str = TOTAL,
             level: float = 0.95) -> tuple[float, float] | None:
    """The interval of one stated rate or percentage, from the DfE counts it rests on.

    Parameters
    ----------
    facts
        Published facts holding the counts :data:`BASES` names for ``measure``.
    measure, geography_code, period, breakdown
        Which figure (a breakdown's share only for the measures in :data:`SHARES`).
    value
        The figure as stated: a rate's population is implied by it (count / rate x 10,000); a
        percentage's counts must give it back to within rounding.
    level
        Coverage of the interval.

    Returns
    -------
    tuple of float or None
        (lower, upper), exact below 10 events and Byar's above for rates, Wilson's for
        percentages; ``None`` where the measure has no base, a count is missing or suppressed,
        or the counts do not give the stated percentage.
    """
    if value is None or not math.isfinite(value):
        return None
    if breakdown == TOTAL and (measure in RATIOS or measure in CHANGES):
        return _ratio_interval(facts, measure, geography_code, period, value, level)
    base = BASES.get(measure) if breakdown == TOTAL else _share_base(measure, breakdown)
    if base is None:
        return None
    counts = [_counts(facts, spec, period, "dfe").get(geography_code, math.nan)
              for spec in base[1:]]
    if base[0] == "rate":
        if not (counts[0] >= 0 and value > 0):
            return None
        return intervals.rate_interval(counts[0], counts[0] / value * 10_000, level=level)
    x, n = counts
    rounded = x % 10 == 0 and n % 10 == 0
    if not (n > 0 and 0 <= x <= n) or abs(100 * x / n - value) > _AGREE + rounded * 1000 / n:
        return None
    return intervals.wilson_interval(x, n, level)


def _ratio_interval(facts: pd.DataFrame, measure: str, geography_code: str, period: str,
                    value: float, level: float) -> tuple[float, float] | None:
    """Interval of a percentage ratio of two counts (:data:`RATIOS`) or of a count's change
    (:data:`CHANGES`), when the counts give back the stated figure to within rounding."""
    from cpstats.periods import parse_year, year_label
    from cpstats.stats.intervals import exact_ratio_interval

    if measure in RATIOS:
        top, bottom = (_counts(facts, spec, period, "dfe").get(geography_code, math.nan)
                       for spec in RATIOS[measure])
        shift = 0.0
    else:
        before = year_label(parse_year(period) - 1)
        top, bottom = (_counts(facts, CHANGES[measure], when, "dfe").get(geography_code, math.nan)
                       for when in (period, before))
        shift = 100.0
    if not (top >= 0 and bottom > 0) or abs(100 * top / bottom - shift - value) > _AGREE:
        return None
    lower, upper = exact_ratio_interval(top, 1, bottom, 1, 1 - level)
    return 100 * lower - shift, 100 * upper - shift


def counts_interval(kind: str, count: float, base: float,
                    level: float = 0.95) -> tuple[float, float] | None:
    """Interval of a figure computed here from its own counts: ``"rate"`` per 10,000 of
    ``count`` in a population ``base`` (exact/Byar's), ``"percent"`` of ``count`` out of
    ``base`` (Wilson's); ``None`` where the counts cannot give one (missing, or base 0)."""
    if not (count >= 0 and base > 0) or (kind == "percent" and count > base):
        return None
    return _interval(kind, count, base)


def _share_base(measure: str, breakdown: str) -> tuple | None:
    """("percent", this breakdown's count, every breakdown of its key) for a share in SHARES;
    (..., its published total) for one in SHARE_TOTALS."""
    if measure in SHARE_TOTALS and ";" not in breakdown:
        counts, total = SHARE_TOTALS[measure]
        return "percent", (counts, (breakdown,)), total
    counts = SHARES.get(measure)
    if counts is None or ";" in breakdown or "=" not in breakdown:
        return None
    key = breakdown.split("=")[0]
    return "percent", (counts, (breakdown,)), (counts, (f"{key}=",))


#: Where a percentage's own counts are not kept for every council (the reference extract keeps
#: the derived ICPC timeliness share but not its day bands), its numerator is the share of this
#: published denominator (which may differ from the banded total by a conference or two).
FALLBACK_DENOMINATOR = {"icpc_within_15_working_days_pct": "icpcs"}


def panel(facts: pd.DataFrame, measure: str, period: str) -> pd.DataFrame:
    """Every area's value of a rate or percentage with the counts it rests on.

    Parameters
    ----------
    facts
        Published facts for many areas (a DfE release, or the reference extract's all-LA rows).
    measure
        A measure in :data:`BASES`.
    period
        The year.

    Returns
    -------
    pandas.DataFrame
        Indexed by geography code: ``geography_level``, ``geography_name``, ``value``,
        ``numerator`` and ``denominator`` (a rate's denominator is the population DfE used,
        implied by its rate), for the areas where all are published.
    """
    kind, *specs = BASES[measure]
    rows = select(facts, measure=measure, period=period, breakdown=TOTAL,
                  source=["dfe", "derived"]).drop_duplicates("geography_code")
    value = rows.set_index("geography_code")["value"]
    numerator = _counts(facts, specs[0], period, "dfe")
    if kind == "rate":
        denominator = numerator / value.reindex(numerator.index) * 10_000
    else:
        denominator = _counts(facts, specs[1], period, "dfe").reindex(numerator.index)
        if measure in FALLBACK_DENOMINATOR:
            fallback = _counts(facts, FALLBACK_DENOMINATOR[measure], period, "dfe")
            codes = numerator.index.union(value.index)
            numerator, denominator = numerator.reindex(codes), denominator.reindex(codes)
            fallback, shown = fallback.reindex(codes), value.reindex(codes)
            missing = numerator.isna() | denominator.isna()
            numerator = numerator.where(~missing, shown / 100 * fallback)
            denominator = denominator.where(~missing, fallback)
        # A share DfE did not publish for an area is its counts' share.
        value = value.reindex(numerator.index).fillna(100 * numerator / denominator)
    names = facts.drop_duplicates("geography_code").set_index("geography_code")
    table = pd.DataFrame({"value": value.reindex(numerator.index), "numerator": numerator,
                          "denominator": denominator})
    table = names[["geography_level", "geography_name"]].join(table, how="inner")
    table = table[(table["denominator"] > 0) & table["numerator"].notna()
                  & table["value"].notna()]
    return table.rename_axis("geography_code").sort_index()


def _counts(facts: pd.DataFrame, spec: Count, period: str, source: str) -> pd.Series:
    """Counts by geography code; a breakdown sum is missing where any band is."""
    if isinstance(spec, str):
        rows = select(facts, measure=spec, period=period, breakdown=TOTAL, source=source)
        return rows.set_index("geography_code")["value"]
    measure, bands = spec
    rows = select(facts, measure=measure, period=period, source=source)
    if len(bands) == 1 and bands[0].endswith("="):
        # Every breakdown of one key: none may be missing (suppressed) for the sum to stand.
        rows = rows[rows["breakdown"].str.fullmatch(rf"{bands[0]}[^;]+")]
        sums = rows.groupby("geography_code")["value"]
        return sums.sum().where(sums.count() == sums.size())
    rows = rows[rows["breakdown"].isin(list(bands))]
    return rows.groupby("geography_code")["value"].sum(min_count=len(bands))


def _with_intervals(table: pd.DataFrame, facts: pd.DataFrame, measure: str, period: str,
                    source: str) -> pd.DataFrame:
    base = BASES.get(measure)
    if base is None:
        return table.assign(lower_95=math.nan, upper_95=math.nan, z=math.nan, p_value=math.nan)
    # A derived share (ICPC timeliness) rests on DfE's published counts.
    source = "dfe" if source == "derived" else source
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
