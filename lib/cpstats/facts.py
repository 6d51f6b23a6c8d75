"""The tidy facts table: the one schema every figure passes through.

Every aggregate figure -- published, transcribed or derived from child-level
records -- is a row of :data:`FACT_COLUMNS`. ``value`` is float (missing where
the source suppressed or lacked it, with the reason in ``marker``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from cpstats.errors import InputError, Problem

FACT_COLUMNS: tuple[str, ...] = (
    "geography_level",
    "geography_code",
    "geography_name",
    "period",
    "measure",
    "breakdown",
    "value",
    "marker",
    "unit",
    "source",
)
#: Optional free-text column: where a figure came from (report section,
#: population row used for a rate, caveats).
NOTE_COLUMN = "note"

GEOGRAPHY_LEVELS = ("national", "regional", "local_authority")
SOURCES = ("report", "dfe", "derived", "cin_census", "synthetic", "ons", "local")
# ons: population estimates and census; local: the council's own service settings (--service)
UNITS = ("count", "rate", "percent", "ratio", "fte", "minutes", "days", "months", "years")
#: Published markers kept beside a missing value (never turned into 0).
MARKERS = ("c", "x", "z", "u", ":", "..", "low", "k")
#: Breakdown of a figure that is not broken down.
TOTAL = "total"
#: An Ofsted Annex A workbook is a child-level source too (kept apart from the line above).
SOURCES = (*SOURCES, "annex_a")
#: Sources computed from child-level records: their counts of 1 to 5 are never published.
CHILD_LEVEL_SOURCES = ("cin_census", "synthetic", "annex_a")

_PERIOD = re.compile(
    r"^(?P<y1>\d{4})-(?P<y2>\d{2})( Q[1-4])?$"  # 2016-17, 2016-17 Q4
    r"|^\d{4}-(0[1-9]|1[0-2])$"  # 2017-03
    r"|^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"  # 2017-03-31 (a snapshot date)
)
_BREAKDOWN = re.compile(r"^total$|^[a-z0-9_]+=[^;=]+(;[a-z0-9_]+=[^;=]+)*$")


def empty_facts() -> pd.DataFrame:
    """A facts table with no rows and the canonical dtypes."""
    return conform(pd.DataFrame({c: [] for c in FACT_COLUMNS}))


def make_facts(rows: Iterable[Mapping[str, object]] | pd.DataFrame, **defaults: object) -> pd.DataFrame:
    """Build a validated facts table from records, filling ``defaults`` for absent columns.

    Parameters
    ----------
    rows
        Records (or a frame) with some or all of :data:`FACT_COLUMNS` and optionally ``note``.
    **defaults
        Values for columns the rows do not carry, e.g. ``source="dfe"``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FACT_COLUMNS` (plus ``note`` when given), canonical dtypes.
    """
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for column, value in defaults.items():
        if column not in frame.columns:
            frame[column] = value
    if "breakdown" not in frame.columns:
        frame["breakdown"] = TOTAL
    if "marker" not in frame.columns:
        frame["marker"] = pd.NA
    facts = conform(frame)
    validate(facts)
    return facts


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Order columns and set dtypes (strings as pandas strings, value as float)."""
    missing = [c for c in FACT_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(Problem(file="(facts)", expected=f"columns {missing} in a facts table"))
    columns = list(FACT_COLUMNS) + ([NOTE_COLUMN] if NOTE_COLUMN in frame.columns else [])
    out = frame[columns].copy()
    for column in columns:
        if column == "value":
            out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
        else:
            out[column] = out[column].astype("string")
    return out.reset_index(drop=True)


def problems(facts: pd.DataFrame, file: str = "(facts)") -> list[Problem]:
    """Every way ``facts`` breaks the schema, one :class:`Problem` per cell."""
    found: list[Problem] = []

    def check(column: str, bad: pd.Series, expected: str) -> None:
        for index in np.flatnonzero(bad.to_numpy(dtype=bool)):
            value = facts[column].iloc[index]
            found.append(
                Problem(file=file, row=int(index) + 2, column=column,
                        value=None if pd.isna(value) else str(value), expected=expected)
            )

    check("geography_level", ~facts["geography_level"].isin(GEOGRAPHY_LEVELS),
          f"one of {GEOGRAPHY_LEVELS}")
    check("source", ~facts["source"].isin(SOURCES), f"one of {SOURCES}")
    check("unit", ~facts["unit"].isin(UNITS), f"one of {UNITS}")
    check("period", ~facts["period"].fillna("").str.match(_PERIOD),
          "a period like 2016-17, 2016-17 Q4, 2017-03 or 2017-03-31")
    check("breakdown", ~facts["breakdown"].fillna("").str.match(_BREAKDOWN),
          "'total' or key=value pairs joined by ';' (e.g. category=neglect)")
    for column in ("geography_code", "measure"):
        check(column, facts[column].isna() | (facts[column] == ""), "a non-empty value")
    no_value = facts["value"].isna()
    check("marker", no_value & ~facts["marker"].isin(MARKERS),
          f"a marker {MARKERS} where value is missing")
    return found


def validate(facts: pd.DataFrame, file: str = "(facts)") -> pd.DataFrame:
    """Raise :class:`InputError` listing every schema problem; return ``facts`` if clean."""
    found = problems(facts, file)
    if found:
        raise InputError(found)
    return facts


def select(facts: pd.DataFrame, **criteria: object) -> pd.DataFrame:
    """Rows matching every criterion; a list value matches any of its items.

    Examples
    --------
    >>> select(facts, geography_code="825", measure="cp_plans_at_31_march")  # doctest: +SKIP
    """
    mask = pd.Series(True, index=facts.index)
    for column, wanted in criteria.items():
        if isinstance(wanted, (list, tuple, set, frozenset)):
            mask &= facts[column].isin(list(wanted))
        else:
            mask &= facts[column] == wanted
    return facts[mask.fillna(False)]


def value_of(facts: pd.DataFrame, **criteria: object) -> float:
    """The single value matching ``criteria``; raise ``KeyError`` unless exactly one row matches."""
    rows = select(facts, **criteria)
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} facts match {criteria}, expected exactly one")
    return float(rows["value"].iloc[0])


def sort(facts: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order, so stored outputs and files diff cleanly."""
    keys = ["source", "geography_level", "geography_code", "measure", "breakdown", "period"]
    return facts.sort_values(keys, kind="stable").reset_index(drop=True)


def implausible(value: pd.Series, unit: pd.Series, measure: pd.Series) -> pd.Series:
    """For each figure, what its unit needs that its value is not (``<NA>`` where it is fine):
    counts are whole numbers of 0 or more, rates and days 0 or more, percentages 0 to 100
    (changes, ``*_change*``, may also be negative or above 100)."""
    unit = unit.astype("string")
    known = value.notna()
    change = measure.astype("string").str.contains("change", regex=False).fillna(False)
    rules = (
        ((unit == "count") & known & ((~change & (value < 0)) | (value != value.round())),
         "a count: a whole number of 0 or more"),
        (unit.isin(["rate", "days"]) & known & ~change & (value < 0),
         "a rate or number of days of 0 or more"),
        ((unit == "percent") & known & ~change & ((value < 0) | (value > 100)),
         "a percentage from 0 to 100"),
    )
    why = pd.Series(pd.NA, index=value.index, dtype="string")
    for bad, expected in rules:
        why = why.mask(bad.fillna(False).astype(bool) & why.isna(), expected)
    return why
