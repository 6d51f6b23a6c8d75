"""Working days: England and Wales bank holidays and the 15-working-day ICPC deadline.

Expected dates are counted by hand on a calendar (domain.md section 5)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from cpstats.workdays import (
    add_working_days,
    bank_holidays,
    icpc_deadline,
    is_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    ("s47_start", "deadline"),
    [
        # Christmas 2016: 26 and 27 Dec (substitute) and 2 Jan 2017 (New Year substitute).
        (date(2016, 12, 16), date(2017, 1, 11)),
        # Easter 2017 (14 and 17 April) and the Early May bank holiday (1 May).
        (date(2017, 4, 10), date(2017, 5, 4)),
        # 2020: Early May bank holiday moved to Fri 8 May (VE day); Mon 4 May was a working day.
        (date(2020, 5, 7), date(2020, 6, 1)),
        # 2022: Spring bank holiday moved to Thu 2 June, Platinum Jubilee Fri 3 June.
        (date(2022, 5, 27), date(2022, 6, 21)),
        # An ordinary fortnight and a day: three weeks, no holidays.
        (date(2017, 2, 1), date(2017, 2, 22)),
    ],
)
def test_icpc_deadline_matches_hand_count(s47_start: date, deadline: date) -> None:
    assert icpc_deadline(s47_start) == deadline
    assert working_days_between(s47_start, deadline) == 15
    assert working_days_between(s47_start, deadline.replace(day=deadline.day + 1)) == 16


def test_one_off_holidays_are_in_the_list() -> None:
    assert is_working_day(date(2020, 5, 8)) is False
    assert is_working_day(date(2020, 5, 4)) is True
    assert {date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)} <= set(bank_holidays(2022, 2022))
    assert date(2022, 5, 30) not in bank_holidays(2022, 2022)
    assert is_working_day(date(2017, 1, 7)) is False  # a Saturday


def test_counting_excludes_start_and_includes_end() -> None:
    assert working_days_between(date(2017, 1, 10), date(2017, 1, 10)) == 0
    assert working_days_between(date(2017, 1, 10), date(2017, 1, 11)) == 1
    # Friday to Monday is one working day; Saturday to Monday too (the weekend counts for nothing).
    assert working_days_between(date(2017, 1, 13), date(2017, 1, 16)) == 1
    assert working_days_between(date(2017, 1, 14), date(2017, 1, 16)) == 1
    assert working_days_between(date(2017, 1, 16), date(2017, 1, 13)) == -1


def test_weekend_start_counts_from_the_next_working_day() -> None:
    # s47 on Saturday 14 Jan 2017: Mon 16 is day 1, so day 15 is Fri 3 Feb.
    assert icpc_deadline(date(2017, 1, 14)) == date(2017, 2, 3)
    assert add_working_days(date(2017, 1, 13), 1) == date(2017, 1, 16)


def test_vectorised_keeps_index_and_missing_values() -> None:
    starts = pd.Series(pd.to_datetime(["2016-12-16", None, "2017-04-10"]), index=[7, 8, 9])
    ends = pd.Series(pd.to_datetime(["2017-01-12", "2017-01-12", None]), index=[7, 8, 9])
    counts = working_days_between(starts, ends)
    assert counts.index.tolist() == [7, 8, 9]
    assert counts.iloc[0] == 16 and counts.isna().tolist() == [False, True, True]
    deadlines = icpc_deadline(starts)
    assert deadlines.tolist()[0] == pd.Timestamp("2017-01-11") and pd.isna(deadlines.iloc[1])
    assert deadlines.iloc[2] == pd.Timestamp("2017-05-04")
