"""The subtraction attack on a small council's report (issue: hardening).

Measured before: an August ICPC count shown as ``c`` came back as 653 (the year's total in the
prose) - 536 (the months shown) - 80 - 27 (reviews printed in another table) - 6 (April's ICPCs,
hidden in one table but printed in the monthly pipeline table). Here an attacker collects every
monthly count the report prints (trends: conferences by month, reviews by month; pipeline: the
monthly pipeline), every year total (stated in prose) and every table row's total (assumed
known), and solves the linear equations: a hidden count is recovered when it is printed
elsewhere or when the equations pin it down. With the report's linked suppression
(:func:`cpstats.disclosure.linked_mask`) the attack must fail on every generated return; with each
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
