"""Trends: children on child protection plans over time, the flows in and out, conferences,
repeat plans, durations, reviews, ICPC timeliness, chair caseloads and conference quality.

Each section function turns a run's :class:`~cpstats.themes.ThemeData` into a
:class:`~cpstats.themes.Section`: the figures its sentences state (recorded from the fact rows
they come from), its tables (disclosure-controlled) and the frames its charts draw. Notebook
``01_trends`` renders them in :data:`SECTIONS` order; ``cpstats headline`` prints their findings.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from cpstats import codes, disclosure, plots, registry, school_holidays
from cpstats.defaults import ENGLAND_CODE
from cpstats.facts import TOTAL, select
from cpstats.periods import is_month, is_quarter, period_year
from cpstats.rates import rates_from_counts
from cpstats.themes import benchmarking
from cpstats.themes.base import (
    NEIGHBOURS_MEAN,
    SOURCE_NAMES,
    Chart,
    Section,
    ThemeData,
    ThemeResult,
    run_sections,
    text,
)

THEME = "01_trends"
#: Months with at least this share of weekdays in school holidays count as holiday months.
HOLIDAY_MONTH_SHARE = 0.25
#: How to give service settings, said wherever they are missing.
SERVICE_HINT = ("give them with `--service FILE`, a CSV of `setting,value` rows: `chair_fte` "
                "(full-time-equivalent chairs in post) and `caseload_target` (children per chair)")
_NO_RETURN = "no CIN Census return given: pass --cin-census"
_STAGES = {TOTAL: "Whole conference"}


# -- rules ---------------------------------------------------------------------------------------
def change_pct(now: float, before: float) -> float:
    """Percentage change from ``before`` to ``now``; NaN when either is missing or ``before`` is 0.

    Parameters
    ----------
    now, before
        The two values (e.g. DfE's counts at 31 March this year and last).

    Returns
    -------
    float

    Examples
    --------
    >>> round(change_pct(553, 454), 1)
    21.8
    """
    if pd.isna(now) or pd.isna(before) or before == 0:
        return math.nan
    return (now / before - 1) * 100


def printed_decimals(fact: pd.DataFrame) -> dict[str, int]:
    """Formatting for a transcribed report figure: a whole number is shown whole, as printed
    (``96%``, not ``96.0%``); published DfE figures keep the registry's precision."""
    row = fact.iloc[0]
    value = row["value"]
    whole = row["source"] == "report" and pd.notna(value) and float(value).is_integer()
    return {"decimals": 0} if whole else {}


def first_fact(data: ThemeData, measure: str, sources: tuple[str, ...],
               code: str | None = None) -> pd.DataFrame:
    """The fact from the first source (in order) that has one: a figure DfE published wins over
    the same figure derived from its counts.

    Parameters
    ----------
    data
        The run's data.
    measure
        The measure wanted.
    sources
        Sources in order of preference, e.g. ``("dfe", "derived")``.
    code
        Geography code (default: the run's LA).

    Returns
    -------
    pandas.DataFrame
        The fact row(s) of the first source with any; empty when none has it.
    """
    for source in sources:
        rows = data.fact(measure, source, code)
        if len(rows):
            return rows
    return data.fact(measure, sources[0], code)


def two_year_share(data: ThemeData, code: str) -> tuple[pd.DataFrame, float | None, str]:
    """DfE's share of children on a plan at 31 March who had been on it two years or more.

    Returns
    -------
    (fact, value, note)
        ``fact`` is DfE's published percentage (table d5) when the release has it, or its
        count of the band when DfE suppressed it (``c``); then ``value`` is ``None``. Otherwise
        ``fact`` is empty and ``value`` is derived from DfE's counts (NaN when they are absent).
    """
    band = "duration=2_years_or_more"
    published = data.fact("cp_by_duration_pct", "dfe", code, breakdown=band)
    if len(published):
        return published, None, ""
    count = data.fact("cp_by_duration", "dfe", code, breakdown=band)
    if len(count) and count["marker"].fillna("").iloc[0] == disclosure.SUPPRESSED:
        return count, None, ""
    total = data.value("cp_plans_at_31_march", "dfe", code)
    value = count["value"].iloc[0] / total * 100 if len(count) and total else math.nan
    return count.iloc[0:0], value, "DfE table d5: 2 years or more over children on plans (d1)"


def monthly(data: ThemeData, measure: str) -> pd.Series:
    """A child-level measure per month of the run's year.

    Parameters
    ----------
    data
        The run's data (its child-level facts; exact counts: publish through a table).
    measure
        E.g. ``"icpcs"`` or ``"review_conferences"``.

    Returns
    -------
    pandas.Series
        ``YYYY-MM`` -> count; empty without child-level records.
    """
    facts = data.child_facts
    rows = facts[(facts["measure"] == measure) & (facts["breakdown"] == TOTAL)
                 & is_month(facts["period"]) & (period_year(facts["period"]) == data.year)]
    return rows.set_index("period")["value"].rename(measure)


def holiday_effect(total: pd.Series) -> dict[str, float]:
    """Mean conferences per month in school-holiday months (a quarter or more of their weekdays
    in holidays) and in other months, and how many fewer holiday months held.

    Parameters
    ----------
    total
        Conferences per month, indexed ``YYYY-MM``.

    Returns
    -------
    dict
        ``holiday`` and ``term`` (means per month) and ``fewer_pct`` (percent fewer in holiday
        months; NaN when no other month held any).
    """
    months = pd.to_datetime(total.index + "-01")
    share = school_holidays.weekday_share_by_month(months.min(),
                                                   months.max() + pd.offsets.MonthEnd(0))
    holiday = total.index.isin(share[share >= HOLIDAY_MONTH_SHARE].index)
    in_holiday, in_term = total[holiday].mean(), total[~holiday].mean()
    fewer = (1 - in_holiday / in_term) * 100 if in_term else math.nan
    return {"holiday": in_holiday, "term": in_term, "fewer_pct": fewer}


def quarters(data: ThemeData) -> pd.DataFrame:
    """Repeat plans and all plans started per financial quarter, from child-level records.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    pandas.DataFrame
        Exact counts indexed by quarter (``2016-17 Q1``): publish through a table.
    """
    facts = data.child_facts
    rows = facts[facts["measure"].isin(["cp_plans_second_or_subsequent", "cp_plans_started"])
                 & is_quarter(facts["period"]) & (facts["breakdown"] == TOTAL)]
    table = rows.pivot(index="period", columns="measure", values="value")
    table = table.reindex(columns=["cp_plans_second_or_subsequent", "cp_plans_started"])
    return (table.set_axis(["Repeat plans started", "All plans started"], axis=1)
            .rename_axis(index="Quarter", columns=None).fillna(0))


def _month_name(period: str) -> str:
    return f"{pd.Timestamp(period + '-01'):%B %Y}"


def _by_month(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ``YYYY-MM`` relabelled ``April 2016`` for readers."""
    return frame.set_axis([_month_name(p) for p in frame.index], axis=0).rename_axis("Month")


def _say_records(section: Section, rows: pd.DataFrame) -> list[str]:
    # A handful of transcribed figures at most: each becomes a finding.
    return [section.record_fact(rows.loc[[i]], **printed_decimals(rows.loc[[i]]))
            for i in rows.index]


# -- sections ------------------------------------------------------------------------------------
def stock(data: ThemeData) -> Section:
    """Children on plans at 31 March: DfE's count and change, the report's own, England's.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "stock", "Children on plans at 31 March", data)
    dfe = data.fact("cp_plans_at_31_march", "dfe")
    dfe_n = section.stated(dfe)
    dfe_change = _change(section, data, data.la_code)
    england_n = section.stated(data.fact("cp_plans_at_31_march", "dfe", ENGLAND_CODE))
    england = f"England had {england_n} children on plans ({_change(section, data, ENGLAND_CODE)})."
    report = data.fact("cp_plans_at_31_march", "report")
    if len(report):
        section.say(_report_stock(section, data, report, dfe, dfe_n, dfe_change) + " " + england)
        return section
    section.leave_out("the council's own report figures (only the default LA's report is "
                      "transcribed)")
    if dfe.empty or pd.isna(dfe["value"].iloc[0]):
        marker = dfe["marker"].fillna("x").iloc[0] if len(dfe) else "missing"
        section.say(f"DfE published no count of children on plans in {data.la_name} at 31 March "
                    f"{data.year} (shown as {marker}: c is a count of 1 to 5 suppressed, x not "
                    f"available). {england}")
    else:
        section.say(f"On 31 March {data.year} **{dfe_n}** children in {data.la_name} were subject "
                    f"to a child protection plan (DfE), {dfe_change} on a year earlier. {england}")
    return section


def _change(section: Section, data: ThemeData, code: str) -> str:
    now = data.value("cp_plans_at_31_march", "dfe", code)
    before = data.value("cp_plans_at_31_march", "dfe", code, data.previous)
    return section.derive("cp_change_pct", change_pct(now, before), inputs=["dfe"],
                          geography_code=code, signed=True,
                          note=f"DfE counts at 31 March, {data.previous} to {data.period}")


def _report_stock(section: Section, data: ThemeData, report: pd.DataFrame, dfe: pd.DataFrame,
                  dfe_n: str | None, dfe_change: str) -> str:
    rep_n = section.record_fact(report)
    now = section.stated(data.fact("cp_change_pct", "report"), signed=True, decimals=0)
    before = section.stated(data.fact("cp_change_pct", "report", period=data.previous),
                            signed=True, decimals=0)
    dfe_value = dfe["value"].iloc[0] if len(dfe) else math.nan
    gap = text(report["value"].iloc[0] - dfe_value, "cp_change", signed=True)
    changes = (f": {now} on a year earlier" if now else "") + (
        f", after {before} the year before" if before else "")
    return (f"On 31 March {data.year} **{rep_n}** children in {data.la_name} were subject to a "
            f"child protection plan, as the council's report counted them{changes}. DfE's figure "
            f"for the same date, published later from the CIN Census return, is **{dfe_n}** "
            f"({dfe_change} on its own figure a year earlier). The two are counted from "
            f"different extracts of the council's records ({gap} in the report); which records "
            f"make up the gap cannot be told from the published figures.")


def rates(data: ThemeData) -> Section:
    """Rates per 10,000 children: DfE's for the LA, region, England and neighbours, the report's
    own, and DfE's count over the ONS row the pairing rule picks; the series as table and chart.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "rates", "Rates per 10,000 children", data)
    region_code, region_name = data.region
    la, england, region = (section.stated(data.fact("cp_rate_per_10k", "dfe", code))
                           for code in (data.la_code, ENGLAND_CODE, region_code))
    rate = data.series("cp_rate_per_10k")
    neighbours = rate[NEIGHBOURS_MEAN].get(data.period) if NEIGHBOURS_MEAN in rate else math.nan
    words = (f"Per 10,000 children aged 0-17, DfE published **{la}** for {data.la_name} in "
             f"{data.period}, against {england} for England, {region} for {region_name} and "
             f"{text(neighbours, 'cp_rate_per_10k')} on average for its statistical neighbours "
             f"(rates on the population estimates DfE used for that release).")
    section.say(words + _report_rate(section, data) + _ons_rate(section, data))
    count = data.series("cp_plans_at_31_march").round(0)
    table = pd.concat({"Children on a plan at 31 March": count,
                       "Rate per 10,000": rate.round(registry.decimals("cp_rate_per_10k"))},
                      axis=1)
    section.table("cp_at_31_march", table.rename_axis("Year ending 31 March"))
    if data.la_name in rate and rate[data.la_name].notna().any():
        section.chart("cp_rate_per_10k", rate, plots.draw_lines, title=_rate_title(data, rate),
                      source="DfE Characteristics of children in need (table d1), rates on DfE's "
                             "population estimates for each release; neighbours: DfE statistical "
                             "neighbour model (2021)",
                      xlabel="Year ending 31 March",
                      ylabel="Children on a plan per 10,000 aged 0-17", highlight=data.la_name)
    return section


def _report_rate(section: Section, data: ThemeData) -> str:
    report = data.fact("cp_rate_per_10k", "report")
    if report.empty:
        return ""
    words = f" The report gave **{section.record_fact(report)}**"
    population = section.stated(data.fact("population_0_17", "report", period=data.previous))
    if population:
        words += (f", dividing its own count by {population} children (the ONS mid-"
                  f"{data.year - 2} estimate, a year older than the one DfE pairs with "
                  f"{data.period})")
    england = section.stated(data.fact("cp_rate_per_10k", "report", ENGLAND_CODE, data.previous))
    if england:
        words += (f", and compared it with England's {england} for {data.previous}, the latest "
                  f"national figure then published")
    return words + "."


def _ons_rate(section: Section, data: ThemeData) -> str:
    if data.population.empty:
        section.leave_out("rates on ONS population estimates (no population figures given)")
        return ""
    counts = select(data.facts, measure="cp_plans_at_31_march", source="dfe",
                    geography_code=data.la_code, period=data.period)
    own = rates_from_counts(counts, data.population)
    population = select(data.population, geography_code=data.la_code, period=data.period)
    if own.empty or own["value"].isna().any() or population.empty:
        return ""
    rate = section.record_fact(own)
    children = section.record_fact(population)
    return (f" Divided by the ONS estimate that DfE pairs with {data.period} ({children} "
            f"children aged 0-17, the mid-{data.year - 1} estimate of a later vintage), DfE's "
            f"count gives {rate} per 10,000: rates depend on the population vintage, so each "
            f"names its own.")


def _rate_title(data: ThemeData, rate: pd.DataFrame) -> str:
    def span(column: str) -> tuple[str, str]:
        values = rate[column].dropna() if column in rate else pd.Series(dtype=float)
        ends = (values.iloc[0], values.iloc[-1]) if len(values) else (math.nan, math.nan)
        return text(ends[0], "cp_rate_per_10k"), text(ends[1], "cp_rate_per_10k")

    (la_from, la_to), (en_from, en_to) = span(data.la_name), span("England")
    return (f"{data.la_name}'s rate went from {la_from} to {la_to} per 10,000 between "
            f"{rate.index[0]} and {rate.index[-1]}; England's from {en_from} to {en_to}")


def flows(data: ThemeData) -> Section:
    """Plans started and ended in the year (DfE counts plans, not children).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "flows", "Plans starting and ending", data)
    series = {label: data.series(measure, neighbours=False).get(data.la_name)
              for label, measure in (("Plans started", "cp_plans_started"),
                                     ("Plans ended", "cp_plans_ended"))}
    frame = pd.DataFrame({k: v for k, v in series.items() if v is not None}).dropna(how="all")
    if frame.empty:
        section.leave_out("plans started and ended (not in the published data given)")
        return section
    started = section.stated(data.fact("cp_plans_started", "dfe"))
    ended = section.stated(data.fact("cp_plans_ended", "dfe"))
    net = text(data.value("cp_plans_started", "dfe") - data.value("cp_plans_ended", "dfe"),
               "cp_plans_started", signed=True)
    section.say(f"In {data.period} {started} plans started and {ended} ended in {data.la_name} "
                f"({net} net), according to DfE.")
    section.table("cp_starts_ends", frame.round(0).rename_axis("Year ending 31 March"))
    section.chart("cp_starts_ends", frame, plots.draw_lines,
                  title=f"{started} plans started and {ended} ended in {data.period}",
                  source="DfE Characteristics of children in need (table d1)",
                  xlabel="Year ending 31 March", ylabel="Plans (count)", ylim_zero=True)
    return section


def conferences_by_month(data: ThemeData) -> Section:
    """Initial and review conferences per month from child-level records, against school
    holidays (the report books conferences in term time where it can).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "conferences_by_month", "Conferences per month", data)
    if data.child_level is None:
        section.leave_out(f"conferences per month ({_NO_RETURN})")
        return section
    counts = pd.DataFrame({"Initial conferences": monthly(data, "icpcs"),
                           "Review conferences": monthly(data, "review_conferences")}).fillna(0)
    source = SOURCE_NAMES[str(data.child_source)]
    if counts.to_numpy().sum() == 0:
        section.leave_out(f"conferences per month ({source} holds no conferences in "
                          f"{data.period})")
        return section
    total = counts.sum(axis=1)
    effect = holiday_effect(total)
    hidden = data.hidden_by_month({"Initial conferences": "icpcs",
                                   "Review conferences": "review_conferences"}, counts.index)
    shown = section.table("conferences_by_month",
                          pd.concat([_by_month(counts), counts.sum().to_frame("Total").T])
                          .rename_axis("Month"),
                          child_level=True, total_row="Total", hidden=_by_month(hidden)).frame
    plotted = disclosure.visible(shown.iloc[:-1]).set_axis(counts.index)  # never a hidden count
    busiest = plotted.sum(axis=1).idxmax()
    section.say(
        f"In {data.period} {source} held {text(total.sum(), 'icpcs')} conferences; months with "
        f"a quarter or more of their weekdays in school holidays averaged "
        f"{text(effect['holiday'], 'icpcs')} against {text(effect['term'], 'icpcs')} in other "
        f"months. The busiest month was {_month_name(busiest)} "
        f"({text(plotted.loc[busiest].sum(), 'icpcs')}).")
    fewer = text(effect["fewer_pct"], "cp_conferences_change_pct", decimals=0)
    section.chart("conferences_by_month", plotted, draw_conferences,
                  title=f"Months with a quarter or more of school holiday averaged {fewer} "
                        f"fewer conferences",
                  source=f"{source}; {school_holidays.APPROXIMATE_NOTE}", child_level=True)
    return section


def repeat_plans(data: ThemeData) -> Section:
    """Second or subsequent plans: DfE's share, repeat plans per quarter from child-level
    records, and the values the report printed.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "repeat_plans", "Repeat plans", data)
    la = section.stated(data.fact("cp_second_or_subsequent_pct", "dfe"))
    england = section.stated(data.fact("cp_second_or_subsequent_pct", "dfe", ENGLAND_CODE))
    section.say(f"In {data.period}, {la} of plans starting in {data.la_name} were a second or "
                f"subsequent plan, against {england} in England (DfE).")
    by_quarter = quarters(data) if data.child_level is not None else pd.DataFrame()
    if by_quarter.empty:
        section.leave_out(f"repeat plans by quarter ({_NO_RETURN})" if data.child_level is None
                          else "repeat plans by quarter (no plans in the child-level records)")
    else:
        hidden = data.hidden_by_month({"Repeat plans started": "cp_plans_second_or_subsequent",
                                       "All plans started": "cp_plans_started"}, by_quarter.index)
        shown = section.table("repeat_plans_by_quarter", by_quarter, child_level=True,
                              hidden=hidden).frame
        repeats = disclosure.visible(shown)[["Repeat plans started"]]
        section.chart("repeat_plans_by_quarter", repeats, draw_quarters,
                      title=f"Repeat plans started per quarter, {by_quarter.index[0]} to "
                            f"{by_quarter.index[-1]}",
                      source=f"{SOURCE_NAMES[str(data.child_source)]}; counts of 1 to 5 are "
                             f"suppressed in the table", child_level=True)
    printed = select(data.facts, measure="cp_repeat_plan_children", geography_code=data.la_code,
                     source="report")
    if len(printed):
        values = ", ".join(_say_records(section, printed))
        section.say(f"The report's chart of children on repeat plans per quarter ({data.previous} "
                    f"and {data.period}) prints {values}, in an order the transcription could not "
                    f"fix.")
    return section


def durations(data: ThemeData) -> Section:
    """How long children on a plan at 31 March had been on it: DfE's bands, the two-year share
    (a national indicator), and the report's own finer bands.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "durations", "How long children have been on a plan", data)
    la, england = _two_years(section, data, data.la_code), _two_years(section, data, ENGLAND_CODE)
    words = (f"At 31 March {data.year}, {la} of {data.la_name}'s children on a plan had been on it "
             f"for two years or more, against {england} in England (DfE).")
    report = data.fact("cp_plans_2_years_or_more_pct", "report")
    if len(report):
        said = section.record_fact(report, **printed_decimals(report))
        words += f" The report gives {said} \"throughout\" the year."
    section.say(words)
    _dfe_durations(section, data)
    _report_durations(section, data)
    return section


def _two_years(section: Section, data: ThemeData, code: str) -> str:
    fact, value, note = two_year_share(data, code)
    if len(fact):
        suppressed = fact["marker"].fillna("").iloc[0] == disclosure.SUPPRESSED
        why = {"note": f"{fact['note'].fillna('').iloc[0]}; no figure or interval: DfE "
                       f"suppressed the count (c: 1 to 5 children)"} if suppressed else {}
        said = section.record_fact(fact, measure="cp_plans_2_years_or_more_pct", unit="percent",
                                   breakdown=TOTAL, **why)
        return "a suppressed share (DfE shows c: 1 to 5 children)" if suppressed else said
    return section.derive("cp_plans_2_years_or_more_pct", value, inputs=["dfe"],
                          geography_code=code, note=note)


def _dfe_durations(section: Section, data: ThemeData) -> None:
    rows = select(data.facts, measure="cp_by_duration", source="dfe", period=data.period,
                  geography_code=[data.la_code, ENGLAND_CODE])
    if rows.empty:
        section.leave_out("DfE's duration bands (table d5 not in the published data given)")
        return
    _say_records(section, rows[rows["geography_code"] == data.la_code])
    cells = rows.assign(cell=rows["value"].map("{:,.0f}".format).where(rows["value"].notna(),
                                                                        rows["marker"].fillna("")))
    table = cells.pivot(index="breakdown", columns="geography_code", values="cell")
    bands = dict(codes.DURATION_BANDS)
    table = (table.reindex(index=[f"duration={k}" for k in bands],
                           columns=[c for c in (data.la_code, ENGLAND_CODE) if c in table])
             .dropna(how="all").fillna(""))
    table = table.set_axis([bands[b.removeprefix("duration=")] for b in table.index], axis=0)
    names = {data.la_code: data.la_name, ENGLAND_CODE: "England"}
    section.table("cp_by_duration_dfe", table.rename(columns=names).rename_axis(
        index="Time on the plan", columns=None))


def _report_durations(section: Section, data: ThemeData) -> None:
    rows = select(data.facts, measure="cp_by_duration_report", source="report",
                  geography_code=data.la_code, period=data.period)
    if rows.empty:
        return
    _say_records(section, rows)
    counts = pd.Series(rows["value"].to_numpy(), name="Children on a plan at 31 March",
                       index=pd.Index(rows["breakdown"].str.removeprefix("duration=")
                                      .str.replace("_", " "), name="Time on the plan"))
    section.table("cp_by_duration_report", counts.to_frame())
    section.chart("cp_by_duration_report", counts.to_frame(), draw_durations,
                  title=f"Most children had been on their plan {counts.idxmax()} (report's bands)",
                  source=f"{data.la_name} Child Protection Conferencing Service annual report "
                         f"{data.period}, as transcribed")


def reviews(data: ThemeData) -> Section:
    """Reviews in timescale: DfE's measure (children) beside the report's (conferences), and
    review conferences in timescale by month from child-level records.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "reviews", "Reviews in timescale: two measures", data)
    dfe = section.stated(data.fact("cp_reviews_in_timescale_pct", "dfe"))
    england = section.stated(data.fact("cp_reviews_in_timescale_pct", "dfe", ENGLAND_CODE))
    words = (f"DfE's measure: **{dfe}** of {data.la_name}'s children on a plan for three months "
             f"or more at 31 March {data.year} had every review on time (England {england}).")
    rows = [["DfE: children on a plan at 31 March for 3+ months with every review on time", dfe,
             "children", SOURCE_NAMES["dfe"]]]
    report = data.fact("review_conferences_in_timescale_pct", "report")
    if len(report):
        said = section.record_fact(report, **printed_decimals(report))
        then = section.stated(data.fact("cp_reviews_in_timescale_pct", "report", ENGLAND_CODE,
                                        data.previous)) or "not stated"
        words += (f" The report's measure: **{said}** of review conferences in the year were held "
                  f"in timescale, which it compared with England's {then} for {data.previous} (a "
                  f"DfE figure of the other kind). Side by side, the gap is the difference between "
                  f"counting conferences and counting children whose whole review history was on "
                  f"time.")
        rows.append(["Report: review conferences in the year held within timescale", said,
                     "conferences", SOURCE_NAMES["report"]])
    section.say(words)
    section.table("reviews_two_measures", pd.DataFrame(
        rows, columns=["Measure", data.period, "Counts", "Source"]))
    _reviews_by_month(section, data)
    return section


def _reviews_by_month(section: Section, data: ThemeData) -> None:
    if data.child_level is None:
        section.leave_out(f"reviews by month ({_NO_RETURN})")
        return
    counts = pd.DataFrame({"Review conferences": monthly(data, "review_conferences"),
                           "Held in timescale": monthly(data, "review_conferences_in_timescale")}
                          ).fillna(0)
    if counts["Review conferences"].sum() == 0:
        section.leave_out(f"reviews by month (no review conferences in {data.period})")
        return
    hidden = data.hidden_by_month({"Review conferences": "review_conferences",
                                   "Held in timescale": "review_conferences_in_timescale"},
                                  counts.index)
    shown = section.table("reviews_by_month", _by_month(counts), child_level=True,
                          hidden=_by_month(hidden)).frame
    visible = disclosure.visible(shown).set_axis(counts.index)
    pct = (visible["Held in timescale"] / visible["Review conferences"] * 100).rename(
        "In timescale (%)")
    if pct.isna().all():
        section.leave_out("the chart of reviews in timescale by month (in every month a count "
                          "is 1 to 5 and shown as c, so no month's share can be shown)")
        return
    worst = pct.idxmin()
    section.chart("reviews_by_month", pct.to_frame(), draw_review_months,
                  title=f"Review conferences in timescale by month: lowest in "
                        f"{_month_name(worst)} "
                        f"({text(pct[worst], 'review_conferences_in_timescale_pct')})",
                  source=SOURCE_NAMES[str(data.child_source)], child_level=True)


def initial_conferences(data: ThemeData) -> Section:
    """ICPCs: how many, how soon after the s47 start, the rate, and the share that led to a plan
    (a proxy from published counts), with the child-level figures beside them.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "initial_conferences", "Initial conferences", data)
    sources = ("dfe", "derived")  # DfE's own percentage when published, else from its bands
    timely = section.stated(first_fact(data, "icpc_within_15_working_days_pct", sources))
    timely_england = section.stated(first_fact(data, "icpc_within_15_working_days_pct", sources,
                                               ENGLAND_CODE))
    held = section.stated(data.fact("icpcs", "dfe"))
    words = (f"{data.la_name} held {held} initial conferences in {data.period}; {timely} were "
             f"within 15 working days of the section 47 start (England {timely_england}).")
    words += _icpc_rate(section, data) + _icpc_to_plan(section, data)
    report = data.fact("icpc_children_rate_change_pct", "report")
    if len(report):
        said = section.record_fact(report, signed=True, **printed_decimals(report))
        words += (f" The report put the rise in its rate of children considered at an ICPC at "
                  f"{said} on the year.")
    section.say(words)
    _child_level_icpcs(section, data)
    return section


def _icpc_rate(section: Section, data: ThemeData) -> str:
    for measure, what in (("children_icpc_rate_per_10k", "children considered at an ICPC"),
                          ("icpcs_rate_per_10k", "ICPCs")):
        la = data.fact(measure, "dfe")
        if len(la) and pd.notna(la["value"].iloc[0]):
            england = section.stated(data.fact(measure, "dfe", ENGLAND_CODE))
            return (f" DfE's rate of {what} was {section.record_fact(la)} per 10,000 children "
                    f"(England {england}).")
    return ""


def _icpc_to_plan(section: Section, data: ThemeData) -> str:
    started, held = data.value("cp_plans_started", "dfe"), data.value("icpcs", "dfe")
    if pd.isna(started) or pd.isna(held) or not held:
        return ""
    share = started / held * 100
    said = section.derive("icpc_to_cp_plan_pct", share, inputs=["dfe"],
                          note="DfE plans started (d1) over ICPCs (c4); a proxy: plans also "
                               "start at transfer-in conferences")
    return (f" Plans started were {said} of ICPCs held: a ratio of published counts, not the "
            f"share of conferences that led to a plan (plans also start at transfer-in "
            f"conferences, a conference late in one year may start a plan in the next, and "
            f"plans are counted per plan, conferences per conference).")


def _child_level_icpcs(section: Section, data: ThemeData) -> None:
    source = data.child_source
    if source is None:
        section.leave_out(f"child-level ICPC figures ({_NO_RETURN})")
        return
    timely = data.fact("icpc_within_15_working_days_pct", source)
    to_plan = data.fact("icpc_to_cp_plan_pct", source)
    per_icpc = data.fact("icpcs_leading_to_plan_pct", source)
    if len(timely) != 1 or len(to_plan) != 1 or pd.isna(timely["value"].iloc[0]):
        return
    led = (f"; counted per conference, a plan started at {section.record_fact(per_icpc)} of "
           f"them" if len(per_icpc) == 1 and pd.notna(per_icpc["value"].iloc[0]) else "")
    section.say(f"From the child-level records of {SOURCE_NAMES[source]}: "
                f"{section.record_fact(timely)} of ICPCs in {data.period} were within 15 working "
                f"days, and plans started came to {section.record_fact(to_plan)} of ICPCs held"
                f"{led}.")


def chair_caseloads(data: ThemeData) -> Section:
    """Children on a plan per full-time-equivalent conference chair against the target, from
    the service settings (``--service`` or the seed report); absent without them.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "chair_caseloads", "Conference chairs: caseload", data)
    chairs = select(data.service, measure="conference_chairs_fte", breakdown=TOTAL)
    if chairs.empty:
        section.say(f"No service settings were given for {data.la_name}, so chair caseloads are "
                    f"not shown: {SERVICE_HINT}.")
        section.leave_out("conference chair caseloads (no service settings given)")
        return section
    fte = float(chairs["value"].iloc[0])
    chairs_said = section.record_fact(chairs.iloc[[0]])
    target = section.stated(select(data.service, measure="children_per_chair_fte_target",
                                   breakdown=TOTAL).iloc[:1]) or "not stated"
    settings = str(chairs["source"].iloc[0])
    dfe = section.derive("children_per_chair_fte", data.value("cp_plans_at_31_march", "dfe") / fte,
                         inputs=["dfe", settings],
                         note=f"DfE count at 31 March over {text(fte, 'conference_chairs_fte')} "
                              f"FTE chairs ({SOURCE_NAMES.get(settings, settings)})")
    report = _report_per_chair(data)
    if report.empty:
        section.say(f"With {chairs_said} full-time-equivalent chairs, DfE's count gives **{dfe}** "
                    f"children per chair against a target of {target}.")
    else:
        said = section.record_fact(report, **printed_decimals(report))
        section.say(f"With {chairs_said} full-time-equivalent chairs, the report's count gives "
                    f"**{said}** children per chair against a target of {target}; DfE's count "
                    f"gives {dfe}.")
    return section


def _report_per_chair(data: ThemeData) -> pd.DataFrame:
    # The report states its caseload at a date (31 March), not for the year: match by year.
    rows = select(data.facts, measure="children_per_chair_fte", source="report",
                  geography_code=data.la_code, breakdown=TOTAL)
    return rows[period_year(rows["period"]) == data.year].iloc[:1]


def conference_quality(data: ThemeData) -> Section:
    """The report's audit of conferences (attendance, reports, length), as transcribed.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "conference_quality", "Conference quality", data)
    facts = select(data.facts, source="report", geography_code=data.la_code)
    quality = facts[facts["measure"].str.startswith("conference")
                    & ~facts["measure"].str.startswith("conference_chairs")]
    quality = quality[period_year(quality["period"]) == data.year]
    if quality.empty:
        section.leave_out("conference quality figures (only in the default LA's report)")
        return section
    _say_records(section, quality[quality["breakdown"] == TOTAL])
    stage = quality["breakdown"].map(
        lambda b: _STAGES.get(b, b.split("=")[-1].replace("_", " ").capitalize()))
    value = [text(v, m, decimals=0) for v, m in zip(quality["value"], quality["measure"],
                                                    strict=True)]
    section.table("conference_quality", pd.DataFrame({
        "Audited": quality["period"].map(_month_name).to_numpy(),
        "Measure": quality["measure"].map(registry.label).to_numpy(),
        "Part": stage.to_numpy(), "Value": value}))
    return section


SECTIONS = (stock, rates, flows, conferences_by_month, repeat_plans, durations, reviews,
            initial_conferences, chair_caseloads, conference_quality, *benchmarking.SECTIONS)


def compute(data: ThemeData, **options: object) -> ThemeResult:
    """Every section of the trends theme for one run.

    Parameters
    ----------
    data
        The run's data.
    **options
        Passed to the sections that accept them (none do yet).

    Returns
    -------
    ThemeResult
    """
    return run_sections(THEME, data, SECTIONS, **options)


# -- charts: (frame, chart) -> finished figure ---------------------------------------------------
def draw_conferences(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Stacked monthly bars of initial and review conferences over shaded school holidays."""
    months = pd.to_datetime(frame.index + "-01")
    fig, ax = plots.new_figure()
    plots.shade_spans(ax, school_holidays.between(months.min(),
                                                  months.max() + pd.offsets.MonthEnd(0)),
                      label="School holidays (approximate)")
    centres = months + pd.Timedelta(days=14)
    bottom = pd.Series(0.0, index=frame.index)
    for colour, column in zip(plots.colours(len(frame.columns)), frame.columns, strict=True):
        ax.bar(centres, frame[column].fillna(0), width=20, bottom=bottom, color=colour,
               label=column)
        bottom = bottom + frame[column].fillna(0)
    ax.set_ylim(bottom=0)
    return plots.finish(fig, ax, title=chart.title, xlabel="Month",
                        ylabel="Conferences held (count)", source=chart.source,
                        legend_columns=3)


def draw_quarters(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Bars per financial quarter, from zero (each year named once: :func:`plots.period_ticks`)."""
    fig, ax = plots.new_figure()
    positions = list(range(len(frame)))
    ax.bar(positions, frame.iloc[:, 0], color=plots.AF_DARK_BLUE)
    ax.set_ylim(bottom=0)
    plots.period_ticks(ax, positions, frame.index)
    return plots.finish(fig, ax, title=chart.title, xlabel="Financial quarter",
                        ylabel=f"{frame.columns[0]} (count)", source=chart.source)


def draw_durations(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Horizontal bars, bands top to bottom in the report's order, from zero."""
    fig, ax = plots.new_figure()
    ax.barh(list(frame.index), frame.iloc[:, 0].to_numpy(), color=plots.AF_DARK_BLUE)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    return plots.finish(fig, ax, title=chart.title,
                        xlabel="Children on a plan at 31 March (count)",
                        ylabel="Time on the plan", source=chart.source)


def draw_review_months(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Monthly bars of the share of review conferences in timescale, on a 0-100% axis."""
    months = pd.to_datetime(frame.index + "-01") + pd.Timedelta(days=14)
    fig, ax = plots.new_figure()
    ax.bar(months, frame.iloc[:, 0], width=20, color=plots.AF_DARK_BLUE)
    ax.set_ylim(0, 100)
    return plots.finish(fig, ax, title=chart.title, xlabel="Month",
                        ylabel="Review conferences in timescale (%)", source=chart.source)
