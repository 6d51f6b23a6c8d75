"""A count state-space model pooled over every LA (``local_level``): a damped local level on the
log of children on plans, observed with Poisson noise, its parameters shared by every LA."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from cpstats.stats.forecast.pooling import (
    BOUND_COLUMNS,
    empirical_bounds,
    floored_scale,
    panel_frame,
    period_of,
    run_mean,
    wide,
)

#: Grids the shared parameters are chosen from by maximum likelihood: the damping of the level
#: towards the LA's own mean log count, the level's yearly variance and the observation
#: variance beyond Poisson (both on the log scale).
PHI_GRID = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
LEVEL_VAR_GRID = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.015, 0.03, 0.06)
NOISE_VAR_GRID = (0.0, 0.002, 0.005, 0.01, 0.02)
_FIRST_VAR = 1.0  # the level's variance at a series' first value: vague on the log scale


def _filter(x: np.ndarray, noise: np.ndarray, mean: np.ndarray, phi: float, q: float
            ) -> tuple[float, np.ndarray]:
    """Kalman filter of every series at once: the log likelihood (first values excluded) and the
    filtered level after each period (period x series). ``x`` is period x series with NaN where
    unpublished."""
    level = np.full(x.shape[1], np.nan)
    var = np.full(x.shape[1], np.nan)
    levels = np.full(x.shape, np.nan)
    loglik = 0.0
    for t in range(x.shape[0]):  # a loop over years; every series is vectorised
        seen = np.isfinite(x[t])
        first = seen & np.isnan(level)
        level[first], var[first] = x[t, first], _FIRST_VAR
        going = np.isfinite(level) & ~first
        m = mean[t - 1, going] if t else level[going]
        level[going] = m + phi * (level[going] - m)
        var[going] = phi**2 * var[going] + q
        upd = going & seen
        total = var[upd] + noise[t, upd]
        error = x[t, upd] - level[upd]
        loglik += float(stats.norm.logpdf(error, scale=np.sqrt(total)).sum())
        gain = var[upd] / total
        level[upd] += gain * error
        var[upd] *= 1 - gain
        levels[t] = np.where(seen, level, np.nan)
    return loglik, levels


def fit_local_level(stock: pd.DataFrame) -> tuple[float, float, float]:
    """The shared ``(phi, level variance, extra noise variance)`` with the highest likelihood
    over every series in ``stock`` (period x series counts, cut at the origin)."""
    x, mean, poisson = _log_counts(stock)
    best, best_ll = (1.0, LEVEL_VAR_GRID[0], NOISE_VAR_GRID[0]), -np.inf
    for phi, q, s2 in itertools.product(PHI_GRID, LEVEL_VAR_GRID, NOISE_VAR_GRID):
        ll = _filter(x, poisson + s2, mean, phi, q)[0]
        if ll > best_ll:
            best, best_ll = (phi, q, s2), ll
    return best


def _log_counts(stock: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log counts (a count of 0 is taken as 0.5), each series' mean log count up to each period
    (what was known then: a mean over later years would make any series look mean-reverting)
    and the Poisson variance of a log count (1 / count)."""
    counts = stock.to_numpy(dtype=float)
    x = np.log(np.maximum(counts, 0.5))
    mean = run_mean(pd.DataFrame(x), pd.DataFrame(x)).ffill().to_numpy()
    return x, mean, 1.0 / np.maximum(counts, 0.5)


def local_level_forecast(panel: dict, origin: object, h: int) -> pd.DataFrame:
    """Forecast every series in ``panel`` by a damped local level on log counts.

    ``log y[t] = level[t] + noise``, noise variance ``1 / y[t]`` (Poisson) plus a shared
    extra term; ``level[t] - m = phi (level[t-1] - m) + shock``, with ``m`` the LA's mean log
    count up to ``t - 1`` (up to the origin when forecasting), so the level drifts back towards the LA's own usual size unless
    ``phi`` is 1. ``phi`` and both variances are shared by every LA and chosen by maximum
    likelihood over every LA's years up to the origin (:func:`fit_local_level`). The forecast
    is the filtered level carried forward, ``exp(m + phi^k (level - m))``; the interval is the
    point plus the series' scale times the empirical quantiles of the same forecast's scaled
    errors at every earlier year (:func:`~.pooling.empirical_bounds`), since the Gaussian
    predictive interval on so few years covered too little.

    Returns
    -------
    pandas.DataFrame
        ``series`` plus :data:`~cpstats.stats.forecast.base.FORECAST_COLUMNS`, with ``model`` =
        ``local_level``.
    """
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {h}")
    cut = period_of(panel, origin)
    stock, _ = wide(panel, cut, ())
    phi, q, s2 = fit_local_level(stock)
    x, mean, poisson = _log_counts(stock)
    levels = _filter(x, poisson + s2, mean, phi, q)[1]
    y, scale = stock.to_numpy(dtype=float), floored_scale(stock)
    values = {c: np.full((stock.shape[1], h), np.nan) for c in BOUND_COLUMNS}
    for k in range(1, h + 1):
        path = np.exp(mean + phi**k * (levels - mean))  # each period's own mean, known then
        bounds = empirical_bounds(path, y, scale, k)
        if bounds is not None:
            for column, value in bounds.items():
                values[column][:, k - 1] = value
    return panel_frame(panel, stock, cut, h, values, "local_level")
