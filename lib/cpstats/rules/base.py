"""What every DfE rule is given and returns.

A rule looks at one return (:class:`Census`: the reader's tables and the return's
census year) and names the child of each failing record. Rules are vectorised
pandas on whole tables: no loop over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cpstats.childlevel import CinData
from cpstats.workdays import add_working_days

ERROR = "error"
QUERY = "query"
#: Earliest collection year cpstats applies the rules to (it reads returns from 2012-13).
FIRST_YEAR = 2013
EPISODE = ["child_id", "cin_id"]


@dataclass(frozen=True)
class Census:
    """One return: its tables and its census year (1 April to the reference date)."""

    data: CinData
    reference_date: pd.Timestamp

    @classmethod
    def of(cls, data: CinData, reference_date: date | pd.Timestamp | None = None) -> Census:
        """The census of ``data``, whose reference date is ``data.reference_date`` by default."""
        return cls(data, pd.Timestamp(reference_date or data.reference_date))

    @property
    def start(self) -> pd.Timestamp:
        """First day of the census year (1 April before the reference date)."""
        return self.reference_date - pd.DateOffset(years=1) + pd.Timedelta(days=1)

    @property
    def year(self) -> int:
        """Collection year, named by the reference date's year (2017 for 2016-17)."""
        return self.reference_date.year

    def outside_year(self, dates: pd.Series) -> pd.Series:
        """Dates present and before the census year's start or after its reference date."""
        return dates.notna() & ((dates < self.start) | (dates > self.reference_date))

    def working_days_before_reference(self, days: int) -> pd.Timestamp:
        """The reference date less ``days`` working days (England)."""
        return pd.Timestamp(add_working_days(self.reference_date.date(), -days))

    def with_episode(self, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """``frame`` with its CIN episode's ``columns`` (referral date, closure...) beside it."""
        episodes = self.data.referrals[[*EPISODE, *columns]].drop_duplicates(EPISODE)
        return frame.merge(episodes, on=EPISODE, how="left")


def ids(frame: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """``child_id`` of the rows where ``mask`` is true (missing counts as false)."""
    hit = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
    return frame.loc[hit, "child_id"]


def episodes_with(frame: pd.DataFrame) -> pd.DataFrame:
    """The distinct (child_id, cin_id) pairs that have a record in ``frame``."""
    return frame[EPISODE].drop_duplicates()


def codes(listed: pd.Series) -> pd.DataFrame:
    """Comma-joined code lists as one row per code: ``row`` (the list's index) and ``code``."""
    present = listed.dropna()
    exploded = present.astype("string").str.split(",").explode().str.strip()
    return pd.DataFrame({"row": exploded.index, "code": exploded.to_numpy()})


@dataclass(frozen=True)
class Rule:
    """A DfE CIN Census validation rule, as cpstats implements it.

    Attributes
    ----------
    code
        The DfE rule code (``"8620"``; a ``Q`` suffix marks a query).
    message
        What it checks, in cpstats' own words.
    find
        The ``child_id`` of each failing record in a :class:`Census` (repeats allowed).
    first_year, last_year
        Collection years (reference date's year) the rule applies to; ``None``: still applies.
    """

    code: str
    message: str
    find: Callable[[Census], pd.Series]
    first_year: int = FIRST_YEAR
    last_year: int | None = None

    @property
    def kind(self) -> str:
        """``query`` for a rule DfE asks to be checked or explained, else ``error``."""
        return QUERY if self.code.endswith("Q") else ERROR

    def applies_to(self, year: int) -> bool:
        """Whether the rule is in the rule set of collection ``year``."""
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)
