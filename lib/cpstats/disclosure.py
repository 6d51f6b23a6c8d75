"""Small-number suppression for anything published from child-level data.

Counts from 1 to 5 derived from child-level records (sources ``cin_census`` and
``synthetic``) are shown as ``c``. Secondary suppression follows: a published
total is a linear constraint (its cells add up to it), so any row or column
that would hold exactly one hidden cell gets a second one, the smallest
remaining, until no total can give a hidden count away. Figures already
published (the report, DfE, or derived from them) are shown as published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd

from cpstats.codes import HARMONISED_AGE_BANDS
from cpstats.defaults import SUPPRESS_MAX
from cpstats.facts import TOTAL
from cpstats.periods import is_month

#: Sources whose counts are derived from child-level records.
CHILD_LEVEL_SOURCES = ("cin_census", "synthetic", "annex_a")
SUPPRESSED = "c"
LOW, HIGH = 1, SUPPRESS_MAX
#: What identifies a child-level count in the report-wide pass (:func:`report_mask`).
KEY = ("source", "measure", "period", "breakdown")


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
                     row_groups: Sequence[Sequence[object]] = (),
                     hidden: pd.DataFrame | None = None) -> pd.DataFrame:
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
    hidden
        Cells hidden already, whatever their value (booleans aligned on ``table``; missing labels
        count as shown): the report-wide suppression (:func:`report_mask`), so a count
        hidden in one table is hidden in every table that prints it.

    Returns
    -------
    pandas.DataFrame
        Booleans, same shape and labels as ``table``.
    """
    values = table.to_numpy(dtype="float64")
    forced = (np.zeros(values.shape, dtype=bool) if hidden is None else
              hidden.reindex(index=table.index, columns=table.columns, fill_value=False)
              .to_numpy(dtype=bool))
    hidden = primary_mask(values) | forced
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
                   row_groups: Sequence[Sequence[object]] = (),
                   hidden: pd.DataFrame | None = None) -> pd.DataFrame:
    """A count table ready to publish: hidden cells shown as ``c``, the rest as integers.

    Parameters
    ----------
    table
        Counts derived from child-level data, optionally with margins.
    total_row, total_column
        Labels of the margin row / column, if present.
    row_groups
        Groups of rows whose column sums are public too (see :func:`suppression_mask`).
    hidden
        Cells to hide whatever their value (see :func:`suppression_mask`).

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
    mask = suppression_mask(table, total_row, total_column, row_groups, hidden)
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


#: Child-level measures counted by month that the report prints side by side, one group per
#: table (trends: conferences by month, reviews by month; pipeline: the monthly pipeline). A
#: month's row of each group is a line whose total a reader may know or guess.
LINKED_MONTHLY: tuple[tuple[str, ...], ...] = (
    ("referrals", "s47_enquiries", "icpcs", "cp_plans_started"),
    ("icpcs", "review_conferences"),
    ("review_conferences", "review_conferences_in_timescale"),
)


def report_mask(facts: pd.DataFrame,
                groups: Sequence[Sequence[str]] = LINKED_MONTHLY,
                subtotals: Mapping[str, Sequence[Sequence[str]]] | None = None) -> pd.Series:
    """Which child-level counts the whole report hides, monthly, quarterly, yearly and broken
    down: one decision per count, taken with every total it adds up to.

    A count is one fact (measure, period, breakdown). Counts add up along lines whose total a
    reader may see anywhere in the report (a table, a sentence, a chart, results.csv): the
    months of a quarter to the quarter, the months or quarters of a year ending 31 March to the
    year, the values of one breakdown (``category=...``) to its total, and each of ``groups``'
    measures in one month (the rows of the monthly tables). A count broken down by several keys
    (``decision_point=icpc;ethnicity=mixed``) adds up along each key with the others fixed, to
    the count without that key (a two-way table's columns and rows), and along ``subtotals``'
    groups of one key's values. Counts of 1 to 5 are hidden, then
    more until no line holds exactly one hidden count and no hidden count is pinned down by
    the lines together (a linear-algebra audit, :func:`_pinned`). Months the records do not
    mention count as 0, and a year's count is taken as public whether or not the report prints
    it (DfE publishes each LA's annual counts): the counts of a year are protected both against
    a reader who knows it and one who does not.

    Parameters
    ----------
    facts
        Child-level facts (:attr:`cpstats.themes.base.ThemeData.child_facts`); only counts are
        considered (rates and shares of a hidden count: :func:`suppress_derived`).
    groups
        Measures printed side by side by month (:data:`LINKED_MONTHLY`).
    subtotals
        Per breakdown key, groups of its values whose sum is public too (children of known
        ethnicity, the base of published shares and tests).

    Returns
    -------
    pandas.Series
        Booleans indexed by (source, measure, period, breakdown) for every child-level count:
        a figure of another source with the same measure, period and breakdown is another
        figure (:func:`figure_hidden` looks one up).
    """
    from cpstats.periods import period_kind

    rows = facts[facts["source"].isin(CHILD_LEVEL_SOURCES) & (facts["unit"] == "count")]
    cells = _with_empty_months(rows.groupby(list(KEY))["value"].first())
    frame = cells.index.to_frame(index=False)
    kind = frame["period"].map(period_kind)
    frame["position"] = np.arange(len(frame))
    frame["quarter"] = frame["period"].where(kind == "quarter")
    frame.loc[kind == "month", "quarter"] = _quarter_of(frame.loc[kind == "month", "period"])
    frame["year"] = frame["period"].where(kind == "year")
    within = kind.isin(["month", "quarter"])
    frame.loc[within, "year"] = frame.loc[within, "quarter"].str.slice(0, 7)
    position = frame.set_index(list(KEY))["position"]

    def adding_up(members: pd.DataFrame, keys: list[str], whole: str,
                  total_elsewhere: bool = False) -> list[np.ndarray]:
        """A line per group of ``members`` (by ``keys``) and the count they add up to (the
        same measure and breakdown, period from column ``whole``); without that count, a line
        only when ``total_elsewhere`` (a breakdown's total may be another measure's count).
        A year's count is public even where the report hides or omits it (DfE publishes each
        LA's annual counts): its members are a line of their own too (in ``known_sums``); not
        a year's count of a breakdown the records give only by month (DfE publishes none)."""
        found = []
        for _, part in members.groupby(keys, sort=False):
            first = part.iloc[0]
            key = (first["source"], first["measure"], first[whole], first["breakdown"])
            if period_kind(key[2]) == "year" and (key[3] == TOTAL or key in position.index):
                known_sums.append(np.asarray(part["position"], dtype=int))
            if key not in position.index and not total_elsewhere:
                continue  # a sum the report never prints is no line
            extra = [position[key]] if key in position.index else []
            found.append(np.asarray([*part["position"], *extra], dtype=int))
            wholes.append(extra[0] if extra else -1)
        return found

    lines: list[np.ndarray] = []
    wholes: list[int] = []  # per line, the count it adds up to (-1: not a count here)
    known_sums: list[np.ndarray] = []  # counts adding up to a year's (public) count
    # a breakdown's values add up, along each of its keys, to the count without that key
    parts = _along_each_key(frame[frame["breakdown"] != TOTAL])
    lines += adding_up(parts, ["source", "measure", "period", "breakdown", "dimension"], "period",
                       total_elsewhere=True)
    for dimension, value_groups in (subtotals or {}).items():
        along = parts[parts["dimension"] == dimension]
        for values_in in value_groups:
            inside = along[along["value_of"].isin(list(values_in))]
            found = [np.asarray(p, dtype=int) for p in inside.groupby(
                ["source", "measure", "period", "breakdown"])["position"].apply(list)]
            lines += found
            wholes += [-1] * len(found)
    months = frame[kind == "month"]
    by = ["source", "measure", "breakdown"]
    lines += adding_up(months, [*by, "quarter"], "quarter")
    lines += adding_up(months, [*by, "year"], "year")
    lines += adding_up(frame[kind == "quarter"], [*by, "year"], "year")
    for group in groups:
        side = months[months["measure"].isin(list(group)) & (months["breakdown"] == TOTAL)]
        rows = [np.asarray(p, dtype=int)
                for p in side.groupby(["source", "period"])["position"].apply(list)
                if len(p) > 1]  # a row of one count adds nothing to what its column says
        lines += rows
        wholes += [-1] * len(rows)
    values = np.nan_to_num(cells.to_numpy(dtype="float64"), nan=np.inf)
    every_line = lines + known_sums
    hidden = _secondary(values, primary_mask(values), every_line)
    # Two readers: one who knows only what is printed, one who also knows every year's count
    # (so every sum of a year's months or quarters, whether or not the year is a count here).
    yearly = (kind == "year").to_numpy()
    known_wholes = [*wholes, *[-1] * len(known_sums)]

    def pinned_down() -> list[int]:
        found = set(_pinned(hidden, lines, wholes)) | set(
            _pinned(hidden & ~yearly, every_line, known_wholes))
        return sorted(c for c in found if c not in helpless)

    helpless: set[int] = set()  # pinned with every linked count hidden (by a lone line)
    while pinned := pinned_down():
        beside = _nearest_shown(pinned[0], hidden, every_line)
        if beside.size == 0:
            helpless.add(int(pinned[0]))
            continue
        hidden[beside[np.lexsort((values[beside], values[beside] == 0))[0]]] = True
        hidden = _secondary(values, hidden, every_line)
    return pd.Series(hidden, index=cells.index, name="hidden")


def _along_each_key(parts: pd.DataFrame) -> pd.DataFrame:
    """``parts`` (broken-down counts) once per key of their breakdown: ``dimension`` the key,
    ``value_of`` its value, ``breakdown`` what is left without it (``total`` for a one-key
    breakdown), so that a group of rows with the same rest adds up along ``dimension``."""
    pieces = parts["breakdown"].str.split(";")
    rows = parts.assign(_pieces=pieces, _at=pieces.map(lambda p: list(range(len(p)))))
    rows = rows.explode("_at").reset_index(drop=True)
    at = rows["_at"].astype(int)
    pairs = [p[i].split("=", 1) for p, i in zip(rows["_pieces"], at, strict=True)]
    rest = [";".join(p[:i] + p[i + 1:]) or TOTAL for p, i in zip(rows["_pieces"], at, strict=True)]
    return rows.assign(dimension=[k for k, _ in pairs], value_of=[v for _, v in pairs],
                       breakdown=rest).drop(columns=["_pieces", "_at"])


def _with_empty_months(cells: pd.Series) -> pd.Series:
    """``cells`` with a zero count for every month of the return's span that a measure counted
    by month has no fact for (the monthly tables print it as 0, and it adds to the year)."""
    period = cells.index.get_level_values("period")
    monthly = cells[is_month(pd.Series(period)).to_numpy()
                    & (cells.index.get_level_values("breakdown") == TOTAL)]
    if monthly.empty:
        return cells
    found = pd.PeriodIndex(monthly.index.get_level_values("period"), freq="M")
    span = pd.period_range(found.min(), found.max(), freq="M").strftime("%Y-%m")
    counted = monthly.index.droplevel(["period", "breakdown"]).unique()
    every = pd.MultiIndex.from_tuples(
        [(source, measure, month, TOTAL) for source, measure in counted for month in span],
        names=cells.index.names)
    missing = every.difference(cells.index)
    return pd.concat([cells, pd.Series(0.0, index=missing)]).sort_index()


def _nearest_shown(cell: int, hidden: np.ndarray, lines: Sequence[np.ndarray]) -> np.ndarray:
    """The shown counts on the lines through ``cell``; when all are hidden, those one line
    further (a count can be pinned through hidden neighbours, e.g. a year's total by the
    months of several measures printed side by side)."""
    reached = np.array([cell])
    while True:
        near = np.unique(np.concatenate([line for line in lines
                                         if np.isin(line, reached).any()] or [reached]))
        shown = near[~hidden[near]]
        if shown.size or near.size == reached.size:
            return shown
        reached = near


def _quarter_of(months: pd.Series) -> pd.Series:
    """``2016-17 Q1`` labels of ``YYYY-MM`` months (quarters of years ending 31 March)."""
    month = pd.PeriodIndex(months, freq="M")
    start = month.year - (month.month < 4)
    quarter = (month.month - 4) % 12 // 3 + 1
    return pd.Series([f"{y}-{(y + 1) % 100:02d} Q{q}" for y, q in zip(start, quarter, strict=True)],
                     index=months.index, dtype="object")


def _pinned(hidden: np.ndarray, lines: Sequence[np.ndarray],
            wholes: Sequence[int] | None = None) -> np.ndarray:
    """Hidden cells whose value the lines' totals fix (with every shown cell known): those
    whose unit vector lies in the row space of the lines restricted to hidden cells, i.e.
    that are zero in every null-space vector. ``wholes``: per line, the cell that is the sum
    of the others (coefficient -1), or -1 when the line's total is outside the cells."""
    cells = np.flatnonzero(hidden)
    if cells.size == 0:
        return cells
    column = np.full(hidden.size, -1)
    column[cells] = np.arange(cells.size)
    matrix = np.zeros((len(lines), cells.size))
    for number, line in enumerate(lines):
        inside = line[column[line] >= 0]
        matrix[number, column[inside]] = 1.0
        if wholes is not None and wholes[number] >= 0 and column[wholes[number]] >= 0:
            matrix[number, column[wholes[number]]] = -1.0
    matrix = matrix[matrix.any(axis=1)]
    if matrix.shape[0] == 0:
        return cells[:0]
    _, singular, vt = np.linalg.svd(matrix)
    null = vt[int((singular > 1e-9).sum()):]
    fixed = np.abs(null).max(axis=0) < 1e-9 if null.shape[0] else np.ones(cells.size, bool)
    return cells[fixed]


#: Figures computed from child-level counts -> the counts each rests on, as (measure,
#: breakdown), a breakdown of ``None`` meaning the figure's own: a share or rate times a public
#: total (or over a public count) gives its count back, so it is hidden where any of them is.
DERIVED_FROM: dict[str, tuple[tuple[str, str | None], ...]] = {
    "cp_by_age_band_harmonised_pct": (("cp_by_age_band_harmonised", None),
                                      ("cp_plans_at_31_march", TOTAL)),
    "cp_by_category_pct": (("cp_by_category", None), ("cp_plans_at_31_march", TOTAL)),
    "cp_by_duration_pct": (("cp_by_duration", None),),
    "cp_by_gender_pct": (("cp_by_gender", None), ("cp_plans_at_31_march", TOTAL)),
    "cp_disabled_pct": (("cp_by_disability", "disability=disabled"),
                        ("cp_plans_at_31_march", TOTAL)),
    "cp_plans_2_years_or_more_pct": (("cp_by_duration", "duration=2_years_or_more"),
                                     ("cp_plans_at_31_march", TOTAL)),
    "cp_plans_ended_by_duration_pct": (("cp_plans_ended_by_duration", None),
                                       ("cp_plans_ended", TOTAL)),
    "cp_reviews_in_timescale_pct": (("cp_reviews_in_timescale", TOTAL),
                                    ("cp_plans_3_months_or_more", TOTAL)),
    "cp_second_or_subsequent_pct": (("cp_plans_second_or_subsequent", TOTAL),
                                    ("cp_plans_started", TOTAL)),
    "icpc_to_cp_plan_pct": (("cp_plans_started", TOTAL), ("icpcs", TOTAL)),
    "icpc_within_15_working_days_pct": (("icpc_within_15_working_days", TOTAL),
                                        ("icpcs", TOTAL)),
    "icpcs_leading_to_plan_pct": (("icpcs_leading_to_plan", TOTAL), ("icpcs", TOTAL)),
    "referral_to_s47_pct": (("s47_enquiries", TOTAL), ("referrals", TOTAL)),
    "review_conferences_in_timescale_pct": (("review_conferences_in_timescale", TOTAL),
                                            ("review_conferences", TOTAL)),
    "s47_to_icpc_pct": (("icpcs", TOTAL), ("s47_enquiries", TOTAL)),
}
#: Counts in bands summed from another measure's bands: measure -> (the measure summed, its
#: key, band -> summed band). A summed band hides where any band in it is hidden, so it tells
#: a reader nothing the hidden bands' public sum did not.
SUMMED_BANDS: dict[str, tuple[str, str, dict[str, str]]] = {
    "cp_by_age_band_harmonised": ("cp_by_age_band", "age_band", HARMONISED_AGE_BANDS),
}


def counts_behind(measure: str, breakdown: str = TOTAL) -> list[tuple[str, str]]:
    """The child-level counts (measure, breakdown) a figure rests on: itself for a count the
    report-wide pass decides, else through :data:`DERIVED_FROM` and :data:`SUMMED_BANDS`.

    Examples
    --------
    >>> counts_behind("cp_disabled_pct")
    [('cp_by_disability', 'disability=disabled'), ('cp_plans_at_31_march', 'total')]
    """
    if measure in SUMMED_BANDS:
        summed, key, bands = SUMMED_BANDS[measure]
        band = breakdown.removeprefix(f"{key}=")
        return [(summed, f"{key}={raw}") for raw, into in bands.items() if into == band]
    if measure in DERIVED_FROM:
        return [count for inner, part in DERIVED_FROM[measure]
                for count in counts_behind(inner, breakdown if part is None else part)]
    return [(measure, breakdown)]


def hidden_keys(hidden: pd.Series) -> frozenset[tuple[str, str, str, str]]:
    """The (source, measure, period, breakdown) keys :func:`report_mask` hides, as a set: a
    notebook looks figures up hundreds of times, and a set answers in microseconds where a
    lookup on the mask's MultiIndex takes milliseconds."""
    return frozenset(hidden.index[hidden.to_numpy(dtype=bool)])


def figure_hidden(hidden: pd.Series | AbstractSet[tuple[str, str, str, str]], source: str,
                  measure: str, period: str, breakdown: str = TOTAL) -> bool:
    """True when the report hides a child-level figure: a count :func:`report_mask` hides, or a
    share, rate or summed band resting on one (:func:`counts_behind`).

    Parameters
    ----------
    hidden
        :func:`report_mask`'s decision, or its :func:`hidden_keys` (faster for many lookups).
    source, measure, period, breakdown
        The figure.
    """
    keys = hidden_keys(hidden) if isinstance(hidden, pd.Series) else hidden
    return any((source, count, period, part) in keys
               for count, part in counts_behind(measure, breakdown))


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


def shares(counts: pd.Series, child_level: bool, hidden: pd.Series | None = None) -> pd.Series:
    """Each count's share of the total in percent; for child-level counts, NaN where the count
    is suppressed (the total stays the true total). ``hidden``: counts the report-wide pass
    hides (booleans on ``counts``' index, :meth:`~cpstats.themes.base.ThemeData.hidden_groups`),
    so a share is hidden wherever its count is printed as ``c``."""
    if not child_level:
        return counts.astype(float) / counts.sum() * 100
    forced = None if hidden is None else hidden.to_frame("n")
    kept = visible(suppress_table(counts.to_frame("n"), hidden=forced)["n"])
    return kept.rename(counts.name) / counts.sum() * 100
