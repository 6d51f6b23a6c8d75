"""Reading a published CSV as text, with errors that name the file and row.

Every column is read as a string (codes such as ``825`` must not become
``825.0``) and blank cells as missing; the readers convert values themselves
so a bad cell can be reported with its row and column.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pandas as pd

from cpstats.errors import InputError, Problem


def read_text_csv(path: Path, name: str, what: str = "data rows") -> pd.DataFrame:
    """Read ``path`` (plain or ``.gz``) with every column as text.

    Parameters
    ----------
    path
        The CSV file.
    name
        How errors name the file (usually its path as the user gave it).
    what
        What the rows hold, for the message about an empty file ("figures", "data rows").

    Raises
    ------
    InputError
        Missing, empty, undecodable or truncated files, and rows with fewer fields
        than the header (each such row named).
    """
    if not path.is_file():
        raise InputError(Problem(file=name, expected="an existing CSV file"))
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False,
                            na_values=[""], on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise InputError(Problem(file=name, expected=f"a header row and {what}; the file is empty")) from None
    except UnicodeDecodeError:
        raise InputError(Problem(file=name, expected="a UTF-8 text file")) from None
    except (pd.errors.ParserError, EOFError, OSError) as error:
        raise InputError(Problem(file=name, value=str(error).strip()[:200],
                                 expected="a complete CSV file with the header's number of fields "
                                 "on every row (truncated, or a quote unbalanced?)")) from None
    if frame.empty:
        raise InputError(Problem(file=name, expected=f"at least one row of {what} below the header"))
    short = short_row_problems(path, name, len(frame.columns))
    if short:
        raise InputError(short)
    return frame


def short_row_problems(path: Path, name: str, width: int) -> list[Problem]:
    """Rows with fewer fields than the header: pandas pads them with blanks, which would
    hide a truncated file."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        lengths = [len(fields) for fields in csv.reader(handle)]
    return [
        Problem(file=name, row=number, value=f"{n} fields",
                expected=f"{width} fields as in the header (is the file truncated?)")
        for number, n in enumerate(lengths, start=1) if 0 < n < width
    ]
