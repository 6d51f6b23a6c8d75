"""Forecasts of a count series (children on plans, referrals) with prediction intervals.

One module per family of models, with series building and chair capacity apart:

- :mod:`~cpstats.stats.forecast.base`: the forecast frame (:data:`FORECAST_COLUMNS`: step,
  period, point, 80% and 95% bounds, model, fitted, note), :class:`TooShort`, intervals.
- :mod:`~cpstats.stats.forecast.single`: single-series models (naive, snaive, drift, mean_k,
  ets, arima, sarimax, stock_flow, combo) through :func:`fit_forecast` / :func:`fit_many`.
- :mod:`~cpstats.stats.forecast.panel`: models pooled over every LA (``pooled``,
  ``pooled_median``, ``combo_pooled``, ``combo_median``: :data:`ANNUAL_DEFAULT`) and
  :func:`forecast_panel`.
- :mod:`~cpstats.stats.forecast.flows`: ``flows``, starts per 10,000 and a stays share, each
  shrunk towards the region's (:func:`flows_forecast`).
- :mod:`~cpstats.stats.forecast.statespace`: ``local_level``, a damped local level on log counts
  with Poisson noise, parameters shared by every LA (:func:`local_level_forecast`).
- :mod:`~cpstats.stats.forecast.pooling`: what the pooled models share (the panel cut at an
  origin, MASE scales, empirical bounds, regions).
- :mod:`~cpstats.stats.forecast.models`: the one interface every model is fitted through
  (``History`` -> ``Model.fit`` -> ``Forecast``), which the backtests use.
- :mod:`~cpstats.stats.forecast.hazard`: ``stock_flow_hazard`` from child-level records, by
  sibling group (:func:`hazard_forecast`).
- :mod:`~cpstats.stats.forecast.series`: the series the models are fitted on.
- :mod:`~cpstats.stats.forecast.capacity`: :func:`chair_capacity`.

Every model is fitted on a series as known at an origin and returns a point and quantiles
(the 80% and 95% bounds) per step ahead. The backtests are in :mod:`cpstats.stats.backtest`;
methods and results in ``docs/forecasting.md``.
"""

from __future__ import annotations

from cpstats.stats.forecast.base import (
    COMBO_MEMBERS,
    FLOW_COLUMNS,
    FORECAST_COLUMNS,
    K_RECENT,
    LEADING_INDICATORS,
    TooShort,
    quiet_statsmodels,
    season_of,
)
from cpstats.stats.forecast.capacity import (
    chair_capacity,
)
from cpstats.stats.forecast.flows import (
    FLOW_YEARS,
    flows_forecast,
)
from cpstats.stats.forecast.flows import (
    shrink as shrink_towards_group,
)
from cpstats.stats.forecast.hazard import (
    BAND_MONTHS,
    HAZARD_WINDOW,
    N_BANDS,
    STARTS_WINDOW,
    duration_hazards,
    family_units,
    hazard_forecast,
)
from cpstats.stats.forecast.hazard import (
    width_factors as hazard_width_factors,
)
from cpstats.stats.forecast.models import (
    Forecast,
    History,
    families,
    forecast_panel,
)
from cpstats.stats.forecast.panel import (
    ANNUAL_DEFAULT,
    ANNUAL_DEFAULT_DATA_TO,
    ANNUAL_MODELS,
    MEDIAN_FEATURES,
    PANEL_COMBO,
    PANEL_COMBOS,
    PANEL_MODELS,
    POOLED_CANDIDATES,
    POOLED_FEATURES,
    POOLED_MIN_ROWS,
    RATE_COLUMN,
    add_panel_combos,
    combine,
    fill_too_short,
    panel_needs,
    pooled_forecast,
    pooled_median_forecast,
    series_scale,
)
from cpstats.stats.forecast.series import (
    ANNUAL_MEASURES,
    QUARTERLY_EXOG,
    annual_panel,
    la_names,
    monthly_series,
    quarterly_series,
    to_quarters,
)
from cpstats.stats.forecast.single import (
    FALLBACK,
    MODELS,
    fit_forecast,
    fit_many,
)
from cpstats.stats.forecast.statespace import (
    fit_local_level,
    local_level_forecast,
)

__all__ = [
    "ANNUAL_DEFAULT",
    "ANNUAL_DEFAULT_DATA_TO",
    "ANNUAL_MEASURES",
    "ANNUAL_MODELS",
    "BAND_MONTHS",
    "COMBO_MEMBERS",
    "FALLBACK",
    "FLOW_YEARS",
    "Forecast",
    "History",
    "FLOW_COLUMNS",
    "FORECAST_COLUMNS",
    "HAZARD_WINDOW",
    "K_RECENT",
    "LEADING_INDICATORS",
    "MEDIAN_FEATURES",
    "MODELS",
    "N_BANDS",
    "PANEL_COMBO",
    "PANEL_COMBOS",
    "PANEL_MODELS",
    "POOLED_CANDIDATES",
    "POOLED_FEATURES",
    "POOLED_MIN_ROWS",
    "QUARTERLY_EXOG",
    "RATE_COLUMN",
    "STARTS_WINDOW",
    "TooShort",
    "add_panel_combos",
    "annual_panel",
    "chair_capacity",
    "combine",
    "duration_hazards",
    "family_units",
    "families",
    "fill_too_short",
    "fit_forecast",
    "fit_local_level",
    "flows_forecast",
    "local_level_forecast",
    "shrink_towards_group",
    "fit_many",
    "forecast_panel",
    "hazard_forecast",
    "hazard_width_factors",
    "la_names",
    "monthly_series",
    "panel_needs",
    "pooled_forecast",
    "pooled_median_forecast",
    "quarterly_series",
    "quiet_statsmodels",
    "season_of",
    "series_scale",
    "to_quarters",
]
