"""Working days in England: Monday to Friday, less England and Wales bank holidays.

Counting convention (see docs/definitions.md): the working days *from* a start
date *to* an end date count the working days after the start, up to and
including the end -- the start day is excluded, the end day included, so an
ICPC held on the day its section 47 enquiry started is 0 working days. When both
dates are working days this is exactly ``numpy.busday_count(start, end)``.
DfE's "0-10 days" band implies this convention; DfE does not state it.

Bank holidays come from the maintained ``holidays`` package (England subdivision
of GB, which is the England and Wales list), so one-off holidays such as the 2020
VE-day move and the 2022 Platinum Jubilee are included.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

#: Working days within which an ICPC should be held (Working Together).
ICPC_WORKING_DAYS = 15

_DAY = "datetime64[D]"


@lru_cache(maxsize=8)
def _holiday_array(first_year: int, last_year: int) -> np.ndarray:
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(days), dtype=_DAY)


def bank_holidays(first_year: int, last_year: int) -> list[date]:
    """England and Wales bank holidays from ``first_year`` to ``last_year`` inclusive, sorted."""
    return [d.item() for d in _holiday_array(first_year, last_year)]


def _as_days(values: object) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """Dates as ``datetime64[D]`` plus a missing mask and the Series index (if any)."""
    index = values.index if isinstance(values, pd.Series) else None
    stamps = pd.to_datetime(pd.Series(np.atleast_1d(values)) if index is None else values)
    missing = stamps.isna().to_numpy()
    days = stamps.to_numpy(dtype="datetime64[ns]").astype(_DAY)
    return days, missing, index


def business_calendar(*arrays: np.ndarray) -> np.busdaycalendar:
    """A numpy business-day calendar with the bank holidays of the years the dates span."""
    known = np.concatenate([a[~np.isnat(a)] for a in arrays])
    if known.size == 0:
        return np.busdaycalendar(holidays=_holiday_array(2000, 2000))
    years = known.astype("datetime64[Y]").astype(int) + 1970
    # One spare year each side: offsets of 15 working days can cross a year end.
    return np.busdaycalendar(holidays=_holiday_array(int(years.min()) - 1, int(years.max()) + 1))


def _shape(result: np.ndarray, missing: np.ndarray, index: pd.Index | None, scalar: bool,
           dtype: str) -> object:
    series = pd.Series(result, index=index).astype(dtype)
    series = series.mask(pd.Series(missing, index=series.index))
    if scalar:
        value = series.iloc[0]
        return None if pd.isna(value) else (value.date() if dtype != "Int64" else int(value))
    return series


def working_days_between(start: object, end: object) -> pd.Series | int | None:
    """Working days after ``start`` up to and including ``end`` (same day = 0).

    Parameters
    ----------
    start, end
        Dates: scalars, or Series (aligned by position) of datetimes; missing allowed.

    Returns
    -------
    pandas.Series or int or None
        ``Int64`` Series (``NA`` where either date is missing), or an int for scalar
        input. Negative when ``end`` is before ``start``.

    Examples
    --------
    >>> working_days_between(date(2016, 12, 16), date(2017, 1, 11))
    15
    """
    scalar = not isinstance(start, pd.Series) and not isinstance(end, pd.Series)
    s, s_missing, index = _as_days(start)
    e, e_missing, e_index = _as_days(end)
    index = index if index is not None else e_index
    missing = s_missing | e_missing
    one = np.timedelta64(1, "D")
    s_safe = np.where(missing, np.datetime64("2000-01-01"), s)
    e_safe = np.where(missing, np.datetime64("2000-01-01"), e)
    # (start, end] == [start + 1, end + 1) in numpy's half-open counting; numpy counts a
    # reversed pair differently, so count forwards and restore the sign.
    low, high = np.minimum(s_safe, e_safe), np.maximum(s_safe, e_safe)
    counts = np.busday_count(low + one, high + one, busdaycal=business_calendar(s_safe, e_safe))
    counts = np.where(e_safe < s_safe, -counts, counts)
    return _shape(counts, missing, index, scalar, "Int64")


def add_working_days(start: object, days: int) -> pd.Series | date | None:
    """The ``days``-th working day after ``start`` (vectorised over a Series).

    A start on a weekend or holiday counts from the working day before it, so
    the result always satisfies ``working_days_between(start, result) == days``.
    """
    scalar = not isinstance(start, pd.Series)
    s, missing, index = _as_days(start)
    s_safe = np.where(missing, np.datetime64("2000-01-01"), s)
    result = np.busday_offset(s_safe, days, roll="backward", busdaycal=business_calendar(s_safe))
    return _shape(result.astype("datetime64[s]"), missing, index, scalar, "datetime64[s]")


def icpc_deadline(s47_start: object) -> pd.Series | date | None:
    """Last day on which an ICPC is within 15 working days of the s47 start.

    Examples
    --------
    >>> icpc_deadline(date(2016, 12, 16))
    datetime.date(2017, 1, 11)
    """
    return add_working_days(s47_start, ICPC_WORKING_DAYS)


def is_working_day(day: object) -> pd.Series | bool | None:
    """Whether each date is a working day (Monday-Friday, not a bank holiday)."""
    scalar = not isinstance(day, pd.Series)
    d, missing, index = _as_days(day)
    d_safe = np.where(missing, np.datetime64("2000-01-01"), d)
    result = np.is_busday(d_safe, busdaycal=business_calendar(d_safe))
    series = pd.Series(result, index=index).astype("boolean").mask(pd.Series(missing, index=index))
    if scalar:
        value = series.iloc[0]
        return None if pd.isna(value) else bool(value)
    return series
