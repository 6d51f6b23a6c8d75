"""The national view of a batch: every finished report under an output root in one results
file (``national/results.parquet`` and ``.csv``) and one page linking every report.

Only complete reports are read (a folder carrying its inputs stamp,
:data:`cpstats.report.STAMP_FILE`, which the runner writes last): a failed or half-written
report is never in it. Each LA-year appears once. The folder is built aside and moved into place,
so a reader never sees half of it.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

FOLDER = "national"
#: Columns naming the report a results row comes from (its LA and year).
REPORT_COLUMNS = ["report_la_code", "report_la_name", "report_year"]


def report_folders(root: Path) -> list[Path]:
    """Complete report folders ``<root>/<la>/<year>/`` (those the runner stamped)."""
    from cpstats.report import STAMP_FILE

    return sorted(p.parent for p in Path(root).glob(f"*/*/{STAMP_FILE}")
                  if p.parent.parent.name != FOLDER)


def collect(root: Path) -> pd.DataFrame:
    """Every complete report's ``results.csv`` under ``root``, with the report's LA and year in
    :data:`REPORT_COLUMNS` (from the LA's own results row, else the folder's names)."""
    from cpstats.results import read_results

    frames = []
    for folder in report_folders(root):
        results = read_results(folder / "results.csv")
        parameters = _parameters(folder)
        frames.append(results.assign(report_la_code=parameters.get("la", ""),
                                     report_la_name=_la_name(parameters.get("la")),
                                     report_year=parameters.get("year", folder.name)))
    if not frames:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    every = pd.concat(frames, ignore_index=True)
    return every[REPORT_COLUMNS + [c for c in every.columns if c not in REPORT_COLUMNS]]


def check_each_once(folder: Path, expected: pd.DataFrame | None = None, *,
                    unasked: bool = True) -> list[str]:
    """What is wrong with a national results file: an LA-year whose own count of children on
    plans (stated once by each of several themes of its report) is missing or stated twice by a
    theme (two reports of it), or, given ``expected`` (columns ``report_la_code`` and
    ``report_year``, e.g. the planned runs), an LA-year missing from it or there unasked. Empty
    when each report is there exactly once.

    Parameters
    ----------
    folder
        ``<root>/national`` as :func:`write` left it (``results.parquet`` is read).
    expected
        The LA-years the batch was for; ``None`` checks only the reports in the file.
    unasked
        Name LA-years held beyond ``expected`` too; ``False`` when the output root may hold
        reports of earlier batches.

    Returns
    -------
    list of str
        One line per problem, naming the LA and year.
    """
    results = pd.read_parquet(Path(folder) / "results.parquet")
    key = ["report_la_code", "report_year"]
    own = results[(results["measure"] == "cp_plans_at_31_march") & (results["source"] == "dfe")
                  & (results["breakdown"] == "total")
                  & (results["geography_code"] == results["report_la_code"])
                  & (results["period"] == results["report_year"])]
    # Several themes state it, each once per report: a theme stating it twice is a report twice.
    twice = own.groupby([*key, "theme"]).size().groupby(key).max()
    counts = twice.reindex(pd.MultiIndex.from_frame(results[key].drop_duplicates()), fill_value=0)
    problems = [f"{la} {year}: in the national file {n} times" if n else
                f"{la} {year}: its report states no count of children on plans"
                for (la, year), n in counts.items() if n != 1]
    if expected is not None:
        asked = set(map(tuple, expected[key].astype(str).to_numpy()))
        held = set(map(tuple, results[key].astype(str).drop_duplicates().to_numpy()))
        problems += [f"{la} {year}: no report in the national file" for la, year in
                     sorted(asked - held)]
        problems += [f"{la} {year}: in the national file but not asked for" for la, year in
                     sorted(held - asked) if unasked]
    return problems


def _parameters(folder: Path) -> dict[str, str]:
    """The LA and year a report was run for (its stamp)."""
    from cpstats.report import read_stamp

    return {"year": folder.name, **read_stamp(folder)}


def _la_name(code: str | None) -> str:
    from cpstats import geography

    try:
        return geography.la_name(code) if code else ""
    except Exception:  # noqa: BLE001 -- an LA the code table does not know keeps its code
        return str(code)


def write(root: Path, dfe_dir: str | Path | None = None,
          population_dir: str | Path | None = None) -> Path:
    """Write ``<root>/national/`` (results.parquet, results.csv, index.html and a funnel plot of
    every council per measure and year) from every complete report under ``root``, replacing
    an earlier one only once the new one is whole. The funnels are drawn from the release in
    ``dfe_dir`` (``None``: the shipped extract) and ``population_dir``."""
    root = Path(root)
    results = collect(root)
    temp = Path(tempfile.mkdtemp(prefix=f".{FOLDER}.", suffix=".tmp", dir=root))
    try:
        results.to_parquet(temp / "results.parquet", index=False)
        results.to_csv(temp / "results.csv", index=False, lineterminator="\n")
        figures = funnel_figures(results, temp, dfe_dir, population_dir)
        (temp / "index.html").write_text(index_page(root, results, figures), encoding="utf-8")
        from cpstats.report import install

        install(temp, root / FOLDER)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return root / FOLDER


def funnel_figures(results: pd.DataFrame, folder: Path, dfe_dir: str | Path | None,
                   population_dir: str | Path | None) -> list[Path]:
    """``figures/funnel_<measure>_<year>.png`` for each year of the reports: every council
    against its size with the benchmarking theme's limits (:func:`themes.benchmarking.funnels`),
    no council highlighted."""
    import dataclasses

    from cpstats import plots
    from cpstats.inputs import resolve
    from cpstats.themes import benchmarking
    from cpstats.themes.base import ThemeData

    written = []
    for year, rows in results.groupby("report_year", sort=True) if len(results) else []:
        # the council with most children on plans: its figures are never suppressed, so every
        # funnel is drawn (the council itself is not highlighted)
        stock = rows[(rows["measure"] == "cp_plans_at_31_march")
                     & (rows["geography_code"] == rows["report_la_code"])]
        la = (stock.sort_values("value")["report_la_code"].iloc[-1] if len(stock)
              else rows["report_la_code"].iloc[0])
        try:
            charts = benchmarking.funnels(ThemeData(resolve(
                str(la), str(year), dfe_dir=dfe_dir, population_dir=population_dir))).charts
        except Exception:  # noqa: BLE001 -- the reports are written; the page goes without
            continue
        for chart in charts:
            plain = dataclasses.replace(
                chart, frame=chart.frame.assign(highlight=False),
                title=f"Every council: {chart.options['ylabel']}, {year}",
                options={**chart.options, "la": "_nolegend_"})
            figure = plain.figure()
            written.append(plots.save(figure, f"{chart.name}_{year}", folder))
            _close(figure)
    return written


def _close(figure: object) -> None:
    import matplotlib.pyplot as plt

    plt.close(figure)  # type: ignore[arg-type]


def index_page(root: Path, results: pd.DataFrame, figures: list[Path] | None = None) -> str:
    """A page linking every report under ``root``, by year then LA, with its count of children on
    plans at 31 March as published."""
    esc = html.escape
    reports = report_folders(root)
    plans = results[(results["measure"] == "cp_plans_at_31_march") & (results["source"] == "dfe")
                    & (results["breakdown"] == "total")
                    & (results["geography_code"] == results["report_la_code"])
                    & (results["period"] == results["report_year"])] if len(results) else results
    stock = plans.drop_duplicates(["report_la_code", "report_year"]).set_index(
        ["report_la_code", "report_year"])["value"] if len(plans) else pd.Series(dtype=float)
    rows = []
    for folder in reports:
        parameters = _parameters(folder)
        code, year = parameters.get("la", ""), parameters.get("year", folder.name)
        value = stock.get((code, year))
        shown = "" if value is None or pd.isna(value) else f"{value:,.0f}"
        link = os.path.relpath(folder / "index.html", root / FOLDER)
        rows.append((year, _la_name(code), f"<tr><td>{esc(year)}</td><td><a href='{esc(link)}'>"
                     f"{esc(_la_name(code))}</a></td><td>{esc(code)}</td>"
                     f"<td class=n>{shown}</td></tr>"))
    body = "".join(row for *_, row in sorted(rows))
    years = sorted({r[0] for r in rows})
    pictures = "".join(f"<a href='figures/{esc(p.name)}'><img src='figures/{esc(p.name)}' "
                       f"alt='{esc(p.stem)}' width=420></a>" for p in figures or [])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Child protection: every council</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;color:#0b0c0c}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.3em .6em;text-align:left}}
td.n{{text-align:right}}</style></head><body>
<h1>Child protection: every council</h1>
<p>{len(reports)} reports ({len({r[1] for r in rows})} councils; years {esc(', '.join(years))}).
Every figure each report states is in <a href="results.parquet">results.parquet</a>
(<a href="results.csv">CSV</a>), one block of rows per report (columns
{', '.join(REPORT_COLUMNS)}).</p>
<table><tr><th>year</th><th>council</th><th>LA</th><th>children on plans at 31 March (DfE)</th>
</tr>{body}</table>
<h2>Every council against its size</h2>
<p>Funnel plots from DfE's published counts: each council's value against its denominator, with
95% and 99.8% limits around all councils pooled, widened where councils differ by more than
chance alone gives (each report's benchmarking section says how).</p>
<div>{pictures}</div>
</body></html>
"""
