"""Facts shipped with the project: the figures transcribed from the seed report.

``data/seed/report_figures.csv`` is a facts table written out as CSV (the
:data:`cpstats.facts.FACT_COLUMNS` plus ``note``). :func:`read_facts_csv` reads
any such file strictly: every problem is reported with its row and column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpstats import facts as F
from cpstats import geography
from cpstats.checks import register_checker
from cpstats.errors import InputError, Problem, display_path
from cpstats.io.textcsv import read_text_csv
from cpstats.paths import SEED_DIR

REPORT_FIGURES = SEED_DIR / "report_figures.csv"
#: Columns of a facts CSV, in order (``note`` optional on read, always written).
FACTS_CSV_COLUMNS = (*F.FACT_COLUMNS, F.NOTE_COLUMN)
#: A row is one figure: these columns identify it.
FACT_KEY = ("geography_code", "period", "measure", "breakdown", "source")


def read_facts_csv(path: str | Path) -> pd.DataFrame:
    """Read a facts table stored as CSV, checking every row against the schema.

    Parameters
    ----------
    path
        A CSV with the columns :data:`FACTS_CSV_COLUMNS` (``note`` may be absent).

    Returns
    -------
    pandas.DataFrame
        A validated facts table in file order.

    Raises
    ------
    InputError
        Listing every problem: missing file, empty or truncated file, unknown or missing
        columns, non-numeric values, bad codes, duplicate figures.
    """
    name = display_path(path)
    raw = _read_raw(Path(path), name)
    found = _column_problems(raw, name)
    if found:
        raise InputError(found)
    found = _value_problems(raw, name) + _duplicate_problems(raw, name) + _la_problems(raw, name)
    if found:
        raise InputError(found)
    facts = F.conform(raw.assign(value=pd.to_numeric(raw["value"])))
    found = F.problems(facts, name)
    if found:
        raise InputError(found)
    return facts


def read_report_figures(path: str | Path | None = None) -> pd.DataFrame:
    """The figures transcribed from the seed report (Buckinghamshire 2016-17), as facts.

    Parameters
    ----------
    path
        The CSV to read; ``None`` means the shipped ``data/seed/report_figures.csv``.

    Returns
    -------
    pandas.DataFrame
        Facts with ``source`` "report" (plus "derived" for the one computed gap row) and a
        ``note`` citing the report section each figure comes from.

    Examples
    --------
    >>> from cpstats.facts import value_of
    >>> value_of(read_report_figures(), geography_code="825", period="2016-17",
    ...          measure="cp_plans_at_31_march")
    564.0
    """
    return read_facts_csv(REPORT_FIGURES if path is None else path)


def looks_like_facts_csv(path: str | Path) -> bool:
    """True when ``path`` is a CSV whose header is a facts table's (for ``cpstats check``)."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    try:
        header = pd.read_csv(path, dtype=str, encoding="utf-8-sig", nrows=0).columns
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return False
    return set(F.FACT_COLUMNS) <= set(header)


def _read_raw(path: Path, name: str) -> pd.DataFrame:
    return read_text_csv(path, name, what="figures")


def _column_problems(raw: pd.DataFrame, name: str) -> list[Problem]:
    columns = list(raw.columns)
    missing = [c for c in F.FACT_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in FACTS_CSV_COLUMNS]
    found = [Problem(file=name, row=1, column=c, expected="this column in the header (facts schema)")
             for c in missing]
    found += [Problem(file=name, row=1, column=c, value=c,
                      expected=f"only the facts columns {list(FACTS_CSV_COLUMNS)}") for c in unknown]
    return found


def _value_problems(raw: pd.DataFrame, name: str) -> list[Problem]:
    text = raw["value"]
    number = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & number.isna()
    found = [
        Problem(file=name, row=int(i) + 2, column="value", value=str(text.iloc[i]),
                expected="a number, or empty with a marker " + "/".join(F.MARKERS))
        for i in bad.to_numpy().nonzero()[0]
    ]
    why = F.implausible(number, raw["unit"], raw["measure"])
    return found + [Problem(file=name, row=int(i) + 2, column="value", value=str(text.iloc[i]),
                            expected=str(why.iloc[i]))
                    for i in why.notna().to_numpy().nonzero()[0]]


def _duplicate_problems(raw: pd.DataFrame, name: str) -> list[Problem]:
    dup = raw.duplicated(list(FACT_KEY), keep="first")
    return [
        Problem(file=name, row=int(i) + 2, column="measure", value=str(raw["measure"].iloc[i]),
                expected=f"one row per {', '.join(FACT_KEY)} (this figure repeats an earlier row)")
        for i in dup.to_numpy().nonzero()[0]
    ]


def _la_problems(raw: pd.DataFrame, name: str) -> list[Problem]:
    known = set(geography.all_las()["old_la_code"])
    bad = (raw["geography_level"] == "local_authority") & ~raw["geography_code"].isin(known)
    return [
        Problem(file=name, row=int(i) + 2, column="geography_code", value=str(raw["geography_code"].iloc[i]),
                expected="a DfE three-digit LA number (e.g. 825) for a local_authority row")
        for i in bad.to_numpy().nonzero()[0]
    ]


#: Settings a ``--service`` file may give: name -> (measure, unit, lowest, highest).
SERVICE_SETTINGS = {"chair_fte": ("conference_chairs_fte", "fte", 0.1, 500.0),
                    "caseload_target": ("children_per_chair_fte_target", "ratio", 1.0, 1000.0)}


def read_service_settings(path: str | Path, la_code: str, year: int) -> pd.DataFrame:
    """A council's service settings (``--service FILE``) as facts for its LA and year.

    The file is a small CSV with columns ``setting,value`` (``note`` optional), one row per
    setting: ``chair_fte`` (full-time-equivalent conference chairs in post) and
    ``caseload_target`` (children per full-time chair aimed for). Source ``local``.

    Raises
    ------
    InputError
        Naming the row of an unknown setting, a value that is not a positive number in range,
        a repeated setting, or missing columns.
    """
    from cpstats.periods import year_label

    name = display_path(path)
    raw = read_text_csv(Path(path), name, what="settings rows")
    problems = [Problem(file=name, column=c, expected="columns setting,value[,note]")
                for c in ("setting", "value") if c not in raw.columns]
    if problems:
        raise InputError(problems)
    for index, row in raw.iterrows():  # a handful of rows at most
        line = int(index) + 2
        setting = str(row["setting"]).strip()
        if setting not in SERVICE_SETTINGS:
            problems.append(Problem(file=name, row=line, column="setting", value=setting,
                                    expected=f"one of {', '.join(SERVICE_SETTINGS)}"))
            continue
        low, high = SERVICE_SETTINGS[setting][2:]
        value = pd.to_numeric(pd.Series([row["value"]]), errors="coerce").iloc[0]
        if pd.isna(value) or not low <= value <= high:
            problems.append(Problem(file=name, row=line, column="value", value=str(row["value"]),
                                    expected=f"a number from {low:g} to {high:g}"))
    repeated = raw["setting"].str.strip()[raw["setting"].str.strip().duplicated()]
    problems += [Problem(file=name, column="setting", value=s, expected="each setting once")
                 for s in repeated]
    if problems:
        raise InputError(problems)
    settings = raw.assign(setting=raw["setting"].str.strip())
    measure = settings["setting"].map(lambda s: SERVICE_SETTINGS[s][0])
    unit = settings["setting"].map(lambda s: SERVICE_SETTINGS[s][1])
    note = (settings["note"] if "note" in settings.columns
            else pd.Series("", index=settings.index)).fillna("")
    return F.make_facts(pd.DataFrame({
        "geography_level": "local_authority", "geography_code": la_code,
        "geography_name": geography.la_name(la_code), "period": year_label(year),
        "measure": measure, "breakdown": F.TOTAL, "value": pd.to_numeric(settings["value"]),
        "unit": unit, "source": "local",
        F.NOTE_COLUMN: ("service settings file " + Path(path).name + "; " + note).str.rstrip("; "),
    }))


# -- cpstats check ------------------------------------------------------------------------------
def facts_csv_problems(path: str | Path) -> list[Problem]:
    """Every problem in a facts CSV (columns, numbers, the facts schema), without raising."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False,
                        na_values=[""])
    missing = [c for c in F.FACT_COLUMNS if c not in frame.columns]
    if missing:
        return [Problem(file=display_path(path), row=1, column=", ".join(missing),
                        expected="every facts column")]
    numeric = pd.to_numeric(frame["value"], errors="coerce")
    bad = numeric.isna() & frame["value"].notna()
    found = [Problem(file=display_path(path), row=int(i) + 2, column="value", value=str(v),
                     expected="a number or blank") for i, v in frame.loc[bad, "value"].items()]
    return found + F.problems(frame.assign(value=numeric), display_path(path))


register_checker(
    "facts", looks_like_facts_csv, facts_csv_problems,
    "a cpstats facts table (CSV with the facts columns: data/seed, data/reference, results)",
)
