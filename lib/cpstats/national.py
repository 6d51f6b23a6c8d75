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


def write(root: Path) -> Path:
    """Write ``<root>/national/`` (results.parquet, results.csv, index.html) from every complete
    report under ``root``, replacing an earlier one only once the new one is whole."""
    root = Path(root)
    results = collect(root)
    temp = Path(tempfile.mkdtemp(prefix=f".{FOLDER}.", suffix=".tmp", dir=root))
    try:
        results.to_parquet(temp / "results.parquet", index=False)
        results.to_csv(temp / "results.csv", index=False, lineterminator="\n")
        (temp / "index.html").write_text(index_page(root, results), encoding="utf-8")
        from cpstats.report import install

        install(temp, root / FOLDER)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return root / FOLDER


def index_page(root: Path, results: pd.DataFrame) -> str:
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
</body></html>
"""
