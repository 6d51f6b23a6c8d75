"""Series the models are fitted on: each LA's yearly figures from a DfE facts table, monthly
referrals summed to quarters, and the quarterly stock and flows from child-level records."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cpstats.periods import is_month, is_year
from cpstats.stats.forecast.base import FLOW_COLUMNS, LEADING_INDICATORS

# --- Series from the facts table ------------------------------------------------------------

#: The stock forecast by ``cpstats forecast annual`` and the measures fed to its models.
ANNUAL_MEASURES = ("cp_plans_at_31_march", *FLOW_COLUMNS, *LEADING_INDICATORS, "cp_rate_per_10k")


def _published(facts: pd.DataFrame, measures: tuple[str, ...],
               kind: Callable[[pd.Series], pd.Series]) -> pd.DataFrame:
    """Local-authority totals of ``measures`` as published by DfE, periods of one ``kind``
    (:func:`cpstats.periods.is_year` or :func:`~cpstats.periods.is_month`)."""
    keep = (
        (facts["geography_level"] == "local_authority")
        & (facts["breakdown"] == "total")
        & (facts["source"] == "dfe")
        & facts["measure"].isin(list(measures))
        & kind(facts["period"])
    )
    return facts.loc[keep.fillna(False), ["geography_code", "geography_name", "period", "measure",
                                          "value"]]


def la_names(facts: pd.DataFrame) -> dict[str, str]:
    """LA code -> name (the name on its latest period) from a facts table."""
    las = facts[facts["geography_level"] == "local_authority"].sort_values("period", kind="stable")
    return dict(zip(las["geography_code"], las["geography_name"], strict=True))


def annual_panel(facts: pd.DataFrame) -> dict[str, tuple[pd.Series, pd.DataFrame]]:
    """Each LA's children on plans at 31 March, with its flows and leading indicators.

    Parameters
    ----------
    facts
        A facts table holding DfE's published LA figures (e.g. from
        :func:`cpstats.io.dfe.read_release`).

    Returns
    -------
    dict
        LA code -> ``(y, exog)``: ``y`` is ``cp_plans_at_31_march`` on a ``Y-MAR``
        PeriodIndex (2013 = year ending 31 March 2013) covering every year in the
        release, missing where not published; ``exog`` holds ``cp_plans_started``,
        ``cp_plans_ended``, ``icpcs``, ``s47_enquiries`` and ``referrals`` on the same
        index. Ready for :func:`forecast_panel` and the backtests.
    """
    rows = _published(facts, ANNUAL_MEASURES, is_year)
    year = rows["period"].str.slice(0, 4).astype(int) + 1
    wide = rows.assign(year=year).pivot_table(index=["geography_code", "year"], columns="measure",
                                               values="value", aggfunc="first")
    wide = wide.reindex(columns=list(ANNUAL_MEASURES))
    years = pd.period_range(str(year.min()), str(year.max()), freq="Y-MAR")
    panel = {}
    for code, table in wide.groupby(level="geography_code", sort=True):
        table = table.droplevel("geography_code")
        table.index = pd.PeriodIndex([pd.Period(str(y), freq="Y-MAR") for y in table.index])
        table = table.reindex(years)
        panel[str(code)] = (table[ANNUAL_MEASURES[0]].rename(None), table[list(ANNUAL_MEASURES[1:])])
    return panel


def monthly_series(facts: pd.DataFrame, la_code: str,
                   measure: str = "referrals_by_month") -> pd.Series:
    """One LA's published monthly series (DfE's referrals by month) on a monthly PeriodIndex.

    Months the release lacks are missing (NaN), so a gap breaks the series for the models.
    """
    rows = _published(facts, (measure,), is_month)
    rows = rows[rows["geography_code"] == str(la_code)]
    if rows.empty:
        return pd.Series(dtype=float, index=pd.PeriodIndex([], freq="M"))
    series = pd.Series(rows["value"].to_numpy(dtype=float),
                       index=pd.PeriodIndex(rows["period"].tolist(), freq="M")).sort_index()
    series = series[~series.index.duplicated(keep="first")]
    return series.reindex(pd.period_range(series.index.min(), series.index.max(), freq="M"))


#: Quarterly flows fed to the models next to the stock (measure names from cpstats.measures).
QUARTERLY_EXOG = (*FLOW_COLUMNS, *LEADING_INDICATORS)


def quarterly_series(cin: object, first_year: int, last_year: int | None = None
                     ) -> tuple[pd.Series, pd.DataFrame]:
    """Children on plans at each quarter end, with the quarter's flows, from child-level data.

    Parameters
    ----------
    cin
        A :class:`cpstats.childlevel.CinData`.
    first_year, last_year
        Years ending 31 March to cover (``last_year`` defaults to the reference date's
        year). Start at the first year the returns cover in full: earlier quarters would
        miss children whose plans ended before the first return.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        The stock (``cp_plans_at_end``, distinct children, as :mod:`cpstats.measures`
        counts it) on a ``Q-MAR`` PeriodIndex (``2017Q4`` = January-March 2017), and
        :data:`QUARTERLY_EXOG` on the same index.
    """
    from cpstats import measures
    from cpstats.periods import quarter_of

    last = last_year if last_year is not None else quarter_of(pd.Timestamp(cin.reference_date))[0]
    frames = [measures.series_frame(measures.series_facts(cin, year, freq="quarter"))
              for year in range(first_year, last + 1)]
    wide = pd.concat(frames)
    index = pd.PeriodIndex([pd.Period(f"{int(p[:4]) + 1}Q{p[-1]}", freq="Q-MAR") for p in wide.index])
    wide.index = index
    return wide["cp_plans_at_end"].astype(float).rename(None), wide.reindex(
        columns=list(QUARTERLY_EXOG)).astype(float)


def to_quarters(monthly: pd.Series) -> pd.Series:
    """Financial-quarter totals of a monthly series; a quarter missing any month is missing."""
    quarters = monthly.index.asfreq("Q-MAR")
    totals = monthly.groupby(quarters).sum(min_count=3)
    counts = monthly.groupby(quarters).count()
    return totals.where(counts == 3)
