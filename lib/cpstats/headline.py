"""The headline table: the figures the trends theme states, for the terminal.

``cpstats headline`` is not a second route to the headline figures: it computes the trends theme
(:mod:`cpstats.themes.trends`, the same sections notebook ``01_trends`` renders) and lays its
findings out one row per figure (measure, area, period) with one column per source, so the
council's report, DfE's published figures and those derived from them sit side by side, never
merged. Labels and precision come from the measure registry.
"""

from __future__ import annotations

import pandas as pd

from cpstats import registry
from cpstats.errors import ParameterError
from cpstats.facts import TOTAL, select
from cpstats.themes.base import ThemeData, text

#: Source columns, in the order they are shown (only those with a figure appear).
SOURCES = ("report", "dfe", "derived", "ons", "local", "cin_census", "synthetic")
KEY = ["measure", "label", "area", "period"]


def headline_table(data: ThemeData) -> pd.DataFrame:
    """The trends theme's findings (totals only) as one row per figure, one column per source.

    Parameters
    ----------
    data
        The run's data (``ThemeData(resolve(la, year, ...))``).

    Returns
    -------
    pandas.DataFrame
        Columns ``measure, label, area, period``, then one column per source with a figure
        (values as recorded, at the registry's precision), then ``note`` (how derived figures
        were made). ``attrs`` holds ``la_code``, ``la_name``, ``period``.

    Raises
    ------
    ParameterError
        When the published data hold no figure for the LA, or none for its year.
    """
    from cpstats.themes import trends

    _check_published(data)
    result = trends.compute(data)
    frames = [s.findings.frame() for s in result.sections]
    findings = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    findings = findings[findings["breakdown"] == TOTAL]
    findings = findings.assign(label=findings["measure"].map(registry.label),
                               area=findings["geography_name"])
    order = findings[KEY].drop_duplicates()
    wide = findings.pivot_table(index=KEY, columns="source", values="value", aggfunc="first",
                                sort=False, dropna=False)
    wide = wide.reindex(columns=[s for s in SOURCES if s in wide.columns])
    derived = findings[findings["source"] == "derived"].drop_duplicates(KEY)
    notes = derived.set_index(KEY)["note"]
    table = order.merge(wide.reset_index(), on=KEY, how="left")
    table["note"] = pd.MultiIndex.from_frame(table[KEY]).map(notes.to_dict().get)
    table = table.reset_index(drop=True)
    hidden = findings[findings["value"].isna() & findings["marker"].notna()]
    table.attrs.update(la_code=data.la_code, la_name=data.la_name, period=data.period,
                       markers={(*k, s): m for *k, s, m in hidden[[*KEY, "source", "marker"]]
                                .itertuples(index=False, name=None)})
    return table


def _check_published(data: ThemeData) -> None:
    mine = select(data.facts, geography_code=data.la_code, source="dfe")
    if mine.empty:
        raise ParameterError("--la", data.la_code, "an LA with DfE figures in the data used "
                             "(give --dfe-dir for an LA outside the shipped extract)")
    if not (mine["period"] == data.period).any():
        raise ParameterError("--year", data.period,
                             f"a year with DfE figures for {data.la_name}")


def format_headline(table: pd.DataFrame) -> str:
    """The headline table as aligned text, each figure at its registry precision, with the notes
    of derived figures as numbered footnotes."""
    sources = [s for s in SOURCES if s in table.columns]
    title = (f"Child protection headline figures: {table.attrs.get('la_name', '')} "
             f"({table.attrs.get('la_code', '')}), {table.attrs.get('period', '')}")
    width = max(len(_row_label(r)) for r in table.itertuples(index=False)) + 5
    lines = [title, "=" * len(title),
             f"{'':<{width}}" + "".join(f"{_SOURCE_HEADS.get(s, s):>11}" for s in sources)]
    notes: list[str] = []
    markers = table.attrs.get("markers", {})
    for row in table.to_dict("records"):
        mark = ""
        if isinstance(row["note"], str) and row["note"]:
            notes.append(row["note"])
            mark = f" [{len(notes)}]"
        key = tuple(row[k] for k in KEY)
        cells = "".join(f"{_cell(row[s], row['measure'], s, markers.get((*key, s))):>11}"
                        for s in sources)
        lines.append(f"{_row_label(row) + mark:<{width}}{cells}")
    footer = [f"[{i}] {n}" for i, n in enumerate(notes, start=1)]
    legend = ("report = the council's annual report (transcribed, data/seed); DfE = "
              "Characteristics of children in need, as published; derived = computed by cpstats "
              "from DfE's figures (rates name their ONS population row). '-' = no such figure.")
    return "\n".join([*lines, "", *footer, "", legend])


_SOURCE_HEADS = {"dfe": "DfE", "ons": "ONS"}


def _row_label(row: object) -> str:
    get = row.get if isinstance(row, dict) else row._asdict().get  # type: ignore[attr-defined]
    return f"{get('label')}: {get('area')}, {get('period')}"


def _cell(value: object, measure: str, source: str, marker: str | None) -> str:
    """A figure at the registry's precision; a whole figure transcribed from the report as
    printed (``96%``); a suppressed one as its marker."""
    if pd.isna(value):
        return marker or "-"
    whole = source == "report" and float(value).is_integer()  # type: ignore[arg-type]
    return text(float(value), measure, decimals=0 if whole else None)  # type: ignore[arg-type]
