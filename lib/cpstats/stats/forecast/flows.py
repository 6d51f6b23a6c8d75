"""An annual stock-flow model pooled over every LA (``flows``): plans start at a rate per 10,000
children and a share of the children on plans leaves each year, each rate shrunk towards the
region's, and next year's stock follows from the stock-flow identity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpstats.stats.forecast.pooling import (
    empirical_bounds,
    floored_scale,
    panel_frame,
    period_of,
    regions,
    wide,
)

#: Years of each LA's own history its rates are averaged over.
FLOW_YEARS = 3
#: Exogenous columns ``flows`` needs: starts, and the published rate per 10,000 (for the
#: child population, stock / rate x 10,000).
FLOW_NEEDS = ("cp_plans_started", "cp_rate_per_10k")


def shrink(values: pd.DataFrame, groups: np.ndarray, years: int = FLOW_YEARS,
           weight: float | None = None) -> pd.DataFrame:
    """Each series' mean of its last ``years`` values, shrunk towards its group's median at every
    period (empirical Bayes, partial pooling).

    The weight on the series' own mean is ``tau2 / (tau2 + s2 / n)``: ``s2`` the year-to-year
    variance within series, ``tau2`` the variance of the series' means beyond what ``s2``
    explains, both from every series at that period, ``n`` the values the mean has. A series
    with a short or noisy history leans on its group. A fixed ``weight`` replaces it (the
    annual ideas benchmark chooses one on early origins to compare).
    """
    own = values.rolling(years, min_periods=1).mean()
    n = values.notna().astype(float).rolling(years, min_periods=1).sum()
    s2 = values.rolling(years, min_periods=2).var().mean(axis=1).to_numpy()[:, None]
    noise = (s2 / n.where(n > 0)).mean(axis=1).to_numpy()[:, None]
    tau2 = np.maximum(own.var(axis=1).to_numpy()[:, None] - noise, 1e-9)
    target = own.T.groupby(groups).transform("median").T
    target = target.fillna(pd.DataFrame(np.repeat(own.median(axis=1).to_numpy()[:, None],
                                                  own.shape[1], axis=1), index=own.index,
                                         columns=own.columns))
    if weight is None:
        weight = tau2 / (tau2 + s2 / n.where(n > 0))
    return own * weight + target * (1 - weight)


def _paths(stock: pd.DataFrame, starts: pd.DataFrame, rate: pd.DataFrame, groups: np.ndarray,
           h: int, weight: float | None = None) -> list[np.ndarray]:
    """Forecasts made at every period for 1..h years ahead (one period x series array each)."""
    population = stock / rate.where(rate > 0) * 10_000
    start_rate = starts / population * 10_000
    stays = stock / (stock.shift(1) + starts)  # 1 - the exit share, implied by the identity
    new = shrink(start_rate, groups, weight=weight).to_numpy() * population.to_numpy() / 10_000
    keep = np.clip(shrink(stays.where((stays > 0) & (stays < 1)), groups, weight=weight).to_numpy(),
                   0.0, 1.0)
    level, out = stock.to_numpy(dtype=float), []
    for _ in range(h):  # a loop over years ahead; every LA and period is vectorised
        level = (level + new) * keep
        out.append(level)
    return out


def flows_forecast(panel: dict, origin: object, h: int, weight: float | None = None
                   ) -> pd.DataFrame:
    """Forecast every series in ``panel`` from plan starts and exits, pooled over the panel.

    Starts per 10,000 children and the share of children (on plans a year earlier or starting
    in the year) still on a plan at 31 March are averaged over each LA's last
    :data:`FLOW_YEARS` years and shrunk towards its region's median (:func:`shrink`); held at
    those rates, ``stock[t+1] = (stock[t] + starts) x stays``. The stays share is implied by
    the published stock, so the identity holds exactly on the past. The interval is the point
    plus the series' scale at the origin times the empirical quantiles of the model's own
    scaled ``k``-year errors at every earlier year (:func:`~.pooling.empirical_bounds`). Only
    data up to ``origin`` is used.

    Parameters
    ----------
    panel
        Maps an LA code to ``(y, exog)``; ``exog`` needs :data:`FLOW_NEEDS`.
    origin
        The forecast origin (a Period or a label such as ``2019``).
    h
        Years ahead.
    weight
        A fixed weight on each LA's own rates instead of the empirical Bayes one
        (:func:`shrink`).

    Returns
    -------
    pandas.DataFrame
        ``series`` plus :data:`~cpstats.stats.forecast.base.FORECAST_COLUMNS`, with ``model`` =
        ``flows`` (the series' ``naive`` where the model has no forecast).
    """
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {h}")
    cut = period_of(panel, origin)
    stock, exog = wide(panel, cut, FLOW_NEEDS)
    paths = _paths(stock, exog["cp_plans_started"], exog["cp_rate_per_10k"],
                   regions(stock.columns), h, weight)
    y, scale = stock.to_numpy(dtype=float), floored_scale(stock)
    values = {c: np.full((stock.shape[1], h), np.nan)
              for c in ("point", "lower_95", "lower_80", "upper_80", "upper_95")}
    for k, path in enumerate(paths, start=1):
        bounds = empirical_bounds(path, y, scale, k)
        if bounds is not None:
            for column, value in bounds.items():
                values[column][:, k - 1] = value
    return panel_frame(panel, stock, cut, h, values, "flows")
