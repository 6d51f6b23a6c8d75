"""``tables.xlsx``: every published table of a report as a sheet an analyst can work with.

One sheet per ``tables/*.csv``, named exactly as the CSV (table names are kept short enough for
Excel's 31 characters: :data:`MAX_SHEET`), with a ``contents`` sheet linking to each and a
``notes`` sheet (source, data vintage, whether any figure comes from invented records, the
suppression rule). In each table sheet the first row says what the table is (and, for tables
built from the synthetic county, that no real child is in it), the header is frozen and
filtered, columns are sized to their contents, and numbers are numbers: ``84.6%`` is stored as
0.846 shown as a percentage, ``1.00`` as 1 shown with two decimals, ``< 0.001`` as 0.001 shown
with its ``<``. Text cells hold only suppression markers (``c``) and labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: Excel's limit on a sheet name; every table CSV's name fits (checked when it is written).
MAX_SHEET = 31
CONTENTS, NOTES = "contents", "notes"
#: Published markers, shown as text where a value is withheld or does not apply.
MARKERS = ("c", "x", "z", "u", ":", "..", "low")
SYNTHETIC_BANNER = ("SYNTHETIC DATA: figures computed from the synthetic county (generated "
                    "records, no real child). They illustrate the method only.")
_NUMBER = re.compile(r"^(?P<lt><\s*)?(?P<sign>[-+])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)"
                     r"(?:\.(?P<dec>\d+))?(?P<pct>%)?$")
_MAX_WIDTH = 60


#: The short name scheme: words abbreviated, in this order, until a name fits a sheet.
ABBREVIATIONS = (("_and_", "_"), ("decision_point", "stage"), ("ethnicity", "eth"),
                 ("population", "pop"), ("children", "ch"), ("correlation", "corr"),
                 ("progression", "prog"), ("report", "rep"), ("regression", "reg"),
                 ("by_", ""), ("_vs_", "_"))
_INTERVAL = re.compile(r"^(?P<value>-?[\d,.]+ )?\(?(?P<lo>-?[\d,.]+) to (?P<hi>-?[\d,.]+)\)?$")


def short_name(stem: str) -> str:
    """The name of a table's CSV and sheet: ``stem`` itself when it fits Excel's 31
    characters, else shortened by :data:`ABBREVIATIONS` (``03_children_by_ethnicity_and_
    decision_point`` -> ``03_ch_eth_stage``), so the CSV and its sheet keep one name."""
    for long, short in ABBREVIATIONS:
        if len(stem) <= MAX_SHEET:
            break
        stem = stem.replace(long, short)
    return stem[:MAX_SHEET]


def split_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as data: each column of intervals printed ``"a to b"`` (or ``"v (a to b)"``)
    becomes numeric columns (``<column>: lower``, ``<column>: upper``, and the value), so a
    spreadsheet can use them; markers and blanks stay as they are."""
    out = frame.copy()
    for column in [c for c in frame.columns if frame[c].dtype == object or
                   pd.api.types.is_string_dtype(frame[c])]:
        text = frame[column].astype("string").fillna("").str.strip()
        parts = text.str.extract(_INTERVAL)
        filled = text.ne("") & ~text.isin(MARKERS)
        number = text.str.fullmatch(r"-?[\d,.]+")
        if not parts["lo"][filled].notna().any() or not (parts["lo"].notna() | number)[filled].all():
            continue
        position = list(out.columns).index(column)
        out = out.drop(columns=column)
        pieces = {f"{column}: lower": parts["lo"], f"{column}: upper": parts["hi"]}
        if parts["value"][filled].notna().any():  # "v (a to b)": the value keeps the name
            value = parts["value"].str.strip().where(parts["lo"].notna(), text.where(number))
            pieces = {str(column): value, **pieces}
        for offset, (name, values) in enumerate(pieces.items()):
            kept = values.str.replace(",", "", regex=False).where(filled, text.where(~filled))
            out.insert(position + offset, name, kept)
    return out


@dataclass(frozen=True)
class SheetInfo:
    """What the contents sheet says of one table."""

    title: str = ""
    synthetic: bool = False


def cell(text: str) -> tuple[object, str | None]:
    """A CSV cell as an Excel value and its number format.

    ``"1,234"`` -> ``(1234, "#,##0")``, ``"84.6%"`` -> ``(0.846, "0.0%")``, ``"< 0.001"`` ->
    ``(0.001, '"< "0.000')``, ``"c"`` -> ``("c", None)``, ``""`` -> ``(None, None)``.
    """
    text = text.strip()
    match = _NUMBER.match(text)
    if not match:
        return (text or None), None
    digits = match["int"].replace(",", "")
    decimals = len(match["dec"] or "")
    value = float(f"{match['sign'] or ''}{digits}.{match['dec'] or '0'}")
    places = "0" + ("." + "0" * decimals if decimals else "")
    if match["pct"]:
        return value / 100, places + "%"
    number_format = ('"< "' + places) if match["lt"] else "#,##" + places
    return (int(value) if not decimals and not match["lt"] else value), number_format


SUPPRESSION_NOTE = ("Counts from 1 to 5 derived from child-level records are shown as c "
                    "(with secondary suppression where a total would reveal them); figures DfE "
                    "published are shown as published, with DfE's own markers (c suppressed, x "
                    "not available, z not applicable, low: fewer than 0.5).")


def notes(context) -> dict[str, str]:  # noqa: ANN001 -- cpstats.pages.Context
    """The notes sheet of a report's workbook: who, when, from what, and the rules applied."""
    synthetic = ("Yes: sheets marked SYNTHETIC on the contents sheet are computed from the "
                 "synthetic county (generated records, no real child); they illustrate the "
                 "method only." if context.synthetic else
                 "No: every table comes from published figures or the council's own records.")
    return {"Council": f"{context.la_name} (LA {context.la_code})",
            "Year": f"{context.period} (year ending 31 March; nothing later is shown)",
            "Generated": context.generated,
            "Source and vintage": context.vintage,
            "Synthetic data": synthetic,
            "Suppression": SUPPRESSION_NOTE,
            "Intervals": "An interval is two columns (lower, upper); 95% unless its name says 80%.",
            "Numbers": "Stored as numbers, shown at the precision published; percentages as "
                       "percentages; p-values below the shown precision as < 0.001.",
            "Sheet names": f"Each sheet has the name of its CSV file in tables/ (names fit "
                           f"Excel's {MAX_SHEET} characters)."}


def write_workbook(tables: Sequence[Path], path: Path, *, notes: Mapping[str, str],
                   info: Mapping[str, SheetInfo] | None = None) -> None:
    """Write every table CSV as a sheet of ``path``, after a contents and a notes sheet.

    Parameters
    ----------
    tables
        The report's ``tables/*.csv`` files, in order.
    path
        The workbook to write.
    notes
        Lines of the notes sheet (what -> text): source, vintage, synthetic or not, suppression.
    info
        Per table (CSV stem): its title and whether it was built from synthetic records.

    Raises
    ------
    ValueError
        When a table's name is longer than an Excel sheet name may be.
    """
    from openpyxl import Workbook

    info = info or {}
    too_long = [t.stem for t in tables if len(t.stem) > MAX_SHEET]
    if too_long:
        raise ValueError(f"table names longer than {MAX_SHEET} characters: {too_long}")
    book = Workbook()
    contents = book.active
    contents.title = CONTENTS
    _notes_sheet(book.create_sheet(NOTES), notes)
    rows = []
    for table in tables:
        meta = info.get(table.stem, SheetInfo())
        frame = pd.read_csv(table, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        _table_sheet(book.create_sheet(table.stem), frame, meta)
        rows.append((table.stem, meta.title, "synthetic" if meta.synthetic else "published",
                     f"tables/{table.name}", len(frame)))
    _contents_sheet(contents, rows, any(r[2] == "synthetic" for r in rows))
    book.save(path)


def _contents_sheet(sheet, rows: Sequence[tuple], synthetic: bool) -> None:  # noqa: ANN001
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    start = 1
    if synthetic:
        _banner(sheet, "Some sheets are built from synthetic records (marked below). "
                + SYNTHETIC_BANNER, 5)
        start = 2
    header = ("Sheet", "Table", "Data", "CSV file", "Rows")
    for column, name in enumerate(header, 1):
        sheet.cell(start, column, name).font = Font(bold=True)
    for offset, (name, title, data, csv, count) in enumerate(rows, start + 1):
        link = sheet.cell(offset, 1, name)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1")
        link.font = Font(underline="single", color="1D70B8")
        for column, value in enumerate((title, data, csv, count), 2):
            sheet.cell(offset, column, value)
    _finish(sheet, start, len(header), start + len(rows))


def _notes_sheet(sheet, notes: Mapping[str, str]) -> None:  # noqa: ANN001
    from openpyxl.styles import Alignment, Font

    for column, name in enumerate(("Note", "Detail"), 1):
        sheet.cell(1, column, name).font = Font(bold=True)
    for row, (what, text) in enumerate(notes.items(), 2):
        sheet.cell(row, 1, what)
        sheet.cell(row, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
    _finish(sheet, 1, 2, 1 + len(notes))
    sheet.column_dimensions["B"].width = 100


def _table_sheet(sheet, frame: pd.DataFrame, meta: SheetInfo) -> None:  # noqa: ANN001
    from openpyxl.styles import Font

    title = meta.title or sheet.title
    if meta.synthetic:
        _banner(sheet, f"{title}. {SYNTHETIC_BANNER}", max(1, len(frame.columns)))
    else:
        sheet.cell(1, 1, title).font = Font(bold=True)
    for column, name in enumerate(frame.columns, 1):
        sheet.cell(2, column, str(name)).font = Font(bold=True)
    for row, values in enumerate(frame.itertuples(index=False), 3):
        for column, text in enumerate(values, 1):
            value, number_format = cell(str(text))
            target = sheet.cell(row, column, value)
            if number_format:
                target.number_format = number_format
    _finish(sheet, 2, len(frame.columns), 2 + len(frame))


def _banner(sheet, text: str, span: int) -> None:  # noqa: ANN001
    from openpyxl.styles import Font, PatternFill

    first = sheet.cell(1, 1, text)
    first.font = Font(bold=True, color="FFFFFF")
    first.fill = PatternFill("solid", fgColor="D4351C")
    for column in range(2, span + 1):
        sheet.cell(1, column).fill = PatternFill("solid", fgColor="D4351C")


def _finish(sheet, header_row: int, columns: int, last_row: int) -> None:  # noqa: ANN001
    """Freeze the rows down to the header, filter on it, and size each column to its text."""
    from openpyxl.utils import get_column_letter

    if columns == 0:
        return
    sheet.freeze_panes = sheet.cell(header_row + 1, 1).coordinate
    last = get_column_letter(columns)
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(last_row, header_row)}"
    for column in range(1, columns + 1):
        letter = get_column_letter(column)
        texts = [_shown(sheet.cell(r, column)) for r in range(header_row, last_row + 1)]
        sheet.column_dimensions[letter].width = min(_MAX_WIDTH, max(map(len, texts)) + 3)


def _shown(target) -> str:  # noqa: ANN001
    value = target.value
    if isinstance(value, float):
        return f"{value:,.4f}"
    return "" if value is None else str(value)
