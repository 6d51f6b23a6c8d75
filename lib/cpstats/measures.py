"""Measures derived from child-level records (a :class:`~cpstats.childlevel.CinData`), as facts.

Every function takes a ``CinData`` and a period or date and returns a facts
table (``geography_level="local_authority"``, ``geography_code`` = the LA,
``source`` = ``CinData.source``). The conventions are fixed in
``docs/definitions.md``; the ones that decide counts:

* a plan is **open on D** when it started on or before D and has no end date
  or ended after D (a plan ending on 31 March is not open at 31 March);
* **"n months after"** a date is the same day n months later, clamped to the
  month's end (30 Nov + 3 months = 28/29 Feb);
* **age** at D is whole years from the month of birth; a child is **unborn** at
  D when only an expected birth date is recorded or the birth month is after D;
* an **ICPC belongs to the latest s47** in the same CIN episode that started on
  or before it; ICPC timeliness counts working days with
  :func:`cpstats.workdays.working_days_between`.

Periods: a year ending 31 March (``"2016-17"``, ``2017``), a financial quarter
(``"2016-17 Q4"``), a month (``"2017-03"``) or a date (``"2017-03-31"``). Flows
(starts, ends, referrals...) count events on the period's days; snapshots
(children on a plan, breakdowns, durations, review timeliness) are taken at the
period's last day. A snapshot at the end of a year is labelled with the year
(``cp_plans_at_31_march``, period ``"2016-17"``); any other snapshot is labelled
with its date (``cp_plans_at_date``, period ``"2016-12-31"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cpstats import codes, facts, geography, periods
from cpstats.childlevel import CinData
from cpstats.errors import ParameterError
from cpstats.workdays import ICPC_WORKING_DAYS, working_days_between

#: The report's finer duration bands (key, label), in order.
REPORT_DURATION_BANDS: tuple[tuple[str, str], ...] = (
    ("under_4_weeks", "Less than 4 weeks"),
    ("4_to_8_weeks", "4 weeks, under 8 weeks"),
    ("8_weeks_to_3_months", "8 weeks, under 3 months"),
    ("3_to_6_months", "3 months, under 6 months"),
    ("6_to_12_months", "6 months, under 12 months"),
    ("1_to_2_years", "1 year, under 2 years"),
    ("2_to_3_years", "2 years, under 3 years"),
    ("3_years_plus", "3 years or more"),
)

# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """A reporting period: ``label`` as in facts, ``kind``, first and last day (inclusive)."""

    label: str
    kind: str  # "year", "quarter", "month" or "date"
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def snapshot_label(self) -> str:
        """Period label of a snapshot at :attr:`end`: the year for a year, else the date."""
        return self.label if self.kind == "year" else self.end.strftime("%Y-%m-%d")


def parse_period(value: object) -> Period:
    """A :class:`Period` from ``"2016-17"``, ``2017``, ``"2016-17 Q4"``, ``"2017-03"``, a date.

    Examples
    --------
    >>> parse_period("2016-17 Q4").start.date(), parse_period("2016-17 Q4").end.date()
    (datetime.date(2017, 1, 1), datetime.date(2017, 3, 31))
    """
    if isinstance(value, Period):
        return value
    if isinstance(value, (date, pd.Timestamp)):
        day = pd.Timestamp(value).normalize()
        return Period(day.strftime("%Y-%m-%d"), "date", day, day)
    text = str(value).strip()
    kind = periods.period_kind(text)  # "2011-12" is a year, never December 2011
    if kind == "quarter":
        year, quarter = periods.parse_quarter(text)
        first, last = periods.quarter_bounds(year, quarter)
        return Period(periods.quarter_label(year, quarter), "quarter",
                      pd.Timestamp(first), pd.Timestamp(last))
    if kind == "month":
        start = pd.Timestamp(*periods.parse_month(text), 1)
        return Period(text, "month", start, start + pd.offsets.MonthEnd(0))
    if kind == "date":
        try:
            day = pd.Timestamp(text)
        except ValueError as error:
            raise ParameterError("period", value, "a real date such as 2017-03-31") from error
        return Period(text, "date", day, day)
    try:
        year = periods.parse_year(text)
    except ParameterError as error:
        raise ParameterError(
            "period", value, "a year (2016-17 or 2017), quarter (2016-17 Q4), month (2017-03) "
            "or date (2017-03-31)") from error
    return Period(periods.year_label(year), "year", pd.Timestamp(periods.year_start(year)),
                  pd.Timestamp(periods.year_end(year)))


def months_in(value: object) -> list[Period]:
    """The months of a period, in order."""
    p = parse_period(value)
    return [parse_period(m.strftime("%Y-%m"))
            for m in pd.period_range(p.start, p.end, freq="M").to_timestamp()]


def quarters_in(value: object) -> list[Period]:
    """The financial quarters overlapping a period, in order."""
    p = parse_period(value)
    keys = sorted({periods.quarter_of(m.start) for m in months_in(p)})
    return [parse_period(periods.quarter_label(y, q)) for y, q in keys]


# ---------------------------------------------------------------------------------------------
# Date conventions


def add_months(dates: pd.Series, months: int) -> pd.Series:
    """Same day ``months`` later, clamped to the month's end (30 Nov + 3 = 28/29 Feb)."""
    return dates + pd.DateOffset(months=months)


def isin(values: pd.Series, allowed: Iterable[object]) -> pd.Series:
    """``values.isin(allowed)``, fast for long lists of strings (pandas 3's Arrow-backed
    ``Series.isin`` converts each allowed value in Python: seconds for 100,000 IDs)."""
    pool = pa.array(pd.Series(list(allowed) if not isinstance(allowed, pd.Series) else allowed,
                              dtype=values.dtype).dropna().unique())
    found = pc.is_in(pa.array(values), value_set=pool).to_numpy(zero_copy_only=False)
    return pd.Series(found, index=values.index).fillna(False).astype(bool)


def open_at(plans: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Mask of plans open on ``day``: started on or before it, not ended on or before it."""
    return (plans["start_date"] <= day) & (plans["end_date"].isna() | (plans["end_date"] > day))


def in_period(dates: pd.Series, period: Period) -> pd.Series:
    """Mask of dates on one of the period's days (missing dates are outside)."""
    return ((dates >= period.start) & (dates <= period.end)).fillna(False)


def age_band_at(children: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """DfE age band (``codes.AGE_BANDS`` key) of each child at ``day``; ``unknown`` if no dates.

    Age is whole years from the month of birth (the birthday taken as the 1st of
    the month, which is exact at any month end). Unborn: only an expected birth
    date, or a birth month after ``day``.
    """
    birth = children["birth_month"]
    unborn = (birth.isna() & children["expected_birth_month"].notna()) | (birth > day).fillna(False)
    age = day.year - birth.dt.year - (day.month < birth.dt.month).astype("Int64")
    bands = pd.Series("unknown", index=children.index, dtype="string")
    for key, lower in codes.AGE_BANDS:
        if lower is not None:
            bands = bands.mask((age >= lower).fillna(False), key)
    return bands.mask(unborn, "unborn")


def duration_band(start: pd.Series, until: pd.Series) -> pd.Series:
    """DfE's band (``codes.DURATION_BANDS`` key) for a plan running from ``start`` to ``until``."""
    keys = [key for key, _ in codes.DURATION_BANDS]
    choices = [until <= add_months(start, 3), until <= add_months(start, 6),
               until < add_months(start, 12), until < add_months(start, 24)]
    return _choose(choices, keys, start.index)


def report_duration_band(start: pd.Series, until: pd.Series) -> pd.Series:
    """The report's finer band (:data:`REPORT_DURATION_BANDS` key) from ``start`` to ``until``."""
    keys = [key for key, _ in REPORT_DURATION_BANDS]
    days = (until - start).dt.days
    choices = [days < 28, days < 56, until < add_months(start, 3), until < add_months(start, 6),
               until < add_months(start, 12), until < add_months(start, 24),
               until < add_months(start, 36)]
    return _choose(choices, keys, start.index)


def _choose(conditions: list[pd.Series], keys: list[str], index: pd.Index) -> pd.Series:
    arrays = [c.fillna(False).to_numpy(dtype=bool) for c in conditions]
    return pd.Series(np.select(arrays, keys[:-1], default=keys[-1]), index=index, dtype="string")


# ---------------------------------------------------------------------------------------------
# Facts assembly


class _Rows:
    """Collects fact rows for one CinData, then builds one validated table."""

    def __init__(self, data: CinData, la_name: str | None):
        self.data, self.la_name, self.rows = data, la_name, []

    # Derived tables used by many periods: computed once per table of facts.
    @cached_property
    def icpcs(self) -> pd.DataFrame:
        return icpc_table(self.data)

    @cached_property
    def review_chain(self) -> pd.DataFrame:
        return _review_chain(self.data)

    @cached_property
    def repeat(self) -> pd.Series:
        return second_or_subsequent(self.data.cp_plans)

    @cached_property
    def ended_bands(self) -> tuple[np.ndarray, np.ndarray]:
        """Each plan's DfE and report duration band at its end."""
        plans = self.data.cp_plans
        start, end = plans["start_date"], plans["end_date"]
        return (duration_band(start, end).to_numpy(dtype=object),
                report_duration_band(start, end).to_numpy(dtype=object))

    def add(self, measure: str, period: str, value: float | None, unit: str = "count",
            breakdown: str = facts.TOTAL) -> None:
        missing = value is None or pd.isna(value)
        self.rows.append({"period": period, "measure": measure, "breakdown": breakdown,
                          "value": np.nan if missing else float(value),
                          "marker": "z" if missing else pd.NA, "unit": unit})

    def pct(self, measure: str, period: str, numerator: float, denominator: float,
            breakdown: str = facts.TOTAL) -> None:
        self.add(measure, period, 100 * numerator / denominator if denominator else None,
                 "percent", breakdown)

    def shares(self, measure: str, period: str, key: str, values: pd.Series,
               order: Iterable[str]) -> None:
        """Percentage of ``values`` in each listed value."""
        tally = values.value_counts()
        for name in order:
            self.pct(measure, period, int(tally.get(name, 0)), len(values),
                     codes.breakdown(**{key: name}))

    def counts(self, measure: str, period: str, key: str, values: pd.Series,
               order: Iterable[str] = ()) -> None:
        """One count per value of ``values`` (listed ``order`` first, zeros kept)."""
        tally = values.fillna("unknown").value_counts()
        for name in [*order, *sorted(set(tally.index) - set(order))]:
            self.add(measure, period, int(tally.get(name, 0)), breakdown=codes.breakdown(**{key: name}))

    def table(self) -> pd.DataFrame:
        if not self.rows:
            return facts.empty_facts()
        return facts.make_facts(
            self.rows, geography_level="local_authority", geography_code=self.data.la_code,
            geography_name=self.la_name or _name_of(self.data.la_code), source=self.data.source)


def _name_of(la_code: str) -> object:
    """The LA's published name, or missing for a code not in the LA table."""
    try:
        return geography.la_name(la_code)
    except ParameterError:
        return pd.NA


# ---------------------------------------------------------------------------------------------
# Snapshots


def plans_open_at(data: CinData, day: object) -> pd.DataFrame:
    """One row per child on a plan at ``day`` (its latest-starting open plan) with child columns."""
    when = parse_period(day).end
    plans = data.cp_plans[open_at(data.cp_plans, when)]
    plans = plans.sort_values(["child_id", "start_date", "plan_id"]).drop_duplicates(
        "child_id", keep="last")
    children = data.children[isin(data.children["child_id"], plans["child_id"])]
    return plans.merge(children, on="child_id", how="left", validate="one_to_one")


def snapshot_facts(data: CinData, at: object, la_name: str | None = None) -> pd.DataFrame:
    """Children on a plan at the end of ``at``, with every breakdown, durations and reviews.

    Parameters
    ----------
    data
        One LA's child-level records.
    at
        A period (the snapshot is its last day) or a date.
    la_name
        ``geography_name`` for the facts (default: the LA's published name).

    Returns
    -------
    pandas.DataFrame
        Facts: ``cp_plans_at_31_march`` (year) or ``cp_plans_at_date`` (other dates);
        ``cp_by_category`` (initial category, DfE), ``cp_by_latest_category``,
        ``cp_by_gender``, ``cp_by_age_band``, ``cp_by_ethnicity`` (codes),
        ``cp_by_ethnic_group`` (DfE's 5 groups), ``cp_by_disability``,
        ``cp_by_duration`` and ``_pct`` (DfE bands), ``cp_by_duration_report`` (the
        report's bands), ``cp_plans_2_years_or_more_pct``, ``cp_plans_3_months_or_more``,
        ``cp_reviews_in_timescale`` and ``_pct``. Names shared with :mod:`cpstats.io.dfe`
        mean the same figure.
    """
    period = parse_period(at)
    rows = _Rows(data, la_name)
    _snapshot(rows, data, period)
    return rows.table()


def _snapshot(rows: _Rows, data: CinData, period: Period) -> None:
    day, label = period.end, period.snapshot_label
    on = plans_open_at(data, day)
    total = "cp_plans_at_31_march" if period.kind == "year" else "cp_plans_at_date"
    rows.add(total, label, len(on))
    _breakdowns(rows, on, day, label)
    until = pd.Series(day, index=on.index).astype("datetime64[s]")
    rows.counts("cp_by_duration", label, "duration", duration_band(on["start_date"], until),
                [k for k, _ in codes.DURATION_BANDS])
    rows.counts("cp_by_duration_report", label, "duration",
                report_duration_band(on["start_date"], until), [k for k, _ in REPORT_DURATION_BANDS])
    rows.shares("cp_by_duration_pct", label, "duration",
                duration_band(on["start_date"], until), [k for k, _ in codes.DURATION_BANDS])
    rows.pct("cp_plans_2_years_or_more_pct", label,
             int((until >= add_months(on["start_date"], 24)).sum()), len(on))
    in_time, eligible = _reviews_in_timescale(data, rows.review_chain, day, on)
    rows.add("cp_plans_3_months_or_more", label, eligible)
    rows.add("cp_reviews_in_timescale", label, in_time)
    rows.pct("cp_reviews_in_timescale_pct", label, in_time, eligible)


def _breakdowns(rows: _Rows, on: pd.DataFrame, day: pd.Timestamp, label: str) -> None:
    category = on["initial_category"].map(codes.CATEGORY_OF)
    rows.counts("cp_by_category", label, "category", category, codes.CATEGORIES)
    rows.counts("cp_by_latest_category", label, "category",
                on["latest_category"].map(codes.CATEGORY_OF), codes.CATEGORIES)
    band = age_band_at(on, day)
    gender = on["gender"].fillna("unknown").mask(band == "unborn", "unborn")
    rows.counts("cp_by_gender", label, "gender", gender, codes.GENDERS[:3])
    rows.counts("cp_by_age_band", label, "age_band", band, [k for k, _ in codes.AGE_BANDS])
    ethnic_codes = [c for c in codes.ETHNICITY_LABELS if c not in codes.ETHNICITY_UNKNOWN]
    rows.counts("cp_by_ethnicity", label, "ethnicity", on["ethnicity"], ethnic_codes)
    rows.counts("cp_by_ethnic_group", label, "ethnic_group",
                on["ethnicity"].map(codes.ETHNIC_GROUP_OF), codes.ETHNIC_GROUPS)
    disabled = on["disabled"].map({True: "disabled", False: "not_disabled"})
    rows.counts("cp_by_disability", label, "disability", disabled, ["disabled", "not_disabled"])


def _review_chain(data: CinData) -> pd.DataFrame:
    """Reviews in date order per plan with their due date and the plan's start.

    The first review is due 3 months after the plan starts, each later one 6
    months after the review before it.
    """
    plans = data.cp_plans[["child_id", "plan_id", "start_date", "end_date"]]
    reviews = data.reviews.merge(plans, on=["child_id", "plan_id"], how="inner")
    reviews = reviews[reviews["review_date"] >= reviews["start_date"]]
    reviews = reviews.drop_duplicates(["child_id", "plan_id", "review_date"]).sort_values(
        ["child_id", "plan_id", "review_date"], kind="stable")
    previous = reviews.groupby(["child_id", "plan_id"], sort=False)["review_date"].shift(1)
    first = previous.isna()
    due = add_months(reviews["start_date"], 3).where(first, add_months(previous, 6))
    return reviews.assign(due=due, on_time=reviews["review_date"] <= due)


def reviews_in_timescale(data: CinData, day: object) -> tuple[int, int]:
    """DfE's review timeliness at ``day``: (children whose reviews were all on time, eligible).

    Eligible: children on a plan at ``day`` that started at least 3 months before
    (start + 3 months <= day). On time: every review up to ``day`` was held by its
    due date, and the next review was not yet overdue (its due date is after ``day``).
    """
    return _reviews_in_timescale(data, _review_chain(data), parse_period(day).end)


def _reviews_in_timescale(data: CinData, chain: pd.DataFrame, when: pd.Timestamp,
                          on: pd.DataFrame | None = None) -> tuple[int, int]:
    if on is None:  # a snapshot passes the plans it found open (the costliest step here)
        on = plans_open_at(data, when)
    on = on[add_months(on["start_date"], 3) <= when]
    chain = chain[chain["review_date"] <= when].merge(on[["child_id", "plan_id"]],
                                                       on=["child_id", "plan_id"])
    keys = ["child_id", "plan_id"]
    per_plan = chain.groupby(keys).agg(all_on_time=("on_time", "all"),
                                       last_review=("review_date", "max"))
    plans = on[keys + ["start_date"]].join(per_plan, on=keys)
    next_due = add_months(plans["start_date"], 3).where(
        plans["last_review"].isna(), add_months(plans["last_review"], 6))
    ok = plans["all_on_time"].fillna(True).astype(bool) & (next_due > when)
    return int(ok.sum()), len(plans)


# ---------------------------------------------------------------------------------------------
# Flows


def flow_facts(data: CinData, period: object, la_name: str | None = None) -> pd.DataFrame:
    """Events in ``period``: plans started/ended, repeats, referrals, s47s, ICPCs, reviews.

    Returns
    -------
    pandas.DataFrame
        Facts labelled with the period: ``cp_plans_started``, ``cp_plans_ended``,
        ``cp_plans_second_or_subsequent`` and ``_pct``,
        ``cp_plans_ended_by_duration`` and ``_pct`` (DfE bands),
        ``cp_plans_ended_by_duration_report``, ``referrals``,
        ``s47_enquiries``, ``icpcs``, ``icpc_within_15_working_days`` and ``_pct``,
        ``referral_to_s47_pct``, ``s47_to_icpc_pct``, ``icpc_to_cp_plan_pct``,
        ``icpcs_leading_to_plan`` and ``_pct`` (per ICPC: :func:`icpc_led_to_plan`),
        ``review_conferences``, ``review_conferences_in_timescale`` and ``_pct``.
    """
    rows = _Rows(data, la_name)
    _flows(rows, data, parse_period(period))
    return rows.table()


def _flows(rows: _Rows, data: CinData, period: Period) -> None:
    _flows_many(rows, data, [period])


def _slot(dates: pd.Series, parts: list[Period]) -> np.ndarray:
    """Position in ``parts`` (sorted, not overlapping) of the part holding each date; -1 if none."""
    starts = np.array([p.start.to_datetime64() for p in parts], dtype="datetime64[s]")
    ends = np.array([p.end.to_datetime64() for p in parts], dtype="datetime64[s]")
    days = dates.to_numpy(dtype="datetime64[s]")
    index = np.searchsorted(ends, days, side="left")  # the first part ending on or after
    inside = ~np.isnat(days) & (index < len(parts))
    inside &= days >= starts[np.minimum(index, len(parts) - 1)]
    return np.where(inside, index, -1)


def _tally(slot: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Events per part (optionally only where ``mask``)."""
    keep = slot >= 0 if mask is None else (slot >= 0) & mask
    return np.bincount(slot[keep], minlength=n)


def _flows_many(rows: _Rows, data: CinData, parts: list[Period]) -> None:
    """The flow measures of each period in ``parts``, counted in one pass per table."""
    n = len(parts)
    plans = data.cp_plans
    start_slot, end_slot = _slot(plans["start_date"], parts), _slot(plans["end_date"], parts)
    started, ended = _tally(start_slot, n), _tally(end_slot, n)
    repeat = _tally(start_slot, n, rows.repeat.to_numpy(dtype=bool))
    dfe, report = rows.ended_bands
    ended_by = {key: _tally(end_slot, n, dfe == key) for key, _ in codes.DURATION_BANDS}
    ended_report = {key: _tally(end_slot, n, report == key) for key, _ in REPORT_DURATION_BANDS}
    referrals = _tally(_slot(data.referrals["referral_date"], parts), n)
    s47s = _tally(_slot(data.s47s["s47_start_date"], parts), n)
    icpc = rows.icpcs
    icpc_slot = _slot(icpc["icpc_date"], parts)
    days = icpc["working_days"]
    icpcs = _tally(icpc_slot, n)
    timed = _tally(icpc_slot, n, days.notna().to_numpy(dtype=bool))
    within = _tally(icpc_slot, n, (days <= ICPC_WORKING_DAYS).fillna(False).to_numpy(dtype=bool))
    to_plan = _tally(icpc_slot, n, icpc_led_to_plan(icpc, plans))
    chain = rows.review_chain
    review_slot = _slot(chain["review_date"], parts)
    reviews = _tally(review_slot, n)
    on_time = _tally(review_slot, n, chain["on_time"].fillna(False).to_numpy(dtype=bool))
    for i, period in enumerate(parts):
        label = period.label
        rows.add("cp_plans_started", label, started[i])
        rows.add("cp_plans_ended", label, ended[i])
        rows.add("cp_plans_second_or_subsequent", label, repeat[i])
        rows.pct("cp_second_or_subsequent_pct", label, repeat[i], started[i])
        for key, count in ended_by.items():
            band = codes.breakdown(duration=key)
            rows.add("cp_plans_ended_by_duration", label, count[i], breakdown=band)
            rows.pct("cp_plans_ended_by_duration_pct", label, count[i], ended[i], breakdown=band)
        for key, count in ended_report.items():
            rows.add("cp_plans_ended_by_duration_report", label, count[i],
                     breakdown=codes.breakdown(duration=key))
        rows.add("referrals", label, referrals[i])
        rows.add("s47_enquiries", label, s47s[i])
        rows.add("icpcs", label, icpcs[i])
        rows.add("icpc_within_15_working_days", label, within[i])
        rows.pct("icpc_within_15_working_days_pct", label, within[i], timed[i])
        rows.pct("referral_to_s47_pct", label, s47s[i], referrals[i])
        rows.pct("s47_to_icpc_pct", label, icpcs[i], s47s[i])
        rows.pct("icpc_to_cp_plan_pct", label, started[i], icpcs[i])
        rows.add("icpcs_leading_to_plan", label, to_plan[i])
        rows.pct("icpcs_leading_to_plan_pct", label, to_plan[i], icpcs[i])
        rows.add("review_conferences", label, reviews[i])
        rows.add("review_conferences_in_timescale", label, on_time[i])
        rows.pct("review_conferences_in_timescale_pct", label, on_time[i], reviews[i])


def second_or_subsequent(plans: pd.DataFrame) -> pd.Series:
    """Mask of plans that were a child's second or later: previous plans recorded, or an
    earlier-starting plan for the same child in the data (however long ago)."""
    order = plans.sort_values(["child_id", "start_date", "plan_id"], kind="stable")
    earlier = order.groupby("child_id", sort=False).cumcount() > 0
    recorded = (plans["previous_plans"].fillna(0) > 0).astype(bool)
    return recorded | earlier.reindex(plans.index)


def icpc_led_to_plan(icpcs: pd.DataFrame, plans: pd.DataFrame) -> np.ndarray:
    """Mask of ICPCs (rows of :func:`icpc_table`) at which the child's plan started: a plan
    for the same child starting on the conference's date (a plan starts at its ICPC), so each
    conference is counted once whatever else starts plans (transfer-ins, next year's starts)."""
    starts = plans[["child_id", "start_date"]].dropna().drop_duplicates()
    starts = starts.astype({"start_date": "datetime64[s]"}).assign(_plan=True)
    keyed = icpcs[["child_id", "icpc_date"]].astype({"icpc_date": "datetime64[s]"})
    matched = keyed.merge(starts, left_on=["child_id", "icpc_date"],
                          right_on=["child_id", "start_date"], how="left")
    return matched["_plan"].fillna(False).to_numpy(dtype=bool)


def icpc_table(data: CinData) -> pd.DataFrame:
    """One row per ICPC (distinct child, CIN episode and date) with the s47 it belongs to.

    The ICPC belongs to the latest s47 in the same CIN episode that started on or
    before it; ``working_days`` from that s47's start is ``NA`` when there is none
    (an ICPC dated before every s47 of its episode: DfE leaves these out of timeliness).
    """
    s47 = data.s47s
    held = s47.loc[s47["icpc_date"].notna(), ["child_id", "cin_id", "icpc_date"]]
    held = held.drop_duplicates().sort_values("icpc_date", kind="stable")
    starts = s47.loc[s47["s47_start_date"].notna(), ["child_id", "cin_id", "s47_start_date"]]
    starts = starts.drop_duplicates().sort_values("s47_start_date", kind="stable")
    matched = pd.merge_asof(
        held.astype({"icpc_date": "datetime64[ns]"}),
        starts.astype({"s47_start_date": "datetime64[ns]"}),
        left_on="icpc_date", right_on="s47_start_date", by=["child_id", "cin_id"],
        direction="backward")
    matched = matched.astype({"icpc_date": "datetime64[s]", "s47_start_date": "datetime64[s]"})
    days = working_days_between(matched["s47_start_date"], matched["icpc_date"])
    return matched.assign(working_days=days).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Whole periods and series


def period_facts(data: CinData, period: object, la_name: str | None = None) -> pd.DataFrame:
    """Flows in ``period`` and the snapshot at its end (see :func:`flow_facts`,
    :func:`snapshot_facts`)."""
    rows = _Rows(data, la_name)
    _period(rows, data, parse_period(period))
    return rows.table()


def _period(rows: _Rows, data: CinData, p: Period) -> None:
    if p.kind != "date":
        _flows(rows, data, p)
    _snapshot(rows, data, p)


def series_facts(data: CinData, period: object, freq: str = "month",
                 la_name: str | None = None) -> pd.DataFrame:
    """Flows per month (or quarter) of ``period`` and children on a plan at each one's end.

    Parameters
    ----------
    freq
        ``"month"`` or ``"quarter"``.

    Returns
    -------
    pandas.DataFrame
        :func:`flow_facts` for each month/quarter plus ``cp_plans_at_date`` at its end.
    """
    rows = _Rows(data, la_name)
    _series(rows, data, period, freq)
    return rows.table()


def _series(rows: _Rows, data: CinData, period: object, freq: str) -> None:
    parts = {"month": months_in, "quarter": quarters_in}
    if freq not in parts:
        raise ParameterError("freq", freq, "'month' or 'quarter'")
    chosen = parts[freq](period)
    _flows_many(rows, data, chosen)
    for part in chosen:
        on = open_at(data.cp_plans, part.end)
        rows.add("cp_plans_at_date", part.snapshot_label,
                 data.cp_plans.loc[on, "child_id"].nunique())


def series_frame(series: pd.DataFrame) -> pd.DataFrame:
    """Wide table of a :func:`series_facts` result's totals: one row per month/quarter.

    The stock at each end (``cp_plans_at_date``) becomes column ``cp_plans_at_end``.
    """
    totals = series[series["breakdown"] == facts.TOTAL]
    is_stock = totals["measure"] == "cp_plans_at_date"
    wide = totals[~is_stock].pivot(index="period", columns="measure", values="value")
    label_of_end = {parse_period(p).end.strftime("%Y-%m-%d"): p for p in wide.index}
    stock = totals[is_stock].assign(period=lambda f: f["period"].map(label_of_end))
    wide["cp_plans_at_end"] = stock.dropna(subset=["period"]).set_index("period")["value"]
    return wide.rename_axis(columns=None)


def years_covered(data: CinData) -> list[int]:
    """Years ending 31 March from the earliest referral or plan to the reference date.

    Years before the first return's are incomplete (they hold only episodes still open
    when it began): pass ``years`` to :func:`all_measures` to leave them out.
    """
    dates = pd.concat([data.referrals["referral_date"], data.cp_plans["start_date"]]).dropna()
    last = periods.quarter_of(pd.Timestamp(data.reference_date))[0]
    first = periods.quarter_of(dates.min())[0] if len(dates) else last
    return list(range(first, last + 1))


def all_measures(data: CinData, years: Iterable[int | str] | None = None,
                 la_name: str | None = None) -> pd.DataFrame:
    """Every measure for each year: year flows and snapshot, plus quarterly and monthly series.

    Parameters
    ----------
    years
        Years ending 31 March (default: :func:`years_covered`).

    Returns
    -------
    pandas.DataFrame
        Sorted facts, one row per (measure, period, breakdown).
    """
    chosen = [periods.parse_year(y) for y in years] if years is not None else years_covered(data)
    rows = _Rows(data, la_name)
    for year in chosen:
        label = periods.year_label(year)
        _period(rows, data, parse_period(label))
        _series(rows, data, label, "quarter")
        _series(rows, data, label, "month")
    combined = rows.table().drop_duplicates(["measure", "period", "breakdown"])
    return facts.sort(combined)
