"""What every theme shares: the run's data (:class:`ThemeData`) and what a section of a theme
gives back (:class:`Section`: findings, disclosure-controlled tables, chart frames, sentences).

A theme module (``themes/trends.py`` ...) is a list of section functions
``section(data: ThemeData, **options) -> Section``. Each computes from facts, records the figures
its sentences state as *findings* (results rows built from the fact rows they come from, so unit,
source, vintage and note are carried, never retyped), publishes its tables through
:meth:`Section.table` (counts from child-level records suppressed there) and hands its charts
over as frames plus a drawing function. Notebooks only render sections
(:func:`cpstats.notebook.Page.show`); the API and the headline command call the same functions.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from cpstats import disclosure, registry
from cpstats.defaults import DEFAULT_LA, ENGLAND_CODE, ENGLAND_NAME
from cpstats.facts import CHILD_LEVEL_SOURCES, TOTAL, empty_facts, select
from cpstats.inputs import (
    Inputs,
    all_published,
    census2021_all_ages,
    census_children,
    load_child_level,
    ons_children,
    project_relative,
    published_facts,
    run_cached,
    school_census_pupils,
    service_facts,
)
from cpstats.periods import as_at, is_year, period_year, year_label
from cpstats.results import Results, format_value

#: Sources whose figures come from child-level records (their counts 1-5 are suppressed).
CHILD_SOURCES = CHILD_LEVEL_SOURCES
#: How prose names each source.
SOURCE_NAMES = {"report": "the council's report", "dfe": "DfE", "derived": "derived from DfE",
                "cin_census": "the council's CIN Census return",
                "synthetic": "the synthetic county (generated records, not real children)",
                "ons": "ONS", "local": "the council's service settings",
                "annex_a": "the council's Ofsted Annex A lists"}
NEIGHBOURS_MEAN = "Statistical neighbours (mean)"


class ThemeData:
    """One run's data, as every theme sees it: published facts up to the run's year, the
    child-level records and their measures, populations and service settings, and the LA's
    comparators. Built from resolved :class:`~cpstats.inputs.Inputs`; everything is loaded on
    first use.

    Parameters
    ----------
    inputs
        The resolved run parameters.
    """

    def __init__(self, inputs: Inputs):
        self.inputs = inputs
        self._names: dict[str, tuple[str, str]] = {}

    # -- who and when ----------------------------------------------------------------------------
    @property
    def la_code(self) -> str:
        return self.inputs.la_code

    @functools.cached_property
    def la_name(self) -> str:
        from cpstats import geography

        return geography.la_name(self.la_code)

    @property
    def year(self) -> int:
        return self.inputs.year

    @property
    def period(self) -> str:
        """The run's year as a label, ``2016-17``."""
        return self.inputs.year_label

    @property
    def previous(self) -> str:
        """The year before the run's, ``2015-16``."""
        return year_label(self.year - 1)

    @functools.cached_property
    def region(self) -> tuple[str, str]:
        """(GSS code, name) of the LA's region."""
        from cpstats import geography

        return geography.region_of(self.la_code)

    @functools.cached_property
    def neighbours(self) -> list[str]:
        """The LA's statistical neighbours (DfE model), as LA numbers."""
        from cpstats import geography

        return geography.statistical_neighbours(self.la_code)

    @property
    def comparators(self) -> dict[str, str]:
        """Geography code -> label of the LA, its region and England, in chart order."""
        region_code, region_name = self.region
        return {self.la_code: self.la_name, region_code: region_name, ENGLAND_CODE: ENGLAND_NAME}

    @property
    def is_default_la(self) -> bool:
        """The LA whose report is transcribed in ``data/seed/``."""
        return self.la_code == DEFAULT_LA

    # -- data ----------------------------------------------------------------------------------
    @functools.cached_property
    def facts(self) -> pd.DataFrame:
        """Published facts (DfE, report, ONS) up to the run's year."""
        return published_facts(self.inputs)

    @functools.cached_property
    def every_year(self) -> pd.DataFrame:
        """Published facts of every year, later ones included: only for a comparator DfE
        published only later (say so where it is used)."""
        return all_published(self.inputs.dfe_dir, self.inputs.population_dir)

    @functools.cached_property
    def population(self) -> pd.DataFrame:
        """ONS estimates of children aged 0-17 (``population_0_17`` facts; ``note`` names the
        row). The report's own population figure is a transcription, not a vintage: left out."""
        return select(self.facts, measure="population_0_17", source="ons")

    @functools.cached_property
    def census_children(self) -> pd.DataFrame:
        """Census 2011 children aged 0-17 by ethnic comparison group, every area, as facts
        (:func:`cpstats.inputs.census_children`): the ethnic mix of denominators."""
        return census_children(self.inputs)

    @functools.cached_property
    def census2021_all_ages(self) -> pd.DataFrame:
        """Census 2021 residents of all ages by ethnic group, by area (GSS code): a
        sensitivity check only (:func:`cpstats.inputs.census2021_all_ages`; raises
        :class:`~cpstats.errors.InputError` when the file is absent)."""
        return census2021_all_ages()

    @functools.cached_property
    def school_census(self) -> pd.DataFrame:
        """Pupils by ethnicity in the January school census, as facts (raises
        :class:`~cpstats.errors.InputError` when the file is absent)."""
        return school_census_pupils(self.inputs)

    @functools.cached_property
    def ons_children(self) -> pd.DataFrame:
        """ONS estimates of children aged 0-17 from ``--population-dir`` or the shared data, for
        totals :attr:`population` lacks (a DfE release carries none); raises
        :class:`~cpstats.errors.InputError` when there is no ONS file."""
        return ons_children(self.inputs)

    @functools.cached_property
    def service(self) -> pd.DataFrame:
        """The LA's service settings as facts (chair FTE, caseload target), possibly empty."""
        return service_facts(self.inputs, self.facts)

    @functools.cached_property
    def child_level(self):  # noqa: ANN201 -- CinData | None
        """The CIN Census return (or the synthetic county by default), or ``None`` without one."""
        return run_cached("child_level", lambda: load_child_level(self.inputs))

    @functools.cached_property
    def sibling_plans(self) -> pd.DataFrame | None:
        """Plans started in the run's year with their sibling-group stand-in
        (:func:`cpstats.stats.disproportionality.sibling_groups`), once per run for every
        design effect measured on them (notebooks 02 and 03: shared through the run cache);
        ``None`` without child-level records."""
        from cpstats.stats.disproportionality import sibling_groups

        if self.child_level is None:
            return None
        return run_cached("sibling_plans", lambda: sibling_groups(self.child_level, self.year))

    @functools.cached_property
    def child_facts(self) -> pd.DataFrame:
        """Measures from the child-level records up to the run's year (empty without records).

        Counts are exact here: publish them only through :meth:`Section.table` or
        :func:`cpstats.disclosure.suppress_facts`.
        """
        from cpstats import measures

        data = self.child_level
        if data is None:
            return empty_facts()
        years = [y for y in measures.years_covered(data) if y <= self.year][-3:]
        return run_cached("child_facts", lambda: _supported(data, as_at(
            measures.all_measures(data, years, la_name=self.la_name), self.year)))

    @functools.cached_property
    def disclosed_counts(self) -> pd.DataFrame:
        """Every child-level count the report may print, exact: :attr:`child_facts` and the
        children at each decision point by ethnic group
        (:func:`cpstats.stats.disproportionality.decision_point_facts`)."""
        from cpstats.stats.disproportionality import decision_point_facts

        if self.child_level is None:
            return self.child_facts
        return pd.concat([self.child_facts, decision_point_facts(self.child_level, self.year)],
                         ignore_index=True)

    @functools.cached_property
    def report_hidden(self) -> pd.Series:
        """Child-level counts the whole report hides, decided once per run for every notebook
        (:func:`cpstats.disclosure.report_mask` over :attr:`disclosed_counts`):
        (source, measure, period, breakdown) -> bool."""
        from cpstats.stats.disproportionality import KNOWN_AND_UNKNOWN

        return run_cached("report_hidden", lambda: disclosure.report_mask(
            self.disclosed_counts, subtotals={"ethnicity": KNOWN_AND_UNKNOWN}))

    def hides(self, measure: str, period: str, breakdown: str = TOTAL,
              source: str | None = None) -> bool:
        """True when the report hides this child-level figure wherever it is printed: a count
        the report-wide pass hides, or a share, rate or summed band resting on one
        (:func:`cpstats.disclosure.figure_hidden`). ``source``: the run's child-level source
        unless told."""
        source = source or self.child_source
        return source is not None and disclosure.figure_hidden(
            self._hidden_keys, source, measure, period, breakdown)

    @functools.cached_property
    def _hidden_keys(self) -> frozenset[tuple[str, str, str, str]]:
        return disclosure.hidden_keys(self.report_hidden)

    def hidden_groups(self, measure: str, key: str, groups: pd.Index,
                      period: str | None = None) -> pd.Series:
        """Which groups of a one-key breakdown (``key="gender"``) the report hides in
        ``period`` (default the run's year): booleans indexed by ``groups``."""
        period = period or self.period
        return pd.Series([self.hides(measure, period, f"{key}={g}") for g in groups],
                         index=groups, dtype=bool)

    def hidden_by_month(self, measures: dict[str, str], months: pd.Index,
                        breakdown: str = TOTAL) -> pd.DataFrame:
        """Which cells of a table of counts by period the report hides: ``measures`` maps each
        column label to its measure, ``months`` are the rows (``YYYY-MM``, or any periods:
        quarters ``2016-17 Q1``, years)."""
        return pd.DataFrame({label: [self.hides(measure, str(m), breakdown) for m in months]
                             for label, measure in measures.items()}, index=months, dtype=bool)

    @property
    def child_source(self) -> str | None:
        """``"cin_census"``, ``"synthetic"`` or ``None``."""
        return None if self.child_level is None else self.child_level.source

    @property
    def synthetic(self) -> bool:
        """True when the child-level records are the synthetic county (invented children)."""
        return self.child_source == "synthetic"

    def _table(self, source: str | Sequence[str]) -> pd.DataFrame:
        sources = [source] if isinstance(source, str) else list(source)
        if all(s in CHILD_SOURCES for s in sources):
            return self.child_facts
        if any(s in CHILD_SOURCES for s in sources):
            return pd.concat([self.facts, self.child_facts], ignore_index=True)
        if "local" in sources:
            return pd.concat([self.facts, self.service], ignore_index=True)
        return self.facts

    def fact(self, measure: str, source: str | Sequence[str], geography_code: str | None = None,
             period: str | None = None, breakdown: str = TOTAL) -> pd.DataFrame:
        """The fact row(s) matching (default: this LA and year); empty when there are none."""
        return select(self._table(source), measure=measure,
                      geography_code=geography_code or self.la_code,
                      period=period or self.period, breakdown=breakdown,
                      source=source if isinstance(source, str) else list(source))

    def value(self, measure: str, source: str | Sequence[str], geography_code: str | None = None,
              period: str | None = None, breakdown: str = TOTAL) -> float:
        """The single value matching, or NaN when absent (or suppressed at source)."""
        rows = self.fact(measure, source, geography_code, period, breakdown)
        return float(rows["value"].iloc[0]) if len(rows) == 1 else math.nan

    def series(self, measure: str, source: str = "dfe", breakdown: str = TOTAL,
               neighbours: bool = True) -> pd.DataFrame:
        """Yearly values of ``measure`` for the LA, its region, England and (optionally) the
        unweighted mean of its statistical neighbours with a value that year: one row per year,
        one column per area (the LA's column is named after it)."""
        table = select(self._table(source), measure=measure, source=source, breakdown=breakdown)
        table = table[is_year(table["period"])]
        labels = self.comparators
        wide = (table[table["geography_code"].isin(list(labels))]
                .pivot_table(index="period", columns="geography_code", values="value",
                             aggfunc="first")
                .reindex(columns=[c for c in labels if c in set(table["geography_code"])])
                .rename(columns=labels))
        if neighbours and self.neighbours:
            sn = table[table["geography_code"].isin(self.neighbours)]
            wide[NEIGHBOURS_MEAN] = sn.groupby("period")["value"].mean()
        return wide.rename_axis(index="year", columns=None).sort_index()

    def breakdown(self, measure: str, key: str, source: str | Sequence[str],
                  geography_code: str | None = None, period: str | None = None,
                  later: bool = False) -> pd.Series:
        """Values of a one-key breakdown (``key="category"``) as a Series indexed by value.

        ``later=True`` also looks after the run's year (for a comparator DfE only published
        later: say so). Combined breakdowns (``category=...;gender=...``) are ignored.
        """
        table = self.every_year if later and source not in CHILD_SOURCES else self._table(source)
        rows = select(table, measure=measure, geography_code=geography_code or self.la_code,
                      period=period or self.period,
                      source=source if isinstance(source, str) else list(source))
        rows = rows[rows["breakdown"].str.fullmatch(rf"{key}=[^;]+")]
        values = rows.set_index(rows["breakdown"].str.slice(len(key) + 1))["value"]
        return values.rename(measure).rename_axis(key)

    def nearest_period(self, measure: str, source: str,
                       geography_code: str | None = None) -> str | None:
        """The year nearest the run's with ``measure`` published (earlier years win ties; a later
        one only when nothing earlier exists), or ``None``."""
        rows = select(self.every_year, measure=measure, source=source,
                      geography_code=geography_code or self.la_code)
        periods = rows.loc[is_year(rows["period"]), "period"].drop_duplicates()
        if periods.empty:
            return None
        distance = (period_year(periods) - self.year).abs() * 2 + (period_year(periods) > self.year)
        return str(periods.iloc[int(distance.to_numpy().argmin())])

    def geography(self, code: str) -> tuple[str, str]:
        """(level, name) of a geography code, as the facts name it."""
        if not self._names:
            names = self.facts.drop_duplicates("geography_code")
            self._names = dict(zip(names["geography_code"],
                                   zip(names["geography_level"], names["geography_name"],
                                       strict=True), strict=True))
        if code in self._names:
            return self._names[code]
        if code == ENGLAND_CODE:
            return "national", ENGLAND_NAME
        return "local_authority", self.la_name if code == self.la_code else code

    def _rejected(self) -> str:
        """A clause on the children the reader refused (their number only, never who)."""
        summary = getattr(self.child_level, "summary", None)
        if summary is None or not summary.children_rejected:
            return ""
        n = int(summary.children_rejected)
        shown = "from 1 to 5" if disclosure.primary_mask([n])[0] else f"{n:,}"
        return (f"; {shown} of its {summary.children_read:,} children were left out because "
                f"their records had errors (`cpstats check` lists them)")

    def intro(self) -> str:
        """One paragraph: who, when, and which inputs this run used (no local paths)."""
        published = ("DfE release in " + project_relative(self.inputs.dfe_dir)
                     if self.inputs.dfe_dir else "the reference extract shipped in data/reference/")
        if self.synthetic:
            child = ("the **synthetic county** (generated records standing in for a CIN Census "
                     "return: no real child; its figures illustrate the method only)")
        elif self.child_source == "cin_census":
            child = ("the council's own CIN Census return (counts from 1 to 5 shown as c)"
                     + self._rejected())
        else:
            child = "none (child-level analyses are left out)"
        return (f"**{self.la_name}** (LA {self.la_code}), year ending 31 March {self.year} "
                f"({self.period}). Published figures: {published}. Child-level records: {child}. "
                f"Nothing after 31 March {self.year} is shown.")


def _supported(data: object, facts: pd.DataFrame) -> pd.DataFrame:
    """Only the measures the records can give: an Annex A workbook is a window and a snapshot
    (a full year's flows from a 6-month window would be short), so its facts are restricted to
    what its lists cover, with its own monthly series added."""
    if not hasattr(data, "window_start"):
        return facts
    from cpstats.annex_a_measures import coverage_of, window_facts

    supported = coverage_of(data).restrict(facts)  # type: ignore[arg-type]
    monthly = window_facts(data, "month")  # type: ignore[arg-type]
    both = pd.concat([supported, monthly], ignore_index=True)
    return both.drop_duplicates(["geography_code", "period", "measure", "breakdown", "source"],
                                ignore_index=True)


# -- what a section gives back ---------------------------------------------------------------
@dataclass
class Table:
    """A published table: already disclosure-controlled, human column labels, no index."""

    name: str
    frame: pd.DataFrame
    caption: str = ""
    synthetic: bool = False
    child_level: bool = False  # its counts come from child-level records (disclosure-controlled)


@dataclass
class Chart:
    """A chart: the frame it draws, how to draw it, and the words around it."""

    name: str
    frame: pd.DataFrame
    draw: Callable[..., object]  # (frame, chart) -> matplotlib Figure
    title: str
    source: str
    synthetic: bool = False
    options: dict[str, object] = field(default_factory=dict)

    def figure(self) -> object:
        """The finished matplotlib figure."""
        return self.draw(self.frame, self)


_NAME = re.compile(r"[a-z0-9_]+")


@dataclass
class Section:
    """One section of a theme: the figures it states, its tables, charts and sentences.

    Build one with :meth:`ThemeData.section`-style helpers in the theme module::

        section = Section("01_trends", "stock", "Children on plans at 31 March", data)
        n = section.record_fact(data.fact("cp_plans_at_31_march", "dfe"))
        section.say(f"On 31 March {data.year} **{n}** children ...")
    """

    theme: str
    key: str
    title: str
    data: ThemeData
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings = Results(self.theme)

    # -- sentences -----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Add a paragraph (markdown) written from recorded findings."""
        self.paragraphs.append(text)

    def leave_out(self, what: str) -> None:
        """Note something this section could not show with the inputs given, and why."""
        self.left_out.append(what)

    # -- findings ------------------------------------------------------------------------------
    def record_fact(self, fact: pd.Series | pd.DataFrame, **overrides: object) -> str:
        """Record one fact row as a finding (its unit, source and note carried); return its text
        for the prose. ``overrides`` may set ``note``, ``decimals``, ``signed``, intervals.
        A published rate or percentage gets its 95% interval from the counts it rests on."""
        row = fact.iloc[0] if isinstance(fact, pd.DataFrame) and len(fact) == 1 else fact
        if isinstance(row, pd.Series) and self._hidden(row["measure"], row["period"],
                                                       row["breakdown"], row["source"]):
            overrides.update(value=None, marker=disclosure.SUPPRESSED, interval_95=None)
        if isinstance(row, pd.Series) and "interval_95" not in overrides:
            overrides["interval_95"] = self._interval(
                str(row["measure"]), str(row["geography_code"]), str(row["period"]),
                str(row["breakdown"]), str(row["source"]), overrides.get("value", row["value"]))
            _caveat(overrides, str(row["measure"]), overrides.get("note", row.get("note")))
        return self.findings.record_fact(fact, **overrides)

    def _hidden(self, measure: str, period: str, breakdown: str, source: str) -> bool:
        """A child-level count the report-wide pass hides, or a share or rate resting on one
        (:meth:`ThemeData.hides`): stated as ``c`` in prose and results.csv as in every
        table."""
        return (source in CHILD_SOURCES
                and (registry.unit(measure) == "count" or measure in disclosure.DERIVED_FROM)
                and self.data.hides(measure, period, breakdown, source))

    def _interval(self, measure: str, code: str, period: str, breakdown: str, source: str,
                  value: object) -> tuple[float, float] | None:
        """95% interval of a DfE-based rate or percentage (:func:`cpstats.comparison.interval`),
        at the precision the figure is stated; ``None`` for anything else."""
        from cpstats import comparison

        if source not in ("dfe", "derived") or pd.isna(value):
            return None
        return rounded_interval(comparison.interval(self.data.facts, measure, code, period,
                                                    float(value), breakdown), measure)

    def counts_interval(self, measure: str, kind: str, count: float,
                        base: float) -> tuple[float, float] | None:
        """95% interval of a figure computed here from its own counts
        (:func:`cpstats.comparison.counts_interval`: ``kind`` ``"rate"`` or ``"percent"``), at
        the precision the figure is stated; ``None`` where the counts give none."""
        from cpstats import comparison

        return rounded_interval(comparison.counts_interval(kind, float(count), float(base)),
                                measure)

    def stated(self, fact: pd.DataFrame, **overrides: object) -> str | None:
        """:meth:`record_fact` for a fact that may be absent: ``None`` when it is."""
        return self.record_fact(fact, **overrides) if len(fact) == 1 else None

    def record(self, measure: str, value: float | None, *, source: str,
               geography_code: str | None = None, period: str | None = None,
               breakdown: str = TOTAL, **options: object) -> str:
        """Record a figure computed here (unit and precision from the registry) for this LA and
        year unless told otherwise; return its text for the prose. ``source`` is ``derived``
        for a figure computed from published ones, or the child-level source."""
        code = geography_code or self.data.la_code
        level, name = self.data.geography(code)
        if self._hidden(measure, period or self.data.period, breakdown, source):
            value, options["marker"] = None, disclosure.SUPPRESSED
            options.pop("interval_80", None)
            options["interval_95"] = None
        if "interval_95" not in options:
            options["interval_95"] = self._interval(measure, code, period or self.data.period,
                                                    breakdown, source, value)
            _caveat(options, measure, options.get("note"))
        return self.findings.record(measure, value, source=source, geography_code=code,
                                    geography_name=name, geography_level=level,
                                    period=period or self.data.period, breakdown=breakdown,
                                    **options)  # type: ignore[arg-type]

    def derive(self, measure: str, value: float | None, *, inputs: Sequence[str],
               **options: object) -> str:
        """Record a figure computed from facts of the given ``inputs`` sources: its source is the
        child-level source when every input is one, else ``derived``."""
        child = [s for s in inputs if s in CHILD_SOURCES]
        source = child[0] if child and len(child) == len(inputs) else "derived"
        return self.record(measure, value, source=source, **options)  # type: ignore[arg-type]

    # -- tables and charts ---------------------------------------------------------------------
    def table(self, name: str, frame: pd.DataFrame, *, child_level: bool = False,
              total_row: str | None = None, total_column: str | None = None,
              count_columns: Sequence[str] | None = None, caption: str = "",
              row_groups: Sequence[Sequence[object]] = (),
              hidden: pd.DataFrame | None = None) -> Table:
        """Publish a table: with ``child_level`` its counts from 1 to 5 are shown as ``c`` (with
        secondary suppression across ``total_row``/``total_column``, and across any
        ``row_groups`` whose subtotals are public; ``hidden`` marks cells the report hides
        wherever they are printed, :meth:`ThemeData.hidden_by_month`). The index becomes the
        first column(s); column names should be labels a reader understands."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"table name {name!r}: use lower-case letters, digits and _")
        if isinstance(frame.columns, pd.MultiIndex):
            frame = frame.set_axis([": ".join(map(str, c)) for c in frame.columns], axis=1)
        shown = frame
        if child_level:
            columns = list(count_columns) if count_columns is not None else list(frame.columns)
            protected = disclosure.suppress_table(frame[columns], total_row, total_column,
                                                  row_groups, hidden)
            shown = frame.astype(object).copy()
            shown[columns] = protected
        table = Table(name, shown, caption, synthetic=child_level and self.data.synthetic,
                      child_level=child_level)
        self.tables.append(table)
        return table

    def chart(self, name: str, frame: pd.DataFrame, draw: Callable[..., object], *, title: str,
              source: str, child_level: bool = False, **options: object) -> Chart:
        """Hand over a chart: ``draw(frame, chart)`` returns the finished figure."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"chart name {name!r}: use lower-case letters, digits and _")
        chart = Chart(name, frame, draw, title, source,
                      synthetic=child_level and self.data.synthetic, options=dict(options))
        self.charts.append(chart)
        return chart

    @property
    def empty(self) -> bool:
        """Nothing to show (the section says why in :attr:`left_out`)."""
        return not (self.paragraphs or self.tables or self.charts)


def rounded_interval(bounds: tuple[float, float] | None,
                     measure: str) -> tuple[float, float] | None:
    """An interval at the precision its measure is stated (results.csv agrees with the
    prose); ``None`` stays ``None``."""
    if bounds is None:
        return None
    places = registry.decimals(measure)
    return round(bounds[0], places), round(bounds[1], places)


def _caveat(options: dict[str, object], measure: str, note: object) -> None:
    """Add to ``options``' note what an interval found for ``measure`` assumes, where its
    counts are linked (:data:`cpstats.comparison.LINKED_COUNTS`)."""
    from cpstats import comparison

    caveat = comparison.LINKED_COUNTS.get(measure)
    if caveat and options.get("interval_95") is not None:
        options["note"] = "; ".join(str(n) for n in (note, caveat) if n and not pd.isna(n))


@dataclass
class ThemeResult:
    """A whole theme computed: its sections in order, with their findings merged."""

    theme: str
    sections: list[Section]

    @property
    def findings(self) -> pd.DataFrame:
        """Every figure the theme states (a results table); a figure two sections state is
        kept once, as :meth:`cpstats.notebook.Page.show` keeps it."""
        merged = Results(self.theme)
        for section in self.sections:
            merged.extend(section.findings)
        return merged.frame()

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Published tables by name."""
        return {t.name: t.frame for s in self.sections for t in s.tables}

    @property
    def charts(self) -> dict[str, pd.DataFrame]:
        """The frames the charts draw, by name."""
        return {c.name: c.frame for s in self.sections for c in s.charts}

    @property
    def left_out(self) -> list[str]:
        return [x for s in self.sections for x in s.left_out]


def run_sections(theme: str, data: ThemeData,
                 sections: Sequence[Callable[..., Section]], **options: object) -> ThemeResult:
    """Compute every section of a theme (each given only the options it accepts)."""
    import inspect

    done = []
    for section in sections:
        accepted = inspect.signature(section).parameters
        done.append(section(data, **{k: v for k, v in options.items() if k in accepted}))
    return ThemeResult(theme, done)


def text(value: float | None, measure: str, **options: object) -> str:
    """A value formatted as the registry publishes ``measure`` (for prose that states a figure
    already recorded, or an intermediate one): ``text(45.21, "cp_rate_per_10k") -> "45.2"``."""
    decimals = options.pop("decimals", None)
    places = registry.decimals(measure) if decimals is None else int(decimals)  # type: ignore[arg-type]
    return format_value(value, registry.unit(measure), places, **options)  # type: ignore[arg-type]
