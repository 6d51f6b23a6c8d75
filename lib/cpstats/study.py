"""The public Python API for deep dives: one :class:`Study` per LA and year.

>>> import cpstats
>>> s = cpstats.Study(la="Surrey", year=2017, dfe_dir="../shared/data/dfe/cin_2022")  # doctest: +SKIP
>>> s.compare("cp_rate_per_10k")  # doctest: +SKIP

Everything else in the package is internal and may change; ``docs/api.md`` lists this surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cpstats import comparison, registry
from cpstats.facts import select
from cpstats.inputs import resolve
from cpstats.themes import ThemeData, ThemeResult, compute


class Study:
    """An LA and a year, with the same inputs and checks as ``cpstats report``.

    Parameters
    ----------
    la
        LA number (``"825"``) or name (``"Surrey"``); ``None`` for Buckinghamshire.
    year
        Year ending 31 March: ``2017`` or ``"2016-17"``; ``None`` for 2016-17.
    dfe_dir
        A DfE *Characteristics of children in need* release folder; ``None`` for the reference
        extract shipped in ``data/reference/`` (Buckinghamshire, its region and neighbours).
    cin_census
        The LA's CIN Census return(s), a path or a list of paths (child-level analyses).
    population_dir
        ONS mid-year population estimates folder (rates on a named vintage).
    service
        Service settings CSV (chair FTE, caseload target).
    annex_a
        An Ofsted Annex A workbook: child-level lists up to its extract date (a window of 6 or
        12 months). Without ``year`` the study's year is the one holding the extract date; only
        the measures its lists support are computed from it (see ``docs/annex_a_reader.md``).

    Raises
    ------
    cpstats.errors.ParameterError
        For an unknown LA, a malformed year or a missing input, as ``cpstats report`` does.
    """

    def __init__(self, la: str | int | None = None, year: str | int | None = None,
                 dfe_dir: str | Path | None = None,
                 cin_census: str | Path | Sequence[str | Path] | None = None,
                 population_dir: str | Path | None = None,
                 service: str | Path | None = None, annex_a: str | Path | None = None):
        self._data = ThemeData(resolve(la, year, dfe_dir, cin_census, population_dir, service,
                                       annex_a))

    def __repr__(self) -> str:
        data = self._data
        return f"Study(la={data.la_code!r} ({data.la_name}), year={data.period!r})"

    @property
    def la(self) -> str:
        """The LA's DfE number."""
        return self._data.la_code

    @property
    def year(self) -> str:
        """The year ending 31 March, as ``2016-17``."""
        return self._data.period

    @property
    def facts(self) -> pd.DataFrame:
        """The tidy facts table for the LA, England, its region and its statistical neighbours,
        every year up to the study's (never after), every source side by side."""
        data = self._data
        areas = [*data.comparators, *data.neighbours]
        facts = pd.concat([data.facts, data.service], ignore_index=True)
        return select(facts, geography_code=areas).reset_index(drop=True)

    def compare(self, measure: str,
                against: Sequence[str] = comparison.AGAINST) -> pd.DataFrame:
        """The LA's published value of ``measure`` for the year beside England's, its region's
        and each statistical neighbour's, with 95% intervals and a test of difference from the
        LA's where the counts behind the figure are published.

        Parameters
        ----------
        measure
            A registered measure name (see :meth:`measures`), e.g. ``"cp_rate_per_10k"``.
        against
            Any of ``"england"``, ``"region"``, ``"neighbours"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``role, geography_code, geography_name, period, measure, value, marker,
            lower_95, upper_95, z, p_value, source, note``.
        """
        registry.entry(measure)
        data = self._data
        return comparison.compare(data.facts, measure, data.la_code, data.period,
                                  data.region[0], data.neighbours, against)

    def theme(self, name: str, **options: object) -> ThemeResult:
        """A theme computed for this study: its findings, tables and chart frames.

        Parameters
        ----------
        name
            ``"trends"``, ``"demographics"``, ``"ethnicity"``, ``"pipeline"`` or
            ``"forecasting"``.
        **options
            Passed to the theme's sections that accept them.
        """
        return compute(name, self._data, **options)

    @staticmethod
    def measures() -> pd.DataFrame:
        """The measure registry: name, label, unit, decimals, better, definition, DfE table and
        column."""
        return registry.measures()
