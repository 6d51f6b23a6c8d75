"""English school holidays, approximately.

No library holds English school term dates (each council sets its own), so the
suite ships ``resources/school_holidays.csv``: the usual pattern for 2012-2023
(October half term in the last full week of October, two weeks at Christmas,
February half term in mid-February, two weeks around Easter, May half term with
the spring bank holiday, summer from late July to 31 August). It is
**approximate**: replace it with the council's own dates (same three columns,
``holiday,start,end``, ISO dates, inclusive) and pass its path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from cpstats.errors import InputError, Problem

COLUMNS = ("holiday", "start", "end")
#: What charts and tables say about the shipped table.
APPROXIMATE_NOTE = ("school holidays approximate (the usual English pattern, not this council's "
                    "dates)")


def default_path() -> Path:
    """The shipped, approximate table."""
    return Path(str(resources.files("cpstats") / "resources" / "school_holidays.csv"))


def load(path: str | Path | None = None) -> pd.DataFrame:
    """School holidays as ``holiday``, ``start``, ``end`` (inclusive dates), sorted by start.

    Parameters
    ----------
    path
        A council's own table; ``None`` for the shipped approximate one.

    Raises
    ------
    InputError
        Naming the row and column of a missing column, a bad date or an end before its start.
    """
    file = Path(path) if path is not None else default_path()
    frame = pd.read_csv(file, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(Problem(file=str(file), column=", ".join(missing),
                                 expected=f"columns {', '.join(COLUMNS)}"))
    problems: list[Problem] = []
    parsed = {}
    for column in ("start", "end"):
        parsed[column] = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
        bad = parsed[column].isna()
        problems += [Problem(file=str(file), row=int(i) + 2, column=column, value=frame[column].iloc[i],
                             expected="a date like 2016-10-24") for i in bad[bad].index]
    backwards = parsed["end"] < parsed["start"]
    problems += [Problem(file=str(file), row=int(i) + 2, column="end", value=frame["end"].iloc[i],
                         expected="an end date on or after the start") for i in backwards[backwards].index]
    if problems:
        raise InputError(problems)
    out = pd.DataFrame({"holiday": frame["holiday"].astype("string"), "start": parsed["start"],
                        "end": parsed["end"]})
    return out.sort_values("start", kind="stable").reset_index(drop=True)


def between(start: object, end: object, path: str | Path | None = None) -> pd.DataFrame:
    """Holidays overlapping ``start``..``end`` (inclusive), clipped to it."""
    table = load(path)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    out = table[(table["end"] >= lo) & (table["start"] <= hi)]
    return out.assign(start=out["start"].clip(lower=lo), end=out["end"].clip(upper=hi)).reset_index(drop=True)


def weekday_share_by_month(start: object, end: object, path: str | Path | None = None) -> pd.Series:
    """Share of each month's weekdays that fall in a school holiday, indexed ``YYYY-MM``."""
    days = pd.bdate_range(pd.Timestamp(start), pd.Timestamp(end))
    table = between(start, end, path)
    in_holiday = pd.Series(False, index=days)
    for first, last in zip(table["start"], table["end"], strict=True):
        in_holiday |= (days >= first) & (days <= last)
    return in_holiday.groupby(days.strftime("%Y-%m")).mean().rename("holiday_share")
