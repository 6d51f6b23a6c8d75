"""The themes: each turns a run's data into findings, tables and chart frames.

One module per theme, each exposing ``SECTIONS`` (its section functions, in page order) and
``compute(data, **options) -> ThemeResult``. Notebooks render them section by section; the API
(:class:`cpstats.Study`) and the command line call the same functions.

=================  ===============================  ===========================================
theme              notebook                         what
=================  ===============================  ===========================================
``trends``         ``01_trends``                    plans over time, flows, reviews, timeliness
``demographics``   ``02_demographics``              category, gender, age, disability
``ethnicity``      ``03_ethnicity_vs_population``   ethnicity against the child population
``pipeline``       ``04_referrals_s47_correlation`` referrals, s47s, ICPCs and how they move
``forecasting``    ``05_forecasting``               next quarter and next year, chairs needed
=================  ===============================  ===========================================
"""

from __future__ import annotations

import importlib

from cpstats.themes.base import Chart, Section, Table, ThemeData, ThemeResult

#: Theme name -> the notebook that renders it.
NOTEBOOKS = {"trends": "01_trends", "demographics": "02_demographics",
             "ethnicity": "03_ethnicity_vs_population",
             "pipeline": "04_referrals_s47_correlation", "forecasting": "05_forecasting"}


def compute(name: str, data: ThemeData, **options: object) -> ThemeResult:
    """Compute theme ``name`` (one of :data:`NOTEBOOKS`) for a run.

    Raises
    ------
    KeyError
        For an unknown theme name.
    """
    if name not in NOTEBOOKS:
        raise KeyError(f"unknown theme {name!r}: one of {', '.join(NOTEBOOKS)}")
    module = importlib.import_module(f"cpstats.themes.{name}")
    return module.compute(data, **options)


__all__ = ["NOTEBOOKS", "Chart", "Section", "Table", "ThemeData", "ThemeResult", "compute"]
