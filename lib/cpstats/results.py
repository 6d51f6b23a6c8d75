"""Headline figures a notebook states: recorded once, written to ``results.csv``,
and formatted for the prose from the same value (never typed by hand).

A notebook calls :meth:`Results.record` for each figure it states; the call
returns the formatted string the sentence uses, so a run for another LA or year
says the right thing. The runner merges every notebook's results into one
``results.csv`` per report (the Results contract in ``docs/design.md``).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from cpstats import registry
from cpstats.defaults import SUPPRESS_MAX
from cpstats.errors import InputError, Problem
from cpstats.facts import CHILD_LEVEL_SOURCES, FACT_COLUMNS, NOTE_COLUMN, TOTAL, make_facts

INTERVAL_COLUMNS: tuple[str, ...] = ("lower_80", "upper_80", "lower_95", "upper_95")
RESULT_COLUMNS: tuple[str, ...] = ("theme", *FACT_COLUMNS, *INTERVAL_COLUMNS, NOTE_COLUMN)
RESULT_KEY: tuple[str, ...] = ("theme", "measure", "geography_code", "period", "breakdown", "source")
#: Decimal places used in prose and in results.csv, by unit (stable float formatting).
DECIMALS = {"count": 0, "rate": 1, "percent": 1, "ratio": 2, "fte": 1, "minutes": 0,
            "days": 0, "years": 1}


def format_value(value: float | None, unit: str, decimals: int | None = None,
                 signed: bool = False, marker: str | None = None) -> str:
    """A figure as prose shows it: ``564``, ``1,234``, ``46.7``, ``96%``, ``+25%``.

    Parameters
    ----------
    value
        The number; missing values show ``marker`` (or ``"not available"``).
    unit
        One of the facts units; sets the default decimals and the ``%`` sign.
    decimals
        Override the unit's default number of decimal places.
    signed
        Prefix positive values with ``+`` (for changes).
    marker
        The published marker to show where ``value`` is missing (``c`` -> "suppressed").
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return {"c": "suppressed (1 to 5)"}.get(marker or "", "not available")
    places = DECIMALS.get(unit, 1) if decimals is None else decimals
    text = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 and float(text.replace(",", "")) != 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{text}{'%' if unit == 'percent' else ''}"


class Results:
    """The headline figures one notebook (theme) states.

    Parameters
    ----------
    theme
        The notebook's theme name, e.g. ``"01_trends"``.
    """

    def __init__(self, theme: str):
        self.theme = theme
        self._rows: list[dict[str, object]] = []

    def record(self, measure: str, value: float | None, *, geography_code: str,
               geography_name: str, period: str, source: str, unit: str | None = None,
               geography_level: str = "local_authority", breakdown: str = TOTAL,
               marker: str | None = None, note: str | None = None,
               interval_80: tuple[float, float] | None = None,
               interval_95: tuple[float, float] | None = None,
               decimals: int | None = None, signed: bool = False) -> str:
        """Record a headline figure and return it formatted for the prose.

        Parameters
        ----------
        measure, geography_code, geography_name, geography_level, period, breakdown, source
            The facts-schema fields of the figure (see ``cpstats.facts``).
        unit
            Taken from the registry; when given it must agree with it.
        value
            The figure itself; ``None``/NaN with a ``marker`` when suppressed or unavailable.
        note
            Where it came from: population row of a rate, report section, caveat.
        interval_80, interval_95
            (lower, upper) of a prediction or confidence interval, when one applies.
        decimals, signed
            Formatting of the returned string (see :func:`format_value`); the stored value is
            rounded to the registry's published precision.

        Returns
        -------
        str
            The value as the sentence states it, e.g. ``"46.7"`` or ``"+25%"``.

        Raises
        ------
        ValueError
            If the same key (theme, measure, geography, period, breakdown, source) is recorded twice
            with a different value, or ``unit`` disagrees with the registry.
        registry.UnregisteredMeasure
            If the measure is not in the registry.
        """
        entry = registry.entry(measure)
        if unit is not None and unit != entry["unit"]:
            raise ValueError(f"{measure}: unit {unit!r} given, the registry says {entry['unit']!r}")
        unit = str(entry["unit"])
        number = float("nan") if value is None or pd.isna(value) else float(value)
        if source in CHILD_LEVEL_SOURCES and unit == "count" and 1 <= number <= SUPPRESS_MAX:
            # The last guard: a count of 1 to 5 from child-level records is never stated.
            number, marker, interval_80, interval_95 = float("nan"), "c", None, None
        if math.isnan(number) and not marker:
            marker = "x"
        places = int(entry["decimals"])
        row: dict[str, object] = {
            "theme": self.theme, "geography_level": geography_level,
            "geography_code": str(geography_code), "geography_name": geography_name,
            "period": period, "measure": measure, "breakdown": breakdown,
            # Stored at the precision stated, so results.csv and the prose agree.
            "value": number if math.isnan(number) else round(number, places),
            "marker": marker if math.isnan(number) else None, "unit": unit, "source": source,
            "lower_80": interval_80[0] if interval_80 else None,
            "upper_80": interval_80[1] if interval_80 else None,
            "lower_95": interval_95[0] if interval_95 else None,
            "upper_95": interval_95[1] if interval_95 else None,
            NOTE_COLUMN: note,
        }
        key = tuple(row[k] for k in RESULT_KEY)
        for old in self._rows:
            if tuple(old[k] for k in RESULT_KEY) == key:
                same = (old["value"] == row["value"]) or (
                    pd.isna(old["value"]) and pd.isna(row["value"]))
                if not same:
                    raise ValueError(f"result {key} recorded twice with different values "
                                     f"({old['value']} and {row['value']})")
                break
        else:
            self._rows.append(row)
        return format_value(number, unit, places if decimals is None else decimals, signed, marker)

    def record_fact(self, fact: pd.Series | pd.DataFrame, **overrides: object) -> str:
        """Record a row of a facts table (a one-row frame or a Series) as a headline figure.

        ``overrides`` replace fields or pass formatting options to :meth:`record`.
        """
        if isinstance(fact, pd.DataFrame):
            if len(fact) != 1:
                raise KeyError(f"{len(fact)} facts given to record_fact, expected exactly one")
            fact = fact.iloc[0]
        fields = {c: fact.get(c) for c in FACT_COLUMNS if c != "value"}
        fields = {k: (None if pd.isna(v) else v) for k, v in fields.items()}
        if NOTE_COLUMN in fact.index and not pd.isna(fact[NOTE_COLUMN]):
            fields[NOTE_COLUMN] = fact[NOTE_COLUMN]
        fields.update(overrides)
        value = overrides.get("value", fact.get("value"))
        fields.pop("value", None)
        return self.record(fields.pop("measure"), value, **fields)  # type: ignore[arg-type]

    def extend(self, other: Results) -> None:
        """Take in every figure ``other`` recorded (the same key twice must agree)."""
        for row in other._rows:
            key = tuple(row[k] for k in RESULT_KEY)
            same = [old for old in self._rows if tuple(old[k] for k in RESULT_KEY) == key]
            if same and not (same[0]["value"] == row["value"]
                             or (pd.isna(same[0]["value"]) and pd.isna(row["value"]))):
                raise ValueError(f"result {key} recorded twice with different values "
                                 f"({same[0]['value']} and {row['value']})")
            if not same:
                self._rows.append({**row, "theme": self.theme})

    def frame(self) -> pd.DataFrame:
        """Every recorded figure as a results table (validated, sorted)."""
        return to_results(pd.DataFrame(self._rows, columns=list(RESULT_COLUMNS)))

    def save(self, output_dir: str | Path | None) -> Path | None:
        """Write ``results/<theme>.csv`` under ``output_dir``; do nothing when it is ``None``."""
        if output_dir is None:
            return None
        path = Path(output_dir) / "results" / f"{self.theme}.csv"
        write_csv_atomic(self.frame(), path)
        return path


def measure_label(measure: str) -> str:
    """A reader's label for a measure name, from the registry (the name itself if unregistered)."""
    return registry.label(measure)


def to_results(frame: pd.DataFrame) -> pd.DataFrame:
    """Conform, validate and sort a results table; raise on a duplicated key."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" or c in INTERVAL_COLUMNS
                                          else "string") for c in RESULT_COLUMNS})
    facts = make_facts(frame.drop(columns=["theme", *INTERVAL_COLUMNS]))
    out = pd.concat([frame[["theme"]].astype("string").reset_index(drop=True), facts,
                     frame[list(INTERVAL_COLUMNS)].apply(pd.to_numeric).reset_index(drop=True)],
                    axis=1)
    if NOTE_COLUMN not in out.columns:
        out[NOTE_COLUMN] = pd.Series(pd.NA, index=out.index, dtype="string")
    out = out[list(RESULT_COLUMNS)]
    duplicated = out.duplicated(list(RESULT_KEY), keep=False)
    if duplicated.any():
        first = out[duplicated].iloc[0]
        raise InputError(Problem(file="results.csv", value=", ".join(str(first[k]) for k in RESULT_KEY),
                                 expected="one row per theme, measure, geography, period, "
                                          "breakdown and source"))
    return out.sort_values(list(RESULT_KEY), kind="stable").reset_index(drop=True)


def merge(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One results table from several notebooks' results."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return to_results(pd.DataFrame(columns=list(RESULT_COLUMNS)))
    return to_results(pd.concat(frames, ignore_index=True))


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a ``results.csv`` (codes as strings)."""
    numeric = {"value", *INTERVAL_COLUMNS}
    dtypes = {c: "string" for c in RESULT_COLUMNS if c not in numeric}
    frame = pd.read_csv(path, dtype=dtypes, encoding="utf-8-sig", keep_default_na=False,
                        na_values={c: [""] for c in RESULT_COLUMNS})
    return to_results(frame)


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to ``path`` via a temporary file and rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        frame.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp's 0600 would hide it from colleagues
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
