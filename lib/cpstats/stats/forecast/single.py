"""Single-series models (naive, snaive, drift, mean_k, ets, arima, sarimax, stock_flow,
combo), each fitted on one series as known at an origin.

The interface: :func:`fit_forecast` (one model) and :func:`fit_many` (several), each taking the
series up to the origin and returning the point and the 80% and 95% bounds per step ahead
(:data:`~cpstats.stats.forecast.base.FORECAST_COLUMNS`). Each model has a stated minimum length
and fallback (:data:`FALLBACK`).

Intervals are ``point +/- sd_h * t_q(df)``: a Student t quantile whose degrees
of freedom are the residuals left after the model's parameters, so a model fitted
on five points says how little it knows. Counts cannot be negative, so lower
bounds are clipped at 0.

Models
------
naive        last value; sd grows with sqrt(h) (random walk).
snaive       value one season earlier; sd grows with the number of whole seasons ahead.
drift        last value plus the average change per step so far.
mean_k       mean of the last ``k`` (3) values.
ets          exponential smoothing (statsmodels ETSModel): simple (A,N,N); additive
             seasonality when the series is seasonal and long enough.
ets_damped   exponential smoothing with a damped additive trend (A,Ad,N): a benchmark.
arima        ARIMA(1,1,0) without constant; the "airline" (0,1,1)(0,1,1)m when seasonal.
sarimax      regression on the previous period's leading indicator (ICPCs, else s47
             enquiries, else referrals) with AR(1) errors and a constant; the indicator
             is held at its last value beyond the first step.
stock_flow   next stock = (stock + expected starts) x (1 - exit share), with starts the
             mean of the last 3 periods and the exit share (ends / (previous stock +
             starts)) the mean of the last 3 periods.
combo        the mean of the naive, mean_k, ets and arima forecasts (and stock_flow when
             starts and ends are given), point and bounds alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cpstats.stats.forecast.base import (
    COMBO_MEMBERS,
    FLOW_COLUMNS,
    FORECAST_COLUMNS,
    K_RECENT,
    LEADING_INDICATORS,
    TooShort,
    _Fit,
    _interval_frame,
    _need,
    _sigma,
    _trailing_run,
    quiet_statsmodels,
    season_of,
)


def _naive(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    _need(y, 3, "naive")
    sigma, df = _sigma(np.diff(y), 0)
    steps = np.arange(1, h + 1)
    return _Fit(np.full(h, y[-1]), sigma * np.sqrt(steps), df)


def _snaive(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    _need(y, 2 * m + 1, "snaive")
    steps = np.arange(1, h + 1)
    point = y[y.size - m + (steps - 1) % m]
    sigma, df = _sigma(y[m:] - y[:-m], 0)
    return _Fit(point, sigma * np.sqrt((steps - 1) // m + 1), df)


def _drift(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    _need(y, 4, "drift")
    n = y.size
    diffs = np.diff(y)
    slope = diffs.mean()
    sigma, df = _sigma(diffs - slope, 1)
    steps = np.arange(1, h + 1)
    # The slope's own uncertainty widens the interval (h / (n - 1) term).
    return _Fit(y[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / (n - 1))), df)


def _rolling_mean_errors(y: np.ndarray, k: int) -> np.ndarray:
    """In-sample one-step errors of the mean of the previous ``k`` values."""
    means = np.convolve(y, np.ones(k) / k, mode="valid")[:-1]
    return y[k:] - means


def _mean_k(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    k = K_RECENT
    _need(y, k + 2, "mean_k")
    sigma, df = _sigma(_rolling_mean_errors(y, k), 0)
    steps = np.arange(1, h + 1)
    # Errors of a recent mean grow as the level wanders; sqrt(h) is the random-walk bound.
    return _Fit(np.full(h, y[-k:].mean()), sigma * np.sqrt(steps), df)


def _ets(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    _need(y, 6, "ets")
    seasonal = m > 1 and y.size >= 2 * m + 4
    model = ETSModel(
        pd.Series(y, dtype=float), error="add", trend=None,
        seasonal="add" if seasonal else None, seasonal_periods=m if seasonal else None,
    )
    with quiet_statsmodels():
        result = model.fit(disp=False, maxiter=200)
        prediction = result.get_prediction(start=y.size, end=y.size + h - 1)
    n_params = len(result.params)
    point = np.asarray(prediction.predicted_mean, dtype=float)
    sd = np.sqrt(np.asarray(prediction.var_pred_mean, dtype=float))
    return _Fit(point, sd, float(max(y.size - n_params, 1)))


def _ets_damped(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    """Damped additive trend (A,Ad,N): a benchmark a planner would expect, a trend that flattens."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    _need(y, 6, "ets_damped")
    model = ETSModel(pd.Series(y, dtype=float), error="add", trend="add", damped_trend=True)
    with quiet_statsmodels():
        result = model.fit(disp=False, maxiter=200)
        prediction = result.get_prediction(start=y.size, end=y.size + h - 1)
    point = np.asarray(prediction.predicted_mean, dtype=float)
    sd = np.sqrt(np.asarray(prediction.var_pred_mean, dtype=float))
    if not np.all(np.isfinite(sd)):
        raise TooShort("the damped-trend fit gave no usable variance")
    return _Fit(point, sd, float(max(y.size - len(result.params), 1)))


def _statespace_fit(model: object, h: int, n_obs: int, exog_future: np.ndarray | None = None) -> _Fit:
    with quiet_statsmodels():
        result = model.fit(disp=False)
        forecast = result.get_forecast(h, exog=exog_future)
    point = np.asarray(forecast.predicted_mean, dtype=float)
    sd = np.asarray(forecast.se_mean, dtype=float)
    if not np.all(np.isfinite(sd)):
        raise TooShort("the state-space fit gave no usable variance")
    return _Fit(point, sd, float(max(n_obs - len(result.params), 1)))


def _arima(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if m > 1 and y.size >= 3 * m:
        model = SARIMAX(y.astype(float), order=(0, 1, 1), seasonal_order=(0, 1, 1, m))
        return _statespace_fit(model, h, y.size - m - 1)
    _need(y, 6, "arima")
    return _statespace_fit(SARIMAX(y.astype(float), order=(1, 1, 0)), h, y.size - 1)


def _leading(exog: pd.DataFrame | None) -> str:
    present = [c for c in LEADING_INDICATORS if exog is not None and c in exog.columns]
    usable = [c for c in present if exog[c].notna().all()]
    if not usable:
        raise TooShort(f"sarimax needs a complete leading indicator ({', '.join(LEADING_INDICATORS)})")
    return usable[0]


def _sarimax(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    _need(y, 7, "sarimax")
    x = exog[_leading(exog)].to_numpy(dtype=float)
    # y_t on x_{t-1}: the first step uses the last observed indicator, later steps hold it.
    model = SARIMAX(y[1:].astype(float), exog=x[:-1], order=(1, 0, 0), trend="c")
    future = np.full((h, 1), x[-1])
    return _statespace_fit(model, h, y.size - 1, future)


def _stock_flow(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None) -> _Fit:
    if exog is None or not set(FLOW_COLUMNS) <= set(exog.columns):
        raise TooShort("stock_flow needs starts and ends")
    _need(y, K_RECENT + 2, "stock_flow")
    starts = exog[FLOW_COLUMNS[0]].to_numpy(dtype=float)
    ends = exog[FLOW_COLUMNS[1]].to_numpy(dtype=float)
    if not (np.isfinite(starts[-K_RECENT:]).all() and np.isfinite(ends[-K_RECENT:]).all()):
        raise TooShort("stock_flow needs the last 3 periods' starts and ends")
    exit_share = ends[1:] / (y[:-1] + starts[1:])
    keep = 1 - np.nanmean(exit_share[-K_RECENT:])
    expected_starts = np.nanmean(starts[-K_RECENT:])
    point = np.empty(h)
    level = y[-1]
    for step in range(h):  # a short recursion over steps, not over data rows
        level = keep * (level + expected_starts)
        point[step] = level
    # One-step in-sample errors with the same rule, to size the interval.
    past_starts = pd.Series(starts).rolling(K_RECENT).mean().shift(1).to_numpy()
    one_step = keep * (y[:-1] + past_starts[1:])
    sigma, df = _sigma(y[1:] - one_step, 2)
    return _Fit(point, sigma * np.sqrt(np.arange(1, h + 1)), df)


_Model = Callable[[np.ndarray, int, int, "pd.DataFrame | None"], _Fit]
_MODELS: dict[str, _Model] = {
    "naive": _naive,
    "snaive": _snaive,
    "drift": _drift,
    "mean_k": _mean_k,
    "ets": _ets,
    "ets_damped": _ets_damped,
    "arima": _arima,
    "sarimax": _sarimax,
    "stock_flow": _stock_flow,
}
#: What each model falls back to when the series is too short for it.
FALLBACK: dict[str, str | None] = {
    "naive": None,
    "snaive": "naive",
    "drift": "naive",
    "mean_k": "naive",
    "ets": "naive",
    "ets_damped": "naive",
    "arima": "naive",
    "sarimax": "arima",
    "stock_flow": "naive",
}
#: Every model name :func:`fit_forecast` accepts.
MODELS: tuple[str, ...] = (*_MODELS, "combo")


def _fit_with_fallback(model: str, y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None,
                       cache: dict | None = None) -> tuple[_Fit, str, str]:
    """Fit ``model`` or its fallbacks; ``cache`` (one series, one call of :func:`fit_many`)
    saves refitting a model that ``combo`` also uses."""
    if cache is not None:
        if model not in cache:
            try:
                cache[model] = _fit_with_fallback(model, y, h, m, exog)
            except TooShort as why:
                cache[model] = why
        if isinstance(cache[model], TooShort):
            raise cache[model]
        return cache[model]
    notes = []
    current: str | None = model
    while current is not None:
        try:
            return _MODELS[current](y, h, m, exog), current, "; ".join(notes)
        except (TooShort, np.linalg.LinAlgError, ValueError) as why:
            notes.append(f"{current}: {why}")
            current = FALLBACK[current]
    raise TooShort("; ".join(notes))


def _combo(y: np.ndarray, h: int, m: int, exog: pd.DataFrame | None,
           cache: dict | None = None) -> tuple[dict, str, str]:
    members = list(COMBO_MEMBERS)
    if exog is not None and set(FLOW_COLUMNS) <= set(exog.columns):
        members.append("stock_flow")
    frames, used, notes = [], [], []
    for member in members:
        try:
            fit, fitted, note = _fit_with_fallback(member, y, h, m, exog, cache)
        except TooShort as why:
            notes.append(str(why))
            continue
        frames.append(_interval_frame(fit))
        used.append(fitted)
        if note:
            notes.append(note)
    if not frames:
        raise TooShort("; ".join(notes) or "no combo member could be fitted")
    mean = {key: np.mean([f[key] for f in frames], axis=0) for key in frames[0]}
    return mean, "combo(" + ",".join(used) + ")", "; ".join(notes)


def fit_forecast(model: str, y: pd.Series, h: int, exog: pd.DataFrame | None = None,
                 season: int | None = None, _cache: dict | None = None) -> pd.DataFrame:
    """Forecast ``h`` steps of a count series with 80% and 95% prediction intervals.

    Parameters
    ----------
    model
        One of :data:`MODELS`.
    y
        The series up to and including the forecast origin, indexed by a
        ``PeriodIndex`` (``Y-MAR``, ``Q-MAR`` or ``M``). Only the last unbroken run of
        observed values is used: a gap (missing value) is treated as a series break.
    h
        Steps ahead, at least 1.
    exog
        Optional frame on the same index with leading indicators (``icpcs``,
        ``s47_enquiries``, ``referrals``) and flows (``cp_plans_started``,
        ``cp_plans_ended``), each up to the origin only; needed by ``sarimax`` and
        ``stock_flow``.
    season
        Steps per seasonal cycle; inferred from the index frequency when ``None``.

    Returns
    -------
    pandas.DataFrame
        :data:`FORECAST_COLUMNS`: ``step`` 1..h, ``period`` (the forecast Period),
        ``point``, ``lower_80``, ``upper_80``, ``lower_95``, ``upper_95`` (all >= 0),
        ``model`` as asked, ``fitted`` the model actually used (a fallback when the
        series was too short) and ``note`` saying why.

    Raises
    ------
    ValueError
        Unknown model, ``h`` < 1, or a series too short even for ``naive`` (3 points).
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {h}")
    m = season if season is not None else season_of(y.index)
    run = _trailing_run(y.astype(float))
    values = run.to_numpy(dtype=float)
    x = None if exog is None else exog.reindex(run.index)
    if model == "combo":
        bounds, fitted, note = _combo(values, h, m, x, _cache)
    else:
        fit, fitted, note = _fit_with_fallback(model, values, h, m, x, _cache)
        bounds = _interval_frame(fit)
    if run.size < y.size and run.size:
        note = "; ".join(filter(None, [f"used the last {run.size} unbroken points", note]))
    last = y.index[-1]
    frame = pd.DataFrame({"step": np.arange(1, h + 1), "period": [last + s for s in range(1, h + 1)],
                          **bounds})
    return frame.assign(model=model, fitted=fitted, note=note)[list(FORECAST_COLUMNS)]


def fit_many(models: tuple[str, ...] | list[str], y: pd.Series, h: int,
             exog: pd.DataFrame | None = None, season: int | None = None) -> pd.DataFrame:
    """:func:`fit_forecast` for several models, stacked (models that cannot fit are left out)."""
    frames, cache = [], {}
    for model in models:
        try:
            frames.append(fit_forecast(model, y, h, exog, season, _cache=cache))
        except TooShort:
            continue
    if not frames:
        return pd.DataFrame(columns=list(FORECAST_COLUMNS))
    return pd.concat(frames, ignore_index=True)
