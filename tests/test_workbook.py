"""tables.xlsx: sheet names that match the CSVs, numbers stored as numbers, notes and contents."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from cpstats import workbook
from cpstats.workbook import SheetInfo, cell, short_name, split_intervals


@pytest.mark.parametrize("text, value, number_format", [
    ("84.6%", 0.846, "0.0%"),
    ("1.00", 1.0, "#,##0.00"),
    ("16,180", 16180, "#,##0"),
    ("< 0.001", 0.001, '"< "0.000'),
    ("-0.04", -0.04, "#,##0.00"),
    ("c", "c", None),
    ("", None, None),
    ("White Irish", "White Irish", None),
])
def test_a_printed_cell_becomes_a_number_with_its_published_precision(text, value,
                                                                       number_format):
    got, fmt = cell(text)
    assert got == pytest.approx(value) if isinstance(value, float) else got == value
    assert fmt == number_format


def test_long_table_names_get_a_short_name_that_fits_a_sheet():
    assert short_name("01_reviews_by_month") == "01_reviews_by_month"
    long = "03_children_by_ethnicity_and_decision_point"
    assert short_name(long) == "03_children_by_ethnicity_stage"
    for name in (long, "03_report_ethnicity_vs_population", "03_child_population_by_ethnicity"):
        assert len(short_name(name)) <= workbook.MAX_SHEET


def test_intervals_become_two_numeric_columns():
    frame = pd.DataFrame({"Group": ["White British", "White Irish", "Mixed"],
                          "Relative rate": ["1.00", "1.34 (0.89 to 2.01)", "c"],
                          "95% interval": ["32.1 to 40.0", "-0.04 to 6.86", "c"]})
    data = split_intervals(frame)
    assert list(data.columns) == ["Group", "Relative rate", "Relative rate: lower",
                                  "Relative rate: upper", "95% interval: lower",
                                  "95% interval: upper"]
    assert data.loc[1].tolist() == ["White Irish", "1.34", "0.89", "2.01", "-0.04", "6.86"]
    assert data.loc[2, "95% interval: upper"] == "c"  # suppressed stays suppressed
    assert pd.isna(data.loc[0, "Relative rate: lower"])  # the reference group has none


def _tables(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "tables"
    folder.mkdir()
    pd.DataFrame({"Time on the plan": ["3 months or less", "2 years or more"],
                  "Buckinghamshire": ["203", "c"], "England": ["16,180", "1,520"]}).to_csv(
        folder / "01_cp_by_duration_dfe.csv", index=False)
    pd.DataFrame({"Month": ["2017-01", "2017-02"], "Reviews on time": ["84.6%", "100.0%"],
                  "p": ["< 0.001", "0.052"]}).to_csv(folder / "01_reviews_by_month.csv",
                                                     index=False)
    return sorted(folder.glob("*.csv"))


def test_the_workbook_has_contents_notes_and_formatted_sheets(tmp_path):
    tables = _tables(tmp_path)
    path = tmp_path / "tables.xlsx"
    workbook.write_workbook(tables, path, notes={"Source and vintage": "DfE, to 2021-22",
                                                 "Suppression": workbook.SUPPRESSION_NOTE},
                            info={"01_reviews_by_month": SheetInfo("Reviews by month", True)})
    book = load_workbook(path)
    assert book.sheetnames == ["contents", "notes", "01_cp_by_duration_dfe",
                               "01_reviews_by_month"]
    # Sheet names are the CSVs' names, each linked from the contents sheet.
    contents = book["contents"]
    assert "synthetic" in str(contents["A1"].value).lower()
    linked = {c.value: c.hyperlink.location for c in contents["A"] if c.hyperlink}
    assert linked == {"01_cp_by_duration_dfe": "'01_cp_by_duration_dfe'!A1",
                      "01_reviews_by_month": "'01_reviews_by_month'!A1"}
    notes = {r[0].value: r[1].value for r in book["notes"].iter_rows(min_row=2)}
    assert notes["Source and vintage"] == "DfE, to 2021-22" and "c" in notes["Suppression"]
    # A published table: title row, frozen and filtered header, numbers as numbers, c as text.
    dfe = book["01_cp_by_duration_dfe"]
    assert dfe.freeze_panes == "A3" and dfe.auto_filter.ref == "A2:C4"
    assert [c.value for c in dfe[2]] == ["Time on the plan", "Buckinghamshire", "England"]
    assert dfe["B3"].value == 203 and dfe["C3"].value == 16180
    assert dfe["C3"].number_format == "#,##0"
    assert dfe["B4"].value == "c" and dfe["B4"].data_type == "s"
    assert dfe.column_dimensions["A"].width >= len("3 months or less")
    # A synthetic table says so in its first row; percentages and p-values are numbers.
    reviews = book["01_reviews_by_month"]
    assert "SYNTHETIC" in reviews["A1"].value
    assert reviews["B3"].value == pytest.approx(0.846) and reviews["B3"].number_format == "0.0%"
    assert reviews["C3"].value == pytest.approx(0.001)
    assert reviews["C3"].number_format == '"< "0.000'
    text_cells = [c.value for row in reviews.iter_rows(min_row=3) for c in row
                  if isinstance(c.value, str)]
    assert text_cells == ["2017-01", "2017-02"]


def test_a_name_too_long_for_a_sheet_is_refused(tmp_path):
    table = tmp_path / ("x" * 40 + ".csv")
    table.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="longer than 31"):
        workbook.write_workbook([table], tmp_path / "t.xlsx", notes={})
