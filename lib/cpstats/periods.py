"""Reporting periods: years ending 31 March, financial quarters, months.

``2017``, ``"2017"`` and ``"2016-17"`` all mean the year ending 31 March 2017
(DfE ``time_period`` 2017). Q1 is April-June, Q4 January-March.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pandas as pd

from cpstats.errors import ParameterError

_YEAR = re.compile(r"^(\d{4})$")
_FY = re.compile(r"^(\d{4})-(\d{2})$")


def parse_year(value: int | str) -> int:
    """The year ending 31 March that ``value`` names, as DfE's integer ``time_period``.

    >>> parse_year("2016-17"), parse_year(2017), parse_year("2017")
    (2017, 2017, 2017)
    """
    text = str(value).strip()
    if m := _YEAR.match(text):
        return int(m.group(1))
    if m := _FY.match(text):
        start, end = int(m.group(1)), int(m.group(2))
        if (start + 1) % 100 == end:
            return start + 1
    raise ParameterError("--year", value, "a year ending 31 March such as 2017 or 2016-17")


def year_label(year: int) -> str:
    """``2017`` -> ``"2016-17"``."""
    return f"{year - 1}-{year % 100:02d}"


def year_start(year: int) -> date:
    """First day (1 April) of the year ending 31 March ``year``."""
    return date(year - 1, 4, 1)


def year_end(year: int) -> date:
    """31 March of ``year``: the snapshot date of DfE's "at 31 March" figures."""
    return date(year, 3, 31)


def quarter_of(day: date | pd.Timestamp) -> tuple[int, int]:
    """(year ending 31 March, financial quarter 1-4) containing ``day``."""
    month = day.month
    year = day.year + 1 if month >= 4 else day.year
    quarter = ((month - 4) % 12) // 3 + 1
    return year, quarter


def quarter_label(year: int, quarter: int) -> str:
    """``(2017, 4)`` -> ``"2016-17 Q4"``."""
    return f"{year_label(year)} Q{quarter}"


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of financial quarter ``quarter`` of the year ending March ``year``."""
    start = pd.Timestamp(year - 1, 4, 1) + pd.DateOffset(months=3 * (quarter - 1))
    end = start + pd.DateOffset(months=3) - pd.Timedelta(days=1)
    return start.date(), end.date()


def month_label(day: date | pd.Timestamp) -> str:
    """``date(2017, 3, 31)`` -> ``"2017-03"``."""
    return f"{day.year:04d}-{day.month:02d}"


# -- predicates over a column of period labels (vectorised) -----------------------------------
def _per_label(period: pd.Series, compute: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``compute`` over the distinct labels of ``period`` only, spread back over its rows: a
    facts table repeats a few hundred labels over tens of thousands of rows, and every
    notebook cuts its facts at the run's year."""
    codes, uniques = pd.factorize(period.astype("string"))
    labels = pd.Series([*uniques, pd.NA], dtype="string")  # the last: a missing label
    codes[codes < 0] = len(uniques)
    return compute(labels).iloc[codes].set_axis(period.index)


def period_year(period: pd.Series) -> pd.Series:
    """The year ending 31 March each period falls in (``2016-17`` -> 2017, ``2017-03`` -> 2017,
    ``2017-04`` -> 2018, ``2016-17 Q4`` -> 2017, ``2017-03-31`` -> 2017); ``<NA>`` otherwise."""
    def years(text: pd.Series) -> pd.Series:
        fy = text.str.extract(r"^(\d{4})-(\d{2})(?: Q[1-4])?$").astype("Float64")
        # A financial year's two halves are consecutive ("2016-17"); otherwise it is a month.
        is_fy = (fy[0] + 1) % 100 == fy[1]
        ym = text.str.extract(r"^(\d{4})-(\d{2})(?:-\d{2})?$").astype("Float64")
        from_month = ym[0] + (ym[1] >= 4).astype("Float64")
        return (fy[0] + 1).where(is_fy.fillna(False), from_month).astype("Int64")

    return _per_label(period, years)


def is_year(period: pd.Series) -> pd.Series:
    """True for a year ending 31 March written ``2016-17`` (consecutive years, so never a month)."""
    def years(text: pd.Series) -> pd.Series:
        parts = text.str.extract(r"^(\d{4})-(\d{2})$").astype("Float64")
        return ((parts[0] + 1) % 100 == parts[1]).fillna(False).astype(bool)

    return _per_label(period, years)


def is_month(period: pd.Series) -> pd.Series:
    """True for a month written ``2017-03``."""
    def months(text: pd.Series) -> pd.Series:
        return (text.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False)
                & ~is_year(text)).astype(bool)

    return _per_label(period, months)


def is_quarter(period: pd.Series) -> pd.Series:
    """True for a financial quarter written ``2016-17 Q4``."""
    return _per_label(period, lambda text: text.str.fullmatch(r"\d{4}-\d{2} Q[1-4]")
                      .fillna(False).astype(bool))


def as_at(facts: pd.DataFrame, year: int) -> pd.DataFrame:
    """Facts for periods up to and including the year ending 31 March ``year``: a report shows
    nothing after its year."""
    return facts[(period_year(facts["period"]) <= year).fillna(False)].reset_index(drop=True)


# -- one period label: its kind and its parts (the only period patterns in the package) -------
_QUARTER = re.compile(r"^(\d{4}-\d{2}) Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def period_kind(label: object) -> str | None:
    """Which kind of facts period ``label`` is: ``"year"`` (``2016-17``: two consecutive years,
    so never a month, even ``2011-12``), ``"quarter"`` (``2016-17 Q4``), ``"month"``
    (``2017-03``), ``"date"`` (``2017-03-31``, a snapshot); ``None`` for anything else.

    >>> [period_kind(p) for p in ("2016-17", "2011-12", "2017-03", "2016-17 Q4", "2017-03-31")]
    ['year', 'year', 'month', 'quarter', 'date']
    >>> period_kind("2017"), period_kind("2016-18")
    (None, None)
    """
    text = str(label).strip()
    if _consecutive(text):
        return "year"
    if (m := _QUARTER.match(text)) and _consecutive(m.group(1)):
        return "quarter"
    if _MONTH.match(text):
        return "month"
    if _DATE.match(text):
        return "date"
    return None


def _consecutive(text: str) -> bool:
    """``2016-17``: a year ending 31 March written as two consecutive years."""
    m = _FY.match(text)
    return m is not None and (int(m.group(1)) + 1) % 100 == int(m.group(2))


def parse_quarter(label: str) -> tuple[int, int]:
    """``"2016-17 Q4"`` -> ``(2017, 4)``: the year ending 31 March and the financial quarter."""
    m = _QUARTER.match(str(label).strip())
    if m is None:
        raise ParameterError("quarter", label, "a financial quarter such as 2016-17 Q4")
    return parse_year(m.group(1)), int(m.group(2))


def parse_month(label: str) -> tuple[int, int]:
    """``"2017-03"`` -> ``(2017, 3)``: calendar year and month."""
    if period_kind(label) != "month":
        raise ParameterError("month", label, "a month such as 2017-03")
    year, month = str(label).strip().split("-")
    return int(year), int(month)
