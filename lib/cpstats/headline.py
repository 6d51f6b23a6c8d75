"""The headline table: the seed report's figures beside DfE's published ones and derived rates.

One row per headline measure for one LA and reporting year, columns
``measure, label, report, dfe, derived, note``:

- ``report``: transcribed from the seed report (Buckinghamshire 2016-17 only; blank otherwise);
- ``dfe``: as DfE published it (the reference extract, or a release folder);
- ``derived``: computed by cpstats from DfE's counts: the rate per 10,000 on the ONS row the
  pairing rule picks, and year-on-year changes.

Figures from different sources are shown side by side, never merged.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cpstats import facts as F
from cpstats import geography
from cpstats.errors import ParameterError
from cpstats.io.local import read_report_figures
from cpstats.io.population import MEASURE as POPULATION
from cpstats.io.population import read_ons_population
from cpstats.periods import parse_year, year_label
from cpstats.rates import rate_measure, rates_from_counts, shift_period

COLUMNS = ("measure", "label", "report", "dfe", "derived", "note")

#: (measure, label, unit); the order of the table.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("cp_plans_at_31_march", "Children on a CP plan at 31 March", "count"),
    ("cp_rate_per_10k", "  per 10,000 children aged 0-17", "rate"),
    ("cp_change_pct", "  change on the previous year (%)", "percent"),
    ("referrals", "Referrals", "count"),
    ("referrals_change_pct", "  change on the previous year (%)", "percent"),
    ("s47_enquiries", "Section 47 enquiries", "count"),
    ("icpcs", "Initial child protection conferences", "count"),
    ("icpcs_change_pct", "  change on the previous year (%)", "percent"),
    ("review_conferences_in_timescale_pct", "Review conferences held in timescale (%)", "percent"),
    ("cp_reviews_in_timescale_pct", "Children on a plan 3+ months, all reviews on time (%)", "percent"),
    ("cp_second_or_subsequent_pct", "Plans starting that were a second or later plan (%)", "percent"),
)
#: Changes derived from DfE counts: change measure -> count measure.
_CHANGES = {"cp_change_pct": "cp_plans_at_31_march", "referrals_change_pct": "referrals",
            "icpcs_change_pct": "icpcs"}
_ROW = re.compile(r"time_period \d{4} row( \(mid-\d{4}\))?")
_NOTES = {
    "cp_plans_at_31_march": "report: the council's own count; DfE: the statutory CIN Census return",
    "review_conferences_in_timescale_pct": "the report's measure (review conferences); DfE does not collect it",
    "cp_reviews_in_timescale_pct": "DfE's measure; not comparable with the report's review-conference figure",
}


def default_facts() -> pd.DataFrame:
    """The facts the default run uses: the report's figures and the shipped reference extract."""
    from cpstats.reference import load_reference  # the extract's own reader

    return pd.concat([read_report_figures(), load_reference()], ignore_index=True)


def facts_from_files(dfe_dir: str | Path, population: str | Path | None = None) -> pd.DataFrame:
    """Report figures, a DfE CIN release folder and the ONS population file, as one facts table."""
    from cpstats.io.dfe import read_release

    return pd.concat([read_report_figures(), read_release(dfe_dir), read_ons_population(population)],
                     ignore_index=True)


def headline_table(la_code: str | int = "825", year: int | str = 2017, *,
                   facts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The report's headline figures beside DfE's published ones and cpstats' derived ones.

    Parameters
    ----------
    la_code
        The LA, in any form :func:`cpstats.geography.la_code` accepts.
    year
        Reporting year ending 31 March (``2017`` or ``"2016-17"``).
    facts
        Facts holding ``report``, ``dfe`` and ONS population rows; ``None`` uses
        :func:`default_facts` (the seed report and ``data/reference``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, one row per :data:`ROWS` entry; numbers as floats (missing
        where a source has no such figure), ``note`` saying how figures were made.
        ``attrs`` holds ``la_code``, ``la_name``, ``period``.

    Examples
    --------
    >>> headline_table("825", 2017).set_index("measure").loc["cp_plans_at_31_march", "dfe"]  # doctest: +SKIP
    553.0
    """
    code = geography.la_code(la_code)
    period = year_label(parse_year(year))
    facts = default_facts() if facts is None else facts
    mine = facts[(facts["geography_code"] == code) & (facts["breakdown"] == F.TOTAL)]
    report = _values(mine, "report", period)
    dfe = _values(mine, "dfe", period)
    if not report and not dfe:
        have = sorted(facts.loc[facts["source"] == "dfe", "geography_code"].unique())
        if code not in have:
            raise ParameterError("--la", la_code, "an LA with DfE figures in the data used "
                                 f"({len(have)} areas; give --dfe-dir for any other LA)")
        raise ParameterError("--year", year, f"a year with DfE figures for {geography.la_name(code)}")
    derived, derived_notes = _derived(mine, period)
    derived_notes.update(_report_notes(mine, period))
    rows = []
    for measure, label, _ in ROWS:
        notes = [n for n in (_NOTES.get(measure) if measure in report or measure in dfe else None,
                             derived_notes.get(f"report:{measure}"), derived_notes.get(measure)) if n]
        rows.append({"measure": measure, "label": label, "report": report.get(measure, np.nan),
                     "dfe": dfe.get(measure, np.nan), "derived": derived.get(measure, np.nan),
                     "note": "; ".join(notes)})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table.attrs.update(la_code=code, la_name=geography.la_name(code), period=period)
    return table


def format_headline(table: pd.DataFrame) -> str:
    """The headline table as aligned text, with its notes as numbered footnotes."""
    units = {m: u for m, _, u in ROWS}
    title = (f"Child protection headline figures: {table.attrs.get('la_name', '')} "
             f"({table.attrs.get('la_code', '')}), year ending 31 March "
             f"{int(table.attrs.get('period', '0000-00')[:4]) + 1}")
    lines, notes = [], []
    width = max(len(label) for label in table["label"]) + 5
    header = f"{'':<{width}}{'report':>10}{'DfE':>10}{'derived':>10}"
    for row in table.itertuples(index=False):
        mark = ""
        if row.note:
            notes.append(row.note)
            mark = f" [{len(notes)}]"
        cells = "".join(f"{_fmt(v, units[row.measure]):>10}" for v in (row.report, row.dfe, row.derived))
        lines.append(f"{row.label + mark:<{width}}{cells}")
    footer = [f"[{i}] {n}" for i, n in enumerate(notes, start=1)]
    sources = ("report = the council's annual report (transcribed, data/seed); DfE = Characteristics "
               "of children in need, as published; derived = computed by cpstats (rates name their "
               "ONS population row). '-' = no such figure.")
    return "\n".join([title, "=" * len(title), header, *lines, "", *footer, "", sources])


def _values(facts: pd.DataFrame, source: str, period: str) -> dict[str, float]:
    rows = facts[(facts["source"] == source) & (facts["period"] == period)]
    rows = rows.drop_duplicates("measure", keep="first")
    return dict(zip(rows["measure"], rows["value"], strict=True))


def _derived(facts: pd.DataFrame, period: str) -> tuple[dict[str, float], dict[str, str]]:
    """Rate per 10,000 from DfE's count and changes on the previous year, with notes."""
    values, notes = {}, {}
    counts = facts[(facts["source"] == "dfe") & (facts["measure"] == "cp_plans_at_31_march")
                   & (facts["period"] == period)]
    population = facts[facts["measure"] == POPULATION]
    if len(counts) and len(population):
        rate = rates_from_counts(counts, population)
        if len(rate):
            measure = rate_measure("cp_plans_at_31_march")
            values[measure] = float(rate["value"].iloc[0])
            row = population[population["period"] == period]
            found = _ROW.search(str(row["note"].iloc[0])) if len(row) else None
            where = f"ONS {found.group(0)}" if found else "ONS estimate"
            value = f"{row['value'].iloc[0]:,.0f}" if len(row) else "?"
            notes[measure] = (f"derived: DfE count / {value} children ({where}, pairing rule); "
                              "DfE's published rate uses another population vintage")
    previous = shift_period(period, -1)
    dfe = facts[facts["source"] == "dfe"]
    for change, count in _CHANGES.items():
        now = dfe[(dfe["measure"] == count) & (dfe["period"] == period)]["value"]
        before = dfe[(dfe["measure"] == count) & (dfe["period"] == previous)]["value"]
        if len(now) and len(before) and before.iloc[0]:
            values[change] = round(100 * (now.iloc[0] / before.iloc[0] - 1), 1)
            notes[change] = f"derived: DfE {now.iloc[0]:,.0f} in {period} vs {before.iloc[0]:,.0f} in {previous}"
    return values, notes


def _report_notes(facts: pd.DataFrame, period: str) -> dict[str, str]:
    """How the report's own rate was made, when its count and population are both transcribed."""
    report = facts[facts["source"] == "report"]
    rate = report[(report["measure"] == "cp_rate_per_10k") & (report["period"] == period)]
    count = report[(report["measure"] == "cp_plans_at_31_march") & (report["period"] == period)]
    population = report[report["measure"] == POPULATION]
    if rate.empty or count.empty:
        return {}
    for row in population.itertuples(index=False):
        if round(count["value"].iloc[0] / row.value * 10_000, 1) == rate["value"].iloc[0]:
            older = "" if row.period == period else (
                f", the ONS row paired with {row.period}: older than the pairing rule")
            return {"report:cp_rate_per_10k": (f"report: {count['value'].iloc[0]:,.0f} / "
                                               f"{row.value:,.0f} (its own count and population{older})")}
    return {}


def _fmt(value: float, unit: str) -> str:
    if pd.isna(value):
        return "-"
    return f"{value:,.0f}" if unit == "count" else f"{value:.1f}"
