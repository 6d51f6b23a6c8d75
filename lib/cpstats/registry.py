"""The measure registry: every measure named once, with what a reader needs to know of it.

One table in the package (``resources/measures.csv``): the measure's name, a plain-English
label, its unit, the decimals it is published to, which direction is better (``higher``,
``lower`` or blank where neither is), a definition, and the DfE table and column it matches.
Results, pages, the workbook and the command line read labels and precision from here; a figure
whose measure is not registered cannot be recorded.
"""

from __future__ import annotations

import functools
from importlib import resources

import pandas as pd

from cpstats.facts import UNITS

REGISTRY_COLUMNS = ("measure", "label", "unit", "decimals", "better", "definition",
                    "dfe_table", "dfe_column")
BETTER = ("higher", "lower", "")


@functools.cache
def registry() -> pd.DataFrame:
    """The registry as a frame indexed by measure name (one row per measure).

    Raises
    ------
    ValueError
        When the shipped table is malformed (a duplicated measure, an unknown unit).
    """
    with resources.files("cpstats").joinpath("resources/measures.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype=str, keep_default_na=False)
    if tuple(table.columns) != REGISTRY_COLUMNS:
        raise ValueError(f"resources/measures.csv: columns {list(table.columns)}, "
                         f"expected {list(REGISTRY_COLUMNS)}")
    duplicated = table["measure"][table["measure"].duplicated()]
    unknown_unit = table.loc[~table["unit"].isin(UNITS), "measure"]
    unknown_better = table.loc[~table["better"].isin(BETTER), "measure"]
    for what, names in (("a duplicated measure", duplicated), ("an unknown unit", unknown_unit),
                        ("an unknown direction of better", unknown_better)):
        if len(names):
            raise ValueError(f"resources/measures.csv: {what}: {', '.join(names)}")
    table["decimals"] = table["decimals"].astype(int)
    return table.set_index("measure")


class UnregisteredMeasure(KeyError):
    """A measure name that is not in the registry."""

    def __str__(self) -> str:
        return (f"measure {self.args[0]!r} is not in the registry "
                "(lib/cpstats/resources/measures.csv): add it there with its label and unit")


def entry(measure: str) -> pd.Series:
    """The registry row of ``measure``.

    Raises
    ------
    UnregisteredMeasure
        When the measure is not registered.
    """
    table = registry()
    if measure not in table.index:
        raise UnregisteredMeasure(measure)
    return table.loc[measure]


def is_registered(measure: str) -> bool:
    """True when ``measure`` is in the registry."""
    return measure in registry().index


def label(measure: str) -> str:
    """The plain-English label: ``cp_rate_per_10k`` -> ``Children on a plan per 10,000 children``.
    An unregistered name is returned as it is (for tables of facts the registry does not cover)."""
    return str(registry()["label"].get(measure, measure))


def unit(measure: str) -> str:
    """The unit of a registered measure (``count``, ``rate``, ``percent``...)."""
    return str(entry(measure)["unit"])


def decimals(measure: str) -> int:
    """Decimal places the measure is published to."""
    return int(entry(measure)["decimals"])


def better(measure: str) -> str:
    """``"higher"``, ``"lower"`` or ``""`` (neither direction is better)."""
    return str(entry(measure)["better"])


def measures() -> pd.DataFrame:
    """The registry as a plain frame (one row per measure), for readers and the API."""
    return registry().reset_index()
