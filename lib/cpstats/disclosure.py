"""Small-number suppression for anything published from child-level data.

Counts from 1 to 5 derived from child-level records (sources ``cin_census`` and
``synthetic``) are shown as ``c``. Secondary suppression follows: a published
total is a linear constraint (its cells add up to it), so any row or column
that would hold exactly one hidden cell gets a second one, the smallest
remaining, until no total can give a hidden count away. Figures already
published (the report, DfE, or derived from them) are shown as published.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpstats.defaults import SUPPRESS_MAX
from cpstats.facts import TOTAL

#: Sources whose counts are derived from child-level records.
CHILD_LEVEL_SOURCES = ("cin_census", "synthetic", "annex_a")
SUPPRESSED = "c"
LOW, HIGH = 1, SUPPRESS_MAX


def primary_mask(values: np.ndarray) -> np.ndarray:
    """True where a count is between 1 and 5 inclusive (DfE's rule)."""
    values = np.asarray(values, dtype="float64")
    return (values >= LOW) & (values <= HIGH)


def _secondary(values: np.ndarray, hidden: np.ndarray, lines: list[np.ndarray]) -> np.ndarray:
    """Extend ``hidden`` until no line (index array of one additive constraint) has exactly one
    hidden cell.

    The cell added to a line prefers, in order: one that also completes another line holding a
    single hidden cell, one that opens no new line with a single hidden cell, a non-zero cell,
    the smallest value. This keeps the hidden cells to a few rectangles instead of a cascade.
    """
    flat_values = values.ravel()
    flat_hidden = hidden.ravel().copy()
    member: dict[int, list[int]] = {}
    for number, line in enumerate(lines):
        for cell in line.tolist():
            member.setdefault(cell, []).append(number)
    changed = True
    while changed:
        changed = False
        counts = np.array([flat_hidden[line].sum() for line in lines])
        for number, line in enumerate(lines):
            if counts[number] != 1:
                continue
            visible = line[~flat_hidden[line]]
            if visible.size == 0:
                continue
            others = [[m for m in member[c] if m != number] for c in visible.tolist()]
            fixes = np.array([sum(counts[m] == 1 for m in o) for o in others])
            opens = np.array([sum(counts[m] == 0 for m in o) for o in others])
            cell_values = flat_values[visible]
            order = np.lexsort((cell_values, cell_values == 0, opens, -fixes))
            chosen = int(visible[order[0]])
            flat_hidden[chosen] = True
            for m in member[chosen]:
                counts[m] += 1
            changed = True
    return flat_hidden.reshape(hidden.shape)


def suppression_mask(table: pd.DataFrame, total_row: str | None = None,
                     total_column: str | None = None,
                     row_groups: Sequence[Sequence[object]] = ()) -> pd.DataFrame:
    """Which cells of a count table must be hidden.

    Parameters
    ----------
    table
        Counts; may include a margin row and/or column of totals.
    total_row, total_column
        Labels of the margins, if present. Missing margins are still assumed public (a reader can
        often find the total elsewhere), so every row and column is protected as if it had one.
    row_groups
        Groups of row labels whose sum in each column is public too (e.g. children of known
        ethnicity, the base of published shares and tests): each group's cells in a column are
        protected like a row or column, so a subtotal cannot give a hidden count away either.

    Returns
    -------
    pandas.DataFrame
        Booleans, same shape and labels as ``table``.
    """
    values = table.to_numpy(dtype="float64")
    hidden = primary_mask(values)
    n_rows, n_cols = values.shape
    index = np.arange(values.size).reshape(values.shape)
    # Each line: a whole row or column, its margin cell included when there is one.
    lines = [index[i, :] for i in range(n_rows)] + [index[:, j] for j in range(n_cols)]
    rows = [table.index.get_indexer([r for r in group if r in table.index])
            for group in row_groups]
    lines += [index[r, j] for r in rows for j in range(n_cols)]
    hidden = _secondary(np.nan_to_num(values, nan=np.inf), hidden, lines)
    return pd.DataFrame(hidden, index=table.index, columns=table.columns)


def suppress_table(table: pd.DataFrame, total_row: str | None = None,
                   total_column: str | None = None,
                   row_groups: Sequence[Sequence[object]] = ()) -> pd.DataFrame:
    """A count table ready to publish: hidden cells shown as ``c``, the rest as integers.

    Parameters
    ----------
    table
        Counts derived from child-level data, optionally with margins.
    total_row, total_column
        Labels of the margin row / column, if present.
    row_groups
        Groups of rows whose column sums are public too (see :func:`suppression_mask`).

    Returns
    -------
    pandas.DataFrame
        Object dtype: ints, ``"c"`` for suppressed cells, ``""`` for missing.

    Examples
    --------
    >>> t = pd.DataFrame({"n": [3, 40, 57]}, index=["a", "b", "c"])
    >>> suppress_table(t)["n"].tolist()
    ['c', 'c', 57]
    """
    mask = suppression_mask(table, total_row, total_column, row_groups)
    shown = table.astype("Float64").round(0).astype("Int64").astype(object)
    shown = shown.where(table.notna(), "")
    return shown.mask(mask, SUPPRESSED)


def suppress_counts(counts: pd.Series) -> pd.Series:
    """A one-way count table (e.g. children by category) with its total assumed public."""
    table = suppress_table(counts.to_frame(name=counts.name or "count"))
    return table.iloc[:, 0].rename(counts.name)


def suppress_facts(facts: pd.DataFrame) -> pd.DataFrame:
    """Facts ready to publish: child-level counts 1-5 become ``value`` NaN with marker ``c``,
    with secondary suppression within each broken-down measure (its total assumed public).

    Figures from published sources are returned unchanged.

    Parameters
    ----------
    facts
        A facts table (see :mod:`cpstats.facts`).

    Returns
    -------
    pandas.DataFrame
        Same rows and order.
    """
    out = facts.copy()
    child = out["source"].isin(CHILD_LEVEL_SOURCES) & (out["unit"] == "count")
    if not child.any():
        return out
    hidden = pd.Series(False, index=out.index)
    hidden[child] = primary_mask(out.loc[child, "value"].to_numpy())
    parts = child & (out["breakdown"] != TOTAL)
    if parts.any():
        keys = ["source", "geography_code", "period", "measure"]
        # One line per measure, geography, period and breakdown dimension (e.g. category=...).
        dimension = out["breakdown"].str.replace(r"=[^;]*", "", regex=True)
        groups = out[parts].assign(_dimension=dimension[parts]).groupby(keys + ["_dimension"],
                                                                          sort=False).indices
        values = out["value"].to_numpy(dtype="float64")
        positions = np.flatnonzero(parts.to_numpy())
        lines = [positions[idx] for idx in groups.values()]
        flags = _secondary(np.nan_to_num(values, nan=np.inf), hidden.to_numpy(), lines)
        hidden = pd.Series(flags, index=out.index)
    out["value"] = out["value"].mask(hidden)
    out["marker"] = out["marker"].mask(hidden, SUPPRESSED)
    return out


def suppress_derived(figures: pd.DataFrame, hidden: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Figures computed from child-level counts (rates, ratios, shares) as published.

    A rate or ratio of a hidden count gives the count back (the population beside it is
    public: count = rate x population / 10,000), so a figure is shown as ``c`` wherever a count
    it was computed from is hidden.

    Parameters
    ----------
    figures
        The figures to publish, one row per count (or per pair of counts).
    hidden
        Where the counts they come from are hidden, aligned on ``figures``' index: a Series hides
        every figure of a row, a frame only the cells it marks (missing labels count as shown).

    Returns
    -------
    pandas.DataFrame
        ``figures`` as objects, ``"c"`` in every hidden cell.

    Examples
    --------
    >>> rates = pd.DataFrame({"per 10,000": [39.9, 1.5]}, index=["a", "b"])
    >>> suppress_derived(rates, pd.Series([False, True], index=["a", "b"]))["per 10,000"].tolist()
    [39.9, 'c']
    """
    if isinstance(hidden, pd.Series):
        hidden = pd.DataFrame(dict.fromkeys(figures.columns, hidden), index=hidden.index)
    mask = hidden.reindex(index=figures.index, columns=figures.columns, fill_value=False)
    return figures.astype(object).mask(mask, SUPPRESSED)


def display_value(value: float, marker: object = None, source: str | None = None) -> str:
    """One figure as a table cell: child-level counts 1-5 as ``c``, others as given."""
    if pd.isna(value):
        return "" if marker is None or pd.isna(marker) else str(marker)
    if source in CHILD_LEVEL_SOURCES and LOW <= value <= HIGH:
        return SUPPRESSED
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def visible(shown: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """A published table's numbers with suppressed cells as NaN: what a chart of it may plot.

    Chart bars, lines and shares derived from child-level counts must come from this, never
    from the exact counts, or a bar's height would give a suppressed count away.
    """
    if isinstance(shown, pd.Series):
        return pd.to_numeric(shown.mask(shown == SUPPRESSED), errors="coerce")
    return shown.apply(lambda column: pd.to_numeric(column.mask(column == SUPPRESSED),
                                                    errors="coerce"))


def shares(counts: pd.Series, child_level: bool) -> pd.Series:
    """Each count's share of the total in percent; for child-level counts, NaN where the count
    is suppressed (the total stays the true total)."""
    total = counts.sum()
    kept = visible(suppress_counts(counts)) if child_level else counts.astype(float)
    return kept / total * 100
