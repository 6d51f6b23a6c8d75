"""Rates per 10,000 children aged 0-17, each naming the population row it divides by.

Pairing rule (``design.md``): a count for reporting year ``2016-17`` is divided by the ONS
estimate DfE pairs with that year, the file's ``time_period`` 2017 row (the mid-2016
estimate), which :func:`cpstats.io.population.read_ons_population` labels period
``2016-17``. The caller reads the population (this module never reads a file). ``lag_years=1`` divides by the row one year older instead: what the seed report
did (564 / 120,643 = 46.7). Population vintages differ between DfE releases and the ONS
file, so every derived rate says in ``note`` which row and value it used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpstats import facts as F
from cpstats.codes import MEASURE_RENAMES, POPULATION_MEASURE
from cpstats.periods import is_year

PER = 10_000
_KEYS = ["geography_level", "geography_code", "period"]


def rate_per_10k(count: float | np.ndarray | pd.Series, population: float | np.ndarray | pd.Series
                 ) -> float | np.ndarray | pd.Series:
    """``count / population * 10,000``, unrounded; missing where the population is missing or 0.

    Examples
    --------
    >>> round(rate_per_10k(50_310, 11_671_521), 1)
    43.1
    """
    if np.isscalar(population):
        return float(count) / population * PER if population else float("nan")
    population = pd.Series(population, dtype="float64") if not isinstance(population, pd.Series) \
        else population.astype("float64")
    count = count.astype("float64") if isinstance(count, pd.Series) else count
    return count / population.where(population != 0) * PER


def rate_measure(measure: str) -> str:
    """The rate measure DfE names for a count: ``cp_plans_at_31_march`` -> ``cp_rate_per_10k``,
    otherwise ``<measure>_rate_per_10k`` (as :mod:`cpstats.io.dfe` names published rates)."""
    name = f"{measure}_rate_per_10k"
    return MEASURE_RENAMES.get(name, name)


def shift_period(period: str, years: int) -> str:
    """``shift_period("2016-17", -1)`` -> ``"2015-16"``."""
    start = int(period[:4]) + years
    return f"{start}-{(start + 1) % 100:02d}"


def rates_from_counts(counts: pd.DataFrame, population: pd.DataFrame, *,
                      lag_years: int = 0, decimals: int | None = 1) -> pd.DataFrame:
    """Turn count facts into rate-per-10,000 facts (``source="derived"``).

    Parameters
    ----------
    counts
        Facts; rows with ``unit == "count"``, breakdown ``total`` and a reporting-year period
        (``2016-17``) are used, from one source per figure.
    population
        ``population_0_17`` facts, e.g. from :func:`cpstats.io.population.read_ons_population`
        (required: rates never read a file themselves).
    lag_years
        0 (the pairing rule) or 1 to use the population row one year older (the report's
        choice).
    decimals
        Rounding of ``value`` (DfE publishes 1 dp); ``None`` keeps it unrounded.

    Returns
    -------
    pandas.DataFrame
        Facts: measure :func:`rate_measure` of each count, unit ``rate``, ``note`` naming the
        count and the population row used. A missing count or population gives a missing
        rate with the input's marker.

    Raises
    ------
    ValueError
        When the same figure comes from several sources (select one source first).
    """
    use = counts[(counts["unit"] == "count") & (counts["breakdown"] == F.TOTAL)
                 & is_year(counts["period"])]
    use = use[use["measure"] != POPULATION_MEASURE]
    duplicated = use.duplicated(["geography_code", "period", "measure"], keep=False)
    if duplicated.any():
        sources = sorted(use.loc[duplicated, "source"].unique())
        raise ValueError(f"counts from several sources {sources}; pass one source at a time")
    pop = population[(population["measure"] == POPULATION_MEASURE)
                     & (population["breakdown"] == F.TOTAL)]
    pop = pop.assign(period=pop["period"].map(lambda p: shift_period(p, lag_years)))
    pop = pop[[*_KEYS, "value", "marker", "note"]].rename(
        columns={"value": "population", "marker": "population_marker", "note": "population_note"})
    merged = use.merge(pop, on=_KEYS, how="left")
    rate = rate_per_10k(merged["value"], merged["population"])
    if decimals is not None:
        rate = rate.round(decimals)
    # a missing rate keeps the reason: the count's marker, else the population's, else x
    reason = merged["marker"].where(merged["value"].isna()).fillna(merged["population_marker"])
    marker = reason.fillna("x").where(rate.isna())
    out = merged.assign(measure=merged["measure"].map(rate_measure), value=rate, marker=marker,
                        unit="rate", source="derived", note=_note(merged, lag_years))
    return F.sort(F.make_facts(out[[*F.FACT_COLUMNS, F.NOTE_COLUMN]]))


def _note(merged: pd.DataFrame, lag_years: int) -> pd.Series:
    count = merged["value"].map(lambda v: "missing" if pd.isna(v) else f"{v:,.0f}").astype("string")
    population = merged["population"].map(
        lambda v: "missing" if pd.isna(v) else f"{v:,.0f}").astype("string")
    rule = "pairing rule" if lag_years == 0 else f"population {lag_years} year(s) older than the pairing rule"
    return ("rate = " + merged["source"] + " " + merged["measure"] + " " + count + " / " + population
            + " x 10,000 (" + rule + "); population: "
            + merged["population_note"].fillna("no population row for this area and year"))
