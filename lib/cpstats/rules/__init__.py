"""DfE CIN Census validation rules, as cpstats implements them: one rule per module.

Each ``rule_<code>.py`` defines ``RULE``, a :class:`~cpstats.rules.base.Rule` with the DfE
code, a short description and the collection years it applies to. The rule set of a
collection year is the previous year's plus the rules that start that year, less those
that ended (:func:`changes`). Rules take the reader's tables (a :class:`Census`), never a
file: this package does not import :mod:`cpstats.io`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import pandas as pd

from cpstats.rules.base import ERROR, FIRST_YEAR, QUERY, Census, Rule

__all__ = ["ERROR", "QUERY", "Census", "Rule", "all_rules", "changes", "rules_for", "run"]


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, by code."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("rule_"):
            found.append(importlib.import_module(f"{__name__}.{info.name}").RULE)
    return tuple(sorted(found, key=lambda r: r.code))


def changes(year: int) -> tuple[list[Rule], list[Rule]]:
    """Rules added to, and removed from, the rule set in collection ``year``."""
    added = [r for r in all_rules() if r.applies_to(year) and not r.applies_to(year - 1)]
    removed = [r for r in all_rules() if r.applies_to(year - 1) and not r.applies_to(year)]
    if year == FIRST_YEAR:
        added = [r for r in all_rules() if r.applies_to(year)]
    return added, removed


def rules_for(year: int) -> list[Rule]:
    """The rule set of collection ``year``: the first year's set with each year's changes."""
    current: dict[str, Rule] = {}
    for step in range(FIRST_YEAR, max(year, FIRST_YEAR) + 1):
        added, removed = changes(step)
        current.update({r.code: r for r in added})
        for rule in removed:
            current.pop(rule.code, None)
    return sorted(current.values(), key=lambda r: r.code)


def run(census: Census, rules: list[Rule] | None = None) -> pd.DataFrame:
    """Every rule of the census year on one return: one row per rule.

    Returns
    -------
    pandas.DataFrame
        ``code, kind, message, records, children`` (failing records and distinct
        children), in code order; ``attrs["children"]``: children failing any rule.
    """
    rows, children = [], []
    for rule in rules if rules is not None else rules_for(census.year):
        failing = rule.find(census)
        children.append(failing)
        rows.append({"code": rule.code, "kind": rule.kind, "message": rule.message,
                     "records": len(failing), "children": failing.nunique()})
    table = pd.DataFrame(rows, columns=["code", "kind", "message", "records", "children"])
    table.attrs["children"] = pd.concat(children).nunique() if children else 0
    return table
