"""The subtraction attack on a small council's report (issue: hardening).

Measured before: an August ICPC count shown as ``c`` came back as 653 (the year's total in the
prose) - 536 (the months shown) - 80 - 27 (reviews printed in another table) - 6 (April's ICPCs,
hidden in one table but printed in the monthly pipeline table). Here an attacker collects every
monthly count the report prints (trends: conferences by month, reviews by month; pipeline: the
monthly pipeline), every year total (stated in prose) and every table row's total (assumed
known), and solves the linear equations: a hidden count is recovered when it is printed
elsewhere or when the equations pin it down. With the report's linked suppression
(:func:`cpstats.disclosure.report_mask`) the attack must fail on every generated return; with each
table suppressed on its own, it succeeds (the control).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import example, given, settings

from cpstats import disclosure
from cpstats.themes import pipeline, trends
from tests.hostile.test_small_returns import QUICK, returns, small_return, theme_data

#: Column labels of the three tables -> the measure each column counts.
MEASURES = {"Initial conferences": "icpcs", "Review conferences": "review_conferences",
            "Held in timescale": "review_conferences_in_timescale", "Referrals": "referrals",
            "s47 enquiries": "s47_enquiries", "ICPCs": "icpcs", "Plans started": "cp_plans_started"}
TABLES = ("conferences_by_month", "reviews_by_month", "monthly_pipeline")


def _month(label: object) -> str:
    text = str(label)
    if len(text) == 7:  # already YYYY-MM
        return text
    return pd.to_datetime(text, format="%B %Y").strftime("%Y-%m")


def published_cells(tables: dict[str, pd.DataFrame]) -> list[tuple[str, list[tuple]]]:
    """Each table row as (table, [(measure, month, shown), ...]); 'Total' rows left out (the
    year totals are known to the attacker anyway)."""
    rows = []
    for name, frame in tables.items():
        frame = frame.set_index(frame.columns[0]) if frame.index.name is None else frame
        for label, row in frame.iterrows():
            if str(label) == "Total":
                continue
            rows.append((name, [(MEASURES[c], _month(label), row[c]) for c in frame.columns
                                if c in MEASURES]))
    return rows


def attack(tables: dict[str, pd.DataFrame], exact: pd.Series) -> set[tuple[str, str]]:
    """The hidden counts an attacker recovers from what the tables print, the year totals of
    each measure and each printed row's total: a count of 1 to 5 printed anywhere, or a hidden
    count the equations pin down. ``exact``: (measure, month) -> true count (the attacker
    knows only the totals, from the prose)."""
    rows = published_cells(tables)
    shown: dict[tuple[str, str], float] = {}
    hidden: set[tuple[str, str]] = set()
    for _, cells in rows:
        for measure, month, value in cells:
            (hidden.add((measure, month)) if value == disclosure.SUPPRESSED
             else shown.__setitem__((measure, month), float(value)))
    # a count of 1 to 5 printed as a number anywhere is given away outright
    recovered = {k for k in hidden & set(shown) if disclosure.primary_mask([exact.get(k, 0)])[0]}
    unknown = sorted(hidden - set(shown))
    if not unknown:
        return recovered
    column = {key: i for i, key in enumerate(unknown)}
    lines: list[list[tuple[str, str]]] = [[(m, month) for m, month, _ in cells]
                                          for _, cells in rows]
    year = {key: int(key[1][:4]) + (int(key[1][5:]) >= 4) for key in exact.index}
    for measure in {m for m, _ in exact.index}:
        for y in {year[k] for k in exact.index if k[0] == measure}:
            lines.append([k for k in exact.index if k[0] == measure and year[k] == y])
    equations = []
    for line in lines:
        coefficients = np.zeros(len(unknown))
        for key in line:
            if key in column:
                coefficients[column[key]] = 1
        if coefficients.any():
            equations.append(coefficients)
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    for key, i in column.items():
        probe = np.vstack([matrix, np.eye(len(unknown))[i]])
        if np.linalg.matrix_rank(probe) == rank:  # the equations fix this count alone
            recovered.add(key)
    return recovered


def _exact(data) -> pd.Series:
    facts = data.child_facts
    rows = facts[facts["measure"].isin(set(MEASURES.values())) & (facts["breakdown"] == "total")]
    rows = rows[rows["period"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")]
    return rows.set_index(["measure", "period"])["value"]


def report_tables(data) -> dict[str, pd.DataFrame]:
    """The three tables as a report prints them for ``data``."""
    sections = [trends.conferences_by_month(data), trends.reviews(data), pipeline.monthly(data)]
    printed = {t.name: t.frame for s in sections for t in s.tables if t.name in TABLES}
    return {name: frame.reset_index() for name, frame in printed.items()}


@settings(max_examples=10, **QUICK)
@given(drawn=returns)
@example(drawn=((2013, 2017), 0, 300, []))
@example(drawn=((2017, 2017), 1, 120, []))
def test_no_hidden_count_is_recovered_from_everything_the_report_prints(drawn):
    data = theme_data(small_return(*drawn))
    tables = report_tables(data)
    assert not attack(tables, _exact(data))


def test_tables_suppressed_one_by_one_give_hidden_counts_away():
    """The control: the same attack recovers counts when each table is protected alone (as
    before the linked suppression), so the test above can fail."""
    data = theme_data(small_return((2013, 2017), 0, 300, []))
    alone = report_tables(data)
    for name, frame in alone.items():
        counts = frame.set_index(frame.columns[0])
        columns = [c for c in counts.columns if c in MEASURES]
        exact = counts[columns].replace(disclosure.SUPPRESSED, np.nan)
        truth = _exact(data)
        for column in columns:
            months = [_month(m) for m in counts.index if str(m) != "Total"]
            exact.loc[[m for m in counts.index if str(m) != "Total"], column] = [
                truth.get((MEASURES[column], m), 0) for m in months]
        redone = disclosure.suppress_table(exact.astype(float),
                                           total_row="Total" if "Total" in counts.index else None)
        alone[name] = counts.assign(**{c: redone[c] for c in columns}).reset_index()
    assert attack(alone, _exact(data))


# -- the whole report: every child-level count, monthly, quarterly, yearly and broken down ------
def _equations(keys: list[tuple[str, str, str]]) -> list[tuple[list[tuple], tuple | None]]:
    """Every sum a reader can form from what the report prints (built here from the periods'
    meaning, not by the code under test): months of a quarter, months and quarters of a year,
    a breakdown's values, the measures printed side by side in a month: (members, the count
    they add up to when the report has it, else ``None``: that total is taken as known, except
    a quarter's or year's, known only where printed)."""
    from cpstats.periods import period_kind

    known = set(keys)
    sums: dict[tuple, list] = {}
    for measure, period, breakdown in keys:
        kind = period_kind(period)
        if breakdown != "total":
            dimension = ";".join(part.split("=")[0] for part in breakdown.split(";"))
            sums.setdefault((measure, period, "total", dimension), []).append(
                (measure, period, breakdown))
        wholes = []
        if kind == "month":
            month = pd.Period(period, freq="M")
            start = month.year - (month.month < 4)
            year = f"{start}-{(start + 1) % 100:02d}"
            wholes = [f"{year} Q{(month.month - 4) % 12 // 3 + 1}", year]
            if breakdown == "total":
                for number, group in enumerate(disclosure.LINKED_MONTHLY):
                    if measure in group:
                        sums.setdefault(("group", number, period), []).append(
                            (measure, period, breakdown))
        elif kind == "quarter":
            wholes = [period[:7]]
        for whole in wholes:
            sums.setdefault((measure, whole, breakdown, kind), []).append(
                (measure, period, breakdown))
    equations = []
    for key, members in sums.items():
        whole = key[:3]
        if key[0] == "group" or key[3] not in ("month", "quarter"):
            equations.append((members, whole if whole in known else None))
        elif whole in known:  # a quarter's or year's sum is known only where it is printed
            equations.append((members, whole))
    return equations


def recovered_anywhere(shown: pd.Series, exact: pd.Series) -> set[tuple[str, str, str]]:
    """Hidden counts an attacker recovers from ``shown`` (every child-level count as the report
    prints it, ``c`` where hidden): a count of 1 to 5 printed, or a hidden count the sums fix
    (zero in every vector of the null space of the sums restricted to hidden counts)."""
    from scipy.linalg import null_space

    hidden = shown.index[shown == disclosure.SUPPRESSED]
    printed = pd.to_numeric(shown[shown != disclosure.SUPPRESSED])
    recovered = set(printed.index[disclosure.primary_mask(exact[printed.index].to_numpy())])
    if hidden.empty:
        return recovered
    column = {key: i for i, key in enumerate(hidden)}
    equations = _equations(list(shown.index))
    matrix = np.zeros((len(equations), len(column)))
    for i, (members, whole) in enumerate(equations):
        matrix[i, [column[k] for k in members if k in column]] = 1
        if whole in column:  # sum(members) - whole = 0
            matrix[i, column[whole]] = -1
    null = null_space(matrix[matrix.any(axis=1)]) if matrix.any() else np.eye(len(column))
    fixed = np.abs(null).max(axis=1) < 1e-9 if null.size else np.ones(len(column), bool)
    return recovered | {key for key, i in column.items() if fixed[i]}


def _child_counts(data) -> pd.Series:
    facts = data.child_facts
    counts = facts[facts["unit"] == "count"]
    return counts.groupby(["measure", "period", "breakdown"])["value"].first()


@settings(max_examples=6, **QUICK)
@given(drawn=returns)
@example(drawn=((2013, 2017), 0, 300, []))
@example(drawn=((2017, 2017), 1, 120, []))
def test_no_count_is_recovered_across_quarters_years_and_breakdowns(drawn):
    data = theme_data(small_return(*drawn))
    exact = _child_counts(data)
    hidden = disclosure.report_mask(data.child_facts).droplevel("source").reindex(
        exact.index, fill_value=False)
    shown = exact.astype(object).mask(hidden, disclosure.SUPPRESSED)
    assert not recovered_anywhere(shown, exact)


def test_breakdowns_suppressed_one_by_one_give_counts_away_across_the_report():
    """The control: each breakdown suppressed on its own (:func:`disclosure.suppress_facts`,
    as the report's tables and prose still are) leaves counts the quarters, years and
    breakdowns together give away, so the test above can fail."""
    data = theme_data(small_return((2013, 2017), 0, 300, []))
    exact = _child_counts(data)
    alone = disclosure.suppress_facts(data.child_facts[data.child_facts["unit"] == "count"])
    marker = alone.groupby(["measure", "period", "breakdown"])["marker"].first()
    hidden = marker.reindex(exact.index).fillna("").eq(disclosure.SUPPRESSED)
    shown = exact.astype(object).mask(hidden.to_numpy(dtype=bool), disclosure.SUPPRESSED)
    assert recovered_anywhere(shown, exact)


def printed_by_the_report(data) -> pd.Series:
    """Every child-level count the themes print for ``data``, by (measure, period, breakdown):
    stated in prose or results.csv (each theme's findings) or in the monthly and quarterly
    tables; ``c`` where hidden, and ``c`` for a count printed nowhere (unknown to a reader)."""
    from cpstats import themes

    exact = _child_counts(data)
    shown = pd.Series(disclosure.SUPPRESSED, index=exact.index, dtype=object)
    for name in ("trends", "demographics", "ethnicity", "pipeline", "forecasting"):
        findings = themes.compute(name, data).findings
        counts = findings[findings["source"].isin(disclosure.CHILD_LEVEL_SOURCES)
                          & (findings["unit"] == "count")]
        for row in counts.itertuples():
            key = (row.measure, row.period, row.breakdown)
            if key in shown.index and not pd.isna(row.value):
                shown[key] = float(row.value)
    for _, cells in published_cells(report_tables(data)):
        for measure, month, value in cells:
            if value != disclosure.SUPPRESSED and (measure, month, "total") in shown.index:
                shown[(measure, month, "total")] = float(value)
    quarters = [t for t in trends.repeat_plans(data).tables if t.name == "repeat_plans_by_quarter"]
    for table in quarters:
        frame = table.frame
        frame = frame.set_index(frame.columns[0]) if frame.index.name is None else frame
        for column, measure in (("Repeat plans started", "cp_plans_second_or_subsequent"),
                                ("All plans started", "cp_plans_started")):
            for quarter, value in frame[column].items():
                if value != disclosure.SUPPRESSED and (measure, str(quarter), "total") in (
                        shown.index):
                    shown[(measure, str(quarter), "total")] = float(value)
    return shown


@settings(max_examples=3, **QUICK)
@given(drawn=returns)
@example(drawn=((2013, 2017), 0, 300, []))
def test_nothing_the_themes_print_gives_a_hidden_count_away(drawn):
    """End to end: what every theme states (prose, results.csv) with the monthly and quarterly
    tables: no count of 1 to 5 printed, and no count of 1 to 5 or shown as ``c`` recovered by
    the sums (a count printed nowhere but not hidden is no secret: recovering it is allowed)."""
    data = theme_data(small_return(*drawn))
    exact = _child_counts(data)
    shown = printed_by_the_report(data)
    secret = disclosure.primary_mask(exact.to_numpy()) | data.report_hidden.droplevel(
        "source").reindex(exact.index, fill_value=False).to_numpy(dtype=bool)
    assert not recovered_anywhere(shown, exact) & set(exact.index[secret])
