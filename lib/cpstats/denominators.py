"""Children by ethnic group for one area and year, read from the population files: the
denominators of :mod:`cpstats.stats.disproportionality` for callers that start from files
rather than facts (the statistics themselves never read a file).

Moved from :mod:`cpstats.stats.disproportionality` with the same signatures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpstats import reference
from cpstats.errors import ParameterError
from cpstats.ethnicity_map import CENSUS2011_TO_GROUP, COMPARISON_GROUPS
from cpstats.io import population
from cpstats.periods import parse_year, year_label
from cpstats.stats.disproportionality import POPULATION_BASES


def census_children(code: str | int, census_dir: str | Path | None = None) -> pd.Series:
    """Census 2011 children aged 0-17 per comparison group for one area.

    From the DC2101EW files in ``census_dir`` when given, else the shipped
    :data:`cpstats.reference.CENSUS_EXTRACT`, else ``../shared/data/census``. ``attrs["total"]``
    is the area's census total of children 0-17.
    """
    if census_dir is None and reference.CENSUS_EXTRACT.is_file():
        _, area, _ = population.resolve_area(code)
        extract = reference.load_census_extract()
        row = extract[extract["geography_code"] == area]
        if len(row) == 1:
            group_of = {gid: CENSUS2011_TO_GROUP[label]
                        for label, gid in population.CENSUS2011_GROUPS.items()}
            values = row.iloc[0][list(group_of)].astype(float)
            counts = values.groupby(values.index.map(group_of), sort=False).sum()
            counts.attrs = {"total": int(row["total"].iloc[0]),
                            "source": "Census 2011 DC2101EW (shipped extract)"}
            return counts.rename("children")
    counts = population.census2011_children_by_group(code, census_dir)
    return counts.astype(float)


def child_population_by_group(code: str | int, year: int | str, basis: str = "census2011", *,
                              ons: pd.DataFrame | None = None,
                              ons_path: str | Path | None = None,
                              census_dir: str | Path | None = None,
                              school_census_path: str | Path | None = None) -> pd.Series:
    """Children aged 0-17 by comparison group for one area and reporting year.

    Ethnic shares from ``basis`` applied to the ONS mid-year 0-17 estimate that
    DfE pairs with the year, so rates describe that year's population (never
    the all-ages Census 2021).

    Parameters
    ----------
    code
        England, a region or an LA (any form :func:`cpstats.io.population.resolve_area` takes).
    year
        Reporting year (2017 or ``"2016-17"``).
    basis
        ``"census2011"`` (default) or ``"school_census"`` (shares only, see
        :data:`POPULATION_BASES`).
    ons
        ONS ``population_0_17`` facts to take the year's total from (e.g. a
        notebook's ``ctx.population``); read from ``ons_path`` when ``None`` or
        without the row.
    ons_path, census_dir, school_census_path
        Input locations; ``None``: the shipped extract (census) or the shared
        reference data.

    Returns
    -------
    pandas.Series
        Children per comparison group (float). ``attrs``: ``basis``,
        ``basis_label`` (the full description to print on every output),
        ``basis_short`` (for chart titles and result notes),
        ``ons_total``, ``ons_period``, ``shares_source``.
    """
    if basis not in POPULATION_BASES:
        raise ParameterError("population basis", basis, f"one of {sorted(POPULATION_BASES)}")
    _, area, _ = population.resolve_area(code)
    wanted = year_label(parse_year(year))
    row = None if ons is None else ons[(ons["measure"] == "population_0_17")
                                       & (ons["geography_code"] == area)
                                       & (ons["period"] == wanted) & (ons["breakdown"] == "total")]
    if row is None or len(row) != 1 or row["value"].isna().any():
        row = population.child_population(code, year, path=ons_path)
    total = float(row["value"].iloc[0])
    if basis == "census2011":
        counts = census_children(code, census_dir)
        shares = counts / counts.attrs["total"]
        source = (f"Census 2011 DC2101EW ethnic shares of children aged 0-17 (27 March 2011, "
                  f"{counts.attrs['total']:,} children)")
    else:
        table = population.school_census_ethnicity_shares(code, year, path=school_census_path)
        known = table[table["group"].isin(list(COMPARISON_GROUPS))]
        pupils = known.groupby("group", sort=False)["pupils"].sum().astype(float)
        shares = pupils.reindex([g for g in COMPARISON_GROUPS if g in pupils.index]) / pupils.sum()
        source = (f"school census January {table['period'].iloc[0][:4]} pupil ethnic shares "
                  f"(state-funded schools, counted where the school is; "
                  f"{table['series'].iloc[0]})")
    period = str(row["period"].iloc[0])
    out = (shares * total).rename("children")
    out.attrs = {
        "basis": basis,
        "ons_total": total,
        "ons_period": period,
        "shares_source": source,
        "basis_label": (f"{source}, applied to the ONS mid-year estimate of {total:,.0f} "
                        f"children aged 0-17 for {period}"),
        "basis_short": f"{POPULATION_BASES[basis]} x ONS 0-17 estimate for {period}",
    }
    return out
