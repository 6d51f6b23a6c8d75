"""The board's pages of a report: ``index.html`` (a summary of key figures against England,
the region and statistical neighbours, then contents), ``appendix.html`` (every figure the
report states, with its source) and the navigation bar every page of the report carries.

Only published figures (DfE's, and those derived from them) enter the board summary: figures
from child-level records (a council's CIN Census return, or the synthetic county) never do, and
pages or charts built from the synthetic county carry a banner saying so.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cpstats import registry
from cpstats.results import format_value

#: The board summary's figures, in order: measure -> the count stated beside it (or "").
KEY_FIGURES: dict[str, str] = {
    "cp_rate_per_10k": "cp_plans_at_31_march",
    "cp_change_pct": "",
    "referrals_rate_per_10k": "referrals",
    "s47_enquiries_rate_per_10k": "s47_enquiries",
    "icpcs_rate_per_10k": "icpcs",
    "icpc_within_15_working_days_pct": "",
    "cp_second_or_subsequent_pct": "",
    "cp_reviews_in_timescale_pct": "",
}
#: Only these sources may enter the board summary (never child-level ones).
SUMMARY_SOURCES = ("dfe", "derived")
FORECAST = "cp_forecast_next_year"
#: Two-sided p-value below which a difference is called beyond chance.
ALPHA = 0.05
#: Short names for the theme pages in the navigation bar (by notebook number).
THEME_LABELS = {"01": "Trends", "02": "Demographics", "03": "Ethnicity",
                "04": "Referrals and enquiries", "05": "Forecasting"}
APPENDIX = "appendix.html"
SOURCE_WORDS = {"dfe": "DfE (published)", "derived": "derived from DfE's figures",
                "report": "the council's report (transcribed)",
                "cin_census": "the council's CIN Census return",
                "synthetic": "SYNTHETIC county (invented records)", "ons": "ONS",
                "local": "the council's service settings"}
SYNTHETIC_TEXT = ("Synthetic data: parts of this page are computed from the synthetic county, "
                  "generated records standing in for a CIN Census return. No real child is in "
                  "them; they illustrate the method only and are not this council's figures.")
#: The navigation bar's and the synthetic banner's style (theme pages carry it too).
NAV_CSS = """
nav.cpstats-nav{background:#0b0c0c;padding:.4em .8em;margin:0 0 1em;display:flex;
flex-wrap:wrap;gap:.2em 1.2em;font-size:.95em;font-family:Arial,Helvetica,sans-serif}
nav.cpstats-nav a{color:#fff;text-decoration:none}
nav.cpstats-nav a[aria-current]{font-weight:bold;text-decoration:underline}
.cpstats-synthetic{background:#d4351c;color:#fff;padding:.5em .8em;margin:0 0 1em;font-weight:bold;
font-family:Arial,Helvetica,sans-serif}
"""
CSS = NAV_CSS + """
body{font-family:Arial,Helvetica,sans-serif;max-width:72em;margin:0 auto;padding:0 1em 2em;
color:#0b0c0c;line-height:1.3;font-size:15px}
.cpstats-meta{color:#505a5f;margin:.2em 0 1em}
table.cpstats{border-collapse:collapse;margin:.5em 0 1em}
table.cpstats th,table.cpstats td{border-bottom:1px solid #b1b4b6;padding:.2em .5em;
text-align:left;vertical-align:top}
table.cpstats td.n,table.cpstats th.n{text-align:right}
table.cpstats td{max-width:24em;overflow-wrap:break-word}
tr.synthetic td{background:#fbe3df}
figure{display:inline-block;width:330px;margin:.4em;vertical-align:top;font-size:.85em}
figure img{width:320px;border:1px solid #b1b4b6}
figure.synthetic figcaption strong{color:#d4351c}
h1{margin:.2em 0 .1em;font-size:1.5em}
h2{font-size:1.2em;margin:.8em 0 .3em}
"""


@dataclass(frozen=True)
class Item:
    """What the notebooks said of one table, chart or page (read from ``meta/``)."""

    name: str
    kind: str
    title: str = ""
    synthetic: bool = False
    alt: str = ""


def read_meta(folder: Path, kind: str) -> dict[str, Item]:
    """What the notebooks said of their tables, charts or pages (``kind``), by name, from
    ``folder/meta/<kind>/`` (see :meth:`cpstats.notebook.Page._describe`)."""
    items = {}
    for path in sorted((folder / "meta" / kind).glob("*.json")):
        what = json.loads(path.read_text(encoding="utf-8"))
        items[path.stem] = Item(path.stem, kind, str(what.get("title", "")),
                                bool(what.get("synthetic", False)), str(what.get("alt", "")))
    return items


# -- navigation ---------------------------------------------------------------------------------
def page_links(notebooks: Sequence[str]) -> list[tuple[str, str]]:
    """(href, label) of every page of a report, in the navigation bar's order."""
    links = [("index.html", "Summary")]
    links += [(f"{stem}.html", THEME_LABELS.get(stem[:2], stem)) for stem in notebooks]
    return [*links, (APPENDIX, "Appendix: every figure and its source")]


def nav_bar(links: Sequence[tuple[str, str]], current: str) -> str:
    """The navigation bar, the current page marked for screen readers."""
    esc = html.escape
    items = "".join(f"<a href='{esc(href)}'{' aria-current=page' if href == current else ''}>"
                    f"{esc(label)}</a>" for href, label in links)
    return f"<nav class='cpstats-nav' aria-label='Report pages'>{items}</nav>"


def synthetic_banner() -> str:
    """The banner of every page built in part from the synthetic county."""
    return f"<div class='cpstats-synthetic' role='note'>{html.escape(SYNTHETIC_TEXT)}</div>"


# -- the board summary --------------------------------------------------------------------------
def board_summary(facts: pd.DataFrame, results: pd.DataFrame, *, la_code: str, period: str,
                  previous: str, region_code: str, neighbours: Sequence[str]) -> pd.DataFrame:
    """The key figures of the year against England, the region and statistical neighbours.

    Parameters
    ----------
    facts
        Published facts up to the report's year (DfE's and those derived from them).
    results
        The report's results (for the forecast of next year, made from published counts).
    la_code, period, previous
        The LA and the report's year and the one before (``"2016-17"``, ``"2015-16"``).
    region_code, neighbours
        The LA's region (GSS code) and statistical neighbours (LA numbers).

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``measure, label, unit, la, previous, count, england, region,
        neighbours, p_england, p_region, lower_80, upper_80``. Figures from child-level
        records are never in it.
    """
    from cpstats.comparison import compare

    published = facts[facts["source"].isin(SUMMARY_SOURCES) & (facts["breakdown"] == "total")]
    rows = []
    for measure, count in KEY_FIGURES.items():
        values = _values(published, measure, (period, previous))
        if measure not in values:
            continue
        now, before = values[measure].get(period, pd.Series()), values[measure].get(previous, pd.Series())
        if la_code not in now or pd.isna(now[la_code]):
            continue
        source = "dfe" if _has(published, measure, la_code, period, "dfe") else "derived"
        tests = compare(published, measure, la_code, period, region_code, neighbours,
                        against=("england", "region"), source=source).set_index("role")
        counts = _values(published, count, (period,)).get(count, {}).get(period, pd.Series()) \
            if count else pd.Series()
        rows.append({
            "measure": measure, "label": registry.label(measure), "unit": registry.unit(measure),
            # A change's own change on the year would only confuse: none is shown.
            "la": now[la_code],
            "previous": math.nan if measure == "cp_change_pct" else before.get(la_code, math.nan),
            "count": counts.get(la_code, math.nan), "england": now.get(_ENGLAND, math.nan),
            "region": now.get(region_code, math.nan),
            "neighbours": now.reindex(list(neighbours)).mean(),
            "p_england": _p_value(tests, results, measure, la_code, period, "england"),
            "p_region": _p_value(tests, results, measure, la_code, period, "region"),
            "lower_80": math.nan, "upper_80": math.nan})
    forecast = _forecast(results, la_code)
    if forecast is not None:
        rows.append(forecast)
    return pd.DataFrame(rows)


_ENGLAND = "E92000001"


def _p_value(tests: pd.DataFrame, results: pd.DataFrame, measure: str, la_code: str,
             period: str, against: str) -> float:
    """The test's p-value against ``against``; where the published counts do not give one
    here (a percentage DfE publishes as bands, such as ICPC timeliness), the p-value the
    trends page recorded for the same test, so the summary and the page agree."""
    p = tests["p_value"].get(against, math.nan)
    if pd.notna(p) or results.empty:
        return p
    recorded = results[(results["measure"] == "p_value")
                       & (results["breakdown"] == f"measure={measure};against={against}")
                       & (results["geography_code"].astype(str) == la_code)
                       & (results["period"] == period)]
    return float(recorded["value"].iloc[0]) if len(recorded) else math.nan


def _has(facts: pd.DataFrame, measure: str, code: str, period: str, source: str) -> bool:
    return bool(((facts["measure"] == measure) & (facts["geography_code"] == code)
                 & (facts["period"] == period) & (facts["source"] == source)).any())


def _values(facts: pd.DataFrame, measure: str,
            periods: Sequence[str]) -> dict[str, dict[str, pd.Series]]:
    """measure -> period -> value by geography code (DfE's figure preferred to a derived one).
    The change on the previous year is computed from the counts at 31 March."""
    if measure == "cp_change_pct":
        counts = _values(facts, "cp_plans_at_31_march", (*periods, _year_before(periods[-1])))
        by_period = counts.get("cp_plans_at_31_march", {})
        change = {p: (by_period[p] / by_period[_year_before(p)] - 1) * 100
                  for p in periods if p in by_period and _year_before(p) in by_period}
        return {measure: change} if change else {}
    rows = facts[(facts["measure"] == measure) & facts["period"].isin(list(periods))]
    if rows.empty:
        return {}
    rows = rows.assign(_rank=rows["source"].map({"dfe": 0, "derived": 1}))
    rows = rows.sort_values("_rank", kind="stable").drop_duplicates(["period", "geography_code"])
    return {measure: {p: g.set_index("geography_code")["value"].astype(float)
                      for p, g in rows.groupby("period")}}


def _year_before(period: str) -> str:
    from cpstats.periods import year_label

    return year_label(int(period[:4]))


def _forecast(results: pd.DataFrame, la_code: str) -> dict[str, object] | None:
    rows = results[(results["measure"] == FORECAST) & results["source"].isin(SUMMARY_SOURCES)
                   & (results["geography_code"].astype(str) == la_code)
                   & (results["breakdown"] == "total")]
    if rows.empty:
        return None
    row = rows.sort_values("period").iloc[0]
    return {"measure": FORECAST, "label": f"{registry.label(FORECAST)} ({row['period']})",
            "unit": registry.unit(FORECAST), "la": row["value"], "previous": math.nan,
            "count": math.nan, "england": math.nan, "region": math.nan, "neighbours": math.nan,
            "p_england": math.nan, "p_region": math.nan,
            "lower_80": row["lower_80"], "upper_80": row["upper_80"], "period": row["period"]}


def _fmt(value: object, measure: str) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "-"
    return format_value(float(value), registry.unit(measure), registry.decimals(measure),  # type: ignore[arg-type]
                        signed=measure.endswith("change_pct"))


def _direction(row: pd.Series) -> str:
    if pd.isna(row["previous"]):
        return "-"
    change = round(float(row["la"]), registry.decimals(row["measure"])) - round(
        float(row["previous"]), registry.decimals(row["measure"]))
    if change == 0:
        return "no change"
    return f"{'up' if change > 0 else 'down'} from {_fmt(row['previous'], row['measure'])}"


def _chance(p: float) -> str:
    if pd.isna(p):
        return "no test"
    return "beyond chance" if p < ALPHA else "within chance"


def sentence(row: pd.Series, la_name: str, region_name: str, period: str, previous: str) -> str:
    """One sentence for a summary row, every figure from the row (none typed)."""
    m = row["measure"]
    if m == FORECAST:
        interval = (f" (80% prediction interval {_fmt(row['lower_80'], m)} to "
                    f"{_fmt(row['upper_80'], m)})" if pd.notna(row["lower_80"]) else "")
        return (f"{row['label']}: {_fmt(row['la'], m)}{interval}, forecast from DfE's published "
                f"counts for every council, not from child-level records.")
    count = (f" ({_fmt(row['count'], KEY_FIGURES[m])} {_lower_first(registry.label(KEY_FIGURES[m]))})"
             if KEY_FIGURES.get(m) and pd.notna(row["count"]) else "")
    text = f"{row['label']}: {la_name} {_fmt(row['la'], m)} in {period}{count}"
    if pd.notna(row["previous"]):
        text += f", {_direction(row)} in {previous}"
    if pd.notna(row["england"]):
        side = "higher than" if row["la"] > row["england"] else (
            "lower than" if row["la"] < row["england"] else "the same as")
        text += f"; {side} England's {_fmt(row['england'], m)}"
        if pd.notna(row["p_england"]):
            text += (", a difference beyond chance (95% level)" if row["p_england"] < ALPHA
                     else ", a difference within chance (95% level)")
    if pd.notna(row["region"]):
        text += f"; {region_name} {_fmt(row['region'], m)}"
    if pd.notna(row["neighbours"]):
        text += f"; statistical neighbours' mean {_fmt(row['neighbours'], m)}"
    return text + "."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def summary_table(summary: pd.DataFrame, la_name: str, region_name: str) -> str:
    """The summary as an HTML table (values at the registry's precision)."""
    esc = html.escape
    head = ("Figure", la_name, "Change on the year", "England", "Beyond chance v England",
            region_name, "Statistical neighbours (mean)")
    rows = []
    for _, row in summary.iterrows():
        m = row["measure"]
        value = _fmt(row["la"], m)
        if m == FORECAST and pd.notna(row["lower_80"]):
            value += f" (80%: {_fmt(row['lower_80'], m)} to {_fmt(row['upper_80'], m)})"
        cells = (value, _direction(row), _fmt(row["england"], m),
                 "-" if m == FORECAST else _chance(row["p_england"]), _fmt(row["region"], m),
                 _fmt(row["neighbours"], m))
        rows.append(f"<tr><th scope=row>{esc(row['label'])}</th>"
                    + "".join(f"<td class=n>{esc(c)}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th scope=col{' class=n' if i else ''}>{esc(h)}</th>"
                     for i, h in enumerate(head))
    return f"<table class=cpstats><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


# -- whole pages ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """Who, when and from what a report is: what every page's header says."""

    la_code: str
    la_name: str
    period: str
    previous: str
    region_code: str
    region_name: str
    neighbours: tuple[str, ...]
    vintage: str
    generated: str
    synthetic: bool


def context(run, items: Mapping[str, Mapping[str, Item]]) -> tuple[Context, pd.DataFrame]:  # noqa: ANN001
    """The run's header facts and its published facts (for the summary)."""
    from cpstats import inputs
    from cpstats.periods import is_year, year_label
    from cpstats.themes.base import ThemeData

    p = run.parameters
    resolved = inputs.resolve(p.get("la"), p.get("year"), p.get("dfe_dir"), p.get("cin_census"),
                              p.get("population_dir"), p.get("service"))
    data = ThemeData(resolved)
    every = data.every_year
    latest = every.loc[(every["source"] == "dfe") & is_year(every["period"]), "period"].max()
    where = (f"the DfE release in folder {Path(str(p['dfe_dir'])).name}" if p.get("dfe_dir")
             else "the reference extract shipped with cpstats")
    vintage = (f"DfE Characteristics of children in need, published figures to {latest} "
               f"({where}); ONS mid-year population estimates")
    synthetic = any(i.synthetic for kind in items.values() for i in kind.values())
    return Context(data.la_code, data.la_name, data.period, year_label(data.year - 1),
                   data.region[0], data.region[1], tuple(data.neighbours), vintage,
                   dt.date.today().strftime("%-d %B %Y"), synthetic), data.facts


def _page(title: str, nav: str, body: str, synthetic: bool = False) -> str:
    banner = synthetic_banner() if synthetic else ""
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f"{nav}{banner}<main>{body}</main></body></html>\n")


def index_page(ctx: Context, summary: pd.DataFrame, notebooks: Sequence[tuple[str, str]],
               items: Mapping[str, Mapping[str, Item]], tables: Sequence[str]) -> str:
    """``index.html``: the summary first, then contents and links.

    ``notebooks`` are (stem, heading) of the theme pages; ``items`` what the notebooks said
    of their pages, tables and charts (:func:`read_meta`, by kind); ``tables`` the CSV stems.
    """
    esc = html.escape
    page_items, table_items = items.get("page", {}), items.get("table", {})
    links = page_links([stem for stem, _ in notebooks])
    sentences = "".join(f"<li>{esc(sentence(r, ctx.la_name, ctx.region_name, ctx.period, ctx.previous))}</li>"
                        for _, r in summary.iterrows())
    contents = "".join(
        f"<li><a href='{esc(stem)}.html'>{esc(heading)}</a>{' (includes synthetic data)' if stem in page_items and page_items[stem].synthetic else ''}"
        f" · <a href='{esc(stem)}_with_code.html'>with code</a> · "
        f"<a href='{esc(stem)}.ipynb'>notebook</a></li>" for stem, heading in notebooks)
    figures = "".join(_figure(item) for item in items.get("chart", {}).values())
    table_list = "".join(
        f"<li><a href='tables/{esc(t)}.csv'>{esc(_title(table_items.get(t), t))}</a>"
        f" ({esc(t)}.csv){' - <strong>synthetic data</strong>' if t in table_items and table_items[t].synthetic else ''}</li>"
        for t in tables)
    note = ("<p>Some pages also show a synthetic county (invented records standing in for a CIN "
            "Census return) to show what child-level analysis gives; those figures are flagged "
            "where they appear and kept out of this summary.</p>" if ctx.synthetic else "")
    body = f"""<h1>Child protection in {esc(ctx.la_name)}, year ending 31 March {esc(ctx.period[:2] + ctx.period[-2:])}</h1>
<p class=cpstats-meta>Generated {esc(ctx.generated)} · Data: {esc(ctx.vintage)}</p>
<h2 id=summary>Summary: {esc(ctx.period)} against England, {esc(ctx.region_name)} and statistical neighbours</h2>
{summary_table(summary, ctx.la_name, ctx.region_name)}
<p>Published figures only. "Beyond chance" means a test of the difference from England gives
p &lt; {ALPHA} (95% intervals on the pages); "no test" where DfE does not publish the counts a test needs.</p>
<h2 id=in-words>In words</h2><ul>{sentences}</ul>
{note}<h2 id=contents>Contents</h2><ul>{contents}
<li><a href='{APPENDIX}'>Appendix: every figure the report states, with its source</a></li>
<li><a href='tables.xlsx'>All tables in one workbook (tables.xlsx)</a> ·
<a href='results.csv'>every figure as data (results.csv)</a></li></ul>
<h2 id=tables>Tables</h2><ul>{table_list}</ul>
<h2 id=figures>Figures</h2><div>{figures}</div>"""
    title = f"Child protection in {ctx.la_name}, {ctx.period}: summary"
    return _page(title, nav_bar(links, "index.html"), body)


def _title(item: Item | None, name: str) -> str:
    return item.title.rstrip(":") if item is not None and item.title else name


def _figure(item: Item) -> str:
    esc = html.escape
    flag = "<strong>Synthetic data.</strong> " if item.synthetic else ""
    css = " class=synthetic" if item.synthetic else ""
    return (f"<figure{css}><a href='figures/{esc(item.name)}.png'><img src='figures/"
            f"{esc(item.name)}.png' alt='{esc(item.alt or item.title)}'></a>"
            f"<figcaption>{flag}{esc(item.title)}</figcaption></figure>")


def appendix_page(ctx: Context, results: pd.DataFrame, notebooks: Sequence[str]) -> str:
    """``appendix.html``: every figure the report states, with its area, period, source and
    note (synthetic rows marked)."""
    esc = html.escape
    rows = []
    frame = results.sort_values(["theme", "measure", "geography_level", "period"], kind="stable")
    for row in frame.itertuples(index=False):
        value = format_value(row.value, row.unit, registry.decimals(row.measure)
                             if registry.is_registered(row.measure) else None,
                             marker=row.marker if pd.notna(row.marker) else None)
        interval = (f"{_num(row.lower_95)} to {_num(row.upper_95)}" if pd.notna(row.lower_95)
                    else f"{_num(row.lower_80)} to {_num(row.upper_80)} (80%)"
                    if pd.notna(row.lower_80) else "")
        breakdown = ("" if row.breakdown == "total" else
                     str(row.breakdown).replace("=", ": ").replace(";", "; ").replace("_", " "))
        note = "" if pd.isna(row.note) else str(row.note)
        css = " class=synthetic" if row.source == "synthetic" else ""
        cells = (registry.label(row.measure), breakdown, str(row.geography_name), str(row.period),
                 value, interval, SOURCE_WORDS.get(row.source, str(row.source)), note,
                 THEME_LABELS.get(str(row.theme)[:2], str(row.theme)))
        rows.append(f"<tr{css}>" + "".join(
            f"<td{' class=n' if i in (4, 5) else ''}>{esc(c)}</td>" for i, c in enumerate(cells))
            + "</tr>")
    head = ("Figure", "Breakdown", "Area", "Period", "Value", "Interval (95% unless shown)",
            "Source", "Note", "Page")
    header = "".join(f"<th scope=col>{esc(h)}</th>" for h in head)
    synthetic = (results["source"] == "synthetic").any()
    body = (f"<h1>Appendix: every figure the report states</h1>"
            f"<p class=cpstats-meta>{esc(ctx.la_name)}, {esc(ctx.period)} · Data: "
            f"{esc(ctx.vintage)}</p><p>One row per figure stated on the pages, with where it "
            f"came from. The same figures as data: <a href='results.csv'>results.csv</a>."
            f"{' Rows from the synthetic county are shaded: invented records, no real child.' if synthetic else ''}"
            f"</p><table class=cpstats><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}"
            f"</tbody></table>")
    return _page(f"Appendix: every figure - {ctx.la_name}, {ctx.period}",
                 nav_bar(page_links(notebooks), APPENDIX), body, synthetic=bool(synthetic))


def _num(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}".rstrip("0").rstrip(".")


def without_empty_sections(notebook):  # noqa: ANN001, ANN201 -- nbformat.NotebookNode
    """The notebook without the markdown cells that introduce a section showing nothing in
    this run (the code cell right after the heading, the section's call, has no output): a
    reader's page has no heading with nothing under it, and the page's end says what was left
    out and why."""
    cells, kept = notebook.cells, []
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("##"):
            call = next((c for c in cells[i + 1:i + 2] if c.cell_type == "code"), None)
            if call is not None and not call.get("outputs"):
                continue
        kept.append(cell)
    notebook.cells = kept
    return notebook


def notebook_heading(path: Path) -> str:
    """The first markdown heading of a notebook (its page title)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def write_pages(folder: Path, run, results: pd.DataFrame,  # noqa: ANN001
                notebooks: Sequence[Path]) -> Context:
    """Write ``index.html`` and ``appendix.html`` into a report folder; return the header
    facts (the workbook's notes use them too)."""
    items = {kind: read_meta(folder, kind) for kind in ("page", "table", "chart")}
    ctx, facts = context(run, items)
    summary = board_summary(facts, results, la_code=ctx.la_code, period=ctx.period,
                            previous=ctx.previous, region_code=ctx.region_code,
                            neighbours=ctx.neighbours)
    headed = [(n.stem, notebook_heading(folder / n.name) if (folder / n.name).exists()
               else n.stem) for n in notebooks]
    tables = [p.stem for p in sorted((folder / "tables").glob("*.csv"))]
    (folder / "index.html").write_text(index_page(ctx, summary, headed, items, tables),
                                       encoding="utf-8")
    (folder / APPENDIX).write_text(appendix_page(ctx, results, [s for s, _ in headed]),
                                   encoding="utf-8")
    return ctx
