"""One interface for every forecast model: fit on what was known at an origin
(:class:`History`), get a point and quantiles per step (:class:`Forecast`).

A model family (:class:`SingleSeries`, :class:`Pooled`, :class:`Hazard`) forecasts one or more
named models; :func:`families` groups any list of model names into the families that forecast
them, so a caller (the backtest) needs nothing else.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import pandas as pd

from cpstats.stats.forecast.base import FORECAST_COLUMNS
from cpstats.stats.forecast.hazard import _as_known_at, _quarter_end, hazard_forecast
from cpstats.stats.forecast.panel import (
    PANEL_COMBOS,
    PANEL_MODELS,
    add_panel_combos,
    fill_too_short,
    panel_needs,
)
from cpstats.stats.forecast.pooling import period_of
from cpstats.stats.forecast.single import MODELS, fit_many

#: Quantiles of every forecast and the bound columns holding them.
QUANTILE_COLUMNS = {0.025: "lower_95", 0.10: "lower_80", 0.90: "upper_80", 0.975: "upper_95"}
Panel = Mapping[Hashable, tuple[pd.Series, "pd.DataFrame | None"]]


@dataclass(frozen=True)
class History:
    """Everything known at a forecast origin: each series (and its exogenous columns) up to
    and including ``origin``, and child-level plans as a return made then would show them.

    Build it with :meth:`at`, which does the cutting, so no model can see past the origin.
    """

    origin: pd.Period
    series: Panel = field(default_factory=dict)
    plans: pd.DataFrame | None = None
    season: int | None = None

    @classmethod
    def at(cls, origin: pd.Period, series: Panel | None = None,
           plans: pd.DataFrame | None = None, season: int | None = None) -> History:
        """The history known at ``origin`` (a Period) of ``series`` and ``plans``."""
        cut = {key: (y.loc[:origin], None if x is None else x.loc[:origin])
               for key, (y, x) in (series or {}).items()}
        known = None if plans is None else _as_known_at(plans, _quarter_end(origin))
        return cls(origin, cut, known, season)


@dataclass(frozen=True)
class Forecast:
    """Forecasts from one origin: ``frame`` holds ``series`` (where several) and
    :data:`~cpstats.stats.forecast.base.FORECAST_COLUMNS`, one row per model and step."""

    frame: pd.DataFrame

    @property
    def point(self) -> pd.Series:
        """The point forecast of each row."""
        return self.frame["point"]

    @property
    def quantiles(self) -> pd.DataFrame:
        """The 2.5%, 10%, 90% and 97.5% quantiles of each row (the 95% and 80% bounds)."""
        return self.frame[list(QUANTILE_COLUMNS.values())].set_axis(list(QUANTILE_COLUMNS), axis=1)


class Model(Protocol):
    """A family of forecast models: ``names`` it forecasts, fitted on a :class:`History`."""

    names: tuple[str, ...]

    def fit(self, history: History, h: int) -> Forecast:
        """Forecasts ``h`` steps from ``history.origin`` by every model in ``names``."""


def _stacked(frames: list[pd.DataFrame]) -> Forecast:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return Forecast(pd.DataFrame(columns=["series", *FORECAST_COLUMNS]))
    return Forecast(pd.concat(frames, ignore_index=True))


@dataclass(frozen=True)
class SingleSeries:
    """Models fitted to each series alone (:data:`~cpstats.stats.forecast.single.MODELS`),
    fitted together per series so a combination reuses its members' fits."""

    names: tuple[str, ...]

    def fit(self, history: History, h: int) -> Forecast:
        frames = []
        for key, (y, x) in history.series.items():
            if y.empty or pd.isna(y.iloc[-1]):
                continue
            frames.append(fit_many(self.names, y, h, x, history.season).assign(series=key))
        return _stacked(frames)


@dataclass(frozen=True)
class Pooled:
    """Models fitted once across every series (:data:`~cpstats.stats.forecast.panel.PANEL_MODELS`)
    and their combinations (:data:`~cpstats.stats.forecast.panel.PANEL_COMBOS`; a combination's
    members are fitted too)."""

    names: tuple[str, ...]

    def fit(self, history: History, h: int) -> Forecast:
        members = set(self.names).union(*(PANEL_COMBOS.get(m, ()) for m in self.names))
        panel = dict(history.series)
        single = tuple(sorted(m for m in members if m not in PANEL_MODELS and m not in PANEL_COMBOS))
        fitted = _stacked([PANEL_MODELS[m](panel, history.origin, h) for m in sorted(members)
                           if m in PANEL_MODELS]
                          + ([SingleSeries(single).fit(history, h).frame] if single else [])).frame
        out = add_panel_combos(fitted, set(self.names), ("series", "step"))
        return Forecast(out[out["model"].isin(self.names)].reset_index(drop=True))


@dataclass(frozen=True)
class Hazard:
    """The child-level stock-flow model by sibling group (``stock_flow_hazard``)."""

    names: tuple[str, ...] = ("stock_flow_hazard",)
    n_sims: int = 2000
    calibrate: bool = True
    #: A scenario: expected new plans multiplied by this (``hazard_forecast``'s ``starts_factor``).
    starts_factor: float = 1.0

    def fit(self, history: History, h: int) -> Forecast:
        if history.plans is None:
            raise ValueError("stock_flow_hazard needs child-level plans in the history")
        return Forecast(hazard_forecast(history.plans, history.origin, h, n_sims=self.n_sims,
                                        calibrate=self.calibrate, starts_factor=self.starts_factor))


def families(names: Sequence[str]) -> list[Model]:
    """The model families that together forecast every model in ``names``."""
    pooled = tuple(m for m in names if m in PANEL_MODELS or m in PANEL_COMBOS)
    hazard = tuple(m for m in names if m == "stock_flow_hazard")
    single = tuple(m for m in names if m not in pooled and m not in hazard)
    return [f for f in (SingleSeries(single) if single else None, Pooled(pooled) if pooled else None,
                        Hazard() if hazard else None) if f is not None]


def _fit(model: Model, h: int, history: History) -> pd.DataFrame:
    return model.fit(history, h).frame


def forecast_panel(panel: dict, models: tuple[str, ...] | list[str], origin: object,
                   h: int, progress: bool = False, jobs: int = 1) -> pd.DataFrame:
    """Forecasts of every series in ``panel`` from ``origin`` by every model in ``models``,
    each family fitted through :class:`Model` on the :class:`History` known at the origin.

    ``models`` may name any single-series, pooled or combined annual model. A series with no
    value at the origin is left out; one too short for a single-series model gets the pooled
    model's fallback under that model's name. ``progress`` shows a progress bar on stderr (for
    the command line, not for notebooks); ``jobs`` > 1 fits the series in that many processes.

    Returns
    -------
    pandas.DataFrame
        ``series`` plus :data:`~cpstats.stats.forecast.base.FORECAST_COLUMNS`, sorted by series,
        model and step.
    """
    wanted, needed = set(models), panel_needs(models)
    single = tuple(m for m in MODELS if m in needed)
    history = History.at(period_of(panel, origin), panel)
    alone = [History(history.origin, {key: history.series[key]})
             for key in sorted(history.series, key=str)] if single else []
    fit_one = partial(_fit, SingleSeries(single), h)
    with ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else nullcontext() as pool:
        results = pool.map(fit_one, alone, chunksize=4) if pool else map(fit_one, alone)
        if progress:
            from tqdm import tqdm
            results = tqdm(results, total=len(alone), desc="forecast", unit="LA", file=sys.stderr)
        frames = list(results)
    pooled = Pooled(("pooled",)).fit(history, h).frame
    others = tuple(m for m in sorted(needed) if m in PANEL_MODELS and m != "pooled")
    frames = [f for f in [*frames, Pooled(others).fit(history, h).frame if others else None]
              if f is not None and not f.empty]
    out = pd.concat([*frames, pooled], ignore_index=True)
    out = pd.concat([out, fill_too_short(out, pooled, list(single))], ignore_index=True)
    out = add_panel_combos(out, wanted, ("series", "step"))
    out = out[out["model"].isin(wanted)]
    return out.sort_values(["series", "model", "step"], kind="stable", ignore_index=True)[
        ["series", *FORECAST_COLUMNS]]
