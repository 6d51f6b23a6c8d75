"""What an Annex A workbook can and cannot say, its measures, and its reconciliation
with a CIN Census return.

An Annex A is a window and a snapshot: List 3 holds the referrals and List 5 the
section 47 enquiries of the months before the extract date, List 7 every plan open
on the extract date or ended in the window, each with only its latest review. So:

* **flows** (starts, ends, referrals, s47s, repeat plans, ends by duration) are
  complete for a period inside the window;
* **ICPCs** by date also need their s47 in the window: complete for periods starting
  :data:`ICPC_LAG_MONTHS` after the window starts;
* **snapshots** (children on a plan and their breakdowns, durations) are complete on
  any day from the day before the window to the extract date (a plan open then is
  open on the extract date or ended in the window);
* the **latest category** and **review timeliness from the latest review** are known
  on the extract date only;
* DfE's **review timeliness** and **review conferences** need every review: refused.

:class:`Coverage` answers for a measure and period, and refuses with a message naming
what is missing; :func:`window_facts` gives every supported measure. Conventions are
in ``docs/definitions.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpstats import childlevel, facts, measures, periods
from cpstats.childlevel import CinData
from cpstats.errors import ParameterError
from cpstats.measures import Period, add_months, parse_period

#: An ICPC more than this after its s47 started is missed when the s47 is before the window.
ICPC_LAG_MONTHS = 3

FLOWS = frozenset({
    "cp_plans_started", "cp_plans_ended", "cp_plans_second_or_subsequent",
    "cp_second_or_subsequent_pct", "cp_plans_ended_by_duration",
    "cp_plans_ended_by_duration_pct", "cp_plans_ended_by_duration_report", "referrals",
    "s47_enquiries", "referral_to_s47_pct"})
ICPC_FLOWS = frozenset({
    "icpcs", "icpc_within_15_working_days", "icpc_within_15_working_days_pct",
    "s47_to_icpc_pct", "icpc_to_cp_plan_pct", "icpcs_resulting_in_plan",
    "icpcs_resulting_in_plan_pct"})
SNAPSHOTS = frozenset({
    "cp_plans_at_date", "cp_plans_at_31_march", "cp_by_category", "cp_by_gender",
    "cp_by_age_band", "cp_by_ethnicity", "cp_by_ethnic_group", "cp_by_disability",
    "cp_by_duration", "cp_by_duration_report", "cp_by_duration_pct",
    "cp_plans_2_years_or_more_pct", "cp_plans_3_months_or_more"})
AT_EXTRACT = frozenset({"cp_by_latest_category", "cp_reviews_not_overdue",
                        "cp_reviews_not_overdue_pct", "cp_reviews_not_overdue_eligible"})
REFUSED = {
    **dict.fromkeys(("cp_reviews_in_timescale", "cp_reviews_in_timescale_pct",
                     "review_conferences", "review_conferences_in_timescale",
                     "review_conferences_in_timescale_pct"),
                    "needs every review conference; Annex A lists only each plan's latest "
                    "(use cp_reviews_not_overdue, or a CIN Census return)"),
}


@dataclass(frozen=True)
class Coverage:
    """The days an Annex A's lists describe: its window and extract date.

    Parameters
    ----------
    extract_date
        The day the lists were extracted.
    window_start
        The first day of the window of events.
    """

    extract_date: pd.Timestamp
    window_start: pd.Timestamp

    def _span(self) -> str:
        return (f"the Annex A lists cover events from {self.window_start.date()} to "
                f"{self.extract_date.date()} and plans open from {self.snapshot_from.date()}")

    @property
    def snapshot_from(self) -> pd.Timestamp:
        """The first day a snapshot is complete: the day before the window."""
        return self.window_start - pd.Timedelta(days=1)

    @property
    def icpc_from(self) -> pd.Timestamp:
        """The first day ICPC counts are complete (see :data:`ICPC_LAG_MONTHS`)."""
        return add_months(pd.Series([self.window_start]), ICPC_LAG_MONTHS).iloc[0]

    def why_not(self, measure: str, period: object) -> str | None:
        """Why ``measure`` for ``period`` cannot come from these lists (``None``: it can)."""
        p = parse_period(period)
        if measure in REFUSED:
            return f"{measure} {REFUSED[measure]}"
        if measure in FLOWS or measure in ICPC_FLOWS:
            first = self.icpc_from if measure in ICPC_FLOWS else self.window_start
            if p.kind == "date" and p.start == p.end:
                return f"{measure} counts events in a period, not on one day"
            if p.start < first or p.end > self.extract_date:
                return (f"{measure} for {p.label} needs events from {p.start.date()} to "
                        f"{p.end.date()}, but {self._span()}"
                        + (f"; ICPCs from {first.date()} (an ICPC is listed only with its "
                           "s47)" if measure in ICPC_FLOWS else "")
                        + "; choose a period inside the window, or use a CIN Census return")
            return None
        if measure in SNAPSHOTS:
            if not self.snapshot_from <= p.end <= self.extract_date:
                return (f"{measure} at {p.end.date()} needs the plans open that day, but "
                        f"{self._span()} to {self.extract_date.date()}")
            return None
        if measure in AT_EXTRACT:
            if p.end != self.extract_date:
                return (f"{measure} is known on the extract date {self.extract_date.date()} "
                        f"only (Annex A keeps the latest value), not at {p.end.date()}")
            return None
        return f"{measure} is not a measure an Annex A workbook supports"

    def supports(self, measure: str, period: object) -> bool:
        """True when ``measure`` for ``period`` is complete in these lists."""
        return self.why_not(measure, period) is None

    def require(self, measure: str, period: object) -> None:
        """Refuse, with the reason, a measure and period these lists cannot give.

        Raises
        ------
        ParameterError
            When :meth:`why_not` gives a reason.
        """
        reason = self.why_not(measure, period)
        if reason is not None:
            raise ParameterError("measure", f"{measure} for {period}", reason)

    def restrict(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of a facts table these lists support (one decision per measure and period)."""
        pairs = table[["measure", "period"]].drop_duplicates()
        keep = pairs.assign(ok=[self.supports(m, p) for m, p in
                                zip(pairs["measure"], pairs["period"], strict=True)])
        marked = table.merge(keep, on=["measure", "period"], how="left")
        return table[marked["ok"].to_numpy(dtype=bool)].reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """What these lists support, one row per group of measures: ``measures``,
        ``from``, ``to`` (blank: refused) and ``why`` (for a report's data section)."""
        day = self.extract_date.date()
        rows = [
            ("flows (plans started and ended, repeat plans, ends by duration, referrals, "
             "s47s)", self.window_start.date(), day, "every event in the window is listed"),
            ("ICPC flows (ICPCs, timeliness, conversion, outcome)", self.icpc_from.date(), day,
             f"an ICPC is listed with its s47 only; from {ICPC_LAG_MONTHS} months into the "
             "window"),
            ("children on a plan and their breakdowns, durations", self.snapshot_from.date(),
             day, "a plan open then is open now or ended in the window"),
            ("latest category; reviews not overdue", day, day, "only the latest value is kept"),
            ("DfE review timeliness; review conferences", pd.NaT, pd.NaT,
             "needs every review; Annex A lists the latest"),
        ]
        return pd.DataFrame(rows, columns=["measures", "from", "to", "why"])

    def months(self) -> list[Period]:
        """The whole months inside the window, up to the last complete month."""
        return [m for m in measures.months_in(self._window())
                if m.start >= self.window_start and m.end <= self.extract_date]

    def quarters(self) -> list[Period]:
        """The whole financial quarters inside the window."""
        return [q for q in measures.quarters_in(self._window())
                if q.start >= self.window_start and q.end <= self.extract_date]

    def _window(self) -> Period:
        return Period("window", "date", self.window_start, self.extract_date)


def coverage_of(data: CinData) -> Coverage:
    """The :class:`Coverage` of an Annex A read (:class:`cpstats.io.annex_a.AnnexAData`)."""
    if not hasattr(data, "window_start"):
        raise ParameterError("data", type(data).__name__, "records read from an Annex A workbook")
    return Coverage(pd.Timestamp(data.extract_date), pd.Timestamp(data.window_start))


# ---------------------------------------------------------------------------------------------
# Measures only Annex A gives


def reviews_not_overdue(data: CinData) -> tuple[int, int]:
    """Review timeliness from the latest review, on the extract date.

    Of children on a plan on the extract date that started at least 3 months before
    (as DfE's eligibility), those whose next review is not overdue: due 6 months after
    the latest review, or 3 months after the start when none was held, and the due
    date after the extract date. Whether earlier reviews were on time is not known.

    Returns
    -------
    (int, int)
        (not overdue, eligible).
    """
    day = pd.Timestamp(data.extract_date)
    on = measures.plans_open_at(data, day)
    on = on[add_months(on["start_date"], 3) <= day]
    latest = data.latest_reviews.groupby(["child_id", "plan_id"])["review_date"].max()
    review = latest.reindex(pd.MultiIndex.from_frame(on[["child_id", "plan_id"]])).to_numpy()
    review = pd.Series(review, index=on.index, dtype="datetime64[s]")
    due = add_months(on["start_date"], 3).where(review.isna(), add_months(review, 6))
    return int((due > day).sum()), len(on)


def _outcomes(data: CinData, parts: list[Period]) -> list[tuple[int, int]]:
    """(ICPCs, those resulting in a plan) in each period, from List 5's outcome column."""
    held = data.icpc_outcomes.drop_duplicates(["child_id", "icpc_date"])
    days = held["icpc_date"].to_numpy(dtype="datetime64[s]")
    plan = held["resulted_in_plan"].fillna(False).to_numpy(dtype=bool)
    out = []
    for p in parts:  # a handful of periods, each a vectorised mask
        inside = (days >= p.start.to_datetime64()) & (days <= p.end.to_datetime64())
        out.append((int(inside.sum()), int((inside & plan).sum())))
    return out


def _own_facts(data: CinData, parts: list[Period]) -> pd.DataFrame:
    rows = []
    done, eligible = reviews_not_overdue(data)
    day = pd.Timestamp(data.extract_date).strftime("%Y-%m-%d")
    rows += [("cp_reviews_not_overdue", day, done, "count"),
             ("cp_reviews_not_overdue_eligible", day, eligible, "count"),
             ("cp_reviews_not_overdue_pct", day, 100 * done / eligible if eligible else np.nan,
              "percent")]
    for p, (held, led) in zip(parts, _outcomes(data, parts), strict=True):
        rows += [("icpcs_resulting_in_plan", p.label, led, "count"),
                 ("icpcs_resulting_in_plan_pct", p.label,
                  100 * led / held if held else np.nan, "percent")]
    frame = pd.DataFrame(rows, columns=["measure", "period", "value", "unit"])
    frame["marker"] = pd.Series(pd.NA, index=frame.index, dtype="string").mask(
        frame["value"].isna(), "z")
    return facts.make_facts(frame, geography_level="local_authority",
                            geography_code=data.la_code, geography_name=pd.NA,
                            source=data.source)


def window_facts(data: CinData, freq: str = "month") -> pd.DataFrame:
    """Every measure an Annex A supports: a series over the window and the extract-date snapshot.

    Parameters
    ----------
    data
        An Annex A read (:func:`cpstats.io.annex_a.read_annex_a`).
    freq
        ``"month"`` (whole months up to last month) or ``"quarter"`` (whole quarters).

    Returns
    -------
    pandas.DataFrame
        Facts: :func:`cpstats.measures.series_facts` for each whole month or quarter of
        the window, :func:`cpstats.measures.snapshot_facts` on the extract date,
        ``cp_reviews_not_overdue`` (and ``_eligible``, ``_pct``) and
        ``icpcs_resulting_in_plan`` (and ``_pct``); only what :class:`Coverage` supports.
    """
    cover = coverage_of(data)
    parts = {"month": cover.months, "quarter": cover.quarters}
    if freq not in parts:
        raise ParameterError("freq", freq, "'month' or 'quarter'")
    chosen = parts[freq]()
    tables = [measures.snapshot_facts(data, cover.extract_date), _own_facts(data, chosen)]
    if chosen:
        window = Period("window", "date", chosen[0].start, chosen[-1].end)
        tables.append(measures.series_facts(data, window, freq))
    combined = pd.concat(tables, ignore_index=True).drop_duplicates(
        ["measure", "period", "breakdown"])  # the series repeats the extract-date stock
    return facts.sort(cover.restrict(combined))


# ---------------------------------------------------------------------------------------------
# Reconciliation with a CIN Census return


def reconcile(cin: CinData, annex: CinData, day: object = None) -> pd.DataFrame:
    """Plans open on the CIN Census date by both sources, and the differences.

    Children are matched by their hashed ID: both must have been read with the same
    LA code and secret (as :func:`cpstats.io.annex_a.read_annex_a` and
    :func:`cpstats.io.cin_census.read_returns` do by default).

    Parameters
    ----------
    cin
        CIN Census records.
    annex
        An Annex A read whose window covers ``day``.
    day
        The snapshot day (default: the CIN Census reference date, 31 March).

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``measure``, ``breakdown``, ``period``, ``cin_census``,
        ``annex_a``, ``difference`` (Annex A minus CIN Census). Rows: children on a
        plan by each source and by initial category; children on a plan in both, in the
        CIN Census only, in Annex A only, and in both with a different plan start date;
        plans started in each whole quarter both cover.

    Raises
    ------
    ParameterError
        When the LAs differ, or the Annex A window does not cover ``day``.
    """
    if cin.la_code != annex.la_code:
        raise ParameterError("la_code", f"{cin.la_code} / {annex.la_code}",
                             "the same LA code for the CIN Census and the Annex A (the child "
                             "IDs are hashed with it)")
    when = pd.Timestamp(day if day is not None else cin.reference_date)
    cover = coverage_of(annex)
    cover.require("cp_plans_at_date", when.date())
    if when > pd.Timestamp(cin.reference_date):
        raise ParameterError("day", when.date(), f"a day on or before the CIN Census reference "
                                                 f"date {cin.reference_date}")
    label = when.strftime("%Y-%m-%d")
    ours, theirs = measures.plans_open_at(cin, when), measures.plans_open_at(annex, when)
    rows = [("cp_plans_at_date", facts.TOTAL, label, len(ours), len(theirs))]
    cin_cat = ours["initial_category"].value_counts()
    aa_cat = theirs["initial_category"].value_counts()
    for code in sorted(set(cin_cat.index) | set(aa_cat.index)):
        rows.append(("cp_by_category", f"category={code}", label, int(cin_cat.get(code, 0)),
                     int(aa_cat.get(code, 0))))
    both = ours.merge(theirs, on="child_id", suffixes=("_cin", "_aa"))
    only_cin = int((~measures.isin(ours["child_id"], theirs["child_id"])).sum())
    only_aa = int((~measures.isin(theirs["child_id"], ours["child_id"])).sum())
    moved = int((both["start_date_cin"] != both["start_date_aa"]).sum())
    rows += [("children_on_plan_in_both", facts.TOTAL, label, len(both), len(both)),
             ("children_on_plan_not_in_other_source", facts.TOTAL, label, only_cin, only_aa),
             ("children_in_both_with_other_plan_start", facts.TOTAL, label, moved, moved)]
    for q in cover.quarters():
        if q.end <= pd.Timestamp(cin.reference_date):
            started = [int(measures.in_period(d.cp_plans["start_date"], q).sum())
                       for d in (cin, annex)]
            rows.append(("cp_plans_started", facts.TOTAL, q.label, *started))
    table = pd.DataFrame(rows, columns=["measure", "breakdown", "period", "cin_census",
                                        "annex_a"])
    return table.assign(difference=table["annex_a"] - table["cin_census"])


# ---------------------------------------------------------------------------------------------
# CIN Census history brought up to the extract date


#: Table -> (key of one record, which source's values win where both have one).
_SPLICE = {"children": (["child_id"], "cin"), "referrals": (["child_id", "referral_date"], "cin"),
           "assessments": (["child_id", "start_date"], "cin"),
           "s47s": (["child_id", "s47_start_date"], "cin"),
           "cp_plans": (["child_id", "start_date"], "annex"),
           "reviews": (["child_id", "plan_id", "review_date"], "cin"),
           "cin_plans": (["child_id", "start_date"], "cin")}


def splice(cin: CinData, annex: CinData) -> CinData:
    """CIN Census records brought up to an Annex A's extract date.

    Each record (a child, referral, s47, plan...) is one row, keyed as the CIN Census
    reader keys it. Where both sources hold it, the Annex A's values win for plans (its
    end date and latest category are newer) and the CIN Census's elsewhere (it is fuller);
    a value missing in the winner is taken from the other (an ICPC held after 31 March).
    Reviews come from the CIN Census only (Annex A lists only the latest).

    Parameters
    ----------
    cin
        CIN Census records (reference date 31 March).
    annex
        An Annex A read with the same LA code and secret, extracted after the CIN Census
        date, whose window starts no later than the day after it (no gap in the plans).

    Returns
    -------
    CinData
        Reference date: the extract date; ``source``: the Annex A's. Plans open on any
        day up to the extract date, and flows in any period up to it, are complete (ICPCs
        of s47s that began before the window and were held after the CIN Census date
        are missed: see ``docs/definitions.md``).

    Raises
    ------
    ParameterError
        When the LAs differ, the Annex A is not later, or its window leaves a gap.
    """
    ref, cover = pd.Timestamp(cin.reference_date), coverage_of(annex)
    if cin.la_code != annex.la_code:
        raise ParameterError("la_code", f"{cin.la_code} / {annex.la_code}",
                             "the same LA code for the CIN Census and the Annex A")
    if not ref < cover.extract_date or cover.window_start > ref + pd.Timedelta(days=1):
        raise ParameterError(
            "annex_a", f"window {cover.window_start.date()} to {cover.extract_date.date()}",
            f"an Annex A extracted after the CIN Census date {ref.date()} whose window starts "
            f"on or before {(ref + pd.Timedelta(days=1)).date()} (plans ending in a gap "
            "would be counted as still open)")
    tables = {}
    for name, (key, first) in _SPLICE.items():
        parts = [cin.table(name), annex.table(name)]
        if first == "annex":
            parts.reverse()
        both = pd.concat([p.assign(_order=i) for i, p in enumerate(parts)], ignore_index=True)
        both = both.sort_values("_order", kind="stable")
        merged = both.groupby(key, sort=False, dropna=False).first().reset_index()
        tables[name] = childlevel.conform_table(name, merged)
    return CinData(la_code=cin.la_code, reference_date=cover.extract_date.date(),
                   source=annex.source, **tables)


def last_whole_quarter(day: object) -> pd.Period:
    """The last financial quarter ending on or before ``day`` (a ``Q-MAR`` Period)."""
    day = pd.Timestamp(day)
    year, quarter = periods.quarter_of(day)
    current = pd.Period(f"{year}Q{quarter}", freq="Q-MAR")
    end = pd.Timestamp(periods.quarter_bounds(year, quarter)[1])
    return current if day >= end else current - 1
